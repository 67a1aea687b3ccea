/* SPDX-License-Identifier: BSD-3-Clause
 * YAML → model: reads the file, loads the document with libyaml, and
 * walks it with the schema's field tables (config_schema.c), checking each
 * value's type and range; then hands over to config_validate.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerror_r returning char * */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_internal.h"

/* ----------------------------------------------------------------- nodes */

struct tg_cfg_pos
tg_cfg_node_pos(const yaml_node_t *n)
{
	struct tg_cfg_pos p = {
		.line = (uint32_t)n->start_mark.line + 1,
		.col = (uint32_t)n->start_mark.column + 1,
	};

	return p;
}

static const yaml_node_t *
node_get(struct tg_cfg_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const yaml_node_t *
item_get(struct tg_cfg_ctx *c, const yaml_node_t *seq, size_t i)
{
	return node_get(c, seq->data.sequence.items.start[i]);
}

size_t
tg_cfg_list_len(const yaml_node_t *seq)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(seq->data.sequence.items.top -
			seq->data.sequence.items.start);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool
is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* "key:" with nothing after it, "~" or "null" (YAML's null, not a string) */
static bool
is_null(const yaml_node_t *n)
{
	const char *s;

	if (!is_plain(n))
		return false;
	s = scalar(n);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* What was found instead of the expected value, for messages. */
static const char *
describe(const yaml_node_t *n, char *buf, size_t len)
{
	const char *s;

	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type != YAML_SCALAR_NODE)
		return "nothing";
	if (is_null(n))
		return "an empty value";
	s = scalar(n);
	snprintf(buf, len, "%s'%.40s%s'",
		is_plain(n) ? "" : "the quoted string ", s,
		strlen(s) > 40 ? "..." : "");
	return buf;
}

const char *
tg_cfg_describe(const yaml_node_t *n, char *buf, size_t len)
{
	return describe(n, buf, len);
}

/* ------------------------------------------------------------------ path */

static size_t path_push(struct tg_cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static size_t
path_push(struct tg_cfg_ctx *c, const char *fmt, ...)
{
	size_t old = c->path_len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->path_len = old + (size_t)n < sizeof(c->path)
				      ? old + (size_t)n
				      : sizeof(c->path) - 1;
	return old;
}

static size_t
path_key(struct tg_cfg_ctx *c, const char *key)
{
	return path_push(c, "%s%s", c->path_len ? "." : "", key);
}

static size_t
path_index(struct tg_cfg_ctx *c, size_t i)
{
	return path_push(c, "[%zu]", i);
}

static void
path_restore(struct tg_cfg_ctx *c, size_t old)
{
	c->path_len = old;
	c->path[old] = '\0';
}

/* ---------------------------------------------------------- typed values */

static bool
want(struct tg_cfg_ctx *c, const yaml_node_t *n, yaml_node_type_t type)
{
	char buf[80];

	if (n->type == type)
		return true;
	tg_cfg_err(c, tg_cfg_node_pos(n), NULL, "expected %s, got %s",
		type == YAML_MAPPING_NODE ? "a mapping" : "a list",
		describe(n, buf, sizeof(buf)));
	return false;
}

const char *
tg_cfg_get_str(struct tg_cfg_ctx *c, const yaml_node_t *n)
{
	char buf[80];

	if (n->type != YAML_SCALAR_NODE || is_null(n)) {
		tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
			"expected a string, got %s",
			describe(n, buf, sizeof(buf)));
		return NULL;
	}
	if (strlen(scalar(n)) != n->data.scalar.length) {
		tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
			"contains a NUL character");
		return NULL;
	}
	return scalar(n);
}

bool
tg_cfg_get_str_buf(
	struct tg_cfg_ctx *c, const yaml_node_t *n, char *dst, size_t size)
{
	const char *s = tg_cfg_get_str(c, n);
	size_t len;

	if (s == NULL)
		return false;
	len = strlen(s);
	if (len >= size) {
		tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
			"too long: %zu characters (at most %zu)", len,
			size - 1);
		return false;
	}
	memcpy(dst, s, len + 1);
	return true;
}

/* Decimal only: YAML 1.1 would read 010 as octal and 0x10 as hex, and a
 * quoted "10" is a string; all of them are rejected rather than guessed. */
static bool
get_uint(struct tg_cfg_ctx *c, const yaml_node_t *n, uint64_t min, uint64_t max,
	uint64_t *out)
{
	const char *s = is_plain(n) && !is_null(n) ? scalar(n) : "";
	const char *d = s + (s[0] == '-');
	size_t digits = strspn(d, "0123456789");
	unsigned long long v;
	char buf[80];

	if (digits == 0 || d[digits] != '\0' || (d[0] == '0' && digits > 1)) {
		tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
			"expected an integer%s, got %s",
			digits > 1 && d[digits] == '\0'
				? " without leading zeros"
				: "",
			describe(n, buf, sizeof(buf)));
		return false;
	}
	errno = 0;
	v = strtoull(d, NULL, 10);
	if (errno == ERANGE || (d != s && v != 0) || v < min || v > max) {
		tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
			"out of range: %.40s (expected %" PRIu64 "..%" PRIu64
			")",
			s, min, max);
		return false;
	}
	*out = v;
	return true;
}

static bool
get_bool(struct tg_cfg_ctx *c, const yaml_node_t *n, bool *out)
{
	char buf[80];

	if (is_plain(n)) {
		const char *s = scalar(n);

		if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0) {
			*out = false;
			return true;
		}
	}
	tg_cfg_err(c, tg_cfg_node_pos(n), NULL,
		"expected a boolean (true/false), got %s",
		describe(n, buf, sizeof(buf)));
	return false;
}

/* ------------------------------------------------------- mapping walker */

static bool
apply(struct tg_cfg_ctx *c, const struct tg_cfg_field *f, const yaml_node_t *v,
	void *base)
{
	char *p = (char *)base + f->off, msg[256];
	const char *s;
	uint64_t u;

	switch (f->type) {
	case TG_CFG_FT_UINT:
		if (!get_uint(c, v, f->min, f->max, &u))
			return false;
		if ((f->flags & TG_CFG_FF_POW2) && (u & (u - 1)) != 0) {
			tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
				"must be a power of two, got %" PRIu64, u);
			return false;
		}
		if (f->size == 1)
			*(uint8_t *)p = (uint8_t)u;
		else if (f->size == 2)
			*(uint16_t *)p = (uint16_t)u;
		else if (f->size == 8)
			*(uint64_t *)p = u;
		else
			*(uint32_t *)p = (uint32_t)u;
		return true;
	case TG_CFG_FT_BOOL:
		return get_bool(c, v, (bool *)p);
	case TG_CFG_FT_STR:
		return tg_cfg_get_str_buf(c, v, p, f->size);
	case TG_CFG_FT_CHECK:
		s = tg_cfg_get_str(c, v);
		if (s == NULL)
			return false;
		if (!f->check(s, p, msg, sizeof(msg))) {
			tg_cfg_err(c, tg_cfg_node_pos(v), NULL, "%s", msg);
			return false;
		}
		return true;
	case TG_CFG_FT_REF:
		return tg_cfg_get_str(c, v) != NULL;
	case TG_CFG_FT_MAP:
		return tg_cfg_walk_map(c, v, f->sub, f->n_sub, p, NULL);
	case TG_CFG_FT_FN:
		return f->fn(c, v, p); /* .off is 0 unless the table sets it */
	default:
		return false;
	}
}

/* The keys a mapping accepts, for "unknown key" messages. */
static void
valid_keys(const struct tg_cfg_field *f, unsigned int nf, char *buf, size_t len)
{
	size_t o = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < nf && o < len; i++)
		if (f[i].type != TG_CFG_FT_TODO)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
				o ? ", " : "", f[i].key);
}

/* Walk a mapping against its field table: each known key is applied to
 * @p base; unknown, duplicate, planned and missing required keys are
 * reported. @p seen (nf entries, may be NULL) returns what each got. */
bool
tg_cfg_walk_map(struct tg_cfg_ctx *c, const yaml_node_t *map,
	const struct tg_cfg_field *f, unsigned int nf, void *base,
	struct tg_cfg_seen *seen)
{
	struct tg_cfg_seen local[TG_CFG_MAX_FIELDS];
	const yaml_node_pair_t *pair;
	char buf[256];
	unsigned int i;

	if (seen == NULL)
		seen = local;
	memset(seen, 0, nf * sizeof(*seen));
	if (!want(c, map, YAML_MAPPING_NODE))
		return false;
	for (pair = map->data.mapping.pairs.start;
		pair < map->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = node_get(c, pair->key);
		const yaml_node_t *v = node_get(c, pair->value);
		size_t old;

		if (k->type != YAML_SCALAR_NODE) {
			tg_cfg_err(c, tg_cfg_node_pos(k), NULL,
				"expected a key (a string), got %s",
				describe(k, buf, sizeof(buf)));
			continue;
		}
		for (i = 0; i < nf; i++)
			if (strcmp(f[i].key, scalar(k)) == 0)
				break;
		if (i == nf) {
			valid_keys(f, nf, buf, sizeof(buf));
			tg_cfg_err(c, tg_cfg_node_pos(k), NULL,
				"unknown key '%.40s' (valid keys: %s)",
				scalar(k), buf);
			continue;
		}
		old = path_key(c, f[i].key);
		if (f[i].type == TG_CFG_FT_TODO) {
			tg_cfg_err(c, tg_cfg_node_pos(k), NULL,
				"not supported yet (planned; see the issue "
				"tracker)");
		} else if (seen[i].node != NULL) {
			tg_cfg_err(c, tg_cfg_node_pos(k), NULL,
				"duplicate key '%s' (first at line %u)",
				f[i].key, tg_cfg_node_pos(seen[i].key).line);
		} else {
			seen[i].key = k;
			seen[i].node = v;
			seen[i].ok = apply(c, &f[i], v, base);
		}
		path_restore(c, old);
	}
	for (i = 0; i < nf; i++)
		if ((f[i].flags & TG_CFG_FF_REQUIRED) && seen[i].node == NULL)
			tg_cfg_err(c, tg_cfg_node_pos(map), NULL,
				"missing required key '%s'", f[i].key);
	return true;
}

/* Call @p fn for each item of list @p v (at most @p max, "too many
 * @p what" beyond), with the path set to the item. */
bool
tg_cfg_for_each(struct tg_cfg_ctx *c, const yaml_node_t *v, size_t max,
	const char *what, tg_cfg_item_fn *fn, void *arg)
{
	size_t i, n;
	bool ok = true;

	if (!want(c, v, YAML_SEQUENCE_NODE))
		return false;
	n = tg_cfg_list_len(v);
	for (i = 0; i < n && ok; i++) {
		const yaml_node_t *item = item_get(c, v, i);
		size_t old = path_index(c, i);

		if (i < max) {
			ok = fn(c, i, item, arg);
		} else {
			tg_cfg_err(c, tg_cfg_node_pos(item), NULL,
				"too many %s (at most %zu)", what, max);
			ok = false;
		}
		path_restore(c, old);
	}
	return ok;
}

struct tg_cfg_ref
tg_cfg_seen_ref(const struct tg_cfg_seen *s)
{
	struct tg_cfg_ref r = {0};

	if (s->ok) {
		r.name = scalar(s->node);
		r.len = (uint32_t)s->node->data.scalar.length;
		r.pos = tg_cfg_node_pos(s->node);
	}
	return r;
}

struct tg_cfg_pos
tg_cfg_seen_pos(const struct tg_cfg_seen *s, struct tg_cfg_pos dflt)
{
	return s->node != NULL ? tg_cfg_node_pos(s->node) : dflt;
}

static void
walk_root(struct tg_cfg_ctx *c)
{
	const yaml_node_t *root = yaml_document_get_root_node(c->doc);
	struct tg_cfg_pos first = {1, 1};
	char buf[80];

	if (root == NULL) {
		tg_cfg_err(c, first, "",
			"the configuration is empty (it needs at least a "
			"'ports' list)");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		tg_cfg_err(c, first, "",
			"expected a mapping of sections (dpdk, ports, "
			"interfaces, ...) at the top level, got %s",
			describe(root, buf, sizeof(buf)));
		return;
	}
	tg_cfg_schema_walk(c, root);
}

/* ---------------------------------------------------------------- libyaml */

/* libyaml reports reader (encoding) errors by byte offset only. */
static void
offset_pos(const unsigned char *buf, size_t len, size_t off, uint32_t *line,
	uint32_t *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if ((buf[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int
syntax_error(struct tg_cfg_errors *errs, const yaml_parser_t *p,
	const unsigned char *buf, size_t len)
{
	uint32_t line, col;
	char ctx[160] = "";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		tg_cfg_errs_add(errs, 0, 0, "", "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		offset_pos(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			snprintf(ctx, sizeof(ctx), " (byte 0x%02X)",
				(unsigned int)p->problem_value & 0xff);
		tg_cfg_errs_add(errs, line, col, "", "invalid input: %s%s",
			p->problem != NULL ? p->problem : "unreadable", ctx);
		return -EINVAL;
	default:
		if (p->context != NULL)
			snprintf(ctx, sizeof(ctx), " (%s at %zu:%zu)",
				p->context, p->context_mark.line + 1,
				p->context_mark.column + 1);
		tg_cfg_errs_add(errs, (uint32_t)p->problem_mark.line + 1,
			(uint32_t)p->problem_mark.column + 1, "",
			"syntax error: %s%s",
			p->problem != NULL ? p->problem : "unknown", ctx);
		return -EINVAL;
	}
}

/* Event pass before loading the document: syntax errors, and what the
 * document API would silently accept: aliases (which expand: "billion
 * laughs"), a second document, and nesting deep enough to be hostile. */
static int
prescan(struct tg_cfg_errors *errs, const unsigned char *buf, size_t len)
{
	unsigned int depth = 0, docs = 0;
	yaml_parser_t p;
	yaml_event_t ev;
	bool done = false;
	int rc = 0;

	if (!yaml_parser_initialize(&p)) {
		tg_cfg_errs_add(errs, 0, 0, "", "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, buf, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = syntax_error(errs, &p, buf, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				tg_cfg_errs_add(errs,
					(uint32_t)ev.start_mark.line + 1,
					(uint32_t)ev.start_mark.column + 1, "",
					"only one YAML document is supported");
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			tg_cfg_errs_add(errs, (uint32_t)ev.start_mark.line + 1,
				(uint32_t)ev.start_mark.column + 1, "",
				"YAML aliases are not supported");
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > TG_CFG_MAX_DEPTH) {
				tg_cfg_errs_add(errs,
					(uint32_t)ev.start_mark.line + 1,
					(uint32_t)ev.start_mark.column + 1, "",
					"nested more than %d levels deep",
					TG_CFG_MAX_DEPTH);
				done = true;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc == 0 && errs->n > 0)
		rc = -EINVAL;
	return rc;
}

static void
ctx_free(struct tg_cfg_ctx *c)
{
	unsigned int i;

	for (i = 0; i < TG_MAX_LCORES; i++) {
		free(c->placement[i].ports);
		free(c->placement[i].stages);
	}
	free(c->route);
	free(c->neighbor);
	tg_cfg_natfw_src_free(c);
	tg_cfg_ipsec_src_free(c);
	free(c);
}

static int
parse_buf(const char *name, const char *text, size_t len,
	struct tg_config **out, struct tg_cfg_errors *errs)
{
	const unsigned char *buf = (const unsigned char *)(text ? text : "");
	struct tg_config *cfg = NULL;
	struct tg_cfg_ctx *c = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	if (len > TG_CFG_MAX_FILE) {
		tg_cfg_errs_add(errs, 0, 0, "",
			"too large: %zu bytes (at most %u MiB)", len,
			TG_CFG_MAX_FILE >> 20);
		return -EINVAL;
	}
	rc = prescan(errs, buf, len);
	if (rc != 0)
		return rc;

	cfg = calloc(1, sizeof(*cfg));
	c = calloc(1, sizeof(*c));
	if (cfg == NULL || c == NULL || !yaml_parser_initialize(&parser)) {
		free(cfg);
		free(c);
		tg_cfg_errs_add(errs, 0, 0, "", "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(errs, &parser, buf, len);
		yaml_parser_delete(&parser);
		ctx_free(c);
		free(cfg);
		return rc;
	}
	snprintf(cfg->file, sizeof(cfg->file), "%s", name);
	tg_cfg_schema_defaults(cfg);
	c->doc = &doc;
	c->cfg = cfg;
	c->errs = errs;
	walk_root(c);
	if (!c->nomem)
		tg_cfg_validate(c);
	rc = 0;
	if (c->nomem) {
		tg_cfg_errs_add(errs, 0, 0, "", "out of memory");
		rc = -ENOMEM;
	} else if (errs->n > 0) {
		rc = -EINVAL;
	}
	ctx_free(c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	tg_cfg_errs_sort(errs);
	if (rc != 0) {
		tg_config_free(cfg);
		return rc;
	}
	/* Keep the exact text that was applied: /tollgate/config/show must
	 * show what runs, whatever the file on disk says by then. */
	cfg->source = malloc(len + 1);
	if (cfg->source == NULL) {
		tg_config_free(cfg);
		tg_cfg_errs_add(errs, 0, 0, "", "out of memory");
		return -ENOMEM;
	}
	memcpy(cfg->source, buf, len);
	cfg->source[len] = '\0';
	cfg->source_len = len;
	*out = cfg;
	return 0;
}

int
tg_config_parse(const char *name, const char *buf, size_t len,
	struct tg_config **out, struct tg_cfg_errors *errs)
{
	struct tg_cfg_errors *own = NULL;
	int rc;

	if (out == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	*out = NULL;
	if (errs == NULL) {
		own = malloc(sizeof(*own));
		if (own == NULL)
			return -ENOMEM;
		errs = own;
	}
	if (name == NULL)
		name = "<string>";
	tg_cfg_errs_reset(errs, name);
	rc = parse_buf(name, buf, len, out, errs);
	free(own);
	return rc;
}

/* The whole file, up to TG_CFG_MAX_FILE + 1 bytes (to tell "too big"). */
static int
read_all(const char *file, char **bufp, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int fd, rc = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf;

			if (cap > TG_CFG_MAX_FILE)
				break;
			if (ncap > (size_t)TG_CFG_MAX_FILE + 1)
				ncap = (size_t)TG_CFG_MAX_FILE + 1;
			nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				rc = -ENOMEM;
				break;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

int
tg_config_load(
	const char *file, struct tg_config **out, struct tg_cfg_errors *errs)
{
	struct tg_cfg_errors *own = NULL;
	char *buf = NULL, ebuf[128];
	size_t len = 0;
	int rc;

	if (out == NULL || file == NULL)
		return -EINVAL;
	*out = NULL;
	if (errs == NULL) {
		own = malloc(sizeof(*own));
		if (own == NULL)
			return -ENOMEM;
		errs = own;
	}
	tg_cfg_errs_reset(errs, file);
	rc = read_all(file, &buf, &len);
	if (rc != 0)
		tg_cfg_errs_add(errs, 0, 0, "", "cannot read: %s",
			strerror_r(-rc, ebuf, sizeof(ebuf)));
	else
		rc = parse_buf(file, buf, len, out, errs);
	free(buf);
	free(own);
	return rc;
}

void
tg_config_free(struct tg_config *cfg)
{
	unsigned int i, d;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_ifaces && i < TG_MAX_PORTS; i++)
		for (d = 0; d < TG_CFG_FILTER__DIRS; d++)
			free(cfg->ifaces[i].filters[d].rules);
	free(cfg->routes);
	free(cfg->neighbors);
	free(cfg->nat.mappings);
	free(cfg->firewall.exceptions);
	free(cfg->ipsec.policies);
	free(cfg->ipsec.order);
	if (cfg->ipsec.sas != NULL) /* keys do not outlive the model */
		explicit_bzero(cfg->ipsec.sas,
			cfg->ipsec.n_sas * sizeof(*cfg->ipsec.sas));
	free(cfg->ipsec.sas);
	free(cfg->source);
	free(cfg);
}
