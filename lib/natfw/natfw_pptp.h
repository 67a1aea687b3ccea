/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: PPTP (RFC 2637) — what the burst path (natfw_dp.c) calls for the
 * control messages on TCP 1723 and for the enhanced GRE of their calls.
 * The functions work on a packet natfw_dp.c has already judged (its TCP
 * session found, its header translated); they are called by the lcore
 * that owns the session table only, but for tg_natfw_pptp_explain(), their
 * read-only mirror. Their lookups take the snapshot @p nt
 * (natfw_internal.h): a session a reload left without room is none.
 */
#ifndef TG_NATFW_PPTP_H
#define TG_NATFW_PPTP_H

#include <stdint.h>
#include <rte_ip.h>

#include "tg_natfw.h"

/** The PPTP control connection's TCP port (RFC 2637 section 1.3). */
#define TG_NATFW_PPTP_PORT 1723

/*
 * GRE sessions (docs/nat.md, "PPTP"). A GRE packet carries one call ID,
 * the receiver's: outbound (client → server) the server's, inbound the
 * one the server knows the client by (the public call ID). A session
 * record has a private, a public and a remote port, and its two keys
 * share the remote port, so one record cannot be found from both. A call
 * thus has two sessions, each keyed by what its direction's packets
 * carry:
 *  - in: on the call mapping (GRE, client, client's call ID) → public call
 *    ID, remote (server, 0). Inbound GRE's out2in key (NAT address, its
 *    call ID, server, 0) finds it; it gives the client and its call ID.
 *  - out: on the client's GRE anchor mapping (GRE, client, 0), one per
 *    client, remote (server, server's call ID). Outbound GRE's in2out key
 *    (client, 0, server, its call ID) finds it; it gives the NAT address.
 * tg_nat_sess.state tells them apart (a key of one can equal a key of
 * the other only when call IDs are 0).
 */
enum tg_natfw_gre_state {
	TG_NATFW_GRE_PENDING = 0, /**< in: call requested, no reply yet */
	TG_NATFW_GRE_IN,	  /**< in: the call is up */
	TG_NATFW_GRE_OUT,	  /**< out */
};

/** tg_natfw_pptp_gre_in(): no call; the firewall judges (no verdict
 *  has this value). */
#define TG_NATFW_PPTP_NONE 1
/** tg_natfw_pptp_gre_in(): translated back; switch to transit. */
#define TG_NATFW_PPTP_XLAT 2

/**
 * The call ID of a PPTP enhanced GRE header (RFC 2637 4.1: version 1,
 * key present, no routing, protocol 0x880B) of @p len bytes at @p gre,
 * in host order into @p call_id, and its offset into @p off (with the
 * checksum bit set, the checksum and reserved word come first).
 * @return 0; -EINVAL (too short), -EPROTO (not enhanced GRE).
 * Any thread.
 */
int tg_natfw_gre_call(
	const uint8_t *gre, uint32_t len, uint16_t *call_id, uint32_t *off);

/**
 * Transit GRE from a private host to a public interface, after the
 * burst's in2out lookup of @p k (tg_natfw_gre_call()'s call ID as the
 * remote port) gave @p idx: its source becomes the call's NAT address.
 * @return TG_V_NEXT, or the drop natfw.gre_no_call.
 */
uint16_t tg_natfw_pptp_gre_out(const struct tg_natfw_table *nt,
	struct tg_nat_table *tab, struct rte_ipv4_hdr *ip, uint32_t l4_len,
	const struct tg_nat_key *k, uint32_t idx, uint32_t sec);

/**
 * GRE to one of the appliance's addresses (target natfw(in)). A
 * translated call's GRE gets the client's address and call ID
 * (→ TG_NATFW_PPTP_XLAT); the appliance's own call's passes
 * (→ TG_V_NEXT); anything else → TG_NATFW_PPTP_NONE.
 */
uint16_t tg_natfw_pptp_gre_in(const struct tg_natfw_table *nt,
	struct tg_nat_table *tab, struct rte_ipv4_hdr *ip, uint32_t l4_len,
	uint32_t sec);

/**
 * A client's segment to TCP 1723, translated by its TCP session @p tcp
 * (transit natfw(nat)): Outgoing-Call-Request and Incoming-Call-Reply get
 * a public call ID for the client's, Call-Clear-Request the one it got
 * (and ends the call's inbound GRE). The TCP checksum is patched.
 * @return TG_V_NEXT, or a drop (the table's reasons, or
 *   natfw.pptp_untranslatable).
 */
uint16_t tg_natfw_pptp_ctl_out(const struct tg_natfw_table *nt,
	struct tg_nat_table *tab, struct tg_natfw_pptp_stats *ps,
	struct rte_ipv4_hdr *ip, uint32_t l4_len, uint32_t tcp, uint32_t sec);

/**
 * A server's segment from TCP 1723, translated back by its TCP session
 * @p tcp (target natfw(in)): the Peer's Call ID of Outgoing-Call-Reply,
 * Incoming-Call-Connected, WAN-Error-Notify and Set-Link-Info becomes
 * the client's; an Outgoing-Call-Reply that connects sets up the call's
 * GRE; Call-Disconnect-Notify ends its outbound GRE.
 * @return TG_V_NEXT, or a drop (the table's reasons, or
 *   natfw.pptp_untranslatable).
 */
uint16_t tg_natfw_pptp_ctl_in(const struct tg_natfw_table *nt,
	struct tg_nat_table *tab, struct tg_natfw_pptp_stats *ps,
	struct rte_ipv4_hdr *ip, uint32_t l4_len, uint32_t tcp, uint32_t sec);

/**
 * The appliance's own control connection, by its dynamic entry @p tcp:
 * what it sends (source natfw(out), @p out true) and what it receives
 * (target natfw(in)). Incoming-Call-Reply out and Outgoing-Call-Reply in
 * open a dynamic entry for the call's inbound GRE (untranslated);
 * Call-Clear-Request out closes it.
 * @return TG_V_NEXT, or a drop (natfw.dynamic_full, natfw.port_in_use,
 *   the table's reasons).
 */
uint16_t tg_natfw_pptp_local(const struct tg_natfw_table *nt,
	struct tg_nat_table *tab, struct tg_natfw_pptp_stats *ps,
	struct rte_ipv4_hdr *ip, uint32_t l4_len, uint32_t tcp, bool out,
	uint32_t sec);

/** Which of the functions above a control segment meets. */
enum tg_natfw_pptp_side {
	TG_NATFW_PPTP_CLIENT,	 /**< tg_natfw_pptp_ctl_out() */
	TG_NATFW_PPTP_SERVER,	 /**< tg_natfw_pptp_ctl_in() */
	TG_NATFW_PPTP_LOCAL_OUT, /**< tg_natfw_pptp_local(), out */
	TG_NATFW_PPTP_LOCAL_IN,	 /**< tg_natfw_pptp_local(), in */
};

/**
 * Explain: what the function of @p side would do with the control
 * segment at @p ip (its TCP header translated, @p l4_len bytes of TCP)
 * of control session @p c (a copy; for one the packet would make, its
 * priv_ip, rem_ip and addr), read-only: sessions and mappings are found
 * off the writer lcore (nat_table.h), none is made or deleted, nothing is
 * counted. The message's call IDs are rewritten as the burst would
 * (where it would make a call, with the public ID the allocator would
 * choose now). Fills @p w. @return TG_V_NEXT or the drop. Any thread.
 */
uint16_t tg_natfw_pptp_explain(const struct tg_natfw_table *nt,
	const struct tg_nat_table *tab, struct rte_ipv4_hdr *ip,
	uint32_t l4_len, const struct tg_nat_sess *c,
	enum tg_natfw_pptp_side side, struct tg_natfw_pptp_why *w);

#endif /* TG_NATFW_PPTP_H */
