/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: session expiry on a timing wheel (one slot per unit of the
 * caller's clock), so that neither packets nor expiry scan the table, and
 * the timeouts; the sweep that deletes, a bounded step at a time, the
 * sessions a new configuration has no room for.
 *
 * Why a wheel and not one FIFO per timeout class: a session that had
 * packets is re-queued when its first deadline passes, due at its last
 * packet + timeout, which is earlier than the deadlines of sessions
 * queued between its last packet and now. Appended behind them, it waits
 * for the FIFO's head to come due: up to a whole timeout late. A slot per
 * due time keeps every session in order, at O(1) per operation.
 */
#include <errno.h>

#include "nat_internal.h"

void
nat_wheel_start(struct tg_nat_table *t, uint32_t now)
{
	if (!t->wheel_started) {
		t->wheel_cur = now;
		t->wheel_started = true;
	}
}

void
nat_wheel_add(struct tg_nat_table *t, uint32_t idx, uint32_t due)
{
	struct tg_nat_sess *s = &t->sess[idx];
	uint32_t slot, head;

	/* Every queued session's slot time lies in [cur, cur + mask]: one
	 * time per slot. Earlier: the next call's; later: visited once a
	 * turn until due. */
	if (nat_tdiff(due, t->wheel_cur) < 0)
		due = t->wheel_cur;
	else if (due - t->wheel_cur > t->wheel_mask)
		due = t->wheel_cur + t->wheel_mask;
	slot = due & t->wheel_mask;
	head = t->wheel[slot];
	s->due = due;
	s->prev = TG_NAT_NONE;
	s->next = head;
	if (head != TG_NAT_NONE)
		t->sess[head].prev = idx;
	else
		t->wheel_bits[slot >> 6] |= UINT64_C(1) << (slot & 63);
	t->wheel[slot] = idx;
}

void
nat_wheel_del(struct tg_nat_table *t, uint32_t idx)
{
	struct tg_nat_sess *s = &t->sess[idx];

	if (s->prev != TG_NAT_NONE) {
		t->sess[s->prev].next = s->next;
	} else {
		uint32_t slot = s->due & t->wheel_mask;

		t->wheel[slot] = s->next;
		if (s->next == TG_NAT_NONE)
			t->wheel_bits[slot >> 6] &=
				~(UINT64_C(1) << (slot & 63));
	}
	if (s->next != TG_NAT_NONE)
		t->sess[s->next].prev = s->prev;
	s->next = TG_NAT_NONE;
	s->prev = TG_NAT_NONE;
}

/** Offset from slot @p from of the first non-empty slot among the next
 *  @p span + 1 (circular), or UINT32_MAX. */
static uint32_t
wheel_next(const struct tg_nat_table *t, uint32_t from, uint32_t span)
{
	uint32_t off = 0;

	while (off <= span) {
		uint32_t slot = (from + off) & t->wheel_mask;
		uint64_t w = t->wheel_bits[slot >> 6] >> (slot & 63);

		if (w != 0) {
			off += (uint32_t)__builtin_ctzll(w);
			return off <= span ? off : UINT32_MAX;
		}
		off += 64 - (slot & 63);
	}
	return UINT32_MAX;
}

uint32_t
tg_nat_table_expire(struct tg_nat_table *t, uint32_t now, uint32_t budget)
{
	uint32_t visits = 0, deleted = 0;

	nat_wheel_start(t, now);
	while (visits < budget && nat_tdiff(now, t->wheel_cur) >= 0) {
		uint32_t span = RTE_MIN(now - t->wheel_cur, t->wheel_mask);
		uint32_t off = wheel_next(t, t->wheel_cur, span);
		uint32_t slot;

		if (off == UINT32_MAX) {
			t->wheel_cur = now;
			break;
		}
		t->wheel_cur += off;
		slot = t->wheel_cur & t->wheel_mask;
		while (t->wheel[slot] != TG_NAT_NONE && visits < budget) {
			uint32_t idx = t->wheel[slot];
			struct tg_nat_sess *s = &t->sess[idx];
			uint32_t due = s->last + nat_timeout(t, s->tmo_class);

			visits++;
			nat_wheel_del(t, idx);
			if (nat_tdiff(now, due) >= 0) {
				nat_sess_remove(t, idx);
				t->stats.expired++;
				t->stats.sessions--;
				deleted++;
			} else {
				nat_wheel_add(t, idx, due);
			}
		}
		if (t->wheel[slot] != TG_NAT_NONE)
			break; /* out of budget: this slot first next time */
		if (t->wheel_cur == now)
			break;
		t->wheel_cur++;
	}
	t->stats.expire_visits += visits;
	return deleted;
}

int
tg_nat_table_set_timeouts(
	struct tg_nat_table *t, const uint32_t *timeouts, uint8_t n)
{
	uint8_t c;

	if (t == NULL || timeouts == NULL || n == 0 || n > t->n_classes)
		return -EINVAL;
	for (c = 0; c < n; c++)
		if (timeouts[c] == 0)
			return -EINVAL;
	for (c = 0; c < n; c++)
		__atomic_store_n(
			&t->timeouts[c], timeouts[c], __ATOMIC_RELAXED);
	return 0;
}

void
tg_nat_table_sweep_start(struct tg_nat_table *t)
{
	t->sweep_cur = 0;
}

/* Delete session @p idx (in use) as no longer wanted. */
static void
nat_sess_dropped(struct tg_nat_table *t, uint32_t idx)
{
	nat_wheel_del(t, idx);
	nat_sess_remove(t, idx);
	t->stats.deleted++;
	t->stats.dropped++;
	t->stats.sessions--;
}

uint32_t
tg_nat_table_sweep(struct tg_nat_table *t, tg_nat_keep_fn keep, const void *ctx,
	uint32_t budget)
{
	uint32_t i = t->sweep_cur, end, deleted = 0;

	if (i == TG_NAT_NONE)
		return 0;
	end = budget < t->max_sessions - i ? i + budget : t->max_sessions;
	for (; i < end; i++) {
		if (i + 8 < end)
			rte_prefetch0(&t->sess[i + 8]);
		if ((t->sess[i].flags & TG_NAT_SF_USED) && !keep(ctx, t, i)) {
			nat_sess_dropped(t, i);
			deleted++;
		}
	}
	t->stats.sweep_visits += end - t->sweep_cur;
	t->sweep_cur = end == t->max_sessions ? TG_NAT_NONE : end;
	return deleted;
}

int
tg_nat_sess_drop(struct tg_nat_table *t, uint32_t idx)
{
	if (t == NULL || idx >= t->max_sessions ||
		!(t->sess[idx].flags & TG_NAT_SF_USED))
		return -EINVAL;
	nat_sess_dropped(t, idx);
	return 0;
}
