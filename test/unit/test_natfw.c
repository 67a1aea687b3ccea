/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: the stage's contract (lib/natfw/tg_natfw.h, docs/nat.md) on
 * frames built byte by byte. Every translated packet is compared, whole
 * frame, with one built here from scratch with the new addresses and
 * ports and checksums computed here (tg_test_ip_sum), never with the
 * stage's own rewrite. The clock is fake: tsc_hz = 1000, so `now` is in
 * milliseconds. Topology: lan0 10.0.0.1/24 (port 0, private), wan0
 * 192.0.2.1/24 (port 1, public, the NAT address), dmz0 172.16.0.1/24
 * (port 2, no role).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "tg_test_natfw.h"

#define NB_MBUF	  511
#define FRAME_MAX 256
#define HZ	  TG_TEST_NATFW_HZ
#define S(s)	  ((uint64_t)(s)*HZ)
#define T0	  S(100)
#define P_LAN	  0
#define P_WAN	  1
#define P_DMZ	  2

#define IP(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |      \
		(uint32_t)(d))
#define LAN IP(10, 0, 0, 1)
#define H2  IP(10, 0, 0, 2)
#define H3  IP(10, 0, 0, 3)
#define SRV IP(10, 0, 0, 10)
#define PUB IP(192, 0, 2, 1)
#define DMZ IP(172, 16, 0, 1)
#define R7  IP(198, 51, 100, 7)
#define R9  IP(198, 51, 100, 9)
#define RS  IP(203, 0, 113, 5)

/* TCP flags (RFC 9293 3.1) */
#define FIN 0x01
#define SYN 0x02
#define RST 0x04
#define ACK 0x10

static struct rte_mempool *mp;
/* every drop seen, by reason; verdicts that are none of the allowed */
static uint64_t drops[TG_NATFW_DROP__COUNT];
static uint64_t bad_verdicts;

/* ---- configurations ----------------------------------------------------- */

#define BASE TG_TEST_NATFW_BASE
#define NAT  TG_TEST_NATFW_NAT
#define FW   TG_TEST_NATFW_FW
#define PMAP                                                                   \
	"  port_mappings:\n    - {name: web, protocol: tcp, public_port: "     \
	"8080, private_address: 10.0.0.10, private_port: 80}\n"

static const uint16_t ids_default[3] = {P_LAN, P_WAN, P_DMZ};

static struct tg_config *
parse(const char *tail)
{
	return tg_test_natfw_parse("natfw.yaml", BASE "%s", tail);
}

static bool
fx_open(struct tg_test_natfw_fx *x, const char *tail, const uint16_t *ids)
{
	return tg_test_natfw_open(
		x, parse(tail), ids != NULL ? ids : ids_default);
}

/* the fixture the tests use */
static struct tg_test_natfw_fx X;
#define FX(tail) CU_ASSERT_FATAL(fx_open(&X, tail, NULL))

/* ---- frames ------------------------------------------------------------- */

/* One IPv4 packet: TCP and UDP with 4 bytes of data, ICMP queries with
 * the identifier in sport, ICMP errors carrying @p inner. */
struct pk {
	uint8_t proto;
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
	uint8_t flags;	      /* TCP's */
	uint8_t type, code;   /* ICMP */
	uint16_t frag;	      /* the IPv4 flags and fragment offset field */
	uint16_t cut;	      /* != 0: only this many bytes of L4 */
	const uint8_t *inner; /* ICMP error: the packet it carries */
	uint16_t inner_len;
};

/* (positional: clang-format keeps them on one line) */
#define UDP(s, sp, d, dp)     (&(struct pk){17, (s), (sp), (d), (dp)})
#define UDP0(s, sp, d, dp)    (&(struct pk){17, (s), (sp), (d), (dp), 1})
#define TCP(s, sp, d, dp, fl) (&(struct pk){6, (s), (sp), (d), (dp), (fl)})
#define ICMP(s, d, ty, id)    (&(struct pk){1, (s), (id), (d), 0, 0, (ty)})
#define ERR(s, d, ty, co, in, len)                                             \
	(&(struct pk){1, (s), 0, (d), 0, 0, (ty), (co), 0, 0, (in), (len)})
/* with a fragment field and a cut */
#define PKX(pr, s, sp, d, dp, ty, fr, ct)                                      \
	(&(struct pk){(pr), (s), (sp), (d), (dp), 0, (ty), 0, (fr), (ct)})

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* TCP/UDP checksum of @p len bytes at @p l4 with @p ip's pseudo-header */
static uint16_t
l4_sum(const uint8_t *ip, const uint8_t *l4, uint16_t len)
{
	uint8_t b[12 + FRAME_MAX + 1] = {0};

	memcpy(b, ip + 12, 8);
	b[9] = ip[9];
	tg_test_put16(b + 10, len);
	memcpy(b + 12, l4, len);
	return tg_test_ip_sum(b, 12 + len + (len & 1));
}

/* The Ethernet frame of @p p into @p f; returns its length. */
static uint16_t
frame(const struct pk *p, uint8_t *f)
{
	uint8_t *ip = f + 14, *l4 = ip + 20;
	uint16_t n, s;

	memset(f, 0, FRAME_MAX);
	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	tg_test_put16(f + 12, 0x0800);
	ip[0] = 0x45;
	tg_test_put16(ip + 4, 0x4242);
	tg_test_put16(ip + 6, p->frag);
	ip[8] = 64;
	ip[9] = p->proto;
	tg_test_put32(ip + 12, p->src);
	tg_test_put32(ip + 16, p->dst);
	switch (p->proto) {
	case 17:
		tg_test_put16(l4, p->sport);
		tg_test_put16(l4 + 2, p->dport);
		tg_test_put16(l4 + 4, 12);
		memcpy(l4 + 8, "udp!", 4);
		n = 12;
		s = l4_sum(ip, l4, n);
		/* flags 1 on UDP: no checksum (0) */
		tg_test_put16(l4 + 6, p->flags ? 0 : s != 0 ? s : 0xffff);
		break;
	case 6:
		tg_test_put16(l4, p->sport);
		tg_test_put16(l4 + 2, p->dport);
		tg_test_put32(l4 + 4, 0x01020304);
		if (p->flags & ACK)
			tg_test_put32(l4 + 8, 0x0a0b0c0d);
		l4[12] = 0x50;
		l4[13] = p->flags;
		tg_test_put16(l4 + 14, 0xffff);
		memcpy(l4 + 20, "tcp!", 4);
		n = 24;
		tg_test_put16(l4 + 16, l4_sum(ip, l4, n));
		break;
	case 1:
		l4[0] = p->type;
		l4[1] = p->code;
		if (p->inner != NULL) {
			if (p->type == 3 && p->code == 4)
				tg_test_put16(l4 + 6, 1400); /* next-hop MTU */
			memcpy(l4 + 8, p->inner, p->inner_len);
			n = (uint16_t)(8 + p->inner_len);
		} else {
			tg_test_put16(l4 + 4, p->sport);
			tg_test_put16(l4 + 6, 7);
			memcpy(l4 + 8, "ping", 4);
			n = 12;
		}
		tg_test_put16(l4 + 2, tg_test_ip_sum(l4, n));
		break;
	default: /* GRE-like: 8 bytes */
		memcpy(l4, "\x00\x00\x88\x0bgre!", 8);
		n = 8;
	}
	if (p->cut != 0)
		n = p->cut;
	tg_test_put16(ip + 2, (uint16_t)(20 + n));
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, 20));
	return (uint16_t)(14 + 20 + n);
}

/* ---- running the stage -------------------------------------------------- */

static const struct tg_test_natfw_dir d_nat = {
	TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_WAN};
static const struct tg_test_natfw_dir d_in = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_WAN, TG_IF_NONE};
static const struct tg_test_natfw_dir d_in_lan = {
	TG_PATH_TARGET, TG_MODE_IN, 0, P_LAN, TG_IF_NONE};
static const struct tg_test_natfw_dir d_out = {
	TG_PATH_SOURCE, TG_MODE_OUT, 0, TG_IF_NONE, P_WAN};
static const struct tg_test_natfw_dir d_out_lan = {
	TG_PATH_SOURCE, TG_MODE_OUT, 0, TG_IF_NONE, P_LAN};

/* An mbuf holding @p f, its tailroom filled with a canary. */
static struct rte_mbuf *
mk(const struct tg_test_natfw_dir *d, const uint8_t *f, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *p;

	CU_ASSERT_FATAL(m != NULL);
	p = rte_pktmbuf_append(m, len);
	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, f, len);
	memset(p + len, 0xa5, rte_pktmbuf_tailroom(m));
	tg_test_natfw_meta(m, d);
	return m;
}

static bool
tail_intact(const struct rte_mbuf *m)
{
	const uint8_t *p =
		rte_pktmbuf_mtod_offset(m, const uint8_t *, m->data_len);
	uint16_t i, n = rte_pktmbuf_tailroom(m);

	for (i = 0; i < n; i++)
		if (p[i] != 0xa5)
			return false;
	return true;
}

/* Allowed verdicts: NEXT, GOTO forward, or a named drop (counted). */
static bool
verdict_ok(uint16_t v)
{
	if (TG_V_IS_DROP(v)) {
		if (TG_V_KIND(v) != TG_V_DROP_BASE ||
			TG_V_REASON(v) >= TG_NATFW_DROP__COUNT) {
			bad_verdicts++;
			return false;
		}
		drops[TG_V_REASON(v)]++;
		return true;
	}
	if (v == PASS || v == FWD)
		return true;
	bad_verdicts++;
	return false;
}

static const char *
vname(uint16_t v, char *b, size_t n)
{
	if (TG_V_IS_DROP(v))
		snprintf(b, n, "DROP(%s)",
			TG_V_REASON(v) < TG_NATFW_DROP__COUNT
				? tg_natfw_drop_names[TG_V_REASON(v)]
				: "?");
	else if (v == PASS)
		snprintf(b, n, "NEXT");
	else if (TG_V_KIND(v) == TG_V_GOTO_BASE)
		snprintf(b, n, "GOTO(%u)", TG_V_GOTO_STAGE(v));
	else
		snprintf(b, n, "%#x", v);
	return b;
}

/* One packet of a burst: its step, what goes in, the verdict wanted and
 * what must come out (NULL: unchanged; sport 0: any source port or
 * identifier, read back into port). */
struct cs {
	const struct tg_test_natfw_dir *d;
	const struct pk *in;
	uint16_t want;
	const struct pk *exp;
	uint16_t port; /* out: the output's source port (ICMP: identifier) */
};

static void
run_at(int line, struct tg_test_natfw_fx *x, uint64_t now, struct cs *c,
	uint16_t n)
{
	struct rte_mbuf *m[32];
	uint16_t v[32], i;
	uint8_t f[FRAME_MAX], e[FRAME_MAX];

	CU_ASSERT_FATAL(n <= 32);
	for (i = 0; i < n; i++) {
		m[i] = mk(c[i].d, f, frame(c[i].in, f));
		v[i] = 0xdead;
	}
	tg_natfw_burst(x->nt, x->ctx, m, n, v, now);
	for (i = 0; i < n; i++) {
		const uint8_t *got = rte_pktmbuf_mtod(m[i], const uint8_t *);
		const struct tg_meta *mt = tg_meta(m[i]);
		struct pk ep = c[i].exp != NULL ? *c[i].exp : *c[i].in;
		const char *what = "verdict";
		uint16_t elen = 0, glen = m[i]->data_len;
		char b1[64], b2[64];
		bool ok = verdict_ok(v[i]) && v[i] == c[i].want;

		if (glen >= 14 + 20 + 6)
			c[i].port = get16(got + 34 + (c[i].in->proto == 1) * 4);
		if (ok && !TG_V_IS_DROP(v[i])) {
			if (c[i].exp != NULL && ep.sport == 0)
				ep.sport = c[i].port;
			elen = frame(&ep, e);
			what = "bytes";
			ok = glen == elen && m[i]->pkt_len == elen &&
			     memcmp(got, e, elen) == 0;
			if (ok) {
				what = "meta (path, rx_if, l3_len)";
				ok = mt->path == (v[i] == FWD ? TG_PATH_TRANSIT
							      : c[i].d->path) &&
				     mt->rx_if == c[i].d->rx &&
				     mt->l3_len == 20;
			}
		}
		if (ok && !tail_intact(m[i])) {
			what = "wrote past the packet";
			ok = false;
		}
		if (!ok) {
			fprintf(stderr,
				"\n  line %d, packet %u: %s: got %s, want %s",
				line, i, what, vname(v[i], b1, sizeof(b1)),
				vname(c[i].want, b2, sizeof(b2)));
			tg_test_natfw_hex("got ", got, glen);
			if (elen != 0)
				tg_test_natfw_hex("want", e, elen);
		}
		CU_assertImplementation(ok, (unsigned int)line, "natfw packet",
			__FILE__, "", CU_FALSE);
		rte_pktmbuf_free(m[i]);
	}
}

static uint16_t
check1(int line, struct tg_test_natfw_fx *x, uint64_t now,
	const struct tg_test_natfw_dir *d, const struct pk *in, uint16_t want,
	const struct pk *exp)
{
	struct cs c = {d, in, want, exp, 0};

	run_at(line, x, now, &c, 1);
	return c.port;
}

/* CK(step, packet in, verdict, packet out or NULL) at T0, CKT at a time
 * in seconds, on the fixture X */
#define CK(d, in, want, exp)	 check1(__LINE__, &X, T0, d, in, want, exp)
#define CKT(s, d, in, want, exp) check1(__LINE__, &X, S(s), d, in, want, exp)

/* The verdict alone (for the cases where the contract allows two). */
static uint16_t
verdict_of(struct tg_test_natfw_fx *x, uint64_t now,
	const struct tg_test_natfw_dir *d, const struct pk *p)
{
	uint8_t f[FRAME_MAX];
	struct rte_mbuf *m = mk(d, f, frame(p, f));
	uint16_t v = 0xdead;

	tg_natfw_burst(x->nt, x->ctx, &m, 1, &v, now);
	CU_ASSERT(verdict_ok(v));
	rte_pktmbuf_free(m);
	return v;
}

#define IS_UNSOLICITED(v)                                                      \
	((v) == DROP(NO_EXCEPTION) || (v) == DROP(ICMP_BLOCKED))

/* ---- tests -------------------------------------------------------------- */

/* 1. private → public: port preservation, reuse, endpoint-independent
 * mapping, a second host on the same port, TCP, ICMP echo. */
static void
test_natfw_outbound_translation(void)
{
	uint16_t p, q;

	FX(NAT);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	/* the same private endpoint to another remote: the same mapping */
	CK(&d_nat, UDP(H2, 5000, R9, 123), PASS, UDP(PUB, 5000, R9, 123));
	/* another host on port 5000: another public port */
	p = CK(&d_nat, UDP(H3, 5000, R7, 53), PASS, UDP(PUB, 0, R7, 53));
	CU_ASSERT(p != 5000 && p >= 1024);
	CK(&d_in, UDP(R7, 53, PUB, p), FWD, UDP(R7, 53, H3, 5000));
	CK(&d_in, UDP(R7, 53, PUB, 5000), FWD, UDP(R7, 53, H2, 5000));
	CK(&d_nat, UDP(H3, 5000, R7, 53), PASS, UDP(PUB, p, R7, 53));
	/* a UDP checksum of 0 ("none") stays 0, both ways */
	CK(&d_nat, UDP0(H2, 5002, R7, 53), PASS, UDP0(PUB, 5002, R7, 53));
	CK(&d_in, UDP0(R7, 53, PUB, 5002), FWD, UDP0(R7, 53, H2, 5002));
	/* TCP: its own port space, 5000 is free there */
	CK(&d_nat, TCP(H2, 5000, R7, 80, SYN), PASS,
		TCP(PUB, 5000, R7, 80, SYN));
	CK(&d_nat, TCP(H2, 6000, R7, 80, SYN), PASS,
		TCP(PUB, 6000, R7, 80, SYN));
	/* ICMP echo: the identifier is the port */
	CK(&d_nat, ICMP(H2, R7, 8, 4660), PASS, ICMP(PUB, R7, 8, 4660));
	CK(&d_in, ICMP(R7, PUB, 0, 4660), FWD, ICMP(R7, H2, 0, 4660));
	q = CK(&d_nat, ICMP(H3, R7, 8, 4660), PASS, ICMP(PUB, R7, 8, 0));
	CU_ASSERT(q != 4660);
	CK(&d_in, ICMP(R7, PUB, 0, q), FWD, ICMP(R7, H3, 0, 4660));
	tg_test_natfw_close(&X);
}

/* 2. The answers are translated back and switch to the transit path. */
static void
test_natfw_reply_denat(void)
{

	FX(NAT FW);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_in, UDP(R7, 53, PUB, 5000), FWD, UDP(R7, 53, H2, 5000));
	CK(&d_nat, TCP(H2, 6000, R7, 80, SYN), PASS,
		TCP(PUB, 6000, R7, 80, SYN));
	CK(&d_in, TCP(R7, 80, PUB, 6000, SYN | ACK), FWD,
		TCP(R7, 80, H2, 6000, SYN | ACK));
	tg_test_natfw_close(&X);
}

/* 2b. One burst: the first packets of new flows together (the second
 * packet of a flow finds the first one's session), then every mode. */
static void
test_natfw_burst(void)
{
	static const struct tg_test_natfw_dir wan_lan = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_WAN, P_LAN};
	struct cs a[] = {
		{&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53)},
		{&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53)},
		{&d_nat, UDP(H3, 5000, R7, 53), PASS, UDP(PUB, 0, R7, 53)},
		{&d_nat, UDP(H2, 5000, R9, 53), PASS, UDP(PUB, 5000, R9, 53)},
		{&d_nat, UDP(H3, 5000, R7, 53), PASS, UDP(PUB, 0, R7, 53)},
		{&d_nat, TCP(H2, 5000, R7, 80, SYN), PASS,
			TCP(PUB, 5000, R7, 80, SYN)},
	};

	FX(NAT FW);
	run_at(__LINE__, &X, T0, a, RTE_DIM(a));
	CU_ASSERT(a[2].port != 5000 && a[2].port >= 1024);
	CU_ASSERT_EQUAL(a[4].port, a[2].port);
	{
		struct cs b[] = {
			{&d_in, UDP(R7, 53, PUB, a[2].port), FWD,
				UDP(R7, 53, H3, 5000)},
			{&d_in, UDP(R7, 53, PUB, 5000), FWD,
				UDP(R7, 53, H2, 5000)},
			{&d_in, UDP(R9, 1, PUB, 5000), DROP(NO_EXCEPTION),
				NULL},
			{&wan_lan, UDP(R7, 53, H2, 5000), PASS, NULL},
			{&d_nat, UDP(H2, 5000, R7, 53), PASS,
				UDP(PUB, 5000, R7, 53)},
			{&d_out, UDP(PUB, 40000, R9, 123), PASS, NULL},
			{&d_in, ICMP(R7, PUB, 13, 1), DROP(ICMP_BLOCKED), NULL},
			{&d_in, TCP(R7, 80, PUB, 5000, SYN | ACK), FWD,
				TCP(R7, 80, H2, 5000, SYN | ACK)},
		};

		run_at(__LINE__, &X, T0 + 1, b, RTE_DIM(b));
	}
	tg_test_natfw_close(&X);
}

/* 3. Address-and-port-dependent filtering (default), and
 * endpoint-independent. */
static void
test_natfw_filtering(void)
{

	FX(NAT FW);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_in, UDP(R9, 53, PUB, 5000), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, UDP(R7, 54, PUB, 5000), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, UDP(R7, 53, PUB, 5000), FWD, UDP(R7, 53, H2, 5000));
	tg_test_natfw_close(&X);

	/* no firewall: not translated, but let in to the appliance */
	FX(NAT);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_in, UDP(R9, 53, PUB, 5000), PASS, NULL);
	tg_test_natfw_close(&X);

	FX(NAT "  filtering: endpoint-independent\n" FW);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_in, UDP(R9, 99, PUB, 5000), FWD, UDP(R9, 99, H2, 5000));
	CK(&d_in, UDP(R7, 54, PUB, 5000), FWD, UDP(R7, 54, H2, 5000));
	CK(&d_nat, UDP(H2, 5000, R9, 99), PASS, UDP(PUB, 5000, R9, 99));
	/* a port without a mapping, and another protocol, stay closed */
	CK(&d_in, UDP(R9, 99, PUB, 5001), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, TCP(R9, 99, PUB, 5000, SYN), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* 3b. Two public interfaces: a translation takes the NAT address of the
 * interface it leaves by, and the ports of that address. */
static void
test_natfw_two_public(void)
{
	static const struct tg_test_natfw_dir nat_dmz = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_DMZ};
	static const struct tg_test_natfw_dir in_dmz = {
		TG_PATH_TARGET, TG_MODE_IN, 0, P_DMZ, TG_IF_NONE};
	uint16_t p, q;

	FX("nat:\n  private: [lan0]\n  public: [wan0, dmz0]\n  addresses:\n"
	   "    - {address: 192.0.2.1, ports: 1024-1087}\n"
	   "    - {address: 172.16.0.1, ports: 2000-2063}\n" FW);
	p = CK(&nat_dmz, UDP(H2, 5000, R7, 53), PASS, UDP(DMZ, 0, R7, 53));
	CU_ASSERT(p >= 2000 && p <= 2063);
	q = CK(&d_nat, UDP(H3, 5000, R7, 53), PASS, UDP(PUB, 0, R7, 53));
	CU_ASSERT(q >= 1024 && q <= 1087);
	CK(&in_dmz, UDP(R7, 53, DMZ, p), FWD, UDP(R7, 53, H2, 5000));
	CK(&d_in, UDP(R7, 53, PUB, q), FWD, UDP(R7, 53, H3, 5000));
	if (p != q)
		CK(&d_in, UDP(R7, 53, PUB, p), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* 4. Only private → public transit is translated. */
static void
test_natfw_untouched_transit(void)
{
	static const struct tg_test_natfw_dir lan_lan = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_LAN};
	static const struct tg_test_natfw_dir wan_lan = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_WAN, P_LAN};
	static const struct tg_test_natfw_dir lan_dmz = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_LAN, P_DMZ};
	static const struct tg_test_natfw_dir dmz_wan = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, P_DMZ, P_WAN};
	/* ethdev ids 4, 2, 6 for config ports 0, 1, 2 */
	static const uint16_t ids[3] = {4, 2, 6};
	static const struct tg_test_natfw_dir nat_remapped = {
		TG_PATH_TRANSIT, TG_MODE_TRANSIT, 0, 4, 2};

	FX(NAT FW);
	CK(&lan_lan, UDP(H2, 5000, H3, 53), PASS, NULL);
	CK(&wan_lan, UDP(R7, 53, H2, 5000), PASS, NULL);
	CK(&wan_lan, TCP(R7, 80, H2, 6000, SYN), PASS, NULL);
	CK(&lan_dmz, UDP(H2, 5000, DMZ + 5, 53), PASS, NULL);
	CK(&lan_dmz, ICMP(H2, DMZ + 5, 8, 1), PASS, NULL);
	CK(&dmz_wan, UDP(DMZ + 5, 5000, R7, 53), PASS, NULL);
	CK(&dmz_wan, TCP(DMZ + 5, 6000, R7, 80, SYN), PASS, NULL);
	CK(&dmz_wan, PKX(47, DMZ + 5, 0, R7, 0, 0, 0, 0), PASS, NULL);
	/* private → public in a protocol NAT does not translate: dropped
	 * (GRE other than PPTP's: test_natfw_pptp) */
	CK(&d_nat, PKX(47, H2, 0, R7, 0, 0, 0, 0), DROP(GRE_NOT_PPTP), NULL);
	CK(&d_nat, PKX(50, H2, 0, R7, 0, 0, 0, 0), DROP(PROTOCOL), NULL);
	tg_test_natfw_close(&X);

	FX("nat: {enabled: false, private: [lan0], public: [wan0]}\n");
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, NULL);
	CK(&d_nat, TCP(H2, 6000, R7, 80, SYN), PASS, NULL);
	CK(&d_nat, ICMP(H2, R7, 8, 1), PASS, NULL);
	CK(&d_nat, PKX(47, H2, 0, R7, 0, 0, 0, 0), PASS, NULL);
	CK(&d_in, UDP(R7, 53, PUB, 5000), PASS, NULL);
	tg_test_natfw_close(&X);

	/* roles follow the ethdev ids of tg_natfw_build()'s map */
	CU_ASSERT_FATAL(fx_open(&X, NAT, ids));
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, NULL);
	CK(&nat_remapped, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	tg_test_natfw_close(&X);
}

/* 5. The host firewall on target traffic. */
static void
test_natfw_firewall(void)
{
	static const struct tg_test_natfw_dir in_ipsec = {TG_PATH_TARGET,
		TG_MODE_IN, TG_META_F_IPSEC_BYPASS, P_WAN, TG_IF_NONE};

	FX("firewall:\n  exceptions:\n"
	   "    - {name: ssh, protocol: tcp, port: 22}\n"
	   "    - {name: dns, protocol: udp, port: 53}\n"
	   "    - {name: web, protocol: tcp, port: 8000-8001, scope: "
	   "[203.0.113.0/24]}\n"
	   "    - {name: adm, protocol: tcp, port: 2222, interface: lan0}\n"
	   "  icmp: {inbound: {echo_request: allow}}\n");
	CK(&d_in, TCP(R7, 40000, PUB, 22, SYN), PASS, NULL);
	CK(&d_in, TCP(R7, 40000, PUB, 23, SYN), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, UDP(R7, 40000, PUB, 53), PASS, NULL);
	CK(&d_in, UDP(R7, 40000, PUB, 54), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, TCP(R7, 40000, PUB, 53, SYN), DROP(NO_EXCEPTION), NULL);
	/* scope */
	CK(&d_in, TCP(RS, 40000, PUB, 8000, SYN), PASS, NULL);
	CK(&d_in, TCP(RS, 40000, PUB, 8001, SYN), PASS, NULL);
	CK(&d_in, TCP(RS, 40000, PUB, 8002, SYN), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, TCP(R7, 40000, PUB, 8000, SYN), DROP(NO_EXCEPTION), NULL);
	/* interface */
	CK(&d_in_lan, TCP(H2, 40000, LAN, 2222, SYN), PASS, NULL);
	CK(&d_in, TCP(R7, 40000, PUB, 2222, SYN), DROP(NO_EXCEPTION), NULL);
	/* no exception for GRE */
	CK(&d_in, PKX(47, R7, 0, PUB, 0, 0, 0, 0), DROP(NO_EXCEPTION), NULL);
	/* ICMP by type */
	CK(&d_in, ICMP(R7, PUB, 8, 1), PASS, NULL);
	CK(&d_in, ICMP(R7, PUB, 13, 1), DROP(ICMP_BLOCKED), NULL);
	CK(&d_in, ICMP(R7, PUB, 17, 1), DROP(ICMP_BLOCKED), NULL);
	/* the IPsec bypass tag passes */
	CK(&in_ipsec, TCP(R7, 40000, PUB, 23, SYN), PASS, NULL);
	tg_test_natfw_close(&X);

	/* without the section, or disabled: everything passes */
	FX(NAT);
	CK(&d_in, TCP(R7, 40000, PUB, 23, SYN), PASS, NULL);
	CK(&d_in, ICMP(R7, PUB, 13, 1), PASS, NULL);
	tg_test_natfw_close(&X);
	FX("firewall: {enabled: false}\n");
	CK(&d_in, TCP(R7, 40000, PUB, 23, SYN), PASS, NULL);
	CK(&d_in, ICMP(R7, PUB, 13, 1), PASS, NULL);
	tg_test_natfw_close(&X);
}

/* 6. Dynamic entries: what the appliance sends lets its answers in. */
static void
test_natfw_dynamic_entries(void)
{
	uint16_t p, v;

	FX(NAT FW);
	CK(&d_out, UDP(PUB, 40000, R9, 123), PASS, NULL);
	CK(&d_in, UDP(R9, 123, PUB, 40000), PASS, NULL);
	CK(&d_in, UDP(R9, 124, PUB, 40000), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, UDP(R7, 123, PUB, 40000), DROP(NO_EXCEPTION), NULL);
	CK(&d_out, TCP(PUB, 40001, R9, 443, SYN), PASS, NULL);
	CK(&d_in, TCP(R9, 443, PUB, 40001, SYN | ACK), PASS, NULL);
	CK(&d_out, ICMP(PUB, R9, 8, 777), PASS, NULL);
	CK(&d_in, ICMP(R9, PUB, 0, 777), PASS, NULL);
	v = verdict_of(&X, T0, &d_in, ICMP(R9, PUB, 0, 778));
	CU_ASSERT(IS_UNSOLICITED(v));
	/* NAT never hands out a port the appliance is using... */
	p = CK(&d_nat, UDP(H2, 40000, R7, 53), PASS, UDP(PUB, 0, R7, 53));
	CU_ASSERT(p != 40000 && p >= 1024);
	/* ...and the appliance may not use one a translation holds */
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_out, UDP(PUB, 5000, R9, 123), DROP(PORT_IN_USE), NULL);
	/* the appliance's other addresses have dynamic entries too */
	CK(&d_out_lan, UDP(LAN, 40002, H3, 53), PASS, NULL);
	CK(&d_in_lan, UDP(H3, 53, LAN, 40002), PASS, NULL);
	CK(&d_in_lan, UDP(H3, 54, LAN, 40002), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);

	/* a firewall without NAT */
	FX(FW);
	CK(&d_out, UDP(PUB, 40000, R9, 123), PASS, NULL);
	CK(&d_in, UDP(R9, 123, PUB, 40000), PASS, NULL);
	CK(&d_in, UDP(R9, 124, PUB, 40000), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* 7. ICMP errors the appliance sends: the outbound policy. */
static void
test_natfw_outbound_icmp(void)
{
	uint8_t in[FRAME_MAX];
	const uint8_t *e = in + 14;

	frame(UDP(R7, 5353, PUB, 9), in);
	FX(FW);
	CK(&d_out, ERR(PUB, R7, 3, 3, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 3, 1, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 3, 4, e, 28), PASS, NULL);
	CK(&d_out, ERR(PUB, R7, 11, 0, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 12, 0, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 5, 1, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 4, 0, e, 28), DROP(ICMP_BLOCKED), NULL);
	/* not an error */
	CK(&d_out, ICMP(PUB, R7, 0, 99), PASS, NULL);
	tg_test_natfw_close(&X);

	FX("firewall:\n  icmp: {outbound: {destination_unreachable: "
	   "allow, packet_too_big: block}}\n");
	CK(&d_out, ERR(PUB, R7, 3, 3, e, 28), PASS, NULL);
	CK(&d_out, ERR(PUB, R7, 3, 4, e, 28), DROP(ICMP_BLOCKED), NULL);
	CK(&d_out, ERR(PUB, R7, 11, 0, e, 28), DROP(ICMP_BLOCKED), NULL);
	tg_test_natfw_close(&X);

	FX(NAT);
	CK(&d_out, ERR(PUB, R7, 3, 3, e, 28), PASS, NULL);
	tg_test_natfw_close(&X);
}

/* 8. A port mapping forwards a public port to a host behind. */
static void
test_natfw_port_mapping(void)
{

	FX(NAT PMAP FW);
	CK(&d_in, TCP(R7, 40000, PUB, 8080, SYN), FWD,
		TCP(R7, 40000, SRV, 80, SYN));
	CK(&d_nat, TCP(SRV, 80, R7, 40000, SYN | ACK), PASS,
		TCP(PUB, 8080, R7, 40000, SYN | ACK));
	CK(&d_in, TCP(R7, 40000, PUB, 8080, ACK), FWD,
		TCP(R7, 40000, SRV, 80, ACK));
	/* from any remote */
	CK(&d_in, TCP(R9, 5555, PUB, 8080, SYN), FWD,
		TCP(R9, 5555, SRV, 80, SYN));
	CK(&d_nat, TCP(SRV, 80, R9, 5555, SYN | ACK), PASS,
		TCP(PUB, 8080, R9, 5555, SYN | ACK));
	/* the mapped port only, TCP only */
	CK(&d_in, TCP(R7, 40000, PUB, 8081, SYN), DROP(NO_EXCEPTION), NULL);
	CK(&d_in, UDP(R7, 40000, PUB, 8080), DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* 8b. Hairpinning (docs/nat.md): a lan host to a NAT address and mapped
 * port; the server sees, and answers, the sender's own mapping. */
static void
test_natfw_hairpin(void)
{
	FX(NAT PMAP FW);
	CK(&d_in_lan, TCP(H2, 7000, PUB, 8080, SYN), FWD,
		TCP(PUB, 7000, SRV, 80, SYN));
	CK(&d_in_lan, TCP(SRV, 80, PUB, 7000, SYN | ACK), FWD,
		TCP(PUB, 8080, H2, 7000, SYN | ACK));
	tg_test_natfw_close(&X);
}

/* 9. ICMP errors about a translated flow, both ways (RFC 5508). */
static void
test_natfw_icmp_error(void)
{
	uint8_t t[FRAME_MAX], o[FRAME_MAX], a[FRAME_MAX], b[FRAME_MAX];
	uint16_t v;

	FX(NAT FW);
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	frame(UDP(PUB, 5000, R7, 53), t); /* as it left */
	frame(UDP(H2, 5000, R7, 53), o);  /* as the host sent it */
	CK(&d_in, ERR(R7, PUB, 3, 3, t + 14, 28), FWD,
		ERR(R7, H2, 3, 3, o + 14, 28));
	/* from a router on the way, not the remote */
	CK(&d_in, ERR(R9, PUB, 11, 0, t + 14, 28), FWD,
		ERR(R9, H2, 11, 0, o + 14, 28));
	/* TCP, with its whole header: the embedded TCP checksum too */
	CK(&d_nat, TCP(H2, 6000, R7, 80, SYN), PASS,
		TCP(PUB, 6000, R7, 80, SYN));
	frame(TCP(PUB, 6000, R7, 80, SYN), t);
	frame(TCP(H2, 6000, R7, 80, SYN), o);
	CK(&d_in, ERR(R7, PUB, 3, 4, t + 14, 40), FWD,
		ERR(R7, H2, 3, 4, o + 14, 40));
	/* the private host's error about an answer goes out translated */
	frame(UDP(R7, 53, H2, 5000), a);
	frame(UDP(R7, 53, PUB, 5000), b);
	CK(&d_nat, ERR(H2, R7, 3, 3, a + 14, 28), PASS,
		ERR(PUB, R7, 3, 3, b + 14, 28));
	/* an error about no flow meets the firewall */
	frame(UDP(PUB, 5001, R7, 53), t);
	v = verdict_of(&X, T0, &d_in, ERR(R7, PUB, 3, 3, t + 14, 28));
	CU_ASSERT(IS_UNSOLICITED(v));
	tg_test_natfw_close(&X);
}

/* 10. Idle timeouts on the fake clock. */
static void
test_natfw_timeouts(void)
{
	const uint64_t t = 100, u = 300, w = 1000, y = 2000; /* seconds */

	FX(NAT "  timeouts: {udp: 30, tcp_established: 60, "
	       "tcp_transitory: 10}\n" FW);
	CKT(t, &d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	tg_test_natfw_ticks(&X, t, t + 29);
	CKT(t + 29, &d_in, UDP(R7, 53, PUB, 5000), FWD, UDP(R7, 53, H2, 5000));
	/* 31 s after the last packet, whichever direction refreshes */
	tg_test_natfw_ticks(&X, t + 29, t + 29 + 31);
	CKT(t + 60, &d_in, UDP(R7, 53, PUB, 5000), DROP(NO_EXCEPTION), NULL);
	CKT(t + 60, &d_nat, UDP(H2, 5000, R7, 53), PASS,
		UDP(PUB, 5000, R7, 53));
	CKT(t + 60, &d_in, UDP(R7, 53, PUB, 5000), FWD, UDP(R7, 53, H2, 5000));
	/* an outbound packet refreshes */
	CKT(u, &d_nat, UDP(H2, 5001, R7, 53), PASS, UDP(PUB, 5001, R7, 53));
	tg_test_natfw_ticks(&X, u, u + 20);
	CKT(u + 20, &d_nat, UDP(H2, 5001, R7, 53), PASS,
		UDP(PUB, 5001, R7, 53));
	tg_test_natfw_ticks(&X, u + 20, u + 45);
	CKT(u + 45, &d_in, UDP(R7, 53, PUB, 5001), FWD, UDP(R7, 53, H2, 5001));

	/* TCP: SYN, SYN-ACK: established, beyond tcp_transitory */
	tg_test_natfw_ticks(&X, u + 45, w);
	CKT(w, &d_nat, TCP(H2, 6000, R7, 80, SYN), PASS,
		TCP(PUB, 6000, R7, 80, SYN));
	CKT(w + 1, &d_in, TCP(R7, 80, PUB, 6000, SYN | ACK), FWD,
		TCP(R7, 80, H2, 6000, SYN | ACK));
	CKT(w + 2, &d_nat, TCP(H2, 6000, R7, 80, ACK), PASS,
		TCP(PUB, 6000, R7, 80, ACK));
	tg_test_natfw_ticks(&X, w + 2, w + 17);
	CKT(w + 17, &d_in, TCP(R7, 80, PUB, 6000, ACK), FWD,
		TCP(R7, 80, H2, 6000, ACK));
	/* RST: transitory, gone 12 s later (established would hold 60) */
	CKT(w + 18, &d_nat, TCP(H2, 6000, R7, 80, RST | ACK), PASS,
		TCP(PUB, 6000, R7, 80, RST | ACK));
	tg_test_natfw_ticks(&X, w + 18, w + 30);
	CKT(w + 30, &d_in, TCP(R7, 80, PUB, 6000, ACK), DROP(NO_EXCEPTION),
		NULL);
	/* a SYN nobody answers is transitory too */
	tg_test_natfw_ticks(&X, w + 30, y);
	CKT(y, &d_nat, TCP(H2, 6001, R7, 80, SYN), PASS,
		TCP(PUB, 6001, R7, 80, SYN));
	tg_test_natfw_ticks(&X, y, y + 12);
	CKT(y + 12, &d_in, TCP(R7, 80, PUB, 6001, SYN | ACK),
		DROP(NO_EXCEPTION), NULL);
	tg_test_natfw_close(&X);
}

/* 11. max_sessions, max_sessions_per_host, a NAT address's port range. */
static void
test_natfw_limits(void)
{
	uint64_t used = 0;
	uint16_t i, p, first = 0;

	FX(NAT "  max_sessions: 4\n");
	for (i = 0; i < 4; i++)
		CK(&d_nat, UDP(H2, 5000 + i, R7, 53), PASS,
			UDP(PUB, 5000 + i, R7, 53));
	/* a new mapping, and a new session of an existing mapping */
	CK(&d_nat, UDP(H2, 5004, R7, 53), DROP(SESSIONS_FULL), NULL);
	CK(&d_nat, UDP(H2, 5000, R9, 53), DROP(SESSIONS_FULL), NULL);
	CK(&d_nat, UDP(H3, 5000, R7, 53), DROP(SESSIONS_FULL), NULL);
	for (i = 0; i < 4; i++) {
		CK(&d_nat, UDP(H2, 5000 + i, R7, 53), PASS,
			UDP(PUB, 5000 + i, R7, 53));
		CK(&d_in, UDP(R7, 53, PUB, 5000 + i), FWD,
			UDP(R7, 53, H2, 5000 + i));
	}
	tg_test_natfw_close(&X);

	/* the limit is NAT's, whatever room dynamic entries have */
	FX(NAT "  max_sessions: 4\n" FW);
	for (i = 0; i < 4; i++)
		CK(&d_nat, UDP(H2, 5000, R7 + i, 53), PASS,
			UDP(PUB, 5000, R7 + i, 53));
	CK(&d_nat, UDP(H2, 5000, R7 + 4, 53), DROP(SESSIONS_FULL), NULL);
	CK(&d_out, UDP(PUB, 40000, R9, 123), PASS, NULL);
	tg_test_natfw_close(&X);

	FX(NAT "  max_sessions_per_host: 2\n");
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, 5000, R7, 53));
	CK(&d_nat, UDP(H2, 5001, R7, 53), PASS, UDP(PUB, 5001, R7, 53));
	CK(&d_nat, UDP(H2, 5002, R7, 53), DROP(HOST_LIMIT), NULL);
	CK(&d_nat, UDP(H2, 5000, R9, 53), DROP(HOST_LIMIT), NULL);
	CK(&d_nat, UDP(H3, 5002, R7, 53), PASS, UDP(PUB, 5002, R7, 53));
	CK(&d_nat, UDP(H3, 5003, R7, 53), PASS, UDP(PUB, 5003, R7, 53));
	CK(&d_nat, UDP(H2, 5001, R7, 53), PASS, UDP(PUB, 5001, R7, 53));
	tg_test_natfw_close(&X);

	/* 64 ports: 64 hosts on port 5000 (outside the range) get them */
	FX(NAT "  addresses:\n    - {address: 192.0.2.1, ports: "
	       "1024-1087}\n");
	for (i = 0; i < 64; i++) {
		p = CK(&d_nat, UDP(H2 + i, 5000, R7, 53), PASS,
			UDP(PUB, 0, R7, 53));
		CU_ASSERT(p >= 1024 && p <= 1087);
		if (p >= 1024 && p <= 1087) {
			CU_ASSERT_FALSE(used & 1ull << (p - 1024));
			used |= 1ull << (p - 1024);
		}
		if (i == 0)
			first = p;
	}
	CU_ASSERT_EQUAL(used, UINT64_MAX);
	CK(&d_nat, UDP(H2 + 64, 5000, R7, 53), DROP(PORTS_FULL), NULL);
	/* existing flows go on; TCP has its own ports */
	CK(&d_nat, UDP(H2, 5000, R7, 53), PASS, UDP(PUB, first, R7, 53));
	p = CK(&d_nat, TCP(H2 + 64, 5000, R7, 80, SYN), PASS,
		TCP(PUB, 0, R7, 80, SYN));
	CU_ASSERT(p >= 1024 && p <= 1087);
	tg_test_natfw_close(&X);
}

/* 12. Short headers, fragments, and garbage in every mode. */
static const struct {
	const struct tg_test_natfw_dir *d;
	uint32_t src[3], dst[2];
} fz[] = {
	{&d_nat, {H2, H3, SRV}, {R7, R9}},
	{&d_in, {R7, R9, RS}, {PUB, PUB}},
	{&d_in_lan, {H2, H3, SRV}, {LAN, PUB}},
	{&d_out, {PUB, PUB, LAN}, {R7, R9}},
	{&d_out_lan, {LAN, LAN, PUB}, {H2, H3}},
};
static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs >> 32);
}

static uint16_t
fuzz_frame(uint8_t *f, unsigned int k)
{
	static const uint32_t addrs[] = {
		H2, H3, SRV, LAN, PUB, DMZ, R7, R9, RS};
	static const uint16_t ports[] = {53, 5000, 80, 6000, 22, 8080, 40000};
	static const uint8_t protos[] = {1, 6, 17, 47, 1, 6, 17};
	static const uint8_t types[] = {0, 3, 8, 11, 13, 5, 4, 12};
	/* answers to the flows fuzz() opens: proto, remote, its port, ours */
	static const uint32_t ans[][4] = {
		{17, R7, 53, 5000}, {6, R9, 80, 6000}, {6, RS, 1234, 8080}};
	const uint32_t *a = ans[rnd() % 3];
	uint8_t *ip = f + 14, *l4, *in;
	unsigned int ihl = rnd() % 5 ? 5 : 5 + rnd() % 11, n = rnd() % 64, i;
	unsigned int r = rnd() % 10;

	memset(f, 0, FRAME_MAX);
	tg_test_put16(f + 12, 0x0800);
	l4 = ip + ihl * 4;
	ip[0] = (uint8_t)(0x40 | ihl);
	tg_test_put16(ip + 6, r < 7 ? 0 : r == 7 ? 0x2000 : rnd() & 0x3fff);
	ip[8] = (uint8_t)(1 + rnd() % 255);
	ip[9] = rnd() % 8 ? protos[rnd() % 7] : (uint8_t)rnd();
	tg_test_put32(
		ip + 12, rnd() % 4 ? fz[k].src[rnd() % 3] : addrs[rnd() % 9]);
	tg_test_put32(
		ip + 16, rnd() % 4 ? fz[k].dst[rnd() % 2] : addrs[rnd() % 9]);
	for (i = 20; i < ihl * 4; i++)
		ip[i] = 1; /* NOP options */
	for (i = 0; i < n; i++)
		l4[i] = (uint8_t)rnd();
	if (n >= 4 && rnd() % 2) {
		tg_test_put16(l4, ports[rnd() % 7]);
		tg_test_put16(l4 + 2, ports[rnd() % 7]);
	}
	if (fz[k].d == &d_in && n >= 4 && rnd() % 2) {
		ip[9] = (uint8_t)a[0];
		tg_test_put32(ip + 12, a[1]);
		tg_test_put16(l4, (uint16_t)a[2]);
		tg_test_put16(l4 + 2, (uint16_t)a[3]);
	}
	if (ip[9] == 1 && n >= 1 && rnd() % 2)
		l4[0] = types[rnd() % 8];
	if (ip[9] == 1 && n >= 28 && rnd() % 2) { /* a plausible inner one */
		in = l4 + 8;
		in[0] = 0x45;
		tg_test_put16(in + 2, (uint16_t)(20 + rnd() % 100));
		in[6] = in[7] = 0;
		in[9] = protos[rnd() % 7];
		tg_test_put32(in + 12, addrs[rnd() % 9]);
		tg_test_put32(in + 16, addrs[rnd() % 9]);
		tg_test_put16(in + 20, ports[rnd() % 7]);
		tg_test_put16(in + 22, ports[rnd() % 7]);
		if (rnd() % 2) { /* about a flow: as it left */
			in[9] = (uint8_t)a[0];
			tg_test_put32(in + 12, PUB);
			tg_test_put32(in + 16, a[1]);
			tg_test_put16(in + 20, (uint16_t)a[3]);
			tg_test_put16(in + 22, (uint16_t)a[2]);
		}
	}
	tg_test_put16(ip + 2, (uint16_t)(ihl * 4 + n));
	tg_test_put16(ip + 10, tg_test_ip_sum(ip, (int)ihl * 4));
	return (uint16_t)(14 + ihl * 4 + n);
}

static void
fuzz(struct tg_test_natfw_fx *x, unsigned int count)
{
	struct rte_mbuf *m[32];
	uint16_t v[32], len[32], n, i;
	uint8_t f[FRAME_MAX];
	unsigned int judged = 0, fails = 0, k, next = 0, fwd = 0;
	uint64_t now = T0;

	/* some state to hit */
	check1(__LINE__, x, now, &d_nat, UDP(H2, 5000, R7, 53), PASS,
		UDP(PUB, 5000, R7, 53));
	check1(__LINE__, x, now, &d_nat, TCP(H3, 6000, R9, 80, SYN), PASS,
		TCP(PUB, 6000, R9, 80, SYN));
	check1(__LINE__, x, now, &d_out, UDP(PUB, 40000, R9, 53), PASS, NULL);
	while (judged < count) {
		n = (uint16_t)(1 + rnd() % 32);
		for (i = 0; i < n;) {
			k = rnd() % RTE_DIM(fz);
			len[i] = fuzz_frame(f, k);
			m[i] = mk(fz[k].d, f, len[i]);
			if (tg_pkt_rx_one(m[i], 0) != TG_V_NEXT) {
				rte_pktmbuf_free(m[i]);
				continue;
			}
			tg_test_natfw_meta(m[i], fz[k].d);
			if (rnd() % 20 == 0)
				tg_meta(m[i])->flags |= TG_META_F_IPSEC_BYPASS;
			v[i] = 0xdead;
			i++;
		}
		tg_natfw_burst(x->nt, x->ctx, m, n, v, now);
		for (i = 0; i < n; i++) {
			bool ok = verdict_ok(v[i]) && tail_intact(m[i]) &&
				  (TG_V_IS_DROP(v[i]) ||
					  m[i]->data_len == len[i]) &&
				  (v[i] != FWD || tg_meta(m[i])->path ==
							  TG_PATH_TRANSIT);

			if (!ok && fails++ < 10)
				fprintf(stderr,
					"\n  fuzz packet %u: verdict %#x",
					judged + i, v[i]);
			next += v[i] == PASS;
			fwd += v[i] == FWD;
			rte_pktmbuf_free(m[i]);
		}
		judged += n;
		now += rnd() % 2000;
		if (rnd() % 4 == 0)
			tg_natfw_tick(x->nt, x->ctx, now);
	}
	printf("\n    fuzz: %u packets, %u next, %u forward", judged, next,
		fwd);
	CU_ASSERT(next > 0 && fwd > 0);
	CU_ASSERT_EQUAL(fails, 0);
}

static void
test_natfw_bad_input(void)
{

	FX(NAT FW);
	CK(&d_nat, PKX(6, H2, 6000, R7, 80, 0, 0, 10), DROP(SHORT_L4), NULL);
	CK(&d_nat, PKX(17, H2, 5000, R7, 53, 0, 0, 6), DROP(SHORT_L4), NULL);
	CK(&d_nat, PKX(1, H2, 9, R7, 0, 8, 0, 4), DROP(SHORT_L4), NULL);
	/* a first fragment has the ports; a later one does not */
	CK(&d_nat, PKX(17, H2, 5000, R7, 53, 0, 0x2000, 0), PASS,
		PKX(17, PUB, 5000, R7, 53, 0, 0x2000, 0));
	CK(&d_nat, PKX(17, H2, 5000, R7, 53, 0, 0x00b9, 0), DROP(FRAGMENT),
		NULL);
	CK(&d_nat, PKX(17, H3, 5000, R7, 53, 0, 0x20b9, 0), DROP(FRAGMENT),
		NULL);
	/* the translated reply needs a whole header too */
	CK(&d_nat, TCP(H2, 6000, R7, 80, SYN), PASS,
		TCP(PUB, 6000, R7, 80, SYN));
	CK(&d_in, PKX(6, R7, 80, PUB, 6000, 0, 0, 10), DROP(SHORT_L4), NULL);
	tg_test_natfw_close(&X);

	FX(NAT PMAP "firewall:\n  exceptions:\n"
		    "    - {name: ssh, protocol: tcp, port: 22}\n"
		    "  icmp: {inbound: {echo_request: allow}}\n");
	fuzz(&X, 5000);
	tg_test_natfw_close(&X);
	FX(NAT "  filtering: endpoint-independent\n  timeouts: {udp: 10, "
	       "icmp: 10, tcp_transitory: 10}\n");
	fuzz(&X, 5000);
	tg_test_natfw_close(&X);
}

/* What a reload cannot change: the table's sizes. Addresses, ranges and
 * port mappings apply live (test_natfw_reload.c). */
static void
test_natfw_restart_only(void)
{
	static const char *const same[] = {NAT FW,
		NAT PMAP "  timeouts: {udp: 30}\n  filtering: "
			 "endpoint-independent\nfirewall:\n  exceptions:\n"
			 "    - {name: ssh, protocol: tcp, port: 22}\n",
		NAT "  addresses:\n    - {address: 192.0.2.1, ports: "
		    "2000-3000}\n" FW,
		("nat:\n  private: [lan0]\n  public: [wan0, dmz0]\n" FW)};
	static const char *const restart[] = {NAT "  max_sessions: 1000\n" FW,
		NAT "  max_sessions_per_host: 10\n" FW,
		NAT "firewall: {max_dynamic: 100}\n", FW};
	static const char *const keys[] = {"nat.max_sessions",
		"nat.max_sessions_per_host", "firewall.max_dynamic",
		"nat.enabled"};
	struct tg_config *run = parse(NAT FW), *off = parse(""), *nc;
	char what[128];
	unsigned int i;

	CU_ASSERT_FATAL(run != NULL && off != NULL);
	for (i = 0; i < RTE_DIM(same); i++) {
		nc = parse(same[i]);
		CU_ASSERT_FATAL(nc != NULL);
		what[0] = 0;
		CU_ASSERT_FALSE(tg_natfw_restart_only(run, nc, what, 128));
		tg_config_free(nc);
	}
	for (i = 0; i < RTE_DIM(restart); i++) {
		nc = parse(restart[i]);
		CU_ASSERT_FATAL(nc != NULL);
		what[0] = 0;
		CU_ASSERT_TRUE(tg_natfw_restart_only(run, nc, what, 128));
		CU_ASSERT_STRING_EQUAL(what, keys[i]);
		tg_config_free(nc);
	}
	/* turned on without a table */
	what[0] = 0;
	CU_ASSERT_TRUE(tg_natfw_restart_only(off, run, what, 128));
	CU_ASSERT(what[0] != 0);
	tg_config_free(off);
	tg_config_free(run);
}

/* Last: every drop the suite saw had a named reason. */
static void
test_natfw_drop_reasons(void)
{
	static const enum tg_natfw_drop seen[] = {TG_NATFW_DROP_SESSIONS_FULL,
		TG_NATFW_DROP_HOST_LIMIT, TG_NATFW_DROP_PORTS_FULL,
		TG_NATFW_DROP_NO_EXCEPTION, TG_NATFW_DROP_ICMP_BLOCKED,
		TG_NATFW_DROP_PORT_IN_USE, TG_NATFW_DROP_FRAGMENT,
		TG_NATFW_DROP_SHORT_L4, TG_NATFW_DROP_PROTOCOL};
	unsigned int i;

	for (i = 0; i < TG_NATFW_DROP__COUNT; i++) {
		CU_ASSERT_FATAL(tg_natfw_drop_names[i] != NULL);
		CU_ASSERT(strncmp(tg_natfw_drop_names[i], "natfw.", 6) == 0);
		CU_ASSERT(tg_natfw_drop_descs[i] != NULL &&
			  tg_natfw_drop_descs[i][0] != '\0');
		printf("\n    %-22s %" PRIu64, tg_natfw_drop_names[i],
			drops[i]);
	}
	for (i = 0; i < RTE_DIM(seen); i++)
		CU_ASSERT(drops[seen[i]] > 0);
	CU_ASSERT_EQUAL(bad_verdicts, 0);
}

int
main(void)
{
	mp = tg_test_natfw_setup("test_natfw", NB_MBUF);
	if (mp == NULL)
		return 1;
	tg_test_suite("natfw", NULL, NULL, "test_natfw_outbound_translation",
		test_natfw_outbound_translation, "test_natfw_reply_denat",
		test_natfw_reply_denat, "test_natfw_burst", test_natfw_burst,
		"test_natfw_filtering", test_natfw_filtering,
		"test_natfw_two_public", test_natfw_two_public,
		"test_natfw_untouched_transit", test_natfw_untouched_transit,
		"test_natfw_firewall", test_natfw_firewall,
		"test_natfw_dynamic_entries", test_natfw_dynamic_entries,
		"test_natfw_outbound_icmp", test_natfw_outbound_icmp,
		"test_natfw_port_mapping", test_natfw_port_mapping,
		"test_natfw_hairpin", test_natfw_hairpin,
		"test_natfw_icmp_error", test_natfw_icmp_error,
		"test_natfw_timeouts", test_natfw_timeouts, "test_natfw_limits",
		test_natfw_limits, "test_natfw_bad_input", test_natfw_bad_input,
		"test_natfw_restart_only", test_natfw_restart_only,
		"test_natfw_drop_reasons", test_natfw_drop_reasons, NULL);
	return tg_test_natfw_finish(mp);
}
