/* SPDX-License-Identifier: BSD-3-Clause
 * /tollgate/filters: the filter hook's lists as the running snapshot has
 * them, with rule hit counts (summed over the lcores, plus what a reload
 * carried over for unchanged rules). Without a parameter: one line per
 * list; with IFACE,DIR[,START[,COUNT]]: that list's rules, paged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_tel.h"
#include "tg_filter.h"
#include "tg_pipeline.h"

static const char *const dir_names[TG_CFG_FILTER__DIRS] = {"in", "out"};

static const char *
mode_name(uint8_t mode)
{
	return mode == TG_CFG_FILTER_ALLOW_LISTED ? "allow-listed"
						  : "deny-listed";
}

static void
proto_str(uint8_t p, char *buf, size_t len)
{
	static const struct {
		uint8_t p;
		const char *name;
	} names[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {47, "gre"},
		{50, "esp"}, {51, "ah"}};
	size_t i;

	for (i = 0; i < RTE_DIM(names); i++)
		if (names[i].p == p) {
			snprintf(buf, len, "%s", names[i].name);
			return;
		}
	snprintf(buf, len, "%u", p);
}

static void
add_prefix(struct rte_tel_data *c, const char *key, uint32_t a, uint8_t len)
{
	char ip[16], buf[24];

	if (len == 0)
		return; /* any: not shown, as in the YAML */
	tg_tel_ip_str(a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s/%u", ip, len);
	rte_tel_data_add_dict_string(c, key, buf);
}

static void
add_range(struct rte_tel_data *c, const char *key, uint16_t lo, uint16_t hi)
{
	char buf[16];

	if (lo == hi)
		snprintf(buf, sizeof(buf), "%u", lo);
	else
		snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	rte_tel_data_add_dict_string(c, key, buf);
}

/* One rule: the keys it was written with, its action and hits. */
static void
add_rule(struct rte_tel_data *c, const struct tg_cfg_filter_rule *r,
	uint64_t hits)
{
	char buf[TG_CFG_FILTER_RULE_NAME_MAX];

	rte_tel_data_add_dict_string(
		c, "name", tg_tel_ascii(r->name, buf, sizeof(buf)));
	rte_tel_data_add_dict_string(c, "action",
		r->action == TG_CFG_FILTER_DENY ? "deny" : "allow");
	if (!r->any_proto) {
		proto_str(r->proto, buf, sizeof(buf));
		rte_tel_data_add_dict_string(c, "protocol", buf);
	}
	add_prefix(c, "src", r->src, r->src_len);
	add_prefix(c, "dst", r->dst, r->dst_len);
	if (r->match & TG_CFG_FR_SPORT)
		add_range(c, "src_port", r->sport_lo, r->sport_hi);
	if (r->match & TG_CFG_FR_DPORT)
		add_range(c, "dst_port", r->dport_lo, r->dport_hi);
	if (r->match & TG_CFG_FR_ICMP_TYPE)
		rte_tel_data_add_dict_u64(c, "icmp_type", r->icmp_type);
	if (r->match & TG_CFG_FR_ICMP_CODE)
		rte_tel_data_add_dict_u64(c, "icmp_code", r->icmp_code);
	if (r->match & TG_CFG_FR_ESTABLISHED)
		rte_tel_data_add_dict_string(c, "established", "yes");
	rte_tel_data_add_dict_u64(c, "line", r->pos.line);
	rte_tel_data_add_dict_u64(c, "hits", hits);
}

static void
add_list_head(struct rte_tel_data *c, const struct tg_tables *t,
	const struct tg_filter_list *l)
{
	rte_tel_data_add_dict_string(
		c, "interface", t->cfg->ifaces[l->iface].name);
	rte_tel_data_add_dict_string(c, "direction", dir_names[l->dir]);
	rte_tel_data_add_dict_string(c, "mode", mode_name(l->mode));
}

static void
summary(struct rte_tel_data *d, const struct tg_tables *t)
{
	const struct tg_filter_table *ft = t->filter;
	struct rte_tel_data *arr = rte_tel_data_alloc();
	char key[16];
	uint16_t i;

	const struct tg_filter_cache *fc =
		tg_pipeline_filter_cache(tg_tel_ctl->pl);

	rte_tel_data_add_dict_string(d, "method", ft->method);
	rte_tel_data_add_dict_u64(d, "generation", t->generation);
	/* The decision cache: since start, of every list (0: none). */
	rte_tel_data_add_dict_u64(
		d, "cache_entries", tg_filter_cache_entries(fc));
	rte_tel_data_add_dict_u64(d, "cache_hits", fc != NULL ? fc->hits : 0);
	rte_tel_data_add_dict_u64(
		d, "cache_misses", fc != NULL ? fc->misses : 0);
	if (arr == NULL)
		return;
	rte_tel_data_start_dict(arr);
	for (i = 0; i < ft->n_lists; i++) {
		const struct tg_filter_list *l = &ft->lists[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		uint64_t hits = 0;
		uint32_t r;

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		add_list_head(c, t, l);
		for (r = 0; r < l->n_rules; r++)
			hits += tg_filter_hits(ft, i, r);
		rte_tel_data_add_dict_u64(c, "rules", l->n_rules);
		rte_tel_data_add_dict_u64(c, "rule_hits", hits);
		rte_tel_data_add_dict_u64(
			c, "no_match", tg_filter_hits(ft, i, l->n_rules));
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(arr, key, c, 0);
	}
	rte_tel_data_add_dict_container(d, "lists", arr, 0);
}

/* "IFACE,DIR[,START[,COUNT]]" → the list, and the page. */
static int
parse_list(const struct tg_tables *t, const char *params, uint16_t *list,
	uint32_t *start, uint32_t *count, char *err, size_t errlen)
{
	char name[TG_NAME_MAX], dir[16], safe[TG_NAME_MAX];
	const char *c1 = strchr(params, ','), *c2;
	size_t n;
	uint16_t i;
	int d;

	if (c1 == NULL || (size_t)(c1 - params) >= sizeof(name)) {
		snprintf(err, errlen,
			"parameters: IFACE,DIR[,START[,COUNT]] "
			"(DIR: in or out)");
		return -EINVAL;
	}
	memcpy(name, params, c1 - params);
	name[c1 - params] = '\0';
	c2 = strchr(c1 + 1, ',');
	n = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (n >= sizeof(dir)) {
		snprintf(err, errlen, "DIR: in or out");
		return -EINVAL;
	}
	memcpy(dir, c1 + 1, n);
	dir[n] = '\0';
	if (strcmp(dir, "in") == 0 || strcmp(dir, "inbound") == 0)
		d = TG_CFG_FILTER_IN;
	else if (strcmp(dir, "out") == 0 || strcmp(dir, "outbound") == 0)
		d = TG_CFG_FILTER_OUT;
	else {
		snprintf(err, errlen, "DIR: in or out");
		return -EINVAL;
	}
	if (tg_tel_parse_page(c2 ? c2 + 1 : "", start, count) < 0) {
		snprintf(err, errlen,
			"START[,COUNT]: decimal, COUNT at most "
			"120");
		return -EINVAL;
	}
	if (tg_config_iface_find(t->cfg, name) < 0) {
		snprintf(err, errlen, "no interface named '%s'",
			tg_tel_ascii(name, safe, sizeof(safe)));
		return -ENOENT;
	}
	for (i = 0; i < t->filter->n_lists; i++) {
		const struct tg_filter_list *l = &t->filter->lists[i];

		if (l->dir == d &&
			strcmp(t->cfg->ifaces[l->iface].name, name) == 0) {
			*list = i;
			return 0;
		}
	}
	snprintf(err, errlen, "%s has no %s filters", name,
		d == TG_CFG_FILTER_IN ? "inbound" : "outbound");
	return -ENOENT;
}

static void
rules_page(struct rte_tel_data *d, const struct tg_tables *t, uint16_t li,
	uint32_t start, uint32_t count)
{
	const struct tg_filter_list *l = &t->filter->lists[li];
	struct rte_tel_data *arr;
	size_t used = 0;
	char key[16];
	uint32_t i;

	add_list_head(d, t, l);
	rte_tel_data_add_dict_u64(d, "generation", t->generation);
	rte_tel_data_add_dict_u64(d, "total", l->n_rules);
	rte_tel_data_add_dict_u64(d, "start", start);
	rte_tel_data_add_dict_u64(
		d, "no_match", tg_filter_hits(t->filter, li, l->n_rules));
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		return;
	rte_tel_data_start_dict(arr);
	for (i = start; i < l->n_rules && i - start < count; i++) {
		struct rte_tel_data *c;

		/* keys and quotes, two prefixes, ranges, numbers, the name */
		used += 260 + strlen(l->rules[i].name);
		if (used > PAGE_BUDGET && i > start)
			break;
		c = rte_tel_data_alloc();
		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		add_rule(c, &l->rules[i], tg_filter_hits(t->filter, li, i));
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(arr, key, c, 0);
	}
	rte_tel_data_add_dict_container(d, "rules", arr, 0);
	if (i < l->n_rules)
		rte_tel_data_add_dict_u64(d, "next", i);
}

int
tg_tel_filters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_tables *t;
	uint32_t start, count;
	char err[128];
	uint16_t li;
	int rc = 0;

	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	if (t == NULL || t->filter == NULL) {
		rte_tel_data_start_dict(d);
		goto out;
	}
	if (params == NULL || *params == '\0') {
		rte_tel_data_start_dict(d);
		summary(d, t);
		goto out;
	}
	rc = parse_list(t, params, &li, &start, &count, err, sizeof(err));
	if (rc < 0) {
		rc = tg_tel_reply_error(d, err);
		goto out;
	}
	rte_tel_data_start_dict(d);
	rules_page(d, t, li, start, count);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}
