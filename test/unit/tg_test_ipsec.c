/* SPDX-License-Identifier: BSD-3-Clause
 * Shared by the IPsec suites (tg_test_ipsec.h).
 */
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h> /* also writes: the dumps for the interop scripts */
#include <rte_mbuf.h>

#include "tg_test.h"
#include "tg_test_ipsec.h"
#include "tg_test_pcap.h"

struct rte_mempool *tg_test_mp;
struct tg_ipsec_ctx *tg_test_ctx;

int
tg_test_ipsec_main(const char *name, unsigned int n_mbuf, uint16_t priv,
	void (*add_suites)(void))
{
	int rc;

	if (tg_test_eal_init(name) != 0)
		return 1;
	tg_test_mp = rte_pktmbuf_pool_create(name, n_mbuf, 0, priv,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (tg_test_mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	add_suites();
	rc = tg_test_run();
	rte_mempool_free(tg_test_mp);
	tg_test_eal_cleanup();
	return rc;
}

static int
init_ctx(enum tg_ipsec_crypto_mode mode)
{
	struct tg_ipsec_ctx_params cp = {
		.max_sa = 64, .nb_ops = 256, .mode = mode};

	tg_test_ctx = tg_ipsec_ctx_create(&cp);
	if (tg_test_ctx == NULL)
		return -1;
	return tg_ipsec_ctx_cpu_crypto(tg_test_ctx) ==
			       (mode == TG_IPSEC_CRYPTO_CPU)
		       ? 0
		       : -1;
}

int
tg_test_ipsec_init_lookaside(void)
{
	return init_ctx(TG_IPSEC_CRYPTO_LOOKASIDE);
}

int
tg_test_ipsec_init_cpu(void)
{
	return init_ctx(TG_IPSEC_CRYPTO_CPU);
}

int
tg_test_ipsec_clean(void)
{
	tg_ipsec_ctx_free(tg_test_ctx);
	tg_test_ctx = NULL;
	return 0;
}

struct rte_mbuf *
tg_test_mbuf_of(const uint8_t *b, uint16_t len, uint16_t l2)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tg_test_mp);
	char *d;

	if (m == NULL)
		return NULL;
	d = rte_pktmbuf_append(m, len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(d, b, len);
	/* what the burst functions want the caller to set */
	m->l2_len = l2;
	m->l3_len = len > l2 ? (uint16_t)((b[l2] & 0xf) * 4) : 0;
	return m;
}

bool
tg_test_mbuf_equals(const struct rte_mbuf *m, const uint8_t *b, uint16_t len)
{
	return m != NULL && m->nb_segs == 1 && rte_pktmbuf_data_len(m) == len &&
	       memcmp(rte_pktmbuf_mtod(m, const void *), b, len) == 0;
}

int
tg_test_ipsec_one(struct tg_ipsec_sa *sa, struct rte_mbuf **m, bool *failed)
{
	int rc = tg_ipsec_process_sync(tg_test_ctx, sa, m, 1);

	if (failed != NULL)
		*failed = rc == 0 &&
			  ((*m)->ol_flags & RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED) !=
				  0;
	if (rc == 0) {
		rte_pktmbuf_free(*m);
		*m = NULL;
	}
	return rc;
}

uint16_t
tg_test_udp4(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id, uint16_t plen,
	uint8_t tos, uint16_t frag, uint8_t ttl)
{
	uint16_t len = (uint16_t)(20 + 8 + plen), i;

	memset(b, 0, len);
	b[0] = 0x45;
	b[1] = tos;
	tg_test_put16(b + 2, len);
	tg_test_put16(b + 4, id);
	tg_test_put16(b + 6, frag);
	b[8] = ttl;
	b[9] = IPPROTO_UDP;
	tg_test_put32(b + 12, src);
	tg_test_put32(b + 16, dst);
	tg_test_put16(b + 10, tg_test_ip_sum(b, 20));
	tg_test_put16(b + 20, 1234);
	tg_test_put16(b + 22, 5678);
	tg_test_put16(b + 24, (uint16_t)(8 + plen));
	for (i = 0; i < plen; i++)
		b[28 + i] = (uint8_t)(i * 7 + id);
	return len;
}

/* ---- gen_esp.py's and gen_ah.py's captures ------------------------------- */

/* Kind in the destination MAC's last byte, SA in the source's. */
static int
take_frame(void *arg, const uint8_t *d, uint32_t len)
{
	struct tg_test_capture *c = arg;
	struct tg_test_frame *f;

	if (c->n >= RTE_DIM(c->f) || len > TG_TEST_FRAME_MAX + 14 || len < 34)
		return -1;
	f = &c->f[c->n++];
	f->kind = d[5];
	f->sa = d[11];
	f->len = (uint16_t)(len - 14);
	memcpy(f->b, d + 14, f->len);
	return 0;
}

int
tg_test_capture_load(struct tg_test_capture *c, const char *path)
{
	c->n = 0;
	return tg_test_pcap_read(path, take_frame, c) > 0 ? 0 : -1;
}

void
tg_test_scapy_sa_common(struct tg_ipsec_sa_params *p, unsigned int i,
	enum tg_ipsec_dir dir, uint32_t spi_base)
{
	memset(p, 0, sizeof(*p));
	p->spi = spi_base + i;
	p->dir = dir;
	p->mode = i % 2 == 0 ? TG_IPSEC_MODE_TUNNEL : TG_IPSEC_MODE_TRANSPORT;
	p->tun_local = TG_TEST_US;
	p->tun_remote = TG_TEST_PEER;
	p->replay_window = 64;
}

unsigned int
tg_test_protect_for_scapy(const struct tg_test_capture *c,
	tg_test_scapy_sa_fn sa_of, uint8_t proto, const char *dump_env)
{
	const char *path = getenv(dump_env);
	struct tg_ipsec_sa *sa[16] = {NULL};
	pcap_dumper_t *dump = NULL;
	pcap_t *dead = NULL;
	unsigned int i, n = 0;

	if (path != NULL) {
		dead = pcap_open_dead(DLT_EN10MB, 65535);
		dump = pcap_dump_open(dead, path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(dump);
	}
	for (i = 0; i < c->n; i++) {
		const struct tg_test_frame *f = &c->f[i];
		struct tg_ipsec_sa_params p;
		struct rte_mbuf *m;
		uint8_t out[TG_TEST_FRAME_MAX + 14] = {
			2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0};
		struct pcap_pkthdr h = {0};
		uint16_t len;

		if (f->kind != 2)
			continue;
		if (f->sa >= RTE_DIM(sa))
			break;
		if (sa[f->sa] == NULL) {
			sa_of(&p, f->sa, TG_IPSEC_DIR_OUTBOUND);
			sa[f->sa] = tg_ipsec_sa_create(tg_test_ctx, &p);
			CU_ASSERT_PTR_NOT_NULL_FATAL(sa[f->sa]);
		}
		m = tg_test_mbuf_of(f->b, f->len, 0);
		CU_ASSERT_EQUAL_FATAL(
			tg_test_ipsec_one(sa[f->sa], &m, NULL), 1);
		len = rte_pktmbuf_data_len(m);
		CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, uint8_t *)[9], proto);
		if (dump != NULL && len <= TG_TEST_FRAME_MAX) {
			out[11] = f->sa;
			out[12] = 0x08;
			memcpy(out + 14, rte_pktmbuf_mtod(m, void *), len);
			h.caplen = h.len = (uint32_t)len + 14;
			pcap_dump((u_char *)dump, &h, out);
		}
		rte_pktmbuf_free(m);
		n++;
	}
	for (i = 0; i < RTE_DIM(sa); i++)
		tg_ipsec_sa_destroy(sa[i]);
	if (dump != NULL) {
		pcap_dump_close(dump);
		pcap_close(dead);
	}
	return n;
}
