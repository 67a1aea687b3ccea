/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec stage, control side: the crypto device and the registry of live
 * SAs (kept across reloads while their definition is unchanged), and the
 * snapshot's ipsec table (SPD, SAD, policies, hit counters).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ipsec_sad.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include "ipsec_internal.h"
#include "ipsec_stage_priv.h"

#define TG_IPSEC_MIN_SESSIONS 256
#define TG_IPSEC_NB_OPS	      4096

struct tg_ipsec_stage *
tg_ipsec_stage_create(const struct tg_config *cfg, const uint16_t *port_ids,
	uint16_t n_ports, struct rte_mempool *mp, int socket)
{
	const struct tg_cfg_ipsec *ip = &cfg->ipsec;
	struct tg_ipsec_ctx_params cp = {0};
	char dev[TG_DEVARG_MAX], *comma;
	struct tg_ipsec_stage *st;
	uint16_t i;

	st = rte_zmalloc_socket(
		"tg_ipsec_stage", sizeof(*st), RTE_CACHE_LINE_SIZE, socket);
	if (st == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/* A reload builds its SAs beside the running ones: room for both,
	 * and for some growth. */
	st->max_reg =
		RTE_MAX((uint32_t)TG_IPSEC_MIN_SESSIONS, 2 * ip->n_sas + 64);
	st->reg = rte_zmalloc_socket("tg_ipsec_reg",
		sizeof(*st->reg) * st->max_reg, RTE_CACHE_LINE_SIZE, socket);
	if (st->reg == NULL) {
		rte_free(st);
		rte_errno = ENOMEM;
		return NULL;
	}
	st->mp = mp;
	st->n_ports = RTE_MIN(n_ports, (uint16_t)TG_MAX_PORTS);
	for (i = 0; i < st->n_ports; i++)
		st->port_id[i] = port_ids != NULL ? port_ids[i] : i;
	snprintf(dev, sizeof(dev), "%s",
		ip->crypto_device[0] != '\0' ? ip->crypto_device
					     : TG_CFG_IPSEC_DEV_DEFAULT);
	comma = strchr(dev, ',');
	if (comma != NULL)
		*comma++ = '\0';
	snprintf(st->device, sizeof(st->device), "%s", dev);
	cp.device = dev;
	cp.devargs = comma;
	cp.max_sa = st->max_reg;
	cp.nb_ops = TG_IPSEC_NB_OPS;
	cp.socket_id = socket;
	cp.mode = ip->crypto_mode == TG_CFG_IPSEC_CRYPTO_LOOKASIDE
			  ? TG_IPSEC_CRYPTO_LOOKASIDE
		  : ip->crypto_mode == TG_CFG_IPSEC_CRYPTO_CPU
			  ? TG_IPSEC_CRYPTO_CPU
			  : TG_IPSEC_CRYPTO_AUTO;
	st->ctx = tg_ipsec_ctx_create(&cp);
	if (st->ctx == NULL) {
		int e = rte_errno;

		rte_free(st->reg);
		rte_free(st);
		rte_errno = e;
		return NULL;
	}
	return st;
}

void
tg_ipsec_stage_free(struct tg_ipsec_stage *st)
{
	uint32_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n_reg; i++)
		tg_ipsec_sa_destroy(st->reg[i].sa);
	tg_ipsec_ctx_free(st->ctx);
	rte_free(st->reg);
	rte_free(st);
}

uint64_t
tg_ipsec_inflight(const struct tg_ipsec_stage *st)
{
	return st == NULL ? 0
			  : __atomic_load_n(&st->inflight, __ATOMIC_RELAXED);
}

const char *
tg_ipsec_stage_device(const struct tg_ipsec_stage *st)
{
	return st == NULL ? "" : st->device;
}

bool
tg_ipsec_restart_only(const struct tg_config *run, const struct tg_config *nc,
	char *path, size_t len)
{
	if (nc->ipsec.enabled && !run->ipsec.enabled) {
		snprintf(path, len, "ipsec.enabled");
		return true;
	}
	if (nc->ipsec.enabled && strcmp(run->ipsec.crypto_device,
					 nc->ipsec.crypto_device) != 0) {
		snprintf(path, len, "ipsec.crypto_device");
		return true;
	}
	if (nc->ipsec.enabled && run->ipsec.crypto_mode != nc->ipsec.crypto_mode) {
		snprintf(path, len, "ipsec.crypto_mode");
		return true;
	}
	return false;
}

/*
 * Names → indexes, for matching a new configuration's SAs and policies
 * with the live ones in linear time (10,000 SAs would take 10^8 string
 * compares pairwise). Open addressing; a name may be there more than
 * once (an SA's old and new definition during a reload).
 */
struct name_idx {
	uint32_t mask;
	uint32_t *slot; /* index + 1; 0 = empty */
};

static uint32_t
name_hash(const char *name)
{
	return rte_jhash(name, (uint32_t)strlen(name), 0);
}

static int
name_idx_init(struct name_idx *x, uint32_t n)
{
	x->mask = rte_align32pow2(2 * n + 2) - 1;
	x->slot = rte_zmalloc(
		"tg_ipsec_names", sizeof(*x->slot) * (x->mask + 1), 0);
	return x->slot == NULL ? -ENOMEM : 0;
}

static void
name_idx_add(struct name_idx *x, const char *name, uint32_t idx)
{
	uint32_t s = name_hash(name) & x->mask;

	while (x->slot[s] != 0)
		s = (s + 1) & x->mask;
	x->slot[s] = idx + 1;
}

/* First slot to probe for @p name; walk with name_idx_next(). */
static uint32_t
name_idx_first(const struct name_idx *x, const char *name)
{
	return name_hash(name) & x->mask;
}

static uint32_t
name_idx_next(const struct name_idx *x, uint32_t s)
{
	return (s + 1) & x->mask;
}

/* Everything that makes an SA what it is, but not where it was written
 * (pos) nor where its keys came from. */
static bool
sa_same(const struct tg_cfg_ipsec_sa *a, const struct tg_cfg_ipsec_sa *b)
{
	const struct tg_cfg_ipsec_keys *ka = &a->keys, *kb = &b->keys;

	return strcmp(a->name, b->name) == 0 && a->spi == b->spi &&
	       a->dir == b->dir && a->proto == b->proto && a->mode == b->mode &&
	       a->alg == b->alg && a->local == b->local &&
	       a->remote == b->remote && ka->key_len == kb->key_len &&
	       ka->salt_len == kb->salt_len &&
	       ka->auth_key_len == kb->auth_key_len &&
	       memcmp(ka->key, kb->key, ka->key_len) == 0 &&
	       memcmp(ka->salt, kb->salt, ka->salt_len) == 0 &&
	       memcmp(ka->auth_key, kb->auth_key, ka->auth_key_len) == 0 &&
	       a->replay_window == b->replay_window && a->esn == b->esn &&
	       a->lifetime.soft_packets == b->lifetime.soft_packets &&
	       a->lifetime.hard_packets == b->lifetime.hard_packets &&
	       a->lifetime.soft_bytes == b->lifetime.soft_bytes &&
	       a->lifetime.hard_bytes == b->lifetime.hard_bytes;
}

static const uint8_t alg_map[TG_CFG_IPSEC__ALGS] = {
	[TG_CFG_IPSEC_AES_128_GCM] = TG_IPSEC_ALG_AES128_GCM,
	[TG_CFG_IPSEC_AES_256_GCM] = TG_IPSEC_ALG_AES256_GCM,
	[TG_CFG_IPSEC_AES_128_CBC_SHA256] = TG_IPSEC_ALG_AES128_CBC_SHA256,
	[TG_CFG_IPSEC_AES_256_CBC_SHA256] = TG_IPSEC_ALG_AES256_CBC_SHA256,
	[TG_CFG_IPSEC_AES_128_CBC_SHA1] = TG_IPSEC_ALG_AES128_CBC_SHA1,
#ifdef TG_IPSEC_HAVE_AH
	[TG_CFG_IPSEC_AH_HMAC_SHA256] = TG_IPSEC_ALG_HMAC_SHA256,
	[TG_CFG_IPSEC_AH_HMAC_SHA1] = TG_IPSEC_ALG_HMAC_SHA1,
#endif
};

static int
sa_params(const struct tg_cfg_ipsec_sa *c, struct tg_ipsec_sa_params *p,
	char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
#ifdef TG_IPSEC_HAVE_AH
	p->proto = c->proto == TG_CFG_IPSEC_AH ? TG_IPSEC_PROTO_AH
					       : TG_IPSEC_PROTO_ESP;
#else
	if (c->proto == TG_CFG_IPSEC_AH) {
		snprintf(err, errlen,
			"ipsec.sas '%s': AH is not supported by this build",
			c->name);
		return -ENOTSUP;
	}
#endif
	p->spi = c->spi;
	p->dir = c->dir == TG_CFG_IPSEC_OUT ? TG_IPSEC_DIR_OUTBOUND
					    : TG_IPSEC_DIR_INBOUND;
	p->mode = c->mode == TG_CFG_IPSEC_TUNNEL ? TG_IPSEC_MODE_TUNNEL
						 : TG_IPSEC_MODE_TRANSPORT;
	/* Outbound the tunnel's outer source is ours; inbound rte_ipsec
	 * keeps the endpoints only for its own checks, the same way. */
	p->tun_local = c->local;
	p->tun_remote = c->remote;
	p->alg = (enum tg_ipsec_alg)alg_map[c->alg];
	memcpy(p->cipher_key, c->keys.key, c->keys.key_len);
	p->cipher_key_len = c->keys.key_len;
	memcpy(p->salt, c->keys.salt, c->keys.salt_len);
	memcpy(p->auth_key, c->keys.auth_key, c->keys.auth_key_len);
	p->auth_key_len = c->keys.auth_key_len;
	p->replay_window = c->replay_window;
	p->esn = c->esn;
	p->lifetime.soft_packets = c->lifetime.soft_packets;
	p->lifetime.hard_packets = c->lifetime.hard_packets;
	p->lifetime.soft_bytes = c->lifetime.soft_bytes;
	p->lifetime.hard_bytes = c->lifetime.hard_bytes;
	return 0;
}

/* The live SA of this definition (@p live indexes the registry as it
 * was before this build), or a new one. */
static int
sa_get(struct tg_ipsec_stage *st, const struct name_idx *live,
	const struct tg_cfg_ipsec_sa *c, struct tg_ipsec_sa **out, bool *reused,
	char *err, size_t errlen)
{
	struct tg_ipsec_sa_params p;
	struct tg_ipsec_sa *sa;
	uint32_t s;
	int rc;

	for (s = name_idx_first(live, c->name); live->slot[s] != 0;
		s = name_idx_next(live, s)) {
		const struct tg_ipsec_reg *r = &st->reg[live->slot[s] - 1];

		if (sa_same(&r->def, c)) {
			*out = r->sa;
			*reused = true;
			return 0;
		}
	}
	if (st->n_reg >= st->max_reg) {
		snprintf(err, errlen,
			"ipsec.sas '%s': no room for another SA (%u live, "
			"room for %u beside a reload): restart to grow",
			c->name, st->n_reg, st->max_reg);
		return -ENOSPC;
	}
	rc = sa_params(c, &p, err, errlen);
	if (rc < 0)
		return rc;
	sa = tg_ipsec_sa_create(st->ctx, &p);
	memset(&p, 0, sizeof(p)); /* no key copies left on the stack */
	if (sa == NULL) {
		rc = -rte_errno;
		snprintf(err, errlen, "ipsec.sas '%s': %s on %s", c->name,
			rc == -ENOTSUP ? "algorithm not supported"
				       : rte_strerror(-rc),
			st->device);
		return rc;
	}
	st->reg[st->n_reg].sa = sa;
	st->reg[st->n_reg].def = *c;
	st->n_reg++;
	*out = sa;
	*reused = false;
	return 0;
}

/* The MTU of the interface the config routes @p dst through: the longest
 * of the connected subnets and static routes; 0 when none covers it. */
static uint16_t
route_mtu(const struct tg_config *cfg, uint32_t dst)
{
	int best = -1;
	uint16_t mtu = 0;
	uint32_t i;

	for (i = 0; i < cfg->n_ifaces; i++) {
		const struct tg_cfg_iface *f = &cfg->ifaces[i];
		uint32_t m = tg_acl_prefix_mask(f->prefix_len);

		if (((dst ^ f->addr) & m) == 0 && f->prefix_len > best) {
			best = f->prefix_len;
			mtu = f->mtu;
		}
	}
	for (i = 0; i < cfg->n_routes; i++) {
		const struct tg_cfg_route *r = &cfg->routes[i];
		uint32_t m = tg_acl_prefix_mask(r->len);

		/* a static route replaces an equal connected prefix */
		if (((dst ^ r->prefix) & m) == 0 && r->len >= best &&
			r->iface < cfg->n_ifaces) {
			best = r->len;
			mtu = cfg->ifaces[r->iface].mtu;
		}
	}
	return mtu;
}

static int
sad_build(struct tg_ipsec_table *t, const struct tg_cfg_ipsec *ip, int socket,
	char *err, size_t errlen)
{
	static unsigned int instance;
	struct rte_ipsec_sad_conf conf;
	char name[RTE_IPSEC_SAD_NAMESIZE];
	uint32_t count[2] = {0, 0}, i;
	int k, rc;

	for (i = 0; i < ip->n_sas; i++)
		if (ip->sas[i].dir == TG_CFG_IPSEC_IN)
			count[ip->sas[i].proto == TG_CFG_IPSEC_AH]++;
	for (k = 0; k < 2; k++) {
		if (count[k] == 0)
			continue;
		memset(&conf, 0, sizeof(conf));
		conf.socket_id = socket;
		conf.max_sa[RTE_IPSEC_SAD_SPI_ONLY] = count[k];
		snprintf(name, sizeof(name), "tg%u_%s", ++instance,
			k ? "ah" : "esp");
		t->sad[k] = rte_ipsec_sad_create(name, &conf);
		if (t->sad[k] == NULL) {
			snprintf(err, errlen, "ipsec: SAD: %s",
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	for (i = 0; i < ip->n_sas; i++) {
		const struct tg_cfg_ipsec_sa *c = &ip->sas[i];
		union rte_ipsec_sad_key key = {0};

		if (c->dir != TG_CFG_IPSEC_IN)
			continue;
		/* Keys as they are on the wire: the burst looks up the
		 * packet's bytes without swapping. */
		key.v4.spi = rte_cpu_to_be_32(c->spi);
		/* The table's entry, not the SA: the burst wants what the
		 * table knows of it (its direct policy check) as well. */
		rc = rte_ipsec_sad_add(t->sad[c->proto == TG_CFG_IPSEC_AH],
			&key, RTE_IPSEC_SAD_SPI_ONLY, &t->sas[i]);
		if (rc < 0) {
			snprintf(err, errlen, "ipsec.sas '%s': SAD: %s",
				c->name, rte_strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Rule pairs the direct policy checks may compare per build (about 1.3
 * ns each: some 20 ms of a reload at most; tg_ipsec_spd_sels). */
#define SELS_BUDGET (UINT64_C(1) << 24)

/* Each inbound SA's direct inner policy check (tg_ipsec_spd.h). */
static int
sels_build(struct tg_ipsec_table *t, const struct tg_cfg_ipsec *ip, char *err,
	size_t errlen)
{
	struct tg_ipsec_sels **out;
	uint32_t i;
	int rc;

	/* the layout the burst counts on (tg_ipsec_tsa) */
	RTE_BUILD_BUG_ON(sizeof(struct tg_ipsec_sel) != 24);
	RTE_BUILD_BUG_ON(
		offsetof(struct tg_ipsec_tsa, sel.s[1]) > RTE_CACHE_LINE_SIZE);
	RTE_BUILD_BUG_ON(sizeof(struct tg_ipsec_tsa) % RTE_CACHE_LINE_SIZE);
	if (ip->n_sas == 0)
		return 0;
	out = rte_zmalloc("tg_ipsec_sels_out", sizeof(*out) * ip->n_sas, 0);
	if (out == NULL) {
		snprintf(err, errlen, "ipsec: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < ip->n_sas; i++)
		if (ip->sas[i].dir == TG_CFG_IPSEC_IN)
			out[i] = &t->sas[i].sel;
	rc = tg_ipsec_spd_sels(ip, out, SELS_BUDGET);
	rte_free(out);
	if (rc < 0) {
		snprintf(err, errlen, "ipsec policies: direct checks: %s",
			strerror(-rc));
		return rc;
	}
	return 0;
}

int
tg_ipsec_build(const struct tg_config *cfg, struct tg_ipsec_stage *st,
	const struct tg_ipsec_table *prev, int socket,
	struct tg_ipsec_table **out, char *err, size_t errlen)
{
	const struct tg_cfg_ipsec *ip = &cfg->ipsec;
	struct name_idx live = {0};
	struct tg_ipsec_table *t;
	uint32_t i;
	int rc;

	RTE_SET_USED(prev);
	*out = NULL;
	t = rte_zmalloc_socket(
		"tg_ipsec_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		snprintf(err, errlen, "ipsec: out of memory");
		return -ENOMEM;
	}
	t->cfg = ip;
	if (!ip->enabled) {
		*out = t;
		return 0;
	}
	if (st == NULL) {
		snprintf(err, errlen,
			"ipsec: enabled, but the appliance started without "
			"it: restart to turn it on");
		rte_free(t);
		return -EINVAL;
	}
	t->enabled = true;
	t->bypass = ip->allow_authenticated_bypass;
	t->icmp_unreach = cfg->icmp.unreachable;
	t->icmp_rate = cfg->icmp.rate;
	t->icmp_burst = cfg->icmp.burst;
	for (i = 0; i < cfg->n_ifaces; i++)
		if (cfg->ifaces[i].port < st->n_ports)
			t->if_addr[st->port_id[cfg->ifaces[i].port] %
				   RTE_MAX_ETHPORTS] = cfg->ifaces[i].addr;
	t->modes = (1u << TG_MODE_IN) | (1u << TG_MODE_OUT);
	t->n_sas = ip->n_sas;
	t->n_policies = ip->n_policies;
	t->sas = rte_zmalloc_socket("tg_ipsec_tsa",
		sizeof(*t->sas) * RTE_MAX(ip->n_sas, 1u), 0, socket);
	t->pol = rte_zmalloc_socket("tg_ipsec_pol",
		sizeof(*t->pol) * RTE_MAX(ip->n_policies, 1u), 0, socket);
	t->hits = rte_zmalloc_socket("tg_ipsec_hits",
		sizeof(*t->hits) * RTE_MAX(ip->n_policies, 1u),
		RTE_CACHE_LINE_SIZE, socket);
	t->carried = rte_zmalloc_socket("tg_ipsec_carried",
		sizeof(*t->carried) * RTE_MAX(ip->n_policies, 1u), 0, socket);
	if (t->sas == NULL || t->pol == NULL || t->hits == NULL ||
		t->carried == NULL) {
		snprintf(err, errlen, "ipsec: out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	rc = name_idx_init(&live, st->n_reg);
	if (rc < 0) {
		snprintf(err, errlen, "ipsec: out of memory");
		goto fail;
	}
	for (i = 0; i < st->n_reg; i++)
		name_idx_add(&live, st->reg[i].def.name, i);
	for (i = 0; i < ip->n_sas; i++) {
		struct tg_ipsec_tsa *ts = &t->sas[i];

		rc = sa_get(st, &live, &ip->sas[i], &ts->sa, &ts->reused, err,
			errlen);
		if (rc < 0)
			goto fail;
		snprintf(ts->name, sizeof(ts->name), "%s", ip->sas[i].name);
		ts->proto = ip->sas[i].proto;
		ts->dir = ip->sas[i].dir;
		ts->overhead = tg_cfg_ipsec_sa_overhead(&ip->sas[i]);
		if (ts->dir == TG_CFG_IPSEC_OUT &&
			ip->sas[i].mode == TG_CFG_IPSEC_TUNNEL)
			ts->tun_mtu = route_mtu(cfg, ip->sas[i].remote);
	}
	for (i = 0; i < ip->n_policies; i++) {
		const struct tg_cfg_ipsec_policy *p = &ip->policies[i];

		t->pol[i].action = p->action;
		t->pol[i].sa_out = p->sa_out;
		t->pol[i].sa_in = p->sa_in;
		if (p->dir != TG_CFG_IPSEC_OUT &&
			p->action != TG_CFG_IPSEC_ALLOW)
			t->in_check = true;
		if (p->dir != TG_CFG_IPSEC_IN)
			t->out_check = true;
	}
	rc = tg_ipsec_spd_build(ip, socket, &t->spd, err, errlen);
	if (rc == 0)
		rc = sels_build(t, ip, err, errlen);
	if (rc == 0)
		rc = sad_build(t, ip, socket, err, errlen);
	if (rc < 0)
		goto fail;
	rte_free(live.slot);
	*out = t;
	return 0;
fail:
	/* SAs made for this build stay in the registry until a sweep: the
	 * running snapshot does not use them. */
	rte_free(live.slot);
	tg_ipsec_table_free(t);
	return rc;
}

void
tg_ipsec_table_free(struct tg_ipsec_table *t)
{
	if (t == NULL)
		return;
	tg_ipsec_spd_free(t->spd);
	rte_ipsec_sad_destroy(t->sad[0]);
	rte_ipsec_sad_destroy(t->sad[1]);
	rte_free(t->sas);
	rte_free(t->pol);
	rte_free(t->hits);
	rte_free(t->carried);
	rte_free(t);
}

/* The name of SA @p i of @p ip, "" for none. */
static const char *
sa_name(const struct tg_cfg_ipsec *ip, uint32_t i)
{
	return i < ip->n_sas ? ip->sas[i].name : "";
}

static bool
policy_same(const struct tg_cfg_ipsec *ia, const struct tg_cfg_ipsec_policy *a,
	const struct tg_cfg_ipsec *ib, const struct tg_cfg_ipsec_policy *b)
{
	return strcmp(a->name, b->name) == 0 &&
	       strcmp(sa_name(ia, a->sa_out), sa_name(ib, b->sa_out)) == 0 &&
	       strcmp(sa_name(ia, a->sa_in), sa_name(ib, b->sa_in)) == 0 &&
	       a->src == b->src && a->src_len == b->src_len &&
	       a->dst == b->dst && a->dst_len == b->dst_len &&
	       a->any_proto == b->any_proto && a->proto == b->proto &&
	       a->sport_lo == b->sport_lo && a->sport_hi == b->sport_hi &&
	       a->dport_lo == b->dport_lo && a->dport_hi == b->dport_hi &&
	       a->dir == b->dir && a->action == b->action;
}

void
tg_ipsec_carry_hits(struct tg_ipsec_table *t, const struct tg_ipsec_table *old)
{
	const struct tg_cfg_ipsec_policy *op = NULL;
	struct name_idx x;
	uint32_t i, s;

	if (t == NULL || old == NULL || t->carried == NULL ||
		old->hits == NULL || old->n_policies == 0 ||
		name_idx_init(&x, old->n_policies) < 0)
		return;
	op = old->cfg->policies;
	for (i = 0; i < old->n_policies; i++)
		name_idx_add(&x, op[i].name, i);
	for (i = 0; i < t->n_policies; i++) {
		const struct tg_cfg_ipsec_policy *p = &t->cfg->policies[i];

		for (s = name_idx_first(&x, p->name); x.slot[s] != 0;
			s = name_idx_next(&x, s))
			if (policy_same(
				    t->cfg, p, old->cfg, &op[x.slot[s] - 1])) {
				struct tg_ipsec_hits h;

				tg_ipsec_policy_hits(old, x.slot[s] - 1, &h);
				t->carried[i] = h;
				break;
			}
	}
	rte_free(x.slot);
}

uint32_t
tg_ipsec_stage_sweep(
	struct tg_ipsec_stage *st, const struct tg_ipsec_table *cur)
{
	uint32_t i = 0, waiting = 0;

	if (st == NULL)
		return 0;
	for (i = 0; i < st->n_reg; i++)
		st->reg[i].sa->in_use = false;
	for (i = 0; cur != NULL && i < cur->n_sas; i++)
		cur->sas[i].sa->in_use = true;
	i = 0;
	while (i < st->n_reg) {
		struct tg_ipsec_reg *r = &st->reg[i];

		if (r->sa->in_use) {
			i++;
			continue;
		}
		if (__atomic_load_n(&tg_ipsec_sa_stats(r->sa)->inflight,
			    __ATOMIC_ACQUIRE) != 0) {
			waiting++;
			i++;
			continue;
		}
		tg_ipsec_sa_destroy(r->sa);
		memset(&r->def, 0, sizeof(r->def));
		st->reg[i] = st->reg[--st->n_reg];
	}
	return waiting;
}

void
tg_ipsec_policy_hits(
	const struct tg_ipsec_table *t, uint32_t i, struct tg_ipsec_hits *h)
{
	h->out = __atomic_load_n(&t->hits[i].out, __ATOMIC_RELAXED) +
		 t->carried[i].out;
	h->in = __atomic_load_n(&t->hits[i].in, __ATOMIC_RELAXED) +
		t->carried[i].in;
}

void
tg_ipsec_table_link(struct tg_ipsec_table *t, const struct tg_forward_table *ft)
{
	const struct tg_nexthop *nh;
	uint32_t i, nh_ip;

	if (t == NULL)
		return;
	t->fwd = ft;
	for (i = 0; i < t->n_sas; i++) {
		struct tg_ipsec_tsa *ts = &t->sas[i];
		const struct tg_cfg_ipsec_sa *c;

		ts->adj_ok = false;
		if (ft == NULL || t->cfg == NULL || i >= t->cfg->n_sas)
			continue;
		c = &t->cfg->sas[i];
		if (ts->dir != TG_CFG_IPSEC_OUT || c->mode != TG_CFG_IPSEC_TUNNEL ||
			tg_forward_route(ft, c->remote, &nh, &nh_ip) != 0)
			continue;
		ts->adj_port = nh->port;
		ts->adj_mtu = nh->mtu;
		ts->adj_l3 = nh->l3 != 0;
		ts->adj_nh_ip = nh_ip;
		memcpy(ts->adj_src_et, nh->src_et, sizeof(ts->adj_src_et));
		ts->adj_ok = true;
	}
}

void
tg_ipsec_stage_set_forward(
	struct tg_ipsec_stage *st, const struct tg_forward_ctx *fctx)
{
	if (st != NULL)
		st->fwd_ctx = fctx;
}
