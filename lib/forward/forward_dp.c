/* SPDX-License-Identifier: BSD-3-Clause
 * Data phase of forward: the burst (transit and source paths), next-hop
 * and neighbor resolution on the hot path, ICMP errors.
 */
#include <errno.h>
#include <stddef.h>

#include <rte_cycles.h>
#include <rte_fib.h>

#include "forward_priv.h"

#define ICMP_DEST_UNREACH  3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_NET_UNREACH   0
#define ICMP_FRAG_NEEDED   4

/* Destinations looked up per rte_fib_lookup_bulk call (the pipeline's
 * bursts are at most this long; longer ones are taken in chunks). */
#define FWD_LOOKUP_MAX 64

void
tg_fwd_sync_slow(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	uint64_t now, struct tg_emit *emit)
{
	if (!ctx->rl_ok || ctx->rl_gen != ft->generation) {
		tg_ratelimit_init(&ctx->rl, ft->params.icmp_rate,
			ft->params.icmp_burst, ctx->hz, now);
		ctx->rl_gen = ft->generation;
		ctx->rl_ok = true;
	}
	if (tg_neigh_resync(ft, ctx, emit, now) == 0) {
		ctx->gen = ft->generation;
		ctx->gen_ok = true;
	}
	/* Timers may have changed with the parameters: rescan at once. */
	ctx->next_due = 0;
}

/* Does the configuration (and RFC 1812) let an ICMP error of @p type
 * be sent about @p m? The rate limit and the pool decide the rest. */
static bool
fwd_icmp_wanted(
	const struct tg_forward_table *ft, struct rte_mbuf *m, uint8_t type)
{
	uint16_t rx = tg_meta(m)->rx_if;

	if (!(type == ICMP_TIME_EXCEEDED ? ft->params.icmp_ttl
					 : ft->params.icmp_unreach))
		return false;
	/* Generated packets (rx_if none) and ports without an address have
	 * no source address to answer from. */
	if (rx >= RTE_MAX_ETHPORTS || !ft->ifaces[rx].configured)
		return false;
	return tg_pkt_icmp_error_allowed(m);
}

void
tg_fwd_icmp_error(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, uint8_t type, uint8_t code, uint16_t mtu,
	struct tg_emit *emit, uint64_t now)
{
	uint16_t rx = tg_meta(m)->rx_if;
	struct rte_mbuf *err;

	if (!fwd_icmp_wanted(ft, m, type))
		return;
	if (tg_emit_room(emit) == 0) {
		ctx->cnt[TG_FORWARD_CNT_ICMP_NOMEM]++;
		return;
	}
	if (!tg_ratelimit_take(&ctx->rl, now)) {
		ctx->cnt[TG_FORWARD_CNT_ICMP_RATELIMITED]++;
		return;
	}
	err = tg_pkt_icmp_error(
		ctx->mp, m, type, code, mtu, ft->ifaces[rx].addr);
	if (err == NULL) {
		ctx->cnt[TG_FORWARD_CNT_ICMP_NOMEM]++;
		return;
	}
	tg_emit_push_new(emit, err, TG_V_GOTO(TG_STAGE_NONE));
	ctx->cnt[type == ICMP_TIME_EXCEEDED
			 ? TG_FORWARD_CNT_ICMP_TTL_SENT
			 : TG_FORWARD_CNT_ICMP_UNREACH_SENT]++;
}

/* An ICMP error, or (explain: @p dry set) what would be sent. */
static __rte_always_inline void
fwd_icmp(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, uint8_t type, uint8_t code, uint16_t mtu,
	struct tg_emit *emit, uint64_t now, struct tg_forward_why *dry)
{
	if (dry != NULL) {
		dry->icmp = fwd_icmp_wanted(ft, m, type);
		dry->icmp_type = type;
		dry->icmp_code = code;
		return;
	}
	tg_fwd_icmp_error(ft, ctx, m, type, code, mtu, emit, now);
}

/*
 * The last neighbor a packet of this burst was sent to, usable as is:
 * packets routed via one gateway (most of a burst, and every tunnel
 * packet of one SA) skip the cache lookup. Valid within one burst only:
 * nothing in a burst deletes or moves an entry (misses only insert;
 * resync and timers run outside the loop), and an entry's MAC is read
 * through the pointer, so an ARP reply in the same burst is seen.
 */
struct fwd_last {
	struct tg_neigh *e;
	uint32_t nh_ip;
	uint16_t port;
};

/* fwd_resolve() for explain: the live cache read (never written), and
 * what resolving would do. */
static __rte_noinline uint16_t
fwd_resolve_dry(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, struct rte_mbuf *m,
	const struct tg_nexthop *nh, uint32_t nh_ip, uint64_t now,
	struct tg_forward_why *dry)
{
	struct tg_neigh_info *e = &dry->neigh;
	struct tg_meta *meta;

	if (tg_forward_neigh_lookup(ft, ctx, nh_ip, nh->port, now, e) != 0) {
		if (ctx->count >= ctx->cap)
			return TG_V_DROP(TG_FORWARD_DROP_NEIGH_FULL);
		dry->arp = true;
		return TG_V_STOLEN;
	}
	dry->neigh_found = true;
	switch (e->state) {
	case TG_NEIGH_INCOMPLETE:
		if (e->held >= tg_neigh_hold_limit(ft))
			return TG_V_DROP(TG_FORWARD_DROP_ARP_HOLD_FULL);
		return TG_V_STOLEN;
	case TG_NEIGH_FAILED:
		return TG_V_DROP(TG_FORWARD_DROP_ARP_FAILED);
	case TG_NEIGH_STALE:
		dry->arp = e->req_due;
		break;
	default: /* REACHABLE, STATIC */
		break;
	}
	tg_fwd_write_eth2(m, &e->mac, nh->src_et);
	meta = tg_meta(m);
	meta->tx_if = nh->port;
	meta->nh_ip = nh_ip;
	return TG_V_NEXT;
}

static __rte_always_inline uint16_t
fwd_resolve(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, const struct tg_nexthop *nh, uint32_t nh_ip,
	struct fwd_last *last, struct tg_emit *emit, uint64_t now,
	struct tg_forward_why *dry)
{
	struct tg_neigh *e;
	struct tg_meta *meta;

	if (dry != NULL)
		return fwd_resolve_dry(ft, ctx, m, nh, nh_ip, now, dry);

	if (likely(last->e != NULL && last->nh_ip == nh_ip &&
		    last->port == nh->port)) {
		e = last->e;
		goto write;
	}
	e = tg_neigh_find(ctx, nh_ip, nh->port);
	if (unlikely(e == NULL))
		return tg_neigh_miss(ft, ctx, m, nh->port, nh_ip, emit, now);
	if (unlikely(e->state != TG_NEIGH_REACHABLE &&
		     e->state != TG_NEIGH_STATIC)) {
		switch (e->state) {
		case TG_NEIGH_STALE:
			if (now - e->req_tsc >= ft->params.retry_tsc)
				return tg_neigh_stale_use(
					ft, ctx, e, m, emit, now);
			break;
		case TG_NEIGH_INCOMPLETE:
			return tg_neigh_hold(ft, ctx, e, m);
		default: /* FAILED: drop fast until failed_hold expires */
			return TG_V_DROP(TG_FORWARD_DROP_ARP_FAILED);
		}
	}
	last->e = e;
	last->nh_ip = nh_ip;
	last->port = nh->port;
write:
	RTE_BUILD_BUG_ON(offsetof(struct tg_neigh, mac) + 8 > sizeof(*e));
	tg_fwd_write_eth2(m, &e->mac, nh->src_et);
	meta = tg_meta(m);
	meta->tx_if = nh->port;
	meta->nh_ip = nh_ip;
	return TG_V_NEXT;
}

/* The cold end of fwd_ip(): the next hop's interface is not configured
 * or the packet is larger than its MTU. */
static __rte_noinline uint16_t
fwd_too_big(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, const struct tg_nexthop *nh, bool transit,
	struct tg_emit *emit, uint64_t now, struct tg_forward_why *dry)
{
	const struct tg_iface *ifc = &ft->ifaces[nh->port];

	if (!ifc->configured)
		return TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE);
	/* No fragmentation. The error quotes the header as received
	 * (checked before the TTL decrement, like Linux). */
	if (transit && (tg_pkt_ipv4(m)->fragment_offset &
			       RTE_BE16(RTE_IPV4_HDR_DF_FLAG)))
		fwd_icmp(ft, ctx, m, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			ifc->mtu, emit, now, dry);
	return TG_V_DROP(TG_FORWARD_DROP_MTU_EXCEEDED);
}

/* One IPv4 packet, transit (TTL, ICMP errors) or source path, whose
 * destination @p dst was looked up: @p idx, an nh[] index or n_nh. */
static __rte_always_inline uint16_t
fwd_ip(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, const bool transit, uint32_t dst, uint64_t idx,
	struct fwd_last *last, struct tg_emit *emit, uint64_t now,
	struct tg_forward_why *dry)
{
	struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const struct tg_nexthop *nh;
	uint32_t nh_ip;

	/* A miss is the FIB's default_nh, n_nh. */
	if (unlikely(idx >= ft->n_nh)) {
		if (transit)
			fwd_icmp(ft, ctx, m, ICMP_DEST_UNREACH,
				ICMP_NET_UNREACH, 0, emit, now, dry);
		return TG_V_DROP(TG_FORWARD_DROP_NO_ROUTE);
	}
	nh = &ft->nh[idx];
	if (dry != NULL) {
		dry->nh = (uint32_t)idx;
		dry->port = nh->port;
	}
	/* Local destinations take the target path at RX; one here was sent
	 * to us through a path that should not reach us (no loopback). */
	if (unlikely(nh->type == TG_NH_LOCAL))
		return TG_V_DROP(TG_FORWARD_DROP_LOCAL_IN_TRANSIT);
	if (transit && unlikely(ip->time_to_live <= 1)) {
		fwd_icmp(ft, ctx, m, ICMP_TIME_EXCEEDED, 0, 0, emit, now, dry);
		return TG_V_DROP(TG_FORWARD_DROP_TTL_EXCEEDED);
	}
	if (likely(nh->type == TG_NH_VIA)) {
		nh_ip = nh->via;
	} else {
		const struct tg_iface *ifc = &ft->ifaces[nh->port];

		if (unlikely(!ifc->configured))
			return TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE);
		/* RFC 2644: no directed broadcasts (/31 and /32 have none). */
		if (unlikely((dst | ifc->mask) == UINT32_MAX) &&
			ifc->prefix_len <= 30 &&
			((dst ^ ifc->addr) & ifc->mask) == 0)
			return TG_V_DROP(TG_FORWARD_DROP_BROADCAST);
		nh_ip = dst;
	}
	if (dry != NULL)
		dry->nh_ip = nh_ip;
	/* mtu is 0 when the interface is not configured: one test for both */
	if (unlikely(tg_be16_to_cpu(ip->total_length) > nh->mtu))
		return fwd_too_big(ft, ctx, m, nh, transit, emit, now, dry);
	if (transit)
		tg_ipv4_ttl_dec(ip);
	if (unlikely(nh->l3)) {
		/* Bare-IP port: the pipeline strips the Ethernet header at
		 * TX; there is no neighbor to resolve. */
		struct tg_meta *meta = tg_meta(m);

		tg_fwd_write_eth2(m, nh->src_et, nh->src_et);
		meta->tx_if = nh->port;
		meta->nh_ip = nh_ip;
		return TG_V_NEXT;
	}
	return fwd_resolve(ft, ctx, m, nh, nh_ip, last, emit, now, dry);
}

void
tg_forward_burst(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf **pkts, uint16_t n, uint16_t *verdict,
	struct tg_emit *emit, uint64_t now)
{
	uint32_t dst[FWD_LOOKUP_MAX];
	uint64_t idx[FWD_LOOKUP_MAX];
	struct fwd_last last = {.e = NULL};
	uint16_t base, cnt, i, k;

	tg_fwd_sync(ft, ctx, now, emit);
	for (base = 0; base < n; base += cnt) {
		struct rte_mbuf **p = pkts + base;
		uint16_t *v = verdict + base;

		cnt = RTE_MIN((uint16_t)(n - base), (uint16_t)FWD_LOOKUP_MAX);
		/* Every IP packet's destination, in one bulk lookup. */
		for (i = 0, k = 0; i < cnt; i++)
			if (tg_meta(p[i])->mode != TG_MODE_ARP)
				dst[k++] = tg_be32_to_cpu(
					tg_pkt_ipv4(p[i])->dst_addr);
		if (k > 0)
			rte_fib_lookup_bulk(ft->fib, dst, idx, k);
		for (i = 0, k = 0; i < cnt; i++) {
			struct rte_mbuf *m = p[i];

			switch (tg_meta(m)->mode) {
			case TG_MODE_TRANSIT:
				v[i] = fwd_ip(ft, ctx, m, true, dst[k], idx[k],
					&last, emit, now, NULL);
				k++;
				break;
			case TG_MODE_ARP:
				v[i] = tg_neigh_arp_input(
					ft, ctx, m, emit, now);
				break;
			default: /* TG_MODE_OUT: the source path */
				v[i] = fwd_ip(ft, ctx, m, false, dst[k], idx[k],
					&last, emit, now, NULL);
				k++;
				break;
			}
		}
	}
}

uint16_t
tg_forward_explain(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	struct tg_forward_why *why)
{
	uint32_t dst;
	uint64_t idx;

	memset(why, 0, sizeof(*why));
	why->nh = ft->n_nh;
	if (tg_meta(m)->mode == TG_MODE_ARP) {
		why->arp_frame = true;
		return tg_neigh_arp_explain(ft, ctx, m, now, &why->arp_in);
	}
	dst = tg_be32_to_cpu(tg_pkt_ipv4(m)->dst_addr);
	rte_fib_lookup_bulk(ft->fib, &dst, &idx, 1);
	/* The burst's own code, with @p dry: the context is only read. */
	return fwd_ip(ft, (struct tg_forward_ctx *)(uintptr_t)ctx, m,
		tg_meta(m)->mode == TG_MODE_TRANSIT, dst, idx, NULL, NULL, now,
		why);
}

int
tg_forward_route(const struct tg_forward_table *ft, uint32_t dst,
	const struct tg_nexthop **nh, uint32_t *nh_ip)
{
	const struct tg_nexthop *h;
	const struct tg_iface *ifc;
	uint64_t idx;

	if (ft == NULL || ft->fib == NULL ||
		rte_fib_lookup_bulk(ft->fib, &dst, &idx, 1) != 0 ||
		idx >= ft->n_nh)
		return -ENOENT;
	h = &ft->nh[idx];
	/* what fwd_ip() drops or cannot send */
	if (h->type == TG_NH_LOCAL || h->mtu == 0 || h->port >= RTE_MAX_ETHPORTS)
		return -ENOENT;
	ifc = &ft->ifaces[h->port];
	if (!ifc->configured)
		return -ENOENT;
	if (h->type != TG_NH_VIA && (dst | ifc->mask) == UINT32_MAX &&
		ifc->prefix_len <= 30 && ((dst ^ ifc->addr) & ifc->mask) == 0)
		return -ENOENT;
	*nh = h;
	*nh_ip = h->type == TG_NH_VIA ? h->via : dst;
	return 0;
}

bool
tg_forward_neigh_usable(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port,
	struct rte_ether_addr *mac)
{
	const struct tg_neigh *e;

	if (unlikely(!ctx->gen_ok || ctx->gen != ft->generation))
		return false;
	e = tg_neigh_find(ctx, addr, port);
	if (e == NULL ||
		(e->state != TG_NEIGH_REACHABLE && e->state != TG_NEIGH_STATIC))
		return false;
	rte_ether_addr_copy(&e->mac, mac);
	return true;
}
