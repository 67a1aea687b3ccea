/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec SPD: the config model's ipsec.policies → one rte_acl context
 * whose categories are the two directions (outbound, inbound), giving
 * each packet's first matching policy in either or both.
 */
#ifndef TG_IPSEC_SPD_H
#define TG_IPSEC_SPD_H

#include <stddef.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "tg_acl_key.h"
#include "tg_config.h"
#include "tg_ipsec.h"

/*
 * Rules. Every policy is written in the terms of the packets it judges in
 * its direction: src and src_port are the packet's source as it leaves
 * (outbound) or as it arrives (inbound). So:
 * - direction outbound: one rule in the outbound context, as written;
 * - direction inbound: one rule in the inbound context, as written (src is
 *   the remote end, dst the local one);
 * - direction both (mirrored, docs/configuration.md "Mirrored policies"):
 *   one rule in the outbound context as written, and one in the inbound
 *   context mirrored: src/src_len and dst/dst_len swapped, and the source
 *   and destination port ranges swapped.
 * A rule's priority is the policy's place in tg_cfg_ipsec.order (the
 * first has the highest), so rte_acl returns the first match in
 * evaluation order; its result is the policy index + 1 (0: no match).
 *
 * Later fragments (fragment offset not 0) carry no ports: their key has
 * ports 0 and TG_IPSEC_SPD_KEY_NONFIRST, and a rule with a port condition
 * (a range narrower than 0-65535 on either side) does not match them, as
 * RFC 4301 section 7 has it for OPAQUE ports: only a policy whose ports are
 * ANY can match a non-initial fragment.
 */

/*
 * What rte_acl classifies (struct tg_acl_key, the filter lists' key), in
 * network byte order (rules are given in host
 * order): protocol, source and destination address, and for TCP and UDP
 * (first fragments and unfragmented packets) the ports; 0 for every other
 * protocol. The first field is one byte, the rest are 4-byte groups (the
 * layout rte_acl wants). Fill it with tg_ipsec_spd_key_make().
 */

/** tg_acl_key.flags in the SPD: a fragment other than the first. */
#define TG_IPSEC_SPD_KEY_NONFIRST 0x01

struct tg_ipsec_spd;

/**
 * Build the SPD of @p ip's policies (every one of them, in the evaluation
 * order ip->order; ip->enabled is not looked at) on NUMA @p socket. The
 * SPD keeps no pointer into @p ip. A direction without any rule has no
 * context: its lookups match nothing.
 * Control thread, after rte_eal_init(); each build names its contexts
 * anew, so an SPD being replaced may live on beside the new one.
 * @return 0 with *@p out set, or -errno with a message in @p err (naming
 *   the policy or rte_acl's complaint): -EINVAL (NULL arguments, a policy
 *   out of range: prefix over 32, upside-down or port ranges without TCP
 *   or UDP, unknown direction, an order that is not a permutation),
 *   -ENOMEM, or what rte_acl_build() returns.
 */
int tg_ipsec_spd_build(const struct tg_cfg_ipsec *ip, int socket,
	struct tg_ipsec_spd **out, char *err, size_t len);

/** Free an SPD no reader can see any more. NULL is a no-op. Control
 *  thread. */
void tg_ipsec_spd_free(struct tg_ipsec_spd *spd);

/** Policies the SPD was built from, and rte_acl rules in @p dir's
 *  context. */
uint32_t tg_ipsec_spd_policies(const struct tg_ipsec_spd *spd);
uint32_t tg_ipsec_spd_rules(
	const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir);

/**
 * The key of an IPv4 packet: @p ip its header (options allowed), @p avail
 * the bytes present from the header on (at least the IHL's; what the IP
 * total length and the buffer both hold). A TCP or UDP first fragment
 * whose 4 port bytes are not all present gets ports 0.
 * Any thread.
 */
void tg_ipsec_spd_key_make(const struct rte_ipv4_hdr *ip, uint32_t avail,
	struct tg_acl_key *k);

/**
 * Classify @p n keys (struct tg_acl_key, see above) in direction
 * @p dir: @p policy_idx_out[i] is the index (into tg_cfg_ipsec.policies)
 * of key i's first matching policy in evaluation order, plus 1; 0 when
 * none matches. One rte_acl_classify() call for the whole burst.
 * Any thread (the SPD is read-only once built); no allocation, no locks.
 * @return 0, or -EINVAL (NULL SPD or arrays with n > 0, unknown @p dir).
 */
int tg_ipsec_spd_lookup(const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir,
	const uint8_t *const *keys, uint32_t n, uint32_t *policy_idx_out);

/**
 * Both directions in one classification (one rte_acl trie walk; each
 * rule's category is its direction): @p res_out and @p res_in as
 * tg_ipsec_spd_lookup() gives them for the outbound and the inbound
 * direction; either may be NULL.
 * @return 0, or -EINVAL (NULL SPD or keys with n > 0).
 */
int tg_ipsec_spd_lookup2(const struct tg_ipsec_spd *spd,
	const uint8_t *const *keys, uint32_t n, uint32_t *res_out,
	uint32_t *res_in);

#endif /* TG_IPSEC_SPD_H */
