/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the firewall hook (the seed's Ipnat.sys) — NAPT between private
 * and public interfaces and the stateful host firewall, at one step of
 * each path (docs/nat.md). The configuration part of a snapshot is a
 * tg_natfw_table (immutable, built from the config model); the sessions
 * live in the stage's per-lcore context (a tg_nat_table), which survives
 * reloads. Knows nothing of rings, lcores or YAML.
 */
#ifndef TG_NATFW_H
#define TG_NATFW_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

#include "nat_table.h"
#include "tg_config.h"
#include "tg_meta.h"

/* Drop reasons: X(NAME, "telemetry.name", "why"). */
#define TG_NATFW_DROPS(X)                                                      \
	X(SESSIONS_FULL, "natfw.sessions_full",                                \
		"a new flow and every session in use (nat.max_sessions)")      \
	X(HOST_LIMIT, "natfw.host_limit",                                      \
		"a new flow of a private host that has "                       \
		"nat.max_sessions_per_host sessions")                          \
	X(PORTS_FULL, "natfw.ports_full",                                      \
		"a new mapping and every port of the NAT address's range in "  \
		"use for that protocol")                                       \
	X(TABLE_FULL, "natfw.table_full",                                      \
		"a new flow the session table could not hold: more private "   \
		"hosts with sessions than its host records (a quarter of "     \
		"nat.max_sessions), or an index full")                         \
	X(NO_EXCEPTION, "natfw.no_exception",                                  \
		"unsolicited traffic to the appliance that no translation, "   \
		"exception or dynamic entry lets in (firewall)")               \
	X(ICMP_BLOCKED, "natfw.icmp_blocked",                                  \
		"an ICMP type the firewall blocks: an unsolicited request "    \
		"in, or an error the appliance sends out")                     \
	X(DYNAMIC_FULL, "natfw.dynamic_full",                                  \
		"the appliance opened a flow and every dynamic entry is in "   \
		"use (firewall.max_dynamic): its answers could not come in")   \
	X(PORT_IN_USE, "natfw.port_in_use",                                    \
		"the appliance sent from a port of a NAT address that a "      \
		"translation holds (its answers would be the translation's)")  \
	X(FRAGMENT, "natfw.fragment",                                          \
		"a later fragment of a packet NAT must translate (no "         \
		"reassembly: its ports are in the first fragment)")            \
	X(SHORT_L4, "natfw.short_l4",                                          \
		"TCP, UDP or ICMP header too short to translate or judge")     \
	X(PROTOCOL, "natfw.protocol",                                          \
		"from a private to a public interface, a protocol NAT does "   \
		"not translate (TCP, UDP, ICMP and PPTP GRE are; the private " \
		"address must not leave)")                                     \
	X(GRE_NOT_PPTP, "natfw.gre_not_pptp",                                  \
		"from a private to a public interface, GRE that is not "       \
		"PPTP's enhanced GRE (version 1 with a key, RFC 2637 4.1): "   \
		"no call ID to translate it by")                               \
	X(GRE_NO_CALL, "natfw.gre_no_call",                                    \
		"from a private to a public interface, PPTP GRE for a call "   \
		"no control message set up (or that ended)")                   \
	X(PPTP_UNTRANSLATABLE, "natfw.pptp_untranslatable",                    \
		"a PPTP call message NAT cannot translate: the call ID's "     \
		"mapping sits on another NAT address than the control "        \
		"connection, or both call IDs are 0")

enum tg_natfw_drop {
#define TG_X_ENUM(n, s, d) TG_NATFW_DROP_##n,
	TG_NATFW_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_NATFW_DROP__COUNT
};

extern const char *const tg_natfw_drop_names[TG_NATFW_DROP__COUNT];
extern const char *const tg_natfw_drop_descs[TG_NATFW_DROP__COUNT];

/** Timeout classes of the session table. */
enum tg_natfw_tmo {
	TG_NATFW_TMO_TCP_EST = 0,
	TG_NATFW_TMO_TCP_TRANS,
	TG_NATFW_TMO_UDP,
	TG_NATFW_TMO_ICMP,
	TG_NATFW_TMO_GRE,
	TG_NATFW_TMO__COUNT
};

/** tg_nat_sess.state: TCP as NAT sees it (RFC 5382: established, or
 *  transitory — partially open or partially closed). I2O: the private
 *  (or local) side; O2I: the remote side. */
enum tg_natfw_tcp {
	TG_NATFW_TCP_SYN_I2O = 0, /**< opened from inside, no answer yet */
	TG_NATFW_TCP_SYN_O2I,	  /**< opened from outside, no answer yet */
	TG_NATFW_TCP_EST,	  /**< the other side answered */
	TG_NATFW_TCP_FIN_I2O,	  /**< FIN from inside */
	TG_NATFW_TCP_FIN_O2I,	  /**< FIN from outside */
	TG_NATFW_TCP_CLOSING,	  /**< FIN both ways, or RST */
};

/** A firewall dynamic entry: a local session of the table (the
 *  appliance's own flow, not translated). */
#define TG_NATFW_SF_LOCAL TG_NAT_SF_LOCAL

/** Local sessions when NAT runs without the firewall: they only keep
 *  translations off the ports the appliance uses on NAT addresses. */
#define TG_NATFW_LOCAL_NAT_ONLY 4096

/** Session records a reload's sweep looks at per tick (tg_natfw_tick()):
 *  32 cache lines a prefetched stride, a few microseconds a poll. */
#define TG_NATFW_SWEEP_BUDGET 2048

/** Interface roles (tg_natfw_table.role). */
enum tg_natfw_role {
	TG_NATFW_NONE = 0,
	TG_NATFW_PRIVATE,
	TG_NATFW_PUBLIC,
};

/** Addresses with a port space: the NAT ones and the interfaces'. */
#define TG_NATFW_MAX_ADDR (TG_CFG_NAT_MAX_ADDRESSES + TG_MAX_PORTS)
/** The session table's slots (port spaces): twice the addresses, so that
 *  a reload finds slots for new addresses while the sessions of removed
 *  ones are still being deleted (docs/nat.md, Reload). */
#define TG_NATFW_SLOTS (2 * TG_NATFW_MAX_ADDR)
/** tg_natfw_table.slot_addr: a slot no address of the snapshot has. */
#define TG_NATFW_NO_ADDR UINT16_MAX

/** A port mapping, sorted by (proto, addr, public_port). */
struct tg_natfw_pmap {
	uint8_t proto;
	uint16_t addr; /**< index into the session table's addresses */
	uint16_t public_port;
	uint32_t private_ip;
	uint16_t private_port;
};

/** The snapshot's part: what the configuration says. Control thread
 *  builds it; workers only read it. */
struct tg_natfw_table {
	bool nat;      /**< nat.enabled */
	bool firewall; /**< firewall.enabled */
	/** the stage has work at a step mode: bit (1 << enum tg_mode) */
	uint32_t modes;
	uint8_t role[RTE_MAX_ETHPORTS]; /**< enum tg_natfw_role by port */
	uint8_t filtering;		/**< enum tg_cfg_nat_filtering */
	/** Addresses with a port space in the session table: the NAT
	 *  addresses first (n_nat of them, with their dynamic ranges),
	 *  then the appliance's other addresses (dynamic entries only). The
	 *  session table is created with the same list. */
	uint16_t n_addr;
	uint16_t n_nat;
	uint32_t addr[TG_NATFW_MAX_ADDR];
	/** The session table's slot of each address: an address keeps its
	 *  slot across reloads (its sessions and mappings hold the slot),
	 *  a new one takes a free slot (tg_natfw_build_from()). */
	uint16_t slot[TG_NATFW_MAX_ADDR];
	/** slot → address index, TG_NATFW_NO_ADDR for a slot without one */
	uint16_t slot_addr[TG_NATFW_SLOTS];
	/** Changes when sessions may stop fitting (an address removed or
	 *  no longer a NAT one, a range that lost ports, a port mapping
	 *  gone): the stage then sweeps its table (tg_natfw_tick()). */
	uint32_t layout;
	/** Per slot, the layout that removed its address while the stage
	 *  may still be deleting its sessions (its port space cannot be
	 *  given to another address yet); 0: none. */
	uint32_t retired[TG_NATFW_SLOTS];
	/** NAT address (index) new translations leaving by a public port
	 *  take: the first on that interface, else the first */
	uint16_t nat_addr_of_port[RTE_MAX_ETHPORTS];
	/** ethdev port of each config interface (exceptions' interface) */
	uint16_t iface_port[TG_MAX_PORTS];
	uint16_t port_lo[TG_CFG_NAT_MAX_ADDRESSES];
	uint16_t port_hi[TG_CFG_NAT_MAX_ADDRESSES];
	uint32_t timeouts[TG_NATFW_TMO__COUNT]; /**< seconds */
	uint32_t n_pmaps;
	struct tg_natfw_pmap *pmaps;
	/** firewall */
	uint64_t icmp_in_allow[4]; /**< bit per ICMP type: requests let in */
	const struct tg_cfg_firewall *fw; /**< exceptions and ICMP policy:
					       the snapshot's config model */
};

/** Build the snapshot's part from @p cfg; @p port_id maps config port
 *  index → ethdev port. The first snapshot: address i has slot i, as
 *  tg_natfw_ctx_create() lays the table out. 0 and *out, or -errno with
 *  @p err. Control thread. */
int tg_natfw_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, struct tg_natfw_table **out, char *err,
	size_t errlen);

struct tg_natfw_ctx;

/**
 * tg_natfw_build() for a reload: the addresses of @p prev (the running
 * snapshot) keep their slots, new ones take free slots, and @p ctx's
 * session table (NULL: none) gets a port space for each new slot here,
 * on the control thread; free slots' port spaces are freed. A slot whose
 * address went away stays retired until the stage has swept its sessions
 * (ctx->swept). @p prev NULL: tg_natfw_build(). 0 and *out; -EBUSY when
 * no slot is free (removed addresses' sessions still being deleted: try
 * again), -ENOMEM, -EINVAL, with @p err. Control thread, under the lock
 * that serialises reloads; the stage may run.
 */
int tg_natfw_build_from(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, const struct tg_natfw_table *prev,
	struct tg_natfw_ctx *ctx, struct tg_natfw_table **out, char *err,
	size_t errlen);
void tg_natfw_table_free(struct tg_natfw_table *nt);

/**
 * Whether going from the running configuration @p run to @p nc needs a
 * restart for natfw: its session table is sized from the start-up
 * configuration. True (with the YAML key in @p what) when nat or the
 * firewall would be turned on without a table, or the table's sizes
 * would change (nat.enabled, firewall.enabled, nat.max_sessions,
 * nat.max_sessions_per_host, firewall.max_dynamic, as far as they size
 * it). Addresses, ranges and port mappings apply live (docs/nat.md,
 * Reload). Any thread.
 */
bool tg_natfw_restart_only(const struct tg_config *run,
	const struct tg_config *nc, char *what, size_t len);

/* PPTP counters (not drops: the messages pass): X(NAME, "telemetry.name",
 * "why"). */
#define TG_NATFW_PPTP_STATS(X)                                                 \
	X(MESSAGES, "natfw.pptp.messages",                                     \
		"PPTP control messages parsed at the start of a TCP 1723 "     \
		"segment (transit and the appliance's own)")                   \
	X(CALLS, "natfw.pptp.calls",                                           \
		"GRE calls set up: translated ones and the appliance's own "   \
		"(firewall dynamic entries)")                                  \
	X(CLEARED, "natfw.pptp.cleared",                                       \
		"GRE sessions ended early by a Call-Clear-Request, a "         \
		"Call-Disconnect-Notify or a refused call")                    \
	X(TRUNCATED, "natfw.pptp.truncated",                                   \
		"a control message shorter than its type's length (RFC "       \
		"2637), or cut by the segment: passed unparsed")               \
	X(BAD_COOKIE, "natfw.pptp.bad_cookie",                                 \
		"a TCP 1723 payload that does not start with a control "       \
		"message (magic cookie 0x1A2B3C4D, message type 1): passed "   \
		"unparsed")                                                    \
	X(BAD_TYPE, "natfw.pptp.bad_type",                                     \
		"a control message type RFC 2637 does not define: passed")     \
	X(UNKNOWN_CALL, "natfw.pptp.unknown_call",                             \
		"a message naming a call ID NAT did not hand out to this "     \
		"control connection's client: passed untranslated")

enum tg_natfw_pptp_stat {
#define TG_X_ENUM(n, s, d) TG_NATFW_PPTP_##n,
	TG_NATFW_PPTP_STATS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_NATFW_PPTP__COUNT
};

extern const char *const tg_natfw_pptp_names[TG_NATFW_PPTP__COUNT];
extern const char *const tg_natfw_pptp_descs[TG_NATFW_PPTP__COUNT];

/** PPTP counters of one lcore: written by it only, read by anyone (each
 *  an aligned 64-bit word). */
struct tg_natfw_pptp_stats {
	uint64_t n[TG_NATFW_PPTP__COUNT];
};

/** The stage's per-lcore state. */
struct tg_natfw_ctx {
	struct tg_nat_table *sessions;
	uint64_t tsc_hz;	/**< the clock: seconds = now / tsc_hz */
	uint32_t expire_budget; /**< sessions expiry visits per tick */
	struct tg_natfw_pptp_stats pptp; /**< natfw_pptp.c */
	uint32_t sweep_budget;	/**< records a reload's sweep visits per tick */
	uint32_t layout; /**< the snapshot layout the table follows (stage) */
	/** The layout whose sweep is complete: written by the stage
	 *  (release), read by tg_natfw_build_from() (acquire). */
	uint32_t swept;
};

/** The session table for @p cfg (addresses as tg_natfw_build() orders
 *  them, sizes and timeouts from nat:, firewall:); NULL with rte_errno.
 *  Control thread, before the workers start. */
struct tg_natfw_ctx *tg_natfw_ctx_create(
	const struct tg_config *cfg, uint64_t tsc_hz, int socket);
void tg_natfw_ctx_free(struct tg_natfw_ctx *c);

/**
 * The stage's burst: each packet by its step's mode (meta->mode):
 * TG_MODE_TRANSIT (transit natfw(nat)): translate private → public;
 * TG_MODE_IN (target natfw(in)): translate back (verdict
 * TG_V_GOTO(TG_STAGE_FORWARD), meta->path TRANSIT) or judge by the
 * firewall; TG_MODE_OUT (source natfw(out)): ICMP policy and dynamic
 * entries. @p now: TSC. Only the lcore owning @p c.
 */
void tg_natfw_burst(const struct tg_natfw_table *nt, struct tg_natfw_ctx *c,
	struct rte_mbuf **pkts, uint16_t n, uint16_t *verdict, uint64_t now);

/** What decided a packet (tg_natfw_explain()). */
enum tg_natfw_why_what {
	TG_NATFW_WHY_NONE = 0,	    /**< nothing applied */
	TG_NATFW_WHY_NOT_NAT,	    /**< not private → public: no NAT */
	TG_NATFW_WHY_SESSION,	    /**< a session (sess) translated it */
	TG_NATFW_WHY_NEW_MAPPING,   /**< a new mapping would be made */
	TG_NATFW_WHY_EIF,	    /**< endpoint-independent filtering: an
					 existing mapping would take it */
	TG_NATFW_WHY_PORT_MAPPING,  /**< a port mapping would take it */
	TG_NATFW_WHY_DYN_ENTRY,	    /**< a dynamic entry (sess) */
	TG_NATFW_WHY_NEW_DYN_ENTRY, /**< one would be opened */
	TG_NATFW_WHY_EXCEPTION,	    /**< firewall exception (exception) */
	TG_NATFW_WHY_BYPASS,	    /**< the IPsec bypass tag */
	TG_NATFW_WHY_ICMP_POLICY,   /**< the ICMP policy */
	TG_NATFW_WHY_NO_EXCEPTION,  /**< no exception let it in */
	TG_NATFW_WHY_NO_FIREWALL,   /**< the firewall is off */
	/** hairpinning: from pub_ip/pub_port to the translation's private
	 *  side (sess.priv_ip/priv_port) */
	TG_NATFW_WHY_HAIRPIN,
	TG_NATFW_WHY_PPTP_CALL, /**< a PPTP call's GRE session (sess) */
	TG_NATFW_WHY_MAPPING,	/**< a new session on the host's mapping for
				     that port (pub_ip, pub_port) */
};

/** What a PPTP control message (TCP 1723) would do to its calls
 *  (tg_natfw_why.pptp). Call IDs: the client's (priv_id), the public one
 *  the server knows it by (pub_id), the server's (peer_id). */
enum tg_natfw_pptp_act {
	TG_NATFW_PPTP_ACT_NONE = 0,  /**< no message, or one NAT passes as is */
	TG_NATFW_PPTP_ACT_CALL,	     /**< a call: priv_id as pub_id (new: made
					  now) */
	TG_NATFW_PPTP_ACT_UP,	     /**< the call up, GRE both ways (with
					  peer_id) */
	TG_NATFW_PPTP_ACT_PEER,	     /**< pub_id given back as priv_id */
	TG_NATFW_PPTP_ACT_REFUSED,   /**< the server refuses: the call goes */
	TG_NATFW_PPTP_ACT_CLEAR,     /**< the client clears its call */
	TG_NATFW_PPTP_ACT_CLEAR_OUT, /**< the server clears its side (peer_id):
					  the outbound GRE goes */
	TG_NATFW_PPTP_ACT_UNKNOWN,   /**< no call has the ID: passed as is */
	TG_NATFW_PPTP_ACT_LOCAL,     /**< the appliance's own call priv_id: a
					  dynamic entry for its GRE */
};

struct tg_natfw_pptp_why {
	uint8_t type; /**< the message's type (RFC 2637 2.0), 0: none */
	uint8_t act;  /**< enum tg_natfw_pptp_act */
	bool made;    /**< CALL, UP, LOCAL: a GRE session would be made */
	uint16_t priv_id;
	uint16_t pub_id;
	uint16_t peer_id;
};

struct tg_natfw_why {
	uint8_t what;	    /**< enum tg_natfw_why_what */
	uint32_t exception; /**< index in the firewall's exceptions */
	/** the session (or, for EIF and PORT_MAPPING, priv_ip/priv_port of
	 *  the endpoint it would reach) */
	struct tg_nat_sess sess;
	uint32_t pub_ip;   /**< translation's public side (NEW_MAPPING: the */
	uint16_t pub_port; /**< address, and the port it would get now) */
	/** a PPTP control message the TCP segment carries, besides what
	 *  decided the segment (what) */
	struct tg_natfw_pptp_why pptp;
};

/**
 * Explain: the burst's decisions for one packet, read-only: sessions are
 * looked up off the writer lcore (tg_nat_sess_find()), none is created,
 * no counter or TCP state changes. The packet is rewritten as the burst
 * would (a new mapping with the port it would prefer). PPTP's GRE is
 * judged by the calls its control connections set up, and a control
 * message by what it would do to them (why->pptp: the call it would set
 * up, bring up or clear, with the call IDs it would rewrite; nothing is
 * set up or counted). Any thread.
 */
uint16_t tg_natfw_explain(const struct tg_natfw_table *nt,
	const struct tg_natfw_ctx *c, struct rte_mbuf *m,
	struct tg_natfw_why *why);

/** Expire idle sessions and, after a reload that changed the layout,
 *  delete the sessions that no longer fit (natfw.reload_dropped): both
 *  bounded work, once per poll loop. */
void tg_natfw_tick(
	const struct tg_natfw_table *nt, struct tg_natfw_ctx *c, uint64_t now);

#endif /* TG_NATFW_H */
