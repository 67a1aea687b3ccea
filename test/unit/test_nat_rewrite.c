/* SPDX-License-Identifier: BSD-3-Clause
 * natfw rewrites: flow tuples, endpoint rewrites and ICMP error
 * translation. Every checksum the library patches incrementally is
 * checked against one computed from scratch here (tg_test_ip_sum, RFC
 * 1071), and an ICMP error about a translated packet, translated back,
 * must carry the original packet's bytes exactly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "nat_rewrite.h"
#include "tg_test.h"

#define BUF 256

struct pkt {
	uint8_t b[BUF];
	int ihl;    /* IPv4 header bytes */
	int l4_len; /* bytes after it */
};

static uint32_t rnd_state = 12345;

static uint32_t
rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8 ^ rnd_state << 13;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* The sum of @p len bytes (odd: padded with a zero byte). */
static uint16_t
sum_of(const uint8_t *p, int len)
{
	uint8_t tmp[BUF + 16];

	memcpy(tmp, p, len);
	if (len & 1)
		tmp[len++] = 0;
	return tg_test_ip_sum(tmp, len);
}

/* TCP/UDP checksum from scratch: pseudo-header + segment. */
static uint16_t
l4_sum(const struct pkt *k)
{
	uint8_t tmp[BUF + 16];
	int n = k->l4_len;

	memcpy(tmp, k->b + 12, 8); /* src, dst */
	tmp[8] = 0;
	tmp[9] = k->b[9];
	tg_test_put16(tmp + 10, (uint16_t)n);
	memcpy(tmp + 12, k->b + k->ihl, n);
	return sum_of(tmp, 12 + n);
}

static int
csum_off(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 17 ? 6 : proto == 1 ? 2 : -1;
}

/* Fill in every checksum of @p k from scratch. @p udp0: leave the UDP
 * checksum 0 ("none"). */
static void
finish(struct pkt *k, bool udp0)
{
	uint8_t *l4 = k->b + k->ihl;
	int off = csum_off(k->b[9]);

	tg_test_put16(k->b + 10, 0);
	tg_test_put16(k->b + 10, tg_test_ip_sum(k->b, k->ihl));
	if (off < 0)
		return;
	tg_test_put16(l4 + off, 0);
	if (k->b[9] == 1)
		tg_test_put16(l4 + off, sum_of(l4, k->l4_len));
	else if (k->b[9] == 17 && udp0)
		return;
	else {
		uint16_t s = l4_sum(k);

		tg_test_put16(l4 + off, k->b[9] == 17 && s == 0 ? 0xffff : s);
	}
}

/* An IPv4 packet: @p proto (6, 17, 1 echo with @p icmp_type, or another),
 * addresses and ports, @p opt option bytes (multiple of 4), @p data bytes
 * of payload after the L4 header. Checksums from scratch. */
static void
build(struct pkt *k, uint8_t proto, uint32_t src, uint32_t dst, uint16_t sp,
	uint16_t dp, int opt, int data, uint8_t icmp_type, bool udp0)
{
	int l4h = proto == 6 ? 20 : proto == 17 ? 8 : proto == 1 ? 8 : 0;
	uint8_t *l4;
	int i;

	memset(k, 0, sizeof(*k));
	k->ihl = 20 + opt;
	k->l4_len = l4h + data;
	k->b[0] = (uint8_t)(0x40 | k->ihl / 4);
	tg_test_put16(k->b + 2, (uint16_t)(k->ihl + k->l4_len));
	tg_test_put16(k->b + 4, (uint16_t)rnd());
	k->b[8] = 64;
	k->b[9] = proto;
	tg_test_put32(k->b + 12, src);
	tg_test_put32(k->b + 16, dst);
	for (i = 20; i < k->ihl; i++)
		k->b[i] = 1; /* NOP options */
	l4 = k->b + k->ihl;
	for (i = 0; i < k->l4_len; i++)
		l4[i] = (uint8_t)rnd();
	if (proto == 6 || proto == 17) {
		tg_test_put16(l4, sp);
		tg_test_put16(l4 + 2, dp);
		if (proto == 17)
			tg_test_put16(l4 + 4, (uint16_t)k->l4_len);
		else
			l4[12] = 5 << 4;
	} else if (proto == 1) {
		l4[0] = icmp_type;
		l4[1] = 0;
		tg_test_put16(l4 + 4, sp); /* identifier */
	}
	finish(k, udp0);
}

/* Every checksum of @p k is what a from-scratch computation gives. */
static void
check_sums(const struct pkt *k, bool udp0)
{
	struct pkt c = *k;

	finish(&c, udp0);
	CU_ASSERT_EQUAL(get16(k->b + 10), get16(c.b + 10));
	if (csum_off(k->b[9]) >= 0)
		CU_ASSERT_EQUAL(get16(k->b + k->ihl + csum_off(k->b[9])),
			get16(c.b + c.ihl + csum_off(c.b[9])));
}

static struct rte_ipv4_hdr *
ip_of(struct pkt *k)
{
	return (struct rte_ipv4_hdr *)k->b;
}

static void
test_nat_rewrite_tuple(void)
{
	struct tg_nat_tuple t;
	struct pkt k;

	build(&k, 6, 0x0a000002, 0xc6336407, 1234, 80, 0, 10, 0, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), k.l4_len, &t), 0);
	CU_ASSERT(t.src == 0x0a000002 && t.dst == 0xc6336407 &&
		  t.sport == 1234 && t.dport == 80 && t.proto == 6);
	build(&k, 17, 1, 2, 53, 5353, 8, 0, 0, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), k.l4_len, &t), 0);
	CU_ASSERT(t.sport == 53 && t.dport == 5353 && t.proto == 17);
	/* an echo request: the identifier on both sides */
	build(&k, 1, 1, 2, 0x4242, 0, 0, 4, 8, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), k.l4_len, &t), 0);
	CU_ASSERT(t.sport == 0x4242 && t.dport == 0x4242 && t.icmp_type == 8);
	/* an ICMP error has no identifier */
	build(&k, 1, 1, 2, 0x4242, 0, 0, 28, 3, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), k.l4_len, &t), 0);
	CU_ASSERT(t.sport == 0 && t.dport == 0 && t.icmp_type == 3);
	/* GRE: addresses only */
	build(&k, 47, 1, 2, 0, 0, 0, 16, 0, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), k.l4_len, &t), 0);
	CU_ASSERT(t.proto == 47 && t.sport == 0 && t.dport == 0);
	/* short headers */
	build(&k, 17, 1, 2, 53, 5353, 0, 0, 0, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), 3, &t), -EINVAL);
	build(&k, 1, 1, 2, 7, 0, 0, 0, 8, false);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), 7, &t), -EINVAL);
	/* a later fragment: no ports */
	build(&k, 6, 1, 2, 1234, 80, 0, 10, 0, false);
	tg_test_put16(k.b + 6, 100);
	CU_ASSERT_EQUAL(tg_nat_tuple_of(ip_of(&k), 2, &t), 0);
	CU_ASSERT(t.sport == 0 && t.dport == 0 && t.proto == 6);
}

/* One random packet of a kind NAT translates (TCP, UDP with or without a
 * checksum, ICMP echo request or reply), maybe with options. */
static void
rnd_pkt(struct pkt *k, bool *udp0)
{
	static const uint8_t protos[] = {6, 17, 17, 1};
	uint8_t proto = protos[rnd() % 4];

	*udp0 = proto == 17 && rnd() % 3 == 0;
	build(k, proto, rnd(), rnd(), (uint16_t)rnd(), (uint16_t)rnd(),
		rnd() % 3 == 0 ? 4 * (int)(1 + rnd() % 10) : 0,
		(int)(rnd() % 41), rnd() & 1 ? 8 : 0, *udp0);
}

static void
test_nat_rewrite_random_against_scratch(void)
{
	int i;

	for (i = 0; i < 5000; i++) {
		struct pkt k, o;
		bool udp0;
		enum tg_nat_side side = rnd() & 1 ? TG_NAT_SRC : TG_NAT_DST;
		uint32_t a = rnd();
		uint16_t port = (uint16_t)rnd();
		int poff, aoff = side == TG_NAT_SRC ? 12 : 16, j;

		rnd_pkt(&k, &udp0);
		o = k;
		CU_ASSERT_EQUAL_FATAL(
			tg_nat_rewrite(ip_of(&k), k.l4_len, side, a, port), 0);
		CU_ASSERT_EQUAL(get32(k.b + aoff), a);
		poff = k.b[9] == 1 ? 4 : side == TG_NAT_SRC ? 0 : 2;
		CU_ASSERT_EQUAL(get16(k.b + k.ihl + poff), port);
		/* nothing else changed but the checksums */
		for (j = 0; j < k.ihl + k.l4_len; j++) {
			int l4o = j - k.ihl, co = csum_off(k.b[9]);

			if ((j >= aoff && j < aoff + 4) || j == 10 || j == 11 ||
				(l4o >= poff && l4o < poff + 2) ||
				(l4o >= co && l4o < co + 2))
				continue;
			CU_ASSERT_EQUAL(k.b[j], o.b[j]);
		}
		check_sums(&k, udp0);
		if (udp0)
			CU_ASSERT_EQUAL(get16(k.b + k.ihl + 6), 0);
	}
}

/*
 * An ICMP error carrying @p inner (its header and @p carry bytes of L4),
 * from @p src to @p dst, type @p type.
 */
static void
icmp_error(struct pkt *e, uint32_t src, uint32_t dst, uint8_t type,
	const struct pkt *inner, int carry)
{
	uint8_t *l4;

	memset(e, 0, sizeof(*e));
	e->ihl = 20;
	e->l4_len = 8 + inner->ihl + carry;
	e->b[0] = 0x45;
	tg_test_put16(e->b + 2, (uint16_t)(20 + e->l4_len));
	e->b[8] = 64;
	e->b[9] = 1;
	tg_test_put32(e->b + 12, src);
	tg_test_put32(e->b + 16, dst);
	l4 = e->b + 20;
	l4[0] = type;
	l4[1] = type == 3 ? 3 : 0;
	memcpy(l4 + 8, inner->b, inner->ihl + carry);
	finish(e, false);
}

/* RFC 5508 4.2, both ways: an error about a translated packet, translated
 * back, carries the original bytes (checksums included) and has correct
 * outer checksums. */
static void
test_nat_rewrite_icmp_error_roundtrip(void)
{
	static const uint8_t types[] = {3, 11, 12, 4};
	int i, nfull = 0;

	for (i = 0; i < 3000; i++) {
		struct pkt p, t, e;
		bool udp0, out = rnd() & 1;
		uint32_t pub = rnd(), router = rnd();
		uint16_t pport = (uint16_t)rnd();
		int carry, full;
		struct tg_nat_tuple tu;

		rnd_pkt(&p, &udp0);
		full = p.l4_len;
		carry = rnd() % 3 == 0 ? full : 8 + (int)(rnd() % 13);
		if (carry > full)
			carry = full;
		nfull += carry >= 18;
		t = p;
		if (out) {
			/* p went out from a private host: its source was
			 * translated; a router answers to the public side */
			CU_ASSERT_EQUAL_FATAL(tg_nat_rewrite(ip_of(&t),
						      t.l4_len, TG_NAT_SRC, pub,
						      pport),
				0);
			icmp_error(&e, router, pub, types[rnd() % 4], &t,
				carry);
			CU_ASSERT_EQUAL(
				tg_nat_icmp_error_inner(ip_of(&e), e.l4_len,
					&tu),
				0);
			CU_ASSERT(tu.src == pub && tu.proto == p.b[9]);
			CU_ASSERT_EQUAL_FATAL(
				tg_nat_rewrite_icmp_error(ip_of(&e), e.l4_len,
					TG_NAT_DST, get32(p.b + 12),
					get32(p.b + 12),
					p.b[9] == 1 ? get16(p.b + p.ihl + 4)
						    : get16(p.b + p.ihl)),
				0);
			CU_ASSERT_EQUAL(get32(e.b + 16), get32(p.b + 12));
		} else {
			/* p came in to the public side and was translated to
			 * a private host, which answers with an error */
			uint32_t priv = rnd();
			uint16_t privport = (uint16_t)rnd();

			CU_ASSERT_EQUAL_FATAL(tg_nat_rewrite(ip_of(&t),
						      t.l4_len, TG_NAT_DST,
						      priv, privport),
				0);
			icmp_error(&e, priv, get32(t.b + 12), types[rnd() % 4],
				&t, carry);
			CU_ASSERT_EQUAL_FATAL(
				tg_nat_rewrite_icmp_error(ip_of(&e), e.l4_len,
					TG_NAT_SRC, get32(p.b + 16),
					get32(p.b + 16),
					p.b[9] == 1 ? get16(p.b + p.ihl + 4)
						    : get16(p.b + p.ihl + 2)),
				0);
			CU_ASSERT_EQUAL(get32(e.b + 12), get32(p.b + 16));
		}
		/* the embedded packet is the original, byte for byte; but
		 * for half a TCP checksum (17 bytes carried), which cannot
		 * be patched without the other half */
		if (p.b[9] == 6 && carry == 17)
			carry = 16;
		CU_ASSERT_EQUAL(memcmp(e.b + 28, p.b, p.ihl + carry), 0);
		/* outer IP and ICMP checksums as from scratch */
		check_sums(&e, false);
	}
	/* the embedded TCP and UDP checksums were inside often enough */
	CU_ASSERT(nfull > 500);
}

static void
test_nat_rewrite_bad_input(void)
{
	struct pkt k, o, e;
	struct tg_nat_tuple t;
	int i;

	/* TCP too short for its checksum: nothing changes */
	build(&k, 6, 1, 2, 3, 4, 0, 0, 0, false);
	o = k;
	CU_ASSERT_EQUAL(tg_nat_rewrite(ip_of(&k), 17, TG_NAT_SRC, 9, 9),
		-EINVAL);
	CU_ASSERT_EQUAL(memcmp(k.b, o.b, BUF), 0);
	build(&k, 17, 1, 2, 3, 4, 0, 0, 0, false);
	o = k;
	CU_ASSERT_EQUAL(tg_nat_rewrite(ip_of(&k), 7, TG_NAT_DST, 9, 9),
		-EINVAL);
	CU_ASSERT_EQUAL(memcmp(k.b, o.b, BUF), 0);
	/* not an ICMP error, or too short to carry a packet */
	build(&k, 1, 1, 2, 3, 0, 0, 40, 8, false);
	o = k;
	CU_ASSERT_EQUAL(tg_nat_rewrite_icmp_error(ip_of(&k), k.l4_len,
				TG_NAT_DST, 9, 9, 9),
		-EINVAL);
	CU_ASSERT_EQUAL(
		tg_nat_icmp_error_inner(ip_of(&k), k.l4_len, &t), -EINVAL);
	build(&o, 17, 5, 6, 7, 8, 0, 0, 0, false);
	for (i = 0; i < 8; i++) {
		icmp_error(&e, 1, 2, 3, &o, 8);
		k = e;
		/* shorter than header + 8, a bad version, a bad IHL */
		if (i < 4) {
			CU_ASSERT_EQUAL(tg_nat_rewrite_icmp_error(ip_of(&k),
						e.l4_len - 1 - i, TG_NAT_DST,
						9, 9, 9),
				-EINVAL);
		} else {
			k.b[28] = i == 4 ? 0x65 : i == 5 ? 0x44 : 0x4f;
			CU_ASSERT_EQUAL(tg_nat_rewrite_icmp_error(ip_of(&k),
						k.l4_len, TG_NAT_DST, 9, 9, 9),
				-EINVAL);
			k.b[28] = 0x45;
		}
		CU_ASSERT_EQUAL(memcmp(k.b, e.b, BUF), 0);
	}
	/* a later fragment: the address only, the L4 bytes untouched */
	build(&k, 17, 1, 2, 3, 4, 0, 12, 0, false);
	tg_test_put16(k.b + 6, 0x2000 | 3);
	tg_test_put16(k.b + 10, 0);
	tg_test_put16(k.b + 10, tg_test_ip_sum(k.b, 20));
	o = k;
	CU_ASSERT_EQUAL(
		tg_nat_rewrite(ip_of(&k), k.l4_len, TG_NAT_SRC, 0x0b0b0b0b, 9),
		0);
	CU_ASSERT_EQUAL(get32(k.b + 12), 0x0b0b0b0bu);
	CU_ASSERT_EQUAL(memcmp(k.b + 20, o.b + 20, k.l4_len), 0);
	CU_ASSERT_EQUAL(tg_test_ip_sum(k.b, 20), 0);
}

int
main(void)
{
	/* pure functions on byte buffers: no EAL */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("nat_rewrite", NULL, NULL, "tuple",
		test_nat_rewrite_tuple, "random_against_scratch",
		test_nat_rewrite_random_against_scratch, "icmp_error_roundtrip",
		test_nat_rewrite_icmp_error_roundtrip, "bad_input",
		test_nat_rewrite_bad_input, NULL);
	return tg_test_run();
}
