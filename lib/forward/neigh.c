/* SPDX-License-Identifier: BSD-3-Clause
 * The neighbor (ARP) cache of the forward stage: entries, held packets,
 * ARP input and requests, timers, resync on reload, telemetry reads.
 * Written only by the lcore that owns the ctx; every change of the table
 * sits inside ctx->sc so that telemetry can copy it consistently.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_malloc.h>

#include "forward_priv.h"

const char *const tg_neigh_state_names[] = {
	[0] = "none",
	[TG_NEIGH_INCOMPLETE] = "incomplete",
	[TG_NEIGH_REACHABLE] = "reachable",
	[TG_NEIGH_STALE] = "stale",
	[TG_NEIGH_FAILED] = "failed",
	[TG_NEIGH_STATIC] = "static",
};

#define ETH_LEN	      ((uint32_t)sizeof(struct rte_ether_hdr))
#define ARP_LEN	      ((uint32_t)sizeof(struct rte_arp_hdr))
#define NEIGH_MAX_CAP (1u << 24)

static inline void
wbegin(struct tg_forward_ctx *ctx)
{
	rte_seqcount_write_begin(&ctx->sc);
}

static inline void
wend(struct tg_forward_ctx *ctx)
{
	rte_seqcount_write_end(&ctx->sc);
}

static inline void
due_set(struct tg_forward_ctx *ctx, struct tg_neigh *e, uint64_t due)
{
	e->due_tsc = due;
	if (due < ctx->next_due)
		ctx->next_due = due;
}

static inline struct rte_mbuf **
held_slot(struct tg_forward_ctx *ctx, const struct tg_neigh *e, uint32_t k)
{
	return &ctx->held[(size_t)e->blk * TG_NEIGH_HOLD_MAX +
			  ((e->held_head + k) % TG_NEIGH_HOLD_MAX)];
}

static inline void
held_push(struct tg_forward_ctx *ctx, struct tg_neigh *e, struct rte_mbuf *m)
{
	*held_slot(ctx, e, e->n_held) = m;
	e->n_held++;
}

static inline struct rte_mbuf *
held_pop(struct tg_forward_ctx *ctx, struct tg_neigh *e)
{
	struct rte_mbuf *m = *held_slot(ctx, e, 0);

	e->held_head = (uint8_t)((e->held_head + 1) % TG_NEIGH_HOLD_MAX);
	e->n_held--;
	return m;
}

/* Caller: count < cap, (addr, port) not present, inside a write section. */
static struct tg_neigh *
neigh_insert(struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port,
	uint8_t state, uint64_t now)
{
	uint32_t i = tg_neigh_slot(ctx, addr, port);
	struct tg_neigh *e;

	while (ctx->tab[i].state != 0)
		i = (i + 1) & ctx->mask;
	e = &ctx->tab[i];
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	e->port = port;
	e->state = state;
	e->blk = ctx->free_blk[--ctx->n_free_blk];
	e->confirmed_tsc = now;
	e->due_tsc = UINT64_MAX;
	ctx->count++;
	return e;
}

/* Backward-shift deletion (linear probing, no tombstones): entries after
 * the hole that may live there move up. Their hold blocks move with them.
 * Caller: no packets held, inside a write section. */
static void
neigh_delete(struct tg_forward_ctx *ctx, struct tg_neigh *e)
{
	uint32_t i = (uint32_t)(e - ctx->tab), j = i, k;

	ctx->free_blk[ctx->n_free_blk++] = e->blk;
	for (;;) {
		j = (j + 1) & ctx->mask;
		if (ctx->tab[j].state == 0)
			break;
		k = tg_neigh_slot(ctx, ctx->tab[j].addr, ctx->tab[j].port);
		if (j > i ? (k <= i || k > j) : (k <= i && k > j)) {
			ctx->tab[i] = ctx->tab[j];
			i = j;
		}
	}
	memset(&ctx->tab[i], 0, sizeof(ctx->tab[i]));
	ctx->count--;
}

/* Broadcast who-has for e->addr on e->port. 0, -ENOSPC (no emit room) or
 * -ENOMEM (no mbuf). */
static int
arp_request(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_neigh *e, struct tg_emit *emit, uint64_t now)
{
	const struct tg_iface *ifc = &ft->ifaces[e->port];
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct tg_meta *meta;
	struct rte_mbuf *m;

	if (tg_emit_room(emit) == 0)
		return -ENOSPC;
	m = rte_pktmbuf_alloc(ctx->mp);
	if (m == NULL) {
		ctx->cnt[TG_FORWARD_CNT_ARP_NOMEM]++;
		return -ENOMEM;
	}
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, ETH_LEN + ARP_LEN);
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		ctx->cnt[TG_FORWARD_CNT_ARP_NOMEM]++;
		return -ENOMEM;
	}
	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&ifc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(ifc->addr);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(e->addr);
	m->l2_len = ETH_LEN;

	meta = tg_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->path = TG_PATH_ARP;
	meta->flags = TG_META_F_GENERATED;
	meta->rx_if = TG_IF_NONE;
	meta->tx_if = e->port;
	meta->nh_ip = e->addr;
	tg_emit_push_new(emit, m, TG_V_TX);

	ctx->cnt[TG_FORWARD_CNT_ARP_REQ_SENT]++;
	e->req_tsc = now;
	if (e->retries < UINT16_MAX)
		e->retries++;
	return 0;
}

/* Send held packets on their way. False if @p emit filled up first (the
 * rest stay held; the entry is due now so that the next tick goes on). */
static bool
neigh_release(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_neigh *e, struct tg_emit *emit, uint64_t now)
{
	const struct tg_iface *ifc = &ft->ifaces[e->port];

	while (e->n_held > 0) {
		struct rte_mbuf *m;
		struct tg_meta *meta;

		if (tg_emit_room(emit) == 0) {
			due_set(ctx, e, now);
			return false;
		}
		m = held_pop(ctx, e);
		if (unlikely(!ifc->configured)) {
			tg_emit_push(emit, m,
				TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE));
			continue;
		}
		tg_fwd_write_eth(m, &e->mac, &ifc->mac);
		meta = tg_meta(m);
		meta->tx_if = e->port;
		meta->nh_ip = e->addr;
		tg_emit_push(emit, m, TG_V_NEXT);
		ctx->cnt[TG_FORWARD_CNT_RELEASED]++;
	}
	return true;
}

/* Emit every held packet as a drop. Caller checked the room. */
static void
neigh_drop_held(struct tg_forward_ctx *ctx, struct tg_neigh *e,
	struct tg_emit *emit, uint16_t reason)
{
	while (e->n_held > 0)
		tg_emit_push(emit, held_pop(ctx, e), TG_V_DROP(reason));
}

uint16_t
tg_neigh_hold(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_neigh *e, struct rte_mbuf *m)
{
	if (e->n_held >= tg_neigh_hold_limit(ft))
		return TG_V_DROP(TG_FORWARD_DROP_ARP_HOLD_FULL);
	wbegin(ctx);
	held_push(ctx, e, m);
	wend(ctx);
	ctx->cnt[TG_FORWARD_CNT_HELD]++;
	return TG_V_STOLEN;
}

/* Start (or restart) resolution of @p e: hold @p m, send a request. */
static uint16_t
neigh_resolve_start(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct tg_neigh *e, struct rte_mbuf *m,
	struct tg_emit *emit, uint64_t now)
{
	uint16_t v = TG_V_DROP(TG_FORWARD_DROP_ARP_HOLD_FULL);

	e->state = TG_NEIGH_INCOMPLETE;
	e->retries = 0;
	if (e->n_held < tg_neigh_hold_limit(ft)) {
		held_push(ctx, e, m);
		ctx->cnt[TG_FORWARD_CNT_HELD]++;
		v = TG_V_STOLEN;
	}
	/* Without room or mbuf now, the next tick sends the first one. */
	if (arp_request(ft, ctx, e, emit, now) == 0)
		due_set(ctx, e, now + ft->params.retry_tsc);
	else
		due_set(ctx, e, now);
	return v;
}

uint16_t
tg_neigh_miss(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct rte_mbuf *m, uint16_t port, uint32_t nh, struct tg_emit *emit,
	uint64_t now)
{
	struct tg_neigh *e;
	uint16_t v;

	if (ctx->count >= ctx->cap)
		return TG_V_DROP(TG_FORWARD_DROP_NEIGH_FULL);
	wbegin(ctx);
	e = neigh_insert(ctx, nh, port, TG_NEIGH_INCOMPLETE, now);
	v = neigh_resolve_start(ft, ctx, e, m, emit, now);
	wend(ctx);
	return v;
}

uint16_t
tg_neigh_stale_use(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct tg_neigh *e, struct rte_mbuf *m,
	struct tg_emit *emit, uint64_t now)
{
	uint16_t v;

	wbegin(ctx);
	if (e->retries >= ft->params.max_retries) {
		/* Re-requests went unanswered: resolve from scratch, the
		 * way an INCOMPLETE entry does (Linux: PROBE → FAILED). */
		v = neigh_resolve_start(ft, ctx, e, m, emit, now);
		wend(ctx);
		return v;
	}
	arp_request(ft, ctx, e, emit, now);
	e->req_tsc = now; /* also when it failed: once per interval */
	due_set(ctx, e, now + ft->params.reachable_tsc);
	wend(ctx);
	tg_fwd_write_eth(m, &e->mac, &ft->ifaces[e->port].mac);
	tg_meta(m)->tx_if = e->port;
	tg_meta(m)->nh_ip = e->addr;
	return TG_V_NEXT;
}

/* A confirmation of @p e's address at @p mac: REACHABLE, release. */
static void
neigh_confirm(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_neigh *e, const struct rte_ether_addr *mac,
	struct tg_emit *emit, uint64_t now)
{
	rte_ether_addr_copy(mac, &e->mac);
	e->state = TG_NEIGH_REACHABLE;
	e->retries = 0;
	e->confirmed_tsc = now;
	due_set(ctx, e, now + ft->params.reachable_tsc);
	ctx->cnt[TG_FORWARD_CNT_ARP_LEARNED]++;
	neigh_release(ft, ctx, e, emit, now);
}

/*
 * What ARP input decides for @p m from the frame and the table alone:
 * malformed, no interface, a reply to send (TG_V_TX), not ours, or a
 * reply or gratuitous ARP taken in. The burst and explain both ask it.
 */
static uint16_t
arp_judge(const struct tg_forward_table *ft, struct rte_mbuf *m,
	struct tg_arp_why *w)
{
	const struct rte_arp_hdr *arp =
		rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, ETH_LEN);
	const struct tg_iface *ifc;
	uint16_t port = tg_meta(m)->rx_if;

	memset(w, 0, sizeof(*w));
	if (unlikely(m->data_len < ETH_LEN + ARP_LEN))
		return TG_V_DROP(TG_FORWARD_DROP_ARP_MALFORMED);
	w->op = rte_be_to_cpu_16(arp->arp_opcode);
	if (arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
		arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4 ||
		(w->op != RTE_ARP_OP_REQUEST && w->op != RTE_ARP_OP_REPLY))
		return TG_V_DROP(TG_FORWARD_DROP_ARP_MALFORMED);
	if (port >= RTE_MAX_ETHPORTS || !ft->ifaces[port].configured)
		return TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE);
	ifc = &ft->ifaces[port];
	w->sip = rte_be_to_cpu_32(arp->arp_data.arp_sip);
	w->tip = rte_be_to_cpu_32(arp->arp_data.arp_tip);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &w->sha);
	w->for_us = w->op == RTE_ARP_OP_REQUEST && w->tip == ifc->addr;
	/* Learn like Linux (arp_accept=0): update an entry we have (its key
	 * includes the port: we resolve that address on this interface), or
	 * create one when a neighbor on the subnet asks for us. Never from
	 * probes (sip 0), conflicts (our address), group MACs, statics. */
	/* the frame's own bytes: rte_is_zero_ether_addr() reads 16-bit
	 * words, and on w->sha, just zeroed then copied as bytes, GCC may
	 * see the zeros (strict aliasing) */
	w->may_learn = !tg_ipv4_is_martian_src(w->sip) && w->sip != ifc->addr &&
		       rte_is_unicast_ether_addr(&arp->arp_data.arp_sha) &&
		       !rte_is_zero_ether_addr(&arp->arp_data.arp_sha);
	w->may_create = w->may_learn && w->for_us &&
			((w->sip ^ ifc->addr) & ifc->mask) == 0;
	if (w->for_us)
		return TG_V_TX;
	if (w->op == RTE_ARP_OP_REQUEST && w->sip != w->tip)
		return TG_V_DROP(TG_FORWARD_DROP_ARP_NOT_OURS);
	return TG_V_DROP(TG_FORWARD_DROP_ARP_REPLY); /* reply or gratuitous */
}

/* The request @p m turned into our reply, from @p ifc's address. */
static void
arp_reply_write(struct rte_mbuf *m, const struct tg_iface *ifc,
	const struct tg_arp_why *w)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	rte_ether_addr_copy(&w->sha, &eth->dst_addr);
	rte_ether_addr_copy(&ifc->mac, &eth->src_addr);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&w->sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	rte_ether_addr_copy(&ifc->mac, &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = rte_cpu_to_be_32(ifc->addr);
	tg_meta(m)->tx_if = tg_meta(m)->rx_if;
	tg_meta(m)->nh_ip = w->sip;
}

uint16_t
tg_neigh_arp_input(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct rte_mbuf *m, struct tg_emit *emit,
	uint64_t now)
{
	uint16_t port = tg_meta(m)->rx_if;
	struct tg_arp_why w;
	struct tg_neigh *e;
	uint16_t v;

	v = arp_judge(ft, m, &w);
	if (v == TG_V_DROP(TG_FORWARD_DROP_ARP_MALFORMED) ||
		v == TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE))
		return v;
	if (w.may_learn) {
		e = tg_neigh_find(ctx, w.sip, port);
		wbegin(ctx);
		if (e == NULL && w.may_create && ctx->count < ctx->cap)
			e = neigh_insert(
				ctx, w.sip, port, TG_NEIGH_REACHABLE, now);
		if (e != NULL && e->state != TG_NEIGH_STATIC)
			neigh_confirm(ft, ctx, e, &w.sha, emit, now);
		wend(ctx);
	}
	if (v == TG_V_TX) {
		arp_reply_write(m, &ft->ifaces[port], &w);
		ctx->cnt[TG_FORWARD_CNT_ARP_REPLY_SENT]++;
	}
	return v;
}

uint16_t
tg_neigh_arp_explain(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	struct tg_arp_why *w)
{
	uint16_t v = arp_judge(ft, m, w);
	struct tg_neigh_info ni;

	if (v == TG_V_DROP(TG_FORWARD_DROP_ARP_MALFORMED) ||
		v == TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE))
		return v;
	/* what the burst's learning would do: an entry it has (not a
	 * static one) confirmed, or a new one (room permitting) */
	if (w->may_learn) {
		if (tg_forward_neigh_lookup(
			    ft, ctx, w->sip, tg_meta(m)->rx_if, now, &ni) == 0)
			w->learn = ni.state == TG_NEIGH_STATIC
					   ? TG_ARP_LEARN_STATIC
					   : TG_ARP_LEARN_UPDATE;
		else if (w->may_create)
			w->learn = TG_ARP_LEARN_NEW;
	}
	if (v == TG_V_TX)
		arp_reply_write(m, &ft->ifaces[tg_meta(m)->rx_if], w);
	return v;
}

/* May a dynamic entry for @p addr live on @p port under this table? */
static bool
neigh_onlink(const struct tg_forward_table *ft, uint16_t port, uint32_t addr)
{
	const struct tg_iface *ifc = &ft->ifaces[port];
	uint64_t idx;
	uint32_t i;

	if (!ifc->configured || addr == ifc->addr)
		return false;
	if (((addr ^ ifc->addr) & ifc->mask) == 0)
		return true;
	/* On-link static routes and gateways outside the subnet. */
	rte_fib_lookup_bulk(ft->fib, &addr, &idx, 1);
	if (idx < ft->n_nh && ft->nh[idx].type == TG_NH_CONNECTED &&
		ft->nh[idx].port == port)
		return true;
	for (i = 0; i < ft->n_nh; i++)
		if (ft->nh[i].type == TG_NH_VIA && ft->nh[i].via == addr &&
			ft->nh[i].port == port)
			return true;
	return false;
}

static bool
static_configured(const struct tg_forward_table *ft, const struct tg_neigh *e)
{
	uint32_t i;

	for (i = 0; i < ft->n_static; i++)
		if (ft->statics[i].addr == e->addr &&
			ft->statics[i].port == e->port)
			return true;
	return false;
}

/* Pass 1 of the resync: remove what the new table no longer allows. */
static int
resync_remove(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_emit *emit, uint64_t now)
{
	uint32_t i = 0;

	while (i <= ctx->mask) {
		struct tg_neigh *e = &ctx->tab[i];

		if (e->state == 0 ||
			(e->state == TG_NEIGH_STATIC
					? static_configured(ft, e)
					: neigh_onlink(ft, e->port, e->addr))) {
			i++;
			continue;
		}
		if (e->state == TG_NEIGH_STATIC) {
			if (!neigh_release(ft, ctx, e, emit, now))
				return -ENOSPC;
		} else {
			if (tg_emit_room(emit) < e->n_held)
				return -ENOSPC;
			neigh_drop_held(
				ctx, e, emit, TG_FORWARD_DROP_NO_INTERFACE);
		}
		neigh_delete(ctx, e); /* slot i now holds the next candidate */
	}
	return 0;
}

int
tg_neigh_resync(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_emit *emit, uint64_t now)
{
	uint32_t i;
	int rc;

	wbegin(ctx);
	rc = resync_remove(ft, ctx, emit, now);
	for (i = 0; rc == 0 && i < ft->n_static; i++) {
		const struct tg_static_neigh *s = &ft->statics[i];
		struct tg_neigh *e = tg_neigh_find(ctx, s->addr, s->port);

		if (e == NULL) {
			/* A full cache keeps its dynamic entries: the static
			 * one is added by a later reload. */
			if (ctx->count >= ctx->cap)
				continue;
			e = neigh_insert(
				ctx, s->addr, s->port, TG_NEIGH_STATIC, now);
		}
		rte_ether_addr_copy(&s->mac, &e->mac);
		e->state = TG_NEIGH_STATIC;
		e->retries = 0;
		e->confirmed_tsc = now;
		e->due_tsc = UINT64_MAX;
		/* Packets that waited for a dynamic resolution go now. */
		if (!neigh_release(ft, ctx, e, emit, now))
			rc = -ENOSPC;
	}
	wend(ctx);
	return rc;
}

/* Timers of one entry. 0 done, 1 deleted (look at the slot again), -1 out
 * of emit room (stop, go on next tick). Inside a write section. */
static int
neigh_timer(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	struct tg_neigh *e, struct tg_emit *emit, uint64_t now)
{
	const struct tg_forward_params *p = &ft->params;
	struct rte_mbuf *first;

	if (now < e->due_tsc)
		return 0;
	switch (e->state) {
	case TG_NEIGH_INCOMPLETE:
		if (e->retries < p->max_retries) {
			int rc = arp_request(ft, ctx, e, emit, now);

			if (rc == -ENOSPC)
				return -1;
			/* No mbuf: counted as an attempt all the same, so
			 * that an empty pool cannot keep packets forever. */
			if (rc == -ENOMEM && e->retries < UINT16_MAX)
				e->retries++;
			e->due_tsc = now + p->retry_tsc;
			return 0;
		}
		if (tg_emit_room(emit) < (uint32_t)e->n_held + 1)
			return -1;
		e->state = TG_NEIGH_FAILED;
		e->due_tsc = now + p->failed_hold_tsc;
		if (e->n_held > 0) {
			first = held_pop(ctx, e);
			tg_fwd_icmp_error(ft, ctx, first, 3, 1, 0, emit, now);
			tg_emit_push(emit, first,
				TG_V_DROP(TG_FORWARD_DROP_ARP_FAILED));
			neigh_drop_held(
				ctx, e, emit, TG_FORWARD_DROP_ARP_FAILED);
		}
		return 0;
	case TG_NEIGH_REACHABLE:
		if (!neigh_release(ft, ctx, e, emit, now))
			return -1;
		if (now >= e->confirmed_tsc + p->reachable_tsc) {
			e->state = TG_NEIGH_STALE;
			e->retries = 0;
			e->req_tsc = now - p->retry_tsc; /* first use asks */
			e->due_tsc = now + p->reachable_tsc;
		} else {
			e->due_tsc = e->confirmed_tsc + p->reachable_tsc;
		}
		return 0;
	case TG_NEIGH_STATIC:
		if (!neigh_release(ft, ctx, e, emit, now))
			return -1;
		e->due_tsc = UINT64_MAX;
		return 0;
	default: /* STALE unused for a reachable period, FAILED expired */
		if (e->n_held > 0) {
			if (tg_emit_room(emit) < e->n_held)
				return -1;
			neigh_drop_held(
				ctx, e, emit, TG_FORWARD_DROP_ARP_FAILED);
		}
		neigh_delete(ctx, e);
		return 1;
	}
}

void
tg_forward_tick(const struct tg_forward_table *ft, struct tg_forward_ctx *ctx,
	uint64_t now, struct tg_emit *emit)
{
	uint64_t next = UINT64_MAX;
	uint32_t i = 0;
	int rc;

	tg_fwd_sync(ft, ctx, now, emit);
	if (likely(now < ctx->next_due))
		return;
	/* next_due is recomputed from the entries below. */
	ctx->next_due = UINT64_MAX;
	while (i <= ctx->mask) {
		struct tg_neigh *e = &ctx->tab[i];

		if (e->state == 0) {
			i++;
			continue;
		}
		wbegin(ctx);
		rc = neigh_timer(ft, ctx, e, emit, now);
		wend(ctx);
		if (rc < 0) {
			next = now;
			break;
		}
		if (rc == 0) {
			if (e->due_tsc < next)
				next = e->due_tsc;
			i++;
		}
	}
	/* due_set() calls during the scan may have lowered next_due. */
	ctx->next_due = RTE_MIN(ctx->next_due, next);
}

struct tg_forward_ctx *
tg_forward_ctx_create(
	struct rte_mempool *mp, uint32_t max_neighbors, int socket)
{
	struct tg_forward_ctx *ctx;
	uint32_t cap, slots, i;

	if (mp == NULL || max_neighbors == 0 || max_neighbors > NEIGH_MAX_CAP) {
		rte_errno = EINVAL;
		return NULL;
	}
	cap = rte_align32pow2(max_neighbors);
	/* Twice the slots: probe sequences stay short, misses terminate. */
	slots = 2 * cap;
	ctx = rte_zmalloc_socket(
		"tg_fwd_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE, socket);
	if (ctx == NULL)
		goto nomem;
	ctx->tab = rte_zmalloc_socket("tg_fwd_neigh", sizeof(*ctx->tab) * slots,
		RTE_CACHE_LINE_SIZE, socket);
	ctx->held = rte_zmalloc_socket("tg_fwd_held",
		sizeof(*ctx->held) * (size_t)cap * TG_NEIGH_HOLD_MAX,
		RTE_CACHE_LINE_SIZE, socket);
	ctx->free_blk = rte_malloc_socket(
		"tg_fwd_blk", sizeof(*ctx->free_blk) * cap, 0, socket);
	if (ctx->tab == NULL || ctx->held == NULL || ctx->free_blk == NULL)
		goto nomem;
	for (i = 0; i < cap; i++)
		ctx->free_blk[i] = cap - 1 - i;
	ctx->n_free_blk = cap;
	ctx->cap = cap;
	ctx->mask = slots - 1;
	ctx->shift = 64 - rte_log2_u32(slots);
	ctx->mp = mp;
	ctx->hz = rte_get_tsc_hz();
	ctx->socket = socket;
	ctx->next_due = 0;
	rte_seqcount_init(&ctx->sc);
	return ctx;
nomem:
	tg_forward_ctx_free(ctx);
	rte_errno = ENOMEM;
	return NULL;
}

void
tg_forward_ctx_free(struct tg_forward_ctx *ctx)
{
	uint32_t i;

	if (ctx == NULL)
		return;
	for (i = 0; ctx->tab != NULL && i <= ctx->mask; i++)
		while (ctx->tab[i].state != 0 && ctx->tab[i].n_held > 0)
			rte_pktmbuf_free(held_pop(ctx, &ctx->tab[i]));
	rte_free(ctx->tab);
	rte_free(ctx->held);
	rte_free(ctx->free_blk);
	rte_free(ctx);
}

const uint64_t *
tg_forward_ctx_counters(const struct tg_forward_ctx *ctx)
{
	return ctx->cnt;
}

int
tg_forward_neigh_lookup(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port,
	uint64_t now, struct tg_neigh_info *out)
{
	uint32_t sn, i, k;
	int rc;

	/* The table's static neighbors first: forward's next burst puts
	 * them into the cache before it resolves (a new snapshot's may not
	 * be there yet). */
	for (i = 0; i < ft->n_static; i++)
		if (ft->statics[i].addr == addr &&
			ft->statics[i].port == port) {
			memset(out, 0, sizeof(*out));
			out->addr = addr;
			out->port = port;
			out->mac = ft->statics[i].mac;
			out->state = TG_NEIGH_STATIC;
			return 0;
		}
	do {
		sn = rte_seqcount_read_begin(&ctx->sc);
		rc = -ENOENT;
		/* tg_neigh_find()'s probe, bounded: the table may change
		 * under it (the retry then throws the answer away). */
		i = tg_neigh_slot(ctx, addr, port);
		for (k = 0; k <= ctx->mask; k++) {
			struct tg_neigh e = ctx->tab[i];

			if (e.state == 0)
				break;
			if (e.addr == addr && e.port == port) {
				out->addr = e.addr;
				out->port = e.port;
				out->mac = e.mac;
				out->state = e.state;
				out->held = e.n_held;
				out->age_ms =
					(e.state == TG_NEIGH_STATIC ||
						now <= e.confirmed_tsc)
						? 0
						: (uint32_t)RTE_MIN(
							  (now - e.confirmed_tsc) *
								  1000 /
								  ctx->hz,
							  (uint64_t)UINT32_MAX);
				/* stale and due for a new request: as
				 * fwd_resolve() tells them apart */
				out->req_due =
					e.state == TG_NEIGH_STALE &&
					now - e.req_tsc >= ft->params.retry_tsc;
				rc = 0;
				break;
			}
			i = (i + 1) & ctx->mask;
		}
	} while (rte_seqcount_read_retry(&ctx->sc, sn));
	return rc;
}

uint32_t
tg_forward_neighbors_read(const struct tg_forward_ctx *ctx, uint64_t now,
	uint32_t start, struct tg_neigh_info *out, uint32_t max,
	uint32_t *total)
{
	uint32_t sn, i, n, copied;

	do {
		sn = rte_seqcount_read_begin(&ctx->sc);
		n = 0;
		copied = 0;
		for (i = 0; i <= ctx->mask; i++) {
			struct tg_neigh e = ctx->tab[i];
			struct tg_neigh_info *o;

			if (e.state == 0)
				continue;
			if (n++ < start || copied >= max)
				continue;
			o = &out[copied++];
			o->addr = e.addr;
			o->port = e.port;
			o->mac = e.mac;
			o->state = e.state;
			o->held = e.n_held;
			o->age_ms = (e.state == TG_NEIGH_STATIC ||
					    now <= e.confirmed_tsc)
					    ? 0
					    : (uint32_t)RTE_MIN(
						      (now - e.confirmed_tsc) *
							      1000 / ctx->hz,
						      (uint64_t)UINT32_MAX);
		}
	} while (rte_seqcount_read_retry(&ctx->sc, sn));
	if (total != NULL)
		*total = n;
	return copied;
}
