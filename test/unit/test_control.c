/* SPDX-License-Identifier: BSD-3-Clause
 * lib/control: snapshot build, publication, and the RCU contract with a
 * reader on a second lcore.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>

#include "tg_control.h"
#include "tg_test.h"

static struct tg_port_env env;

static const char base_yaml[] = "ports:\n"
				"  - name: p0\n"
				"    device: net_null0\n"
				"  - name: p1\n"
				"    device: net_null1\n"
				"interfaces:\n"
				"  - name: lan0\n"
				"    port: p0\n"
				"    address: 10.0.0.1/24\n"
				"  - name: wan0\n"
				"    port: p1\n"
				"    address: 10.1.0.1/24\n"
				"limits:\n"
				"  max_routes: 64\n"
				"  lpm_tbl8: 16\n"
				"routes:\n";

/* A config with @p n routes 20.<k>.0.0/16 (or 20.<k>.0.0/25 when @p long_
 * is set: each needs an LPM tbl8 group) via wan0's gateways. */
static struct tg_config *
make_cfg_len(unsigned int n, unsigned int shift, bool long_)
{
	size_t len = sizeof(base_yaml) + n * 96;
	char *y = malloc(len);
	struct tg_cfg_errors errs;
	struct tg_config *cfg = NULL;
	size_t off;
	unsigned int i;

	CU_ASSERT_FATAL(y != NULL);
	off = (size_t)snprintf(y, len, "%s", base_yaml);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(y + off, len - off,
			"  - prefix: 20.%u.0.0/%u\n    via: 10.1.0.%u\n"
			"    interface: wan0\n",
			(i + shift) % 256, long_ ? 25 : 16, 2 + (i % 100));
	if (n == 0)
		off += (size_t)snprintf(y + off, len - off, "  []\n");
	if (tg_config_parse("<test>", y, off, &cfg, &errs) < 0)
		tg_cfg_errors_print(&errs, stderr);
	free(y);
	return cfg;
}

static struct tg_config *
make_cfg(unsigned int n, unsigned int shift)
{
	return make_cfg_len(n, shift, false);
}

static void
test_control_build_fails_cleanly(void)
{
	struct tg_control ctl;
	struct tg_config *cfg;
	char err[256] = "";
	int rc;

	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	cfg = make_cfg(4, 0);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT(tg_control_apply(&ctl, cfg, err, sizeof(err)) == 0);
	CU_ASSERT(ctl.generation == 1);

	/* More /25s than limits.lpm_tbl8 groups: validates, cannot build. */
	cfg = make_cfg_len(40, 0, true);
	CU_ASSERT_FATAL(cfg != NULL);
	rc = tg_control_apply(&ctl, cfg, err, sizeof(err));
	CU_ASSERT(rc == -ENOSPC);
	CU_ASSERT(strstr(err, "routes[") != NULL);
	/* Nothing changed: same generation, same snapshot. */
	CU_ASSERT(ctl.generation == 1);
	CU_ASSERT(ctl.slot.cur->cfg->n_routes == 4);
	tg_config_free(cfg);
	tg_control_fini(&ctl);
}

static void
test_control_apply_replaces_snapshot(void)
{
	struct tg_control ctl;
	struct tg_tables *first;
	char err[256];

	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	CU_ASSERT(
		tg_control_apply(&ctl, make_cfg(2, 0), err, sizeof(err)) == 0);
	first = ctl.slot.cur;
	CU_ASSERT(first->generation == 1);
	CU_ASSERT(first->forward->generation == 1);
	CU_ASSERT(
		tg_control_apply(&ctl, make_cfg(3, 7), err, sizeof(err)) == 0);
	CU_ASSERT(ctl.slot.cur != NULL);
	CU_ASSERT(ctl.slot.cur->generation == 2);
	CU_ASSERT(ctl.slot.cur->cfg->n_routes == 3);
	CU_ASSERT(tg_forward_is_local(ctl.slot.cur->forward, 0x0a000001));
	tg_control_fini(&ctl);
}

/* Reader/writer: the reader announces which generation it holds while it
 * uses a snapshot; once apply() has returned, no reader may still hold an
 * older one (that memory is freed). */
static struct {
	struct tg_control *ctl;
	uint64_t holding;
	uint64_t seen_max;
	uint64_t iterations;
	uint64_t torn;
	bool stop;
} rd;

static int
reader_main(void *arg)
{
	struct rte_rcu_qsbr *qsv = rd.ctl->slot.qsv;
	unsigned int id = rte_lcore_id();

	rte_rcu_qsbr_thread_register(qsv, id);
	rte_rcu_qsbr_thread_online(qsv, id);
	while (!__atomic_load_n(&rd.stop, __ATOMIC_ACQUIRE)) {
		const struct tg_tables *t = tg_snapshot_get(&rd.ctl->slot);
		uint64_t g = t->generation;
		int k;

		__atomic_store_n(&rd.holding, g, __ATOMIC_SEQ_CST);
		for (k = 0; k < 50; k++) {
			/* Table and its parts must stay whole while held. */
			if (t->forward->generation != g || t->cfg == NULL)
				rd.torn++;
			rte_pause();
		}
		if (g > rd.seen_max)
			rd.seen_max = g;
		__atomic_store_n(&rd.holding, 0, __ATOMIC_SEQ_CST);
		rd.iterations++;
		rte_rcu_qsbr_quiescent(qsv, id);
	}
	rte_rcu_qsbr_thread_offline(qsv, id);
	rte_rcu_qsbr_thread_unregister(qsv, id);
	return 0;
}

static void
test_control_rcu_two_lcores(void)
{
	struct tg_control ctl;
	unsigned int reader = rte_get_next_lcore(-1, 1, 0);
	uint64_t violations = 0;
	char err[256];
	int i;

	CU_ASSERT_FATAL(reader < RTE_MAX_LCORE);
	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	CU_ASSERT_FATAL(
		tg_control_apply(&ctl, make_cfg(1, 0), err, sizeof(err)) == 0);
	memset(&rd, 0, sizeof(rd));
	rd.ctl = &ctl;
	CU_ASSERT_FATAL(rte_eal_remote_launch(reader_main, NULL, reader) == 0);
	while (__atomic_load_n(&rd.iterations, __ATOMIC_RELAXED) == 0)
		rte_pause();
	for (i = 0; i < 200; i++) {
		uint64_t h;

		CU_ASSERT_FATAL(tg_control_apply(&ctl, make_cfg(1 + i % 8, i),
					err, sizeof(err)) == 0);
		h = __atomic_load_n(&rd.holding, __ATOMIC_SEQ_CST);
		if (h != 0 && h < ctl.generation)
			violations++;
	}
	__atomic_store_n(&rd.stop, true, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(reader);
	CU_ASSERT(violations == 0);
	CU_ASSERT(rd.torn == 0);
	CU_ASSERT(ctl.generation == 201);
	CU_ASSERT(rd.seen_max > 1); /* the reader did follow the updates */
	tg_control_fini(&ctl);
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_control") < 0)
		return 1;
	env.n_ports = 2;
	env.port_id[0] = 0;
	env.port_id[1] = 1;
	env.mac[0] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 0xa0}};
	env.mac[1] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 0xa1}};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("control", NULL, NULL, "test_control_build_fails_cleanly",
		test_control_build_fails_cleanly,
		"test_control_apply_replaces_snapshot",
		test_control_apply_replaces_snapshot,
		"test_control_rcu_two_lcores", test_control_rcu_two_lcores,
		NULL);
	rc = tg_test_run();
	tg_test_eal_cleanup();
	return rc;
}
