/* SPDX-License-Identifier: BSD-3-Clause
 * The control side: build a complete snapshot from a config model, publish
 * it with one atomic store, wait for every worker's quiescent state, free
 * the old one (netfilter's xt_replace_table pattern, with rte_rcu_qsbr).
 * Also the /tollgate/ telemetry commands.
 */
#ifndef TG_CONTROL_H
#define TG_CONTROL_H

#include <pthread.h>
#include <stdint.h>

#include "tg_config.h"
#include "tg_forward.h"
#include "tg_tables.h"

struct tg_pipeline;

struct tg_control {
	/* Serialises every control action, and telemetry readers of the
	 * snapshot: the only writer frees old snapshots under this lock, so a
	 * reader holding it needs no RCU registration of its own. */
	pthread_mutex_t lock;
	/* Serialises whole reloads (parse results compared, tables built,
	 * published): the snapshot can only be replaced by its holder, so it
	 * reads slot.cur without `lock` and takes `lock` just to publish. */
	pthread_mutex_t reload_lock;
	struct tg_snapshot_slot slot;
	struct tg_port_env env;
	struct tg_pipeline *pl; /**< set once workers exist; for stats */
	/** Called under reload_lock after a reload published @p cfg (the
	 *  host port's kernel addresses and routes follow it). Its error is
	 *  reported as a warning: the dataplane runs the new config anyway.
	 *  NULL: nothing to do. */
	int (*after_reload)(void *arg, const struct tg_config *cfg, char *err,
		size_t errlen);
	void *after_reload_arg;
	int socket;
	uint64_t generation; /**< of the published snapshot */
	uint64_t start_time;
};

/**
 * Build a complete snapshot from @p cfg without publishing it. @p prev,
 * the running snapshot (or NULL), lends what need not be built again
 * (the rte_acl contexts of unchanged filter lists) and the natfw session
 * table's slots of the addresses it keeps; @p natfw, the natfw stage's
 * state (NULL: none yet), gets port spaces for new addresses
 * (tg_natfw_build_from()); @p ipsec, the ipsec stage's state (NULL: ipsec
 * off at start), keeps the SAs that stay and makes the new ones
 * (tg_ipsec_build()).
 * @return 0 and *out, or -errno with a message in @p err.
 * Control thread (rte_fib_create, rte_malloc), one build at a time.
 */
int tg_tables_build(const struct tg_config *cfg, const struct tg_port_env *env,
	const struct tg_tables *prev, struct tg_natfw_ctx *natfw,
	struct tg_ipsec_stage *ipsec, uint64_t generation, int socket,
	struct tg_tables **out, char *err, size_t errlen);

/** Free a snapshot and the config it owns. NULL is a no-op. */
void tg_tables_free(struct tg_tables *t);

/** Initialise @p ctl: RCU variable for @p max_lcores threads (lcore ids).
 *  Returns 0 or -errno. */
int tg_control_init(
	struct tg_control *ctl, const struct tg_port_env *env, int socket);

/**
 * Build a snapshot from @p cfg and publish it; on success the control
 * owns @p cfg (freed with the snapshot) and the previous snapshot is freed
 * once every worker has passed a quiescent state. On failure nothing
 * changes and the caller still owns @p cfg.
 * @return 0, or -errno with @p err set. Any non-lcore thread; takes the
 * lock. Never call it from a worker lcore (it waits for them).
 */
int tg_control_apply(struct tg_control *ctl, struct tg_config *cfg, char *err,
	size_t errlen);

/** tg_control_apply() for a caller that holds ctl->reload_lock; also
 *  reports how long building the snapshot took. */
int tg_control_apply_locked(struct tg_control *ctl, struct tg_config *cfg,
	char *err, size_t errlen, uint64_t *build_us);

/** What a reload changed (or, on failure, would have). */
struct tg_reload_summary {
	uint64_t generation; /**< running after the call */
	char if_added[256];  /**< interface names, space separated */
	char if_removed[256];
	char if_changed[256]; /**< address, prefix, MTU or port changed */
	/** Filter lists added, removed or changed: "lan0.in wan0.out" */
	char filters_changed[256];
	uint32_t routes_added, routes_removed;
	uint32_t neighbors_added, neighbors_removed;
	uint64_t parse_us, build_us, publish_us;
	/** Applied, but a follower failed (after_reload): what and why. */
	char warning[512];
};

/**
 * Live reload from @p file (NULL or "": the file the running config came
 * from). Parses and validates without the lock, then under it refuses any
 * change to start-up-only settings, builds and publishes. On any failure
 * the running configuration is untouched and @p errs says why
 * (FILE:LINE:COL: path: message).
 * @return 0, or -errno. Any non-worker thread.
 */
int tg_control_reload(struct tg_control *ctl, const char *file,
	struct tg_cfg_errors *errs, struct tg_reload_summary *sum);

/** Validate @p file and compare it with the running config's start-up-only
 *  settings, applying nothing. Returns 0 or -EINVAL (errors in @p errs). */
int tg_control_check(
	struct tg_control *ctl, const char *file, struct tg_cfg_errors *errs);

/** Add an error to @p errs per start-up-only setting (ports, lcores and
 *  placement, pools, ring sizes, EAL, arp.max_neighbors) that differs
 *  between @p running and @p next. Returns how many. */
int tg_control_check_restart_only(const struct tg_config *running,
	const struct tg_config *next, struct tg_cfg_errors *errs);

/** Summarise interfaces, routes and neighbors added/removed/changed from
 *  @p a to @p b. Returns 0 or -ENOMEM. */
int tg_config_diff(const struct tg_config *a, const struct tg_config *b,
	struct tg_reload_summary *sum);

/** Free the current snapshot and the RCU variable (workers stopped). */
void tg_control_fini(struct tg_control *ctl);

/** Register the /tollgate/ telemetry commands for @p ctl (one per process:
 *  DPDK's callbacks carry no context pointer). Returns 0 or -errno. */
int tg_control_telemetry_init(struct tg_control *ctl);

#endif /* TG_CONTROL_H */
