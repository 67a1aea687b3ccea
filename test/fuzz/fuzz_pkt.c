/* SPDX-License-Identifier: BSD-3-Clause
 * libFuzzer target: RX validation of a bare IPv4 packet on a plain heap
 * buffer of exactly the input's size, so ASan sees any read past it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tg_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t hl = 0, tl = 0, v;
	uint8_t *buf = malloc(size ? size : 1);

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	v = tg_pkt_ipv4_check(buf, (uint32_t)size, true, &hl, &tl);
	if (v == TG_V_NEXT && (hl < 20 || hl > tl || tl > size))
		abort();
	free(buf);
	return 0;
}
