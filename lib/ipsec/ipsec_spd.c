/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec SPD: ipsec.policies → one rte_acl context for both directions,
 * or a walk of a few rules (the rules: tg_ipsec_spd.h), and the burst
 * lookup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_acl.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "tg_ipsec_spd.h"

/* The fields: tg_acl_key.h's, the filter lists' layout with the flags
 * group (the later-fragment bit). */
RTE_ACL_RULE_DEF(spd_acl_rule, TG_ACL_FLD__COUNT);

/* rte_acl_add_rules() batch: the rules are copied into the context. */
#define SPD_ADD_BATCH 64

/* rte_acl_create() hands back the live context of the same name, and the
 * replaced SPD's contexts live on during a reload: every build names its
 * contexts anew. Control thread only. */
static uint32_t spd_build_seq;

/*
 * One rte_acl context for both directions: a rule's category is its
 * direction, so one trie walk answers both questions the transit path
 * asks of a packet (outbound, and inbound for the unprotected check).
 * rte_acl wants 1 or a multiple of RTE_ACL_RESULTS_MULTIPLIER (4)
 * categories per classification.
 */
#define SPD_CATS	 RTE_ACL_RESULTS_MULTIPLIER
#define SPD_CHUNK	 64
#define SPD_CAT(dir)	 ((dir) == TG_IPSEC_DIR_OUTBOUND ? 0 : 1)

/*
 * The destination index in front of rte_acl, one per direction. A rule
 * that no earlier rule of its direction overlaps (no packet matches
 * both: the test of the inner check's build, sel_overlapped) is the
 * first match of every packet it matches: an earlier rule matching the
 * packet would overlap it. So when the rule the index finds for a
 * packet's destination is such a rule and matches the packet, that rule
 * is the answer, as rte_acl's. The index holds every rule's destination
 * prefix (the first rule in order of each), so a destination it finds
 * no prefix for matches no rule at all. Found by one hash probe per
 * prefix length in use, the longest first; with more lengths than
 * SPD_FAST_LENS, or for a packet whose rule is not such a rule or does
 * not match it, rte_acl answers. rte_acl_classify() costs 45-55 cycles
 * per packet with 100 to 1,000 rules and about 140 with 10,000 on the
 * bench's host (docs/benchmarks.md); a probe, one cache line.
 */
#define SPD_FAST_LENS	4
#define SPD_FAST_BUDGET (UINT64_C(1) << 24) /* sel_overlapped's units */
#define SPD_FB		UINT32_MAX	    /* ask rte_acl */

struct spd_fast_ent {
	struct tg_ipsec_sel sel; /* the first rule with this destination */
	uint8_t used;
	uint8_t direct; /* no earlier rule overlaps it */
	uint8_t pad[6];
};

struct spd_fast {
	enum { FAST_NONE = 0, FAST_INDEX, FAST_ACL } kind; /* NONE: no rule */
	uint8_t n_lens;
	uint8_t lens[SPD_FAST_LENS]; /* in use, longest first */
	uint32_t mask;		     /* table size - 1 */
	uint32_t n_direct;	     /* rules the index answers for */
	struct spd_fast_ent *tab;
};

struct tg_ipsec_spd {
	struct rte_acl_ctx *acl; /* NULL: no rule, or n_lin rules */
	uint32_t n_rules[2];	 /* by enum tg_ipsec_dir */
	uint32_t n_policies;
	/* With at most TG_IPSEC_SPD_WALK_MAX rules, no rte_acl context:
	 * the rules in evaluation order, as selectors of the packets they
	 * judge, and the direction of each (bit SPD_CAT(dir)). A walk
	 * answers as rte_acl does: the first match of each direction
	 * (rte_acl: the highest priority, which is the place in that
	 * order). rte_acl_classify() costs 30-60 cycles per packet however
	 * few its rules, and ipsec(out) asks for every packet it sends;
	 * a walk of a handful, a few compares each (docs/benchmarks.md). */
	uint32_t n_lin;
	uint8_t lin_cat[TG_IPSEC_SPD_WALK_MAX];
	struct tg_ipsec_sel lin[TG_IPSEC_SPD_WALK_MAX];
	/* With more, in front of rte_acl: by SPD_CAT(dir) */
	struct spd_fast fast[2];
};


static bool
ports_any(const struct tg_cfg_ipsec_policy *p)
{
	return p->sport_lo == 0 && p->sport_hi == UINT16_MAX &&
	       p->dport_lo == 0 && p->dport_hi == UINT16_MAX;
}

/* NULL, or why @p p cannot be built. */
static const char *
policy_invalid(const struct tg_cfg_ipsec_policy *p)
{
	bool tcp_udp = !p->any_proto &&
		       (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);

	if (p->dir > TG_CFG_IPSEC_BOTH)
		return "unknown direction";
	if (p->src_len > 32 || p->dst_len > 32)
		return "prefix length over 32";
	if (p->sport_lo > p->sport_hi || p->dport_lo > p->dport_hi)
		return "port range upside down";
	if (!ports_any(p) && !tcp_udp)
		return "ports need protocol tcp or udp";
	return NULL;
}

/* The rte_acl rule of policy @p idx at evaluation place @p place (of
 * @p n), as written or @p mirrored. */
static void
acl_rule_make(const struct tg_cfg_ipsec_policy *p, uint32_t idx, uint32_t place,
	uint32_t n, bool mirrored, struct spd_acl_rule *r)
{
	struct rte_acl_field *f = r->field;
	uint32_t src = mirrored ? p->dst : p->src;
	uint32_t dst = mirrored ? p->src : p->dst;
	uint8_t src_len = mirrored ? p->dst_len : p->src_len;
	uint8_t dst_len = mirrored ? p->src_len : p->dst_len;

	memset(r, 0, sizeof(*r));
	r->data.category_mask =
		1u << SPD_CAT(mirrored || p->dir == TG_CFG_IPSEC_IN
					? TG_IPSEC_DIR_INBOUND
					: TG_IPSEC_DIR_OUTBOUND);
	r->data.priority = (int32_t)(n - place); /* first in order wins */
	r->data.userdata = idx + 1;		 /* 0 is "no match" */
	if (!p->any_proto) {
		f[TG_ACL_FLD_PROTO].value.u8 = p->proto;
		f[TG_ACL_FLD_PROTO].mask_range.u8 = UINT8_MAX;
	}
	f[TG_ACL_FLD_SRC].value.u32 = src & tg_acl_prefix_mask(src_len);
	f[TG_ACL_FLD_SRC].mask_range.u32 = src_len;
	f[TG_ACL_FLD_DST].value.u32 = dst & tg_acl_prefix_mask(dst_len);
	f[TG_ACL_FLD_DST].mask_range.u32 = dst_len;
	f[TG_ACL_FLD_SPORT].value.u16 = mirrored ? p->dport_lo : p->sport_lo;
	f[TG_ACL_FLD_SPORT].mask_range.u16 = mirrored ? p->dport_hi : p->sport_hi;
	f[TG_ACL_FLD_DPORT].value.u16 = mirrored ? p->sport_lo : p->dport_lo;
	f[TG_ACL_FLD_DPORT].mask_range.u16 = mirrored ? p->sport_hi : p->dport_hi;
	/* a port condition cannot judge a later fragment (no ports) */
	if (!ports_any(p))
		f[TG_ACL_FLD_FLAGS].mask_range.u8 = TG_IPSEC_SPD_KEY_NONFIRST;
	/* padding: value 0, mask 0 (wild) */
}

/* Does direction @p dir's context hold a rule of a policy of @p pdir,
 * and mirrored? */
static bool
dir_has(enum tg_ipsec_dir dir, uint8_t pdir, bool *mirrored)
{
	*mirrored = dir == TG_IPSEC_DIR_INBOUND && pdir == TG_CFG_IPSEC_BOTH;
	if (pdir == TG_CFG_IPSEC_BOTH)
		return true;
	return dir == TG_IPSEC_DIR_OUTBOUND ? pdir == TG_CFG_IPSEC_OUT
					    : pdir == TG_CFG_IPSEC_IN;
}

/* The context with the rules of both directions (@p n_acl, at least
 * one). */
static int
spd_acl_build(struct tg_ipsec_spd *spd, const struct tg_cfg_ipsec *ip,
	uint32_t n_acl, int socket, char *err, size_t len)
{
	static const enum tg_ipsec_dir dirs[] = {
		TG_IPSEC_DIR_OUTBOUND, TG_IPSEC_DIR_INBOUND};
	struct spd_acl_rule batch[SPD_ADD_BATCH];
	char name[RTE_ACL_NAMESIZE];
	struct rte_acl_config acfg;
	struct rte_acl_param prm = {
		.name = name,
		.socket_id = socket,
		.rule_size = RTE_ACL_RULE_SZ(TG_ACL_FLD__COUNT),
		.max_rule_num = n_acl,
	};
	struct rte_acl_ctx *ctx;
	uint32_t k, nb = 0;
	bool mirrored;
	size_t d;
	int rc;

	RTE_BUILD_BUG_ON(
		sizeof(struct spd_acl_rule) != RTE_ACL_RULE_SZ(TG_ACL_FLD__COUNT));
	snprintf(name, sizeof(name), "tgspd%u", spd_build_seq);
	spd->acl = ctx = rte_acl_create(&prm);
	if (ctx == NULL) {
		snprintf(err, len,
			"ipsec policies: rte_acl_create: out of memory for %u "
			"rules",
			n_acl);
		return -ENOMEM;
	}
	for (k = 0; k < ip->n_policies; k++) {
		uint32_t idx = ip->order[k];
		const struct tg_cfg_ipsec_policy *p = &ip->policies[idx];

		for (d = 0; d < RTE_DIM(dirs); d++)
			if (dir_has(dirs[d], p->dir, &mirrored))
				acl_rule_make(p, idx, k, ip->n_policies,
					mirrored, &batch[nb++]);
		if (nb + 2 <= SPD_ADD_BATCH && k + 1 < ip->n_policies)
			continue;
		rc = nb == 0 ? 0
			     : rte_acl_add_rules(ctx,
				       (const struct rte_acl_rule *)batch, nb);
		if (rc < 0) {
			snprintf(err, len,
				"ipsec policies: rte_acl_add_rules: %s",
				strerror(-rc));
			return rc;
		}
		nb = 0;
	}
	memset(&acfg, 0, sizeof(acfg));
	acfg.num_categories = SPD_CATS;
	acfg.num_fields = TG_ACL_FLD__COUNT;
	memcpy(acfg.defs, tg_acl_key_defs, sizeof(tg_acl_key_defs));
	rc = rte_acl_build(ctx, &acfg);
	if (rc != 0) {
		snprintf(err, len,
			"ipsec policies: rte_acl_build of %u rules failed: %s",
			n_acl, strerror(rc < 0 ? -rc : rc));
		return rc < 0 ? rc : -rc;
	}
	return 0;
}

/* 0, or -EINVAL with @p err when @p ip's policies or order are unfit. */
static int
spd_check(const struct tg_cfg_ipsec *ip, char *err, size_t len)
{
	uint8_t *seen;
	uint32_t i;

	if (ip->n_policies > TG_CFG_IPSEC_MAX_POLICIES ||
		(ip->n_policies > 0 &&
			(ip->policies == NULL || ip->order == NULL))) {
		snprintf(err, len, "ipsec policies: invalid model");
		return -EINVAL;
	}
	for (i = 0; i < ip->n_policies; i++) {
		const char *why = policy_invalid(&ip->policies[i]);

		if (why != NULL) {
			snprintf(err, len, "ipsec policy %.63s: %s",
				ip->policies[i].name, why);
			return -EINVAL;
		}
	}
	seen = rte_zmalloc("tg_ipsec_spd_seen", ip->n_policies + 1, 0);
	if (seen == NULL) {
		snprintf(err, len, "ipsec policies: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < ip->n_policies; i++) {
		if (ip->order[i] >= ip->n_policies || seen[ip->order[i]]++) {
			rte_free(seen);
			snprintf(err, len,
				"ipsec policies: the evaluation order is not "
				"a permutation of the policies");
			return -EINVAL;
		}
	}
	rte_free(seen);
	return 0;
}

static void sel_make(const struct tg_cfg_ipsec_policy *p, uint32_t idx,
	bool mirrored, struct tg_ipsec_sel *e);
static int spd_fast_build(struct tg_ipsec_spd *spd,
	const struct tg_cfg_ipsec *ip, int socket, char *err, size_t len);

/* The rules of both directions as selectors, in evaluation order, for
 * the walk (the caller counted at most TG_IPSEC_SPD_WALK_MAX). */
static void
spd_lin_build(struct tg_ipsec_spd *spd, const struct tg_cfg_ipsec *ip)
{
	static const enum tg_ipsec_dir dirs[] = {
		TG_IPSEC_DIR_OUTBOUND, TG_IPSEC_DIR_INBOUND};
	uint32_t k;
	bool mirrored;
	size_t d;

	for (k = 0; k < ip->n_policies; k++) {
		uint32_t idx = ip->order[k];
		const struct tg_cfg_ipsec_policy *p = &ip->policies[idx];

		for (d = 0; d < RTE_DIM(dirs); d++) {
			if (!dir_has(dirs[d], p->dir, &mirrored))
				continue;
			/* sel_make mirrors what direction both's inbound
			 * rule judges, as acl_rule_make does */
			sel_make(p, idx, mirrored, &spd->lin[spd->n_lin]);
			spd->lin_cat[spd->n_lin++] =
				(uint8_t)(1u << SPD_CAT(dirs[d]));
		}
	}
}

int
tg_ipsec_spd_build(const struct tg_cfg_ipsec *ip, int socket,
	struct tg_ipsec_spd **out, char *err, size_t len)
{
	static const enum tg_ipsec_dir dirs[] = {
		TG_IPSEC_DIR_OUTBOUND, TG_IPSEC_DIR_INBOUND};
	struct tg_ipsec_spd *spd;
	uint32_t i, n_acl[2] = {0, 0};
	bool mirrored;
	size_t d;
	int rc;

	if (out == NULL || (err == NULL && len > 0))
		return -EINVAL;
	*out = NULL;
	if (ip == NULL) {
		snprintf(err, len, "ipsec policies: no model");
		return -EINVAL;
	}
	rc = spd_check(ip, err, len);
	if (rc != 0)
		return rc;
	spd = rte_zmalloc_socket("tg_ipsec_spd", sizeof(*spd), 0, socket);
	if (spd == NULL) {
		snprintf(err, len, "ipsec policies: out of memory");
		return -ENOMEM;
	}
	spd->n_policies = ip->n_policies;
	for (i = 0; i < ip->n_policies; i++)
		for (d = 0; d < RTE_DIM(dirs); d++)
			n_acl[dirs[d]] += dir_has(
				dirs[d], ip->policies[i].dir, &mirrored);
	spd_build_seq++;
	spd->n_rules[TG_IPSEC_DIR_OUTBOUND] = n_acl[TG_IPSEC_DIR_OUTBOUND];
	spd->n_rules[TG_IPSEC_DIR_INBOUND] = n_acl[TG_IPSEC_DIR_INBOUND];
	/* rte_acl cannot build an empty context */
	if (n_acl[0] + n_acl[1] <= TG_IPSEC_SPD_WALK_MAX) {
		spd_lin_build(spd, ip);
	} else {
		rc = spd_acl_build(
			spd, ip, n_acl[0] + n_acl[1], socket, err, len);
		if (rc == 0)
			rc = spd_fast_build(spd, ip, socket, err, len);
		if (rc != 0) {
			tg_ipsec_spd_free(spd);
			return rc;
		}
	}
	*out = spd;
	return 0;
}

void
tg_ipsec_spd_free(struct tg_ipsec_spd *spd)
{
	if (spd == NULL)
		return;
	rte_acl_free(spd->acl);
	rte_free(spd->fast[0].tab);
	rte_free(spd->fast[1].tab);
	rte_free(spd);
}

uint32_t
tg_ipsec_spd_policies(const struct tg_ipsec_spd *spd)
{
	return spd == NULL ? 0 : spd->n_policies;
}

bool
tg_ipsec_spd_walks(const struct tg_ipsec_spd *spd)
{
	return spd != NULL && spd->n_lin > 0;
}

uint32_t
tg_ipsec_spd_rules(const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir)
{
	if (spd == NULL ||
		(dir != TG_IPSEC_DIR_INBOUND && dir != TG_IPSEC_DIR_OUTBOUND))
		return 0;
	return spd->n_rules[dir];
}

/* Policy @p p's inbound rule (@p mirrored: direction both) as a
 * selector. */
static void
sel_make(const struct tg_cfg_ipsec_policy *p, uint32_t idx, bool mirrored,
	struct tg_ipsec_sel *e)
{
	uint8_t src_len = mirrored ? p->dst_len : p->src_len;
	uint8_t dst_len = mirrored ? p->src_len : p->dst_len;

	memset(e, 0, sizeof(*e));
	e->src_len = src_len;
	e->dst_len = dst_len;
	e->src = (mirrored ? p->dst : p->src) & tg_acl_prefix_mask(src_len);
	e->dst = (mirrored ? p->src : p->dst) & tg_acl_prefix_mask(dst_len);
	e->sport_lo = mirrored ? p->dport_lo : p->sport_lo;
	e->sport_hi = mirrored ? p->dport_hi : p->sport_hi;
	e->dport_lo = mirrored ? p->sport_lo : p->dport_lo;
	e->dport_hi = mirrored ? p->sport_hi : p->dport_hi;
	e->policy = idx + 1;
	e->proto = p->proto;
	e->flags = (p->any_proto ? TG_IPSEC_SEL_F_ANY_PROTO : 0) |
		   (ports_any(p) ? TG_IPSEC_SEL_F_PORTS_ANY : 0);
}

/* No packet can match both (some field's sets do not meet). */
static bool
sel_disjoint(const struct tg_ipsec_sel *a, const struct tg_ipsec_sel *b)
{
	uint32_t sm = tg_acl_prefix_mask(RTE_MIN(a->src_len, b->src_len));
	uint32_t dm = tg_acl_prefix_mask(RTE_MIN(a->dst_len, b->dst_len));

	return (!(a->flags & TG_IPSEC_SEL_F_ANY_PROTO) &&
		       !(b->flags & TG_IPSEC_SEL_F_ANY_PROTO) &&
		       a->proto != b->proto) ||
	       ((a->src ^ b->src) & sm) != 0 || ((a->dst ^ b->dst) & dm) != 0 ||
	       a->sport_hi < b->sport_lo || b->sport_hi < a->sport_lo ||
	       a->dport_hi < b->dport_lo || b->dport_hi < a->dport_lo;
}

/* An inbound rule in evaluation order, and the inbound SA it protects
 * with (TG_CFG_IPSEC_NO_SA: allow, block, or no inbound SA). */
struct sel_rule {
	struct tg_ipsec_sel sel;
	uint32_t owner;
};

/* The first entry of @p ix (the rules' destinations, sorted; idx: the
 * rule's place in the order) not before (dst, len). */
static uint32_t
sel_by_dst_lower(const struct tg_cfg_prefix_key *ix, uint32_t n, uint32_t dst,
	uint8_t len)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (ix[mid].addr < dst ||
			(ix[mid].addr == dst && ix[mid].len < len))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether rule @p q is one that rule @p i must not overlap: earlier,
 * another owner's, and some packet matches both. */
static inline bool
sel_conflict(const struct sel_rule *r, uint32_t q, uint32_t i)
{
	return q < i && r[q].owner != r[i].owner &&
	       !sel_disjoint(&r[q].sel, &r[i].sel);
}

/*
 * Does an earlier rule of another owner overlap rule @p i? Only rules
 * whose destination prefix overlaps i's can, and two prefixes overlap
 * when one holds the other: those are the entries of @p ix whose
 * destination lies in i's range (i's own, the longer ones inside it and
 * the shorter ones that start where it starts), and the shorter ones
 * that start before it, one exact search per prefix length in use
 * (@p lens, bit L: some rule has a /L destination). Each entry visited
 * costs one unit of *@p budget; -1 when it runs out (the answer is then
 * unknown), else 1 or 0.
 */
static int
sel_overlapped(const struct sel_rule *r, const struct tg_cfg_prefix_key *ix,
	uint32_t n, uint64_t lens, uint32_t i, uint64_t *budget)
{
	const struct tg_ipsec_sel *e = &r[i].sel;
	uint32_t mask = tg_acl_prefix_mask(e->dst_len), end = e->dst | ~mask;
	uint32_t k;
	uint8_t l;

	for (k = sel_by_dst_lower(ix, n, e->dst, 0); k < n && ix[k].addr <= end;
		k++) {
		if (*budget == 0)
			return -1;
		--*budget;
		if (sel_conflict(r, ix[k].idx, i))
			return 1;
	}
	for (l = 0; l < e->dst_len; l++) {
		uint32_t b = e->dst & tg_acl_prefix_mask(l);

		if (!(lens & (UINT64_C(1) << l)) || b == e->dst)
			continue; /* none, or met in the range above */
		for (k = sel_by_dst_lower(ix, n, b, l);
			k < n && ix[k].addr == b && ix[k].len == l; k++) {
			if (*budget == 0)
				return -1;
			--*budget;
			if (sel_conflict(r, ix[k].idx, i))
				return 1;
		}
	}
	return 0;
}

/*
 * Direction @p dir's rules in evaluation order into @p r, with their
 * destinations sorted into @p ix and the prefix lengths in use in *@p lens
 * (bit L: a /L destination), for sel_overlapped(). A rule's owner: with
 * @p by_sa, the inbound SA it protects with (TG_CFG_IPSEC_NO_SA for
 * allow, block, or none); else its own place, so that every earlier
 * overlapping rule counts. @p r and @p ix have room for every policy.
 * Returns how many rules.
 */
static uint32_t
sel_rules(const struct tg_cfg_ipsec *ip, enum tg_ipsec_dir dir, bool by_sa,
	struct sel_rule *r, struct tg_cfg_prefix_key *ix, uint64_t *lens)
{
	uint32_t i, nr = 0;
	bool mirrored;

	*lens = 0;
	for (i = 0; i < ip->n_policies; i++) {
		uint32_t idx = ip->order[i];
		const struct tg_cfg_ipsec_policy *p = &ip->policies[idx];

		if (!dir_has(dir, p->dir, &mirrored))
			continue;
		sel_make(p, idx, mirrored, &r[nr].sel);
		r[nr].owner = !by_sa ? nr
			      : p->action == TG_CFG_IPSEC_PROTECT &&
					      p->sa_in < ip->n_sas
				      ? p->sa_in
				      : TG_CFG_IPSEC_NO_SA;
		ix[nr].addr = r[nr].sel.dst;
		ix[nr].len = r[nr].sel.dst_len;
		ix[nr].idx = nr;
		*lens |= UINT64_C(1) << r[nr].sel.dst_len;
		nr++;
	}
	qsort(ix, nr, sizeof(*ix), tg_cfg_prefix_key_cmp);
	return nr;
}

int
tg_ipsec_spd_sels(const struct tg_cfg_ipsec *ip,
	struct tg_ipsec_sels *const *out, uint64_t budget)
{
	struct tg_cfg_prefix_key *ix;
	struct sel_rule *r;
	uint32_t i, nr = 0;
	uint64_t lens = 0;
	int direct = 0, ov;

	if (ip == NULL || (out == NULL && ip->n_sas > 0) ||
		spd_check(ip, NULL, 0) != 0)
		return -EINVAL;
	for (i = 0; i < ip->n_sas; i++)
		if (out[i] != NULL) {
			memset(out[i], 0, sizeof(*out[i]));
			out[i]->direct = true;
		}
	r = rte_malloc(
		"tg_ipsec_sels", sizeof(*r) * RTE_MAX(ip->n_policies, 1u), 0);
	ix = rte_malloc("tg_ipsec_sels_ix",
		sizeof(*ix) * RTE_MAX(ip->n_policies, 1u), 0);
	if (r == NULL || ix == NULL) {
		rte_free(r);
		rte_free(ix);
		return -ENOMEM;
	}
	nr = sel_rules(ip, TG_IPSEC_DIR_INBOUND, true, r, ix, &lens);
	for (i = 0; i < nr; i++) {
		struct tg_ipsec_sels *s;

		if (r[i].owner == TG_CFG_IPSEC_NO_SA)
			continue;
		s = out[r[i].owner];
		if (s == NULL || !s->direct)
			continue;
		if (s->n == TG_IPSEC_SEL_MAX) {
			s->direct = false;
			continue;
		}
		ov = sel_overlapped(r, ix, nr, lens, i, &budget);
		if (ov != 0) {
			s->direct = false;
			continue;
		}
		s->s[s->n++] = r[i].sel;
	}
	rte_free(ix);
	rte_free(r);
	for (i = 0; i < ip->n_sas; i++)
		direct += out[i] != NULL && out[i]->direct;
	return direct;
}

static inline uint32_t
fast_hash(uint32_t addr, uint8_t len, uint32_t mask)
{
	uint64_t x = ((uint64_t)addr << 8 | len) * UINT64_C(0x9e3779b97f4a7c15);

	return (uint32_t)(x >> 32) & mask;
}

/* Direction @p dir's index (struct spd_fast above). @p r and @p ix: room
 * for every policy. */
static int
spd_fast_dir(struct spd_fast *f, const struct tg_cfg_ipsec *ip,
	enum tg_ipsec_dir dir, int socket, uint64_t *budget, struct sel_rule *r,
	struct tg_cfg_prefix_key *ix)
{
	uint32_t i, h, nr = 0, size;
	uint64_t lens = 0;
	int l;

	/* each rule its own owner: any earlier overlap counts */
	nr = sel_rules(ip, dir, false, r, ix, &lens);
	f->kind = nr == 0 ? FAST_NONE : FAST_ACL;
	if (nr == 0 || __builtin_popcountll(lens) > SPD_FAST_LENS)
		return 0;
	for (l = 32; l >= 0; l--)
		if (lens & (UINT64_C(1) << l))
			f->lens[f->n_lens++] = (uint8_t)l;
	size = RTE_MAX(rte_align32pow2(2 * nr), 16u);
	f->tab = rte_zmalloc_socket("tg_ipsec_spd_fast", sizeof(*f->tab) * size,
		RTE_CACHE_LINE_SIZE, socket);
	if (f->tab == NULL)
		return -ENOMEM;
	f->mask = size - 1;
	for (i = 0; i < nr; i++) {
		const struct tg_ipsec_sel *e = &r[i].sel;
		struct spd_fast_ent *t;

		for (h = fast_hash(e->dst, e->dst_len, f->mask); f->tab[h].used;
			h = (h + 1) & f->mask)
			if (f->tab[h].sel.dst == e->dst &&
				f->tab[h].sel.dst_len == e->dst_len)
				break;
		t = &f->tab[h];
		if (t->used)
			continue; /* an earlier rule has this destination */
		t->sel = *e;
		t->used = 1;
		/* unknown (the budget spent) is not direct */
		t->direct = sel_overlapped(r, ix, nr, lens, i, budget) == 0;
		f->n_direct += t->direct;
	}
	f->kind = FAST_INDEX;
	return 0;
}

static int
spd_fast_build(struct tg_ipsec_spd *spd, const struct tg_cfg_ipsec *ip,
	int socket, char *err, size_t len)
{
	static const enum tg_ipsec_dir dirs[] = {
		TG_IPSEC_DIR_OUTBOUND, TG_IPSEC_DIR_INBOUND};
	uint64_t budget = SPD_FAST_BUDGET;
	uint32_t n = RTE_MAX(ip->n_policies, 1u);
	struct sel_rule *r =
		rte_malloc("tg_ipsec_spd_fast_r", sizeof(*r) * n, 0);
	struct tg_cfg_prefix_key *ix =
		rte_malloc("tg_ipsec_spd_fast_ix", sizeof(*ix) * n, 0);
	int rc = r == NULL || ix == NULL ? -ENOMEM : 0;
	size_t d;

	for (d = 0; rc == 0 && d < RTE_DIM(dirs); d++)
		rc = spd_fast_dir(&spd->fast[SPD_CAT(dirs[d])], ip, dirs[d],
			socket, &budget, r, ix);
	rte_free(ix);
	rte_free(r);
	if (rc != 0)
		snprintf(err, len,
			"ipsec policies: out of memory for the destination "
			"index of %u policies",
			ip->n_policies);
	return rc;
}

uint32_t
tg_ipsec_spd_indexed(const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir)
{
	if (spd == NULL ||
		(dir != TG_IPSEC_DIR_INBOUND && dir != TG_IPSEC_DIR_OUTBOUND))
		return 0;
	return spd->fast[SPD_CAT(dir)].kind == FAST_INDEX
		       ? spd->fast[SPD_CAT(dir)].n_direct
		       : 0;
}

void
tg_ipsec_spd_key_make(const struct rte_ipv4_hdr *ip, uint32_t avail,
	struct tg_acl_key *k)
{
	uint32_t hl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset) &
			RTE_IPV4_HDR_OFFSET_MASK;

	memset(k, 0, sizeof(*k));
	k->proto = ip->next_proto_id;
	k->src = ip->src_addr;
	k->dst = ip->dst_addr;
	if (frag != 0) {
		k->flags = TG_IPSEC_SPD_KEY_NONFIRST;
		return;
	}
	if ((k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) &&
		avail >= hl + 4)
		memcpy(&k->sport, (const uint8_t *)ip + hl, 4);
}

/* The walk: the first rule in order that matches @p k, for each direction
 * in @p want (bits SPD_CAT(dir)); *@p out and *@p in as rte_acl's
 * results (policy index + 1, or 0). The key's fields as rte_acl reads
 * them: network order, ports 0 where it has none, the later-fragment
 * bit keeping port rules off. */
static inline void
spd_lin_lookup(const struct tg_ipsec_spd *spd, const struct tg_acl_key *k,
	uint8_t want, uint32_t *out, uint32_t *in)
{
	uint32_t src = rte_be_to_cpu_32(k->src), dst = rte_be_to_cpu_32(k->dst);
	uint16_t sp = rte_be_to_cpu_16(k->sport),
		 dp = rte_be_to_cpu_16(k->dport);
	bool later = (k->flags & TG_IPSEC_SPD_KEY_NONFIRST) != 0;
	uint32_t r, res[2] = {0, 0};

	for (r = 0; r < spd->n_lin && want != 0; r++) {
		uint8_t c = spd->lin_cat[r] & want;

		if (c == 0 || !tg_ipsec_sel_hit(&spd->lin[r], src, dst,
				      k->proto, later, sp, dp))
			continue;
		res[rte_bsf32(c)] = spd->lin[r].policy;
		want &= (uint8_t)~c;
	}
	if (out != NULL)
		*out = res[SPD_CAT(TG_IPSEC_DIR_OUTBOUND)];
	if (in != NULL)
		*in = res[SPD_CAT(TG_IPSEC_DIR_INBOUND)];
}

/* The index's answer for @p k in one direction (struct spd_fast): the
 * policy index + 1, 0, or SPD_FB. */
static inline uint32_t
spd_fast_lookup(const struct spd_fast *f, const struct tg_acl_key *k)
{
	uint32_t dst = rte_be_to_cpu_32(k->dst), a, h, j;
	bool found = false;

	if (f->kind != FAST_INDEX)
		return f->kind == FAST_NONE ? 0 : SPD_FB;
	for (j = 0; j < f->n_lens; j++) {
		uint8_t l = f->lens[j];

		a = dst & tg_acl_prefix_mask(l);
		for (h = fast_hash(a, l, f->mask); f->tab[h].used;
			h = (h + 1) & f->mask) {
			const struct spd_fast_ent *e = &f->tab[h];

			if (e->sel.dst != a || e->sel.dst_len != l)
				continue;
			if (e->direct &&
				tg_ipsec_sel_hit(&e->sel,
					rte_be_to_cpu_32(k->src), dst, k->proto,
					(k->flags &
						TG_IPSEC_SPD_KEY_NONFIRST) != 0,
					rte_be_to_cpu_16(k->sport),
					rte_be_to_cpu_16(k->dport)))
				return e->sel.policy;
			found = true;
			break;
		}
	}
	/* a rule the index cannot vouch for may match: rte_acl */
	return found ? SPD_FB : 0;
}

static inline void
spd_fast_prefetch(const struct spd_fast *f, const struct tg_acl_key *k)
{
	uint8_t l;

	if (f->kind != FAST_INDEX)
		return;
	l = f->lens[0];
	rte_prefetch0(&f->tab[fast_hash(
		rte_be_to_cpu_32(k->dst) & tg_acl_prefix_mask(l), l, f->mask)]);
}

/* rte_acl's answers (the context holds rules). */
static int
spd_acl_lookup(const struct tg_ipsec_spd *spd, const uint8_t *const *keys,
	uint32_t n, uint32_t *res_out, uint32_t *res_in)
{
	uint32_t res[SPD_CHUNK * SPD_CATS];
	uint32_t base, c, i, ncat;
	int rc;

	/* Outbound alone is category 0: rte_acl then resolves one category
	 * instead of a group of four. */
	ncat = res_in == NULL && res_out != NULL &&
		       SPD_CAT(TG_IPSEC_DIR_OUTBOUND) == 0
		       ? 1
		       : SPD_CATS;
	for (base = 0; base < n; base += c) {
		c = RTE_MIN(n - base, (uint32_t)SPD_CHUNK);
		/* rte_acl only reads through the pointers; its prototype is
		 * not const-clean */
		rc = rte_acl_classify(spd->acl,
			(const uint8_t **)(uintptr_t)(keys + base), res, c,
			ncat);
		if (rc != 0)
			return rc;
		if (ncat == 1) {
			memcpy(res_out + base, res, sizeof(*res) * c);
			continue;
		}
		for (i = 0; i < c; i++) {
			if (res_out != NULL)
				res_out[base + i] =
					res[i * SPD_CATS +
						SPD_CAT(TG_IPSEC_DIR_OUTBOUND)];
			if (res_in != NULL)
				res_in[base + i] =
					res[i * SPD_CATS +
						SPD_CAT(TG_IPSEC_DIR_INBOUND)];
		}
	}
	return 0;
}

/* The index first; the keys it cannot answer go to rte_acl together. */
static int
spd_fast_lookups(const struct tg_ipsec_spd *spd, const uint8_t *const *keys,
	uint32_t n, uint32_t *res_out, uint32_t *res_in)
{
	const struct spd_fast *fo = &spd->fast[SPD_CAT(TG_IPSEC_DIR_OUTBOUND)];
	const struct spd_fast *fi = &spd->fast[SPD_CAT(TG_IPSEC_DIR_INBOUND)];
	const uint8_t *ak[SPD_CHUNK];
	uint32_t ai[SPD_CHUNK], ao[SPD_CHUNK], ain[SPD_CHUNK];
	uint32_t base, c, i, na;
	int rc;

	for (base = 0; base < n; base += c) {
		c = RTE_MIN(n - base, (uint32_t)SPD_CHUNK);
		/* With thousands of rules the table is out of L2: the
		 * buckets of the whole chunk on their way first, so that
		 * their misses overlap (at the longest length: where the
		 * probe starts). */
		for (i = base; i < base + c; i++) {
			const struct tg_acl_key *k =
				(const struct tg_acl_key *)(const void *)
					keys[i];

			if (res_out != NULL)
				spd_fast_prefetch(fo, k);
			if (res_in != NULL)
				spd_fast_prefetch(fi, k);
		}
		na = 0;
		for (i = base; i < base + c; i++) {
			const struct tg_acl_key *k =
				(const struct tg_acl_key *)(const void *)
					keys[i];
			uint32_t ro =
				res_out != NULL ? spd_fast_lookup(fo, k) : 0;
			uint32_t ri =
				res_in != NULL ? spd_fast_lookup(fi, k) : 0;

			if (ro == SPD_FB || ri == SPD_FB) {
				ak[na] = keys[i];
				ai[na++] = i;
				continue;
			}
			if (res_out != NULL)
				res_out[i] = ro;
			if (res_in != NULL)
				res_in[i] = ri;
		}
		if (na == 0)
			continue;
		rc = spd_acl_lookup(spd, ak, na, res_out != NULL ? ao : NULL,
			res_in != NULL ? ain : NULL);
		if (rc != 0)
			return rc;
		for (i = 0; i < na; i++) {
			if (res_out != NULL)
				res_out[ai[i]] = ao[i];
			if (res_in != NULL)
				res_in[ai[i]] = ain[i];
		}
	}
	return 0;
}

int
tg_ipsec_spd_lookup2(const struct tg_ipsec_spd *spd, const uint8_t *const *keys,
	uint32_t n, uint32_t *res_out, uint32_t *res_in)
{
	uint32_t i;

	if (n == 0)
		return 0;
	if (spd == NULL || keys == NULL)
		return -EINVAL;
	if (spd->n_lin > 0) {
		uint8_t want =
			(uint8_t)((res_out != NULL
						  ? 1u << SPD_CAT(
							    TG_IPSEC_DIR_OUTBOUND)
						  : 0) |
				  (res_in != NULL ? 1u << SPD_CAT(
							    TG_IPSEC_DIR_INBOUND)
						  : 0));

		for (i = 0; i < n; i++)
			spd_lin_lookup(spd,
				(const struct tg_acl_key *)(const void *)
					keys[i],
				want, res_out != NULL ? &res_out[i] : NULL,
				res_in != NULL ? &res_in[i] : NULL);
		return 0;
	}
	if (spd->acl == NULL) {
		if (res_out != NULL)
			memset(res_out, 0, sizeof(*res_out) * n);
		if (res_in != NULL)
			memset(res_in, 0, sizeof(*res_in) * n);
		return 0;
	}
	/* The index when it can answer: a wanted direction without one
	 * (FAST_ACL) would send every key to rte_acl after its probe. */
	if (((res_out != NULL && spd->fast[0].kind == FAST_INDEX) ||
		    (res_in != NULL && spd->fast[1].kind == FAST_INDEX)) &&
		!(res_out != NULL && spd->fast[0].kind == FAST_ACL) &&
		!(res_in != NULL && spd->fast[1].kind == FAST_ACL))
		return spd_fast_lookups(spd, keys, n, res_out, res_in);
	return spd_acl_lookup(spd, keys, n, res_out, res_in);
}

int
tg_ipsec_spd_lookup(const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir,
	const uint8_t *const *keys, uint32_t n, uint32_t *policy_idx_out)
{
	if (n == 0)
		return 0;
	if (policy_idx_out == NULL ||
		(dir != TG_IPSEC_DIR_INBOUND && dir != TG_IPSEC_DIR_OUTBOUND))
		return -EINVAL;
	return tg_ipsec_spd_lookup2(spd, keys, n,
		dir == TG_IPSEC_DIR_OUTBOUND ? policy_idx_out : NULL,
		dir == TG_IPSEC_DIR_INBOUND ? policy_idx_out : NULL);
}
