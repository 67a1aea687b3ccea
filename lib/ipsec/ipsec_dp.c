/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the burst path's two halves (prepare + enqueue, dequeue +
 * process) for ESP and AH SAs alike, and a synchronous wrapper for tests.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_ipsec.h>

#include "ipsec_internal.h"

uint16_t
tg_ipsec_crypto_enqueue(struct tg_ipsec_ctx *ctx, struct tg_ipsec_sa *sa,
	struct rte_mbuf *mb[], uint16_t n, uint16_t *n_prepared)
{
	struct rte_crypto_op *cop[TG_IPSEC_BURST_MAX];
	uint16_t k, e;

	*n_prepared = 0;
	n = RTE_MIN(n, TG_IPSEC_BURST_MAX);
	if (n == 0 || unlikely(sa->sync))
		return 0; /* a CPU crypto SA has no queue: a caller's bug */
	if (rte_crypto_op_bulk_alloc(ctx->op_pool,
		    RTE_CRYPTO_OP_TYPE_SYMMETRIC, cop, n) == 0) {
		*n_prepared = n; /* no free op: the device is full */
		return 0;
	}
	/* Failed packets move past k. */
	if (sa->proto == TG_IPSEC_PROTO_AH) {
		k = tg_ipsec_ah_prepare(sa, mb, cop, n);
	} else {
		k = rte_ipsec_pkt_crypto_prepare(&sa->ss, mb, cop, n);
	}
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
/* The outer header of an outbound tunnel packet: template + length + ID
 * (rte_ipv4_cksum's result, without reading the header back). */
static inline void
fix_tun_cksum(struct rte_mbuf *m, const struct tg_ipsec_sa *sa)
{
	tg_ipsec_tun_cksum(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *), sa);
}

static inline void
fix_cksum(struct rte_mbuf *m, uint32_t l2_len)
{
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2_len);

	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* The SA of a completed op: its session's opaque data is the SA's
 * rte_ipsec_session (rte_ipsec_session_prepare for ESP, ipsec_sa.c for
 * AH). */
static inline struct tg_ipsec_sa *
sa_of_op(const struct rte_crypto_op *cop)
{
	struct rte_ipsec_session *ss = rte_ipsec_ses_from_crypto(cop);

	return ss == NULL ? NULL : container_of(ss, struct tg_ipsec_sa, ss);
}

uint16_t
tg_ipsec_crypto_dequeue(struct tg_ipsec_ctx *ctx, struct rte_mbuf *mb[],
	struct tg_ipsec_sa *sa_out[], uint16_t n, uint16_t *n_good)
{
	struct rte_crypto_op *cop[TG_IPSEC_BURST_MAX];
	struct rte_crypto_op *esp[TG_IPSEC_BURST_MAX], *ah[TG_IPSEC_BURST_MAX];
	struct rte_ipsec_group grp[TG_IPSEC_BURST_MAX];
	struct rte_mbuf *pk[TG_IPSEC_BURST_MAX], *bad[TG_IPSEC_BURST_MAX];
	struct tg_ipsec_sa *bad_sa[TG_IPSEC_BURST_MAX], *sa;
	uint16_t nd, ng, i, j, k, ne = 0, na = 0, nb = 0, good = 0;

	nd = rte_cryptodev_dequeue_burst(
		ctx->dev_id, ctx->qp, cop, RTE_MIN(n, TG_IPSEC_BURST_MAX));
	if (nd == 0) {
		*n_good = 0;
		return 0;
	}
	/* ESP and AH ops come back mixed: split them, keeping each SA's
	 * order. rte_ipsec processes ESP; AH is finished here while its op
	 * (holding what the header needs back) is still alive. */
	for (i = 0; i < nd; i++) {
		sa = sa_of_op(cop[i]);
		if (sa != NULL && sa->proto == TG_IPSEC_PROTO_AH)
			ah[na++] = cop[i];
		else
			esp[ne++] = cop[i];
	}
	for (i = 0; i < na; i++) {
		struct rte_mbuf *m = ah[i]->sym->m_src;

		sa = sa_of_op(ah[i]);
		sa->st.inflight--;
		if (tg_ipsec_ah_finish(sa, ah[i])) {
			if (sa_out != NULL)
				sa_out[good] = sa;
			mb[good++] = m;
		} else {
			bad_sa[nb] = sa;
			bad[nb++] = m;
		}
	}
	if (na != 0)
		rte_mempool_put_bulk(ctx->op_pool, (void **)ah, na);
	if (ne == 0)
		goto out;

	/* Groups by session and marks failed ops on their mbufs. An op
	 * without a session (none here: every op is prepared from one)
	 * would land in pk[] behind the last group: returned as failed,
	 * with no SA, rather than lost. */
	ng = rte_ipsec_pkt_crypto_group(
		(const struct rte_crypto_op **)esp, pk, grp, ne);
	rte_mempool_put_bulk(ctx->op_pool, (void **)esp, ne);
	for (i = 0, j = 0; i < ng; i++)
		j += grp[i].cnt;
	for (; j < ne; j++) {
		bad_sa[nb] = NULL;
		bad[nb++] = pk[j];
	}
	for (i = 0; i < ng; i++) {
		struct rte_ipsec_session *ss = grp[i].id.ptr;

		sa = container_of(ss, struct tg_ipsec_sa, ss);
		sa->st.inflight -= grp[i].cnt;
		k = rte_ipsec_pkt_process(ss, grp[i].m, grp[i].cnt);
		for (j = 0; j < k; j++) {
			struct rte_mbuf *m = grp[i].m[j];

			/* Tunnel output starts at the outer header; transport
			 * keeps the caller's L2 in front. */
			if (sa->mode == TG_IPSEC_MODE_TRANSPORT)
				fix_cksum(m, m->l2_len);
			else if (sa->dir == TG_IPSEC_DIR_OUTBOUND)
				fix_tun_cksum(m, sa);
			if (sa_out != NULL)
				sa_out[good] = sa;
			mb[good++] = m;
		}
		for (; j < grp[i].cnt; j++) {
			bad_sa[nb] = sa;
			bad[nb++] = grp[i].m[j];
		}
	}
out:
	for (i = 0; i < nb; i++) {
		if (sa_out != NULL)
			sa_out[good + i] = bad_sa[i];
		mb[good + i] = bad[i];
	}
	*n_good = good;
	return good + nb;
}

uint16_t
tg_ipsec_cpu_run(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[], uint16_t n,
	uint16_t *n_prepared, bool tun_cksum)
{
	uint16_t i, k, g;

	n = RTE_MIN(n, TG_IPSEC_BURST_MAX);
	/* Both move their failures behind the good packets. */
	k = rte_ipsec_pkt_cpu_prepare(&sa->ss, mb, n);
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND)
		sa->st.seq += k;
	g = k == 0 ? 0 : rte_ipsec_pkt_process(&sa->ss, mb, k);
	for (i = 0; i < g; i++) {
		if (sa->mode == TG_IPSEC_MODE_TRANSPORT)
			fix_cksum(mb[i], mb[i]->l2_len);
		else if (sa->dir == TG_IPSEC_DIR_OUTBOUND && tun_cksum)
			fix_tun_cksum(mb[i], sa);
	}
	*n_prepared = k;
	return g;
}

uint16_t
tg_ipsec_cpu_process(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[], uint16_t n,
	uint16_t *n_prepared)
{
	return tg_ipsec_cpu_run(sa, mb, n, n_prepared, true);
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
	if (sa->sync)
		return tg_ipsec_cpu_process(sa, mb, n, &np);
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
