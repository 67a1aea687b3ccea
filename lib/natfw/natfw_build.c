/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the snapshot's part (roles, addresses, port mappings, firewall
 * policy) built from the config model, and the stage's per-lcore context
 * (the session table) sized from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "tg_natfw.h"

const char *const tg_natfw_drop_names[TG_NATFW_DROP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_NATFW_DROP_##n] = s,
	TG_NATFW_DROPS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_natfw_drop_descs[TG_NATFW_DROP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_NATFW_DROP_##n] = d,
	TG_NATFW_DROPS(TG_X_DESC)
#undef TG_X_DESC
};

/*
 * The addresses that get a port space in the session table, in the order
 * both the snapshot and the table use: the NAT addresses (with their
 * ranges), then every other interface address (the firewall's dynamic
 * entries, and ports the appliance itself uses). Returns the count; the
 * first *n_nat are NAT addresses.
 */
static uint16_t
addr_list(const struct tg_config *cfg, uint32_t *addr, uint16_t max,
	uint16_t *n_nat)
{
	uint16_t n = 0, i, j;

	if (cfg->nat.enabled)
		for (i = 0; i < cfg->nat.n_addresses && n < max; i++)
			addr[n++] = cfg->nat.addresses[i].addr;
	*n_nat = n;
	for (i = 0; i < cfg->n_ifaces && n < max; i++) {
		for (j = 0; j < n && addr[j] != cfg->ifaces[i].addr; j++)
			;
		if (j == n)
			addr[n++] = cfg->ifaces[i].addr;
	}
	return n;
}

static int
pmap_cmp(const void *a, const void *b)
{
	const struct tg_natfw_pmap *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->addr != y->addr)
		return x->addr - y->addr;
	return (int)x->public_port - (int)y->public_port;
}

int
tg_natfw_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, struct tg_natfw_table **out, char *err, size_t errlen)
{
	static const uint8_t icmp_in_types[] = {8, 13, 17, 10};
	const struct tg_cfg_fw_icmp_in *in = &cfg->firewall.icmp.inbound;
	const bool icmp_in[] = {in->echo_request, in->timestamp_request,
		in->address_mask_request, in->router_solicitation};
	struct tg_natfw_table *nt;
	uint32_t i, j;

	if (cfg == NULL || out == NULL || (n_ports > 0 && port_id == NULL))
		return -EINVAL;
	*out = NULL;
	nt = rte_zmalloc("tg_natfw_table", sizeof(*nt), RTE_CACHE_LINE_SIZE);
	if (nt == NULL) {
		snprintf(err, errlen, "natfw: out of memory");
		return -ENOMEM;
	}
	nt->nat = cfg->nat.enabled;
	nt->firewall = cfg->firewall.enabled;
	if (nt->nat)
		nt->modes |= 1u << TG_MODE_TRANSIT | 1u << TG_MODE_IN |
			     1u << TG_MODE_OUT;
	if (nt->firewall)
		nt->modes |= 1u << TG_MODE_IN | 1u << TG_MODE_OUT;
	nt->fw = &cfg->firewall;
	nt->filtering = cfg->nat.filtering;
	for (i = 0; nt->nat && i < 2; i++) {
		uint16_t n = i == 0 ? cfg->nat.n_private : cfg->nat.n_public;
		const uint16_t *l = i == 0 ? cfg->nat.private_ifaces
					   : cfg->nat.public_ifaces;

		for (j = 0; j < n; j++) {
			uint16_t p = cfg->ifaces[l[j]].port;

			if (p >= n_ports || port_id[p] >= RTE_MAX_ETHPORTS) {
				snprintf(err, errlen,
					"nat: interface %s has no port",
					cfg->ifaces[l[j]].name);
				tg_natfw_table_free(nt);
				return -EINVAL;
			}
			nt->role[port_id[p]] =
				i == 0 ? TG_NATFW_PRIVATE : TG_NATFW_PUBLIC;
		}
	}
	nt->n_addr = addr_list(cfg, nt->addr, RTE_DIM(nt->addr), &nt->n_nat);
	for (i = 0; i < nt->n_nat; i++) {
		nt->port_lo[i] = cfg->nat.addresses[i].port_lo;
		nt->port_hi[i] = cfg->nat.addresses[i].port_hi;
	}
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		nt->nat_addr_of_port[i] = 0;
	for (i = nt->n_nat; i-- > 0;) {
		uint16_t p = cfg->ifaces[cfg->nat.addresses[i].iface].port;

		if (p < n_ports && port_id[p] < RTE_MAX_ETHPORTS)
			nt->nat_addr_of_port[port_id[p]] = (uint16_t)i;
	}
	for (i = 0; i < cfg->n_ifaces; i++)
		nt->iface_port[i] = cfg->ifaces[i].port < n_ports
					    ? port_id[cfg->ifaces[i].port]
					    : TG_IF_NONE;
	nt->timeouts[TG_NATFW_TMO_TCP_EST] = cfg->nat.timeouts.tcp_established;
	nt->timeouts[TG_NATFW_TMO_TCP_TRANS] = cfg->nat.timeouts.tcp_transitory;
	nt->timeouts[TG_NATFW_TMO_UDP] = cfg->nat.timeouts.udp;
	nt->timeouts[TG_NATFW_TMO_ICMP] = cfg->nat.timeouts.icmp;
	nt->timeouts[TG_NATFW_TMO_GRE] = cfg->nat.timeouts.gre;
	for (i = 0; i < RTE_DIM(icmp_in_types); i++)
		if (icmp_in[i])
			nt->icmp_in_allow[icmp_in_types[i] / 64] |=
				1ull << (icmp_in_types[i] % 64);
	if (nt->nat && cfg->nat.n_mappings > 0) {
		nt->pmaps = rte_zmalloc("tg_natfw_pmaps",
			sizeof(*nt->pmaps) * cfg->nat.n_mappings, 0);
		if (nt->pmaps == NULL) {
			snprintf(err, errlen, "natfw: out of memory");
			tg_natfw_table_free(nt);
			return -ENOMEM;
		}
		for (i = 0; i < cfg->nat.n_mappings; i++) {
			const struct tg_cfg_nat_mapping *m =
				&cfg->nat.mappings[i];
			struct tg_natfw_pmap *p = &nt->pmaps[i];

			for (j = 0;
				j < nt->n_nat && nt->addr[j] != m->public_addr;
				j++)
				;
			p->proto = m->proto;
			p->addr = (uint16_t)j; /* validated: one of them */
			p->public_port = m->public_port;
			p->private_ip = m->private_addr;
			p->private_port = m->private_port;
		}
		nt->n_pmaps = cfg->nat.n_mappings;
		qsort(nt->pmaps, nt->n_pmaps, sizeof(*nt->pmaps), pmap_cmp);
	}
	*out = nt;
	return 0;
}

bool
tg_natfw_restart_only(const struct tg_config *run, const struct tg_config *nc,
	char *what, size_t len)
{
	uint32_t a1[TG_NATFW_MAX_ADDR], a2[TG_NATFW_MAX_ADDR];
	uint16_t n1, n2, k1, k2, i;
	bool had = run->nat.enabled || run->firewall.enabled;

	if (!had) {
		if (!nc->nat.enabled && !nc->firewall.enabled)
			return false;
		snprintf(what, len, "%s", nc->nat.enabled ? "nat" : "firewall");
		return true;
	}
	n1 = addr_list(run, a1, RTE_DIM(a1), &k1);
	n2 = addr_list(nc, a2, RTE_DIM(a2), &k2);
	if (n1 != n2 || k1 != k2 || memcmp(a1, a2, sizeof(a1[0]) * n1) != 0) {
		snprintf(what, len, "nat.addresses, interfaces[].address");
		return true;
	}
	for (i = 0; i < k1; i++)
		if (run->nat.addresses[i].port_lo !=
				nc->nat.addresses[i].port_lo ||
			run->nat.addresses[i].port_hi !=
				nc->nat.addresses[i].port_hi) {
			snprintf(what, len, "nat.addresses[%u].ports", i);
			return true;
		}
	if (run->nat.max_sessions != nc->nat.max_sessions)
		snprintf(what, len, "nat.max_sessions");
	else if (run->nat.max_sessions_per_host !=
		 nc->nat.max_sessions_per_host)
		snprintf(what, len, "nat.max_sessions_per_host");
	else if (run->firewall.enabled != nc->firewall.enabled)
		snprintf(what, len, "firewall.enabled");
	else if (run->firewall.max_dynamic != nc->firewall.max_dynamic)
		snprintf(what, len, "firewall.max_dynamic");
	else
		return false;
	return true;
}

void
tg_natfw_table_free(struct tg_natfw_table *nt)
{
	if (nt == NULL)
		return;
	rte_free(nt->pmaps);
	rte_free(nt);
}

struct tg_natfw_ctx *
tg_natfw_ctx_create(const struct tg_config *cfg, uint64_t tsc_hz, int socket)
{
	struct tg_nat_table_conf tc;
	struct tg_natfw_ctx *c;
	uint32_t addr[TG_NATFW_MAX_ADDR];
	uint16_t n_nat;

	if (cfg == NULL || tsc_hz == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	memset(&tc, 0, sizeof(tc));
	/* one pool, split: translations (nat.max_sessions) and the
	 * appliance's own flows (firewall.max_dynamic) never take each
	 * other's room */
	if (cfg->nat.enabled) {
		tc.max_local = cfg->firewall.enabled ? cfg->firewall.max_dynamic
						     : TG_NATFW_LOCAL_NAT_ONLY;
		tc.max_sessions = cfg->nat.max_sessions + tc.max_local;
	} else {
		/* the firewall alone: every session is local */
		tc.max_sessions = cfg->firewall.max_dynamic;
	}
	/* One host record per four sessions: more private hosts than that
	 * with a session each is a table-full drop, counted. */
	tc.max_hosts = RTE_MAX(tc.max_sessions / 4, 64u);
	tc.max_sessions_per_host = cfg->nat.max_sessions_per_host;
	tc.n_public = addr_list(cfg, addr, RTE_DIM(addr), &n_nat);
	tc.public_ips = addr;
	tc.n_classes = TG_NATFW_TMO__COUNT;
	tc.timeouts[TG_NATFW_TMO_TCP_EST] = cfg->nat.timeouts.tcp_established;
	tc.timeouts[TG_NATFW_TMO_TCP_TRANS] = cfg->nat.timeouts.tcp_transitory;
	tc.timeouts[TG_NATFW_TMO_UDP] = cfg->nat.timeouts.udp;
	tc.timeouts[TG_NATFW_TMO_ICMP] = cfg->nat.timeouts.icmp;
	tc.timeouts[TG_NATFW_TMO_GRE] = cfg->nat.timeouts.gre;
	tc.socket = socket;
	c = rte_zmalloc_socket(
		"tg_natfw_ctx", sizeof(*c), RTE_CACHE_LINE_SIZE, socket);
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->sessions = tg_nat_table_create(&tc);
	if (c->sessions == NULL) {
		rte_free(c);
		return NULL;
	}
	c->tsc_hz = tsc_hz;
	c->expire_budget = 256;
	return c;
}

void
tg_natfw_ctx_free(struct tg_natfw_ctx *c)
{
	if (c == NULL)
		return;
	tg_nat_table_free(c->sessions);
	rte_free(c);
}
