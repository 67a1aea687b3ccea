/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for lib/forward: table build and LPM against a brute-force
 * reference, local addresses, transit/source forwarding with drop reasons
 * and ICMP errors, the ARP neighbor cache (held packets, retries, statics,
 * resync) and a two-lcore telemetry reader. Config built by hand.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_fib.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "tg_forward.h"
#include "tg_pkt.h"
#include "tg_test.h"

#define NB_MBUF		1023
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define FDROP(r)	TG_V_DROP(TG_FORWARD_DROP_##r)
#define CNT(c)		(tg_forward_ctx_counters(F.ctx)[TG_FORWARD_CNT_##c])

/* Ports: config index 0, 1, 2 → DPDK port id 0, 3, 1 (not the identity,
 * to catch index/id mix-ups). */
enum { P_LAN = 0, P_WAN = 3, P_DMZ = 1 };
static const uint8_t PEER_MAC[6] = {0x02, 0xbb, 0, 0, 0, 0x01};
static const uint8_t GW_MAC[6] = {0x02, 0xcc, 0, 0, 0, 0xfe};

static struct rte_mempool *mp;

static struct {
	struct tg_config *cfg;
	struct tg_port_env env;
	struct tg_forward_table *ft;
	struct tg_forward_ctx *ctx;
	struct tg_emit emit;
	uint64_t hz, now;
} F;

/* ---- independent helpers ---- */

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

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static void
our_mac(uint16_t port, uint8_t *mac)
{
	static const uint8_t base[6] = {0x02, 0x00, 0, 0, 0, 0x10};

	memcpy(mac, base, 6);
	mac[5] = (uint8_t)(0x10 + port);
}

/* ---- fixture ---- */

static struct tg_config *
cfg_default(void)
{
	struct tg_config *c = calloc(1, sizeof(*c));
	static const struct {
		const char *name;
		uint32_t addr;
		uint8_t len;
		uint16_t mtu;
	} ifs[] = {{"lan", IP4(10, 0, 0, 1), 24, 1500},
		{"wan", IP4(192, 168, 1, 1), 24, 1500},
		{"dmz", IP4(172, 16, 0, 1), 30, 1400}};
	unsigned int i;

	c->arp = (struct tg_cfg_arp){.reachable_s = 300,
		.retry_ms = 1000,
		.max_retries = 3,
		.failed_hold_s = 3,
		.hold_packets = 4,
		.max_neighbors = 64};
	c->icmp = (struct tg_cfg_icmp){.ttl_exceeded = true,
		.unreachable = true,
		.rate = 100,
		.burst = 50};
	c->limits = (struct tg_cfg_limits){.max_routes = 1024, .lpm_tbl8 = 256};
	c->n_ports = 3;
	c->n_ifaces = 3;
	for (i = 0; i < 3; i++) {
		snprintf(c->ifaces[i].name, TG_NAME_MAX, "%s", ifs[i].name);
		c->ifaces[i].port = (uint16_t)i;
		c->ifaces[i].addr = ifs[i].addr;
		c->ifaces[i].prefix_len = ifs[i].len;
		c->ifaces[i].mtu = ifs[i].mtu;
	}
	c->n_routes = 3;
	c->routes = calloc(c->n_routes, sizeof(*c->routes));
	c->routes[0] = (struct tg_cfg_route){.prefix = IP4(10, 10, 0, 0),
		.len = 16,
		.via = IP4(10, 0, 0, 254),
		.iface = 0};
	c->routes[1] = (struct tg_cfg_route){
		.prefix = IP4(203, 0, 113, 0), .len = 24, .iface = 2};
	c->routes[2] = (struct tg_cfg_route){.prefix = IP4(198, 51, 100, 0),
		.len = 24,
		.via = IP4(192, 168, 1, 254),
		.iface = 1};
	c->n_neighbors = 1;
	c->neighbors = calloc(1, sizeof(*c->neighbors));
	c->neighbors[0].addr = IP4(192, 168, 1, 254);
	memcpy(c->neighbors[0].mac, GW_MAC, 6);
	c->neighbors[0].iface = 1;
	return c;
}

static void
cfg_free(struct tg_config *c)
{
	if (c == NULL)
		return;
	free(c->routes);
	free(c->neighbors);
	free(c);
}

static void
env_init(struct tg_port_env *env)
{
	static const uint16_t ids[3] = {P_LAN, P_WAN, P_DMZ};
	unsigned int i;

	memset(env, 0, sizeof(*env));
	env->n_ports = 3;
	for (i = 0; i < 3; i++) {
		env->port_id[i] = ids[i];
		our_mac(ids[i], env->mac[i].addr_bytes);
	}
}

static void
emit_clear(void)
{
	rte_pktmbuf_free_bulk(F.emit.pkts, F.emit.n);
	F.emit.n = 0;
	F.emit.generated = 0;
}

/* Build the table from F.cfg (generation @p gen) and, once, the ctx. */
static void
fx_build(uint64_t gen)
{
	char err[256];
	struct tg_forward_table *ft = NULL;

	CU_ASSERT_EQUAL_FATAL(tg_forward_build(F.cfg, &F.env, gen,
				      SOCKET_ID_ANY, &ft, err, sizeof(err)),
		0);
	tg_forward_table_free(F.ft);
	F.ft = ft;
	if (F.ctx == NULL) {
		F.ctx = tg_forward_ctx_create(
			mp, F.cfg->arp.max_neighbors, SOCKET_ID_ANY);
		CU_ASSERT_PTR_NOT_NULL_FATAL(F.ctx);
	}
}

static void
fx_setup(void)
{
	memset(&F, 0, sizeof(F));
	F.hz = rte_get_tsc_hz();
	F.now = 1000 * F.hz; /* synthetic TSC */
	F.cfg = cfg_default();
	env_init(&F.env);
}

static void
fx_teardown(void)
{
	emit_clear();
	tg_forward_ctx_free(F.ctx);
	tg_forward_table_free(F.ft);
	cfg_free(F.cfg);
	memset(&F, 0, sizeof(F));
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NB_MBUF);
}

/* ---- packets ---- */

static struct rte_mbuf *
ip_pkt(uint32_t src, uint32_t dst, uint8_t ttl, uint16_t ip_len,
	uint16_t rx_port, uint8_t mode, bool df)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p, *ip;
	uint16_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + ip_len));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 14);
	tg_test_put16(p + 12, 0x0800);
	ip = p + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	tg_test_put16(ip + 2, ip_len);
	tg_test_put16(ip + 6, df ? 0x4000 : 0);
	ip[8] = ttl;
	ip[9] = 17;
	tg_test_put32(ip + 12, src);
	tg_test_put32(ip + 16, dst);
	tg_test_put16(ip + 10, (uint16_t)~ref_sum(ip, 20));
	for (i = 20; i < ip_len; i++)
		ip[i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(tg_pkt_rx_one(m, rx_port), TG_V_NEXT);
	tg_meta(m)->mode = mode;
	tg_meta(m)->step = 1;
	return m;
}

static struct rte_mbuf *
transit(uint32_t src, uint32_t dst, uint8_t ttl, uint16_t rx_port)
{
	return ip_pkt(src, dst, ttl, 100, rx_port, TG_MODE_TRANSIT, false);
}

static uint8_t *
arp_bytes(uint8_t *f, uint16_t op, const uint8_t *eth_dst, const uint8_t *sha,
	uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	memcpy(f, eth_dst, 6);
	memcpy(f + 6, sha, 6);
	tg_test_put16(f + 12, 0x0806);
	tg_test_put16(f + 14, 1);
	tg_test_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	tg_test_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	tg_test_put32(f + 28, spa);
	memcpy(f + 32, tha, 6);
	tg_test_put32(f + 38, tpa);
	return f;
}

static struct rte_mbuf *
arp_pkt(uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa,
	uint16_t rx_port)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6];
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	p = (uint8_t *)rte_pktmbuf_append(m, 60); /* padded like a NIC */
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 60);
	arp_bytes(p, op, op == 1 ? bcast : PEER_MAC, sha, spa,
		op == 1 ? zero : PEER_MAC, tpa);
	CU_ASSERT_EQUAL_FATAL(tg_pkt_rx_one(m, rx_port), TG_V_NEXT);
	tg_meta(m)->mode = TG_MODE_ARP;
	return m;
}

/* Run one packet through the stage; free it unless stolen or kept. */
static uint16_t
fwd(struct rte_mbuf *m, bool keep)
{
	uint16_t v = 0xffff;

	tg_forward_burst(F.ft, F.ctx, &m, 1, &v, &F.emit, F.now);
	if (!keep && v != TG_V_STOLEN)
		rte_pktmbuf_free(m);
	return v;
}

static void
tick(uint64_t at)
{
	F.now = at;
	tg_forward_tick(F.ft, F.ctx, F.now, &F.emit);
}

static int
neigh_get(uint32_t addr, uint16_t port, struct tg_neigh_info *out)
{
	struct tg_neigh_info all[256];
	uint32_t n, total, i;

	n = tg_forward_neighbors_read(F.ctx, F.now, 0, all, 256, &total);
	for (i = 0; i < n; i++) {
		if (all[i].addr == addr && all[i].port == port) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}

/* An emitted packet should be an ICMP error of type/code about a packet
 * from @p to, sent from @p from, entering the source path. */
static void
check_icmp_emit(
	uint16_t k, uint8_t type, uint8_t code, uint32_t from, uint32_t to)
{
	struct rte_mbuf *e = F.emit.pkts[k];
	const uint8_t *ip = rte_pktmbuf_mtod_offset(e, uint8_t *, 14);

	CU_ASSERT_EQUAL(F.emit.verdict[k], TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT_EQUAL(tg_meta(e)->path, TG_PATH_SOURCE);
	CU_ASSERT_EQUAL(tg_meta(e)->step, 0);
	CU_ASSERT_EQUAL(ip[9], 1);
	CU_ASSERT_EQUAL(get32(ip + 12), from);
	CU_ASSERT_EQUAL(get32(ip + 16), to);
	CU_ASSERT_EQUAL(ip[20], type);
	CU_ASSERT_EQUAL(ip[21], code);
	CU_ASSERT_EQUAL(ref_sum(ip, 20), 0xffff);
	CU_ASSERT_EQUAL(ref_sum(ip + 20, e->data_len - 34u), 0xffff);
}

/* ---- build: invalid input ---- */

static void
test_forward_build_too_many_routes(void)
{
	struct tg_forward_table *ft = (void *)1;
	char err[256] = "";
	uint32_t i;

	F.cfg->limits.max_routes = 4;
	free(F.cfg->routes);
	F.cfg->n_routes = 10;
	F.cfg->routes = calloc(10, sizeof(*F.cfg->routes));
	for (i = 0; i < 10; i++)
		F.cfg->routes[i] =
			(struct tg_cfg_route){.prefix = IP4(10, 20, i, 0),
				.len = 24,
				.via = IP4(10, 0, 0, 254),
				.iface = 0};
	CU_ASSERT_EQUAL(tg_forward_build(F.cfg, &F.env, 1, SOCKET_ID_ANY, &ft,
				err, sizeof(err)),
		-ENOSPC);
	CU_ASSERT_PTR_NULL(ft);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "routes[4]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "limits.max_routes/lpm_tbl8"));

	/* tbl8 groups run out: each /25 in its own /24 needs one. */
	F.cfg->limits.max_routes = 100;
	F.cfg->limits.lpm_tbl8 = 2;
	for (i = 0; i < 10; i++)
		F.cfg->routes[i].len = 25;
	CU_ASSERT_EQUAL(tg_forward_build(F.cfg, &F.env, 1, SOCKET_ID_ANY, &ft,
				err, sizeof(err)),
		-ENOSPC);
	/* Groups: dmz's connected /30, routes[0]; routes[1] fails. */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "routes[1]:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "limits.max_routes/lpm_tbl8"));
}

static void
test_forward_build_bad_port(void)
{
	struct tg_forward_table *ft = NULL;
	char err[256] = "";

	F.env.n_ports = 2; /* interfaces[2] is on config port 2 */
	CU_ASSERT_EQUAL(tg_forward_build(F.cfg, &F.env, 1, SOCKET_ID_ANY, &ft,
				err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NULL(ft);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "interfaces[2]"));
}

/* ---- build and lookup ---- */

struct ref_route {
	uint32_t prefix;
	uint8_t len, type;
	uint16_t port;
	uint32_t via;
};

/* Longest match; on equal prefixes the one installed last wins. */
static const struct ref_route *
ref_lookup(const struct ref_route *r, uint32_t n, uint32_t a)
{
	const struct ref_route *best = NULL;
	uint32_t i;

	for (i = 0; i < n; i++)
		if ((a & mask_of(r[i].len)) == r[i].prefix &&
			(best == NULL || r[i].len >= best->len))
			best = &r[i];
	return best;
}

/* The FIB's answer for @p a: an nh[] index, or n_nh for no route. */
static uint64_t
fib_lookup(uint32_t a)
{
	uint64_t idx = UINT64_MAX;

	CU_ASSERT_EQUAL_FATAL(rte_fib_lookup_bulk(F.ft->fib, &a, &idx, 1), 0);
	return idx;
}

static int
route_info_cmp(const void *x, const void *y)
{
	const struct tg_route_info *a = x, *b = y;

	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return (int)a->len - (int)b->len;
}

/* Distinct (prefix, len) among the @p n reference routes. */
static uint32_t
ref_distinct(const struct ref_route *ref, uint32_t n)
{
	struct tg_route_info *k = calloc(n + 1, sizeof(*k));
	uint32_t i, d = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	for (i = 0; i < n; i++)
		k[i] = (struct tg_route_info){
			.prefix = ref[i].prefix, .len = ref[i].len};
	qsort(k, n, sizeof(*k), route_info_cmp);
	for (i = 0; i < n; i++)
		d += i == 0 || route_info_cmp(&k[i - 1], &k[i]) != 0;
	free(k);
	return d;
}

/*
 * @p nr random static routes (lengths 0..32, some duplicates, some equal
 * to a connected subnet) over the fixture's interfaces, built, then
 * @p n_edge lookups around prefix edges and @p n_rand random ones checked
 * against a brute-force longest match. @p ref has room for nr + 8.
 */
static void
lpm_check(uint32_t nr, struct ref_route *ref, uint32_t n_edge, uint32_t n_rand,
	unsigned int seed)
{
	static const uint16_t pid[3] = {P_LAN, P_WAN, P_DMZ};
	uint32_t n = 0, i, j, a, e, step, bad = 0, span[3] = {0};
	const struct ref_route *want;
	struct tg_route_info *sorted;
	struct tg_cfg_route *r;
	uint64_t idx;

	srand(seed);
	F.cfg->limits.max_routes = nr;
	F.cfg->limits.lpm_tbl8 = 65536;
	free(F.cfg->routes);
	F.cfg->n_routes = nr;
	F.cfg->routes = calloc(nr, sizeof(*r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(F.cfg->routes);
	for (i = 0; i < 3; i++) /* connected */
		ref[n++] = (struct ref_route){
			F.cfg->ifaces[i].addr &
				mask_of(F.cfg->ifaces[i].prefix_len),
			F.cfg->ifaces[i].prefix_len, TG_NH_CONNECTED, pid[i],
			0};
	for (i = 0; i < nr; i++) {
		r = &F.cfg->routes[i];
		r->len = (uint8_t)(rand() % 33);
		/* Some duplicates and some hitting the connected subnets. */
		if (i > 0 && rand() % 20 == 0)
			*r = F.cfg->routes[rand() % i];
		else if (rand() % 50 == 0)
			r->prefix = F.cfg->ifaces[rand() % 3].addr, r->len = 24;
		else
			r->prefix = ((uint32_t)rand() << 1 ^ (uint32_t)rand()) &
				    mask_of(r->len);
		r->prefix &= mask_of(r->len);
		r->iface = (uint16_t)(rand() % 3);
		r->via = rand() % 3 ? IP4(10, 0, 0, 1 + rand() % 8) : 0;
	}
	/* Statics in config order, default routes after the others. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < nr; i++) {
			r = &F.cfg->routes[i];
			if ((j == 0) == (r->len == 0))
				continue;
			ref[n++] = (struct ref_route){r->prefix, r->len,
				r->via ? TG_NH_VIA : TG_NH_CONNECTED,
				pid[r->iface], r->via};
		}
	for (i = 0; i < 3; i++) /* our addresses */
		ref[n++] = (struct ref_route){
			F.cfg->ifaces[i].addr, 32, TG_NH_LOCAL, pid[i], 0};
	fx_build(1);

	for (i = 0; i < n_edge + n_rand; i++) {
		if (i < n_edge) { /* around a prefix edge: all, or some */
			e = n_edge / 3 >= n ? i / 3 : (uint32_t)rand() % n;
			/* its first address, its last, the one after */
			span[1] = ~mask_of(ref[e].len);
			span[2] = span[1] + 1;
			a = ref[e].prefix + span[i % 3];
		} else {
			a = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		}
		want = ref_lookup(ref, n, a);
		idx = fib_lookup(a);
		if (want == NULL ? idx == F.ft->n_nh
				 : idx < F.ft->n_nh &&
					   F.ft->nh[idx].type == want->type &&
					   F.ft->nh[idx].port == want->port &&
					   F.ft->nh[idx].via == want->via)
			continue;
		if (bad++ < 5)
			printf("\n%u.%u.%u.%u: want %s/%u, got nh %" PRIu64
			       " of %u\n",
				a >> 24, a >> 16 & 0xff, a >> 8 & 0xff,
				a & 0xff, want ? "route" : "none",
				want ? want->len : 0, idx, F.ft->n_nh);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* Next hops are deduplicated: at most 3 ifaces x (8 via + 2). */
	CU_ASSERT(F.ft->n_nh <= 30);
	/* route_info: one per distinct prefix (as many as the reference
	 * has), each pointing at the winner; sampled when there are many. */
	CU_ASSERT_EQUAL(F.ft->n_routes, ref_distinct(ref, n));
	sorted = malloc(sizeof(*sorted) * (F.ft->n_routes + 1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(sorted);
	memcpy(sorted, F.ft->routes, sizeof(*sorted) * F.ft->n_routes);
	qsort(sorted, F.ft->n_routes, sizeof(*sorted), route_info_cmp);
	for (i = 1; i < F.ft->n_routes; i++)
		CU_ASSERT(route_info_cmp(&sorted[i - 1], &sorted[i]) != 0);
	free(sorted);
	step = F.ft->n_routes / 1000 + 1;
	for (i = 0; i < F.ft->n_routes; i += step) {
		const struct tg_route_info *ri = &F.ft->routes[i];

		want = ref_lookup(ref, n, ri->prefix);
		CU_ASSERT_FATAL(want != NULL);
		if (want->len == ri->len) {
			CU_ASSERT_EQUAL(F.ft->nh[ri->nh].type, want->type);
			CU_ASSERT_EQUAL(F.ft->nh[ri->nh].via, want->via);
		}
	}
}

static void
test_forward_lpm_vs_reference(void)
{
	static struct ref_route ref[600 + 8];

	/* Every prefix edge, then random addresses. */
	lpm_check(600, ref, 3 * (600 + 6), 200000 - 3 * (600 + 6), 4242);
}

static void
test_forward_lpm_100k(void)
{
	enum { NR = 100000 };
	static struct ref_route ref[NR + 8];

	/* The build must be fast (rte_fib): a few thousand brute-force
	 * lookups take most of the time here. */
	lpm_check(NR, ref, 3000, 3000, 777);
}

/* Routes whose ranges end at 255.255.255.255, the shortest listed last,
 * then with a default route too. DPDK 22.11's DIR24_8 rewrites the whole
 * table when 192.0.0.0/2 is added after the other two (the builder adds
 * shortest prefixes first to stay clear of that). */
static void
test_forward_lpm_top_of_space(void)
{
	static const struct {
		uint32_t prefix;
		uint8_t len;
		uint32_t via;
	} rt[] = {{IP4(220, 0, 0, 0), 6, IP4(10, 0, 0, 6)},
		{IP4(224, 0, 0, 0), 3, IP4(10, 0, 0, 3)},
		{IP4(192, 0, 0, 0), 2, IP4(10, 0, 0, 2)},
		{IP4(255, 255, 255, 255), 32, IP4(10, 0, 0, 32)}};
	static const struct {
		uint32_t a, via; /* via 0: no route */
	} look[] = {{IP4(8, 8, 8, 8), 0}, {IP4(191, 255, 255, 255), 0},
		{IP4(192, 0, 0, 0), IP4(10, 0, 0, 2)},
		{IP4(219, 255, 255, 255), IP4(10, 0, 0, 2)},
		{IP4(220, 0, 0, 0), IP4(10, 0, 0, 6)},
		{IP4(223, 255, 255, 255), IP4(10, 0, 0, 6)},
		{IP4(224, 0, 0, 0), IP4(10, 0, 0, 3)},
		{IP4(255, 255, 255, 254), IP4(10, 0, 0, 3)},
		{IP4(255, 255, 255, 255), IP4(10, 0, 0, 32)}};
	unsigned int i, pass;
	uint64_t idx;

	for (pass = 0; pass < 2; pass++) {
		free(F.cfg->routes);
		F.cfg->n_routes = RTE_DIM(rt) + pass; /* pass 1: + default */
		F.cfg->routes = calloc(F.cfg->n_routes, sizeof(*F.cfg->routes));
		for (i = 0; i < RTE_DIM(rt); i++)
			F.cfg->routes[i] =
				(struct tg_cfg_route){.prefix = rt[i].prefix,
					.len = rt[i].len,
					.via = rt[i].via,
					.iface = 0};
		if (pass == 1)
			F.cfg->routes[i] = (struct tg_cfg_route){
				.via = IP4(10, 0, 0, 99), .iface = 0};
		fx_build(1 + pass);
		for (i = 0; i < RTE_DIM(look); i++) {
			uint32_t via = look[i].via;

			if (via == 0 && pass == 1)
				via = IP4(10, 0, 0, 99);
			idx = fib_lookup(look[i].a);
			if (via == 0) {
				CU_ASSERT_EQUAL(idx, F.ft->n_nh);
				continue;
			}
			CU_ASSERT_FATAL(idx < F.ft->n_nh);
			CU_ASSERT_EQUAL(F.ft->nh[idx].via, via);
		}
		/* The listing: 3 connected, the routes, 3 local /32s. */
		CU_ASSERT_EQUAL(F.ft->n_routes, 3 + F.cfg->n_routes + 3);
		if (pass == 1) {
			CU_ASSERT_EQUAL(F.ft->routes[3 + RTE_DIM(rt)].len, 0);
			CU_ASSERT_EQUAL(
				F.ft->routes[3 + RTE_DIM(rt)].origin, 1);
		}
	}
}

static void
test_forward_local_table(void)
{
	uint32_t i, a, found = 0, h0;
	struct tg_cfg_iface *ci;

	/* Three addresses that share a hash slot: probing must work. */
	h0 = tg_local_hash(IP4(10, 0, 0, 1));
	for (a = IP4(10, 0, 1, 1); found < 2; a++) {
		if (tg_local_hash(a) != h0)
			continue;
		ci = &F.cfg->ifaces[1 + found];
		ci->addr = a;
		ci->prefix_len = 32;
		found++;
	}
	F.cfg->n_routes = 0;
	F.cfg->n_neighbors = 0;
	fx_build(1);
	for (i = 0; i < 3; i++)
		CU_ASSERT_TRUE(
			tg_forward_is_local(F.ft, F.cfg->ifaces[i].addr));
	CU_ASSERT_FALSE(tg_forward_is_local(F.ft, IP4(10, 0, 0, 2)));
	CU_ASSERT_FALSE(tg_forward_is_local(F.ft, 0));
	for (i = 0; i < 100000; i++) {
		a = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		CU_ASSERT_EQUAL(tg_forward_is_local(F.ft, a),
			a == F.cfg->ifaces[0].addr ||
				a == F.cfg->ifaces[1].addr ||
				a == F.cfg->ifaces[2].addr);
	}
	CU_ASSERT_TRUE(F.ft->ifaces[P_WAN].configured);
	CU_ASSERT_FALSE(F.ft->ifaces[2].configured);
	CU_ASSERT_EQUAL(F.ft->ifaces[P_DMZ].mtu, 1400);
	CU_ASSERT_EQUAL(F.ft->ifaces[P_LAN].mask, IP4(255, 255, 255, 0));
}

/* ---- transit and source paths ---- */

static void
test_forward_ttl_exceeded(void)
{
	struct rte_mbuf *m, *icmp;
	const uint8_t *eth;

	fx_build(1);
	/* From a host behind the static gateway, so the error can leave. */
	m = transit(IP4(198, 51, 100, 7), IP4(10, 10, 1, 1), 1, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(TTL_EXCEEDED));
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 1);
	CU_ASSERT_EQUAL(F.emit.generated, 1);
	check_icmp_emit(0, 11, 0, IP4(192, 168, 1, 1), IP4(198, 51, 100, 7));
	CU_ASSERT_EQUAL(CNT(ICMP_TTL_SENT), 1);
	m = transit(IP4(198, 51, 100, 7), IP4(10, 10, 1, 1), 0, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(TTL_EXCEEDED));
	CU_ASSERT_EQUAL(F.emit.n, 2);
	CU_ASSERT_EQUAL(CNT(ICMP_TTL_SENT), 2);

	/* The error then takes the source path through forward (OUT). */
	icmp = F.emit.pkts[0];
	rte_pktmbuf_free(F.emit.pkts[1]);
	F.emit.n = 0;
	tg_meta(icmp)->mode = TG_MODE_OUT;
	CU_ASSERT_EQUAL(fwd(icmp, true), TG_V_NEXT);
	eth = rte_pktmbuf_mtod(icmp, uint8_t *);
	CU_ASSERT_EQUAL(memcmp(eth, GW_MAC, 6), 0);
	CU_ASSERT_EQUAL(eth[6 + 5], 0x10 + P_WAN);
	CU_ASSERT_EQUAL(tg_meta(icmp)->tx_if, P_WAN);
	CU_ASSERT_EQUAL(eth[14 + 8], 64); /* no TTL change on OUT */
	rte_pktmbuf_free(icmp);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_ttl_decrement(void)
{
	struct rte_mbuf *m;
	const uint8_t *p;
	uint8_t mac[6];

	fx_build(1);
	m = transit(IP4(10, 0, 0, 50), IP4(198, 51, 100, 9), 64, P_LAN);
	CU_ASSERT_EQUAL_FATAL(fwd(m, true), TG_V_NEXT);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT_EQUAL(p[14 + 8], 63);
	CU_ASSERT_EQUAL(ref_sum(p + 14, 20), 0xffff);
	CU_ASSERT_EQUAL(memcmp(p, GW_MAC, 6), 0);
	our_mac(P_WAN, mac);
	CU_ASSERT_EQUAL(memcmp(p + 6, mac, 6), 0);
	CU_ASSERT_EQUAL(p[12], 0x08);
	CU_ASSERT_EQUAL(p[13], 0x00);
	CU_ASSERT_EQUAL(tg_meta(m)->tx_if, P_WAN);
	CU_ASSERT_EQUAL(tg_meta(m)->nh_ip, IP4(192, 168, 1, 254));
	CU_ASSERT_EQUAL(tg_meta(m)->rx_if, P_LAN);
	CU_ASSERT_EQUAL(m->pkt_len, 114);
	rte_pktmbuf_free(m);
	m = transit(IP4(10, 0, 0, 50), IP4(198, 51, 100, 9), 2, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, true), TG_V_NEXT);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, uint8_t *)[14 + 8], 1);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_no_route(void)
{
	struct rte_mbuf *m;

	fx_build(1);
	m = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 1);
	check_icmp_emit(0, 3, 0, IP4(10, 0, 0, 1), IP4(10, 0, 0, 50));
	CU_ASSERT_EQUAL(CNT(ICMP_UNREACH_SENT), 1);
	emit_clear();

	/* No error: source path; unconfigured rx port; about an ICMP
	 * error; a non-first fragment. */
	m = ip_pkt(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, 100, P_LAN,
		TG_MODE_OUT, false);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	m = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, 2);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	m = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, P_LAN);
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 9] = 1;  /* ICMP */
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 20] = 3; /* dest unreachable */
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	m = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, P_LAN);
	rte_pktmbuf_mtod(m, uint8_t *)[14 + 7] = 0x10; /* offset 16 */
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	CU_ASSERT_EQUAL(F.emit.n, 0);

	/* Disabled in the config (a new generation). */
	F.cfg->icmp.unreachable = false;
	fx_build(2);
	m = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_ROUTE));
	CU_ASSERT_EQUAL(F.emit.n, 0);
	CU_ASSERT_EQUAL(CNT(ICMP_UNREACH_SENT), 1);
}

/* A burst longer than one bulk lookup, IP and ARP packets interleaved:
 * each IP packet gets its own lookup result, in order (the ARP request
 * early in the burst teaches the neighbor later packets go to). */
static void
test_forward_mixed_burst(void)
{
	enum { N = 70 };
	struct rte_mbuf *m[N];
	uint16_t v[N], i;
	const uint8_t *eth;

	fx_build(1);
	for (i = 0; i < N; i++) {
		switch (i % 5) {
		case 0: /* via the static gateway */
			m[i] = transit(IP4(10, 0, 0, 50), IP4(198, 51, 100, i),
				64, P_LAN);
			break;
		case 1: /* ARP request for us */
			m[i] = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7),
				IP4(10, 0, 0, 1), P_LAN);
			break;
		case 2: /* no route, source path (no ICMP error) */
			m[i] = ip_pkt(IP4(10, 0, 0, 1), IP4(8, 8, 8, i), 64,
				100, P_LAN, TG_MODE_OUT, false);
			break;
		case 3: /* one of our addresses */
			m[i] = transit(IP4(10, 0, 0, 50), IP4(192, 168, 1, 1),
				64, P_LAN);
			break;
		default: /* the neighbor learned at i = 1 */
			m[i] = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 7),
				64, P_WAN);
			break;
		}
	}
	tg_forward_burst(F.ft, F.ctx, m, N, v, &F.emit, F.now);
	for (i = 0; i < N; i++) {
		eth = rte_pktmbuf_mtod(m[i], const uint8_t *);
		switch (i % 5) {
		case 0:
			CU_ASSERT_EQUAL(v[i], TG_V_NEXT);
			CU_ASSERT_EQUAL(tg_meta(m[i])->tx_if, P_WAN);
			CU_ASSERT_EQUAL(memcmp(eth, GW_MAC, 6), 0);
			CU_ASSERT_EQUAL(eth[14 + 8], 63);
			CU_ASSERT_EQUAL(eth[14 + 19], i);
			break;
		case 1:
			CU_ASSERT_EQUAL(v[i], TG_V_TX);
			break;
		case 2:
			CU_ASSERT_EQUAL(v[i], FDROP(NO_ROUTE));
			break;
		case 3:
			CU_ASSERT_EQUAL(v[i], FDROP(LOCAL_IN_TRANSIT));
			break;
		default:
			CU_ASSERT_EQUAL(v[i], TG_V_NEXT);
			CU_ASSERT_EQUAL(tg_meta(m[i])->tx_if, P_LAN);
			CU_ASSERT_EQUAL(memcmp(eth, PEER_MAC, 6), 0);
			break;
		}
	}
	rte_pktmbuf_free_bulk(m, N);
	CU_ASSERT_EQUAL(F.emit.n, 0);
	CU_ASSERT_EQUAL(CNT(ARP_REPLY_SENT), N / 5);
}

static void
test_forward_icmp_ratelimit(void)
{
	struct rte_mbuf *m[10];
	uint16_t v[10], i;

	F.cfg->icmp.rate = 1;
	F.cfg->icmp.burst = 3;
	fx_build(1);
	for (i = 0; i < 10; i++)
		m[i] = transit(IP4(10, 0, 0, 50), IP4(10, 10, 1, 1), 1, P_LAN);
	tg_forward_burst(F.ft, F.ctx, m, 10, v, &F.emit, F.now);
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(v[i], FDROP(TTL_EXCEEDED));
	rte_pktmbuf_free_bulk(m, 10);
	CU_ASSERT_EQUAL(F.emit.n, 3);
	CU_ASSERT_EQUAL(CNT(ICMP_TTL_SENT), 3);
	CU_ASSERT_EQUAL(CNT(ICMP_RATELIMITED), 7);
	/* One second later: one more token. */
	F.now += F.hz;
	for (i = 0; i < 2; i++)
		m[i] = transit(IP4(10, 0, 0, 50), IP4(8, 8, 8, 8), 64, P_LAN);
	tg_forward_burst(F.ft, F.ctx, m, 2, v, &F.emit, F.now);
	rte_pktmbuf_free_bulk(m, 2);
	CU_ASSERT_EQUAL(F.emit.n, 4);
	CU_ASSERT_EQUAL(CNT(ICMP_UNREACH_SENT), 1);
	CU_ASSERT_EQUAL(CNT(ICMP_RATELIMITED), 8);
}

static void
test_forward_drop_reasons(void)
{
	uint16_t saved_mtu[64] = {0};
	struct rte_mbuf *m;
	uint32_t i;
	const uint8_t *ip;

	fx_build(1);
	m = transit(IP4(10, 0, 0, 50), IP4(192, 168, 1, 1), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(LOCAL_IN_TRANSIT));
	m = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 255), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(BROADCAST));
	m = transit(IP4(192, 168, 1, 9), IP4(172, 16, 0, 3), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(BROADCAST)); /* /30 */
	CU_ASSERT_EQUAL(F.emit.n, 0);

	/* DMZ MTU 1400: DF set → "fragmentation needed" with the MTU. */
	m = ip_pkt(IP4(10, 0, 0, 50), IP4(203, 0, 113, 5), 64, 1401, P_LAN,
		TG_MODE_TRANSIT, true);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(MTU_EXCEEDED));
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 1);
	check_icmp_emit(0, 3, 4, IP4(10, 0, 0, 1), IP4(10, 0, 0, 50));
	ip = rte_pktmbuf_mtod_offset(F.emit.pkts[0], uint8_t *, 14);
	CU_ASSERT_EQUAL(ip[26] << 8 | ip[27], 1400);
	CU_ASSERT_EQUAL(ip[28 + 8], 64); /* quoted as received */
	m = ip_pkt(IP4(10, 0, 0, 50), IP4(203, 0, 113, 5), 64, 1401, P_LAN,
		TG_MODE_TRANSIT, false);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(MTU_EXCEEDED));
	CU_ASSERT_EQUAL(F.emit.n, 1);
	m = ip_pkt(IP4(10, 0, 0, 50), IP4(203, 0, 113, 5), 64, 1400, P_LAN,
		TG_MODE_TRANSIT, true);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_STOLEN); /* fits: ARP */
	emit_clear();

	/* A table whose next-hop port lost its interface (as the builder
	 * makes it: the next hops' copy of the MTU is 0 too). */
	CU_ASSERT_FATAL(F.ft->n_nh <= RTE_DIM(saved_mtu));
	F.ft->ifaces[P_WAN].configured = false;
	for (i = 0; i < F.ft->n_nh; i++)
		if (F.ft->nh[i].port == P_WAN) {
			saved_mtu[i] = F.ft->nh[i].mtu;
			F.ft->nh[i].mtu = 0;
		}
	m = transit(IP4(10, 0, 0, 50), IP4(198, 51, 100, 9), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_INTERFACE));
	F.ft->ifaces[P_WAN].configured = true;
	for (i = 0; i < F.ft->n_nh; i++)
		if (F.ft->nh[i].port == P_WAN)
			F.ft->nh[i].mtu = saved_mtu[i];
}

/* ---- ARP ---- */

static void
test_forward_arp_malformed(void)
{
	struct rte_mbuf *m;

	fx_build(1);
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	rte_pktmbuf_mtod(m, uint8_t *)[15] = 6; /* htype 6 */
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_MALFORMED));
	m = arp_pkt(3, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_MALFORMED));
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	rte_pktmbuf_mtod(m, uint8_t *)[19] = 16; /* plen */
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_MALFORMED));
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	rte_pktmbuf_mtod(m, uint8_t *)[17] = 0xdd; /* ptype 0x08dd */
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_MALFORMED));
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), 2);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NO_INTERFACE));
	CU_ASSERT_EQUAL(F.emit.n, 0);
	CU_ASSERT_EQUAL(CNT(ARP_LEARNED), 0);
}

static void
test_forward_arp_request_for_us(void)
{
	struct rte_mbuf *m;
	struct tg_neigh_info ni;
	uint8_t exp[42], mac[6];

	fx_build(1);
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL_FATAL(fwd(m, true), TG_V_TX);
	our_mac(P_LAN, mac);
	arp_bytes(exp, 2, PEER_MAC, mac, IP4(10, 0, 0, 1), PEER_MAC,
		IP4(10, 0, 0, 7));
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, uint8_t *), exp, 42), 0);
	CU_ASSERT_EQUAL(tg_meta(m)->tx_if, P_LAN);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(CNT(ARP_REPLY_SENT), 1);
	CU_ASSERT_EQUAL(CNT(ARP_LEARNED), 1);
	/* The asker was learned: traffic to it goes at once. */
	CU_ASSERT_EQUAL_FATAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(memcmp(ni.mac.addr_bytes, PEER_MAC, 6), 0);
	m = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 7), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, true), TG_V_NEXT);
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(m, uint8_t *), PEER_MAC, 6), 0);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_arp_not_ours(void)
{
	struct rte_mbuf *m;
	struct tg_neigh_info ni;

	fx_build(1);
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 8), IP4(10, 0, 0, 99), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_NOT_OURS));
	/* Our address, but on another interface. */
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 8), IP4(192, 168, 1, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_NOT_OURS));
	/* Gratuitous ARP and unsolicited replies: consumed. */
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 8), IP4(10, 0, 0, 8), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_REPLY));
	m = arp_pkt(2, PEER_MAC, IP4(10, 0, 0, 8), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_REPLY));
	/* None of them creates an entry. */
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 8), P_LAN, &ni), -1);
	CU_ASSERT_EQUAL(CNT(ARP_LEARNED), 0);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_arp_resolve(void)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t zero[6];
	struct rte_mbuf *h[2], *m, *r;
	struct tg_neigh_info ni;
	uint8_t exp[42], mac[6];
	const uint8_t *p;
	int i;

	fx_build(1);
	our_mac(P_LAN, mac);
	h[0] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	CU_ASSERT_EQUAL_FATAL(fwd(h[0], false), TG_V_STOLEN);
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 1);
	CU_ASSERT_EQUAL(F.emit.generated, 1);
	CU_ASSERT_EQUAL(F.emit.verdict[0], TG_V_TX);
	r = F.emit.pkts[0];
	CU_ASSERT_EQUAL(tg_meta(r)->tx_if, P_LAN);
	CU_ASSERT_EQUAL(tg_meta(r)->flags, TG_META_F_GENERATED);
	CU_ASSERT_EQUAL(r->pkt_len, 42);
	arp_bytes(
		exp, 1, bcast, mac, IP4(10, 0, 0, 1), zero, IP4(10, 0, 0, 254));
	CU_ASSERT_EQUAL(memcmp(rte_pktmbuf_mtod(r, uint8_t *), exp, 42), 0);
	h[1] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 2, 2), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(h[1], false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(F.emit.n, 1); /* no second request */
	CU_ASSERT_EQUAL(CNT(HELD), 2);
	CU_ASSERT_EQUAL(CNT(ARP_REQ_SENT), 1);
	CU_ASSERT_EQUAL_FATAL(neigh_get(IP4(10, 0, 0, 254), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(ni.held, 2);
	emit_clear();

	m = arp_pkt(2, PEER_MAC, IP4(10, 0, 0, 254), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_REPLY));
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 2);
	CU_ASSERT_EQUAL(F.emit.generated, 0);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_PTR_EQUAL(F.emit.pkts[i], h[i]); /* in order */
		CU_ASSERT_EQUAL(F.emit.verdict[i], TG_V_NEXT);
		p = rte_pktmbuf_mtod(h[i], uint8_t *);
		CU_ASSERT_EQUAL(memcmp(p, PEER_MAC, 6), 0);
		CU_ASSERT_EQUAL(memcmp(p + 6, mac, 6), 0);
		CU_ASSERT_EQUAL(p[14 + 8], 63);
		CU_ASSERT_EQUAL(tg_meta(h[i])->tx_if, P_LAN);
		CU_ASSERT_EQUAL(tg_meta(h[i])->nh_ip, IP4(10, 0, 0, 254));
		CU_ASSERT_EQUAL(tg_meta(h[i])->step, 1);
	}
	CU_ASSERT_EQUAL(CNT(RELEASED), 2);
	emit_clear();
	m = transit(IP4(192, 168, 1, 50), IP4(10, 10, 3, 3), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_NEXT);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_arp_retries_failed(void)
{
	struct rte_mbuf *h[2];
	struct tg_neigh_info ni;
	uint64_t t0;

	fx_build(1);
	t0 = F.now;
	h[0] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	h[1] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 2), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(h[0], false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(fwd(h[1], false), TG_V_STOLEN);
	emit_clear();
	tick(t0 + F.hz - 1);
	CU_ASSERT_EQUAL(F.emit.n, 0);
	tick(t0 + F.hz);
	CU_ASSERT_EQUAL(F.emit.n, 1);
	CU_ASSERT_EQUAL(F.emit.verdict[0], TG_V_TX);
	tick(t0 + F.hz + 10);
	CU_ASSERT_EQUAL(F.emit.n, 1);
	tick(t0 + 2 * F.hz);
	CU_ASSERT_EQUAL(F.emit.n, 2);
	CU_ASSERT_EQUAL(CNT(ARP_REQ_SENT), 3);
	emit_clear();

	/* max_retries (3) requests unanswered: FAILED. */
	tick(t0 + 3 * F.hz);
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 3);
	check_icmp_emit(0, 3, 1, IP4(192, 168, 1, 1), IP4(192, 168, 1, 50));
	CU_ASSERT_PTR_EQUAL(F.emit.pkts[1], h[0]);
	CU_ASSERT_PTR_EQUAL(F.emit.pkts[2], h[1]);
	CU_ASSERT_EQUAL(F.emit.verdict[1], FDROP(ARP_FAILED));
	CU_ASSERT_EQUAL(F.emit.verdict[2], FDROP(ARP_FAILED));
	CU_ASSERT_EQUAL(F.emit.generated, 1);
	CU_ASSERT_EQUAL(CNT(ICMP_UNREACH_SENT), 1);
	emit_clear();
	CU_ASSERT_EQUAL_FATAL(neigh_get(IP4(10, 0, 0, 254), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_FAILED);
	CU_ASSERT_EQUAL(ni.held, 0);
	/* Failed: dropped at once, no request, until failed_hold (3 s). */
	h[0] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(h[0], false), FDROP(ARP_FAILED));
	CU_ASSERT_EQUAL(F.emit.n, 0);
	tick(t0 + 6 * F.hz - 1);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 254), P_LAN, &ni), 0);
	tick(t0 + 6 * F.hz);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 254), P_LAN, &ni), -1);
	h[0] = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(h[0], false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(F.emit.n, 1);
	CU_ASSERT_EQUAL(CNT(ARP_REQ_SENT), 4);
}

static void
test_forward_arp_hold_full(void)
{
	struct rte_mbuf *m;
	int i;

	fx_build(1);
	for (i = 0; i < 4; i++) {
		m = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
		CU_ASSERT_EQUAL(fwd(m, false), TG_V_STOLEN);
	}
	m = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_HOLD_FULL));
	CU_ASSERT_EQUAL(CNT(HELD), 4);
	CU_ASSERT_EQUAL(F.emit.n, 1);
	/* ctx_free (teardown) frees the held packets. */
}

static void
test_forward_neigh_full(void)
{
	struct rte_mbuf *m;

	F.cfg->arp.max_neighbors = 2; /* the static one takes a slot */
	fx_build(1);
	m = transit(IP4(192, 168, 1, 50), IP4(10, 10, 1, 1), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_STOLEN);
	m = transit(IP4(192, 168, 1, 50), IP4(10, 0, 0, 77), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(NEIGH_FULL));
	CU_ASSERT_EQUAL(F.emit.n, 1);
}

static void
test_forward_static_neighbor(void)
{
	struct rte_mbuf *m;
	struct tg_neigh_info ni;
	static const uint8_t other[6] = {0x02, 0xdd, 0, 0, 0, 9};

	fx_build(1);
	m = transit(IP4(10, 0, 0, 50), IP4(198, 51, 100, 9), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_NEXT);
	m = arp_pkt(
		2, other, IP4(192, 168, 1, 254), IP4(192, 168, 1, 1), P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_REPLY));
	m = arp_pkt(
		1, other, IP4(192, 168, 1, 254), IP4(192, 168, 1, 1), P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_TX);
	tick(F.now + 10000 * F.hz);
	CU_ASSERT_EQUAL_FATAL(neigh_get(IP4(192, 168, 1, 254), P_WAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_STATIC);
	CU_ASSERT_EQUAL(memcmp(ni.mac.addr_bytes, GW_MAC, 6), 0);
	CU_ASSERT_EQUAL(CNT(ARP_LEARNED), 0);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_stale(void)
{
	struct rte_mbuf *m;
	struct tg_neigh_info ni;
	uint64_t t0, reach;
	int i;

	fx_build(1);
	t0 = F.now;
	reach = 300 * F.hz;
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_TX);
	tick(t0 + reach - 1);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_REACHABLE);
	tick(t0 + reach);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_STALE);
	/* Used while stale: forwarded, and re-requested once per retry. */
	for (i = 0; i < 3; i++) {
		m = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 7), 64, P_WAN);
		CU_ASSERT_EQUAL(fwd(m, false), TG_V_NEXT);
		m = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 7), 64, P_WAN);
		CU_ASSERT_EQUAL(fwd(m, false), TG_V_NEXT);
		CU_ASSERT_EQUAL(F.emit.n, (uint16_t)(i + 1));
		F.now += F.hz;
	}
	/* Three re-requests unanswered: resolution starts over. */
	m = transit(IP4(192, 168, 1, 9), IP4(10, 0, 0, 7), 64, P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(F.emit.n, 4);
	emit_clear();
	/* A reply makes it reachable again and releases the packet. */
	m = arp_pkt(2, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), FDROP(ARP_REPLY));
	CU_ASSERT_EQUAL(F.emit.n, 1);
	CU_ASSERT_EQUAL(F.emit.verdict[0], TG_V_NEXT);
	emit_clear();
	/* Unused: stale after one period, gone after another. */
	tick(F.now + reach);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_STALE);
	tick(F.now + reach);
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), -1);
	CU_ASSERT_EQUAL(F.emit.n, 0);
}

static void
test_forward_resync(void)
{
	struct rte_mbuf *m, *held;
	struct tg_neigh_info ni;
	static const uint8_t other[6] = {0x02, 0xdd, 0, 0, 0, 9};

	fx_build(1);
	/* Dynamic 10.0.0.7 (lan), dynamic 192.168.1.253 (wan), a packet
	 * held for 203.0.113.5 (dmz, on-link route). */
	m = arp_pkt(1, PEER_MAC, IP4(10, 0, 0, 7), IP4(10, 0, 0, 1), P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_TX);
	m = arp_pkt(
		1, other, IP4(192, 168, 1, 253), IP4(192, 168, 1, 1), P_WAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_TX);
	held = transit(IP4(10, 0, 0, 50), IP4(203, 0, 113, 5), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(held, false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(neigh_get(IP4(203, 0, 113, 5), P_DMZ, &ni), 0);
	emit_clear();

	/* Generation 2: lan renumbered, dmz gone, static .254 → .253. */
	F.cfg->ifaces[0].addr = IP4(10, 1, 0, 1);
	F.cfg->n_ifaces = 2;
	F.cfg->routes[0] = F.cfg->routes[2];
	F.cfg->n_routes = 1;
	F.cfg->neighbors[0].addr = IP4(192, 168, 1, 253);
	memcpy(F.cfg->neighbors[0].mac, PEER_MAC, 6);
	fx_build(2);
	tick(F.now + 1);
	CU_ASSERT_EQUAL_FATAL(F.emit.n, 1);
	CU_ASSERT_PTR_EQUAL(F.emit.pkts[0], held);
	CU_ASSERT_EQUAL(F.emit.verdict[0], FDROP(NO_INTERFACE));
	emit_clear();
	CU_ASSERT_EQUAL(neigh_get(IP4(10, 0, 0, 7), P_LAN, &ni), -1);
	CU_ASSERT_EQUAL(neigh_get(IP4(203, 0, 113, 5), P_DMZ, &ni), -1);
	CU_ASSERT_EQUAL(neigh_get(IP4(192, 168, 1, 254), P_WAN, &ni), -1);
	CU_ASSERT_EQUAL_FATAL(neigh_get(IP4(192, 168, 1, 253), P_WAN, &ni), 0);
	CU_ASSERT_EQUAL(ni.state, TG_NEIGH_STATIC);
	CU_ASSERT_EQUAL(memcmp(ni.mac.addr_bytes, PEER_MAC, 6), 0);
	/* The route via .254 now needs ARP. */
	m = transit(IP4(10, 1, 0, 50), IP4(198, 51, 100, 9), 64, P_LAN);
	CU_ASSERT_EQUAL(fwd(m, false), TG_V_STOLEN);
	CU_ASSERT_EQUAL(F.emit.n, 1);
}

static void
test_forward_neighbors_read(void)
{
	struct tg_neigh_info all[16], part[16];
	struct rte_mbuf *m;
	uint32_t n, total, i;

	memset(all, 0, sizeof(all)); /* padding compared by memcmp below */
	memset(part, 0, sizeof(part));
	fx_build(1);
	for (i = 2; i < 7; i++) {
		m = arp_pkt(
			1, PEER_MAC, IP4(10, 0, 0, i), IP4(10, 0, 0, 1), P_LAN);
		CU_ASSERT_EQUAL(fwd(m, false), TG_V_TX);
	}
	F.now += 2 * F.hz;
	n = tg_forward_neighbors_read(F.ctx, F.now, 0, all, 16, &total);
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_EQUAL(total, 6);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(all[i].age_ms,
			all[i].state == TG_NEIGH_STATIC ? 0u : 2000u);
	n = tg_forward_neighbors_read(F.ctx, F.now, 2, part, 2, &total);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(total, 6);
	CU_ASSERT_EQUAL(memcmp(part, &all[2], 2 * sizeof(part[0])), 0);
	n = tg_forward_neighbors_read(F.ctx, F.now, 5, part, 16, &total);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(memcmp(part, &all[5], sizeof(part[0])), 0);
	n = tg_forward_neighbors_read(F.ctx, F.now, 10, part, 16, &total);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(total, 6);
}

/* ---- two lcores: telemetry reads while the owner churns ---- */

static volatile int writer_done;
static volatile int writer_errors;
static volatile int reader_started;

static void
mac_of(uint32_t a, uint8_t *mac)
{
	mac[0] = 0x02;
	mac[1] = 0xaa;
	tg_test_put32(mac + 2, a);
}

static int
writer_main(void *arg)
{
	struct rte_mbuf *m[8];
	uint16_t v[8];
	uint8_t mac[6];
	uint32_t it, k, a;

	(void)arg;
	/* Start when the reader does: on a loaded machine this lcore could
	 * otherwise finish before the reader's first read. */
	while (!__atomic_load_n(&reader_started, __ATOMIC_ACQUIRE))
		rte_pause();
	for (it = 0; it < 4000; it++) {
		for (k = 0; k < 8; k++) {
			a = IP4(10, 0, 0, 2 + (it * 8 + k) % 250);
			mac_of(a, mac);
			m[k] = arp_pkt(1, mac, a, IP4(10, 0, 0, 1), P_LAN);
		}
		tg_forward_burst(F.ft, F.ctx, m, 8, v, &F.emit, F.now);
		for (k = 0; k < 8; k++)
			if (v[k] != TG_V_TX)
				writer_errors++;
		rte_pktmbuf_free_bulk(m, 8);
		/* reachable is 1 s: entries go stale, then away. */
		F.now += F.hz / 8;
		tg_forward_tick(F.ft, F.ctx, F.now, &F.emit);
		rte_pktmbuf_free_bulk(F.emit.pkts, F.emit.n);
		F.emit.n = 0;
	}
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return 0;
}

static void
test_forward_two_lcore_reader(void)
{
	static struct tg_neigh_info out[256];
	uint32_t n, total, i, j, reads = 0, bad = 0;
	uint8_t mac[6];
	unsigned int lc = rte_get_next_lcore(-1, 1, 0);

	if (lc >= RTE_MAX_LCORE) {
		CU_FAIL("needs a second lcore");
		return;
	}
	F.cfg->arp.reachable_s = 1;
	F.cfg->arp.max_neighbors = 64;
	F.cfg->n_neighbors = 0;
	fx_build(1);
	writer_done = 0;
	writer_errors = 0;
	reader_started = 0;
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(writer_main, NULL, lc), 0);
	do {
		n = tg_forward_neighbors_read(F.ctx, 0, 0, out, 256, &total);
		__atomic_store_n(&reader_started, 1, __ATOMIC_RELEASE);
		reads++;
		if (n != total || n > 64)
			bad++;
		for (i = 0; i < n; i++) {
			mac_of(out[i].addr, mac);
			if (memcmp(mac, out[i].mac.addr_bytes, 6) != 0 ||
				out[i].port != P_LAN ||
				out[i].state < TG_NEIGH_REACHABLE ||
				out[i].state > TG_NEIGH_STALE)
				bad++;
			for (j = 0; j < i; j++)
				if (out[j].addr == out[i].addr)
					bad++;
		}
	} while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE));
	rte_eal_wait_lcore(lc);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(writer_errors, 0);
	CU_ASSERT(reads > 0);
}

static void
test_forward_names(void)
{
	unsigned int i;

	for (i = 0; i < TG_FORWARD_DROP__COUNT; i++) {
		CU_ASSERT_PTR_NOT_NULL(tg_forward_drop_names[i]);
		CU_ASSERT_PTR_NOT_NULL(tg_forward_drop_descs[i]);
	}
	for (i = 0; i < TG_FORWARD_CNT__COUNT; i++)
		CU_ASSERT_PTR_NOT_NULL(tg_forward_counter_names[i]);
	CU_ASSERT_STRING_EQUAL(tg_forward_drop_names[TG_FORWARD_DROP_NO_ROUTE],
		"forward.no_route");
	CU_ASSERT_STRING_EQUAL(tg_neigh_state_names[TG_NEIGH_STATIC], "static");
}

/* clang-format off */
#define T(fn) {#fn, fn}
/* clang-format on */

int
main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		/* invalid input */
		T(test_forward_build_too_many_routes),
		T(test_forward_build_bad_port),
		T(test_forward_arp_malformed),
		/* build and lookup */
		T(test_forward_lpm_vs_reference),
		T(test_forward_lpm_100k),
		T(test_forward_lpm_top_of_space),
		T(test_forward_local_table),
		/* forwarding, drop reasons, counters */
		T(test_forward_ttl_exceeded),
		T(test_forward_ttl_decrement),
		T(test_forward_no_route),
		T(test_forward_mixed_burst),
		T(test_forward_icmp_ratelimit),
		T(test_forward_drop_reasons),
		/* neighbor cache */
		T(test_forward_arp_request_for_us),
		T(test_forward_arp_not_ours),
		T(test_forward_arp_resolve),
		T(test_forward_arp_retries_failed),
		T(test_forward_arp_hold_full),
		T(test_forward_neigh_full),
		T(test_forward_static_neighbor),
		T(test_forward_stale),
		T(test_forward_resync),
		T(test_forward_neighbors_read),
		/* two lcores */
		T(test_forward_two_lcore_reader),
		T(test_forward_names),
	};
	CU_pSuite s;
	unsigned int i;
	int rc;

	if (tg_test_eal_init("test_forward") != 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test_forward", NB_MBUF, 0,
		TG_MBUF_PRIV_SIZE, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	/* Every test gets a fresh fixture; teardown checks for leaks. */
	s = CU_add_suite_with_setup_and_teardown(
		"forward", NULL, NULL, fx_setup, fx_teardown);
	if (s == NULL)
		return 1;
	for (i = 0; i < RTE_DIM(tests); i++)
		CU_add_test(s, tests[i].name, tests[i].fn);
	rc = tg_test_run();
	rte_mempool_free(mp);
	tg_test_eal_cleanup();
	return rc;
}
