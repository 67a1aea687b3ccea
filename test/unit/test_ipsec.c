/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the crypto context and ESP SAs on crypto_aesni_mb — invalid
 * input, round trips for every algorithm and mode with replay and
 * tampering, a known-answer test from draft-mcgrew-gcm-test-01, and
 * interop with scapy's ESP (test/unit/data/gen_esp.py → esp.pcap). With
 * TG_ESP_DUMP=<file> set, tollgate's own ESP of the same cleartext goes
 * to that pcap for test/integration/esp_interop.py to decrypt with scapy.
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tg_ipsec.h"
#include "tg_test.h"
#include "tg_test_ipsec.h"

/* ---- helpers ------------------------------------------------------------- */

/* A UDP packet: TOS 0, DF clear, TTL 64. */
static uint16_t
build_udp(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t plen)
{
	return tg_test_udp4(b, src, dst, id, plen, 0, 0, 64);
}

static void
keys(struct tg_ipsec_sa_params *p, enum tg_ipsec_alg alg, const uint8_t *ck,
	const uint8_t *ak)
{
	static const uint8_t klen[] = {16, 32, 16, 32, 16};
	static const uint8_t alen[] = {0, 0, 32, 32, 20};

	p->alg = alg;
	p->cipher_key_len = klen[alg];
	memcpy(p->cipher_key, ck, klen[alg]);
	p->auth_key_len = alen[alg];
	if (alen[alg] != 0)
		memcpy(p->auth_key, ak, alen[alg]);
}

/* ---- invalid input ------------------------------------------------------- */

static void
test_ipsec_invalid_params(void)
{
	struct tg_ipsec_ctx_params cp = {.max_sa = 0, .nb_ops = 64};
	struct tg_ipsec_sa_params p = {0}, q;
	static const uint8_t k[32];

	CU_ASSERT_PTR_NULL(tg_ipsec_ctx_create(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tg_ipsec_ctx_create(&cp));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	cp.max_sa = 4;
	cp.device = "crypto_no_such_pmd";
	CU_ASSERT_PTR_NULL(tg_ipsec_ctx_create(&cp));
	CU_ASSERT_EQUAL(rte_errno, ENODEV);

	p.spi = 0x100;
	p.dir = TG_IPSEC_DIR_INBOUND;
	p.mode = TG_IPSEC_MODE_TRANSPORT;
	keys(&p, TG_IPSEC_ALG_AES128_GCM, k, k);
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&p), 0);
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(NULL), -EINVAL);
	q = p;
	q.spi = 0; /* reserved */
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.cipher_key_len = 24; /* AES-192: not offered */
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.auth_key_len = 32; /* GCM has no auth key */
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.alg = TG_IPSEC_ALG__COUNT;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	keys(&q, TG_IPSEC_ALG_AES128_CBC_SHA1, k, k);
	q.auth_key_len = 32; /* SHA1: 20 */
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.mode = TG_IPSEC_MODE_TUNNEL; /* no endpoints */
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q.tun_local = TG_TEST_US;
	q.tun_remote = TG_TEST_PEER;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), 0);
	q = p;
	q.dir = (enum tg_ipsec_dir)7;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	CU_ASSERT_PTR_NULL(tg_ipsec_sa_create(tg_test_ctx, &q));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_PTR_NULL(tg_ipsec_sa_create(NULL, &p));
	CU_ASSERT_STRING_EQUAL(
		tg_ipsec_alg_name(TG_IPSEC_ALG_AES256_GCM), "aes-256-gcm");
	CU_ASSERT_PTR_NULL(tg_ipsec_alg_name(TG_IPSEC_ALG__COUNT));
	tg_ipsec_sa_destroy(NULL);
	tg_ipsec_ctx_free(NULL);
}

/* ---- round trips --------------------------------------------------------- */

static void
roundtrip(enum tg_ipsec_alg alg, enum tg_ipsec_mode mode, bool esn)
{
	static const uint8_t ck[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
		29, 30, 31, 32};
	static const uint8_t ak[32] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
		0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0,
		0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba,
		0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
	struct tg_ipsec_sa_params p = {
		.spi = 0x2000u + alg * 2u + mode,
		.mode = mode,
		.tun_local = TG_TEST_US,
		.tun_remote = TG_TEST_PEER,
		.salt = {0xde, 0xad, 0xbe, 0xef},
		.replay_window = 64,
		.esn = esn,
	};
	struct tg_ipsec_sa *out, *in;
	struct rte_mbuf *m;
	uint8_t clear[TG_TEST_FRAME_MAX], esp[TG_TEST_FRAME_MAX],
		esp2[TG_TEST_FRAME_MAX];
	uint16_t clen, elen, elen2, seq;
	const uint8_t *o;

	keys(&p, alg, ck, ak);
	p.dir = TG_IPSEC_DIR_OUTBOUND;
	out = tg_ipsec_sa_create(tg_test_ctx, &p);
	p.dir = TG_IPSEC_DIR_INBOUND;
	in = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_EQUAL(tg_ipsec_sa_spi(in), p.spi);
	CU_ASSERT_EQUAL(tg_ipsec_sa_dir(out), TG_IPSEC_DIR_OUTBOUND);

	for (seq = 1; seq <= 3; seq++) {
		clen = build_udp(clear, TG_TEST_IP4(10, 1, 0, 1),
			TG_TEST_IP4(10, 2, 0, 1), seq, (uint16_t)(13 * seq));
		m = tg_test_mbuf_of(clear, clen, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(out, &m, NULL), 1);
		o = rte_pktmbuf_mtod(m, const uint8_t *);
		elen = rte_pktmbuf_data_len(m);
		/* Outer header: ESP, valid checksum and length, and in
		 * tunnel mode our endpoints; sequence number in order. */
		CU_ASSERT_EQUAL(o[9], IPPROTO_ESP);
		CU_ASSERT_EQUAL(tg_test_ip_sum(o, 20), 0);
		CU_ASSERT_EQUAL(o[2] << 8 | o[3], elen);
		CU_ASSERT_EQUAL(o[20] << 24 | o[21] << 16 | o[22] << 8 | o[23],
			(int)p.spi);
		CU_ASSERT_EQUAL(o[27], seq);
		if (mode == TG_IPSEC_MODE_TUNNEL) {
			CU_ASSERT_EQUAL(
				memcmp(o + 12, "\xc0\x00\x02\x01", 4), 0);
			CU_ASSERT_EQUAL(
				memcmp(o + 16, "\xc0\x00\x02\x02", 4), 0);
		} else {
			CU_ASSERT_EQUAL(memcmp(o + 12, clear + 12, 8), 0);
		}
		CU_ASSERT(elen > clen);
		memcpy(esp, o, elen);
		/* The ciphertext does not hold the cleartext payload. */
		CU_ASSERT_PTR_NULL(memmem(esp, elen, clear + 28, clen - 28));

		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(in, &m, NULL), 1);
		CU_ASSERT(tg_test_mbuf_equals(m, clear, clen));
		rte_pktmbuf_free(m);

		/* The same ESP packet again: a replay. */
		m = tg_test_mbuf_of(esp, elen, 0);
		CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, NULL), 0);

		if (seq == 2) {
			/* A flipped ciphertext byte of the next packet: the
			 * ICV fails; the window does not move, so the real
			 * packet with that number still passes (seq 3). */
			clen = build_udp(clear, TG_TEST_IP4(10, 1, 0, 1),
				TG_TEST_IP4(10, 2, 0, 1), 9, 40);
			m = tg_test_mbuf_of(clear, clen, 0);
			CU_ASSERT_EQUAL_FATAL(
				tg_test_ipsec_one(out, &m, NULL), 1);
			elen2 = rte_pktmbuf_data_len(m);
			memcpy(esp2, rte_pktmbuf_mtod(m, void *), elen2);
			rte_pktmbuf_mtod(m, uint8_t *)[elen2 - 20] ^= 0x04;
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, NULL), 0);
			m = tg_test_mbuf_of(esp2, elen2, 0);
			rte_pktmbuf_mtod(m, uint8_t *)[40] ^= 0x80;
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, NULL), 0);
			/* Untouched, it passes. */
			m = tg_test_mbuf_of(esp2, elen2, 0);
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, NULL), 1);
			if (m != NULL)
				CU_ASSERT(tg_test_mbuf_equals(m, clear, clen));
			rte_pktmbuf_free(m);
			seq++; /* the outbound SA used one more number */
			break;
		}
	}
	tg_ipsec_sa_destroy(out);
	tg_ipsec_sa_destroy(in);
}

static void
test_ipsec_roundtrip_every_alg_and_mode(void)
{
	int a, md;

	/* The ESP algorithms (AH's: test_ipsec_ah.c). */
	for (a = 0; a <= TG_IPSEC_ALG_AES128_CBC_SHA1; a++)
		for (md = 0; md < 2; md++)
			roundtrip((enum tg_ipsec_alg)a, (enum tg_ipsec_mode)md,
				false);
}

static void
test_ipsec_roundtrip_esn(void)
{
	roundtrip(TG_IPSEC_ALG_AES128_GCM, TG_IPSEC_MODE_TUNNEL, true);
	roundtrip(
		TG_IPSEC_ALG_AES256_CBC_SHA256, TG_IPSEC_MODE_TRANSPORT, true);
}

/* The building blocks the stage uses: a burst enqueued on one "poll",
 * picked up on later ones, in order, each with its SA. */
static void
test_ipsec_enqueue_then_dequeue_burst(void)
{
	static const uint8_t k[32] = {9};
	struct tg_ipsec_sa_params p = {.spi = 0x3000,
		.dir = TG_IPSEC_DIR_OUTBOUND,
		.mode = TG_IPSEC_MODE_TUNNEL,
		.tun_local = TG_TEST_US,
		.tun_remote = TG_TEST_PEER};
	struct rte_mbuf *mb[TG_IPSEC_BURST_MAX], *got[TG_IPSEC_BURST_MAX];
	struct tg_ipsec_sa *sas[TG_IPSEC_BURST_MAX], *sa;
	uint8_t b[TG_TEST_FRAME_MAX];
	uint16_t i, n = 20, np, ne, ng, r, total = 0, tries;

	keys(&p, TG_IPSEC_ALG_AES256_GCM, k, k);
	sa = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
	for (i = 0; i < n; i++) {
		mb[i] = tg_test_mbuf_of(b, build_udp(b, 1, 2, i, 10), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mb[i]);
	}
	ne = tg_ipsec_crypto_enqueue(tg_test_ctx, sa, mb, n, &np);
	CU_ASSERT_EQUAL(ne, n);
	CU_ASSERT_EQUAL(np, n);
	for (tries = 0; total < ne && tries < 10000; tries++) {
		r = tg_ipsec_crypto_dequeue(tg_test_ctx, got, sas, 7, &ng);
		CU_ASSERT(r <= 7);
		CU_ASSERT_EQUAL(ng, r);
		for (i = 0; i < r; i++) {
			const uint8_t *o =
				rte_pktmbuf_mtod(got[i], const uint8_t *);

			CU_ASSERT_PTR_EQUAL(sas[i], sa);
			CU_ASSERT_EQUAL(o[27], total + 1); /* sequence */
			CU_ASSERT_PTR_EQUAL(got[i], mb[total]);
			rte_pktmbuf_free(got[i]);
			total++;
		}
	}
	CU_ASSERT_EQUAL(total, n);
	CU_ASSERT_EQUAL(
		tg_ipsec_crypto_dequeue(tg_test_ctx, got, sas, 7, &ng), 0);
	tg_ipsec_sa_destroy(sa);
}

/* A second context, small on purpose: its session pool runs out at
 * max_sa SAs (ENOMEM), and its queue pair refuses what does not fit: those
 * packets come back behind the enqueued ones, prepared (an outbound one
 * has used its sequence number). Freeing it removes the vdev it made. */
static void
test_ipsec_small_context_limits(void)
{
	static const uint8_t k[32] = {7};
	struct tg_ipsec_ctx_params cp = {.device = "crypto_aesni_mb_small",
		.max_sa = 2,
		.nb_ops = 64,
		.qp_depth = 8,
		.socket_id = SOCKET_ID_ANY,
		.mode = TG_IPSEC_CRYPTO_LOOKASIDE};
	struct tg_ipsec_sa_params p = {.spi = 0x4000,
		.dir = TG_IPSEC_DIR_OUTBOUND,
		.mode = TG_IPSEC_MODE_TRANSPORT};
	struct rte_mbuf *mb[TG_IPSEC_BURST_MAX], *got[TG_IPSEC_BURST_MAX];
	struct tg_ipsec_sa *sa[3];
	struct tg_ipsec_ctx *small;
	uint8_t b[TG_TEST_FRAME_MAX];
	uint16_t i, n = 20, np, ne, ng, r, total = 0, tries;

	small = tg_ipsec_ctx_create(&cp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);
	CU_ASSERT_NOT_EQUAL(
		tg_ipsec_ctx_dev_id(small), tg_ipsec_ctx_dev_id(tg_test_ctx));
	keys(&p, TG_IPSEC_ALG_AES128_CBC_SHA256, k, k);
	for (i = 0; i < 3; i++) {
		p.spi = 0x4000u + i;
		sa[i] = tg_ipsec_sa_create(small, &p);
	}
	CU_ASSERT_PTR_NOT_NULL(sa[0]);
	CU_ASSERT_PTR_NOT_NULL(sa[1]);
	CU_ASSERT_PTR_NULL(sa[2]);
	CU_ASSERT_EQUAL(rte_errno, ENOMEM);
	/* A freed session makes room again. */
	tg_ipsec_sa_destroy(sa[1]);
	sa[1] = tg_ipsec_sa_create(small, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sa[1]);

	for (i = 0; i < n; i++) {
		mb[i] = tg_test_mbuf_of(b, build_udp(b, 1, 2, i, 10), 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mb[i]);
	}
	ne = tg_ipsec_crypto_enqueue(small, sa[0], mb, n, &np);
	CU_ASSERT(ne >= 1 && ne <= 8);
	CU_ASSERT_EQUAL(np, n);
	/* The refused ones are ESP already, numbered after the others. */
	for (i = ne; i < n; i++) {
		const uint8_t *o = rte_pktmbuf_mtod(mb[i], const uint8_t *);

		CU_ASSERT_EQUAL(o[9], IPPROTO_ESP);
		CU_ASSERT_EQUAL(o[27], i + 1);
		rte_pktmbuf_free(mb[i]);
	}
	for (tries = 0; total < ne && tries < 10000; tries++) {
		r = tg_ipsec_crypto_dequeue(small, got, NULL, 32, &ng);
		CU_ASSERT_EQUAL(ng, r);
		for (i = 0; i < r; i++) {
			CU_ASSERT_EQUAL(rte_pktmbuf_mtod(got[i], uint8_t *)[27],
				total + 1);
			rte_pktmbuf_free(got[i]);
			total++;
		}
	}
	CU_ASSERT_EQUAL(total, ne);
	tg_ipsec_sa_destroy(sa[0]);
	tg_ipsec_sa_destroy(sa[1]);
	tg_ipsec_ctx_free(small);
	CU_ASSERT(rte_cryptodev_get_dev_id("crypto_aesni_mb_small") < 0);
}

/* ---- known answers ------------------------------------------------------- */

/*
 * draft-mcgrew-gcm-test-01 (D. McGrew, "Test Cases for the use of GCM and
 * GMAC in IPsec ESP", March 2009), section 4, AES-GCM test cases #2
 * (AES-128) and #3 (AES-256): key, salt (first 4 bytes of the nonce),
 * SPI and the ESP packet (SPI, sequence number, IV, ciphertext, ICV),
 * and the plaintext (the inner packet followed by the ESP trailer).
 * https://datatracker.ietf.org/doc/html/draft-mcgrew-gcm-test-01
 * Their trailers carry next header 1, so they are fed to a transport-mode
 * SA (tunnel mode requires 4, IP-in-IP) behind an outer IPv4 header
 * built here: the decrypted payload must be the plaintext without its
 * trailer, and the header's protocol the trailer's next header.
 */
struct kat {
	const char *name, *key, *salt, *esp, *plain;
	uint32_t spi;
	enum tg_ipsec_alg alg;
};

static const struct kat kats[] = {
	{"draft-mcgrew-gcm-test-01 #2", "feffe9928665731c6d6a8f9467308308",
		"cafebabe",
		"0000a5f80000000afacedbaddecaf888"
		"deb22cd9b07c72c16e3a65beeb8df304"
		"a5a5897d33ae530f1ba76d5d114d2a5c"
		"3de81827c10e9a4f51330d0eec416642"
		"cfbb85a5b47e48a4ec3b9ba95d918bd1"
		"83b70d3aa8bc6ee4c309e9d85a41ad4a",
		"4500003e698f000080114dccc0a80102"
		"c0a801010a980035002a2343b2d00100"
		"00010000000000000373697009637962"
		"65726369747902646b00000100010001",
		0x0000a5f8, TG_IPSEC_ALG_AES128_GCM},
	{"draft-mcgrew-gcm-test-01 #3",
		"abbccddef00112233445566778899aab"
		"abbccddef00112233445566778899aab",
		"11223344",
		"4a2cbfe3000000020102030405060708"
		"ff425c9b724599df7a3bcd510194e00d"
		"6a78107f1b0b1cbf06efae9d65a5d763"
		"748a637985771d347f0545659f14e99d"
		"ef842d8eb335f4eecfdbf831824b4c49"
		"15956c96",
		"4500003069a6400080062690c0a80102"
		"9389155e0a9e008b2dc57ee000000000"
		"7002400020bf0000020405b401010402"
		"01020201",
		0x4a2cbfe3, TG_IPSEC_ALG_AES256_GCM},
};

static uint16_t
unhex(uint8_t *out, const char *s)
{
	uint16_t n = 0;
	unsigned int v;

	for (; s[0] != '\0' && s[1] != '\0'; s += 2) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void
test_ipsec_kat_gcm_draft_mcgrew(void)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(kats); i++) {
		const struct kat *t = &kats[i];
		struct tg_ipsec_sa_params p = {.spi = t->spi,
			.dir = TG_IPSEC_DIR_INBOUND,
			.mode = TG_IPSEC_MODE_TRANSPORT,
			.alg = t->alg,
			.replay_window = 32};
		uint8_t pkt[TG_TEST_FRAME_MAX], plain[TG_TEST_FRAME_MAX],
			want[TG_TEST_FRAME_MAX];
		uint16_t elen, plen, inner;
		struct tg_ipsec_sa *sa;
		struct rte_mbuf *m;
		uint8_t pad, nh;

		p.cipher_key_len = (uint8_t)unhex(p.cipher_key, t->key);
		unhex(p.salt, t->salt);
		sa = tg_ipsec_sa_create(tg_test_ctx, &p);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);

		memset(pkt, 0, 20);
		elen = unhex(pkt + 20, t->esp);
		pkt[0] = 0x45;
		tg_test_put16(pkt + 2, (uint16_t)(20 + elen));
		pkt[8] = 64;
		pkt[9] = IPPROTO_ESP;
		tg_test_put32(pkt + 12, TG_TEST_IP4(198, 51, 100, 1));
		tg_test_put32(pkt + 16, TG_TEST_IP4(198, 51, 100, 2));
		tg_test_put16(pkt + 10, tg_test_ip_sum(pkt, 20));

		plen = unhex(plain, t->plain);
		pad = plain[plen - 2];
		nh = plain[plen - 1];
		inner = (uint16_t)(plen - pad - 2);
		memcpy(want, pkt, 20);
		want[9] = nh;
		tg_test_put16(want + 2, (uint16_t)(20 + inner));
		want[10] = want[11] = 0;
		tg_test_put16(want + 10, tg_test_ip_sum(want, 20));
		memcpy(want + 20, plain, inner);

		m = tg_test_mbuf_of(pkt, (uint16_t)(20 + elen), 0);
		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(sa, &m, NULL), 1);
		if (!tg_test_mbuf_equals(m, want, (uint16_t)(20 + inner)))
			fprintf(stderr, "%s: decrypted packet differs\n",
				t->name);
		CU_ASSERT(tg_test_mbuf_equals(m, want, (uint16_t)(20 + inner)));
		rte_pktmbuf_free(m);

		/* A flipped ICV bit: rejected. */
		pkt[20 + elen - 1] ^= 1;
		m = tg_test_mbuf_of(pkt, (uint16_t)(20 + elen), 0);
		CU_ASSERT_EQUAL(tg_test_ipsec_one(sa, &m, NULL), 0);
		tg_ipsec_sa_destroy(sa);
	}
}

/* ---- interop with scapy (gen_esp.py) ------------------------------------- */

static struct tg_test_capture cap; /* esp.pcap */

/* gen_esp.py's keys: SA i is algorithm i / 2, tunnel when i is even,
 * SPI 0x1000 + i. */
static void
scapy_sa(struct tg_ipsec_sa_params *p, unsigned int i, enum tg_ipsec_dir dir)
{
	static const uint8_t salt[4] = {0xc0, 0xff, 0xee, 0x01};
	uint8_t ck[32], ak[32];
	enum tg_ipsec_alg alg = (enum tg_ipsec_alg)(i / 2);
	unsigned int j;

	for (j = 0; j < 32; j++)
		ck[j] = (uint8_t)((alg == TG_IPSEC_ALG_AES256_GCM ||
							  alg == TG_IPSEC_ALG_AES256_CBC_SHA256
						  ? 0x20
						  : 0x10) +
				  j);
	for (j = 0; j < 32; j++)
		ak[j] = (uint8_t)((alg == TG_IPSEC_ALG_AES128_CBC_SHA1 ? 0x60
								       : 0x40) +
				  j);
	tg_test_scapy_sa_common(p, i, dir, 0x1000);
	keys(p, alg, ck, ak);
	memcpy(p->salt, salt, 4);
}

static void
test_ipsec_decrypts_scapy_esp(void)
{
	unsigned int i, checked = 0;

	CU_ASSERT_EQUAL_FATAL(
		tg_test_capture_load(&cap, TG_TEST_DATA "/esp.pcap"), 0);
	for (i = 0; i + 1 < cap.n; i += 2) {
		const struct tg_test_frame *e = &cap.f[i], *c = &cap.f[i + 1];
		struct tg_ipsec_sa_params p;
		struct tg_ipsec_sa *sa;
		struct rte_mbuf *m;

		CU_ASSERT_FATAL(e->kind == 1 && c->kind == 2 && e->sa == c->sa);
		scapy_sa(&p, e->sa, TG_IPSEC_DIR_INBOUND);
		sa = tg_ipsec_sa_create(tg_test_ctx, &p);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		m = tg_test_mbuf_of(e->b, e->len, 0);
		CU_ASSERT_EQUAL(tg_test_ipsec_one(sa, &m, NULL), 1);
		if (m != NULL && !tg_test_mbuf_equals(m, c->b, c->len))
			fprintf(stderr, "scapy SA %u (%s, %s): differs\n",
				e->sa, tg_ipsec_alg_name(p.alg),
				p.mode == TG_IPSEC_MODE_TUNNEL ? "tunnel"
							       : "transport");
		CU_ASSERT(m != NULL && tg_test_mbuf_equals(m, c->b, c->len));
		rte_pktmbuf_free(m);
		tg_ipsec_sa_destroy(sa);
		checked++;
	}
	CU_ASSERT_EQUAL(checked, 20); /* 5 algorithms, 2 modes, 2 packets */
}

/* tollgate encrypts scapy's cleartext packets with the same SAs (outbound:
 * tunnel from TG_TEST_US to TG_TEST_PEER) and, when TG_ESP_DUMP names a file,
 * writes its ESP there for esp_interop.py. */
static void
test_ipsec_encrypts_for_scapy(void)
{
	CU_ASSERT_EQUAL_FATAL(
		tg_test_capture_load(&cap, TG_TEST_DATA "/esp.pcap"), 0);
	CU_ASSERT_EQUAL(tg_test_protect_for_scapy(
				&cap, scapy_sa, IPPROTO_ESP, "TG_ESP_DUMP"),
		20);
}

/* ---- main ---------------------------------------------------------------- */

/* Every SA through the device's queue (what a hardware device does), and
 * as CPU crypto, on the caller's core (aesni_mb offers both). */
static void
add_suites(void)
{
	tg_test_suite("ipsec_lookaside", tg_test_ipsec_init_lookaside,
		tg_test_ipsec_clean, "test_ipsec_invalid_params",
		test_ipsec_invalid_params,
		"test_ipsec_roundtrip_every_alg_and_mode",
		test_ipsec_roundtrip_every_alg_and_mode,
		"test_ipsec_roundtrip_esn", test_ipsec_roundtrip_esn,
		"test_ipsec_enqueue_then_dequeue_burst",
		test_ipsec_enqueue_then_dequeue_burst,
		"test_ipsec_small_context_limits",
		test_ipsec_small_context_limits,
		"test_ipsec_kat_gcm_draft_mcgrew",
		test_ipsec_kat_gcm_draft_mcgrew,
		"test_ipsec_decrypts_scapy_esp", test_ipsec_decrypts_scapy_esp,
		"test_ipsec_encrypts_for_scapy", test_ipsec_encrypts_for_scapy,
		NULL);
	tg_test_suite("ipsec_cpu", tg_test_ipsec_init_cpu, tg_test_ipsec_clean,
		"test_ipsec_roundtrip_every_alg_and_mode",
		test_ipsec_roundtrip_every_alg_and_mode,
		"test_ipsec_roundtrip_esn", test_ipsec_roundtrip_esn,
		"test_ipsec_kat_gcm_draft_mcgrew",
		test_ipsec_kat_gcm_draft_mcgrew,
		"test_ipsec_decrypts_scapy_esp", test_ipsec_decrypts_scapy_esp,
		"test_ipsec_encrypts_for_scapy", test_ipsec_encrypts_for_scapy,
		NULL);
}

int
main(void)
{
	return tg_test_ipsec_main("test_ipsec", 255, 0, add_suites);
}
