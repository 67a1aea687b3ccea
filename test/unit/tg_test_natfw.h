/* SPDX-License-Identifier: BSD-3-Clause
 * The fixture of the natfw suites (test_natfw, test_natfw_pptp,
 * test_natfw_reload): a configuration from YAML text, its table and
 * per-lcore context on a fake clock, the steps packets take, EAL and the
 * mbuf pool. Nothing here asserts: each suite keeps its own checks.
 */
#ifndef TG_TEST_NATFW_H
#define TG_TEST_NATFW_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "tg_config.h"
#include "tg_natfw.h"
#include "tg_pkt.h"
#include "tg_test.h"
#include "tg_test_natfw_yaml.h"

/* The fake TSC: `now` in milliseconds. */
#define TG_TEST_NATFW_HZ 1000

/* The verdicts the stage may give. */
#define PASS	TG_V_NEXT
#define FWD	TG_V_GOTO(TG_STAGE_FORWARD)
#define DROP(r) TG_V_DROP(TG_NATFW_DROP_##r)

struct tg_test_natfw_fx {
	struct tg_config *cfg;
	struct tg_natfw_table *nt;
	struct tg_natfw_ctx *ctx;
};

/* A step a packet takes: its path, mode, meta flags, rx_if and tx_if. */
struct tg_test_natfw_dir {
	uint8_t path, mode, flags;
	uint16_t rx, tx;
};

/** Start EAL (tg_test_eal_init()), make the suite's pool of @p n_mbuf
 *  mbufs with natfw's private area and initialise the CUnit registry.
 *  The pool, or NULL. */
struct rte_mempool *tg_test_natfw_setup(const char *name, unsigned int n_mbuf);

/** Run the suites (tg_test_run()), free @p mp, stop EAL; the exit code. */
int tg_test_natfw_finish(struct rte_mempool *mp);

/** The configuration printf(@p fmt, ...) makes, parsed as @p name; NULL
 *  (the text and its errors on stderr) when it does not load. */
struct tg_config *tg_test_natfw_parse(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** @p x with configuration @p cfg (taken over; NULL: fails), its table
 *  for interfaces @p ids[0..2] and a context at TG_TEST_NATFW_HZ. False
 *  (the error on stderr) when one of them fails. */
bool tg_test_natfw_open(struct tg_test_natfw_fx *x, struct tg_config *cfg,
	const uint16_t ids[3]);

/** Free what @p x holds and clear it. */
void tg_test_natfw_close(struct tg_test_natfw_fx *x);

/** Ticks every second from @p from to @p to, then a few more at @p to
 *  (expiry's budget). */
void tg_test_natfw_ticks(
	struct tg_test_natfw_fx *x, uint64_t from, uint64_t to);

/** @p m's meta as step @p d gives it, its l3_len from the IPv4 header of
 *  the Ethernet frame @p m holds. */
void tg_test_natfw_meta(struct rte_mbuf *m, const struct tg_test_natfw_dir *d);

/** The IPv4 packet of frame @p p (@p n bytes), in hex, 4 bytes a group,
 *  on stderr after @p what. */
void tg_test_natfw_hex(const char *what, const uint8_t *p, uint16_t n);

#endif /* TG_TEST_NATFW_H */
