/* SPDX-License-Identifier: BSD-3-Clause
 * Per-packet state carried in the mbuf private area, and the verdict
 * encoding every stage returns. This is the only way stages talk to each
 * other (ARCHITECTURE.md section 3).
 */
#ifndef TG_META_H
#define TG_META_H

#include <stdint.h>
#include <rte_mbuf.h>

/** The paths of ARCHITECTURE.md section 2, plus ARP (not IP: it only
 *  visits forward, which owns the neighbor cache). */
enum tg_path {
	TG_PATH_SOURCE = 0, /**< sent by the local host (or generated) */
	TG_PATH_TARGET,	 /**< addressed to one of the appliance's addresses */
	TG_PATH_TRANSIT, /**< forwarded */
	TG_PATH_ARP,	 /**< ARP frames, answered/learned by forward */
	/** ESP or AH that a tunnel-mode SA made: routed to the tunnel's far
	 *  end (the seed has ipsec last before TX; this is that step's
	 *  routing, not another pass through the filters) */
	TG_PATH_TUNNEL,
	/** The same, when ipsec(out) found the tunnel's next hop ready (the
	 *  route resolved with the table, the neighbor in forward's cache):
	 *  it writes the Ethernet header and the packet goes straight to TX.
	 *  Everything else (ARP to do, a stale neighbor) takes "tunnel". */
	TG_PATH_TUNNEL_DIRECT,
	TG_PATH__COUNT
};

/** The components: one stage, one input ring each. */
enum tg_stage {
	TG_STAGE_FORWARD = 0,
	TG_STAGE_FILTER,
	TG_STAGE_NATFW,
	TG_STAGE_IPSEC,
	TG_STAGE_LOCALFILTER,
	TG_STAGE__COUNT,
	TG_STAGE_NONE = 0xff
};

/** What a stage does to a packet at one step of a path. The dispatcher
 *  copies the step's mode into tg_meta.mode before the packet reaches the
 *  stage, so components never look at the path table. */
enum tg_mode {
	TG_MODE_NONE = 0,
	TG_MODE_IN,	 /**< inbound: judged by the receive interface */
	TG_MODE_OUT,	 /**< outbound / locally sent: by the next-hop if */
	TG_MODE_TRANSIT, /**< transit: forward decrements TTL, natfw NATs */
	TG_MODE_ARP,	 /**< forward: ARP input */
};

#define TG_META_F_IPSEC_BYPASS (1u << 0) /**< authenticated IPsec bypass */
#define TG_META_F_NAT	       (1u << 1) /**< translated by natfw */
#define TG_META_F_TRACE	       (1u << 2) /**< trace this packet */
#define TG_META_F_GENERATED    (1u << 3) /**< made by the appliance */
/** Decrypted (or verified) by ipsec(in): the transit path's check for
 *  unprotected packets lets it pass. */
#define TG_META_F_IPSEC_IN (1u << 4)
/** A traced packet that went to TX or the host: a later TX drop is still
 *  recorded, but it no longer counts as on its way (pipelines/trace.c). */
#define TG_META_F_TRACE_END (1u << 5)

/** Interfaces are identified by DPDK port id: ports cannot change at run
 *  time, so the id stays valid across snapshots (interface *settings*
 *  live in the snapshot, indexed by port id). */
#define TG_IF_NONE UINT16_MAX

struct tg_meta {
	uint8_t path;	 /**< enum tg_path */
	uint8_t step;	 /**< index into the path's step list */
	uint8_t mode;	 /**< enum tg_mode of the current step */
	uint8_t flags;	 /**< TG_META_F_* */
	uint16_t rx_if;	 /**< receiving port id, TG_IF_NONE if generated */
	uint16_t tx_if;	 /**< next-hop port id, set by forward */
	/** next-hop IPv4 address, host byte order. ipsec(in), before
	 *  forward, keeps an ESP/AH packet's sequence number here while it
	 *  is in the crypto device. */
	uint32_t nh_ip;
	uint16_t l3_len; /**< IPv4 header length in bytes (IHL * 4) */
	/** scratch of the stage holding the packet (ipsec: its place in
	 *  the burst while CPU crypto reorders them) */
	uint16_t scratch;
};

/** Private area size to give rte_pktmbuf_pool_create(). A whole cache
 *  line rather than sizeof(struct tg_meta): the packet data then starts
 *  on a line boundary (mbuf + priv + headroom = 128 + 64 + 128), so the
 *  headers of a small frame sit in one line instead of two. */
#define TG_MBUF_PRIV_SIZE RTE_CACHE_LINE_SIZE

static inline struct tg_meta *
tg_meta(struct rte_mbuf *m)
{
	return (struct tg_meta *)rte_mbuf_to_priv(m);
}

/** The trace id of a packet with TG_META_F_TRACE (pipelines/tg_trace.h),
 *  next to the meta in the same line: the meta stays one 16-byte store
 *  at RX, and only marked packets have this written (and read). Three
 *  more 16-bit words follow it for the trace (pipelines/trace.c). */
static inline uint16_t *
tg_meta_trace_id(struct rte_mbuf *m)
{
	return (uint16_t *)((uint8_t *)rte_mbuf_to_priv(m) +
			    sizeof(struct tg_meta));
}

/*
 * Verdicts. A stage writes one per packet of its input burst:
 *  - TG_V_NEXT      continue with the next step of meta->path;
 *  - TG_V_TX        transmit now on meta->tx_if, skipping the rest of the
 *                   path (ARP replies and requests: they are not IP);
 *  - TG_V_STOLEN    the stage keeps the packet (waiting for ARP, crypto)
 *                   and will emit it later (struct tg_emit);
 *  - TG_V_GOTO(s)   path switch: the stage has set meta->path; continue at
 *                   stage s's first step in that path (TG_STAGE_NONE: at
 *                   the start of the path). Counted by the dispatcher.
 *  - TG_V_DROP(r)   free the packet and count it under the stage's drop
 *                   reason r (the stage's own X-macro index).
 */
#define TG_V_NEXT      0x0000u
#define TG_V_TX	       0x1000u
#define TG_V_STOLEN    0x2000u
#define TG_V_GOTO_BASE 0x3000u
#define TG_V_GOTO(s)   ((uint16_t)(TG_V_GOTO_BASE | ((s)&0xff)))
#define TG_V_DROP_BASE 0x8000u
#define TG_V_DROP(r)   ((uint16_t)(TG_V_DROP_BASE | ((r)&0x7fff)))

#define TG_V_KIND(v)	   ((v)&0xf000u)
#define TG_V_IS_DROP(v)	   (((v)&TG_V_DROP_BASE) != 0)
#define TG_V_REASON(v)	   ((uint16_t)((v)&0x7fffu))
#define TG_V_GOTO_STAGE(v) ((uint8_t)((v)&0xffu))

/** Maximum packets a stage may emit in one call (burst or tick). */
#define TG_EMIT_MAX 512

/**
 * Packets a stage releases or creates outside its input burst: packets it
 * held (ARP resolved, crypto done), ARP requests, ICMP errors. Each carries
 * its own verdict; the dispatcher handles them exactly like burst output.
 * Owned by the calling lcore's pipeline; stages only push.
 */
struct tg_emit {
	uint16_t n;
	uint16_t generated; /**< how many of them the stage created */
	uint16_t verdict[TG_EMIT_MAX];
	struct rte_mbuf *pkts[TG_EMIT_MAX];
};

static inline uint16_t
tg_emit_room(const struct tg_emit *e)
{
	return (uint16_t)(TG_EMIT_MAX - e->n);
}

/** Push a packet the stage held. Returns 0, or -ENOSPC (caller keeps it). */
static inline int
tg_emit_push(struct tg_emit *e, struct rte_mbuf *m, uint16_t verdict)
{
	if (e->n >= TG_EMIT_MAX)
		return -ENOSPC;
	e->pkts[e->n] = m;
	e->verdict[e->n] = verdict;
	e->n++;
	return 0;
}

/** Push a packet the stage created (ARP request, ICMP error): counted as
 *  "generated" so that rx + generated = tx + host + drops + in flight. */
static inline int
tg_emit_push_new(struct tg_emit *e, struct rte_mbuf *m, uint16_t verdict)
{
	int rc = tg_emit_push(e, m, verdict);

	if (rc == 0)
		e->generated++;
	return rc;
}

#endif /* TG_META_H */
