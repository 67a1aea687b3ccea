/* SPDX-License-Identifier: BSD-3-Clause
 * The filters: key of an interface: an inbound and an outbound list of
 * ordered rules, the syntax of their values (protocols, prefixes, port
 * ranges), the conditions that need a protocol, and unique rule names.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* rule.action while the list's mode may still be unknown (the keys of a
 * mapping come in any order): the default is applied after the walk. */
#define ACTION_UNSET 0xff

#define PROTO_FORMS "any, icmp, tcp, udp, gre, esp, ah or a number 0..255"

/* ------------------------------------------------------- single values */

static bool
check_rule_name(const char *s, void *dst, char *msg, size_t len)
{
	return tg_cfg_name_check(
		s, TG_CFG_FILTER_RULE_NAME_MAX, "rule name", dst, msg, len);
}

static bool
check_mode(const char *s, void *dst, char *msg, size_t len)
{
	if (strcmp(s, "allow-listed") == 0)
		*(uint8_t *)dst = TG_CFG_FILTER_ALLOW_LISTED;
	else if (strcmp(s, "deny-listed") == 0)
		*(uint8_t *)dst = TG_CFG_FILTER_DENY_LISTED;
	else {
		snprintf(msg, len,
			"unknown mode '%.40s': allow-listed (drop what no rule "
			"allows) or deny-listed (pass what no rule denies)",
			s);
		return false;
	}
	return true;
}

static bool
check_action(const char *s, void *dst, char *msg, size_t len)
{
	if (strcmp(s, "allow") == 0)
		*(uint8_t *)dst = TG_CFG_FILTER_ALLOW;
	else if (strcmp(s, "deny") == 0)
		*(uint8_t *)dst = TG_CFG_FILTER_DENY;
	else {
		snprintf(msg, len, "unknown action '%.40s': allow or deny", s);
		return false;
	}
	return true;
}

/* any, a name (any case, as local_filter takes them) or 0..255. */
static bool
fn_protocol(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_rule *r = base;
	const char *s = tg_cfg_want_text(c, v, "a protocol (" PROTO_FORMS ")");
	struct tg_cfg_pos pos = tg_cfg_node_pos(v);

	if (s == NULL)
		return false;
	if (strcasecmp(s, "any") == 0) {
		r->any_proto = true;
		return true;
	}
	switch (tg_cfg_proto_parse(c, pos, s, &r->proto)) {
	case TG_CFG_PROTO_OK:
		r->any_proto = false;
		return true;
	case TG_CFG_PROTO_UNKNOWN:
		tg_cfg_err(c, pos, NULL,
			"unknown protocol '%.40s': " PROTO_FORMS, s);
		return false;
	default:
		return false;
	}
}

/* any, a.b.c.d (a /32) or a.b.c.d/len with the host bits zero. */
static bool
fn_src(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_rule *r = base;

	return tg_cfg_prefix_value(c, v, true, &r->src, &r->src_len);
}

static bool
fn_dst(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_rule *r = base;

	return tg_cfg_prefix_value(c, v, true, &r->dst, &r->dst_len);
}

/* A port 0..65535 or an inclusive range "LO-HI". */
static bool
fn_sport(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_rule *r = base;

	return tg_cfg_port_range(c, v, 0, &r->sport_lo, &r->sport_hi);
}

static bool
fn_dport(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_rule *r = base;

	return tg_cfg_port_range(c, v, 0, &r->dport_lo, &r->dport_hi);
}

/* ------------------------------------------------------------------ rules */

/* A rule is walked here, then copied into the list: established is a
 * match bit in the model, a boolean in the YAML. */
struct rule_stage {
	struct tg_cfg_filter_rule r;
	bool established;
};

/* clang-format off */
#define RS(m) offsetof(struct rule_stage, m)
#define R_FN(k, f) {.key = k, .type = TG_CFG_FT_FN, .off = RS(r), .fn = f}
#define R_U8(k, m) {.key = k, .type = TG_CFG_FT_UINT, .size = 1, \
	.off = RS(r.m), .min = 0, .max = 255}
enum {
	FR_NAME, FR_ACTION, FR_PROTO, FR_SRC, FR_DST, FR_SPORT, FR_DPORT,
	FR_ICMP_TYPE, FR_ICMP_CODE, FR_EST, FR__N
};
static const struct tg_cfg_field rule_fields[FR__N] = {
	[FR_NAME] = {.key = "name", .type = TG_CFG_FT_CHECK,
		.flags = TG_CFG_FF_REQUIRED, .off = RS(r.name),
		.check = check_rule_name},
	[FR_ACTION] = {.key = "action", .type = TG_CFG_FT_CHECK,
		.off = RS(r.action), .check = check_action},
	[FR_PROTO] = R_FN("protocol", fn_protocol),
	[FR_SRC] = R_FN("src", fn_src),
	[FR_DST] = R_FN("dst", fn_dst),
	[FR_SPORT] = R_FN("src_port", fn_sport),
	[FR_DPORT] = R_FN("dst_port", fn_dport),
	[FR_ICMP_TYPE] = R_U8("icmp_type", icmp_type),
	[FR_ICMP_CODE] = R_U8("icmp_code", icmp_code),
	[FR_EST] = {.key = "established", .type = TG_CFG_FT_BOOL,
		.off = RS(established)},
};
/* clang-format on */

/* A name to sort: duplicates are found in O(n log n), not O(n^2). */
struct name_key {
	const char *name;
	uint32_t idx;
	struct tg_cfg_pos pos;
};

struct rules_walk {
	struct tg_cfg_filter_list *l;
	struct name_key *keys;
	uint32_t n_keys;
};

/* "(the rule's protocol is gre)" or "(... 132)": for messages. */
static const char *
proto_desc(const struct tg_cfg_filter_rule *r, char *buf, size_t len)
{
	const char *name = tg_cfg_proto_name(r->proto);

	if (name != NULL) {
		snprintf(buf, len, " (the rule's protocol is %s)", name);
		return buf;
	}
	snprintf(buf, len, " (the rule's protocol is %u)", r->proto);
	return buf;
}

/* Report @p key of the current rule: it needs protocol @p want. */
static void
needs(struct tg_cfg_ctx *c, const struct tg_cfg_seen *s, const char *key,
	const char *want, const struct tg_cfg_filter_rule *r)
{
	char path[sizeof(c->path) + 16], desc[48];

	snprintf(path, sizeof(path), "%s.%s", c->path, key);
	tg_cfg_err(c, tg_cfg_node_pos(s->key), path, "%s needs protocol: %s%s",
		key, want,
		r->any_proto ? "" : proto_desc(r, desc, sizeof(desc)));
}

/* The conditions that only make sense for one protocol. @p proto_ok:
 * the protocol is known (given and valid, or not given: any). */
static void
rule_conditions(struct tg_cfg_ctx *c, struct rule_stage *st,
	const struct tg_cfg_seen *s, bool proto_ok)
{
	struct tg_cfg_filter_rule *r = &st->r;
	bool tcp = !r->any_proto && r->proto == 6;
	bool tcpudp = tcp || (!r->any_proto && r->proto == 17);
	bool icmp = !r->any_proto && r->proto == 1;
	char path[sizeof(c->path) + 16];

	if (s[FR_SPORT].ok)
		r->match |= TG_CFG_FR_SPORT;
	if (s[FR_DPORT].ok)
		r->match |= TG_CFG_FR_DPORT;
	if (s[FR_ICMP_TYPE].ok)
		r->match |= TG_CFG_FR_ICMP_TYPE;
	if (s[FR_ICMP_CODE].ok)
		r->match |= TG_CFG_FR_ICMP_CODE;
	if (s[FR_EST].ok && st->established)
		r->match |= TG_CFG_FR_ESTABLISHED;
	if (!proto_ok)
		return; /* its error explains the rest */

	if (s[FR_SPORT].node != NULL && !tcpudp)
		needs(c, &s[FR_SPORT], "src_port", "tcp or udp", r);
	if (s[FR_DPORT].node != NULL && !tcpudp)
		needs(c, &s[FR_DPORT], "dst_port", "tcp or udp", r);
	if (s[FR_ICMP_TYPE].node != NULL && !icmp)
		needs(c, &s[FR_ICMP_TYPE], "icmp_type", "icmp", r);
	if (s[FR_ICMP_CODE].node != NULL && !icmp) {
		needs(c, &s[FR_ICMP_CODE], "icmp_code", "icmp", r);
	} else if (s[FR_ICMP_CODE].node != NULL &&
		   s[FR_ICMP_TYPE].node == NULL) {
		snprintf(path, sizeof(path), "%s.icmp_code", c->path);
		tg_cfg_err(c, tg_cfg_node_pos(s[FR_ICMP_CODE].key), path,
			"icmp_code needs icmp_type (a code means something "
			"only within a type)");
	}
	/* established: false is no condition, whatever the protocol */
	if (s[FR_EST].ok && st->established && !tcp)
		needs(c, &s[FR_EST], "established", "tcp", r);
}

static bool
rule_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct rules_walk *w = arg;
	struct tg_cfg_seen s[FR__N];
	struct rule_stage st;

	memset(&st, 0, sizeof(st));
	st.r.action = ACTION_UNSET;
	st.r.any_proto = true;
	st.r.pos = tg_cfg_node_pos(item);
	if (tg_cfg_walk_map(c, item, rule_fields, FR__N, &st, s))
		rule_conditions(
			c, &st, s, s[FR_PROTO].node == NULL || s[FR_PROTO].ok);
	w->l->rules[i] = st.r;
	if (s[FR_NAME].ok)
		w->keys[w->n_keys++] = (struct name_key){w->l->rules[i].name,
			(uint32_t)i, tg_cfg_node_pos(s[FR_NAME].node)};
	return true; /* a bad rule does not hide the next ones */
}

static int
name_key_cmp(const void *x, const void *y)
{
	const struct name_key *a = x, *b = y;
	int d = strcmp(a->name, b->name);

	if (d != 0)
		return d;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Each name after the first of its kind, in the list's order of keys. */
static void
report_dup_names(struct tg_cfg_ctx *c, struct name_key *k, uint32_t n)
{
	char path[sizeof(c->path) + 32];
	uint32_t i, first = 0;

	qsort(k, n, sizeof(*k), name_key_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(k[i].name, k[first].name) != 0) {
			first = i;
			continue;
		}
		snprintf(path, sizeof(path), "%s[%u].name", c->path, k[i].idx);
		tg_cfg_err(c, k[i].pos, path,
			"duplicate rule name '%s' (first at line %u)",
			k[i].name, k[first].pos.line);
	}
}

static bool
fn_rules(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct rules_walk w = {.l = base};
	size_t n = tg_cfg_list_len(v);
	bool ok;

	/* Refused as a whole, unchecked: checking would cost the memory of
	 * a million rules for a list that cannot be used anyway. */
	if (n > TG_CFG_FILTER_MAX_RULES) {
		const yaml_node_t *over = yaml_document_get_node(c->doc,
			v->data.sequence.items.start[TG_CFG_FILTER_MAX_RULES]);
		char path[sizeof(c->path) + 16];

		snprintf(path, sizeof(path), "%s[%u]", c->path,
			TG_CFG_FILTER_MAX_RULES);
		tg_cfg_err(c, tg_cfg_node_pos(over), path,
			"too many rules: %zu (at most %u in a list)", n,
			TG_CFG_FILTER_MAX_RULES);
		return false;
	}
	if (n > 0) {
		w.l->rules = calloc(n, sizeof(*w.l->rules));
		w.keys = malloc(n * sizeof(*w.keys));
		if (w.l->rules == NULL || w.keys == NULL) {
			free(w.keys);
			c->nomem = true;
			return false;
		}
		w.l->n_rules = (uint32_t)n;
	}
	ok = tg_cfg_for_each(c, v, n, "rules", rule_item, &w);
	if (w.n_keys > 1)
		report_dup_names(c, w.keys, w.n_keys);
	free(w.keys);
	return ok;
}

/* ------------------------------------------------------------- the lists */

enum { FL_MODE, FL_RULES };
static const struct tg_cfg_field list_fields[] = {
	[FL_MODE] = {.key = "mode",
		.type = TG_CFG_FT_CHECK,
		.flags = TG_CFG_FF_REQUIRED,
		.off = offsetof(struct tg_cfg_filter_list, mode),
		.check = check_mode},
	[FL_RULES] = {.key = "rules", .type = TG_CFG_FT_FN, .fn = fn_rules},
};

static bool
fn_list(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_filter_list *l = base;
	uint8_t dflt;
	uint32_t i;
	bool ok;

	l->set = true;
	l->pos = tg_cfg_node_pos(v);
	ok = tg_cfg_walk_map(c, v, list_fields,
		sizeof(list_fields) / sizeof(list_fields[0]), l, NULL);
	/* The default action is the one that makes a rule worth writing. */
	dflt = l->mode == TG_CFG_FILTER_ALLOW_LISTED ? TG_CFG_FILTER_ALLOW
						     : TG_CFG_FILTER_DENY;
	for (i = 0; i < l->n_rules; i++)
		if (l->rules[i].action == ACTION_UNSET)
			l->rules[i].action = dflt;
	return ok;
}

/* clang-format off */
#define DIR_FIELD(k, d) {.key = k, .type = TG_CFG_FT_FN, \
	.off = offsetof(struct tg_cfg_iface, filters) + \
		(d) * sizeof(struct tg_cfg_filter_list), .fn = fn_list}
static const struct tg_cfg_field dir_fields[] = {
	DIR_FIELD("inbound", TG_CFG_FILTER_IN),
	DIR_FIELD("outbound", TG_CFG_FILTER_OUT),
};
/* clang-format on */

bool
tg_cfg_filters_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return tg_cfg_walk_map(c, v, dir_fields,
		sizeof(dir_fields) / sizeof(dir_fields[0]), base, NULL);
}
