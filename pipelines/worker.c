/* SPDX-License-Identifier: BSD-3-Clause
 * The worker poll loop and the dispatcher: RX validation and path choice,
 * stage bursts, verdicts → next stage ring / TX / counted drop.
 * Hot path: no locks, no allocation, no logging, no syscalls.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "pipeline_priv.h"

static inline void
w_drop(struct tg_worker *w, struct rte_mbuf *m, uint16_t idx)
{
	w->stats.drops[idx]++;
	if (unlikely(tg_obs_on(w)))
		tg_obs_drop(w, m, idx);
	rte_pktmbuf_free(m);
}

static inline void
w_drop_pl(struct tg_worker *w, struct rte_mbuf *m, enum tg_pipeline_drop r)
{
	w_drop(w, m, w->pl->drop_base[TG_OWNER_PIPELINE] + r);
}

static inline void
w_tx_send(struct tg_worker *w, uint16_t port, uint16_t q,
	struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(port, q, pkts, n);

	/* One retry: a NIC that just ran out of descriptors usually frees
	 * some within the same microsecond. */
	if (unlikely(sent < n))
		sent += rte_eth_tx_burst(port, q, pkts + sent, n - sent);
	w->stats.tx += sent;
	while (unlikely(sent < n))
		w_drop_pl(w, pkts[sent++], TG_PIPELINE_DROP_TX_FULL);
}

static void
w_tx_flush(struct tg_worker *w, uint16_t port)
{
	struct tg_pktbuf *b = &w->tx[port];
	uint16_t q = w->txq[port];
	uint16_t sent;

	if (b->n == 0)
		return;
	if (q != TG_TXQ_HANDOFF) {
		w_tx_send(w, port, q, b->pkts, b->n);
	} else {
		sent = rte_ring_enqueue_burst(
			w->pl->tx_handoff[port], (void **)b->pkts, b->n, NULL);
		while (unlikely(sent < b->n))
			w_drop_pl(w, b->pkts[sent++], TG_PIPELINE_DROP_TX_FULL);
	}
	b->n = 0;
}

/* Remember a TX buffer with packets, once per iteration (it may fill and
 * be flushed several times in between). */
static inline void
w_tx_mark(struct tg_worker *w, struct tg_pktbuf *b, uint16_t port)
{
	if (!b->dirty) {
		b->dirty = true;
		w->dirty_tx[w->n_dirty_tx++] = port;
	}
}

/* A few dozen pointers: an inline loop, not a call to libc's memmove. */
static inline void
w_copy_ptrs(struct rte_mbuf **dst, struct rte_mbuf *const *src, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i];
}

/* Append @p n packets to buffer @p b, calling @p flush(w, key) each time
 * it fills up. One copy per burst instead of one store per packet. */
#define W_PUT_BULK(w, b, pkts, n, flush, key)                                  \
	do {                                                                   \
		while ((n) > 0) {                                              \
			uint16_t c_ = RTE_MIN((uint16_t)(n),                   \
				(uint16_t)(TG_BUF_SIZE - (b)->n));             \
			w_copy_ptrs(&(b)->pkts[(b)->n], (pkts), c_);           \
			(b)->n = (uint16_t)((b)->n + c_);                      \
			(pkts) += c_;                                          \
			(n) = (uint16_t)((n)-c_);                              \
			if ((b)->n == TG_BUF_SIZE)                             \
				flush((w), (key));                             \
		}                                                              \
	} while (0)

/* A run of packets for one port (the common case: a whole burst). */
static inline void
w_tx_run(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n, uint16_t port)
{
	struct tg_pktbuf *b;
	uint16_t i;

	if (unlikely(port >= RTE_MAX_ETHPORTS || !w->pl->port_running[port])) {
		for (i = 0; i < n; i++)
			w_drop_pl(w, pkts[i], TG_PIPELINE_DROP_TX_BAD_PORT);
		return;
	}
	if (unlikely(w->pl->port_l3[port]))
		for (i = 0; i < n; i++)
			rte_pktmbuf_adj(pkts[i], sizeof(struct rte_ether_hdr));
	b = &w->tx[port];
	w_tx_mark(w, b, port);
	if (b->n == 0 && n >= w->pl->burst && w->txq[port] != TG_TXQ_HANDOFF) {
		/* A whole burst and nothing waiting: send it from here. */
		w_tx_send(w, port, w->txq[port], pkts, n);
		return;
	}
	W_PUT_BULK(w, b, pkts, n, w_tx_flush, port);
}

/* One packet (mixed bursts, ARP): a run of one. */
static inline void
w_tx(struct tg_worker *w, struct rte_mbuf *m, uint16_t port)
{
	w_tx_run(w, &m, 1, port);
}

/* Packets that all reached TX: split into runs by tx_if. */
static inline void
w_tx_bulk(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i = 0, j, port;

	while (i < n) {
		port = tg_meta(pkts[i])->tx_if;
		for (j = i + 1; j < n && tg_meta(pkts[j])->tx_if == port; j++)
			;
		w_tx_run(w, pkts + i, (uint16_t)(j - i), port);
		i = j;
	}
}

/*
 * The end of the target path: into the host port's queue, in the frame
 * format of its kernel interface (bare IP for tun; for tap a frame
 * addressed to the interface's own MAC, which is what the kernel takes
 * as its own). A full queue drops: never wait for the kernel.
 */
static void
w_host_put(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct tg_pipeline *pl = w->pl;
	unsigned int sent;
	uint16_t i;

	if (unlikely(pl->host_ring == NULL)) {
		for (i = 0; i < n; i++)
			w_drop_pl(w, pkts[i], TG_PIPELINE_DROP_NO_HOST_PORT);
		return;
	}
	for (i = 0; i < n; i++) {
		if (pl->host.l3)
			rte_pktmbuf_adj(pkts[i], sizeof(struct rte_ether_hdr));
		else
			rte_ether_addr_copy(
				&pl->host.mac, &rte_pktmbuf_mtod(pkts[i],
						       struct rte_ether_hdr *)
							->dst_addr);
	}
	sent = rte_ring_enqueue_burst(pl->host_ring, (void **)pkts, n, NULL);
	while (unlikely(sent < n))
		w_drop_pl(w, pkts[sent++], TG_PIPELINE_DROP_HOST_TX_FULL);
}

static inline void
w_stage_send(struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts, uint16_t n)
{
	unsigned int sent = rte_ring_enqueue_burst(
		w->pl->stage_ring[s], (void **)pkts, n, NULL);

	if (likely(sent > 0))
		w->stage_fed |= 1u << s;
	while (unlikely(sent < n))
		w_drop_pl(w, pkts[sent++], TG_PIPELINE_DROP_RING_FULL);
}

static void w_run_direct(
	struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts, uint16_t n);

/*
 * Run to completion: packets for a stage of this worker that has nothing
 * waiting (its buffer and ring empty: nothing is overtaken) run through
 * it now, instead of a ring hop and a later round. Not while a stage's
 * emitted packets wait in w->emit (they are its own, drained after its
 * verdicts), nor deeper than TG_MAX_DEPTH.
 */
static inline bool
w_direct_ok(const struct tg_worker *w, uint8_t s, const struct tg_pktbuf *b)
{
	return (w->local_stages & (1u << s)) && b->n == 0 && w->emit.n == 0 &&
	       w->depth < TG_MAX_DEPTH && rte_ring_empty(w->pl->stage_ring[s]);
}

/* A stage's buffer (packets that came one by one, from mixed bursts):
 * run through the stage now when it can (w_direct_ok), else into its
 * ring. */
static void
w_stage_flush(struct tg_worker *w, uint8_t s)
{
	struct tg_pktbuf *b = &w->to_stage[s];
	uint16_t n = b->n;

	w->stage_pending &= ~(1u << s);
	if (n == 0)
		return;
	/* emptied first: the stage's own output may come back to it */
	b->n = 0;
	if (w_direct_ok(w, s, b))
		w_run_direct(w, s, b->pkts, n);
	else
		w_stage_send(w, s, b->pkts, n);
}

/*
 * The dispatcher: move @p n packets, all at step @p step of @p path (a
 * whole burst, or one packet from w_to_step()), on to the step they
 * continue at, past the stages with nothing to do: into that stage's
 * buffer (or straight into its ring), out of their port (@p one_port: all
 * the same tx_if), or to the host. Decisions and counters are taken once
 * for all of them.
 */
static inline void
w_to_step_bulk(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n,
	uint8_t path, uint8_t step, bool one_port, bool direct)
{
	const struct tg_path_step *st;
	uint16_t i;
	uint8_t to;

	if (unlikely(
		    path >= TG_PATH__COUNT || step >= tg_paths[path].n_steps)) {
		for (i = 0; i < n; i++)
			w_drop_pl(w, pkts[i], TG_PIPELINE_DROP_BAD_VERDICT);
		return;
	}
	to = w->skip_to[path][step];
again:
	if (unlikely(to != step))
		w->stats.skips[path][step][to] += n;
	st = &tg_paths[path].steps[to];
	if (likely(st->stage < TG_STAGE__COUNT)) {
		struct tg_pktbuf *b = &w->to_stage[st->stage];
		uint8_t s = st->stage, pass = w->pass_at[path][to], all = 0xff;

		for (i = 0; i < n; i++) {
			struct tg_meta *md = tg_meta(pkts[i]);

			md->step = to;
			md->mode = st->mode;
			all &= md->flags;
		}
		/* Every one of them has nothing to do there: past it, as
		 * past an idle stage. */
		if (unlikely(pass != 0) && (all & pass) == pass) {
			step = to;
			to = w->skip_to[path][to + 1];
			goto again;
		}
		/* A burst that moves as one runs on at once; packets that
		 * come one by one gather in the buffer first (a stage call
		 * per packet would cost more than the hop). */
		if (direct && w_direct_ok(w, s, b)) {
			w_run_direct(w, s, pkts, n);
			return;
		}
		if (b->n == 0 && n >= w->pl->burst) {
			/* A whole burst and nothing waiting: straight in. */
			w_stage_send(w, s, pkts, n);
			return;
		}
		W_PUT_BULK(w, b, pkts, n, w_stage_flush, s);
		/* Marked after the copy: a flush on the way (the buffer
		 * full) clears the mark, and what was copied after it must
		 * not wait unmarked for the stage's next packet. */
		if (b->n != 0)
			w->stage_pending |= 1u << s;
	} else if (st->stage == TG_STEP_TX) {
		w->stats.path_done[path] += n;
		if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
			tg_trace_end(w, TG_TRACE_TX, pkts, n);
		if (one_port)
			w_tx_run(w, pkts, n, tg_meta(pkts[0])->tx_if);
		else
			w_tx_bulk(w, pkts, n);
	} else {
		/* TG_STEP_HOST */
		w->stats.path_done[path] += n;
		if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
			tg_trace_end(w, TG_TRACE_HOST, pkts, n);
		w_host_put(w, pkts, n);
	}
}

/* Move one packet to the step meta->step of meta->path. */
static inline void
w_to_step(struct tg_worker *w, struct rte_mbuf *m, struct tg_meta *md)
{
	w_to_step_bulk(w, &m, 1, md->path, md->step, true, false);
}

/* path and step of a packet as one value, to compare a burst at once */
static inline uint16_t
w_path_step(struct rte_mbuf *m)
{
	const struct tg_meta *md = tg_meta(m);

	return (uint16_t)(md->path << 8 | md->step);
}

static inline void
w_verdict(struct tg_worker *w, struct rte_mbuf *m, uint16_t v, uint8_t s,
	struct tg_stage_stats *ss)
{
	struct tg_meta *md = tg_meta(m);
	int step;

	if (TG_V_IS_DROP(v)) {
		uint16_t r = TG_V_REASON(v);

		ss->dropped++;
		if (unlikely(r >= tg_stage_ops[s].n_drops))
			w_drop_pl(w, m, TG_PIPELINE_DROP_BAD_VERDICT);
		else
			w_drop(w, m, w->pl->drop_base[TG_OWNER_STAGE0 + s] + r);
		return;
	}
	switch (TG_V_KIND(v)) {
	case TG_V_NEXT:
		md->step++;
		w_to_step(w, m, md);
		break;
	case TG_V_TX:
		ss->tx++;
		/* Straight out (ARP): that ends the packet's path too; a
		 * packet the stage made (an ARP request) also enters it here,
		 * so that every path's entered and completed add up. */
		if (likely(md->path < TG_PATH__COUNT)) {
			if (md->flags & TG_META_F_GENERATED)
				w->stats.path_rx[md->path]++;
			w->stats.path_done[md->path]++;
		}
		if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
			tg_trace_end(w, TG_TRACE_TX, &m, 1);
		w_tx(w, m, md->tx_if);
		break;
	case TG_V_STOLEN:
		ss->stolen++;
		break;
	case TG_V_GOTO_BASE:
		ss->jumped++;
		step = tg_goto_step(w->pl, md->path, v);
		if (unlikely(step < 0)) {
			w_drop_pl(w, m, TG_PIPELINE_DROP_BAD_VERDICT);
			break;
		}
		md->step = (uint8_t)step;
		/* Generated packets and path switches enter a path here. */
		w->stats.path_rx[md->path]++;
		w_to_step(w, m, md);
		break;
	default:
		w_drop_pl(w, m, TG_PIPELINE_DROP_BAD_VERDICT);
	}
}

static inline void
w_drain_emit(struct tg_worker *w, uint8_t s, struct tg_stage_stats *ss)
{
	struct tg_emit *e = &w->emit;
	uint16_t i;

	ss->emitted += e->n;
	w->stats.generated += e->generated;
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_steps(w, TG_TRACE_EMIT, s, e->pkts, e->verdict, e->n);
	for (i = 0; i < e->n; i++)
		w_verdict(w, e->pkts[i], e->verdict[i], s, ss);
	e->n = 0;
	e->generated = 0;
}

static inline void
w_flush_stages(struct tg_worker *w)
{
	while (w->stage_pending)
		w_stage_flush(w, (uint8_t)rte_bsf32(w->stage_pending));
}

/*
 * Bare-IP ports (net_tun) get an Ethernet header in front of each packet,
 * so every stage sees one frame format; TX takes it off again. The
 * ethertype follows the IP version nibble (IPv6 is then dropped as an
 * unsupported ethertype, like on Ethernet ports).
 */
static void
w_rx_l3_to_eth(struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint8_t ver = rte_pktmbuf_data_len(m)
				      ? *rte_pktmbuf_mtod(m, uint8_t *) >> 4
				      : 0;
		struct rte_ether_hdr *eth =
			(struct rte_ether_hdr *)rte_pktmbuf_prepend(
				m, sizeof(*eth));

		/* No headroom: leave it; validation drops it as too short
		 * or as an unknown ethertype. */
		if (eth == NULL)
			continue;
		memset(eth, 0, sizeof(*eth));
		/* Whatever the driver guessed about a checksum, it guessed on
		 * the wrong header: verify in software. */
		m->ol_flags &= ~RTE_MBUF_F_RX_IP_CKSUM_MASK;
		eth->ether_type =
			rte_cpu_to_be_16(ver == 4   ? RTE_ETHER_TYPE_IPV4
					 : ver == 6 ? RTE_ETHER_TYPE_IPV6
						    : 0);
	}
}

static void
w_rx(struct tg_worker *w, const struct tg_tables *t, struct rte_mbuf **pkts,
	uint16_t n, uint16_t port)
{
	uint16_t *verdict = w->verdict;
	uint16_t pkt_base = w->pl->drop_base[TG_OWNER_PKT];
	uint64_t t0 = rte_rdtsc(), direct0 = w->direct_cycles;
	uint32_t seen;
	uint16_t i;
	uint8_t path0;

	if (unlikely(w->pl->port_l3[port]))
		w_rx_l3_to_eth(pkts, n);
	/* Validation also decides the path, once (ARCHITECTURE.md section
	 * 2): our addresses take the target path, the rest transit. */
	seen = tg_pkt_rx_burst(pkts, n, port, &t->forward->local, verdict);
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_mark(w, pkts, n, verdict);
	if (likely(seen != 0 && rte_is_power_of_2(seen) &&
		    seen != TG_PKT_RX_DROPPED)) {
		/* All valid, all on one path: the burst moves as one. */
		path0 = (uint8_t)rte_bsf32(seen);
		w->stats.path_rx[path0] += n;
		w_to_step_bulk(w, pkts, n, path0, 0, false, true);
	} else {
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = pkts[i];
			struct tg_meta *md = tg_meta(m);

			if (verdict[i] != TG_V_NEXT) {
				w_drop(w, m,
					pkt_base + TG_V_REASON(verdict[i]));
				continue;
			}
			w->stats.path_rx[md->path]++;
			w_to_step(w, m, md);
		}
	}
	/* the stages that ran to completion from here counted their own */
	w->stats.rx_cycles += rte_rdtsc() - t0 - (w->direct_cycles - direct0);
	w_flush_stages(w);
}

/*
 * What the kernel wrote into the host port: locally originated packets,
 * validated like any others and sent down the source path. The kernel
 * has no business sending ARP there (the interface is NOARP or bare IP).
 */
static void
w_rx_host(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	struct tg_pipeline *pl = w->pl;
	uint16_t *verdict = w->verdict;
	uint16_t pkt_base = pl->drop_base[TG_OWNER_PKT];
	struct tg_localfilter_ctx *lf = pl->stage_ctx[TG_STAGE_LOCALFILTER];
	uint64_t t0 = rte_rdtsc(), now = t0, direct0 = w->direct_cycles;
	uint16_t i, k = 0;

	if (pl->host.l3)
		w_rx_l3_to_eth(pkts, n);
	/* No local set: every valid IPv4 packet comes back as transit,
	 * and is the source path's. */
	tg_pkt_rx_burst(pkts, n, pl->host.port_id, NULL, verdict);
	for (i = 0; i < n; i++)
		if (verdict[i] == TG_V_NEXT &&
			tg_meta(pkts[i])->path == TG_PATH_TRANSIT)
			tg_meta(pkts[i])->path = TG_PATH_SOURCE;
	/* all of them: what the host sent and RX refused is traced too */
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_mark(w, pkts, n, verdict);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tg_meta *md = tg_meta(m);

		if (verdict[i] != TG_V_NEXT)
			w_drop(w, m, pkt_base + TG_V_REASON(verdict[i]));
		else if (md->path != TG_PATH_SOURCE)
			w_drop_pl(w, m, TG_PIPELINE_DROP_HOST_NOT_IPV4);
		else {
			if (lf != NULL)
				tg_localfilter_note_sent(lf, m, now);
			pkts[k++] = m;
		}
	}
	if (k > 0) {
		w->stats.path_rx[TG_PATH_SOURCE] += k;
		w_to_step_bulk(w, pkts, k, TG_PATH_SOURCE, 0, false, true);
	}
	w->stats.rx_cycles += rte_rdtsc() - t0 - (w->direct_cycles - direct0);
	w_flush_stages(w);
}

/* What the host thread took from the kernel: through a ring, so that no
 * worker ever makes the read() and write() calls of a tun/tap device. */
static uint16_t
w_host_rx(struct tg_worker *w)
{
	unsigned int n = rte_ring_dequeue_burst(w->pl->host_rx_ring,
		(void **)w->burst_pkts, w->pl->burst, NULL);

	if (n > 0)
		w_rx_host(w, w->burst_pkts, (uint16_t)n);
	return (uint16_t)n;
}

/*
 * The host thread (pipeline.c starts it on a control core): the only
 * code that touches the host port. It writes what the workers queued for
 * the kernel and queues what the kernel sent for worker 0. Each packet is
 * a system call, so it runs beside the workers, never on them.
 */
uint32_t
tg_pipeline_host_poll(struct tg_pipeline *pl)
{
	struct tg_lcore_stats *st = &pl->host_io->stats;
	uint16_t base = pl->drop_base[TG_OWNER_PIPELINE];
	struct rte_mbuf *pkts[TG_BURST_MAX];
	unsigned int n, sent;

	n = rte_ring_dequeue_burst(
		pl->host_ring, (void **)pkts, pl->burst, NULL);
	if (n > 0) {
		sent = rte_eth_tx_burst(pl->host.port_id, 0, pkts, (uint16_t)n);
		st->host += sent;
		for (; sent < n; sent++) {
			st->drops[base + TG_PIPELINE_DROP_HOST_REFUSED]++;
			if (unlikely(__atomic_load_n(
					     &pl->obs.on, __ATOMIC_RELAXED) &
				     TG_OBS_CAPTURE))
				tg_capture_drop(pl, pkts[sent],
					base + TG_PIPELINE_DROP_HOST_REFUSED);
			rte_pktmbuf_free(pkts[sent]);
		}
	}
	sent = rte_eth_rx_burst(pl->host.port_id, 0, pkts, pl->burst);
	if (sent > 0) {
		unsigned int q;

		st->rx += sent;
		st->host_rx += sent;
		q = rte_ring_enqueue_burst(
			pl->host_rx_ring, (void **)pkts, sent, NULL);
		for (; q < sent; q++) {
			st->drops[base + TG_PIPELINE_DROP_HOST_RX_FULL]++;
			/* not validated yet: its meta says nothing */
			if (unlikely(__atomic_load_n(
					     &pl->obs.on, __ATOMIC_RELAXED) &
				     TG_OBS_CAPTURE)) {
				tg_meta(pkts[q])->rx_if = pl->host.port_id;
				tg_meta(pkts[q])->tx_if = TG_IF_NONE;
				tg_meta(pkts[q])->path = TG_PATH_SOURCE;
				tg_meta(pkts[q])->step = 0;
				tg_capture_drop(pl, pkts[q],
					base + TG_PIPELINE_DROP_HOST_RX_FULL);
			}
			rte_pktmbuf_free(pkts[q]);
		}
	}
	return n + sent;
}

/* Every verdict TG_V_NEXT and every packet at the same step of the same
 * path: the burst moves on as one (w_to_step_bulk). *one_port: and all
 * of them for the same tx interface. */
static inline bool
w_burst_uniform(struct rte_mbuf **pkts, const uint16_t *verdict, uint16_t n,
	bool *one_port)
{
	const struct tg_meta *md0 = tg_meta(pkts[0]);
	uint16_t any = 0, ps0 = w_path_step(pkts[0]), tx0 = md0->tx_if;
	uint16_t ports = 0, i;

	for (i = 0; i < n; i++)
		any |= verdict[i];
	if (any != TG_V_NEXT)
		return false;
	for (i = 1; i < n; i++) {
		any |= w_path_step(pkts[i]) ^ ps0;
		ports |= tg_meta(pkts[i])->tx_if ^ tx0;
	}
	*one_port = ports == 0;
	return any == 0;
}

/*
 * A whole burst switching to the same step of the same path (ipsec's
 * tunnel output, its decrypted packets for hosts behind the appliance):
 * one decision and one hand-off for all, as for a uniform TG_V_NEXT.
 * Returns false (nothing done) when the burst is not like that.
 */
static inline bool
w_goto_bulk(struct tg_worker *w, struct rte_mbuf **pkts,
	const uint16_t *verdict, uint16_t n, struct tg_stage_stats *ss)
{
	uint16_t v = verdict[0], i;
	uint8_t path = tg_meta(pkts[0])->path;
	int step;

	if (TG_V_KIND(v) != TG_V_GOTO_BASE || path >= TG_PATH__COUNT)
		return false;
	for (i = 1; i < n; i++)
		if (verdict[i] != v || tg_meta(pkts[i])->path != path)
			return false;
	step = tg_goto_step(w->pl, path, v);
	if (step < 0)
		return false; /* w_verdict counts the bad verdict */
	ss->jumped += n;
	w->stats.path_rx[path] += n;
	w_to_step_bulk(w, pkts, n, path, (uint8_t)step, false, true);
	return true;
}

/* The verdicts of a stage's burst: on to the next steps, in bulk when the
 * burst moves as one. */
static inline void
w_dispatch(struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts,
	const uint16_t *verdict, uint16_t n)
{
	struct tg_stage_stats *ss = &w->stats.stage[s];
	bool one_port;
	uint16_t i;

	if (likely(w_burst_uniform(pkts, verdict, n, &one_port)))
		w_to_step_bulk(w, pkts, n, tg_meta(pkts[0])->path,
			(uint8_t)(tg_meta(pkts[0])->step + 1), one_port, true);
	else if (!w_goto_bulk(w, pkts, verdict, n, ss))
		for (i = 0; i < n; i++)
			w_verdict(w, pkts[i], verdict[i], s, ss);
	if (w->emit.n)
		w_drain_emit(w, s, ss);
}

/* Stage @p s on @p pkts now, inside the dispatch that handed them on
 * (w_direct_ok): the same accounting as a burst from its ring. */
static void
w_run_direct(struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts, uint16_t n)
{
	const struct tg_stage_ops *ops = &tg_stage_ops[s];
	struct tg_stage_stats *ss = &w->stats.stage[s];
	uint16_t verdict[TG_BUF_SIZE > TG_BURST_MAX ? TG_BUF_SIZE
						    : TG_BURST_MAX];
	struct rte_mbuf *mine[RTE_DIM(verdict)];
	uint64_t t0 = rte_rdtsc(), t1;
	uint16_t done, c, i;

	w->depth++;
	/* in chunks of a burst; the caller's array stays the caller's */
	for (done = 0; done < n; done += c) {
		c = RTE_MIN((uint16_t)(n - done), (uint16_t)RTE_DIM(verdict));
		for (i = 0; i < c; i++)
			mine[i] = pkts[done + i];
		if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
			tg_trace_pre(w, s, mine, c);
		t1 = rte_rdtsc();
		ops->burst(w->t, w->pl->stage_ctx[s], mine, c, verdict,
			&w->emit, w->now);
		ss->cycles += rte_rdtsc() - t1;
		ss->bursts++;
		ss->in += c;
		if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
			tg_trace_steps(w, TG_TRACE_STAGE, s, mine, verdict, c);
		w_dispatch(w, s, mine, verdict, c);
	}
	if (--w->depth == 0)
		w->direct_cycles += rte_rdtsc() - t0;
}

static uint32_t
w_run_stage(
	struct tg_worker *w, const struct tg_tables *t, uint8_t s, uint64_t now)
{
	const struct tg_stage_ops *ops = &tg_stage_ops[s];
	struct tg_stage_stats *ss = &w->stats.stage[s];
	void *ctx = w->pl->stage_ctx[s];
	struct rte_mbuf **pkts = w->burst_pkts;
	uint16_t *verdict = w->verdict;
	uint64_t t0;
	uint16_t n;

	n = (uint16_t)rte_ring_dequeue_burst(
		w->pl->stage_ring[s], (void **)pkts, w->pl->burst, NULL);
	if (n == 0)
		return 0;
	/* A full burst may have left more behind: poll again next round. */
	if (n == w->pl->burst)
		w->stage_fed |= 1u << s;
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_pre(w, s, pkts, n);
	t0 = rte_rdtsc();
	ops->burst(t, ctx, pkts, n, verdict, &w->emit, now);
	ss->cycles += rte_rdtsc() - t0;
	ss->bursts++;
	ss->in += n;
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_steps(w, TG_TRACE_STAGE, s, pkts, verdict, n);
	/* Stages run directly from here count their own time (depth > 0:
	 * not taken off RX's). */
	w->depth++;
	w_dispatch(w, s, pkts, verdict, n);
	w->depth--;
	/* Hand the output on now, so a stage later in this iteration's
	 * order sees it without waiting for the next iteration. */
	w_flush_stages(w);
	return n;
}

/* Another snapshot: recompute where each step of each path continues.
 * Paths end in TX or HOST, never skipped. */
static void
w_set_active(struct tg_worker *w, const struct tg_tables *t)
{
	uint8_t p, s, k;

	w->active_stages = t->active_stages;
	w->tables_gen = t->generation;
	for (p = 0; p < TG_PATH__COUNT; p++) {
		const struct tg_path_def *d = &tg_paths[p];

		for (s = 0; s < TG_PATH_MAX_STEPS; s++) {
			k = s;
			while (k < d->n_steps &&
				d->steps[k].stage < TG_STAGE__COUNT &&
				!tg_step_active(t, &d->steps[k]))
				k++;
			w->skip_to[p][s] = s < d->n_steps ? k : s;
			w->pass_at[p][s] =
				s < d->n_steps &&
						d->steps[s].stage <
							TG_STAGE__COUNT &&
						d->steps[s].mode == TG_MODE_OUT
					? t->stage_pass_out[d->steps[s].stage]
					: 0;
		}
	}
}

/* Timers of the stages placed here: once per iteration. */
static void
w_tick(struct tg_worker *w, const struct tg_tables *t, uint64_t now)
{
	uint16_t i;

	for (i = 0; i < w->n_stages; i++) {
		uint8_t s = w->stages[i];

		const struct tg_stage_ops *ops = &tg_stage_ops[s];
		uint64_t t0 = 0;

		if (ops->tick == NULL)
			continue;
		/* Two TSC reads per iteration only where the tick does the
		 * stage's real work (ipsec's completions). */
		if (ops->tick_timed)
			t0 = rte_rdtsc();
		ops->tick(t, w->pl->stage_ctx[s], now, &w->emit);
		if (w->emit.n) {
			if (ops->tick_timed)
				w->stats.stage[s].tick_cycles +=
					rte_rdtsc() - t0;
			w_drain_emit(w, s, &w->stats.stage[s]);
		}
	}
	w_flush_stages(w);
}

/*
 * Back-pressure: take no more from the ports while any stage ring is
 * short of room for what one poll could bring. The NIC then holds (or
 * drops and counts, rx_missed) what the pipeline cannot take, instead of
 * the pipeline dropping packets it already paid to receive.
 */
static inline bool
w_rx_room(const struct tg_worker *w)
{
	const struct tg_pipeline *pl = w->pl;
	unsigned int need = (unsigned int)pl->burst * 2;
	uint8_t s;

	for (s = 0; s < TG_STAGE__COUNT; s++)
		if (rte_ring_free_count(pl->stage_ring[s]) < need)
			return false;
	return true;
}

static void
w_drain_handoff(struct tg_worker *w)
{
	struct tg_pipeline *pl = w->pl;
	struct rte_mbuf **pkts = w->burst_pkts;
	uint16_t p;

	for (p = 0; p < pl->n_ports; p++) {
		uint16_t port = pl->ports[p].port_id;
		unsigned int n;
		uint16_t sent;

		if (pl->tx_handoff[port] == NULL)
			continue;
		n = rte_ring_dequeue_burst(
			pl->tx_handoff[port], (void **)pkts, pl->burst, NULL);
		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(port, 0, pkts, (uint16_t)n);
		w->stats.tx += sent;
		while (sent < n)
			w_drop_pl(w, pkts[sent++], TG_PIPELINE_DROP_TX_FULL);
	}
}

static inline void
w_flush_tx(struct tg_worker *w)
{
	uint16_t i;

	for (i = 0; i < w->n_dirty_tx; i++) {
		w_tx_flush(w, w->dirty_tx[i]);
		w->tx[w->dirty_tx[i]].dirty = false;
	}
	w->n_dirty_tx = 0;
}

uint32_t
tg_pipeline_poll_once(struct tg_pipeline *pl, uint16_t idx)
{
	struct tg_worker *w = pl->workers[idx];
	const struct tg_tables *t = tg_snapshot_get(pl->slot);
	uint64_t now = rte_rdtsc();
	uint32_t handled = 0, poll;
	uint16_t i, n, r;

	if (unlikely(w->tables_gen != t->generation))
		w_set_active(w, t);
	if (unlikely(tg_obs_on(w) & TG_OBS_TRACE))
		tg_trace_poll(w);
	w->t = t;
	w->now = now;
	w_tick(w, t, now);
	if (likely(w_rx_room(w))) {
		for (i = 0; i < w->n_rxq; i++) {
			n = rte_eth_rx_burst(w->rxq[i].port, w->rxq[i].queue,
				w->burst_pkts, pl->burst);
			if (n == 0)
				continue;
			w->stats.rx += n;
			handled += n;
			w_rx(w, t, w->burst_pkts, n, w->rxq[i].port);
		}
		if (w->host_owner)
			handled += w_host_rx(w);
	} else {
		w->stats.rx_backpressure++;
	}
	/* Rounds over the local stages until their rings are empty (bounded
	 * so that RX and TX are served): a packet whose stages all run here
	 * crosses its whole path in one iteration. */
	/* The first round polls the active stages placed here, and every
	 * 8th iteration the others too: only packets from before a snapshot
	 * switch can wait there. Later rounds poll only the rings this
	 * worker fed in the round before; what other workers feed is taken
	 * next iteration. */
	poll = w->local_stages &
	       (w->active_stages |
		       ((w->stats.iterations & 7) == 0 ? UINT32_MAX : 0));
	w->stage_fed = 0;
	for (r = 0; r < TG_MAX_ROUNDS && poll != 0; r++) {
		uint32_t done = 0;

		for (i = 0; i < w->n_stages; i++)
			if (poll & (1u << w->stages[i]))
				done += w_run_stage(w, t, w->stages[i], now);
		handled += done;
		if (done == 0)
			break;
		poll = w->local_stages & w->stage_fed;
		w->stage_fed = 0;
	}
	if (w->drains_handoff)
		w_drain_handoff(w);
	w_flush_tx(w);
	w->stats.iterations++;
	if (handled)
		w->stats.busy_iterations++;
	return handled;
}

uint32_t
tg_pipeline_idle_us(struct tg_pipeline *pl, uint16_t idx, uint32_t handled)
{
	struct tg_worker *w = pl->workers[idx];
	const struct tg_tables *t;
	uint32_t us;

	if (likely(handled != 0)) {
		w->idle_polls = 0;
		return 0;
	}
	if (w->idle_polls < TG_IDLE_POLLS) {
		w->idle_polls++;
		return 0;
	}
	/* Operations in the crypto device are work under way: their
	 * completions are polled for, nothing wakes a sleeping worker. */
	if ((w->local_stages & (1u << TG_STAGE_IPSEC)) &&
		tg_ipsec_inflight(pl->stage_ctx[TG_STAGE_IPSEC]) != 0)
		return 0;
	t = tg_snapshot_get(pl->slot);
	us = t->cfg != NULL ? t->cfg->pipeline.idle_sleep_us : 0;
	if (us != 0)
		w->stats.idle_sleeps++;
	return us;
}

int
tg_pipeline_worker_main(void *arg)
{
	struct tg_worker *w = arg;
	struct tg_pipeline *pl = w->pl;
	struct rte_rcu_qsbr *qsv = pl->slot->qsv;
	uint32_t us;

	rte_rcu_qsbr_thread_register(qsv, w->lcore);
	rte_rcu_qsbr_thread_online(qsv, w->lcore);
	while (!__atomic_load_n(&pl->stop, __ATOMIC_RELAXED)) {
		us = tg_pipeline_idle_us(
			pl, w->idx, tg_pipeline_poll_once(pl, w->idx));
		/* Done with this iteration's snapshot pointer. */
		rte_rcu_qsbr_quiescent(qsv, w->lcore);
		if (unlikely(us != 0)) {
			/* Offline while asleep: a reload need not wait for
			 * the sleep to end. */
			rte_rcu_qsbr_thread_offline(qsv, w->lcore);
			rte_delay_us_sleep(us);
			rte_rcu_qsbr_thread_online(qsv, w->lcore);
		}
	}
	rte_rcu_qsbr_thread_offline(qsv, w->lcore);
	rte_rcu_qsbr_thread_unregister(qsv, w->lcore);
	return 0;
}
