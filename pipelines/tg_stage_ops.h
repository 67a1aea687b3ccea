/* SPDX-License-Identifier: BSD-3-Clause
 * The one burst contract every stage implements (CONVENTIONS.md rule 4),
 * private to pipelines/: adapters from the snapshot to each component.
 */
#ifndef TG_STAGE_OPS_H
#define TG_STAGE_OPS_H

#include "tg_pipeline.h"

struct tg_stage_ops {
	const char *name;
	uint16_t n_drops;
	const char *const *drop_names;
	const char *const *drop_descs;
	/** Judge @p n packets: one verdict each; may push to @p emit. */
	void (*burst)(const struct tg_tables *t, void *ctx,
		struct rte_mbuf **pkts, uint16_t n, uint16_t *verdict,
		struct tg_emit *emit, uint64_t now);
	/** Timers; NULL when the stage has none. */
	void (*tick)(const struct tg_tables *t, void *ctx, uint64_t now,
		struct tg_emit *emit);
	/** The tick does per-packet work: count its cycles (tick_cycles). */
	bool tick_timed;
};

extern const struct tg_stage_ops tg_stage_ops[TG_STAGE__COUNT];

#endif /* TG_STAGE_OPS_H */
