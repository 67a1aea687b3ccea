/* SPDX-License-Identifier: BSD-3-Clause
 * Control phase of forward: the immutable table (interfaces by port id,
 * LPM + next hops, our addresses, static neighbors, ARP/ICMP parameters)
 * built from the config model.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_malloc.h>

#include "tg_forward.h"

const char *const tg_forward_drop_names[TG_FORWARD_DROP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_FORWARD_DROP_##n] = s,
	TG_FORWARD_DROPS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_forward_drop_descs[TG_FORWARD_DROP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_FORWARD_DROP_##n] = d,
	TG_FORWARD_DROPS(TG_X_DESC)
#undef TG_X_DESC
};

const char *const tg_forward_counter_names[TG_FORWARD_CNT__COUNT] = {
#define TG_X_NAME(n, s) [TG_FORWARD_CNT_##n] = s,
	TG_FORWARD_COUNTERS(TG_X_NAME)
#undef TG_X_NAME
};

/* Rules beyond max_routes + 2 per interface: the default route takes two
 * (rte_lpm has no depth 0, see route_add). */
#define LPM_RULE_SLACK 16

enum { ORIGIN_CONNECTED = 0, ORIGIN_STATIC = 1, ORIGIN_LOCAL = 2 };

struct build {
	const struct tg_config *cfg;
	struct tg_forward_table *ft;
	uint32_t nh_cap;
	/* Next-hop dedupe: open addressing over nh indexes + 1 (0 = empty). */
	uint32_t *nh_hash;
	uint32_t nh_hash_mask;
	char *err;
	size_t errlen;
};

static int
build_err(struct build *b, int rc, const char *fmt, ...)
{
	va_list ap;

	if (b->err != NULL && b->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(b->err, b->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const char *
ip_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		(a >> 8) & 0xff, a & 0xff);
	return buf;
}

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static uint32_t
nh_get(struct build *b, uint8_t type, uint16_t port, uint32_t via)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t h = (via * 2654435761u) ^ ((uint32_t)port << 8 | type);
	uint32_t i = (h * 2654435761u) & b->nh_hash_mask;
	struct tg_nexthop *nh;

	while (b->nh_hash[i] != 0) {
		nh = &ft->nh[b->nh_hash[i] - 1];
		if (nh->type == type && nh->port == port && nh->via == via)
			return b->nh_hash[i] - 1;
		i = (i + 1) & b->nh_hash_mask;
	}
	nh = &ft->nh[ft->n_nh];
	nh->type = type;
	nh->port = port;
	nh->via = via;
	b->nh_hash[i] = ++ft->n_nh;
	return ft->n_nh - 1;
}

/* Install prefix/len → nh, replacing an identical prefix installed
 * earlier (a static route over a connected one, our /32 over anything). */
static int
lpm_add(struct build *b, uint32_t prefix, uint8_t len, uint32_t nh,
	uint8_t origin)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t old, i;
	int rc;

	if (rte_lpm_is_rule_present(ft->lpm, prefix, len, &old) == 1) {
		rc = rte_lpm_add(ft->lpm, prefix, len, nh);
		if (rc < 0)
			return rc;
		for (i = 0; i < ft->n_routes; i++) {
			struct tg_route_info *r = &ft->routes[i];

			if (r->len == len && r->prefix == prefix) {
				r->nh = nh;
				r->origin = origin;
				break;
			}
		}
		return 0;
	}
	rc = rte_lpm_add(ft->lpm, prefix, len, nh);
	if (rc < 0)
		return rc;
	ft->routes[ft->n_routes++] = (struct tg_route_info){
		.prefix = prefix, .len = len, .origin = origin, .nh = nh};
	return 0;
}

/* rte_lpm has no depth 0: a default route is installed as 0/1 and 128/1,
 * each only where no /1 of its own exists (a /1 is more specific). */
static int
lpm_add_default(struct build *b, uint32_t nh)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t half, old, i;
	int rc;

	for (half = 0; half < 2; half++) {
		uint32_t p = half << 31;

		if (rte_lpm_is_rule_present(ft->lpm, p, 1, &old) == 1) {
			/* A /1 route of the config: keep it, unless it is
			 * the other half of an earlier default route. */
			bool mine = true;

			for (i = 0; i < ft->n_routes; i++)
				if (ft->routes[i].len == 1 &&
					ft->routes[i].prefix == p)
					mine = false;
			if (!mine)
				continue;
		}
		rc = rte_lpm_add(ft->lpm, p, 1, nh);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < ft->n_routes; i++) {
		if (ft->routes[i].len == 0) {
			ft->routes[i].nh = nh;
			ft->routes[i].origin = ORIGIN_STATIC;
			return 0;
		}
	}
	ft->routes[ft->n_routes++] = (struct tg_route_info){
		.prefix = 0, .len = 0, .origin = ORIGIN_STATIC, .nh = nh};
	return 0;
}

static int
lpm_fail(
	struct build *b, int rc, const char *path, uint32_t prefix, uint8_t len)
{
	char a[16];

	if (rc == -ENOSPC)
		return build_err(b, -ENOSPC,
			"%s: %s/%u exceeds limits.max_routes/lpm_tbl8 "
			"(max_routes %u, lpm_tbl8 %u)",
			path, ip_str(prefix, a), len, b->cfg->limits.max_routes,
			b->cfg->limits.lpm_tbl8);
	return build_err(b, rc, "%s: %s/%u: cannot add route (%s)", path,
		ip_str(prefix, a), len, strerror(-rc));
}

static int
build_ifaces(struct build *b, const struct tg_port_env *env)
{
	const struct tg_config *cfg = b->cfg;
	struct tg_forward_table *ft = b->ft;
	uint32_t i, j;

	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &cfg->ifaces[i];
		struct tg_iface *ifc;
		uint16_t pid;

		if (ci->port >= env->n_ports || ci->port >= TG_MAX_PORTS)
			return build_err(b, -EINVAL,
				"interfaces[%u].port: port index %u is not "
				"running",
				i, ci->port);
		pid = env->port_id[ci->port];
		if (pid >= RTE_MAX_ETHPORTS)
			return build_err(b, -EINVAL,
				"interfaces[%u].port: port id %u out of range",
				i, pid);
		ifc = &ft->ifaces[pid];
		if (ifc->configured)
			return build_err(b, -EINVAL,
				"interfaces[%u].port: port already has an "
				"interface",
				i);
		if (ci->prefix_len < 1 || ci->prefix_len > 32 || ci->addr == 0)
			return build_err(b, -EINVAL,
				"interfaces[%u]: invalid address", i);
		ifc->configured = true;
		snprintf(ifc->name, sizeof(ifc->name), "%s", ci->name);
		ifc->addr = ci->addr;
		ifc->prefix_len = ci->prefix_len;
		ifc->mask = mask_of(ci->prefix_len);
		ifc->mtu = ci->mtu;
		ifc->mac = env->mac[ci->port];
		ifc->l3 = env->l3[ci->port];

		j = tg_local_hash(ci->addr);
		while (ft->local[j] != 0 && ft->local[j] != ci->addr)
			j = (j + 1) & (TG_LOCAL_SLOTS - 1);
		if (ft->local[j] == 0) {
			ft->local[j] = ci->addr;
			ft->local_port[j] = pid;
		}
	}
	return 0;
}

static int
build_statics(struct build *b, const struct tg_port_env *env, int socket)
{
	const struct tg_config *cfg = b->cfg;
	struct tg_forward_table *ft = b->ft;
	uint32_t i;

	if (cfg->n_neighbors == 0)
		return 0;
	ft->statics = rte_zmalloc_socket("tg_fwd_statics",
		sizeof(*ft->statics) * cfg->n_neighbors, 0, socket);
	if (ft->statics == NULL)
		return build_err(b, -ENOMEM, "neighbors: out of memory");
	for (i = 0; i < cfg->n_neighbors; i++) {
		const struct tg_cfg_neighbor *n = &cfg->neighbors[i];
		struct tg_static_neigh *s = &ft->statics[ft->n_static];

		if (n->iface >= cfg->n_ifaces)
			return build_err(b, -EINVAL,
				"neighbors[%u].iface: no such interface", i);
		s->addr = n->addr;
		s->port = env->port_id[cfg->ifaces[n->iface].port];
		memcpy(s->mac.addr_bytes, n->mac, RTE_ETHER_ADDR_LEN);
		ft->n_static++;
	}
	return 0;
}

static void
build_params(const struct tg_config *cfg, struct tg_forward_params *p)
{
	uint64_t hz = rte_get_tsc_hz();

	p->reachable_tsc = (uint64_t)cfg->arp.reachable_s * hz;
	p->retry_tsc = (uint64_t)cfg->arp.retry_ms * hz / 1000;
	p->max_retries = cfg->arp.max_retries;
	p->failed_hold_tsc = (uint64_t)cfg->arp.failed_hold_s * hz;
	p->hold_packets = cfg->arp.hold_packets;
	p->icmp_ttl = cfg->icmp.ttl_exceeded;
	p->icmp_unreach = cfg->icmp.unreachable;
	p->icmp_rate = cfg->icmp.rate;
	p->icmp_burst = cfg->icmp.burst;
}

static int
build_lpm(struct build *b, const struct tg_port_env *env, int socket)
{
	static uint32_t lpm_seq; /* rte_lpm names are process-wide */
	const struct tg_config *cfg = b->cfg;
	struct tg_forward_table *ft = b->ft;
	struct rte_lpm_config lc = {0};
	char name[RTE_LPM_NAMESIZE], path[48];
	uint32_t i, nh, n_default = 0;
	int rc;

	if (cfg->n_routes > cfg->limits.max_routes)
		return build_err(b, -ENOSPC,
			"routes[%u]: route %u of %u exceeds "
			"limits.max_routes/lpm_tbl8 (max_routes %u)",
			cfg->limits.max_routes, cfg->limits.max_routes + 1,
			cfg->n_routes, cfg->limits.max_routes);

	lc.max_rules =
		cfg->limits.max_routes + 2u * cfg->n_ifaces + LPM_RULE_SLACK;
	lc.number_tbl8s = cfg->limits.lpm_tbl8;
	snprintf(name, sizeof(name), "tgfw%" PRIx64 "_%x",
		(uint64_t)(b->ft->generation & 0xffffffffffffull),
		__atomic_fetch_add(&lpm_seq, 1, __ATOMIC_RELAXED));
	ft->lpm = rte_lpm_create(name, socket, &lc);
	if (ft->lpm == NULL)
		return build_err(b, rte_errno == ENOSPC ? -ENOSPC : -ENOMEM,
			"limits: cannot create the route table (%s)",
			rte_strerror(rte_errno));

	b->nh_cap = 2u * cfg->n_ifaces + cfg->n_routes + 1;
	ft->nh = rte_zmalloc_socket(
		"tg_fwd_nh", sizeof(*ft->nh) * b->nh_cap, 0, socket);
	ft->routes = rte_zmalloc_socket(
		"tg_fwd_routes", sizeof(*ft->routes) * b->nh_cap, 0, socket);
	b->nh_hash_mask = rte_align32pow2(2 * b->nh_cap) - 1;
	b->nh_hash = calloc(b->nh_hash_mask + 1, sizeof(*b->nh_hash));
	if (ft->nh == NULL || ft->routes == NULL || b->nh_hash == NULL)
		return build_err(b, -ENOMEM, "routes: out of memory");

	/* Connected subnets, then static routes (which replace an equal
	 * connected prefix), then our /32s (which nothing replaces). */
	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &cfg->ifaces[i];
		uint16_t pid = env->port_id[ci->port];
		uint32_t m = mask_of(ci->prefix_len);

		snprintf(path, sizeof(path), "interfaces[%u]", i);
		nh = nh_get(b, TG_NH_CONNECTED, pid, 0);
		rc = lpm_add(
			b, ci->addr & m, ci->prefix_len, nh, ORIGIN_CONNECTED);
		if (rc < 0)
			return lpm_fail(
				b, rc, path, ci->addr & m, ci->prefix_len);
	}
	for (i = 0; i < cfg->n_routes; i++) {
		const struct tg_cfg_route *r = &cfg->routes[i];

		if (r->iface >= cfg->n_ifaces || r->len > 32)
			return build_err(
				b, -EINVAL, "routes[%u]: no such interface", i);
		if (r->len == 0) {
			n_default++;
			continue;
		}
		nh = nh_get(b, r->via != 0 ? TG_NH_VIA : TG_NH_CONNECTED,
			env->port_id[cfg->ifaces[r->iface].port], r->via);
		snprintf(path, sizeof(path), "routes[%u]", i);
		rc = lpm_add(b, r->prefix & mask_of(r->len), r->len, nh,
			ORIGIN_STATIC);
		if (rc < 0)
			return lpm_fail(b, rc, path, r->prefix, r->len);
	}
	/* Default routes last: their /1 halves must yield to real /1s. */
	for (i = 0; n_default > 0 && i < cfg->n_routes; i++) {
		const struct tg_cfg_route *r = &cfg->routes[i];

		if (r->len != 0)
			continue;
		nh = nh_get(b, r->via != 0 ? TG_NH_VIA : TG_NH_CONNECTED,
			env->port_id[cfg->ifaces[r->iface].port], r->via);
		snprintf(path, sizeof(path), "routes[%u]", i);
		rc = lpm_add_default(b, nh);
		if (rc < 0)
			return lpm_fail(b, rc, path, 0, 0);
	}
	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &cfg->ifaces[i];

		snprintf(path, sizeof(path), "interfaces[%u]", i);
		nh = nh_get(b, TG_NH_LOCAL, env->port_id[ci->port], 0);
		rc = lpm_add(b, ci->addr, 32, nh, ORIGIN_LOCAL);
		if (rc < 0)
			return lpm_fail(b, rc, path, ci->addr, 32);
	}
	return 0;
}

int
tg_forward_build(const struct tg_config *cfg, const struct tg_port_env *env,
	uint64_t generation, int socket, struct tg_forward_table **out,
	char *err, size_t errlen)
{
	struct build b = {.cfg = cfg, .err = err, .errlen = errlen};
	struct tg_forward_table *ft;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || cfg == NULL || env == NULL)
		return -EINVAL;
	*out = NULL;
	ft = rte_zmalloc_socket(
		"tg_fwd_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	if (ft == NULL)
		return build_err(&b, -ENOMEM, "forward table: out of memory");
	b.ft = ft;
	ft->generation = generation;
	build_params(cfg, &ft->params);

	rc = build_ifaces(&b, env);
	if (rc == 0)
		rc = build_statics(&b, env, socket);
	if (rc == 0)
		rc = build_lpm(&b, env, socket);
	free(b.nh_hash);
	if (rc < 0) {
		tg_forward_table_free(ft);
		return rc;
	}
	*out = ft;
	return 0;
}

void
tg_forward_table_free(struct tg_forward_table *ft)
{
	if (ft == NULL)
		return;
	rte_lpm_free(ft->lpm);
	rte_free(ft->nh);
	rte_free(ft->routes);
	rte_free(ft->statics);
	rte_free(ft);
}
