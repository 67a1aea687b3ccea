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

/* The snapshot's part from @p cfg, its slots not yet assigned. */
static int
natfw_build(const struct tg_config *cfg, const uint16_t *port_id,
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
	for (i = 0; i < TG_NATFW_SLOTS; i++)
		nt->slot_addr[i] = TG_NATFW_NO_ADDR;
	*out = nt;
	return 0;
}

int
tg_natfw_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, struct tg_natfw_table **out, char *err, size_t errlen)
{
	return tg_natfw_build_from(
		cfg, port_id, n_ports, NULL, NULL, out, err, errlen);
}

/* Whether every port mapping of @p prev is in @p nt, on the same address
 * (IP: their address lists may differ) and towards the same host. */
static bool
pmaps_kept(const struct tg_natfw_table *prev, const struct tg_natfw_table *nt)
{
	uint32_t i;

	for (i = 0; i < prev->n_pmaps; i++) {
		const struct tg_natfw_pmap *p = &prev->pmaps[i];
		struct tg_natfw_pmap k = *p;
		const struct tg_natfw_pmap *q;

		k.addr = nt->slot_addr[prev->slot[p->addr]];
		if (k.addr == TG_NATFW_NO_ADDR)
			return false;
		q = nt->n_pmaps == 0 ? NULL
				     : bsearch(&k, nt->pmaps, nt->n_pmaps,
					       sizeof(*q), pmap_cmp);
		if (q == NULL || q->private_ip != p->private_ip ||
			q->private_port != p->private_port)
			return false;
	}
	return true;
}

/*
 * The slots of @p nt's addresses: those of @p prev keep theirs, new ones
 * take free slots (neither an address's nor retired), and the layout
 * moves on when sessions of @p prev may no longer fit @p nt. A retired
 * slot is free once the stage has swept the layout that retired it.
 */
static int
slots_assign(struct tg_natfw_table *nt, const struct tg_natfw_table *prev,
	struct tg_natfw_ctx *ctx, char *err, size_t errlen)
{
	struct tg_nat_table *tab = ctx != NULL ? ctx->sessions : NULL;
	uint32_t swept =
		ctx != NULL ? __atomic_load_n(&ctx->swept, __ATOMIC_ACQUIRE)
			    : 0;
	bool fresh[TG_NATFW_SLOTS] = {false};
	bool changed = false;
	uint16_t i, j, s;
	int rc;

	for (i = 0; i < nt->n_addr; i++) {
		for (j = 0; j < prev->n_addr && prev->addr[j] != nt->addr[i];
			j++)
			;
		nt->slot[i] = TG_NATFW_NO_ADDR;
		if (j == prev->n_addr)
			continue;
		nt->slot[i] = prev->slot[j];
		nt->slot_addr[prev->slot[j]] = i;
		/* no longer NAT's, or a range that lost ports */
		if (j < prev->n_nat &&
			(i >= nt->n_nat || nt->port_lo[i] > prev->port_lo[j] ||
				nt->port_hi[i] < prev->port_hi[j]))
			changed = true;
	}
	for (j = 0; j < prev->n_addr; j++)
		if (nt->slot_addr[prev->slot[j]] == TG_NATFW_NO_ADDR)
			changed = true; /* removed */
	if (!pmaps_kept(prev, nt))
		changed = true;
	nt->layout = prev->layout + changed;
	if (nt->layout == 0)
		nt->layout = 1;
	for (s = 0; s < TG_NATFW_SLOTS; s++)
		if (prev->retired[s] != 0 &&
			nt->slot_addr[s] == TG_NATFW_NO_ADDR && ctx != NULL &&
			(int32_t)(swept - prev->retired[s]) < 0)
			nt->retired[s] = prev->retired[s];
	for (j = 0; j < prev->n_addr; j++)
		if (nt->slot_addr[prev->slot[j]] == TG_NATFW_NO_ADDR)
			nt->retired[prev->slot[j]] = nt->layout;
	for (i = 0, s = 0; i < nt->n_addr; i++) {
		if (nt->slot[i] != TG_NATFW_NO_ADDR)
			continue;
		while (s < TG_NATFW_SLOTS &&
			(nt->slot_addr[s] != TG_NATFW_NO_ADDR ||
				nt->retired[s] != 0))
			s++;
		if (s == TG_NATFW_SLOTS) {
			snprintf(err, errlen,
				"natfw: no free port space for a new address: "
				"the sessions of removed addresses are still "
				"being deleted (try again)");
			return -EBUSY;
		}
		nt->slot[i] = s;
		nt->slot_addr[s] = i;
		fresh[s] = true;
	}
	if (tab == NULL)
		return 0;
	/* Port spaces: new for new slots, none for free ones. The stage
	 * uses neither before it sees this snapshot. */
	for (s = 0; s < TG_NATFW_SLOTS && s < tab->n_public; s++) {
		if (fresh[s]) {
			rc = tg_nat_table_slot_alloc(
				tab, s, nt->addr[nt->slot_addr[s]]);
			if (rc < 0) {
				snprintf(err, errlen,
					"natfw: out of memory for the ports of "
					"a new address");
				return rc;
			}
		} else if (nt->slot_addr[s] == TG_NATFW_NO_ADDR &&
			   nt->retired[s] == 0) {
			tg_nat_table_slot_free(tab, s);
		}
	}
	return 0;
}

int
tg_natfw_build_from(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, const struct tg_natfw_table *prev,
	struct tg_natfw_ctx *ctx, struct tg_natfw_table **out, char *err,
	size_t errlen)
{
	struct tg_natfw_table *nt;
	uint16_t i;
	int rc;

	rc = natfw_build(cfg, port_id, n_ports, out, err, errlen);
	if (rc < 0)
		return rc;
	nt = *out;
	if (prev == NULL) {
		/* as tg_natfw_ctx_create() lays the table out */
		for (i = 0; i < nt->n_addr; i++) {
			nt->slot[i] = i;
			nt->slot_addr[i] = i;
		}
		nt->layout = 1;
		return 0;
	}
	rc = slots_assign(nt, prev, ctx, err, errlen);
	if (rc < 0) {
		tg_natfw_table_free(nt);
		*out = NULL;
	}
	return rc;
}

/* The session table's sizes for @p cfg into @p tc; false when @p cfg
 * needs no table (nat and the firewall off). */
static bool
table_size(const struct tg_config *cfg, struct tg_nat_table_conf *tc)
{
	memset(tc, 0, sizeof(*tc));
	/* one pool, split: translations (nat.max_sessions) and the
	 * appliance's own flows (firewall.max_dynamic) never take each
	 * other's room */
	if (cfg->nat.enabled) {
		tc->max_local = cfg->firewall.enabled
					? cfg->firewall.max_dynamic
					: TG_NATFW_LOCAL_NAT_ONLY;
		tc->max_sessions = cfg->nat.max_sessions + tc->max_local;
	} else {
		/* the firewall alone: every session is local */
		tc->max_sessions = cfg->firewall.max_dynamic;
	}
	/* One host record per four sessions: more private hosts than that
	 * with a session each is a table-full drop, counted. */
	tc->max_hosts = RTE_MAX(tc->max_sessions / 4, 64u);
	tc->max_sessions_per_host = cfg->nat.max_sessions_per_host;
	return cfg->nat.enabled || cfg->firewall.enabled;
}

bool
tg_natfw_restart_only(const struct tg_config *run, const struct tg_config *nc,
	char *what, size_t len)
{
	struct tg_nat_table_conf a, b;
	bool had = table_size(run, &a), has = table_size(nc, &b);
	const char *key;

	if (!had) {
		if (!has)
			return false;
		snprintf(what, len, "%s", nc->nat.enabled ? "nat" : "firewall");
		return true;
	}
	/* Addresses, ranges and port mappings are not here: a reload
	 * applies them to the running table (docs/nat.md, Reload). */
	if (run->nat.enabled != nc->nat.enabled)
		key = "nat.enabled";
	else if (!has)
		key = "firewall.enabled";
	else if (nc->nat.enabled &&
		 run->nat.max_sessions != nc->nat.max_sessions)
		key = "nat.max_sessions";
	else if (nc->nat.enabled && run->nat.max_sessions_per_host !=
					    nc->nat.max_sessions_per_host)
		key = "nat.max_sessions_per_host";
	else if (a.max_sessions != b.max_sessions || a.max_local != b.max_local)
		key = run->firewall.enabled != nc->firewall.enabled
			      ? "firewall.enabled"
			      : "firewall.max_dynamic";
	else
		return false;
	snprintf(what, len, "%s", key);
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
	table_size(cfg, &tc);
	/* slot i: address i, as the first snapshot has them
	 * (tg_natfw_build()); the other slots get port spaces when a reload
	 * adds addresses (tg_natfw_build_from()) */
	tc.n_public = addr_list(cfg, addr, RTE_DIM(addr), &n_nat);
	tc.public_ips = addr;
	tc.max_public = TG_NATFW_SLOTS;
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
	c->sweep_budget = TG_NATFW_SWEEP_BUDGET;
	c->layout = 1; /* the first snapshot's */
	c->swept = 1;
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
