/* SPDX-License-Identifier: BSD-3-Clause
 * The ipsec SPD (lib/ipsec/ipsec_spd.c): rte_acl's answers against a
 * brute-force walk of the evaluation order written here, for random
 * policies and packets, and the cases the rules document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>

#include "tg_ipsec_spd.h"
#include "tg_test.h"
#include "tg_test_cfg.h"
#include "tg_test_natfw_yaml.h"

#define MAX_POL 256

/* A packet in host order, as the reference sees it. */
struct pkt {
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
	bool nonfirst;
};

struct model {
	struct tg_cfg_ipsec ip;
	struct tg_cfg_ipsec_policy pol[MAX_POL];
	uint32_t order[MAX_POL];
};

static void
model_init(struct model *m, uint8_t rule)
{
	memset(m, 0, sizeof(*m));
	m->ip.policies = m->pol;
	m->ip.order = m->order;
	m->ip.policy_order = rule;
}

/* Append a policy matching everything in direction @p dir; returns it. */
static struct tg_cfg_ipsec_policy *
model_add(struct model *m, uint8_t dir)
{
	struct tg_cfg_ipsec_policy *p = &m->pol[m->ip.n_policies];

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "p%u", m->ip.n_policies);
	p->any_proto = true;
	p->sport_hi = p->dport_hi = UINT16_MAX;
	p->dir = dir;
	p->sa_out = p->sa_in = TG_CFG_IPSEC_NO_SA;
	m->ip.n_policies++;
	return p;
}

static void
model_order(struct model *m)
{
	CU_ASSERT_FATAL(tg_cfg_ipsec_order(m->pol, m->ip.n_policies,
				m->ip.policy_order, m->order) == 0);
}

static uint32_t
pfx(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static bool
ref_match(
	const struct tg_cfg_ipsec_policy *p, const struct pkt *k, bool mirrored)
{
	uint32_t src = mirrored ? k->dst : k->src;
	uint32_t dst = mirrored ? k->src : k->dst;
	uint16_t sport = mirrored ? k->dport : k->sport;
	uint16_t dport = mirrored ? k->sport : k->dport;
	bool any_ports = p->sport_lo == 0 && p->sport_hi == 0xffff &&
			 p->dport_lo == 0 && p->dport_hi == 0xffff;

	if (!p->any_proto && p->proto != k->proto)
		return false;
	if ((src & pfx(p->src_len)) != p->src ||
		(dst & pfx(p->dst_len)) != p->dst)
		return false;
	if (k->nonfirst) /* RFC 4301: OPAQUE ports match ANY only */
		return any_ports;
	return sport >= p->sport_lo && sport <= p->sport_hi &&
	       dport >= p->dport_lo && dport <= p->dport_hi;
}

/* The first policy in evaluation order matching @p k in @p dir, + 1. */
static uint32_t
ref_lookup(const struct model *m, enum tg_ipsec_dir dir, const struct pkt *k)
{
	uint32_t i;

	for (i = 0; i < m->ip.n_policies; i++) {
		const struct tg_cfg_ipsec_policy *p = &m->pol[m->order[i]];
		bool mir = false;

		if (dir == TG_IPSEC_DIR_OUTBOUND && p->dir == TG_CFG_IPSEC_IN)
			continue;
		if (dir == TG_IPSEC_DIR_INBOUND) {
			if (p->dir == TG_CFG_IPSEC_OUT)
				continue;
			mir = p->dir == TG_CFG_IPSEC_BOTH;
		}
		if (ref_match(p, k, mir))
			return m->order[i] + 1;
	}
	return 0;
}

#define HDR_LEN 28

/* @p k as an IPv4 header with 8 bytes of L4 (HDR_LEN). */
static struct rte_ipv4_hdr *
hdr_of(const struct pkt *k, uint8_t *b)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

	memset(b, 0, HDR_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(HDR_LEN);
	ip->fragment_offset = rte_cpu_to_be_16(k->nonfirst ? 100 : 0);
	ip->next_proto_id = k->proto;
	ip->src_addr = rte_cpu_to_be_32(k->src);
	ip->dst_addr = rte_cpu_to_be_32(k->dst);
	tg_test_put16(b + 20, k->sport);
	tg_test_put16(b + 22, k->dport);
	return ip;
}

/* The key of @p k built from an IPv4 header, through the library. */
static void
key_of(const struct pkt *k, struct tg_acl_key *key)
{
	uint8_t b[HDR_LEN];

	tg_ipsec_spd_key_make(hdr_of(k, b), HDR_LEN, key);
}

/* One packet through the SPD in @p dir. */
static uint32_t
spd_one(const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir,
	const struct pkt *k)
{
	struct tg_acl_key key;
	const uint8_t *kp = (const uint8_t *)&key;
	uint32_t res = UINT32_MAX;

	key_of(k, &key);
	CU_ASSERT(tg_ipsec_spd_lookup(spd, dir, &kp, 1, &res) == 0);
	return res;
}

static struct tg_ipsec_spd *
build(const struct model *m)
{
	struct tg_ipsec_spd *spd = NULL;
	char err[256] = "";
	int rc = tg_ipsec_spd_build(
		&m->ip, SOCKET_ID_ANY, &spd, err, sizeof(err));

	if (rc != 0)
		printf("\n  build: %d %s\n", rc, err);
	CU_ASSERT_FATAL(rc == 0 && spd != NULL);
	return spd;
}

static void
test_ipsec_spd_invalid_input(void)
{
	struct model m;
	struct tg_cfg_ipsec_policy *p;
	struct tg_ipsec_spd *spd = NULL;
	const uint8_t *kp = NULL;
	uint32_t res;
	char err[256];

	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, NULL, err,
			  sizeof(err)) == -EINVAL);
	CU_ASSERT(tg_ipsec_spd_build(NULL, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	CU_ASSERT(spd == NULL);

	p = model_add(&m, TG_CFG_IPSEC_OUT);
	model_order(&m);
	p->src_len = 33;
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "p0") != NULL);
	p->src_len = 0;
	p->dport_lo = 10; /* ports without tcp or udp */
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	p->any_proto = false;
	p->proto = IPPROTO_TCP;
	p->dport_hi = 9; /* upside down */
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	p->dport_hi = 10;
	p->dir = 7;
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	p->dir = TG_CFG_IPSEC_OUT;
	model_add(&m, TG_CFG_IPSEC_IN);
	m.order[0] = m.order[1] = 0; /* not a permutation */
	CU_ASSERT(tg_ipsec_spd_build(&m.ip, SOCKET_ID_ANY, &spd, err,
			  sizeof(err)) == -EINVAL);
	CU_ASSERT(spd == NULL);
	model_order(&m);
	spd = build(&m);
	CU_ASSERT(tg_ipsec_spd_policies(spd) == 2);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_OUTBOUND) == 1);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_INBOUND) == 1);
	CU_ASSERT(tg_ipsec_spd_lookup(
			  NULL, TG_IPSEC_DIR_INBOUND, &kp, 1, &res) == -EINVAL);
	CU_ASSERT(tg_ipsec_spd_lookup(
			  spd, (enum tg_ipsec_dir)5, &kp, 1, &res) == -EINVAL);
	CU_ASSERT(tg_ipsec_spd_lookup(
			  spd, TG_IPSEC_DIR_INBOUND, NULL, 1, &res) == -EINVAL);
	CU_ASSERT(tg_ipsec_spd_lookup(
			  spd, TG_IPSEC_DIR_INBOUND, &kp, 0, NULL) == 0);
	tg_ipsec_spd_free(spd);
	tg_ipsec_spd_free(NULL);
}

/* No policy, or none for a direction: everything is 0. */
static void
test_ipsec_spd_no_match(void)
{
	struct model m;
	struct tg_cfg_ipsec_policy *p;
	struct tg_ipsec_spd *spd;
	struct pkt k = {IPPROTO_UDP, 0x0a000001, 0x0a080001, 53, 53, false};

	model_init(&m, TG_CFG_IPSEC_ORDER_SPECIFICITY);
	spd = build(&m);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &k) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &k) == 0);
	tg_ipsec_spd_free(spd);

	p = model_add(&m, TG_CFG_IPSEC_OUT);
	p->dst = 0xc0a80000; /* 192.168.0.0/16 */
	p->dst_len = 16;
	model_order(&m);
	spd = build(&m);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_INBOUND) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &k) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &k) == 0);
	k.dst = 0xc0a80101;
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &k) == 1);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &k) == 0);
	tg_ipsec_spd_free(spd);
}

/* A wide policy written first, a narrow one after: as written the wide
 * one wins, by specificity the narrow one. */
static void
test_ipsec_spd_order_specificity_vs_written(void)
{
	static const uint8_t rules[] = {
		TG_CFG_IPSEC_ORDER_AS_WRITTEN, TG_CFG_IPSEC_ORDER_SPECIFICITY};
	struct pkt k = {IPPROTO_TCP, 0x0a000005, 0x0a080101, 40000, 80, false};
	struct pkt other = k;
	struct tg_cfg_ipsec_policy *p;
	struct tg_ipsec_spd *spd;
	struct model m;
	size_t r;

	other.dport = 81;
	for (r = 0; r < RTE_DIM(rules); r++) {
		model_init(&m, rules[r]);
		p = model_add(&m, TG_CFG_IPSEC_OUT); /* 10.0.0.0/24 → any */
		p->src = 0x0a000000;
		p->src_len = 24;
		p->action = TG_CFG_IPSEC_BLOCK;
		p = model_add(&m, TG_CFG_IPSEC_OUT); /* → 10.8/16 tcp 80 */
		p->src = 0x0a000000;
		p->src_len = 24;
		p->dst = 0x0a080000;
		p->dst_len = 16;
		p->any_proto = false;
		p->proto = IPPROTO_TCP;
		p->dport_lo = p->dport_hi = 80;
		model_order(&m);
		spd = build(&m);
		CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &k) ==
			  (rules[r] == TG_CFG_IPSEC_ORDER_AS_WRITTEN ? 1 : 2));
		CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &k) ==
			  ref_lookup(&m, TG_IPSEC_DIR_OUTBOUND, &k));
		/* the narrow one's port does not match: the wide one */
		CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &other) == 1);
		tg_ipsec_spd_free(spd);
	}
}

/* both: as written outbound, mirrored (addresses and ports) inbound;
 * inbound: as written, inbound only. */
static void
test_ipsec_spd_mirrored_both(void)
{
	/* 10.0.0.5:40000 → 10.8.1.1:80 and its reply */
	struct pkt out = {IPPROTO_TCP, 0x0a000005, 0x0a080101, 40000, 80, 0};
	struct pkt in = {IPPROTO_TCP, 0x0a080101, 0x0a000005, 80, 40000, 0};
	struct pkt in_sw_ports = in; /* addresses mirrored, ports not */
	struct tg_cfg_ipsec_policy *p;
	struct tg_ipsec_spd *spd;
	struct model m;

	in_sw_ports.sport = 40000;
	in_sw_ports.dport = 80;
	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	p = model_add(&m, TG_CFG_IPSEC_BOTH);
	p->src = 0x0a000000;
	p->src_len = 24;
	p->dst = 0x0a080000;
	p->dst_len = 16;
	p->any_proto = false;
	p->proto = IPPROTO_TCP;
	p->sport_lo = 1024;
	p->dport_lo = p->dport_hi = 80;
	model_order(&m);
	spd = build(&m);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_OUTBOUND) == 1);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_INBOUND) == 1);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &out) == 1);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &out) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &in) == 1);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &in) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &in_sw_ports) == 0);
	tg_ipsec_spd_free(spd);

	/* the same policy as inbound: as written, so only out's shape */
	p->dir = TG_CFG_IPSEC_IN;
	spd = build(&m);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_OUTBOUND) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &out) == 1);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_INBOUND, &in) == 0);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &out) == 0);
	tg_ipsec_spd_free(spd);
}

/* The configuration.md example's shape, through the config parser, in the
 * default (specificity) order: "web" is written last and still wins over
 * "branch-rest" for port 80; both policies mirror inbound. */
static void
test_ipsec_spd_from_yaml(void)
{
	static const char yaml[] = TG_TEST_NATFW_BASE
		"ipsec:\n"
		"  policies:\n"
		"    - {name: branch-rest, src: 10.0.0.0/24, dst: 10.8.0.0/16,"
		" direction: both, action: block}\n"
		"    - {name: ike, protocol: udp, dst_port: 500,"
		" direction: inbound, action: allow}\n"
		"    - {name: web, src: 10.0.0.0/24, dst: 10.8.0.0/16,"
		" protocol: tcp, dst_port: 80, direction: both,"
		" action: allow}\n";
	static const struct {
		enum tg_ipsec_dir dir;
		struct pkt k;
		uint32_t want; /* policy index + 1 */
	} cases[] = {
		/* web as written, and mirrored (ports too) */
		{TG_IPSEC_DIR_OUTBOUND,
			{IPPROTO_TCP, 0x0a000005, 0x0a080101, 40000, 80, 0}, 3},
		{TG_IPSEC_DIR_INBOUND,
			{IPPROTO_TCP, 0x0a080101, 0x0a000005, 80, 40000, 0}, 3},
		/* inbound to port 80 is not web's mirror: branch-rest */
		{TG_IPSEC_DIR_INBOUND,
			{IPPROTO_TCP, 0x0a080101, 0x0a000005, 5, 80, 0}, 1},
		{TG_IPSEC_DIR_OUTBOUND,
			{IPPROTO_UDP, 0x0a000005, 0x0a080101, 53, 53, 0}, 1},
		/* the reply shape outbound is no match */
		{TG_IPSEC_DIR_OUTBOUND,
			{IPPROTO_TCP, 0x0a080101, 0x0a000005, 80, 40000, 0}, 0},
		/* ike: inbound as written only */
		{TG_IPSEC_DIR_INBOUND,
			{IPPROTO_UDP, 0xcb007109, 0xc0000201, 500, 500, 0}, 2},
		{TG_IPSEC_DIR_OUTBOUND,
			{IPPROTO_UDP, 0xc0000201, 0xcb007109, 500, 500, 0}, 0},
		{TG_IPSEC_DIR_INBOUND,
			{IPPROTO_UDP, 0xcb007109, 0xc0000201, 500, 4500, 0}, 0},
	};
	struct tg_ipsec_spd *spd = NULL;
	struct tg_config *cfg = NULL;
	char err[256] = "";
	size_t i;

	if (tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs) != 0)
		dump_errors(yaml);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FATAL(tg_ipsec_spd_build(&cfg->ipsec, SOCKET_ID_ANY, &spd,
				err, sizeof(err)) == 0);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_OUTBOUND) == 2);
	CU_ASSERT(tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_INBOUND) == 3);
	for (i = 0; i < RTE_DIM(cases); i++) {
		uint32_t got = spd_one(spd, cases[i].dir, &cases[i].k);

		if (got != cases[i].want)
			printf("\n  case %zu: %u, want %u", i, got,
				cases[i].want);
		CU_ASSERT(got == cases[i].want);
	}
	tg_ipsec_spd_free(spd);
	tg_config_free(cfg);
}

/* Later fragments: only policies without port conditions; the key from
 * a header with options; short TCP: ports 0. */
static void
test_ipsec_spd_fragments_and_keys(void)
{
	struct pkt f = {IPPROTO_UDP, 0x0a000005, 0x0a080101, 0, 0, true};
	struct tg_cfg_ipsec_policy *p;
	struct tg_acl_key key;
	struct tg_ipsec_spd *spd;
	struct model m;
	uint8_t b[32];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)b;

	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	p = model_add(&m, TG_CFG_IPSEC_OUT); /* udp, ports 0-65535 narrowed */
	p->any_proto = false;
	p->proto = IPPROTO_UDP;
	p->sport_lo = 0;
	p->sport_hi = 1000;		     /* would match port 0 */
	p = model_add(&m, TG_CFG_IPSEC_OUT); /* udp, any ports */
	p->any_proto = false;
	p->proto = IPPROTO_UDP;
	model_order(&m);
	spd = build(&m);
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &f) == 2);
	f.nonfirst = false;
	CU_ASSERT(spd_one(spd, TG_IPSEC_DIR_OUTBOUND, &f) == 1);
	tg_ipsec_spd_free(spd);

	memset(b, 0, sizeof(b));
	ip->version_ihl = 0x46; /* 4 bytes of options */
	ip->next_proto_id = IPPROTO_TCP;
	tg_test_put32((uint8_t *)&ip->src_addr, 0x01020304);
	tg_test_put16(b + 24, 1234);
	tg_test_put16(b + 26, 80);
	tg_ipsec_spd_key_make(ip, sizeof(b), &key);
	CU_ASSERT(key.proto == IPPROTO_TCP && key.flags == 0);
	CU_ASSERT(rte_be_to_cpu_32(key.src) == 0x01020304);
	CU_ASSERT(rte_be_to_cpu_16(key.sport) == 1234);
	CU_ASSERT(rte_be_to_cpu_16(key.dport) == 80);
	tg_ipsec_spd_key_make(ip, 27, &key); /* ports cut short */
	CU_ASSERT(key.sport == 0 && key.dport == 0);
	ip->next_proto_id = IPPROTO_ICMP; /* not tcp or udp: ports 0 */
	tg_ipsec_spd_key_make(ip, sizeof(b), &key);
	CU_ASSERT(key.sport == 0 && key.dport == 0);
	ip->next_proto_id = IPPROTO_TCP;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | 3);
	tg_ipsec_spd_key_make(ip, sizeof(b), &key);
	CU_ASSERT(key.sport == 0 && key.flags == TG_IPSEC_SPD_KEY_NONFIRST);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	tg_ipsec_spd_key_make(ip, sizeof(b), &key); /* the first fragment */
	CU_ASSERT(rte_be_to_cpu_16(key.dport) == 80 && key.flags == 0);
}

/* Addresses from a small space, so prefixes overlap often. */
static uint32_t
rnd_addr(void)
{
	return 0x0a000000 | (uint32_t)(rand() % 4) << 16 |
	       (uint32_t)(rand() % 4) << 8 | (uint32_t)(rand() % 8);
}

/* rnd_len's choice: all of these, or (the destination index's test) a
 * few: the index is built when at most 4 lengths are in use */
static const uint8_t all_lens[] = {0, 8, 14, 16, 22, 24, 29, 32};
static const uint8_t *len_set = all_lens;
static uint32_t n_len_set = RTE_DIM(all_lens);

static uint8_t
rnd_len(void)
{
	return len_set[(uint32_t)rand() % n_len_set];
}

static void
rnd_range(uint16_t *lo, uint16_t *hi)
{
	uint16_t a = (uint16_t)(rand() % 8 * 1000), b;

	switch (rand() % 3) {
	case 0:
		*lo = 0, *hi = UINT16_MAX;
		break;
	case 1:
		*lo = *hi = a;
		break;
	default:
		b = (uint16_t)(a + rand() % 3000);
		*lo = a, *hi = b;
	}
}

static void
rnd_policy(struct model *m)
{
	static const uint8_t protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 50};
	struct tg_cfg_ipsec_policy *p = model_add(m, (uint8_t)(rand() % 3));

	p->src_len = rnd_len();
	p->src = rnd_addr() & pfx(p->src_len);
	p->dst_len = rnd_len();
	p->dst = rnd_addr() & pfx(p->dst_len);
	p->action = (uint8_t)(rand() % 3);
	if (rand() % 4 == 0)
		return; /* any protocol */
	p->any_proto = false;
	p->proto = protos[rand() % RTE_DIM(protos)];
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		rnd_range(&p->sport_lo, &p->sport_hi);
		rnd_range(&p->dport_lo, &p->dport_hi);
	}
}

static uint16_t
rnd_port_in(uint16_t lo, uint16_t hi)
{
	return (uint16_t)(lo + (uint32_t)rand() % ((uint32_t)(hi - lo) + 1));
}

/* A packet: often one a policy matches in some direction (as written or
 * mirrored), then sometimes nudged. */
static void
rnd_pkt_of(const struct tg_cfg_ipsec_policy *p, struct pkt *k)
{
	static const uint8_t protos[] = {
		IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 50, 47};
	uint32_t t;
	uint16_t t16;

	k->proto = p->any_proto ? protos[rand() % RTE_DIM(protos)] : p->proto;
	k->src = p->src | (rnd_addr() & ~pfx(p->src_len));
	k->dst = p->dst | (rnd_addr() & ~pfx(p->dst_len));
	k->sport = k->dport = 0;
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) {
		k->sport = rnd_port_in(p->sport_lo, p->sport_hi);
		k->dport = rnd_port_in(p->dport_lo, p->dport_hi);
	}
	k->nonfirst = rand() % 10 == 0;
	if (k->nonfirst)
		k->sport = k->dport = 0;
	if (rand() % 2) { /* the reply's shape */
		t = k->src, k->src = k->dst, k->dst = t;
		t16 = k->sport, k->sport = k->dport, k->dport = t16;
	}
	switch (rand() % 6) {
	case 0:
		k->src = rnd_addr();
		break;
	case 1:
		k->dst ^= 1u << (rand() % 32);
		break;
	case 2:
		if (!k->nonfirst &&
			(k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP))
			k->dport = (uint16_t)(k->dport + 1 - rand() % 3);
		break;
	default:
		break;
	}
}

static void
rnd_pkt(const struct model *m, struct pkt *k)
{
	rnd_pkt_of(&m->pol[(uint32_t)rand() % m->ip.n_policies], k);
}

struct rr_stats {
	uint32_t total, matched, bad;
	uint32_t sets, walked, indexed, partly; /* SPDs of each kind */
};

/* @p rounds random policy sets of @p min to @p max policies, each asked
 * about random packets in both directions, against the reference walk. */
static void
random_vs_reference(
	uint32_t rounds, uint32_t min, uint32_t max, struct rr_stats *st)
{
	struct tg_acl_key keys[64];
	const uint8_t *kp[64];
	struct pkt pk[64];
	uint32_t res[64], round, i, b, n;
	struct model m;

	for (i = 0; i < RTE_DIM(kp); i++)
		kp[i] = (const uint8_t *)&keys[i];
	for (round = 0; round < rounds; round++) {
		struct tg_ipsec_spd *spd;
		uint32_t np = min + (uint32_t)rand() % (max - min + 1), nr, ix;

		model_init(&m, (uint8_t)(round % 2));
		for (i = 0; i < np; i++)
			rnd_policy(&m);
		model_order(&m);
		spd = build(&m);
		nr = tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_OUTBOUND) +
		     tg_ipsec_spd_rules(spd, TG_IPSEC_DIR_INBOUND);
		ix = tg_ipsec_spd_indexed(spd, TG_IPSEC_DIR_OUTBOUND) +
		     tg_ipsec_spd_indexed(spd, TG_IPSEC_DIR_INBOUND);
		/* a few rules are walked, more go to rte_acl (with the index
		 * in front when it can be built): all answer alike */
		CU_ASSERT(tg_ipsec_spd_walks(spd) ==
			  (nr <= TG_IPSEC_SPD_WALK_MAX));
		CU_ASSERT(ix <= nr && (ix == 0 || !tg_ipsec_spd_walks(spd)));
		st->sets++;
		st->walked += tg_ipsec_spd_walks(spd);
		st->indexed += ix > 0;
		st->partly += ix > 0 && ix < nr;
		for (b = 0; b < 100; b++) {
			enum tg_ipsec_dir dir = b % 2 ? TG_IPSEC_DIR_INBOUND
						      : TG_IPSEC_DIR_OUTBOUND;

			n = 1 + (uint32_t)rand() % RTE_DIM(keys);
			for (i = 0; i < n; i++) {
				rnd_pkt(&m, &pk[i]);
				key_of(&pk[i], &keys[i]);
			}
			CU_ASSERT_FATAL(
				tg_ipsec_spd_lookup(spd, dir, kp, n, res) == 0);
			for (i = 0; i < n; i++, st->total++) {
				uint32_t want = ref_lookup(&m, dir, &pk[i]);

				st->matched += want != 0;
				if (res[i] != want && st->bad++ < 5)
					printf("\n  round %u dir %d: proto %u "
					       "%08x:%u > %08x:%u%s: "
					       "spd %u, reference %u",
						round, dir, pk[i].proto,
						pk[i].src, pk[i].sport,
						pk[i].dst, pk[i].dport,
						pk[i].nonfirst ? " (frag)" : "",
						res[i], want);
			}
		}
		tg_ipsec_spd_free(spd);
	}
}

static void
test_ipsec_spd_random_against_reference(void)
{
	struct rr_stats st = {0};

	srand(7);
	len_set = all_lens;
	n_len_set = RTE_DIM(all_lens);
	random_vs_reference(20, 1, 12, &st);
	random_vs_reference(20, 1, 200, &st);
	CU_ASSERT(st.bad == 0);
	/* the packets exercise the rules, not just the no-match path */
	CU_ASSERT(st.total > 100000 && st.matched > st.total / 4 &&
		  st.matched < st.total - st.total / 10);
	/* and both kinds of lookup */
	CU_ASSERT(st.walked >= 5 && st.walked <= 30);
	printf(" [%u packets, %u matched, %u of %u sets walked] ", st.total,
		st.matched, st.walked, st.sets);
}

/* The destination index (tg_ipsec_spd_indexed): sets of 9 to 250
 * policies whose prefixes have at most 4 lengths, so that it is built;
 * the addresses overlap often, so that some rules are in it and some
 * not, and many packets meet a rule it cannot vouch for. */
static void
test_ipsec_spd_index_against_reference(void)
{
	static const uint8_t l1[] = {24}, l2[] = {16, 24}, l3[] = {0, 24, 32},
			     l4[] = {8, 16, 24, 32}, l5[] = {22, 29};
	static const struct {
		const uint8_t *l;
		uint32_t n;
	} sets[] = {{l1, 1}, {l2, 2}, {l3, 3}, {l4, 4}, {l5, 2}};
	struct rr_stats st = {0};
	size_t k;

	srand(11);
	for (k = 0; k < RTE_DIM(sets); k++) {
		len_set = sets[k].l;
		n_len_set = sets[k].n;
		random_vs_reference(8, 9, 250, &st);
	}
	len_set = all_lens;
	n_len_set = RTE_DIM(all_lens);
	CU_ASSERT(st.bad == 0);
	CU_ASSERT(st.total > 100000 && st.matched > st.total / 4 &&
		  st.matched < st.total - st.total / 10);
	CU_ASSERT(st.walked == 0 && st.indexed == st.sets &&
		  st.partly >= st.sets / 2);
	printf(" [%u packets, %u matched, %u sets, %u with some rules not "
	       "indexed] ",
		st.total, st.matched, st.sets, st.partly);
}

/* The bench's shape: a destination per tunnel. Every rule is in the
 * index, and each answers for its own subnet. */
static void
test_ipsec_spd_index_a_destination_each(void)
{
	static struct model m;
	struct tg_acl_key keys[64];
	const uint8_t *kp[64];
	struct tg_ipsec_spd *spd;
	uint32_t res[64], i, b, bad = 0;

	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	for (i = 0; i < MAX_POL; i++) {
		struct tg_cfg_ipsec_policy *p = model_add(&m, TG_CFG_IPSEC_OUT);

		p->dst = 0x10000000u | i << 8;
		p->dst_len = 24;
		p->action = TG_CFG_IPSEC_PROTECT;
	}
	model_order(&m);
	spd = build(&m);
	CU_ASSERT_FATAL(spd != NULL);
	CU_ASSERT(!tg_ipsec_spd_walks(spd));
	CU_ASSERT(tg_ipsec_spd_indexed(spd, TG_IPSEC_DIR_OUTBOUND) ==
		  m.ip.n_policies);
	for (i = 0; i < RTE_DIM(kp); i++)
		kp[i] = (const uint8_t *)&keys[i];
	for (b = 0; b < 100; b++) {
		struct pkt pk[64];

		for (i = 0; i < RTE_DIM(pk); i++) {
			memset(&pk[i], 0, sizeof(pk[i]));
			pk[i].proto = IPPROTO_UDP;
			pk[i].src = (uint32_t)rand();
			/* inside the policies' 16.0.0.0/16 or just past it */
			pk[i].dst = 0x10000000u |
				    ((uint32_t)rand() % (MAX_POL + 8)) << 8 |
				    ((uint32_t)rand() & 0xff);
			key_of(&pk[i], &keys[i]);
		}
		CU_ASSERT_FATAL(tg_ipsec_spd_lookup(spd, TG_IPSEC_DIR_OUTBOUND,
					kp, RTE_DIM(kp), res) == 0);
		for (i = 0; i < RTE_DIM(pk); i++) {
			uint32_t sub = (pk[i].dst >> 8) & 0xffff;

			bad += res[i] != (sub < m.ip.n_policies ? sub + 1 : 0);
		}
	}
	CU_ASSERT(bad == 0);
	tg_ipsec_spd_free(spd);
}

#define NSA 4

/* What the inner policy check wants for a packet decrypted with SA @p sa:
 * the first inbound match (the reference walk) when it is a protect
 * policy of @p sa, else 0. */
static uint32_t
ref_inner(const struct model *m, uint32_t sa, const struct pkt *k)
{
	uint32_t r = ref_lookup(m, TG_IPSEC_DIR_INBOUND, k);

	return r != 0 && m->pol[r - 1].action == TG_CFG_IPSEC_PROTECT &&
			       m->pol[r - 1].sa_in == sa
		       ? r
		       : 0;
}

static int
sels_of(const struct model *m, struct tg_ipsec_sels *sels, uint64_t budget)
{
	struct tg_ipsec_sels *out[NSA];
	uint32_t i;

	for (i = 0; i < NSA; i++)
		out[i] = &sels[i];
	return tg_ipsec_spd_sels(&m->ip, out, budget);
}

/* Random policy sets with NSA inbound SAs: every SA the build makes
 * direct answers every packet as the reference walk does (and so as
 * rte_acl, checked against the same walk above); the sets are varied
 * enough that both kinds of SA occur. */
static void
test_ipsec_spd_direct_against_reference(void)
{
	struct tg_ipsec_sels sels[NSA];
	uint32_t round, i, b, sa, direct = 0, spd = 0, total = 0, hits = 0,
				  bad = 0, with_rules = 0;
	struct model m;
	struct pkt pk;
	uint8_t hb[HDR_LEN];

	srand(11);
	for (round = 0; round < 400; round++) {
		uint32_t np = 1 + (uint32_t)rand() % (round % 4 == 0 ? 40 : 6);

		model_init(&m, (uint8_t)(round % 2));
		m.ip.n_sas = NSA;
		for (i = 0; i < np; i++) {
			rnd_policy(&m);
			if (m.pol[i].action == TG_CFG_IPSEC_PROTECT &&
				m.pol[i].dir != TG_CFG_IPSEC_OUT)
				m.pol[i].sa_in = (uint32_t)rand() % NSA;
		}
		model_order(&m);
		CU_ASSERT_FATAL(sels_of(&m, sels, UINT64_MAX) >= 0);
		for (sa = 0; sa < NSA; sa++) {
			if (!sels[sa].direct) {
				spd++;
				continue;
			}
			direct += sels[sa].n > 0;
			for (b = 0; b < 200; b++, total++) {
				uint32_t want, got;

				/* mostly packets shaped by the SA's own
				 * policies */
				if (sels[sa].n > 0 && b % 4 != 0)
					rnd_pkt_of(
						&m.pol[sels[sa].s[b % sels[sa].n]
								.policy -
							1],
						&pk);
				else
					rnd_pkt(&m, &pk);
				want = ref_inner(&m, sa, &pk);
				got = tg_ipsec_sels_match(
					&sels[sa], hdr_of(&pk, hb), HDR_LEN);
				hits += want != 0;
				with_rules += sels[sa].n > 0;
				if (got != want && bad++ < 5)
					printf("\n  round %u sa %u: proto %u "
					       "%08x:%u > %08x:%u%s: direct "
					       "%u, reference %u",
						round, sa, pk.proto, pk.src,
						pk.sport, pk.dst, pk.dport,
						pk.nonfirst ? " (frag)" : "",
						got, want);
			}
		}
	}
	CU_ASSERT(bad == 0);
	CU_ASSERT(direct > 200 && spd > 100 && hits > with_rules / 5 &&
		  hits < with_rules - with_rules / 5);
	printf(" [%u direct SAs with rules, %u through the SPD, %u packets, "
	       "%u accepted] ",
		direct, spd, total, hits);
}

/* The cases that turn the direct check off. */
static void
test_ipsec_spd_direct_limits(void)
{
	struct tg_ipsec_sels sels[NSA];
	struct tg_cfg_ipsec_policy *p;
	struct model m;
	uint32_t i;

	/* An earlier allow policy overlapping SA 0's rule: through the
	 * SPD; SA 1's rule is disjoint from it (its source is another
	 * /16): direct. */
	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	m.ip.n_sas = NSA;
	p = model_add(&m, TG_CFG_IPSEC_IN);
	p->src = 0x0a000000, p->src_len = 16; /* allow from 10.0/16 */
	p = model_add(&m, TG_CFG_IPSEC_IN);
	p->dst = 0x0a000100, p->dst_len = 24, p->action = TG_CFG_IPSEC_PROTECT;
	p->sa_in = 0, p->any_proto = false, p->proto = IPPROTO_TCP;
	/* mirrored: src 10.1.1/24; UDP, so SA 0's TCP rule does not meet
	 * it either */
	p = model_add(&m, TG_CFG_IPSEC_BOTH);
	p->dst = 0x0a010100, p->dst_len = 24, p->action = TG_CFG_IPSEC_PROTECT;
	p->sa_in = 1, p->any_proto = false, p->proto = IPPROTO_UDP;
	model_order(&m);
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == 3);
	CU_ASSERT(!sels[0].direct);
	CU_ASSERT(sels[1].direct && sels[1].n == 1 &&
		  sels[1].s[0].src == 0x0a010100 &&
		  sels[1].s[0].src_len == 24 && sels[1].s[0].dst_len == 0 &&
		  sels[1].s[0].policy == 3);
	/* SAs 2 and 3: no protect policy: direct, and nothing matches */
	CU_ASSERT(sels[2].direct && sels[2].n == 0);
	/* SA 0's rule visits itself and the allow rule (destination any)
	 * before it finds the overlap: 2; SA 1's, whose destination is any,
	 * all three rules: a budget of 5 covers both, 4 not the second */
	CU_ASSERT(sels_of(&m, sels, 5) == 3 && sels[1].direct);
	CU_ASSERT(sels_of(&m, sels, 4) == 2 && !sels[0].direct &&
		  !sels[1].direct && sels[2].direct);

	/* TG_IPSEC_SEL_MAX disjoint rules of one SA: direct; one more: not */
	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	m.ip.n_sas = NSA;
	for (i = 0; i <= TG_IPSEC_SEL_MAX; i++) {
		p = model_add(&m, TG_CFG_IPSEC_IN);
		p->dst = 0x0a000000 | i << 8, p->dst_len = 24;
		p->action = TG_CFG_IPSEC_PROTECT;
		p->sa_in = i < TG_IPSEC_SEL_MAX ? 0 : 1;
	}
	model_order(&m);
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == NSA);
	CU_ASSERT(sels[0].direct && sels[0].n == TG_IPSEC_SEL_MAX);
	m.pol[TG_IPSEC_SEL_MAX].sa_in = 0;
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == NSA - 1 && !sels[0].direct);

	/* the other SA's rules count as earlier rules too: SA 1's rule
	 * overlapping SA 0's earlier one is not direct, SA 0 still is */
	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	m.ip.n_sas = NSA;
	p = model_add(&m, TG_CFG_IPSEC_IN);
	p->action = TG_CFG_IPSEC_PROTECT, p->sa_in = 0;
	p->any_proto = false, p->proto = IPPROTO_TCP;
	p = model_add(&m, TG_CFG_IPSEC_IN);
	p->action = TG_CFG_IPSEC_PROTECT, p->sa_in = 1;
	model_order(&m);
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == NSA - 1);
	CU_ASSERT(sels[0].direct && !sels[1].direct);
	/* with different protocols they are disjoint */
	m.pol[1].any_proto = false, m.pol[1].proto = IPPROTO_UDP;
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == NSA && sels[1].direct);

	/* an earlier rule whose destination holds the SA's and starts
	 * before it (10.1.0.0/16 before 10.1.2.0/24), and one inside it
	 * (10.3.2.128/25 before 10.3.2.0/24): both overlap; a sibling
	 * (10.5.1.0/24 before 10.5.2.0/24) does not */
	model_init(&m, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	m.ip.n_sas = NSA;
	for (i = 0; i < 6; i++) {
		static const uint32_t dst[6] = {0x0a010000, 0x0a010200,
			0x0a030280, 0x0a030200, 0x0a050100, 0x0a050200};
		static const uint8_t len[6] = {16, 24, 25, 24, 24, 24};

		p = model_add(&m, TG_CFG_IPSEC_IN);
		p->dst = dst[i], p->dst_len = len[i];
		if (i % 2 == 1)
			p->action = TG_CFG_IPSEC_PROTECT, p->sa_in = i / 2;
	}
	model_order(&m);
	CU_ASSERT(sels_of(&m, sels, UINT64_MAX) == NSA - 2);
	CU_ASSERT(!sels[0].direct && !sels[1].direct && sels[2].direct);

	CU_ASSERT(tg_ipsec_spd_sels(NULL, NULL, 0) == -EINVAL);
	CU_ASSERT(tg_ipsec_spd_sels(&m.ip, NULL, 0) == -EINVAL);
}

/* 10,000 inbound SAs, one rule each, all disjoint; the build's time is
 * printed, for docs/ipsec.md. @p by_dst: each a /24 destination of its
 * own (the bench's tunnels: every rule meets only itself in the
 * destination index, so all are direct within a budget of N visits),
 * else the same destination (any) and a /24 source of its own: every
 * rule visits all N, and the budget stops the build part way. */
static int
sels_at_scale(bool by_dst, uint64_t budget, struct tg_ipsec_sels *sels)
{
	enum { N = 10000 };
	struct tg_cfg_ipsec_policy *pol = calloc(N, sizeof(*pol));
	struct tg_ipsec_sels **out = calloc(N, sizeof(*out));
	uint32_t *order = calloc(N, sizeof(*order));
	struct tg_cfg_ipsec ip;
	uint64_t t0;
	uint32_t i;
	int got = -ENOMEM;

	if (pol == NULL || out == NULL || order == NULL)
		goto out;
	memset(&ip, 0, sizeof(ip));
	for (i = 0; i < N; i++) {
		snprintf(pol[i].name, sizeof(pol[i].name), "p%u", i);
		if (by_dst)
			pol[i].dst = 0x10000000 | i << 8, pol[i].dst_len = 24;
		else
			pol[i].src = 0x10000000 | i << 8, pol[i].src_len = 24;
		pol[i].any_proto = true;
		pol[i].sport_hi = pol[i].dport_hi = UINT16_MAX;
		pol[i].dir = TG_CFG_IPSEC_IN;
		pol[i].action = TG_CFG_IPSEC_PROTECT;
		pol[i].sa_out = TG_CFG_IPSEC_NO_SA;
		pol[i].sa_in = i;
		order[i] = i;
		out[i] = &sels[i];
	}
	ip.policies = pol, ip.order = order;
	ip.n_policies = ip.n_sas = N;
	t0 = rte_rdtsc();
	got = tg_ipsec_spd_sels(&ip, out, budget);
	printf(" [%s: %d SAs direct of %u, %.1f ms] ",
		by_dst ? "a destination each" : "one destination", got, N,
		(double)(rte_rdtsc() - t0) * 1e3 / (double)rte_get_tsc_hz());
out:
	free(pol), free(out), free(order);
	return got;
}

static void
test_ipsec_spd_direct_budget_at_scale(void)
{
	enum { N = 10000 };
	struct tg_ipsec_sels *sels = calloc(N, sizeof(*sels));
	uint64_t budget = UINT64_C(1) << 24;
	int got;

	CU_ASSERT_FATAL(sels != NULL);
	CU_ASSERT(sels_at_scale(true, N, sels) == N);
	CU_ASSERT(sels[0].direct && sels[N - 1].direct && sels[N - 1].n == 1);
	CU_ASSERT(sels_at_scale(true, N - 1, sels) == N - 1);
	CU_ASSERT(!sels[N - 1].direct);
	/* every rule visits N: about budget / N rules before it is spent */
	got = sels_at_scale(false, budget, sels);
	CU_ASSERT(got >= (int)(budget / N) - 1 && got <= (int)(budget / N) + 1);
	CU_ASSERT(sels[0].direct && !sels[N - 1].direct);
	free(sels);
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_ipsec_spd") != 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("ipsec_spd", NULL, NULL, "test_ipsec_spd_invalid_input",
		test_ipsec_spd_invalid_input, "test_ipsec_spd_no_match",
		test_ipsec_spd_no_match,
		"test_ipsec_spd_order_specificity_vs_written",
		test_ipsec_spd_order_specificity_vs_written,
		"test_ipsec_spd_mirrored_both", test_ipsec_spd_mirrored_both,
		"test_ipsec_spd_from_yaml", test_ipsec_spd_from_yaml,
		"test_ipsec_spd_fragments_and_keys",
		test_ipsec_spd_fragments_and_keys,
		"test_ipsec_spd_random_against_reference",
		test_ipsec_spd_random_against_reference,
		"test_ipsec_spd_index_against_reference",
		test_ipsec_spd_index_against_reference,
		"test_ipsec_spd_index_a_destination_each",
		test_ipsec_spd_index_a_destination_each,
		"test_ipsec_spd_direct_against_reference",
		test_ipsec_spd_direct_against_reference,
		"test_ipsec_spd_direct_limits", test_ipsec_spd_direct_limits,
		"test_ipsec_spd_direct_budget_at_scale",
		test_ipsec_spd_direct_budget_at_scale, NULL);
	rc = tg_test_run();
	tg_test_eal_cleanup();
	return rc;
}
