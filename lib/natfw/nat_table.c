/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the session table: creation and sizing, endpoint-independent
 * mappings with their public port arrays, per-host counts, sessions and
 * the reader's sequence copy. Expiry is in nat_expire.c.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "nat_internal.h"

const char *const tg_nat_fail_names[TG_NAT_FAIL__COUNT] = {
#define TG_X_NAME(n, s, e, d) [TG_NAT_FAIL_##n] = s,
	TG_NAT_FAILS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_nat_fail_descs[TG_NAT_FAIL__COUNT] = {
#define TG_X_DESC(n, s, e, d) [TG_NAT_FAIL_##n] = d,
	TG_NAT_FAILS(TG_X_DESC)
#undef TG_X_DESC
};

static const int nat_fail_errno[TG_NAT_FAIL__COUNT] = {
#define TG_X_ERRNO(n, s, e, d) [TG_NAT_FAIL_##n] = e,
	TG_NAT_FAILS(TG_X_ERRNO)
#undef TG_X_ERRNO
};

_Static_assert(sizeof(struct tg_nat_sess) == 64, "a session is a line");
_Static_assert(sizeof(struct tg_nat_map) == 16, "a mapping is 16 bytes");
_Static_assert(sizeof(struct tg_nat_host) == 8, "a host is 8 bytes");
_Static_assert(sizeof(struct tg_nat_bucket) == 64, "a bucket is a line");

/** Count failure @p r and return its -errno. */
static inline int
nat_fail(struct tg_nat_table *t, enum tg_nat_fail r)
{
	t->stats.fail[r]++;
	return nat_fail_errno[r];
}

/* ---- keys and hashes of the mapping and host indexes ---- */

struct nat_map_key {
	uint32_t ip;
	uint16_t port;
	uint8_t proto;
};

static inline uint32_t
nat_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static inline uint32_t
nat_map_hash(const struct tg_nat_table *t, const struct nat_map_key *k)
{
	uint64_t w = (uint64_t)k->ip << 32 | (uint32_t)k->proto << 16 | k->port;

	return nat_mix(rte_hash_crc_8byte(w, t->map_seed));
}

static inline int
nat_map_match(const void *ctx, const void *key, uint32_t idx)
{
	const struct tg_nat_map *m =
		&((const struct tg_nat_table *)ctx)->maps[idx];
	const struct nat_map_key *k = key;

	return (m->priv_ip == k->ip) & (m->priv_port == k->port) &
	       (m->proto == k->proto);
}

static inline uint32_t
nat_host_hash(const struct tg_nat_table *t, uint32_t ip)
{
	return nat_mix(rte_hash_crc_4byte(ip, t->host_seed));
}

static inline int
nat_host_match(const void *ctx, const void *key, uint32_t idx)
{
	return ((const struct tg_nat_table *)ctx)->hosts[idx].ip ==
	       *(const uint32_t *)key;
}

static inline void
nat_sess_keys(const struct tg_nat_sess *s, struct tg_nat_key *in,
	struct tg_nat_key *out)
{
	*in = (struct tg_nat_key){.ip = s->priv_ip,
		.rem_ip = s->rem_ip,
		.port = s->priv_port,
		.rem_port = s->rem_port,
		.proto = s->proto};
	*out = *in;
	out->ip = s->pub_ip;
	out->port = s->pub_port;
}

/* ---- creation ---- */

static int
conf_check(const struct tg_nat_table_conf *c)
{
	unsigned int i;

	if (c == NULL || c->max_sessions == 0 ||
		c->max_sessions > TG_NAT_MAX_ENTRIES ||
		c->max_mappings > TG_NAT_MAX_ENTRIES || c->max_hosts == 0 ||
		c->max_hosts > TG_NAT_MAX_ENTRIES || c->n_public == 0 ||
		c->n_public > TG_NAT_MAX_PUBLIC || c->public_ips == NULL ||
		(c->max_public != 0 &&
			(c->max_public < c->n_public ||
				c->max_public > TG_NAT_MAX_PUBLIC)) ||
		c->n_classes == 0 || c->n_classes > TG_NAT_TMO_CLASSES ||
		c->max_local >= c->max_sessions)
		return -EINVAL;
	for (i = 0; i < c->n_classes; i++)
		if (c->timeouts[i] == 0)
			return -EINVAL;
	if (c->wheel_slots != 0 &&
		(!rte_is_power_of_2(c->wheel_slots) || c->wheel_slots < 64 ||
			c->wheel_slots > TG_NAT_WHEEL_MAX))
		return -EINVAL;
	return 0;
}

/* In front of every tg_nat_big_zalloc() array: how to free it. One cache
 * line, so the array stays line-aligned. */
struct nat_big_hdr {
	size_t len; /**< bytes mapped, this header included; 0: rte_malloc */
	uint8_t pad[RTE_CACHE_LINE_SIZE - sizeof(size_t)];
};

#define NAT_HUGE (2u << 20) /* the x86-64 transparent huge page */

void *
tg_nat_big_zalloc(const char *what, size_t size, int socket)
{
	size_t hdr = sizeof(struct nat_big_hdr), len;
	struct nat_big_hdr *h;
	uint8_t *base, *al;

	if (rte_eal_has_hugepages() || size < TG_NAT_THP_MIN) {
		h = rte_zmalloc_socket(
			what, hdr + size, RTE_CACHE_LINE_SIZE, socket);
		if (h == NULL)
			return NULL;
		tg_nat_prefault(h + 1, size);
		h->len = 0;
		return h + 1;
	}
	/* 2 MiB-aligned, so that every page of it can be a huge one: map a
	 * huge page more than needed and give back what is outside */
	len = RTE_ALIGN_CEIL(hdr + size, NAT_HUGE);
	base = mmap(NULL, len + NAT_HUGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	al = RTE_PTR_ALIGN_CEIL(base, NAT_HUGE);
	if (al > base)
		munmap(base, (size_t)(al - base));
	if (al + len < base + len + NAT_HUGE)
		munmap(al + len, (size_t)(base + len + NAT_HUGE - (al + len)));
	/* a hint: without THP the array works on 4 KiB pages */
	(void)madvise(al, len, MADV_HUGEPAGE);
	tg_nat_prefault(al, len);
	h = (struct nat_big_hdr *)al;
	h->len = len;
	return h + 1;
}

void
tg_nat_big_free(void *p)
{
	struct nat_big_hdr *h;

	if (p == NULL)
		return;
	h = (struct nat_big_hdr *)p - 1;
	if (h->len != 0)
		munmap(h, h->len);
	else
		rte_free(h);
}

static void *
nat_alloc(const char *what, size_t size, int socket, size_t *acct)
{
	void *p = rte_zmalloc_socket(what, size, RTE_CACHE_LINE_SIZE, socket);

	if (p == NULL)
		return NULL;
	tg_nat_prefault(p, size);
	*acct += RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
	return p;
}

static void *
nat_alloc_big(const char *what, size_t size, int socket, size_t *acct)
{
	void *p = tg_nat_big_zalloc(what, size, socket);

	if (p != NULL)
		*acct += RTE_ALIGN_CEIL(size, RTE_CACHE_LINE_SIZE);
	return p;
}

struct tg_nat_table *
tg_nat_table_create(const struct tg_nat_table_conf *conf)
{
	struct tg_nat_table *t;
	struct tg_nat_table_mem *mem;
	uint32_t i, slots, longest = 0;
	int socket;

	if (conf_check(conf) != 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	socket = conf->socket;
	t = rte_zmalloc_socket(
		"tg_nat_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	mem = &t->mem;
	mem->other = RTE_ALIGN_CEIL(sizeof(*t), RTE_CACHE_LINE_SIZE);
	t->max_sessions = conf->max_sessions;
	t->max_mappings = conf->max_mappings != 0 ? conf->max_mappings
						  : conf->max_sessions;
	t->max_hosts = conf->max_hosts;
	t->max_per_host = conf->max_sessions_per_host;
	t->max_local = conf->max_local;
	t->ports_socket = socket;
	t->n_public = conf->max_public != 0 ? conf->max_public : conf->n_public;
	t->sweep_cur = TG_NAT_NONE;
	t->n_classes = conf->n_classes;
	for (i = 0; i < conf->n_classes; i++) {
		t->timeouts[i] = conf->timeouts[i];
		longest = RTE_MAX(longest, conf->timeouts[i]);
	}
	slots = conf->wheel_slots;
	if (slots == 0)
		slots = longest >= TG_NAT_WHEEL_MAX
				? TG_NAT_WHEEL_MAX
				: rte_align32pow2(longest + 1);
	slots = RTE_MAX(slots, 64u);
	t->wheel_mask = slots - 1;
	t->seed[TG_NAT_IN2OUT] = (uint32_t)rte_rand();
	t->seed[TG_NAT_OUT2IN] = (uint32_t)rte_rand();
	t->map_seed = (uint32_t)rte_rand();
	t->host_seed = (uint32_t)rte_rand();

	t->sess = nat_alloc_big("tg_nat_sess",
		(size_t)t->max_sessions * sizeof(struct tg_nat_sess), socket,
		&mem->sessions);
	t->maps = nat_alloc_big("tg_nat_map",
		(size_t)t->max_mappings * sizeof(struct tg_nat_map), socket,
		&mem->maps);
	t->hosts = nat_alloc_big("tg_nat_host",
		(size_t)t->max_hosts * sizeof(struct tg_nat_host), socket,
		&mem->hosts);
	t->ports = nat_alloc("tg_nat_ports",
		(size_t)t->n_public * sizeof(t->ports[0]), socket, &mem->other);
	for (i = 0; t->ports != NULL && i < conf->n_public; i++) {
		t->ports[i] = nat_alloc("tg_nat_ports", sizeof(*t->ports[i]),
			socket, &mem->ports);
		if (t->ports[i] == NULL)
			break;
	}
	t->public_ips = nat_alloc("tg_nat_public",
		(size_t)t->n_public * sizeof(uint32_t), socket, &mem->other);
	t->wheel = nat_alloc("tg_nat_wheel", (size_t)slots * sizeof(uint32_t),
		socket, &mem->wheel);
	t->wheel_bits = nat_alloc("tg_nat_wheel_bits",
		(size_t)slots / 64 * sizeof(uint64_t), socket, &mem->wheel);
	t->ix[TG_NAT_IN2OUT] = tg_nat_index_create(t->max_sessions, socket);
	t->ix[TG_NAT_OUT2IN] = tg_nat_index_create(t->max_sessions, socket);
	t->map_ix = tg_nat_index_create(t->max_mappings, socket);
	t->host_ix = tg_nat_index_create(t->max_hosts, socket);
	if (t->sess == NULL || t->maps == NULL || t->hosts == NULL ||
		t->ports == NULL || i < conf->n_public ||
		t->public_ips == NULL || t->wheel == NULL ||
		t->wheel_bits == NULL || t->ix[TG_NAT_IN2OUT] == NULL ||
		t->ix[TG_NAT_OUT2IN] == NULL || t->map_ix == NULL ||
		t->host_ix == NULL) {
		tg_nat_table_free(t);
		rte_errno = ENOMEM;
		return NULL;
	}
	mem->sess_index = t->ix[TG_NAT_IN2OUT]->mem + t->ix[TG_NAT_OUT2IN]->mem;
	mem->map_index = t->map_ix->mem;
	mem->hosts += t->host_ix->mem;
	mem->total = mem->sessions + mem->sess_index + mem->maps +
		     mem->map_index + mem->ports + mem->hosts + mem->wheel +
		     mem->other;

	memcpy(t->public_ips, conf->public_ips,
		(size_t)conf->n_public * sizeof(uint32_t));
	memset(t->wheel, 0xff, (size_t)slots * sizeof(uint32_t));
	/* free lists in index order: the first records are used first */
	for (i = 0; i < t->max_sessions; i++)
		t->sess[i].next = i + 1 < t->max_sessions ? i + 1 : TG_NAT_NONE;
	for (i = 0; i < t->max_mappings; i++)
		t->maps[i].priv_ip =
			i + 1 < t->max_mappings ? i + 1 : TG_NAT_NONE;
	for (i = 0; i < t->max_hosts; i++)
		t->hosts[i].ip = i + 1 < t->max_hosts ? i + 1 : TG_NAT_NONE;
	t->sess_free = 0;
	t->map_free = 0;
	t->host_free = 0;
	return t;
}

void
tg_nat_table_free(struct tg_nat_table *t)
{
	uint32_t i;

	if (t == NULL)
		return;
	tg_nat_index_free(t->ix[TG_NAT_IN2OUT]);
	tg_nat_index_free(t->ix[TG_NAT_OUT2IN]);
	tg_nat_index_free(t->map_ix);
	tg_nat_index_free(t->host_ix);
	tg_nat_big_free(t->sess);
	tg_nat_big_free(t->maps);
	tg_nat_big_free(t->hosts);
	for (i = 0; t->ports != NULL && i < t->n_public; i++)
		rte_free(t->ports[i]);
	rte_free(t->ports);
	rte_free(t->public_ips);
	rte_free(t->wheel);
	rte_free(t->wheel_bits);
	rte_free(t);
}

int
tg_nat_table_slot_alloc(struct tg_nat_table *t, uint16_t slot, uint32_t ip)
{
	struct tg_nat_ports *p;
	size_t sz = RTE_ALIGN_CEIL(sizeof(*p), RTE_CACHE_LINE_SIZE);

	if (t == NULL || slot >= t->n_public)
		return -EINVAL;
	p = t->ports[slot];
	if (p == NULL) {
		p = rte_zmalloc_socket("tg_nat_ports", sizeof(*p),
			RTE_CACHE_LINE_SIZE, t->ports_socket);
		if (p == NULL)
			return -ENOMEM;
		tg_nat_prefault(p, sizeof(*p)); /* here, not on the worker */
		t->mem.ports += sz;
		t->mem.total += sz;
	}
	memset(p->next, 0, sizeof(p->next));
	t->public_ips[slot] = ip;
	/* seen by the writer through the configuration published next */
	__atomic_store_n(&t->ports[slot], p, __ATOMIC_RELEASE);
	return 0;
}

void
tg_nat_table_slot_free(struct tg_nat_table *t, uint16_t slot)
{
	size_t sz = RTE_ALIGN_CEIL(
		sizeof(struct tg_nat_ports), RTE_CACHE_LINE_SIZE);

	if (t == NULL || slot >= t->n_public || t->ports[slot] == NULL)
		return;
	rte_free(t->ports[slot]);
	__atomic_store_n(&t->ports[slot], NULL, __ATOMIC_RELAXED);
	t->mem.ports -= sz;
	t->mem.total -= sz;
}

int
tg_nat_table_memory(const struct tg_nat_table *t, size_t *bytes)
{
	if (t == NULL || bytes == NULL)
		return -EINVAL;
	*bytes = t->mem.total;
	return 0;
}

int
tg_nat_table_memory_parts(
	const struct tg_nat_table *t, struct tg_nat_table_mem *mem)
{
	if (t == NULL || mem == NULL)
		return -EINVAL;
	*mem = t->mem;
	return 0;
}

/* ---- mappings ---- */

/** First port in [a, b] whose bit is clear in @p used, or UINT32_MAX. */
static uint32_t
port_free_in(const uint64_t *used, uint32_t a, uint32_t b)
{
	uint32_t w;

	for (w = a >> 6; w <= b >> 6; w++) {
		uint64_t f = ~used[w];

		if (w == a >> 6)
			f &= ~UINT64_C(0) << (a & 63);
		if (w == b >> 6 && (b & 63) != 63)
			f &= (UINT64_C(2) << (b & 63)) - 1;
		if (f != 0)
			return w * 64 + (uint32_t)__builtin_ctzll(f);
	}
	return UINT32_MAX;
}

/* The port a new mapping of class @p c would get in [lo, hi]: @p pref
 * when it is free, else the next free one from where the last search
 * ended. Only reads (tg_nat_map_peek() asks it off the writer). */
static int
port_find(const struct tg_nat_ports *ps, int c, uint16_t lo, uint16_t hi,
	uint16_t pref, uint16_t *port)
{
	const uint64_t *used = ps->used[c];
	uint32_t start, p;

	if (pref >= lo && pref <= hi &&
		(used[pref >> 6] >> (pref & 63) & 1) == 0) {
		*port = pref;
		return 0;
	}
	start = ps->next[c];
	if (start < lo || start > hi)
		start = lo;
	p = port_free_in(used, start, hi);
	if (p == UINT32_MAX && start > lo)
		p = port_free_in(used, lo, start - 1);
	if (p == UINT32_MAX)
		return -EADDRINUSE;
	*port = (uint16_t)p;
	return 1;
}

static int
port_pick(struct tg_nat_ports *ps, int c, uint16_t lo, uint16_t hi,
	uint16_t pref, uint16_t *port)
{
	int rc = port_find(ps, c, lo, hi, pref, port);

	if (rc == 1) /* searched: the next search goes on from there */
		ps->next[c] = (uint16_t)(*port + 1);
	return rc < 0 ? rc : 0;
}

uint32_t
tg_nat_map_lookup_private(const struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port)
{
	struct nat_map_key k = {
		.ip = priv_ip, .port = priv_port, .proto = proto};

	return tg_nat_index_lookup(
		t->map_ix, nat_map_hash(t, &k), nat_map_match, t, &k);
}

/* ---- mappings read off the writer (explain) ---- */

/* A copy of mapping @p mi as it is now: one load per field, so a record
 * the writer frees or reuses meanwhile may mix two states; the caller
 * checks the key on the copy, so what it keeps is one of this key's. */
static inline void
nat_map_copy(const struct tg_nat_table *t, uint32_t mi, struct tg_nat_map *c)
{
	const struct tg_nat_map *m = &t->maps[mi];

	c->priv_ip = __atomic_load_n(&m->priv_ip, __ATOMIC_RELAXED);
	c->priv_port = __atomic_load_n(&m->priv_port, __ATOMIC_RELAXED);
	c->pub_port = __atomic_load_n(&m->pub_port, __ATOMIC_RELAXED);
	c->sessions = __atomic_load_n(&m->sessions, __ATOMIC_RELAXED);
	c->addr = __atomic_load_n(&m->addr, __ATOMIC_RELAXED);
	c->proto = __atomic_load_n(&m->proto, __ATOMIC_RELAXED);
	c->flags = __atomic_load_n(&m->flags, __ATOMIC_RELAXED);
}

struct map_find_ctx {
	const struct tg_nat_table *t;
	struct tg_nat_map *copy;
};

static int
map_find_match(const void *ctx, const void *key, uint32_t idx)
{
	const struct map_find_ctx *f = ctx;
	const struct nat_map_key *k = key;

	nat_map_copy(f->t, idx, f->copy);
	return f->copy->priv_ip == k->ip && f->copy->priv_port == k->port &&
	       f->copy->proto == k->proto;
}

int
tg_nat_map_find_private(const struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port, struct tg_nat_map *copy)
{
	struct nat_map_key k = {
		.ip = priv_ip, .port = priv_port, .proto = proto};
	struct map_find_ctx f = {t, copy};

	return tg_nat_index_lookup(t->map_ix, nat_map_hash(t, &k),
		       map_find_match, &f, &k) != TG_NAT_NONE
		       ? 0
		       : -ENOENT;
}

int
tg_nat_map_find_public(const struct tg_nat_table *t, uint16_t addr,
	uint8_t proto, uint16_t pub_port, struct tg_nat_map *copy)
{
	const struct tg_nat_ports *p;
	int c = tg_nat_pclass(proto);
	uint32_t v;

	if (addr >= t->n_public || c < 0)
		return -ENOENT;
	p = __atomic_load_n(&t->ports[addr], __ATOMIC_ACQUIRE);
	if (p == NULL)
		return -ENOENT;
	v = __atomic_load_n(&p->map[c][pub_port], __ATOMIC_RELAXED);
	if (v == 0 || v > t->max_mappings)
		return -ENOENT;
	nat_map_copy(t, v - 1, copy);
	return copy->proto == proto && copy->addr == addr &&
			       copy->pub_port == pub_port
		       ? 0
		       : -ENOENT;
}

int
tg_nat_map_peek(const struct tg_nat_table *t, uint8_t proto, uint32_t priv_ip,
	uint16_t priv_port, uint16_t addr, uint16_t lo, uint16_t hi,
	uint16_t pref, struct tg_nat_map *m)
{
	const struct tg_nat_ports *ps;
	int c = tg_nat_pclass(proto);
	uint16_t port;

	if (addr >= t->n_public || lo > hi)
		return -EINVAL;
	ps = __atomic_load_n(&t->ports[addr], __ATOMIC_ACQUIRE);
	if (ps == NULL)
		return -EINVAL;
	if (c < 0)
		return -EPROTONOSUPPORT;
	if (tg_nat_map_find_private(t, proto, priv_ip, priv_port, m) == 0)
		return 0;
	/* tg_nat_map_get_or_create()'s order: a free record, a port */
	if (__atomic_load_n(&t->stats.mappings, __ATOMIC_RELAXED) >=
		t->max_mappings)
		return -ENOBUFS;
	if (port_find(ps, c, lo, hi, pref, &port) < 0)
		return -EADDRINUSE;
	*m = (struct tg_nat_map){.priv_ip = priv_ip,
		.priv_port = priv_port,
		.pub_port = port,
		.addr = addr,
		.proto = proto};
	return 1;
}

int
tg_nat_map_get_or_create(struct tg_nat_table *t, uint8_t proto,
	uint32_t priv_ip, uint16_t priv_port, uint16_t addr, uint16_t lo,
	uint16_t hi, uint16_t pref, uint32_t *out)
{
	struct nat_map_key k = {
		.ip = priv_ip, .port = priv_port, .proto = proto};
	struct tg_nat_ports *ps;
	struct tg_nat_map *m;
	uint32_t h, mi;
	uint16_t port;
	int c;

	if (addr >= t->n_public || t->ports[addr] == NULL || lo > hi ||
		out == NULL)
		return -EINVAL;
	ps = t->ports[addr];
	c = tg_nat_pclass(proto);
	if (c < 0)
		return -EPROTONOSUPPORT;
	h = nat_map_hash(t, &k);
	mi = tg_nat_index_lookup(t->map_ix, h, nat_map_match, t, &k);
	if (mi != TG_NAT_NONE) {
		*out = mi;
		return 0;
	}
	mi = t->map_free;
	if (mi == TG_NAT_NONE)
		return nat_fail(t, TG_NAT_FAIL_MAPS_FULL);
	if (port_pick(ps, c, lo, hi, pref, &port) != 0)
		return nat_fail(t, TG_NAT_FAIL_PORTS);
	if (tg_nat_index_insert(t->map_ix, h, mi) != 0)
		return nat_fail(t, TG_NAT_FAIL_INDEX_FULL);
	m = &t->maps[mi];
	t->map_free = m->priv_ip;
	*m = (struct tg_nat_map){.priv_ip = priv_ip,
		.priv_port = priv_port,
		.pub_port = port,
		.sessions = 0,
		.addr = addr,
		.proto = proto};
	ps->map[c][port] = mi + 1;
	ps->used[c][port >> 6] |= UINT64_C(1) << (port & 63);
	t->stats.mappings++;
	t->stats.maps_created++;
	*out = mi;
	return 1;
}

/** Take mapping @p mi out of the private index and its port array. */
static void
nat_map_unlink(struct tg_nat_table *t, uint32_t mi)
{
	struct tg_nat_map *m = &t->maps[mi];
	struct nat_map_key k = {
		.ip = m->priv_ip, .port = m->priv_port, .proto = m->proto};
	struct tg_nat_ports *ps = t->ports[m->addr];
	int c = tg_nat_pclass(m->proto);

	tg_nat_index_delete(t->map_ix, nat_map_hash(t, &k), mi);
	ps->map[c][m->pub_port] = 0;
	ps->used[c][m->pub_port >> 6] &= ~(UINT64_C(1) << (m->pub_port & 63));
}

/** Free mapping @p mi (in use, without sessions). */
static void
nat_map_free(struct tg_nat_table *t, uint32_t mi)
{
	struct tg_nat_map *m = &t->maps[mi];

	if (!(m->flags & TG_NAT_MF_DETACHED))
		nat_map_unlink(t, mi);
	m->proto = 0;
	m->flags = 0;
	m->priv_ip = t->map_free;
	t->map_free = mi;
	t->stats.mappings--;
	t->stats.maps_freed++;
}

int
tg_nat_map_detach(struct tg_nat_table *t, uint32_t map)
{
	if (map >= t->max_mappings || t->maps[map].proto == 0 ||
		(t->maps[map].flags & TG_NAT_MF_DETACHED))
		return -EINVAL;
	nat_map_unlink(t, map);
	t->maps[map].flags |= TG_NAT_MF_DETACHED;
	return 0;
}

int
tg_nat_map_release(struct tg_nat_table *t, uint32_t map)
{
	if (map >= t->max_mappings || t->maps[map].proto == 0)
		return -EINVAL;
	if (t->maps[map].sessions != 0)
		return -EBUSY;
	nat_map_free(t, map);
	return 0;
}

/* ---- hosts ---- */

/* May private host @p ip have another session (@p local: the appliance's
 * own)? Its record's count against max_sessions_per_host, or a free
 * record for a new host: 0 and *hi (TG_NAT_NONE: a new host), or the
 * reason. Only reads: tg_nat_sess_create_peek() asks it off the writer. */
static int
nat_host_check(const struct tg_nat_table *t, uint32_t ip, bool local,
	uint32_t *hi, enum tg_nat_fail *why)
{
	*hi = tg_nat_index_lookup(
		t->host_ix, nat_host_hash(t, ip), nat_host_match, t, &ip);
	if (*hi != TG_NAT_NONE) {
		if (t->max_per_host != 0 && !local &&
			__atomic_load_n(&t->hosts[*hi].sessions,
				__ATOMIC_RELAXED) >= t->max_per_host) {
			*why = TG_NAT_FAIL_HOST_LIMIT;
			return -1;
		}
		return 0;
	}
	if (__atomic_load_n(&t->host_free, __ATOMIC_RELAXED) == TG_NAT_NONE) {
		*why = TG_NAT_FAIL_HOSTS_FULL;
		return -1;
	}
	return 0;
}

int
tg_nat_sess_create_peek(
	const struct tg_nat_table *t, uint32_t priv_ip, bool local)
{
	enum tg_nat_fail why;
	uint32_t hi;

	/* tg_nat_sess_create_flags()'s order: a record, the host's */
	if (!tg_nat_sess_room(t, local))
		return -ENOSPC;
	return nat_host_check(t, priv_ip, local, &hi, &why) == 0
		       ? 0
		       : nat_fail_errno[why];
}

static void
nat_host_put(struct tg_nat_table *t, uint32_t hi)
{
	struct tg_nat_host *h = &t->hosts[hi];

	if (--h->sessions != 0)
		return;
	tg_nat_index_delete(t->host_ix, nat_host_hash(t, h->ip), hi);
	h->ip = t->host_free;
	t->host_free = hi;
	t->stats.hosts--;
}

/* ---- sessions ---- */

int
tg_nat_sess_create(struct tg_nat_table *t, uint32_t map, uint32_t rem_ip,
	uint16_t rem_port, uint32_t now, uint8_t tmo_class, uint32_t *out)
{
	return tg_nat_sess_create_flags(
		t, map, rem_ip, rem_port, now, tmo_class, 0, out);
}

/*
 * Sessions about to be made miss up to six cache lines each that nothing
 * fetched yet: the mapping index's bucket and the mapping, the host
 * index's bucket and the host record, both out2in buckets. One at a time
 * each waits for the one before it (about 1,500 cycles a session at ten
 * million). Fetched here for the whole group in three rounds, each
 * round's loads issued before the next round reads them, so the group's
 * misses overlap and tg_nat_sess_create_flags() finds them in cache.
 */
void
tg_nat_sess_create_prefetch(
	const struct tg_nat_table *t, const struct tg_nat_key *keys, uint32_t n)
{
	uint32_t hm[TG_NAT_BULK_MAX], hh[TG_NAT_BULK_MAX];
	uint32_t i, c;

	n = RTE_MIN(n, (uint32_t)TG_NAT_BULK_MAX);
	for (i = 0; i < n; i++) {
		struct nat_map_key k = {.ip = keys[i].ip,
			.port = keys[i].port,
			.proto = keys[i].proto};

		hm[i] = nat_map_hash(t, &k);
		hh[i] = nat_host_hash(t, keys[i].ip);
		tg_nat_index_prefetch(t->map_ix, hm[i]);
		tg_nat_index_prefetch(t->host_ix, hh[i]);
	}
	for (i = 0; i < n; i++) {
		c = tg_nat_index_candidate(t->map_ix, hm[i]);
		if (c != TG_NAT_NONE)
			rte_prefetch0(&t->maps[c]);
		c = tg_nat_index_candidate(t->host_ix, hh[i]);
		if (c != TG_NAT_NONE)
			rte_prefetch0(&t->hosts[c]);
	}
	for (i = 0; i < n; i++) {
		struct nat_map_key k = {.ip = keys[i].ip,
			.port = keys[i].port,
			.proto = keys[i].proto};
		struct tg_nat_key kout = keys[i];
		const struct tg_nat_map *m;

		c = tg_nat_index_lookup(t->map_ix, hm[i], nat_map_match, t, &k);
		if (c == TG_NAT_NONE) /* a new mapping: no port chosen yet */
			continue;
		m = &t->maps[c];
		kout.ip = t->public_ips[m->addr];
		kout.port = m->pub_port;
		tg_nat_index_prefetch(t->ix[TG_NAT_OUT2IN],
			tg_nat_key_hash(t, TG_NAT_OUT2IN, &kout));
	}
}

int
tg_nat_sess_create_flags(struct tg_nat_table *t, uint32_t map, uint32_t rem_ip,
	uint16_t rem_port, uint32_t now, uint8_t tmo_class, uint8_t flags,
	uint32_t *out)
{
	bool local = (flags & TG_NAT_SF_LOCAL) != 0;
	struct tg_nat_map *m;
	struct tg_nat_sess *s;
	struct tg_nat_key kin, kout;
	uint32_t h_in, h_out, idx, hi;
	enum tg_nat_fail why;
	bool new_host = false;
	int rc;

	if (map >= t->max_mappings || t->maps[map].proto == 0 ||
		tmo_class >= t->n_classes || out == NULL)
		return -EINVAL;
	m = &t->maps[map];
	idx = t->sess_free;
	if (idx == TG_NAT_NONE || !tg_nat_sess_room(t, local)) {
		rc = nat_fail(t, TG_NAT_FAIL_SESS_FULL);
		goto fail;
	}
	kin = (struct tg_nat_key){.ip = m->priv_ip,
		.rem_ip = rem_ip,
		.port = m->priv_port,
		.rem_port = rem_port,
		.proto = m->proto};
	kout = kin;
	kout.ip = t->public_ips[m->addr];
	kout.port = m->pub_port;
	h_in = tg_nat_key_hash(t, TG_NAT_IN2OUT, &kin);
	if (tg_nat_sess_lookup_h(t, TG_NAT_IN2OUT, h_in, &kin) != TG_NAT_NONE) {
		rc = nat_fail(t, TG_NAT_FAIL_EXISTS);
		goto fail;
	}
	if (nat_host_check(t, m->priv_ip, local, &hi, &why) != 0) {
		rc = nat_fail(t, why);
		goto fail;
	}
	if (hi == TG_NAT_NONE) {
		hi = t->host_free;
		if (tg_nat_index_insert(t->host_ix,
			    nat_host_hash(t, m->priv_ip), hi) != 0) {
			rc = nat_fail(t, TG_NAT_FAIL_INDEX_FULL);
			goto fail;
		}
		t->host_free = t->hosts[hi].ip;
		t->hosts[hi] = (struct tg_nat_host){.ip = m->priv_ip};
		t->stats.hosts++;
		new_host = true;
	}
	h_out = tg_nat_key_hash(t, TG_NAT_OUT2IN, &kout);
	if (tg_nat_index_insert(t->ix[TG_NAT_IN2OUT], h_in, idx) != 0)
		goto index_full;
	if (tg_nat_index_insert(t->ix[TG_NAT_OUT2IN], h_out, idx) != 0) {
		tg_nat_index_delete(t->ix[TG_NAT_IN2OUT], h_in, idx);
		goto index_full;
	}

	s = &t->sess[idx];
	t->sess_free = s->next;
	/* the next session's record: in cache by the time it is made */
	if (t->sess_free != TG_NAT_NONE)
		rte_prefetch0(&t->sess[t->sess_free]);
	nat_seq_begin(s);
	s->priv_ip = kin.ip;
	s->pub_ip = kout.ip;
	s->rem_ip = rem_ip;
	s->priv_port = kin.port;
	s->pub_port = kout.port;
	s->rem_port = rem_port;
	s->proto = m->proto;
	s->state = 0;
	s->flags = TG_NAT_SF_USED | (local ? TG_NAT_SF_LOCAL : 0);
	s->tmo_class = tmo_class;
	s->addr = m->addr;
	s->last = now;
	s->map = map;
	s->created = now;
	s->pkts_i2o = 0;
	s->pkts_o2i = 0;
	s->host = hi;
	nat_seq_end(s);
	t->hosts[hi].sessions++;
	m->sessions++;
	nat_wheel_start(t, now);
	nat_wheel_add(t, idx, now + nat_timeout(t, tmo_class));
	t->stats.sessions++;
	t->stats.local += local;
	t->stats.created++;
	*out = idx;
	return 0;

index_full:
	rc = nat_fail(t, TG_NAT_FAIL_INDEX_FULL);
	if (new_host) {
		t->hosts[hi].sessions = 1;
		nat_host_put(t, hi);
	}
fail:
	if (m->sessions == 0)
		nat_map_free(t, map);
	return rc;
}

void
nat_sess_remove(struct tg_nat_table *t, uint32_t idx)
{
	struct tg_nat_sess *s = &t->sess[idx];
	struct tg_nat_key kin, kout;
	struct tg_nat_map *m = &t->maps[s->map];

	nat_sess_keys(s, &kin, &kout);
	tg_nat_index_delete(t->ix[TG_NAT_IN2OUT],
		tg_nat_key_hash(t, TG_NAT_IN2OUT, &kin), idx);
	tg_nat_index_delete(t->ix[TG_NAT_OUT2IN],
		tg_nat_key_hash(t, TG_NAT_OUT2IN, &kout), idx);
	if (--m->sessions == 0)
		nat_map_free(t, s->map);
	nat_host_put(t, s->host);
	t->stats.local -= (s->flags & TG_NAT_SF_LOCAL) != 0;
	nat_seq_begin(s);
	s->flags = 0;
	nat_seq_end(s);
	s->next = t->sess_free;
	t->sess_free = idx;
}

static inline bool
nat_sess_valid(const struct tg_nat_table *t, uint32_t idx)
{
	return idx < t->max_sessions && (t->sess[idx].flags & TG_NAT_SF_USED);
}

int
tg_nat_sess_delete(struct tg_nat_table *t, uint32_t idx)
{
	if (!nat_sess_valid(t, idx))
		return -EINVAL;
	nat_wheel_del(t, idx);
	nat_sess_remove(t, idx);
	t->stats.deleted++;
	t->stats.sessions--;
	return 0;
}

int
tg_nat_sess_set_class(
	struct tg_nat_table *t, uint32_t idx, uint8_t tmo_class, uint32_t now)
{
	struct tg_nat_sess *s;

	if (!nat_sess_valid(t, idx) || tmo_class >= t->n_classes)
		return -EINVAL;
	s = &t->sess[idx];
	nat_wheel_del(t, idx);
	nat_seq_begin(s);
	s->tmo_class = tmo_class;
	s->last = now;
	nat_seq_end(s);
	nat_wheel_add(t, idx, now + nat_timeout(t, tmo_class));
	return 0;
}

int
tg_nat_sess_set_state(struct tg_nat_table *t, uint32_t idx, uint8_t state)
{
	struct tg_nat_sess *s;

	if (!nat_sess_valid(t, idx))
		return -EINVAL;
	s = &t->sess[idx];
	nat_seq_begin(s);
	s->state = state;
	nat_seq_end(s);
	return 0;
}

int
tg_nat_sess_read(
	const struct tg_nat_table *t, uint32_t idx, struct tg_nat_sess *copy)
{
	uint32_t begin;

	if (t == NULL || copy == NULL || idx >= t->max_sessions)
		return -EINVAL;
	begin = tg_nat_sess_read_begin(t, idx);
	memcpy(copy, &t->sess[idx], sizeof(*copy));
	if (tg_nat_sess_read_retry(t, idx, begin))
		return -EAGAIN;
	return (copy->flags & TG_NAT_SF_USED) ? 0 : -ENOENT;
}

/* tg_nat_sess_find()'s match: the record copied consistently, then its
 * key compared. */
struct find_ctx {
	const struct tg_nat_table *t;
	enum tg_nat_dir dir;
	struct tg_nat_sess *copy;
};

static int
find_match(const void *ctx, const void *key, uint32_t idx)
{
	const struct find_ctx *f = ctx;
	int rc, tries;

	for (tries = 0; tries < 100; tries++) {
		rc = tg_nat_sess_read(f->t, idx, f->copy);
		if (rc != -EAGAIN)
			break;
	}
	return rc == 0 && tg_nat_sess_has_key(f->copy, f->dir, key);
}

int
tg_nat_sess_find(const struct tg_nat_table *t, enum tg_nat_dir dir,
	const struct tg_nat_key *k, struct tg_nat_sess *copy)
{
	struct find_ctx f = {t, dir, copy};

	return tg_nat_index_lookup(t->ix[dir], tg_nat_key_hash(t, dir, k),
		       find_match, &f, k) != TG_NAT_NONE
		       ? 0
		       : -ENOENT;
}
