/* SPDX-License-Identifier: BSD-3-Clause
 * bench/ipsec_floor: a case's packets and SAs, a burst, and the calls
 * measured (ipsec_floor_calls.c); the harness is ipsec_floor.c.
 */
#ifndef TG_IPSEC_FLOOR_H
#define TG_IPSEC_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "tg_ipsec.h"

#define TG_FLOOR_BURST	   32
#define TG_FLOOR_FRAME_MAX 1600
/* The ESP frame: Ethernet, outer IPv4, ESP header (SPI, sequence
 * number: the AAD of RFC 4106 without ESN), 8-byte IV, the ciphertext
 * (inner packet + padding + pad length + next header), 16-byte ICV. */
#define TG_FLOOR_ESP_HDR (RTE_ETHER_HDR_LEN + 20)
#define TG_FLOOR_ESP_CT	 (TG_FLOOR_ESP_HDR + 8 + 8)
#define TG_FLOOR_ICV	 16

enum tg_floor_mode {
	TG_FLOOR_CIPHER,
	TG_FLOOR_CPU,
	TG_FLOOR_LOOKASIDE,
	TG_FLOOR_REF,
	TG_FLOOR__COUNT
};

/* One case: N SAs, one direction, one frame size. */
struct tg_floor_case {
	unsigned int n;
	bool decrypt;
	struct tg_ipsec_ctx *cpu, *lk;
	/* CPU crypto context: outbound (they also make the ESP input),
	 * inbound (decrypt only); lookaside context: the op's direction. */
	struct tg_ipsec_sa **out, **in, **lk_sa;
	uint8_t (*salt)[4];
	uint8_t clear[TG_FLOOR_FRAME_MAX]; /* the cleartext frame */
	uint16_t clen, ip_len, ct_len;
	uint8_t *esp; /* N ESP frames (SA i's at i * stride) */
	size_t stride;
	uint16_t elen;
	/* SA 0's ESP frame before the cipher (the payload in clear): what
	 * (a) encrypts; the SA's bytes in it do not change the cost. */
	uint8_t pre[TG_FLOOR_FRAME_MAX];
	struct rte_mbuf *m[TG_FLOOR_BURST];
	/* ref: one session of crypto-perf's kind (CPU crypto context's
	 * device, its queue pair) and the buffer length, the frame size */
	void *ref_sess;
	uint16_t ref_len;
};

/* A burst as the stage hands it over: packets, runs of one SA. */
struct tg_floor_burst {
	struct rte_mbuf *pk[TG_FLOOR_BURST];
	uint16_t start[TG_FLOOR_BURST + 1];
	unsigned int sa[TG_FLOOR_BURST];
	unsigned int nruns;
};

/* Put @p len bytes of @p b back into @p m as the stage gets it: the frame
 * from its Ethernet header, l2_len and l3_len set, no flags. */
static inline void
tg_floor_restore(struct rte_mbuf *m, const uint8_t *b, uint16_t len)
{
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = len;
	m->pkt_len = len;
	m->ol_flags = 0;
	m->tx_offload = RTE_ETHER_HDR_LEN | (uint64_t)20 << 7;
	rte_memcpy(rte_pktmbuf_mtod(m, void *), b, len);
}

/* One burst of each mode: how many packets came back good. */
extern unsigned int (*const tg_floor_fn[TG_FLOOR__COUNT])(
	struct tg_floor_case *, struct tg_floor_burst *);

#endif /* TG_IPSEC_FLOOR_H */
