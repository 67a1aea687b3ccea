/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl filters [IFACE DIR]: every filter list with its hit totals,
 * or one list's rules in order with their hits (all pages, read from one
 * snapshot).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tollgatectl.h"

#define RETRIES 3 /* when a reload happens while paging */

/* An unsigned member, 0 when missing. */
static uint64_t
u64_of(const struct json_value *v, const char *key)
{
	const struct json_value *x = json_get(v, key);

	return x != NULL && x->type == JSON_UINT ? x->v.u : 0;
}

/* The decision cache: its size and how often it answered. */
static void
cache_line(const struct json_value *v)
{
	uint64_t entries = u64_of(v, "cache_entries");
	uint64_t hits = u64_of(v, "cache_hits");
	uint64_t misses = u64_of(v, "cache_misses");

	if (entries == 0) {
		printf("decision cache: none\n\n");
		return;
	}
	printf("decision cache: %" PRIu64 " entries, %" PRIu64 " hits, %" PRIu64
	       " misses (%.1f %% hits)\n\n",
		entries, hits, misses,
		hits + misses > 0
			? 100.0 * (double)hits / (double)(hits + misses)
			: 0.0);
}

static int
lists(struct tel_conn *t, const struct ctl_opts *o)
{
	char ifc[64], dir[16], mode[32], rules[24], hits[24], nm[24], m[32];
	const struct json_value *v, *l;
	struct json_doc *doc;
	struct table tb;
	int rc;

	rc = ctl_query_or_raw(t, o, "/tollgate/filters", &doc, &v);
	if (rc != CTL_OK)
		return rc == CTL_PRINTED ? CTL_OK : rc;
	l = json_get(v, "lists");
	if (l == NULL || l->type != JSON_OBJECT || l->v.kids.n == 0) {
		printf("no filters configured\n");
		json_free(doc);
		return CTL_OK;
	}
	printf("classify method: %s\n",
		ctl_fmt(json_get(v, "method"), m, sizeof(m)));
	cache_line(v);
	table_init(&tb, "lllrrr", "INTERFACE", "DIR", "MODE", "RULES",
		"RULE_HITS", "NO_MATCH");
	for (l = l->v.kids.first; l != NULL; l = l->next)
		table_row(&tb,
			ctl_fmt(json_get(l, "interface"), ifc, sizeof(ifc)),
			ctl_fmt(json_get(l, "direction"), dir, sizeof(dir)),
			ctl_fmt(json_get(l, "mode"), mode, sizeof(mode)),
			ctl_fmt(json_get(l, "rules"), rules, sizeof(rules)),
			ctl_fmt(json_get(l, "rule_hits"), hits, sizeof(hits)),
			ctl_fmt(json_get(l, "no_match"), nm, sizeof(nm)));
	json_free(doc);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* ICMP "8" or "8/0": type, and code when the rule has one. */
static const char *
icmp_str(const struct json_value *r, char *buf, size_t len)
{
	char ty[24], co[24];

	if (json_get(r, "icmp_type") == NULL)
		return NULL;
	ctl_fmt(json_get(r, "icmp_type"), ty, sizeof(ty));
	if (json_get(r, "icmp_code") == NULL)
		snprintf(buf, len, "%s", ty);
	else
		snprintf(buf, len, "%s/%s", ty,
			ctl_fmt(json_get(r, "icmp_code"), co, sizeof(co)));
	return buf;
}

static int
rules(struct tel_conn *t, const struct ctl_opts *o, const char *iface,
	const char *dir)
{
	char params[96], hparams[112], idx[24], name[80], act[16], proto[16],
		src[24], dst[24], sp[16], dp[16], icmp[56], hits[24];
	const struct json_value *r, *head;
	struct ctl_pages pg = {0};
	struct json_doc *doc;
	uint64_t g0, g1;
	struct table tb;
	int rc, tries;
	size_t p;

	snprintf(params, sizeof(params), "%s,%s", iface, dir);
	snprintf(hparams, sizeof(hparams), "%s,0,1", params);
	/* The header (mode, no-match count) and an error for a list that
	 * does not exist come from a one-entry page first. */
	for (tries = 0;; tries++) {
		g0 = ctl_generation(t, &rc);
		if (rc == 0)
			rc = tel_query(
				t, "/tollgate/filters", hparams, &doc, &head);
		if (rc != 0)
			return rc;
		if (json_get(head, "error") != NULL) {
			fprintf(stderr, "tollgatectl: %s\n",
				ctl_fmt(json_get(head, "error"), name,
					sizeof(name)));
			json_free(doc);
			return CTL_FAILED;
		}
		rc = ctl_fetch_pages(
			t, "/tollgate/filters", params, "rules", &pg);
		if (rc == 0)
			g1 = ctl_generation(t, &rc);
		if (rc != 0) {
			json_pages_free(&pg.p);
			json_free(doc);
			return rc;
		}
		if (g0 == g1)
			break;
		json_pages_free(&pg.p);
		json_free(doc);
		if (tries + 1 == RETRIES) {
			fprintf(stderr,
				"tollgatectl: the configuration kept changing "
				"while the rules were read\n");
			return CTL_FAILED;
		}
	}
	if (ctl_json_done(o, "/tollgate/filters", "rules", &pg)) {
		json_free(doc);
		return CTL_OK;
	}
	printf("%s %s: %s, %" PRIu64 " rules, first match wins\n\n", iface, dir,
		ctl_fmt(json_get(head, "mode"), act, sizeof(act)), pg.count);
	table_init(&tb, "rlllllllllr", "#", "NAME", "ACTION", "PROTO", "SRC",
		"DST", "SPORT", "DPORT", "ICMP", "EST", "HITS");
	for (p = 0; p < pg.p.n; p++)
		for (r = pg.p.vals[p]->v.kids.first; r != NULL; r = r->next) {
			snprintf(idx, sizeof(idx), "%.*s", (int)r->key_len,
				r->key);
			table_row(&tb, idx,
				ctl_fmt(json_get(r, "name"), name,
					sizeof(name)),
				ctl_fmt(json_get(r, "action"), act,
					sizeof(act)),
				ctl_fmt_any(json_get(r, "protocol"), proto,
					sizeof(proto)),
				ctl_fmt_any(json_get(r, "src"), src, sizeof(src)),
				ctl_fmt_any(json_get(r, "dst"), dst, sizeof(dst)),
				ctl_fmt_any(json_get(r, "src_port"), sp,
					sizeof(sp)),
				ctl_fmt_any(json_get(r, "dst_port"), dp,
					sizeof(dp)),
				icmp_str(r, icmp, sizeof(icmp)),
				json_get(r, "established") ? "yes" : NULL,
				ctl_fmt(json_get(r, "hits"), hits,
					sizeof(hits)));
		}
	/* what the list does with a packet no rule matched */
	table_row(&tb, "-", "(no match)",
		strcmp(ctl_fmt(json_get(head, "mode"), act, sizeof(act)),
			"allow-listed") == 0
			? "deny"
			: "allow",
		NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		ctl_fmt(json_get(head, "no_match"), hits, sizeof(hits)));
	json_pages_free(&pg.p);
	json_free(doc);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

int
ctl_filters(struct tel_conn *t, const struct ctl_opts *o, const char *iface,
	const char *dir)
{
	if (iface == NULL)
		return lists(t, o);
	return rules(t, o, iface, dir);
}
