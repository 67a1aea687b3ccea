/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl trace and capture: mark real packets and show their steps
 * (/tollgate/trace, /tollgate/trace/show), and write dropped packets to a
 * pcapng file (/tollgate/capture).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tollgatectl.h"

#define CMD_TRACE   "/tollgate/trace"
#define CMD_SHOW    "/tollgate/trace/show"
#define CMD_CAPTURE "/tollgate/capture"

#define CAPTURE_POLL_S 0.2

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

/* A row "LABEL  value of KEY" of a field-per-line table. */
static void
field_row(struct table *tb, const char *label, const struct json_value *v,
	const char *key)
{
	char buf[300];

	table_row(tb, label, ctl_fmt(json_get(v, key), buf, sizeof(buf)));
}

/* The trace's status, a line per field. */
static int
trace_status(const struct json_value *v)
{
	struct table tb;
	char buf[300];

	table_init(&tb, "ll", "trace",
		ctl_fmt(json_get(v, "session"), buf, sizeof(buf)));
	field_row(&tb, "state", v, "state");
	table_row(&tb, "filter",
		*str_of(v, "filter") != '\0' ? str_of(v, "filter")
					     : "(every packet)");
	field_row(&tb, "count", v, "count");
	field_row(&tb, "marked", v, "marked");
	field_row(&tb, "in flight", v, "in_flight");
	field_row(&tb, "records", v, "records");
	field_row(&tb, "records lost", v, "records_lost");
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* The same in one line, above trace show's packets. */
static void
trace_summary(const struct json_value *v)
{
	const char *filter = str_of(v, "filter");

	printf("trace %llu: %s, %s%s%s, %llu of %llu marked, %llu on their "
	       "way, %llu records",
		(unsigned long long)u64_of(v, "session"), str_of(v, "state"),
		*filter != '\0' ? "filter \"" : "every packet", filter,
		*filter != '\0' ? "\"" : "",
		(unsigned long long)u64_of(v, "marked"),
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
		rc = trace_status(v);
	json_free(doc);
	return rc;
}

/* One traced packet: its line, RX, its steps, how it ended. */
static void
print_packet(const struct json_value *p)
{
	printf("\npacket %.*s: ", (int)p->key_len, p->key);
	if (json_get(p, "in") == NULL) {
		/* its RX record did not fit a buffer: no packet line */
		printf("%s (its RX record was lost)\n", str_of(p, "packet"));
	} else {
		printf("%s (%llu bytes) in %s, path %s\n", str_of(p, "packet"),
			(unsigned long long)u64_of(p, "length"),
			str_of(p, "in"), str_of(p, "path"));
		printf("  %8u ns  rx %s\n", 0u, str_of(p, "in"));
	}
	ctl_print_steps(json_get(p, "steps"), true);
	printf("  => %s\n", str_of(p, "end"));
}

/* --json: the pages as one, {"/tollgate/trace/show": {the last page's
 * status, "packets": {every page's}}}, without "next". */
static void
print_show_merged(const struct json_value *status, const struct ctl_pages *pg)
{
	const struct json_value *f;

	printf("{\"%s\":{", CMD_SHOW);
	for (f = status->v.kids.first; f != NULL; f = f->next) {
		if (strcmp(f->key, "packets") == 0 ||
			strcmp(f->key, "next") == 0)
			continue;
		json_write_string(stdout, f->key, f->key_len);
		putchar(':');
		json_write(stdout, f);
		putchar(',');
	}
	printf("\"packets\":{");
	ctl_print_entries(pg);
	printf("}}}\n");
}

/* Every page of /tollgate/trace/show (following "next"), printed. */
static int
trace_show(struct tel_conn *t, const struct ctl_opts *o)
{
	const struct json_value *status, *p;
	struct ctl_pages pg = {.sparse = true}; /* ids with gaps, no total */
	size_t i;
	int rc;

	rc = ctl_fetch_pages(t, CMD_SHOW, NULL, "packets", &pg);
	if (rc != CTL_OK) {
		json_pages_free(&pg.p);
		return rc;
	}
	if (pg.p.n == 0) {
		fprintf(stderr, "tollgatectl: %s: reply without \"packets\"\n",
			CMD_SHOW);
		return CTL_FAILED;
	}
	/* the status as of the last page: the most recent */
	status = json_root(pg.p.docs[pg.p.n - 1])->v.kids.first;
	if (o->json) {
		print_show_merged(status, &pg);
		json_pages_free(&pg.p);
		return CTL_OK;
	}
	trace_summary(status);
	for (i = 0; i < pg.p.n; i++)
		for (p = pg.p.vals[i]->v.kids.first; p != NULL; p = p->next)
			print_packet(p);
	if (pg.count == 0)
		printf("no packet traced\n");
	json_pages_free(&pg.p);
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
		return t != NULL ? trace_request(t, o, NULL) : CTL_OK;
	if (strcmp(argv[0], "stop") == 0 && argc == 1)
		return t != NULL ? trace_request(t, o, "stop") : CTL_OK;
	if (strcmp(argv[0], "show") == 0 && argc == 1)
		return t != NULL ? trace_show(t, o) : CTL_OK;
	if (strcmp(argv[0], "stop") == 0 || strcmp(argv[0], "show") == 0) {
		fprintf(stderr,
			"tollgatectl: trace %s takes no argument, not '%s'\n",
			argv[0], argv[1]);
		return CTL_USAGE;
	}
	if (strcmp(argv[0], "start") != 0) {
		fprintf(stderr,
			"tollgatectl: trace: start, stop or show, not '%s'\n",
			argv[0]);
		return CTL_USAGE;
	}
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];

		if ((strcmp(w, "--count") == 0 || strcmp(w, "--filter") == 0) &&
			i + 1 >= argc) {
			fprintf(stderr,
				"tollgatectl: trace start: %s needs a "
				"value\n",
				w);
			return CTL_USAGE;
		}
		if (strcmp(w, "--count") == 0) {
			errno = 0;
			count = strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || count == 0 ||
				argv[i][0] == '-') {
				fprintf(stderr,
					"tollgatectl: trace start: --count "
					"takes a number of packets, not "
					"'%s'\n",
					argv[i]);
				return CTL_USAGE;
			}
			continue;
		}
		if (strcmp(w, "--filter") == 0) {
			w = argv[++i];
		} else if (w[0] == '-') {
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
				"tollgatectl: trace start: filter too long\n");
			return CTL_USAGE;
		}
		used += (size_t)n;
	}
	if (count != 0)
		snprintf(params, sizeof(params), "start %lu %s", count, filter);
	else
		snprintf(params, sizeof(params), "start %s", filter);
	return t != NULL ? trace_request(t, o, params) : CTL_OK;
}

/* ---- capture ----------------------------------------------------------- */

/* The capture's status, a line per field. */
static int
capture_status(const struct json_value *v)
{
	struct table tb;
	char buf[300];

	table_init(&tb, "ll", "state",
		ctl_fmt(json_get(v, "state"), buf, sizeof(buf)));
	table_row(&tb, "file",
		*str_of(v, "file") != '\0' ? str_of(v, "file") : "-");
	field_row(&tb, "reason", v, "reason");
	if (u64_of(v, "count") != 0)
		field_row(&tb, "count", v, "count");
	else
		table_row(&tb, "count", "no limit");
	field_row(&tb, "snaplen", v, "snaplen");
	field_row(&tb, "matched", v, "matched");
	field_row(&tb, "written", v, "written");
	field_row(&tb, "ring full", v, "ring_full");
	field_row(&tb, "no mbuf", v, "no_mbuf");
	field_row(&tb, "write errors", v, "write_errors");
	if (json_get(v, "writer_error") != NULL)
		field_row(&tb, "writer error", v, "writer_error");
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* What capture drops follows while it waits. */
struct capture_counts {
	bool capturing;
	uint64_t written, lost; /* lost: ring full, no mbuf, write errors */
};

/*
 * One request. With @p c, the counts are taken and nothing printed;
 * without, the status is printed (or the reply, with --json).
 */
static int
capture_request(struct tel_conn *t, const struct ctl_opts *o,
	const char *params, struct capture_counts *c)
{
	const struct json_value *v;
	struct json_doc *doc;
	int rc = tel_query(t, CMD_CAPTURE, params, &doc, &v);

	if (rc != 0)
		return rc;
	if (c != NULL) {
		c->capturing = strcmp(str_of(v, "state"), "capturing") == 0;
		c->written = u64_of(v, "written");
		c->lost = u64_of(v, "ring_full") + u64_of(v, "no_mbuf") +
			  u64_of(v, "write_errors");
	} else if (o->json) {
		ctl_print_raw(t, t->len);
	} else {
		rc = capture_status(v);
	}
	json_free(doc);
	return rc;
}

/* The stop at the end of capture drops, and its one-line summary. */
static int
capture_stop_summary(struct tel_conn *t, const struct ctl_opts *o)
{
	const struct json_value *v;
	struct json_doc *doc;
	int rc = tel_query(t, CMD_CAPTURE, "stop", &doc, &v);

	if (rc != 0)
		return rc;
	if (o->json)
		ctl_print_raw(t, t->len);
	else
		printf("%s: %llu packets written (matched %llu, ring full "
		       "%llu, no mbuf %llu, write errors %llu)\n",
			str_of(v, "file"),
			(unsigned long long)u64_of(v, "written"),
			(unsigned long long)u64_of(v, "matched"),
			(unsigned long long)u64_of(v, "ring_full"),
			(unsigned long long)u64_of(v, "no_mbuf"),
			(unsigned long long)u64_of(v, "write_errors"));
	if (json_get(v, "writer_error") != NULL) {
		fprintf(stderr, "tollgatectl: capture: %s: %s\n",
			str_of(v, "file"), str_of(v, "writer_error"));
		rc = CTL_FAILED;
	}
	json_free(doc);
	return rc;
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
	if (*base == '\0' || strcmp(base, ".") == 0 ||
		strcmp(base, "..") == 0) {
		fprintf(stderr,
			"tollgatectl: capture: %s: a file name is "
			"needed\n",
			file);
		return -1;
	}
	if (realpath(dir, real) == NULL) {
		fprintf(stderr, "tollgatectl: capture: %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(out, len, "%s/%s", strcmp(real, "/") ? real : "",
		    base) >= len) {
		fprintf(stderr, "tollgatectl: capture: path too long\n");
		return -1;
	}
	/* the appliance takes the parameters as words */
	if (strpbrk(out, " \t\n") != NULL) {
		fprintf(stderr,
			"tollgatectl: capture: %s: a path without blanks is "
			"needed\n",
			out);
		return -1;
	}
	return 0;
}

/* A positive number in @p s (at most @p max). */
static bool
positive(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && s[0] >= '0' && s[0] <= '9' &&
	       *out != 0 && *out <= max;
}

/* capture drops -w FILE [--reason R] [--count N] [--seconds S]
 * [--snaplen N]: start, wait for the count, the time or Ctrl-C, stop. */
static int
capture_drops(
	struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	const char *file = NULL, *reason = NULL;
	unsigned long count = 0, snaplen = 0;
	double seconds = 0, deadline = 0;
	char path[PATH_MAX], params[PATH_MAX + 256];
	struct capture_counts c = {0};
	sigset_t stop_sigs, old;
	char *end;
	int i, rc, n;

	for (i = 0; i < argc; i++) {
		const char *w = argv[i],
			   *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(w, "-w") != 0 && strcmp(w, "--write") != 0 &&
			strcmp(w, "--reason") != 0 &&
			strcmp(w, "--count") != 0 &&
			strcmp(w, "--seconds") != 0 &&
			strcmp(w, "--snaplen") != 0) {
			fprintf(stderr,
				"tollgatectl: capture drops: unknown option "
				"'%s'\n",
				w);
			return CTL_USAGE;
		}
		if (val == NULL) {
			fprintf(stderr,
				"tollgatectl: capture drops: %s needs a "
				"value\n",
				w);
			return CTL_USAGE;
		}
		i++;
		if (strcmp(w, "-w") == 0 || strcmp(w, "--write") == 0) {
			file = val;
		} else if (strcmp(w, "--reason") == 0) {
			if (val[0] == '\0' || strlen(val) > 100 ||
				strpbrk(val, " \t\n") != NULL)
				goto bad;
			reason = val;
		} else if (strcmp(w, "--snaplen") == 0) {
			if (!positive(val, 65535, &snaplen))
				goto bad;
		} else if (strcmp(w, "--count") == 0) {
			if (!positive(val, UINT32_MAX, &count))
				goto bad;
		} else {
			errno = 0;
			seconds = strtod(val, &end);
			if (errno != 0 || *end != '\0' || end == val ||
				!(seconds > 0 && seconds <= 1e7))
				goto bad;
		}
		continue;
	bad:
		fprintf(stderr, "tollgatectl: capture drops: %s '%s': %s\n", w,
			val,
			strcmp(w, "--reason") == 0
				? "a drop reason (forward.no_route)"
				: "a positive number");
		return CTL_USAGE;
	}
	if (file == NULL) {
		fprintf(stderr, "tollgatectl: capture drops needs -w FILE\n");
		return CTL_USAGE;
	}
	if (absolute_path(file, path, sizeof(path)) < 0)
		return CTL_FAILED;
	n = snprintf(params, sizeof(params), "start %s", path);
	if (reason != NULL)
		n += snprintf(params + n, sizeof(params) - (size_t)n,
			" reason=%s", reason);
	if (count != 0)
		n += snprintf(params + n, sizeof(params) - (size_t)n,
			" count=%lu", count);
	if (snaplen != 0)
		snprintf(params + n, sizeof(params) - (size_t)n, " snaplen=%lu",
			snaplen);
	if (t == NULL)
		return CTL_OK;

	/* A signal that came during a request would cut its reply short and
	 * leave the capture running: they wait for the sleeps. */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_sigs, &old);
	rc = capture_request(t, o, params, &c);
	if (rc != 0)
		goto out;
	if (!c.capturing) {
		/* no error, yet nothing runs: the status is an older one's */
		fprintf(stderr,
			"tollgatectl: capture: %s: the appliance did not start "
			"the capture (no error given)\n",
			path);
		rc = CTL_FAILED;
		goto out;
	}
	if (!o->json) {
		printf("capturing drops%s%s into %s (", reason ? " of " : "",
			reason ? reason : "", path);
		if (count != 0)
			printf("until %lu are written%s", count,
				seconds > 0 ? " or " : "");
		if (seconds > 0)
			printf("for %g s", seconds);
		printf("%sCtrl-C ends)\n", count || seconds > 0 ? "; " : "");
	}
	fflush(stdout);
	if (seconds > 0)
		deadline = ctl_now() + seconds;
	/* Until the count is written (or the copies the capture took are
	 * written or lost), the time is up, Ctrl-C, or someone else ends
	 * the capture. */
	while (c.capturing &&
		(count == 0 ||
			(c.written < count && c.written + c.lost < count))) {
		double next = ctl_now() + CAPTURE_POLL_S;
		bool woke;

		if (deadline != 0 && next > deadline)
			next = deadline;
		sigprocmask(SIG_SETMASK, &old, NULL);
		woke = ctl_sleep_until(next);
		sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
		if (!woke)
			break; /* Ctrl-C */
		if (deadline != 0 && ctl_now() >= deadline)
			break;
		rc = capture_request(t, o, NULL, &c);
		if (rc == CTL_NOCONN)
			goto out;
		if (rc != 0)
			break; /* a strange reply: still stop it */
	}
	n = capture_stop_summary(t, o);
	if (rc == 0)
		rc = n;
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
ctl_capture(struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	if (argc == 0)
		return t != NULL ? capture_request(t, o, NULL, NULL) : CTL_OK;
	if (strcmp(argv[0], "stop") == 0 && argc == 1)
		return t != NULL ? capture_request(t, o, "stop", NULL) : CTL_OK;
	if (strcmp(argv[0], "drops") == 0)
		return capture_drops(t, o, argc - 1, argv + 1);
	if (strcmp(argv[0], "stop") == 0)
		fprintf(stderr,
			"tollgatectl: capture stop takes no argument, not "
			"'%s'\n",
			argv[1]);
	else
		fprintf(stderr,
			"tollgatectl: capture: drops or stop, not '%s'\n",
			argv[0]);
	return CTL_USAGE;
}
