/* SPDX-License-Identifier: BSD-3-Clause
 * filter: the burst path — a classification key per packet, one
 * rte_acl_classify() call per list and context (whole packets and first
 * fragments; later fragments) per chunk of the burst, the verdicts and
 * the rule hit counters.
 */
#include <string.h>

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
filter_key_make(struct rte_mbuf *m, struct tg_filter_key *k, uint16_t *nonfirst)
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
tg_filter_key_make(const struct rte_mbuf *m, struct tg_filter_key *k)
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

/*
 * Judge @p nk packets (chunk positions @p sel[], keys @p data[]) of group
 * @p g (list g >> 1; its acl, or with g & 1 its acl_frag) in one
 * rte_acl_classify() call. @p hits: the slot's counters, NULL not to
 * count; @p list and @p rule may be NULL.
 */
static __rte_always_inline void
filter_judge(const struct tg_filter_table *ft, uint16_t g, const uint8_t **data,
	const uint8_t *sel, uint16_t nk, uint16_t *verdict, uint16_t *list,
	uint32_t *rule, uint64_t *hits)
{
	const uint16_t l = g >> 1;
	const struct tg_filter_list *fl = &ft->lists[l];
	const struct rte_acl_ctx *ctx = g & 1 ? fl->acl_frag : fl->acl;
	uint32_t res[FILTER_CHUNK];
	uint16_t j, nc = nk;

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
	/* Branch-free: whether a rule matched is the traffic's to say.
	 * userdata is rule + 1, 0 no match: r - 1 is the rule or
	 * UINT32_MAX, clamped to n_rules, whose action entry is
	 * TG_FILTER_NO_MATCH. */
	for (j = 0; j < nk; j++) {
		uint32_t ri = RTE_MIN(res[j] - 1, fl->n_rules);

		verdict[sel[j]] = fl->verdict_of[fl->action[ri]];
		if (list != NULL)
			list[sel[j]] = l;
		if (rule != NULL)
			rule[sel[j]] = res[j] - 1; /* UINT32_MAX: none */
		if (hits != NULL)
			hits[fl->hits_off + ri]++;
	}
}

/* One worker for classify and burst: @p hits NULL (classify) or the
 * slot's counters (burst); @p list and @p rule may be NULL. */
static __rte_always_inline void
filter_run(const struct tg_filter_table *ft, struct rte_mbuf **pkts, uint16_t n,
	const uint8_t *dir, const struct tg_filter_steps *steps,
	uint16_t *verdict, uint16_t *list, uint32_t *rule, uint64_t *hits)
{
	/* the packets that wait for a context, in chunk order: their keys,
	 * key pointers, chunk positions and groups (list << 1 | nonfirst:
	 * which list, and which of its contexts) */
	struct tg_filter_key keys[FILTER_CHUNK];
	const uint8_t *data[FILTER_CHUNK], *gdata[FILTER_CHUNK];
	uint8_t sel[FILTER_CHUNK], gsel[FILTER_CHUNK];
	uint16_t gidx[FILTER_CHUNK];
	uint16_t base, i, c, np, nk, nr, l, g;
	bool mixed;

	/* a group fits in 16 bits */
	RTE_BUILD_BUG_ON(TG_CFG_FILTER__DIRS * TG_MAX_PORTS >= UINT16_MAX / 2);

	/* the first packets' metadata: the loop prefetches further ahead */
	for (i = 0; i < 2 * FILTER_PREFETCH && i < n; i++)
		rte_prefetch0(tg_meta(pkts[i]));
	for (base = 0; base < n; base = (uint16_t)(base + c)) {
		uint16_t *vb = verdict + base;
		uint16_t *lb = list != NULL ? list + base : NULL;
		uint32_t *rb = rule != NULL ? rule + base : NULL;

		c = (uint16_t)RTE_MIN(n - base, FILTER_CHUNK);
		np = 0;
		mixed = false;
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
					g |= (uint16_t)(l << 1);
					mixed |= np > 0 && g != gidx[0];
					data[np] = (const uint8_t *)&keys[np];
					sel[np] = (uint8_t)i;
					gidx[np++] = g;
					continue;
				}
			}
			vb[i] = v;
			if (lb != NULL)
				lb[i] = l;
			if (rb != NULL)
				rb[i] = UINT32_MAX;
		}
		if (likely(!mixed)) { /* one group: the usual burst */
			if (np > 0)
				filter_judge(ft, gidx[0], data, sel, np, vb, lb,
					rb, hits);
			continue;
		}
		/* several lists, or later fragments among the rest: one call
		 * per group, the first pending group's packets each time */
		while (np > 0) {
			g = gidx[0];
			nk = nr = 0;
			for (i = 0; i < np; i++) {
				if (gidx[i] == g) {
					gdata[nk] = data[i];
					gsel[nk++] = sel[i];
				} else {
					data[nr] = data[i];
					sel[nr] = sel[i];
					gidx[nr++] = gidx[i];
				}
			}
			filter_judge(ft, g, gdata, gsel, nk, vb, lb, rb, hits);
			np = nr;
		}
	}
}

void
tg_filter_classify(const struct tg_filter_table *ft, struct rte_mbuf **pkts,
	uint16_t n, const uint8_t *dir, uint16_t *verdict, uint16_t *list,
	uint32_t *rule)
{
	filter_run(ft, pkts, n, dir, NULL, verdict, list, rule, NULL);
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

	filter_run(ft, pkts, n, dir, NULL, verdict, NULL, NULL, hits);
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

	filter_run(ft, pkts, n, NULL, &ctx->steps, verdict, NULL, NULL, hits);
}
