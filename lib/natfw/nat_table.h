/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the state store of the NAT/firewall stage (issue 6): sessions,
 * endpoint-independent mappings (RFC 4787) and per-host session counts,
 * their cuckoo indexes and the expiry wheel. No packet code: the stage
 * calls it with keys in host order.
 *
 * Threads. One writer: the lcore that runs the stage calls every function
 * that changes the table. Any other thread may read session records with
 * tg_nat_sess_read() (telemetry) or tg_nat_sess_find(), mappings with
 * tg_nat_map_find_private()/_public() and the *_peek() functions
 * (explain: "Reading the table off the writer lcore" below), read the
 * counters, and change the timeouts (tg_nat_table_set_timeouts()).
 *
 * Slots. Public addresses are slots: the table has conf.max_public of
 * them, the first conf.n_public with a port space from the start; the
 * control thread gives a slot a port space (tg_nat_table_slot_alloc())
 * and takes it back (tg_nat_table_slot_free()) while no mapping and no
 * configuration the writer can see uses it, so that a reload can add and
 * remove public addresses while the writer runs. Records keep their slot.
 *
 * Memory (measured by the unit test, tg_nat_table_memory()): 64 bytes per
 * session record, 2 x 8.9 for the in2out and out2in indexes (8-byte slots
 * at 90 % load), 16 per mapping and 8.9 for its index; per public address
 * 792 KiB (three port arrays of 65,536 mapping indexes and their bitmaps);
 * per host 8 + 8.9. With max_mappings = max_sessions and one public
 * address per 64 Ki sessions: about 121 bytes per session (VPP's NAT44-ED:
 * about 280), 1.2 GB for 10 million sessions.
 */
#ifndef TG_NAT_TABLE_H
#define TG_NAT_TABLE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_vect.h>

/** No entry: an index lookup's miss, an empty link, an unused field. */
#define TG_NAT_NONE UINT32_MAX

/* ------------------------------------------------------------------ */
/* The index: 32-bit hash → 32-bit record index, keys kept by the caller */

/*
 * A bucketized cuckoo hash: buckets of one cache line with 8 slots of a
 * 32-bit signature (the whole hash, never 0: 0 marks an empty slot) and a
 * 32-bit record index. A hash has two candidate buckets, both computed
 * from the signature alone, so an entry can be displaced to its other
 * bucket without its key:
 *   b1 = (sig * n) >> 32                  (Lemire's range reduction)
 *   b2 = (mix(sig) * n) >> 32, or b1 + 1 (mod n) when that equals b1.
 * n is any number of buckets, not a power of two: rounding up to one
 * would cost up to twice the memory (1 M entries: 2^18 buckets, 16.8
 * bytes per entry instead of 8.9).
 *
 * Keys are not stored: a lookup hands each candidate index to the
 * caller's match function, which compares the key with its record. The
 * lookup is static inline and takes the match function as a constant so
 * the compiler inlines it. Equal hashes of different keys are fine (the
 * match function tells them apart) up to the 16 slots of two buckets.
 *
 * Inserting into two full buckets searches, breadth first, for a path of
 * at most 3 displacements to a free slot among TG_NAT_INDEX_BFS_MAX
 * buckets (about 512 bucket reads); -ENOSPC when there is none: with
 * random keys, first at 99.2 to 99.5 % load in the unit test. Single
 * writer; other threads may look up (tg_nat_sess_find() and the
 * mapping finders: "Reading the table off the writer lcore" below), and
 * can miss an entry that an insert moves at that instant.
 */

#define TG_NAT_BUCKET_SLOTS 8
/** Buckets the insert's path search may visit (each tries 8 others). */
#define TG_NAT_INDEX_BFS_MAX 64
/** An index is sized for its entries at this load, in per cent. */
#define TG_NAT_INDEX_LOAD_PCT 90

struct tg_nat_bucket {
	uint32_t sig[TG_NAT_BUCKET_SLOTS]; /**< 0: empty slot */
	uint32_t idx[TG_NAT_BUCKET_SLOTS];
} __rte_cache_aligned;

/** A node of the insert's breadth-first path search. */
struct tg_nat_bfs_node {
	uint32_t bucket;
	uint16_t parent; /**< node index, UINT16_MAX for a root */
	uint8_t slot;	 /**< slot of the parent's bucket moved here */
};

struct tg_nat_index {
	struct tg_nat_bucket *b;
	uint32_t n_buckets;
	uint32_t n_entries;
	uint64_t moves; /**< entries displaced by inserts (statistics) */
	uint64_t full;	/**< inserts refused with -ENOSPC */
	size_t mem;	/**< bytes allocated, this struct included */
	struct tg_nat_bfs_node bfs[TG_NAT_INDEX_BFS_MAX]; /**< scratch */
};

/** Is @p idx the record for @p key? @p ctx: the caller's (its records). */
typedef int (*tg_nat_match_fn)(const void *ctx, const void *key, uint32_t idx);

/**
 * Create an index for @p entries entries at TG_NAT_INDEX_LOAD_PCT load
 * (at least 2 buckets), on NUMA @p socket. NULL with rte_errno EINVAL
 * (0 entries, or more than 2^31) or ENOMEM. Control thread, or the
 * writer before it starts.
 */
struct tg_nat_index *tg_nat_index_create(uint32_t entries, int socket);

/** Free an index; NULL is a no-op. Any thread, once nobody uses it. */
void tg_nat_index_free(struct tg_nat_index *ix);

/**
 * Add @p idx (not TG_NAT_NONE) under hash @p h. Does not look for a
 * duplicate: the caller looks its key up first when it may exist.
 * Returns 0, -EINVAL, or -ENOSPC when no displacement path was found
 * (the index is unchanged). Writer only.
 */
int tg_nat_index_insert(struct tg_nat_index *ix, uint32_t h, uint32_t idx);

/** Remove the entry (@p h, @p idx). Returns 0 or -ENOENT. Writer only. */
int tg_nat_index_delete(struct tg_nat_index *ix, uint32_t h, uint32_t idx);

/** The signature stored for hash @p h: the hash, never 0. Any thread. */
static __rte_always_inline uint32_t
tg_nat_index_sig(uint32_t h)
{
	return h != 0 ? h : 1;
}

/** @p x scaled into [0, n) by its high bits. Any thread. */
static __rte_always_inline uint32_t
tg_nat_index_range(uint32_t x, uint32_t n)
{
	return (uint32_t)(((uint64_t)x * n) >> 32);
}

/** The first candidate bucket of signature @p sig. Any thread. */
static __rte_always_inline uint32_t
tg_nat_index_b1(const struct tg_nat_index *ix, uint32_t sig)
{
	return tg_nat_index_range(sig, ix->n_buckets);
}

/** The second candidate bucket of @p sig, whose first is @p b1. Any
 *  thread. */
static __rte_always_inline uint32_t
tg_nat_index_b2(const struct tg_nat_index *ix, uint32_t sig, uint32_t b1)
{
	uint32_t x = sig ^ 0x5bd1e995u;
	uint32_t b;

	/* murmur3's finaliser: b1 took the signature's high bits */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	b = tg_nat_index_range(x, ix->n_buckets);
	if (unlikely(b == b1))
		b = b1 + 1 == ix->n_buckets ? 0 : b1 + 1;
	return b;
}

/** Bit i set: slot i of @p b holds @p sig (0: is free). Any thread. */
static __rte_always_inline uint32_t
tg_nat_bucket_hits(const struct tg_nat_bucket *b, uint32_t sig)
{
#if defined(RTE_ARCH_X86)
	__m128i s = _mm_set1_epi32((int)sig);
	__m128i lo = _mm_cmpeq_epi32(
		_mm_load_si128((const __m128i *)(const void *)&b->sig[0]), s);
	__m128i hi = _mm_cmpeq_epi32(
		_mm_load_si128((const __m128i *)(const void *)&b->sig[4]), s);

	return (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(lo)) |
	       (uint32_t)_mm_movemask_ps(_mm_castsi128_ps(hi)) << 4;
#else
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < TG_NAT_BUCKET_SLOTS; i++)
		m |= (uint32_t)(b->sig[i] == sig) << i;
	return m;
#endif
}

/** Prefetch both candidate buckets of hash @p h: the first step of a
 *  burst's lookups. Writer only (the index is single-threaded). */
static __rte_always_inline void
tg_nat_index_prefetch(const struct tg_nat_index *ix, uint32_t h)
{
	uint32_t sig = tg_nat_index_sig(h);
	uint32_t b1 = tg_nat_index_b1(ix, sig);

	rte_prefetch0(&ix->b[b1]);
	rte_prefetch0(&ix->b[tg_nat_index_b2(ix, sig, b1)]);
}

/** The first index stored under hash @p h, or TG_NAT_NONE: the record a
 *  burst prefetches before it verifies keys. Writer only. */
static __rte_always_inline uint32_t
tg_nat_index_candidate(const struct tg_nat_index *ix, uint32_t h)
{
	uint32_t sig = tg_nat_index_sig(h);
	uint32_t b1 = tg_nat_index_b1(ix, sig);
	const struct tg_nat_bucket *b = &ix->b[b1];
	uint32_t m = tg_nat_bucket_hits(b, sig);

	if (m == 0) {
		b = &ix->b[tg_nat_index_b2(ix, sig, b1)];
		m = tg_nat_bucket_hits(b, sig);
		if (m == 0)
			return TG_NAT_NONE;
	}
	return b->idx[(uint32_t)__builtin_ctz(m)];
}

/**
 * The index of the record that @p match accepts for @p key among those
 * stored under hash @p h, or TG_NAT_NONE. Pass a function (not a
 * variable) as @p match so it is inlined. Writer only.
 */
static __rte_always_inline uint32_t
tg_nat_index_lookup(const struct tg_nat_index *ix, uint32_t h,
	tg_nat_match_fn match, const void *ctx, const void *key)
{
	uint32_t sig = tg_nat_index_sig(h);
	uint32_t b1 = tg_nat_index_b1(ix, sig);
	const struct tg_nat_bucket *b = &ix->b[b1];
	uint32_t m = tg_nat_bucket_hits(b, sig);

	while (m != 0) {
		uint32_t idx = b->idx[(uint32_t)__builtin_ctz(m)];

		if (match(ctx, key, idx))
			return idx;
		m &= m - 1;
	}
	b = &ix->b[tg_nat_index_b2(ix, sig, b1)];
	m = tg_nat_bucket_hits(b, sig);
	while (m != 0) {
		uint32_t idx = b->idx[(uint32_t)__builtin_ctz(m)];

		if (match(ctx, key, idx))
			return idx;
		m &= m - 1;
	}
	return TG_NAT_NONE;
}

/* ------------------------------------------------------------------ */
/* Records */

/** Timeout classes a table may have (TCP established, transitory, UDP,
 *  ICMP, …: the stage names them). */
#define TG_NAT_TMO_CLASSES 8

/** Protocol classes of the public port space: each public address has
 *  65,536 ports for TCP, for UDP, and for ICMP query ids and GRE call
 *  ids together. */
enum tg_nat_pclass {
	TG_NAT_PCLASS_TCP = 0,
	TG_NAT_PCLASS_UDP,
	TG_NAT_PCLASS_ICMP_GRE,
	TG_NAT_PCLASS__COUNT
};

enum tg_nat_dir { TG_NAT_IN2OUT = 0, TG_NAT_OUT2IN = 1, TG_NAT_DIRS };

/** tg_nat_sess.flags: the record holds a session. */
#define TG_NAT_SF_USED 0x01
/** tg_nat_sess.flags: a local session (the appliance's own flow, kept
 *  for its answers: the firewall's dynamic entries). Counted apart
 *  (stats.local), limited by conf.max_local, and not held to the
 *  per-host limit, which is for private hosts. */
#define TG_NAT_SF_LOCAL 0x02

/**
 * A session: one cache line. Addresses and ports in host order; for ICMP
 * queries the identifier is the port on both sides and rem_port is 0.
 *
 * Sequence numbers (seq). The writer makes seq odd, changes the record,
 * and makes it even again (store-release), so a reader that finds seq
 * even and unchanged around its copy (tg_nat_sess_read()) has a copy of
 * one state. seq keeps counting across delete and reuse: a reader that
 * remembers (index, seq) sees whether the record is still the session it
 * read. Bracketed: create, delete, tg_nat_sess_set_class(),
 * tg_nat_sess_set_state(). Not bracketed, so that a packet costs no extra
 * stores: last and the packet counters (tg_nat_sess_touch(): each one
 * aligned 32-bit store, a copy may hold an older or newer value of each),
 * and the expiry links next, prev and due (internal: a neighbour's removal
 * rewrites them; a copy's are meaningless).
 */
struct tg_nat_sess {
	uint32_t seq;	  /**< odd while the writer changes the record */
	uint32_t priv_ip; /**< private (inside) address */
	uint32_t pub_ip;  /**< public address (the mapping's) */
	uint32_t rem_ip;  /**< remote (outside) address */
	uint16_t priv_port;
	uint16_t pub_port;
	uint16_t rem_port;
	uint8_t proto;	   /**< IPPROTO_* */
	uint8_t state;	   /**< the stage's (TCP state…): opaque here */
	uint8_t flags;	   /**< TG_NAT_SF_* */
	uint8_t tmo_class; /**< < conf n_classes */
	uint16_t addr;	   /**< public address index (the mapping's) */
	uint32_t last;	   /**< caller's clock at the last packet */
	uint32_t map;	   /**< mapping index */
	uint32_t next;	   /**< expiry wheel / free list link */
	uint32_t prev;	   /**< expiry wheel link */
	uint32_t due;	   /**< time of the wheel slot it is in */
	uint32_t created;  /**< caller's clock at creation */
	uint32_t pkts_i2o; /**< packets in2out (tg_nat_sess_touch()) */
	uint32_t pkts_o2i; /**< packets out2in */
	uint32_t host;	   /**< host record index (per-host count) */
} __rte_cache_aligned;

/** tg_nat_map.flags: the caller's mark of a static mapping (a port
 *  mapping's), set after creation; opaque here. */
#define TG_NAT_MF_STATIC 0x01
/** tg_nat_map.flags: detached (tg_nat_map_detach()): in no index and no
 *  port array any more; freed with its last session. */
#define TG_NAT_MF_DETACHED 0x02

/** An endpoint-independent mapping (RFC 4787): one public address and
 *  port per private (proto, address, port), shared by all the sessions
 *  of that endpoint; it lives as long as it has sessions. */
struct tg_nat_map {
	uint32_t priv_ip; /**< free mapping: the free list's link */
	uint16_t priv_port;
	uint16_t pub_port;
	uint32_t sessions; /**< sessions using it */
	uint16_t addr;	   /**< public address index (slot) */
	uint8_t proto;	   /**< 0: free */
	uint8_t flags;	   /**< TG_NAT_MF_* */
};

/** Sessions of one private address (max_sessions_per_host). */
struct tg_nat_host {
	uint32_t ip;	   /**< free record: the free list's link */
	uint32_t sessions; /**< 0: free */
};

/** A session key, in host order. in2out: ip/port are the private
 *  endpoint; out2in: the public one. */
struct tg_nat_key {
	uint32_t ip;
	uint32_t rem_ip;
	uint16_t port;
	uint16_t rem_port;
	uint8_t proto;
	uint8_t pad[3];
};

/* ------------------------------------------------------------------ */
/* The table */

/* Why a creation failed: X(NAME, "telemetry.name", -errno, "why"). */
#define TG_NAT_FAILS(X)                                                        \
	X(SESS_FULL, "natfw.table.sessions_full", -ENOSPC,                     \
		"every session record is in use (max_sessions)")               \
	X(HOST_LIMIT, "natfw.table.host_limit", -EDQUOT,                       \
		"the private host has max_sessions_per_host sessions")         \
	X(HOSTS_FULL, "natfw.table.hosts_full", -EUSERS,                       \
		"a new private host and every host record in use "             \
		"(max_hosts)")                                                 \
	X(MAPS_FULL, "natfw.table.mappings_full", -ENOBUFS,                    \
		"every mapping is in use (max_mappings)")                      \
	X(PORTS, "natfw.table.ports_exhausted", -EADDRINUSE,                   \
		"every port of the range is in use on that public address "    \
		"for that protocol class")                                     \
	X(INDEX_FULL, "natfw.table.index_full", -ELOOP,                        \
		"cuckoo displacement found no free slot in an index")          \
	X(EXISTS, "natfw.table.exists", -EEXIST,                               \
		"a session with the same in2out key exists")

enum tg_nat_fail {
#define TG_X_ENUM(n, s, e, d) TG_NAT_FAIL_##n,
	TG_NAT_FAILS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_NAT_FAIL__COUNT
};

extern const char *const tg_nat_fail_names[TG_NAT_FAIL__COUNT];
extern const char *const tg_nat_fail_descs[TG_NAT_FAIL__COUNT];

/** Largest max_sessions, max_mappings and max_hosts. */
#define TG_NAT_MAX_ENTRIES (1u << 28)
/** Most public addresses. */
#define TG_NAT_MAX_PUBLIC 4096
/** Largest expiry wheel (slots, one per clock unit). */
#define TG_NAT_WHEEL_MAX (1u << 22)

struct tg_nat_table_conf {
	uint32_t max_sessions; /**< 1 .. TG_NAT_MAX_ENTRIES */
	uint32_t max_mappings; /**< 0: max_sessions */
	uint32_t max_hosts;    /**< private addresses with sessions, >= 1 */
	uint32_t max_sessions_per_host; /**< 0: no limit */
	/** Of max_sessions, how many may be local (TG_NAT_SF_LOCAL); the
	 *  rest are for the others. 0: one pool for both. */
	uint32_t max_local;
	/** public addresses with a port space from the start (slots 0 ..
	 *  n_public - 1), 1 .. TG_NAT_MAX_PUBLIC */
	uint16_t n_public;
	const uint32_t *public_ips; /**< n_public addresses (copied) */
	/** slots, n_public .. TG_NAT_MAX_PUBLIC; 0: n_public */
	uint16_t max_public;
	uint8_t n_classes;	    /**< timeout classes, 1 .. 8 */
	/** Per class, in the caller's clock unit (>= 1). The unit is the
	 *  expiry's resolution: one wheel slot per unit. */
	uint32_t timeouts[TG_NAT_TMO_CLASSES];
	/** Slots of the expiry wheel (a power of two, 64 ..
	 *  TG_NAT_WHEEL_MAX); 0: the smallest above the longest timeout.
	 *  Longer timeouts work, at one extra visit per wheel turn. */
	uint32_t wheel_slots;
	int socket; /**< NUMA socket, or SOCKET_ID_ANY */
};

/** Counters: written by the writer only, read by anyone (each is one
 *  aligned 64-bit word). created - expired - deleted == sessions. */
struct tg_nat_table_stats {
	uint64_t sessions; /**< in use */
	uint64_t local;	   /**< of them, local (TG_NAT_SF_LOCAL) */
	uint64_t mappings; /**< in use */
	uint64_t hosts;	   /**< in use */
	uint64_t created;
	uint64_t expired; /**< deleted by tg_nat_table_expire() */
	uint64_t deleted; /**< deleted by tg_nat_sess_delete() */
	uint64_t maps_created;
	uint64_t maps_freed;
	uint64_t expire_visits; /**< sessions expiry looked at */
	/** of deleted, those tg_nat_table_sweep() and tg_nat_sess_drop()
	 *  removed: sessions the caller's configuration no longer has room
	 *  for (natfw: a reload's) */
	uint64_t dropped;
	uint64_t sweep_visits; /**< records tg_nat_table_sweep() looked at */
	uint64_t fail[TG_NAT_FAIL__COUNT];
};

/** Memory by part, in bytes (tg_nat_table_memory_parts()). */
struct tg_nat_table_mem {
	size_t sessions;
	size_t sess_index; /**< in2out and out2in */
	size_t maps;
	size_t map_index;
	size_t ports; /**< per slot with a port space: arrays, bitmaps */
	size_t hosts; /**< records and their index */
	size_t wheel;
	size_t other; /**< the table struct, addresses, cursors */
	size_t total;
};

/** A slot's port space: per protocol class, 65,536 mapping index + 1 by
 *  public port (0: free), a bitmap of the ports in use, the allocation
 *  cursor. */
struct tg_nat_ports {
	uint32_t map[TG_NAT_PCLASS__COUNT][65536];
	uint64_t used[TG_NAT_PCLASS__COUNT][1024];
	uint16_t next[TG_NAT_PCLASS__COUNT];
};

struct tg_nat_table {
	/* Read by the inline lookups */
	struct tg_nat_sess *sess;
	struct tg_nat_index *ix[TG_NAT_DIRS]; /**< session indexes */
	uint32_t seed[TG_NAT_DIRS];	      /**< their hash seeds */
	struct tg_nat_map *maps;
	/** Per slot: its port space, NULL when it has none. Written by the
	 *  control thread (tg_nat_table_slot_alloc(), _free()). */
	struct tg_nat_ports **ports;
	uint16_t n_public; /**< slots (conf.max_public) */
	uint8_t n_classes;
	/** Next record tg_nat_table_sweep() looks at; TG_NAT_NONE: no
	 *  sweep runs. Writer only. */
	uint32_t sweep_cur;
	/* Writer state */
	struct tg_nat_index *map_ix;
	struct tg_nat_index *host_ix;
	struct tg_nat_host *hosts;
	uint32_t map_seed;
	uint32_t host_seed;
	uint32_t sess_free; /**< free list heads */
	uint32_t map_free;
	uint32_t host_free;
	/** per slot; written by the control thread with the port space */
	uint32_t *public_ips;
	uint32_t max_sessions;
	uint32_t max_mappings;
	uint32_t max_hosts;
	uint32_t max_per_host;
	uint32_t max_local; /**< conf.max_local */
	int ports_socket;   /**< conf.socket: where port spaces go */
	/** Per class, written by tg_nat_table_set_timeouts() (atomic). */
	uint32_t timeouts[TG_NAT_TMO_CLASSES];
	/* Expiry wheel: slot (time & mask) heads a list of sessions */
	uint32_t *wheel;
	uint64_t *wheel_bits; /**< slot non-empty */
	uint32_t wheel_mask;
	uint32_t wheel_cur; /**< earliest time whose slot may hold sessions */
	bool wheel_started;
	struct tg_nat_table_mem mem;
	struct tg_nat_table_stats stats;
};

/**
 * Create a table: every record, index and array is allocated here
 * (rte_zmalloc_socket()), nothing later. NULL with rte_errno EINVAL (a
 * field out of range: see struct tg_nat_table_conf) or ENOMEM. Control
 * thread, or the writer before it starts.
 */
struct tg_nat_table *tg_nat_table_create(const struct tg_nat_table_conf *conf);

/** Free a table; NULL is a no-op. Any thread, once nobody uses it. */
void tg_nat_table_free(struct tg_nat_table *t);

/** Bytes allocated for @p t into @p bytes. Returns 0 or -EINVAL. Any
 *  thread. */
int tg_nat_table_memory(const struct tg_nat_table *t, size_t *bytes);

/** tg_nat_table_memory() by part. Returns 0 or -EINVAL. Any thread. */
int tg_nat_table_memory_parts(
	const struct tg_nat_table *t, struct tg_nat_table_mem *mem);

/**
 * Set the first @p n classes' timeouts (each >= 1). A longer timeout
 * holds at once (expiry checks each session against the current value
 * before it deletes it); a shorter one holds for sessions queued from now
 * on (created, changing class, or re-queued by the expiry), while those
 * already queued expire at the latest at their old time. Returns 0 or
 * -EINVAL (nothing changed). Any thread: each timeout is one atomic store
 * the writer sees at its next operation.
 */
int tg_nat_table_set_timeouts(
	struct tg_nat_table *t, const uint32_t *timeouts, uint8_t n);

/**
 * Expire sessions without scanning the table. Sessions sit on a timing
 * wheel in the slot of the time they are due (last packet + their class's
 * timeout, as it was when queued). This walks the slots from the last
 * call's time to @p now and visits at most @p budget sessions: one whose
 * last + timeout <= now is deleted (stats.expired); one that had packets
 * since it was queued is queued again at last + timeout. Packets never
 * touch the wheel, and a session is visited at most once per timeout
 * period (plus once per wheel turn for a timeout above the wheel's span).
 *
 * Bound: a session is never deleted before last + timeout. It is deleted
 * by the first call at or after that time, unless the calls before it
 * ran out of budget: then it waits for the sessions due before it (and
 * the ones of its own slot visited first), at most @p budget per call.
 * Returns the number of sessions deleted. Writer only.
 */
uint32_t tg_nat_table_expire(
	struct tg_nat_table *t, uint32_t now, uint32_t budget);

/* ---- mappings ---- */

/** Protocol class of @p proto (TCP, UDP, ICMP and GRE), or -1. Any
 *  thread. */
static inline int
tg_nat_pclass(uint8_t proto)
{
	switch (proto) {
	case 6:
		return TG_NAT_PCLASS_TCP;
	case 17:
		return TG_NAT_PCLASS_UDP;
	case 1:
	case 47:
		return TG_NAT_PCLASS_ICMP_GRE;
	default:
		return -1;
	}
}

/**
 * The mapping of private endpoint (@p proto, @p priv_ip, @p priv_port),
 * created when there is none: on public address @p addr, with port
 * @p pref when it lies in [@p lo, @p hi] and is free (port preservation),
 * else the next free port of the range after the last one allocated on
 * that address and protocol class. An existing mapping is returned as it
 * is, whatever address and range are asked (endpoint-independent).
 * A new mapping has no session: it is freed again by a failing
 * tg_nat_sess_create() or by tg_nat_map_release().
 * Returns 1 (created) or 0 (existed) with the mapping index in @p out;
 * -EINVAL (addr >= n_public, lo > hi), -EPROTONOSUPPORT (not TCP, UDP,
 * ICMP, GRE), or a failure counted by reason: -ENOBUFS (MAPS_FULL),
 * -EADDRINUSE (PORTS: the range is exhausted), -ELOOP (INDEX_FULL).
 * O(1), except the search for a free port: at most (hi - lo) / 64 bitmap
 * words. Writer only.
 */
int tg_nat_map_get_or_create(struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port, uint16_t addr, uint16_t lo,
	uint16_t hi, uint16_t pref, uint32_t *out);

/** Free mapping @p map if no session uses it (the caller created it and
 *  then created no session). Returns 0, -EBUSY (it has sessions) or
 *  -EINVAL (not a mapping in use). Writer only. */
int tg_nat_map_release(struct tg_nat_table *t, uint32_t map);

/** The mapping of private endpoint (@p proto, @p priv_ip, @p priv_port),
 *  or TG_NAT_NONE. Writer only. */
uint32_t tg_nat_map_lookup_private(const struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port);

/**
 * The mapping that holds public port @p pub_port of address (slot)
 * @p addr for @p proto, or TG_NAT_NONE: endpoint-independent filtering
 * lets any remote reach it. One array read. @p addr must be < n_public.
 * Writer only.
 */
static inline uint32_t
tg_nat_map_lookup_public(const struct tg_nat_table *t, uint16_t addr,
	uint8_t proto, uint16_t pub_port)
{
	const struct tg_nat_ports *p = t->ports[addr];
	int c = tg_nat_pclass(proto);
	uint32_t v;

	if (unlikely(c < 0 || p == NULL))
		return TG_NAT_NONE;
	v = p->map[c][pub_port];
	if (v == 0 || t->maps[v - 1].proto != proto)
		return TG_NAT_NONE;
	return v - 1;
}

/**
 * Detach mapping @p map: out of the private endpoints' index and its
 * public port array (the port is free again), marked TG_NAT_MF_DETACHED.
 * Its sessions go on until deleted; a new flow of the endpoint gets a new
 * mapping. For a mapping the caller's configuration no longer has room
 * for, whose sessions it deletes. Returns 0 or -EINVAL (not a mapping in
 * use, or detached already). Writer only.
 */
int tg_nat_map_detach(struct tg_nat_table *t, uint32_t map);

/* ---- slots (public addresses) ---- */

/**
 * Give slot @p slot (< n_public) a port space for address @p ip: the
 * one it has if any (free ports: no mapping may use it), else a new one
 * (rte_zmalloc_socket()). Returns 0, -EINVAL or -ENOMEM. Control thread,
 * for a slot that no mapping and no configuration the writer can see
 * uses: the writer finds the port space through the configuration
 * published after this call.
 */
int tg_nat_table_slot_alloc(struct tg_nat_table *t, uint16_t slot, uint32_t ip);

/** Free slot @p slot's port space (none: a no-op). Control thread, for
 *  a slot that no mapping and no configuration the writer can see uses
 *  any more. */
void tg_nat_table_slot_free(struct tg_nat_table *t, uint16_t slot);

/* ---- the sweep: sessions a new configuration has no room for ---- */

/** Does the caller still want session @p idx (in use)? @p ctx: the
 *  caller's (its configuration). */
typedef bool (*tg_nat_keep_fn)(
	const void *ctx, const struct tg_nat_table *t, uint32_t idx);

/** Start a sweep over every session record from the first (again, if
 *  one runs). Writer only. */
void tg_nat_table_sweep_start(struct tg_nat_table *t);

/** Whether a sweep runs (one load). Writer only. */
static __rte_always_inline bool
tg_nat_table_sweeping(const struct tg_nat_table *t)
{
	return t->sweep_cur != TG_NAT_NONE;
}

/**
 * Go on with the sweep: look at the next @p budget records at most and
 * delete each session in use that @p keep refuses (stats.deleted and
 * stats.dropped). Bounded work, never a pass over the table in one call;
 * the sweep ends after the last record. Returns the sessions deleted.
 * Writer only.
 */
uint32_t tg_nat_table_sweep(struct tg_nat_table *t, tg_nat_keep_fn keep,
	const void *ctx, uint32_t budget);

/** Delete session @p idx as tg_nat_table_sweep() does (a lookup found
 *  it before the sweep did). Returns 0 or -EINVAL. Writer only. */
int tg_nat_sess_drop(struct tg_nat_table *t, uint32_t idx);

/* ---- sessions ---- */

/**
 * Create a session on mapping @p map towards (@p rem_ip, @p rem_port),
 * in timeout class @p tmo_class, at time @p now (its last packet). Fails,
 * counted by reason, with -ENOSPC (SESS_FULL), -EDQUOT (HOST_LIMIT),
 * -EUSERS (HOSTS_FULL), -ELOOP (INDEX_FULL) or -EEXIST (EXISTS); or
 * -EINVAL (not a mapping in use, no such class). After a failure a
 * mapping without sessions is freed. Returns 0 with the session index in
 * @p out. Writer only.
 */
int tg_nat_sess_create(struct tg_nat_table *t, uint32_t map, uint32_t rem_ip,
	uint16_t rem_port, uint32_t now, uint8_t tmo_class, uint32_t *out);

/** tg_nat_sess_create() with @p flags: TG_NAT_SF_LOCAL makes a local
 *  session (see the flag); a pool that is full for its kind fails with
 *  -ENOSPC (SESS_FULL). Writer only. */
int tg_nat_sess_create_flags(struct tg_nat_table *t, uint32_t map,
	uint32_t rem_ip, uint16_t rem_port, uint32_t now, uint8_t tmo_class,
	uint8_t flags, uint32_t *out);

/** Fetch into cache what making sessions for the in2out keys @p keys
 *  (the first TG_NAT_BULK_MAX of @p n) will read: the mapping and host
 *  indexes and records, and, where the mapping exists, the out2in
 *  buckets. A hint: changes nothing. Writer only. */
void tg_nat_sess_create_prefetch(const struct tg_nat_table *t,
	const struct tg_nat_key *keys, uint32_t n);

/** Delete session @p idx (its mapping and host count go with their last
 *  session). Returns 0 or -EINVAL (not a session in use). Writer only. */
int tg_nat_sess_delete(struct tg_nat_table *t, uint32_t idx);

/** Move session @p idx to timeout class @p tmo_class at time @p now (a
 *  packet: last = now); it is due at now + that class's timeout. Returns
 *  0 or -EINVAL. Writer only. */
int tg_nat_sess_set_class(
	struct tg_nat_table *t, uint32_t idx, uint8_t tmo_class, uint32_t now);

/** Set session @p idx's stage state (opaque here). Returns 0 or -EINVAL.
 *  Writer only. */
int tg_nat_sess_set_state(struct tg_nat_table *t, uint32_t idx, uint8_t state);

/** The record of session @p idx (< max_sessions). Writer only; other
 *  threads use tg_nat_sess_read(). */
static __rte_always_inline struct tg_nat_sess *
tg_nat_sess_at(const struct tg_nat_table *t, uint32_t idx)
{
	return &t->sess[idx];
}

/**
 * A packet of session @p s in direction @p dir at time @p now: last and
 * the direction's packet counter. No list operation, no sequence bump
 * (see struct tg_nat_sess). Writer only.
 */
static __rte_always_inline void
tg_nat_sess_touch(struct tg_nat_table *t __rte_unused, struct tg_nat_sess *s,
	uint32_t now, enum tg_nat_dir dir)
{
	__atomic_store_n(&s->last, now, __ATOMIC_RELAXED);
	if (dir == TG_NAT_IN2OUT)
		__atomic_store_n(
			&s->pkts_i2o, s->pkts_i2o + 1, __ATOMIC_RELAXED);
	else
		__atomic_store_n(
			&s->pkts_o2i, s->pkts_o2i + 1, __ATOMIC_RELAXED);
}

/** The hash of @p k in the @p dir index: CRC32-C seeded per table and
 *  direction, mixed into the high bits. Any thread. */
static __rte_always_inline uint32_t
tg_nat_key_hash(const struct tg_nat_table *t, enum tg_nat_dir dir,
	const struct tg_nat_key *k)
{
	uint64_t w0 = (uint64_t)k->ip << 32 | k->rem_ip;
	uint64_t w1 = (uint64_t)k->proto << 32 | (uint32_t)k->port << 16 |
		      k->rem_port;
	uint32_t h =
		rte_hash_crc_8byte(w1, rte_hash_crc_8byte(w0, t->seed[dir]));

	/* spread the CRC over the high bits the buckets are taken from */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/** The session indexes' match functions: does session @p idx have the
 *  in2out (out2in) key @p key? @p ctx is the table. Writer only. */
/** Does session record @p s have the @p dir key @p k? Any thread (on
 *  its own copy). */
static __rte_always_inline int
tg_nat_sess_has_key(const struct tg_nat_sess *s, enum tg_nat_dir dir,
	const struct tg_nat_key *k)
{
	if (dir == TG_NAT_IN2OUT)
		return (s->priv_ip == k->ip) & (s->rem_ip == k->rem_ip) &
		       (s->priv_port == k->port) &
		       (s->rem_port == k->rem_port) & (s->proto == k->proto);
	return (s->pub_ip == k->ip) & (s->rem_ip == k->rem_ip) &
	       (s->pub_port == k->port) & (s->rem_port == k->rem_port) &
	       (s->proto == k->proto);
}

static __rte_always_inline int
tg_nat_sess_match_in2out(const void *ctx, const void *key, uint32_t idx)
{
	return tg_nat_sess_has_key(
		&((const struct tg_nat_table *)ctx)->sess[idx], TG_NAT_IN2OUT,
		key);
}

static __rte_always_inline int
tg_nat_sess_match_out2in(const void *ctx, const void *key, uint32_t idx)
{
	return tg_nat_sess_has_key(
		&((const struct tg_nat_table *)ctx)->sess[idx], TG_NAT_OUT2IN,
		key);
}

/** Prefetch the index buckets of hash @p h (tg_nat_key_hash()) in the
 *  @p dir index. Writer only. */
static __rte_always_inline void
tg_nat_sess_prefetch(
	const struct tg_nat_table *t, enum tg_nat_dir dir, uint32_t h)
{
	tg_nat_index_prefetch(t->ix[dir], h);
}

/** The session of key @p k (hash @p h) in direction @p dir, or
 *  TG_NAT_NONE. Writer only. */
static __rte_always_inline uint32_t
tg_nat_sess_lookup_h(const struct tg_nat_table *t, enum tg_nat_dir dir,
	uint32_t h, const struct tg_nat_key *k)
{
	if (dir == TG_NAT_IN2OUT)
		return tg_nat_index_lookup(t->ix[TG_NAT_IN2OUT], h,
			tg_nat_sess_match_in2out, t, k);
	return tg_nat_index_lookup(
		t->ix[TG_NAT_OUT2IN], h, tg_nat_sess_match_out2in, t, k);
}

/** The session of private-side key @p k (ip, port: the private
 *  endpoint), or TG_NAT_NONE. Writer only. */
static inline uint32_t
tg_nat_sess_lookup_in2out(
	const struct tg_nat_table *t, const struct tg_nat_key *k)
{
	return tg_nat_sess_lookup_h(
		t, TG_NAT_IN2OUT, tg_nat_key_hash(t, TG_NAT_IN2OUT, k), k);
}

/** The session of public-side key @p k (ip, port: the public endpoint),
 *  or TG_NAT_NONE. Writer only. */
static inline uint32_t
tg_nat_sess_lookup_out2in(
	const struct tg_nat_table *t, const struct tg_nat_key *k)
{
	return tg_nat_sess_lookup_h(
		t, TG_NAT_OUT2IN, tg_nat_key_hash(t, TG_NAT_OUT2IN, k), k);
}

/** Keys a bulk lookup handles per pass (its scratch is on the stack). */
#define TG_NAT_BULK_MAX 64

/**
 * Look up @p n keys of direction @p dir into @p out (TG_NAT_NONE for a
 * miss), in passes of TG_NAT_BULK_MAX: hash every key and prefetch its
 * buckets, then prefetch each one's first candidate record, then verify:
 * the cache misses of a pass overlap. Writer only.
 */
static inline void
tg_nat_sess_lookup_bulk(const struct tg_nat_table *t, enum tg_nat_dir dir,
	const struct tg_nat_key *keys, uint32_t n, uint32_t *out)
{
	uint32_t h[TG_NAT_BULK_MAX];
	uint32_t i, j, m;

	for (j = 0; j < n; j += m) {
		m = RTE_MIN(n - j, (uint32_t)TG_NAT_BULK_MAX);
		/* The first bucket only: an insert fills it before the second,
		 * so most keys are there, and at millions of sessions the
		 * lines in flight, not the latency, bound a burst (a third
		 * fewer of them). The second is fetched for the keys the
		 * first does not hold. */
		for (i = 0; i < m; i++) {
			const struct tg_nat_index *ix = t->ix[dir];

			h[i] = tg_nat_key_hash(t, dir, &keys[j + i]);
			rte_prefetch0(&ix->b[tg_nat_index_b1(
				ix, tg_nat_index_sig(h[i]))]);
		}
		for (i = 0; i < m; i++) {
			const struct tg_nat_index *ix = t->ix[dir];
			uint32_t sig = tg_nat_index_sig(h[i]);
			uint32_t b1 = tg_nat_index_b1(ix, sig);
			uint32_t hit = tg_nat_bucket_hits(&ix->b[b1], sig);

			if (hit != 0)
				rte_prefetch0(&t->sess[ix->b[b1].idx[
					(uint32_t)__builtin_ctz(hit)]]);
			else
				rte_prefetch0(
					&ix->b[tg_nat_index_b2(ix, sig, b1)]);
		}
		for (i = 0; i < m; i++)
			out[j + i] = tg_nat_sess_lookup_h(
				t, dir, h[i], &keys[j + i]);
	}
}

/**
 * Sequence read of session @p idx, for readers off the writer lcore:
 * begin returns the record's seq; after copying, retry tells whether the
 * copy must be thrown away (seq was odd, or changed). Any thread.
 */
static inline uint32_t
tg_nat_sess_read_begin(const struct tg_nat_table *t, uint32_t idx)
{
	return __atomic_load_n(&t->sess[idx].seq, __ATOMIC_ACQUIRE);
}

/** See tg_nat_sess_read_begin(). Any thread. */
static inline bool
tg_nat_sess_read_retry(
	const struct tg_nat_table *t, uint32_t idx, uint32_t begin)
{
	if (begin & 1)
		return true;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&t->sess[idx].seq, __ATOMIC_RELAXED) != begin;
}

/**
 * Copy session @p idx into @p copy, consistent as struct tg_nat_sess
 * says. Returns 0; -EAGAIN when the writer changed it meanwhile (try
 * again); -ENOENT when the record holds no session; -EINVAL for an index
 * out of range. Any thread (telemetry).
 */
int tg_nat_sess_read(
	const struct tg_nat_table *t, uint32_t idx, struct tg_nat_sess *copy);

/*
 * Reading the table off the writer lcore (explain). The writer's stores
 * are plain aligned stores of at most 64 bits, which readers see whole
 * (old or new value); the records, arrays and indexes never move or
 * shrink while the table lives, and an index entry only ever holds a
 * record number below the table's capacity, so a reader that meets the
 * writer half-way reads a record the writer is changing, never past
 * one. What that costs a reader, and what the functions below do about
 * it:
 *  - sessions carry a sequence number (tg_nat_sess_read());
 *  - mappings and host records do not (a seq would cost the writer two
 *    stores a mapping and grow the 16-byte record): the finders copy the
 *    record and compare its key on the copy, so a record being freed or
 *    reused reads as another key's, i.e. as no mapping;
 *  - counts (a host's sessions, stats.*) and the port bitmaps are words
 *    the writer stores whole: what a reader gets is their value at some
 *    instant during its read.
 * An entry the writer is moving between index buckets at that instant
 * can be missed. Every answer is the table's state of a moment; by the
 * time the caller acts on it, the writer may have changed it (explain
 * says "now").
 */

/** The mapping of private endpoint (@p proto, @p priv_ip, @p priv_port),
 *  copied into @p copy: 0, or -ENOENT. Any thread (see above). */
int tg_nat_map_find_private(const struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port, struct tg_nat_map *copy);

/** The mapping that holds public port @p pub_port of slot @p addr for
 *  @p proto (tg_nat_map_lookup_public()), copied into @p copy: 0, or
 *  -ENOENT. Any thread (see above). */
int tg_nat_map_find_public(const struct tg_nat_table *t, uint16_t addr,
	uint8_t proto, uint16_t pub_port, struct tg_nat_map *copy);

/**
 * What tg_nat_map_get_or_create() would answer now, changing nothing: 0
 * and the private endpoint's mapping copied into @p m; or 1 and the
 * mapping it would make (@p m: addr, pub_port as the allocator would
 * choose it now, @p pref when free); or -ENOBUFS (every mapping in
 * use), -EADDRINUSE (every port of [lo, hi] in use), -EPROTONOSUPPORT,
 * -EINVAL. An index that cannot take the mapping (-ELOOP) is not
 * foreseen. Any thread (see above).
 */
int tg_nat_map_peek(const struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port, uint16_t addr, uint16_t lo,
	uint16_t hi, uint16_t pref, struct tg_nat_map *m);

/** What tg_nat_sess_create_flags() would meet now for a session of
 *  private host @p priv_ip (@p local: the appliance's own), in its
 *  order: 0, or -ENOSPC (no record for its kind), -EDQUOT (the host has
 *  max_sessions_per_host; not for local ones), -EUSERS (a new host and
 *  no free host record). Changes nothing. Any thread (see above). */
int tg_nat_sess_create_peek(
	const struct tg_nat_table *t, uint32_t priv_ip, bool local);

/** Room for one more session of this kind, local or not (the pool split
 *  by max_local; a free record is the other condition). Any thread: off
 *  the writer lcore, an answer of the moment. */
static inline bool
tg_nat_sess_room(const struct tg_nat_table *t, bool local)
{
	uint64_t all = __atomic_load_n(&t->stats.sessions, __ATOMIC_RELAXED);
	uint64_t loc = __atomic_load_n(&t->stats.local, __ATOMIC_RELAXED);

	if (t->max_local == 0)
		return all < t->max_sessions;
	if (local)
		return loc < t->max_local;
	return all - loc < (uint64_t)(t->max_sessions - t->max_local);
}

/**
 * The session of key @p k in direction @p dir, copied into @p copy as
 * tg_nat_sess_read() copies: 0, or -ENOENT. For readers off the writer
 * lcore (explain): a session the writer is moving between index buckets
 * at that instant can be missed. Any thread.
 */
int tg_nat_sess_find(const struct tg_nat_table *t, enum tg_nat_dir dir,
	const struct tg_nat_key *k, struct tg_nat_sess *copy);

#endif /* TG_NAT_TABLE_H */
