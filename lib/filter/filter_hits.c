/* SPDX-License-Identifier: BSD-3-Clause
 * filter: rule hit counters — their totals, and carrying them over to the
 * next snapshot for the rules a reload kept (matched by name through a
 * hash of the old list's names, linear in the list sizes).
 */
#include <stdlib.h>
#include <string.h>

#include "tg_filter.h"

/* The total of counter @p c (hits_off + r) over every slot of @p ft and
 * what it carried. */
static uint64_t
counter_total(const struct tg_filter_table *ft, uint32_t c)
{
	uint64_t t = ft->carried[c];
	uint16_t s;

	for (s = 0; s < ft->n_slots; s++)
		t += ft->hits[(size_t)s * ft->slot_stride + c];
	return t;
}

uint64_t
tg_filter_hits(const struct tg_filter_table *ft, uint16_t l, uint32_t r)
{
	if (ft == NULL || l >= ft->n_lists || r > ft->lists[l].n_rules)
		return 0;
	return counter_total(ft, ft->lists[l].hits_off + r);
}

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < TG_CFG_FILTER_RULE_NAME_MAX && s[i] != '\0'; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/* Do @p a and @p b match the same packets with the same action? Only the
 * fields their conditions use count. */
static bool
rule_same(
	const struct tg_cfg_filter_rule *a, const struct tg_cfg_filter_rule *b)
{
	uint32_t ms = a->src_len ? UINT32_MAX << (32 - a->src_len) : 0;
	uint32_t md = a->dst_len ? UINT32_MAX << (32 - a->dst_len) : 0;

	if (a->action != b->action || a->match != b->match ||
		a->any_proto != b->any_proto ||
		(!a->any_proto && a->proto != b->proto) ||
		a->src_len != b->src_len || a->dst_len != b->dst_len ||
		((a->src ^ b->src) & ms) != 0 || ((a->dst ^ b->dst) & md) != 0)
		return false;
	if ((a->match & TG_CFG_FR_SPORT) &&
		(a->sport_lo != b->sport_lo || a->sport_hi != b->sport_hi))
		return false;
	if ((a->match & TG_CFG_FR_DPORT) &&
		(a->dport_lo != b->dport_lo || a->dport_hi != b->dport_hi))
		return false;
	if ((a->match & TG_CFG_FR_ICMP_TYPE) && a->icmp_type != b->icmp_type)
		return false;
	if ((a->match & TG_CFG_FR_ICMP_CODE) && a->icmp_code != b->icmp_code)
		return false;
	return true;
}

/* The list of @p old for the interface and direction of @p l. */
static const struct tg_filter_list *
old_list(const struct tg_filter_table *old, const struct tg_filter_list *l)
{
	uint16_t i;

	for (i = 0; i < old->n_lists; i++)
		if (old->lists[i].dir == l->dir &&
			strcmp(old->lists[i].iface_name, l->iface_name) == 0)
			return &old->lists[i];
	return NULL;
}

/* Rule counts of @p ol (of @p old) to those of @p l (of @p ft) with the
 * same name and definition. Open addressing over @p ol's names: slots
 * hold rule index + 1, 0 = empty. Without memory nothing is carried. */
static void
carry_rules(struct tg_filter_table *ft, const struct tg_filter_list *l,
	const struct tg_filter_table *old, const struct tg_filter_list *ol)
{
	uint32_t size = 2, mask, r, h, *slot;

	if (l->n_rules == 0 || ol->n_rules == 0)
		return;
	while (size < 2 * ol->n_rules)
		size <<= 1;
	mask = size - 1;
	slot = calloc(size, sizeof(*slot));
	if (slot == NULL)
		return;
	for (r = 0; r < ol->n_rules; r++) {
		for (h = name_hash(ol->rules[r].name) & mask; slot[h] != 0;
			h = (h + 1) & mask)
			;
		slot[h] = r + 1;
	}
	for (r = 0; r < l->n_rules; r++) {
		const struct tg_cfg_filter_rule *nr = &l->rules[r];

		for (h = name_hash(nr->name) & mask; slot[h] != 0;
			h = (h + 1) & mask) {
			const struct tg_cfg_filter_rule * or
				= &ol->rules[slot[h] - 1];

			if (strncmp(or->name, nr->name, sizeof(nr->name)) != 0)
				continue;
			if (rule_same(or, nr))
				ft->carried[l->hits_off + r] = counter_total(
					old, ol->hits_off + slot[h] - 1);
			break; /* names are unique in a list */
		}
	}
	free(slot);
}

void
tg_filter_carry_hits(
	struct tg_filter_table *ft, const struct tg_filter_table *old)
{
	uint16_t i;

	if (ft == NULL || old == NULL)
		return;
	for (i = 0; i < ft->n_lists; i++) {
		const struct tg_filter_list *l = &ft->lists[i];
		const struct tg_filter_list *ol = old_list(old, l);

		if (ol == NULL)
			continue;
		carry_rules(ft, l, old, ol);
		if (ol->mode == l->mode)
			ft->carried[l->hits_off + l->n_rules] =
				counter_total(old, ol->hits_off + ol->n_rules);
	}
}
