/* SPDX-License-Identifier: BSD-3-Clause
 * Live reload: parse and validate a file off the lock, refuse changes to
 * what only a restart can change, build and publish under the lock, and
 * summarise what changed. A reload that fails at any point changes nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "tg_control.h"

static void
err_add(struct tg_cfg_errors *errs, const struct tg_cfg_pos *pos,
	const char *path, const char *fmt, ...)
{
	va_list ap;

	if (errs->n < TG_CFG_MAX_ERRORS) {
		struct tg_cfg_error *e = &errs->e[errs->n];

		memset(e, 0, sizeof(*e));
		if (pos != NULL) {
			e->line = pos->line;
			e->col = pos->col;
		}
		snprintf(e->path, sizeof(e->path), "%s", path);
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		/* Without a position the path goes into the message, so that
		 * "FILE: path: message" still names the key. */
		if (pos == NULL) {
			char m[sizeof(e->msg)];

			/* Cut if long; using the result tells GCC that
			 * truncation was thought of. */
			int n = snprintf(m, sizeof(m), "%s: %s", path, e->msg);

			if (n > 0)
				memcpy(e->msg, m, sizeof(m));
		}
	}
	errs->n++;
}

static uint64_t
us_since(uint64_t t0)
{
	return (rte_get_tsc_cycles() - t0) * 1000000 / rte_get_tsc_hz();
}

#define RESTART " cannot change at run time (restart tollgate to apply it)"

int
tg_control_check_restart_only(const struct tg_config *run,
	const struct tg_config *nc, struct tg_cfg_errors *errs)
{
	uint32_t before = errs->n;
	char path[64];
	uint16_t i, j;

	if (memcmp(&run->dpdk, &nc->dpdk, sizeof(run->dpdk)) != 0)
		err_add(errs, NULL, "dpdk", "EAL settings" RESTART);
	if (run->mempool.mbufs != nc->mempool.mbufs ||
		run->mempool.cache != nc->mempool.cache ||
		run->mempool.data_room != nc->mempool.data_room)
		err_add(errs, NULL, "mempool", "packet buffers" RESTART);
	if (run->arp.max_neighbors != nc->arp.max_neighbors)
		err_add(errs, NULL, "arp.max_neighbors",
			"the neighbor cache size" RESTART);
	if (run->pipeline.burst != nc->pipeline.burst ||
		run->pipeline.ring_size != nc->pipeline.ring_size)
		err_add(errs, NULL, "pipeline", "burst and ring sizes" RESTART);
	if (tg_natfw_restart_only(run, nc, path, sizeof(path)))
		err_add(errs, NULL, path,
			"the natfw stage's session table (sized and laid out "
			"from the start-up configuration)" RESTART);
	if (tg_ipsec_restart_only(run, nc, path, sizeof(path)))
		err_add(errs, NULL, path,
			"the ipsec stage's crypto device (set up at "
			"start)" RESTART);
	if (run->pipeline.filter_cache != nc->pipeline.filter_cache)
		err_add(errs, NULL, "pipeline.filter_cache",
			"the filter decision cache size" RESTART);
	if (run->pipeline.n_placement != nc->pipeline.n_placement) {
		err_add(errs, NULL, "pipeline.placement",
			"lcore placement" RESTART);
	} else {
		for (i = 0; i < nc->pipeline.n_placement; i++) {
			const struct tg_cfg_placement *a =
				&run->pipeline.placement[i];
			const struct tg_cfg_placement *b =
				&nc->pipeline.placement[i];
			bool same = a->lcore == b->lcore &&
				    a->stage_mask == b->stage_mask &&
				    a->n_rxq == b->n_rxq;

			for (j = 0; same && j < a->n_rxq; j++)
				same = a->rxq_port[j] == b->rxq_port[j] &&
				       a->rxq_queue[j] == b->rxq_queue[j];
			if (!same) {
				snprintf(path, sizeof(path),
					"pipeline.placement[%u]", i);
				err_add(errs, &b->pos, path,
					"lcore placement" RESTART);
			}
		}
	}
	if (run->host.enabled != nc->host.enabled ||
		run->host.tap != nc->host.tap ||
		strcmp(run->host.ifname, nc->host.ifname) != 0 ||
		strcmp(run->host.netns, nc->host.netns) != 0 ||
		run->host.queue_size != nc->host.queue_size ||
		run->host.poll_us != nc->host.poll_us)
		err_add(errs, nc->host.enabled ? &nc->host.pos : NULL, "host",
			"the host port (type, ifname, netns, queue_size, "
			"poll_us)" RESTART);
	if (run->n_ports != nc->n_ports)
		err_add(errs, NULL, "ports",
			"%u ports running, %u in the file: ports" RESTART,
			run->n_ports, nc->n_ports);
	for (i = 0; i < run->n_ports && i < nc->n_ports; i++) {
		const struct tg_cfg_port *a = &run->ports[i],
					 *b = &nc->ports[i];

		snprintf(path, sizeof(path), "ports[%u]", i);
		if (strcmp(a->name, b->name) != 0 ||
			strcmp(a->device, b->device) != 0 ||
			a->rx_queues != b->rx_queues ||
			a->rx_desc != b->rx_desc || a->tx_desc != b->tx_desc)
			err_add(errs, &b->pos, path,
				"port '%s' differs from the running one: "
				"ports" RESTART,
				b->name);
	}
	return (int)(errs->n - before);
}

/* ---- what changed ------------------------------------------------------ */

struct route_key {
	uint32_t prefix;
	uint32_t via;
	uint8_t len;
	char iface[TG_NAME_MAX];
};

static int
route_key_cmp(const void *x, const void *y)
{
	const struct route_key *a = x, *b = y;

	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->via != b->via)
		return a->via < b->via ? -1 : 1;
	return strcmp(a->iface, b->iface);
}

static struct route_key *
route_keys(const struct tg_config *c)
{
	struct route_key *k = calloc(c->n_routes + 1, sizeof(*k));
	uint32_t i;

	if (k == NULL)
		return NULL;
	for (i = 0; i < c->n_routes; i++) {
		k[i].prefix = c->routes[i].prefix;
		k[i].len = c->routes[i].len;
		k[i].via = c->routes[i].via;
		snprintf(k[i].iface, sizeof(k[i].iface), "%s",
			c->ifaces[c->routes[i].iface].name);
	}
	qsort(k, c->n_routes, sizeof(*k), route_key_cmp);
	return k;
}

/* Sorted merge: entries only in a (removed) and only in b (added). */
static void
count_diff(const void *a, uint32_t na, const void *b, uint32_t nb, size_t sz,
	int (*cmp)(const void *, const void *), uint32_t *removed,
	uint32_t *added)
{
	const char *pa = a, *pb = b;
	uint32_t i = 0, j = 0;

	*removed = *added = 0;
	while (i < na || j < nb) {
		int c = i == na	  ? 1
			: j == nb ? -1
				  : cmp(pa + i * sz, pb + j * sz);

		if (c < 0) {
			(*removed)++;
			i++;
		} else if (c > 0) {
			(*added)++;
			j++;
		} else {
			i++;
			j++;
		}
	}
}

struct neigh_key {
	uint32_t addr;
	uint8_t mac[6];
	char iface[TG_NAME_MAX];
};

static int
neigh_key_cmp(const void *x, const void *y)
{
	const struct neigh_key *a = x, *b = y;
	int c;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	c = memcmp(a->mac, b->mac, sizeof(a->mac));
	return c != 0 ? c : strcmp(a->iface, b->iface);
}

static struct neigh_key *
neigh_keys(const struct tg_config *c)
{
	struct neigh_key *k = calloc(c->n_neighbors + 1, sizeof(*k));
	uint32_t i;

	if (k == NULL)
		return NULL;
	for (i = 0; i < c->n_neighbors; i++) {
		k[i].addr = c->neighbors[i].addr;
		memcpy(k[i].mac, c->neighbors[i].mac, 6);
		snprintf(k[i].iface, sizeof(k[i].iface), "%s",
			c->ifaces[c->neighbors[i].iface].name);
	}
	qsort(k, c->n_neighbors, sizeof(*k), neigh_key_cmp);
	return k;
}

static void
name_list_add(char *list, size_t len, const char *name)
{
	size_t used = strlen(list);

	snprintf(list + used, len - used, "%s%s", used ? " " : "", name);
}

static bool
filter_list_same(
	const struct tg_cfg_filter_list *a, const struct tg_cfg_filter_list *b)
{
	uint32_t i;

	if (a->set != b->set)
		return false;
	if (!a->set)
		return true;
	if (a->mode != b->mode || a->n_rules != b->n_rules)
		return false;
	for (i = 0; i < a->n_rules; i++)
		if (!tg_cfg_filter_rule_same(&a->rules[i], &b->rules[i]))
			return false;
	return true;
}

/* "lan0.in" for every list configured on either side that is not the
 * same (in order) on the other. */
static void
filters_diff(const struct tg_config *a, const struct tg_config *b,
	struct tg_reload_summary *s)
{
	static const struct tg_cfg_filter_list none;
	static const char *const dirs[] = {"in", "out"};
	const struct tg_config *sides[2] = {a, b};
	char name[TG_NAME_MAX + 8];
	int side, d;
	uint16_t i;

	memset(s->filters_changed, 0, sizeof(s->filters_changed));
	for (side = 0; side < 2; side++) {
		const struct tg_config *x = sides[side], *y = sides[!side];

		for (i = 0; i < x->n_ifaces; i++) {
			int j = tg_config_iface_find(y, x->ifaces[i].name);

			for (d = 0; d < TG_CFG_FILTER__DIRS; d++) {
				const struct tg_cfg_filter_list *lx =
					&x->ifaces[i].filters[d];
				const struct tg_cfg_filter_list *ly =
					j < 0 ? &none
					      : &y->ifaces[j].filters[d];

				/* a pair present on both sides: once */
				if (side == 1 && j >= 0)
					continue;
				if (filter_list_same(lx, ly))
					continue;
				snprintf(name, sizeof(name), "%s.%s",
					x->ifaces[i].name, dirs[d]);
				name_list_add(s->filters_changed,
					sizeof(s->filters_changed), name);
			}
		}
	}
}

int
tg_config_diff(const struct tg_config *a, const struct tg_config *b,
	struct tg_reload_summary *s)
{
	struct route_key *ra = NULL, *rb = NULL;
	struct neigh_key *na = NULL, *nb = NULL;
	uint16_t i, j;
	int rc = 0;

	memset(s->if_added, 0, sizeof(s->if_added));
	memset(s->if_removed, 0, sizeof(s->if_removed));
	memset(s->if_changed, 0, sizeof(s->if_changed));
	for (i = 0; i < b->n_ifaces; i++) {
		const struct tg_cfg_iface *n = &b->ifaces[i];

		for (j = 0; j < a->n_ifaces; j++)
			if (strcmp(a->ifaces[j].name, n->name) == 0)
				break;
		if (j == a->n_ifaces)
			name_list_add(
				s->if_added, sizeof(s->if_added), n->name);
		else if (a->ifaces[j].addr != n->addr ||
			 a->ifaces[j].prefix_len != n->prefix_len ||
			 a->ifaces[j].mtu != n->mtu ||
			 strcmp(a->ports[a->ifaces[j].port].name,
				 b->ports[n->port].name) != 0)
			name_list_add(
				s->if_changed, sizeof(s->if_changed), n->name);
	}
	for (j = 0; j < a->n_ifaces; j++) {
		for (i = 0; i < b->n_ifaces; i++)
			if (strcmp(a->ifaces[j].name, b->ifaces[i].name) == 0)
				break;
		if (i == b->n_ifaces)
			name_list_add(s->if_removed, sizeof(s->if_removed),
				a->ifaces[j].name);
	}
	filters_diff(a, b, s);
	ra = route_keys(a);
	rb = route_keys(b);
	na = neigh_keys(a);
	nb = neigh_keys(b);
	if (ra == NULL || rb == NULL || na == NULL || nb == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	count_diff(ra, a->n_routes, rb, b->n_routes, sizeof(*ra), route_key_cmp,
		&s->routes_removed, &s->routes_added);
	count_diff(na, a->n_neighbors, nb, b->n_neighbors, sizeof(*na),
		neigh_key_cmp, &s->neighbors_removed, &s->neighbors_added);
out:
	free(ra);
	free(rb);
	free(na);
	free(nb);
	return rc;
}

/* ---- reload and check -------------------------------------------------- */

static int
load(const char *file, struct tg_config **cfg, struct tg_cfg_errors *errs,
	uint64_t *parse_us)
{
	uint64_t t0 = rte_get_tsc_cycles();
	int rc = tg_config_load(file, cfg, errs);

	*parse_us = us_since(t0);
	return rc;
}

int
tg_control_check(
	struct tg_control *ctl, const char *file, struct tg_cfg_errors *errs)
{
	struct tg_config *cfg = NULL;
	uint64_t us;
	int rc;

	memset(errs, 0, sizeof(*errs));
	rc = load(file, &cfg, errs, &us);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&ctl->lock);
	if (ctl->slot.cur != NULL && tg_control_check_restart_only(
					     ctl->slot.cur->cfg, cfg, errs) > 0)
		rc = -EINVAL;
	pthread_mutex_unlock(&ctl->lock);
	tg_config_free(cfg);
	return rc;
}

int
tg_control_reload(struct tg_control *ctl, const char *file,
	struct tg_cfg_errors *errs, struct tg_reload_summary *sum)
{
	char running[sizeof(((struct tg_config *)0)->file)];
	struct tg_config *cfg = NULL;
	char err[512];
	uint64_t t0;
	int rc;

	memset(errs, 0, sizeof(*errs));
	memset(sum, 0, sizeof(*sum));
	if (file == NULL || *file == '\0') {
		/* The file tollgate runs from. */
		pthread_mutex_lock(&ctl->reload_lock);
		snprintf(running, sizeof(running), "%s",
			ctl->slot.cur != NULL ? ctl->slot.cur->cfg->file : "");
		pthread_mutex_unlock(&ctl->reload_lock);
		file = running;
	}
	sum->generation = __atomic_load_n(&ctl->generation, __ATOMIC_RELAXED);
	/* Parsing and validation touch nothing shared: no lock needed, and
	 * a slow parse does not hold up telemetry readers. */
	rc = load(file, &cfg, errs, &sum->parse_us);
	if (rc < 0)
		goto out;

	pthread_mutex_lock(&ctl->reload_lock);
	sum->generation = ctl->generation;
	if (ctl->slot.cur == NULL) {
		err_add(errs, NULL, "config", "nothing is running yet");
		rc = -EAGAIN;
		goto unlock;
	}
	if (tg_control_check_restart_only(ctl->slot.cur->cfg, cfg, errs) > 0) {
		rc = -EINVAL;
		goto unlock;
	}
	rc = tg_config_diff(ctl->slot.cur->cfg, cfg, sum);
	if (rc < 0) {
		err_add(errs, NULL, "config", "out of memory");
		goto unlock;
	}
	t0 = rte_get_tsc_cycles();
	rc = tg_control_apply_locked(
		ctl, cfg, err, sizeof(err), &sum->build_us);
	sum->publish_us = us_since(t0) - sum->build_us;
	if (rc < 0) {
		snprintf(errs->file, sizeof(errs->file), "%s", file);
		err_add(errs, NULL, "build", "%s", err);
		goto unlock;
	}
	sum->generation = ctl->generation;
	if (ctl->after_reload != NULL &&
		ctl->after_reload(ctl->after_reload_arg, cfg, sum->warning,
			sizeof(sum->warning)) < 0 &&
		sum->warning[0] == '\0')
		snprintf(sum->warning, sizeof(sum->warning),
			"after the reload: failed");
	cfg = NULL; /* the snapshot owns it now */
unlock:
	pthread_mutex_unlock(&ctl->reload_lock);
out:
	if (errs->file[0] == '\0')
		snprintf(errs->file, sizeof(errs->file), "%s", file);
	tg_config_free(cfg);
	return rc;
}
