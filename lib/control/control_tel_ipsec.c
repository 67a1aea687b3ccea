/* SPDX-License-Identifier: BSD-3-Clause
 * /tollgate/ipsec, /tollgate/ipsec/sa and /tollgate/ipsec/spd: the ipsec
 * stage's settings, crypto device and drops, its SAs with their counters
 * (never their keys) and its policies in evaluation order with their
 * hits, from the running snapshot under the control lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cryptodev.h>

#include "control_tel.h"
#include "tg_ipsec_spd.h"
#include "tg_ipsec_stage.h"
#include "tg_pipeline.h"

static const char *
yes_no(bool b)
{
	return b ? "yes" : "no";
}

static const char *
dir_name(uint8_t d)
{
	return d == TG_CFG_IPSEC_OUT  ? "outbound"
	       : d == TG_CFG_IPSEC_IN ? "inbound"
				      : "both";
}

static const char *
action_name(uint8_t a)
{
	return a == TG_CFG_IPSEC_ALLOW	 ? "allow"
	       : a == TG_CFG_IPSEC_BLOCK ? "block"
					 : "protect";
}

/* ---- /tollgate/ipsec ---------------------------------------------------- */

static void
add_crypto(struct rte_tel_data *d, const struct tg_ipsec_stage *st)
{
	const char *name = tg_ipsec_stage_device(st);
	struct rte_cryptodev_info info;
	struct rte_cryptodev_stats cs;
	struct rte_tel_data *x;
	int id;

	rte_tel_data_add_dict_string(d, "crypto_device", name);
	id = rte_cryptodev_get_dev_id(name);
	if (id < 0)
		return;
	x = rte_tel_data_alloc();
	if (x == NULL)
		return;
	rte_tel_data_start_dict(x);
	rte_tel_data_add_dict_int(x, "dev_id", id);
	memset(&info, 0, sizeof(info));
	rte_cryptodev_info_get((uint8_t)id, &info);
	if (info.driver_name != NULL)
		rte_tel_data_add_dict_string(x, "driver", info.driver_name);
	rte_tel_data_add_dict_int(x, "socket", rte_cryptodev_socket_id(id));
	/* The PMD's queue pair counters: read while the worker moves
	 * them, each one word. */
	if (rte_cryptodev_stats_get((uint8_t)id, &cs) == 0) {
		rte_tel_data_add_dict_u64(x, "enqueued", cs.enqueued_count);
		rte_tel_data_add_dict_u64(x, "dequeued", cs.dequeued_count);
		rte_tel_data_add_dict_u64(
			x, "enqueue_errors", cs.enqueue_err_count);
		rte_tel_data_add_dict_u64(
			x, "dequeue_errors", cs.dequeue_err_count);
	}
	rte_tel_data_add_dict_container(d, "crypto", x, 0);
}

static void
add_drops(struct rte_tel_data *d)
{
	static struct tg_lcore_stats sum; /* large: not on the stack; the
					     control lock serialises it */
	const char *pfx = "ipsec.";
	struct rte_tel_data *x;
	uint16_t i;

	if (tg_tel_ctl->pl == NULL)
		return;
	x = rte_tel_data_alloc();
	if (x == NULL)
		return;
	tg_pipeline_stats_sum(tg_tel_ctl->pl, &sum);
	rte_tel_data_start_dict(x);
	for (i = 0; i < tg_drop_count(); i++)
		if (strncmp(tg_drop_name(i), pfx, strlen(pfx)) == 0)
			rte_tel_data_add_dict_u64(
				x, tg_drop_name(i) + strlen(pfx), sum.drops[i]);
	rte_tel_data_add_dict_container(d, "drops", x, 0);
}

/* How the SPD answers (tg_ipsec_spd.h): "walk" (a few rules), "index"
 * (the destination index in front of rte_acl, with how many rules of
 * each direction it answers for), "rte_acl", or "none". */
static void
add_spd_lookup(struct rte_tel_data *d, const struct tg_ipsec_spd *spd)
{
	uint32_t io = tg_ipsec_spd_indexed(spd, TG_IPSEC_DIR_OUTBOUND);
	uint32_t ii = tg_ipsec_spd_indexed(spd, TG_IPSEC_DIR_INBOUND);

	rte_tel_data_add_dict_string(d, "spd_lookup",
		spd == NULL || tg_ipsec_spd_policies(spd) == 0 ? "none"
		: tg_ipsec_spd_walks(spd)		       ? "walk"
		: io + ii > 0				       ? "index"
							       : "rte_acl");
	rte_tel_data_add_dict_u64(d, "spd_indexed_out", io);
	rte_tel_data_add_dict_u64(d, "spd_indexed_in", ii);
}

static void
summary(struct rte_tel_data *d, const struct tg_tables *t)
{
	const struct tg_ipsec_stage *st = tg_pipeline_ipsec(tg_tel_ctl->pl);
	const struct tg_cfg_ipsec *ip = &t->cfg->ipsec;
	const struct tg_ipsec_table *it = t->ipsec;
	uint64_t reused = 0;
	uint32_t i;

	rte_tel_data_add_dict_string(
		d, "enabled", yes_no(it != NULL && it->enabled));
	rte_tel_data_add_dict_u64(d, "generation", t->generation);
	if (st != NULL)
		add_crypto(d, st);
	rte_tel_data_add_dict_u64(d, "inflight", tg_ipsec_inflight(st));
	rte_tel_data_add_dict_string(d, "allow_authenticated_bypass",
		yes_no(ip->allow_authenticated_bypass));
	rte_tel_data_add_dict_string(d, "policy_order",
		ip->policy_order == TG_CFG_IPSEC_ORDER_AS_WRITTEN
			? "as-written"
			: "specificity");
	rte_tel_data_add_dict_u64(
		d, "policies", it != NULL ? it->n_policies : 0);
	add_spd_lookup(d, it != NULL ? it->spd : NULL);
	rte_tel_data_add_dict_u64(d, "sas", it != NULL ? it->n_sas : 0);
	for (i = 0; it != NULL && i < it->n_sas; i++)
		reused += it->sas[i].reused;
	rte_tel_data_add_dict_u64(d, "sas_reused", reused);
	add_drops(d);
}

/* ---- /tollgate/ipsec/sa ------------------------------------------------- */

/* SA @p i of the snapshot: what the configuration says and what the
 * live SA counts. The keys are neither in tg_ipsec_sa_params() (zeroed)
 * nor read from the configuration here. */
static void
add_sa(struct tg_tel_sized *s, const struct tg_tables *t, uint32_t i)
{
	const struct tg_ipsec_tsa *ts = &t->ipsec->sas[i];
	const struct tg_cfg_ipsec_sa *c = &t->cfg->ipsec.sas[i];
	const struct tg_ipsec_sa_params *p = tg_ipsec_sa_params(ts->sa);
	const struct tg_ipsec_sa_stats *x = tg_ipsec_sa_stats(ts->sa);
	char buf[TG_CFG_IPSEC_NAME_MAX];

	tg_tel_put_str(s, "name", tg_tel_ascii(ts->name, buf, sizeof(buf)));
	tg_tel_put_u64(s, "spi", p->spi);
	snprintf(buf, sizeof(buf), "0x%08" PRIx32, p->spi);
	tg_tel_put_str(s, "spi_hex", buf);
	tg_tel_put_str(s, "direction", dir_name(ts->dir));
	tg_tel_put_str(
		s, "protocol", ts->proto == TG_CFG_IPSEC_AH ? "ah" : "esp");
	tg_tel_put_str(s, "mode",
		p->mode == TG_IPSEC_MODE_TUNNEL ? "tunnel" : "transport");
	tg_tel_put_str(s, "algorithm",
		c->alg < TG_CFG_IPSEC__ALGS ? tg_cfg_ipsec_alg_names[c->alg]
					    : "?");
	if (p->mode == TG_IPSEC_MODE_TUNNEL) {
		tg_tel_put_ip(s, "local", p->tun_local);
		tg_tel_put_ip(s, "remote", p->tun_remote);
	}
	tg_tel_put_u64(s, "replay_window", p->replay_window);
	tg_tel_put_str(s, "esn", yes_no(p->esn));
	tg_tel_put_u64(s, "soft_packets", p->lifetime.soft_packets);
	tg_tel_put_u64(s, "hard_packets", p->lifetime.hard_packets);
	tg_tel_put_u64(s, "soft_bytes", p->lifetime.soft_bytes);
	tg_tel_put_u64(s, "hard_bytes", p->lifetime.hard_bytes);
	/* Counters: written by the stage's lcore, one word each. */
	tg_tel_put_u64(
		s, "packets", __atomic_load_n(&x->packets, __ATOMIC_RELAXED));
	tg_tel_put_u64(
		s, "bytes", __atomic_load_n(&x->bytes, __ATOMIC_RELAXED));
	tg_tel_put_u64(
		s, "err_auth", __atomic_load_n(&x->err_auth, __ATOMIC_RELAXED));
	tg_tel_put_u64(s, "err_replay",
		__atomic_load_n(&x->err_replay, __ATOMIC_RELAXED));
	tg_tel_put_u64(s, "err_other",
		__atomic_load_n(&x->err_other, __ATOMIC_RELAXED));
	tg_tel_put_u64(
		s, "expired", __atomic_load_n(&x->expired, __ATOMIC_RELAXED));
	tg_tel_put_u64(s, "seq", __atomic_load_n(&x->seq, __ATOMIC_RELAXED));
	tg_tel_put_u64(
		s, "inflight", __atomic_load_n(&x->inflight, __ATOMIC_RELAXED));
	tg_tel_put_str(s, "soft_reached",
		yes_no(__atomic_load_n(&x->soft_reached, __ATOMIC_RELAXED)));
	tg_tel_put_str(s, "hard_reached",
		yes_no(__atomic_load_n(&x->hard_reached, __ATOMIC_RELAXED)));
	tg_tel_put_str(s, "reused", yes_no(ts->reused));
	/* how its decrypted packets are checked (tg_ipsec_spd.h) */
	if (ts->dir == TG_CFG_IPSEC_IN)
		tg_tel_put_str(
			s, "policy_check", ts->sel.direct ? "direct" : "spd");
}

/* ---- /tollgate/ipsec/spd ------------------------------------------------ */

static void
put_prefix(struct tg_tel_sized *s, const char *key, uint32_t a, uint8_t len)
{
	char ip[16], buf[24];

	if (len == 0) {
		tg_tel_put_str(s, key, "any");
		return;
	}
	tg_tel_ip_str(a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s/%u", ip, len);
	tg_tel_put_str(s, key, buf);
}

static void
put_ports(struct tg_tel_sized *s, const char *key, uint16_t lo, uint16_t hi)
{
	char buf[16];

	if (lo == 0 && hi == 65535)
		return; /* every port: absent, as in the YAML */
	snprintf(buf, sizeof(buf), lo == hi ? "%u" : "%u-%u", lo, hi);
	tg_tel_put_str(s, key, buf);
}

static const char *
proto_str(const struct tg_cfg_ipsec_policy *p, char *buf, size_t len)
{
	static const struct {
		uint8_t n;
		const char *name;
	} names[] = {{1, "icmp"}, {6, "tcp"}, {17, "udp"}, {47, "gre"},
		{50, "esp"}, {51, "ah"}};
	size_t i;

	if (p->any_proto)
		return "any";
	for (i = 0; i < RTE_DIM(names); i++)
		if (names[i].n == p->proto)
			return names[i].name;
	snprintf(buf, len, "%u", p->proto);
	return buf;
}

/* Policy @p k of the written list (its "index"; the page's key is its
 * position in the evaluation order). */
static void
add_policy(struct tg_tel_sized *s, const struct tg_tables *t, uint32_t k)
{
	const struct tg_cfg_ipsec *ip = t->ipsec->cfg;
	const struct tg_cfg_ipsec_policy *p = &ip->policies[k];
	struct tg_ipsec_hits h;
	char buf[TG_CFG_IPSEC_NAME_MAX];

	tg_tel_put_str(s, "name", tg_tel_ascii(p->name, buf, sizeof(buf)));
	tg_tel_put_u64(s, "index", k);
	tg_tel_put_str(s, "direction", dir_name(p->dir));
	tg_tel_put_str(s, "action", action_name(p->action));
	put_prefix(s, "src", p->src, p->src_len);
	put_prefix(s, "dst", p->dst, p->dst_len);
	tg_tel_put_str(s, "protocol", proto_str(p, buf, sizeof(buf)));
	put_ports(s, "src_port", p->sport_lo, p->sport_hi);
	put_ports(s, "dst_port", p->dport_lo, p->dport_hi);
	if (p->sa_out < ip->n_sas)
		tg_tel_put_str(s, "sa_out",
			tg_tel_ascii(
				ip->sas[p->sa_out].name, buf, sizeof(buf)));
	if (p->sa_in < ip->n_sas)
		tg_tel_put_str(s, "sa_in",
			tg_tel_ascii(ip->sas[p->sa_in].name, buf, sizeof(buf)));
	tg_ipsec_policy_hits(t->ipsec, k, &h);
	tg_tel_put_u64(s, "hits_out", h.out);
	tg_tel_put_u64(s, "hits_in", h.in);
}

/* ---- paging ------------------------------------------------------------- */

enum table { T_SA, T_SPD };

/* One page of @p total entries from @p start: at most @p count, and no
 * more than PAGE_BUDGET bytes (at least one entry). */
static void
page(struct rte_tel_data *d, const struct tg_tables *t, enum table which,
	uint32_t total, uint32_t start, uint32_t count)
{
	struct rte_tel_data *arr;
	size_t used = 0;
	char key[16];
	uint32_t i;

	rte_tel_data_add_dict_u64(d, "generation", t->generation);
	rte_tel_data_add_dict_u64(d, "total", total);
	rte_tel_data_add_dict_u64(d, "start", start);
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		return;
	rte_tel_data_start_dict(arr);
	for (i = start; i < total && i - start < count; i++) {
		struct tg_tel_sized s = {.d = rte_tel_data_alloc()};

		if (s.d == NULL)
			break;
		rte_tel_data_start_dict(s.d);
		if (which == T_SA)
			add_sa(&s, t, i);
		else
			add_policy(&s, t, t->ipsec->cfg->order[i]);
		snprintf(key, sizeof(key), "%u", i);
		s.used += strlen(key) + 6; /* "key":{...}, */
		if (used + s.used > PAGE_BUDGET && i > start) {
			rte_tel_data_free(s.d);
			break;
		}
		used += s.used;
		rte_tel_data_add_dict_container(arr, key, s.d, 0);
	}
	rte_tel_data_add_dict_container(
		d, which == T_SA ? "sas" : "policies", arr, 0);
	if (i < total)
		rte_tel_data_add_dict_u64(d, "next", i);
}

/* /tollgate/ipsec, /tollgate/ipsec/sa[,START[,COUNT]],
 * /tollgate/ipsec/spd[,START[,COUNT]] */
int
tg_tel_ipsec(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_ipsec_table *it;
	const struct tg_tables *t;
	uint32_t start, count, total;
	enum table which;
	int rc = 0;

	if (strcmp(cmd, "/tollgate/ipsec") == 0) {
		if (params != NULL && *params != '\0')
			return tg_tel_reply_error(
				d, "/tollgate/ipsec takes no parameter");
	} else if (tg_tel_parse_page(params, &start, &count) < 0) {
		return tg_tel_reply_error(d,
			"parameters: START[,COUNT] (decimal; COUNT 1 to 120)");
	}
	which = strcmp(cmd, "/tollgate/ipsec/spd") == 0 ? T_SPD : T_SA;
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	rte_tel_data_start_dict(d);
	if (t == NULL)
		goto out;
	it = t->ipsec;
	if (strcmp(cmd, "/tollgate/ipsec") == 0) {
		summary(d, t);
		goto out;
	}
	total = it == NULL || !it->enabled ? 0
		: which == T_SA		   ? it->n_sas
					   : it->n_policies;
	if (start > total) {
		char msg[96];

		snprintf(msg, sizeof(msg),
			"START %u is past the end (%u entries)", start, total);
		rte_tel_data_start_dict(d); /* nothing added yet */
		rc = tg_tel_reply_error(d, msg);
		goto out;
	}
	rte_tel_data_add_dict_string(
		d, "enabled", yes_no(it != NULL && it->enabled));
	page(d, t, which, total, start, count);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}
