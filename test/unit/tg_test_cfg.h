/* SPDX-License-Identifier: BSD-3-Clause
 * Helpers of the lib/config suites (test_config, test_config_natfw): parse
 * a snippet and expect it to load, or to fail with exactly one error at a
 * given line, column and YAML path. One header-only copy per suite.
 */
#ifndef TG_TEST_CFG_H
#define TG_TEST_CFG_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tg_config.h"

static struct tg_cfg_errors errs; /* large: not on the stack */

static inline void
dump_errors(const char *yaml)
{
	fprintf(stderr, "\n--- yaml:\n%s--- %u error(s):\n", yaml, errs.n);
	tg_cfg_errors_print(&errs, stderr);
}

struct bad {
	const char *yaml;
	uint32_t line;
	uint32_t col;
	const char *path;
	const char *msg; /* a substring of the message */
};

/* Each case must fail with exactly one error, at that place; a failure
 * is reported at @p src_line of @p src_file. */
static inline void
tg_test_cfg_check_bad(const struct bad *b, int src_line, const char *src_file)
{
	struct tg_config *cfg = (struct tg_config *)&cfg;
	int rc = tg_config_parse(
		"t.yaml", b->yaml, strlen(b->yaml), &cfg, &errs);
	bool ok = rc == -EINVAL && cfg == NULL && errs.n == 1 &&
		  errs.e[0].line == b->line && errs.e[0].col == b->col &&
		  strcmp(errs.e[0].path, b->path) == 0 &&
		  strstr(errs.e[0].msg, b->msg) != NULL;

	if (!ok) {
		fprintf(stderr, "\nexpected %u:%u: %s: ...%s...", b->line,
			b->col, b->path, b->msg);
		dump_errors(b->yaml);
	}
	CU_assertImplementation(ok, (unsigned int)src_line, b->msg, src_file,
		"check_bad", CU_FALSE);
	tg_config_free(cfg == (struct tg_config *)&cfg ? NULL : cfg);
}

#define check_bad(b, line) tg_test_cfg_check_bad(b, line, __FILE__)

#define CHECK_BAD_TABLE(t)                                                     \
	do {                                                                   \
		size_t i_;                                                     \
		for (i_ = 0; i_ < sizeof(t) / sizeof((t)[0]); i_++)            \
			check_bad(&(t)[i_], __LINE__);                         \
	} while (0)

static inline struct tg_config *
parse_ok(const char *yaml)
{
	struct tg_config *cfg = NULL;
	int rc = tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs);

	if (rc != 0)
		dump_errors(yaml);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(errs.n, 0);
	return cfg;
}

/* The error list of a parse, as printed: "a\nb\n". */
static inline char *
printed(void)
{
	static char buf[16384];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	tg_cfg_errors_print(&errs, f);
	fclose(f);
	return buf;
}

/* One parse of damaged input: it must load (counted in *@p good) or fail
 * with errors; returns 1 when it does neither, else 0. */
static inline unsigned int
tg_test_cfg_parse_any(
	const char *name, const char *buf, size_t len, unsigned int *good)
{
	struct tg_config *cfg = (struct tg_config *)&cfg;
	int rc = tg_config_parse(name, buf, len, &cfg, &errs);
	unsigned int bad = 0;

	if (rc == 0 && cfg != NULL && errs.n == 0)
		(*good)++;
	else if (!(rc == -EINVAL && cfg == NULL && errs.n > 0))
		bad = 1;
	tg_config_free(rc == 0 ? cfg : NULL);
	return bad;
}

/* Any prefix of @p yaml, then @p yaml with each byte from @p from on
 * replaced by each of @p bytes: never a crash or a leak (ASan). Each
 * prefix is a heap copy of exactly that many bytes, so ASan sees any
 * over-read. Returns how many parses neither loaded nor failed with
 * errors; @p good_prefixes (may be NULL) gets how many prefixes loaded. */
static inline unsigned int
tg_test_cfg_mangle(const char *yaml, size_t from, const char *bytes,
	size_t n_bytes, unsigned int *good_prefixes)
{
	size_t len = strlen(yaml), i, j;
	char *buf = malloc(len);
	unsigned int bad = 0, good = 0, flipped = 0;

	CU_ASSERT_FATAL(buf != NULL);
	for (i = 0; i <= len; i++) {
		memcpy(buf, yaml, i);
		bad += tg_test_cfg_parse_any("cut", i ? buf : NULL, i, &good);
	}
	memcpy(buf, yaml, len);
	for (i = from; i < len; i++) {
		char saved = buf[i];

		for (j = 0; j < n_bytes; j++) {
			buf[i] = bytes[j];
			bad += tg_test_cfg_parse_any(
				"flip", buf, len, &flipped);
		}
		buf[i] = saved;
	}
	free(buf);
	if (good_prefixes != NULL)
		*good_prefixes = good;
	return bad;
}

#endif /* TG_TEST_CFG_H */
