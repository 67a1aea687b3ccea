/* SPDX-License-Identifier: BSD-3-Clause
 * host: netlink (libmnl) set-up of the host port's kernel interface — the
 * appliance's own TCP/IP stack behind a net_tun/net_tap port. Moves it into
 * a named network namespace, brings it up without IPv6 autoconfiguration,
 * and keeps its IPv4 addresses and routes equal to a wanted state built
 * from the config model. Plain libc + libmnl: no DPDK, no shelling out.
 */
#ifndef TG_HOST_H
#define TG_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tg_config.h"

/** An address of the interface: host byte order. */
struct tg_host_addr {
	uint32_t addr;
	uint8_t len;
};

/** A route via the interface: host byte order; src 0 = none. */
struct tg_host_route {
	uint32_t prefix;
	uint8_t len;
	uint32_t src;
};

/** What the kernel should have on the interface. */
struct tg_host_state {
	uint16_t mtu; /**< 0: leave it */
	uint16_t n_addrs;
	struct tg_host_addr addrs[TG_MAX_PORTS];
	uint32_t n_routes;
	struct tg_host_route *routes; /**< malloc'd, freed by
					 tg_host_state_fini */
};

/** The metric of every route tg_host_sync() installs: its own, so that
 *  they never replace a route somebody else installed (which, with the
 *  same prefix and a lower metric, keeps precedence). */
#define TG_HOST_ROUTE_METRIC 1764

/** Opaque: a netlink socket in the interface's namespace, its ifindex and
 *  what it installed. Used by one thread at a time. */
struct tg_host;

/**
 * Find @p ifname in the caller's network namespace (of the calling
 * thread), move it into the named namespace @p netns (/run/netns/NAME, as
 * `ip netns add` makes; NULL or "": stay), disable IPv6 address generation
 * on it (no link-local address, so no router solicitation; ignored when
 * the kernel has no IPv6), set IFF_NOARP if @p noarp, and bring it up.
 * When @p ifname is not in the caller's namespace but already in @p netns
 * (opened before), it is taken there.
 *
 * Any thread; the thread's namespace is switched for the time it takes to
 * create the socket and switched back.
 *
 * @return 0 and *out set, or -errno with a message in @p err: -EINVAL
 *   (bad name), -ENODEV (no such interface), -ENOENT (no such netns),
 *   -EEXIST (the name is taken in @p netns), -EPERM, -ENOMEM; or what the
 *   kernel answered.
 */
int tg_host_open(const char *ifname, const char *netns, bool noarp,
	struct tg_host **out, char *err, size_t errlen);

/**
 * Turn off IPv6 address generation on @p ifname in the caller's
 * namespace, touching nothing else. For the moment between the device's
 * creation and tg_host_open(): the driver brings the interface up when
 * the port starts, and the kernel would send a router solicitation into
 * the dataplane before tg_host_open() silences it. (A later move into
 * another namespace resets the setting; tg_host_open() sets it again
 * before the interface is up there.)
 * @return 0 (also when the kernel has no IPv6), or -errno with @p err set.
 */
int tg_host_silence(const char *ifname, char *err, size_t errlen);

/**
 * Make the interface's IPv4 addresses and routes equal @p want: add (or
 * replace) every wanted one, delete what an earlier call installed and
 * @p want no longer has. Never deletes what it did not install; re-adds a
 * wanted one somebody removed. Routes: table main, protocol static, scope
 * link, no gateway, preferred source = route.src. Sets the MTU when
 * want->mtu != 0.
 *
 * On error, what was done stays done and a later call retries the rest;
 * the first failure is in @p err ("route 10.0.0.0/8 src 192.168.1.1 on
 * tg-host: Network is unreachable"), with the count of further ones.
 *
 * The thread that uses @p h; any namespace (the socket keeps its own).
 *
 * @return 0, -EINVAL (bad arguments), -ENOMEM (nothing done), or the
 *   first failure's -errno.
 */
int tg_host_sync(struct tg_host *h, const struct tg_host_state *want, char *err,
	size_t errlen);

/** The interface's index in its (possibly new) namespace. */
int tg_host_ifindex(const struct tg_host *h);

/**
 * Has the interface come back up since the last call? Somebody set it down
 * and up again (`ip link set … down`): the kernel then deleted every route
 * through it, and a tg_host_sync() puts them back. Reads the link events
 * of its namespace without blocking; 1 also when events were lost.
 * @return 1, 0, or -errno. The thread that uses @p h.
 */
int tg_host_link_came_up(struct tg_host *h);

/**
 * Close the socket. Deletes neither the interface (it goes away with the
 * DPDK port) nor what was installed. NULL is a no-op.
 */
void tg_host_close(struct tg_host *h);

/**
 * The wanted state from the config model: every interface address with
 * its prefix length; mtu = the smallest interface MTU (so the kernel never
 * sends what forwarding must drop as too big; 0 without interfaces), less
 * the largest overhead of an outbound IPsec SA when ipsec is on; when
 * cfg->host.routes, every static route as prefix/len with src = the
 * address of its interface, except 0.0.0.0/0 unless
 * cfg->host.default_route, and except a route equal to an interface's
 * connected subnet (the kernel adds that one with the address).
 *
 * @return 0, -EINVAL (NULL argument) or -ENOMEM; @p st is zeroed first and
 *   always safe to pass to tg_host_state_fini.
 */
int tg_host_state_from_config(
	const struct tg_config *cfg, struct tg_host_state *st);

/** Free what tg_host_state_from_config allocated. NULL is a no-op. */
void tg_host_state_fini(struct tg_host_state *st);

#endif /* TG_HOST_H */
