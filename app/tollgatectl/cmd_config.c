/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl config, config show, reload, check: the running
 * configuration, its YAML byte for byte, and live reload with errors as
 * FILE:LINE:COL: path: message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tollgatectl.h"

#define SHOW_RETRIES	 3
#define SHOW_MAX	 (64u << 20) /* no YAML file is larger */
#define RELOAD_TIMEOUT_S 120	     /* a large route table takes a while */

static uint64_t
u64_or0(const struct json_value *v)
{
	uint64_t x = 0;

	json_u64(v, &x);
	return x;
}

int
ctl_config_info(struct tel_conn *t, const struct ctl_opts *o)
{
	char buf[160], when[64];
	const struct json_value *v;
	struct json_doc *doc;
	struct table tb;
	uint64_t at;
	struct tm tm;
	time_t tt;
	int rc;

	rc = ctl_query_or_raw(t, o, "/tollgate/config", &doc, &v);
	if (rc != CTL_OK)
		return rc == CTL_PRINTED ? CTL_OK : rc;
	snprintf(when, sizeof(when), "-");
	if (json_u64(json_get(v, "loaded_at"), &at) == 0) {
		tt = (time_t)at;
		if (localtime_r(&tt, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z",
				&tm);
	}
	table_init(&tb, "ll", "file",
		ctl_fmt(json_get(v, "file"), buf, sizeof(buf)));
	table_row(&tb, "generation",
		ctl_fmt(json_get(v, "generation"), buf, sizeof(buf)));
	table_row(&tb, "loaded at", when);
	table_row(&tb, "uptime (s)",
		ctl_fmt(json_get(v, "uptime_s"), buf, sizeof(buf)));
	table_row(
		&tb, "ports", ctl_fmt(json_get(v, "ports"), buf, sizeof(buf)));
	table_row(&tb, "interfaces",
		ctl_fmt(json_get(v, "interfaces"), buf, sizeof(buf)));
	table_row(&tb, "static routes",
		ctl_fmt(json_get(v, "routes"), buf, sizeof(buf)));
	table_row(&tb, "static neighbors",
		ctl_fmt(json_get(v, "neighbors"), buf, sizeof(buf)));
	json_free(doc);
	return table_print(&tb, stdout, "") == 0 ? CTL_OK : CTL_FAILED;
}

/* ---- config show ------------------------------------------------------- */

struct bytes {
	char *p;
	size_t len, cap;
};

static int
bytes_put(struct bytes *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n)
			cap *= 2;
		grown = realloc(b->p, cap);
		if (grown == NULL)
			return -ENOMEM;
		b->p = grown;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo tollgate's show_encode(): "\xNN" is byte NN (backslashes travel
 * that way too), everything else is itself. Returns 0, -EINVAL for a
 * backslash not followed by xNN, or -ENOMEM. */
static int
show_decode(const char *s, size_t len, struct bytes *out)
{
	size_t i, from = 0;
	int hi, lo;
	char byte;

	for (i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if (len - i < 4 || s[i + 1] != 'x')
			return -EINVAL;
		hi = hexval(s[i + 2]);
		lo = hexval(s[i + 3]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		byte = (char)(hi << 4 | lo);
		if (bytes_put(out, s + from, i - from) < 0 ||
			bytes_put(out, &byte, 1) < 0)
			return -ENOMEM;
		i += 3;
		from = i + 1;
	}
	return bytes_put(out, s + from, len - from) < 0 ? -ENOMEM : 0;
}

/*
 * Every piece from offset 0, decoded into @p text and kept in @p ps.
 * Returns an exit code, or -EAGAIN when a reload happened between two
 * pieces (the caller starts over).
 */
static int
show_read(struct tel_conn *t, struct json_pages *ps, struct bytes *text)
{
	uint64_t off = 0, gen0 = 0, size0 = 0, gen, size, got, next, want;
	const struct json_value *v, *arr, *c;
	struct json_doc *doc;
	char params[32];
	size_t before;
	bool more;
	int rc;

	for (;;) {
		snprintf(params, sizeof(params), "%" PRIu64, off);
		rc = tel_query(t, "/tollgate/config/show", params, &doc, &v);
		if (rc != 0)
			return rc;
		arr = json_get(v, "text");
		if (arr == NULL || arr->type != JSON_ARRAY ||
			json_u64(json_get(v, "generation"), &gen) != 0 ||
			json_u64(json_get(v, "size"), &size) != 0 ||
			json_u64(json_get(v, "offset"), &got) != 0 ||
			got != off || size > SHOW_MAX) {
			fprintf(stderr, "tollgatectl: /tollgate/config/show: "
					"unexpected reply\n");
			goto failed;
		}
		if (off == 0) {
			gen0 = gen;
			size0 = size;
		} else if (gen != gen0 || size != size0) {
			json_free(doc);
			return -EAGAIN;
		}
		more = json_u64(json_get(v, "next"), &next) == 0;
		if (more ? next <= off || next > size : off > size) {
			fprintf(stderr, "tollgatectl: /tollgate/config/show: "
					"bad \"next\"\n");
			goto failed;
		}
		want = (more ? next : size) - off;
		before = text->len;
		for (c = arr->v.kids.first; c != NULL; c = c->next) {
			if (c->type != JSON_STRING ||
				show_decode(c->v.str.s, c->v.str.len, text) <
					0) {
				fprintf(stderr,
					"tollgatectl: /tollgate/config/show: "
					"bad piece of text\n");
				goto failed;
			}
		}
		/* DPDK leaves out what does not fit its reply, and says
		 * nothing: the byte count is the check. */
		if (text->len - before != want) {
			fprintf(stderr,
				"tollgatectl: /tollgate/config/show: %zu "
				"bytes at offset %" PRIu64 ", expected %" PRIu64
				"\n",
				text->len - before, off, want);
			goto failed;
		}
		if (json_pages_add(ps, doc, v) < 0) {
			fprintf(stderr, "tollgatectl: out of memory\n");
			goto failed;
		}
		if (!more)
			return CTL_OK;
		off = next;
	}
failed:
	json_free(doc);
	return CTL_FAILED;
}

/* As one piece holding the whole text (still encoded as tollgate sends
 * it): {"/tollgate/config/show": {"file", "generation", "size",
 * "offset": 0, "text": [...]}}. */
static void
show_print_merged(const struct json_pages *ps)
{
	static const char *const keys[] = {"file", "generation", "size"};
	const struct json_value *c, *f;
	bool first = true;
	size_t i, k;

	printf("{\"/tollgate/config/show\":{");
	for (k = 0; k < 3; k++) {
		f = json_get(ps->vals[0], keys[k]);
		if (f == NULL)
			continue;
		printf("\"%s\":", keys[k]);
		json_write(stdout, f);
		putchar(',');
	}
	printf("\"offset\":0,\"text\":[");
	for (i = 0; i < ps->n; i++) {
		for (c = json_get(ps->vals[i], "text")->v.kids.first; c != NULL;
			c = c->next) {
			if (!first)
				putchar(',');
			first = false;
			json_write(stdout, c);
		}
	}
	printf("]}}\n");
}

int
ctl_config_show(struct tel_conn *t, const struct ctl_opts *o)
{
	struct bytes text = {0};
	struct json_pages ps = {0};
	int rc, tries;

	for (tries = 0; tries < SHOW_RETRIES; tries++) {
		rc = show_read(t, &ps, &text);
		if (rc != -EAGAIN)
			break;
		json_pages_free(&ps);
		text.len = 0;
	}
	if (rc == -EAGAIN) {
		fprintf(stderr, "tollgatectl: the configuration kept changing "
				"while it was read\n");
		rc = CTL_FAILED;
	}
	if (rc == CTL_OK && ps.n == 0) {
		fprintf(stderr, "tollgatectl: no configuration is running\n");
		rc = CTL_FAILED;
	}
	if (rc == CTL_OK) {
		if (o->json)
			show_print_merged(&ps);
		else if (fwrite(text.p, 1, text.len, stdout) != text.len)
			rc = CTL_FAILED;
	}
	json_pages_free(&ps);
	free(text.p);
	return rc;
}

/* ---- reload and check -------------------------------------------------- */

static double
ms_of(const struct json_value *v, const char *key)
{
	uint64_t us = 0;

	json_u64(json_get(v, key), &us);
	return (double)us / 1000;
}

/* "FILE:LINE:COL: path: message" per error, as tollgate --check prints
 * them; FILE is the name the user gave, else the one in the reply. */
static void
print_errors(const struct json_value *v, const char *file)
{
	const struct json_value *errs = json_get(v, "errors"), *e;
	uint64_t line, col, count = 0, shown = 0;
	char path[160], msg[300];

	if (file == NULL)
		file = json_str(json_get(v, "file"));
	if (file == NULL)
		file = "?";
	json_u64(json_get(v, "error_count"), &count);
	for (e = errs != NULL && errs->type == JSON_OBJECT ? errs->v.kids.first
							   : NULL;
		e != NULL; e = e->next) {
		ctl_fmt(json_get(e, "message"), msg, sizeof(msg));
		if (json_u64(json_get(e, "line"), &line) != 0)
			line = 0;
		if (json_u64(json_get(e, "col"), &col) != 0)
			col = 0;
		if (json_str(json_get(e, "path")) != NULL)
			snprintf(path, sizeof(path), "%s",
				json_str(json_get(e, "path")));
		else
			path[0] = '\0';
		if (line == 0)
			fprintf(stderr, "%s: %s\n", file, msg);
		else if (path[0] == '\0')
			fprintf(stderr, "%s:%" PRIu64 ":%" PRIu64 ": %s\n",
				file, line, col, msg);
		else
			fprintf(stderr, "%s:%" PRIu64 ":%" PRIu64 ": %s: %s\n",
				file, line, col, path, msg);
		shown++;
	}
	/* tollgate stops before DPDK's reply limit and counts the rest. */
	if (count > shown)
		fprintf(stderr, "%s: %" PRIu64 " more errors not shown\n", file,
			count - shown);
}

static int
config_cmd(struct tel_conn *t, const struct ctl_opts *o, const char *cmd,
	const char *file, const char *abs, bool reload)
{
	char added[160], removed[160], changed[160], filters[300] = "";
	const struct json_value *v, *res;
	struct json_doc *doc;
	const char *name;
	uint64_t gen = 0;
	int rc;

	tel_set_timeout(t, RELOAD_TIMEOUT_S);
	rc = tel_query(t, cmd, abs, &doc, &v);
	if (rc != 0)
		return rc;
	res = json_get(v, "result");
	if (json_str(res) == NULL) {
		fprintf(stderr, "tollgatectl: %s: reply without \"result\"\n",
			cmd);
		json_free(doc);
		return CTL_FAILED;
	}
	if (o->json)
		ctl_print_raw(t, t->len);
	name = file != NULL ? file : json_str(json_get(v, "file"));
	if (name == NULL)
		name = "?";
	json_u64(json_get(v, "generation"), &gen);
	if (strcmp(json_str(res), "ok") != 0) {
		if (!o->json) {
			print_errors(v, file);
			if (reload)
				fprintf(stderr,
					"tollgatectl: reload refused, "
					"generation %" PRIu64 " still runs\n",
					gen);
		}
		json_free(doc);
		return CTL_FAILED;
	}
	if (o->json) {
		json_free(doc);
		return CTL_OK;
	}
	if (!reload) {
		printf("%s: OK\n", name);
		json_free(doc);
		return CTL_OK;
	}
	ctl_fmt(json_path(v, "interfaces.added"), added, sizeof(added));
	ctl_fmt(json_path(v, "interfaces.removed"), removed, sizeof(removed));
	ctl_fmt(json_path(v, "interfaces.changed"), changed, sizeof(changed));
	/* only when a filter list changed: the line stays as it was */
	if (json_str(json_get(v, "filters_changed")) != NULL &&
		*json_str(json_get(v, "filters_changed")) != '\0')
		snprintf(filters, sizeof(filters), ", filters changed [%.256s]",
			json_str(json_get(v, "filters_changed")));
	printf("reloaded %s: generation %" PRIu64 " (routes +%" PRIu64
	       " -%" PRIu64 ", neighbors +%" PRIu64 " -%" PRIu64
	       ", interfaces added [%s] removed [%s] changed [%s]%s; parse "
	       "%.3f ms, build %.3f ms, publish %.3f ms)\n",
		name, gen, u64_or0(json_path(v, "routes.added")),
		u64_or0(json_path(v, "routes.removed")),
		u64_or0(json_path(v, "neighbors.added")),
		u64_or0(json_path(v, "neighbors.removed")), added, removed,
		changed, filters, ms_of(v, "parse_us"), ms_of(v, "build_us"),
		ms_of(v, "publish_us"));
	if (json_str(json_get(v, "warning")) != NULL)
		fprintf(stderr, "warning: %s\n",
			json_str(json_get(v, "warning")));
	json_free(doc);
	return CTL_OK;
}

int
ctl_reload(struct tel_conn *t, const struct ctl_opts *o, const char *file,
	const char *abs)
{
	return config_cmd(t, o, "/tollgate/config/reload", file, abs, true);
}

int
ctl_check(struct tel_conn *t, const struct ctl_opts *o, const char *file,
	const char *abs)
{
	return config_cmd(t, o, "/tollgate/config/check", file, abs, false);
}
