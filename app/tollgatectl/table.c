/* SPDX-License-Identifier: BSD-3-Clause
 * Aligned text tables for tollgatectl's human output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tollgatectl.h"

static void
add_row(struct table *tb, va_list ap)
{
	unsigned int c;
	char **grown;

	if (tb->oom)
		return;
	if (tb->nrows == tb->cap) {
		size_t cap = tb->cap != 0 ? tb->cap * 2 : 16;

		grown = realloc(tb->cells, cap * tb->ncols * sizeof(*grown));
		if (grown == NULL) {
			tb->oom = true;
			return;
		}
		tb->cells = grown;
		tb->cap = cap;
	}
	for (c = 0; c < tb->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		char *copy = strdup(s != NULL ? s : "-");
		size_t w;

		if (copy == NULL)
			tb->oom = true;
		tb->cells[tb->nrows * tb->ncols + c] = copy;
		w = copy != NULL ? strlen(copy) : 0;
		if (w > tb->width[c])
			tb->width[c] = w;
	}
	tb->nrows++;
}

void
table_init(struct table *tb, const char *align, ...)
{
	va_list ap;

	memset(tb, 0, sizeof(*tb));
	tb->ncols = (unsigned int)strlen(align);
	if (tb->ncols > TABLE_MAX_COLS)
		tb->ncols = TABLE_MAX_COLS;
	memcpy(tb->align, align, tb->ncols);
	va_start(ap, align);
	add_row(tb, ap);
	va_end(ap);
}

void
table_row(struct table *tb, ...)
{
	va_list ap;

	va_start(ap, tb);
	add_row(tb, ap);
	va_end(ap);
}

void
table_free(struct table *tb)
{
	size_t i;

	/* Every row up to nrows has all its cells (NULL where strdup()
	 * failed); a row that found no room was not started. */
	for (i = 0; i < tb->nrows * tb->ncols; i++)
		free(tb->cells[i]);
	free(tb->cells);
	memset(tb, 0, sizeof(*tb));
}

int
table_print(struct table *tb, FILE *f, const char *indent)
{
	unsigned int c;
	int rc = tb->oom ? -ENOMEM : 0;
	size_t r;

	for (r = 0; rc == 0 && r < tb->nrows; r++) {
		fputs(indent, f);
		for (c = 0; c < tb->ncols; c++) {
			const char *s = tb->cells[r * tb->ncols + c];
			int w = (int)tb->width[c];
			bool last = c + 1 == tb->ncols;

			if (c > 0)
				fputs("  ", f);
			if (tb->align[c] == 'r')
				fprintf(f, "%*s", w, s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", w, s);
		}
		putc('\n', f);
	}
	table_free(tb);
	return rc;
}

const char *
ctl_fmt(const struct json_value *v, char *buf, size_t len)
{
	if (v == NULL)
		snprintf(buf, len, "-");
	else if (v->type == JSON_STRING)
		snprintf(buf, len, "%s", v->v.str.s);
	else if (v->type == JSON_UINT)
		snprintf(buf, len, "%" PRIu64, v->v.u);
	else if (v->type == JSON_INT)
		snprintf(buf, len, "%" PRId64, v->v.i);
	else if (v->type == JSON_DOUBLE)
		snprintf(buf, len, "%g", v->v.d);
	else if (v->type == JSON_BOOL)
		snprintf(buf, len, "%s", v->v.b ? "true" : "false");
	else
		snprintf(buf, len, "-");
	return buf;
}

const char *
ctl_fmt_any(const struct json_value *v, char *buf, size_t len)
{
	if (v == NULL) {
		snprintf(buf, len, "any");
		return buf;
	}
	return ctl_fmt(v, buf, len);
}
