/* SPDX-License-Identifier: BSD-3-Clause
 * Control phase of forward: the immutable table (interfaces by port id,
 * FIB + next hops, our addresses, static neighbors, ARP/ICMP parameters)
 * built from the config model.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_fib.h>
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

enum { ORIGIN_CONNECTED = 0, ORIGIN_STATIC = 1, ORIGIN_LOCAL = 2 };

/* Where a route came from, for messages: routes[i] or interfaces[i]. */
#define SRC_IFACE 0x80000000u

struct build {
	const struct tg_config *cfg;
	struct tg_forward_table *ft;
	uint32_t nh_cap;
	/* Next-hop dedupe: open addressing over nh indexes + 1 (0 = empty). */
	uint32_t *nh_hash;
	uint32_t nh_hash_mask;
	/* Route dedupe: (prefix, len) → routes index + 1 (0 = empty).
	 * hash_mask is rt_hash's and t8_hash's. */
	uint32_t *rt_hash;
	uint32_t hash_mask;
	/* rt_src[i]: the config item that last set routes[i] (SRC_IFACE |
	 * interface index, or the route index). */
	uint32_t *rt_src;
	/* The /24s (+ 1; 0 = empty) holding a prefix longer than /24: each
	 * takes one tbl8 group, limits.lpm_tbl8 of them. */
	uint32_t *t8_hash;
	uint32_t n_tbl8;
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

/* A 32-bit mixer (every input bit reaches the low bits we index with). */
static inline uint32_t
mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t
nh_get(struct build *b, uint8_t type, uint16_t port, uint32_t via)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t i = mix32(via ^ mix32((uint32_t)port << 8 | type)) &
		     b->nh_hash_mask;
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

/* The tbl8 group of the /24 @p blk: false when it is a new one and
 * limits.lpm_tbl8 are already taken. */
static bool
tbl8_take(struct build *b, uint32_t blk)
{
	uint32_t i = mix32(blk) & b->hash_mask;

	while (b->t8_hash[i] != 0) {
		if (b->t8_hash[i] == blk + 1)
			return true;
		i = (i + 1) & b->hash_mask;
	}
	if (b->n_tbl8 >= b->cfg->limits.lpm_tbl8)
		return false;
	b->t8_hash[i] = blk + 1;
	b->n_tbl8++;
	return true;
}

/* Record prefix/len → nh, replacing an identical prefix recorded earlier
 * (a static route over a connected one, our /32 over anything). The FIB
 * is filled afterwards (build_fib), once per distinct prefix. */
static int
route_add(struct build *b, uint32_t src, uint32_t prefix, uint8_t len,
	uint32_t nh, uint8_t origin)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t i = mix32(prefix ^ mix32(len)) & b->hash_mask;
	struct tg_route_info *r;

	while (b->rt_hash[i] != 0) {
		r = &ft->routes[b->rt_hash[i] - 1];
		if (r->prefix == prefix && r->len == len) {
			r->nh = nh;
			r->origin = origin;
			b->rt_src[b->rt_hash[i] - 1] = src;
			return 0;
		}
		i = (i + 1) & b->hash_mask;
	}
	/* Like rte_lpm: one tbl8 group per /24 with a longer prefix. */
	if (len > 24 && !tbl8_take(b, prefix >> 8))
		return -ENOSPC;
	b->rt_src[ft->n_routes] = src;
	ft->routes[ft->n_routes++] = (struct tg_route_info){
		.prefix = prefix, .len = len, .origin = origin, .nh = nh};
	b->rt_hash[i] = ft->n_routes;
	return 0;
}

static int
route_fail(struct build *b, int rc, uint32_t src, uint32_t prefix, uint8_t len)
{
	char path[48], a[16];

	if (src & SRC_IFACE)
		snprintf(
			path, sizeof(path), "interfaces[%u]", src & ~SRC_IFACE);
	else
		snprintf(path, sizeof(path), "routes[%u]", src);
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
		while (ft->local.addr[j] != 0 && ft->local.addr[j] != ci->addr)
			j = (j + 1) & (TG_LOCAL_SLOTS - 1);
		if (ft->local.addr[j] == 0) {
			ft->local.addr[j] = ci->addr;
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

/* Collect the routes: connected subnets, then static routes (which
 * replace an equal connected prefix), then our /32s (which nothing
 * replaces). Fills ft->nh and ft->routes (the /tollgate/routes order). */
static int
build_routes(struct build *b, const struct tg_port_env *env, int socket)
{
	const struct tg_config *cfg = b->cfg;
	struct tg_forward_table *ft = b->ft;
	uint32_t i, j, nh, hash_sz;
	int rc;

	if (cfg->n_routes > cfg->limits.max_routes)
		return build_err(b, -ENOSPC,
			"routes[%u]: route %u of %u exceeds "
			"limits.max_routes/lpm_tbl8 (max_routes %u)",
			cfg->limits.max_routes, cfg->limits.max_routes + 1,
			cfg->n_routes, cfg->limits.max_routes);

	b->nh_cap = 2u * cfg->n_ifaces + cfg->n_routes + 1;
	ft->nh = rte_zmalloc_socket(
		"tg_fwd_nh", sizeof(*ft->nh) * b->nh_cap, 0, socket);
	ft->routes = rte_zmalloc_socket(
		"tg_fwd_routes", sizeof(*ft->routes) * b->nh_cap, 0, socket);
	b->nh_hash_mask = rte_align32pow2(2 * b->nh_cap) - 1;
	b->hash_mask = b->nh_hash_mask;
	hash_sz = b->hash_mask + 1;
	b->nh_hash = calloc(hash_sz, sizeof(*b->nh_hash));
	b->rt_hash = calloc(hash_sz, sizeof(*b->rt_hash));
	b->t8_hash = calloc(hash_sz, sizeof(*b->t8_hash));
	b->rt_src = malloc(sizeof(*b->rt_src) * b->nh_cap);
	if (ft->nh == NULL || ft->routes == NULL || b->nh_hash == NULL ||
		b->rt_hash == NULL || b->t8_hash == NULL || b->rt_src == NULL)
		return build_err(b, -ENOMEM, "routes: out of memory");

	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &cfg->ifaces[i];
		uint32_t m = mask_of(ci->prefix_len);

		nh = nh_get(b, TG_NH_CONNECTED, env->port_id[ci->port], 0);
		rc = route_add(b, SRC_IFACE | i, ci->addr & m, ci->prefix_len,
			nh, ORIGIN_CONNECTED);
		if (rc < 0)
			return route_fail(b, rc, SRC_IFACE | i, ci->addr & m,
				ci->prefix_len);
	}
	/* Default routes after the others (their place in the listing). */
	for (j = 0; j < 2; j++) {
		for (i = 0; i < cfg->n_routes; i++) {
			const struct tg_cfg_route *r = &cfg->routes[i];

			if (r->iface >= cfg->n_ifaces || r->len > 32)
				return build_err(b, -EINVAL,
					"routes[%u]: no such interface", i);
			if ((r->len == 0) != (j == 1))
				continue;
			nh = nh_get(b,
				r->via != 0 ? TG_NH_VIA : TG_NH_CONNECTED,
				env->port_id[cfg->ifaces[r->iface].port],
				r->via);
			rc = route_add(b, i, r->prefix & mask_of(r->len),
				r->len, nh, ORIGIN_STATIC);
			if (rc < 0)
				return route_fail(b, rc, i, r->prefix, r->len);
		}
	}
	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &cfg->ifaces[i];

		nh = nh_get(b, TG_NH_LOCAL, env->port_id[ci->port], 0);
		rc = route_add(
			b, SRC_IFACE | i, ci->addr, 32, nh, ORIGIN_LOCAL);
		if (rc < 0)
			return route_fail(b, rc, SRC_IFACE | i, ci->addr, 32);
	}
	return 0;
}

/* Largest next hop a DIR24_8 entry of 1 << sz bytes holds (its low bit
 * flags a tbl8 index). */
static uint64_t
fib_max_nh(enum rte_fib_dir24_8_nh_sz sz)
{
	return (1ull << ((8u << sz) - 1)) - 1;
}

/* Create the FIB for the routes collected and install them, each once,
 * shortest prefixes first. Then no route ever has a more specific one
 * under it when it is added, and DIR24_8 just writes its range: it
 * cannot go through the path that splits a range around existing more
 * specific routes, which in DPDK 22.11 (and later) rewrites the whole
 * table when the last of them ends at 255.255.255.255 (e.g. 192.0.0.0/2
 * added after 220.0.0.0/6 and 224.0.0.0/3). Writing the ranges costs
 * 2^(24 - len) tbl24 entries per prefix of length len ≤ 24. */
/* Copy each next hop's interface fields into it (tg_nexthop). */
static void
build_nh_copies(struct build *b)
{
	struct tg_forward_table *ft = b->ft;
	uint32_t i;

	for (i = 0; i < ft->n_nh; i++) {
		struct tg_nexthop *nh = &ft->nh[i];
		const struct tg_iface *ifc;

		if (nh->port >= RTE_MAX_ETHPORTS)
			continue;
		ifc = &ft->ifaces[nh->port];
		nh->mtu = ifc->configured ? ifc->mtu : 0;
		nh->l3 = ifc->l3;
		memcpy(nh->src_et, &ifc->mac, RTE_ETHER_ADDR_LEN);
		nh->src_et[6] = RTE_ETHER_TYPE_IPV4 >> 8;
		nh->src_et[7] = RTE_ETHER_TYPE_IPV4 & 0xff;
	}
}

static int
build_fib(struct build *b, int socket)
{
	static uint32_t fib_seq; /* rte_fib/rte_rib names are process-wide */
	struct tg_forward_table *ft = b->ft;
	struct rte_fib_conf fc = {0};
	uint32_t pos[34] = {0}, *order, i, k;
	uint64_t need;
	char name[32];
	int rc = 0;

	/* Lookups answer nh[] indexes; n_nh (unused) means no route. Sized
	 * to what is installed (it never changes): the RIB takes up to two
	 * nodes per route, each /24 with a longer prefix one tbl8 group (+1
	 * spare; DIR24_8 refuses 0). An entry holds the next hop or a tbl8
	 * index, with 1 bit to tell which: the smallest size that fits. */
	fc.type = RTE_FIB_DIR24_8;
	fc.default_nh = ft->n_nh;
	fc.max_routes = (int)ft->n_routes + 1;
	fc.dir24_8.num_tbl8 = b->n_tbl8 + 1;
	need = RTE_MAX(fc.default_nh, (uint64_t)fc.dir24_8.num_tbl8);
	fc.dir24_8.nh_sz = RTE_FIB_DIR24_8_1B;
	while (fib_max_nh(fc.dir24_8.nh_sz) < need)
		fc.dir24_8.nh_sz++;
	/* The RIB's node pool is "MP_<name>": at most 22 characters. */
	snprintf(name, sizeof(name), "tgfw%x_%x", (uint32_t)ft->generation,
		__atomic_fetch_add(&fib_seq, 1, __ATOMIC_RELAXED));
	ft->fib = rte_fib_create(name, socket, &fc);
	if (ft->fib == NULL)
		return build_err(b, rte_errno == ENOSPC ? -ENOSPC : -ENOMEM,
			"limits: cannot create the route table (%s)",
			rte_strerror(rte_errno));

	/* Counting sort by length, shortest first. */
	order = malloc(sizeof(*order) * (ft->n_routes + 1));
	if (order == NULL)
		return build_err(b, -ENOMEM, "routes: out of memory");
	for (i = 0; i < ft->n_routes; i++)
		pos[ft->routes[i].len + 1]++;
	for (k = 1; k < RTE_DIM(pos); k++)
		pos[k] += pos[k - 1];
	for (i = 0; i < ft->n_routes; i++)
		order[pos[ft->routes[i].len]++] = i;
	for (k = 0; k < ft->n_routes; k++) {
		const struct tg_route_info *r = &ft->routes[order[k]];

		rc = rte_fib_add(ft->fib, r->prefix, r->len, r->nh);
		if (rc < 0) {
			rc = route_fail(
				b, rc, b->rt_src[order[k]], r->prefix, r->len);
			break;
		}
	}
	free(order);
	return rc;
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
		rc = build_routes(&b, env, socket);
	if (rc == 0) {
		build_nh_copies(&b);
		rc = build_fib(&b, socket);
	}
	free(b.nh_hash);
	free(b.rt_hash);
	free(b.t8_hash);
	free(b.rt_src);
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
	rte_fib_free(ft->fib);
	rte_free(ft->nh);
	rte_free(ft->routes);
	rte_free(ft->statics);
	rte_free(ft);
}
