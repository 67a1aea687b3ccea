/* SPDX-License-Identifier: BSD-3-Clause
 * natfw state store: the cuckoo index against a sorted-array reference,
 * mappings (endpoint independence, port preservation, exhaustion, reuse),
 * session limits, expiry on a fake clock against the exact deadlines,
 * the sequence protocol (one lcore and two), memory per session, and a
 * fill of 1,000,000 random sessions (TG_NAT_TEST_SESSIONS overrides the
 * count; 250,000 under AddressSanitizer).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_table.h"
#include "tg_test.h"

#define TCP		6
#define UDP		17
#define ICMP		1
#define GRE		47
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define PUB0		IP4(198, 51, 100, 1)
#define PUB1		IP4(198, 51, 100, 2)

#if defined(__SANITIZE_ADDRESS__)
#define FILL_DEFAULT 250000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FILL_DEFAULT 250000
#endif
#endif
#ifndef FILL_DEFAULT
#define FILL_DEFAULT 1000000
#endif

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const uint32_t pubs[2] = {PUB0, PUB1};

/* A small table: 2 public addresses, classes 10 and 30 units. */
static struct tg_nat_table_conf
small_conf(uint32_t max_sessions)
{
	return (struct tg_nat_table_conf){.max_sessions = max_sessions,
		.max_hosts = 64,
		.n_public = 2,
		.public_ips = pubs,
		.n_classes = 2,
		.timeouts = {10, 30},
		.socket = SOCKET_ID_ANY};
}

/* A mapping and a session, asserted; the session index. */
static uint32_t
mk(struct tg_nat_table *t, uint8_t proto, uint32_t pip, uint16_t pport,
	uint32_t rip, uint16_t rport, uint32_t now, uint8_t cls)
{
	uint32_t m = TG_NAT_NONE, s = TG_NAT_NONE;
	int rc = tg_nat_map_get_or_create(
		t, proto, pip, pport, 0, 1024, 65535, pport, &m);

	CU_ASSERT(rc == 0 || rc == 1);
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, m, rip, rport, now, cls, &s), 0);
	return s;
}

static struct tg_nat_key
key_in(const struct tg_nat_sess *s)
{
	return (struct tg_nat_key){.ip = s->priv_ip,
		.rem_ip = s->rem_ip,
		.port = s->priv_port,
		.rem_port = s->rem_port,
		.proto = s->proto};
}

static struct tg_nat_key
key_out(const struct tg_nat_sess *s)
{
	return (struct tg_nat_key){.ip = s->pub_ip,
		.rem_ip = s->rem_ip,
		.port = s->pub_port,
		.rem_port = s->rem_port,
		.proto = s->proto};
}

/* ------------------------------------------------------------- conf */

static void
test_nat_table_invalid_conf(void)
{
	struct tg_nat_table_conf c;
	struct tg_nat_table *t;
	size_t i;

#define BAD(stmt)                                                              \
	do {                                                                   \
		c = small_conf(16);                                            \
		stmt;                                                          \
		rte_errno = 0;                                                 \
		t = tg_nat_table_create(&c);                                   \
		CU_ASSERT_PTR_NULL(t);                                         \
		CU_ASSERT_EQUAL(rte_errno, EINVAL);                            \
		tg_nat_table_free(t);                                          \
	} while (0)
	BAD(c.max_sessions = 0);
	BAD(c.max_sessions = TG_NAT_MAX_ENTRIES + 1);
	BAD(c.max_mappings = TG_NAT_MAX_ENTRIES + 1);
	BAD(c.max_hosts = 0);
	BAD(c.n_public = 0);
	BAD(c.n_public = TG_NAT_MAX_PUBLIC + 1);
	BAD(c.public_ips = NULL);
	BAD(c.n_classes = 0);
	BAD(c.n_classes = TG_NAT_TMO_CLASSES + 1);
	BAD(c.timeouts[1] = 0);
	BAD(c.wheel_slots = 100);
	BAD(c.wheel_slots = 32);
	BAD(c.wheel_slots = TG_NAT_WHEEL_MAX * 2);
#undef BAD
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tg_nat_table_create(NULL));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	rte_errno = 0;
	CU_ASSERT_PTR_NULL(tg_nat_index_create(0, SOCKET_ID_ANY));
	CU_ASSERT_EQUAL(rte_errno, EINVAL);
	CU_ASSERT_EQUAL(tg_nat_table_memory(NULL, &i), -EINVAL);
	tg_nat_table_free(NULL);
	tg_nat_index_free(NULL);
}

static void
test_nat_table_create_free(void)
{
	struct tg_nat_table_conf c = small_conf(100);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_table_mem mem;
	struct tg_nat_sess copy;
	size_t bytes = 0;
	uint32_t i, out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tg_nat_table_memory(t, &bytes), 0);
	CU_ASSERT_EQUAL(tg_nat_table_memory_parts(t, &mem), 0);
	CU_ASSERT_EQUAL(bytes, mem.total);
	CU_ASSERT_EQUAL(mem.total, mem.sessions + mem.sess_index + mem.maps +
					   mem.map_index + mem.ports +
					   mem.hosts + mem.wheel + mem.other);
	CU_ASSERT(mem.sessions >= 100 * 64);
	CU_ASSERT_EQUAL(t->max_mappings, 100); /* default: max_sessions */
	CU_ASSERT_EQUAL(t->wheel_mask, 63);    /* 31 → the 64 minimum */
	CU_ASSERT_EQUAL(
		t->stats.sessions + t->stats.mappings + t->stats.hosts, 0);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(tg_nat_sess_read(t, i, &copy), -ENOENT);
	CU_ASSERT_EQUAL(tg_nat_sess_read(t, 100, &copy), -EINVAL);
	/* argument errors of the operations */
	CU_ASSERT_EQUAL(
		tg_nat_map_get_or_create(t, TCP, 1, 1, 2, 1024, 2047, 0, &out),
		-EINVAL); /* address 2 of 2 */
	CU_ASSERT_EQUAL(
		tg_nat_map_get_or_create(t, TCP, 1, 1, 0, 2048, 1024, 0, &out),
		-EINVAL);
	CU_ASSERT_EQUAL(
		tg_nat_map_get_or_create(t, 50, 1, 1, 0, 1024, 2047, 0, &out),
		-EPROTONOSUPPORT);
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, 0, 1, 1, 0, 0, &out), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_sess_delete(t, 0), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_sess_delete(t, 1000), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_sess_set_class(t, 0, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, 0), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, TCP, 1024), TG_NAT_NONE);
	tg_nat_table_free(t);
}

/* Bytes per session of a table of @p n sessions as tollgate would size
 * it, from the sizing rules (a projection, for sizes EAL cannot hold). */
static double
projected_per_session(double n, double hosts, double n_public)
{
	double ix_n = ((double)(uint64_t)((n * 100 / 90 + 7) / 8) + 1) * 64;
	double ix_h = ((double)(uint64_t)((hosts * 100 / 90 + 7) / 8) + 1) * 64;

	return (n * 64 + 3 * ix_n + n * 16 + hosts * 8 + ix_h +
		       n_public * 3 * (65536 * 4 + 8192)) /
	       n;
}

static void
test_nat_table_memory_1m(void)
{
	static const uint32_t pub16[16] = {0};
	struct tg_nat_table_conf c = {.max_sessions = 1000000,
		.max_hosts = 65536,
		.n_public = 16, /* 1 M mappings need 16 x 64 Ki ports */
		.public_ips = pub16,
		.n_classes = 4,
		.timeouts = {7440, 240, 300, 60},
		.socket = SOCKET_ID_ANY};
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_table_mem m;
	double per, p10;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tg_nat_table_memory_parts(t, &m), 0);
	per = (double)m.total / c.max_sessions;
	printf("\n    1 M sessions: %zu bytes, %.1f per session (sessions "
	       "%.1f, session indexes %.1f, mappings %.1f, mapping index "
	       "%.1f, ports %.1f, hosts %.1f, wheel+other %.2f)",
		m.total, per, (double)m.sessions / 1e6,
		(double)m.sess_index / 1e6, (double)m.maps / 1e6,
		(double)m.map_index / 1e6, (double)m.ports / 1e6,
		(double)m.hosts / 1e6, (double)(m.wheel + m.other) / 1e6);
	CU_ASSERT(per <= 128.0);
	/* the sizing rules agree with the allocation (within 0.1 %) */
	CU_ASSERT(projected_per_session(1e6, 65536, 16) <= per * 1.001 &&
		  projected_per_session(1e6, 65536, 16) >= per * 0.999);
	p10 = projected_per_session(1e7, 1048576, 160);
	printf("\n    10 M sessions (1 Mi hosts, 160 addresses): %.1f bytes "
	       "per session, %.2f GB projected",
		p10, p10 * 1e7 / 1e9);
	CU_ASSERT(p10 <= 128.0 && p10 * 1e7 <= 1.5e9);
	tg_nat_table_free(t);
}

/* ------------------------------------------------------------ index */

#define IX_CAP 4096

static uint64_t ix_keys[10000]; /* record idx → key */
static uint64_t ix_matches;	/* match calls */

static int
ix_match(const void *ctx, const void *key, uint32_t idx)
{
	ix_matches++;
	return ((const uint64_t *)ctx)[idx] == *(const uint64_t *)key;
}

static uint32_t
ix_hash(uint64_t k, bool coarse)
{
	uint32_t h = rte_hash_crc_8byte(k, 0x1234);

	/* coarse: 4,096 distinct hashes, so different keys share one */
	return coarse ? (h & 0xfff) * 0x9e3779b1u : h;
}

/* The reference: an open-addressing table of (key, idx), linear probing
 * with backward-shift deletion; key 0 is an empty slot (rnd() never
 * returns 0). */
struct ref_ent {
	uint64_t key;
	uint32_t idx;
};
#define REF_SIZE 16384 /* 4 x IX_CAP */
static struct ref_ent ref[REF_SIZE];
static uint32_t n_ref;

static uint32_t
ref_home(uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 50);
}

static uint32_t
ref_slot(uint64_t key)
{
	uint32_t i = ref_home(key);

	while (ref[i].key != 0 && ref[i].key != key)
		i = (i + 1) & (REF_SIZE - 1);
	return i;
}

static uint32_t
ref_find(uint64_t key)
{
	uint32_t i = ref_slot(key);

	return ref[i].key == key ? ref[i].idx : TG_NAT_NONE;
}

static void
ref_add(uint64_t key, uint32_t idx)
{
	ref[ref_slot(key)] = (struct ref_ent){key, idx};
	n_ref++;
}

static void
ref_del(uint64_t key)
{
	uint32_t i = ref_slot(key), j = i;

	for (;;) {
		uint32_t h;

		j = (j + 1) & (REF_SIZE - 1);
		if (ref[j].key == 0)
			break;
		h = ref_home(ref[j].key);
		/* move j back to the hole unless its home lies in (i, j] */
		if (((j - h) & (REF_SIZE - 1)) >= ((j - i) & (REF_SIZE - 1))) {
			ref[i] = ref[j];
			i = j;
		}
	}
	ref[i].key = 0;
	n_ref--;
}

/* A random entry (n_ref > 0). */
static struct ref_ent
ref_pick(void)
{
	uint32_t i;

	do
		i = (uint32_t)rnd() & (REF_SIZE - 1);
	while (ref[i].key == 0);
	return ref[i];
}

static uint32_t
ix_find(const struct tg_nat_index *ix, uint64_t key, bool coarse)
{
	return tg_nat_index_lookup(
		ix, ix_hash(key, coarse), ix_match, ix_keys, &key);
}

/* Every reference entry is found, and n_entries agrees. */
static bool
ix_check_all(const struct tg_nat_index *ix, bool coarse)
{
	uint32_t i, bad = 0;

	for (i = 0; i < REF_SIZE; i++)
		if (ref[i].key != 0)
			bad += ix_find(ix, ref[i].key, coarse) != ref[i].idx;
	return bad == 0 && ix->n_entries == n_ref;
}

static void
ix_random_round(bool coarse)
{
	/* 90 % of the index's capacity at most */
	struct tg_nat_index *ix = tg_nat_index_create(IX_CAP, SOCKET_ID_ANY);
	uint32_t free_idx[IX_CAP], n_free = IX_CAP;
	uint32_t op, bad_ins = 0, bad_find = 0, bad_miss = 0, bad_del = 0;
	uint64_t matches0 = ix_matches;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
	CU_ASSERT_EQUAL(ix->n_buckets, (IX_CAP * 100 / 90 + 1 + 7) / 8);
	for (op = 0; op < IX_CAP; op++)
		free_idx[op] = IX_CAP - 1 - op;
	memset(ref, 0, sizeof(ref));
	n_ref = 0;
	for (op = 0; op < 200000; op++) {
		uint32_t r = (uint32_t)(rnd() % 100);

		if (r < 45 && n_free > 0) {
			uint64_t k = rnd();
			uint32_t idx;

			if (ref_find(k) != TG_NAT_NONE)
				continue;
			idx = free_idx[--n_free];
			ix_keys[idx] = k;
			bad_ins += tg_nat_index_insert(
					   ix, ix_hash(k, coarse), idx) != 0;
			ref_add(k, idx);
		} else if (r < 75 && n_ref > 0) {
			struct ref_ent e = ref_pick();

			bad_find += ix_find(ix, e.key, coarse) != e.idx;
		} else if (r < 85) {
			uint64_t k = rnd();

			bad_miss += ix_find(ix, k, coarse) != ref_find(k);
		} else if (n_ref > 0) {
			struct ref_ent e = ref_pick();
			uint32_t h = ix_hash(e.key, coarse);

			bad_del += tg_nat_index_delete(ix, h, e.idx) != 0;
			bad_del += tg_nat_index_delete(ix, h, e.idx) != -ENOENT;
			ref_del(e.key);
			free_idx[n_free++] = e.idx;
		}
		if (op % 20000 == 0)
			CU_ASSERT(ix_check_all(ix, coarse));
	}
	CU_ASSERT_EQUAL(bad_ins, 0);
	CU_ASSERT_EQUAL(bad_find, 0);
	CU_ASSERT_EQUAL(bad_miss, 0);
	CU_ASSERT_EQUAL(bad_del, 0);
	CU_ASSERT(ix_check_all(ix, coarse));
	CU_ASSERT_EQUAL(ix->full, 0);
	printf("\n    %s hash: %u entries at the end, %" PRIu64
	       " moves, %.2f match calls per operation",
		coarse ? "coarse" : "crc", n_ref, ix->moves,
		(double)(ix_matches - matches0) / 200000);
	tg_nat_index_free(ix);
}

static void
test_nat_index_random_against_reference(void)
{
	ix_random_round(false);
	ix_random_round(true);
}

static void
test_nat_index_displacement_and_full(void)
{
	/* 7,200 entries at 90 %: 1,000 buckets, 8,000 slots */
	struct tg_nat_index *ix = tg_nat_index_create(7200, SOCKET_ID_ANY);
	uint32_t i, n, bad = 0;
	int rc = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
	CU_ASSERT_EQUAL(ix->n_buckets, 1000);
	for (i = 0; i < 7200; i++) {
		ix_keys[i] = rnd(); /* 64 random bits: distinct */
		bad += tg_nat_index_insert(ix, ix_hash(ix_keys[i], false), i) !=
		       0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(ix->moves > 0); /* displacement happened before 90 % */
	printf("\n    90 %% load: %" PRIu64 " moves", ix->moves);
	CU_ASSERT_EQUAL(ix->n_entries, 7200);
	/* beyond: until the path search gives up */
	for (n = 7200; n < 8000; n++) {
		ix_keys[n] = rnd();
		rc = tg_nat_index_insert(ix, ix_hash(ix_keys[n], false), n);
		if (rc != 0)
			break;
	}
	printf(", -ENOSPC at %u entries (%.1f %%)", n, n * 100.0 / 8000);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT(n > 7200);
	CU_ASSERT_EQUAL(ix->n_entries, n);
	CU_ASSERT_EQUAL(ix->full, 1);
	/* every entry, moved or not, is still found; the refused one not */
	bad = 0;
	for (i = 0; i < n; i++)
		bad += ix_find(ix, ix_keys[i], false) != i;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(ix_find(ix, ix_keys[n], false), TG_NAT_NONE);
	/* room again after deletes */
	for (i = 0; i < 400; i++)
		bad += tg_nat_index_delete(ix, ix_hash(ix_keys[i], false), i) !=
		       0;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(
		tg_nat_index_insert(ix, ix_hash(ix_keys[n], false), n), 0);
	CU_ASSERT_EQUAL(ix_find(ix, ix_keys[n], false), n);
	CU_ASSERT_EQUAL(tg_nat_index_insert(ix, 1, TG_NAT_NONE), -EINVAL);
	tg_nat_index_free(ix);
}

static void
test_nat_index_same_hash(void)
{
	struct tg_nat_index *ix = tg_nat_index_create(1000, SOCKET_ID_ANY);
	uint32_t i;
	uint64_t k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ix);
	/* 16 keys of one hash fill its two buckets; hash 0 is signature 1 */
	for (i = 0; i < 16; i++) {
		ix_keys[i] = 1000 + i;
		CU_ASSERT_EQUAL(tg_nat_index_insert(ix, 0, i), 0);
	}
	CU_ASSERT_EQUAL(tg_nat_index_insert(ix, 0, 16), -ENOSPC);
	for (i = 0; i < 16; i++) {
		k = 1000 + i;
		CU_ASSERT_EQUAL(
			tg_nat_index_lookup(ix, 0, ix_match, ix_keys, &k), i);
		CU_ASSERT_EQUAL(
			tg_nat_index_lookup(ix, 1, ix_match, ix_keys, &k), i);
	}
	k = 999;
	CU_ASSERT_EQUAL(
		tg_nat_index_lookup(ix, 0, ix_match, ix_keys, &k), TG_NAT_NONE);
	CU_ASSERT_EQUAL(tg_nat_index_delete(ix, 0, 7), 0);
	CU_ASSERT_EQUAL(tg_nat_index_delete(ix, 0, 7), -ENOENT);
	k = 1007;
	CU_ASSERT_EQUAL(
		tg_nat_index_lookup(ix, 0, ix_match, ix_keys, &k), TG_NAT_NONE);
	CU_ASSERT_EQUAL(tg_nat_index_insert(ix, 0, 16), 0);
	tg_nat_index_free(ix);
}

/* --------------------------------------------------------- mappings */

static void
test_nat_map_endpoint_independent(void)
{
	struct tg_nat_table_conf c = small_conf(64);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	uint32_t pip = IP4(10, 0, 0, 5), m1, m2, m3, s[3], i;
	struct tg_nat_key k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(
				t, UDP, pip, 5000, 0, 1024, 65535, 5000, &m1),
		1);
	CU_ASSERT_EQUAL(t->maps[m1].sessions, 0);
	for (i = 0; i < 3; i++) {
		/* a new remote asks again, maybe with another address and
		 * range: the same mapping (RFC 4787 REQ-1) */
		CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, pip, 5000, 1,
					2000, 3000, 2500, &m2),
			0);
		CU_ASSERT_EQUAL(m2, m1);
		CU_ASSERT_EQUAL(tg_nat_sess_create(t, m1, IP4(203, 0, 113, i),
					53, 0, 0, &s[i]),
			0);
		CU_ASSERT_EQUAL(t->maps[m1].sessions, i + 1);
		CU_ASSERT_EQUAL(t->sess[s[i]].pub_port, 5000);
		CU_ASSERT_EQUAL(t->sess[s[i]].pub_ip, PUB0);
	}
	CU_ASSERT_EQUAL(t->stats.mappings, 1);
	CU_ASSERT_EQUAL(t->stats.sessions, 3);
	CU_ASSERT_EQUAL(t->stats.hosts, 1);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_private(t, UDP, pip, 5000), m1);
	CU_ASSERT_EQUAL(
		tg_nat_map_lookup_private(t, TCP, pip, 5000), TG_NAT_NONE);
	/* endpoint-independent filtering: the public port answers whoever
	 * asks, for its protocol only */
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, UDP, 5000), m1);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, TCP, 5000), TG_NAT_NONE);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 1, UDP, 5000), TG_NAT_NONE);
	/* each session both ways */
	for (i = 0; i < 3; i++) {
		k = key_in(&t->sess[s[i]]);
		CU_ASSERT_EQUAL(tg_nat_sess_lookup_in2out(t, &k), s[i]);
		k = key_out(&t->sess[s[i]]);
		CU_ASSERT_EQUAL(tg_nat_sess_lookup_out2in(t, &k), s[i]);
		k.rem_port = 54; /* another remote port: no session */
		CU_ASSERT_EQUAL(tg_nat_sess_lookup_out2in(t, &k), TG_NAT_NONE);
	}
	/* the same session twice */
	CU_ASSERT_EQUAL(
		tg_nat_sess_create(t, m1, IP4(203, 0, 113, 0), 53, 0, 0, &i),
		-EEXIST);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_EXISTS], 1);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, m1), -EBUSY);
	/* ICMP and GRE share one port space and stay apart */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(
				t, ICMP, pip, 77, 0, 1, 65535, 77, &m2),
		1);
	CU_ASSERT_EQUAL(
		tg_nat_map_get_or_create(t, GRE, pip, 77, 0, 1, 65535, 77, &m3),
		1);
	CU_ASSERT_EQUAL(t->maps[m2].pub_port, 77);
	CU_ASSERT_NOT_EQUAL(t->maps[m3].pub_port, 77);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, ICMP, 77), m2);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, GRE, 77), TG_NAT_NONE);
	CU_ASSERT_EQUAL(
		tg_nat_map_lookup_public(t, 0, GRE, t->maps[m3].pub_port), m3);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, m2), 0);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, m3), 0);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, m3), -EINVAL);
	/* the mapping dies with its last session */
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(t->stats.mappings, 1);
		CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s[i]), 0);
	}
	CU_ASSERT_EQUAL(t->stats.mappings, 0);
	CU_ASSERT_EQUAL(t->stats.hosts, 0);
	CU_ASSERT_EQUAL(t->stats.maps_created, 3);
	CU_ASSERT_EQUAL(t->stats.maps_freed, 3);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, UDP, 5000), TG_NAT_NONE);
	CU_ASSERT_EQUAL(
		tg_nat_map_lookup_private(t, UDP, pip, 5000), TG_NAT_NONE);
	tg_nat_table_free(t);
}

static void
test_nat_map_port_preservation(void)
{
	struct tg_nat_table_conf c = small_conf(64);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	uint32_t a, b, d, e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* preferred and free: kept */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 1),
				40000, 0, 1024, 65535, 40000, &a),
		1);
	CU_ASSERT_EQUAL(t->maps[a].pub_port, 40000);
	/* another host, the same port: taken, so the cursor's next free */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 2),
				40000, 0, 1024, 65535, 40000, &b),
		1);
	CU_ASSERT_EQUAL(t->maps[b].pub_port, 1024);
	/* on the other address, or for UDP, it is free */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 0, 2),
				40000, 0, 1024, 65535, 40000, &d),
		1);
	CU_ASSERT_EQUAL(t->maps[d].pub_port, 40000);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 3),
				40000, 1, 1024, 65535, 40000, &e),
		1);
	CU_ASSERT_EQUAL(t->maps[e].pub_port, 40000);
	CU_ASSERT_EQUAL(t->maps[e].addr, 1);
	/* preferred outside the range: the cursor goes on */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 4), 80,
				0, 1024, 65535, 80, &e),
		1);
	CU_ASSERT_EQUAL(t->maps[e].pub_port, 1025);
	/* the cursor skips ports taken by preservation */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 5), 1026,
				0, 1024, 65535, 1026, &e),
		1);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 6), 1026,
				0, 1024, 65535, 1026, &e),
		1);
	CU_ASSERT_EQUAL(t->maps[e].pub_port, 1027);
	CU_ASSERT_EQUAL(t->stats.mappings, 7);
	tg_nat_table_free(t);
}

static void
test_nat_map_exhaustion_and_reuse(void)
{
	struct tg_nat_table_conf c = small_conf(128);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	uint32_t m[64], s[64], x, i, bad = 0;
	uint64_t seen[2] = {0, 0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* 64 ports, 1024-1087: 64 private endpoints wanting port 1050 */
	for (i = 0; i < 64; i++) {
		bad += tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 1, i), 1050,
			       0, 1024, 1087, 1050, &m[i]) != 1;
		bad += tg_nat_sess_create(
			       t, m[i], IP4(8, 8, 8, 8), 53, 0, 0, &s[i]) != 0;
		seen[(t->maps[m[i]].pub_port - 1024) / 64 ? 1 : 0] |=
			UINT64_C(1) << ((t->maps[m[i]].pub_port - 1024) & 63);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(seen[0], UINT64_MAX); /* every port once */
	CU_ASSERT_EQUAL(seen[1], 0);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 2, 1), 1, 0,
				1024, 1087, 1, &x),
		-EADDRINUSE);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_PORTS], 1);
	CU_ASSERT_EQUAL(t->stats.mappings, 64);
	/* not exhausted: another range, address, or protocol class */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 2, 1), 1, 0,
				1024, 1088, 1, &x),
		1);
	CU_ASSERT_EQUAL(t->maps[x].pub_port, 1088);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, x), 0);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 2, 1), 1, 1,
				1024, 1087, 1, &x),
		1);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, x), 0);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 2, 1), 1, 0,
				1024, 1087, 1, &x),
		1);
	CU_ASSERT_EQUAL(tg_nat_map_release(t, x), 0);
	/* the last session of mapping 10 goes: its port is free again */
	i = t->maps[m[10]].pub_port;
	CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s[10]), 0);
	CU_ASSERT_EQUAL(
		tg_nat_map_lookup_public(t, 0, UDP, (uint16_t)i), TG_NAT_NONE);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 2, 1), 1, 0,
				1024, 1087, 1, &x),
		1);
	CU_ASSERT_EQUAL(t->maps[x].pub_port, i);
	CU_ASSERT_EQUAL(
		tg_nat_sess_create(t, x, IP4(8, 8, 4, 4), 53, 0, 0, &s[10]), 0);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, UDP, (uint16_t)i), x);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, UDP, IP4(10, 0, 2, 2), 1, 0,
				1024, 1087, 1, &x),
		-EADDRINUSE);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_PORTS], 2);
	tg_nat_table_free(t);
}

/* --------------------------------------------------------- sessions */

static void
test_nat_sess_host_limit_and_table_full(void)
{
	struct tg_nat_table_conf c = small_conf(6);
	struct tg_nat_table *t;
	uint32_t m, s, s3[3], i;

	c.max_sessions_per_host = 3;
	c.max_hosts = 2;
	t = tg_nat_table_create(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 3; i++)
		s3[i] = mk(t, TCP, IP4(10, 0, 0, 1), (uint16_t)(2000 + i),
			IP4(1, 1, 1, 1), 80, 0, 0);
	/* a 4th for host .1: refused, and its new mapping goes again */
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 1), 2003,
				0, 1024, 65535, 2003, &m),
		1);
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, m, IP4(1, 1, 1, 1), 80, 0, 0, &s),
		-EDQUOT);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_HOST_LIMIT], 1);
	CU_ASSERT_EQUAL(t->stats.mappings, 3);
	CU_ASSERT_EQUAL(tg_nat_map_lookup_public(t, 0, TCP, 2003), TG_NAT_NONE);
	/* an existing mapping with sessions stays */
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, t->sess[s3[0]].map,
				IP4(1, 1, 1, 2), 80, 0, 0, &s),
		-EDQUOT);
	CU_ASSERT_EQUAL(t->stats.mappings, 3);
	/* host .2 may; host .3 is one host too many */
	mk(t, TCP, IP4(10, 0, 0, 2), 2000, IP4(1, 1, 1, 1), 80, 0, 0);
	CU_ASSERT_EQUAL(tg_nat_map_get_or_create(t, TCP, IP4(10, 0, 0, 3), 2000,
				0, 1024, 65535, 2000, &m),
		1);
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, m, IP4(1, 1, 1, 1), 80, 0, 0, &s),
		-EUSERS);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_HOSTS_FULL], 1);
	CU_ASSERT_EQUAL(t->stats.hosts, 2);
	/* a session of host .1 goes: it may have another */
	CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s3[1]), 0);
	mk(t, TCP, IP4(10, 0, 0, 1), 2003, IP4(1, 1, 1, 1), 80, 0, 0);
	/* fill: 6 sessions, the 7th finds no record */
	mk(t, TCP, IP4(10, 0, 0, 2), 2001, IP4(1, 1, 1, 1), 80, 0, 0);
	mk(t, TCP, IP4(10, 0, 0, 2), 2002, IP4(1, 1, 1, 1), 80, 0, 0);
	CU_ASSERT_EQUAL(t->stats.sessions, 6);
	CU_ASSERT_EQUAL(tg_nat_sess_create(t, t->sess[s3[0]].map,
				IP4(1, 1, 1, 9), 80, 0, 0, &s),
		-ENOSPC);
	CU_ASSERT_EQUAL(t->stats.fail[TG_NAT_FAIL_SESS_FULL], 1);
	CU_ASSERT_EQUAL(t->stats.created, 7);
	CU_ASSERT_EQUAL(t->stats.created - t->stats.deleted - t->stats.expired,
		t->stats.sessions);
	tg_nat_table_free(t);
}

static void
test_nat_sess_lookup_bulk(void)
{
	struct tg_nat_table_conf c = small_conf(512);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_key kin[300], kout[300];
	uint32_t s[300], got[300], i, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 300; i++) {
		s[i] = mk(t, i % 3 ? TCP : UDP, IP4(10, 0, 1, i % 50),
			(uint16_t)(3000 + i), IP4(9, 9, 9, i % 7), 443, 5, 1);
		kin[i] = key_in(&t->sess[s[i]]);
		kout[i] = key_out(&t->sess[s[i]]);
	}
	for (i = 0; i < 300; i += 2)
		CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s[i]), 0);
	tg_nat_sess_lookup_bulk(t, TG_NAT_IN2OUT, kin, 300, got);
	for (i = 0; i < 300; i++)
		bad += got[i] != (i % 2 ? s[i] : TG_NAT_NONE);
	tg_nat_sess_lookup_bulk(t, TG_NAT_OUT2IN, kout, 300, got);
	for (i = 0; i < 300; i++)
		bad += got[i] != (i % 2 ? s[i] : TG_NAT_NONE);
	CU_ASSERT_EQUAL(bad, 0);
	tg_nat_table_free(t);
}

/* ----------------------------------------------------------- expiry */

static bool
alive(const struct tg_nat_table *t, const struct tg_nat_key *k, uint32_t s)
{
	return tg_nat_sess_lookup_in2out(t, k) == s;
}

static void
test_nat_expire_exact(void)
{
	struct tg_nat_table_conf c = small_conf(64);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	enum { A, B, C, D, E, F, N };
	/* created, class, touched (0: never), expected death */
	static const uint32_t plan[N][4] = {
		[A] = {100, 0, 0, 110},
		[B] = {100, 0, 105, 115},
		[C] = {100, 1, 0, 130},
		[D] = {100, 1, 125, 155},
		/* E is re-queued at 110 due at 111, behind F (due 118): in
		 * one FIFO per class it would wait for F */
		[E] = {100, 0, 101, 111},
		[F] = {108, 0, 0, 118},
	};
	struct tg_nat_key k[N];
	uint32_t s[N], now, i, bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (now = 100; now <= 200; now++) {
		for (i = 0; i < N; i++) {
			if (plan[i][0] == now) {
				s[i] = mk(t, UDP, IP4(10, 0, 0, 1),
					(uint16_t)(1000 + i), IP4(2, 2, 2, 2),
					53, now, (uint8_t)plan[i][1]);
				k[i] = key_in(&t->sess[s[i]]);
			}
			if (plan[i][2] == now)
				tg_nat_sess_touch(
					t, &t->sess[s[i]], now, TG_NAT_IN2OUT);
		}
		tg_nat_table_expire(t, now, 1000);
		for (i = 0; i < N; i++)
			if (now >= plan[i][0])
				bad += alive(t, &k[i], s[i]) !=
				       (now < plan[i][3]);
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(t->stats.expired, N);
	CU_ASSERT_EQUAL(t->stats.sessions, 0);
	CU_ASSERT_EQUAL(t->stats.mappings, 0);
	CU_ASSERT_EQUAL(t->stats.hosts, 0);
	/* one visit each, plus one for each session touched after queuing */
	CU_ASSERT_EQUAL(t->stats.expire_visits, N + 3);
	tg_nat_table_free(t);
}

/* Random creates, touches, class changes and deletes on a fake clock,
 * expired every tick with a large budget: each session must die at the
 * first tick at or after its last packet + its class's timeout. */
static void
expire_random_round(uint32_t wheel_slots, const uint32_t *tmo)
{
	enum { NS = 1024, TICKS = 3000 };
	struct tg_nat_table_conf c = small_conf(NS);
	struct tg_nat_table *t;
	static uint32_t last[NS], cls[NS];
	static bool live[NS];
	static struct tg_nat_key key[NS];
	uint32_t now, i, bad_early = 0, bad_late = 0, n_live = 0, ctr = 0;
	uint64_t deaths = 0;

	c.n_classes = 3;
	memcpy(c.timeouts, tmo, 3 * sizeof(*tmo));
	c.wheel_slots = wheel_slots;
	c.max_hosts = NS;
	t = tg_nat_table_create(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	memset(live, 0, sizeof(live));
	for (now = 1000; now < 1000 + TICKS; now++) {
		uint32_t ops = (uint32_t)(rnd() % 8);

		while (ops-- > 0) {
			uint32_t r = (uint32_t)(rnd() % 10), m, s;
			uint8_t cl = (uint8_t)(rnd() % 3);

			if (r < 4 && n_live < NS) {
				ctr++;
				if (tg_nat_map_get_or_create(t, UDP,
					    IP4(10, 1, ctr >> 16 & 0xff, ctr),
					    (uint16_t)ctr, 0, 1024, 65535, 0,
					    &m) < 0 ||
					tg_nat_sess_create(
						t, m, 1, 1, now, cl, &s) != 0) {
					bad_early++;
					continue;
				}
				live[s] = true;
				last[s] = now;
				cls[s] = cl;
				key[s] = key_in(&t->sess[s]);
				n_live++;
				continue;
			}
			s = (uint32_t)(rnd() % NS);
			if (!live[s])
				continue;
			if (r < 8) {
				tg_nat_sess_touch(
					t, &t->sess[s], now, TG_NAT_OUT2IN);
				last[s] = now;
			} else if (r < 9) {
				CU_ASSERT_EQUAL(
					tg_nat_sess_set_class(t, s, cl, now),
					0);
				last[s] = now;
				cls[s] = cl;
			} else {
				CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s), 0);
				live[s] = false;
				n_live--;
			}
		}
		deaths += tg_nat_table_expire(t, now, UINT32_MAX);
		for (i = 0; i < NS; i++) {
			bool due;

			if (!live[i])
				continue;
			due = (int32_t)(now - (last[i] + tmo[cls[i]])) >= 0;
			if (alive(t, &key[i], i) != !due) {
				bad_early += !due;
				bad_late += due;
			}
			if (due) {
				live[i] = false;
				n_live--;
			}
		}
	}
	CU_ASSERT_EQUAL(bad_early, 0);
	CU_ASSERT_EQUAL(bad_late, 0);
	CU_ASSERT_EQUAL(deaths, t->stats.expired);
	CU_ASSERT_EQUAL(t->stats.sessions, n_live);
	printf("\n    wheel %u, timeouts %u/%u/%u: %" PRIu64
	       " expired, %.2f visits per expiry",
		t->wheel_mask + 1, tmo[0], tmo[1], tmo[2], deaths,
		(double)t->stats.expire_visits / (double)deaths);
	tg_nat_table_free(t);
}

static void
test_nat_expire_random_against_reference(void)
{
	static const uint32_t tmo1[3] = {5, 17, 60};
	static const uint32_t tmo2[3] = {3, 150, 400}; /* beyond the wheel */

	expire_random_round(0, tmo1);
	expire_random_round(64, tmo2);
}

static void
test_nat_expire_budget(void)
{
	struct tg_nat_table_conf c = small_conf(256);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	uint32_t s[100], i, v0, early = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 100; i++)
		s[i] = mk(t, TCP, IP4(10, 0, 0, 1), (uint16_t)(1024 + i),
			IP4(3, 3, 3, 3), 80, 0, 0);
	/* half had a packet at 5: due at 15, visited at 10 */
	for (i = 0; i < 100; i += 2)
		tg_nat_sess_touch(t, &t->sess[s[i]], 5, TG_NAT_IN2OUT);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 9, 40), 0);
	CU_ASSERT_EQUAL(t->stats.expire_visits, 0);
	v0 = 0;
	for (i = 0; i < 3; i++) {
		uint32_t d = tg_nat_table_expire(t, 10 + i, 40);

		CU_ASSERT(d <= 40);
		CU_ASSERT(t->stats.expire_visits - v0 <= 40);
		v0 = (uint32_t)t->stats.expire_visits;
	}
	/* 100 visits in three rounds of 40: all untouched gone by the 3rd */
	CU_ASSERT_EQUAL(t->stats.expire_visits, 100);
	CU_ASSERT_EQUAL(t->stats.expired, 50);
	for (i = 0; i < 100; i += 2)
		early += !(t->sess[s[i]].flags & TG_NAT_SF_USED);
	CU_ASSERT_EQUAL(early, 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 14, 40), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 15, 40), 40);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 15, 40), 10);
	CU_ASSERT_EQUAL(t->stats.sessions, 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 15, 0), 0);

	/* a cursor far behind: a session created at 5000 is clamped into the
	 * wheel's span and visited early, but not deleted before 5010 */
	s[0] = mk(t, TCP, IP4(10, 0, 0, 1), 1024, IP4(3, 3, 3, 3), 80, 5000, 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 5009, 1000), 0);
	CU_ASSERT(t->sess[s[0]].flags & TG_NAT_SF_USED);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 5010, 1000), 1);
	/* a long idle gap (half the clock's range: more looks like going
	 * back), then the clock wrapping */
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 5010u + INT32_MAX, 1000), 0);
	s[0] = mk(t, TCP, IP4(10, 0, 0, 1), 1024, IP4(3, 3, 3, 3), 80,
		UINT32_MAX - 3, 1);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, UINT32_MAX, 1000), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 25, 1000), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 26, 1000), 1);
	tg_nat_table_free(t);
}

static void
test_nat_expire_touch_keeps_lists(void)
{
	struct tg_nat_table_conf c = small_conf(16);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_sess before[3];
	uint32_t s[3], i, head;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 3; i++)
		s[i] = mk(t, UDP, IP4(10, 0, 0, 1), (uint16_t)(1024 + i),
			IP4(4, 4, 4, 4), 53, 50, 0);
	for (i = 0; i < 3; i++)
		before[i] = t->sess[s[i]];
	head = t->wheel[60 & t->wheel_mask];
	CU_ASSERT_NOT_EQUAL(head, TG_NAT_NONE);
	for (i = 51; i < 58; i++)
		tg_nat_sess_touch(t, &t->sess[s[1]], i, TG_NAT_IN2OUT);
	tg_nat_sess_touch(t, &t->sess[s[2]], 57, TG_NAT_OUT2IN);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(t->sess[s[i]].next, before[i].next);
		CU_ASSERT_EQUAL(t->sess[s[i]].prev, before[i].prev);
		CU_ASSERT_EQUAL(t->sess[s[i]].due, 60);
		CU_ASSERT_EQUAL(t->sess[s[i]].seq, before[i].seq);
	}
	CU_ASSERT_EQUAL(t->wheel[60 & t->wheel_mask], head);
	CU_ASSERT_EQUAL(t->sess[s[1]].last, 57);
	CU_ASSERT_EQUAL(t->sess[s[1]].pkts_i2o, 7);
	CU_ASSERT_EQUAL(t->sess[s[2]].pkts_o2i, 1);
	CU_ASSERT_EQUAL(t->stats.expire_visits, 0);
	/* the touched ones are re-queued once, at their new deadline */
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 60, 100), 1);
	CU_ASSERT_EQUAL(t->sess[s[1]].due, 67);
	CU_ASSERT_EQUAL(t->stats.expire_visits, 3);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 67, 100), 2);
	tg_nat_table_free(t);
}

static void
test_nat_expire_class_change_and_timeouts(void)
{
	struct tg_nat_table_conf c = small_conf(16);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	uint32_t a, b, d, tm[2] = {20, 30};

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	a = mk(t, TCP, IP4(10, 0, 0, 1), 1024, IP4(5, 5, 5, 5), 80, 0, 1);
	b = mk(t, TCP, IP4(10, 0, 0, 1), 1025, IP4(5, 5, 5, 5), 80, 0, 0);
	/* a: 30 → 10 at 5, due 15; b: 10 → 30 at 5, due 35 */
	CU_ASSERT_EQUAL(tg_nat_sess_set_class(t, a, 0, 5), 0);
	CU_ASSERT_EQUAL(tg_nat_sess_set_class(t, b, 1, 5), 0);
	CU_ASSERT_EQUAL(tg_nat_sess_set_class(t, b, 2, 5), -EINVAL);
	CU_ASSERT_EQUAL(t->sess[a].tmo_class, 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 14, 100), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 15, 100), 1);
	CU_ASSERT(!(t->sess[a].flags & TG_NAT_SF_USED));
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 34, 100), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 35, 100), 1);

	/* a longer timeout holds for a session already queued */
	a = mk(t, TCP, IP4(10, 0, 0, 1), 1024, IP4(5, 5, 5, 5), 80, 100, 0);
	CU_ASSERT_EQUAL(tg_nat_table_set_timeouts(t, tm, 2), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 110, 100), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 119, 100), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 120, 100), 1);
	/* a shorter one for sessions queued from then on; b, queued
	 * before, goes at its old time (at the latest) */
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 200, 100), 0);
	b = mk(t, TCP, IP4(10, 0, 0, 1), 1024, IP4(5, 5, 5, 5), 80, 200, 0);
	tm[0] = 5;
	CU_ASSERT_EQUAL(tg_nat_table_set_timeouts(t, tm, 1), 0);
	d = mk(t, TCP, IP4(10, 0, 0, 1), 1025, IP4(5, 5, 5, 5), 80, 200, 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 205, 100), 1);
	CU_ASSERT(!(t->sess[d].flags & TG_NAT_SF_USED));
	CU_ASSERT(t->sess[b].flags & TG_NAT_SF_USED);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 219, 100), 0);
	CU_ASSERT_EQUAL(tg_nat_table_expire(t, 220, 100), 1);
	/* refused */
	tm[0] = 0;
	CU_ASSERT_EQUAL(tg_nat_table_set_timeouts(t, tm, 2), -EINVAL);
	tm[0] = 5;
	CU_ASSERT_EQUAL(tg_nat_table_set_timeouts(t, tm, 3), -EINVAL);
	CU_ASSERT_EQUAL(tg_nat_table_set_timeouts(t, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(t->timeouts[1], 30);
	tg_nat_table_free(t);
}

/* ------------------------------------------------------ seq protocol */

static void
test_nat_sess_seq_read(void)
{
	struct tg_nat_table_conf c = small_conf(8);
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_sess copy;
	uint32_t s, s2, b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	s = mk(t, TCP, IP4(10, 0, 0, 9), 4000, IP4(6, 6, 6, 6), 22, 7, 1);
	CU_ASSERT_EQUAL(t->sess[s].seq, 2);
	CU_ASSERT_EQUAL(tg_nat_sess_read(t, s, &copy), 0);
	CU_ASSERT_EQUAL(copy.priv_ip, IP4(10, 0, 0, 9));
	CU_ASSERT_EQUAL(copy.created, 7);
	/* a change between begin and retry is seen */
	b = tg_nat_sess_read_begin(t, s);
	CU_ASSERT_FALSE(tg_nat_sess_read_retry(t, s, b));
	CU_ASSERT_EQUAL(tg_nat_sess_set_state(t, s, 3), 0);
	CU_ASSERT_TRUE(tg_nat_sess_read_retry(t, s, b));
	CU_ASSERT_EQUAL(t->sess[s].seq, 4);
	/* a touch is not */
	b = tg_nat_sess_read_begin(t, s);
	tg_nat_sess_touch(t, &t->sess[s], 8, TG_NAT_IN2OUT);
	CU_ASSERT_FALSE(tg_nat_sess_read_retry(t, s, b));
	/* a writer in the middle (odd) */
	__atomic_fetch_add(&t->sess[s].seq, 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(tg_nat_sess_read(t, s, &copy), -EAGAIN);
	__atomic_fetch_add(&t->sess[s].seq, 1, __ATOMIC_RELEASE);
	CU_ASSERT_EQUAL(tg_nat_sess_read(t, s, &copy), 0);
	CU_ASSERT_EQUAL(copy.state, 3);
	CU_ASSERT_EQUAL(copy.last, 8);
	/* delete and reuse: seq goes on, a remembered (index, seq) fails */
	CU_ASSERT_EQUAL(tg_nat_sess_set_class(t, s, 0, 9), 0);
	CU_ASSERT_EQUAL(t->sess[s].seq, 8);
	CU_ASSERT_EQUAL(tg_nat_sess_delete(t, s), 0);
	CU_ASSERT_EQUAL(t->sess[s].seq, 10);
	CU_ASSERT_EQUAL(tg_nat_sess_read(t, s, &copy), -ENOENT);
	s2 = mk(t, UDP, IP4(10, 0, 0, 8), 4000, IP4(6, 6, 6, 6), 22, 7, 1);
	CU_ASSERT_EQUAL(s2, s);
	CU_ASSERT_EQUAL(t->sess[s].seq, 12);
	CU_ASSERT_TRUE(tg_nat_sess_read_retry(t, s, 8));
	tg_nat_table_free(t);
}

/* Reader lcore: copies records while the writer churns them; every copy
 * it keeps must be one state (fields derived from one generation). */
struct seq_run {
	struct tg_nat_table *t;
	volatile bool stop;
	uint64_t ok, again, empty, torn;
};

#define SEQ_N 32

static int
seq_reader(void *arg)
{
	struct seq_run *r = arg;
	struct tg_nat_sess c;
	uint32_t i = 0;

	while (!r->stop) {
		int rc = tg_nat_sess_read(r->t, i++ % SEQ_N, &c);

		if (rc == -EAGAIN) {
			r->again++;
		} else if (rc == -ENOENT) {
			r->empty++;
		} else {
			r->ok++;
			r->torn += (c.created & 0xffffff) !=
					   (c.priv_ip & 0xffffff) ||
				   c.rem_ip != (c.priv_ip ^ 0x5a5a5a5a) ||
				   c.rem_port != (uint16_t)(c.priv_ip * 31) ||
				   (c.state != 0 &&
					   c.state != ((c.priv_ip & 0x7f) |
							      0x80)) ||
				   c.pub_ip != PUB0;
		}
	}
	return 0;
}

static void
test_nat_sess_seq_two_lcores(void)
{
	struct tg_nat_table_conf c = small_conf(SEQ_N);
	struct seq_run r = {0};
	unsigned int lc = rte_get_next_lcore(rte_lcore_id(), 1, 0);
	uint32_t live[SEQ_N], head = 0, n = 0, g, m, s, bad = 0;
	double t0 = now_s();

	c.max_hosts = SEQ_N;
	r.t = tg_nat_table_create(&c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.t);
	CU_ASSERT_FATAL(lc < RTE_MAX_LCORE);
	CU_ASSERT_EQUAL_FATAL(rte_eal_remote_launch(seq_reader, &r, lc), 0);
	for (g = 1; g < 200000; g++) {
		uint32_t pip = IP4(10, 0, 0, 0) | (g & 0xffffff);

		if (n == SEQ_N) {
			bad += tg_nat_sess_delete(r.t, live[head]) != 0;
			head = (head + 1) % SEQ_N;
			n--;
		}
		if (tg_nat_map_get_or_create(r.t, UDP, pip, (uint16_t)g, 0,
			    1024, 65535, 0, &m) < 0 ||
			tg_nat_sess_create(r.t, m, pip ^ 0x5a5a5a5a,
				(uint16_t)(pip * 31), g, 0, &s) != 0) {
			CU_FAIL("create");
			break;
		}
		tg_nat_sess_set_state(r.t, s, (uint8_t)((pip & 0x7f) | 0x80));
		live[(head + n) % SEQ_N] = s;
		n++;
	}
	r.stop = true;
	rte_eal_wait_lcore(lc);
	printf("\n    %.2f s: %" PRIu64 " copies, %" PRIu64 " retries, %" PRIu64
	       " empty, %" PRIu64 " torn",
		now_s() - t0, r.ok, r.again, r.empty, r.torn);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(r.ok > 0);
	CU_ASSERT_EQUAL(r.torn, 0);
	tg_nat_table_free(r.t);
}

/* ------------------------------------------------------------- fill */

static uint32_t
fill_count(void)
{
	const char *e = getenv("TG_NAT_TEST_SESSIONS");

	return e != NULL && atoi(e) > 0 ? (uint32_t)atoi(e) : FILL_DEFAULT;
}

static void
test_nat_table_fill(void)
{
	static const uint32_t pub16[16] = {IP4(192, 0, 2, 1), IP4(192, 0, 2, 2),
		IP4(192, 0, 2, 3), IP4(192, 0, 2, 4), IP4(192, 0, 2, 5),
		IP4(192, 0, 2, 6), IP4(192, 0, 2, 7), IP4(192, 0, 2, 8),
		IP4(192, 0, 2, 9), IP4(192, 0, 2, 10), IP4(192, 0, 2, 11),
		IP4(192, 0, 2, 12), IP4(192, 0, 2, 13), IP4(192, 0, 2, 14),
		IP4(192, 0, 2, 15), IP4(192, 0, 2, 16)};
	uint32_t n = fill_count();
	struct tg_nat_table_conf c = {.max_sessions = n,
		.max_hosts = 65536,
		.n_public = 16,
		.public_ips = pub16,
		.n_classes = 2,
		.timeouts = {300, 7440},
		.socket = SOCKET_ID_ANY};
	struct tg_nat_table *t = tg_nat_table_create(&c);
	struct tg_nat_key *kin = malloc((size_t)n * sizeof(*kin));
	struct tg_nat_key *kout = malloc((size_t)n * sizeof(*kout));
	uint32_t *idx = malloc((size_t)n * sizeof(*idx));
	uint32_t *got = malloc((size_t)n * sizeof(*got));
	uint32_t i, m, s, dup = 0, bad = 0, bad_pub = 0, x;
	uint64_t refs = 0, maps = 0, maps_full;
	double t0, t1, t2, t3;
	size_t bytes;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_FATAL(
		kin != NULL && kout != NULL && idx != NULL && got != NULL);
	t0 = now_s();
	for (i = 0; i < n;) {
		uint64_t r = rnd(), r2 = rnd();
		uint8_t proto = (r & 15) == 0 ? ICMP : (r & 1) ? TCP : UDP;
		uint32_t pip = IP4(10, 0, 0, 0) | (uint32_t)(r >> 8 & 0xffff);
		uint16_t pport = (uint16_t)(1024 + (r >> 24) % 64512);
		uint16_t rport = proto == ICMP ? 0 : (uint16_t)(r2 >> 32);
		uint16_t a = (uint16_t)(r >> 40 & 15), tries;
		int rc = -1;

		for (tries = 0; tries < 16 && rc < 0; tries++)
			rc = tg_nat_map_get_or_create(t, proto, pip, pport,
				(uint16_t)((a + tries) & 15), 1024, 65535,
				pport, &m);
		if (rc < 0) {
			bad++;
			break;
		}
		rc = tg_nat_sess_create(
			t, m, (uint32_t)r2, rport, 0, (uint8_t)(r2 & 1), &s);
		if (rc == -EEXIST) {
			dup++;
			continue;
		}
		if (rc != 0) {
			bad++;
			break;
		}
		idx[i] = s;
		kin[i] = key_in(&t->sess[s]);
		kout[i] = key_out(&t->sess[s]);
		i++;
	}
	t1 = now_s();
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL_FATAL(t->stats.sessions, n);
	maps_full = t->stats.mappings;
	/* full */
	CU_ASSERT_EQUAL(
		tg_nat_sess_create(t, t->sess[idx[0]].map, 1, 1, 0, 0, &s),
		-ENOSPC);
	/* every one both ways: bulk, and one by one for a tenth */
	tg_nat_sess_lookup_bulk(t, TG_NAT_IN2OUT, kin, n, got);
	for (i = 0; i < n; i++)
		bad += got[i] != idx[i];
	tg_nat_sess_lookup_bulk(t, TG_NAT_OUT2IN, kout, n, got);
	for (i = 0; i < n; i++)
		bad += got[i] != idx[i];
	for (i = 0; i < n; i += 10)
		bad += tg_nat_sess_lookup_in2out(t, &kin[i]) != idx[i] ||
		       tg_nat_sess_lookup_out2in(t, &kout[i]) != idx[i];
	t2 = now_s();
	CU_ASSERT_EQUAL(bad, 0);
	/* delete half, check the rest and the mappings */
	for (i = 0; i < n; i += 2)
		bad += tg_nat_sess_delete(t, idx[i]) != 0;
	tg_nat_sess_lookup_bulk(t, TG_NAT_IN2OUT, kin, n, got);
	for (i = 0; i < n; i++)
		bad += got[i] != (i % 2 ? idx[i] : TG_NAT_NONE);
	tg_nat_sess_lookup_bulk(t, TG_NAT_OUT2IN, kout, n, got);
	for (i = 0; i < n; i++)
		bad += got[i] != (i % 2 ? idx[i] : TG_NAT_NONE);
	for (i = 1; i < n; i += 2) {
		const struct tg_nat_sess *p = &t->sess[idx[i]];

		x = tg_nat_map_lookup_public(t, p->addr, p->proto, p->pub_port);
		bad_pub += x != p->map || pub16[p->addr] != p->pub_ip;
	}
	for (i = 0; i < t->max_mappings; i++) {
		refs += t->maps[i].proto != 0 ? t->maps[i].sessions : 0;
		maps += t->maps[i].proto != 0;
	}
	t3 = now_s();
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(bad_pub, 0);
	CU_ASSERT_EQUAL(t->stats.sessions, n - (n + 1) / 2);
	CU_ASSERT_EQUAL(refs, t->stats.sessions);
	CU_ASSERT_EQUAL(maps, t->stats.mappings);
	CU_ASSERT_EQUAL(t->ix[0]->n_entries, t->stats.sessions);
	CU_ASSERT_EQUAL(t->ix[1]->n_entries, t->stats.sessions);
	CU_ASSERT_EQUAL(t->map_ix->n_entries, t->stats.mappings);
	CU_ASSERT_EQUAL(t->host_ix->n_entries, t->stats.hosts);
	tg_nat_table_memory(t, &bytes);
	printf("\n    %u sessions (%u duplicates skipped, %" PRIu64
	       " mappings at full): fill %.2f s, %u lookups %.2f s, "
	       "delete half and check %.2f s; %.1f bytes per session; index "
	       "moves %" PRIu64 "/%" PRIu64,
		n, dup, maps_full, t1 - t0, n * 2 + n / 5, t2 - t1, t3 - t2,
		(double)bytes / n, t->ix[0]->moves, t->ix[1]->moves);
	free(kin);
	free(kout);
	free(idx);
	free(got);
	tg_nat_table_free(t);
}

/* Each test's asserts and time, for the log. */
#define TIMED(fn)                                                              \
	static void fn##_timed(void)                                           \
	{                                                                      \
		unsigned int a0 = CU_get_number_of_asserts();                  \
		double s0 = now_s();                                           \
		fn();                                                          \
		printf("\n    [%u asserts, %.2f s] ",                          \
			CU_get_number_of_asserts() - a0, now_s() - s0);        \
	}
#define TESTS(X)                                                               \
	X(test_nat_table_invalid_conf)                                         \
	X(test_nat_table_create_free)                                          \
	X(test_nat_table_memory_1m)                                            \
	X(test_nat_index_random_against_reference)                             \
	X(test_nat_index_displacement_and_full)                                \
	X(test_nat_index_same_hash)                                            \
	X(test_nat_map_endpoint_independent)                                   \
	X(test_nat_map_port_preservation)                                      \
	X(test_nat_map_exhaustion_and_reuse)                                   \
	X(test_nat_sess_host_limit_and_table_full)                             \
	X(test_nat_sess_lookup_bulk)                                           \
	X(test_nat_expire_exact)                                               \
	X(test_nat_expire_random_against_reference)                            \
	X(test_nat_expire_budget)                                              \
	X(test_nat_expire_touch_keeps_lists)                                   \
	X(test_nat_expire_class_change_and_timeouts)                           \
	X(test_nat_sess_seq_read)                                              \
	X(test_nat_sess_seq_two_lcores)                                        \
	X(test_nat_table_fill)
TESTS(TIMED)

int
main(void)
{
	CU_pSuite s;
	int rc;

	if (tg_test_eal_init("test_nat_table") != 0)
		return 1;
	rte_srand(0x6e61747461626c65ull); /* the tables' hash seeds */
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("nat_table", NULL, NULL);
#define TG_X_ADD(fn) CU_add_test(s, #fn, fn##_timed);
	TESTS(TG_X_ADD)
#undef TG_X_ADD
	rc = tg_test_run();
	tg_test_eal_cleanup();
	return rc;
}
