/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl: talk to a running tollgate over DPDK's telemetry socket.
 * Options, the choice of socket, and the command table live here.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yaml.h>

#include "tollgatectl.h"

#define QUERY_TIMEOUT_S 10

volatile sig_atomic_t ctl_stop;

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: tollgatectl [-f PREFIX | -c FILE] [--json] [--watch N] "
		"COMMAND\n"
		"Commands:\n"
		"  stats               packets, ports, stages, drops, events\n"
		"  interfaces          interfaces: port, address, MTU, MAC\n"
		"  routes              the installed routes\n"
		"  neighbors           the ARP neighbor cache\n"
		"  filters [IFACE DIR] the packet filter lists; with IFACE "
		"and DIR (in|out)\n"
		"                      that list's rules and their hits\n"
		"  nat                 NAT settings, addresses and ports in "
		"use, sessions\n"
		"                      by protocol and TCP state, failures\n"
		"  nat sessions [ADDR] every NAT session and firewall dynamic "
		"entry; with\n"
		"                      ADDR those with that address on a side\n"
		"  firewall            the firewall: ICMP policy, dynamic "
		"entries, exceptions\n"
		"  ipsec               IPsec settings, crypto device, drops, "
		"and every SA\n"
		"  ipsec sa [NAME]     every SA with its counters; with NAME "
		"that SA, every\n"
		"                      field (never its keys)\n"
		"  ipsec spd           the IPsec policies in evaluation order, "
		"with hits\n"
		"  config              the running configuration: file, "
		"generation, sizes\n"
		"  config show         the running configuration's YAML, "
		"byte for byte\n"
		"  reload [FILE]       reload FILE (default: the running "
		"file) atomically\n"
		"  check FILE          validate FILE against the running "
		"configuration\n"
		"  raw /CMD[,PARAMS]   send one telemetry command, print "
		"the reply\n"
		"  explain --in IFACE|--from-host PROTO SRC[:PORT] '->'|to "
		"DST[:PORT]\n"
		"          [--flags S] [--ttl N] [--type N] [--code N] "
		"[--length N]\n"
		"          [--frag OFF] [--mf] [--l4 N] [--call N] "
		"[--esp|--ah SPI]\n"
		"  explain --in IFACE|--from-host --pcap FILE [--index N]\n"
		"  explain --in IFACE|--from-host --frame HEX [--len N]\n"
		"                      a dry run of that packet (or of frame N "
		"of a\n"
		"                      capture): every stage, its verdict and "
		"why, and\n"
		"                      where it ends\n"
		"  trace start [--count N] [--filter EXPR | EXPR...]\n"
		"                      mark the next N (1-1024, default 10) "
		"packets matching\n"
		"                      EXPR (tcp, udp, icmp, esp, ah, gre, "
		"proto N, arp, [src|dst]\n"
		"                      host/net/port, in IFACE, from host, "
		"joined by 'and')\n"
		"  trace               the trace's state\n"
		"  trace show          every traced packet, step by step, "
		"with the time\n"
		"  trace stop          end the trace\n"
		"  capture drops -w FILE [--reason R] [--count N] [--seconds "
		"S] [--snaplen N]\n"
		"                      write dropped packets to a pcapng file, "
		"each with its\n"
		"                      reason as a comment, until N are "
		"written, S seconds\n"
		"                      passed or Ctrl-C; then stop and print "
		"the counts\n"
		"  capture             the capture's state\n"
		"  capture stop        end the capture (another client's "
		"too)\n"
		"Options:\n"
		"  -f, --prefix PREFIX  tollgate's DPDK file prefix (default "
		"\"rte\")\n"
		"  -c, --config FILE    take the prefix from FILE's "
		"dpdk.file_prefix\n"
		"  -j, --json           print the JSON replies (pages merged "
		"into one)\n"
		"  -w, --watch N        repeat every N seconds, with rates "
		"for stats;\n"
		"                       Ctrl-C ends\n"
		"  -h, --help           this text\n"
		"Exit: 0 done, 1 the command failed, 2 usage, 3 cannot "
		"connect.\n");
}

static int
usage_error(const char *fmt, const char *arg)
{
	fputs("tollgatectl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\n", stderr);
	usage(stderr);
	return CTL_USAGE;
}

double
ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
ctl_sleep_until(double deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)deadline;
	ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
	while (!ctl_stop) {
		int rc = clock_nanosleep(
			CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		if (rc == 0)
			return !ctl_stop;
		if (rc != EINTR)
			return false;
	}
	return false;
}

static void
on_stop(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

void
ctl_print_raw(const struct tel_conn *t, size_t len)
{
	fwrite(t->buf, 1, len, stdout);
	putchar('\n');
}

int
ctl_query_or_raw(struct tel_conn *t, const struct ctl_opts *o, const char *cmd,
	struct json_doc **doc, const struct json_value **v)
{
	int rc = tel_query(t, cmd, NULL, doc, v);

	if (rc != 0)
		return rc;
	if (o->json) {
		ctl_print_raw(t, t->len);
		json_free(*doc);
		*doc = NULL;
		return CTL_PRINTED;
	}
	return CTL_OK;
}

/* ---- the prefix from a tollgate YAML ----------------------------------- */

/* Skip the node that starts with @p ev (already taken). Returns 0 or -1. */
static int
yaml_skip(yaml_parser_t *p, yaml_event_t *ev)
{
	int depth = 0;

	do {
		if (ev->type == YAML_MAPPING_START_EVENT ||
			ev->type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (ev->type == YAML_MAPPING_END_EVENT ||
			 ev->type == YAML_SEQUENCE_END_EVENT)
			depth--;
		yaml_event_delete(ev);
		if (depth == 0)
			return 0;
		if (!yaml_parser_parse(p, ev))
			return -1;
	} while (ev->type != YAML_STREAM_END_EVENT);
	yaml_event_delete(ev);
	return -1;
}

/*
 * Walk the mapping whose start was just read. With @p want set, return 1
 * and the scalar value of key @p want (the only one looked at in a nested
 * mapping is dpdk → file_prefix). Returns 1 found, 0 not, -1 bad YAML.
 */
static int
yaml_find(yaml_parser_t *p, const char *const *path, char *out, size_t len)
{
	yaml_event_t k, v;
	bool match;
	int rc;

	for (;;) {
		if (!yaml_parser_parse(p, &k))
			return -1;
		if (k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		if (k.type != YAML_SCALAR_EVENT) { /* a complex key */
			if (yaml_skip(p, &k) < 0)
				return -1;
			match = false;
		} else {
			match = strcmp((const char *)k.data.scalar.value,
					path[0]) == 0;
			yaml_event_delete(&k);
		}
		if (!yaml_parser_parse(p, &v))
			return -1;
		if (match && path[1] == NULL && v.type == YAML_SCALAR_EVENT) {
			snprintf(out, len, "%s",
				(const char *)v.data.scalar.value);
			yaml_event_delete(&v);
			return 1;
		}
		if (match && path[1] != NULL &&
			v.type == YAML_MAPPING_START_EVENT) {
			yaml_event_delete(&v);
			rc = yaml_find(p, path + 1, out, len);
			if (rc != 0)
				return rc;
			continue;
		}
		if (yaml_skip(p, &v) < 0)
			return -1;
	}
}

int
ctl_prefix_from_yaml(const char *file, char *out, size_t len)
{
	static const char *const path[] = {"dpdk", "file_prefix", NULL};
	yaml_parser_t p;
	yaml_event_t ev;
	FILE *f;
	int rc = -1;

	f = fopen(file, "rb");
	if (f == NULL) {
		fprintf(stderr, "tollgatectl: %s: %s\n", file, strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&p)) {
		fclose(f);
		fprintf(stderr, "tollgatectl: out of memory\n");
		return -1;
	}
	yaml_parser_set_input_file(&p, f);
	/* stream start, document start, then the top-level mapping */
	while (yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t type = ev.type;

		yaml_event_delete(&ev);
		if (type == YAML_MAPPING_START_EVENT) {
			rc = yaml_find(&p, path, out, len);
			break;
		}
		if (type != YAML_STREAM_START_EVENT &&
			type != YAML_DOCUMENT_START_EVENT) {
			rc = 0; /* empty, or not a mapping */
			break;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "tollgatectl: %s:%zu:%zu: %s\n", file,
			p.problem_mark.line + 1, p.problem_mark.column + 1,
			p.problem != NULL ? p.problem : "invalid YAML");
	}
	yaml_parser_delete(&p);
	fclose(f);
	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}

/* ---- commands ---------------------------------------------------------- */

/* @p file made absolute from our working directory: tollgate opens it
 * from its own. Returns a malloc'd path or NULL (message printed). */
static char *
absolute(const char *file)
{
	char cwd[PATH_MAX], *abs;
	size_t n;

	if (file[0] == '/')
		return strdup(file);
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "tollgatectl: getcwd: %s\n", strerror(errno));
		return NULL;
	}
	n = strlen(cwd) + strlen(file) + 2;
	abs = malloc(n);
	if (abs != NULL)
		snprintf(abs, n, "%s/%s", cwd, file);
	return abs;
}

static int
cmd_raw(struct tel_conn *t, const char *line)
{
	const char *comma = strchr(line, ',');
	struct json_doc *doc;
	struct json_error err;
	const struct json_value *v;
	char cmd[TEL_MAX_REQUEST + 1];
	size_t len;
	int rc;

	snprintf(cmd, sizeof(cmd), "%.*s",
		(int)(comma != NULL ? (size_t)(comma - line) : strlen(line)),
		line);
	rc = tel_request(t, cmd, comma != NULL ? comma + 1 : NULL, &len);
	if (rc != 0)
		return rc;
	ctl_print_raw(t, len);
	doc = json_parse(t->buf, len, NULL, &err);
	if (doc == NULL) {
		fprintf(stderr,
			"tollgatectl: the reply is not valid JSON (byte %zu: "
			"%s)\n",
			err.offset, err.msg);
		return CTL_FAILED;
	}
	v = json_root(doc)->type == JSON_OBJECT ? json_root(doc)->v.kids.first
						: NULL;
	/* null: unknown command or refused parameters; a lone "error":
	 * tollgate's answer to bad parameters. */
	rc = v == NULL || v->type == JSON_NULL ||
			     (json_get(v, "error") != NULL && v->v.kids.n == 1)
		     ? CTL_FAILED
		     : CTL_OK;
	json_free(doc);
	return rc;
}

enum command {
	C_STATS,
	C_INTERFACES,
	C_ROUTES,
	C_NEIGHBORS,
	C_FILTERS,
	C_NAT,
	C_NAT_SESSIONS,
	C_FIREWALL,
	C_IPSEC,
	C_IPSEC_SA,
	C_IPSEC_SPD,
	C_CONFIG,
	C_SHOW,
	C_RELOAD,
	C_CHECK,
	C_RAW,
};

/* The command and its argument from argv[optind...]. Returns 0 or 2. */
static int
parse_command(int argc, char **argv, enum command *c, const char **arg,
	const char **arg2)
{
	static const struct {
		const char *name, *sub;
		enum command c;
		int args; /* 0 none, 1 optional, 2 required, 3 none or two */
	} cmds[] = {
		{"stats", NULL, C_STATS, 0},
		{"interfaces", NULL, C_INTERFACES, 0},
		{"routes", NULL, C_ROUTES, 0},
		{"neighbors", NULL, C_NEIGHBORS, 0},
		{"filters", NULL, C_FILTERS, 3},
		{"nat", "sessions", C_NAT_SESSIONS, 1},
		{"nat", NULL, C_NAT, 0},
		{"firewall", NULL, C_FIREWALL, 0},
		{"ipsec", "sa", C_IPSEC_SA, 1},
		{"ipsec", "spd", C_IPSEC_SPD, 0},
		{"ipsec", NULL, C_IPSEC, 0},
		{"config", "show", C_SHOW, 0},
		{"config", NULL, C_CONFIG, 0},
		{"reload", NULL, C_RELOAD, 1},
		{"check", NULL, C_CHECK, 2},
		{"raw", NULL, C_RAW, 2},
	};
	int n = argc - optind, i, used;

	*arg = *arg2 = NULL;
	if (n == 0)
		return usage_error("%s", "a command is needed");
	for (i = 0; i < (int)(sizeof(cmds) / sizeof(cmds[0])); i++) {
		if (strcmp(argv[optind], cmds[i].name) != 0)
			continue;
		used = 1;
		if (cmds[i].sub != NULL) {
			if (n < 2 || strcmp(argv[optind + 1], cmds[i].sub) != 0)
				continue;
			used = 2;
		}
		if (cmds[i].args == 3 && n > used) {
			if (n != used + 2)
				return usage_error("%s takes IFACE and DIR "
						   "(in or out), or nothing",
					cmds[i].name);
			*arg = argv[optind + used];
			*arg2 = argv[optind + used + 1];
			used += 2;
		}
		if (cmds[i].args != 0 && cmds[i].args != 3 && n > used)
			*arg = argv[optind + used++];
		if (cmds[i].args == 2 && *arg == NULL)
			return usage_error(
				"%s needs an argument", cmds[i].name);
		if (n > used)
			return usage_error("unexpected argument '%s'",
				argv[optind + used]);
		*c = cmds[i].c;
		return 0;
	}
	return usage_error("unknown command '%s'", argv[optind]);
}

static int
run(struct tel_conn *t, const struct ctl_opts *o, enum command c,
	const char *arg, const char *arg2, const char *abs)
{
	switch (c) {
	case C_STATS:
		return ctl_stats(t, o);
	case C_INTERFACES:
		return ctl_interfaces(t, o);
	case C_ROUTES:
		return ctl_routes(t, o);
	case C_NEIGHBORS:
		return ctl_neighbors(t, o);
	case C_FILTERS:
		return ctl_filters(t, o, arg, arg2);
	case C_NAT:
		return ctl_nat(t, o);
	case C_NAT_SESSIONS:
		return ctl_nat_sessions(t, o, arg);
	case C_FIREWALL:
		return ctl_firewall(t, o);
	case C_IPSEC:
		return ctl_ipsec(t, o);
	case C_IPSEC_SA:
		return ctl_ipsec_sa(t, o, arg);
	case C_IPSEC_SPD:
		return ctl_ipsec_spd(t, o);
	case C_CONFIG:
		return ctl_config_info(t, o);
	case C_SHOW:
		return ctl_config_show(t, o);
	case C_RELOAD:
		return ctl_reload(t, o, arg, abs);
	case C_CHECK:
		return ctl_check(t, o, arg, abs);
	case C_RAW:
		return cmd_raw(t, arg);
	}
	return CTL_USAGE;
}

/* --watch for the commands other than stats: the same output again. */
static int
watch(struct tel_conn *t, const struct ctl_opts *o, enum command c,
	const char *arg, const char *arg2)
{
	double next = ctl_now();
	bool tty = isatty(STDOUT_FILENO);
	int rc, n = 0;

	do {
		if (tty && !o->json)
			fputs("\033[H\033[2J", stdout);
		else if (n++ > 0 && !o->json)
			putchar('\n');
		rc = run(t, o, c, arg, arg2, NULL);
		fflush(stdout);
		next += o->watch_s;
		if (next < ctl_now())
			next = ctl_now();
	} while (rc == CTL_OK && ctl_sleep_until(next));
	return ctl_stop ? CTL_OK : rc;
}

/* Where the command starts in argv (past the options and their values):
 * explain, trace and capture take options of their own after it. */
static int
command_index(int argc, char **argv)
{
	static const char *const with_value[] = {
		"-f", "-c", "-w", "--prefix", "--config", "--watch"};
	size_t k;
	int i;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] != '-' || argv[i][1] == '\0')
			return i;
		if (strcmp(argv[i], "--") == 0)
			return i + 1;
		for (k = 0; k < sizeof(with_value) / sizeof(*with_value); k++)
			if (strcmp(argv[i], with_value[k]) == 0)
				i++;
	}
	return argc;
}

/* explain, trace or capture @p own with its words; @p t NULL: only check
 * them. */
static int
run_own(struct tel_conn *t, const struct ctl_opts *o, const char *own, int argc,
	char **argv)
{
	if (strcmp(own, "explain") == 0)
		return ctl_explain(t, o, argc, argv);
	if (strcmp(own, "trace") == 0)
		return ctl_trace(t, o, argc, argv);
	return ctl_capture(t, o, argc, argv);
}

static bool
takes_own_options(const char *cmd)
{
	return strcmp(cmd, "explain") == 0 || strcmp(cmd, "trace") == 0 ||
	       strcmp(cmd, "capture") == 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"prefix", required_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"watch", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl_opts o = {.prefix = "rte"};
	char yaml_prefix[256], *abs = NULL, *end;
	const char *arg, *arg2, *yaml = NULL;
	struct tel_conn t;
	struct sigaction sa;
	enum command c = C_STATS;
	int opt, rc, ci = command_index(argc, argv), own_argc = 0;
	char **own_argv = NULL;
	const char *own = NULL;

	/* explain, trace, capture: the options before the command are
	 * tollgatectl's, the words after it the command's */
	if (ci < argc && takes_own_options(argv[ci])) {
		own = argv[ci];
		own_argc = argc - ci - 1;
		own_argv = argv + ci + 1;
		argc = ci;
	}
	while ((opt = getopt_long(argc, argv, "f:c:jw:h", longopts, NULL)) !=
		-1) {
		switch (opt) {
		case 'f':
			o.prefix = optarg;
			break;
		case 'c':
			yaml = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'w':
			errno = 0;
			o.watch_s = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || end == optarg ||
				!(o.watch_s >= 0.1 && o.watch_s <= 86400))
				return usage_error("--watch takes seconds, "
						   "0.1 to 86400, not '%s'",
					optarg);
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (own != NULL) {
		if (o.watch_s > 0)
			return usage_error(
				"--watch does not work with %s", own);
		arg = arg2 = NULL;
	} else {
		rc = parse_command(argc, argv, &c, &arg, &arg2);
		if (rc != 0)
			return rc;
	}
	if (o.watch_s > 0 &&
		(c == C_SHOW || c == C_RELOAD || c == C_CHECK || c == C_RAW))
		return usage_error("--watch works with stats, interfaces, "
				   "routes, neighbors, filters, nat, firewall, "
				   "ipsec and config, not %s",
			argv[optind]);
	if (c == C_RAW && arg[0] != '/')
		return usage_error(
			"raw: a command starts with '/', not '%s'", arg);
	if (yaml != NULL) {
		rc = ctl_prefix_from_yaml(
			yaml, yaml_prefix, sizeof(yaml_prefix));
		if (rc < 0)
			return CTL_USAGE;
		if (rc == 0)
			o.prefix = yaml_prefix;
	}
	if (o.prefix[0] == '\0' || strchr(o.prefix, '/') != NULL)
		return usage_error("invalid prefix '%s'", o.prefix);
	if (arg != NULL && (c == C_RELOAD || c == C_CHECK)) {
		if (arg[0] == '\0')
			return usage_error("%s", "an empty file name");
		abs = absolute(arg);
		if (abs == NULL)
			return CTL_FAILED;
	}

	/* explain, trace, capture: a usage error before connecting */
	if (own != NULL) {
		rc = run_own(NULL, &o, own, own_argc, own_argv);
		if (rc != 0)
			return rc;
	}

	rc = tel_open(&t, o.prefix, QUERY_TIMEOUT_S);
	if (rc == 0 && own != NULL) {
		/* capture drops waits for Ctrl-C: no SA_RESTART, a signal
		 * cuts its sleep short */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = run_own(&t, &o, own, own_argc, own_argv);
	} else if (rc == 0 && o.watch_s > 0) {
		/* No SA_RESTART: a signal cuts the sleep or the read short. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_stop;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = c == C_STATS ? ctl_stats(&t, &o)
				  : watch(&t, &o, c, arg, arg2);
	} else if (rc == 0) {
		rc = run(&t, &o, c, arg, arg2, abs);
	}
	tel_close(&t);
	free(abs);
	if (fflush(stdout) != 0 && rc == CTL_OK)
		rc = CTL_FAILED;
	return rc;
}
