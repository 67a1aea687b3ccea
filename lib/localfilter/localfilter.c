/* SPDX-License-Identifier: BSD-3-Clause
 * localfilter: the config model's lists → per-interface bitmaps (ICMP
 * always on).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "tg_localfilter.h"

const char *const tg_localfilter_drop_names[TG_LOCALFILTER_DROP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_LOCALFILTER_DROP_##n] = s,
	TG_LOCALFILTER_DROPS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_localfilter_drop_descs[TG_LOCALFILTER_DROP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_LOCALFILTER_DROP_##n] = d,
	TG_LOCALFILTER_DROPS(TG_X_DESC)
#undef TG_X_DESC
};

/* Set the bits of @p l (values 0..max) in @p map; "all" sets every one. */
static void
list_to_bits(const struct tg_cfg_lf_list *l, uint64_t *map, uint32_t max)
{
	uint32_t i, v;

	memset(map, 0, (max + 1) / 8);
	if (l->all) {
		memset(map, 0xff, (max + 1) / 8);
		return;
	}
	for (i = 0; i < l->n && i < TG_CFG_LF_MAX_RANGES; i++)
		for (v = l->r[i].lo; v <= l->r[i].hi && v <= max; v++)
			map[v >> 6] |= 1ull << (v & 63);
}

/* @p over's lists where given, @p base's otherwise. */
static void
rules_build(struct tg_lf_rules *r, const struct tg_cfg_lf_rules *base,
	const struct tg_cfg_lf_rules *over)
{
	const struct tg_cfg_lf_list *p = &base->protocols,
				    *t = &base->tcp_ports,
				    *u = &base->udp_ports;

	if (over != NULL && over->protocols.set)
		p = &over->protocols;
	if (over != NULL && over->tcp_ports.set)
		t = &over->tcp_ports;
	if (over != NULL && over->udp_ports.set)
		u = &over->udp_ports;
	list_to_bits(p, r->proto, 255);
	/* The seed cannot filter ICMP ("You cannot filter ICMP traffic by
	 * using TCP/IP filtering"): its bit is set whatever the list says,
	 * which keeps the check at one bitmap load. */
	r->proto[IPPROTO_ICMP >> 6] |= 1ull << (IPPROTO_ICMP & 63);
	list_to_bits(t, r->tcp, 65535);
	list_to_bits(u, r->udp, 65535);
	r->tcp_all = t->all;
	r->udp_all = u->all;
}

int
tg_localfilter_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, int socket, struct tg_localfilter_table **out,
	char *err, size_t errlen)
{
	const struct tg_cfg_local_filter *lf;
	struct tg_localfilter_table *lt;
	uint16_t i;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL || out == NULL || (n_ports > 0 && port_id == NULL))
		return -EINVAL;
	*out = NULL;
	lf = &cfg->local_filter;
	if (lf->n_overrides > TG_MAX_PORTS) {
		snprintf(err, errlen, "local_filter.interfaces: at most %u",
			TG_MAX_PORTS);
		return -EINVAL;
	}
	lt = rte_zmalloc_socket("tg_lf_table", sizeof(*lt), 0, socket);
	if (lt == NULL)
		goto nomem;
	lt->enabled = lf->enabled;
	/* Disabled: one rule set that accepts everything, so a stage that
	 * still sees packets (bypass_idle_stages: false) passes them. */
	lt->n_rules = (uint16_t)(lf->enabled ? 1 + lf->n_overrides : 1);
	lt->rules = rte_zmalloc_socket("tg_lf_rules",
		sizeof(*lt->rules) * lt->n_rules, RTE_CACHE_LINE_SIZE, socket);
	if (lt->rules == NULL)
		goto nomem;
	if (!lf->enabled) {
		static const struct tg_cfg_lf_rules all = {
			.protocols = {.set = true, .all = true},
			.tcp_ports = {.set = true, .all = true},
			.udp_ports = {.set = true, .all = true},
		};

		rules_build(&lt->rules[0], &all, NULL);
		*out = lt;
		return 0;
	}
	rules_build(&lt->rules[0], &lf->global, NULL);
	for (i = 0; i < lf->n_overrides; i++) {
		uint16_t ifc = lf->overrides[i].iface, port;

		if (ifc >= cfg->n_ifaces || cfg->ifaces[ifc].port >= n_ports) {
			snprintf(err, errlen,
				"local_filter.interfaces[%u]: no such "
				"interface",
				i);
			tg_localfilter_table_free(lt);
			return -EINVAL;
		}
		port = port_id[cfg->ifaces[ifc].port];
		if (port >= RTE_MAX_ETHPORTS) {
			snprintf(err, errlen,
				"local_filter.interfaces[%u]: port id %u out "
				"of "
				"range",
				i, port);
			tg_localfilter_table_free(lt);
			return -EINVAL;
		}
		rules_build(&lt->rules[1 + i], &lf->global,
			&lf->overrides[i].rules);
		lt->rule_of_port[port] = (uint8_t)(1 + i);
	}
	*out = lt;
	return 0;
nomem:
	tg_localfilter_table_free(lt);
	snprintf(err, errlen, "local_filter: out of memory");
	return -ENOMEM;
}

void
tg_localfilter_table_free(struct tg_localfilter_table *lt)
{
	if (lt == NULL)
		return;
	rte_free(lt->rules);
	rte_free(lt);
}

struct tg_localfilter_ctx *
tg_localfilter_ctx_create(int socket)
{
	struct tg_localfilter_ctx *ctx = rte_zmalloc_socket(
		"tg_lf_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE, socket);

	if (ctx != NULL)
		ctx->hz = rte_get_tsc_hz();
	return ctx;
}

void
tg_localfilter_ctx_free(struct tg_localfilter_ctx *ctx)
{
	rte_free(ctx);
}

/* A UDP datagram refused by its port: a reply to what the host sent from
 * that port lately? (The port list judged it, so the header holds the
 * port: a short one was refused before it was read.) */
static bool
lf_udp_reply(
	const struct tg_localfilter_ctx *ctx, struct rte_mbuf *m, uint64_t now)
{
	const struct tg_meta *md = tg_meta(m);
	const uint8_t *l4 = (const uint8_t *)tg_pkt_ipv4(m) + md->l3_len;
	uint32_t sent;

	if (rte_pktmbuf_data_len(m) <
		sizeof(struct rte_ether_hdr) + md->l3_len + 4u)
		return false;
	sent = __atomic_load_n(
		&ctx->udp_sent[l4[2] << 8 | l4[3]], __ATOMIC_RELAXED);
	return sent != 0 &&
	       (uint32_t)(now / ctx->hz) + 1 - sent <= TG_LF_UDP_REPLY_S;
}

/* One packet's verdict; *reply: let in as a UDP reply (refused by its
 * port, but the host sent from that port lately). */
static inline uint16_t
lf_judge(const struct tg_localfilter_table *lt,
	const struct tg_localfilter_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	bool *reply)
{
	uint16_t v = tg_localfilter_check(lt, m);

	*reply = false;
	if (unlikely(v == TG_V_DROP(TG_LOCALFILTER_DROP_UDP_PORT)) &&
		ctx != NULL && lf_udp_reply(ctx, m, now)) {
		*reply = true;
		v = TG_V_NEXT;
	}
	return v;
}

void
tg_localfilter_burst(const struct tg_localfilter_table *lt,
	struct tg_localfilter_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, uint64_t now)
{
	bool reply;
	uint16_t i;

	for (i = 0; i < n; i++) {
		verdict[i] = lf_judge(lt, ctx, pkts[i], now, &reply);
		if (unlikely(reply))
			ctx->udp_replies++;
	}
}

uint16_t
tg_localfilter_explain(const struct tg_localfilter_table *lt,
	const struct tg_localfilter_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	bool *reply)
{
	return lf_judge(lt, ctx, m, now, reply);
}
