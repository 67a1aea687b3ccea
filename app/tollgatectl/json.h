/* SPDX-License-Identifier: BSD-3-Clause
 * A small, strict JSON reader (RFC 8259) and writer for tollgatectl: one
 * parse gives a tree whose nodes all live in one arena, freed at once.
 */
#ifndef TGCTL_JSON_H
#define TGCTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_UINT,   /**< an integer >= 0 that fits uint64_t */
	JSON_INT,    /**< a negative integer that fits int64_t */
	JSON_DOUBLE, /**< a fraction, an exponent, or an integer too large */
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

/** One value. In an array or object, values are linked by @p next in
 *  document order; an object's values carry their member name in @p key. */
struct json_value {
	enum json_type type;
	const char *key; /**< member name (NUL-ended), NULL outside objects */
	size_t key_len;	 /**< may differ from strlen(key): \u0000 is legal */
	struct json_value *next;
	union {
		bool b;
		uint64_t u;
		int64_t i;
		double d;
		struct {
			const char *s; /**< UTF-8, NUL-ended */
			size_t len;
		} str;
		struct {
			struct json_value *first;
			size_t n;
		} kids; /**< JSON_ARRAY and JSON_OBJECT */
	} v;
};

/** Limits on what json_parse() accepts; zero fields take the defaults. */
struct json_limits {
	size_t max_size;	/**< bytes of input, default 4 MiB */
	unsigned int max_depth; /**< nesting of arrays/objects, default 64,
				 at most 1024 (the parser recurses) */
};

/** Where and why a parse failed. */
struct json_error {
	size_t offset; /**< byte offset in the input */
	char msg[96];
};

struct json_doc; /**< owns every node and string of one parse */

/**
 * Parse @p len bytes at @p text (need not be NUL-ended) as one JSON text:
 * exactly one value, optionally surrounded by whitespace. Strings must be
 * valid UTF-8 and escapes well-formed (surrogates paired); numbers follow
 * the JSON grammar. Never reads outside the input, whatever it holds.
 *
 * @return the document (free with json_free()), or NULL with @p err
 *   filled (errno: EINVAL bad input, E2BIG over a limit, ENOMEM).
 */
struct json_doc *json_parse(const char *text, size_t len,
	const struct json_limits *lim, struct json_error *err);

/** The root value of @p doc. */
const struct json_value *json_root(const struct json_doc *doc);

/** Free @p doc and every value in it (NULL is ignored). */
void json_free(struct json_doc *doc);

/** The first member of object @p obj named @p key; NULL when @p obj is
 *  not an object or has no such member. */
const struct json_value *json_get(
	const struct json_value *obj, const char *key);

/** Follow a dotted path of member names ("drops.forward.no_route"). */
const struct json_value *json_path(
	const struct json_value *v, const char *dotted);

/** *out = @p v as an unsigned integer. Returns 0, or -EINVAL when @p v is
 *  NULL or not an integer >= 0. */
int json_u64(const struct json_value *v, uint64_t *out);

/** The string of @p v, or NULL when it is not a string. */
const char *json_str(const struct json_value *v);

/** Write @p v to @p f as compact JSON (no spaces, as DPDK writes it).
 *  Returns 0 or -EIO. */
int json_write(FILE *f, const struct json_value *v);

/** Write @p s (@p len bytes) as a JSON string literal, quotes included. */
int json_write_string(FILE *f, const char *s, size_t len);

/**
 * The answers of a paged telemetry request: each page's document, kept
 * alive while its value of interest (vals[i], a node inside docs[i]) is
 * used.
 */
struct json_pages {
	struct json_doc **docs;
	const struct json_value **vals;
	size_t n, cap;
};

/** Keep @p doc and its value @p v. 0, or -ENOMEM (the caller still owns
 *  @p doc). */
int json_pages_add(struct json_pages *pg, struct json_doc *doc,
	const struct json_value *v);

/** Free every document; @p pg is empty again. */
void json_pages_free(struct json_pages *pg);

#endif /* TGCTL_JSON_H */
