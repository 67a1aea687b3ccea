/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target for tollgatectl's JSON reader: any bytes parse or fail
 * cleanly, and what parses writes back as JSON that parses again to the
 * same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits lim = {.max_size = 1 << 20, .max_depth = 32};
	struct json_doc *doc, *again;
	char *out1 = NULL, *out2 = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *f;

	doc = json_parse((const char *)data, size, &lim, NULL);
	if (doc == NULL)
		return 0;
	f = open_memstream(&out1, &n1);
	if (f == NULL)
		abort();
	json_write(f, json_root(doc));
	fclose(f);
	again = json_parse(out1, n1, &lim, NULL);
	if (again == NULL)
		abort(); /* the writer produced something the reader refuses */
	f = open_memstream(&out2, &n2);
	if (f == NULL)
		abort();
	json_write(f, json_root(again));
	fclose(f);
	if (n1 != n2 || memcmp(out1, out2, n1) != 0)
		abort(); /* not a fixed point */
	free(out1);
	free(out2);
	json_free(again);
	json_free(doc);
	return 0;
}
