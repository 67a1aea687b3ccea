/* SPDX-License-Identifier: BSD-3-Clause
 * filter: the burst path — a classification key per packet, one
 * rte_acl_classify() call per list and context (whole packets and first
 * fragments; later fragments) per chunk of the burst, the verdicts and
 * the rule hit counters.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>

#include "tg_filter.h"

const char *const tg_filter_drop_names[TG_FILTER_DROP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_FILTER_DROP_##n] = s,
	TG_FILTER_DROPS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_filter_drop_descs[TG_FILTER_DROP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_FILTER_DROP_##n] = d,
	TG_FILTER_DROPS(TG_X_DESC)
#undef TG_X_DESC
};

/* Packets classified per rte_acl_classify() call at most: a burst of 32
 * is one chunk; the key array (20 bytes a packet) stays on the stack. */
#define FILTER_CHUNK 64
/* How far ahead the key loop prefetches: the mbuf and its private area
 * at twice the distance, the packet's headers at the distance. */
#define FILTER_PREFETCH 4
/* Fewest keys worth padding to tg_filter_table.acl_pad. */
#define FILTER_PAD_MIN 22

/* The key of @p m in @p k, and in @p nonfirst whether it is a later
 * fragment (1) or not (0): which of its list's contexts judges it. */
static __rte_always_inline uint16_t
filter_key_make(struct rte_mbuf *m, struct tg_acl_key *k, uint16_t *nonfirst)
{
	const struct tg_meta *md = tg_meta(m);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const uint8_t *l4 = (const uint8_t *)ip + md->l3_len;
	uint16_t frag =
		tg_be16_to_cpu(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK;
	uint8_t proto = ip->next_proto_id;
	uint32_t ports = 0, w[5];
	uint8_t flags = 0;
	int32_t avail;

	RTE_BUILD_BUG_ON(sizeof(*k) != sizeof(w));

	if (likely(frag == 0)) {
		/* L4 bytes present: within the IP total length (RX trims
		 * Ethernet padding, but generated packets need not be
		 * trimmed) and within the frame. */
		avail = RTE_MIN((int32_t)tg_be16_to_cpu(ip->total_length),
				(int32_t)rte_pktmbuf_data_len(m) -
					(int32_t)sizeof(struct rte_ether_hdr)) -
			(int32_t)md->l3_len;
		switch (proto) {
		case IPPROTO_TCP:
			/* the flags are byte 13 */
			if (unlikely(avail < 14))
				return TG_V_DROP(TG_FILTER_DROP_SHORT_L4);
			memcpy(&ports, l4, 4);
			flags = l4[13] & (RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG);
			break;
		case IPPROTO_UDP:
			if (unlikely(avail < 4))
				return TG_V_DROP(TG_FILTER_DROP_SHORT_L4);
			memcpy(&ports, l4, 4);
			break;
		case IPPROTO_ICMP:
			/* type and code: the key's sport */
			if (unlikely(avail < 2))
				return TG_V_DROP(TG_FILTER_DROP_SHORT_L4);
			memcpy(&ports, l4, 2);
			break;
		default:
			break;
		}
	} else {
		/* RFC 1858: a TCP fragment at offset 8 bytes could rewrite
		 * the judged first fragment's flags; no honest sender makes
		 * one. */
		if (proto == IPPROTO_TCP && frag == 1)
			return TG_V_DROP(TG_FILTER_DROP_TCP_OVERLAP);
		flags = TG_FILTER_KEY_NONFIRST;
	}
	*nonfirst = frag != 0;
	/* One store per 4-byte group, the way rte_acl loads them: a load
	 * that spans two pending stores cannot be forwarded and waits. */
	w[0] = proto; /* the padding zero: deterministic keys */
	w[1] = ip->src_addr;
	w[2] = ip->dst_addr;
	w[3] = ports;
	w[4] = flags;
	memcpy(k, w, sizeof(w));
	return 0;
}

uint16_t
tg_filter_key_make(const struct rte_mbuf *m, struct tg_acl_key *k)
{
	uint16_t nonfirst;

	return filter_key_make((struct rte_mbuf *)(uintptr_t)m, k, &nonfirst);
}

/* The list that applies to @p m in direction @p d, or TG_FILTER_NO_LIST. */
static __rte_always_inline uint16_t
filter_list_of(const struct tg_filter_table *ft, struct rte_mbuf *m, uint8_t d)
{
	const struct tg_meta *md = tg_meta(m);
	uint16_t port;

	if (unlikely(d >= TG_CFG_FILTER__DIRS))
		return TG_FILTER_NO_LIST;
	port = d == TG_CFG_FILTER_IN ? md->rx_if : md->tx_if;
	if (unlikely(port >= RTE_MAX_ETHPORTS))
		return TG_FILTER_NO_LIST;
	return ft->list_of[d][port];
}

static __rte_always_inline void
filter_prefetch(struct rte_mbuf **pkts, uint16_t i, uint16_t n)
{
	if (i + 2 * FILTER_PREFETCH < n) {
		rte_prefetch0(pkts[i + 2 * FILTER_PREFETCH]);
		rte_prefetch0(tg_meta(pkts[i + 2 * FILTER_PREFETCH]));
	}
	if (i + FILTER_PREFETCH < n)
		rte_prefetch0(rte_pktmbuf_mtod(
			pkts[i + FILTER_PREFETCH], const void *));
}

/* An answer not known yet (rte_acl's are below 1 << 20). */
#define FILTER_RES_NONE UINT32_MAX
#define FILTER_RES_MASK ((1u << TG_FILTER_CACHE_RES_BITS) - 1)

/* rte_acl's answers for @p nk keys @p data of group @p g (list g >> 1;
 * its acl, or with g & 1 its acl_frag) in one rte_acl_classify() call:
 * rule + 1, 0 for none. @p data has room for FILTER_CHUNK pointers. */
static __rte_always_inline void
filter_acl_call(const struct tg_filter_table *ft, uint16_t g,
	const uint8_t **data, uint16_t nk, uint32_t *res)
{
	const struct tg_filter_list *fl = &ft->lists[g >> 1];
	const struct rte_acl_ctx *ctx = g & 1 ? fl->acl_frag : fl->acl;
	uint16_t nc = nk;

	/* rte_acl's avx512x32 walks 32 keys at once only when given at
	 * least 32, and falls back to 16 at a time for fewer: from 22
	 * keys on, the 32-wide walk of a few repeated keys is cheaper. */
	if (nk < ft->acl_pad && nk >= FILTER_PAD_MIN) {
		for (; nc < ft->acl_pad; nc++)
			data[nc] = data[0];
	}
	if (ctx != NULL)
		rte_acl_classify(ctx, data, res, nc, 1);
	else
		memset(res, 0, sizeof(res[0]) * nk);
}

/* rte_acl's answers in @p res[] for the @p nm keys @p todo[] (indexes
 * into @p keys and @p gidx): one call per group (list and context), the
 * first pending group's keys each time; a burst is usually one group. */
static __rte_always_inline void
filter_acl(const struct tg_filter_table *ft, const struct tg_acl_key *keys,
	const uint16_t *gidx, uint8_t *todo, uint16_t nm, uint32_t *res)
{
	const uint8_t *data[FILTER_CHUNK];
	uint32_t out[FILTER_CHUNK];
	uint8_t at[FILTER_CHUNK];
	uint16_t g, k, nk, nr;

	while (nm > 0) {
		g = gidx[todo[0]];
		nk = nr = 0;
		for (k = 0; k < nm; k++) {
			uint8_t j = todo[k];

			if (gidx[j] == g) {
				data[nk] = (const uint8_t *)&keys[j];
				at[nk++] = j;
			} else {
				todo[nr++] = j;
			}
		}
		filter_acl_call(ft, g, data, nk, out);
		for (k = 0; k < nk; k++)
			res[at[k]] = out[k];
		nm = nr;
	}
}

/* The cache's key of a packet of list @p l: its filter key with the list
 * in place of the padding, and only the flags the list reads. Built from
 * the key's 4-byte groups as they were stored (an 8-byte load of two
 * 4-byte stores would wait for both to reach the cache). */
static __rte_always_inline void
filter_cache_key(const struct tg_filter_table *ft, uint16_t l,
	const struct tg_acl_key *key, uint64_t *ck)
{
	const uint32_t *w = (const uint32_t *)key;
	uint32_t w0 = (uint32_t)key->proto |
		      (uint32_t)(key->flags & ft->lists[l].cache_flags) << 8 |
		      (uint32_t)l << 16;

	ck[0] = (uint64_t)w0 | (uint64_t)w[1] << 32;
	ck[1] = (uint64_t)w[2] | (uint64_t)w[3] << 32;
}

static __rte_always_inline uint32_t
filter_cache_hash(const uint64_t *ck)
{
	return rte_hash_crc_8byte(ck[1], rte_hash_crc_8byte(ck[0], 0));
}

static __rte_always_inline bool
filter_cache_same(const struct tg_filter_cache_entry *e, const uint64_t *ck)
{
	uint64_t x, y;

	memcpy(&x, e->k, 8);
	memcpy(&y, e->k + 2, 8);
	return ((ck[0] ^ x) | (ck[1] ^ y)) == 0;
}

/* The live entry of @p ck in bucket @p b: its tag, or 0. (A branch-free
 * look at every way measured slower: most flows sit alone in their
 * bucket, in its first way.) */
static __rte_always_inline uint32_t
filter_cache_find(const struct tg_filter_cache_bucket *b, const uint64_t *ck,
	uint32_t epoch)
{
	uint32_t w;

	for (w = 0; w < TG_FILTER_CACHE_WAYS; w++) {
		const struct tg_filter_cache_entry *e = &b->e[w];
		uint32_t t = e->tag;

		if (filter_cache_same(e, ck) &&
			t >> TG_FILTER_CACHE_RES_BITS == epoch)
			return t;
	}
	return 0;
}

/* Remember @p tag for @p ck (hash @p h) in bucket @p b: in its own entry
 * if a packet before it in the burst put it there, else a stale one,
 * else one the hash picks. */
static __rte_always_inline void
filter_cache_put(struct tg_filter_cache_bucket *b, const uint64_t *ck,
	uint32_t h, uint32_t tag)
{
	uint32_t epoch = tag >> TG_FILTER_CACHE_RES_BITS, w;

	for (w = 0; w < TG_FILTER_CACHE_WAYS; w++) {
		const struct tg_filter_cache_entry *e = &b->e[w];

		if (e->tag >> TG_FILTER_CACHE_RES_BITS != epoch ||
			filter_cache_same(e, ck))
			break;
	}
	if (w == TG_FILTER_CACHE_WAYS)
		w = (uint32_t)(((uint64_t)(h >> 16) * TG_FILTER_CACHE_WAYS) >>
			       16);
	memcpy(b->e[w].k, ck, sizeof(b->e[w].k));
	b->e[w].tag = tag;
}

/* Another table: a new epoch makes every entry stale; the last epoch
 * before the counter wraps clears them instead (an entry could otherwise
 * come alive again). */
static void
filter_cache_renew(struct tg_filter_cache *c, uint64_t build_id)
{
	c->build_id = build_id;
	if (++c->epoch < TG_FILTER_CACHE_EPOCHS)
		return;
	memset(c->b, 0, sizeof(c->b[0]) * ((size_t)c->mask + 1));
	c->epoch = 1;
	c->clears++;
}

/* One worker for classify and burst: @p hits NULL (classify) or the
 * slot's counters (burst); @p cache NULL (classify, or none); @p list and
 * @p rule may be NULL. */
static __rte_always_inline void
filter_run(const struct tg_filter_table *ft, struct tg_filter_cache *cache,
	struct rte_mbuf **pkts, uint16_t n, const uint8_t *dir,
	const struct tg_filter_steps *steps, uint16_t *verdict, uint16_t *list,
	uint32_t *rule, uint64_t *hits)
{
	/* the packets that wait for an answer, in chunk order: their keys,
	 * chunk positions, groups (list << 1 | nonfirst: which list, and
	 * which of its contexts) and answers; with a cache, their cache
	 * keys, hashes and buckets */
	struct tg_acl_key keys[FILTER_CHUNK];
	uint8_t sel[FILTER_CHUNK], todo[FILTER_CHUNK];
	uint16_t gidx[FILTER_CHUNK];
	uint32_t res[FILTER_CHUNK];
	uint64_t ck[FILTER_CHUNK][2];
	uint32_t hv[FILTER_CHUNK];
	struct tg_filter_cache_bucket *bk[FILTER_CHUNK];
	uint32_t epoch = 0, tag;
	uint64_t *hp = NULL, run = 0;
	uint16_t base, i, j, c, np, nm, l, g;

	/* a group fits in 16 bits */
	RTE_BUILD_BUG_ON(TG_CFG_FILTER__DIRS * TG_MAX_PORTS >= UINT16_MAX / 2);
	/* every answer fits beside the epoch in a cache tag */
	RTE_BUILD_BUG_ON(TG_CFG_FILTER_MAX_RULES >= FILTER_RES_MASK);
	RTE_BUILD_BUG_ON(
		sizeof(struct tg_filter_cache_bucket) != RTE_CACHE_LINE_SIZE);

	if (cache != NULL) {
		if (unlikely(cache->build_id != ft->build_id))
			filter_cache_renew(cache, ft->build_id);
		epoch = cache->epoch;
	}
	/* the first packets' metadata: the loop prefetches further ahead */
	for (i = 0; i < 2 * FILTER_PREFETCH && i < n; i++)
		rte_prefetch0(tg_meta(pkts[i]));
	for (base = 0; base < n; base = (uint16_t)(base + c)) {
		uint16_t *vb = verdict + base;
		uint16_t *lb = list != NULL ? list + base : NULL;
		uint32_t *rb = rule != NULL ? rule + base : NULL;

		c = (uint16_t)RTE_MIN(n - base, FILTER_CHUNK);
		np = 0;
		for (i = 0; i < c; i++) {
			struct rte_mbuf *m = pkts[base + i];
			uint16_t v;

			filter_prefetch(pkts + base, i, c);
			l = filter_list_of(ft, m,
				steps != NULL
					? steps->dir[tg_meta(m)->path %
						     TG_PATH__COUNT]
						    [tg_meta(m)->step %
							    TG_FILTER_STEPS]
					: dir[base + i]);
			if (l == TG_FILTER_NO_LIST) {
				v = TG_V_NEXT;
			} else {
				v = filter_key_make(m, &keys[np], &g);
				if (likely(v == 0)) {
					sel[np] = (uint8_t)i;
					gidx[np++] = (uint16_t)(l << 1 | g);
					continue;
				}
			}
			vb[i] = v;
			if (lb != NULL)
				lb[i] = l;
			if (rb != NULL)
				rb[i] = UINT32_MAX;
		}
		/* the cache's answers; the rest to rte_acl, and remembered.
		 * Loops of their own: one loop for all of it kept its
		 * counters in memory, each packet waiting on the last. */
		nm = 0;
		if (cache != NULL) {
			for (j = 0; j < np; j++) {
				filter_cache_key(
					ft, gidx[j] >> 1, &keys[j], ck[j]);
				hv[j] = filter_cache_hash(ck[j]);
				bk[j] = &cache->b[hv[j] & cache->mask];
				rte_prefetch0(bk[j]);
			}
			for (j = 0; j < np; j++) {
				tag = filter_cache_find(bk[j], ck[j], epoch);
				res[j] = tag & FILTER_RES_MASK;
				if (tag == 0)
					todo[nm++] = (uint8_t)j;
			}
			cache->hits += (uint16_t)(np - nm);
			cache->misses += nm;
			if (nm > 0) {
				uint8_t missed[FILTER_CHUNK];

				memcpy(missed, todo, nm);
				filter_acl(ft, keys, gidx, todo, nm, res);
				for (j = 0; j < nm; j++) {
					uint8_t k = missed[j];

					filter_cache_put(bk[k], ck[k], hv[k],
						epoch << TG_FILTER_CACHE_RES_BITS |
							res[k]);
				}
			}
		} else {
			for (j = 0; j < np; j++)
				todo[j] = (uint8_t)j;
			filter_acl(ft, keys, gidx, todo, np, res);
		}
		/* Branch-free: whether a rule matched is the traffic's to
		 * say. The answer is rule + 1, 0 no match: r - 1 is the rule
		 * or UINT32_MAX, clamped to n_rules, whose action entry is
		 * TG_FILTER_NO_MATCH. Hits are added per run of packets with
		 * the same counter: one increment per packet would wait on
		 * the one before. */
		for (j = 0; j < np; j++) {
			const struct tg_filter_list *fl =
				&ft->lists[gidx[j] >> 1];
			uint32_t ri = RTE_MIN(res[j] - 1, fl->n_rules);

			vb[sel[j]] = fl->verdict_of[fl->action[ri]];
			if (lb != NULL)
				lb[sel[j]] = gidx[j] >> 1;
			if (rb != NULL)
				rb[sel[j]] = res[j] - 1; /* UINT32_MAX: none */
			if (hits != NULL) {
				uint64_t *h = &hits[fl->hits_off + ri];

				if (h != hp) {
					if (hp != NULL)
						*hp += run;
					hp = h;
					run = 0;
				}
				run++;
			}
		}
	}
	if (hp != NULL)
		*hp += run;
}

void
tg_filter_classify(const struct tg_filter_table *ft, struct rte_mbuf **pkts,
	uint16_t n, const uint8_t *dir, uint16_t *verdict, uint16_t *list,
	uint32_t *rule)
{
	filter_run(ft, NULL, pkts, n, dir, NULL, verdict, list, rule, NULL);
}

void
tg_filter_burst(const struct tg_filter_table *ft, uint16_t slot,
	struct rte_mbuf **pkts, uint16_t n, const uint8_t *dir,
	uint16_t *verdict)
{
	/* A table without lists has no counters (and every packet passes,
	 * with no rule to count). */
	uint64_t *hits = ft->hits != NULL
				 ? ft->hits + (size_t)slot * ft->slot_stride
				 : NULL;

	filter_run(ft, NULL, pkts, n, dir, NULL, verdict, NULL, NULL, hits);
}

void
tg_filter_burst_cached(const struct tg_filter_table *ft, uint16_t slot,
	struct tg_filter_cache *cache, struct rte_mbuf **pkts, uint16_t n,
	const uint8_t *dir, uint16_t *verdict)
{
	uint64_t *hits = ft->hits != NULL
				 ? ft->hits + (size_t)slot * ft->slot_stride
				 : NULL;

	filter_run(ft, cache, pkts, n, dir, NULL, verdict, NULL, NULL, hits);
}

void
tg_filter_burst_steps(const struct tg_filter_table *ft,
	const struct tg_filter_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict)
{
	uint64_t *hits = ft->hits != NULL
				 ? ft->hits + (size_t)(ctx->slot < ft->n_slots
							       ? ctx->slot
							       : 0) *
						      ft->slot_stride
				 : NULL;

	filter_run(ft, ctx->cache, pkts, n, NULL, &ctx->steps, verdict, NULL,
		NULL, hits);
}

struct tg_filter_cache *
tg_filter_cache_create(uint32_t entries, int socket)
{
	struct tg_filter_cache *c;
	uint32_t buckets;

	if (entries == 0 || entries > TG_FILTER_CACHE_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	buckets = rte_align32pow2(
		(entries + TG_FILTER_CACHE_WAYS - 1) / TG_FILTER_CACHE_WAYS);
	c = rte_zmalloc_socket(
		"tg_filter_cache", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL)
		goto nomem;
	c->b = rte_zmalloc_socket("tg_filter_cache_buckets",
		sizeof(c->b[0]) * buckets, RTE_CACHE_LINE_SIZE, socket);
	if (c->b == NULL)
		goto nomem;
	c->mask = buckets - 1;
	/* build_id 0 is no table's: the first burst starts epoch 1 */
	c->epoch = 0;
	return c;
nomem:
	rte_free(c);
	rte_errno = ENOMEM;
	return NULL;
}

void
tg_filter_cache_free(struct tg_filter_cache *c)
{
	if (c == NULL)
		return;
	rte_free(c->b);
	rte_free(c);
}

uint32_t
tg_filter_cache_entries(const struct tg_filter_cache *c)
{
	return c != NULL ? (c->mask + 1) * TG_FILTER_CACHE_WAYS : 0;
}
