/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for lib/config: YAML → model, error positions and paths,
 * the shipped examples, scale, robustness, and the EAL argv merge.
 * Positions in the expectations are counted by hand in each snippet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_config.h"
#include "tg_test.h"
#include "tg_test_cfg.h"

/* Lines 1-3: one port. p0's name is at 2:11, its device at 3:13. */
#define PORTS "ports:\n  - name: p0\n    device: net_null0\n"
/* Lines 4-7 after PORTS: lan0 on p0; port at 6:11, address at 7:14. */
#define IFACE                                                                  \
	"interfaces:\n  - name: lan0\n    port: p0\n"                          \
	"    address: 10.0.0.1/24\n"

/* ------------------------------------------------------- document level */

static void
test_config_rejects_empty_and_non_mapping(void)
{
	static const struct bad t[] = {
		{"", 1, 1, "", "the configuration is empty"},
		{"# only a comment\n\n", 1, 1, "",
			"the configuration is empty"},
		{"- a\n- b\n", 1, 1, "", "expected a mapping of sections"},
		{"ports\n", 1, 1, "", "got 'ports'"},
		{"dpdk:\n  lcores: \"0-1\"\n", 1, 1, "",
			"missing required key 'ports'"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_syntax_errors(void)
{
	static const struct bad t[] = {
		/* libyaml marks the second ':' (column 5) */
		{"a: b: c\n", 1, 5, "", "mapping values are not allowed"},
		/* a tab cannot indent */
		{"ports:\n\t- name: p0\n", 2, 1, "",
			"found character that cannot start any token"},
		/* byte 17 is 0xff, on line 2 after "  - name: " */
		{"ports:\n  - name: \xff\n", 2, 11, "", "invalid input"},
		{PORTS "---\n" PORTS, 4, 1, "",
			"only one YAML document is supported"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_aliases(void)
{
	static const struct bad t[] = {
		{"ports: &p\n  - name: p0\n    device: net_null0\nx: *p\n", 4,
			4, "", "YAML aliases are not supported"},
	};
	char lol[4096];
	struct tg_config *cfg = NULL;
	int i, j, n = 0;

	CHECK_BAD_TABLE(t);
	/* billion laughs: refused without expanding anything */
	n += snprintf(lol + n, sizeof(lol) - n, "a0: &a0 [lol, lol]\n");
	for (i = 1; i < 20; i++) {
		n += snprintf(lol + n, sizeof(lol) - n, "a%d: &a%d [", i, i);
		for (j = 0; j < 9; j++)
			n += snprintf(lol + n, sizeof(lol) - n, "*a%d%s", i - 1,
				j < 8 ? ", " : "]\n");
	}
	CU_ASSERT_EQUAL(
		tg_config_parse("lol", lol, strlen(lol), &cfg, &errs), -EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(errs.n, 19 * 9);
	CU_ASSERT_EQUAL(errs.e[0].line, 2);
	CU_ASSERT_STRING_EQUAL(errs.e[0].msg, "YAML aliases are not supported");
}

static void
test_config_rejects_deep_nesting(void)
{
	char yaml[256] = "x: ";
	struct bad b = {yaml, 1, 0, "", "nested more than 64 levels deep"};

	memset(yaml + 3, '[', 100);
	memset(yaml + 103, ']', 100);
	/* the root mapping is level 1, the k-th '[' (column 3 + k) level
	 * k + 1: the 64th is the first too deep */
	b.col = 3 + 64;
	check_bad(&b, __LINE__);
}

/* ---------------------------------------------------------------- keys */

static void
test_config_rejects_bad_keys(void)
{
	static const struct bad t[] = {
		{PORTS "bogus: 1\n", 4, 1, "",
			"unknown key 'bogus' (valid keys: dpdk, mempool, "
			"ports, interfaces, routes, neighbors, arp, icmp, "
			"pipeline, limits, local_filter, host, nat, firewall, "
			"ipsec)"},
		{PORTS "    speed: 10\n", 4, 5, "ports[0]",
			"unknown key 'speed' (valid keys: name, device, "
			"rx_queues, rx_desc, tx_desc)"},
		{PORTS "dpdk:\n  lcore: 1\n", 5, 3, "dpdk",
			"unknown key 'lcore' (valid keys: lcores, memory_mb,"},
		{PORTS "ports: []\n", 4, 1, "ports",
			"duplicate key 'ports' (first at line 1)"},
		{PORTS "    name: p1\n", 4, 5, "ports[0].name",
			"duplicate key 'name' (first at line 2)"},
		{PORTS "[a]: 1\n", 4, 1, "", "expected a key (a string)"},
		{"ports:\n  - device: net_null0\n", 2, 5, "ports[0]",
			"missing required key 'name'"},
		{PORTS "interfaces:\n  - name: lan0\n"
		       "    address: 10.0.0.1/24\n",
			5, 5, "interfaces[0]", "missing required key 'port'"},
		{PORTS IFACE
			"routes:\n  - via: 10.0.0.2\n    interface: lan0\n",
			9, 5, "routes[0]", "missing required key 'prefix'"},
		{PORTS IFACE "neighbors:\n  - address: 10.0.0.2\n"
			     "    interface: lan0\n",
			9, 5, "neighbors[0]", "missing required key 'mac'"},
	};

	CHECK_BAD_TABLE(t);
}

/* ----------------------------------------------------- types and ranges */

static void
test_config_rejects_wrong_types(void)
{
	static const struct bad t[] = {
		{PORTS "dpdk: [1]\n", 4, 7, "dpdk",
			"expected a mapping, got a list"},
		{"ports: {}\n", 1, 8, "ports",
			"expected a list, got a mapping"},
		{"ports:\n  - net_null0\n", 2, 5, "ports[0]",
			"expected a mapping, got 'net_null0'"},
		{"ports: []\n", 1, 8, "ports", "at least one port is required"},
		{PORTS "dpdk:\n  memory_mb: abc\n", 5, 14, "dpdk.memory_mb",
			"expected an integer, got 'abc'"},
		{PORTS "dpdk:\n  memory_mb: \"512\"\n", 5, 14, "dpdk.memory_mb",
			"expected an integer, got the quoted string '512'"},
		{PORTS "dpdk:\n  memory_mb: 0x200\n", 5, 14, "dpdk.memory_mb",
			"expected an integer, got"},
		{PORTS "dpdk:\n  memory_mb: 0512\n", 5, 14, "dpdk.memory_mb",
			"expected an integer without leading zeros, got "
			"'0512'"},
		{PORTS "dpdk:\n  memory_mb: 1.5\n", 5, 14, "dpdk.memory_mb",
			"expected an integer, got"},
		{PORTS "dpdk:\n  memory_mb: [1]\n", 5, 14, "dpdk.memory_mb",
			"expected an integer, got a list"},
		{PORTS "dpdk:\n  no_huge: 1\n", 5, 12, "dpdk.no_huge",
			"expected a boolean (true/false), got '1'"},
		{PORTS "dpdk:\n  no_huge: \"true\"\n", 5, 12, "dpdk.no_huge",
			"expected a boolean (true/false)"},
		{PORTS "dpdk:\n  file_prefix: [a]\n", 5, 16, "dpdk.file_prefix",
			"expected a string, got a list"},
		{PORTS "dpdk:\n  log_level: ~\n", 5, 14, "dpdk.log_level",
			"expected a string, got an empty value"},
		{PORTS "dpdk:\n  args: [\"--in-memory\", 5, [x]]\n", 5, 28,
			"dpdk.args[2]", "expected a string, got a list"},
		{PORTS "dpdk:\n  args: --in-memory\n", 5, 9, "dpdk.args",
			"expected a list, got '--in-memory'"},
		{PORTS "icmp:\n  ttl_exceeded: maybe\n", 5, 17,
			"icmp.ttl_exceeded", "expected a boolean (true/false)"},
		{PORTS "pipeline:\n  filter_cache: abc\n", 5, 17,
			"pipeline.filter_cache",
			"expected an integer, got 'abc'"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_out_of_range(void)
{
	static const struct bad t[] = {
		{PORTS "dpdk:\n  memory_mb: -1\n", 5, 14, "dpdk.memory_mb",
			"out of range: -1 (expected 0..1048576)"},
		{PORTS "dpdk:\n  memory_mb: 99999999999999999999999\n", 5, 14,
			"dpdk.memory_mb",
			"out of range: 99999999999999999999999 (expected "
			"0..1048576)"},
		{PORTS "dpdk:\n  memory_mb: 18446744073709551616\n", 5, 14,
			"dpdk.memory_mb", "out of range"},
		{PORTS "mempool:\n  mbufs: 100\n", 5, 10, "mempool.mbufs",
			"out of range: 100 (expected 1023..16777215)"},
		{PORTS "mempool:\n  cache: 513\n", 5, 10, "mempool.cache",
			"(expected 0..512)"},
		{PORTS "mempool:\n  data_room: 512\n", 5, 14,
			"mempool.data_room", "(expected 1024..16384)"},
		{PORTS "    rx_queues: 17\n", 4, 16, "ports[0].rx_queues",
			"out of range: 17 (expected 1..16)"},
		{PORTS "    rx_desc: 1000\n", 4, 14, "ports[0].rx_desc",
			"must be a power of two, got 1000"},
		{PORTS "    tx_desc: 32\n", 4, 14, "ports[0].tx_desc",
			"out of range: 32 (expected 64..16384)"},
		{PORTS IFACE "    mtu: 9001\n", 8, 10, "interfaces[0].mtu",
			"(expected 68..9000)"},
		{PORTS "arp:\n  reachable_s: 0\n", 5, 16, "arp.reachable_s",
			"(expected 1..86400)"},
		{PORTS "arp:\n  retry_ms: 9\n", 5, 13, "arp.retry_ms",
			"(expected 10..60000)"},
		{PORTS "arp:\n  max_retries: 11\n", 5, 16, "arp.max_retries",
			"(expected 1..10)"},
		{PORTS "arp:\n  failed_hold_s: 3601\n", 5, 18,
			"arp.failed_hold_s", "(expected 0..3600)"},
		{PORTS "arp:\n  hold_packets: 17\n", 5, 17, "arp.hold_packets",
			"(expected 0..16)"},
		{PORTS "arp:\n  max_neighbors: 8\n", 5, 18, "arp.max_neighbors",
			"(expected 16..1048576)"},
		{PORTS "icmp:\n  rate: 1000001\n", 5, 9, "icmp.rate",
			"(expected 0..1000000)"},
		{PORTS "icmp:\n  burst: 0\n", 5, 10, "icmp.burst",
			"(expected 1..100000)"},
		{PORTS "pipeline:\n  burst: 65\n", 5, 10, "pipeline.burst",
			"(expected 1..64)"},
		{PORTS "pipeline:\n  ring_size: 100\n", 5, 14,
			"pipeline.ring_size",
			"must be a power of two, got 100"},
		{PORTS "pipeline:\n  ring_size: 32\n", 5, 14,
			"pipeline.ring_size", "(expected 64..65536)"},
		{PORTS "pipeline:\n  bypass_idle_stages: maybe\n", 5, 23,
			"pipeline.bypass_idle_stages", "expected"},
		{PORTS "pipeline:\n  filter_cache: -1\n", 5, 17,
			"pipeline.filter_cache",
			"out of range: -1 (expected 0..16777216)"},
		{PORTS "pipeline:\n  filter_cache: 16777217\n", 5, 17,
			"pipeline.filter_cache",
			"out of range: 16777217 (expected 0..16777216)"},
		{PORTS "pipeline:\n  idle_sleep_us: 100001\n", 5, 18,
			"pipeline.idle_sleep_us",
			"out of range: 100001 (expected 0..100000)"},
		{PORTS "limits:\n  max_routes: 0\n", 5, 15, "limits.max_routes",
			"(expected 1..16777216)"},
		{PORTS "limits:\n  lpm_tbl8: 70000\n", 5, 13, "limits.lpm_tbl8",
			"(expected 1..65536)"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_bad_dpdk_values(void)
{
	static const struct bad t[] = {
		{PORTS "dpdk:\n  lcores: 0-\n", 5, 11, "dpdk.lcores",
			"invalid lcore list '0-'"},
		{PORTS "dpdk:\n  lcores: 3-1\n", 5, 11, "dpdk.lcores",
			"a range must go upwards"},
		{PORTS "dpdk:\n  lcores: 0-128\n", 5, 11, "dpdk.lcores",
			"lcore ids must be below 128"},
		{PORTS "dpdk:\n  lcores: \"0,\"\n", 5, 11, "dpdk.lcores",
			"invalid lcore list '0,'"},
		{PORTS "dpdk:\n  lcores: \"(0-1)@0\"\n", 5, 11, "dpdk.lcores",
			"invalid lcore list"},
		{PORTS "dpdk:\n  file_prefix: a/b\n", 5, 16, "dpdk.file_prefix",
			"invalid file prefix 'a/b'"},
		{PORTS "dpdk:\n  file_prefix: ..\n", 5, 16, "dpdk.file_prefix",
			"invalid file prefix '..'"},
	};

	CHECK_BAD_TABLE(t);
}

/* ------------------------------------------------------ ports, names */

static void
test_config_rejects_bad_ports(void)
{
	static const struct bad t[] = {
		{"ports:\n  - name: p 0\n    device: net_null0\n", 2, 11,
			"ports[0].name", "invalid name 'p 0'"},
		{"ports:\n  - name: p/0\n    device: net_null0\n", 2, 11,
			"ports[0].name", "use 1..31 characters"},
		{"ports:\n  - name: \"\"\n    device: net_null0\n", 2, 11,
			"ports[0].name", "invalid name ''"},
		{"ports:\n  - name: abcdefghijklmnopqrstuvwxyz012345\n"
		 "    device: net_null0\n",
			2, 11, "ports[0].name", "invalid name"},
		{"ports:\n  - name: p0\n    device: eth0\n", 3, 13,
			"ports[0].device",
			"invalid device 'eth0': expected a PCI address"},
		{"ports:\n  - name: p0\n    device: crypto_aesni_mb0\n", 3, 13,
			"ports[0].device", "expected a PCI address"},
		{"ports:\n  - name: p0\n    device: net_\n", 3, 13,
			"ports[0].device", "the driver name after net_"},
		{"ports:\n  - name: p0\n    device: \"net_pcap 0\"\n", 3, 13,
			"ports[0].device", "the driver name after net_"},
		{"ports:\n  - name: p0\n    device: \",iface=x\"\n", 3, 13,
			"ports[0].device",
			"the driver name before ',' is empty"},
		{"ports:\n  - name: p0\n    device: \"0000:01:20.0\"\n", 3, 13,
			"ports[0].device", "expected a PCI address"},
		{PORTS "  - name: p0\n    device: net_null1\n", 4, 11,
			"ports[1].name",
			"duplicate port name 'p0' (first at line 2)"},
		{PORTS "  - name: p1\n    device: \"net_null0,x=1\"\n", 5, 13,
			"ports[1].device",
			"device 'net_null0' is already port 'p0'"},
	};
	char yaml[4096];
	int i, n = 0;
	struct bad b = {yaml, 0, 5, "ports[32]", "too many ports (at most 32)"};

	CHECK_BAD_TABLE(t);
	n += snprintf(yaml + n, sizeof(yaml) - n, "ports:\n");
	for (i = 0; i < 33; i++)
		n += snprintf(yaml + n, sizeof(yaml) - n,
			"  - {name: p%d, device: net_null%d}\n", i, i);
	b.line = 2 + 32; /* the 33rd item */
	b.col = 5;
	check_bad(&b, __LINE__);
}

/* ----------------------------------------------------------- interfaces */

#define PORTS2                                                                 \
	"ports:\n  - name: p0\n    device: net_null0\n"                        \
	"  - name: p1\n    device: net_null1\n"

static void
test_config_rejects_bad_interfaces(void)
{
	static const struct bad t[] = {
#define ADDR(a)                                                                \
	PORTS "interfaces:\n  - name: lan0\n    port: p0\n"                    \
	      "    address: " a "\n",                                          \
		7, 14, "interfaces[0].address"
		{ADDR("10.0.0.1"), "invalid address '10.0.0.1': expected "
				   "a.b.c.d/len with len 1..32"},
		{ADDR("10.0.0.1/0"), "invalid address"},
		{ADDR("10.0.0.1/33"), "invalid address"},
		{ADDR("10.0.0.1/024"), "invalid address"},
		{ADDR("10.0.0.256/24"), "invalid address"},
		{ADDR("10.0.0.01/24"), "invalid address"},
		{ADDR("10.0.0/24"), "invalid address"},
		{ADDR("10.0.0.1.1/24"), "invalid address"},
		{ADDR("10.0.0.0/24"), "'10.0.0.0/24' is the network address "
				      "of 10.0.0.0/24: use a host address"},
		{ADDR("10.0.0.255/24"), "is the broadcast address of "
					"10.0.0.0/24"},
		{ADDR("127.0.0.1/8"), "not a unicast host address"},
		{ADDR("224.0.0.1/24"), "not a unicast host address"},
		{ADDR("0.1.2.3/8"), "not a unicast host address"},
#undef ADDR
		{PORTS "interfaces:\n  - name: lan0\n    port: p9\n"
		       "    address: 10.0.0.1/24\n",
			6, 11, "interfaces[0].port",
			"unknown port 'p9' (ports: p0)"},
		{PORTS IFACE "  - name: lan1\n    port: p0\n"
			     "    address: 10.1.0.1/24\n",
			9, 11, "interfaces[1].port",
			"port 'p0' already has interface 'lan0'"},
		/* lines 6-12 after the two ports */
		{PORTS2 "interfaces:\n  - name: lan0\n    port: p0\n"
			"    address: 10.0.0.1/24\n  - name: lan0\n"
			"    port: p1\n    address: 10.1.0.1/24\n",
			10, 11, "interfaces[1].name",
			"duplicate interface name 'lan0' (first at line 7)"},
		{PORTS2 "interfaces:\n  - name: lan0\n    port: p0\n"
			"    address: 10.0.0.1/24\n  - name: wan0\n"
			"    port: p1\n    address: 10.0.0.129/25\n",
			12, 14, "interfaces[1].address",
			"subnet 10.0.0.128/25 overlaps 10.0.0.0/24 of "
			"interface 'lan0'"},
		{PORTS2 "interfaces:\n  - name: lan0\n    port: p0\n"
			"    address: 10.0.0.1/24\n  - name: wan0\n"
			"    port: p1\n    address: 10.0.0.1/8\n",
			12, 14, "interfaces[1].address",
			"subnet 10.0.0.0/8 overlaps 10.0.0.0/24"},
	};

	CHECK_BAD_TABLE(t);
}

/* ------------------------------------------------------------- routes */

static void
test_config_rejects_bad_routes(void)
{
	/* after PORTS IFACE: "routes:" is line 8, the item lines 9-11 with
	 * the prefix at 9:13, via at 10:10, interface at 11:16 */
#define ROUTE(p, v, i)                                                         \
	PORTS IFACE "routes:\n  - prefix: " p "\n    via: " v                  \
		    "\n    interface: " i "\n"
	/* one more route, lines 12-13 */
#define ROUTE2(p) "  - prefix: " p "\n    interface: lan0\n"
#define LIMIT1	  "limits:\n  max_routes: 1\n"
	static const struct bad t[] = {
		{ROUTE("10.0.0.1/8", "10.0.0.2", "lan0"), 9, 13,
			"routes[0].prefix",
			"host bits are set in '10.0.0.1/8': the prefix should "
			"be 10.0.0.0/8"},
		{ROUTE("16.1.2.3/0", "10.0.0.2", "lan0"), 9, 13,
			"routes[0].prefix", "the prefix should be 0.0.0.0/0"},
		{ROUTE("10.0.0.0/33", "10.0.0.2", "lan0"), 9, 13,
			"routes[0].prefix", "invalid prefix '10.0.0.0/33'"},
		{ROUTE("10.0.0.0", "10.0.0.2", "lan0"), 9, 13,
			"routes[0].prefix",
			"expected a.b.c.d/len with len 0..32"},
		{ROUTE("16.0.0.0/8", "10.1.0.2", "lan0"), 10, 10,
			"routes[0].via",
			"gateway 10.1.0.2 is not in 10.0.0.0/24, the subnet of "
			"interface 'lan0'"},
		{ROUTE("16.0.0.0/8", "10.0.0.1", "lan0"), 10, 10,
			"routes[0].via",
			"gateway 10.0.0.1 is the address of interface 'lan0' "
			"itself"},
		{ROUTE("16.0.0.0/8", "10.0.0.255", "lan0"), 10, 10,
			"routes[0].via",
			"gateway 10.0.0.255 is the broadcast address of "
			"10.0.0.0/24"},
		{ROUTE("16.0.0.0/8", "10.0.0", "lan0"), 10, 10, "routes[0].via",
			"invalid address '10.0.0': expected a.b.c.d"},
		{ROUTE("16.0.0.0/8", "255.255.255.255", "lan0"), 10, 10,
			"routes[0].via", "not a unicast host address"},
		{ROUTE("16.0.0.0/8", "10.0.0.2", "wan0"), 11, 16,
			"routes[0].interface",
			"unknown interface 'wan0' (interfaces: lan0)"},
		{ROUTE("16.0.0.0/8", "10.0.0.2", "lan0") ROUTE2("16.0.0.0/8"),
			12, 13, "routes[1].prefix",
			"duplicate route 16.0.0.0/8 (first at line 9)"},
		/* the routes list starts at the first item's '-' (9:3) */
		{ROUTE("16.0.0.0/8", "10.0.0.2", "lan0") ROUTE2("17.0.0.0/8")
				LIMIT1,
			9, 3, "routes",
			"2 routes are more than limits.max_routes (1)"},
	};
#undef ROUTE
#undef ROUTE2
#undef LIMIT1

	CHECK_BAD_TABLE(t);
}

/* ---------------------------------------------------------- neighbors */

static void
test_config_rejects_bad_neighbors(void)
{
	/* "neighbors:" is line 8; address at 9:14, mac at 10:10 */
#define NB(a, m)                                                               \
	PORTS IFACE "neighbors:\n  - address: " a "\n    mac: \"" m            \
		    "\"\n    interface: lan0\n"
	/* one more neighbor, lines 12-14 */
#define NB2                                                                    \
	"  - address: 10.0.0.2\n    mac: 02:00:00:00:00:03\n"                  \
	"    interface: lan0\n"
	static const struct bad t[] = {
		{NB("10.0.0.2", "ff:ff:ff:ff:ff:ff"), 10, 10,
			"neighbors[0].mac",
			"invalid MAC address 'ff:ff:ff:ff:ff:ff': a multicast "
			"or broadcast address"},
		{NB("10.0.0.2", "01:00:5e:00:00:01"), 10, 10,
			"neighbors[0].mac", "a multicast or broadcast address"},
		{NB("10.0.0.2", "00:00:00:00:00:00"), 10, 10,
			"neighbors[0].mac", "the zero address"},
		{NB("10.0.0.2", "02:00:00:00:00"), 10, 10, "neighbors[0].mac",
			"expected six hex pairs"},
		{NB("10.0.0.2", "02-00-00-00-00-02"), 10, 10,
			"neighbors[0].mac", "expected six hex pairs"},
		{NB("10.0.0.2", "02:00:00:00:00:0g"), 10, 10,
			"neighbors[0].mac", "expected six hex pairs"},
		{NB("10.0.0.2", "02:00:00:00:00:022"), 10, 10,
			"neighbors[0].mac", "expected six hex pairs"},
		{NB("10.1.0.2", "02:00:00:00:00:02"), 9, 14,
			"neighbors[0].address",
			"neighbor 10.1.0.2 is not in 10.0.0.0/24"},
		{NB("10.0.0.1", "02:00:00:00:00:02"), 9, 14,
			"neighbors[0].address",
			"neighbor 10.0.0.1 is the address of interface 'lan0' "
			"itself"},
		{NB("10.0.0.2/32", "02:00:00:00:00:02"), 9, 14,
			"neighbors[0].address",
			"invalid address '10.0.0.2/32'"},
		{NB("10.0.0.2", "02:00:00:00:00:02") NB2, 12, 14,
			"neighbors[1].address",
			"duplicate neighbor 10.0.0.2 (first at line 9)"},
		{PORTS IFACE "neighbors:\n  - address: 10.0.0.2\n"
			     "    mac: 02:00:00:00:00:02\n    interface: x\n",
			11, 16, "neighbors[0].interface",
			"unknown interface 'x' (interfaces: lan0)"},
	};
#undef NB
#undef NB2
	char yaml[8192];
	struct bad b = {yaml, 9, 3, "neighbors",
		"17 static neighbors are more than arp.max_neighbors (16)"};
	int i, n;

	CHECK_BAD_TABLE(t);
	n = snprintf(yaml, sizeof(yaml), PORTS IFACE "neighbors:\n");
	for (i = 0; i < 17; i++)
		n += snprintf(yaml + n, sizeof(yaml) - n,
			"  - {address: 10.0.0.%d, mac: \"02:00:00:00:00:%02x\","
			" interface: lan0}\n",
			i + 2, i + 2);
	snprintf(yaml + n, sizeof(yaml) - n, "arp:\n  max_neighbors: 16\n");
	check_bad(&b, __LINE__);
}

/* ------------------------------------------------------------ placement */

/* p0 has two rx queues. Line 7: "    - lcore: N" (value at 7:14),
 * line 8: ports (the list at 8:14), line 9: stages (the list at 9:15). */
#define PL(lcore, ports, stages)                                               \
	"ports:\n  - name: p0\n    device: net_null0\n    rx_queues: 2\n"      \
	"pipeline:\n  placement:\n    - lcore: " lcore "\n      ports: " ports \
	"\n      stages: " stages "\n"
#define ALL "[forward, filter, natfw, ipsec, localfilter]"
/* a second entry: lines 10-11, the stages list at 11:15 */
#define ENTRY2(lcore, stages)                                                  \
	"    - lcore: " lcore "\n      stages: " stages "\n"

static void
test_config_rejects_bad_placement(void)
{
	static const struct bad t[] = {
		/* "forward" 16, "filter" 25, "natfw" 33 */
		{PL("1", "[p0, \"p0:1\"]",
			 "[forward, filter, nat, ipsec, localfilter]"),
			9, 33, "pipeline.placement[0].stages[2]",
			"unknown stage 'nat' (stages: forward, filter, natfw, "
			"ipsec, localfilter)"},
		/* "p0" at 15, "\"p0:1\"" at 19, a third item at 27 */
		{PL("1", "[p0, \"p0:2\"]", ALL), 8, 19,
			"pipeline.placement[0].ports[1]",
			"port 'p0' has 2 rx queue(s): 0..1"},
		{PL("1", "[p0, \"p0:x\"]", ALL), 8, 19,
			"pipeline.placement[0].ports[1]",
			"expected PORT or PORT:QUEUE (like p0 or p0:1), got "
			"'p0:x'"},
		{PL("1", "[p0, \":1\"]", ALL), 8, 19,
			"pipeline.placement[0].ports[1]",
			"expected PORT or PORT:QUEUE"},
		{PL("1", "[px, \"p0:1\"]", ALL), 8, 15,
			"pipeline.placement[0].ports[0]",
			"unknown port 'px' (ports: p0)"},
		{PL("1", "[p0]", ALL), 7, 5, "pipeline.placement",
			"rx queue p0:1 is polled by no lcore"},
		{PL("1", "[p0, \"p0:1\", \"p0:0\"]", ALL), 8, 27,
			"pipeline.placement[0].ports[2]",
			"rx queue p0:0 is already polled by lcore 1 (line 8)"},
		{PL("1", "[p0, \"p0:1\"]", "[forward, filter, natfw, ipsec]"),
			7, 5, "pipeline.placement",
			"stage 'localfilter' runs on no lcore"},
		{PL("1", "[p0, \"p0:1\"]",
			 "[forward, filter, natfw, ipsec, localfilter, "
			 "filter]"),
			9, 60, "pipeline.placement[0].stages[5]",
			"stage 'filter' is listed twice"},
		{PL("1", "[p0, \"p0:1\"]", ALL) ENTRY2("2", "[forward]"), 11,
			16, "pipeline.placement[1].stages[0]",
			"stage 'forward' already runs on lcore 1"},
		{PL("1", "[p0, \"p0:1\"]", "[forward, filter]")
				ENTRY2("1", "[natfw, ipsec, localfilter]"),
			10, 14, "pipeline.placement[1].lcore",
			"lcore 1 is already placed (line 7)"},
		{PL("2", "[p0, \"p0:1\"]", ALL) "dpdk:\n  lcores: \"0-1\"\n", 7,
			14, "pipeline.placement[0].lcore",
			"lcore 2 is not in dpdk.lcores '0-1'"},
		{PL("0", "[p0, \"p0:1\"]", ALL) "dpdk:\n  lcores: \"0-1\"\n", 7,
			14, "pipeline.placement[0].lcore",
			"lcore 0 is the main lcore (the first of dpdk.lcores "
			"'0-1')"},
		{PL("2", "[p0, \"p0:1\"]", ALL) "dpdk:\n  lcores: \"3,2,5\"\n",
			7, 14, "pipeline.placement[0].lcore",
			"lcore 2 is the main lcore"},
		{PL("128", "[p0, \"p0:1\"]", ALL), 7, 14,
			"pipeline.placement[0].lcore",
			"out of range: 128 (expected 0..127)"},
		{PL("1", "p0", ALL), 8, 14, "pipeline.placement[0].ports",
			"expected a list, got 'p0'"},
		{"ports:\n  - name: p0\n    device: net_null0\n"
		 "pipeline:\n  placement: []\n",
			5, 14, "pipeline.placement",
			"expected at least one entry (leave placement out"},
		{"ports:\n  - name: p0\n    device: net_null0\n"
		 "pipeline:\n  placement:\n    - ports: [p0]\n"
		 "      stages: " ALL "\n",
			6, 7, "pipeline.placement[0]",
			"missing required key 'lcore'"},
		{"ports:\n  - name: p0\n    device: net_null0\n"
		 "pipeline:\n  placement:\n    - lcore: 1\n"
		 "      ports: [p0]\n      stages: " ALL "\n"
		 "    - lcore: 2\n",
			9, 7, "pipeline.placement[1]",
			"an entry needs ports or stages"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_too_many_rx_queues_per_lcore(void)
{
	char yaml[4096];
	struct tg_config *cfg = NULL;
	int k, q, n = 0;

	/* lines 2-10: three ports of 16 queues; 11-15: pipeline, placement,
	 * lcore, stages, "ports:"; the 48 queues from line 16, values at
	 * column 11 */
	n += snprintf(yaml + n, sizeof(yaml) - n, "ports:\n");
	for (k = 0; k < 3; k++)
		n += snprintf(yaml + n, sizeof(yaml) - n,
			"  - name: p%d\n    device: net_null%d\n"
			"    rx_queues: 16\n",
			k, k);
	n += snprintf(yaml + n, sizeof(yaml) - n,
		"pipeline:\n  placement:\n    - lcore: 1\n"
		"      stages: " ALL "\n      ports:\n");
	for (k = 0; k < 3; k++)
		for (q = 0; q < 16; q++)
			n += snprintf(yaml + n, sizeof(yaml) - n,
				"        - \"p%d:%d\"\n", k, q);
	CU_ASSERT_EQUAL(tg_config_parse("t.yaml", yaml, (size_t)n, &cfg, &errs),
		-EINVAL);
	CU_ASSERT_EQUAL(errs.n, 48 - TG_MAX_PORTS);
	CU_ASSERT_EQUAL(errs.e[0].line, 16 + TG_MAX_PORTS);
	CU_ASSERT_EQUAL(errs.e[0].col, 11);
	CU_ASSERT_STRING_EQUAL(
		errs.e[0].path, "pipeline.placement[0].ports[32]");
	CU_ASSERT_STRING_EQUAL(
		errs.e[0].msg, "too many rx queues on one lcore (at most 32)");
}

/* ------------------------------------------------------ error handling */

static void
test_config_collects_all_errors(void)
{
	/* one error per section, reported in file order */
	const char *yaml = "routes:\n  - prefix: 10.0.0.1/8\n"
			   "    interface: lan0\n" PORTS "    rx_desc: 100\n"
			   "dpdk:\n  memory_mb: x\n" IFACE;
	struct tg_config *cfg = NULL;
	char *out;

	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs),
		-EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(errs.n, 3);
	out = printed();
	CU_ASSERT_STRING_EQUAL(out,
		"t.yaml:2:13: routes[0].prefix: host bits are set in "
		"'10.0.0.1/8': the prefix should be 10.0.0.0/8\n"
		"t.yaml:7:14: ports[0].rx_desc: must be a power of two, got "
		"100\n"
		"t.yaml:9:14: dpdk.memory_mb: expected an integer, got "
		"'x'\n");
}

static void
test_config_counts_errors_beyond_the_stored(void)
{
	size_t len = 100 * 64 + 256, n, i;
	char *yaml = malloc(len), *out;
	struct tg_config *cfg = NULL;

	CU_ASSERT_FATAL(yaml != NULL);
	n = (size_t)snprintf(yaml, len, PORTS IFACE "routes:\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(yaml + n, len - n,
			"  - {prefix: 10.0.%zu.1/24, interface: lan0}\n", i);
	CU_ASSERT_EQUAL(tg_config_parse(NULL, yaml, n, &cfg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(tg_config_parse(NULL, yaml, n, &cfg, &errs), -EINVAL);
	CU_ASSERT_EQUAL(errs.n, 100);
	CU_ASSERT_STRING_EQUAL(errs.file, "<string>");
	CU_ASSERT_EQUAL(
		errs.e[TG_CFG_MAX_ERRORS - 1].line, 9 + TG_CFG_MAX_ERRORS - 1);
	/* one line per stored error */
	out = printed();
	for (i = 0; *out != '\0'; i++)
		out = strchr(out, '\n') + 1;
	CU_ASSERT_EQUAL(i, TG_CFG_MAX_ERRORS);
	free(yaml);
}

static void
test_config_error_format(void)
{
	char buf[256];

	memset(&errs, 0, sizeof(errs));
	strcpy(errs.file, "f.yaml");
	errs.n = 3;
	errs.e[0] = (struct tg_cfg_error){3, 7, "routes[3].via", "bad"};
	errs.e[1] = (struct tg_cfg_error){1, 1, "", "empty"};
	errs.e[2] = (struct tg_cfg_error){0, 0, "", "cannot read: x"};
	CU_ASSERT_EQUAL(tg_cfg_error_format(&errs, 0, buf, sizeof(buf)),
		(int)strlen("f.yaml:3:7: routes[3].via: bad"));
	CU_ASSERT_STRING_EQUAL(buf, "f.yaml:3:7: routes[3].via: bad");
	tg_cfg_error_format(&errs, 1, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "f.yaml:1:1: empty");
	tg_cfg_error_format(&errs, 2, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "f.yaml: cannot read: x");
	CU_ASSERT_EQUAL(
		tg_cfg_error_format(&errs, 3, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(
		tg_cfg_error_format(NULL, 0, buf, sizeof(buf)), -EINVAL);
	/* truncation, as snprintf */
	CU_ASSERT_EQUAL(tg_cfg_error_format(&errs, 1, buf, 5), 17);
	CU_ASSERT_STRING_EQUAL(buf, "f.ya");
	CU_ASSERT_STRING_EQUAL(printed(),
		"f.yaml:3:7: routes[3].via: bad\nf.yaml:1:1: empty\n"
		"f.yaml: cannot read: x\n");
}

static void
test_config_unreadable_file(void)
{
	struct tg_config *cfg = (struct tg_config *)&cfg;
	const char *missing = "test/unit/configs/does-not-exist.yaml";

	CU_ASSERT_EQUAL(tg_config_load(missing, &cfg, &errs), -ENOENT);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT_EQUAL(errs.e[0].line, 0);
	CU_ASSERT_EQUAL(errs.e[0].col, 0);
	CU_ASSERT_STRING_EQUAL(
		errs.e[0].msg, "cannot read: No such file or directory");
	CU_ASSERT_STRING_EQUAL(printed(),
		"test/unit/configs/does-not-exist.yaml: cannot read: No such "
		"file or directory\n");
	CU_ASSERT_EQUAL(tg_config_load("config", &cfg, &errs), -EISDIR);
	CU_ASSERT_STRING_EQUAL(errs.e[0].msg, "cannot read: Is a directory");
	CU_ASSERT_EQUAL(tg_config_load(missing, &cfg, NULL), -ENOENT);
	CU_ASSERT_EQUAL(tg_config_load(NULL, &cfg, &errs), -EINVAL);
}

static void
test_config_load_reports_the_file(void)
{
	char path[] = "/tmp/tg-test-config-XXXXXX";
	const char *yaml = PORTS "dpdk:\n  no_huge: maybe\n";
	struct tg_config *cfg = NULL;
	char expect[256];
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, yaml, strlen(yaml)) == (ssize_t)strlen(yaml));
	close(fd);
	CU_ASSERT_EQUAL(tg_config_load(path, &cfg, &errs), -EINVAL);
	snprintf(expect, sizeof(expect),
		"%s:5:12: dpdk.no_huge: expected a boolean (true/false), got "
		"'maybe'\n",
		path);
	CU_ASSERT_STRING_EQUAL(printed(), expect);
	unlink(path);
}

static void
test_config_rejects_huge_input(void)
{
	size_t len = (64u << 20) + 1;
	char *big = malloc(len);
	struct tg_config *cfg = NULL;

	CU_ASSERT_FATAL(big != NULL);
	memset(big, ' ', len);
	CU_ASSERT_EQUAL(tg_config_parse("big", big, len, &cfg, &errs), -EINVAL);
	CU_ASSERT_EQUAL(errs.n, 1);
	CU_ASSERT_EQUAL(errs.e[0].line, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(errs.e[0].msg, "too large"));
	free(big);
}

/* ---------------------------------------------------------- good input */

static void
test_config_loads_demo_example(void)
{
	struct tg_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/demo.yaml", &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(cfg->file, "config/demo.yaml");
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.lcores, "0-1");
	CU_ASSERT_EQUAL(cfg->dpdk.memory_mb, 512);
	CU_ASSERT_TRUE(cfg->dpdk.no_huge);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.file_prefix, "tg-demo");
	CU_ASSERT_EQUAL(cfg->mempool.mbufs, 8191);
	CU_ASSERT_EQUAL(cfg->n_ports, 2);
	CU_ASSERT_STRING_EQUAL(cfg->ports[0].name, "lan");
	CU_ASSERT_STRING_EQUAL(cfg->ports[0].device, "net_tap0,iface=tg-lan");
	CU_ASSERT_FALSE(cfg->ports[0].is_pci);
	CU_ASSERT_EQUAL(cfg->ports[0].pos.line, 21);
	CU_ASSERT_EQUAL(cfg->ports[0].pos.col, 5);
	CU_ASSERT_STRING_EQUAL(cfg->ports[1].device, "net_tap1,iface=tg-wan");
	CU_ASSERT_EQUAL(cfg->n_ifaces, 2);
	CU_ASSERT_STRING_EQUAL(cfg->ifaces[0].name, "lan0");
	CU_ASSERT_EQUAL(cfg->ifaces[0].port, 0);
	CU_ASSERT_EQUAL(cfg->ifaces[0].addr, 0xc0a80a01); /* 192.168.10.1 */
	CU_ASSERT_EQUAL(cfg->ifaces[0].prefix_len, 24);
	CU_ASSERT_EQUAL(cfg->ifaces[0].mtu, 1500);
	CU_ASSERT_EQUAL(cfg->ifaces[1].port, 1);
	CU_ASSERT_EQUAL(cfg->ifaces[1].addr, 0xcb007101); /* 203.0.113.1 */
	CU_ASSERT_EQUAL(cfg->n_routes, 1);
	CU_ASSERT_EQUAL(cfg->routes[0].prefix, 0xc6336400); /* 198.51.100.0 */
	CU_ASSERT_EQUAL(cfg->routes[0].len, 24);
	CU_ASSERT_EQUAL(cfg->routes[0].via, 0xcb007102);
	CU_ASSERT_EQUAL(cfg->routes[0].iface, 1);
	CU_ASSERT_EQUAL(cfg->routes[0].pos.line, 49);
	/* lan0's inbound filter list */
	CU_ASSERT_TRUE(cfg->ifaces[0].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_OUT].set);
	CU_ASSERT_FALSE(cfg->ifaces[1].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_EQUAL(cfg->ifaces[0].filters[TG_CFG_FILTER_IN].mode,
		TG_CFG_FILTER_DENY_LISTED);
	CU_ASSERT_EQUAL_FATAL(
		cfg->ifaces[0].filters[TG_CFG_FILTER_IN].n_rules, 2);
	CU_ASSERT_STRING_EQUAL(
		cfg->ifaces[0].filters[TG_CFG_FILTER_IN].rules[0].name,
		"no-8081");
	CU_ASSERT_EQUAL(
		cfg->ifaces[0].filters[TG_CFG_FILTER_IN].rules[0].pos.line, 37);
	CU_ASSERT_EQUAL(
		cfg->ifaces[0].filters[TG_CFG_FILTER_IN].rules[0].dport_lo,
		8081);
	CU_ASSERT_EQUAL(
		cfg->ifaces[0].filters[TG_CFG_FILTER_IN].rules[0].action,
		TG_CFG_FILTER_DENY);
	CU_ASSERT_EQUAL(cfg->n_neighbors, 0);
	CU_ASSERT_PTR_NULL(cfg->neighbors);
	CU_ASSERT_EQUAL(cfg->icmp.rate, 100);
	CU_ASSERT_EQUAL(cfg->pipeline.n_placement, 0);
	/* the host port, in a namespace of its own */
	CU_ASSERT_TRUE(cfg->host.enabled);
	CU_ASSERT_FALSE(cfg->host.tap);
	CU_ASSERT_STRING_EQUAL(cfg->host.netns, "tg-host");
	CU_ASSERT_TRUE(cfg->host.default_route);
	tg_config_free(cfg);
}

static void
test_config_loads_pcap_example(void)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 1, 2};
	struct tg_config *cfg = NULL;
	const struct tg_cfg_placement *p;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.lcores, "0-1");
	CU_ASSERT_EQUAL(cfg->dpdk.memory_mb, 256);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.file_prefix, "tg-pcap");
	CU_ASSERT_EQUAL(cfg->mempool.mbufs, 4095);
	CU_ASSERT_EQUAL(cfg->mempool.cache, 128);
	CU_ASSERT_EQUAL(cfg->n_ports, 2);
	CU_ASSERT_STRING_EQUAL(cfg->ports[1].device, "net_null1");
	CU_ASSERT_EQUAL(cfg->ifaces[1].addr, 0x0a010001);
	CU_ASSERT_EQUAL(cfg->n_routes, 2);
	CU_ASSERT_EQUAL(cfg->routes[0].prefix, 0x10000000);
	CU_ASSERT_EQUAL(cfg->routes[0].len, 8);
	CU_ASSERT_EQUAL(cfg->routes[0].via, 0x0a010002);
	CU_ASSERT_EQUAL(cfg->routes[0].iface, 1);
	CU_ASSERT_EQUAL(cfg->routes[1].prefix, 0x30000000);
	CU_ASSERT_EQUAL(cfg->routes[1].iface, 0);
	CU_ASSERT_EQUAL(cfg->n_neighbors, 2);
	CU_ASSERT_EQUAL(cfg->neighbors[0].addr, 0x0a010002);
	CU_ASSERT_EQUAL(memcmp(cfg->neighbors[0].mac, mac, 6), 0);
	CU_ASSERT_EQUAL(cfg->neighbors[0].iface, 1);
	CU_ASSERT_EQUAL(cfg->neighbors[1].iface, 0);
	CU_ASSERT_EQUAL(cfg->neighbors[1].pos.line, 40);
	CU_ASSERT_EQUAL(cfg->pipeline.burst, 32);
	CU_ASSERT_EQUAL(cfg->pipeline.ring_size, 1024);
	CU_ASSERT_TRUE(cfg->pipeline.bypass_idle_stages);
	CU_ASSERT_EQUAL_FATAL(cfg->pipeline.n_placement, 1);
	p = &cfg->pipeline.placement[0];
	CU_ASSERT_EQUAL(p->lcore, 1);
	CU_ASSERT_EQUAL(p->stage_mask, (1u << TG_CFG_N_STAGES) - 1);
	CU_ASSERT_EQUAL(p->n_rxq, 2);
	CU_ASSERT_EQUAL(p->rxq_port[0], 0);
	CU_ASSERT_EQUAL(p->rxq_queue[0], 0);
	CU_ASSERT_EQUAL(p->rxq_port[1], 1);
	CU_ASSERT_EQUAL(p->rxq_queue[1], 0);
	CU_ASSERT_EQUAL(p->pos.line, 48);
	CU_ASSERT_EQUAL(p->pos.col, 7);
	CU_ASSERT_EQUAL(tg_config_port_find(cfg, "p1"), 1);
	CU_ASSERT_EQUAL(tg_config_port_find(cfg, "p"), -1);
	CU_ASSERT_EQUAL(tg_config_port_find(cfg, "p10"), -1);
	CU_ASSERT_EQUAL(tg_config_iface_find(cfg, "wan0"), 1);
	CU_ASSERT_EQUAL(tg_config_iface_find(cfg, "lan"), -1);
	CU_ASSERT_EQUAL(tg_config_iface_find(NULL, "lan0"), -1);
	CU_ASSERT_EQUAL(tg_config_port_find(cfg, NULL), -1);
	tg_config_free(cfg);
}

static void
test_config_defaults(void)
{
	struct tg_config *cfg = parse_ok(PORTS);

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_STRING_EQUAL(cfg->file, "t.yaml");
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.lcores, "");
	CU_ASSERT_EQUAL(cfg->dpdk.memory_mb, 0);
	CU_ASSERT_FALSE(cfg->dpdk.no_huge);
	CU_ASSERT_EQUAL(cfg->dpdk.n_extra, 0);
	CU_ASSERT_EQUAL(cfg->mempool.mbufs, 8191);
	CU_ASSERT_EQUAL(cfg->mempool.cache, 256);
	CU_ASSERT_EQUAL(cfg->mempool.data_room, 2176);
	CU_ASSERT_EQUAL(cfg->ports[0].rx_queues, 1);
	CU_ASSERT_EQUAL(cfg->ports[0].rx_desc, 1024);
	CU_ASSERT_EQUAL(cfg->ports[0].tx_desc, 1024);
	CU_ASSERT_EQUAL(cfg->ports[0].pos.line, 2);
	CU_ASSERT_EQUAL(cfg->ports[0].pos.col, 5);
	CU_ASSERT_EQUAL(cfg->arp.reachable_s, 300);
	CU_ASSERT_EQUAL(cfg->arp.retry_ms, 1000);
	CU_ASSERT_EQUAL(cfg->arp.max_retries, 3);
	CU_ASSERT_EQUAL(cfg->arp.failed_hold_s, 3);
	CU_ASSERT_EQUAL(cfg->arp.hold_packets, 4);
	CU_ASSERT_EQUAL(cfg->arp.max_neighbors, 4096);
	CU_ASSERT_TRUE(cfg->icmp.ttl_exceeded);
	CU_ASSERT_TRUE(cfg->icmp.unreachable);
	CU_ASSERT_EQUAL(cfg->icmp.rate, 100);
	CU_ASSERT_EQUAL(cfg->icmp.burst, 50);
	CU_ASSERT_EQUAL(cfg->pipeline.burst, 32);
	CU_ASSERT_EQUAL(cfg->pipeline.ring_size, 1024);
	CU_ASSERT_EQUAL(cfg->pipeline.filter_cache, 49152);
	CU_ASSERT_EQUAL(cfg->pipeline.idle_sleep_us, 0);
	CU_ASSERT_EQUAL(cfg->pipeline.n_placement, 0);
	CU_ASSERT_EQUAL(cfg->limits.max_routes, 1024);
	CU_ASSERT_EQUAL(cfg->limits.lpm_tbl8, 256);
	CU_ASSERT_EQUAL(cfg->n_ifaces, 0);
	CU_ASSERT_EQUAL(cfg->n_routes, 0);
	CU_ASSERT_PTR_NULL(cfg->routes);
	tg_config_free(cfg);
	tg_config_free(NULL);
}

/* pipeline.filter_cache: 0 (no cache) up to 16777216 entries, as given
 * (the filter stage rounds it up to whole buckets). */
static void
test_config_pipeline_filter_cache(void)
{
	static const struct {
		const char *yaml;
		uint32_t want;
	} t[] = {
		{PORTS "pipeline: {filter_cache: 0}\n", 0},
		{PORTS "pipeline: {filter_cache: 1000}\n", 1000},
		{PORTS "pipeline:\n  filter_cache: 1\n", 1},
		{PORTS "pipeline:\n  filter_cache: 16777216\n", 16777216},
		{PORTS "pipeline: {burst: 16}\n", 49152},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tg_config *cfg = parse_ok(t[i].yaml);

		CU_ASSERT_FATAL(cfg != NULL);
		CU_ASSERT_EQUAL(cfg->pipeline.filter_cache, t[i].want);
		tg_config_free(cfg);
	}
}

/* Every key, none at its default. */
static const char full_yaml[] =
	"dpdk:\n"
	"  lcores: \"0,2-3,127\"\n"
	"  memory_mb: 1024\n"
	"  no_huge: yes\n"
	"  file_prefix: tg.x-1\n"
	"  log_level: \"lib.eal:debug\"\n"
	"  args: [\"--in-memory\", \"-n\", \"4\"]\n"
	"mempool: {mbufs: 1023, cache: 512, data_room: 16384}\n"
	"ports:\n"
	"  - name: lan_1\n"
	"    device: \"0000:01:00.0,rxq_cqe_comp_en=1\"\n"
	"    rx_queues: 2\n"
	"    rx_desc: 64\n"
	"    tx_desc: 16384\n"
	"  - {name: wan-2, device: \"02:00.1\"}\n"
	"  - {name: p3, device: \"net_pcap0,rx_pcap=in.pcap,tx_pcap=o.pcap\"}\n"
	"interfaces:\n"
	"  - {name: lan, port: lan_1, address: 10.0.0.1/31, mtu: 9000}\n"
	"  - {name: wan, port: wan-2, address: 192.0.2.7/32, mtu: 68}\n"
	"  - {name: p3, port: p3, address: 10.0.0.2/31, filters: {inbound: "
	"{mode: allow-listed, rules: [{name: ssh, protocol: tcp, src: "
	"10.0.0.0/8, dst_port: \"22-23\", established: true}, {name: ping, "
	"action: deny, protocol: icmp, dst: 192.0.2.1, icmp_type: 8, "
	"icmp_code: 0}]}, outbound: {mode: deny-listed, rules: [{name: dns, "
	"action: allow, protocol: udp, src_port: 53}]}}}\n"
	"routes:\n"
	"  - {prefix: 0.0.0.0/0, via: 10.0.0.0, interface: lan}\n"
	"  - {prefix: 1.2.3.4/32, interface: wan}\n"
	"  - {prefix: 1.2.3.4/31, interface: wan}\n"
	"neighbors:\n"
	"  - {address: 10.0.0.0, mac: \"02:AB:cd:00:00:01\", interface: lan}\n"
	"arp:\n"
	"  reachable_s: 86400\n"
	"  retry_ms: 10\n"
	"  max_retries: 10\n"
	"  failed_hold_s: 0\n"
	"  hold_packets: 16\n"
	"  max_neighbors: 16\n"
	"icmp: {ttl_exceeded: false, unreachable: No, rate: 0, burst: 100000}\n"
	"pipeline:\n"
	"  burst: 64\n"
	"  ring_size: 65536\n"
	"  filter_cache: 0\n"
	"  placement:\n"
	"    - lcore: 2\n"
	"      ports: [\"lan_1:1\", wan-2]\n"
	"      stages: [localfilter, forward]\n"
	"    - lcore: 3\n"
	"      ports: [p3, \"lan_1:0\"]\n"
	"    - lcore: 127\n"
	"      stages: [natfw, filter, ipsec]\n"
	"limits: {max_routes: 16777216, lpm_tbl8: 65536}\n"
	"local_filter:\n"
	"  enabled: false\n"
	"  protocols: [tcp, udp, 47]\n"
	"  tcp_ports: [22, \"8000-8080\"]\n"
	"  udp_ports: all\n"
	"  interfaces:\n"
	"    - {interface: wan, udp_ports: [53]}\n";

static void
test_config_reads_every_key(void)
{
	struct tg_config *cfg = parse_ok(full_yaml);
	const struct tg_cfg_placement *p;

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.lcores, "0,2-3,127");
	CU_ASSERT_EQUAL(cfg->dpdk.memory_mb, 1024);
	CU_ASSERT_TRUE(cfg->dpdk.no_huge);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.file_prefix, "tg.x-1");
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.log_level, "lib.eal:debug");
	CU_ASSERT_EQUAL(cfg->dpdk.n_extra, 3);
	CU_ASSERT_STRING_EQUAL(cfg->dpdk.extra[2], "4");
	CU_ASSERT_EQUAL(cfg->mempool.mbufs, 1023);
	CU_ASSERT_EQUAL(cfg->mempool.cache, 512);
	CU_ASSERT_EQUAL(cfg->mempool.data_room, 16384);
	CU_ASSERT_EQUAL(cfg->n_ports, 3);
	CU_ASSERT_TRUE(cfg->ports[0].is_pci);
	CU_ASSERT_TRUE(cfg->ports[1].is_pci);
	CU_ASSERT_FALSE(cfg->ports[2].is_pci);
	CU_ASSERT_EQUAL(cfg->ports[0].rx_queues, 2);
	CU_ASSERT_EQUAL(cfg->ports[0].rx_desc, 64);
	CU_ASSERT_EQUAL(cfg->ports[0].tx_desc, 16384);
	CU_ASSERT_EQUAL(cfg->ifaces[0].prefix_len, 31);
	CU_ASSERT_EQUAL(cfg->ifaces[0].mtu, 9000);
	CU_ASSERT_EQUAL(cfg->ifaces[1].addr, 0xc0000207);
	CU_ASSERT_EQUAL(cfg->ifaces[1].prefix_len, 32);
	CU_ASSERT_EQUAL(cfg->ifaces[1].mtu, 68);
	CU_ASSERT_EQUAL(cfg->ifaces[2].port, 2);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_TRUE(cfg->ifaces[2].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_EQUAL_FATAL(
		cfg->ifaces[2].filters[TG_CFG_FILTER_IN].n_rules, 2);
	CU_ASSERT_EQUAL(
		cfg->ifaces[2].filters[TG_CFG_FILTER_IN].rules[0].dport_hi, 23);
	CU_ASSERT_EQUAL(cfg->ifaces[2].filters[TG_CFG_FILTER_IN].rules[1].dst,
		0xc0000201);
	CU_ASSERT_EQUAL_FATAL(
		cfg->ifaces[2].filters[TG_CFG_FILTER_OUT].n_rules, 1);
	CU_ASSERT_EQUAL(
		cfg->ifaces[2].filters[TG_CFG_FILTER_OUT].rules[0].sport_lo,
		53);
	CU_ASSERT_EQUAL(cfg->n_routes, 3);
	CU_ASSERT_EQUAL(cfg->routes[0].prefix, 0);
	CU_ASSERT_EQUAL(cfg->routes[0].len, 0);
	CU_ASSERT_EQUAL(cfg->routes[0].via, 0x0a000000); /* /31 peer */
	CU_ASSERT_EQUAL(cfg->routes[1].via, 0);
	CU_ASSERT_EQUAL(cfg->routes[1].iface, 1);
	CU_ASSERT_EQUAL(cfg->routes[2].len, 31);
	CU_ASSERT_EQUAL(cfg->neighbors[0].mac[1], 0xab);
	CU_ASSERT_EQUAL(cfg->neighbors[0].mac[2], 0xcd);
	CU_ASSERT_EQUAL(cfg->arp.reachable_s, 86400);
	CU_ASSERT_EQUAL(cfg->arp.retry_ms, 10);
	CU_ASSERT_EQUAL(cfg->arp.max_retries, 10);
	CU_ASSERT_EQUAL(cfg->arp.failed_hold_s, 0);
	CU_ASSERT_EQUAL(cfg->arp.hold_packets, 16);
	CU_ASSERT_EQUAL(cfg->arp.max_neighbors, 16);
	CU_ASSERT_FALSE(cfg->icmp.ttl_exceeded);
	CU_ASSERT_FALSE(cfg->icmp.unreachable);
	CU_ASSERT_EQUAL(cfg->icmp.rate, 0);
	CU_ASSERT_EQUAL(cfg->icmp.burst, 100000);
	CU_ASSERT_EQUAL(cfg->pipeline.burst, 64);
	CU_ASSERT_EQUAL(cfg->pipeline.ring_size, 65536);
	CU_ASSERT_EQUAL(cfg->pipeline.filter_cache, 0);
	CU_ASSERT_EQUAL_FATAL(cfg->pipeline.n_placement, 3);
	p = cfg->pipeline.placement;
	CU_ASSERT_EQUAL(p[0].lcore, 2);
	CU_ASSERT_EQUAL(p[0].stage_mask, (1u << 4) | (1u << 0));
	CU_ASSERT_EQUAL(p[0].n_rxq, 2);
	CU_ASSERT_EQUAL(p[0].rxq_port[0], 0);
	CU_ASSERT_EQUAL(p[0].rxq_queue[0], 1);
	CU_ASSERT_EQUAL(p[0].rxq_port[1], 1);
	CU_ASSERT_EQUAL(p[1].stage_mask, 0);
	CU_ASSERT_EQUAL(p[1].rxq_port[0], 2);
	CU_ASSERT_EQUAL(p[1].rxq_queue[1], 0);
	CU_ASSERT_EQUAL(p[2].lcore, 127);
	CU_ASSERT_EQUAL(p[2].stage_mask, (1u << 2) | (1u << 1) | (1u << 3));
	CU_ASSERT_EQUAL(p[2].n_rxq, 0);
	CU_ASSERT_EQUAL(cfg->limits.max_routes, 16777216);
	CU_ASSERT_EQUAL(cfg->limits.lpm_tbl8, 65536);
	CU_ASSERT_STRING_EQUAL(tg_cfg_stage_names[0], "forward");
	CU_ASSERT_STRING_EQUAL(tg_cfg_stage_names[4], "localfilter");
	CU_ASSERT_FALSE(cfg->local_filter.enabled);
	CU_ASSERT_EQUAL(cfg->local_filter.global.protocols.n, 3);
	CU_ASSERT_EQUAL(cfg->local_filter.global.tcp_ports.r[1].hi, 8080);
	CU_ASSERT_TRUE(cfg->local_filter.global.udp_ports.all);
	CU_ASSERT_EQUAL_FATAL(cfg->local_filter.n_overrides, 1);
	CU_ASSERT_EQUAL(cfg->local_filter.overrides[0].iface, 1);
	CU_ASSERT_EQUAL(
		cfg->local_filter.overrides[0].rules.udp_ports.r[0].lo, 53);
	tg_config_free(cfg);
}

/* 100,000 routes: linear parsing, O(n log n) duplicate detection. */
static void
test_config_parses_100k_routes(void)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 80 + 512, n, i;
	char *yaml = malloc(cap);
	struct tg_config *cfg = NULL;
	int rc;

	CU_ASSERT_FATAL(yaml != NULL);
	/* routes start at line 11, three lines each */
	n = (size_t)snprintf(yaml, cap,
		PORTS IFACE "limits:\n  max_routes: 200000\nroutes:\n");
	for (i = 0; i < N; i++)
		n += (size_t)snprintf(yaml + n, cap - n,
			"  - prefix: %zu.%zu.%zu.0/24\n    via: 10.0.0.2\n"
			"    interface: lan0\n",
			1 + (i >> 16), (i >> 8) & 0xff, i & 0xff);
	rc = tg_config_parse("big", yaml, n, &cfg, &errs);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->n_routes, N);
	CU_ASSERT_EQUAL(cfg->routes[N - 1].prefix,
		(uint32_t)(1 + ((N - 1) >> 16)) << 24 | ((N - 1) & 0xffff)
								<< 8);
	CU_ASSERT_EQUAL(cfg->routes[N - 1].pos.line, 11 + 3 * (N - 1));
	tg_config_free(cfg);

	/* one duplicate of the first route, at the very end */
	n += (size_t)snprintf(yaml + n, cap - n,
		"  - prefix: 1.0.0.0/24\n    interface: lan0\n");
	rc = tg_config_parse("big", yaml, n, &cfg, &errs);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	CU_ASSERT_EQUAL(errs.e[0].line, 11 + 3 * N);
	CU_ASSERT_EQUAL(errs.e[0].col, 13);
	CU_ASSERT_STRING_EQUAL(errs.e[0].path, "routes[100000].prefix");
	CU_ASSERT_STRING_EQUAL(
		errs.e[0].msg, "duplicate route 1.0.0.0/24 (first at line 11)");
	free(yaml);
}

/* Any prefix or corruption of a valid file: 0, or -EINVAL with errors. */
static void
test_config_truncated_or_corrupt_input_never_crashes(void)
{
	static const char bytes[] = {'\0', ':', '[', '{', '&', '*', '-', '\t',
		'"', '\n', ' ', '\xff', '9', '#'};
	unsigned int good;

	CU_ASSERT_EQUAL(
		tg_test_cfg_mangle(full_yaml, 0, bytes, sizeof(bytes), &good),
		0);
	CU_ASSERT_TRUE(good > 0 && good < strlen(full_yaml));
}

/* --------------------------------------------------------- local_filter */

/* Line 8 after PORTS IFACE; the value of a 9-character key on line 9
 * starts at column 14, its first flow-list entry at 15. */
#define LF PORTS IFACE "local_filter:\n"

static void
test_config_rejects_bad_local_filter(void)
{
	static const struct bad t[] = {
		{LF "  protocols: [tcp, {a: 1}]\n", 9, 20,
			"local_filter.protocols[1]",
			"expected a protocol (a number 0..255, icmp, tcp, udp "
			"or a range \"LO-HI\"), got a mapping"},
		{LF "  protocols: [[6]]\n", 9, 15, "local_filter.protocols[0]",
			"expected a protocol (a number 0..255, icmp, tcp, udp "
			"or a range \"LO-HI\"), got a list"},
		{LF "  protocols: [~]\n", 9, 15, "local_filter.protocols[0]",
			"got an empty value"},
		{LF "  protocols: [abc]\n", 9, 15, "local_filter.protocols[0]",
			"got 'abc'"},
		{LF "  protocols: [sctp]\n", 9, 15, "local_filter.protocols[0]",
			"got 'sctp'"},
		{LF "  protocols: [0x06]\n", 9, 15, "local_filter.protocols[0]",
			"got '0x06'"},
		{LF "  protocols: [006]\n", 9, 15, "local_filter.protocols[0]",
			"got '006'"},
		{LF "  protocols: [256]\n", 9, 15, "local_filter.protocols[0]",
			"out of range: 256 (expected 0..255)"},
		{LF "  protocols: [-1]\n", 9, 15, "local_filter.protocols[0]",
			"out of range: -1 (expected 0..255)"},
		{LF "  protocols: [\"6-300\"]\n", 9, 15,
			"local_filter.protocols[0]",
			"out of range: 6-300 (expected 0..255)"},
		{LF "  protocols: [tcp-udp]\n", 9, 15,
			"local_filter.protocols[0]", "got 'tcp-udp'"},
		{LF "  protocols: [6, all]\n", 9, 18,
			"local_filter.protocols[1]",
			"'all' stands for the whole list, not an entry"},
		{LF "  protocols: {tcp: 1}\n", 9, 14, "local_filter.protocols",
			"expected all or a list of protocols, got a mapping"},
		{LF "  protocols: any\n", 9, 14, "local_filter.protocols",
			"expected all or a list of protocols, got 'any'"},
		{LF "  tcp_ports: [70000]\n", 9, 15,
			"local_filter.tcp_ports[0]",
			"out of range: 70000 (expected 0..65535)"},
		{LF "  tcp_ports: [99999999999999999999]\n", 9, 15,
			"local_filter.tcp_ports[0]",
			"got '99999999999999999999'"},
		{LF "  tcp_ports: [-80]\n", 9, 15, "local_filter.tcp_ports[0]",
			"out of range: -80 (expected 0..65535)"},
		{LF "  tcp_ports: [22, \"9-3\"]\n", 9, 19,
			"local_filter.tcp_ports[1]",
			"a range must go upwards (like 3-9), got '9-3'"},
		{LF "  tcp_ports: [\"80-\"]\n", 9, 15,
			"local_filter.tcp_ports[0]",
			"expected a port (a number 0..65535 or a range "
			"\"LO-HI\"), got the quoted string '80-'"},
		{LF "  tcp_ports: [\"1-65536\"]\n", 9, 15,
			"local_filter.tcp_ports[0]",
			"out of range: 1-65536 (expected 0..65535)"},
		{LF "  udp_ports: [tcp]\n", 9, 15, "local_filter.udp_ports[0]",
			"expected a port (a number 0..65535 or a range "
			"\"LO-HI\"), got 'tcp'"},
		{LF "  udp_ports: [1.5]\n", 9, 15, "local_filter.udp_ports[0]",
			"got '1.5'"},
		{LF "  udp_ports: [53, ALL]\n", 9, 19,
			"local_filter.udp_ports[1]",
			"'all' stands for the whole list, not an entry"},
		{LF "  udp_ports: ~\n", 9, 14, "local_filter.udp_ports",
			"expected all or a list of ports, got an empty value"},
		{LF "  tcp_ports: all\n  tcp_ports: []\n", 10, 3,
			"local_filter.tcp_ports",
			"duplicate key 'tcp_ports' (first at line 9)"},
		{LF "  enabled: maybe\n", 9, 12, "local_filter.enabled",
			"expected a boolean (true/false), got 'maybe'"},
		{LF "  bogus: 1\n", 9, 3, "local_filter",
			"unknown key 'bogus' (valid keys: enabled, protocols, "
			"tcp_ports, udp_ports, interfaces)"},
		{PORTS IFACE "local_filter: [tcp]\n", 8, 15, "local_filter",
			"expected a mapping, got a list"},
		{PORTS IFACE "local_filter:\n", 8, 14, "local_filter",
			"expected a mapping, got an empty value"},
		/* interfaces[]: "    - interface: " puts the name at col 18 */
		{LF "  interfaces:\n    - interface: wan9\n", 10, 18,
			"local_filter.interfaces[0].interface",
			"unknown interface 'wan9' (interfaces: lan0)"},
		{LF "  interfaces:\n    - tcp_ports: [22]\n", 10, 7,
			"local_filter.interfaces[0]",
			"missing required key 'interface'"},
		{LF "  interfaces:\n    - interface: lan0\n"
		    "    - interface: lan0\n      tcp_ports: [22]\n",
			11, 18, "local_filter.interfaces[1].interface",
			"interface 'lan0' already has an override (first at "
			"line 10)"},
		{LF "  interfaces:\n    - interface: lan0\n"
		    "      enabled: false\n",
			11, 7, "local_filter.interfaces[0]",
			"unknown key 'enabled' (valid keys: interface, "
			"protocols, tcp_ports, udp_ports)"},
		{LF "  interfaces:\n    - interface: lan0\n"
		    "      udp_ports: [70000]\n",
			11, 19, "local_filter.interfaces[0].udp_ports[0]",
			"out of range: 70000 (expected 0..65535)"},
		{LF "  interfaces:\n    - interface: [lan0]\n", 10, 18,
			"local_filter.interfaces[0].interface",
			"expected a string, got a list"},
		{LF "  interfaces: lan0\n", 9, 15, "local_filter.interfaces",
			"expected a list, got 'lan0'"},
	};

	CHECK_BAD_TABLE(t);
}

/* 64 entries fit a list; the 65th is reported, at its own line. */
static void
test_config_local_filter_entry_limit(void)
{
	static char yaml[4096];
	struct tg_config *cfg;
	struct bad b = {yaml, 0, 7, "local_filter.tcp_ports[64]",
		"too many entries (at most 64)"};
	int i, n;

	n = snprintf(yaml, sizeof(yaml), LF "  tcp_ports:\n");
	for (i = 0; i < TG_CFG_LF_MAX_RANGES; i++)
		n += snprintf(yaml + n, sizeof(yaml) - n, "    - %d\n", i);
	cfg = parse_ok(yaml);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->local_filter.global.tcp_ports.n, 64);
	CU_ASSERT_EQUAL(cfg->local_filter.global.tcp_ports.r[63].lo, 63);
	CU_ASSERT_EQUAL(cfg->local_filter.global.tcp_ports.r[63].hi, 63);
	tg_config_free(cfg);

	snprintf(yaml + n, sizeof(yaml) - n, "    - 64\n");
	b.line = 9 + TG_CFG_LF_MAX_RANGES + 1;
	check_bad(&b, __LINE__);
}

/* Every bad entry of every list is reported, not only the first. */
static void
test_config_local_filter_collects_all_errors(void)
{
	static const char yaml[] = LF "  protocols: [abc, 300, tcp]\n"
				      "  tcp_ports: [\"9-3\", {}]\n"
				      "  interfaces:\n"
				      "    - interface: nope\n";
	struct tg_config *cfg = (struct tg_config *)&cfg;

	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs),
		-EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.n, 5);
	CU_ASSERT_STRING_EQUAL(printed(),
		"t.yaml:9:15: local_filter.protocols[0]: expected a protocol "
		"(a number 0..255, icmp, tcp, udp or a range \"LO-HI\"), got "
		"'abc'\n"
		"t.yaml:9:20: local_filter.protocols[1]: out of range: 300 "
		"(expected 0..255)\n"
		"t.yaml:10:15: local_filter.tcp_ports[0]: a range must go "
		"upwards (like 3-9), got '9-3'\n"
		"t.yaml:10:22: local_filter.tcp_ports[1]: expected a port (a "
		"number 0..65535 or a range \"LO-HI\"), got a mapping\n"
		"t.yaml:12:18: local_filter.interfaces[0].interface: unknown "
		"interface 'nope' (interfaces: lan0)\n");
}

static void
test_config_local_filter_absent_or_empty(void)
{
	static const struct tg_cfg_local_filter zero;
	struct tg_config *cfg = parse_ok(PORTS);
	const struct tg_cfg_lf_rules *g;

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(memcmp(&cfg->local_filter, &zero, sizeof(zero)), 0);
	CU_ASSERT_FALSE(cfg->local_filter.enabled);
	tg_config_free(cfg);

	/* present: on, and every global list not given is "all" */
	cfg = parse_ok(PORTS "local_filter: {}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	g = &cfg->local_filter.global;
	CU_ASSERT_TRUE(cfg->local_filter.enabled);
	CU_ASSERT_TRUE(g->protocols.set && g->protocols.all);
	CU_ASSERT_TRUE(g->tcp_ports.set && g->tcp_ports.all);
	CU_ASSERT_TRUE(g->udp_ports.set && g->udp_ports.all);
	CU_ASSERT_EQUAL(g->protocols.n + g->tcp_ports.n + g->udp_ports.n, 0);
	CU_ASSERT_EQUAL(cfg->local_filter.n_overrides, 0);
	tg_config_free(cfg);

	cfg = parse_ok(PORTS "local_filter:\n  enabled: no\n"
			     "  protocols: [tcp]\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->local_filter.enabled);
	CU_ASSERT_EQUAL(cfg->local_filter.global.protocols.n, 1);
	CU_ASSERT_TRUE(cfg->local_filter.global.udp_ports.all);
	tg_config_free(cfg);
}

static void
test_config_reads_local_filter(void)
{
	static const char yaml[] =
		PORTS "  - name: p1\n    device: net_null1\n" /* 4-5 */
		      "interfaces:\n"			      /* 6 */
		      "  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
		      "  - {name: wan0, port: p1, address: 192.0.2.1/24}\n"
		      "local_filter:\n" /* 9 */
		      "  protocols: [tcp, UDP, Icmp, 47, \"50-51\", 0, 255]\n"
		      "  tcp_ports: [22, 80, \"8000-8080\", 0-0, 65535]\n"
		      "  udp_ports: []\n"
		      "  interfaces:\n"		/* 13 */
		      "    - interface: wan0\n" /* 14 */
		      "      tcp_ports: [22]\n"
		      "    - interface: lan0\n" /* 16 */
		      "      udp_ports: all\n"
		      "      protocols: [\"0-255\"]\n";
	static const uint16_t proto[][2] = {{6, 6}, {17, 17}, {1, 1}, {47, 47},
		{50, 51}, {0, 0}, {255, 255}};
	static const uint16_t tcp[][2] = {
		{22, 22}, {80, 80}, {8000, 8080}, {0, 0}, {65535, 65535}};
	struct tg_config *cfg = parse_ok(yaml);
	const struct tg_cfg_local_filter *lf;
	const struct tg_cfg_lf_rules *g, *o;
	size_t i;

	CU_ASSERT_FATAL(cfg != NULL);
	lf = &cfg->local_filter;
	g = &lf->global;
	CU_ASSERT_TRUE(lf->enabled);

	CU_ASSERT_TRUE(g->protocols.set);
	CU_ASSERT_FALSE(g->protocols.all);
	CU_ASSERT_EQUAL_FATAL(g->protocols.n, 7);
	for (i = 0; i < 7; i++) {
		CU_ASSERT_EQUAL(g->protocols.r[i].lo, proto[i][0]);
		CU_ASSERT_EQUAL(g->protocols.r[i].hi, proto[i][1]);
	}
	CU_ASSERT_TRUE(g->tcp_ports.set);
	CU_ASSERT_FALSE(g->tcp_ports.all);
	CU_ASSERT_EQUAL_FATAL(g->tcp_ports.n, 5);
	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(g->tcp_ports.r[i].lo, tcp[i][0]);
		CU_ASSERT_EQUAL(g->tcp_ports.r[i].hi, tcp[i][1]);
	}
	/* [] is a list that lets nothing pass, not "all" */
	CU_ASSERT_TRUE(g->udp_ports.set);
	CU_ASSERT_FALSE(g->udp_ports.all);
	CU_ASSERT_EQUAL(g->udp_ports.n, 0);

	CU_ASSERT_EQUAL_FATAL(lf->n_overrides, 2);
	CU_ASSERT_EQUAL(lf->overrides[0].iface, 1);
	CU_ASSERT_EQUAL(lf->overrides[0].pos.line, 14);
	CU_ASSERT_EQUAL(lf->overrides[0].pos.col, 7);
	o = &lf->overrides[0].rules;
	CU_ASSERT_TRUE(o->tcp_ports.set);
	CU_ASSERT_FALSE(o->tcp_ports.all);
	CU_ASSERT_EQUAL(o->tcp_ports.n, 1);
	CU_ASSERT_EQUAL(o->tcp_ports.r[0].lo, 22);
	CU_ASSERT_EQUAL(o->tcp_ports.r[0].hi, 22);
	/* not given: inherited from the global lists by the builder */
	CU_ASSERT_FALSE(o->protocols.set || o->protocols.all);
	CU_ASSERT_EQUAL(o->protocols.n, 0);
	CU_ASSERT_FALSE(o->udp_ports.set || o->udp_ports.all);
	CU_ASSERT_EQUAL(o->udp_ports.n, 0);

	CU_ASSERT_EQUAL(lf->overrides[1].iface, 0);
	CU_ASSERT_EQUAL(lf->overrides[1].pos.line, 16);
	o = &lf->overrides[1].rules;
	CU_ASSERT_TRUE(o->udp_ports.set && o->udp_ports.all);
	CU_ASSERT_EQUAL(o->udp_ports.n, 0);
	CU_ASSERT_TRUE(o->protocols.set);
	CU_ASSERT_FALSE(o->protocols.all);
	CU_ASSERT_EQUAL(o->protocols.n, 1);
	CU_ASSERT_EQUAL(o->protocols.r[0].lo, 0);
	CU_ASSERT_EQUAL(o->protocols.r[0].hi, 255);
	CU_ASSERT_FALSE(o->tcp_ports.set);
	tg_config_free(cfg);
}

/* -------------------------------------------------------------- filters */

/* Lines 8-11 after PORTS IFACE: lan0's inbound list, deny-listed; its
 * rules start on line 12. A rule's first key, "          - name: ",
 * puts the name at 12:19; the next keys (K) start at column 13, so a
 * value sits at 13 + strlen("key: "). */
#define FI                                                                     \
	PORTS IFACE                                                            \
		"    filters:\n      inbound:\n        mode: deny-listed\n"    \
		"        rules:\n"
#define RULE "          - name: r1\n"
#define K    "            "
#define FR   "interfaces[0].filters.inbound.rules[0]"

static void
test_config_rejects_bad_filter_lists(void)
{
	static const struct bad t[] = {
		{PORTS "filters: {}\n", 4, 1, "",
			"unknown key 'filters' (valid keys: dpdk, mempool, "
			"ports, interfaces, routes, neighbors, arp, icmp, "
			"pipeline, limits, local_filter, host, nat, firewall, "
			"ipsec)"},
		{PORTS IFACE "    filters: [drop-all]\n", 8, 14,
			"interfaces[0].filters",
			"expected a mapping, got a list"},
		{PORTS IFACE "    filters:\n", 8, 13, "interfaces[0].filters",
			"expected a mapping, got an empty value"},
		{PORTS IFACE "    filters: {}\n    filters: {}\n", 9, 5,
			"interfaces[0].filters",
			"duplicate key 'filters' (first at line 8)"},
		{PORTS IFACE "    filters:\n      in: {}\n", 9, 7,
			"interfaces[0].filters",
			"unknown key 'in' (valid keys: inbound, outbound)"},
		{PORTS IFACE "    filters:\n      inbound: [no-web]\n", 9, 16,
			"interfaces[0].filters.inbound",
			"expected a mapping, got a list"},
		{PORTS IFACE "    filters:\n      outbound: deny-listed\n", 9,
			17, "interfaces[0].filters.outbound",
			"expected a mapping, got 'deny-listed'"},
		{PORTS IFACE "    filters:\n      inbound:\n", 9, 15,
			"interfaces[0].filters.inbound",
			"expected a mapping, got an empty value"},
		{PORTS IFACE
			"    filters:\n      inbound:\n        rules: []\n",
			10, 9, "interfaces[0].filters.inbound",
			"missing required key 'mode'"},
		{PORTS IFACE "    filters:\n      outbound: {rules: []}\n", 9,
			17, "interfaces[0].filters.outbound",
			"missing required key 'mode'"},
		{PORTS IFACE
			"    filters:\n      inbound:\n        mode: allow\n",
			10, 15, "interfaces[0].filters.inbound.mode",
			"unknown mode 'allow': allow-listed (drop what no rule "
			"allows) or deny-listed (pass what no rule denies)"},
		{PORTS IFACE "    filters:\n      inbound:\n"
			     "        mode: Allow-Listed\n",
			10, 15, "interfaces[0].filters.inbound.mode",
			"unknown mode 'Allow-Listed'"},
		{PORTS IFACE "    filters:\n      inbound:\n"
			     "        mode: [deny-listed]\n",
			10, 15, "interfaces[0].filters.inbound.mode",
			"expected a string, got a list"},
		{PORTS IFACE
			"    filters:\n      inbound:\n"
			"        mode: deny-listed\n        default: deny\n",
			11, 9, "interfaces[0].filters.inbound",
			"unknown key 'default' (valid keys: mode, rules)"},
		{FI "          name: r1\n", 12, 11,
			"interfaces[0].filters.inbound.rules",
			"expected a list, got a mapping"},
		{PORTS IFACE "    filters:\n      inbound:\n"
			     "        mode: deny-listed\n        rules: ~\n",
			11, 16, "interfaces[0].filters.inbound.rules",
			"expected a list, got an empty value"},
		{FI "          - no-web\n", 12, 13, FR,
			"expected a mapping, got 'no-web'"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_rejects_bad_filter_rules(void)
{
	static const struct bad t[] = {
		/* keys */
		{FI "          - action: deny\n", 12, 13, FR,
			"missing required key 'name'"},
		{FI RULE K "port: 80\n", 13, 13, FR,
			"unknown key 'port' (valid keys: name, action, "
			"protocol, src, dst, src_port, dst_port, icmp_type, "
			"icmp_code, established)"},
		{FI RULE K "name: r2\n", 13, 13, FR ".name",
			"duplicate key 'name' (first at line 12)"},
		/* values */
		{FI "          - name: a/b\n", 12, 19, FR ".name",
			"invalid rule name 'a/b': use 1..63 characters from "
			"A-Z a-z 0-9 _ . : -"},
		{FI "          - name: "
		    "ab12345678901234567890123456789012345678901234567890123456"
		    "7"
		    "89012\n",
			12, 19, FR ".name", "invalid rule name"},
		{FI "          - name: ''\n", 12, 19, FR ".name",
			"invalid rule name ''"},
		{FI "          - name: [a]\n", 12, 19, FR ".name",
			"expected a string, got a list"},
		{FI RULE K "action: drop\n", 13, 21, FR ".action",
			"unknown action 'drop': allow or deny"},
		{FI RULE K "action: ~\n", 13, 21, FR ".action",
			"expected a string, got an empty value"},
		{FI RULE K "protocol: sctp\n", 13, 23, FR ".protocol",
			"unknown protocol 'sctp': any, icmp, tcp, udp, gre, "
			"esp, ah or a number 0..255"},
		{FI RULE K "protocol: 006\n", 13, 23, FR ".protocol",
			"unknown protocol '006'"},
		{FI RULE K "protocol: 256\n", 13, 23, FR ".protocol",
			"out of range: 256 (expected 0..255)"},
		{FI RULE K "protocol: -1\n", 13, 23, FR ".protocol",
			"out of range: -1 (expected 0..255)"},
		{FI RULE K "protocol: 99999999999999999999\n", 13, 23,
			FR ".protocol", "out of range: 99999999999999999999"},
		{FI RULE K "protocol: [tcp]\n", 13, 23, FR ".protocol",
			"expected a protocol (any, icmp, tcp, udp, gre, esp, "
			"ah "
			"or a number 0..255), got a list"},
		{FI RULE K "src: 10.0.0.1/8\n", 13, 18, FR ".src",
			"host bits are set in '10.0.0.1/8': the prefix should "
			"be 10.0.0.0/8"},
		{FI RULE K "dst: 0.0.0.1/0\n", 13, 18, FR ".dst",
			"the prefix should be 0.0.0.0/0"},
		{FI RULE K "src: 10.0.0/8\n", 13, 18, FR ".src",
			"invalid address or prefix '10.0.0/8': expected any, "
			"a.b.c.d or a.b.c.d/len with len 0..32"},
		{FI RULE K "dst: 10.0.0.0/33\n", 13, 18, FR ".dst",
			"invalid address or prefix '10.0.0.0/33'"},
		{FI RULE K "dst: 010.0.0.1\n", 13, 18, FR ".dst",
			"invalid address or prefix '010.0.0.1'"},
		{FI RULE K "dst: ANY\n", 13, 18, FR ".dst",
			"invalid address or prefix 'ANY'"},
		{FI RULE K "src:\n", 13, 17, FR ".src",
			"expected an address or prefix (any, a.b.c.d or "
			"a.b.c.d/len), got an empty value"},
		{FI RULE K "protocol: tcp\n" K "dst_port: 70000\n", 14, 23,
			FR ".dst_port",
			"out of range: 70000 (expected 0..65535)"},
		{FI RULE K "protocol: tcp\n" K "dst_port: -1\n", 14, 23,
			FR ".dst_port", "out of range: -1 (expected 0..65535)"},
		{FI RULE K "protocol: udp\n" K "src_port: 1-65536\n", 14, 23,
			FR ".src_port", "out of range: 1-65536"},
		{FI RULE K "protocol: udp\n" K "src_port: 9-3\n", 14, 23,
			FR ".src_port",
			"a range must go upwards (like 3-9), got '9-3'"},
		{FI RULE K "protocol: udp\n" K "src_port: \"80-\"\n", 14, 23,
			FR ".src_port",
			"expected a port (a number 0..65535 or a range "
			"\"LO-HI\"), got the quoted string '80-'"},
		{FI RULE K "protocol: udp\n" K "src_port: 080\n", 14, 23,
			FR ".src_port", "expected a port"},
		{FI RULE K "protocol: udp\n" K "src_port: [53]\n", 14, 23,
			FR ".src_port", "expected a port"},
		{FI RULE K "protocol: icmp\n" K "icmp_type: 256\n", 14, 24,
			FR ".icmp_type", "out of range: 256 (expected 0..255)"},
		{FI RULE K "protocol: icmp\n" K "icmp_type: 3\n" K
			   "icmp_code: x\n",
			15, 24, FR ".icmp_code",
			"expected an integer, got 'x'"},
		{FI RULE K "protocol: tcp\n" K "established: maybe\n", 14, 26,
			FR ".established",
			"expected a boolean (true/false), got 'maybe'"},
		/* conditions that need a protocol: at the key */
		{FI RULE K "src_port: 80\n", 13, 13, FR ".src_port",
			"src_port needs protocol: tcp or udp"},
		{FI RULE K "protocol: any\n" K "dst_port: 80\n", 14, 13,
			FR ".dst_port", "dst_port needs protocol: tcp or udp"},
		{FI RULE K "protocol: icmp\n" K "dst_port: 80\n", 14, 13,
			FR ".dst_port",
			"dst_port needs protocol: tcp or udp (the rule's "
			"protocol is icmp)"},
		{FI RULE K "protocol: 132\n" K "src_port: 80\n", 14, 13,
			FR ".src_port",
			"src_port needs protocol: tcp or udp (the rule's "
			"protocol is 132)"},
		{FI RULE K "icmp_type: 8\n", 13, 13, FR ".icmp_type",
			"icmp_type needs protocol: icmp"},
		{FI RULE K "protocol: tcp\n" K "icmp_type: 8\n", 14, 13,
			FR ".icmp_type",
			"icmp_type needs protocol: icmp (the rule's protocol "
			"is "
			"tcp)"},
		{FI RULE K "protocol: 58\n" K "icmp_type: 128\n", 14, 13,
			FR ".icmp_type",
			"icmp_type needs protocol: icmp (the rule's protocol "
			"is "
			"58)"},
		{FI RULE K "icmp_code: 0\n", 13, 13, FR ".icmp_code",
			"icmp_code needs protocol: icmp"},
		{FI RULE K "protocol: icmp\n" K "icmp_code: 0\n", 14, 13,
			FR ".icmp_code", "icmp_code needs icmp_type"},
		{FI RULE K "established: true\n", 13, 13, FR ".established",
			"established needs protocol: tcp"},
		{FI RULE K "protocol: udp\n" K "established: yes\n", 14, 13,
			FR ".established",
			"established needs protocol: tcp (the rule's protocol "
			"is udp)"},
		/* a bad protocol is reported once, not again per condition */
		{FI RULE K "protocol: sctp\n" K "dst_port: 80\n" K
			   "established: true\n",
			13, 23, FR ".protocol", "unknown protocol 'sctp'"},
		/* names are unique within one list */
		{FI RULE "          - name: r2\n" RULE, 14, 19,
			"interfaces[0].filters.inbound.rules[2].name",
			"duplicate rule name 'r1' (first at line 12)"},
		/* the outbound list has its own paths */
		{PORTS IFACE
			"    filters:\n      outbound:\n"
			"        mode: allow-listed\n        rules:\n" RULE K
			"protocol: gre\n" K "dst_port: 1\n",
			14, 13,
			"interfaces[0].filters.outbound.rules[0].dst_port",
			"dst_port needs protocol: tcp or udp (the rule's "
			"protocol is gre)"},
	};

	CHECK_BAD_TABLE(t);
}

/* Every bad rule is reported, and one does not hide the next. */
static void
test_config_filters_collect_all_errors(void)
{
	static const char yaml[] = PORTS IFACE
		"    filters:\n"
		"      inbound:\n"
		"        mode: deny-listed\n"
		"        rules:\n"
		"          - {name: a, protocol: sctp}\n"     /* 12 */
		"          - {name: b, src_port: 1}\n"	      /* 13 */
		"          - {name: a, src: 1.2.3.4/8}\n"     /* 14 */
		"          - {name: ok, protocol: tcp}\n"     /* 15 */
		"          - {name: c, icmp_code: 1, x: 1}\n" /* 16 */
		"      outbound:\n"			      /* 17 */
		"        rules: [{name: a}]\n";
	struct tg_config *cfg = (struct tg_config *)&cfg;

	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs),
		-EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_STRING_EQUAL(printed(),
		"t.yaml:12:33: interfaces[0].filters.inbound.rules[0]."
		"protocol: unknown protocol 'sctp': any, icmp, tcp, udp, gre, "
		"esp, ah or a number 0..255\n"
		"t.yaml:13:23: interfaces[0].filters.inbound.rules[1]."
		"src_port: src_port needs protocol: tcp or udp\n"
		"t.yaml:14:20: interfaces[0].filters.inbound.rules[2].name: "
		"duplicate rule name 'a' (first at line 12)\n"
		"t.yaml:14:28: interfaces[0].filters.inbound.rules[2].src: "
		"host bits are set in '1.2.3.4/8': the prefix should be "
		"1.0.0.0/8\n"
		"t.yaml:16:23: interfaces[0].filters.inbound.rules[4]."
		"icmp_code: icmp_code needs protocol: icmp\n"
		"t.yaml:16:37: interfaces[0].filters.inbound.rules[4]: "
		"unknown key 'x' (valid keys: name, action, protocol, src, "
		"dst, src_port, dst_port, icmp_type, icmp_code, "
		"established)\n"
		"t.yaml:18:9: interfaces[0].filters.outbound: missing "
		"required key 'mode'\n");
	CU_ASSERT_EQUAL(errs.n, 7);
}

/* The example of docs/configuration.md, every field checked. */
static void
test_config_reads_filters(void)
{
	static const char yaml[] =
		"ports:\n  - {name: lan, device: net_null0}\n"
		"  - {name: wan, device: net_null1}\n"
		"interfaces:\n"
		"  - name: lan0\n" /* 5 */
		"    port: lan\n"
		"    address: 192.168.1.1/24\n"
		"    filters:\n"
		"      inbound:\n"	      /* 9 */
		"        mode: deny-listed\n" /* 10 */
		"        rules:\n"
		"          - name: no-web\n" /* 12 */
		"            action: deny\n"
		"            protocol: tcp\n"
		"            src: 10.0.0.0/8\n"
		"            dst: 198.51.100.0/24\n"
		"            src_port: 1024-65535\n"
		"            dst_port: 80\n"
		"            established: true\n"
		"          - name: Gre.1:x_y-z\n" /* 20 */
		"            action: allow\n"
		"            protocol: 47\n"
		"            src: 203.0.113.9\n"
		"            dst: 0.0.0.0/0\n"
		"          - name: tcp-by-number\n" /* 25 */
		"            protocol: 6\n"
		"            dst_port: \"0-65535\"\n"
		"            established: false\n"
		"      outbound:\n" /* 29 */
		"        mode: allow-listed\n"
		"        rules:\n"
		"          - name: ping\n" /* 32 */
		"            protocol: icmp\n"
		"            icmp_type: 8\n"
		"            icmp_code: 0\n"
		"          - {name: ICMP-any-code, protocol: ICMP, icmp_type: "
		"3}\n" /* 36 */
		"          - {name: no-udp, action: deny, protocol: udp, src: "
		"any, dst: any}\n"
		"          - {name: esp, protocol: esp}\n"
		"          - {name: ah, protocol: AH, dst: 255.255.255.255}\n"
		"  - {name: wan0, port: wan, address: 192.0.2.1/24}\n";
	struct tg_config *cfg = parse_ok(yaml);
	const struct tg_cfg_filter_list *in, *out;
	const struct tg_cfg_filter_rule *r;
	char long_name[TG_CFG_FILTER_RULE_NAME_MAX + 64];

	CU_ASSERT_FATAL(cfg != NULL);
	in = &cfg->ifaces[0].filters[TG_CFG_FILTER_IN];
	out = &cfg->ifaces[0].filters[TG_CFG_FILTER_OUT];
	CU_ASSERT_TRUE(in->set);
	CU_ASSERT_EQUAL(in->mode, TG_CFG_FILTER_DENY_LISTED);
	CU_ASSERT_EQUAL(in->pos.line, 10);
	CU_ASSERT_EQUAL(in->pos.col, 9);
	CU_ASSERT_EQUAL_FATAL(in->n_rules, 3);

	r = &in->rules[0];
	CU_ASSERT_STRING_EQUAL(r->name, "no-web");
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_DENY);
	CU_ASSERT_EQUAL(r->match,
		TG_CFG_FR_SPORT | TG_CFG_FR_DPORT | TG_CFG_FR_ESTABLISHED);
	CU_ASSERT_FALSE(r->any_proto);
	CU_ASSERT_EQUAL(r->proto, 6);
	CU_ASSERT_EQUAL(r->src, 0x0a000000);
	CU_ASSERT_EQUAL(r->src_len, 8);
	CU_ASSERT_EQUAL(r->dst, 0xc6336400);
	CU_ASSERT_EQUAL(r->dst_len, 24);
	CU_ASSERT_EQUAL(r->sport_lo, 1024);
	CU_ASSERT_EQUAL(r->sport_hi, 65535);
	CU_ASSERT_EQUAL(r->dport_lo, 80);
	CU_ASSERT_EQUAL(r->dport_hi, 80);
	CU_ASSERT_EQUAL(r->pos.line, 12);
	CU_ASSERT_EQUAL(r->pos.col, 13);

	r = &in->rules[1];
	CU_ASSERT_STRING_EQUAL(r->name, "Gre.1:x_y-z");
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_ALLOW);
	CU_ASSERT_EQUAL(r->match, 0);
	CU_ASSERT_FALSE(r->any_proto);
	CU_ASSERT_EQUAL(r->proto, 47);
	CU_ASSERT_EQUAL(r->src, 0xcb007109); /* an address is a /32 */
	CU_ASSERT_EQUAL(r->src_len, 32);
	CU_ASSERT_EQUAL(r->dst, 0);
	CU_ASSERT_EQUAL(r->dst_len, 0);
	CU_ASSERT_EQUAL(r->pos.line, 20);

	/* a number is the protocol; established: false is no condition */
	r = &in->rules[2];
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_DENY);
	CU_ASSERT_FALSE(r->any_proto);
	CU_ASSERT_EQUAL(r->proto, 6);
	CU_ASSERT_EQUAL(r->match, TG_CFG_FR_DPORT);
	CU_ASSERT_EQUAL(r->dport_lo, 0);
	CU_ASSERT_EQUAL(r->dport_hi, 65535);

	CU_ASSERT_TRUE(out->set);
	CU_ASSERT_EQUAL(out->mode, TG_CFG_FILTER_ALLOW_LISTED);
	CU_ASSERT_EQUAL(out->pos.line, 30);
	CU_ASSERT_EQUAL_FATAL(out->n_rules, 5);
	r = &out->rules[0];
	CU_ASSERT_STRING_EQUAL(r->name, "ping");
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_ALLOW);
	CU_ASSERT_EQUAL(r->match, TG_CFG_FR_ICMP_TYPE | TG_CFG_FR_ICMP_CODE);
	CU_ASSERT_FALSE(r->any_proto);
	CU_ASSERT_EQUAL(r->proto, 1);
	CU_ASSERT_EQUAL(r->icmp_type, 8);
	CU_ASSERT_EQUAL(r->icmp_code, 0);
	CU_ASSERT_EQUAL(r->src_len + r->dst_len, 0);
	CU_ASSERT_EQUAL(r->pos.line, 32);
	r = &out->rules[1];
	CU_ASSERT_EQUAL(r->match, TG_CFG_FR_ICMP_TYPE);
	CU_ASSERT_EQUAL(r->proto, 1);
	CU_ASSERT_EQUAL(r->icmp_type, 3);
	CU_ASSERT_EQUAL(r->pos.line, 36);
	CU_ASSERT_EQUAL(r->pos.col, 13);
	r = &out->rules[2];
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_DENY);
	CU_ASSERT_EQUAL(r->proto, 17);
	CU_ASSERT_EQUAL(r->src_len + r->dst_len + r->src + r->dst, 0);
	CU_ASSERT_EQUAL(out->rules[3].proto, 50);
	CU_ASSERT_EQUAL(out->rules[4].proto, 51);
	CU_ASSERT_EQUAL(out->rules[4].dst, 0xffffffff);
	CU_ASSERT_EQUAL(out->rules[4].dst_len, 32);
	CU_ASSERT_EQUAL(out->rules[4].pos.line, 39);

	CU_ASSERT_FALSE(cfg->ifaces[1].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_FALSE(cfg->ifaces[1].filters[TG_CFG_FILTER_OUT].set);
	CU_ASSERT_PTR_NULL(cfg->ifaces[1].filters[TG_CFG_FILTER_IN].rules);
	tg_config_free(cfg);

	/* the longest name: 63 characters */
	memset(long_name, 'n', TG_CFG_FILTER_RULE_NAME_MAX - 1);
	long_name[TG_CFG_FILTER_RULE_NAME_MAX - 1] = '\0';
	{
		char y[1024];

		snprintf(y, sizeof(y), FI "          - name: %s\n", long_name);
		cfg = parse_ok(y);
		CU_ASSERT_FATAL(cfg != NULL);
		CU_ASSERT_STRING_EQUAL(
			cfg->ifaces[0].filters[TG_CFG_FILTER_IN].rules[0].name,
			long_name);
		tg_config_free(cfg);
	}
}

/* The action follows the mode (whatever the order of the keys); no
 * protocol, src or dst matches everything; absent lists are unset. */
static void
test_config_filter_defaults(void)
{
	static const char yaml[] = PORTS IFACE
		"    filters:\n"
		"      inbound:\n"
		"        rules: [{name: a}, {name: b, action: allow}]\n"
		"        mode: deny-listed\n"
		"      outbound:\n"
		"        rules: [{name: a}, {name: b, action: deny}]\n"
		"        mode: allow-listed\n";
	struct tg_config *cfg = parse_ok(yaml);
	const struct tg_cfg_filter_list *l;
	const struct tg_cfg_filter_rule *r;

	CU_ASSERT_FATAL(cfg != NULL);
	l = &cfg->ifaces[0].filters[TG_CFG_FILTER_IN];
	CU_ASSERT_TRUE(l->set);
	CU_ASSERT_EQUAL_FATAL(l->n_rules, 2);
	r = &l->rules[0];
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_DENY);
	CU_ASSERT_TRUE(r->any_proto);
	CU_ASSERT_EQUAL(r->match, 0);
	CU_ASSERT_EQUAL(r->src, 0);
	CU_ASSERT_EQUAL(r->src_len, 0);
	CU_ASSERT_EQUAL(r->dst, 0);
	CU_ASSERT_EQUAL(r->dst_len, 0);
	CU_ASSERT_EQUAL(l->rules[1].action, TG_CFG_FILTER_ALLOW);
	l = &cfg->ifaces[0].filters[TG_CFG_FILTER_OUT];
	CU_ASSERT_TRUE(l->set);
	CU_ASSERT_EQUAL(l->mode, TG_CFG_FILTER_ALLOW_LISTED);
	CU_ASSERT_EQUAL_FATAL(l->n_rules, 2);
	CU_ASSERT_EQUAL(l->rules[0].action, TG_CFG_FILTER_ALLOW);
	CU_ASSERT_TRUE(l->rules[0].any_proto);
	CU_ASSERT_EQUAL(l->rules[1].action, TG_CFG_FILTER_DENY);
	tg_config_free(cfg);

	/* no filters key; filters: {}; a list without rules, or [] */
	cfg = parse_ok(PORTS IFACE);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_OUT].set);
	tg_config_free(cfg);
	cfg = parse_ok(PORTS IFACE "    filters: {}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_IN].set);
	CU_ASSERT_FALSE(cfg->ifaces[0].filters[TG_CFG_FILTER_OUT].set);
	tg_config_free(cfg);
	cfg = parse_ok(
		PORTS IFACE "    filters:\n"
			    "      outbound: {mode: allow-listed}\n"
			    "      inbound: {mode: deny-listed, rules: []}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	l = cfg->ifaces[0].filters;
	CU_ASSERT_TRUE(l[TG_CFG_FILTER_IN].set);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_IN].mode, TG_CFG_FILTER_DENY_LISTED);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_IN].n_rules, 0);
	CU_ASSERT_PTR_NULL(l[TG_CFG_FILTER_IN].rules);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_IN].pos.line, 10);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_IN].pos.col, 16);
	CU_ASSERT_TRUE(l[TG_CFG_FILTER_OUT].set);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_OUT].mode, TG_CFG_FILTER_ALLOW_LISTED);
	CU_ASSERT_EQUAL(l[TG_CFG_FILTER_OUT].n_rules, 0);
	CU_ASSERT_PTR_NULL(l[TG_CFG_FILTER_OUT].rules);
	tg_config_free(cfg);
}

/* Five lines per rule, from line 12; rule i is named r<i>. */
static size_t
many_rules(char *yaml, size_t cap, size_t n)
{
	size_t o = (size_t)snprintf(yaml, cap, FI), i;

	for (i = 0; i < n; i++)
		o += (size_t)snprintf(yaml + o, cap - o,
			"          - name: r%zu\n"
			"            protocol: tcp\n"
			"            src: %zu.%zu.%zu.0/24\n"
			"            dst_port: %zu\n"
			"            action: allow\n",
			i, 1 + (i >> 16), (i >> 8) & 0xff, i & 0xff,
			i & 0xffff);
	return o;
}

/* 100,000 rules in one list: a linear walk and sorted names. */
static void
test_config_parses_100k_filter_rules(void)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 160 + 1024, n;
	char *yaml = malloc(cap);
	const struct tg_cfg_filter_rule *r;
	struct tg_config *cfg = NULL;
	int rc;

	CU_ASSERT_FATAL(yaml != NULL);
	n = many_rules(yaml, cap, N);
	rc = tg_config_parse("big", yaml, n, &cfg, &errs);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL_FATAL(cfg->ifaces[0].filters[0].n_rules, N);
	r = &cfg->ifaces[0].filters[0].rules[N - 1];
	CU_ASSERT_STRING_EQUAL(r->name, "r99999");
	CU_ASSERT_EQUAL(r->src, (uint32_t)(1 + ((N - 1) >> 16)) << 24 |
					((N - 1) & 0xffff) << 8);
	CU_ASSERT_EQUAL(r->dport_lo, (N - 1) & 0xffff);
	CU_ASSERT_EQUAL(r->action, TG_CFG_FILTER_ALLOW);
	CU_ASSERT_EQUAL(r->pos.line, 12 + 5 * (N - 1));
	tg_config_free(cfg);
	free(yaml);
}

/* Duplicate names among many rules: each later one names the first. */
static void
test_config_filter_duplicate_names_among_many(void)
{
	enum { N = 20000 };
	size_t cap = (size_t)N * 160 + 1024, n;
	char *yaml = malloc(cap);
	struct tg_config *cfg = (struct tg_config *)&cfg;
	char want[128];

	CU_ASSERT_FATAL(yaml != NULL);
	n = many_rules(yaml, cap, N);
	/* rules N, N+1, N+2 (lines 12 + 5 * (N..N+2)) repeat r17, r0, r17 */
	n += (size_t)snprintf(yaml + n, cap - n,
		"          - {name: r17, protocol: any}\n"
		"          - {name: r0}\n"
		"          - {name: r17}\n");
	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, n, &cfg, &errs), -EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.n, 3);
	CU_ASSERT_EQUAL(errs.e[0].line, 12 + 5 * N);
	CU_ASSERT_EQUAL(errs.e[0].col, 20);
	snprintf(want, sizeof(want),
		"interfaces[0].filters.inbound.rules[%d].name", N);
	CU_ASSERT_STRING_EQUAL(errs.e[0].path, want);
	CU_ASSERT_STRING_EQUAL(
		errs.e[0].msg, "duplicate rule name 'r17' (first at line 97)");
	CU_ASSERT_EQUAL(errs.e[1].line, 12 + 5 * N + 1);
	CU_ASSERT_STRING_EQUAL(
		errs.e[1].msg, "duplicate rule name 'r0' (first at line 12)");
	CU_ASSERT_EQUAL(errs.e[2].line, 12 + 5 * N + 2);
	CU_ASSERT_STRING_EQUAL(
		errs.e[2].msg, "duplicate rule name 'r17' (first at line 97)");
	free(yaml);
}

/* A list longer than TG_CFG_FILTER_MAX_RULES is refused at the first
 * rule too many, without checking the rules. */
static void
test_config_filter_rule_limit(void)
{
	size_t max = TG_CFG_FILTER_MAX_RULES;
	size_t cap = 2 * (max + 1) + 1024, n;
	char *yaml = malloc(cap);
	struct tg_config *cfg = (struct tg_config *)&cfg;
	char want[128];

	CU_ASSERT_FATAL(yaml != NULL);
	/* "        rules: [" puts item k of line 11 at column 17 + 2k */
	n = (size_t)snprintf(yaml, cap,
		PORTS IFACE "    filters:\n      inbound:\n"
			    "        mode: deny-listed\n        rules: [");
	memset(yaml + n, '0', 2 * (max + 1));
	for (size_t i = 1; i < 2 * (max + 1); i += 2)
		yaml[n + i] = ',';
	n += 2 * (max + 1);
	yaml[n - 1] = ']';
	yaml[n++] = '\n';
	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, n, &cfg, &errs), -EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_EQUAL_FATAL(errs.n, 1);
	CU_ASSERT_EQUAL(errs.e[0].line, 11);
	CU_ASSERT_EQUAL(errs.e[0].col, 17 + 2 * max);
	snprintf(want, sizeof(want), "interfaces[0].filters.inbound.rules[%zu]",
		max);
	CU_ASSERT_STRING_EQUAL(errs.e[0].path, want);
	snprintf(want, sizeof(want),
		"too many rules: %zu (at most %zu in a list)", max + 1, max);
	CU_ASSERT_STRING_EQUAL(errs.e[0].msg, want);
	free(yaml);
}

/* ------------------------------------------------------------- EAL argv */

/* tg_config_eal_args() joined with spaces, freed; or "E<errno>". */
static char *
eal(const struct tg_config *cfg, int out_max, int argc, ...)
{
	static char line[2048];
	char *cli[32], *out[TG_MAX_EAL_ARGS * 2 + 8 + 32];
	va_list ap;
	int i, n;
	size_t o = 0;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		cli[i] = va_arg(ap, char *);
	va_end(ap);
	if (out_max == 0)
		out_max = (int)(sizeof(out) / sizeof(out[0]));
	n = tg_config_eal_args(cfg, "tg", argc, cli, out, out_max);
	if (n < 0) {
		snprintf(line, sizeof(line), "E%d", -n);
		return line;
	}
	CU_ASSERT_PTR_NULL(out[n]);
	line[0] = '\0';
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s",
			i ? " " : "", out[i]);
		free(out[i]);
	}
	return line;
}

#define PCAP_ARGV                                                              \
	"tg -l 0-1 -m 256 --no-huge --file-prefix tg-pcap --vdev net_null0 "   \
	"--vdev net_null1 --no-pci"

static void
test_config_eal_args_from_yaml(void)
{
	struct tg_config *cfg = NULL, *full;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 0), PCAP_ARGV);
	full = parse_ok(full_yaml);
	CU_ASSERT_FATAL(full != NULL);
	CU_ASSERT_STRING_EQUAL(eal(full, 0, 0),
		"tg -l 0,2-3,127 -m 1024 --no-huge --file-prefix tg.x-1 "
		"--log-level lib.eal:debug --in-memory -n 4 "
		"-a 0000:01:00.0,rxq_cqe_comp_en=1 -a 02:00.1 "
		"--vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=o.pcap");
	/* "PORTS" alone: nothing but the port */
	tg_config_free(full);
	full = parse_ok(PORTS);
	CU_ASSERT_STRING_EQUAL(eal(full, 0, 0), "tg --vdev net_null0 --no-pci");
	tg_config_free(full);
	tg_config_free(cfg);
}

static void
test_config_eal_args_cli_replaces_yaml_options(void)
{
	struct tg_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	/* -l, -c and --lcores are one option, in any spelling */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "-l", "2-3"),
		"tg -m 256 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci -l 2-3");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "-l2-3"),
		"tg -m 256 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci -l2-3");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "-c", "0x3"),
		"tg -m 256 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci -c 0x3");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "--lcores=0@1"),
		"tg -m 256 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci --lcores=0@1");
	/* -m and --socket-mem exclude each other in EAL */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "--socket-mem", "512,0"),
		"tg -l 0-1 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci --socket-mem 512,0");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 3, "--file-prefix=x", "-m", "64"),
		"tg -l 0-1 --no-huge --vdev net_null0 --vdev net_null1 "
		"--no-pci --file-prefix=x -m 64");
	/* flags replace too: no duplicate --no-huge / --no-pci */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "--no-huge", "--no-pci"),
		"tg -l 0-1 -m 256 --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-huge --no-pci");
	/* a value option at the very end, without its value */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "-m"),
		"tg -l 0-1 --no-huge --file-prefix tg-pcap --vdev net_null0 "
		"--vdev net_null1 --no-pci -m");
	tg_config_free(cfg);
}

static void
test_config_eal_args_devices_accumulate(void)
{
	struct tg_config *cfg = NULL;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "--vdev", "net_null2"),
		PCAP_ARGV " --vdev net_null2");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "--vdev=net_tap0"),
		PCAP_ARGV " --vdev=net_tap0");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "-b", "0000:02:00.0"),
		PCAP_ARGV " -b 0000:02:00.0");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "-d", "/usr/lib/pmds"),
		PCAP_ARGV " -d /usr/lib/pmds");
	/* a PCI device on the command line: our --no-pci must go */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "-a", "0000:01:00.0"),
		"tg -l 0-1 -m 256 --no-huge --file-prefix tg-pcap "
		"--vdev net_null0 --vdev net_null1 -a 0000:01:00.0");
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "--allow=0000:01:00.0"),
		"tg -l 0-1 -m 256 --no-huge --file-prefix tg-pcap "
		"--vdev net_null0 --vdev net_null1 --allow=0000:01:00.0");
	tg_config_free(cfg);
}

static void
test_config_eal_args_pass_through(void)
{
	struct tg_config *cfg = NULL, *y;

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	/* unknown options and plain arguments: kept, nothing removed */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 3, "--foo", "bar", "-z"),
		PCAP_ARGV " --foo bar -z");
	/* after "--" nothing is an option */
	CU_ASSERT_STRING_EQUAL(
		eal(cfg, 0, 3, "--", "-l", "5"), PCAP_ARGV " -- -l 5");
	/* the value of an option is not an option itself */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "--log-level", "--no-huge"),
		"tg -l 0-1 -m 256 --no-huge --file-prefix tg-pcap "
		"--vdev net_null0 --vdev net_null1 --no-pci "
		"--log-level --no-huge");
	/* bundled short flags are EAL's business */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 1, "-vh"), PCAP_ARGV " -vh");
	tg_config_free(cfg);

	/* dpdk.args take part: the command line replaces them as well */
	y = parse_ok(PORTS "dpdk:\n  log_level: \"7\"\n"
			   "  args: [\"--log-level=pmd:8\", \"--in-memory\", "
			   "\"-n\", \"4\", \"--vdev\", \"net_tap0\"]\n");
	CU_ASSERT_FATAL(y != NULL);
	CU_ASSERT_STRING_EQUAL(eal(y, 0, 0),
		"tg --log-level 7 --log-level=pmd:8 --in-memory -n 4 "
		"--vdev net_tap0 --vdev net_null0 --no-pci");
	CU_ASSERT_STRING_EQUAL(eal(y, 0, 3, "--log-level=9", "-n2", "--vdev=x"),
		"tg --in-memory --vdev net_tap0 --vdev net_null0 --no-pci "
		"--log-level=9 -n2 --vdev=x");
	tg_config_free(y);
}

static void
test_config_eal_args_limits(void)
{
	struct tg_config *cfg = NULL;
	char *out[5];

	CU_ASSERT_EQUAL_FATAL(
		tg_config_load("config/pcap-forward.yaml", &cfg, &errs), 0);
	/* PCAP_ARGV is 13 arguments, + NULL */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 13, 0), "E7"); /* E2BIG */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 14, 0), PCAP_ARGV);
	CU_ASSERT_STRING_EQUAL(eal(cfg, 15, 2, "--vdev", "x"), "E7");
	CU_ASSERT_STRING_EQUAL(
		eal(cfg, 16, 2, "--vdev", "x"), PCAP_ARGV " --vdev x");
	CU_ASSERT_EQUAL(
		tg_config_eal_args(NULL, "tg", 0, NULL, out, 5), -EINVAL);
	CU_ASSERT_EQUAL(
		tg_config_eal_args(cfg, "tg", 1, NULL, out, 5), -EINVAL);
	CU_ASSERT_EQUAL(tg_config_eal_args(cfg, NULL, 0, NULL, out, 5), -E2BIG);
	tg_config_free(cfg);
	cfg = parse_ok(PORTS);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(tg_config_eal_args(cfg, NULL, 0, NULL, out, 4), -E2BIG);
	CU_ASSERT_EQUAL_FATAL(
		tg_config_eal_args(cfg, NULL, 0, NULL, out, 5), 4);
	CU_ASSERT_STRING_EQUAL(out[0], "tollgate");
	CU_ASSERT_STRING_EQUAL(out[3], "--no-pci");
	CU_ASSERT_PTR_NULL(out[4]);
	free(out[0]);
	free(out[1]);
	free(out[2]);
	free(out[3]);
	tg_config_free(cfg);
}

static void
test_config_reads_host(void)
{
	struct tg_config *cfg = parse_ok(PORTS);

	/* absent: no host port, no vdev for it */
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->host.enabled);
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 0), "tg --vdev net_null0 --no-pci");
	tg_config_free(cfg);

	/* present with defaults: tun "tg-host", no netns, no default route */
	cfg = parse_ok(PORTS "host: {}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_TRUE(cfg->host.enabled);
	CU_ASSERT_FALSE(cfg->host.tap);
	CU_ASSERT_STRING_EQUAL(cfg->host.ifname, "tg-host");
	CU_ASSERT_STRING_EQUAL(cfg->host.netns, "");
	CU_ASSERT_EQUAL(cfg->host.queue_size, 1024);
	CU_ASSERT_EQUAL(cfg->host.poll_us, 50);
	CU_ASSERT_TRUE(cfg->host.routes);
	CU_ASSERT_FALSE(cfg->host.default_route);
	CU_ASSERT_EQUAL(cfg->host.pos.line, 4);
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 0),
		"tg --vdev net_null0 --vdev net_tun_tghost,iface=tg-host "
		"--no-pci");
	tg_config_free(cfg);

	/* a namespace of its own gets the default route unless refused */
	cfg = parse_ok(PORTS "host:\n  type: tap\n  ifname: h0.x_y-z\n"
			     "  netns: appliance\n  queue_size: 64\n"
			     "  poll_us: 100000\n  routes: false\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_TRUE(cfg->host.tap);
	CU_ASSERT_STRING_EQUAL(cfg->host.ifname, "h0.x_y-z");
	CU_ASSERT_STRING_EQUAL(cfg->host.netns, "appliance");
	CU_ASSERT_EQUAL(cfg->host.queue_size, 64);
	CU_ASSERT_EQUAL(cfg->host.poll_us, 100000);
	CU_ASSERT_FALSE(cfg->host.routes);
	CU_ASSERT_TRUE(cfg->host.default_route);
	/* --vdev on the command line adds to the YAML's, never replaces */
	CU_ASSERT_STRING_EQUAL(eal(cfg, 0, 2, "--vdev", "net_null9"),
		"tg --vdev net_null0 --vdev net_tap_tghost,iface=h0.x_y-z "
		"--no-pci --vdev net_null9");
	tg_config_free(cfg);
	cfg = parse_ok(PORTS "host: {netns: a, default_route: false}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->host.default_route);
	tg_config_free(cfg);
	cfg = parse_ok(PORTS "host: {default_route: true}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_TRUE(cfg->host.default_route);
	tg_config_free(cfg);
}

static void
test_config_rejects_bad_host(void)
{
	static const struct bad t[] = {
		{PORTS "host: {type: tunnel}\n", 4, 14, "host.type",
			"unknown host port type 'tunnel': tun (bare IP, the "
			"default) or tap (Ethernet)"},
		{PORTS "host: {ifname: abcdefghijklmnop}\n", 4, 16,
			"host.ifname",
			"invalid interface name 'abcdefghijklmnop': use 1..15 "
			"characters"},
		{PORTS "host: {ifname: 'a b'}\n", 4, 16, "host.ifname",
			"invalid interface name"},
		{PORTS "host: {ifname: ..}\n", 4, 16, "host.ifname",
			"(not . or ..)"},
		{PORTS "host: {netns: ../x}\n", 4, 15, "host.netns",
			"invalid network namespace '../x'"},
		{PORTS "host: {netns: 'a/b'}\n", 4, 15, "host.netns",
			"invalid network namespace"},
		{PORTS "host: {queue_size: 1000}\n", 4, 20, "host.queue_size",
			"power of two"},
		{PORTS "host: {queue_size: 32}\n", 4, 20, "host.queue_size",
			"64"},
		{PORTS "host: {poll_us: 0}\n", 4, 17, "host.poll_us", "1"},
		{PORTS "host: {default_route: maybe}\n", 4, 23,
			"host.default_route", "boolean"},
		{PORTS "host: {interface: lan0}\n", 4, 8, "host",
			"unknown key 'interface' (valid keys: type, ifname, "
			"netns, queue_size, poll_us, routes, default_route)"},
		{PORTS "host: [tun]\n", 4, 7, "host", "mapping"},
	};

	CHECK_BAD_TABLE(t);
}

int
main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("config", NULL, NULL,
		"test_config_rejects_empty_and_non_mapping",
		test_config_rejects_empty_and_non_mapping,
		"test_config_rejects_syntax_errors",
		test_config_rejects_syntax_errors,
		"test_config_rejects_aliases", test_config_rejects_aliases,
		"test_config_rejects_deep_nesting",
		test_config_rejects_deep_nesting,
		"test_config_rejects_bad_keys", test_config_rejects_bad_keys,
		"test_config_rejects_wrong_types",
		test_config_rejects_wrong_types,
		"test_config_rejects_out_of_range",
		test_config_rejects_out_of_range,
		"test_config_rejects_bad_dpdk_values",
		test_config_rejects_bad_dpdk_values,
		"test_config_rejects_bad_ports", test_config_rejects_bad_ports,
		"test_config_rejects_bad_interfaces",
		test_config_rejects_bad_interfaces,
		"test_config_rejects_bad_routes",
		test_config_rejects_bad_routes,
		"test_config_rejects_bad_neighbors",
		test_config_rejects_bad_neighbors,
		"test_config_rejects_bad_placement",
		test_config_rejects_bad_placement,
		"test_config_rejects_too_many_rx_queues_per_lcore",
		test_config_rejects_too_many_rx_queues_per_lcore,
		"test_config_rejects_bad_local_filter",
		test_config_rejects_bad_local_filter, "test_config_reads_host",
		test_config_reads_host, "test_config_rejects_bad_host",
		test_config_rejects_bad_host,
		"test_config_local_filter_entry_limit",
		test_config_local_filter_entry_limit,
		"test_config_local_filter_collects_all_errors",
		test_config_local_filter_collects_all_errors,
		"test_config_rejects_bad_filter_lists",
		test_config_rejects_bad_filter_lists,
		"test_config_rejects_bad_filter_rules",
		test_config_rejects_bad_filter_rules,
		"test_config_filters_collect_all_errors",
		test_config_filters_collect_all_errors,
		"test_config_filter_rule_limit", test_config_filter_rule_limit,
		"test_config_collects_all_errors",
		test_config_collects_all_errors,
		"test_config_counts_errors_beyond_the_stored",
		test_config_counts_errors_beyond_the_stored,
		"test_config_error_format", test_config_error_format,
		"test_config_unreadable_file", test_config_unreadable_file,
		"test_config_load_reports_the_file",
		test_config_load_reports_the_file,
		"test_config_rejects_huge_input",
		test_config_rejects_huge_input,
		"test_config_loads_demo_example",
		test_config_loads_demo_example,
		"test_config_loads_pcap_example",
		test_config_loads_pcap_example, "test_config_defaults",
		test_config_defaults, "test_config_pipeline_filter_cache",
		test_config_pipeline_filter_cache,
		"test_config_reads_every_key", test_config_reads_every_key,
		"test_config_local_filter_absent_or_empty",
		test_config_local_filter_absent_or_empty,
		"test_config_reads_local_filter",
		test_config_reads_local_filter, "test_config_reads_filters",
		test_config_reads_filters, "test_config_filter_defaults",
		test_config_filter_defaults,
		"test_config_parses_100k_filter_rules",
		test_config_parses_100k_filter_rules,
		"test_config_filter_duplicate_names_among_many",
		test_config_filter_duplicate_names_among_many,
		"test_config_parses_100k_routes",
		test_config_parses_100k_routes,
		"test_config_truncated_or_corrupt_input_never_crashes",
		test_config_truncated_or_corrupt_input_never_crashes,
		"test_config_eal_args_from_yaml",
		test_config_eal_args_from_yaml,
		"test_config_eal_args_cli_replaces_yaml_options",
		test_config_eal_args_cli_replaces_yaml_options,
		"test_config_eal_args_devices_accumulate",
		test_config_eal_args_devices_accumulate,
		"test_config_eal_args_pass_through",
		test_config_eal_args_pass_through,
		"test_config_eal_args_limits", test_config_eal_args_limits,
		NULL);
	return tg_test_run();
}
