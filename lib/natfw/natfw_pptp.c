/* SPDX-License-Identifier: BSD-3-Clause
 * natfw: PPTP through NAT and the firewall (RFC 2637), as Linux's
 * nf_conntrack_pptp and nf_nat_pptp do it: the control message at the
 * start of a TCP 1723 segment names the calls' IDs; NAT gives a client's
 * call ID a public one (a mapping in the ICMP/GRE port class of the NAT
 * address) and the GRE of the call is translated by it. How GRE sessions
 * are keyed: natfw_pptp.h.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>

#include "nat_rewrite.h"
#include "natfw_internal.h"
#include "natfw_pptp.h"
#include "tg_pkt.h"

const char *const tg_natfw_pptp_names[TG_NATFW_PPTP__COUNT] = {
#define TG_X_NAME(n, s, d) [TG_NATFW_PPTP_##n] = s,
	TG_NATFW_PPTP_STATS(TG_X_NAME)
#undef TG_X_NAME
};

const char *const tg_natfw_pptp_descs[TG_NATFW_PPTP__COUNT] = {
#define TG_X_DESC(n, s, d) [TG_NATFW_PPTP_##n] = d,
	TG_NATFW_PPTP_STATS(TG_X_DESC)
#undef TG_X_DESC
};

#define GRE_PROTO_PPP 0x880b
#define PPTP_COOKIE   0x1a2b3c4du
#define PPTP_CONTROL  1 /* PPTP message type: control message */
#define PPTP_HDR      12

/* Control message types (RFC 2637 2.0) natfw acts on. */
enum {
	PPTP_OCRQ = 7,	/* Outgoing-Call-Request: client's Call ID */
	PPTP_OCRP = 8,	/* Outgoing-Call-Reply: server's, Peer's */
	PPTP_ICRQ = 9,	/* Incoming-Call-Request: server's */
	PPTP_ICRP = 10, /* Incoming-Call-Reply: client's, Peer's */
	PPTP_ICCN = 11, /* Incoming-Call-Connected: Peer's */
	PPTP_CCRQ = 12, /* Call-Clear-Request: client's */
	PPTP_CDN = 13,	/* Call-Disconnect-Notify: server's */
	PPTP_WEN = 14,	/* WAN-Error-Notify: Peer's */
	PPTP_SLI = 15,	/* Set-Link-Info: Peer's */
	PPTP_TYPES = 16
};

/* Length of each message type (RFC 2637 2.1 to 2.15); 0: undefined. */
static const uint16_t pptp_len[PPTP_TYPES] = {
	0, 156, 156, 16, 16, 16, 20, 168, 32, 220, 24, 28, 16, 148, 40, 24};

/* Offsets in a message: the first and second call ID fields, the result
 * code (Outgoing- and Incoming-Call-Reply), whose 1 is "connected". */
#define OFF_ID1	    12
#define OFF_ID2	    14
#define OFF_RESULT  16
#define RESULT_CONN 1

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Write @p v (host order) to the 16-bit field at @p f, and patch the
 * checksum at @p sum that covers it (RFC 1624). Both at even offsets
 * from the start of what the checksum covers. */
static void
put16_patch(uint8_t *f, uint16_t v, uint8_t *sum)
{
	uint16_t old, nw = rte_cpu_to_be_16(v), s;

	memcpy(&old, f, 2);
	memcpy(&s, sum, 2);
	s = tg_cksum_adjust16(s, old, nw);
	memcpy(f, &nw, 2);
	memcpy(sum, &s, 2);
}

static inline void
gre_key(struct tg_nat_key *k, uint32_t ip, uint16_t port, uint32_t rem_ip,
	uint16_t rem_port)
{
	memset(k, 0, sizeof(*k));
	k->proto = IPPROTO_GRE;
	k->ip = ip;
	k->port = port;
	k->rem_ip = rem_ip;
	k->rem_port = rem_port;
}

/* ---- GRE ---------------------------------------------------------------- */

int
tg_natfw_gre_call(
	const uint8_t *gre, uint32_t len, uint16_t *call_id, uint32_t *off)
{
	uint32_t o;

	if (len < 8)
		return -EINVAL;
	/* version 1, K set, R clear (RFC 2637 4.1); C must be clear there
	 * too, but costs nothing to accept (its checksum is patched) */
	if ((gre[1] & 0x07) != 1 || !(gre[0] & 0x20) || (gre[0] & 0x40) ||
		get16(gre + 2) != GRE_PROTO_PPP)
		return -EPROTO;
	o = (gre[0] & 0x80) ? 8 : 4;
	if (len < o + 4)
		return -EINVAL;
	*call_id = get16(gre + o + 2);
	if (off != NULL)
		*off = o + 2;
	return 0;
}

uint16_t
tg_natfw_pptp_gre_out(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_ipv4_hdr *ip, uint32_t l4_len, const struct tg_nat_key *k,
	uint32_t idx, uint32_t sec)
{
	struct tg_nat_sess *s;

	if (idx == TG_NAT_NONE) /* its call may be from this burst */
		idx = natfw_lookup(nt, tab, TG_NAT_IN2OUT, k);
	if (idx == TG_NAT_NONE)
		return V_DROP(GRE_NO_CALL);
	s = tg_nat_sess_at(tab, idx);
	if (s->state != TG_NATFW_GRE_OUT || (s->flags & TG_NAT_SF_LOCAL))
		return V_DROP(GRE_NO_CALL);
	tg_nat_sess_touch(tab, s, sec, TG_NAT_IN2OUT);
	/* GRE: the address only (its checksum has no pseudo-header) */
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_SRC, s->pub_ip, 0) != 0)
		return V_DROP(SHORT_L4);
	return TG_V_NEXT;
}

uint16_t
tg_natfw_pptp_gre_in(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct rte_ipv4_hdr *ip, uint32_t l4_len, uint32_t sec)
{
	uint8_t *gre = (uint8_t *)ip + rte_ipv4_hdr_len(ip);
	struct tg_nat_sess *s;
	struct tg_nat_key k;
	uint32_t idx, off;
	uint16_t cid;

	if (tg_natfw_gre_call(gre, l4_len, &cid, &off) != 0)
		return TG_NATFW_PPTP_NONE;
	gre_key(&k, rte_be_to_cpu_32(ip->dst_addr), cid,
		rte_be_to_cpu_32(ip->src_addr), 0);
	idx = natfw_lookup(nt, tab, TG_NAT_OUT2IN, &k);
	if (idx == TG_NAT_NONE)
		return TG_NATFW_PPTP_NONE;
	s = tg_nat_sess_at(tab, idx);
	if (s->state != TG_NATFW_GRE_IN)
		return TG_NATFW_PPTP_NONE;
	tg_nat_sess_touch(tab, s, sec, TG_NAT_OUT2IN);
	if (s->flags & TG_NAT_SF_LOCAL)
		return TG_V_NEXT; /* the appliance's own call */
	if (tg_nat_rewrite(ip, l4_len, TG_NAT_DST, s->priv_ip, 0) != 0)
		return V_DROP(SHORT_L4);
	if (gre[0] & 0x80) /* GRE's checksum covers the key, not the IP */
		put16_patch(gre + off, s->priv_port, gre + 4);
	else
		memcpy(gre + off, &(uint16_t){rte_cpu_to_be_16(s->priv_port)},
			2);
	return TG_NATFW_PPTP_XLAT;
}

/* ---- control messages ---------------------------------------------------- */

/* The message at the start of a TCP segment's payload (@p tcp, @p l4_len
 * bytes): its start and type. Only one message is looked at, the first:
 * one that starts later in a segment, or spans two, is not (as in
 * Linux's helper); a client sends a call's message in a segment of its
 * own. → the message or NULL (nothing to do; counted when it is not
 * PPTP or too short). */
/* pptp_msg()'s reading, with what it would count: the message (*msg,
 * *type) → TG_NATFW_PPTP_MESSAGES, or the counter of why not, or
 * TG_NATFW_PPTP__COUNT: no payload, nothing to count. */
static unsigned int
pptp_parse(uint8_t *tcp, uint32_t l4_len, uint8_t **msg, uint16_t *type)
{
	uint32_t doff, len;
	uint8_t *p;

	if (l4_len < 20)
		return TG_NATFW_PPTP__COUNT;
	doff = (uint32_t)(tcp[12] >> 4) * 4;
	if (doff < 20 || doff > l4_len)
		return TG_NATFW_PPTP_TRUNCATED;
	len = l4_len - doff;
	if (len == 0) /* an ACK, a SYN, a FIN */
		return TG_NATFW_PPTP__COUNT;
	p = tcp + doff;
	if (len < PPTP_HDR)
		return TG_NATFW_PPTP_TRUNCATED;
	if (get16(p + 2) != PPTP_CONTROL || get32(p + 4) != PPTP_COOKIE)
		return TG_NATFW_PPTP_BAD_COOKIE;
	*type = get16(p + 8);
	if (*type >= PPTP_TYPES || pptp_len[*type] == 0)
		return TG_NATFW_PPTP_BAD_TYPE;
	if (get16(p) < pptp_len[*type] || len < pptp_len[*type])
		return TG_NATFW_PPTP_TRUNCATED;
	*msg = p;
	return TG_NATFW_PPTP_MESSAGES;
}

static uint8_t *
pptp_msg(struct tg_natfw_pptp_stats *ps, uint8_t *tcp, uint32_t l4_len,
	uint16_t *type)
{
	uint8_t *p = NULL;
	unsigned int c = pptp_parse(tcp, l4_len, &p, type);

	if (c < TG_NATFW_PPTP__COUNT)
		ps->n[c]++;
	return c == TG_NATFW_PPTP_MESSAGES ? p : NULL;
}

static inline uint8_t *
tcp_of(struct rte_ipv4_hdr *ip)
{
	return (uint8_t *)ip + rte_ipv4_hdr_len(ip);
}

/* The GRE session of control session @p c's client and server keyed by
 * the client's call ID @p ccid and the server's @p scid (one of them 0:
 * natfw_pptp.h), or TG_NAT_NONE. */
static uint32_t
gre_find(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid, uint16_t scid)
{
	struct tg_nat_key k;

	gre_key(&k, c->priv_ip, ccid, c->rem_ip, scid);
	return natfw_lookup(nt, tab, TG_NAT_IN2OUT, &k);
}

/* A new GRE session of control session @p c's client towards (server,
 * @p scid), on its mapping (GRE, client, @p ccid) of the control
 * connection's address (the public ID @p ccid when it is free). 0 and
 * *idx, or a drop verdict. */
/* The NAT address of control session @p c's slot in this snapshot (its
 * range applies to the call IDs), or TG_NATFW_NO_ADDR: none any more. */
static inline uint16_t
ctl_nat_addr(const struct tg_natfw_table *nt, const struct tg_nat_sess *c)
{
	uint16_t ai = c->addr < TG_NATFW_SLOTS ? nt->slot_addr[c->addr]
					       : TG_NATFW_NO_ADDR;

	return ai < nt->n_nat ? ai : TG_NATFW_NO_ADDR;
}

static uint16_t
gre_sess_new(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid, uint16_t scid, uint32_t sec,
	uint32_t *idx)
{
	uint16_t a = c->addr, ai = ctl_nat_addr(nt, c);
	uint32_t map;
	int rc;

	if (ai == TG_NATFW_NO_ADDR)
		return V_DROP(PPTP_UNTRANSLATABLE);
	rc = tg_nat_map_get_or_create(tab, IPPROTO_GRE, c->priv_ip, ccid, a,
		nt->port_lo[ai], nt->port_hi[ai], ccid, &map);
	if (rc < 0)
		return natfw_drop_of(rc);
	if (tab->maps[map].addr != a) {
		/* the server would send the call's GRE to the control
		 * connection's address, where the ID is not the client's */
		if (rc == 1)
			tg_nat_map_release(tab, map);
		return V_DROP(PPTP_UNTRANSLATABLE);
	}
	rc = tg_nat_sess_create(
		tab, map, c->rem_ip, scid, sec, TG_NATFW_TMO_GRE, idx);
	return rc != 0 ? natfw_drop_of(rc) : 0;
}

/* The call's outbound GRE session (client → server, key @p scid) of
 * control session @p c: found or made on the client's anchor mapping
 * (GRE, client, 0). 0 or a drop verdict. */
static uint16_t
gre_out_get(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t scid, uint32_t sec)
{
	uint32_t idx = gre_find(nt, tab, c, 0, scid);
	uint16_t v;

	if (idx != TG_NAT_NONE) {
		if (tg_nat_sess_at(tab, idx)->state != TG_NATFW_GRE_OUT)
			return V_DROP(PPTP_UNTRANSLATABLE); /* both IDs 0 */
		tg_nat_sess_touch(
			tab, tg_nat_sess_at(tab, idx), sec, TG_NAT_OUT2IN);
		return 0;
	}
	/* the anchor's own public ID is never on the wire; any will do */
	v = gre_sess_new(nt, tab, c, 0, scid, sec, &idx);
	if (v != 0)
		return v;
	tg_nat_sess_set_state(tab, idx, TG_NATFW_GRE_OUT);
	return 0;
}

/* The client's call ID @p ccid of control session @p c: its inbound GRE
 * session (made pending when new) → 0 and *out, or a drop verdict. */
static uint16_t
call_get(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid, uint32_t sec, uint32_t *out)
{
	*out = gre_find(nt, tab, c, ccid, 0);
	if (*out != TG_NAT_NONE) {
		if (tg_nat_sess_at(tab, *out)->state == TG_NATFW_GRE_OUT)
			return V_DROP(PPTP_UNTRANSLATABLE); /* both IDs 0 */
		return 0;
	}
	/* port preservation: the client's own ID when it is free */
	return gre_sess_new(nt, tab, c, ccid, 0, sec, out);
}

/* The inbound GRE session of the call that the client of control
 * session @p c knows as @p ccid, or TG_NAT_NONE. */
static uint32_t
call_of_private(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid)
{
	uint32_t idx = gre_find(nt, tab, c, ccid, 0);

	if (idx != TG_NAT_NONE &&
		tg_nat_sess_at(tab, idx)->state == TG_NATFW_GRE_OUT)
		return TG_NAT_NONE;
	return idx;
}

/* The call whose public ID the server names in @p pub, on control
 * session @p c: its inbound GRE session, or TG_NAT_NONE (counted). */
static uint32_t
call_of_public(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_natfw_pptp_stats *ps, const struct tg_nat_sess *c,
	uint16_t pub)
{
	uint32_t map = tg_nat_map_lookup_public(tab, c->addr, IPPROTO_GRE, pub);
	uint32_t idx = TG_NAT_NONE;

	if (map != TG_NAT_NONE && tab->maps[map].priv_ip == c->priv_ip)
		idx = call_of_private(nt, tab, c, tab->maps[map].priv_port);
	if (idx == TG_NAT_NONE)
		ps->n[TG_NATFW_PPTP_UNKNOWN_CALL]++;
	return idx;
}

/* Inbound GRE session @p idx: the call is up (the reply said so). */
static void
call_up(struct tg_nat_table *tab, struct tg_natfw_pptp_stats *ps, uint32_t idx,
	uint32_t sec)
{
	if (tg_nat_sess_at(tab, idx)->state != TG_NATFW_GRE_IN) {
		tg_nat_sess_set_state(tab, idx, TG_NATFW_GRE_IN);
		ps->n[TG_NATFW_PPTP_CALLS]++;
	}
	tg_nat_sess_set_class(tab, idx, TG_NATFW_TMO_GRE, sec);
}

uint16_t
tg_natfw_pptp_ctl_out(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_natfw_pptp_stats *ps, struct rte_ipv4_hdr *ip,
	uint32_t l4_len, uint32_t tcp, uint32_t sec)
{
	const struct tg_nat_sess *c = tg_nat_sess_at(tab, tcp);
	uint8_t *th = tcp_of(ip), *p;
	uint16_t type, v;
	uint32_t idx;

	p = pptp_msg(ps, th, l4_len, &type);
	if (p == NULL)
		return TG_V_NEXT;
	switch (type) {
	case PPTP_OCRQ:
	case PPTP_ICRP:
		v = call_get(nt, tab, c, get16(p + OFF_ID1), sec, &idx);
		if (v != 0)
			return v;
		tg_nat_sess_touch(
			tab, tg_nat_sess_at(tab, idx), sec, TG_NAT_IN2OUT);
		if (type == PPTP_ICRP && p[OFF_RESULT] == RESULT_CONN) {
			/* the client takes the server's call: both IDs known */
			v = gre_out_get(nt, tab, c, get16(p + OFF_ID2), sec);
			if (v != 0)
				return v;
			call_up(tab, ps, idx, sec);
		}
		put16_patch(p + OFF_ID1, tg_nat_sess_at(tab, idx)->pub_port,
			th + 16);
		return TG_V_NEXT;
	case PPTP_CCRQ:
		/* the client clears the call: no more inbound GRE for it; its
		 * outbound session goes with the server's
		 * Call-Disconnect-Notify (which names only the server's ID) */
		idx = call_of_private(nt, tab, c, get16(p + OFF_ID1));
		if (idx == TG_NAT_NONE) {
			ps->n[TG_NATFW_PPTP_UNKNOWN_CALL]++;
			return TG_V_NEXT;
		}
		put16_patch(p + OFF_ID1, tg_nat_sess_at(tab, idx)->pub_port,
			th + 16);
		tg_nat_sess_delete(tab, idx);
		ps->n[TG_NATFW_PPTP_CLEARED]++;
		return TG_V_NEXT;
	default:
		return TG_V_NEXT;
	}
}

uint16_t
tg_natfw_pptp_ctl_in(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_natfw_pptp_stats *ps, struct rte_ipv4_hdr *ip,
	uint32_t l4_len, uint32_t tcp, uint32_t sec)
{
	const struct tg_nat_sess *c = tg_nat_sess_at(tab, tcp);
	uint8_t *th = tcp_of(ip), *p, *peer;
	uint16_t type, v;
	uint32_t idx;

	p = pptp_msg(ps, th, l4_len, &type);
	if (p == NULL)
		return TG_V_NEXT;
	switch (type) {
	case PPTP_OCRP:
		peer = p + OFF_ID2;
		break;
	case PPTP_ICCN:
	case PPTP_WEN:
	case PPTP_SLI:
		peer = p + OFF_ID1;
		break;
	case PPTP_CDN:
		/* the server ends the call: its outbound GRE (keyed by the
		 * server's ID) goes; the inbound one, keyed by the client's,
		 * which this message does not name, times out */
		idx = gre_find(nt, tab, c, 0, get16(p + OFF_ID1));
		if (idx == TG_NAT_NONE ||
			tg_nat_sess_at(tab, idx)->state != TG_NATFW_GRE_OUT) {
			ps->n[TG_NATFW_PPTP_UNKNOWN_CALL]++;
			return TG_V_NEXT;
		}
		tg_nat_sess_delete(tab, idx);
		ps->n[TG_NATFW_PPTP_CLEARED]++;
		return TG_V_NEXT;
	default:
		return TG_V_NEXT;
	}
	idx = call_of_public(nt, tab, ps, c, get16(peer));
	if (idx == TG_NAT_NONE)
		return TG_V_NEXT;
	if (type == PPTP_OCRP) {
		if (p[OFF_RESULT] == RESULT_CONN) {
			v = gre_out_get(nt, tab, c, get16(p + OFF_ID1), sec);
			if (v != 0)
				return v;
			call_up(tab, ps, idx, sec);
		} else if (tg_nat_sess_at(tab, idx)->state ==
			   TG_NATFW_GRE_PENDING) {
			/* refused: nothing will use the public ID */
			put16_patch(peer, tg_nat_sess_at(tab, idx)->priv_port,
				th + 16);
			tg_nat_sess_delete(tab, idx);
			ps->n[TG_NATFW_PPTP_CLEARED]++;
			return TG_V_NEXT;
		}
	}
	put16_patch(peer, tg_nat_sess_at(tab, idx)->priv_port, th + 16);
	return TG_V_NEXT;
}

/* The appliance's call @p hcid with the server of dynamic entry @p c: a
 * dynamic entry for its inbound GRE (the appliance's address, @p hcid,
 * the server), untranslated. 0 or a drop verdict. */
static uint16_t
local_call(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_natfw_pptp_stats *ps, const struct tg_nat_sess *c,
	uint16_t hcid, uint32_t sec)
{
	uint32_t idx = gre_find(nt, tab, c, hcid, 0), map;
	int rc;

	if (idx != TG_NAT_NONE) {
		tg_nat_sess_set_class(tab, idx, TG_NATFW_TMO_GRE, sec);
		return 0;
	}
	/* its own ID: a translation that holds it is in the way */
	rc = tg_nat_map_get_or_create(tab, IPPROTO_GRE, c->priv_ip, hcid,
		c->addr, hcid, hcid, hcid, &map);
	if (rc == -EADDRINUSE)
		return V_DROP(PORT_IN_USE);
	if (rc < 0)
		return natfw_drop_of(rc);
	rc = tg_nat_sess_create_flags(tab, map, c->rem_ip, 0, sec,
		TG_NATFW_TMO_GRE, TG_NAT_SF_LOCAL, &idx);
	if (rc == -ENOSPC)
		return V_DROP(DYNAMIC_FULL);
	if (rc < 0)
		return natfw_drop_of(rc);
	tg_nat_sess_set_state(tab, idx, TG_NATFW_GRE_IN);
	ps->n[TG_NATFW_PPTP_CALLS]++;
	return 0;
}

uint16_t
tg_natfw_pptp_local(const struct tg_natfw_table *nt, struct tg_nat_table *tab,
	struct tg_natfw_pptp_stats *ps, struct rte_ipv4_hdr *ip,
	uint32_t l4_len, uint32_t tcp, bool out, uint32_t sec)
{
	const struct tg_nat_sess *c = tg_nat_sess_at(tab, tcp);
	uint8_t *p;
	uint16_t type;
	uint32_t idx;

	p = pptp_msg(ps, tcp_of(ip), l4_len, &type);
	if (p == NULL)
		return TG_V_NEXT;
	if (out && type == PPTP_ICRP && p[OFF_RESULT] == RESULT_CONN)
		return local_call(nt, tab, ps, c, get16(p + OFF_ID1), sec);
	if (!out && type == PPTP_OCRP && p[OFF_RESULT] == RESULT_CONN)
		return local_call(nt, tab, ps, c, get16(p + OFF_ID2), sec);
	if (out && type == PPTP_CCRQ) {
		idx = gre_find(nt, tab, c, get16(p + OFF_ID1), 0);
		if (idx != TG_NAT_NONE &&
			(tg_nat_sess_at(tab, idx)->flags & TG_NAT_SF_LOCAL)) {
			tg_nat_sess_delete(tab, idx);
			ps->n[TG_NATFW_PPTP_CLEARED]++;
		}
	}
	return TG_V_NEXT;
}

/* ---- explain: the control messages above, read-only --------------------- */

/* gre_find() off the writer: the GRE session copied into @p s. */
static bool
x_gre_find(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid, uint16_t scid,
	struct tg_nat_sess *s)
{
	struct tg_nat_key k;

	gre_key(&k, c->priv_ip, ccid, c->rem_ip, scid);
	return natfw_find(nt, tab, TG_NAT_IN2OUT, &k, s);
}

/* gre_sess_new(): the public ID the new GRE session of the client's
 * @p ccid would have (*pub), or the drop. The table's room is of the
 * moment: a message that would make two sessions (a call up at once)
 * is not refused here for want of room for the second. */
static uint16_t
x_gre_sess_new(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t ccid, uint16_t *pub)
{
	uint16_t a = c->addr, ai = ctl_nat_addr(nt, c);
	struct tg_nat_map m;
	int rc;

	if (ai == TG_NATFW_NO_ADDR)
		return V_DROP(PPTP_UNTRANSLATABLE);
	rc = tg_nat_map_peek(tab, IPPROTO_GRE, c->priv_ip, ccid, a,
		nt->port_lo[ai], nt->port_hi[ai], ccid, &m);
	if (rc < 0)
		return natfw_drop_of(rc);
	if (m.addr != a)
		return V_DROP(PPTP_UNTRANSLATABLE);
	*pub = m.pub_port;
	rc = tg_nat_sess_create_peek(tab, c->priv_ip, false);
	return rc != 0 ? natfw_drop_of(rc) : 0;
}

/* gre_out_get(): 0 (the call's outbound GRE session found or made:
 * *made) or the drop. */
static uint16_t
x_gre_out_get(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t scid, bool *made)
{
	struct tg_nat_sess s;
	uint16_t pub;

	if (x_gre_find(nt, tab, c, 0, scid, &s))
		return s.state != TG_NATFW_GRE_OUT ? V_DROP(PPTP_UNTRANSLATABLE)
						   : 0;
	*made = true;
	return x_gre_sess_new(nt, tab, c, 0, &pub);
}

/* call_of_private(): the inbound GRE session of the client's @p ccid. */
static bool
x_call_of_private(const struct tg_natfw_table *nt,
	const struct tg_nat_table *tab, const struct tg_nat_sess *c,
	uint16_t ccid, struct tg_nat_sess *s)
{
	return x_gre_find(nt, tab, c, ccid, 0, s) &&
	       s->state != TG_NATFW_GRE_OUT;
}

/* ctl_out(): the client's messages. */
static uint16_t
x_ctl_out(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint8_t *th, uint8_t *p, const struct tg_nat_sess *c,
	struct tg_natfw_pptp_why *w)
{
	struct tg_nat_sess s;
	uint16_t v;

	w->priv_id = get16(p + OFF_ID1);
	switch (w->type) {
	case PPTP_OCRQ:
	case PPTP_ICRP:
		/* call_get() */
		w->act = TG_NATFW_PPTP_ACT_CALL;
		if (x_gre_find(nt, tab, c, w->priv_id, 0, &s)) {
			if (s.state == TG_NATFW_GRE_OUT)
				return V_DROP(PPTP_UNTRANSLATABLE);
			w->pub_id = s.pub_port;
		} else {
			w->made = true;
			v = x_gre_sess_new(nt, tab, c, w->priv_id, &w->pub_id);
			if (v != 0)
				return v;
		}
		if (w->type == PPTP_ICRP && p[OFF_RESULT] == RESULT_CONN) {
			w->peer_id = get16(p + OFF_ID2);
			v = x_gre_out_get(nt, tab, c, w->peer_id, &w->made);
			if (v != 0)
				return v;
			w->act = TG_NATFW_PPTP_ACT_UP;
		}
		put16_patch(p + OFF_ID1, w->pub_id, th + 16);
		return TG_V_NEXT;
	case PPTP_CCRQ:
		if (!x_call_of_private(nt, tab, c, w->priv_id, &s)) {
			w->act = TG_NATFW_PPTP_ACT_UNKNOWN;
			return TG_V_NEXT;
		}
		w->act = TG_NATFW_PPTP_ACT_CLEAR;
		w->pub_id = s.pub_port;
		put16_patch(p + OFF_ID1, w->pub_id, th + 16);
		return TG_V_NEXT;
	default:
		w->priv_id = 0;
		return TG_V_NEXT;
	}
}

/* ctl_in(): the server's messages. */
static uint16_t
x_ctl_in(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint8_t *th, uint8_t *p, const struct tg_nat_sess *c,
	struct tg_natfw_pptp_why *w)
{
	struct tg_nat_sess s;
	struct tg_nat_map m;
	uint8_t *peer;
	uint16_t v;

	switch (w->type) {
	case PPTP_OCRP:
		peer = p + OFF_ID2;
		w->peer_id = get16(p + OFF_ID1);
		break;
	case PPTP_ICCN:
	case PPTP_WEN:
	case PPTP_SLI:
		peer = p + OFF_ID1;
		break;
	case PPTP_CDN:
		w->peer_id = get16(p + OFF_ID1);
		w->act = x_gre_find(nt, tab, c, 0, w->peer_id, &s) &&
					 s.state == TG_NATFW_GRE_OUT
				 ? TG_NATFW_PPTP_ACT_CLEAR_OUT
				 : TG_NATFW_PPTP_ACT_UNKNOWN;
		return TG_V_NEXT;
	default:
		return TG_V_NEXT;
	}
	/* call_of_public() */
	w->pub_id = get16(peer);
	if (tg_nat_map_find_public(tab, c->addr, IPPROTO_GRE, w->pub_id, &m) !=
			0 ||
		m.priv_ip != c->priv_ip ||
		!x_call_of_private(nt, tab, c, m.priv_port, &s)) {
		w->act = TG_NATFW_PPTP_ACT_UNKNOWN;
		return TG_V_NEXT;
	}
	w->priv_id = s.priv_port;
	w->act = TG_NATFW_PPTP_ACT_PEER;
	if (w->type == PPTP_OCRP) {
		if (p[OFF_RESULT] == RESULT_CONN) {
			v = x_gre_out_get(nt, tab, c, w->peer_id, &w->made);
			if (v != 0)
				return v;
			w->act = TG_NATFW_PPTP_ACT_UP;
		} else if (s.state == TG_NATFW_GRE_PENDING) {
			w->act = TG_NATFW_PPTP_ACT_REFUSED;
		}
	}
	put16_patch(peer, w->priv_id, th + 16);
	return TG_V_NEXT;
}

/* local_call() for the appliance's call @p hcid. */
static uint16_t
x_local_call(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	const struct tg_nat_sess *c, uint16_t hcid, struct tg_natfw_pptp_why *w)
{
	struct tg_nat_sess s;
	struct tg_nat_map m;
	int rc;

	w->act = TG_NATFW_PPTP_ACT_LOCAL;
	w->priv_id = hcid;
	if (x_gre_find(nt, tab, c, hcid, 0, &s))
		return TG_V_NEXT;
	w->made = true;
	rc = tg_nat_map_peek(tab, IPPROTO_GRE, c->priv_ip, hcid, c->addr, hcid,
		hcid, hcid, &m);
	if (rc == -EADDRINUSE)
		return V_DROP(PORT_IN_USE);
	if (rc < 0)
		return natfw_drop_of(rc);
	rc = tg_nat_sess_create_peek(tab, c->priv_ip, true);
	if (rc == -ENOSPC)
		return V_DROP(DYNAMIC_FULL);
	return rc < 0 ? natfw_drop_of(rc) : TG_V_NEXT;
}

/* tg_natfw_pptp_local(). */
static uint16_t
x_local(const struct tg_natfw_table *nt, const struct tg_nat_table *tab,
	uint8_t *p, const struct tg_nat_sess *c, bool out,
	struct tg_natfw_pptp_why *w)
{
	struct tg_nat_sess s;

	if (out && w->type == PPTP_ICRP && p[OFF_RESULT] == RESULT_CONN)
		return x_local_call(nt, tab, c, get16(p + OFF_ID1), w);
	if (!out && w->type == PPTP_OCRP && p[OFF_RESULT] == RESULT_CONN)
		return x_local_call(nt, tab, c, get16(p + OFF_ID2), w);
	if (out && w->type == PPTP_CCRQ) {
		w->priv_id = get16(p + OFF_ID1);
		w->act = x_gre_find(nt, tab, c, w->priv_id, 0, &s) &&
					 (s.flags & TG_NAT_SF_LOCAL)
				 ? TG_NATFW_PPTP_ACT_CLEAR
				 : TG_NATFW_PPTP_ACT_UNKNOWN;
	}
	return TG_V_NEXT;
}

uint16_t
tg_natfw_pptp_explain(const struct tg_natfw_table *nt,
	const struct tg_nat_table *tab, struct rte_ipv4_hdr *ip,
	uint32_t l4_len, const struct tg_nat_sess *c,
	enum tg_natfw_pptp_side side, struct tg_natfw_pptp_why *w)
{
	uint8_t *th = tcp_of(ip), *p = NULL;
	uint16_t type;

	memset(w, 0, sizeof(*w));
	if (pptp_parse(th, l4_len, &p, &type) != TG_NATFW_PPTP_MESSAGES)
		return TG_V_NEXT;
	w->type = (uint8_t)type;
	switch (side) {
	case TG_NATFW_PPTP_CLIENT:
		return x_ctl_out(nt, tab, th, p, c, w);
	case TG_NATFW_PPTP_SERVER:
		return x_ctl_in(nt, tab, th, p, c, w);
	default:
		return x_local(
			nt, tab, p, c, side == TG_NATFW_PPTP_LOCAL_OUT, w);
	}
}
