/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl nat, nat sessions [ADDR], firewall: the natfw stage's
 * settings and session table summary, every session (all pages of the
 * live table), and the firewall's exceptions, ICMP policy and dynamic
 * entries.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tollgatectl.h"

#define CMD_SUMMARY  "/tollgate/nat/summary"
#define CMD_SESSIONS "/tollgate/nat/sessions"
#define CMD_FIREWALL "/tollgate/firewall"
#define ICMP_TYPES   16 /* per direction; tollgate sends 4 in, 6 out */

/* An unsigned member, 0 when missing. */
static uint64_t
u64_of(const struct json_value *v, const char *key)
{
	const struct json_value *x = json_get(v, key);

	return x != NULL && x->type == JSON_UINT ? x->v.u : 0;
}

/* "name N, name N, ..." of an object of numbers. */
static void
print_pairs(const struct json_value *obj)
{
	const struct json_value *c;
	char n[24];

	if (obj == NULL || obj->type != JSON_OBJECT) {
		printf("-");
		return;
	}
	for (c = obj->v.kids.first; c != NULL; c = c->next)
		printf("%s%s %s", c == obj->v.kids.first ? "" : ", ", c->key,
			ctl_fmt(c, n, sizeof(n)));
}

/* A two-column table NAME COUNT of an object of numbers; with
 * @p nonzero only the counts that are not 0. Returns the rows printed
 * (none: no table, not even its header), or -1 when out of memory. */
static int
counts_table(const struct json_value *obj, const char *title, bool nonzero)
{
	const struct json_value *c;
	struct table tb;
	char n[24];
	int rows = 0;

	table_init(&tb, "lr", title, nonzero ? "COUNT" : "SESSIONS");
	for (c = obj != NULL && obj->type == JSON_OBJECT ? obj->v.kids.first
							 : NULL;
		c != NULL; c = c->next) {
		if (nonzero && (c->type != JSON_UINT || c->v.u == 0))
			continue;
		table_row(&tb, c->key, ctl_fmt(c, n, sizeof(n)));
		rows++;
	}
	if (rows == 0) {
		table_free(&tb);
		return 0;
	}
	putchar('\n');
	return table_print(&tb, stdout, "") == 0 ? rows : -1;
}

int
ctl_nat(struct tel_conn *t, const struct ctl_opts *o)
{
	char nat[16], fw[16], filt[64], gen[24], max[24], addr[24], ports[24],
		tcp[24], udp[24], ig[24];
	const struct json_value *v, *a;
	struct json_doc *doc;
	struct table tb;
	int rc = CTL_OK;

	rc = ctl_query_or_raw(t, o, CMD_SUMMARY, &doc, &v);
	if (rc != CTL_OK)
		return rc == CTL_PRINTED ? CTL_OK : rc;
	printf("nat: %s, firewall: %s, filtering: %s, generation %s\n",
		ctl_fmt(json_get(v, "nat"), nat, sizeof(nat)),
		ctl_fmt(json_get(v, "firewall"), fw, sizeof(fw)),
		ctl_fmt(json_get(v, "filtering"), filt, sizeof(filt)),
		ctl_fmt(json_get(v, "generation"), gen, sizeof(gen)));
	printf("timeouts (s): ");
	print_pairs(json_get(v, "timeouts"));
	putchar('\n');
	if (json_get(v, "max_sessions") == NULL) {
		printf("\nno session table: nat and firewall are off\n");
		json_free(doc);
		return CTL_OK;
	}

	a = json_get(v, "addresses");
	if (a == NULL || a->type != JSON_OBJECT || a->v.kids.n == 0) {
		printf("\nnat addresses: none\n");
	} else {
		table_init(&tb, "llrrr", "ADDRESS", "PORTS", "TCP_USED",
			"UDP_USED", "ICMP_GRE_USED");
		for (a = a->v.kids.first; a != NULL; a = a->next)
			table_row(&tb,
				ctl_fmt(json_get(a, "address"), addr,
					sizeof(addr)),
				ctl_fmt(json_get(a, "ports"), ports,
					sizeof(ports)),
				ctl_fmt(json_get(a, "tcp_used"), tcp,
					sizeof(tcp)),
				ctl_fmt(json_get(a, "udp_used"), udp,
					sizeof(udp)),
				ctl_fmt(json_get(a, "icmp_gre_used"), ig,
					sizeof(ig)));
		putchar('\n');
		if (table_print(&tb, stdout, "") != 0)
			rc = CTL_FAILED;
	}

	printf("\nsessions: %" PRIu64 " of %s records (%" PRIu64
	       " mappings, %" PRIu64 " hosts); created %" PRIu64
	       ", expired %" PRIu64 ", deleted %" PRIu64 "\n",
		u64_of(v, "sessions"),
		ctl_fmt(json_get(v, "max_sessions"), max, sizeof(max)),
		u64_of(v, "mappings"), u64_of(v, "hosts"), u64_of(v, "created"),
		u64_of(v, "expired"), u64_of(v, "deleted"));
	printf("reload_dropped: %" PRIu64 " (sessions a reload's addresses "
	       "and ranges had no room for; of deleted)\n",
		u64_of(v, "reload_dropped"));
	if (counts_table(json_get(v, "by_protocol"), "PROTOCOL", false) < 0 ||
		counts_table(json_get(v, "tcp_states"), "TCP_STATE", false) < 0)
		rc = CTL_FAILED;
	switch (counts_table(json_get(v, "failed"), "FAILED", true)) {
	case 0:
		printf("\nfailures: none\n");
		break;
	case -1:
		rc = CTL_FAILED;
		break;
	}
	if (json_get(v, "pptp") != NULL) {
		printf("\npptp: ");
		print_pairs(json_get(v, "pptp"));
		putchar('\n');
	}
	json_free(doc);
	return rc;
}

int
ctl_nat_sessions(struct tel_conn *t, const struct ctl_opts *o, const char *addr)
{
	char proto[16], priv[32], pub[32], rem[32], kind[16], state[24],
		tmo[24], idle[24], out[24], in[24];
	const struct json_value *s;
	struct ctl_pages pg = {.sparse = true};
	struct table tb;
	size_t p;
	int rc;

	/* The table is live: sessions come and go between two pages (each
	 * record is read consistently, none shows twice), which no retry
	 * would fix; a reload keeps every session. */
	rc = ctl_fetch_pages(t, CMD_SESSIONS, addr, "entries", &pg);
	if (rc != 0) {
		json_pages_free(&pg.p);
		return rc;
	}
	if (ctl_json_done(o, CMD_SESSIONS, "entries", &pg))
		return CTL_OK;
	table_init(&tb, "lllllllrrr", "PROTO", "PRIVATE", "PUBLIC", "REMOTE",
		"KIND", "STATE", "TIMEOUT", "IDLE", "PKTS_OUT", "PKTS_IN");
	for (p = 0; p < pg.p.n; p++)
		for (s = pg.p.vals[p]->v.kids.first; s != NULL; s = s->next)
			table_row(&tb,
				ctl_fmt(json_get(s, "protocol"), proto,
					sizeof(proto)),
				ctl_fmt(json_get(s, "private"), priv,
					sizeof(priv)),
				ctl_fmt(json_get(s, "public"), pub,
					sizeof(pub)),
				ctl_fmt(json_get(s, "remote"), rem,
					sizeof(rem)),
				ctl_fmt(json_get(s, "kind"), kind,
					sizeof(kind)),
				ctl_fmt(json_get(s, "state"), state,
					sizeof(state)),
				ctl_fmt(json_get(s, "timeout"), tmo,
					sizeof(tmo)),
				ctl_fmt(json_get(s, "idle"), idle,
					sizeof(idle)),
				ctl_fmt(json_get(s, "packets_out"), out,
					sizeof(out)),
				ctl_fmt(json_get(s, "packets_in"), in,
					sizeof(in)));
	json_pages_free(&pg.p);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* The configuration's names for the protocols an exception may have. */
static const char *
proto_str(const struct json_value *v, char *buf, size_t len)
{
	static const struct {
		uint64_t n;
		const char *name;
	} names[] = {
		{6, "tcp"},
		{17, "udp"},
		{47, "gre"},
		{50, "esp"},
		{51, "ah"},
	};
	size_t i;

	if (v != NULL && v->type == JSON_UINT)
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].n == v->v.u)
				return names[i].name;
	return ctl_fmt(v, buf, len);
}

/* The scope's prefixes joined by commas; "any" without one. */
static const char *
scope_str(const struct json_value *v, char *buf, size_t len)
{
	const struct json_value *c;
	size_t used = 0;

	snprintf(buf, len, "any");
	if (v == NULL || v->type != JSON_ARRAY || v->v.kids.n == 0)
		return buf;
	buf[0] = '\0';
	for (c = v->v.kids.first; c != NULL && used < len; c = c->next) {
		int n = snprintf(buf + used, len - used, "%s%s",
			used > 0 ? "," : "",
			json_str(c) != NULL ? json_str(c) : "?");

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* ICMP types allowed or blocked, inbound ("in_echo_request") beside
 * outbound ("out_redirect"): two column pairs. */
static int
icmp_table(const struct json_value *icmp)
{
	const struct json_value *in[ICMP_TYPES], *out[ICMP_TYPES], *c;
	char ip[16], op[16];
	size_t nin = 0, nout = 0, i;
	struct table tb;

	for (c = icmp != NULL && icmp->type == JSON_OBJECT ? icmp->v.kids.first
							   : NULL;
		c != NULL; c = c->next) {
		if (strncmp(c->key, "in_", 3) == 0 && nin < ICMP_TYPES)
			in[nin++] = c;
		else if (strncmp(c->key, "out_", 4) == 0 && nout < ICMP_TYPES)
			out[nout++] = c;
	}
	if (nin == 0 && nout == 0)
		return 0;
	table_init(&tb, "llll", "ICMP_IN", "POLICY", "ICMP_OUT", "POLICY");
	for (i = 0; i < nin || i < nout; i++)
		table_row(&tb, i < nin ? in[i]->key + 3 : "",
			i < nin ? ctl_fmt(in[i], ip, sizeof(ip)) : "",
			i < nout ? out[i]->key + 4 : "",
			i < nout ? ctl_fmt(out[i], op, sizeof(op)) : "");
	putchar('\n');
	return table_print(&tb, stdout, "");
}

int
ctl_firewall(struct tel_conn *t, const struct ctl_opts *o)
{
	char on[16], dyn[24], max[24], name[80], proto[16], port[24],
		scope[16 * 20], ifc[64];
	const struct json_value *v, *e;
	struct json_doc *doc;
	uint64_t n;
	struct table tb;
	int rc;

	rc = ctl_query_or_raw(t, o, CMD_FIREWALL, &doc, &v);
	if (rc != CTL_OK)
		return rc == CTL_PRINTED ? CTL_OK : rc;
	printf("firewall: %s, dynamic entries: %s of %s\n",
		ctl_fmt(json_get(v, "firewall"), on, sizeof(on)),
		ctl_fmt(json_get(v, "dynamic_entries"), dyn, sizeof(dyn)),
		ctl_fmt(json_get(v, "max_dynamic"), max, sizeof(max)));
	if (icmp_table(json_get(v, "icmp")) != 0)
		rc = CTL_FAILED;
	e = json_get(v, "exceptions");
	if (e == NULL || e->type != JSON_OBJECT || e->v.kids.n == 0) {
		printf("\nexceptions: none\n");
		json_free(doc);
		return rc;
	}
	/* tollgate sends at most one answer's worth, and how many there are */
	n = u64_of(v, "n_exceptions");
	n = n > e->v.kids.n ? n - e->v.kids.n : 0;
	table_init(&tb, "lllll", "NAME", "PROTO", "PORT", "SCOPE", "INTERFACE");
	for (e = e->v.kids.first; e != NULL; e = e->next)
		table_row(&tb, ctl_fmt(json_get(e, "name"), name, sizeof(name)),
			proto_str(
				json_get(e, "protocol"), proto, sizeof(proto)),
			ctl_fmt(json_get(e, "port"), port, sizeof(port)),
			scope_str(json_get(e, "scope"), scope, sizeof(scope)),
			json_get(e, "interface") != NULL
				? ctl_fmt(json_get(e, "interface"), ifc,
					  sizeof(ifc))
				: "any");
	putchar('\n');
	if (table_print(&tb, stdout, "") != 0)
		rc = CTL_FAILED;
	if (n > 0)
		printf("(%" PRIu64 " more exceptions not shown: one answer "
		       "holds 120; the YAML has them all)\n",
			n);
	json_free(doc);
	return rc;
}
