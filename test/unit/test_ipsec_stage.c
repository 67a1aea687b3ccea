/* SPDX-License-Identifier: BSD-3-Clause
 * The ipsec stage (tg_ipsec_stage.h) on frames as the pipeline hands them
 * over: two appliances A and B with mirrored tunnel configurations, each
 * with its own crypto device, so that what one encrypts the other must
 * decrypt; scapy's ESP (esp.pcap, test/unit/data/gen_esp.py) decrypted by
 * the stage; policy verdicts, replay, ICV failure, lifetimes, and SAs that
 * live across rebuilds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tg_config.h"
#include "tg_ipsec_stage.h"
#include "tg_test.h"
#include "tg_test_ipsec.h"
#include "tg_test_pcap.h"

#define ETH		14
/* The ipsec step's index in the transit and source paths (paths.c): the
 * stage never reads it, it only keeps it for the dispatcher. */
#define STEP_OUT 4

static bool lookaside; /* the suite's ipsec.crypto_mode */
static struct tg_emit emit;
static uint16_t verdict[64];

#define PORTS                                                                  \
	"ports:\n"                                                             \
	"  - {name: p0, device: net_null0}\n"                                  \
	"  - {name: p1, device: net_null1}\n"

/* clang-format off */
#define KEY_AB "000102030405060708090a0b0c0d0e0f"
#define SALT_AB "01020304"
#define KEY_BA "202122232425262728292a2b2c2d2e2f"
#define SALT_BA "05060708"
#define AKEY_AB "404142434445464748494a4b4c4d4e4f404142434445464748494a4b4c4d4e4f"
#define AKEY_BA "505152535455565758595a5b5c5d5e5f505152535455565758595a5b5c5d5e5f"

/* A: lan 10.0.0.0/24, wan 192.0.2.1; an ESP tunnel to B's lan
 * 10.2.0.0/24 and an AH one to 10.4.0.0/24. */
#define CFG_A_HEAD PORTS \
	"interfaces:\n" \
	"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n" \
	"  - {name: wan0, port: p1, address: 192.0.2.1/24}\n" \
	"ipsec:\n" \
	"  crypto_device: crypto_aesni_mb_a\n" \
	"  policies:\n" \
	"    - {name: tunnel, src: 10.0.0.0/24, dst: 10.2.0.0/24,\n" \
	"       direction: both, action: protect,\n" \
	"       sa: {outbound: a-out, inbound: a-in}}\n" \
	"    - {name: odd, src: 10.9.0.0/16, dst: 10.2.0.0/24,\n" \
	"       direction: outbound, action: protect, sa: a-out}\n" \
	"    - {name: no-telnet, protocol: tcp, dst_port: 23,\n" \
	"       direction: outbound, action: block}\n" \
	"    - {name: ah, src: 10.0.0.0/24, dst: 10.4.0.0/24,\n" \
	"       direction: both, action: protect,\n" \
	"       sa: {outbound: ah-out, inbound: ah-in}}\n" \
	"  sas:\n"
#define SA_A_OUT(key, life) \
	"    - {name: a-out, spi: 0x1001, direction: outbound, mode: tunnel,\n" \
	"       local: 192.0.2.1, remote: 192.0.2.2, algorithm: aes-128-gcm,\n" \
	"       key: " key ", salt: " SALT_AB life "}\n"
#define SA_A_IN \
	"    - {name: a-in, spi: 0x2001, direction: inbound, mode: tunnel,\n" \
	"       local: 192.0.2.1, remote: 192.0.2.2, algorithm: aes-128-gcm,\n" \
	"       key: " KEY_BA ", salt: " SALT_BA "}\n" \
	"    - {name: ah-out, spi: 0x3001, direction: outbound, protocol: ah,\n" \
	"       mode: tunnel, local: 192.0.2.1, remote: 192.0.2.2,\n" \
	"       algorithm: hmac-sha256, auth_key: " AKEY_AB "}\n" \
	"    - {name: ah-in, spi: 0x3002, direction: inbound, protocol: ah,\n" \
	"       mode: tunnel, local: 192.0.2.1, remote: 192.0.2.2,\n" \
	"       algorithm: hmac-sha256, auth_key: " AKEY_BA "}\n"
#define CFG_A CFG_A_HEAD SA_A_OUT(KEY_AB, "") SA_A_IN

/* B: the mirror, and gen_esp.py's SA 0 (its keys, its SPI) inbound. */
#define CFG_B PORTS \
	"interfaces:\n" \
	"  - {name: lan0, port: p0, address: 10.2.0.1/24}\n" \
	"  - {name: wan0, port: p1, address: 192.0.2.2/24}\n" \
	"ipsec:\n" \
	"  crypto_device: crypto_aesni_mb_b\n" \
	"  allow_authenticated_bypass: true\n" \
	"  policies:\n" \
	"    - {name: tunnel, src: 10.2.0.0/24, dst: 10.0.0.0/24,\n" \
	"       direction: both, action: protect,\n" \
	"       sa: {outbound: b-out, inbound: b-in}}\n" \
	"    - {name: ah, src: 10.4.0.0/24, dst: 10.0.0.0/24,\n" \
	"       direction: both, action: protect,\n" \
	"       sa: {outbound: ah-b-out, inbound: ah-b-in}}\n" \
	"    - {name: scapy, src: 10.1.0.0/24, dst: 10.2.0.0/24,\n" \
	"       direction: inbound, action: protect, sa: scapy-in}\n" \
	"  sas:\n" \
	"    - {name: b-out, spi: 0x2001, direction: outbound,\n" \
	"       mode: tunnel, local: 192.0.2.2, remote: 192.0.2.1,\n" \
	"       algorithm: aes-128-gcm, key: " KEY_BA ", salt: " SALT_BA "}\n" \
	"    - {name: b-in, spi: 0x1001, direction: inbound,\n" \
	"       mode: tunnel, local: 192.0.2.2, remote: 192.0.2.1,\n" \
	"       algorithm: aes-128-gcm, key: " KEY_AB ", salt: " SALT_AB "}\n" \
	"    - {name: ah-b-out, spi: 0x3002, direction: outbound,\n" \
	"       protocol: ah, mode: tunnel, local: 192.0.2.2,\n" \
	"       remote: 192.0.2.1, algorithm: hmac-sha256,\n" \
	"       auth_key: " AKEY_BA "}\n" \
	"    - {name: ah-b-in, spi: 0x3001, direction: inbound,\n" \
	"       protocol: ah, mode: tunnel, local: 192.0.2.2,\n" \
	"       remote: 192.0.2.1, algorithm: hmac-sha256,\n" \
	"       auth_key: " AKEY_AB "}\n" \
	"    - {name: scapy-in, spi: 0x1000, direction: inbound,\n" \
	"       mode: tunnel, local: 192.0.2.2, remote: 192.0.2.1,\n" \
	"       algorithm: aes-128-gcm,\n" \
	"       key: 101112131415161718191a1b1c1d1e1f, salt: c0ffee01}\n"
/* clang-format on */

/* One appliance: its configuration, stage state, table and addresses. */
struct side {
	struct tg_config *cfg;
	struct tg_ipsec_stage *st;
	struct tg_ipsec_table *t;
	struct tg_local_set local;
};

static struct side A, B;
static struct tg_cfg_errors errs;

static struct tg_config *
parse(const char *name, const char *y)
{
	struct tg_config *c = NULL;

	if (tg_config_parse(name, y, strlen(y), &c, &errs) != 0) {
		fprintf(stderr, "\n--- %s:\n%s", name, y);
		tg_cfg_errors_print(&errs, stderr);
		return NULL;
	}
	/* the suite's mode, as ipsec.crypto_mode would set it */
	c->ipsec.crypto_mode = lookaside ? TG_CFG_IPSEC_CRYPTO_LOOKASIDE
					 : TG_CFG_IPSEC_CRYPTO_CPU;
	return c;
}

static void
local_add(struct tg_local_set *ls, uint32_t a)
{
	uint32_t i = tg_local_hash(a);

	while (ls->addr[i] != 0)
		i = (i + 1) & (TG_LOCAL_SLOTS - 1);
	ls->addr[i] = a;
}

static int
side_open(struct side *s, const char *name, const char *yaml, uint32_t lan,
	uint32_t wan)
{
	char err[256] = "";
	int rc;

	memset(s, 0, sizeof(*s));
	s->cfg = parse(name, yaml);
	if (s->cfg == NULL)
		return -1;
	s->st = tg_ipsec_stage_create(
		s->cfg, NULL, 2, tg_test_mp, SOCKET_ID_ANY);
	if (s->st == NULL)
		return -1;
	rc = tg_ipsec_build(
		s->cfg, s->st, NULL, SOCKET_ID_ANY, &s->t, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "\ntg_ipsec_build %s: %s\n", name, err);
		return -1;
	}
	local_add(&s->local, lan);
	local_add(&s->local, wan);
	return 0;
}

static void
side_close(struct side *s)
{
	tg_ipsec_table_free(s->t);
	tg_ipsec_stage_free(s->st);
	tg_config_free(s->cfg);
	memset(s, 0, sizeof(*s));
}

/* An Ethernet + IPv4 + UDP (or TCP header stub) frame. */
static struct rte_mbuf *
frame(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport, uint16_t dport,
	uint16_t id, uint16_t plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tg_test_mp);
	uint16_t l4 = proto == IPPROTO_TCP ? 20 : 8, tot = 20 + l4 + plen, i;
	uint8_t *b;

	if (m == NULL)
		return NULL;
	b = (uint8_t *)rte_pktmbuf_append(m, ETH + tot);
	memset(b, 0, ETH + tot);
	b[0] = 0x02; /* dst MAC 02:..:01, src 02:..:02 */
	b[5] = 1;
	b[6] = 0x02;
	b[11] = 2;
	tg_test_put16(b + 12, RTE_ETHER_TYPE_IPV4);
	b += ETH;
	b[0] = 0x45;
	tg_test_put16(b + 2, tot);
	tg_test_put16(b + 4, id);
	b[8] = 64;
	b[9] = proto;
	tg_test_put32(b + 12, src);
	tg_test_put32(b + 16, dst);
	tg_test_put16(b + 10, tg_test_ip_sum(b, 20));
	tg_test_put16(b + 20, sport);
	tg_test_put16(b + 22, dport);
	if (proto == IPPROTO_UDP)
		tg_test_put16(b + 24, 8 + plen);
	else
		b[32] = 0x50;
	for (i = 0; i < plen; i++)
		b[20 + l4 + i] = (uint8_t)(id + i);
	return m;
}

/* The meta the dispatcher gives a packet at ipsec(out): a forwarded one
 * (transit) or one the host sent (source). */
static void
at_out(struct rte_mbuf *m, uint8_t path, uint16_t rx_if, uint8_t flags)
{
	struct tg_meta *md = tg_meta(m);

	memset(md, 0, sizeof(*md));
	md->path = path;
	md->step = STEP_OUT;
	md->mode = TG_MODE_OUT;
	md->flags = flags;
	md->rx_if = rx_if;
	md->tx_if = 1;
	md->l3_len = 20;
}

/* As RX leaves a frame that arrives on @p port: validated, its path
 * chosen; then at ipsec(in) if that is the target path. */
static uint16_t
received(struct side *s, struct rte_mbuf *m, uint16_t port)
{
	uint16_t v;

	tg_pkt_rx_burst(&m, 1, port, &s->local, &v);
	tg_meta(m)->mode =
		tg_meta(m)->path == TG_PATH_TARGET ? TG_MODE_IN : TG_MODE_OUT;
	return v;
}

/*
 * The stage's burst, then its tick, and each packet's final verdict in
 * verdict[] (packets are processed in place: a held one comes back as
 * the same mbuf). held[i]: the burst handed packet i to the crypto
 * device's queue, which happens in lookaside mode only: with CPU crypto
 * every verdict is final in the burst.
 */
static bool held[64];

static void
run(struct side *s, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i, k, n_held = 0;

	emit.n = 0;
	emit.generated = 0;
	tg_ipsec_burst(s->t, s->st, &s->local, pkts, n, verdict, &emit, 0);
	/* The software device works when asked: one tick gives back what
	 * one burst took. */
	tg_ipsec_tick(s->t, s->st, &s->local, &emit, 0);
	for (i = 0; i < n; i++) {
		held[i] = verdict[i] == TG_V_STOLEN;
		if (!held[i])
			continue;
		n_held++;
		for (k = 0; k < emit.n && emit.pkts[k] != pkts[i]; k++)
			;
		CU_ASSERT_FATAL(k < emit.n);
		verdict[i] = emit.verdict[k];
	}
	CU_ASSERT_EQUAL(emit.n, n_held);
	emit.n = 0;
}

/* Packet i went through the crypto device: held in lookaside mode, not
 * with CPU crypto. */
#define CU_ASSERT_CRYPTO(i) CU_ASSERT_EQUAL(held[i], lookaside)

static void
free_all(struct rte_mbuf **m, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

static const uint8_t *
l3(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, const uint8_t *, ETH);
}

static struct tg_ipsec_sa *
sa_named(const struct side *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->t->n_sas; i++)
		if (strcmp(s->t->sas[i].name, name) == 0)
			return s->t->sas[i].sa;
	return NULL;
}

static uint32_t
policy_idx(const struct side *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->cfg->ipsec.n_policies; i++)
		if (strcmp(s->cfg->ipsec.policies[i].name, name) == 0)
			return i;
	return UINT32_MAX;
}

static uint64_t
hits_out(const struct side *s, const char *policy)
{
	struct tg_ipsec_hits h;

	tg_ipsec_policy_hits(s->t, policy_idx(s, policy), &h);
	return h.out;
}

/* ---- tunnel, both ways --------------------------------------------------- */

/* A protects lan-to-lan traffic into ESP to B; B decrypts it back to
 * exactly the packet A was given, as transit for its lan. */
static void
test_stage_tunnel_a_to_b(void)
{
	struct rte_mbuf *m[4], *esp[4];
	uint8_t clear[4][128];
	uint16_t len[4], i, n = 4;
	struct tg_ipsec_sa *out = sa_named(&A, "a-out");
	struct tg_ipsec_sa *in = sa_named(&B, "b-in");
	uint64_t seq0 = tg_ipsec_sa_stats(out)->seq;

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(in);
	for (i = 0; i < n; i++) {
		m[i] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
			IPPROTO_UDP, 4000 + i, 53, (uint16_t)(100 + i),
			(uint16_t)(10 + i));
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		at_out(m[i], TG_PATH_TRANSIT, 0, 0);
		len[i] = (uint16_t)(m[i]->pkt_len - ETH);
		memcpy(clear[i], l3(m[i]), len[i]);
	}
	run(&A, m, n);
	for (i = 0; i < n; i++) {
		const uint8_t *o = l3(m[i]);

		CU_ASSERT_CRYPTO(i);
		esp[i] = m[i];
		/* routed anew, to the tunnel's far end */
		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_FORWARD));
		CU_ASSERT_EQUAL(tg_meta(esp[i])->path, TG_PATH_TUNNEL);
		CU_ASSERT_EQUAL(
			rte_pktmbuf_mtod(esp[i], const uint8_t *)[12], 0x08);
		CU_ASSERT_EQUAL(o[9], IPPROTO_ESP);
		CU_ASSERT_EQUAL(
			tg_test_get32(o + 12), TG_TEST_IP4(192, 0, 2, 1));
		CU_ASSERT_EQUAL(
			tg_test_get32(o + 16), TG_TEST_IP4(192, 0, 2, 2));
		CU_ASSERT_EQUAL(tg_test_ip_sum(o, 20), 0);
		CU_ASSERT_EQUAL(tg_test_get32(o + 20), 0x1001);
		CU_ASSERT_EQUAL(tg_test_get32(o + 24), seq0 + i + 1);
	}
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(out)->seq, seq0 + n);
	CU_ASSERT(A.t->hits[policy_idx(&A, "tunnel")].out >= n);

	/* B: received on its wan port, to its own address: target path. */
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(received(&B, esp[i], 1), TG_V_NEXT);
	CU_ASSERT_EQUAL(tg_meta(esp[0])->path, TG_PATH_TARGET);
	run(&B, esp, n);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *d = esp[i];
		const struct tg_meta *md = tg_meta(d);

		CU_ASSERT_CRYPTO(i);
		/* for a host behind B: transit, from its start */
		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_NONE));
		CU_ASSERT_EQUAL(md->path, TG_PATH_TRANSIT);
		CU_ASSERT_EQUAL(md->rx_if, 1);
		CU_ASSERT(md->flags & TG_META_F_IPSEC_IN);
		CU_ASSERT(md->flags & TG_META_F_IPSEC_BYPASS);
		CU_ASSERT_EQUAL(d->pkt_len, ETH + len[i]);
		CU_ASSERT(memcmp(l3(d), clear[i], len[i]) == 0);
	}
	free_all(esp, n);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(in)->seq, seq0 + n);
	CU_ASSERT(tg_ipsec_sa_stats(in)->packets >= n);
	CU_ASSERT(B.t->hits[policy_idx(&B, "tunnel")].in >= n);
	CU_ASSERT_EQUAL(tg_ipsec_inflight(A.st), 0);
	CU_ASSERT_EQUAL(tg_ipsec_inflight(B.st), 0);
}

/* One packet A → B, ESP as it leaves A (the caller frees it). */
static struct rte_mbuf *
esp_from_a(uint32_t src, uint32_t dst, uint16_t id)
{
	struct rte_mbuf *m = frame(src, dst, IPPROTO_UDP, 5000, 53, id, 20);

	if (m == NULL)
		return NULL;
	at_out(m, TG_PATH_TRANSIT, 0, 0);
	run(&A, &m, 1);
	if (verdict[0] != TG_V_GOTO(TG_STAGE_FORWARD)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

static struct rte_mbuf *
copy(struct rte_mbuf *m)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(tg_test_mp);

	if (c == NULL)
		return NULL;
	memcpy(rte_pktmbuf_append(c, m->pkt_len), rte_pktmbuf_mtod(m, void *),
		m->pkt_len);
	return c;
}

/* ---- many SAs ------------------------------------------------------------ */

/* More SA pairs than the stage's prefetch threshold (256 SAs in a table),
 * so that bursts whose packets belong to different SAs take the path
 * that fetches each run's SA state ahead. */
#define MANY	    320
#define MANY_BURST  32
#define MANY_SPI(i) (0x10000u + (i))

/* The inner destination network of pair i: 10.100.0.0/24 upwards. */
static uint32_t
many_net(uint32_t i)
{
	return TG_TEST_IP4(10, 100 + i / 256, i % 256, 0);
}

/* One side's YAML: a tunnel per pair, @p out the side that encrypts
 * (A: outbound policies and SAs), else the one that decrypts (B). The
 * pair's key is its number spelled out, so that a packet decrypted with
 * another pair's SA fails its ICV. */
static char *
many_yaml(bool out)
{
	size_t cap = 512 + (size_t)MANY * 480, len = 0;
	char *y = malloc(cap);
	uint32_t i;

	if (y == NULL)
		return NULL;
	len += (size_t)snprintf(y + len, cap - len,
		PORTS "interfaces:\n"
		      "  - {name: lan0, port: p0, address: %s/24}\n"
		      "  - {name: wan0, port: p1, address: %s/24}\n"
		      "ipsec:\n"
		      "  crypto_device: crypto_aesni_mb_%s\n"
		      "  policies:\n",
		out ? "10.0.0.1" : "10.2.0.1", out ? "192.0.2.1" : "192.0.2.2",
		out ? "ma" : "mb");
	for (i = 0; i < MANY; i++) {
		uint32_t n = many_net(i);

		len += (size_t)snprintf(y + len, cap - len,
			"    - {name: p%u, src: 10.0.0.0/24, "
			"dst: %u.%u.%u.0/24,\n"
			"       direction: %s, action: protect, sa: s%u}\n",
			i, n >> 24, (n >> 16) & 0xff, (n >> 8) & 0xff,
			out ? "outbound" : "inbound", i);
	}
	len += (size_t)snprintf(y + len, cap - len, "  sas:\n");
	for (i = 0; i < MANY; i++)
		len += (size_t)snprintf(y + len, cap - len,
			"    - {name: s%u, spi: %u, direction: %s, "
			"mode: tunnel,\n"
			"       local: %s, remote: %s, algorithm: "
			"aes-128-gcm,\n"
			"       key: %032x, salt: %08x}\n",
			i, MANY_SPI(i), out ? "outbound" : "inbound",
			out ? "192.0.2.1" : "192.0.2.2",
			out ? "192.0.2.2" : "192.0.2.1", i + 1,
			0xc0de0000u + i);
	if (len >= cap) {
		free(y);
		return NULL;
	}
	return y;
}

/* A burst at A of packets for many SAs, in runs of one to three (the
 * first and the last on different SAs), then the ESP at B: every packet
 * leaves A with its pair's SPI and the next sequence number of that SA,
 * and B gives back exactly the packet A was given. */
static void
test_stage_many_sas_in_a_burst(void)
{
	struct side ma, mb;
	char *ya = many_yaml(true), *yb = many_yaml(false);
	struct rte_mbuf *m[MANY_BURST];
	uint8_t clear[MANY_BURST][128];
	uint16_t len[MANY_BURST], pair[MANY_BURST], i, k;
	uint32_t seen[MANY];

	CU_ASSERT_PTR_NOT_NULL_FATAL(ya);
	CU_ASSERT_PTR_NOT_NULL_FATAL(yb);
	CU_ASSERT_EQUAL_FATAL(
		side_open(&ma, "many-a", ya, TG_TEST_IP4(10, 0, 0, 1),
			TG_TEST_IP4(192, 0, 2, 1)),
		0);
	CU_ASSERT_EQUAL_FATAL(
		side_open(&mb, "many-b", yb, TG_TEST_IP4(10, 2, 0, 1),
			TG_TEST_IP4(192, 0, 2, 2)),
		0);
	free(ya);
	free(yb);
	CU_ASSERT_EQUAL(ma.t->n_sas, MANY);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < MANY_BURST; i++) {
		/* runs: i / 2 with every third run of length one */
		pair[i] = (uint16_t)((i / 2 * 97 + (i % 6 == 5) * 13) % MANY);
		m[i] = frame(TG_TEST_IP4(10, 0, 0, 5), many_net(pair[i]) | 7,
			IPPROTO_UDP, 4000 + i, 53, (uint16_t)(300 + i),
			(uint16_t)(8 + i));
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		at_out(m[i], TG_PATH_TRANSIT, 0, 0);
		len[i] = (uint16_t)(m[i]->pkt_len - ETH);
		memcpy(clear[i], l3(m[i]), len[i]);
	}
	CU_ASSERT_NOT_EQUAL(pair[0], pair[MANY_BURST - 1]);
	run(&ma, m, MANY_BURST);
	for (i = 0; i < MANY_BURST; i++) {
		const uint8_t *o = l3(m[i]);

		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_FORWARD));
		CU_ASSERT_EQUAL(o[9], IPPROTO_ESP);
		CU_ASSERT_EQUAL(tg_test_get32(o + 20), MANY_SPI(pair[i]));
		CU_ASSERT_EQUAL(tg_test_get32(o + 24), ++seen[pair[i]]);
		CU_ASSERT_EQUAL(received(&mb, m[i], 1), TG_V_NEXT);
	}
	run(&mb, m, MANY_BURST);
	for (i = 0; i < MANY_BURST; i++) {
		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_NONE));
		CU_ASSERT(tg_meta(m[i])->flags & TG_META_F_IPSEC_IN);
		CU_ASSERT_EQUAL(m[i]->pkt_len, ETH + len[i]);
		CU_ASSERT(memcmp(l3(m[i]), clear[i], len[i]) == 0);
	}
	for (k = 0; k < MANY; k++) {
		char name[16];
		struct tg_ipsec_sa *sa;

		snprintf(name, sizeof(name), "s%u", k);
		sa = sa_named(&mb, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
		CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa)->packets, seen[k]);
		CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa)->err_auth, 0);
	}
	free_all(m, MANY_BURST);
	side_close(&ma);
	side_close(&mb);
}

/* ---- what B refuses ------------------------------------------------------ */

static void
test_stage_replay_and_icv(void)
{
	struct rte_mbuf *e = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 7);
	struct rte_mbuf *dup, *bad, *two[2];
	struct tg_ipsec_sa *in = sa_named(&B, "b-in");
	uint64_t replay0 = tg_ipsec_sa_stats(in)->err_replay;
	uint64_t auth0 = tg_ipsec_sa_stats(in)->err_auth;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	dup = copy(e);
	bad = copy(e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dup);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	/* The same packet twice in one burst: both pass the window check
	 * before the device; the second fails after decryption. */
	received(&B, e, 1);
	received(&B, dup, 1);
	two[0] = e;
	two[1] = dup;
	run(&B, two, 2);
	CU_ASSERT_CRYPTO(0);
	CU_ASSERT_CRYPTO(1);
	CU_ASSERT_EQUAL(verdict[0], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(verdict[1], TG_V_DROP(TG_IPSEC_DROP_REPLAY));
	free_all(two, 2);
	/* ...and again later: refused before the device. */
	dup = copy(bad);
	received(&B, dup, 1);
	run(&B, &dup, 1);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_REPLAY));
	rte_pktmbuf_free(dup);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(in)->err_replay, replay0 + 2);

	/* A flipped ciphertext byte of a fresh packet: the ICV fails. */
	rte_pktmbuf_free(bad);
	bad = esp_from_a(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	rte_pktmbuf_mtod(bad, uint8_t *)[ETH + 20 + 8 + 8 + 3] ^= 0x40;
	received(&B, bad, 1);
	run(&B, &bad, 1);
	CU_ASSERT_CRYPTO(0);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_AUTH_FAILED));
	rte_pktmbuf_free(bad);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(in)->err_auth, auth0 + 1);
}

/* What B judges without the device. */
static void
test_stage_refused_before_the_device(void)
{
	struct rte_mbuf *m[6];
	uint16_t i;
	uint8_t *p;

	/* ESP with an SPI no inbound SA has */
	m[0] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	p = rte_pktmbuf_mtod(m[0], uint8_t *) + ETH;
	tg_test_put32(p + 20, 0x7777);
	/* a fragment of ESP */
	m[1] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 21);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[1]);
	p = rte_pktmbuf_mtod(m[1], uint8_t *) + ETH;
	p[6] = 0x20; /* MF */
	p[10] = p[11] = 0;
	tg_test_put16(p + 10, tg_test_ip_sum(p, 20));
	/* ESP cut short of a whole block (GCM: 4 bytes) */
	m[2] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 22);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[2]);
	rte_pktmbuf_trim(m[2], 1);
	p = rte_pktmbuf_mtod(m[2], uint8_t *) + ETH;
	tg_test_put16(p + 2, (uint16_t)(m[2]->pkt_len - ETH));
	p[10] = p[11] = 0;
	tg_test_put16(p + 10, tg_test_ip_sum(p, 20));
	/* unprotected traffic that B's tunnel policy wants protected, to B
	 * itself (target) */
	m[3] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 1),
		IPPROTO_UDP, 1, 2, 23, 4);
	/* nothing to do with any policy: passes */
	m[4] = frame(TG_TEST_IP4(198, 51, 100, 1), TG_TEST_IP4(192, 0, 2, 2),
		IPPROTO_UDP, 1, 2, 24, 4);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		CU_ASSERT_EQUAL(received(&B, m[i], 1), TG_V_NEXT);
		CU_ASSERT_EQUAL(tg_meta(m[i])->path, TG_PATH_TARGET);
	}
	run(&B, m, 5);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_NO_SA));
	CU_ASSERT_EQUAL(verdict[1], TG_V_DROP(TG_IPSEC_DROP_FRAGMENT));
	CU_ASSERT_EQUAL(verdict[2], TG_V_DROP(TG_IPSEC_DROP_MALFORMED));
	CU_ASSERT_EQUAL(verdict[3], TG_V_DROP(TG_IPSEC_DROP_UNPROTECTED));
	CU_ASSERT_EQUAL(verdict[4], TG_V_NEXT);
	for (i = 0; i < 5; i++)
		rte_pktmbuf_free(m[i]);

	/* The same unprotected packet forwarded through B (transit: no
	 * ipsec(in) step): refused at ipsec(out). Decrypted ones pass. */
	m[0] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 9),
		IPPROTO_UDP, 1, 2, 25, 4);
	m[1] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 9),
		IPPROTO_UDP, 1, 2, 26, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[1]);
	at_out(m[0], TG_PATH_TRANSIT, 1, 0);
	at_out(m[1], TG_PATH_TRANSIT, 1, TG_META_F_IPSEC_IN);
	run(&B, m, 2);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_UNPROTECTED));
	CU_ASSERT_EQUAL(verdict[1], TG_V_NEXT);
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(m[1]);
}

/* A's outbound verdicts: block, no policy, protect through a policy whose
 * inner source B does not protect (B drops it after decryption). */
static void
test_stage_outbound_verdicts_and_mismatch(void)
{
	struct rte_mbuf *m[3], *e;

	m[0] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 5, 5, 5),
		IPPROTO_TCP, 1000, 23, 30, 0);
	m[1] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 5, 5, 5),
		IPPROTO_TCP, 1000, 22, 31, 0);
	m[2] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 5, 5, 5),
		IPPROTO_UDP, 1000, 23, 32, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[1]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[2]);
	at_out(m[0], TG_PATH_SOURCE, TG_IF_NONE, 0);
	at_out(m[1], TG_PATH_SOURCE, TG_IF_NONE, 0);
	at_out(m[2], TG_PATH_TRANSIT, 0, 0);
	run(&A, m, 3);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_BLOCKED));
	CU_ASSERT_EQUAL(verdict[1], TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict[2], TG_V_NEXT);
	CU_ASSERT_EQUAL(A.t->hits[policy_idx(&A, "no-telnet")].out, 1);
	rte_pktmbuf_free(m[0]);
	rte_pktmbuf_free(m[1]);
	rte_pktmbuf_free(m[2]);

	e = esp_from_a(TG_TEST_IP4(10, 9, 1, 1), TG_TEST_IP4(10, 2, 0, 7), 33);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	received(&B, e, 1);
	run(&B, &e, 1);
	CU_ASSERT_CRYPTO(0);
	CU_ASSERT_EQUAL(verdict[0], TG_V_DROP(TG_IPSEC_DROP_POLICY_MISMATCH));
	rte_pktmbuf_free(e);
}

/* Runs of several SAs in one burst at B (ESP, AH, ESP, ESP): each
 * decrypted packet gets its own verdict after the policy check, which
 * the stage makes once for all the runs of the burst. */
static void
test_stage_inbound_runs_of_several_sas(void)
{
	struct rte_mbuf *m[4];
	uint16_t i;

	m[0] = esp_from_a(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
		60);
	m[1] = esp_from_a(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 4, 0, 9),
		61);
	/* through a-out, but B does not protect 10.9.0.0/16 */
	m[2] = esp_from_a(TG_TEST_IP4(10, 9, 1, 1), TG_TEST_IP4(10, 2, 0, 7),
		62);
	m[3] = esp_from_a(TG_TEST_IP4(10, 0, 0, 6), TG_TEST_IP4(10, 2, 0, 8),
		63);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		CU_ASSERT_EQUAL(received(&B, m[i], 1), TG_V_NEXT);
	}
	run(&B, m, 4);
	CU_ASSERT_EQUAL(verdict[0], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(verdict[1], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(verdict[2], TG_V_DROP(TG_IPSEC_DROP_POLICY_MISMATCH));
	CU_ASSERT_EQUAL(verdict[3], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(tg_test_get32(l3(m[0]) + 16), TG_TEST_IP4(10, 2, 0, 7));
	CU_ASSERT_EQUAL(tg_test_get32(l3(m[1]) + 16), TG_TEST_IP4(10, 4, 0, 9));
	CU_ASSERT_EQUAL(tg_test_get32(l3(m[3]) + 16), TG_TEST_IP4(10, 2, 0, 8));
	for (i = 0; i < 4; i++)
		if (i != 2)
			CU_ASSERT(tg_meta(m[i])->flags & TG_META_F_IPSEC_IN);
	free_all(m, 4);
}

/* C: a gateway with inbound policies only (it receives A's tunnel and
 * sends nothing into one). */
/* clang-format off */
#define CFG_C PORTS \
	"interfaces:\n" \
	"  - {name: lan0, port: p0, address: 10.2.0.1/24}\n" \
	"  - {name: wan0, port: p1, address: 192.0.2.2/24}\n" \
	"ipsec:\n" \
	"  crypto_device: crypto_aesni_mb_c\n" \
	"  policies:\n" \
	"    - {name: tunnel, src: 10.0.0.0/24, dst: 10.2.0.0/24,\n" \
	"       direction: inbound, action: protect, sa: c-in}\n" \
	"  sas:\n" \
	"    - {name: c-in, spi: 0x1001, direction: inbound,\n" \
	"       mode: tunnel, local: 192.0.2.2, remote: 192.0.2.1,\n" \
	"       algorithm: aes-128-gcm, key: " KEY_AB ", salt: " SALT_AB "}\n"
/* clang-format on */

/* With no outbound policy, ipsec(out) asks the SPD only whether a
 * transit packet should have come protected: what C decrypted passes,
 * the same packet in clear is dropped, anything else passes. */
static void
test_stage_inbound_policies_only(void)
{
	struct side C;
	struct rte_mbuf *m[4];
	uint32_t pol;
	uint16_t i;

	CU_ASSERT_FATAL(side_open(&C, "c", CFG_C, TG_TEST_IP4(10, 2, 0, 1),
				TG_TEST_IP4(192, 0, 2, 2)) == 0);
	CU_ASSERT(C.t->in_check);
	CU_ASSERT(!C.t->out_check);
	pol = policy_idx(&C, "tunnel");

	m[0] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 50);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	CU_ASSERT_EQUAL(received(&C, m[0], 1), TG_V_NEXT);
	run(&C, m, 1);
	CU_ASSERT_EQUAL(verdict[0], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(C.t->hits[pol].in, 1);
	/* forwarded, it reaches ipsec(out) as transit, marked decrypted */
	at_out(m[0], TG_PATH_TRANSIT, 1, TG_META_F_IPSEC_IN);
	/* a burst of decrypted packets only: passed on the meta alone */
	run(&C, m, 1);
	CU_ASSERT_EQUAL(verdict[0], TG_V_NEXT);
	CU_ASSERT_EQUAL(C.t->hits[pol].in, 1);
	at_out(m[0], TG_PATH_TRANSIT, 1, TG_META_F_IPSEC_IN);
	m[1] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
		IPPROTO_UDP, 5000, 53, 51, 20);
	m[2] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 7, 0, 1),
		IPPROTO_UDP, 5000, 53, 52, 20);
	m[3] = frame(TG_TEST_IP4(10, 2, 0, 1), TG_TEST_IP4(10, 0, 0, 5),
		IPPROTO_UDP, 5000, 53, 53, 20);
	for (i = 1; i < 4; i++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
	at_out(m[1], TG_PATH_TRANSIT, 1, 0);
	at_out(m[2], TG_PATH_TRANSIT, 1, 0);
	at_out(m[3], TG_PATH_SOURCE, TG_IF_NONE, 0);
	run(&C, m, 4);
	CU_ASSERT_EQUAL(verdict[0], TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict[1], TG_V_DROP(TG_IPSEC_DROP_UNPROTECTED));
	CU_ASSERT_EQUAL(verdict[2], TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict[3], TG_V_NEXT);
	/* the decrypted packet was not looked up again */
	CU_ASSERT_EQUAL(C.t->hits[pol].in, 2);
	CU_ASSERT_EQUAL(C.t->hits[pol].out, 0);
	free_all(m, 4);
	side_close(&C);
}

/* Set DF on a frame() (and its checksum again). */
static void
set_df(struct rte_mbuf *m)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *) + ETH;

	p[6] = 0x40;
	p[10] = p[11] = 0;
	tg_test_put16(p + 10, tg_test_ip_sum(p, 20));
}

/* Too big for the tunnel once protected: A's wan MTU is 1500 and an
 * AES-GCM tunnel adds at most 20 + 8 + 8 + 3 + 2 + 16 = 57 bytes, so
 * 1443 bytes of IP fit and 1444 do not. A forwarded DF packet gets
 * fragmentation needed with the MTU that fits (RFC 1191, RFC 4301
 * 8.2.1), from the address of the interface it came in on. */
static void
test_stage_too_big_for_the_tunnel(void)
{
	struct rte_mbuf *m[3];
	const uint8_t *e;
	uint16_t i;

	m[0] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
		IPPROTO_UDP, 1, 2, 70, 1443 - 28);
	m[1] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
		IPPROTO_UDP, 1, 2, 71, 1444 - 28);
	m[2] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
		IPPROTO_UDP, 1, 2, 72, 1444 - 28);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		at_out(m[i], TG_PATH_TRANSIT, 0, 0);
	}
	set_df(m[0]);
	set_df(m[1]); /* m[2]: no DF, dropped without an error */
	emit.n = 0;
	emit.generated = 0;
	tg_ipsec_burst(A.t, A.st, &A.local, m, 3, verdict, &emit, 0);
	tg_ipsec_tick(A.t, A.st, &A.local, &emit, 0);
	CU_ASSERT_EQUAL(verdict[1], TG_V_DROP(TG_IPSEC_DROP_TOO_BIG));
	CU_ASSERT_EQUAL(verdict[2], TG_V_DROP(TG_IPSEC_DROP_TOO_BIG));
	CU_ASSERT_EQUAL(emit.generated, 1);
	for (i = 0; i < emit.n; i++) {
		if (emit.pkts[i] == m[0]) {
			CU_ASSERT_EQUAL(
				emit.verdict[i], TG_V_GOTO(TG_STAGE_FORWARD));
			/* 1443 + 57 = 1500: the ESP frame fills the MTU */
			CU_ASSERT(m[0]->pkt_len <= ETH + 1500);
			continue;
		}
		e = l3(emit.pkts[i]);
		CU_ASSERT_EQUAL(emit.verdict[i], TG_V_GOTO(TG_STAGE_NONE));
		CU_ASSERT_EQUAL(tg_meta(emit.pkts[i])->path, TG_PATH_SOURCE);
		CU_ASSERT_EQUAL(e[9], IPPROTO_ICMP);
		CU_ASSERT_EQUAL(
			tg_test_get32(e + 12), TG_TEST_IP4(10, 0, 0, 1));
		CU_ASSERT_EQUAL(
			tg_test_get32(e + 16), TG_TEST_IP4(10, 0, 0, 5));
		CU_ASSERT_EQUAL(e[20], 3); /* destination unreachable */
		CU_ASSERT_EQUAL(e[21], 4); /* fragmentation needed */
		CU_ASSERT_EQUAL(e[26] << 8 | e[27], 1443);
		/* it quotes the packet: its IP header and 8 bytes */
		CU_ASSERT_EQUAL(e[28 + 4] << 8 | e[28 + 5], 71);
		rte_pktmbuf_free(emit.pkts[i]);
	}
	if (verdict[0] == TG_V_GOTO(TG_STAGE_FORWARD))
		CU_ASSERT_EQUAL(emit.n, 1); /* CPU crypto: only the error */
	emit.n = 0;
	free_all(m, 3);
}

/* AH through the same stage: ESP SAs may run as CPU crypto, AH always
 * goes through the device's queue; B verifies and unwraps it. */
static void
test_stage_ah_tunnel(void)
{
	struct rte_mbuf *m[2];
	uint8_t clear[2][128];
	uint16_t len[2], i;

	for (i = 0; i < 2; i++) {
		m[i] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 4, 0, 9),
			IPPROTO_UDP, 7000, 53, (uint16_t)(60 + i), 12);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		at_out(m[i], TG_PATH_TRANSIT, 0, 0);
		len[i] = (uint16_t)(m[i]->pkt_len - ETH);
		memcpy(clear[i], l3(m[i]), len[i]);
	}
	run(&A, m, 2);
	for (i = 0; i < 2; i++) {
		const uint8_t *o = l3(m[i]);

		CU_ASSERT(held[i]); /* AH: always the queue */
		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_FORWARD));
		CU_ASSERT_EQUAL(o[9], IPPROTO_AH);
		CU_ASSERT_EQUAL(o[20], 4); /* next header: IPv4 */
		CU_ASSERT_EQUAL(tg_test_get32(o + 24), 0x3001);
		CU_ASSERT_EQUAL(tg_test_get32(o + 28), i + 1u);
		/* AH does not encrypt: the inner packet follows as it was */
		CU_ASSERT(memcmp(o + 20 + 12 + 16, clear[i], len[i]) == 0);
		CU_ASSERT_EQUAL(received(&B, m[i], 1), TG_V_NEXT);
	}
	run(&B, m, 2);
	for (i = 0; i < 2; i++) {
		CU_ASSERT(held[i]);
		CU_ASSERT_EQUAL(verdict[i], TG_V_GOTO(TG_STAGE_NONE));
		CU_ASSERT_EQUAL(m[i]->pkt_len, ETH + len[i]);
		CU_ASSERT(memcmp(l3(m[i]), clear[i], len[i]) == 0);
		CU_ASSERT(tg_meta(m[i])->flags & TG_META_F_IPSEC_IN);
	}
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa_named(&B, "ah-b-in"))->seq, 2);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa_named(&B, "ah-b-in"))->packets, 2);
	free_all(m, 2);
}

/* ---- scapy's ESP --------------------------------------------------------- */

/* esp.pcap's frames of SA 0 (aes-128-gcm, tunnel, SPI 0x1000): ESP, then
 * the cleartext scapy put in it, for two sequence numbers. */
struct scapy_frames {
	uint16_t n;
	uint16_t len[4];
	uint8_t d[4][256];
};

static int
take_sa0(void *ctx, const uint8_t *d, uint32_t len)
{
	struct scapy_frames *f = ctx;

	/* source MAC ends in the SA number */
	if (len < ETH || len > sizeof(f->d[0]) || d[11] != 0 || f->n >= 4)
		return 0;
	memcpy(f->d[f->n], d, len);
	f->len[f->n++] = (uint16_t)len;
	return 0;
}

static void
test_stage_decrypts_scapy_esp(void)
{
	struct scapy_frames f = {0};
	struct rte_mbuf *m[2];
	uint16_t i;

	CU_ASSERT_FATAL(
		tg_test_pcap_read(TG_TEST_DATA "/esp.pcap", take_sa0, &f) > 0);
	CU_ASSERT_EQUAL_FATAL(f.n, 4);
	for (i = 0; i < 2; i++) {
		uint8_t *p;

		m[i] = rte_pktmbuf_alloc(tg_test_mp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		memcpy(rte_pktmbuf_append(m[i], f.len[2 * i]), f.d[2 * i],
			f.len[2 * i]);
		/* scapy's peer 192.0.2.2 sent it to 192.0.2.1; here B
		 * (192.0.2.2) receives it: the outer addresses swap (ESP
		 * does not cover them). */
		p = rte_pktmbuf_mtod(m[i], uint8_t *) + ETH;
		p[15] = 1;
		p[19] = 2;
		p[10] = p[11] = 0;
		tg_test_put16(p + 10, tg_test_ip_sum(p, 20));
		CU_ASSERT_EQUAL(received(&B, m[i], 1), TG_V_NEXT);
	}
	run(&B, m, 2);
	for (i = 0; i < 2; i++) {
		struct rte_mbuf *d = m[i];

		CU_ASSERT_CRYPTO(i);
		/* 10.1.0.1 → 10.2.0.1, B's lan address: on to the
		 * target path's next step */
		CU_ASSERT_EQUAL(verdict[i], TG_V_NEXT);
		CU_ASSERT_EQUAL(tg_meta(d)->path, TG_PATH_TARGET);
		CU_ASSERT_EQUAL(d->pkt_len, f.len[2 * i + 1]);
		CU_ASSERT(memcmp(l3(d), f.d[2 * i + 1] + ETH,
				  f.len[2 * i + 1] - ETH) == 0);
	}
	free_all(m, 2);
	CU_ASSERT_EQUAL(tg_ipsec_sa_stats(sa_named(&B, "scapy-in"))->seq, 5);
}

/* ---- lifetimes and rebuilds ---------------------------------------------- */

static struct tg_ipsec_table *
rebuild(struct side *s, struct tg_config *cfg)
{
	struct tg_ipsec_table *t = NULL;
	char err[256] = "";

	if (cfg == NULL || tg_ipsec_build(cfg, s->st, s->t, SOCKET_ID_ANY, &t,
				   err, sizeof(err)) != 0) {
		fprintf(stderr, "\nrebuild: %s\n", err);
		return NULL;
	}
	return t;
}

/* Swap in @p t (built from @p cfg) as a reload does: hits carried, the
 * old table freed, SAs nothing uses destroyed. */
static void
publish(struct side *s, struct tg_ipsec_table *t, struct tg_config *cfg)
{
	tg_ipsec_carry_hits(t, s->t);
	tg_ipsec_table_free(s->t);
	tg_config_free(s->cfg);
	s->t = t;
	s->cfg = cfg;
	CU_ASSERT_EQUAL(tg_ipsec_stage_sweep(s->st, s->t), 0);
}

/* B's tsa of SA @p name. */
static const struct tg_ipsec_tsa *
tsa_named(const struct side *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->t->n_sas; i++)
		if (strcmp(s->t->sas[i].name, name) == 0)
			return &s->t->sas[i];
	return NULL;
}

/*
 * The inner policy check has two ways (tg_ipsec_spd.h): B's b-in rules
 * meet no other rule, so its packets are checked without the SPD; with a
 * more specific allow policy in front of part of them, b-in's check goes
 * through the SPD, and a packet that policy takes first is a mismatch
 * (in CPU mode; in lookaside mode completions always use the SPD).
 */
static void
test_stage_inner_check_direct_or_spd(void)
{
	static const char extra[] =
		"    - {name: one-host, src: 10.2.0.0/24, dst: 10.0.0.6/32,\n"
		"       direction: both, action: allow}\n";
	const char *at = strstr(CFG_B, "  policies:\n");
	size_t head = (size_t)(at - CFG_B) + strlen("  policies:\n");
	char yaml[sizeof(CFG_B) + sizeof(extra)];
	struct tg_ipsec_table *t;
	struct tg_config *cfg;
	struct rte_mbuf *m[2];
	uint64_t before;

	CU_ASSERT_FATAL(at != NULL);
	CU_ASSERT(tsa_named(&B, "b-in")->sel.direct);
	CU_ASSERT(tsa_named(&B, "scapy-in")->sel.direct);
	memcpy(yaml, CFG_B, head);
	memcpy(yaml + head, extra, strlen(extra));
	strcpy(yaml + head + strlen(extra), CFG_B + head);
	cfg = parse("b-shadowed", yaml);
	t = rebuild(&B, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	publish(&B, t, cfg);
	CU_ASSERT(!tsa_named(&B, "b-in")->sel.direct);
	CU_ASSERT(tsa_named(&B, "scapy-in")->sel.direct);

	before = B.t->carried[policy_idx(&B, "tunnel")].in;
	m[0] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 70);
	m[1] = esp_from_a(
		TG_TEST_IP4(10, 0, 0, 6), TG_TEST_IP4(10, 2, 0, 7), 71);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[0]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m[1]);
	CU_ASSERT_EQUAL(received(&B, m[0], 1), TG_V_NEXT);
	CU_ASSERT_EQUAL(received(&B, m[1], 1), TG_V_NEXT);
	run(&B, m, 2);
	CU_ASSERT_EQUAL(verdict[0], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(verdict[1], TG_V_DROP(TG_IPSEC_DROP_POLICY_MISMATCH));
	CU_ASSERT_EQUAL(B.t->hits[policy_idx(&B, "tunnel")].in, 1);
	free_all(m, 2);

	/* B as before, for the tests after this one */
	cfg = parse("b-again", CFG_B);
	t = rebuild(&B, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	publish(&B, t, cfg);
	CU_ASSERT(tsa_named(&B, "b-in")->sel.direct);
	CU_ASSERT(B.t->carried[policy_idx(&B, "tunnel")].in >= before + 1);
}

static void
test_stage_sas_live_across_rebuilds(void)
{
	struct tg_ipsec_sa *out = sa_named(&A, "a-out");
	struct tg_ipsec_sa *in = sa_named(&A, "a-in");
	uint64_t hits = hits_out(&A, "no-telnet");
	uint64_t seq = tg_ipsec_sa_stats(out)->seq;
	struct tg_config *cfg;
	struct tg_ipsec_table *t;
	struct rte_mbuf *e;

	/* The same file again: the same SAs, counters and numbers go on. */
	cfg = parse("a2", CFG_A);
	t = rebuild(&A, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	publish(&A, t, cfg);
	CU_ASSERT_PTR_EQUAL(sa_named(&A, "a-out"), out);
	CU_ASSERT_PTR_EQUAL(sa_named(&A, "a-in"), in);
	CU_ASSERT(A.t->sas[0].reused && A.t->sas[1].reused);
	CU_ASSERT_EQUAL(hits_out(&A, "no-telnet"), hits);
	e = esp_from_a(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 40);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(tg_test_get32(l3(e) + 24), seq + 1);
	rte_pktmbuf_free(e);

	/* Another key for a-out: a new SA (numbers from 1), a-in stays,
	 * and the old a-out is destroyed by the sweep. */
	cfg = parse(
		"a3", CFG_A_HEAD SA_A_OUT("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
			      ", lifetime: {soft_packets: 2, "
			      "hard_packets: 3}") SA_A_IN);
	t = rebuild(&A, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	publish(&A, t, cfg);
	CU_ASSERT_PTR_NOT_EQUAL(sa_named(&A, "a-out"), out);
	CU_ASSERT_PTR_EQUAL(sa_named(&A, "a-in"), in);
	out = sa_named(&A, "a-out");
	e = esp_from_a(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7), 41);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(tg_test_get32(l3(e) + 24), 1);
	rte_pktmbuf_free(e);
}

/* The hard limit stops the SA after exactly hard_packets packets. */
static void
test_stage_hard_lifetime(void)
{
	struct tg_ipsec_sa *out = sa_named(&A, "a-out");
	const struct tg_ipsec_sa_stats *s = tg_ipsec_sa_stats(out);
	struct rte_mbuf *m[4];
	uint16_t i;

	/* after the last test: 1 of 3 packets used, soft limit 2 */
	CU_ASSERT_EQUAL_FATAL(s->packets, 1);
	CU_ASSERT_EQUAL(s->soft_reached, 0);
	for (i = 0; i < 4; i++) {
		m[i] = frame(TG_TEST_IP4(10, 0, 0, 5), TG_TEST_IP4(10, 2, 0, 7),
			IPPROTO_UDP, 1, 2, (uint16_t)(50 + i), 4);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		at_out(m[i], TG_PATH_TRANSIT, 0, 0);
	}
	run(&A, m, 4);
	CU_ASSERT_CRYPTO(0);
	CU_ASSERT_CRYPTO(1);
	CU_ASSERT_EQUAL(verdict[0], TG_V_GOTO(TG_STAGE_FORWARD));
	CU_ASSERT_EQUAL(verdict[1], TG_V_GOTO(TG_STAGE_FORWARD));
	CU_ASSERT_EQUAL(verdict[2], TG_V_DROP(TG_IPSEC_DROP_SA_EXPIRED));
	CU_ASSERT_EQUAL(verdict[3], TG_V_DROP(TG_IPSEC_DROP_SA_EXPIRED));
	free_all(m, 4);
	CU_ASSERT_EQUAL(s->packets, 3);
	CU_ASSERT_EQUAL(s->expired, 2);
	CU_ASSERT_EQUAL(s->soft_reached, 1);
	CU_ASSERT_EQUAL(s->hard_reached, 1);
}

static int suite_init(void);

static int
suite_init_lookaside(void)
{
	lookaside = true;
	return suite_init();
}

static int
suite_init_cpu(void)
{
	lookaside = false;
	return suite_init();
}

static int
suite_init(void)
{
	if (side_open(&A, "a", CFG_A, TG_TEST_IP4(10, 0, 0, 1),
		    TG_TEST_IP4(192, 0, 2, 1)) ||
		side_open(&B, "b", CFG_B, TG_TEST_IP4(10, 2, 0, 1),
			TG_TEST_IP4(192, 0, 2, 2)))
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	side_close(&A);
	side_close(&B);
	return 0;
}

/* Every test in both modes. */
static CU_TestInfo tests[] = {
	{"test_stage_tunnel_a_to_b", test_stage_tunnel_a_to_b},
	{"test_stage_replay_and_icv", test_stage_replay_and_icv},
	{"test_stage_refused_before_the_device",
		test_stage_refused_before_the_device},
	{"test_stage_outbound_verdicts_and_mismatch",
		test_stage_outbound_verdicts_and_mismatch},
	{"test_stage_inbound_policies_only", test_stage_inbound_policies_only},
	{"test_stage_too_big_for_the_tunnel",
		test_stage_too_big_for_the_tunnel},
	{"test_stage_ah_tunnel", test_stage_ah_tunnel},
	/* after it: it takes AH sequence numbers the AH test counts */
	{"test_stage_inbound_runs_of_several_sas",
		test_stage_inbound_runs_of_several_sas},
	{"test_stage_inner_check_direct_or_spd",
		test_stage_inner_check_direct_or_spd},
	{"test_stage_decrypts_scapy_esp", test_stage_decrypts_scapy_esp},
	{"test_stage_sas_live_across_rebuilds",
		test_stage_sas_live_across_rebuilds},
	{"test_stage_hard_lifetime", test_stage_hard_lifetime},
	{"test_stage_many_sas_in_a_burst", test_stage_many_sas_in_a_burst},
	CU_TEST_INFO_NULL,
};

static void
add_suites(void)
{
	tg_test_suite_of("ipsec_stage_lookaside", suite_init_lookaside,
		suite_clean, tests);
	tg_test_suite_of("ipsec_stage_cpu", suite_init_cpu, suite_clean, tests);
}

int
main(void)
{
	return tg_test_ipsec_main(
		"test_ipsec_stage", 2047, TG_MBUF_PRIV_SIZE, add_suites);
}
