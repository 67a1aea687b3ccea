/* SPDX-License-Identifier: BSD-3-Clause
 * pipelines/: the paths as data, the dispatcher and the worker loop, driven
 * synchronously over ring-backed ethdevs (rte_eth_from_rings): packets go
 * in one port's RX ring and are read back from TX rings, byte by byte.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "ipsec_stage_priv.h"
#include "tg_control.h"
#include "tg_pipeline.h"
#include "tg_test.h"
#include "tg_trace.h"

#define NB_TXQ 2

static struct rte_mempool *mp;
static struct rte_ring *rxr[2], *txr[2][NB_TXQ];
static uint16_t port_ids[2];
static struct tg_port_env env;
/* A third ring port standing in for the host port's tun/tap device (the
 * kernel side is tested end to end in test/e2e/host.sh); its TX ring
 * holds 15 packets. */
static struct rte_ring *host_rxr, *host_txr;
static uint16_t host_port;
static struct tg_pipeline_host fx_host; /* used by fx_setup_opts */
#define HOST_TXR_SIZE 16

/* The pieces every test config shares: two null ports, and routes and
 * static neighbors behind lan0 and wan0. */
#define FX_PORTS                                                               \
	"ports:\n"                                                             \
	"  - {name: p0, device: net_null0}\n"                                  \
	"  - {name: p1, device: net_null1}\n"
#define FX_ROUTES                                                              \
	"routes:\n"                                                            \
	"  - {prefix: 16.0.0.0/8, via: 10.1.0.2, interface: wan0}\n"           \
	"neighbors:\n"                                                         \
	"  - {address: 10.1.0.2, mac: '02:00:00:00:01:02', interface: wan0}\n" \
	"  - {address: 10.0.0.2, mac: '02:00:00:00:00:02', interface: lan0}\n"

/* The two ports, lan0 10.0.0.1/24 and wan0 10.1.0.1/24, the routes */
#define FX_STD                                                                 \
	FX_PORTS                                                               \
	"interfaces:\n"                                                        \
	"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"                   \
	"  - {name: wan0, port: p1, address: 10.1.0.1/24}\n" FX_ROUTES

static const char yaml[] =
	FX_PORTS "interfaces:\n"
		 "  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
		 "  - {name: wan0, port: p1, address: 10.1.0.1/24}\n" FX_ROUTES
		 "icmp: {rate: 1000, burst: 100}\n";

/* Replaces yaml[] when set (a test with its own interfaces). */
static const char *fx_yaml;

static const uint8_t gw_mac[6] = {2, 0, 0, 0, 1, 2};
static const uint8_t lan_host_mac[6] = {2, 0, 0, 0, 0, 2};

/* RFC 1071 sum written here, independent of lib/pkt. */
static uint16_t
ref_cksum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)(p[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The IPv4 header checksum of frame @p p written again. */
static void
ip_cksum_again(uint8_t *p)
{
	uint16_t ck;

	p[24] = p[25] = 0;
	ck = ref_cksum(p + 14, 20);
	p[24] = (uint8_t)(ck >> 8);
	p[25] = (uint8_t)ck;
}

/* Ethernet + IPv4 (no options) + UDP with 18 payload bytes. */
static struct rte_mbuf *
mk_udp(uint16_t rx_port_idx, uint32_t src, uint32_t dst, uint8_t ttl)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;
	uint16_t ck;
	int i;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 18);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 60);
	memcpy(p, env.mac[rx_port_idx].addr_bytes, 6);
	memcpy(p + 6, lan_host_mac, 6);
	p[12] = 0x08;
	p[14] = 0x45;
	p[17] = 46; /* total length 46 */
	p[22] = ttl;
	p[23] = 17;
	for (i = 0; i < 4; i++) {
		p[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ck = ref_cksum(p + 14, 20);
	p[24] = (uint8_t)(ck >> 8);
	p[25] = (uint8_t)ck;
	p[35] = 7;  /* sport 7 */
	p[37] = 9;  /* dport 9 */
	p[39] = 26; /* udp length */
	for (i = 0; i < 18; i++)
		p[42 + i] = (uint8_t)i;
	return m;
}

static struct rte_mbuf *
mk_arp_request(uint16_t port_idx, uint32_t sender, const uint8_t *smac,
	uint32_t target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p;
	int i;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, 42);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 42);
	memset(p, 0xff, 6);
	memcpy(p + 6, smac, 6);
	p[12] = 0x08;
	p[13] = 0x06;
	p[15] = 1;    /* htype */
	p[16] = 0x08; /* ptype */
	p[18] = 6;
	p[19] = 4;
	p[21] = 1; /* request */
	memcpy(p + 22, smac, 6);
	for (i = 0; i < 4; i++) {
		p[28 + i] = (uint8_t)(sender >> (24 - 8 * i));
		p[38 + i] = (uint8_t)(target >> (24 - 8 * i));
	}
	(void)port_idx;
	return m;
}

struct fixture {
	struct tg_control ctl;
	struct tg_pipeline *pl;
};

/* The fixture's config (@p base and @p extra_yaml) and the pipeline conf
 * over the two ring ports: @p n_txq TX queues per port, @p l3_wan: port 1
 * carries bare IP like a net_tun port. */
static struct tg_config *
fx_conf(struct fixture *fx, struct tg_pipeline_conf *pc, const char *base,
	const char *extra_yaml, uint16_t n_workers, uint16_t n_txq, bool l3_wan)
{
	struct tg_cfg_errors errs;
	struct tg_config *cfg = NULL;
	char y[4096];
	uint16_t i;
	int len;

	len = snprintf(y, sizeof(y), "%s%s", base, extra_yaml);
	CU_ASSERT_FATAL(len > 0 && (size_t)len < sizeof(y));
	if (tg_config_parse("<test>", y, (size_t)len, &cfg, &errs) < 0)
		tg_cfg_errors_print(&errs, stderr);
	CU_ASSERT_FATAL(cfg != NULL);
	env.l3[1] = l3_wan;
	CU_ASSERT_FATAL(tg_control_init(&fx->ctl, &env, 0) == 0);
	memset(pc, 0, sizeof(*pc));
	pc->cfg = cfg;
	pc->slot = &fx->ctl.slot;
	pc->mp = mp;
	pc->n_ports = 2;
	for (i = 0; i < 2; i++) {
		pc->ports[i].port_id = port_ids[i];
		pc->ports[i].n_rxq = 1;
		pc->ports[i].n_txq = n_txq;
		pc->ports[i].l3 = (i == 1 && l3_wan);
		snprintf(
			pc->ports[i].name, sizeof(pc->ports[i].name), "p%u", i);
	}
	pc->host = fx_host;
	pc->n_workers = n_workers;
	for (i = 0; i < n_workers; i++)
		pc->workers[i] = i + 1; /* lcore ids; not launched here */
	return cfg;
}

static void
fx_create(struct fixture *fx, struct tg_pipeline_conf *pc)
{
	char err[256];

	fx->pl = tg_pipeline_create(pc, err, sizeof(err));
	if (fx->pl == NULL)
		fprintf(stderr, "pipeline: %s\n", err);
	CU_ASSERT_FATAL(fx->pl != NULL);
}

/* @p n_txq TX queues per port (fewer than workers: hand-off to worker 0);
 * @p l3_wan: port 1 carries bare IP like a net_tun port. */
static void
fx_setup_opts(struct fixture *fx, uint16_t n_workers, uint16_t n_txq,
	bool l3_wan, const char *extra_yaml)
{
	struct tg_pipeline_conf pc;
	struct tg_config *cfg = fx_conf(fx, &pc, fx_yaml ? fx_yaml : yaml,
		extra_yaml, n_workers, n_txq, l3_wan);
	char err[256];

	CU_ASSERT_FATAL(tg_control_apply(&fx->ctl, cfg, err, sizeof(err)) == 0);
	fx_create(fx, &pc);
}

static void
fx_setup(struct fixture *fx, uint16_t n_workers)
{
	fx_setup_opts(fx, n_workers, NB_TXQ, false, "");
}

static void
fx_teardown(struct fixture *fx)
{
	uint16_t p, q;
	void *m;

	tg_pipeline_free(fx->pl);
	tg_control_fini(&fx->ctl);
	env.l3[1] = false;
	fx_yaml = NULL;
	memset(&fx_host, 0, sizeof(fx_host));
	while (rte_ring_dequeue(host_txr, &m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_dequeue(host_rxr, &m) == 0)
		rte_pktmbuf_free(m);
	for (p = 0; p < 2; p++)
		for (q = 0; q < NB_TXQ; q++)
			while (rte_ring_dequeue(txr[p][q], &m) == 0)
				rte_pktmbuf_free(m);
	/* Every mbuf came back: nothing leaked through any path. */
	CU_ASSERT(rte_mempool_in_use_count(mp) == 0);
}

static void
run(struct fixture *fx, uint16_t n_workers, int iterations)
{
	int i;
	uint16_t w;

	for (i = 0; i < iterations; i++)
		for (w = 0; w < n_workers; w++)
			tg_pipeline_poll_once(fx->pl, w);
}

static uint16_t
drop_idx(const char *name)
{
	uint16_t i;

	for (i = 0; i < tg_drop_count(); i++)
		if (strcmp(tg_drop_name(i), name) == 0)
			return i;
	CU_FAIL("no such drop reason");
	return 0;
}

static struct rte_mbuf *
tx_get(uint16_t p, uint16_t q)
{
	void *m = NULL;

	if (rte_ring_dequeue(txr[p][q], &m) != 0)
		return NULL;
	return m;
}

static void
test_pipeline_paths_follow_the_seed(void)
{
	static const struct {
		enum tg_path path;
		const char *seq;
	} want[] = {
		{TG_PATH_SOURCE,
			"natfw(out) forward(out) filter(out) ipsec(out) tx"},
		{TG_PATH_TARGET,
			"ipsec(in) filter(in) natfw(in) localfilter(in) host"},
		{TG_PATH_TRANSIT, "filter(in) forward(transit) natfw(transit) "
				  "filter(out) ipsec(out) tx"},
	};
	char buf[256];
	size_t i, off;
	int s;

	for (i = 0; i < RTE_DIM(want); i++) {
		const struct tg_path_def *p = &tg_paths[want[i].path];

		off = 0;
		for (s = 0; s < p->n_steps; s++) {
			const struct tg_path_step *st = &p->steps[s];

			off += (size_t)snprintf(buf + off, sizeof(buf) - off,
				st->stage < TG_STAGE__COUNT ? "%s%s(%s)"
							    : "%s%s",
				s ? " " : "", tg_stage_name(st->stage),
				tg_mode_name(st->mode));
		}
		CU_ASSERT_STRING_EQUAL(buf, want[i].seq);
	}
	CU_ASSERT(tg_path_find_stage(TG_PATH_TRANSIT, TG_STAGE_FORWARD) == 1);
	CU_ASSERT(tg_path_find_stage(TG_PATH_TARGET, TG_STAGE_FORWARD) == -1);
	/* Drop names are unique and dotted "owner.reason". */
	for (s = 0; s < tg_drop_count(); s++) {
		int k;

		CU_ASSERT(strchr(tg_drop_name(s), '.') != NULL);
		for (k = 0; k < s; k++)
			CU_ASSERT(
				strcmp(tg_drop_name(s), tg_drop_name(k)) != 0);
	}
}

static void
check_forwarded(struct rte_mbuf *m, uint8_t ttl)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	int i;

	CU_ASSERT(rte_pktmbuf_pkt_len(m) == 60);
	CU_ASSERT(memcmp(p, gw_mac, 6) == 0);
	CU_ASSERT(memcmp(p + 6, env.mac[1].addr_bytes, 6) == 0);
	CU_ASSERT(p[22] == ttl);
	CU_ASSERT(ref_cksum(p + 14, 20) == 0);
	for (i = 0; i < 18; i++)
		CU_ASSERT(p[42 + i] == i);
}

static void
test_pipeline_transit_forward(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	int i;

	fx_setup(&fx, 1);
	for (i = 0; i < 40; i++) {
		m = mk_udp(0, 0x0a000002, 0x10000000 + i, 64);
		CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0], m) == 0);
	}
	run(&fx, 1, 8);
	for (i = 0; i < 40; i++) {
		m = tx_get(1, 0);
		CU_ASSERT_FATAL(m != NULL);
		check_forwarded(m, 63);
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(tx_get(1, 0) == NULL);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.rx == 40);
	CU_ASSERT(s.tx == 40);
	CU_ASSERT(s.path_rx[TG_PATH_TRANSIT] == 40);
	CU_ASSERT(s.path_done[TG_PATH_TRANSIT] == 40);
	/* Only forward has work: the others are passed by in path order
	 * (filter twice), without a ring hop. */
	CU_ASSERT(s.stage[TG_STAGE_FORWARD].in == 40);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].in == 0);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].bypassed == 80);
	CU_ASSERT(s.stage[TG_STAGE_NATFW].bypassed == 40);
	CU_ASSERT(s.stage[TG_STAGE_IPSEC].bypassed == 40);
	CU_ASSERT(s.stage[TG_STAGE_LOCALFILTER].bypassed == 0);
	fx_teardown(&fx);
}

static void
test_pipeline_active_stages_get_every_packet(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	int i;

	/* A snapshot where every stage has work: each transit packet goes
	 * through every stage's ring, in the seed's order, and is unchanged
	 * by the stages that only pass. */
	fx_setup(&fx, 1);
	fx.ctl.slot.cur->active_stages = (1u << TG_STAGE__COUNT) - 1;
	memset(fx.ctl.slot.cur->stage_modes, 0xff,
		sizeof(fx.ctl.slot.cur->stage_modes));
	for (i = 0; i < 40; i++)
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 64));
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	run(&fx, 1, 8);
	for (i = 0; i < 40; i++) {
		m = tx_get(1, 0);
		CU_ASSERT_FATAL(m != NULL);
		check_forwarded(m, 63);
		rte_pktmbuf_free(m);
	}
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].in == 81); /* 40 x 2 + target */
	CU_ASSERT(s.stage[TG_STAGE_FORWARD].in == 40);
	CU_ASSERT(s.stage[TG_STAGE_NATFW].in == 41);
	CU_ASSERT(s.stage[TG_STAGE_IPSEC].in == 41);
	CU_ASSERT(s.stage[TG_STAGE_LOCALFILTER].in == 1);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].bypassed == 0);
	CU_ASSERT(s.drops[drop_idx("pipeline.no_host_port")] == 1);
	fx_teardown(&fx);
}

static void
test_pipeline_drops_add_up(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint64_t drops = 0;
	uint16_t i;
	uint8_t *p;

	fx_setup(&fx, 1);
	/* bad checksum */
	m = mk_udp(0, 0x0a000002, 0x10000001, 64);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[24] ^= 0xff;
	rte_ring_enqueue(rxr[0], m);
	/* no route */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x30000001, 64));
	/* TTL 1: dropped, ICMP time exceeded back to the sender */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x10000001, 1));
	/* to the appliance: walks the target path, no host port yet */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	/* truncated frame */
	m = rte_pktmbuf_alloc(mp);
	p = (uint8_t *)rte_pktmbuf_append(m, 20);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 20);
	p[12] = 0x08;
	rte_ring_enqueue(rxr[0], m);
	run(&fx, 1, 8);

	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.rx == 5);
	CU_ASSERT(s.drops[drop_idx("pkt.bad_checksum")] == 1);
	CU_ASSERT(s.drops[drop_idx("pkt.too_short")] == 1);
	CU_ASSERT(s.drops[drop_idx("forward.no_route")] == 1);
	CU_ASSERT(s.drops[drop_idx("forward.ttl_exceeded")] == 1);
	CU_ASSERT(s.drops[drop_idx("pipeline.no_host_port")] == 1);
	CU_ASSERT(s.stage[TG_STAGE_LOCALFILTER].bypassed == 1);
	CU_ASSERT(s.path_done[TG_PATH_TARGET] == 1);
	for (i = 0; i < tg_drop_count(); i++)
		drops += s.drops[i];
	/* rx + generated = tx + host + drops + in flight */
	CU_ASSERT(tg_pipeline_in_rings(fx.pl) == 0);
	CU_ASSERT(s.rx + s.generated == s.tx + s.host + drops);
	/* Two ICMP errors (time exceeded, net unreachable) to 10.0.0.2. */
	CU_ASSERT(s.generated == 2);
	for (i = 0; i < 2; i++) {
		m = tx_get(0, 0);
		CU_ASSERT_FATAL(m != NULL);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		CU_ASSERT(memcmp(p, lan_host_mac, 6) == 0);
		CU_ASSERT(p[23] == 1); /* ICMP */
		CU_ASSERT(p[34] == (i == 0 ? 3 : 11) ||
			  p[34] == (i == 0 ? 11 : 3));
		CU_ASSERT(p[30] == 10 && p[33] == 2);
		CU_ASSERT(ref_cksum(p + 14, 20) == 0);
		rte_pktmbuf_free(m);
	}
	fx_teardown(&fx);
}

static void
test_pipeline_arp_through_the_arp_path(void)
{
	static const uint8_t peer_mac[6] = {2, 0, 0, 0, 1, 7};
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint8_t *p;

	fx_setup(&fx, 1);
	/* A request for our lan address is answered on the same port. */
	rte_ring_enqueue(rxr[0],
		mk_arp_request(0, 0x0a000002, lan_host_mac, 0x0a000001));
	run(&fx, 1, 4);
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(memcmp(p, lan_host_mac, 6) == 0);
	CU_ASSERT(p[21] == 2);
	CU_ASSERT(memcmp(p + 22, env.mac[0].addr_bytes, 6) == 0);
	rte_pktmbuf_free(m);

	/* Unknown on-link next hop: the packet waits, a request goes out;
	 * the peer's request (we learn from it) releases the packet. */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a010007, 64));
	run(&fx, 1, 4);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(p[12] == 0x08 && p[13] == 0x06 && p[21] == 1);
	CU_ASSERT(p[38] == 10 && p[39] == 1 && p[40] == 0 && p[41] == 7);
	rte_pktmbuf_free(m);
	CU_ASSERT(tx_get(1, 0) == NULL);
	rte_ring_enqueue(
		rxr[1], mk_arp_request(1, 0x0a010007, peer_mac, 0x0a010001));
	run(&fx, 1, 4);
	/* Our reply to the peer's request, and the released packet. */
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	rte_pktmbuf_free(m);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(memcmp(p, peer_mac, 6) == 0);
	CU_ASSERT(p[22] == 63);
	rte_pktmbuf_free(m);
	tg_pipeline_stats_sum(fx.pl, &s);
	/* entered: the two requests received and the one we sent;
	 * completed: our two replies and our request */
	CU_ASSERT(s.path_rx[TG_PATH_ARP] == 3);
	CU_ASSERT(s.path_done[TG_PATH_ARP] == 3);
	fx_teardown(&fx);
}

static void
test_pipeline_two_workers(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	int i, got = 0;
	uint16_t q;

	/* Default placement spreads stages over both workers; each uses its
	 * own TX queue, so packets leave on whichever worker ends them. */
	fx_setup(&fx, 2);
	CU_ASSERT(tg_pipeline_stage_lcore(fx.pl, TG_STAGE_FORWARD) == 1);
	CU_ASSERT(tg_pipeline_stage_lcore(fx.pl, TG_STAGE_FILTER) == 2);
	for (i = 0; i < 100; i++)
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 9));
	run(&fx, 2, 20);
	for (q = 0; q < NB_TXQ; q++)
		while ((m = tx_get(1, q)) != NULL) {
			check_forwarded(m, 8);
			rte_pktmbuf_free(m);
			got++;
		}
	CU_ASSERT(got == 100);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.tx == 100);
	fx_teardown(&fx);
}

/* Ring ports still need the ethdev start sequence before RX works. */
static int
start_port_q(uint16_t port, uint16_t n_txq)
{
	struct rte_eth_conf conf;
	uint16_t q;

	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(port, 1, n_txq, &conf) < 0 ||
		rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, mp) < 0)
		return -1;
	for (q = 0; q < n_txq; q++)
		if (rte_eth_tx_queue_setup(port, q, 1024, 0, NULL) < 0)
			return -1;
	return rte_eth_dev_start(port);
}

static int
start_port(uint16_t port)
{
	return start_port_q(port, NB_TXQ);
}

static void
test_pipeline_tx_handoff(void)
{
	struct fixture fx;
	struct rte_mbuf *m;
	int i, got = 0;

	/* One TX queue per port, two workers: the worker that ends a packet
	 * but owns no queue hands it to worker 0 through a ring. */
	fx_setup_opts(&fx, 2, 1, false,
		"pipeline:\n"
		"  placement:\n"
		"    - {lcore: 1, ports: [p0, p1],"
		" stages: [filter, natfw, ipsec, localfilter]}\n"
		"    - {lcore: 2, stages: [forward]}\n");
	CU_ASSERT(tg_pipeline_stage_lcore(fx.pl, TG_STAGE_FORWARD) == 2);
	for (i = 0; i < 64; i++)
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 64));
	run(&fx, 2, 20);
	while ((m = tx_get(1, 0)) != NULL) {
		check_forwarded(m, 63);
		rte_pktmbuf_free(m);
		got++;
	}
	CU_ASSERT(got == 64);
	CU_ASSERT(tx_get(1, 1) == NULL); /* the queue nobody may use */
	fx_teardown(&fx);
}

static void
test_pipeline_bare_ip_port(void)
{
	struct fixture fx;
	struct rte_mbuf *m, *in;
	uint8_t *p, ip[46];
	int i;

	fx_setup_opts(&fx, 1, NB_TXQ, true, "");
	/* Ethernet in on lan, out on the bare-IP wan port: no MACs, no ARP
	 * for the gateway, the IP packet byte for byte with TTL - 1. */
	in = mk_udp(0, 0x0a000002, 0x10000001, 64);
	memcpy(ip, rte_pktmbuf_mtod_offset(in, uint8_t *, 14), sizeof(ip));
	rte_ring_enqueue(rxr[0], in);
	run(&fx, 1, 6);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(rte_pktmbuf_pkt_len(m) == 46);
	CU_ASSERT(p[8] == 63);
	CU_ASSERT(ref_cksum(p, 20) == 0);
	CU_ASSERT(memcmp(p + 12, ip + 12, 46 - 12) == 0);
	rte_pktmbuf_free(m);

	/* Bare IP in on wan, Ethernet out on lan to the static neighbor. */
	m = mk_udp(1, 0x10000001, 0x0a000002, 64);
	rte_pktmbuf_adj(m, 14);
	rte_ring_enqueue(rxr[1], m);
	run(&fx, 1, 6);
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(rte_pktmbuf_pkt_len(m) == 60);
	CU_ASSERT(memcmp(p, lan_host_mac, 6) == 0);
	CU_ASSERT(p[12] == 0x08 && p[13] == 0x00 && p[22] == 63);
	for (i = 0; i < 18; i++)
		CU_ASSERT(p[42 + i] == i);
	rte_pktmbuf_free(m);
	CU_ASSERT(tx_get(1, 0) == NULL); /* no ARP request on a tun port */
	fx_teardown(&fx);
}

/* Worker 0 and the host thread, in turns (the thread is not launched
 * here): into the kernel and out of it in one round. */
static void
run_host(struct fixture *fx, int iterations)
{
	int i;

	for (i = 0; i < iterations; i++) {
		tg_pipeline_host_poll(fx->pl);
		tg_pipeline_poll_once(fx->pl, 0);
		tg_pipeline_host_poll(fx->pl);
	}
}

static void
host_setup(struct fixture *fx, bool l3, uint32_t queue_size)
{
	memset(&fx_host, 0, sizeof(fx_host));
	fx_host.enabled = true;
	fx_host.port_id = host_port;
	fx_host.l3 = l3;
	rte_eth_macaddr_get(host_port, &fx_host.mac);
	fx_host.queue_size = queue_size;
	fx_host.poll_us = 50;
	fx_setup(fx, 1);
}

static struct rte_mbuf *
host_get(void)
{
	void *m = NULL;

	if (rte_ring_dequeue(host_txr, &m) != 0)
		return NULL;
	return m;
}

/* What the kernel would write into a tap host port: a frame from and to
 * the interface's own MAC (it is NOARP). */
static struct rte_mbuf *
mk_from_host(uint32_t src, uint32_t dst, bool l3)
{
	struct rte_mbuf *m = mk_udp(0, src, dst, 64);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memcpy(p, fx_host.mac.addr_bytes, 6);
	memcpy(p + 6, fx_host.mac.addr_bytes, 6);
	if (l3)
		rte_pktmbuf_adj(m, 14);
	return m;
}

static void
test_pipeline_host_port(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint8_t *p;
	int i;

	host_setup(&fx, false, 64);
	/* Target: to lan's address and to wan's (arriving on lan): both to
	 * the kernel, addressed to its MAC, untouched otherwise (TTL 64). */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a010001, 64));
	run_host(&fx, 4);
	for (i = 0; i < 2; i++) {
		m = host_get();
		CU_ASSERT_FATAL(m != NULL);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		CU_ASSERT(rte_pktmbuf_pkt_len(m) == 60);
		CU_ASSERT(memcmp(p, fx_host.mac.addr_bytes, 6) == 0);
		CU_ASSERT(p[22] == 64 && ref_cksum(p + 14, 20) == 0);
		CU_ASSERT(p[31] == (i == 0 ? 0 : 1) && p[33] == 1);
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(host_get() == NULL);
	CU_ASSERT(tx_get(0, 0) == NULL && tx_get(1, 0) == NULL);

	/* Source: from the kernel to a routed destination, out of wan to
	 * the gateway; a locally originated packet keeps its TTL. */
	rte_ring_enqueue(host_rxr, mk_from_host(0x0a010001, 0x10000005, false));
	/* ARP has no business on the host port. */
	m = mk_arp_request(0, 0x0a000001, fx_host.mac.addr_bytes, 0x0a000002);
	rte_ring_enqueue(host_rxr, m);
	run_host(&fx, 4);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	check_forwarded(m, 64);
	rte_pktmbuf_free(m);
	CU_ASSERT(tx_get(1, 0) == NULL && tx_get(0, 0) == NULL);

	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.rx == 4);
	CU_ASSERT(s.host_rx == 2);
	CU_ASSERT(s.host == 2);
	CU_ASSERT(s.tx == 1);
	CU_ASSERT(s.path_rx[TG_PATH_TARGET] == 2);
	CU_ASSERT(s.path_done[TG_PATH_TARGET] == 2);
	CU_ASSERT(s.path_rx[TG_PATH_SOURCE] == 1);
	CU_ASSERT(s.path_done[TG_PATH_SOURCE] == 1);
	CU_ASSERT(s.stage[TG_STAGE_FORWARD].in == 1);
	CU_ASSERT(s.drops[drop_idx("host.not_ipv4")] == 1);
	fx_teardown(&fx);
}

/* The filter lists of the paths test: each rule and each list is there
 * to be hit by exactly the packets the test names, or to prove that a
 * list is not consulted at a step where it does not belong. */
static const char filter_yaml[] = FX_PORTS
	"interfaces:\n"
	"  - name: lan0\n"
	"    port: p0\n"
	"    address: 10.0.0.1/24\n"
	"    filters:\n"
	"      inbound:\n"
	"        mode: deny-listed\n"
	"        rules:\n"
	"          - {name: no-9, protocol: udp, dst: 16.0.0.5, dst_port: 9}\n"
	"          - {name: no-local, protocol: udp, dst: 10.0.0.1}\n"
	"      outbound: {mode: allow-listed}\n"
	"  - name: wan0\n"
	"    port: p1\n"
	"    address: 10.1.0.1/24\n"
	"    filters:\n"
	"      inbound: {mode: allow-listed, rules: []}\n"
	"      outbound:\n"
	"        mode: deny-listed\n"
	"        rules:\n"
	"          - {name: no-7, protocol: udp, dst: 16.0.0.7/32}\n"
	"          - {name: host-no-8, src: 10.1.0.1, dst: "
	"16.0.0.8}\n" FX_ROUTES;

/* IFACE's list @p dir in the running snapshot, and its index. */
static const struct tg_filter_list *
filter_list(struct fixture *fx, const char *iface, int dir, uint16_t *idx)
{
	const struct tg_tables *t = fx->ctl.slot.cur;
	uint16_t i;

	for (i = 0; i < t->filter->n_lists; i++) {
		const struct tg_filter_list *l = &t->filter->lists[i];

		if (l->dir == dir &&
			strcmp(t->cfg->ifaces[l->iface].name, iface) == 0) {
			*idx = i;
			return l;
		}
	}
	CU_FAIL_FATAL("no such filter list");
	return NULL;
}

/* Hits of rule @p r (UINT32_MAX: no match) of IFACE's list @p dir. */
static uint64_t
filter_hits(struct fixture *fx, const char *iface, int dir, uint32_t r)
{
	uint16_t i = 0;
	const struct tg_filter_list *l = filter_list(fx, iface, dir, &i);

	return tg_filter_hits(
		fx->ctl.slot.cur->filter, i, r == UINT32_MAX ? l->n_rules : r);
}

/*
 * ARCHITECTURE.md section 2: filter(in) judges transit and target
 * packets by the list of the interface they arrived on; filter(out)
 * judges transit and source packets by the list of the interface they
 * leave by. wan0's allow-listed inbound list with no rules would drop
 * lan→wan transit if it were consulted, lan0's empty allow-listed
 * outbound list too.
 */
static void
test_pipeline_filters_on_each_path(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint8_t *p;
	int i, n = 0;

	fx_yaml = filter_yaml;
	host_setup(&fx, false, 64);
	CU_ASSERT(fx.ctl.slot.cur->active_stages & (1u << TG_STAGE_FILTER));
	/* transit lan → wan to 16.0.0.1..9: .5 denied inbound on lan, .7
	 * outbound on wan */
	for (i = 1; i <= 9; i++)
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 64));
	/* target from lan: to lan0's address denied inbound; to wan0's
	 * address passes lan0's list and never meets wan0's */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a010001, 64));
	/* transit wan → lan: wan0's inbound list allows nothing */
	rte_ring_enqueue(rxr[1], mk_udp(1, 0x10000001, 0x0a000002, 64));
	/* source: from the host out of wan, to .8 denied, to .9 passes */
	rte_ring_enqueue(host_rxr, mk_from_host(0x0a010001, 0x10000008, false));
	rte_ring_enqueue(host_rxr, mk_from_host(0x0a010001, 0x10000009, false));
	run_host(&fx, 8);

	while ((m = tx_get(1, 0)) != NULL) {
		p = rte_pktmbuf_mtod(m, uint8_t *);
		CU_ASSERT(p[30] == 16 && p[33] != 5 && p[33] != 7);
		CU_ASSERT(p[33] != 8 || p[26] == 10); /* .8 only from lan */
		n++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(n == 7 + 1);
	CU_ASSERT(tx_get(0, 0) == NULL);
	m = host_get();
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(p[30] == 10 && p[31] == 1 && p[33] == 1);
	rte_pktmbuf_free(m);
	CU_ASSERT(host_get() == NULL);

	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.drops[drop_idx("filter.in.denied")] == 2);
	CU_ASSERT(s.drops[drop_idx("filter.out.denied")] == 2);
	CU_ASSERT(s.drops[drop_idx("filter.in.default")] == 1);
	CU_ASSERT(s.drops[drop_idx("filter.out.default")] == 0);
	/* lan0 in: 9 transit + 2 target; wan0 out: 8 transit + 2 source */
	CU_ASSERT(s.stage[TG_STAGE_FILTER].in == 11 + 1 + 10);
	CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, 0) == 1);
	CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, 1) == 1);
	CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, UINT32_MAX) == 9);
	CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT, 0) == 1);
	CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT, 1) == 1);
	CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT, UINT32_MAX) == 8);
	CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_IN, UINT32_MAX) == 1);
	CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_OUT, UINT32_MAX) == 0);

	/* A reload keeps the hits of the rules it leaves alone: no-7
	 * renamed starts from zero, the rest keep theirs. lan0's inbound
	 * list did not change: its rte_acl context is the same one, not
	 * built again, and still judges; wan0's outbound list is new. */
	{
		const char *at = strstr(filter_yaml, "no-7,");
		struct tg_config *cfg2 = NULL;
		struct tg_cfg_errors errs;
		char y2[sizeof(filter_yaml) + 8], err[256];
		uint16_t li;
		const void *lan_acl =
			filter_list(&fx, "lan0", TG_CFG_FILTER_IN, &li)->acl;
		const void *wan_acl =
			filter_list(&fx, "wan0", TG_CFG_FILTER_OUT, &li)->acl;
		int len;

		CU_ASSERT_FATAL(at != NULL);
		len = snprintf(y2, sizeof(y2), "%.*sno-7b%s",
			(int)(at - filter_yaml), filter_yaml, at + 4);
		CU_ASSERT_FATAL(tg_config_parse("<test2>", y2, (size_t)len,
					&cfg2, &errs) == 0);
		CU_ASSERT_FATAL(
			tg_control_apply(&fx.ctl, cfg2, err, sizeof(err)) == 0);
		CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, 0) == 1);
		CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, 1) == 1);
		CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT, 0) == 0);
		CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT, 1) == 1);
		CU_ASSERT(filter_hits(&fx, "wan0", TG_CFG_FILTER_OUT,
				  UINT32_MAX) == 8);
		CU_ASSERT(
			filter_list(&fx, "lan0", TG_CFG_FILTER_IN, &li)->acl ==
			lan_acl);
		CU_ASSERT(filter_list(&fx, "lan0", TG_CFG_FILTER_IN, &li)
				  ->reused);
		CU_ASSERT(
			filter_list(&fx, "wan0", TG_CFG_FILTER_OUT, &li)->acl !=
			wan_acl);
		CU_ASSERT(!filter_list(&fx, "wan0", TG_CFG_FILTER_OUT, &li)
				   ->reused);
		/* the shared context still judges: to .5 denied, to .6 not */
		rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x10000005, 64));
		rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x10000006, 64));
		run_host(&fx, 4);
		CU_ASSERT(filter_hits(&fx, "lan0", TG_CFG_FILTER_IN, 0) == 2);
		m = tx_get(1, 0);
		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT(rte_pktmbuf_mtod(m, uint8_t *)[33] == 6);
		rte_pktmbuf_free(m);
		CU_ASSERT(tx_get(1, 0) == NULL);
	}
	fx_teardown(&fx);
}

/* Only inbound lists: filter's out steps have nothing to do and are
 * passed by like an idle stage (no ring hop), its in steps are not. */
static void
test_pipeline_filter_inbound_only(void)
{
	static const char y[] = FX_PORTS
		"interfaces:\n"
		"  - name: lan0\n"
		"    port: p0\n"
		"    address: 10.0.0.1/24\n"
		"    filters:\n"
		"      inbound:\n"
		"        mode: deny-listed\n"
		"        rules: [{name: no-5, dst: 16.0.0.5}]\n"
		"  - {name: wan0, port: p1, address: 10.1.0.1/24}\n" FX_ROUTES;
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	int i, n = 0;

	fx_yaml = y;
	fx_setup(&fx, 1);
	for (i = 1; i <= 10; i++)
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 64));
	run(&fx, 1, 8);
	while ((m = tx_get(1, 0)) != NULL) {
		CU_ASSERT(rte_pktmbuf_mtod(m, uint8_t *)[33] != 5);
		rte_pktmbuf_free(m);
		n++;
	}
	CU_ASSERT(n == 9);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].in == 10);
	CU_ASSERT(s.stage[TG_STAGE_FILTER].bypassed == 9);
	CU_ASSERT(s.drops[drop_idx("filter.in.denied")] == 1);
	fx_teardown(&fx);
}

/* A frame's 16-bit field at @p off. */
static uint16_t
fr16(struct rte_mbuf *m, int off)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return (uint16_t)(p[off] << 8 | p[off + 1]);
}

static uint32_t
fr32(struct rte_mbuf *m, int off)
{
	return (uint32_t)fr16(m, off) << 16 | fr16(m, off + 2);
}

/* lan0 private, wan0 public, the host firewall on */
static const char nat_yaml[] =
	FX_PORTS "interfaces:\n"
		 "  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
		 "  - {name: wan0, port: p1, address: 10.1.0.1/24}\n" FX_ROUTES
		 "nat: {private: [lan0], public: [wan0]}\n"
		 "firewall: {}\n";

/*
 * NAT through the pipeline: a lan host's UDP leaves wan0 from the NAT
 * address (transit natfw(nat)), the answer to that address comes in as
 * target traffic, is translated back at natfw(in) and switches to the
 * transit path at forward, out of lan0 to the host; unsolicited traffic
 * to the NAT address meets the firewall.
 */
static void
test_pipeline_nat_round_trip(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint16_t pub_port;
	uint8_t *p;

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	m = mk_udp(0, 0x0a000002, 0x10000005, 64);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0], m) == 0);
	run(&fx, 1, 8);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	/* source: the NAT address, a port of its range (7 is below it) */
	CU_ASSERT_EQUAL(fr32(m, 26), 0x0a010001);
	CU_ASSERT_EQUAL(fr32(m, 30), 0x10000005);
	pub_port = fr16(m, 34);
	CU_ASSERT(pub_port >= 1024);
	CU_ASSERT_EQUAL(fr16(m, 36), 9);
	CU_ASSERT_EQUAL(ref_cksum(rte_pktmbuf_mtod_offset(m, uint8_t *, 14),
				20), 0);
	rte_pktmbuf_free(m);

	/* the answer, to the NAT address and port */
	m = mk_udp(1, 0x10000005, 0x0a010001, 64);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[34] = 0;
	p[35] = 9;
	p[36] = (uint8_t)(pub_port >> 8);
	p[37] = (uint8_t)pub_port;
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[1], m) == 0);
	/* unsolicited: another port of the NAT address */
	m = mk_udp(1, 0x10000005, 0x0a010001, 64);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[1], m) == 0);
	run(&fx, 1, 8);
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_EQUAL(fr32(m, 26), 0x10000005);
	CU_ASSERT_EQUAL(fr32(m, 30), 0x0a000002);
	CU_ASSERT_EQUAL(fr16(m, 34), 9);
	CU_ASSERT_EQUAL(fr16(m, 36), 7);
	CU_ASSERT_EQUAL(m->pkt_len, 60);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, uint8_t *)[22], 63); /* TTL */
	CU_ASSERT_EQUAL(ref_cksum(rte_pktmbuf_mtod_offset(m, uint8_t *, 14),
				20), 0);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), lan_host_mac, 6) ==
		  0);
	rte_pktmbuf_free(m);
	CU_ASSERT(tx_get(0, 0) == NULL);
	CU_ASSERT(tx_get(1, 0) == NULL);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.drops[drop_idx("natfw.no_exception")], 1);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_NATFW].jumped, 1);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TRANSIT], 2);
	fx_teardown(&fx);
}

/*
 * Steps passed by for packets a stage has nothing to do for (the
 * snapshot's stage_pass_out: ipsec(out) without outbound policies, for
 * what ipsec(in) decrypted): a burst whose packets all carry the flags
 * skips the step, counted as bypassed; one without them runs it. Here
 * with the NAT flag, set by natfw(transit) just before filter(out) and
 * ipsec(out), and every stage active.
 */
static void
test_pipeline_pass_out_by_flags(void)
{
	struct tg_tables *t;
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	int i;

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	t = fx.ctl.slot.cur;
	t->active_stages = (1u << TG_STAGE__COUNT) - 1;
	memset(t->stage_modes, 0xff, sizeof(t->stage_modes));
	t->stage_pass_out[TG_STAGE_FILTER] = TG_META_F_NAT;
	t->stage_pass_out[TG_STAGE_IPSEC] = TG_META_F_NAT | TG_META_F_TRACE;
	/* lan to wan: NAT'd, so filter(out) is passed by; ipsec(out) wants
	 * a flag they do not carry */
	for (i = 0; i < 4; i++)
		rte_ring_enqueue(rxr[0],
			mk_udp(0, 0x0a000002, 0x10000005 + (uint32_t)i, 64));
	run(&fx, 1, 8);
	for (i = 0; i < 4; i++) {
		m = tx_get(1, 0);
		CU_ASSERT_FATAL(m != NULL);
		CU_ASSERT_EQUAL(fr32(m, 26), 0x0a010001); /* translated */
		rte_pktmbuf_free(m);
	}
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FILTER].in, 4); /* filter(in) */
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FILTER].bypassed, 4);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_IPSEC].in, 4);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_IPSEC].bypassed, 0);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TRANSIT], 4);
	fx_teardown(&fx);

	/* without the flags in the snapshot: every step runs */
	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	t = fx.ctl.slot.cur;
	t->active_stages = (1u << TG_STAGE__COUNT) - 1;
	memset(t->stage_modes, 0xff, sizeof(t->stage_modes));
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x10000005, 64));
	run(&fx, 1, 8);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	rte_pktmbuf_free(m);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FILTER].in, 2);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FILTER].bypassed, 0);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_IPSEC].in, 1);
	fx_teardown(&fx);
}

static void
test_pipeline_host_port_bare_ip(void)
{
	struct fixture fx;
	struct rte_mbuf *m, *in;
	uint8_t *p, ip[46];

	host_setup(&fx, true, 64);
	in = mk_udp(0, 0x0a000002, 0x0a000001, 64);
	memcpy(ip, rte_pktmbuf_mtod_offset(in, uint8_t *, 14), sizeof(ip));
	rte_ring_enqueue(rxr[0], in);
	run_host(&fx, 4);
	m = host_get();
	CU_ASSERT_FATAL(m != NULL);
	/* the IP packet as it arrived, byte for byte */
	CU_ASSERT(rte_pktmbuf_pkt_len(m) == 46);
	CU_ASSERT(memcmp(rte_pktmbuf_mtod(m, uint8_t *), ip, 46) == 0);
	rte_pktmbuf_free(m);

	/* bare IP from the kernel, Ethernet out of lan to the neighbor */
	rte_ring_enqueue(host_rxr, mk_from_host(0x0a000001, 0x0a000002, true));
	run_host(&fx, 4);
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(rte_pktmbuf_pkt_len(m) == 60);
	CU_ASSERT(memcmp(p, lan_host_mac, 6) == 0);
	CU_ASSERT(memcmp(p + 6, env.mac[0].addr_bytes, 6) == 0);
	CU_ASSERT(p[22] == 64 && ref_cksum(p + 14, 20) == 0);
	rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* A reply to a UDP datagram the host sent passes local_filter whatever
 * udp_ports says; a datagram to another port does not. */
static void
test_pipeline_host_udp_replies(void)
{
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint8_t *p;

	memset(&fx_host, 0, sizeof(fx_host));
	fx_host.enabled = true;
	fx_host.port_id = host_port;
	rte_eth_macaddr_get(host_port, &fx_host.mac);
	fx_host.queue_size = 64;
	fx_host.poll_us = 50;
	fx_setup_opts(
		&fx, 1, NB_TXQ, false, "local_filter: {udp_ports: [53]}\n");
	/* the host: 10.0.0.1:7 -> 10.0.0.2:9 */
	rte_ring_enqueue(host_rxr, mk_from_host(0x0a000001, 0x0a000002, false));
	run_host(&fx, 4);
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	rte_pktmbuf_free(m);
	/* the answer 10.0.0.2:9 -> 10.0.0.1:7, and one to port 8 */
	m = mk_udp(0, 0x0a000002, 0x0a000001, 64);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[35] = 9, p[37] = 7;
	rte_ring_enqueue(rxr[0], m);
	m = mk_udp(0, 0x0a000002, 0x0a000001, 64);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[35] = 9, p[37] = 8;
	rte_ring_enqueue(rxr[0], m);
	run_host(&fx, 4);
	m = host_get();
	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	CU_ASSERT(p[37] == 7);
	rte_pktmbuf_free(m);
	CU_ASSERT(host_get() == NULL);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.drops[drop_idx("localfilter.udp_port")] == 1);
	CU_ASSERT(s.host == 1);
	fx_teardown(&fx);
}

/* The kernel slower than the wire: the queue holds queue_size packets,
 * the rest is dropped and counted, and the worker never waits. */
static int read_pcapng(const char *path, uint8_t data[][64], uint32_t *caplen,
	char comments[][256], int max);

static void
test_pipeline_host_queue_is_bounded(void)
{
	char path[] = "/tmp/tg-test-hostcap-XXXXXX", err[200];
	static uint8_t data[8][64];
	static char comments[8][256];
	struct tg_capture_status cs;
	struct fixture fx;
	struct tg_lcore_stats s;
	struct rte_mbuf *m;
	uint32_t caplen[8];
	int i, fd, got = 0;

	host_setup(&fx, false, 8);
	for (i = 0; i < 32; i++)
		rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	/* one iteration: 32 received, 8 queued, those 8 written */
	tg_pipeline_poll_once(fx.pl, 0);
	tg_pipeline_host_poll(fx.pl);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.rx == 32);
	CU_ASSERT(s.drops[drop_idx("host.tx_full")] == 24);
	CU_ASSERT(s.host == 8);
	while ((m = host_get()) != NULL) {
		rte_pktmbuf_free(m);
		got++;
	}
	CU_ASSERT(got == 8);
	fx_teardown(&fx);

	/* The kernel refusing writes (here: the ring behind the port is
	 * full at 15): counted, not retried forever; and captured, though
	 * the host thread drops them, not a worker. */
	host_setup(&fx, false, 64);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_FATAL(tg_pipeline_capture_start(fx.pl, path,
				drop_idx("host.kernel_refused"), 0, 0, err,
				sizeof(err)) == 0);
	for (i = 0; i < 20; i++)
		rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x0a000001, 64));
	tg_pipeline_poll_once(fx.pl, 0);
	tg_pipeline_host_poll(fx.pl);
	tg_pipeline_capture_stop(fx.pl, &cs);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT(s.host == HOST_TXR_SIZE - 1);
	CU_ASSERT(s.drops[drop_idx("host.kernel_refused")] ==
		  20 - (HOST_TXR_SIZE - 1));
	CU_ASSERT(s.rx == s.host + s.drops[drop_idx("host.kernel_refused")]);
	CU_ASSERT(cs.written == 20 - (HOST_TXR_SIZE - 1));
	CU_ASSERT(read_pcapng(path, data, caplen, comments, 8) ==
		  20 - (HOST_TXR_SIZE - 1));
	CU_ASSERT(strstr(comments[0], "host.kernel_refused") != NULL);
	CU_ASSERT(strstr(comments[0], "path target, step -") != NULL);
	unlink(path);
	fx_teardown(&fx);
}

/*
 * Run to completion keeps order: bursts that move as one run through
 * forward at once, mixed bursts (ARP among the IP packets) gather per
 * stage and run when the burst is done; forwarded packets leave in the
 * order they came, and every one is counted once on its path and at
 * forward.
 */
static void
test_pipeline_order_through_direct_runs(void)
{
	struct tg_lcore_stats s;
	struct fixture fx;
	struct rte_mbuf *m;
	uint32_t next = 0;
	int i, got = 0, arp = 0;

	fx_setup(&fx, 1);
	for (i = 0; i < 150; i++) {
		/* every 7th: an ARP request for our lan address */
		if (i % 7 == 3)
			rte_ring_enqueue(
				rxr[0], mk_arp_request(0, 0x0a000002,
						lan_host_mac, 0x0a000001));
		rte_ring_enqueue(
			rxr[0], mk_udp(0, 0x0a000002, 0x10000000 + i, 64));
	}
	run(&fx, 1, 12);
	while ((m = tx_get(1, 0)) != NULL) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
		uint32_t dst = (uint32_t)(p[30] << 24 | p[31] << 16 |
					  p[32] << 8 | p[33]);

		CU_ASSERT_EQUAL(dst, 0x10000000 + next);
		check_forwarded(m, 63);
		next = dst - 0x10000000 + 1;
		got++;
		rte_pktmbuf_free(m);
	}
	while ((m = tx_get(0, 0)) != NULL) {
		arp++;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT_EQUAL(got, 150);
	CU_ASSERT_EQUAL(arp, 150 / 7 + (150 % 7 > 3));
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TRANSIT], 150);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TRANSIT], 150);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FORWARD].in, 150 + (uint64_t)arp);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FORWARD].next, 150);
	CU_ASSERT_EQUAL(s.rx, 150 + (uint64_t)arp);
	CU_ASSERT_EQUAL(s.tx, 150 + (uint64_t)arp);
	fx_teardown(&fx);
}

/* An ESP tunnel to the static neighbor 10.1.0.2 (16.1.0.0/16) and one to
 * 10.1.0.9, on-link on wan0 and unknown until it sends ARP
 * (16.2.0.0/16). */
static const char ipsec_yaml[] =
	"ipsec:\n"
	"  crypto_device: crypto_aesni_mb_pl\n"
	"  policies:\n"
	"    - {name: gw, dst: 16.1.0.0/16, direction: outbound,\n"
	"       action: protect, sa: to-gw}\n"
	"    - {name: nine, dst: 16.2.0.0/16, direction: outbound,\n"
	"       action: protect, sa: to-nine}\n"
	"  sas:\n"
	"    - {name: to-gw, spi: 0x1001, direction: outbound, mode: tunnel,\n"
	"       local: 10.1.0.1, remote: 10.1.0.2, algorithm: aes-128-gcm,\n"
	"       key: 000102030405060708090a0b0c0d0e0f, salt: 01020304}\n"
	"    - {name: to-nine, spi: 0x1002, direction: outbound, mode: tunnel,\n"
	"       local: 10.1.0.1, remote: 10.1.0.9, algorithm: aes-128-gcm,\n"
	"       key: 101112131415161718191a1b1c1d1e1f, salt: 05060708}\n";

/* As tollgate starts: the pipeline (its ipsec stage holds the SAs)
 * before the first snapshot; @p more_yaml after the ipsec section. */
static void
fx_setup_pl_first(struct fixture *fx, const char *extra)
{
	struct tg_pipeline_conf pc;
	struct tg_config *cfg;
	char err[256];

	cfg = fx_conf(fx, &pc, yaml, extra, 1, NB_TXQ, false);
	fx_create(fx, &pc);
	fx->ctl.pl = fx->pl;
	if (tg_control_apply(&fx->ctl, cfg, err, sizeof(err)) != 0)
		fprintf(stderr, "apply: %s\n", err);
}

static void
fx_setup_ipsec(struct fixture *fx, const char *more_yaml)
{
	char extra[2048];

	snprintf(extra, sizeof(extra), "%s%s", ipsec_yaml, more_yaml);
	fx_setup_pl_first(fx, extra);
}

/* What left wan0: ESP to @p remote from our MAC to @p mac, or NULL. */
static bool
is_esp_to(struct rte_mbuf *m, const uint8_t *mac, uint32_t remote)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	return rte_pktmbuf_data_len(m) > 34 + 8 &&
	       memcmp(p, mac, 6) == 0 &&
	       memcmp(p + 6, env.mac[1].addr_bytes, 6) == 0 && p[12] == 0x08 &&
	       p[13] == 0 && p[23] == 50 /* ESP */ &&
	       (uint32_t)(p[30] << 24 | p[31] << 16 | p[32] << 8 | p[33]) ==
		       remote &&
	       ref_cksum(p + 14, 20) == 0;
}

/* @p n UDP packets from the lan host to @p dst0, @p dst0 + 1, ... */
static void
send_udp(uint32_t dst0, int n)
{
	int i;

	for (i = 0; i < n; i++)
		rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, dst0 + i, 64));
}

/* What left wan0, freed: how many of them were ESP to @p remote via
 * @p mac (is_esp_to). */
static int
take_esp_to(const uint8_t *mac, uint32_t remote)
{
	struct rte_mbuf *m;
	int esp = 0;

	while ((m = tx_get(1, 0)) != NULL) {
		esp += is_esp_to(m, mac, remote);
		rte_pktmbuf_free(m);
	}
	return esp;
}

/*
 * Tunnel output whose next hop is ready (a static neighbor, or one
 * learned) goes straight to TX on the tunnel_direct path, as forward
 * would have sent it; an unresolved one takes the tunnel path through
 * forward, which holds the ESP and asks ARP, and the direct path takes
 * over once the neighbor is known.
 */
static void
test_pipeline_tunnel_next_hop(void)
{
	static const uint8_t nine_mac[6] = {2, 0, 0, 0, 1, 9};
	struct tg_lcore_stats s;
	struct fixture fx;
	struct rte_mbuf *m;
	int esp = 0, arp = 0;

	fx_setup_ipsec(&fx, "");
	send_udp(0x10010000, 4);
	run(&fx, 1, 6);
	CU_ASSERT_EQUAL(take_esp_to(gw_mac, 0x0a010002), 4);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TUNNEL_DIRECT], 4);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TUNNEL_DIRECT], 4);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TUNNEL], 0);
	CU_ASSERT_EQUAL(s.stage[TG_STAGE_FORWARD].in, 4); /* inner only */

	/* 10.1.0.9 is not known: forward holds the ESP and asks. */
	send_udp(0x10020000, 2);
	run(&fx, 1, 6);
	while ((m = tx_get(1, 0)) != NULL) {
		const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

		arp += p[12] == 0x08 && p[13] == 0x06 && p[41] == 9;
		esp += p[12] == 0x08 && p[13] == 0;
		rte_pktmbuf_free(m);
	}
	CU_ASSERT(arp >= 1);
	CU_ASSERT_EQUAL(esp, 0);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TUNNEL], 2);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TUNNEL_DIRECT], 4);

	/* It asks for us: forward learns it, lets the two go, and the next
	 * ESP for it takes the direct path. */
	rte_ring_enqueue(rxr[1],
		mk_arp_request(1, 0x0a010009, nine_mac, 0x0a010001));
	run(&fx, 1, 6);
	send_udp(0x10020010, 3);
	run(&fx, 1, 6);
	CU_ASSERT_EQUAL(take_esp_to(nine_mac, 0x0a010009), 5);
	tg_pipeline_stats_sum(fx.pl, &s);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TUNNEL], 2);
	CU_ASSERT_EQUAL(s.path_rx[TG_PATH_TUNNEL_DIRECT], 7);
	CU_ASSERT_EQUAL(s.path_done[TG_PATH_TUNNEL_DIRECT], 7);
	fx.ctl.pl = NULL;
	fx_teardown(&fx);
}

/* Idle sleep: none until TG_IDLE_POLLS empty iterations in a row, then
 * pipeline.idle_sleep_us after each empty one (counted); a packet ends
 * the spell; a reload to 0 turns it off. */
static uint64_t
idle_sleeps(struct fixture *fx)
{
	struct tg_lcore_stats sum;

	tg_pipeline_stats_sum(fx->pl, &sum);
	return sum.idle_sleeps;
}

static void
test_pipeline_idle_sleep(void)
{
	static const char off[] = "pipeline:\n  idle_sleep_us: 0\n";
	struct tg_cfg_errors errs;
	struct tg_config *cfg2 = NULL;
	struct tg_ipsec_stage *st;
	struct fixture fx;
	char y[4096], err[256];
	int i, len;

	/* with SAs: the ipsec stage exists */
	fx_setup_ipsec(&fx, "pipeline:\n  idle_sleep_us: 100\n");
	for (i = 0; i < TG_IDLE_POLLS; i++)
		CU_ASSERT(tg_pipeline_idle_us(fx.pl, 0,
				  tg_pipeline_poll_once(fx.pl, 0)) == 0);
	CU_ASSERT(idle_sleeps(&fx) == 0);
	CU_ASSERT(tg_pipeline_idle_us(
			  fx.pl, 0, tg_pipeline_poll_once(fx.pl, 0)) == 100);
	CU_ASSERT(tg_pipeline_idle_us(
			  fx.pl, 0, tg_pipeline_poll_once(fx.pl, 0)) == 100);
	CU_ASSERT(idle_sleeps(&fx) == 2);

	/* Operations in the crypto device (the stage's count of them set by
	 * hand: a software device completes within the poll): no sleep. */
	st = tg_pipeline_ipsec(fx.pl);
	CU_ASSERT_FATAL(st != NULL);
	st->inflight = 1;
	CU_ASSERT(tg_pipeline_idle_us(fx.pl, 0, 0) == 0);
	st->inflight = 0;
	CU_ASSERT(tg_pipeline_idle_us(fx.pl, 0, 0) == 100);
	CU_ASSERT(idle_sleeps(&fx) == 3);

	/* a packet: awake, and a new spell of empty iterations first */
	rte_ring_enqueue(rxr[0], mk_udp(0, 0x0a000002, 0x10000001, 64));
	CU_ASSERT(tg_pipeline_idle_us(
			  fx.pl, 0, tg_pipeline_poll_once(fx.pl, 0)) == 0);
	CU_ASSERT(tg_pipeline_idle_us(
			  fx.pl, 0, tg_pipeline_poll_once(fx.pl, 0)) == 0);
	CU_ASSERT(idle_sleeps(&fx) == 3);

	/* reloaded to 0: polls without pause, however long it is idle */
	len = snprintf(y, sizeof(y), "%s%s%s", yaml, ipsec_yaml, off);
	CU_ASSERT_FATAL(len > 0 && (size_t)len < sizeof(y));
	CU_ASSERT_FATAL(
		tg_config_parse("<test2>", y, (size_t)len, &cfg2, &errs) == 0);
	CU_ASSERT_FATAL(tg_control_apply(&fx.ctl, cfg2, err, sizeof(err)) == 0);
	for (i = 0; i < 2 * TG_IDLE_POLLS; i++)
		CU_ASSERT(tg_pipeline_idle_us(fx.pl, 0,
				  tg_pipeline_poll_once(fx.pl, 0)) == 0);
	CU_ASSERT(idle_sleeps(&fx) == 3);
	fx_teardown(&fx);
}

/* ---- trace and drop capture (tg_trace.h) ------------------------------- */

static int
fx_iface_id(const char *name, void *arg)
{
	RTE_SET_USED(arg);
	if (strcmp(name, "lan0") == 0)
		return port_ids[0];
	if (strcmp(name, "wan0") == 0)
		return port_ids[1];
	return -1;
}

static int
parse_filter(const char *expr, struct tg_trace_filter *f, char *err)
{
	return tg_trace_filter_parse(expr, f, fx_iface_id, NULL, err, 160);
}

/* The expressions a reader of tcpdump(8) would write, with BPF's meaning:
 * "host" and "port" without a direction match either end. */
static void
test_trace_filter_parse_and_match(void)
{
	struct tg_trace_filter f;
	char err[160];

	CU_ASSERT_FATAL(parse_filter("", &f, err) == 0);
	CU_ASSERT(tg_trace_filter_match(&f, 17, 1, 2, 3, 4, 0));
	CU_ASSERT(tg_trace_filter_match(&f, 50, 1, 2, 0, 0, TG_IF_NONE));

	CU_ASSERT_FATAL(parse_filter("tcp and dst port 80 and src net "
				     "192.168.1.0/24 and in wan0",
				&f, err) == 0);
	CU_ASSERT(tg_trace_filter_match(
		&f, 6, 0xc0a8010a, 0xc6336407, 40000, 80, port_ids[1]));
	CU_ASSERT(!tg_trace_filter_match(/* udp */
		&f, 17, 0xc0a8010a, 0xc6336407, 40000, 80, port_ids[1]));
	CU_ASSERT(!tg_trace_filter_match(/* 80 is the source port */
		&f, 6, 0xc0a8010a, 0xc6336407, 80, 40000, port_ids[1]));
	CU_ASSERT(!tg_trace_filter_match(/* 192.168.2.10 */
		&f, 6, 0xc0a8020a, 0xc6336407, 40000, 80, port_ids[1]));
	CU_ASSERT(!tg_trace_filter_match(/* came in on lan0 */
		&f, 6, 0xc0a8010a, 0xc6336407, 40000, 80, port_ids[0]));

	CU_ASSERT_FATAL(
		parse_filter("host 10.0.0.2 and port 1000-1010", &f, err) == 0);
	CU_ASSERT(tg_trace_filter_match(&f, 17, 0x0a000002, 9, 1005, 53, 0));
	CU_ASSERT(tg_trace_filter_match(&f, 6, 9, 0x0a000002, 53, 1000, 0));
	CU_ASSERT(!tg_trace_filter_match(&f, 6, 9, 0x0a000002, 53, 1011, 0));
	CU_ASSERT(!tg_trace_filter_match(&f, 6, 9, 0x0a000003, 53, 1000, 0));
	/* a port condition never holds for a protocol without ports */
	CU_ASSERT(!tg_trace_filter_match(&f, 1, 9, 0x0a000002, 0, 0, 0));

	CU_ASSERT_FATAL(parse_filter("esp and from host", &f, err) == 0);
	CU_ASSERT(
		tg_trace_filter_match(&f, 50, 1, 2, 0, 0, TG_TRACE_FROM_HOST));
	CU_ASSERT(!tg_trace_filter_match(&f, 50, 1, 2, 0, 0, port_ids[0]));
	CU_ASSERT_FATAL(
		parse_filter("proto 47 and net 0.0.0.0/0", &f, err) == 0);
	CU_ASSERT(tg_trace_filter_match(&f, 47, 1, 2, 0, 0, 0));

	/* Refused, each with the word that is wrong. */
	CU_ASSERT(parse_filter("tcp and", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "after \"and\"") != NULL);
	CU_ASSERT(parse_filter("net 10.0.0.0", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "A.B.C.D/LEN") != NULL);
	CU_ASSERT(parse_filter("host 10.0.0.300", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "10.0.0.300") != NULL);
	CU_ASSERT(parse_filter("port 90-80", &f, err) == -EINVAL);
	CU_ASSERT(parse_filter("port 70000", &f, err) == -EINVAL);
	CU_ASSERT(parse_filter("in eth9", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "eth9") != NULL);
	CU_ASSERT(parse_filter("tcp udp", &f, err) == -EINVAL);
	CU_ASSERT(parse_filter("tcp or udp", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "\"or\"") != NULL);
	CU_ASSERT(parse_filter("and tcp", &f, err) == -EINVAL);
	CU_ASSERT(parse_filter("arp and tcp", &f, err) == -EINVAL);
	CU_ASSERT(strstr(err, "one protocol only") != NULL);
	CU_ASSERT(parse_filter("udp and arp", &f, err) == -EINVAL);
	CU_ASSERT_FATAL(parse_filter("arp and in lan0", &f, err) == 0);
	CU_ASSERT(f.arp && !f.has_proto && f.rx_if == port_ids[0]);
}

/* The records of packet @p id, in order: how many, into @p out. */
static size_t
trace_of(const struct tg_trace_rec *r, size_t n, uint16_t id,
	const struct tg_trace_rec **out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (r[i].id == id && k < max)
			out[k++] = &r[i];
	return k;
}

static void
test_pipeline_trace_marks_and_records(void)
{
	const struct tg_trace_rec *p[8];
	struct tg_trace_status st;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[160];
	size_t n;
	int i;

	fx_setup(&fx, 1);
	/* Off: nothing is recorded. */
	for (i = 0; i < 4; i++)
		CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
					mk_udp(0, 0x0a000002, 0x10000000 + i,
						64)) == 0);
	run(&fx, 1, 4);
	CU_ASSERT(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0 && n == 0);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);

	CU_ASSERT_FATAL(parse_filter("udp and dst net 16.0.0.0/8 and in lan0",
				&f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "x", 3) == 0);
	/* two that do not match (no route, and not 16/8), then five that do:
	 * the first three of those are marked */
	for (i = 0; i < 2; i++)
		CU_ASSERT_FATAL(
			rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x63000001, 64)) == 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
					mk_udp(0, 0x0a000002, 0x10000010 + i,
						64)) == 0);
	run(&fx, 1, 4);
	/* Traced or not, the packets leave as they would anyway. */
	for (i = 0; i < 5; i++) {
		m = tx_get(1, 0);
		CU_ASSERT_FATAL(m != NULL);
		check_forwarded(m, 63);
		rte_pktmbuf_free(m);
	}
	tg_pipeline_trace_status(fx.pl, &st);
	CU_ASSERT(st.marked == 3);
	CU_ASSERT(st.in_flight == 0);
	/* all three ended: the trace switched itself off */
	CU_ASSERT(!st.active);
	CU_ASSERT(st.records == 9);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	CU_ASSERT_FATAL(n == 9);
	for (i = 1; i <= 3; i++) {
		CU_ASSERT_FATAL(trace_of(r, n, (uint16_t)i, p, 8) == 3);
		CU_ASSERT(p[0]->kind == TG_TRACE_MARK);
		CU_ASSERT(p[0]->m.dst == 0x10000010u + (uint32_t)i - 1);
		CU_ASSERT(p[0]->m.src == 0x0a000002);
		CU_ASSERT(p[0]->m.proto == 17);
		CU_ASSERT(p[0]->m.sport == 7 && p[0]->m.dport == 9);
		CU_ASSERT(p[0]->m.len == 46);
		CU_ASSERT(p[0]->m.port == port_ids[0]);
		CU_ASSERT(p[0]->m.path == TG_PATH_TRANSIT);
		CU_ASSERT(p[1]->kind == TG_TRACE_STAGE);
		CU_ASSERT(p[1]->stage == TG_STAGE_FORWARD);
		CU_ASSERT(p[1]->s.mode == TG_MODE_TRANSIT);
		CU_ASSERT(p[1]->s.verdict == TG_V_NEXT);
		CU_ASSERT(p[1]->s.gen == fx.ctl.generation);
		CU_ASSERT(p[2]->kind == TG_TRACE_TX);
		CU_ASSERT(p[2]->t.port == port_ids[1]);
		CU_ASSERT(p[0]->tsc <= p[1]->tsc && p[1]->tsc <= p[2]->tsc);
	}
	free(r);

	/* A drop: the stage's verdict, then the drop itself. */
	CU_ASSERT_FATAL(parse_filter("dst host 99.0.0.1", &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "y", 1) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x63000001, 64)) == 0);
	run(&fx, 1, 2);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	CU_ASSERT_FATAL(trace_of(r, n, 1, p, 8) == 3 && n == 3);
	CU_ASSERT(
		p[1]->kind == TG_TRACE_STAGE && TG_V_IS_DROP(p[1]->s.verdict));
	CU_ASSERT(p[1]->s.drop == drop_idx("forward.no_route"));
	CU_ASSERT(p[2]->kind == TG_TRACE_DROP);
	CU_ASSERT(p[2]->s.drop == drop_idx("forward.no_route"));
	free(r);
	tg_pipeline_trace_status(fx.pl, &st);
	CU_ASSERT(!st.active && st.marked == 1);

	/* Stopped while marking: later packets are not marked. */
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "z", 5) == 0);
	tg_pipeline_trace_stop(fx.pl);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x63000001, 64)) == 0);
	run(&fx, 1, 2);
	CU_ASSERT(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0 && n == 0);
	CU_ASSERT(tg_pipeline_trace_start(fx.pl, &f, "z", 0) == -EINVAL);
	CU_ASSERT(tg_pipeline_trace_start(
			  fx.pl, &f, "z", TG_TRACE_MAX_PKTS + 1) == -EINVAL);
	fx_teardown(&fx);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Walk a pcapng file block by block (the format's own rules, not
 * rte_pcapng's code): the Enhanced Packet Blocks' data and comments. */
static int
read_pcapng(const char *path, uint8_t data[][64], uint32_t *caplen,
	char comments[][256], int max)
{
	static uint8_t buf[1 << 16];
	size_t len, off = 0;
	int n = 0;
	FILE *fp = fopen(path, "rb");

	CU_ASSERT_FATAL(fp != NULL);
	len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	CU_ASSERT_FATAL(len >= 28 && le32(buf) == 0x0a0d0d0a);
	while (off + 12 <= len) {
		uint32_t type = le32(buf + off), bl = le32(buf + off + 4);

		CU_ASSERT_FATAL(bl >= 12 && bl % 4 == 0 && off + bl <= len);
		/* the length is repeated at the block's end */
		CU_ASSERT_FATAL(le32(buf + off + bl - 4) == bl);
		if (type == 6 && n < max) {
			const uint8_t *b = buf + off;
			uint32_t cl = le32(b + 20), o;

			caplen[n] = cl;
			memcpy(data[n], b + 28, RTE_MIN(cl, 64u));
			comments[n][0] = '\0';
			for (o = 28 + RTE_ALIGN(cl, 4); o + 4 <= bl - 4;) {
				uint16_t code =
					(uint16_t)(b[o] | b[o + 1] << 8);
				uint16_t ol =
					(uint16_t)(b[o + 2] | b[o + 3] << 8);

				if (code == 0)
					break;
				if (code == 1 && ol < 256) {
					memcpy(comments[n], b + o + 4, ol);
					comments[n][ol] = '\0';
				}
				o += 4 + RTE_ALIGN(ol, 4u);
			}
			n++;
		}
		off += bl;
	}
	CU_ASSERT(off == len);
	return n;
}

static void
test_pipeline_capture_drops(void)
{
	char path[] = "/tmp/tg-test-capture-XXXXXX", err[200];
	static uint8_t data[8][64];
	static char comments[8][256];
	struct tg_capture_status st;
	uint32_t caplen[8];
	uint8_t want[60];
	struct fixture fx;
	struct rte_mbuf *m;
	int fd, i, n;

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	fx_setup(&fx, 1);
	m = mk_udp(0, 0x0a000002, 0x63000001, 64);
	memcpy(want, rte_pktmbuf_mtod(m, void *), sizeof(want));
	rte_pktmbuf_free(m);
	CU_ASSERT(tg_pipeline_capture_start(fx.pl, path, 9999, 0, 0, err,
			  sizeof(err)) == -EINVAL);
	CU_ASSERT_FATAL(tg_pipeline_capture_start(fx.pl, path,
				drop_idx("forward.no_route"), 2, 0, err,
				sizeof(err)) == 0);
	CU_ASSERT(tg_pipeline_capture_start(
			  fx.pl, path, -1, 0, 0, err, sizeof(err)) == -EBUSY);
	/* three without a route (two are written: count 2), one forwarded,
	 * one whose TTL runs out (another reason) */
	for (i = 0; i < 3; i++)
		CU_ASSERT_FATAL(
			rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x63000001, 64)) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x10000001, 64)) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x10000001, 1)) == 0);
	run(&fx, 1, 4);
	tg_pipeline_capture_stop(fx.pl, &st);
	CU_ASSERT(!st.active);
	CU_ASSERT(st.matched == 3);
	CU_ASSERT(st.written == 2);
	CU_ASSERT(st.ring_full == 0 && st.no_mbuf == 0 && st.write_errors == 0);
	n = read_pcapng(path, data, caplen, comments, 8);
	CU_ASSERT_FATAL(n == 2);
	for (i = 0; i < n; i++) {
		CU_ASSERT(caplen[i] == 60);
		CU_ASSERT(memcmp(data[i], want, 60) == 0);
		CU_ASSERT(strstr(comments[i], "forward.no_route") != NULL);
		CU_ASSERT(strstr(comments[i], "forward(transit)") != NULL);
		CU_ASSERT(strstr(comments[i], "in lan0") != NULL);
	}
	/* stopping again does nothing */
	tg_pipeline_capture_stop(fx.pl, &st);
	CU_ASSERT(st.written == 2);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	while ((m = tx_get(0, 0)) != NULL) /* the ICMP time exceeded */
		rte_pktmbuf_free(m);
	unlink(path);
	fx_teardown(&fx);
}

/* ---- explain ------------------------------------------------------------ */

static void
explain_udp(struct fixture *fx, uint32_t dst, uint8_t ttl, struct tg_explain *x)
{
	struct tg_explain_req q = {
		.rx_if = port_ids[0],
		.proto = 17,
		.src = 0x0a000002,
		.dst = dst,
		.sport = 7,
		.dport = 9,
		.ttl = ttl,
		.payload = 18, /* mk_udp()'s packet */
	};
	char err[160];

	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx->pl, &q, x, err, sizeof(err)) == 0);
}

/* The stage steps of a trace and of an explain, side by side: the same
 * stages, modes, verdicts and drops, and the same end. */
static void
check_same(const struct tg_pipeline *pl, const struct tg_trace_rec *tr,
	size_t n, const struct tg_explain *x, const char *what)
{
	size_t i, k = 0;
	uint16_t j;

	/* the packet as RX took it: the same fields, port and path */
	for (i = 0; i < n && tr[i].kind != TG_TRACE_MARK; i++)
		;
	CU_ASSERT(i < n);
	if (i < n && memcmp(&tr[i].m, &x->mark.m, sizeof(tr[i].m)) != 0) {
		fprintf(stderr,
			"%s: trace's mark %x>%x %u/%u/%u len %u port %u "
			"path %u, explain's %x>%x %u/%u/%u len %u port %u "
			"path %u\n",
			what, tr[i].m.src, tr[i].m.dst, tr[i].m.proto,
			tr[i].m.sport, tr[i].m.dport, tr[i].m.len, tr[i].m.port,
			tr[i].m.path, x->mark.m.src, x->mark.m.dst,
			x->mark.m.proto, x->mark.m.sport, x->mark.m.dport,
			x->mark.m.len, x->mark.m.port, x->mark.m.path);
		CU_FAIL("trace and explain saw other packets");
	}
	for (i = 0, j = 0; i < n; i++) {
		if (tr[i].kind != TG_TRACE_STAGE)
			continue;
		while (j < x->n && x->step[j].r.kind != TG_TRACE_STAGE)
			j++;
		if (j == x->n) {
			fprintf(stderr, "%s: trace has more steps\n", what);
			CU_FAIL("trace has more steps than explain");
			return;
		}
		if (tr[i].stage != x->step[j].r.stage ||
			tr[i].s.mode != x->step[j].r.s.mode ||
			tr[i].s.verdict != x->step[j].r.s.verdict ||
			tr[i].s.path != x->step[j].r.s.path ||
			tr[i].s.drop != x->step[j].r.s.drop) {
			fprintf(stderr,
				"%s step %zu: trace %s/%u v %x drop %u, "
				"explain "
				"%s/%u v %x drop %u\n",
				what, k, tg_stage_name(tr[i].stage),
				tr[i].s.mode, tr[i].s.verdict, tr[i].s.drop,
				tg_stage_name(x->step[j].r.stage),
				x->step[j].r.s.mode, x->step[j].r.s.verdict,
				x->step[j].r.s.drop);
			CU_FAIL("trace and explain differ");
		}
		/* and the same words for what decided */
		{
			const char *why = tg_pipeline_trace_why(pl, &tr[i]);

			if (strcmp(why != NULL ? why : "", x->step[j].why) !=
				0) {
				fprintf(stderr,
					"%s step %zu: trace why \"%s\", "
					"explain \"%s\"\n",
					what, k, why != NULL ? why : "",
					x->step[j].why);
				CU_FAIL("trace and explain give other reasons");
			}
		}
		j++;
		k++;
	}
	while (j < x->n && x->step[j].r.kind != TG_TRACE_STAGE)
		j++;
	CU_ASSERT(j == x->n);
	/* the ends: a TX port, a drop reason */
	if (n > 0 && tr[n - 1].kind == TG_TRACE_TX) {
		CU_ASSERT(x->step[x->n - 1].r.kind == TG_TRACE_TX);
		CU_ASSERT(x->step[x->n - 1].r.t.port == tr[n - 1].t.port);
	}
	if (n > 0 && tr[n - 1].kind == TG_TRACE_DROP)
		CU_ASSERT(
			strstr(x->end, tg_drop_name(tr[n - 1].s.drop)) != NULL);
}

static void
test_pipeline_explain(void)
{
	static const struct {
		uint32_t dst;
		uint8_t ttl;
		const char *end;   /* how explain's end starts */
		const char *why;   /* in some step's why */
		const char *other; /* in some step's why or rewrite */
	} cases[] = {
		{0x10000001, 64, "tx wan0",
			"route 16.0.0.0/8 via 10.1.0.2 on wan0",
			"ttl 64 -> 63"},
		{0x10000005, 64, "drop filter.in.denied", "rule no-9 (#0)",
			"lan0 inbound list (deny-listed)"},
		{0x10000007, 64, "drop filter.out.denied", "rule no-7 (#0)",
			"wan0 outbound list (deny-listed)"},
		{0x63000001, 64, "drop forward.no_route", "no route",
			"ICMP type 3 code 0"},
		{0x10000001, 1, "drop forward.ttl_exceeded", "route 16.0.0.0/8",
			"ICMP type 11 code 0"},
		{0x0a01004d, 64, "held by forward",
			"connected 10.1.0.0/24 on wan0",
			"an ARP request would be sent"},
	};
	struct tg_lcore_stats before, after;
	struct tg_neigh_info ni[4];
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	static struct tg_explain x;
	uint32_t nb, na;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[160];
	size_t n, i, k;
	uint16_t j;

	fx_yaml = filter_yaml;
	fx_setup(&fx, 1);
	for (i = 0; i < RTE_DIM(cases); i++) {
		bool why = false, other = false;

		tg_pipeline_stats_sum(fx.pl, &before);
		tg_forward_neighbors_read(
			tg_pipeline_forward_ctx(fx.pl), 0, 0, ni, 4, &nb);
		explain_udp(&fx, cases[i].dst, cases[i].ttl, &x);
		/* Nothing changed: counters, the neighbor cache, the pool. */
		tg_pipeline_stats_sum(fx.pl, &after);
		CU_ASSERT(memcmp(&before, &after, sizeof(before)) == 0);
		tg_forward_neighbors_read(
			tg_pipeline_forward_ctx(fx.pl), 0, 0, ni, 4, &na);
		CU_ASSERT(na == nb);
		CU_ASSERT(rte_mempool_in_use_count(mp) == 0);
		CU_ASSERT(x.generation == fx.ctl.generation);
		CU_ASSERT(x.unexplained == TG_STAGE_NONE);
		if (strncmp(x.end, cases[i].end, strlen(cases[i].end)) != 0) {
			fprintf(stderr, "case %zu: end \"%s\"\n", i, x.end);
			CU_FAIL("explain's end");
		}
		for (j = 0; j < x.n; j++) {
			why |= strstr(x.step[j].why, cases[i].why) != NULL;
			other |=
				strstr(x.step[j].why, cases[i].other) != NULL ||
				strstr(x.step[j].rewrite, cases[i].other) !=
					NULL;
		}
		if (!why || !other) {
			for (j = 0; j < x.n; j++)
				fprintf(stderr, "case %zu step %u: %s | %s\n",
					i, j, x.step[j].why, x.step[j].rewrite);
			CU_FAIL("explain's reasons");
		}

		/* The same packet, sent for real and traced. */
		CU_ASSERT_FATAL(parse_filter("", &f, err) == 0);
		CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "", 1) == 0);
		m = mk_udp(0, 0x0a000002, cases[i].dst, cases[i].ttl);
		CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0], m) == 0);
		run(&fx, 1, 2);
		CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
		for (k = 0; k < n && r[k].id == 1; k++)
			;
		check_same(fx.pl, r, k, &x, cases[i].end);
		free(r);
		while ((m = tx_get(1, 0)) != NULL)
			rte_pktmbuf_free(m);
		while ((m = tx_get(0, 0)) != NULL) /* ICMP errors */
			rte_pktmbuf_free(m);
	}
	/* The last case's packet waits in forward for ARP; its request
	 * went out on wan0. */
	fx_teardown(&fx);
}

/* mk_udp() with other ports. */
static struct rte_mbuf *
mk_udp_ports(uint16_t rx_idx, uint32_t src, uint32_t dst, uint16_t sport,
	uint16_t dport)
{
	struct rte_mbuf *m = mk_udp(rx_idx, src, dst, 64);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	p[34] = (uint8_t)(sport >> 8);
	p[35] = (uint8_t)sport;
	p[36] = (uint8_t)(dport >> 8);
	p[37] = (uint8_t)dport;
	return m;
}

/* Explain @p q, check that it changed nothing, then send @p m (the same
 * packet, built apart) on port @p rx_idx (2: from the host), traced, and
 * check that both took the same steps for the same reasons. */
static void run_host(struct fixture *fx, int iterations);
static void explain_then_traced(struct fixture *fx,
	const struct tg_explain_req *q, uint16_t rx_idx, struct rte_mbuf *m,
	const char *filter, struct tg_explain *x);

static void
explain_then_real(struct fixture *fx, const struct tg_explain_req *q,
	uint16_t rx_idx, struct rte_mbuf *m, struct tg_explain *x)
{
	explain_then_traced(fx, q, rx_idx, m, "", x);
}

/* The same with @p filter marking the real packet. */
static void
explain_then_traced(struct fixture *fx, const struct tg_explain_req *q,
	uint16_t rx_idx, struct rte_mbuf *m, const char *filter,
	struct tg_explain *x)
{
	const struct tg_natfw_ctx *nc = tg_pipeline_natfw(fx->pl);
	struct tg_lcore_stats before, after;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct tg_nat_table_stats tab;
	struct tg_natfw_pptp_stats pptp;
	char err[160];
	size_t n, k;

	tg_pipeline_stats_sum(fx->pl, &before);
	if (nc != NULL) {
		tab = nc->sessions->stats;
		pptp = nc->pptp;
	}
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx->pl, q, x, err, sizeof(err)) == 0);
	tg_pipeline_stats_sum(fx->pl, &after);
	CU_ASSERT(memcmp(&before, &after, sizeof(before)) == 0);
	/* the session table's counts and failures, PPTP's counters */
	CU_ASSERT(nc == NULL ||
		  memcmp(&tab, &nc->sessions->stats, sizeof(tab)) == 0);
	CU_ASSERT(nc == NULL || memcmp(&pptp, &nc->pptp, sizeof(pptp)) == 0);
	CU_ASSERT(x->unexplained == TG_STAGE_NONE);

	CU_ASSERT_FATAL(parse_filter(filter, &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx->pl, &f, filter, 1) == 0);
	/* rx_idx 2: what the host sends, through the host port */
	CU_ASSERT_FATAL(
		rte_ring_enqueue(rx_idx == 2 ? host_rxr : rxr[rx_idx], m) == 0);
	if (fx_host.enabled)
		run_host(fx, 4);
	else
		run(fx, 1, 4);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx->pl, &r, &n) == 0);
	for (k = 0; k < n && r[k].id == 1; k++)
		;
	check_same(fx->pl, r, k, x, x->end);
	free(r);
}

/* Explain a UDP packet arriving on port @p rx_idx, check that it changed
 * nothing, then send the same packet for real, traced, and check that
 * both took the same steps. */
static void
explain_then_send(struct fixture *fx, uint16_t rx_idx, uint32_t src,
	uint32_t dst, uint16_t sport, uint16_t dport, struct tg_explain *x)
{
	struct tg_explain_req q = {
		.rx_if = port_ids[rx_idx],
		.proto = 17,
		.src = src,
		.dst = dst,
		.sport = sport,
		.dport = dport,
		.payload = 18,
	};

	explain_then_real(fx, &q, rx_idx,
		mk_udp_ports(rx_idx, src, dst, sport, dport), x);
}
static bool
some_why(const struct tg_explain *x, const char *text)
{
	uint16_t j;

	for (j = 0; j < x->n; j++)
		if (strstr(x->step[j].why, text) != NULL ||
			strstr(x->step[j].rewrite, text) != NULL)
			return true;
	for (j = 0; j < x->n; j++)
		fprintf(stderr, "  step %u: %s | %s\n", j, x->step[j].why,
			x->step[j].rewrite);
	return false;
}

/* NAT and the firewall explained: a new mapping, then the session the
 * real packet made, the answer translated back (a path switch), and
 * unsolicited traffic the firewall drops; each time the real packet
 * takes the steps explain gave. */
static void
test_pipeline_explain_nat(void)
{
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;
	uint16_t pub;
	char want[96];

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	explain_then_send(&fx, 0, 0x0a000002, 0x10000005, 7, 9, &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "a new mapping would be made on 10.1.0.1"));
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	pub = fr16(m, 34);
	rte_pktmbuf_free(m);

	/* the session is there now */
	explain_then_send(&fx, 0, 0x0a000002, 0x10000005, 7, 9, &x);
	snprintf(want, sizeof(want), "session 10.0.0.2:7 <-> 10.1.0.1:%u", pub);
	CU_ASSERT(some_why(&x, want));
	snprintf(want, sizeof(want), "source 10.0.0.2:7 -> 10.1.0.1:%u", pub);
	CU_ASSERT(some_why(&x, want));
	rte_pktmbuf_free(tx_get(1, 0));

	/* the answer: natfw(in) translates it back, transit at forward */
	explain_then_send(&fx, 1, 0x10000005, 0x0a010001, 9, pub, &x);
	CU_ASSERT(x.mark.m.path == TG_PATH_TARGET);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(x.n >= 2 && x.step[0].r.stage == TG_STAGE_NATFW &&
		  TG_V_KIND(x.step[0].r.s.verdict) == TG_V_GOTO_BASE &&
		  x.step[0].r.s.path == TG_PATH_TRANSIT);
	snprintf(want, sizeof(want), "destination 10.1.0.1:%u -> 10.0.0.2:7",
		pub);
	CU_ASSERT(some_why(&x, want));
	rte_pktmbuf_free(tx_get(0, 0));

	/* unsolicited */
	explain_then_send(&fx, 1, 0x10000005, 0x0a010001, 9, 7, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.no_exception") == 0);
	CU_ASSERT(some_why(&x, "no firewall exception"));
	fx_teardown(&fx);
}

/* ipsec explained: protect (the tunnel's output straight to TX), block,
 * an unprotected packet a protect policy wants, and ESP arriving under
 * an inbound SA (explain's null-cipher ESP, "decrypted" and checked). */
static const char ipsec_explain_yaml[] =
	"ipsec:\n"
	"  crypto_device: crypto_aesni_mb_pl\n"
	"  policies:\n"
	"    - {name: gw, dst: 16.1.0.0/16, direction: outbound,\n"
	"       action: protect, sa: to-gw}\n"
	"    - {name: from-gw, src: 16.1.0.0/16, dst: 10.0.0.0/24,\n"
	"       direction: inbound, action: protect, sa: from-gw}\n"
	"    - {name: no-5, dst: 16.5.0.0/16, direction: outbound,\n"
	"       action: block}\n"
	"  sas:\n"
	"    - {name: to-gw, spi: 0x1001, direction: outbound, mode: tunnel,\n"
	"       local: 10.1.0.1, remote: 10.1.0.2, algorithm: aes-128-gcm,\n"
	"       key: 000102030405060708090a0b0c0d0e0f, salt: 01020304}\n"
	"    - {name: from-gw, spi: 0x2001, direction: inbound, mode: tunnel,\n"
	"       local: 10.1.0.1, remote: 10.1.0.2, algorithm: aes-128-gcm,\n"
	"       key: 101112131415161718191a1b1c1d1e1f, salt: 05060708}\n";

static void
test_pipeline_explain_ipsec(void)
{
	struct tg_explain_req q = {
		.rx_if = 0,
		.proto = 17,
		.src = 0x10010005,
		.dst = 0x0a000002,
		.sport = 9,
		.dport = 7,
		.payload = 18,
		.esp = true,
		.spi = 0x2001,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[256];

	fx_setup_pl_first(&fx, ipsec_explain_yaml);
	CU_ASSERT_FATAL(fx.ctl.generation != 0);

	explain_then_send(&fx, 0, 0x0a000002, 0x10010005, 7, 9, &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "policy gw: protect, with SA to-gw (spi 4097), "
			       "tunnel"));
	CU_ASSERT(some_why(&x, "straight to TX"));
	CU_ASSERT(some_why(&x, "protocol 17 -> 50, source 10.0.0.2 -> "
			       "10.1.0.1, destination 16.1.0.5 -> 10.1.0.2"));
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(rte_pktmbuf_mtod(m, uint8_t *)[23] == IPPROTO_ESP);
	rte_pktmbuf_free(m);

	explain_then_send(&fx, 0, 0x0a000002, 0x10050001, 7, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.blocked") == 0);
	CU_ASSERT(some_why(&x, "policy no-5: block"));

	/* unprotected, from where a protect policy wants ESP */
	explain_then_send(&fx, 1, 0x10010005, 0x0a000002, 9, 7, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.unprotected") == 0);
	CU_ASSERT(some_why(&x, "policy from-gw: protect"));

	/* in ESP under from-gw: decrypted, then transit to lan0 */
	q.rx_if = port_ids[1];
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx.pl, &q, &x, err, sizeof(err)) == 0);
	CU_ASSERT(x.mark.m.proto == IPPROTO_ESP);
	CU_ASSERT(x.mark.m.path == TG_PATH_TARGET);
	CU_ASSERT(x.inner.m.dst == 0x0a000002 && x.inner.m.proto == 17);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(x.n >= 2 && x.step[0].r.stage == TG_STAGE_IPSEC &&
		  x.step[0].r.s.verdict == TG_V_GOTO(TG_STAGE_NONE) &&
		  x.step[0].r.s.path == TG_PATH_TRANSIT);
	CU_ASSERT(some_why(&x, "SA from-gw (spi 8193)"));
	CU_ASSERT(some_why(&x, "policy from-gw: protect"));
	/* the inner packet to a place the policy does not cover */
	q.dst = 0x0a000009 + 0x100; /* 10.0.1.9: not 10.0.0.0/24 */
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx.pl, &q, &x, err, sizeof(err)) == 0);
	CU_ASSERT(strcmp(x.end, "drop ipsec.policy_mismatch") == 0);
	/* a fragment of ESP: dropped before any SA is looked at (the real
	 * one's bytes are no ESP at all: the fragment check comes first) */
	q.frag_off = 0;
	q.more_frags = true;
	q.dst = 0x0a000002;
	m = mk_udp_ports(1, 0x0a010002, 0x0a010001, 9, 7);
	/* as long as explain's: outer header, ESP's 8, the packet, 2 */
	CU_ASSERT_FATAL(rte_pktmbuf_append(m, 30) != NULL);
	rte_pktmbuf_mtod(m, uint8_t *)[17] = 76;
	rte_pktmbuf_mtod(m, uint8_t *)[20] = 0x20; /* MF */
	rte_pktmbuf_mtod(m, uint8_t *)[23] = IPPROTO_ESP;
	ip_cksum_again(rte_pktmbuf_mtod(m, uint8_t *));
	explain_then_real(&fx, &q, 1, m, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.fragment") == 0);
	q.more_frags = false;

	/* an SPI no SA has, to the appliance: ipsec.no_sa */
	q.spi = 0x9999;
	q.src = 0x10010005;
	q.dst = 0x0a010001;
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx.pl, &q, &x, err, sizeof(err)) == 0);
	CU_ASSERT(strcmp(x.end, "drop ipsec.no_sa") == 0);
	CU_ASSERT(x.mark.m.proto == IPPROTO_ESP &&
		  x.mark.m.path == TG_PATH_TARGET);
	fx_teardown(&fx);
}

/* The source path explained (what the host sends) and the target path's
 * end at the host port; the real packets traced alike. */
static void explain_frame_then_traced(struct fixture *fx, uint16_t rx_idx,
	struct rte_mbuf *m, uint16_t keep, const char *filter,
	struct tg_explain *x);

static void
test_pipeline_explain_host(void)
{
	struct tg_explain_req q = {
		.rx_if = TG_TRACE_FROM_HOST,
		.proto = 17,
		.src = 0x0a010001,
		.dst = 0x10000005,
		.sport = 7,
		.dport = 9,
		.payload = 18,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;

	host_setup(&fx, false, 64);
	explain_then_traced(
		&fx, &q, 2, mk_from_host(q.src, q.dst, false), "from host", &x);
	CU_ASSERT(x.mark.m.path == TG_PATH_SOURCE);
	CU_ASSERT(x.mark.m.port == TG_TRACE_FROM_HOST);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(x.n >= 1 && x.step[0].r.stage == TG_STAGE_FORWARD &&
		  x.step[0].r.s.mode == TG_MODE_OUT);
	/* a host's own packet keeps its TTL */
	CU_ASSERT(strstr(x.step[0].rewrite, "ttl") == NULL);
	rte_pktmbuf_free(tx_get(1, 0));

	/* to the appliance: the host */
	q.rx_if = port_ids[0];
	q.src = 0x0a000002;
	q.dst = 0x0a000001;
	explain_then_traced(
		&fx, &q, 0, mk_udp(0, q.src, q.dst, 64), "in lan0", &x);
	CU_ASSERT(strcmp(x.end, "host") == 0);
	CU_ASSERT(x.n >= 1 && x.step[x.n - 1].r.kind == TG_TRACE_HOST);
	m = host_get();
	CU_ASSERT(m != NULL);
	rte_pktmbuf_free(m);

	/* what the host sends and RX refuses, or that is not IPv4, as
	 * frames: traced "from host" too */
	m = mk_udp(0, 0x0a010001, 0x10000005, 64);
	rte_pktmbuf_mtod(m, uint8_t *)[12] = 0x86; /* IPv6's ethertype */
	rte_pktmbuf_mtod(m, uint8_t *)[13] = 0xdd;
	explain_frame_then_traced(&fx, 2, m, 0, "from host", &x);
	CU_ASSERT(strcmp(x.end, "drop pkt.unsupported_ethertype") == 0);
	m = mk_arp_request(0, 0x0a010001, env.mac[1].addr_bytes, 0x0a010002);
	explain_frame_then_traced(&fx, 2, m, 0, "arp and from host", &x);
	CU_ASSERT(strcmp(x.end, "drop host.not_ipv4") == 0);
	fx_teardown(&fx);
}

/* mk_udp()'s packet made another protocol's: the header checksum again,
 * and for ICMP a type in the first byte after the IP header (and the
 * ICMP checksum over the rest). */
static void
set_proto(struct rte_mbuf *m, uint8_t proto, uint8_t icmp_type)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t ck;

	p[23] = proto;
	ip_cksum_again(p);
	if (proto == IPPROTO_ICMP) {
		memset(p + 34, 0, 8);
		p[34] = icmp_type;
		ck = ref_cksum(p + 34, 26);
		p[36] = (uint8_t)(ck >> 8);
		p[37] = (uint8_t)ck;
	}
}

/* Ethernet + IPv4 (no options) + @p l4len bytes of @p proto at @p l4,
 * arriving on port @p rx_idx (0 lan0 from the lan host, 1 wan0 from the
 * gateway), TTL @p ttl. */
static struct rte_mbuf *
mk_ip_ttl(uint16_t rx_idx, uint32_t src, uint32_t dst, uint8_t proto,
	uint8_t ttl, const uint8_t *l4, uint16_t l4len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t iplen = (uint16_t)(20 + l4len);
	uint8_t *p;
	int i;

	CU_ASSERT_FATAL(m != NULL);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(14 + iplen));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, 34);
	memcpy(p, env.mac[rx_idx].addr_bytes, 6);
	memcpy(p + 6, rx_idx == 0 ? lan_host_mac : gw_mac, 6);
	p[12] = 0x08;
	p[14] = 0x45;
	p[16] = (uint8_t)(iplen >> 8);
	p[17] = (uint8_t)iplen;
	p[22] = ttl;
	p[23] = proto;
	for (i = 0; i < 4; i++) {
		p[26 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[30 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ip_cksum_again(p);
	memcpy(p + 34, l4, l4len);
	return m;
}

static struct rte_mbuf *
mk_ip(uint16_t rx_idx, uint32_t src, uint32_t dst, uint8_t proto,
	const uint8_t *l4, uint16_t l4len)
{
	return mk_ip_ttl(rx_idx, src, dst, proto, 64, l4, l4len);
}

/* A UDP packet of @p payload bytes (zeros) from lan, 7 to 9. */
static struct rte_mbuf *
mk_udp_len(uint32_t src, uint32_t dst, uint16_t payload, uint8_t ttl)
{
	static uint8_t udp[8 + 1500];

	CU_ASSERT_FATAL(payload <= sizeof(udp) - 8);
	memset(udp, 0, 8u + payload);
	udp[1] = 7;
	udp[3] = 9;
	udp[4] = (uint8_t)((8 + payload) >> 8);
	udp[5] = (uint8_t)(8 + payload);
	return mk_ip_ttl(0, src, dst, 17, ttl, udp, (uint16_t)(8 + payload));
}

/* More of forward's drops, explained and then met by real packets: a
 * directed broadcast, a packet over the next hop's MTU, and (firewall
 * on) an unsolicited datagram to the NAT address. */
static void
test_pipeline_explain_more_drops(void)
{
	struct tg_explain_req q = {
		.proto = 17,
		.src = 0x0a000002,
		.sport = 7,
		.dport = 9,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;

	fx_setup(&fx, 1);
	q.rx_if = port_ids[0];
	q.dst = 0x0a0100ff; /* wan0's broadcast */
	q.payload = 18;
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 18, 64), &x);
	CU_ASSERT(strcmp(x.end, "drop forward.directed_broadcast") == 0);
	/* 1,500 bytes of IP fit wan0's MTU, 1,501 do not */
	q.dst = 0x10000005;
	q.payload = 1500 - 28;
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 1472, 64), &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	q.payload = 1501 - 28;
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 1473, 64), &x);
	CU_ASSERT(strcmp(x.end, "drop forward.mtu_exceeded") == 0);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	while ((m = tx_get(0, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	q.rx_if = port_ids[1];
	q.src = 0x10000005;
	q.dst = 0x0a010001;
	q.payload = 18;
	explain_then_real(&fx, &q, 1, mk_udp_ports(1, q.src, q.dst, 7, 9), &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.no_exception") == 0);
	/* a ping to the NAT address: the ICMP policy blocks requests */
	q.proto = IPPROTO_ICMP;
	q.icmp_type = 8;
	q.payload = 18;
	m = mk_udp_ports(1, q.src, q.dst, 0, 0);
	set_proto(m, IPPROTO_ICMP, 8);
	explain_then_real(&fx, &q, 1, m, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.icmp_blocked") == 0);
	CU_ASSERT(some_why(&x, "the firewall's ICMP policy"));
	/* SCTP from lan to wan: a protocol NAT does not translate */
	q.rx_if = port_ids[0];
	q.proto = 132;
	q.src = 0x0a000002;
	q.dst = 0x10000005;
	q.payload = 26; /* mk_udp's 8 + 18 bytes, all SCTP's here */
	m = mk_udp_ports(0, q.src, q.dst, 7, 9);
	set_proto(m, 132, 0);
	explain_then_real(&fx, &q, 0, m, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.protocol") == 0);
	while ((m = tx_get(0, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* The appliance's own traffic: to one of its addresses from the host
 * (forward drops it: no loopback), and the local filter's two refusals. */
static void
test_pipeline_explain_local(void)
{
	static const char lf_yaml[] =
		FX_STD "local_filter: {protocols: [tcp, udp], tcp_ports: all,\n"
		       "  udp_ports: [53]}\n";
	struct tg_explain_req q = {
		.rx_if = TG_TRACE_FROM_HOST,
		.proto = 17,
		.src = 0x0a010001,
		.dst = 0x0a000001,
		.sport = 7,
		.dport = 9,
		.payload = 18,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;

	fx_yaml = lf_yaml;
	host_setup(&fx, false, 64);
	explain_then_real(&fx, &q, 2, mk_from_host(q.src, q.dst, false), &x);
	CU_ASSERT(strcmp(x.end, "drop forward.local_in_transit") == 0);

	q.rx_if = port_ids[0];
	q.src = 0x0a000002;
	explain_then_real(&fx, &q, 0, mk_udp_ports(0, q.src, q.dst, 7, 9), &x);
	CU_ASSERT(strcmp(x.end, "drop localfilter.udp_port") == 0);
	q.dport = 53;
	explain_then_real(&fx, &q, 0, mk_udp_ports(0, q.src, q.dst, 7, 53), &x);
	CU_ASSERT(strcmp(x.end, "host") == 0);
	q.proto = 132;
	q.payload = 26;
	m = mk_udp_ports(0, q.src, q.dst, 7, 9);
	set_proto(m, 132, 0);
	explain_then_real(&fx, &q, 0, m, &x);
	CU_ASSERT(strcmp(x.end, "drop localfilter.protocol") == 0);
	while ((m = host_get()) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* Hairpinning explained: a lan host to the NAT address's mapped port
 * reaches the server behind it, from the sender's own mapping; the real
 * packet does the same. */
static void
test_pipeline_explain_hairpin(void)
{
	static const char hp_yaml[] =
		FX_STD "nat:\n"
		       "  private: [lan0]\n"
		       "  public: [wan0]\n"
		       "  port_mappings:\n"
		       "    - {name: srv, protocol: udp, public_port: 8080,\n"
		       "       private_address: 10.0.0.2, private_port: 80}\n"
		       "firewall: {}\n";
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;

	fx_yaml = hp_yaml;
	fx_setup(&fx, 1);
	/* 10.0.0.3 to the mapped port; the server is 10.0.0.2 */
	explain_then_send(&fx, 0, 0x0a000003, 0x0a010001, 7, 8080, &x);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(some_why(&x, "hairpinning: from 10.1.0.1:"));
	CU_ASSERT(some_why(&x, "to the translation's 10.0.0.2:80"));
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(fr32(m, 26) == 0x0a010001);
	CU_ASSERT(fr32(m, 30) == 0x0a000002 && fr16(m, 36) == 80);
	rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* AH arriving under an inbound SA: explain's AH (an ICV nobody checks)
 * "verified", its inner packet checked against the policy and sent on. */
static void
test_pipeline_explain_ah(void)
{
	static const char ah_yaml[] =
		"ipsec:\n"
		"  crypto_device: crypto_aesni_mb_pl\n"
		"  policies:\n"
		"    - {name: ah-in, src: 16.1.0.0/16, dst: 10.0.0.0/24,\n"
		"       direction: inbound, action: protect, sa: from-gw-ah}\n"
		"  sas:\n"
		"    - {name: from-gw-ah, spi: 0x2002, direction: inbound,\n"
		"       mode: tunnel, protocol: ah, local: 10.1.0.1,\n"
		"       remote: 10.1.0.2, algorithm: hmac-sha256,\n"
		"       auth_key: 000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f}\n";
	struct tg_explain_req q = {
		.proto = 17,
		.src = 0x10010005,
		.dst = 0x0a000002,
		.sport = 9,
		.dport = 7,
		.payload = 18,
		.ah = true,
		.spi = 0x2002,
	};
	static struct tg_explain x;
	struct fixture fx;
	char err[256];

	fx_setup_pl_first(&fx, ah_yaml);
	CU_ASSERT_FATAL(fx.ctl.generation != 0);
	q.rx_if = port_ids[1];
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx.pl, &q, &x, err, sizeof(err)) == 0);
	CU_ASSERT(x.mark.m.proto == IPPROTO_AH);
	CU_ASSERT(x.mark.m.src == 0x0a010002 && x.mark.m.dst == 0x0a010001);
	/* 20 outer + 12 + 16 ICV + the inner 46 */
	CU_ASSERT(x.mark.m.len == 20 + 28 + 46);
	CU_ASSERT(x.inner.m.len == 46);
	CU_ASSERT(x.unexplained == TG_STAGE_NONE);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(x.n >= 2 && x.step[0].r.stage == TG_STAGE_IPSEC &&
		  x.step[0].r.s.verdict == TG_V_GOTO(TG_STAGE_NONE));
	CU_ASSERT(some_why(&x, "SA from-gw-ah (spi 8194)"));
	CU_ASSERT(some_why(&x, "policy ah-in: protect"));
	/* under ESP with that SPI: no such SA (it is AH's) */
	q.ah = false;
	q.esp = true;
	q.dst = 0x0a010001;
	CU_ASSERT_FATAL(
		tg_pipeline_explain(fx.pl, &q, &x, err, sizeof(err)) == 0);
	CU_ASSERT(strcmp(x.end, "drop ipsec.no_sa") == 0);
	fx_teardown(&fx);
}

/* The rest of the reasons a packet can meet, explained and then met by
 * the real packet: the filter lists' defaults, an SA's MTU and hard
 * lifetime, and the NAT table full. */
/* @p n UDP flows from lan0 to 16.0.0.5:9, the i-th from @p src + i *
 * @p src_step, port @p sport + i * @p sport_step, sent and run through;
 * what left wan0 is dropped. */
static void
send_flows(struct fixture *fx, uint32_t src, uint32_t src_step, uint16_t sport,
	uint16_t sport_step, int n)
{
	struct rte_mbuf *m;
	int i;

	for (i = 0; i < n; i++)
		CU_ASSERT_FATAL(
			rte_ring_enqueue(rxr[0],
				mk_udp_ports(0, src + (uint32_t)i * src_step,
					0x10000005,
					(uint16_t)(sport + i * sport_step),
					9)) == 0);
	run(fx, 1, 8);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
}

static void
test_pipeline_explain_limits(void)
{
	static const char sa_yaml[] =
		"ipsec:\n"
		"  crypto_device: crypto_aesni_mb_pl\n"
		"  policies:\n"
		"    - {name: gw, dst: 16.1.0.0/16, direction: outbound,\n"
		"       action: protect, sa: to-gw}\n"
		"    - {name: once, dst: 16.3.0.0/16, direction: outbound,\n"
		"       action: protect, sa: one-packet}\n"
		"  sas:\n"
		"    - {name: to-gw, spi: 0x1001, direction: outbound, mode: "
		"tunnel,\n"
		"       local: 10.1.0.1, remote: 10.1.0.2, algorithm: "
		"aes-128-gcm,\n"
		"       key: 000102030405060708090a0b0c0d0e0f, salt: "
		"01020304}\n"
		"    - {name: one-packet, spi: 0x1003, direction: outbound,\n"
		"       mode: tunnel, local: 10.1.0.1, remote: 10.1.0.2,\n"
		"       algorithm: aes-128-gcm,\n"
		"       key: 202122232425262728292a2b2c2d2e2f, salt: "
		"01020304,\n"
		"       lifetime: {hard_packets: 1}}\n";
	static const char full_yaml[] =
		FX_STD "nat: {private: [lan0], public: [wan0], "
		       "max_sessions: 64}\n";
	static const char hosts_yaml[] =
		FX_STD "nat: {private: [lan0], public: [wan0], "
		       "max_sessions: 256}\n"
		       "firewall: {max_dynamic: 64}\n";
	static const char host_yaml[] =
		FX_STD "nat: {private: [lan0], public: [wan0], "
		       "max_sessions_per_host: 3}\n";
	static const char ports_yaml[] = FX_STD
		"nat: {private: [lan0], public: [wan0],\n"
		"      addresses: [{address: 10.1.0.1, ports: 2000-2063}]}\n";
	struct tg_explain_req q = {
		.rx_if = 0,
		.proto = 17,
		.sport = 7,
		.dport = 9,
		.payload = 18,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;
	static const struct {
		const char *yaml, *first, *end;
		uint32_t src, src_step, then_src;
		uint16_t sport, sport_step, then_sport;
		int n;
	} fill[] = {
		{full_yaml, NULL, "drop natfw.sessions_full", 0x0a000002, 0,
			0x0a000002, 2000, 1, 3000, 64},
		{ports_yaml,
			"a new mapping would be made on 10.1.0.1, port 2000 "
			"(free now)",
			"drop natfw.ports_full", 0x0a000002, 0, 0x0a000003,
			40000, 1, 5000, 63},
		{hosts_yaml, NULL, "drop natfw.table_full", 0x0a020000, 1,
			0x0a0000a0, 2000, 0, 2000, 80},
	};
	int i;

	/* filter_yaml: wan0 inbound allow-listed without rules, lan0
	 * outbound allow-listed without rules */
	fx_yaml = filter_yaml;
	fx_setup(&fx, 1);
	explain_then_send(&fx, 1, 0x10000005, 0x0a000002, 9, 7, &x);
	CU_ASSERT(strcmp(x.end, "drop filter.in.default") == 0);
	CU_ASSERT(some_why(&x, "no rule matched: the list's default"));
	/* lan0 to lan0 (10.0.0.3 to 10.0.0.2): out by lan0 */
	explain_then_send(&fx, 0, 0x0a000003, 0x0a000002, 7, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop filter.out.default") == 0);
	fx_teardown(&fx);

	fx_setup_pl_first(&fx, sa_yaml);
	CU_ASSERT_FATAL(fx.ctl.generation != 0);
	/* 1,500 bytes of IP: fits wan0, not once the tunnel's headers are
	 * added */
	q.rx_if = port_ids[0];
	q.src = 0x0a000002;
	q.dst = 0x10010005;
	q.payload = 1472;
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 1472, 64), &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.too_big") == 0);
	/* an SA good for one packet: the second meets its hard limit */
	q.dst = 0x10030005;
	q.payload = 18;
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 18, 64), &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	explain_then_real(&fx, &q, 0, mk_udp_len(q.src, q.dst, 18, 64), &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.sa_expired") == 0);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);

	/* three sessions a host: two mappings, a session on an existing
	 * one, then the host's limit */
	fx_yaml = host_yaml;
	fx_setup(&fx, 1);
	explain_then_send(&fx, 0, 0x0a000002, 0x10000005, 2001, 9, &x);
	CU_ASSERT(some_why(&x, "a new mapping would be made on 10.1.0.1, "
			       "port 2001 (free now)"));
	explain_then_send(&fx, 0, 0x0a000002, 0x10000005, 40000, 9, &x);
	explain_then_send(&fx, 0, 0x0a000002, 0x10000006, 40000, 9, &x);
	CU_ASSERT(some_why(&x, "a new session on the host's mapping to "
			       "10.1.0.1:40000"));
	explain_then_send(&fx, 0, 0x0a000002, 0x10000007, 40000, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.host_limit") == 0);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);

	/* The table filled by real flows, then one more explained and
	 * sent: 64 sessions in a table of 64; a range of 64 ports taken (a
	 * private port out of it first gets the range's first, 2000); 80
	 * hosts with a session in a table of 256 + 64 (a quarter of it in
	 * host records). */
	for (i = 0; i < (int)RTE_DIM(fill); i++) {
		fx_yaml = fill[i].yaml;
		fx_setup(&fx, 1);
		if (fill[i].first != NULL) {
			explain_then_send(&fx, 0, fill[i].src, 0x10000005,
				fill[i].sport, 9, &x);
			CU_ASSERT(some_why(&x, fill[i].first));
		}
		send_flows(&fx, fill[i].src, fill[i].src_step,
			(uint16_t)(fill[i].sport + (fill[i].first != NULL)),
			fill[i].sport_step, fill[i].n);
		explain_then_send(&fx, 0, fill[i].then_src, 0x10000005,
			fill[i].then_sport, 9, &x);
		if (strcmp(x.end, fill[i].end) != 0) {
			fprintf(stderr, "fill %d: %s\n", i, x.end);
			CU_FAIL("explain's end once the table is full");
		}
		fx_teardown(&fx);
	}
}

/* What the appliance itself sends, with the firewall on: a dynamic entry
 * opened, the next one over firewall.max_dynamic, and a port a
 * translation holds on the NAT address. */
static void
test_pipeline_explain_own_flows(void)
{
	static const char own_yaml[] =
		FX_STD "nat: {private: [lan0], public: [wan0]}\n"
		       "firewall: {max_dynamic: 1}\n";
	struct tg_explain_req q = {
		.rx_if = TG_TRACE_FROM_HOST,
		.proto = 17,
		.src = 0x0a010001,
		.dst = 0x10000005,
		.sport = 5000,
		.dport = 9,
		.payload = 18,
	};
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;
	uint16_t pub;
	uint8_t *p;

	fx_yaml = own_yaml;
	host_setup(&fx, false, 64);
	m = mk_from_host(q.src, q.dst, false);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[34] = 5000 >> 8;
	p[35] = 5000 & 0xff;
	explain_then_real(&fx, &q, 2, m, &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "a dynamic entry would be opened"));
	rte_pktmbuf_free(tx_get(1, 0));
	/* a second flow: max_dynamic is 1 */
	q.sport = 5001;
	m = mk_from_host(q.src, q.dst, false);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[34] = 5001 >> 8;
	p[35] = 5001 & 0xff;
	explain_then_real(&fx, &q, 2, m, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.dynamic_full") == 0);

	/* a lan host's flow takes a port of the NAT address; the appliance
	 * sending from that port is refused */
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x10000005, 64)) == 0);
	run_host(&fx, 4);
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	pub = fr16(m, 34);
	rte_pktmbuf_free(m);
	q.sport = pub;
	m = mk_from_host(q.src, q.dst, false);
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[34] = (uint8_t)(pub >> 8);
	p[35] = (uint8_t)pub;
	explain_then_real(&fx, &q, 2, m, &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.port_in_use") == 0);
	fx_teardown(&fx);
}

/* Neighbors being resolved: the first packets wait (an ARP request goes
 * out for the first), the one past arp.hold_packets is dropped. */
static void
test_pipeline_explain_arp_hold(void)
{
	struct tg_explain_req q = {
		.proto = 17,
		.src = 0x0a000002,
		.dst = 0x0a01004d, /* 10.1.0.77: on wan0, nobody knows it */
		.sport = 7,
		.dport = 9,
		.payload = 18,
	};
	static const uint8_t smac[6] = {2, 0, 0, 0, 1, 0x4d};
	static struct tg_explain x;
	struct tg_trace_status st;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[160];
	size_t n, k;
	int i;

	fx_setup_opts(&fx, 1, NB_TXQ, false, "arp: {hold_packets: 2}\n");
	q.rx_if = port_ids[0];
	for (i = 0; i < 2; i++) {
		explain_then_send(&fx, 0, q.src, q.dst, 7, 9, &x);
		CU_ASSERT(strncmp(x.end, "held by forward", 15) == 0);
		CU_ASSERT(some_why(&x, i == 0 ? "an ARP request would be sent"
					      : "neighbor 00:00:00:00:00:00 "
						"incomplete"));
	}
	explain_then_send(&fx, 0, q.src, q.dst, 7, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop forward.arp_hold_full") == 0);
	while ((m = tx_get(1, 0)) != NULL) /* the ARP request */
		rte_pktmbuf_free(m);

	/* A new trace while packets an earlier one marked wait for ARP:
	 * when 10.1.0.77 makes itself known and they leave, the new trace
	 * records nothing of them and still ends by itself. */
	CU_ASSERT_FATAL(parse_filter("dst host 16.0.0.78", &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "", 1) == 0);
	CU_ASSERT_FATAL(
		rte_ring_enqueue(rxr[1],
			mk_arp_request(1, 0x0a01004d, smac, 0x0a010001)) == 0);
	run(&fx, 1, 4);
	for (i = 0; (m = tx_get(1, 0)) != NULL; i++)
		rte_pktmbuf_free(m);
	CU_ASSERT(i == 2 + 1); /* the two held, and the ARP reply */
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x1000004e, 64)) == 0);
	run(&fx, 1, 4);
	tg_pipeline_trace_status(fx.pl, &st);
	CU_ASSERT(st.marked == 1 && st.in_flight == 0 && !st.active);
	CU_ASSERT(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	for (k = 0; k < n; k++)
		CU_ASSERT(r[k].id == 1 && (r[k].kind != TG_TRACE_MARK ||
						  r[k].m.dst == 0x1000004e));
	free(r);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* ARP frames explained (forward(arp) on the ARP path) against the same
 * frames traced with "arp": a request for lan0's address answered, one
 * for another address, a reply taken in (the entry the request made,
 * confirmed), a malformed one, one too short for RX. */
static void
test_pipeline_explain_arp_frames(void)
{
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 9};
	static struct tg_explain x;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[160];
	size_t n;

	fx_setup(&fx, 1);
	m = mk_arp_request(0, 0x0a000009, smac, 0x0a000001);
	explain_frame_then_traced(&fx, 0, m, 0, "arp", &x);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(x.mark.m.path == TG_PATH_ARP && x.mark.m.icmp_type == 1 &&
		  x.mark.m.src == 0x0a000009 && x.mark.m.dst == 0x0a000001);
	CU_ASSERT(some_why(&x, "request for 10.0.0.1 from 10.0.0.9: a reply "
			       "would be sent, 10.0.0.9 would be learned on "
			       "lan0 (room permitting)"));
	CU_ASSERT(some_why(&x, "ethernet "));
	m = tx_get(0, 0); /* the reply, as explain said it */
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(rte_pktmbuf_mtod(m, uint8_t *)[21] == 2 &&
		  memcmp(rte_pktmbuf_mtod(m, uint8_t *), smac, 6) == 0);
	rte_pktmbuf_free(m);

	m = mk_arp_request(0, 0x0a000009, smac, 0x0a000005);
	explain_frame_then_traced(&fx, 0, m, 0, "arp", &x);
	CU_ASSERT(strcmp(x.end, "drop forward.arp_not_for_us") == 0);
	CU_ASSERT(some_why(&x, "not this interface's address, 10.0.0.9's "
			       "entry would be confirmed"));

	m = mk_arp_request(0, 0x0a000009, smac, 0x0a000001);
	rte_pktmbuf_mtod(m, uint8_t *)[21] = 2; /* a reply */
	explain_frame_then_traced(&fx, 0, m, 0, "arp", &x);
	CU_ASSERT(strcmp(x.end, "drop forward.arp_reply_consumed") == 0);
	CU_ASSERT(some_why(&x, "reply: 10.0.0.9 is at 02:00:00:00:00:09"));

	m = mk_arp_request(0, 0x0a000009, smac, 0x0a000001);
	rte_pktmbuf_mtod(m, uint8_t *)[18] = 7; /* hardware length 7 */
	explain_frame_then_traced(&fx, 0, m, 0, "arp", &x);
	CU_ASSERT(strcmp(x.end, "drop forward.arp_malformed") == 0);

	m = mk_arp_request(0, 0x0a000009, smac, 0x0a000001);
	rte_pktmbuf_trim(m, 42 - 30);
	explain_frame_then_traced(&fx, 0, m, 0, "arp", &x);
	CU_ASSERT(strcmp(x.end, "drop pkt.too_short") == 0);

	/* without "arp" no ARP frame is marked; with it, nothing else */
	CU_ASSERT_FATAL(parse_filter("in lan0", &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "", 1) == 0);
	CU_ASSERT_FATAL(
		rte_ring_enqueue(rxr[0],
			mk_arp_request(0, 0x0a000009, smac, 0x0a000005)) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002, 0x10000001, 64)) == 0);
	run(&fx, 1, 4);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	CU_ASSERT(n > 0 && r[0].kind == TG_TRACE_MARK &&
		  r[0].m.proto == IPPROTO_UDP);
	free(r);
	CU_ASSERT_FATAL(parse_filter("arp and host 10.0.0.9", &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "", 1) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000009, 0x10000001, 64)) == 0);
	CU_ASSERT_FATAL(
		rte_ring_enqueue(rxr[0],
			mk_arp_request(0, 0x0a000009, smac, 0x0a000005)) == 0);
	run(&fx, 1, 4);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	CU_ASSERT(n > 0 && r[0].kind == TG_TRACE_MARK &&
		  r[0].m.path == TG_PATH_ARP);
	free(r);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* A TCP segment (no options) with @p plen bytes of payload at @p pl into
 * @p b: its length. The checksum is left 0: NAT patches, never checks. */
static uint16_t
tcp_seg(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags,
	const uint8_t *pl, uint16_t plen)
{
	memset(b, 0, 20);
	b[0] = (uint8_t)(sport >> 8);
	b[1] = (uint8_t)sport;
	b[2] = (uint8_t)(dport >> 8);
	b[3] = (uint8_t)dport;
	b[7] = 1;	/* sequence number 1 */
	b[12] = 5 << 4; /* data offset */
	b[13] = flags;
	b[14] = 0xff;
	b[15] = 0xff;
	if (plen != 0)
		memcpy(b + 20, pl, plen);
	return (uint16_t)(20 + plen);
}

/* A PPTP control message (RFC 2637 2.0): @p len bytes of type @p type,
 * its first two ID fields and (replies) the result code. */
static uint16_t
pptp_ctl(uint8_t *b, uint16_t type, uint16_t len, uint16_t id1, uint16_t id2,
	uint8_t result)
{
	static const uint8_t cookie[4] = {0x1a, 0x2b, 0x3c, 0x4d};

	memset(b, 0, len);
	b[0] = (uint8_t)(len >> 8);
	b[1] = (uint8_t)len;
	b[3] = 1; /* a control message */
	memcpy(b + 4, cookie, 4);
	b[9] = (uint8_t)type;
	b[12] = (uint8_t)(id1 >> 8);
	b[13] = (uint8_t)id1;
	b[14] = (uint8_t)(id2 >> 8);
	b[15] = (uint8_t)id2;
	b[16] = result;
	return len;
}

/* PPTP's enhanced GRE (RFC 2637 4.1: K set, version 1, protocol PPP,
 * then payload length and call ID) with 4 bytes of payload; @p ver 0: a
 * plain GRE header instead. */
static uint16_t
gre_pkt(uint8_t *b, uint16_t call, uint8_t ver)
{
	memset(b, 0, 12);
	b[0] = ver == 1 ? 0x20 : 0;
	b[1] = ver;
	b[2] = ver == 1 ? 0x88 : 0x08;
	b[3] = ver == 1 ? 0x0b : 0x00;
	b[5] = 4;
	b[6] = (uint8_t)(call >> 8);
	b[7] = (uint8_t)call;
	return 12;
}

/* A SYN from lan host @p src port @p sport to the PPTP server 16.0.0.5
 * port 1723, explained and sent: its control connection; the public
 * port it got into *pub. */
static void
n_syn(struct fixture *fx, uint32_t src, uint16_t sport, uint16_t *pub)
{
	struct tg_explain_req q = {
		.rx_if = port_ids[0],
		.proto = IPPROTO_TCP,
		.src = src,
		.dst = 0x10000005,
		.sport = sport,
		.dport = 1723,
		.tcp_flags = 0x02,
	};
	static struct tg_explain x;
	struct rte_mbuf *m;
	uint8_t seg[64];

	explain_then_real(fx, &q, 0,
		mk_ip(0, src, q.dst, 6, seg,
			tcp_seg(seg, sport, 1723, 0x02, NULL, 0)),
		&x);
	CU_ASSERT(some_why(&x, "a new mapping would be made on 10.1.0.1"));
	m = tx_get(1, 0);
	CU_ASSERT_FATAL(m != NULL);
	*pub = fr16(m, 34);
	rte_pktmbuf_free(m);
}

/* A PPTP control message @p msg of @p n bytes in a TCP segment from
 * @p sport to @p dport, @p src to @p dst, arriving on port @p rx_idx
 * (flags PSH ACK; 2: from the host), as a frame: explained, then sent
 * for real and traced (explain_then_real()). What left is the caller's. */
static void
pptp_explain_then_real(struct fixture *fx, uint16_t rx_idx, uint32_t src,
	uint32_t dst, uint16_t sport, uint16_t dport, const uint8_t *msg,
	uint16_t n, struct tg_explain *x)
{
	static uint8_t f[512];
	struct tg_explain_req q = {
		.rx_if = rx_idx == 2 ? TG_TRACE_FROM_HOST : port_ids[rx_idx],
		.frame = f};
	uint8_t seg[256];
	struct rte_mbuf *m;

	m = mk_ip(rx_idx == 2 ? 0 : rx_idx, src, dst, 6, seg,
		tcp_seg(seg, sport, dport, 0x18, msg, n));
	if (rx_idx == 2) /* what the host sends: its MAC both ways */
		for (n = 0; n < 12; n++)
			rte_pktmbuf_mtod(m, uint8_t *)[n] =
				fx_host.mac.addr_bytes[n % 6];
	q.frame_len = (uint16_t)rte_pktmbuf_data_len(m);
	memcpy(f, rte_pktmbuf_mtod(m, uint8_t *), q.frame_len);
	explain_then_real(fx, &q, rx_idx, m, x);
}

/* The call ID field @p id (1: the first, 2: the second) of the PPTP
 * message in the TCP segment that left on port @p tx_idx; the packet is
 * freed. */
static uint16_t
pptp_tx_id(uint16_t tx_idx, int id)
{
	struct rte_mbuf *m = tx_get(tx_idx, 0);
	uint16_t v;

	CU_ASSERT_FATAL(m != NULL);
	v = fr16(m, 14 + 20 + 20 + (id == 1 ? 12 : 14));
	rte_pktmbuf_free(m);
	return v;
}

/* PPTP through NAT explained, each case against the real packet traced:
 * GRE that is not PPTP's, GRE of a call nobody set up; the control
 * messages of real calls (given as frames: a description carries no
 * payload), the public call ID explain foresees for a client's call ID
 * another client holds, a call up, the call's GRE out and in, a call
 * that cannot be translated (pptp_untranslatable), and calls cleared
 * from either side. */
static void
test_pipeline_explain_pptp(void)
{
	struct tg_explain_req q = {
		.rx_if = 0,
		.proto = IPPROTO_GRE,
		.src = 0x0a000002,
		.dst = 0x10000005,
		.payload = 4,
	};
	static struct tg_explain x;
	uint8_t seg[256], msg[200];
	uint16_t pub, pub3, pubcid, cid3, j;
	struct fixture fx;
	struct rte_mbuf *m;
	char want[160];

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	q.rx_if = port_ids[0];

	/* plain GRE out: no call ID to translate it by (explain's GRE
	 * without "call" is 12 bytes of zeros here) */
	q.payload = 12;
	explain_then_real(&fx, &q, 0,
		mk_ip(0, q.src, q.dst, IPPROTO_GRE, seg, gre_pkt(seg, 0, 0)),
		&x);
	CU_ASSERT(strcmp(x.end, "drop natfw.gre_not_pptp") == 0);
	/* PPTP's GRE of a call no control message set up */
	q.payload = 4;
	q.gre_pptp = true;
	q.gre_call = 0x2222;
	explain_then_real(&fx, &q, 0,
		mk_ip(0, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, 0x2222, 1)),
		&x);
	CU_ASSERT(strcmp(x.end, "drop natfw.gre_no_call") == 0);

	/* two clients' control connections; the first's is translated
	 * to its own port, whatever 10.0.0.3's gets */
	n_syn(&fx, 0x0a000002, 40000, &pub);
	n_syn(&fx, 0x0a000003, 40000, &pub3);

	/* 10.0.0.3 asks for call 0x1111 first: it gets public ID 0x1111 */
	pptp_explain_then_real(&fx, 0, 0x0a000003, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 7, 168, 0x1111, 1, 0), &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "PPTP Outgoing-Call-Request: call ID 4369 as "
			       "public 4369 (new)"));
	cid3 = pptp_tx_id(1, 1);
	CU_ASSERT(cid3 == 0x1111);
	/* 10.0.0.2 asks for call 0x1111 too: another public ID, the one the
	 * allocator picks; explain names it before the real packet takes
	 * it */
	pptp_explain_then_real(&fx, 0, 0x0a000002, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 7, 168, 0x1111, 1, 0), &x);
	pubcid = pptp_tx_id(1, 1);
	CU_ASSERT(pubcid != 0x1111);
	snprintf(want, sizeof(want),
		"PPTP Outgoing-Call-Request: call ID 4369 as public %u (new)",
		pubcid);
	CU_ASSERT(some_why(&x, want));
	/* asked again (a retransmission): the same call, nothing new */
	pptp_explain_then_real(&fx, 0, 0x0a000002, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 7, 168, 0x1111, 1, 0), &x);
	CU_ASSERT(pptp_tx_id(1, 1) == pubcid);
	snprintf(want, sizeof(want),
		"PPTP Outgoing-Call-Request: call ID 4369 as public %u",
		pubcid);
	CU_ASSERT(some_why(&x, want));
	for (j = 0; j < x.n; j++)
		CU_ASSERT(strstr(x.step[j].why, "(new)") == NULL);

	/* the server's reply: the call is up, its ID 0x2222 */
	pptp_explain_then_real(&fx, 1, 0x10000005, 0x0a010001, 1723, pub, msg,
		pptp_ctl(msg, 8, 32, 0x2222, pubcid, 1), &x);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	snprintf(want, sizeof(want),
		"PPTP Outgoing-Call-Reply: call 4369 (public %u) up with the "
		"server's 8738 (new)",
		pubcid);
	CU_ASSERT(some_why(&x, want));
	CU_ASSERT(pptp_tx_id(0, 2) == 0x1111); /* given back */
	/* Set-Link-Info names the public ID: given back */
	pptp_explain_then_real(&fx, 1, 0x10000005, 0x0a010001, 1723, pub, msg,
		pptp_ctl(msg, 15, 24, pubcid, 0, 0), &x);
	snprintf(want, sizeof(want),
		"PPTP Set-Link-Info: public call ID %u back to 4369", pubcid);
	CU_ASSERT(some_why(&x, want));
	CU_ASSERT(pptp_tx_id(0, 1) == 0x1111);

	/* the call's GRE out, by the server's ID */
	explain_then_real(&fx, &q, 0,
		mk_ip(0, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, 0x2222, 1)),
		&x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "PPTP call: GRE of 10.0.0.2 <-> 10.1.0.1 (the "
			       "server's call ID 8738)"));
	CU_ASSERT(some_why(&x, "source 10.0.0.2:0 -> 10.1.0.1:0"));
	rte_pktmbuf_free(tx_get(1, 0));

	/* and in, by the public ID of the client's: to 10.0.0.2, 0x1111 */
	q.rx_if = port_ids[1];
	q.src = 0x10000005;
	q.dst = 0x0a010001;
	q.gre_call = pubcid;
	explain_then_real(&fx, &q, 1,
		mk_ip(1, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, pubcid, 1)),
		&x);
	CU_ASSERT(strncmp(x.end, "tx lan0", 7) == 0);
	CU_ASSERT(some_why(&x, "PPTP call: GRE of 10.0.0.2 <-> 10.1.0.1 (the "
			       "client's call ID 4369)"));
	m = tx_get(0, 0);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(fr16(m, 14 + 20 + 6) == 0x1111);
	rte_pktmbuf_free(m);
	/* an ID no call has: the firewall's */
	q.gre_call = (uint16_t)(pubcid + 1);
	explain_then_real(&fx, &q, 1,
		mk_ip(1, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, q.gre_call, 1)),
		&x);
	CU_ASSERT(strcmp(x.end, "drop natfw.no_exception") == 0);

	/* 10.0.0.3's server answers with call ID 0: its outbound GRE is
	 * keyed (10.0.0.3, 0, server, 0), which a call of the client's ID
	 * 0 would need too: that one cannot be translated */
	pptp_explain_then_real(&fx, 1, 0x10000005, 0x0a010001, 1723, pub3, msg,
		pptp_ctl(msg, 8, 32, 0, cid3, 1), &x);
	CU_ASSERT(some_why(&x, "PPTP Outgoing-Call-Reply: call 4369 (public "
			       "4369) up with the server's 0 (new)"));
	rte_pktmbuf_free(tx_get(0, 0));
	pptp_explain_then_real(&fx, 0, 0x0a000003, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 7, 168, 0, 1, 0), &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.pptp_untranslatable") == 0);
	CU_ASSERT(some_why(&x, "PPTP Outgoing-Call-Request: call 0 not set "
			       "up"));

	/* 10.0.0.2 clears its call: the inbound GRE goes; the server's
	 * Call-Disconnect-Notify takes the outbound one */
	pptp_explain_then_real(&fx, 0, 0x0a000002, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 12, 16, 0x1111, 0, 0), &x);
	snprintf(want, sizeof(want),
		"PPTP Call-Clear-Request: call 4369 (public %u) cleared",
		pubcid);
	CU_ASSERT(some_why(&x, want));
	CU_ASSERT(pptp_tx_id(1, 1) == pubcid);
	pptp_explain_then_real(&fx, 1, 0x10000005, 0x0a010001, 1723, pub, msg,
		pptp_ctl(msg, 13, 148, 0x2222, 0, 0), &x);
	CU_ASSERT(some_why(&x, "PPTP Call-Disconnect-Notify: the server's "
			       "call 8738 cleared"));
	rte_pktmbuf_free(tx_get(0, 0));
	/* gone both ways */
	q.gre_call = pubcid;
	explain_then_real(&fx, &q, 1,
		mk_ip(1, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, pubcid, 1)),
		&x);
	CU_ASSERT(strcmp(x.end, "drop natfw.no_exception") == 0);
	q.rx_if = port_ids[0];
	q.src = 0x0a000002;
	q.dst = 0x10000005;
	q.gre_call = 0x2222;
	explain_then_real(&fx, &q, 0,
		mk_ip(0, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, 0x2222, 1)),
		&x);
	CU_ASSERT(strcmp(x.end, "drop natfw.gre_no_call") == 0);
	/* cleared again: no call has the ID; passed as it is */
	pptp_explain_then_real(&fx, 0, 0x0a000002, 0x10000005, 40000, 1723, msg,
		pptp_ctl(msg, 12, 16, 0x1111, 0, 0), &x);
	CU_ASSERT(some_why(&x, "PPTP Call-Clear-Request: no call has its ID, "
			       "passed as is"));
	CU_ASSERT(pptp_tx_id(1, 1) == 0x1111);
	fx_teardown(&fx);

	/* The appliance's own call (the host takes a server's incoming
	 * call 0x4444): a dynamic entry lets the call's GRE in */
	fx_yaml = nat_yaml;
	host_setup(&fx, false, 64);
	m = mk_ip(0, 0x0a010001, 0x10000005, 6, seg,
		tcp_seg(seg, 5000, 1723, 0x02, NULL, 0));
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), fx_host.mac.addr_bytes, 6);
	memcpy(rte_pktmbuf_mtod(m, uint8_t *) + 6, fx_host.mac.addr_bytes, 6);
	explain_then_real(&fx,
		&(struct tg_explain_req){.rx_if = TG_TRACE_FROM_HOST,
			.proto = IPPROTO_TCP,
			.src = 0x0a010001,
			.dst = 0x10000005,
			.sport = 5000,
			.dport = 1723,
			.tcp_flags = 0x02},
		2, m, &x);
	CU_ASSERT(some_why(&x, "a dynamic entry would be opened"));
	rte_pktmbuf_free(tx_get(1, 0));
	pptp_explain_then_real(&fx, 2, 0x0a010001, 0x10000005, 5000, 1723, msg,
		pptp_ctl(msg, 10, 24, 0x4444, 0x5555, 1), &x);
	CU_ASSERT(strncmp(x.end, "tx wan0", 7) == 0);
	CU_ASSERT(some_why(&x, "PPTP Incoming-Call-Reply: the appliance's "
			       "call 17476, its GRE let in (new)"));
	CU_ASSERT(pptp_tx_id(1, 1) == 0x4444); /* its own: untranslated */
	q.rx_if = port_ids[1];
	q.src = 0x10000005;
	q.dst = 0x0a010001;
	q.gre_call = 0x4444;
	explain_then_real(&fx, &q, 1,
		mk_ip(1, q.src, q.dst, IPPROTO_GRE, seg,
			gre_pkt(seg, 0x4444, 1)),
		&x);
	CU_ASSERT(strcmp(x.end, "host") == 0);
	CU_ASSERT(some_why(&x, "the appliance's own call"));
	while ((m = host_get()) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* forward.no_interface: a packet waits for ARP, and a reload takes its
 * neighbor off wan0's subnet. The trace shows the held packet dropped
 * then; explain, before, said held, and after, says no route: no
 * description of a packet reaches this reason, only a reload does. */
static void
test_pipeline_trace_no_interface(void)
{
	static const char y2[] = FX_PORTS
		"interfaces:\n"
		"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
		"  - {name: wan0, port: p1, address: 10.1.0.1/28}\n" FX_ROUTES
		"icmp: {rate: 1000, burst: 100}\n";
	static struct tg_explain x;
	struct tg_config *cfg2 = NULL;
	struct tg_trace_status st;
	struct tg_cfg_errors errs;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[256];
	size_t n;

	fx_setup(&fx, 1);
	CU_ASSERT_FATAL(parse_filter("dst host 10.1.0.77", &f, err) == 0);
	explain_then_send(&fx, 0, 0x0a000002, 0x0a01004d, 7, 9, &x);
	CU_ASSERT(strncmp(x.end, "held by forward", 15) == 0);
	/* explain_then_send's trace is still on: the packet waits */
	tg_pipeline_trace_status(fx.pl, &st);
	CU_ASSERT(st.in_flight == 1);
	while ((m = tx_get(1, 0)) != NULL) /* the ARP request */
		rte_pktmbuf_free(m);

	CU_ASSERT_FATAL(tg_config_parse("<test2>", y2, sizeof(y2) - 1, &cfg2,
				&errs) == 0);
	CU_ASSERT_FATAL(tg_control_apply(&fx.ctl, cfg2, err, sizeof(err)) == 0);
	run(&fx, 1, 4);
	tg_pipeline_trace_status(fx.pl, &st);
	CU_ASSERT(st.in_flight == 0 && !st.active);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	CU_ASSERT(n >= 3 && r[0].kind == TG_TRACE_MARK &&
		  r[1].kind == TG_TRACE_STAGE &&
		  r[1].stage == TG_STAGE_FORWARD &&
		  r[1].s.verdict == TG_V_STOLEN);
	CU_ASSERT(n > 0 && r[n - 1].kind == TG_TRACE_DROP &&
		  strcmp(tg_drop_name(r[n - 1].s.drop),
			  "forward.no_interface") == 0);
	free(r);
	explain_udp(&fx, 0x0a01004d, 64, &x);
	CU_ASSERT(strcmp(x.end, "drop forward.no_route") == 0);
	fx_teardown(&fx);
}

/* A neighbor that never answers: after arp.max_retries requests it is
 * failed, and packets to it are dropped fast; a cache with no room for
 * another entry drops packets to an unknown neighbor. */
static void
test_pipeline_explain_arp_failed(void)
{
	static struct tg_explain x;
	struct fixture fx;
	struct rte_mbuf *m;
	int i;

	fx_setup_opts(&fx, 1, NB_TXQ, false,
		"arp: {retry_ms: 10, max_retries: 1, failed_hold_s: 60,\n"
		"  max_neighbors: 16}\n");
	explain_then_send(&fx, 0, 0x0a000002, 0x0a01004d, 7, 9, &x);
	CU_ASSERT(strncmp(x.end, "held by forward", 15) == 0);
	/* the request goes unanswered: retries, then failed */
	for (i = 0; i < 20; i++) {
		rte_delay_us_sleep(5000);
		run(&fx, 1, 1);
	}
	explain_then_send(&fx, 0, 0x0a000002, 0x0a01004d, 7, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop forward.arp_failed") == 0);
	CU_ASSERT(some_why(&x, "failed"));
	/* 16 entries: 2 static (10.0.0.2, 10.1.0.2), the failed one, 13
	 * more being resolved; the 17th has no room */
	for (i = 0; i < 13; i++)
		CU_ASSERT_FATAL(
			rte_ring_enqueue(rxr[0],
				mk_udp(0, 0x0a000002,
					(uint32_t)(0x0a010064 + i), 64)) == 0);
	run(&fx, 1, 2);
	explain_then_send(&fx, 0, 0x0a000002, 0x0a010080, 7, 9, &x);
	CU_ASSERT(strcmp(x.end, "drop forward.neighbor_table_full") == 0);
	while ((m = tx_get(1, 0)) != NULL) /* ARP requests */
		rte_pktmbuf_free(m);
	while ((m = tx_get(0, 0)) != NULL) /* ICMP host unreachable */
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

/* A later fragment (offset 8 bytes, @p proto): mk_udp_len()'s packet
 * with the fragment offset set and the header checksum again. */
static struct rte_mbuf *
mk_later_fragment(uint32_t src, uint32_t dst, uint8_t proto)
{
	struct rte_mbuf *m = mk_udp_len(src, dst, 8, 64); /* 16 data bytes */
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	p[20] = 0;
	p[21] = 1; /* offset 1: 8 bytes */
	p[23] = proto;
	ip_cksum_again(p);
	return m;
}

/* A TCP packet (ports 7 and 9, SYN) that ends @p keep bytes into its
 * header. */
static struct rte_mbuf *
mk_truncated(uint32_t src, uint32_t dst, uint8_t keep)
{
	struct rte_mbuf *m = mk_udp_len(src, dst, 12, 64); /* 20 L4 bytes */
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	memset(p + 34, 0, 20);
	p[35] = 7;
	p[37] = 9;
	p[46] = 5 << 4;
	p[47] = RTE_TCP_SYN_FLAG;
	p[23] = IPPROTO_TCP;
	p[16] = 0;
	p[17] = (uint8_t)(20 + keep);
	ip_cksum_again(p);
	rte_pktmbuf_trim(m, (uint16_t)(20 - keep));
	return m;
}

/* The same for UDP (ports 7 and 9). */
static struct rte_mbuf *
mk_truncated_udp(uint32_t src, uint32_t dst, uint8_t keep)
{
	struct rte_mbuf *m = mk_udp_len(src, dst, 0, 64);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

	p[16] = 0;
	p[17] = (uint8_t)(20 + keep);
	ip_cksum_again(p);
	rte_pktmbuf_trim(m, (uint16_t)(8 - keep));
	return m;
}

/* Fragments: NAT cannot translate a later one (its ports are in the
 * first), and a TCP fragment at offset 8 would overlap the TCP header
 * (RFC 1858): the filter drops it. Truncated headers: the filter and NAT
 * cannot judge them. */
static void
test_pipeline_explain_fragments(void)
{
	struct tg_explain_req q = {
		.proto = 17,
		.src = 0x0a000002,
		.dst = 0x10000005,
		.payload = 16,
		.frag_off = 8,
	};
	static struct tg_explain x;
	struct fixture fx;

	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	q.rx_if = port_ids[0];
	explain_then_real(
		&fx, &q, 0, mk_later_fragment(q.src, q.dst, IPPROTO_UDP), &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.fragment") == 0);
	fx_teardown(&fx);

	fx_yaml = filter_yaml;
	fx_setup(&fx, 1);
	q.rx_if = port_ids[0];
	q.proto = IPPROTO_TCP;
	explain_then_real(
		&fx, &q, 0, mk_later_fragment(q.src, q.dst, IPPROTO_TCP), &x);
	CU_ASSERT(strcmp(x.end, "drop filter.tcp_overlap") == 0);
	/* a TCP header cut after 13 bytes: no flags to judge by */
	q.frag_off = 0;
	q.payload = 0;
	q.sport = 7;
	q.dport = 9;
	q.l4_keep = 13;
	explain_then_real(&fx, &q, 0, mk_truncated(q.src, q.dst, 13), &x);
	CU_ASSERT(strcmp(x.end, "drop filter.short_l4") == 0);
	fx_teardown(&fx);

	/* NAT: a UDP header of 3 bytes has no ports to translate by */
	fx_yaml = nat_yaml;
	fx_setup(&fx, 1);
	q.proto = IPPROTO_UDP;
	q.l4_keep = 3;
	q.rx_if = port_ids[0];
	explain_then_real(&fx, &q, 0, mk_truncated_udp(q.src, q.dst, 3), &x);
	CU_ASSERT(strcmp(x.end, "drop natfw.short_l4") == 0);
	fx_teardown(&fx);
}

/* ESP from @p src to @p dst arriving on @p rx_idx: SPI @p spi, sequence
 * number 1, then @p rest bytes (IV, ciphertext, ICV: 8 + ct + 16 for
 * AES-GCM, RFC 4106); 0: the header cut short after the SPI. */
static struct rte_mbuf *
mk_esp(uint16_t rx_idx, uint32_t src, uint32_t dst, uint32_t spi, uint16_t rest)
{
	struct rte_mbuf *m = mk_udp_ports(rx_idx, src, dst, 0, 0);
	/* rest 0: a header cut after the SPI; else SPI, seq, rest */
	uint16_t iplen = rest == 0 ? 24 : (uint16_t)(20 + 8 + rest);
	uint8_t *p;
	int i;

	if (iplen > 46) {
		CU_ASSERT_FATAL(rte_pktmbuf_append(m, iplen - 46) != NULL);
	} else {
		rte_pktmbuf_trim(m, 46 - iplen);
	}
	p = rte_pktmbuf_mtod(m, uint8_t *);
	p[16] = (uint8_t)(iplen >> 8);
	p[17] = (uint8_t)iplen;
	p[23] = IPPROTO_ESP;
	for (i = 0; i < 4; i++)
		p[34 + i] = (uint8_t)(spi >> (24 - 8 * i));
	for (i = 38; i < 14 + iplen; i++)
		p[i] = (uint8_t)(i * 7);
	if (iplen > 24) {
		p[38] = p[39] = p[40] = 0;
		p[41] = 1; /* sequence number 1 */
	}
	ip_cksum_again(p);
	return m;
}

/* Explain the frame @p m holds (its first @p keep bytes, 0: all, and its
 * length) arriving on @p rx_idx; then send it, traced, and compare. */
static void
explain_frame_then_traced(struct fixture *fx, uint16_t rx_idx,
	struct rte_mbuf *m, uint16_t keep, const char *filter,
	struct tg_explain *x)
{
	static uint8_t f[512];
	struct tg_explain_req q = {
		/* 2: from the host (explain_then_traced()) */
		.rx_if = rx_idx == 2 ? TG_TRACE_FROM_HOST : port_ids[rx_idx],
		.frame = f,
		.wire_len = (uint16_t)rte_pktmbuf_data_len(m),
	};

	q.frame_len = keep != 0 ? keep : (uint16_t)rte_pktmbuf_data_len(m);
	memcpy(f, rte_pktmbuf_mtod(m, uint8_t *), q.frame_len);
	explain_then_traced(fx, &q, rx_idx, m, filter, x);
}

static void
explain_frame_then_real(struct fixture *fx, uint16_t rx_idx, struct rte_mbuf *m,
	uint16_t keep, struct tg_explain *x)
{
	explain_frame_then_traced(fx, rx_idx, m, keep, "", x);
}

/* explain of frames as received (telemetry's "frame HEX"): RX's own
 * refusals (pkt.*), which a trace now records too, ESP that ipsec(in)
 * refuses before the crypto device, and a valid frame given in part;
 * each against the same frame sent and traced. */
static void
test_pipeline_explain_frames(void)
{
	static const struct {
		uint16_t at; /* the byte changed (Ethernet's first = 0) */
		uint8_t to;
		bool cksum; /* the IP header's checksum made right again */
		const char *end;
	} bad[] = {
		{24, 0x5a, false, "drop pkt.bad_checksum"},
		{14, 0x65, false, "drop pkt.bad_version"},
		{14, 0x44, false, "drop pkt.bad_ihl"},
		{17, 200, true, "drop pkt.bad_total_length"},
		{13, 0xdd, false, "drop pkt.unsupported_ethertype"}, /* 08dd */
		{26, 127, true, "drop pkt.martian_source"},
		{30, 224, true, "drop pkt.not_unicast"},
	};
	static struct tg_explain x, y;
	struct tg_trace_filter f;
	struct tg_trace_rec *r;
	struct fixture fx;
	struct rte_mbuf *m;
	char err[160];
	size_t i, n, k;

	fx_setup_pl_first(&fx, ipsec_explain_yaml);
	for (i = 0; i < RTE_DIM(bad); i++) {
		uint8_t *p;

		m = mk_udp_ports(0, 0x0a000002, 0x10010005, 7, 9);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		p[bad[i].at] = bad[i].to;
		if (bad[i].cksum)
			ip_cksum_again(p);
		explain_frame_then_real(&fx, 0, m, 0, &x);
		if (strcmp(x.end, bad[i].end) != 0) {
			fprintf(stderr, "frame %zu: %s\n", i, x.end);
			CU_FAIL("explain's end for a bad frame");
		}
		CU_ASSERT(x.n == 1 && x.step[0].r.kind == TG_TRACE_DROP);
	}
	/* too short for an IPv4 header */
	m = mk_udp_ports(0, 0x0a000002, 0x10010005, 7, 9);
	rte_pktmbuf_trim(m, 60 - 24);
	explain_frame_then_real(&fx, 0, m, 0, &x);
	CU_ASSERT(strcmp(x.end, "drop pkt.too_short") == 0);

	/* ESP to the appliance that ipsec(in) refuses before any crypto:
	 * a header cut short, a length AES-GCM's 4-byte blocks cannot
	 * make, an SPI no SA has */
	m = mk_esp(1, 0x0a010002, 0x0a010001, 0x2001, 0);
	explain_frame_then_real(&fx, 1, m, 0, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.malformed") == 0);
	m = mk_esp(1, 0x0a010002, 0x0a010001, 0x2001, 8 + 3 + 16);
	explain_frame_then_real(&fx, 1, m, 0, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.malformed") == 0);
	CU_ASSERT(some_why(&x, "SA from-gw (spi 8193)"));
	m = mk_esp(1, 0x0a010002, 0x0a010001, 0x9999, 8 + 4 + 16);
	explain_frame_then_real(&fx, 1, m, 0, &x);
	CU_ASSERT(strcmp(x.end, "drop ipsec.no_sa") == 0);

	/* ESP its SA would take: explain stops where the crypto device
	 * decides (it does not decrypt); the real one's made-up ciphertext
	 * fails authentication there */
	m = mk_esp(1, 0x0a010002, 0x0a010001, 0x2001, 8 + 4 + 16);
	{
		static uint8_t fb[128];
		struct tg_explain_req q = {.rx_if = port_ids[1],
			.frame = fb,
			.frame_len = (uint16_t)rte_pktmbuf_data_len(m)};

		memcpy(fb, rte_pktmbuf_mtod(m, uint8_t *), q.frame_len);
		CU_ASSERT_FATAL(tg_pipeline_explain(
					fx.pl, &q, &x, err, sizeof(err)) == 0);
	}
	CU_ASSERT(strcmp(x.end,
			  "not explained: ipsec(in) authenticates and "
			  "decrypts it with SA from-gw (spi 8193); explain "
			  "does neither (describe the inner packet with esp "
			  "SPI)") == 0);
	CU_ASSERT(x.n == 0 && x.unexplained == TG_STAGE_IPSEC);
	CU_ASSERT_FATAL(parse_filter("esp", &f, err) == 0);
	CU_ASSERT_FATAL(tg_pipeline_trace_start(fx.pl, &f, "esp", 1) == 0);
	CU_ASSERT_FATAL(rte_ring_enqueue(rxr[1], m) == 0);
	run(&fx, 1, 50);
	CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
	for (k = 0; k < n && r[k].kind != TG_TRACE_STAGE; k++)
		;
	CU_ASSERT(k < n && r[k].stage == TG_STAGE_IPSEC &&
		  strcmp(tg_drop_name(r[k].s.drop), "ipsec.auth_failed") == 0);
	free(r);

	/* A frame in two segments (a NIC scattering a jumbo frame): RX
	 * refuses it, and the trace says so (explain's frames are one
	 * segment: only the trace can show this one). */
	{
		struct rte_mbuf *tail = rte_pktmbuf_alloc(mp);

		m = mk_udp_ports(0, 0x0a000002, 0x10010005, 7, 9);
		CU_ASSERT_FATAL(
			tail != NULL && rte_pktmbuf_append(tail, 10) != NULL);
		CU_ASSERT_FATAL(rte_pktmbuf_chain(m, tail) == 0);
		CU_ASSERT_FATAL(parse_filter("udp", &f, err) == 0);
		CU_ASSERT_FATAL(
			tg_pipeline_trace_start(fx.pl, &f, "udp", 1) == 0);
		CU_ASSERT_FATAL(rte_ring_enqueue(rxr[0], m) == 0);
		run(&fx, 1, 4);
		CU_ASSERT_FATAL(tg_pipeline_trace_collect(fx.pl, &r, &n) == 0);
		CU_ASSERT(n == 2 && r[0].kind == TG_TRACE_MARK &&
			  r[0].m.dst == 0x10010005 &&
			  r[1].kind == TG_TRACE_DROP &&
			  strcmp(tg_drop_name(r[1].s.drop),
				  "pkt.multi_segment") == 0);
		free(r);
	}

	/* A valid frame: the same answer as its description; given in
	 * part (42 of its 60 bytes, the rest zeros), still the same. */
	explain_then_send(&fx, 0, 0x0a000002, 0x10010005, 7, 9, &y);
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	m = mk_udp_ports(0, 0x0a000002, 0x10010005, 7, 9);
	explain_frame_then_real(&fx, 0, m, 42, &x);
	CU_ASSERT(strcmp(x.end, y.end) == 0);
	CU_ASSERT(x.n == y.n);
	for (k = 0; k < x.n && k < y.n; k++) {
		CU_ASSERT(memcmp(&x.step[k].r, &y.step[k].r,
				  sizeof(x.step[k].r)) == 0);
		CU_ASSERT(strcmp(x.step[k].why, y.step[k].why) == 0);
	}
	while ((m = tx_get(1, 0)) != NULL)
		rte_pktmbuf_free(m);
	fx_teardown(&fx);
}

int
main(void)
{
	char name[32];
	uint16_t p, q;
	int rc;

	if (tg_test_eal_init("test_pipeline") < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test_mp", 2047, 0, TG_MBUF_PRIV_SIZE,
		RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (mp == NULL)
		return 1;
	env.n_ports = 2;
	for (p = 0; p < 2; p++) {
		snprintf(name, sizeof(name), "rx%u", p);
		rxr[p] = rte_ring_create(
			name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		for (q = 0; q < NB_TXQ; q++) {
			snprintf(name, sizeof(name), "tx%u_%u", p, q);
			txr[p][q] = rte_ring_create(
				name, 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		}
		snprintf(name, sizeof(name), "ringport%u", p);
		rc = rte_eth_from_rings(name, &rxr[p], 1, txr[p], NB_TXQ, 0);
		if (rc < 0)
			return 1;
		port_ids[p] = (uint16_t)rc;
		if (start_port(port_ids[p]) < 0)
			return 1;
		env.port_id[p] = port_ids[p];
		rte_eth_macaddr_get(port_ids[p], &env.mac[p]);
	}
	host_rxr =
		rte_ring_create("hrx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	host_txr = rte_ring_create(
		"htx", HOST_TXR_SIZE, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (host_rxr == NULL || host_txr == NULL)
		return 1;
	rc = rte_eth_from_rings("ringhost", &host_rxr, 1, &host_txr, 1, 0);
	if (rc < 0)
		return 1;
	host_port = (uint16_t)rc;
	if (start_port_q(host_port, 1) < 0)
		return 1;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("pipeline", NULL, NULL,
		"test_pipeline_paths_follow_the_seed",
		test_pipeline_paths_follow_the_seed,
		"test_pipeline_transit_forward", test_pipeline_transit_forward,
		"test_pipeline_active_stages_get_every_packet",
		test_pipeline_active_stages_get_every_packet,
		"test_pipeline_drops_add_up", test_pipeline_drops_add_up,
		"test_pipeline_arp_through_the_arp_path",
		test_pipeline_arp_through_the_arp_path,
		"test_pipeline_two_workers", test_pipeline_two_workers,
		"test_pipeline_tx_handoff", test_pipeline_tx_handoff,
		"test_pipeline_bare_ip_port", test_pipeline_bare_ip_port,
		"test_pipeline_host_port", test_pipeline_host_port,
		"test_pipeline_host_port_bare_ip",
		test_pipeline_host_port_bare_ip,
		"test_pipeline_host_queue_is_bounded",
		test_pipeline_host_queue_is_bounded,
		"test_pipeline_host_udp_replies",
		test_pipeline_host_udp_replies,
		"test_pipeline_filters_on_each_path",
		test_pipeline_filters_on_each_path,
		"test_pipeline_filter_inbound_only",
		test_pipeline_filter_inbound_only,
		"test_pipeline_nat_round_trip", test_pipeline_nat_round_trip,
		"test_pipeline_pass_out_by_flags",
		test_pipeline_pass_out_by_flags,
		"test_pipeline_tunnel_next_hop", test_pipeline_tunnel_next_hop,
		"test_pipeline_idle_sleep", test_pipeline_idle_sleep,
		"test_pipeline_order_through_direct_runs",
		test_pipeline_order_through_direct_runs,
		"test_trace_filter_parse_and_match",
		test_trace_filter_parse_and_match,
		"test_pipeline_trace_marks_and_records",
		test_pipeline_trace_marks_and_records,
		"test_pipeline_capture_drops", test_pipeline_capture_drops,
		"test_pipeline_explain", test_pipeline_explain,
		"test_pipeline_explain_nat", test_pipeline_explain_nat,
		"test_pipeline_explain_ipsec", test_pipeline_explain_ipsec,
		"test_pipeline_explain_host", test_pipeline_explain_host,
		"test_pipeline_explain_more_drops",
		test_pipeline_explain_more_drops, "test_pipeline_explain_local",
		test_pipeline_explain_local, "test_pipeline_explain_hairpin",
		test_pipeline_explain_hairpin, "test_pipeline_explain_ah",
		test_pipeline_explain_ah, "test_pipeline_explain_limits",
		test_pipeline_explain_limits, "test_pipeline_explain_own_flows",
		test_pipeline_explain_own_flows,
		"test_pipeline_explain_arp_hold",
		test_pipeline_explain_arp_hold,
		"test_pipeline_explain_arp_failed",
		test_pipeline_explain_arp_failed,
		"test_pipeline_explain_fragments",
		test_pipeline_explain_fragments, "test_pipeline_explain_frames",
		test_pipeline_explain_frames,
		"test_pipeline_trace_no_interface",
		test_pipeline_trace_no_interface,
		"test_pipeline_explain_arp_frames",
		test_pipeline_explain_arp_frames, "test_pipeline_explain_pptp",
		test_pipeline_explain_pptp, NULL);
	rc = tg_test_run();
	tg_test_eal_cleanup();
	return rc;
}
