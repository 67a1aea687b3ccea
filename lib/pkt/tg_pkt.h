/* SPDX-License-Identifier: BSD-3-Clause
 * Ethernet/IPv4 parsing and validation at RX, checksum helpers and ICMP
 * error construction. Shared by every stage; knows nothing of tables.
 */
#ifndef TG_PKT_H
#define TG_PKT_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tg_meta.h"

/*
 * RX validation drop reasons: X(NAME, "telemetry.name", "description").
 * One list generates the enum and the strings (VPP's foreach_*_error).
 */
#define TG_PKT_DROPS(X)                                                        \
	X(TOO_SHORT, "pkt.too_short", "frame shorter than its headers")        \
	X(MULTI_SEG, "pkt.multi_segment", "chained mbuf (not supported)")      \
	X(ETHERTYPE, "pkt.unsupported_ethertype", "neither IPv4 nor ARP")      \
	X(BAD_VERSION, "pkt.bad_version", "IP version is not 4")               \
	X(BAD_IHL, "pkt.bad_ihl", "IHL below 5 or header beyond the frame")    \
	X(BAD_TOTAL_LEN, "pkt.bad_total_length",                               \
		"total length below the header or beyond the frame")           \
	X(BAD_CKSUM, "pkt.bad_checksum", "IPv4 header checksum wrong")         \
	X(NOT_UNICAST, "pkt.not_unicast",                                      \
		"multicast, limited broadcast or class E destination")         \
	X(MARTIAN_SRC, "pkt.martian_source",                                   \
		"source 0/8, 127/8, multicast, broadcast or class E")

enum tg_pkt_drop {
#define TG_X_ENUM(n, s, d) TG_PKT_DROP_##n,
	TG_PKT_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_PKT_DROP__COUNT
};

extern const char *const tg_pkt_drop_names[TG_PKT_DROP__COUNT];
extern const char *const tg_pkt_drop_descs[TG_PKT_DROP__COUNT];

#define TG_LOCAL_SLOTS 256 /* power of two, > 2 * TG_MAX_PORTS */

/**
 * The appliance's own IPv4 addresses (host order), as RX needs them to
 * choose between the target and the transit path: open addressing with
 * linear probing, 0 marks an empty slot. forward owns the addresses and
 * builds the set into its table; RX only reads it.
 */
struct tg_local_set {
	uint32_t addr[TG_LOCAL_SLOTS];
};

static inline uint32_t
tg_local_hash(uint32_t a)
{
	return (a * 2654435761u) >> 24; /* top 8 bits: TG_LOCAL_SLOTS = 256 */
}

/** Is @p a (host order) in @p ls? */
static inline bool
tg_local_set_has(const struct tg_local_set *ls, uint32_t a)
{
	uint32_t i = tg_local_hash(a);

	while (ls->addr[i] != 0) {
		if (ls->addr[i] == a)
			return true;
		i = (i + 1) & (TG_LOCAL_SLOTS - 1);
	}
	return false;
}

/**
 * Validate a burst of frames received on @p port and initialise each
 * packet's tg_meta (rx_if = port, tx_if = TG_IF_NONE, flags = 0, l3_len
 * (0 for ARP),
 * path = TG_PATH_ARP for ARP frames; for valid IPv4 TG_PATH_TARGET when
 * the destination is in @p local, else TG_PATH_TRANSIT).
 * @p local may be NULL: every IPv4 packet is then transit.
 *
 * @return what the burst held, so that the caller can skip looking at
 *   each packet again in the common case: a bit (1 << enum tg_path) for
 *   each path a valid packet takes, and TG_PKT_RX_DROPPED if any verdict
 *   is a drop.
 *
 * IPv4 frames longer than the IP total length (Ethernet padding) are
 * trimmed. IP options are accepted. The header checksum is trusted from
 * the NIC's ol_flags when it says GOOD or BAD, else verified in software.
 *
 * @param verdict  out: TG_V_NEXT or TG_V_DROP(enum tg_pkt_drop) per packet
 * Any thread; touches only the packets.
 */
uint32_t tg_pkt_rx_burst(struct rte_mbuf **pkts, uint16_t n, uint16_t port,
	const struct tg_local_set *local, uint16_t *verdict);

#define TG_PKT_RX_DROPPED (1u << 31)

/** The same check for one frame (used by tests and fuzzers). */
uint16_t tg_pkt_rx_one(struct rte_mbuf *m, uint16_t port);

/** Validate a bare IPv4 packet in a plain buffer (no mbuf): the core of
 *  tg_pkt_rx_one, kept separate so ASan and the fuzzer can see overruns.
 *  On success stores the header length and the IP total length.
 *  Returns TG_V_NEXT or TG_V_DROP(reason). */
uint16_t tg_pkt_ipv4_check(const uint8_t *l3, uint32_t l3_avail,
	bool verify_cksum, uint16_t *hdr_len, uint16_t *total_len);

/*
 * Byte order on the hot path. DPDK's x86 rte_bswap16/32 are inline asm for
 * anything not constant, which the compiler can neither fold into a load
 * (movbe) nor schedule: the builtins give it both.
 */
static inline uint16_t
tg_be16_to_cpu(rte_be16_t x)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap16(x);
#else
	return x;
#endif
}

static inline uint32_t
tg_be32_to_cpu(rte_be32_t x)
{
#if RTE_BYTE_ORDER == RTE_LITTLE_ENDIAN
	return __builtin_bswap32(x);
#else
	return x;
#endif
}

/** True for addresses (host order) that may not be a unicast destination. */
static inline bool
tg_ipv4_is_not_unicast(uint32_t a)
{
	return (a >> 28) >=
	       0xe; /* 224/4 multicast, 240/4 incl. 255.255.255.255 */
}

/** True for source addresses no router may forward (RFC 1812 5.3.7). */
static inline bool
tg_ipv4_is_martian_src(uint32_t a)
{
	uint8_t top = (uint8_t)(a >> 24);

	return top == 0 || top == 127 || (a >> 28) >= 0xe;
}

/** ICMP types that are errors and carry the packet they report on (RFC
 *  792): destination unreachable, source quench, redirect, time exceeded,
 *  parameter problem. */
static inline bool
tg_pkt_icmp_is_error(uint8_t type)
{
	switch (type) {
	case 3:	 /* destination unreachable */
	case 4:	 /* source quench */
	case 5:	 /* redirect */
	case 11: /* time exceeded */
	case 12: /* parameter problem */
		return true;
	default:
		return false;
	}
}

/** RFC 1624 incremental update of a 16-bit one's complement checksum
 *  (network order in and out) when a 16-bit word changes old → new. */
static inline uint16_t
tg_cksum_adjust16(uint16_t cksum, uint16_t old_w, uint16_t new_w)
{
	uint32_t s = (uint16_t)~cksum;

	s += (uint16_t)~old_w;
	s += new_w;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/**
 * Decrement TTL (> 1) and patch the header checksum incrementally.
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), where m is the TTL/protocol
 * word and m' = m - 0x0100 whatever TTL and protocol are: ~m + m' is the
 * constant 0xfeff. One's complement sums do not depend on byte order, so
 * the field is used as loaded, with the constant in network order.
 */
static inline void
tg_ipv4_ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint32_t s = (uint16_t)~ip->hdr_checksum + (uint32_t)RTE_BE16(0xfeff);

	s = (s & 0xffff) + (s >> 16);
	ip->hdr_checksum = (uint16_t)~s;
	ip->time_to_live--;
}

/** IPv4 header of a validated frame (Ethernet header first). */
static inline struct rte_ipv4_hdr *
tg_pkt_ipv4(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(
		m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

/**
 * May an ICMP error be sent about this (validated) packet? Not about ICMP
 * errors, non-first fragments, or non-unicast / martian sources
 * (RFC 1812 4.3.2.7).
 */
bool tg_pkt_icmp_error_allowed(const struct rte_mbuf *orig);

/**
 * Build an ICMP error (RFC 792 / RFC 1812 4.3.2.3) about @p orig, a
 * validated frame: a new mbuf from @p mp holding an Ethernet header
 * (zeroed: forward fills in the MACs), an IPv4 header (src @p src_ip, dst
 * the original source, TTL 64, TOS 0xc0, ID 0, no DF) and an ICMP header of
 * @p type / @p code, followed by as much of the original IP packet as keeps
 * the error within 576 bytes of IP. @p next_mtu goes into the
 * "fragmentation needed" error (type 3 code 4) and is ignored otherwise.
 * The new packet's meta: path SOURCE, step 0, flags GENERATED, rx_if and
 * tx_if TG_IF_NONE.
 *
 * @return the new mbuf, or NULL with rte_errno set (ENOMEM).
 * Any thread; allocation from @p mp only.
 */
struct rte_mbuf *tg_pkt_icmp_error(struct rte_mempool *mp,
	const struct rte_mbuf *orig, uint8_t type, uint8_t code,
	uint16_t next_mtu, uint32_t src_ip);

/** Token bucket for ICMP error generation, one per lcore (no atomics). */
struct tg_ratelimit {
	uint64_t tokens_x; /**< tokens scaled by the TSC rate */
	uint64_t last_tsc;
	uint64_t rate;	/**< tokens per second */
	uint64_t burst; /**< bucket depth in tokens */
	uint64_t hz;	/**< TSC frequency */
};

void tg_ratelimit_init(struct tg_ratelimit *rl, uint64_t rate, uint64_t burst,
	uint64_t hz, uint64_t now_tsc);

/** Take one token; false when the bucket is empty (rate 0: never). */
static inline bool
tg_ratelimit_take(struct tg_ratelimit *rl, uint64_t now_tsc)
{
	uint64_t cap = rl->burst * rl->hz;

	if (rl->rate == 0)
		return false;
	if (now_tsc > rl->last_tsc) {
		uint64_t el = now_tsc - rl->last_tsc;

		/* Refill; a long idle fills the bucket without computing
		 * el * rate, which could overflow. */
		if (el >= cap / rl->rate)
			rl->tokens_x = cap;
		else
			rl->tokens_x =
				RTE_MIN(cap, rl->tokens_x + el * rl->rate);
		rl->last_tsc = now_tsc;
	}
	if (rl->tokens_x < rl->hz)
		return false;
	rl->tokens_x -= rl->hz;
	return true;
}

#endif /* TG_PKT_H */
