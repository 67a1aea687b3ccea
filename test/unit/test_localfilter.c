/* SPDX-License-Identifier: BSD-3-Clause
 * localfilter: decisions for every combination of settings, the
 * per-interface override, edge ports, fragments and short headers. The
 * expected verdicts come from a reference written here from the rules in
 * docs/configuration.md, not from the bitmaps under test; the frames are
 * built byte by byte and go through RX validation first, as in the
 * dataplane.
 */
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

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
ip_sum(const uint8_t *p, int len)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Ethernet + IPv4 (to 10.0.0.1) + @p l4len bytes of L4 whose bytes 2..3
 * are @p dport; @p frag is the flags/offset field. Validated by RX on
 * @p port (meta: rx_if, l3_len). */
static struct rte_mbuf *
pkt(uint8_t proto, uint16_t dport, uint16_t frag, uint16_t l4len, uint16_t port)
{
	uint8_t f[128] = {0};
	uint8_t *ip = f + 14;
	uint16_t tot = (uint16_t)(20 + l4len), len = (uint16_t)(14 + tot);
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *d;

	CU_ASSERT_FATAL(m != NULL);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, tot);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 192, ip[13] = 168, ip[14] = 1, ip[15] = 9;
	ip[16] = 10, ip[17] = 0, ip[18] = 0, ip[19] = 1;
	put16(ip + 10, ip_sum(ip, 20));
	if (l4len >= 4) {
		put16(ip + 20, 40000); /* source port */
		put16(ip + 22, dport);
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
verdict(const struct tg_localfilter_table *lt, uint8_t proto, uint16_t dport,
	uint16_t frag, uint16_t l4len, uint16_t port)
{
	struct rte_mbuf *m = pkt(proto, dport, frag, l4len, port);
	uint16_t v;

	tg_localfilter_burst(lt, &m, 1, &v);
	CU_ASSERT_EQUAL(v, tg_localfilter_check(lt, m));
	rte_pktmbuf_free(m);
	return v;
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

/* The rules, written out: the expected verdict for one packet. */
static uint16_t
reference(
	enum kind kp, enum kind kt, enum kind ku, uint8_t proto, uint16_t dport)
{
	/* K_SOME: protocols {6, 17}; TCP ports 20..22; UDP port 53 */
	bool proto_ok =
		kp == K_ALL || (kp == K_SOME && (proto == 6 || proto == 17));

	if (!proto_ok)
		return LF_DROP(PROTOCOL);
	if (proto == 6)
		return kt == K_ALL || (kt == K_SOME && dport >= 20 &&
					      dport <= 22)
			       ? TG_V_NEXT
			       : LF_DROP(TCP_PORT);
	if (proto == 17)
		return ku == K_ALL || (ku == K_SOME && dport == 53)
			       ? TG_V_NEXT
			       : LF_DROP(UDP_PORT);
	return TG_V_NEXT;
}

/* ---- tests -------------------------------------------------------------- */

static void
test_lf_disabled_accepts_all(void)
{
	struct tg_config *c = cfg_new();
	struct tg_localfilter_table *lt;

	c->local_filter.enabled = false;
	list_set(&c->local_filter.global.protocols, K_NONE, 0, 0);
	lt = build(c);
	CU_ASSERT_FALSE(lt->enabled);
	CU_ASSERT_EQUAL(verdict(lt, 6, 80, 0, 20, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 17, 53, 0, 8, P_WAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 1, 0, 0, 8, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 47, 0, 0, 8, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 6, 80, 0x0010, 20, P_LAN), TG_V_NEXT);
	tg_localfilter_table_free(lt);
	free(c);
}

/* 3 x 3 x 3 settings x a set of packets, against the reference. */
static void
test_lf_every_combination(void)
{
	static const struct {
		uint8_t proto;
		uint16_t dport;
	} p[] = {{6, 19}, {6, 20}, {6, 22}, {6, 23}, {17, 52}, {17, 53},
		{17, 54}, {1, 0}, {47, 0}, {0, 0}, {255, 0}};
	enum kind kp, kt, ku;
	unsigned int i, checked = 0;

	for (kp = K_ALL; kp <= K_NONE; kp++)
		for (kt = K_ALL; kt <= K_NONE; kt++)
			for (ku = K_ALL; ku <= K_NONE; ku++) {
				struct tg_config *c = cfg_new();
				struct tg_cfg_lf_rules *g =
					&c->local_filter.global;
				struct tg_localfilter_table *lt;

				list_set(&g->protocols, kp, 6, 6);
				if (kp == K_SOME) {
					g->protocols.n = 2;
					g->protocols.r[1].lo = 17;
					g->protocols.r[1].hi = 17;
				}
				list_set(&g->tcp_ports, kt, 20, 22);
				list_set(&g->udp_ports, ku, 53, 53);
				lt = build(c);
				for (i = 0; i < RTE_DIM(p); i++) {
					uint16_t want = reference(kp, kt, ku,
						p[i].proto, p[i].dport);

					CU_ASSERT_EQUAL(verdict(lt, p[i].proto,
								p[i].dport, 0,
								20, P_LAN),
						want);
					checked++;
				}
				tg_localfilter_table_free(lt);
				free(c);
			}
	CU_ASSERT_EQUAL(checked, 27 * RTE_DIM(p));
}

/* Ports 0 and 65535, and their neighbours, in both directions. */
static void
test_lf_edge_ports(void)
{
	struct tg_config *c = cfg_new();
	struct tg_cfg_lf_rules *g = &c->local_filter.global;
	struct tg_localfilter_table *lt;

	list_set(&g->tcp_ports, K_SOME, 0, 0);
	g->tcp_ports.n = 2;
	g->tcp_ports.r[1].lo = 65535;
	g->tcp_ports.r[1].hi = 65535;
	list_set(&g->udp_ports, K_SOME, 1, 65534);
	lt = build(c);
	CU_ASSERT_EQUAL(verdict(lt, 6, 0, 0, 20, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 6, 65535, 0, 20, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 6, 1, 0, 20, P_LAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 6, 65534, 0, 20, P_LAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 17, 0, 0, 8, P_LAN), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 17, 65535, 0, 8, P_LAN), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 17, 1, 0, 8, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 17, 65534, 0, 8, P_LAN), TG_V_NEXT);
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
	lf->global.protocols.n = 2;
	lf->global.protocols.r[1].lo = 17;
	lf->global.protocols.r[1].hi = 17;
	list_set(&lf->global.udp_ports, K_SOME, 53, 53);
	lf->n_overrides = 1;
	lf->overrides[0].iface = 1; /* wan0 */
	list_set(&lf->overrides[0].rules.tcp_ports, K_SOME, 22, 22);
	lt = build(c);
	CU_ASSERT_EQUAL(verdict(lt, 6, 80, 0, 20, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 6, 80, 0, 20, P_WAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 6, 22, 0, 20, P_WAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 17, 53, 0, 8, P_WAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 17, 54, 0, 8, P_WAN), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 1, 0, 0, 8, P_WAN), LF_DROP(PROTOCOL));
	CU_ASSERT_EQUAL(verdict(lt, 1, 0, 0, 8, P_LAN), LF_DROP(PROTOCOL));
	/* a port with no interface and generated packets: the global lists */
	CU_ASSERT_EQUAL(verdict(lt, 6, 80, 0, 20, 0), TG_V_NEXT);
	/* an override of protocols alone on lan0 */
	tg_localfilter_table_free(lt);
	lf->n_overrides = 2;
	lf->overrides[1].iface = 0;
	list_set(&lf->overrides[1].rules.protocols, K_ALL, 0, 0);
	lt = build(c);
	CU_ASSERT_EQUAL(verdict(lt, 1, 0, 0, 8, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(verdict(lt, 17, 54, 0, 8, P_LAN), LF_DROP(UDP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 1, 0, 0, 8, P_WAN), LF_DROP(PROTOCOL));
	tg_localfilter_table_free(lt);
	/* an override naming no interface is refused */
	{
		static const uint16_t port_id[2] = {P_LAN, P_WAN};
		struct tg_localfilter_table *bad = NULL;
		char err[128];

		lf->overrides[1].iface = 5;
		CU_ASSERT(tg_localfilter_build(c, port_id, 2, 0, &bad, err,
				  sizeof(err)) < 0);
		CU_ASSERT_PTR_NULL(bad);
		CU_ASSERT(strstr(err, "interfaces[1]") != NULL);
	}
	free(c);
}

/* Later fragments have no ports: they pass only with "all"; the first
 * fragment (MF, offset 0) is judged by its ports; a header too short to
 * hold the port is dropped under the port reason. */
static void
test_lf_fragments_and_short_headers(void)
{
	struct tg_config *c = cfg_new();
	struct tg_cfg_lf_rules *g = &c->local_filter.global;
	struct tg_localfilter_table *lt;

	list_set(&g->tcp_ports, K_SOME, 22, 22);
	lt = build(c);
	CU_ASSERT_EQUAL(verdict(lt, 6, 22, 0x2000, 20, P_LAN), TG_V_NEXT);
	CU_ASSERT_EQUAL(
		verdict(lt, 6, 23, 0x2000, 20, P_LAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(
		verdict(lt, 6, 22, 0x0010, 20, P_LAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(
		verdict(lt, 6, 22, 0x2010, 20, P_LAN), LF_DROP(TCP_PORT));
	/* DF is not a fragment */
	CU_ASSERT_EQUAL(verdict(lt, 6, 22, 0x4000, 20, P_LAN), TG_V_NEXT);
	/* UDP: all ports, so a later fragment passes */
	CU_ASSERT_EQUAL(verdict(lt, 17, 9, 0x0010, 8, P_LAN), TG_V_NEXT);
	/* 3 bytes of TCP: no destination port to judge */
	CU_ASSERT_EQUAL(verdict(lt, 6, 0, 0, 3, P_LAN), LF_DROP(TCP_PORT));
	CU_ASSERT_EQUAL(verdict(lt, 17, 0, 0, 3, P_LAN), TG_V_NEXT);
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
	tg_test_suite("localfilter", NULL, NULL, "test_lf_disabled_accepts_all",
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
