/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec SPD: the config model's ipsec.policies → one rte_acl context
 * whose categories are the two directions (outbound, inbound), giving
 * each packet's first matching policy in either or both.
 */
#ifndef TG_IPSEC_SPD_H
#define TG_IPSEC_SPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
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

/** Policies the SPD was built from, and rules (one per policy and
 *  direction it applies in) in direction @p dir. */
uint32_t tg_ipsec_spd_policies(const struct tg_ipsec_spd *spd);
uint32_t tg_ipsec_spd_rules(
	const struct tg_ipsec_spd *spd, enum tg_ipsec_dir dir);

/** At most this many rules in both directions together: no rte_acl
 *  context; lookups walk the rules in evaluation order (the same
 *  answers; rte_acl_classify() costs more per packet than a walk of a
 *  few rules, however few its rules are). */
#define TG_IPSEC_SPD_WALK_MAX 8

/** Does @p spd answer by walking its rules (TG_IPSEC_SPD_WALK_MAX)? */
bool tg_ipsec_spd_walks(const struct tg_ipsec_spd *spd);

/** With more rules, an index of the rules' destination prefixes answers
 *  in front of rte_acl for the rules no earlier rule of their direction
 *  overlaps (ipsec_spd.c, struct spd_fast; the same answers): how many
 *  of direction @p dir's rules it answers for (0: rte_acl alone, as with
 *  more than 4 destination prefix lengths in use). */
uint32_t tg_ipsec_spd_indexed(
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
 * none matches. The walk, the destination index, and one
 * rte_acl_classify() call per 64 keys for what they leave (above).
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

/*
 * The inner policy check without rte_acl. A packet decrypted with SA s
 * must meet, as its first match in the inbound evaluation order, a
 * protect policy of s. When every inbound rule placed before one of s's
 * protect rules is either another of s's or cannot match a packet that
 * rule matches (disjoint in some field), that question has the same
 * answer as "does the packet match one of s's protect rules, the first
 * of them in order": a few compares on fields the header holds, instead
 * of building a key and walking the trie (about 60 cycles per packet
 * on the bench's host, docs/benchmarks.md). Proof: if the first match r
 * overall is one of s's, no earlier rule of s matched, so the walk of
 * s's rules finds r; if r is not s's, a rule of s matching the packet
 * would come after r and overlap it, which the build excluded.
 * SAs that do not qualify (more than TG_IPSEC_SEL_MAX such rules, an
 * overlapping earlier rule, or the build's budget spent) are checked
 * through the SPD as before.
 */
#define TG_IPSEC_SEL_MAX 4

/** One inbound rule in the terms of the packets it judges (mirrored for
 *  direction both), host order, host bits zero. 24 bytes: the first
 *  one shares a cache line with the SA's other hot fields. */
struct tg_ipsec_sel {
	uint32_t src, dst;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint32_t policy; /**< index into tg_cfg_ipsec.policies + 1 */
	uint8_t src_len, dst_len;
	uint8_t proto;
	uint8_t flags; /**< TG_IPSEC_SEL_F_* */
};

#define TG_IPSEC_SEL_F_ANY_PROTO 0x01 /**< no protocol condition */
/** no port condition: matches later fragments too */
#define TG_IPSEC_SEL_F_PORTS_ANY 0x02

/** One inbound SA's protect rules in evaluation order. */
struct tg_ipsec_sels {
	bool direct; /**< false: ask the SPD (tg_ipsec_spd_lookup) */
	uint8_t n;
	struct tg_ipsec_sel s[TG_IPSEC_SEL_MAX];
};

/**
 * Fill *@p out[i] for every SA i of @p ip whose out[i] is not NULL
 * (inbound SAs; out has ip->n_sas entries): direct and its rules when
 * the check above is exact for it, else direct false. Each of an SA's
 * rules is compared with the rules whose destination prefix overlaps its
 * own (found through the rules sorted by destination: with one subnet
 * per tunnel, a handful each), and the SA is direct when none of them
 * is an earlier rule of another owner that overlaps it in every field.
 * @p budget: how many such rule visits the build may make; the SAs left
 * when it is spent ask the SPD. Control thread.
 * @return the number of SAs made direct, or -EINVAL (NULL arguments,
 *   policies as tg_ipsec_spd_build refuses them), -ENOMEM.
 */
int tg_ipsec_spd_sels(const struct tg_cfg_ipsec *ip,
	struct tg_ipsec_sels *const *out, uint64_t budget);

/** Does selector @p e match a packet of these fields (addresses and
 *  ports in host order; @p later: a later fragment, whose ports are
 *  unknown and fail every port condition)? As rte_acl judges the rule. */
static inline bool
tg_ipsec_sel_hit(const struct tg_ipsec_sel *e, uint32_t src, uint32_t dst,
	uint8_t proto, bool later, uint16_t sp, uint16_t dp)
{
	if ((src & tg_acl_prefix_mask(e->src_len)) != e->src ||
		(dst & tg_acl_prefix_mask(e->dst_len)) != e->dst ||
		(!(e->flags & TG_IPSEC_SEL_F_ANY_PROTO) && e->proto != proto))
		return false;
	return (e->flags & TG_IPSEC_SEL_F_PORTS_ANY) ||
	       (!later && sp >= e->sport_lo && sp <= e->sport_hi &&
		       dp >= e->dport_lo && dp <= e->dport_hi);
}

/**
 * The first of @p s's rules that the IPv4 packet @p ip matches (@p avail
 * as for tg_ipsec_spd_key_make, whose key fields it reads the same way):
 * its policy index + 1, or 0. Only meaningful when s->direct.
 */
static inline uint32_t
tg_ipsec_sels_match(const struct tg_ipsec_sels *s,
	const struct rte_ipv4_hdr *ip, uint32_t avail)
{
	uint32_t hl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	uint32_t src = rte_be_to_cpu_32(ip->src_addr);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	bool later = (ip->fragment_offset &
			     rte_cpu_to_be_16(RTE_IPV4_HDR_OFFSET_MASK)) != 0;
	uint8_t proto = ip->next_proto_id;
	uint16_t sp = 0, dp = 0;
	uint32_t k;

	if (!later && (proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
		avail >= hl + 4) {
		const uint8_t *l4 = (const uint8_t *)ip + hl;

		sp = (uint16_t)(l4[0] << 8 | l4[1]);
		dp = (uint16_t)(l4[2] << 8 | l4[3]);
	}
	for (k = 0; k < s->n; k++)
		if (tg_ipsec_sel_hit(&s->s[k], src, dst, proto, later, sp, dp))
			return s->s[k].policy;
	return 0;
}

#endif /* TG_IPSEC_SPD_H */
