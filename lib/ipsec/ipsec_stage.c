/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec stage, dataplane: SPD and SAD lookups for a burst, SA lifetimes,
 * crypto enqueue, and the completions: counters, the decrypted packet's
 * validation and policy check, and where each packet continues.
 * Hot path: no locks, no allocation, no logging; never waits for the
 * crypto device.
 */
#include <string.h>

#include <netinet/in.h>
#include <rte_esp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ipsec_sad.h>
#include <rte_prefetch.h>

#include "ipsec_internal.h"
#include "ipsec_stage_priv.h"

#define TG_X_NAME(n, s, d) s,
#define TG_X_DESC(n, s, d) d,
const char *const tg_ipsec_drop_names[TG_IPSEC_DROP__COUNT] = {
	TG_IPSEC_DROPS(TG_X_NAME)};
const char *const tg_ipsec_drop_descs[TG_IPSEC_DROP__COUNT] = {
	TG_IPSEC_DROPS(TG_X_DESC)};
#undef TG_X_NAME
#undef TG_X_DESC

#define CHUNK	TG_IPSEC_BURST_MAX
#define DROP(r) TG_V_DROP(TG_IPSEC_DROP_##r)

static inline uint32_t
l3_avail(const struct rte_mbuf *m)
{
	return rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN;
}

/* The SPD lookup; a disabled table (ipsec turned off while packets were
 * in the device) has no SPD and matches nothing. */
static inline void
spd_lookup(const struct tg_ipsec_table *t, enum tg_ipsec_dir dir,
	const uint8_t *const *keys, uint32_t n, uint32_t *res)
{
	if (n == 0)
		return;
	if (t->spd == NULL ||
		tg_ipsec_spd_lookup(t->spd, dir, keys, n, res) != 0)
		memset(res, 0, sizeof(*res) * n);
}

/* Lifetime (hard limits, as Linux XFRM checks them: refuse once the SA
 * has carried the limit). Outbound counts at enqueue, so @p pend_pkts and
 * @p pend_bytes are those of the batch being built; inbound counts after
 * decryption, so what is in the device counts as packets already. */
static inline bool
sa_admit(struct tg_ipsec_sa *sa, uint32_t pend_pkts, uint64_t pend_bytes)
{
	const struct tg_ipsec_lifetime *lt = &sa->prm.lifetime;
	uint64_t p;

	/* limited first: prm is lines away from what a packet reads */
	if (likely(!sa->limited) || (lt->hard_packets | lt->hard_bytes) == 0)
		return true;
	p = sa->st.packets + pend_pkts +
	    (sa->dir == TG_IPSEC_DIR_INBOUND ? sa->st.inflight : 0);
	if ((lt->hard_packets != 0 && p >= lt->hard_packets) ||
		(lt->hard_bytes != 0 &&
			sa->st.bytes + pend_bytes >= lt->hard_bytes)) {
		sa->st.hard_reached = 1;
		return false;
	}
	return true;
}

static inline void
sa_count(struct tg_ipsec_sa *sa, uint32_t pkts, uint64_t bytes)
{
	const struct tg_ipsec_lifetime *lt = &sa->prm.lifetime;

	sa->st.packets += pkts;
	sa->st.bytes += bytes;
	if (unlikely(sa->limited) &&
		unlikely((lt->soft_packets | lt->soft_bytes) != 0) &&
		((lt->soft_packets != 0 &&
			 sa->st.packets >= lt->soft_packets) ||
			(lt->soft_bytes != 0 &&
				sa->st.bytes >= lt->soft_bytes)))
		sa->st.soft_reached = 1;
}

/* An inbound ESP packet whose length cannot be a valid packet of @p sa
 * (RFC 4303 2.4: the ciphertext is whole blocks, and holds at least
 * the 2-byte trailer). rte_ipsec would refuse it in preparation, where
 * it could not be told from a replay. */
static inline bool
esp_len_bad(const struct tg_ipsec_sa *sa, uint32_t ip_len, uint32_t hl)
{
	int32_t ct = (int32_t)ip_len - (int32_t)hl -
		     (int32_t)sizeof(struct rte_esp_hdr) - sa->iv_len -
		     sa->icv_len;

	return ct < 2 || (ct & (sa->block - 1)) != 0;
}

/* The last next hop adj_ready() looked up in forward's cache, for one
 * burst: with many SAs a run is one packet long, and their tunnels
 * mostly share a gateway (the cache cannot change within the burst:
 * forward runs on this lcore, between bursts). */
struct adj_memo {
	bool valid, ok;
	uint16_t port;
	uint32_t nh_ip;
	struct rte_ether_addr mac;
};

/*
 * The tunnel's next hop as forward would use it now (@p ts: one SA's,
 * resolved with the table): its neighbor's MAC address, when the stage
 * may send the ESP there itself. No: the tunnel path, where forward
 * resolves, holds or re-probes.
 */
static inline bool
adj_ready(const struct tg_ipsec_table *t, const struct tg_ipsec_stage *st,
	const struct tg_ipsec_tsa *ts, struct adj_memo *mo,
	struct rte_ether_addr *mac)
{
	if (ts == NULL || !ts->adj_ok || st->fwd_ctx == NULL || t->fwd == NULL)
		return false;
	if (ts->adj_l3) {
		/* TX takes the header off again (forward does the same) */
		memcpy(mac, ts->adj_src_et, sizeof(*mac));
		return true;
	}
	if (!mo->valid || mo->nh_ip != ts->adj_nh_ip ||
		mo->port != ts->adj_port) {
		mo->ok = tg_forward_neigh_usable(t->fwd, st->fwd_ctx,
			ts->adj_nh_ip, ts->adj_port, &mo->mac);
		mo->nh_ip = ts->adj_nh_ip;
		mo->port = ts->adj_port;
		mo->valid = true;
	}
	*mac = mo->mac;
	return mo->ok;
}

/*
 * Decrypted packets waiting to be received anew and checked against the
 * policies: gathered over all the SA runs of a burst and done together
 * (one validation pass and one SPD lookup for all of them; with many
 * SAs a run is one packet long). vp: where each one's verdict goes.
 */
struct inner {
	uint16_t n;
	struct rte_mbuf *m[CHUNK];
	struct tg_ipsec_sa *sa[CHUNK];
	/* the SA in this table (NULL: unknown, the lookaside completions
	 * of drain(), which may belong to an earlier table) */
	const struct tg_ipsec_tsa *ts[CHUNK];
	uint16_t *vp[CHUNK];
	uint16_t rx_if[CHUNK];
};

static void
inner_check(const struct tg_ipsec_table *t, const struct tg_local_set *local,
	struct inner *in)
{
	struct tg_acl_key key[CHUNK];
	const uint8_t *kp[CHUNK];
	uint32_t res[CHUNK], pr[CHUNK];
	uint16_t ki[CHUNK], nk = 0, j, run, rv[CHUNK];
	uint8_t traced[CHUNK];

	/* The inner packets are received anew: validated, and sent to the
	 * target or the transit path by their destination; one call per
	 * run of the same receiving port (usually the whole lot). A packet
	 * a trace marked stays marked (its meta was just read: the line is
	 * at hand). */
	for (j = 0; j < in->n; j++)
		traced[j] = tg_meta(in->m[j])->flags & TG_META_F_TRACE;
	for (j = 0; j < in->n; j += run) {
		for (run = 1;
			j + run < in->n && in->rx_if[j + run] == in->rx_if[j];
			run++)
			;
		tg_pkt_rx_burst(in->m + j, run, in->rx_if[j], local, rv + j);
	}
	for (j = 0; j < in->n; j++)
		tg_meta(in->m[j])->flags |= traced[j];
	for (j = 0; j < in->n; j++) {
		struct rte_mbuf *m = in->m[j];
		const struct tg_ipsec_tsa *ts = in->ts[j];

		if (rv[j] != TG_V_NEXT || tg_meta(m)->path == TG_PATH_ARP) {
			*in->vp[j] = DROP(INNER_INVALID);
			in->m[j] = NULL;
			continue;
		}
		/* The SA's own rules when they answer exactly as the SPD
		 * would (tg_ipsec_spd.h); the SPD for the rest. */
		if (ts != NULL && ts->sel.direct) {
			pr[j] = tg_ipsec_sels_match(
				&ts->sel, tg_pkt_ipv4(m), l3_avail(m));
			continue;
		}
		tg_ipsec_spd_key_make(tg_pkt_ipv4(m), l3_avail(m), &key[nk]);
		kp[nk] = (const uint8_t *)&key[nk];
		ki[nk++] = j;
	}
	spd_lookup(t, TG_IPSEC_DIR_INBOUND, kp, nk, res);
	for (j = 0; j < nk; j++)
		pr[ki[j]] = res[j];
	for (j = 0; j < in->n; j++) {
		struct rte_mbuf *m = in->m[j];
		struct tg_ipsec_sa *sa = in->sa[j];
		struct tg_meta *md;
		uint16_t *v = in->vp[j];
		const struct tg_ipsec_pol *p;
		uint32_t r = pr[j];

		if (m == NULL)
			continue; /* invalid, dropped above */
		md = tg_meta(m);

		/* It must have come through the SA the policy names (the
		 * same object: an SA replaced by a reload is another). */
		p = r != 0 ? &t->pol[r - 1] : NULL;
		if (p == NULL || p->action != TG_CFG_IPSEC_PROTECT ||
			p->sa_in == TG_CFG_IPSEC_NO_SA ||
			t->sas[p->sa_in].sa != sa ||
			(sa->mode == TG_IPSEC_MODE_TRANSPORT &&
				md->path != TG_PATH_TARGET)) {
			*v = DROP(POLICY_MISMATCH);
			continue;
		}
		t->hits[r - 1].in++;
		md->flags |= TG_META_F_IPSEC_IN |
			     (t->bypass ? TG_META_F_IPSEC_BYPASS : 0);
		/* rx_burst put it at step 0 of its path: the target path
		 * continues after ipsec(in), transit from its start. */
		*v = md->path == TG_PATH_TARGET ? TG_V_NEXT
						: TG_V_GOTO(TG_STAGE_NONE);
	}
	in->n = 0;
}

/* Where completed packets go (*@p vp[j] for mb[j]), and their counters;
 * decrypted ones join @p in for inner_check(). @p ts: the SA of the
 * whole lot in this table: outbound, its tunnel output may go straight to
 * TX; inbound, its own policy check (NULL: every tunnel packet takes the
 * tunnel path, every inner packet is checked through the SPD). */
static void
finish(const struct tg_ipsec_table *t, const struct tg_ipsec_stage *st,
	struct rte_mbuf **mb, struct tg_ipsec_sa *const *sas,
	const struct tg_ipsec_tsa *ts, struct adj_memo *mo, bool tun_cksum,
	uint16_t n, uint16_t *const *vp, struct inner *in)
{
	struct rte_ether_addr nh_mac;
	bool direct = adj_ready(t, st, ts, mo, &nh_mac);
	uint16_t j;

	for (j = 0; j < n; j++) {
		struct rte_mbuf *m = mb[j];
		struct tg_ipsec_sa *sa = sas[j];
		struct tg_meta *md = tg_meta(m);
		struct rte_ether_hdr *eth;
		uint32_t seq = md->nh_ip;

		if (sa->mode == TG_IPSEC_MODE_TUNNEL) {
			/* rte_ipsec took the L2 header off: one in front
			 * again, so that the rest of the path sees the
			 * frame format it always sees. */
			eth = (struct rte_ether_hdr *)rte_pktmbuf_prepend(
				m, sizeof(*eth));
			if (unlikely(eth == NULL)) {
				*vp[j] = DROP(MALFORMED);
				continue;
			}
			memset(eth, 0, 2 * RTE_ETHER_ADDR_LEN);
			eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		}
		if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
			if (sa->mode == TG_IPSEC_MODE_TRANSPORT) {
				/* Same destination, same next hop: on to TX
				 * as forward routed it. */
				*vp[j] = TG_V_NEXT;
				continue;
			}
			md->l3_len = sizeof(struct rte_ipv4_hdr);
			if (tun_cksum)
				tg_ipsec_tun_cksum(
					rte_pktmbuf_mtod_offset(m,
						struct rte_ipv4_hdr *,
						RTE_ETHER_HDR_LEN),
					sa);
			if (direct && m->pkt_len - RTE_ETHER_HDR_LEN <=
					      ts->adj_mtu) {
				/* Its next hop is ready: sent as forward
				 * would send it, without forward. */
				uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);

				memcpy(h, &nh_mac, RTE_ETHER_ADDR_LEN);
				memcpy(h + RTE_ETHER_ADDR_LEN, ts->adj_src_et,
					8);
				md->tx_if = ts->adj_port;
				md->nh_ip = ts->adj_nh_ip;
				md->path = TG_PATH_TUNNEL_DIRECT;
				*vp[j] = TG_V_GOTO(TG_STAGE_NONE);
				continue;
			}
			/* To the tunnel's far end: routed anew. */
			md->path = TG_PATH_TUNNEL;
			*vp[j] = TG_V_GOTO(TG_STAGE_FORWARD);
			continue;
		}
		sa_count(sa, 1, m->pkt_len - RTE_ETHER_HDR_LEN);
		if (seq > sa->st.seq)
			sa->st.seq = seq;
		in->m[in->n] = m;
		in->sa[in->n] = sa;
		in->ts[in->n] = ts;
		in->vp[in->n] = vp[j];
		in->rx_if[in->n++] = md->rx_if;
	}
}

/* A failed operation: why, as far as the result tells. */
static uint16_t
failure(struct rte_mbuf *m, struct tg_ipsec_sa *sa)
{
	const uint8_t *l3;

	if (sa == NULL)
		return DROP(CRYPTO_FAILED);
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
		sa->st.err_other++;
		return DROP(CRYPTO_FAILED);
	}
	if (m->ol_flags & RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED) {
		sa->st.err_auth++;
		return DROP(AUTH_FAILED);
	}
	/* rte_ipsec refuses a bad trailer before it touches the packet,
	 * and a replay (a duplicate within one burst) after it removed the
	 * ESP header: the IP protocol still being ESP tells them apart. */
	l3 = rte_pktmbuf_mtod_offset(m, const uint8_t *, m->l2_len);
	if (rte_pktmbuf_data_len(m) >=
			m->l2_len + sizeof(struct rte_ipv4_hdr) &&
		l3[offsetof(struct rte_ipv4_hdr, next_proto_id)] ==
			IPPROTO_ESP) {
		sa->st.err_other++;
		return DROP(BAD_TRAILER);
	}
	sa->st.err_replay++;
	return DROP(REPLAY);
}

/*
 * Prefetching the runs' SA state ahead. With thousands of SAs every run
 * meets an SA, an rte_ipsec SA (with its replay state) and a crypto
 * session (the PMD's keys, GHASH tables and job parameters) that are out
 * of the caches, and with CPU crypto each run is its own call: the misses
 * come one after the other, where a device working through a queue of
 * operations would overlap them. So the runs of a burst are listed first,
 * and while one runs, the SA struct of the run PF_HEAD ahead and the
 * library state of the run PF_STATE ahead (read from that SA's first
 * line, fetched earlier) are on their way.
 */
#define PF_HEAD 4
/* One run ahead: some 30 lines per SA; two runs' worth in flight kept the
 * prefetch instructions waiting for miss buffers (10,000 SAs: encrypt
 * -7 %, decrypt -2 to -3 % against two runs ahead). */
#define PF_STATE 1
/* Only with more SAs than this in the table: below, their state (some
 * 2 KiB each with the lines below) stays in L2, and the prefetches
 * cost more than they save (100 SAs: +5 to +8 %; 1,000 SAs: even to
 * -14 %; docs/benchmarks.md). */
#define PF_MIN_SAS 256

static inline void
pf_sa_head(const struct tg_ipsec_sa *sa)
{
	rte_prefetch0(sa);
	rte_prefetch0(RTE_PTR_ADD(sa, RTE_CACHE_LINE_SIZE));
}

/* The whole of both: the PMD reads lines far apart in its session (with
 * aesni_mb the keys at the start, the digest and AAD lengths 1.1 and
 * 1.4 KiB in), and which ones is the PMD's business. */
static inline void
pf_sa_state(const struct tg_ipsec_sa *sa)
{
	const void *r = sa->ss.sa, *c = sa->ss.crypto.ses;
	unsigned int k;

	for (k = 0; r != NULL && k < sa->rsa_lines; k++)
		rte_prefetch0(RTE_PTR_ADD(r, k * RTE_CACHE_LINE_SIZE));
	for (k = 0; c != NULL && k < sa->sess_lines; k++)
		rte_prefetch0(RTE_PTR_ADD(c, k * RTE_CACHE_LINE_SIZE));
}

struct batch {
	struct tg_ipsec_sa *sa;
	const struct tg_ipsec_tsa *ts; /* the SA in the table */
	struct adj_memo memo;	       /* for the whole burst */
	uint16_t n;
	uint64_t bytes;
	struct rte_mbuf *m[CHUNK];
	uint32_t len[CHUNK]; /* IP length by place in the burst, taken
				before the device has the packet */
	uint8_t idx[CHUNK];
};

/*
 * CPU crypto: the batch is done when the call returns, so each packet
 * gets its final verdict in this burst, with nothing held. The library
 * reorders the batch; each packet's place in the burst rides in its meta.
 */
static void
batch_cpu(const struct tg_ipsec_table *t, const struct tg_ipsec_stage *st,
	struct batch *b, uint16_t *verdict, struct inner *in)
{
	struct tg_ipsec_sa *sa = b->sa, *sas[CHUNK];
	uint16_t g, np, j, idx[CHUNK], *vp[CHUNK];
	uint64_t bytes = 0;

	for (j = 0; j < b->n; j++)
		tg_meta(b->m[j])->scratch = b->idx[j];
	g = tg_ipsec_cpu_run(sa, b->m, b->n, &np, false);
	for (j = 0; j < b->n; j++) {
		idx[j] = tg_meta(b->m[j])->scratch;
		sas[j] = sa;
		vp[j] = &verdict[idx[j]];
	}
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
		for (j = 0; j < g; j++)
			bytes += b->len[idx[j]];
		sa_count(sa, g, bytes);
	}
	finish(t, st, b->m, sas, b->ts, &b->memo, true, g, vp, in);
	for (j = g; j < np; j++)
		verdict[idx[j]] = failure(b->m[j], sa);
	for (; j < b->n; j++) {
		if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
			verdict[idx[j]] = DROP(SEQ_OVERFLOW);
			sa->st.err_other++;
		} else {
			verdict[idx[j]] = DROP(REPLAY);
			sa->st.err_replay++;
		}
	}
	b->n = 0;
	b->bytes = 0;
}

static void
batch_flush(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	struct batch *b, uint16_t *verdict, struct inner *in)
{
	struct tg_ipsec_sa *sa = b->sa;
	uint16_t e, np, j;

	if (b->n == 0)
		return;
	if (sa->sync) {
		batch_cpu(t, st, b, verdict, in);
		return;
	}
	e = tg_ipsec_crypto_enqueue(st->ctx, sa, b->m, b->n, &np);
	for (j = 0; j < e; j++)
		verdict[b->idx[j]] = TG_V_STOLEN;
	for (; j < np; j++)
		verdict[b->idx[j]] = DROP(CRYPTO_QUEUE_FULL);
	for (; j < b->n; j++)
		verdict[b->idx[j]] = sa->dir == TG_IPSEC_DIR_OUTBOUND
					     ? DROP(SEQ_OVERFLOW)
					     : DROP(REPLAY);
	sa->st.err_other += np - e;
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
		uint64_t bytes = 0;

		/* What went in is counted; the rest is not on the wire. */
		for (j = 0; j < e; j++)
			bytes += b->len[b->idx[j]];
		sa_count(sa, e, bytes);
		sa->st.err_other += b->n - np;
	} else {
		sa->st.err_replay += b->n - np;
	}
	__atomic_store_n(&st->inflight, st->inflight + e, __ATOMIC_RELAXED);
	b->n = 0;
	b->bytes = 0;
}

/* Completed operations, as many as @p emit has room for. */
static void
drain(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct tg_emit *emit)
{
	struct rte_mbuf *mb[CHUNK];
	struct tg_ipsec_sa *sas[CHUNK];
	uint16_t nr, ng, j, v[CHUNK], *vp[CHUNK];
	struct adj_memo mo;
	struct inner in;

	in.n = 0;
	mo.valid = false;
	for (j = 0; j < CHUNK; j++)
		vp[j] = &v[j];
	while (st->inflight != 0 && tg_emit_room(emit) >= CHUNK) {
		nr = tg_ipsec_crypto_dequeue(st->ctx, mb, sas, CHUNK, &ng);
		if (nr == 0)
			break;
		__atomic_store_n(
			&st->inflight, st->inflight - nr, __ATOMIC_RELAXED);
		finish(t, st, mb, sas, NULL, &mo, false, ng, vp, &in);
		inner_check(t, local, &in);
		for (j = 0; j < ng; j++)
			tg_emit_push(emit, mb[j], v[j]);
		for (j = ng; j < nr; j++)
			tg_emit_push(emit, mb[j], failure(mb[j], sas[j]));
		if (nr < CHUNK)
			break;
	}
}

void
tg_ipsec_tick(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct tg_emit *emit, uint64_t now)
{
	RTE_SET_USED(now);
	if (st->inflight != 0)
		drain(t, st, local, emit);
}

/* ESP/AH to the appliance: the SPI, and the sequence number kept in the
 * packet's meta while it is in the device (nh_ip is unused before
 * forward, and the inner packet's meta is set anew). */
static inline uint16_t
inbound_spi(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, bool ah,
	uint32_t *spi)
{
	const uint8_t *l4;
	uint32_t hl = tg_meta(m)->l3_len, seq;

	if (ip->fragment_offset &
		RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return DROP(FRAGMENT);
	if (l3_avail(m) < hl + (ah ? 12u : 8u))
		return DROP(MALFORMED);
	l4 = (const uint8_t *)ip + hl;
	/* ESP: SPI, sequence; AH: next header, length, reserved, SPI,
	 * sequence. */
	memcpy(spi, l4 + (ah ? 4 : 0), sizeof(*spi));
	memcpy(&seq, l4 + (ah ? 8 : 4), sizeof(seq));
	tg_meta(m)->nh_ip = rte_be_to_cpu_32(seq);
	return TG_V_NEXT;
}

/*
 * A packet that would exceed the MTU towards the tunnel's far end once
 * protected. ESP is not fragmented here, and the outer packet would only
 * be dropped by forward on the tunnel path, unseen by the sender: a
 * forwarded packet with DF gets "fragmentation needed" with the MTU left
 * for it (RFC 4301 8.2.1), so that path MTU discovery works through the
 * tunnel. The host's own traffic is sized by the host port's MTU.
 */
static void
too_big(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	struct rte_mbuf *m, const struct tg_ipsec_tsa *ts, struct tg_emit *emit,
	uint64_t now)
{
	const struct tg_meta *md = tg_meta(m);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	struct rte_mbuf *err;
	uint32_t src;

	if (md->path != TG_PATH_TRANSIT || !t->icmp_unreach ||
		!(ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG)) ||
		md->rx_if >= RTE_MAX_ETHPORTS || st->mp == NULL)
		return;
	src = t->if_addr[md->rx_if];
	if (src == 0 || !tg_pkt_icmp_error_allowed(m) ||
		tg_emit_room(emit) == 0)
		return;
	if (st->rl_table != t) {
		tg_ratelimit_init(&st->rl, t->icmp_rate, t->icmp_burst,
			rte_get_tsc_hz(), now);
		st->rl_table = t;
	}
	if (!tg_ratelimit_take(&st->rl, now))
		return;
	err = tg_pkt_icmp_error(st->mp, m, 3 /* destination unreachable */,
		4 /* fragmentation needed */,
		(uint16_t)(ts->tun_mtu - ts->overhead), src);
	if (err != NULL)
		tg_emit_push_new(emit, err, TG_V_GOTO(TG_STAGE_NONE));
}

static void
ipsec_chunk(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	struct tg_acl_key kout[CHUNK], kin[CHUNK];
	const uint8_t *pout[CHUNK], *pin[CHUNK];
	uint32_t rout[CHUNK], rin[CHUNK], rout_in[CHUNK];
	uint8_t iout[CHUNK], iin[CHUNK];
	bool tcheck[CHUNK], any_tcheck = false;
	union rte_ipsec_sad_key skey[2][CHUNK];
	const union rte_ipsec_sad_key *pskey[2][CHUNK];
	void *ssa[2][CHUNK];
	/* packets looked up in the SAD, and which key each one's is */
	uint8_t isad[2][CHUNK], kslot[CHUNK];
	uint16_t npk[2] = {0, 0};
	uint32_t spi;
	struct tg_ipsec_sa *sa_of[CHUNK];
	const struct tg_ipsec_tsa *tso[CHUNK];
	uint16_t nout = 0, nin = 0, nsad[2] = {0, 0}, i, j, k;
	struct tg_ipsec_sa *runs[CHUNK];
	uint16_t nruns = 0, r;
	struct batch b;
	struct inner in;

	/* rte_ipsec reads and writes l2_len/l3_len, in the mbuf's second
	 * cache line, which nothing before this stage touched: fetch it
	 * while the SPD works. */
	for (i = 0; i < n; i++)
		rte_prefetch0(RTE_PTR_ADD(pkts[i], RTE_CACHE_LINE_SIZE));
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct tg_meta *md = tg_meta(m);
		const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
		uint8_t proto = ip->next_proto_id;
		bool tc;

		sa_of[i] = NULL;
		tso[i] = NULL;
		verdict[i] = TG_V_NEXT;
		if (md->mode == TG_MODE_IN) {
			if (proto == IPPROTO_ESP || proto == IPPROTO_AH) {
				k = proto == IPPROTO_AH;
				verdict[i] = inbound_spi(m, ip, k, &spi);
				if (verdict[i] != TG_V_NEXT)
					continue;
				isad[k][npk[k]++] = (uint8_t)i;
				/* A run of one SA's packets (a tunnel's
				 * burst): one key for the lot. */
				if (nsad[k] > 0 &&
					skey[k][nsad[k] - 1].v4.spi == spi) {
					kslot[i] = (uint8_t)(nsad[k] - 1);
					continue;
				}
				skey[k][nsad[k]].v4.spi = spi;
				pskey[k][nsad[k]] = &skey[k][nsad[k]];
				kslot[i] = (uint8_t)nsad[k]++;
				continue;
			}
			tg_ipsec_spd_key_make(ip, l3_avail(m), &kin[nin]);
			pin[nin] = (const uint8_t *)&kin[nin];
			iin[nin++] = (uint8_t)i;
			continue;
		}
		/* Transit met no ipsec(in): it is judged as inbound here
		 * too, unless ipsec(in) decrypted it. */
		tc = md->path == TG_PATH_TRANSIT && t->in_check &&
		     !(md->flags & TG_META_F_IPSEC_IN);
		if (!t->out_check && !tc)
			continue; /* nothing to ask the SPD */
		tg_ipsec_spd_key_make(ip, l3_avail(m), &kout[nout]);
		pout[nout] = (const uint8_t *)&kout[nout];
		tcheck[nout] = tc;
		any_tcheck |= tc;
		iout[nout++] = (uint8_t)i;
	}
	/* One classification answers both directions (tg_ipsec_spd.h). */
	if (nin > 0 && (t->spd == NULL || tg_ipsec_spd_lookup2(t->spd, pin, nin,
						  NULL, rin) != 0))
		memset(rin, 0, sizeof(rin[0]) * nin);
	if (nout > 0 && !t->out_check)
		memset(rout, 0, sizeof(rout[0]) * nout);
	if (nout > 0 &&
		(t->spd == NULL || tg_ipsec_spd_lookup2(t->spd, pout, nout,
					   t->out_check ? rout : NULL,
					   any_tcheck ? rout_in : NULL) != 0)) {
		memset(rout, 0, sizeof(rout[0]) * nout);
		memset(rout_in, 0, sizeof(rout_in[0]) * nout);
	}
	for (j = 0; any_tcheck && j < nout; j++) {
		if (!tcheck[j])
			continue;
		rin[nin] = rout_in[j];
		iin[nin++] = iout[j];
	}
	for (k = 0; k < 2; k++) {
		if (nsad[k] == 0)
			continue;
		if (t->sad[k] == NULL || rte_ipsec_sad_lookup(t->sad[k],
						 pskey[k], ssa[k], nsad[k]) < 0)
			memset(ssa[k], 0, sizeof(ssa[k][0]) * nsad[k]);
		for (j = 0; j < npk[k]; j++) {
			/* the SAD holds the table's entries (sad_build) */
			i = isad[k][j];
			tso[i] = ssa[k][kslot[i]];
			if (tso[i] == NULL) {
				verdict[i] = DROP(NO_SA);
				continue;
			}
			sa_of[i] = tso[i]->sa;
		}
	}
	for (j = 0; j < nin; j++) {
		const struct tg_ipsec_pol *p;

		if (rin[j] == 0)
			continue;
		t->hits[rin[j] - 1].in++;
		p = &t->pol[rin[j] - 1];
		i = iin[j];
		if (p->action == TG_CFG_IPSEC_PROTECT)
			verdict[i] = DROP(UNPROTECTED);
		else if (p->action == TG_CFG_IPSEC_BLOCK)
			verdict[i] = DROP(BLOCKED);
	}
	for (j = 0; j < nout; j++) {
		const struct tg_ipsec_pol *p;

		i = iout[j];
		if (rout[j] == 0 || verdict[i] != TG_V_NEXT)
			continue;
		t->hits[rout[j] - 1].out++;
		p = &t->pol[rout[j] - 1];
		if (p->action == TG_CFG_IPSEC_BLOCK)
			verdict[i] = DROP(BLOCKED);
		else if (p->action == TG_CFG_IPSEC_PROTECT) {
			tso[i] = &t->sas[p->sa_out];
			sa_of[i] = tso[i]->sa;
		}
	}

	/* The runs, for the prefetches. Not listed when the burst ends on
	 * the SA it began with: one SA's traffic (a tunnel's burst) has
	 * nothing to fetch ahead, and that is one compare. */
	for (i = 0; t->n_sas > PF_MIN_SAS && sa_of[0] != sa_of[n - 1] && i < n;
		i++)
		if (sa_of[i] != NULL && verdict[i] == TG_V_NEXT &&
			(nruns == 0 || runs[nruns - 1] != sa_of[i]))
			runs[nruns++] = sa_of[i];
	for (j = 0; nruns > 1 && j < PF_HEAD && j < nruns; j++)
		pf_sa_head(runs[j]);
	for (j = 0; nruns > 1 && j < PF_STATE && j < nruns; j++)
		pf_sa_state(runs[j]);

	/* Runs of one SA, in arrival order, to the device. */
	in.n = 0;
	b.sa = NULL;
	b.ts = NULL;
	b.memo.valid = false;
	b.n = 0;
	b.bytes = 0;
	for (i = 0, r = 0; i < n; i++) {
		struct tg_ipsec_sa *sa = sa_of[i];
		struct rte_mbuf *m = pkts[i];
		uint32_t len;

		if (sa == NULL || verdict[i] != TG_V_NEXT)
			continue;
		if (sa != b.sa) {
			batch_flush(t, st, &b, verdict, &in);
			b.sa = sa;
			b.ts = tso[i];
			if (nruns > 1) {
				if (r + PF_HEAD < nruns)
					pf_sa_head(runs[r + PF_HEAD]);
				if (r + PF_STATE < nruns)
					pf_sa_state(runs[r + PF_STATE]);
			}
			r++;
		}
		len = m->pkt_len - RTE_ETHER_HDR_LEN;
		if (sa->dir == TG_IPSEC_DIR_INBOUND &&
			sa->proto == TG_IPSEC_PROTO_ESP &&
			esp_len_bad(sa, len, tg_meta(m)->l3_len)) {
			verdict[i] = DROP(MALFORMED);
			sa->st.err_other++;
			continue;
		}
		if (tso[i] != NULL && tso[i]->tun_mtu != 0 &&
			len + tso[i]->overhead > tso[i]->tun_mtu) {
			too_big(t, st, m, tso[i], emit, now);
			verdict[i] = DROP(TOO_BIG);
			sa->st.err_other++;
			continue;
		}
		if (!sa_admit(sa, b.n,
			    sa->dir == TG_IPSEC_DIR_OUTBOUND ? b.bytes : 0)) {
			verdict[i] = DROP(SA_EXPIRED);
			sa->st.expired++;
			continue;
		}
		/* l2_len and l3_len (rte_ipsec reads both) in one store,
		 * not a read-modify-write of the mbuf's second line. */
		m->tx_offload = (uint64_t)RTE_ETHER_HDR_LEN |
				(uint64_t)tg_meta(m)->l3_len << 7;
		b.m[b.n] = m;
		b.len[i] = len;
		b.idx[b.n++] = (uint8_t)i;
		b.bytes += len;
		if (b.n == CHUNK)
			batch_flush(t, st, &b, verdict, &in);
	}
	batch_flush(t, st, &b, verdict, &in);
	/* what the runs decrypted, together */
	if (in.n != 0)
		inner_check(t, local, &in);
}

/* Every packet at ipsec(out) and decrypted by ipsec(in): what
 * ipsec_chunk() lets pass without a lookup when no policy applies
 * outbound (out_check false; in_check exempts decrypted packets). */
static inline bool
out_all_passed(struct rte_mbuf *const *pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		const struct tg_meta *md = tg_meta(pkts[i]);

		if (md->mode != TG_MODE_OUT ||
			!(md->flags & TG_META_F_IPSEC_IN))
			return false;
	}
	return true;
}

void
tg_ipsec_burst(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	uint16_t base, c;

	RTE_SET_USED(now);
	if (unlikely(!t->enabled)) {
		memset(verdict, 0, sizeof(*verdict) * n); /* TG_V_NEXT */
		return;
	}
	/* ipsec(out) with no outbound policy has nothing to ask about the
	 * packets ipsec(in) decrypted (a tunnel's inner transit traffic,
	 * its second visit here): a burst of only those passes on a look at
	 * each one's meta, without ipsec_chunk's passes. */
	if (!t->out_check && out_all_passed(pkts, n)) {
		memset(verdict, 0, sizeof(*verdict) * n); /* TG_V_NEXT */
		goto drain;
	}
	for (base = 0; base < n; base += c) {
		c = RTE_MIN((uint16_t)(n - base), (uint16_t)CHUNK);
		ipsec_chunk(t, st, local, pkts + base, c, verdict + base, emit,
			now);
	}
drain:
	/* A software device does the work when asked for results: asking
	 * now sends this burst on within this poll. */
	if (st->inflight != 0)
		drain(t, st, local, emit);
}

/* ---- explain: the burst's decisions for one packet, read-only --------- */

/* An inbound SPD answer for a packet that came unprotected. */
static uint16_t
x_unprotected(const struct tg_ipsec_table *t, const struct rte_ipv4_hdr *ip,
	uint32_t avail, struct tg_ipsec_why *w)
{
	struct tg_acl_key k;
	const uint8_t *kp = (const uint8_t *)&k;
	uint32_t r;

	tg_ipsec_spd_key_make(ip, avail, &k);
	spd_lookup(t, TG_IPSEC_DIR_INBOUND, &kp, 1, &r);
	if (r == 0)
		return TG_V_NEXT;
	w->what = TG_IPSEC_WHY_POLICY;
	w->policy = r - 1;
	if (t->pol[r - 1].action == TG_CFG_IPSEC_PROTECT)
		return DROP(UNPROTECTED);
	if (t->pol[r - 1].action == TG_CFG_IPSEC_BLOCK)
		return DROP(BLOCKED);
	return TG_V_NEXT;
}

/* ESP to the appliance: its SA, and the inner packet's way (explain's
 * ESP carries the inner packet in clear: explain does not decrypt). */
static uint16_t
x_inbound(const struct tg_ipsec_table *t, const struct tg_local_set *local,
	struct rte_mbuf *m, bool decap, struct tg_ipsec_why *w)
{
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	struct tg_meta *md = tg_meta(m);
	union rte_ipsec_sad_key key = {0};
	const union rte_ipsec_sad_key *kp = &key;
	const struct tg_ipsec_tsa *ts;
	const struct tg_ipsec_pol *p;
	bool ah = ip->next_proto_id == IPPROTO_AH;
	struct tg_acl_key k;
	const uint8_t *pk = (const uint8_t *)&k;
	struct tg_ipsec_sa *sa;
	uint16_t v, rx = md->rx_if;
	uint32_t spi, r;
	void *found = NULL;

	v = inbound_spi(m, ip, ah, &spi);
	if (v != TG_V_NEXT)
		return v;
	key.v4.spi = spi;
	if (t->sad[ah] == NULL ||
		rte_ipsec_sad_lookup(t->sad[ah], &kp, &found, 1) < 0 ||
		found == NULL)
		return DROP(NO_SA);
	ts = found;
	sa = ts->sa;
	w->sa = (uint32_t)(ts - t->sas);
	w->what = TG_IPSEC_WHY_SA;
	/* a received one's length, as the burst checks it before the
	 * device (explain's own ESP has no cipher blocks, no ICV) */
	if (!decap && !ah &&
		esp_len_bad(sa, m->pkt_len - RTE_ETHER_HDR_LEN, md->l3_len))
		return DROP(MALFORMED);
	if (sa->limited && sa->prm.lifetime.hard_packets != 0 &&
		sa->st.packets >= sa->prm.lifetime.hard_packets)
		return DROP(SA_EXPIRED);
	if (!decap)
		return TG_V_NEXT; /* a real one: its SA is the answer */
	/* "Decrypted" or "verified": explain's ESP is ESP with the null
	 * cipher and no ICV (RFC 4303 section 2: header, payload, pad
	 * length 0, next header), its AH an AH header whose ICV is not
	 * checked (RFC 4302 section 2), so taking the header (and ESP's
	 * trailer) off is all. */
	{
		uint16_t l2l3 = (uint16_t)(RTE_ETHER_HDR_LEN + md->l3_len);
		uint16_t hdr = ah ? (uint16_t)(12 + sa->icv_len) : 8;
		uint8_t nh;

		if (m->data_len < l2l3 + hdr + (ah ? 0 : 2))
			return DROP(MALFORMED);
		if (ah) {
			nh = rte_pktmbuf_mtod(m, uint8_t *)[l2l3];
		} else {
			nh = rte_pktmbuf_mtod(m, uint8_t *)[m->data_len - 1];
			rte_pktmbuf_trim(m, 2);
		}
		if (sa->mode == TG_IPSEC_MODE_TUNNEL) {
			if (nh != IPPROTO_IPIP)
				return DROP(INNER_INVALID);
			/* the frame's, the outer and the ESP header off, and
			 * a frame again: an Ethernet header in front, as
			 * finish() puts one (rx_burst wants one) */
			rte_pktmbuf_adj(m, (uint16_t)(l2l3 + hdr));
			if (rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN) == NULL)
				return DROP(MALFORMED);
			memset(rte_pktmbuf_mtod(m, uint8_t *), 0,
				2 * RTE_ETHER_ADDR_LEN);
			rte_pktmbuf_mtod_offset(m, uint16_t *, 12)[0] =
				RTE_BE16(RTE_ETHER_TYPE_IPV4);
		} else {
			/* transport: the ESP header out from between */
			struct rte_ipv4_hdr *h;

			memmove(rte_pktmbuf_mtod_offset(m, uint8_t *, hdr),
				rte_pktmbuf_mtod(m, uint8_t *), l2l3);
			rte_pktmbuf_adj(m, hdr);
			h = tg_pkt_ipv4(m);
			h->next_proto_id = nh;
			h->total_length = rte_cpu_to_be_16(
				(uint16_t)(m->data_len - RTE_ETHER_HDR_LEN));
			h->hdr_checksum = 0;
			h->hdr_checksum = rte_ipv4_cksum(h);
		}
	}
	/* inner_check(): received anew, then the policy */
	tg_pkt_rx_burst(&m, 1, rx, local, &v);
	if (v != TG_V_NEXT || md->path == TG_PATH_ARP)
		return DROP(INNER_INVALID);
	if (ts->sel.direct) {
		r = tg_ipsec_sels_match(&ts->sel, tg_pkt_ipv4(m), l3_avail(m));
	} else {
		tg_ipsec_spd_key_make(tg_pkt_ipv4(m), l3_avail(m), &k);
		spd_lookup(t, TG_IPSEC_DIR_INBOUND, &pk, 1, &r);
	}
	p = r != 0 ? &t->pol[r - 1] : NULL;
	if (r != 0)
		w->policy = r - 1;
	if (p == NULL || p->action != TG_CFG_IPSEC_PROTECT ||
		p->sa_in == TG_CFG_IPSEC_NO_SA || t->sas[p->sa_in].sa != sa ||
		(sa->mode == TG_IPSEC_MODE_TRANSPORT &&
			md->path != TG_PATH_TARGET))
		return DROP(POLICY_MISMATCH);
	md->flags |=
		TG_META_F_IPSEC_IN | (t->bypass ? TG_META_F_IPSEC_BYPASS : 0);
	return md->path == TG_PATH_TARGET ? TG_V_NEXT
					  : TG_V_GOTO(TG_STAGE_NONE);
}

uint16_t
tg_ipsec_explain(const struct tg_ipsec_table *t,
	const struct tg_ipsec_stage *st, const struct tg_local_set *local,
	struct rte_mbuf *m, uint64_t now, bool decap, struct tg_ipsec_why *w)
{
	struct tg_meta *md = tg_meta(m);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const struct tg_ipsec_tsa *ts;
	struct tg_neigh_info ni;
	struct tg_acl_key k;
	const uint8_t *kp = (const uint8_t *)&k;
	uint32_t r;
	bool tc;

	memset(w, 0, sizeof(*w));
	w->policy = w->sa = UINT32_MAX;
	if (st == NULL)
		return TG_V_NEXT;
	if (md->mode == TG_MODE_IN) {
		if (ip->next_proto_id == IPPROTO_ESP ||
			ip->next_proto_id == IPPROTO_AH)
			return x_inbound(t, local, m, decap, w);
		return x_unprotected(t, ip, l3_avail(m), w);
	}
	tc = md->path == TG_PATH_TRANSIT && t->in_check &&
	     !(md->flags & TG_META_F_IPSEC_IN);
	if (tc) {
		uint16_t v = x_unprotected(t, ip, l3_avail(m), w);

		if (v != TG_V_NEXT)
			return v;
	}
	if (!t->out_check)
		return TG_V_NEXT;
	tg_ipsec_spd_key_make(ip, l3_avail(m), &k);
	spd_lookup(t, TG_IPSEC_DIR_OUTBOUND, &kp, 1, &r);
	if (r == 0)
		return TG_V_NEXT;
	w->what = TG_IPSEC_WHY_POLICY;
	w->policy = r - 1;
	if (t->pol[r - 1].action == TG_CFG_IPSEC_BLOCK)
		return DROP(BLOCKED);
	if (t->pol[r - 1].action != TG_CFG_IPSEC_PROTECT)
		return TG_V_NEXT;
	ts = &t->sas[t->pol[r - 1].sa_out];
	w->sa = t->pol[r - 1].sa_out;
	if (ts->tun_mtu != 0 &&
		m->pkt_len - RTE_ETHER_HDR_LEN + ts->overhead > ts->tun_mtu)
		return DROP(TOO_BIG);
	if (ts->sa->limited && ts->sa->prm.lifetime.hard_packets != 0 &&
		ts->sa->st.packets >= ts->sa->prm.lifetime.hard_packets)
		return DROP(SA_EXPIRED);
	if (ts->sa->mode == TG_IPSEC_MODE_TRANSPORT)
		return TG_V_NEXT;
	/* finish(): the outer header (what rte_ipsec would write, without
	 * the ESP), then straight to TX when the next hop is ready as
	 * forward's cache has it, else routed anew on the tunnel path. */
	{
		struct rte_ipv4_hdr *o = tg_pkt_ipv4(m);

		o->src_addr = rte_cpu_to_be_32(ts->sa->prm.tun_local);
		o->dst_addr = rte_cpu_to_be_32(ts->sa->prm.tun_remote);
		o->next_proto_id = IPPROTO_ESP;
		o->time_to_live = 64;
	}
	md->l3_len = sizeof(struct rte_ipv4_hdr);
	if (ts->adj_ok && st->fwd_ctx != NULL && t->fwd != NULL &&
		(ts->adj_l3 ||
			(tg_forward_neigh_lookup(t->fwd, st->fwd_ctx,
				 ts->adj_nh_ip, ts->adj_port, now, &ni) == 0 &&
				(ni.state == TG_NEIGH_REACHABLE ||
					ni.state == TG_NEIGH_STATIC)))) {
		uint8_t *h = rte_pktmbuf_mtod(m, uint8_t *);

		if (!ts->adj_l3)
			memcpy(h, &ni.mac, RTE_ETHER_ADDR_LEN);
		else
			memcpy(h, ts->adj_src_et, RTE_ETHER_ADDR_LEN);
		memcpy(h + RTE_ETHER_ADDR_LEN, ts->adj_src_et, 8);
		md->tx_if = ts->adj_port;
		md->nh_ip = ts->adj_nh_ip;
		md->path = TG_PATH_TUNNEL_DIRECT;
		w->direct = true;
		return TG_V_GOTO(TG_STAGE_NONE);
	}
	md->path = TG_PATH_TUNNEL;
	return TG_V_GOTO(TG_STAGE_FORWARD);
}
