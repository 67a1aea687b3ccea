/* SPDX-License-Identifier: BSD-3-Clause
 * Private to lib/forward: the stage context (neighbor cache, held packets,
 * ICMP rate limit, counters) shared by forward_dp.c and neigh.c.
 */
#ifndef TG_FORWARD_PRIV_H
#define TG_FORWARD_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_seqcount.h>

#include "tg_forward.h"
#include "tg_pkt.h"

/* Packets held per unresolved neighbor: the config allows no more
 * (arp.hold_packets), so that the hold blocks can be allocated once at ctx
 * creation; the clamp in tg_neigh_hold_limit() is only a guard. */
#define TG_NEIGH_HOLD_MAX TG_CFG_ARP_HOLD_MAX

/*
 * One neighbor cache slot, 48 bytes; the fields a lookup reads sit in the
 * first 16 (never split across cache lines at this stride). state 0 marks
 * a free slot. Written by the owning lcore only, inside ctx->sc.
 */
struct tg_neigh {
	uint32_t addr; /* host order */
	uint16_t port;
	uint8_t state; /* enum tg_neigh_state, 0 = free */
	uint8_t n_held;
	struct rte_ether_addr mac; /* followed by 2 bytes: tg_fwd_write_eth2 */
	uint16_t retries;	   /* requests sent in this resolution round */
	uint32_t blk; /* hold block: ctx->held[blk * TG_NEIGH_HOLD_MAX] */
	uint8_t held_head;
	uint8_t pad[3];
	uint64_t confirmed_tsc; /* last confirmation (creation if none) */
	uint64_t due_tsc;	/* next timer event, UINT64_MAX = none */
	uint64_t req_tsc;	/* last request sent */
};

struct tg_forward_ctx {
	/* Read per packet. */
	struct tg_neigh *tab; /* open addressing, linear probing */
	uint32_t mask;	      /* slots - 1 */
	uint32_t shift;	      /* 64 - log2(slots) for the hash */
	struct rte_mbuf **held;
	struct rte_mempool *mp;
	uint64_t hz;
	struct tg_ratelimit rl;

	/* Cache bookkeeping. */
	uint32_t cap;	/* entries allowed (max_neighbors rounded up) */
	uint32_t count; /* entries in use */
	uint32_t n_free_blk;
	uint32_t *free_blk;
	uint64_t next_due; /* earliest due_tsc of any entry (tick fast exit) */

	/* Snapshot tracking. */
	uint64_t gen;	 /* generation the cache is synchronised with */
	uint64_t rl_gen; /* generation the rate limiter was set up for */
	bool gen_ok;
	bool rl_ok;
	int socket;

	/* Telemetry readers retry around every change of tab[]. */
	rte_seqcount_t sc;

	uint64_t cnt[TG_FORWARD_CNT__COUNT] __rte_cache_aligned;
};

static inline uint32_t
tg_neigh_slot(const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port)
{
	uint64_t k = (uint64_t)addr << 16 | port;

	return (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> ctx->shift);
}

/** The entry for (addr, port), or NULL. A few cycles when it is there. */
static inline struct tg_neigh *
tg_neigh_find(const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port)
{
	uint32_t i = tg_neigh_slot(ctx, addr, port);

	for (;;) {
		struct tg_neigh *e = &ctx->tab[i];

		if (e->state == 0)
			return NULL;
		if (e->addr == addr && e->port == port)
			return e;
		i = (i + 1) & ctx->mask;
	}
}

static inline uint32_t
tg_neigh_hold_limit(const struct tg_forward_table *ft)
{
	return RTE_MIN(ft->params.hold_packets, (uint32_t)TG_NEIGH_HOLD_MAX);
}

/** Write the Ethernet header for transmission from @p src to @p dst. */
static inline void
tg_fwd_write_eth(struct rte_mbuf *m, const struct rte_ether_addr *dst,
	const struct rte_ether_addr *src)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
}

/**
 * The same with two 8-byte stores (the hot path): bytes 0..7 from @p dst8
 * (the destination MAC and two bytes that the second store overwrites),
 * then bytes 6..13 from @p src_et (tg_nexthop.src_et). @p dst8 must have
 * two readable bytes after the MAC.
 */
static inline void
tg_fwd_write_eth2(struct rte_mbuf *m, const void *dst8, const uint8_t src_et[8])
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint64_t a, b;

	memcpy(&a, dst8, 8);
	memcpy(&b, src_et, 8);
	memcpy(p, &a, 8);
	memcpy(p + 6, &b, 8);
}

/* forward_dp.c */

/** Snapshot change: rate limiter and neighbor resync. Cheap otherwise. */
void tg_fwd_sync_slow(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, uint64_t now, struct tg_emit *emit);

static inline void
tg_fwd_sync(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	uint64_t now, struct tg_emit *emit)
{
	if (unlikely(!ctx->gen_ok || ctx->gen != ft->generation))
		tg_fwd_sync_slow(ft, ctx, now, emit);
}

/** Emit an ICMP error about @p m if the config, RFC 1812 and the rate
 *  limit allow it. Source: the receiving interface's address. */
void tg_fwd_icmp_error(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint8_t type,
	uint8_t code, uint16_t mtu, struct tg_emit *emit, uint64_t now);

/* neigh.c (cold paths of neighbor resolution) */

/** No entry for (nh, port): create one, hold @p m, send a request. */
uint16_t tg_neigh_miss(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint16_t port,
	uint32_t nh, struct tg_emit *emit, uint64_t now);

/** Hold @p m on an INCOMPLETE entry (or ARP_HOLD_FULL). */
uint16_t tg_neigh_hold(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct tg_neigh *e, struct rte_mbuf *m);

/** A STALE entry is used and a re-request is due. */
uint16_t tg_neigh_stale_use(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct tg_neigh *e, struct rte_mbuf *m,
	struct tg_emit *emit, uint64_t now);

/** TG_MODE_ARP: answer, learn, release. */
uint16_t tg_neigh_arp_input(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct rte_mbuf *m, struct tg_emit *emit,
	uint64_t now);

/* ARP input's decision for @p m without its effects (no entry learned or
 * made, no counter): the frame is rewritten into the reply it would get.
 * Any thread (the cache is read with tg_forward_neigh_lookup()). */
uint16_t tg_neigh_arp_explain(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	struct tg_arp_why *w);

/** Bring the cache in line with a new table. 0, or -ENOSPC when @p emit
 *  ran out of room (call again: it is idempotent). */
int tg_neigh_resync(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct tg_emit *emit, uint64_t now);

#endif /* TG_FORWARD_PRIV_H */
