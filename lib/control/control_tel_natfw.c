/* SPDX-License-Identifier: BSD-3-Clause
 * /tollgate/nat/summary, /tollgate/nat/sessions and /tollgate/firewall:
 * the natfw stage's configuration (from the running snapshot) and its
 * session table (read record by record with the table's sequence
 * numbers, while the stage's lcore keeps writing it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "control_tel.h"
#include "tg_natfw.h"
#include "tg_pipeline.h"

static const char *const tmo_names[TG_NATFW_TMO__COUNT] = {
	[TG_NATFW_TMO_TCP_EST] = "tcp_established",
	[TG_NATFW_TMO_TCP_TRANS] = "tcp_transitory",
	[TG_NATFW_TMO_UDP] = "udp",
	[TG_NATFW_TMO_ICMP] = "icmp",
	[TG_NATFW_TMO_GRE] = "gre",
};

static const char *const tcp_names[] = {
	[TG_NATFW_TCP_SYN_I2O] = "syn_out",
	[TG_NATFW_TCP_SYN_O2I] = "syn_in",
	[TG_NATFW_TCP_EST] = "established",
	[TG_NATFW_TCP_FIN_I2O] = "fin_out",
	[TG_NATFW_TCP_FIN_O2I] = "fin_in",
	[TG_NATFW_TCP_CLOSING] = "closing",
};

static const char *
proto_name(uint8_t p)
{
	return p == 6 ? "tcp" : p == 17 ? "udp" : p == 1 ? "icmp" : "gre";
}

static const struct tg_natfw_ctx *
natfw_ctx(void)
{
	return tg_pipeline_natfw(tg_tel_ctl->pl);
}

/* The clock the stage stamps sessions with (seconds). */
static uint32_t
now_sec(const struct tg_natfw_ctx *c)
{
	return (uint32_t)(rte_rdtsc() / c->tsc_hz);
}

static void
add_endpoint(
	struct rte_tel_data *c, const char *key, uint32_t ip, uint16_t port)
{
	char a[16], buf[32];

	tg_tel_ip_str(ip, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s:%u", a, port);
	rte_tel_data_add_dict_string(c, key, buf);
}

/* Ports of NAT address @p a's port space, class @p pc, in use: a
 * popcount of its bitmap (8 KiB). The snapshot's slot: its port space
 * lives while the snapshot runs (tg_natfw_build_from() frees only those
 * of slots the running snapshot does not have). */
static uint32_t
ports_used(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint16_t a, int pc)
{
	const struct tg_nat_ports *p =
		nt->slot[a] < tab->n_public ? tab->ports[nt->slot[a]] : NULL;
	uint32_t n = 0, i;

	for (i = 0; p != NULL && i < 1024; i++)
		n += (uint32_t)__builtin_popcountll(p->used[pc][i]);
	return n;
}

static void
summary(struct rte_tel_data *d, const struct tg_tables *t,
	const struct tg_natfw_ctx *c)
{
	const struct tg_natfw_table *nt = t->natfw;
	const struct tg_nat_table *tab = c != NULL ? c->sessions : NULL;
	uint64_t by_proto[4] = {0}, by_tcp[RTE_DIM(tcp_names)] = {0};
	uint64_t local = 0;
	struct rte_tel_data *arr, *x;
	char key[16];
	uint32_t i;
	uint16_t a;

	rte_tel_data_add_dict_string(d, "nat", nt->nat ? "on" : "off");
	rte_tel_data_add_dict_string(
		d, "firewall", nt->firewall ? "on" : "off");
	rte_tel_data_add_dict_string(d, "filtering",
		nt->filtering == TG_CFG_NAT_FILTER_ENDPOINT_INDEP
			? "endpoint-independent"
			: "address-and-port-dependent");
	rte_tel_data_add_dict_u64(d, "generation", t->generation);
	x = rte_tel_data_alloc();
	if (x != NULL) {
		rte_tel_data_start_dict(x);
		for (i = 0; i < TG_NATFW_TMO__COUNT; i++)
			rte_tel_data_add_dict_u64(
				x, tmo_names[i], nt->timeouts[i]);
		rte_tel_data_add_dict_container(d, "timeouts", x, 0);
	}
	if (tab == NULL)
		return;
	rte_tel_data_add_dict_u64(d, "max_sessions", tab->max_sessions);
	rte_tel_data_add_dict_u64(d, "sessions", tab->stats.sessions);
	rte_tel_data_add_dict_u64(d, "mappings", tab->stats.mappings);
	rte_tel_data_add_dict_u64(d, "hosts", tab->stats.hosts);
	rte_tel_data_add_dict_u64(d, "created", tab->stats.created);
	rte_tel_data_add_dict_u64(d, "expired", tab->stats.expired);
	rte_tel_data_add_dict_u64(d, "deleted", tab->stats.deleted);
	/* natfw.reload_dropped: of deleted, those a reload left without
	 * room (docs/nat.md, Reload) */
	rte_tel_data_add_dict_u64(d, "reload_dropped", tab->stats.dropped);
	rte_tel_data_add_dict_string(d, "reload_sweep",
		tg_nat_table_sweeping(tab) ? "running" : "idle");
	x = rte_tel_data_alloc();
	if (x != NULL) {
		rte_tel_data_start_dict(x);
		for (i = 0; i < TG_NAT_FAIL__COUNT; i++)
			rte_tel_data_add_dict_u64(x,
				tg_nat_fail_names[i] + strlen("natfw.table."),
				tab->stats.fail[i]);
		rte_tel_data_add_dict_container(d, "failed", x, 0);
	}
	x = rte_tel_data_alloc();
	if (x != NULL) {
		rte_tel_data_start_dict(x);
		for (i = 0; i < TG_NATFW_PPTP__COUNT; i++)
			rte_tel_data_add_dict_u64(x,
				tg_natfw_pptp_names[i] + strlen("natfw.pptp."),
				c->pptp.n[i]);
		rte_tel_data_add_dict_container(d, "pptp", x, 0);
	}
	/* by protocol and TCP state: one pass over the records, each read
	 * consistently (a record changing under the reader is skipped) */
	for (i = 0; i < tab->max_sessions; i++) {
		struct tg_nat_sess s;

		if (tg_nat_sess_read(tab, i, &s) != 0)
			continue;
		if (s.flags & TG_NATFW_SF_LOCAL) {
			local++;
			continue;
		}
		by_proto[s.proto == 6	 ? 0
			 : s.proto == 17 ? 1
			 : s.proto == 1	 ? 2
					 : 3]++;
		if (s.proto == 6 && s.state < RTE_DIM(tcp_names))
			by_tcp[s.state]++;
	}
	x = rte_tel_data_alloc();
	if (x != NULL) {
		rte_tel_data_start_dict(x);
		rte_tel_data_add_dict_u64(x, "tcp", by_proto[0]);
		rte_tel_data_add_dict_u64(x, "udp", by_proto[1]);
		rte_tel_data_add_dict_u64(x, "icmp", by_proto[2]);
		rte_tel_data_add_dict_u64(x, "other", by_proto[3]);
		rte_tel_data_add_dict_u64(x, "firewall_dynamic", local);
		rte_tel_data_add_dict_container(d, "by_protocol", x, 0);
	}
	x = rte_tel_data_alloc();
	if (x != NULL) {
		rte_tel_data_start_dict(x);
		for (i = 0; i < RTE_DIM(tcp_names); i++)
			rte_tel_data_add_dict_u64(x, tcp_names[i], by_tcp[i]);
		rte_tel_data_add_dict_container(d, "tcp_states", x, 0);
	}
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		return;
	rte_tel_data_start_dict(arr);
	for (a = 0; a < nt->n_nat; a++) {
		char ip[16], range[16];

		x = rte_tel_data_alloc();
		if (x == NULL)
			break;
		rte_tel_data_start_dict(x);
		tg_tel_ip_str(nt->addr[a], ip, sizeof(ip));
		rte_tel_data_add_dict_string(x, "address", ip);
		snprintf(range, sizeof(range), "%u-%u", nt->port_lo[a],
			nt->port_hi[a]);
		rte_tel_data_add_dict_string(x, "ports", range);
		rte_tel_data_add_dict_u64(x, "tcp_used",
			ports_used(nt, tab, a, TG_NAT_PCLASS_TCP));
		rte_tel_data_add_dict_u64(x, "udp_used",
			ports_used(nt, tab, a, TG_NAT_PCLASS_UDP));
		rte_tel_data_add_dict_u64(x, "icmp_gre_used",
			ports_used(nt, tab, a, TG_NAT_PCLASS_ICMP_GRE));
		snprintf(key, sizeof(key), "%u", a);
		rte_tel_data_add_dict_container(arr, key, x, 0);
	}
	rte_tel_data_add_dict_container(d, "addresses", arr, 0);
}

/* "[ADDR][,START[,COUNT]]": ADDR is an IPv4 address (has a dot). */
static int
parse_sessions(
	const char *params, uint32_t *addr, uint32_t *start, uint32_t *count)
{
	const char *rest = params != NULL ? params : "";
	const char *comma = strchr(rest, ',');
	size_t n = comma ? (size_t)(comma - rest) : strlen(rest);
	char ip[16];
	unsigned int b[4];
	char tail;

	*addr = 0;
	if (n > 0 && memchr(rest, '.', n) != NULL) {
		if (n >= sizeof(ip))
			return -EINVAL;
		memcpy(ip, rest, n);
		ip[n] = '\0';
		if (sscanf(ip, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3],
			    &tail) != 4 ||
			b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255)
			return -EINVAL;
		*addr = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		rest = comma ? comma + 1 : "";
	}
	return tg_tel_parse_page(rest, start, count);
}

static void
sessions_page(struct rte_tel_data *d, const struct tg_natfw_ctx *c,
	uint32_t addr, uint32_t start, uint32_t count)
{
	const struct tg_nat_table *tab = c->sessions;
	uint32_t now = now_sec(c), i, shown = 0;
	struct rte_tel_data *arr = rte_tel_data_alloc();
	size_t used = 0;
	char key[16];

	rte_tel_data_add_dict_u64(d, "sessions", tab->stats.sessions);
	rte_tel_data_add_dict_u64(d, "start", start);
	if (arr == NULL)
		return;
	rte_tel_data_start_dict(arr);
	for (i = start; i < tab->max_sessions; i++) {
		struct rte_tel_data *x;
		struct tg_nat_sess s;

		if (tg_nat_sess_read(tab, i, &s) != 0)
			continue;
		if (addr != 0 && s.priv_ip != addr && s.pub_ip != addr &&
			s.rem_ip != addr)
			continue;
		if (shown == count || used + 330 > PAGE_BUDGET)
			break;
		x = rte_tel_data_alloc();
		if (x == NULL)
			break;
		rte_tel_data_start_dict(x);
		rte_tel_data_add_dict_string(
			x, "protocol", proto_name(s.proto));
		add_endpoint(x, "private", s.priv_ip, s.priv_port);
		add_endpoint(x, "public", s.pub_ip, s.pub_port);
		add_endpoint(x, "remote", s.rem_ip, s.rem_port);
		rte_tel_data_add_dict_string(x, "kind",
			s.flags & TG_NATFW_SF_LOCAL ? "firewall" : "nat");
		if (s.proto == 6 && s.state < RTE_DIM(tcp_names))
			rte_tel_data_add_dict_string(
				x, "state", tcp_names[s.state]);
		rte_tel_data_add_dict_string(x, "timeout",
			s.tmo_class < TG_NATFW_TMO__COUNT
				? tmo_names[s.tmo_class]
				: "?");
		rte_tel_data_add_dict_u64(x, "idle", now - s.last);
		rte_tel_data_add_dict_u64(x, "packets_out", s.pkts_i2o);
		rte_tel_data_add_dict_u64(x, "packets_in", s.pkts_o2i);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(arr, key, x, 0);
		used += 330;
		shown++;
	}
	rte_tel_data_add_dict_container(d, "entries", arr, 0);
	if (i < tab->max_sessions)
		rte_tel_data_add_dict_u64(d, "next", i);
}

/* /tollgate/nat/summary and /tollgate/nat/sessions[,ADDR][,START[,COUNT]] */
int
tg_tel_nat(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_natfw_ctx *c = natfw_ctx();
	const struct tg_tables *t;
	uint32_t addr, start, count;
	int rc = 0;

	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	if (strcmp(cmd, "/tollgate/nat/summary") == 0) {
		rte_tel_data_start_dict(d);
		if (t != NULL && t->natfw != NULL)
			summary(d, t, c);
		goto out;
	}
	if (parse_sessions(params, &addr, &start, &count) < 0) {
		rc = tg_tel_reply_error(d,
			"parameters: [ADDR][,START[,COUNT]] (ADDR a.b.c.d; "
			"COUNT at most 120)");
		goto out;
	}
	if (c == NULL) {
		rc = tg_tel_reply_error(
			d, "no session table: nat and firewall are off");
		goto out;
	}
	rte_tel_data_start_dict(d);
	sessions_page(d, c, addr, start, count);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}

static void
add_exception(struct rte_tel_data *x, const struct tg_config *cfg,
	const struct tg_cfg_fw_exception *e)
{
	char buf[TG_CFG_NATFW_NAME_MAX], ip[16], pfx[24];
	struct rte_tel_data *sc;
	uint16_t j;

	rte_tel_data_add_dict_string(
		x, "name", tg_tel_ascii(e->name, buf, sizeof(buf)));
	rte_tel_data_add_dict_u64(x, "protocol", e->proto);
	if (e->port_hi != 0) {
		snprintf(buf, sizeof(buf),
			e->port_lo == e->port_hi ? "%u" : "%u-%u", e->port_lo,
			e->port_hi);
		rte_tel_data_add_dict_string(x, "port", buf);
	}
	if (e->has_iface)
		rte_tel_data_add_dict_string(
			x, "interface", cfg->ifaces[e->iface].name);
	if (e->n_scope == 0)
		return;
	sc = rte_tel_data_alloc();
	if (sc == NULL)
		return;
	rte_tel_data_start_array(sc, RTE_TEL_STRING_VAL);
	for (j = 0; j < e->n_scope; j++) {
		tg_tel_ip_str(e->scope[j].addr, ip, sizeof(ip));
		snprintf(pfx, sizeof(pfx), "%s/%u", ip, e->scope[j].len);
		rte_tel_data_add_array_string(sc, pfx);
	}
	rte_tel_data_add_dict_container(x, "scope", sc, 0);
}

/* /tollgate/firewall: the exceptions, the ICMP policy, dynamic entries. */
int
tg_tel_firewall(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct tg_natfw_ctx *c = natfw_ctx();
	const struct tg_cfg_firewall *fw;
	const struct tg_tables *t;
	struct rte_tel_data *x, *arr;
	uint64_t dyn = 0;
	char key[16];
	uint32_t i;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	pthread_mutex_lock(&tg_tel_ctl->lock);
	t = tg_tel_ctl->slot.cur;
	rte_tel_data_start_dict(d);
	if (t == NULL || t->natfw == NULL)
		goto out;
	fw = &t->cfg->firewall;
	rte_tel_data_add_dict_string(d, "firewall", fw->enabled ? "on" : "off");
	if (c != NULL)
		for (i = 0; i < c->sessions->max_sessions; i++) {
			struct tg_nat_sess s;

			if (tg_nat_sess_read(c->sessions, i, &s) == 0 &&
				(s.flags & TG_NATFW_SF_LOCAL))
				dyn++;
		}
	rte_tel_data_add_dict_u64(d, "dynamic_entries", dyn);
	rte_tel_data_add_dict_u64(d, "max_dynamic", fw->max_dynamic);
	x = rte_tel_data_alloc();
	if (x != NULL) {
		const struct tg_cfg_fw_icmp_in *in = &fw->icmp.inbound;
		const struct tg_cfg_fw_icmp_out *o = &fw->icmp.outbound;
#define AB(v) ((v) ? "allow" : "block")
		rte_tel_data_start_dict(x);
		rte_tel_data_add_dict_string(
			x, "in_echo_request", AB(in->echo_request));
		rte_tel_data_add_dict_string(
			x, "in_timestamp_request", AB(in->timestamp_request));
		rte_tel_data_add_dict_string(x, "in_address_mask_request",
			AB(in->address_mask_request));
		rte_tel_data_add_dict_string(x, "in_router_solicitation",
			AB(in->router_solicitation));
		rte_tel_data_add_dict_string(x, "out_destination_unreachable",
			AB(o->destination_unreachable));
		rte_tel_data_add_dict_string(
			x, "out_source_quench", AB(o->source_quench));
		rte_tel_data_add_dict_string(
			x, "out_parameter_problem", AB(o->parameter_problem));
		rte_tel_data_add_dict_string(
			x, "out_time_exceeded", AB(o->time_exceeded));
		rte_tel_data_add_dict_string(
			x, "out_redirect", AB(o->redirect));
		rte_tel_data_add_dict_string(
			x, "out_packet_too_big", AB(o->packet_too_big));
#undef AB
		rte_tel_data_add_dict_container(d, "icmp", x, 0);
	}
	arr = rte_tel_data_alloc();
	if (arr == NULL)
		goto out;
	rte_tel_data_start_dict(arr);
	/* at most what fits one answer; the YAML has the rest */
	for (i = 0; i < fw->n_exceptions && i < PAGE_MAX; i++) {
		x = rte_tel_data_alloc();
		if (x == NULL)
			break;
		rte_tel_data_start_dict(x);
		add_exception(x, t->cfg, &fw->exceptions[i]);
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(arr, key, x, 0);
	}
	rte_tel_data_add_dict_container(d, "exceptions", arr, 0);
	rte_tel_data_add_dict_u64(d, "n_exceptions", fw->n_exceptions);
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return 0;
}
