/* SPDX-License-Identifier: BSD-3-Clause
 * The /tollgate/ telemetry commands. They run on DPDK's telemetry thread:
 * snapshot reads hold the control lock (the only place snapshots are
 * freed), counters are read without locks (one writer per counter).
 * Telemetry dict keys may not contain '.', so a counter named
 * "forward.no_route" appears as {"forward": {"no_route": N}}; and DPDK
 * 22.11 nests only arrays of scalars inside arrays, so paged tables are
 * dicts keyed by the entry's index ({"routes": {"0": {...}, ...}}).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "control_tel.h"
#include "tg_control.h"
#include "tg_natfw.h"
#include "tg_pipeline.h"

/* DPDK's telemetry callbacks carry no context pointer. */
struct tg_control *tg_tel_ctl;

void
tg_tel_ip_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff,
		(a >> 8) & 0xff, a & 0xff);
}

/*
 * DPDK 22.11's JSON writer mangles bytes >= 0x80 (it takes them for
 * control characters and writes invalid escapes): every string that may
 * come from a user — file names, error messages quoting the YAML — goes
 * through here first. Non-ASCII and control bytes become '?'.
 */
const char *
tg_tel_ascii(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 ||
				 (unsigned char)s[i] >= 0x7f)
				 ? '?'
				 : s[i];
	buf[i] = '\0';
	return buf;
}

int
tg_tel_reply_error(struct rte_tel_data *d, const char *msg)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", msg);
	return 0;
}

void
tg_tel_put_str(struct tg_tel_sized *s, const char *key, const char *val)
{
	rte_tel_data_add_dict_string(s->d, key, val);
	s->used += strlen(key) + strlen(val) + 6;
}

void
tg_tel_put_u64(struct tg_tel_sized *s, const char *key, uint64_t v)
{
	char buf[24];

	rte_tel_data_add_dict_u64(s->d, key, v);
	s->used += strlen(key) +
		   (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, v) + 4;
}

void
tg_tel_put_ip(struct tg_tel_sized *s, const char *key, uint32_t a)
{
	char ip[16];

	tg_tel_ip_str(a, ip, sizeof(ip));
	tg_tel_put_str(s, key, ip);
}

/* "START" or "START,COUNT" (decimal). Returns 0 or -EINVAL. */
int
tg_tel_parse_page(const char *params, uint32_t *start, uint32_t *count)
{
	unsigned long long v;
	char *end;

	*start = 0;
	*count = PAGE_DEFAULT;
	if (params == NULL || *params == '\0')
		return 0;
	if (*params < '0' || *params > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(params, &end, 10);
	if (errno != 0 || v > UINT32_MAX)
		return -EINVAL;
	*start = (uint32_t)v;
	if (*end == '\0')
		return 0;
	if (*end != ',' || end[1] < '0' || end[1] > '9')
		return -EINVAL;
	v = strtoull(end + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return -EINVAL;
	*count = v > PAGE_MAX ? PAGE_MAX : (uint32_t)v;
	return 0;
}

/* Add "a.b.c" = val into d as d[a][b][c], creating the inner dicts on
 * the way (node[] holds them until nested_attach()). Names have at most
 * three parts ("filter.in.denied"). */

struct nested {
	uint16_t n;
	struct {
		char name[32];
		int16_t parent; /* node index, -1: the top */
		struct rte_tel_data *d;
	} node[48];
};

static void
nested_add(struct nested *ns, const char *dotted, uint64_t val)
{
	const char *part = dotted, *dot;
	int16_t cur = -1;
	char name[32];
	uint16_t i;

	while ((dot = strchr(part, '.')) != NULL) {
		if ((size_t)(dot - part) >= sizeof(name))
			return;
		memcpy(name, part, dot - part);
		name[dot - part] = '\0';
		for (i = 0; i < ns->n; i++)
			if (ns->node[i].parent == cur &&
				strcmp(ns->node[i].name, name) == 0)
				break;
		if (i == ns->n) {
			if (ns->n == RTE_DIM(ns->node))
				return;
			ns->node[i].d = rte_tel_data_alloc();
			if (ns->node[i].d == NULL)
				return;
			rte_tel_data_start_dict(ns->node[i].d);
			snprintf(ns->node[i].name, sizeof(ns->node[i].name),
				"%s", name);
			ns->node[i].parent = cur;
			ns->n++;
		}
		cur = (int16_t)i;
		part = dot + 1;
	}
	if (cur >= 0) /* every name has an owner */
		rte_tel_data_add_dict_u64(ns->node[cur].d, part, val);
}

static void
nested_attach(struct nested *ns, struct rte_tel_data *d, const char *name)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	uint16_t i;

	if (c == NULL)
		return;
	rte_tel_data_start_dict(c);
	for (i = 0; i < ns->n; i++)
		rte_tel_data_add_dict_container(
			ns->node[i].parent < 0 ? c
					       : ns->node[ns->node[i].parent].d,
			ns->node[i].name, ns->node[i].d, 0);
	rte_tel_data_add_dict_container(d, name, c, 0);
}

static void
add_ports(struct rte_tel_data *d, const struct tg_config *cfg)
{
	struct rte_tel_data *ports = rte_tel_data_alloc();
	uint16_t i;

	if (ports == NULL)
		return;
	rte_tel_data_start_dict(ports);
	for (i = 0; i < cfg->n_ports && i < tg_tel_ctl->env.n_ports; i++) {
		struct rte_tel_data *p = rte_tel_data_alloc();
		struct rte_eth_stats st;

		if (p == NULL)
			break;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_int(
			p, "port_id", tg_tel_ctl->env.port_id[i]);
		if (rte_eth_stats_get(tg_tel_ctl->env.port_id[i], &st) == 0) {
			rte_tel_data_add_dict_u64(p, "rx_packets", st.ipackets);
			rte_tel_data_add_dict_u64(p, "tx_packets", st.opackets);
			rte_tel_data_add_dict_u64(p, "rx_bytes", st.ibytes);
			rte_tel_data_add_dict_u64(p, "tx_bytes", st.obytes);
			rte_tel_data_add_dict_u64(p, "rx_missed", st.imissed);
			rte_tel_data_add_dict_u64(p, "rx_errors", st.ierrors);
			rte_tel_data_add_dict_u64(p, "tx_errors", st.oerrors);
			rte_tel_data_add_dict_u64(p, "rx_nombuf", st.rx_nombuf);
		}
		rte_tel_data_add_dict_container(
			ports, cfg->ports[i].name, p, 0);
	}
	rte_tel_data_add_dict_container(d, "ports", ports, 0);
}

/* The session table's counters: no pass over the records (that is
 * /tollgate/nat/summary's work), so a poll of the stats stays cheap at
 * ten million sessions. Read while the owning worker writes them: each
 * is one aligned 64-bit word. */
static void
add_nat(struct rte_tel_data *d)
{
	const struct tg_natfw_ctx *c = tg_pipeline_natfw(tg_tel_ctl->pl);
	const struct tg_nat_table *tab;
	struct rte_tel_data *x;
	size_t bytes = 0;

	if (c == NULL || c->sessions == NULL)
		return;
	tab = c->sessions;
	x = rte_tel_data_alloc();
	if (x == NULL)
		return;
	rte_tel_data_start_dict(x);
	rte_tel_data_add_dict_u64(x, "sessions", tab->stats.sessions);
	rte_tel_data_add_dict_u64(x, "mappings", tab->stats.mappings);
	rte_tel_data_add_dict_u64(x, "created", tab->stats.created);
	rte_tel_data_add_dict_u64(x, "expired", tab->stats.expired);
	rte_tel_data_add_dict_u64(x, "deleted", tab->stats.deleted);
	rte_tel_data_add_dict_u64(x, "max_sessions", tab->max_sessions);
	if (tg_nat_table_memory(tab, &bytes) == 0)
		rte_tel_data_add_dict_u64(x, "table_bytes", bytes);
	rte_tel_data_add_dict_container(d, "nat", x, 0);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct tg_lcore_stats sum; /* large: not on the stack */
	struct nested drops = {0}, counters = {0};
	struct rte_tel_data *paths, *stages;
	const struct tg_forward_ctx *fctx;
	uint16_t i;
	uint8_t s;

	if (params != NULL && *params != '\0')
		return tg_tel_reply_error(
			d, "/tollgate/stats takes no parameter");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", tg_tel_ctl->generation);
	if (tg_tel_ctl->slot.cur != NULL)
		rte_tel_data_add_dict_u64(d, "active_stages",
			tg_tel_ctl->slot.cur->active_stages);
	if (tg_tel_ctl->pl == NULL) {
		pthread_mutex_unlock(&tg_tel_ctl->lock);
		return 0;
	}
	tg_pipeline_stats_sum(tg_tel_ctl->pl, &sum);
	rte_tel_data_add_dict_u64(d, "rx", sum.rx);
	rte_tel_data_add_dict_u64(d, "tx", sum.tx);
	rte_tel_data_add_dict_u64(d, "host", sum.host);
	rte_tel_data_add_dict_u64(d, "host_rx", sum.host_rx);
	rte_tel_data_add_dict_u64(d, "generated", sum.generated);
	rte_tel_data_add_dict_u64(
		d, "in_rings", tg_pipeline_in_rings(tg_tel_ctl->pl));
	rte_tel_data_add_dict_u64(d, "iterations", sum.iterations);
	rte_tel_data_add_dict_u64(d, "busy_iterations", sum.busy_iterations);
	rte_tel_data_add_dict_u64(d, "rx_backpressure", sum.rx_backpressure);
	rte_tel_data_add_dict_u64(d, "idle_sleeps", sum.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "rx_cycles", sum.rx_cycles);
	rte_tel_data_add_dict_u64(d, "tsc_hz", rte_get_tsc_hz());

	paths = rte_tel_data_alloc();
	if (paths != NULL) {
		rte_tel_data_start_dict(paths);
		for (i = 0; i < TG_PATH__COUNT; i++) {
			struct rte_tel_data *p = rte_tel_data_alloc();

			if (p == NULL)
				break;
			rte_tel_data_start_dict(p);
			rte_tel_data_add_dict_u64(p, "entered", sum.path_rx[i]);
			rte_tel_data_add_dict_u64(
				p, "completed", sum.path_done[i]);
			rte_tel_data_add_dict_container(
				paths, tg_paths[i].name, p, 0);
		}
		rte_tel_data_add_dict_container(d, "paths", paths, 0);
	}

	stages = rte_tel_data_alloc();
	if (stages != NULL) {
		rte_tel_data_start_dict(stages);
		for (s = 0; s < TG_STAGE__COUNT; s++) {
			const struct tg_stage_stats *ss = &sum.stage[s];
			struct rte_tel_data *p = rte_tel_data_alloc();

			if (p == NULL)
				break;
			rte_tel_data_start_dict(p);
			rte_tel_data_add_dict_int(p, "lcore",
				tg_pipeline_stage_lcore(tg_tel_ctl->pl, s));
			rte_tel_data_add_dict_u64(p, "in", ss->in);
			rte_tel_data_add_dict_u64(p, "bypassed", ss->bypassed);
			rte_tel_data_add_dict_u64(p, "next", ss->next);
			rte_tel_data_add_dict_u64(p, "path_switch", ss->jumped);
			rte_tel_data_add_dict_u64(p, "direct_tx", ss->tx);
			rte_tel_data_add_dict_u64(p, "held", ss->stolen);
			rte_tel_data_add_dict_u64(p, "emitted", ss->emitted);
			rte_tel_data_add_dict_u64(p, "dropped", ss->dropped);
			rte_tel_data_add_dict_u64(p, "bursts", ss->bursts);
			rte_tel_data_add_dict_u64(p, "cycles", ss->cycles);
			rte_tel_data_add_dict_u64(
				p, "tick_cycles", ss->tick_cycles);
			rte_tel_data_add_dict_container(
				stages, tg_stage_name(s), p, 0);
		}
		rte_tel_data_add_dict_container(d, "stages", stages, 0);
	}

	for (i = 0; i < tg_drop_count(); i++)
		nested_add(&drops, tg_drop_name(i), sum.drops[i]);
	nested_attach(&drops, d, "drops");

	fctx = tg_pipeline_forward_ctx(tg_tel_ctl->pl);
	if (fctx != NULL) {
		const uint64_t *c = tg_forward_ctx_counters(fctx);

		for (i = 0; i < TG_FORWARD_CNT__COUNT; i++)
			nested_add(
				&counters, tg_forward_counter_names[i], c[i]);
	}
	nested_attach(&counters, d, "events");
	add_nat(d);
	if (tg_tel_ctl->slot.cur != NULL)
		add_ports(d, tg_tel_ctl->slot.cur->cfg);
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

static int
tel_interfaces(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_tables *t;
	char buf[64], ip[16];
	uint16_t i;

	if (params != NULL && *params != '\0')
		return tg_tel_reply_error(
			d, "/tollgate/interfaces takes no parameter");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	rte_tel_data_start_dict(d);
	for (i = 0; t != NULL && i < t->cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ci = &t->cfg->ifaces[i];
		const struct tg_iface *fi;
		struct rte_tel_data *c = rte_tel_data_alloc();
		uint16_t port_id = tg_tel_ctl->env.port_id[ci->port];

		if (c == NULL)
			break;
		fi = &t->forward->ifaces[port_id];
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(
			c, "port", t->cfg->ports[ci->port].name);
		rte_tel_data_add_dict_int(c, "port_id", port_id);
		tg_tel_ip_str(ci->addr, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "%s/%u", ip, ci->prefix_len);
		rte_tel_data_add_dict_string(c, "address", buf);
		rte_tel_data_add_dict_int(c, "mtu", ci->mtu);
		rte_ether_format_addr(buf, sizeof(buf), &fi->mac);
		rte_tel_data_add_dict_string(c, "mac", buf);
		rte_tel_data_add_dict_container(d, ci->name, c, 0);
	}
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

/* The host port: where the appliance's own stack sits and how its
 * queues and counters stand (what to look at when traffic to or from the
 * appliance itself goes missing). */
static int
tel_host(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct tg_lcore_stats sum; /* large: not on the stack */
	static const char *const drops[] = {"host.tx_full",
		"host.kernel_refused", "host.rx_full", "host.not_ipv4",
		"pipeline.no_host_port"};
	struct tg_pipeline_host_info hi;
	const struct tg_cfg_host *h;
	struct rte_tel_data *c;
	uint16_t i, k;

	if (params != NULL && *params != '\0')
		return tg_tel_reply_error(
			d, "/tollgate/host takes no parameter");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	rte_tel_data_start_dict(d);
	if (tg_tel_ctl->slot.cur == NULL || tg_tel_ctl->pl == NULL) {
		pthread_mutex_unlock(&tg_tel_ctl->lock);
		return 0;
	}
	h = &tg_tel_ctl->slot.cur->cfg->host;
	tg_pipeline_host_info(tg_tel_ctl->pl, &hi);
	rte_tel_data_add_dict_string(d, "enabled", h->enabled ? "yes" : "no");
	if (h->enabled) {
		rte_tel_data_add_dict_string(d, "type", h->tap ? "tap" : "tun");
		rte_tel_data_add_dict_string(d, "ifname", h->ifname);
		rte_tel_data_add_dict_string(d, "netns", h->netns);
		rte_tel_data_add_dict_int(d, "port_id", hi.port_id);
		rte_tel_data_add_dict_u64(d, "queue_size", hi.queue_size);
		rte_tel_data_add_dict_u64(d, "queue_used", hi.queue_used);
		rte_tel_data_add_dict_u64(d, "rx_queue_used", hi.rx_queue_used);
		rte_tel_data_add_dict_u64(d, "udp_replies", hi.udp_replies);
	}
	tg_pipeline_stats_sum(tg_tel_ctl->pl, &sum);
	rte_tel_data_add_dict_u64(d, "to_kernel", sum.host);
	rte_tel_data_add_dict_u64(d, "from_kernel", sum.host_rx);
	c = rte_tel_data_alloc();
	if (c != NULL) {
		rte_tel_data_start_dict(c);
		for (k = 0; k < RTE_DIM(drops); k++)
			for (i = 0; i < tg_drop_count(); i++)
				if (strcmp(tg_drop_name(i), drops[k]) == 0)
					rte_tel_data_add_dict_u64(
						c, drops[k], sum.drops[i]);
		rte_tel_data_add_dict_container(d, "drops", c, 0);
	}
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

static const char *
iface_name_of_port(const struct tg_tables *t, uint16_t port)
{
	if (port < RTE_MAX_ETHPORTS && t->forward->ifaces[port].configured)
		return t->forward->ifaces[port].name;
	return "?";
}

static int
tel_routes(const char *cmd, const char *params, struct rte_tel_data *d)
{
	size_t used = 0;
	static const char *const origin[] = {"connected", "static", "local"};
	const struct tg_tables *t;
	struct rte_tel_data *arr;
	uint32_t start, count, i;
	char buf[64], ip[16];

	if (tg_tel_parse_page(params, &start, &count) < 0)
		return tg_tel_reply_error(d,
			"parameter: START[,COUNT] (decimal; "
			"COUNT at most 120)");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	rte_tel_data_start_dict(d);
	if (t == NULL)
		goto out;
	rte_tel_data_add_dict_u64(d, "total", t->forward->n_routes);
	rte_tel_data_add_dict_u64(d, "start", start);
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		goto out;
	rte_tel_data_start_dict(arr);
	for (i = start; i < t->forward->n_routes && i - start < count; i++) {
		const struct tg_route_info *r = &t->forward->routes[i];
		const struct tg_nexthop *nh = &t->forward->nh[r->nh];
		struct rte_tel_data *c;

		/* keys, quotes, two addresses, the origin, the name */
		used += 120 + strlen(iface_name_of_port(t, nh->port));
		if (used > PAGE_BUDGET && i > start)
			break;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		tg_tel_ip_str(r->prefix, ip, sizeof(ip));
		snprintf(buf, sizeof(buf), "%s/%u", ip, r->len);
		rte_tel_data_add_dict_string(c, "prefix", buf);
		if (nh->type == TG_NH_VIA) {
			tg_tel_ip_str(nh->via, ip, sizeof(ip));
			rte_tel_data_add_dict_string(c, "via", ip);
		}
		rte_tel_data_add_dict_string(
			c, "interface", iface_name_of_port(t, nh->port));
		rte_tel_data_add_dict_string(c, "origin",
			r->origin < RTE_DIM(origin) ? origin[r->origin] : "?");
		snprintf(buf, sizeof(buf), "%u", i);
		rte_tel_data_add_dict_container(arr, buf, c, 0);
	}
	rte_tel_data_add_dict_container(d, "routes", arr, 0);
	if (i < t->forward->n_routes)
		rte_tel_data_add_dict_u64(d, "next", i);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

static int
tel_neighbors(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct tg_neigh_info info[PAGE_MAX];
	const struct tg_forward_ctx *fctx;
	const struct tg_tables *t;
	struct rte_tel_data *arr;
	uint32_t start, count, n, total = 0, i;
	size_t used = 0;
	char buf[64];

	if (tg_tel_parse_page(params, &start, &count) < 0)
		return tg_tel_reply_error(d,
			"parameter: START[,COUNT] (decimal; "
			"COUNT at most 120)");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	fctx = tg_tel_ctl->pl ? tg_pipeline_forward_ctx(tg_tel_ctl->pl) : NULL;
	rte_tel_data_start_dict(d);
	if (fctx == NULL || t == NULL)
		goto out;
	n = tg_forward_neighbors_read(
		fctx, rte_rdtsc(), start, info, count, &total);
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "start", start);
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		goto out;
	rte_tel_data_start_dict(arr);
	for (i = 0; i < n; i++) {
		struct rte_tel_data *c;

		/* keys, quotes, address, MAC, state, numbers, the name */
		used += 160 + strlen(iface_name_of_port(t, info[i].port));
		if (used > PAGE_BUDGET && i > 0)
			break;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		tg_tel_ip_str(info[i].addr, buf, sizeof(buf));
		rte_tel_data_add_dict_string(c, "address", buf);
		rte_ether_format_addr(buf, sizeof(buf), &info[i].mac);
		rte_tel_data_add_dict_string(c, "mac", buf);
		rte_tel_data_add_dict_string(
			c, "interface", iface_name_of_port(t, info[i].port));
		rte_tel_data_add_dict_string(
			c, "state", tg_neigh_state_names[info[i].state]);
		rte_tel_data_add_dict_int(c, "held", info[i].held);
		rte_tel_data_add_dict_u64(c, "age_ms", info[i].age_ms);
		snprintf(buf, sizeof(buf), "%u", start + i);
		rte_tel_data_add_dict_container(arr, buf, c, 0);
	}
	rte_tel_data_add_dict_container(d, "neighbors", arr, 0);
	if (start + i < total)
		rte_tel_data_add_dict_u64(d, "next", start + i);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

static int
tel_config(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char buf[RTE_TEL_MAX_STRING_LEN];
	const struct tg_tables *t;

	if (params != NULL && *params != '\0')
		return tg_tel_reply_error(
			d, "/tollgate/config takes no parameter");
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "generation", tg_tel_ctl->generation);
	rte_tel_data_add_dict_u64(
		d, "uptime_s", (uint64_t)time(NULL) - tg_tel_ctl->start_time);
	if (t != NULL) {
		rte_tel_data_add_dict_string(d, "file",
			tg_tel_ascii(t->cfg->file, buf, sizeof(buf)));
		rte_tel_data_add_dict_u64(d, "loaded_at", t->load_time);
		rte_tel_data_add_dict_u64(d, "ports", t->cfg->n_ports);
		rte_tel_data_add_dict_u64(d, "interfaces", t->cfg->n_ifaces);
		rte_tel_data_add_dict_u64(d, "routes", t->cfg->n_routes);
		rte_tel_data_add_dict_u64(d, "neighbors", t->cfg->n_neighbors);
	}
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

/* Errors as {"0": {line, col, path, message}, ...} (the file is named once,
 * at the top): telemetry strings stop at 127 bytes, so the parts travel
 * separately and tollgatectl puts "FILE:LINE:COL: path: message" back
 * together. An answer over 16 KiB would be dropped whole by DPDK: stop
 * well before and say how many were left out. */
#define ERRORS_BUDGET (10 * 1024)

static void
add_errors(struct rte_tel_data *d, const struct tg_cfg_errors *errs)
{
	struct rte_tel_data *all = rte_tel_data_alloc();
	char key[16], buf[RTE_TEL_MAX_STRING_LEN];
	size_t used = 0;
	uint32_t i;

	if (all == NULL)
		return;
	rte_tel_data_start_dict(all);
	for (i = 0; i < errs->n && i < TG_CFG_MAX_ERRORS; i++) {
		const struct tg_cfg_error *e = &errs->e[i];
		struct rte_tel_data *c;

		/* JSON for one entry: keys, numbers and both strings. */
		used += 64 + strnlen(e->path, RTE_TEL_MAX_STRING_LEN) +
			strnlen(e->msg, RTE_TEL_MAX_STRING_LEN);
		if (used > ERRORS_BUDGET)
			break;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "line", e->line);
		rte_tel_data_add_dict_u64(c, "col", e->col);
		rte_tel_data_add_dict_string(
			c, "path", tg_tel_ascii(e->path, buf, sizeof(buf)));
		rte_tel_data_add_dict_string(
			c, "message", tg_tel_ascii(e->msg, buf, sizeof(buf)));
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(all, key, c, 0);
	}
	rte_tel_data_add_dict_u64(d, "error_count", errs->n);
	if (i < errs->n)
		rte_tel_data_add_dict_u64(d, "errors_not_shown", errs->n - i);
	rte_tel_data_add_dict_container(d, "errors", all, 0);
}

static int
tel_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct tg_cfg_errors *errs = malloc(sizeof(*errs));
	struct tg_reload_summary sum;
	char buf[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *c;
	int rc;

	if (errs == NULL)
		return tg_tel_reply_error(d, "out of memory");
	rc = tg_control_reload(tg_tel_ctl, params, errs, &sum);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "result", rc == 0 ? "ok" : "error");
	rte_tel_data_add_dict_u64(d, "generation", sum.generation);
	rte_tel_data_add_dict_string(
		d, "file", tg_tel_ascii(errs->file, buf, sizeof(buf)));
	if (rc < 0) {
		add_errors(d, errs);
		free(errs);
		return 0;
	}
	c = rte_tel_data_alloc();
	if (c != NULL) {
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "added", sum.if_added);
		rte_tel_data_add_dict_string(c, "removed", sum.if_removed);
		rte_tel_data_add_dict_string(c, "changed", sum.if_changed);
		rte_tel_data_add_dict_container(d, "interfaces", c, 0);
	}
	c = rte_tel_data_alloc();
	if (c != NULL) {
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "added", sum.routes_added);
		rte_tel_data_add_dict_u64(c, "removed", sum.routes_removed);
		rte_tel_data_add_dict_container(d, "routes", c, 0);
	}
	c = rte_tel_data_alloc();
	if (c != NULL) {
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "added", sum.neighbors_added);
		rte_tel_data_add_dict_u64(c, "removed", sum.neighbors_removed);
		rte_tel_data_add_dict_container(d, "neighbors", c, 0);
	}
	rte_tel_data_add_dict_string(d, "filters_changed", sum.filters_changed);
	rte_tel_data_add_dict_u64(d, "parse_us", sum.parse_us);
	rte_tel_data_add_dict_u64(d, "build_us", sum.build_us);
	rte_tel_data_add_dict_u64(d, "publish_us", sum.publish_us);
	if (sum.warning[0] != '\0')
		rte_tel_data_add_dict_string(d, "warning",
			tg_tel_ascii(sum.warning, buf, sizeof(buf)));
	free(errs);
	return 0;
}

static int
tel_check(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char buf[RTE_TEL_MAX_STRING_LEN];
	struct tg_cfg_errors *errs;
	int rc;

	if (params == NULL || *params == '\0')
		return tg_tel_reply_error(d, "parameter: the file to check");
	errs = malloc(sizeof(*errs));
	if (errs == NULL)
		return tg_tel_reply_error(d, "out of memory");
	rc = tg_control_check(tg_tel_ctl, params, errs);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "result", rc == 0 ? "ok" : "error");
	rte_tel_data_add_dict_string(
		d, "file", tg_tel_ascii(params, buf, sizeof(buf)));
	if (rc < 0)
		add_errors(d, errs);
	free(errs);
	return 0;
}

#define SHOW_CHUNK  120 /* characters per string (telemetry: < 128) */
#define SHOW_CHUNKS 60	/* per answer: 7 KiB, 14 KiB if all escaped */

/*
 * Encode YAML bytes from @p src into @p out (at most SHOW_CHUNK chars):
 * printable ASCII, newline and tab as they are; a backslash and any other
 * byte as \xNN (the JSON writer cannot carry them, see tg_tel_ascii()).
 * tollgatectl decodes. Returns the number of source bytes consumed.
 */
static size_t
show_encode(const char *src, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)src[i];
		bool plain = (b >= 0x20 && b < 0x7f && b != '\\') ||
			     b == '\n' || b == '\t';

		if (o + (plain ? 1 : 4) > SHOW_CHUNK)
			break;
		if (plain)
			out[o++] = (char)b;
		else
			o += (size_t)snprintf(out + o, 5, "\\x%02x", b);
	}
	out[o] = '\0';
	return i;
}

static int
tel_show(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_config *cfg;
	struct rte_tel_data *arr;
	unsigned long long v = 0;
	char chunk[SHOW_CHUNK + 1];
	size_t off, k;
	char *end;

	if (params != NULL && *params != '\0') {
		errno = 0;
		v = strtoull(params, &end, 10);
		if (*params < '0' || *params > '9' || errno || *end)
			return tg_tel_reply_error(d,
				"parameter: OFFSET (decimal, "
				"from a previous answer's next)");
	}
	pthread_mutex_lock(&tg_tel_ctl->lock);
	rte_tel_data_start_dict(d);
	if (tg_tel_ctl->slot.cur == NULL)
		goto out;
	cfg = tg_tel_ctl->slot.cur->cfg;
	rte_tel_data_add_dict_string(
		d, "file", tg_tel_ascii(cfg->file, chunk, sizeof(chunk)));
	rte_tel_data_add_dict_u64(d, "generation", tg_tel_ctl->generation);
	rte_tel_data_add_dict_u64(d, "size", cfg->source_len);
	rte_tel_data_add_dict_u64(d, "offset", v);
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		goto out;
	rte_tel_data_start_array(arr, RTE_TEL_STRING_VAL);
	off = v < cfg->source_len ? (size_t)v : cfg->source_len;
	for (k = 0; k < SHOW_CHUNKS && off < cfg->source_len; k++) {
		off += show_encode(
			cfg->source + off, cfg->source_len - off, chunk);
		rte_tel_data_add_array_string(arr, chunk);
	}
	rte_tel_data_add_dict_container(d, "text", arr, 0);
	if (off < cfg->source_len)
		rte_tel_data_add_dict_u64(d, "next", off);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}

int
tg_control_telemetry_init(struct tg_control *ctl)
{
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} cmds[] = {
		{"/tollgate/stats", tel_stats,
			"Packets in/out per path and stage, every drop reason, "
			"ports. No parameters"},
		{"/tollgate/interfaces", tel_interfaces,
			"Interfaces: port, address, MTU, MAC. No parameters"},
		{"/tollgate/routes", tel_routes,
			"Installed routes. Parameters: START[,COUNT] (paged)"},
		{"/tollgate/neighbors", tel_neighbors,
			"ARP neighbor cache. Parameters: START[,COUNT] "
			"(paged)"},
		{"/tollgate/config/reload", tel_reload,
			"Reload the configuration atomically. Parameter: FILE "
			"(default: the running one)"},
		{"/tollgate/config/check", tel_check,
			"Validate FILE against the running configuration, "
			"apply "
			"nothing. Parameter: FILE"},
		{"/tollgate/config/show", tel_show,
			"The running configuration's YAML text, in pieces. "
			"Parameter: OFFSET"},
		{"/tollgate/filters", tg_tel_filters,
			"Filter lists with rule hits. Parameters: none (every "
			"list) or IFACE,DIR[,START[,COUNT]] (its rules)"},
		{"/tollgate/nat/summary", tg_tel_nat,
			"NAT: addresses and port use, sessions by protocol "
			"and TCP state, timeouts, failures. No parameters"},
		{"/tollgate/nat/sessions", tg_tel_nat,
			"NAT and firewall sessions, paged. Parameters: "
			"[ADDR][,START[,COUNT]] (ADDR: any endpoint)"},
		{"/tollgate/firewall", tg_tel_firewall,
			"Firewall: exceptions, ICMP policy, dynamic entries. "
			"No parameters"},
		{"/tollgate/ipsec", tg_tel_ipsec,
			"IPsec: crypto device, operations in flight, "
			"settings, policy and SA counts, drops. No "
			"parameters"},
		{"/tollgate/ipsec/sa", tg_tel_ipsec,
			"IPsec SAs with their counters (never keys), paged. "
			"Parameters: START[,COUNT]"},
		{"/tollgate/ipsec/spd", tg_tel_ipsec,
			"IPsec policies in evaluation order with hits, paged. "
			"Parameters: START[,COUNT]"},
		{"/tollgate/host", tel_host,
			"The host port (the appliance's own TCP/IP stack): "
			"kernel interface, queues, counters"},
		{"/tollgate/config", tel_config,
			"Running configuration: generation, file, load time, "
			"sizes"},
		{"/tollgate/trace", tg_tel_trace,
			"Packet trace. Parameters: none (status), \"start "
			"[COUNT] [FILTER]\" or \"stop\""},
		{"/tollgate/trace/show", tg_tel_trace,
			"Traced packets and their steps, paged. Parameters: "
			"START[,COUNT] (packet ids)"},
		{"/tollgate/explain", tg_tel_explain,
			"Dry run of a packet through the running config: in "
			"IFACE PROTO SRC[:P] -> DST[:P] [flags S] [esp SPI] | "
			"in IFACE frame HEX"},
		{"/tollgate/capture", tg_tel_capture,
			"Drop capture. Parameters: none (status), \"start FILE "
			"[reason=R] [count=N] [snaplen=N]\" or \"stop\""},
	};
	size_t i;
	int rc;

	tg_tel_ctl = ctl;
	for (i = 0; i < RTE_DIM(cmds); i++) {
		/* DPDK refuses a help text of RTE_TEL_MAX_STRING_LEN or
		 * more, and then every command after it would be missing. */
		RTE_ASSERT(strlen(cmds[i].help) < RTE_TEL_MAX_STRING_LEN);
		rc = rte_telemetry_register_cmd(
			cmds[i].cmd, cmds[i].fn, cmds[i].help);
		if (rc < 0)
			return rc;
	}
	return 0;
}
