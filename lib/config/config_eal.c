/* SPDX-License-Identifier: BSD-3-Clause
 * EAL argv: the dpdk: section and the ports' devices, merged with the
 * arguments given after "--" on the command line (those win).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_config.h"

/* Options in one group replace each other: -l 0-3 on the command line
 * drops the YAML's -l, -c and --lcores. */
enum eal_group {
	G_NONE, /* unknown option or plain argument: passes through */
	G_LCORES,
	G_MEMORY, /* -m and --socket-mem are exclusive in EAL */
	G_CHANNELS,
	G_RANKS,
	G_FILE_PREFIX,
	G_LOG_LEVEL,
	G_PROC_TYPE,
	G_IOVA_MODE,
	G_MAIN_LCORE,
	G_HUGE_DIR,
	G_BASE_VA,
	G_SERVICE,
	G_SOCKET_LIMIT,
	G_MBUF_OPS,
	G_VFIO_INTR,
	G_VFIO_TOKEN,
	G_SIMD,
	G_TRACE,
	G_TRACE_DIR,
	G_TRACE_BUFSZ,
	G_TRACE_MODE,
	G_ALLOW, /* accumulate from here to G_DRIVER */
	G_BLOCK,
	G_VDEV,
	G_DRIVER,
	G_NO_HUGE,
	G_NO_PCI,
	G_IN_MEMORY,
	G_TELEMETRY, /* --telemetry and --no-telemetry */
	G_NO_SHCONF,
	G_NO_HPET,
	G_LEGACY_MEM,
	G_SINGLE_FILE,
	G_MATCH_ALLOC,
	G_UIO_DEV,
	G_TSC_MAP,
	G_HUGE_UNLINK,
	G_SYSLOG,
	G_WORKER_STACK,
	G_VERSION,
	G_N
};

#define ACCUMULATES(g) ((g) >= G_ALLOW && (g) <= G_DRIVER)

struct eal_opt {
	const char *name;
	bool value; /* takes a value: "-l 0-1", "-l0-1", "--lcores=0-1" */
	uint8_t group;
};

/* EAL 22.11's options. Those with an optional value (--syslog,
 * --huge-unlink, --huge-worker-stack) only take one after '=', as with
 * getopt_long: they are flags here. */
static const struct eal_opt eal_opts[] = {
	{"-l", true, G_LCORES},
	{"-c", true, G_LCORES},
	{"--lcores", true, G_LCORES},
	{"-m", true, G_MEMORY},
	{"--socket-mem", true, G_MEMORY},
	{"-n", true, G_CHANNELS},
	{"-r", true, G_RANKS},
	{"--file-prefix", true, G_FILE_PREFIX},
	{"--log-level", true, G_LOG_LEVEL},
	{"--proc-type", true, G_PROC_TYPE},
	{"--iova-mode", true, G_IOVA_MODE},
	{"--main-lcore", true, G_MAIN_LCORE},
	{"--huge-dir", true, G_HUGE_DIR},
	{"--base-virtaddr", true, G_BASE_VA},
	{"-s", true, G_SERVICE},
	{"-S", true, G_SERVICE},
	{"--service-coremask", true, G_SERVICE},
	{"--service-corelist", true, G_SERVICE},
	{"--socket-limit", true, G_SOCKET_LIMIT},
	{"--mbuf-pool-ops-name", true, G_MBUF_OPS},
	{"--vfio-intr", true, G_VFIO_INTR},
	{"--vfio-vf-token", true, G_VFIO_TOKEN},
	{"--force-max-simd-bitwidth", true, G_SIMD},
	{"--trace", true, G_TRACE},
	{"--trace-dir", true, G_TRACE_DIR},
	{"--trace-bufsz", true, G_TRACE_BUFSZ},
	{"--trace-mode", true, G_TRACE_MODE},
	{"-a", true, G_ALLOW},
	{"--allow", true, G_ALLOW},
	{"-b", true, G_BLOCK},
	{"--block", true, G_BLOCK},
	{"--vdev", true, G_VDEV},
	{"-d", true, G_DRIVER},
	{"--no-huge", false, G_NO_HUGE},
	{"--no-pci", false, G_NO_PCI},
	{"--in-memory", false, G_IN_MEMORY},
	{"--telemetry", false, G_TELEMETRY},
	{"--no-telemetry", false, G_TELEMETRY},
	{"--no-shconf", false, G_NO_SHCONF},
	{"--no-hpet", false, G_NO_HPET},
	{"--legacy-mem", false, G_LEGACY_MEM},
	{"--single-file-segments", false, G_SINGLE_FILE},
	{"--match-allocations", false, G_MATCH_ALLOC},
	{"--create-uio-dev", false, G_UIO_DEV},
	{"--vmware-tsc-map", false, G_TSC_MAP},
	{"--huge-unlink", false, G_HUGE_UNLINK},
	{"--syslog", false, G_SYSLOG},
	{"--huge-worker-stack", false, G_WORKER_STACK},
	{"-v", false, G_VERSION},
};

/* One option with its value, or one other argument. */
struct eal_item {
	const char *tok[2];
	uint8_t n_tok;
	uint8_t group;
	bool keep;   /* a port's device: never replaced */
	bool no_pci; /* our own --no-pci: dropped if the CLI adds -a */
};

static const struct eal_opt *
eal_opt_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(eal_opts) / sizeof(eal_opts[0]); i++)
		if (strlen(eal_opts[i].name) == len &&
			memcmp(eal_opts[i].name, name, len) == 0)
			return &eal_opts[i];
	return NULL;
}

/* Classify argv[i] (and its value), as EAL's getopt_long would; returns
 * how many arguments the item took. After "--" nothing is an option. */
static int
eal_classify(const char *const *argv, int argc, int i, bool *done,
	struct eal_item *it)
{
	const char *a = argv[i];
	const struct eal_opt *o;
	bool attached;

	memset(it, 0, sizeof(*it));
	it->tok[0] = a;
	it->n_tok = 1;
	if (*done || a[0] != '-' || a[1] == '\0')
		return 1;
	if (strcmp(a, "--") == 0) {
		*done = true;
		return 1;
	}
	if (a[1] == '-') {
		size_t n = strcspn(a, "=");

		o = eal_opt_find(a, n);
		attached = a[n] == '=';
	} else {
		o = eal_opt_find(a, 2);
		attached = a[2] != '\0';
		if (o != NULL && !o->value && attached)
			o = NULL; /* "-vh": bundled flags, leave to EAL */
	}
	if (o == NULL)
		return 1;
	it->group = o->group;
	if (!o->value || attached || i + 1 >= argc)
		return 1;
	it->tok[1] = argv[i + 1];
	it->n_tok = 2;
	return 2;
}

static void
eal_push(struct eal_item *items, int *n, const char *opt, const char *val,
	uint8_t group)
{
	struct eal_item *it = &items[(*n)++];

	memset(it, 0, sizeof(*it));
	it->tok[0] = opt;
	it->tok[1] = val;
	it->n_tok = val != NULL ? 2 : 1;
	it->group = group;
}

/* The YAML's part: dpdk:, then the ports. */
static int
eal_from_config(const struct tg_config *cfg, struct eal_item *items,
	char mem[16], char host[TG_CFG_HOST_DEV_MAX])
{
	const struct tg_cfg_dpdk *d = &cfg->dpdk;
	const char *extra[TG_MAX_EAL_ARGS];
	bool any_pci = false, done = false;
	int n = 0, i;

	if (d->lcores[0] != '\0')
		eal_push(items, &n, "-l", d->lcores, G_LCORES);
	if (d->memory_mb != 0) {
		snprintf(mem, 16, "%u", d->memory_mb);
		eal_push(items, &n, "-m", mem, G_MEMORY);
	}
	if (d->no_huge)
		eal_push(items, &n, "--no-huge", NULL, G_NO_HUGE);
	if (d->file_prefix[0] != '\0')
		eal_push(items, &n, "--file-prefix", d->file_prefix,
			G_FILE_PREFIX);
	if (d->log_level[0] != '\0')
		eal_push(items, &n, "--log-level", d->log_level, G_LOG_LEVEL);
	for (i = 0; i < d->n_extra && i < TG_MAX_EAL_ARGS; i++)
		extra[i] = d->extra[i];
	for (i = 0; i < d->n_extra && i < TG_MAX_EAL_ARGS;)
		i += eal_classify(extra, d->n_extra, i, &done, &items[n++]);
	for (i = 0; i < cfg->n_ports; i++) {
		const struct tg_cfg_port *p = &cfg->ports[i];

		eal_push(items, &n, p->is_pci ? "-a" : "--vdev", p->device,
			p->is_pci ? G_ALLOW : G_VDEV);
		items[n - 1].keep = true;
		any_pci = any_pci || p->is_pci;
	}
	if (cfg->host.enabled) {
		tg_config_host_devargs(cfg, host, TG_CFG_HOST_DEV_MAX);
		eal_push(items, &n, "--vdev", host, G_VDEV);
		items[n - 1].keep = true;
	}
	if (!any_pci) {
		eal_push(items, &n, "--no-pci", NULL, G_NO_PCI);
		items[n - 1].no_pci = true;
	}
	return n;
}

int
tg_config_host_devargs(const struct tg_config *cfg, char *buf, size_t len)
{
	/* The ethdev is named after the part before the comma; users' own
	 * vdevs are net_tunN / net_tapN, so this name cannot clash. */
	return snprintf(buf, len, "%s,iface=%s",
		cfg->host.tap ? TG_CFG_HOST_TAP : TG_CFG_HOST_TUN,
		cfg->host.ifname);
}

static void
eal_free(char **out, int n)
{
	while (n > 0) {
		free(out[--n]);
		out[n] = NULL;
	}
}

int
tg_config_eal_args(const struct tg_config *cfg, const char *argv0, int cli_argc,
	char **cli_argv, char **out, int out_max)
{
	struct eal_item items[TG_MAX_EAL_ARGS + TG_MAX_PORTS + 8];
	bool on_cli[G_N] = {false}, done = false;
	const char *const *cli = (const char *const *)cli_argv;
	int n_items, i, j, argc = 0, need;
	char mem[16], host[TG_CFG_HOST_DEV_MAX];

	if (cfg == NULL || out == NULL || out_max < 1 || cli_argc < 0 ||
		(cli_argc > 0 && cli_argv == NULL))
		return -EINVAL;
	n_items = eal_from_config(cfg, items, mem, host);
	for (i = 0; i < cli_argc;) {
		struct eal_item it;

		i += eal_classify(cli, cli_argc, i, &done, &it);
		on_cli[it.group] = true;
	}
	/* Drop what the command line replaces, count what stays. */
	need = 1 + cli_argc + 1;
	for (i = 0; i < n_items; i++) {
		struct eal_item *it = &items[i];

		if (it->group != G_NONE && !it->keep &&
			!ACCUMULATES(it->group) &&
			(on_cli[it->group] || (it->no_pci && on_cli[G_ALLOW])))
			it->n_tok = 0;
		need += it->n_tok;
	}
	if (need > out_max)
		return -E2BIG;

	out[argc++] = strdup(argv0 != NULL ? argv0 : "tollgate");
	for (i = 0; i < n_items; i++)
		for (j = 0; j < items[i].n_tok; j++)
			out[argc++] = strdup(items[i].tok[j]);
	for (i = 0; i < cli_argc; i++)
		out[argc++] = strdup(cli_argv[i]);
	out[argc] = NULL;
	for (i = 0; i < argc; i++)
		if (out[i] == NULL) {
			eal_free(out, argc);
			return -ENOMEM;
		}
	return argc;
}
