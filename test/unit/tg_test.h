/* SPDX-License-Identifier: BSD-3-Clause
 * Shared helpers for the CUnit suites: EAL start-up with small, private
 * resources, and the CUnit run/exit convention.
 */
#ifndef TG_TEST_H
#define TG_TEST_H

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
CU_pSuite tg_test_suite(const char *name, CU_InitializeFunc init,
	CU_CleanupFunc clean, ...);

#endif /* TG_TEST_H */
