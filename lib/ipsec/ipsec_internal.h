/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the context and SA structs shared by the library's files.
 */
#ifndef TG_IPSEC_INTERNAL_H
#define TG_IPSEC_INTERNAL_H

#include <rte_crypto.h>
#include <rte_ip.h>
#include <rte_ipsec.h>
#include <rte_log.h>

#include "tg_ipsec.h"

extern int tg_ipsec_logtype;
#define TG_IPSEC_LOG(level, fmt, ...)                                          \
	rte_log(RTE_LOG_##level, tg_ipsec_logtype, "ipsec: " fmt "\n",         \
		##__VA_ARGS__)

/* Where rte_ipsec writes the per-operation IV (GCM: salt, IV, counter;
 * CBC: the IV): right behind the symmetric op, in the op's private area
 * (the op pool reserves TG_IPSEC_OP_PRIV bytes there). AH keeps its
 * per-packet state at the same place (struct tg_ipsec_ah_priv): the
 * received ICV and the IPv4 header before its mutable fields were
 * zeroed, which is what makes the area larger than ESP's 16 bytes. */
#define TG_IPSEC_IV_OFFSET                                                     \
	(sizeof(struct rte_crypto_op) + sizeof(struct rte_crypto_sym_op))
#define TG_IPSEC_OP_PRIV 96

/* AH's per-SA state. Outbound: the last sequence number used. Inbound:
 * the anti-replay window (RFC 4302 3.4.3), a ring of 64-bit buckets
 * (RFC 6479) covering (top - size, top]; bits == NULL when off. Written
 * only by the lcore that runs the SA's crypto. */
struct tg_ipsec_ah_state {
	uint32_t seq;	  /* outbound: last used; inbound: top */
	uint32_t win;	  /* window size, packets */
	uint32_t nb_mask; /* buckets - 1 (a power of 2) */
	uint64_t *bits;	  /* rte_malloc; NULL: window off / outbound */
	uint8_t hdr_len;  /* the AH header with its ICV: 12 + icv_len */
};

/* The most lines of one object (an rte_ipsec SA, a crypto session) the
 * stage prefetches. */
#define TG_IPSEC_PF_MAX_LINES 32

struct tg_ipsec_ctx {
	uint8_t dev_id;
	uint16_t qp;
	bool created_vdev; /* uninit the vdev on free */
	bool cpu_crypto;   /* ESP SAs are CPU crypto sessions */
	int socket_id;
	struct rte_mempool *sess_pool;
	/* cache lines of a session (header and the PMD's data), as many as
	 * the stage prefetches (TG_IPSEC_PF_MAX_LINES at most) */
	uint8_t sess_lines;
	struct rte_mempool *op_pool;
	char dev_name[RTE_CRYPTODEV_NAME_MAX_LEN];
};

struct tg_ipsec_sa {
	/* Its address is the crypto session's opaque data
	 * (rte_ipsec_session_prepare; for AH set by ipsec_sa.c the same
	 * way), how a completed op finds its SA. AH leaves the rest of it
	 * empty: rte_ipsec is not used for AH. Cache line 0 (cache
	 * aligned). */
	struct rte_ipsec_session ss;
	/* Line 1: everything the stage reads or writes for each packet,
	 * so that with many SAs (every packet on another one, the SA out
	 * of L1) a packet costs the SA two lines, not five. */
	enum tg_ipsec_proto proto;
	enum tg_ipsec_dir dir;
	enum tg_ipsec_mode mode;
	/* Outbound tunnel: the ones' complement sum of the outer header
	 * template without its length and ID, the only fields rte_ipsec
	 * changes: the checksum is then two additions, not a pass over a
	 * header just written (store-forwarding stalls). */
	uint32_t tmpl_sum;
	/* ESP layout for length checks before the device: IV, ICV bytes
	 * and the ciphertext's block (GCM 4, CBC 16). */
	uint8_t iv_len, icv_len, block;
	bool sync;    /* a CPU crypto session: tg_ipsec_cpu_process() */
	bool limited; /* a lifetime limit is set (prm.lifetime) */
	bool in_use;  /* the stage's sweep: the current snapshot uses it */
	/* Lines of its rte_ipsec SA (ESP) and of its crypto session, for
	 * the stage's prefetch with many SAs: all of each, since which ones
	 * the library and the PMD read is theirs to decide. */
	uint8_t rsa_lines, sess_lines;
	struct tg_ipsec_sa_stats st; /* packets, bytes, seq in line 1 */
	struct tg_ipsec_ctx *ctx;
	void *crypto_sess;
	uint32_t spi;
	enum tg_ipsec_alg alg;
	struct rte_ipsec_sa
		*rsa; /* ESP: rte_ipsec_sa_size() bytes, rte_malloc */
	struct tg_ipsec_ah_state ah;
	struct tg_ipsec_sa_params prm; /* keys zeroed */
};

/* The outer header of an outbound tunnel packet as rte_ipsec wrote it:
 * its checksum from the template's sum, the length and the ID (what
 * rte_ipv4_cksum would give, without reading the header back). */
static inline void
tg_ipsec_tun_cksum(struct rte_ipv4_hdr *ip, const struct tg_ipsec_sa *sa)
{
	uint32_t s = sa->tmpl_sum + ip->total_length + ip->packet_id;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	ip->hdr_checksum = s == 0xffff ? (uint16_t)s : (uint16_t)~s;
}

/* tg_ipsec_cpu_process(), optionally leaving the outer header checksum of
 * tunnel output to the caller (the stage writes it in the pass over the
 * packets it makes anyway: one pass fewer). */
uint16_t tg_ipsec_cpu_run(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[],
	uint16_t n, uint16_t *n_prepared, bool tun_cksum);

/* ipsec_ah.c. init: the SA's AH state, at create (0 or -errno).
 * prepare: rte_ipsec_pkt_crypto_prepare()'s contract — fills cop[0, ret)
 * for mb[0, ret), moves the packets that failed behind them. finish: one
 * completed op, true when its packet is good (the op stays the caller's
 * to free). */
int tg_ipsec_ah_init(struct tg_ipsec_sa *sa);
uint16_t tg_ipsec_ah_prepare(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[],
	struct rte_crypto_op *cop[], uint16_t n);
bool tg_ipsec_ah_finish(struct tg_ipsec_sa *sa, struct rte_crypto_op *cop);

#endif /* TG_IPSEC_INTERNAL_H */
