/* SPDX-License-Identifier: BSD-3-Clause
 * Validation of the ipsec: section (config_ipsec.c walks it): duplicate
 * names and SPIs, the SAs protect policies name and their directions,
 * tunnel endpoints against the interfaces; the policies' evaluation
 * order (tg_cfg_ipsec_order); and the refusal of a section whose stage
 * is not built yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* ------------------------------------------------------------- order */

struct order_key {
	uint32_t idx;
	uint8_t plen; /* src_len + dst_len, 0..64 */
	bool any_proto;
	uint64_t pairs; /* (source port, destination port) pairs */
};

static int
order_cmp(const void *x, const void *y)
{
	const struct order_key *a = x, *b = y;

	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1;
	if (a->any_proto != b->any_proto)
		return a->any_proto ? 1 : -1;
	if (a->pairs != b->pairs)
		return a->pairs < b->pairs ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int
tg_cfg_ipsec_order(const struct tg_cfg_ipsec_policy *p, uint32_t n,
	uint8_t rule, uint32_t *order)
{
	struct order_key *k;
	uint32_t i;

	if (rule == TG_CFG_IPSEC_ORDER_AS_WRITTEN || n < 2) {
		for (i = 0; i < n; i++)
			order[i] = i;
		return 0;
	}
	k = malloc(n * sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		k[i].idx = i;
		k[i].plen = (uint8_t)(p[i].src_len + p[i].dst_len);
		k[i].any_proto = p[i].any_proto;
		k[i].pairs = (uint64_t)(p[i].sport_hi - p[i].sport_lo + 1) *
			     (uint64_t)(p[i].dport_hi - p[i].dport_lo + 1);
	}
	qsort(k, n, sizeof(*k), order_cmp);
	for (i = 0; i < n; i++)
		order[i] = k[i].idx;
	free(k);
	return 0;
}

/* -------------------------------------------------------- duplicates */

struct name_key {
	const char *name;
	uint32_t idx;
};

static int
name_cmp(const void *x, const void *y)
{
	const struct name_key *a = x, *b = y;
	int r = strcmp(a->name, b->name);

	return r != 0 ? r : (a->idx < b->idx ? -1 : a->idx > b->idx);
}

/* The names of @p n entries of @p stride bytes, sorted; entries whose
 * name did not parse are left out. Reports a repeated name at each
 * later entry. */
static struct name_key *
names_sorted(struct tg_cfg_ctx *c, const char *base, size_t stride, uint32_t n,
	const bool *ok, size_t ok_stride, const struct tg_cfg_pos *pos,
	size_t pos_stride, const char *list, const char *what, uint32_t *n_out)
{
	struct name_key *k = malloc((n ? n : 1) * sizeof(*k));
	char path[64];
	uint32_t i, m = 0, first = 0;

	if (k == NULL) {
		c->nomem = true;
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (*(const bool *)((const char *)ok + i * ok_stride))
			k[m++] = (struct name_key){base + i * stride, i};
	qsort(k, m, sizeof(*k), name_cmp);
	for (i = 1; i < m; i++) {
		const struct tg_cfg_pos *at, *p0;

		if (strcmp(k[i].name, k[i - 1].name) != 0) {
			first = i;
			continue;
		}
		at = (const struct tg_cfg_pos *)((const char *)pos +
						 k[i].idx * pos_stride);
		p0 = (const struct tg_cfg_pos *)((const char *)pos +
						 k[first].idx * pos_stride);
		snprintf(path, sizeof(path), "ipsec.%s[%u].name", list,
			k[i].idx);
		tg_cfg_err(c, *at, path,
			"%s '%s' is defined twice (first at "
			"line %u)",
			what, k[i].name, p0->line);
	}
	*n_out = m;
	return k;
}

struct spi_key {
	uint32_t spi;
	uint8_t dir, proto;
	uint32_t idx;
};

static int
spi_cmp(const void *x, const void *y)
{
	const struct spi_key *a = x, *b = y;

	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	if (a->spi != b->spi)
		return a->spi < b->spi ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* An SPI names one SA per direction and protocol (RFC 4301 4.1: the
 * receiver looks the SA up by SPI and protocol). */
static void
spi_dups(struct tg_cfg_ctx *c)
{
	const struct tg_cfg_ipsec *ip = &c->cfg->ipsec;
	const struct tg_cfg_src_ipsec_sa *ss = c->ipsec->sa;
	struct spi_key *k = malloc((ip->n_sas ? ip->n_sas : 1) * sizeof(*k));
	uint32_t i, m = 0, first = 0;
	char path[64];

	if (k == NULL) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < ip->n_sas; i++)
		if (ss[i].spi_ok && ss[i].dir_ok && ss[i].proto_ok)
			k[m++] = (struct spi_key){ip->sas[i].spi,
				ip->sas[i].dir, ip->sas[i].proto, i};
	qsort(k, m, sizeof(*k), spi_cmp);
	for (i = 1; i < m; i++) {
		const struct tg_cfg_ipsec_sa *a, *b;

		if (k[i].spi != k[i - 1].spi || k[i].dir != k[i - 1].dir ||
			k[i].proto != k[i - 1].proto) {
			first = i;
			continue;
		}
		a = &ip->sas[k[first].idx];
		b = &ip->sas[k[i].idx];
		snprintf(path, sizeof(path), "ipsec.sas[%u].spi", k[i].idx);
		tg_cfg_err(c, ss[k[i].idx].spi, path,
			"SPI %u (0x%x) is already used by %s %s SA '%s' (line "
			"%u): an SPI names one SA per direction and protocol",
			b->spi, b->spi,
			b->dir == TG_CFG_IPSEC_OUT ? "outbound" : "inbound",
			b->proto == TG_CFG_IPSEC_AH ? "ah" : "esp", a->name,
			ss[k[first].idx].spi.line);
	}
	free(k);
}

/* ------------------------------------------------------ shared keys */

static const struct tg_cfg_ipsec *keys_of; /* for key_cmp(): qsort */

/* ESP cipher key and salt, then SA index: equal keys end up together. */
static int
key_cmp(const void *x, const void *y)
{
	const struct tg_cfg_ipsec_keys *a = &keys_of->sas[*(const uint32_t *)x].keys;
	const struct tg_cfg_ipsec_keys *b = &keys_of->sas[*(const uint32_t *)y].keys;
	int d;

	if (a->key_len != b->key_len)
		return a->key_len < b->key_len ? -1 : 1;
	if ((d = memcmp(a->key, b->key, a->key_len)) != 0 ||
		(d = (int)a->salt_len - (int)b->salt_len) != 0 ||
		(d = memcmp(a->salt, b->salt, a->salt_len)) != 0)
		return d;
	return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/*
 * No two ESP SAs may share a cipher key (and salt): rte_ipsec derives the
 * IV from the sequence number (for AES-GCM it is the sequence number), so
 * two SAs with one key — two tunnels, or the two directions of one —
 * would encrypt their packet n under the same nonce, which breaks GCM's
 * confidentiality and authenticity (NIST SP 800-38D 8) and repeats CBC's
 * IVs. The message names the other SA, never the key.
 */
static void
shared_keys(struct tg_cfg_ctx *c)
{
	const struct tg_cfg_ipsec *ip = &c->cfg->ipsec;
	uint32_t *k = malloc((ip->n_sas ? ip->n_sas : 1) * sizeof(*k));
	uint32_t i, m = 0;
	char path[64];

	if (k == NULL) {
		c->nomem = true;
		return;
	}
	for (i = 0; i < ip->n_sas; i++)
		if (ip->sas[i].proto == TG_CFG_IPSEC_ESP &&
			ip->sas[i].keys.key_len > 0)
			k[m++] = i;
	keys_of = ip;
	qsort(k, m, sizeof(*k), key_cmp);
	for (i = 1; i < m; i++) {
		const struct tg_cfg_ipsec_sa *a = &ip->sas[k[i - 1]];
		const struct tg_cfg_ipsec_sa *b = &ip->sas[k[i]];

		if (a->keys.key_len != b->keys.key_len ||
			memcmp(a->keys.key, b->keys.key, a->keys.key_len) != 0 ||
			a->keys.salt_len != b->keys.salt_len ||
			memcmp(a->keys.salt, b->keys.salt, a->keys.salt_len) != 0)
			continue;
		snprintf(path, sizeof(path), "ipsec.sas[%u]", k[i]);
		tg_cfg_err(c, b->pos, path,
			"SA '%s' has the same %s as SA '%s' (line %u): the IV "
			"comes from the sequence number, so the two would "
			"reuse nonces; give every SA its own key",
			b->name,
			a->keys.salt_len > 0 ? "key and salt" : "cipher key",
			a->name, a->pos.line);
	}
	free(k);
}

/* ------------------------------------------------------- references */

/* The SA a policy names for one side, checked for its direction. */
static uint32_t
sa_ref(struct tg_cfg_ctx *c, const struct name_key *sorted, uint32_t n_sorted,
	const struct tg_cfg_ref *r, uint8_t dir, uint32_t pol, bool pair)
{
	const struct tg_cfg_ipsec *ip = &c->cfg->ipsec;
	const char *side = dir == TG_CFG_IPSEC_OUT ? "outbound" : "inbound";
	struct name_key key;
	const struct name_key *hit = NULL;
	char name[TG_CFG_IPSEC_NAME_MAX], path[64];
	uint32_t lo = 0, hi = n_sorted;

	if (r->name == NULL)
		return TG_CFG_IPSEC_NO_SA;
	snprintf(path, sizeof(path),
		pair ? "ipsec.policies[%u].sa.%s" : "ipsec.policies[%u].sa",
		pol, side);
	snprintf(name, sizeof(name), "%.*s",
		(int)(r->len < sizeof(name) ? r->len : sizeof(name) - 1),
		r->name);
	key.name = name;
	while (lo < hi) { /* the first entry of that name */
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(sorted[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n_sorted && strcmp(sorted[lo].name, key.name) == 0)
		hit = &sorted[lo];
	if (hit == NULL) {
		tg_cfg_err(c, r->pos, path, "unknown SA '%.40s'%s", name,
			ip->n_sas == 0 ? " (ipsec.sas is empty)" : "");
		return TG_CFG_IPSEC_NO_SA;
	}
	if (!c->ipsec->sa[hit->idx].dir_ok)
		return TG_CFG_IPSEC_NO_SA;
	if (ip->sas[hit->idx].dir != dir) {
		tg_cfg_err(c, r->pos, path,
			"SA '%s' is %s: the %s side of a policy is protected "
			"by an %s SA",
			name,
			ip->sas[hit->idx].dir == TG_CFG_IPSEC_OUT ? "outbound"
								  : "inbound",
			side, side);
		return TG_CFG_IPSEC_NO_SA;
	}
	return hit->idx;
}

static void
policy_refs(struct tg_cfg_ctx *c, const struct name_key *sas, uint32_t n_sas)
{
	struct tg_cfg_ipsec *ip = &c->cfg->ipsec;
	uint32_t i;

	for (i = 0; i < ip->n_policies; i++) {
		struct tg_cfg_ipsec_policy *p = &ip->policies[i];
		const struct tg_cfg_src_ipsec_pol *ps = &c->ipsec->pol[i];

		if (!ps->sa_given)
			continue;
		if (p->dir != TG_CFG_IPSEC_IN)
			p->sa_out = sa_ref(c, sas, n_sas, &ps->sa_out,
				TG_CFG_IPSEC_OUT, i, ps->sa_pair);
		if (p->dir != TG_CFG_IPSEC_OUT)
			p->sa_in = sa_ref(c, sas, n_sas, &ps->sa_in,
				TG_CFG_IPSEC_IN, i, ps->sa_pair);
	}
}

/* A tunnel's local end is one of the appliance's addresses. */
static void
tunnel_locals(struct tg_cfg_ctx *c)
{
	struct tg_config *cfg = c->cfg;
	struct tg_cfg_ipsec *ip = &cfg->ipsec;
	char list[200], a[16], path[64];
	uint32_t i;
	uint16_t k;
	size_t o;

	for (i = 0; i < ip->n_sas; i++) {
		struct tg_cfg_ipsec_sa *sa = &ip->sas[i];

		if (!c->ipsec->sa[i].local_ok)
			continue;
		for (k = 0; k < cfg->n_ifaces; k++)
			if (c->iface[k].addr_ok &&
				cfg->ifaces[k].addr == sa->local)
				break;
		if (k < cfg->n_ifaces) {
			sa->local_iface = k;
			continue;
		}
		for (k = 0, o = 0, list[0] = '\0';
			k < cfg->n_ifaces && o < sizeof(list); k++) {
			tg_cfg_ipv4_fmt(cfg->ifaces[k].addr, a);
			o += (size_t)snprintf(list + o, sizeof(list) - o,
				"%s%s %s", o ? ", " : "", cfg->ifaces[k].name,
				a);
		}
		tg_cfg_ipv4_fmt(sa->local, a);
		snprintf(path, sizeof(path), "ipsec.sas[%u].local", i);
		tg_cfg_err(c, c->ipsec->sa[i].local, path,
			"%s is not an address of the appliance (%s%s): the "
			"tunnel's local end must be an interface address",
			a, cfg->n_ifaces ? "interfaces: " : "no interfaces",
			list);
	}
}

void
tg_cfg_ipsec_validate(struct tg_cfg_ctx *c)
{
	struct tg_cfg_ipsec *ip = &c->cfg->ipsec;
	struct name_key *k;
	uint32_t n;

	if (c->ipsec == NULL)
		return;
	k = names_sorted(c, ip->policies ? ip->policies[0].name : NULL,
		sizeof(*ip->policies), ip->n_policies,
		c->ipsec->pol ? &c->ipsec->pol[0].name_ok : NULL,
		sizeof(*c->ipsec->pol),
		c->ipsec->pol ? &c->ipsec->pol[0].name : NULL,
		sizeof(*c->ipsec->pol), "policies", "policy", &n);
	free(k);
	k = names_sorted(c, ip->sas ? ip->sas[0].name : NULL, sizeof(*ip->sas),
		ip->n_sas, c->ipsec->sa ? &c->ipsec->sa[0].name_ok : NULL,
		sizeof(*c->ipsec->sa),
		c->ipsec->sa ? &c->ipsec->sa[0].name : NULL,
		sizeof(*c->ipsec->sa), "sas", "SA", &n);
	if (k == NULL)
		return;
	spi_dups(c);
	shared_keys(c);
	policy_refs(c, k, n);
	free(k);
	tunnel_locals(c);
	if (ip->n_policies > 0) {
		ip->order = malloc(ip->n_policies * sizeof(*ip->order));
		if (ip->order == NULL ||
			tg_cfg_ipsec_order(ip->policies, ip->n_policies,
				ip->policy_order, ip->order) < 0)
			c->nomem = true;
	}
}
