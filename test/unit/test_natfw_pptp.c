/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: PPTP through NAT and the firewall (docs/nat.md, "PPTP") on
 * packets scapy built: test/unit/data/gen_pptp.py writes pptp.pcap, each
 * packet as sent (kind 1) and what natfw must make of it (kind 2), named
 * by its IPv4 identification. Outputs are compared with those, byte for
 * byte; the one value NAT chooses (a public call ID when the client's is
 * taken) is read from the output, checked against the rules, and put
 * into scapy's packet here with its checksum computed from scratch. Every
 * packet that leaves also has its IPv4, TCP and GRE checksums recomputed
 * here. The clock is fake (tsc_hz 1000). Topology: test_natfw.c's.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "natfw_pptp.h"
#include "tg_test_natfw.h"
#include "tg_test_pcap.h"

#ifndef TG_TEST_DATA
#define TG_TEST_DATA "test/unit/data"
#endif

#define NB_MBUF	  255
#define FRAME_MAX 512
#define HZ	  TG_TEST_NATFW_HZ
#define S(s)	  ((uint64_t)(s)*HZ)
#define T0	  100
#define P_LAN	  0
#define P_WAN	  1

#define CC 0x4001 /* the clients' call ID (gen_pptp.py) */

#define PPTP(c) (X.ctx->pptp.n[TG_NATFW_PPTP_##c])

static struct rte_mempool *mp;

/* ---- the capture ----------------------------------------------------------
 */

struct frame {
	uint16_t id;
	uint8_t kind; /* 1: as sent, 2: as natfw must make it */
	uint16_t len;
	uint8_t b[FRAME_MAX];
};

static struct frame frames[128];
static unsigned int n_frames;

/* A frame of pptp.pcap: its kind in the source MAC's last byte, its id
 * in the IPv4 identification (gen_pptp.py). */
static int
take_frame(void *ctx, const uint8_t *d, uint32_t len)
{
	struct frame *f;

	(void)ctx;
	if (n_frames >= RTE_DIM(frames) || len > FRAME_MAX || len < 34)
		return -1;
	f = &frames[n_frames++];
	f->len = (uint16_t)len;
	memcpy(f->b, d, len);
	f->kind = f->b[5];
	f->id = (uint16_t)(f->b[18] << 8 | f->b[19]);
	return 0;
}

static int
load_pcap(const char *path)
{
	return tg_test_pcap_read(path, take_frame, NULL) > 0 ? 0 : -1;
}

static struct frame *
fr(uint16_t id, uint8_t kind)
{
	static struct frame none;
	unsigned int i;

	for (i = 0; i < n_frames; i++)
		if (frames[i].id == id && frames[i].kind == kind)
			return &frames[i];
	fprintf(stderr, "\n  no frame %#x kind %u in pptp.pcap", id, kind);
	CU_FAIL("frame missing from pptp.pcap");
	return &none;
}

/* ---- checksums from scratch ------------------------------------------- */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint8_t *
ip_of(uint8_t *f)
{
	return f + 14;
}

static uint16_t
ip_len(const uint8_t *ip)
{
	return get16(ip + 2);
}

/* TCP checksum of the segment in @p ip, computed here */
static uint16_t
tcp_sum(const uint8_t *ip)
{
	uint8_t b[12 + FRAME_MAX + 1] = {0};
	uint16_t len = (uint16_t)(ip_len(ip) - 20);

	memcpy(b, ip + 12, 8);
	b[9] = ip[9];
	tg_test_put16(b + 10, len);
	memcpy(b + 12, ip + 20, len);
	b[12 + 16] = b[12 + 17] = 0;
	return tg_test_ip_sum(b, 12 + len + (len & 1));
}

static uint16_t
gre_sum(const uint8_t *ip)
{
	uint8_t b[FRAME_MAX + 1] = {0};
	uint16_t len = (uint16_t)(ip_len(ip) - 20);

	memcpy(b, ip + 20, len);
	b[4] = b[5] = 0;
	return tg_test_ip_sum(b, len + (len & 1));
}

static void
fix_tcp(uint8_t *f)
{
	tg_test_put16(ip_of(f) + 20 + 16, tcp_sum(ip_of(f)));
}

static void
fix_gre(uint8_t *f)
{
	tg_test_put16(ip_of(f) + 20 + 4, gre_sum(ip_of(f)));
}

/* every checksum of what natfw let out, recomputed */
static bool
sums_ok(const uint8_t *ip)
{
	uint8_t h[20];

	memcpy(h, ip, 20);
	h[10] = h[11] = 0;
	if (tg_test_ip_sum(h, 20) != get16(ip + 10))
		return false;
	if (ip[9] == 6 && tcp_sum(ip) != get16(ip + 36))
		return false;
	if (ip[9] == 47 && (ip[20] & 0x80) && gre_sum(ip) != get16(ip + 24))
		return false;
	return true;
}

/* where a control message's first and second call ID fields are */
static uint8_t *
pptp_field(uint8_t *f, unsigned int n)
{
	uint8_t *tcp = ip_of(f) + 20;

	return tcp + (tcp[12] >> 4) * 4 + 12 + 2 * n;
}

/* the GRE call ID (no checksum bit: after 4 bytes; with: after 8) */
static uint8_t *
gre_field(uint8_t *f)
{
	uint8_t *g = ip_of(f) + 20;

	return g + ((g[0] & 0x80) ? 10 : 6);
}

/* ---- the fixture ------------------------------------------------------- */

#define NAT   TG_TEST_NATFW_NAT
#define GRE30 "  timeouts: {gre: 30}\n"
#define FW    TG_TEST_NATFW_FW

static struct tg_test_natfw_fx X;
static const uint16_t ids[3] = {0, 1, 2};

#define FX(tail)                                                               \
	CU_ASSERT_FATAL(tg_test_natfw_open(&X,                                 \
		tg_test_natfw_parse(                                           \
			"pptp.yaml", TG_TEST_NATFW_BASE "%s", tail),           \
		ids))

/* ---- running the stage --------------------------------------------------- */

static const struct tg_test_natfw_dir d_nat = {
	TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_WAN};
static const struct tg_test_natfw_dir d_in = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_WAN, TG_IF_NONE};
static const struct tg_test_natfw_dir d_out = {
	TG_PATH_SOURCE, TG_MODE_OUT, 0, TG_IF_NONE, P_WAN};

/*
 * @p in (a frame) through the stage at step @p d at time @p sec: the
 * verdict must be @p want and, unless it is a drop, the IP packet out
 * must be @p exp's byte for byte (NULL: not compared) with every
 * checksum right. The frame out goes into @p got when not NULL.
 */
static void
run(int line, const struct tg_test_natfw_dir *d, const uint8_t *in,
	uint16_t len, uint64_t sec, uint16_t want, const uint8_t *exp,
	uint16_t exp_len, uint8_t *got)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	const struct tg_meta *mt;
	uint16_t v = 0xdead;
	const uint8_t *o;
	const char *what = "verdict";
	bool ok;
	char *p;

	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, in, len);
	tg_test_natfw_meta(m, d);
	mt = tg_meta(m);
	tg_natfw_burst(X.nt, X.ctx, &m, 1, &v, S(sec));
	o = rte_pktmbuf_mtod(m, const uint8_t *);
	ok = v == want;
	if (ok && !TG_V_IS_DROP(v)) {
		what = "checksums (recomputed here)";
		ok = sums_ok(o + 14);
		if (ok && exp != NULL) {
			what = "bytes";
			ok = m->data_len == exp_len &&
			     memcmp(o + 14, exp + 14, exp_len - 14) == 0;
		}
		if (ok && v == FWD) {
			what = "path";
			ok = mt->path == TG_PATH_TRANSIT;
		}
	}
	if (!ok) {
		fprintf(stderr, "\n  line %d: %s: verdict %#x, want %#x", line,
			what, v, want);
		tg_test_natfw_hex("in  ", in, len);
		tg_test_natfw_hex("got ", o, m->data_len);
		if (exp != NULL)
			tg_test_natfw_hex("want", exp, exp_len);
	}
	if (got != NULL)
		memcpy(got, o, m->data_len);
	CU_assertImplementation(
		ok, (unsigned int)line, "natfw pptp packet", __FILE__, "", 0);
	rte_pktmbuf_free(m);
}

/* frame @p id as sent, at step @p d: verdict @p want, and (not a drop)
 * scapy's kind-2 frame out */
#define XL(sec, d, id, want)                                                   \
	run(__LINE__, d, fr(id, 1)->b, fr(id, 1)->len, sec, want,              \
		TG_V_IS_DROP(want) ? NULL : fr(id, 2)->b,                      \
		TG_V_IS_DROP(want) ? 0 : fr(id, 2)->len, NULL)
/* a frame built here (@p in) and what must come out (@p exp) */
#define XB(sec, d, in, exp, want)                                              \
	run(__LINE__, d, (in)->b, (in)->len, sec, want,                        \
		(exp) != NULL ? (exp)->b : NULL,                               \
		(exp) != NULL ? (exp)->len : 0, NULL)

/* client A's control connection up to its established call */
static void
a_call(uint64_t t)
{
	XL(t, &d_nat, 0x01, PASS); /* SYN */
	XL(t, &d_in, 0x02, FWD);   /* SYN-ACK */
	XL(t, &d_nat, 0x03, PASS); /* Start-Control-Connection-Request */
	XL(t, &d_in, 0x04, FWD);   /* ... Reply */
	XL(t, &d_nat, 0x05, PASS); /* Outgoing-Call-Request: CC kept */
	XL(t, &d_in, 0x06, FWD);   /* Outgoing-Call-Reply */
}

/* ---- tests -------------------------------------------------------------- */

/* The GRE header parser on buffers of exactly their length (ASan sees
 * an overread here, not in mbufs). */
static void
test_natfw_pptp_gre_parse(void)
{
	static const uint8_t ok4[] = {
		0x30, 0x81, 0x88, 0x0b, 0x00, 0x0c, 0x40, 0x01, 0, 0, 0, 1};
	static const uint8_t ok8[] = {0xb0, 0x01, 0x88, 0x0b, 0x12, 0x34, 0, 0,
		0x00, 0x0c, 0x0a, 0x01};
	uint16_t cid = 0;
	uint32_t off = 0, n;
	uint8_t *b;

	for (n = 0; n <= sizeof(ok4); n++) {
		b = malloc(n + 1);
		CU_ASSERT_FATAL(b != NULL);
		memcpy(b, ok4, n);
		CU_ASSERT_EQUAL(tg_natfw_gre_call(b, n, &cid, &off),
			n < 8 ? -EINVAL : 0);
		memcpy(b, ok8, n);
		CU_ASSERT_EQUAL(tg_natfw_gre_call(b, n, &cid, &off),
			n < 12 ? -EINVAL : 0);
		free(b);
	}
	CU_ASSERT_EQUAL(cid, 0x0a01);
	CU_ASSERT_EQUAL(off, 10);
	CU_ASSERT_EQUAL(tg_natfw_gre_call(ok4, sizeof(ok4), &cid, &off), 0);
	CU_ASSERT_EQUAL(cid, 0x4001);
	CU_ASSERT_EQUAL(off, 6);
	/* version 0, no key, routing, not PPP */
	CU_ASSERT_EQUAL(tg_natfw_gre_call((const uint8_t *)"\x20\x00\x88\x0b"
							   "\0\0\0\0",
				8, &cid, NULL),
		-EPROTO);
	CU_ASSERT_EQUAL(tg_natfw_gre_call((const uint8_t *)"\x10\x01\x88\x0b"
							   "\0\0\0\0",
				8, &cid, NULL),
		-EPROTO);
	CU_ASSERT_EQUAL(tg_natfw_gre_call((const uint8_t *)"\x60\x01\x88\x0b"
							   "\0\0\0\0",
				8, &cid, NULL),
		-EPROTO);
	CU_ASSERT_EQUAL(tg_natfw_gre_call((const uint8_t *)"\x20\x01\x08\x00"
							   "\0\0\0\0",
				8, &cid, NULL),
		-EPROTO);
}

/* Client A: the call ID learned from Outgoing-Call-Request/Reply, its
 * GRE both ways; the call cleared by Call-Clear-Request and
 * Call-Disconnect-Notify. */
static void
test_natfw_pptp_call(void)
{
	uint64_t calls, msgs, cleared;

	FX(NAT FW);
	/* no call yet: GRE is not let in, nor out */
	XL(T0, &d_in, 0x08, DROP(NO_EXCEPTION));
	XL(T0, &d_nat, 0x07, DROP(GRE_NO_CALL));
	msgs = PPTP(MESSAGES);
	a_call(T0);
	CU_ASSERT_EQUAL(PPTP(MESSAGES) - msgs, 4);
	CU_ASSERT_EQUAL(PPTP(CALLS), 1);
	XL(T0 + 1, &d_nat, 0x07, PASS); /* GRE out: the NAT address */
	XL(T0 + 1, &d_in, 0x08, FWD);	/* GRE in: A, its call ID */
	XL(T0 + 2, &d_nat, 0x07, PASS);
	/* the client clears the call: no more GRE in; the server's notice
	 * ends the outbound side */
	cleared = PPTP(CLEARED);
	XL(T0 + 3, &d_nat, 0x09, PASS);
	XL(T0 + 3, &d_in, 0x08, DROP(NO_EXCEPTION));
	XL(T0 + 3, &d_nat, 0x07, PASS);
	XL(T0 + 3, &d_in, 0x0a, FWD);
	XL(T0 + 3, &d_nat, 0x07, DROP(GRE_NO_CALL));
	CU_ASSERT_EQUAL(PPTP(CLEARED) - cleared, 2);
	calls = PPTP(CALLS);
	CU_ASSERT_EQUAL(calls, 1);
	tg_test_natfw_close(&X);
}

/* Two clients, one call ID, one server: B gets another public call ID;
 * the server's reply and GRE reach each client with its own ID. */
static void
test_natfw_pptp_two_clients(void)
{
	struct frame in, exp, got;
	uint16_t pub;

	FX(NAT FW);
	a_call(T0);
	XL(T0, &d_nat, 0x11, PASS);
	XL(T0, &d_in, 0x12, FWD);
	/* B's request: its call ID is A's public one, so NAT picks one */
	in = *fr(0x15, 1);
	run(__LINE__, &d_nat, in.b, in.len, T0, PASS, NULL, 0, got.b);
	pub = get16(pptp_field(got.b, 0));
	CU_ASSERT(pub != CC && pub >= 1024);
	exp = *fr(0x15, 2);
	tg_test_put16(pptp_field(exp.b, 0), pub);
	fix_tcp(exp.b);
	XB(T0, &d_nat, &in, &exp, PASS);
	/* the server answers B's public ID; B sees its own */
	in = *fr(0x16, 1);
	tg_test_put16(pptp_field(in.b, 1), pub);
	fix_tcp(in.b);
	XB(T0, &d_in, &in, fr(0x16, 2), FWD);
	CU_ASSERT_EQUAL(PPTP(CALLS), 2);
	/* GRE: out from each; in to each by its public ID */
	XL(T0 + 1, &d_nat, 0x17, PASS);
	XL(T0 + 1, &d_nat, 0x07, PASS);
	in = *fr(0x18, 1);
	tg_test_put16(gre_field(in.b), pub);
	XB(T0 + 1, &d_in, &in, fr(0x18, 2), FWD);
	XL(T0 + 1, &d_in, 0x08, FWD);
	/* GRE with the checksum bit: patched */
	in = *fr(0x19, 1);
	tg_test_put16(gre_field(in.b), pub);
	fix_gre(in.b);
	XB(T0 + 1, &d_in, &in, fr(0x19, 2), FWD);
	/* the server ends B's call: B's GRE out stops, A's goes on; B's
	 * inbound side, whose ID the notice does not name, times out */
	XL(T0 + 2, &d_in, 0x1a, FWD);
	XL(T0 + 2, &d_nat, 0x17, DROP(GRE_NO_CALL));
	XL(T0 + 2, &d_nat, 0x07, PASS);
	in = *fr(0x18, 1);
	tg_test_put16(gre_field(in.b), pub);
	XB(T0 + 2, &d_in, &in, fr(0x18, 2), FWD);
	tg_test_natfw_close(&X);
}

/* A refused call, and an incoming call the client takes. */
static void
test_natfw_pptp_refused_and_incoming(void)
{
	FX(NAT FW);
	a_call(T0);
	XL(T0, &d_nat, 0x21, PASS);
	XL(T0, &d_in, 0x22, FWD); /* result 2: no call */
	XL(T0, &d_in, 0x23, DROP(NO_EXCEPTION));
	CU_ASSERT_EQUAL(PPTP(CALLS), 1);
	/* Incoming-Call-Request, -Reply (the client's ID kept: free),
	 * -Connected; GRE both ways */
	XL(T0, &d_in, 0x31, FWD);
	XL(T0, &d_in, 0x35, DROP(NO_EXCEPTION));
	XL(T0, &d_nat, 0x32, PASS);
	XL(T0, &d_in, 0x33, FWD);
	CU_ASSERT_EQUAL(PPTP(CALLS), 2);
	XL(T0, &d_nat, 0x34, PASS);
	XL(T0, &d_in, 0x35, FWD);
	tg_test_natfw_close(&X);
}

/* The appliance's own call (source path): a dynamic entry lets its GRE
 * in, untranslated, until it clears the call. */
static void
test_natfw_pptp_source_path(void)
{
	FX(NAT FW);
	XL(T0, &d_out, 0x41, PASS);
	XL(T0, &d_in, 0x42, PASS);
	XL(T0, &d_out, 0x43, PASS);
	XL(T0, &d_in, 0x45, DROP(NO_EXCEPTION)); /* not learned yet */
	XL(T0, &d_in, 0x44, PASS);
	CU_ASSERT_EQUAL(PPTP(CALLS), 1);
	XL(T0, &d_in, 0x45, PASS);
	XL(T0, &d_in, 0x46, DROP(NO_EXCEPTION)); /* another call ID */
	XL(T0, &d_out, 0x47, PASS);
	XL(T0, &d_in, 0x45, DROP(NO_EXCEPTION));
	CU_ASSERT_EQUAL(PPTP(CLEARED), 1);
	tg_test_natfw_close(&X);
	/* the firewall alone (no NAT): the same entry */
	FX(FW);
	XL(T0, &d_out, 0x41, PASS);
	XL(T0, &d_in, 0x42, PASS);
	XL(T0, &d_in, 0x44, PASS);
	XL(T0, &d_in, 0x45, PASS);
	tg_test_natfw_close(&X);
}

/* GRE sessions idle past nat.timeouts.gre go, each side on its own. */
static void
test_natfw_pptp_timeouts(void)
{
	FX(NAT GRE30 FW);
	a_call(T0);
	tg_test_natfw_ticks(&X, T0, T0 + 20);
	XL(T0 + 20, &d_in, 0x08, FWD);
	/* outbound idle since T0: gone at T0 + 30 */
	tg_test_natfw_ticks(&X, T0 + 20, T0 + 31);
	XL(T0 + 31, &d_nat, 0x07, DROP(GRE_NO_CALL));
	XL(T0 + 31, &d_in, 0x08, FWD);
	tg_test_natfw_ticks(&X, T0 + 31, T0 + 62);
	XL(T0 + 62, &d_in, 0x08, DROP(NO_EXCEPTION));
	/* the control connection (TCP established) lives on: a new call */
	XL(T0 + 62, &d_nat, 0x05, PASS);
	XL(T0 + 62, &d_in, 0x06, FWD);
	XL(T0 + 62, &d_in, 0x08, FWD);
	tg_test_natfw_close(&X);
}

/* Malformed messages pass unparsed and counted; GRE that is not PPTP's
 * is dropped under its name; mangled copies never crash. */
static void
test_natfw_pptp_malformed(void)
{
	struct frame f;
	uint64_t tr, bc, bt;
	unsigned int i, k;
	uint16_t v;

	FX(NAT FW);
	a_call(T0);
	tr = PPTP(TRUNCATED);
	bc = PPTP(BAD_COOKIE);
	bt = PPTP(BAD_TYPE);
	XL(T0, &d_nat, 0x51, PASS); /* cut at 40 bytes */
	XL(T0, &d_nat, 0x52, PASS); /* magic cookie */
	XL(T0, &d_nat, 0x53, PASS); /* 8 bytes: no header */
	XL(T0, &d_nat, 0x54, PASS); /* type 99 */
	CU_ASSERT_EQUAL(PPTP(TRUNCATED) - tr, 2);
	CU_ASSERT_EQUAL(PPTP(BAD_COOKIE) - bc, 1);
	CU_ASSERT_EQUAL(PPTP(BAD_TYPE) - bt, 1);
	XL(T0, &d_nat, 0x55, DROP(GRE_NOT_PPTP)); /* version 0 */
	XL(T0, &d_nat, 0x56, DROP(GRE_NOT_PPTP)); /* no key */
	XL(T0, &d_nat, 0x57, DROP(GRE_NOT_PPTP)); /* cut in the key */
	XL(T0, &d_in, 0x58, DROP(NO_EXCEPTION));  /* version 0 in */
	/* mangled and cut copies of every frame, at every step */
	srand(7);
	for (i = 0; i < 3000; i++) {
		static const struct tg_test_natfw_dir *const ds[] = {
			&d_nat, &d_in, &d_out};
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);

		CU_ASSERT_FATAL(m != NULL);
		f = frames[rand() % n_frames];
		for (k = rand() % 4; k > 0; k--)
			f.b[34 + rand() % (f.len - 34)] ^= (uint8_t)rand();
		if (rand() % 3 == 0)
			f.len = (uint16_t)(34 + rand() % (f.len - 33));
		memcpy(rte_pktmbuf_append(m, f.len), f.b, f.len);
		tg_test_natfw_meta(m, ds[i % 3]); /* l3_len 20: not mangled */
		v = 0xdead;
		tg_natfw_burst(X.nt, X.ctx, &m, 1, &v, S(T0 + i / 100));
		CU_ASSERT(v == PASS || v == FWD ||
			  (TG_V_IS_DROP(v) &&
				  TG_V_REASON(v) < TG_NATFW_DROP__COUNT));
		rte_pktmbuf_free(m);
		if (i % 50 == 0)
			tg_natfw_tick(X.nt, X.ctx, S(T0 + i / 100));
	}
	tg_test_natfw_close(&X);
}

/* A call after a reload that renumbered the NAT addresses: wan0, the
 * second public interface at start (address 1, slot 1), is the only one
 * after it (address 0, still slot 1). The call ID is allocated from the
 * range of the address in the control session's slot, as at start. */
static void
test_natfw_pptp_after_reload(void)
{
	struct tg_config *c;
	struct tg_natfw_table *nt = NULL;
	char err[256] = "";

	FX("nat:\n  private: [lan0]\n  public: [dmz0, wan0]\n" FW);
	c = tg_test_natfw_parse("pptp2.yaml", TG_TEST_NATFW_BASE "%s",
		"nat:\n  private: [lan0]\n  public: [wan0]\n" FW);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL_FATAL(tg_natfw_build_from(c, ids, 3, X.nt, X.ctx, &nt,
				      err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL(nt->n_nat, 1);
	CU_ASSERT_NOT_EQUAL(nt->slot[0], 0); /* wan0 kept its slot */
	tg_natfw_table_free(X.nt);
	tg_config_free(X.cfg);
	X.nt = nt;
	X.cfg = c;
	a_call(T0);
	CU_ASSERT_EQUAL(PPTP(CALLS), 1);
	XL(T0 + 1, &d_nat, 0x07, PASS);
	XL(T0 + 1, &d_in, 0x08, FWD);
	tg_test_natfw_close(&X);
}

static void
test_natfw_pptp_names(void)
{
	unsigned int i;

	for (i = 0; i < TG_NATFW_PPTP__COUNT; i++) {
		CU_ASSERT(strncmp(tg_natfw_pptp_names[i], "natfw.pptp.", 11) ==
			  0);
		CU_ASSERT(tg_natfw_pptp_descs[i][0] != '\0');
	}
	CU_ASSERT(sizeof(struct tg_nat_sess) == 64);
}

int
main(void)
{
	if (load_pcap(TG_TEST_DATA "/pptp.pcap") != 0)
		return 1;
	mp = tg_test_natfw_setup("test_natfw_pptp", NB_MBUF);
	if (mp == NULL)
		return 1;
	tg_test_suite("natfw_pptp", NULL, NULL, "test_natfw_pptp_gre_parse",
		test_natfw_pptp_gre_parse, "test_natfw_pptp_call",
		test_natfw_pptp_call, "test_natfw_pptp_two_clients",
		test_natfw_pptp_two_clients,
		"test_natfw_pptp_refused_and_incoming",
		test_natfw_pptp_refused_and_incoming,
		"test_natfw_pptp_source_path", test_natfw_pptp_source_path,
		"test_natfw_pptp_timeouts", test_natfw_pptp_timeouts,
		"test_natfw_pptp_malformed", test_natfw_pptp_malformed,
		"test_natfw_pptp_after_reload", test_natfw_pptp_after_reload,
		"test_natfw_pptp_names", test_natfw_pptp_names, NULL);
	return tg_test_natfw_finish(mp);
}
