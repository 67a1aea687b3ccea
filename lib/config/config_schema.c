/* SPDX-License-Identifier: BSD-3-Clause
 * The schema: every key of every section with its type, range and
 * default, the syntax of single values (addresses, names, devices), and
 * the walkers that fill the model's lists. Driven by config_parse.c.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

const char *const tg_cfg_stage_names[TG_CFG_N_STAGES] = {
	"forward", "filter", "natfw", "ipsec", "localfilter"};

#define DIGITS "0123456789"
#define HEX    "0123456789abcdefABCDEF"
#define ALNUM  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS

/* ------------------------------------------------------- single values */

/* Dotted quad, decimal, no leading zeros (inet_aton would read 010 as
 * octal): stops at the first character after it. */
static const char *
ipv4_scan(const char *s, uint32_t *addr)
{
	uint32_t a = 0;
	int i;

	for (i = 0; i < 4; i++) {
		size_t n;
		unsigned long v;

		if (i > 0 && *s++ != '.')
			return NULL;
		n = strspn(s, DIGITS);
		if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
			return NULL;
		v = strtoul(s, NULL, 10);
		if (v > 255)
			return NULL;
		a = a << 8 | (uint32_t)v;
		s += n;
	}
	*addr = a;
	return s;
}

bool
tg_cfg_ipv4_parse(const char *s, uint32_t *addr)
{
	s = ipv4_scan(s, addr);
	return s != NULL && *s == '\0';
}

/* "a.b.c.d/len", len 0..32 */
bool
tg_cfg_prefix_parse(const char *s, uint32_t *addr, uint32_t *len)
{
	size_t n;

	s = ipv4_scan(s, addr);
	if (s == NULL || *s++ != '/')
		return false;
	n = strspn(s, DIGITS);
	if (n == 0 || n > 2 || s[n] != '\0' || (n > 1 && s[0] == '0'))
		return false;
	*len = (uint32_t)strtoul(s, NULL, 10);
	return *len <= 32;
}

uint32_t
tg_cfg_mask(uint32_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* Not 0/8 ("this network"), 127/8 (loopback), 224/4 and up (multicast,
 * reserved, broadcast): none of them is a host on a link. */
static bool
ipv4_unicast(uint32_t a)
{
	uint32_t first = a >> 24;

	return first != 0 && first != 127 && first < 224;
}

void
tg_cfg_ipv4_fmt(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		(a >> 8) & 0xff, a & 0xff);
}

static bool
check_name(const char *s, void *dst, char *msg, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TG_NAME_MAX || strspn(s, ALNUM "_-") != n) {
		snprintf(msg, len,
			"invalid name '%.40s': use 1..%d characters from "
			"A-Z a-z 0-9 _ -",
			s, TG_NAME_MAX - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

/* The set of an EAL "-l" list ("0-1", "0,2-3"); NULL or a message. */
const char *
tg_cfg_lcores_parse(const char *s, uint64_t set[2])
{
	set[0] = set[1] = 0;
	while (*s != '\0') {
		unsigned long a, b, i;
		size_t n = strspn(s, DIGITS);

		if (n == 0 || n > 3)
			return "expected lcore ids and ranges like 0-1 or "
			       "0,2-3";
		a = b = strtoul(s, NULL, 10);
		s += n;
		if (*s == '-') {
			n = strspn(++s, DIGITS);
			if (n == 0 || n > 3)
				return "expected lcore ids and ranges like 0-1 "
				       "or 0,2-3";
			b = strtoul(s, NULL, 10);
			s += n;
		}
		if (a > b)
			return "a range must go upwards (like 1-3)";
		if (b >= TG_MAX_LCORES)
			return "lcore ids must be below 128";
		for (i = a; i <= b; i++)
			set[i / 64] |= 1ull << (i % 64);
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return "expected lcore ids and ranges like 0-1 or "
			       "0,2-3";
	}
	return NULL;
}

static bool
check_lcores(const char *s, void *dst, char *msg, size_t len)
{
	size_t max = sizeof(((struct tg_cfg_dpdk *)0)->lcores);
	uint64_t set[2];
	const char *err;

	if (strlen(s) >= max) {
		snprintf(msg, len, "too long: %zu characters (at most %zu)",
			strlen(s), max - 1);
		return false;
	}
	err = tg_cfg_lcores_parse(s, set);
	if (err != NULL) {
		snprintf(msg, len, "invalid lcore list '%s': %s", s, err);
		return false;
	}
	memcpy(dst, s, strlen(s) + 1);
	return true;
}

/* It names a directory under /var/run/dpdk. */
static bool
check_file_prefix(const char *s, void *dst, char *msg, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct tg_cfg_dpdk *)0)->file_prefix) ||
		s[0] == '.' || strspn(s, ALNUM "_.-") != n) {
		snprintf(msg, len,
			"invalid file prefix '%.40s': use 1..63 characters "
			"from A-Z a-z 0-9 _ . - (not starting with '.')",
			s);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

/* [DDDD:]BB:DD.F with an optional ",devargs" tail, as EAL's -a takes. */
static bool
is_pci(const char *s)
{
	size_t n = strspn(s, HEX);

	if (s[n] == ':' && n >= 4 && n <= 8) {
		s += n + 1;
		n = strspn(s, HEX);
	}
	if (n != 2 || s[2] != ':' || strspn(s + 3, HEX) != 2 || s[5] != '.')
		return false;
	if (strtoul(s + 3, NULL, 16) > 0x1f)
		return false;
	return s[6] >= '0' && s[6] <= '7' && (s[7] == '\0' || s[7] == ',');
}

static bool
check_device(const char *s, void *dst, char *msg, size_t len)
{
	struct tg_cfg_port *p = dst;
	size_t n = strcspn(s, ","), max = sizeof(p->device);
	const char *why = NULL;

	if (strlen(s) >= max) {
		snprintf(msg, len, "too long: %zu characters (at most %zu)",
			strlen(s), max - 1);
		return false;
	}
	p->is_pci = is_pci(s);
	if (p->is_pci)
		;
	else if (n == 0)
		why = "the driver name before ',' is empty";
	else if (strncmp(s, "net_", 4) != 0)
		why = "expected a PCI address (0000:01:00.0) or a vdev string "
		      "starting with net_ (net_pcap0,iface=eth0)";
	else if (n == 4 || strspn(s, ALNUM "_") < n)
		why = "the driver name after net_ must be A-Z a-z 0-9 _ "
		      "(like net_pcap0)";
	if (why != NULL) {
		snprintf(msg, len, "invalid device '%.60s': %s", s, why);
		return false;
	}
	memcpy(p->device, s, strlen(s) + 1);
	return true;
}

static bool
check_if_address(const char *s, void *dst, char *msg, size_t len)
{
	struct tg_cfg_iface *f = dst;
	uint32_t a, plen, host;
	char net[16];

	if (!tg_cfg_prefix_parse(s, &a, &plen) || plen == 0) {
		snprintf(msg, len,
			"invalid address '%.40s': expected a.b.c.d/len with "
			"len 1..32",
			s);
		return false;
	}
	if (!ipv4_unicast(a)) {
		snprintf(msg, len, "'%s' is not a unicast host address", s);
		return false;
	}
	host = a & ~tg_cfg_mask(plen);
	if (plen <= 30 && (host == 0 || host == ~tg_cfg_mask(plen))) {
		tg_cfg_ipv4_fmt(a & tg_cfg_mask(plen), net);
		snprintf(msg, len,
			"'%s' is the %s address of %s/%u: use a host address",
			s, host == 0 ? "network" : "broadcast", net, plen);
		return false;
	}
	f->addr = a;
	f->prefix_len = (uint8_t)plen;
	return true;
}

static bool
check_prefix(const char *s, void *dst, char *msg, size_t len)
{
	struct tg_cfg_route *r = dst;
	uint32_t a, plen;
	char net[16];

	if (!tg_cfg_prefix_parse(s, &a, &plen)) {
		snprintf(msg, len,
			"invalid prefix '%.40s': expected a.b.c.d/len with len "
			"0..32",
			s);
		return false;
	}
	if ((a & ~tg_cfg_mask(plen)) != 0) {
		tg_cfg_ipv4_fmt(a & tg_cfg_mask(plen), net);
		snprintf(msg, len,
			"host bits are set in '%s': the prefix should be %s/%u",
			s, net, plen);
		return false;
	}
	r->prefix = a;
	r->len = (uint8_t)plen;
	return true;
}

/* A gateway or a neighbor: one host. */
static bool
check_host(const char *s, void *dst, char *msg, size_t len)
{
	uint32_t a;

	if (!tg_cfg_ipv4_parse(s, &a)) {
		snprintf(msg, len, "invalid address '%.40s': expected a.b.c.d",
			s);
		return false;
	}
	if (!ipv4_unicast(a)) {
		snprintf(msg, len, "'%s' is not a unicast host address", s);
		return false;
	}
	*(uint32_t *)dst = a;
	return true;
}

static bool
check_mac(const char *s, void *dst, char *msg, size_t len)
{
	uint8_t m[6];
	const char *why = NULL;
	int i;

	for (i = 0; i < 6 && why == NULL; i++) {
		const char *p = s + 3 * i;

		if (strspn(p, HEX) < 2 || p[2] != (i < 5 ? ':' : '\0'))
			why = "expected six hex pairs like 02:00:00:00:00:01";
		else
			m[i] = (uint8_t)strtoul(p, NULL, 16);
	}
	if (why == NULL && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0)
		why = "the zero address is not a station";
	else if (why == NULL && (m[0] & 1))
		why = "a multicast or broadcast address is not a station";
	if (why != NULL) {
		snprintf(msg, len, "invalid MAC address '%.40s': %s", s, why);
		return false;
	}
	memcpy(dst, m, sizeof(m));
	return true;
}

/* clang-format off */
#define SIZE(st, m) sizeof(((st *)0)->m)
#define F_UINT(k, st, m, lo, hi, fl) {.key = k, .type = TG_CFG_FT_UINT, \
	.flags = fl, .size = SIZE(st, m), .off = offsetof(st, m), \
	.min = lo, .max = hi}
#define F_BOOL(k, st, m) {.key = k, .type = TG_CFG_FT_BOOL, \
	.off = offsetof(st, m)}
#define F_STR(k, st, m) {.key = k, .type = TG_CFG_FT_STR, \
	.size = SIZE(st, m), .off = offsetof(st, m)}
#define F_CHECK(k, off_, chk, fl) {.key = k, .type = TG_CFG_FT_CHECK, \
	.flags = fl, .off = off_, .check = chk}
#define F_REF(k) {.key = k, .type = TG_CFG_FT_REF, \
	.flags = TG_CFG_FF_REQUIRED}
#define F_MAP(k, m, t) {.key = k, .type = TG_CFG_FT_MAP, \
	.off = offsetof(struct tg_config, m), .sub = t, .n_sub = N_FIELDS(t)}
#define F_FN(k, f, fl) {.key = k, .type = TG_CFG_FT_FN, .flags = fl, .fn = f}
#define F_TODO(k) {.key = k, .type = TG_CFG_FT_TODO}
#define N_FIELDS(t) (sizeof(t) / sizeof((t)[0]))
#define REQ TG_CFG_FF_REQUIRED
#define POW2 TG_CFG_FF_POW2
/* clang-format on */

/* --------------------------------------------------------------- sections */

static bool
arg_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_dpdk *d = arg;

	if (tg_cfg_get_str_buf(
		    c, item, d->extra[d->n_extra], sizeof(d->extra[0])))
		d->n_extra++;
	return true;
}

static bool
fn_eal_args(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return tg_cfg_for_each(
		c, v, TG_MAX_EAL_ARGS, "arguments", arg_item, base);
}

/* clang-format off */
static const struct tg_cfg_field dpdk_fields[] = {
	F_CHECK("lcores", offsetof(struct tg_cfg_dpdk, lcores),
		check_lcores, 0),
	F_UINT("memory_mb", struct tg_cfg_dpdk, memory_mb, 0, 1u << 20, 0),
	F_BOOL("no_huge", struct tg_cfg_dpdk, no_huge),
	F_CHECK("file_prefix", offsetof(struct tg_cfg_dpdk, file_prefix),
		check_file_prefix, 0),
	F_STR("log_level", struct tg_cfg_dpdk, log_level),
	F_FN("args", fn_eal_args, 0),
};

static const struct tg_cfg_field mempool_fields[] = {
	F_UINT("mbufs", struct tg_cfg_mempool, mbufs, 1023, 16777215, 0),
	F_UINT("cache", struct tg_cfg_mempool, cache, 0, 512, 0),
	F_UINT("data_room", struct tg_cfg_mempool, data_room, 1024, 16384, 0),
};

enum { PORT_NAME, PORT_DEVICE };
static const struct tg_cfg_field port_fields[] = {
	[PORT_NAME] = F_CHECK("name", offsetof(struct tg_cfg_port, name),
		check_name, REQ),
	[PORT_DEVICE] = F_CHECK("device", 0, check_device, REQ),
	F_UINT("rx_queues", struct tg_cfg_port, rx_queues, 1, TG_CFG_MAX_RXQ,
		0),
	F_UINT("rx_desc", struct tg_cfg_port, rx_desc, 64, 16384, POW2),
	F_UINT("tx_desc", struct tg_cfg_port, tx_desc, 64, 16384, POW2),
};

enum { IF_NAME, IF_PORT, IF_ADDRESS };
static const struct tg_cfg_field iface_fields[] = {
	[IF_NAME] = F_CHECK("name", offsetof(struct tg_cfg_iface, name),
		check_name, REQ),
	[IF_PORT] = F_REF("port"),
	[IF_ADDRESS] = F_CHECK("address", 0, check_if_address, REQ),
	F_UINT("mtu", struct tg_cfg_iface, mtu, 68, 9000, 0),
	F_FN("filters", tg_cfg_filters_walk, 0),
};

enum { RT_PREFIX, RT_VIA, RT_IFACE };
static const struct tg_cfg_field route_fields[] = {
	[RT_PREFIX] = F_CHECK("prefix", 0, check_prefix, REQ),
	[RT_VIA] = F_CHECK("via", offsetof(struct tg_cfg_route, via),
		check_host, 0),
	[RT_IFACE] = F_REF("interface"),
};

enum { NB_ADDRESS, NB_MAC, NB_IFACE };
static const struct tg_cfg_field neighbor_fields[] = {
	[NB_ADDRESS] = F_CHECK("address",
		offsetof(struct tg_cfg_neighbor, addr), check_host, REQ),
	[NB_MAC] = F_CHECK("mac", offsetof(struct tg_cfg_neighbor, mac),
		check_mac, REQ),
	[NB_IFACE] = F_REF("interface"),
};

static const struct tg_cfg_field arp_fields[] = {
	F_UINT("reachable_s", struct tg_cfg_arp, reachable_s, 1, 86400, 0),
	F_UINT("retry_ms", struct tg_cfg_arp, retry_ms, 10, 60000, 0),
	F_UINT("max_retries", struct tg_cfg_arp, max_retries, 1, 10, 0),
	F_UINT("failed_hold_s", struct tg_cfg_arp, failed_hold_s, 0, 3600, 0),
	F_UINT("hold_packets", struct tg_cfg_arp, hold_packets, 0,
		TG_CFG_ARP_HOLD_MAX, 0),
	F_UINT("max_neighbors", struct tg_cfg_arp, max_neighbors, 16, 1048576,
		0),
};

static const struct tg_cfg_field icmp_fields[] = {
	F_BOOL("ttl_exceeded", struct tg_cfg_icmp, ttl_exceeded),
	F_BOOL("unreachable", struct tg_cfg_icmp, unreachable),
	F_UINT("rate", struct tg_cfg_icmp, rate, 0, 1000000, 0),
	F_UINT("burst", struct tg_cfg_icmp, burst, 1, 100000, 0),
};

static const struct tg_cfg_field limits_fields[] = {
	F_UINT("max_routes", struct tg_cfg_limits, max_routes, 1, 16777216, 0),
	F_UINT("lpm_tbl8", struct tg_cfg_limits, lpm_tbl8, 1, 65536, 0),
};
/* clang-format on */

static bool
port_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_port *p = &c->cfg->ports[c->cfg->n_ports++];
	struct tg_cfg_seen s[N_FIELDS(port_fields)];

	p->rx_queues = 1;
	p->rx_desc = 1024;
	p->tx_desc = 1024;
	p->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, port_fields, N_FIELDS(port_fields), p, s);
	c->port[i].name = tg_cfg_seen_pos(&s[PORT_NAME], p->pos);
	c->port[i].device = tg_cfg_seen_pos(&s[PORT_DEVICE], p->pos);
	p->device_pos = c->port[i].device;
	return true;
}

static bool
fn_ports(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	if (v->type == YAML_SEQUENCE_NODE && tg_cfg_list_len(v) == 0) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"at least one port is required");
		return false;
	}
	return tg_cfg_for_each(c, v, TG_MAX_PORTS, "ports", port_item, NULL);
}

static bool
iface_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_iface *f = &c->cfg->ifaces[c->cfg->n_ifaces++];
	struct tg_cfg_seen s[N_FIELDS(iface_fields)];

	f->mtu = 1500;
	f->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, iface_fields, N_FIELDS(iface_fields), f, s);
	c->iface[i].name = tg_cfg_seen_pos(&s[IF_NAME], f->pos);
	c->iface[i].address = tg_cfg_seen_pos(&s[IF_ADDRESS], f->pos);
	c->iface[i].addr_ok = s[IF_ADDRESS].ok;
	c->iface[i].port = tg_cfg_seen_ref(&s[IF_PORT]);
	return true;
}

static bool
fn_ifaces(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return tg_cfg_for_each(
		c, v, TG_MAX_PORTS, "interfaces", iface_item, NULL);
}

static bool
route_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_route *r = &c->cfg->routes[i];
	struct tg_cfg_src_route *src = &c->route[i];
	struct tg_cfg_seen s[N_FIELDS(route_fields)];

	r->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, route_fields, N_FIELDS(route_fields), r, s);
	src->prefix = tg_cfg_seen_pos(&s[RT_PREFIX], r->pos);
	src->prefix_ok = s[RT_PREFIX].ok;
	src->via = tg_cfg_seen_pos(&s[RT_VIA], r->pos);
	src->via_ok = s[RT_VIA].ok;
	src->iface = tg_cfg_seen_ref(&s[RT_IFACE]);
	return true;
}

static bool
neighbor_item(
	struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_neighbor *nb = &c->cfg->neighbors[i];
	struct tg_cfg_src_neighbor *src = &c->neighbor[i];
	struct tg_cfg_seen s[N_FIELDS(neighbor_fields)];

	nb->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(
		c, item, neighbor_fields, N_FIELDS(neighbor_fields), nb, s);
	src->addr = tg_cfg_seen_pos(&s[NB_ADDRESS], nb->pos);
	src->addr_ok = s[NB_ADDRESS].ok;
	src->iface = tg_cfg_seen_ref(&s[NB_IFACE]);
	return true;
}

/* routes: and neighbors: can be long: their arrays are sized from the
 * list, with a side array for the positions validation needs. */
static bool
fn_routes(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	size_t n = tg_cfg_list_len(v);

	c->routes_pos = tg_cfg_node_pos(v);
	if (n > 0) {
		c->cfg->routes = calloc(n, sizeof(*c->cfg->routes));
		c->route = calloc(n, sizeof(*c->route));
		if (c->cfg->routes == NULL || c->route == NULL) {
			c->nomem = true;
			return false;
		}
		c->cfg->n_routes = (uint32_t)n;
	}
	return tg_cfg_for_each(c, v, UINT32_MAX, "routes", route_item, NULL);
}

static bool
fn_neighbors(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	size_t n = tg_cfg_list_len(v);

	c->neighbors_pos = tg_cfg_node_pos(v);
	if (n > 0) {
		c->cfg->neighbors = calloc(n, sizeof(*c->cfg->neighbors));
		c->neighbor = calloc(n, sizeof(*c->neighbor));
		if (c->cfg->neighbors == NULL || c->neighbor == NULL) {
			c->nomem = true;
			return false;
		}
		c->cfg->n_neighbors = (uint32_t)n;
	}
	return tg_cfg_for_each(
		c, v, UINT32_MAX, "neighbors", neighbor_item, NULL);
}

/* ------------------------------------------------------------- pipeline */

/* "PORT" (queue 0) or "PORT:QUEUE"; the name is resolved by validation. */
static bool
rxq_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_src_placement *src = arg;
	struct tg_cfg_src_rxq *q = &src->ports[src->n_ports++];
	const char *s = tg_cfg_get_str(c, item), *colon, *d;
	size_t len;

	q->port.pos = tg_cfg_node_pos(item);
	if (s == NULL)
		return true;
	colon = strchr(s, ':');
	len = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (colon != NULL) {
		d = colon + 1;
		if (d[0] == '\0' || strlen(d) > 5 ||
			strspn(d, DIGITS) != strlen(d) ||
			(d[0] == '0' && d[1] != '\0'))
			len = 0;
		else
			q->queue = (uint32_t)strtoul(d, NULL, 10);
	}
	if (len == 0) {
		tg_cfg_err(c, q->port.pos, NULL,
			"expected PORT or PORT:QUEUE (like p0 or p0:1), got "
			"'%.40s'",
			s);
		return true;
	}
	q->port.name = s;
	q->port.len = (uint32_t)len;
	q->ok = true;
	return true;
}

static bool
stage_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_src_placement *src = arg;
	struct tg_cfg_src_stage *st = &src->stages[src->n_stages++];
	const char *s = tg_cfg_get_str(c, item);
	unsigned int k = TG_CFG_N_STAGES;

	st->pos = tg_cfg_node_pos(item);
	if (s != NULL) {
		for (k = 0; k < TG_CFG_N_STAGES; k++)
			if (strcmp(s, tg_cfg_stage_names[k]) == 0)
				break;
		if (k == TG_CFG_N_STAGES)
			tg_cfg_err(c, st->pos, NULL,
				"unknown stage '%.40s' (stages: forward, "
				"filter, natfw, ipsec, localfilter)",
				s);
	}
	st->stage = (uint8_t)k;
	return true;
}

static struct tg_cfg_src_placement *
placement_src(struct tg_cfg_ctx *c, void *base)
{
	return &c->placement[(struct tg_cfg_placement *)base -
			     c->cfg->pipeline.placement];
}

static bool
fn_pl_ports(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_placement *src = placement_src(c, base);

	if (v->type == YAML_SEQUENCE_NODE) {
		src->ports =
			calloc(tg_cfg_list_len(v) + 1, sizeof(*src->ports));
		if (src->ports == NULL) {
			c->nomem = true;
			return false;
		}
	}
	return tg_cfg_for_each(c, v, SIZE_MAX, "ports", rxq_item, src);
}

static bool
fn_pl_stages(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_placement *src = placement_src(c, base);

	if (v->type == YAML_SEQUENCE_NODE) {
		src->stages =
			calloc(tg_cfg_list_len(v) + 1, sizeof(*src->stages));
		if (src->stages == NULL) {
			c->nomem = true;
			return false;
		}
	}
	return tg_cfg_for_each(c, v, SIZE_MAX, "stages", stage_item, src);
}

enum { PL_LCORE, PL_PORTS, PL_STAGES };
static const struct tg_cfg_field placement_fields[] = {
	[PL_LCORE] = F_UINT("lcore", struct tg_cfg_placement, lcore, 0,
		TG_MAX_LCORES - 1, REQ),
	[PL_PORTS] = F_FN("ports", fn_pl_ports, 0),
	[PL_STAGES] = F_FN("stages", fn_pl_stages, 0),
};

static bool
placement_item(
	struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_pipeline *pl = arg;
	struct tg_cfg_placement *p = &pl->placement[pl->n_placement++];
	struct tg_cfg_seen s[N_FIELDS(placement_fields)];

	p->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(
		c, item, placement_fields, N_FIELDS(placement_fields), p, s);
	c->placement[i].lcore = tg_cfg_seen_pos(&s[PL_LCORE], p->pos);
	c->placement[i].lcore_ok = s[PL_LCORE].ok;
	c->placement[i].bad_list = (s[PL_PORTS].node && !s[PL_PORTS].ok) ||
				   (s[PL_STAGES].node && !s[PL_STAGES].ok);
	return true;
}

static bool
fn_placement(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	c->placement_pos = tg_cfg_node_pos(v);
	if (v->type == YAML_SEQUENCE_NODE && tg_cfg_list_len(v) == 0) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"expected at least one entry (leave placement out for "
			"the default placement)");
		return false;
	}
	return tg_cfg_for_each(
		c, v, TG_MAX_LCORES, "entries", placement_item, base);
}

static const struct tg_cfg_field pipeline_fields[] = {
	F_UINT("burst", struct tg_cfg_pipeline, burst, 1, 64, 0),
	F_UINT("ring_size", struct tg_cfg_pipeline, ring_size, 64, 65536, POW2),
	F_BOOL("bypass_idle_stages", struct tg_cfg_pipeline,
		bypass_idle_stages),
	F_UINT("filter_cache", struct tg_cfg_pipeline, filter_cache, 0,
		16777216, 0),
	F_UINT("idle_sleep_us", struct tg_cfg_pipeline, idle_sleep_us, 0,
		100000, 0),
	F_FN("placement", fn_placement, 0),
};

/* ----------------------------------------------------------------- host */

static bool
check_host_type(const char *s, void *dst, char *msg, size_t len)
{
	if (strcmp(s, "tun") != 0 && strcmp(s, "tap") != 0) {
		snprintf(msg, len,
			"unknown host port type '%.40s': tun (bare IP, the "
			"default) or tap (Ethernet)",
			s);
		return false;
	}
	*(bool *)dst = strcmp(s, "tap") == 0;
	return true;
}

/* What the kernel takes as an interface name (dev_valid_name()), kept to
 * characters that need no quoting in a shell or a devargs string. */
static bool
check_ifname(const char *s, void *dst, char *msg, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TG_CFG_IFNAME_MAX || strspn(s, ALNUM "_.-") != n ||
		strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		snprintf(msg, len,
			"invalid interface name '%.40s': use 1..%d characters "
			"from A-Z a-z 0-9 _ . - (not . or ..)",
			s, TG_CFG_IFNAME_MAX - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

/* A name under /run/netns (ip netns add NAME). */
static bool
check_netns(const char *s, void *dst, char *msg, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= TG_CFG_NETNS_MAX || s[0] == '.' ||
		strspn(s, ALNUM "_.-") != n) {
		snprintf(msg, len,
			"invalid network namespace '%.40s': a name as `ip "
			"netns add` takes, 1..%d characters from A-Z a-z 0-9 _ "
			". - (not starting with '.')",
			s, TG_CFG_NETNS_MAX - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

enum { HOST_DEFAULT_ROUTE = 6 };
/* clang-format off */
static const struct tg_cfg_field host_fields[] = {
	F_CHECK("type", offsetof(struct tg_cfg_host, tap), check_host_type, 0),
	F_CHECK("ifname", offsetof(struct tg_cfg_host, ifname), check_ifname,
		0),
	F_CHECK("netns", offsetof(struct tg_cfg_host, netns), check_netns, 0),
	F_UINT("queue_size", struct tg_cfg_host, queue_size, 64, 16384, POW2),
	F_UINT("poll_us", struct tg_cfg_host, poll_us, 1, 100000, 0),
	F_BOOL("routes", struct tg_cfg_host, routes),
	[HOST_DEFAULT_ROUTE] = F_BOOL("default_route", struct tg_cfg_host,
		default_route),
};
/* clang-format on */

static bool
fn_host(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_host *h = &c->cfg->host;
	struct tg_cfg_seen s[N_FIELDS(host_fields)];
	bool ok;

	h->enabled = true;
	h->pos = tg_cfg_node_pos(v);
	ok = tg_cfg_walk_map(c, v, host_fields, N_FIELDS(host_fields), h, s);
	/* Only a namespace of its own gets the default route unasked. */
	if (s[HOST_DEFAULT_ROUTE].node == NULL)
		h->default_route = h->netns[0] != '\0';
	return ok;
}

/* clang-format off */
static const struct tg_cfg_field top_fields[] = {
	F_MAP("dpdk", dpdk, dpdk_fields),
	F_MAP("mempool", mempool, mempool_fields),
	F_FN("ports", fn_ports, REQ),
	F_FN("interfaces", fn_ifaces, 0),
	F_FN("routes", fn_routes, 0),
	F_FN("neighbors", fn_neighbors, 0),
	F_MAP("arp", arp, arp_fields),
	F_MAP("icmp", icmp, icmp_fields),
	F_MAP("pipeline", pipeline, pipeline_fields),
	F_MAP("limits", limits, limits_fields),
	F_FN("local_filter", tg_cfg_local_filter_walk, 0),
	F_FN("host", fn_host, 0),
	F_FN("nat", tg_cfg_nat_walk, 0),
	F_FN("firewall", tg_cfg_firewall_walk, 0),
	F_FN("ipsec", tg_cfg_ipsec_walk, 0),
};
/* clang-format on */

_Static_assert(
	N_FIELDS(top_fields) <= TG_CFG_MAX_FIELDS, "raise TG_CFG_MAX_FIELDS");

void
tg_cfg_schema_defaults(struct tg_config *cfg)
{
	cfg->mempool.mbufs = 8191;
	cfg->mempool.cache = 256;
	cfg->mempool.data_room = 2176; /* RTE_MBUF_DEFAULT_BUF_SIZE */
	cfg->pipeline.burst = 32;
	cfg->pipeline.ring_size = 1024;
	cfg->pipeline.bypass_idle_stages = true;
	cfg->pipeline.filter_cache = 49152;
	cfg->arp.reachable_s = 300;
	cfg->arp.retry_ms = 1000;
	cfg->arp.max_retries = 3;
	cfg->arp.failed_hold_s = 3;
	cfg->arp.hold_packets = 4;
	cfg->arp.max_neighbors = 4096;
	cfg->icmp.ttl_exceeded = true;
	cfg->icmp.unreachable = true;
	cfg->icmp.rate = 100;
	cfg->icmp.burst = 50;
	cfg->limits.max_routes = 1024;
	cfg->limits.lpm_tbl8 = 256;
	/* accept all without the section; a present one turns it on */
	cfg->local_filter.enabled = false;
	snprintf(cfg->host.ifname, sizeof(cfg->host.ifname), "tg-host");
	cfg->host.queue_size = 1024;
	cfg->host.poll_us = 50;
	cfg->host.routes = true;
	tg_cfg_natfw_defaults(cfg); /* both sections off without them */
	tg_cfg_ipsec_defaults(cfg);
}

void
tg_cfg_schema_walk(struct tg_cfg_ctx *c, const yaml_node_t *root)
{
	tg_cfg_walk_map(
		c, root, top_fields, N_FIELDS(top_fields), c->cfg, NULL);
}
