/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the context and SA structs shared by the library's files.
 */
#ifndef TG_IPSEC_INTERNAL_H
#define TG_IPSEC_INTERNAL_H

#include <rte_crypto.h>
#include <rte_ipsec.h>
#include <rte_log.h>

#include "tg_ipsec.h"

extern int tg_ipsec_logtype;
#define TG_IPSEC_LOG(level, fmt, ...)                                          \
	rte_log(RTE_LOG_##level, tg_ipsec_logtype, "ipsec: " fmt "\n",         \
		##__VA_ARGS__)

/* Where rte_ipsec writes the per-operation IV (GCM: salt, IV, counter;
 * CBC: the IV): right behind the symmetric op, in the op's private area
 * (the op pool reserves TG_IPSEC_OP_PRIV bytes there). */
#define TG_IPSEC_IV_OFFSET                                                     \
	(sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
#define TG_IPSEC_OP_PRIV 16

struct tg_ipsec_ctx {
	uint8_t dev_id;
	uint16_t qp;
	bool created_vdev; /* uninit the vdev on free */
	int socket_id;
	struct rte_mempool *sess_pool;
	struct rte_mempool *op_pool;
	char dev_name[RTE_CRYPTODEV_NAME_MAX_LEN];
};

struct tg_ipsec_sa {
	/* Its address is the crypto session's opaque data
	 * (rte_ipsec_session_prepare), how a completed op finds its SA. */
	struct rte_ipsec_session ss;
	struct tg_ipsec_ctx *ctx;
	void *crypto_sess;
	uint32_t spi;
	enum tg_ipsec_dir dir;
	enum tg_ipsec_mode mode;
	enum tg_ipsec_alg alg;
	struct rte_ipsec_sa *rsa; /* rte_ipsec_sa_size() bytes, rte_malloc */
	/* ESP layout for length checks before the device: IV, ICV bytes
	 * and the ciphertext's block (GCM 4, CBC 16). */
	uint8_t iv_len, icv_len, block;
	struct tg_ipsec_sa_stats st;
	struct tg_ipsec_sa_params prm; /* keys zeroed */
	bool in_use; /* the stage's sweep: the current snapshot uses it */
};

#endif /* TG_IPSEC_INTERNAL_H */
