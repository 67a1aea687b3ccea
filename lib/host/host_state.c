/* SPDX-License-Identifier: BSD-3-Clause
 * host: the config model → the addresses and routes the kernel interface
 * should have (tg_host_state).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tg_host.h"

static uint32_t
mask_of(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

/* The kernel adds the prefix route of every address it is given: a static
 * route to the same subnet would compete with it. */
static bool
is_connected(const struct tg_config *cfg, const struct tg_cfg_route *r)
{
	uint16_t i;

	for (i = 0; i < cfg->n_ifaces && i < TG_MAX_PORTS; i++) {
		const struct tg_cfg_iface *f = &cfg->ifaces[i];

		if (f->prefix_len == r->len &&
			(f->addr & mask_of(f->prefix_len)) == r->prefix)
			return true;
	}
	return false;
}

int
tg_host_state_from_config(const struct tg_config *cfg, struct tg_host_state *st)
{
	uint32_t i;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (cfg == NULL || st == NULL)
		return -EINVAL;
	for (i = 0; i < cfg->n_ifaces && i < TG_MAX_PORTS; i++) {
		const struct tg_cfg_iface *f = &cfg->ifaces[i];

		st->addrs[st->n_addrs].addr = f->addr;
		st->addrs[st->n_addrs].len = f->prefix_len;
		st->n_addrs++;
		if (st->mtu == 0 || f->mtu < st->mtu)
			st->mtu = f->mtu;
	}
	/* What the host sends may be protected on its way out: leave room
	 * for the largest IPsec overhead, or the kernel's full-size
	 * segments would leave as frames over the MTU. */
	if (cfg->ipsec.enabled) {
		uint16_t most = 0;

		for (i = 0; i < cfg->ipsec.n_sas; i++) {
			uint16_t o =
				tg_cfg_ipsec_sa_overhead(&cfg->ipsec.sas[i]);

			if (cfg->ipsec.sas[i].dir == TG_CFG_IPSEC_OUT &&
				o > most)
				most = o;
		}
		if (st->mtu > most + 576)
			st->mtu = (uint16_t)(st->mtu - most);
	}
	if (!cfg->host.routes || cfg->n_routes == 0)
		return 0;
	st->routes = malloc(cfg->n_routes * sizeof(*st->routes));
	if (st->routes == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg->n_routes; i++) {
		const struct tg_cfg_route *r = &cfg->routes[i];
		struct tg_host_route *o = &st->routes[st->n_routes];

		if (r->len == 0 && !cfg->host.default_route)
			continue;
		if (r->iface >= cfg->n_ifaces || is_connected(cfg, r))
			continue;
		o->prefix = r->prefix;
		o->len = r->len;
		o->src = cfg->ifaces[r->iface].addr;
		st->n_routes++;
	}
	return 0;
}

void
tg_host_state_fini(struct tg_host_state *st)
{
	if (st == NULL)
		return;
	free(st->routes);
	st->routes = NULL;
	st->n_routes = 0;
}
