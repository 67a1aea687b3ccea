/* SPDX-License-Identifier: BSD-3-Clause
 * tollgatectl stats: /tollgate/stats as tables, once or every N seconds
 * with rates from the difference between two readings.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tollgatectl.h"

/* The previous reading, when there is one, and the seconds since. */
struct delta {
	const struct json_value *prev; /**< NULL: no rates */
	double dt;
};

static uint64_t
u64_of(const struct json_value *v)
{
	uint64_t x = 0;

	json_u64(v, &x);
	return x;
}

static void
fmt_u64(char *buf, size_t len, const struct json_value *v)
{
	uint64_t x;

	if (json_u64(v, &x) == 0)
		snprintf(buf, len, "%" PRIu64, x);
	else
		snprintf(buf, len, "-");
}

/* (cur - prev) / dt of the member @p key of @p cur and @p prev. */
static bool
rate_of(const struct json_value *cur, const struct json_value *prev,
	const char *key, double dt, double *out)
{
	uint64_t a, b;

	if (prev == NULL || dt <= 0 || json_u64(json_get(prev, key), &a) != 0 ||
		json_u64(json_get(cur, key), &b) != 0 || b < a)
		return false;
	*out = (double)(b - a) / dt;
	return true;
}

static void
fmt_rate(char *buf, size_t len, const struct json_value *cur,
	const struct json_value *prev, const char *key, double dt)
{
	double r;

	if (!rate_of(cur, prev, key, dt, &r))
		snprintf(buf, len, "-");
	else if (r < 10 && r != 0)
		snprintf(buf, len, "%.1f", r);
	else
		snprintf(buf, len, "%.0f", r);
}

/* Cycles per packet of a stage: over the interval when there is one. */
static void
fmt_cpp(char *buf, size_t len, const struct json_value *cur,
	const struct json_value *prev)
{
	/* A stage whose timer does per-packet work (ipsec: completed crypto
	 * operations) has its cycles in two counters. */
	uint64_t in = u64_of(json_get(cur, "in"));
	uint64_t cyc = u64_of(json_get(cur, "cycles")) +
		       u64_of(json_get(cur, "tick_cycles"));

	if (prev != NULL) {
		uint64_t pin = u64_of(json_get(prev, "in"));
		uint64_t pcyc = u64_of(json_get(prev, "cycles")) +
				u64_of(json_get(prev, "tick_cycles"));

		if (in < pin || cyc < pcyc) {
			snprintf(buf, len, "-");
			return;
		}
		in -= pin;
		cyc -= pcyc;
	}
	if (in == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", (double)cyc / (double)in);
}

static void
print_header(const struct tel_conn *t, const struct json_value *s,
	const struct delta *d)
{
	const struct json_value *p = d->prev;
	uint64_t it = u64_of(json_get(s, "iterations"));
	uint64_t busy = u64_of(json_get(s, "busy_iterations"));
	char when[16];
	time_t now = time(NULL);
	struct tm tm;

	if (p != NULL) {
		uint64_t pit = u64_of(json_get(p, "iterations"));
		uint64_t pbusy = u64_of(json_get(p, "busy_iterations"));

		it = it >= pit ? it - pit : 0;
		busy = busy >= pbusy ? busy - pbusy : 0;
	}
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("tollgate %s (pid %ld) at %s: generation %" PRIu64, t->prefix,
		t->pid, when, u64_of(json_get(s, "generation")));
	if (it != 0)
		printf(", workers busy %.1f%%", 100.0 * (double)busy / it);
	if (p != NULL)
		printf(", rates per second over %.2f s", d->dt);
	printf("\n\n");
}

static void
print_totals(const struct json_value *s, const struct delta *d)
{
	static const char *const keys[] = {
		"rx", "tx", "generated", "host", "in_rings"};
	char v[5][24];
	struct table tb;
	unsigned int i;

	table_init(&tb, "lrrrrr", "PACKETS", "RX", "TX", "GENERATED", "HOST",
		"IN_RINGS");
	for (i = 0; i < 5; i++)
		fmt_u64(v[i], sizeof(v[i]), json_get(s, keys[i]));
	table_row(&tb, "total", v[0], v[1], v[2], v[3], v[4]);
	if (d->prev != NULL) {
		for (i = 0; i < 4; i++)
			fmt_rate(
				v[i], sizeof(v[i]), s, d->prev, keys[i], d->dt);
		table_row(&tb, "per s", v[0], v[1], v[2], v[3], NULL);
	}
	table_print(&tb, stdout, "");
}

static void
print_ports(const struct json_value *s, const struct delta *d)
{
	const struct json_value *ports = json_get(s, "ports"), *p, *pp;
	char rx[24], tx[24], ms[24], rxr[24], txr[24], msr[24];
	struct table tb;

	if (ports == NULL || ports->type != JSON_OBJECT)
		return;
	if (d->prev != NULL)
		table_init(&tb, "lrrrrrr", "PORT", "RX", "TX", "MISSED", "RX/S",
			"TX/S", "MISSED/S");
	else
		table_init(&tb, "lrrr", "PORT", "RX", "TX", "MISSED");
	for (p = ports->v.kids.first; p != NULL; p = p->next) {
		fmt_u64(rx, sizeof(rx), json_get(p, "rx_packets"));
		fmt_u64(tx, sizeof(tx), json_get(p, "tx_packets"));
		fmt_u64(ms, sizeof(ms), json_get(p, "rx_missed"));
		if (d->prev == NULL) {
			table_row(&tb, p->key, rx, tx, ms);
			continue;
		}
		pp = json_get(json_get(d->prev, "ports"), p->key);
		fmt_rate(rxr, sizeof(rxr), p, pp, "rx_packets", d->dt);
		fmt_rate(txr, sizeof(txr), p, pp, "tx_packets", d->dt);
		fmt_rate(msr, sizeof(msr), p, pp, "rx_missed", d->dt);
		table_row(&tb, p->key, rx, tx, ms, rxr, txr, msr);
	}
	putchar('\n');
	table_print(&tb, stdout, "");
}

static void
print_stages(const struct json_value *s, const struct delta *d)
{
	const struct json_value *stages = json_get(s, "stages"), *st, *ps;
	char lc[24], in[24], by[24], dr[24], cpp[24], inr[24];
	struct table tb;

	if (stages == NULL || stages->type != JSON_OBJECT)
		return;
	if (d->prev != NULL)
		table_init(&tb, "lrrrrrr", "STAGE", "LCORE", "IN", "BYPASSED",
			"DROPPED", "CYCLES/PKT", "IN/S");
	else
		table_init(&tb, "lrrrrr", "STAGE", "LCORE", "IN", "BYPASSED",
			"DROPPED", "CYCLES/PKT");
	for (st = stages->v.kids.first; st != NULL; st = st->next) {
		const struct json_value *lcore = json_get(st, "lcore");

		if (lcore != NULL && lcore->type == JSON_INT)
			snprintf(lc, sizeof(lc), "%" PRId64, lcore->v.i);
		else
			fmt_u64(lc, sizeof(lc), lcore);
		fmt_u64(in, sizeof(in), json_get(st, "in"));
		fmt_u64(by, sizeof(by), json_get(st, "bypassed"));
		fmt_u64(dr, sizeof(dr), json_get(st, "dropped"));
		ps = d->prev != NULL
			     ? json_get(json_get(d->prev, "stages"), st->key)
			     : NULL;
		fmt_cpp(cpp, sizeof(cpp), st, ps);
		if (d->prev == NULL) {
			table_row(&tb, st->key, lc, in, by, dr, cpp);
			continue;
		}
		fmt_rate(inr, sizeof(inr), st, ps, "in", d->dt);
		table_row(&tb, st->key, lc, in, by, dr, cpp, inr);
	}
	putchar('\n');
	table_print(&tb, stdout, "");
}

/* The non-zero counters under @p obj as rows "prefix.name N", nested
 * dicts included ({"filter": {"in": {"denied": N}}} → filter.in.denied). */
static size_t
named_rows(struct table *tb, const struct json_value *obj,
	const struct json_value *prev, const char *prefix, double dt)
{
	const struct json_value *c;
	char name[160], val[24], r[24];
	size_t rows = 0;

	for (c = obj->v.kids.first; c != NULL; c = c->next) {
		snprintf(name, sizeof(name), "%s%s%s", prefix,
			*prefix ? "." : "", c->key);
		if (c->type == JSON_OBJECT) {
			rows += named_rows(
				tb, c, json_get(prev, c->key), name, dt);
			continue;
		}
		/* counters sit one level down at least: "owner.name" */
		if (*prefix == '\0' || u64_of(c) == 0)
			continue;
		fmt_u64(val, sizeof(val), c);
		fmt_rate(r, sizeof(r), obj, prev, c->key, dt);
		table_row(tb, name, val, r);
		rows++;
	}
	return rows;
}

static void
print_named(const struct json_value *s, const struct delta *d,
	const char *section, const char *title)
{
	const struct json_value *sec = json_get(s, section);
	struct table tb;
	size_t rows = 0;

	if (d->prev != NULL)
		table_init(&tb, "lrr", title, "COUNT", "PER_S");
	else
		table_init(&tb, "lr", title, "COUNT");
	if (sec != NULL && sec->type == JSON_OBJECT)
		rows = named_rows(
			&tb, sec, json_get(d->prev, section), "", d->dt);
	putchar('\n');
	if (rows == 0) {
		printf("%s: none\n", section);
		table_free(&tb);
		return;
	}
	table_print(&tb, stdout, "");
}

static void
print_stats(const struct tel_conn *t, const struct json_value *s,
	const struct delta *d)
{
	print_header(t, s, d);
	print_totals(s, d);
	print_ports(s, d);
	print_stages(s, d);
	print_named(s, d, "drops", "DROP");
	print_named(s, d, "events", "EVENT");
}

int
ctl_stats(struct tel_conn *t, const struct ctl_opts *o)
{
	struct json_doc *prev = NULL, *cur;
	const struct json_value *pv = NULL, *cv;
	bool tty = isatty(STDOUT_FILENO);
	double next = ctl_now(), then = 0, now;
	struct delta d;
	int rc;

	for (;;) {
		rc = tel_query(t, "/tollgate/stats", NULL, &cur, &cv);
		if (rc != 0)
			break;
		now = ctl_now();
		if (o->json) {
			ctl_print_raw(t, t->len);
		} else {
			if (o->watch_s > 0 && tty)
				fputs("\033[H\033[2J", stdout);
			else if (pv != NULL)
				putchar('\n');
			d.prev = pv;
			d.dt = now - then;
			print_stats(t, cv, &d);
		}
		fflush(stdout);
		json_free(prev);
		prev = cur;
		pv = cv;
		then = now;
		if (o->watch_s <= 0)
			break;
		next += o->watch_s;
		if (next < now)
			next = now; /* a slow reply: do not try to catch up */
		if (!ctl_sleep_until(next))
			break;
	}
	json_free(prev);
	return ctl_stop ? CTL_OK : rc;
}
