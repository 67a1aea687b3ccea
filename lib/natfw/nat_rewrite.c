/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: flow tuples and in-place endpoint rewrites with incremental
 * checksums (RFC 1624). Every field NAT touches sits at an even offset
 * from the start of the header whose checksum covers it, so each change
 * is a whole 16-bit word of that sum.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "nat_rewrite.h"
#include "tg_pkt.h"

/* L4 bytes a rewrite needs: up to and including the checksum. */
#define TCP_NEED  18
#define UDP_NEED  8
#define ICMP_NEED 8

/* Smallest embedded packet an ICMP error carries: an IPv4 header and 8
 * bytes (RFC 792). */
#define INNER_L4_MIN 8

bool
tg_nat_icmp_is_query(uint8_t type)
{
	switch (type) {
	case RTE_IP_ICMP_ECHO_REPLY:
	case RTE_IP_ICMP_ECHO_REQUEST:
	case 13: /* timestamp */
	case 14: /* timestamp reply */
	case 15: /* information request */
	case 16: /* information reply */
	case 17: /* address mask request */
	case 18: /* address mask reply */
		return true;
	default:
		return false;
	}
}

static inline uint16_t
ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

/* Store the network-order word @p v at @p p; with @p sum, also patch the
 * checksum at *sum that covers @p p. */
static inline void
st16(uint8_t *p, uint16_t v, uint16_t *sum)
{
	uint16_t old = ld16(p);

	memcpy(p, &v, 2);
	if (sum != NULL)
		*sum = tg_cksum_adjust16(*sum, old, v);
}

/* Adjust @p sum for the 32-bit field changing @p old_be → @p new_be. */
static inline uint16_t
adj32(uint16_t sum, uint32_t old_be, uint32_t new_be)
{
	uint16_t o[2], n[2];

	memcpy(o, &old_be, 4);
	memcpy(n, &new_be, 4);
	sum = tg_cksum_adjust16(sum, o[0], n[0]);
	return tg_cksum_adjust16(sum, o[1], n[1]);
}

static inline uint32_t
ip_l4_ok(const struct rte_ipv4_hdr *ip)
{
	return (rte_be_to_cpu_16(ip->fragment_offset) &
		       RTE_IPV4_HDR_OFFSET_MASK) == 0;
}

int
tg_nat_tuple_of(
	const struct rte_ipv4_hdr *ip, uint32_t l4_len, struct tg_nat_tuple *t)
{
	const uint8_t *l4 = (const uint8_t *)ip + rte_ipv4_hdr_len(ip);

	memset(t, 0, sizeof(*t));
	t->src = rte_be_to_cpu_32(ip->src_addr);
	t->dst = rte_be_to_cpu_32(ip->dst_addr);
	t->proto = ip->next_proto_id;
	if (!ip_l4_ok(ip))
		return 0;
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (l4_len < 4)
			return -EINVAL;
		t->sport = rte_be_to_cpu_16(ld16(l4));
		t->dport = rte_be_to_cpu_16(ld16(l4 + 2));
		return 0;
	case IPPROTO_ICMP:
		if (l4_len < ICMP_NEED)
			return -EINVAL;
		t->icmp_type = l4[0];
		if (tg_nat_icmp_is_query(l4[0]))
			t->sport = t->dport = rte_be_to_cpu_16(ld16(l4 + 4));
		return 0;
	default:
		return 0;
	}
}

/* The embedded IPv4 header of an ICMP error and the bytes after it, or
 * NULL. */
static const struct rte_ipv4_hdr *
inner_of(const struct rte_ipv4_hdr *ip, uint32_t l4_len, uint32_t *inner_l4)
{
	const uint8_t *icmp = (const uint8_t *)ip + rte_ipv4_hdr_len(ip);
	const struct rte_ipv4_hdr *in;
	uint32_t ihl;

	if (ip->next_proto_id != IPPROTO_ICMP || !ip_l4_ok(ip) ||
		l4_len < ICMP_NEED + sizeof(*in) + INNER_L4_MIN ||
		!tg_pkt_icmp_is_error(icmp[0]))
		return NULL;
	in = (const struct rte_ipv4_hdr *)(icmp + ICMP_NEED);
	ihl = rte_ipv4_hdr_len(in);
	if ((in->version_ihl >> 4) != 4 || ihl < sizeof(*in) ||
		l4_len < ICMP_NEED + ihl + INNER_L4_MIN)
		return NULL;
	*inner_l4 = l4_len - ICMP_NEED - ihl;
	return in;
}

int
tg_nat_icmp_error_inner(
	const struct rte_ipv4_hdr *ip, uint32_t l4_len, struct tg_nat_tuple *t)
{
	uint32_t in_l4;
	const struct rte_ipv4_hdr *in = inner_of(ip, l4_len, &in_l4);

	if (in == NULL)
		return -EINVAL;
	return tg_nat_tuple_of(in, in_l4, t);
}

/* Where a protocol keeps its checksum, and the bytes a rewrite needs;
 * 0: none to patch. */
static inline uint32_t
l4_csum_off(uint8_t proto, uint32_t *need)
{
	switch (proto) {
	case IPPROTO_TCP:
		*need = TCP_NEED;
		return offsetof(struct rte_tcp_hdr, cksum);
	case IPPROTO_UDP:
		*need = UDP_NEED;
		return offsetof(struct rte_udp_hdr, dgram_cksum);
	case IPPROTO_ICMP:
		*need = ICMP_NEED;
		return offsetof(struct rte_icmp_hdr, icmp_cksum);
	default:
		*need = 0;
		return 0;
	}
}

/* The address on @p side to @p new_a (network order), with the IP header
 * checksum, and with @p pseudo (an L4 checksum over a pseudo-header) and
 * @p outer (an ICMP checksum over this header) when not NULL. */
static void
rewrite_addr(struct rte_ipv4_hdr *ip, enum tg_nat_side side, uint32_t new_a,
	uint16_t *pseudo, uint16_t *outer)
{
	/* by offset: the header struct is packed */
	uint8_t *fa =
		(uint8_t *)ip +
		(side == TG_NAT_SRC ? offsetof(struct rte_ipv4_hdr, src_addr)
				    : offsetof(struct rte_ipv4_hdr, dst_addr));
	uint32_t old_a;
	uint16_t ipsum;

	memcpy(&old_a, fa, 4);
	ipsum = adj32(ip->hdr_checksum, old_a, new_a);
	if (pseudo != NULL)
		*pseudo = adj32(*pseudo, old_a, new_a);
	if (outer != NULL) {
		*outer = adj32(*outer, old_a, new_a);
		*outer = tg_cksum_adjust16(*outer, ip->hdr_checksum, ipsum);
	}
	memcpy(fa, &new_a, 4);
	ip->hdr_checksum = ipsum;
}

/*
 * The rewrite of one header and its L4 part, the same for a packet and
 * for the packet an ICMP error carries. @p outer: the ICMP checksum that
 * covers this header (embedded packets), else NULL. @p l4_len: the L4
 * bytes present; an embedded TCP header shorter than TCP_NEED keeps its
 * checksum (it is not there to patch).
 */
static int
rewrite_hdr(struct rte_ipv4_hdr *ip, uint32_t l4_len, enum tg_nat_side side,
	uint32_t addr, uint16_t port, uint16_t *outer, bool embedded)
{
	uint8_t *l4 = (uint8_t *)ip + rte_ipv4_hdr_len(ip);
	uint32_t new_a = rte_cpu_to_be_32(addr);
	uint32_t need = 0, coff = 0, poff = 0;
	uint16_t l4sum = 0, new_p = rte_cpu_to_be_16(port);
	bool l4_cksum = false, pseudo = false, has_port = false;

	if (ip_l4_ok(ip)) {
		coff = l4_csum_off(ip->next_proto_id, &need);
		switch (ip->next_proto_id) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			has_port = true;
			pseudo = true;
			poff = side == TG_NAT_SRC ? 0 : 2;
			break;
		case IPPROTO_ICMP:
			if (l4_len >= ICMP_NEED &&
				tg_nat_icmp_is_query(l4[0])) {
				has_port = true;
				poff = 4;
			}
			break;
		default:
			break;
		}
		if (need > 0 && l4_len < need) {
			/* An embedded TCP header need only have its first 8
			 * bytes (ports, sequence number): no checksum then.
			 * Anywhere else a short header is an error. */
			if (!embedded || l4_len < 8)
				return -EINVAL;
			need = 0;
		}
		l4_cksum = need > 0;
	}
	if (l4_cksum) {
		l4sum = ld16(l4 + coff);
		/* UDP without checksum (0) stays without */
		if (ip->next_proto_id == IPPROTO_UDP && l4sum == 0)
			l4_cksum = false;
	}
	rewrite_addr(
		ip, side, new_a, l4_cksum && pseudo ? &l4sum : NULL, outer);
	/* the port or identifier, covered by the L4 checksum */
	if (has_port) {
		uint16_t old_p = ld16(l4 + poff);

		if (l4_cksum)
			l4sum = tg_cksum_adjust16(l4sum, old_p, new_p);
		st16(l4 + poff, new_p, outer);
	}
	if (l4_cksum) {
		if (ip->next_proto_id == IPPROTO_UDP && l4sum == 0)
			l4sum = 0xffff;
		st16(l4 + coff, l4sum, outer);
	}
	return 0;
}

/* RFC 1624 eqn. 3 with the difference @p d (a sum of ~old and new
 * words, not folded) already made: ~(~HC + d). */
static inline uint16_t
cksum_apply(uint16_t cksum, uint32_t d)
{
	uint32_t s = (uint16_t)~cksum + d;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * rewrite_hdr() for what nearly every translated packet is: a whole TCP
 * or UDP header, one address and one port. The address's difference is
 * summed once and applied to both checksums (one fold each, where the
 * general path adjusts word by word: a fifth of natfw's cycles per
 * packet). Same results: test_nat_rewrite checks both paths against
 * checksums computed from scratch.
 */
static inline void
rewrite_l4(struct rte_ipv4_hdr *ip, uint8_t proto, enum tg_nat_side side,
	uint32_t addr, uint16_t port)
{
	uint8_t *l4 = (uint8_t *)ip + rte_ipv4_hdr_len(ip);
	uint8_t *fa = (uint8_t *)ip +
		      (side == TG_NAT_SRC ? offsetof(struct rte_ipv4_hdr, src_addr)
					  : offsetof(struct rte_ipv4_hdr, dst_addr));
	uint8_t *fp = l4 + (side == TG_NAT_SRC ? 0 : 2);
	uint8_t *fc = l4 + (proto == IPPROTO_TCP
				     ? offsetof(struct rte_tcp_hdr, cksum)
				     : offsetof(struct rte_udp_hdr, dgram_cksum));
	uint32_t old_a, new_a = rte_cpu_to_be_32(addr), d;
	uint16_t old_p = ld16(fp), new_p = rte_cpu_to_be_16(port);
	uint16_t l4sum = ld16(fc);

	memcpy(&old_a, fa, 4);
	/* 16-bit words as they lie in memory, like the checksums (RFC 1071:
	 * the sum does not depend on byte order) */
	d = (uint16_t)~old_a + (uint16_t)~(old_a >> 16) + (uint16_t)new_a +
	    (uint16_t)(new_a >> 16);
	ip->hdr_checksum = cksum_apply(ip->hdr_checksum, d);
	memcpy(fa, &new_a, 4);
	memcpy(fp, &new_p, 2);
	if (proto == IPPROTO_UDP && l4sum == 0)
		return; /* UDP without checksum stays without */
	l4sum = cksum_apply(l4sum, d + (uint16_t)~old_p + new_p);
	if (proto == IPPROTO_UDP && l4sum == 0)
		l4sum = 0xffff;
	memcpy(fc, &l4sum, 2);
}

int
tg_nat_rewrite(struct rte_ipv4_hdr *ip, uint32_t l4_len, enum tg_nat_side side,
	uint32_t addr, uint16_t port)
{
	uint8_t proto = ip->next_proto_id;

	if (likely(((proto == IPPROTO_TCP && l4_len >= TCP_NEED) ||
			   (proto == IPPROTO_UDP && l4_len >= UDP_NEED)) &&
		   ip_l4_ok(ip))) {
		rewrite_l4(ip, proto, side, addr, port);
		return 0;
	}
	return rewrite_hdr(ip, l4_len, side, addr, port, NULL, false);
}

int
tg_nat_rewrite_icmp_error(struct rte_ipv4_hdr *ip, uint32_t l4_len,
	enum tg_nat_side side, uint32_t outer_addr, uint32_t inner_addr,
	uint16_t inner_port)
{
	uint8_t *icmp = (uint8_t *)ip + rte_ipv4_hdr_len(ip);
	uint32_t in_l4;
	struct rte_ipv4_hdr *in =
		(struct rte_ipv4_hdr *)(uintptr_t)inner_of(ip, l4_len, &in_l4);
	uint16_t isum;
	int rc;

	if (in == NULL)
		return -EINVAL;
	isum = ld16(icmp + offsetof(struct rte_icmp_hdr, icmp_cksum));
	rc = rewrite_hdr(in, in_l4,
		side == TG_NAT_SRC ? TG_NAT_DST : TG_NAT_SRC, inner_addr,
		inner_port, &isum, true);
	if (rc != 0)
		return rc;
	memcpy(icmp + offsetof(struct rte_icmp_hdr, icmp_cksum), &isum, 2);
	/* the outer address: the ICMP checksum has no pseudo-header */
	rewrite_addr(ip, side, rte_cpu_to_be_32(outer_addr), NULL, NULL);
	return 0;
}
