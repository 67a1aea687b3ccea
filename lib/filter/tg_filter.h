/* SPDX-License-Identifier: BSD-3-Clause
 * filter: the filter hook (the seed's Ipfltdrv.sys, RRAS packet filters).
 * Per interface an inbound list, judged on the interface a packet arrived
 * by, and an outbound list, judged on the interface it leaves by; each is
 * allow-listed or deny-listed with ordered, named rules, first match wins.
 * Per configured (interface, direction) an rte_acl context for whole
 * packets and first fragments and a small one for later fragments, built
 * from the config model; the stage only reads them (and counts rule
 * hits). Knows nothing of rings, lcores or YAML.
 */
#ifndef TG_FILTER_H
#define TG_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "tg_config.h"
#include "tg_meta.h"
#include "tg_acl_key.h"
#include "tg_pkt.h"

/* Drop reasons: X(NAME, "telemetry.name", "why"). */
#define TG_FILTER_DROPS(X)                                                     \
	X(IN_DENIED, "filter.in.denied",                                       \
		"a rule of the receiving interface's inbound list denied it")  \
	X(IN_DEFAULT, "filter.in.default",                                     \
		"allow-listed inbound list: no rule of the receiving "         \
		"interface allowed it")                                        \
	X(OUT_DENIED, "filter.out.denied",                                     \
		"a rule of the next-hop interface's outbound list denied it")  \
	X(OUT_DEFAULT, "filter.out.default",                                   \
		"allow-listed outbound list: no rule of the next-hop "         \
		"interface allowed it")                                        \
	X(SHORT_L4, "filter.short_l4",                                         \
		"TCP, UDP or ICMP header too short for the rules to judge "    \
		"(under 14, 4 or 2 bytes in an unfragmented packet or first "  \
		"fragment: RFC 1858's tiny fragment)")                         \
	X(TCP_OVERLAP, "filter.tcp_overlap",                                   \
		"TCP fragment at offset 8 bytes, overlapping the first "       \
		"fragment's ports and flags (RFC 1858)")

enum tg_filter_drop {
#define TG_X_ENUM(n, s, d) TG_FILTER_DROP_##n,
	TG_FILTER_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_FILTER_DROP__COUNT
};

extern const char *const tg_filter_drop_names[TG_FILTER_DROP__COUNT];
extern const char *const tg_filter_drop_descs[TG_FILTER_DROP__COUNT];

/*
 * Rules. A list is judged in order and the first rule that matches
 * decides: allow → TG_V_NEXT, deny → TG_V_DROP(IN_DENIED / OUT_DENIED).
 * When no rule matches, a deny-listed list passes the packet and an
 * allow-listed one drops it (IN_DEFAULT / OUT_DEFAULT); a list without
 * rules matches nothing. A rule matches when every condition it gives
 * holds:
 * - protocol (none given: every protocol), source and destination prefix;
 * - source and destination port ranges, inclusive (TCP or UDP rules);
 * - ICMP type, and optionally code (ICMP rules; a type alone: any code);
 * - established (TCP rules): ACK or RST set.
 * The builder refuses (-EINVAL) a rule whose L4 conditions do not fit
 * its protocol (ports without tcp/udp, ICMP type without icmp, code
 * without type, established without tcp).
 *
 * Fragments (Cisco IOS ACL semantics). The L4 conditions (TG_CFG_FR_L4)
 * are judged on the unfragmented packet or first fragment, which holds
 * the L4 header. A later fragment (offset != 0) has none: a rule without
 * L4 conditions judges it like any packet; an allow rule with L4
 * conditions matches it on protocol and addresses alone (the later
 * fragments of an allowed packet pass by the same rule); a deny rule with
 * L4 conditions never matches it (the later fragments of a denied first
 * fragment go on to the later rules: the receiver cannot reassemble them
 * without the first).
 *
 * Before the rules, and only for packets a list applies to: an
 * unfragmented packet or first fragment whose TCP, UDP or ICMP header is
 * shorter than 14, 4 or 2 bytes (within the IP total length and the
 * frame) is dropped under SHORT_L4; a TCP fragment at offset 1 (8 bytes)
 * under TCP_OVERLAP. Neither counts against a rule.
 *
 * In rte_acl: two contexts per list with rules, one category each; rule
 * i has priority n_rules - i (first match wins) and userdata i + 1 in
 * both, so either answers with the list's rule index.
 * - acl, for unfragmented packets and first fragments: every rule with
 *   its conditions. Its input is 13 bytes of the key (proto, src, dst,
 *   sport+dport: "layout A"), or 17 (also the flags group: "layout B")
 *   when a rule of the list has established; that rule becomes two ACL
 *   rules (ACK set; RST set) of the same priority and userdata, and the
 *   other rules leave the flags wild.
 * - acl_frag, for later fragments (TG_FILTER_KEY_NONFIRST): the rules
 *   without L4 conditions as they are and the allow rules with L4
 *   conditions without them; deny rules with L4 conditions are left out.
 *   Its input is 9 bytes (proto, src, dst). NULL when no rule is left
 *   (every later fragment matches nothing); the same context as acl when
 *   no rule has L4 conditions (the rules are the same).
 * The burst hands each packet to the context of its kind. (Variants for
 * later fragments inside acl, ports wild, made rte_acl split a list into
 * more tries, each walked by every packet; and rte_acl leaves out of its
 * tries a field that every rule of a context leaves wild.)
 */

/*
 * What rte_acl classifies (struct tg_acl_key, shared with the IPsec SPD):
 * built per packet, in network byte order as
 * rte_acl wants its input (rules are given in host order). The first
 * field is one byte, the rest come in groups of 4 bytes (rte_acl's
 * layout rule).
 * - sport/dport: TCP and UDP ports; for ICMP, sport holds type and code
 *   (the first two bytes of the ICMP header), dport is 0; 0 for other
 *   protocols and for non-first fragments.
 * - flags: the TCP ACK and RST bits as in the TCP header (0 otherwise),
 *   and TG_FILTER_KEY_NONFIRST for a fragment other than the first (which
 *   goes to the list's acl_frag; no ACL rule reads the bit). Read only by
 *   layout B contexts (see "Rules").
 */

#define TG_FILTER_KEY_NONFIRST 0x80

/** tg_filter_list.action[n_rules]: no rule matched. */
#define TG_FILTER_NO_MATCH 2

/** One configured (interface, direction). */
struct tg_filter_list {
	/** Unfragmented packets and first fragments: NULL when the list
	 *  has no rules. */
	struct rte_acl_ctx *acl;
	/** Later fragments: NULL when no rule can match one, == acl when no
	 *  rule has L4 conditions (see "Rules"). */
	struct rte_acl_ctx *acl_frag;
	uint8_t dir;	  /**< enum tg_cfg_filter_dir */
	uint8_t mode;	  /**< enum tg_cfg_filter_mode */
	uint16_t iface;	  /**< index into cfg->ifaces */
	uint16_t port_id; /**< its ethdev port */
	uint32_t n_rules;
	/** The rules as configured (names for telemetry): points into the
	 *  config model the snapshot owns. */
	const struct tg_cfg_filter_rule *rules;
	/** Per rule: enum tg_cfg_filter_action; action[n_rules] is
	 *  TG_FILTER_NO_MATCH (what no match does: a branch-free lookup). */
	uint8_t *action;
	/** This list's counters in each slot: [hits_off + r] for rule r,
	 *  [hits_off + n_rules] for packets no rule matched. */
	uint32_t hits_off;
	/** Verdict by action[] value: TG_V_NEXT for allow, this
	 *  direction's *_DENIED drop for deny, and for TG_FILTER_NO_MATCH
	 *  TG_V_NEXT (deny-listed) or the *_DEFAULT drop (allow-listed). */
	uint16_t verdict_of[3];
	/** rte_acl rules the list's rules became in acl and in acl_frag
	 *  (see "Rules" above). */
	uint32_t n_acl_rules;
	uint32_t n_acl_frag_rules;
	/** Key bytes acl walks per packet: 13 (layout A) or 17 (layout B:
	 *  an established rule). */
	uint8_t key_bytes;
	/** acl and acl_frag came from the previous snapshot's list with the
	 *  same rules (tg_filter_build_from()): not built again. */
	bool reused;
	/** How many lists (of live snapshots) share acl and acl_frag; the
	 *  last one freed frees them. Control thread only. NULL: no
	 *  context. */
	uint32_t *acl_ref;
	/** The interface's name (a copy): what tg_filter_carry_hits()
	 *  recognises a list by across snapshots. */
	char iface_name[TG_NAME_MAX];
	/** Key flags that can change this list's answer, and so are part of
	 *  a decision cache's key: TG_FILTER_KEY_NONFIRST, and ACK and RST
	 *  for a layout B list. The others would only split one answer over
	 *  several cache entries. */
	uint8_t cache_flags;
};

/** No list for this (direction, port). */
#define TG_FILTER_NO_LIST UINT16_MAX

struct tg_filter_table {
	bool enabled; /**< at least one list: the stage has work */
	uint16_t n_lists;
	struct tg_filter_list *lists;
	/** lists[] index by direction and ethdev port, or TG_FILTER_NO_LIST */
	uint16_t list_of[TG_CFG_FILTER__DIRS][RTE_MAX_ETHPORTS];
	/** Rule hit counters: n_slots blocks of slot_stride counters, one
	 *  block per lcore that may run the stage (written only by it,
	 *  summed by tg_filter_hits()). */
	uint16_t n_slots;
	uint32_t slot_stride; /**< a multiple of a cache line */
	uint64_t *hits;
	/** Totals carried over from the snapshot this one replaced, for
	 *  rules that kept their name and definition (same layout as one
	 *  slot); written once by the control thread after the swap. */
	uint64_t *carried;
	/** The rte_acl classify method in use: "avx512x32", "avx2", …
	 *  ("none" without any rte_acl context). */
	const char *method;
	/** Key count the method walks at once, when fewer make it fall
	 *  back to a narrower walk (32 for "avx512x32"), else 0: the burst
	 *  pads a nearly full classify call up to it. */
	uint16_t acl_pad;
	/** Unique per table built (never reused, unlike its address): what
	 *  a decision cache knows its entries' snapshot by. */
	uint64_t build_id;
};

/**
 * Build the table for every interface's filters. @p port_id maps the
 * config's port index (tg_cfg_iface.port) to the ethdev port id, for
 * @p n_ports ports; @p n_slots (at least 1) counter blocks, on NUMA
 * @p socket. The table points into @p cfg (the rules), which must
 * outlive it. Returns 0, or -errno with a message in @p err naming the
 * interface and direction (and the rule, or rte_acl's complaint):
 * -EINVAL for an invalid rule or list, an unknown port or two lists of
 * one direction on one port; -ENOMEM; what rte_acl_build() returns.
 *
 * Without any list it only allocates the table (every reload builds
 * it). Each context gets a name of its own (rte_acl_create() would hand
 * back a live context of the same name, and the replaced snapshot's are
 * alive during a reload). The classify method is the first of
 * avx512x32, avx512x16, avx2, sse, scalar that rte_acl accepts for every
 * context: avx512x32 needs the EAL's max SIMD bitwidth at 512
 * (--force-max-simd-bitwidth=512), avx512x16 and avx2 at least 256 (the
 * default).
 *
 * Cost, measured (the unit test's 100,000 rules of prefixes and TCP/UDP
 * port ranges, 75 % allow: 100,000 rte_acl rules in acl, 75,000 in
 * acl_frag): about 15 s of one core, 294 MiB of DPDK heap for the two
 * contexts (170 and 109 MiB), and rte_acl's build phase takes about
 * 1.2 GB of malloc'd memory while it runs. A context rte_acl cannot fit
 * in its 8 tries at its smallest node threshold is built again from its
 * largest (see FILTER_ACL_MAX_SIZE in filter_build.c).
 * Control thread; the tables of one build share nothing mutable with
 * another's.
 */
int tg_filter_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, uint16_t n_slots, int socket,
	struct tg_filter_table **out, char *err, size_t errlen);

/**
 * tg_filter_build() for a reload: a list whose interface, direction and
 * rules (all of them, in order; the mode may differ) are those of a list
 * of @p prev, the running table, shares that list's rte_acl contexts
 * instead of building them again (a 1,000-rule list: 0.6 s saved, a
 * 100,000-rule one: minutes). The contexts are read-only once built, so
 * both snapshots' workers may classify with them; they are freed with
 * the last table that holds them. @p prev may be NULL. Control thread,
 * with @p prev alive until the build returns.
 */
int tg_filter_build_from(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, uint16_t n_slots, int socket,
	const struct tg_filter_table *prev, struct tg_filter_table **out,
	char *err, size_t errlen);

/** Free a table no reader can see any more (its rte_acl contexts too).
 *  NULL is a no-op. */
void tg_filter_table_free(struct tg_filter_table *ft);

/**
 * Carry rule hit counts over from @p old (the snapshot being replaced)
 * to @p ft for every rule of the same list (interface, direction) with
 * the same name and definition (wherever it moved in the list: the count
 * belongs to the rule), and the no-match count when the list's mode is
 * unchanged.
 * Call once every reader of @p old is gone (after the RCU grace period)
 * and before @p ft's counts are first read; @p old's config model must
 * still be alive (its rule names are compared). Linear in the rules
 * (a hash of the old list's names); without memory for it nothing is
 * carried. Control thread.
 */
void tg_filter_carry_hits(
	struct tg_filter_table *ft, const struct tg_filter_table *old);

/** Total hits of rule @p r of list @p l (r == n_rules: no match): what
 *  was carried plus every slot. 0 for an unknown list or rule. Any
 *  thread (the slots are read while workers count). */
uint64_t tg_filter_hits(
	const struct tg_filter_table *ft, uint16_t l, uint32_t r);

/**
 * Build the classification key of one packet (validated IPv4, Ethernet
 * header first, meta->l3_len set). Returns 0, or TG_V_DROP(reason) for a
 * packet the rules cannot judge (SHORT_L4, TCP_OVERLAP: see "Rules").
 * The L4 header counts as far as both the IP total length and the frame
 * hold it. Any thread.
 */
uint16_t tg_filter_key_make(const struct rte_mbuf *m, struct tg_acl_key *k);

/**
 * Classify without counting (explain, tests): for each packet, the list
 * that applies for its direction (@p dir[i], enum tg_cfg_filter_dir; the
 * port is meta->rx_if inbound, meta->tx_if outbound), the verdict
 * (TG_V_NEXT or TG_V_DROP(enum tg_filter_drop)), and in @p rule the index
 * of the deciding rule in its list, or UINT32_MAX when none applied (no
 * list, no rule matched, or a drop before the rules). @p list gets the
 * list that applied (also for a drop before the rules), or
 * TG_FILTER_NO_LIST (also for a @p dir[i] that is no direction). @p list
 * and @p rule may be NULL. Packets are gathered per list and context
 * (acl, acl_frag): one rte_acl_classify() call per list, context and 64
 * packets. Any thread; reads the table only.
 */
void tg_filter_classify(const struct tg_filter_table *ft,
	struct rte_mbuf **pkts, uint16_t n, const uint8_t *dir,
	uint16_t *verdict, uint16_t *list, uint32_t *rule);

/** The stage's burst: tg_filter_classify() and count each decision in
 *  counter block @p slot (< n_slots): the deciding rule, or the list's
 *  no-match counter; drops before the rules and packets without a list
 *  count nowhere. Only the lcore owning @p slot. */
void tg_filter_burst(const struct tg_filter_table *ft, uint16_t slot,
	struct rte_mbuf **pkts, uint16_t n, const uint8_t *dir,
	uint16_t *verdict);

struct tg_filter_cache;

/** tg_filter_burst() with a decision cache (may be NULL): the same
 *  verdicts and counts; @p cache only for the lcore that owns it. */
void tg_filter_burst_cached(const struct tg_filter_table *ft, uint16_t slot,
	struct tg_filter_cache *cache, struct rte_mbuf **pkts, uint16_t n,
	const uint8_t *dir, uint16_t *verdict);

/** Steps per path that tg_filter_steps knows (the pipeline's paths have
 *  at most this many). */
#define TG_FILTER_STEPS 8

/** Which list a packet meets, by where it is on its path: dir[meta->path]
 *  [meta->step] (enum tg_cfg_filter_dir; any other value: no list). */
struct tg_filter_steps {
	uint8_t dir[TG_PATH__COUNT][TG_FILTER_STEPS];
};

/*
 * Decision cache. Within one table, a list's answer is a pure function of
 * the packet's key (protocol, addresses, ports or ICMP type and code, the
 * flags the list reads): a lcore that runs the stage can remember the
 * answers it got from rte_acl and reuse them for later packets of the
 * same flow, as OVS's exact-match cache does in front of its classifier.
 * An answer costs a hash, one cache line and a 16-byte compare instead
 * of a walk of every rte_acl trie of the list (which grows with the
 * rules: 40 cycles at 1,000 rules, 1,400 at 100,000).
 *
 * Buckets of one cache line hold TG_FILTER_CACHE_WAYS entries: the key
 * (the list index in place of the key's padding) and the rte_acl answer
 * tagged with the cache's epoch. A new table (tg_filter_table.build_id)
 * starts a new epoch, which makes every entry stale at once; when the
 * epoch counter wraps, the entries are cleared. A miss goes to rte_acl
 * and its answer replaces a stale entry of its bucket or, all being
 * live, one picked by the hash (random replacement: no cyclic pattern of
 * a few flows in one bucket misses every time). Counters and hits are
 * the same with or without it: a cached answer is counted against its
 * rule like a fresh one.
 */
#define TG_FILTER_CACHE_WAYS 3
/** Epoch bits in an entry's tag; the low bits hold the rte_acl answer
 *  (rule + 1, 0 for none). */
#define TG_FILTER_CACHE_RES_BITS 20
#define TG_FILTER_CACHE_EPOCHS	 (1u << (32 - TG_FILTER_CACHE_RES_BITS))
/** Most entries a cache may have (tg_cfg_pipeline.filter_cache). */
#define TG_FILTER_CACHE_MAX (1u << 24)

struct tg_filter_cache_entry {
	uint32_t k[4]; /**< proto | flags << 8 | list << 16, src, dst, ports */
	uint32_t tag;  /**< epoch << RES_BITS | rte_acl answer; 0: empty */
} __rte_packed;

struct tg_filter_cache_bucket {
	struct tg_filter_cache_entry e[TG_FILTER_CACHE_WAYS];
} __rte_aligned(RTE_CACHE_LINE_SIZE);

struct tg_filter_cache {
	uint32_t mask;	   /**< buckets - 1 */
	uint32_t epoch;	   /**< 1 .. TG_FILTER_CACHE_EPOCHS - 1 */
	uint64_t build_id; /**< of the table the epoch stands for */
	/* written by the owning lcore only; read by telemetry */
	uint64_t hits;
	uint64_t misses;
	uint64_t clears; /**< epoch wraps: every entry cleared */
	struct tg_filter_cache_bucket *b;
};

/** A cache of at least @p entries decisions (rounded up to a power of two
 *  buckets), on @p socket; NULL with rte_errno set. Control thread. */
struct tg_filter_cache *tg_filter_cache_create(uint32_t entries, int socket);
void tg_filter_cache_free(struct tg_filter_cache *c);
/** Entries the cache holds. */
uint32_t tg_filter_cache_entries(const struct tg_filter_cache *c);

/** The stage's per-lcore state, owned by the pipeline. */
struct tg_filter_ctx {
	uint16_t slot; /**< counter block of the lcore running the stage */
	struct tg_filter_steps steps;  /**< filled once by the pipeline */
	struct tg_filter_cache *cache; /**< NULL: every packet to rte_acl */
};

/** tg_filter_burst() for the pipeline: each packet's direction comes from
 *  its path and step (@p ctx->steps), read in the same pass as the rest
 *  of its metadata; counts in block @p ctx->slot. */
void tg_filter_burst_steps(const struct tg_filter_table *ft,
	const struct tg_filter_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict);

#endif /* TG_FILTER_H */
