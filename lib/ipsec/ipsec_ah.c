/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: AH (RFC 4302) on plain cryptodev HMAC operations, as rte_ipsec
 * has no AH — header insertion and removal, the fields the ICV skips,
 * the sequence counter and the anti-replay window.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cryptodev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ipsec_internal.h"

/* Next header, payload length, reserved, SPI, sequence number; the ICV
 * follows (12 or 16 bytes: a multiple of 4, no padding for IPv4). */
struct ah_hdr {
	uint8_t next_proto;
	uint8_t len; /* in 32-bit words, minus 2 */
	rte_be16_t reserved;
	rte_be32_t spi;
	rte_be32_t seq;
	uint8_t icv[];
} __rte_packed;

#define AH_FIXED     12
#define AH_ICV_MAX   16
#define IPV4_HDR_MIN 20
#define IPV4_HDR_MAX 60
#define TUNNEL_TTL   64
#define FRAG_MF_OFS  (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)

/* One op's state, in its private area (TG_IPSEC_OP_PRIV bytes). The
 * fields the ICV skips are zeroed in the packet itself — no copy of the
 * packet — so what they held waits here until the op completes. */
struct tg_ipsec_ah_priv {
	/* Inbound: the ICV as received, the digest VERIFY compares; the
	 * packet's ICV field is zero during the computation. */
	uint8_t icv[AH_ICV_MAX];
	uint32_t seq; /* inbound: moves the window once verified */
	/* Transport: the IPv4 header (options too) before zeroing; tunnel
	 * mode does not need it: outbound wrote it, inbound drops it. */
	uint8_t hdr[IPV4_HDR_MAX];
};

static inline struct tg_ipsec_ah_priv *
op_priv(struct rte_crypto_op *cop)
{
	return rte_crypto_op_ctod_offset(
		cop, struct tg_ipsec_ah_priv *, TG_IPSEC_IV_OFFSET);
}

int
tg_ipsec_ah_init(struct tg_ipsec_sa *sa)
{
	uint32_t nb;

	RTE_BUILD_BUG_ON(sizeof(struct tg_ipsec_ah_priv) > TG_IPSEC_OP_PRIV);
	RTE_BUILD_BUG_ON(AH_FIXED != sizeof(struct ah_hdr));
	if (sa->icv_len > AH_ICV_MAX || sa->icv_len % 4 != 0)
		return -EINVAL;
	sa->ah.hdr_len = (uint8_t)(AH_FIXED + sa->icv_len);
	sa->ah.seq = 0; /* the first packet sent is 1 (RFC 4302 3.3.2) */
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND || sa->prm.replay_window == 0)
		return 0;
	/* The window spans at most ceil(win / 64) + 1 buckets; a power of
	 * 2 of them lets a bucket's slot be a mask (RFC 6479). */
	sa->ah.win = sa->prm.replay_window;
	nb = rte_align32pow2((sa->ah.win + 63) / 64 + 1);
	sa->ah.nb_mask = nb - 1;
	sa->ah.bits = rte_zmalloc_socket("tg_ipsec_ah_win",
		nb * sizeof(uint64_t), RTE_CACHE_LINE_SIZE, sa->ctx->socket_id);
	return sa->ah.bits == NULL ? -ENOMEM : 0;
}

/* ---- anti-replay (RFC 4302 3.4.3; RFC 4303 appendix A) ------------------ */

/* Whether seq may be accepted: new, or inside the window and not seen.
 * Checked before the ICV (cheap drop) and again after it, as two copies
 * in one burst both pass the first check. */
static inline bool
replay_ok(const struct tg_ipsec_ah_state *s, uint32_t seq)
{
	if (s->bits == NULL)
		return true;
	if (seq == 0) /* never sent: the counter starts at 1 */
		return false;
	if (seq > s->seq)
		return true;
	if (s->seq - seq >= s->win)
		return false;
	return (s->bits[(seq >> 6) & s->nb_mask] &
		       (UINT64_C(1) << (seq & 63))) == 0;
}

/* Only for a packet whose ICV verified (RFC 4302 3.4.3: the window moves
 * on authenticated packets only). */
static inline void
replay_update(struct tg_ipsec_ah_state *s, uint32_t seq)
{
	uint32_t top_b, i, n;

	if (seq > s->seq) {
		if (s->bits != NULL) {
			/* The buckets the window slides onto were those of
			 * numbers long out of it: clear them. */
			top_b = s->seq >> 6;
			n = RTE_MIN((seq >> 6) - top_b, s->nb_mask + 1);
			for (i = 1; i <= n; i++)
				s->bits[(top_b + i) & s->nb_mask] = 0;
		}
		s->seq = seq;
	}
	if (s->bits != NULL)
		s->bits[(seq >> 6) & s->nb_mask] |= UINT64_C(1) << (seq & 63);
}

/* ---- the IPv4 header ----------------------------------------------------- */

/*
 * Walk the IPv4 options (RFC 4302 appendix A.1). Immutable ones (EOL,
 * NOP, security, extended and commercial security, router alert, SDMD)
 * are authenticated as they are; every other option may change in
 * transit and is zeroed whole, type and length too (3.3.3.1.1.2), when
 * @p zero. -EINVAL for a malformed list, and for the source route
 * options (LSRR, SSRR): they make the destination address "mutable but
 * predictable" — the ICV would have to use the final destination —,
 * which is not implemented, so such packets are refused.
 */
static int
opts_walk(uint8_t *o, uint32_t len, bool zero)
{
	uint32_t i = 0, l;

	while (i < len) {
		switch (o[i]) {
		case 0: /* end of list: the rest is padding, kept as is */
			return 0;
		case 1:
			i++;
			continue;
		case 131:
		case 137:
			return -EINVAL;
		}
		if (i + 1 >= len)
			return -EINVAL;
		l = o[i + 1];
		if (l < 2 || i + l > len)
			return -EINVAL;
		switch (o[i]) {
		case 130:
		case 133:
		case 134:
		case 148:
		case 149:
			break;
		default:
			if (zero)
				memset(o + i, 0, l);
		}
		i += l;
	}
	return 0;
}

/* The header at l2: IPv4, one segment, lengths consistent. What follows
 * the total length (Ethernet padding) is trimmed off, so the ICV covers
 * exactly the datagram. NULL: malformed. */
static inline struct rte_ipv4_hdr *
ipv4_of(struct rte_mbuf *m, uint32_t l2, uint32_t *ihl, uint32_t *tot)
{
	uint32_t dl = rte_pktmbuf_data_len(m);
	struct rte_ipv4_hdr *ip;

	if (m->nb_segs != 1 || dl < l2 + IPV4_HDR_MIN)
		return NULL;
	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l2);
	*ihl = rte_ipv4_hdr_len(ip);
	*tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || *ihl < IPV4_HDR_MIN || *tot < *ihl ||
		l2 + *tot > dl)
		return NULL;
	if (l2 + *tot < dl)
		rte_pktmbuf_trim(m, (uint16_t)(dl - l2 - *tot));
	return ip;
}

/* RFC 4302 3.3.3.1.1.1: DSCP + ECN, flags + fragment offset, TTL and
 * the checksum are mutable: zero for the ICV, on both sides. */
static inline void
zero_mutable(struct rte_ipv4_hdr *ip, uint32_t ihl)
{
	ip->type_of_service = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 0;
	ip->hdr_checksum = 0;
	if (ihl > IPV4_HDR_MIN)
		opts_walk((uint8_t *)(ip + 1), ihl - IPV4_HDR_MIN, true);
}

static inline void
set_cksum(struct rte_ipv4_hdr *ip)
{
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static inline void
op_fill(struct tg_ipsec_sa *sa, struct rte_crypto_op *cop, struct rte_mbuf *m,
	uint32_t off, uint32_t len)
{
	struct rte_crypto_sym_op *sop = cop->sym;

	rte_crypto_op_attach_sym_session(cop, sa->crypto_sess);
	sop->m_src = m;
	sop->auth.data.offset = off;
	sop->auth.data.length = len;
}

/* ---- outbound ------------------------------------------------------------ */

static int
outb_prepare(
	struct tg_ipsec_sa *sa, struct rte_mbuf *m, struct rte_crypto_op *cop)
{
	uint32_t l2 = m->l2_len, hl = sa->ah.hdr_len, ihl, tot, seq;
	struct rte_ipv4_hdr *ip, *oip;
	struct ah_hdr *ah;
	uint8_t *old, *p;

	ip = ipv4_of(m, l2, &ihl, &tot);
	if (ip == NULL)
		return -EINVAL;
	if (sa->mode == TG_IPSEC_MODE_TRANSPORT) {
		/* RFC 4302 3.3.4: transport AH covers whole datagrams. */
		if ((ip->fragment_offset & rte_cpu_to_be_16(FRAG_MF_OFS)) !=
				0 ||
			tot + hl > UINT16_MAX || rte_pktmbuf_headroom(m) < hl)
			return -EINVAL;
		if (ihl > IPV4_HDR_MIN &&
			opts_walk((uint8_t *)(ip + 1), ihl - IPV4_HDR_MIN,
				false) != 0)
			return -EINVAL;
	} else if (tot + IPV4_HDR_MIN + hl > UINT16_MAX ||
		   rte_pktmbuf_headroom(m) + l2 < IPV4_HDR_MIN + hl) {
		return -EINVAL;
	}
	/* Without ESN the counter must not cycle (RFC 4302 3.3.2). */
	if (sa->ah.seq == UINT32_MAX)
		return -ERANGE;
	seq = ++sa->ah.seq;

	if (sa->mode == TG_IPSEC_MODE_TUNNEL) {
		rte_pktmbuf_adj(m, (uint16_t)l2);
		rte_pktmbuf_prepend(m, (uint16_t)(IPV4_HDR_MIN + hl));
		oip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		/* DSCP 0, DF clear, the ID from the sequence number as the
		 * ESP tunnel's; TTL and checksum (mutable) after the ICV. */
		oip->version_ihl = RTE_IPV4_VHL_DEF;
		oip->type_of_service = 0;
		oip->total_length =
			rte_cpu_to_be_16((uint16_t)(IPV4_HDR_MIN + hl + tot));
		oip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
		oip->fragment_offset = 0;
		oip->time_to_live = 0;
		oip->next_proto_id = IPPROTO_AH;
		oip->hdr_checksum = 0;
		oip->src_addr = rte_cpu_to_be_32(sa->prm.tun_local);
		oip->dst_addr = rte_cpu_to_be_32(sa->prm.tun_remote);
		ah = (struct ah_hdr *)(oip + 1);
		ah->next_proto = IPPROTO_IPIP;
		m->l2_len = 0;
		m->l3_len = IPV4_HDR_MIN;
		op_fill(sa, cop, m, 0, IPV4_HDR_MIN + hl + tot);
	} else {
		/* L2 and IP header move forward to make room behind them. */
		old = rte_pktmbuf_mtod(m, uint8_t *);
		rte_pktmbuf_prepend(m, (uint16_t)hl);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		memmove(p, old, l2 + ihl);
		ip = (struct rte_ipv4_hdr *)(p + l2);
		ah = (struct ah_hdr *)((uint8_t *)ip + ihl);
		ah->next_proto = ip->next_proto_id;
		ip->next_proto_id = IPPROTO_AH;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(tot + hl));
		memcpy(op_priv(cop)->hdr, ip, ihl);
		zero_mutable(ip, ihl);
		m->l3_len = ihl;
		op_fill(sa, cop, m, l2, tot + hl);
	}
	ah->len = (uint8_t)(hl / 4 - 2);
	ah->reserved = 0;
	ah->spi = rte_cpu_to_be_32(sa->spi);
	ah->seq = rte_cpu_to_be_32(seq);
	memset(ah->icv, 0, sa->icv_len);
	/* GENERATE writes the ICV straight into its field. */
	cop->sym->auth.digest.data = ah->icv;
	cop->sym->auth.digest.phys_addr = rte_pktmbuf_iova_offset(
		m, ah->icv - rte_pktmbuf_mtod(m, uint8_t *));
	return 0;
}

static void
outb_finish(
	struct tg_ipsec_sa *sa, struct rte_crypto_op *cop, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip;

	if (sa->mode == TG_IPSEC_MODE_TUNNEL) {
		ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		ip->time_to_live = TUNNEL_TTL;
	} else {
		ip = rte_pktmbuf_mtod_offset(
			m, struct rte_ipv4_hdr *, m->l2_len);
		memcpy(ip, op_priv(cop)->hdr, m->l3_len);
	}
	set_cksum(ip);
}

/* ---- inbound ------------------------------------------------------------- */

static int
inb_prepare(
	struct tg_ipsec_sa *sa, struct rte_mbuf *m, struct rte_crypto_op *cop)
{
	struct tg_ipsec_ah_priv *pv = op_priv(cop);
	uint32_t l2 = m->l2_len, hl = sa->ah.hdr_len, ihl, tot;
	struct rte_ipv4_hdr *ip;
	struct ah_hdr *ah;

	ip = ipv4_of(m, l2, &ihl, &tot);
	/* Fragments: RFC 4302 3.4.1 has AH checked after reassembly,
	 * which is not done here. */
	if (ip == NULL || ip->next_proto_id != IPPROTO_AH ||
		(ip->fragment_offset & rte_cpu_to_be_16(FRAG_MF_OFS)) != 0 ||
		tot < ihl + hl)
		return -EINVAL;
	if (ihl > IPV4_HDR_MIN &&
		opts_walk((uint8_t *)(ip + 1), ihl - IPV4_HDR_MIN, false) != 0)
		return -EINVAL;
	ah = (struct ah_hdr *)((uint8_t *)ip + ihl);
	if (ah->len != hl / 4 - 2 || ah->spi != rte_cpu_to_be_32(sa->spi))
		return -EINVAL;
	if (sa->mode == TG_IPSEC_MODE_TUNNEL && ah->next_proto != IPPROTO_IPIP)
		return -EINVAL;
	pv->seq = rte_be_to_cpu_32(ah->seq);
	if (!replay_ok(&sa->ah, pv->seq))
		return -EEXIST;

	memcpy(pv->icv, ah->icv, sa->icv_len);
	memset(ah->icv, 0, sa->icv_len);
	if (sa->mode == TG_IPSEC_MODE_TRANSPORT)
		memcpy(pv->hdr, ip, ihl);
	zero_mutable(ip, ihl);
	m->l3_len = ihl;
	op_fill(sa, cop, m, l2, tot);
	cop->sym->auth.digest.data = pv->icv;
	cop->sym->auth.digest.phys_addr = rte_crypto_op_ctophys_offset(cop,
		TG_IPSEC_IV_OFFSET + offsetof(struct tg_ipsec_ah_priv, icv));
	return 0;
}

static bool
inb_finish(
	struct tg_ipsec_sa *sa, struct rte_crypto_op *cop, struct rte_mbuf *m)
{
	struct tg_ipsec_ah_priv *pv = op_priv(cop);
	uint32_t l2 = m->l2_len, ihl = m->l3_len, hl = sa->ah.hdr_len;
	struct rte_ipv4_hdr *ip;
	uint8_t *p, nh;

	/* A copy verified after the first one of a burst: a replay, not an
	 * authentication failure (no RX_SEC_OFFLOAD_FAILED). */
	if (!replay_ok(&sa->ah, pv->seq))
		return false;
	replay_update(&sa->ah, pv->seq);
	if (sa->mode == TG_IPSEC_MODE_TUNNEL) {
		rte_pktmbuf_adj(m, (uint16_t)(l2 + ihl + hl));
		m->l2_len = 0;
		m->l3_len = 0;
		return true;
	}
	/* Transport: the header as received, less the AH in it. */
	p = rte_pktmbuf_mtod(m, uint8_t *);
	ip = (struct rte_ipv4_hdr *)(p + l2);
	nh = ((const struct ah_hdr *)((uint8_t *)ip + ihl))->next_proto;
	memcpy(ip, pv->hdr, ihl);
	ip->next_proto_id = nh;
	ip->total_length = rte_cpu_to_be_16(
		(uint16_t)(rte_be_to_cpu_16(ip->total_length) - hl));
	set_cksum(ip);
	memmove(p + hl, p, l2 + ihl);
	rte_pktmbuf_adj(m, (uint16_t)hl);
	return true;
}

/* ---- the two halves ------------------------------------------------------ */

uint16_t
tg_ipsec_ah_prepare(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[],
	struct rte_crypto_op *cop[], uint16_t n)
{
	struct rte_mbuf *bad[TG_IPSEC_BURST_MAX];
	uint16_t i, k = 0, nb = 0;
	int rc;

	for (i = 0; i < n; i++) {
		/* The flag tells the stage an ICV failed: none yet. */
		mb[i]->ol_flags &= ~(RTE_MBUF_F_RX_SEC_OFFLOAD |
				     RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED);
		rc = sa->dir == TG_IPSEC_DIR_OUTBOUND
			     ? outb_prepare(sa, mb[i], cop[k])
			     : inb_prepare(sa, mb[i], cop[k]);
		if (rc == 0)
			mb[k++] = mb[i];
		else
			bad[nb++] = mb[i];
	}
	for (i = 0; i < nb; i++)
		mb[k + i] = bad[i];
	return k;
}

bool
tg_ipsec_ah_finish(struct tg_ipsec_sa *sa, struct rte_crypto_op *cop)
{
	struct rte_mbuf *m = cop->sym->m_src;

	if (cop->status != RTE_CRYPTO_OP_STATUS_SUCCESS) {
		/* As rte_ipsec_pkt_crypto_group() marks a failed ESP op. */
		m->ol_flags |= RTE_MBUF_F_RX_SEC_OFFLOAD |
			       RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED;
		return false;
	}
	if (sa->dir == TG_IPSEC_DIR_OUTBOUND) {
		outb_finish(sa, cop, m);
		return true;
	}
	return inb_finish(sa, cop, m);
}
