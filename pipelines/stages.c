/* SPDX-License-Identifier: BSD-3-Clause
 * Stage adapters (snapshot → component table) and the global drop-reason
 * index built from every owner's X-macro list.
 */
#include <string.h>

#include "pipeline_priv.h"
#include "tg_stage_ops.h"

static void
forward_burst(const struct tg_tables *t, void *ctx, struct rte_mbuf **pkts,
	uint16_t n, uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	tg_forward_burst(t->forward, ctx, pkts, n, verdict, emit, now);
}

static void
forward_tick(const struct tg_tables *t, void *ctx, uint64_t now,
	struct tg_emit *emit)
{
	tg_forward_tick(t->forward, ctx, now, emit);
}

static void
localfilter_burst(const struct tg_tables *t, void *ctx, struct rte_mbuf **pkts,
	uint16_t n, uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	tg_localfilter_burst(t->localfilter, ctx, pkts, n, verdict, now);
}

/* The filter stage serves two steps of the transit path (in on the
 * receiving interface, out on the next-hop one) from one ring: each
 * packet's path and step say which list applies (ctx->steps, filled from
 * tg_paths by the pipeline). */
static void
filter_burst(const struct tg_tables *t, void *ctx, struct rte_mbuf **pkts,
	uint16_t n, uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	tg_filter_burst_steps(t->filter, ctx, pkts, n, verdict);
}

static void
natfw_burst(const struct tg_tables *t, void *ctx, struct rte_mbuf **pkts,
	uint16_t n, uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	/* No session table: nat and firewall were off at start (a reload
	 * cannot turn them on: tg_control_check_restart_only()). */
	if (unlikely(ctx == NULL)) {
		memset(verdict, 0, sizeof(*verdict) * n); /* TG_V_NEXT */
		return;
	}
	tg_natfw_burst(t->natfw, ctx, pkts, n, verdict, now);
}

static void
natfw_tick(const struct tg_tables *t, void *ctx, uint64_t now,
	struct tg_emit *emit)
{
	if (ctx != NULL)
		tg_natfw_tick(t->natfw, ctx, now);
}

static void
ipsec_burst(const struct tg_tables *t, void *ctx, struct rte_mbuf **pkts,
	uint16_t n, uint16_t *verdict, struct tg_emit *emit, uint64_t now)
{
	/* No crypto device: ipsec was off at start, and a reload cannot
	 * turn it on (tg_ipsec_restart_only()). */
	if (unlikely(ctx == NULL)) {
		memset(verdict, 0, sizeof(*verdict) * n); /* TG_V_NEXT */
		return;
	}
	tg_ipsec_burst(
		t->ipsec, ctx, &t->forward->local, pkts, n, verdict, emit, now);
}

static void
ipsec_tick(const struct tg_tables *t, void *ctx, uint64_t now,
	struct tg_emit *emit)
{
	if (ctx != NULL)
		tg_ipsec_tick(t->ipsec, ctx, &t->forward->local, emit, now);
}

#define TG_X_NAME(n, s, d) s,
#define TG_X_DESC(n, s, d) d,
static const char *const pipeline_drop_names[] = {TG_PIPELINE_DROPS(TG_X_NAME)};
static const char *const pipeline_drop_descs[] = {TG_PIPELINE_DROPS(TG_X_DESC)};
#undef TG_X_NAME
#undef TG_X_DESC

const struct tg_stage_ops tg_stage_ops[TG_STAGE__COUNT] = {
	[TG_STAGE_FORWARD] =
		{
			.name = "forward",
			.n_drops = TG_FORWARD_DROP__COUNT,
			.drop_names = tg_forward_drop_names,
			.drop_descs = tg_forward_drop_descs,
			.burst = forward_burst,
			.tick = forward_tick,
		},
	[TG_STAGE_FILTER] =
		{
			.name = "filter",
			.n_drops = TG_FILTER_DROP__COUNT,
			.drop_names = tg_filter_drop_names,
			.drop_descs = tg_filter_drop_descs,
			.burst = filter_burst,
		},
	[TG_STAGE_NATFW] =
		{
			.name = "natfw",
			.n_drops = TG_NATFW_DROP__COUNT,
			.drop_names = tg_natfw_drop_names,
			.drop_descs = tg_natfw_drop_descs,
			.burst = natfw_burst,
			.tick = natfw_tick,
		},
	[TG_STAGE_IPSEC] =
		{
			.name = "ipsec",
			.n_drops = TG_IPSEC_DROP__COUNT,
			.drop_names = tg_ipsec_drop_names,
			.drop_descs = tg_ipsec_drop_descs,
			.burst = ipsec_burst,
			.tick = ipsec_tick,
			.tick_timed = true,
		},
	[TG_STAGE_LOCALFILTER] =
		{
			.name = "localfilter",
			.n_drops = TG_LOCALFILTER_DROP__COUNT,
			.drop_names = tg_localfilter_drop_names,
			.drop_descs = tg_localfilter_drop_descs,
			.burst = localfilter_burst,
		},
};

static uint16_t
owner_count(enum tg_drop_owner o)
{
	if (o == TG_OWNER_PKT)
		return TG_PKT_DROP__COUNT;
	if (o == TG_OWNER_PIPELINE)
		return TG_PIPELINE_DROP__COUNT;
	return tg_stage_ops[o - TG_OWNER_STAGE0].n_drops;
}

uint16_t
tg_drop_base(enum tg_drop_owner owner)
{
	uint16_t base = 0;
	int o;

	for (o = 0; o < (int)owner; o++)
		base += owner_count(o);
	return base;
}

uint16_t
tg_drop_count(void)
{
	return tg_drop_base(TG_OWNER__COUNT);
}

static const char *
drop_str(uint16_t idx, bool desc)
{
	int o;

	for (o = 0; o < TG_OWNER__COUNT; o++) {
		uint16_t c = owner_count(o);

		if (idx < c) {
			if (o == TG_OWNER_PKT)
				return desc ? tg_pkt_drop_descs[idx]
					    : tg_pkt_drop_names[idx];
			if (o == TG_OWNER_PIPELINE)
				return desc ? pipeline_drop_descs[idx]
					    : pipeline_drop_names[idx];
			return desc ? tg_stage_ops[o - TG_OWNER_STAGE0]
					       .drop_descs[idx]
				    : tg_stage_ops[o - TG_OWNER_STAGE0]
					       .drop_names[idx];
		}
		idx -= c;
	}
	return NULL;
}

const char *
tg_drop_name(uint16_t idx)
{
	return drop_str(idx, false);
}

const char *
tg_drop_desc(uint16_t idx)
{
	return drop_str(idx, true);
}
