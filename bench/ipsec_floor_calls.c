/* SPDX-License-Identifier: BSD-3-Clause
 * bench/ipsec_floor: the calls measured, one burst each — (a) the AEAD
 * alone, (b) tg_ipsec_cpu_process, (c) tg_ipsec_crypto_enqueue/dequeue,
 * ref crypto-perf's operation (ipsec_floor.c says what each stands for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_mbuf.h>

#include "ipsec_floor.h"
#include "ipsec_internal.h" /* an SA's crypto session, the op pool */

/* (a): the AEAD on each packet in place, in calls of one SA's run, the
 * ciphertext's bounds, IV (salt + the packet's 8 bytes), AAD (the ESP
 * header itself: SPI and sequence number) and ICV where rte_ipsec has
 * them. The vectors are built per packet, as any caller must. */
static unsigned int
burst_cipher(struct tg_floor_case *bk, struct tg_floor_burst *bu)
{
	struct tg_ipsec_sa **sa = bk->decrypt ? bk->in : bk->out;
	struct rte_crypto_vec vec[TG_FLOOR_BURST];
	struct rte_crypto_sgl sgl[TG_FLOOR_BURST];
	struct rte_crypto_va_iova_ptr iv[TG_FLOOR_BURST], aad[TG_FLOOR_BURST],
		dgst[TG_FLOOR_BURST];
	uint8_t ivb[TG_FLOOR_BURST][16];
	int32_t st[TG_FLOOR_BURST];
	struct rte_crypto_sym_vec sv = {0};
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	unsigned int i, r, good = 0;
	uint8_t *p;

	for (r = 0; r < bu->nruns; r++)
		for (i = bu->start[r]; i < bu->start[r + 1]; i++) {
			p = rte_pktmbuf_mtod(bu->pk[i], uint8_t *);
			vec[i].base = p + TG_FLOOR_ESP_CT;
			vec[i].len = bk->ct_len;
			sgl[i].vec = &vec[i];
			sgl[i].num = 1;
			memcpy(ivb[i], bk->salt[bu->sa[r]], 4);
			memcpy(ivb[i] + 4, p + TG_FLOOR_ESP_HDR + 8, 8);
			iv[i].va = ivb[i];
			aad[i].va = p + TG_FLOOR_ESP_HDR;
			dgst[i].va = p + TG_FLOOR_ESP_CT + bk->ct_len;
		}
	for (r = 0; r < bu->nruns; r++) {
		i = bu->start[r];
		sv.num = bu->start[r + 1] - i;
		sv.src_sgl = sgl + i;
		sv.iv = iv + i;
		sv.aad = aad + i;
		sv.digest = dgst + i;
		sv.status = st + i;
		good += rte_cryptodev_sym_cpu_crypto_process(
			tg_ipsec_ctx_dev_id(bk->cpu),
			sa[bu->sa[r]]->crypto_sess, ofs, &sv);
	}
	return good;
}

/* (b) */
static unsigned int
burst_cpu(struct tg_floor_case *bk, struct tg_floor_burst *bu)
{
	struct tg_ipsec_sa **sa = bk->decrypt ? bk->in : bk->out;
	unsigned int r, good = 0;
	uint16_t np;

	for (r = 0; r < bu->nruns; r++)
		good += tg_ipsec_cpu_process(sa[bu->sa[r]],
			bu->pk + bu->start[r],
			(uint16_t)(bu->start[r + 1] - bu->start[r]), &np);
	return good;
}

/* (c): every run enqueued, then dequeued until all are back (aesni_mb
 * runs the cipher in the dequeue). The stage picks completions up on its
 * next poll instead; the work is the same. */
static unsigned int
burst_lookaside(struct tg_floor_case *bk, struct tg_floor_burst *bu)
{
	struct rte_mbuf *done[TG_FLOOR_BURST];
	unsigned int r, sent = 0, got = 0, good = 0, idle = 0;
	uint16_t np, k, g;

	for (r = 0; r < bu->nruns; r++)
		sent += tg_ipsec_crypto_enqueue(bk->lk, bk->lk_sa[bu->sa[r]],
			bu->pk + bu->start[r],
			(uint16_t)(bu->start[r + 1] - bu->start[r]), &np);
	while (got < sent) {
		k = tg_ipsec_crypto_dequeue(
			bk->lk, done, NULL, TG_FLOOR_BURST, &g);
		got += k;
		good += g;
		if (k == 0 && ++idle > 100000) {
			/* ops left in the device: nothing can go on */
			fprintf(stderr, "ipsec_floor: lookaside stuck\n");
			exit(1);
		}
	}
	return good;
}

/* ref: what dpdk-test-crypto-perf's throughput test times, in this
 * process, so that every run has its own yardstick (this host's speed
 * moves by 2-3x within minutes; another process a few seconds earlier is
 * a poor one): per burst of 32, ops from the pool, each set up (session,
 * mbuf, offsets, IV copied into the op, AAD and digest pointers; AAD 8,
 * digest 16, one session for all), enqueued, dequeued, returned. The
 * buffer is the frame size as crypto-perf's --buffer-sz; decryption of
 * bytes that are not ciphertext fails its tag check as crypto-perf's
 * does (not counted: the work is the same). */
static unsigned int
burst_ref(struct tg_floor_case *bk, struct tg_floor_burst *bu)
{
	struct rte_crypto_op *cop[TG_FLOOR_BURST], *done[TG_FLOOR_BURST];
	uint8_t dev = tg_ipsec_ctx_dev_id(bk->cpu);
	struct rte_crypto_sym_op *sym;
	unsigned int i, got = 0, idle = 0;
	uint16_t e, k;
	uint8_t *iv;

	if (rte_crypto_op_bulk_alloc(bk->cpu->op_pool,
		    RTE_CRYPTO_OP_TYPE_SYMMETRIC, cop, TG_FLOOR_BURST) == 0)
		return 0;
	for (i = 0; i < TG_FLOOR_BURST; i++) {
		sym = cop[i]->sym;
		rte_crypto_op_attach_sym_session(cop[i], bk->ref_sess);
		sym->m_src = bu->pk[i];
		sym->aead.data.offset = 0;
		sym->aead.data.length = bk->ref_len;
		sym->aead.digest.data = rte_pktmbuf_mtod_offset(
			bu->pk[i], uint8_t *, bk->ref_len);
		sym->aead.digest.phys_addr =
			rte_pktmbuf_iova_offset(bu->pk[i], bk->ref_len);
		iv = rte_crypto_op_ctod_offset(
			cop[i], uint8_t *, TG_IPSEC_IV_OFFSET);
		memcpy(iv, bk->salt[0], 4);
		memcpy(iv + 4, bk->clear, 8);
		sym->aead.aad.data = iv + 16;
		sym->aead.aad.phys_addr = rte_crypto_op_ctophys_offset(
			cop[i], TG_IPSEC_IV_OFFSET + 16);
	}
	e = rte_cryptodev_enqueue_burst(dev, 0, cop, TG_FLOOR_BURST);
	if (e < TG_FLOOR_BURST)
		rte_mempool_put_bulk(bk->cpu->op_pool, (void **)(cop + e),
			TG_FLOOR_BURST - e);
	while (got < e) {
		k = rte_cryptodev_dequeue_burst(dev, 0, done, TG_FLOOR_BURST);
		rte_mempool_put_bulk(bk->cpu->op_pool, (void **)done, k);
		got += k;
		if (k == 0 && ++idle > 100000) {
			fprintf(stderr, "ipsec_floor: ref stuck\n");
			exit(1);
		}
	}
	return e;
}

unsigned int (*const tg_floor_fn[TG_FLOOR__COUNT])(
	struct tg_floor_case *, struct tg_floor_burst *) = {
	burst_cipher, burst_cpu, burst_lookaside, burst_ref};
