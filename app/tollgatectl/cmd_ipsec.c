/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl ipsec, ipsec sa [NAME], ipsec spd: the ipsec stage's
 * settings, crypto device and drops; its SAs with their counters (all
 * pages, from one snapshot), or one SA field by field; its policies in
 * evaluation order with their hits.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tollgatectl.h"

#define CMD_SUMMARY "/tollgate/ipsec"
#define CMD_SA	    "/tollgate/ipsec/sa"
#define CMD_SPD	    "/tollgate/ipsec/spd"
#define RETRIES	    3 /* when a reload happens while paging */

/* An unsigned member, 0 when missing. */
static uint64_t
u64_of(const struct json_value *v, const char *key)
{
	const struct json_value *x = json_get(v, key);

	return x != NULL && x->type == JSON_UINT ? x->v.u : 0;
}

static bool
is_yes(const struct json_value *v, const char *key)
{
	const char *s = json_str(json_get(v, key));

	return s != NULL && strcmp(s, "yes") == 0;
}

/* Every page of @p cmd from one snapshot: read again when the
 * configuration's generation moved meanwhile. */
static int
fetch(struct tel_conn *t, const char *cmd, const char *key,
	struct ctl_pages *pg)
{
	uint64_t g0, g1 = 0;
	int rc, tries;

	for (tries = 0;; tries++) {
		g0 = ctl_generation(t, &rc);
		if (rc == 0)
			rc = ctl_fetch_pages(t, cmd, NULL, key, pg);
		if (rc == 0)
			g1 = ctl_generation(t, &rc);
		if (rc != 0) {
			json_pages_free(&pg->p);
			return rc;
		}
		if (g0 == g1)
			return CTL_OK;
		json_pages_free(&pg->p);
		memset(pg, 0, sizeof(*pg));
		if (tries + 1 == RETRIES) {
			fprintf(stderr,
				"tollgatectl: the configuration kept changing "
				"while %s was read\n",
				cmd);
			return CTL_FAILED;
		}
	}
}

/* "a.b.c.d>e.f.g.h" for a tunnel, "-" in transport mode. */
static const char *
tunnel_str(const struct json_value *s, char *buf, size_t len)
{
	const char *l = json_str(json_get(s, "local"));
	const char *r = json_str(json_get(s, "remote"));

	if (l == NULL || r == NULL)
		return "-";
	snprintf(buf, len, "%s>%s", l, r);
	return buf;
}

/* err_auth + err_replay + err_other + expired */
static const char *
errors_str(const struct json_value *s, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64,
		u64_of(s, "err_auth") + u64_of(s, "err_replay") +
			u64_of(s, "err_other") + u64_of(s, "expired"));
	return buf;
}

static const char *
life_state(const struct json_value *s)
{
	return is_yes(s, "hard_reached")   ? "hard-expired"
	       : is_yes(s, "soft_reached") ? "soft-expired"
					   : "ok";
}

static int
sa_table(const struct ctl_pages *pg)
{
	char name[80], spi[24], dir[16], mode[16], alg[40], tun[40], pk[24],
		by[24], seq[24], err[24], re[16];
	const struct json_value *s;
	struct table tb;
	size_t p;

	if (pg->count == 0) {
		printf("SAs: none\n");
		return CTL_OK;
	}
	table_init(&tb, "lrllllrrrrll", "NAME", "SPI", "DIR", "MODE",
		"ALGORITHM", "TUNNEL", "PACKETS", "BYTES", "SEQ", "ERRORS",
		"LIFETIME", "REUSED");
	for (p = 0; p < pg->p.n; p++)
		for (s = pg->p.vals[p]->v.kids.first; s != NULL; s = s->next)
			table_row(&tb,
				ctl_fmt(json_get(s, "name"), name,
					sizeof(name)),
				ctl_fmt(json_get(s, "spi_hex"), spi,
					sizeof(spi)),
				ctl_fmt(json_get(s, "direction"), dir,
					sizeof(dir)),
				ctl_fmt(json_get(s, "mode"), mode,
					sizeof(mode)),
				ctl_fmt(json_get(s, "algorithm"), alg,
					sizeof(alg)),
				tunnel_str(s, tun, sizeof(tun)),
				ctl_fmt(json_get(s, "packets"), pk, sizeof(pk)),
				ctl_fmt(json_get(s, "bytes"), by, sizeof(by)),
				ctl_fmt(json_get(s, "seq"), seq, sizeof(seq)),
				errors_str(s, err, sizeof(err)), life_state(s),
				ctl_fmt(json_get(s, "reused"), re, sizeof(re)));
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* The ipsec drops that are not 0, as NAME COUNT; "drops: none". */
static int
drops_table(const struct json_value *obj)
{
	const struct json_value *c;
	struct table tb;
	char n[24], name[64];
	int rows = 0;

	table_init(&tb, "lr", "DROP", "COUNT");
	for (c = obj != NULL && obj->type == JSON_OBJECT ? obj->v.kids.first
							 : NULL;
		c != NULL; c = c->next) {
		if (c->type != JSON_UINT || c->v.u == 0)
			continue;
		snprintf(name, sizeof(name), "ipsec.%s", c->key);
		table_row(&tb, name, ctl_fmt(c, n, sizeof(n)));
		rows++;
	}
	if (rows == 0) {
		table_free(&tb);
		printf("drops: none\n");
		return 0;
	}
	return table_print(&tb, stdout, "");
}

int
ctl_ipsec(struct tel_conn *t, const struct ctl_opts *o)
{
	char gen[24], order[32], bypass[16], dev[96], id[24], drv[64], inf[24],
		np[24], ns[24], nr[24], lk[24], xo[24], xi[24];
	const struct json_value *v, *c;
	struct ctl_pages pg = {0};
	struct json_doc *doc;
	int rc;

	rc = tel_query(t, CMD_SUMMARY, NULL, &doc, &v);
	if (rc != 0)
		return rc;
	if (json_get(v, "enabled") == NULL) { /* nothing running yet */
		if (o->json)
			ctl_print_raw(t, t->len);
		else
			printf("ipsec: no configuration yet\n");
		json_free(doc);
		return CTL_OK;
	}
	rc = fetch(t, CMD_SA, "sas", &pg);
	if (rc != CTL_OK) {
		json_free(doc);
		return rc;
	}
	if (o->json) {
		/* one object: the summary, and the SA pages merged */
		putchar('{');
		json_write_string(stdout, CMD_SUMMARY, strlen(CMD_SUMMARY));
		putchar(':');
		json_write(stdout, v);
		putchar(',');
		ctl_print_merged_member(CMD_SA, "sas", &pg);
		printf("}\n");
		json_pages_free(&pg.p);
		json_free(doc);
		return CTL_OK;
	}
	printf("ipsec: %s, generation %s\n",
		is_yes(v, "enabled") ? "enabled" : "disabled",
		ctl_fmt(json_get(v, "generation"), gen, sizeof(gen)));
	c = json_get(v, "crypto");
	if (json_get(v, "crypto_device") != NULL)
		printf("crypto device: %s (dev_id %s, driver %s), "
		       "operations in flight: %s\n",
			ctl_fmt(json_get(v, "crypto_device"), dev, sizeof(dev)),
			ctl_fmt(json_get(c, "dev_id"), id, sizeof(id)),
			ctl_fmt(json_get(c, "driver"), drv, sizeof(drv)),
			ctl_fmt(json_get(v, "inflight"), inf, sizeof(inf)));
	else
		printf("crypto device: none (ipsec was off at start)\n");
	printf("policy order: %s, allow authenticated bypass: %s\n",
		ctl_fmt(json_get(v, "policy_order"), order, sizeof(order)),
		ctl_fmt(json_get(v, "allow_authenticated_bypass"), bypass,
			sizeof(bypass)));
	printf("policies: %s (lookup: %s; rules in the destination index: "
	       "%s outbound, %s inbound), SAs: %s (%s kept from the previous "
	       "configuration)\n",
		ctl_fmt(json_get(v, "policies"), np, sizeof(np)),
		ctl_fmt(json_get(v, "spd_lookup"), lk, sizeof(lk)),
		ctl_fmt(json_get(v, "spd_indexed_out"), xo, sizeof(xo)),
		ctl_fmt(json_get(v, "spd_indexed_in"), xi, sizeof(xi)),
		ctl_fmt(json_get(v, "sas"), ns, sizeof(ns)),
		ctl_fmt(json_get(v, "sas_reused"), nr, sizeof(nr)));
	putchar('\n');
	if (drops_table(json_get(v, "drops")) != 0)
		rc = CTL_FAILED;
	putchar('\n');
	if (sa_table(&pg) != CTL_OK)
		rc = CTL_FAILED;
	json_pages_free(&pg.p);
	json_free(doc);
	return rc;
}

/* One SA, a line per field, in the order tollgate sends them. */
static int
sa_detail(const struct json_value *s)
{
	const struct json_value *f;
	struct table tb;
	char val[96];

	table_init(&tb, "ll", "FIELD", "VALUE");
	for (f = s->v.kids.first; f != NULL; f = f->next)
		table_row(&tb, f->key, ctl_fmt(f, val, sizeof(val)));
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

int
ctl_ipsec_sa(struct tel_conn *t, const struct ctl_opts *o, const char *name)
{
	const struct json_value *s, *found = NULL;
	struct ctl_pages pg = {0};
	size_t p;
	int rc;

	rc = fetch(t, CMD_SA, "sas", &pg);
	if (rc != CTL_OK)
		return rc;
	if (name == NULL) {
		if (ctl_json_done(o, CMD_SA, "sas", &pg))
			return CTL_OK;
		rc = sa_table(&pg);
		json_pages_free(&pg.p);
		return rc;
	}
	for (p = 0; p < pg.p.n && found == NULL; p++)
		for (s = pg.p.vals[p]->v.kids.first; s != NULL; s = s->next) {
			const char *n = json_str(json_get(s, "name"));

			if (n != NULL && strcmp(n, name) == 0) {
				found = s;
				break;
			}
		}
	if (found == NULL) {
		fprintf(stderr, "tollgatectl: no SA named '%s'\n", name);
		json_pages_free(&pg.p);
		return CTL_FAILED;
	}
	if (o->json) {
		printf("{\"" CMD_SA "\":{\"total\":1,\"start\":0,\"sas\":{");
		json_write_string(stdout, found->key, found->key_len);
		putchar(':');
		json_write(stdout, found);
		printf("}}}\n");
		rc = CTL_OK;
	} else {
		rc = sa_detail(found);
	}
	json_pages_free(&pg.p);
	return rc;
}

/* "out/in" SA names of a policy: "X" for one side, "X/Y" for both. */
static const char *
sa_names(const struct json_value *r, char *buf, size_t len)
{
	const char *o = json_str(json_get(r, "sa_out"));
	const char *i = json_str(json_get(r, "sa_in"));

	if (o == NULL && i == NULL)
		return "-";
	if (o != NULL && i != NULL)
		snprintf(buf, len, "%s/%s", o, i);
	else
		snprintf(buf, len, "%s", o != NULL ? o : i);
	return buf;
}

int
ctl_ipsec_spd(struct tel_conn *t, const struct ctl_opts *o)
{
	char idx[24], name[80], dir[16], act[16], src[24], dst[24], pr[16],
		sp[16], dp[16], sas[170], ho[24], hi[24];
	const struct json_value *r;
	struct ctl_pages pg = {0};
	struct table tb;
	size_t p;
	int rc;

	rc = fetch(t, CMD_SPD, "policies", &pg);
	if (rc != CTL_OK)
		return rc;
	if (ctl_json_done(o, CMD_SPD, "policies", &pg))
		return CTL_OK;
	if (pg.count == 0) {
		json_pages_free(&pg.p);
		printf("policies: none\n");
		return CTL_OK;
	}
	printf("%" PRIu64 " policies in evaluation order, first match "
	       "wins\n\n",
		pg.count);
	table_init(&tb, "rlllllllllrr", "#", "NAME", "DIR", "ACTION", "SRC",
		"DST", "PROTO", "SPORT", "DPORT", "SA", "HITS_OUT", "HITS_IN");
	for (p = 0; p < pg.p.n; p++)
		for (r = pg.p.vals[p]->v.kids.first; r != NULL; r = r->next) {
			snprintf(idx, sizeof(idx), "%.*s", (int)r->key_len,
				r->key);
			table_row(&tb, idx,
				ctl_fmt(json_get(r, "name"), name,
					sizeof(name)),
				ctl_fmt(json_get(r, "direction"), dir,
					sizeof(dir)),
				ctl_fmt(json_get(r, "action"), act,
					sizeof(act)),
				ctl_fmt(json_get(r, "src"), src, sizeof(src)),
				ctl_fmt(json_get(r, "dst"), dst, sizeof(dst)),
				ctl_fmt(json_get(r, "protocol"), pr,
					sizeof(pr)),
				ctl_fmt_any(json_get(r, "src_port"), sp,
					sizeof(sp)),
				ctl_fmt_any(json_get(r, "dst_port"), dp,
					sizeof(dp)),
				sa_names(r, sas, sizeof(sas)),
				ctl_fmt(json_get(r, "hits_out"), ho,
					sizeof(ho)),
				ctl_fmt(json_get(r, "hits_in"), hi,
					sizeof(hi)));
		}
	json_pages_free(&pg.p);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}
