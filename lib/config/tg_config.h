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
