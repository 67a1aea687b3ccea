/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the bucketized cuckoo index (hash → record index) behind the
 * session, mapping and host tables: sizing, insert with a breadth-first
 * displacement search, delete. Lookups are inline in nat_table.h.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "nat_internal.h"
#include "nat_table.h"

#define NO_PARENT UINT16_MAX

struct tg_nat_index *
tg_nat_index_create(uint32_t entries, int socket)
{
	struct tg_nat_index *ix;
	uint64_t slots, n;

	if (entries == 0 || entries > (1u << 31)) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* entries at TG_NAT_INDEX_LOAD_PCT load, in whole buckets */
	slots = ((uint64_t)entries * 100 + TG_NAT_INDEX_LOAD_PCT - 1) /
		TG_NAT_INDEX_LOAD_PCT;
	n = (slots + TG_NAT_BUCKET_SLOTS - 1) / TG_NAT_BUCKET_SLOTS;
	if (n < 2)
		n = 2; /* two distinct candidate buckets */
	ix = rte_zmalloc_socket(
		"tg_nat_index", sizeof(*ix), RTE_CACHE_LINE_SIZE, socket);
	if (ix == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ix->b = tg_nat_big_zalloc(
		"tg_nat_index_b", n * sizeof(struct tg_nat_bucket), socket);
	if (ix->b == NULL) {
		rte_free(ix);
		rte_errno = ENOMEM;
		return NULL;
	}
	ix->n_buckets = (uint32_t)n;
	ix->mem = sizeof(*ix) + n * sizeof(struct tg_nat_bucket);
	return ix;
}

void
tg_nat_index_free(struct tg_nat_index *ix)
{
	if (ix == NULL)
		return;
	tg_nat_big_free(ix->b);
	rte_free(ix);
}

/** A free slot of @p b, or -1. */
static inline int
bucket_free_slot(const struct tg_nat_bucket *b)
{
	uint32_t m = tg_nat_bucket_hits(b, 0);

	return m != 0 ? __builtin_ctz(m) : -1;
}

/** The bucket other than @p cur that signature @p sig may live in. */
static inline uint32_t
other_bucket(const struct tg_nat_index *ix, uint32_t sig, uint32_t cur)
{
	uint32_t b1 = tg_nat_index_b1(ix, sig);

	return cur == b1 ? tg_nat_index_b2(ix, sig, b1) : b1;
}

/** Is @p bucket one of node @p n's or its ancestors' buckets? A path
 *  through one bucket twice could move an entry that an earlier move of
 *  the same path had already replaced. */
static bool
on_path(const struct tg_nat_index *ix, uint16_t n, uint32_t bucket)
{
	while (n != NO_PARENT) {
		if (ix->bfs[n].bucket == bucket)
			return true;
		n = ix->bfs[n].parent;
	}
	return false;
}

/**
 * Move the entries along the path that ends at node @p n, whose slot
 * @p s goes to the free slot @p f of bucket @p to; returns the root's
 * freed slot. Each entry is written to its new slot before its old one is
 * cleared (no reader runs concurrently, but it costs nothing).
 */
static unsigned int
shift_path(struct tg_nat_index *ix, uint16_t n, unsigned int s, uint32_t to,
	unsigned int f)
{
	for (;;) {
		struct tg_nat_bucket *src = &ix->b[ix->bfs[n].bucket];
		struct tg_nat_bucket *dst = &ix->b[to];

		dst->idx[f] = src->idx[s];
		dst->sig[f] = src->sig[s];
		src->sig[s] = 0;
		ix->moves++;
		if (ix->bfs[n].parent == NO_PARENT)
			return s;
		to = ix->bfs[n].bucket;
		f = s;
		s = ix->bfs[n].slot;
		n = ix->bfs[n].parent;
	}
}

int
tg_nat_index_insert(struct tg_nat_index *ix, uint32_t h, uint32_t idx)
{
	uint32_t sig = tg_nat_index_sig(h);
	uint32_t b1, b2;
	uint16_t head, tail;
	int f;

	if (idx == TG_NAT_NONE)
		return -EINVAL;
	b1 = tg_nat_index_b1(ix, sig);
	b2 = tg_nat_index_b2(ix, sig, b1);
	f = bucket_free_slot(&ix->b[b1]);
	if (f < 0) {
		f = bucket_free_slot(&ix->b[b2]);
		if (f >= 0)
			b1 = b2;
	}
	if (f >= 0)
		goto store;

	/* Breadth first from both buckets: the shortest path to a free
	 * slot, at most 3 moves within TG_NAT_INDEX_BFS_MAX nodes. */
	ix->bfs[0] = (struct tg_nat_bfs_node){b1, NO_PARENT, 0};
	ix->bfs[1] = (struct tg_nat_bfs_node){b2, NO_PARENT, 0};
	tail = 2;
	for (head = 0; head < tail; head++) {
		const struct tg_nat_bucket *b = &ix->b[ix->bfs[head].bucket];
		unsigned int s;

		for (s = 0; s < TG_NAT_BUCKET_SLOTS; s++) {
			uint32_t to = other_bucket(
				ix, b->sig[s], ix->bfs[head].bucket);
			int free_slot = bucket_free_slot(&ix->b[to]);
			uint16_t root;

			if (free_slot >= 0) {
				f = (int)shift_path(ix, head, s, to,
					(unsigned int)free_slot);
				root = head;
				while (ix->bfs[root].parent != NO_PARENT)
					root = ix->bfs[root].parent;
				b1 = ix->bfs[root].bucket;
				goto store;
			}
			if (tail < TG_NAT_INDEX_BFS_MAX &&
				!on_path(ix, head, to)) {
				ix->bfs[tail++] = (struct tg_nat_bfs_node){
					to, head, (uint8_t)s};
			}
		}
	}
	ix->full++;
	return -ENOSPC;

store:
	ix->b[b1].idx[f] = idx;
	ix->b[b1].sig[f] = sig;
	ix->n_entries++;
	return 0;
}

int
tg_nat_index_delete(struct tg_nat_index *ix, uint32_t h, uint32_t idx)
{
	uint32_t sig = tg_nat_index_sig(h);
	uint32_t b1 = tg_nat_index_b1(ix, sig);
	uint32_t bs[2] = {b1, tg_nat_index_b2(ix, sig, b1)};
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct tg_nat_bucket *b = &ix->b[bs[i]];
		uint32_t m = tg_nat_bucket_hits(b, sig);

		while (m != 0) {
			unsigned int s = (uint32_t)__builtin_ctz(m);

			if (b->idx[s] == idx) {
				b->sig[s] = 0;
				ix->n_entries--;
				return 0;
			}
			m &= m - 1;
		}
	}
	return -ENOENT;
}
