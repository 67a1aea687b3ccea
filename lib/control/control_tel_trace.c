/* SPDX-License-Identifier: BSD-3-Clause
 * /tollgate/trace, /tollgate/trace/show and /tollgate/capture: start and
 * stop a packet trace or a drop capture (pipelines/tg_trace.h) and read
 * what the trace recorded, one packet per entry, its steps in order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_tcp.h>

#include "control_tel.h"
#include "tg_pipeline.h"
#include "tg_trace.h"

/* The pipeline's internals stay in pipelines/: this file reads the trace
 * through tg_trace.h only. */

/* Interface name → port id, from the running snapshot (lock held). */
static int
iface_id(const char *name, void *arg)
{
	const struct tg_tables *t = arg;
	uint16_t i;

	for (i = 0; t != NULL && i < t->cfg->n_ifaces; i++)
		if (strcmp(t->cfg->ifaces[i].name, name) == 0)
			return tg_tel_ctl->env.port_id[t->cfg->ifaces[i].port];
	return -1;
}

/* Port id → interface name ("host" for the host port). */
static const char *
iface_name(const struct tg_tables *t, uint16_t port)
{
	if (port == TG_TRACE_FROM_HOST)
		return "host";
	if (t != NULL && port < RTE_MAX_ETHPORTS &&
		t->forward->ifaces[port].configured)
		return t->forward->ifaces[port].name;
	return "-";
}

static const char *
path_name(uint8_t p)
{
	return p < TG_PATH__COUNT ? tg_paths[p].name : "?";
}

static const char *
proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_GRE:
		return "gre";
	default:
		snprintf(buf, len, "proto %u", p);
		return buf;
	}
}

/* "tcp 10.0.0.2:40000 -> 198.51.100.7:80 [S]", as tollgatectl explain
 * takes a packet. */
static void
packet_text(const struct tg_trace_rec *r, char *buf, size_t len)
{
	static const char fl[] = "FSRPAUEC";
	char src[16], dst[16], pb[16], flags[12];
	const char *pn = proto_name(r->m.proto, pb, sizeof(pb));
	unsigned int k, j = 0;

	tg_tel_ip_str(r->m.src, src, sizeof(src));
	tg_tel_ip_str(r->m.dst, dst, sizeof(dst));
	if (r->m.path == TG_PATH_ARP) {
		/* tcpdump's words: sender and target, the operation */
		if (r->m.icmp_type == 1)
			snprintf(buf, len, "arp who-has %s tell %s", dst, src);
		else if (r->m.icmp_type == 2)
			snprintf(buf, len, "arp reply %s to %s", src, dst);
		else
			snprintf(buf, len, "arp op %u %s -> %s", r->m.icmp_type,
				src, dst);
	} else if (r->m.proto == 0 && r->m.len == 0 && r->m.src == 0 &&
		   r->m.dst == 0) {
		snprintf(buf, len, "a frame without an IPv4 header");
	} else if (r->m.proto == IPPROTO_TCP || r->m.proto == IPPROTO_UDP) {
		for (k = 0; k < 8; k++)
			if (r->m.tcp_flags & (1u << k))
				flags[j++] = fl[k];
		flags[j] = '\0';
		snprintf(buf, len, "%s %s:%u -> %s:%u%s%s%s", pn, src,
			r->m.sport, dst, r->m.dport,
			r->m.proto == IPPROTO_TCP ? " [" : "",
			r->m.proto == IPPROTO_TCP ? flags : "",
			r->m.proto == IPPROTO_TCP ? "]" : "");
	} else if (r->m.proto == IPPROTO_ICMP) {
		snprintf(buf, len, "icmp %s -> %s type %u", src, dst,
			r->m.icmp_type);
	} else {
		snprintf(buf, len, "%s %s -> %s", pn, src, dst);
	}
}

static const char *
verdict_kind(uint16_t v)
{
	if (TG_V_IS_DROP(v))
		return "drop";
	switch (TG_V_KIND(v)) {
	case TG_V_NEXT:
		return "next";
	case TG_V_TX:
		return "tx";
	case TG_V_STOLEN:
		return "stolen";
	case TG_V_GOTO_BASE:
		return "goto";
	default:
		return "?";
	}
}

static const char *
kind_name(uint8_t k)
{
	static const char *const n[] = {
		[TG_TRACE_MARK] = "rx",
		[TG_TRACE_STAGE] = "stage",
		[TG_TRACE_EMIT] = "emit",
		[TG_TRACE_TX] = "tx",
		[TG_TRACE_HOST] = "host",
		[TG_TRACE_DROP] = "drop",
	};

	return k < RTE_DIM(n) && n[k] != NULL ? n[k] : "?";
}

/* One step of a packet: what happened, where, and (a trace's, @p t0 not
 * 0) how long after RX. */
static struct rte_tel_data *
step_dict(const struct tg_tables *t, const struct tg_trace_rec *r, uint64_t t0,
	const char *why, size_t *used)
{
	struct tg_tel_sized s = {rte_tel_data_alloc(), 0};
	char buf[48];

	if (s.d == NULL)
		return NULL;
	rte_tel_data_start_dict(s.d);
	tg_tel_put_str(&s, "what", kind_name(r->kind));
	/* nanoseconds since the packet was marked at RX */
	if (t0 != 0)
		tg_tel_put_u64(&s, "ns",
			(r->tsc - t0) * 1000000000ull / rte_get_tsc_hz());
	switch (r->kind) {
	case TG_TRACE_STAGE:
	case TG_TRACE_EMIT:
		if (r->s.mode != TG_MODE_NONE)
			snprintf(buf, sizeof(buf), "%s(%s)",
				tg_stage_name(r->stage),
				tg_mode_name(r->s.mode));
		else
			snprintf(buf, sizeof(buf), "%s",
				tg_stage_name(r->stage));
		tg_tel_put_str(&s, "stage", buf);
		tg_tel_put_str(&s, "verdict", verdict_kind(r->s.verdict));
		tg_tel_put_str(&s, "path", path_name(r->s.path));
		if (TG_V_KIND(r->s.verdict) == TG_V_GOTO_BASE &&
			!TG_V_IS_DROP(r->s.verdict))
			tg_tel_put_str(&s, "to",
				TG_V_GOTO_STAGE(r->s.verdict) == TG_STAGE_NONE
					? "start"
					: tg_stage_name(TG_V_GOTO_STAGE(
						  r->s.verdict)));
		if (TG_V_IS_DROP(r->s.verdict))
			tg_tel_put_str(&s, "reason",
				tg_drop_name(r->s.drop) != NULL
					? tg_drop_name(r->s.drop)
					: "?");
		tg_tel_put_u64(&s, "generation", r->s.gen);
		if (why != NULL && why[0] != '\0')
			tg_tel_put_str(&s, "why", why);
		break;
	case TG_TRACE_TX:
	case TG_TRACE_HOST:
		tg_tel_put_str(&s, "interface",
			r->kind == TG_TRACE_HOST ? "host"
						 : iface_name(t, r->t.port));
		tg_tel_put_str(&s, "path", path_name(r->t.path));
		break;
	case TG_TRACE_DROP:
		tg_tel_put_str(&s, "reason",
			tg_drop_name(r->s.drop) != NULL
				? tg_drop_name(r->s.drop)
				: "?");
		tg_tel_put_str(&s, "path", path_name(r->s.path));
		break;
	default:
		break;
	}
	*used += s.used + 16;
	return s.d;
}

/* The packet line of a MARK record, into @p s. */
static void
put_packet(struct tg_tel_sized *s, const struct tg_tables *t,
	const struct tg_trace_rec *r)
{
	char buf[96];

	packet_text(r, buf, sizeof(buf));
	tg_tel_put_str(s, "packet", buf);
	tg_tel_put_u64(s, "length", r->m.len);
	tg_tel_put_str(s, "in", iface_name(t, r->m.port));
	tg_tel_put_str(s, "path", path_name(r->m.path));
}

/* A packet's records (all with one id, in time order) as one entry. */
static struct rte_tel_data *
packet_dict(const struct tg_pipeline *pl, const struct tg_tables *t,
	const struct tg_trace_rec *r, size_t n, size_t *used)
{
	struct tg_tel_sized s = {rte_tel_data_alloc(), 0};
	struct rte_tel_data *steps;
	const char *end = "in flight";
	char buf[96], key[8];
	uint64_t t0 = r[0].tsc;
	size_t i, k = 0;

	if (s.d == NULL)
		return NULL;
	rte_tel_data_start_dict(s.d);
	if (r[0].kind == TG_TRACE_MARK) {
		put_packet(&s, t, &r[0]);
	} else {
		/* its RX record did not fit a buffer */
		tg_tel_put_str(&s, "packet", "?");
	}
	steps = rte_tel_data_alloc();
	if (steps != NULL) {
		rte_tel_data_start_dict(steps);
		for (i = 0; i < n; i++) {
			struct rte_tel_data *x;

			if (r[i].kind == TG_TRACE_MARK)
				continue;
			/* The drop a stage's verdict led to: already said
			 * by that step. */
			if (i > 0 && r[i].kind == TG_TRACE_DROP &&
				(r[i - 1].kind == TG_TRACE_STAGE ||
					r[i - 1].kind == TG_TRACE_EMIT) &&
				TG_V_IS_DROP(r[i - 1].s.verdict) &&
				r[i - 1].s.drop == r[i].s.drop)
				continue;
			x = step_dict(t, &r[i], t0 != 0 ? t0 : 1,
				tg_pipeline_trace_why(pl, &r[i]), used);
			if (x == NULL)
				break;
			snprintf(key, sizeof(key), "%zu", k++);
			rte_tel_data_add_dict_container(steps, key, x, 0);
		}
		rte_tel_data_add_dict_container(s.d, "steps", steps, 0);
	}
	/* How it ended: the last record says (a TX drop after TX too). */
	switch (r[n - 1].kind) {
	case TG_TRACE_TX:
		snprintf(buf, sizeof(buf), "tx %s",
			iface_name(t, r[n - 1].t.port));
		end = buf;
		break;
	case TG_TRACE_HOST:
		end = "host";
		break;
	case TG_TRACE_DROP:
		snprintf(buf, sizeof(buf), "drop %s",
			tg_drop_name(r[n - 1].s.drop) != NULL
				? tg_drop_name(r[n - 1].s.drop)
				: "?");
		end = buf;
		break;
	case TG_TRACE_STAGE:
	case TG_TRACE_EMIT:
		if (TG_V_KIND(r[n - 1].s.verdict) == TG_V_STOLEN)
			end = "held by a stage";
		break;
	default:
		break;
	}
	tg_tel_put_str(&s, "end", end);
	*used += s.used + 32;
	return s.d;
}

static void
status_dict(struct rte_tel_data *d, const struct tg_pipeline *pl)
{
	struct tg_trace_status st;

	tg_pipeline_trace_status(pl, &st);
	rte_tel_data_add_dict_u64(d, "session", st.session);
	rte_tel_data_add_dict_string(d, "state",
		st.marking  ? "marking"
		: st.active ? "recording"
			    : "stopped");
	rte_tel_data_add_dict_string(d, "filter", st.filter);
	rte_tel_data_add_dict_u64(d, "count", st.count);
	rte_tel_data_add_dict_u64(d, "marked", st.marked);
	rte_tel_data_add_dict_u64(d, "in_flight", st.in_flight);
	rte_tel_data_add_dict_u64(d, "records", st.records);
	rte_tel_data_add_dict_u64(d, "records_lost", st.lost);
}

/* "start [COUNT] [FILTER...]" */
static int
trace_start(struct rte_tel_data *d, struct tg_pipeline *pl,
	const struct tg_tables *t, const char *args)
{
	struct tg_trace_filter f;
	unsigned long count = TG_TRACE_DEFAULT_PKTS;
	char err[160], msg[200];
	char *end;
	int rc;

	while (*args == ' ')
		args++;
	if (*args >= '0' && *args <= '9') {
		count = strtoul(args, &end, 10);
		if ((*end != '\0' && *end != ' ') || count == 0 ||
			count > TG_TRACE_MAX_PKTS) {
			snprintf(msg, sizeof(msg),
				"trace start: COUNT must be 1-%u",
				TG_TRACE_MAX_PKTS);
			return tg_tel_reply_error(d, msg);
		}
		args = end;
	}
	while (*args == ' ')
		args++;
	if (tg_trace_filter_parse(args, &f, iface_id, (void *)(uintptr_t)t, err,
		    sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "trace filter: %s", err);
		return tg_tel_reply_error(d, msg);
	}
	rc = tg_pipeline_trace_start(pl, &f, args, (uint32_t)count);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "trace start: %s", strerror(-rc));
		return tg_tel_reply_error(d, msg);
	}
	rte_tel_data_start_dict(d);
	status_dict(d, pl);
	return 0;
}

/* /tollgate/trace/show[,START[,COUNT]]: packets by trace id. */
static int
trace_show(struct rte_tel_data *d, struct tg_pipeline *pl,
	const struct tg_tables *t, const char *params)
{
	struct tg_trace_rec *recs;
	struct rte_tel_data *pk;
	uint32_t start, count, shown = 0;
	size_t n, i, j, used = 600;
	char key[8];

	if (tg_tel_parse_page(params, &start, &count) < 0)
		return tg_tel_reply_error(d,
			"/tollgate/trace/show: parameters START[,COUNT] "
			"(packet ids)");
	if (start == 0)
		start = 1;
	if (count > 50)
		count = 50;
	if (tg_pipeline_trace_collect(pl, &recs, &n) < 0)
		return tg_tel_reply_error(d, "out of memory");
	rte_tel_data_start_dict(d);
	status_dict(d, pl);
	pk = rte_tel_data_alloc();
	if (pk == NULL) {
		free(recs);
		return 0;
	}
	rte_tel_data_start_dict(pk);
	for (i = 0; i < n; i = j) {
		struct rte_tel_data *x;
		size_t before = used;

		for (j = i + 1; j < n && recs[j].id == recs[i].id; j++)
			;
		if (recs[i].id < start)
			continue;
		/* about 170 bytes a step: leave a page before 16 KiB */
		if (shown == count || used + (j - i) * 170 > PAGE_BUDGET) {
			rte_tel_data_add_dict_u64(d, "next", recs[i].id);
			break;
		}
		x = packet_dict(pl, t, &recs[i], j - i, &used);
		if (x == NULL)
			break;
		snprintf(key, sizeof(key), "%u", recs[i].id);
		rte_tel_data_add_dict_container(pk, key, x, 0);
		RTE_SET_USED(before);
		shown++;
	}
	rte_tel_data_add_dict_container(d, "packets", pk, 0);
	free(recs);
	return 0;
}

int
tg_tel_trace(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const char *p = params != NULL ? params : "";
	struct tg_pipeline *pl;
	const struct tg_tables *t;
	int rc = 0;

	pthread_mutex_lock(&tg_tel_ctl->lock);
	pl = tg_tel_ctl->pl;
	t = tg_tel_ctl->slot.cur;
	if (pl == NULL) {
		rc = tg_tel_reply_error(d, "the pipeline is not running");
		goto out;
	}
	if (strcmp(cmd, "/tollgate/trace/show") == 0) {
		rc = trace_show(d, pl, t, p);
		goto out;
	}
	while (*p == ' ')
		p++;
	if (strncmp(p, "start", 5) == 0 && (p[5] == '\0' || p[5] == ' ')) {
		rc = trace_start(d, pl, t, p + 5);
	} else if (strcmp(p, "stop") == 0) {
		tg_pipeline_trace_stop(pl);
		rte_tel_data_start_dict(d);
		status_dict(d, pl);
	} else if (*p == '\0') {
		rte_tel_data_start_dict(d);
		status_dict(d, pl);
	} else {
		rc = tg_tel_reply_error(d,
			"/tollgate/trace: parameters: none (status), "
			"\"start [COUNT] [FILTER]\" or \"stop\"");
	}
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}

/* ---- /tollgate/explain -------------------------------------------------- */

/* "A.B.C.D" or "A.B.C.D:PORT" */
static int
endpoint(const char *w, uint32_t *a, uint16_t *port, bool *has_port)
{
	unsigned int b[4], p = 0;
	char tail;
	int n;

	n = sscanf(
		w, "%u.%u.%u.%u:%u%c", &b[0], &b[1], &b[2], &b[3], &p, &tail);
	if (n != 4 && n != 5)
		return -EINVAL;
	if (b[0] > 255 || b[1] > 255 || b[2] > 255 || b[3] > 255 || p > 65535)
		return -EINVAL;
	if (n == 4 && strchr(w, ':') != NULL)
		return -EINVAL;
	*a = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	*port = (uint16_t)p;
	*has_port = n == 5;
	return 0;
}

static int
number(const char *w, unsigned long max, unsigned long *v)
{
	char *end;

	if (w == NULL || *w < '0' || *w > '9')
		return -EINVAL;
	*v = strtoul(w, &end, 10);
	return *end == '\0' && *v <= max ? 0 : -EINVAL;
}

/* TCP flags by letter, as tcpdump prints them: FSRPAUEC. */
static int
tcp_flags(const char *w, uint8_t *f)
{
	static const char letters[] = "FSRPAUEC";
	const char *c;

	*f = 0;
	for (; *w != '\0'; w++) {
		c = strchr(letters, *w);
		if (c == NULL)
			return -EINVAL;
		*f |= (uint8_t)(1u << (c - letters));
	}
	return 0;
}

#define EXPLAIN_USAGE                                                          \
	"explain: in IFACE|from host PROTO SRC[:PORT] -> DST[:PORT] [flags "   \
	"FSRPAUEC] [ttl N] [type N] [code N] [length N] [frag OFF] [mf] [l4 "  \
	"N] "                                                                  \
	"[call N] [esp|ah SPI], or: in IFACE|from host frame HEX [len N]"

static const struct {
	const char *name;
	uint8_t proto;
} explain_protos[] = {{"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP},
	{"icmp", IPPROTO_ICMP}, {"esp", IPPROTO_ESP}, {"ah", IPPROTO_AH},
	{"gre", IPPROTO_GRE}};

/* "tcp 10.0.0.2:40000 -> 16.0.0.1:80" from word @p i of @p w. Returns the
 * index of its last word, or -EINVAL. */
static int
explain_tuple(char **w, int n, int i, struct tg_explain_req *q, char *err,
	size_t errlen)
{
	unsigned long v;
	bool sp, dp;
	size_t j;

	for (j = 0; j < RTE_DIM(explain_protos); j++)
		if (strcmp(w[i], explain_protos[j].name) == 0)
			break;
	if (j < RTE_DIM(explain_protos)) {
		q->proto = explain_protos[j].proto;
	} else {
		if (i + 1 >= n || number(w[++i], 255, &v) < 0) {
			snprintf(err, errlen, "proto: a number 0-255");
			return -EINVAL;
		}
		q->proto = (uint8_t)v;
	}
	/* "->" as the issue writes it, or "to" (no quoting in a shell) */
	if (i + 3 >= n ||
		(strcmp(w[i + 2], "->") != 0 && strcmp(w[i + 2], "to") != 0) ||
		endpoint(w[i + 1], &q->src, &q->sport, &sp) < 0 ||
		endpoint(w[i + 3], &q->dst, &q->dport, &dp) < 0) {
		snprintf(err, errlen,
			"SRC[:PORT] -> DST[:PORT] expected after the protocol");
		return -EINVAL;
	}
	if ((sp || dp) && q->proto != IPPROTO_TCP && q->proto != IPPROTO_UDP) {
		snprintf(err, errlen, "ports only with tcp or udp");
		return -EINVAL;
	}
	return i + 3;
}

/* An option word and its value ("flags S", "ttl 1", ...): 0, or -EINVAL
 * when @p name is none or its value is bad. */
static int
explain_option(const char *name, const char *val, struct tg_explain_req *q)
{
	unsigned long v;

	if (val == NULL)
		return -EINVAL;
	if (strcmp(name, "flags") == 0)
		return tcp_flags(val, &q->tcp_flags);
	if (strcmp(name, "ttl") == 0 && number(val, 255, &v) == 0)
		q->ttl = (uint8_t)v;
	else if (strcmp(name, "type") == 0 && number(val, 255, &v) == 0)
		q->icmp_type = (uint8_t)v;
	else if (strcmp(name, "code") == 0 && number(val, 255, &v) == 0)
		q->icmp_code = (uint8_t)v;
	else if (strcmp(name, "length") == 0 && number(val, 1400, &v) == 0)
		q->payload = (uint16_t)v;
	else if (strcmp(name, "frag") == 0 && number(val, 65528, &v) == 0 &&
		 v % 8 == 0)
		q->frag_off = (uint16_t)v;
	else if (strcmp(name, "l4") == 0 && number(val, 19, &v) == 0 && v > 0)
		q->l4_keep = (uint8_t)v;
	else if (strcmp(name, "call") == 0 && number(val, 65535, &v) == 0) {
		q->gre_pptp = true;
		q->gre_call = (uint16_t)v;
	} else if ((strcmp(name, "esp") == 0 || strcmp(name, "ah") == 0) &&
		   number(val, UINT32_MAX, &v) == 0) {
		q->esp = name[0] == 'e';
		q->ah = !q->esp;
		q->spi = (uint32_t)v;
	} else
		return -EINVAL;
	return 0;
}

/* A frame's bytes in hex ("45000054..."): into @p f (room for @p cap),
 * their number in *len; -EINVAL if not hex, odd or too long. */
static int
hex_bytes(const char *w, uint8_t *f, size_t cap, uint16_t *len)
{
	size_t i, n = strlen(w);

	if (n == 0 || n % 2 != 0 || n / 2 > cap)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int c = w[i], d = c >= '0' && c <= '9'	 ? c - '0'
				  : c >= 'a' && c <= 'f' ? c - 'a' + 10
				  : c >= 'A' && c <= 'F' ? c - 'A' + 10
							 : -1;

		if (d < 0)
			return -EINVAL;
		if (i % 2 == 0)
			f[i / 2] = (uint8_t)(d << 4);
		else
			f[i / 2] |= (uint8_t)d;
	}
	*len = (uint16_t)(n / 2);
	return 0;
}

/* Parse "in lan0 tcp 192.168.1.10:40000 -> 198.51.100.7:80 flags S", or
 * "in lan0 frame 0200...0800450000... [len 1514]" into @p q; a frame's
 * bytes go to @p f (room for @p cap). */
static int
explain_parse(const struct tg_tables *t, const char *params,
	struct tg_explain_req *q, uint8_t *f, size_t cap, char *err,
	size_t errlen)
{
	/* a request is at most the telemetry socket's 1,024 bytes */
	char buf[1024], *w[24], *save = NULL, *tok;
	bool has_in = false, has_proto = false, other = false;
	unsigned long v;
	int n = 0, i, id;

	memset(q, 0, sizeof(*q));
	if (params == NULL || strlen(params) >= sizeof(buf)) {
		snprintf(err, errlen, "%s", EXPLAIN_USAGE);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", params);
	for (tok = strtok_r(buf, " ", &save); tok != NULL && n < 24;
		tok = strtok_r(NULL, " ", &save))
		w[n++] = tok;
	for (i = 0; i < n; i++) {
		bool proto = strcmp(w[i], "proto") == 0;
		size_t j;

		for (j = 0; !proto && j < RTE_DIM(explain_protos); j++)
			proto = strcmp(w[i], explain_protos[j].name) == 0;
		if (strcmp(w[i], "in") == 0 && i + 1 < n) {
			id = iface_id(w[++i], (void *)(uintptr_t)t);
			if (id < 0) {
				snprintf(err, errlen,
					"in %s: no such interface", w[i]);
				return -EINVAL;
			}
			q->rx_if = (uint16_t)id;
			has_in = true;
		} else if (strcmp(w[i], "from") == 0 && i + 1 < n &&
			   strcmp(w[i + 1], "host") == 0) {
			i++;
			q->rx_if = TG_TRACE_FROM_HOST;
			has_in = true;
		} else if (proto && !has_proto) {
			i = explain_tuple(w, n, i, q, err, errlen);
			if (i < 0)
				return -EINVAL;
			has_proto = true;
		} else if (strcmp(w[i], "frame") == 0 && i + 1 < n &&
			   q->frame == NULL) {
			if (hex_bytes(w[++i], f, cap, &q->frame_len) < 0) {
				snprintf(err, errlen,
					"frame: the frame's bytes in hex, "
					"Ethernet header first (at most %zu)",
					cap);
				return -EINVAL;
			}
			q->frame = f;
		} else if (strcmp(w[i], "len") == 0 && i + 1 < n) {
			if (number(w[++i], UINT16_MAX, &v) < 0) {
				snprintf(err, errlen,
					"len: the frame's length in bytes");
				return -EINVAL;
			}
			q->wire_len = (uint16_t)v;
		} else if (strcmp(w[i], "mf") == 0) {
			q->more_frags = true;
			other = true;
		} else if (explain_option(
				   w[i], i + 1 < n ? w[i + 1] : NULL, q) == 0) {
			i++;
			other = true;
		} else {
			snprintf(
				err, errlen, "\"%s\": %s", w[i], EXPLAIN_USAGE);
			return -EINVAL;
		}
	}
	if (q->gre_pptp && q->proto != IPPROTO_GRE) {
		snprintf(err, errlen, "call: only with gre (PPTP's)");
		return -EINVAL;
	}
	if (q->frame != NULL && (has_proto || other)) {
		snprintf(err, errlen,
			"frame: the frame says it all; only in IFACE|from host "
			"and len N go with it");
		return -EINVAL;
	}
	if (q->frame != NULL && q->wire_len != 0 &&
		q->wire_len < q->frame_len) {
		snprintf(err, errlen,
			"len %u: shorter than the frame's %u bytes",
			q->wire_len, q->frame_len);
		return -EINVAL;
	}
	if (q->frame == NULL && q->wire_len != 0) {
		snprintf(err, errlen, "len: only with frame");
		return -EINVAL;
	}
	if (!has_in || (!has_proto && q->frame == NULL)) {
		snprintf(err, errlen, "%s", EXPLAIN_USAGE);
		return -EINVAL;
	}
	if (q->proto == IPPROTO_TCP && q->tcp_flags == 0)
		q->tcp_flags = RTE_TCP_SYN_FLAG;
	if (q->proto == IPPROTO_ICMP && q->icmp_type == 0 && q->icmp_code == 0)
		q->icmp_type = 8; /* echo request */
	return 0;
}

int
tg_tel_explain(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static struct tg_explain x; /* under the control lock */
	static uint8_t frame[512];
	struct rte_tel_data *steps;
	struct tg_explain_req q;
	const struct tg_tables *t;
	struct tg_pipeline *pl;
	struct tg_tel_sized s;
	char err[320], key[8];
	size_t used = 0;
	uint16_t i;
	int rc = 0;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&tg_tel_ctl->lock);
	pl = tg_tel_ctl->pl;
	t = tg_tel_ctl->slot.cur;
	if (pl == NULL || t == NULL) {
		rc = tg_tel_reply_error(d, "the pipeline is not running");
		goto out;
	}
	if (explain_parse(t, params, &q, frame, sizeof(frame), err,
		    sizeof(err)) < 0 ||
		tg_pipeline_explain(pl, &q, &x, err, sizeof(err)) < 0) {
		rc = tg_tel_reply_error(d, err);
		goto out;
	}
	rte_tel_data_start_dict(d);
	s.d = d;
	s.used = 0;
	tg_tel_put_u64(&s, "generation", x.generation);
	put_packet(&s, t, &x.mark);
	if (q.esp || q.ah) {
		char buf[96];

		packet_text(&x.inner, buf, sizeof(buf));
		tg_tel_put_str(&s, "inner", buf);
		tg_tel_put_u64(&s, "spi", q.spi);
	}
	steps = rte_tel_data_alloc();
	if (steps != NULL) {
		rte_tel_data_start_dict(steps);
		for (i = 0; i < x.n; i++) {
			struct rte_tel_data *e =
				step_dict(t, &x.step[i].r, 0, NULL, &used);

			if (e == NULL)
				break;
			if (x.step[i].why[0] != '\0')
				rte_tel_data_add_dict_string(
					e, "why", x.step[i].why);
			if (x.step[i].rewrite[0] != '\0')
				rte_tel_data_add_dict_string(
					e, "rewrite", x.step[i].rewrite);
			snprintf(key, sizeof(key), "%u", i);
			rte_tel_data_add_dict_container(steps, key, e, 0);
		}
		rte_tel_data_add_dict_container(d, "steps", steps, 0);
	}
	tg_tel_put_str(&s, "end", x.end);
	if (x.unexplained != TG_STAGE_NONE)
		tg_tel_put_str(
			&s, "not_explained", tg_stage_name(x.unexplained));
out:
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}

/* ---- /tollgate/capture -------------------------------------------------- */

static void
capture_dict(struct rte_tel_data *d, const struct tg_capture_status *st)
{
	rte_tel_data_add_dict_string(
		d, "state", st->active ? "capturing" : "stopped");
	rte_tel_data_add_dict_string(d, "file", st->file);
	rte_tel_data_add_dict_string(d, "reason",
		st->reason < 0 ? "any" : tg_drop_name((uint16_t)st->reason));
	rte_tel_data_add_dict_u64(d, "count", st->count);
	rte_tel_data_add_dict_u64(d, "snaplen", st->snaplen);
	rte_tel_data_add_dict_u64(d, "matched", st->matched);
	rte_tel_data_add_dict_u64(d, "written", st->written);
	rte_tel_data_add_dict_u64(d, "ring_full", st->ring_full);
	rte_tel_data_add_dict_u64(d, "no_mbuf", st->no_mbuf);
	rte_tel_data_add_dict_u64(d, "write_errors", st->write_errors);
	if (st->error[0] != '\0')
		rte_tel_data_add_dict_string(d, "writer_error", st->error);
}

static int
drop_index(const char *name)
{
	uint16_t i, n = tg_drop_count();

	for (i = 0; i < n; i++)
		if (strcmp(tg_drop_name(i), name) == 0)
			return i;
	return -1;
}

/* "start FILE [reason=NAME] [count=N] [snaplen=N]" */
static int
capture_start(struct rte_tel_data *d, struct tg_pipeline *pl, const char *args)
{
	char file[256] = "", word[300], err[200], msg[300];
	unsigned long count = 0, snaplen = 0;
	struct tg_capture_status st;
	const char *s = args;
	int reason = -1, rc;
	char *end;

	while (sscanf(s, " %299s", word) == 1) {
		s = strstr(s, word) + strlen(word);
		if (strncmp(word, "reason=", 7) == 0) {
			if (strcmp(word + 7, "any") != 0 &&
				(reason = drop_index(word + 7)) < 0) {
				snprintf(msg, sizeof(msg),
					"capture: no drop reason \"%.200s\" "
					"(see /tollgate/stats)",
					word + 7);
				return tg_tel_reply_error(d, msg);
			}
		} else if (strncmp(word, "count=", 6) == 0) {
			count = strtoul(word + 6, &end, 10);
			if (*end != '\0' || word[6] == '\0' ||
				count > UINT32_MAX)
				return tg_tel_reply_error(
					d, "capture: count=N (packets)");
		} else if (strncmp(word, "snaplen=", 8) == 0) {
			snaplen = strtoul(word + 8, &end, 10);
			if (*end != '\0' || snaplen < 64 || snaplen > 65535)
				return tg_tel_reply_error(d,
					"capture: snaplen=N (64-65535 bytes)");
		} else if (word[0] == '/' && file[0] == '\0' &&
			   strlen(word) < sizeof(file)) {
			memcpy(file, word, strlen(word) + 1);
		} else {
			snprintf(msg, sizeof(msg),
				"capture start: \"%.200s\": expected an "
				"absolute FILE path, reason=, count= or "
				"snaplen=",
				word);
			return tg_tel_reply_error(d, msg);
		}
	}
	if (file[0] == '\0')
		return tg_tel_reply_error(
			d, "capture start: FILE (an absolute path) expected");
	rc = tg_pipeline_capture_start(pl, file, reason, (uint32_t)count,
		(uint32_t)snaplen, err, sizeof(err));
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "capture: %s", err);
		return tg_tel_reply_error(d, msg);
	}
	tg_pipeline_capture_status(pl, &st);
	rte_tel_data_start_dict(d);
	capture_dict(d, &st);
	return 0;
}

int
tg_tel_capture(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const char *p = params != NULL ? params : "";
	struct tg_capture_status st;
	struct tg_pipeline *pl;
	int rc = 0;

	RTE_SET_USED(cmd);
	pthread_mutex_lock(&tg_tel_ctl->lock);
	pl = tg_tel_ctl->pl;
	while (*p == ' ')
		p++;
	if (pl == NULL) {
		rc = tg_tel_reply_error(d, "the pipeline is not running");
	} else if (strncmp(p, "start", 5) == 0 &&
		   (p[5] == '\0' || p[5] == ' ')) {
		rc = capture_start(d, pl, p + 5);
	} else if (strcmp(p, "stop") == 0) {
		tg_pipeline_capture_stop(pl, &st);
		rte_tel_data_start_dict(d);
		capture_dict(d, &st);
	} else if (*p == '\0') {
		tg_pipeline_capture_status(pl, &st);
		rte_tel_data_start_dict(d);
		capture_dict(d, &st);
	} else {
		rc = tg_tel_reply_error(d,
			"/tollgate/capture: parameters: none (status), "
			"\"start FILE [reason=NAME] [count=N] [snaplen=N]\" "
			"or \"stop\"");
	}
	pthread_mutex_unlock(&tg_tel_ctl->lock);
	return rc;
}
