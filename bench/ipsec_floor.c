/* SPDX-License-Identifier: BSD-3-Clause
 * The floor under the ipsec stage: what the mandated libraries (rte_ipsec,
 * the cryptodev API and intel-ipsec-mb behind crypto_aesni_mb) cost per
 * packet with nothing around them — no SPD, no SAD, no pipeline, hot
 * packets — so that the stage's own bookkeeping is what it costs above
 * this. Three floors, each through the calls the stage makes:
 *
 *   cipher     (a) the AEAD alone, rte_cryptodev_sym_cpu_crypto_process()
 *                  on the lengths, IV, AAD and ICV the ESP packet needs,
 *                  one call per run of one SA: what no ESP code on this
 *                  device can avoid;
 *   cpu        (b) tg_ipsec_cpu_process(): rte_ipsec_pkt_cpu_prepare +
 *                  rte_ipsec_pkt_process + the outer checksum, the
 *                  stage's library floor in CPU crypto mode;
 *   lookaside  (c) tg_ipsec_crypto_enqueue + tg_ipsec_crypto_dequeue:
 *                  rte_ipsec's crypto_prepare, crypto ops through the
 *                  device's queue pair, rte_ipsec_pkt_process;
 *   ref            the yardstick of issue 7's target: what
 *                  dpdk-test-crypto-perf's throughput test times (one
 *                  session, AEAD ops of the frame size through the queue
 *                  pair), in this process and the same runs, so that the
 *                  ratios do not depend on this host's speed of the moment.
 *
 *   ipsec_floor [EAL args] -- [--op encrypt,decrypt] [--size 64,1400]
 *               [--sas 1,100,10000] [--mode cipher,cpu,lookaside,ref]
 *               [--bursts K] [--repeat R] [--no-table]
 *
 * AES-128-GCM tunnel mode, bursts of 32 frames of B bytes (FCS included,
 * as bench/ipsec_scale.py counts them: Ethernet + IPv4 + UDP; decrypt
 * gets their ESP), packet i of burst k on SA (32 k + i) % N as that
 * script's traffic spreads them, consecutive packets of one SA in one
 * call as the stage makes them. Every burst first gets its packets back
 * as they were (data offset, length, bytes: outbound grew them, inbound
 * shrank them); that restore is timed alone, in the same loop without
 * the work, and taken off. TSC cycles (as crypto-perf's Cycles/Buf),
 * median over R runs of K bursts, the modes interleaved within a run.
 * Prints one JSON line per case and mode, then a table (--no-table: not).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "ipsec_floor.h"
#include "ipsec_internal.h" /* tg_ipsec_ctx: ref's session pool */
#include "tg_ipsec.h"

#define MAX_RUNS  64
#define MAX_LIST  8
#define LK_DEVICE "crypto_aesni_mb_lookaside"

static const char *const mode_name[TG_FLOOR__COUNT] = {
	"cipher", "cpu", "lookaside", "ref"};

struct opts {
	unsigned int size[MAX_LIST], nsize;
	unsigned int sas[MAX_LIST], nsas;
	bool op[2]; /* [0] encrypt, [1] decrypt */
	bool mode[TG_FLOOR__COUNT];
	unsigned int bursts, repeat;
	bool table;
};

struct result {
	double cycles[MAX_RUNS], restore[MAX_RUNS];
	double over_ref[MAX_RUNS]; /* cycles / ref's cycles, same run */
	unsigned long failed;
};

static int
parse_list(const char *v, unsigned int *out, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*v != '\0' && *n < MAX_LIST) {
		out[(*n)++] = (unsigned int)strtoul(v, &end, 10);
		if (end == v || (*end != ',' && *end != '\0'))
			return -EINVAL;
		v = *end == ',' ? end + 1 : end;
	}
	return *v == '\0' && *n > 0 ? 0 : -EINVAL;
}

/* Which names of @p names (comma separated in @p v) are given. */
static int
parse_names(const char *v, const char *const *names, unsigned int n, bool *on)
{
	size_t len;
	unsigned int i;

	memset(on, 0, n * sizeof(*on));
	while (*v != '\0') {
		len = strcspn(v, ",");
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == len &&
				strncmp(v, names[i], len) == 0)
				break;
		if (i == n)
			return -EINVAL;
		on[i] = true;
		v += len + (v[len] == ',');
	}
	return 0;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const char *const ops[2] = {"encrypt", "decrypt"};
	unsigned int i, k;
	int rc = 0;

	*o = (struct opts){.size = {64, 1400},
		.nsize = 2,
		.sas = {1},
		.nsas = 1,
		.op = {true, true},
		.mode = {true, true, true, true},
		.bursts = 20000,
		.repeat = 5,
		.table = true};
	for (i = 1; i < (unsigned int)argc && rc == 0; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < (unsigned int)argc ? argv[i + 1] : "";

		if (strcmp(a, "--no-table") == 0) {
			o->table = false;
			continue;
		}
		i++;
		if (strcmp(a, "--size") == 0)
			rc = parse_list(v, o->size, &o->nsize);
		else if (strcmp(a, "--sas") == 0)
			rc = parse_list(v, o->sas, &o->nsas);
		else if (strcmp(a, "--op") == 0)
			rc = parse_names(v, ops, 2, o->op);
		else if (strcmp(a, "--mode") == 0)
			rc = parse_names(
				v, mode_name, TG_FLOOR__COUNT, o->mode);
		else if (strcmp(a, "--bursts") == 0)
			o->bursts = (unsigned int)atoi(v);
		else if (strcmp(a, "--repeat") == 0)
			o->repeat = (unsigned int)atoi(v);
		else
			rc = -EINVAL;
	}
	for (k = 0; k < o->nsize && rc == 0; k++)
		if (o->size[k] < 64 || o->size[k] > 1500)
			rc = -EINVAL;
	for (k = 0; k < o->nsas && rc == 0; k++)
		if (o->sas[k] == 0 || o->sas[k] > 1000000)
			rc = -EINVAL;
	if (o->bursts == 0 || o->repeat == 0 || o->repeat > MAX_RUNS)
		rc = -EINVAL;
	return rc;
}

/* The cleartext frame: Ethernet, IPv4 (no options, checksum right), UDP
 * from 48.0.0.1 to 16.0.0.1 (the first SA's prefix in ipsec_scale.py). */
static uint16_t
frame(uint8_t *b, unsigned int size)
{
	uint16_t len = (uint16_t)(size - 4), ip_len = len - RTE_ETHER_HDR_LEN;
	struct rte_ipv4_hdr *ip =
		(struct rte_ipv4_hdr *)(b + RTE_ETHER_HDR_LEN);
	uint16_t i;

	memset(b, 0, len);
	b[12] = 0x08;
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(0x30000001);
	ip->dst_addr = rte_cpu_to_be_32(0x10000001);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	b[34] = 0x13;
	b[36] = 0x13;
	b[38] = (uint8_t)((ip_len - 20) >> 8);
	b[39] = (uint8_t)(ip_len - 20);
	for (i = 42; i < len; i++)
		b[i] = (uint8_t)i;
	return len;
}

/* SA @p i: tunnel 10.1.0.1 <-> 203.0.(i/250).(i%250+1) as in
 * ipsec_scale.py, its own key and salt; inbound with no replay window
 * (the same sequence numbers come back every burst). */
static void
sa_params(struct tg_ipsec_sa_params *p, unsigned int i, enum tg_ipsec_dir dir,
	uint8_t salt[4])
{
	uint32_t us = 0x0a010001,
		 peer = 0xcb000000 | (i / 250) << 8 | (i % 250 + 1);
	unsigned int k;

	memset(p, 0, sizeof(*p));
	p->spi = 0x1000 + i;
	p->dir = dir;
	p->mode = TG_IPSEC_MODE_TUNNEL;
	p->tun_local = dir == TG_IPSEC_DIR_OUTBOUND ? us : peer;
	p->tun_remote = dir == TG_IPSEC_DIR_OUTBOUND ? peer : us;
	p->alg = TG_IPSEC_ALG_AES128_GCM;
	p->cipher_key_len = 16;
	for (k = 0; k < 16; k++)
		p->cipher_key[k] = (uint8_t)(i * 7 + k * 13 + 1);
	for (k = 0; k < 4; k++)
		p->salt[k] = (uint8_t)(i >> (8 * k) ^ 0x5a);
	memcpy(salt, p->salt, 4);
}

/* Restore a burst from @p base (SA s's frame at s * @p stride) for the
 * SAs from @p next on, and split it into runs of one SA. Returns the SA
 * of the next burst's first packet. */
static inline unsigned int
fill(struct tg_floor_case *bk, struct tg_floor_burst *bu, const uint8_t *base,
	size_t stride, uint16_t len, unsigned int next)
{
	unsigned int i, r = 0, s;

	for (i = 0; i < TG_FLOOR_BURST; i++) {
		s = next;
		next = next + 1 == bk->n ? 0 : next + 1;
		if (r == 0 || bu->sa[r - 1] != s) {
			bu->start[r] = (uint16_t)i;
			bu->sa[r++] = s;
		}
		tg_floor_restore(bk->m[i], base + stride * s, len);
		bu->pk[i] = bk->m[i];
	}
	bu->start[r] = TG_FLOOR_BURST;
	bu->nruns = r;
	return next;
}

/* Where mode @p md's packets come from. */
static const uint8_t *
source(const struct tg_floor_case *bk, enum tg_floor_mode md, size_t *stride,
	uint16_t *len)
{
	if (bk->decrypt) {
		*stride = bk->stride;
		*len = bk->elen;
		return bk->esp;
	}
	*stride = 0;
	*len = md == TG_FLOOR_CIPHER ? bk->elen : bk->clen;
	return md == TG_FLOOR_CIPHER ? bk->pre : bk->clear;
}

/* @p bursts bursts of mode @p md, with the work or (@p work false) the
 * restores alone; TSC cycles. */
static uint64_t
timed(struct tg_floor_case *bk, enum tg_floor_mode md, unsigned int bursts,
	bool work, unsigned long *failed)
{
	struct tg_floor_burst bu;
	const uint8_t *base;
	unsigned int b, next = 0, good = 0;
	size_t stride;
	uint16_t len;
	uint64_t t0;

	base = source(bk, md, &stride, &len);
	t0 = rte_rdtsc_precise();
	for (b = 0; b < bursts; b++) {
		next = fill(bk, &bu, base, stride, len, next);
		if (work)
			good += tg_floor_fn[md](bk, &bu);
	}
	t0 = rte_rdtsc_precise() - t0;
	if (work)
		*failed += (unsigned long)bursts * TG_FLOOR_BURST - good;
	return t0;
}

static void
die(const char *what)
{
	fprintf(stderr, "ipsec_floor: %s (%s)\n", what,
		rte_strerror(rte_errno));
	exit(1);
}

/* Each SA's ESP of the cleartext, made by its outbound SA (rte_ipsec),
 * Ethernet in front: the decrypt input and (a)'s reference. */
static void
make_esp(struct tg_floor_case *bk)
{
	struct rte_mbuf *m = bk->m[0];
	uint16_t np, l;
	unsigned int i;
	uint8_t *e;

	for (i = 0; i < bk->n; i++) {
		tg_floor_restore(m, bk->clear, bk->clen);
		if (tg_ipsec_cpu_process(bk->out[i], &m, 1, &np) != 1)
			die("encrypting the ESP input failed");
		l = rte_pktmbuf_data_len(m);
		if (i == 0) {
			bk->elen = (uint16_t)(l + RTE_ETHER_HDR_LEN);
			bk->stride = RTE_ALIGN_CEIL(bk->elen, 64);
			bk->esp = calloc(bk->n, bk->stride);
			if (bk->esp == NULL)
				die("no memory");
		}
		e = bk->esp + bk->stride * i;
		memcpy(e, bk->clear, RTE_ETHER_HDR_LEN);
		memcpy(e + RTE_ETHER_HDR_LEN, rte_pktmbuf_mtod(m, void *), l);
	}
	/* RFC 4303 2.4 as rte_ipsec pads (GCM: to 4 bytes): 1, 2, ..., the
	 * pad length, next header 4 (IPv4 in IPv4). */
	bk->ct_len = (uint16_t)(bk->elen - TG_FLOOR_ESP_CT - TG_FLOOR_ICV);
	if (bk->ct_len != RTE_ALIGN_CEIL(bk->ip_len + 2, 4))
		die("unexpected ESP length");
	memcpy(bk->pre, bk->esp, bk->elen);
	memcpy(bk->pre + TG_FLOOR_ESP_CT, bk->clear + RTE_ETHER_HDR_LEN,
		bk->ip_len);
	for (l = 0; l + 2 < bk->ct_len - bk->ip_len; l++)
		bk->pre[TG_FLOOR_ESP_CT + bk->ip_len + l] = (uint8_t)(l + 1);
	bk->pre[TG_FLOOR_ESP_CT + bk->ct_len - 2] = (uint8_t)l;
	bk->pre[TG_FLOOR_ESP_CT + bk->ct_len - 1] = IPPROTO_IPIP;
}

/* Before any timing: (a) on SA @p s gives what rte_ipsec gave (encrypt:
 * the ESP bytes; decrypt: ICV good, the cleartext back), (b) and (c)
 * give every packet back good, and decryption the inner packet. */
static void
check(struct tg_floor_case *bk, enum tg_floor_mode md, unsigned int s)
{
	const uint8_t *want = bk->decrypt ? bk->pre : bk->esp + bk->stride * s;
	struct tg_floor_burst bu = {
		.pk = {bk->m[0]}, .start = {0, 1}, .sa = {s}, .nruns = 1};
	struct rte_mbuf *m = bk->m[0];
	const uint8_t *src;
	size_t stride;
	uint16_t len;

	src = source(bk, md, &stride, &len);
	if (md == TG_FLOOR_CIPHER && !bk->decrypt)
		/* SA s's own prepared frame, not SA 0's */
		memcpy(bk->pre + TG_FLOOR_ESP_HDR,
			bk->esp + bk->stride * s + TG_FLOOR_ESP_HDR,
			TG_FLOOR_ESP_CT - TG_FLOOR_ESP_HDR);
	tg_floor_restore(m, src + stride * s, len);
	if (tg_floor_fn[md](bk, &bu) != 1)
		die("check: the packet failed");
	if (md == TG_FLOOR_CIPHER) {
		/* decrypt: only the ciphertext changes, into the clear */
		if (memcmp(rte_pktmbuf_mtod(m, uint8_t *) + TG_FLOOR_ESP_CT,
			    want + TG_FLOOR_ESP_CT,
			    bk->ct_len + (bk->decrypt ? 0 : TG_FLOOR_ICV)) != 0)
			die("check: cipher alone differs from rte_ipsec");
	} else if (bk->decrypt && (rte_pktmbuf_data_len(m) != bk->ip_len ||
					  memcmp(rte_pktmbuf_mtod(m, uint8_t *),
						  bk->clear + RTE_ETHER_HDR_LEN,
						  bk->ip_len) != 0)) {
		die("check: decrypted packet differs");
	}
	if (md == TG_FLOOR_CIPHER && !bk->decrypt)
		memcpy(bk->pre + TG_FLOOR_ESP_HDR, bk->esp + TG_FLOOR_ESP_HDR,
			TG_FLOOR_ESP_CT - TG_FLOOR_ESP_HDR);
}

/* ref's session: AES-128-GCM, IV 12 in the op, AAD 8, digest 16, as
 * crypto-perf's options in ipsec_scale.py. */
static void *
make_ref_sess(struct tg_ipsec_ctx *ctx, bool decrypt)
{
	static uint8_t key[16] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct rte_crypto_sym_xform xf = {.type = RTE_CRYPTO_SYM_XFORM_AEAD};
	void *sess;

	xf.aead.op = decrypt ? RTE_CRYPTO_AEAD_OP_DECRYPT
			     : RTE_CRYPTO_AEAD_OP_ENCRYPT;
	xf.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
	xf.aead.key.data = key;
	xf.aead.key.length = sizeof(key);
	xf.aead.iv.offset = TG_IPSEC_IV_OFFSET;
	xf.aead.iv.length = 12;
	xf.aead.digest_length = TG_FLOOR_ICV;
	xf.aead.aad_length = 8;
	sess = rte_cryptodev_sym_session_create(
		tg_ipsec_ctx_dev_id(ctx), &xf, ctx->sess_pool);
	if (sess == NULL)
		die("ref session");
	return sess;
}

static struct tg_ipsec_sa **
make_sas(struct tg_ipsec_ctx *ctx, unsigned int n, enum tg_ipsec_dir dir,
	uint8_t (*salt)[4])
{
	struct tg_ipsec_sa **sa = calloc(n, sizeof(*sa));
	struct tg_ipsec_sa_params p;
	unsigned int i;

	if (sa == NULL)
		die("no memory");
	for (i = 0; i < n; i++) {
		sa_params(&p, i, dir, salt[i]);
		sa[i] = tg_ipsec_sa_create(ctx, &p);
		if (sa[i] == NULL)
			die("SA create failed");
	}
	return sa;
}

static void
free_sas(struct tg_ipsec_sa **sa, unsigned int n)
{
	unsigned int i;

	for (i = 0; sa != NULL && i < n; i++)
		tg_ipsec_sa_destroy(sa[i]);
	free(sa);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, unsigned int n)
{
	double s[MAX_RUNS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* The modes of one case, interleaved: per run, each mode's restores
 * alone, then restores + work. */
static void
measure(struct tg_floor_case *bk, const struct opts *o, struct result *res)
{
	/* Every timed run starts warm: twice round the SAs (at least a
	 * sixteenth of a run) just before it, untimed. Without that, a run
	 * with 10,000 SAs began with the other modes' SAs and sessions in
	 * the caches, and refilling them, not the steady state the stage
	 * runs in, was much of a short run (2x at 2,000 bursts). */
	unsigned int warm =
		RTE_MAX(o->bursts / 16, 2 * (bk->n / TG_FLOOR_BURST + 1));
	double pk = (double)o->bursts * TG_FLOOR_BURST;
	unsigned long ignore = 0;
	uint64_t rest, all;
	unsigned int r, md;

	for (r = 0; r < o->repeat; r++)
		for (md = 0; md < TG_FLOOR__COUNT; md++) {
			if (!o->mode[md])
				continue;
			rest = timed(bk, md, o->bursts, false, NULL);
			timed(bk, md, warm, true, &ignore);
			all = timed(bk, md, o->bursts, true, &res[md].failed);
			res[md].restore[r] = (double)rest / pk;
			res[md].cycles[r] = ((double)all - (double)rest) / pk;
		}
	for (r = 0; r < o->repeat && o->mode[TG_FLOOR_REF]; r++)
		for (md = 0; md < TG_FLOOR__COUNT; md++)
			res[md].over_ref[r] =
				res[md].cycles[r] / res[TG_FLOOR_REF].cycles[r];
}

static void
print_json(const struct tg_floor_case *bk, const struct opts *o,
	unsigned int size, enum tg_floor_mode md, const struct result *res)
{
	unsigned int r;

	printf("{\"op\": \"%s\", \"size\": %u, \"sas\": %u, \"mode\": \"%s\", "
	       "\"cycles_per_packet\": %.1f, \"restore_cycles_per_packet\": "
	       "%.1f, \"runs\": [",
		bk->decrypt ? "decrypt" : "encrypt", size, bk->n, mode_name[md],
		median(res->cycles, o->repeat),
		median(res->restore, o->repeat));
	for (r = 0; r < o->repeat; r++)
		printf("%s%.1f", r ? ", " : "", res->cycles[r]);
	if (o->mode[TG_FLOOR_REF] && md != TG_FLOOR_REF)
		printf("], \"over_ref\": %.3f, \"over_ref_runs\": [",
			median(res->over_ref, o->repeat));
	for (r = 0;
		r < o->repeat && o->mode[TG_FLOOR_REF] && md != TG_FLOOR_REF;
		r++)
		printf("%s%.3f", r ? ", " : "", res->over_ref[r]);
	printf("], \"failed\": %lu, \"bursts\": %u, \"esp_frame\": %u, "
	       "\"cipher_bytes\": %u, \"tsc_hz\": %" PRIu64 "}\n",
		res->failed, o->bursts, bk->elen, bk->ct_len, rte_get_tsc_hz());
	fflush(stdout);
}

struct row {
	const char *op;
	unsigned int size, sas;
	double v[TG_FLOOR__COUNT], rest[TG_FLOOR__COUNT], x[TG_FLOOR__COUNT];
};

static void
print_table(const struct row *rows, unsigned int n, const struct opts *o)
{
	static const char *const head[TG_FLOOR__COUNT] = {"(a) cipher",
		"(b) rte_ipsec + CPU crypto", "(c) rte_ipsec lookaside",
		"ref: crypto-perf's op"};
	unsigned int i, md;

	printf("\nTSC cycles per packet, median of %u runs of %u bursts of "
	       "%u (restore taken off; x: over ref, same runs):\n\n| op | "
	       "size (B) | SAs |",
		o->repeat, o->bursts, TG_FLOOR_BURST);
	for (md = 0; md < TG_FLOOR__COUNT; md++)
		if (o->mode[md])
			printf(" %s |", head[md]);
	printf(" restore |\n|---|---:|---:|");
	for (md = 0; md < TG_FLOOR__COUNT; md++)
		if (o->mode[md])
			printf("---:|");
	printf("---|\n");
	for (i = 0; i < n; i++) {
		printf("| %s | %u | %u |", rows[i].op, rows[i].size,
			rows[i].sas);
		for (md = 0; md < TG_FLOOR__COUNT; md++) {
			if (!o->mode[md])
				continue;
			printf(" %.1f", rows[i].v[md]);
			if (o->mode[TG_FLOOR_REF] && md != TG_FLOOR_REF)
				printf(" (%.2fx)", rows[i].x[md]);
			printf(" |");
		}
		for (md = 0; md < TG_FLOOR__COUNT; md++)
			if (o->mode[md])
				printf(" %.0f", rows[i].rest[md]);
		printf(" |\n");
	}
}

int
main(int argc, char **argv)
{
	struct tg_ipsec_ctx_params cp = {0};
	static struct tg_floor_case bk;
	struct row rows[2 * MAX_LIST * MAX_LIST];
	struct result res[TG_FLOOR__COUNT];
	struct rte_mempool *mp;
	unsigned int i, si, ni, op, md, nmax = 0, nrows = 0;
	unsigned long bad = 0;
	struct opts o;
	int rc;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "ipsec_floor: EAL init failed\n");
		return 1;
	}
	if (parse(argc - rc, argv + rc, &o) != 0) {
		fprintf(stderr,
			"usage: ipsec_floor [EAL] -- [--op encrypt,decrypt] "
			"[--size 64,1400] [--sas 1,100,10000] "
			"[--mode cipher,cpu,lookaside,ref] [--bursts K] "
			"[--repeat R<=%d] [--no-table]\n",
			MAX_RUNS);
		return 2;
	}
	for (i = 0; i < o.nsas; i++)
		nmax = RTE_MAX(nmax, o.sas[i]);
	mp = rte_pktmbuf_pool_create("floor", 2 * TG_FLOOR_BURST + 1023, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (mp == NULL || rte_pktmbuf_alloc_bulk(mp, bk.m, TG_FLOOR_BURST) != 0)
		die("mbuf pool");
	/* (a) and (b) on one context, (c) on a device of its own: one
	 * context per device, and an SA is CPU crypto or lookaside by its
	 * context. */
	cp.device = TG_IPSEC_DEFAULT_DEVICE;
	cp.max_sa = 2 * nmax + 8;
	cp.nb_ops = 4 * TG_FLOOR_BURST;
	cp.mode = TG_IPSEC_CRYPTO_CPU;
	cp.socket_id = SOCKET_ID_ANY;
	bk.cpu = tg_ipsec_ctx_create(&cp);
	if (bk.cpu == NULL)
		die("CPU crypto context on " TG_IPSEC_DEFAULT_DEVICE);
	if (o.mode[TG_FLOOR_LOOKASIDE]) {
		cp.device = LK_DEVICE;
		cp.max_sa = nmax + 8;
		cp.mode = TG_IPSEC_CRYPTO_LOOKASIDE;
		bk.lk = tg_ipsec_ctx_create(&cp);
		if (bk.lk == NULL)
			die("lookaside context on " LK_DEVICE);
	}
	bk.salt = calloc(nmax, sizeof(*bk.salt));
	if (bk.salt == NULL)
		die("no memory");
	for (op = 0; op < 2; op++) {
		if (!o.op[op])
			continue;
		for (ni = 0; ni < o.nsas; ni++) {
			bk.n = o.sas[ni];
			bk.decrypt = op == 1;
			bk.out = make_sas(
				bk.cpu, bk.n, TG_IPSEC_DIR_OUTBOUND, bk.salt);
			if (bk.decrypt)
				bk.in = make_sas(bk.cpu, bk.n,
					TG_IPSEC_DIR_INBOUND, bk.salt);
			if (o.mode[TG_FLOOR_REF])
				bk.ref_sess = make_ref_sess(bk.cpu, bk.decrypt);
			if (bk.lk != NULL)
				bk.lk_sa = make_sas(bk.lk, bk.n,
					bk.decrypt ? TG_IPSEC_DIR_INBOUND
						   : TG_IPSEC_DIR_OUTBOUND,
					bk.salt);
			for (si = 0; si < o.nsize; si++) {
				bk.clen = frame(bk.clear, o.size[si]);
				bk.ip_len = bk.clen - RTE_ETHER_HDR_LEN;
				bk.ref_len = (uint16_t)o.size[si];
				make_esp(&bk);
				for (md = 0; md < TG_FLOOR_REF; md++)
					if (o.mode[md]) {
						check(&bk, md, 0);
						check(&bk, md, bk.n - 1);
					}
				memset(res, 0, sizeof(res));
				measure(&bk, &o, res);
				rows[nrows] = (struct row){
					.op = bk.decrypt ? "decrypt"
							 : "encrypt",
					.size = o.size[si],
					.sas = bk.n};
				for (md = 0; md < TG_FLOOR__COUNT; md++) {
					if (!o.mode[md])
						continue;
					print_json(&bk, &o, o.size[si], md,
						&res[md]);
					bad += res[md].failed;
					rows[nrows].v[md] = median(
						res[md].cycles, o.repeat);
					rows[nrows].rest[md] = median(
						res[md].restore, o.repeat);
					rows[nrows].x[md] = median(
						res[md].over_ref, o.repeat);
				}
				nrows++;
				free(bk.esp);
				bk.esp = NULL;
			}
			free_sas(bk.out, bk.n);
			free_sas(bk.in, bk.n);
			free_sas(bk.lk_sa, bk.n);
			if (bk.ref_sess != NULL)
				rte_cryptodev_sym_session_free(
					tg_ipsec_ctx_dev_id(bk.cpu),
					bk.ref_sess);
			bk.ref_sess = NULL;
			bk.out = bk.in = bk.lk_sa = NULL;
		}
	}
	if (o.table)
		print_table(rows, nrows, &o);
	rte_pktmbuf_free_bulk(bk.m, TG_FLOOR_BURST);
	tg_ipsec_ctx_free(bk.lk);
	tg_ipsec_ctx_free(bk.cpu);
	rte_mempool_free(mp);
	free(bk.salt);
	rte_eal_cleanup();
	return bad != 0;
}
