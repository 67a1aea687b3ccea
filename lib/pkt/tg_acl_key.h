/* SPDX-License-Identifier: BSD-3-Clause
 * The 5-tuple key that rte_acl classifies for the filter lists
 * (lib/filter) and the IPsec SPD (lib/ipsec), and its field layout: one
 * definition, so both classify the same bytes the same way. What the
 * flags byte holds is each user's (the filter: TCP flags and a later-
 * fragment bit; the SPD: the later-fragment bit).
 */
#ifndef TG_ACL_KEY_H
#define TG_ACL_KEY_H

#include <stdint.h>
#include <rte_acl.h>
#include <rte_byteorder.h>

/** Network order, as the packet has it; 20 bytes, 5 rte_acl groups. */
struct tg_acl_key {
	uint8_t proto;
	uint8_t pad0[3];
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t sport;
	rte_be16_t dport;
	uint8_t flags;
	uint8_t pad1[3];
};

/** The rte_acl fields over struct tg_acl_key. A context may use the first
 *  TG_ACL_FLD_F__COUNT (protocol and addresses: 9 input bytes), the first
 *  TG_ACL_FLD_A__COUNT (with the ports: 13) or all (with the flags
 *  group: 17). */
enum tg_acl_fld {
	TG_ACL_FLD_PROTO = 0,
	TG_ACL_FLD_SRC,
	TG_ACL_FLD_DST,
	TG_ACL_FLD_F__COUNT,
	TG_ACL_FLD_SPORT = TG_ACL_FLD_F__COUNT,
	TG_ACL_FLD_DPORT,
	TG_ACL_FLD_A__COUNT,
	TG_ACL_FLD_FLAGS = TG_ACL_FLD_A__COUNT,
	TG_ACL_FLD_PAD1, /* the padding rte_acl wants to make 4-byte groups */
	TG_ACL_FLD_PAD2,
	TG_ACL_FLD__COUNT
};

extern const struct rte_acl_field_def tg_acl_key_defs[TG_ACL_FLD__COUNT];

/** The host-order mask of a /@p len prefix (0..32). */
static inline uint32_t
tg_acl_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

#endif /* TG_ACL_KEY_H */
