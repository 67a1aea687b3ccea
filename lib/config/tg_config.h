/* SPDX-License-Identifier: BSD-3-Clause
 * The configuration model: YAML (libyaml) → plain, validated C structs.
 * No DPDK handles and no pointers into the YAML document; builders in each
 * component turn this model into dataplane tables (CONVENTIONS.md rule 3).
 * All IPv4 addresses are stored in host byte order.
 *
 * The schema is documented in docs/configuration.md; the files in config/ are
 * working examples.
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TG_NAME_MAX	  32  /**< names of ports and interfaces, incl. NUL */
#define TG_DEVARG_MAX	  512 /**< a PCI address or vdev string */
#define TG_MAX_PORTS	  32
#define TG_MAX_LCORES	  128
#define TG_MAX_EAL_ARGS	  64
#define TG_CFG_MAX_ERRORS 64

/** Where a value sits in the YAML file (1-based), for build-time errors. */
struct tg_cfg_pos {
	uint32_t line;
	uint32_t col;
};

/** dpdk: — EAL arguments. Turned into argv by tg_config_eal_args(). */
struct tg_cfg_dpdk {
	char lcores[64];      /**< "-l" list, e.g. "0-1"; "" = EAL default */
	uint32_t memory_mb;   /**< "-m"; 0 = EAL default */
	bool no_huge;	      /**< "--no-huge" */
	char file_prefix[64]; /**< "--file-prefix"; "" = EAL default */
	char log_level[64];   /**< "--log-level"; "" = default */
	uint16_t n_extra;
	char extra[TG_MAX_EAL_ARGS][128]; /**< args: [...] passed verbatim */
};

/** ports: — one DPDK ethdev each. Not changeable at run time. */
struct tg_cfg_port {
	char name[TG_NAME_MAX];
	char device[TG_DEVARG_MAX]; /**< "0000:01:00.0" or "net_pcap0,rx_pcap=…"
				     */
	bool is_pci;		    /**< device parsed as a PCI address */
	uint16_t rx_queues;	    /**< default 1 */
	uint16_t rx_desc;	    /**< default 1024 */
	uint16_t tx_desc;	    /**< default 1024 */
	struct tg_cfg_pos pos;
	struct tg_cfg_pos
		device_pos; /**< of the device value: start-up errors */
};

/*
 * interfaces[].filters: — the filter hook (RRAS packet filters): per
 * interface an inbound list (packets that arrived on it) and an outbound
 * list (packets that leave by it), on transit, target and source traffic
 * alike. Reload.
 */
#define TG_CFG_FILTER_RULE_NAME_MAX 64	    /**< incl. NUL */
#define TG_CFG_FILTER_MAX_RULES	    1000000 /**< per list */

enum tg_cfg_filter_dir {
	TG_CFG_FILTER_IN = 0, /**< inbound: the receiving interface */
	TG_CFG_FILTER_OUT,    /**< outbound: the next-hop interface */
	TG_CFG_FILTER__DIRS
};

enum tg_cfg_filter_mode {
	/** "deny-listed": pass everything except what a rule denies */
	TG_CFG_FILTER_DENY_LISTED = 0,
	/** "allow-listed": drop everything except what a rule allows */
	TG_CFG_FILTER_ALLOW_LISTED,
};

enum tg_cfg_filter_action {
	TG_CFG_FILTER_ALLOW = 0,
	TG_CFG_FILTER_DENY,
};

/** What a rule matches on: every condition given must hold. */
#define TG_CFG_FR_SPORT	      0x01 /**< sport_lo..sport_hi given */
#define TG_CFG_FR_DPORT	      0x02
#define TG_CFG_FR_ICMP_TYPE   0x04
#define TG_CFG_FR_ICMP_CODE   0x08 /**< only with a type */
#define TG_CFG_FR_ESTABLISHED 0x10 /**< TCP with ACK or RST set */
#define TG_CFG_FR_L4                                                           \
	(TG_CFG_FR_SPORT | TG_CFG_FR_DPORT | TG_CFG_FR_ICMP_TYPE |             \
		TG_CFG_FR_ICMP_CODE | TG_CFG_FR_ESTABLISHED)

struct tg_cfg_filter_rule {
	char name[TG_CFG_FILTER_RULE_NAME_MAX]; /**< unique in its list */
	uint8_t action;	 /**< enum tg_cfg_filter_action; default: deny
			      in a deny-listed list, allow in an
			      allow-listed one */
	uint8_t match;	 /**< TG_CFG_FR_* */
	bool any_proto;	 /**< no protocol given: every protocol */
	uint8_t proto;	 /**< IP protocol when !any_proto */
	uint32_t src;	 /**< host order, host bits zero */
	uint8_t src_len; /**< 0 = any */
	uint32_t dst;
	uint8_t dst_len;
	uint16_t sport_lo, sport_hi; /**< TCP/UDP, inclusive */
	uint16_t dport_lo, dport_hi;
	uint8_t icmp_type, icmp_code;
	struct tg_cfg_pos pos; /**< of the rule's mapping */
};

/** Same name and definition (action and every match field; not the
 *  position in the file). */
static inline bool
tg_cfg_filter_rule_same(
	const struct tg_cfg_filter_rule *a, const struct tg_cfg_filter_rule *b)
{
	return a->action == b->action && a->match == b->match &&
	       a->any_proto == b->any_proto &&
	       (a->any_proto || a->proto == b->proto) && a->src == b->src &&
	       a->src_len == b->src_len && a->dst == b->dst &&
	       a->dst_len == b->dst_len && a->sport_lo == b->sport_lo &&
	       a->sport_hi == b->sport_hi && a->dport_lo == b->dport_lo &&
	       a->dport_hi == b->dport_hi && a->icmp_type == b->icmp_type &&
	       a->icmp_code == b->icmp_code &&
	       __builtin_strcmp(a->name, b->name) == 0;
}

struct tg_cfg_filter_list {
	bool set;     /**< the direction is configured */
	uint8_t mode; /**< enum tg_cfg_filter_mode */
	uint32_t n_rules;
	struct tg_cfg_filter_rule *rules; /**< malloc'd, in list order */
	struct tg_cfg_pos pos;
};

/** interfaces: — IPv4 settings of a port (one interface per port). */
struct tg_cfg_iface {
	char name[TG_NAME_MAX];
	uint16_t port;	    /**< index into tg_config.ports */
	uint32_t addr;	    /**< the appliance's address on it */
	uint8_t prefix_len; /**< 1..32 (0 is rejected) */
	uint16_t mtu;	    /**< IP MTU, default 1500, 68..9000 */
	struct tg_cfg_filter_list filters[TG_CFG_FILTER__DIRS];
	struct tg_cfg_pos pos;
};

/** routes: — static routes. Connected routes come from interfaces. */
struct tg_cfg_route {
	uint32_t prefix; /**< host bits are zero (validated) */
	uint8_t len;	 /**< 0..32 */
	uint32_t via;	 /**< gateway, 0 = on-link (no gateway) */
	uint16_t iface;	 /**< index into tg_config.ifaces */
	struct tg_cfg_pos pos;
};

/** neighbors: — static ARP entries. */
struct tg_cfg_neighbor {
	uint32_t addr;
	uint8_t mac[6];
	uint16_t iface; /**< index into tg_config.ifaces */
	struct tg_cfg_pos pos;
};

/** arp: — neighbor resolution. max_neighbors is fixed at start-up. */
struct tg_cfg_arp {
	uint32_t reachable_s; /**< entry valid for, default 300 */
	uint32_t retry_ms;    /**< request retransmit interval, default 1000 */
	uint32_t max_retries; /**< requests before failing, default 3 */
	uint32_t failed_hold_s; /**< keep a failed entry (drop fast), default 3
				 */
	uint32_t hold_packets; /**< packets held per unresolved entry, default 4
				*/
	uint32_t max_neighbors; /**< cache capacity, default 4096 */
};

/** icmp: — errors the appliance generates. Rate is per worker lcore. */
struct tg_cfg_icmp {
	bool ttl_exceeded; /**< send Time Exceeded, default true */
	bool unreachable;  /**< send Destination Unreachable, default true */
	uint32_t rate;	   /**< errors per second, default 100; 0 = none */
	uint32_t burst;	   /**< bucket depth, default 50 */
};

/** arp.hold_packets: the most packets held per unresolved neighbor (the
 *  hold blocks are allocated once, at start-up, for this many). */
#define TG_CFG_ARP_HOLD_MAX 16

/** Stage names as written in pipeline.placement[].stages, in the order of
 *  enum tg_stage (pipelines/ checks this with a static assertion). */
#define TG_CFG_N_STAGES 5
extern const char *const tg_cfg_stage_names[TG_CFG_N_STAGES];

/** One lcore's share of the work (pipeline.placement). */
struct tg_cfg_placement {
	uint32_t lcore;
	uint32_t stage_mask; /**< bit (1 << enum tg_stage) */
	uint16_t n_rxq;
	uint16_t rxq_port[TG_MAX_PORTS]; /**< index into tg_config.ports */
	uint16_t rxq_queue[TG_MAX_PORTS];
	struct tg_cfg_pos pos;
};

/** pipeline: — stages, rings and where they run. Start-up only. */
struct tg_cfg_pipeline {
	uint16_t burst;	    /**< default 32, 1..64 */
	uint32_t ring_size; /**< per stage ring, power of two, default 1024 */
	/** default true: pass by stages with nothing configured (no ring
	 *  hop); false makes every packet visit every stage of its path,
	 *  to measure a ring hop or exercise a placement. Reload. */
	bool bypass_idle_stages;
	/** Decisions the filter stage's lcore remembers (tg_filter.h,
	 *  "Decision cache"), rounded up to whole buckets; 0: none, every
	 *  packet walks rte_acl. Default 49152 (1 MiB). Start-up only. */
	uint32_t filter_cache;
	/** After TG_IDLE_POLLS empty iterations in a row, a worker sleeps
	 *  this long (µs) after each further empty one, until a packet
	 *  comes; 0 (default): it polls without pause. For workers that
	 *  share their cores (tg_pipeline.h, tg_pipeline_idle_us()). Reload. */
	uint32_t idle_sleep_us;
	uint16_t n_placement; /**< 0 = default placement over the workers */
	struct tg_cfg_placement placement[TG_MAX_LCORES];
};

/** mempool: — packet buffers. Start-up only. */
struct tg_cfg_mempool {
	uint32_t mbufs;	    /**< default 8191 */
	uint32_t cache;	    /**< default 256 */
	uint16_t data_room; /**< default RTE_MBUF_DEFAULT_BUF_SIZE (2176) */
};

/*
 * local_filter: — TCP/IP filtering of target traffic (what the local host
 * accepts). Reload. Each list is "all" or an allow-list of numbers and
 * inclusive ranges.
 */
#define TG_CFG_LF_MAX_RANGES 64 /* entries per list */

struct tg_cfg_lf_list {
	bool set; /**< given in the YAML (an override inherits when not) */
	bool all; /**< "all": every value passes (n is 0) */
	uint16_t n;
	struct {
		uint16_t lo, hi; /**< inclusive; protocols 0..255, ports
				      0..65535 */
	} r[TG_CFG_LF_MAX_RANGES];
};

struct tg_cfg_lf_rules {
	struct tg_cfg_lf_list protocols; /**< IP protocol numbers */
	struct tg_cfg_lf_list tcp_ports; /**< destination ports */
	struct tg_cfg_lf_list udp_ports;
};

struct tg_cfg_local_filter {
	/** false (the default, also without the section): accept all. A
	 *  present section is enabled unless it says enabled: false. */
	bool enabled;
	/** The global setting; a list not given is "all". */
	struct tg_cfg_lf_rules global;
	/** Per receiving interface: a list given here replaces the global
	 *  one for packets that arrived on that interface. */
	uint16_t n_overrides;
	struct {
		uint16_t iface; /**< index into tg_config.ifaces */
		struct tg_cfg_lf_rules rules;
		struct tg_cfg_pos pos;
	} overrides[TG_MAX_PORTS];
};

/*
 * host: — the host port (ARCHITECTURE.md section 4): a net_tun (or
 * net_tap) device whose kernel interface is the appliance's own TCP/IP
 * stack. Target traffic that passes its path is written to it; what the
 * kernel writes into it takes the source path. Absent: no host port, and
 * target traffic ends as pipeline.no_host_port.
 */
#define TG_CFG_IFNAME_MAX 16 /**< IFNAMSIZ, incl. NUL */
#define TG_CFG_NETNS_MAX  64

struct tg_cfg_host {
	bool enabled;			/**< the section is present */
	bool tap;			/**< type: tap (L2); default tun */
	char ifname[TG_CFG_IFNAME_MAX]; /**< kernel name, default "tg-host" */
	char netns[TG_CFG_NETNS_MAX];	/**< named netns to move it into; ""
					     stays in tollgate's own */
	uint32_t queue_size; /**< packets waiting for the kernel, pow2,
				  default 1024. Start-up only. */
	uint32_t poll_us;    /**< idle poll interval of the host port,
				  default 50. Start-up only. */
	/** Give the kernel tollgate's static routes (dev ifname, src = the
	 *  route's interface address). Default true. Reload. */
	bool routes;
	/** Also a 0.0.0.0/0 route, when tollgate has one. Default: true
	 *  when netns is set, false otherwise (the root namespace's default
	 *  route is only touched on request). Reload. */
	bool default_route;
	struct tg_cfg_pos pos;
};

/*
 * nat: — address and port translation (NAPT) between private and public
 * interfaces, as ICS and RRAS NAT do (RFC 4787, 5382, 5508), for the natfw
 * stage (issue 6). Without the section enabled is false and the other
 * fields keep their defaults. Reload.
 */
#define TG_CFG_NAT_MAX_ADDRESSES 16   /**< nat.addresses entries */
#define TG_CFG_NAT_MAX_MAPPINGS	 1024 /**< nat.port_mappings entries */
#define TG_CFG_NAT_MIN_PORTS	 64   /**< ports per NAT address, at least */
#define TG_CFG_NATFW_NAME_MAX	 64   /**< names, incl. NUL */

enum tg_cfg_nat_filtering {
	/** "address-and-port-dependent" (the default): an inbound packet
	 *  matches a session only from the remote address and port the
	 *  session was opened to */
	TG_CFG_NAT_FILTER_ADDR_PORT = 0,
	/** "endpoint-independent": from any remote address and port, once
	 *  the mapping exists */
	TG_CFG_NAT_FILTER_ENDPOINT_INDEP,
};

/** nat.addresses[]: a public address translations use, and its ports. */
struct tg_cfg_nat_address {
	uint32_t addr;	  /**< interfaces[].address of a public interface */
	uint16_t iface;	  /**< that interface: index into tg_config.ifaces */
	uint16_t port_lo; /**< ports for dynamic translations, inclusive: */
	uint16_t port_hi; /**< default 1024-65535, at least
			       TG_CFG_NAT_MIN_PORTS */
	/** Not listed: filled in by validation because nat.addresses was
	 *  left out (then every public interface gives its address). */
	bool implicit;
	struct tg_cfg_pos pos; /**< the list entry; when implicit, the
				    interface's name in nat.public */
};

/** nat.port_mappings[]: static port forwarding (ICS "services"). */
struct tg_cfg_nat_mapping {
	char name[TG_CFG_NATFW_NAME_MAX]; /**< unique among the mappings */
	uint8_t proto;			  /**< 6 (tcp) or 17 (udp) */
	uint32_t public_addr;	/**< one of nat.addresses; default: the
				     first */
	uint16_t public_port;	/**< 1..65535; (proto, public_addr,
				     public_port) is unique */
	uint32_t private_addr;	/**< a host in a private interface's subnet
				     (not its network, broadcast or own
				     address) */
	uint16_t private_port;	/**< 1..65535, default public_port */
	uint16_t private_iface; /**< the private interface whose subnet holds
				     private_addr: index into
				     tg_config.ifaces */
	struct tg_cfg_pos pos;	/**< of the mapping */
};

/** nat.timeouts: seconds a session may stay idle. */
struct tg_cfg_nat_timeouts {
	uint32_t tcp_established; /**< default 7440 (RFC 5382: at least
				       2 h 4 min), 60..604800 */
	uint32_t tcp_transitory;  /**< SYN sent, FIN or RST seen: default 240
				       (RFC 5382: at least 4 min), 10..86400 */
	uint32_t udp;		  /**< default 300 (RFC 4787: at least 120, 300
				       recommended), 10..86400 */
	uint32_t icmp; /**< query sessions: default 60 (RFC 5508: at least
			    60), 10..86400 */
	uint32_t gre;  /**< PPTP data (GRE call IDs): default 300,
			    10..86400 */
};

struct tg_cfg_nat {
	/** false without the section; a present section is on unless it
	 *  says enabled: false (it is validated either way) */
	bool enabled;
	uint16_t n_private; /**< at least 1 when the section is present */
	uint16_t private_ifaces[TG_MAX_PORTS]; /**< indexes into
						    tg_config.ifaces, list
						    order */
	uint16_t n_public;		       /**< at least 1, the same */
	uint16_t public_ifaces[TG_MAX_PORTS];  /**< no interface is both */
	/** Complete after validation: the listed addresses, or, when the
	 *  list is left out, the address of each public interface in
	 *  nat.public order with ports 1024-65535 (implicit). Unique. */
	uint16_t n_addresses;
	struct tg_cfg_nat_address addresses[TG_CFG_NAT_MAX_ADDRESSES];
	uint8_t filtering; /**< enum tg_cfg_nat_filtering */
	struct tg_cfg_nat_timeouts timeouts;
	uint32_t max_sessions; /**< default 65536, 1..100000000 */
	/** sessions one private address may hold: default 0 (no limit),
	 *  else 1..max_sessions */
	uint32_t max_sessions_per_host;
	uint32_t n_mappings; /**< at most TG_CFG_NAT_MAX_MAPPINGS */
	struct tg_cfg_nat_mapping *mappings; /**< malloc'd, list order */
	struct tg_cfg_pos pos;		     /**< of the section's value */
};

/*
 * firewall: — the stateful host firewall (Windows Firewall, the ICS
 * firewall) for the natfw stage (issue 6): unsolicited traffic to the
 * appliance passes by a static exception, responses to what the appliance
 * sent by a dynamic entry, ICMP by message type. Without the section
 * enabled is false. Reload.
 */
#define TG_CFG_FW_MAX_EXCEPTIONS 1024 /**< firewall.exceptions entries */
#define TG_CFG_FW_MAX_SCOPE	 16   /**< scope entries per exception */

struct tg_cfg_fw_prefix {
	uint32_t addr; /**< host bits zero */
	uint8_t len;   /**< 0..32; a.b.c.d alone is a /32 */
};

/** firewall.exceptions[]: unsolicited inbound target traffic allowed. */
struct tg_cfg_fw_exception {
	char name[TG_CFG_NATFW_NAME_MAX]; /**< unique among the exceptions */
	uint8_t proto; /**< IP protocol; never 1 (ICMP: firewall.icmp) */
	uint16_t port_lo, port_hi; /**< the local (destination) ports,
					inclusive, 1..65535: TCP and UDP
					only (always given for them), 0
					otherwise */
	bool has_iface;		   /**< only packets that arrived on iface */
	uint16_t iface;		   /**< index into tg_config.ifaces */
	uint16_t n_scope;	   /**< 0: any remote address */
	struct tg_cfg_fw_prefix scope[TG_CFG_FW_MAX_SCOPE]; /**< remote
							      (source)
							      prefixes */
	struct tg_cfg_pos pos; /**< of the exception */
};

/** firewall.icmp.inbound: unsolicited ICMP requests to the appliance.
 *  true = allow; each defaults to false (block). */
struct tg_cfg_fw_icmp_in {
	bool echo_request;	   /**< type 8 */
	bool timestamp_request;	   /**< type 13 */
	bool address_mask_request; /**< type 17 */
	bool router_solicitation;  /**< type 10 */
};

/** firewall.icmp.outbound: ICMP errors the appliance's own stack sends
 *  (the source path). true = allow. */
struct tg_cfg_fw_icmp_out {
	bool destination_unreachable; /**< type 3 except code 4; default
					   block */
	bool source_quench;	      /**< type 4; default block */
	bool parameter_problem;	      /**< type 12; default block */
	bool time_exceeded;	      /**< type 11; default block */
	bool redirect;		      /**< type 5; default block */
	bool packet_too_big;	      /**< type 3 code 4 (fragmentation needed);
					   default allow: blocking it breaks path
					   MTU discovery */
};

struct tg_cfg_fw_icmp {
	struct tg_cfg_fw_icmp_in inbound;
	struct tg_cfg_fw_icmp_out outbound;
};

struct tg_cfg_firewall {
	/** false without the section; a present section is on unless it
	 *  says enabled: false (it is validated either way) */
	bool enabled;
	uint32_t n_exceptions; /**< at most TG_CFG_FW_MAX_EXCEPTIONS */
	struct tg_cfg_fw_exception *exceptions; /**< malloc'd, list order */
	struct tg_cfg_fw_icmp icmp;
	uint32_t max_dynamic;  /**< most dynamic entries (responses to what
				    the appliance sent), default 65536,
				    1..10000000 */
	struct tg_cfg_pos pos; /**< of the section's value */
};

/*
 * ipsec: — IPsec policies (allow / block / protect, as Windows' IPsec
 * filter lists) and manually keyed SAs, for the ipsec stage (issue 7).
 * Without the section enabled is false. Keys never appear in messages or
 * logs.
 */
#define TG_CFG_IPSEC_NAME_MAX	  64	/**< names, incl. NUL */
#define TG_CFG_IPSEC_MAX_POLICIES 65536 /**< ipsec.policies entries */
#define TG_CFG_IPSEC_MAX_SAS	  65536 /**< ipsec.sas entries */
#define TG_CFG_IPSEC_KEY_MAX	  32	/**< bytes of a cipher or auth key */
#define TG_CFG_IPSEC_SALT_LEN	  4	/**< GCM salt (RFC 4106), bytes */
#define TG_CFG_IPSEC_REPLAY_MAX	  4096	/**< replay_window, packets */
#define TG_CFG_IPSEC_SPI_MIN	  256	/**< 0..255: RFC 4303 2.1 reserved */
#define TG_CFG_IPSEC_NO_SA	  UINT32_MAX /**< a policy without that SA */
#define TG_CFG_IPSEC_DEV_DEFAULT  "crypto_aesni_mb"

enum tg_cfg_ipsec_dir {
	TG_CFG_IPSEC_OUT = 0, /**< "outbound": packets the appliance sends
				   or forwards out */
	TG_CFG_IPSEC_IN,      /**< "inbound": packets it receives */
	TG_CFG_IPSEC_BOTH,    /**< "both" (policies only): the policy as
				   written for outbound, mirrored (source and
				   destination swapped, with their ports) for
				   inbound */
};

enum tg_cfg_ipsec_action {
	TG_CFG_IPSEC_ALLOW = 0, /**< pass unprotected */
	TG_CFG_IPSEC_BLOCK,	/**< drop */
	TG_CFG_IPSEC_PROTECT,	/**< through an SA (sa_out / sa_in) */
};

enum tg_cfg_ipsec_order_rule {
	TG_CFG_IPSEC_ORDER_SPECIFICITY = 0, /**< default: tg_cfg_ipsec_order */
	TG_CFG_IPSEC_ORDER_AS_WRITTEN,
};

/** ipsec.crypto_mode: how the stage uses the crypto device. */
enum tg_cfg_ipsec_crypto_mode {
	TG_CFG_IPSEC_CRYPTO_AUTO = 0,  /**< cpu when the device offers it */
	TG_CFG_IPSEC_CRYPTO_LOOKASIDE, /**< operations queued, picked up on
					    later polls */
	TG_CFG_IPSEC_CRYPTO_CPU, /**< synchronous CPU crypto (software PMDs)
				  */
};

enum tg_cfg_ipsec_proto {
	TG_CFG_IPSEC_ESP = 0, /**< IP protocol 50 (default) */
	TG_CFG_IPSEC_AH,      /**< IP protocol 51 */
};

enum tg_cfg_ipsec_mode {
	TG_CFG_IPSEC_TUNNEL = 0,
	TG_CFG_IPSEC_TRANSPORT,
};

/** ipsec.sas[].algorithm. ESP: the first five; AH: the last two. */
enum tg_cfg_ipsec_alg {
	TG_CFG_IPSEC_AES_128_GCM = 0,	 /**< key 16 + salt 4, ICV 16 */
	TG_CFG_IPSEC_AES_256_GCM,	 /**< key 32 + salt 4, ICV 16 */
	TG_CFG_IPSEC_AES_128_CBC_SHA256, /**< key 16 + auth_key 32,
					      HMAC-SHA256-128 */
	TG_CFG_IPSEC_AES_256_CBC_SHA256, /**< key 32 + auth_key 32 */
	TG_CFG_IPSEC_AES_128_CBC_SHA1,	 /**< key 16 + auth_key 20,
					      HMAC-SHA1-96 */
	TG_CFG_IPSEC_AH_HMAC_SHA256,	 /**< auth_key 32, ICV 16 */
	TG_CFG_IPSEC_AH_HMAC_SHA1,	 /**< auth_key 20, ICV 12 */
	TG_CFG_IPSEC__ALGS
};
/**
 * The most bytes @p sa adds to a packet it protects (outer IPv4 header in
 * tunnel mode, ESP header, IV, padding to the cipher block, trailer, ICV;
 * AH header and ICV), for an MTU that leaves room for it.
 */
struct tg_cfg_ipsec_sa;
uint16_t tg_cfg_ipsec_sa_overhead(const struct tg_cfg_ipsec_sa *sa);

/** "aes-128-gcm", ... in enum order (the YAML names). */
extern const char *const tg_cfg_ipsec_alg_names[TG_CFG_IPSEC__ALGS];

/** An SA's keys: exactly the lengths its algorithm needs (others 0). */
struct tg_cfg_ipsec_keys {
	uint8_t key[TG_CFG_IPSEC_KEY_MAX]; /**< cipher key (ESP) */
	uint8_t key_len;
	uint8_t salt[TG_CFG_IPSEC_SALT_LEN]; /**< GCM only */
	uint8_t salt_len;
	uint8_t auth_key[TG_CFG_IPSEC_KEY_MAX]; /**< HMAC key (CBC, AH) */
	uint8_t auth_key_len;
};

/** ipsec.sas[].lifetime: 0 = no limit; a soft limit is below its hard
 *  one. Soft: tell (telemetry); hard: the SA stops. */
struct tg_cfg_ipsec_lifetime {
	uint64_t soft_packets, hard_packets;
	uint64_t soft_bytes, hard_bytes;
};

/** ipsec.sas[]: a manually keyed security association. */
struct tg_cfg_ipsec_sa {
	char name[TG_CFG_IPSEC_NAME_MAX]; /**< unique among the SAs */
	uint32_t spi;	 /**< 256..0xFFFFFFFF; unique per (direction,
			      protocol) */
	uint8_t dir;	 /**< TG_CFG_IPSEC_OUT or _IN */
	uint8_t proto;	 /**< enum tg_cfg_ipsec_proto */
	uint8_t mode;	 /**< enum tg_cfg_ipsec_mode */
	uint8_t alg;	 /**< enum tg_cfg_ipsec_alg, matches proto */
	uint32_t local;	 /**< tunnel: an interface address; 0 in transport */
	uint32_t remote; /**< tunnel: the peer; 0 in transport */
	uint16_t local_iface; /**< tunnel: the interface holding local:
				   index into tg_config.ifaces */
	struct tg_cfg_ipsec_keys keys;
	bool from_key_file;	/**< the keys came from key_file */
	uint16_t replay_window; /**< packets, 0 = off, default 64 */
	bool esn;		/**< 64-bit sequence numbers, default false */
	struct tg_cfg_ipsec_lifetime lifetime;
	struct tg_cfg_pos pos; /**< of the SA's mapping */
};

/** ipsec.policies[]: a filter and what to do with what it matches. */
struct tg_cfg_ipsec_policy {
	char name[TG_CFG_IPSEC_NAME_MAX]; /**< unique among the policies */
	uint32_t src;			  /**< host order, host bits zero */
	uint8_t src_len;		  /**< 0 = any (the default) */
	uint32_t dst;
	uint8_t dst_len;
	bool any_proto;		     /**< no protocol given (or "any") */
	uint8_t proto;		     /**< IP protocol when !any_proto */
	uint16_t sport_lo, sport_hi; /**< inclusive; 0-65535 unless given
					(TCP and UDP only) */
	uint16_t dport_lo, dport_hi;
	uint8_t dir;	/**< enum tg_cfg_ipsec_dir */
	uint8_t action; /**< enum tg_cfg_ipsec_action */
	/** protect: the SA for the outbound and the inbound side, indexes
	 *  into tg_cfg_ipsec.sas; TG_CFG_IPSEC_NO_SA for the side the
	 *  direction does not cover (and for allow and block). */
	uint32_t sa_out, sa_in;
	struct tg_cfg_pos pos; /**< of the policy's mapping */
};

struct tg_cfg_ipsec {
	/** false without the section; a present section is on unless it
	 *  says enabled: false (it is validated either way) */
	bool enabled;
	bool present;			   /**< the section is in the file */
	uint8_t policy_order;		   /**< enum tg_cfg_ipsec_order_rule */
	bool allow_authenticated_bypass;   /**< default false */
	char crypto_device[TG_DEVARG_MAX]; /**< vdev "name[,args]", default
						"crypto_aesni_mb" */
	uint8_t crypto_mode;		   /**< enum tg_cfg_ipsec_crypto_mode */
	uint32_t n_policies;
	struct tg_cfg_ipsec_policy *policies; /**< malloc'd, written order */
	/** Evaluation order after validation: indexes into policies, first
	 *  match wins (tg_cfg_ipsec_order under policy_order). malloc'd. */
	uint32_t *order;
	uint32_t n_sas;
	struct tg_cfg_ipsec_sa *sas; /**< malloc'd, written order */
	struct tg_cfg_pos pos;	     /**< of the section's value */
};

/**
 * The evaluation order of @p n policies under @p rule into @p order
 * (n indexes). TG_CFG_IPSEC_ORDER_AS_WRITTEN: 0..n-1.
 * TG_CFG_IPSEC_ORDER_SPECIFICITY: before b when, in this order of
 * criteria, the first that differs says so:
 *   1. a longer src_len + dst_len;
 *   2. a specific protocol (before any protocol);
 *   3. fewer (source port, destination port) pairs: (sport_hi - sport_lo
 *      + 1) * (dport_hi - dport_lo + 1);
 *   4. written first (the sort is stable).
 * @return 0, or -ENOMEM. Any thread.
 */
int tg_cfg_ipsec_order(const struct tg_cfg_ipsec_policy *p, uint32_t n,
	uint8_t rule, uint32_t *order);

/** An IPv4 prefix and a place (an index into whatever it came from),
 *  sortable with tg_cfg_prefix_key_cmp: by address, then length, then
 *  place. Sorted, the prefixes inside a prefix follow it, and equal ones
 *  are neighbours. */
struct tg_cfg_prefix_key {
	uint32_t addr; /**< host order, host bits zero */
	uint32_t len;
	uint32_t idx;
};

/** qsort() comparator of struct tg_cfg_prefix_key. */
int tg_cfg_prefix_key_cmp(const void *x, const void *y);

/** limits: — table sizes. */
struct tg_cfg_limits {
	uint32_t max_routes; /**< most routes installed (incl. connected and
				  local ones), default 1024 */
	uint32_t lpm_tbl8;   /**< most /24 blocks holding longer prefixes
				  (DIR-24-8 tbl8 groups), default 256 */
};

struct tg_config {
	char file[4096]; /**< where it was read from ("<string>" for buffers) */

	struct tg_cfg_dpdk dpdk;
	struct tg_cfg_mempool mempool;
	struct tg_cfg_pipeline pipeline;
	struct tg_cfg_arp arp;
	struct tg_cfg_icmp icmp;
	struct tg_cfg_limits limits;
	struct tg_cfg_local_filter local_filter;
	struct tg_cfg_host host;
	struct tg_cfg_nat nat;
	struct tg_cfg_firewall firewall;
	struct tg_cfg_ipsec ipsec;

	uint16_t n_ports;
	struct tg_cfg_port ports[TG_MAX_PORTS];

	uint16_t n_ifaces;
	struct tg_cfg_iface ifaces[TG_MAX_PORTS];

	uint32_t n_routes;
	struct tg_cfg_route *routes; /**< malloc'd, n_routes entries */

	uint32_t n_neighbors;
	struct tg_cfg_neighbor *neighbors; /**< malloc'd */

	char *source; /**< the YAML text parsed (malloc'd, NUL-ended) */
	size_t source_len;
};

/** One configuration error. Printed as FILE:LINE:COL: yaml.path: message */
struct tg_cfg_error {
	uint32_t line;
	uint32_t col;
	char path[128]; /**< "routes[3].via"; "" for document-level errors */
	char msg[256];
};

struct tg_cfg_errors {
	char file[4096];
	uint32_t n; /**< errors found (may exceed the stored ones) */
	struct tg_cfg_error e[TG_CFG_MAX_ERRORS];
};

/**
 * Read, parse and validate a configuration file.
 * Collects every error (up to TG_CFG_MAX_ERRORS stored, all counted)
 * rather than stopping at the first.
 *
 * @return 0 and *out set (free with tg_config_free), or -EINVAL with
 *   @p errs filled (a file that cannot be read: -errno and one error at
 *   line 0). *out is NULL on failure. Any thread; plain malloc only.
 */
int tg_config_load(
	const char *file, struct tg_config **out, struct tg_cfg_errors *errs);

/** The same for a buffer; @p name is used as the file name in errors. */
int tg_config_parse(const char *name, const char *buf, size_t len,
	struct tg_config **out, struct tg_cfg_errors *errs);

void tg_config_free(struct tg_config *cfg);

/** Print each error as "FILE:LINE:COL: yaml.path: message\n". */
void tg_cfg_errors_print(const struct tg_cfg_errors *errs, FILE *f);

/** Format error @p i into @p buf as above (no newline). */
int tg_cfg_error_format(
	const struct tg_cfg_errors *errs, uint32_t i, char *buf, size_t len);

/** Index of the interface / port with that name, or -1. */
int tg_config_iface_find(const struct tg_config *cfg, const char *name);
int tg_config_port_find(const struct tg_config *cfg, const char *name);

/**
 * Build EAL argv from the dpdk: section and the ports (--vdev for vdev
 * strings, -a for PCI addresses, --no-pci when no port is PCI), then
 * apply @p cli (arguments after "--" on the command line): an option
 * given on the command line replaces the same option from the YAML
 * (-l/-c/--lcores count as one option); --vdev and -a accumulate.
 *
 * @param argv0  program name placed at argv[0]
 * @param out    array of at least TG_MAX_EAL_ARGS * 2 + 8 pointers; filled
 *               with strdup'd strings, NULL-terminated
 * @return argc, or -E2BIG / -ENOMEM
 */
int tg_config_eal_args(const struct tg_config *cfg, const char *argv0,
	int cli_argc, char **cli_argv, char **out, int out_max);

/** The host port's ethdev names (tg_config_host_devargs). */
#define TG_CFG_HOST_TUN	    "net_tun_tghost"
#define TG_CFG_HOST_TAP	    "net_tap_tghost"
#define TG_CFG_HOST_DEV_MAX 64

/** The host port's vdev string: "net_tun_tghost,iface=IFNAME". Returns
 *  what snprintf returns. */
int tg_config_host_devargs(const struct tg_config *cfg, char *buf, size_t len);

#endif /* TG_CONFIG_H */
