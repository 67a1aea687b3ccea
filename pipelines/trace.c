/* SPDX-License-Identifier: BSD-3-Clause
 * Packet trace and drop capture (tg_trace.h). The workers' side runs only
 * when struct tg_obs.on says a trace or a capture is on, so none of it is
 * on the fast path; the control side starts, stops and reads them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "pipeline_priv.h"

/* ---- the filter ------------------------------------------------------ */

static bool
addr_hit(
	uint8_t which, uint32_t want, uint32_t mask, uint32_t src, uint32_t dst)
{
	return ((which & TG_TRACE_SRC) && (src & mask) == want) ||
	       ((which & TG_TRACE_DST) && (dst & mask) == want);
}

static bool
port_hit(uint8_t which, uint16_t lo, uint16_t hi, uint16_t sp, uint16_t dp)
{
	return ((which & TG_TRACE_SRC) && sp >= lo && sp <= hi) ||
	       ((which & TG_TRACE_DST) && dp >= lo && dp <= hi);
}

bool
tg_trace_filter_match(const struct tg_trace_filter *f, uint8_t proto,
	uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	uint16_t rx_if)
{
	uint8_t i;

	if (f->has_proto && f->proto != proto)
		return false;
	if (f->rx_if != TG_IF_NONE && f->rx_if != rx_if)
		return false;
	for (i = 0; i < f->n_addr; i++)
		if (!addr_hit(f->addr[i].which, f->addr[i].addr,
			    f->addr[i].mask, src, dst))
			return false;
	/* A port condition holds only for protocols with ports. */
	for (i = 0; i < f->n_port; i++)
		if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
			!port_hit(f->port[i].which, f->port[i].lo,
				f->port[i].hi, sport, dport))
			return false;
	return true;
}

/* Next word of @p s (space separated) into @p w; returns the rest or
 * NULL at the end. */
static const char *
next_word(const char *s, char *w, size_t len)
{
	size_t k = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	while (*s != '\0' && *s != ' ' && *s != '\t') {
		if (k + 1 < len)
			w[k++] = *s;
		s++;
	}
	w[k] = '\0';
	return s;
}

static int
parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	char *end;
	unsigned long x;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int
parse_ip(const char *s, uint32_t *a)
{
	unsigned int b[4];
	char tail;

	if (sscanf(s, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) !=
			4 ||
		b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
		return -EINVAL;
	*a = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	return 0;
}

#define PARSE_ERR(...)                                                         \
	do {                                                                   \
		snprintf(err, errlen, __VA_ARGS__);                            \
		return -EINVAL;                                                \
	} while (0)

int
tg_trace_filter_parse(const char *expr, struct tg_trace_filter *f,
	int (*iface_id)(const char *name, void *arg), void *arg, char *err,
	size_t errlen)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} protos[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP},
		{"icmp", IPPROTO_ICMP}, {"esp", IPPROTO_ESP},
		{"ah", IPPROTO_AH}, {"gre", IPPROTO_GRE}};
	const char *s = expr != NULL ? expr : "";
	char w[64], v[64];
	bool need_term = false;
	size_t k;

	memset(f, 0, sizeof(*f));
	f->rx_if = TG_IF_NONE;
	while ((s = next_word(s, w, sizeof(w))) != NULL) {
		uint8_t which = TG_TRACE_EITHER;
		uint32_t x, y;
		char *dash, *slash;

		if (!need_term && strcmp(w, "and") == 0 &&
			f->n_addr + f->n_port + f->has_proto + f->arp +
					(f->rx_if != TG_IF_NONE) >
				0) {
			need_term = true;
			continue;
		}
		need_term = false;
		for (k = 0; k < RTE_DIM(protos); k++)
			if (strcmp(w, protos[k].name) == 0)
				break;
		if (strcmp(w, "arp") == 0) {
			if (f->has_proto || f->arp)
				PARSE_ERR("\"%s\": one protocol only", w);
			f->arp = true;
			continue;
		}
		if (k < RTE_DIM(protos) || strcmp(w, "proto") == 0) {
			if (f->has_proto || f->arp)
				PARSE_ERR("\"%s\": one protocol only", w);
			f->has_proto = true;
			if (k < RTE_DIM(protos)) {
				f->proto = protos[k].proto;
				continue;
			}
			s = next_word(s, v, sizeof(v));
			if (s == NULL || parse_u32(v, 255, &x) < 0)
				PARSE_ERR("proto: a number 0-255 expected");
			f->proto = (uint8_t)x;
			continue;
		}
		if (strcmp(w, "in") == 0 || strcmp(w, "from") == 0) {
			bool from = w[0] == 'f';

			s = next_word(s, v, sizeof(v));
			if (s == NULL)
				PARSE_ERR("%s: an interface expected",
					from ? "from" : "in");
			if (f->rx_if != TG_IF_NONE)
				PARSE_ERR("\"%s %s\": one receiving interface "
					  "only",
					w, v);
			if (from) {
				if (strcmp(v, "host") != 0)
					PARSE_ERR("from: only \"from host\" "
						  "(the source path)");
				f->rx_if = TG_TRACE_FROM_HOST;
				continue;
			}
			if (iface_id == NULL ||
				(x = (uint32_t)iface_id(v, arg)) >= TG_IF_NONE)
				PARSE_ERR("in %s: no such interface", v);
			f->rx_if = (uint16_t)x;
			continue;
		}
		if (strcmp(w, "src") == 0 || strcmp(w, "dst") == 0) {
			which = w[0] == 's' ? TG_TRACE_SRC : TG_TRACE_DST;
			s = next_word(s, w, sizeof(w));
			if (s == NULL)
				PARSE_ERR("src/dst: host, net or port "
					  "expected");
		}
		if (strcmp(w, "host") == 0 || strcmp(w, "net") == 0) {
			bool net = w[0] == 'n';

			s = next_word(s, v, sizeof(v));
			if (s == NULL)
				PARSE_ERR("%s: an address expected", w);
			if (f->n_addr == RTE_DIM(f->addr))
				PARSE_ERR("\"%s\": at most %zu address "
					  "conditions",
					v, RTE_DIM(f->addr));
			y = 32;
			slash = strchr(v, '/');
			if (slash != NULL) {
				*slash = '\0';
				if (!net || parse_u32(slash + 1, 32, &y) < 0)
					PARSE_ERR("\"%s/%s\": not an address%s",
						v, slash + 1,
						net ? "/length" : "");
			} else if (net) {
				PARSE_ERR("net %s: A.B.C.D/LEN expected", v);
			}
			if (parse_ip(v, &x) < 0)
				PARSE_ERR("\"%s\": not an IPv4 address", v);
			f->addr[f->n_addr].which = which;
			f->addr[f->n_addr].mask = y == 0 ? 0 : ~0u << (32 - y);
			f->addr[f->n_addr].addr = x & f->addr[f->n_addr].mask;
			f->n_addr++;
			continue;
		}
		if (strcmp(w, "port") == 0) {
			s = next_word(s, v, sizeof(v));
			if (s == NULL)
				PARSE_ERR("port: a number or range expected");
			if (f->n_port == RTE_DIM(f->port))
				PARSE_ERR("\"%s\": at most %zu port conditions",
					v, RTE_DIM(f->port));
			dash = strchr(v, '-');
			if (dash != NULL)
				*dash = '\0';
			if (parse_u32(v, 65535, &x) < 0 ||
				(dash != NULL &&
					parse_u32(dash + 1, 65535, &y) < 0))
				PARSE_ERR("port: \"%s\" is not a port 0-65535 "
					  "or a range N-M",
					v);
			if (dash == NULL)
				y = x;
			if (y < x)
				PARSE_ERR("port %u-%u: empty range", x, y);
			f->port[f->n_port].which = which;
			f->port[f->n_port].lo = (uint16_t)x;
			f->port[f->n_port].hi = (uint16_t)y;
			f->n_port++;
			continue;
		}
		PARSE_ERR("\"%s\": expected tcp, udp, icmp, esp, ah, gre, "
			  "proto N, arp, [src|dst] host/net/port, in IFACE, "
			  "from host or and",
			w);
	}
	if (need_term)
		PARSE_ERR("a condition expected after \"and\"");
	return 0;
}

/* ---- the workers' side ----------------------------------------------- */

/* The why text's place (+ 1) of a traced packet's coming step, next to
 * its trace id in the private area: set by tg_trace_pre(), taken by the
 * step's record. */
static inline uint16_t *
why_slot(struct rte_mbuf *m)
{
	return tg_meta_trace_id(m) + 1;
}

/* The trace a marked packet belongs to (its low bits), after its why
 * slot: one marked by an earlier trace, still held somewhere (ARP, the
 * crypto device) when a new one started, is not this one's. */
static inline uint16_t *
trace_of_pkt(struct rte_mbuf *m)
{
	return tg_meta_trace_id(m) + 2;
}

/* The mode the stage was asked to judge the packet in (0x100 | mode),
 * kept by tg_trace_pre(): a stage may receive a packet anew (ipsec(in)'s
 * decrypted ones), which resets the meta's. */
static inline uint16_t *
mode_slot(struct rte_mbuf *m)
{
	return tg_meta_trace_id(m) + 3;
}

/* Marked, and by the current trace. */
static inline bool
traced(const struct tg_worker *w, struct rte_mbuf *m)
{
	return (tg_meta(m)->flags & TG_META_F_TRACE) &&
	       *trace_of_pkt(m) ==
		       (uint16_t)__atomic_load_n(
			       &w->pl->obs.session, __ATOMIC_RELAXED);
}

static struct tg_trace_rec *
rec_new(struct tg_worker *w, struct rte_mbuf *m, uint8_t kind)
{
	struct tg_trace_buf *b = w->trace;
	struct tg_obs *o = &w->pl->obs;
	uint32_t session = __atomic_load_n(&o->session, __ATOMIC_ACQUIRE);
	struct tg_trace_rec *r;

	if (unlikely(b == NULL))
		return NULL;
	if (b->session != session) {
		/* A new trace: ours is emptied before anyone may read it
		 * under the new session. */
		__atomic_store_n(&b->n, 0, __ATOMIC_RELAXED);
		b->lost = 0;
		b->n_why = 0;
		b->skew = 0;
		__atomic_store_n(&b->session, session, __ATOMIC_RELEASE);
	}
	if (b->n >= TG_TRACE_RECS) {
		b->lost++;
		return NULL;
	}
	r = &b->rec[b->n];
	memset(r, 0, sizeof(*r));
	r->tsc = RTE_MAX(rte_rdtsc() - b->skew, b->last_tsc);
	b->last_tsc = r->tsc;
	r->id = *tg_meta_trace_id(m);
	r->kind = kind;
	r->stage = TG_STAGE_NONE;
	r->worker = w->idx;
	return r;
}

/* Where a packet is, into a STAGE, EMIT or DROP record. */
static inline void
rec_where(struct tg_worker *w, struct tg_trace_rec *r, const struct tg_meta *md)
{
	r->s.path = md->path;
	r->s.step = md->step;
	r->s.mode = md->mode;
	r->s.flags = md->flags;
	r->s.gen = w->t != NULL ? (uint32_t)w->t->generation : 0;
}

static inline void
rec_done(struct tg_worker *w)
{
	__atomic_store_n(&w->trace->n, w->trace->n + 1, __ATOMIC_RELEASE);
}

static void
trace_ended(struct tg_obs *o)
{
	__atomic_sub_fetch(&o->in_flight, 1, __ATOMIC_SEQ_CST);
}

/* Every marked packet of the trace has ended: nothing more to record,
 * and the workers go back to testing one word. Not at once when the
 * last one ends: a packet handed to TX or the host may still be dropped
 * in the same iteration (TX or the host's queue full), and that is
 * recorded. */
void
tg_trace_poll(struct tg_worker *w)
{
	struct tg_obs *o = &w->pl->obs;

	if (__atomic_load_n(&o->marking, __ATOMIC_SEQ_CST) == 0 &&
		__atomic_load_n(&o->in_flight, __ATOMIC_SEQ_CST) == 0)
		__atomic_and_fetch(&o->on, ~TG_OBS_TRACE, __ATOMIC_SEQ_CST);
}

/* tg_trace_pkt_fields(), told whether the frame is ARP: inlined into
 * the marking loop, which looks at every received packet while a trace
 * marks. */
static __rte_always_inline bool
pkt_fields(
	const struct rte_mbuf *m, bool valid, bool arp, struct tg_trace_rec *r)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip =
		(const struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	uint32_t avail, hl;
	const uint8_t *l4;

	memset(&r->m, 0, sizeof(r->m));
	if (unlikely(arp)) {
		/* sender and target, as tcpdump's "arp host" takes them */
		const struct rte_arp_hdr *a =
			(const struct rte_arp_hdr *)(p + RTE_ETHER_HDR_LEN);

		if (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*a))
			return false;
		r->m.src = tg_be32_to_cpu(a->arp_data.arp_sip);
		r->m.dst = tg_be32_to_cpu(a->arp_data.arp_tip);
		r->m.icmp_type = (uint8_t)tg_be16_to_cpu(a->arp_opcode);
		r->m.len = sizeof(*a);
		return true;
	}
	/* A frame RX refused shows what it holds: an IPv4 header's fields
	 * where there is one (its checksum, length or addresses may be
	 * what was wrong), nothing otherwise. */
	if (!valid && (m->data_len < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
			      ((const struct rte_ether_hdr *)p)->ether_type !=
				      RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
			      (ip->version_ihl >> 4) != 4))
		return false;
	avail = m->data_len - RTE_ETHER_HDR_LEN;
	hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (valid)
		avail = RTE_MIN(avail, tg_be16_to_cpu(ip->total_length));
	r->m.src = tg_be32_to_cpu(ip->src_addr);
	r->m.dst = tg_be32_to_cpu(ip->dst_addr);
	r->m.proto = ip->next_proto_id;
	r->m.len = tg_be16_to_cpu(ip->total_length);
	/* Ports only where they are there: a first fragment (or a whole
	 * packet) with room for them. */
	if (hl < sizeof(*ip) ||
		(ip->fragment_offset &
			rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
		avail < hl + 4)
		return true;
	l4 = (const uint8_t *)ip + hl;
	if (ip->next_proto_id == IPPROTO_TCP ||
		ip->next_proto_id == IPPROTO_UDP) {
		r->m.sport = (uint16_t)(l4[0] << 8 | l4[1]);
		r->m.dport = (uint16_t)(l4[2] << 8 | l4[3]);
	} else if (ip->next_proto_id == IPPROTO_ICMP) {
		r->m.icmp_type = l4[0];
	}
	if (ip->next_proto_id == IPPROTO_TCP && avail >= hl + 14)
		r->m.tcp_flags = l4[13];
	return true;
}

static inline bool
is_arp(const struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, const struct rte_ether_hdr *)->ether_type ==
	       RTE_BE16(RTE_ETHER_TYPE_ARP);
}

bool
tg_trace_pkt_fields(
	const struct rte_mbuf *m, bool valid, struct tg_trace_rec *r)
{
	return pkt_fields(m, valid, is_arp(m), r);
}

/* A filter that asks nothing of the IP header (none, "in IFACE", "from
 * host"): the only kind a frame without one can match. */
static bool
filter_ip_free(const struct tg_trace_filter *f)
{
	return !f->has_proto && f->n_addr == 0 && f->n_port == 0;
}

void
tg_trace_mark(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n,
	const uint16_t *verdict)
{
	struct tg_obs *o = &w->pl->obs;
	/* what the host port receives is "from host", refused or not */
	uint16_t host = w->pl->host.enabled ? w->pl->host.port_id : TG_IF_NONE;
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tg_meta *md = tg_meta(m);
		bool valid = verdict == NULL || verdict[i] == TG_V_NEXT;
		bool arp = is_arp(m);
		struct tg_trace_rec f, *r;
		uint16_t rx;
		uint32_t id;

		if (!__atomic_load_n(&o->marking, __ATOMIC_RELAXED))
			return;
		/* ARP frames (valid or not) only for an "arp" filter, and
		 * then nothing else */
		if (arp != o->filter.arp)
			continue;
		/* Frames RX refuses are marked too: their pkt.* drop is
		 * the answer to "where did it go" (RX set the meta). */
		rx = md->path == TG_PATH_SOURCE || md->rx_if == host
			     ? TG_TRACE_FROM_HOST
			     : md->rx_if;
		if (!pkt_fields(m, valid, arp, &f)) {
			if (!filter_ip_free(&o->filter) ||
				!tg_trace_filter_match(
					&o->filter, 0, 0, 0, 0, 0, rx))
				continue;
		} else if (!tg_trace_filter_match(&o->filter, f.m.proto,
				   f.m.src, f.m.dst, f.m.sport, f.m.dport,
				   rx)) {
			continue;
		}
		id = __atomic_add_fetch(&o->next_id, 1, __ATOMIC_SEQ_CST);
		if (id > o->count)
			return; /* the last one was taken meanwhile */
		__atomic_add_fetch(&o->in_flight, 1, __ATOMIC_SEQ_CST);
		if (id == o->count)
			__atomic_store_n(&o->marking, 0, __ATOMIC_SEQ_CST);
		md->flags = (uint8_t)((md->flags & ~TG_META_F_TRACE_END) |
				      TG_META_F_TRACE);
		*tg_meta_trace_id(m) = (uint16_t)id;
		*why_slot(m) = 0;
		*mode_slot(m) = 0;
		*trace_of_pkt(m) = (uint16_t)__atomic_load_n(
			&o->session, __ATOMIC_RELAXED);
		r = rec_new(w, m, TG_TRACE_MARK);
		if (r == NULL)
			continue;
		r->m = f.m;
		r->m.port = rx;
		r->m.path = md->path;
		rec_done(w);
	}
}

void
tg_trace_steps(struct tg_worker *w, uint8_t kind, uint8_t s,
	struct rte_mbuf **pkts, const uint16_t *verdict, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct tg_meta *md = tg_meta(m);
		struct tg_trace_rec *r;

		if (!traced(w, m))
			continue;
		r = rec_new(w, m, kind);
		if (r == NULL)
			continue;
		r->stage = s;
		rec_where(w, r, md);
		r->s.verdict = verdict[i];
		if (kind == TG_TRACE_STAGE) {
			r->s.rule = *why_slot(m);
			if (*mode_slot(m) & 0x100)
				r->s.mode = (uint8_t)*mode_slot(m);
		}
		*why_slot(m) = 0;
		*mode_slot(m) = 0;
		if (TG_V_IS_DROP(verdict[i]))
			r->s.drop =
				(uint16_t)(w->pl->drop_base[TG_OWNER_STAGE0 +
							    s] +
					   TG_V_REASON(verdict[i]));
		rec_done(w);
	}
}

void
tg_trace_pre(struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts, uint16_t n)
{
	struct tg_trace_buf *b = w->trace;
	uint64_t t0 = rte_rdtsc();
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i], *c;

		if (!traced(w, m) || b == NULL ||
			b->session != __atomic_load_n(&w->pl->obs.session,
					      __ATOMIC_ACQUIRE))
			continue;
		*why_slot(m) = 0;
		*mode_slot(m) = (uint16_t)(0x100 | tg_meta(m)->mode);
		if (b->n_why >= TG_TRACE_WHY)
			continue;
		/* explain's code on a copy: the same decision as the burst's
		 * on this packet, from the same state, and its words */
		c = rte_pktmbuf_copy(m, w->pl->mp, 0, UINT32_MAX);
		if (c == NULL)
			continue;
		memcpy(tg_meta(c), tg_meta(m), sizeof(struct tg_meta));
		tg_explain_stage_why(w->pl, w->t, s, c, true, b->why[b->n_why],
			TG_TRACE_WHY_LEN);
		rte_pktmbuf_free(c);
		if (b->why[b->n_why][0] != '\0')
			*why_slot(m) = (uint16_t)(++b->n_why);
	}
	if (b != NULL)
		b->skew += rte_rdtsc() - t0;
}

const char *
tg_pipeline_trace_why(
	const struct tg_pipeline *pl, const struct tg_trace_rec *r)
{
	const struct tg_trace_buf *b;

	if (r->kind != TG_TRACE_STAGE || r->s.rule == 0 ||
		r->worker >= pl->n_workers)
		return NULL;
	b = pl->workers[r->worker]->trace;
	if (b == NULL || r->s.rule > TG_TRACE_WHY)
		return NULL;
	return b->why[r->s.rule - 1];
}

void
tg_trace_end(
	struct tg_worker *w, uint8_t kind, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tg_meta *md = tg_meta(m);
		struct tg_trace_rec *r;

		if ((md->flags & TG_META_F_TRACE_END) || !traced(w, m))
			continue;
		md->flags |= TG_META_F_TRACE_END;
		r = rec_new(w, m, kind);
		if (r != NULL) {
			r->t.port = kind == TG_TRACE_TX ? md->tx_if
							: w->pl->host.port_id;
			r->t.path = md->path;
			rec_done(w);
		}
		trace_ended(&w->pl->obs);
	}
}

/* What the writer needs of a dropped packet, in its copy's private
 * area (the copy's own data is the pcapng block). */
struct cap_info {
	uint16_t drop;
	uint8_t path, step, mode;
	uint16_t rx_if, tx_if;
};

void
tg_capture_drop(struct tg_pipeline *pl, struct rte_mbuf *m, uint16_t idx)
{
	struct tg_obs *o = &pl->obs;
	const struct tg_meta *md = tg_meta(m);
	struct cap_info *ci;
	struct rte_mbuf *c;
	uint16_t port;
	uint64_t k;

	if (o->cap_reason >= 0 && o->cap_reason != idx)
		return;
	k = __atomic_add_fetch(&o->cap_matched, 1, __ATOMIC_RELAXED);
	if (o->cap_count != 0 && k > o->cap_count)
		return;
	/* The interface the packet is known by: where it came in, else
	 * (made by the appliance) where it was going. */
	port = md->rx_if != TG_IF_NONE ? md->rx_if : md->tx_if;
	if (port >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port(port))
		port = pl->ports[0].port_id;
	c = rte_pcapng_copy(port, 0, m, o->cap_mp, o->cap_snaplen, rte_rdtsc(),
		RTE_PCAPNG_DIRECTION_IN);
	if (c == NULL) {
		__atomic_add_fetch(&o->cap_no_mbuf, 1, __ATOMIC_RELAXED);
		return;
	}
	ci = rte_mbuf_to_priv(c);
	ci->drop = idx;
	ci->path = md->path;
	ci->step = md->step;
	ci->mode = md->mode;
	ci->rx_if = md->rx_if;
	ci->tx_if = md->tx_if;
	if (rte_ring_enqueue(o->cap_ring, c) != 0) {
		rte_pktmbuf_free(c);
		__atomic_add_fetch(&o->cap_ring_full, 1, __ATOMIC_RELAXED);
	}
}

void
tg_obs_drop(struct tg_worker *w, struct rte_mbuf *m, uint16_t idx)
{
	struct tg_obs *o = &w->pl->obs;
	uint32_t on = __atomic_load_n(&o->on, __ATOMIC_ACQUIRE);
	struct tg_meta *md = tg_meta(m);

	if ((on & TG_OBS_TRACE) && traced(w, m)) {
		struct tg_trace_rec *r = rec_new(w, m, TG_TRACE_DROP);

		if (r != NULL) {
			rec_where(w, r, md);
			r->s.drop = idx;
			rec_done(w);
		}
		if (!(md->flags & TG_META_F_TRACE_END)) {
			md->flags |= TG_META_F_TRACE_END;
			trace_ended(o);
		}
	}
	if (on & TG_OBS_CAPTURE)
		tg_capture_drop(w->pl, m, idx);
}

/* ---- the control side: trace ----------------------------------------- */

/* Every worker has finished the iteration it was in: none is still
 * looking at what was just switched off. */
static void
obs_quiesce(struct tg_pipeline *pl)
{
	if (pl->launched && pl->slot != NULL && pl->slot->qsv != NULL)
		rte_rcu_qsbr_synchronize(pl->slot->qsv, RTE_QSBR_THRID_INVALID);
}

int
tg_pipeline_trace_start(struct tg_pipeline *pl, const struct tg_trace_filter *f,
	const char *filter_text, uint32_t count)
{
	struct tg_obs *o = &pl->obs;
	uint16_t i;

	if (count == 0 || count > TG_TRACE_MAX_PKTS)
		return -EINVAL;
	__atomic_and_fetch(&o->on, ~TG_OBS_TRACE, __ATOMIC_SEQ_CST);
	obs_quiesce(pl);
	/* The buffers only when a trace is first asked for: 512 KiB per
	 * worker that most runs never need. */
	for (i = 0; i < pl->n_workers; i++) {
		struct tg_worker *w = pl->workers[i];

		if (w->trace == NULL)
			w->trace = rte_zmalloc_socket("tg_trace",
				sizeof(*w->trace), RTE_CACHE_LINE_SIZE,
				(int)rte_lcore_to_socket_id(w->lcore));
		if (w->trace == NULL)
			return -ENOMEM;
	}
	o->filter = *f;
	snprintf(o->filter_text, sizeof(o->filter_text), "%s",
		filter_text != NULL ? filter_text : "");
	o->count = count;
	__atomic_store_n(&o->next_id, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&o->in_flight, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&o->marking, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&o->session, 1, __ATOMIC_SEQ_CST);
	__atomic_or_fetch(&o->on, TG_OBS_TRACE, __ATOMIC_SEQ_CST);
	return 0;
}

void
tg_pipeline_trace_stop(struct tg_pipeline *pl)
{
	__atomic_store_n(&pl->obs.marking, 0, __ATOMIC_SEQ_CST);
	__atomic_and_fetch(&pl->obs.on, ~TG_OBS_TRACE, __ATOMIC_SEQ_CST);
}

/* Records of worker @p w that belong to the current trace: their count,
 * or 0 (none yet, or an older trace's). */
static uint32_t
buf_current(const struct tg_pipeline *pl, const struct tg_trace_buf *b)
{
	uint32_t session = __atomic_load_n(&pl->obs.session, __ATOMIC_ACQUIRE);

	if (b == NULL ||
		__atomic_load_n(&b->session, __ATOMIC_ACQUIRE) != session)
		return 0;
	return __atomic_load_n(&b->n, __ATOMIC_ACQUIRE);
}

void
tg_pipeline_trace_status(
	const struct tg_pipeline *pl, struct tg_trace_status *st)
{
	const struct tg_obs *o = &pl->obs;
	uint32_t marked;
	uint16_t i;

	memset(st, 0, sizeof(*st));
	st->session = __atomic_load_n(&o->session, __ATOMIC_ACQUIRE);
	st->active =
		(__atomic_load_n(&o->on, __ATOMIC_ACQUIRE) & TG_OBS_TRACE) != 0;
	st->marking = st->active &&
		      __atomic_load_n(&o->marking, __ATOMIC_ACQUIRE) != 0;
	st->count = o->count;
	snprintf(st->filter, sizeof(st->filter), "%s", o->filter_text);
	for (i = 0; i < pl->n_workers; i++) {
		const struct tg_trace_buf *b = pl->workers[i]->trace;
		uint32_t n = buf_current(pl, b);

		st->records += n;
		if (n != 0 || (b != NULL && b->session == st->session))
			st->lost += b->lost;
	}
	/* after the records: a packet marked since is counted here, but
	 * no record is counted whose packet is not */
	marked = __atomic_load_n(&o->next_id, __ATOMIC_ACQUIRE);
	st->marked = RTE_MIN(marked, o->count);
	st->in_flight = __atomic_load_n(&o->in_flight, __ATOMIC_ACQUIRE);
}

/* A record and its place in its lcore's buffer: records of one packet
 * on one lcore keep their order even where two TSC reads were equal (a
 * coarse TSC steps by more than one per read on some hosts). */
struct rec_seq {
	struct tg_trace_rec r;
	uint32_t seq;
};

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec_seq *x = a, *y = b;

	if (x->r.id != y->r.id)
		return x->r.id < y->r.id ? -1 : 1;
	if (x->r.tsc != y->r.tsc)
		return x->r.tsc < y->r.tsc ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

int
tg_pipeline_trace_collect(
	const struct tg_pipeline *pl, struct tg_trace_rec **recs, size_t *n)
{
	uint32_t cnt[TG_MAX_LCORES], j;
	struct tg_trace_rec *all;
	struct rec_seq *tmp;
	size_t total = 0, k = 0;
	uint16_t i;

	*recs = NULL;
	*n = 0;
	for (i = 0; i < pl->n_workers; i++) {
		cnt[i] = buf_current(pl, pl->workers[i]->trace);
		total += cnt[i];
	}
	if (total == 0)
		return 0;
	all = malloc(total * sizeof(*all));
	tmp = malloc(total * sizeof(*tmp));
	if (all == NULL || tmp == NULL) {
		free(all);
		free(tmp);
		return -ENOMEM;
	}
	/* Records below a buffer's published count are never rewritten
	 * within a session (the control lock keeps the session). */
	for (i = 0; i < pl->n_workers; i++)
		for (j = 0; j < cnt[i]; j++, k++) {
			tmp[k].r = pl->workers[i]->trace->rec[j];
			tmp[k].seq = j;
		}
	qsort(tmp, total, sizeof(*tmp), rec_cmp);
	for (k = 0; k < total; k++)
		all[k] = tmp[k].r;
	free(tmp);
	*recs = all;
	*n = total;
	return 0;
}

/* ---- the control side: drop capture ---------------------------------- */

/* pcapng option codes (draft-ietf-opsawg-pcapng) */
#define OPT_ENDOFOPT 0
#define OPT_COMMENT  1

/*
 * rte_pcapng_copy() (DPDK 22.11) writes no comment: add one to the
 * block it made, which ends in its options and the trailing block
 * length. The comment goes before that length, then the end of options.
 */
static int
cap_comment(struct rte_mbuf *c, const char *text)
{
	uint32_t *blen = rte_pktmbuf_mtod_offset(c, uint32_t *, 4);
	uint16_t len = (uint16_t)strlen(text);
	uint16_t pad = (uint16_t)(RTE_ALIGN(len, 4) - len);
	uint16_t add = (uint16_t)(4 + len + pad + 4);
	uint8_t *p;

	if (c->nb_segs != 1 || rte_pktmbuf_data_len(c) < 8 ||
		*blen != rte_pktmbuf_data_len(c))
		return -EINVAL;
	p = (uint8_t *)rte_pktmbuf_append(c, add);
	if (p == NULL)
		return -ENOSPC;
	p -= 4; /* over the old trailing length */
	*(uint16_t *)p = OPT_COMMENT;
	*(uint16_t *)(p + 2) = len;
	memcpy(p + 4, text, len);
	memset(p + 4 + len, 0, pad);
	p += 4 + len + pad;
	*(uint16_t *)p = OPT_ENDOFOPT;
	*(uint16_t *)(p + 2) = 0;
	*blen = rte_pktmbuf_data_len(c);
	*(uint32_t *)(p + 4) = *blen;
	return 0;
}

static const char *
port_name(const struct tg_pipeline *pl, uint16_t port)
{
	if (port >= RTE_MAX_ETHPORTS || pl->obs.cap_ifname[port][0] == '\0')
		return "-";
	return pl->obs.cap_ifname[port];
}

static void
cap_describe(const struct tg_pipeline *pl, const struct cap_info *ci, char *buf,
	size_t len)
{
	const char *name = tg_drop_name(ci->drop);
	const char *desc = tg_drop_desc(ci->drop);
	const char *path = "-";
	char at[48] = "-";
	/* Validation drops come before any path. */
	if (ci->drop >= pl->drop_base[TG_OWNER_PIPELINE] &&
		ci->path < TG_PATH__COUNT) {
		path = tg_paths[ci->path].name;
		/* A stage's drop: its step. The pipeline's own (a full ring
		 * or queue at TX or the host) are past the last one the meta
		 * names: their reason says where. */
		if (ci->drop >= pl->drop_base[TG_OWNER_STAGE0] &&
			ci->step < tg_paths[ci->path].n_steps) {
			const struct tg_path_step *st =
				&tg_paths[ci->path].steps[ci->step];

			if (st->mode == TG_MODE_NONE)
				snprintf(at, sizeof(at), "%s",
					tg_stage_name(st->stage));
			else
				snprintf(at, sizeof(at), "%s(%s)",
					tg_stage_name(st->stage),
					tg_mode_name(st->mode));
		}
	}
	snprintf(buf, len,
		"tollgate drop: %s (%s); path %s, step %s, in %s, out %s",
		name != NULL ? name : "?", desc != NULL ? desc : "?", path, at,
		port_name(pl, ci->rx_if), port_name(pl, ci->tx_if));
}

static void *
cap_writer(void *arg)
{
	struct tg_pipeline *pl = arg;
	struct tg_obs *o = &pl->obs;
	struct rte_mbuf *c[32];
	char text[320];
	unsigned int n, i;
	bool last = false;

	for (;;) {
		n = rte_ring_dequeue_burst(o->cap_ring, (void **)c, 32, NULL);
		for (i = 0; i < n; i++) {
			cap_describe(
				pl, rte_mbuf_to_priv(c[i]), text, sizeof(text));
			/* Without its comment the packet is still worth
			 * writing: the reason is then only in the counters. */
			if (cap_comment(c[i], text) < 0)
				__atomic_add_fetch(&o->cap_write_errors, 1,
					__ATOMIC_RELAXED);
		}
		if (n > 0) {
			if (rte_pcapng_write_packets(
				    o->cap_file, c, (uint16_t)n) < 0) {
				__atomic_add_fetch(&o->cap_write_errors, n,
					__ATOMIC_RELAXED);
				snprintf(o->cap_error, sizeof(o->cap_error),
					"write: %s", rte_strerror(rte_errno));
			} else {
				__atomic_add_fetch(
					&o->cap_written, n, __ATOMIC_RELAXED);
			}
			rte_pktmbuf_free_bulk(c, n);
			continue;
		}
		if (last)
			break;
		/* Stopped: one more pass takes what came in meanwhile. */
		if (__atomic_load_n(&o->cap_stop, __ATOMIC_ACQUIRE))
			last = true;
		else
			usleep(1000);
	}
	return NULL;
}

int
tg_pipeline_capture_start(struct tg_pipeline *pl, const char *path, int reason,
	uint32_t count, uint32_t snaplen, char *err, size_t errlen)
{
	struct tg_obs *o = &pl->obs;
	char name[RTE_MEMPOOL_NAMESIZE];
	static unsigned int seq;
	int fd, rc;

	if (o->cap_running) {
		snprintf(err, errlen, "a capture is running (to %s)",
			o->cap_path);
		return -EBUSY;
	}
	if (reason >= (int)tg_drop_count() || reason < -1) {
		snprintf(err, errlen, "no such drop reason");
		return -EINVAL;
	}
	if (snaplen == 0)
		snaplen = TG_CAPTURE_SNAPLEN;
	snaplen = RTE_MIN(snaplen, (uint32_t)RTE_MBUF_DEFAULT_DATAROOM);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rte_errno = 0;
	o->cap_file = rte_pcapng_fdopen(
		fd, NULL, NULL, "tollgate", "tollgate drop capture");
	if (o->cap_file == NULL) {
		/* It can fail writing the file's header without saying why
		 * (a full disk: /dev/full): an error all the same. */
		rc = rte_errno != 0 ? -rte_errno : -EIO;
		close(fd);
		snprintf(err, errlen, "%s: cannot write the pcapng header: %s",
			path, strerror(-rc));
		return rc;
	}
	snprintf(name, sizeof(name), "tg_cap%u", seq);
	o->cap_ring = rte_ring_create(
		name, TG_CAPTURE_RING, SOCKET_ID_ANY, RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tg_capmp%u", seq++);
	/* Room for the block's header, options and our comment too. */
	o->cap_mp = rte_pktmbuf_pool_create(name, TG_CAPTURE_RING * 2 - 1, 0,
		RTE_CACHE_LINE_SIZE,
		(uint16_t)(RTE_PKTMBUF_HEADROOM +
			   rte_pcapng_mbuf_size(snaplen) + 512),
		SOCKET_ID_ANY);
	if (o->cap_ring == NULL || o->cap_mp == NULL) {
		rc = -ENOMEM;
		snprintf(err, errlen, "capture ring or pool: %s",
			rte_strerror(rte_errno));
		goto fail;
	}
	/* Names as the running snapshot has them (the control lock is
	 * held: it is not replaced meanwhile). */
	memset(o->cap_ifname, 0, sizeof(o->cap_ifname));
	{
		const struct tg_tables *t = pl->slot->cur;
		uint16_t p;

		for (p = 0; t != NULL && p < RTE_MAX_ETHPORTS; p++)
			if (t->forward->ifaces[p].configured)
				memcpy(o->cap_ifname[p],
					t->forward->ifaces[p].name,
					TG_NAME_MAX);
		if (pl->host.enabled && pl->host.port_id < RTE_MAX_ETHPORTS)
			snprintf(o->cap_ifname[pl->host.port_id], TG_NAME_MAX,
				"host");
	}
	o->cap_reason = reason;
	o->cap_count = count;
	o->cap_snaplen = snaplen;
	o->cap_matched = o->cap_ring_full = o->cap_no_mbuf = 0;
	o->cap_written = o->cap_write_errors = 0;
	o->cap_error[0] = '\0';
	snprintf(o->cap_path, sizeof(o->cap_path), "%s", path);
	o->cap_stop = false;
	rc = pthread_create(&o->cap_tid, NULL, cap_writer, pl);
	if (rc != 0) {
		snprintf(err, errlen, "writer thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	o->cap_running = true;
	__atomic_or_fetch(&o->on, TG_OBS_CAPTURE, __ATOMIC_SEQ_CST);
	return 0;
fail:
	rte_ring_free(o->cap_ring);
	rte_mempool_free(o->cap_mp);
	o->cap_ring = NULL;
	o->cap_mp = NULL;
	rte_pcapng_close(o->cap_file);
	o->cap_file = NULL;
	return rc;
}

void
tg_pipeline_capture_status(
	const struct tg_pipeline *pl, struct tg_capture_status *st)
{
	const struct tg_obs *o = &pl->obs;

	memset(st, 0, sizeof(*st));
	st->active = o->cap_running;
	st->reason = o->cap_reason;
	st->count = o->cap_count;
	st->snaplen = o->cap_snaplen;
	st->matched = __atomic_load_n(&o->cap_matched, __ATOMIC_RELAXED);
	st->written = __atomic_load_n(&o->cap_written, __ATOMIC_RELAXED);
	st->ring_full = __atomic_load_n(&o->cap_ring_full, __ATOMIC_RELAXED);
	st->no_mbuf = __atomic_load_n(&o->cap_no_mbuf, __ATOMIC_RELAXED);
	st->write_errors =
		__atomic_load_n(&o->cap_write_errors, __ATOMIC_RELAXED);
	snprintf(st->file, sizeof(st->file), "%s", o->cap_path);
	snprintf(st->error, sizeof(st->error), "%s", o->cap_error);
}

void
tg_pipeline_capture_stop(struct tg_pipeline *pl, struct tg_capture_status *st)
{
	struct tg_obs *o = &pl->obs;

	if (!o->cap_running) {
		if (st != NULL)
			tg_pipeline_capture_status(pl, st);
		return;
	}
	__atomic_and_fetch(&o->on, ~TG_OBS_CAPTURE, __ATOMIC_SEQ_CST);
	/* No worker copies any more: the writer takes the rest. */
	obs_quiesce(pl);
	__atomic_store_n(&o->cap_stop, true, __ATOMIC_RELEASE);
	pthread_join(o->cap_tid, NULL);
	o->cap_running = false;
	rte_pcapng_close(o->cap_file);
	o->cap_file = NULL;
	rte_ring_free(o->cap_ring);
	o->cap_ring = NULL;
	rte_mempool_free(o->cap_mp);
	o->cap_mp = NULL;
	if (st != NULL)
		tg_pipeline_capture_status(pl, st);
}
