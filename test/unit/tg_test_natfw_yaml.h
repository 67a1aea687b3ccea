/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration text the natfw suites start from (test_natfw,
 * test_natfw_pptp, test_natfw_reload, test_config_natfw): apart from
 * lib/natfw so that lib/config's suite can use it.
 */
#ifndef TG_TEST_NATFW_YAML_H
#define TG_TEST_NATFW_YAML_H

/* Lines 1-7: three ports, lan0 10.0.0.1/24 (port p0) and wan0
 * 192.0.2.1/24 (p1); the third interface, on p2, is each suite's. */
#define TG_TEST_NATFW_PORTS                                                    \
	"ports:\n"                                                             \
	"  - {name: p0, device: net_null0}\n"                                  \
	"  - {name: p1, device: net_null1}\n"                                  \
	"  - {name: p2, device: net_null2}\n"                                  \
	"interfaces:\n"                                                        \
	"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"                   \
	"  - {name: wan0, port: p1, address: 192.0.2.1/24}\n"

/* ...and dmz0 172.16.0.1/24 on p2 (no role) */
#define TG_TEST_NATFW_BASE                                                     \
	TG_TEST_NATFW_PORTS                                                    \
	"  - {name: dmz0, port: p2, address: 172.16.0.1/24}\n"

/* The smallest nat and firewall sections. */
#define TG_TEST_NATFW_NAT "nat:\n  private: [lan0]\n  public: [wan0]\n"
#define TG_TEST_NATFW_FW  "firewall: {}\n"

#endif /* TG_TEST_NATFW_YAML_H */
