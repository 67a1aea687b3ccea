/* SPDX-License-Identifier: BSD-3-Clause
 * The field layout of struct tg_acl_key (tg_acl_key.h).
 */
#include <stddef.h>

#include "tg_acl_key.h"

#define KEY_OFF(f) ((uint32_t)offsetof(struct tg_acl_key, f))

const struct rte_acl_field_def tg_acl_key_defs[TG_ACL_FLD__COUNT] = {
	[TG_ACL_FLD_PROTO] = {.type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = 1,
		.field_index = TG_ACL_FLD_PROTO,
		.input_index = 0,
		.offset = KEY_OFF(proto)},
	[TG_ACL_FLD_SRC] = {.type = RTE_ACL_FIELD_TYPE_MASK,
		.size = 4,
		.field_index = TG_ACL_FLD_SRC,
		.input_index = 1,
		.offset = KEY_OFF(src)},
	[TG_ACL_FLD_DST] = {.type = RTE_ACL_FIELD_TYPE_MASK,
		.size = 4,
		.field_index = TG_ACL_FLD_DST,
		.input_index = 2,
		.offset = KEY_OFF(dst)},
	[TG_ACL_FLD_SPORT] = {.type = RTE_ACL_FIELD_TYPE_RANGE,
		.size = 2,
		.field_index = TG_ACL_FLD_SPORT,
		.input_index = 3,
		.offset = KEY_OFF(sport)},
	[TG_ACL_FLD_DPORT] = {.type = RTE_ACL_FIELD_TYPE_RANGE,
		.size = 2,
		.field_index = TG_ACL_FLD_DPORT,
		.input_index = 3,
		.offset = KEY_OFF(dport)},
	[TG_ACL_FLD_FLAGS] = {.type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = 1,
		.field_index = TG_ACL_FLD_FLAGS,
		.input_index = 4,
		.offset = KEY_OFF(flags)},
	[TG_ACL_FLD_PAD1] = {.type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = 1,
		.field_index = TG_ACL_FLD_PAD1,
		.input_index = 4,
		.offset = KEY_OFF(pad1)},
	[TG_ACL_FLD_PAD2] = {.type = RTE_ACL_FIELD_TYPE_BITMASK,
		.size = 2,
		.field_index = TG_ACL_FLD_PAD2,
		.input_index = 4,
		.offset = KEY_OFF(pad1) + 1},
};
