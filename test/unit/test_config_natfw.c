/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for the nat: and firewall: sections of lib/config (the
 * natfw stage, issue 6): every error with its position and path, the
 * model a full example gives, the defaults, the list limits. Positions
 * in the expectations are counted by hand in each snippet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_config.h"
#include "tg_test.h"
#include "tg_test_cfg.h"
#include "tg_test_natfw_yaml.h"

/* Lines 1-8: three ports, lan0 10.0.0.1/24, wan0 192.0.2.1/24 and wan1
 * 198.51.100.1/24 (interface indexes 0, 1, 2). */
#define BASE                                                                   \
	TG_TEST_NATFW_PORTS                                                    \
	"  - {name: wan1, port: p2, address: 198.51.100.1/24}\n"
/* Lines 9-11: the smallest nat section; the next line is 12. private's
 * list opens at 10:12 (lan0 at 10:13), public's at 11:11 (wan0 11:12). */
#define NAT BASE "nat:\n  private: [lan0]\n  public: [wan0]\n"
/* Line 12; a mapping's first key is on line 13, its value at column 13
 * for name, 17 protocol, 20 public_port, 24 private_address, 21
 * private_port, 23 public_address. */
#define MAP NAT "  port_mappings:\n"
#define WEB                                                                    \
	"    - name: web\n      protocol: tcp\n      public_port: 8080\n"      \
	"      private_address: 10.0.0.10\n"
/* Lines 9-10; an exception's first key is on line 11. */
#define FW BASE "firewall:\n  exceptions:\n"

/* ---------------------------------------------------------------- nat */

static void
test_config_natfw_rejects_bad_nat_interfaces(void)
{
	static const struct bad t[] = {
		{BASE "nat: [lan0]\n", 9, 6, "nat",
			"expected a mapping, got a list"},
		{BASE "nat:\n", 9, 5, "nat",
			"expected a mapping, got an empty value"},
		{BASE "nat:\n  public: [wan0]\n", 10, 3, "nat",
			"missing required key 'private'"},
		{BASE "nat:\n  private: [lan0]\n", 10, 3, "nat",
			"missing required key 'public'"},
		{BASE "nat: {private: [lan0], public: [wan0], bogus: 1}\n", 9,
			40, "nat",
			"unknown key 'bogus' (valid keys: enabled, private, "
			"public, addresses, filtering, timeouts, max_sessions, "
			"max_sessions_per_host, port_mappings)"},
		{BASE "nat:\n  private: []\n  public: [wan0]\n", 10, 12,
			"nat.private", "at least one interface is required"},
		{BASE "nat:\n  private: [lan0]\n  public: []\n", 11, 11,
			"nat.public", "at least one interface is required"},
		{BASE "nat:\n  private: lan0\n  public: [wan0]\n", 10, 12,
			"nat.private", "expected a list, got 'lan0'"},
		{BASE "nat:\n  private: [[lan0]]\n  public: [wan0]\n", 10, 13,
			"nat.private[0]", "expected a string, got a list"},
		{BASE "nat:\n  private: [lan9]\n  public: [wan0]\n", 10, 13,
			"nat.private[0]",
			"unknown interface 'lan9' (interfaces: lan0, wan0, "
			"wan1)"},
		{BASE "nat:\n  private: [lan0]\n  public: [wan0, wan7]\n", 11,
			18, "nat.public[1]", "unknown interface 'wan7'"},
		{BASE "nat:\n  private: [lan0, lan0]\n  public: [wan0]\n", 10,
			19, "nat.private[1]",
			"interface 'lan0' is listed twice (first at line 10)"},
		{BASE "nat:\n  private: [lan0]\n  public: [wan0, lan0]\n", 11,
			18, "nat.public[1]",
			"interface 'lan0' is already private (nat.private, "
			"line "
			"10): an interface is private or public, not both"},
		{NAT "  enabled: 1\n", 12, 12, "nat.enabled",
			"expected a boolean (true/false), got '1'"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_natfw_rejects_bad_nat_addresses(void)
{
	/* "    - address: " puts an address at column 16 of line 13 */
#define ADDR NAT "  addresses:\n    - address: "
	static const struct bad t[] = {
		{ADDR "203.0.113.9\n", 13, 16, "nat.addresses[0].address",
			"203.0.113.9 is not the address of a public interface "
			"(public: wan0 192.0.2.1): replies to it would not "
			"reach the appliance"},
		{ADDR "10.0.0.1\n", 13, 16, "nat.addresses[0].address",
			"10.0.0.1 is the address of interface 'lan0', which is "
			"not public (public: wan0 192.0.2.1)"},
		{ADDR "198.51.100.1\n", 13, 16, "nat.addresses[0].address",
			"198.51.100.1 is the address of interface 'wan1', "
			"which is not public"},
		{ADDR "192.0.2.1\n    - address: 192.0.2.1\n", 14, 16,
			"nat.addresses[1].address",
			"address 192.0.2.1 is listed twice (first at line 13)"},
		{ADDR "192.0.2\n", 13, 16, "nat.addresses[0].address",
			"invalid address '192.0.2': expected a.b.c.d"},
		{ADDR "224.0.0.1\n", 13, 16, "nat.addresses[0].address",
			"'224.0.0.1' is not a unicast host address"},
		{NAT "  addresses:\n    - ports: 1024-2047\n", 13, 7,
			"nat.addresses[0]", "missing required key 'address'"},
		{NAT "  addresses: []\n", 12, 14, "nat.addresses",
			"at least one address is required (leave addresses out "
			"for the addresses of the public interfaces)"},
		{NAT "  addresses: 192.0.2.1\n", 12, 14, "nat.addresses",
			"expected a list, got '192.0.2.1'"},
		/* "      ports: " puts the range at column 14 of line 14 */
		{ADDR "192.0.2.1\n      ports: 65535-1024\n", 14, 14,
			"nat.addresses[0].ports",
			"a range must go upwards (like 1024-65535), got "
			"'65535-1024'"},
		{ADDR "192.0.2.1\n      ports: 0-100\n", 14, 14,
			"nat.addresses[0].ports",
			"out of range: 0-100 (expected 1..65535)"},
		{ADDR "192.0.2.1\n      ports: 1024-65536\n", 14, 14,
			"nat.addresses[0].ports",
			"out of range: 1024-65536 (expected 1..65535)"},
		{ADDR "192.0.2.1\n      ports: -5\n", 14, 14,
			"nat.addresses[0].ports",
			"out of range: -5 (expected 1..65535)"},
		{ADDR "192.0.2.1\n      ports: 2000-2062\n", 14, 14,
			"nat.addresses[0].ports",
			"2000-2062 is 63 ports: a NAT address needs at least "
			"64"},
		{ADDR "192.0.2.1\n      ports: 5000\n", 14, 14,
			"nat.addresses[0].ports",
			"5000 is 1 port: a NAT address needs at least 64"},
		{ADDR "192.0.2.1\n      ports: all\n", 14, 14,
			"nat.addresses[0].ports",
			"expected a port (a number 1..65535 or a range "
			"\"LO-HI\"), got 'all'"},
		{ADDR "192.0.2.1\n      ports: [1024]\n", 14, 14,
			"nat.addresses[0].ports",
			"expected a port (a number 1..65535 or a range "
			"\"LO-HI\"), got a list"},
	};
#undef ADDR

	CHECK_BAD_TABLE(t);
}

static void
test_config_natfw_rejects_bad_nat_values(void)
{
	static const struct bad t[] = {
		{NAT "  filtering: full-cone\n", 12, 14, "nat.filtering",
			"unknown filtering 'full-cone': "
			"address-and-port-dependent or endpoint-independent"},
		{NAT "  timeouts:\n    udp: 9\n", 13, 10, "nat.timeouts.udp",
			"out of range: 9 (expected 10..86400)"},
		{NAT "  timeouts:\n    udp: 86401\n", 13, 10,
			"nat.timeouts.udp",
			"out of range: 86401 (expected 10..86400)"},
		{NAT "  timeouts:\n    tcp_established: 59\n", 13, 22,
			"nat.timeouts.tcp_established",
			"out of range: 59 (expected 60..604800)"},
		{NAT "  timeouts:\n    tcp_established: 604801\n", 13, 22,
			"nat.timeouts.tcp_established",
			"out of range: 604801 (expected 60..604800)"},
		{NAT "  timeouts:\n    tcp_transitory: 9\n", 13, 21,
			"nat.timeouts.tcp_transitory",
			"out of range: 9 (expected 10..86400)"},
		{NAT "  timeouts:\n    icmp: 86401\n", 13, 11,
			"nat.timeouts.icmp",
			"out of range: 86401 (expected 10..86400)"},
		{NAT "  timeouts:\n    gre: 0\n", 13, 10, "nat.timeouts.gre",
			"out of range: 0 (expected 10..86400)"},
		{NAT "  timeouts:\n    tcp: 100\n", 13, 5, "nat.timeouts",
			"unknown key 'tcp' (valid keys: tcp_established, "
			"tcp_transitory, udp, icmp, gre)"},
		{NAT "  max_sessions: 0\n", 12, 17, "nat.max_sessions",
			"out of range: 0 (expected 1..100000000)"},
		{NAT "  max_sessions: 100000001\n", 12, 17, "nat.max_sessions",
			"out of range: 100000001 (expected 1..100000000)"},
		{NAT "  max_sessions: 1000\n  max_sessions_per_host: 1001\n",
			13, 26, "nat.max_sessions_per_host",
			"1001 is more than max_sessions (1000)"},
		{NAT "  max_sessions_per_host: 70000\n", 12, 26,
			"nat.max_sessions_per_host",
			"70000 is more than max_sessions (65536)"},
		{NAT "  max_sessions_per_host: -1\n", 12, 26,
			"nat.max_sessions_per_host",
			"out of range: -1 (expected 0..100000000)"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_natfw_rejects_bad_port_mappings(void)
{
	static const struct bad t[] = {
		{MAP "    - protocol: tcp\n      public_port: 80\n"
		     "      private_address: 10.0.0.10\n",
			13, 7, "nat.port_mappings[0]",
			"missing required key 'name'"},
		{MAP "    - name: web\n      public_port: 80\n"
		     "      private_address: 10.0.0.10\n",
			13, 7, "nat.port_mappings[0]",
			"missing required key 'protocol'"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      private_address: 10.0.0.10\n",
			13, 7, "nat.port_mappings[0]",
			"missing required key 'public_port'"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n",
			13, 7, "nat.port_mappings[0]",
			"missing required key 'private_address'"},
		{MAP WEB "    - name: web\n      protocol: tcp\n"
			 "      public_port: 8081\n"
			 "      private_address: 10.0.0.11\n",
			17, 13, "nat.port_mappings[1].name",
			"duplicate mapping name 'web' (first at line 13)"},
		{MAP "    - name: a b\n      protocol: tcp\n"
		     "      public_port: 80\n      private_address: "
		     "10.0.0.10\n",
			13, 13, "nat.port_mappings[0].name",
			"invalid name 'a b': use 1..63 characters from A-Z a-z "
			"0-9 _ . : -"},
		{MAP "    - name: ping\n      protocol: icmp\n"
		     "      public_port: 80\n      private_address: "
		     "10.0.0.10\n",
			14, 17, "nat.port_mappings[0].protocol",
			"unknown protocol 'icmp': tcp or udp"},
		{MAP "    - name: web\n      protocol: 6\n"
		     "      public_port: 80\n      private_address: "
		     "10.0.0.10\n",
			14, 17, "nat.port_mappings[0].protocol",
			"unknown protocol '6': tcp or udp"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 0\n      private_address: 10.0.0.10\n",
			15, 20, "nat.port_mappings[0].public_port",
			"out of range: 0 (expected 1..65535)"},
		{MAP WEB "      private_port: 65536\n", 17, 21,
			"nat.port_mappings[0].private_port",
			"out of range: 65536 (expected 1..65535)"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n      private_address: "
		     "10.1.0.10\n",
			16, 24, "nat.port_mappings[0].private_address",
			"10.1.0.10 is not in the subnet of a private interface "
			"(lan0 10.0.0.0/24)"},
		/* on a public interface's subnet: not behind a private one */
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n      private_address: "
		     "192.0.2.10\n",
			16, 24, "nat.port_mappings[0].private_address",
			"192.0.2.10 is not in the subnet of a private "
			"interface"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n      private_address: 10.0.0.1\n",
			16, 24, "nat.port_mappings[0].private_address",
			"10.0.0.1 is the address of interface 'lan0' itself"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n"
		     "      private_address: 10.0.0.255\n",
			16, 24, "nat.port_mappings[0].private_address",
			"10.0.0.255 is the broadcast address of 10.0.0.0/24"},
		{MAP "    - name: web\n      protocol: tcp\n"
		     "      public_port: 80\n      private_address: 10.0.0\n",
			16, 24, "nat.port_mappings[0].private_address",
			"invalid address '10.0.0': expected a.b.c.d"},
		{MAP WEB "      public_address: 198.51.100.1\n", 17, 23,
			"nat.port_mappings[0].public_address",
			"198.51.100.1 is not a NAT address (the addresses of "
			"the public interfaces: 192.0.2.1)"},
		{NAT "  addresses:\n    - address: 192.0.2.1\n" /* 12-13 */
		     "  port_mappings:\n" WEB			/* 14-18 */
		     "      public_address: 192.0.2.2\n",
			19, 23, "nat.port_mappings[0].public_address",
			"192.0.2.2 is not a NAT address (nat.addresses: "
			"192.0.2.1)"},
		{MAP WEB "    - name: web2\n      protocol: tcp\n"
			 "      public_port: 8080\n"
			 "      private_address: 10.0.0.11\n",
			19, 20, "nat.port_mappings[1].public_port",
			"tcp 192.0.2.1:8080 is already mapped by 'web' (first "
			"at line 13)"},
		/* the same, with the default public address written out */
		{MAP WEB "    - name: web2\n      protocol: TCP\n"
			 "      public_port: 8080\n"
			 "      private_address: 10.0.0.11\n"
			 "      private_port: 80\n"
			 "      public_address: 192.0.2.1\n",
			19, 20, "nat.port_mappings[1].public_port",
			"tcp 192.0.2.1:8080 is already mapped by 'web'"},
		{MAP "    - web\n", 13, 7, "nat.port_mappings[0]",
			"expected a mapping, got 'web'"},
		{MAP WEB "      bogus: 1\n", 17, 7, "nat.port_mappings[0]",
			"unknown key 'bogus' (valid keys: name, protocol, "
			"public_port, private_address, private_port, "
			"public_address)"},
	};

	CHECK_BAD_TABLE(t);
}

/* -------------------------------------------------------------- firewall */

static void
test_config_natfw_rejects_bad_exceptions(void)
{
	/* an exception's protocol value is at column 17, port's at 13 */
	static const struct bad t[] = {
		{BASE "firewall: [ssh]\n", 9, 11, "firewall",
			"expected a mapping, got a list"},
		{BASE "firewall:\n  bogus: 1\n", 10, 3, "firewall",
			"unknown key 'bogus' (valid keys: enabled, exceptions, "
			"icmp, max_dynamic)"},
		{FW "    - protocol: tcp\n      port: 22\n", 11, 7,
			"firewall.exceptions[0]",
			"missing required key 'name'"},
		{FW "    - name: ssh\n      port: 22\n", 11, 7,
			"firewall.exceptions[0]",
			"missing required key 'protocol'"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "    - name: ssh\n      protocol: tcp\n      port: 2222\n",
			14, 13, "firewall.exceptions[1].name",
			"duplicate exception name 'ssh' (first at line 11)"},
		{FW "    - name: ssh\n      protocol: tcp\n", 11, 7,
			"firewall.exceptions[0]",
			"missing required key 'port' (a tcp exception names "
			"the local port it opens)"},
		{FW "    - name: dns\n      protocol: UDP\n", 11, 7,
			"firewall.exceptions[0]",
			"missing required key 'port' (a udp exception names "
			"the local port it opens)"},
		{FW "    - name: vpn\n      protocol: gre\n      port: 1723\n",
			13, 7, "firewall.exceptions[0].port",
			"port needs protocol: tcp or udp (the exception's "
			"protocol is gre)"},
		{FW "    - name: x\n      protocol: 132\n      port: 9\n", 13,
			7, "firewall.exceptions[0].port",
			"port needs protocol: tcp or udp (the exception's "
			"protocol is 132)"},
		{FW "    - name: ping\n      protocol: icmp\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"icmp is not an exception protocol: ICMP has its own "
			"policy, firewall.icmp"},
		{FW "    - name: ping\n      protocol: 1\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"icmp is not an exception protocol"},
		{FW "    - name: all\n      protocol: any\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"'any' would let every protocol in"},
		{FW "    - name: s\n      protocol: sctp\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"unknown protocol 'sctp': tcp, udp, gre, esp, ah or a "
			"number 0..255"},
		{FW "    - name: s\n      protocol: 256\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"out of range: 256 (expected 0..255)"},
		{FW "    - name: s\n      protocol: [tcp]\n", 12, 17,
			"firewall.exceptions[0].protocol",
			"expected a protocol (tcp, udp, gre, esp, ah or a "
			"number 0..255), got a list"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 0\n", 13,
			13, "firewall.exceptions[0].port",
			"out of range: 0 (expected 1..65535)"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 90-80\n",
			13, 13, "firewall.exceptions[0].port",
			"a range must go upwards (like 80-90), got '90-80'"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: ssh\n",
			13, 13, "firewall.exceptions[0].port",
			"expected a port (a number 1..65535 or a range "
			"\"LO-HI\"), got 'ssh'"},
		/* "      scope: [" opens the list at 14:14 */
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      scope: [10.0.0.0/8, 10.1.2.3/16]\n",
			14, 27, "firewall.exceptions[0].scope[1]",
			"host bits are set in '10.1.2.3/16': the prefix should "
			"be 10.1.0.0/16"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      scope: [10.0.0.0/33]\n",
			14, 15, "firewall.exceptions[0].scope[0]",
			"invalid address or prefix '10.0.0.0/33': expected "
			"a.b.c.d or a.b.c.d/len with len 0..32"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      scope: []\n",
			14, 14, "firewall.exceptions[0].scope",
			"an empty scope lets nobody in: leave scope out for "
			"any "
			"remote address"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      scope: 10.0.0.0/8\n",
			14, 14, "firewall.exceptions[0].scope",
			"expected a list, got '10.0.0.0/8'"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      interface: dmz0\n",
			14, 18, "firewall.exceptions[0].interface",
			"unknown interface 'dmz0' (interfaces: lan0, wan0, "
			"wan1)"},
		{FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		    "      direction: in\n",
			14, 7, "firewall.exceptions[0]",
			"unknown key 'direction' (valid keys: name, protocol, "
			"port, scope, interface)"},
		{BASE "firewall:\n  max_dynamic: 0\n", 10, 16,
			"firewall.max_dynamic",
			"out of range: 0 (expected 1..10000000)"},
		{BASE "firewall:\n  max_dynamic: 10000001\n", 10, 16,
			"firewall.max_dynamic",
			"out of range: 10000001 (expected 1..10000000)"},
		{BASE "firewall:\n  exceptions: {}\n", 10, 15,
			"firewall.exceptions",
			"expected a list, got a mapping"},
	};

	CHECK_BAD_TABLE(t);
}

static void
test_config_natfw_rejects_bad_icmp(void)
{
#define ICMP BASE "firewall:\n  icmp:\n" /* lines 9-10 */
	static const struct bad t[] = {
		{ICMP "    inbound:\n      echo: allow\n", 12, 7,
			"firewall.icmp.inbound",
			"unknown key 'echo' (valid keys: echo_request, "
			"timestamp_request, address_mask_request, "
			"router_solicitation)"},
		{ICMP "    inbound:\n      echo_request: deny\n", 12, 21,
			"firewall.icmp.inbound.echo_request",
			"unknown value 'deny': allow or block"},
		{ICMP "    inbound:\n      router_solicitation: true\n", 12, 28,
			"firewall.icmp.inbound.router_solicitation",
			"unknown value 'true': allow or block"},
		{ICMP "    outbound:\n      redirects: allow\n", 12, 7,
			"firewall.icmp.outbound",
			"unknown key 'redirects' (valid keys: "
			"destination_unreachable, source_quench, "
			"parameter_problem, time_exceeded, redirect, "
			"packet_too_big)"},
		{ICMP "    outbound:\n      packet_too_big: Allow\n", 12, 23,
			"firewall.icmp.outbound.packet_too_big",
			"unknown value 'Allow': allow or block"},
		{ICMP "    outbound:\n      time_exceeded: ~\n", 12, 22,
			"firewall.icmp.outbound.time_exceeded",
			"expected a string, got an empty value"},
		{ICMP "    forward: {}\n", 11, 5, "firewall.icmp",
			"unknown key 'forward' (valid keys: inbound, "
			"outbound)"},
		{ICMP "    echo_request: allow\n", 11, 5, "firewall.icmp",
			"unknown key 'echo_request' (valid keys: inbound, "
			"outbound)"},
		{BASE "firewall:\n  icmp: allow\n", 10, 9, "firewall.icmp",
			"expected a mapping, got 'allow'"},
	};
#undef ICMP

	CHECK_BAD_TABLE(t);
}

/* Every bad entry is reported, in file order, not only the first. */
static void
test_config_natfw_collects_all_errors(void)
{
	static const char yaml[] =
		BASE "nat:\n"			 /* 9 */
		     "  private: [lan0, wan9]\n" /* 10 */
		     "  public: [wan0]\n"	 /* 11 */
		     "  timeouts: {udp: 5}\n"	 /* 12 */
		     "  port_mappings:\n"	 /* 13 */
		     "    - {name: a, protocol: tcp, public_port: 80,"
		     " private_address: 10.9.0.1}\n"	 /* 14 */
		     "    - {name: a, protocol: sctp}\n" /* 15 */
		     "firewall:\n"			 /* 16 */
		     "  exceptions:\n"			 /* 17 */
		     "    - {name: x, protocol: icmp}\n" /* 18 */
		     "  icmp: {inbound: {echo_request: yes}}\n";
	struct tg_config *cfg = (struct tg_config *)&cfg;

	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs),
		-EINVAL);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_STRING_EQUAL(printed(),
		"t.yaml:10:19: nat.private[1]: unknown interface 'wan9' "
		"(interfaces: lan0, wan0, wan1)\n"
		"t.yaml:12:19: nat.timeouts.udp: out of range: 5 (expected "
		"10..86400)\n"
		"t.yaml:15:7: nat.port_mappings[1]: missing required key "
		"'public_port'\n"
		"t.yaml:15:7: nat.port_mappings[1]: missing required key "
		"'private_address'\n"
		"t.yaml:15:14: nat.port_mappings[1].name: duplicate mapping "
		"name 'a' (first at line 14)\n"
		"t.yaml:15:27: nat.port_mappings[1].protocol: unknown protocol "
		"'sctp': tcp or udp\n"
		"t.yaml:18:27: firewall.exceptions[0].protocol: icmp is not an "
		"exception protocol: ICMP has its own policy, firewall.icmp\n"
		"t.yaml:19:34: firewall.icmp.inbound.echo_request: unknown "
		"value 'yes': allow or block\n");
	CU_ASSERT_EQUAL(errs.n, 8);
}

/* ------------------------------------------------------------ good input */

/* Every key, none at its default. */
static const char full_yaml[] =
	BASE "nat:\n"				   /* 9 */
	     "  enabled: true\n"		   /* 10 */
	     "  private: [lan0]\n"		   /* 11 */
	     "  public: [wan0, wan1]\n"		   /* 12 */
	     "  addresses:\n"			   /* 13 */
	     "    - address: 198.51.100.1\n"	   /* 14 */
	     "      ports: 20000-29999\n"	   /* 15 */
	     "    - address: 192.0.2.1\n"	   /* 16 */
	     "  filtering: endpoint-independent\n" /* 17 */
	     "  timeouts:\n"			   /* 18 */
	     "    tcp_established: 7500\n"	   /* 19 */
	     "    tcp_transitory: 250\n"	   /* 20 */
	     "    udp: 310\n"			   /* 21 */
	     "    icmp: 70\n"			   /* 22 */
	     "    gre: 320\n"			   /* 23 */
	     "  max_sessions: 1000000\n"	   /* 24 */
	     "  max_sessions_per_host: 10000\n"	   /* 25 */
	     "  port_mappings:\n"		   /* 26 */
	     "    - name: web\n"		   /* 27 */
	     "      protocol: tcp\n"
	     "      public_port: 8080\n"
	     "      private_address: 10.0.0.10\n"
	     "      private_port: 80\n"
	     "      public_address: 192.0.2.1\n"
	     "    - name: dns\n" /* 33 */
	     "      protocol: UDP\n"
	     "      public_port: 53\n"
	     "      private_address: 10.0.0.53\n"
	     "    - name: dns-tcp\n" /* 37: tcp 53 is not udp 53 */
	     "      protocol: tcp\n"
	     "      public_port: 53\n"
	     "      private_address: 10.0.0.53\n"
	     "firewall:\n"	     /* 41 */
	     "  enabled: false\n"    /* 42 */
	     "  exceptions:\n"	     /* 43 */
	     "    - name: ssh\n"     /* 44 */
	     "      protocol: tcp\n" /* 45 */
	     "      port: 22\n"	     /* 46 */
	     "      scope: [10.0.0.0/8, 192.0.2.7, 0.0.0.0/0]\n"
	     "      interface: wan1\n"	   /* 48 */
	     "    - name: pptp-gre\n"	   /* 49 */
	     "      protocol: gre\n"	   /* 50 */
	     "    - name: games\n"	   /* 51 */
	     "      protocol: udp\n"	   /* 52 */
	     "      port: 27000-27015\n"   /* 53 */
	     "    - name: proto.132\n"	   /* 54 */
	     "      protocol: 132\n"	   /* 55 */
	     "  icmp:\n"		   /* 56 */
	     "    inbound:\n"		   /* 57 */
	     "      echo_request: allow\n" /* 58 */
	     "      timestamp_request: allow\n"
	     "      address_mask_request: allow\n"
	     "      router_solicitation: allow\n"
	     "    outbound:\n"
	     "      destination_unreachable: allow\n"
	     "      source_quench: allow\n"
	     "      parameter_problem: allow\n"
	     "      time_exceeded: allow\n"
	     "      redirect: allow\n"
	     "      packet_too_big: block\n"
	     "  max_dynamic: 200000\n";

/* What full_yaml's port mappings and exceptions must read as. */
static const struct tg_cfg_nat_mapping maps[] = {
	{.name = "web",
		.proto = 6,
		.public_addr = 0xc0000201,
		.public_port = 8080,
		.private_addr = 0x0a00000a, /* 10.0.0.10 */
		.private_port = 80,
		.private_iface = 0,
		.pos = {.line = 27}},
	{.name = "dns",
		.proto = 17,
		.public_addr = 0xc6336401,
		.public_port = 53,
		.private_addr = 0x0a000035, /* 10.0.0.53 */
		.private_port = 53,
		.private_iface = 0,
		.pos = {.line = 33}},
	{.name = "dns-tcp",
		.proto = 6,
		.public_addr = 0xc6336401,
		.public_port = 53,
		.private_addr = 0x0a000035,
		.private_port = 53,
		.private_iface = 0,
		.pos = {.line = 37}},
};

/* has_iface, n_scope as they must be; scope and iface checked apart */
static const struct tg_cfg_fw_exception excs[] = {
	{.name = "ssh",
		.proto = 6,
		.port_lo = 22,
		.port_hi = 22,
		.has_iface = true,
		.n_scope = 3,
		.pos = {.line = 44}},
	{.name = "pptp-gre", .proto = 47, .pos = {.line = 49}},
	{.name = "games",
		.proto = 17,
		.port_lo = 27000,
		.port_hi = 27015,
		.pos = {.line = 51}},
	{.name = "proto.132", .proto = 132, .pos = {.line = 54}},
};

static void
check_mapping(
	const struct tg_cfg_nat_mapping *m, const struct tg_cfg_nat_mapping *x)
{
	CU_ASSERT_STRING_EQUAL(m->name, x->name);
	CU_ASSERT_EQUAL(m->proto, x->proto);
	CU_ASSERT_EQUAL(m->public_addr, x->public_addr);
	CU_ASSERT_EQUAL(m->public_port, x->public_port);
	CU_ASSERT_EQUAL(m->private_addr, x->private_addr);
	CU_ASSERT_EQUAL(m->private_port, x->private_port);
	CU_ASSERT_EQUAL(m->private_iface, x->private_iface);
	CU_ASSERT_EQUAL(m->pos.line, x->pos.line);
}

static void
check_exception(const struct tg_cfg_fw_exception *e,
	const struct tg_cfg_fw_exception *x)
{
	CU_ASSERT_STRING_EQUAL(e->name, x->name);
	CU_ASSERT_EQUAL(e->proto, x->proto);
	CU_ASSERT_EQUAL(e->port_lo, x->port_lo);
	CU_ASSERT_EQUAL(e->port_hi, x->port_hi);
	CU_ASSERT_EQUAL(e->has_iface, x->has_iface);
	CU_ASSERT_EQUAL(e->n_scope, x->n_scope);
	CU_ASSERT_EQUAL(e->pos.line, x->pos.line);
}

static void
test_config_natfw_reads_every_key(void)
{
	struct tg_config *cfg = parse_ok(full_yaml);
	const struct tg_cfg_nat *nat;
	const struct tg_cfg_firewall *fw;
	const struct tg_cfg_fw_exception *e;
	size_t i;

	CU_ASSERT_FATAL(cfg != NULL);
	nat = &cfg->nat;
	CU_ASSERT_TRUE(nat->enabled);
	CU_ASSERT_EQUAL(nat->pos.line, 10);
	CU_ASSERT_EQUAL(nat->pos.col, 3);
	CU_ASSERT_EQUAL_FATAL(nat->n_private, 1);
	CU_ASSERT_EQUAL(nat->private_ifaces[0], 0);
	CU_ASSERT_EQUAL_FATAL(nat->n_public, 2);
	CU_ASSERT_EQUAL(nat->public_ifaces[0], 1);
	CU_ASSERT_EQUAL(nat->public_ifaces[1], 2);
	/* in list order, each on its interface */
	CU_ASSERT_EQUAL_FATAL(nat->n_addresses, 2);
	CU_ASSERT_EQUAL(nat->addresses[0].addr, 0xc6336401); /* 198.51.100.1 */
	CU_ASSERT_EQUAL(nat->addresses[0].iface, 2);
	CU_ASSERT_EQUAL(nat->addresses[0].port_lo, 20000);
	CU_ASSERT_EQUAL(nat->addresses[0].port_hi, 29999);
	CU_ASSERT_FALSE(nat->addresses[0].implicit);
	CU_ASSERT_EQUAL(nat->addresses[0].pos.line, 14);
	CU_ASSERT_EQUAL(nat->addresses[0].pos.col, 7);
	CU_ASSERT_EQUAL(nat->addresses[1].addr, 0xc0000201); /* 192.0.2.1 */
	CU_ASSERT_EQUAL(nat->addresses[1].iface, 1);
	CU_ASSERT_EQUAL(nat->addresses[1].port_lo, 1024);
	CU_ASSERT_EQUAL(nat->addresses[1].port_hi, 65535);
	CU_ASSERT_FALSE(nat->addresses[1].implicit);
	CU_ASSERT_EQUAL(nat->addresses[1].pos.line, 16);
	CU_ASSERT_EQUAL(nat->addresses[1].pos.col, 7);
	CU_ASSERT_EQUAL(nat->filtering, TG_CFG_NAT_FILTER_ENDPOINT_INDEP);
	CU_ASSERT_EQUAL(nat->timeouts.tcp_established, 7500);
	CU_ASSERT_EQUAL(nat->timeouts.tcp_transitory, 250);
	CU_ASSERT_EQUAL(nat->timeouts.udp, 310);
	CU_ASSERT_EQUAL(nat->timeouts.icmp, 70);
	CU_ASSERT_EQUAL(nat->timeouts.gre, 320);
	CU_ASSERT_EQUAL(nat->max_sessions, 1000000);
	CU_ASSERT_EQUAL(nat->max_sessions_per_host, 10000);

	CU_ASSERT_EQUAL_FATAL(nat->n_mappings, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nat->mappings);
	/* no public_address: the first NAT address; no private_port: the
	 * public one; protocol names in any case */
	for (i = 0; i < 3; i++)
		check_mapping(&nat->mappings[i], &maps[i]);
	CU_ASSERT_EQUAL(nat->mappings[0].pos.col, 7);

	fw = &cfg->firewall;
	CU_ASSERT_FALSE(fw->enabled);
	CU_ASSERT_EQUAL(fw->pos.line, 42);
	CU_ASSERT_EQUAL(fw->pos.col, 3);
	CU_ASSERT_EQUAL_FATAL(fw->n_exceptions, 4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fw->exceptions);
	for (i = 0; i < 4; i++)
		check_exception(&fw->exceptions[i], &excs[i]);
	e = &fw->exceptions[0];
	CU_ASSERT_EQUAL(e->iface, 2);
	CU_ASSERT_EQUAL_FATAL(e->n_scope, 3);
	CU_ASSERT_EQUAL(e->scope[0].addr, 0x0a000000);
	CU_ASSERT_EQUAL(e->scope[0].len, 8);
	CU_ASSERT_EQUAL(e->scope[1].addr, 0xc0000207); /* 192.0.2.7 */
	CU_ASSERT_EQUAL(e->scope[1].len, 32);
	CU_ASSERT_EQUAL(e->scope[2].addr, 0);
	CU_ASSERT_EQUAL(e->scope[2].len, 0);
	CU_ASSERT_EQUAL(e->pos.col, 7);
	CU_ASSERT_TRUE(fw->icmp.inbound.echo_request);
	CU_ASSERT_TRUE(fw->icmp.inbound.timestamp_request);
	CU_ASSERT_TRUE(fw->icmp.inbound.address_mask_request);
	CU_ASSERT_TRUE(fw->icmp.inbound.router_solicitation);
	CU_ASSERT_TRUE(fw->icmp.outbound.destination_unreachable);
	CU_ASSERT_TRUE(fw->icmp.outbound.source_quench);
	CU_ASSERT_TRUE(fw->icmp.outbound.parameter_problem);
	CU_ASSERT_TRUE(fw->icmp.outbound.time_exceeded);
	CU_ASSERT_TRUE(fw->icmp.outbound.redirect);
	CU_ASSERT_FALSE(fw->icmp.outbound.packet_too_big);
	CU_ASSERT_EQUAL(fw->max_dynamic, 200000);
	tg_config_free(cfg);
}

static void
check_nat_defaults(const struct tg_cfg_nat *nat)
{
	CU_ASSERT_EQUAL(nat->filtering, TG_CFG_NAT_FILTER_ADDR_PORT);
	CU_ASSERT_EQUAL(nat->timeouts.tcp_established, 7440);
	CU_ASSERT_EQUAL(nat->timeouts.tcp_transitory, 240);
	CU_ASSERT_EQUAL(nat->timeouts.udp, 300);
	CU_ASSERT_EQUAL(nat->timeouts.icmp, 60);
	CU_ASSERT_EQUAL(nat->timeouts.gre, 300);
	CU_ASSERT_EQUAL(nat->max_sessions, 65536);
	CU_ASSERT_EQUAL(nat->max_sessions_per_host, 0);
	CU_ASSERT_EQUAL(nat->n_mappings, 0);
	CU_ASSERT_PTR_NULL(nat->mappings);
}

static void
check_fw_defaults(const struct tg_cfg_firewall *fw)
{
	CU_ASSERT_EQUAL(fw->n_exceptions, 0);
	CU_ASSERT_PTR_NULL(fw->exceptions);
	CU_ASSERT_FALSE(fw->icmp.inbound.echo_request);
	CU_ASSERT_FALSE(fw->icmp.inbound.timestamp_request);
	CU_ASSERT_FALSE(fw->icmp.inbound.address_mask_request);
	CU_ASSERT_FALSE(fw->icmp.inbound.router_solicitation);
	CU_ASSERT_FALSE(fw->icmp.outbound.destination_unreachable);
	CU_ASSERT_FALSE(fw->icmp.outbound.source_quench);
	CU_ASSERT_FALSE(fw->icmp.outbound.parameter_problem);
	CU_ASSERT_FALSE(fw->icmp.outbound.time_exceeded);
	CU_ASSERT_FALSE(fw->icmp.outbound.redirect);
	CU_ASSERT_TRUE(fw->icmp.outbound.packet_too_big);
	CU_ASSERT_EQUAL(fw->max_dynamic, 65536);
}

/* Without the sections: both off, with their defaults in place. */
static void
test_config_natfw_absent(void)
{
	struct tg_config *cfg = parse_ok(BASE);

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->nat.enabled);
	CU_ASSERT_EQUAL(cfg->nat.n_private + cfg->nat.n_public, 0);
	CU_ASSERT_EQUAL(cfg->nat.n_addresses, 0);
	CU_ASSERT_EQUAL(cfg->nat.pos.line, 0);
	check_nat_defaults(&cfg->nat);
	CU_ASSERT_FALSE(cfg->firewall.enabled);
	CU_ASSERT_EQUAL(cfg->firewall.pos.line, 0);
	check_fw_defaults(&cfg->firewall);
	tg_config_free(cfg);
}

/* Present with only what is required: on, defaults, and the address of
 * the public interface filled in. */
static void
test_config_natfw_defaults(void)
{
	struct tg_config *cfg = parse_ok(
		BASE "nat: {private: [lan0], public: [wan0]}\nfirewall: {}\n");
	const struct tg_cfg_nat_address *a;

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_TRUE(cfg->nat.enabled);
	CU_ASSERT_EQUAL(cfg->nat.pos.line, 9);
	CU_ASSERT_EQUAL(cfg->nat.pos.col, 6);
	CU_ASSERT_EQUAL(cfg->nat.n_private, 1);
	CU_ASSERT_EQUAL(cfg->nat.private_ifaces[0], 0);
	CU_ASSERT_EQUAL(cfg->nat.n_public, 1);
	CU_ASSERT_EQUAL(cfg->nat.public_ifaces[0], 1);
	check_nat_defaults(&cfg->nat);
	CU_ASSERT_EQUAL_FATAL(cfg->nat.n_addresses, 1);
	a = &cfg->nat.addresses[0];
	CU_ASSERT_EQUAL(a->addr, 0xc0000201);
	CU_ASSERT_EQUAL(a->iface, 1);
	CU_ASSERT_EQUAL(a->port_lo, 1024);
	CU_ASSERT_EQUAL(a->port_hi, 65535);
	CU_ASSERT_TRUE(a->implicit);
	/* where wan0 is named in nat.public */
	CU_ASSERT_EQUAL(a->pos.line, 9);
	CU_ASSERT_EQUAL(a->pos.col, 33);
	CU_ASSERT_TRUE(cfg->firewall.enabled);
	CU_ASSERT_EQUAL(cfg->firewall.pos.line, 10);
	CU_ASSERT_EQUAL(cfg->firewall.pos.col, 11);
	check_fw_defaults(&cfg->firewall);
	tg_config_free(cfg);

	/* enabled: false keeps (and checks) the rest; empty icmp mappings
	 * keep every default */
	cfg = parse_ok(NAT "  enabled: no\nfirewall:\n  enabled: false\n"
			   "  icmp: {inbound: {}, outbound: {}}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FALSE(cfg->nat.enabled);
	CU_ASSERT_EQUAL(cfg->nat.n_addresses, 1);
	CU_ASSERT_FALSE(cfg->firewall.enabled);
	check_fw_defaults(&cfg->firewall);
	tg_config_free(cfg);
}

/* Without nat.addresses: the address of every public interface, in
 * nat.public order, whatever order the interfaces are in. */
static void
test_config_natfw_implicit_addresses(void)
{
	struct tg_config *cfg =
		parse_ok(BASE "nat:\n  private: [lan0]\n  public: [wan1, "
			      "wan0]\n  port_mappings:\n"
			      "    - {name: a, protocol: udp, public_port: "
			      "500, private_address: 10.0.0.2}\n"
			      "    - {name: b, protocol: udp, public_port: "
			      "500, private_address: 10.0.0.3, "
			      "public_address: 192.0.2.1}\n");

	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL_FATAL(cfg->nat.n_addresses, 2);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].addr, 0xc6336401);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].iface, 2);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].pos.line, 11);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].pos.col, 12);
	CU_ASSERT_EQUAL(cfg->nat.addresses[1].addr, 0xc0000201);
	CU_ASSERT_EQUAL(cfg->nat.addresses[1].iface, 1);
	CU_ASSERT_EQUAL(cfg->nat.addresses[1].pos.col, 18);
	CU_ASSERT_TRUE(cfg->nat.addresses[1].implicit);
	CU_ASSERT_EQUAL(cfg->nat.addresses[1].port_lo, 1024);
	CU_ASSERT_EQUAL(cfg->nat.addresses[1].port_hi, 65535);
	/* udp 500 on each address: no clash */
	CU_ASSERT_EQUAL_FATAL(cfg->nat.n_mappings, 2);
	CU_ASSERT_EQUAL(cfg->nat.mappings[0].public_addr, 0xc6336401);
	CU_ASSERT_EQUAL(cfg->nat.mappings[1].public_addr, 0xc0000201);
	tg_config_free(cfg);

	/* the smallest port range NAT takes, and a single-port exception */
	cfg = parse_ok(NAT "  addresses:\n    - address: 192.0.2.1\n"
			   "      ports: 1-64\n"
			   "firewall:\n  exceptions:\n"
			   "    - {name: e, protocol: tcp, port: \"65535\"}\n");
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].port_lo, 1);
	CU_ASSERT_EQUAL(cfg->nat.addresses[0].port_hi, 64);
	CU_ASSERT_EQUAL(cfg->firewall.exceptions[0].port_lo, 65535);
	CU_ASSERT_EQUAL(cfg->firewall.exceptions[0].port_hi, 65535);
	tg_config_free(cfg);
}

/* ------------------------------------------------------------ the limits */

/* @p n ports and interfaces wan<k> (192.0.<k>.1/24) and lan0; nat with
 * every wan public. Returns the length. */
static size_t
many_publics(char *y, size_t cap, unsigned int n, bool list_addresses)
{
	size_t o = 0;
	unsigned int k;

	o += (size_t)snprintf(
		y + o, cap - o, "ports:\n  - {name: p, device: net_null99}\n");
	for (k = 0; k < n; k++)
		o += (size_t)snprintf(y + o, cap - o,
			"  - {name: p%u, device: net_null%u}\n", k, k);
	o += (size_t)snprintf(y + o, cap - o,
		"interfaces:\n  - {name: lan0, port: p, address: "
		"10.0.0.1/24}\n");
	for (k = 0; k < n; k++)
		o += (size_t)snprintf(y + o, cap - o,
			"  - {name: wan%u, port: p%u, address: "
			"192.0.%u.1/24}\n",
			k, k, k);
	o += (size_t)snprintf(y + o, cap - o,
		"nat:\n  private: [lan0]\n"
		"  public:\n");
	for (k = 0; k < n; k++)
		o += (size_t)snprintf(y + o, cap - o, "    - wan%u\n", k);
	if (list_addresses) {
		o += (size_t)snprintf(y + o, cap - o, "  addresses:\n");
		for (k = 0; k < n; k++)
			o += (size_t)snprintf(y + o, cap - o,
				"    - address: 192.0.%u.1\n", k);
	}
	return o;
}

static void
test_config_natfw_address_limit(void)
{
	static char y[8192];
	struct tg_config *cfg;
	struct bad b = {y, 0, 0, "", ""};

	many_publics(y, sizeof(y), TG_CFG_NAT_MAX_ADDRESSES, true);
	cfg = parse_ok(y);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->nat.n_addresses, 16);
	CU_ASSERT_EQUAL(cfg->nat.addresses[15].iface, 16);
	tg_config_free(cfg);
	many_publics(y, sizeof(y), TG_CFG_NAT_MAX_ADDRESSES, false);
	cfg = parse_ok(y);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->nat.n_addresses, 16);
	CU_ASSERT_TRUE(cfg->nat.addresses[15].implicit);
	tg_config_free(cfg);

	/* 17 listed: the 17th is too many (lines: 1 + 18 ports, 1 + 18
	 * interfaces, 3 + 17 nat, 1 addresses, then the entries) */
	many_publics(y, sizeof(y), TG_CFG_NAT_MAX_ADDRESSES + 1, true);
	b.line = 19 + 19 + 20 + 1 + 17;
	b.col = 7;
	b.path = "nat.addresses[16]";
	b.msg = "too many addresses (at most 16)";
	check_bad(&b, __LINE__);
	/* 17 implied: refused at nat.public's list (after nat, private,
	 * public) */
	many_publics(y, sizeof(y), TG_CFG_NAT_MAX_ADDRESSES + 1, false);
	b.line = 19 + 19 + 4;
	b.col = 5;
	b.path = "nat.public";
	b.msg = "17 public interfaces are more NAT addresses than the 16 "
		"allowed: list the ones to use under nat.addresses";
	check_bad(&b, __LINE__);
}

/* @p n port mappings on distinct ports, then the same in exceptions. */
static char *
many_entries(unsigned int n, bool exceptions)
{
	size_t cap = 200 + (size_t)n * 120, o;
	char *y = malloc(cap);
	unsigned int k;

	CU_ASSERT_FATAL(y != NULL);
	o = (size_t)snprintf(y, cap, "%s",
		exceptions ? FW : MAP); /* entries from line 11 or 13 */
	for (k = 0; k < n; k++)
		o += (size_t)snprintf(y + o, cap - o,
			exceptions ? "    - {name: e%u, protocol: tcp, port: "
				     "%u}\n"
				   : "    - {name: m%u, protocol: tcp, "
				     "public_port: %u, private_address: "
				     "10.0.0.2}\n",
			k, k + 1);
	return y;
}

static void
test_config_natfw_list_limits(void)
{
	struct tg_config *cfg;
	struct bad b;
	char *y;

	y = many_entries(TG_CFG_NAT_MAX_MAPPINGS, false);
	cfg = parse_ok(y);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->nat.n_mappings, 1024);
	CU_ASSERT_EQUAL(cfg->nat.mappings[1023].public_port, 1024);
	tg_config_free(cfg);
	free(y);
	y = many_entries(TG_CFG_NAT_MAX_MAPPINGS + 1, false);
	b = (struct bad){y, 13 + 1024, 7, "nat.port_mappings[1024]",
		"too many port mappings (at most 1024)"};
	check_bad(&b, __LINE__);
	free(y);

	y = many_entries(TG_CFG_FW_MAX_EXCEPTIONS, true);
	cfg = parse_ok(y);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->firewall.n_exceptions, 1024);
	CU_ASSERT_STRING_EQUAL(cfg->firewall.exceptions[1023].name, "e1023");
	tg_config_free(cfg);
	free(y);
	y = many_entries(TG_CFG_FW_MAX_EXCEPTIONS + 1, true);
	b = (struct bad){y, 11 + 1024, 7, "firewall.exceptions[1024]",
		"too many exceptions (at most 1024)"};
	check_bad(&b, __LINE__);
	free(y);
}

static void
test_config_natfw_scope_limit(void)
{
	static char y[2048];
	struct tg_config *cfg;
	struct bad b = {y, 14, 0, "firewall.exceptions[0].scope[16]",
		"too many scope entries (at most 16)"};
	int k, n;

	n = snprintf(y, sizeof(y),
		FW "    - name: ssh\n      protocol: tcp\n      port: 22\n"
		   "      scope: [10.0.0.0/24");
	for (k = 1; k < TG_CFG_FW_MAX_SCOPE; k++)
		n += snprintf(y + n, sizeof(y) - n, ", 10.0.%d.0/24", k);
	/* a 17th entry would start after ", " */
	b.col = (uint32_t)(y + n - strrchr(y, '\n')) + 2;
	snprintf(y + n, sizeof(y) - n, "]\n");
	cfg = parse_ok(y);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_EQUAL(cfg->firewall.exceptions[0].n_scope, 16);
	CU_ASSERT_EQUAL(cfg->firewall.exceptions[0].scope[15].addr, 0x0a000f00);
	tg_config_free(cfg);
	snprintf(y + n, sizeof(y) - n, ", 10.0.16.0/24]\n");
	check_bad(&b, __LINE__);
}

/* Any prefix or corruption of the full example: 0, or -EINVAL with
 * errors; never a crash or a leak (ASan). */
static void
test_config_natfw_truncated_or_corrupt_input_never_crashes(void)
{
	static const char bytes[] = {
		'\0', ':', '[', '{', '-', '\n', ' ', '9', 'x'};

	CU_ASSERT_EQUAL(tg_test_cfg_mangle(full_yaml, strlen(BASE), bytes,
				sizeof(bytes), NULL),
		0);
}

int
main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("config_natfw", NULL, NULL,
		"test_config_natfw_rejects_bad_nat_interfaces",
		test_config_natfw_rejects_bad_nat_interfaces,
		"test_config_natfw_rejects_bad_nat_addresses",
		test_config_natfw_rejects_bad_nat_addresses,
		"test_config_natfw_rejects_bad_nat_values",
		test_config_natfw_rejects_bad_nat_values,
		"test_config_natfw_rejects_bad_port_mappings",
		test_config_natfw_rejects_bad_port_mappings,
		"test_config_natfw_rejects_bad_exceptions",
		test_config_natfw_rejects_bad_exceptions,
		"test_config_natfw_rejects_bad_icmp",
		test_config_natfw_rejects_bad_icmp,
		"test_config_natfw_collects_all_errors",
		test_config_natfw_collects_all_errors,
		"test_config_natfw_reads_every_key",
		test_config_natfw_reads_every_key, "test_config_natfw_absent",
		test_config_natfw_absent, "test_config_natfw_defaults",
		test_config_natfw_defaults,
		"test_config_natfw_implicit_addresses",
		test_config_natfw_implicit_addresses,
		"test_config_natfw_address_limit",
		test_config_natfw_address_limit,
		"test_config_natfw_list_limits", test_config_natfw_list_limits,
		"test_config_natfw_scope_limit", test_config_natfw_scope_limit,
		"test_config_natfw_truncated_or_corrupt_input_never_crashes",
		test_config_natfw_truncated_or_corrupt_input_never_crashes,
		NULL);
	return tg_test_run();
}
