/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl interfaces, routes, neighbors: tables, the paged ones read
 * page after page by following "next".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tollgatectl.h"

#define PAGE_FIRST  100	       /* entries asked for per page */
#define MAX_ENTRIES (1u << 24) /* a table larger than this is a bug */
#define RETRIES	    3	       /* when a reload happens while paging */
/* More than any entry of a sparse table takes (a NAT session: ~260). */
#define SPARSE_SLACK 1024

/*
 * START,COUNT pages until one comes without "next". DPDK leaves out, with
 * no sign, whatever does not fit its max_output_len: a page that holds
 * fewer entries than it claims (next - start, or total - start on the
 * last) is asked again, half as large. A sparse table claims no number:
 * there a page is suspect when its reply came within SPARSE_SLACK bytes
 * of max_output_len, the room an entry it lost would have needed.
 */
int
ctl_fetch_pages(struct tel_conn *t, const char *cmd, const char *params0,
	const char *key, struct ctl_pages *pg)
{
	const struct json_value *val, *ents;
	uint64_t start = 0, total = 0, next, expect;
	unsigned int count = PAGE_FIRST;
	struct json_doc *doc;
	char params[160];
	bool more, lost;
	int rc;

	for (;;) {
		snprintf(params, sizeof(params), "%s%s%" PRIu64 ",%u",
			params0 ? params0 : "", params0 ? "," : "", start,
			count);
		rc = tel_query(t, cmd, params, &doc, &val);
		if (rc != 0)
			return rc;
		ents = json_get(val, key);
		if (ents == NULL && val->type == JSON_OBJECT &&
			val->v.kids.n == 0) {
			json_free(doc); /* nothing running yet: empty */
			return CTL_OK;
		}
		if (ents == NULL || ents->type != JSON_OBJECT ||
			(!pg->sparse && json_u64(json_get(val, "total"),
						&total) != 0)) {
			fprintf(stderr,
				"tollgatectl: %s: reply without %s\"%s\"\n",
				cmd, pg->sparse ? "" : "\"total\" and ", key);
			goto failed;
		}
		more = json_u64(json_get(val, "next"), &next) == 0;
		if (more && next <= start) {
			fprintf(stderr,
				"tollgatectl: %s: \"next\" %" PRIu64
				" does not advance past %" PRIu64 "\n",
				cmd, next, start);
			goto failed;
		}
		if (pg->sparse) {
			lost = t->len + SPARSE_SLACK > t->max_output_len;
		} else {
			expect = more		 ? next - start
				 : total > start ? total - start
						 : 0;
			lost = ents->v.kids.n < expect;
		}
		if (lost) {
			json_free(doc);
			if (count == 1) {
				fprintf(stderr,
					"tollgatectl: %s: one entry does not "
					"fit a reply\n",
					cmd);
				return CTL_FAILED;
			}
			count /= 2;
			continue;
		}
		if (json_pages_add(&pg->p, doc, ents) < 0) {
			fprintf(stderr, "tollgatectl: out of memory\n");
			goto failed;
		}
		pg->count += ents->v.kids.n;
		if (pg->count > MAX_ENTRIES) {
			fprintf(stderr,
				"tollgatectl: %s: more than %u entries\n", cmd,
				MAX_ENTRIES);
			return CTL_FAILED;
		}
		if (!more)
			return CTL_OK;
		start = next;
	}
failed:
	json_free(doc);
	return CTL_FAILED;
}

void
ctl_print_entries(const struct ctl_pages *pg)
{
	const struct json_value *e;
	bool first = true;
	size_t i;

	for (i = 0; i < pg->p.n; i++) {
		for (e = pg->p.vals[i]->v.kids.first; e != NULL; e = e->next) {
			if (!first)
				putchar(',');
			first = false;
			json_write_string(stdout, e->key, e->key_len);
			putchar(':');
			json_write(stdout, e);
		}
	}
}

/* "<cmd>": {"total": N, "start": 0, "<key>": {...}}: the pages as one. */
void
ctl_print_merged_member(
	const char *cmd, const char *key, const struct ctl_pages *pg)
{
	json_write_string(stdout, cmd, strlen(cmd));
	printf(":{\"total\":%" PRIu64 ",\"start\":0,", pg->count);
	json_write_string(stdout, key, strlen(key));
	printf(":{");
	ctl_print_entries(pg);
	printf("}}");
}

/* As one page holding everything: {"<cmd>": {"total": N, "start": 0,
 * "<key>": {...}}}. */
static void
print_merged(const char *cmd, const char *key, const struct ctl_pages *pg)
{
	putchar('{');
	ctl_print_merged_member(cmd, key, pg);
	printf("}\n");
}

uint64_t
ctl_generation(struct tel_conn *t, int *rc)
{
	const struct json_value *v;
	struct json_doc *doc;
	uint64_t g = 0;

	*rc = tel_query(t, "/tollgate/config", NULL, &doc, &v);
	if (*rc == 0)
		json_u64(json_get(v, "generation"), &g);
	json_free(doc);
	return g;
}

/* --json: the pages merged into one reply, and the pages freed. */
bool
ctl_json_done(const struct ctl_opts *o, const char *cmd, const char *key,
	struct ctl_pages *pg)
{
	if (!o->json)
		return false;
	print_merged(cmd, key, pg);
	json_pages_free(&pg->p);
	return true;
}

int
ctl_interfaces(struct tel_conn *t, const struct ctl_opts *o)
{
	char port[64], id[24], addr[64], mtu[24], mac[64];
	const struct json_value *v, *i;
	struct json_doc *doc;
	struct table tb;
	int rc;

	rc = ctl_query_or_raw(t, o, "/tollgate/interfaces", &doc, &v);
	if (rc != CTL_OK)
		return rc == CTL_PRINTED ? CTL_OK : rc;
	table_init(&tb, "llrlrl", "NAME", "PORT", "PORT_ID", "ADDRESS", "MTU",
		"MAC");
	for (i = v->type == JSON_OBJECT ? v->v.kids.first : NULL; i != NULL;
		i = i->next)
		table_row(&tb, i->key,
			ctl_fmt(json_get(i, "port"), port, sizeof(port)),
			ctl_fmt(json_get(i, "port_id"), id, sizeof(id)),
			ctl_fmt(json_get(i, "address"), addr, sizeof(addr)),
			ctl_fmt(json_get(i, "mtu"), mtu, sizeof(mtu)),
			ctl_fmt(json_get(i, "mac"), mac, sizeof(mac)));
	json_free(doc);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

int
ctl_routes(struct tel_conn *t, const struct ctl_opts *o)
{
	char prefix[64], via[64], ifc[64], origin[32];
	const struct json_value *r;
	struct ctl_pages pg = {0};
	uint64_t g0, g1;
	struct table tb;
	int rc, tries;
	size_t p;

	/* Routes come from one snapshot; a reload between two pages would
	 * mix two tables, so read again when the generation moved. */
	for (tries = 0;; tries++) {
		g0 = ctl_generation(t, &rc);
		if (rc == 0)
			rc = ctl_fetch_pages(
				t, "/tollgate/routes", NULL, "routes", &pg);
		if (rc == 0)
			g1 = ctl_generation(t, &rc);
		if (rc != 0) {
			json_pages_free(&pg.p);
			return rc;
		}
		if (g0 == g1)
			break;
		json_pages_free(&pg.p);
		if (tries + 1 == RETRIES) {
			fprintf(stderr,
				"tollgatectl: the configuration kept changing "
				"while the routes were read\n");
			return CTL_FAILED;
		}
	}
	if (ctl_json_done(o, "/tollgate/routes", "routes", &pg))
		return CTL_OK;
	table_init(&tb, "llll", "PREFIX", "VIA", "INTERFACE", "ORIGIN");
	for (p = 0; p < pg.p.n; p++)
		for (r = pg.p.vals[p]->v.kids.first; r != NULL; r = r->next)
			table_row(&tb,
				ctl_fmt(json_get(r, "prefix"), prefix,
					sizeof(prefix)),
				ctl_fmt(json_get(r, "via"), via, sizeof(via)),
				ctl_fmt(json_get(r, "interface"), ifc,
					sizeof(ifc)),
				ctl_fmt(json_get(r, "origin"), origin,
					sizeof(origin)));
	json_pages_free(&pg.p);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

int
ctl_neighbors(struct tel_conn *t, const struct ctl_opts *o)
{
	char addr[64], mac[64], ifc[64], state[32], held[24], age[32];
	const struct json_value *n;
	struct ctl_pages pg = {0};
	struct table tb;
	uint64_t ms;
	size_t p;
	int rc;

	/* The cache is live: entries may come and go between two pages,
	 * which no retry would fix. */
	rc = ctl_fetch_pages(t, "/tollgate/neighbors", NULL, "neighbors", &pg);
	if (rc != 0) {
		json_pages_free(&pg.p);
		return rc;
	}
	if (ctl_json_done(o, "/tollgate/neighbors", "neighbors", &pg))
		return CTL_OK;
	table_init(&tb, "llllrr", "ADDRESS", "MAC", "INTERFACE", "STATE",
		"HELD", "AGE_S");
	for (p = 0; p < pg.p.n; p++) {
		for (n = pg.p.vals[p]->v.kids.first; n != NULL; n = n->next) {
			if (json_u64(json_get(n, "age_ms"), &ms) == 0)
				snprintf(age, sizeof(age), "%.1f",
					(double)ms / 1000);
			else
				snprintf(age, sizeof(age), "-");
			table_row(&tb,
				ctl_fmt(json_get(n, "address"), addr,
					sizeof(addr)),
				ctl_fmt(json_get(n, "mac"), mac, sizeof(mac)),
				ctl_fmt(json_get(n, "interface"), ifc,
					sizeof(ifc)),
				ctl_fmt(json_get(n, "state"), state,
					sizeof(state)),
				ctl_fmt(json_get(n, "held"), held,
					sizeof(held)),
				age);
		}
	}
	json_pages_free(&pg.p);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}
