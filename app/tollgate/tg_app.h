/* SPDX-License-Identifier: BSD-3-Clause
 * Pieces of the tollgate binary: port start-up and counter printing.
 */
#ifndef TG_APP_H
#define TG_APP_H

#include <stdbool.h>
#include <stdio.h>
#include <rte_log.h>
#include <rte_mempool.h>

#include "tg_config.h"
#include "tg_control.h"
#include "tg_pipeline.h"

extern int tg_app_logtype;
#define TG_APP_LOG(level, fmt, ...)                                            \
	rte_log(RTE_LOG_##level, tg_app_logtype, "tollgate: " fmt "\n",        \
		##__VA_ARGS__)

void tg_app_log_init(void);

/**
 * Find, configure and start every port of @p cfg: @p n_workers TX queues
 * where the device allows, cfg rx_queues RX queues, RX IPv4 checksum
 * offload where offered. Fills @p env and @p ports (same order as
 * cfg->ports). Returns 0 or -errno with @p err set.
 */
int tg_app_ports_start(const struct tg_config *cfg, uint16_t n_workers,
	struct rte_mempool *mp, struct tg_port_env *env,
	struct tg_pipeline_port *ports, char *err, size_t errlen);

/** Configure and start one ethdev (the part of tg_app_ports_start() that
 *  does not read the config's port list). */
int tg_app_port_start_one(const char *name, uint16_t port_id,
	uint16_t rx_queues, uint16_t rx_desc, uint16_t tx_desc,
	uint16_t n_workers, struct rte_mempool *mp, struct tg_pipeline_port *pp,
	char *err, size_t errlen);

struct tg_host;

/** The running host port (app/tollgate/host.c). */
struct tg_app_host {
	bool started;
	uint16_t port_id;
	struct tg_host *nl; /**< lib/host: the kernel side */
};

/**
 * Start the host port of cfg->host (nothing when it is absent), move its
 * kernel interface where the config says and give it the appliance's
 * addresses and routes. Fills @p ph for the pipeline.
 * Returns 0 or -errno with @p err set.
 */
int tg_app_host_start(const struct tg_config *cfg, struct rte_mempool *mp,
	struct tg_app_host *ah, struct tg_pipeline_host *ph, char *err,
	size_t errlen);

/** tg_control.after_reload: bring the kernel's addresses and routes in
 *  step with the reloaded @p cfg. */
int tg_app_host_after_reload(
	void *arg, const struct tg_config *cfg, char *err, size_t errlen);

/** From the main loop: when the host interface came back up after
 *  somebody set it down (the kernel dropped its routes), sync again. */
void tg_app_host_tick(struct tg_app_host *ah, struct tg_control *ctl);

void tg_app_host_stop(struct tg_app_host *ah);

/** Stop and close the ports (pcap files are flushed on close). */
void tg_app_ports_stop(const struct tg_port_env *env);

/** Print the counters: one line when @p full is false; every non-zero
 *  counter and drop reason when true. */
void tg_app_stats_print(struct tg_control *ctl, const struct tg_pipeline *pl,
	FILE *f, bool full);

#endif /* TG_APP_H */
