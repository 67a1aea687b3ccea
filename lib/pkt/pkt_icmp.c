/* SPDX-License-Identifier: BSD-3-Clause
 * ICMP error construction (RFC 792, RFC 1812 4.3.2) and the token bucket
 * that rate-limits it.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tg_pkt.h"

#define ETH_LEN	 ((uint32_t)sizeof(struct rte_ether_hdr))
#define IP_LEN	 ((uint32_t)sizeof(struct rte_ipv4_hdr))
#define ICMP_LEN ((uint32_t)sizeof(struct rte_icmp_hdr))
/* RFC 1812 4.3.2.3: the error, IP header included, stays within 576. */
#define ICMP_ERR_MAX_IP 576u

bool
tg_pkt_icmp_error_allowed(const struct rte_mbuf *orig)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
		orig, const struct rte_ipv4_hdr *, ETH_LEN);
	uint32_t hl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	uint32_t tl = rte_be_to_cpu_16(ip->total_length);

	if (tg_ipv4_is_martian_src(rte_be_to_cpu_32(ip->src_addr)))
		return false;
	if ((rte_be_to_cpu_16(ip->fragment_offset) &
		    RTE_IPV4_HDR_OFFSET_MASK) != 0)
		return false;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		/* Too short to tell which ICMP it is: assume an error. */
		if (tl < hl + 1 || orig->data_len < ETH_LEN + hl + 1)
			return false;
		if (tg_pkt_icmp_is_error(*((const uint8_t *)ip + hl)))
			return false;
	}
	return true;
}

struct rte_mbuf *
tg_pkt_icmp_error(struct rte_mempool *mp, const struct rte_mbuf *orig,
	uint8_t type, uint8_t code, uint16_t next_mtu, uint32_t src_ip)
{
	const struct rte_ipv4_hdr *oip = rte_pktmbuf_mtod_offset(
		orig, const struct rte_ipv4_hdr *, ETH_LEN);
	uint32_t olen = rte_be_to_cpu_16(oip->total_length);
	uint32_t quote, len;
	struct rte_mbuf *m;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *icmp;
	struct tg_meta *meta;
	uint8_t *p;

	/* The frame was validated and trimmed; stay within it regardless. */
	if (olen > (uint32_t)orig->data_len - ETH_LEN)
		olen = (uint32_t)orig->data_len - ETH_LEN;
	quote = RTE_MIN(olen, ICMP_ERR_MAX_IP - IP_LEN - ICMP_LEN);
	len = ETH_LEN + IP_LEN + ICMP_LEN + quote;

	m = rte_pktmbuf_alloc(mp);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		rte_errno = ENOMEM;
		return NULL;
	}

	eth = (struct rte_ether_hdr *)p;
	memset(eth, 0, ETH_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip = (struct rte_ipv4_hdr *)(p + ETH_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0xc0; /* internetwork control */
	ip->total_length =
		rte_cpu_to_be_16((uint16_t)(IP_LEN + ICMP_LEN + quote));
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = oip->src_addr;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	icmp = (struct rte_icmp_hdr *)(ip + 1);
	icmp->icmp_type = type;
	icmp->icmp_code = code;
	icmp->icmp_cksum = 0;
	/* Rest of header: unused, except for "fragmentation needed" where
	 * the low 16 bits carry the next-hop MTU (RFC 1191). */
	icmp->icmp_ident = 0;
	icmp->icmp_seq_nb =
		(type == 3 && code == 4) ? rte_cpu_to_be_16(next_mtu) : 0;
	memcpy(icmp + 1, oip, quote);
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, ICMP_LEN + quote);

	m->l2_len = ETH_LEN;
	m->l3_len = IP_LEN;

	meta = tg_meta(m);
	memset(meta, 0, sizeof(*meta));
	meta->path = TG_PATH_SOURCE;
	meta->step = 0;
	meta->flags = TG_META_F_GENERATED;
	meta->rx_if = TG_IF_NONE;
	meta->tx_if = TG_IF_NONE;
	meta->l3_len = IP_LEN;
	return m;
}

void
tg_ratelimit_init(struct tg_ratelimit *rl, uint64_t rate, uint64_t burst,
	uint64_t hz, uint64_t now_tsc)
{
	rl->rate = rate;
	rl->burst = burst;
	rl->hz = hz;
	rl->last_tsc = now_tsc;
	/* Start full: the first errors after start-up or a reload go out. */
	rl->tokens_x = burst * hz;
}
