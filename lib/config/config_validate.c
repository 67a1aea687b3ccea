/* SPDX-License-Identifier: BSD-3-Clause
 * Validation: the rules across items and sections (references,
 * duplicates, overlapping subnets, the pipeline placement), and the error
 * list that every check writes to. Errors point at the offending value.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* --------------------------------------------------------------- errors */

/* Messages quote the user's YAML: keep control characters (a newline in
 * a quoted key, an escape sequence) from reaching the terminal, so each
 * error stays one line of plain text. */
static void
scrub(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void
errs_vadd(struct tg_cfg_errors *errs, uint32_t line, uint32_t col,
	const char *path, const char *fmt, va_list ap)
{
	if (errs->n < TG_CFG_MAX_ERRORS) {
		struct tg_cfg_error *e = &errs->e[errs->n];
		size_t n = strnlen(path, sizeof(e->path) - 1);

		e->line = line;
		e->col = col;
		memcpy(e->path, path, n); /* long paths are cut, not refused */
		e->path[n] = '\0';
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		scrub(e->path);
		scrub(e->msg);
	}
	if (errs->n < UINT32_MAX)
		errs->n++;
}

void
tg_cfg_errs_add(struct tg_cfg_errors *errs, uint32_t line, uint32_t col,
	const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(errs, line, col, path, fmt, ap);
	va_end(ap);
}

void
tg_cfg_err(struct tg_cfg_ctx *c, struct tg_cfg_pos pos, const char *path,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errs_vadd(c->errs, pos.line, pos.col, path != NULL ? path : c->path,
		fmt, ap);
	va_end(ap);
}

/* Validation finds errors section by section: show them in file order.
 * Insertion sort, stable, on at most TG_CFG_MAX_ERRORS entries. */
void
tg_cfg_errs_sort(struct tg_cfg_errors *errs)
{
	uint32_t n = errs->n < TG_CFG_MAX_ERRORS ? errs->n : TG_CFG_MAX_ERRORS;
	uint32_t i, j;

	for (i = 1; i < n; i++) {
		struct tg_cfg_error e = errs->e[i];

		for (j = i; j > 0; j--) {
			const struct tg_cfg_error *p = &errs->e[j - 1];

			if (p->line < e.line ||
				(p->line == e.line && p->col <= e.col))
				break;
			errs->e[j] = *p;
		}
		errs->e[j] = e;
	}
}

void
tg_cfg_errs_reset(struct tg_cfg_errors *errs, const char *file)
{
	memset(errs, 0, sizeof(*errs));
	snprintf(errs->file, sizeof(errs->file), "%s", file);
}

int
tg_cfg_error_format(
	const struct tg_cfg_errors *errs, uint32_t i, char *buf, size_t len)
{
	const struct tg_cfg_error *e;

	if (errs == NULL || i >= errs->n || i >= TG_CFG_MAX_ERRORS)
		return -EINVAL;
	e = &errs->e[i];
	if (e->line == 0)
		return snprintf(buf, len, "%s: %s", errs->file, e->msg);
	if (e->path[0] == '\0')
		return snprintf(buf, len, "%s:%u:%u: %s", errs->file, e->line,
			e->col, e->msg);
	return snprintf(buf, len, "%s:%u:%u: %s: %s", errs->file, e->line,
		e->col, e->path, e->msg);
}

void
tg_cfg_errors_print(const struct tg_cfg_errors *errs, FILE *f)
{
	char line[sizeof(errs->file) + 512];
	uint32_t i;

	/* The stored errors only: callers say how many more there were
	 * (errs->n), as app/tollgate does. */
	for (i = 0; i < errs->n && i < TG_CFG_MAX_ERRORS; i++) {
		tg_cfg_error_format(errs, i, line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
}

/* -------------------------------------------------------------- lookups */

static int
port_find_n(const struct tg_config *cfg, const char *name, size_t len)
{
	uint16_t i;

	for (i = 0; len > 0 && i < cfg->n_ports; i++)
		if (strncmp(cfg->ports[i].name, name, len) == 0 &&
			cfg->ports[i].name[len] == '\0')
			return i;
	return -1;
}

static int
iface_find_n(const struct tg_config *cfg, const char *name, size_t len)
{
	uint16_t i;

	for (i = 0; len > 0 && i < cfg->n_ifaces; i++)
		if (strncmp(cfg->ifaces[i].name, name, len) == 0 &&
			cfg->ifaces[i].name[len] == '\0')
			return i;
	return -1;
}

int
tg_config_port_find(const struct tg_config *cfg, const char *name)
{
	return cfg != NULL && name != NULL
		       ? port_find_n(cfg, name, strlen(name))
		       : -1;
}

int
tg_config_iface_find(const struct tg_config *cfg, const char *name)
{
	return cfg != NULL && name != NULL
		       ? iface_find_n(cfg, name, strlen(name))
		       : -1;
}

/* "p0, p1" or "lan0, wan0": what a reference could have named. */
static const char *
known_names(const struct tg_config *cfg, bool ports, char *buf, size_t len)
{
	uint16_t i, n = ports ? cfg->n_ports : cfg->n_ifaces;
	size_t o = 0;

	snprintf(buf, len, "none");
	for (i = 0; i < n && o < len; i++) {
		const char *name =
			ports ? cfg->ports[i].name : cfg->ifaces[i].name;

		if (name[0] != '\0')
			o += (size_t)snprintf(
				buf + o, len - o, "%s%s", o ? ", " : "", name);
	}
	return buf;
}

/* Resolve a reference to an interface; -1 (reported) if unknown. */
int
tg_cfg_iface_ref(
	struct tg_cfg_ctx *c, const struct tg_cfg_ref *r, const char *path)
{
	char names[160];
	int k;

	if (r->name == NULL)
		return -1;
	k = iface_find_n(c->cfg, r->name, r->len);
	if (k < 0)
		tg_cfg_err(c, r->pos, path,
			"unknown interface '%.*s' (interfaces: %s)",
			(int)(r->len > 40 ? 40 : r->len), r->name,
			known_names(c->cfg, false, names, sizeof(names)));
	return k;
}

/* ------------------------------------------------------------ sections */

static void
validate_ports(struct tg_cfg_ctx *c)
{
	const struct tg_config *cfg = c->cfg;
	char path[64];
	uint16_t i, j;

	for (i = 0; i < cfg->n_ports; i++) {
		const struct tg_cfg_port *p = &cfg->ports[i];
		size_t n = strcspn(p->device, ",");

		for (j = 0; j < i && p->name[0] != '\0'; j++) {
			if (strcmp(cfg->ports[j].name, p->name) != 0)
				continue;
			snprintf(path, sizeof(path), "ports[%u].name", i);
			tg_cfg_err(c, c->port[i].name, path,
				"duplicate port name '%s' (first at line %u)",
				p->name, c->port[j].name.line);
			break;
		}
		for (j = 0; j < i && n > 0; j++) {
			const char *d = cfg->ports[j].device;

			if (strcspn(d, ",") != n || strncmp(d, p->device, n))
				continue;
			snprintf(path, sizeof(path), "ports[%u].device", i);
			tg_cfg_err(c, c->port[i].device, path,
				"device '%.*s' is already port '%s'", (int)n,
				p->device, cfg->ports[j].name);
			break;
		}
	}
}

static void
validate_ifaces(struct tg_cfg_ctx *c)
{
	struct tg_config *cfg = c->cfg;
	int owner[TG_MAX_PORTS];
	char path[64], names[160], a[16], b[16];
	uint16_t i, j;

	memset(owner, -1, sizeof(owner));
	for (i = 0; i < cfg->n_ifaces; i++) {
		struct tg_cfg_iface *f = &cfg->ifaces[i];
		const struct tg_cfg_src_iface *src = &c->iface[i];
		int k;

		for (j = 0; j < i && f->name[0] != '\0'; j++) {
			if (strcmp(cfg->ifaces[j].name, f->name) != 0)
				continue;
			snprintf(path, sizeof(path), "interfaces[%u].name", i);
			tg_cfg_err(c, src->name, path,
				"duplicate interface name '%s' (first at line "
				"%u)",
				f->name, c->iface[j].name.line);
			break;
		}
		snprintf(path, sizeof(path), "interfaces[%u].port", i);
		k = src->port.name == NULL
			    ? -1
			    : port_find_n(cfg, src->port.name, src->port.len);
		if (src->port.name != NULL && k < 0)
			tg_cfg_err(c, src->port.pos, path,
				"unknown port '%.40s' (ports: %s)",
				src->port.name,
				known_names(cfg, true, names, sizeof(names)));
		else if (k >= 0 && owner[k] >= 0)
			tg_cfg_err(c, src->port.pos, path,
				"port '%s' already has interface '%s' (one "
				"interface per port)",
				cfg->ports[k].name, cfg->ifaces[owner[k]].name);
		else if (k >= 0)
			owner[k] = i;
		if (k >= 0)
			f->port = (uint16_t)k;

		/* Overlapping subnets would make the connected routes
		 * ambiguous: report the later interface. */
		for (j = 0; j < i && src->addr_ok; j++) {
			const struct tg_cfg_iface *g = &cfg->ifaces[j];
			uint32_t m = tg_cfg_mask(f->prefix_len < g->prefix_len
							 ? f->prefix_len
							 : g->prefix_len);

			if (!c->iface[j].addr_ok || ((f->addr ^ g->addr) & m))
				continue;
			tg_cfg_ipv4_fmt(
				f->addr & tg_cfg_mask(f->prefix_len), a);
			tg_cfg_ipv4_fmt(
				g->addr & tg_cfg_mask(g->prefix_len), b);
			snprintf(path, sizeof(path), "interfaces[%u].address",
				i);
			tg_cfg_err(c, src->address, path,
				"subnet %s/%u overlaps %s/%u of interface '%s'",
				a, f->prefix_len, b, g->prefix_len, g->name);
			break;
		}
	}
}

/* A gateway or a neighbor must be another host on the interface's
 * subnet. @p what: "gateway" / "neighbor". */
static void
check_on_link(struct tg_cfg_ctx *c, uint32_t a, int k, struct tg_cfg_pos pos,
	const char *path, const char *what)
{
	const struct tg_cfg_iface *f = &c->cfg->ifaces[k];
	uint32_t m = tg_cfg_mask(f->prefix_len), host = a & ~m;
	char s[16], net[16];

	if (!c->iface[k].addr_ok)
		return;
	tg_cfg_ipv4_fmt(a, s);
	tg_cfg_ipv4_fmt(f->addr & m, net);
	if ((a & m) != (f->addr & m))
		tg_cfg_err(c, pos, path,
			"%s %s is not in %s/%u, the subnet of interface '%s'",
			what, s, net, f->prefix_len, f->name);
	else if (a == f->addr)
		tg_cfg_err(c, pos, path,
			"%s %s is the address of interface '%s' itself", what,
			s, f->name);
	else if (f->prefix_len <= 30 && (host == 0 || host == ~m))
		tg_cfg_err(c, pos, path, "%s %s is the %s address of %s/%u",
			what, s, host == 0 ? "network" : "broadcast", net,
			f->prefix_len);
}

int
tg_cfg_prefix_key_cmp(const void *x, const void *y)
{
	const struct tg_cfg_prefix_key *a = x, *b = y;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sort (O(n log n): 100k routes) and report each key after the first. */
static void
report_dups(struct tg_cfg_ctx *c, struct tg_cfg_prefix_key *k, uint32_t n,
	bool routes)
{
	char path[64], a[16];
	uint32_t i, first = 0;

	qsort(k, n, sizeof(*k), tg_cfg_prefix_key_cmp);
	for (i = 1; i < n; i++) {
		if (k[i].addr != k[first].addr || k[i].len != k[first].len) {
			first = i;
			continue;
		}
		tg_cfg_ipv4_fmt(k[i].addr, a);
		if (routes) {
			snprintf(path, sizeof(path), "routes[%u].prefix",
				k[i].idx);
			tg_cfg_err(c, c->route[k[i].idx].prefix, path,
				"duplicate route %s/%u (first at line %u)", a,
				k[i].len, c->route[k[first].idx].prefix.line);
		} else {
			snprintf(path, sizeof(path), "neighbors[%u].address",
				k[i].idx);
			tg_cfg_err(c, c->neighbor[k[i].idx].addr, path,
				"duplicate neighbor %s (first at line %u)", a,
				c->neighbor[k[first].idx].addr.line);
		}
	}
}

static void
validate_routes(struct tg_cfg_ctx *c)
{
	struct tg_config *cfg = c->cfg;
	struct tg_cfg_prefix_key *keys;
	char path[64];
	uint32_t i, n = 0;
	int k;

	if (cfg->n_routes == 0)
		return;
	keys = malloc(cfg->n_routes * sizeof(*keys));
	if (keys == NULL) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < cfg->n_routes; i++) {
		struct tg_cfg_route *r = &cfg->routes[i];
		const struct tg_cfg_src_route *src = &c->route[i];

		snprintf(path, sizeof(path), "routes[%u].interface", i);
		k = tg_cfg_iface_ref(c, &src->iface, path);
		if (k >= 0)
			r->iface = (uint16_t)k;
		snprintf(path, sizeof(path), "routes[%u].via", i);
		if (k >= 0 && src->via_ok)
			check_on_link(c, r->via, k, src->via, path, "gateway");
		if (src->prefix_ok)
			keys[n++] = (struct tg_cfg_prefix_key){
				r->prefix, r->len, i};
	}
	report_dups(c, keys, n, true);
	free(keys);
	if (cfg->n_routes > cfg->limits.max_routes)
		tg_cfg_err(c, c->routes_pos, "routes",
			"%u routes are more than limits.max_routes (%u)",
			cfg->n_routes, cfg->limits.max_routes);
}

static void
validate_neighbors(struct tg_cfg_ctx *c)
{
	struct tg_config *cfg = c->cfg;
	struct tg_cfg_prefix_key *keys;
	char path[64];
	uint32_t i, n = 0;
	int k;

	if (cfg->n_neighbors == 0)
		return;
	keys = malloc(cfg->n_neighbors * sizeof(*keys));
	if (keys == NULL) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < cfg->n_neighbors; i++) {
		struct tg_cfg_neighbor *nb = &cfg->neighbors[i];
		const struct tg_cfg_src_neighbor *src = &c->neighbor[i];

		snprintf(path, sizeof(path), "neighbors[%u].interface", i);
		k = tg_cfg_iface_ref(c, &src->iface, path);
		if (k >= 0)
			nb->iface = (uint16_t)k;
		snprintf(path, sizeof(path), "neighbors[%u].address", i);
		if (k >= 0 && src->addr_ok)
			check_on_link(
				c, nb->addr, k, src->addr, path, "neighbor");
		if (src->addr_ok)
			keys[n++] = (struct tg_cfg_prefix_key){nb->addr, 32, i};
	}
	report_dups(c, keys, n, false);
	free(keys);
	if (cfg->n_neighbors > cfg->arp.max_neighbors)
		tg_cfg_err(c, c->neighbors_pos, "neighbors",
			"%u static neighbors are more than arp.max_neighbors "
			"(%u)",
			cfg->n_neighbors, cfg->arp.max_neighbors);
}

/* Each override names an interface, and an interface has at most one. */
static void
validate_local_filter(struct tg_cfg_ctx *c)
{
	struct tg_cfg_local_filter *lf = &c->cfg->local_filter;
	int first[TG_MAX_PORTS]; /* override of each interface, or -1 */
	char path[64];
	uint16_t i;
	int k;

	memset(first, -1, sizeof(first));
	for (i = 0; i < lf->n_overrides; i++) {
		snprintf(path, sizeof(path),
			"local_filter.interfaces[%u].interface", i);
		k = tg_cfg_iface_ref(c, &c->lf_iface[i], path);
		if (k < 0)
			continue;
		if (first[k] >= 0) {
			tg_cfg_err(c, c->lf_iface[i].pos, path,
				"interface '%s' already has an override "
				"(first at line %u)",
				c->cfg->ifaces[k].name,
				c->lf_iface[first[k]].pos.line);
			continue;
		}
		first[k] = i;
		lf->overrides[i].iface = (uint16_t)k;
	}
}

/* ------------------------------------------------------------ placement */

struct rxq_owner {
	uint16_t entry; /* placement entry + 1; 0 = not polled yet */
	struct tg_cfg_pos pos;
};

static void
placement_rxqs(struct tg_cfg_ctx *c, uint16_t e,
	struct rxq_owner own[TG_MAX_PORTS][TG_CFG_MAX_RXQ], bool *refs_ok)
{
	struct tg_config *cfg = c->cfg;
	struct tg_cfg_placement *p = &cfg->pipeline.placement[e];
	const struct tg_cfg_src_placement *src = &c->placement[e];
	char path[96], names[160];
	uint32_t j;

	for (j = 0; j < src->n_ports; j++) {
		const struct tg_cfg_src_rxq *q = &src->ports[j];
		struct rxq_owner *o;
		int k;

		if (!q->ok) {
			*refs_ok = false;
			continue;
		}
		snprintf(path, sizeof(path), "pipeline.placement[%u].ports[%u]",
			e, j);
		k = port_find_n(cfg, q->port.name, q->port.len);
		if (k < 0) {
			tg_cfg_err(c, q->port.pos, path,
				"unknown port '%.*s' (ports: %s)",
				(int)(q->port.len > 40 ? 40 : q->port.len),
				q->port.name,
				known_names(cfg, true, names, sizeof(names)));
			*refs_ok = false;
			continue;
		}
		if (q->queue >= cfg->ports[k].rx_queues) {
			tg_cfg_err(c, q->port.pos, path,
				"port '%s' has %u rx queue(s): 0..%u",
				cfg->ports[k].name, cfg->ports[k].rx_queues,
				cfg->ports[k].rx_queues - 1u);
			*refs_ok = false;
			continue;
		}
		o = &own[k][q->queue];
		if (o->entry != 0) {
			tg_cfg_err(c, q->port.pos, path,
				"rx queue %s:%u is already polled by lcore %u "
				"(line %u)",
				cfg->ports[k].name, q->queue,
				cfg->pipeline.placement[o->entry - 1].lcore,
				o->pos.line);
			continue;
		}
		o->entry = e + 1;
		o->pos = q->port.pos;
		if (p->n_rxq == TG_MAX_PORTS) {
			tg_cfg_err(c, q->port.pos, path,
				"too many rx queues on one lcore (at most %d)",
				TG_MAX_PORTS);
			continue;
		}
		p->rxq_port[p->n_rxq] = (uint16_t)k;
		p->rxq_queue[p->n_rxq++] = (uint16_t)q->queue;
	}
}

static void
placement_lcore(struct tg_cfg_ctx *c, uint16_t e, uint16_t lcore_entry[])
{
	const struct tg_cfg_dpdk *d = &c->cfg->dpdk;
	const struct tg_cfg_placement *p = &c->cfg->pipeline.placement[e];
	struct tg_cfg_pos pos = c->placement[e].lcore;
	uint64_t set[2];
	uint32_t main_lcore;
	char path[64];

	if (!c->placement[e].lcore_ok)
		return;
	snprintf(path, sizeof(path), "pipeline.placement[%u].lcore", e);
	if (lcore_entry[p->lcore] != 0) {
		tg_cfg_err(c, pos, path, "lcore %u is already placed (line %u)",
			p->lcore,
			c->placement[lcore_entry[p->lcore] - 1].lcore.line);
		return;
	}
	lcore_entry[p->lcore] = e + 1;
	if (d->lcores[0] == '\0' || tg_cfg_lcores_parse(d->lcores, set) != NULL)
		return;
	/* EAL's main lcore is the lowest of -l; it runs the control thread */
	for (main_lcore = 0; main_lcore < TG_MAX_LCORES; main_lcore++)
		if (set[main_lcore / 64] & (1ull << (main_lcore % 64)))
			break;
	if (!(set[p->lcore / 64] & (1ull << (p->lcore % 64))))
		tg_cfg_err(c, pos, path, "lcore %u is not in dpdk.lcores '%s'",
			p->lcore, d->lcores);
	else if (p->lcore == main_lcore)
		tg_cfg_err(c, pos, path,
			"lcore %u is the main lcore (the first of dpdk.lcores "
			"'%s'): it runs the control thread, place workers on "
			"the others",
			p->lcore, d->lcores);
}

static void
validate_placement(struct tg_cfg_ctx *c)
{
	struct tg_config *cfg = c->cfg;
	struct tg_cfg_pipeline *pl = &cfg->pipeline;
	struct rxq_owner(*own)[TG_CFG_MAX_RXQ];
	uint16_t lcore_entry[TG_MAX_LCORES] = {0};
	uint16_t stage_entry[TG_CFG_N_STAGES] = {0};
	bool refs_ok = true, stages_ok = true;
	char path[96];
	uint16_t e, k, q;
	uint32_t j;

	if (pl->n_placement == 0)
		return;
	own = calloc(TG_MAX_PORTS, sizeof(*own));
	if (own == NULL) {
		c->nomem = true;
		return;
	}
	for (e = 0; e < pl->n_placement; e++) {
		struct tg_cfg_placement *p = &pl->placement[e];
		const struct tg_cfg_src_placement *src = &c->placement[e];

		if (src->bad_list)
			refs_ok = stages_ok = false;
		placement_lcore(c, e, lcore_entry);
		placement_rxqs(c, e, own, &refs_ok);
		for (j = 0; j < src->n_stages; j++) {
			uint8_t st = src->stages[j].stage;

			if (st >= TG_CFG_N_STAGES) {
				stages_ok = false;
				continue;
			}
			snprintf(path, sizeof(path),
				"pipeline.placement[%u].stages[%u]", e, j);
			if (stage_entry[st] == e + 1)
				tg_cfg_err(c, src->stages[j].pos, path,
					"stage '%s' is listed twice",
					tg_cfg_stage_names[st]);
			else if (stage_entry[st] != 0)
				tg_cfg_err(c, src->stages[j].pos, path,
					"stage '%s' already runs on lcore %u",
					tg_cfg_stage_names[st],
					pl->placement[stage_entry[st] - 1]
						.lcore);
			else
				stage_entry[st] = e + 1;
			p->stage_mask |= 1u << st;
		}
		if (src->n_ports == 0 && src->n_stages == 0) {
			snprintf(path, sizeof(path), "pipeline.placement[%u]",
				e);
			tg_cfg_err(c, p->pos, path,
				"an entry needs ports or stages (or both)");
		}
	}
	/* Coverage, unless a bad reference already explains a gap. */
	for (k = 0; k < cfg->n_ports && refs_ok; k++)
		for (q = 0; q < cfg->ports[k].rx_queues; q++)
			if (own[k][q].entry == 0)
				tg_cfg_err(c, c->placement_pos,
					"pipeline.placement",
					"rx queue %s:%u is polled by no lcore",
					cfg->ports[k].name, q);
	for (k = 0; k < TG_CFG_N_STAGES && stages_ok; k++)
		if (stage_entry[k] == 0)
			tg_cfg_err(c, c->placement_pos, "pipeline.placement",
				"stage '%s' runs on no lcore",
				tg_cfg_stage_names[k]);
	free(own);
}

void
tg_cfg_validate(struct tg_cfg_ctx *c)
{
	validate_ports(c);
	validate_ifaces(c);
	validate_routes(c);
	validate_neighbors(c);
	validate_placement(c);
	validate_local_filter(c);
	tg_cfg_natfw_validate(c);
	tg_cfg_ipsec_validate(c);
}
