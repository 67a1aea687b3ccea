/* SPDX-License-Identifier: BSD-3-Clause
 * host: the rtnetlink socket (libmnl; opened in the interface's namespace,
 * every request acked, the kernel's answer turned into a message naming
 * what failed) and the link: moved into its namespace, IPv6 address
 * generation off, up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns(), strerror_r returning char * */
#endif
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "host_internal.h"

/* ------------------------------------------------------------- messages */

void
tg_host_err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* "Invalid argument" or, when the kernel said more (extended ack),
 * "Invalid argument (Invalid prefsrc address)". */
const char *
tg_host_why(int rc, const char *ext, char *buf, size_t len)
{
	char eb[128];
	const char *s = strerror_r(-rc, eb, sizeof(eb));

	if (ext == NULL || ext[0] == '\0')
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%s (%s)", s, ext);
	return buf;
}

/* -------------------------------------------------------------- sockets */

static int
nl_open(struct tg_host_nl *nl, char *rx, unsigned int groups)
{
	int one = 1;

	nl->rx = rx;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl->sock == NULL)
		return -errno;
	/* The kernel's reason in words ("Invalid prefsrc address") and acks
	 * without a copy of the request; older kernels lack both: fine. */
	(void)mnl_socket_setsockopt(
		nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(
		nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return rc;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

static void
nl_close(struct tg_host_nl *nl)
{
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/*
 * A socket in the namespace @p nsfd refers to. A netlink socket belongs to
 * the namespace of the thread that created it, for good: enter it, create
 * the socket, and come back, so the caller's thread ends where it was.
 */
static int
nl_open_in(struct tg_host_nl *nl, char *rx, unsigned int groups, int nsfd,
	const char *netns, char *err, size_t errlen)
{
	char eb[160];
	int self, rc;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		rc = -errno;
		tg_host_err_set(err, errlen,
			"netns %s: open /proc/thread-self/ns/net: %s", netns,
			tg_host_why(rc, NULL, eb, sizeof(eb)));
		return rc;
	}
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		rc = -errno;
		tg_host_err_set(err, errlen, "netns %s: enter: %s", netns,
			tg_host_why(rc, NULL, eb, sizeof(eb)));
		close(self);
		return rc;
	}
	rc = nl_open(nl, rx, groups);
	if (rc < 0)
		tg_host_err_set(err, errlen, "netns %s: netlink socket: %s",
			netns, tg_host_why(rc, NULL, eb, sizeof(eb)));
	if (setns(self, CLONE_NEWNET) < 0) {
		/* The thread stays in @p netns: anything it opens from now on
		 * would land there. Say so rather than carry on. */
		int rc2 = -errno;

		tg_host_err_set(err, errlen,
			"netns %s: cannot return to the original namespace: %s",
			netns, tg_host_why(rc2, NULL, eb, sizeof(eb)));
		nl_close(nl);
		rc = rc2;
	}
	close(self);
	return rc;
}

/* The kernel's text from an extended ack, if any. */
struct ext_ack {
	char *msg;
	size_t len;
};

static int
ext_ack_cb(const struct nlattr *a, void *data)
{
	struct ext_ack *x = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(x->msg, x->len, "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* An NLMSG_ERROR: 0 for an ack, else -errno and the kernel's text. */
static int
nl_ack(const struct nlmsghdr *m, char *ext, size_t extlen)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
	struct ext_ack x = {ext, extlen};
	size_t off = sizeof(*e);

	if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return -EBADMSG;
	if (e->error == 0)
		return 0;
	if (!(m->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if ((m->nlmsg_flags & NLM_F_ACK_TLVS) &&
		off <= mnl_nlmsg_get_payload_len(m))
		(void)mnl_attr_parse(m, (unsigned int)off, ext_ack_cb, &x);
	return e->error < 0 ? e->error : -EPROTO;
}

/*
 * Send @p req (acked) and read until its ack; @p cb sees any reply before
 * it. Messages of an earlier request that gave up (other seq) are skipped.
 * Returns 0 or -errno, the kernel's text in @p ext.
 */
int
tg_host_nl_talk(struct tg_host_nl *nl, struct nlmsghdr *req, mnl_cb_t cb,
	void *data, char *ext, size_t extlen)
{
	uint32_t seq = ++nl->seq;

	if (ext != NULL && extlen > 0)
		ext[0] = '\0';
	req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n =
			mnl_socket_recvfrom(nl->sock, nl->rx, TG_HOST_RX_BUF);
		const struct nlmsghdr *m = (const struct nlmsghdr *)nl->rx;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (len = (int)n; mnl_nlmsg_ok(m, len);
			m = mnl_nlmsg_next(m, &len)) {
			if (m->nlmsg_seq != seq || m->nlmsg_pid != nl->portid)
				continue;
			if (m->nlmsg_type == NLMSG_ERROR)
				return nl_ack(m, ext, extlen);
			if (m->nlmsg_type == NLMSG_DONE)
				return 0;
			if (m->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb != NULL && cb(m, data) < MNL_CB_OK)
				return -EPROTO;
		}
	}
}

/* ---------------------------------------------------------------- links */

static struct ifinfomsg *
link_req(union tg_host_req *r, uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r->b);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return ifi;
}

static int
link_index_cb(const struct nlmsghdr *m, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(m);

	if (m->nlmsg_type == RTM_NEWLINK &&
		m->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifi)))
		*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

/* The index of @p ifname in @p nl's namespace; -ENODEV when absent. */
static int
link_index(struct tg_host_nl *nl, const char *ifname, int *index)
{
	union tg_host_req r;
	int rc;

	*index = 0;
	link_req(&r, RTM_GETLINK, 0);
	mnl_attr_put_strz(&r.h, IFLA_IFNAME, ifname);
	/* Stats are of no use here and make the reply larger. */
	mnl_attr_put_u32(&r.h, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	rc = tg_host_nl_talk(nl, &r.h, link_index_cb, index, NULL, 0);
	if (rc == 0 && *index <= 0)
		rc = -ENODEV;
	return rc;
}

/* ----------------------------------------------------------------- open */

/* A name `ip netns add` takes: a file directly under /run/netns. */
static bool
netns_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n < 256 && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static int
link_move(
	struct tg_host_nl *nl, int ifindex, int nsfd, char *ext, size_t extlen)
{
	union tg_host_req r;

	link_req(&r, RTM_NEWLINK, ifindex);
	mnl_attr_put_u32(&r.h, IFLA_NET_NS_FD, (uint32_t)nsfd);
	return tg_host_nl_talk(nl, &r.h, NULL, NULL, ext, extlen);
}

/* No IPv6 link-local address: without one the kernel sends no router
 * solicitation (nor DAD) into the dataplane, which has no IPv6. */
static int
link_no_ipv6_addrs(struct tg_host *h, char *ext, size_t extlen)
{
	union tg_host_req r;
	struct nlattr *spec, *inet6;

	link_req(&r, RTM_NEWLINK, h->ifindex);
	spec = mnl_attr_nest_start(&r.h, IFLA_AF_SPEC);
	inet6 = mnl_attr_nest_start(&r.h, AF_INET6);
	mnl_attr_put_u8(&r.h, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(&r.h, inet6);
	mnl_attr_nest_end(&r.h, spec);
	return tg_host_nl_talk(&h->nl, &r.h, NULL, NULL, ext, extlen);
}

static int
link_up(struct tg_host *h, bool noarp, char *ext, size_t extlen)
{
	union tg_host_req r;
	struct ifinfomsg *ifi = link_req(&r, RTM_NEWLINK, h->ifindex);
	unsigned int set = IFF_UP | (noarp ? IFF_NOARP : 0);

	/* Only the flags in ifi_change are touched: without @p noarp the
	 * device keeps its own (a tun is NOARP by nature). */
	ifi->ifi_flags = set;
	ifi->ifi_change = set;
	return tg_host_nl_talk(&h->nl, &r.h, NULL, NULL, ext, extlen);
}

int
tg_host_link_mtu(struct tg_host *h, uint16_t mtu, char *ext, size_t extlen)
{
	union tg_host_req r;

	link_req(&r, RTM_NEWLINK, h->ifindex);
	mnl_attr_put_u32(&r.h, IFLA_MTU, mtu);
	return tg_host_nl_talk(&h->nl, &r.h, NULL, NULL, ext, extlen);
}

/*
 * Find the interface and bring it into the namespace of h->nl: from the
 * caller's namespace when it is there, else it is already in place (an
 * earlier open moved it).
 */
static int
host_find(struct tg_host *h, int nsfd, const char *netns, char *err,
	size_t errlen)
{
	char ext[256], eb[400];
	struct tg_host_nl own = {0};
	int rc, idx;

	if (nsfd >= 0) {
		rc = nl_open(&own, h->rx, 0);
		if (rc < 0) {
			tg_host_err_set(err, errlen, "netlink socket: %s",
				tg_host_why(rc, NULL, eb, sizeof(eb)));
			return rc;
		}
		rc = link_index(&own, h->ifname, &idx);
		if (rc == 0) {
			rc = link_move(&own, idx, nsfd, ext, sizeof(ext));
			if (rc < 0)
				tg_host_err_set(err, errlen,
					"move %s into netns %s: %s", h->ifname,
					netns,
					tg_host_why(rc, ext, eb, sizeof(eb)));
		} else if (rc != -ENODEV) {
			tg_host_err_set(err, errlen, "look up %s: %s",
				h->ifname,
				tg_host_why(rc, NULL, eb, sizeof(eb)));
		}
		nl_close(&own);
		if (rc < 0 && rc != -ENODEV)
			return rc;
	}
	/* Moving keeps the index only when the new namespace has it free. */
	rc = link_index(&h->nl, h->ifname, &h->ifindex);
	if (rc == -ENODEV && nsfd >= 0)
		tg_host_err_set(err, errlen,
			"no interface %s in this namespace nor in netns %s",
			h->ifname, netns);
	else if (rc == -ENODEV)
		tg_host_err_set(err, errlen, "no interface %s", h->ifname);
	else if (rc < 0)
		tg_host_err_set(err, errlen, "look up %s: %s", h->ifname,
			tg_host_why(rc, NULL, eb, sizeof(eb)));
	return rc;
}

static int
host_setup(struct tg_host *h, bool noarp, char *err, size_t errlen)
{
	char ext[256], eb[400];
	int rc;

	rc = link_no_ipv6_addrs(h, ext, sizeof(ext));
	/* No IPv6 in this kernel (or on this device): nothing to silence. */
	if (rc < 0 && rc != -EAFNOSUPPORT && rc != -EOPNOTSUPP) {
		tg_host_err_set(err, errlen, "disable IPv6 addresses on %s: %s",
			h->ifname, tg_host_why(rc, ext, eb, sizeof(eb)));
		return rc;
	}
	rc = link_up(h, noarp, ext, sizeof(ext));
	if (rc < 0)
		tg_host_err_set(err, errlen, "bring %s up%s: %s", h->ifname,
			noarp ? " (noarp)" : "",
			tg_host_why(rc, ext, eb, sizeof(eb)));
	return rc;
}

int
tg_host_open(const char *ifname, const char *netns, bool noarp,
	struct tg_host **out, char *err, size_t errlen)
{
	char path[300], eb[160];
	struct tg_host *h;
	int nsfd = -1, rc;

	tg_host_err_set(err, errlen, "%s", "");
	if (out != NULL)
		*out = NULL;
	if (ifname == NULL || out == NULL || ifname[0] == '\0' ||
		strlen(ifname) >= IF_NAMESIZE) {
		tg_host_err_set(err, errlen, "invalid interface name");
		return -EINVAL;
	}
	if (netns != NULL && netns[0] != '\0' && !netns_name_ok(netns)) {
		tg_host_err_set(
			err, errlen, "invalid netns name '%.64s'", netns);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		tg_host_err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	if (netns != NULL && netns[0] != '\0') {
		snprintf(path, sizeof(path), "/run/netns/%s", netns);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0) {
			rc = -errno;
			tg_host_err_set(err, errlen, "netns %s: %s: %s", netns,
				path, tg_host_why(rc, NULL, eb, sizeof(eb)));
			goto fail;
		}
		rc = nl_open_in(&h->nl, h->rx, 0, nsfd, netns, err, errlen);
		/* and one that hears the link's changes (see
		 * tg_host_link_came_up) */
		if (rc == 0)
			rc = nl_open_in(&h->mon, h->rx, RTMGRP_LINK, nsfd,
				netns, err, errlen);
	} else {
		rc = nl_open(&h->nl, h->rx, 0);
		if (rc == 0)
			rc = nl_open(&h->mon, h->rx, RTMGRP_LINK);
		if (rc < 0)
			tg_host_err_set(err, errlen, "netlink socket: %s",
				tg_host_why(rc, NULL, eb, sizeof(eb)));
	}
	if (rc < 0)
		goto fail;
	rc = host_find(h, nsfd, netns, err, errlen);
	if (rc < 0)
		goto fail;
	rc = host_setup(h, noarp, err, errlen);
	if (rc < 0)
		goto fail;
	/* What the set-up itself did (down, up) is no news: read it away. */
	(void)tg_host_link_came_up(h);
	h->was_up = true;
	if (nsfd >= 0)
		close(nsfd);
	*out = h;
	return 0;
fail:
	if (nsfd >= 0)
		close(nsfd);
	tg_host_close(h);
	return rc;
}

int
tg_host_silence(const char *ifname, char *err, size_t errlen)
{
	struct tg_host h;
	char ext[256], eb[400];
	int rc;

	tg_host_err_set(err, errlen, "%s", "");
	if (ifname == NULL || ifname[0] == '\0' ||
		strlen(ifname) >= IF_NAMESIZE) {
		tg_host_err_set(err, errlen, "invalid interface name");
		return -EINVAL;
	}
	memset(&h, 0, sizeof(h));
	snprintf(h.ifname, sizeof(h.ifname), "%s", ifname);
	rc = nl_open(&h.nl, h.rx, 0);
	if (rc < 0) {
		tg_host_err_set(err, errlen, "netlink socket: %s",
			tg_host_why(rc, NULL, eb, sizeof(eb)));
		return rc;
	}
	rc = link_index(&h.nl, ifname, &h.ifindex);
	if (rc < 0) {
		tg_host_err_set(err, errlen, "look up %s: %s", ifname,
			tg_host_why(rc, NULL, eb, sizeof(eb)));
	} else {
		rc = link_no_ipv6_addrs(&h, ext, sizeof(ext));
		if (rc == -EAFNOSUPPORT || rc == -EOPNOTSUPP)
			rc = 0; /* no IPv6 here: nothing to silence */
		else if (rc < 0)
			tg_host_err_set(err, errlen,
				"disable IPv6 addresses on %s: %s", ifname,
				tg_host_why(rc, ext, eb, sizeof(eb)));
	}
	nl_close(&h.nl);
	return rc;
}

int
tg_host_link_came_up(struct tg_host *h)
{
	int came_up = 0, len;
	ssize_t n;

	if (h == NULL || h->mon.sock == NULL)
		return -EINVAL;
	for (;;) {
		const struct nlmsghdr *m = (const struct nlmsghdr *)h->rx;

		n = recv(mnl_socket_get_fd(h->mon.sock), h->rx, TG_HOST_RX_BUF,
			MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: the link may have gone down and
			 * up unseen. Syncing once too often is harmless. */
			came_up = 1;
			continue;
		}
		if (n < 0)
			return -errno;
		for (len = (int)n; mnl_nlmsg_ok(m, len);
			m = mnl_nlmsg_next(m, &len)) {
			const struct ifinfomsg *ifi;
			bool up;

			if (m->nlmsg_type != RTM_NEWLINK)
				continue;
			ifi = mnl_nlmsg_get_payload(m);
			if (ifi->ifi_index != h->ifindex)
				continue;
			up = (ifi->ifi_flags & IFF_UP) != 0;
			if (up && !h->was_up)
				came_up = 1;
			h->was_up = up;
		}
	}
	return came_up;
}

int
tg_host_ifindex(const struct tg_host *h)
{
	return h == NULL ? -EINVAL : h->ifindex;
}

void
tg_host_close(struct tg_host *h)
{
	if (h == NULL)
		return;
	nl_close(&h->nl);
	nl_close(&h->mon);
	free(h->addrs);
	free(h->routes);
	free(h);
}
