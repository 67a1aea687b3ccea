/* SPDX-License-Identifier: BSD-3-Clause
 * RX validation: Ethernet/ARP/IPv4 sanity checks in the order the drop
 * reasons are documented, padding trim and tg_meta initialisation.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "tg_pkt.h"

const char *const tg_pkt_drop_names[TG_PKT_DROP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_PKT_DROP_##n] = s,
	TG_PKT_DROPS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_pkt_drop_descs[TG_PKT_DROP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_PKT_DROP_##n] = d,
	TG_PKT_DROPS(TG_X_DESC)
#undef TG_X_DESC
};

#define RX_PREFETCH 4
#define ETH_LEN	    ((uint32_t)sizeof(struct rte_ether_hdr))
#define ARP_LEN	    ((uint32_t)sizeof(struct rte_arp_hdr))

enum cksum_mode {
	CKSUM_VERIFY, /* no information from the NIC: verify in software */
	CKSUM_GOOD,   /* the NIC checked it (or vouches for the header) */
	CKSUM_BAD,    /* the NIC found it wrong */
};

static inline uint32_t
load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v)); /* one unaligned load, no UB */
	return v;
}

static inline uint16_t
load16_be(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One's complement sum of an IPv4 header (a multiple of 4 bytes): 32-bit
 * loads into a 64-bit accumulator, folded at the end. Byte order does not
 * matter for a check against 0xffff. */
static inline bool
ipv4_hdr_cksum_ok(const uint8_t *h, uint32_t hlen)
{
	uint64_t s = 0;
	uint32_t i;

	for (i = 0; i < hlen; i += 4)
		s += load32(h + i);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* Destination and source addresses: the last checks, shared by both
 * paths. Gives the destination (host order) to the caller. */
static inline uint16_t
ipv4_addr_check(const uint8_t *l3, uint32_t *dst)
{
	*dst = rte_be_to_cpu_32(load32(l3 + 16));
	if (unlikely(tg_ipv4_is_not_unicast(*dst)))
		return TG_V_DROP(TG_PKT_DROP_NOT_UNICAST);
	if (unlikely(tg_ipv4_is_martian_src(rte_be_to_cpu_32(load32(l3 + 12)))))
		return TG_V_DROP(TG_PKT_DROP_MARTIAN_SRC);
	return TG_V_NEXT;
}

static inline uint16_t
ipv4_check(const uint8_t *l3, uint32_t avail, enum cksum_mode ck,
	uint16_t *hdr_len, uint16_t *total_len)
{
	uint32_t hl, tl, dst;
	uint16_t v;

	if (unlikely(avail < sizeof(struct rte_ipv4_hdr)))
		return TG_V_DROP(TG_PKT_DROP_TOO_SHORT);
	if (unlikely((l3[0] >> 4) != 4))
		return TG_V_DROP(TG_PKT_DROP_BAD_VERSION);
	hl = (uint32_t)(l3[0] & 0xf) * 4;
	if (unlikely(hl < 20 || hl > avail))
		return TG_V_DROP(TG_PKT_DROP_BAD_IHL);
	tl = load16_be(l3 + 2);
	if (unlikely(tl < hl || tl > avail))
		return TG_V_DROP(TG_PKT_DROP_BAD_TOTAL_LEN);
	if (ck == CKSUM_BAD ||
		(ck == CKSUM_VERIFY && !ipv4_hdr_cksum_ok(l3, hl)))
		return TG_V_DROP(TG_PKT_DROP_BAD_CKSUM);
	v = ipv4_addr_check(l3, &dst);
	if (unlikely(v != TG_V_NEXT))
		return v;
	*hdr_len = (uint16_t)hl;
	*total_len = (uint16_t)tl;
	return TG_V_NEXT;
}

uint16_t
tg_pkt_ipv4_check(const uint8_t *l3, uint32_t l3_avail, bool verify_cksum,
	uint16_t *hdr_len, uint16_t *total_len)
{
	return ipv4_check(l3, l3_avail,
		verify_cksum ? CKSUM_VERIFY : CKSUM_GOOD, hdr_len, total_len);
}

/* The 20-byte header without options: five loads, no loop. */
static inline bool
ipv4_hdr5_cksum_ok(const uint8_t *h)
{
	uint64_t s = (uint64_t)load32(h) + load32(h + 4) + load32(h + 8) +
		     load32(h + 12) + load32(h + 16);
	uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32), t;

	/* s < 2^35: one 32-bit end-around add, then 16 bits the same way */
	t = lo + hi;
	t += t < lo;
	t = (t & 0xffff) + (t >> 16);
	t = (t & 0xffff) + (t >> 16);
	return t == 0xffff;
}

static inline enum cksum_mode
rx_cksum_mode(const struct rte_mbuf *m)
{
	uint64_t ckf = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;

	/* NONE: the header was checked even though the field is not filled
	 * in (virtual devices): as good as GOOD. */
	return ckf == RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN ? CKSUM_VERIFY
	       : ckf == RTE_MBUF_F_RX_IP_CKSUM_BAD   ? CKSUM_BAD
						     : CKSUM_GOOD;
}

/*
 * The common frame: IPv4 without options. The same checks as
 * ipv4_check() in the same order, with the header length known, so the
 * checksum needs no loop. TG_V_GOTO_BASE: not such a frame, take the
 * general path.
 */
#define RX_NOT_FAST TG_V_GOTO_BASE

static inline uint16_t
rx_fast(struct rte_mbuf *m, const uint8_t *p, struct tg_meta *meta,
	const struct tg_local_set *local)
{
	const uint8_t *l3 = p + ETH_LEN;
	uint32_t avail, tl, dst;
	uint16_t v;
	enum cksum_mode ck;

	/* Ethertype 0x0800, then version 4 with IHL 5, as one compare of
	 * the three bytes in memory order. */
	if (unlikely(m->data_len < ETH_LEN + sizeof(struct rte_ipv4_hdr) ||
		     (rte_le_to_cpu_32(load32(p + 12)) & 0xffffff) != 0x450008))
		return RX_NOT_FAST;
	avail = m->data_len - ETH_LEN;
	tl = load16_be(l3 + 2);
	if (unlikely(tl < sizeof(struct rte_ipv4_hdr) || tl > avail))
		return TG_V_DROP(TG_PKT_DROP_BAD_TOTAL_LEN);
	ck = rx_cksum_mode(m);
	if (unlikely(ck == CKSUM_BAD ||
		     (ck == CKSUM_VERIFY && !ipv4_hdr5_cksum_ok(l3))))
		return TG_V_DROP(TG_PKT_DROP_BAD_CKSUM);
	v = ipv4_addr_check(l3, &dst);
	if (unlikely(v != TG_V_NEXT))
		return v;
	if (unlikely(avail > tl))
		rte_pktmbuf_trim(m, (uint16_t)(avail - tl));
	if (local != NULL && tg_local_set_has(local, dst))
		meta->path = TG_PATH_TARGET;
	return TG_V_NEXT;
}

static inline uint16_t
rx_one(struct rte_mbuf *m, uint16_t port, const struct tg_local_set *local)
{
	struct tg_meta *meta = tg_meta(m);
	const uint8_t *p;
	uint16_t et, hl, tl, v;

	/* Every field at once, one 16-byte store: with large frames the
	 * store buffer is still draining the copy that brought them in, so
	 * each store the hot path saves counts. l3_len is the common 20;
	 * the other cases overwrite it. */
	const struct tg_meta init = {
		.path = TG_PATH_TRANSIT,
		.mode = TG_MODE_NONE,
		.rx_if = port,
		.tx_if = TG_IF_NONE,
		.l3_len = sizeof(struct rte_ipv4_hdr),
	};
	RTE_BUILD_BUG_ON(sizeof(struct tg_meta) != 16);
	memcpy(meta, &init, sizeof(init));

	/* nb_segs is authoritative: a single segment has next == NULL. */
	if (unlikely(m->nb_segs != 1))
		return TG_V_DROP(TG_PKT_DROP_MULTI_SEG);
	p = rte_pktmbuf_mtod(m, const uint8_t *);
	v = rx_fast(m, p, meta, local);
	if (likely(v != RX_NOT_FAST))
		return v;
	if (unlikely(m->next != NULL))
		return TG_V_DROP(TG_PKT_DROP_MULTI_SEG);
	if (unlikely(m->data_len < ETH_LEN))
		return TG_V_DROP(TG_PKT_DROP_TOO_SHORT);
	et = load16_be(p + 12);
	if (likely(et == RTE_ETHER_TYPE_IPV4)) {
		v = ipv4_check(p + ETH_LEN, m->data_len - ETH_LEN,
			rx_cksum_mode(m), &hl, &tl);
		if (unlikely(v != TG_V_NEXT))
			return v;
		if (unlikely(m->data_len > ETH_LEN + tl))
			rte_pktmbuf_trim(
				m, (uint16_t)(m->data_len - ETH_LEN - tl));
		meta->l3_len = hl;
		if (local != NULL &&
			tg_local_set_has(local,
				rte_be_to_cpu_32(tg_pkt_ipv4(m)->dst_addr)))
			meta->path = TG_PATH_TARGET;
		return TG_V_NEXT;
	}
	if (et == RTE_ETHER_TYPE_ARP) {
		if (unlikely(m->data_len < ETH_LEN + ARP_LEN))
			return TG_V_DROP(TG_PKT_DROP_TOO_SHORT);
		meta->path = TG_PATH_ARP;
		meta->l3_len = 0;
		return TG_V_NEXT;
	}
	return TG_V_DROP(TG_PKT_DROP_ETHERTYPE);
}

uint16_t
tg_pkt_rx_one(struct rte_mbuf *m, uint16_t port)
{
	return rx_one(m, port, NULL);
}

uint32_t
tg_pkt_rx_burst(struct rte_mbuf **pkts, uint16_t n, uint16_t port,
	const struct tg_local_set *local, uint16_t *verdict)
{
	uint32_t seen = 0;
	uint16_t i, v;

	/* Headers a few packets ahead: with large frames the copy or DMA
	 * that brought the burst in has pushed the first ones out of L1. */
	for (i = 0; i < n && i < RX_PREFETCH; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + RX_PREFETCH < n)
			rte_prefetch0(rte_pktmbuf_mtod(
				pkts[i + RX_PREFETCH], void *));
		v = rx_one(pkts[i], port, local);
		verdict[i] = v;
		seen |= v != TG_V_NEXT ? TG_PKT_RX_DROPPED
				       : 1u << tg_meta(pkts[i])->path;
	}
	return seen;
}
