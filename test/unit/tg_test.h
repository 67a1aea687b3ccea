/* SPDX-License-Identifier: BSD-3-Clause
 * Shared helpers for the CUnit suites: EAL start-up with small, private
 * resources, and the CUnit run/exit convention.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

#include <stdint.h>
#include <CUnit/Basic.h>

/** Start EAL for a unit test: --no-huge -m 512 --no-pci, lcores 0-1, a
 *  file prefix unique to this process (removed by tg_test_eal_cleanup).
 *  Returns 0 or -1. */
int tg_test_eal_init(const char *name);
void tg_test_eal_cleanup(void);

/** Run every registered suite with the basic runner, clean the registry
 *  up and return the process exit code (non-zero when a test failed:
 *  CU_basic_run_tests() alone returns success either way). */
int tg_test_run(void);

/** Add a suite with its tests: pairs of name, function, ending in NULL. */
CU_pSuite tg_test_suite(
	const char *name, CU_InitializeFunc init, CU_CleanupFunc clean, ...);

/** The same with the tests of a table ending in CU_TEST_INFO_NULL (one
 *  table may serve several suites). */
CU_pSuite tg_test_suite_of(const char *name, CU_InitializeFunc init,
	CU_CleanupFunc clean, const CU_TestInfo *tests);

/* Building packets byte by byte, in network order, and the RFC 1071 sum
 * written here: the suites check lib/pkt's results against these, so they
 * must not come from it. */
static inline void
tg_test_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
tg_test_put32(uint8_t *p, uint32_t v)
{
	tg_test_put16(p, (uint16_t)(v >> 16));
	tg_test_put16(p + 2, (uint16_t)v);
}

static inline uint32_t
tg_test_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/** The Internet checksum of @p len bytes (even). */
static inline uint16_t
tg_test_ip_sum(const uint8_t *p, int len)
{
	uint32_t s = 0;
	int i;

	for (i = 0; i < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif /* TG_TEST_H */
