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
	rte_pktmbuf_free(m);
}

static inline void
w_drop_pl(struct tg_worker *w, struct rte_mbuf *m, enum tg_pipeline_drop r)
{
	w_drop(w, m, w->pl->drop_base[TG_OWNER_PIPELINE] + r);
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
		sent = rte_eth_tx_burst(port, q, b->pkts, b->n);
		/* One retry: a NIC that just ran out of descriptors usually
		 * frees some within the same microsecond. */
		if (unlikely(sent < b->n))
			sent += rte_eth_tx_burst(
				port, q, b->pkts + sent, b->n - sent);
		w->stats.tx += sent;
		while (unlikely(sent < b->n))
			w_drop_pl(w, b->pkts[sent++], TG_PIPELINE_DROP_TX_FULL);
	} else {
		sent = rte_ring_enqueue_burst(
			w->pl->tx_handoff[port], (void **)b->pkts, b->n, NULL);
		while (unlikely(sent < b->n))
			w_drop_pl(w, b->pkts[sent++], TG_PIPELINE_DROP_TX_FULL);
	}
	b->n = 0;
}

static inline void
w_tx(struct tg_worker *w, struct rte_mbuf *m, uint16_t port)
{
	struct tg_pktbuf *b;

	if (unlikely(port >= RTE_MAX_ETHPORTS || !w->pl->port_running[port])) {
		w_drop_pl(w, m, TG_PIPELINE_DROP_TX_BAD_PORT);
		return;
	}
	if (unlikely(w->pl->port_l3[port]))
		rte_pktmbuf_adj(m, sizeof(struct rte_ether_hdr));
	b = &w->tx[port];
	if (b->n == 0)
		w->dirty_tx[w->n_dirty_tx++] = port;
	b->pkts[b->n++] = m;
	if (unlikely(b->n == TG_BUF_SIZE))
		w_tx_flush(w, port);
}

static void
w_stage_flush(struct tg_worker *w, uint8_t s)
{
	struct tg_pktbuf *b = &w->to_stage[s];
	unsigned int sent;

	if (b->n == 0)
		return;
	sent = rte_ring_enqueue_burst(
		w->pl->stage_ring[s], (void **)b->pkts, b->n, NULL);
	while (unlikely(sent < b->n))
		w_drop_pl(w, b->pkts[sent++], TG_PIPELINE_DROP_RING_FULL);
	b->n = 0;
}

/* Move a packet to the step meta->step of meta->path. */
static inline void
w_to_step(struct tg_worker *w, struct rte_mbuf *m, struct tg_meta *md)
{
	const struct tg_path_step *st;
	struct tg_pktbuf *b;

	if (unlikely(md->path >= TG_PATH__COUNT ||
		     md->step >= tg_paths[md->path].n_steps)) {
		w_drop_pl(w, m, TG_PIPELINE_DROP_BAD_VERDICT);
		return;
	}
	if (unlikely(w->skip_to[md->path][md->step] != md->step)) {
		uint8_t to = w->skip_to[md->path][md->step];

		w->stats.skips[md->path][md->step][to]++;
		md->step = to;
	}
	st = &tg_paths[md->path].steps[md->step];
	if (likely(st->stage < TG_STAGE__COUNT)) {
		md->mode = st->mode;
		b = &w->to_stage[st->stage];
		b->pkts[b->n++] = m;
		if (unlikely(b->n == TG_BUF_SIZE))
			w_stage_flush(w, st->stage);
	} else if (st->stage == TG_STEP_TX) {
		w->stats.path_done[md->path]++;
		w_tx(w, m, md->tx_if);
	} else {
		/* TG_STEP_HOST: the host port arrives with its issue. */
		w->stats.path_done[md->path]++;
		w_drop_pl(w, m, TG_PIPELINE_DROP_NO_HOST_PORT);
	}
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
		/* Straight out (ARP): that ends the packet's path too. */
		if (likely(md->path < TG_PATH__COUNT))
			w->stats.path_done[md->path]++;
		w_tx(w, m, md->tx_if);
		break;
	case TG_V_STOLEN:
		ss->stolen++;
		break;
	case TG_V_GOTO_BASE:
		ss->jumped++;
		if (TG_V_GOTO_STAGE(v) == TG_STAGE_NONE)
			step = 0;
		else if (md->path < TG_PATH__COUNT &&
			 TG_V_GOTO_STAGE(v) < TG_STAGE__COUNT)
			step = w->pl->stage_step[md->path][TG_V_GOTO_STAGE(v)];
		else
			step = -1;
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
	for (i = 0; i < e->n; i++)
		w_verdict(w, e->pkts[i], e->verdict[i], s, ss);
	e->n = 0;
	e->generated = 0;
}

static inline void
w_flush_stages(struct tg_worker *w)
{
	uint8_t s;

	for (s = 0; s < TG_STAGE__COUNT; s++)
		w_stage_flush(w, s);
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
	uint64_t t0 = rte_rdtsc();
	uint16_t i;

	if (unlikely(w->pl->port_l3[port]))
		w_rx_l3_to_eth(pkts, n);
	tg_pkt_rx_burst(pkts, n, port, verdict);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct tg_meta *md;

		if (unlikely(verdict[i] != TG_V_NEXT)) {
			w_drop(w, m, pkt_base + TG_V_REASON(verdict[i]));
			continue;
		}
		md = tg_meta(m);
		/* Path decided once, at RX (ARCHITECTURE.md section 2). */
		if (md->path == TG_PATH_TRANSIT &&
			tg_forward_is_local(t->forward,
				rte_be_to_cpu_32(tg_pkt_ipv4(m)->dst_addr)))
			md->path = TG_PATH_TARGET;
		w->stats.path_rx[md->path]++;
		w_to_step(w, m, md);
	}
	w->stats.rx_cycles += rte_rdtsc() - t0;
	w_flush_stages(w);
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
	uint16_t n, i;

	n = (uint16_t)rte_ring_dequeue_burst(
		w->pl->stage_ring[s], (void **)pkts, w->pl->burst, NULL);
	if (n == 0)
		return 0;
	t0 = rte_rdtsc();
	ops->burst(t, ctx, pkts, n, verdict, &w->emit, now);
	ss->cycles += rte_rdtsc() - t0;
	ss->bursts++;
	ss->in += n;
	for (i = 0; i < n; i++)
		w_verdict(w, pkts[i], verdict[i], s, ss);
	if (w->emit.n)
		w_drain_emit(w, s, ss);
	/* Hand the output on now, so a stage later in this iteration's
	 * order sees it without waiting for the next iteration. */
	w_flush_stages(w);
	return n;
}

/* A snapshot with another set of active stages: recompute where each
 * step of each path continues. Paths end in TX or HOST, never skipped. */
static void
w_set_active(struct tg_worker *w, uint32_t active)
{
	uint8_t p, s, k;

	w->active_stages = active;
	for (p = 0; p < TG_PATH__COUNT; p++) {
		const struct tg_path_def *d = &tg_paths[p];

		for (s = 0; s < TG_PATH_MAX_STEPS; s++) {
			k = s;
			while (k < d->n_steps &&
				d->steps[k].stage < TG_STAGE__COUNT &&
				!(active & (1u << d->steps[k].stage)))
				k++;
			w->skip_to[p][s] = s < d->n_steps ? k : s;
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

		if (tg_stage_ops[s].tick == NULL)
			continue;
		tg_stage_ops[s].tick(t, w->pl->stage_ctx[s], now, &w->emit);
		if (w->emit.n)
			w_drain_emit(w, s, &w->stats.stage[s]);
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

	for (i = 0; i < w->n_dirty_tx; i++)
		w_tx_flush(w, w->dirty_tx[i]);
	w->n_dirty_tx = 0;
}

uint32_t
tg_pipeline_poll_once(struct tg_pipeline *pl, uint16_t idx)
{
	struct tg_worker *w = pl->workers[idx];
	const struct tg_tables *t = tg_snapshot_get(pl->slot);
	uint64_t now = rte_rdtsc();
	uint32_t handled = 0;
	uint16_t i, n, r;

	if (unlikely(w->active_stages != t->active_stages))
		w_set_active(w, t->active_stages);
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
	} else {
		w->stats.rx_backpressure++;
	}
	/* Rounds over the local stages until their rings are empty (bounded
	 * so that RX and TX are served): a packet whose stages all run here
	 * crosses its whole path in one iteration. */
	for (r = 0; r < TG_MAX_ROUNDS; r++) {
		uint32_t done = 0;

		for (i = 0; i < w->n_stages; i++)
			done += w_run_stage(w, t, w->stages[i], now);
		handled += done;
		if (done == 0)
			break;
	}
	if (w->drains_handoff)
		w_drain_handoff(w);
	w_flush_tx(w);
	w->stats.iterations++;
	if (handled)
		w->stats.busy_iterations++;
	return handled;
}

int
tg_pipeline_worker_main(void *arg)
{
	struct tg_worker *w = arg;
	struct tg_pipeline *pl = w->pl;
	struct rte_rcu_qsbr *qsv = pl->slot->qsv;

	rte_rcu_qsbr_thread_register(qsv, w->lcore);
	rte_rcu_qsbr_thread_online(qsv, w->lcore);
	while (!__atomic_load_n(&pl->stop, __ATOMIC_RELAXED)) {
		tg_pipeline_poll_once(pl, w->idx);
		/* Done with this iteration's snapshot pointer. */
		rte_rcu_qsbr_quiescent(qsv, w->lcore);
	}
	rte_rcu_qsbr_thread_offline(qsv, w->lcore);
	rte_rcu_qsbr_thread_unregister(qsv, w->lcore);
	return 0;
}
