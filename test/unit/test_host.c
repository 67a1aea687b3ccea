/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for lib/host: netlink set-up of the host port's kernel
 * interface. Each test makes its own throwaway namespace and tun/tap
 * devices (with /dev/net/tun, not with the library), and checks what the
 * kernel holds with `ip -j` (an independent view), never with the code
 * under test. Runs as root; leaves the root namespace's addresses and
 * routes alone (an interface is there only until it is moved).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "tg_config.h"
#include "tg_host.h"
#include "tg_test.h"

/* ---------------------------------------------------------------- shell */

static void __attribute__((format(printf, 3, 4)))
fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

/* Exit status of a shell command; its output goes to /dev/null. */
static int __attribute__((format(printf, 1, 2))) sh(const char *f, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, f);
	vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	strncat(cmd, " >/dev/null 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* What a command prints (stdout), NUL-ended, in a static buffer. */
static const char *__attribute__((format(printf, 1, 2)))
sh_out(const char *f, ...)
{
	static char out[65536];
	char cmd[512];
	va_list ap;
	size_t n = 0, r;
	FILE *p;

	va_start(ap, f);
	vsnprintf(cmd, sizeof(cmd), f, ap);
	va_end(ap);
	out[0] = '\0';
	p = popen(cmd, "r");
	if (p == NULL)
		return out;
	while (n < sizeof(out) - 1 &&
		(r = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += r;
	out[n] = '\0';
	pclose(p);
	return out;
}

/* -------------------------------------------------------------- fixture */

/* What a test made, undone by fx_cleanup() after every test, and again
 * by the suite's cleanup (a fatal assertion skips the test's teardown in
 * some CUnit versions). */
static struct {
	unsigned int n_ns;
	char ns[4][32];
	unsigned int n_fd;
	int fd[8];
} fx;
static unsigned int uniq;

static void
fx_cleanup(void)
{
	unsigned int i;

	/* A tun/tap without IFF_TUN_PERSIST goes with its last fd, in
	 * whatever namespace it is. */
	for (i = 0; i < fx.n_fd; i++)
		close(fx.fd[i]);
	for (i = 0; i < fx.n_ns; i++)
		if (sh("ip netns del %s", fx.ns[i]) != 0)
			fprintf(stderr, "could not delete netns %s\n",
				fx.ns[i]);
	fx.n_fd = 0;
	fx.n_ns = 0;
}

static int
suite_cleanup(void)
{
	fx_cleanup();
	return 0;
}

/* A new namespace, "tgut-<pid>-<n>". */
static const char *
fx_ns(void)
{
	char *n;

	CU_ASSERT_FATAL(fx.n_ns < sizeof(fx.ns) / sizeof(fx.ns[0]));
	n = fx.ns[fx.n_ns++];
	fmt(n, sizeof(fx.ns[0]), "tgut-%d-%u", (int)getpid(), uniq++);
	CU_ASSERT_FATAL(sh("ip netns add %s", n) == 0);
	return n;
}

/* A fresh interface name ("tgu<pid>-<n>", < IFNAMSIZ). */
static void
fx_ifname(char *buf)
{
	fmt(buf, IFNAMSIZ, "tgu%d-%u", (int)getpid() % 10000000, uniq++);
}

/* Run the calling thread in @p ns; returns the fd to come back with. */
static int
ns_enter(const char *ns)
{
	char path[64];
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd;

	CU_ASSERT_FATAL(self >= 0);
	fmt(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(setns(fd, CLONE_NEWNET) == 0);
	close(fd);
	return self;
}

static void
ns_leave(int self)
{
	CU_ASSERT_FATAL(setns(self, CLONE_NEWNET) == 0);
	close(self);
}

/* A tun (or tap) device named @p name, created in @p ns (NULL: this
 * namespace, to be moved by the library), living as long as the test. */
static void
fx_tun(const char *ns, const char *name, bool tap)
{
	struct ifreq ifr;
	int self = -1, fd;

	if (ns != NULL)
		self = ns_enter(ns);
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = (short)((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (ns != NULL)
		ns_leave(self);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(fx.n_fd < sizeof(fx.fd) / sizeof(fx.fd[0]));
	fx.fd[fx.n_fd++] = fd;
}

/* ------------------------------------------------------ the kernel's view */

static const char *
link_json(const char *ns, const char *ifname)
{
	return sh_out(
		"ip -n %s -j -d link show dev %s 2>/dev/null", ns, ifname);
}

static const char *
addr_json(const char *ns, const char *ifname)
{
	return sh_out("ip -n %s -j addr show dev %s 2>/dev/null", ns, ifname);
}

static const char *
route_json(const char *ns, const char *ifname)
{
	return sh_out("ip -n %s -j route show dev %s 2>/dev/null", ns, ifname);
}

static bool
has(const char *json, const char *needle)
{
	return strstr(json, needle) != NULL;
}

/* `"local":"A","prefixlen":L` in `ip -j addr`: the address with its
 * prefix length (no peer: IFA_ADDRESS == IFA_LOCAL). */
static bool
has_addr(const char *ns, const char *ifname, const char *addr, int len)
{
	char needle[96];

	fmt(needle, sizeof(needle), "\"local\":\"%s\",\"prefixlen\":%d,", addr,
		len);
	return has(addr_json(ns, ifname), needle);
}

/* How many routes to @p dst ("10.9.0.0/16", "default") the interface has;
 * the last one's JSON object in @p obj. */
static int
route_find(const char *json, const char *dst, char *obj, size_t len)
{
	char key[64];
	const char *p = json, *e;
	int n = 0;

	fmt(key, sizeof(key), "{\"dst\":\"%s\"", dst);
	obj[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		e = strstr(p + 1, "{\"dst\":");
		fmt(obj, len, "%.*s",
			(int)(e != NULL ? e - p : (long)strlen(p)), p);
		n++;
		p++;
	}
	return n;
}

/* Exactly one route to @p dst: ours (static, scope link) with preferred
 * source @p src (NULL: none). */
static bool
has_route(const char *ns, const char *ifname, const char *dst, const char *src)
{
	char obj[512], s[64];

	if (route_find(route_json(ns, ifname), dst, obj, sizeof(obj)) != 1)
		return false;
	if (!has(obj, "\"protocol\":\"static\"") ||
		!has(obj, "\"scope\":\"link\"") || has(obj, "\"gateway\""))
		return false;
	if (src == NULL)
		return !has(obj, "\"prefsrc\"");
	fmt(s, sizeof(s), "\"prefsrc\":\"%s\"", src);
	return has(obj, s);
}

static int
n_routes(const char *ns, const char *ifname, const char *dst)
{
	char obj[512];

	return route_find(route_json(ns, ifname), dst, obj, sizeof(obj));
}

/* ---------------------------------------------------------- states */

static uint32_t
ip(const char *s)
{
	unsigned int a, b, c, d;

	CU_ASSERT_FATAL(sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
	return a << 24 | b << 16 | c << 8 | d;
}

static struct tg_host_route routes_buf[16];

/* A state: @p addrs "a.b.c.d/len" separated by spaces, @p routes
 * "prefix/len[@src]" likewise (routes point into a static buffer). */
static struct tg_host_state
state(uint16_t mtu, const char *addrs, const char *routes)
{
	struct tg_host_state st;
	char buf[512], a[32], *tok, *save, *at;
	unsigned int len;

	memset(&st, 0, sizeof(st));
	st.mtu = mtu;
	st.routes = routes_buf;
	snprintf(buf, sizeof(buf), "%s", addrs);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
		tok = strtok_r(NULL, " ", &save)) {
		CU_ASSERT_FATAL(sscanf(tok, "%31[0-9.]/%u", a, &len) == 2);
		st.addrs[st.n_addrs].addr = ip(a);
		st.addrs[st.n_addrs++].len = (uint8_t)len;
	}
	snprintf(buf, sizeof(buf), "%s", routes);
	for (tok = strtok_r(buf, " ", &save); tok != NULL;
		tok = strtok_r(NULL, " ", &save)) {
		struct tg_host_route *r = &routes_buf[st.n_routes++];

		CU_ASSERT_FATAL(st.n_routes <= 16);
		CU_ASSERT_FATAL(sscanf(tok, "%31[0-9.]/%u", a, &len) == 2);
		r->prefix = ip(a);
		r->len = (uint8_t)len;
		at = strchr(tok, '@');
		r->src = at != NULL ? ip(at + 1) : 0;
	}
	return st;
}

/* An interface moved into a fresh namespace and opened there. */
static struct tg_host *
open_moved(const char **ns, char *ifname, bool tap, bool noarp)
{
	struct tg_host *h = NULL;
	char err[256];
	int rc;

	*ns = fx_ns();
	fx_ifname(ifname);
	fx_tun(NULL, ifname, tap);
	rc = tg_host_open(ifname, *ns, noarp, &h, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\ntg_host_open: %d %s\n", rc, err);
	CU_ASSERT_FATAL(rc == 0 && h != NULL);
	return h;
}

static int
sync_st(struct tg_host *h, const struct tg_host_state *st)
{
	char err[512];
	int rc = tg_host_sync(h, st, err, sizeof(err));

	if (rc != 0)
		fprintf(stderr, "\ntg_host_sync: %d %s\n", rc, err);
	return rc;
}

/* ------------------------------------------------------ invalid input */

static void
test_host_rejects_invalid_arguments(void)
{
	struct tg_host_state st = state(0, "10.0.0.1/24", "");
	struct tg_host *h = (struct tg_host *)&h;
	char err[256];

	CU_ASSERT_EQUAL(
		tg_host_open(NULL, NULL, false, &h, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NULL(h);
	CU_ASSERT_EQUAL(
		tg_host_open("", NULL, false, &h, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tg_host_open("0123456789abcdef", NULL, false, &h, err,
				sizeof(err)),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "invalid interface name");
	CU_ASSERT_EQUAL(tg_host_open("lo", "a/b", false, &h, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "invalid netns name 'a/b'");
	CU_ASSERT_EQUAL(
		tg_host_open("lo", "..", false, &h, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tg_host_open("lo", NULL, false, NULL, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(tg_host_sync(NULL, &st, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tg_host_ifindex(NULL), -EINVAL);
	CU_ASSERT_EQUAL(tg_host_state_from_config(NULL, &st), -EINVAL);
	CU_ASSERT_EQUAL(st.n_addrs, 0); /* zeroed even then */
	tg_host_close(NULL);
	tg_host_state_fini(NULL);
}

static void
test_host_rejects_invalid_state(void)
{
	struct tg_host_state st;
	const char *ns;
	char ifname[IFNAMSIZ], err[256];
	struct tg_host *h = open_moved(&ns, ifname, false, false);

	st = state(0, "10.0.0.1/24", "");
	st.n_addrs = TG_MAX_PORTS + 1;
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	st = state(0, "10.0.0.1/24", "10.9.0.0/16");
	st.routes[0].len = 33;
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	st.routes = NULL;
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(tg_host_sync(h, NULL, err, sizeof(err)), -EINVAL);
	/* nothing was done */
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "\"family\":\"inet\""));
	tg_host_close(h);
}

static void
test_host_open_reports_missing_interface(void)
{
	const char *ns = fx_ns();
	struct tg_host *h = NULL;
	char ifname[IFNAMSIZ], err[256], want[128];

	fx_ifname(ifname);
	CU_ASSERT_EQUAL(
		tg_host_open(ifname, ns, false, &h, err, sizeof(err)), -ENODEV);
	CU_ASSERT_PTR_NULL(h);
	fmt(want, sizeof(want),
		"no interface %s in this namespace nor in netns %s", ifname,
		ns);
	CU_ASSERT_STRING_EQUAL(err, want);

	/* In the caller's namespace only: looked up, nothing else. */
	CU_ASSERT_EQUAL(tg_host_open(ifname, NULL, false, &h, err, sizeof(err)),
		-ENODEV);
	fmt(want, sizeof(want), "no interface %s", ifname);
	CU_ASSERT_STRING_EQUAL(err, want);
}

static void
test_host_open_reports_missing_netns(void)
{
	struct tg_host *h = NULL;
	char ifname[IFNAMSIZ], ns[32], err[256], want[160];

	fmt(ns, sizeof(ns), "tgut-%d-nosuch", (int)getpid());
	fx_ifname(ifname);
	fx_tun(NULL, ifname, false);
	CU_ASSERT_EQUAL(
		tg_host_open(ifname, ns, false, &h, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NULL(h);
	fmt(want, sizeof(want),
		"netns %s: /run/netns/%s: No such file or directory", ns, ns);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* The interface was not touched: still here, still down. */
	CU_ASSERT_NOT_EQUAL(if_nametoindex(ifname), 0);
	CU_ASSERT_FALSE(
		has(sh_out("ip -j link show dev %s", ifname), "\"UP\""));
	fx_cleanup(); /* do not keep it in the root namespace */
}

/* ----------------------------------------------------------------- open */

static void
test_host_open_moves_into_netns(void)
{
	const char *ns;
	char ifname[IFNAMSIZ], idx[32];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st = state(1400, "", "");
	const char *j;

	CU_ASSERT_EQUAL(if_nametoindex(ifname), 0); /* gone from here */
	j = link_json(ns, ifname);
	CU_ASSERT_TRUE(has(j, ifname));
	CU_ASSERT_TRUE(has(j, "\"UP\""));
	CU_ASSERT_TRUE(has(j, "\"inet6_addr_gen_mode\":\"none\""));
	CU_ASSERT_TRUE(has(j, "\"mtu\":1500,"));
	fmt(idx, sizeof(idx), "\"ifindex\":%d,", tg_host_ifindex(h));
	CU_ASSERT_TRUE(has(j, idx));
	/* up with carrier (the fd is open), yet no link-local address */
	CU_ASSERT_FALSE(has(j, "NO-CARRIER"));
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "inet6"));

	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_TRUE(has(link_json(ns, ifname), "\"mtu\":1400,"));
	tg_host_close(h);
	/* Closing leaves the interface as it is. */
	j = link_json(ns, ifname);
	CU_ASSERT_TRUE(has(j, "\"UP\""));
	CU_ASSERT_TRUE(has(j, "\"mtu\":1400,"));
}

static void
test_host_open_sets_noarp_on_request(void)
{
	const char *ns;
	char tap1[IFNAMSIZ], tap2[IFNAMSIZ], err[256];
	struct tg_host *h1 = open_moved(&ns, tap1, true, true), *h2 = NULL;

	fx_ifname(tap2);
	fx_tun(NULL, tap2, true);
	CU_ASSERT_EQUAL_FATAL(
		tg_host_open(tap2, ns, false, &h2, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(has(link_json(ns, tap1), "\"NOARP\""));
	CU_ASSERT_TRUE(has(link_json(ns, tap1), "\"UP\""));
	CU_ASSERT_TRUE(has(link_json(ns, tap1), "\"link_type\":\"ether\""));
	CU_ASSERT_FALSE(has(link_json(ns, tap2), "\"NOARP\""));
	CU_ASSERT_TRUE(has(link_json(ns, tap2), "\"UP\""));
	CU_ASSERT_FALSE(has(addr_json(ns, tap1), "inet6"));
	CU_ASSERT_FALSE(has(addr_json(ns, tap2), "inet6"));
	tg_host_close(h1);
	tg_host_close(h2);
}

/* What the kernel wrote into the device, frames counted; the fd is
 * non-blocking. */
static int
frames_from_kernel(int fd)
{
	char buf[2048];
	int n = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		n++;
	return n;
}

/* No link-local address, so no MLD report, DAD or router solicitation:
 * the kernel writes nothing into the dataplane on its own. */
static void
test_host_open_silences_ipv6(void)
{
	const char *ns;
	char tun[IFNAMSIZ], tap[IFNAMSIZ], err[256];
	struct tg_host *h1 = open_moved(&ns, tun, false, false), *h2 = NULL;
	int fd_tun = fx.fd[fx.n_fd - 1], fd_tap;

	fx_ifname(tap);
	fx_tun(NULL, tap, true);
	fd_tap = fx.fd[fx.n_fd - 1];
	CU_ASSERT_EQUAL_FATAL(
		tg_host_open(tap, ns, false, &h2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fcntl(fd_tun, F_SETFL, O_NONBLOCK), 0);
	CU_ASSERT_EQUAL(fcntl(fd_tap, F_SETFL, O_NONBLOCK), 0);
	/* Reports and DAD go out at once; a solicitation within a second. */
	usleep(1200 * 1000);
	CU_ASSERT_EQUAL(frames_from_kernel(fd_tun), 0);
	CU_ASSERT_EQUAL(frames_from_kernel(fd_tap), 0);
	tg_host_close(h1);
	tg_host_close(h2);
}

/* Without netns, the caller's namespace: the test's thread enters one of
 * its own, and the socket stays there after the thread leaves. */
static void
test_host_open_stays_in_callers_namespace(void)
{
	const char *ns = fx_ns();
	struct tg_host_state st =
		state(0, "10.0.0.1/24", "10.9.0.0/16@10.0.0.1");
	struct tg_host *h = NULL;
	char ifname[IFNAMSIZ], err[256];
	int self, rc;

	fx_ifname(ifname);
	fx_tun(ns, ifname, false);
	self = ns_enter(ns);
	rc = tg_host_open(ifname, "", false, &h, err, sizeof(err));
	ns_leave(self);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_TRUE(has(link_json(ns, ifname), "\"UP\""));
	CU_ASSERT_EQUAL(sync_st(h, &st), 0); /* from the root namespace */
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	CU_ASSERT_EQUAL(if_nametoindex(ifname), 0);
	tg_host_close(h);
}

/* Before the port starts: IPv6 address generation off in the caller's
 * namespace, nothing else touched (not up, not moved). */
static void
test_host_silence_in_callers_namespace(void)
{
	const char *ns = fx_ns();
	char ifname[IFNAMSIZ], err[256];
	const char *j;
	int self, rc, rc2;

	fx_ifname(ifname);
	fx_tun(ns, ifname, false);
	self = ns_enter(ns);
	rc = tg_host_silence(ifname, err, sizeof(err));
	rc2 = tg_host_silence("tgu-nosuchif", err, sizeof(err));
	ns_leave(self);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	j = link_json(ns, ifname);
	CU_ASSERT_TRUE(has(j, "\"inet6_addr_gen_mode\":\"none\""));
	CU_ASSERT_FALSE(has(j, "\"UP\""));
	CU_ASSERT_EQUAL(rc2, -ENODEV);
	CU_ASSERT_TRUE(has(err, "tgu-nosuchif"));
	CU_ASSERT_EQUAL(tg_host_silence("", err, sizeof(err)), -EINVAL);
}

/* Somebody sets the link down and up: tg_host_link_came_up() says so,
 * once; the routes the kernel dropped come back with a sync. */
static void
test_host_link_came_up(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st =
		state(0, "10.0.0.1/24", "10.9.0.0/16@10.0.0.1");

	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_EQUAL(tg_host_link_came_up(h), 0);
	CU_ASSERT_EQUAL_FATAL(
		sh("ip -n %s link set dev %s down", ns, ifname), 0);
	CU_ASSERT_EQUAL(tg_host_link_came_up(h), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.9.0.0/16"), 0);
	CU_ASSERT_EQUAL_FATAL(sh("ip -n %s link set dev %s up", ns, ifname), 0);
	CU_ASSERT_EQUAL(tg_host_link_came_up(h), 1);
	CU_ASSERT_EQUAL(tg_host_link_came_up(h), 0);
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	/* other links' events are not this one's */
	CU_ASSERT_EQUAL_FATAL(
		sh("ip -n %s link set dev lo down; ip -n %s link set dev lo up",
			ns, ns),
		0);
	CU_ASSERT_EQUAL(tg_host_link_came_up(h), 0);
	CU_ASSERT_EQUAL(tg_host_link_came_up(NULL), -EINVAL);
	tg_host_close(h);
}

/* A second open (after a restart of the control plane) finds the
 * interface already moved. */
static void
test_host_open_again_finds_moved_interface(void)
{
	const char *ns;
	char ifname[IFNAMSIZ], err[256];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	int idx = tg_host_ifindex(h);

	tg_host_close(h);
	h = NULL;
	CU_ASSERT_EQUAL_FATAL(
		tg_host_open(ifname, ns, false, &h, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tg_host_ifindex(h), idx);
	tg_host_close(h);
}

/* ----------------------------------------------------------------- sync */

static void
test_host_sync_installs_addresses_and_routes(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st = state(1400, "10.0.0.1/24 192.168.7.1/24",
		"10.9.0.0/16@10.0.0.1 172.16.0.0/12@192.168.7.1 10.200.0.0/16 "
		"0.0.0.0/0@10.0.0.1 10.3.3.3/32@192.168.7.1");

	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_TRUE(has(link_json(ns, ifname), "\"mtu\":1400,"));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "192.168.7.1", 24));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "172.16.0.0/12", "192.168.7.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.200.0.0/16", NULL));
	CU_ASSERT_TRUE(has_route(ns, ifname, "default", "10.0.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.3.3.3", "192.168.7.1"));
	/* the kernel's own prefix route of each address */
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.0.0.0/24"), 1);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "192.168.7.0/24"), 1);

	/* The same state again: nothing to change, no error. */
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.9.0.0/16"), 1);
	CU_ASSERT_TRUE(has_route(ns, ifname, "default", "10.0.0.1"));
	tg_host_close(h);
}

static void
test_host_sync_reload_replaces_changed_state(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state a = state(0, "10.0.0.1/24 10.1.0.1/24",
		"10.9.0.0/16@10.0.0.1 10.8.0.0/16@10.1.0.1 "
		"10.7.0.0/16@10.0.0.1");
	struct tg_host_state b;

	CU_ASSERT_EQUAL_FATAL(sync_st(h, &a), 0);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.8.0.0/16", "10.1.0.1"));

	b = state(0, "10.0.0.1/24 10.2.0.1/24 10.0.0.1/16",
		"10.9.0.0/16@10.2.0.1 10.6.0.0/16@10.0.0.1 10.7.0.0/16");
	CU_ASSERT_EQUAL(sync_st(h, &b), 0);
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 16));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.2.0.1", 24));
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "10.1.0.1"));
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.8.0.0/16"), 0);
	/* a new source replaces the route in place: one, not two */
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.2.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.6.0.0/16", "10.0.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.7.0.0/16", NULL));

	/* Nothing wanted: all of it goes (the kernel's prefix routes with
	 * the addresses). */
	b = state(0, "", "");
	CU_ASSERT_EQUAL(sync_st(h, &b), 0);
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "\"family\":\"inet\""));
	CU_ASSERT_FALSE(has(route_json(ns, ifname), "\"dst\""));
	CU_ASSERT_TRUE(has(link_json(ns, ifname), "\"UP\""));
	tg_host_close(h);
}

static void
test_host_sync_keeps_what_others_installed(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state a =
		state(0, "10.0.0.1/24", "10.9.0.0/16@10.0.0.1");
	struct tg_host_state b;

	CU_ASSERT_EQUAL_FATAL(
		sh("ip -n %s addr add 10.66.0.1/24 dev %s", ns, ifname), 0);
	CU_ASSERT_EQUAL_FATAL(
		sh("ip -n %s route add 10.77.0.0/16 dev %s", ns, ifname), 0);
	/* even one that looks like ours (static, scope link) */
	CU_ASSERT_EQUAL_FATAL(sh("ip -n %s route add 10.78.0.0/16 dev %s "
				 "proto static scope link src 10.66.0.1",
				      ns, ifname),
		0);
	/* and one with the very prefix tollgate wants: it sits beside it
	 * (own metric) instead of replacing it, and survives its removal */
	CU_ASSERT_EQUAL_FATAL(sh("ip -n %s route add 10.9.0.0/16 dev %s "
				 "proto static scope link src 10.66.0.1",
				      ns, ifname),
		0);
	CU_ASSERT_EQUAL(sync_st(h, &a), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.9.0.0/16"), 2);
	b = state(0, "10.5.0.1/24", "10.4.0.0/16@10.5.0.1");
	CU_ASSERT_EQUAL(sync_st(h, &b), 0);
	b = state(0, "", "");
	CU_ASSERT_EQUAL(sync_st(h, &b), 0);

	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.66.0.1", 24));
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.77.0.0/16"), 1);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.66.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.78.0.0/16", "10.66.0.1"));
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "10.0.0.1"));
	CU_ASSERT_FALSE(has(addr_json(ns, ifname), "10.5.0.1"));
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.9.0.0/16"), 1);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.4.0.0/16"), 0);
	tg_host_close(h);
}

static void
test_host_sync_reports_errors_and_retries(void)
{
	const char *ns;
	char ifname[IFNAMSIZ], err[512], want[256];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st = state(
		0, "10.0.0.1/24", "10.5.0.0/16@10.99.0.1 10.6.0.0/16@10.0.0.1");

	/* A source that is not an address of the host: the kernel refuses
	 * that route; the rest is done. */
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	fmt(want, sizeof(want),
		"route 10.5.0.0/16 src 10.99.0.1 on %s: Invalid argument",
		ifname);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	if (strncmp(err, want, strlen(want)) != 0)
		fprintf(stderr, "\ngot: %s\n", err);
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.6.0.0/16", "10.0.0.1"));
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.5.0.0/16"), 0);

	/* The first failure is told, the others counted. */
	st = state(0, "10.0.0.1/24",
		"10.5.0.0/16@10.99.0.1 10.4.0.0/16@10.98.0.1");
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	CU_ASSERT_TRUE(has(err, " (and 1 more)"));
	/* 10.6.0.0/16 is no longer wanted: deleted despite the failures */
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.6.0.0/16"), 0);

	/* A later call with the source in place does it. */
	st = state(0, "10.0.0.1/24 10.99.0.1/32",
		"10.5.0.0/16@10.99.0.1 10.4.0.0/16@10.0.0.1");
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.5.0.0/16", "10.99.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.4.0.0/16", "10.0.0.1"));

	/* A bad MTU: the kernel's limit, named. */
	st.mtu = 40;
	CU_ASSERT_EQUAL(tg_host_sync(h, &st, err, sizeof(err)), -EINVAL);
	fmt(want, sizeof(want), "mtu 40 on %s: Invalid argument", ifname);
	CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
	tg_host_close(h);
}

/* Somebody deletes one of ours: the next sync puts it back; a deleted one
 * no longer wanted is simply forgotten. */
static void
test_host_sync_repairs_and_forgets(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st = state(0, "10.0.0.1/24 10.1.0.1/24",
		"10.9.0.0/16@10.0.0.1 10.8.0.0/16@10.1.0.1");

	CU_ASSERT_EQUAL_FATAL(sync_st(h, &st), 0);
	CU_ASSERT_EQUAL(
		sh("ip -n %s route del 10.9.0.0/16 dev %s", ns, ifname), 0);
	CU_ASSERT_EQUAL(
		sh("ip -n %s addr del 10.1.0.1/24 dev %s", ns, ifname), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.8.0.0/16"), 0); /* src gone */
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.8.0.0/16", "10.1.0.1"));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.1.0.1", 24));

	/* The link going down takes the routes: a sync after it is up again
	 * restores them. */
	CU_ASSERT_EQUAL(sh("ip -n %s link set %s down", ns, ifname), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.9.0.0/16"), 0);
	CU_ASSERT_EQUAL(sh("ip -n %s link set %s up", ns, ifname), 0);
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));

	CU_ASSERT_EQUAL(
		sh("ip -n %s route del 10.9.0.0/16 dev %s", ns, ifname), 0);
	CU_ASSERT_EQUAL(
		sh("ip -n %s addr del 10.1.0.1/24 dev %s", ns, ifname), 0);
	st = state(0, "10.0.0.1/24", "");
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "10.8.0.0/16"), 0);
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	tg_host_close(h);
}

/* ------------------------------------------------------ state from config */

#define CFG_PORTS                                                              \
	"ports:\n"                                                             \
	"  - {name: p0, device: net_null0}\n"                                  \
	"  - {name: p1, device: net_null1}\n"                                  \
	"  - {name: p2, device: net_null2}\n"
#define CFG_IFACES                                                             \
	"interfaces:\n"                                                        \
	"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"                   \
	"  - {name: wan0, port: p1, address: 192.168.1.1/24, mtu: 1400}\n"     \
	"  - {name: dmz, port: p2, address: 172.16.0.1/30, mtu: 9000}\n"
#define CFG_ROUTES                                                             \
	"routes:\n"                                                            \
	"  - {prefix: 0.0.0.0/0, via: 192.168.1.254, interface: wan0}\n"       \
	"  - {prefix: 10.9.0.0/16, via: 10.0.0.254, interface: lan0}\n"        \
	"  - {prefix: 172.20.0.0/16, interface: dmz}\n"

static struct tg_cfg_errors errs; /* large: not on the stack */

static struct tg_config *
parse(const char *yaml)
{
	struct tg_config *cfg = NULL;
	int rc = tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs);

	if (rc != 0) {
		fprintf(stderr, "\n--- yaml:\n%s", yaml);
		tg_cfg_errors_print(&errs, stderr);
	}
	CU_ASSERT_FATAL(rc == 0 && cfg != NULL);
	return cfg;
}

/* "prefix/len@src" of each route, space-separated, in order. */
static const char *
routes_str(const struct tg_host_state *st)
{
	static char buf[512];
	char p[16], s[16];
	uint32_t i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < st->n_routes; i++) {
		const struct tg_host_route *r = &st->routes[i];

		fmt(p, sizeof(p), "%u.%u.%u.%u", r->prefix >> 24,
			(r->prefix >> 16) & 255, (r->prefix >> 8) & 255,
			r->prefix & 255);
		fmt(s, sizeof(s), "%u.%u.%u.%u", r->src >> 24,
			(r->src >> 16) & 255, (r->src >> 8) & 255,
			r->src & 255);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s/%u@%s",
			i > 0 ? " " : "", p, r->len, s);
		if (n >= sizeof(buf))
			break;
	}
	return buf;
}

static void
state_of(const char *yaml, struct tg_host_state *st)
{
	struct tg_config *cfg = parse(yaml);

	CU_ASSERT_EQUAL(tg_host_state_from_config(cfg, st), 0);
	tg_config_free(cfg);
}

static void
test_host_state_from_config(void)
{
	struct tg_host_state st;

	/* netns set: the default route by default */
	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES "host:\n  netns: tg\n", &st);
	CU_ASSERT_EQUAL(st.n_addrs, 3);
	CU_ASSERT_EQUAL(st.addrs[0].addr, ip("10.0.0.1"));
	CU_ASSERT_EQUAL(st.addrs[0].len, 24);
	CU_ASSERT_EQUAL(st.addrs[1].addr, ip("192.168.1.1"));
	CU_ASSERT_EQUAL(st.addrs[2].addr, ip("172.16.0.1"));
	CU_ASSERT_EQUAL(st.addrs[2].len, 30);
	CU_ASSERT_EQUAL(st.mtu, 1400); /* the smallest */
	CU_ASSERT_STRING_EQUAL(routes_str(&st),
		"0.0.0.0/0@192.168.1.1 10.9.0.0/16@10.0.0.1 "
		"172.20.0.0/16@172.16.0.1");
	tg_host_state_fini(&st);
	CU_ASSERT_PTR_NULL(st.routes);
	tg_host_state_fini(&st); /* twice is fine */

	/* ipsec on: room for the largest outbound SA's overhead. An
	 * AES-GCM tunnel adds outer IPv4 20 + ESP 8 + IV 8 + padding up to
	 * 3 + trailer 2 + ICV 16 = 57 (RFC 4303, 4106); AES-CBC with
	 * HMAC-SHA256 in transport mode 8 + 16 + 15 + 2 + 16 = 57 too; an
	 * inbound SA adds nothing to what the host sends. */
	state_of(CFG_PORTS CFG_IFACES
		"ipsec:\n  sas:\n"
		"    - {name: o, spi: 300, direction: outbound, mode: tunnel,\n"
		"       local: 192.168.1.1, remote: 192.168.1.9,\n"
		"       algorithm: aes-128-gcm,\n"
		"       key: 000102030405060708090a0b0c0d0e0f, salt: "
		"01020304}\n"
		"    - {name: i, spi: 301, direction: inbound, mode: tunnel,\n"
		"       local: 192.168.1.1, remote: 192.168.1.9,\n"
		"       algorithm: aes-256-cbc-hmac-sha256,\n"
		"       key: 202122232425262728292a2b2c2d2e2f"
		"202122232425262728292a2b2c2d2e2f,\n"
		"       auth_key: 303132333435363738393a3b3c3d3e3f"
		"303132333435363738393a3b3c3d3e3f}\n",
		&st);
	CU_ASSERT_EQUAL(st.mtu, 1400 - 57);
	tg_host_state_fini(&st);

	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES
		"host:\n  netns: tg\n  default_route: false\n",
		&st);
	CU_ASSERT_STRING_EQUAL(routes_str(&st),
		"10.9.0.0/16@10.0.0.1 172.20.0.0/16@172.16.0.1");
	tg_host_state_fini(&st);

	/* the caller's namespace: no default route unless asked */
	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES "host:\n  type: tun\n", &st);
	CU_ASSERT_STRING_EQUAL(routes_str(&st),
		"10.9.0.0/16@10.0.0.1 172.20.0.0/16@172.16.0.1");
	tg_host_state_fini(&st);
	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES
		"host:\n  default_route: true\n",
		&st);
	CU_ASSERT_STRING_EQUAL(routes_str(&st),
		"0.0.0.0/0@192.168.1.1 10.9.0.0/16@10.0.0.1 "
		"172.20.0.0/16@172.16.0.1");
	tg_host_state_fini(&st);

	/* routes: false — addresses only */
	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES
		"host:\n  netns: tg\n  routes: false\n",
		&st);
	CU_ASSERT_EQUAL(st.n_routes, 0);
	CU_ASSERT_PTR_NULL(st.routes);
	CU_ASSERT_EQUAL(st.n_addrs, 3);
	CU_ASSERT_EQUAL(st.mtu, 1400);
	tg_host_state_fini(&st);

	/* no interface: nothing, and the MTU left alone */
	state_of(CFG_PORTS, &st);
	CU_ASSERT_EQUAL(st.n_addrs, 0);
	CU_ASSERT_EQUAL(st.n_routes, 0);
	CU_ASSERT_EQUAL(st.mtu, 0);
	tg_host_state_fini(&st);
}

/* A route equal to an interface's subnet is the kernel's own prefix route
 * (it comes with the address): not given again. */
static void
test_host_state_skips_connected_prefixes(void)
{
	struct tg_config *cfg =
		parse(CFG_PORTS CFG_IFACES CFG_ROUTES "host:\n  netns: tg\n");
	struct tg_host_state st;
	struct tg_cfg_route *r;

	/* The parser may refuse such routes; the model can still hold one. */
	r = realloc(cfg->routes, (cfg->n_routes + 3) * sizeof(*r));
	CU_ASSERT_FATAL(r != NULL);
	cfg->routes = r;
	r = &cfg->routes[cfg->n_routes];
	memset(r, 0, 3 * sizeof(*r));
	r[0].prefix = ip("10.0.0.0"), r[0].len = 24, r[0].iface = 0;
	r[1].prefix = ip("172.16.0.0"), r[1].len = 30, r[1].iface = 1;
	/* same network, other length: not connected */
	r[2].prefix = ip("10.0.0.0"), r[2].len = 25, r[2].iface = 0;
	cfg->n_routes += 3;
	CU_ASSERT_EQUAL(tg_host_state_from_config(cfg, &st), 0);
	CU_ASSERT_STRING_EQUAL(routes_str(&st),
		"0.0.0.0/0@192.168.1.1 10.9.0.0/16@10.0.0.1 "
		"172.20.0.0/16@172.16.0.1 10.0.0.0/25@10.0.0.1");
	tg_host_state_fini(&st);
	tg_config_free(cfg);
}

/* The state from a config, applied: what the kernel ends up with. */
static void
test_host_sync_applies_config_state(void)
{
	const char *ns;
	char ifname[IFNAMSIZ];
	struct tg_host *h = open_moved(&ns, ifname, false, false);
	struct tg_host_state st;

	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES "host:\n  netns: tg\n", &st);
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	tg_host_state_fini(&st);
	CU_ASSERT_TRUE(has(link_json(ns, ifname), "\"mtu\":1400,"));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "10.0.0.1", 24));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "192.168.1.1", 24));
	CU_ASSERT_TRUE(has_addr(ns, ifname, "172.16.0.1", 30));
	CU_ASSERT_TRUE(has_route(ns, ifname, "default", "192.168.1.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	CU_ASSERT_TRUE(has_route(ns, ifname, "172.20.0.0/16", "172.16.0.1"));

	/* reload without the default route */
	state_of(CFG_PORTS CFG_IFACES CFG_ROUTES
		"host:\n  netns: tg\n  default_route: false\n",
		&st);
	CU_ASSERT_EQUAL(sync_st(h, &st), 0);
	tg_host_state_fini(&st);
	CU_ASSERT_EQUAL(n_routes(ns, ifname, "default"), 0);
	CU_ASSERT_TRUE(has_route(ns, ifname, "10.9.0.0/16", "10.0.0.1"));
	tg_host_close(h);
}

int
main(void)
{
	CU_pSuite s;

	if (geteuid() != 0) {
		fprintf(stderr, "test_host: needs root (namespaces, tun)\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite_with_setup_and_teardown(
		"host", NULL, suite_cleanup, NULL, fx_cleanup);
	if (s == NULL)
		return 1;
#define ADD(t) CU_add_test(s, #t, t)
	ADD(test_host_rejects_invalid_arguments);
	ADD(test_host_rejects_invalid_state);
	ADD(test_host_open_reports_missing_interface);
	ADD(test_host_open_reports_missing_netns);
	ADD(test_host_open_moves_into_netns);
	ADD(test_host_open_sets_noarp_on_request);
	ADD(test_host_open_silences_ipv6);
	ADD(test_host_open_stays_in_callers_namespace);
	ADD(test_host_open_again_finds_moved_interface);
	ADD(test_host_silence_in_callers_namespace);
	ADD(test_host_link_came_up);
	ADD(test_host_sync_installs_addresses_and_routes);
	ADD(test_host_sync_reload_replaces_changed_state);
	ADD(test_host_sync_keeps_what_others_installed);
	ADD(test_host_sync_reports_errors_and_retries);
	ADD(test_host_sync_repairs_and_forgets);
	ADD(test_host_state_from_config);
	ADD(test_host_state_skips_connected_prefixes);
	ADD(test_host_sync_applies_config_state);
#undef ADD
	return tg_test_run();
}
