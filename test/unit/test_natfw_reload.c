/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: reloads that change the session table's port spaces (docs/nat.md,
 * Reload): kept addresses keep their sessions untouched, removed ones and
 * ranges that lost ports drop theirs (swept a bounded step per tick, and
 * on lookup before the sweep gets there), new ones are used at once.
 * Translated frames are compared whole with frames built here from
 * scratch; the sessions expected to go are counted here, from the ports
 * the stage handed out. Fake clock: tsc_hz = 1000. Topology: lan0
 * 10.0.0.1/24 (port 0, private), wan0 192.0.2.1/24 (port 1, public),
 * wan1 198.18.0.x/24 (port 2, public).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tg_test_natfw.h"

#define NB_MBUF	  255
#define FRAME_MAX 128
#define HZ	  TG_TEST_NATFW_HZ
#define T0	  ((uint64_t)100 * HZ)
#define P_LAN	  0
#define P_WAN	  1
#define P_WAN1	  2

#define IP(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
		(uint32_t)(d))
#define LAN  IP(10, 0, 0, 1)
#define H(i) IP(10, 0, 0, 2 + (i))
#define SRV  IP(10, 0, 0, 250)
#define PUB  IP(192, 0, 2, 1)
#define W1   IP(198, 18, 0, 1)
#define W1B  IP(198, 18, 0, 2)
#define R7   IP(198, 51, 100, 7)

static struct rte_mempool *mp;

/* ---- configurations ----------------------------------------------------- */

#define BASE                                                                   \
	TG_TEST_NATFW_PORTS                                                    \
	"  - {name: wan1, port: p2, address: %s/24}\n"                         \
	"nat:\n  private: [lan0]\n  public: [wan0, wan1]\n"                    \
	"  max_sessions: 2000\n"
/* nat.addresses lines */
#define ADDR0(r) "    - {address: 192.0.2.1, ports: " r "}\n"
#define ADDR1(r) "    - {address: 198.18.0.1, ports: " r "}\n"
#define PMAP(p)                                                                \
	"  port_mappings:\n    - {name: web, protocol: tcp, public_port: " p   \
	", private_address: 10.0.0.250, private_port: 80}\n"

static const uint16_t ids[3] = {P_LAN, P_WAN, P_WAN1};

static struct tg_test_natfw_fx X;

/* BASE with wan1's address @p w1, then @p tail. */
static struct tg_config *
parse(const char *w1, const char *tail)
{
	return tg_test_natfw_parse("reload.yaml",
		BASE "%sfirewall: {max_dynamic: 100}\n", w1, tail);
}

static bool
fx_open(const char *w1, const char *tail)
{
	return tg_test_natfw_open(&X, parse(w1, tail), ids);
}

/* A reload as control does it: the new snapshot's part built from the
 * running one, then published (the old one freed). */
static int
fx_reload(const char *w1, const char *tail)
{
	struct tg_config *c = parse(w1, tail);
	struct tg_natfw_table *nt = NULL;
	char err[256] = "";
	int rc;

	if (c == NULL)
		return -EINVAL;
	rc = tg_natfw_build_from(c, ids, 3, X.nt, X.ctx, &nt, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "\nbuild_from: %d: %s\n", rc, err);
		tg_config_free(c);
		return rc;
	}
	tg_natfw_table_free(X.nt);
	tg_config_free(X.cfg);
	X.nt = nt;
	X.cfg = c;
	return 0;
}

static const struct tg_nat_table_stats *
st(void)
{
	return &X.ctx->sessions->stats;
}

/* Ticks until the sweep is over; how many it took. */
static unsigned int
sweep_all(uint64_t now)
{
	unsigned int n = 0;

	do
		tg_natfw_tick(X.nt, X.ctx, now);
	while (tg_nat_table_sweeping(X.ctx->sessions) && ++n < 100000);
	return n + 1;
}

/* ---- frames (TCP and UDP, 4 bytes of data) ----------------------------- */

struct pk {
	uint8_t proto;
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
	uint8_t flags; /* TCP's */
};
#define UDP(s, sp, d, dp)     ((struct pk){17, (s), (sp), (d), (dp), 0})
#define TCP(s, sp, d, dp, fl) ((struct pk){6, (s), (sp), (d), (dp), (fl)})

static uint16_t
frame(const struct pk *p, uint8_t *f)
{
	uint8_t *ip = f + 14, *l4 = ip + 20, b[12 + 24];
	uint16_t n = p->proto == 6 ? 24 : 12;

	memset(f, 0, FRAME_MAX);
	tg_test_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	tg_test_put16(ip + 2, (uint16_t)(20 + n));
	ip[8] = 64;
	ip[9] = p->proto;
	tg_test_put32(ip + 12, p->src);
	tg_test_put32(ip + 16, p->dst);
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, 20));
	tg_test_put16(l4, p->sport);
	tg_test_put16(l4 + 2, p->dport);
	if (p->proto == 6) {
		l4[12] = 0x50;
		l4[13] = p->flags;
		tg_test_put16(l4 + 14, 0xffff);
		memcpy(l4 + 20, "tcp!", 4);
	} else {
		tg_test_put16(l4 + 4, n);
		memcpy(l4 + 8, "udp!", 4);
	}
	/* the checksum from scratch over the pseudo-header */
	memcpy(b, ip + 12, 8);
	b[8] = 0;
	b[9] = p->proto;
	tg_test_put16(b + 10, n);
	memcpy(b + 12, l4, n);
	tg_test_put16(l4 + (p->proto == 6 ? 16 : 6), tg_test_ip_sum(b, 12 + n));
	return (uint16_t)(14 + 20 + n);
}

static const struct tg_test_natfw_dir d_nat = {
	TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_WAN};
static const struct tg_test_natfw_dir d_nat1 = {
	TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_WAN1};
static const struct tg_test_natfw_dir d_in = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_WAN, TG_IF_NONE};
static const struct tg_test_natfw_dir d_in1 = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_WAN1, TG_IF_NONE};
static const struct tg_test_natfw_dir d_in_lan = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_LAN, TG_IF_NONE};
static const struct tg_test_natfw_dir d_out1 = {
	TG_PATH_SOURCE, TG_MODE_OUT, 0, TG_IF_NONE, P_WAN1};
static const struct tg_test_natfw_dir d_out_lan = {
	TG_PATH_SOURCE, TG_MODE_OUT, 0, TG_IF_NONE, P_LAN};

/*
 * One packet @p in through the stage at @p now; the verdict must be
 * @p want and, when it passes, the frame must be @p exp (NULL: unchanged;
 * exp->sport 0: any source port). Returns the output's source port.
 */
static uint16_t
send_pk(int line, const struct tg_test_natfw_dir *d, struct pk in, uint64_t now,
	uint16_t want, const struct pk *exp)
{
	uint8_t f[FRAME_MAX], e[FRAME_MAX];
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t len = frame(&in, f), v = 0xdead, sport = 0;
	struct pk ep = exp != NULL ? *exp : in;
	const uint8_t *got;
	bool ok;

	CU_ASSERT_FATAL(m != NULL);
	memcpy(rte_pktmbuf_append(m, len), f, len);
	tg_test_natfw_meta(m, d);
	tg_natfw_burst(X.nt, X.ctx, &m, 1, &v, now);
	got = rte_pktmbuf_mtod(m, const uint8_t *);
	sport = (uint16_t)(got[34] << 8 | got[35]);
	ok = v == want;
	if (ok && !TG_V_IS_DROP(v)) {
		if (ep.sport == 0)
			ep.sport = sport;
		ok = frame(&ep, e) == m->data_len &&
		     memcmp(got, e, m->data_len) == 0;
	}
	if (!ok)
		fprintf(stderr,
			"\n  line %d: verdict %#x (want %#x), %08x:%u -> "
			"%08x:%u",
			line, v, want,
			(unsigned)(got[26] << 24 | got[27] << 16 |
				   got[28] << 8 | got[29]),
			sport,
			(unsigned)(got[30] << 24 | got[31] << 16 |
				   got[32] << 8 | got[33]),
			(unsigned)(got[36] << 8 | got[37]));
	CU_assertImplementation(
		ok, (unsigned int)line, "natfw packet", __FILE__, "", CU_FALSE);
	rte_pktmbuf_free(m);
	return sport;
}

#define SEND(d, in, want, exp) send_pk(__LINE__, d, in, T0, want, exp)
#define XP(p)		       (&(struct pk[1]){p}[0])

/* The fields of session records that a reload must leave as they are. */
static bool
same_record(const struct tg_nat_sess *a, const struct tg_nat_sess *b)
{
	return a->priv_ip == b->priv_ip && a->pub_ip == b->pub_ip &&
	       a->rem_ip == b->rem_ip && a->priv_port == b->priv_port &&
	       a->pub_port == b->pub_port && a->rem_port == b->rem_port &&
	       a->proto == b->proto && a->state == b->state &&
	       a->flags == b->flags && a->tmo_class == b->tmo_class &&
	       a->addr == b->addr && a->map == b->map && a->seq == b->seq &&
	       a->created == b->created && a->last == b->last;
}

/* ---- tests -------------------------------------------------------------- */

/* Adding a NAT address: no session changes (not one record is written),
 * the next packets translate as before, new flows by wan1 take the new
 * address and its range. */
static void
test_natfw_reload_add_keeps_sessions(void)
{
	static struct tg_nat_sess before[64], after[64];
	const uint32_t max = 2000 + 100;
	uint16_t port[8], p;
	uint32_t i, n = 0, layout;

	CU_ASSERT_FATAL(fx_open("198.18.0.1",
		"  addresses:\n" ADDR0("1024-65535") PMAP("8080")));
	for (i = 0; i < 8; i++)
		port[i] = SEND(&d_nat, UDP(H(i), 5000, R7, 53), PASS,
			XP(UDP(PUB, 0, R7, 53)));
	SEND(&d_nat, TCP(H(0), 6000, R7, 80, 0x02), PASS,
		XP(TCP(PUB, 6000, R7, 80, 0x02)));
	SEND(&d_in, TCP(R7, 80, PUB, 6000, 0x12), FWD,
		XP(TCP(R7, 80, H(0), 6000, 0x12)));
	SEND(&d_in, TCP(R7, 999, PUB, 8080, 0x02), FWD,
		XP(TCP(R7, 999, SRV, 80, 0x02)));
	for (i = 0; i < max && n < 64; i++)
		if (tg_nat_sess_read(X.ctx->sessions, i, &before[n]) == 0)
			n++;
	CU_ASSERT_EQUAL(n, 10);
	layout = X.nt->layout;

	CU_ASSERT_FATAL(fx_reload("198.18.0.1",
				"  addresses:\n" ADDR0("1024-65535")
					ADDR1("2000-2099") PMAP("8080")) == 0);
	CU_ASSERT_EQUAL(X.nt->layout, layout); /* nothing can stop fitting */
	sweep_all(T0);
	CU_ASSERT_EQUAL(st()->dropped, 0);
	for (i = 0, n = 0; i < max && n < 64; i++)
		if (tg_nat_sess_read(X.ctx->sessions, i, &after[n]) == 0) {
			CU_ASSERT(same_record(&before[n], &after[n]));
			n++;
		}
	CU_ASSERT_EQUAL(n, 10);
	for (i = 0; i < 8; i++) {
		SEND(&d_nat, UDP(H(i), 5000, R7, 53), PASS,
			XP(UDP(PUB, port[i], R7, 53)));
		SEND(&d_in, UDP(R7, 53, PUB, port[i]), FWD,
			XP(UDP(R7, 53, H(i), 5000)));
	}
	SEND(&d_in, TCP(R7, 80, PUB, 6000, 0x10), FWD,
		XP(TCP(R7, 80, H(0), 6000, 0x10)));
	SEND(&d_nat, TCP(SRV, 80, R7, 999, 0x12), PASS,
		XP(TCP(PUB, 8080, R7, 999, 0x12)));
	/* the new address: wan1's translations */
	p = SEND(&d_nat1, UDP(H(20), 5000, R7, 53), PASS,
		XP(UDP(W1, 0, R7, 53)));
	CU_ASSERT(p >= 2000 && p <= 2099);
	SEND(&d_in1, UDP(R7, 53, W1, p), FWD, XP(UDP(R7, 53, H(20), 5000)));
	p = SEND(&d_nat1, UDP(H(20), 2050, R7, 53), PASS,
		XP(UDP(W1, 2050, R7, 53)));
	tg_test_natfw_close(&X);
}

/* Removing a NAT address: its sessions are dropped and counted; a flow's
 * packet before the sweep reaches its record is a new flow on a
 * remaining address; the other address's sessions stay. */
static void
test_natfw_reload_remove_address(void)
{
	uint16_t p0[10], p1[10], p;
	uint64_t d0;
	unsigned int i;

	CU_ASSERT_FATAL(fx_open("198.18.0.1",
		"  addresses:\n" ADDR0("1024-65535") ADDR1("2000-2099")));
	for (i = 0; i < 10; i++) {
		p0[i] = SEND(&d_nat, UDP(H(i), 7000 + i, R7, 53), PASS,
			XP(UDP(PUB, 7000 + i, R7, 53)));
		p1[i] = SEND(&d_nat1, UDP(H(i), 5000, R7, 53), PASS,
			XP(UDP(W1, 0, R7, 53)));
		CU_ASSERT(p1[i] >= 2000 && p1[i] <= 2099);
	}
	CU_ASSERT_EQUAL(st()->sessions, 20);
	/* wan1 stays an interface address, no longer a NAT one */
	CU_ASSERT_FATAL(fx_reload("198.18.0.1",
				"  addresses:\n" ADDR0("1024-65535")) == 0);
	d0 = st()->dropped;
	/* before any tick: the flow of H(0) by wan1 now takes wan0's
	 * address (its interface has none), port preserved */
	p = SEND(&d_nat1, UDP(H(0), 5000, R7, 53), PASS,
		XP(UDP(PUB, 5000, R7, 53)));
	CU_ASSERT_EQUAL(st()->dropped, d0 + 1);
	/* an answer to H(1)'s old mapping: no translation any more */
	SEND(&d_in1, UDP(R7, 53, W1, p1[1]), DROP(NO_EXCEPTION), NULL);
	CU_ASSERT_EQUAL(st()->dropped, d0 + 2);
	/* H(2)'s endpoint to another remote: not its old mapping on wan1's
	 * address (endpoint-independent mapping must not revive it) */
	SEND(&d_nat1, UDP(H(2), 5000, IP(198, 51, 100, 9), 53), PASS,
		XP(UDP(PUB, 0, IP(198, 51, 100, 9), 53)));
	sweep_all(T0);
	CU_ASSERT_EQUAL(st()->dropped, d0 + 10);
	CU_ASSERT_EQUAL(st()->sessions, 10 + 2);
	CU_ASSERT_EQUAL(X.ctx->swept, X.nt->layout);
	for (i = 0; i < 10; i++) {
		SEND(&d_nat, UDP(H(i), 7000 + i, R7, 53), PASS,
			XP(UDP(PUB, p0[i], R7, 53)));
		SEND(&d_in, UDP(R7, 53, PUB, p0[i]), FWD,
			XP(UDP(R7, 53, H(i), 7000 + i)));
		if (i > 0)
			SEND(&d_in1, UDP(R7, 53, W1, p1[i]), DROP(NO_EXCEPTION),
				NULL);
	}
	SEND(&d_in, UDP(R7, 53, PUB, p), FWD, XP(UDP(R7, 53, H(0), 5000)));
	CU_ASSERT_EQUAL(st()->dropped, d0 + 10);
	CU_ASSERT_EQUAL(
		st()->created - st()->expired - st()->deleted, st()->sessions);
	tg_test_natfw_close(&X);
}

/* A range that moves: exactly the sessions on ports it lost go (counted
 * here from the ports handed out); the others keep their ports. */
static void
test_natfw_reload_range_shrink(void)
{
	uint16_t port[40];
	unsigned int i, lost = 0, n_lost_first = 0;
	uint16_t p;

	CU_ASSERT_FATAL(
		fx_open("198.18.0.1", "  addresses:\n" ADDR0("1024-1151")));
	for (i = 0; i < 40; i++) {
		/* TCP and UDP alternate: two port spaces */
		if (i % 2)
			port[i] = SEND(&d_nat, TCP(H(i), 40000, R7, 80, 0x02),
				PASS, XP(TCP(PUB, 0, R7, 80, 0x02)));
		else
			port[i] = SEND(&d_nat, UDP(H(i), 40000, R7, 53), PASS,
				XP(UDP(PUB, 0, R7, 53)));
		CU_ASSERT(port[i] >= 1024 && port[i] <= 1151);
		lost += port[i] < 1034;
	}
	CU_ASSERT(lost > 0 && lost < 40);
	CU_ASSERT_FATAL(fx_reload("198.18.0.1",
				"  addresses:\n" ADDR0("1034-1200")) == 0);
	/* a lost flow's packet before the sweep: a new port in the range */
	for (i = 0; i < 40 && port[i] >= 1034; i++)
		;
	CU_ASSERT_FATAL(i < 40);
	p = i % 2 ? SEND(&d_nat, TCP(H(i), 40000, R7, 80, 0x10), PASS,
			    XP(TCP(PUB, 0, R7, 80, 0x10)))
		  : SEND(&d_nat, UDP(H(i), 40000, R7, 53), PASS,
			    XP(UDP(PUB, 0, R7, 53)));
	CU_ASSERT(p >= 1034 && p <= 1200);
	n_lost_first = i;
	CU_ASSERT_EQUAL(st()->dropped, 1);
	sweep_all(T0);
	CU_ASSERT_EQUAL(st()->dropped, lost);
	for (i = 0; i < 40; i++) {
		if (port[i] < 1034 && i != n_lost_first) {
			/* the old public port is nobody's now */
			if (i % 2)
				SEND(&d_in, TCP(R7, 80, PUB, port[i], 0x12),
					DROP(NO_EXCEPTION), NULL);
			else
				SEND(&d_in, UDP(R7, 53, PUB, port[i]),
					DROP(NO_EXCEPTION), NULL);
			continue;
		}
		if (i == n_lost_first)
			continue;
		if (i % 2)
			SEND(&d_in, TCP(R7, 80, PUB, port[i], 0x12), FWD,
				XP(TCP(R7, 80, H(i), 40000, 0x12)));
		else
			SEND(&d_in, UDP(R7, 53, PUB, port[i]), FWD,
				XP(UDP(R7, 53, H(i), 40000)));
	}
	CU_ASSERT_EQUAL(st()->dropped, lost);
	tg_test_natfw_close(&X);
}

/* Interface address change: the firewall's dynamic entries on the old
 * address go, those on kept addresses stay; the new address works. A
 * port mapping removed takes its sessions with it. */
static void
test_natfw_reload_interface_address(void)
{
	uint64_t d0;

	CU_ASSERT_FATAL(fx_open("198.18.0.1",
		"  addresses:\n" ADDR0("1024-65535") PMAP("8080")));
	SEND(&d_out1, UDP(W1, 40000, R7, 123), PASS, NULL);
	SEND(&d_out1, UDP(W1, 40001, R7, 123), PASS, NULL);
	SEND(&d_out_lan, UDP(LAN, 40002, H(3), 53), PASS, NULL);
	SEND(&d_in1, UDP(R7, 123, W1, 40000), PASS, NULL);
	SEND(&d_in_lan, UDP(H(3), 53, LAN, 40002), PASS, NULL);
	SEND(&d_in, TCP(R7, 999, PUB, 8080, 0x02), FWD,
		XP(TCP(R7, 999, SRV, 80, 0x02)));
	CU_ASSERT_EQUAL(st()->sessions, 4);
	CU_ASSERT_EQUAL(st()->local, 3);

	CU_ASSERT_FATAL(fx_reload("198.18.0.2",
				"  addresses:\n" ADDR0("1024-65535")) == 0);
	d0 = st()->dropped;
	/* the old address's answer, before the sweep: nothing lets it in */
	SEND(&d_in1, UDP(R7, 123, W1, 40000), DROP(NO_EXCEPTION), NULL);
	CU_ASSERT_EQUAL(st()->dropped, d0 + 1);
	sweep_all(T0);
	/* 40001 on the old address and the port mapping's session */
	CU_ASSERT_EQUAL(st()->dropped, d0 + 3);
	CU_ASSERT_EQUAL(st()->sessions, 1);
	CU_ASSERT_EQUAL(st()->local, 1);
	SEND(&d_in_lan, UDP(H(3), 53, LAN, 40002), PASS, NULL);
	SEND(&d_in, TCP(R7, 999, PUB, 8080, 0x10), DROP(NO_EXCEPTION), NULL);
	SEND(&d_out1, UDP(W1B, 40000, R7, 123), PASS, NULL);
	SEND(&d_in1, UDP(R7, 123, W1B, 40000), PASS, NULL);
	SEND(&d_in1, UDP(R7, 124, W1B, 40000), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* The sweep never looks at more records per tick than its budget, and
 * only runs after a reload that changes the layout. */
static void
test_natfw_reload_sweep_bounded(void)
{
	uint64_t v0, v;
	unsigned int i, ticks = 0;
	const uint32_t budget = 97;

	CU_ASSERT_FATAL(fx_open("198.18.0.1",
		"  addresses:\n" ADDR0("1024-65535") ADDR1("2000-2999")));
	X.ctx->sweep_budget = budget;
	for (i = 0; i < 300; i++)
		SEND(&d_nat1, UDP(H(i % 200), 10000 + i, R7, 53), PASS,
			XP(UDP(W1, 0, R7, 53)));
	tg_natfw_tick(X.nt, X.ctx, T0);
	CU_ASSERT_EQUAL(st()->sweep_visits, 0);
	CU_ASSERT_FATAL(fx_reload("198.18.0.1",
				"  addresses:\n" ADDR0("1024-65535")) == 0);
	v0 = st()->sweep_visits;
	do {
		tg_natfw_tick(X.nt, X.ctx, T0);
		v = st()->sweep_visits - v0;
		v0 = st()->sweep_visits;
		CU_ASSERT(v <= budget);
		CU_ASSERT_FATAL(++ticks < 1000);
	} while (tg_nat_table_sweeping(X.ctx->sessions));
	CU_ASSERT_EQUAL(v0, 2100);
	/* 2,100 records, 97 a tick */
	CU_ASSERT_EQUAL(ticks, (2100 + budget - 1) / budget);
	CU_ASSERT_EQUAL(st()->dropped, 300);
	CU_ASSERT_EQUAL(st()->sessions, 0);
	tg_test_natfw_close(&X);
}

/* Back and forth: addresses added, removed, changed, ranges moved, with
 * flows each time; the table's memory is the same after every round and
 * its counters add up. */
static void
test_natfw_reload_back_and_forth(void)
{
	static const char *const tails[] = {
		"  addresses:\n" ADDR0("1024-65535") ADDR1("2000-2999"),
		"  addresses:\n" ADDR0("1024-2047"),
		"  addresses:\n" ADDR0("1500-3000") ADDR1("3000-3999"),
	};
	static const char *const w1[] = {
		"198.18.0.1", "198.18.0.2", "198.18.0.1"};
	size_t mem0 = 0, mem;
	unsigned int round, k, i;
	uint64_t drops = 0;

	CU_ASSERT_FATAL(fx_open("198.18.0.1", tails[0]));
	for (round = 0; round < 40; round++) {
		for (k = 0; k < 3; k++) {
			uint32_t w = k == 1 ? W1B : W1;

			CU_ASSERT_FATAL(fx_reload(w1[k], tails[k]) == 0);
			for (i = 0; i < 20; i++) {
				uint64_t now = T0 + round * 10 + k;

				send_pk(__LINE__, &d_nat,
					UDP(H(i), 30000 + round, R7, 53), now,
					PASS, XP(UDP(PUB, 0, R7, 53)));
				send_pk(__LINE__, &d_out1,
					UDP(w, 50000 + i, R7, 123), now, PASS,
					NULL);
			}
			sweep_all(T0 + round * 10 + k);
		}
		/* one more build frees what the last sweep released */
		CU_ASSERT_FATAL(fx_reload(w1[0], tails[0]) == 0);
		sweep_all(T0 + round * 10 + 5);
		CU_ASSERT_EQUAL(tg_nat_table_memory(X.ctx->sessions, &mem), 0);
		if (round == 0)
			mem0 = mem;
		CU_ASSERT_EQUAL(mem, mem0);
		CU_ASSERT(st()->dropped >= drops);
		drops = st()->dropped;
		CU_ASSERT_EQUAL(st()->created - st()->expired - st()->deleted,
			st()->sessions);
	}
	CU_ASSERT(drops > 0);
	tg_test_natfw_close(&X);
}

/* An address removed and added again before the sweep is over: a new
 * slot (the old one is still being swept), and the old sessions with
 * the same public address are not found. */
static void
test_natfw_reload_readd_before_sweep(void)
{
	uint16_t p;

	CU_ASSERT_FATAL(fx_open("198.18.0.1",
		"  addresses:\n" ADDR0("1024-65535") ADDR1("2000-2999")));
	X.ctx->sweep_budget = 1;
	SEND(&d_nat, UDP(H(1), 5000, R7, 53), PASS, XP(UDP(PUB, 5000, R7, 53)));
	SEND(&d_nat, UDP(H(2), 5000, R7, 53), PASS, XP(UDP(PUB, 0, R7, 53)));
	/* the third record: one tick's sweep does not get there */
	p = SEND(
		&d_nat1, UDP(H(0), 5000, R7, 53), PASS, XP(UDP(W1, 0, R7, 53)));
	CU_ASSERT_FATAL(fx_reload("198.18.0.2",
				"  addresses:\n" ADDR0("1024-65535")) == 0);
	tg_natfw_tick(X.nt, X.ctx, T0);
	CU_ASSERT_FATAL(
		fx_reload("198.18.0.1", "  addresses:\n" ADDR0("1024-65535")
						ADDR1("2000-2999")) == 0);
	CU_ASSERT(X.nt->slot[1] != 1 && X.nt->retired[1] != 0);
	/* the old mapping's port on the same address: not the old flow */
	SEND(&d_in1, UDP(R7, 53, W1, p), DROP(NO_EXCEPTION), NULL);
	CU_ASSERT_EQUAL(st()->dropped, 1);
	p = SEND(
		&d_nat1, UDP(H(0), 5000, R7, 53), PASS, XP(UDP(W1, 0, R7, 53)));
	SEND(&d_in1, UDP(R7, 53, W1, p), FWD, XP(UDP(R7, 53, H(0), 5000)));
	X.ctx->sweep_budget = 4096;
	sweep_all(T0);
	CU_ASSERT_EQUAL(st()->sessions, 3);
	CU_ASSERT_EQUAL(st()->dropped, 1);
	tg_test_natfw_close(&X);
}

int
main(void)
{
	mp = tg_test_natfw_setup("test_natfw_reload", NB_MBUF);
	if (mp == NULL)
		return 1;
	tg_test_suite("natfw_reload", NULL, NULL,
		"test_natfw_reload_add_keeps_sessions",
		test_natfw_reload_add_keeps_sessions,
		"test_natfw_reload_remove_address",
		test_natfw_reload_remove_address,
		"test_natfw_reload_range_shrink",
		test_natfw_reload_range_shrink,
		"test_natfw_reload_interface_address",
		test_natfw_reload_interface_address,
		"test_natfw_reload_sweep_bounded",
		test_natfw_reload_sweep_bounded,
		"test_natfw_reload_back_and_forth",
		test_natfw_reload_back_and_forth,
		"test_natfw_reload_readd_before_sweep",
		test_natfw_reload_readd_before_sweep, NULL);
	return tg_test_natfw_finish(mp);
}
