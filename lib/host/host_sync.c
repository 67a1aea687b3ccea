/* SPDX-License-Identifier: BSD-3-Clause
 * host: keep the interface's IPv4 addresses and routes equal to the wanted
 * state — add or replace every wanted one, delete only what this library
 * installed and no longer wants.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "host_internal.h"

static const char *
ip_str(uint32_t host_order, char *buf)
{
	uint32_t n = htonl(host_order);

	return inet_ntop(AF_INET, &n, buf, INET_ADDRSTRLEN);
}

static int
addr_req(struct tg_host *h, uint16_t type, const struct tg_host_addr *a,
	char *ext, size_t extlen)
{
	union tg_host_req r;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r.b);
	struct ifaddrmsg *ifa;
	uint32_t n = htonl(a->addr);

	nlh->nlmsg_type = type;
	if (type == RTM_NEWADDR)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = a->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)h->ifindex;
	/* IFA_ADDRESS equal to IFA_LOCAL: an address with its subnet, not a
	 * point-to-point peer (tun is IFF_POINTOPOINT). */
	mnl_attr_put_u32(nlh, IFA_LOCAL, n);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, n);
	return tg_host_nl_talk(&h->nl, nlh, NULL, NULL, ext, extlen);
}

static int
route_req(struct tg_host *h, uint16_t type, const struct tg_host_route *rt,
	char *ext, size_t extlen)
{
	union tg_host_req r;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(r.b);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = rt->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* A delete names protocol, device and source too, so it only ever
	 * matches the route this library added. */
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nlh, RTA_DST, htonl(rt->prefix));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)h->ifindex);
	if (rt->src != 0)
		mnl_attr_put_u32(nlh, RTA_PREFSRC, htonl(rt->src));
	/* A metric of our own: NLM_F_REPLACE replaces the route with the
	 * same prefix and metric on any device, so with the usual metric 0 it
	 * could take over (and a later sync delete) a route somebody else
	 * installed. Ours sit beside theirs instead. */
	mnl_attr_put_u32(nlh, RTA_PRIORITY, TG_HOST_ROUTE_METRIC);
	return tg_host_nl_talk(&h->nl, nlh, NULL, NULL, ext, extlen);
}

static void
addr_fmt(const struct tg_host_addr *a, char *buf, size_t len)
{
	char s[INET_ADDRSTRLEN];

	snprintf(buf, len, "%s/%u", ip_str(a->addr, s), a->len);
}

static void
route_fmt(const struct tg_host_route *r, char *buf, size_t len)
{
	char p[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

	if (r->src != 0)
		snprintf(buf, len, "%s/%u src %s", ip_str(r->prefix, p), r->len,
			ip_str(r->src, s));
	else
		snprintf(buf, len, "%s/%u", ip_str(r->prefix, p), r->len);
}

/* The first failure of a sync is reported, the others counted. */
struct sync_err {
	int rc;
	unsigned int more;
	char *err;
	size_t errlen;
};

static void
sync_fail(struct sync_err *se, int rc, const char *what, const char *obj,
	const char *ifname, const char *ext)
{
	char eb[400];

	if (se->rc != 0) {
		se->more++;
		return;
	}
	se->rc = rc;
	tg_host_err_set(se->err, se->errlen, "%s%s on %s: %s", what, obj,
		ifname, tg_host_why(rc, ext, eb, sizeof(eb)));
}

static bool
addr_eq(const struct tg_host_addr *a, const struct tg_host_addr *b)
{
	return a->addr == b->addr && a->len == b->len;
}

/* Routes are keyed by destination: table main holds one of ours per
 * prefix, and NLM_F_REPLACE swaps its source in place. */
static uint64_t
route_key(const struct tg_host_route *r)
{
	return (uint64_t)r->prefix << 8 | r->len;
}

struct route_ix {
	uint64_t key;
	uint32_t idx; /* in want->routes */
};

static int
route_ix_cmp(const void *a, const void *b)
{
	const struct route_ix *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* Index of the wanted route to @p r's destination, or -1. */
static int64_t
route_wanted(
	const struct route_ix *ix, uint32_t n, const struct tg_host_route *r)
{
	struct route_ix k = {route_key(r), 0};
	const struct route_ix *f =
		bsearch(&k, ix, n, sizeof(*ix), route_ix_cmp);

	return f == NULL ? -1 : (int64_t)f->idx;
}

/* Scratch of one sync, all allocated before the first request: a sync
 * that cannot note what it installed must not install anything. */
struct sync_mem {
	struct tg_host_addr *addrs;   /* the new installed set */
	struct tg_host_route *routes; /* the new installed set */
	struct route_ix *ix;	      /* want->routes sorted by key */
	bool *route_ok;		      /* per want->routes: added */
	bool addr_ok[TG_MAX_PORTS];   /* per want->addrs: added */
};

static int
sync_mem_alloc(struct sync_mem *m, const struct tg_host *h,
	const struct tg_host_state *want)
{
	size_t nr = (size_t)h->n_routes + want->n_routes;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->addrs = malloc(
		((size_t)h->n_addrs + want->n_addrs + 1) * sizeof(*m->addrs));
	m->routes = malloc((nr + 1) * sizeof(*m->routes));
	m->ix = malloc(((size_t)want->n_routes + 1) * sizeof(*m->ix));
	m->route_ok = calloc((size_t)want->n_routes + 1, sizeof(bool));
	if (m->addrs == NULL || m->routes == NULL || m->ix == NULL ||
		m->route_ok == NULL)
		return -ENOMEM;
	for (i = 0; i < want->n_routes; i++) {
		m->ix[i].key = route_key(&want->routes[i]);
		m->ix[i].idx = i;
	}
	qsort(m->ix, want->n_routes, sizeof(*m->ix), route_ix_cmp);
	return 0;
}

static void
sync_mem_free(struct sync_mem *m)
{
	free(m->addrs);
	free(m->routes);
	free(m->ix);
	free(m->route_ok);
}

static bool
state_ok(const struct tg_host_state *want)
{
	uint32_t i;

	if (want->n_addrs > TG_MAX_PORTS ||
		(want->n_routes > 0 && want->routes == NULL))
		return false;
	for (i = 0; i < want->n_addrs; i++)
		if (want->addrs[i].len > 32)
			return false;
	for (i = 0; i < want->n_routes; i++)
		if (want->routes[i].len > 32)
			return false;
	return true;
}

/*
 * Order: the addresses first (a route's source must be a local address),
 * then the routes; the stale routes go before the stale addresses (taking
 * an address away also takes the routes that use it as source).
 */
int
tg_host_sync(struct tg_host *h, const struct tg_host_state *want, char *err,
	size_t errlen)
{
	struct sync_err se = {0, 0, err, errlen};
	struct sync_mem m;
	char ext[256], obj[64];
	uint32_t i, j, na = 0, nr = 0;
	int rc;

	tg_host_err_set(err, errlen, "%s", "");
	if (h == NULL || want == NULL || !state_ok(want)) {
		tg_host_err_set(err, errlen, "invalid arguments");
		return -EINVAL;
	}
	if (sync_mem_alloc(&m, h, want) < 0) {
		sync_mem_free(&m);
		tg_host_err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}

	if (want->mtu != 0) {
		rc = tg_host_link_mtu(h, want->mtu, ext, sizeof(ext));
		if (rc < 0) {
			snprintf(obj, sizeof(obj), "%u", want->mtu);
			sync_fail(&se, rc, "mtu ", obj, h->ifname, ext);
		}
	}

	/* Every wanted one, not only the new ones: somebody may have taken
	 * one away, and the link going down takes every route with it. */
	for (i = 0; i < want->n_addrs; i++) {
		rc = addr_req(
			h, RTM_NEWADDR, &want->addrs[i], ext, sizeof(ext));
		m.addr_ok[i] = rc == 0;
		if (rc == 0) {
			m.addrs[na++] = want->addrs[i];
		} else {
			addr_fmt(&want->addrs[i], obj, sizeof(obj));
			sync_fail(&se, rc, "address ", obj, h->ifname, ext);
		}
	}
	for (i = 0; i < want->n_routes; i++) {
		rc = route_req(
			h, RTM_NEWROUTE, &want->routes[i], ext, sizeof(ext));
		m.route_ok[i] = rc == 0;
		if (rc == 0) {
			m.routes[nr++] = want->routes[i];
		} else {
			route_fmt(&want->routes[i], obj, sizeof(obj));
			sync_fail(&se, rc, "route ", obj, h->ifname, ext);
		}
	}

	/* An installed route to a wanted destination was replaced in place
	 * when the add worked, and stays ours to delete when it did not. */
	for (i = 0; i < h->n_routes; i++) {
		const struct tg_host_route *r = &h->routes[i];
		int64_t w = route_wanted(m.ix, want->n_routes, r);

		if (w >= 0) {
			if (!m.route_ok[w])
				m.routes[nr++] = *r;
			continue;
		}
		rc = route_req(h, RTM_DELROUTE, r, ext, sizeof(ext));
		if (rc == -ESRCH)
			rc = 0; /* gone already: somebody else, or link down */
		if (rc < 0) {
			m.routes[nr++] = *r;
			route_fmt(r, obj, sizeof(obj));
			sync_fail(
				&se, rc, "delete route ", obj, h->ifname, ext);
		}
	}
	for (i = 0; i < h->n_addrs; i++) {
		const struct tg_host_addr *a = &h->addrs[i];
		bool wanted = false;

		for (j = 0; j < want->n_addrs; j++) {
			if (addr_eq(a, &want->addrs[j])) {
				wanted = true;
				if (!m.addr_ok[j])
					m.addrs[na++] = *a;
				break;
			}
		}
		if (wanted)
			continue;
		rc = addr_req(h, RTM_DELADDR, a, ext, sizeof(ext));
		if (rc == -EADDRNOTAVAIL)
			rc = 0;
		if (rc < 0) {
			m.addrs[na++] = *a;
			addr_fmt(a, obj, sizeof(obj));
			sync_fail(&se, rc, "delete address ", obj, h->ifname,
				ext);
		}
	}

	free(h->addrs);
	free(h->routes);
	h->addrs = m.addrs;
	h->n_addrs = na;
	h->routes = m.routes;
	h->n_routes = nr;
	m.addrs = NULL;
	m.routes = NULL;
	sync_mem_free(&m);

	if (se.rc != 0 && se.more > 0 && err != NULL && errlen > 0) {
		size_t l = strlen(err);

		if (l + 1 < errlen)
			snprintf(
				err + l, errlen - l, " (and %u more)", se.more);
	}
	return se.rc;
}
