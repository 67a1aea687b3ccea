/* SPDX-License-Identifier: BSD-3-Clause
 * localfilter: TCP/IP filtering of target traffic — which IP protocols,
 * TCP ports (of connection requests) and UDP ports the local host accepts
 * (the seed's "TCP/IP filtering"). Built from the config model into
 * bitmaps; the stage only reads them. Knows nothing of rings, lcores or
 * YAML.
 */
#ifndef TG_LOCALFILTER_H
#define TG_LOCALFILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "tg_config.h"
#include "tg_meta.h"
#include "tg_pkt.h"

/* Drop reasons: X(NAME, "telemetry.name", "why"). */
#define TG_LOCALFILTER_DROPS(X)                                                \
	X(PROTOCOL, "localfilter.protocol",                                    \
		"IP protocol the local host does not accept")                  \
	X(TCP_PORT, "localfilter.tcp_port",                                    \
		"TCP connection request (SYN without ACK) to a destination "   \
		"port the local host does not accept (or a TCP header too "    \
		"short to judge)")                                             \
	X(UDP_PORT, "localfilter.udp_port",                                    \
		"UDP destination port the local host does not accept (or a "   \
		"UDP header too short to judge)")

enum tg_localfilter_drop {
#define TG_X_ENUM(n, s, d) TG_LOCALFILTER_DROP_##n,
	TG_LOCALFILTER_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_LOCALFILTER_DROP__COUNT
};

extern const char *const tg_localfilter_drop_names[TG_LOCALFILTER_DROP__COUNT];
extern const char *const tg_localfilter_drop_descs[TG_LOCALFILTER_DROP__COUNT];

/**
 * One rule set: a bit per protocol and per destination port. The builder
 * always sets ICMP's bit in proto[]: the seed cannot filter ICMP.
 */
struct tg_lf_rules {
	uint64_t proto[256 / 64];
	uint64_t tcp[65536 / 64];
	uint64_t udp[65536 / 64];
	bool tcp_all; /**< every TCP port: a short header passes too */
	bool udp_all; /**< every UDP port: a short header passes too */
};

struct tg_localfilter_table {
	bool enabled;
	uint16_t n_rules; /**< rules[0] global, then one per override */
	struct tg_lf_rules *rules;
	/** rules[] index for packets received on each ethdev port */
	uint8_t rule_of_port[RTE_MAX_ETHPORTS];
};

/**
 * Build the table for @p cfg->local_filter. @p port_id maps the config's
 * port index (tg_cfg_iface.port) to the ethdev port id, for @p n_ports
 * ports. Returns 0, or -errno with a message in @p err.
 */
int tg_localfilter_build(const struct tg_config *cfg, const uint16_t *port_id,
	uint16_t n_ports, int socket, struct tg_localfilter_table **out,
	char *err, size_t errlen);

/** Free a table no reader can see any more. NULL is a no-op. */
void tg_localfilter_table_free(struct tg_localfilter_table *lt);

static inline bool
tg_lf_bit(const uint64_t *map, uint32_t i)
{
	return (map[i >> 6] >> (i & 63)) & 1;
}

/**
 * The verdict for one target packet (validated IPv4, Ethernet header
 * first, meta->l3_len set): TG_V_NEXT or TG_V_DROP(enum
 * tg_localfilter_drop). As the seed, it judges what opens something on
 * the host and lets the rest through:
 * - ICMP always passes (its bit is forced on in proto[]); every other
 *   protocol must be in the protocol list.
 * - TCP: only a connection request (SYN set, ACK clear) is judged by its
 *   destination port; every other segment belongs to a connection the
 *   host opened or accepted, or is answered with a RST by the host.
 * - UDP: every datagram is judged by its destination port (tollgate
 *   cannot see the host's sockets, so replies to the host's own requests
 *   need their port listed too).
 * - Fragments are judged by their first fragment (offset 0), which
 *   carries the ports and flags; later ones pass: when the first is
 *   dropped the host cannot reassemble and discards them itself.
 * - A first fragment or unfragmented packet whose TCP header is too short
 *   for the flags (14 bytes), or UDP header too short for the port
 *   (4 bytes), is dropped under the port reason unless that list is
 *   "all".
 */
static inline uint16_t
tg_localfilter_check(const struct tg_localfilter_table *lt, struct rte_mbuf *m)
{
	const struct tg_meta *md = tg_meta(m);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const struct tg_lf_rules *r =
		&lt->rules[md->rx_if < RTE_MAX_ETHPORTS
				   ? lt->rule_of_port[md->rx_if]
				   : 0];
	uint8_t proto = ip->next_proto_id;
	uint16_t dport;
	const uint8_t *l4;

	if (!tg_lf_bit(r->proto, proto))
		return TG_V_DROP(TG_LOCALFILTER_DROP_PROTOCOL);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return TG_V_NEXT;
	if (proto == IPPROTO_TCP ? r->tcp_all : r->udp_all)
		return TG_V_NEXT;
	if (unlikely(tg_be16_to_cpu(ip->fragment_offset) &
		     RTE_IPV4_HDR_OFFSET_MASK)) {
		/* RFC 1858: a TCP fragment at offset 8 bytes overlaps the
		 * first fragment's flags (a judged ACK could be rewritten
		 * into a SYN); no honest sender makes one. */
		if (proto == IPPROTO_TCP &&
			(tg_be16_to_cpu(ip->fragment_offset) &
				RTE_IPV4_HDR_OFFSET_MASK) == 1)
			return TG_V_DROP(TG_LOCALFILTER_DROP_TCP_PORT);
		return TG_V_NEXT;
	}
	l4 = (const uint8_t *)ip + md->l3_len;
	if (proto == IPPROTO_TCP) {
		/* the flags: byte 13 of the TCP header */
		if (rte_pktmbuf_data_len(m) <
			sizeof(struct rte_ether_hdr) + md->l3_len + 14u)
			return TG_V_DROP(TG_LOCALFILTER_DROP_TCP_PORT);
		if ((l4[13] & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
			RTE_TCP_SYN_FLAG)
			return TG_V_NEXT;
		dport = (uint16_t)(l4[2] << 8 | l4[3]);
		return tg_lf_bit(r->tcp, dport)
			       ? TG_V_NEXT
			       : TG_V_DROP(TG_LOCALFILTER_DROP_TCP_PORT);
	}
	/* the destination port: 4 bytes into the UDP header */
	if (rte_pktmbuf_data_len(m) <
		sizeof(struct rte_ether_hdr) + md->l3_len + 4u)
		return TG_V_DROP(TG_LOCALFILTER_DROP_UDP_PORT);
	dport = (uint16_t)(l4[2] << 8 | l4[3]);
	return tg_lf_bit(r->udp, dport)
		       ? TG_V_NEXT
		       : TG_V_DROP(TG_LOCALFILTER_DROP_UDP_PORT);
}

/*
 * Replies to the host's own UDP requests. The seed does not filter "the
 * response ports that are created to accept responses from outbound
 * requests"; tollgate cannot see the kernel's sockets, but it sees what
 * the kernel sends: the UDP source ports of the source path. A datagram
 * to a port the host sent from within the last TG_LF_UDP_REPLY_S seconds
 * is accepted whatever udp_ports says (the time Linux conntrack keeps an
 * unreplied UDP flow). Shared state, not configuration: the host RX side
 * (worker 0) writes, the stage reads; 32-bit relaxed stores and loads.
 */
#define TG_LF_UDP_REPLY_S 30

struct tg_localfilter_ctx {
	uint64_t hz; /**< TSC ticks per second */
	/** Replies accepted by this rule (the stage's lcore writes it). */
	uint64_t udp_replies;
	/** Per UDP port: 1 + the second (TSC / hz) the host last sent from
	 *  it; 0 = never. */
	uint32_t udp_sent[65536];
};

/** Allocate the shared state (zeroed). NULL with rte_errno set. */
struct tg_localfilter_ctx *tg_localfilter_ctx_create(int socket);
void tg_localfilter_ctx_free(struct tg_localfilter_ctx *ctx);

/** A packet the host sent (source path, validated IPv4): note its UDP
 *  source port. @p now: TSC. */
static inline void
tg_localfilter_note_sent(
	struct tg_localfilter_ctx *ctx, struct rte_mbuf *m, uint64_t now)
{
	const struct tg_meta *md = tg_meta(m);
	const struct rte_ipv4_hdr *ip = tg_pkt_ipv4(m);
	const uint8_t *l4;

	if (ip->next_proto_id != IPPROTO_UDP ||
		(tg_be16_to_cpu(ip->fragment_offset) &
			RTE_IPV4_HDR_OFFSET_MASK) ||
		rte_pktmbuf_data_len(m) <
			sizeof(struct rte_ether_hdr) + md->l3_len + 2u)
		return;
	l4 = (const uint8_t *)ip + md->l3_len;
	__atomic_store_n(&ctx->udp_sent[l4[0] << 8 | l4[1]],
		(uint32_t)(now / ctx->hz) + 1, __ATOMIC_RELAXED);
}

/** The stage's burst: target packets (mode in). @p ctx may be NULL (no
 *  reply rule). @p now: TSC. */
void tg_localfilter_burst(const struct tg_localfilter_table *lt,
	struct tg_localfilter_ctx *ctx, struct rte_mbuf **pkts, uint16_t n,
	uint16_t *verdict, uint64_t now);

/** Explain: the burst's verdict for one packet, without counting; *reply
 *  says a UDP datagram refused by its port is let in as a reply. @p ctx
 *  (may be NULL) is only read. Any thread. */
uint16_t tg_localfilter_explain(const struct tg_localfilter_table *lt,
	const struct tg_localfilter_ctx *ctx, struct rte_mbuf *m, uint64_t now,
	bool *reply);

#endif /* TG_LOCALFILTER_H */
