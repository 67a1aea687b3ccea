/* SPDX-License-Identifier: BSD-3-Clause
 * What tollgatectl's commands share: exit codes, options, the commands
 * themselves, and the small table printer they format output with.
 */
#ifndef TGCTL_TOLLGATECTL_H
#define TGCTL_TOLLGATECTL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "tel_client.h"

/** Exit codes. */
enum {
	CTL_OK = 0,
	CTL_FAILED = 1, /**< error reply, reload refused, bad reply */
	CTL_USAGE = 2,
	CTL_NOCONN = 3, /**< not running, no permission, busy, link lost */
};

struct ctl_opts {
	const char *prefix;
	bool json;
	double watch_s; /**< 0: run once */
};

/** Set by SIGINT/SIGTERM while --watch runs. */
extern volatile sig_atomic_t ctl_stop;

/** Sleep until @p deadline (CLOCK_MONOTONIC seconds). Returns false when
 *  SIGINT/SIGTERM arrived. */
bool ctl_sleep_until(double deadline);

/** CLOCK_MONOTONIC now, in seconds. */
double ctl_now(void);

/* Commands; each returns an exit code. */
int ctl_stats(struct tel_conn *t, const struct ctl_opts *o);
int ctl_interfaces(struct tel_conn *t, const struct ctl_opts *o);
int ctl_routes(struct tel_conn *t, const struct ctl_opts *o);
int ctl_neighbors(struct tel_conn *t, const struct ctl_opts *o);
int ctl_config_info(struct tel_conn *t, const struct ctl_opts *o);
int ctl_config_show(struct tel_conn *t, const struct ctl_opts *o);
/** @p file: as the user wrote it (NULL: the running file); @p abs: the
 *  same made absolute from our working directory, as tollgate needs. */
int ctl_reload(struct tel_conn *t, const struct ctl_opts *o, const char *file,
	const char *abs);
int ctl_check(struct tel_conn *t, const struct ctl_opts *o, const char *file,
	const char *abs);

/** Print @p v's raw reply bytes (t->buf) as received, with a newline. */
void ctl_print_raw(const struct tel_conn *t, size_t len);

/** Every page of one paged table: the documents stay alive as long as
 *  the entries are used. p.vals[i]: page i's {"<index>": {...}}. */
struct ctl_pages {
	struct json_pages p;
	uint64_t count; /**< entries over all pages */
	/** Set by the caller for a table keyed by record index with gaps
	 *  and no "total" (/tollgate/nat/sessions). */
	bool sparse;
};

/** Read @p cmd page after page ("PARAMS0,START,COUNT", or "START,COUNT"
 *  when @p params0 is NULL), following "next", into @p pg (free with
 *  json_pages_free(&pg->p)). @p key names the entries' object. */
int ctl_fetch_pages(struct tel_conn *t, const char *cmd, const char *params0,
	const char *key, struct ctl_pages *pg);

/** The running configuration's generation (0 and *rc set on failure). */
uint64_t ctl_generation(struct tel_conn *t, int *rc);

/** --json: print the pages merged into one reply and free them; true
 *  when done so. */
bool ctl_json_done(const struct ctl_opts *o, const char *cmd, const char *key,
	struct ctl_pages *pg);

/** Every page's entries, comma-separated "key":value (no braces). */
void ctl_print_entries(const struct ctl_pages *pg);

/** "<cmd>":{"total":N,"start":0,"<key>":{...}} of @p pg (no braces
 *  around, no newline): for replies that hold more than one table. */
void ctl_print_merged_member(
	const char *cmd, const char *key, const struct ctl_pages *pg);

int ctl_filters(struct tel_conn *t, const struct ctl_opts *o, const char *iface,
	const char *dir);

int ctl_nat(struct tel_conn *t, const struct ctl_opts *o);
/** @p addr: only the sessions with this address on any side (NULL: all). */
int ctl_nat_sessions(
	struct tel_conn *t, const struct ctl_opts *o, const char *addr);
int ctl_firewall(struct tel_conn *t, const struct ctl_opts *o);

/** The ipsec stage's settings, crypto device and drops, then its SAs. */
int ctl_ipsec(struct tel_conn *t, const struct ctl_opts *o);
/** Every SA; with @p name (not NULL) that SA alone, every field. */
int ctl_ipsec_sa(
	struct tel_conn *t, const struct ctl_opts *o, const char *name);
/** The policies in evaluation order with their hits. */
int ctl_ipsec_spd(struct tel_conn *t, const struct ctl_opts *o);

/*
 * explain, trace and capture take words of their own: with @p t NULL they
 * only check them (CTL_OK, CTL_USAGE, or CTL_FAILED when capture's FILE
 * cannot be made absolute), before tollgatectl connects.
 */

/** tollgatectl explain WORDS: /tollgate/explain of the packet they
 *  describe (cmd_explain.c). */
int ctl_explain(
	struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv);
/** The "steps" object of an explain or a traced packet, a line (or
 *  three) each; @p with_time: the nanoseconds since RX first. */
void ctl_print_steps(const struct json_value *steps, bool with_time);
/** tollgatectl trace [start ...|stop|show] (cmd_trace.c). */
int ctl_trace(
	struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv);
/** tollgatectl capture [drops ...|stop]. */
int ctl_capture(
	struct tel_conn *t, const struct ctl_opts *o, int argc, char **argv);

/** ctl_query_or_raw() printed the reply as it came (--json): done. */
#define CTL_PRINTED (-1)

/** Query @p cmd (no parameters) for a command that prints a table. With
 *  --json the reply is printed as it came and CTL_PRINTED returned;
 *  otherwise CTL_OK with the parsed reply in @p doc (json_free() it) and
 *  @p v, or the error code. */
int ctl_query_or_raw(struct tel_conn *t, const struct ctl_opts *o,
	const char *cmd, struct json_doc **doc, const struct json_value **v);

/**
 * dpdk.file_prefix of the tollgate YAML @p file into @p out.
 * @return 0 found; 1 the file has none (DPDK's default applies); -1 the
 *   file cannot be read or parsed (message printed).
 */
int ctl_prefix_from_yaml(const char *file, char *out, size_t len);

/* ---- aligned tables ---------------------------------------------------- */

#define TABLE_MAX_COLS 12

struct table {
	unsigned int ncols;
	char align[TABLE_MAX_COLS]; /**< 'l' or 'r' per column */
	size_t width[TABLE_MAX_COLS];
	char **cells; /**< row-major, the header is row 0 */
	size_t nrows, cap;
	bool oom;
};

/** Start a table: @p align has one 'l' or 'r' per column; the header
 *  follows as that many strings. */
void table_init(struct table *tb, const char *align, ...);

/** Add a row of tb->ncols strings (copied; NULL prints "-"). */
void table_row(struct table *tb, ...);

/** Print with two spaces between columns, no trailing blanks, each line
 *  after @p indent; then free the rows. Returns -ENOMEM if a row was lost
 *  to memory (nothing printed then). */
int table_print(struct table *tb, FILE *f, const char *indent);

/** @p v as text into @p buf: a string as it is, a number in decimal,
 *  "-" when missing or not a scalar. Returns @p buf. */
const char *ctl_fmt(const struct json_value *v, char *buf, size_t len);
/** ctl_fmt(), with "any" for a missing match key (as in the YAML). */
const char *ctl_fmt_any(const struct json_value *v, char *buf, size_t len);

/** Free the rows without printing. */
void table_free(struct table *tb);

#endif /* TGCTL_TOLLGATECTL_H */
