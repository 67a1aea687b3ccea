/* SPDX-License-Identifier: BSD-3-Clause
 * Unit tests fed by captures that scapy wrote (test/unit/data/gen_*.py):
 * the libpcap loop they share. Linked only into the suites that read a
 * capture (test/unit/meson.build), so the others need no libpcap.
 */
#ifndef TG_TEST_PCAP_H
#define TG_TEST_PCAP_H

#include <stdint.h>

/** Called for each frame of the capture; nonzero stops the read as a
 *  failure. */
typedef int (*tg_test_pcap_fn)(void *ctx, const uint8_t *d, uint32_t len);

/** Every frame of @p path to @p each, in order. Returns the frames read
 *  (> 0), or -1 (the file cannot be read, holds no frame, or @p each
 *  refused one), with the reason on stderr. */
int tg_test_pcap_read(const char *path, tg_test_pcap_fn each, void *ctx);

#endif /* TG_TEST_PCAP_H */
