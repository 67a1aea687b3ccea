/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for tollgatectl's JSON reader (app/tollgatectl/json.c):
 * garbage refused with a position, limits, then values, strings and
 * escapes, lookups on a reply shaped like tollgate's, and the writer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "tg_test.h"

static struct json_doc *
parse(const char *s)
{
	return json_parse(s, strlen(s), NULL, NULL);
}

/* ------------------------------------------------------------ bad input */

static void
test_tollgatectl_json_rejects_garbage(void)
{
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"}",
		"[",
		"[1,]",
		"[,1]",
		"[1 2]",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{1:2}",
		"{\"a\":}",
		"{,}",
		"01",
		"-01",
		"1.",
		".5",
		"-",
		"1e",
		"1e+",
		"+1",
		"0x10",
		"tru",
		"nul",
		"falsey",
		"NaN",
		"Infinity",
		"-Infinity",
		"1e999",
		"-1e999",
		"\"abc",
		"\"\\x41\"",
		"\"\\u12\"",
		"\"\\u12g4\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\ud800\\u0041\"",
		"\"\\ud800x\"",
		"\"a\x01b\"",
		"\"tab\there\"",
		"\"\xc0\xaf\"",
		"\"\xe0\x80\xaf\"",
		"\"\xed\xa0\x80\"",
		"\"\xf4\x90\x80\x80\"",
		"\"\xe2\x82\"",
		"\"\xff\"",
		"\"\x80\"",
		"[1] x",
		"1 2",
		"'a'",
		"[\"a\"]]",
		"{\"a\":1}}",
		"\"\\",
		"\"\\\"",
		"// c\n1",
		"[1,2",
		"\xef\xbb\xbf{}",
	};
	struct json_error err;
	struct json_doc *d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		d = json_parse(bad[i], strlen(bad[i]), NULL, &err);
		if (d != NULL)
			fprintf(stderr, "\naccepted: %s\n", bad[i]);
		CU_ASSERT_PTR_NULL(d);
		CU_ASSERT_EQUAL(errno, EINVAL);
		CU_ASSERT(err.msg[0] != '\0');
		CU_ASSERT(err.offset <= strlen(bad[i]));
		json_free(d);
	}
	/* A NUL byte is not whitespace, nor allowed raw in a string. */
	CU_ASSERT_PTR_NULL(json_parse("1\0", 2, NULL, NULL));
	CU_ASSERT_PTR_NULL(json_parse("\"a\0b\"", 5, NULL, NULL));
	CU_ASSERT_PTR_NULL(json_parse(NULL, 3, NULL, NULL));
}

static void
test_tollgatectl_json_error_position(void)
{
	struct json_error err;

	CU_ASSERT_PTR_NULL(json_parse("{\"a\": [1, 2,, 3]}", 17, NULL, &err));
	CU_ASSERT_EQUAL(err.offset, 12);
	CU_ASSERT_PTR_NULL(json_parse("[1] x", 5, NULL, &err));
	CU_ASSERT_EQUAL(err.offset, 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after"));
}

/* Input need not be NUL-ended: nothing past len is read (ASan checks). */
static void
test_tollgatectl_json_reads_only_len_bytes(void)
{
	static const char *const cut[] = {
		"[1,2]",
		"{\"ab\":true}",
		"\"\\u00e9\"",
		"-12.5e3",
		"null",
		"\"\\ud83d\\ude00\"",
		"\"\xe2\x82\xac\"",
	};
	struct json_doc *d;
	size_t i, n;
	char *buf;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		for (n = 0; n < strlen(cut[i]); n++) {
			buf = malloc(n + 1); /* exactly n bytes are valid */
			memcpy(buf, cut[i], n);
			d = json_parse(buf, n, NULL, NULL);
			/* A prefix of "-12.5e3" may be a number; the rest
			 * are incomplete. */
			if (d != NULL)
				CU_ASSERT_EQUAL(cut[i][0], '-');
			json_free(d);
			free(buf);
		}
		d = parse(cut[i]);
		CU_ASSERT_PTR_NOT_NULL(d);
		json_free(d);
	}
}

static void
test_tollgatectl_json_limits(void)
{
	struct json_limits lim = {.max_depth = 4};
	struct json_error err;
	char deep[200002];
	struct json_doc *d;
	size_t i;

	d = json_parse("[[[[1]]]]", 9, &lim, NULL);
	CU_ASSERT_PTR_NOT_NULL(d);
	json_free(d);
	errno = 0;
	CU_ASSERT_PTR_NULL(json_parse("[[[[[1]]]]]", 11, &lim, &err));
	CU_ASSERT_EQUAL(errno, E2BIG);
	CU_ASSERT_EQUAL(err.offset, 4);
	CU_ASSERT_PTR_NULL(json_parse(
		"{\"a\":{\"b\":{\"c\":{\"d\":{}}}}}", 26, &lim, NULL));

	/* 100,000 open brackets: refused at the default depth, no stack
	 * overflow. */
	for (i = 0; i < 100000; i++) {
		deep[i] = '[';
		deep[200001 - i] = ']';
	}
	memset(deep + 100000, ']', 2);
	CU_ASSERT_PTR_NULL(json_parse(deep, sizeof(deep), NULL, NULL));
	CU_ASSERT_EQUAL(errno, E2BIG);
	/* A caller cannot ask for a depth that would blow the stack. */
	lim.max_depth = 1000000;
	CU_ASSERT_PTR_NULL(json_parse(deep, sizeof(deep), &lim, NULL));

	lim.max_depth = 0;
	lim.max_size = 8;
	CU_ASSERT_PTR_NULL(json_parse("[1,2,3,4]", 9, &lim, &err));
	CU_ASSERT_EQUAL(errno, E2BIG);
	d = json_parse("[1,2,34]", 8, &lim, NULL);
	CU_ASSERT_PTR_NOT_NULL(d);
	json_free(d);
}

/* Random bytes, and a valid reply with bytes flipped: parse or fail, never
 * crash (run under ASan+UBSan by scripts/test.sh). */
static void
test_tollgatectl_json_survives_noise(void)
{
	static const char reply[] =
		"{\"/tollgate/routes\":{\"total\":2,\"start\":0,\"routes\":{"
		"\"0\":{\"prefix\":\"10.0.0.0/24\",\"interface\":\"lan0\"},"
		"\"1\":{\"prefix\":\"1.0.0.0/8\",\"via\":\"10.0.0.2\"}},"
		"\"next\":2,\"x\":[-1.5e-3,true,false,null,\"\\u00e9\"]}}";
	static const char alphabet[] = "{}[]\",:\\ -+.0123456789eEtrufalsn\xc3";
	unsigned int seed = 12345, i, j, n;
	char buf[sizeof(reply)];

	for (i = 0; i < 20000; i++) {
		memcpy(buf, reply, sizeof(buf));
		n = 1 + rand_r(&seed) % 4;
		for (j = 0; j < n; j++)
			buf[rand_r(&seed) % (sizeof(buf) - 1)] =
				i % 2 ? (char)rand_r(&seed)
				      : alphabet[rand_r(&seed) %
						 (sizeof(alphabet) - 1)];
		json_free(json_parse(buf, sizeof(buf) - 1 - i % 7, NULL, NULL));
	}
	for (i = 0; i < 20000; i++) {
		n = rand_r(&seed) % 64;
		for (j = 0; j < n; j++)
			buf[j] = alphabet[rand_r(&seed) %
					  (sizeof(alphabet) - 1)];
		json_free(json_parse(buf, n, NULL, NULL));
	}
	CU_PASS("no crash");
}

/* ------------------------------------------------------------ values */

static void
test_tollgatectl_json_numbers(void)
{
	static const struct {
		const char *text;
		enum json_type type;
	} cases[] = {
		{"0", JSON_UINT},
		{"-0", JSON_INT},
		{"18446744073709551615", JSON_UINT},
		{"18446744073709551616", JSON_DOUBLE},
		{"-9223372036854775808", JSON_INT},
		{"-9223372036854775809", JSON_DOUBLE},
		{"1.5", JSON_DOUBLE},
		{"1e3", JSON_DOUBLE},
		{"-2E-2", JSON_DOUBLE},
		{"1e-400", JSON_DOUBLE}, /* underflows to 0: a number still */
		{"-7", JSON_INT},
	};
	const struct json_value *v;
	struct json_doc *d;
	uint64_t u;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = parse(cases[i].text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(d);
		CU_ASSERT_EQUAL(json_root(d)->type, cases[i].type);
		json_free(d);
	}
	d = parse(" [18446744073709551615, -9223372036854775808, -0, 2.5] ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	v = json_root(d)->v.kids.first;
	CU_ASSERT_EQUAL(json_u64(v, &u), 0);
	CU_ASSERT_EQUAL(u, UINT64_MAX);
	v = v->next;
	CU_ASSERT_EQUAL(v->v.i, INT64_MIN);
	CU_ASSERT_EQUAL(json_u64(v, &u), -EINVAL);
	v = v->next;
	CU_ASSERT_EQUAL(json_u64(v, &u), 0);
	CU_ASSERT_EQUAL(u, 0);
	v = v->next;
	CU_ASSERT_DOUBLE_EQUAL(v->v.d, 2.5, 1e-12);
	CU_ASSERT_EQUAL(json_u64(v, &u), -EINVAL);
	CU_ASSERT_EQUAL(json_u64(NULL, &u), -EINVAL);
	json_free(d);
}

static void
test_tollgatectl_json_strings(void)
{
	const struct json_value *v;
	struct json_doc *d;

	d = parse("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(json_str(json_root(d)), "q\" b\\ s/ \b\f\n\r\t");
	json_free(d);

	d = parse("[\"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", \"a\\u0000b\", "
		  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", \"\"]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	v = json_root(d)->v.kids.first;
	CU_ASSERT_STRING_EQUAL(v->v.str.s, "\xc3\xa9\xe2\x82\xac");
	v = v->next;
	CU_ASSERT_STRING_EQUAL(v->v.str.s, "\xf0\x9f\x98\x80");
	v = v->next;
	CU_ASSERT_EQUAL(v->v.str.len, 3); /* the NUL is kept */
	CU_ASSERT_EQUAL(memcmp(v->v.str.s, "a\0b", 3), 0);
	v = v->next;
	CU_ASSERT_STRING_EQUAL(
		v->v.str.s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	v = v->next;
	CU_ASSERT_EQUAL(v->v.str.len, 0);
	CU_ASSERT_PTR_NULL(json_str(json_root(d)));
	json_free(d);
}

/* The shapes tollgate sends: nested dicts for dotted names, index-keyed
 * dicts for pages, arrays of strings. */
static void
test_tollgatectl_json_lookups(void)
{
	const struct json_value *r, *v;
	struct json_doc *d;
	uint64_t u;

	d = parse("{\"/tollgate/stats\":{\"generation\":3,\"drops\":{\"pkt\":"
		  "{\"bad_checksum\":1},\"forward\":{\"no_route\":2,"
		  "\"ttl_exceeded\":0}},\"text\":[\"a\",\"b\"],\"e\":{},"
		  "\"l\":[],\"t\":true,\"f\":false,\"n\":null}}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	r = json_get(json_root(d), "/tollgate/stats");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(r->v.kids.n, 8);
	CU_ASSERT_EQUAL(
		json_u64(json_path(r, "drops.forward.no_route"), &u), 0);
	CU_ASSERT_EQUAL(u, 2);
	v = json_get(r, "drops")->v.kids.first;
	CU_ASSERT_STRING_EQUAL(v->key, "pkt"); /* document order */
	CU_ASSERT_STRING_EQUAL(v->next->key, "forward");
	CU_ASSERT_PTR_NULL(json_path(r, "drops.forward.nope"));
	CU_ASSERT_PTR_NULL(json_path(r, "drops.pkt.bad_checksum.x"));
	CU_ASSERT_PTR_NULL(json_get(json_get(r, "text"), "a"));
	CU_ASSERT_EQUAL(json_get(r, "text")->v.kids.n, 2);
	CU_ASSERT_EQUAL(json_get(r, "e")->type, JSON_OBJECT);
	CU_ASSERT_PTR_NULL(json_get(r, "e")->v.kids.first);
	CU_ASSERT_EQUAL(json_get(r, "l")->type, JSON_ARRAY);
	CU_ASSERT_EQUAL(json_get(r, "t")->v.b, true);
	CU_ASSERT_EQUAL(json_get(r, "f")->v.b, false);
	CU_ASSERT_EQUAL(json_get(r, "n")->type, JSON_NULL);
	CU_ASSERT_PTR_NULL(json_get(NULL, "x"));
	CU_ASSERT_PTR_NULL(json_root(NULL));
	json_free(d);
	json_free(NULL);
}

static void
test_tollgatectl_json_writes_compact(void)
{
	static const char in[] = " { \"a\" : [ 1 , -2 , 2.5 , true , null , "
				 "\"\\u0001\\n\\\"\\\\\" ] ,"
				 " \"\\u00e9\" : { } , \"z\" : [ ] } ";
	static const char want[] =
		"{\"a\":[1,-2,2.5,true,null,\"\\u0001\\n\\\"\\\\\"],"
		"\"\xc3\xa9\":{},\"z\":[]}";
	struct json_doc *d, *again;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	d = parse(in);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	f = open_memstream(&out, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(json_write(f, json_root(d)), 0);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out, want);
	again = json_parse(out, len, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(again);
	json_free(again);
	free(out);
	json_free(d);
}

int
main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("tollgatectl_json", NULL, NULL,
		"test_tollgatectl_json_rejects_garbage",
		test_tollgatectl_json_rejects_garbage,
		"test_tollgatectl_json_error_position",
		test_tollgatectl_json_error_position,
		"test_tollgatectl_json_reads_only_len_bytes",
		test_tollgatectl_json_reads_only_len_bytes,
		"test_tollgatectl_json_limits", test_tollgatectl_json_limits,
		"test_tollgatectl_json_survives_noise",
		test_tollgatectl_json_survives_noise,
		"test_tollgatectl_json_numbers", test_tollgatectl_json_numbers,
		"test_tollgatectl_json_strings", test_tollgatectl_json_strings,
		"test_tollgatectl_json_lookups", test_tollgatectl_json_lookups,
		"test_tollgatectl_json_writes_compact",
		test_tollgatectl_json_writes_compact, NULL);
	return tg_test_run();
}
