/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: reading a packet's flow tuple and rewriting one of its endpoints
 * in place — addresses, TCP/UDP ports, ICMP query identifiers, and ICMP
 * errors together with the packet they carry (RFC 5508) — with every
 * checksum patched incrementally (RFC 1624).
 */
#ifndef TG_NAT_REWRITE_H
#define TG_NAT_REWRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ip.h>

/** Which endpoint of a packet: its source or its destination. */
enum tg_nat_side {
	TG_NAT_SRC = 0,
	TG_NAT_DST = 1,
};

/**
 * A packet's flow as NAT sees it, host byte order. TCP and UDP: the
 * ports. ICMP queries (echo, timestamp, information, address mask; RFC
 * 5508 section 3): the identifier in both ports, so that a query and its
 * reply give the same tuple with the sides swapped. Other protocols: ports
 * 0.
 */
struct tg_nat_tuple {
	uint32_t src;
	uint32_t dst;
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	/** ICMP: the type; 0 otherwise */
	uint8_t icmp_type;
};

/** ICMP types that carry a query identifier (requests and replies). */
bool tg_nat_icmp_is_query(uint8_t type);

/**
 * The flow tuple of an unfragmented packet or first fragment: @p ip with
 * @p l4_len bytes of L4 header and data after its header (options
 * included in the IHL).
 * @return 0; -EINVAL when the L4 header is too short for its ports or
 *   identifier (TCP and UDP: 4 bytes; ICMP: 8).
 * Any thread.
 */
int tg_nat_tuple_of(
	const struct rte_ipv4_hdr *ip, uint32_t l4_len, struct tg_nat_tuple *t);

/**
 * The tuple of the packet an ICMP error (@p ip, @p l4_len bytes of ICMP
 * message) carries: its IPv4 header and at least the 8 bytes after it.
 * @return 0; -EINVAL when @p ip is no ICMP error or the embedded packet is
 *   too short, not IPv4, or has a header length out of range.
 * Any thread.
 */
int tg_nat_icmp_error_inner(
	const struct rte_ipv4_hdr *ip, uint32_t l4_len, struct tg_nat_tuple *t);

/**
 * Rewrite the endpoint @p side of @p ip to @p addr and, for TCP and UDP,
 * the port on that side to @p port; for ICMP queries the identifier to
 * @p port (whichever side). Patches the IPv4 header checksum and the TCP,
 * UDP or ICMP checksum (a UDP checksum of 0, "none", stays 0; one that
 * would become 0 is written 0xffff, RFC 768). Other protocols get the
 * address only. @p l4_len as for tg_nat_tuple_of(). Later fragments
 * (offset != 0) get the address only: their L4 header is elsewhere.
 * @return 0; -EINVAL when the L4 header is too short to hold the checksum
 *   (TCP 18 bytes, UDP 8, ICMP 8), in which case nothing was changed.
 * Any thread, on a packet it owns.
 */
int tg_nat_rewrite(struct rte_ipv4_hdr *ip, uint32_t l4_len,
	enum tg_nat_side side, uint32_t addr, uint16_t port);

/**
 * Translate an ICMP error with the packet it carries (RFC 5508 4.2,
 * RFC 5382 REQ-10): the outer endpoint @p side becomes @p outer_addr, and
 * in the embedded packet, which travelled the other way, the endpoint on
 * the opposite side becomes @p inner_addr and its port (TCP, UDP) or query
 * identifier (ICMP) @p inner_port. Patches the outer IPv4 checksum, the
 * embedded IPv4 checksum, the embedded UDP checksum (in its first 8
 * bytes; 0 stays 0), the embedded TCP checksum when the error carries that
 * far (18 bytes of TCP header), and the ICMP checksum over all of it.
 * @return 0; -EINVAL as tg_nat_icmp_error_inner() (nothing changed).
 * Any thread, on a packet it owns.
 */
int tg_nat_rewrite_icmp_error(struct rte_ipv4_hdr *ip, uint32_t l4_len,
	enum tg_nat_side side, uint32_t outer_addr, uint32_t inner_addr,
	uint16_t inner_port);

#endif /* TG_NAT_REWRITE_H */
