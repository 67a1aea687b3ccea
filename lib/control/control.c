/* SPDX-License-Identifier: BSD-3-Clause
 * Snapshot build and RCU publication.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "tg_control.h"
#include "tg_pipeline.h"

int
tg_tables_build(const struct tg_config *cfg, const struct tg_port_env *env,
	const struct tg_tables *prev, struct tg_natfw_ctx *natfw,
	struct tg_ipsec_stage *ipsec, uint64_t generation, int socket,
	struct tg_tables **out, char *err, size_t errlen)
{
	struct tg_tables *t;
	uint16_t i;
	int rc;

	*out = NULL;
	t = rte_zmalloc_socket(
		"tg_tables", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		snprintf(err, errlen, "out of memory for the snapshot");
		return -ENOMEM;
	}
	t->generation = generation;
	rc = tg_forward_build(
		cfg, env, generation, socket, &t->forward, err, errlen);
	if (rc == 0)
		rc = tg_localfilter_build(cfg, env->port_id, env->n_ports,
			socket, &t->localfilter, err, errlen);
	if (rc == 0)
		rc = tg_natfw_build_from(cfg, env->port_id, env->n_ports,
			prev != NULL ? prev->natfw : NULL, natfw, &t->natfw,
			err, errlen);
	if (rc == 0)
		rc = tg_filter_build_from(cfg, env->port_id, env->n_ports,
			env->n_workers ? env->n_workers : 1, socket,
			prev != NULL ? prev->filter : NULL, &t->filter, err,
			errlen);
	if (rc == 0)
		rc = tg_ipsec_build(cfg, ipsec,
			prev != NULL ? prev->ipsec : NULL, socket, &t->ipsec,
			err, errlen);
	if (rc == 0)
		tg_ipsec_table_link(t->ipsec, t->forward);
	if (rc < 0) {
		tg_forward_table_free(t->forward);
		tg_localfilter_table_free(t->localfilter);
		tg_filter_table_free(t->filter);
		tg_natfw_table_free(t->natfw);
		rte_free(t);
		return rc;
	}
	/* Forward always routes; the other stages work when configured. */
	t->active_stages = 1u << TG_STAGE_FORWARD;
	if (t->localfilter->enabled)
		t->active_stages |= 1u << TG_STAGE_LOCALFILTER;
	if (t->filter->enabled)
		t->active_stages |= 1u << TG_STAGE_FILTER;
	if (t->natfw->modes != 0)
		t->active_stages |= 1u << TG_STAGE_NATFW;
	if (t->ipsec->enabled)
		t->active_stages |= 1u << TG_STAGE_IPSEC;
	memset(t->stage_modes, 0xff, sizeof(t->stage_modes));
	t->stage_modes[TG_STAGE_NATFW] = (uint8_t)t->natfw->modes;
	t->stage_modes[TG_STAGE_IPSEC] = t->ipsec->modes;
	t->stage_modes[TG_STAGE_FILTER] = 0;
	for (i = 0; i < t->filter->n_lists; i++)
		t->stage_modes[TG_STAGE_FILTER] |=
			1u << (t->filter->lists[i].dir == TG_CFG_FILTER_IN
					? TG_MODE_IN
					: TG_MODE_OUT);
	memset(t->stage_pass_out, 0, sizeof(t->stage_pass_out));
	t->stage_pass_out[TG_STAGE_IPSEC] = tg_ipsec_pass_out(t->ipsec);
	if (!cfg->pipeline.bypass_idle_stages) {
		t->active_stages = (1u << TG_STAGE__COUNT) - 1;
		memset(t->stage_modes, 0xff, sizeof(t->stage_modes));
		memset(t->stage_pass_out, 0, sizeof(t->stage_pass_out));
	}
	*out = t;
	return 0;
}

void
tg_tables_free(struct tg_tables *t)
{
	if (t == NULL)
		return;
	tg_forward_table_free(t->forward);
	tg_localfilter_table_free(t->localfilter);
	tg_filter_table_free(t->filter);
	tg_natfw_table_free(t->natfw);
	tg_ipsec_table_free(t->ipsec);
	tg_config_free(t->cfg);
	rte_free(t);
}

int
tg_control_init(
	struct tg_control *ctl, const struct tg_port_env *env, int socket)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);

	memset(ctl, 0, sizeof(*ctl));
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_init(&ctl->reload_lock, NULL);
	ctl->env = *env;
	ctl->socket = socket;
	ctl->start_time = (uint64_t)time(NULL);
	ctl->slot.qsv =
		rte_zmalloc_socket("tg_qsbr", sz, RTE_CACHE_LINE_SIZE, socket);
	if (ctl->slot.qsv == NULL)
		return -ENOMEM;
	/* Thread ids are lcore ids: workers register with their own. */
	if (rte_rcu_qsbr_init(ctl->slot.qsv, RTE_MAX_LCORE) != 0) {
		rte_free(ctl->slot.qsv);
		ctl->slot.qsv = NULL;
		return -rte_errno;
	}
	return 0;
}

int
tg_control_apply(
	struct tg_control *ctl, struct tg_config *cfg, char *err, size_t errlen)
{
	uint64_t build_us;
	int rc;

	pthread_mutex_lock(&ctl->reload_lock);
	rc = tg_control_apply_locked(ctl, cfg, err, errlen, &build_us);
	pthread_mutex_unlock(&ctl->reload_lock);
	return rc;
}

/*
 * SAs the new snapshot does not use: destroyed once the crypto device has
 * given back their operations. The worker picks completions up on every
 * poll, so this takes microseconds; what is still in flight after a
 * while waits for the next reload (or shutdown).
 */
static void
ipsec_retire(struct tg_control *ctl, const struct tg_tables *t)
{
	struct tg_ipsec_stage *st = tg_pipeline_ipsec(ctl->pl);
	int i;

	for (i = 0; i < 100 && tg_ipsec_stage_sweep(st, t->ipsec) != 0; i++)
		rte_delay_us_sleep(1000);
}

int
tg_control_apply_locked(struct tg_control *ctl, struct tg_config *cfg,
	char *err, size_t errlen, uint64_t *build_us)
{
	uint64_t t0 = rte_get_tsc_cycles();
	struct tg_tables *t, *old;
	int rc;

	/* Built without the readers' lock: telemetry keeps answering from
	 * the running snapshot while a large table is being built. */
	/* slot.cur can only be replaced by the holder of reload_lock: it
	 * stays alive while the new snapshot borrows from it. */
	rc = tg_tables_build(cfg, &ctl->env, ctl->slot.cur,
		tg_pipeline_natfw(ctl->pl), tg_pipeline_ipsec(ctl->pl),
		ctl->generation + 1, ctl->socket, &t, err, errlen);
	*build_us = (rte_get_tsc_cycles() - t0) * 1000000 / rte_get_tsc_hz();
	if (rc < 0) {
		/* SAs made for the failed build: nothing uses them. */
		tg_ipsec_stage_sweep(tg_pipeline_ipsec(ctl->pl),
			ctl->slot.cur != NULL ? ctl->slot.cur->ipsec : NULL);
		return rc;
	}
	t->cfg = cfg;
	t->load_time = (uint64_t)time(NULL);
	pthread_mutex_lock(&ctl->lock);
	old = ctl->slot.cur;
	/* Publish: one store. Readers see the old or the new, never a mix. */
	__atomic_store_n(&ctl->slot.cur, t, __ATOMIC_RELEASE);
	__atomic_store_n(&ctl->generation, t->generation, __ATOMIC_RELAXED);
	/* Every worker must finish the iteration that may still use `old`. */
	rte_rcu_qsbr_synchronize(ctl->slot.qsv, RTE_QSBR_THRID_INVALID);
	/* No worker counts in `old` any more, and telemetry (waiting for
	 * `lock`) has not read the new counts yet: unchanged rules keep
	 * their hits. */
	if (old != NULL) {
		tg_filter_carry_hits(t->filter, old->filter);
		tg_ipsec_carry_hits(t->ipsec, old->ipsec);
	}
	tg_tables_free(old);
	pthread_mutex_unlock(&ctl->lock);
	ipsec_retire(ctl, t);
	return 0;
}

void
tg_control_fini(struct tg_control *ctl)
{
	pthread_mutex_lock(&ctl->reload_lock); /* let a running reload end */
	pthread_mutex_lock(&ctl->lock);
	tg_tables_free(ctl->slot.cur);
	ctl->slot.cur = NULL;
	rte_free(ctl->slot.qsv);
	ctl->slot.qsv = NULL;
	pthread_mutex_unlock(&ctl->lock);
	pthread_mutex_unlock(&ctl->reload_lock);
}
