/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: what the burst path (natfw_dp.c) and its PPTP part (natfw_pptp.c)
 * share and callers do not see: drop verdicts, a table failure as a drop
 * reason, the session lookups that know about a reload's leftovers.
 */
#ifndef TG_NATFW_INTERNAL_H
#define TG_NATFW_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "nat_table.h"
#include "tg_natfw.h"

#define V_DROP(r) TG_V_DROP(TG_NATFW_DROP_##r)

/* A table failure as the stage's drop reason. */
static inline uint16_t
natfw_drop_of(int rc)
{
	switch (rc) {
	case -ENOSPC:
	case -ENOBUFS: /* mappings full: every mapping has a session */
		return V_DROP(SESSIONS_FULL);
	case -EDQUOT:
		return V_DROP(HOST_LIMIT);
	case -EADDRINUSE:
		return V_DROP(PORTS_FULL);
	default:
		return V_DROP(TABLE_FULL);
	}
}

/* tg_nat_keep_fn of the sweep (natfw_dp.c): does session @p idx still
 * fit snapshot @p ctx (a struct tg_natfw_table)? */
bool tg_natfw_sess_fits(
	const void *ctx, const struct tg_nat_table *tab, uint32_t idx);

/* A lookup found session @p idx while a sweep runs (it may not have got
 * there yet): one that no longer fits is deleted here, counted, and the
 * packet is a new flow. True when it was. Cheap without a sweep. */
static inline bool
natfw_sess_gone(
	const struct tg_natfw_table *nt, struct tg_nat_table *tab, uint32_t idx)
{
	if (likely(!tg_nat_table_sweeping(tab)) || idx == TG_NAT_NONE ||
		tg_natfw_sess_fits(nt, tab, idx))
		return false;
	tg_nat_sess_drop(tab, idx);
	return true;
}

/* The session lookup of the stage in direction @p dir: a session left
 * behind by a reload is none (another one may have the same key: look
 * again). */
static inline uint32_t
natfw_lookup(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	enum tg_nat_dir dir, const struct tg_nat_key *k)
{
	uint32_t idx;

	do
		idx = tg_nat_sess_lookup_h(
			tab, dir, tg_nat_key_hash(tab, dir, k), k);
	while (natfw_sess_gone(nt, tab, idx));
	return idx;
}

/* The session of @p k in direction @p dir copied into @p copy, read off
 * the writer lcore (tg_nat_sess_find()); one a reload left without room
 * counts as none, as natfw_lookup() says. For explain (natfw_dp.c). */
bool natfw_find(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	enum tg_nat_dir dir, const struct tg_nat_key *k,
	struct tg_nat_sess *copy);

#endif /* TG_NATFW_INTERNAL_H */
