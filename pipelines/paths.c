/* SPDX-License-Identifier: BSD-3-Clause
 * The seed's three packet paths, as data (ARCHITECTURE.md section 2). The
 * dispatcher reads this table; no component re-codes the order.
 */
#include <stddef.h>

#include "tg_pipeline.h"

#define STEP(s, m)                                                             \
	{                                                                      \
		.stage = TG_STAGE_##s, .mode = TG_MODE_##m                     \
	}
#define END(e)                                                                 \
	{                                                                      \
		.stage = TG_STEP_##e, .mode = TG_MODE_NONE                     \
	}

const struct tg_path_def tg_paths[TG_PATH__COUNT] = {
	/* sent by the local host */
	[TG_PATH_SOURCE] = {"source", 5,
		{STEP(NATFW, OUT), STEP(FORWARD, OUT), STEP(FILTER, OUT),
			STEP(IPSEC, OUT), END(TX)}},
	/* addressed to the local host */
	[TG_PATH_TARGET] = {"target", 5,
		{STEP(IPSEC, IN), STEP(FILTER, IN), STEP(NATFW, IN),
			STEP(LOCALFILTER, IN), END(HOST)}},
	/* forwarded */
	[TG_PATH_TRANSIT] = {"transit", 6,
		{STEP(FILTER, IN), STEP(FORWARD, TRANSIT), STEP(NATFW, TRANSIT),
			STEP(FILTER, OUT), STEP(IPSEC, OUT), END(TX)}},
	/* ARP is not IP: forward answers and learns, replies go straight out */
	[TG_PATH_ARP] = {"arp", 2, {STEP(FORWARD, ARP), END(TX)}},
	/* what a tunnel-mode SA made, routed to the tunnel's far end */
	[TG_PATH_TUNNEL] = {"tunnel", 2, {STEP(FORWARD, OUT), END(TX)}},
	/* the same, its next hop resolved by ipsec(out) */
	[TG_PATH_TUNNEL_DIRECT] = {"tunnel_direct", 1, {END(TX)}},
};

int
tg_path_find_stage(enum tg_path path, uint8_t stage)
{
	const struct tg_path_def *p;
	int i;

	if ((unsigned int)path >= TG_PATH__COUNT)
		return -1;
	p = &tg_paths[path];
	for (i = 0; i < p->n_steps; i++)
		if (p->steps[i].stage == stage)
			return i;
	return -1;
}

const char *
tg_mode_name(uint8_t mode)
{
	static const char *const names[] = {
		[TG_MODE_NONE] = "",
		[TG_MODE_IN] = "in",
		[TG_MODE_OUT] = "out",
		[TG_MODE_TRANSIT] = "transit",
		[TG_MODE_ARP] = "arp",
	};

	return mode < RTE_DIM(names) ? names[mode] : "?";
}

const char *
tg_stage_name(uint8_t stage)
{
	if (stage < TG_STAGE__COUNT)
		return tg_cfg_stage_names[stage];
	if (stage == TG_STEP_TX)
		return "tx";
	if (stage == TG_STEP_HOST)
		return "host";
	return "?";
}
