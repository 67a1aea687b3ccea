/* SPDX-License-Identifier: BSD-3-Clause
 * filter: the config model's per-interface lists → one rte_acl context per
 * (interface, direction), the per-rule actions and the hit counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_tcp.h>

#include "tg_filter.h"

/* The fields: tg_acl_key.h's. Layout A is the first TG_ACL_FLD_A__COUNT
 * (13 input bytes), layout B all of them (17: the flags group, for lists
 * with an established rule); later fragments need only the first
 * TG_ACL_FLD_F__COUNT (9: their rules leave the ports wild). */

/* Rules are made with every field and handed to rte_acl at the
 * context's rule size (RTE_ACL_RULE_SZ(fields)): a rule of fewer fields
 * is the first RTE_ACL_RULE_SZ(fields) bytes of one. */
RTE_ACL_RULE_DEF(filter_acl_rule, TG_ACL_FLD__COUNT);

/* The key bytes rte_acl walks with the first @p n_fields fields: the
 * first byte, and 4 per further group. */
static uint32_t
key_bytes(uint32_t n_fields)
{
	return 1 + 4 * tg_acl_key_defs[n_fields - 1].input_index;
}

/*
 * rte_acl_build()'s limit for the run-time structures. 0 (none): rte_acl
 * splits the rules into tries at its smallest node threshold, which
 * keeps the context small and fast while the rules fit its 8 tries
 * (random lists of 100,000 rules: 1 trie, 213 MiB). Lists whose rules
 * overlap more need more tries at that threshold (bench/filter_scale.py's
 * mix: over 8 at 100,000 rules, "Exceeded max number of tries"): they are
 * built again with a limit, which makes rte_acl start at its largest
 * threshold — fewer, much larger tries (that mix: 6 tries, 3 GB).
 */
#define FILTER_ACL_MAX_SIZE	  0
#define FILTER_ACL_MAX_SIZE_RETRY (64ull << 30) /* never reached */

/* rte_acl_add_rules() batch: the rules are copied into the context. */
#define FILTER_ADD_BATCH 64

/* rte_acl_create() returns the live context of the same name, and the
 * replaced snapshot's contexts live on during a reload: every build
 * names its contexts anew. */
static uint32_t filter_build_seq;
/* tg_filter_table.build_id: 64 bits, so never seen twice. */
static uint64_t filter_table_seq;

static const char *const dir_names[TG_CFG_FILTER__DIRS] = {
	[TG_CFG_FILTER_IN] = "inbound",
	[TG_CFG_FILTER_OUT] = "outbound",
};

static const struct {
	enum rte_acl_classify_alg alg;
	const char *name;
} filter_methods[] = {
	{RTE_ACL_CLASSIFY_AVX512X32, "avx512x32"},
	{RTE_ACL_CLASSIFY_AVX512X16, "avx512x16"},
	{RTE_ACL_CLASSIFY_AVX2, "avx2"},
	{RTE_ACL_CLASSIFY_SSE, "sse"},
	{RTE_ACL_CLASSIFY_SCALAR, "scalar"},
};

/* The two contexts of a list (see "Rules" in tg_filter.h). */
enum filter_ctx_kind {
	CTX_MAIN, /* unfragmented packets and first fragments */
	CTX_FRAG, /* later fragments */
};

/* How many rte_acl rules @p r becomes in a context of @p kind. */
static uint32_t
acl_rules_of(const struct tg_cfg_filter_rule *r, enum filter_ctx_kind kind)
{
	if (!(r->match & TG_CFG_FR_L4))
		return 1;
	if (kind == CTX_FRAG)
		return r->action == TG_CFG_FILTER_ALLOW;
	return r->match & TG_CFG_FR_ESTABLISHED ? 2 : 1;
}

/* NULL, or why @p r cannot be built. */
static const char *
rule_invalid(const struct tg_cfg_filter_rule *r)
{
	bool tcp_udp = !r->any_proto &&
		       (r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP);

	if (r->action > TG_CFG_FILTER_DENY)
		return "unknown action";
	if (r->match & ~TG_CFG_FR_L4)
		return "unknown condition";
	if (r->src_len > 32 || r->dst_len > 32)
		return "prefix length over 32";
	if ((r->match & (TG_CFG_FR_SPORT | TG_CFG_FR_DPORT)) && !tcp_udp)
		return "ports need protocol tcp or udp";
	if ((r->match & TG_CFG_FR_SPORT) && r->sport_lo > r->sport_hi)
		return "source port range upside down";
	if ((r->match & TG_CFG_FR_DPORT) && r->dport_lo > r->dport_hi)
		return "destination port range upside down";
	if ((r->match & (TG_CFG_FR_ICMP_TYPE | TG_CFG_FR_ICMP_CODE)) &&
		(r->any_proto || r->proto != IPPROTO_ICMP))
		return "ICMP type and code need protocol icmp";
	if ((r->match & TG_CFG_FR_ICMP_CODE) &&
		!(r->match & TG_CFG_FR_ICMP_TYPE))
		return "ICMP code without a type";
	if ((r->match & TG_CFG_FR_ESTABLISHED) &&
		(r->any_proto || r->proto != IPPROTO_TCP))
		return "established needs protocol tcp";
	return NULL;
}

/* Write the rte_acl rules of rule @p i (of @p n) for a context of @p kind
 * into @p out (room for acl_rules_of()); returns how many. */
static uint32_t
acl_rules_make(const struct tg_cfg_filter_rule *r, uint32_t i, uint32_t n,
	enum filter_ctx_kind kind, struct filter_acl_rule *out)
{
	struct filter_acl_rule b;
	struct rte_acl_field *f = b.field;

	memset(&b, 0, sizeof(b));
	b.data.category_mask = 1;
	b.data.priority = (int32_t)(n - i); /* first match wins */
	b.data.userdata = i + 1;	    /* 0 is rte_acl's "no match" */
	if (!r->any_proto) {
		f[TG_ACL_FLD_PROTO].value.u8 = r->proto;
		f[TG_ACL_FLD_PROTO].mask_range.u8 = UINT8_MAX;
	}
	f[TG_ACL_FLD_SRC].value.u32 = r->src & tg_acl_prefix_mask(r->src_len);
	f[TG_ACL_FLD_SRC].mask_range.u32 = r->src_len;
	f[TG_ACL_FLD_DST].value.u32 = r->dst & tg_acl_prefix_mask(r->dst_len);
	f[TG_ACL_FLD_DST].mask_range.u32 = r->dst_len;
	f[TG_ACL_FLD_SPORT].mask_range.u16 = UINT16_MAX;
	f[TG_ACL_FLD_DPORT].mask_range.u16 = UINT16_MAX;
	/* flags and padding (layout B): value 0, mask 0 (wild) */
	if (!(r->match & TG_CFG_FR_L4)) {
		out[0] = b;
		return 1;
	}
	if (kind == CTX_FRAG) {
		/* later fragments of what an allow rule allows, on protocol
		 * and addresses alone; a deny rule leaves them be */
		if (r->action != TG_CFG_FILTER_ALLOW)
			return 0;
		out[0] = b;
		return 1;
	}
	if (r->match & TG_CFG_FR_SPORT) {
		f[TG_ACL_FLD_SPORT].value.u16 = r->sport_lo;
		f[TG_ACL_FLD_SPORT].mask_range.u16 = r->sport_hi;
	}
	if (r->match & TG_CFG_FR_DPORT) {
		f[TG_ACL_FLD_DPORT].value.u16 = r->dport_lo;
		f[TG_ACL_FLD_DPORT].mask_range.u16 = r->dport_hi;
	}
	if (r->match & TG_CFG_FR_ICMP_TYPE) {
		/* the key's sport holds type and code */
		f[TG_ACL_FLD_SPORT].value.u16 = (uint16_t)(r->icmp_type << 8);
		f[TG_ACL_FLD_SPORT].mask_range.u16 =
			(uint16_t)(r->icmp_type << 8 |
				   (r->match & TG_CFG_FR_ICMP_CODE
						   ? r->icmp_code
						   : UINT8_MAX));
		if (r->match & TG_CFG_FR_ICMP_CODE)
			f[TG_ACL_FLD_SPORT].value.u16 |= r->icmp_code;
	}
	if (!(r->match & TG_CFG_FR_ESTABLISHED)) {
		out[0] = b;
		return 1;
	}
	/* established (layout B): ACK set, or RST set */
	f[TG_ACL_FLD_FLAGS].value.u8 = RTE_TCP_ACK_FLAG;
	f[TG_ACL_FLD_FLAGS].mask_range.u8 = RTE_TCP_ACK_FLAG;
	out[0] = b;
	f[TG_ACL_FLD_FLAGS].value.u8 = RTE_TCP_RST_FLAG;
	f[TG_ACL_FLD_FLAGS].mask_range.u8 = RTE_TCP_RST_FLAG;
	out[1] = b;
	return 2;
}

/* The rte_acl context of @p kind for list @p l, named @p name, with its
 * @p n_acl rules (at least one) over @p n_fields fields. */
static int
list_acl_build(struct tg_filter_list *l, enum filter_ctx_kind kind,
	const char *name, uint32_t n_acl, uint32_t n_fields, int socket,
	struct rte_acl_ctx **out, char *err, size_t errlen)
{
	struct filter_acl_rule batch[FILTER_ADD_BATCH + 2], made[2];
	/* the rules at the context's rule size, packed */
	uint8_t *packed = (uint8_t *)batch;
	const size_t rsz = RTE_ACL_RULE_SZ(n_fields);
	const char *what = kind == CTX_MAIN ? "" : " (later fragments)";
	struct rte_acl_config acfg;
	struct rte_acl_param prm = {
		.name = name,
		.socket_id = socket,
		.rule_size = (uint32_t)rsz,
		.max_rule_num = n_acl,
	};
	struct rte_acl_ctx *ctx;
	uint32_t i, k, m, nb = 0;
	int rc;

	RTE_BUILD_BUG_ON(
		sizeof(struct filter_acl_rule) != RTE_ACL_RULE_SZ(TG_ACL_FLD__COUNT));
	RTE_BUILD_BUG_ON(offsetof(struct filter_acl_rule, field) !=
			 sizeof(struct rte_acl_rule));
	*out = ctx = rte_acl_create(&prm);
	if (ctx == NULL) { /* the name and parameters are fine */
		snprintf(err, errlen,
			"interface %s, %s filters: rte_acl_create%s: out of "
			"memory for %u rules",
			l->iface_name, dir_names[l->dir], what, n_acl);
		return -ENOMEM;
	}
	for (i = 0; i < l->n_rules; i++) {
		m = acl_rules_make(&l->rules[i], i, l->n_rules, kind, made);
		for (k = 0; k < m; k++, nb++)
			memcpy(packed + nb * rsz, &made[k], rsz);
		if (nb < FILTER_ADD_BATCH && i + 1 < l->n_rules)
			continue;
		rc = nb == 0 ? 0
			     : rte_acl_add_rules(ctx,
				       (const struct rte_acl_rule *)packed, nb);
		if (rc < 0) {
			snprintf(err, errlen,
				"interface %s, %s filters: "
				"rte_acl_add_rules%s: %s",
				l->iface_name, dir_names[l->dir], what,
				strerror(-rc));
			return rc;
		}
		nb = 0;
	}
	memset(&acfg, 0, sizeof(acfg));
	acfg.num_categories = 1;
	acfg.num_fields = n_fields;
	memcpy(acfg.defs, tg_acl_key_defs, sizeof(acfg.defs[0]) * n_fields);
	acfg.max_size = FILTER_ACL_MAX_SIZE;
	rc = rte_acl_build(ctx, &acfg);
	if (rc == -ENOMEM) {
		acfg.max_size = FILTER_ACL_MAX_SIZE_RETRY;
		rc = rte_acl_build(ctx, &acfg);
	}
	if (rc != 0) {
		snprintf(err, errlen,
			"interface %s, %s filters: rte_acl_build%s of %u rules "
			"(%u ACL rules of %u input bytes) failed: %s (more "
			"than rte_acl's 8 tries even at its largest node "
			"threshold, or out of memory: see the EAL log; raise "
			"dpdk.memory_mb, or split or simplify the list)",
			l->iface_name, dir_names[l->dir], what, l->n_rules,
			n_acl, key_bytes(n_fields),
			strerror(rc < 0 ? -rc : rc));
		return rc < 0 ? rc : -rc;
	}
	return 0;
}

/* The list of @p prev for @p l's interface and direction with exactly
 * @p fl's rules, in order, and contexts to share; NULL if none. */
static const struct tg_filter_list *
list_same_rules(const struct tg_filter_table *prev,
	const struct tg_filter_list *l, const struct tg_cfg_filter_list *fl)
{
	uint16_t i;
	uint32_t r;

	for (i = 0; prev != NULL && i < prev->n_lists; i++) {
		const struct tg_filter_list *p = &prev->lists[i];

		if (p->dir != l->dir || p->acl_ref == NULL ||
			p->n_rules != fl->n_rules ||
			strcmp(p->iface_name, l->iface_name) != 0)
			continue;
		for (r = 0; r < fl->n_rules; r++)
			if (!tg_cfg_filter_rule_same(
				    &p->rules[r], &fl->rules[r]))
				break;
		if (r == fl->n_rules)
			return p;
	}
	return NULL;
}

/* Fill list @p l from @p fl and build its contexts (or share those of
 * the same rules in @p prev). */
static int
list_build(struct tg_filter_list *l, const struct tg_cfg_filter_list *fl,
	const struct tg_filter_table *prev, uint32_t seq, uint16_t idx,
	int socket, char *err, size_t errlen)
{
	const struct tg_filter_list *same;
	char name[RTE_ACL_NAMESIZE];
	uint32_t i, nf, match = 0;
	int rc;

	if (fl->mode > TG_CFG_FILTER_ALLOW_LISTED ||
		fl->n_rules > TG_CFG_FILTER_MAX_RULES ||
		(fl->n_rules > 0 && fl->rules == NULL)) {
		snprintf(err, errlen, "interface %s, %s filters: invalid list",
			l->iface_name, dir_names[l->dir]);
		return -EINVAL;
	}
	l->mode = fl->mode;
	l->n_rules = fl->n_rules;
	l->rules = fl->rules;
	l->verdict_of[TG_CFG_FILTER_ALLOW] = TG_V_NEXT;
	l->verdict_of[TG_CFG_FILTER_DENY] =
		l->dir == TG_CFG_FILTER_IN
			? TG_V_DROP(TG_FILTER_DROP_IN_DENIED)
			: TG_V_DROP(TG_FILTER_DROP_OUT_DENIED);
	l->verdict_of[TG_FILTER_NO_MATCH] =
		l->mode == TG_CFG_FILTER_DENY_LISTED ? TG_V_NEXT
		: l->dir == TG_CFG_FILTER_IN
			? TG_V_DROP(TG_FILTER_DROP_IN_DEFAULT)
			: TG_V_DROP(TG_FILTER_DROP_OUT_DEFAULT);
	l->action = rte_zmalloc_socket("tg_filter_action", l->n_rules + 1,
		RTE_CACHE_LINE_SIZE, socket);
	if (l->action == NULL) {
		snprintf(err, errlen, "interface %s, %s filters: out of memory",
			l->iface_name, dir_names[l->dir]);
		return -ENOMEM;
	}
	for (i = 0; i < l->n_rules; i++) {
		const char *why = rule_invalid(&l->rules[i]);

		if (why != NULL) {
			snprintf(err, errlen,
				"interface %s, %s filters, rule %.64s: %s",
				l->iface_name, dir_names[l->dir],
				l->rules[i].name, why);
			return -EINVAL;
		}
		l->action[i] = l->rules[i].action;
		l->n_acl_rules += acl_rules_of(&l->rules[i], CTX_MAIN);
		l->n_acl_frag_rules += acl_rules_of(&l->rules[i], CTX_FRAG);
		match |= l->rules[i].match;
	}
	l->action[l->n_rules] = TG_FILTER_NO_MATCH;
	nf = match & TG_CFG_FR_ESTABLISHED ? TG_ACL_FLD__COUNT : TG_ACL_FLD_A__COUNT;
	l->key_bytes = (uint8_t)key_bytes(nf);
	l->cache_flags =
		TG_FILTER_KEY_NONFIRST |
		(nf == TG_ACL_FLD__COUNT ? RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG : 0);
	if (l->n_rules == 0)
		return 0; /* rte_acl cannot build an empty context */
	same = list_same_rules(prev, l, fl);
	if (same != NULL) {
		l->acl = same->acl;
		l->acl_frag = same->acl_frag;
		l->acl_ref = same->acl_ref;
		(*l->acl_ref)++;
		l->reused = true;
		return 0;
	}
	l->acl_ref = rte_zmalloc_socket(
		"tg_filter_acl_ref", sizeof(*l->acl_ref), 0, socket);
	if (l->acl_ref == NULL) {
		snprintf(err, errlen, "interface %s, %s filters: out of memory",
			l->iface_name, dir_names[l->dir]);
		return -ENOMEM;
	}
	*l->acl_ref = 1;
	snprintf(name, sizeof(name), "tgflt%u_%u", seq, idx);
	rc = list_acl_build(l, CTX_MAIN, name, l->n_acl_rules, nf, socket,
		&l->acl, err, errlen);
	if (rc != 0 || l->n_acl_frag_rules == 0)
		return rc;
	if (!(match & TG_CFG_FR_L4)) {
		/* no L4 condition: the main context holds the same rules */
		l->acl_frag = l->acl;
		return 0;
	}
	snprintf(name, sizeof(name), "tgflt%u_%uf", seq, idx);
	return list_acl_build(l, CTX_FRAG, name, l->n_acl_frag_rules,
		TG_ACL_FLD_F__COUNT, socket, &l->acl_frag, err, errlen);
}

/* The first classify method every new context accepts, in the order of
 * filter_methods[]. Shared contexts are not touched (workers of the
 * running snapshot classify with them): they got the same method when
 * they were built, since the CPU and the SIMD limit do not change. */
static const char *
table_method(struct tg_filter_table *ft, const struct tg_filter_table *prev)
{
	bool any_new = false;
	size_t m;
	uint16_t l;

	for (l = 0; l < ft->n_lists; l++)
		any_new |= ft->lists[l].acl != NULL && !ft->lists[l].reused;
	if (!any_new && prev != NULL)
		return prev->method;
	for (m = 0; m < RTE_DIM(filter_methods); m++) {
		bool ok = true;

		for (l = 0; l < ft->n_lists && ok; l++) {
			struct tg_filter_list *fl = &ft->lists[l];

			if (fl->reused)
				continue;
			if ((fl->acl != NULL &&
				    rte_acl_set_ctx_classify(fl->acl,
					    filter_methods[m].alg) != 0) ||
				(fl->acl_frag != NULL &&
					rte_acl_set_ctx_classify(fl->acl_frag,
						filter_methods[m].alg) != 0))
				ok = false;
		}
		if (ok)
			return filter_methods[m].name;
	}
	return "scalar"; /* never: scalar is always accepted */
}

int
tg_filter_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, uint16_t n_slots, int socket,
	struct tg_filter_table **out, char *err, size_t errlen)
{
	return tg_filter_build_from(
		cfg, port_id, n_ports, n_slots, socket, NULL, out, err, errlen);
}

int
tg_filter_build_from(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, uint16_t n_slots, int socket,
	const struct tg_filter_table *prev, struct tg_filter_table **out,
	char *err, size_t errlen)
{
	struct tg_filter_table *ft;
	uint32_t seq, n_counters = 0;
	uint16_t i, n = 0;
	bool any_acl = false;
	int d, rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL || out == NULL || n_slots == 0 ||
		(n_ports > 0 && port_id == NULL) ||
		cfg->n_ifaces > TG_MAX_PORTS)
		return -EINVAL;
	*out = NULL;
	ft = rte_zmalloc_socket(
		"tg_filter_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, socket);
	if (ft == NULL)
		goto nomem;
	memset(ft->list_of, 0xff, sizeof(ft->list_of)); /* TG_FILTER_NO_LIST */
	ft->n_slots = n_slots;
	ft->method = "none";
	ft->build_id =
		__atomic_add_fetch(&filter_table_seq, 1, __ATOMIC_RELAXED);
	for (i = 0; i < cfg->n_ifaces; i++)
		for (d = 0; d < TG_CFG_FILTER__DIRS; d++)
			ft->n_lists += cfg->ifaces[i].filters[d].set;
	ft->enabled = ft->n_lists > 0;
	if (ft->n_lists == 0) {
		*out = ft; /* every reload: keep it cheap */
		return 0;
	}
	ft->lists = rte_zmalloc_socket("tg_filter_lists",
		sizeof(*ft->lists) * ft->n_lists, RTE_CACHE_LINE_SIZE, socket);
	if (ft->lists == NULL)
		goto nomem;
	seq = __atomic_fetch_add(&filter_build_seq, 1, __ATOMIC_RELAXED);
	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *ifc = &cfg->ifaces[i];

		for (d = 0; d < TG_CFG_FILTER__DIRS; d++) {
			struct tg_filter_list *l = &ft->lists[n];
			uint16_t pid;

			if (!ifc->filters[d].set)
				continue;
			l->dir = (uint8_t)d;
			l->iface = i;
			snprintf(l->iface_name, sizeof(l->iface_name), "%s",
				ifc->name);
			if (ifc->port >= n_ports ||
				port_id[ifc->port] >= RTE_MAX_ETHPORTS) {
				snprintf(err, errlen,
					"interface %s: no such port",
					ifc->name);
				rc = -EINVAL;
				goto fail;
			}
			pid = port_id[ifc->port];
			if (ft->list_of[d][pid] != TG_FILTER_NO_LIST) {
				snprintf(err, errlen,
					"interface %s: %s filters of port %u "
					"given twice",
					ifc->name, dir_names[d], pid);
				rc = -EINVAL;
				goto fail;
			}
			l->port_id = pid;
			rc = list_build(l, &ifc->filters[d], prev, seq, n,
				socket, err, errlen);
			if (rc != 0)
				goto fail;
			any_acl |= l->acl != NULL;
			l->hits_off = n_counters;
			n_counters += l->n_rules + 1;
			ft->list_of[d][pid] = n++;
		}
	}
	/* a whole number of cache lines per slot: no false sharing */
	ft->slot_stride = RTE_ALIGN_CEIL(
		n_counters, RTE_CACHE_LINE_SIZE / sizeof(uint64_t));
	ft->hits = rte_zmalloc_socket("tg_filter_hits",
		sizeof(uint64_t) * ft->slot_stride * n_slots,
		RTE_CACHE_LINE_SIZE, socket);
	ft->carried = rte_zmalloc_socket("tg_filter_carried",
		sizeof(uint64_t) * ft->slot_stride, RTE_CACHE_LINE_SIZE,
		socket);
	if (ft->hits == NULL || ft->carried == NULL)
		goto nomem;
	if (any_acl)
		ft->method = table_method(ft, prev);
	if (strcmp(ft->method, "avx512x32") == 0)
		ft->acl_pad = 32;
	*out = ft;
	return 0;
nomem:
	snprintf(err, errlen, "filters: out of memory");
	rc = -ENOMEM;
fail:
	tg_filter_table_free(ft);
	return rc;
}

void
tg_filter_table_free(struct tg_filter_table *ft)
{
	uint16_t l;

	if (ft == NULL)
		return;
	for (l = 0; ft->lists != NULL && l < ft->n_lists; l++) {
		struct tg_filter_list *fl = &ft->lists[l];

		rte_free(fl->action);
		/* shared with another snapshot's list: the last one frees */
		if (fl->acl_ref != NULL && --*fl->acl_ref > 0)
			continue;
		if (fl->acl_frag != fl->acl)
			rte_acl_free(fl->acl_frag);
		rte_acl_free(fl->acl);
		rte_free(fl->acl_ref);
	}
	rte_free(ft->lists);
	rte_free(ft->hits);
	rte_free(ft->carried);
	rte_free(ft);
}
