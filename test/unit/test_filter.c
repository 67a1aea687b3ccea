/* SPDX-License-Identifier: BSD-3-Clause
 * filter: every decision checked against a reference matcher written here
 * (a plain first-match loop over the config rules, reading the packet
 * bytes itself), on random rule lists and packets and on hand-made edge
 * cases; drop reasons, hit counters over two slots, carrying them across
 * a rebuild, a 100,000-rule build and the classify methods. Frames are
 * built byte by byte and pass RX validation first, as in the dataplane.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_vect.h>

#include "tg_filter.h"
#include "tg_pkt.h"
#include "tg_test.h"

#define NB_MBUF 4095
#define P_LAN	3 /* ethdev port ids of the two interfaces */
#define P_WAN	7
#define IN	TG_CFG_FILTER_IN
#define OUT	TG_CFG_FILTER_OUT
#define NONE	UINT32_MAX /* no deciding rule */

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define F_DROP(r)	TG_V_DROP(TG_FILTER_DROP_##r)

/* TCP flags (RFC 9293 3.1) and the IP MF bit, spelled here */
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10
#define MF  0x2000

static struct rte_mempool *mp;

/* ---- frames ------------------------------------------------------------ */

/* One packet: addresses 0 mean 192.168.1.9 → 10.0.0.1, ports 0 mean
 * P_LAN in and P_WAN out. L4: 20 bytes of TCP, 8 of anything else,
 * or exactly l4len bytes with .exact. For ICMP sport/dport are unused:
 * type and code. In a later fragment the "header" is payload. */
struct probe {
	uint8_t proto, type, code, flags;
	uint32_t src, dst;
	uint16_t sport, dport, frag, l4len;
	bool exact;
	uint16_t rx, tx;
};

static struct rte_mbuf *
pkt(const struct probe *pr)
{
	uint8_t f[128] = {0}, l4[64] = {0};
	uint8_t *ip = f + 14;
	uint16_t l4len = pr->exact ? pr->l4len : pr->proto == 6 ? 20 : 8;
	uint16_t tot = (uint16_t)(20 + l4len), len = (uint16_t)(14 + tot);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *d;

	CU_ASSERT_FATAL(m != NULL && l4len <= 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	tg_test_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	tg_test_put16(ip + 2, tot);
	tg_test_put16(ip + 6, pr->frag);
	ip[8] = 64;
	ip[9] = pr->proto;
	tg_test_put32(ip + 12, pr->src ? pr->src : IP4(192, 168, 1, 9));
	tg_test_put32(ip + 16, pr->dst ? pr->dst : IP4(10, 0, 0, 1));
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, 20));
	if (pr->proto == 1) {
		l4[0] = pr->type;
		l4[1] = pr->code;
	} else {
		tg_test_put16(l4, pr->sport);
		tg_test_put16(l4 + 2, pr->dport);
		l4[12] = 0x50; /* TCP: a 20-byte header */
		l4[13] = pr->flags;
	}
	memcpy(ip + 20, l4, l4len);
	if (len < 60)
		len = 60; /* Ethernet minimum: RX trims the padding */
	d = rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(d != NULL);
	memcpy(d, f, len);
	CU_ASSERT_EQUAL_FATAL(
		tg_pkt_rx_one(m, pr->rx ? pr->rx : P_LAN), TG_V_NEXT);
	tg_meta(m)->tx_if = pr->tx ? pr->tx : P_WAN;
	return m;
}

/* ---- the reference ----------------------------------------------------- */

/* What the rules see of a frame, read from its bytes. */
struct view {
	uint8_t proto, tcp_flags;
	uint32_t src, dst;
	uint16_t frag_off, sport, dport;
	int avail; /* L4 bytes within total length and frame */
};

static struct view
view_of(const uint8_t *f, int flen)
{
	const uint8_t *ip = f + 14, *l4 = ip + (ip[0] & 15) * 4;
	struct view v = {.proto = ip[9]};
	int tot = ip[2] << 8 | ip[3];

	v.src = (uint32_t)ip[12] << 24 | ip[13] << 16 | ip[14] << 8 | ip[15];
	v.dst = (uint32_t)ip[16] << 24 | ip[17] << 16 | ip[18] << 8 | ip[19];
	v.frag_off = (uint16_t)((ip[6] << 8 | ip[7]) & 0x1fff);
	v.avail = (tot < flen - 14 ? tot : flen - 14) - (ip[0] & 15) * 4;
	if (v.frag_off == 0 && v.avail >= 4) {
		v.sport = (uint16_t)(l4[0] << 8 | l4[1]);
		v.dport = (uint16_t)(l4[2] << 8 | l4[3]);
	} else if (v.frag_off == 0 && v.avail >= 2) {
		v.sport = (uint16_t)(l4[0] << 8 | l4[1]); /* ICMP */
	}
	if (v.frag_off == 0 && v.avail >= 14)
		v.tcp_flags = l4[13];
	return v;
}

static bool
in_prefix(uint32_t a, uint32_t net, uint8_t len)
{
	return len == 0 || ((a ^ net) >> (32 - len)) == 0;
}

static bool
ref_match(const struct tg_cfg_filter_rule *r, const struct view *v)
{
	if (!r->any_proto && r->proto != v->proto)
		return false;
	if (!in_prefix(v->src, r->src, r->src_len) ||
		!in_prefix(v->dst, r->dst, r->dst_len))
		return false;
	if (!(r->match & TG_CFG_FR_L4))
		return true;
	if (v->frag_off != 0) /* no L4 header to judge */
		return r->action == TG_CFG_FILTER_ALLOW;
	if ((r->match & TG_CFG_FR_SPORT) &&
		(v->sport < r->sport_lo || v->sport > r->sport_hi))
		return false;
	if ((r->match & TG_CFG_FR_DPORT) &&
		(v->dport < r->dport_lo || v->dport > r->dport_hi))
		return false;
	if ((r->match & TG_CFG_FR_ICMP_TYPE) && (v->sport >> 8) != r->icmp_type)
		return false;
	if ((r->match & TG_CFG_FR_ICMP_CODE) &&
		(v->sport & 0xff) != r->icmp_code)
		return false;
	if ((r->match & TG_CFG_FR_ESTABLISHED) && !(v->tcp_flags & (ACK | RST)))
		return false;
	return true;
}

/* The verdict of list @p fl (direction @p dir) for a frame, and the
 * deciding rule in @p rule. */
static uint16_t
ref_judge(const struct tg_cfg_filter_list *fl, uint8_t dir,
	const struct rte_mbuf *m, uint32_t *rule)
{
	struct view v = view_of(
		rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m));
	uint32_t i;

	*rule = NONE;
	if (v.frag_off == 0 && v.avail < (v.proto == 6		 ? 14
						 : v.proto == 17 ? 4
						 : v.proto == 1	 ? 2
								 : 0))
		return F_DROP(SHORT_L4);
	if (v.frag_off == 1 && v.proto == 6)
		return F_DROP(TCP_OVERLAP);
	for (i = 0; i < fl->n_rules; i++) {
		if (!ref_match(&fl->rules[i], &v))
			continue;
		*rule = i;
		if (fl->rules[i].action == TG_CFG_FILTER_ALLOW)
			return TG_V_NEXT;
		return dir == IN ? F_DROP(IN_DENIED) : F_DROP(OUT_DENIED);
	}
	if (fl->mode == TG_CFG_FILTER_DENY_LISTED)
		return TG_V_NEXT;
	return dir == IN ? F_DROP(IN_DEFAULT) : F_DROP(OUT_DEFAULT);
}

/* ---- config models ----------------------------------------------------- */

static struct tg_config *
cfg_new(void)
{
	struct tg_config *c = calloc(1, sizeof(*c));

	CU_ASSERT_FATAL(c != NULL);
	c->n_ports = 2;
	c->n_ifaces = 2;
	strcpy(c->ifaces[0].name, "lan0");
	c->ifaces[0].port = 0;
	strcpy(c->ifaces[1].name, "wan0");
	c->ifaces[1].port = 1;
	return c;
}

static void
cfg_free(struct tg_config *c)
{
	int i, d;

	for (i = 0; i < c->n_ifaces; i++)
		for (d = 0; d < TG_CFG_FILTER__DIRS; d++)
			free(c->ifaces[i].filters[d].rules);
	free(c);
}

/* Set interface @p i's list in direction @p d (a copy of @p r). */
static struct tg_cfg_filter_list *
list_set(struct tg_config *c, int i, int d, uint8_t mode,
	const struct tg_cfg_filter_rule *r, uint32_t n)
{
	struct tg_cfg_filter_list *fl = &c->ifaces[i].filters[d];

	free(fl->rules);
	fl->set = true;
	fl->mode = mode;
	fl->n_rules = n;
	fl->rules = malloc(sizeof(*r) * (n ? n : 1));
	CU_ASSERT_FATAL(fl->rules != NULL);
	if (n > 0)
		memcpy(fl->rules, r, sizeof(*r) * n);
	return fl;
}

static const uint16_t port_id[2] = {P_LAN, P_WAN};

static struct tg_filter_table *
build(const struct tg_config *c, uint16_t n_slots)
{
	struct tg_filter_table *ft = NULL;
	char err[256];
	int rc = tg_filter_build(
		c, port_id, 2, n_slots, 0, &ft, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "build: %d %s\n", rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return ft;
}

#define DENY_LISTED  TG_CFG_FILTER_DENY_LISTED
#define ALLOW_LISTED TG_CFG_FILTER_ALLOW_LISTED
/* RULE("name", ALLOW or DENY, conditions...), with a protocol: P(6) or
 * ANY */
#define RULE(nm, act, ...)                                                     \
	{                                                                      \
		.name = nm, .action = TG_CFG_FILTER_##act, __VA_ARGS__         \
	}
#define P(p)	      .proto = p
#define ANY	      .any_proto = true
#define DPORT(lo, hi) .match = TG_CFG_FR_DPORT, .dport_lo = lo, .dport_hi = hi
#define SRC(a, l)     .src = a, .src_len = l
#define DST(a, l)     .dst = a, .dst_len = l

/* ---- hand-made cases --------------------------------------------------- */

struct hcase {
	struct probe pr;
	uint8_t dir;
	uint16_t verdict;
	uint32_t rule;
};

/* The reference's verdict, rule and list for @p m in direction @p dir. */
static void
ref_of(const struct tg_filter_table *ft, const struct tg_config *c,
	struct rte_mbuf *m, uint8_t dir, uint16_t *v, uint32_t *r, uint16_t *l)
{
	uint16_t port = dir == IN ? tg_meta(m)->rx_if : tg_meta(m)->tx_if;
	int ifc = port == P_LAN ? 0 : 1;

	*v = TG_V_NEXT;
	*r = NONE;
	*l = TG_FILTER_NO_LIST;
	if ((port != P_LAN && port != P_WAN) ||
		!c->ifaces[ifc].filters[dir].set)
		return;
	*l = ft->list_of[dir][port];
	CU_ASSERT_FATAL(*l < ft->n_lists);
	CU_ASSERT(ft->lists[*l].iface == ifc && ft->lists[*l].dir == dir);
	*v = ref_judge(&c->ifaces[ifc].filters[dir], dir, m, r);
}

/* Each case through tg_filter_classify() and the reference of @p c. */
static void
run_cases(const struct tg_filter_table *ft, const struct tg_config *c,
	const struct hcase *hc, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkt(&hc[i].pr);
		uint16_t v, l, rv, rl;
		uint32_t r, rr;

		tg_filter_classify(ft, &m, 1, &hc[i].dir, &v, &l, &r);
		ref_of(ft, c, m, hc[i].dir, &rv, &rr, &rl);
		if (v != hc[i].verdict || r != hc[i].rule ||
			rv != hc[i].verdict || rr != hc[i].rule || l != rl) {
			fprintf(stderr,
				"case %zu: verdict %#x rule %d (want %#x %d; "
				"reference %#x %d), list %u want %u\n",
				i, v, (int)r, hc[i].verdict, (int)hc[i].rule,
				rv, (int)rr, l, rl);
			CU_FAIL("case");
		}
		rte_pktmbuf_free(m);
	}
}

/* The cases as one burst through tg_filter_burst_cached() with @p cache
 * (may be NULL) in slot 0: each verdict as given, and the given verdict
 * and rule the reference's. */
static void
run_cached(const struct tg_filter_table *ft, const struct tg_config *c,
	struct tg_filter_cache *cache, const struct hcase *hc, size_t n)
{
	struct rte_mbuf *m[16];
	uint16_t v[16], rv, rl;
	uint8_t d[16];
	uint32_t rr;
	size_t i;

	CU_ASSERT_FATAL(n <= 16);
	for (i = 0; i < n; i++) {
		m[i] = pkt(&hc[i].pr);
		d[i] = hc[i].dir;
	}
	tg_filter_burst_cached(ft, 0, cache, m, (uint16_t)n, d, v);
	for (i = 0; i < n; i++) {
		ref_of(ft, c, m[i], d[i], &rv, &rr, &rl);
		if (v[i] != hc[i].verdict || rv != hc[i].verdict ||
			rr != hc[i].rule) {
			fprintf(stderr,
				"cached case %zu: verdict %#x (want %#x %d; "
				"reference %#x %d)\n",
				i, v[i], hc[i].verdict, (int)hc[i].rule, rv,
				(int)rr);
			CU_FAIL("cached case");
		}
		rte_pktmbuf_free(m[i]);
	}
}

#define RUN(ft, c, ...)                                                        \
	do {                                                                   \
		const struct hcase hc_[] = {__VA_ARGS__};                      \
		run_cases(ft, c, hc_, RTE_DIM(hc_));                           \
	} while (0)
#define CRUN(ft, c, cache, ...)                                                \
	do {                                                                   \
		const struct hcase hc_[] = {__VA_ARGS__};                      \
		run_cached(ft, c, cache, hc_, RTE_DIM(hc_));                   \
	} while (0)
/* C(dir, verdict, rule, probe fields...) */
#define C(d, v, r, ...)                                                        \
	{                                                                      \
		{__VA_ARGS__}, d, v, r                                         \
	}
#define TCP(dp, fl) .proto = 6, .dport = dp, .flags = fl
#define UDP(dp)	    .proto = 17, .dport = dp
#define ICMP(t, c)  .proto = 1, .type = t, .code = c

static void
test_filter_invalid_input(void)
{
	const struct tg_cfg_filter_rule bad[] = {
		RULE("ports-any-proto", DENY, ANY, DPORT(1, 2)),
		RULE("code-no-type", DENY, P(1), .match = TG_CFG_FR_ICMP_CODE),
		RULE("est-udp", DENY, P(17), .match = TG_CFG_FR_ESTABLISHED),
		RULE("upside-down", DENY, P(6), DPORT(9, 8)),
		RULE("long-prefix", DENY, ANY, SRC(0, 33)),
	};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft = (void *)1;
	char err[256];
	size_t i;

	CU_ASSERT_EQUAL(
		tg_filter_build(NULL, port_id, 2, 1, 0, &ft, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(
		tg_filter_build(c, port_id, 2, 0, 0, &ft, err, sizeof(err)),
		-EINVAL);
	for (i = 0; i < RTE_DIM(bad); i++) {
		list_set(c, 1, OUT, DENY_LISTED, &bad[i], 1);
		CU_ASSERT_EQUAL(tg_filter_build(c, port_id, 2, 1, 0, &ft, err,
					sizeof(err)),
			-EINVAL);
		CU_ASSERT_PTR_NULL(ft);
		CU_ASSERT(strstr(err, bad[i].name) != NULL);
		CU_ASSERT(strstr(err, "wan0, outbound") != NULL);
	}
	list_set(c, 1, OUT, DENY_LISTED, NULL, 0);
	c->ifaces[1].port = 2; /* no such port */
	CU_ASSERT_EQUAL(
		tg_filter_build(c, port_id, 2, 1, 0, &ft, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT(strstr(err, "wan0") != NULL);
	tg_filter_table_free(NULL);
	cfg_free(c);
}

static void
test_filter_first_match_wins(void)
{
	const struct tg_cfg_filter_rule allow_first[] = {
		RULE("lan-web", ALLOW, P(6), DPORT(80, 80),
			SRC(IP4(10, 0, 0, 0), 8)),
		RULE("no-web", DENY, P(6), DPORT(80, 80)),
	};
	const struct tg_cfg_filter_rule deny_first[] = {
		RULE("bad-net", DENY, P(6), DPORT(80, 80),
			SRC(IP4(10, 9, 0, 0), 16)),
		RULE("web", ALLOW, P(6), DPORT(80, 80)),
		RULE("host", ALLOW, ANY, DST(IP4(10, 0, 0, 7), 32)),
	};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft;

	list_set(c, 0, IN, DENY_LISTED, allow_first, 2);
	list_set(c, 1, OUT, ALLOW_LISTED, deny_first, 3);
	ft = build(c, 1);
	CU_ASSERT(ft->enabled);
	CU_ASSERT_EQUAL(ft->n_lists, 2);
	RUN(ft, c, C(IN, TG_V_NEXT, 0, TCP(80, SYN), .src = IP4(10, 1, 2, 3)),
		C(IN, F_DROP(IN_DENIED), 1, TCP(80, SYN)),
		C(IN, TG_V_NEXT, NONE, TCP(81, SYN)),
		C(OUT, F_DROP(OUT_DENIED), 0, TCP(80, ACK),
			.src = IP4(10, 9, 8, 7)),
		C(OUT, TG_V_NEXT, 1, TCP(80, ACK), .src = IP4(10, 8, 8, 7)),
		C(OUT, F_DROP(OUT_DEFAULT), NONE, TCP(81, ACK)),
		C(OUT, TG_V_NEXT, 2, UDP(81), .dst = IP4(10, 0, 0, 7)),
		C(OUT, F_DROP(OUT_DEFAULT), NONE, UDP(81),
			.dst = IP4(10, 0, 0, 6)));
	tg_filter_table_free(ft);
	cfg_free(c);
}

static void
test_filter_established_and_icmp(void)
{
	const struct tg_cfg_filter_rule r[] = {
		RULE("est", ALLOW, P(6), .match = TG_CFG_FR_ESTABLISHED),
		RULE("frag-needed", DENY, P(1),
			.match = TG_CFG_FR_ICMP_TYPE | TG_CFG_FR_ICMP_CODE,
			.icmp_type = 3, .icmp_code = 4),
		RULE("unreach", ALLOW, P(1), .match = TG_CFG_FR_ICMP_TYPE,
			.icmp_type = 3),
		RULE("icmp", DENY, P(1)),
	};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft;

	list_set(c, 0, IN, ALLOW_LISTED, r, RTE_DIM(r));
	ft = build(c, 1);
	RUN(ft, c, C(IN, TG_V_NEXT, 0, TCP(80, ACK)),
		C(IN, TG_V_NEXT, 0, TCP(80, RST)),
		C(IN, TG_V_NEXT, 0, TCP(80, SYN | ACK)),
		C(IN, TG_V_NEXT, 0, TCP(80, RST | ACK | FIN)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, SYN)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, FIN)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, 0xff & ~(ACK | RST))),
		C(IN, F_DROP(IN_DEFAULT), NONE, UDP(80)),
		C(IN, F_DROP(IN_DENIED), 1, ICMP(3, 4)),
		C(IN, TG_V_NEXT, 2, ICMP(3, 0)),
		C(IN, TG_V_NEXT, 2, ICMP(3, 3)),
		C(IN, TG_V_NEXT, 2, ICMP(3, 5)),
		C(IN, TG_V_NEXT, 2, ICMP(3, 255)),
		C(IN, F_DROP(IN_DENIED), 3, ICMP(4, 0)),
		C(IN, F_DROP(IN_DENIED), 3, ICMP(2, 255)),
		C(IN, F_DROP(IN_DENIED), 3, ICMP(8, 0)),
		/* a later fragment of an established segment: by rule 0 */
		C(IN, TG_V_NEXT, 0, TCP(80, SYN), .frag = 100),
		/* its later fragments are left to the rules after the
		 * deny, and pass by the next allow of type 3 */
		C(IN, TG_V_NEXT, 2, ICMP(3, 4), .frag = 3));
	tg_filter_table_free(ft);
	cfg_free(c);
}

static void
test_filter_port_range_edges(void)
{
	const struct tg_cfg_filter_rule r[] = {
		RULE("mid", DENY, P(6), DPORT(1000, 2000)),
		RULE("zero", DENY, P(17), .match = TG_CFG_FR_SPORT,
			.sport_lo = 0, .sport_hi = 0),
		RULE("top", DENY, P(17), DPORT(65535, 65535)),
		RULE("all", DENY, P(6), .match = TG_CFG_FR_SPORT, .sport_lo = 0,
			.sport_hi = 65535, SRC(IP4(10, 0, 0, 0), 8)),
	};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft;

	list_set(c, 1, OUT, DENY_LISTED, r, RTE_DIM(r));
	ft = build(c, 1);
	RUN(ft, c, C(OUT, TG_V_NEXT, NONE, TCP(999, 0), .sport = 1),
		C(OUT, F_DROP(OUT_DENIED), 0, TCP(1000, 0), .sport = 1),
		C(OUT, F_DROP(OUT_DENIED), 0, TCP(1500, 0)),
		C(OUT, F_DROP(OUT_DENIED), 0, TCP(2000, 0)),
		C(OUT, TG_V_NEXT, NONE, TCP(2001, 0)),
		C(OUT, TG_V_NEXT, NONE, TCP(0, 0)),
		C(OUT, TG_V_NEXT, NONE, TCP(65535, 0)),
		C(OUT, F_DROP(OUT_DENIED), 1, UDP(7), .sport = 0),
		C(OUT, TG_V_NEXT, NONE, UDP(7), .sport = 1),
		C(OUT, F_DROP(OUT_DENIED), 2, UDP(65535), .sport = 9),
		C(OUT, TG_V_NEXT, NONE, UDP(65534), .sport = 9),
		C(OUT, TG_V_NEXT, NONE, UDP(65535), .sport = 9, .frag = 5),
		C(OUT, F_DROP(OUT_DENIED), 3, TCP(1, 0), .sport = 65535,
			.src = IP4(10, 1, 1, 1)),
		C(OUT, F_DROP(OUT_DENIED), 3, TCP(1, 0), .sport = 0,
			.src = IP4(10, 1, 1, 1)));
	tg_filter_table_free(ft);
	cfg_free(c);
}

/* No list: every packet passes. The inbound list by rx_if, the outbound
 * one by tx_if; an empty allow-listed list drops everything under
 * *.default. */
static void
test_filter_directions_and_empty_lists(void)
{
	const struct tg_cfg_filter_rule in[] = {
		RULE("no-telnet", DENY, P(6), DPORT(23, 23))};
	const struct tg_cfg_filter_rule out[] = {
		RULE("web", ALLOW, P(6), DPORT(80, 80))};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft = build(c, 2);

	/* no list anywhere: the stage has no work, every packet passes */
	CU_ASSERT_FALSE(ft->enabled);
	CU_ASSERT_EQUAL(ft->n_lists, 0);
	RUN(ft, c, C(IN, TG_V_NEXT, NONE, TCP(80, SYN)),
		C(OUT, TG_V_NEXT, NONE, .proto = 6, .exact = true));
	tg_filter_table_free(ft);
	list_set(c, 0, IN, DENY_LISTED, in, 1);
	list_set(c, 1, OUT, ALLOW_LISTED, out, 1);
	ft = build(c, 1);
	RUN(ft, c, C(IN, F_DROP(IN_DENIED), 0, TCP(23, SYN)),
		C(OUT, F_DROP(OUT_DEFAULT), NONE, TCP(23, SYN)),
		C(IN, TG_V_NEXT, NONE, TCP(80, SYN)),
		C(OUT, TG_V_NEXT, 0, TCP(80, SYN)),
		/* from wan0 to lan0: neither list applies */
		C(IN, TG_V_NEXT, NONE, TCP(23, SYN), .rx = P_WAN, .tx = P_LAN),
		C(OUT, TG_V_NEXT, NONE, TCP(23, SYN), .rx = P_WAN, .tx = P_LAN),
		/* not classified: no list, no drop for a short header */
		C(OUT, TG_V_NEXT, NONE, .proto = 6, .exact = true,
			.tx = TG_IF_NONE));
	tg_filter_table_free(ft);
	list_set(c, 0, IN, ALLOW_LISTED, NULL, 0);
	list_set(c, 0, OUT, ALLOW_LISTED, NULL, 0);
	list_set(c, 1, OUT, DENY_LISTED, NULL, 0);
	ft = build(c, 1);
	CU_ASSERT(ft->enabled);
	CU_ASSERT_EQUAL(ft->n_lists, 3);
	CU_ASSERT_PTR_NULL(ft->lists[0].acl);
	RUN(ft, c, C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, ACK)),
		C(IN, F_DROP(IN_DEFAULT), NONE, ICMP(0, 0)),
		C(OUT, F_DROP(OUT_DEFAULT), NONE, UDP(53), .tx = P_LAN),
		C(OUT, TG_V_NEXT, NONE, UDP(53)));
	tg_filter_table_free(ft);
	cfg_free(c);
}

static void
test_filter_fragments_and_short_headers(void)
{
	const struct tg_cfg_filter_rule r[] = {
		RULE("web", ALLOW, P(6), DPORT(80, 80),
			DST(IP4(10, 0, 0, 1), 32)),
		RULE("no-dns", DENY, P(17), DPORT(53, 53)),
		RULE("udp", ALLOW, P(17), SRC(IP4(192, 168, 1, 0), 24)),
	};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft;
	struct tg_acl_key k;
	struct rte_mbuf *m;
	uint8_t *ip;

	list_set(c, 0, IN, ALLOW_LISTED, r, RTE_DIM(r));
	ft = build(c, 1);
	RUN(ft, c,
		/* later fragments: the allow-port rule passes them, the
		 * deny-port rule leaves them to the rules after it */
		C(IN, TG_V_NEXT, 0, TCP(22, SYN), .frag = 185),
		C(IN, TG_V_NEXT, 0, TCP(22, SYN), .frag = 2 | MF),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, SYN), .frag = 185,
			.dst = IP4(10, 0, 0, 2)),
		C(IN, TG_V_NEXT, 2, UDP(53), .frag = 185),
		C(IN, TG_V_NEXT, 2, UDP(53), .frag = 1),
		C(IN, F_DROP(IN_DEFAULT), NONE, UDP(53), .frag = 185,
			.src = IP4(192, 168, 2, 1)),
		C(IN, F_DROP(IN_DENIED), 1, UDP(53), .frag = MF),
		C(IN, TG_V_NEXT, 0, .proto = 6, .frag = 185, .exact = true),
		/* RFC 1858 */
		C(IN, F_DROP(TCP_OVERLAP), NONE, TCP(80, ACK), .frag = 1),
		C(IN, F_DROP(TCP_OVERLAP), NONE, TCP(80, ACK), .frag = 1 | MF),
		C(IN, TG_V_NEXT, 0, TCP(80, ACK), .frag = 2),
		C(IN, F_DROP(SHORT_L4), NONE, TCP(80, ACK), .l4len = 13,
			.exact = true),
		C(IN, F_DROP(SHORT_L4), NONE, TCP(80, ACK), .l4len = 8,
			.exact = true, .frag = MF),
		C(IN, TG_V_NEXT, 0, TCP(80, ACK), .l4len = 14, .exact = true),
		C(IN, F_DROP(SHORT_L4), NONE, UDP(53), .l4len = 3,
			.exact = true),
		C(IN, F_DROP(IN_DENIED), 1, UDP(53), .l4len = 4, .exact = true),
		C(IN, F_DROP(SHORT_L4), NONE, ICMP(8, 0), .l4len = 1,
			.exact = true),
		C(IN, F_DROP(IN_DEFAULT), NONE, ICMP(8, 0), .l4len = 2,
			.exact = true),
		C(IN, F_DROP(IN_DEFAULT), NONE, .proto = 47, .exact = true),
		C(IN, TG_V_NEXT, NONE, TCP(80, ACK), .l4len = 13, .exact = true,
			.rx = P_WAN));
	/* a frame longer than its IP total length (generated packets are
	 * not trimmed): the L4 header counts within the total length */
	m = pkt(&(const struct probe){TCP(80, ACK)});
	CU_ASSERT_EQUAL(tg_filter_key_make(m, &k), 0);
	CU_ASSERT(k.proto == 6 && k.flags == ACK &&
		  tg_be16_to_cpu(k.dport) == 80);
	ip = rte_pktmbuf_mtod_offset(m, uint8_t *, 14);
	tg_test_put16(
		ip + 2, 20 + 13); /* the frame still holds 20 bytes of TCP */
	CU_ASSERT_EQUAL(tg_filter_key_make(m, &k), F_DROP(SHORT_L4));
	tg_test_put16(ip + 2, 20 + 14);
	CU_ASSERT_EQUAL(tg_filter_key_make(m, &k), 0);
	rte_pktmbuf_free(m);
	tg_filter_table_free(ft);
	cfg_free(c);
}

/* ---- hit counters ------------------------------------------------------ */

/* @p n packets like @p pr through tg_filter_burst() in @p slot; each must
 * get @p want. */
static void
send_n(const struct tg_filter_table *ft, uint16_t slot, uint8_t dir,
	const struct probe *pr, int n, uint16_t want)
{
	struct rte_mbuf *m[16];
	uint16_t v[16];
	uint8_t d[16];
	int i;

	CU_ASSERT_FATAL(n <= 16);
	for (i = 0; i < n; i++) {
		m[i] = pkt(pr);
		d[i] = dir;
	}
	tg_filter_burst(ft, slot, m, (uint16_t)n, d, v);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(v[i], want);
		rte_pktmbuf_free(m[i]);
	}
}

#define SEND(ft, slot, dir, n, want, ...)                                      \
	send_n(ft, slot, dir, &(const struct probe){__VA_ARGS__}, n, want)

static const struct tg_cfg_filter_rule lan_in[] = {
	RULE("ssh", ALLOW, P(6), DPORT(22, 22)),
	RULE("telnet", DENY, P(6), DPORT(23, 23)),
	RULE("dns", DENY, P(17), DPORT(53, 53)),
	RULE("icmp", ALLOW, P(1)),
};
static const struct tg_cfg_filter_rule wan_out[] = {
	RULE("web", ALLOW, P(6), DPORT(80, 80)),
};

/* Counts per rule and no match in two slots; then a reload keeps the
 * counts of rules with the same name and definition, wherever they
 * moved, and the no-match count while the mode stays. */
static void
test_filter_hit_counters_and_carry(void)
{
	struct tg_cfg_filter_rule lan2[] = {
		lan_in[2], /* moved */
		lan_in[0], /* renamed below */
		lan_in[1], /* port changed below */
		lan_in[3], /* kept */
		RULE("new", DENY, P(17)),
	};
	struct tg_config *c = cfg_new(), *c2 = cfg_new();
	struct tg_filter_table *ft, *ft2, *ft3;
	uint16_t lan, wan;

	list_set(c, 0, IN, DENY_LISTED, lan_in, RTE_DIM(lan_in));
	list_set(c, 1, OUT, ALLOW_LISTED, wan_out, RTE_DIM(wan_out));
	ft = build(c, 2);
	lan = ft->list_of[IN][P_LAN];
	wan = ft->list_of[OUT][P_WAN];
	CU_ASSERT_FATAL(lan < 2 && wan < 2 && lan != wan);
	CU_ASSERT_EQUAL(ft->slot_stride % 8, 0);
	CU_ASSERT(ft->slot_stride >= 4 + 1 + 1 + 1);
	SEND(ft, 0, IN, 3, TG_V_NEXT, TCP(22, SYN));
	SEND(ft, 0, IN, 2, F_DROP(IN_DENIED), TCP(23, SYN));
	SEND(ft, 0, IN, 1, F_DROP(IN_DENIED), UDP(53));
	SEND(ft, 0, IN, 4, TG_V_NEXT, UDP(54));
	/* drops before the rules and packets without a list: no count */
	SEND(ft, 0, IN, 1, F_DROP(SHORT_L4), .proto = 6, .exact = true);
	SEND(ft, 0, IN, 1, F_DROP(TCP_OVERLAP), TCP(22, SYN), .frag = 1);
	SEND(ft, 0, IN, 2, TG_V_NEXT, TCP(23, SYN), .rx = P_WAN);
	SEND(ft, 1, IN, 1, TG_V_NEXT, TCP(22, SYN));
	SEND(ft, 1, IN, 5, TG_V_NEXT, ICMP(8, 0));
	SEND(ft, 1, IN, 2, TG_V_NEXT, UDP(54));
	SEND(ft, 0, OUT, 2, TG_V_NEXT, TCP(80, SYN));
	SEND(ft, 1, OUT, 1, F_DROP(OUT_DEFAULT), TCP(81, SYN));
	CU_ASSERT_EQUAL(ft->hits[ft->lists[lan].hits_off + 0], 3);
	CU_ASSERT_EQUAL(ft->hits[ft->slot_stride + ft->lists[lan].hits_off], 1);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 0), 4);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 1), 2);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 2), 1);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 3), 5);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 4), 6); /* no match */
	CU_ASSERT_EQUAL(tg_filter_hits(ft, lan, 5), 0); /* out of range */
	CU_ASSERT_EQUAL(tg_filter_hits(ft, wan, 0), 2);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, wan, 1), 1);
	CU_ASSERT_EQUAL(tg_filter_hits(ft, 2, 0), 0);
	strcpy(lan2[1].name, "ssh2");
	lan2[2].dport_lo = lan2[2].dport_hi = 24;
	list_set(c2, 0, IN, DENY_LISTED, lan2, RTE_DIM(lan2));
	list_set(c2, 1, OUT, DENY_LISTED, wan_out, RTE_DIM(wan_out));
	/* the same names on lan0's outbound list: another list */
	list_set(c2, 0, OUT, DENY_LISTED, lan_in, RTE_DIM(lan_in));
	ft2 = build(c2, 2);
	tg_filter_carry_hits(ft2, ft);
	lan = ft2->list_of[IN][P_LAN];
	wan = ft2->list_of[OUT][P_WAN];
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 0), 1); /* dns, moved */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 1), 0); /* ssh renamed */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 2), 0); /* telnet changed */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 3), 5); /* icmp kept */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 4), 0); /* new */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 5), 6); /* no match */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, wan, 0), 2);
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, wan, 1), 0); /* mode changed */
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, ft2->list_of[OUT][P_LAN], 0), 0);
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, ft2->list_of[OUT][P_LAN], 4), 0);
	/* counting goes on, and carries on through the next reload */
	SEND(ft2, 1, IN, 1, TG_V_NEXT, ICMP(0, 0));
	CU_ASSERT_EQUAL(tg_filter_hits(ft2, lan, 3), 6);
	tg_filter_table_free(ft);
	ft3 = build(c2, 1);
	tg_filter_carry_hits(ft3, ft2);
	CU_ASSERT_EQUAL(tg_filter_hits(ft3, lan, 3), 6);
	CU_ASSERT_EQUAL(tg_filter_hits(ft3, lan, 0), 1);
	CU_ASSERT_EQUAL(tg_filter_hits(ft3, lan, 5), 6);
	CU_ASSERT_EQUAL(tg_filter_hits(ft3, wan, 0), 2);
	tg_filter_table_free(ft2);
	tg_filter_table_free(ft3);
	cfg_free(c);
	cfg_free(c2);
}

/* ---- random rules and packets ------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

#define RND(n) (rnd() % (n))

/* the networks rules and packets are drawn near, the ports they like */
static const uint32_t nets[] = {IP4(10, 0, 0, 0), IP4(10, 1, 0, 0),
	IP4(10, 1, 2, 0), IP4(172, 16, 0, 0), IP4(192, 168, 1, 0),
	IP4(192, 168, 7, 0), IP4(100, 64, 0, 0), IP4(8, 8, 8, 0)};
static const uint16_t some_ports[] = {
	0, 1, 22, 23, 53, 80, 443, 1023, 1024, 8080, 32768, 65534, 65535};

static uint32_t
mask_of(uint8_t len)
{
	return len ? UINT32_MAX << (32 - len) : 0;
}

/* mostly long prefixes in 8 × 64 /24s: rules that shadow each other now
 * and then, not always */
static void
rnd_prefix(uint32_t *a, uint8_t *len)
{
	static const uint8_t lens[] = {
		0, 8, 16, 20, 24, 24, 24, 28, 28, 32, 32, 32};

	*len = lens[RND(RTE_DIM(lens))];
	*a = ((nets[RND(RTE_DIM(nets))] + (RND(64) << 8)) | RND(256)) &
	     mask_of(*len);
}

static uint16_t
rnd_port(void)
{
	return RND(2) ? some_ports[RND(RTE_DIM(some_ports))] : (uint16_t)rnd();
}

static void
rnd_range(uint16_t *lo, uint16_t *hi)
{
	uint16_t a = rnd_port(), b = rnd_port();

	switch (RND(4)) {
	case 0:
		*lo = *hi = a;
		break;
	case 1:
		*lo = a;
		*hi = (uint16_t)RTE_MIN(65535u, a + RND(100));
		break;
	case 2:
		*lo = RTE_MIN(a, b);
		*hi = RTE_MAX(a, b);
		break;
	default:
		*lo = RND(2) ? 1024 : 0;
		*hi = *lo ? 65535 : 1023;
	}
}

static void
rnd_rule(struct tg_cfg_filter_rule *r, uint32_t i)
{
	static const uint8_t types[] = {0, 3, 8, 11};
	uint32_t k = RND(20);

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "r%u", i);
	r->action = (uint8_t)RND(2);
	r->any_proto = k < 2;
	r->proto = k < 11 ? 6 : k < 16 ? 17 : k < 19 ? 1 : 47;
	rnd_prefix(&r->src, &r->src_len);
	rnd_prefix(&r->dst, &r->dst_len);
	if (!r->any_proto && (r->proto == 6 || r->proto == 17)) {
		if (RND(3) == 0) {
			r->match |= TG_CFG_FR_SPORT;
			rnd_range(&r->sport_lo, &r->sport_hi);
		}
		if (RND(3) != 0) {
			r->match |= TG_CFG_FR_DPORT;
			rnd_range(&r->dport_lo, &r->dport_hi);
		}
		if (r->proto == 6 && RND(5) == 0)
			r->match |= TG_CFG_FR_ESTABLISHED;
	}
	if (!r->any_proto && r->proto == 1 && RND(3) != 0) {
		r->match |= TG_CFG_FR_ICMP_TYPE;
		r->icmp_type = RND(5) ? types[RND(4)] : (uint8_t)rnd();
		if (RND(2)) {
			r->match |= TG_CFG_FR_ICMP_CODE;
			r->icmp_code = (uint8_t)RND(5);
		}
	}
}

/* a value at or around [lo, hi] (mostly in it), or anything */
static uint16_t
near(uint16_t lo, uint16_t hi)
{
	switch (RND(8)) {
	case 0:
		return lo;
	case 1:
		return hi;
	case 2:
		return (uint16_t)(lo - 1);
	case 3:
		return (uint16_t)(hi + 1);
	case 4:
		return rnd_port();
	default:
		return (uint16_t)(lo + RND(hi - lo + 1u));
	}
}

static uint32_t
addr_near(uint32_t net, uint8_t len)
{
	if (len == 0 || RND(10) == 0)
		return nets[RND(RTE_DIM(nets))] | (rnd() & 0xffff);
	return (net & mask_of(len)) | (rnd() & ~mask_of(len));
}

/* A packet near rule @p t (any when NULL), received on @p rx and leaving
 * by @p tx. */
static struct rte_mbuf *
rnd_pkt(const struct tg_cfg_filter_rule *t, uint16_t rx, uint16_t tx)
{
	static const uint8_t protos[] = {6, 17, 1, 47, 50};
	static const uint8_t flags[] = {SYN, SYN | ACK, ACK, RST, FIN | ACK};
	static const uint16_t need[] = {[1] = 2, [6] = 14, [17] = 4};
	struct tg_cfg_filter_rule any = {.any_proto = true};
	struct probe pr = {.rx = rx, .tx = tx};
	uint32_t k = RND(100);

	if (t == NULL || RND(8) == 0)
		t = &any;
	pr.proto = t->any_proto || RND(10) == 0 ? protos[RND(5)] : t->proto;
	pr.src = addr_near(t->src, t->src_len);
	pr.dst = addr_near(t->dst, t->dst_len);
	pr.sport = t->match & TG_CFG_FR_SPORT ? near(t->sport_lo, t->sport_hi)
					      : rnd_port();
	pr.dport = t->match & TG_CFG_FR_DPORT ? near(t->dport_lo, t->dport_hi)
					      : rnd_port();
	pr.type = t->match & TG_CFG_FR_ICMP_TYPE && RND(4)
			  ? (uint8_t)(t->icmp_type + RND(2))
			  : (uint8_t)RND(16);
	pr.code = t->match & TG_CFG_FR_ICMP_CODE && RND(4)
			  ? (uint8_t)(t->icmp_code + RND(2))
			  : (uint8_t)RND(6);
	pr.flags = RND(6) ? flags[RND(RTE_DIM(flags))] : (uint8_t)rnd();
	if (k < 8) /* later fragments, TCP overlaps, first fragments */
		pr.frag = (uint16_t)(2 + RND(500)) | (RND(2) ? MF : 0);
	else if (k < 11)
		pr.frag = 1 | (RND(2) ? MF : 0);
	else if (k < 16)
		pr.frag = MF;
	if (RND(100) < 5 && pr.proto < RTE_DIM(need) && need[pr.proto]) {
		pr.exact = true; /* a short L4 header */
		pr.l4len = (uint16_t)RND(need[pr.proto]);
	}
	return pkt(&pr);
}

/* A packet near a rule of interface @p i's list in direction @p d (if
 * set), that this list applies to (one in ten: maybe not). */
static struct rte_mbuf *
rnd_pkt_for(const struct tg_config *c, int i, uint8_t d)
{
	const struct tg_cfg_filter_list *fl = &c->ifaces[i].filters[d];
	uint16_t port = i ? P_WAN : P_LAN, other = RND(2) ? P_LAN : P_WAN;

	if (RND(10) == 0)
		port = RND(2) ? P_LAN : P_WAN;
	return rnd_pkt(fl->n_rules ? &fl->rules[RND(fl->n_rules)] : NULL,
		d == IN ? port : other, d == OUT ? port : other);
}

#define N_RANDOM 4000

static const struct {
	enum rte_acl_classify_alg alg;
	const char *name;
} algs[] = {
	{RTE_ACL_CLASSIFY_SCALAR, "scalar"},
	{RTE_ACL_CLASSIFY_SSE, "sse"},
	{RTE_ACL_CLASSIFY_AVX2, "avx2"},
	{RTE_ACL_CLASSIFY_AVX512X16, "avx512x16"},
	{RTE_ACL_CLASSIFY_AVX512X32, "avx512x32"},
};

/* N_RANDOM packets near the rules of @p c: tg_filter_classify() with
 * every classify method the machine has, and tg_filter_burst() with its
 * counters, against the reference. */
static void
compare_random(const struct tg_config *c, const char *what)
{
	static struct rte_mbuf *m[N_RANDOM];
	static uint16_t rv[N_RANDOM], rl[N_RANDOM], v[N_RANDOM], l[N_RANDOM];
	static uint32_t rr[N_RANDOM], r[N_RANDOM];
	static uint8_t dir[N_RANDOM];
	struct tg_filter_table *ft = build(c, 2);
	uint64_t *want = calloc(ft->slot_stride, sizeof(*want));
	uint32_t i, a, bad = 0, judged = 0, matched = 0, nonfirst = 0;
	uint32_t deny = 0, pre = 0, methods = 0, rules = 0, distinct = 0;
	uint16_t li;

	CU_ASSERT_FATAL(want != NULL);
	for (i = 0; i < N_RANDOM; i++) {
		dir[i] = (uint8_t)RND(2);
		m[i] = rnd_pkt_for(c, (int)RND(2), dir[i]);
		ref_of(ft, c, m[i], dir[i], &rv[i], &rr[i], &rl[i]);
		if (rl[i] == TG_FILTER_NO_LIST)
			continue;
		if (rv[i] == F_DROP(SHORT_L4) || rv[i] == F_DROP(TCP_OVERLAP)) {
			pre++;
			continue;
		}
		judged++;
		matched += rr[i] != NONE;
		deny += rr[i] != NONE && TG_V_IS_DROP(rv[i]);
		nonfirst +=
			rr[i] != NONE &&
			(tg_be16_to_cpu(tg_pkt_ipv4(m[i])->fragment_offset) &
				0x1fff) != 0;
		want[ft->lists[rl[i]].hits_off +
			RTE_MIN(rr[i], ft->lists[rl[i]].n_rules)]++;
	}
	for (a = 0; a < RTE_DIM(algs); a++) {
		for (li = 0; li < ft->n_lists; li++)
			if ((ft->lists[li].acl != NULL &&
				    rte_acl_set_ctx_classify(ft->lists[li].acl,
					    algs[a].alg) != 0) ||
				(ft->lists[li].acl_frag != NULL &&
					rte_acl_set_ctx_classify(
						ft->lists[li].acl_frag,
						algs[a].alg) != 0))
				break;
		if (li < ft->n_lists)
			continue;
		methods++;
		/* bursts of 100: more than one chunk */
		for (i = 0; i < N_RANDOM; i += 100)
			tg_filter_classify(
				ft, m + i, 100, dir + i, v + i, l + i, r + i);
		for (i = 0; i < N_RANDOM; i++) {
			if (v[i] == rv[i] && r[i] == rr[i] && l[i] == rl[i])
				continue;
			if (bad++ < 10)
				fprintf(stderr,
					"%s, %s, packet %u: verdict %#x rule "
					"%d list %u, reference %#x %d %u\n",
					what, algs[a].name, i, v[i], (int)r[i],
					l[i], rv[i], (int)rr[i], rl[i]);
		}
	}
	/* the stage's burst, in bursts of 32 over two slots */
	for (i = 0; i < N_RANDOM; i += 32)
		tg_filter_burst(
			ft, (uint16_t)(i / 32 % 2), m + i, 32, dir + i, v + i);
	for (i = 0; i < N_RANDOM; i++)
		bad += v[i] != rv[i];
	for (li = 0; li < ft->n_lists; li++) {
		const struct tg_filter_list *fl = &ft->lists[li];

		for (i = 0; i <= fl->n_rules; i++) {
			bad += tg_filter_hits(ft, li, i) !=
			       want[fl->hits_off + i];
			distinct += i < fl->n_rules && want[fl->hits_off + i];
		}
		rules += fl->n_rules;
	}
	printf("\n    %s: %u packets, %u judged, %u matched a rule (%u deny, "
	       "%u later fragments; %u rules decided), %u dropped before "
	       "the rules; %u methods",
		what, N_RANDOM, judged, matched, deny, nonfirst, distinct, pre,
		methods);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(methods >= 2);
	/* not a trivial pass: many packets meet a rule, many rules decide */
	CU_ASSERT(matched * 10 >= judged * 3);
	CU_ASSERT(deny * 10 >= matched);
	CU_ASSERT(distinct * 20 >= RTE_MIN(rules, 4000u));
	CU_ASSERT(nonfirst > 0 && pre > 0);
	for (i = 0; i < N_RANDOM; i++)
		rte_pktmbuf_free(m[i]);
	free(want);
	tg_filter_table_free(ft);
}

/* Random rules for interface @p i, direction @p d; @p est false: none
 * with established. */
static void
rnd_list_est(
	struct tg_config *c, int i, int d, uint8_t mode, uint32_t n, bool est)
{
	struct tg_cfg_filter_rule *r = malloc(sizeof(*r) * n);
	uint32_t k;

	CU_ASSERT_FATAL(r != NULL);
	for (k = 0; k < n; k++) {
		rnd_rule(&r[k], k);
		if (!est)
			r[k].match &= (uint8_t)~TG_CFG_FR_ESTABLISHED;
	}
	list_set(c, i, d, mode, r, n);
	free(r);
}

static void
rnd_list(struct tg_config *c, int i, int d, uint8_t mode, uint32_t n)
{
	rnd_list_est(c, i, d, mode, n, true);
}

/* A few hundred packets near the rules of a config, in random directions,
 * each sent many times through a decision cache; the reference's answers
 * for one table (pool_ref()). */
#define N_POOL 300

struct pool {
	struct rte_mbuf *m[N_POOL];
	uint8_t dir[N_POOL];
	uint16_t v[N_POOL], l[N_POOL];
	uint32_t r[N_POOL];
	bool judged[N_POOL]; /* by a list's rules: looked up in the cache */
};

static void
pool_ref(struct pool *p, const struct tg_filter_table *ft,
	const struct tg_config *c)
{
	uint32_t i;

	for (i = 0; i < N_POOL; i++) {
		ref_of(ft, c, p->m[i], p->dir[i], &p->v[i], &p->r[i], &p->l[i]);
		p->judged[i] = p->l[i] != TG_FILTER_NO_LIST &&
			       p->v[i] != F_DROP(SHORT_L4) &&
			       p->v[i] != F_DROP(TCP_OVERLAP);
	}
}

static void
pool_make(struct pool *p, const struct tg_config *c)
{
	uint32_t i;

	for (i = 0; i < N_POOL; i++) {
		p->dir[i] = (uint8_t)RND(2);
		p->m[i] = rnd_pkt_for(c, (int)RND(2), p->dir[i]);
	}
}

static void
pool_free(struct pool *p)
{
	uint32_t i;

	for (i = 0; i < N_POOL; i++)
		rte_pktmbuf_free(p->m[i]);
}

/* Pool indexes: @p n draws, each packet once in a random order
 * (@p once), else with repeats and one in three from the first 8
 * packets (a few hot flows among many). */
static void
pool_draw(uint16_t *at, uint32_t n, bool once)
{
	uint32_t i, j;
	uint16_t t;

	for (i = 0; i < n; i++)
		at[i] = (uint16_t)(once		 ? i
				   : RND(3) == 0 ? RND(8)
						 : RND(N_POOL));
	for (i = n - 1; once && i > 0; i--) {
		j = RND(i + 1);
		t = at[i];
		at[i] = at[j];
		at[j] = t;
	}
}

/* Pool packets @p at[0..n) in bursts of 1..64 (one in eight 65..100: two
 * chunks) through tg_filter_burst_cached() with @p cache in @p slot, and
 * the same bursts through tg_filter_burst() of @p ftr (if not NULL).
 * Returns how many verdicts differ from the reference or from @p ftr's. */
static uint32_t
pool_send(const struct tg_filter_table *ft, const struct tg_filter_table *ftr,
	struct tg_filter_cache *cache, uint16_t slot, const struct pool *p,
	const uint16_t *at, uint32_t n)
{
	struct rte_mbuf *m[100];
	uint16_t v[100], vr[100];
	uint8_t d[100];
	uint32_t i, k, b, bad = 0;

	for (i = 0; i < n; i += b) {
		b = RTE_MIN(RND(8) ? 1 + RND(64) : 65 + RND(36), n - i);
		for (k = 0; k < b; k++) {
			m[k] = p->m[at[i + k]];
			d[k] = p->dir[at[i + k]];
		}
		tg_filter_burst_cached(ft, slot, cache, m, (uint16_t)b, d, v);
		if (ftr != NULL)
			tg_filter_burst(ftr, slot, m, (uint16_t)b, d, vr);
		for (k = 0; k < b; k++) {
			uint16_t j = at[i + k];

			if (v[k] == p->v[j] && (ftr == NULL || vr[k] == v[k]))
				continue;
			if (bad++ < 10)
				fprintf(stderr,
					"pool packet %u: verdict %#x (without "
					"cache %#x), reference %#x rule %d "
					"list %u\n",
					j, v[k], ftr != NULL ? vr[k] : v[k],
					p->v[j], (int)p->r[j], p->l[j]);
		}
	}
	return bad;
}

static void
test_filter_random_against_reference(void)
{
	static const uint32_t sizes[] = {10, 1000, 3000};
	char what[64];
	size_t s;
	int mode;

	for (s = 0; s < RTE_DIM(sizes); s++) {
		for (mode = 0; mode < 2; mode++) {
			struct tg_config *c = cfg_new();

			rnd_list(c, 0, IN, (uint8_t)mode, sizes[s]);
			rnd_list(c, 1, OUT, (uint8_t)!mode, sizes[s]);
			rnd_list(c, 0, OUT, (uint8_t)mode, sizes[s] / 10);
			snprintf(what, sizeof(what), "%u rules, lan0 in %s",
				sizes[s],
				mode ? "allow-listed" : "deny-listed");
			compare_random(c, what);
			cfg_free(c);
		}
	}
	printf("\n  ");
}

/* Each list of @p ft against its rules in @p c: the key bytes (17 with
 * an established rule, else 13), the ACL rules of both contexts, and
 * which acl_frag it has. Returns how many lists have 13-byte keys. */
static uint32_t
check_lists(const struct tg_filter_table *ft, const struct tg_config *c)
{
	uint32_t narrow = 0, i;
	uint16_t li;

	for (li = 0; li < ft->n_lists; li++) {
		const struct tg_filter_list *fl = &ft->lists[li];
		const struct tg_cfg_filter_list *cl =
			&c->ifaces[fl->iface].filters[fl->dir];
		uint32_t est = 0, l4 = 0, frag = 0;

		for (i = 0; i < cl->n_rules; i++) {
			const struct tg_cfg_filter_rule *r = &cl->rules[i];

			est += (r->match & TG_CFG_FR_ESTABLISHED) != 0;
			l4 += (r->match & TG_CFG_FR_L4) != 0;
			frag += !(r->match & TG_CFG_FR_L4) ||
				r->action == TG_CFG_FILTER_ALLOW;
		}
		CU_ASSERT_EQUAL(fl->key_bytes, est ? 17 : 13);
		CU_ASSERT_EQUAL(fl->n_acl_rules, cl->n_rules + est);
		CU_ASSERT_EQUAL(fl->n_acl_frag_rules, frag);
		/* none, the same rules as acl, or a context of its own */
		CU_ASSERT(frag == 0 ? fl->acl_frag == NULL
			  : l4 == 0 ? fl->acl_frag == fl->acl
				    : fl->acl_frag != NULL &&
					      fl->acl_frag != fl->acl);
		narrow += fl->key_bytes == 13;
	}
	return narrow;
}

/* Lists without established (13-byte keys) next to one with it (17);
 * lists whose later fragments no rule can match (no acl_frag) and whose
 * rules have no L4 conditions (acl_frag is acl). */
static void
test_filter_random_layouts(void)
{
	static const uint32_t sizes[] = {10, 1000};
	uint64_t saved = rng; /* the other tests' rules stay the same */
	struct tg_cfg_filter_rule *r;
	struct tg_filter_table *ft;
	char what[80];
	uint32_t k, n = 1000;
	size_t s;
	int mode;

	rng = 0x2545f4914f6cdd1dull;
	for (s = 0; s < RTE_DIM(sizes); s++) {
		for (mode = 0; mode < 2; mode++) {
			struct tg_config *c = cfg_new();

			rnd_list_est(c, 0, IN, (uint8_t)mode, sizes[s], false);
			rnd_list(c, 1, OUT, (uint8_t)!mode, sizes[s]);
			rnd_list_est(c, 0, OUT, (uint8_t)mode, sizes[s], false);
			ft = build(c, 1);
			/* wan0's 10 rules may have no established */
			k = check_lists(ft, c);
			CU_ASSERT(k == 2 || (k == 3 && sizes[s] == 10));
			tg_filter_table_free(ft);
			snprintf(what, sizeof(what),
				"%u rules, lan0 without established, %s",
				sizes[s],
				mode ? "allow-listed" : "deny-listed");
			compare_random(c, what);
			cfg_free(c);
		}
	}
	/* lan0: deny rules with L4 conditions only (no acl_frag), then
	 * rules without L4 conditions (acl_frag is acl); wan0 has the usual
	 * mix */
	for (mode = 0; mode < 2; mode++) {
		struct tg_config *c = cfg_new();

		r = malloc(sizeof(*r) * n);
		CU_ASSERT_FATAL(r != NULL);
		for (k = 0; k < n; k++) {
			do
				rnd_rule(&r[k], k);
			while (mode == 0 && !(r[k].match & TG_CFG_FR_L4));
			if (mode == 0)
				r[k].action = TG_CFG_FILTER_DENY;
			else
				r[k].match = 0;
		}
		list_set(c, 0, IN, (uint8_t)mode, r, n);
		rnd_list(c, 1, IN, DENY_LISTED, n);
		free(r);
		ft = build(c, 1);
		check_lists(ft, c);
		if (mode == 0)
			CU_ASSERT_PTR_NULL(
				ft->lists[ft->list_of[IN][P_LAN]].acl_frag);
		tg_filter_table_free(ft);
		compare_random(c,
			mode == 0 ? "1000 rules, lan0 deny with L4 conditions"
				  : "1000 rules without L4 conditions");
		cfg_free(c);
	}
	rng = saved;
	printf("\n  ");
}

/* ---- decision cache ---------------------------------------------------- */

/* Random lists (with and without established, both modes, both
 * directions) and a pool of packets sent again and again in random bursts
 * through caches of 6, 24 and 49,152 entries: every verdict the
 * reference's and that of the same bursts through a second table of the
 * same config without a cache; its rule counters the reference's and the
 * second table's; each packet a list's rules judge looked up once (no
 * list, or a drop before the rules: not looked up). */
static void
test_filter_cache_against_reference(void)
{
	static const uint32_t sizes[] = {30, 300}, entries[] = {6, 24, 49152};
	static struct pool p;
	uint16_t at[N_POOL];
	uint64_t saved = rng, judged, warm, *want;
	uint32_t s, e, pass, i, bad = 0, lb = 0, frag = 0, pre = 0, none = 0;
	struct tg_filter_table *ft, *ftr;
	struct tg_filter_cache *cache;
	uint16_t li;
	int mode;

	rng = 0x853c49e6748fea9bull;
	for (s = 0; s < RTE_DIM(sizes); s++) {
		for (mode = 0; mode < 2; mode++) {
			struct tg_config *c = cfg_new();

			rnd_list(c, 0, IN, (uint8_t)mode, sizes[s]);
			rnd_list_est(
				c, 1, OUT, (uint8_t)!mode, sizes[s], false);
			rnd_list(c, 0, OUT, (uint8_t)mode, sizes[s] / 10);
			ft = build(c, 2);
			ftr = build(c, 2);
			want = calloc(ft->slot_stride, sizeof(*want));
			CU_ASSERT_FATAL(want != NULL);
			pool_make(&p, c);
			pool_ref(&p, ft, c);
			for (i = 0; i < N_POOL; i++) {
				none += p.l[i] == TG_FILTER_NO_LIST;
				pre += p.l[i] != TG_FILTER_NO_LIST &&
				       !p.judged[i];
				if (!p.judged[i])
					continue;
				lb += ft->lists[p.l[i]].key_bytes == 17;
				frag += (tg_be16_to_cpu(
						 tg_pkt_ipv4(p.m[i])
							 ->fragment_offset) &
						0x1fff) != 0;
			}
			printf("\n    %u rules, lan0 in %s, cache hits/misses:",
				sizes[s],
				mode ? "allow-listed" : "deny-listed");
			for (e = 0; e < RTE_DIM(entries); e++) {
				cache = tg_filter_cache_create(entries[e], 0);
				CU_ASSERT_FATAL(cache != NULL);
				judged = warm = 0;
				for (pass = 0; pass < 12; pass++) {
					pool_draw(at, N_POOL, pass == 0);
					bad += pool_send(ft, ftr, cache,
						(uint16_t)(pass % 2), &p, at,
						N_POOL);
					for (i = 0; i < N_POOL; i++) {
						const struct tg_filter_list *fl;

						if (!p.judged[at[i]])
							continue;
						fl = &ft->lists[p.l[at[i]]];
						judged++;
						want[fl->hits_off +
							RTE_MIN(p.r[at[i]],
								fl->n_rules)]++;
					}
					if (pass == 0)
						warm = cache->misses;
				}
				CU_ASSERT_EQUAL(
					cache->hits + cache->misses, judged);
				CU_ASSERT(cache->hits > 0);
				CU_ASSERT(cache->epoch == 1 &&
					  cache->clears == 0 &&
					  cache->build_id == ft->build_id);
				/* small: entries evicted and missed again;
				 * large: after the first pass, only hits */
				CU_ASSERT(entries[e] < N_POOL
						  ? cache->misses > N_POOL
						  : cache->misses == warm);
				printf(" %u: %" PRIu64 "/%" PRIu64, entries[e],
					cache->hits, cache->misses);
				tg_filter_cache_free(cache);
			}
			for (li = 0; li < ft->n_lists; li++)
				for (i = 0; i <= ft->lists[li].n_rules; i++)
					bad += tg_filter_hits(ft, li, i) !=
						       tg_filter_hits(
							       ftr, li, i) ||
					       tg_filter_hits(ft, li, i) !=
						       want[ft->lists[li]
								       .hits_off +
							       i];
			pool_free(&p);
			free(want);
			tg_filter_table_free(ft);
			tg_filter_table_free(ftr);
			cfg_free(c);
		}
	}
	printf("\n    pool packets: %u judged by a layout B list, %u later "
	       "fragments judged, %u dropped before the rules, %u without a "
	       "list\n  ",
		lb, frag, pre, none);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(lb > 0 && frag > 0 && pre > 0 && none > 0);
	rng = saved;
}

/* Live entries (of any epoch) in @p c. */
static uint32_t
cache_live(const struct tg_filter_cache *c)
{
	uint32_t b, w, n = 0;

	for (b = 0; b <= c->mask; b++)
		for (w = 0; w < TG_FILTER_CACHE_WAYS; w++)
			n += c->b[b].e[w].tag != 0;
	return n;
}

/* A new table makes the cache's entries stale: the answers follow the
 * table, also when a remembered answer (a rule index) would be another
 * verdict in the new one, and after the epoch counter wraps. */
static void
test_filter_cache_new_table(void)
{
	const struct tg_cfg_filter_rule ra[] = {
		RULE("udp", ALLOW, P(17)),
		RULE("web", DENY, P(6), DPORT(80, 80)),
	};
	const struct tg_cfg_filter_rule rb[] = {
		RULE("udp", ALLOW, P(17)),
		RULE("alt", DENY, P(6), DPORT(81, 81)),
	};
	struct tg_config *ca = cfg_new(), *cb = cfg_new(), *cc = cfg_new();
	struct tg_filter_cache *cache = tg_filter_cache_create(24, 0);
	struct tg_filter_table *fa, *fb, *fa2, *fc = NULL;
	static struct pool p;
	uint16_t at[N_POOL];
	uint32_t ra_rule[N_POOL], i, k, stale = 0, bad = 0;
	uint64_t saved = rng, n0, m0;
	char err[256];

#define CASES_A(ft, c, ch)                                                     \
	CRUN(ft, c, ch, C(IN, F_DROP(IN_DENIED), 1, TCP(80, SYN)),             \
		C(IN, TG_V_NEXT, NONE, TCP(81, SYN)),                          \
		C(IN, TG_V_NEXT, 0, UDP(53)))
#define CASES_B(ft, c, ch)                                                     \
	CRUN(ft, c, ch, C(IN, TG_V_NEXT, NONE, TCP(80, SYN)),                  \
		C(IN, F_DROP(IN_DENIED), 1, TCP(81, SYN)),                     \
		C(IN, TG_V_NEXT, 0, UDP(53)))
	CU_ASSERT_FATAL(cache != NULL);
	list_set(ca, 0, IN, DENY_LISTED, ra, RTE_DIM(ra));
	list_set(cb, 0, IN, DENY_LISTED, rb, RTE_DIM(rb));
	list_set(cc, 0, IN, ALLOW_LISTED, ra, RTE_DIM(ra));
	fa = build(ca, 1);
	fb = build(cb, 1);
	CASES_A(fa, ca, cache); /* one burst: every key missed */
	CASES_A(fa, ca, cache);
	CU_ASSERT(cache->hits == 3 && cache->misses == 3);
	CU_ASSERT(cache->epoch == 1 && cache->build_id == fa->build_id);
	/* A remembered TCP 80 as its rule 1, which in B denies port 81 */
	CASES_B(fb, cb, cache);
	CASES_B(fb, cb, cache);
	CU_ASSERT(cache->hits == 6 && cache->misses == 6);
	CU_ASSERT(cache->epoch == 2 && cache->build_id == fb->build_id);
	/* counted against each table's own rules */
	CU_ASSERT(
		tg_filter_hits(fa, 0, 1) == 2 && tg_filter_hits(fa, 0, 2) == 2);
	CU_ASSERT(
		tg_filter_hits(fb, 0, 1) == 2 && tg_filter_hits(fb, 0, 2) == 2);
	CU_ASSERT(
		tg_filter_hits(fa, 0, 0) == 2 && tg_filter_hits(fb, 0, 0) == 2);
	fa2 = build(ca, 1);
	CASES_A(fa2, ca, cache);
	CASES_A(fa2, ca, cache);
	CU_ASSERT(cache->hits == 9 && cache->misses == 9 && cache->epoch == 3);
	/* the mode flipped, the rte_acl contexts shared with fa2 */
	CU_ASSERT_EQUAL_FATAL(tg_filter_build_from(cc, port_id, 2, 1, 0, fa2,
				      &fc, err, sizeof(err)),
		0);
	CU_ASSERT(fc->lists[0].reused && fc->lists[0].acl == fa2->lists[0].acl);
	for (k = 0; k < 2; k++)
		CRUN(fc, cc, cache, C(IN, F_DROP(IN_DENIED), 1, TCP(80, SYN)),
			C(IN, F_DROP(IN_DEFAULT), NONE, TCP(81, SYN)),
			C(IN, TG_V_NEXT, 0, UDP(53)));
	CU_ASSERT(cache->hits == 12 && cache->misses == 12 &&
		  cache->epoch == 4 && cache->clears == 0);
	tg_filter_cache_free(cache);

	/* The epoch wraps: A's answers, remembered in epoch 1, must not
	 * come alive in the next epoch 1 (B's). In the last epoch before
	 * the wrap only other flows, which leave A's entries alone. */
	cache = tg_filter_cache_create(49152, 0);
	CU_ASSERT_FATAL(cache != NULL);
	CASES_A(fa, ca, cache);
	CU_ASSERT(cache->epoch == 1 && cache_live(cache) == 3);
	cache->epoch = TG_FILTER_CACHE_EPOCHS - 2;
	for (k = 0; k < 2; k++) /* the last epoch works */
		CRUN(fb, cb, cache,
			C(IN, TG_V_NEXT, 0, UDP(54), .src = IP4(10, 9, 9, 9)),
			C(IN, F_DROP(IN_DENIED), 1, TCP(81, ACK),
				.src = IP4(10, 9, 9, 9)));
	CU_ASSERT(cache->epoch == TG_FILTER_CACHE_EPOCHS - 1 &&
		  cache->clears == 0);
	CU_ASSERT(cache->hits == 2 && cache->misses == 5);
	CU_ASSERT_EQUAL(cache_live(cache), 5);
	tg_filter_table_free(fb);
	fb = build(cb, 1);
	CASES_B(fb, cb, cache);
	CU_ASSERT(cache->epoch == 1 && cache->clears == 1);
	CU_ASSERT(cache->hits == 2 && cache->misses == 8);
	CU_ASSERT_EQUAL(cache_live(cache), 3); /* B's, just put */
	CASES_B(fb, cb, cache);
	CU_ASSERT(cache->hits == 5 && cache->misses == 8);
	CASES_A(fa2, ca, cache);
	CU_ASSERT(cache->epoch == 2 && cache->clears == 1);
	tg_filter_table_free(fa);
	tg_filter_table_free(fb);
	tg_filter_table_free(fa2);
	tg_filter_table_free(fc);
	cfg_free(ca);
	cfg_free(cb);

	/* Random lists: A, then B, then A built again, through one cache;
	 * many of A's remembered answers would be wrong in B. */
	rng = 0xda942042e4dd58b5ull;
	ca = cfg_new();
	cb = cfg_new();
	for (k = 0; k < 2; k++) {
		struct tg_config *c = k ? cb : ca;

		rnd_list(c, 0, IN, (uint8_t)RND(2), 200);
		rnd_list(c, 1, OUT, (uint8_t)RND(2), 200);
		rnd_list(c, 0, OUT, (uint8_t)RND(2), 20);
	}
	fa = build(ca, 1);
	fb = build(cb, 1);
	fa2 = build(ca, 1);
	pool_make(&p, ca);
	for (k = 0; k < 3; k++) {
		const struct tg_filter_table *ft = k == 1 ? fb : k ? fa2 : fa;

		pool_ref(&p, ft, k == 1 ? cb : ca);
		for (i = 0; k == 0 && i < N_POOL; i++)
			ra_rule[i] = p.r[i];
		for (i = 0; k == 1 && i < N_POOL; i++) {
			const struct tg_filter_list *fl;

			if (!p.judged[i])
				continue;
			fl = &fb->lists[p.l[i]];
			stale += fl->verdict_of[fl->action[RTE_MIN(
					 ra_rule[i], fl->n_rules)]] != p.v[i];
		}
		n0 = cache->hits + cache->misses;
		m0 = cache->misses;
		pool_draw(at, N_POOL, true);
		bad += pool_send(ft, NULL, cache, 0, &p, at, N_POOL);
		CU_ASSERT(cache->misses > m0);
		m0 = cache->misses;
		bad += pool_send(ft, NULL, cache, 0, &p, at, N_POOL);
		CU_ASSERT_EQUAL(cache->misses, m0); /* the second time: hits */
		for (i = 0; i < N_POOL; i++)
			n0 += 2u * p.judged[i];
		CU_ASSERT_EQUAL(cache->hits + cache->misses, n0);
	}
	printf("\n    %u of %u pool packets would get A's verdict wrong in "
	       "B\n  ",
		stale, N_POOL);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(stale >= 10);
	pool_free(&p);
	tg_filter_cache_free(cache);
	tg_filter_table_free(fa);
	tg_filter_table_free(fb);
	tg_filter_table_free(fa2);
	cfg_free(ca);
	cfg_free(cb);
	cfg_free(cc);
	rng = saved;
#undef CASES_A
#undef CASES_B
}

/* What a cache entry's key holds: the ACK and RST bits for a list with an
 * established rule (layout B), not for the others; the later-fragment bit
 * always (the same ports and flags otherwise: another rte_acl context). */
static void
test_filter_cache_key_flags(void)
{
	const struct tg_cfg_filter_rule est[] = {
		RULE("est", ALLOW, P(6), .match = TG_CFG_FR_ESTABLISHED)};
	const struct tg_cfg_filter_rule low[] = {
		RULE("low", DENY, P(6), DPORT(0, 100))};
	struct tg_config *c = cfg_new();
	struct tg_filter_cache *cache = tg_filter_cache_create(24, 0);
	struct tg_filter_table *ft;
	uint16_t lan, wan;
	int k;

	CU_ASSERT_FATAL(cache != NULL);
	list_set(c, 0, IN, ALLOW_LISTED, est, 1);
	list_set(c, 1, OUT, DENY_LISTED, low, 1);
	ft = build(c, 1);
	lan = ft->list_of[IN][P_LAN];
	wan = ft->list_of[OUT][P_WAN];
	CU_ASSERT_EQUAL(ft->lists[lan].key_bytes, 17);
	CU_ASSERT_EQUAL(
		ft->lists[lan].cache_flags, TG_FILTER_KEY_NONFIRST | ACK | RST);
	CU_ASSERT_EQUAL(ft->lists[wan].cache_flags, TG_FILTER_KEY_NONFIRST);
	/* one 5-tuple, two answers */
	CRUN(ft, c, cache, C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, SYN)),
		C(IN, TG_V_NEXT, 0, TCP(80, ACK)));
	CU_ASSERT(cache->hits == 0 && cache->misses == 2);
	CRUN(ft, c, cache, C(IN, TG_V_NEXT, 0, TCP(80, ACK)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, SYN)),
		C(IN, TG_V_NEXT, 0, TCP(80, RST)),
		C(IN, TG_V_NEXT, 0, TCP(80, SYN | ACK)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, FIN)),
		C(IN, F_DROP(IN_DEFAULT), NONE, TCP(80, SYN)),
		C(IN, TG_V_NEXT, 0, TCP(80, ACK)));
	/* RST: a key of its own; SYN|ACK and FIN share ACK's and SYN's */
	CU_ASSERT(cache->hits == 6 && cache->misses == 3);
	/* layout A: the flags are not part of the key */
	CRUN(ft, c, cache, C(OUT, F_DROP(OUT_DENIED), 0, TCP(80, SYN)));
	CRUN(ft, c, cache, C(OUT, F_DROP(OUT_DENIED), 0, TCP(80, ACK)),
		C(OUT, F_DROP(OUT_DENIED), 0, TCP(80, RST)));
	CU_ASSERT(cache->hits == 8 && cache->misses == 4);
	/* ports 0, no flags in the key: only the later-fragment bit tells
	 * the deny rule's match from a later fragment's no match */
	for (k = 0; k < 2; k++)
		CRUN(ft, c, cache, C(OUT, F_DROP(OUT_DENIED), 0, TCP(0, SYN)),
			C(OUT, TG_V_NEXT, NONE, TCP(0, SYN), .frag = 185),
			C(OUT, F_DROP(OUT_DENIED), 0, TCP(0, SYN)),
			C(OUT, TG_V_NEXT, NONE, TCP(0, SYN), .frag = 185));
	/* one burst: every packet missed, the second: every packet hit */
	CU_ASSERT(cache->hits == 12 && cache->misses == 8);
	CU_ASSERT(tg_filter_hits(ft, lan, 0) == 5 &&
		  tg_filter_hits(ft, lan, 1) == 4);
	CU_ASSERT(tg_filter_hits(ft, wan, 0) == 7 &&
		  tg_filter_hits(ft, wan, 1) == 4);
	tg_filter_cache_free(cache);
	tg_filter_table_free(ft);
	cfg_free(c);
}

/* Sizes: whole buckets of TG_FILTER_CACHE_WAYS, a power of two of them;
 * limits. Without a list nothing is looked up; without a cache the same
 * verdicts. */
static void
test_filter_cache_create(void)
{
	static const uint32_t sizes[][2] = {{1, 3}, {3, 3}, {4, 6}, {6, 6},
		{24, 24}, {49152, 49152}, {49153, 98304}};
	struct tg_config *c = cfg_new();
	struct tg_filter_cache *cache;
	struct tg_filter_table *ft;
	size_t i;

	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tg_filter_cache_create(0, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tg_filter_cache_create(TG_FILTER_CACHE_MAX + 1, 0));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	for (i = 0; i < RTE_DIM(sizes); i++) {
		cache = tg_filter_cache_create(sizes[i][0], 0);
		CU_ASSERT_FATAL(cache != NULL);
		CU_ASSERT_EQUAL(tg_filter_cache_entries(cache), sizes[i][1]);
		CU_ASSERT_EQUAL(
			(cache->mask + 1) * TG_FILTER_CACHE_WAYS, sizes[i][1]);
		CU_ASSERT(rte_is_power_of_2(cache->mask + 1));
		CU_ASSERT((uintptr_t)cache->b % RTE_CACHE_LINE_SIZE == 0);
		CU_ASSERT(cache->epoch == 0 && cache->build_id == 0 &&
			  cache->hits == 0 && cache->misses == 0 &&
			  cache->clears == 0);
		CU_ASSERT_EQUAL(cache_live(cache), 0);
		tg_filter_cache_free(cache);
	}
	CU_ASSERT_EQUAL(tg_filter_cache_entries(NULL), 0);
	tg_filter_cache_free(NULL);
	/* the largest is accepted: 512 MiB, or no memory for it here */
	rte_errno = 0;
	cache = tg_filter_cache_create(TG_FILTER_CACHE_MAX, 0);
	CU_ASSERT(cache != NULL ? tg_filter_cache_entries(cache) ==
					  TG_FILTER_CACHE_WAYS * (1u << 23)
				: rte_errno == ENOMEM);
	tg_filter_cache_free(cache);
	cache = tg_filter_cache_create(6, 0);
	CU_ASSERT_FATAL(cache != NULL);
	ft = build(c, 1);
	CRUN(ft, c, cache, C(IN, TG_V_NEXT, NONE, TCP(80, SYN)),
		C(OUT, TG_V_NEXT, NONE, .proto = 6, .exact = true));
	CU_ASSERT(cache->hits == 0 && cache->misses == 0);
	CU_ASSERT(cache->epoch == 1 && cache->build_id == ft->build_id);
	tg_filter_table_free(ft);
	list_set(c, 0, IN, DENY_LISTED, lan_in, RTE_DIM(lan_in));
	ft = build(c, 1);
	CRUN(ft, c, NULL, C(IN, F_DROP(IN_DENIED), 1, TCP(23, SYN)),
		C(IN, TG_V_NEXT, 0, TCP(22, SYN)));
	CU_ASSERT_EQUAL(tg_filter_hits(ft, 0, 1), 1);
	tg_filter_table_free(ft);
	tg_filter_cache_free(cache);
	cfg_free(c);
}

/* ---- scale and method -------------------------------------------------- */

static size_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;

	rte_malloc_get_socket_stats(0, &st);
	return st.heap_allocsz_bytes;
}

static void
test_filter_100k_rules(void)
{
	const uint32_t n = 100000;
	struct tg_config *c = cfg_new();
	struct tg_cfg_filter_rule *r = calloc(n, sizeof(*r));
	struct tg_filter_table *ft = NULL;
	struct rusage ru0, ru1;
	uint64_t t0;
	size_t mem0;
	uint32_t i;
	char err[256];
	int rc, level;

	CU_ASSERT_FATAL(r != NULL);
	for (i = 0; i < n; i++) {
		snprintf(r[i].name, sizeof(r[i].name), "r%u", i);
		r[i].action = (uint8_t)(RND(4) == 0);
		r[i].proto = RND(3) ? 6 : 17;
		r[i].src_len = (uint8_t)(16 + RND(17));
		r[i].src = (IP4(10, 0, 0, 0) | (rnd() & 0xffffff)) &
			   mask_of(r[i].src_len);
		r[i].dst_len = (uint8_t)(RND(2) ? 24 : 32);
		r[i].dst = (IP4(172, 16, 0, 0) | (rnd() & 0xfffff)) &
			   mask_of(r[i].dst_len);
		r[i].match = TG_CFG_FR_DPORT;
		rnd_range(&r[i].dport_lo, &r[i].dport_hi);
		if (RND(10) == 0) {
			r[i].match |= TG_CFG_FR_SPORT;
			rnd_range(&r[i].sport_lo, &r[i].sport_hi);
		}
	}
	list_set(c, 0, IN, ALLOW_LISTED, r, n);
	free(r);
	/* rte_acl tells its tries and build-phase memory at debug level */
	printf("\n");
	level = rte_log_get_level(RTE_LOGTYPE_ACL);
	rte_log_set_level(RTE_LOGTYPE_ACL, RTE_LOG_DEBUG);
	getrusage(RUSAGE_SELF, &ru0);
	mem0 = heap_used();
	t0 = rte_rdtsc();
	rc = tg_filter_build(c, port_id, 2, 1, 0, &ft, err, sizeof(err));
	t0 = rte_rdtsc() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	rte_log_set_level(RTE_LOGTYPE_ACL, (uint32_t)level);
	if (rc != 0)
		fprintf(stderr, "  100k build: %d %s\n", rc, err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	printf("  %u rules (%u ACL rules of %u-byte keys, %u for later "
	       "fragments): built in %.2f s (%.2f s of CPU), %.1f MiB of DPDK "
	       "heap, peak RSS up %.0f MiB, method %s\n  ",
		n, ft->lists[0].n_acl_rules, ft->lists[0].key_bytes,
		ft->lists[0].n_acl_frag_rules, (double)t0 / rte_get_tsc_hz(),
		(double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec +
			 ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec +
				ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) /
				1e6,
		(heap_used() - mem0) / 1048576.0,
		(ru1.ru_maxrss - ru0.ru_maxrss) / 1024.0, ft->method);
	/* a sample against the reference */
	for (i = 0; i < 500; i++) {
		struct rte_mbuf *m = rnd_pkt_for(c, 0, IN);
		uint8_t dir = IN;
		uint16_t v, rv, rl;
		uint32_t rule, rr;

		tg_filter_classify(ft, &m, 1, &dir, &v, NULL, &rule);
		ref_of(ft, c, m, dir, &rv, &rr, &rl);
		CU_ASSERT(v == rv && rule == rr);
		rte_pktmbuf_free(m);
	}
	tg_filter_table_free(ft);
	cfg_free(c);
}

static void
test_filter_classify_method(void)
{
	const struct tg_cfg_filter_rule r[] = {
		RULE("web", ALLOW, P(6), DPORT(80, 80))};
	struct tg_config *c = cfg_new();
	struct tg_filter_table *ft;

	list_set(c, 0, OUT, ALLOW_LISTED, NULL, 0);
	ft = build(c, 1);
	CU_ASSERT_STRING_EQUAL(ft->method, "none"); /* no context */
	tg_filter_table_free(ft);
	list_set(c, 0, IN, ALLOW_LISTED, r, 1);
	ft = build(c, 1);
	CU_ASSERT(ft->method != NULL && ft->method[0] != '\0' &&
		  strcmp(ft->method, "none") != 0);
	printf("\n  classify method at max SIMD width %u: %s",
		rte_vect_get_max_simd_bitwidth(), ft->method);
	tg_filter_table_free(ft);
	/* what --force-max-simd-bitwidth=512 would allow (also lets the
	 * random comparison try avx512x32) */
	if (rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512) == 0) {
		ft = build(c, 1);
		printf(", at 512: %s", ft->method);
		tg_filter_table_free(ft);
	}
	printf("\n  ");
	cfg_free(c);
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_filter") != 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test_filter", NB_MBUF, 0,
		TG_MBUF_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("filter", NULL, NULL, "test_filter_invalid_input",
		test_filter_invalid_input, "test_filter_first_match_wins",
		test_filter_first_match_wins,
		"test_filter_established_and_icmp",
		test_filter_established_and_icmp,
		"test_filter_port_range_edges", test_filter_port_range_edges,
		"test_filter_directions_and_empty_lists",
		test_filter_directions_and_empty_lists,
		"test_filter_fragments_and_short_headers",
		test_filter_fragments_and_short_headers,
		"test_filter_hit_counters_and_carry",
		test_filter_hit_counters_and_carry,
		"test_filter_classify_method", test_filter_classify_method,
		"test_filter_random_against_reference",
		test_filter_random_against_reference,
		"test_filter_random_layouts", test_filter_random_layouts,
		"test_filter_cache_against_reference",
		test_filter_cache_against_reference,
		"test_filter_cache_new_table", test_filter_cache_new_table,
		"test_filter_cache_key_flags", test_filter_cache_key_flags,
		"test_filter_cache_create", test_filter_cache_create,
		"test_filter_100k_rules", test_filter_100k_rules, NULL);
	rc = tg_test_run();
	rte_mempool_free(mp);
	tg_test_eal_cleanup();
	return rc;
}
