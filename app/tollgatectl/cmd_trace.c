/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl trace and capture: mark real packets and show their steps
 * (/tollgate/trace, /tollgate/trace/show), and write dropped packets to a
 * pcapng file (/tollgate/capture).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tollgatectl.h"

#define CMD_TRACE   "/tollgate/trace"
#define CMD_SHOW    "/tollgate/trace/show"
#define CMD_CAPTURE "/tollgate/capture"

static const char *
str_of(const struct json_value *v, const char *key)
{
	const char *s = json_str(json_get(v, key));

	return s != NULL ? s : "";
}

static uint64_t
u64_of(const struct json_value *v, const char *key)
{
	uint64_t u = 0;

	json_u64(json_get(v, key), &u);
	return u;
}

static void
trace_status(const struct json_value *v)
{
	printf("trace %llu: %s, filter \"%s\", %llu of %llu marked, %llu on "
	       "their way, %llu records",
		(unsigned long long)u64_of(v, "session"), str_of(v, "state"),
		str_of(v, "filter"), (unsigned long long)u64_of(v, "marked"),
		(unsigned long long)u64_of(v, "count"),
		(unsigned long long)u64_of(v, "in_flight"),
		(unsigned long long)u64_of(v, "records"));
	if (u64_of(v, "records_lost") != 0)
		printf(" (%llu lost: a buffer was full)",
			(unsigned long long)u64_of(v, "records_lost"));
	putchar('\n');
}

/* One request, its status printed (or the reply, with --json). */
static int
trace_request(struct tel_conn *t, const struct ctl_opts *o, const char *params)
{
	const struct json_value *v;
	struct json_doc *doc;
	int rc = tel_query(t, CMD_TRACE, params, &doc, &v);

	if (rc != 0)
		return rc;
	if (o->json)
		ctl_print_raw(t, t->len);
	else
		trace_status(v);
	json_free(doc);
	return CTL_OK;
}

static int
trace_show(struct tel_conn *t, const struct ctl_opts *o)
{
	const struct json_value *v, *p;
	struct json_doc *doc;
	uint64_t start = 1, shown = 0;
	char params[32];
	bool first = true;
	int rc;

	if (o->json)
		printf("{\"%s\":{\"packets\":{", CMD_SHOW);
	for (;;) {
		snprintf(params, sizeof(params), "%llu,50",
			(unsigned long long)start);
		rc = tel_query(t, CMD_SHOW, params, &doc, &v);
		if (rc != 0)
			return rc;
		if (!o->json && start == 1)
			trace_status(v);
		p = json_get(v, "packets");
		for (p = p != NULL && p->type == JSON_OBJECT ? p->v.kids.first
							     : NULL;
			p != NULL; p = p->next) {
			shown++;
			if (o->json) {
				if (!first)
					putchar(',');
				first = false;
				json_write_string(stdout, p->key, p->key_len);
				putchar(':');
				json_write(stdout, p);
				continue;
			}
			printf("\npacket %s: %s (%llu bytes) in %s, path %s\n",
				p->key, str_of(p, "packet"),
				(unsigned long long)u64_of(p, "length"),
				str_of(p, "in"), str_of(p, "path"));
			ctl_print_steps(json_get(p, "steps"), true);
			printf("  => %s\n", str_of(p, "end"));
		}
		if (json_u64(json_get(v, "next"), &start) != 0) {
			json_free(doc);
			break;
		}
		json_free(doc);
	}
	if (o->json)
		printf("}}}\n");
	else if (shown == 0)
		printf("no packet traced\n");
	return CTL_OK;
}

int
ctl_trace(struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	char params[512], filter[400] = "";
	unsigned long count = 0;
	size_t used = 0;
	char *end;
	int i, n;

	if (argc == 0)
		return trace_request(t, o, NULL);
	if (strcmp(argv[0], "stop") == 0 && argc == 1)
		return trace_request(t, o, "stop");
	if (strcmp(argv[0], "show") == 0 && argc == 1)
		return trace_show(t, o);
	if (strcmp(argv[0], "start") != 0) {
		fprintf(stderr,
			"tollgatectl: trace: start, stop or show, not "
			"'%s'\n",
			argv[0]);
		return CTL_USAGE;
	}
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--count") == 0 && i + 1 < argc) {
			errno = 0;
			count = strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || count == 0) {
				fprintf(stderr,
					"tollgatectl: trace start: --count "
					"takes a number of packets, not "
					"'%s'\n",
					argv[i]);
				return CTL_USAGE;
			}
			continue;
		}
		if (strcmp(w, "--filter") == 0 && i + 1 < argc)
			w = argv[++i];
		else if (w[0] == '-') {
			fprintf(stderr,
				"tollgatectl: trace start: unknown option "
				"'%s'\n",
				w);
			return CTL_USAGE;
		}
		/* the filter: --filter 'EXPR', or its words as they are */
		n = snprintf(filter + used, sizeof(filter) - used, "%s%s",
			used ? " " : "", w);
		if (n < 0 || (size_t)n >= sizeof(filter) - used) {
			fprintf(stderr,
				"tollgatectl: trace: filter too long\n");
			return CTL_USAGE;
		}
		used += (size_t)n;
	}
	if (count != 0)
		snprintf(params, sizeof(params), "start %lu %s", count, filter);
	else
		snprintf(params, sizeof(params), "start %s", filter);
	return trace_request(t, o, params);
}

/* ---- capture ----------------------------------------------------------- */

static void
capture_status(const struct json_value *v)
{
	printf("capture: %s, %s, reason %s: %llu written, %llu matched, "
	       "ring full %llu, no mbuf %llu, write errors %llu",
		str_of(v, "state"), str_of(v, "file"), str_of(v, "reason"),
		(unsigned long long)u64_of(v, "written"),
		(unsigned long long)u64_of(v, "matched"),
		(unsigned long long)u64_of(v, "ring_full"),
		(unsigned long long)u64_of(v, "no_mbuf"),
		(unsigned long long)u64_of(v, "write_errors"));
	if (*str_of(v, "writer_error") != '\0')
		printf(" (%s)", str_of(v, "writer_error"));
	putchar('\n');
}

static int
capture_request(struct tel_conn *t, const struct ctl_opts *o,
	const char *params, uint64_t *written)
{
	const struct json_value *v;
	struct json_doc *doc;
	int rc = tel_query(t, CMD_CAPTURE, params, &doc, &v);

	if (rc != 0)
		return rc;
	if (written != NULL) {
		*written = u64_of(v, "written");
	} else if (o->json) {
		ctl_print_raw(t, t->len);
	} else {
		capture_status(v);
	}
	json_free(doc);
	return CTL_OK;
}

/* FILE made absolute: the appliance, with another working directory,
 * writes it. */
static int
absolute_path(const char *file, char *out, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(file, '/'), *base;

	if (slash == NULL) {
		snprintf(dir, sizeof(dir), ".");
		base = file;
	} else {
		snprintf(dir, sizeof(dir), "%.*s",
			slash == file ? 1 : (int)(slash - file), file);
		base = slash + 1;
	}
	if (*base == '\0' || realpath(dir, real) == NULL) {
		fprintf(stderr, "tollgatectl: capture: %s: %s\n", file,
			*base == '\0' ? "a file name is needed"
				      : strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(out, len, "%s/%s", strcmp(real, "/") ? real : "",
		    base) >= len) {
		fprintf(stderr, "tollgatectl: capture: path too long\n");
		return -1;
	}
	return 0;
}

/* capture drops -w FILE [--reason R] [--count N] [--seconds S]
 * [--snaplen N]: start, wait for the count, the time or Ctrl-C, stop. */
static int
capture_drops(
	struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	const char *file = NULL, *reason = NULL, *snaplen = NULL;
	unsigned long count = 0;
	double seconds = 0, deadline;
	char path[PATH_MAX], params[PATH_MAX + 128];
	uint64_t written = 0;
	char *end;
	int i, rc;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL) {
			fprintf(stderr,
				"tollgatectl: capture drops: '%s' "
				"needs a value\n",
				w);
			return CTL_USAGE;
		}
		i++;
		if (strcmp(w, "-w") == 0 || strcmp(w, "--write") == 0) {
			file = val;
		} else if (strcmp(w, "--reason") == 0) {
			reason = val;
		} else if (strcmp(w, "--snaplen") == 0) {
			snaplen = val;
		} else if (strcmp(w, "--count") == 0) {
			errno = 0;
			count = strtoul(val, &end, 10);
			if (errno != 0 || *end != '\0' || count == 0)
				goto bad;
		} else if (strcmp(w, "--seconds") == 0) {
			errno = 0;
			seconds = strtod(val, &end);
			if (errno != 0 || *end != '\0' || !(seconds > 0))
				goto bad;
		} else {
			fprintf(stderr,
				"tollgatectl: capture drops: unknown option "
				"'%s'\n",
				w);
			return CTL_USAGE;
		}
		continue;
	bad:
		fprintf(stderr,
			"tollgatectl: capture drops: %s '%s': a "
			"positive number\n",
			w, val);
		return CTL_USAGE;
	}
	if (file == NULL) {
		fprintf(stderr, "tollgatectl: capture drops needs -w FILE\n");
		return CTL_USAGE;
	}
	if (absolute_path(file, path, sizeof(path)) < 0)
		return CTL_FAILED;
	snprintf(params, sizeof(params), "start %s%s%s%s%s", path,
		reason ? " reason=" : "", reason ? reason : "",
		snaplen ? " snaplen=" : "", snaplen ? snaplen : "");
	if (count != 0)
		snprintf(params + strlen(params),
			sizeof(params) - strlen(params), " count=%lu", count);
	rc = capture_request(t, o, params, &written);
	if (rc != 0)
		return rc;
	if (!o->json)
		printf("capturing drops%s%s into %s (%s)\n",
			reason ? " of " : "", reason ? reason : "", path,
			count	      ? "until the count"
			: seconds > 0 ? "for the time"
				      : "Ctrl-C ends");
	fflush(stdout);
	deadline = seconds > 0 ? ctl_now() + seconds : 0;
	while (count == 0 || written < count) {
		double next = ctl_now() + 0.2;

		if (deadline != 0 && next > deadline)
			next = deadline;
		if (!ctl_sleep_until(next))
			break; /* Ctrl-C */
		if (deadline != 0 && ctl_now() >= deadline)
			break;
		rc = capture_request(t, o, NULL, &written);
		if (rc != 0)
			return rc;
	}
	return capture_request(t, o, "stop", NULL);
}

int
ctl_capture(struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	if (argc == 0)
		return capture_request(t, o, NULL, NULL);
	if (strcmp(argv[0], "stop") == 0 && argc == 1)
		return capture_request(t, o, "stop", NULL);
	if (strcmp(argv[0], "drops") == 0)
		return capture_drops(t, o, argc - 1, argv + 1);
	fprintf(stderr, "tollgatectl: capture: drops or stop, not '%s'\n",
		argv[0]);
	return CTL_USAGE;
}
