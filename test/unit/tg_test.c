/* SPDX-License-Identifier: BSD-3-Clause
 * Shared helpers for the CUnit suites (see tg_test.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "tg_test.h"

static char prefix[64];

int
tg_test_eal_init(const char *name)
{
	char *argv[16];
	int argc = 0;

	snprintf(prefix, sizeof(prefix), "tg-unit-%s-%d", name, (int)getpid());
	argv[argc++] = (char *)(uintptr_t)name;
	argv[argc++] = "-l";
	argv[argc++] = "0-1";
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--log-level=lib.eal:error";
	argv[argc++] = "--file-prefix";
	argv[argc++] = prefix;
	argv[argc] = NULL;
	return rte_eal_init(argc, argv) < 0 ? -1 : 0;
}

void
tg_test_eal_cleanup(void)
{
	char cmd[160];

	rte_eal_cleanup();
	/* DPDK leaves its runtime directory behind: remove ours. */
	snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/%s", prefix);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove /var/run/dpdk/%s\n", prefix);
}

CU_pSuite
tg_test_suite(
	const char *name, CU_InitializeFunc init, CU_CleanupFunc clean, ...)
{
	CU_pSuite s = CU_add_suite(name, init, clean);
	va_list ap;
	const char *tname;

	if (s == NULL)
		return NULL;
	va_start(ap, clean);
	while ((tname = va_arg(ap, const char *)) != NULL) {
		CU_TestFunc fn = va_arg(ap, CU_TestFunc);

		CU_add_test(s, tname, fn);
	}
	va_end(ap);
	return s;
}

CU_pSuite
tg_test_suite_of(const char *name, CU_InitializeFunc init, CU_CleanupFunc clean,
	const CU_TestInfo *tests)
{
	CU_pSuite s = CU_add_suite(name, init, clean);

	if (s == NULL)
		return NULL;
	for (; tests->pName != NULL; tests++)
		CU_add_test(s, tests->pName, tests->pTestFunc);
	return s;
}

int
tg_test_run(void)
{
	unsigned int failures;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures =
		CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures != 0 ? 1 : 0;
}
