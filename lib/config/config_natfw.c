/* SPDX-License-Identifier: BSD-3-Clause
 * The nat: and firewall: sections (the natfw stage, issue 6): their keys,
 * defaults and the syntax of their values (port ranges, protocols, scope
 * prefixes). What needs the interfaces (references, addresses, subnets)
 * and the lists as a whole is checked by config_natfw_validate.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

#define FW_PROTO_FORMS "tcp, udp, gre, esp, ah or a number 0..255"

static struct tg_cfg_src_natfw *
src_get(struct tg_cfg_ctx *c)
{
	if (c->natfw == NULL) {
		c->natfw = calloc(1, sizeof(*c->natfw));
		if (c->natfw == NULL)
			c->nomem = true;
	}
	return c->natfw;
}

void
tg_cfg_natfw_src_free(struct tg_cfg_ctx *c)
{
	if (c->natfw == NULL)
		return;
	free(c->natfw->map);
	free(c->natfw->exc);
	free(c->natfw);
	c->natfw = NULL;
}

void
tg_cfg_natfw_defaults(struct tg_config *cfg)
{
	struct tg_cfg_nat *nat = &cfg->nat;
	struct tg_cfg_firewall *fw = &cfg->firewall;

	nat->enabled = false;
	nat->filtering = TG_CFG_NAT_FILTER_ADDR_PORT;
	nat->timeouts.tcp_established = 7440;
	nat->timeouts.tcp_transitory = 240;
	nat->timeouts.udp = 300;
	nat->timeouts.icmp = 60;
	nat->timeouts.gre = 300;
	nat->max_sessions = 65536;
	nat->max_sessions_per_host = 0;
	fw->enabled = false;
	fw->max_dynamic = 65536;
	/* Every ICMP setting blocks, but this one: without it path MTU
	 * discovery through the appliance fails silently. */
	fw->icmp.outbound.packet_too_big = true;
}

/* ------------------------------------------------------- single values */

static bool
check_name(const char *s, void *dst, char *msg, size_t len)
{
	return tg_cfg_name_check(
		s, TG_CFG_NATFW_NAME_MAX, "name", dst, msg, len);
}


static bool
check_filtering(const char *s, void *dst, char *msg, size_t len)
{
	if (strcmp(s, "address-and-port-dependent") == 0)
		*(uint8_t *)dst = TG_CFG_NAT_FILTER_ADDR_PORT;
	else if (strcmp(s, "endpoint-independent") == 0)
		*(uint8_t *)dst = TG_CFG_NAT_FILTER_ENDPOINT_INDEP;
	else {
		snprintf(msg, len,
			"unknown filtering '%.40s': address-and-port-dependent "
			"or endpoint-independent",
			s);
		return false;
	}
	return true;
}

static bool
check_map_proto(const char *s, void *dst, char *msg, size_t len)
{
	if (strcasecmp(s, "tcp") == 0)
		*(uint8_t *)dst = 6;
	else if (strcasecmp(s, "udp") == 0)
		*(uint8_t *)dst = 17;
	else {
		snprintf(msg, len, "unknown protocol '%.40s': tcp or udp", s);
		return false;
	}
	return true;
}

static bool
check_allow(const char *s, void *dst, char *msg, size_t len)
{
	if (strcmp(s, "allow") == 0)
		*(bool *)dst = true;
	else if (strcmp(s, "block") == 0)
		*(bool *)dst = false;
	else {
		snprintf(msg, len, "unknown value '%.40s': allow or block", s);
		return false;
	}
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

/* ------------------------------------------------------------------ nat */

static bool
iface_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_src_iface_list *l = arg;
	const char *s = tg_cfg_get_str(c, item);

	if (s == NULL) {
		l->ok = false;
		return true; /* report every bad entry */
	}
	l->ref[l->n].name = s;
	l->ref[l->n].len = (uint32_t)item->data.scalar.length;
	l->ref[l->n].pos = tg_cfg_node_pos(item);
	l->n++;
	return true;
}

static bool
iface_list(struct tg_cfg_ctx *c, const yaml_node_t *v,
	struct tg_cfg_src_iface_list *l)
{
	l->pos = tg_cfg_node_pos(v);
	l->ok = true;
	if (v->type == YAML_SEQUENCE_NODE && tg_cfg_list_len(v) == 0) {
		tg_cfg_err(
			c, l->pos, NULL, "at least one interface is required");
		l->ok = false;
		return false;
	}
	if (!tg_cfg_for_each(c, v, TG_MAX_PORTS, "interfaces", iface_item, l))
		l->ok = false;
	return l->ok;
}

static bool
fn_private(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return iface_list(c, v, &c->natfw->priv);
}

static bool
fn_public(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	return iface_list(c, v, &c->natfw->pub);
}

static bool
fn_addr_ports(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_nat_address *a = base;
	uint16_t lo, hi;

	if (!tg_cfg_port_range(c, v, 1, &lo, &hi))
		return false;
	if (hi - lo + 1 < TG_CFG_NAT_MIN_PORTS) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"%.40s is %u port%s: a NAT address needs at least %d",
			tg_cfg_scalar_text(v), (unsigned int)(hi - lo + 1),
			hi == lo ? "" : "s", TG_CFG_NAT_MIN_PORTS);
		return false;
	}
	a->port_lo = lo;
	a->port_hi = hi;
	return true;
}

enum { AD_ADDRESS, AD_PORTS, AD__N };
static const struct tg_cfg_field address_fields[AD__N] = {
	[AD_ADDRESS] = F_C(
		"address", struct tg_cfg_nat_address, addr, tg_cfg_host_check, REQ),
	[AD_PORTS] = F_F("ports", fn_addr_ports, 0),
};

static bool
address_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_nat *nat = arg;
	struct tg_cfg_nat_address *a = &nat->addresses[nat->n_addresses++];
	struct tg_cfg_src_natfw *src = c->natfw;
	struct tg_cfg_seen s[AD__N];

	a->port_lo = 1024;
	a->port_hi = 65535;
	a->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, address_fields, AD__N, a, s);
	src->addr[i] = tg_cfg_seen_pos(&s[AD_ADDRESS], a->pos);
	src->addr_ok[i] = s[AD_ADDRESS].ok;
	if (!s[AD_ADDRESS].ok)
		src->addresses_ok = false;
	return true;
}

static bool
fn_addresses(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_src_natfw *src = c->natfw;

	src->addresses_given = true;
	src->addresses_ok = true;
	if (v->type == YAML_SEQUENCE_NODE && tg_cfg_list_len(v) == 0) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"at least one address is required (leave addresses "
			"out for the addresses of the public interfaces)");
		src->addresses_ok = false;
		return false;
	}
	if (!tg_cfg_for_each(c, v, TG_CFG_NAT_MAX_ADDRESSES, "addresses",
		    address_item, base))
		src->addresses_ok = false;
	return src->addresses_ok;
}

enum {
	PM_NAME,
	PM_PROTO,
	PM_PUB_PORT,
	PM_PRIV_ADDR,
	PM_PRIV_PORT,
	PM_PUB_ADDR,
	PM__N
};
static const struct tg_cfg_field mapping_fields[PM__N] = {
	[PM_NAME] =
		F_C("name", struct tg_cfg_nat_mapping, name, check_name, REQ),
	[PM_PROTO] = F_C("protocol", struct tg_cfg_nat_mapping, proto,
		check_map_proto, REQ),
	[PM_PUB_PORT] = F_U("public_port", struct tg_cfg_nat_mapping,
		public_port, 1, 65535, REQ),
	[PM_PRIV_ADDR] = F_C("private_address", struct tg_cfg_nat_mapping,
		private_addr, tg_cfg_host_check, REQ),
	[PM_PRIV_PORT] = F_U("private_port", struct tg_cfg_nat_mapping,
		private_port, 1, 65535, 0),
	[PM_PUB_ADDR] = F_C("public_address", struct tg_cfg_nat_mapping,
		public_addr, tg_cfg_host_check, 0),
};

static bool
mapping_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_nat *nat = arg;
	struct tg_cfg_nat_mapping *m = &nat->mappings[i];
	struct tg_cfg_src_nat_map *ms = &c->natfw->map[i];
	struct tg_cfg_seen s[PM__N];

	m->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, mapping_fields, PM__N, m, s);
	if (s[PM_PRIV_PORT].node == NULL)
		m->private_port = m->public_port;
	ms->name = tg_cfg_seen_pos(&s[PM_NAME], m->pos);
	ms->name_ok = s[PM_NAME].ok;
	ms->proto_ok = s[PM_PROTO].ok;
	ms->public_port = tg_cfg_seen_pos(&s[PM_PUB_PORT], m->pos);
	ms->port_ok = s[PM_PUB_PORT].ok;
	ms->private_address = tg_cfg_seen_pos(&s[PM_PRIV_ADDR], m->pos);
	ms->priv_ok = s[PM_PRIV_ADDR].ok;
	ms->public_address = tg_cfg_seen_pos(&s[PM_PUB_ADDR], m->pos);
	ms->pub_given = s[PM_PUB_ADDR].node != NULL;
	ms->pub_ok = s[PM_PUB_ADDR].ok;
	return true; /* a bad mapping does not hide the next ones */
}

static bool
fn_mappings(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_nat *nat = base;
	size_t n = tg_cfg_list_len(v);

	/* the entries beyond the limit are reported, not walked */
	if (n > TG_CFG_NAT_MAX_MAPPINGS)
		n = TG_CFG_NAT_MAX_MAPPINGS;
	if (n > 0) {
		nat->mappings = calloc(n, sizeof(*nat->mappings));
		c->natfw->map = calloc(n, sizeof(*c->natfw->map));
		if (nat->mappings == NULL || c->natfw->map == NULL) {
			c->nomem = true;
			return false;
		}
		nat->n_mappings = (uint32_t)n;
	}
	return tg_cfg_for_each(c, v, TG_CFG_NAT_MAX_MAPPINGS, "port mappings",
		mapping_item, nat);
}

/* clang-format off */
#define TIMEOUT(k, lo, hi) F_U(#k, struct tg_cfg_nat_timeouts, k, lo, hi, 0)
static const struct tg_cfg_field timeout_fields[] = {
	TIMEOUT(tcp_established, 60, 604800),
	TIMEOUT(tcp_transitory, 10, 86400),
	TIMEOUT(udp, 10, 86400),
	TIMEOUT(icmp, 10, 86400),
	TIMEOUT(gre, 10, 86400),
};

enum { NAT_ENABLED, NAT_PRIVATE, NAT_PUBLIC, NAT_ADDRESSES, NAT_FILTERING,
	NAT_TIMEOUTS, NAT_MAX_SESSIONS, NAT_PER_HOST, NAT_MAPPINGS, NAT__N };
static const struct tg_cfg_field nat_fields[NAT__N] = {
	[NAT_ENABLED] = F_B("enabled", struct tg_cfg_nat, enabled),
	[NAT_PRIVATE] = F_F("private", fn_private, REQ),
	[NAT_PUBLIC] = F_F("public", fn_public, REQ),
	[NAT_ADDRESSES] = F_F("addresses", fn_addresses, 0),
	[NAT_FILTERING] = F_C("filtering", struct tg_cfg_nat, filtering,
		check_filtering, 0),
	[NAT_TIMEOUTS] = F_M("timeouts", struct tg_cfg_nat, timeouts,
		timeout_fields),
	[NAT_MAX_SESSIONS] = F_U("max_sessions", struct tg_cfg_nat,
		max_sessions, 1, 100000000, 0),
	[NAT_PER_HOST] = F_U("max_sessions_per_host", struct tg_cfg_nat,
		max_sessions_per_host, 0, 100000000, 0),
	[NAT_MAPPINGS] = F_F("port_mappings", fn_mappings, 0),
};
/* clang-format on */

bool
tg_cfg_nat_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_nat *nat = &((struct tg_config *)base)->nat;
	struct tg_cfg_src_natfw *src = src_get(c);
	struct tg_cfg_seen s[NAT__N];
	bool ok;

	if (src == NULL)
		return false;
	src->nat = true;
	nat->enabled = true; /* a present section is on unless it says not */
	nat->pos = tg_cfg_node_pos(v);
	ok = tg_cfg_walk_map(c, v, nat_fields, NAT__N, nat, s);
	src->max_sessions_ok =
		s[NAT_MAX_SESSIONS].node == NULL || s[NAT_MAX_SESSIONS].ok;
	src->per_host_given = s[NAT_PER_HOST].ok;
	src->per_host = tg_cfg_seen_pos(&s[NAT_PER_HOST], nat->pos);
	return ok;
}

/* ------------------------------------------------------------- firewall */

static const char *
proto_name(uint8_t p, char buf[4])
{
	const char *name = tg_cfg_proto_name(p);

	if (name != NULL)
		return name;
	snprintf(buf, 4, "%u", p);
	return buf;
}

/* A name (any case) or 0..255; not icmp, which has its own policy, and
 * not any, which would open every protocol to everyone. */
static bool
fn_fw_proto(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_fw_exception *e = base;
	const char *s =
		tg_cfg_want_text(c, v, "a protocol (" FW_PROTO_FORMS ")");
	struct tg_cfg_pos pos = tg_cfg_node_pos(v);
	uint8_t p;

	if (s == NULL)
		return false;
	switch (tg_cfg_proto_parse(c, pos, s, &p)) {
	case TG_CFG_PROTO_OK:
		break;
	case TG_CFG_PROTO_UNKNOWN:
		if (strcasecmp(s, "any") == 0)
			tg_cfg_err(c, pos, NULL,
				"an exception names one protocol "
				"(" FW_PROTO_FORMS
				"): 'any' would let every protocol in");
		else
			tg_cfg_err(c, pos, NULL,
				"unknown protocol '%.40s': " FW_PROTO_FORMS, s);
		return false;
	default:
		return false;
	}
	if (p == 1) {
		tg_cfg_err(c, pos, NULL,
			"icmp is not an exception protocol: ICMP has its own "
			"policy, firewall.icmp");
		return false;
	}
	e->proto = p;
	return true;
}

static bool
fn_fw_port(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_fw_exception *e = base;

	return tg_cfg_port_range(c, v, 1, &e->port_lo, &e->port_hi);
}

static bool
scope_item(struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_fw_exception *e = arg;

	if (tg_cfg_prefix_value(c, item, false, &e->scope[e->n_scope].addr,
		    &e->scope[e->n_scope].len))
		e->n_scope++;
	return true; /* report every bad entry */
}

static bool
fn_scope(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	if (v->type == YAML_SEQUENCE_NODE && tg_cfg_list_len(v) == 0) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"an empty scope lets nobody in: leave scope out for "
			"any remote address");
		return false;
	}
	return tg_cfg_for_each(
		c, v, TG_CFG_FW_MAX_SCOPE, "scope entries", scope_item, base);
}

enum { FX_NAME, FX_PROTO, FX_PORT, FX_SCOPE, FX_IFACE, FX__N };
static const struct tg_cfg_field exception_fields[FX__N] = {
	[FX_NAME] =
		F_C("name", struct tg_cfg_fw_exception, name, check_name, REQ),
	[FX_PROTO] = F_F("protocol", fn_fw_proto, REQ),
	[FX_PORT] = F_F("port", fn_fw_port, 0),
	[FX_SCOPE] = F_F("scope", fn_scope, 0),
	[FX_IFACE] = {.key = "interface", .type = TG_CFG_FT_REF},
};

/* A port for TCP and UDP, none for the others. */
static void
exception_port(struct tg_cfg_ctx *c, struct tg_cfg_fw_exception *e,
	const struct tg_cfg_seen *s)
{
	bool ports = e->proto == 6 || e->proto == 17;
	char path[sizeof(c->path) + 8], num[4];

	if (ports && s[FX_PORT].node == NULL) {
		tg_cfg_err(c, e->pos, NULL,
			"missing required key 'port' (a %s exception names "
			"the local port it opens)",
			proto_name(e->proto, num));
	} else if (!ports && s[FX_PORT].node != NULL) {
		snprintf(path, sizeof(path), "%s.port", c->path);
		tg_cfg_err(c, tg_cfg_node_pos(s[FX_PORT].key), path,
			"port needs protocol: tcp or udp (the exception's "
			"protocol is %s)",
			proto_name(e->proto, num));
		e->port_lo = e->port_hi = 0;
	}
}

static bool
exception_item(
	struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg)
{
	struct tg_cfg_firewall *fw = arg;
	struct tg_cfg_fw_exception *e = &fw->exceptions[i];
	struct tg_cfg_src_fw_exc *es = &c->natfw->exc[i];
	struct tg_cfg_seen s[FX__N];

	e->pos = tg_cfg_node_pos(item);
	tg_cfg_walk_map(c, item, exception_fields, FX__N, e, s);
	if (s[FX_PROTO].ok)
		exception_port(c, e, s);
	es->name = tg_cfg_seen_pos(&s[FX_NAME], e->pos);
	es->name_ok = s[FX_NAME].ok;
	es->iface = tg_cfg_seen_ref(&s[FX_IFACE]);
	return true;
}

static bool
fn_exceptions(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_firewall *fw = base;
	size_t n = tg_cfg_list_len(v);

	if (n > TG_CFG_FW_MAX_EXCEPTIONS)
		n = TG_CFG_FW_MAX_EXCEPTIONS;
	if (n > 0) {
		fw->exceptions = calloc(n, sizeof(*fw->exceptions));
		c->natfw->exc = calloc(n, sizeof(*c->natfw->exc));
		if (fw->exceptions == NULL || c->natfw->exc == NULL) {
			c->nomem = true;
			return false;
		}
		fw->n_exceptions = (uint32_t)n;
	}
	return tg_cfg_for_each(c, v, TG_CFG_FW_MAX_EXCEPTIONS, "exceptions",
		exception_item, fw);
}

/* clang-format off */
#define ICMP_IN(k) F_C(#k, struct tg_cfg_fw_icmp_in, k, check_allow, 0)
#define ICMP_OUT(k) F_C(#k, struct tg_cfg_fw_icmp_out, k, check_allow, 0)
static const struct tg_cfg_field icmp_in_fields[] = {
	ICMP_IN(echo_request), ICMP_IN(timestamp_request),
	ICMP_IN(address_mask_request), ICMP_IN(router_solicitation),
};
static const struct tg_cfg_field icmp_out_fields[] = {
	ICMP_OUT(destination_unreachable), ICMP_OUT(source_quench),
	ICMP_OUT(parameter_problem), ICMP_OUT(time_exceeded),
	ICMP_OUT(redirect), ICMP_OUT(packet_too_big),
};
static const struct tg_cfg_field icmp_fields[] = {
	F_M("inbound", struct tg_cfg_fw_icmp, inbound, icmp_in_fields),
	F_M("outbound", struct tg_cfg_fw_icmp, outbound, icmp_out_fields),
};

static const struct tg_cfg_field fw_fields[] = {
	F_B("enabled", struct tg_cfg_firewall, enabled),
	F_F("exceptions", fn_exceptions, 0),
	F_M("icmp", struct tg_cfg_firewall, icmp, icmp_fields),
	F_U("max_dynamic", struct tg_cfg_firewall, max_dynamic, 1, 10000000,
		0),
};
/* clang-format on */

bool
tg_cfg_firewall_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base)
{
	struct tg_cfg_firewall *fw = &((struct tg_config *)base)->firewall;
	struct tg_cfg_src_natfw *src = src_get(c);

	if (src == NULL)
		return false;
	src->firewall = true;
	fw->enabled = true; /* a present section is on unless it says not */
	fw->pos = tg_cfg_node_pos(v);
	return tg_cfg_walk_map(c, v, fw_fields, N_FIELDS(fw_fields), fw, NULL);
}
