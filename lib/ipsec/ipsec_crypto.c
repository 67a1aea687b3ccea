/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the crypto context — one lookaside cryptodev, one queue pair,
 * its session and op pools.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "ipsec_internal.h"

RTE_LOG_REGISTER(tg_ipsec_logtype, tollgate.ipsec, INFO);

#define TG_IPSEC_QP_DEPTH 2048

static const char *const alg_names[TG_IPSEC_ALG__COUNT] = {
#define TG_X_NAME(n, s, ck, ak, icv) s,
	TG_IPSEC_ALGS(TG_X_NAME)
#undef TG_X_NAME
};

const char *
tg_ipsec_alg_name(enum tg_ipsec_alg alg)
{
	return (unsigned int)alg < TG_IPSEC_ALG__COUNT ? alg_names[alg] : NULL;
}

uint8_t
tg_ipsec_ctx_dev_id(const struct tg_ipsec_ctx *ctx)
{
	return ctx->dev_id;
}

bool
tg_ipsec_ctx_cpu_crypto(const struct tg_ipsec_ctx *ctx)
{
	return ctx->cpu_crypto;
}

/* The device's id, creating the vdev when there is none of that name. */
static int
ctx_attach(struct tg_ipsec_ctx *ctx, const char *name, const char *args)
{
	int id = rte_cryptodev_get_dev_id(name);
	int rc;

	if (id < 0) {
		rc = rte_vdev_init(name, args);
		if (rc != 0) {
			/* rte_vdev_init() says -1 for an unknown driver. */
			TG_IPSEC_LOG(ERR, "cannot create crypto vdev %s (%d)",
				name, rc);
			return -ENODEV;
		}
		ctx->created_vdev = true;
		id = rte_cryptodev_get_dev_id(name);
		if (id < 0)
			return -ENODEV;
	}
	ctx->dev_id = (uint8_t)id;
	return 0;
}

static int
ctx_setup(struct tg_ipsec_ctx *ctx, const struct tg_ipsec_ctx_params *p)
{
	struct rte_cryptodev_info info;
	struct rte_cryptodev_config conf = {0};
	struct rte_cryptodev_qp_conf qconf = {0};
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int sess_sz;
	int rc;

	rte_cryptodev_info_get(ctx->dev_id, &info);
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYMMETRIC_CRYPTO))
		return -ENOTSUP;
	if (info.max_nb_queue_pairs < 1)
		return -ENOTSUP;
	/* CPU crypto: the PMD's code on the caller's core, no queue and no
	 * operation objects; what a software device does anyway, minus the
	 * round trip through its queue. */
	ctx->cpu_crypto =
		p->mode != TG_IPSEC_CRYPTO_LOOKASIDE &&
		(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO);
	if (p->mode == TG_IPSEC_CRYPTO_CPU && !ctx->cpu_crypto)
		return -ENOTSUP;
	ctx->socket_id = p->socket_id == SOCKET_ID_ANY
				 ? rte_cryptodev_socket_id(ctx->dev_id)
				 : p->socket_id;
	if (ctx->socket_id < 0)
		ctx->socket_id = (int)rte_socket_id();

	/* Pools are named by device id: one context per device. */
	sess_sz = rte_cryptodev_sym_get_private_session_size(ctx->dev_id);
	snprintf(name, sizeof(name), "tg_ipsec_sess_%u", ctx->dev_id);
	ctx->sess_pool = rte_cryptodev_sym_session_pool_create(
		name, p->max_sa, sess_sz, 0, 0, ctx->socket_id);
	if (ctx->sess_pool == NULL)
		return -rte_errno;
	ctx->sess_lines = (uint8_t)RTE_MIN(
		RTE_ALIGN_CEIL(ctx->sess_pool->elt_size, RTE_CACHE_LINE_SIZE) /
			RTE_CACHE_LINE_SIZE,
		(uint32_t)TG_IPSEC_PF_MAX_LINES);
	snprintf(name, sizeof(name), "tg_ipsec_ops_%u", ctx->dev_id);
	ctx->op_pool =
		rte_crypto_op_pool_create(name, RTE_CRYPTO_OP_TYPE_SYMMETRIC,
			p->nb_ops, 0, TG_IPSEC_OP_PRIV, ctx->socket_id);
	if (ctx->op_pool == NULL)
		return -rte_errno;

	conf.socket_id = ctx->socket_id;
	conf.nb_queue_pairs = 1;
	conf.ff_disable =
		RTE_CRYPTODEV_FF_ASYMMETRIC_CRYPTO | RTE_CRYPTODEV_FF_SECURITY;
	rc = rte_cryptodev_configure(ctx->dev_id, &conf);
	if (rc != 0)
		return rc;
	qconf.nb_descriptors =
		p->qp_depth != 0 ? p->qp_depth : TG_IPSEC_QP_DEPTH;
	qconf.mp_session = ctx->sess_pool;
	ctx->qp = 0;
	rc = rte_cryptodev_queue_pair_setup(
		ctx->dev_id, ctx->qp, &qconf, ctx->socket_id);
	if (rc != 0)
		return rc;
	return rte_cryptodev_start(ctx->dev_id);
}

struct tg_ipsec_ctx *
tg_ipsec_ctx_create(const struct tg_ipsec_ctx_params *p)
{
	struct tg_ipsec_ctx *ctx;
	const char *name;
	int rc;

	if (p == NULL || p->max_sa == 0 || p->nb_ops == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	name = p->device != NULL ? p->device : TG_IPSEC_DEFAULT_DEVICE;
	if (strlen(name) >= RTE_CRYPTODEV_NAME_MAX_LEN) {
		rte_errno = EINVAL;
		return NULL;
	}
	ctx = rte_zmalloc("tg_ipsec_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE);
	if (ctx == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	snprintf(ctx->dev_name, sizeof(ctx->dev_name), "%s", name);
	rc = ctx_attach(ctx, name, p->devargs);
	if (rc == 0)
		rc = ctx_setup(ctx, p);
	if (rc != 0) {
		TG_IPSEC_LOG(
			ERR, "crypto device %s: %s", name, rte_strerror(-rc));
		tg_ipsec_ctx_free(ctx);
		rte_errno = -rc;
		return NULL;
	}
	return ctx;
}

void
tg_ipsec_ctx_free(struct tg_ipsec_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->created_vdev) {
		rte_cryptodev_stop(ctx->dev_id);
		rte_cryptodev_close(ctx->dev_id);
		rte_vdev_uninit(ctx->dev_name);
	} else if (rte_cryptodev_get_dev_id(ctx->dev_name) >= 0) {
		/* A device given on the command line stays, stopped. */
		rte_cryptodev_stop(ctx->dev_id);
	}
	rte_mempool_free(ctx->op_pool);
	rte_mempool_free(ctx->sess_pool);
	rte_free(ctx);
}
