/* SPDX-License-Identifier: BSD-3-Clause
 * IP forwarding (the seed's IP forwarding component in Tcpip.sys):
 * local vs. transit, LPM next hop (rte_fib), TTL, ARP neighbor resolution,
 * ICMP errors, MAC rewrite.
 *
 * Two objects, control and data phase apart (like rte_acl):
 *  - struct tg_forward_table: immutable, built from the config model by
 *    tg_forward_build() on the control thread, published in the snapshot;
 *  - struct tg_forward_ctx: the stage's mutable state (neighbor cache,
 *    held packets, ICMP rate limit, counters), owned by the one lcore that
 *    runs the forward stage; survives reloads.
 */
#ifndef TG_FORWARD_H
#define TG_FORWARD_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_mbuf.h>
#include <rte_seqcount.h>

#include "tg_config.h"
#include "tg_meta.h"
#include "tg_pkt.h"

/* Drop reasons of the forward stage: X(NAME, "telemetry.name", "why"). */
#define TG_FORWARD_DROPS(X)                                                    \
	X(NO_ROUTE, "forward.no_route", "no route to the destination")         \
	X(TTL_EXCEEDED, "forward.ttl_exceeded", "TTL expired in transit")      \
	X(NO_INTERFACE, "forward.no_interface",                                \
		"next-hop interface not configured in this snapshot")          \
	X(MTU_EXCEEDED, "forward.mtu_exceeded",                                \
		"larger than the next-hop MTU (no fragmentation)")             \
	X(ARP_HOLD_FULL, "forward.arp_hold_full",                              \
		"too many packets already waiting for this neighbor")          \
	X(ARP_FAILED, "forward.arp_failed", "next hop did not answer ARP")     \
	X(NEIGH_FULL, "forward.neighbor_table_full",                           \
		"no room in the neighbor cache for a new next hop")            \
	X(ARP_MALFORMED, "forward.arp_malformed",                              \
		"not an Ethernet/IPv4 ARP request or reply")                   \
	X(ARP_REPLY, "forward.arp_reply_consumed",                             \
		"ARP reply or gratuitous ARP: learned, then freed")            \
	X(ARP_NOT_OURS, "forward.arp_not_for_us",                              \
		"ARP request for an address that is not ours")                 \
	X(LOCAL_IN_TRANSIT, "forward.local_in_transit",                        \
		"routed to one of our own addresses on the transit path")      \
	X(BROADCAST, "forward.directed_broadcast",                             \
		"destination is a connected subnet's broadcast address")

enum tg_forward_drop {
#define TG_X_ENUM(n, s, d) TG_FORWARD_DROP_##n,
	TG_FORWARD_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_FORWARD_DROP__COUNT
};

/* Events that are not drops (counted per lcore in the ctx). */
#define TG_FORWARD_COUNTERS(X)                                                 \
	X(ARP_REQ_SENT, "forward.arp_requests_sent")                           \
	X(ARP_REPLY_SENT, "forward.arp_replies_sent")                          \
	X(ARP_LEARNED, "forward.arp_learned")                                  \
	X(HELD, "forward.held_for_arp")                                        \
	X(RELEASED, "forward.released_after_arp")                              \
	X(ICMP_TTL_SENT, "forward.icmp_time_exceeded_sent")                    \
	X(ICMP_UNREACH_SENT, "forward.icmp_unreachable_sent")                  \
	X(ICMP_RATELIMITED, "forward.icmp_rate_limited")                       \
	X(ICMP_NOMEM, "forward.icmp_no_mbuf")                                  \
	X(ARP_NOMEM, "forward.arp_no_mbuf")

enum tg_forward_counter {
#define TG_X_ENUM(n, s) TG_FORWARD_CNT_##n,
	TG_FORWARD_COUNTERS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_FORWARD_CNT__COUNT
};

extern const char *const tg_forward_drop_names[TG_FORWARD_DROP__COUNT];
extern const char *const tg_forward_drop_descs[TG_FORWARD_DROP__COUNT];
extern const char *const tg_forward_counter_names[TG_FORWARD_CNT__COUNT];

/** What the builder needs to know about the running ports, by config port
 *  index (tg_config.ports[i]). Filled by app/ after rte_eth_dev_start. */
struct tg_port_env {
	uint16_t n_ports;
	uint16_t port_id[TG_MAX_PORTS];
	struct rte_ether_addr mac[TG_MAX_PORTS];
	/** Port carries bare IP, no Ethernet (net_tun): no ARP on it. */
	bool l3[TG_MAX_PORTS];
	/** Worker lcores: tables with per-lcore counters (filter rule hits)
	 *  keep one block per worker; 0 counts as 1. */
	uint16_t n_workers;
};

/** An interface's settings in a snapshot, indexed by DPDK port id. */
struct tg_iface {
	bool configured;
	char name[TG_NAME_MAX];
	uint32_t addr; /**< host order */
	uint8_t prefix_len;
	uint32_t mask; /**< host order */
	uint16_t mtu;
	struct rte_ether_addr mac;
	bool l3; /**< point-to-point, bare IP: next hop needs no ARP */
};

enum tg_nh_type {
	TG_NH_CONNECTED = 0, /**< on-link: next hop is the destination */
	TG_NH_VIA,	     /**< through a gateway */
	TG_NH_LOCAL,	     /**< one of our addresses (/32) */
};

/** What forwarding a packet needs, in one cache line. The interface
 *  fields are copies (tg_iface stays the reference), so the fast path
 *  does not touch the interface table. */
struct tg_nexthop {
	uint32_t via;  /**< gateway, host order; 0 for CONNECTED/LOCAL */
	uint16_t port; /**< outgoing port id */
	uint8_t type;  /**< enum tg_nh_type */
	uint8_t l3;    /**< the interface carries bare IP (no ARP) */
	uint16_t mtu;  /**< the interface's MTU; 0: interface not configured */
	uint16_t pad;
	/** Bytes 6..13 of the Ethernet header as sent: the interface's MAC
	 *  and the IPv4 ethertype, written with one store. */
	uint8_t src_et[8];
};

/** A route as installed, for /tollgate/routes. */
struct tg_route_info {
	uint32_t prefix;
	uint8_t len;
	uint8_t origin; /**< 0 connected, 1 static, 2 local */
	uint32_t nh;	/**< index into tg_forward_table.nh */
};

/** Parameters copied from the config (arp:, icmp:). */
struct tg_forward_params {
	uint64_t reachable_tsc;
	uint64_t retry_tsc;
	uint32_t max_retries;
	uint64_t failed_hold_tsc;
	uint32_t hold_packets;
	bool icmp_ttl;
	bool icmp_unreach;
	uint32_t icmp_rate;
	uint32_t icmp_burst;
};

struct tg_static_neigh {
	uint32_t addr;
	uint16_t port;
	struct rte_ether_addr mac;
};

/** The forward part of a snapshot. Immutable once published. */
struct tg_forward_table {
	uint64_t generation;
	/** Longest-prefix match (DIR24_8): a lookup gives an index into nh[],
	 *  or n_nh — the FIB's default_nh, reserved — for no route. Sized to
	 *  the routes installed: limits.* are enforced by tg_forward_build. */
	struct rte_fib *fib;
	uint32_t n_nh;
	struct tg_nexthop *nh;
	uint32_t n_routes;
	struct tg_route_info *routes;
	uint32_t n_static;
	struct tg_static_neigh *statics;
	struct tg_forward_params params;
	/* Our addresses, open addressing on a multiplicative hash; 0 = empty.
	 */
	struct tg_local_set local; /**< our addresses, for RX */
	uint16_t local_port[TG_LOCAL_SLOTS];
	struct tg_iface ifaces[RTE_MAX_ETHPORTS];
};

/**
 * Build the forward table from a validated config.
 * @param generation  stored in the table (neighbors resync on change)
 * @param err         receives a message (with the YAML path) on failure
 * @return 0 and *out, or -EINVAL (e.g. an interface on a port not in
 *   @p env), -ENOSPC (more routes than limits.max_routes, or more /24s
 *   holding a prefix longer than /24 than limits.lpm_tbl8), -ENOMEM.
 * Control thread only (rte_fib_create).
 */
int tg_forward_build(const struct tg_config *cfg, const struct tg_port_env *env,
	uint64_t generation, int socket, struct tg_forward_table **out,
	char *err, size_t errlen);

/** Free a table no reader can see any more. NULL is a no-op. */
void tg_forward_table_free(struct tg_forward_table *ft);

/** Is @p dst (host order) one of the appliance's addresses? */
static inline bool
tg_forward_is_local(const struct tg_forward_table *ft, uint32_t dst)
{
	return tg_local_set_has(&ft->local, dst);
}

/** A neighbor as seen by telemetry. */
struct tg_neigh_info {
	uint32_t addr;
	uint16_t port;
	struct rte_ether_addr mac;
	uint8_t state;	 /**< enum tg_neigh_state */
	uint16_t held;	 /**< packets waiting */
	uint32_t age_ms; /**< since last confirmation */
	/** stale, and the next packet sends a new request
	 *  (tg_forward_neigh_lookup() only) */
	bool req_due;
};

enum tg_neigh_state {
	TG_NEIGH_INCOMPLETE = 1, /* request sent, no answer yet */
	TG_NEIGH_REACHABLE,
	TG_NEIGH_STALE, /* too old: used, but re-requested */
	TG_NEIGH_FAILED,
	TG_NEIGH_STATIC,
};

extern const char *const tg_neigh_state_names[];

struct tg_forward_ctx;

/**
 * Create the forward stage state.
 * @param mp             pool for ARP requests and ICMP errors
 * @param max_neighbors  cache capacity (rounded up to a power of two)
 * @return the ctx, or NULL with rte_errno set. Control thread.
 */
struct tg_forward_ctx *tg_forward_ctx_create(
	struct rte_mempool *mp, uint32_t max_neighbors, int socket);

/** Free it, freeing any packets still held. */
void tg_forward_ctx_free(struct tg_forward_ctx *ctx);

/**
 * The forward stage. Per packet by tg_meta.mode:
 *  - TG_MODE_ARP: answer requests for our addresses (verdict TG_V_TX, the
 *    mbuf rewritten into the reply), learn from requests and replies;
 *  - TG_MODE_TRANSIT: LPM lookup, TTL check and decrement (TTL ≤ 1: drop
 *    TTL_EXCEEDED and emit an ICMP Time Exceeded), MTU check;
 *  - TG_MODE_OUT (source path): LPM lookup, no TTL change.
 * The destinations of all IP packets of the burst are looked up at once
 * (rte_fib_lookup_bulk), up to 64 at a time.
 * Then neighbor resolution: a known neighbor → Ethernet header written,
 * meta tx_if/nh_ip set, TG_V_NEXT; unknown → the packet is held
 * (TG_V_STOLEN) and an ARP request emitted; released by later calls via
 * @p emit with TG_V_NEXT. No route: drop NO_ROUTE and emit ICMP
 * Destination Unreachable (net unreachable) — rate-limited.
 *
 * @param now  rte_rdtsc() of this poll iteration
 * The owning lcore only.
 */
void tg_forward_burst(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, struct tg_emit *emit, uint64_t now);

/**
 * Timers: ARP retransmits, failures (held packets emitted as
 * TG_V_DROP(ARP_FAILED) and ICMP host unreachable), expiry of entries. Also
 * resynchronises static neighbors when ft->generation changed, and drops
 * dynamic entries whose interface no longer covers them.
 * The owning lcore only; cheap when nothing is due.
 */
void tg_forward_tick(const struct tg_forward_table *ft,
	struct tg_forward_ctx *ctx, uint64_t now, struct tg_emit *emit);

/** Counters of this ctx (TG_FORWARD_CNT__COUNT entries), owning lcore
 *  writes, anyone may read (torn reads of a uint64_t cannot happen on
 *  x86-64). */
const uint64_t *tg_forward_ctx_counters(const struct tg_forward_ctx *ctx);

/**
 * Copy up to @p max neighbors, starting at the @p start-th, into @p out.
 * Safe from any thread while the owning lcore runs (seqcount retry).
 * @return the number copied; *total receives the number of entries.
 */
uint32_t tg_forward_neighbors_read(const struct tg_forward_ctx *ctx,
	uint64_t now, uint32_t start, struct tg_neigh_info *out, uint32_t max,
	uint32_t *total);

/**
 * The entry for @p addr (host order) on @p port as forward would find it
 * now: one of @p ft's static neighbors (forward's next burst syncs them
 * into the cache first), else the cache's entry, copied as
 * tg_forward_neighbors_read() copies entries. Safe from any thread while
 * the owning lcore runs. Returns 0, or -ENOENT when there is none.
 */
int tg_forward_neigh_lookup(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port,
	uint64_t now, struct tg_neigh_info *out);

/** What forward would do with one packet, and why (tg_forward_explain). */
/** What ARP input decided for a frame (explain). */
enum tg_arp_learn {
	TG_ARP_LEARN_NONE = 0,
	TG_ARP_LEARN_UPDATE, /**< the sender's entry confirmed at its MAC */
	TG_ARP_LEARN_NEW,    /**< an entry made for the sender (room
				  permitting) */
	TG_ARP_LEARN_STATIC, /**< a static entry: left as configured */
};

struct tg_arp_why {
	uint16_t op; /**< 1 request, 2 reply */
	uint32_t sip, tip;
	struct rte_ether_addr sha;
	bool for_us;	 /**< a request for the interface's address */
	bool may_learn;	 /**< the sender is one to learn from */
	bool may_create; /**< ... and may get a new entry */
	uint8_t learn;	 /**< enum tg_arp_learn (explain only) */
};

struct tg_forward_why {
	uint32_t nh;	/**< ft->nh[] index of the route taken; n_nh: none */
	uint32_t nh_ip; /**< the address resolved on the port (host order) */
	uint16_t port;	/**< next-hop port */
	bool icmp;	/**< an ICMP error would be sent (rate permitting) */
	uint8_t icmp_type, icmp_code;
	bool neigh_found; /**< neigh holds the neighbor entry it used */
	struct tg_neigh_info neigh;
	bool arp; /**< an ARP request would be sent */
	bool arp_frame; /**< an ARP frame (the ARP path): arp_in below */
	struct tg_arp_why arp_in;
};

/**
 * Explain: one packet through the code tg_forward_burst() runs, without
 * its side effects — no ICMP error or ARP request made, no neighbor entry
 * created or packet held, no counter touched (@p ctx, the live stage's,
 * is only read, with tg_forward_neigh_lookup()). The packet is rewritten
 * as the burst would (TTL, Ethernet header). Returns the verdict the
 * burst would give (TG_V_STOLEN: it would be held for ARP). Any thread.
 */
uint16_t tg_forward_explain(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	struct tg_forward_why *why);

/**
 * Where forward would send a packet to @p dst (host order) that needs no
 * TTL change (the source path's routing), as far as the table alone
 * says: the next hop (*nh, an entry of ft->nh) and the address to
 * resolve on its port (*nh_ip: the gateway, or @p dst itself on-link).
 * For a stage that routes a destination once per table instead of once
 * per packet (ipsec: a tunnel's far end).
 * @return 0, or -ENOENT: no route, a local address, an unconfigured
 *   interface or a directed broadcast (forward would drop those).
 */
int tg_forward_route(const struct tg_forward_table *ft, uint32_t dst,
	const struct tg_nexthop **nh, uint32_t *nh_ip);

/**
 * The MAC address of neighbor @p addr (host order) on @p port if forward
 * would send to it as is now: the entry is reachable or static, and the
 * cache is in step with @p ft (a new snapshot's static neighbors are
 * applied by forward's next burst or tick). Anything else (unknown,
 * being resolved, stale, failed) is forward's to handle.
 * For a stage running on forward's lcore, between forward's bursts: no
 * retry, no lock.
 */
bool tg_forward_neigh_usable(const struct tg_forward_table *ft,
	const struct tg_forward_ctx *ctx, uint32_t addr, uint16_t port,
	struct rte_ether_addr *mac);

#endif /* TG_FORWARD_H */
