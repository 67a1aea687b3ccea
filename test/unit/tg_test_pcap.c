/* SPDX-License-Identifier: BSD-3-Clause
 * The capture loop of the pcap-fed unit tests (tg_test_pcap.h).
 */
#include <stdio.h>

#include <pcap/pcap.h>

#include "tg_test_pcap.h"

int
tg_test_pcap_read(const char *path, tg_test_pcap_fn each, void *ctx)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, eb);
	int n = 0;

	if (p == NULL) {
		fprintf(stderr, "%s: %s\n", path, eb);
		return -1;
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		if (each(ctx, d, h->caplen) != 0) {
			fprintf(stderr, "%s: frame %d refused\n", path, n + 1);
			pcap_close(p);
			return -1;
		}
		n++;
	}
	pcap_close(p);
	return n > 0 ? n : -1;
}
