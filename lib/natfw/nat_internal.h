/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: what nat_table.c and nat_expire.c share and callers do not see:
 * the expiry wheel's link operations, session removal, sequence brackets.
 */
#ifndef TG_NAT_INTERNAL_H
#define TG_NAT_INTERNAL_H

#include <string.h>

#include "nat_table.h"

/** Signed distance from @p b to @p a on the caller's 32-bit clock (it
 *  may wrap). */
static inline int32_t
nat_tdiff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* The writer's side of the record's sequence (rte_seqcount's order). */
static inline void
nat_seq_begin(struct tg_nat_sess *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
nat_seq_end(struct tg_nat_sess *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static inline uint32_t
nat_timeout(const struct tg_nat_table *t, uint8_t c)
{
	return __atomic_load_n(&t->timeouts[c], __ATOMIC_RELAXED);
}

/** Write every page of a new allocation of @p size bytes at @p p (zeros:
 *  it is already zero). rte_zmalloc() skips its memset on memory it
 *  knows is clean, so without this the pages of a table's indexes and
 *  port arrays are first touched by the worker, one page fault per page
 *  on the packet path (with --no-huge most of the cost of a new session
 *  at ten million). Control thread, at creation. */
static inline void
tg_nat_prefault(void *p, size_t size)
{
	memset(p, 0, size);
}

/**
 * A zeroed, prefaulted array of @p size bytes for the table's largest
 * parts (records, indexes). From rte_malloc when the EAL has hugepages;
 * without them (--no-huge: rte_malloc's memory is 4 KiB pages) an array
 * of at least TG_NAT_THP_MIN bytes is mapped apart and asked for
 * transparent huge pages, because at millions of sessions every random
 * lookup would otherwise also miss the TLB (a page walk per bucket and
 * per record). Free with tg_nat_big_free(). NULL when out of memory.
 * Control thread.
 */
void *tg_nat_big_zalloc(const char *what, size_t size, int socket);
void tg_nat_big_free(void *p);

#define TG_NAT_THP_MIN (4u << 20)

/** Queue session @p idx in the wheel slot of time @p due (clamped into
 *  the wheel's span from its cursor). nat_expire.c. */
void nat_wheel_add(struct tg_nat_table *t, uint32_t idx, uint32_t due);

/** Take session @p idx off the wheel. nat_expire.c. */
void nat_wheel_del(struct tg_nat_table *t, uint32_t idx);

/** Start the wheel at time @p now if nothing did yet. nat_expire.c. */
void nat_wheel_start(struct tg_nat_table *t, uint32_t now);

/** Delete session @p idx (in use, already off the wheel): indexes,
 *  mapping, host, free list. Counts nothing. nat_table.c. */
void nat_sess_remove(struct tg_nat_table *t, uint32_t idx);

#endif /* TG_NAT_INTERNAL_H */
