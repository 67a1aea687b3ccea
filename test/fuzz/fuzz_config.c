/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: any byte string as a YAML config must either load or
 * be rejected with at least one positioned error — never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tg_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tg_cfg_errors errs;
	struct tg_config *cfg = NULL;
	int rc;

	rc = tg_config_parse("<fuzz>", (const char *)data, size, &cfg, &errs);
	if (rc == 0) {
		if (cfg == NULL)
			abort();
		tg_config_free(cfg);
	} else if (cfg != NULL || errs.n == 0) {
		abort();
	}
	return 0;
}
