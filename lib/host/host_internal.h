/* SPDX-License-Identifier: BSD-3-Clause
 * host: what host_netlink.c (sockets, the link) and host_sync.c
 * (addresses, routes) share. Not installed; not for other components.
 */
#ifndef TG_HOST_INTERNAL_H
#define TG_HOST_INTERNAL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "tg_host.h"

/* Replies to a GETLINK carry every attribute of the link (IPv6 devconf,
 * stats): more than a page. */
#define TG_HOST_RX_BUF 32768
#define TG_HOST_TX_BUF 1024

/* One rtnetlink socket, bound in the namespace it was created in. */
struct tg_host_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *rx; /* TG_HOST_RX_BUF bytes, the owner's */
};

struct tg_host {
	struct tg_host_nl nl; /* in the interface's namespace */
	/* the same namespace, bound to RTMGRP_LINK: the link's changes */
	struct tg_host_nl mon;
	bool was_up; /* as the last link event said */
	/* netlink messages are read in place: aligned like them */
	char rx[TG_HOST_RX_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int ifindex;
	char ifname[IF_NAMESIZE];
	/* What earlier syncs installed and no later one deleted yet: only
	 * these may be deleted. */
	uint32_t n_addrs;
	struct tg_host_addr *addrs;
	uint32_t n_routes;
	struct tg_host_route *routes;
};

union tg_host_req {
	struct nlmsghdr h;
	char b[TG_HOST_TX_BUF];
};

/* Write a message into @p err (may be NULL). */
void tg_host_err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* strerror(-rc), with the kernel's own words after it when it gave any. */
const char *tg_host_why(int rc, const char *ext, char *buf, size_t len);

/* Send @p req with NLM_F_ACK and wait for its ack; @p cb (may be NULL)
 * sees the replies before it. 0 or -errno, the kernel's text in @p ext. */
int tg_host_nl_talk(struct tg_host_nl *nl, struct nlmsghdr *req, mnl_cb_t cb,
	void *data, char *ext, size_t extlen);

int tg_host_link_mtu(struct tg_host *h, uint16_t mtu, char *ext, size_t extlen);

#endif /* TG_HOST_INTERNAL_H */
