/* SPDX-License-Identifier: BSD-3-Clause
 * tollgate: load the YAML config, start EAL and the ports, publish the
 * first snapshot, launch the workers, serve telemetry, stop on a signal.
 * The only place where start-up failures may end the process.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "tg_app.h"
#include "tg_config.h"
#include "tg_control.h"
#include "tg_pipeline.h"

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t reload_signal;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

/* SIGHUP: reload the file tollgate runs from, the way daemons do. */
static void
reload_on_hup(struct tg_control *ctl)
{
	struct tg_cfg_errors *errs = malloc(sizeof(*errs));
	struct tg_reload_summary sum;

	if (errs == NULL)
		return;
	if (tg_control_reload(ctl, NULL, errs, &sum) == 0) {
		TG_APP_LOG(INFO,
			"SIGHUP: reloaded %s: generation %" PRIu64
			", routes +%u -%u, neighbors +%u -%u, interfaces added "
			"[%s] removed [%s] changed [%s], filters changed [%s]",
			errs->file, sum.generation, sum.routes_added,
			sum.routes_removed, sum.neighbors_added,
			sum.neighbors_removed, sum.if_added, sum.if_removed,
			sum.if_changed, sum.filters_changed);
		if (sum.warning[0] != '\0')
			TG_APP_LOG(WARNING, "SIGHUP: %s", sum.warning);
	} else {
		TG_APP_LOG(ERR,
			"SIGHUP: reload refused, generation %" PRIu64
			" still runs:",
			sum.generation);
		tg_cfg_errors_print(errs, stderr);
	}
	free(errs);
}

/*
 * The telemetry socket's file permissions are its only access control:
 * anyone who can write to the runtime directory could replace the socket
 * or the EAL files. Refuse to run with a directory others may write to.
 */
static int
check_runtime_dir(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	struct stat st;

	if (dir == NULL || stat(dir, &st) != 0)
		return 0;
	if (st.st_mode & (S_IWOTH | S_IWGRP)) {
		fprintf(stderr,
			"%s is writable by group or others (mode %04o): anyone "
			"there could reach the telemetry socket; chmod go-w "
			"it\n",
			dir, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

static void
usage(const char *prog)
{
	printf("Usage: %s -c FILE [--check] [--stats-period SECONDS] [-- EAL "
	       "options]\n"
	       "  -c, --config FILE      the YAML configuration\n"
	       "      --check            validate FILE and exit: 0 when valid, "
	       "else\n"
	       "                         1 and one FILE:LINE:COL: path: "
	       "message per error\n"
	       "      --stats-period N   print counters every N seconds\n"
	       "  EAL options after \"--\" override the config's dpdk: "
	       "section.\n",
		prog);
}

struct app_opts {
	const char *config;
	bool check;
	unsigned int stats_period;
	int eal_argc;
	char **eal_argv;
};

static int
parse_args(int argc, char **argv, struct app_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check", no_argument, NULL, 'k'},
		{"stats-period", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt, i;
	char *end;

	memset(o, 0, sizeof(*o));
	/* Everything after "--" belongs to EAL: hide it from getopt. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			o->eal_argc = argc - i - 1;
			o->eal_argv = &argv[i + 1];
			argc = i;
			break;
		}
	}
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 's':
			errno = 0;
			o->stats_period =
				(unsigned int)strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end ||
				o->stats_period > 86400) {
				fprintf(stderr,
					"--stats-period: 0..86400 seconds\n");
				return -1;
			}
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->config == NULL) {
		fprintf(stderr, "a configuration file is needed: -c FILE\n");
		usage(argv[0]);
		return -1;
	}
	return 0;
}

static struct tg_config *
load_config(const char *file)
{
	struct tg_cfg_errors *errs = calloc(1, sizeof(*errs));
	struct tg_config *cfg = NULL;

	if (errs == NULL)
		return NULL;
	if (tg_config_load(file, &cfg, errs) < 0) {
		tg_cfg_errors_print(errs, stderr);
		if (errs->n > TG_CFG_MAX_ERRORS)
			fprintf(stderr, "%s: %u more errors not shown\n", file,
				errs->n - TG_CFG_MAX_ERRORS);
	}
	free(errs);
	return cfg;
}

/* DPDK leaves its runtime directory behind; a clean exit removes it. */
static void
remove_runtime_dir(void)
{
	const char *dir = rte_eal_get_runtime_dir();
	char path[4096];
	struct dirent *e;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
main(int argc, char **argv)
{
	static struct tg_control ctl;
	static struct tg_app_host host;
	struct tg_pipeline_conf pconf;
	struct tg_pipeline *pl = NULL;
	char *eal_argv[TG_MAX_EAL_ARGS * 2 + 16];
	char *eal_argv_owned[TG_MAX_EAL_ARGS * 2 + 16];
	struct rte_mempool *mp = NULL;
	struct tg_port_env env;
	struct tg_config *cfg;
	struct app_opts o;
	char err[512];
	int eal_argc, rc, ret = 1;
	unsigned int lcore;
	uint64_t next_stats;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	cfg = load_config(o.config);
	if (cfg == NULL)
		return 1;
	if (o.check) {
		printf("%s: OK\n", o.config);
		tg_config_free(cfg);
		return 0;
	}

	eal_argc = tg_config_eal_args(cfg, argv[0], o.eal_argc, o.eal_argv,
		eal_argv, (int)RTE_DIM(eal_argv));
	if (eal_argc < 0) {
		fprintf(stderr, "EAL arguments: %s\n", strerror(-eal_argc));
		return 1;
	}
	/* rte_eal_init permutes and overwrites argv entries: free from a copy.
	 */
	memcpy(eal_argv_owned, eal_argv, sizeof(eal_argv));
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL: %s\n", rte_strerror(rte_errno));
	tg_app_log_init();
	/* Also on rte_exit() during start-up: leave no runtime files. */
	atexit(remove_runtime_dir);

	if (check_runtime_dir() < 0)
		rte_exit(EXIT_FAILURE, "unsafe runtime directory\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	mp = rte_pktmbuf_pool_create("tg_mbufs", cfg->mempool.mbufs,
		cfg->mempool.cache, TG_MBUF_PRIV_SIZE, cfg->mempool.data_room,
		(int)rte_socket_id());
	if (mp == NULL)
		rte_exit(EXIT_FAILURE, "mempool (%u mbufs): %s\n",
			cfg->mempool.mbufs, rte_strerror(rte_errno));

	memset(&pconf, 0, sizeof(pconf));
	RTE_LCORE_FOREACH_WORKER (lcore)
		pconf.workers[pconf.n_workers++] = lcore;
	if (pconf.n_workers == 0)
		rte_exit(EXIT_FAILURE, "no worker lcore: give at least two "
				       "lcores (dpdk.lcores, e.g. \"0-1\")\n");

	if (tg_app_ports_start(cfg, pconf.n_workers, mp, &env, pconf.ports, err,
		    sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	pconf.n_ports = env.n_ports;
	env.n_workers = pconf.n_workers;
	if (tg_app_host_start(cfg, mp, &host, &pconf.host, err, sizeof(err)) <
		0)
		rte_exit(EXIT_FAILURE, "%s\n", err);

	if (tg_control_init(&ctl, &env, (int)rte_socket_id()) < 0)
		rte_exit(EXIT_FAILURE, "control: out of memory\n");
	ctl.after_reload = tg_app_host_after_reload;
	ctl.after_reload_arg = &host;
	pconf.cfg = cfg;
	pconf.slot = &ctl.slot;
	pconf.mp = mp;
	pconf.socket = (int)rte_socket_id();
	/* The pipeline first: the first snapshot's SAs live in the ipsec
	 * stage's crypto device. No worker runs before the launch below. */
	pl = tg_pipeline_create(&pconf, err, sizeof(err));
	if (pl == NULL)
		rte_exit(EXIT_FAILURE, "pipeline: %s\n", err);
	ctl.pl = pl;
	/* One apply path for start-up and (later) reload. */
	if (tg_control_apply(&ctl, cfg, err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s: %s\n", o.config, err);
	if (tg_control_telemetry_init(&ctl) < 0)
		TG_APP_LOG(WARNING, "telemetry commands not registered");
	if (tg_pipeline_launch(pl) < 0)
		rte_exit(EXIT_FAILURE, "cannot launch the workers\n");

	TG_APP_LOG(INFO, "running: %u worker lcore(s), %u port(s), config %s",
		pconf.n_workers, env.n_ports, o.config);
	printf("tollgate: running (%s), Ctrl-C to stop\n", o.config);
	fflush(stdout);

	next_stats = rte_get_tsc_cycles() + o.stats_period * rte_get_tsc_hz();
	while (!stop_signal) {
		rte_delay_us_sleep(100 * 1000);
		if (reload_signal) {
			reload_signal = 0;
			reload_on_hup(&ctl);
		}
		tg_app_host_tick(&host, &ctl);
		if (o.stats_period && rte_get_tsc_cycles() >= next_stats) {
			tg_app_stats_print(&ctl, pl, stdout, false);
			next_stats += o.stats_period * rte_get_tsc_hz();
		}
	}
	printf("tollgate: stopping (signal %d)\n", (int)stop_signal);
	tg_pipeline_stop(pl);
	tg_app_stats_print(&ctl, pl, stdout, true);
	ret = 0;

	/* Telemetry callbacks use the pipeline under the control lock: once
	 * it is NULL under that lock, none is using it. */
	pthread_mutex_lock(&ctl.lock);
	ctl.pl = NULL;
	pthread_mutex_unlock(&ctl.lock);
	tg_app_ports_stop(&env);
	tg_app_host_stop(&host);
	tg_pipeline_free(pl);
	tg_control_fini(&ctl);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	for (rc = 0; rc < eal_argc; rc++)
		free(eal_argv_owned[rc]);
	return ret;
}
