/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl explain: a dry run of a described packet through the
 * running configuration (/tollgate/explain), one line per step.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "tollgatectl.h"

#define CMD_EXPLAIN "/tollgate/explain"

/* The bytes of a frame a request carries: its hex and the rest of the
 * request stay within the 1,023 bytes DPDK's telemetry reads. The rest
 * of a longer frame goes as its length (zeros): headers decide. */
#define FRAME_MAX 448

/*
 * Frame @p index (1 = the first, as tshark and Wireshark number them) of
 * the capture @p path (pcap or pcapng: libpcap reads both), as "frame HEX
 * len N" into @p out. A capture of bare IP (a tun's) gets an Ethernet
 * header in front, as tollgate's own bare-IP ports do. 0, or CTL_USAGE.
 */
static int
pcap_frame(const char *path, unsigned long index, char *out, size_t len)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	static const uint8_t eth_ipv4[14] = {[12] = 0x08};
	const struct pcap_pkthdr *hp;
	struct pcap_pkthdr *h;
	uint8_t frame[FRAME_MAX];
	const u_char *d;
	unsigned long i;
	uint32_t n = 0, wire, k;
	size_t used;
	pcap_t *p;
	int link, rc;

	p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		fprintf(stderr, "tollgatectl: explain: %s\n", errbuf);
		return CTL_USAGE;
	}
	link = pcap_datalink(p);
	if (link != DLT_EN10MB && link != DLT_RAW && link != DLT_IPV4) {
		fprintf(stderr,
			"tollgatectl: explain: %s: link type %s, not "
			"Ethernet or IPv4\n",
			path, pcap_datalink_val_to_name(link));
		pcap_close(p);
		return CTL_USAGE;
	}
	for (i = 0; i < index; i++) {
		rc = pcap_next_ex(p, &h, &d);
		if (rc != 1) {
			fprintf(stderr,
				"tollgatectl: explain: %s: %s (frame %lu "
				"asked for)\n",
				path,
				rc == PCAP_ERROR_BREAK ? "fewer frames"
						       : pcap_geterr(p),
				index);
			pcap_close(p);
			return CTL_USAGE;
		}
	}
	hp = h;
	wire = hp->len;
	if (link != DLT_EN10MB) {
		memcpy(frame, eth_ipv4, sizeof(eth_ipv4));
		n = sizeof(eth_ipv4);
		wire += sizeof(eth_ipv4);
	}
	k = hp->caplen < FRAME_MAX - n ? hp->caplen : FRAME_MAX - n;
	memcpy(frame + n, d, k);
	n += k;
	pcap_close(p);
	if (n == 0 || wire > 65535) {
		fprintf(stderr, "tollgatectl: explain: frame %lu: %s\n", index,
			n == 0 ? "empty" : "longer than 65,535 bytes");
		return CTL_USAGE;
	}
	used = (size_t)snprintf(out, len, "frame ");
	for (k = 0; k < n && used + 3 < len; k++)
		used += (size_t)snprintf(
			out + used, len - used, "%02x", frame[k]);
	if (snprintf(out + used, len - used, " len %u", wire) >=
		(int)(len - used)) {
		fprintf(stderr, "tollgatectl: explain: too long\n");
		return CTL_USAGE;
	}
	return 0;
}

/* The options as the appliance takes them: "--in lan0" → "in lan0",
 * "--from-host" → "from host", "--esp 0x3002" → "esp 12290"; other words
 * (the protocol, "SRC -> DST") as they are. 0, or CTL_USAGE. */
static int
explain_params(int argc, char **argv, char *out, size_t len)
{
	static const char *const with_value[] = {"in", "flags", "ttl", "type",
		"code", "length", "esp", "ah", "frag", "l4", "frame", "len",
		"call"};
	const char *pcap = NULL;
	unsigned long index = 1;
	size_t used = 0, k;
	char *end;
	int i, n;

	out[0] = '\0';
	for (i = 0; i < argc; i++) {
		const char *w = argv[i], *val = NULL;
		char num[16];

		/* a frame from a capture: read here, sent as "frame HEX" */
		if ((strcmp(w, "--pcap") == 0 || strcmp(w, "--index") == 0) &&
			i + 1 < argc) {
			if (w[2] == 'p') {
				pcap = argv[++i];
				continue;
			}
			index = strtoul(argv[++i], &end, 10);
			if (*end != '\0' || index == 0) {
				fprintf(stderr,
					"tollgatectl: explain: --index "
					"'%s': a frame number, 1 or more\n",
					argv[i]);
				return CTL_USAGE;
			}
			continue;
		}
		if (strcmp(w, "--from-host") == 0) {
			w = "from host";
		} else if (strcmp(w, "--mf") == 0) {
			w = "mf";
		} else if (strncmp(w, "--", 2) == 0) {
			for (k = 0;
				k < sizeof(with_value) / sizeof(*with_value);
				k++)
				if (strcmp(w + 2, with_value[k]) == 0)
					break;
			if (k == sizeof(with_value) / sizeof(*with_value)) {
				fprintf(stderr,
					"tollgatectl: explain: unknown option "
					"'%s'\n",
					w);
				return CTL_USAGE;
			}
			if (i + 1 >= argc) {
				fprintf(stderr,
					"tollgatectl: explain: %s needs a "
					"value\n",
					w);
				return CTL_USAGE;
			}
			val = argv[++i];
			w += 2;
			/* SPIs are often written in hex */
			if ((strcmp(w, "esp") == 0 || strcmp(w, "ah") == 0) &&
				strncmp(val, "0x", 2) == 0) {
				char *end;
				unsigned long v = strtoul(val, &end, 16);

				if (*end != '\0' || end == val + 2) {
					fprintf(stderr,
						"tollgatectl: explain: --esp "
						"'%s': not a number\n",
						val);
					return CTL_USAGE;
				}
				snprintf(num, sizeof(num), "%lu", v);
				val = num;
			}
		}
		n = snprintf(out + used, len - used, "%s%s%s%s",
			used ? " " : "", w, val ? " " : "", val ? val : "");
		if (n < 0 || (size_t)n >= len - used) {
			fprintf(stderr, "tollgatectl: explain: too long\n");
			return CTL_USAGE;
		}
		used += (size_t)n;
	}
	if (pcap != NULL) {
		if (used + 1 >= len)
			return CTL_USAGE;
		if (used != 0)
			out[used++] = ' ';
		return pcap_frame(pcap, index, out + used, len - used);
	}
	if (used == 0) {
		fprintf(stderr, "tollgatectl: explain needs a packet: --in "
				"IFACE PROTO SRC[:PORT] -> DST[:PORT]\n");
		return CTL_USAGE;
	}
	return 0;
}

static const char *
str_of(const struct json_value *v, const char *key)
{
	const char *s = json_str(json_get(v, key));

	return s != NULL ? s : "";
}

void
ctl_print_steps(const struct json_value *steps, bool with_time)
{
	const struct json_value *s;
	char head[64], ns[24];
	uint64_t u;

	for (s = steps != NULL && steps->type == JSON_OBJECT
			 ? steps->v.kids.first
			 : NULL;
		s != NULL; s = s->next) {
		const char *what = str_of(s, "what");

		ns[0] = '\0';
		if (with_time && json_u64(json_get(s, "ns"), &u) == 0)
			snprintf(ns, sizeof(ns), "%8llu ns  ",
				(unsigned long long)u);
		if (strcmp(what, "stage") == 0 || strcmp(what, "emit") == 0) {
			const char *verdict = str_of(s, "verdict");
			/* emit: the stage let go of a packet it held */
			const char *rel =
				strcmp(what, "emit") == 0 ? "released, " : "";

			if (strcmp(verdict, "drop") == 0)
				snprintf(head, sizeof(head), "%sdrop %s", rel,
					str_of(s, "reason"));
			else if (strcmp(verdict, "goto") == 0)
				snprintf(head, sizeof(head), "%sgoto %s at %s",
					rel, str_of(s, "path"),
					str_of(s, "to"));
			else
				snprintf(head, sizeof(head), "%s%s", rel,
					verdict);
			printf("  %s%-18s %-26s", ns, str_of(s, "stage"), head);
			if (json_u64(json_get(s, "generation"), &u) == 0)
				printf(" gen %llu", (unsigned long long)u);
			if (*str_of(s, "why") != '\0')
				printf("\n  %s%-18s %s",
					with_time ? "            " : "", "",
					str_of(s, "why"));
			if (*str_of(s, "rewrite") != '\0')
				printf("\n  %s%-18s rewrite: %s",
					with_time ? "            " : "", "",
					str_of(s, "rewrite"));
			putchar('\n');
		} else if (strcmp(what, "tx") == 0) {
			printf("  %stx %s\n", ns, str_of(s, "interface"));
		} else if (strcmp(what, "host") == 0) {
			printf("  %sto the host\n", ns);
		} else if (strcmp(what, "drop") == 0) {
			printf("  %sdrop %s\n", ns, str_of(s, "reason"));
		}
	}
}

int
ctl_explain(struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv)
{
	const struct json_value *v;
	struct json_doc *doc;
	char params[TEL_MAX_REQUEST + 1];
	uint64_t gen = 0, len = 0;
	int rc;

	rc = explain_params(argc, argv, params, sizeof(params));
	if (rc != 0 || t == NULL)
		return rc;
	rc = tel_query(t, CMD_EXPLAIN, params, &doc, &v);
	if (rc != 0)
		return rc;
	if (o->json) {
		ctl_print_raw(t, t->len);
		json_free(doc);
		return CTL_OK;
	}
	json_u64(json_get(v, "generation"), &gen);
	json_u64(json_get(v, "length"), &len);
	if (*str_of(v, "inner") != '\0') {
		uint64_t spi = 0;

		json_u64(json_get(v, "spi"), &spi);
		printf("%s inside (spi 0x%llx): %s, %llu bytes, in %s, path %s "
		       "(generation %llu)\n",
			str_of(v, "inner"), (unsigned long long)spi,
			str_of(v, "packet"), (unsigned long long)len,
			str_of(v, "in"), str_of(v, "path"),
			(unsigned long long)gen);
	} else {
		printf("%s, %llu bytes, in %s, path %s (generation %llu)\n",
			str_of(v, "packet"), (unsigned long long)len,
			str_of(v, "in"), str_of(v, "path"),
			(unsigned long long)gen);
	}
	ctl_print_steps(json_get(v, "steps"), false);
	printf("  => %s\n", str_of(v, "end"));
	if (*str_of(v, "not_explained") != '\0')
		printf("  (explain does not model %s for this packet: the walk "
		       "stops there)\n",
			str_of(v, "not_explained"));
	json_free(doc);
	return CTL_OK;
}
