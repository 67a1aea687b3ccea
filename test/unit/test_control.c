/* SPDX-License-Identifier: BSD-3-Clause
 * lib/control: snapshot build, publication, and the RCU contract with a
 * reader on a second lcore.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* base_yaml with no routes, then @p tail from line 18. */
static struct tg_config *
make_cfg_tail(const char *tail)
{
	struct tg_cfg_errors errs;
	struct tg_config *cfg = NULL;
	char y[2048];
	int n = snprintf(y, sizeof(y), "%s  []\n%s", base_yaml, tail);

	if (tg_config_parse("<test>", y, (size_t)n, &cfg, &errs) < 0)
		tg_cfg_errors_print(&errs, stderr);
	return cfg;
}

/* nat and firewall build into the snapshot (the natfw stage active in
 * the modes they need); what the session table was sized and laid out
 * from cannot change on reload, the timeouts can. */
static void
test_control_natfw_applies_and_restart_only(void)
{
	static const char nat[] = "nat:\n  private: [lan0]\n  public: [wan0]\n";
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *plain, *on, *tmo, *big, *range, *pmap, *per_host;
	struct tg_control ctl;
	char err[512];

	CU_ASSERT_FATAL(errs != NULL);
	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	on = make_cfg_tail("nat: {private: [lan0], public: [wan0]}\n"
			   "firewall: {}\n");
	CU_ASSERT_FATAL(on != NULL);
	CU_ASSERT(tg_control_apply(&ctl, on, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(ctl.slot.cur != NULL && ctl.slot.cur->natfw != NULL);
	CU_ASSERT(ctl.slot.cur->natfw->nat && ctl.slot.cur->natfw->firewall);
	CU_ASSERT(ctl.slot.cur->active_stages & 1u << TG_STAGE_NATFW);
	CU_ASSERT_EQUAL(ctl.slot.cur->stage_modes[TG_STAGE_NATFW],
		1u << TG_MODE_TRANSIT | 1u << TG_MODE_IN | 1u << TG_MODE_OUT);
	/* a range that moves applies: the address keeps its slot, the
	 * layout moves on (the stage sweeps) */
	CU_ASSERT_EQUAL(ctl.slot.cur->natfw->layout, 1);
	on = make_cfg_tail("nat:\n  private: [lan0]\n  public: [wan0]\n"
			   "  addresses:\n    - {address: 10.1.0.1, ports: "
			   "2000-3000}\nfirewall: {}\n");
	CU_ASSERT_FATAL(on != NULL);
	CU_ASSERT(tg_control_apply(&ctl, on, err, sizeof(err)) == 0);
	CU_ASSERT_EQUAL(ctl.slot.cur->natfw->layout, 2);
	CU_ASSERT_EQUAL(ctl.slot.cur->natfw->slot[0], 0);
	CU_ASSERT_EQUAL(ctl.slot.cur->natfw->port_lo[0], 2000);
	tg_control_fini(&ctl);

	plain = make_cfg(2, 0);
	on = make_cfg_tail(nat);
	tmo = make_cfg_tail("nat:\n  private: [lan0]\n  public: [wan0]\n"
			    "  timeouts: {udp: 60}\n");
	big = make_cfg_tail("nat:\n  private: [lan0]\n  public: [wan0]\n"
			    "  max_sessions: 1000\n");
	range = make_cfg_tail("nat:\n  private: [lan0]\n  public: [wan0]\n"
			      "  addresses:\n    - {address: 10.1.0.1, ports: "
			      "40000-40999}\n");
	pmap = make_cfg_tail("nat:\n  private: [lan0]\n  public: [wan0]\n"
			     "  port_mappings:\n    - {name: web, protocol: "
			     "tcp, public_port: 80, private_address: "
			     "10.0.0.9}\n");
	per_host = make_cfg_tail("nat:\n  private: [lan0]\n  public: "
				 "[wan0]\n  max_sessions_per_host: 9\n");
	CU_ASSERT_FATAL(plain && on && tmo && big && range && pmap && per_host);
	/* turning NAT on: no session table to use */
	CU_ASSERT(tg_control_check_restart_only(plain, on, errs) == 1);
	CU_ASSERT_STRING_EQUAL(errs->e[0].path, "nat");
	/* new timeouts apply at once */
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(on, tmo, errs) == 0);
	/* a table of another size does not */
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(on, big, errs) == 1);
	CU_ASSERT_STRING_EQUAL(errs->e[0].path, "nat.max_sessions");
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(on, per_host, errs) == 1);
	CU_ASSERT_STRING_EQUAL(errs->e[0].path, "nat.max_sessions_per_host");
	/* addresses, ranges and port mappings apply live (docs/nat.md,
	 * Reload) */
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(on, range, errs) == 0);
	CU_ASSERT(tg_control_check_restart_only(range, on, errs) == 0);
	CU_ASSERT(tg_control_check_restart_only(on, pmap, errs) == 0);
	CU_ASSERT(tg_control_check_restart_only(pmap, range, errs) == 0);
	/* turning it off: the table would be sized otherwise (and turning
	 * it on again finds none) */
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(on, plain, errs) == 1);
	CU_ASSERT_STRING_EQUAL(errs->e[0].path, "nat.enabled");
	tg_config_free(range);
	tg_config_free(pmap);
	tg_config_free(per_host);
	tg_config_free(plain);
	tg_config_free(on);
	tg_config_free(tmo);
	tg_config_free(big);
	free(errs);
}

static void
test_control_apply_replaces_snapshot(void)
{
	struct tg_control ctl;
	struct tg_tables *first;
	struct tg_config *cfg;
	char err[256];

	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	CU_ASSERT(
		tg_control_apply(&ctl, make_cfg(2, 0), err, sizeof(err)) == 0);
	first = ctl.slot.cur;
	CU_ASSERT(first->generation == 1);
	CU_ASSERT(first->forward->generation == 1);
	/* only forward has work: the other stages are passed by */
	CU_ASSERT(first->active_stages == 1u << TG_STAGE_FORWARD);
	cfg = make_cfg(3, 7);
	CU_ASSERT_FATAL(cfg != NULL);
	cfg->pipeline.bypass_idle_stages = false;
	CU_ASSERT(tg_control_apply(&ctl, cfg, err, sizeof(err)) == 0);
	CU_ASSERT(ctl.slot.cur != NULL);
	CU_ASSERT(ctl.slot.cur->active_stages == (1u << TG_STAGE__COUNT) - 1);
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

/* ==== live reload ====================================================== */

/* Files for the reload tests live in a private temporary directory. */
static char tmpdir[64];
#define MAX_TMPFILES 64
static char tmpfiles[MAX_TMPFILES][128];
static unsigned int n_tmpfiles;

static int
reload_suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tg-unit-control-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int
reload_suite_clean(void)
{
	unsigned int i;

	for (i = 0; i < n_tmpfiles; i++)
		unlink(tmpfiles[i]);
	n_tmpfiles = 0;
	return rmdir(tmpdir) == 0 ? 0 : -1;
}

/* Write @p text to tmpdir/@p name (replacing it); returns the path (static
 * storage, valid until the suite ends), or NULL. Usable outside a test
 * (suite set-up): no CUnit assertion here. */
static const char *
write_file_raw(const char *name, const char *text)
{
	char path[128];
	unsigned int i;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	for (i = 0; i < n_tmpfiles; i++)
		if (strcmp(tmpfiles[i], path) == 0)
			break;
	if (i == n_tmpfiles) {
		if (n_tmpfiles == MAX_TMPFILES)
			return NULL;
		snprintf(tmpfiles[n_tmpfiles++], sizeof(tmpfiles[0]), "%s",
			path);
	}
	f = fopen(tmpfiles[i], "w");
	if (f == NULL)
		return NULL;
	ok = fputs(text, f) >= 0;
	ok = fclose(f) == 0 && ok;
	return ok ? tmpfiles[i] : NULL;
}

static const char *
write_file(const char *name, const char *text)
{
	const char *path = write_file_raw(name, text);

	CU_ASSERT_FATAL(path != NULL);
	return path;
}

/* A growable string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

static void
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if (b->s != NULL && b->len + (size_t)n < b->cap)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (b->s == NULL)
			abort(); /* also used in suite set-up: no CUnit here */
	}
	b->len += (size_t)n;
}

/* The line (1-based) of the first occurrence of @p needle in @p text. */
static uint32_t
line_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *q;
	uint32_t line = 1;

	CU_ASSERT_FATAL(p != NULL);
	for (q = text; q < p; q++)
		line += *q == '\n';
	return line;
}

/* Index of the first error whose path is @p path, or -1. */
static int
err_find(const struct tg_cfg_errors *errs, const char *path)
{
	uint32_t i;

	for (i = 0; i < errs->n && i < TG_CFG_MAX_ERRORS; i++)
		if (strcmp(errs->e[i].path, path) == 0)
			return (int)i;
	return -1;
}

static void
errs_dump(const struct tg_cfg_errors *errs)
{
	tg_cfg_errors_print(errs, stderr);
}

/* ---- start-up-only settings -------------------------------------------- */

/* Everything that only a restart may change, set explicitly. */
static const char restart_base[] =
	"dpdk:\n"
	"  lcores: \"0-2\"\n"
	"  memory_mb: 256\n"
	"  no_huge: true\n"
	"mempool:\n"
	"  mbufs: 8191\n"
	"  cache: 256\n"
	"arp:\n"
	"  max_neighbors: 4096\n"
	"  reachable_s: 300\n"
	"icmp:\n"
	"  rate: 100\n"
	"pipeline:\n"
	"  burst: 32\n"
	"  ring_size: 1024\n"
	"  filter_cache: 49152\n"
	"  placement:\n"
	"    - lcore: 1\n"
	"      ports: [p0, p1]\n"
	"      stages: [forward, filter, natfw, ipsec, localfilter]\n"
	"ports:\n"
	"  - name: p0\n"
	"    device: net_null0\n"
	"  - name: p1\n"
	"    device: net_null1\n"
	"limits:\n"
	"  max_routes: 64\n"
	"  lpm_tbl8: 16\n"
	"interfaces:\n"
	"  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
	"  - {name: wan0, port: p1, address: 10.1.0.1/24}\n"
	"routes:\n"
	"  - {prefix: 20.0.0.0/16, via: 10.1.0.2, interface: wan0}\n";

/* @p text with the first @p from replaced by @p to (malloc'd). */
static char *
edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	struct sbuf b = {0};

	CU_ASSERT_FATAL(p != NULL);
	sb_add(&b, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from));
	return b.s;
}

static char *
base_with(const char *from, const char *to)
{
	return edit(restart_base, from, to);
}

static struct tg_config *
parse_text(const char *name, const char *text)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *cfg = NULL;

	CU_ASSERT_FATAL(errs != NULL);
	if (tg_config_parse(name, text, strlen(text), &cfg, errs) < 0)
		errs_dump(errs);
	free(errs);
	return cfg;
}

/*
 * @p text is @p run_text with start-up-only changes (freed here). Check
 * that the change is refused: by tg_control_check_restart_only() with exactly
 * the errors in
 * @p paths (NULL-terminated; @p line_needle, if set, is the text whose line
 * the first error must point at, else that error has no position), and by
 * tg_control_reload() and tg_control_check() from a file, with nothing
 * changed.
 */
static void
expect_restart_only_text(const char *run_text, char *text,
	const char *line_needle, const char *const *paths)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *run = parse_text("<run>", run_text), *nc;
	char fmt[4400];
	struct tg_reload_summary sum;
	struct tg_tables *before;
	struct tg_control ctl;
	unsigned int n_paths = 0;
	const char *file;
	char err[256];
	int rc, k;

	CU_ASSERT_FATAL(errs != NULL && run != NULL);
	nc = parse_text("<next>", text);
	CU_ASSERT_FATAL(nc != NULL); /* the change itself is valid */
	while (paths[n_paths] != NULL)
		n_paths++;

	rc = tg_control_check_restart_only(run, nc, errs);
	CU_ASSERT(rc == (int)n_paths);
	CU_ASSERT(errs->n == n_paths);
	for (k = 0; k < (int)n_paths; k++) {
		int i = err_find(errs, paths[k]);

		CU_ASSERT(i >= 0);
		if (i < 0) {
			fprintf(stderr, "\n  no error for %s:\n", paths[k]);
			errs_dump(errs);
			continue;
		}
		CU_ASSERT(strstr(errs->e[i].msg, "restart") != NULL);
		if (k == 0 && line_needle != NULL) {
			CU_ASSERT(
				errs->e[i].line == line_of(text, line_needle));
			CU_ASSERT(errs->e[i].col > 0);
		} else if (k == 0) {
			CU_ASSERT(errs->e[i].line == 0);
			/* Without a position the key is named in the
			 * message. */
			CU_ASSERT(strncmp(errs->e[i].msg, paths[k],
					  strlen(paths[k])) == 0);
		}
	}
	/* Symmetric: going back is refused the same way. */
	memset(errs, 0, sizeof(*errs));
	CU_ASSERT(tg_control_check_restart_only(nc, run, errs) == (int)n_paths);
	tg_config_free(nc);

	/* Through a live control: refused, nothing changes. */
	CU_ASSERT_FATAL(tg_control_init(&ctl, &env, 0) == 0);
	CU_ASSERT_FATAL(tg_control_apply(&ctl, run, err, sizeof(err)) == 0);
	before = ctl.slot.cur;
	file = write_file("restart_only.yaml", text);
	rc = tg_control_reload(&ctl, file, errs, &sum);
	CU_ASSERT(rc == -EINVAL);
	CU_ASSERT(errs->n == n_paths);
	k = err_find(errs, paths[0]);
	CU_ASSERT(k >= 0);
	CU_ASSERT(strcmp(errs->file, file) == 0);
	if (k >= 0) {
		char want[256];

		tg_cfg_error_format(errs, (uint32_t)k, fmt, sizeof(fmt));
		if (line_needle == NULL)
			snprintf(
				want, sizeof(want), "%s: %s: ", file, paths[0]);
		else
			snprintf(want, sizeof(want), "%s:%u:", file,
				line_of(text, line_needle));
		CU_ASSERT(strncmp(fmt, want, strlen(want)) == 0);
		if (strncmp(fmt, want, strlen(want)) != 0)
			fprintf(stderr, "\n  '%s' does not start with '%s'\n",
				fmt, want);
	}
	CU_ASSERT(sum.generation == 1);
	CU_ASSERT(ctl.generation == 1);
	CU_ASSERT(ctl.slot.cur == before);
	CU_ASSERT(ctl.slot.cur->cfg == run);
	CU_ASSERT(strcmp(ctl.slot.cur->cfg->file, "<run>") == 0);
	/* check says the same and applies nothing either. */
	CU_ASSERT(tg_control_check(&ctl, file, errs) == -EINVAL);
	CU_ASSERT(err_find(errs, paths[0]) >= 0);
	CU_ASSERT(ctl.generation == 1 && ctl.slot.cur == before);
	tg_control_fini(&ctl);
	free(text);
	free(errs);
}

static void
expect_restart_only(const char *from, const char *to, const char *line_needle,
	const char *const *paths)
{
	expect_restart_only_text(
		restart_base, base_with(from, to), line_needle, paths);
}

static void
test_control_restart_only_port_device(void)
{
	static const char *const p[] = {"ports[1]", NULL};

	expect_restart_only(
		"device: net_null1", "device: net_null7", "  - name: p1", p);
}

static void
test_control_restart_only_port_queue_count(void)
{
	static const char *const p[] = {"ports[0]", NULL};
	static const char *const more[] = {"    rx_queues: 2\n",
		"    rx_desc: 2048\n", "    tx_desc: 512\n"};
	/* Two rx queues on p0 need the placement to poll both, which is a
	 * second start-up-only change; keep the placement out of it. */
	char *run_text =
		base_with("  placement:\n"
			  "    - lcore: 1\n"
			  "      ports: [p0, p1]\n"
			  "      stages: [forward, filter, natfw, ipsec, "
			  "localfilter]\n",
			"");
	unsigned int i;

	for (i = 0; i < RTE_DIM(more); i++) {
		char to[64];

		snprintf(to, sizeof(to), "    device: net_null0\n%s", more[i]);
		expect_restart_only_text(run_text,
			edit(run_text, "    device: net_null0\n", to),
			"  - name: p0", p);
	}
	free(run_text);
}

static void
test_control_restart_only_port_count(void)
{
	/* A third port must be polled too: the placement changes with it. */
	static const char *const p[] = {"ports", "pipeline.placement[0]", NULL};
	char *t = base_with(
		"      ports: [p0, p1]\n", "      ports: [p0, p1, p2]\n");
	char *t2 = edit(t, "    device: net_null1\n",
		"    device: net_null1\n  - name: p2\n    device: net_null2\n");

	free(t);
	expect_restart_only_text(restart_base, t2, NULL, p);
}

static void
test_control_restart_only_dpdk_lcores(void)
{
	static const char *const p[] = {"dpdk", NULL};

	expect_restart_only("lcores: \"0-2\"", "lcores: \"0-3\"", NULL, p);
}

static void
test_control_restart_only_dpdk_memory(void)
{
	static const char *const p[] = {"dpdk", NULL};

	expect_restart_only("memory_mb: 256", "memory_mb: 512", NULL, p);
}

static void
test_control_restart_only_mempool(void)
{
	static const char *const p[] = {"mempool", NULL};

	expect_restart_only("mbufs: 8191", "mbufs: 16383", NULL, p);
	expect_restart_only("cache: 256", "cache: 128", NULL, p);
}

static void
test_control_restart_only_pipeline_placement(void)
{
	static const char *const same_count[] = {"pipeline.placement[0]", NULL};
	static const char *const other_count[] = {"pipeline.placement", NULL};

	/* Another lcore for the same work: the entry is named. */
	expect_restart_only("    - lcore: 1\n", "    - lcore: 2\n",
		"    - lcore: 2", same_count);
	/* The work split over two lcores. */
	expect_restart_only("      stages: [forward, filter, natfw, ipsec, "
			    "localfilter]\n",
		"      stages: [forward, filter]\n"
		"    - lcore: 2\n"
		"      stages: [natfw, ipsec, localfilter]\n",
		NULL, other_count);
}

static void
test_control_restart_only_pipeline_rings(void)
{
	static const char *const p[] = {"pipeline", NULL};

	expect_restart_only("burst: 32", "burst: 16", NULL, p);
	expect_restart_only("ring_size: 1024", "ring_size: 2048", NULL, p);
}

/* The decision cache is allocated with the pipeline: its size stays. */
static void
test_control_restart_only_pipeline_filter_cache(void)
{
	static const char *const p[] = {"pipeline.filter_cache", NULL};

	expect_restart_only("filter_cache: 49152", "filter_cache: 0", NULL, p);
	expect_restart_only(
		"filter_cache: 49152", "filter_cache: 1000", NULL, p);
}

static void
test_control_restart_only_arp_max_neighbors(void)
{
	static const char *const p[] = {"arp.max_neighbors", NULL};

	expect_restart_only(
		"max_neighbors: 4096", "max_neighbors: 8192", NULL, p);
}

static void
test_control_restart_only_reports_every_change(void)
{
	static const char *const p[] = {
		"dpdk", "mempool", "arp.max_neighbors", "ports[1]", NULL};
	static const char *const edits[][2] = {
		{"lcores: \"0-2\"", "lcores: \"0-3\""},
		{"mbufs: 8191", "mbufs: 4095"},
		{"max_neighbors: 4096", "max_neighbors: 64"},
		{"net_null1", "net_null5"},
	};
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *run = parse_text("<run>", restart_base), *nc;
	char *t = strdup(restart_base), *t2;
	unsigned int k;

	CU_ASSERT_FATAL(errs != NULL && run != NULL && t != NULL);
	for (k = 0; k < RTE_DIM(edits); k++) {
		t2 = edit(t, edits[k][0], edits[k][1]);
		free(t);
		t = t2;
	}
	nc = parse_text("<next>", t);
	CU_ASSERT_FATAL(nc != NULL);
	CU_ASSERT(tg_control_check_restart_only(run, nc, errs) == 4);
	for (k = 0; p[k] != NULL; k++)
		CU_ASSERT(err_find(errs, p[k]) >= 0);
	tg_config_free(nc);
	tg_config_free(run);
	free(t);
	free(errs);
}

static void
test_control_restart_only_allows_reloadable(void)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"max_routes: 64", "max_routes: 128"},
		{"lpm_tbl8: 16", "lpm_tbl8: 32"},
		/* left out: its default, the same size */
		{"  filter_cache: 49152\n", ""},
		{"  ring_size: 1024\n",
			"  ring_size: 1024\n  bypass_idle_stages: false\n"},
		{"reachable_s: 300", "reachable_s: 30"},
		{"rate: 100", "rate: 5"},
		{"address: 10.0.0.1/24", "address: 10.0.0.1/16"},
		{"{name: wan0, port: p1, address: 10.1.0.1/24}",
			"{name: wan0, port: p1, address: 10.1.0.1/24, mtu: "
			"1400}"},
		{"  - {prefix: 20.0.0.0/16, via: 10.1.0.2, interface: wan0}\n",
			"  - {prefix: 20.0.0.0/16, via: 10.1.0.3, interface: "
			"wan0}\n"
			"  - {prefix: 0.0.0.0/0, via: 10.1.0.2, interface: "
			"wan0}\n"},
	};
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *run = parse_text("<run>", restart_base);
	unsigned int i;

	CU_ASSERT_FATAL(errs != NULL && run != NULL);
	for (i = 0; i < RTE_DIM(edits); i++) {
		char *t = base_with(edits[i].from, edits[i].to);
		struct tg_config *nc = parse_text("<next>", t);

		CU_ASSERT_FATAL(nc != NULL);
		memset(errs, 0, sizeof(*errs));
		CU_ASSERT(tg_control_check_restart_only(run, nc, errs) == 0);
		if (errs->n != 0) {
			fprintf(stderr, "\n  edit %u refused:\n", i);
			errs_dump(errs);
		}
		tg_config_free(nc);
		free(t);
	}
	tg_config_free(run);
	free(errs);
}

/* ---- reload from files: what changed ------------------------------------ */

/*
 * Three configurations on the same three ports, built from one list of
 * candidate routes and neighbors, each in or out of A, B and C:
 *   A: lan0@p0 10.0.0.1/24, wan0@p1 10.1.0.1/24, dmz0@p2 10.2.0.1/24
 *   B: lan0 (MTU 1400), ext0@p1 10.1.0.1/24 (wan0 renamed), dmz0
 *   C: lan0 moved to p2, ext0 readdressed 10.1.0.254/24, no dmz0
 * The expected differences are counted here by comparing the YAML entries
 * as text, independently of tg_config_diff().
 */
enum { CFG_A, CFG_B, CFG_C, N_CFGS };
#define N_ROUTE_CANDS 400
#define N_NEIGH_CANDS 48

struct route_cand {
	bool in[N_CFGS];
	uint8_t slot[N_CFGS]; /* 0 lan, 1 wan/ext, 2 dmz */
	uint8_t via[N_CFGS];  /* host part of the gateway; 0 = on-link */
	uint8_t len;
};

struct neigh_cand {
	bool in[N_CFGS];
	uint8_t slot, host;
	uint8_t mac[N_CFGS];
};

static struct route_cand rcand[N_ROUTE_CANDS];
static struct neigh_cand ncand[N_NEIGH_CANDS];
static const char *const slot_name[N_CFGS][3] = {{"lan0", "wan0", "dmz0"},
	{"lan0", "ext0", "dmz0"}, {"lan0", "ext0", NULL}};
static const char *cfg_file[N_CFGS];
static char *cfg_text[N_CFGS];

static uint32_t rng_state = 0x12345678;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void
route_prefix(unsigned int k, const struct route_cand *c, char *buf, size_t len)
{
	if (c->len == 24)
		snprintf(buf, len, "172.%u.%u.0/24", 16 + k / 256, k % 256);
	else /* a /28 in a /24 of its own: each takes an LPM tbl8 group */
		snprintf(buf, len, "192.168.%u.%u/28", k % 256, 16 * (k % 16));
}

static void
route_key(unsigned int k, int cfg, char *buf, size_t len)
{
	const struct route_cand *c = &rcand[k];
	char p[32];

	route_prefix(k, c, p, sizeof(p));
	if (c->via[cfg] == 0)
		snprintf(buf, len, "%s|-|%s", p, slot_name[cfg][c->slot[cfg]]);
	else
		snprintf(buf, len, "%s|10.%u.0.%u|%s", p, c->slot[cfg],
			c->via[cfg], slot_name[cfg][c->slot[cfg]]);
}

static void
neigh_key(unsigned int k, int cfg, char *buf, size_t len)
{
	const struct neigh_cand *c = &ncand[k];

	snprintf(buf, len, "10.%u.0.%u|02:00:00:00:%02x:%02x|%s", c->slot,
		c->host, k, c->mac[cfg], slot_name[cfg][c->slot]);
}

/* Entries of @p from that are not in @p to, by their text. */
static uint32_t
count_missing(bool routes, int from, int to)
{
	unsigned int n = routes ? N_ROUTE_CANDS : N_NEIGH_CANDS, i, j;
	char a[96], b[96];
	uint32_t missing = 0;

	for (i = 0; i < n; i++) {
		bool found = false;

		if (!(routes ? rcand[i].in[from] : ncand[i].in[from]))
			continue;
		if (routes)
			route_key(i, from, a, sizeof(a));
		else
			neigh_key(i, from, a, sizeof(a));
		for (j = 0; j < n && !found; j++) {
			if (!(routes ? rcand[j].in[to] : ncand[j].in[to]))
				continue;
			if (routes)
				route_key(j, to, b, sizeof(b));
			else
				neigh_key(j, to, b, sizeof(b));
			found = strcmp(a, b) == 0;
		}
		missing += !found;
	}
	return missing;
}

static uint32_t
count_in(bool routes, int cfg)
{
	unsigned int i;
	uint32_t n = 0;

	if (routes) {
		for (i = 0; i < N_ROUTE_CANDS; i++)
			n += rcand[i].in[cfg];
	} else {
		for (i = 0; i < N_NEIGH_CANDS; i++)
			n += ncand[i].in[cfg];
	}
	return n;
}

static void
gen_candidates(void)
{
	unsigned int k;
	int c;

	for (k = 0; k < N_ROUTE_CANDS; k++) {
		struct route_cand *r = &rcand[k];

		r->len = (k % 10 == 9) ? 28 : 24;
		r->in[CFG_A] = rng() % 4 != 0;
		r->in[CFG_B] = rng() % 4 != 0;
		r->slot[CFG_A] = rng() % 3;
		r->via[CFG_A] = rng() % 4 == 0 ? 0 : 2 + rng() % 60;
		/* B: mostly the same; sometimes another gateway or link. */
		r->slot[CFG_B] = rng() % 5 == 0 ? rng() % 3 : r->slot[CFG_A];
		r->via[CFG_B] = rng() % 3 == 0
					? (rng() % 4 == 0 ? 0 : 2 + rng() % 60)
					: r->via[CFG_A];
		/* C: B without dmz0. */
		r->slot[CFG_C] = r->slot[CFG_B];
		r->via[CFG_C] = r->via[CFG_B];
		r->in[CFG_C] = r->in[CFG_B] && r->slot[CFG_B] != 2;
	}
	for (k = 0; k < N_NEIGH_CANDS; k++) {
		struct neigh_cand *n = &ncand[k];

		n->slot = k % 3;
		n->host = 100 + k;
		for (c = 0; c < N_CFGS; c++)
			n->mac[c] = rng() % 3 == 0 ? 0x10 + c : 0x10;
		n->in[CFG_A] = rng() % 4 != 0;
		n->in[CFG_B] = rng() % 4 != 0;
		n->in[CFG_C] = n->in[CFG_B] && n->slot != 2;
	}
}

static char *
gen_yaml(int cfg)
{
	static const char *const ifaces[N_CFGS] = {
		/* each entry several lines: parenthesised for clang's
		 * -Wstring-concatenation */
		("  - {name: lan0, port: p0, address: 10.0.0.1/24}\n"
		 "  - {name: wan0, port: p1, address: 10.1.0.1/24}\n"
		 "  - {name: dmz0, port: p2, address: 10.2.0.1/24}\n"),
		("  - {name: lan0, port: p0, address: 10.0.0.1/24, mtu: 1400}\n"
		 "  - {name: ext0, port: p1, address: 10.1.0.1/24}\n"
		 "  - {name: dmz0, port: p2, address: 10.2.0.1/24}\n"),
		("  - {name: lan0, port: p2, address: 10.0.0.1/24, mtu: 1400}\n"
		 "  - {name: ext0, port: p1, address: 10.1.0.254/24}\n"),
	};
	struct sbuf b = {0};
	unsigned int k;
	char p[32];

	sb_add(&b,
		"# generated by test_control (config %c)\n"
		"ports:\n"
		"  - name: p0\n"
		"    device: net_null0\n"
		"  - name: p1\n"
		"    device: net_null1\n"
		"  - name: p2\n"
		"    device: net_null2\n"
		"limits:\n"
		"  max_routes: 1024\n"
		"  lpm_tbl8: 256\n"
		"interfaces:\n%s"
		"routes:\n",
		'A' + cfg, ifaces[cfg]);
	for (k = 0; k < N_ROUTE_CANDS; k++) {
		const struct route_cand *r = &rcand[k];

		if (!r->in[cfg])
			continue;
		route_prefix(k, r, p, sizeof(p));
		if (r->via[cfg] == 0)
			sb_add(&b, "  - {prefix: %s, interface: %s}\n", p,
				slot_name[cfg][r->slot[cfg]]);
		else
			sb_add(&b,
				"  - {prefix: %s, via: 10.%u.0.%u, interface: "
				"%s}\n",
				p, r->slot[cfg], r->via[cfg],
				slot_name[cfg][r->slot[cfg]]);
	}
	sb_add(&b, "neighbors:\n");
	for (k = 0; k < N_NEIGH_CANDS; k++) {
		const struct neigh_cand *n = &ncand[k];

		if (!n->in[cfg])
			continue;
		sb_add(&b,
			"  - {address: 10.%u.0.%u, mac: "
			"\"02:00:00:00:%02x:%02x\", "
			"interface: %s}\n",
			n->slot, n->host, k, n->mac[cfg],
			slot_name[cfg][n->slot]);
	}
	return b.s;
}

static int
reload_files_init(void)
{
	static const char *const names[N_CFGS] = {"a.yaml", "b.yaml", "c.yaml"};
	int c;

	if (reload_suite_init() < 0)
		return -1;
	gen_candidates();
	for (c = 0; c < N_CFGS; c++) {
		cfg_text[c] = gen_yaml(c);
		cfg_file[c] = write_file_raw(names[c], cfg_text[c]);
		if (cfg_file[c] == NULL)
			return -1;
	}
	return 0;
}

static int
reload_files_clean(void)
{
	int c;

	for (c = 0; c < N_CFGS; c++) {
		free(cfg_text[c]);
		cfg_text[c] = NULL;
	}
	return reload_suite_clean();
}

/* A control running @p file as generation 1. */
static void
ctl_start(struct tg_control *ctl, const char *file)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *cfg = NULL;
	char err[256];

	CU_ASSERT_FATAL(errs != NULL);
	CU_ASSERT_FATAL(tg_control_init(ctl, &env, 0) == 0);
	if (tg_config_load(file, &cfg, errs) < 0)
		errs_dump(errs);
	CU_ASSERT_FATAL(cfg != NULL);
	CU_ASSERT_FATAL(tg_control_apply(ctl, cfg, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(ctl->generation == 1);
	free(errs);
}

/* Reload @p to over @p from and check the summary against the counts made
 * here. */
static void
expect_reload(struct tg_control *ctl, int from, int to, const char *added,
	const char *removed, const char *changed)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_reload_summary sum;
	uint64_t gen = ctl->generation;
	int rc;

	CU_ASSERT_FATAL(errs != NULL);
	rc = tg_control_reload(ctl, cfg_file[to], errs, &sum);
	CU_ASSERT(rc == 0);
	if (rc != 0)
		errs_dump(errs);
	CU_ASSERT(errs->n == 0);
	CU_ASSERT(sum.generation == gen + 1);
	CU_ASSERT(ctl->generation == gen + 1);
	CU_ASSERT(ctl->slot.cur->generation == gen + 1);
	CU_ASSERT(strcmp(ctl->slot.cur->cfg->file, cfg_file[to]) == 0);
	CU_ASSERT(ctl->slot.cur->cfg->n_routes == count_in(true, to));
	CU_ASSERT(ctl->slot.cur->cfg->n_neighbors == count_in(false, to));
	CU_ASSERT(strcmp(sum.if_added, added) == 0);
	CU_ASSERT(strcmp(sum.if_removed, removed) == 0);
	CU_ASSERT(strcmp(sum.if_changed, changed) == 0);
	CU_ASSERT(sum.routes_added == count_missing(true, to, from));
	CU_ASSERT(sum.routes_removed == count_missing(true, from, to));
	CU_ASSERT(sum.neighbors_added == count_missing(false, to, from));
	CU_ASSERT(sum.neighbors_removed == count_missing(false, from, to));
	if (sum.routes_added != count_missing(true, to, from) ||
		sum.routes_removed != count_missing(true, from, to) ||
		strcmp(sum.if_changed, changed) != 0)
		fprintf(stderr,
			"\n  %c->%c: routes +%u -%u (want +%u -%u), "
			"neighbors +%u -%u (want +%u -%u), if +[%s] -[%s] "
			"~[%s]\n",
			'A' + from, 'A' + to, sum.routes_added,
			sum.routes_removed, count_missing(true, to, from),
			count_missing(true, from, to), sum.neighbors_added,
			sum.neighbors_removed, count_missing(false, to, from),
			count_missing(false, from, to), sum.if_added,
			sum.if_removed, sum.if_changed);
	/* The snapshot's own text is what was in the file. */
	CU_ASSERT(ctl->slot.cur->cfg->source_len == strlen(cfg_text[to]));
	CU_ASSERT(strcmp(ctl->slot.cur->cfg->source, cfg_text[to]) == 0);
	free(errs);
}

static void
test_control_reload_counts_what_changed(void)
{
	struct tg_control ctl;

	/* The generated sets do differ in every way that is counted. */
	CU_ASSERT(count_missing(true, CFG_A, CFG_B) > 50);
	CU_ASSERT(count_missing(true, CFG_B, CFG_A) > 50);
	CU_ASSERT(count_missing(false, CFG_A, CFG_B) > 5);
	CU_ASSERT(count_missing(false, CFG_B, CFG_A) > 5);
	CU_ASSERT(count_missing(true, CFG_B, CFG_C) > 0);
	CU_ASSERT(
		count_missing(true, CFG_C, CFG_B) == 0); /* C is B less dmz0 */

	ctl_start(&ctl, cfg_file[CFG_A]);
	expect_reload(&ctl, CFG_A, CFG_B, "ext0", "wan0", "lan0");
	expect_reload(&ctl, CFG_B, CFG_A, "wan0", "ext0", "lan0");
	expect_reload(&ctl, CFG_A, CFG_A, "", "", "");
	expect_reload(&ctl, CFG_A, CFG_B, "ext0", "wan0", "lan0");
	expect_reload(&ctl, CFG_B, CFG_C, "", "dmz0", "lan0 ext0");
	expect_reload(&ctl, CFG_C, CFG_A, "wan0 dmz0", "ext0", "lan0");
	CU_ASSERT(ctl.generation == 7);
	tg_control_fini(&ctl);
}

static void
test_control_reload_running_file_by_default(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_reload_summary sum;
	struct tg_control ctl;
	struct tg_tables *before;

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_B]);
	before = ctl.slot.cur;
	/* NULL and "" both mean the file the running config came from. */
	CU_ASSERT(tg_control_reload(&ctl, NULL, errs, &sum) == 0);
	CU_ASSERT(sum.generation == 2 && ctl.generation == 2);
	CU_ASSERT(ctl.slot.cur != before);
	CU_ASSERT(strcmp(errs->file, cfg_file[CFG_B]) == 0);
	CU_ASSERT(strcmp(ctl.slot.cur->cfg->file, cfg_file[CFG_B]) == 0);
	CU_ASSERT(sum.routes_added == 0 && sum.routes_removed == 0);
	CU_ASSERT(sum.neighbors_added == 0 && sum.neighbors_removed == 0);
	CU_ASSERT(tg_control_reload(&ctl, "", errs, &sum) == 0);
	CU_ASSERT(sum.generation == 3 && ctl.generation == 3);
	/* After a reload from another file, that one is the running file. */
	CU_ASSERT(tg_control_reload(&ctl, cfg_file[CFG_A], errs, &sum) == 0);
	CU_ASSERT(tg_control_reload(&ctl, NULL, errs, &sum) == 0);
	CU_ASSERT(sum.generation == 5);
	CU_ASSERT(strcmp(ctl.slot.cur->cfg->file, cfg_file[CFG_A]) == 0);
	CU_ASSERT(sum.routes_added == 0 && sum.routes_removed == 0);
	tg_control_fini(&ctl);
	free(errs);
}

/* Reload @p file, which must be refused with @p want_rc: nothing changes. */
static void
expect_refused(struct tg_control *ctl, const char *file, int want_rc,
	struct tg_cfg_errors *errs)
{
	struct tg_tables *before = ctl->slot.cur;
	const struct tg_config *cfg_before = before->cfg;
	uint64_t gen = ctl->generation;
	struct tg_reload_summary sum;
	int rc;

	memset(&sum, 0xa5, sizeof(sum));
	rc = tg_control_reload(ctl, file, errs, &sum);
	CU_ASSERT(rc == want_rc);
	if (rc != want_rc)
		fprintf(stderr, "\n  reload %s: %d, want %d\n", file, rc,
			want_rc);
	CU_ASSERT(errs->n >= 1);
	CU_ASSERT(strcmp(errs->file, file) == 0);
	CU_ASSERT(sum.generation == gen);
	CU_ASSERT(ctl->generation == gen);
	CU_ASSERT(ctl->slot.cur == before);
	CU_ASSERT(ctl->slot.cur->cfg == cfg_before);
	CU_ASSERT(ctl->slot.cur->generation == gen);
	CU_ASSERT(ctl->slot.cur->forward->generation == gen);
}

static void
test_control_reload_syntax_error_changes_nothing(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	struct sbuf b = {0};
	const char *file;
	char line[4400], want[256];
	uint32_t bad_line;

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	/* B with a syntax error on its last line. */
	sb_add(&b, "%sicmp: rate: 10\n", cfg_text[CFG_B]);
	bad_line = line_of(b.s, "icmp: rate: 10");
	file = write_file("syntax.yaml", b.s);
	expect_refused(&ctl, file, -EINVAL, errs);
	CU_ASSERT(errs->n == 1);
	CU_ASSERT(errs->e[0].line == bad_line);
	CU_ASSERT(errs->e[0].col == 11); /* the second ':' */
	CU_ASSERT(strstr(errs->e[0].msg, "syntax error") != NULL);
	tg_cfg_error_format(errs, 0, line, sizeof(line));
	snprintf(want, sizeof(want), "%s:%u:11: syntax error", file, bad_line);
	CU_ASSERT(strncmp(line, want, strlen(want)) == 0);
	if (strncmp(line, want, strlen(want)) != 0)
		fprintf(stderr, "\n  got '%s'\n  want '%s...'\n", line, want);
	/* Still serves: a good file reloads after it. */
	CU_ASSERT(tg_control_reload(&ctl, cfg_file[CFG_B], errs,
			  &(struct tg_reload_summary){0}) == 0);
	CU_ASSERT(ctl.generation == 2);
	tg_control_fini(&ctl);
	free(b.s);
	free(errs);
}

/* ipsec off at start has no crypto device: a reload that turns it on is
 * refused as restart-only, at the setting; a disabled section reloads. */
static void
test_control_reload_refuses_turning_ipsec_on(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	struct sbuf b = {0};
	const char *file;

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	sb_add(&b, "%sipsec:\n  policy_order: as-written\n", cfg_text[CFG_B]);
	file = write_file("ipsec_on.yaml", b.s);
	expect_refused(&ctl, file, -EINVAL, errs);
	CU_ASSERT(errs->n == 1 &&
		  strcmp(errs->e[0].path, "ipsec.enabled") == 0 &&
		  strstr(errs->e[0].msg, "crypto device") != NULL &&
		  strstr(errs->e[0].msg, "restart") != NULL);
	CU_ASSERT(tg_control_check(&ctl, file, errs) == -EINVAL);
	CU_ASSERT(errs->n == 1);
	free(b.s);
	b = (struct sbuf){0};
	sb_add(&b, "%sipsec:\n  enabled: false\n", cfg_text[CFG_B]);
	file = write_file("ipsec_off.yaml", b.s);
	CU_ASSERT(tg_control_check(&ctl, file, errs) == 0);
	CU_ASSERT(tg_control_reload(&ctl, file, errs,
			  &(struct tg_reload_summary){0}) == 0);
	CU_ASSERT(ctl.generation == 2);
	tg_control_fini(&ctl);
	free(b.s);
	free(errs);
}

static void
test_control_reload_validation_error_changes_nothing(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	struct sbuf b = {0};
	const char *file;
	char line[4400], want[256];
	uint32_t via_line, route_line, n_routes;

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	/* B plus two bad entries: a gateway outside the interface's subnet
	 * and an unknown interface. */
	n_routes = count_in(true, CFG_B);
	{
		/* Insert the bad routes at the end of the routes list. */
		const char *nb = strstr(cfg_text[CFG_B], "neighbors:\n");

		CU_ASSERT_FATAL(nb != NULL);
		sb_add(&b,
			"%.*s  - prefix: 21.0.0.0/16\n"
			"    via: 10.9.0.2\n"
			"    interface: ext0\n"
			"  - {prefix: 22.0.0.0/16, interface: nosuch0}\n%s",
			(int)(nb - cfg_text[CFG_B]), cfg_text[CFG_B], nb);
	}
	via_line = line_of(b.s, "    via: 10.9.0.2");
	route_line = line_of(b.s, "nosuch0");
	file = write_file("invalid.yaml", b.s);
	expect_refused(&ctl, file, -EINVAL, errs);
	CU_ASSERT(errs->n == 2);
	if (errs->n != 2)
		errs_dump(errs);
	CU_ASSERT(err_find(errs, "") < 0);
	{
		char path[64];
		int i;

		snprintf(path, sizeof(path), "routes[%u].via", n_routes);
		i = err_find(errs, path);
		CU_ASSERT(i >= 0);
		if (i >= 0) {
			CU_ASSERT(errs->e[i].line == via_line);
			CU_ASSERT(errs->e[i].col == 10);
			tg_cfg_error_format(
				errs, (uint32_t)i, line, sizeof(line));
			snprintf(want, sizeof(want), "%s:%u:10: %s: gateway",
				file, via_line, path);
			CU_ASSERT(strncmp(line, want, strlen(want)) == 0);
			if (strncmp(line, want, strlen(want)) != 0)
				fprintf(stderr, "\n  got '%s'\n  want '%s'\n",
					line, want);
		}
		snprintf(path, sizeof(path), "routes[%u].interface",
			n_routes + 1);
		i = err_find(errs, path);
		CU_ASSERT(i >= 0);
		if (i >= 0)
			CU_ASSERT(errs->e[i].line == route_line);
	}
	tg_control_fini(&ctl);
	free(b.s);
	free(errs);
}

static void
test_control_reload_build_error_changes_nothing(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	char *text;
	const char *file, *at;
	struct sbuf b = {0};

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	/* Valid, but its /28s need more LPM tbl8 groups than it allows:
	 * only building the table finds out. */
	text = cfg_text[CFG_B];
	at = strstr(text, "lpm_tbl8: 256");
	CU_ASSERT_FATAL(at != NULL);
	sb_add(&b, "%.*slpm_tbl8: 2%s", (int)(at - text), text,
		at + strlen("lpm_tbl8: 256"));
	file = write_file("nospace.yaml", b.s);
	expect_refused(&ctl, file, -ENOSPC, errs);
	CU_ASSERT(errs->n == 1);
	CU_ASSERT(strcmp(errs->e[0].path, "build") == 0);
	CU_ASSERT(strstr(errs->e[0].msg, "lpm_tbl8") != NULL);
	tg_control_fini(&ctl);
	free(b.s);
	free(errs);
}

static void
test_control_reload_missing_file(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	char path[160], line[4400];

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir);
	expect_refused(&ctl, path, -ENOENT, errs);
	CU_ASSERT(errs->n == 1);
	CU_ASSERT(errs->e[0].line == 0);
	tg_cfg_error_format(errs, 0, line, sizeof(line));
	CU_ASSERT(strstr(line, "cannot read") != NULL);
	CU_ASSERT(strncmp(line, path, strlen(path)) == 0);
	/* A directory is not a configuration either. */
	expect_refused(&ctl, tmpdir, -EISDIR, errs);
	tg_control_fini(&ctl);
	free(errs);
}

static void
test_control_check_applies_nothing(void)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_control ctl;
	struct tg_tables *before;
	char path[160];
	char *text;

	CU_ASSERT_FATAL(errs != NULL);
	ctl_start(&ctl, cfg_file[CFG_A]);
	before = ctl.slot.cur;
	CU_ASSERT(tg_control_check(&ctl, cfg_file[CFG_B], errs) == 0);
	CU_ASSERT(errs->n == 0);
	CU_ASSERT(tg_control_check(&ctl, cfg_file[CFG_C], errs) == 0);
	text = malloc(strlen(cfg_text[CFG_B]) + 64);
	CU_ASSERT_FATAL(text != NULL);
	sprintf(text, "%sicmp: rate: 10\n", cfg_text[CFG_B]);
	CU_ASSERT(tg_control_check(&ctl, write_file("chk_syntax.yaml", text),
			  errs) == -EINVAL);
	CU_ASSERT(errs->n == 1 && errs->e[0].line > 0);
	snprintf(path, sizeof(path), "%s/nothing-here.yaml", tmpdir);
	CU_ASSERT(tg_control_check(&ctl, path, errs) == -ENOENT);
	free(text);
	/* A port change is a start-up-only change. */
	text = base_with("device: net_null1", "device: net_null3");
	CU_ASSERT(tg_control_check(&ctl, write_file("chk_port.yaml", text),
			  errs) == -EINVAL);
	CU_ASSERT(errs->n >= 1);
	free(text);
	/* None of that touched the running configuration. */
	CU_ASSERT(ctl.generation == 1);
	CU_ASSERT(ctl.slot.cur == before);
	CU_ASSERT(strcmp(ctl.slot.cur->cfg->file, cfg_file[CFG_A]) == 0);
	CU_ASSERT(ctl.slot.cur->cfg->n_routes == count_in(true, CFG_A));
	tg_control_fini(&ctl);
	free(errs);
}

/* ---- concurrent reloads -------------------------------------------------- */

#define N_RELOADERS	   10
#define RELOADS_PER_THREAD 12
#define MAX_GEN		   (2 + N_RELOADERS * RELOADS_PER_THREAD)

enum { F_A, F_B, F_SYNTAX, F_INVALID, F_PORT, F_MISSING, N_FILES };
static const char *conc_file[N_FILES];
static const int conc_rc[N_FILES] = {0, 0, -EINVAL, -EINVAL, -EINVAL, -ENOENT};

static struct {
	struct tg_control *ctl;
	uint32_t successes;
	uint32_t incoherent;
	uint32_t gen_seen[MAX_GEN + 1];
	pthread_barrier_t go;
} conc;

static void *
reloader_main(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg, i;
	struct tg_cfg_errors *errs = malloc(sizeof(*errs));
	struct tg_reload_summary sum;
	/* Routes added and removed going from A to B. */
	uint32_t ab_added = count_missing(true, CFG_B, CFG_A);
	uint32_t ab_removed = count_missing(true, CFG_A, CFG_B);

	if (errs == NULL) {
		__atomic_fetch_add(&conc.incoherent, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	pthread_barrier_wait(&conc.go);
	for (i = 0; i < RELOADS_PER_THREAD; i++) {
		int f = (int)((id * 5 + i * 7 + i / 3) % N_FILES);
		int rc = tg_control_reload(conc.ctl, conc_file[f], errs, &sum);
		bool ok = rc == conc_rc[f];

		if (rc == 0) {
			/* A against B, or B against A, or no change: the
			 * diff is against whichever was running. */
			bool same = sum.routes_added == 0 &&
				    sum.routes_removed == 0 &&
				    sum.if_added[0] == '\0';
			bool a_over_b = f == F_A &&
					sum.routes_added == ab_removed &&
					sum.routes_removed == ab_added &&
					strcmp(sum.if_added, "wan0") == 0;
			bool b_over_a = f == F_B &&
					sum.routes_added == ab_added &&
					sum.routes_removed == ab_removed &&
					strcmp(sum.if_added, "ext0") == 0;

			ok = ok && errs->n == 0 && sum.generation >= 2 &&
			     sum.generation <= MAX_GEN &&
			     (same || a_over_b || b_over_a);
			if (sum.generation <= MAX_GEN)
				__atomic_fetch_add(
					&conc.gen_seen[sum.generation], 1,
					__ATOMIC_RELAXED);
			__atomic_fetch_add(
				&conc.successes, 1, __ATOMIC_RELAXED);
		} else {
			ok = ok && errs->n >= 1 &&
			     strcmp(errs->file, conc_file[f]) == 0 &&
			     sum.generation >= 1 && sum.generation <= MAX_GEN;
		}
		if (!ok) {
			fprintf(stderr,
				"\n  thread %u: %s: rc %d (want %d), gen %lu, "
				"%u errors, routes +%u -%u\n",
				id, conc_file[f], rc, conc_rc[f],
				(unsigned long)sum.generation, errs->n,
				sum.routes_added, sum.routes_removed);
			__atomic_fetch_add(
				&conc.incoherent, 1, __ATOMIC_RELAXED);
		}
	}
	free(errs);
	return NULL;
}

static void
test_control_reload_concurrent(void)
{
	pthread_t th[N_RELOADERS];
	struct tg_control ctl;
	char missing[160];
	char *port_text;
	struct sbuf b = {0};
	unsigned int i, g;

	conc_file[F_A] = cfg_file[CFG_A];
	conc_file[F_B] = cfg_file[CFG_B];
	sb_add(&b, "%sicmp: rate: 10\n", cfg_text[CFG_A]);
	conc_file[F_SYNTAX] = write_file("conc_syntax.yaml", b.s);
	free(b.s);
	b = (struct sbuf){0};
	sb_add(&b, "%sicmp:\n  rate: 2000000\n", cfg_text[CFG_A]);
	conc_file[F_INVALID] = write_file("conc_invalid.yaml", b.s);
	free(b.s);
	b = (struct sbuf){0};
	port_text = strstr(cfg_text[CFG_B], "net_null2");
	CU_ASSERT_FATAL(port_text != NULL);
	sb_add(&b, "%.*snet_null9%s", (int)(port_text - cfg_text[CFG_B]),
		cfg_text[CFG_B], port_text + strlen("net_null2"));
	conc_file[F_PORT] = write_file("conc_port.yaml", b.s);
	free(b.s);
	snprintf(missing, sizeof(missing), "%s/conc-missing.yaml", tmpdir);
	conc_file[F_MISSING] = missing;

	ctl_start(&ctl, cfg_file[CFG_A]);
	memset(&conc, 0, sizeof(conc));
	conc.ctl = &ctl;
	CU_ASSERT_FATAL(pthread_barrier_init(&conc.go, NULL, N_RELOADERS) == 0);
	for (i = 0; i < N_RELOADERS; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, reloader_main,
					(void *)(uintptr_t)i) == 0);
	for (i = 0; i < N_RELOADERS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&conc.go);

	CU_ASSERT(conc.incoherent == 0);
	CU_ASSERT(conc.successes > 0);
	CU_ASSERT(conc.successes < N_RELOADERS * RELOADS_PER_THREAD);
	CU_ASSERT(ctl.generation == 1 + conc.successes);
	CU_ASSERT(ctl.slot.cur->generation == ctl.generation);
	/* Every success got a generation of its own: 2..1+successes. */
	for (g = 2; g <= 1 + conc.successes && g <= MAX_GEN; g++)
		CU_ASSERT(conc.gen_seen[g] == 1);
	CU_ASSERT(strcmp(ctl.slot.cur->cfg->file, cfg_file[CFG_A]) == 0 ||
		  strcmp(ctl.slot.cur->cfg->file, cfg_file[CFG_B]) == 0);
	tg_control_fini(&ctl);
}

/* ---- tg_config_diff bounds ------------------------------------------------
 */

static void
test_control_diff_interface_lists_stay_bounded(void)
{
	struct tg_reload_summary sum;
	struct tg_config *none, *all;
	struct sbuf b = {0}, full = {0};
	unsigned int i;

	/* 32 ports, then 32 interfaces with 31-character names: the name
	 * lists do not fit in the summary and must be cut, not overflow. */
	sb_add(&b, "ports:\n");
	for (i = 0; i < TG_MAX_PORTS; i++)
		sb_add(&b, "  - {name: p%u, device: net_null%u}\n", i, i);
	none = parse_text("<none>", b.s);
	sb_add(&b, "interfaces:\n");
	for (i = 0; i < TG_MAX_PORTS; i++) {
		char name[TG_NAME_MAX];

		snprintf(name, sizeof(name),
			"interface_number_%02u_xxxxxxxxxxx", i);
		CU_ASSERT(strlen(name) == TG_NAME_MAX - 1);
		sb_add(&b, "  - {name: %s, port: p%u, address: 10.%u.0.1/24}\n",
			name, i, i);
		sb_add(&full, "%s%s", i ? " " : "", name);
	}
	all = parse_text("<all>", b.s);
	CU_ASSERT_FATAL(none != NULL && all != NULL);
	memset(&sum, 0x5a, sizeof(sum));
	CU_ASSERT(tg_config_diff(none, all, &sum) == 0);
	CU_ASSERT(strlen(sum.if_added) < sizeof(sum.if_added));
	CU_ASSERT(strncmp(full.s, sum.if_added, strlen(sum.if_added)) == 0);
	CU_ASSERT(sum.if_removed[0] == '\0' && sum.if_changed[0] == '\0');
	CU_ASSERT(tg_config_diff(all, none, &sum) == 0);
	CU_ASSERT(strlen(sum.if_removed) < sizeof(sum.if_removed));
	CU_ASSERT(strncmp(full.s, sum.if_removed, strlen(sum.if_removed)) == 0);
	CU_ASSERT(sum.if_added[0] == '\0');
	tg_config_free(none);
	tg_config_free(all);
	free(b.s);
	free(full.s);
}

int
main(void)
{
	int rc;

	if (tg_test_eal_init("test_control") < 0)
		return 1;
	env.n_ports = 3;
	env.port_id[0] = 0;
	env.port_id[1] = 1;
	env.port_id[2] = 2;
	env.mac[0] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 0xa0}};
	env.mac[1] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 0xa1}};
	env.mac[2] = (struct rte_ether_addr){{2, 0, 0, 0, 0, 0xa2}};
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("control", NULL, NULL, "test_control_build_fails_cleanly",
		test_control_build_fails_cleanly,
		"test_control_apply_replaces_snapshot",
		test_control_apply_replaces_snapshot,
		"test_control_natfw_applies_and_restart_only",
		test_control_natfw_applies_and_restart_only,
		"test_control_rcu_two_lcores", test_control_rcu_two_lcores,
		"test_control_diff_interface_lists_stay_bounded",
		test_control_diff_interface_lists_stay_bounded, NULL);
	tg_test_suite("control_restart_only", reload_suite_init,
		reload_suite_clean, "test_control_restart_only_port_device",
		test_control_restart_only_port_device,
		"test_control_restart_only_port_queue_count",
		test_control_restart_only_port_queue_count,
		"test_control_restart_only_port_count",
		test_control_restart_only_port_count,
		"test_control_restart_only_dpdk_lcores",
		test_control_restart_only_dpdk_lcores,
		"test_control_restart_only_dpdk_memory",
		test_control_restart_only_dpdk_memory,
		"test_control_restart_only_mempool",
		test_control_restart_only_mempool,
		"test_control_restart_only_pipeline_placement",
		test_control_restart_only_pipeline_placement,
		"test_control_restart_only_pipeline_rings",
		test_control_restart_only_pipeline_rings,
		"test_control_restart_only_pipeline_filter_cache",
		test_control_restart_only_pipeline_filter_cache,
		"test_control_restart_only_arp_max_neighbors",
		test_control_restart_only_arp_max_neighbors,
		"test_control_restart_only_reports_every_change",
		test_control_restart_only_reports_every_change,
		"test_control_restart_only_allows_reloadable",
		test_control_restart_only_allows_reloadable, NULL);
	tg_test_suite("control_reload", reload_files_init, reload_files_clean,
		"test_control_reload_counts_what_changed",
		test_control_reload_counts_what_changed,
		"test_control_reload_running_file_by_default",
		test_control_reload_running_file_by_default,
		"test_control_reload_syntax_error_changes_nothing",
		test_control_reload_syntax_error_changes_nothing,
		"test_control_reload_refuses_turning_ipsec_on",
		test_control_reload_refuses_turning_ipsec_on,
		"test_control_reload_validation_error_changes_nothing",
		test_control_reload_validation_error_changes_nothing,
		"test_control_reload_build_error_changes_nothing",
		test_control_reload_build_error_changes_nothing,
		"test_control_reload_missing_file",
		test_control_reload_missing_file,
		"test_control_check_applies_nothing",
		test_control_check_applies_nothing,
		"test_control_reload_concurrent",
		test_control_reload_concurrent, NULL);
	rc = tg_test_run();
	tg_test_eal_cleanup();
	return rc;
}
