/* SPDX-License-Identifier: BSD-3-Clause
 * Strict recursive-descent JSON parser and compact writer. Every node and
 * string of a document comes from one arena, so a parse that fails half
 * way frees everything with the document, and nothing can leak.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define DEFAULT_MAX_SIZE  (4u << 20)
#define DEFAULT_MAX_DEPTH 64
#define MAX_MAX_DEPTH	  1024 /* the parser recurses: bound the stack */
#define BLOCK_SIZE	  (64u << 10)

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[]; /* cap bytes */
};

struct json_doc {
	struct block *blocks;
	struct json_value root;
};

struct parser {
	const unsigned char *start, *p, *end;
	unsigned int depth, max_depth;
	struct json_doc *doc;
	struct json_error *err;
	int errnum;
};

/* ---- arena ------------------------------------------------------------- */

static void *
arena_alloc(struct json_doc *doc, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct block *b = doc->blocks;
	void *ptr;

	n = (n + align - 1) / align * align;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		/* A large one-off goes behind the current block, which keeps
		 * its free room for the small nodes that follow. */
		if (doc->blocks != NULL && cap > BLOCK_SIZE) {
			b->next = doc->blocks->next;
			doc->blocks->next = b;
		} else {
			b->next = doc->blocks;
			doc->blocks = b;
		}
	}
	ptr = (char *)b->data + b->used;
	b->used += n;
	return ptr;
}

void
json_free(struct json_doc *doc)
{
	struct block *b, *next;

	if (doc == NULL)
		return;
	for (b = doc->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(doc);
}

int
json_pages_add(
	struct json_pages *pg, struct json_doc *doc, const struct json_value *v)
{
	if (pg->n == pg->cap) {
		size_t cap = pg->cap != 0 ? pg->cap * 2 : 8;
		void *d = realloc(pg->docs, cap * sizeof(*pg->docs));

		if (d == NULL)
			return -ENOMEM;
		pg->docs = d;
		d = realloc(pg->vals, cap * sizeof(*pg->vals));
		if (d == NULL)
			return -ENOMEM;
		pg->vals = d;
		pg->cap = cap;
	}
	pg->docs[pg->n] = doc;
	pg->vals[pg->n] = v;
	pg->n++;
	return 0;
}

void
json_pages_free(struct json_pages *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++)
		json_free(pg->docs[i]);
	free(pg->docs);
	free(pg->vals);
	memset(pg, 0, sizeof(*pg));
}

/* ---- parser ------------------------------------------------------------ */

static int
fail(struct parser *ps, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (ps->errnum == 0) {
		ps->errnum = errnum;
		ps->err->offset = (size_t)(ps->p - ps->start);
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
					  *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int
literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return fail(ps, EINVAL, "invalid literal");
	ps->p += n;
	return 0;
}

static int
hex4(struct parser *ps, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (ps->end - ps->p < 4)
		return fail(ps, EINVAL, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		unsigned char c = ps->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, EINVAL, "bad hex digit in \\u escape");
	}
	ps->p += 4;
	*out = v;
	return 0;
}

static size_t
utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if ((size_t)(end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static int
escape(struct parser *ps, char *out, size_t *o)
{
	static const char plain[] = "\"\\/bfnrt";
	static const char value[] = "\"\\/\b\f\n\r\t";
	uint32_t cp, lo;
	const char *k;

	if (ps->p >= ps->end)
		return fail(ps, EINVAL, "truncated escape");
	k = *ps->p != '\0' ? strchr(plain, *ps->p) : NULL;
	if (k != NULL) {
		out[(*o)++] = value[k - plain];
		ps->p++;
		return 0;
	}
	if (*ps->p != 'u')
		return fail(ps, EINVAL, "invalid escape '\\%c'",
			*ps->p >= 0x20 && *ps->p < 0x7f ? *ps->p : '?');
	ps->p++;
	if (hex4(ps, &cp) < 0)
		return -EINVAL;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(ps, EINVAL, "unpaired low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
			return fail(ps, EINVAL, "unpaired high surrogate");
		ps->p += 2;
		if (hex4(ps, &lo) < 0)
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, EINVAL, "unpaired high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*o += utf8_put(cp, out + *o);
	return 0;
}

/* At the opening quote. The decoded text is never longer than the raw
 * one (an escape shrinks, UTF-8 stays), so one scan sizes the buffer. */
static int
string(struct parser *ps, const char **s, size_t *len)
{
	const unsigned char *q = ps->p + 1;
	size_t o = 0, n;
	char *out;

	while (q < ps->end && *q != '"') {
		if (*q == '\\' && ++q == ps->end)
			break;
		q++;
	}
	if (q >= ps->end)
		return fail(ps, EINVAL, "unterminated string");
	out = arena_alloc(ps->doc, (size_t)(q - ps->p));
	if (out == NULL)
		return fail(ps, ENOMEM, "out of memory");
	ps->p++;
	while (*ps->p != '"') {
		if (*ps->p == '\\') {
			ps->p++;
			if (escape(ps, out, &o) < 0)
				return -EINVAL;
		} else if (*ps->p < 0x20) {
			return fail(ps, EINVAL, "control character in string");
		} else {
			n = utf8_len(ps->p, ps->end);
			if (n == 0)
				return fail(ps, EINVAL, "invalid UTF-8");
			memcpy(out + o, ps->p, n);
			o += n;
			ps->p += n;
		}
	}
	ps->p++;
	out[o] = '\0';
	*s = out;
	*len = o;
	return 0;
}

static size_t
digits(struct parser *ps)
{
	const unsigned char *from = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return (size_t)(ps->p - from);
}

static int
number(struct parser *ps, struct json_value *v)
{
	const unsigned char *from = ps->p;
	bool neg = false, integer = true, ovf = false;
	uint64_t mag = 0;
	char tmp[64], *buf = tmp, *end;
	const unsigned char *q;
	size_t n;

	if (*ps->p == '-') {
		neg = true;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return fail(ps, EINVAL, "invalid number");
	if (*ps->p == '0')
		ps->p++;
	else
		digits(ps);
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (digits(ps) == 0)
			return fail(ps, EINVAL, "digit expected after '.'");
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (digits(ps) == 0)
			return fail(ps, EINVAL, "digit expected in exponent");
	}
	if (integer) {
		for (q = from + neg; q < ps->p && !ovf; q++) {
			ovf = mag > (UINT64_MAX - (*q - '0')) / 10;
			mag = mag * 10 + (*q - '0');
		}
		if (!neg && !ovf) {
			v->type = JSON_UINT;
			v->v.u = mag;
			return 0;
		}
		if (neg && !ovf && mag <= (uint64_t)INT64_MAX + 1) {
			v->type = JSON_INT;
			v->v.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN
								: -(int64_t)mag;
			return 0;
		}
	}
	/* strtod needs a NUL-ended copy; the input may not have one. */
	n = (size_t)(ps->p - from);
	if (n >= sizeof(tmp)) {
		buf = arena_alloc(ps->doc, n + 1);
		if (buf == NULL)
			return fail(ps, ENOMEM, "out of memory");
	}
	memcpy(buf, from, n);
	buf[n] = '\0';
	v->type = JSON_DOUBLE;
	v->v.d = strtod(buf, &end);
	if (end != buf + n || !isfinite(v->v.d)) {
		ps->p = from;
		return fail(ps, EINVAL, "number out of range");
	}
	return 0;
}

static int value(struct parser *ps, struct json_value *v);

/* Arrays and objects: at '[' or '{'. */
static int
container(struct parser *ps, struct json_value *v)
{
	bool obj = *ps->p == '{';
	char close = obj ? '}' : ']';
	struct json_value **link = &v->v.kids.first;
	struct json_value *kid;

	v->type = obj ? JSON_OBJECT : JSON_ARRAY;
	if (++ps->depth > ps->max_depth)
		return fail(ps, E2BIG, "nested deeper than %u", ps->max_depth);
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		kid = arena_alloc(ps->doc, sizeof(*kid));
		if (kid == NULL)
			return fail(ps, ENOMEM, "out of memory");
		memset(kid, 0, sizeof(*kid));
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, EINVAL, "member name expected");
			if (string(ps, &kid->key, &kid->key_len) < 0)
				return -EINVAL;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, EINVAL, "':' expected");
			ps->p++;
			skip_ws(ps);
		}
		if (value(ps, kid) < 0)
			return -EINVAL;
		*link = kid;
		link = &kid->next;
		v->v.kids.n++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == close)
			break;
		if (ps->p >= ps->end || *ps->p != ',')
			return fail(ps, EINVAL, "',' or '%c' expected", close);
		ps->p++;
		skip_ws(ps);
	}
	ps->p++;
	ps->depth--;
	return 0;
}

static int
value(struct parser *ps, struct json_value *v)
{
	if (ps->p >= ps->end)
		return fail(ps, EINVAL, "value expected");
	switch (*ps->p) {
	case '{':
	case '[':
		return container(ps, v);
	case '"':
		v->type = JSON_STRING;
		return string(ps, &v->v.str.s, &v->v.str.len);
	case 't':
		v->type = JSON_BOOL;
		v->v.b = true;
		return literal(ps, "true");
	case 'f':
		v->type = JSON_BOOL;
		v->v.b = false;
		return literal(ps, "false");
	case 'n':
		v->type = JSON_NULL;
		return literal(ps, "null");
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return number(ps, v);
		return fail(ps, EINVAL, "unexpected character");
	}
}

struct json_doc *
json_parse(const char *text, size_t len, const struct json_limits *lim,
	struct json_error *err)
{
	struct json_error scratch;
	struct parser ps = {0};
	size_t max_size = DEFAULT_MAX_SIZE;
	struct json_doc *doc;

	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	ps.max_depth = DEFAULT_MAX_DEPTH;
	if (lim != NULL && lim->max_size != 0)
		max_size = lim->max_size;
	if (lim != NULL && lim->max_depth != 0)
		ps.max_depth = lim->max_depth < MAX_MAX_DEPTH ? lim->max_depth
							      : MAX_MAX_DEPTH;
	if (text == NULL && len != 0) {
		snprintf(err->msg, sizeof(err->msg), "no input");
		errno = EINVAL;
		return NULL;
	}
	if (len > max_size) {
		snprintf(err->msg, sizeof(err->msg),
			"input of %zu bytes is over the limit of %zu", len,
			max_size);
		errno = E2BIG;
		return NULL;
	}
	doc = calloc(1, sizeof(*doc));
	if (doc == NULL) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	ps.start = ps.p = (const unsigned char *)text;
	ps.end = ps.start + len;
	ps.doc = doc;
	ps.err = err;
	skip_ws(&ps);
	if (value(&ps, &doc->root) == 0) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			fail(&ps, EINVAL, "data after the JSON value");
	}
	if (ps.errnum != 0) {
		json_free(doc);
		errno = ps.errnum;
		return NULL;
	}
	return doc;
}

/* ---- access ------------------------------------------------------------ */

const struct json_value *
json_root(const struct json_doc *doc)
{
	return doc != NULL ? &doc->root : NULL;
}

const struct json_value *
json_get(const struct json_value *obj, const char *key)
{
	const struct json_value *m;

	if (obj == NULL || obj->type != JSON_OBJECT || key == NULL)
		return NULL;
	for (m = obj->v.kids.first; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0 && strlen(key) == m->key_len)
			return m;
	return NULL;
}

const struct json_value *
json_path(const struct json_value *v, const char *dotted)
{
	char part[128];
	const char *dot;
	size_t n;

	while (v != NULL && dotted != NULL) {
		dot = strchr(dotted, '.');
		n = dot != NULL ? (size_t)(dot - dotted) : strlen(dotted);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, dotted, n);
		part[n] = '\0';
		v = json_get(v, part);
		dotted = dot != NULL ? dot + 1 : NULL;
	}
	return v;
}

int
json_u64(const struct json_value *v, uint64_t *out)
{
	if (v != NULL && v->type == JSON_UINT) {
		*out = v->v.u;
		return 0;
	}
	if (v != NULL && v->type == JSON_INT && v->v.i == 0) {
		*out = 0; /* "-0" */
		return 0;
	}
	return -EINVAL;
}

const char *
json_str(const struct json_value *v)
{
	return v != NULL && v->type == JSON_STRING ? v->v.str.s : NULL;
}

/* ---- writer ------------------------------------------------------------ */

int
json_write_string(FILE *f, const char *s, size_t len)
{
	size_t i;

	putc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\r')
			fputs("\\r", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
	return ferror(f) ? -EIO : 0;
}

/* Shortest form that reads back as the same double, and as a double:
 * "1.0", not "1" (which would come back as an integer). */
static void
write_double(FILE *f, double d)
{
	char buf[40];
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*g", prec, d);
	fputs(buf, f);
	if (strpbrk(buf, ".eE") == NULL)
		fputs(".0", f);
}

int
json_write(FILE *f, const struct json_value *v)
{
	const struct json_value *k;

	switch (v->type) {
	case JSON_NULL:
		fputs("null", f);
		break;
	case JSON_BOOL:
		fputs(v->v.b ? "true" : "false", f);
		break;
	case JSON_UINT:
		fprintf(f, "%" PRIu64, v->v.u);
		break;
	case JSON_INT:
		fprintf(f, "%" PRId64, v->v.i);
		break;
	case JSON_DOUBLE:
		write_double(f, v->v.d);
		break;
	case JSON_STRING:
		json_write_string(f, v->v.str.s, v->v.str.len);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		putc(v->type == JSON_OBJECT ? '{' : '[', f);
		for (k = v->v.kids.first; k != NULL; k = k->next) {
			if (k != v->v.kids.first)
				putc(',', f);
			if (v->type == JSON_OBJECT) {
				json_write_string(f, k->key, k->key_len);
				putc(':', f);
			}
			json_write(f, k);
		}
		putc(v->type == JSON_OBJECT ? '}' : ']', f);
		break;
	}
	return ferror(f) ? -EIO : 0;
}
