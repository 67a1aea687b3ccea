/* SPDX-License-Identifier: BSD-3-Clause
 * Validation of the nat: and firewall: sections (config_natfw.c walks
 * them): interface references, NAT addresses against the public
 * interfaces, port mappings against the private subnets, duplicates; and
 * the implicit NAT addresses, so that the model's list is complete.
 */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"

enum { ROLE_NONE, ROLE_PRIVATE, ROLE_PUBLIC };

struct roles {
	uint8_t role[TG_MAX_PORTS];
	struct tg_cfg_pos at[TG_MAX_PORTS]; /* its entry in the list */
};

/* Resolve nat.private or nat.public into @p out; false when an entry is
 * unknown, repeated or in both lists (each reported) or the list is bad. */
static bool
resolve_list(struct tg_cfg_ctx *c, const struct tg_cfg_src_iface_list *l,
	uint8_t role, struct roles *r, uint16_t *out, uint16_t *n_out)
{
	const char *key = role == ROLE_PRIVATE ? "private" : "public";
	const char *other = role == ROLE_PRIVATE ? "public" : "private";
	bool ok = l->ok;
	char path[64];
	uint16_t i;
	int k;

	for (i = 0; i < l->n; i++) {
		snprintf(path, sizeof(path), "nat.%s[%u]", key, i);
		k = tg_cfg_iface_ref(c, &l->ref[i], path);
		if (k < 0) {
			ok = false;
		} else if (r->role[k] == role) {
			tg_cfg_err(c, l->ref[i].pos, path,
				"interface '%s' is listed twice (first at line "
				"%u)",
				c->cfg->ifaces[k].name, r->at[k].line);
			ok = false;
		} else if (r->role[k] != ROLE_NONE) {
			tg_cfg_err(c, l->ref[i].pos, path,
				"interface '%s' is already %s (nat.%s, line "
				"%u): an interface is private or public, not "
				"both",
				c->cfg->ifaces[k].name, other, other,
				r->at[k].line);
			ok = false;
		} else {
			r->role[k] = role;
			r->at[k] = l->ref[i].pos;
			out[(*n_out)++] = (uint16_t)k;
		}
	}
	return ok;
}

/* "lan0 10.0.0.0/24, lan1 10.1.0.0/24" (subnets) or "wan0 192.0.2.1"
 * (addresses) of @p n interfaces, for messages. */
static const char *
ifaces_desc(const struct tg_config *cfg, const uint16_t *idx, uint16_t n,
	bool subnets, char *buf, size_t len)
{
	size_t o = 0;
	uint16_t i;
	char a[16];

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		const struct tg_cfg_iface *f = &cfg->ifaces[idx[i]];

		tg_cfg_ipv4_fmt(subnets ? f->addr & tg_cfg_mask(f->prefix_len)
					: f->addr,
			a);
		if (subnets)
			o += (size_t)snprintf(buf + o, len - o, "%s%s %s/%u",
				o ? ", " : "", f->name, a, f->prefix_len);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%s %s",
				o ? ", " : "", f->name, a);
	}
	return buf;
}

/* The listed addresses: each on a public interface, once. Without the
 * list: the address of every public interface, in nat.public order. */
static void
nat_addresses(struct tg_cfg_ctx *c, const struct roles *r, bool pub_ok)
{
	struct tg_cfg_nat *nat = &c->cfg->nat;
	const struct tg_cfg_src_natfw *src = c->natfw;
	char path[64], a[16], names[200];
	uint16_t i, j;
	int k;

	for (i = 0; src->addresses_given && i < nat->n_addresses; i++) {
		struct tg_cfg_nat_address *na = &nat->addresses[i];

		if (!src->addr_ok[i])
			continue;
		snprintf(path, sizeof(path), "nat.addresses[%u].address", i);
		tg_cfg_ipv4_fmt(na->addr, a);
		for (j = 0; j < i; j++)
			if (src->addr_ok[j] &&
				nat->addresses[j].addr == na->addr)
				break;
		if (j < i) {
			tg_cfg_err(c, src->addr[i], path,
				"address %s is listed twice (first at line %u)",
				a, src->addr[j].line);
			continue;
		}
		for (k = 0; k < c->cfg->n_ifaces; k++)
			if (c->iface[k].addr_ok &&
				c->cfg->ifaces[k].addr == na->addr)
				break;
		if (k < c->cfg->n_ifaces && r->role[k] == ROLE_PUBLIC) {
			na->iface = (uint16_t)k;
			continue;
		}
		if (!pub_ok)
			continue; /* a bad nat.public explains it */
		ifaces_desc(c->cfg, nat->public_ifaces, nat->n_public, false,
			names, sizeof(names));
		if (k < c->cfg->n_ifaces)
			tg_cfg_err(c, src->addr[i], path,
				"%s is the address of interface '%s', which is "
				"not public (public: %s)",
				a, c->cfg->ifaces[k].name, names);
		else
			tg_cfg_err(c, src->addr[i], path,
				"%s is not the address of a public interface "
				"(public: %s): replies to it would not reach "
				"the appliance",
				a, names);
	}
	if (src->addresses_given || !pub_ok)
		return;
	for (i = 0; i < nat->n_public; i++) {
		struct tg_cfg_nat_address *na;

		k = nat->public_ifaces[i];
		if (!c->iface[k].addr_ok)
			continue; /* reported */
		if (nat->n_addresses == TG_CFG_NAT_MAX_ADDRESSES) {
			tg_cfg_err(c, src->pub.pos, "nat.public",
				"%u public interfaces are more NAT addresses "
				"than the %d allowed: list the ones to use "
				"under nat.addresses",
				nat->n_public, TG_CFG_NAT_MAX_ADDRESSES);
			return;
		}
		na = &nat->addresses[nat->n_addresses++];
		na->addr = c->cfg->ifaces[k].addr;
		na->iface = (uint16_t)k;
		na->port_lo = 1024;
		na->port_hi = 65535;
		na->implicit = true;
		na->pos = r->at[k];
	}
}

/* A mapping's private address: a host on a private interface's subnet. */
static void
mapping_private(struct tg_cfg_ctx *c, uint32_t i)
{
	struct tg_cfg_nat *nat = &c->cfg->nat;
	struct tg_cfg_nat_mapping *m = &nat->mappings[i];
	struct tg_cfg_pos pos = c->natfw->map[i].private_address;
	const struct tg_cfg_iface *f = NULL;
	char path[64], a[16], net[16], names[200];
	uint32_t mask = 0, host;
	uint16_t j;

	snprintf(
		path, sizeof(path), "nat.port_mappings[%u].private_address", i);
	tg_cfg_ipv4_fmt(m->private_addr, a);
	for (j = 0; j < nat->n_private; j++) {
		f = &c->cfg->ifaces[nat->private_ifaces[j]];
		mask = tg_cfg_mask(f->prefix_len);
		if (((m->private_addr ^ f->addr) & mask) == 0)
			break;
	}
	if (j == nat->n_private) {
		tg_cfg_err(c, pos, path,
			"%s is not in the subnet of a private interface (%s)",
			a,
			ifaces_desc(c->cfg, nat->private_ifaces, nat->n_private,
				true, names, sizeof(names)));
		return;
	}
	host = m->private_addr & ~mask;
	tg_cfg_ipv4_fmt(f->addr & mask, net);
	if (m->private_addr == f->addr)
		tg_cfg_err(c, pos, path,
			"%s is the address of interface '%s' itself: a port "
			"mapping forwards to a host behind it",
			a, f->name);
	else if (f->prefix_len <= 30 && (host == 0 || host == ~mask))
		tg_cfg_err(c, pos, path, "%s is the %s address of %s/%u", a,
			host == 0 ? "network" : "broadcast", net,
			f->prefix_len);
	else
		m->private_iface = nat->private_ifaces[j];
}

static void
nat_mappings(struct tg_cfg_ctx *c, bool priv_ok, bool addrs_ok)
{
	struct tg_cfg_nat *nat = &c->cfg->nat;
	struct tg_cfg_src_nat_map *map = c->natfw->map;
	char path[64], a[16], list[18 * TG_CFG_NAT_MAX_ADDRESSES];
	size_t o = 0;
	uint32_t i, j;
	uint16_t k;

	list[0] = '\0';
	for (k = 0; k < nat->n_addresses && o < sizeof(list); k++) {
		tg_cfg_ipv4_fmt(nat->addresses[k].addr, a);
		o += (size_t)snprintf(
			list + o, sizeof(list) - o, "%s%s", k ? ", " : "", a);
	}
	for (i = 0; i < nat->n_mappings; i++) {
		struct tg_cfg_nat_mapping *m = &nat->mappings[i];
		struct tg_cfg_src_nat_map *ms = &map[i];

		for (j = 0; j < i && ms->name_ok; j++) {
			if (!map[j].name_ok ||
				strcmp(nat->mappings[j].name, m->name) != 0)
				continue;
			snprintf(path, sizeof(path),
				"nat.port_mappings[%u].name", i);
			tg_cfg_err(c, ms->name, path,
				"duplicate mapping name '%s' (first at line "
				"%u)",
				m->name, map[j].name.line);
			break;
		}
		if (ms->priv_ok && priv_ok)
			mapping_private(c, i);

		ms->key_ok = ms->proto_ok && ms->port_ok && addrs_ok;
		if (!ms->pub_given) {
			/* the first NAT address, once there is one */
			ms->key_ok = ms->key_ok && nat->n_addresses > 0;
			if (nat->n_addresses > 0)
				m->public_addr = nat->addresses[0].addr;
		} else if (ms->pub_ok && addrs_ok) {
			for (k = 0; k < nat->n_addresses; k++)
				if (nat->addresses[k].addr == m->public_addr)
					break;
			if (k == nat->n_addresses) {
				snprintf(path, sizeof(path),
					"nat.port_mappings[%u].public_address",
					i);
				tg_cfg_ipv4_fmt(m->public_addr, a);
				tg_cfg_err(c, ms->public_address, path,
					"%s is not a NAT address (%s: %s)", a,
					c->natfw->addresses_given
						? "nat.addresses"
						: "the addresses of the public "
						  "interfaces",
					list);
				ms->key_ok = false;
			}
		} else {
			ms->key_ok = false;
		}
		for (j = 0; j < i && ms->key_ok; j++) {
			const struct tg_cfg_nat_mapping *p = &nat->mappings[j];

			if (!map[j].key_ok || p->proto != m->proto ||
				p->public_addr != m->public_addr ||
				p->public_port != m->public_port)
				continue;
			snprintf(path, sizeof(path),
				"nat.port_mappings[%u].public_port", i);
			tg_cfg_ipv4_fmt(m->public_addr, a);
			tg_cfg_err(c, ms->public_port, path,
				"%s %s:%u is already mapped by '%s' (first at "
				"line %u)",
				m->proto == 6 ? "tcp" : "udp", a,
				m->public_port, p->name, p->pos.line);
			break;
		}
	}
}

static void
validate_nat(struct tg_cfg_ctx *c)
{
	struct tg_cfg_nat *nat = &c->cfg->nat;
	const struct tg_cfg_src_natfw *src = c->natfw;
	struct roles r;
	bool priv_ok, pub_ok, addrs_ok;
	uint16_t i;

	memset(&r, 0, sizeof(r));
	priv_ok = resolve_list(c, &src->priv, ROLE_PRIVATE, &r,
		nat->private_ifaces, &nat->n_private);
	pub_ok = resolve_list(c, &src->pub, ROLE_PUBLIC, &r, nat->public_ifaces,
		&nat->n_public);
	/* An interface whose own address is bad: its subnet is unknown. */
	for (i = 0; i < nat->n_private; i++)
		priv_ok = priv_ok && c->iface[nat->private_ifaces[i]].addr_ok;
	nat_addresses(c, &r, pub_ok);
	addrs_ok = src->addresses_given ? src->addresses_ok : pub_ok;
	nat_mappings(c, priv_ok, addrs_ok);
	if (src->per_host_given && src->max_sessions_ok &&
		nat->max_sessions_per_host > nat->max_sessions)
		tg_cfg_err(c, src->per_host, "nat.max_sessions_per_host",
			"%u is more than max_sessions (%u)",
			nat->max_sessions_per_host, nat->max_sessions);
}

static void
validate_firewall(struct tg_cfg_ctx *c)
{
	struct tg_cfg_firewall *fw = &c->cfg->firewall;
	const struct tg_cfg_src_fw_exc *exc = c->natfw->exc;
	char path[64];
	uint32_t i, j;
	int k;

	for (i = 0; i < fw->n_exceptions; i++) {
		struct tg_cfg_fw_exception *e = &fw->exceptions[i];

		for (j = 0; j < i && exc[i].name_ok; j++) {
			if (!exc[j].name_ok ||
				strcmp(fw->exceptions[j].name, e->name) != 0)
				continue;
			snprintf(path, sizeof(path),
				"firewall.exceptions[%u].name", i);
			tg_cfg_err(c, exc[i].name, path,
				"duplicate exception name '%s' (first at line "
				"%u)",
				e->name, exc[j].name.line);
			break;
		}
		snprintf(path, sizeof(path),
			"firewall.exceptions[%u].interface", i);
		k = tg_cfg_iface_ref(c, &exc[i].iface, path);
		if (k >= 0) {
			e->has_iface = true;
			e->iface = (uint16_t)k;
		}
	}
}

void
tg_cfg_natfw_validate(struct tg_cfg_ctx *c)
{
	if (c->natfw == NULL)
		return;
	if (c->natfw->nat)
		validate_nat(c);
	if (c->natfw->firewall)
		validate_firewall(c);
}
