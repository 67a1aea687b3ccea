/* SPDX-License-Identifier: BSD-3-Clause
 * localfilter: decisions for every combination of settings x TCP flags,
 * fragments, short headers, ICMP, edge ports, and the per-interface
 * override. The
 * expected verdicts come from a reference written here from the rules in
 * docs/configuration.md, not from the bitmaps under test; the frames are
 * built byte by byte and go through RX validation first, as in the
 * dataplane.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "tg_localfilter.h"
#include "tg_pkt.h"
#include "tg_test.h"

#define NB_MBUF 255
#define P_LAN	3 /* ethdev port ids of the two interfaces */
#define P_WAN	7

static struct rte_mempool *mp;

#define LF_DROP(r) TG_V_DROP(TG_LOCALFILTER_DROP_##r)

/* ---- frames ------------------------------------------------------------ */

/* TCP flags (RFC 9293 3.1), spelled here rather than taken from DPDK */
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

/* One packet to judge: IP protocol, destination port, TCP flags, the IP
 * flags/offset field and how many bytes of L4 header there are. */
struct probe {
	uint8_t proto;
	uint16_t dport;
	uint8_t flags;
	uint16_t frag;
	uint16_t l4len;
};

/* Ethernet + IPv4 (to 10.0.0.1) + @p pr->l4len bytes of L4: for TCP and
 * UDP the ports at 0..3, for TCP the data offset at 12 and the flags at
 * 13 when they fit (also in a later fragment, where they are payload);
 * an ICMP echo request for ICMP. Validated by RX on @p port (meta: rx_if,
 * l3_len). */
static struct rte_mbuf *
pkt(const struct probe *pr, uint16_t port)
{
	uint8_t f[128] = {0};
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint16_t tot = (uint16_t)(20 + pr->l4len), len = (uint16_t)(14 + tot);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *d;

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_FATAL(pr->l4len <= 64);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	tg_test_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	tg_test_put16(ip + 2, tot);
	tg_test_put16(ip + 6, pr->frag);
	ip[8] = 64;
	ip[9] = pr->proto;
	ip[12] = 192, ip[13] = 168, ip[14] = 1, ip[15] = 9;
	ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 1;
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, 20));
	if (pr->proto == 1 && pr->l4len >= 1) {
		l4[0] = 8; /* echo request */
	} else if (pr->l4len >= 4) {
		tg_test_put16(l4, 40000); /* source port */
		tg_test_put16(l4 + 2, pr->dport);
	}
	if (pr->proto == 6 && pr->l4len >= 14) {
		l4[12] = 0x50; /* 20-byte header */
		l4[13] = pr->flags;
	}
	if (len < 60)
		len = 60; /* Ethernet minimum: RX trims the padding */
	d = rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(d != NULL);
	memcpy(d, f, len);
	CU_ASSERT_EQUAL_FATAL(tg_pkt_rx_one(m, port), TG_V_NEXT);
	return m;
}

static uint16_t
verdict(const struct tg_localfilter_table *lt, const struct probe *pr,
	uint16_t port)
{
	struct rte_mbuf *m = pkt(pr, port);
	uint16_t v;

	tg_localfilter_burst(lt, NULL, &m, 1, &v, 0);
	CU_ASSERT_EQUAL(v, tg_localfilter_check(lt, m));
	rte_pktmbuf_free(m);
	return v;
}

/* V(lt, port, .proto = 6, .dport = 22, ...): the verdict for one probe */
#define V(lt, port, ...) verdict(lt, &(const struct probe){__VA_ARGS__}, port)
/* the usual headers: TCP 20 bytes, UDP and ICMP 8 */
#define TCP(dp, fl) .proto = 6, .dport = dp, .flags = fl, .l4len = 20
#define UDP(dp)	    .proto = 17, .dport = dp, .l4len = 8

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
	c->local_filter.enabled = true;
	c->local_filter.global.protocols.all = true;
	c->local_filter.global.tcp_ports.all = true;
	c->local_filter.global.udp_ports.all = true;
	return c;
}

/* kinds of list used in the combinations */
enum kind { K_ALL, K_SOME, K_NONE };

static void
list_set(struct tg_cfg_lf_list *l, enum kind k, uint16_t lo, uint16_t hi)
{
	memset(l, 0, sizeof(*l));
	l->set = true;
	l->all = k == K_ALL;
	if (k == K_SOME) {
		l->n = 1;
		l->r[0].lo = lo;
		l->r[0].hi = hi;
	}
}

/* one more range in a K_SOME list */
static void
list_add(struct tg_cfg_lf_list *l, uint16_t lo, uint16_t hi)
{
	l->r[l->n].lo = lo;
	l->r[l->n].hi = hi;
	l->n++;
}

static struct tg_localfilter_table *
build(const struct tg_config *c)
{
	static const uint16_t port_id[2] = {P_LAN, P_WAN};
	struct tg_localfilter_table *lt = NULL;
	char err[128];

	CU_ASSERT_EQUAL_FATAL(
		tg_localfilter_build(c, port_id, 2, 0, &lt, err, sizeof(err)),
		0);
	return lt;
}

/* K_SOME in the combinations: protocols {6, 17}; TCP ports {0, 20-22,
 * 65535}; UDP ports {53, 65535}. */
static void
rules_set(struct tg_cfg_lf_rules *g, enum kind kp, enum kind kt, enum kind ku)
{
	list_set(&g->protocols, kp, 6, 6);
	list_set(&g->tcp_ports, kt, 0, 0);
	list_set(&g->udp_ports, ku, 53, 53);
	if (kp == K_SOME)
		list_add(&g->protocols, 17, 17);
	if (kt == K_SOME) {
		list_add(&g->tcp_ports, 20, 22);
		list_add(&g->tcp_ports, 65535, 65535);
	}
	if (ku == K_SOME)
		list_add(&g->udp_ports, 65535, 65535);
}

/* The rules of docs/configuration.md, written out: the expected verdict
 * for one packet under the lists rules_set() makes. */
static uint16_t
reference(enum kind kp, enum kind kt, enum kind ku, const struct probe *pr)
{
	bool icmp = pr->proto == 1, tcp = pr->proto == 6, udp = pr->proto == 17;
	bool listed_proto =
		kp == K_ALL ||
		(kp == K_SOME && (pr->proto == 6 || pr->proto == 17));
	bool later_fragment = (pr->frag & 0x1fff) != 0;
	bool tcp_port_ok =
		kt == K_ALL ||
		(kt == K_SOME && (pr->dport == 0 ||
					 (pr->dport >= 20 && pr->dport <= 22) ||
					 pr->dport == 65535));
	bool udp_port_ok =
		ku == K_ALL ||
		(ku == K_SOME && (pr->dport == 53 || pr->dport == 65535));

	/* ICMP cannot be filtered */
	if (icmp)
		return TG_V_NEXT;
	if (!listed_proto)
		return LF_DROP(PROTOCOL);
	/* other protocols: the protocol list alone */
	if (!tcp && !udp)
		return TG_V_NEXT;
	/* a later fragment follows its first one, which is judged; but a
	 * TCP one at offset 8 bytes could rewrite the judged flags (RFC 1858)
	 */
	if (later_fragment)
		return tcp && kt != K_ALL && (pr->frag & 0x1fff) == 1
			       ? LF_DROP(TCP_PORT)
			       : TG_V_NEXT;
	if (tcp) {
		/* flags unreadable: only "all" lets it through */
		if (pr->l4len < 14)
			return kt == K_ALL ? TG_V_NEXT : LF_DROP(TCP_PORT);
		/* not a connection request: not judged */
		if (!(pr->flags & SYN) || (pr->flags & ACK))
			return TG_V_NEXT;
		return tcp_port_ok ? TG_V_NEXT : LF_DROP(TCP_PORT);
	}
	if (pr->l4len < 4)
		return ku == K_ALL ? TG_V_NEXT : LF_DROP(UDP_PORT);
	return udp_port_ok ? TG_V_NEXT : LF_DROP(UDP_PORT);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_lf_disabled_accepts_all(void)
{
	struct tg_config *c = cfg_new();
	struct tg_localfilter_table *lt;

	c->local_filter.enabled = false;
	list_set(&c->local_filter.global.protocols, K_NONE, 0, 0);
	list_set(&c->local_filter.global.tcp_ports, K_NONE, 0, 0);
	list_set(&c->local_filter.global.udp_ports, K_NONE, 0, 0);
	lt = build(c);
	CU_ASSERT_FALSE(lt->enabled);
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(80, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, UDP(53)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 1, .l4len = 8), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 47, .l4len = 8), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 80, .flags = SYN,
				.frag = 0x0010, .l4len = 20),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .l4len = 3), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	free(c);
}

/* 3 x 3 x 3 settings x a set of packets, against the reference. */
static void
test_lf_every_combination(void)
{
	static const struct probe p[] = {
		/* connection requests, judged by port (range edges) */
		{TCP(19, SYN)},
		{TCP(20, SYN)},
		{TCP(22, SYN)},
		{TCP(23, SYN)},
		{TCP(0, SYN)},
		{TCP(1, SYN)},
		{TCP(65534, SYN)},
		{TCP(65535, SYN)},
		{TCP(23, SYN | FIN)},
		/* the rest of TCP, to a refused port: not judged */
		{TCP(23, SYN | ACK)},
		{TCP(23, ACK)},
		{TCP(23, RST)},
		{TCP(23, RST | ACK)},
		{TCP(23, FIN)},
		{TCP(23, FIN | ACK)},
		{TCP(23, 0)},
		/* TCP headers: 13 bytes cannot show the flags, 14 can */
		{.proto = 6, .dport = 22, .flags = SYN, .l4len = 13},
		{.proto = 6, .dport = 23, .flags = ACK, .l4len = 13},
		{.proto = 6, .dport = 22, .flags = SYN, .l4len = 14},
		{.proto = 6, .dport = 23, .flags = SYN, .l4len = 14},
		{.proto = 6, .dport = 23, .flags = ACK, .l4len = 14},
		/* UDP: every datagram, by port */
		{UDP(52)},
		{UDP(53)},
		{UDP(54)},
		{UDP(0)},
		{UDP(65535)},
		{.proto = 17, .dport = 53, .l4len = 4},
		{.proto = 17, .l4len = 3},
		/* fragments: first (MF) judged, later ones pass; DF is not
		 * a fragment; a first fragment of 8 bytes has no flags */
		{.proto = 6,
			.dport = 23,
			.flags = SYN,
			.frag = 0x2000,
			.l4len = 24},
		{.proto = 6,
			.dport = 22,
			.flags = SYN,
			.frag = 0x2000,
			.l4len = 24},
		{.proto = 6,
			.dport = 22,
			.flags = SYN,
			.frag = 0x2000,
			.l4len = 8},
		{.proto = 6,
			.dport = 23,
			.flags = SYN,
			.frag = 0x4000,
			.l4len = 20},
		{.proto = 6,
			.dport = 23,
			.flags = SYN,
			.frag = 0x0003,
			.l4len = 24},
		{.proto = 6,
			.dport = 23,
			.flags = SYN,
			.frag = 0x2003,
			.l4len = 24},
		{.proto = 6, .frag = 0x0010, .l4len = 3},
		{.proto = 6, .frag = 0x2001, .l4len = 16},
		{.proto = 6, .frag = 0x0002, .l4len = 16},
		{.proto = 17, .dport = 54, .frag = 0x2000, .l4len = 16},
		{.proto = 17, .dport = 54, .frag = 0x0010, .l4len = 16},
		{.proto = 17, .dport = 54, .frag = 0x2001, .l4len = 8},
		{.proto = 17, .frag = 0x1fff, .l4len = 2},
		/* ICMP (echo) whatever the list; the others by the list */
		{.proto = 1, .l4len = 8},
		{.proto = 1, .frag = 0x0010, .l4len = 8},
		{.proto = 47, .l4len = 8},
		{.proto = 47, .frag = 0x0010, .l4len = 8},
		{.proto = 0, .l4len = 8},
		{.proto = 2, .l4len = 8},
		{.proto = 255, .l4len = 8},
	};
	enum kind kp, kt, ku;
	unsigned int i, checked = 0, passed = 0;

	for (kp = K_ALL; kp <= K_NONE; kp++)
		for (kt = K_ALL; kt <= K_NONE; kt++)
			for (ku = K_ALL; ku <= K_NONE; ku++) {
				struct tg_config *c = cfg_new();
				struct tg_localfilter_table *lt;

				rules_set(&c->local_filter.global, kp, kt, ku);
				lt = build(c);
				for (i = 0; i < RTE_DIM(p); i++) {
					uint16_t want =
						reference(kp, kt, ku, &p[i]);
					uint16_t got =
						verdict(lt, &p[i], P_LAN);

					CU_ASSERT_EQUAL(got, want);
					if (got != want)
						printf("\n  lists %d/%d/%d, "
						       "probe "
						       "%u: got %#x, want %#x",
							kp, kt, ku, i, got,
							want);
					checked++;
					passed += got == TG_V_NEXT;
				}
				tg_localfilter_table_free(lt);
				free(c);
			}
	CU_ASSERT_EQUAL(checked, 27 * RTE_DIM(p));
	/* the sweep sees both verdicts, not one of them throughout */
	CU_ASSERT(passed > 0 && passed < checked);
}

/* Ports 0 and 65535, and their neighbours, in both directions. */
static void
test_lf_edge_ports(void)
{
	struct tg_config *c = cfg_new();
	struct tg_cfg_lf_rules *g = &c->local_filter.global;
	struct tg_localfilter_table *lt;

	list_set(&g->tcp_ports, K_SOME, 0, 0);
	list_add(&g->tcp_ports, 65535, 65535);
	list_set(&g->udp_ports, K_SOME, 1, 65534);
	lt = build(c);
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(0, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(65535, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(1, SYN)), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(65534, SYN)), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(1, ACK)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, UDP(0)), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, UDP(65535)), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, UDP(1)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, UDP(65534)), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	free(c);
}

/* wan0 overrides tcp_ports only: TCP on wan0 follows the override, UDP
 * and protocols on wan0 the global lists; lan0 the global ones. */
static void
test_lf_interface_override(void)
{
	struct tg_config *c = cfg_new();
	struct tg_cfg_local_filter *lf = &c->local_filter;
	struct tg_localfilter_table *lt;

	list_set(&lf->global.protocols, K_SOME, 6, 6);
	list_add(&lf->global.protocols, 17, 17);
	list_set(&lf->global.udp_ports, K_SOME, 53, 53);
	lf->n_overrides = 1;
	lf->overrides[0].iface = 1; /* wan0 */
	list_set(&lf->overrides[0].rules.tcp_ports, K_SOME, 22, 22);
	lt = build(c);
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(80, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, TCP(80, SYN)), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_WAN, TCP(80, ACK)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, TCP(22, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(
		V(lt, P_WAN, .proto = 6, .l4len = 13), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .l4len = 13), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, UDP(53)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, UDP(54)), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(
		V(lt, P_WAN, .proto = 47, .l4len = 8), LF_DROP(PROTOCOL));
	CU_ASSERT_EQUAL(
		V(lt, P_LAN, .proto = 47, .l4len = 8), LF_DROP(PROTOCOL));
	/* ICMP is not in the protocol list, and passes on both */
	CU_ASSERT_EQUAL(V(lt, P_WAN, .proto = 1, .l4len = 8), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 1, .l4len = 8), TG_V_NEXT);
	/* a port with no interface and generated packets: the global lists */
	CU_ASSERT_EQUAL(V(lt, 0, TCP(80, SYN)), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, 0, UDP(54)), LF_DROP(UDP_PORT));
	/* an override of protocols alone on lan0 */
	tg_localfilter_table_free(lt);
	lf->n_overrides = 2;
	lf->overrides[1].iface = 0;
	list_set(&lf->overrides[1].rules.protocols, K_ALL, 0, 0);
	lt = build(c);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 47, .l4len = 8), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, UDP(54)), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(
		V(lt, P_WAN, .proto = 47, .l4len = 8), LF_DROP(PROTOCOL));
	tg_localfilter_table_free(lt);
	/* an override that refuses every protocol still lets ICMP in, and a
	 * per-interface "all" does not open TCP ports on the other one */
	lf->n_overrides = 1;
	list_set(&lf->overrides[0].rules.protocols, K_NONE, 0, 0);
	list_set(&lf->overrides[0].rules.tcp_ports, K_ALL, 0, 0);
	list_set(&lf->global.tcp_ports, K_NONE, 0, 0);
	lt = build(c);
	CU_ASSERT_EQUAL(V(lt, P_WAN, .proto = 1, .l4len = 8), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_WAN, TCP(80, SYN)), LF_DROP(PROTOCOL));
	CU_ASSERT_EQUAL(V(lt, P_WAN, UDP(53)), LF_DROP(PROTOCOL));
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(80, SYN)), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, TCP(80, SYN | ACK)), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	/* an override naming no interface is refused */
	{
		static const uint16_t port_id[2] = {P_LAN, P_WAN};
		struct tg_localfilter_table *bad = NULL;
		char err[128];

		lf->n_overrides = 2;
		lf->overrides[1].iface = 5;
		CU_ASSERT(tg_localfilter_build(c, port_id, 2, 0, &bad, err,
				  sizeof(err)) < 0);
		CU_ASSERT_PTR_NULL(bad);
		CU_ASSERT(strstr(err, "interfaces[1]") != NULL);
	}
	free(c);
}

/* Fragments are judged by their first fragment (offset 0, MF or not);
 * later ones pass whatever their bytes look like; a header too short for
 * the TCP flags or the UDP port is dropped under the port reason unless
 * that list is "all". */
static void
test_lf_fragments_and_short_headers(void)
{
	struct tg_config *c = cfg_new();
	struct tg_cfg_lf_rules *g = &c->local_filter.global;
	struct tg_localfilter_table *lt;

	list_set(&g->tcp_ports, K_SOME, 22, 22);
	list_set(&g->udp_ports, K_SOME, 53, 53);
	lt = build(c);
	/* first fragments */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 22, .flags = SYN,
				.frag = 0x2000, .l4len = 24),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 23, .flags = SYN,
				.frag = 0x2000, .l4len = 24),
		LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 17, .dport = 54, .frag = 0x2000,
				.l4len = 16),
		LF_DROP(UDP_PORT));
	/* 8 bytes of TCP in the first fragment: ports, no flags */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 22, .flags = SYN,
				.frag = 0x2000, .l4len = 8),
		LF_DROP(TCP_PORT));
	/* later fragments, MF or not, of a SYN-looking payload too */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 23, .flags = SYN,
				.frag = 0x0010, .l4len = 20),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 23, .flags = SYN,
				.frag = 0x2010, .l4len = 24),
		TG_V_NEXT);
	/* RFC 1858: offset 1 (8 bytes) would overlap the first fragment's
	 * TCP flags; offset 2 no longer does, nor is UDP at offset 1 a risk */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .frag = 0x0001, .l4len = 1),
		LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .frag = 0x2001, .l4len = 16),
		LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .frag = 0x0002, .l4len = 8),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 17, .frag = 0x0001, .l4len = 8),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 17, .dport = 54, .frag = 0x0010,
				.l4len = 8),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 17, .frag = 0x3fff, .l4len = 2),
		TG_V_NEXT);
	/* DF is not a fragment */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 23, .flags = SYN,
				.frag = 0x4000, .l4len = 20),
		LF_DROP(TCP_PORT));
	/* short headers: 13 bytes of TCP hide the flags, 14 show them */
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 22, .flags = SYN,
				.l4len = 13),
		LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 22, .flags = SYN,
				.l4len = 14),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .dport = 23, .flags = ACK,
				.l4len = 14),
		TG_V_NEXT);
	CU_ASSERT_EQUAL(
		V(lt, P_LAN, .proto = 6, .l4len = 3), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(
		V(lt, P_LAN, .proto = 17, .l4len = 3), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(
		V(lt, P_LAN, .proto = 17, .dport = 53, .l4len = 4), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	/* with "all", a short header passes */
	list_set(&g->tcp_ports, K_ALL, 0, 0);
	list_set(&g->udp_ports, K_ALL, 0, 0);
	lt = build(c);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 6, .l4len = 13), TG_V_NEXT);
	CU_ASSERT_EQUAL(V(lt, P_LAN, .proto = 17, .l4len = 3), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	free(c);
}

static void
test_lf_names(void)
{
	CU_ASSERT_STRING_EQUAL(
		tg_localfilter_drop_names[TG_LOCALFILTER_DROP_PROTOCOL],
		"localfilter.protocol");
	CU_ASSERT_STRING_EQUAL(
		tg_localfilter_drop_names[TG_LOCALFILTER_DROP_TCP_PORT],
		"localfilter.tcp_port");
	CU_ASSERT_STRING_EQUAL(
		tg_localfilter_drop_names[TG_LOCALFILTER_DROP_UDP_PORT],
		"localfilter.udp_port");
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), NB_MBUF);
}

/* The verdict of the stage's burst with the reply state, at TSC @p now. */
static uint16_t
verdict_at(const struct tg_localfilter_table *lt,
	struct tg_localfilter_ctx *ctx, const struct probe *pr, uint64_t now)
{
	struct rte_mbuf *m = pkt(pr, P_LAN);
	uint16_t v;

	tg_localfilter_burst(lt, ctx, &m, 1, &v, now);
	rte_pktmbuf_free(m);
	return v;
}

#define VAT(lt, ctx, now, ...)                                                 \
	verdict_at(lt, ctx, &(const struct probe){__VA_ARGS__}, now)

/* What the host sent lately opens its source port for the replies, for
 * TG_LF_UDP_REPLY_S seconds, UDP only (the seed's "response ports"). */
static void
test_lf_udp_replies_to_the_host(void)
{
	struct tg_config *c = cfg_new();
	struct tg_localfilter_table *lt;
	struct tg_localfilter_ctx *ctx;
	struct rte_mbuf *m;
	uint64_t hz, t;

	list_set(&c->local_filter.global.udp_ports, K_SOME, 53, 53);
	list_set(&c->local_filter.global.tcp_ports, K_SOME, 22, 22);
	lt = build(c);
	ctx = tg_localfilter_ctx_create(0);
	CU_ASSERT_FATAL(ctx != NULL);
	hz = ctx->hz;
	t = 1000 * hz;
	/* nothing sent yet */
	CU_ASSERT_EQUAL(VAT(lt, ctx, t, UDP(40000)), LF_DROP(UDP_PORT));
	/* the host sends a query from port 40000 (pkt()'s source port)... */
	m = pkt(&(const struct probe){UDP(53)}, P_LAN);
	tg_localfilter_note_sent(ctx, m, t);
	rte_pktmbuf_free(m);
	/* ...its replies come in, for 30 s; other ports stay closed */
	CU_ASSERT_EQUAL(VAT(lt, ctx, t + hz, UDP(40000)), TG_V_NEXT);
	CU_ASSERT_EQUAL(VAT(lt, ctx, t + 30 * hz, UDP(40000)), TG_V_NEXT);
	CU_ASSERT_EQUAL(ctx->udp_replies, 2);
	CU_ASSERT_EQUAL(
		VAT(lt, ctx, t + 31 * hz, UDP(40000)), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(VAT(lt, ctx, t + hz, UDP(40001)), LF_DROP(UDP_PORT));
	/* UDP only: a TCP SYN to that port is judged as ever */
	CU_ASSERT_EQUAL(
		VAT(lt, ctx, t + hz, TCP(40000, SYN)), LF_DROP(TCP_PORT));
	/* a header too short to hold the port is not a reply */
	CU_ASSERT_EQUAL(VAT(lt, ctx, t + hz, .proto = 17, .l4len = 3),
		LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(ctx->udp_replies, 2);
	/* what the host sends as TCP, or as a later fragment, opens nothing */
	m = pkt(&(const struct probe){TCP(22, SYN)}, P_LAN);
	tg_localfilter_note_sent(ctx, m, 2000 * hz);
	rte_pktmbuf_free(m);
	m = pkt(
		&(const struct probe){
			.proto = 17, .dport = 53, .frag = 0x0010, .l4len = 8},
		P_LAN);
	tg_localfilter_note_sent(ctx, m, 2000 * hz);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(VAT(lt, ctx, 2000 * hz, UDP(40000)), LF_DROP(UDP_PORT));
	tg_localfilter_ctx_free(ctx);
	tg_localfilter_table_free(lt);
	free(c);
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_localfilter") != 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test_lf", NB_MBUF, 0, TG_MBUF_PRIV_SIZE,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("localfilter", NULL, NULL,
		"test_lf_udp_replies_to_the_host",
		test_lf_udp_replies_to_the_host, "test_lf_disabled_accepts_all",
		test_lf_disabled_accepts_all, "test_lf_every_combination",
		test_lf_every_combination, "test_lf_edge_ports",
		test_lf_edge_ports, "test_lf_interface_override",
		test_lf_interface_override,
		"test_lf_fragments_and_short_headers",
		test_lf_fragments_and_short_headers, "test_lf_names",
		test_lf_names, NULL);
	rc = tg_test_run();
	rte_mempool_free(mp);
	tg_test_eal_cleanup();
	return rc;
}
