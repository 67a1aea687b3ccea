/* SPDX-License-Identifier: BSD-3-Clause
 * An IPsec SA's keys (ipsec.sas[].key, salt, auth_key, or key_file): hex
 * of exactly the length the algorithm needs. No message ever holds a key
 * byte: errors name the field, the lengths and the file, never the value.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_internal.h"

#define KEY_FILE_MAX 65536 /* bytes: a few hex lines */

/* What an algorithm takes, in bytes; 0: the field is not used. */
static const struct {
	uint8_t len[3]; /* key, salt, auth_key */
} alg_keys[TG_CFG_IPSEC__ALGS] = {
	[TG_CFG_IPSEC_AES_128_GCM] = {{16, 4, 0}},
	[TG_CFG_IPSEC_AES_256_GCM] = {{32, 4, 0}},
	[TG_CFG_IPSEC_AES_128_CBC_SHA256] = {{16, 0, 32}},
	[TG_CFG_IPSEC_AES_256_CBC_SHA256] = {{32, 0, 32}},
	[TG_CFG_IPSEC_AES_128_CBC_SHA1] = {{16, 0, 20}},
	[TG_CFG_IPSEC_AH_HMAC_SHA256] = {{0, 0, 32}},
	[TG_CFG_IPSEC_AH_HMAC_SHA1] = {{0, 0, 20}},
};

static const char *const field_names[3] = {"key", "salt", "auth_key"};

/* Where the keys come from, for messages: inline (each error at its
 * value) or a key file (every error at the key_file value, the file's
 * name and line in the message). */
struct key_src {
	struct tg_cfg_ctx *c;
	struct tg_cfg_ipsec_sa *sa;
	const char *file; /* as written; NULL: inline */
	struct tg_cfg_pos at;
	char path[sizeof(((struct tg_cfg_ctx *)0)->path) + 16];
};

static void __attribute__((format(printf, 4, 5))) kerr(struct key_src *k,
	struct tg_cfg_pos pos, uint32_t file_line, const char *fmt, ...)
{
	char msg[224];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (k->file == NULL)
		tg_cfg_err(k->c, pos, k->path, "%s", msg);
	else if (file_line > 0)
		tg_cfg_err(k->c, k->at, k->path,
			"key_file '%.60s': line %u: %s", k->file, file_line,
			msg);
	else
		tg_cfg_err(k->c, k->at, k->path, "key_file '%.60s': %s",
			k->file, msg);
}

/* What the algorithm takes, for "missing" messages. */
static const char *
wants(uint8_t alg, char *buf, size_t len)
{
	size_t o = 0;
	int f;

	o += (size_t)snprintf(
		buf, len, "%s takes ", tg_cfg_ipsec_alg_names[alg]);
	for (f = 0; f < 3 && o < len; f++)
		if (alg_keys[alg].len[f] != 0)
			o += (size_t)snprintf(buf + o, len - o,
				"%s%s (%u bytes)",
				f == 0 || (f == 2 && alg_keys[alg].len[0] == 0)
					? ""
					: " and ",
				field_names[f], alg_keys[alg].len[f]);
	return buf;
}

/* Hex digits (an optional 0x first) into @p out when they are exactly
 * @p want bytes. Reports a wrong length or a non-hex character without
 * the value. */
static bool
hex_value(struct key_src *k, int f, const char *s, struct tg_cfg_pos pos,
	uint32_t file_line, uint8_t *out, uint8_t *out_len)
{
	unsigned int want = alg_keys[k->sa->alg].len[f], i;
	size_t n;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (s[n] != '\0') {
		kerr(k, pos, file_line,
			"%s is not hexadecimal: expected %u hex digits (%u "
			"bytes for %s)",
			field_names[f], want * 2, want,
			tg_cfg_ipsec_alg_names[k->sa->alg]);
		return false;
	}
	if (n != want * 2) {
		kerr(k, pos, file_line,
			"%s: expected %u hex digits (%u bytes for %s), got %zu",
			field_names[f], want * 2, want,
			tg_cfg_ipsec_alg_names[k->sa->alg], n);
		return false;
	}
	for (i = 0; i < want; i++) {
		char b[3] = {s[2 * i], s[2 * i + 1], '\0'};

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	*out_len = (uint8_t)want;
	return true;
}

/* One field given (@p v, NULL when not): read it, or say it is missing
 * or not for this algorithm. */
static void
key_field(struct key_src *k, int f, const yaml_node_t *v, const yaml_node_t *kn,
	bool file)
{
	struct tg_cfg_ipsec_keys *keys = &k->sa->keys;
	uint8_t *dst[3] = {keys->key, keys->salt, keys->auth_key};
	uint8_t *len[3] = {
		&keys->key_len, &keys->salt_len, &keys->auth_key_len};
	uint8_t want = alg_keys[k->sa->alg].len[f];
	uint32_t line = file && v != NULL ? tg_cfg_node_pos(v).line : 0;
	char buf[128];
	const char *s;

	if (!file && v != NULL)
		snprintf(k->path, sizeof(k->path), "%s.%s", k->c->path,
			field_names[f]);
	if (v == NULL) {
		if (want != 0)
			kerr(k, k->at, 0, "missing required key '%s' (%s)",
				field_names[f],
				wants(k->sa->alg, buf, sizeof(buf)));
		return;
	}
	if (want == 0) {
		kerr(k, tg_cfg_node_pos(kn), line, "%s is not used by %s (%s)",
			field_names[f], tg_cfg_ipsec_alg_names[k->sa->alg],
			wants(k->sa->alg, buf, sizeof(buf)));
		return;
	}
	s = tg_cfg_scalar_text(v);
	if (s == NULL) {
		kerr(k, tg_cfg_node_pos(v), line,
			"%s: expected hex digits, got %s", field_names[f],
			tg_cfg_describe(v, buf, sizeof(buf)));
		return;
	}
	hex_value(k, f, s, tg_cfg_node_pos(v), line, dst[f], len[f]);
}

/* ---------------------------------------------------------- key_file */

/* The file @p name (relative to the configuration's directory) into a
 * malloc'd NUL-ended buffer, or NULL with the problem reported. */
static char *
key_file_read(struct key_src *k, const char *name, size_t *lenp)
{
	const char *cfg = k->c->cfg->file, *slash = strrchr(cfg, '/');
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	size_t n;
	FILE *f;

	if (name[0] == '/' || slash == NULL)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - cfg), cfg,
			name);
	f = fopen(path, "r");
	if (f == NULL) {
		kerr(k, k->at, 0, "cannot read %.200s: %s", path,
			strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		kerr(k, k->at, 0, "%.200s is not a regular file", path);
		fclose(f);
		return NULL;
	}
	if (st.st_size > KEY_FILE_MAX) {
		kerr(k, k->at, 0,
			"%.200s is too large for a key file (%lld "
			"bytes, at most %d)",
			path, (long long)st.st_size, KEY_FILE_MAX);
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		k->c->nomem = true;
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		kerr(k, k->at, 0, "cannot read %.200s: %s", path,
			strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/* The key file's mapping: key, salt, auth_key, nothing else. */
static void
key_file_map(struct key_src *k, yaml_document_t *doc)
{
	const yaml_node_t *root = yaml_document_get_root_node(doc);
	const yaml_node_t *v[3] = {NULL, NULL, NULL}, *kn[3] = {0};
	const yaml_node_pair_t *pair;
	int f;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		kerr(k, k->at, root ? tg_cfg_node_pos(root).line : 0,
			"expected a mapping of key, salt and auth_key (hex)");
		return;
	}
	for (pair = root->data.mapping.pairs.start;
		pair < root->data.mapping.pairs.top; pair++) {
		const yaml_node_t *kk = yaml_document_get_node(doc, pair->key);
		const char *name = tg_cfg_scalar_text(kk);

		for (f = 0; name != NULL && f < 3; f++)
			if (strcmp(name, field_names[f]) == 0)
				break;
		if (name == NULL || f == 3) {
			kerr(k, k->at, tg_cfg_node_pos(kk).line,
				"unknown key%s%.40s%s (valid keys: key, salt, "
				"auth_key)",
				name ? " '" : "", name ? name : "",
				name ? "'" : "");
			continue;
		}
		if (v[f] != NULL) {
			kerr(k, k->at, tg_cfg_node_pos(kk).line,
				"duplicate key '%s'", field_names[f]);
			continue;
		}
		kn[f] = kk;
		v[f] = yaml_document_get_node(doc, pair->value);
	}
	for (f = 0; f < 3; f++)
		key_field(k, f, v[f], kn[f], true);
}

static void
key_file(struct key_src *k, const yaml_node_t *v)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	char *buf;
	size_t len;

	k->file = tg_cfg_want_text(k->c, v, "a file name");
	if (k->file == NULL)
		return;
	k->at = tg_cfg_node_pos(v);
	buf = key_file_read(k, k->file, &len);
	if (buf == NULL)
		return;
	if (!yaml_parser_initialize(&parser)) {
		k->c->nomem = true;
		free(buf);
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		kerr(k, k->at, (uint32_t)parser.problem_mark.line + 1,
			"not YAML: %.80s",
			parser.problem ? parser.problem : "syntax error");
	} else {
		key_file_map(k, &doc);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	explicit_bzero(buf, len);
	free(buf);
	k->sa->from_key_file = true;
}

void
tg_cfg_ipsec_keys(struct tg_cfg_ctx *c, struct tg_cfg_ipsec_sa *sa,
	const struct tg_cfg_seen *s[TG_CFG_IPSEC_KF__N],
	struct tg_cfg_pos sa_pos)
{
	struct key_src k = {.c = c, .sa = sa, .at = sa_pos};
	bool inline_keys = false;
	char buf[128];
	int f;

	for (f = 0; f < 3; f++)
		inline_keys |= s[f]->node != NULL;
	if (s[TG_CFG_IPSEC_KF_FILE]->node != NULL) {
		snprintf(k.path, sizeof(k.path), "%s.key_file", c->path);
		if (inline_keys) {
			tg_cfg_err(c,
				tg_cfg_node_pos(s[TG_CFG_IPSEC_KF_FILE]->key),
				k.path,
				"key_file and key, salt or auth_key: give the "
				"keys in one place");
			return;
		}
		key_file(&k, s[TG_CFG_IPSEC_KF_FILE]->node);
		return;
	}
	snprintf(k.path, sizeof(k.path), "%s", c->path);
	if (!inline_keys) {
		tg_cfg_err(c, sa_pos, NULL, "missing the keys: %s, or key_file",
			wants(sa->alg, buf, sizeof(buf)));
		return;
	}
	for (f = 0; f < 3; f++) {
		snprintf(k.path, sizeof(k.path), "%s", c->path);
		key_field(&k, f, s[f]->node, s[f]->key, false);
	}
}
