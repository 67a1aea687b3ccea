/* SPDX-License-Identifier: BSD-3-Clause
 * CUnit suite for the ipsec: section of lib/config (the ipsec stage,
 * issue 7): every error with its position, path and message, the model a
 * full example gives, key files, that no message shows a key, the
 * policies' evaluation order, and the refusal while the stage is not
 * built. Positions come from a marker in each snippet (at()): "^" in the
 * marker is where the error must point.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_config.h"
#include "tg_test.h"
#include "tg_test_cfg.h"
#include "tg_test_natfw_yaml.h"

/* Lines 1-8: lan0 10.0.0.1/24, wan0 192.0.2.1/24, dmz0 172.16.0.1/24. */
#define BASE  TG_TEST_NATFW_BASE
#define IPSEC BASE "ipsec:\n"
#define K16   "00112233445566778899aabbccddeeff"
#define K20   K16 "01234567"
#define K32   K16 K16
/* An SA as one flow mapping: the keys of a GCM transport SA. */
#define SA_TS(name, spi, dir, salt)                                            \
	"    - {name: " name ", spi: " spi ", direction: " dir                 \
	", mode: transport, algorithm: aes-128-gcm, key: " K16                 \
	", salt: " salt "}\n"
/* every SA its own salt: SAs may not share a key and salt */
#define SA_T(name, spi, dir) SA_TS(name, spi, dir, "01020304")
#define SAS  IPSEC "  sas:\n"
#define SA_O SA_T("o1", "0x1000", "outbound")
#define SA_I SA_TS("i1", "0x1000", "inbound", "05060708")
#define POLS "  policies:\n"

/* Line and column (1-based) of the "^" in @p marker, found in @p yaml
 * (the marker without its "^" must occur; the first occurrence counts). */
static void
at(const char *yaml, const char *marker, uint32_t *line, uint32_t *col)
{
	char m[256];
	const char *caret = strchr(marker, '^'), *hit, *p;
	size_t off = (size_t)(caret - marker);

	snprintf(m, sizeof(m), "%.*s%s", (int)off, marker, caret + 1);
	hit = strstr(yaml, m);
	CU_ASSERT_FATAL(hit != NULL);
	*line = 1;
	*col = 1;
	for (p = yaml; p < hit + off; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

struct bad_at {
	const char *yaml;
	const char *marker;
	const char *path;
	const char *msg;
};

static void
check_bad_at(const struct bad_at *t, size_t n, int src_line)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct bad b = {t[i].yaml, 0, 0, t[i].path, t[i].msg};

		at(t[i].yaml, t[i].marker, &b.line, &b.col);
		tg_test_cfg_check_bad(&b, src_line, __FILE__);
	}
}

#define CHECK_BAD_AT(t) check_bad_at(t, sizeof(t) / sizeof((t)[0]), __LINE__)

/* ---------------------------------------------------------- section */

static void
test_config_ipsec_rejects_bad_section(void)
{
	static const struct bad_at t[] = {
		{IPSEC "  - 1\n", "  ^- 1", "ipsec",
			"expected a mapping, got a list"},
		{IPSEC "  bogus: 1\n", "  ^bogus", "ipsec",
			"unknown key 'bogus' (valid keys: enabled, "
			"policy_order, policies, sas, "
			"allow_authenticated_bypass, crypto_device, "
			"crypto_mode)"},
		{IPSEC "  crypto_mode: sync\n", "crypto_mode: ^sync",
			"ipsec.crypto_mode",
			"unknown crypto_mode 'sync': auto, lookaside or cpu"},
		{IPSEC "  policy_order: random\n", "policy_order: ^random",
			"ipsec.policy_order",
			"unknown policy_order 'random': specificity or "
			"as-written"},
		{IPSEC "  allow_authenticated_bypass: 1\n", "bypass: ^1",
			"ipsec.allow_authenticated_bypass",
			"expected a boolean (true/false), got '1'"},
		{IPSEC "  crypto_device: aesni_mb\n", "device: ^aesni",
			"ipsec.crypto_device",
			"invalid crypto_device 'aesni_mb': expected a crypto "
			"vdev name, crypto_NAME"},
		{IPSEC "  crypto_device: \"crypto_qat,x\"\n", "device: ^\"",
			"ipsec.crypto_device",
			"each argument after the name is ,key=value"},
		{IPSEC "  crypto_device: \"crypto_a b\"\n", "device: ^\"",
			"ipsec.crypto_device",
			"the driver name is letters, digits and _"},
		{IPSEC "  enabled: maybe\n", "enabled: ^maybe", "ipsec.enabled",
			"expected a boolean"},
	};

	CHECK_BAD_AT(t);
}

/* -------------------------------------------------------------- SAs */

static void
test_config_ipsec_rejects_bad_spi(void)
{
	static const struct bad_at t[] = {
		{SAS SA_T("a", "0", "outbound"), "spi: ^0,", "ipsec.sas[0].spi",
			"SPI 0 is reserved: RFC 4303 (2.1) reserves 1..255 for "
			"IANA and 0 for local use, never sent: use "
			"256..4294967295 (0x100..0xffffffff)"},
		{SAS SA_T("a", "255", "outbound"), "spi: ^255",
			"ipsec.sas[0].spi", "SPI 255 is reserved: RFC 4303"},
		{SAS SA_T("a", "0xff", "outbound"), "spi: ^0xff",
			"ipsec.sas[0].spi", "SPI 0xff is reserved"},
		{SAS SA_T("a", "4294967296", "outbound"), "spi: ^4294967296",
			"ipsec.sas[0].spi",
			"out of range: 4294967296 (an SPI is 32 bits: "
			"256..4294967295)"},
		{SAS SA_T("a", "0x100000000", "outbound"), "spi: ^0x1",
			"ipsec.sas[0].spi", "out of range: 0x100000000"},
		{SAS SA_T("a", "-5", "outbound"), "spi: ^-5",
			"ipsec.sas[0].spi",
			"expected an SPI (a number 256..4294967295 or "
			"0x100..0xffffffff), got '-5'"},
		{SAS SA_T("a", "0x", "outbound"), "spi: ^0x,",
			"ipsec.sas[0].spi", "expected an SPI"},
		/* one SPI per direction and protocol */
		{SAS SA_O SA_TS("o2", "4096", "outbound", "0a0b0c0d"),
			"o2, spi: ^4096",
			"ipsec.sas[1].spi",
			"SPI 4096 (0x1000) is already used by outbound esp SA "
			"'o1' (line 11): an SPI names one SA per direction and "
			"protocol"},
		/* no two ESP SAs with one key and salt, not even the two
		 * directions of a tunnel: rte_ipsec's IV is the sequence
		 * number, so they would reuse nonces */
		{SAS SA_O SA_T("i2", "0x2000", "inbound"), "    - ^{name: i2",
			"ipsec.sas[1]",
			"SA 'i2' has the same key and salt as SA 'o1' (line "
			"11): the IV comes from the sequence number, so the "
			"two would reuse nonces; give every SA its own key"},
	};

	CHECK_BAD_AT(t);
}

static void
test_config_ipsec_rejects_bad_sa_values(void)
{
#define SA_HEAD "    - name: s\n      spi: 300\n      direction: outbound\n"
#define GCM                                                                    \
	"      algorithm: aes-128-gcm\n      key: " K16                        \
	"\n      salt: 0a0b0c0d\n"
#define TUN                                                                    \
	"      mode: tunnel\n      local: 192.0.2.1\n      remote: "           \
	"203.0.113.9\n"
	static const struct bad_at t[] = {
		{SAS SA_HEAD
			"      mode: tunnel\n      remote: 203.0.113.9\n" GCM,
			"    - ^name: s", "ipsec.sas[0]",
			"missing required key 'local' (a tunnel SA needs both "
			"endpoints: local and remote)"},
		{SAS SA_HEAD "      mode: tunnel\n      local: 192.0.2.1\n" GCM,
			"    - ^name: s", "ipsec.sas[0]",
			"missing required key 'remote'"},
		{SAS SA_HEAD "      mode: transport\n      remote: "
			     "203.0.113.9\n" GCM,
			"      ^remote:", "ipsec.sas[0].remote",
			"remote is for mode: tunnel (a transport SA uses the "
			"packet's own addresses)"},
		{SAS SA_HEAD
			"      mode: transport\n      local: 192.0.2.1\n" GCM,
			"      ^local:", "ipsec.sas[0].local",
			"local is for mode: tunnel"},
		{SAS SA_HEAD "      mode: tunnel\n      local: 192.0.2.77\n"
			     "      remote: 203.0.113.9\n" GCM,
			"local: ^192.0.2.77", "ipsec.sas[0].local",
			"192.0.2.77 is not an address of the appliance "
			"(interfaces: lan0 10.0.0.1, wan0 192.0.2.1, dmz0 "
			"172.16.0.1): the tunnel's local end must be an "
			"interface address"},
		{SAS SA_HEAD "      mode: tunnel\n      local: 192.0.2.1\n"
			     "      remote: 224.0.0.5\n" GCM,
			"remote: ^224", "ipsec.sas[0].remote",
			"'224.0.0.5' is not a unicast host address"},
		{SAS SA_HEAD "      mode: bridge\n" GCM, "mode: ^bridge",
			"ipsec.sas[0].mode",
			"unknown mode 'bridge': tunnel or transport"},
		{SAS "    - name: s\n      spi: 300\n      direction: both\n"
		     "      mode: transport\n" GCM,
			"direction: ^both", "ipsec.sas[0].direction",
			"an SA has one direction: outbound or inbound"},
		{SAS SA_HEAD "      mode: transport\n      protocol: gre\n" GCM,
			"protocol: ^gre", "ipsec.sas[0].protocol",
			"unknown protocol 'gre': esp or ah"},
		{SAS SA_HEAD "      mode: transport\n      algorithm: des\n",
			"algorithm: ^des", "ipsec.sas[0].algorithm",
			"unknown algorithm 'des' (esp: aes-128-gcm, "
			"aes-256-gcm, aes-128-cbc-hmac-sha256, "
			"aes-256-cbc-hmac-sha256, aes-128-cbc-hmac-sha1; ah: "
			"hmac-sha256, hmac-sha1)"},
		{SAS SA_HEAD "      mode: transport\n      protocol: ah\n" GCM,
			"algorithm: ^aes", "ipsec.sas[0].algorithm",
			"algorithm 'aes-128-gcm' is for esp; ah takes "
			"hmac-sha256, hmac-sha1"},
		{SAS SA_HEAD
			"      mode: transport\n      algorithm: hmac-sha1\n"
			"      auth_key: " K20 "\n",
			"algorithm: ^hmac", "ipsec.sas[0].algorithm",
			"algorithm 'hmac-sha1' is for ah; esp takes "
			"aes-128-gcm"},
		{SAS SA_HEAD "      mode: transport\n" GCM
			     "      replay_window: 4097\n",
			"window: ^4097", "ipsec.sas[0].replay_window",
			"out of range: 4097 (expected 0..4096)"},
		{SAS SA_HEAD "      mode: transport\n" GCM "      esn: on\n",
			"esn: ^on", "ipsec.sas[0].esn", "expected a boolean"},
		{SAS SA_HEAD "      mode: transport\n" GCM
			     "      lifetime: {soft_packets: 10, hard_packets: "
			     "10}\n",
			"{soft_packets: ^10",
			"ipsec.sas[0].lifetime.soft_packets",
			"soft_packets 10 is not below hard_packets 10: the "
			"soft "
			"limit warns before the hard one stops the SA"},
		{SAS SA_HEAD
			"      mode: transport\n" GCM
			"      lifetime: {hard_bytes: 100, soft_bytes: 5000}\n",
			"soft_bytes: ^5000", "ipsec.sas[0].lifetime.soft_bytes",
			"soft_bytes 5000 is not below hard_bytes 100"},
		{SAS SA_HEAD "      mode: transport\n" GCM
			     "      lifetime: {soft_packets: -1}\n",
			"soft_packets: ^-1",
			"ipsec.sas[0].lifetime.soft_packets",
			"out of range: -1"},
		{SAS SA_HEAD "      mode: transport\n" GCM
			     "      lifetime: {hard_seconds: 60}\n",
			"{^hard_seconds", "ipsec.sas[0].lifetime",
			"unknown key 'hard_seconds' (valid keys: soft_packets, "
			"hard_packets, soft_bytes, hard_bytes)"},
		{SAS SA_O SA_TS("o1", "0x2000", "inbound", "0a0b0c0d"),
			"- {name: ^o1, spi: 0x2000", "ipsec.sas[1].name",
			"SA 'o1' is defined twice (first at line 11)"},
		{SAS SA_T("\"a b\"", "300", "outbound"), "name: ^\"a b\"",
			"ipsec.sas[0].name", "invalid name 'a b'"},
	};

	CHECK_BAD_AT(t);
}

static void
test_config_ipsec_rejects_bad_keys(void)
{
#define SAK(alg, keys)                                                         \
	SAS "    - name: s\n      spi: 300\n      direction: outbound\n"       \
	    "      mode: transport\n      algorithm: " alg "\n" keys
	static const struct bad_at t[] = {
		{SAK("aes-128-gcm",
			 "      key: " K16 "00\n      salt: 01020304\n"),
			"key: ^0011", "ipsec.sas[0].key",
			"key: expected 32 hex digits (16 bytes for "
			"aes-128-gcm), got 34"},
		{SAK("aes-256-gcm",
			 "      key: " K16 "\n      salt: 01020304\n"),
			"key: ^0011", "ipsec.sas[0].key",
			"key: expected 64 hex digits (32 bytes for "
			"aes-256-gcm), got 32"},
		{SAK("aes-128-gcm", "      key: " K16 "\n      salt: 010203\n"),
			"salt: ^0102", "ipsec.sas[0].salt",
			"salt: expected 8 hex digits (4 bytes for "
			"aes-128-gcm), "
			"got 6"},
		{SAK("aes-128-gcm", "      key: " K16 "\n"), "    - ^name: s",
			"ipsec.sas[0]",
			"missing required key 'salt' (aes-128-gcm takes key "
			"(16 "
			"bytes) and salt (4 bytes))"},
		{SAK("aes-128-gcm", "      key: " K16 "\n      salt: 01020304\n"
				    "      auth_key: " K32 "\n"),
			"      ^auth_key", "ipsec.sas[0].auth_key",
			"auth_key is not used by aes-128-gcm"},
		{SAK("aes-128-cbc-hmac-sha256",
			 "      key: " K16 "\n      auth_key: " K20 "\n"),
			"auth_key: ^0011", "ipsec.sas[0].auth_key",
			"auth_key: expected 64 hex digits (32 bytes for "
			"aes-128-cbc-hmac-sha256), got 40"},
		{SAK("aes-128-cbc-hmac-sha1",
			 "      key: " K16 "\n      auth_key: " K32 "\n"),
			"auth_key: ^0011", "ipsec.sas[0].auth_key",
			"auth_key: expected 40 hex digits (20 bytes for "
			"aes-128-cbc-hmac-sha1), got 64"},
		{SAK("aes-256-cbc-hmac-sha256",
			 "      key: " K32 "\n      salt: 01020304\n"
			 "      auth_key: " K32 "\n"),
			"      ^salt", "ipsec.sas[0].salt",
			"salt is not used by aes-256-cbc-hmac-sha256"},
		{SAK("hmac-sha256",
			 "      protocol: ah\n      auth_key: " K16 "\n"),
			"auth_key: ^0011", "ipsec.sas[0].auth_key",
			"auth_key: expected 64 hex digits (32 bytes for "
			"hmac-sha256), got 32"},
		{SAK("hmac-sha1", "      protocol: ah\n      key: " K16
				  "\n      auth_key: " K20 "\n"),
			"      ^key:", "ipsec.sas[0].key",
			"key is not used by hmac-sha1 (hmac-sha1 takes "
			"auth_key "
			"(20 bytes))"},
		{SAK("aes-128-gcm",
			 "      key: zz112233445566778899aabbccddeeff\n"
			 "      salt: 01020304\n"),
			"key: ^zz", "ipsec.sas[0].key",
			"key is not hexadecimal: expected 32 hex digits (16 "
			"bytes for aes-128-gcm)"},
		{SAK("aes-128-gcm",
			 "      key: [1, 2]\n      salt: 01020304\n"),
			"key: ^[1", "ipsec.sas[0].key",
			"key: expected hex digits, got a list"},
		{SAK("aes-128-gcm", ""), "    - ^name: s", "ipsec.sas[0]",
			"missing the keys: aes-128-gcm takes key (16 bytes) "
			"and "
			"salt (4 bytes), or key_file"},
		{SAK("aes-128-gcm", "      key: " K16 "\n      salt: 01020304\n"
				    "      key_file: k.yaml\n"),
			"      ^key_file", "ipsec.sas[0].key_file",
			"key_file and key, salt or auth_key: give the keys in "
			"one place"},
	};

	CHECK_BAD_AT(t);
}

/* A key in a message would end up in logs and terminals: a wrong
 * length, a bad character, a key given to an algorithm that does not
 * use it, a bad key file line: no message holds the key's digits. */
static void
test_config_ipsec_errors_never_show_keys(void)
{
	static const char *const yaml[] = {
		SAK("aes-128-gcm", "      key: deadbeefcafef00d1122\n"
				   "      salt: 0a0b0c0d0e\n"),
		SAK("aes-128-gcm",
			"      key: deadbeefcafef00dXX22334455667788\n"
			"      salt: 0a0b0c0d\n"),
		SAK("hmac-sha256",
			"      protocol: ah\n      key: deadbeefcafef00d\n"
			"      auth_key: deadbeefcafef00d\n"),
		SAK("aes-128-gcm", "      key: deadbeefcafef00d\n"
				   "      salt: [0a0b0c0d]\n"),
	};
	size_t i;

	for (i = 0; i < sizeof(yaml) / sizeof(yaml[0]); i++) {
		struct tg_config *cfg = NULL;
		const char *out;

		CU_ASSERT_EQUAL(tg_config_parse("t.yaml", yaml[i],
					strlen(yaml[i]), &cfg, &errs),
			-EINVAL);
		out = printed();
		CU_ASSERT(errs.n >= 1);
		CU_ASSERT_PTR_NULL(strstr(out, "deadbeef"));
		CU_ASSERT_PTR_NULL(strstr(out, "cafe"));
		CU_ASSERT_PTR_NULL(strstr(out, "0a0b0c0d"));
		if (strstr(out, "deadbeef") != NULL)
			fprintf(stderr, "\n%s", out);
	}
}

/* --------------------------------------------------------- policies */

static void
test_config_ipsec_rejects_bad_policies(void)
{
#define POL(rest) SAS SA_O SA_I POLS "    - {name: p, " rest "}\n"
	static const struct bad_at t[] = {
		{POL("direction: outbound, action: protect"), "    - ^{name: p",
			"ipsec.policies[0]",
			"missing required key 'sa' (a protect policy names its "
			"SA)"},
		{POL("direction: both, action: protect"), "    - ^{name: p",
			"ipsec.policies[0]",
			"missing required key 'sa' (a protect policy names its "
			"SAs: sa: {outbound: NAME, inbound: NAME})"},
		{POL("direction: both, action: protect, sa: o1"), "sa: ^o1}",
			"ipsec.policies[0].sa",
			"a protect policy with direction both needs an SA for "
			"each direction: sa: {outbound: NAME, inbound: NAME}"},
		{POL("direction: outbound, action: protect, sa: {outbound: o1, "
		     "inbound: i1}"),
			"sa: ^{", "ipsec.policies[0].sa",
			"a pair of SAs is for direction both: this outbound "
			"policy names one SA (sa: NAME)"},
		{POL("direction: outbound, action: protect, sa: i1"), "sa: ^i1",
			"ipsec.policies[0].sa",
			"SA 'i1' is inbound: the outbound side of a policy is "
			"protected by an outbound SA"},
		{POL("direction: inbound, action: protect, sa: o1"), "sa: ^o1",
			"ipsec.policies[0].sa",
			"SA 'o1' is outbound: the inbound side of a policy is "
			"protected by an inbound SA"},
		{POL("direction: both, action: protect, sa: {outbound: o1, "
		     "inbound: o1}"),
			"inbound: ^o1", "ipsec.policies[0].sa.inbound",
			"SA 'o1' is outbound: the inbound side"},
		{POL("direction: outbound, action: protect, sa: nope"),
			"sa: ^nope", "ipsec.policies[0].sa",
			"unknown SA 'nope'"},
		{POL("direction: both, action: protect, sa: {outbound: o1}"),
			"sa: ^{", "ipsec.policies[0].sa",
			"missing required key 'inbound'"},
		{POL("direction: outbound, action: allow, sa: o1"), "^sa: o1",
			"ipsec.policies[0].sa",
			"sa is for action: protect (an allow or block policy "
			"uses no SA)"},
		{POL("direction: sideways, action: allow"), "direction: ^side",
			"ipsec.policies[0].direction",
			"unknown direction 'sideways': outbound, inbound or "
			"both"},
		{POL("direction: outbound, action: encrypt"),
			"action: ^encrypt", "ipsec.policies[0].action",
			"unknown action 'encrypt': allow, block or protect"},
		{POL("action: allow"), "    - ^{name: p", "ipsec.policies[0]",
			"missing required key 'direction'"},
		{POL("direction: outbound, action: allow, src: 10.0.0.1/24"),
			"src: ^10.0.0.1/24", "ipsec.policies[0].src",
			"host bits are set in '10.0.0.1/24': the prefix should "
			"be 10.0.0.0/24"},
		{POL("direction: outbound, action: allow, dst: 300.1.1.1"),
			"dst: ^300", "ipsec.policies[0].dst",
			"invalid address or prefix '300.1.1.1'"},
		{POL("direction: outbound, action: allow, protocol: tcpx"),
			"protocol: ^tcpx", "ipsec.policies[0].protocol",
			"unknown protocol 'tcpx': any, icmp, tcp, udp, gre, "
			"esp, "
			"ah or a number 0..255"},
		{POL("direction: outbound, action: allow, protocol: 256"),
			"protocol: ^256", "ipsec.policies[0].protocol",
			"out of range: 256 (expected 0..255)"},
		{POL("direction: outbound, action: allow, protocol: icmp, "
		     "dst_port: 80"),
			"^dst_port", "ipsec.policies[0].dst_port",
			"dst_port needs protocol: tcp or udp (the policy's "
			"protocol is icmp)"},
		{POL("direction: outbound, action: allow, src_port: 80"),
			"^src_port", "ipsec.policies[0].src_port",
			"src_port needs protocol: tcp or udp (the policy's "
			"protocol is any)"},
		{POL("direction: outbound, action: allow, protocol: tcp, "
		     "dst_port: 90-80"),
			"dst_port: ^90", "ipsec.policies[0].dst_port",
			"a range must go upwards (like 80-90), got '90-80'"},
		{POL("direction: outbound, action: allow, protocol: udp, "
		     "src_port: 70000"),
			"src_port: ^70000", "ipsec.policies[0].src_port",
			"out of range: 70000 (expected 0..65535)"},
		{SAS SA_O POLS
			"    - {name: p, direction: outbound, action: allow}\n"
			"    - {name: p, direction: inbound, action: block}\n",
			"- {name: ^p, direction: inbound",
			"ipsec.policies[1].name",
			"policy 'p' is defined twice (first at line 13)"},
	};

	CHECK_BAD_AT(t);
}

/* Every error of a bad section, not only the first. */
static void
test_config_ipsec_collects_all_errors(void)
{
	static const char yaml[] = SAS SA_T("a", "1", "outbound")
		SA_TS("a", "0x1000", "inbound", "0a0b0c0d") POLS
		"    - {name: p, direction: outbound, action: protect, sa: x}\n"
		"    - {name: q, direction: both, action: nothing}\n";
	struct tg_config *cfg = NULL;

	CU_ASSERT_EQUAL(
		tg_config_parse("t.yaml", yaml, strlen(yaml), &cfg, &errs),
		-EINVAL);
	CU_ASSERT_EQUAL(errs.n, 4); /* SPI, name, sa, action */
	if (errs.n != 4)
		dump_errors(yaml);
}

/* ------------------------------------------------------------ model */

static const char full_yaml[] =
	IPSEC "  enabled: true\n"
	      "  policy_order: as-written\n"
	      "  allow_authenticated_bypass: true\n"
	      "  crypto_device: \"crypto_aesni_mb,max_nb_queue_pairs=2\"\n"
	      "  policies:\n"
	      "    - name: web\n"
	      "      src: 10.0.0.0/24\n"
	      "      dst: 203.0.113.0/24\n"
	      "      protocol: tcp\n"
	      "      src_port: 1024-65535\n"
	      "      dst_port: 80\n"
	      "      direction: both\n"
	      "      action: protect\n"
	      "      sa: {outbound: t-out, inbound: t-in}\n"
	      "    - name: ike\n"
	      "      protocol: udp\n"
	      "      dst_port: 500\n"
	      "      direction: inbound\n"
	      "      action: allow\n"
	      "    - name: old\n"
	      "      dst: 198.51.100.7\n"
	      "      protocol: 47\n"
	      "      direction: outbound\n"
	      "      action: protect\n"
	      "      sa: ah-out\n"
	      "    - name: rest\n"
	      "      src: any\n"
	      "      direction: both\n"
	      "      action: block\n"
	      "  sas:\n"
	      "    - name: t-out\n"
	      "      spi: 0x1000\n"
	      "      direction: outbound\n"
	      "      mode: tunnel\n"
	      "      local: 192.0.2.1\n"
	      "      remote: 203.0.113.1\n"
	      "      algorithm: aes-256-gcm\n"
	      "      key: " K32 "\n"
	      "      salt: 0a0b0c0d\n"
	      "      replay_window: 128\n"
	      "      esn: true\n"
	      "      lifetime: {soft_packets: 1000, hard_packets: 2000, "
	      "hard_bytes: 5000000000}\n"
	      "    - name: t-in\n"
	      "      spi: 4096\n"
	      "      direction: inbound\n"
	      "      protocol: esp\n"
	      "      mode: tunnel\n"
	      "      local: 192.0.2.1\n"
	      "      remote: 203.0.113.1\n"
	      "      algorithm: aes-128-cbc-hmac-sha256\n"
	      "      key: 0x" K16 "\n"
	      "      auth_key: " K32 "\n"
	      "      replay_window: 0\n"
	      "    - name: ah-out\n"
	      "      spi: 4294967295\n"
	      "      direction: outbound\n"
	      "      protocol: ah\n"
	      "      mode: transport\n"
	      "      algorithm: hmac-sha1\n"
	      "      auth_key: " K20 "\n";

static const uint8_t k16[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

static void
test_config_ipsec_reads_every_key(void)
{
	struct tg_config *cfg = parse_ok(full_yaml);
	const struct tg_cfg_ipsec *ip;
	const struct tg_cfg_ipsec_policy *p;
	const struct tg_cfg_ipsec_sa *s;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	ip = &cfg->ipsec;
	CU_ASSERT(ip->present && ip->enabled);
	CU_ASSERT_EQUAL(ip->policy_order, TG_CFG_IPSEC_ORDER_AS_WRITTEN);
	CU_ASSERT(ip->allow_authenticated_bypass);
	CU_ASSERT_STRING_EQUAL(
		ip->crypto_device, "crypto_aesni_mb,max_nb_queue_pairs=2");
	CU_ASSERT_EQUAL(ip->pos.line, 10);
	CU_ASSERT_EQUAL_FATAL(ip->n_policies, 4);
	CU_ASSERT_EQUAL_FATAL(ip->n_sas, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip->order);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(ip->order[i], i); /* as-written */

	p = &ip->policies[0];
	CU_ASSERT_STRING_EQUAL(p->name, "web");
	CU_ASSERT_EQUAL(p->src, 0x0a000000);
	CU_ASSERT_EQUAL(p->src_len, 24);
	CU_ASSERT_EQUAL(p->dst, 0xcb007100);
	CU_ASSERT_EQUAL(p->dst_len, 24);
	CU_ASSERT(!p->any_proto);
	CU_ASSERT_EQUAL(p->proto, 6);
	CU_ASSERT_EQUAL(p->sport_lo, 1024);
	CU_ASSERT_EQUAL(p->sport_hi, 65535);
	CU_ASSERT_EQUAL(p->dport_lo, 80);
	CU_ASSERT_EQUAL(p->dport_hi, 80);
	CU_ASSERT_EQUAL(p->dir, TG_CFG_IPSEC_BOTH);
	CU_ASSERT_EQUAL(p->action, TG_CFG_IPSEC_PROTECT);
	CU_ASSERT_EQUAL(p->sa_out, 0);
	CU_ASSERT_EQUAL(p->sa_in, 1);
	CU_ASSERT_EQUAL(p->pos.line, 15);
	CU_ASSERT_EQUAL(p->pos.col, 7);

	p = &ip->policies[1];
	CU_ASSERT_STRING_EQUAL(p->name, "ike");
	CU_ASSERT_EQUAL(p->src_len, 0);
	CU_ASSERT_EQUAL(p->dst_len, 0);
	CU_ASSERT_EQUAL(p->proto, 17);
	CU_ASSERT_EQUAL(p->sport_lo, 0);
	CU_ASSERT_EQUAL(p->sport_hi, 65535);
	CU_ASSERT_EQUAL(p->dport_lo, 500);
	CU_ASSERT_EQUAL(p->dport_hi, 500);
	CU_ASSERT_EQUAL(p->dir, TG_CFG_IPSEC_IN);
	CU_ASSERT_EQUAL(p->action, TG_CFG_IPSEC_ALLOW);
	CU_ASSERT_EQUAL(p->sa_out, TG_CFG_IPSEC_NO_SA);
	CU_ASSERT_EQUAL(p->sa_in, TG_CFG_IPSEC_NO_SA);

	p = &ip->policies[2];
	CU_ASSERT_EQUAL(p->dst, 0xc6336407);
	CU_ASSERT_EQUAL(p->dst_len, 32);
	CU_ASSERT_EQUAL(p->proto, 47);
	CU_ASSERT_EQUAL(p->dir, TG_CFG_IPSEC_OUT);
	CU_ASSERT_EQUAL(p->sa_out, 2);
	CU_ASSERT_EQUAL(p->sa_in, TG_CFG_IPSEC_NO_SA);

	p = &ip->policies[3];
	CU_ASSERT(p->any_proto);
	CU_ASSERT_EQUAL(p->action, TG_CFG_IPSEC_BLOCK);
	CU_ASSERT_EQUAL(p->dir, TG_CFG_IPSEC_BOTH);

	s = &ip->sas[0];
	CU_ASSERT_STRING_EQUAL(s->name, "t-out");
	CU_ASSERT_EQUAL(s->spi, 0x1000);
	CU_ASSERT_EQUAL(s->dir, TG_CFG_IPSEC_OUT);
	CU_ASSERT_EQUAL(s->proto, TG_CFG_IPSEC_ESP);
	CU_ASSERT_EQUAL(s->mode, TG_CFG_IPSEC_TUNNEL);
	CU_ASSERT_EQUAL(s->local, 0xc0000201);
	CU_ASSERT_EQUAL(s->remote, 0xcb007101);
	CU_ASSERT_EQUAL(s->local_iface, 1); /* wan0 */
	CU_ASSERT_EQUAL(s->alg, TG_CFG_IPSEC_AES_256_GCM);
	CU_ASSERT_EQUAL(s->keys.key_len, 32);
	CU_ASSERT(memcmp(s->keys.key, k16, 16) == 0);
	CU_ASSERT(memcmp(s->keys.key + 16, k16, 16) == 0);
	CU_ASSERT_EQUAL(s->keys.salt_len, 4);
	CU_ASSERT_EQUAL(s->keys.salt[0], 0x0a);
	CU_ASSERT_EQUAL(s->keys.salt[3], 0x0d);
	CU_ASSERT_EQUAL(s->keys.auth_key_len, 0);
	CU_ASSERT(!s->from_key_file);
	CU_ASSERT_EQUAL(s->replay_window, 128);
	CU_ASSERT(s->esn);
	CU_ASSERT_EQUAL(s->lifetime.soft_packets, 1000);
	CU_ASSERT_EQUAL(s->lifetime.hard_packets, 2000);
	CU_ASSERT_EQUAL(s->lifetime.soft_bytes, 0);
	CU_ASSERT_EQUAL(s->lifetime.hard_bytes, 5000000000ull);

	s = &ip->sas[1];
	CU_ASSERT_EQUAL(s->spi, 4096); /* the same SPI, other direction */
	CU_ASSERT_EQUAL(s->dir, TG_CFG_IPSEC_IN);
	CU_ASSERT_EQUAL(s->alg, TG_CFG_IPSEC_AES_128_CBC_SHA256);
	CU_ASSERT_EQUAL(s->keys.key_len, 16);
	CU_ASSERT(memcmp(s->keys.key, k16, 16) == 0);
	CU_ASSERT_EQUAL(s->keys.salt_len, 0);
	CU_ASSERT_EQUAL(s->keys.auth_key_len, 32);
	CU_ASSERT_EQUAL(s->replay_window, 0);
	CU_ASSERT(!s->esn);

	s = &ip->sas[2];
	CU_ASSERT_EQUAL(s->spi, 0xffffffffu);
	CU_ASSERT_EQUAL(s->dir, TG_CFG_IPSEC_OUT);
	CU_ASSERT_EQUAL(s->proto, TG_CFG_IPSEC_AH);
	CU_ASSERT_EQUAL(s->mode, TG_CFG_IPSEC_TRANSPORT);
	CU_ASSERT_EQUAL(s->local, 0);
	CU_ASSERT_EQUAL(s->remote, 0);
	CU_ASSERT_EQUAL(s->alg, TG_CFG_IPSEC_AH_HMAC_SHA1);
	CU_ASSERT_EQUAL(s->keys.key_len, 0);
	CU_ASSERT_EQUAL(s->keys.auth_key_len, 20);
	CU_ASSERT(memcmp(s->keys.auth_key, k16, 16) == 0);
	CU_ASSERT_EQUAL(s->keys.auth_key[16], 0x01);
	CU_ASSERT_EQUAL(s->replay_window, 64); /* the default */
	CU_ASSERT_EQUAL(s->lifetime.hard_bytes, 0);
	tg_config_free(cfg);
}

/* An SPI is unique per direction and protocol: the same SPI for an ESP
 * and an AH SA of one direction, or for both directions, is fine. */
static void
test_config_ipsec_spi_per_direction_and_protocol(void)
{
	static const char yaml[] = SAS SA_O SA_I
		"    - {name: a1, spi: 4096, direction: outbound, protocol: "
		"ah, "
		"mode: transport, algorithm: hmac-sha256, auth_key: " K32 "}\n";
	struct tg_config *cfg = parse_ok(yaml);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->ipsec.n_sas, 3);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[2].spi, 4096);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[2].proto, TG_CFG_IPSEC_AH);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[2].keys.auth_key_len, 32);
	tg_config_free(cfg);
}

static void
test_config_ipsec_defaults(void)
{
	struct tg_config *cfg = parse_ok(BASE);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT(!cfg->ipsec.present);
	CU_ASSERT(!cfg->ipsec.enabled);
	CU_ASSERT_EQUAL(cfg->ipsec.n_policies, 0);
	CU_ASSERT_EQUAL(cfg->ipsec.n_sas, 0);
	CU_ASSERT_STRING_EQUAL(cfg->ipsec.crypto_device, "crypto_aesni_mb");
	tg_config_free(cfg);

	cfg = parse_ok(IPSEC "  enabled: false\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT(cfg->ipsec.present);
	CU_ASSERT(!cfg->ipsec.enabled);
	CU_ASSERT_EQUAL(
		cfg->ipsec.policy_order, TG_CFG_IPSEC_ORDER_SPECIFICITY);
	CU_ASSERT(!cfg->ipsec.allow_authenticated_bypass);
	CU_ASSERT_STRING_EQUAL(cfg->ipsec.crypto_device, "crypto_aesni_mb");
	tg_config_free(cfg);
}

/* --------------------------------------------------------- key_file */

static char dir[64];

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* The configuration in the temporary directory, key_file @p kf
 * (relative to it) on line 16, column 17. */
#define KF_SA(alg, kf)                                                         \
	SAS "    - name: s\n      spi: 300\n      direction: outbound\n"       \
	    "      mode: transport\n      algorithm: " alg "\n"                \
	    "      key_file: " kf "\n"

static int
load_kf(const char *yaml, struct tg_config **cfg)
{
	char path[128];

	write_file("tg.yaml", yaml);
	snprintf(path, sizeof(path), "%s/tg.yaml", dir);
	*cfg = NULL;
	return tg_config_load(path, cfg, &errs);
}

static void
test_config_ipsec_key_file(void)
{
	struct tg_config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(
		mkdtemp(strcpy(dir, "/tmp/tgipsecXXXXXX")));
	write_file("gcm.keys", "# sa s\nkey: " K16 "\nsalt: \"0a0b0c0d\"\n");
	CU_ASSERT_EQUAL(load_kf(KF_SA("aes-128-gcm", "gcm.keys"), &cfg), 0);
	if (cfg == NULL)
		dump_errors("key_file");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT(cfg->ipsec.sas[0].from_key_file);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[0].keys.key_len, 16);
	CU_ASSERT(memcmp(cfg->ipsec.sas[0].keys.key, k16, 16) == 0);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[0].keys.salt_len, 4);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[0].keys.salt[3], 0x0d);
	tg_config_free(cfg);

	write_file("sha1.keys", "key: " K16 "\nauth_key: " K20 "\n");
	CU_ASSERT_EQUAL(
		load_kf(KF_SA("aes-128-cbc-hmac-sha1", "sha1.keys"), &cfg), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_EQUAL(cfg->ipsec.sas[0].keys.auth_key_len, 20);
	tg_config_free(cfg);
}

static void
test_config_ipsec_rejects_bad_key_file(void)
{
	static const struct {
		const char *name, *text, *msg;
	} t[] = {
		{"missing.keys", NULL,
			"key_file 'missing.keys': cannot read /tmp/tgipsec"},
		{"short.keys", "key: deadbeefcafe\nsalt: 0a0b0c0d\n",
			"key_file 'short.keys': line 1: key: expected 32 hex "
			"digits (16 bytes for aes-128-gcm), got 12"},
		{"nosalt.keys", "key: " K16 "\n",
			"key_file 'nosalt.keys': missing required key 'salt' "
			"(aes-128-gcm takes key (16 bytes) and salt (4 "
			"bytes))"},
		{"hex.keys", "key: " K16 "\nsalt: 0a0b0c0g\n",
			"key_file 'hex.keys': line 2: salt is not hexadecimal"},
		{"extra.keys", "key: " K16 "\nsalt: 0a0b0c0d\nspi: 300\n",
			"key_file 'extra.keys': line 3: unknown key 'spi' "
			"(valid "
			"keys: key, salt, auth_key)"},
		{"twice.keys", "key: " K16 "\nsalt: 0a0b0c0d\nkey: " K16 "\n",
			"key_file 'twice.keys': line 3: duplicate key 'key'"},
		{"list.keys", "- " K16 "\n",
			"key_file 'list.keys': line 1: expected a mapping of "
			"key, salt and auth_key (hex)"},
		{"empty.keys", "",
			"key_file 'empty.keys': expected a mapping of key, "
			"salt "
			"and auth_key (hex)"},
		{"syntax.keys", "key: [" K16 "\nsalt: 0a0b0c0d\n",
			"key_file 'syntax.keys': line 2: not YAML: did not "
			"find "
			"expected ',' or ']'"},
		{"auth.keys",
			"key: " K16 "\nsalt: 0a0b0c0d\nauth_key: " K32 "\n",
			"key_file 'auth.keys': line 3: auth_key is not used by "
			"aes-128-gcm"},
		{".", NULL, "key_file '.': /tmp/tgipsec"},
	};
	char yaml[1024], path[128];
	struct tg_config *cfg;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		bool ok;

		if (t[i].text != NULL)
			write_file(t[i].name, t[i].text);
		snprintf(yaml, sizeof(yaml), KF_SA("aes-128-gcm", "%s"),
			t[i].name);
		ok = load_kf(yaml, &cfg) == -EINVAL && cfg == NULL &&
		     errs.n == 1 && errs.e[0].line == 16 &&
		     errs.e[0].col == 17 &&
		     strcmp(errs.e[0].path, "ipsec.sas[0].key_file") == 0 &&
		     strstr(errs.e[0].msg, t[i].msg) != NULL &&
		     strstr(errs.e[0].msg, "deadbeef") == NULL;
		if (!ok) {
			fprintf(stderr, "\nexpected 16:17 ...%s...", t[i].msg);
			dump_errors(yaml);
		}
		CU_ASSERT(ok);
		tg_config_free(cfg);
	}
	/* a file nobody may read (not as root: root reads it anyway) */
	write_file("secret.keys", "key: " K16 "\nsalt: 0a0b0c0d\n");
	snprintf(path, sizeof(path), "%s/secret.keys", dir);
	chmod(path, 0);
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(
			load_kf(KF_SA("aes-128-gcm", "secret.keys"), &cfg),
			-EINVAL);
		CU_ASSERT(errs.n == 1 &&
			  strstr(errs.e[0].msg, "Permission denied") != NULL);
		tg_config_free(cfg);
	}
	snprintf(yaml, sizeof(yaml), "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(yaml), 0);
}

/* ------------------------------------------------------------ order */

static struct tg_cfg_ipsec_policy
pol(uint8_t src_len, uint8_t dst_len, int proto, uint16_t sp_lo, uint16_t sp_hi,
	uint16_t dp_lo, uint16_t dp_hi)
{
	struct tg_cfg_ipsec_policy p = {
		.src_len = src_len,
		.dst_len = dst_len,
		.any_proto = proto < 0,
		.proto = proto < 0 ? 0 : (uint8_t)proto,
		.sport_lo = sp_lo,
		.sport_hi = sp_hi,
		.dport_lo = dp_lo,
		.dport_hi = dp_hi,
	};

	return p;
}

#define ANYP 0, 65535

static void
expect_order(const struct tg_cfg_ipsec_policy *p, uint32_t n, uint8_t rule,
	const uint32_t *want, int line)
{
	uint32_t got[8], i;
	bool ok;

	CU_ASSERT_EQUAL_FATAL(tg_cfg_ipsec_order(p, n, rule, got), 0);
	ok = memcmp(got, want, n * sizeof(*got)) == 0;
	if (!ok) {
		fprintf(stderr, "\nline %d: order", line);
		for (i = 0; i < n; i++)
			fprintf(stderr, " %u", got[i]);
	}
	CU_ASSERT(ok);
}

static void
test_config_ipsec_order_specificity(void)
{
	/* 1. addresses decide before protocol and ports: /24 any beats a
	 * tcp port 80 policy on any address */
	const struct tg_cfg_ipsec_policy a[] = {
		pol(0, 0, 6, ANYP, 80, 80),
		pol(24, 0, -1, ANYP, ANYP),
	};
	const uint32_t wa[] = {1, 0};
	/* the sum of src and dst lengths counts: /16 + /16 beats /24 + /0;
	 * /16 + /16, /32 + /0 and /8 + /24 tie (written order) */
	const struct tg_cfg_ipsec_policy b[] = {
		pol(24, 0, -1, ANYP, ANYP),
		pol(16, 16, -1, ANYP, ANYP),
		pol(32, 0, -1, ANYP, ANYP),
		pol(8, 24, -1, ANYP, ANYP),
	};
	const uint32_t wb[] = {1, 2, 3, 0};
	/* 2. same addresses: a specific protocol before any */
	const struct tg_cfg_ipsec_policy c[] = {
		pol(24, 24, -1, ANYP, ANYP),
		pol(24, 24, 50, ANYP, ANYP),
	};
	const uint32_t wc[] = {1, 0};
	/* 3. same addresses and both specific: fewer port pairs first;
	 * tcp 80 (1 x 65536) before tcp 80-90 (11 x 65536); a source port
	 * and a destination port (1 x 1) before both */
	const struct tg_cfg_ipsec_policy d[] = {
		pol(24, 24, 6, ANYP, 80, 90),
		pol(24, 24, 6, ANYP, 80, 80),
		pol(24, 24, 17, 5000, 5000, 53, 53),
		pol(24, 24, 50, ANYP, ANYP),
	};
	const uint32_t wd[] = {2, 1, 0, 3};
	/* 4. ties keep the written order */
	const struct tg_cfg_ipsec_policy e[] = {
		pol(24, 0, 6, ANYP, 80, 80),
		pol(0, 24, 17, ANYP, 80, 80),
		pol(24, 0, 6, ANYP, 80, 80),
	};
	const uint32_t we[] = {0, 1, 2};
	const uint32_t as_written[] = {0, 1, 2, 3};

	expect_order(a, 2, TG_CFG_IPSEC_ORDER_SPECIFICITY, wa, __LINE__);
	expect_order(b, 4, TG_CFG_IPSEC_ORDER_SPECIFICITY, wb, __LINE__);
	expect_order(c, 2, TG_CFG_IPSEC_ORDER_SPECIFICITY, wc, __LINE__);
	expect_order(d, 4, TG_CFG_IPSEC_ORDER_SPECIFICITY, wd, __LINE__);
	expect_order(e, 3, TG_CFG_IPSEC_ORDER_SPECIFICITY, we, __LINE__);
	expect_order(d, 4, TG_CFG_IPSEC_ORDER_AS_WRITTEN, as_written, __LINE__);
}

/* The default policy_order gives the model its evaluation order. */
static void
test_config_ipsec_order_in_model(void)
{
	static const char yaml[] = IPSEC POLS
		"    - {name: all, direction: both, action: block}\n"
		"    - {name: web, protocol: tcp, dst_port: 80, direction: "
		"outbound, action: allow}\n"
		"    - {name: net, dst: 203.0.113.0/24, direction: outbound, "
		"action: allow}\n"
		"    - {name: any, protocol: any, direction: inbound, action: "
		"allow}\n";
	const uint32_t want[] = {2, 1, 0, 3};
	struct tg_config *cfg = parse_ok(yaml);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->ipsec.order);
	CU_ASSERT(memcmp(cfg->ipsec.order, want, sizeof(want)) == 0);
	tg_config_free(cfg);
}

/* ------------------------------------------------- not built yet */

static void
test_config_ipsec_truncated_or_corrupt_input_never_crashes(void)
{
	static const char bytes[] = {'\0', ':', '[', '-', ' ', '\n', 'x'};

	CU_ASSERT_EQUAL(tg_test_cfg_mangle(full_yaml, strlen(BASE), bytes,
				sizeof(bytes), NULL),
		0);
}

int
main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	tg_test_suite("config_ipsec", NULL, NULL,
		"test_config_ipsec_rejects_bad_section",
		test_config_ipsec_rejects_bad_section,
		"test_config_ipsec_rejects_bad_spi",
		test_config_ipsec_rejects_bad_spi,
		"test_config_ipsec_rejects_bad_sa_values",
		test_config_ipsec_rejects_bad_sa_values,
		"test_config_ipsec_rejects_bad_keys",
		test_config_ipsec_rejects_bad_keys,
		"test_config_ipsec_errors_never_show_keys",
		test_config_ipsec_errors_never_show_keys,
		"test_config_ipsec_rejects_bad_policies",
		test_config_ipsec_rejects_bad_policies,
		"test_config_ipsec_collects_all_errors",
		test_config_ipsec_collects_all_errors,
		"test_config_ipsec_reads_every_key",
		test_config_ipsec_reads_every_key,
		"test_config_ipsec_spi_per_direction_and_protocol",
		test_config_ipsec_spi_per_direction_and_protocol,
		"test_config_ipsec_defaults", test_config_ipsec_defaults,
		"test_config_ipsec_key_file", test_config_ipsec_key_file,
		"test_config_ipsec_rejects_bad_key_file",
		test_config_ipsec_rejects_bad_key_file,
		"test_config_ipsec_order_specificity",
		test_config_ipsec_order_specificity,
		"test_config_ipsec_order_in_model",
		test_config_ipsec_order_in_model,
		"test_config_ipsec_truncated_or_corrupt_input_never_crashes",
		test_config_ipsec_truncated_or_corrupt_input_never_crashes,
		NULL);
	return tg_test_run();
}
