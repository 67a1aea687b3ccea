/* SPDX-License-Identifier: BSD-3-Clause
 * explain (issue 8): a packet built from its description walks the three
 * paths of the running snapshot the way the dispatcher moves a real one
 * (worker.c), each stage deciding with its own code in read-only mode,
 * and every step is described: the verdict, what decided it, what it
 * changed. Nothing the workers own is written: the stages' explain calls
 * only read their live state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include "pipeline_priv.h"

/* The headers a stage may rewrite, to describe what it changed. */
struct hdrs {
	struct rte_ether_addr eth_src, eth_dst;
	uint32_t src, dst;
	uint16_t sport, dport, len;
	uint8_t proto, ttl;
	uint16_t tx_if;
};

static void
hdrs_take(struct rte_mbuf *m, struct hdrs *h)
{
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const uint8_t *l4 = (const uint8_t *)ip + tg_meta(m)->l3_len;

	memset(h, 0, sizeof(*h));
	h->eth_src = eth->src_addr;
	h->eth_dst = eth->dst_addr;
	h->tx_if = tg_meta(m)->tx_if;
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return; /* ARP: its Ethernet header is all a diff shows */
	h->src = tg_be32_to_cpu(ip->src_addr);
	h->dst = tg_be32_to_cpu(ip->dst_addr);
	h->proto = ip->next_proto_id;
	h->ttl = ip->time_to_live;
	h->len = tg_be16_to_cpu(ip->total_length);
	if (h->proto == IPPROTO_TCP || h->proto == IPPROTO_UDP) {
		h->sport = (uint16_t)(l4[0] << 8 | l4[1]);
		h->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	}
	h->tx_if = tg_meta(m)->tx_if;
}

static void
ip_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		(a >> 8) & 0xff, a & 0xff);
}

/* Append "fmt" to @p buf with a ", " between items. */
static void add(char *buf, size_t len, const char *fmt, ...)
	__rte_format_printf(3, 4);

static void
add(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used != 0 && used + 2 < len) {
		memcpy(buf + used, ", ", 3);
		used += 2;
	}
	if (used >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void
hdrs_diff(const struct hdrs *a, const struct hdrs *b, char *buf, size_t len)
{
	char x[16], y[16], ma[RTE_ETHER_ADDR_FMT_SIZE],
		mb[RTE_ETHER_ADDR_FMT_SIZE];

	buf[0] = '\0';
	if (a->proto != b->proto) {
		/* encapsulated or decapsulated: the ports were not there
		 * before, or are not after */
		add(buf, len, "protocol %u -> %u", a->proto, b->proto);
		if (a->src != b->src) {
			ip_str(a->src, x, sizeof(x));
			ip_str(b->src, y, sizeof(y));
			add(buf, len, "source %s -> %s", x, y);
		}
		if (a->dst != b->dst) {
			ip_str(a->dst, x, sizeof(x));
			ip_str(b->dst, y, sizeof(y));
			add(buf, len, "destination %s -> %s", x, y);
		}
	} else if (a->src != b->src || a->sport != b->sport) {
		ip_str(a->src, x, sizeof(x));
		ip_str(b->src, y, sizeof(y));
		add(buf, len, "source %s:%u -> %s:%u", x, a->sport, y,
			b->sport);
	}
	if (a->proto == b->proto &&
		(a->dst != b->dst || a->dport != b->dport)) {
		ip_str(a->dst, x, sizeof(x));
		ip_str(b->dst, y, sizeof(y));
		add(buf, len, "destination %s:%u -> %s:%u", x, a->dport, y,
			b->dport);
	}
	if (a->ttl != b->ttl)
		add(buf, len, "ttl %u -> %u", a->ttl, b->ttl);
	if (a->len != b->len)
		add(buf, len, "length %u -> %u", a->len, b->len);
	if (!rte_is_same_ether_addr(&a->eth_src, &b->eth_src) ||
		!rte_is_same_ether_addr(&a->eth_dst, &b->eth_dst)) {
		rte_ether_format_addr(ma, sizeof(ma), &b->eth_src);
		rte_ether_format_addr(mb, sizeof(mb), &b->eth_dst);
		add(buf, len, "ethernet %s -> %s", ma, mb);
	}
}

static const char *
if_name(const struct tg_tables *t, uint16_t port)
{
	if (port < RTE_MAX_ETHPORTS && t->forward->ifaces[port].configured)
		return t->forward->ifaces[port].name;
	return "-";
}

/* The IPv4 packet @p q describes at @p ip (zeroed, room for it). */
static void
build_ip(
	const struct tg_explain_req *q, struct rte_ipv4_hdr *ip, uint16_t iplen)
{
	uint8_t *l4 = (uint8_t *)(ip + 1);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(iplen);
	ip->fragment_offset = rte_cpu_to_be_16(
		(uint16_t)((q->frag_off / 8) |
			   (q->more_frags ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->time_to_live = q->ttl != 0 ? q->ttl : 64;
	ip->next_proto_id = q->proto;
	ip->src_addr = rte_cpu_to_be_32(q->src);
	ip->dst_addr = rte_cpu_to_be_32(q->dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (q->frag_off != 0)
		return; /* a later fragment: the payload alone */
	switch (q->proto) {
	case IPPROTO_TCP: {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;

		th->src_port = rte_cpu_to_be_16(q->sport);
		th->dst_port = rte_cpu_to_be_16(q->dport);
		th->data_off = 5 << 4;
		th->tcp_flags = q->tcp_flags;
		th->rx_win = rte_cpu_to_be_16(65535);
		th->cksum = rte_ipv4_udptcp_cksum(ip, th);
		break;
	}
	case IPPROTO_UDP: {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)l4;

		uh->src_port = rte_cpu_to_be_16(q->sport);
		uh->dst_port = rte_cpu_to_be_16(q->dport);
		uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + q->payload));
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
		break;
	}
	case IPPROTO_ICMP: {
		struct rte_icmp_hdr *ih = (struct rte_icmp_hdr *)l4;

		ih->icmp_type = q->icmp_type;
		ih->icmp_code = q->icmp_code;
		ih->icmp_cksum = ~rte_raw_cksum(ih, (size_t)8 + q->payload);
		break;
	}
	case IPPROTO_GRE:
		if (!q->gre_pptp)
			break;
		/* K set, version 1, PPP; payload length, call ID */
		l4[0] = 0x20;
		l4[1] = 0x01;
		l4[2] = 0x88;
		l4[3] = 0x0b;
		l4[4] = (uint8_t)(q->payload >> 8);
		l4[5] = (uint8_t)q->payload;
		l4[6] = (uint8_t)(q->gre_call >> 8);
		l4[7] = (uint8_t)q->gre_call;
		break;
	default:
		break;
	}
}

/* The inbound SA of @p spi and @p proto in the configuration, or NULL. */
static const struct tg_cfg_ipsec_sa *
sa_of_spi(const struct tg_tables *t, uint32_t spi, uint8_t proto)
{
	const struct tg_cfg_ipsec *c = &t->cfg->ipsec;
	uint32_t i;

	for (i = 0; i < c->n_sas; i++)
		if (c->sas[i].spi == spi && c->sas[i].dir == TG_CFG_IPSEC_IN &&
			c->sas[i].proto == proto)
			return &c->sas[i];
	return NULL;
}

/* AH's ICV length by algorithm (docs/ipsec.md: HMAC-SHA256-128, -SHA1-96) */
static uint16_t
ah_icv_len(const struct tg_cfg_ipsec_sa *sa)
{
	return sa->alg == TG_CFG_IPSEC_AH_HMAC_SHA256 ? 16 : 12;
}

/* The packet @p q describes, in a new mbuf; with q->esp, in ESP with
 * the null cipher and no ICV under SA @p sa (tg_ipsec_explain()):
 * tunnel, behind an outer header from the SA's remote to its local
 * address; transport, between the packet's IP header and the rest. */
static struct rte_mbuf *
build(struct tg_pipeline *pl, const struct tg_tables *t,
	const struct tg_explain_req *q, const struct tg_cfg_ipsec_sa *sa)
{
	static const struct rte_ether_addr peer = {
		.addr_bytes = {0x02, 0, 0, 0, 0, 0xfe}};
	uint16_t l4len = q->frag_off != 0 && sa == NULL		  ? 0
			 : q->proto == IPPROTO_TCP		  ? 20
			 : q->proto == IPPROTO_UDP		  ? 8
			 : q->proto == IPPROTO_ICMP		  ? 8
			 : q->proto == IPPROTO_GRE && q->gre_pptp ? 8
								  : 0;
	uint16_t iplen = (uint16_t)(20 + l4len + q->payload);
	bool tun = sa != NULL && sa->mode == TG_CFG_IPSEC_TUNNEL;
	bool ah = sa != NULL && sa->proto == TG_CFG_IPSEC_AH;
	/* the IPsec header (ESP's, or AH's with its ICV), ESP's trailer */
	uint16_t hdr = ah ? (uint16_t)(12 + ah_icv_len(sa)) : 8;
	uint16_t extra =
		sa == NULL ? 0
			   : (uint16_t)((tun ? 20 : 0) + hdr + (ah ? 0 : 2));
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	uint8_t *p;

	m = rte_pktmbuf_alloc(pl->mp);
	if (m == NULL)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(
		m, (uint16_t)(sizeof(*eth) + extra + iplen));
	if (eth == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(eth, 0, sizeof(*eth) + extra + iplen);
	if (q->rx_if < RTE_MAX_ETHPORTS)
		eth->dst_addr = t->forward->ifaces[q->rx_if].mac;
	eth->src_addr = peer;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	p = (uint8_t *)(eth + 1);
	if (sa == NULL) {
		build_ip(q, (struct rte_ipv4_hdr *)p, iplen);
		if (q->l4_keep != 0 && q->l4_keep < l4len) {
			/* a truncated header: the packet ends inside it */
			ip = (struct rte_ipv4_hdr *)p;
			ip->total_length =
				rte_cpu_to_be_16((uint16_t)(20 + q->l4_keep));
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			rte_pktmbuf_trim(
				m, (uint16_t)(iplen - 20 - q->l4_keep));
		}
		return m;
	}
	/* the packet after the IPsec header, whole: a fragment asked for
	 * is the ESP's or AH's (ipsec(in) drops those before any SA) */
	{
		struct tg_explain_req whole = *q;

		whole.frag_off = 0;
		whole.more_frags = false;
		build_ip(&whole,
			(struct rte_ipv4_hdr *)(p + (tun ? 20 : 0) + hdr),
			iplen);
	}
	if (!tun)
		/* its IP header in front of the IPsec header */
		memmove(p, p + hdr, sizeof(*ip));
	ip = (struct rte_ipv4_hdr *)p;
	if (tun) {
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->time_to_live = 64;
		ip->src_addr = rte_cpu_to_be_32(sa->remote);
		ip->dst_addr = rte_cpu_to_be_32(sa->local);
	}
	ip->next_proto_id = ah ? IPPROTO_AH : IPPROTO_ESP;
	ip->fragment_offset = rte_cpu_to_be_16(
		(uint16_t)((q->frag_off / 8) |
			   (q->more_frags ? RTE_IPV4_HDR_MF_FLAG : 0)));
	ip->total_length = rte_cpu_to_be_16(
		(uint16_t)(rte_pktmbuf_data_len(m) - sizeof(*eth)));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (ah) {
		/* next header, length (32-bit words - 2), reserved, SPI,
		 * sequence number 1, an ICV of zeros */
		uint8_t *a = (uint8_t *)(ip + 1);
		rte_be32_t w[2] = {
			rte_cpu_to_be_32(sa->spi), rte_cpu_to_be_32(1)};

		a[0] = tun ? IPPROTO_IPIP : q->proto;
		a[1] = (uint8_t)(hdr / 4 - 2);
		memcpy(a + 4, w, sizeof(w));
		return m;
	}
	{
		/* SPI and sequence number 1; the header may sit on any
		 * 2-byte boundary */
		rte_be32_t esp[2] = {
			rte_cpu_to_be_32(sa->spi), rte_cpu_to_be_32(1)};

		memcpy(ip + 1, esp, sizeof(esp));
	}
	p = rte_pktmbuf_mtod(m, uint8_t *) + rte_pktmbuf_data_len(m);
	p[-2] = 0;			       /* pad length */
	p[-1] = tun ? IPPROTO_IPIP : q->proto; /* next header */
	return m;
}

/* The frame @p q gives, in a new mbuf: its bytes, then zeros. */
static struct rte_mbuf *
build_frame(struct tg_pipeline *pl, const struct tg_explain_req *q)
{
	uint16_t len = RTE_MAX(q->wire_len, q->frame_len);
	struct rte_mbuf *m;
	uint8_t *p;

	m = rte_pktmbuf_alloc(pl->mp);
	if (m == NULL)
		return NULL;
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, q->frame, q->frame_len);
	memset(p + q->frame_len, 0, len - q->frame_len);
	return m;
}

/* A stage's answer that explain does not model (no verdict has it). */
#define NOT_EXPLAINED 0xffffu

/* The configured route (or connected subnet) a forward decision came
 * from: the longest prefix holding @p dst, as LPM picks it. */
static void
route_text(const struct tg_tables *t, uint32_t dst,
	const struct tg_forward_why *fw, char *buf, size_t len)
{
	const struct tg_config *c = t->cfg;
	const struct tg_nexthop *nh = &t->forward->nh[fw->nh];
	int best = -1, best_if = -1;
	char p[16], v[16];
	uint32_t i, mask;
	int blen = -1;

	for (i = 0; i < c->n_routes; i++) {
		mask = c->routes[i].len ? ~0u << (32 - c->routes[i].len) : 0;
		if ((dst & mask) == c->routes[i].prefix &&
			(int)c->routes[i].len > blen) {
			blen = c->routes[i].len;
			best = (int)i;
		}
	}
	for (i = 0; i < c->n_ifaces; i++) {
		mask = ~0u << (32 - c->ifaces[i].prefix_len);
		if ((dst & mask) == (c->ifaces[i].addr & mask) &&
			(int)c->ifaces[i].prefix_len > blen) {
			blen = c->ifaces[i].prefix_len;
			best_if = (int)i;
			best = -1;
		}
	}
	/* the address resolved: the gateway, or the destination on-link
	 * (also where forward dropped before resolving) */
	ip_str(nh->type == TG_NH_VIA ? nh->via : dst, v, sizeof(v));
	if (best >= 0) {
		ip_str(c->routes[best].prefix, p, sizeof(p));
		snprintf(buf, len, "route %s/%u %s %s on %s", p, blen,
			nh->type == TG_NH_VIA ? "via" : "to", v,
			if_name(t, nh->port));
	} else if (best_if >= 0) {
		ip_str(c->ifaces[best_if].addr &
				(~0u << (32 - c->ifaces[best_if].prefix_len)),
			p, sizeof(p));
		snprintf(buf, len, "connected %s/%u on %s, to %s", p, blen,
			c->ifaces[best_if].name, v);
	} else {
		snprintf(
			buf, len, "next hop %s on %s", v, if_name(t, nh->port));
	}
}

/* An ARP frame, as forward(arp) takes it. */
static void
explain_arp(const struct tg_tables *t, uint16_t port,
	const struct tg_arp_why *a, uint16_t v, struct tg_explain_step *s)
{
	char sip[16], tip[16], mac[RTE_ETHER_ADDR_FMT_SIZE];

	if (v == TG_V_DROP(TG_FORWARD_DROP_ARP_MALFORMED) ||
		v == TG_V_DROP(TG_FORWARD_DROP_NO_INTERFACE))
		return; /* the reason says it */
	ip_str(a->sip, sip, sizeof(sip));
	ip_str(a->tip, tip, sizeof(tip));
	rte_ether_format_addr(mac, sizeof(mac), &a->sha);
	if (a->op != RTE_ARP_OP_REQUEST)
		snprintf(
			s->why, sizeof(s->why), "reply: %s is at %s", sip, mac);
	else if (a->sip == a->tip)
		snprintf(s->why, sizeof(s->why), "gratuitous: %s is at %s", sip,
			mac);
	else
		snprintf(s->why, sizeof(s->why), "request for %s from %s: %s",
			tip, sip,
			a->for_us ? "a reply would be sent"
				  : "not this interface's address");
	if (a->learn == TG_ARP_LEARN_UPDATE)
		add(s->why, sizeof(s->why), "%s's entry would be confirmed",
			sip);
	else if (a->learn == TG_ARP_LEARN_NEW)
		add(s->why, sizeof(s->why),
			"%s would be learned on %s (room permitting)", sip,
			if_name(t, port));
	else if (a->learn == TG_ARP_LEARN_STATIC)
		add(s->why, sizeof(s->why), "%s is static: left as configured",
			sip);
	else
		add(s->why, sizeof(s->why), "nothing learned from it");
}

static uint16_t
explain_forward(struct tg_pipeline *pl, const struct tg_tables *t,
	struct rte_mbuf *m, struct tg_explain_step *s)
{
	static const char *const states[] = {
		"", "incomplete", "reachable", "stale", "failed", "static"};
	uint32_t dst = tg_be32_to_cpu(tg_pkt_ipv4(m)->dst_addr);
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	struct tg_forward_why fw;
	uint16_t v;

	v = tg_forward_explain(t->forward, pl->stage_ctx[TG_STAGE_FORWARD], m,
		rte_rdtsc(), &fw);
	if (fw.arp_frame) {
		explain_arp(t, tg_meta(m)->rx_if, &fw.arp_in, v, s);
		return v;
	}
	if (fw.nh < t->forward->n_nh)
		route_text(t, dst, &fw, s->why, sizeof(s->why));
	else
		snprintf(s->why, sizeof(s->why), "no route");
	if (fw.neigh_found) {
		rte_ether_format_addr(mac, sizeof(mac), &fw.neigh.mac);
		add(s->why, sizeof(s->why), "neighbor %s %s", mac,
			fw.neigh.state < RTE_DIM(states)
				? states[fw.neigh.state]
				: "?");
	}
	if (fw.arp)
		add(s->why, sizeof(s->why), "an ARP request would be sent");
	if (v == TG_V_STOLEN)
		add(s->why, sizeof(s->why),
			"the packet would wait for the answer");
	if (fw.icmp)
		add(s->why, sizeof(s->why),
			"ICMP type %u code %u would be sent back (rate "
			"permitting)",
			fw.icmp_type, fw.icmp_code);
	return v;
}

static uint16_t
explain_filter(const struct tg_tables *t, struct rte_mbuf *m, uint8_t mode,
	struct tg_explain_step *s)
{
	uint8_t dir = mode == TG_MODE_IN ? TG_CFG_FILTER_IN : TG_CFG_FILTER_OUT;
	const struct tg_filter_list *l;
	uint16_t v, list;
	uint32_t rule;

	tg_filter_classify(t->filter, &m, 1, &dir, &v, &list, &rule);
	if (list == TG_FILTER_NO_LIST) {
		snprintf(s->why, sizeof(s->why), "no %s list on %s",
			dir == TG_CFG_FILTER_IN ? "inbound" : "outbound",
			if_name(t, dir == TG_CFG_FILTER_IN
					   ? tg_meta(m)->rx_if
					   : tg_meta(m)->tx_if));
		return v;
	}
	l = &t->filter->lists[list];
	snprintf(s->why, sizeof(s->why), "%s %s list (%s)",
		t->cfg->ifaces[l->iface].name,
		l->dir == TG_CFG_FILTER_IN ? "inbound" : "outbound",
		l->mode == TG_CFG_FILTER_ALLOW_LISTED ? "allow-listed"
						      : "deny-listed");
	if (rule < l->n_rules)
		add(s->why, sizeof(s->why), "rule %s (#%u)",
			l->rules[rule].name, rule);
	else if (!TG_V_IS_DROP(v) ||
		 TG_V_REASON(v) == TG_FILTER_DROP_IN_DEFAULT ||
		 TG_V_REASON(v) == TG_FILTER_DROP_OUT_DEFAULT)
		add(s->why, sizeof(s->why),
			"no rule matched: the list's "
			"default");
	return v;
}

static uint16_t
explain_localfilter(struct tg_pipeline *pl, const struct tg_tables *t,
	struct rte_mbuf *m, struct tg_explain_step *s)
{
	bool reply;
	uint16_t v = tg_localfilter_explain(t->localfilter,
		pl->stage_ctx[TG_STAGE_LOCALFILTER], m, rte_rdtsc(), &reply);

	if (reply)
		snprintf(s->why, sizeof(s->why),
			"a reply to a datagram the host sent from that port");
	return v;
}

static uint16_t
explain_natfw(struct tg_pipeline *pl, const struct tg_tables *t,
	struct rte_mbuf *m, struct tg_explain_step *s)
{
	const struct tg_cfg_firewall *fw = &t->cfg->firewall;
	char a[16], b[16];
	struct tg_natfw_why w;
	uint16_t v;

	bool out = tg_meta(m)->mode == TG_MODE_TRANSIT;

	v = tg_natfw_explain(t->natfw, pl->stage_ctx[TG_STAGE_NATFW], m, &w);
	switch (w.what) {
	case TG_NATFW_WHY_NOT_NAT:
		snprintf(s->why, sizeof(s->why),
			"not private to public: no translation");
		break;
	case TG_NATFW_WHY_SESSION:
		ip_str(w.sess.priv_ip, a, sizeof(a));
		ip_str(w.sess.pub_ip, b, sizeof(b));
		snprintf(s->why, sizeof(s->why),
			"session %s:%u <-> %s:%u (remote %u.%u.%u.%u:%u)", a,
			w.sess.priv_port, b, w.sess.pub_port,
			w.sess.rem_ip >> 24, (w.sess.rem_ip >> 16) & 0xff,
			(w.sess.rem_ip >> 8) & 0xff, w.sess.rem_ip & 0xff,
			w.sess.rem_port);
		break;
	case TG_NATFW_WHY_NEW_MAPPING:
		ip_str(w.pub_ip, a, sizeof(a));
		snprintf(s->why, sizeof(s->why),
			"a new mapping would be made on %s, port %u (free now)",
			a, w.pub_port);
		break;
	case TG_NATFW_WHY_MAPPING:
		ip_str(w.pub_ip, a, sizeof(a));
		snprintf(s->why, sizeof(s->why),
			"a new session on the host's mapping to %s:%u "
			"(endpoint-independent mapping)",
			a, w.pub_port);
		break;
	case TG_NATFW_WHY_EIF:
	case TG_NATFW_WHY_PORT_MAPPING:
		ip_str(w.sess.priv_ip, a, sizeof(a));
		snprintf(s->why, sizeof(s->why),
			"%s to %s:%u: a session would be made",
			w.what == TG_NATFW_WHY_EIF
				? "an existing mapping (endpoint-independent "
				  "filtering)"
				: "a port mapping",
			a, w.sess.priv_port);
		break;
	case TG_NATFW_WHY_DYN_ENTRY:
		snprintf(s->why, sizeof(s->why),
			"dynamic entry of the appliance's own flow");
		break;
	case TG_NATFW_WHY_NEW_DYN_ENTRY:
		snprintf(s->why, sizeof(s->why),
			"a dynamic entry would be opened for the replies");
		break;
	case TG_NATFW_WHY_EXCEPTION:
		snprintf(s->why, sizeof(s->why), "firewall exception %s (#%u)",
			w.exception < fw->n_exceptions
				? fw->exceptions[w.exception].name
				: "?",
			w.exception);
		break;
	case TG_NATFW_WHY_BYPASS:
		snprintf(s->why, sizeof(s->why),
			"authenticated IPsec bypass: the firewall lets it in");
		break;
	case TG_NATFW_WHY_ICMP_POLICY:
		snprintf(s->why, sizeof(s->why), "the firewall's ICMP policy");
		break;
	case TG_NATFW_WHY_NO_EXCEPTION:
		snprintf(s->why, sizeof(s->why),
			"no firewall exception, mapping or dynamic entry "
			"lets it in");
		break;
	case TG_NATFW_WHY_NO_FIREWALL:
		snprintf(s->why, sizeof(s->why), "the firewall is off");
		break;
	case TG_NATFW_WHY_HAIRPIN:
		ip_str(w.pub_ip, a, sizeof(a));
		ip_str(w.sess.priv_ip, b, sizeof(b));
		snprintf(s->why, sizeof(s->why),
			"hairpinning: from %s:%u (the sender's mapping%s) to "
			"the translation's %s:%u",
			a, w.pub_port,
			w.pub_port == 0 ? ", its port chosen then" : "", b,
			w.sess.priv_port);
		break;
	case TG_NATFW_WHY_PPTP_CALL:
		ip_str(w.sess.priv_ip, a, sizeof(a));
		ip_str(w.sess.pub_ip, b, sizeof(b));
		/* out, the GRE carries the server's call ID; in, the
		 * client's, which the translation gives back */
		snprintf(s->why, sizeof(s->why),
			"PPTP call: GRE of %s <-> %s (the %s call ID %u)%s", a,
			b, out ? "server's" : "client's",
			out ? w.sess.rem_port : w.sess.priv_port,
			(w.sess.flags & TG_NATFW_SF_LOCAL)
				? ", the appliance's own call"
				: "");
		break;
	default:
		break;
	}
	if (w.pptp.type != 0) {
		static const char *const msgs[] = {"",
			"Start-Control-Connection-Request",
			"Start-Control-Connection-Reply",
			"Stop-Control-Connection-Request",
			"Stop-Control-Connection-Reply", "Echo-Request",
			"Echo-Reply", "Outgoing-Call-Request",
			"Outgoing-Call-Reply", "Incoming-Call-Request",
			"Incoming-Call-Reply", "Incoming-Call-Connected",
			"Call-Clear-Request", "Call-Disconnect-Notify",
			"WAN-Error-Notify", "Set-Link-Info"};
		const struct tg_natfw_pptp_why *p = &w.pptp;
		const char *msg = p->type < RTE_DIM(msgs) ? msgs[p->type] : "?";
		const char *made = p->made ? " (new)" : "";

		if (TG_V_IS_DROP(v))
			add(s->why, sizeof(s->why),
				"PPTP %s: call %u not set up", msg, p->priv_id);
		else if (p->act == TG_NATFW_PPTP_ACT_CALL)
			add(s->why, sizeof(s->why),
				"PPTP %s: call ID %u as public %u%s", msg,
				p->priv_id, p->pub_id, made);
		else if (p->act == TG_NATFW_PPTP_ACT_UP)
			add(s->why, sizeof(s->why),
				"PPTP %s: call %u (public %u) up with the "
				"server's %u%s",
				msg, p->priv_id, p->pub_id, p->peer_id, made);
		else if (p->act == TG_NATFW_PPTP_ACT_PEER)
			add(s->why, sizeof(s->why),
				"PPTP %s: public call ID %u back to %u", msg,
				p->pub_id, p->priv_id);
		else if (p->act == TG_NATFW_PPTP_ACT_REFUSED ||
			 p->act == TG_NATFW_PPTP_ACT_CLEAR)
			add(s->why, sizeof(s->why),
				"PPTP %s: call %u (public %u) %s", msg,
				p->priv_id, p->pub_id,
				p->act == TG_NATFW_PPTP_ACT_CLEAR
					? "cleared"
					: "refused, cleared");
		else if (p->act == TG_NATFW_PPTP_ACT_CLEAR_OUT)
			add(s->why, sizeof(s->why),
				"PPTP %s: the server's call %u cleared", msg,
				p->peer_id);
		else if (p->act == TG_NATFW_PPTP_ACT_UNKNOWN)
			add(s->why, sizeof(s->why),
				"PPTP %s: no call has its ID, passed as is",
				msg);
		else if (p->act == TG_NATFW_PPTP_ACT_LOCAL)
			add(s->why, sizeof(s->why),
				"PPTP %s: the appliance's call %u, its GRE let "
				"in%s",
				msg, p->priv_id, made);
		else
			add(s->why, sizeof(s->why), "PPTP %s", msg);
	}
	return v;
}

static uint16_t
explain_ipsec(struct tg_pipeline *pl, const struct tg_tables *t,
	struct rte_mbuf *m, struct tg_explain_step *s, bool real)
{
	const struct tg_cfg_ipsec *c = &t->cfg->ipsec;
	static const char *const actions[] = {"allow", "block", "protect"};
	struct tg_ipsec_why w;
	uint16_t v;

	v = tg_ipsec_explain(t->ipsec, pl->stage_ctx[TG_STAGE_IPSEC],
		&t->forward->local, m, rte_rdtsc(), !real, &w);
	if (w.sa != UINT32_MAX && w.sa < c->n_sas &&
		c->sas[w.sa].dir == TG_CFG_IPSEC_IN)
		snprintf(s->why, sizeof(s->why),
			real ? "SA %s (spi %u)"
			     : "SA %s (spi %u): would be authenticated and "
			       "decrypted (explain does neither)",
			c->sas[w.sa].name, c->sas[w.sa].spi);
	if (w.policy != UINT32_MAX && w.policy < c->n_policies) {
		const struct tg_cfg_ipsec_policy *p = &c->policies[w.policy];

		add(s->why, sizeof(s->why), "policy %s: %s", p->name,
			p->action < RTE_DIM(actions) ? actions[p->action]
						     : "?");
		if (w.sa != UINT32_MAX && w.sa < c->n_sas &&
			c->sas[w.sa].dir == TG_CFG_IPSEC_OUT)
			add(s->why, sizeof(s->why), "with SA %s (spi %u)%s",
				c->sas[w.sa].name, c->sas[w.sa].spi,
				c->sas[w.sa].mode == TG_CFG_IPSEC_TUNNEL
					? ", tunnel"
					: ", transport");
	} else if (!TG_V_IS_DROP(v) && w.sa == UINT32_MAX) {
		snprintf(s->why, sizeof(s->why), "no policy applies");
	}
	if (w.direct)
		add(s->why, sizeof(s->why),
			"the tunnel's next hop is ready: straight to TX");
	return v;
}

/* One stage's decision on @p m. */
static uint16_t
explain_stage(struct tg_pipeline *pl, const struct tg_tables *t, uint8_t s,
	struct rte_mbuf *m, struct tg_explain_step *st, bool real)
{
	switch (s) {
	case TG_STAGE_FORWARD:
		return explain_forward(pl, t, m, st);
	case TG_STAGE_FILTER:
		return explain_filter(t, m, tg_meta(m)->mode, st);
	case TG_STAGE_LOCALFILTER:
		return explain_localfilter(pl, t, m, st);
	case TG_STAGE_NATFW:
		return explain_natfw(pl, t, m, st);
	case TG_STAGE_IPSEC:
		return explain_ipsec(pl, t, m, st, real);
	default:
		return NOT_EXPLAINED;
	}
}

static struct tg_explain_step *
step_new(struct tg_explain *x, uint8_t kind, const struct tg_meta *md)
{
	struct tg_explain_step *s;

	if (x->n >= TG_EXPLAIN_STEPS)
		return NULL;
	s = &x->step[x->n++];
	memset(s, 0, sizeof(*s));
	s->r.kind = kind;
	s->r.stage = TG_STAGE_NONE;
	s->r.id = 1;
	s->r.s.path = md->path;
	s->r.s.step = md->step;
	s->r.s.mode = md->mode;
	s->r.s.flags = md->flags;
	return s;
}

static void
end_drop(struct tg_explain *x, struct tg_pipeline *pl, const struct tg_meta *md,
	uint16_t idx)
{
	struct tg_explain_step *s = step_new(x, TG_TRACE_DROP, md);

	if (s != NULL)
		s->r.s.drop = idx;
	snprintf(x->end, sizeof(x->end), "drop %s",
		tg_drop_name(idx) != NULL ? tg_drop_name(idx) : "?");
	RTE_SET_USED(pl);
}

static void
end_tx(struct tg_explain *x, const struct tg_tables *t, struct rte_mbuf *m)
{
	const struct tg_meta *md = tg_meta(m);
	const struct rte_ether_hdr *eth =
		rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	char a[RTE_ETHER_ADDR_FMT_SIZE], b[RTE_ETHER_ADDR_FMT_SIZE];
	struct tg_explain_step *s = step_new(x, TG_TRACE_TX, md);

	if (s != NULL) {
		s->r.t.port = md->tx_if;
		s->r.t.path = md->path;
	}
	rte_ether_format_addr(a, sizeof(a), &eth->src_addr);
	rte_ether_format_addr(b, sizeof(b), &eth->dst_addr);
	snprintf(x->end, sizeof(x->end), "tx %s %s -> %s",
		if_name(t, md->tx_if), a, b);
}

/* The path walk: worker.c's dispatcher for one packet (w_to_step_bulk's
 * skips and passes, w_verdict's verdicts), one stage after the other. */
static void
walk(struct tg_pipeline *pl, const struct tg_tables *t, struct rte_mbuf *m,
	bool frame, struct tg_explain *x)
{
	struct tg_meta *md = tg_meta(m);
	uint16_t rounds;

	for (rounds = 0; rounds < 4 * TG_PATH_MAX_STEPS; rounds++) {
		const struct tg_path_def *d;
		const struct tg_path_step *st;
		struct tg_explain_step *s;
		struct hdrs before, after;
		uint16_t v;
		int step;

		if (md->path >= TG_PATH__COUNT ||
			md->step >= tg_paths[md->path].n_steps) {
			end_drop(x, pl, md,
				pl->drop_base[TG_OWNER_PIPELINE] +
					TG_PIPELINE_DROP_BAD_VERDICT);
			return;
		}
		d = &tg_paths[md->path];
		st = &d->steps[md->step];
		if (st->stage == TG_STEP_TX) {
			end_tx(x, t, m);
			return;
		}
		if (st->stage == TG_STEP_HOST) {
			if (!pl->host.enabled) {
				end_drop(x, pl, md,
					pl->drop_base[TG_OWNER_PIPELINE] +
						TG_PIPELINE_DROP_NO_HOST_PORT);
				return;
			}
			s = step_new(x, TG_TRACE_HOST, md);
			if (s != NULL)
				s->r.t.port = pl->host.port_id;
			snprintf(x->end, sizeof(x->end), "host");
			return;
		}
		/* Passed by: no work in this snapshot, or (out steps) the
		 * packet carries the flags that leave the stage nothing. */
		if (!tg_step_active(t, st) ||
			(st->mode == TG_MODE_OUT &&
				t->stage_pass_out[st->stage] != 0 &&
				(md->flags & t->stage_pass_out[st->stage]) ==
					t->stage_pass_out[st->stage])) {
			md->step++;
			continue;
		}
		md->mode = st->mode;
		s = step_new(x, TG_TRACE_STAGE, md);
		if (s == NULL) {
			snprintf(x->end, sizeof(x->end), "too many steps");
			return;
		}
		hdrs_take(m, &before);
		/* a received frame's ESP is as it came: not "decrypted" */
		v = explain_stage(pl, t, st->stage, m, s, frame);
		s->r.stage = st->stage;
		if (frame && st->stage == TG_STAGE_IPSEC &&
			st->mode == TG_MODE_IN && v == TG_V_NEXT &&
			(before.proto == IPPROTO_ESP ||
				before.proto == IPPROTO_AH) &&
			s->why[0] != '\0') {
			/* its SA's checks passed: the crypto device decides
			 * the rest, from bytes explain cannot decrypt */
			x->n--;
			x->unexplained = st->stage;
			snprintf(x->end, sizeof(x->end),
				"not explained: ipsec(in) authenticates and "
				"decrypts it with %.96s; explain does neither "
				"(describe the inner packet with esp SPI)",
				s->why);
			return;
		}
		s->r.s.gen = (uint32_t)t->generation;
		if (v == NOT_EXPLAINED) {
			x->n--;
			x->unexplained = st->stage;
			if (s->why[0] != '\0')
				snprintf(x->end, sizeof(x->end),
					"not explained: %s(%s): %s",
					tg_stage_name(st->stage),
					tg_mode_name(st->mode), s->why);
			else
				snprintf(x->end, sizeof(x->end),
					"not explained: %s(%s) is not "
					"modelled by explain yet",
					tg_stage_name(st->stage),
					tg_mode_name(st->mode));
			return;
		}
		s->r.s.verdict = v;
		s->r.s.path = md->path;
		s->r.s.flags = md->flags;
		hdrs_take(m, &after);
		hdrs_diff(&before, &after, s->rewrite, sizeof(s->rewrite));
		if (TG_V_IS_DROP(v)) {
			uint16_t idx =
				TG_V_REASON(v) < tg_stage_ops[st->stage].n_drops
					? (uint16_t)(pl->drop_base
							     [TG_OWNER_STAGE0 +
								     st->stage] +
						     TG_V_REASON(v))
					: (uint16_t)(pl->drop_base
							     [TG_OWNER_PIPELINE] +
						     TG_PIPELINE_DROP_BAD_VERDICT);

			s->r.s.drop = idx;
			snprintf(x->end, sizeof(x->end), "drop %s",
				tg_drop_name(idx));
			return;
		}
		switch (TG_V_KIND(v)) {
		case TG_V_NEXT:
			md->step++;
			break;
		case TG_V_TX:
			end_tx(x, t, m);
			return;
		case TG_V_STOLEN:
			snprintf(x->end, sizeof(x->end), "held by %s: %.120s",
				tg_stage_name(st->stage), s->why);
			return;
		case TG_V_GOTO_BASE:
			step = tg_goto_step(pl, md->path, v);
			if (step < 0) {
				end_drop(x, pl, md,
					pl->drop_base[TG_OWNER_PIPELINE] +
						TG_PIPELINE_DROP_BAD_VERDICT);
				return;
			}
			md->step = (uint8_t)step;
			break;
		default:
			end_drop(x, pl, md,
				pl->drop_base[TG_OWNER_PIPELINE] +
					TG_PIPELINE_DROP_BAD_VERDICT);
			return;
		}
	}
	snprintf(x->end, sizeof(x->end), "loops: more than %u steps",
		4 * TG_PATH_MAX_STEPS);
}

uint16_t
tg_explain_stage_why(struct tg_pipeline *pl, const struct tg_tables *t,
	uint8_t s, struct rte_mbuf *m, bool real, char *why, size_t len)
{
	struct tg_explain_step st;
	uint16_t v;

	memset(&st, 0, sizeof(st));
	v = explain_stage(pl, t, s, m, &st, real);
	snprintf(why, len, "%s", v == NOT_EXPLAINED ? "" : st.why);
	return v;
}

int
tg_pipeline_explain(struct tg_pipeline *pl, const struct tg_explain_req *q,
	struct tg_explain *x, char *err, size_t errlen)
{
	const struct tg_tables *t = pl->slot->cur;
	const struct tg_cfg_ipsec_sa *sa;
	struct tg_cfg_ipsec_sa nosa;
	bool not_ipv4 = false;
	uint16_t port, v;
	struct tg_meta *md;
	struct rte_mbuf *m;

	memset(x, 0, sizeof(*x));
	x->unexplained = TG_STAGE_NONE;
	if (t == NULL) {
		snprintf(err, errlen, "no configuration running");
		return -ENOENT;
	}
	x->generation = t->generation;
	if (q->rx_if == TG_TRACE_FROM_HOST) {
		if (!pl->host.enabled) {
			snprintf(err, errlen,
				"from host: no host port is configured");
			return -EINVAL;
		}
		port = pl->host.port_id;
	} else {
		port = q->rx_if;
		if (port >= RTE_MAX_ETHPORTS ||
			!t->forward->ifaces[port].configured) {
			snprintf(err, errlen, "no such receiving interface");
			return -EINVAL;
		}
	}
	if (q->frame != NULL && RTE_MAX(q->wire_len, q->frame_len) >
					rte_pktmbuf_data_room_size(pl->mp) -
						RTE_PKTMBUF_HEADROOM) {
		snprintf(err, errlen,
			"frame: longer than an mbuf holds (%u bytes)",
			rte_pktmbuf_data_room_size(pl->mp) -
				RTE_PKTMBUF_HEADROOM);
		return -EINVAL;
	}
	sa = NULL;
	if (q->frame == NULL && (q->esp || q->ah)) {
		sa = sa_of_spi(
			t, q->spi, q->ah ? TG_CFG_IPSEC_AH : TG_CFG_IPSEC_ESP);
		if (sa == NULL) {
			/* No SA has it: ESP from the source to the
			 * destination described, as it would come (and be
			 * dropped as ipsec.no_sa, or forwarded) */
			memset(&nosa, 0, sizeof(nosa));
			nosa.spi = q->spi;
			nosa.dir = TG_CFG_IPSEC_IN;
			nosa.mode = TG_CFG_IPSEC_TRANSPORT;
			nosa.proto = q->ah ? TG_CFG_IPSEC_AH : TG_CFG_IPSEC_ESP;
			nosa.alg = TG_CFG_IPSEC_AH_HMAC_SHA256;
			sa = &nosa;
		}
	}
	m = q->frame != NULL ? build_frame(pl, q) : build(pl, t, q, sa);
	if (m == NULL) {
		snprintf(err, errlen, "no mbuf for the packet");
		return -ENOMEM;
	}
	md = tg_meta(m);
	/* RX's validation and path choice, as w_rx() and w_rx_host() */
	if (q->rx_if == TG_TRACE_FROM_HOST) {
		tg_pkt_rx_burst(&m, 1, port, NULL, &v);
		if (v == TG_V_NEXT && md->path == TG_PATH_TRANSIT)
			md->path = TG_PATH_SOURCE;
		else if (v == TG_V_NEXT)
			not_ipv4 = true; /* ARP: the kernel's own business */
	} else {
		tg_pkt_rx_burst(&m, 1, port, &t->forward->local, &v);
	}
	/* the packet as a trace's mark records it: the ESP or AH one for
	 * those, the inner packet described beside it */
	x->mark.kind = TG_TRACE_MARK;
	x->mark.id = 1;
	tg_trace_pkt_fields(m, v == TG_V_NEXT, &x->mark);
	x->mark.m.port = q->rx_if;
	x->mark.m.path = md->path;
	if (sa != NULL) {
		x->inner = x->mark;
		x->inner.m.src = q->src;
		x->inner.m.dst = q->dst;
		x->inner.m.sport = q->sport;
		x->inner.m.dport = q->dport;
		x->inner.m.proto = q->proto;
		x->inner.m.tcp_flags =
			q->proto == IPPROTO_TCP ? q->tcp_flags : 0;
		x->inner.m.icmp_type = q->icmp_type;
		x->inner.m.len =
			(uint16_t)(x->mark.m.len -
				   (sa->mode == TG_CFG_IPSEC_TUNNEL ? 20 : 0) -
				   (sa->proto == TG_CFG_IPSEC_AH
						   ? 12 + ah_icv_len(sa)
						   : 10));
	}
	if (v != TG_V_NEXT)
		end_drop(x, pl, md,
			pl->drop_base[TG_OWNER_PKT] + TG_V_REASON(v));
	else if (not_ipv4)
		end_drop(x, pl, md,
			pl->drop_base[TG_OWNER_PIPELINE] +
				TG_PIPELINE_DROP_HOST_NOT_IPV4);
	else
		walk(pl, t, m, q->frame != NULL, x);
	rte_pktmbuf_free(m);
	return 0;
}
