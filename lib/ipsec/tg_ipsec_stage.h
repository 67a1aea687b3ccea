/* SPDX-License-Identifier: BSD-3-Clause
 * The ipsec stage (Ipsec.sys): the snapshot's ipsec table (SPD, SAD, the
 * SAs of the running configuration, policy hit counters) and the stage's
 * own state (the crypto device and every SA that lives across reloads),
 * with the burst and tick functions the pipeline calls.
 *
 * Outbound (source and transit paths, last before TX): the outbound SPD
 * decides allow (pass), block (drop) or protect (encrypt with the
 * policy's SA). Protected packets go to the crypto device and come back
 * on a later poll (tick): transport mode continues to TX as it was
 * routed; tunnel mode switches to the tunnel path (forward, then TX) to
 * be routed to the SA's remote end.
 *
 * Inbound (target path, first): ESP (or AH) to an appliance address is
 * matched to its SA by SPI (rte_ipsec_sad), checked against the replay
 * window, authenticated and decrypted; the inner packet is validated like
 * a received one, must match a protect policy with that SA
 * (ipsec.policy_mismatch otherwise) and continues on the target path, or
 * as transit when a tunnel's inner packet is for a host behind the
 * appliance. Unprotected packets that match an inbound protect policy are
 * dropped (ipsec.unprotected): on the target path here, and on the
 * transit path at the ipsec(out) step (the seed's transit path has no
 * ipsec(in) step; the packet has been routed by then, so nothing
 * unprotected slips through a tunnel's far side).
 */
#ifndef TG_IPSEC_STAGE_H
#define TG_IPSEC_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "tg_config.h"
#include "tg_forward.h"
#include "tg_ipsec.h"
#include "tg_ipsec_spd.h"
#include "tg_meta.h"
#include "tg_pkt.h"

/* X(NAME, "counter name", "what happened") */
#define TG_IPSEC_DROPS(X)                                                      \
	X(BLOCKED, "ipsec.blocked", "a block policy matched")                  \
	X(UNPROTECTED, "ipsec.unprotected",                                    \
		"an unprotected packet matched an inbound protect policy")     \
	X(NO_SA, "ipsec.no_sa",                                                \
		"ESP or AH to the appliance with an SPI of no inbound SA")     \
	X(SA_EXPIRED, "ipsec.sa_expired",                                      \
		"the SA reached its hard lifetime (packets or bytes)")         \
	X(REPLAY, "ipsec.replay",                                              \
		"sequence number outside the replay window or seen before")    \
	X(AUTH_FAILED, "ipsec.auth_failed",                                    \
		"the integrity check value did not verify")                    \
	X(MALFORMED, "ipsec.malformed",                                        \
		"ESP or AH too short for its SA, or not a whole number of "    \
		"cipher blocks")                                               \
	X(BAD_TRAILER, "ipsec.bad_trailer",                                    \
		"decrypted, but the padding or next header was invalid")       \
	X(FRAGMENT, "ipsec.fragment",                                          \
		"a fragment of ESP or AH (no reassembly before IPsec)")        \
	X(POLICY_MISMATCH, "ipsec.policy_mismatch",                            \
		"the decrypted packet matched no protect policy with its SA")  \
	X(INNER_INVALID, "ipsec.inner_invalid",                                \
		"the decrypted inner packet is not a valid IPv4 packet")       \
	X(CRYPTO_QUEUE_FULL, "ipsec.crypto_queue_full",                        \
		"the crypto device's queue (or op pool) was full")             \
	X(CRYPTO_FAILED, "ipsec.crypto_failed",                                \
		"the crypto device failed an outbound operation")              \
	X(SEQ_OVERFLOW, "ipsec.seq_overflow",                                  \
		"the outbound SA ran out of sequence numbers")                 \
	X(TOO_BIG, "ipsec.too_big",                                            \
		"protected, it would exceed the MTU towards the tunnel's "     \
		"far end (a DF sender gets fragmentation needed)")

enum tg_ipsec_drop {
#define TG_X_ENUM(n, s, d) TG_IPSEC_DROP_##n,
	TG_IPSEC_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_IPSEC_DROP__COUNT
};

extern const char *const tg_ipsec_drop_names[TG_IPSEC_DROP__COUNT];
extern const char *const tg_ipsec_drop_descs[TG_IPSEC_DROP__COUNT];

/** A policy as the dataplane needs it. */
struct tg_ipsec_pol {
	uint8_t action;	 /**< enum tg_cfg_ipsec_action */
	uint32_t sa_out; /**< index into tg_ipsec_table.sas, or
			      TG_CFG_IPSEC_NO_SA */
	uint32_t sa_in;
};

/** An SA in a table: the long-lived SA and what the build knows of it. */
struct tg_ipsec_tsa {
	/* What a packet reads of it sits in its first cache line: the SA,
	 * the outbound tunnel's next hop, the inbound direct check and its
	 * first rule (with many SAs every packet meets a cold entry). The
	 * entries are cache aligned, or that line would be two for most of
	 * them. */
	struct tg_ipsec_sa *sa;
	/** Outbound tunnel: the MTU of the interface towards `remote` (the
	 *  longest connected or static route of the config; 0: none, no
	 *  check) and the most bytes the SA adds. */
	uint16_t tun_mtu, overhead;
	/** Outbound tunnel: where the ESP goes, resolved once with the
	 *  snapshot's forward table (tg_ipsec_table_link): the port, the
	 *  neighbor to send to, its interface's MTU, and bytes 6..13 of the
	 *  Ethernet header (our MAC, IPv4). adj_ok false: forward routes
	 *  every packet (the tunnel path). */
	bool adj_ok;
	bool adj_l3; /**< a bare-IP port: no neighbor to resolve */
	uint16_t adj_port, adj_mtu;
	uint32_t adj_nh_ip; /**< host order */
	uint8_t adj_src_et[8];
	/** Inbound: the inner policy check without the SPD when
	 *  sel.direct (tg_ipsec_spd.h). The SAD gives this struct. */
	struct tg_ipsec_sels sel;
	char name[TG_CFG_IPSEC_NAME_MAX];
	uint8_t proto; /**< enum tg_cfg_ipsec_proto */
	uint8_t dir;   /**< TG_CFG_IPSEC_OUT / _IN */
	bool reused;   /**< carried over from the previous snapshot */
} __rte_cache_aligned;

/** Policy hit counters of one direction; written by the stage's lcore. */
struct tg_ipsec_hits {
	uint64_t out, in;
};

/** The ipsec part of a snapshot. Immutable once published, except the
 *  hit counters (one writer: the lcore running the stage). */
struct tg_ipsec_table {
	bool enabled;
	bool bypass; /**< allow_authenticated_bypass */
	/** The inbound SPD has a protect or block policy: transit packets
	 *  are checked against it at ipsec(out). */
	bool in_check;
	/** Some policy applies outbound: without one, ipsec(out) has no
	 *  question for the SPD but in_check's (decrypted transit packets,
	 *  which in_check exempts, pass without a lookup). */
	bool out_check;
	/** The configuration's section (policy names for telemetry and hit
	 *  carry-over); lives as long as the snapshot's config. */
	const struct tg_cfg_ipsec *cfg;
	uint8_t modes; /**< 1 << TG_MODE_IN | 1 << TG_MODE_OUT when enabled */
	struct tg_ipsec_spd *spd;
	uint32_t n_policies;
	struct tg_ipsec_pol *pol;   /**< by tg_cfg_ipsec.policies index */
	struct tg_ipsec_hits *hits; /**< [n_policies], counted here */
	/** [n_policies]: what the policy counted in earlier snapshots
	 *  (written by the control thread only: tg_ipsec_carry_hits());
	 *  read with tg_ipsec_policy_hits() */
	struct tg_ipsec_hits *carried;
	uint32_t n_sas;
	struct tg_ipsec_tsa *sas;     /**< by tg_cfg_ipsec.sas index */
	struct rte_ipsec_sad *sad[2]; /**< inbound SPI → tg_ipsec_sa *,
					   [0] ESP, [1] AH */
	/** By DPDK port id: the interface address ICMP errors come from
	 *  (0: none); and the icmp: settings for them. */
	uint32_t if_addr[RTE_MAX_ETHPORTS];
	/** The same snapshot's forward table (tg_ipsec_table_link; NULL
	 *  before, and in tables built alone): what the tunnel next hops
	 *  were resolved with, and what the neighbor cache is checked
	 *  against. */
	const struct tg_forward_table *fwd;
	bool icmp_unreach;
	uint64_t icmp_rate, icmp_burst;
};

struct tg_ipsec_stage;

/**
 * The stage's state: the crypto device (ipsec.crypto_device) with room
 * for about twice the configured SAs (a reload builds the new SAs beside
 * the running ones), and the registry of live SAs. @p port_ids: the DPDK
 * port of each cfg->ports entry (NULL: the same numbers); @p mp: where
 * ICMP errors (fragmentation needed) come from. NULL with rte_errno
 * when the device cannot be set up. Control thread, at start.
 */
struct tg_ipsec_stage *tg_ipsec_stage_create(const struct tg_config *cfg,
	const uint16_t *port_ids, uint16_t n_ports, struct rte_mempool *mp,
	int socket);

/** Destroy every SA and the device. No worker may run. NULL: no-op. */
void tg_ipsec_stage_free(struct tg_ipsec_stage *st);

/**
 * Build the ipsec table of @p cfg. SAs whose definition (everything but
 * its position in the file) is the same as a live one's are reused, with
 * their sequence numbers, replay windows and counters; the others are
 * created. Policy hit counters carry over for policies of the same name
 * and definition. With ipsec disabled (or @p st NULL and no SA needed)
 * the table is empty and disabled.
 * @return 0, or -errno with @p err set (the device lacks an algorithm,
 *   no room for more sessions, rte_acl failure, ...). Control thread.
 */
int tg_ipsec_build(const struct tg_config *cfg, struct tg_ipsec_stage *st,
	const struct tg_ipsec_table *prev, int socket,
	struct tg_ipsec_table **out, char *err, size_t errlen);

/**
 * The meta flags of packets ipsec(out) has nothing to do for with @p t:
 * TG_META_F_IPSEC_IN when no policy applies outbound (decrypted transit
 * packets are exempt from the inbound check there too), else 0. The
 * dispatcher passes such packets by (tg_tables.stage_pass_out).
 */
static inline uint8_t
tg_ipsec_pass_out(const struct tg_ipsec_table *t)
{
	return t != NULL && t->enabled && !t->out_check ? TG_META_F_IPSEC_IN
							: 0;
}

/** Free a table no worker can see. Its SAs stay (the stage owns them). */
void tg_ipsec_table_free(struct tg_ipsec_table *t);

/**
 * Resolve each outbound tunnel SA's far end with @p ft, the forward table
 * of the same snapshot (it must live as long as @p t): the route, once
 * per table instead of once per packet. Control thread, before the
 * snapshot is published.
 */
void tg_ipsec_table_link(
	struct tg_ipsec_table *t, const struct tg_forward_table *ft);

/**
 * Let the stage send tunnel output itself when the neighbor it goes to
 * is in @p fctx, forward's cache, ready to use: Ethernet header written,
 * straight to TX on the tunnel_direct path, without a second pass
 * through forward. Only when forward runs on the same lcore as ipsec
 * (the cache is read without synchronisation, between forward's
 * bursts); NULL turns it off. Control thread, before the workers start.
 */
void tg_ipsec_stage_set_forward(
	struct tg_ipsec_stage *st, const struct tg_forward_ctx *fctx);

/** Give @p t the hit counts of @p old's policies that are unchanged (same
 *  name, definition and SAs), into t->carried: workers count into
 *  t->hits from the moment @p t is published, so the carried counts
 *  go apart. Call it when no worker counts in @p old any more: after
 *  the RCU grace period, before telemetry reads @p t. */
void tg_ipsec_carry_hits(
	struct tg_ipsec_table *t, const struct tg_ipsec_table *old);

/** Policy @p i's hits (written index), counted and carried. Any thread. */
void tg_ipsec_policy_hits(
	const struct tg_ipsec_table *t, uint32_t i, struct tg_ipsec_hits *h);

/**
 * After @p cur was published and every worker has left older snapshots:
 * destroy the SAs @p cur does not use and that have nothing in flight
 * (those with ops in the device wait for the next call). Control thread.
 * @return SAs still waiting.
 */
uint32_t tg_ipsec_stage_sweep(
	struct tg_ipsec_stage *st, const struct tg_ipsec_table *cur);

/**
 * The stage's burst: a verdict per packet (TG_V_NEXT, TG_V_DROP(enum
 * tg_ipsec_drop), TG_V_STOLEN for packets handed to the crypto device).
 * Completed operations are picked up here too and by tg_ipsec_tick(),
 * and leave through @p emit. @p local: the appliance's addresses (the
 * forward table's), to tell where a decrypted packet goes.
 */
void tg_ipsec_burst(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, struct tg_emit *emit, uint64_t now);

/** What decided a packet (tg_ipsec_explain()). */
enum tg_ipsec_why_what {
	TG_IPSEC_WHY_NONE = 0, /**< no policy applied */
	TG_IPSEC_WHY_POLICY,   /**< policy (index) decided */
	TG_IPSEC_WHY_SA,       /**< inbound SA (index) took it */
};

struct tg_ipsec_why {
	uint8_t what;	 /**< enum tg_ipsec_why_what */
	bool direct;	 /**< the tunnel's output goes straight to TX */
	uint32_t policy; /**< index in cfg->policies, UINT32_MAX: none */
	uint32_t sa;	 /**< index in the table's SAs, UINT32_MAX: none */
};

/**
 * Explain: the burst's decisions for one packet, read-only: no crypto,
 * no sequence number, replay window, lifetime or hit counter touched.
 * Outbound protect rewrites the packet's outer header as the tunnel
 * would (no ESP); inbound ESP is taken to be ESP with the null cipher
 * and no ICV, inbound AH to carry an ICV nobody checks (explain's own
 * packets are): "decrypted" by taking the header (and ESP's trailer)
 * off, then checked as the burst checks it (with @p decap false, a
 * received packet's: its SA only). Any thread.
 */
uint16_t tg_ipsec_explain(const struct tg_ipsec_table *t,
	const struct tg_ipsec_stage *st, const struct tg_local_set *local,
	struct rte_mbuf *m, uint64_t now, bool decap, struct tg_ipsec_why *w);

/** Pick up completed crypto operations (never waits). */
void tg_ipsec_tick(const struct tg_ipsec_table *t, struct tg_ipsec_stage *st,
	const struct tg_local_set *local, struct tg_emit *emit, uint64_t now);

/** Packets in the crypto device now (for the in-flight total). */
uint64_t tg_ipsec_inflight(const struct tg_ipsec_stage *st);

/** The crypto device's name and id, for telemetry. */
const char *tg_ipsec_stage_device(const struct tg_ipsec_stage *st);

/**
 * Would moving from @p run to @p nc need a restart? Turning ipsec on when
 * it was off at start (no crypto device), or another crypto_device.
 * Writes the setting's path into @p path.
 */
bool tg_ipsec_restart_only(const struct tg_config *run,
	const struct tg_config *nc, char *path, size_t len);

#endif /* TG_IPSEC_STAGE_H */
