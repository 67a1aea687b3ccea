/* SPDX-License-Identifier: BSD-3-Clause
 * Watching real packets (issue 8): a trace marks up to N matching packets
 * at RX and the dispatcher writes a compact record for each step they
 * take into a per-lcore buffer; a drop capture copies dropped packets,
 * with their stage and reason, into a pcapng file.
 *
 * Both cost the dataplane nothing when off: the workers test one word of
 * the pipeline (struct tg_obs.on) per burst, and only look at packets
 * when it is set. Control side (start, stop, collect): any non-worker
 * thread, one at a time (the telemetry callbacks hold the control lock).
 */
#ifndef TG_TRACE_H
#define TG_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tg_pipeline;

/* ---- trace --------------------------------------------------------- */

/** Which packets a trace marks: every condition given must hold. A
 *  "host" or "port" condition without src/dst (TG_TRACE_EITHER) holds
 *  when either end matches, as in BPF. All values in host order. */
struct tg_trace_filter {
	bool has_proto;
	uint8_t proto;	/**< IP protocol, with has_proto */
	uint8_t n_addr; /**< conditions in addr[] */
	uint8_t n_port; /**< conditions in port[] */
	struct {
		uint8_t which; /**< TG_TRACE_SRC, _DST or _EITHER */
		uint32_t addr, mask;
	} addr[4];
	struct {
		uint8_t which;
		uint16_t lo, hi;
	} port[4];
	/** receiving port id; TG_IF_NONE: any; TG_TRACE_FROM_HOST: sent
	 *  by the host (the source path) */
	uint16_t rx_if;
	/** ARP frames only ("arp"; host terms: sender and target IP);
	 *  without it, no ARP frame is marked */
	bool arp;
};

#define TG_TRACE_SRC	   1
#define TG_TRACE_DST	   2
#define TG_TRACE_EITHER	   3
#define TG_TRACE_FROM_HOST 0xfffe

/** Does a packet with these header fields (host order) match @p f?
 *  Ports are those of TCP/UDP (0 for other protocols and non-first
 *  fragments). */
bool tg_trace_filter_match(const struct tg_trace_filter *f, uint8_t proto,
	uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	uint16_t rx_if);

/**
 * Parse a BPF-like filter: terms joined by "and", each one of
 *   tcp | udp | icmp | esp | ah | proto N
 *   [src|dst] host A.B.C.D | [src|dst] net A.B.C.D/LEN
 *   [src|dst] port N[-M]
 *   in IFACE | from host
 * ("" matches every IPv4 packet). @p iface_id maps an interface name to
 * its port id (-1: unknown). Returns 0, or -EINVAL with the offending
 * word in @p err.
 */
int tg_trace_filter_parse(const char *expr, struct tg_trace_filter *f,
	int (*iface_id)(const char *name, void *arg), void *arg, char *err,
	size_t errlen);

/** What a record says happened (struct tg_trace_rec.kind). */
enum tg_trace_kind {
	TG_TRACE_MARK = 1, /**< marked at RX: the packet's headers */
	TG_TRACE_STAGE,	   /**< a stage judged it (verdict) */
	TG_TRACE_EMIT,	   /**< a stage released it later (verdict) */
	TG_TRACE_TX,	   /**< handed to a port's TX (port) */
	TG_TRACE_HOST,	   /**< handed to the host port */
	TG_TRACE_DROP,	   /**< freed under a drop reason (global index) */
};

/** One step of one traced packet, 32 bytes. */
struct tg_trace_rec {
	uint64_t tsc;
	uint16_t id;   /**< the packet's trace id, 1.. */
	uint8_t kind;  /**< enum tg_trace_kind */
	uint8_t stage; /**< enum tg_stage of STAGE/EMIT/DROP, else 0xff */
	uint16_t worker; /**< the worker that wrote it (its why text) */
	union {
		struct {
			uint8_t path; /**< after the stage (a switch shows) */
			uint8_t step;
			uint8_t mode;	  /**< the step's mode */
			uint8_t flags;	  /**< meta flags after the stage */
			uint16_t verdict; /**< the stage's (TG_V_*) */
			uint16_t drop;	  /**< global drop index of a DROP */
			/** what decided, as explain says it: 1 + its
			 *  text's place (tg_pipeline_trace_why()), 0 none */
			uint32_t rule;
			uint32_t gen;	  /**< table generation (low bits) */
		} s;
		struct {
			uint32_t src, dst; /**< host order */
			uint16_t sport, dport;
			uint8_t proto;
			uint8_t tcp_flags;
			uint16_t len;  /**< IP total length */
			uint16_t port; /**< rx port id, TG_TRACE_FROM_HOST */
			uint8_t path;  /**< chosen at RX */
			uint8_t icmp_type;
		} m;
		struct {
			uint16_t port; /**< TX port id */
			uint8_t path;
		} t;
	};
};

/** A frame's fields as a trace's mark records them (r->m but its port
 *  and path): from its IPv4 header (an ARP frame's: sender and target
 *  IP as src and dst, its operation as icmp_type, proto 0); @p valid:
 *  RX accepted it. Returns false if a frame RX refused holds no IPv4
 *  header (all left 0). */
struct rte_mbuf;
bool tg_trace_pkt_fields(
	const struct rte_mbuf *m, bool valid, struct tg_trace_rec *r);

/** Packets a trace marks at most; its default. */
#define TG_TRACE_MAX_PKTS     1024
#define TG_TRACE_DEFAULT_PKTS 10
/** Records per worker lcore for one trace. */
#define TG_TRACE_RECS 16384
/** Stage steps per worker that keep what decided them, and its length */
#define TG_TRACE_WHY	 4096
#define TG_TRACE_WHY_LEN 160 /* explain's why (struct tg_explain_step) */

struct tg_trace_status {
	bool active;	  /**< marking, or marked packets still on their way */
	bool marking;	  /**< still looking for packets to mark */
	uint32_t session; /**< 0: never started */
	uint32_t count;	  /**< packets to mark */
	uint32_t marked;
	uint32_t in_flight;
	uint64_t records;
	uint64_t lost; /**< records that did not fit a buffer */
	char filter[256];
};

/** Start a new trace (the previous one's records are gone). @p count
 *  1..TG_TRACE_MAX_PKTS. Returns 0 or -EINVAL. */
int tg_pipeline_trace_start(struct tg_pipeline *pl,
	const struct tg_trace_filter *f, const char *filter_text,
	uint32_t count);

/** Stop marking and recording; the records stay for collection. */
void tg_pipeline_trace_stop(struct tg_pipeline *pl);

void tg_pipeline_trace_status(
	const struct tg_pipeline *pl, struct tg_trace_status *st);

/**
 * Every record of the current trace, from every lcore, ordered by packet
 * id and then time. *recs is malloc()ed (free() it); *n may be 0.
 * Returns 0 or -ENOMEM.
 */
int tg_pipeline_trace_collect(
	const struct tg_pipeline *pl, struct tg_trace_rec **recs, size_t *n);

/** What decided the step of record @p r (a STAGE record with s.rule set),
 *  as explain words it; NULL if none. Valid until the next trace start
 *  (the control lock keeps it). */
const char *tg_pipeline_trace_why(
	const struct tg_pipeline *pl, const struct tg_trace_rec *r);

/* ---- drop capture ---------------------------------------------------- */

#define TG_CAPTURE_RING	   1024 /* copies waiting for the writer */
#define TG_CAPTURE_SNAPLEN 256

struct tg_capture_status {
	bool active;
	int reason;	/**< global drop index, -1: every reason */
	uint32_t count; /**< stop after this many packets, 0: no limit */
	uint32_t snaplen;
	uint64_t matched;   /**< drops of the reason seen while active */
	uint64_t written;   /**< packets in the file */
	uint64_t ring_full; /**< copies lost: the writer was behind */
	uint64_t no_mbuf;   /**< copies lost: the capture pool was empty */
	uint64_t write_errors;
	char file[256];
	char error[128]; /**< the writer's last error, "" if none */
};

/**
 * Start writing dropped packets (of global drop index @p reason, -1 for
 * every one) to the pcapng file @p path (created or truncated), each
 * with a comment naming its stage, reason and path. Bounded: a ring of
 * TG_CAPTURE_RING copies, @p snaplen bytes each (0: TG_CAPTURE_SNAPLEN),
 * written by a thread of its own; @p count packets (0: until stopped).
 * Returns 0, -EBUSY (one is running), or -errno with @p err set.
 */
int tg_pipeline_capture_start(struct tg_pipeline *pl, const char *path,
	int reason, uint32_t count, uint32_t snaplen, char *err, size_t errlen);

/** Stop, write what is queued and close the file. @p st (may be NULL)
 *  gets the final counts. No-op when none runs. */
void tg_pipeline_capture_stop(
	struct tg_pipeline *pl, struct tg_capture_status *st);

void tg_pipeline_capture_status(
	const struct tg_pipeline *pl, struct tg_capture_status *st);

/* ---- explain --------------------------------------------------------- */

/** The packet explain builds: an Ethernet frame to the receiving
 *  interface's MAC, an IPv4 header (no options, DF clear) and a TCP,
 *  UDP or ICMP header with @p payload zero bytes after it (other
 *  protocols: the payload alone). All values in host order. */
struct tg_explain_req {
	uint16_t rx_if; /**< port id; TG_TRACE_FROM_HOST: sent by the host */
	uint8_t proto;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t tcp_flags; /**< TCP only */
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;	  /**< 0: 64 */
	uint16_t payload; /**< bytes after the L4 header */
	/** arrives in ESP under the inbound SA of this SPI: a tunnel's
	 *  outer header (its remote to its local address) and an ESP
	 *  header in front of the packet above, which explain takes as
	 *  decrypted (it does not encrypt or authenticate) */
	bool esp;
	uint32_t spi;
	/** the same under an AH SA (esp false) */
	bool ah;
	/** a fragment: its offset in bytes (a multiple of 8; above 0 the
	 *  packet carries no L4 header, only the payload) and more
	 *  fragments to come */
	uint16_t frag_off;
	bool more_frags;
	/** keep only this many bytes of the TCP/UDP/ICMP header (a
	 *  truncated packet, no payload); 0: all of it */
	uint8_t l4_keep;
	/** GRE (proto 47) as PPTP sends it: enhanced GRE, version 1 with
	 *  a key (RFC 2637 4.1) whose call ID is gre_call; without it GRE
	 *  is a bare version 0 header of zeros */
	bool gre_pptp;
	uint16_t gre_call;
	/** a frame as it arrived (Ethernet on), instead of every field
	 *  above but rx_if: its first frame_len bytes at frame, then zeros
	 *  up to wire_len (a captured frame's length; 0: frame_len). A
	 *  received ESP or AH packet stays as it is: explain stops where
	 *  it would be decrypted. */
	const uint8_t *frame;
	uint16_t frame_len, wire_len;
};

#define TG_EXPLAIN_STEPS 24

struct tg_explain_step {
	/** as a trace records it: kind STAGE (stage, path after it, mode,
	 *  verdict, drop), or the end: TX, HOST or DROP */
	struct tg_trace_rec r;
	char why[160];	   /**< the rule or entry that decided, "" if none */
	char rewrite[160]; /**< what the stage changed in the packet */
};

struct tg_explain {
	uint64_t generation;	  /**< the snapshot walked */
	struct tg_trace_rec mark; /**< the packet, as a trace's RX record */
	uint16_t n;
	struct tg_explain_step step[TG_EXPLAIN_STEPS];
	/** "tx wan0 02:00:00:00:00:01 -> 02:00:00:00:01:02", "host",
	 *  "drop forward.no_route", "held by forward: ..." */
	char end[224];
	/** the stage the walk could not go through (explain does not
	 *  model it yet), TG_STAGE_NONE if none */
	uint8_t unexplained;
	/** with esp: the packet inside (mark is the ESP packet) */
	struct tg_trace_rec inner;
};

/**
 * Walk the packet @p q describes through the running snapshot, with the
 * stages' own decision code in read-only mode (no session, neighbor
 * entry, sequence number or counter created or changed), and describe
 * every step. Control side, with the control lock held (the snapshot
 * stays). Returns 0, or -errno with @p err set (no such interface, no
 * mbuf).
 */
int tg_pipeline_explain(struct tg_pipeline *pl, const struct tg_explain_req *q,
	struct tg_explain *x, char *err, size_t errlen);

#endif /* TG_TRACE_H */
