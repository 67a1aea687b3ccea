/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: SA create/destroy — the cryptodev session and, for ESP, the
 * rte_ipsec SA with its lookaside-none session (AH: ipsec_ah.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_malloc.h>

#include "ipsec_internal.h"

struct alg_desc {
	uint8_t cipher_key, auth_key, icv;
};

static const struct alg_desc algs[TG_IPSEC_ALG__COUNT] = {
#define TG_X_DESC(n, s, ck, ak, icv) {ck, ak, icv},
	TG_IPSEC_ALGS(TG_X_DESC)
#undef TG_X_DESC
};

static bool
alg_is_gcm(enum tg_ipsec_alg alg)
{
	return alg == TG_IPSEC_ALG_AES128_GCM || alg == TG_IPSEC_ALG_AES256_GCM;
}

enum tg_ipsec_proto
tg_ipsec_alg_proto(enum tg_ipsec_alg alg)
{
	/* Only AH's algorithms lack a cipher (tg_ipsec.h, TG_IPSEC_ALGS). */
	if ((unsigned int)alg < TG_IPSEC_ALG__COUNT &&
		algs[alg].cipher_key == 0)
		return TG_IPSEC_PROTO_AH;
	return TG_IPSEC_PROTO_ESP;
}

int
tg_ipsec_sa_params_check(const struct tg_ipsec_sa_params *p)
{
	if (p == NULL || p->spi == 0 ||
		(unsigned int)p->alg >= TG_IPSEC_ALG__COUNT)
		return -EINVAL;
	if (p->proto != TG_IPSEC_PROTO_ESP && p->proto != TG_IPSEC_PROTO_AH)
		return -EINVAL;
	if (tg_ipsec_alg_proto(p->alg) != p->proto)
		return -EINVAL;
	if (p->proto == TG_IPSEC_PROTO_AH &&
		p->replay_window > TG_IPSEC_AH_WINDOW_MAX)
		return -EINVAL;
	if (p->dir != TG_IPSEC_DIR_INBOUND && p->dir != TG_IPSEC_DIR_OUTBOUND)
		return -EINVAL;
	if (p->mode != TG_IPSEC_MODE_TUNNEL &&
		p->mode != TG_IPSEC_MODE_TRANSPORT)
		return -EINVAL;
	if (p->mode == TG_IPSEC_MODE_TUNNEL &&
		(p->tun_local == 0 || p->tun_remote == 0))
		return -EINVAL;
	if (p->cipher_key_len != algs[p->alg].cipher_key ||
		p->auth_key_len != algs[p->alg].auth_key)
		return -EINVAL;
	return 0;
}

/* The crypto transforms: xf[0] first in the chain. GCM is one AEAD
 * transform. CBC+HMAC is encrypt-then-MAC (RFC 4303 3.3.2): outbound
 * cipher then auth generate, inbound auth verify then cipher decrypt.
 * AH is one auth transform: the device compares the ICV inbound, so a
 * mismatch comes back as the op's RTE_CRYPTO_OP_STATUS_AUTH_FAILED as
 * it does for ESP. */
static void
sa_xforms(const struct tg_ipsec_sa_params *p, struct rte_crypto_sym_xform xf[2])
{
	bool out = p->dir == TG_IPSEC_DIR_OUTBOUND;
	struct rte_crypto_sym_xform *ciph, *auth;

	memset(xf, 0, 2 * sizeof(xf[0]));
	if (p->proto == TG_IPSEC_PROTO_AH) {
		auth = &xf[0];
		auth->type = RTE_CRYPTO_SYM_XFORM_AUTH;
		auth->auth.op = out ? RTE_CRYPTO_AUTH_OP_GENERATE
				    : RTE_CRYPTO_AUTH_OP_VERIFY;
		auth->auth.algo = p->alg == TG_IPSEC_ALG_HMAC_SHA1
					  ? RTE_CRYPTO_AUTH_SHA1_HMAC
					  : RTE_CRYPTO_AUTH_SHA256_HMAC;
		auth->auth.key.data = p->auth_key;
		auth->auth.key.length = p->auth_key_len;
		auth->auth.digest_length = algs[p->alg].icv;
		return;
	}
	if (alg_is_gcm(p->alg)) {
		xf[0].type = RTE_CRYPTO_SYM_XFORM_AEAD;
		xf[0].aead.op = out ? RTE_CRYPTO_AEAD_OP_ENCRYPT
				    : RTE_CRYPTO_AEAD_OP_DECRYPT;
		xf[0].aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
		xf[0].aead.key.data = p->cipher_key;
		xf[0].aead.key.length = p->cipher_key_len;
		xf[0].aead.iv.offset = TG_IPSEC_IV_OFFSET;
		xf[0].aead.iv.length = 12; /* salt + 8-byte IV (RFC 4106) */
		xf[0].aead.digest_length = algs[p->alg].icv;
		/* SPI + 32- or 64-bit sequence number (RFC 4106 5). */
		xf[0].aead.aad_length = p->esn ? 12 : 8;
		return;
	}
	ciph = out ? &xf[0] : &xf[1];
	auth = out ? &xf[1] : &xf[0];
	xf[0].next = &xf[1];
	ciph->type = RTE_CRYPTO_SYM_XFORM_CIPHER;
	ciph->cipher.op = out ? RTE_CRYPTO_CIPHER_OP_ENCRYPT
			      : RTE_CRYPTO_CIPHER_OP_DECRYPT;
	ciph->cipher.algo = RTE_CRYPTO_CIPHER_AES_CBC;
	ciph->cipher.key.data = p->cipher_key;
	ciph->cipher.key.length = p->cipher_key_len;
	ciph->cipher.iv.offset = TG_IPSEC_IV_OFFSET;
	ciph->cipher.iv.length = 16;
	auth->type = RTE_CRYPTO_SYM_XFORM_AUTH;
	auth->auth.op =
		out ? RTE_CRYPTO_AUTH_OP_GENERATE : RTE_CRYPTO_AUTH_OP_VERIFY;
	auth->auth.algo = p->alg == TG_IPSEC_ALG_AES128_CBC_SHA1
				  ? RTE_CRYPTO_AUTH_SHA1_HMAC
				  : RTE_CRYPTO_AUTH_SHA256_HMAC;
	auth->auth.key.data = p->auth_key;
	auth->auth.key.length = p->auth_key_len;
	auth->auth.digest_length = algs[p->alg].icv;
}

/* -ENOTSUP when the device lacks a transform or its key/digest size. */
static int
sa_xforms_supported(uint8_t dev_id, const struct rte_crypto_sym_xform *xf)
{
	const struct rte_cryptodev_symmetric_capability *cap;
	struct rte_cryptodev_sym_capability_idx idx;

	for (; xf != NULL; xf = xf->next) {
		idx.type = xf->type;
		if (xf->type == RTE_CRYPTO_SYM_XFORM_AEAD)
			idx.algo.aead = xf->aead.algo;
		else if (xf->type == RTE_CRYPTO_SYM_XFORM_CIPHER)
			idx.algo.cipher = xf->cipher.algo;
		else
			idx.algo.auth = xf->auth.algo;
		cap = rte_cryptodev_sym_capability_get(dev_id, &idx);
		if (cap == NULL)
			return -ENOTSUP;
		if (xf->type == RTE_CRYPTO_SYM_XFORM_AEAD &&
			rte_cryptodev_sym_capability_check_aead(cap,
				xf->aead.key.length, xf->aead.digest_length,
				xf->aead.aad_length, xf->aead.iv.length) != 0)
			return -ENOTSUP;
		if (xf->type == RTE_CRYPTO_SYM_XFORM_CIPHER &&
			rte_cryptodev_sym_capability_check_cipher(cap,
				xf->cipher.key.length,
				xf->cipher.iv.length) != 0)
			return -ENOTSUP;
		if (xf->type == RTE_CRYPTO_SYM_XFORM_AUTH &&
			rte_cryptodev_sym_capability_check_auth(cap,
				xf->auth.key.length, xf->auth.digest_length,
				0) != 0)
			return -ENOTSUP;
	}
	return 0;
}

static int
sa_ipsec_init(struct tg_ipsec_sa *sa, const struct tg_ipsec_sa_params *p,
	struct rte_crypto_sym_xform *xf)
{
	struct rte_ipsec_sa_prm prm;
	/* rte_ipsec copies the template into the SA at init. */
	struct rte_ipv4_hdr outer = {
		.version_ihl = RTE_IPV4_VHL_DEF,
		.time_to_live = 64,
		.next_proto_id = IPPROTO_ESP,
		.src_addr = rte_cpu_to_be_32(p->tun_local),
		.dst_addr = rte_cpu_to_be_32(p->tun_remote),
	};
	int sz, rc;

	memset(&prm, 0, sizeof(prm));
	prm.userdata = (uintptr_t)sa;
	prm.ipsec_xform.spi = p->spi;
	memcpy(&prm.ipsec_xform.salt, p->salt, sizeof(p->salt));
	prm.ipsec_xform.direction = p->dir == TG_IPSEC_DIR_OUTBOUND
					    ? RTE_SECURITY_IPSEC_SA_DIR_EGRESS
					    : RTE_SECURITY_IPSEC_SA_DIR_INGRESS;
	prm.ipsec_xform.proto = RTE_SECURITY_IPSEC_SA_PROTO_ESP;
	prm.ipsec_xform.options.esn = p->esn;
	prm.ipsec_xform.replay_win_sz = p->replay_window;
	prm.crypto_xform = xf;
	if (p->mode == TG_IPSEC_MODE_TUNNEL) {
		prm.ipsec_xform.mode = RTE_SECURITY_IPSEC_SA_MODE_TUNNEL;
		prm.ipsec_xform.tunnel.type = RTE_SECURITY_IPSEC_TUNNEL_IPV4;
		prm.ipsec_xform.tunnel.ipv4.src_ip.s_addr = outer.src_addr;
		prm.ipsec_xform.tunnel.ipv4.dst_ip.s_addr = outer.dst_addr;
		prm.ipsec_xform.tunnel.ipv4.ttl = outer.time_to_live;
		prm.tun.hdr_len = sizeof(outer);
		prm.tun.hdr_l3_off = 0;
		prm.tun.next_proto = IPPROTO_IPIP;
		prm.tun.hdr = &outer;
	} else {
		prm.ipsec_xform.mode = RTE_SECURITY_IPSEC_SA_MODE_TRANSPORT;
		prm.trs.proto = IPPROTO_IPIP; /* inner IP version: IPv4 */
	}

	sz = rte_ipsec_sa_size(&prm);
	if (sz < 0)
		return sz;
	sa->rsa = rte_zmalloc_socket("tg_ipsec_sa", (size_t)sz,
		RTE_CACHE_LINE_SIZE, sa->ctx->socket_id);
	if (sa->rsa == NULL)
		return -ENOMEM;
	rc = rte_ipsec_sa_init(sa->rsa, &prm, (uint32_t)sz);
	if (rc < 0)
		return rc;
	sa->ss.sa = sa->rsa;
	sa->rsa_lines = (uint8_t)RTE_MIN(
		RTE_ALIGN_CEIL((uint32_t)sz, RTE_CACHE_LINE_SIZE) /
			RTE_CACHE_LINE_SIZE,
		(uint32_t)TG_IPSEC_PF_MAX_LINES);
	sa->tmpl_sum = rte_raw_cksum(&outer, sizeof(outer));
	sa->sync = sa->ctx->cpu_crypto;
	sa->ss.type = sa->sync ? RTE_SECURITY_ACTION_TYPE_CPU_CRYPTO
			       : RTE_SECURITY_ACTION_TYPE_NONE;
	sa->ss.crypto.ses = sa->crypto_sess;
	return rte_ipsec_session_prepare(&sa->ss);
}

struct tg_ipsec_sa *
tg_ipsec_sa_create(struct tg_ipsec_ctx *ctx, const struct tg_ipsec_sa_params *p)
{
	struct rte_crypto_sym_xform xf[2];
	struct tg_ipsec_sa *sa;
	int rc;

	if (ctx == NULL || tg_ipsec_sa_params_check(p) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (p->proto == TG_IPSEC_PROTO_AH && p->esn) {
		/* RFC 4302 2.5.1 ESN (the high half in the ICV input, an
		 * estimated high half inbound) is not implemented. */
		TG_IPSEC_LOG(
			ERR, "SA 0x%08x: AH with ESN not supported", p->spi);
		rte_errno = ENOTSUP;
		return NULL;
	}
	sa_xforms(p, xf);
	rc = sa_xforms_supported(ctx->dev_id, xf);
	if (rc != 0) {
		TG_IPSEC_LOG(ERR, "SA 0x%08x: %s not supported by %s", p->spi,
			tg_ipsec_alg_name(p->alg), ctx->dev_name);
		rte_errno = -rc;
		return NULL;
	}
	/* what a packet touches: lines 0 and 1 (ipsec_internal.h) */
	RTE_BUILD_BUG_ON(
		offsetof(struct tg_ipsec_sa, st.seq) + sizeof(uint64_t) >
		2 * RTE_CACHE_LINE_SIZE);
	sa = rte_zmalloc_socket("tg_ipsec_sa", sizeof(*sa), RTE_CACHE_LINE_SIZE,
		ctx->socket_id);
	if (sa == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	sa->ctx = ctx;
	sa->proto = p->proto;
	sa->spi = p->spi;
	sa->dir = p->dir;
	sa->mode = p->mode;
	sa->alg = p->alg;
	sa->prm = *p;
	sa->limited =
		(p->lifetime.soft_packets | p->lifetime.hard_packets |
			p->lifetime.soft_bytes | p->lifetime.hard_bytes) != 0;
	memset(sa->prm.cipher_key, 0, sizeof(sa->prm.cipher_key));
	memset(sa->prm.auth_key, 0, sizeof(sa->prm.auth_key));
	memset(sa->prm.salt, 0, sizeof(sa->prm.salt));
	sa->iv_len = alg_is_gcm(p->alg) ? 8 : 16;
	sa->block = alg_is_gcm(p->alg) ? 4 : 16;
	sa->icv_len = algs[p->alg].icv;
	sa->crypto_sess = rte_cryptodev_sym_session_create(
		ctx->dev_id, xf, ctx->sess_pool);
	if (sa->crypto_sess == NULL) {
		rc = rte_errno != 0 ? -rte_errno : -ENOMEM;
		goto fail;
	}
	sa->sess_lines = ctx->sess_lines;
	if (p->proto == TG_IPSEC_PROTO_AH) {
		/* What rte_ipsec_session_prepare() does for ESP, so that
		 * rte_ipsec_ses_from_crypto() finds AH ops' SA too. */
		sa->ss.crypto.ses = sa->crypto_sess;
		rte_cryptodev_sym_session_opaque_data_set(
			sa->crypto_sess, (uintptr_t)&sa->ss);
		rc = tg_ipsec_ah_init(sa);
	} else {
		rc = sa_ipsec_init(sa, p, xf);
	}
	if (rc != 0)
		goto fail;
	return sa;
fail:
	TG_IPSEC_LOG(ERR, "SA 0x%08x: %s", p->spi, rte_strerror(-rc));
	tg_ipsec_sa_destroy(sa);
	rte_errno = -rc;
	return NULL;
}

void
tg_ipsec_sa_destroy(struct tg_ipsec_sa *sa)
{
	if (sa == NULL)
		return;
	if (sa->crypto_sess != NULL)
		rte_cryptodev_sym_session_free(
			sa->ctx->dev_id, sa->crypto_sess);
	rte_free(sa->rsa);
	rte_free(sa->ah.bits);
	rte_free(sa);
}

uint32_t
tg_ipsec_sa_spi(const struct tg_ipsec_sa *sa)
{
	return sa->spi;
}

enum tg_ipsec_dir
tg_ipsec_sa_dir(const struct tg_ipsec_sa *sa)
{
	return sa->dir;
}

bool
tg_ipsec_sa_sync(const struct tg_ipsec_sa *sa)
{
	return sa->sync;
}

const struct tg_ipsec_sa_params *
tg_ipsec_sa_params(const struct tg_ipsec_sa *sa)
{
	return &sa->prm;
}

struct tg_ipsec_sa_stats *
tg_ipsec_sa_stats(struct tg_ipsec_sa *sa)
{
	return &sa->st;
}
