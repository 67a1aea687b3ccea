/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the burst path. Transit natfw(nat) translates private → public;
 * target natfw(in) translates answers back (a path switch to transit at
 * forward) or lets the firewall judge; source natfw(out) applies the ICMP
 * policy and opens dynamic entries for what the appliance sends.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include "nat_rewrite.h"
#include "natfw_internal.h"
#include "natfw_pptp.h"
#include "tg_natfw.h"
#include "tg_pkt.h"

/* The natfw stage's answer for a packet translated back: continue on the
 * transit path at forward (ARCHITECTURE.md section 2). */
static inline uint16_t
to_transit(struct tg_meta *md)
{
	md->path = TG_PATH_TRANSIT;
	md->flags |= TG_META_F_NAT;
	return TG_V_GOTO(TG_STAGE_FORWARD);
}

static inline bool
later_fragment(const struct rte_ipv4_hdr *ip)
{
	return (rte_be_to_cpu_16(ip->fragment_offset) &
		       RTE_IPV4_HDR_OFFSET_MASK) != 0;
}

/* L4 bytes present: within the IP total length and the frame. */
static inline uint32_t
l4_len_of(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint16_t l3_len)
{
	int32_t n = RTE_MIN((int32_t)rte_be_to_cpu_16(ip->total_length),
			    (int32_t)rte_pktmbuf_data_len(m) -
				    (int32_t)sizeof(struct rte_ether_hdr)) -
		    (int32_t)l3_len;

	return n > 0 ? (uint32_t)n : 0;
}

/* The port space index of address @p a, or n_addr. */
static inline uint16_t
addr_index(const struct tg_natfw_table *nt, uint32_t a)
{
	uint16_t i;

	for (i = 0; i < nt->n_addr && nt->addr[i] != a; i++)
		;
	return i;
}

static inline uint8_t
tmo_class_of(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return TG_NATFW_TMO_TCP_TRANS; /* until answered */
	case IPPROTO_UDP:
		return TG_NATFW_TMO_UDP;
	case IPPROTO_ICMP:
		return TG_NATFW_TMO_ICMP;
	default:
		return TG_NATFW_TMO_GRE;
	}
}

/* A session key from a tuple seen on the inside (@p inside true: the
 * private or local endpoint is the source) or the outside. ICMP queries:
 * the identifier is the endpoint's port, the remote's is 0. */
static inline void
key_of(const struct tg_nat_tuple *t, bool inside, struct tg_nat_key *k)
{
	bool icmp = t->proto == IPPROTO_ICMP;

	memset(k, 0, sizeof(*k));
	k->proto = t->proto;
	k->ip = inside ? t->src : t->dst;
	k->port = inside ? t->sport : t->dport;
	k->rem_ip = inside ? t->dst : t->src;
	k->rem_port = icmp ? 0 : inside ? t->dport : t->sport;
}

/* TCP as NAT follows it: the state and, with it, the timeout class. */
static void
tcp_track(struct tg_nat_table *tab, uint32_t idx, const uint8_t *l4,
	uint32_t l4_len, enum tg_nat_dir dir, uint32_t sec)
{
	struct tg_nat_sess *s = tg_nat_sess_at(tab, idx);
	uint8_t f = l4_len > 13 ? l4[13] : 0, st = s->state, ns = st;
	bool i2o = dir == TG_NAT_IN2OUT;

	if (f & RTE_TCP_RST_FLAG)
		ns = TG_NATFW_TCP_CLOSING;
	else if (f & RTE_TCP_FIN_FLAG)
		ns = st == TG_NATFW_TCP_CLOSING ||
				     st == (i2o ? TG_NATFW_TCP_FIN_O2I
						: TG_NATFW_TCP_FIN_I2O)
			     ? TG_NATFW_TCP_CLOSING
			     : (i2o ? TG_NATFW_TCP_FIN_I2O
				    : TG_NATFW_TCP_FIN_O2I);
	else if (st == (i2o ? TG_NATFW_TCP_SYN_O2I : TG_NATFW_TCP_SYN_I2O))
		ns = TG_NATFW_TCP_EST; /* the other side answered */
	if (ns == st)
		return;
	tg_nat_sess_set_state(tab, idx, ns);
	tg_nat_sess_set_class(tab, idx,
		ns == TG_NATFW_TCP_EST ? TG_NATFW_TMO_TCP_EST
				       : TG_NATFW_TMO_TCP_TRANS,
		sec);
}

/* A session found or made: count the packet, follow TCP. */
static inline void
sess_seen(struct tg_nat_table *tab, uint32_t idx, const struct tg_nat_tuple *t,
	const uint8_t *l4, uint32_t l4_len, enum tg_nat_dir dir, uint32_t sec)
{
	tg_nat_sess_touch(tab, tg_nat_sess_at(tab, idx), sec, dir);
	if (t->proto == IPPROTO_TCP)
		tcp_track(tab, idx, l4, l4_len, dir, sec);
}

/* A new session on mapping @p map towards the tuple's remote side; its
 * TCP state says which side opened it. 0 and *idx, or a drop verdict. */
static uint16_t
sess_new(struct tg_nat_table *tab, uint32_t map, const struct tg_nat_key *k,
	bool opened_inside, uint32_t sec, uint32_t *idx)
{
	int rc = tg_nat_sess_create(tab, map, k->rem_ip, k->rem_port, sec,
		tmo_class_of(k->proto), idx);

	if (rc != 0)
		return natfw_drop_of(rc);
	if (k->proto == IPPROTO_TCP && !opened_inside)
		tg_nat_sess_set_state(tab, *idx, TG_NATFW_TCP_SYN_O2I);
	return 0;
}

/* ---- a reload's leftovers (docs/nat.md, Reload) ----------------------- */

static const struct tg_natfw_pmap *pmap_find(const struct tg_natfw_table *nt,
	uint8_t proto, uint16_t a, uint16_t port);

/* Does mapping @p map (of local sessions: @p local) fit the snapshot: its
 * address still has a port space, and, for a translation, is still a NAT
 * address whose range holds the port, or whose port mapping it still is. */
static bool
map_fits(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint32_t map, bool local)
{
	const struct tg_nat_map *m = &tab->maps[map];
	uint16_t a = m->addr < TG_NATFW_SLOTS ? nt->slot_addr[m->addr]
					      : TG_NATFW_NO_ADDR;
	const struct tg_natfw_pmap *p;

	if (a == TG_NATFW_NO_ADDR || (m->flags & TG_NAT_MF_DETACHED))
		return false;
	if (local)
		return true;
	if (a >= nt->n_nat)
		return false;
	if (m->flags & TG_NAT_MF_STATIC) {
		p = pmap_find(nt, m->proto, a, m->pub_port);
		return p != NULL && p->private_ip == m->priv_ip &&
		       p->private_port == m->priv_port;
	}
	return m->pub_port >= nt->port_lo[a] && m->pub_port <= nt->port_hi[a];
}

/* tg_nat_keep_fn of the sweep: @p ctx is the snapshot's part. */
bool
tg_natfw_sess_fits(
	const void *ctx, const struct tg_nat_table *tab, uint32_t idx)
{
	const struct tg_nat_sess *s = tg_nat_sess_at(tab, idx);

	return map_fits(ctx, tab, s->map, (s->flags & TG_NATFW_SF_LOCAL) != 0);
}

/* tg_nat_map_get_or_create() on address @p a's slot; while a sweep runs,
 * the private endpoint's mapping that no longer fits is detached first
 * (its sessions go; the new flow gets a new mapping). */
static inline int
map_get(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	uint8_t proto, uint32_t ip, uint16_t port, uint16_t a, uint16_t lo,
	uint16_t hi, uint16_t pref, bool local, uint32_t *map)
{
	uint32_t old;

	if (unlikely(tg_nat_table_sweeping(tab))) {
		old = tg_nat_map_lookup_private(tab, proto, ip, port);
		if (old != TG_NAT_NONE && !map_fits(nt, tab, old, local))
			tg_nat_map_detach(tab, old);
	}
	return tg_nat_map_get_or_create(
		tab, proto, ip, port, nt->slot[a], lo, hi, pref, map);
}

/* The mapping that holds public port @p port of address @p a, or
 * TG_NAT_NONE (one out of its range after a reload is detached). */
static inline uint32_t
map_public(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	uint16_t a, uint8_t proto, uint16_t port)
{
	uint32_t map = tg_nat_map_lookup_public(tab, nt->slot[a], proto, port);

	if (unlikely(tg_nat_table_sweeping(tab)) && map != TG_NAT_NONE &&
		!map_fits(
			nt, tab, map, tab->maps[map].priv_ip == nt->addr[a])) {
		tg_nat_map_detach(tab, map);
		return TG_NAT_NONE;
	}
	return map;
}

/* ---- transit natfw(nat): private → public ---------------------------- */

/* An ICMP error a private host sends about a packet that reached it
 * through a translation: translated with the packet it carries (RFC 5508
 * 4.2). About anything else it would show a private address: dropped. */
static uint16_t
icmp_error_out(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_meta *md, struct rte_ipv4_hdr *ip, uint32_t l4_len)
{
	const struct tg_nat_sess *s;
	struct tg_nat_tuple in;
	struct tg_nat_key k;
	uint32_t idx;

	if (tg_nat_icmp_error_inner(ip, l4_len, &in) != 0)
		return V_DROP(SHORT_L4);
	/* the carried packet came in: its destination is the private side */
	key_of(&in, false, &k);
	idx = natfw_lookup(nt, tab, TG_NAT_IN2OUT, &k);
	if (idx == TG_NAT_NONE)
		return V_DROP(PROTOCOL);
	s = tg_nat_sess_at(tab, idx);
	if (tg_nat_rewrite_icmp_error(ip, l4_len, TG_NAT_SRC, s->pub_ip,
		    s->pub_ip, s->pub_port) != 0)
		return V_DROP(SHORT_L4);
	md->flags |= TG_META_F_NAT;
	return TG_V_NEXT;
}

/* nat_out_key(): the packet needs its session looked up (no verdict has
 * this value: drops have TG_V_DROP_BASE set). */
#define NAT_OUT_LOOKUP 1

/* The first half of a private → public packet: whether it is NAT's, and
 * its tuple and session key (→ NAT_OUT_LOOKUP), or its verdict. */
static uint16_t
nat_out_key(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, struct tg_nat_tuple *t,
	struct tg_nat_key *k)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len);

	if (!nt->nat || md->rx_if >= RTE_MAX_ETHPORTS ||
		md->tx_if >= RTE_MAX_ETHPORTS ||
		nt->role[md->rx_if] != TG_NATFW_PRIVATE ||
		nt->role[md->tx_if] != TG_NATFW_PUBLIC)
		return TG_V_NEXT;
	if (later_fragment(ip))
		return V_DROP(FRAGMENT);
	if (tg_nat_tuple_of(ip, l4_len, t) != 0)
		return V_DROP(SHORT_L4);
	if (t->proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t->icmp_type))
		return icmp_error_out(nt, tab, md, ip, l4_len);
	if (t->proto == IPPROTO_GRE) {
		/* PPTP's: the call ID (the server's) as the remote port */
		if (tg_natfw_gre_call((uint8_t *)ip + md->l3_len, l4_len,
			    &t->dport, NULL) != 0)
			return V_DROP(GRE_NOT_PPTP);
		key_of(t, true, k);
		return NAT_OUT_LOOKUP;
	}
	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP &&
		t->proto != IPPROTO_ICMP)
		return V_DROP(PROTOCOL);
	key_of(t, true, k);
	return NAT_OUT_LOOKUP;
}

/* The second half: the session @p idx the burst's lookup found (or none:
 * made here), and the rewrite. */
static uint16_t
nat_out_finish(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	const struct tg_nat_tuple *t, const struct tg_nat_key *k, uint32_t idx,
	bool recheck, uint32_t sec, struct tg_natfw_pptp_stats *ps)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len), map;
	uint8_t *l4 = (uint8_t *)ip + md->l3_len;
	const struct tg_nat_sess *s;
	uint16_t a, v;
	int rc;

	if (natfw_sess_gone(nt, tab, idx)) /* a reload left it without room */
		idx = TG_NAT_NONE;
	if (t->proto == IPPROTO_GRE) {
		v = tg_natfw_pptp_gre_out(nt, tab, ip, l4_len, k, idx, sec);
		if (v == TG_V_NEXT)
			md->flags |= TG_META_F_NAT;
		return v;
	}
	/* an earlier packet of the burst may have made it */
	if (idx == TG_NAT_NONE && recheck)
		idx = natfw_lookup(nt, tab, TG_NAT_IN2OUT, k);
	if (idx == TG_NAT_NONE) {
		a = nt->nat_addr_of_port[md->tx_if];
		rc = map_get(nt, tab, k->proto, k->ip, k->port, a,
			nt->port_lo[a], nt->port_hi[a], k->port, false, &map);
		if (rc < 0)
			return natfw_drop_of(rc);
		v = sess_new(tab, map, k, true, sec, &idx);
		if (v != 0)
			return v;
	}
	sess_seen(tab, idx, t, l4, l4_len, TG_NAT_IN2OUT, sec);
	s = tg_nat_sess_at(tab, idx);
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, s->pub_ip, s->pub_port) != 0)
		return V_DROP(SHORT_L4);
	md->flags |= TG_META_F_NAT;
	if (t->proto == IPPROTO_TCP && t->dport == TG_NATFW_PPTP_PORT)
		return tg_natfw_pptp_ctl_out(nt, tab, ps, ip, l4_len, idx, sec);
	return TG_V_NEXT;
}

/* ---- target natfw(in): translations back, then the firewall ---------- */

static const struct tg_natfw_pmap *
pmap_find(const struct tg_natfw_table *nt, uint8_t proto, uint16_t a,
	uint16_t port)
{
	uint32_t lo = 0, hi = nt->n_pmaps;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct tg_natfw_pmap *p = &nt->pmaps[mid];
		int c = p->proto != proto ? p->proto - proto
			: p->addr != a	  ? p->addr - a
					  : (int)p->public_port - (int)port;

		if (c == 0)
			return p;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* nat_in_new(): nothing applies; the firewall judges (no verdict has
 * this value: drops have TG_V_DROP_BASE set). */
#define NAT_IN_NONE 1

/*
 * No session for an inbound packet to NAT address @p a: endpoint-
 * independent filtering lets it reach an existing mapping, a port mapping
 * makes one. → 0 and a new session's index in *idx, NAT_IN_NONE when
 * neither applies, or a drop verdict.
 */
static uint16_t
nat_in_new(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_key *k, uint16_t a, uint32_t sec, uint32_t *idx)
{
	const struct tg_natfw_pmap *p;
	uint32_t map;
	int rc;

	map = map_public(nt, tab, a, k->proto, k->port);
	if (map != TG_NAT_NONE &&
		nt->filtering == TG_CFG_NAT_FILTER_ENDPOINT_INDEP &&
		tab->maps[map].priv_ip != nt->addr[a])
		return sess_new(tab, map, k, false, sec, idx);
	if (k->proto == IPPROTO_ICMP)
		return NAT_IN_NONE;
	p = pmap_find(nt, k->proto, a, k->port);
	if (p == NULL)
		return NAT_IN_NONE;
	rc = map_get(nt, tab, k->proto, p->private_ip, p->private_port, a,
		p->public_port, p->public_port, p->public_port, false, &map);
	if (rc < 0)
		return natfw_drop_of(rc);
	if (tab->maps[map].addr != nt->slot[a] ||
		tab->maps[map].pub_port != p->public_port) {
		/* the server's endpoint already has another mapping */
		if (rc == 1)
			tg_nat_map_release(tab, map);
		return NAT_IN_NONE;
	}
	if (rc == 1) /* a reload keeps it while the port mapping stays */
		tab->maps[map].flags |= TG_NAT_MF_STATIC;
	return sess_new(tab, map, k, false, sec, idx);
}

/* The firewall's judgement of unsolicited traffic to the appliance;
 * *exc (explain: may be NULL) gets the exception that let it in. */
static uint16_t
fw_in_why(const struct tg_natfw_table *nt, const struct tg_meta *md,
	const struct tg_nat_tuple *t, uint32_t *exc)
{
	const struct tg_cfg_firewall *fw = nt->fw;
	uint32_t i, j;

	if (!nt->firewall || (md->flags & TG_META_F_IPSEC_BYPASS))
		return TG_V_NEXT;
	if (t->proto == IPPROTO_ICMP) {
		if (tg_nat_icmp_is_query(t->icmp_type) &&
			(nt->icmp_in_allow[t->icmp_type / 64] >>
					(t->icmp_type % 64) &
				1))
			return TG_V_NEXT;
		return tg_nat_icmp_is_query(t->icmp_type)
			       ? V_DROP(ICMP_BLOCKED)
			       : V_DROP(NO_EXCEPTION);
	}
	for (i = 0; i < fw->n_exceptions; i++) {
		const struct tg_cfg_fw_exception *e = &fw->exceptions[i];
		bool in_scope = e->n_scope == 0;

		if (e->proto != t->proto ||
			(e->port_hi != 0 && (t->dport < e->port_lo ||
						    t->dport > e->port_hi)) ||
			(e->has_iface && nt->iface_port[e->iface] != md->rx_if))
			continue;
		for (j = 0; j < e->n_scope && !in_scope; j++) {
			uint8_t len = e->scope[j].len;
			uint32_t mask = len == 0 ? 0 : ~0u << (32 - len);

			in_scope = (t->src & mask) == e->scope[j].addr;
		}
		if (in_scope) {
			if (exc != NULL)
				*exc = i;
			return TG_V_NEXT;
		}
	}
	return V_DROP(NO_EXCEPTION);
}

static inline uint16_t
fw_in(const struct tg_natfw_table *nt, const struct tg_meta *md,
	const struct tg_nat_tuple *t)
{
	return fw_in_why(nt, md, t, NULL);
}

/* An ICMP error to the appliance: about a translated flow, it is
 * translated with the packet it carries; about a dynamic entry, it
 * passes; otherwise the firewall judges it. */
static uint16_t
icmp_error_in(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_meta *md, struct rte_ipv4_hdr *ip, uint32_t l4_len,
	const struct tg_nat_tuple *t)
{
	struct tg_nat_tuple in;
	struct tg_nat_key k;
	const struct tg_nat_sess *s;
	uint32_t idx;

	if (tg_nat_icmp_error_inner(ip, l4_len, &in) != 0)
		return fw_in(nt, md, t);
	/* the carried packet went out: its source is our side */
	key_of(&in, true, &k);
	idx = natfw_lookup(nt, tab, TG_NAT_OUT2IN, &k);
	if (idx == TG_NAT_NONE)
		return fw_in(nt, md, t);
	s = tg_nat_sess_at(tab, idx);
	if (s->flags & TG_NATFW_SF_LOCAL)
		return TG_V_NEXT;
	if (tg_nat_rewrite_icmp_error(ip, l4_len, TG_NAT_DST, s->priv_ip,
		    s->priv_ip, s->priv_port) != 0)
		return V_DROP(SHORT_L4);
	return to_transit(md);
}

/*
 * Hairpinning (RFC 4787 REQ-9, RFC 5382 REQ-8): a private host sends to a
 * NAT address and port that a translation owns. The packet leaves as if
 * it had gone out and come back: its source becomes the sender's own
 * mapping, its destination the translation's private endpoint, and it
 * continues on the transit path. → NAT_IN_NONE when the destination is no
 * translation's (then it is for the appliance), or a verdict.
 */
static uint16_t
hairpin(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_meta *md, struct rte_ipv4_hdr *ip, uint32_t l4_len,
	const struct tg_nat_tuple *t, uint16_t a, uint32_t sec)
{
	const struct tg_nat_sess *so, *si;
	struct tg_nat_key ko, ki;
	uint32_t io, ii, map;
	uint16_t v;
	int rc;

	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP &&
		t->proto != IPPROTO_ICMP)
		return NAT_IN_NONE;
	/* the sender's side: its session towards the public endpoint */
	key_of(t, true, &ko);
	io = natfw_lookup(nt, tab, TG_NAT_IN2OUT, &ko);
	if (io == TG_NAT_NONE) {
		map = map_public(nt, tab, a, t->proto, ko.rem_port);
		if (t->proto == IPPROTO_ICMP ||
			((map == TG_NAT_NONE ||
				 tab->maps[map].priv_ip == nt->addr[a]) &&
				pmap_find(nt, t->proto, a, t->dport) == NULL))
			return NAT_IN_NONE;
		rc = map_get(nt, tab, ko.proto, ko.ip, ko.port, a,
			nt->port_lo[a], nt->port_hi[a], ko.port, false, &map);
		if (rc < 0)
			return natfw_drop_of(rc);
		v = sess_new(tab, map, &ko, true, sec, &io);
		if (v != 0)
			return v;
	}
	so = tg_nat_sess_at(tab, io);
	if (so->flags & TG_NATFW_SF_LOCAL)
		return NAT_IN_NONE;
	/* the receiver's side, as if the packet came from outside */
	memset(&ki, 0, sizeof(ki));
	ki.proto = t->proto;
	ki.ip = t->dst;
	ki.port = t->dport;
	ki.rem_ip = so->pub_ip;
	ki.rem_port = t->proto == IPPROTO_ICMP ? 0 : so->pub_port;
	ii = natfw_lookup(nt, tab, TG_NAT_OUT2IN, &ki);
	if (ii == TG_NAT_NONE) {
		v = nat_in_new(nt, tab, &ki, a, sec, &ii);
		if (v != 0)
			return v == NAT_IN_NONE ? V_DROP(NO_EXCEPTION) : v;
	}
	si = tg_nat_sess_at(tab, ii);
	if (si->flags & TG_NATFW_SF_LOCAL)
		return V_DROP(NO_EXCEPTION);
	sess_seen(tab, io, t, (uint8_t *)ip + md->l3_len, l4_len, TG_NAT_IN2OUT,
		sec);
	sess_seen(tab, ii, t, (uint8_t *)ip + md->l3_len, l4_len, TG_NAT_OUT2IN,
		sec);
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, so->pub_ip, so->pub_port) !=
			0 ||
		tg_nat_rewrite(ip, l4_len, TG_NAT_DST, si->priv_ip,
			si->priv_port) != 0)
		return V_DROP(SHORT_L4);
	return to_transit(md);
}

static uint16_t
natfw_in(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint32_t sec,
	struct tg_natfw_pptp_stats *ps)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len), idx;
	uint8_t *l4 = (uint8_t *)ip + md->l3_len;
	uint16_t a = addr_index(nt, rte_be_to_cpu_32(ip->dst_addr)), v;
	struct tg_nat_tuple t;
	struct tg_nat_key k;
	const struct tg_nat_sess *s;

	if (later_fragment(ip))
		/* no ports to find a translation by; to the appliance
		 * itself, the kernel reassembles what the first fragment
		 * was let in for */
		return a < nt->n_nat ? V_DROP(FRAGMENT) : TG_V_NEXT;
	if (tg_nat_tuple_of(ip, l4_len, &t) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t.icmp_type))
		return icmp_error_in(nt, tab, md, ip, l4_len, &t);
	if (t.proto == IPPROTO_GRE) {
		/* only PPTP calls' GRE is translated or let in by state */
		v = tg_natfw_pptp_gre_in(nt, tab, ip, l4_len, sec);
		if (v == TG_NATFW_PPTP_XLAT)
			return to_transit(md);
		return v == TG_NATFW_PPTP_NONE ? fw_in(nt, md, &t) : v;
	}
	if (nt->nat && a < nt->n_nat && md->rx_if < RTE_MAX_ETHPORTS &&
		nt->role[md->rx_if] == TG_NATFW_PRIVATE) {
		v = hairpin(nt, tab, md, ip, l4_len, &t, a, sec);
		if (v != NAT_IN_NONE)
			return v;
	}
	key_of(&t, false, &k);
	idx = natfw_lookup(nt, tab, TG_NAT_OUT2IN, &k);
	if (idx == TG_NAT_NONE && nt->nat && a < nt->n_nat) {
		v = nat_in_new(nt, tab, &k, a, sec, &idx);
		if (v != 0)
			return v == NAT_IN_NONE ? fw_in(nt, md, &t) : v;
	}
	if (idx == TG_NAT_NONE)
		return fw_in(nt, md, &t);
	sess_seen(tab, idx, &t, l4, l4_len, TG_NAT_OUT2IN, sec);
	s = tg_nat_sess_at(tab, idx);
	if (s->flags & TG_NATFW_SF_LOCAL) /* a dynamic entry: the appliance's */
		return t.proto == IPPROTO_TCP && t.sport == TG_NATFW_PPTP_PORT
			       ? tg_natfw_pptp_local(nt, tab, ps, ip, l4_len,
					 idx, false, sec)
			       : TG_V_NEXT;
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_DST, s->priv_ip, s->priv_port) !=
		0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_TCP && t.sport == TG_NATFW_PPTP_PORT) {
		v = tg_natfw_pptp_ctl_in(nt, tab, ps, ip, l4_len, idx, sec);
		if (v != TG_V_NEXT)
			return v;
	}
	return to_transit(md);
}

/* ---- source natfw(out): ICMP policy, dynamic entries ------------------ */

static bool
icmp_out_allowed(const struct tg_cfg_fw_icmp_out *o, uint8_t type, uint8_t code)
{
	switch (type) {
	case 3:
		return code == 4 ? o->packet_too_big
				 : o->destination_unreachable;
	case 4:
		return o->source_quench;
	case 5:
		return o->redirect;
	case 11:
		return o->time_exceeded;
	case 12:
		return o->parameter_problem;
	default:
		return true;
	}
}

static uint16_t
fw_out(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint32_t sec,
	struct tg_natfw_pptp_stats *ps)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len), idx, map;
	uint8_t *l4 = (uint8_t *)ip + md->l3_len;
	uint16_t a = addr_index(nt, rte_be_to_cpu_32(ip->src_addr));
	struct tg_nat_tuple t;
	struct tg_nat_key k;
	int rc;

	if (later_fragment(ip) || a >= nt->n_addr)
		return TG_V_NEXT;
	if (tg_nat_tuple_of(ip, l4_len, &t) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t.icmp_type))
		return !nt->firewall || icmp_out_allowed(&nt->fw->icmp.outbound,
						t.icmp_type, l4[1])
			       ? TG_V_NEXT
			       : V_DROP(ICMP_BLOCKED);
	if (t.proto != IPPROTO_TCP && t.proto != IPPROTO_UDP &&
		t.proto != IPPROTO_ICMP)
		return TG_V_NEXT;
	/* Only requests open an ICMP entry (the reply comes back). */
	if (t.proto == IPPROTO_ICMP && t.icmp_type != 8 && t.icmp_type != 13 &&
		t.icmp_type != 15 && t.icmp_type != 17)
		return TG_V_NEXT;
	/* Without the firewall, entries matter on NAT addresses only: they
	 * keep translations off the ports the appliance uses. */
	if (!nt->firewall && a >= nt->n_nat)
		return TG_V_NEXT;
	key_of(&t, true, &k);
	idx = natfw_lookup(nt, tab, TG_NAT_IN2OUT, &k);
	if (idx == TG_NAT_NONE) {
		rc = map_get(nt, tab, k.proto, k.ip, k.port, a, k.port, k.port,
			k.port, true, &map);
		if (rc == -EADDRINUSE)
			return V_DROP(PORT_IN_USE);
		if (rc < 0)
			return natfw_drop_of(rc);
		rc = tg_nat_sess_create_flags(tab, map, k.rem_ip, k.rem_port,
			sec, tmo_class_of(k.proto), TG_NAT_SF_LOCAL, &idx);
		if (rc == -ENOSPC)
			return V_DROP(DYNAMIC_FULL);
		if (rc < 0)
			return natfw_drop_of(rc);
	}
	sess_seen(tab, idx, &t, l4, l4_len, TG_NAT_IN2OUT, sec);
	if (t.proto == IPPROTO_TCP && t.dport == TG_NATFW_PPTP_PORT)
		return tg_natfw_pptp_local(
			nt, tab, ps, ip, l4_len, idx, true, sec);
	return TG_V_NEXT;
}

/* The private → public packets of a burst, waiting for their sessions:
 * looked up together (tg_nat_sess_lookup_bulk(): the buckets and records
 * of the whole group are fetched from memory at once, where one at a
 * time each lookup waits for its own), then finished in order. */
struct nat_out_batch {
	uint16_t n;
	uint16_t at[TG_NAT_BULK_MAX];
	struct tg_nat_tuple t[TG_NAT_BULK_MAX];
	struct tg_nat_key k[TG_NAT_BULK_MAX];
	uint32_t idx[TG_NAT_BULK_MAX];
};

static void
nat_out_flush(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct nat_out_batch *b, struct rte_mbuf **pkts, uint16_t *verdict,
	uint32_t sec, struct tg_natfw_pptp_stats *ps)
{
	struct tg_nat_key miss[TG_NAT_BULK_MAX];
	uint64_t created = tab->stats.created;
	uint16_t j, n_miss = 0;

	tg_nat_sess_lookup_bulk(tab, TG_NAT_IN2OUT, b->k, b->n, b->idx);
	for (j = 0; j < b->n; j++)
		if (b->idx[j] == TG_NAT_NONE)
			miss[n_miss++] = b->k[j];
	if (n_miss > 0)
		tg_nat_sess_create_prefetch(tab, miss, n_miss);
	for (j = 0; j < b->n; j++) {
		struct rte_mbuf *m = pkts[b->at[j]];

		verdict[b->at[j]] = nat_out_finish(nt, tab, m, tg_pkt_ipv4(m),
			&b->t[j], &b->k[j], b->idx[j],
			tab->stats.created != created, sec, ps);
	}
	b->n = 0;
}

/* A snapshot with another layout (a reload changed addresses, ranges or
 * port mappings): sweep the table for the sessions that no longer fit,
 * from the first record again if a sweep ran. */
static inline void
layout_follow(const struct tg_natfw_table *nt, struct tg_natfw_ctx *c)
{
	if (likely(c->layout == nt->layout))
		return;
	c->layout = nt->layout;
	tg_nat_table_sweep_start(c->sessions);
}

void
tg_natfw_burst(const struct tg_natfw_table *nt, struct tg_natfw_ctx *c,
	struct rte_mbuf **pkts, uint16_t n, uint16_t *verdict, uint64_t now)
{
	uint32_t sec = (uint32_t)(now / c->tsc_hz);
	struct nat_out_batch b;
	uint16_t i, v;

	layout_follow(nt, c);
	b.n = 0;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);

		switch (tg_meta(m)->mode) {
		case TG_MODE_TRANSIT:
			v = nat_out_key(
				nt, c->sessions, m, ip, &b.t[b.n], &b.k[b.n]);
			if (v == NAT_OUT_LOOKUP) {
				b.at[b.n++] = i;
				if (b.n == TG_NAT_BULK_MAX)
					nat_out_flush(nt, c->sessions, &b, pkts,
						verdict, sec, &c->pptp);
				continue;
			}
			verdict[i] = v;
			break;
		case TG_MODE_IN:
			verdict[i] = nt->nat || nt->firewall
					     ? natfw_in(nt, c->sessions, m, ip,
						       sec, &c->pptp)
					     : TG_V_NEXT;
			break;
		case TG_MODE_OUT:
			verdict[i] = nt->nat || nt->firewall
					     ? fw_out(nt, c->sessions, m, ip,
						       sec, &c->pptp)
					     : TG_V_NEXT;
			break;
		default:
			verdict[i] = TG_V_NEXT;
		}
	}
	if (b.n > 0)
		nat_out_flush(
			nt, c->sessions, &b, pkts, verdict, sec, &c->pptp);
}

void
tg_natfw_tick(
	const struct tg_natfw_table *nt, struct tg_natfw_ctx *c, uint64_t now)
{
	/* a reload's new timeouts: compared here, set rarely */
	if (memcmp(c->sessions->timeouts, nt->timeouts, sizeof(nt->timeouts)) !=
		0)
		tg_nat_table_set_timeouts(
			c->sessions, nt->timeouts, TG_NATFW_TMO__COUNT);
	tg_nat_table_expire(
		c->sessions, (uint32_t)(now / c->tsc_hz), c->expire_budget);
	layout_follow(nt, c);
	if (tg_nat_table_sweeping(c->sessions)) {
		tg_nat_table_sweep(
			c->sessions, tg_natfw_sess_fits, nt, c->sweep_budget);
		if (!tg_nat_table_sweeping(c->sessions))
			/* the removed addresses' port spaces are unused:
			 * tg_natfw_build_from() may free them */
			__atomic_store_n(
				&c->swept, c->layout, __ATOMIC_RELEASE);
	}
}

/* ---- explain: the decisions above, read-only ------------------------- */

/* map_get() and sess_new() for a new flow @p k out of port @p tx_if,
 * read-only and in the burst's order: the mapping it takes (the host's
 * existing one for that port: endpoint-independent mapping) or makes
 * (its port as port_pick() would choose it now), then the session's
 * room and the host's. 0, or the drop. The control session a PPTP
 * message would see is w->sess's priv_ip, rem_ip and addr. */
static uint16_t
x_new_flow(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint16_t tx_if, const struct tg_nat_key *k, struct tg_natfw_why *w)
{
	uint16_t a = nt->nat_addr_of_port[tx_if];
	struct tg_nat_map mp;
	int rc;

	rc = tg_nat_map_peek(tab, k->proto, k->ip, k->port, nt->slot[a],
		nt->port_lo[a], nt->port_hi[a], k->port, &mp);
	if (rc < 0)
		return natfw_drop_of(rc);
	w->what = rc == 0 ? TG_NATFW_WHY_MAPPING : TG_NATFW_WHY_NEW_MAPPING;
	w->pub_ip = rc == 0 ? tab->public_ips[mp.addr] : nt->addr[a];
	w->pub_port = mp.pub_port;
	w->sess.priv_ip = k->ip;
	w->sess.rem_ip = k->rem_ip;
	w->sess.addr = mp.addr;
	rc = tg_nat_sess_create_peek(tab, k->ip, false);
	return rc != 0 ? natfw_drop_of(rc) : 0;
}

bool
natfw_find(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	enum tg_nat_dir dir, const struct tg_nat_key *k,
	struct tg_nat_sess *copy)
{
	if (tg_nat_sess_find(tab, dir, k, copy) != 0)
		return false;
	return map_fits(
		nt, tab, copy->map, (copy->flags & TG_NATFW_SF_LOCAL) != 0);
}

/* The mapping that holds public port @p port of NAT address @p a, as a
 * copy read off the writer lcore (tg_nat_map_find_public()). */
static inline bool
x_map_public(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint16_t a, uint8_t proto, uint16_t port, struct tg_nat_map *c)
{
	return tg_nat_map_find_public(tab, nt->slot[a], proto, port, c) == 0;
}

static inline bool
x_find(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	enum tg_nat_dir dir, const struct tg_nat_key *k, struct tg_natfw_why *w)
{
	return natfw_find(nt, tab, dir, k, &w->sess);
}

static uint16_t
x_out(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, struct tg_natfw_why *w)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len);
	struct tg_nat_tuple t, in;
	struct tg_nat_key k;

	if (!nt->nat || md->rx_if >= RTE_MAX_ETHPORTS ||
		md->tx_if >= RTE_MAX_ETHPORTS ||
		nt->role[md->rx_if] != TG_NATFW_PRIVATE ||
		nt->role[md->tx_if] != TG_NATFW_PUBLIC) {
		w->what = TG_NATFW_WHY_NOT_NAT;
		return TG_V_NEXT;
	}
	if (later_fragment(ip))
		return V_DROP(FRAGMENT);
	if (tg_nat_tuple_of(ip, l4_len, &t) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t.icmp_type)) {
		if (tg_nat_icmp_error_inner(ip, l4_len, &in) != 0)
			return V_DROP(SHORT_L4);
		key_of(&in, false, &k);
		if (!x_find(nt, tab, TG_NAT_IN2OUT, &k, w))
			return V_DROP(PROTOCOL);
		w->what = TG_NATFW_WHY_SESSION;
		if (tg_nat_rewrite_icmp_error(ip, l4_len, TG_NAT_SRC,
			    w->sess.pub_ip, w->sess.pub_ip,
			    w->sess.pub_port) != 0)
			return V_DROP(SHORT_L4);
		md->flags |= TG_META_F_NAT;
		return TG_V_NEXT;
	}
	if (t.proto == IPPROTO_GRE) {
		/* nat_out_key() and tg_natfw_pptp_gre_out(): PPTP's GRE, by
		 * the call its control connection set up */
		if (tg_natfw_gre_call((uint8_t *)ip + md->l3_len, l4_len,
			    &t.dport, NULL) != 0)
			return V_DROP(GRE_NOT_PPTP);
		key_of(&t, true, &k);
		if (!x_find(nt, tab, TG_NAT_IN2OUT, &k, w) ||
			w->sess.state != TG_NATFW_GRE_OUT ||
			(w->sess.flags & TG_NAT_SF_LOCAL))
			return V_DROP(GRE_NO_CALL);
		w->what = TG_NATFW_WHY_PPTP_CALL;
		if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, w->sess.pub_ip, 0) !=
			0)
			return V_DROP(SHORT_L4);
		md->flags |= TG_META_F_NAT;
		return TG_V_NEXT;
	}
	if (t.proto != IPPROTO_TCP && t.proto != IPPROTO_UDP &&
		t.proto != IPPROTO_ICMP)
		return V_DROP(PROTOCOL);
	key_of(&t, true, &k);
	if (x_find(nt, tab, TG_NAT_IN2OUT, &k, w)) {
		w->what = TG_NATFW_WHY_SESSION;
		w->pub_ip = w->sess.pub_ip;
		w->pub_port = w->sess.pub_port;
	} else {
		uint16_t v = x_new_flow(nt, tab, md->tx_if, &k, w);

		if (v != 0)
			return v;
	}
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, w->pub_ip, w->pub_port) != 0)
		return V_DROP(SHORT_L4);
	md->flags |= TG_META_F_NAT;
	if (t.proto == IPPROTO_TCP && t.dport == TG_NATFW_PPTP_PORT)
		return tg_natfw_pptp_explain(nt, tab, ip, l4_len, &w->sess,
			TG_NATFW_PPTP_CLIENT, &w->pptp);
	return TG_V_NEXT;
}

static uint16_t
x_fw_in(const struct tg_natfw_table *nt, const struct tg_meta *md,
	const struct tg_nat_tuple *t, struct tg_natfw_why *w)
{
	uint16_t v;

	w->exception = UINT32_MAX;
	v = fw_in_why(nt, md, t, &w->exception);
	if (!nt->firewall)
		w->what = TG_NATFW_WHY_NO_FIREWALL;
	else if (md->flags & TG_META_F_IPSEC_BYPASS)
		w->what = TG_NATFW_WHY_BYPASS;
	else if (w->exception != UINT32_MAX)
		w->what = TG_NATFW_WHY_EXCEPTION;
	else if (t->proto == IPPROTO_ICMP)
		w->what = TG_NATFW_WHY_ICMP_POLICY;
	else
		w->what = TG_NATFW_WHY_NO_EXCEPTION;
	return v;
}

/* hairpin(), read-only: a private host to a NAT address and port a
 * translation owns. → NAT_IN_NONE (not a hairpin), or the verdict with
 * both rewrites done on the packet. */
static uint16_t
x_hairpin(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	const struct tg_nat_tuple *t, uint16_t a, struct tg_natfw_why *w)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len), so_ip;
	struct tg_nat_map mc;
	bool found;
	const struct tg_natfw_pmap *p = NULL;
	struct tg_nat_key ko, ki;
	uint16_t so_port;

	if (t->proto != IPPROTO_TCP && t->proto != IPPROTO_UDP &&
		t->proto != IPPROTO_ICMP)
		return NAT_IN_NONE;
	/* the sender's side: its session towards the public endpoint, or
	 * the one it would get (its own port when free) */
	key_of(t, true, &ko);
	if (x_find(nt, tab, TG_NAT_IN2OUT, &ko, w)) {
		if (w->sess.flags & TG_NATFW_SF_LOCAL)
			return NAT_IN_NONE;
		so_ip = w->sess.pub_ip;
		so_port = w->sess.pub_port;
	} else {
		found = x_map_public(nt, tab, a, t->proto, ko.rem_port, &mc);
		if (t->proto == IPPROTO_ICMP ||
			((!found || mc.priv_ip == nt->addr[a]) &&
				pmap_find(nt, t->proto, a, t->dport) == NULL))
			return NAT_IN_NONE;
		so_ip = nt->addr[a];
		so_port = x_map_public(nt, tab, a, ko.proto, ko.port, &mc)
				  ? 0
				  : ko.port;
	}
	/* the receiver's side, as if the packet came from outside */
	memset(&ki, 0, sizeof(ki));
	ki.proto = t->proto;
	ki.ip = t->dst;
	ki.port = t->dport;
	ki.rem_ip = so_ip;
	ki.rem_port = t->proto == IPPROTO_ICMP ? 0 : so_port;
	if (x_find(nt, tab, TG_NAT_OUT2IN, &ki, w)) {
		if (w->sess.flags & TG_NATFW_SF_LOCAL)
			return V_DROP(NO_EXCEPTION);
	} else {
		if (x_map_public(nt, tab, a, ki.proto, ki.port, &mc) &&
			nt->filtering == TG_CFG_NAT_FILTER_ENDPOINT_INDEP &&
			mc.priv_ip != nt->addr[a]) {
			w->sess.priv_ip = mc.priv_ip;
			w->sess.priv_port = mc.priv_port;
		} else if ((p = pmap_find(nt, ki.proto, a, ki.port)) != NULL) {
			w->sess.priv_ip = p->private_ip;
			w->sess.priv_port = p->private_port;
		} else {
			return V_DROP(NO_EXCEPTION);
		}
	}
	w->what = TG_NATFW_WHY_HAIRPIN;
	w->pub_ip = so_ip;
	w->pub_port = so_port;
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, so_ip, so_port) != 0 ||
		tg_nat_rewrite(ip, l4_len, TG_NAT_DST, w->sess.priv_ip,
			w->sess.priv_port) != 0)
		return V_DROP(SHORT_L4);
	return to_transit(md);
}

static uint16_t
x_in(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, struct tg_natfw_why *w)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len);
	uint16_t a = addr_index(nt, rte_be_to_cpu_32(ip->dst_addr));
	const struct tg_natfw_pmap *p;
	struct tg_nat_map mc;
	bool found;
	struct tg_nat_tuple t, in;
	struct tg_nat_key k;

	if (later_fragment(ip))
		return a < nt->n_nat ? V_DROP(FRAGMENT) : TG_V_NEXT;
	if (tg_nat_tuple_of(ip, l4_len, &t) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t.icmp_type)) {
		if (tg_nat_icmp_error_inner(ip, l4_len, &in) != 0)
			return x_fw_in(nt, md, &t, w);
		key_of(&in, true, &k);
		if (!x_find(nt, tab, TG_NAT_OUT2IN, &k, w))
			return x_fw_in(nt, md, &t, w);
		if (w->sess.flags & TG_NATFW_SF_LOCAL) {
			w->what = TG_NATFW_WHY_DYN_ENTRY;
			return TG_V_NEXT;
		}
		w->what = TG_NATFW_WHY_SESSION;
		if (tg_nat_rewrite_icmp_error(ip, l4_len, TG_NAT_DST,
			    w->sess.priv_ip, w->sess.priv_ip,
			    w->sess.priv_port) != 0)
			return V_DROP(SHORT_L4);
		return to_transit(md);
	}
	if (t.proto == IPPROTO_GRE) {
		/* tg_natfw_pptp_gre_in(): a call's GRE is translated (or,
		 * the appliance's own call, let in); the rest is the
		 * firewall's */
		uint8_t *gre = (uint8_t *)ip + md->l3_len;
		uint16_t cid;
		uint32_t off;

		if (tg_natfw_gre_call(gre, l4_len, &cid, &off) != 0)
			return x_fw_in(nt, md, &t, w);
		memset(&k, 0, sizeof(k));
		k.proto = IPPROTO_GRE;
		k.ip = rte_be_to_cpu_32(ip->dst_addr);
		k.port = cid;
		k.rem_ip = rte_be_to_cpu_32(ip->src_addr);
		if (!x_find(nt, tab, TG_NAT_OUT2IN, &k, w) ||
			w->sess.state != TG_NATFW_GRE_IN)
			return x_fw_in(nt, md, &t, w);
		w->what = TG_NATFW_WHY_PPTP_CALL;
		if (w->sess.flags & TG_NAT_SF_LOCAL)
			return TG_V_NEXT;
		if (tg_nat_rewrite(
			    ip, l4_len, TG_NAT_DST, w->sess.priv_ip, 0) != 0)
			return V_DROP(SHORT_L4);
		memcpy(gre + off,
			&(uint16_t){rte_cpu_to_be_16(w->sess.priv_port)}, 2);
		return to_transit(md);
	}
	if (nt->nat && a < nt->n_nat && md->rx_if < RTE_MAX_ETHPORTS &&
		nt->role[md->rx_if] == TG_NATFW_PRIVATE) {
		uint16_t v = x_hairpin(nt, tab, m, ip, &t, a, w);

		if (v != NAT_IN_NONE)
			return v;
	}
	key_of(&t, false, &k);
	if (x_find(nt, tab, TG_NAT_OUT2IN, &k, w)) {
		if (w->sess.flags & TG_NATFW_SF_LOCAL) {
			w->what = TG_NATFW_WHY_DYN_ENTRY;
			return t.proto == IPPROTO_TCP &&
					       t.sport == TG_NATFW_PPTP_PORT
				       ? tg_natfw_pptp_explain(nt, tab, ip,
						 l4_len, &w->sess,
						 TG_NATFW_PPTP_LOCAL_IN,
						 &w->pptp)
				       : TG_V_NEXT;
		}
		w->what = TG_NATFW_WHY_SESSION;
	} else if (nt->nat && a < nt->n_nat) {
		/* nat_in_new(): an endpoint-independent mapping, then a
		 * port mapping, would take it */
		found = x_map_public(nt, tab, a, k.proto, k.port, &mc);
		p = k.proto == IPPROTO_ICMP ? NULL
					    : pmap_find(nt, k.proto, a, k.port);
		if (found &&
			nt->filtering == TG_CFG_NAT_FILTER_ENDPOINT_INDEP &&
			mc.priv_ip != nt->addr[a]) {
			w->what = TG_NATFW_WHY_EIF;
			w->sess.priv_ip = mc.priv_ip;
			w->sess.priv_port = mc.priv_port;
		} else if (p != NULL) {
			w->what = TG_NATFW_WHY_PORT_MAPPING;
			w->sess.priv_ip = p->private_ip;
			w->sess.priv_port = p->private_port;
		} else {
			return x_fw_in(nt, md, &t, w);
		}
	} else {
		return x_fw_in(nt, md, &t, w);
	}
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_DST, w->sess.priv_ip,
		    w->sess.priv_port) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_TCP && t.sport == TG_NATFW_PPTP_PORT) {
		uint16_t v;

		if (w->what != TG_NATFW_WHY_SESSION) {
			/* the session nat_in_new() would make */
			w->sess.rem_ip = t.src;
			w->sess.addr = nt->slot[a];
		}
		v = tg_natfw_pptp_explain(nt, tab, ip, l4_len, &w->sess,
			TG_NATFW_PPTP_SERVER, &w->pptp);
		if (v != TG_V_NEXT)
			return v;
	}
	return to_transit(md);
}

static uint16_t
x_fw_out(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	struct rte_mbuf *m, struct rte_ipv4_hdr *ip, struct tg_natfw_why *w)
{
	struct tg_meta *md = tg_meta(m);
	uint32_t l4_len = l4_len_of(m, ip, md->l3_len);
	uint8_t *l4 = (uint8_t *)ip + md->l3_len;
	uint16_t a = addr_index(nt, rte_be_to_cpu_32(ip->src_addr));
	struct tg_nat_tuple t;
	struct tg_nat_key k;
	struct tg_nat_map mc;

	if (later_fragment(ip) || a >= nt->n_addr)
		return TG_V_NEXT;
	if (tg_nat_tuple_of(ip, l4_len, &t) != 0)
		return V_DROP(SHORT_L4);
	if (t.proto == IPPROTO_ICMP && !tg_nat_icmp_is_query(t.icmp_type)) {
		w->what = TG_NATFW_WHY_ICMP_POLICY;
		return !nt->firewall || icmp_out_allowed(&nt->fw->icmp.outbound,
						t.icmp_type, l4[1])
			       ? TG_V_NEXT
			       : V_DROP(ICMP_BLOCKED);
	}
	if ((t.proto != IPPROTO_TCP && t.proto != IPPROTO_UDP &&
		    t.proto != IPPROTO_ICMP) ||
		(t.proto == IPPROTO_ICMP && t.icmp_type != 8 &&
			t.icmp_type != 13 && t.icmp_type != 15 &&
			t.icmp_type != 17) ||
		(!nt->firewall && a >= nt->n_nat))
		return TG_V_NEXT;
	key_of(&t, true, &k);
	if (x_find(nt, tab, TG_NAT_IN2OUT, &k, w)) {
		w->what = TG_NATFW_WHY_DYN_ENTRY;
	} else {
		w->sess.priv_ip = k.ip; /* the entry's, for a PPTP message */
		w->sess.rem_ip = k.rem_ip;
		w->sess.addr = nt->slot[a];
		/* fw_out() would reserve the port: one a translation holds
		 * cannot be the appliance's */
		if (a < nt->n_nat &&
			x_map_public(nt, tab, a, k.proto, k.port, &mc))
			return V_DROP(PORT_IN_USE);
		if (!tg_nat_sess_room(tab, true))
			return V_DROP(DYNAMIC_FULL);
		w->what = TG_NATFW_WHY_NEW_DYN_ENTRY;
	}
	if (t.proto == IPPROTO_TCP && t.dport == TG_NATFW_PPTP_PORT)
		return tg_natfw_pptp_explain(nt, tab, ip, l4_len, &w->sess,
			TG_NATFW_PPTP_LOCAL_OUT, &w->pptp);
	return TG_V_NEXT;
}

uint16_t
tg_natfw_explain(const struct tg_natfw_table *nt, const struct tg_natfw_ctx *c,
	struct rte_mbuf *m, struct tg_natfw_why *why)
{
	struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);

	memset(why, 0, sizeof(why[0]));
	if (c == NULL)
		return TG_V_NEXT;
	switch (tg_meta(m)->mode) {
	case TG_MODE_TRANSIT:
		return x_out(nt, c->sessions, m, ip, why);
	case TG_MODE_IN:
		return nt->nat || nt->firewall
			       ? x_in(nt, c->sessions, m, ip, why)
			       : TG_V_NEXT;
	case TG_MODE_OUT:
		return nt->nat || nt->firewall
			       ? x_fw_out(nt, c->sessions, m, ip, why)
			       : TG_V_NEXT;
	default:
		return TG_V_NEXT;
	}
}
