/* SPDX-License-Identifier: BSD-3-Clause
 * Internals of the pipeline shared by pipeline.c (set-up) and worker.c
 * (the poll loop). Nothing outside pipelines/ includes this.
 */
#ifndef TG_PIPELINE_PRIV_H
#define TG_PIPELINE_PRIV_H

#include <pthread.h>

#include <rte_ring.h>

#include "tg_pipeline.h"
#include "tg_stage_ops.h"
#include "tg_trace.h"

#define TG_BURST_MAX   64
#define TG_BUF_SIZE    64 /* packets buffered per destination */
#define TG_TXQ_HANDOFF UINT16_MAX
#define TG_MAX_RXQ     (TG_MAX_PORTS * 4)
#define TG_MAX_ROUNDS  (2 * TG_PATH_MAX_STEPS) /* stage rounds per poll */
/* Stages run one inside the other (run to completion, worker.c): a path
 * has at most TG_PATH_MAX_STEPS, a path switch starts another. */
#define TG_MAX_DEPTH (2 * TG_PATH_MAX_STEPS)

/* One worker's records of the current trace (tg_trace.h): written only
 * by that worker, which empties it when it sees a new session; readers
 * take the first n records of a buffer whose session is current. */
struct tg_trace_buf {
	uint32_t session;
	uint32_t n; /* stored with release after the record */
	uint64_t lost;
	/* the last record's TSC: later ones never read less (RDTSC is not
	 * ordered with the loads and stores around it), so time order and
	 * this lcore's order agree */
	uint64_t last_tsc;
	/* TSC spent working out the whys (tg_trace_pre()): taken off the
	 * records' times, which then show the dataplane's own */
	uint64_t skew;
	struct tg_trace_rec rec[TG_TRACE_RECS];
	/* what decided stage steps (explain's words): rec.s.rule - 1 */
	uint32_t n_why;
	char why[TG_TRACE_WHY][TG_TRACE_WHY_LEN];
};

#define TG_OBS_TRACE   1u
#define TG_OBS_CAPTURE 2u

/* Trace and capture control: written by the control side, read by the
 * workers, which test `on` once per burst and nothing else while it is 0.
 */
struct tg_obs {
	uint32_t on; /* TG_OBS_* */
	uint32_t session;
	uint32_t count;
	uint32_t marking; /* still marking: ids left */
	struct tg_trace_filter filter;
	char filter_text[256];
	/* Written by the workers that mark and end traced packets, away
	 * from what every burst reads. */
	uint32_t next_id __rte_cache_aligned;
	uint32_t in_flight;
	/* The drop capture (trace.c). cap_* fields other than the
	 * counters are set before TG_OBS_CAPTURE and kept until the
	 * workers have passed a quiescent state after it is cleared. */
	int cap_reason;
	uint32_t cap_count, cap_snaplen;
	struct rte_ring *cap_ring;
	struct rte_mempool *cap_mp;
	uint64_t cap_matched __rte_cache_aligned;
	uint64_t cap_ring_full;
	uint64_t cap_no_mbuf;
	/* the writer thread's */
	uint64_t cap_written;
	uint64_t cap_write_errors;
	pthread_t cap_tid;
	bool cap_running;
	bool cap_stop;
	void *cap_file; /* rte_pcapng_t */
	char cap_path[256];
	char cap_error[128];
	/* interface names by port id, taken at start for the comments */
	char cap_ifname[RTE_MAX_ETHPORTS][TG_NAME_MAX];
};

struct tg_pktbuf {
	uint16_t n;
	bool dirty; /* TX: listed in dirty_tx for this iteration */
	struct rte_mbuf *pkts[TG_BUF_SIZE];
};

/* Written only by its own lcore, except `stats` which others read. */
struct tg_worker {
	struct tg_pipeline *pl;
	uint16_t idx;
	unsigned int lcore;
	uint16_t n_rxq;
	struct {
		uint16_t port;
		uint16_t queue;
	} rxq[TG_MAX_RXQ];
	uint8_t n_stages;
	uint8_t stages[TG_STAGE__COUNT];
	uint32_t local_stages;	/* bit mask of stages[] */
	uint32_t stage_pending; /* to_stage[] buffers holding packets */
	uint32_t stage_fed;	/* rings this worker enqueued to, this round */
	uint32_t active_stages; /* of this iteration's snapshot */
	uint64_t tables_gen;	/* generation skip_to was computed for */
	/* For active_stages: the step each step continues at (itself when
	 * its stage is active, else the next active or final step). */
	uint8_t skip_to[TG_PATH__COUNT][TG_PATH_MAX_STEPS];
	/* For each step: the meta flags that let a packet pass it by
	 * (tg_tables.stage_pass_out of an out step's stage; 0: none) */
	uint8_t pass_at[TG_PATH__COUNT][TG_PATH_MAX_STEPS];
	bool drains_handoff;		/* owns queue 0 of every port */
	bool host_owner;		/* takes packets from host_rx_ring */
	uint16_t txq[RTE_MAX_ETHPORTS]; /* queue to use, or TG_TXQ_HANDOFF */
	uint16_t n_dirty_tx;
	uint16_t dirty_tx[RTE_MAX_ETHPORTS];
	struct tg_pktbuf tx[RTE_MAX_ETHPORTS];
	struct tg_pktbuf to_stage[TG_STAGE__COUNT];
	uint16_t verdict[TG_BURST_MAX];
	struct rte_mbuf *burst_pkts[TG_BURST_MAX];
	struct tg_emit emit;
	uint32_t idle_polls; /* empty iterations in a row */
	/* Run to completion: this iteration's snapshot and time, how deep
	 * the stages run inside one another now, and the cycles the
	 * outermost of them took (taken off RX's). */
	const struct tg_tables *t;
	uint64_t now;
	uint8_t depth;
	uint64_t direct_cycles;
	struct tg_trace_buf *trace;
	struct tg_lcore_stats stats;
};

/* The host thread's state; its counters are summed with the workers'. */
struct tg_host_io {
	struct tg_lcore_stats stats; /* written only by the host thread */
	pthread_t tid;
	bool running;
};

struct tg_pipeline {
	struct tg_snapshot_slot *slot;
	struct rte_mempool *mp;
	uint16_t burst;
	bool stop; /* written by the main lcore, read with __atomic */
	bool launched;
	uint16_t n_ports;
	struct tg_pipeline_port ports[TG_MAX_PORTS];
	bool port_running[RTE_MAX_ETHPORTS];
	bool port_l3[RTE_MAX_ETHPORTS];
	struct rte_ring *stage_ring[TG_STAGE__COUNT];
	int stage_worker[TG_STAGE__COUNT];
	void *stage_ctx[TG_STAGE__COUNT];
	struct rte_ring *tx_handoff[RTE_MAX_ETHPORTS];
	/* The host port: packets for the kernel wait in host_ring (any
	 * worker enqueues, the host thread writes them); what the kernel
	 * sends waits in host_rx_ring for worker 0. NULL: no host port. */
	struct rte_ring *host_ring;
	struct rte_ring *host_rx_ring;
	struct tg_pipeline_host host;
	struct tg_host_io *host_io;
	uint16_t drop_base[TG_OWNER__COUNT];
	/* step index of each stage's first step in each path, -1 if none */
	int8_t stage_step[TG_PATH__COUNT][TG_STAGE__COUNT];
	uint16_t n_workers;
	struct tg_worker *workers[TG_MAX_LCORES];
	struct tg_obs obs;
};

/* trace.c: the workers' side of tracing and capture (called only when
 * obs.on says so). */
void tg_trace_mark(struct tg_worker *w, struct rte_mbuf **pkts, uint16_t n,
	const uint16_t *verdict);
void tg_trace_steps(struct tg_worker *w, uint8_t kind, uint8_t s,
	struct rte_mbuf **pkts, const uint16_t *verdict, uint16_t n);
void tg_trace_end(
	struct tg_worker *w, uint8_t kind, struct rte_mbuf **pkts, uint16_t n);
void tg_obs_drop(struct tg_worker *w, struct rte_mbuf *m, uint16_t idx);
void tg_trace_poll(struct tg_worker *w);
/* A dropped packet into the capture (TG_OBS_CAPTURE on): workers, and
 * the host thread for its own two drops. */
void tg_capture_drop(struct tg_pipeline *pl, struct rte_mbuf *m, uint16_t idx);
/* Before stage @p s judges a burst holding traced packets: what will
 * decide each of them, from explain's code on a copy (trace.c). */
void tg_trace_pre(
	struct tg_worker *w, uint8_t s, struct rte_mbuf **pkts, uint16_t n);
/* explain.c: stage @p s's decision on @p m, read-only, and its why text.
 * @p real: a received packet (ESP is not explain's null-cipher ESP: its
 * SA is found, it is not decapsulated). */
uint16_t tg_explain_stage_why(struct tg_pipeline *pl, const struct tg_tables *t,
	uint8_t s, struct rte_mbuf *m, bool real, char *why, size_t len);

/* A step with work in snapshot @p t: its stage is active, and has work
 * in the step's mode. */
static inline bool
tg_step_active(const struct tg_tables *t, const struct tg_path_step *st)
{
	return (t->active_stages & (1u << st->stage)) &&
	       (t->stage_modes[st->stage] & (1u << st->mode));
}

/* The step a path switch (verdict @p v, TG_V_GOTO) continues at in
 * @p path: the start of the path, or the switch's stage's first step
 * there; -1 when there is none (a bad verdict). */
static inline int
tg_goto_step(const struct tg_pipeline *pl, uint8_t path, uint16_t v)
{
	uint8_t gs = TG_V_GOTO_STAGE(v);

	if (gs == TG_STAGE_NONE)
		return 0;
	if (path < TG_PATH__COUNT && gs < TG_STAGE__COUNT)
		return pl->stage_step[path][gs];
	return -1;
}

/* Is a trace or a capture on (TG_OBS_* bits)? The one test the workers
 * make per burst. */
static inline uint32_t
tg_obs_on(const struct tg_worker *w)
{
	return __atomic_load_n(&w->pl->obs.on, __ATOMIC_RELAXED);
}

#endif /* TG_PIPELINE_PRIV_H */
