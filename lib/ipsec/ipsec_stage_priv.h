/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec stage: its state, shared by the control side (ipsec_build.c) and
 * the dataplane (ipsec_stage.c).
 */
#ifndef TG_IPSEC_STAGE_PRIV_H
#define TG_IPSEC_STAGE_PRIV_H

#include "tg_ipsec_stage.h"

/* One live SA: the object the tables point at, and the definition it was
 * made from, to find it again at the next reload. */
struct tg_ipsec_reg {
	struct tg_ipsec_sa *sa;
	struct tg_cfg_ipsec_sa def;
};

struct tg_ipsec_stage {
	struct tg_ipsec_ctx *ctx;
	/* Packets in the crypto device: written by the stage's lcore,
	 * read by telemetry. */
	uint64_t inflight;
	uint32_t n_reg, max_reg;
	struct tg_ipsec_reg *reg; /* control thread only */
	char device[TG_DEVARG_MAX];
	uint16_t port_id[TG_MAX_PORTS]; /* by cfg port index */
	uint16_t n_ports;
	struct rte_mempool *mp;
	/* forward's neighbor cache when forward runs on this stage's lcore
	 * (tg_ipsec_stage_set_forward), else NULL */
	const struct tg_forward_ctx *fwd_ctx;
	/* ICMP errors: the stage lcore's token bucket, set up again for
	 * each table (its icmp: settings) */
	struct tg_ratelimit rl;
	const struct tg_ipsec_table *rl_table;
};

#endif /* TG_IPSEC_STAGE_PRIV_H */
