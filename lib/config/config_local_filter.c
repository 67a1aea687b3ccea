/* SPDX-License-Identifier: BSD-3-Clause
 * The local_filter: section: its keys, the syntax of its allow-lists
 * ("all", numbers, "LO-HI" ranges, protocol names) and the per-interface
 * overrides. Interface names are resolved by config_validate.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* What the entries of one list may be. */
struct lf_kind {
	const char *noun; /* "protocol", "port" */
	const char *form; /* the accepted forms, for messages */
	uint32_t max;
	bool names; /* icmp, tcp, udp */
};

static const struct lf_kind lf_protocols = {"protocol",
	"a number 0..255, icmp, tcp, udp or a range \"LO-HI\"", 255, true};
static const struct lf_kind lf_ports = {
	"port", "a number 0..65535 or a range \"LO-HI\"", 65535, false};

static const struct {
	const char *name;
	uint16_t proto;
} lf_names[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}};

/* One entry: a number, a name, or "LO-HI". Reports and returns false
 * when it is none of them. */
static bool
lf_entry(struct tg_cfg_ctx *c, const yaml_node_t *item, const struct lf_kind *k,
	uint16_t *lo, uint16_t *hi)
{
	struct tg_cfg_pos pos = tg_cfg_node_pos(item);
	const char *s = tg_cfg_scalar_text(item);
	char what[80];
	size_t i;

	snprintf(what, sizeof(what), "a %s (%s)", k->noun, k->form);
	if (s == NULL) {
		tg_cfg_want_text(c, item, what);
		return false;
	}
	if (strcasecmp(s, "all") == 0) {
		tg_cfg_err(c, pos, NULL,
			"'all' stands for the whole list, not an entry: write "
			"'all' instead of the list");
		return false;
	}
	for (i = 0; k->names && i < sizeof(lf_names) / sizeof(lf_names[0]);
		i++) {
		if (strcasecmp(s, lf_names[i].name) == 0) {
			*lo = *hi = lf_names[i].proto;
			return true;
		}
	}
	return tg_cfg_range_text(c, item, s, what, 0, k->max, lo, hi);
}

struct lf_walk {
	struct tg_cfg_lf_list *l;
	const struct lf_kind *k;
};

static bool
lf_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct lf_walk *w = arg;
	uint16_t lo, hi;

	if (lf_entry(c, item, w->k, &lo, &hi)) {
		w->l->r[w->l->n].lo = lo;
		w->l->r[w->l->n].hi = hi;
		w->l->n++;
	}
	return true; /* report every bad entry */
}

/* "all", or a list of entries ([] lets nothing pass). */
static bool
lf_list(struct tg_cfg_ctx *c, const yaml_node_t *v, void *dst,
	const struct lf_kind *k)
{
	struct lf_walk w = {dst, k};
	char buf[80];

	memset(w.l, 0, sizeof(*w.l));
	w.l->set = true;
	if (v->type == YAML_SCALAR_NODE &&
		strcmp((const char *)v->data.scalar.value, "all") == 0) {
		w.l->all = true;
		return true;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"expected all or a list of %ss, got %s", k->noun,
			tg_cfg_describe(v, buf, sizeof(buf)));
		return false;
	}
	return tg_cfg_for_each(
		c, v, TG_CFG_LF_MAX_RANGES, "entries", lf_item, &w);
}

static bool
fn_protocols(struct tg_cfg_ctx *c, const yaml_node_t *v, void *dst)
{
	return lf_list(c, v, dst, &lf_protocols);
}

static bool
fn_ports(struct tg_cfg_ctx *c, const yaml_node_t *v, void *dst)
{
	return lf_list(c, v, dst, &lf_ports);
}

/* clang-format off */
#define LF_LIST(k, st, m, f) {.key = k, .type = TG_CFG_FT_FN, \
	.off = offsetof(st, m), .fn = f}
/* clang-format on */

enum { LFI_IFACE };
static const struct tg_cfg_field lf_iface_fields[] = {
	[LFI_IFACE] = {.key = "interface",
		.type = TG_CFG_FT_REF,
		.flags = TG_CFG_FF_REQUIRED},
	LF_LIST("protocols", struct tg_cfg_lf_rules, protocols, fn_protocols),
	LF_LIST("tcp_ports", struct tg_cfg_lf_rules, tcp_ports, fn_ports),
	LF_LIST("udp_ports", struct tg_cfg_lf_rules, udp_ports, fn_ports),
};

static bool
lf_iface_item(
	struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_local_filter *lf = arg;
	struct tg_cfg_seen
		s[sizeof(lf_iface_fields) / sizeof(lf_iface_fields[0])];

	lf->overrides[i].pos = tg_cfg_node_pos(item);
	lf->n_overrides = (uint16_t)(i + 1);
	tg_cfg_walk_map(c, item, lf_iface_fields,
		sizeof(lf_iface_fields) / sizeof(lf_iface_fields[0]),
		&lf->overrides[i].rules, s);
	c->lf_iface[i] = tg_cfg_seen_ref(&s[LFI_IFACE]);
	return true;
}

static bool
fn_lf_ifaces(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return tg_cfg_for_each(
		c, v, TG_MAX_PORTS, "interface overrides", lf_iface_item, base);
}

static const struct tg_cfg_field lf_fields[] = {
	{.key = "enabled",
		.type = TG_CFG_FT_BOOL,
		.off = offsetof(struct tg_cfg_local_filter, enabled)},
	LF_LIST("protocols", struct tg_cfg_local_filter, global.protocols,
		fn_protocols),
	LF_LIST("tcp_ports", struct tg_cfg_local_filter, global.tcp_ports,
		fn_ports),
	LF_LIST("udp_ports", struct tg_cfg_local_filter, global.udp_ports,
		fn_ports),
	{.key = "interfaces", .type = TG_CFG_FT_FN, .fn = fn_lf_ifaces},
};

bool
tg_cfg_local_filter_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_local_filter *lf =
		&((struct tg_config *)base)->local_filter;
	struct tg_cfg_lf_list *g[] = {&lf->global.protocols,
		&lf->global.tcp_ports, &lf->global.udp_ports};
	size_t i;
	bool ok;

	lf->enabled = true; /* a present section is on unless it says not */
	ok = tg_cfg_walk_map(c, v, lf_fields,
		sizeof(lf_fields) / sizeof(lf_fields[0]), lf, NULL);
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (!g[i]->set)
			*g[i] = (struct tg_cfg_lf_list){
				.set = true, .all = true};
	return ok;
}
