/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: AH (RFC 4302) SAs on crypto_aesni_mb — invalid input, round
 * trips for both algorithms and modes with and without an L2 header,
 * mutable fields changed in transit, replay and tampering, the sequence
 * counter's end, ESP and AH completions mixed in one dequeue, and interop
 * with scapy's AH (test/unit/data/gen_ah.py → ah.pcap). With
 * TG_AH_DUMP=<file> set, tollgate's own AH of the same packets goes to
 * that pcap for test/integration/ah_interop.py to verify with scapy.
 * Expected packets are built here byte by byte or come from scapy.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>

#include "ipsec_internal.h" /* the sequence counter's end only */
#include "tg_ipsec.h"
#include "tg_test.h"
#include "tg_test_ipsec.h"

#define P_AH	  51
#define FAILED(m) (((m)->ol_flags & RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED) != 0)

/* ---- helpers ------------------------------------------------------------- */

/* A UDP packet with DSCP/ECN 0x28 and DF set (so the tests see them kept),
 * TTL 61. */
static uint16_t
build_udp(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t plen)
{
	return tg_test_udp4(b, src, dst, id, plen, 0x28, 0x4000, 61);
}

/* The AH algorithm's key (RFC 4868 / RFC 2404 sizes) and ICV length. */
static uint8_t
ah_keys(struct tg_ipsec_sa_params *p, enum tg_ipsec_alg alg, uint8_t first)
{
	uint8_t i, len = alg == TG_IPSEC_ALG_HMAC_SHA1 ? 20 : 32;

	p->proto = TG_IPSEC_PROTO_AH;
	p->alg = alg;
	p->auth_key_len = len;
	for (i = 0; i < len; i++)
		p->auth_key[i] = (uint8_t)(first + i);
	return alg == TG_IPSEC_ALG_HMAC_SHA1 ? 12 : 16;
}

/* A router's work on the IPv4 header at @p ip: TTL down, DSCP/ECN
 * rewritten, DF flipped, checksum fixed. */
static void
in_transit(uint8_t *ip)
{
	ip[8] = (uint8_t)(ip[8] - 5);
	ip[1] = 0xb9;
	ip[6] ^= 0x40;
	tg_test_put16(ip + 10, 0);
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, (ip[0] & 0xf) * 4));
}

/* ---- invalid input ------------------------------------------------------- */

static void
test_ipsec_ah_invalid_params(void)
{
	struct tg_ipsec_sa_params p = {.spi = 0x100,
					  .dir = TG_IPSEC_DIR_INBOUND,
					  .mode = TG_IPSEC_MODE_TRANSPORT},
				  q;

	ah_keys(&p, TG_IPSEC_ALG_HMAC_SHA256, 1);
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&p), 0);
	/* AH algorithm with ESP, ESP algorithm with AH. */
	q = p;
	q.proto = TG_IPSEC_PROTO_ESP;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.alg = TG_IPSEC_ALG_AES128_CBC_SHA256;
	q.cipher_key_len = 16;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	CU_ASSERT_PTR_NULL(tg_ipsec_sa_create(tg_test_ctx, &q));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	q = p;
	q.proto = (enum tg_ipsec_proto)2;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	/* Keys: AH has no cipher key; HMAC-SHA1 takes 20 bytes. */
	q = p;
	q.cipher_key_len = 16;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q = p;
	q.alg = TG_IPSEC_ALG_HMAC_SHA1;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	q.auth_key_len = 20;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), 0);
	q = p;
	q.replay_window = TG_IPSEC_AH_WINDOW_MAX + 1;
	CU_ASSERT_EQUAL(tg_ipsec_sa_params_check(&q), -EINVAL);
	/* ESN is not implemented for AH: refused at create. */
	q = p;
	q.esn = true;
	CU_ASSERT_PTR_NULL(tg_ipsec_sa_create(tg_test_ctx, &q));
	CU_ASSERT_EQUAL(rte_errno, ENOTSUP);

	CU_ASSERT_STRING_EQUAL(
		tg_ipsec_alg_name(TG_IPSEC_ALG_HMAC_SHA256), "hmac-sha256-128");
	CU_ASSERT_STRING_EQUAL(
		tg_ipsec_alg_name(TG_IPSEC_ALG_HMAC_SHA1), "hmac-sha1-96");
	CU_ASSERT_EQUAL(
		tg_ipsec_alg_proto(TG_IPSEC_ALG_HMAC_SHA1), TG_IPSEC_PROTO_AH);
	CU_ASSERT_EQUAL(tg_ipsec_alg_proto(TG_IPSEC_ALG_AES128_GCM),
		TG_IPSEC_PROTO_ESP);
	CU_ASSERT_EQUAL(tg_ipsec_alg_proto(TG_IPSEC_ALG_AES128_CBC_SHA1),
		TG_IPSEC_PROTO_ESP);
}

/* ---- round trips --------------------------------------------------------- */

/* The outbound packet's headers, checked field by field against RFC 4302
 * 2 and the inner packet @p clear (@p o: from the L2 header on). */
static void
check_outbound(const uint8_t *o, uint16_t len, const uint8_t *l2hdr,
	uint16_t l2, const uint8_t *clear, uint16_t clen,
	enum tg_ipsec_mode mode, uint32_t spi, uint32_t seq, uint8_t icv)
{
	uint16_t hl = (uint16_t)(12 + icv);
	const uint8_t *ip, *ah;

	if (mode == TG_IPSEC_MODE_TUNNEL) {
		/* L2 gone; new outer header: TTL 64, DSCP 0, DF clear. */
		ip = o;
		CU_ASSERT_EQUAL(len, 20 + hl + clen);
		CU_ASSERT_EQUAL(ip[0], 0x45);
		CU_ASSERT_EQUAL(ip[1], 0);
		CU_ASSERT_EQUAL(ip[6] << 8 | ip[7], 0);
		CU_ASSERT_EQUAL(ip[8], 64);
		CU_ASSERT_EQUAL(tg_test_get32(ip + 12), TG_TEST_US);
		CU_ASSERT_EQUAL(tg_test_get32(ip + 16), TG_TEST_PEER);
		ah = ip + 20;
		CU_ASSERT_EQUAL(ah[0], 4); /* IP in IP */
		CU_ASSERT_EQUAL(memcmp(ah + hl, clear, clen), 0);
	} else {
		/* L2 kept; the header as it was but for protocol and
		 * length (and so checksum); AH after it. */
		CU_ASSERT_EQUAL(len, l2 + hl + clen);
		CU_ASSERT_EQUAL(memcmp(o, l2hdr, l2), 0);
		ip = o + l2;
		CU_ASSERT_EQUAL(memcmp(ip, clear, 2), 0);
		CU_ASSERT_EQUAL(memcmp(ip + 4, clear + 4, 5), 0);
		CU_ASSERT_EQUAL(memcmp(ip + 12, clear + 12, 8), 0);
		ah = ip + 20;
		CU_ASSERT_EQUAL(ah[0], clear[9]);
		CU_ASSERT_EQUAL(memcmp(ah + hl, clear + 20, clen - 20), 0);
	}
	CU_ASSERT_EQUAL(ip[9], P_AH);
	CU_ASSERT_EQUAL(ip[2] << 8 | ip[3],
		mode == TG_IPSEC_MODE_TRANSPORT ? len - l2 : len);
	CU_ASSERT_EQUAL(tg_test_ip_sum(ip, 20), 0);
	CU_ASSERT_EQUAL(ah[1], hl / 4 - 2);
	CU_ASSERT_EQUAL(ah[2] << 8 | ah[3], 0);
	CU_ASSERT_EQUAL(tg_test_get32(ah + 4), spi);
	CU_ASSERT_EQUAL(tg_test_get32(ah + 8), seq);
}

static void
roundtrip(enum tg_ipsec_alg alg, enum tg_ipsec_mode mode, uint16_t l2)
{
	struct tg_ipsec_sa_params p = {
		.spi = 0x5000u + (uint32_t)alg * 4 + (uint32_t)mode * 2 +
		       (l2 != 0),
		.mode = mode,
		.tun_local = TG_TEST_US,
		.tun_remote = TG_TEST_PEER,
		.replay_window = 64,
	};
	uint8_t frame[TG_TEST_FRAME_MAX], ahp[TG_TEST_FRAME_MAX],
		bad[TG_TEST_FRAME_MAX];
	uint8_t want[TG_TEST_FRAME_MAX], l2hdr[14];
	uint16_t clen, alen, seq, i, ahl2;
	struct tg_ipsec_sa *out, *in;
	struct rte_mbuf *m;
	uint8_t icv, *ip;
	bool failed;

	icv = ah_keys(&p, alg, 0x40);
	p.dir = TG_IPSEC_DIR_OUTBOUND;
	out = tg_ipsec_sa_create(tg_test_ctx, &p);
	p.dir = TG_IPSEC_DIR_INBOUND;
	in = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	for (i = 0; i < sizeof(l2hdr); i++)
		l2hdr[i] = (uint8_t)(0xe0 + i);

	for (seq = 1; seq <= 4; seq++) {
		/* L2 + the packet. */
		memcpy(frame, l2hdr, l2);
		clen = build_udp(frame + l2, TG_TEST_IP4(10, 1, 0, 1),
			TG_TEST_IP4(10, 2, 0, 1), seq, (uint16_t)(11 * seq));
		m = tg_test_mbuf_of(frame, (uint16_t)(l2 + clen), l2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(out, &m, NULL), 1);
		alen = rte_pktmbuf_data_len(m);
		check_outbound(rte_pktmbuf_mtod(m, const uint8_t *), alen,
			l2hdr, l2, frame + l2, clen, mode, p.spi, seq, icv);
		/* What arrives: tunnel output gets an L2 header again. */
		ahl2 = mode == TG_IPSEC_MODE_TUNNEL ? l2 : 0;
		memcpy(ahp, l2hdr, ahl2);
		memcpy(ahp + ahl2, rte_pktmbuf_mtod(m, void *), alen);
		alen = (uint16_t)(alen + ahl2);
		rte_pktmbuf_free(m);
		ip = ahp + l2;

		/* What inbound must give: tunnel the inner packet, transport
		 * L2 + the packet (mutable fields as received). */
		if (mode == TG_IPSEC_MODE_TUNNEL) {
			memcpy(want, frame + l2, clen);
		} else {
			memcpy(want, frame, l2 + clen);
		}
		if (seq == 3) {
			/* Routers changed TTL, DSCP/ECN and DF: still
			 * authentic; transport shows them as received. */
			in_transit(ip);
			if (mode == TG_IPSEC_MODE_TRANSPORT)
				in_transit(want + l2);
		}
		if (seq == 2) {
			/* A flipped payload byte, then a flipped ICV byte:
			 * authentication failures (the flag), the window
			 * untouched — the genuine packet passes below. */
			memcpy(bad, ahp, alen);
			bad[alen - 1] ^= 0x01;
			m = tg_test_mbuf_of(bad, alen, l2);
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, &failed), 0);
			CU_ASSERT(failed);
			memcpy(bad, ahp, alen);
			bad[l2 + 20 + 12 + icv - 1] ^= 0x80;
			m = tg_test_mbuf_of(bad, alen, l2);
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, &failed), 0);
			CU_ASSERT(failed);
			/* The source address is immutable. */
			memcpy(bad, ahp, alen);
			bad[l2 + 15] ^= 0x01;
			m = tg_test_mbuf_of(bad, alen, l2);
			CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, &failed), 0);
			CU_ASSERT(failed);
		}
		m = tg_test_mbuf_of(ahp, alen, l2);
		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(in, &m, NULL), 1);
		if (!tg_test_mbuf_equals(m, want,
			    (uint16_t)(mode == TG_IPSEC_MODE_TUNNEL
					       ? clen
					       : l2 + clen)))
			fprintf(stderr, "AH %s %s l2 %u seq %u: differs\n",
				tg_ipsec_alg_name(alg),
				mode == TG_IPSEC_MODE_TUNNEL ? "tunnel"
							     : "transport",
				l2, seq);
		CU_ASSERT(tg_test_mbuf_equals(m, want,
			(uint16_t)(mode == TG_IPSEC_MODE_TUNNEL ? clen
								: l2 + clen)));
		rte_pktmbuf_free(m);

		/* The same packet again: a replay, not an ICV failure. */
		m = tg_test_mbuf_of(ahp, alen, l2);
		CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, &failed), 0);
		CU_ASSERT(!failed);
	}
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(out)->inflight, 0);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(in)->inflight, 0);
	tg_ipsec_sa_destroy(out);
	tg_ipsec_sa_destroy(in);
}

static void
test_ipsec_ah_roundtrip_every_alg_and_mode(void)
{
	int a, md;

	for (a = TG_IPSEC_ALG_HMAC_SHA256; a <= TG_IPSEC_ALG_HMAC_SHA1; a++)
		for (md = 0; md < 2; md++) {
			roundtrip((enum tg_ipsec_alg)a, (enum tg_ipsec_mode)md,
				0);
			roundtrip((enum tg_ipsec_alg)a, (enum tg_ipsec_mode)md,
				14);
		}
}

/* IPv4 options in transport mode: router alert and record route go
 * through (the latter zeroed for the ICV and changed in transit); a
 * loose source route is refused before the device. */
static void
test_ipsec_ah_transport_options(void)
{
	struct tg_ipsec_sa_params p = {.spi = 0x5100,
		.mode = TG_IPSEC_MODE_TRANSPORT,
		.replay_window = 64};
	static const uint8_t opts[] = {148, 4, 0, 0, /* router alert */
		7, 7, 4, 0, 0, 0, 0, /* record route, one empty slot */
		0};		     /* end of list */
	uint8_t pkt[TG_TEST_FRAME_MAX], ahp[TG_TEST_FRAME_MAX];
	struct tg_ipsec_sa *out, *in;
	struct rte_mbuf *m;
	uint16_t len, alen;

	ah_keys(&p, TG_IPSEC_ALG_HMAC_SHA1, 0x60);
	p.dir = TG_IPSEC_DIR_OUTBOUND;
	out = tg_ipsec_sa_create(tg_test_ctx, &p);
	p.dir = TG_IPSEC_DIR_INBOUND;
	in = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);

	/* A 20-byte header packet, then its options spliced in. */
	len = build_udp(pkt, TG_TEST_PEER, TG_TEST_US, 7, 30);
	memmove(pkt + 20 + sizeof(opts), pkt + 20, len - 20);
	memcpy(pkt + 20, opts, sizeof(opts));
	len = (uint16_t)(len + sizeof(opts));
	pkt[0] = 0x48;
	tg_test_put16(pkt + 2, len);
	tg_test_put16(pkt + 10, 0);
	tg_test_put16(pkt + 10, tg_test_ip_sum(pkt, 32));

	m = tg_test_mbuf_of(pkt, len, 0);
	CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(out, &m, NULL), 1);
	alen = rte_pktmbuf_data_len(m);
	memcpy(ahp, rte_pktmbuf_mtod(m, void *), alen);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(alen, len + 24);
	CU_ASSERT_EQUAL(memcmp(ahp + 20, opts, sizeof(opts)), 0);
	CU_ASSERT_EQUAL(ahp[32], IPPROTO_UDP); /* AH after the options */
	CU_ASSERT_EQUAL(tg_test_ip_sum(ahp, 32), 0);

	/* A router records itself: mutable, still authentic; the result
	 * is the packet as received. */
	ahp[26] = 8;
	tg_test_put32(ahp + 27, TG_TEST_IP4(198, 51, 100, 7));
	tg_test_put16(ahp + 10, 0);
	tg_test_put16(ahp + 10, tg_test_ip_sum(ahp, 32));
	pkt[26] = 8;
	tg_test_put32(pkt + 27, TG_TEST_IP4(198, 51, 100, 7));
	tg_test_put16(pkt + 10, 0);
	tg_test_put16(pkt + 10, tg_test_ip_sum(pkt, 32));
	m = tg_test_mbuf_of(ahp, alen, 0);
	CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(in, &m, NULL), 1);
	CU_ASSERT(tg_test_mbuf_equals(m, pkt, len));
	rte_pktmbuf_free(m);

	/* The router alert is immutable: changing it breaks the ICV. */
	m = tg_test_mbuf_of(ahp, alen, 0);
	rte_pktmbuf_mtod(m, uint8_t *)[22] = 1;
	CU_ASSERT_EQUAL(tg_test_ipsec_one(in, &m, NULL), 0);

	/* A loose source route: refused as a preparation failure. */
	pkt[24] = 131;
	m = tg_test_mbuf_of(pkt, len, 0);
	{
		uint16_t np, ne = tg_ipsec_crypto_enqueue(
				     tg_test_ctx, out, &m, 1, &np);

		CU_ASSERT_EQUAL(ne, 0);
		CU_ASSERT_EQUAL(np, 0);
	}
	rte_pktmbuf_free(m);
	tg_ipsec_sa_destroy(out);
	tg_ipsec_sa_destroy(in);
}

/* ---- replay window ------------------------------------------------------- */

/* Packets 1..n of an outbound SA, kept for replaying in any order. */
static uint8_t seqpkt[200][128];
static uint16_t seqlen[200];

static void
test_ipsec_ah_replay_window(void)
{
	struct tg_ipsec_sa_params p = {.spi = 0x5200,
		.mode = TG_IPSEC_MODE_TRANSPORT,
		.replay_window = 64};
	struct tg_ipsec_sa *out, *in, *off;
	struct rte_mbuf *m, *mb[2];
	uint8_t b[TG_TEST_FRAME_MAX];
	bool failed;
	int s, rc;

	ah_keys(&p, TG_IPSEC_ALG_HMAC_SHA256, 0x11);
	p.dir = TG_IPSEC_DIR_OUTBOUND;
	out = tg_ipsec_sa_create(tg_test_ctx, &p);
	p.dir = TG_IPSEC_DIR_INBOUND;
	in = tg_ipsec_sa_create(tg_test_ctx, &p);
	p.replay_window = 0;
	off = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(off);
	for (s = 1; s < 200; s++) {
		m = tg_test_mbuf_of(b,
			build_udp(b, TG_TEST_PEER, TG_TEST_US, (uint16_t)s, 20),
			0);
		CU_ASSERT_EQUAL_FATAL(tg_test_ipsec_one(out, &m, NULL), 1);
		seqlen[s] = rte_pktmbuf_data_len(m);
		CU_ASSERT_FATAL(seqlen[s] <= sizeof(seqpkt[s]));
		memcpy(seqpkt[s], rte_pktmbuf_mtod(m, void *), seqlen[s]);
		CU_ASSERT_EQUAL(tg_test_get32(seqpkt[s] + 28), (uint32_t)s);
		rte_pktmbuf_free(m);
	}
#define FEED(sa, s)                                                            \
	(m = tg_test_mbuf_of(seqpkt[s], seqlen[s], 0),                         \
		tg_test_ipsec_one(sa, &m, &failed))
	/* 100 first; then 37..99 are inside the window (100 - 64, 100],
	 * 36 and below are too old; 150 moves it; 100 is a replay. */
	CU_ASSERT_EQUAL(FEED(in, 100), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 37), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 37), 0);
	CU_ASSERT(!failed);
	CU_ASSERT_EQUAL(FEED(in, 36), 0);
	CU_ASSERT(!failed);
	CU_ASSERT_EQUAL(FEED(in, 99), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 150), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 100), 0); /* seen, still in the window */
	CU_ASSERT_EQUAL(FEED(in, 86), 0);  /* 150 - 64: out */
	CU_ASSERT_EQUAL(FEED(in, 87), 1);  /* in, never seen */
	rte_pktmbuf_free(m);
	/* 165 is 37 + 128: with a window of 64 they may share a bit of the
	 * bitmap, which must have been cleared when the window left 37. */
	CU_ASSERT_EQUAL(FEED(in, 170), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 165), 1);
	rte_pktmbuf_free(m);
	/* Far ahead: the whole window slides. */
	CU_ASSERT_EQUAL(FEED(in, 199), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(in, 150), 0);
	CU_ASSERT_EQUAL(FEED(in, 136), 1);
	rte_pktmbuf_free(m);

	/* Two copies in one burst: both pass the check before the device,
	 * the second is caught after verification — not an ICV failure. */
	mb[0] = tg_test_mbuf_of(seqpkt[190], seqlen[190], 0);
	mb[1] = tg_test_mbuf_of(seqpkt[190], seqlen[190], 0);
	rc = tg_ipsec_process_sync(tg_test_ctx, in, mb, 2);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(!FAILED(mb[1]));
	rte_pktmbuf_free(mb[0]);
	rte_pktmbuf_free(mb[1]);

	/* Window off: anything authentic passes, duplicates too. */
	CU_ASSERT_EQUAL(FEED(off, 5), 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(FEED(off, 5), 1);
	rte_pktmbuf_free(m);
#undef FEED
	tg_ipsec_sa_destroy(out);
	tg_ipsec_sa_destroy(in);
	tg_ipsec_sa_destroy(off);
}

/* The outbound counter stops at 2^32 - 1 without ESN: the packet after
 * it fails preparation (white box: the counter is set near its end). */
static void
test_ipsec_ah_sequence_does_not_wrap(void)
{
	struct tg_ipsec_sa_params p = {.spi = 0x5300,
		.dir = TG_IPSEC_DIR_OUTBOUND,
		.mode = TG_IPSEC_MODE_TRANSPORT};
	struct tg_ipsec_sa *out;
	struct rte_mbuf *mb[2];
	uint8_t b[TG_TEST_FRAME_MAX];
	uint16_t np, ne, len;

	ah_keys(&p, TG_IPSEC_ALG_HMAC_SHA1, 0x22);
	out = tg_ipsec_sa_create(tg_test_ctx, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	out->ah.seq = UINT32_MAX - 1;
	len = build_udp(b, TG_TEST_PEER, TG_TEST_US, 1, 10);
	mb[0] = tg_test_mbuf_of(b, len, 0);
	mb[1] = tg_test_mbuf_of(b, len, 0);
	CU_ASSERT_EQUAL(tg_ipsec_process_sync(tg_test_ctx, out, mb, 2), 1);
	CU_ASSERT_EQUAL(tg_test_get32(rte_pktmbuf_mtod(mb[0], uint8_t *) + 28),
		UINT32_MAX);
	CU_ASSERT(tg_test_mbuf_equals(mb[1], b, len)); /* refused untouched */
	rte_pktmbuf_free(mb[0]);
	ne = tg_ipsec_crypto_enqueue(tg_test_ctx, out, &mb[1], 1, &np);
	CU_ASSERT_EQUAL(ne, 0);
	CU_ASSERT_EQUAL(np, 0);
	rte_pktmbuf_free(mb[1]);
	tg_ipsec_sa_destroy(out);
}

/* ESP and AH ops of several SAs in the device at once, completed mixed:
 * each packet comes back with its SA, in order per SA, and the
 * in-flight counts return to 0. */
static void
test_ipsec_ah_mixed_with_esp_in_one_dequeue(void)
{
	struct tg_ipsec_sa_params pe = {.spi = 0x5400,
		.dir = TG_IPSEC_DIR_OUTBOUND,
		.mode = TG_IPSEC_MODE_TUNNEL,
		.tun_local = TG_TEST_US,
		.tun_remote = TG_TEST_PEER,
		.alg = TG_IPSEC_ALG_AES128_GCM,
		.cipher_key_len = 16};
	struct tg_ipsec_sa_params pa = pe;
	struct rte_mbuf *mb[3][8], *got[TG_IPSEC_BURST_MAX];
	struct tg_ipsec_sa *sa[3], *sas[TG_IPSEC_BURST_MAX];
	uint16_t i, j, np, ng, r, total = 0, tries, next[3] = {1, 1, 1};
	uint8_t b[TG_TEST_FRAME_MAX];

	pa.spi = 0x5401;
	pa.cipher_key_len = 0;
	ah_keys(&pa, TG_IPSEC_ALG_HMAC_SHA256, 3);
	sa[0] = tg_ipsec_sa_create(tg_test_ctx, &pe);
	sa[1] = tg_ipsec_sa_create(tg_test_ctx, &pa);
	pa.spi = 0x5402;
	pa.mode = TG_IPSEC_MODE_TRANSPORT;
	sa[2] = tg_ipsec_sa_create(tg_test_ctx, &pa);
	for (i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa[i]);
	/* Interleaved enqueues: AH, ESP, AH, ESP, … */
	for (j = 0; j < 8; j += 2)
		for (i = 0; i < 3; i++) {
			mb[i][j] = tg_test_mbuf_of(
				b, build_udp(b, 1, 2, j, 10), 0);
			mb[i][j + 1] = tg_test_mbuf_of(
				b, build_udp(b, 1, 2, j + 1, 10), 0);
			CU_ASSERT_EQUAL_FATAL(
				tg_ipsec_crypto_enqueue(tg_test_ctx, sa[2 - i],
					&mb[i][j], 2, &np),
				2);
		}
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa[0])->inflight, 8);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa[1])->inflight, 8);
	for (tries = 0; total < 24 && tries < 10000; tries++) {
		r = tg_ipsec_crypto_dequeue(tg_test_ctx, got, sas, 32, &ng);
		CU_ASSERT_EQUAL(ng, r);
		for (i = 0; i < r; i++) {
			const uint8_t *o =
				rte_pktmbuf_mtod(got[i], const uint8_t *);
			unsigned int k = sas[i] == sa[0]   ? 0
					 : sas[i] == sa[1] ? 1
							   : 2;

			CU_ASSERT_FATAL(sas[i] == sa[k]);
			CU_ASSERT_EQUAL(o[9], k == 0 ? IPPROTO_ESP : P_AH);
			/* Sequence number: ESP at 24, AH at 28. */
			CU_ASSERT_EQUAL(
				tg_test_get32(o + (k == 0 ? 24 : 28)), next[k]);
			next[k]++;
			rte_pktmbuf_free(got[i]);
			total++;
		}
	}
	CU_ASSERT_EQUAL(total, 24);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa[i])->inflight, 0);
		tg_ipsec_sa_destroy(sa[i]);
	}
}

/* ---- interop with scapy (gen_ah.py) -------------------------------------- */

static struct tg_test_capture cap; /* ah.pcap */

/* gen_ah.py's SAs: i / 2 is the algorithm (SHA256 then SHA1), tunnel
 * when i is even, SPI 0x1100 + i, keys 0x40.. (32) and 0x60.. (20). */
static void
scapy_sa(struct tg_ipsec_sa_params *p, unsigned int i, enum tg_ipsec_dir dir)
{
	enum tg_ipsec_alg alg =
		i / 2 == 0 ? TG_IPSEC_ALG_HMAC_SHA256 : TG_IPSEC_ALG_HMAC_SHA1;

	tg_test_scapy_sa_common(p, i, dir, 0x1100);
	ah_keys(p, alg, alg == TG_IPSEC_ALG_HMAC_SHA1 ? 0x60 : 0x40);
}

static void
test_ipsec_ah_verifies_scapy_ah(void)
{
	unsigned int i, checked = 0;

	CU_ASSERT_EQUAL_FATAL(
		tg_test_capture_load(&cap, TG_TEST_DATA "/ah.pcap"), 0);
	for (i = 0; i + 1 < cap.n; i += 2) {
		const struct tg_test_frame *a = &cap.f[i], *c = &cap.f[i + 1];
		struct tg_ipsec_sa_params p;
		struct tg_ipsec_sa *sa;
		struct rte_mbuf *m;
		bool failed;

		CU_ASSERT_FATAL(a->kind == 1 && c->kind == 2 && a->sa == c->sa);
		scapy_sa(&p, a->sa, TG_IPSEC_DIR_INBOUND);
		sa = tg_ipsec_sa_create(tg_test_ctx, &p);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		/* With a bit of scapy's ICV flipped: an authentication
		 * failure, which leaves the window for the real one. */
		m = tg_test_mbuf_of(a->b, a->len, 0);
		rte_pktmbuf_mtod(m, uint8_t *)[(a->b[0] & 0xf) * 4 + 12] ^= 1;
		CU_ASSERT_EQUAL(tg_test_ipsec_one(sa, &m, &failed), 0);
		CU_ASSERT(failed);
		m = tg_test_mbuf_of(a->b, a->len, 0);
		CU_ASSERT_EQUAL(tg_test_ipsec_one(sa, &m, NULL), 1);
		if (!tg_test_mbuf_equals(m, c->b, c->len))
			fprintf(stderr,
				"scapy AH SA %u (%s, %s) frame %u: "
				"differs\n",
				a->sa, tg_ipsec_alg_name(p.alg),
				p.mode == TG_IPSEC_MODE_TUNNEL ? "tunnel"
							       : "transport",
				i + 1);
		CU_ASSERT(tg_test_mbuf_equals(m, c->b, c->len));
		rte_pktmbuf_free(m);
		tg_ipsec_sa_destroy(sa);
		checked++;
	}
	/* 2 algorithms: tunnel 2 packets, transport 3. */
	CU_ASSERT_EQUAL(checked, 10);
}

/* tollgate signs gen_ah.py's packets with the same SAs (outbound: tunnel
 * from TG_TEST_US to TG_TEST_PEER) and, when TG_AH_DUMP names a file, writes
 * its AH there for ah_interop.py. The transport packets of the pcap are as
 * received (mutated in transit); signing them is as good a test. */
static void
test_ipsec_ah_signs_for_scapy(void)
{
	CU_ASSERT_EQUAL_FATAL(
		tg_test_capture_load(&cap, TG_TEST_DATA "/ah.pcap"), 0);
	CU_ASSERT_EQUAL(
		tg_test_protect_for_scapy(&cap, scapy_sa, P_AH, "TG_AH_DUMP"),
		10);
}

/* ---- main ---------------------------------------------------------------- */

/* Lookaside: AH always is, and the mixed test needs ESP ops in the same
 * queue (a CPU crypto context would run ESP inline). */
static void
add_suites(void)
{
	tg_test_suite("ipsec_ah", tg_test_ipsec_init_lookaside,
		tg_test_ipsec_clean, "test_ipsec_ah_invalid_params",
		test_ipsec_ah_invalid_params,
		"test_ipsec_ah_roundtrip_every_alg_and_mode",
		test_ipsec_ah_roundtrip_every_alg_and_mode,
		"test_ipsec_ah_transport_options",
		test_ipsec_ah_transport_options, "test_ipsec_ah_replay_window",
		test_ipsec_ah_replay_window,
		"test_ipsec_ah_sequence_does_not_wrap",
		test_ipsec_ah_sequence_does_not_wrap,
		"test_ipsec_ah_mixed_with_esp_in_one_dequeue",
		test_ipsec_ah_mixed_with_esp_in_one_dequeue,
		"test_ipsec_ah_verifies_scapy_ah",
		test_ipsec_ah_verifies_scapy_ah,
		"test_ipsec_ah_signs_for_scapy", test_ipsec_ah_signs_for_scapy,
		NULL);
}

int
main(void)
{
	return tg_test_ipsec_main("test_ipsec_ah", 255, 0, add_suites);
}
