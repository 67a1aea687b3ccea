/* SPDX-License-Identifier: BSD-3-Clause
 * The floor under the ipsec stage: what rte_ipsec and the crypto device
 * cost per packet with nothing around them — no SPD, no SAD, no pipeline,
 * hot packets — through tollgate's own burst calls (lib/ipsec:
 * tg_ipsec_cpu_process, or the lookaside enqueue + dequeue). The stage's
 * own bookkeeping is what it costs above this.
 *
 *   ipsec_floor [EAL args] -- [--size B] [--sas N] [--op encrypt|decrypt]
 *               [--mode cpu|lookaside] [--bursts K] [--repeat R]
 *
 * AES-128-GCM tunnel mode, bursts of 32 frames of B bytes (FCS included,
 * as bench/ipsec_scale.py counts them: Ethernet + IPv4 + UDP), packet i
 * of a burst on SA (i + 32 k) % N as that script's traffic spreads them,
 * consecutive packets of one SA in one call as the stage makes them.
 * Every burst first gets its packets back as they were (data offset,
 * length, bytes); that restore is timed alone and taken off. Prints one
 * JSON line: the median over R runs of K bursts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "tg_ipsec.h"

#define BURST 32
#define MAX_RUNS 64

struct opts {
	unsigned int size, sas, bursts, repeat;
	bool decrypt, lookaside;
};

static int
parse(int argc, char **argv, struct opts *o)
{
	int i;

	*o = (struct opts){.size = 64, .sas = 1, .bursts = 20000, .repeat = 5};
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			return -EINVAL;
		if (strcmp(a, "--size") == 0)
			o->size = (unsigned int)atoi(v);
		else if (strcmp(a, "--sas") == 0)
			o->sas = (unsigned int)atoi(v);
		else if (strcmp(a, "--bursts") == 0)
			o->bursts = (unsigned int)atoi(v);
		else if (strcmp(a, "--repeat") == 0)
			o->repeat = (unsigned int)atoi(v);
		else if (strcmp(a, "--op") == 0)
			o->decrypt = strcmp(v, "decrypt") == 0;
		else if (strcmp(a, "--mode") == 0)
			o->lookaside = strcmp(v, "lookaside") == 0;
		else
			return -EINVAL;
	}
	if (o->size < 64 || o->size > 1500 || o->sas == 0 ||
		o->bursts == 0 || o->repeat == 0 || o->repeat > MAX_RUNS)
		return -EINVAL;
	return 0;
}

/* The cleartext frame: Ethernet, IPv4 (no options, checksum right), UDP. */
static uint16_t
frame(uint8_t *b, unsigned int size, uint32_t dst)
{
	uint16_t len = (uint16_t)(size - 4), ip_len = len - RTE_ETHER_HDR_LEN;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(b + RTE_ETHER_HDR_LEN);
	uint16_t i;

	memset(b, 0, len);
	b[12] = 0x08;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = 17;
	ip->src_addr = rte_cpu_to_be_32(0x30000001);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	b[34] = 0x13;
	b[36] = 0x13;
	b[38] = (uint8_t)((ip_len - 20) >> 8);
	b[39] = (uint8_t)(ip_len - 20);
	for (i = 42; i < len; i++)
		b[i] = (uint8_t)i;
	return len;
}

static void
sa_params(struct tg_ipsec_sa_params *p, unsigned int i, enum tg_ipsec_dir dir)
{
	unsigned int k;

	memset(p, 0, sizeof(*p));
	p->spi = 0x1000 + i;
	p->dir = dir;
	p->mode = TG_IPSEC_MODE_TUNNEL;
	p->tun_local = dir == TG_IPSEC_DIR_OUTBOUND ? 0x0a010001 : 0xcb000001;
	p->tun_remote = dir == TG_IPSEC_DIR_OUTBOUND ? 0xcb000001 : 0x0a010001;
	p->alg = TG_IPSEC_ALG_AES128_GCM;
	p->cipher_key_len = 16;
	/* its own key, as tollgate wants */
	for (k = 0; k < 16; k++)
		p->cipher_key[k] = (uint8_t)(i * 7 + k * 13 + 1);
	for (k = 0; k < 4; k++)
		p->salt[k] = (uint8_t)(i >> (8 * k));
}

/* Put @p len bytes of @p b back into @p m, as the stage gets it: frame
 * from the Ethernet header, l2_len and l3_len set. */
static inline void
restore(struct rte_mbuf *m, const uint8_t *b, uint16_t len)
{
	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = len;
	m->pkt_len = len;
	m->ol_flags = 0;
	m->tx_offload = RTE_ETHER_HDR_LEN | (uint64_t)20 << 7;
	rte_memcpy(rte_pktmbuf_mtod(m, void *), b, len);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One burst through its SAs, in runs of one SA. Returns the packets
 * that came back good. */
static unsigned int
one_burst(struct tg_ipsec_ctx *ctx, struct tg_ipsec_sa **sa,
	struct rte_mbuf **m, const unsigned int *sa_of)
{
	unsigned int i = 0, j, good = 0;
	uint16_t np;
	int rc;

	while (i < BURST) {
		for (j = i + 1; j < BURST && sa_of[j] == sa_of[i]; j++)
			;
		if (tg_ipsec_ctx_cpu_crypto(ctx)) {
			good += tg_ipsec_cpu_process(
				sa[sa_of[i]], m + i, (uint16_t)(j - i), &np);
		} else {
			rc = tg_ipsec_process_sync(
				ctx, sa[sa_of[i]], m + i, (uint16_t)(j - i));
			good += rc > 0 ? (unsigned int)rc : 0;
		}
		i = j;
	}
	return good;
}

int
main(int argc, char **argv)
{
	struct tg_ipsec_ctx_params cp = {0};
	struct tg_ipsec_sa_params p;
	struct tg_ipsec_ctx *ctx;
	struct tg_ipsec_sa **out, **in;
	struct rte_mempool *mp;
	struct rte_mbuf *m[BURST];
	uint64_t runs[MAX_RUNS], rest[MAX_RUNS], t0;
	unsigned int i, b, r, n, sa_of[BURST], bad = 0;
	uint8_t clear[1600], *esp = NULL;
	uint16_t clen, *elen = NULL;
	struct opts o;
	int rc;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "ipsec_floor: EAL init failed\n");
		return 1;
	}
	if (parse(argc - rc, argv + rc, &o) != 0) {
		fprintf(stderr,
			"usage: ipsec_floor [EAL] -- [--size 64..1500] [--sas N] "
			"[--op encrypt|decrypt] [--mode cpu|lookaside] "
			"[--bursts K] [--repeat R<=%d]\n",
			MAX_RUNS);
		return 2;
	}
	mp = rte_pktmbuf_pool_create("floor", 4 * BURST + 1023, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	cp.device = "crypto_aesni_mb";
	cp.max_sa = 2 * o.sas + 8;
	cp.nb_ops = 4 * BURST;
	cp.mode = o.lookaside ? TG_IPSEC_CRYPTO_LOOKASIDE : TG_IPSEC_CRYPTO_CPU;
	cp.socket_id = SOCKET_ID_ANY;
	ctx = mp != NULL ? tg_ipsec_ctx_create(&cp) : NULL;
	out = calloc(o.sas, sizeof(*out));
	in = calloc(o.sas, sizeof(*in));
	if (ctx == NULL || out == NULL || in == NULL ||
		rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
		fprintf(stderr, "ipsec_floor: set-up failed (%s)\n",
			rte_strerror(rte_errno));
		return 1;
	}
	for (i = 0; i < o.sas; i++) {
		sa_params(&p, i, TG_IPSEC_DIR_OUTBOUND);
		out[i] = tg_ipsec_sa_create(ctx, &p);
		sa_params(&p, i, TG_IPSEC_DIR_INBOUND);
		/* replay_window 0: the same sequence numbers come back */
		in[i] = o.decrypt ? tg_ipsec_sa_create(ctx, &p) : out[i];
		if (out[i] == NULL || in[i] == NULL) {
			fprintf(stderr, "ipsec_floor: SA %u: %s\n", i,
				rte_strerror(rte_errno));
			return 1;
		}
	}
	clen = frame(clear, o.size, 0x10000001);
	if (o.decrypt) {
		/* each SA's ESP of the frame, Ethernet in front, made once */
		esp = calloc(o.sas, 1600);
		elen = calloc(o.sas, sizeof(*elen));
		if (esp == NULL || elen == NULL)
			return 1;
		for (i = 0; i < o.sas; i++) {
			uint8_t *e = esp + (size_t)i * 1600;

			restore(m[0], clear, clen);
			if (one_burst(ctx, out, m, (unsigned int[BURST]){i}) ==
				0) {
				fprintf(stderr, "ipsec_floor: encrypt failed\n");
				return 1;
			}
			memcpy(e, clear, RTE_ETHER_HDR_LEN);
			elen[i] = (uint16_t)(rte_pktmbuf_data_len(m[0]) +
					     RTE_ETHER_HDR_LEN);
			memcpy(e + RTE_ETHER_HDR_LEN,
				rte_pktmbuf_mtod(m[0], void *),
				rte_pktmbuf_data_len(m[0]));
		}
	}
	for (r = 0; r < o.repeat; r++) {
		/* the restores alone */
		t0 = rte_rdtsc_precise();
		for (b = 0; b < o.bursts; b++)
			for (i = 0; i < BURST; i++) {
				n = (i + BURST * b) % o.sas;
				if (o.decrypt)
					restore(m[i], esp + (size_t)n * 1600,
						elen[n]);
				else
					restore(m[i], clear, clen);
			}
		rest[r] = rte_rdtsc_precise() - t0;
		t0 = rte_rdtsc_precise();
		for (b = 0; b < o.bursts; b++) {
			for (i = 0; i < BURST; i++) {
				n = (i + BURST * b) % o.sas;
				sa_of[i] = n;
				if (o.decrypt)
					restore(m[i], esp + (size_t)n * 1600,
						elen[n]);
				else
					restore(m[i], clear, clen);
			}
			bad += BURST -
			       one_burst(ctx, o.decrypt ? in : out, m, sa_of);
		}
		runs[r] = rte_rdtsc_precise() - t0;
	}
	qsort(runs, o.repeat, sizeof(runs[0]), cmp_u64);
	qsort(rest, o.repeat, sizeof(rest[0]), cmp_u64);
	n = o.bursts * BURST;
	printf("{\"op\": \"%s\", \"size\": %u, \"sas\": %u, \"mode\": \"%s\", "
	       "\"cycles_per_packet\": %.1f, \"restore_cycles_per_packet\": "
	       "%.1f, \"failed\": %u, \"tsc_hz\": %" PRIu64 "}\n",
		o.decrypt ? "decrypt" : "encrypt", o.size, o.sas,
		o.lookaside ? "lookaside" : "cpu",
		((double)runs[o.repeat / 2] - (double)rest[o.repeat / 2]) / n,
		(double)rest[o.repeat / 2] / n, bad, rte_get_tsc_hz());
	rte_pktmbuf_free_bulk(m, BURST);
	for (i = 0; i < o.sas; i++) {
		if (in[i] != out[i])
			tg_ipsec_sa_destroy(in[i]);
		tg_ipsec_sa_destroy(out[i]);
	}
	tg_ipsec_ctx_free(ctx);
	free(esp);
	free(elen);
	free(out);
	free(in);
	rte_eal_cleanup();
	return bad != 0;
}
