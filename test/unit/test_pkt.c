/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for lib/pkt: RX validation (every drop reason from a
 * hand-made frame), checksum helpers, ICMP error construction against an
 * independently assembled packet, the ICMP rate limiter.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tg_pkt.h"
#include "tg_test.h"

#define NB_MBUF 1023

static struct rte_mempool *mp;

/* ---- independent helpers (no code under test) ---- */

/* RFC 1071 one's complement sum of big-endian 16-bit words. */
static uint16_t
ref_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

/* IPv4 header of ihl words at @p p (options: NOPs), valid checksum. */
static void
mk_ip(uint8_t *p, uint8_t ihl, uint16_t tot, uint8_t proto, uint32_t src,
	uint32_t dst, uint8_t ttl)
{
	memset(p, 0, (size_t)ihl * 4);
	p[0] = (uint8_t)(0x40 | ihl);
	tg_test_put16(p + 2, tot);
	tg_test_put16(p + 4, 0x1234);
	p[8] = ttl;
	p[9] = proto;
	tg_test_put32(p + 12, src);
	tg_test_put32(p + 16, dst);
	if (ihl > 5)
		memset(p + 20, 1, (size_t)ihl * 4 - 20); /* NOP options */
	tg_test_put16(p + 10, (uint16_t)~ref_sum(p, (size_t)ihl * 4));
}

static void
fix_cksum(uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 0xf) * 4;

	tg_test_put16(ip + 10, 0);
	tg_test_put16(ip + 10, (uint16_t)~ref_sum(ip, hl));
}

/* A frame: Ethernet (ethertype @p et) + @p l3len bytes of payload
 * (an IPv4 packet of that total length when et is IPv4). */
static uint8_t *
mk_frame(uint8_t *buf, uint16_t et, uint32_t l3len)
{
	memset(buf, 0, 14 + l3len);
	memcpy(buf, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	tg_test_put16(buf + 12, et);
	if (et == 0x0800 && l3len >= 20) {
		uint32_t i;

		mk_ip(buf + 14, 5, (uint16_t)l3len, 17, IP4(10, 0, 0, 1),
			IP4(10, 1, 0, 1), 64);
		for (i = 20; i < l3len; i++)
			buf[14 + i] = (uint8_t)i;
	}
	return buf;
}

static struct rte_mbuf *
mbuf_of(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *d;

	CU_ASSERT_FATAL(m != NULL);
	d = rte_pktmbuf_append(m, (uint16_t)len);
	CU_ASSERT_FATAL(d != NULL);
	memcpy(d, frame, len);
	return m;
}

static uint16_t
rx(const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = mbuf_of(frame, len);
	uint16_t v = tg_pkt_rx_one(m, 3);

	rte_pktmbuf_free(m);
	return v;
}

#define DROP(r) TG_V_DROP(TG_PKT_DROP_##r)

static void
check_pool_full(void)
{
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NB_MBUF);
}

/* ---- invalid input ---- */

static void
test_pkt_too_short(void)
{
	uint8_t f[128];

	mk_frame(f, 0x0800, 40);
	CU_ASSERT_EQUAL(rx(f, 13), DROP(TOO_SHORT));
	CU_ASSERT_EQUAL(rx(f, 14), DROP(TOO_SHORT));
	CU_ASSERT_EQUAL(rx(f, 14 + 19), DROP(TOO_SHORT));
	mk_frame(f, 0x0806, 28);
	CU_ASSERT_EQUAL(rx(f, 14 + 27), DROP(TOO_SHORT));
	CU_ASSERT_EQUAL(rx(f, 14 + 28), TG_V_NEXT);
	check_pool_full();
}

static void
test_pkt_bad_version(void)
{
	uint8_t f[128];

	mk_frame(f, 0x0800, 40);
	f[14] = 0x65;
	fix_cksum(f + 14);
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_VERSION));
	check_pool_full();
}

static void
test_pkt_bad_ihl(void)
{
	uint8_t f[128];

	mk_frame(f, 0x0800, 40);
	f[14] = 0x44; /* IHL 4 */
	fix_cksum(f + 14);
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_IHL));
	mk_frame(f, 0x0800, 40);
	f[14] = 0x4f; /* 60 bytes of header in a 40-byte packet */
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_IHL));
	check_pool_full();
}

static void
test_pkt_bad_total_len(void)
{
	uint8_t f[128];

	mk_frame(f, 0x0800, 40);
	tg_test_put16(f + 16, 19);
	fix_cksum(f + 14);
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_TOTAL_LEN));
	mk_frame(f, 0x0800, 40);
	tg_test_put16(f + 16, 41); /* one byte beyond the frame */
	fix_cksum(f + 14);
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_TOTAL_LEN));
	check_pool_full();
}

static void
test_pkt_bad_cksum(void)
{
	uint8_t f[128];
	struct rte_mbuf *m;

	mk_frame(f, 0x0800, 40);
	f[14 + 10] ^= 0x01;
	CU_ASSERT_EQUAL(rx(f, 54), DROP(BAD_CKSUM));
	/* The NIC's word is trusted either way. */
	m = mbuf_of(f, 54);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD;
	CU_ASSERT_EQUAL(tg_pkt_rx_one(m, 0), TG_V_NEXT);
	rte_pktmbuf_free(m);
	mk_frame(f, 0x0800, 40);
	m = mbuf_of(f, 54);
	m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
	CU_ASSERT_EQUAL(tg_pkt_rx_one(m, 0), DROP(BAD_CKSUM));
	rte_pktmbuf_free(m);
	check_pool_full();
}

static void
test_pkt_not_unicast(void)
{
	static const uint32_t dsts[] = {IP4(224, 0, 0, 1),
		IP4(239, 255, 255, 250), IP4(255, 255, 255, 255),
		IP4(240, 0, 0, 1)};
	uint8_t f[128];
	unsigned int i;

	for (i = 0; i < RTE_DIM(dsts); i++) {
		mk_frame(f, 0x0800, 40);
		tg_test_put32(f + 14 + 16, dsts[i]);
		fix_cksum(f + 14);
		CU_ASSERT_EQUAL(rx(f, 54), DROP(NOT_UNICAST));
	}
	check_pool_full();
}

static void
test_pkt_martian_src(void)
{
	static const uint32_t srcs[] = {IP4(0, 0, 0, 0), IP4(0, 1, 2, 3),
		IP4(127, 0, 0, 1), IP4(224, 0, 0, 5), IP4(240, 1, 1, 1),
		IP4(255, 255, 255, 255)};
	uint8_t f[128];
	unsigned int i;

	for (i = 0; i < RTE_DIM(srcs); i++) {
		mk_frame(f, 0x0800, 40);
		tg_test_put32(f + 14 + 12, srcs[i]);
		fix_cksum(f + 14);
		CU_ASSERT_EQUAL(rx(f, 54), DROP(MARTIAN_SRC));
	}
	check_pool_full();
}

static void
test_pkt_ethertype(void)
{
	uint8_t f[128];

	mk_frame(f, 0x8100, 46);
	CU_ASSERT_EQUAL(rx(f, 60), DROP(ETHERTYPE));
	mk_frame(f, 0x86dd, 46);
	CU_ASSERT_EQUAL(rx(f, 60), DROP(ETHERTYPE));
	mk_frame(f, 0x88a8, 46);
	CU_ASSERT_EQUAL(rx(f, 60), DROP(ETHERTYPE));
	check_pool_full();
}

static void
test_pkt_multi_seg(void)
{
	uint8_t f[128];
	struct rte_mbuf *m, *m2;

	mk_frame(f, 0x0800, 40);
	m = mbuf_of(f, 30);
	m2 = mbuf_of(f + 30, 24);
	CU_ASSERT_EQUAL_FATAL(rte_pktmbuf_chain(m, m2), 0);
	CU_ASSERT_EQUAL(tg_pkt_rx_one(m, 0), DROP(MULTI_SEG));
	rte_pktmbuf_free(m);
	check_pool_full();
}

/* ---- valid input ---- */

static void
test_pkt_valid_options(void)
{
	uint8_t f[128];
	struct rte_mbuf *m;
	struct tg_meta *meta;
	uint8_t ihl;

	for (ihl = 5; ihl <= 15; ihl++) {
		mk_frame(f, 0x0800, 80);
		mk_ip(f + 14, ihl, 80, 6, IP4(192, 0, 2, 1),
			IP4(198, 51, 100, 7), 3);
		m = mbuf_of(f, 94);
		memset(tg_meta(m), 0xa5, sizeof(struct tg_meta));
		CU_ASSERT_EQUAL(tg_pkt_rx_one(m, 7), TG_V_NEXT);
		meta = tg_meta(m);
		CU_ASSERT_EQUAL(meta->path, TG_PATH_TRANSIT);
		CU_ASSERT_EQUAL(meta->step, 0);
		CU_ASSERT_EQUAL(meta->mode, 0);
		CU_ASSERT_EQUAL(meta->flags, 0);
		CU_ASSERT_EQUAL(meta->rx_if, 7);
		CU_ASSERT_EQUAL(meta->tx_if, TG_IF_NONE);
		CU_ASSERT_EQUAL(meta->nh_ip, 0);
		CU_ASSERT_EQUAL(meta->l3_len, ihl * 4);
		CU_ASSERT_EQUAL(m->pkt_len, 94);
		rte_pktmbuf_free(m);
	}
	/* ARP frames take the ARP path. */
	mk_frame(f, 0x0806, 46);
	m = mbuf_of(f, 60);
	CU_ASSERT_EQUAL(tg_pkt_rx_one(m, 2), TG_V_NEXT);
	CU_ASSERT_EQUAL(tg_meta(m)->path, TG_PATH_ARP);
	CU_ASSERT_EQUAL(tg_meta(m)->rx_if, 2);
	rte_pktmbuf_free(m);
	check_pool_full();
}

static void
test_pkt_padding_trimmed(void)
{
	uint8_t f[128];
	struct rte_mbuf *m[3];
	uint16_t v[3];

	mk_frame(f, 0x0800, 46);
	tg_test_put16(f + 16, 28); /* 28 bytes of IP in a 60-byte frame */
	fix_cksum(f + 14);
	m[0] = mbuf_of(f, 60);
	m[1] = mbuf_of(f, 42);
	mk_frame(f, 0x86dd, 46);
	m[2] = mbuf_of(f, 60);
	CU_ASSERT_EQUAL(tg_pkt_rx_burst(m, 3, 5, NULL, v),
		1u << TG_PATH_TRANSIT | TG_PKT_RX_DROPPED);
	CU_ASSERT_EQUAL(v[0], TG_V_NEXT);
	CU_ASSERT_EQUAL(v[1], TG_V_NEXT);
	CU_ASSERT_EQUAL(v[2], DROP(ETHERTYPE));
	CU_ASSERT_EQUAL(m[0]->pkt_len, 42);
	CU_ASSERT_EQUAL(m[0]->data_len, 42);
	CU_ASSERT_EQUAL(m[1]->pkt_len, 42);
	rte_pktmbuf_free_bulk(m, 3);
	check_pool_full();
}

/* Insert @p a as the builder does: probe from its hash to a free slot. */
static void
local_add(struct tg_local_set *ls, uint32_t a)
{
	uint32_t i = tg_local_hash(a);

	while (ls->addr[i] != 0)
		i = (i + 1) % TG_LOCAL_SLOTS;
	ls->addr[i] = a;
}

/* RX picks the path: target for our addresses (also past a colliding
 * address, and for headers with options), transit for the others and
 * without a set, ARP for ARP. */
static void
test_pkt_rx_local(void)
{
	static struct tg_local_set ls;
	uint32_t me = IP4(10, 1, 0, 1), other, a;
	struct rte_mbuf *m[5];
	uint16_t v[5];
	uint8_t f[128];
	int i;

	memset(&ls, 0, sizeof(ls));
	/* an address in the same slot, inserted first: the lookup probes */
	for (a = IP4(10, 9, 0, 1);; a++)
		if (a != me && tg_local_hash(a) == tg_local_hash(me))
			break;
	other = a;
	local_add(&ls, other);
	local_add(&ls, me);
	CU_ASSERT_TRUE(tg_local_set_has(&ls, me));
	CU_ASSERT_TRUE(tg_local_set_has(&ls, other));
	CU_ASSERT_FALSE(tg_local_set_has(&ls, IP4(10, 1, 0, 2)));

	mk_frame(f, 0x0800, 46); /* to 10.1.0.1 */
	m[0] = mbuf_of(f, 60);
	mk_frame(f, 0x0800, 46);
	tg_test_put32(f + 14 + 16, IP4(10, 1, 0, 2));
	fix_cksum(f + 14);
	m[1] = mbuf_of(f, 60);
	memset(f, 0, sizeof(f));
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	tg_test_put16(f + 12, 0x0800);
	mk_ip(f + 14, 6, 44, 17, IP4(10, 0, 0, 1), me, 64); /* options */
	m[2] = mbuf_of(f, 58);
	mk_frame(f, 0x0806, 28);
	m[3] = mbuf_of(f, 60);
	mk_frame(f, 0x0800, 46);
	tg_test_put32(f + 14 + 16, other);
	fix_cksum(f + 14);
	m[4] = mbuf_of(f, 60);
	CU_ASSERT_EQUAL(tg_pkt_rx_burst(m, 5, 1, &ls, v),
		1u << TG_PATH_TARGET | 1u << TG_PATH_TRANSIT |
			1u << TG_PATH_ARP);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(v[i], TG_V_NEXT);
	CU_ASSERT_EQUAL(tg_meta(m[0])->path, TG_PATH_TARGET);
	CU_ASSERT_EQUAL(tg_meta(m[1])->path, TG_PATH_TRANSIT);
	CU_ASSERT_EQUAL(tg_meta(m[2])->path, TG_PATH_TARGET);
	CU_ASSERT_EQUAL(tg_meta(m[2])->l3_len, 24);
	CU_ASSERT_EQUAL(tg_meta(m[3])->path, TG_PATH_ARP);
	CU_ASSERT_EQUAL(tg_meta(m[4])->path, TG_PATH_TARGET);
	/* no set: everything IPv4 is transit */
	CU_ASSERT_EQUAL(
		tg_pkt_rx_burst(m, 2, 1, NULL, v), 1u << TG_PATH_TRANSIT);
	CU_ASSERT_EQUAL(tg_pkt_rx_burst(m + 2, 3, 1, NULL, v),
		1u << TG_PATH_TRANSIT | 1u << TG_PATH_ARP);
	CU_ASSERT_EQUAL(tg_meta(m[0])->path, TG_PATH_TRANSIT);
	CU_ASSERT_EQUAL(tg_meta(m[2])->path, TG_PATH_TRANSIT);
	CU_ASSERT_EQUAL(tg_meta(m[3])->path, TG_PATH_ARP);
	rte_pktmbuf_free_bulk(m, 5);
	check_pool_full();
}

/* Every prefix of a valid packet, in a buffer of exactly that size:
 * ASan reports any read beyond it. */
static void
test_pkt_ipv4_check_exact_buffer(void)
{
	uint8_t ref[64];
	uint16_t hl, tl, v;
	uint32_t len;
	int verify;

	mk_ip(ref, 7, 64, 17, IP4(10, 0, 0, 1), IP4(10, 0, 0, 2), 9);
	memset(ref + 28, 0x33, 36);
	for (verify = 0; verify < 2; verify++) {
		for (len = 0; len <= 64; len++) {
			uint8_t *b = malloc(len ? len : 1);

			memcpy(b, ref, len);
			hl = tl = 0;
			v = tg_pkt_ipv4_check(b, len, verify, &hl, &tl);
			if (len < 20) {
				CU_ASSERT_EQUAL(v, DROP(TOO_SHORT));
			} else if (len < 28) {
				CU_ASSERT_EQUAL(v, DROP(BAD_IHL));
			} else if (len < 64) {
				CU_ASSERT_EQUAL(v, DROP(BAD_TOTAL_LEN));
			} else {
				CU_ASSERT_EQUAL(v, TG_V_NEXT);
				CU_ASSERT_EQUAL(hl, 28);
				CU_ASSERT_EQUAL(tl, 64);
			}
			free(b);
		}
	}
	/* verify_cksum false skips the checksum only. */
	ref[10] ^= 0xff;
	CU_ASSERT_EQUAL(
		tg_pkt_ipv4_check(ref, 64, true, &hl, &tl), DROP(BAD_CKSUM));
	CU_ASSERT_EQUAL(tg_pkt_ipv4_check(ref, 64, false, &hl, &tl), TG_V_NEXT);
}

/* ---- checksums ---- */

static void
test_pkt_cksum_incremental(void)
{
	uint8_t h[60];
	unsigned int i, j;

	srand(12345);
	for (i = 0; i < 100000; i++) {
		uint8_t ihl = (uint8_t)(5 + rand() % 11);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)h;
		uint16_t old_w, new_w, ck;

		for (j = 0; j < sizeof(h); j++)
			h[j] = (uint8_t)rand();
		h[0] = (uint8_t)(0x40 | ihl);
		h[8] = (uint8_t)(2 + rand() % 254); /* TTL >= 2 */
		fix_cksum(h);
		tg_ipv4_ttl_dec(ip);
		CU_ASSERT_EQUAL(ref_sum(h, (size_t)ihl * 4), 0xffff);
		/* Bit for bit what a full recomputation gives. */
		memcpy(&ck, h + 10, 2);
		fix_cksum(h);
		CU_ASSERT_EQUAL(memcmp(&ck, h + 10, 2), 0);

		/* Any 16-bit word of the header changing (but the one with
		 * the IHL, which fix_cksum() needs). */
		j = 2 + 2 * (unsigned int)(rand() % (ihl * 2 - 1));
		if (j == 10)
			continue;
		fix_cksum(h);
		old_w = (uint16_t)(h[j] | h[j + 1] << 8); /* network order */
		h[j] = (uint8_t)rand();
		h[j + 1] = (uint8_t)rand();
		new_w = (uint16_t)(h[j] | h[j + 1] << 8);
		memcpy(&ck, h + 10, 2);
		ck = tg_cksum_adjust16(ck, old_w, new_w);
		memcpy(h + 10, &ck, 2);
		CU_ASSERT_EQUAL(ref_sum(h, (size_t)ihl * 4), 0xffff);
		fix_cksum(h);
		CU_ASSERT_EQUAL(memcmp(&ck, h + 10, 2), 0);
	}
}

/* ---- ICMP errors ---- */

/* Expected ICMP error frame, assembled from RFC 792 / RFC 1812 alone. */
static uint32_t
expected_icmp(uint8_t *out, const uint8_t *orig_ip, uint32_t orig_len,
	uint8_t type, uint8_t code, uint16_t mtu, uint32_t src)
{
	uint32_t quote = orig_len < 548 ? orig_len : 548;
	uint8_t *ip = out + 14, *icmp = out + 34;

	memset(out, 0, 42);
	out[12] = 0x08;
	out[13] = 0x00;
	ip[0] = 0x45;
	ip[1] = 0xc0;
	tg_test_put16(ip + 2, (uint16_t)(28 + quote));
	ip[8] = 64;
	ip[9] = 1;
	tg_test_put32(ip + 12, src);
	memcpy(ip + 16, orig_ip + 12, 4); /* to the original source */
	tg_test_put16(ip + 10, (uint16_t)~ref_sum(ip, 20));
	icmp[0] = type;
	icmp[1] = code;
	if (type == 3 && code == 4)
		tg_test_put16(icmp + 6, mtu);
	memcpy(icmp + 8, orig_ip, quote);
	tg_test_put16(icmp + 2, (uint16_t)~ref_sum(icmp, 8 + quote));
	return 14 + 28 + quote;
}

static void
check_icmp(uint32_t orig_len, uint8_t type, uint8_t code, uint16_t mtu)
{
	static uint8_t f[1600], exp[700];
	struct rte_mbuf *o, *e;
	struct tg_meta *meta;
	uint32_t elen;

	mk_frame(f, 0x0800, orig_len);
	tg_test_put32(f + 14 + 12, IP4(192, 0, 2, 77));
	fix_cksum(f + 14);
	o = mbuf_of(f, 14 + orig_len);
	CU_ASSERT_EQUAL_FATAL(tg_pkt_rx_one(o, 1), TG_V_NEXT);
	e = tg_pkt_icmp_error(mp, o, type, code, mtu, IP4(10, 0, 0, 254));
	CU_ASSERT_FATAL(e != NULL);
	elen = expected_icmp(
		exp, f + 14, orig_len, type, code, mtu, IP4(10, 0, 0, 254));
	CU_ASSERT_EQUAL(e->pkt_len, elen);
	CU_ASSERT_EQUAL(e->data_len, elen);
	CU_ASSERT(e->pkt_len - 14 <= 576);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(e, uint8_t *), exp, elen), 0);
	/* Checksums verify by summing to 0xffff. */
	CU_ASSERT_EQUAL(
		ref_sum(rte_pktmbuf_mtod_offset(e, uint8_t *, 14), 20), 0xffff);
	CU_ASSERT_EQUAL(
		ref_sum(rte_pktmbuf_mtod_offset(e, uint8_t *, 34), elen - 34),
		0xffff);
	CU_ASSERT_EQUAL(e->l2_len, 14);
	CU_ASSERT_EQUAL(e->l3_len, 20);
	meta = tg_meta(e);
	CU_ASSERT_EQUAL(meta->path, TG_PATH_SOURCE);
	CU_ASSERT_EQUAL(meta->step, 0);
	CU_ASSERT_EQUAL(meta->flags, TG_META_F_GENERATED);
	CU_ASSERT_EQUAL(meta->rx_if, TG_IF_NONE);
	CU_ASSERT_EQUAL(meta->tx_if, TG_IF_NONE);
	/* The generated packet passes RX validation itself. */
	CU_ASSERT_EQUAL(tg_pkt_rx_one(e, 0), TG_V_NEXT);
	rte_pktmbuf_free(e);
	rte_pktmbuf_free(o);
}

static void
test_pkt_icmp_error_bytes(void)
{
	check_icmp(20, 11, 0, 0);     /* header only */
	check_icmp(61, 3, 0, 0);      /* odd length */
	check_icmp(548, 3, 1, 0);     /* exactly fits */
	check_icmp(549, 3, 1, 0);     /* one byte truncated */
	check_icmp(1500, 3, 4, 1400); /* truncated to 576, next-hop MTU */
	check_icmp(100, 3, 0, 1400);  /* MTU only for code 4 */
	check_pool_full();
}

static void
test_pkt_icmp_error_nomem(void)
{
	struct rte_mempool *small;
	struct rte_mbuf *o, *held[4], *e;
	uint8_t f[128];
	unsigned int n = 0;

	small = rte_pktmbuf_pool_create("pkt_small", 3, 0, TG_MBUF_PRIV_SIZE,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	CU_ASSERT_FATAL(small != NULL);
	mk_frame(f, 0x0800, 40);
	o = mbuf_of(f, 54);
	while (n < 4 && (held[n] = rte_pktmbuf_alloc(small)) != NULL)
		n++;
	e = tg_pkt_icmp_error(small, o, 11, 0, 0, IP4(10, 0, 0, 1));
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	while (n > 0)
		rte_pktmbuf_free(held[--n]);
	rte_pktmbuf_free(o);
	rte_mempool_free(small);
	check_pool_full();
}

static bool
allowed(uint8_t proto, uint8_t icmp_type, uint16_t frag, uint32_t src,
	uint32_t len)
{
	uint8_t f[128];
	struct rte_mbuf *m;
	bool a;

	mk_frame(f, 0x0800, len);
	f[14 + 9] = proto;
	tg_test_put16(f + 14 + 6, frag);
	tg_test_put32(f + 14 + 12, src);
	if (len > 20)
		f[14 + 20] = icmp_type;
	fix_cksum(f + 14);
	m = mbuf_of(f, 14 + len);
	a = tg_pkt_icmp_error_allowed(m);
	rte_pktmbuf_free(m);
	return a;
}

static void
test_pkt_icmp_error_allowed(void)
{
	uint32_t s = IP4(192, 0, 2, 1);

	CU_ASSERT_TRUE(allowed(17, 0, 0, s, 40));
	CU_ASSERT_TRUE(allowed(6, 3, 0, s, 40));
	CU_ASSERT_TRUE(allowed(1, 8, 0, s, 40));  /* echo request */
	CU_ASSERT_TRUE(allowed(1, 0, 0, s, 40));  /* echo reply */
	CU_ASSERT_TRUE(allowed(1, 13, 0, s, 40)); /* timestamp */
	CU_ASSERT_FALSE(allowed(1, 3, 0, s, 40));
	CU_ASSERT_FALSE(allowed(1, 4, 0, s, 40));
	CU_ASSERT_FALSE(allowed(1, 5, 0, s, 40));
	CU_ASSERT_FALSE(allowed(1, 11, 0, s, 40));
	CU_ASSERT_FALSE(allowed(1, 12, 0, s, 40));
	CU_ASSERT_FALSE(allowed(1, 8, 0, s, 20)); /* ICMP without a type */
	/* First fragment (MF, offset 0) yes; later fragments no. */
	CU_ASSERT_TRUE(allowed(17, 0, 0x2000, s, 40));
	CU_ASSERT_TRUE(allowed(17, 0, 0x4000, s, 40)); /* DF */
	CU_ASSERT_FALSE(allowed(17, 0, 0x2001, s, 40));
	CU_ASSERT_FALSE(allowed(17, 0, 0x0100, s, 40));
	CU_ASSERT_FALSE(allowed(1, 8, 0x0001, s, 40));
	/* Sources no answer may go to. */
	CU_ASSERT_FALSE(allowed(17, 0, 0, IP4(0, 0, 0, 0), 40));
	CU_ASSERT_FALSE(allowed(17, 0, 0, IP4(127, 0, 0, 1), 40));
	CU_ASSERT_FALSE(allowed(17, 0, 0, IP4(224, 0, 0, 1), 40));
	CU_ASSERT_FALSE(allowed(17, 0, 0, IP4(255, 255, 255, 255), 40));
	check_pool_full();
}

/* ---- rate limiter ---- */

static void
test_pkt_ratelimit(void)
{
	struct tg_ratelimit rl;
	const uint64_t hz = 1000000; /* 1 MHz "TSC" */
	int i, n;

	tg_ratelimit_init(&rl, 10, 5, hz, 1000);
	/* Starts full: a burst of 5, then nothing. */
	for (i = 0; i < 5; i++)
		CU_ASSERT_TRUE(tg_ratelimit_take(&rl, 1000));
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 1000));
	/* 10/s: one token per 100 ms. */
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 1000 + 99999));
	CU_ASSERT_TRUE(tg_ratelimit_take(&rl, 1000 + 100000));
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 1000 + 100000));
	/* Partial tokens accumulate across calls. */
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 1000 + 150000));
	CU_ASSERT_TRUE(tg_ratelimit_take(&rl, 1000 + 200000));
	/* A long pause refills to the burst, not beyond. */
	for (n = 0; tg_ratelimit_take(&rl, 100 * hz); n++)
		;
	CU_ASSERT_EQUAL(n, 5);
	/* Time going backwards adds nothing. */
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 50 * hz));
	/* Over one simulated second at 1 kHz polling: 10 tokens. */
	for (n = 0, i = 1; i <= 1000; i++)
		n += tg_ratelimit_take(&rl, 100 * hz + (uint64_t)i * 1000);
	CU_ASSERT_EQUAL(n, 10);
	/* Rate 0: never. */
	tg_ratelimit_init(&rl, 0, 5, hz, 0);
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 0));
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 10 * hz));
	/* Burst 0 with a rate: nothing can accumulate. */
	tg_ratelimit_init(&rl, 100, 0, hz, 0);
	CU_ASSERT_FALSE(tg_ratelimit_take(&rl, 10 * hz));
}

/* ---- names ---- */

static void
test_pkt_drop_names(void)
{
	unsigned int i;

	for (i = 0; i < TG_PKT_DROP__COUNT; i++) {
		CU_ASSERT_PTR_NOT_NULL(tg_pkt_drop_names[i]);
		CU_ASSERT_PTR_NOT_NULL(tg_pkt_drop_descs[i]);
		CU_ASSERT_EQUAL(strncmp(tg_pkt_drop_names[i], "pkt.", 4), 0);
	}
	CU_ASSERT_STRING_EQUAL(
		tg_pkt_drop_names[TG_PKT_DROP_BAD_CKSUM], "pkt.bad_checksum");
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_pkt") != 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test_pkt", NB_MBUF, 0, TG_MBUF_PRIV_SIZE,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("pkt", NULL, NULL, "test_pkt_too_short",
		test_pkt_too_short, "test_pkt_bad_version",
		test_pkt_bad_version, "test_pkt_bad_ihl", test_pkt_bad_ihl,
		"test_pkt_bad_total_len", test_pkt_bad_total_len,
		"test_pkt_bad_cksum", test_pkt_bad_cksum,
		"test_pkt_not_unicast", test_pkt_not_unicast,
		"test_pkt_martian_src", test_pkt_martian_src,
		"test_pkt_ethertype", test_pkt_ethertype, "test_pkt_multi_seg",
		test_pkt_multi_seg, "test_pkt_valid_options",
		test_pkt_valid_options, "test_pkt_padding_trimmed",
		test_pkt_padding_trimmed, "test_pkt_rx_local",
		test_pkt_rx_local, "test_pkt_ipv4_check_exact_buffer",
		test_pkt_ipv4_check_exact_buffer, "test_pkt_cksum_incremental",
		test_pkt_cksum_incremental, "test_pkt_icmp_error_bytes",
		test_pkt_icmp_error_bytes, "test_pkt_icmp_error_nomem",
		test_pkt_icmp_error_nomem, "test_pkt_icmp_error_allowed",
		test_pkt_icmp_error_allowed, "test_pkt_ratelimit",
		test_pkt_ratelimit, "test_pkt_drop_names", test_pkt_drop_names,
		NULL);
	rc = tg_test_run();
	rte_mempool_free(mp);
	tg_test_eal_cleanup();
	return rc;
}
