/* SPDX-License-Identifier: BSD-3-Clause
 * The ipsec: section (the ipsec stage, issue 7): its keys, defaults and
 * the syntax of its values (SPIs, algorithms, directions, the policy's
 * SA). Keys are read by config_ipsec_keys.c; references, duplicates and
 * addresses against the interfaces by config_ipsec_validate.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

const char *const tg_cfg_ipsec_alg_names[TG_CFG_IPSEC__ALGS] = {
	[TG_CFG_IPSEC_AES_128_GCM] = "aes-128-gcm",
	[TG_CFG_IPSEC_AES_256_GCM] = "aes-256-gcm",
	[TG_CFG_IPSEC_AES_128_CBC_SHA256] = "aes-128-cbc-hmac-sha256",
	[TG_CFG_IPSEC_AES_256_CBC_SHA256] = "aes-256-cbc-hmac-sha256",
	[TG_CFG_IPSEC_AES_128_CBC_SHA1] = "aes-128-cbc-hmac-sha1",
	[TG_CFG_IPSEC_AH_HMAC_SHA256] = "hmac-sha256",
	[TG_CFG_IPSEC_AH_HMAC_SHA1] = "hmac-sha1",
};

#define ESP_ALGS                                                               \
	"aes-128-gcm, aes-256-gcm, aes-128-cbc-hmac-sha256, "                  \
	"aes-256-cbc-hmac-sha256, aes-128-cbc-hmac-sha1"
#define AH_ALGS	   "hmac-sha256, hmac-sha1"
#define POL_PROTOS "any, icmp, tcp, udp, gre, esp, ah or a number 0..255"
#define SPI_RESERVE                                                            \
	"RFC 4303 (2.1) reserves 1..255 for IANA and 0 for local use, never "  \
	"sent: use 256..4294967295 (0x100..0xffffffff)"

static struct tg_cfg_src_ipsec *
src_get(struct tg_cfg_ctx *c)
{
	if (c->ipsec == NULL) {
		c->ipsec = calloc(1, sizeof(*c->ipsec));
		if (c->ipsec == NULL)
			c->nomem = true;
	}
	return c->ipsec;
}

void
tg_cfg_ipsec_src_free(struct tg_cfg_ctx *c)
{
	if (c->ipsec == NULL)
		return;
	free(c->ipsec->pol);
	free(c->ipsec->sa);
	free(c->ipsec);
	c->ipsec = NULL;
}

void
tg_cfg_ipsec_defaults(struct tg_config *cfg)
{
	struct tg_cfg_ipsec *ip = &cfg->ipsec;

	ip->enabled = false;
	ip->policy_order = TG_CFG_IPSEC_ORDER_SPECIFICITY;
	ip->allow_authenticated_bypass = false;
	snprintf(ip->crypto_device, sizeof(ip->crypto_device), "%s",
		TG_CFG_IPSEC_DEV_DEFAULT);
}

/* ------------------------------------------------------- single values */

static bool
check_name(const char *s, void *dst, char *msg, size_t len)
{
	return tg_cfg_name_check(
		s, TG_CFG_IPSEC_NAME_MAX, "name", dst, msg, len);
}


/* One of @p n words into the uint8_t at @p dst, else "unknown @p what". */
static bool
check_word(const char *s, void *dst, char *msg, size_t len, const char *what,
	const char *const *words, unsigned int n)
{
	char list[160];
	size_t o = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (strcmp(s, words[i]) == 0) {
			*(uint8_t *)dst = (uint8_t)i;
			return true;
		}
	}
	list[0] = '\0';
	for (i = 0; i < n && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
			i == 0	     ? ""
			: i + 1 == n ? " or "
				     : ", ",
			words[i]);
	snprintf(msg, len, "unknown %s '%.40s': %s", what, s, list);
	return false;
}

static bool
check_pol_dir(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"outbound", "inbound", "both"};

	return check_word(s, dst, msg, len, "direction", w, 3);
}

static bool
check_sa_dir(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"outbound", "inbound"};

	if (strcmp(s, "both") == 0) {
		snprintf(msg, len,
			"an SA has one direction: outbound or inbound (a "
			"mirrored policy names one SA for each)");
		return false;
	}
	return check_word(s, dst, msg, len, "direction", w, 2);
}

static bool
check_action(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"allow", "block", "protect"};

	return check_word(s, dst, msg, len, "action", w, 3);
}

static bool
check_order(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"specificity", "as-written"};

	return check_word(s, dst, msg, len, "policy_order", w, 2);
}

static bool
check_crypto_mode(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"auto", "lookaside", "cpu"};

	return check_word(s, dst, msg, len, "crypto_mode", w, 3);
}

static bool
check_sa_proto(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"esp", "ah"};

	return check_word(s, dst, msg, len, "protocol", w, 2);
}

static bool
check_mode(const char *s, void *dst, char *msg, size_t len)
{
	static const char *const w[] = {"tunnel", "transport"};

	return check_word(s, dst, msg, len, "mode", w, 2);
}

static bool
check_alg(const char *s, void *dst, char *msg, size_t len)
{
	unsigned int i;

	for (i = 0; i < TG_CFG_IPSEC__ALGS; i++) {
		if (strcmp(s, tg_cfg_ipsec_alg_names[i]) == 0) {
			*(uint8_t *)dst = (uint8_t)i;
			return true;
		}
	}
	snprintf(msg, len,
		"unknown algorithm '%.40s' (esp: " ESP_ALGS "; ah: " AH_ALGS
		")",
		s);
	return false;
}

/* "crypto_NAME" with optional ",key=value" arguments: the shape of a
 * DPDK crypto vdev string; whether the driver exists is EAL's business. */
static bool
check_crypto_dev(const char *s, void *dst, char *msg, size_t len)
{
	static const char word[] = "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
	size_t n = strlen(s), name = strspn(s, word);
	const char *why = NULL;
	const char *p;

	if (n >= TG_DEVARG_MAX)
		why = "too long";
	else if (strncmp(s, "crypto_", 7) != 0 || name <= 7)
		why = "expected a crypto vdev name, crypto_NAME (like "
		      "crypto_aesni_mb or crypto_openssl)";
	else if (s[name] != '\0' && s[name] != ',')
		why = "the driver name is letters, digits and _, then "
		      "optional ,key=value arguments";
	for (p = s + name; why == NULL && *p == ',';
		p += strcspn(p + 1, ",") + 1) {
		size_t arg = strcspn(p + 1, ","), k = strspn(p + 1, word);

		if (arg == 0 || k == 0 || p[1 + k] != '=' || k + 1 == arg)
			why = "each argument after the name is ,key=value";
	}
	if (why != NULL) {
		snprintf(msg, len, "invalid crypto_device '%.40s': %s", s, why);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

/* SPI: decimal or 0x hex, 256..0xffffffff. */
static bool
fn_spi(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_sa *sa = base;
	const char *s = tg_cfg_want_text(
		c, v, "an SPI (a number 256..4294967295 or 0x100..0xffffffff)");
	struct tg_cfg_pos pos = tg_cfg_node_pos(v);
	unsigned long long x = 0;
	size_t n;

	if (s == NULL)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		n = strspn(s + 2, "0123456789abcdefABCDEF");
		if (n == 0 || s[2 + n] != '\0')
			goto bad;
		if (n > 8)
			goto range;
		x = strtoull(s + 2, NULL, 16);
	} else {
		n = tg_cfg_number(s, &x);
		if (n == 0 && strspn(s, "0123456789") > 10)
			goto range;
		if (n == 0 || s[n] != '\0')
			goto bad;
		if (x > 0xffffffffull)
			goto range;
	}
	if (x < TG_CFG_IPSEC_SPI_MIN) {
		tg_cfg_err(c, pos, NULL, "SPI %s is reserved: " SPI_RESERVE, s);
		return false;
	}
	sa->spi = (uint32_t)x;
	return true;
bad:
	tg_cfg_err(c, pos, NULL,
		"expected an SPI (a number 256..4294967295 or "
		"0x100..0xffffffff), got '%.40s'",
		s);
	return false;
range:
	tg_cfg_err(c, pos, NULL,
		"out of range: %.40s (an SPI is 32 bits: 256..4294967295)", s);
	return false;
}

/* The key fields: read after the walk, when the algorithm is known. */
static bool
fn_later(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return true;
}

/* clang-format off */
#define REQ TG_CFG_FF_REQUIRED
#define N_FIELDS(t) (sizeof(t) / sizeof((t)[0]))
#define F_U(k, st, m, lo, hi, fl) {.key = k, .type = TG_CFG_FT_UINT, \
	.flags = fl, .size = sizeof(((st *)0)->m), .off = offsetof(st, m), \
	.min = lo, .max = hi}
#define F_C(k, st, m, chk, fl) {.key = k, .type = TG_CFG_FT_CHECK, \
	.flags = fl, .off = offsetof(st, m), .check = chk}
#define F_B(k, st, m) {.key = k, .type = TG_CFG_FT_BOOL, \
	.off = offsetof(st, m)}
#define F_F(k, f, fl) {.key = k, .type = TG_CFG_FT_FN, .flags = fl, .fn = f}
#define F_M(k, st, m, t) {.key = k, .type = TG_CFG_FT_MAP, \
	.off = offsetof(st, m), .sub = t, .n_sub = N_FIELDS(t)}
/* clang-format on */

/* ------------------------------------------------------------ policies */

static bool
fn_pol_src(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_policy *p = base;

	return tg_cfg_prefix_value(c, v, true, &p->src, &p->src_len);
}

static bool
fn_pol_dst(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_policy *p = base;

	return tg_cfg_prefix_value(c, v, true, &p->dst, &p->dst_len);
}

static bool
fn_pol_proto(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_policy *p = base;
	const char *s = tg_cfg_want_text(c, v, "a protocol (" POL_PROTOS ")");
	struct tg_cfg_pos pos = tg_cfg_node_pos(v);

	if (s == NULL)
		return false;
	if (strcasecmp(s, "any") == 0) {
		p->any_proto = true;
		return true;
	}
	switch (tg_cfg_proto_parse(c, pos, s, &p->proto)) {
	case TG_CFG_PROTO_OK:
		p->any_proto = false;
		return true;
	case TG_CFG_PROTO_UNKNOWN:
		tg_cfg_err(c, pos, NULL,
			"unknown protocol '%.40s': " POL_PROTOS, s);
		return false;
	default:
		return false;
	}
}

static bool
fn_pol_sport(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_policy *p = base;

	return tg_cfg_port_range(c, v, 0, &p->sport_lo, &p->sport_hi);
}

static bool
fn_pol_dport(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec_policy *p = base;

	return tg_cfg_port_range(c, v, 0, &p->dport_lo, &p->dport_hi);
}

static bool
sa_name_ref(struct tg_cfg_ctx *c, const yaml_node_t *v, struct tg_cfg_ref *r)
{
	const char *s = tg_cfg_want_text(c, v, "the name of an SA");

	if (s == NULL)
		return false;
	r->name = s;
	r->len = (uint32_t)v->data.scalar.length;
	r->pos = tg_cfg_node_pos(v);
	return true;
}

static bool
fn_pair_out(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_ipsec_pol *ps = base;

	return sa_name_ref(c, v, &ps->sa_out);
}

static bool
fn_pair_in(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_ipsec_pol *ps = base;

	return sa_name_ref(c, v, &ps->sa_in);
}

static const struct tg_cfg_field sa_pair_fields[] = {
	F_F("outbound", fn_pair_out, REQ),
	F_F("inbound", fn_pair_in, REQ),
};

/* sa: NAME, or {outbound: NAME, inbound: NAME} for direction both, into
 * the src entry of the policy being walked. */
static bool
fn_pol_sa(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_ipsec_pol *ps = c->ipsec->cur;

	ps->sa_given = true;
	ps->sa = tg_cfg_node_pos(v);
	if (v->type == YAML_MAPPING_NODE) {
		ps->sa_pair = true;
		return tg_cfg_walk_map(c, v, sa_pair_fields,
			N_FIELDS(sa_pair_fields), ps, NULL);
	}
	/* which side it is for is known after the walk */
	return sa_name_ref(c, v, &ps->sa_out);
}

enum {
	PO_NAME,
	PO_SRC,
	PO_DST,
	PO_PROTO,
	PO_SPORT,
	PO_DPORT,
	PO_DIR,
	PO_ACTION,
	PO_SA,
	PO__N
};
static const struct tg_cfg_field policy_fields[PO__N] = {
	[PO_NAME] =
		F_C("name", struct tg_cfg_ipsec_policy, name, check_name, REQ),
	[PO_SRC] = F_F("src", fn_pol_src, 0),
	[PO_DST] = F_F("dst", fn_pol_dst, 0),
	[PO_PROTO] = F_F("protocol", fn_pol_proto, 0),
	[PO_SPORT] = F_F("src_port", fn_pol_sport, 0),
	[PO_DPORT] = F_F("dst_port", fn_pol_dport, 0),
	[PO_DIR] = F_C("direction", struct tg_cfg_ipsec_policy, dir,
		check_pol_dir, REQ),
	[PO_ACTION] = F_C("action", struct tg_cfg_ipsec_policy, action,
		check_action, REQ),
	[PO_SA] = F_F("sa", fn_pol_sa, 0),
};

/* An error at the key @p k of the item being walked. */
static void
key_err(struct tg_cfg_ctx *c, const struct tg_cfg_seen *k, const char *key,
	const char *msg)
{
	char path[sizeof(c->path) + 16];

	snprintf(path, sizeof(path), "%s.%s", c->path, key);
	tg_cfg_err(c, tg_cfg_node_pos(k->key), path, "%s", msg);
}

/* Ports only for TCP and UDP; sa only and always for protect, as a pair
 * for both directions. */
static void
policy_post(struct tg_cfg_ctx *c, struct tg_cfg_ipsec_policy *p,
	struct tg_cfg_src_ipsec_pol *ps, const struct tg_cfg_seen *s)
{
	bool ports = !p->any_proto && (p->proto == 6 || p->proto == 17);
	char msg[200], path[sizeof(c->path) + 8];
	int k;

	snprintf(path, sizeof(path), "%s.sa", c->path);
	for (k = PO_SPORT;
		k <= PO_DPORT && (s[PO_PROTO].node == NULL || s[PO_PROTO].ok);
		k++) {
		if (s[k].node == NULL || ports)
			continue;
		snprintf(msg, sizeof(msg),
			"%s needs protocol: tcp or udp (the policy's protocol "
			"is %s)",
			policy_fields[k].key,
			p->any_proto
				? "any"
				: (tg_cfg_proto_name(p->proto)
						  ? tg_cfg_proto_name(p->proto)
						  : "not tcp or udp"));
		key_err(c, &s[k], policy_fields[k].key, msg);
		p->sport_lo = p->dport_lo = 0;
		p->sport_hi = p->dport_hi = 65535;
	}
	if (!s[PO_ACTION].ok || !s[PO_DIR].ok)
		return;
	if (p->action != TG_CFG_IPSEC_PROTECT) {
		if (s[PO_SA].node != NULL)
			key_err(c, &s[PO_SA], "sa",
				"sa is for action: protect (an allow or block "
				"policy uses no SA)");
		ps->sa_given = false;
		return;
	}
	if (s[PO_SA].node == NULL) {
		tg_cfg_err(c, p->pos, NULL,
			"missing required key 'sa' (a protect policy names "
			"its SA%s)",
			p->dir == TG_CFG_IPSEC_BOTH
				? "s: sa: {outbound: NAME, inbound: NAME}"
				: "");
		return;
	}
	if (p->dir == TG_CFG_IPSEC_BOTH && !ps->sa_pair && s[PO_SA].ok) {
		tg_cfg_err(c, ps->sa, path,
			"a protect policy with direction both needs an SA for "
			"each direction: sa: {outbound: NAME, inbound: NAME}");
		ps->sa_given = false;
	} else if (p->dir != TG_CFG_IPSEC_BOTH && ps->sa_pair) {
		snprintf(msg, sizeof(msg),
			"a pair of SAs is for direction both: this %s policy "
			"names one SA (sa: NAME)",
			p->dir == TG_CFG_IPSEC_OUT ? "outbound" : "inbound");
		tg_cfg_err(c, ps->sa, path, "%s", msg);
		ps->sa_given = false;
	} else if (p->dir == TG_CFG_IPSEC_IN) {
		ps->sa_in = ps->sa_out;
		memset(&ps->sa_out, 0, sizeof(ps->sa_out));
	}
	if (!s[PO_SA].ok)
		ps->sa_given = false;
}

static bool
policy_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_ipsec *ip = arg;
	struct tg_cfg_ipsec_policy *p = &ip->policies[i];
	struct tg_cfg_src_ipsec_pol *ps = &c->ipsec->pol[i];
	struct tg_cfg_seen s[PO__N];

	p->pos = tg_cfg_node_pos(item);
	p->any_proto = true;
	p->sport_hi = p->dport_hi = 65535;
	p->sa_out = p->sa_in = TG_CFG_IPSEC_NO_SA;
	c->ipsec->cur = ps; /* where fn_pol_sa puts the names */
	tg_cfg_walk_map(c, item, policy_fields, PO__N, p, s);
	ps->name = tg_cfg_seen_pos(&s[PO_NAME], p->pos);
	ps->name_ok = s[PO_NAME].ok;
	ps->dir_ok = s[PO_DIR].ok;
	ps->action_ok = s[PO_ACTION].ok;
	policy_post(c, p, ps, s);
	return true; /* a bad policy does not hide the next ones */
}

static bool
fn_policies(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec *ip = base;
	size_t n = tg_cfg_list_len(v);

	/* the entries beyond the limit are reported, not walked */
	if (n > TG_CFG_IPSEC_MAX_POLICIES)
		n = TG_CFG_IPSEC_MAX_POLICIES;
	if (n > 0) {
		ip->policies = calloc(n, sizeof(*ip->policies));
		c->ipsec->pol = calloc(n, sizeof(*c->ipsec->pol));
		if (ip->policies == NULL || c->ipsec->pol == NULL) {
			c->nomem = true;
			return false;
		}
		ip->n_policies = (uint32_t)n;
	}
	return tg_cfg_for_each(
		c, v, TG_CFG_IPSEC_MAX_POLICIES, "policies", policy_item, ip);
}

/* ----------------------------------------------------------------- sas */

/* clang-format off */
#define LIFE(k) F_U(#k, struct tg_cfg_ipsec_lifetime, k, 0, UINT64_MAX, 0)
static const struct tg_cfg_field lifetime_fields[] = {
	LIFE(soft_packets), LIFE(hard_packets), LIFE(soft_bytes),
	LIFE(hard_bytes),
};
/* clang-format on */

enum {
	SA_NAME,
	SA_SPI,
	SA_DIR,
	SA_PROTO,
	SA_MODE,
	SA_LOCAL,
	SA_REMOTE,
	SA_ALG,
	SA_KEY,
	SA_SALT,
	SA_AUTH_KEY,
	SA_KEY_FILE,
	SA_REPLAY,
	SA_ESN,
	SA_LIFETIME,
	SA__N
};
static const struct tg_cfg_field sa_fields[SA__N] = {
	[SA_NAME] = F_C("name", struct tg_cfg_ipsec_sa, name, check_name, REQ),
	[SA_SPI] = F_F("spi", fn_spi, REQ),
	[SA_DIR] = F_C(
		"direction", struct tg_cfg_ipsec_sa, dir, check_sa_dir, REQ),
	[SA_PROTO] = F_C(
		"protocol", struct tg_cfg_ipsec_sa, proto, check_sa_proto, 0),
	[SA_MODE] = F_C("mode", struct tg_cfg_ipsec_sa, mode, check_mode, REQ),
	[SA_LOCAL] = F_C("local", struct tg_cfg_ipsec_sa, local, tg_cfg_host_check, 0),
	[SA_REMOTE] =
		F_C("remote", struct tg_cfg_ipsec_sa, remote, tg_cfg_host_check, 0),
	[SA_ALG] =
		F_C("algorithm", struct tg_cfg_ipsec_sa, alg, check_alg, REQ),
	[SA_KEY] = F_F("key", fn_later, 0),
	[SA_SALT] = F_F("salt", fn_later, 0),
	[SA_AUTH_KEY] = F_F("auth_key", fn_later, 0),
	[SA_KEY_FILE] = F_F("key_file", fn_later, 0),
	[SA_REPLAY] = F_U("replay_window", struct tg_cfg_ipsec_sa,
		replay_window, 0, TG_CFG_IPSEC_REPLAY_MAX, 0),
	[SA_ESN] = F_B("esn", struct tg_cfg_ipsec_sa, esn),
	[SA_LIFETIME] = F_M(
		"lifetime", struct tg_cfg_ipsec_sa, lifetime, lifetime_fields),
};

/* A soft limit below its hard one (either may be 0: none). */
static void
lifetime_check(struct tg_cfg_ctx *c, const struct tg_cfg_ipsec_sa *sa,
	const yaml_node_t *life)
{
	const struct tg_cfg_ipsec_lifetime *l = &sa->lifetime;
	const char *what[2] = {"packets", "bytes"};
	uint64_t soft[2] = {l->soft_packets, l->soft_bytes};
	uint64_t hard[2] = {l->hard_packets, l->hard_bytes};
	char path[sizeof(c->path) + 32];
	const yaml_node_pair_t *pair;
	struct tg_cfg_pos pos;
	char key[16];
	int i;

	for (i = 0; i < 2; i++) {
		if (soft[i] == 0 || hard[i] == 0 || soft[i] < hard[i])
			continue;
		/* at the soft value */
		snprintf(key, sizeof(key), "soft_%s", what[i]);
		pos = tg_cfg_node_pos(life);
		for (pair = life->data.mapping.pairs.start;
			pair < life->data.mapping.pairs.top; pair++) {
			const yaml_node_t *k =
				yaml_document_get_node(c->doc, pair->key);

			if (k != NULL && k->type == YAML_SCALAR_NODE &&
				strcmp((const char *)k->data.scalar.value,
					key) == 0)
				pos = tg_cfg_node_pos(yaml_document_get_node(
					c->doc, pair->value));
		}
		snprintf(path, sizeof(path), "%s.lifetime.%s", c->path, key);
		tg_cfg_err(c, pos, path,
			"soft_%s %llu is not below hard_%s %llu: the soft "
			"limit warns before the hard one stops the SA",
			what[i], (unsigned long long)soft[i], what[i],
			(unsigned long long)hard[i]);
	}
}

/* The algorithm fits the protocol; tunnel endpoints only for tunnel. */
static void
sa_post(struct tg_cfg_ctx *c, struct tg_cfg_ipsec_sa *sa,
	struct tg_cfg_src_ipsec_sa *ss, const struct tg_cfg_seen *s)
{
	bool ah_alg = sa->alg >= TG_CFG_IPSEC_AH_HMAC_SHA256;
	char path[sizeof(c->path) + 16];
	const struct tg_cfg_seen *ks[TG_CFG_IPSEC_KF__N] = {
		&s[SA_KEY], &s[SA_SALT], &s[SA_AUTH_KEY], &s[SA_KEY_FILE]};
	bool alg_ok =
		s[SA_ALG].ok && (s[SA_PROTO].node == NULL || s[SA_PROTO].ok);

	if (alg_ok && ah_alg != (sa->proto == TG_CFG_IPSEC_AH)) {
		snprintf(path, sizeof(path), "%s.algorithm", c->path);
		tg_cfg_err(c, tg_cfg_node_pos(s[SA_ALG].node), path,
			"algorithm '%s' is for %s; %s takes %s",
			tg_cfg_ipsec_alg_names[sa->alg], ah_alg ? "ah" : "esp",
			ah_alg ? "esp" : "ah", ah_alg ? ESP_ALGS : AH_ALGS);
		alg_ok = false;
	}
	if (s[SA_MODE].ok && sa->mode == TG_CFG_IPSEC_TUNNEL) {
		if (s[SA_LOCAL].node == NULL)
			tg_cfg_err(c, sa->pos, NULL,
				"missing required key 'local' (a tunnel SA "
				"needs both endpoints: local and remote)");
		if (s[SA_REMOTE].node == NULL)
			tg_cfg_err(c, sa->pos, NULL,
				"missing required key 'remote' (a tunnel SA "
				"needs both endpoints: local and remote)");
	} else if (s[SA_MODE].ok) {
		if (s[SA_LOCAL].node != NULL)
			key_err(c, &s[SA_LOCAL], "local",
				"local is for mode: tunnel (a transport SA "
				"uses the packet's own addresses)");
		if (s[SA_REMOTE].node != NULL)
			key_err(c, &s[SA_REMOTE], "remote",
				"remote is for mode: tunnel (a transport SA "
				"uses the packet's own addresses)");
		sa->local = sa->remote = 0;
	}
	ss->local_ok = s[SA_MODE].ok && sa->mode == TG_CFG_IPSEC_TUNNEL &&
		       s[SA_LOCAL].ok;
	ss->local = tg_cfg_seen_pos(&s[SA_LOCAL], sa->pos);
	if (s[SA_LIFETIME].ok)
		lifetime_check(c, sa, s[SA_LIFETIME].node);
	if (alg_ok)
		tg_cfg_ipsec_keys(c, sa, ks, sa->pos);
}

static bool
sa_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_ipsec *ip = arg;
	struct tg_cfg_ipsec_sa *sa = &ip->sas[i];
	struct tg_cfg_src_ipsec_sa *ss = &c->ipsec->sa[i];
	struct tg_cfg_seen s[SA__N];

	sa->pos = tg_cfg_node_pos(item);
	sa->proto = TG_CFG_IPSEC_ESP;
	sa->replay_window = 64;
	if (!tg_cfg_walk_map(c, item, sa_fields, SA__N, sa, s))
		return true;
	ss->name = tg_cfg_seen_pos(&s[SA_NAME], sa->pos);
	ss->name_ok = s[SA_NAME].ok;
	ss->spi = tg_cfg_seen_pos(&s[SA_SPI], sa->pos);
	ss->spi_ok = s[SA_SPI].ok;
	ss->dir_ok = s[SA_DIR].ok;
	ss->proto_ok = s[SA_PROTO].node == NULL || s[SA_PROTO].ok;
	sa_post(c, sa, ss, s);
	return true;
}

static bool
fn_sas(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec *ip = base;
	size_t n = tg_cfg_list_len(v);

	if (n > TG_CFG_IPSEC_MAX_SAS)
		n = TG_CFG_IPSEC_MAX_SAS;
	if (n > 0) {
		ip->sas = calloc(n, sizeof(*ip->sas));
		c->ipsec->sa = calloc(n, sizeof(*c->ipsec->sa));
		if (ip->sas == NULL || c->ipsec->sa == NULL) {
			c->nomem = true;
			return false;
		}
		ip->n_sas = (uint32_t)n;
	}
	return tg_cfg_for_each(c, v, TG_CFG_IPSEC_MAX_SAS, "SAs", sa_item, ip);
}

/* ------------------------------------------------------------- section */

/* clang-format off */
static const struct tg_cfg_field ipsec_fields[] = {
	F_B("enabled", struct tg_cfg_ipsec, enabled),
	F_C("policy_order", struct tg_cfg_ipsec, policy_order, check_order,
		0),
	F_F("policies", fn_policies, 0),
	F_F("sas", fn_sas, 0),
	F_B("allow_authenticated_bypass", struct tg_cfg_ipsec,
		allow_authenticated_bypass),
	F_C("crypto_device", struct tg_cfg_ipsec, crypto_device,
		check_crypto_dev, 0),
	F_C("crypto_mode", struct tg_cfg_ipsec, crypto_mode,
		check_crypto_mode, 0),
};
/* clang-format on */

bool
tg_cfg_ipsec_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_ipsec *ip = &((struct tg_config *)base)->ipsec;
	struct tg_cfg_src_ipsec *src = src_get(c);

	if (src == NULL)
		return false;
	ip->present = true;
	ip->enabled = true; /* a present section is on unless it says not */
	ip->pos = tg_cfg_node_pos(v);
	return tg_cfg_walk_map(
		c, v, ipsec_fields, N_FIELDS(ipsec_fields), ip, NULL);
}
