/* SPDX-License-Identifier: BSD-3-Clause
 * ipsec: the crypto context (one lookaside rte_cryptodev with its pools)
 * and manually keyed SAs — ESP on rte_ipsec, AH (RFC 4302, which
 * rte_ipsec lacks) on plain cryptodev HMAC operations —, with the two
 * halves of the
 * burst path the ipsec stage will run across polls: prepare + enqueue,
 * and dequeue + process. Knows nothing of YAML, rings or lcores: its SA
 * parameters are its own plain struct, filled by whoever builds the
 * tables. The SPD (policies → rte_acl) is in tg_ipsec_spd.h.
 */
#ifndef TG_IPSEC_H
#define TG_IPSEC_H

#include <stdbool.h>
#include <stdint.h>
#include <rte_mbuf.h>

/** The crypto device used when tg_ipsec_ctx_params.device is NULL. */
#define TG_IPSEC_DEFAULT_DEVICE "crypto_aesni_mb"

/** Longest key of any algorithm (AES-256, HMAC-SHA256). */
#define TG_IPSEC_KEY_MAX 32

enum tg_ipsec_dir {
	TG_IPSEC_DIR_INBOUND,
	TG_IPSEC_DIR_OUTBOUND,
};

/** The SA's protocol. ESP is 0 so zero-initialised parameters stay ESP. */
enum tg_ipsec_proto {
	TG_IPSEC_PROTO_ESP = 0, /**< IP protocol 50 (RFC 4303) */
	TG_IPSEC_PROTO_AH,	/**< IP protocol 51 (RFC 4302) */
};

enum tg_ipsec_mode {
	TG_IPSEC_MODE_TUNNEL, /**< IPv4 in IPv4, outer header from the SA */
	TG_IPSEC_MODE_TRANSPORT,
};

/*
 * Algorithms: X(NAME, "config name", cipher key, auth key, icv bytes).
 * The ESP ones first, then AH's (integrity only: no cipher key — the
 * cipher key length is what tg_ipsec_alg_proto() tells them apart by,
 * as ESP without encryption is not offered). The order is the config
 * model's (enum tg_cfg_ipsec_alg).
 */
#define TG_IPSEC_ALGS(X)                                                       \
	X(AES128_GCM, "aes-128-gcm", 16, 0, 16)                                \
	X(AES256_GCM, "aes-256-gcm", 32, 0, 16)                                \
	X(AES128_CBC_SHA256, "aes-128-cbc-hmac-sha256-128", 16, 32, 16)        \
	X(AES256_CBC_SHA256, "aes-256-cbc-hmac-sha256-128", 32, 32, 16)        \
	X(AES128_CBC_SHA1, "aes-128-cbc-hmac-sha1-96", 16, 20, 12)             \
	X(HMAC_SHA256, "hmac-sha256-128", 0, 32, 16)                           \
	X(HMAC_SHA1, "hmac-sha1-96", 0, 20, 12)

/** This library does AH (tg_ipsec_sa_params.proto), for code that is
 *  built against versions with and without it. */
#define TG_IPSEC_HAVE_AH 1

enum tg_ipsec_alg {
#define TG_X_ENUM(n, s, ck, ak, icv) TG_IPSEC_ALG_##n,
	TG_IPSEC_ALGS(TG_X_ENUM)
#undef TG_X_ENUM
		TG_IPSEC_ALG__COUNT
};

/** The algorithm's name ("aes-128-gcm", …), NULL when out of range. */
const char *tg_ipsec_alg_name(enum tg_ipsec_alg alg);

/** The protocol the algorithm belongs to (AH: the HMAC-only ones);
 *  out of range: ESP (tg_ipsec_sa_params_check() refuses it anyway). */
enum tg_ipsec_proto tg_ipsec_alg_proto(enum tg_ipsec_alg alg);

/**
 * One manually keyed ESP or AH SA, as the table builder gives it: plain
 * values, no DPDK handles. Addresses are in host byte order. Keys are
 * copied into the crypto session at create time; the SA keeps no copy of
 * them.
 */
struct tg_ipsec_sa_params {
	uint32_t spi; /**< not 0 (RFC 4303, RFC 4302: reserved) */
	/** ESP (0, the default) or AH; the algorithm must be one of it. */
	enum tg_ipsec_proto proto;
	enum tg_ipsec_dir dir;
	enum tg_ipsec_mode mode;
	uint32_t tun_local;  /**< tunnel: outer source (ours) */
	uint32_t tun_remote; /**< tunnel: outer destination (peer) */
	enum tg_ipsec_alg alg;
	/** Cipher key, exactly the algorithm's length (16 or 32 bytes; AH:
	 *  none, length 0). */
	uint8_t cipher_key[TG_IPSEC_KEY_MAX];
	uint8_t cipher_key_len;
	/** GCM salt (RFC 4106: the last 4 bytes of the IKE key material). */
	uint8_t salt[4];
	/** HMAC key for CBC and AH algorithms, exactly 32 (SHA256) or 20
	 *  (SHA1). */
	uint8_t auth_key[TG_IPSEC_KEY_MAX];
	uint8_t auth_key_len;
	/** Inbound anti-replay window in packets; 0 turns the check off.
	 *  AH: at most TG_IPSEC_AH_WINDOW_MAX. */
	uint32_t replay_window;
	bool esn; /**< 64-bit extended sequence numbers; ESP only (AH: an SA
		       with it is refused, ENOTSUP) */
	/** Lifetime limits, 0 = none. Kept with the SA for whoever enforces
	 *  them (the ipsec stage: tg_ipsec_stage.h); the library itself
	 *  does not look at them. */
	struct tg_ipsec_lifetime {
		uint64_t soft_packets, hard_packets;
		uint64_t soft_bytes, hard_bytes;
	} lifetime;
};

/**
 * An SA's counters. Written only by the lcore that runs the SA's crypto
 * (enqueue, dequeue and the ipsec stage), read by anyone: each field is
 * one naturally aligned word.
 */
struct tg_ipsec_sa_stats {
	uint64_t packets; /**< processed: outbound sent to the device,
			       inbound authenticated and decrypted */
	uint64_t bytes;	  /**< of those: the IP packet, cleartext (outbound
			       before, inbound after the crypto) */
	/** Outbound: the last sequence number used (packets prepared).
	 *  Inbound: the highest one accepted (low 32 bits with ESN). */
	uint64_t seq;
	uint64_t err_auth;   /**< inbound: ICV check failed */
	uint64_t err_replay; /**< inbound: outside or seen in the window */
	uint64_t err_other;  /**< malformed, device full, crypto error */
	uint64_t expired;    /**< refused: the hard lifetime was reached */
	uint32_t inflight; /**< operations in the crypto device now */
	uint8_t soft_reached; /**< the soft lifetime was reached */
	uint8_t hard_reached; /**< the hard one: the SA carries nothing */
};

/** How SAs use the device. */
enum tg_ipsec_crypto_mode {
	/** CPU crypto when the device offers it (software PMDs: the
	 *  crypto runs on the calling core, no queue), else lookaside */
	TG_IPSEC_CRYPTO_AUTO = 0,
	/** operations through the device's queue pair, results picked up
	 *  by later calls (hardware devices; software ones too, on demand) */
	TG_IPSEC_CRYPTO_LOOKASIDE,
	/** CPU crypto, or the context is refused (ENOTSUP) */
	TG_IPSEC_CRYPTO_CPU,
};

/** Largest AH anti-replay window (its bitmap is allocated with the SA). */
#define TG_IPSEC_AH_WINDOW_MAX 65536

/** What tg_ipsec_ctx_create() sets up. */
struct tg_ipsec_ctx_params {
	/** Crypto device name; a vdev (crypto_aesni_mb, crypto_openssl, …)
	 *  is created when no device of that name exists. NULL: default. */
	const char *device;
	/** The vdev's arguments ("socket_id=0,max_nb_queue_pairs=2"), when
	 *  it is created here; NULL: none. */
	const char *devargs;
	uint32_t max_sa;   /**< crypto sessions in the session pool */
	uint32_t nb_ops;   /**< crypto ops in the op pool (in flight) */
	uint32_t qp_depth; /**< queue pair descriptors; 0: 2048 */
	enum tg_ipsec_crypto_mode mode;
	int socket_id;	   /**< SOCKET_ID_ANY: the device's */
};

struct tg_ipsec_ctx;
struct tg_ipsec_sa;

/**
 * Attach the crypto device (creating the vdev if needed), configure one
 * queue pair, create the session and op pools and start the device.
 * Control thread, after rte_eal_init().
 * @return the context, or NULL with rte_errno: EINVAL (bad params),
 *   ENODEV (no such device and the vdev could not be created), ENOTSUP
 *   (not a symmetric crypto device), ENOMEM, or the device's own error
 *   (EBUSY: the device is already started, e.g. by another context).
 */
struct tg_ipsec_ctx *tg_ipsec_ctx_create(const struct tg_ipsec_ctx_params *p);

/**
 * Stop the device and free the pools; uninit the vdev if this context
 * created it. Every SA must have been destroyed and every op dequeued.
 * NULL is a no-op. Control thread.
 */
void tg_ipsec_ctx_free(struct tg_ipsec_ctx *ctx);

/** The cryptodev id of the context (for stats and telemetry). */
uint8_t tg_ipsec_ctx_dev_id(const struct tg_ipsec_ctx *ctx);

/** Whether the context's ESP SAs use CPU crypto (tg_ipsec_cpu_process())
 *  rather than the queue (tg_ipsec_crypto_enqueue/dequeue). */
bool tg_ipsec_ctx_cpu_crypto(const struct tg_ipsec_ctx *ctx);

/**
 * Check an SA's parameters without touching a device: key lengths for
 * the algorithm, the algorithm one of the protocol's, SPI not 0, tunnel
 * endpoints given, enum ranges, AH's window not above
 * TG_IPSEC_AH_WINDOW_MAX.
 * @return 0 or -EINVAL.
 */
int tg_ipsec_sa_params_check(const struct tg_ipsec_sa_params *p);

/**
 * Create an SA. ESP: the cryptodev symmetric session (AEAD for GCM;
 * cipher then auth outbound, auth verify then cipher inbound for
 * CBC+HMAC), the rte_ipsec SA (ESP, IPv4 tunnel or transport) and its
 * lookaside-none session. AH: an auth-only session (HMAC generate
 * outbound, verify inbound) and the SA's own sequence counter and replay
 * window. Control thread.
 * @return the SA, or NULL with rte_errno: EINVAL (params), ENOTSUP (the
 *   device lacks the algorithm or key size; AH with ESN), ENOMEM
 *   (session pool or memory exhausted).
 */
struct tg_ipsec_sa *tg_ipsec_sa_create(
	struct tg_ipsec_ctx *ctx, const struct tg_ipsec_sa_params *p);

/**
 * Free an SA and its crypto session. No op of it may be in flight.
 * NULL is a no-op. Control thread, after the RCU grace period.
 */
void tg_ipsec_sa_destroy(struct tg_ipsec_sa *sa);

uint32_t tg_ipsec_sa_spi(const struct tg_ipsec_sa *sa);
enum tg_ipsec_dir tg_ipsec_sa_dir(const struct tg_ipsec_sa *sa);

/** The parameters the SA was created with, keys zeroed (safe to show). */
const struct tg_ipsec_sa_params *tg_ipsec_sa_params(
	const struct tg_ipsec_sa *sa);

/** The SA's counters (see struct tg_ipsec_sa_stats for who writes). */
struct tg_ipsec_sa_stats *tg_ipsec_sa_stats(struct tg_ipsec_sa *sa);

/*
 * Burst path. A packet's data starts at an L2 header of m->l2_len bytes
 * (0: bare IPv4), then the IPv4 header of m->l3_len bytes: the caller
 * sets both (rte_pktmbuf_alloc() leaves 0; the stage knows them from
 * validation, and finding them again here, with a read of the header
 * and a read-modify-write of the mbuf's second cache line per packet,
 * cost 14 cycles a packet); one segment, with room for the ESP
 * overhead (outbound tunnel: 20 + 8 + 16 bytes of headroom; trailer and
 * ICV need up to 16 + 2 + 16 bytes of tailroom, plus 16 for the GCM AAD
 * that rte_ipsec keeps behind the ICV during the operation) or the AH
 * header (outbound: 12 + ICV bytes of headroom, tunnel 20 more; the L2
 * header's bytes count). Bytes behind the IPv4 total length (Ethernet
 * padding) are trimmed off AH packets.
 *
 * Ops of ESP and AH SAs share the queue pair and may complete mixed in
 * one dequeue; the caller does not need to know which an SA is.
 *
 * The context has one queue pair: enqueue and dequeue are for one lcore
 * at a time (the one that runs the ipsec stage). An SA's packets are
 * processed in order: for an inbound SA only one lcore may run
 * tg_ipsec_crypto_dequeue() for it at a time (replay window update).
 *
 * What comes back: tunnel mode loses the L2 header (outbound: the data
 * starts at the new outer IPv4 header; inbound: at the inner one);
 * transport mode keeps it (rte_ipsec moves L2 and IP header together;
 * so does AH).
 */

/** Most packets one enqueue, dequeue or sync call handles. */
#define TG_IPSEC_BURST_MAX 32

/**
 * Prepare @p n (at most TG_IPSEC_BURST_MAX; more are left untouched and
 * counted as failed) packets of one SA (ESP: rte_ipsec_pkt_crypto_prepare;
 * AH: ipsec_ah.c — outbound assigns sequence numbers and builds the
 * header; inbound checks length, SPI and the replay window) and enqueue
 * their crypto operations. Never waits.
 * On return mb[0, ret) are in flight (the caller must not touch them
 * until tg_ipsec_crypto_dequeue() gives them back); mb[ret, *n_prepared)
 * found the device full (drop: crypto_queue_full): the queue (an outbound
 * one has used its sequence number) or, when no operation was free, the
 * op pool (then *n_prepared = n and nothing was prepared); mb[*n_prepared,
 * n) failed
 * preparation (inbound: replay or malformed; outbound: no room,
 * sequence number overflow, AH: malformed, a fragment in transport mode,
 * an IPv4 source route option) or found no free op.
 * @return the number enqueued.
 */
uint16_t tg_ipsec_crypto_enqueue(struct tg_ipsec_ctx *ctx,
	struct tg_ipsec_sa *sa, struct rte_mbuf *mb[], uint16_t n,
	uint16_t *n_prepared);

/**
 * Pick up to @p n completed operations (of any SA, ESP and AH mixed) and
 * finish their packets (ESP: rte_ipsec_pkt_process; AH: ipsec_ah.c —
 * inbound takes the ICV result, updates the replay window and strips
 * the header — tunnel mode leaves the inner packet —, outbound restores
 * the mutable fields zeroed for the ICV); fixes the IPv4 header
 * checksum. Never waits.
 * On return mb[0, *n_good) are good, mb[*n_good, ret) failed (crypto or
 * ICV failure, replay detected after decryption, bad padding); a failed
 * packet whose crypto operation failed (ICV mismatch included) has
 * RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED in ol_flags, a replay found after the
 * ICV check has not. Per SA, packets come back in their enqueue order.
 * @p sa, if not NULL, gets each packet's SA (NULL for an op that had no
 * session).
 * @return the number of packets returned.
 */
uint16_t tg_ipsec_crypto_dequeue(struct tg_ipsec_ctx *ctx,
	struct rte_mbuf *mb[], struct tg_ipsec_sa *sa[], uint16_t n,
	uint16_t *n_good);

/** Whether @p sa is processed with tg_ipsec_cpu_process() (an ESP SA of
 *  a CPU crypto context) rather than enqueue/dequeue. */
bool tg_ipsec_sa_sync(const struct tg_ipsec_sa *sa);

/**
 * CPU crypto: prepare, encrypt or decrypt, and finish @p n (at most
 * TG_IPSEC_BURST_MAX) packets of one synchronous SA on the calling core
 * (rte_ipsec_pkt_cpu_prepare + rte_ipsec_pkt_process). Reorders @p mb:
 * on return mb[0, ret) are good, mb[ret, *n_prepared) failed in the
 * crypto or after it (inbound: ICV failure, flagged
 * RTE_MBUF_F_RX_SEC_OFFLOAD_FAILED, bad trailer, replay within the
 * burst), mb[*n_prepared, n) failed preparation (inbound: replay;
 * outbound: sequence numbers exhausted). Same layouts as the queue path.
 * @return the number of good packets.
 */
uint16_t tg_ipsec_cpu_process(struct tg_ipsec_sa *sa, struct rte_mbuf *mb[],
	uint16_t n, uint16_t *n_prepared);

/**
 * FOR TESTS ONLY: enqueue a burst of one SA and busy-poll until every
 * operation is back (bounded by about one second), then process it. The
 * ipsec stage must never do this: it enqueues on one poll and dequeues on
 * later ones (ARCHITECTURE.md section 3: no worker ever waits).
 * On return mb[0, ret) are good and the rest failed, as for the two
 * functions above (their order may change).
 * @return the number of good packets, or -ETIMEDOUT (operations left in
 *   the device: the context must not be used further), -EINVAL.
 */
int tg_ipsec_process_sync(struct tg_ipsec_ctx *ctx, struct tg_ipsec_sa *sa,
	struct rte_mbuf *mb[], uint16_t n);

#endif /* TG_IPSEC_H */
