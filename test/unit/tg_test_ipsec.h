/* SPDX-License-Identifier: BSD-3-Clause
 * Shared by the IPsec suites (test_ipsec, test_ipsec_ah, test_ipsec_stage):
 * their mbuf pool and crypto context, packets in and out of mbufs, one
 * packet through an SA, the UDP packets they protect, the frames of
 * gen_esp.py's and gen_ah.py's captures, and tollgate's output for scapy
 * (test/integration/esp_interop.py, ah_interop.py).
 */
#ifndef TG_TEST_IPSEC_H
#define TG_TEST_IPSEC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "tg_ipsec.h"

#ifndef TG_TEST_DATA
#define TG_TEST_DATA "test/unit/data"
#endif

#define TG_TEST_FRAME_MAX 512
/* RTE_IPV4() shifts an int: 192 << 24 is undefined (UBSan says so). */
#define TG_TEST_IP4(a, b, c, d)                                                \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
		(uint32_t)(d))
/* The tunnel endpoints of the SAs, here and in gen_esp.py / gen_ah.py. */
#define TG_TEST_US   TG_TEST_IP4(192, 0, 2, 1)
#define TG_TEST_PEER TG_TEST_IP4(192, 0, 2, 2)

/** The pool tg_test_ipsec_main() creates, and the context a suite's init
 *  (tg_test_ipsec_init_*) creates and tg_test_ipsec_clean() frees. */
extern struct rte_mempool *tg_test_mp;
extern struct tg_ipsec_ctx *tg_test_ctx;

/** EAL, a pool of @p n_mbuf mbufs (private area @p priv) named @p name,
 *  the CUnit registry, @p add_suites, the run, clean-up: main()'s body.
 *  Returns the process exit code. */
int tg_test_ipsec_main(const char *name, unsigned int n_mbuf, uint16_t priv,
	void (*add_suites)(void));

/** Suite init: tg_test_ctx on crypto_aesni_mb, 64 SAs, every SA through
 *  the device's queue (lookaside) or on the caller's core (CPU crypto).
 *  0, or -1 when it could not be had in that mode. */
int tg_test_ipsec_init_lookaside(void);
int tg_test_ipsec_init_cpu(void);
/** Suite clean-up: tg_test_ctx freed. */
int tg_test_ipsec_clean(void);

/** @p len bytes of @p b in a new mbuf of tg_test_mp, l2_len @p l2, or
 *  NULL. */
struct rte_mbuf *tg_test_mbuf_of(const uint8_t *b, uint16_t len, uint16_t l2);

/** @p m holds exactly @p b (one segment); false for NULL. */
bool tg_test_mbuf_equals(
	const struct rte_mbuf *m, const uint8_t *b, uint16_t len);

/** One packet through an SA of tg_test_ctx: 1 good, 0 failed (then, if
 *  @p failed is not NULL, it tells whether the crypto op failed — the
 *  flag — and the mbuf is freed, *m NULL), negative on error. */
int tg_test_ipsec_one(
	struct tg_ipsec_sa *sa, struct rte_mbuf **m, bool *failed);

/** An IPv4/UDP packet in @p b: TOS @p tos, flags/fragment word @p frag,
 *  TTL @p ttl, ports 1234 → 5678, @p plen payload bytes (i * 7 + id),
 *  header checksum computed here (tg_test.h). Returns its length. */
uint16_t tg_test_udp4(uint8_t *b, uint32_t src, uint32_t dst, uint16_t id,
	uint16_t plen, uint8_t tos, uint16_t frag, uint8_t ttl);

/* ---- gen_esp.py's and gen_ah.py's captures ------------------------------- */

/** A frame of esp.pcap or ah.pcap: its kind and SA from the destination
 *  and source MAC addresses; kept from the IPv4 header on. */
struct tg_test_frame {
	uint8_t sa, kind;
	uint16_t len;
	uint8_t b[TG_TEST_FRAME_MAX];
};

struct tg_test_capture {
	unsigned int n;
	struct tg_test_frame f[64];
};

/** Every frame of @p path into @p c. 0, or -1 (on stderr why). */
int tg_test_capture_load(struct tg_test_capture *c, const char *path);

/** The parameters of the scapy script's SA @p i in direction @p dir. */
typedef void (*tg_test_scapy_sa_fn)(
	struct tg_ipsec_sa_params *p, unsigned int i, enum tg_ipsec_dir dir);

/** What gen_esp.py's and gen_ah.py's SAs share: SPI @p spi_base + @p i,
 *  tunnel (US → PEER) when @p i is even, transport when odd, a window of
 *  64; the rest of @p p zeroed. */
void tg_test_scapy_sa_common(struct tg_ipsec_sa_params *p, unsigned int i,
	enum tg_ipsec_dir dir, uint32_t spi_base);

/** tollgate protects the cleartext frames (kind 2) of @p c with outbound
 *  SAs from @p sa_of: each must give a packet of protocol @p proto; when
 *  the environment variable @p dump_env names a file, they are written
 *  there (source MAC: the SA) for the interop scripts. Returns how many
 *  it protected (asserts on the way). */
unsigned int tg_test_protect_for_scapy(const struct tg_test_capture *c,
	tg_test_scapy_sa_fn sa_of, uint8_t proto, const char *dump_env);

#endif /* TG_TEST_IPSEC_H */
