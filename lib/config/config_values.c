/* SPDX-License-Identifier: BSD-3-Clause
 * Values that more than one section takes, with the same syntax and the
 * same messages: strings, numbers, names, protocols, port ranges and
 * prefixes (config_filters.c, config_natfw.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

#define DIGITS "0123456789"
#define NAME_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS "_.:-"

static const struct {
	const char *name;
	uint8_t proto;
} proto_names[] = {{"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"gre", 47},
	{"esp", 50}, {"ah", 51}};

const char *
tg_cfg_scalar_text(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		return NULL;
	s = (const char *)n->data.scalar.value;
	if (strlen(s) != n->data.scalar.length || s[0] == '\0')
		return NULL;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		(strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0))
		return NULL;
	return s;
}

const char *
tg_cfg_want_text(struct tg_cfg_ctx *c, const yaml_node_t *v, const char *what)
{
	const char *s = tg_cfg_scalar_text(v);
	char buf[80];

	if (s == NULL)
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL, "expected %s, got %s",
			what, tg_cfg_describe(v, buf, sizeof(buf)));
	return s;
}

size_t
tg_cfg_number(const char *s, unsigned long long *v)
{
	size_t n = strspn(s, DIGITS);

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return 0;
	*v = strtoull(s, NULL, 10);
	return n;
}

bool
tg_cfg_name_check(const char *s, size_t max, const char *what, void *dst,
	char *msg, size_t len)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max || strspn(s, NAME_CHARS) != n) {
		snprintf(msg, len,
			"invalid %s '%.40s': use 1..%d characters from A-Z "
			"a-z 0-9 _ . : -",
			what, s, (int)max - 1);
		return false;
	}
	memcpy(dst, s, n + 1);
	return true;
}

const char *
tg_cfg_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].proto == proto)
			return proto_names[i].name;
	return NULL;
}

enum tg_cfg_proto_res
tg_cfg_proto_parse(struct tg_cfg_ctx *c, struct tg_cfg_pos pos, const char *s,
	uint8_t *proto)
{
	unsigned long long p = 0;
	size_t i, len = strlen(s);

	for (i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (strcasecmp(s, proto_names[i].name) == 0) {
			*proto = proto_names[i].proto;
			return TG_CFG_PROTO_OK;
		}
	}
	if (tg_cfg_number(s, &p) == len && p <= 255) {
		*proto = (uint8_t)p;
		return TG_CFG_PROTO_OK;
	}
	/* a plain number, too large or negative ("006" is no number) */
	i = s[0] == '-';
	if (len > i && strspn(s + i, DIGITS) == len - i &&
		(s[i] != '0' || len == i + 1)) {
		tg_cfg_err(c, pos, NULL,
			"out of range: %.40s (expected 0..255)", s);
		return TG_CFG_PROTO_REPORTED;
	}
	return TG_CFG_PROTO_UNKNOWN;
}

bool
tg_cfg_range_text(struct tg_cfg_ctx *c, const yaml_node_t *v, const char *s,
	const char *what, unsigned int min, unsigned int max, uint16_t *lo,
	uint16_t *hi)
{
	struct tg_cfg_pos pos = tg_cfg_node_pos(v);
	unsigned long long a, b;
	char buf[80];
	size_t n;

	if (s[0] == '-' && tg_cfg_number(s + 1, &a) == strlen(s + 1)) {
		tg_cfg_err(c, pos, NULL,
			"out of range: %.40s (expected %u..%u)", s, min, max);
		return false;
	}
	n = tg_cfg_number(s, &a);
	b = a;
	if (n > 0 && s[n] == '-') {
		size_t m = tg_cfg_number(s + n + 1, &b);

		n = m > 0 ? n + 1 + m : 0;
	}
	if (n == 0 || s[n] != '\0') {
		tg_cfg_err(c, pos, NULL, "expected %s, got %s", what,
			tg_cfg_describe(v, buf, sizeof(buf)));
		return false;
	}
	if (a < min || b < min || a > max || b > max) {
		tg_cfg_err(c, pos, NULL,
			"out of range: %.40s (expected %u..%u)", s, min, max);
		return false;
	}
	if (a > b) {
		tg_cfg_err(c, pos, NULL,
			"a range must go upwards (like %llu-%llu), got '%s'", b,
			a, s);
		return false;
	}
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

bool
tg_cfg_port_range(struct tg_cfg_ctx *c, const yaml_node_t *v, unsigned int min,
	uint16_t *lo, uint16_t *hi)
{
	char what[64];
	const char *s;

	snprintf(what, sizeof(what),
		"a port (a number %u..65535 or a range \"LO-HI\")", min);
	s = tg_cfg_want_text(c, v, what);
	return s != NULL &&
	       tg_cfg_range_text(c, v, s, what, min, 65535, lo, hi);
}

bool
tg_cfg_prefix_value(struct tg_cfg_ctx *c, const yaml_node_t *v, bool any,
	uint32_t *addr, uint8_t *plen)
{
	const char *s = tg_cfg_want_text(c, v,
		any ? "an address or prefix (any, a.b.c.d or a.b.c.d/len)"
		    : "an address or prefix (a.b.c.d or a.b.c.d/len)");
	uint32_t a, len = 32;
	char net[16];

	if (s == NULL)
		return false;
	if (any && strcmp(s, "any") == 0) {
		*addr = 0;
		*plen = 0;
		return true;
	}
	if (!tg_cfg_ipv4_parse(s, &a) && !tg_cfg_prefix_parse(s, &a, &len)) {
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"invalid address or prefix '%.40s': expected %sa.b.c.d "
			"or a.b.c.d/len with len 0..32",
			s, any ? "any, " : "");
		return false;
	}
	if ((a & ~tg_cfg_mask(len)) != 0) {
		tg_cfg_ipv4_fmt(a & tg_cfg_mask(len), net);
		tg_cfg_err(c, tg_cfg_node_pos(v), NULL,
			"host bits are set in '%s': the prefix should be %s/%u",
			s, net, len);
		return false;
	}
	*addr = a;
	*plen = (uint8_t)len;
	return true;
}

bool
tg_cfg_host_check(const char *s, void *dst, char *msg, size_t len)
{
	uint32_t a, first;

	if (!tg_cfg_ipv4_parse(s, &a)) {
		snprintf(msg, len, "invalid address '%.40s': expected a.b.c.d",
			s);
		return false;
	}
	first = a >> 24;
	if (first == 0 || first == 127 || first >= 224) {
		snprintf(msg, len, "'%s' is not a unicast host address", s);
		return false;
	}
	*(uint32_t *)dst = a;
	return true;
}
