/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration snapshot the workers read: every component's immutable
 * table, built together from one config model and published with one
 * atomic store (ARCHITECTURE.md section 3).
 */
#ifndef TG_TABLES_H
#define TG_TABLES_H

#include <stdint.h>
#include <rte_rcu_qsbr.h>

#include "tg_config.h"
#include "tg_filter.h"
#include "tg_forward.h"
#include "tg_ipsec_stage.h"
#include "tg_localfilter.h"
#include "tg_natfw.h"

struct tg_tables {
	uint64_t generation;
	uint64_t load_time;    /**< time(NULL) when published */
	struct tg_config *cfg; /**< the model it was built from */
	/** Stages with work in this snapshot (bit 1 << enum tg_stage). The
	 *  dispatcher moves packets past the others without a ring hop and
	 *  counts them as bypassed, as VPP leaves disabled features off an
	 *  arc. */
	uint32_t active_stages;
	/** Per stage, the modes (bit 1 << enum tg_mode) with work: a step
	 *  of an active stage whose mode has none is passed by too (filter
	 *  with inbound lists only: its out steps). */
	uint8_t stage_modes[TG_STAGE__COUNT];
	/** Per stage, the meta flags (TG_META_F_*) that leave it nothing to
	 *  do in the out mode: a bulk hand-off of packets that all carry
	 *  them passes the step by, counted as bypassed (0: none). ipsec
	 *  without outbound policies: the packets ipsec(in) decrypted, which
	 *  ipsec(out) would only let through. */
	uint8_t stage_pass_out[TG_STAGE__COUNT];
	struct tg_forward_table *forward;
	struct tg_localfilter_table *localfilter;
	struct tg_filter_table *filter;
	struct tg_natfw_table *natfw;
	struct tg_ipsec_table *ipsec;
};

/**
 * Where workers find the current snapshot. One writer (the control path,
 * serialised by its lock), readers are the worker lcores, each reporting
 * quiescent state to @p qsv once per poll-loop iteration.
 */
struct tg_snapshot_slot {
	struct tg_tables *cur;
	struct rte_rcu_qsbr *qsv;
};

/** Worker side: the snapshot to use for this iteration. */
static inline const struct tg_tables *
tg_snapshot_get(const struct tg_snapshot_slot *slot)
{
	return __atomic_load_n(&slot->cur, __ATOMIC_ACQUIRE);
}

#endif /* TG_TABLES_H */
