/* SPDX-License-Identifier: BSD-3-Clause
 * Pipeline set-up and tear-down: stage rings and contexts, placement of
 * stages and RX queues on worker lcores, TX queue ownership, launch, stop,
 * and the counter summary read by telemetry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "pipeline_priv.h"

static int
find_worker(const struct tg_pipeline_conf *conf, unsigned int lcore)
{
	uint16_t i;

	for (i = 0; i < conf->n_workers; i++)
		if (conf->workers[i] == lcore)
			return i;
	return -1;
}

static int
add_rxq(struct tg_worker *w, uint16_t port, uint16_t queue)
{
	if (w->n_rxq >= TG_MAX_RXQ)
		return -ENOSPC;
	w->rxq[w->n_rxq].port = port;
	w->rxq[w->n_rxq].queue = queue;
	w->n_rxq++;
	return 0;
}

/* Explicit placement from pipeline.placement (validated by lib/config;
 * checked again here against the lcores EAL actually gave us). */
static int
place_configured(struct tg_pipeline *pl, const struct tg_pipeline_conf *conf,
	char *err, size_t errlen)
{
	const struct tg_cfg_pipeline *pc = &conf->cfg->pipeline;
	uint16_t i, j;
	uint8_t s;

	for (i = 0; i < pc->n_placement; i++) {
		const struct tg_cfg_placement *pp = &pc->placement[i];
		int wi = find_worker(conf, pp->lcore);

		if (wi < 0) {
			snprintf(err, errlen,
				"pipeline.placement[%u].lcore: lcore %u is not "
				"a worker lcore of this run",
				i, pp->lcore);
			return -EINVAL;
		}
		for (s = 0; s < TG_STAGE__COUNT; s++)
			if (pp->stage_mask & (1u << s))
				pl->stage_worker[s] = wi;
		for (j = 0; j < pp->n_rxq; j++) {
			uint16_t p = pp->rxq_port[j];

			if (p >= conf->n_ports ||
				pp->rxq_queue[j] >= conf->ports[p].n_rxq) {
				snprintf(err, errlen,
					"pipeline.placement[%u].ports[%u]: no "
					"such rx queue",
					i, j);
				return -EINVAL;
			}
			if (add_rxq(pl->workers[wi], conf->ports[p].port_id,
				    pp->rxq_queue[j]) < 0) {
				snprintf(err, errlen, "too many rx queues");
				return -ENOSPC;
			}
		}
	}
	for (s = 0; s < TG_STAGE__COUNT; s++) {
		if (pl->stage_worker[s] < 0) {
			snprintf(err, errlen,
				"pipeline.placement: stage %s is placed on no "
				"lcore",
				tg_stage_name(s));
			return -EINVAL;
		}
	}
	return 0;
}

/* Default: stages and RX queues round-robin over the workers, so one
 * worker runs everything and N workers share the work. */
static int
place_default(struct tg_pipeline *pl, const struct tg_pipeline_conf *conf)
{
	uint16_t p, q;
	uint32_t k = 0;
	uint8_t s;

	for (s = 0; s < TG_STAGE__COUNT; s++)
		pl->stage_worker[s] = s % conf->n_workers;
	for (p = 0; p < conf->n_ports; p++)
		for (q = 0; q < conf->ports[p].n_rxq; q++, k++)
			if (add_rxq(pl->workers[k % conf->n_workers],
				    conf->ports[p].port_id, q) < 0)
				return -ENOSPC;
	return 0;
}

uint16_t
tg_pipeline_txq_wanted(uint16_t n_workers, uint16_t dev_max_txq)
{
	uint16_t n = RTE_MIN(n_workers, dev_max_txq);

	return n == 0 ? 1 : n;
}

static int
create_rings(struct tg_pipeline *pl, const struct tg_pipeline_conf *conf,
	char *err, size_t errlen)
{
	/* Each stage runs on one lcore: single consumer. Producers are every
	 * worker that can feed it: single producer only when alone. */
	unsigned int flags =
		RING_F_SC_DEQ | (conf->n_workers == 1 ? RING_F_SP_ENQ : 0);
	static unsigned int instance;
	char name[RTE_RING_NAMESIZE];
	uint16_t p;
	uint8_t s;

	instance++;
	for (s = 0; s < TG_STAGE__COUNT; s++) {
		snprintf(name, sizeof(name), "tg_%u_%s", instance,
			tg_stage_name(s));
		pl->stage_ring[s] = rte_ring_create(name,
			conf->cfg->pipeline.ring_size, conf->socket, flags);
		if (pl->stage_ring[s] == NULL) {
			snprintf(err, errlen, "ring %s: %s", name,
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	if (conf->host.enabled) {
		/* To the kernel: every worker may end a target path (multi-
		 * producer unless alone), the host thread consumes. From it:
		 * the host thread produces, worker 0 consumes. */
		snprintf(name, sizeof(name), "tg_%u_host", instance);
		pl->host_ring = rte_ring_create(name, conf->host.queue_size,
			conf->socket,
			RING_F_EXACT_SZ | RING_F_SC_DEQ |
				(conf->n_workers == 1 ? RING_F_SP_ENQ : 0));
		snprintf(name, sizeof(name), "tg_%u_hostrx", instance);
		pl->host_rx_ring =
			rte_ring_create(name, conf->cfg->pipeline.ring_size,
				conf->socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (pl->host_ring == NULL || pl->host_rx_ring == NULL) {
			snprintf(err, errlen, "ring %s: %s", name,
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	for (p = 0; p < conf->n_ports; p++) {
		uint16_t port = conf->ports[p].port_id;

		if (conf->ports[p].n_txq >= conf->n_workers)
			continue;
		snprintf(name, sizeof(name), "tg_%u_tx%u", instance, port);
		pl->tx_handoff[port] =
			rte_ring_create(name, conf->cfg->pipeline.ring_size,
				conf->socket, RING_F_SC_DEQ);
		if (pl->tx_handoff[port] == NULL) {
			snprintf(err, errlen, "ring %s: %s", name,
				rte_strerror(rte_errno));
			return -rte_errno;
		}
	}
	return 0;
}

/* The filter stage's counter block (the worker it runs on) and, for every
 * step of every path, which list a packet there meets. */
static void
filter_ctx_init(struct tg_filter_ctx *fc, int worker)
{
	uint8_t p, s;

	RTE_BUILD_BUG_ON(TG_PATH_MAX_STEPS > TG_FILTER_STEPS);
	fc->slot = (uint16_t)(worker < 0 ? 0 : worker);
	memset(&fc->steps, TG_CFG_FILTER__DIRS, sizeof(fc->steps));
	for (p = 0; p < TG_PATH__COUNT; p++)
		for (s = 0; s < tg_paths[p].n_steps; s++) {
			const struct tg_path_step *st = &tg_paths[p].steps[s];

			if (st->stage != TG_STAGE_FILTER)
				continue;
			fc->steps.dir[p][s] = st->mode == TG_MODE_IN
						      ? TG_CFG_FILTER_IN
						      : TG_CFG_FILTER_OUT;
		}
}

struct tg_pipeline *
tg_pipeline_create(
	const struct tg_pipeline_conf *conf, char *err, size_t errlen)
{
	const struct tg_config *cfg = conf->cfg;
	struct tg_pipeline *pl;
	uint16_t i, p;
	uint8_t s;
	int rc;

	for (s = 0; s < TG_STAGE__COUNT; s++) {
		if (strcmp(tg_cfg_stage_names[s], tg_stage_ops[s].name) != 0) {
			snprintf(err, errlen, "stage table out of order");
			return NULL;
		}
	}
	if (conf->n_workers == 0 || conf->n_workers > TG_MAX_LCORES) {
		snprintf(err, errlen,
			"need at least one worker lcore besides the main lcore "
			"(dpdk.lcores)");
		return NULL;
	}
	if (tg_drop_count() > TG_DROP_MAX) {
		snprintf(err, errlen, "too many drop reasons");
		return NULL;
	}
	pl = rte_zmalloc_socket(
		"tg_pipeline", sizeof(*pl), RTE_CACHE_LINE_SIZE, conf->socket);
	if (pl == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pl->slot = conf->slot;
	pl->mp = conf->mp;
	pl->burst = RTE_MIN(cfg->pipeline.burst, TG_BURST_MAX);
	pl->n_ports = conf->n_ports;
	memcpy(pl->ports, conf->ports, sizeof(pl->ports));
	for (p = 0; p < conf->n_ports; p++) {
		pl->port_running[conf->ports[p].port_id] = true;
		pl->port_l3[conf->ports[p].port_id] = conf->ports[p].l3;
	}
	pl->host = conf->host;
	if (conf->host.enabled) {
		pl->host_io =
			rte_zmalloc_socket("tg_host_io", sizeof(*pl->host_io),
				RTE_CACHE_LINE_SIZE, conf->socket);
		if (pl->host_io == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	for (i = 0; i < TG_OWNER__COUNT; i++)
		pl->drop_base[i] = tg_drop_base(i);
	for (i = 0; i < TG_PATH__COUNT; i++)
		for (s = 0; s < TG_STAGE__COUNT; s++)
			pl->stage_step[i][s] = (int8_t)tg_path_find_stage(i, s);
	for (s = 0; s < TG_STAGE__COUNT; s++)
		pl->stage_worker[s] = -1;

	for (i = 0; i < conf->n_workers; i++) {
		struct tg_worker *w = rte_zmalloc_socket("tg_worker",
			sizeof(*w), RTE_CACHE_LINE_SIZE,
			(int)rte_lcore_to_socket_id(conf->workers[i]));

		if (w == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		w->pl = pl;
		w->idx = i;
		w->lcore = conf->workers[i];
		w->drains_handoff = (i == 0);
		w->host_owner = (i == 0) && conf->host.enabled;
		/* No real mask has these bits: the first poll computes the
		 * skip table from its snapshot. */
		w->active_stages = UINT32_MAX;
		w->tables_gen = UINT64_MAX;
		for (p = 0; p < conf->n_ports; p++)
			w->txq[conf->ports[p].port_id] =
				i < conf->ports[p].n_txq ? i : TG_TXQ_HANDOFF;
		pl->workers[i] = w;
		pl->n_workers++;
	}

	rc = cfg->pipeline.n_placement ? place_configured(pl, conf, err, errlen)
				       : place_default(pl, conf);
	if (rc < 0) {
		if (rc == -ENOSPC)
			snprintf(err, errlen, "too many rx queues per lcore");
		goto fail;
	}
	/* Poll a worker's stages in the order the transit path (the hot
	 * one) visits them, so one round carries a burst through as many
	 * stages as possible. */
	for (i = 0; i < tg_paths[TG_PATH_TRANSIT].n_steps + TG_STAGE__COUNT;
		i++) {
		const struct tg_path_def *tp = &tg_paths[TG_PATH_TRANSIT];
		struct tg_worker *w;
		bool seen = false;
		uint8_t k;

		/* transit steps first, then any stage it does not visit */
		s = i < tp->n_steps ? tp->steps[i].stage : i - tp->n_steps;
		if (s >= TG_STAGE__COUNT)
			continue;
		w = pl->workers[pl->stage_worker[s]];
		for (k = 0; k < w->n_stages; k++)
			seen |= w->stages[k] == s;
		if (!seen) {
			w->stages[w->n_stages++] = s;
			w->local_stages |= 1u << s;
		}
	}
	if (create_rings(pl, conf, err, errlen) < 0)
		goto fail;

	pl->stage_ctx[TG_STAGE_FORWARD] = tg_forward_ctx_create(
		conf->mp, cfg->arp.max_neighbors, conf->socket);
	if (pl->stage_ctx[TG_STAGE_FORWARD] == NULL) {
		snprintf(err, errlen, "forward stage: %s",
			rte_strerror(rte_errno));
		goto fail;
	}
	/* Rule hits are counted in the snapshot, in the block of the worker
	 * that runs the stage. */
	pl->stage_ctx[TG_STAGE_FILTER] = rte_zmalloc_socket("tg_filter_ctx",
		sizeof(struct tg_filter_ctx), RTE_CACHE_LINE_SIZE,
		conf->socket);
	if (pl->stage_ctx[TG_STAGE_FILTER] == NULL) {
		snprintf(err, errlen, "filter stage: out of memory");
		goto fail;
	}
	filter_ctx_init(pl->stage_ctx[TG_STAGE_FILTER],
		pl->stage_worker[TG_STAGE_FILTER]);
	if (cfg->pipeline.filter_cache > 0) {
		struct tg_filter_ctx *fc = pl->stage_ctx[TG_STAGE_FILTER];

		fc->cache = tg_filter_cache_create(
			cfg->pipeline.filter_cache, conf->socket);
		if (fc->cache == NULL) {
			snprintf(err, errlen,
				"filter stage: no memory for a decision cache "
				"of %u entries (pipeline.filter_cache)",
				cfg->pipeline.filter_cache);
			goto fail;
		}
	}
	/* The session table of NAT and the firewall, sized from the start-up
	 * configuration (turning either on later needs a restart). */
	if (cfg->nat.enabled || cfg->firewall.enabled) {
		pl->stage_ctx[TG_STAGE_NATFW] = tg_natfw_ctx_create(
			cfg, rte_get_tsc_hz(), conf->socket);
		if (pl->stage_ctx[TG_STAGE_NATFW] == NULL) {
			snprintf(err, errlen, "natfw stage: %s",
				rte_strerror(rte_errno));
			goto fail;
		}
	}
	/* The crypto device, when ipsec is on at start (turning it on later
	 * needs a restart, like NAT's table). */
	if (cfg->ipsec.enabled) {
		uint16_t port_ids[TG_MAX_PORTS];

		for (p = 0; p < conf->n_ports && p < TG_MAX_PORTS; p++)
			port_ids[p] = conf->ports[p].port_id;
		pl->stage_ctx[TG_STAGE_IPSEC] = tg_ipsec_stage_create(
			cfg, port_ids, conf->n_ports, conf->mp, conf->socket);
		if (pl->stage_ctx[TG_STAGE_IPSEC] == NULL) {
			snprintf(err, errlen,
				"ipsec stage: crypto device %s: %s",
				cfg->ipsec.crypto_device,
				rte_strerror(rte_errno));
			goto fail;
		}
		/* On one lcore, ipsec may read forward's neighbor cache
		 * between forward's bursts and send tunnel output itself. */
		if (pl->stage_worker[TG_STAGE_IPSEC] ==
			pl->stage_worker[TG_STAGE_FORWARD])
			tg_ipsec_stage_set_forward(
				pl->stage_ctx[TG_STAGE_IPSEC],
				pl->stage_ctx[TG_STAGE_FORWARD]);
	}
	/* Only a host sends requests whose replies need letting in. */
	if (conf->host.enabled) {
		pl->stage_ctx[TG_STAGE_LOCALFILTER] =
			tg_localfilter_ctx_create(conf->socket);
		if (pl->stage_ctx[TG_STAGE_LOCALFILTER] == NULL) {
			snprintf(err, errlen,
				"localfilter stage: out of "
				"memory");
			goto fail;
		}
	}
	return pl;
fail:
	tg_pipeline_free(pl);
	return NULL;
}

/* The host thread: polls while there is work, sleeps poll_us when not
 * (the empty poll of a tun/tap device is a read() system call). */
static void *
host_thread(void *arg)
{
	struct tg_pipeline *pl = arg;

	while (!__atomic_load_n(&pl->stop, __ATOMIC_RELAXED))
		if (tg_pipeline_host_poll(pl) == 0)
			rte_delay_us_sleep(pl->host.poll_us);
	return NULL;
}

int
tg_pipeline_launch(struct tg_pipeline *pl)
{
	uint16_t i;
	int rc;

	if (pl->host_io != NULL) {
		/* A control thread: DPDK places it off the worker lcores. */
		rc = rte_ctrl_thread_create(
			&pl->host_io->tid, "tg-host", NULL, host_thread, pl);
		if (rc != 0)
			return -rc;
		pl->host_io->running = true;
	}

	for (i = 0; i < pl->n_workers; i++) {
		rc = rte_eal_remote_launch(tg_pipeline_worker_main,
			pl->workers[i], pl->workers[i]->lcore);
		if (rc < 0) {
			tg_pipeline_stop(pl);
			return rc;
		}
		pl->launched = true;
	}
	return 0;
}

static void
free_ring_pkts(struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

void
tg_pipeline_stop(struct tg_pipeline *pl)
{
	uint16_t i, p;

	if (pl == NULL)
		return;
	__atomic_store_n(&pl->stop, true, __ATOMIC_RELAXED);
	if (pl->launched) {
		for (i = 0; i < pl->n_workers; i++)
			rte_eal_wait_lcore(pl->workers[i]->lcore);
		pl->launched = false;
	}
	if (pl->host_io != NULL && pl->host_io->running) {
		pthread_join(pl->host_io->tid, NULL);
		pl->host_io->running = false;
	}
	/* Packets still buffered or queued: the appliance is stopping. */
	for (i = 0; i < pl->n_workers; i++) {
		struct tg_worker *w = pl->workers[i];
		uint16_t k;

		for (p = 0; p < RTE_MAX_ETHPORTS; p++) {
			for (k = 0; k < w->tx[p].n; k++)
				rte_pktmbuf_free(w->tx[p].pkts[k]);
			w->tx[p].n = 0;
		}
		for (p = 0; p < TG_STAGE__COUNT; p++) {
			for (k = 0; k < w->to_stage[p].n; k++)
				rte_pktmbuf_free(w->to_stage[p].pkts[k]);
			w->to_stage[p].n = 0;
		}
	}
	for (i = 0; i < TG_STAGE__COUNT; i++)
		free_ring_pkts(pl->stage_ring[i]);
	for (p = 0; p < RTE_MAX_ETHPORTS; p++)
		free_ring_pkts(pl->tx_handoff[p]);
	free_ring_pkts(pl->host_ring);
	free_ring_pkts(pl->host_rx_ring);
}

void
tg_pipeline_free(struct tg_pipeline *pl)
{
	uint16_t i;

	if (pl == NULL)
		return;
	tg_pipeline_stop(pl);
	tg_pipeline_capture_stop(pl, NULL);
	tg_forward_ctx_free(pl->stage_ctx[TG_STAGE_FORWARD]);
	tg_localfilter_ctx_free(pl->stage_ctx[TG_STAGE_LOCALFILTER]);
	tg_natfw_ctx_free(pl->stage_ctx[TG_STAGE_NATFW]);
	tg_ipsec_stage_free(pl->stage_ctx[TG_STAGE_IPSEC]);
	if (pl->stage_ctx[TG_STAGE_FILTER] != NULL)
		tg_filter_cache_free(
			((struct tg_filter_ctx *)pl->stage_ctx[TG_STAGE_FILTER])
				->cache);
	rte_free(pl->stage_ctx[TG_STAGE_FILTER]);
	for (i = 0; i < TG_STAGE__COUNT; i++)
		rte_ring_free(pl->stage_ring[i]);
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		rte_ring_free(pl->tx_handoff[i]);
	rte_ring_free(pl->host_ring);
	rte_ring_free(pl->host_rx_ring);
	rte_free(pl->host_io);
	for (i = 0; i < pl->n_workers; i++) {
		rte_free(pl->workers[i]->trace);
		rte_free(pl->workers[i]);
	}
	rte_free(pl);
}

/* Counters the workers do not keep per packet, derived from those they
 * do: every packet a stage handles (in + emitted) gets one verdict, and a
 * skip from step a to b passes every stage in between. */
static void
tg_stats_derive(struct tg_lcore_stats *sum)
{
	uint8_t p, a, b, k, s;

	for (s = 0; s < TG_STAGE__COUNT; s++) {
		struct tg_stage_stats *ss = &sum->stage[s];
		uint64_t out = ss->dropped + ss->stolen + ss->jumped + ss->tx;

		ss->next = ss->in + ss->emitted > out
				   ? ss->in + ss->emitted - out
				   : 0;
		ss->bypassed = 0;
	}
	for (p = 0; p < TG_PATH__COUNT; p++)
		for (a = 0; a < TG_PATH_MAX_STEPS; a++)
			for (b = a + 1; b < TG_PATH_MAX_STEPS; b++) {
				uint64_t c = sum->skips[p][a][b];

				for (k = a; c != 0 && k < b; k++)
					if (tg_paths[p].steps[k].stage <
						TG_STAGE__COUNT)
						sum->stage[tg_paths[p]
								   .steps[k]
								   .stage]
							.bypassed += c;
			}
}

void
tg_pipeline_stats_sum(const struct tg_pipeline *pl, struct tg_lcore_stats *sum)
{
	uint16_t i;
	size_t k;

	memset(sum, 0, sizeof(*sum));
	/* the workers', then the host thread's */
	for (i = 0; i <= pl->n_workers; i++) {
		/* All-uint64_t struct: sum it word by word. A torn read of a
		 * counter cannot happen on a 64-bit target. */
		const volatile uint64_t *src;
		uint64_t *dst = (uint64_t *)sum;

		if (i < pl->n_workers)
			src = (const volatile uint64_t *)&pl->workers[i]->stats;
		else if (pl->host_io != NULL)
			src = (const volatile uint64_t *)&pl->host_io->stats;
		else
			break;
		for (k = 0; k < sizeof(*sum) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	tg_stats_derive(sum);
}

uint64_t
tg_pipeline_in_rings(const struct tg_pipeline *pl)
{
	uint64_t n = 0;
	uint16_t i;

	for (i = 0; i < TG_STAGE__COUNT; i++)
		n += rte_ring_count(pl->stage_ring[i]);
	for (i = 0; i < RTE_MAX_ETHPORTS; i++)
		if (pl->tx_handoff[i] != NULL)
			n += rte_ring_count(pl->tx_handoff[i]);
	if (pl->host_ring != NULL)
		n += rte_ring_count(pl->host_ring) +
		     rte_ring_count(pl->host_rx_ring);
	return n + tg_ipsec_inflight(pl->stage_ctx[TG_STAGE_IPSEC]);
}

const struct tg_forward_ctx *
tg_pipeline_forward_ctx(const struct tg_pipeline *pl)
{
	return pl->stage_ctx[TG_STAGE_FORWARD];
}

int
tg_pipeline_stage_lcore(const struct tg_pipeline *pl, uint8_t stage)
{
	if (stage >= TG_STAGE__COUNT || pl->stage_worker[stage] < 0)
		return -1;
	return (int)pl->workers[pl->stage_worker[stage]]->lcore;
}

void
tg_pipeline_host_info(
	const struct tg_pipeline *pl, struct tg_pipeline_host_info *info)
{
	const struct tg_localfilter_ctx *lf =
		pl->stage_ctx[TG_STAGE_LOCALFILTER];

	memset(info, 0, sizeof(*info));
	if (pl->host_ring == NULL)
		return;
	info->enabled = true;
	info->port_id = pl->host.port_id;
	info->queue_size = rte_ring_get_capacity(pl->host_ring);
	info->queue_used = rte_ring_count(pl->host_ring);
	info->rx_queue_used = rte_ring_count(pl->host_rx_ring);
	if (lf != NULL)
		info->udp_replies =
			__atomic_load_n(&lf->udp_replies, __ATOMIC_RELAXED);
}

const struct tg_filter_cache *
tg_pipeline_filter_cache(const struct tg_pipeline *pl)
{
	const struct tg_filter_ctx *fc =
		pl != NULL ? pl->stage_ctx[TG_STAGE_FILTER] : NULL;

	return fc != NULL ? fc->cache : NULL;
}

struct tg_natfw_ctx *
tg_pipeline_natfw(const struct tg_pipeline *pl)
{
	return pl != NULL ? pl->stage_ctx[TG_STAGE_NATFW] : NULL;
}

struct tg_ipsec_stage *
tg_pipeline_ipsec(const struct tg_pipeline *pl)
{
	return pl != NULL ? pl->stage_ctx[TG_STAGE_IPSEC] : NULL;
}
