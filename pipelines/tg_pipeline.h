/* SPDX-License-Identifier: BSD-3-Clause
 * The stage framework: the three paths as data, one input ring per stage,
 * the dispatcher that moves a packet to its next step, and the worker
 * lcores that poll ports and stage rings (ARCHITECTURE.md sections 2, 3).
 * Components never see rings; this is the only code that moves packets.
 */
#ifndef TG_PIPELINE_H
#define TG_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_ether.h>
#include <rte_mempool.h>

#include "tg_config.h"
#include "tg_forward.h"
#include "tg_meta.h"
#include "tg_pkt.h"
#include "tg_tables.h"

/* ---- paths (pipelines/paths.c) ---------------------------------------- */

#define TG_STEP_TX	  0xf0 /**< end of path: transmit on meta->tx_if */
#define TG_STEP_HOST	  0xf1 /**< end of path: deliver to the host port */
#define TG_PATH_MAX_STEPS 8

struct tg_path_step {
	uint8_t stage; /**< enum tg_stage, or TG_STEP_TX / TG_STEP_HOST */
	uint8_t mode;  /**< enum tg_mode */
};

struct tg_path_def {
	const char *name;
	uint8_t n_steps; /**< including the final TX/HOST step */
	struct tg_path_step steps[TG_PATH_MAX_STEPS];
};

/** The paths, in the order of ARCHITECTURE.md section 2. */
extern const struct tg_path_def tg_paths[TG_PATH__COUNT];

/** Index of @p stage's first step in @p path, or -1. */
int tg_path_find_stage(enum tg_path path, uint8_t stage);

/** "filter(in)" etc. for docs and telemetry. */
const char *tg_mode_name(uint8_t mode);
const char *tg_stage_name(uint8_t stage);

/* ---- drops and counters ----------------------------------------------- */

/* Drops that belong to the pipeline itself. */
#define TG_PIPELINE_DROPS(X)                                                   \
	X(RING_FULL, "pipeline.ring_full", "next stage's input ring was full") \
	X(TX_FULL, "pipeline.tx_full", "the port's TX queue was full")         \
	X(TX_BAD_PORT, "pipeline.tx_invalid_port",                             \
		"no running port for the packet's tx interface")               \
	X(NO_HOST_PORT, "pipeline.no_host_port",                               \
		"target traffic, but no host port is configured (host:)")      \
	X(HOST_TX_FULL, "host.tx_full",                                        \
		"the host port's queue was full: the kernel is slower than "   \
		"the wire")                                                    \
	X(HOST_REFUSED, "host.kernel_refused",                                 \
		"the kernel did not take a packet written to the host port")   \
	X(HOST_RX_FULL, "host.rx_full",                                        \
		"the kernel sent faster than the pipeline takes packets in")   \
	X(HOST_NOT_IPV4, "host.not_ipv4",                                      \
		"the kernel sent something other than IPv4 (ARP) into the "    \
		"host port")                                                   \
	X(BAD_VERDICT, "pipeline.bad_verdict",                                 \
		"a stage returned a verdict the path cannot follow")

enum tg_pipeline_drop {
#define TG_X_ENUM(n, s, d) TG_PIPELINE_DROP_##n,
	TG_PIPELINE_DROPS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_PIPELINE_DROP__COUNT
};

/** Owners of drop reasons, in the order of the global drop index space. */
enum tg_drop_owner {
	TG_OWNER_PKT = 0,
	TG_OWNER_PIPELINE,
	TG_OWNER_STAGE0, /* + enum tg_stage */
	TG_OWNER__COUNT = TG_OWNER_STAGE0 + TG_STAGE__COUNT
};

#define TG_DROP_MAX 128 /* all reasons of all owners */

/** Global drop index → "forward.no_route"; NULL past the end. */
const char *tg_drop_name(uint16_t idx);
const char *tg_drop_desc(uint16_t idx);
uint16_t tg_drop_count(void);
/** First global index of @p owner's reasons. */
uint16_t tg_drop_base(enum tg_drop_owner owner);

struct tg_stage_stats {
	uint64_t in;	   /**< packets handed to the stage */
	uint64_t bypassed; /**< passed by: nothing to do (derived when summing)
			    */
	uint64_t next;	  /**< continued on their path (derived when summing) */
	uint64_t jumped;  /**< path switches (TG_V_GOTO) */
	uint64_t tx;	  /**< sent straight to TX (TG_V_TX) */
	uint64_t stolen;  /**< kept by the stage */
	uint64_t emitted; /**< released or created later by the stage */
	uint64_t dropped;
	uint64_t bursts; /**< calls with at least one packet */
	uint64_t cycles; /**< TSC spent in those calls */
	/** TSC spent in the stage's timer calls that released packets
	 *  (ipsec: picking up completed crypto operations) */
	uint64_t tick_cycles;
};

/** One lcore's counters: written only by that lcore, summed by readers. */
struct tg_lcore_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t host;	  /**< delivered to the kernel through the host port */
	uint64_t host_rx; /**< received from the host port (also in rx) */
	uint64_t generated;
	uint64_t iterations;
	uint64_t busy_iterations;
	uint64_t rx_backpressure; /**< polls that skipped RX: rings full */
	uint64_t idle_sleeps;	  /**< sleeps of pipeline.idle_sleep_us */
	uint64_t rx_cycles; /**< TSC spent validating and classifying RX */
	uint64_t drops[TG_DROP_MAX];
	/** Packets moved from step [p][a] straight to step b, past stages
	 *  with nothing to do: one count per packet, however many stages it
	 *  passes (stage[].bypassed is derived from it when summing). */
	uint64_t skips[TG_PATH__COUNT][TG_PATH_MAX_STEPS][TG_PATH_MAX_STEPS];
	/** entered each path: at RX, generated, or by a path switch */
	uint64_t path_rx[TG_PATH__COUNT];
	uint64_t path_done[TG_PATH__COUNT]; /**< reached the path's end */
	struct tg_stage_stats stage[TG_STAGE__COUNT];
} __rte_cache_aligned;

/* ---- the pipeline ------------------------------------------------------ */

struct tg_pipeline;

/** A running port as the pipeline needs it. */
struct tg_pipeline_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq; /**< TX queues configured on the port */
	bool l3; /**< bare IP (net_tun): no Ethernet header on the wire */
	char name[TG_NAME_MAX];
};

/** The host port (ARCHITECTURE.md section 4): not one of ports[]. A
 *  thread of its own (on a control core) reads and writes it; worker 0
 *  takes what it read through a ring. */
struct tg_pipeline_host {
	bool enabled;
	uint16_t port_id;
	bool l3;		   /**< net_tun: bare IP */
	struct rte_ether_addr mac; /**< net_tap: the kernel interface's MAC */
	uint32_t queue_size;	   /**< packets waiting for the kernel */
	uint32_t poll_us;	   /**< idle poll interval of the host thread */
};

struct tg_pipeline_conf {
	const struct tg_config *cfg;   /**< placement, burst, ring size */
	struct tg_snapshot_slot *slot; /**< where the snapshot is published */
	struct rte_mempool *mp;	       /**< for generated packets */
	uint16_t n_ports;	       /**< same order as cfg->ports */
	struct tg_pipeline_port ports[TG_MAX_PORTS];
	struct tg_pipeline_host host;
	uint16_t n_workers;
	unsigned int workers[TG_MAX_LCORES]; /**< worker lcore ids */
	int socket;
};

/**
 * Create rings, stage contexts and per-worker state, and resolve the
 * placement (cfg->pipeline.placement, or the default: stages and RX
 * queues spread round-robin over the workers). Ports must be configured
 * with n_txq TX queues: worker i uses queue i when i < n_txq, otherwise
 * hands its packets to the worker owning queue 0 through a ring.
 *
 * @return the pipeline, or NULL with @p err set. Main lcore, before launch.
 */
struct tg_pipeline *tg_pipeline_create(
	const struct tg_pipeline_conf *conf, char *err, size_t errlen);

/** Number of TX queues each port should have for @p n_workers workers. */
uint16_t tg_pipeline_txq_wanted(uint16_t n_workers, uint16_t dev_max_txq);

/**
 * One round of the host thread: write up to a burst of queued packets to
 * the host port, read up to a burst from it. Returns packets moved. Only
 * for the host thread, or tests that drive a pipeline without launching
 * it.
 */
uint32_t tg_pipeline_host_poll(struct tg_pipeline *pl);

/** Launch one worker per conf->workers on its lcore, and the host thread
 *  when there is a host port. Returns 0 or -errno. */
int tg_pipeline_launch(struct tg_pipeline *pl);

/** Ask the workers (and the host thread) to stop and wait for them;
 *  frees packets in flight
 *  (counted under no reason: the appliance is going away). */
void tg_pipeline_stop(struct tg_pipeline *pl);

void tg_pipeline_free(struct tg_pipeline *pl);

/** Worker entry point for rte_eal_remote_launch (arg: the worker). */
int tg_pipeline_worker_main(void *arg);

/** Sum every lcore's counters into @p sum. Any thread. */
void tg_pipeline_stats_sum(
	const struct tg_pipeline *pl, struct tg_lcore_stats *sum);

struct tg_filter_cache;
struct tg_natfw_ctx;

/** The natfw stage's state (its session table), NULL when nat and the
 *  firewall were off at start. Readers use the table's sequence
 *  numbers (tg_nat_sess_read()); the control thread also gives the
 *  table port spaces for a reload's new addresses
 *  (tg_natfw_build_from()). */
struct tg_natfw_ctx *tg_pipeline_natfw(const struct tg_pipeline *pl);

/** The ipsec stage's state (crypto device, live SAs), NULL when ipsec
 *  was off at start. The control thread builds tables with it
 *  (tg_ipsec_build()) and sweeps retired SAs after a reload. */
struct tg_ipsec_stage *tg_pipeline_ipsec(const struct tg_pipeline *pl);

/** The filter stage's decision cache (tg_filter.h), NULL without one
 *  (pipeline.filter_cache: 0). Its counters are read without a lock:
 *  each is a whole 64-bit word written by one lcore. */
const struct tg_filter_cache *tg_pipeline_filter_cache(
	const struct tg_pipeline *pl);

/** Packets sitting in stage rings, TX hand-off rings, the host port's
 *  queue and the crypto device right now. */
uint64_t tg_pipeline_in_rings(const struct tg_pipeline *pl);

/** The host port as telemetry shows it. */
struct tg_pipeline_host_info {
	bool enabled;
	uint16_t port_id;
	uint32_t queue_size;	/**< to the kernel: capacity */
	uint32_t queue_used;	/**< to the kernel: waiting now */
	uint32_t rx_queue_used; /**< from the kernel: waiting for worker 0 */
	uint64_t udp_replies;	/**< UDP replies let in by localfilter */
};

/** Fill @p info (all zero without a host port). Any thread. */
void tg_pipeline_host_info(
	const struct tg_pipeline *pl, struct tg_pipeline_host_info *info);

/** The forward stage's context (neighbors, counters); NULL if none. */
const struct tg_forward_ctx *tg_pipeline_forward_ctx(
	const struct tg_pipeline *pl);

/** Where a stage runs (lcore id), for telemetry; -1 if not placed. */
int tg_pipeline_stage_lcore(const struct tg_pipeline *pl, uint8_t stage);

/**
 * Run one poll-loop iteration of worker @p idx on the calling thread.
 * For tests that drive the pipeline synchronously (net_ring ports).
 * Returns the number of packets handled.
 */
uint32_t tg_pipeline_poll_once(struct tg_pipeline *pl, uint16_t idx);

/** Empty iterations in a row before a worker may sleep. */
#define TG_IDLE_POLLS 256

/**
 * How long worker @p idx sleeps after an iteration that handled
 * @p handled packets (µs; 0: poll on). With pipeline.idle_sleep_us set,
 * after TG_IDLE_POLLS empty iterations in a row, every further empty one
 * sleeps that long (counted in idle_sleeps); a packet ends the spell,
 * and none sleeps while its ipsec stage has operations in the crypto
 * device. Off
 * by default: a worker on a core of its own polls without pause. On a
 * host whose workers share cores with other work (two appliances on two
 * cores), a spinning worker starves everything else on its core — the
 * kernel's own threads included. Reads the snapshot: call it before the
 * iteration's quiescent state.
 */
uint32_t tg_pipeline_idle_us(
	struct tg_pipeline *pl, uint16_t idx, uint32_t handled);

#endif /* TG_PIPELINE_H */
