/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the burst path's two halves (prepare + enqueue, dequeue +
 * process) and a synchronous wrapper for tests.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_ipsec.h>

#include "ipsec_internal.h"

/* rte_ipsec reads the ESP (inbound) or inserts it (outbound transport)
 * at l2_len + l3_len; the caller gave l2_len. */
static inline void
set_lengths(struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
		m, const struct rte_ipv4_hdr *, m->l2_len);

	m->l3_len = rte_ipv4_hdr_len(ip);
}

uint16_t
tg_ipsec_crypto_enqueue(struct tg_ipsec_ctx *ctx, struct tg_ipsec_sa *sa,
	struct rte_mbuf *mb[], uint16_t n, uint16_t *n_prepared)
{
	struct rte_crypto_op *cop[TG_IPSEC_BURST_MAX];
	uint16_t i, k, e;

	*n_prepared = 0;
	n = RTE_MIN(n, TG_IPSEC_BURST_MAX);
	if (n == 0)
		return 0;
	if (rte_crypto_op_bulk_alloc(ctx->op_pool,
		    RTE_CRYPTO_OP_TYPE_SYMMETRIC, cop, n) == 0) {
		*n_prepared = n; /* no free op: the device is full */
		return 0;
	}
	for (i = 0; i < n; i++)
		set_lengths(mb[i]);
	/* Failed packets move past k. */
	k = rte_ipsec_pkt_crypto_prepare(&sa->ss, mb, cop, n);
	e = rte_cryptodev_enqueue_burst(ctx->dev_id, ctx->qp, cop, k);
	if (e < n)
		rte_mempool_put_bulk(ctx->op_pool, (void **)(cop + e), n - e);
	*n_prepared = k;
	sa->st.inflight += e;
	/* rte_ipsec numbered every prepared packet, sent or not. */
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND)
		sa->st.seq += k;
	return e;
}

/* rte_ipsec leaves the IPv4 header checksum of what it writes stale:
 * the outer header outbound (tunnel template or transport header) and
 * the transport header inbound (length and protocol changed). */
static inline void
fix_cksum(struct rte_mbuf *m, uint32_t l2_len)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2_len);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

uint16_t
tg_ipsec_crypto_dequeue(struct tg_ipsec_ctx *ctx, struct rte_mbuf *mb[],
	struct tg_ipsec_sa *sa_out[], uint16_t n, uint16_t *n_good)
{
	struct rte_crypto_op *cop[TG_IPSEC_BURST_MAX];
	struct rte_ipsec_group grp[TG_IPSEC_BURST_MAX];
	struct rte_mbuf *pk[TG_IPSEC_BURST_MAX], *bad[TG_IPSEC_BURST_MAX];
	struct tg_ipsec_sa *bad_sa[TG_IPSEC_BURST_MAX];
	uint16_t nd, ng, i, j, k, nb = 0, good = 0;

	nd = rte_cryptodev_dequeue_burst(
		ctx->dev_id, ctx->qp, cop, RTE_MIN(n, TG_IPSEC_BURST_MAX));
	if (nd == 0) {
		*n_good = 0;
		return 0;
	}
	/* Groups by session and marks failed ops on their mbufs. An op
	 * without a session (none here: every op is prepared from one)
	 * would land in pk[] behind the last group: returned as failed,
	 * with no SA, rather than lost. */
	ng = rte_ipsec_pkt_crypto_group(
		(const struct rte_crypto_op **)cop, pk, grp, nd);
	rte_mempool_put_bulk(ctx->op_pool, (void **)cop, nd);
	for (i = 0, j = 0; i < ng; i++)
		j += grp[i].cnt;
	for (; j < nd; j++) {
		bad_sa[nb] = NULL;
		bad[nb++] = pk[j];
	}
	for (i = 0; i < ng; i++) {
		struct rte_ipsec_session *ss = grp[i].id.ptr;
		struct tg_ipsec_sa *sa =
			container_of(ss, struct tg_ipsec_sa, ss);

		sa->st.inflight -= grp[i].cnt;
		k = rte_ipsec_pkt_process(ss, grp[i].m, grp[i].cnt);
		for (j = 0; j < k; j++) {
			struct rte_mbuf *m = grp[i].m[j];

			/* Tunnel output starts at the outer header; transport
			 * keeps the caller's L2 in front. */
			if (sa->mode == TG_IPSEC_MODE_TRANSPORT)
				fix_cksum(m, m->l2_len);
			else if (sa->dir == TG_IPSEC_DIR_OUTBOUND)
				fix_cksum(m, 0);
			if (sa_out != NULL)
				sa_out[good] = sa;
			mb[good++] = m;
		}
		for (; j < grp[i].cnt; j++) {
			bad_sa[nb] = sa;
			bad[nb++] = grp[i].m[j];
		}
	}
	for (i = 0; i < nb; i++) {
		if (sa_out != NULL)
			sa_out[good + i] = bad_sa[i];
		mb[good + i] = bad[i];
	}
	*n_good = good;
	return good + nb;
}

int
tg_ipsec_process_sync(struct tg_ipsec_ctx *ctx, struct tg_ipsec_sa *sa,
	struct rte_mbuf *mb[], uint16_t n)
{
	struct rte_mbuf *out[TG_IPSEC_BURST_MAX], *bad[TG_IPSEC_BURST_MAX];
	uint16_t ne, np, got = 0, good = 0, nb = 0, g, r, i;
	uint64_t deadline;

	if (ctx == NULL || sa == NULL || n > TG_IPSEC_BURST_MAX)
		return -EINVAL;
	ne = tg_ipsec_crypto_enqueue(ctx, sa, mb, n, &np);
	for (i = ne; i < n; i++)
		bad[nb++] = mb[i];
	/* Test only: the stage picks completions up on later polls. */
	deadline = rte_get_timer_cycles() + rte_get_timer_hz();
	while (got < ne) {
		r = tg_ipsec_crypto_dequeue(ctx, out, NULL, ne - got, &g);
		for (i = 0; i < g; i++)
			mb[good++] = out[i];
		for (; i < r; i++)
			bad[nb++] = out[i];
		got += r;
		if (r == 0 && rte_get_timer_cycles() > deadline)
			return -ETIMEDOUT;
	}
	for (i = 0; i < nb; i++)
		mb[good + i] = bad[i];
	return good;
}
