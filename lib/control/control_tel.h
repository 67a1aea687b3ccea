/* SPDX-License-Identifier: BSD-3-Clause
 * Private to lib/control: what the telemetry files share (the command
 * table is in control_telemetry.c, the filter commands in
 * control_tel_filters.c, natfw's in control_tel_natfw.c, ipsec's in
 * control_tel_ipsec.c).
 */
#ifndef TG_CONTROL_TEL_H
#define TG_CONTROL_TEL_H

#include <stddef.h>
#include <stdint.h>
#include <rte_telemetry.h>

#include "tg_control.h"

/* DPDK's telemetry callbacks carry no context pointer. */
extern struct tg_control *tg_tel_ctl;

#define PAGE_DEFAULT 100
#define PAGE_MAX     120 /* entries per page at most */
/* Bytes of JSON a page may hold: DPDK drops an answer over 16 KiB whole,
 * so a page ends at whichever comes first, COUNT or this, and its "next"
 * says where the following page starts. */
#define PAGE_BUDGET (12 * 1024)

void tg_tel_ip_str(uint32_t a, char *buf, size_t len);
/* Non-ASCII and control bytes → '?' (DPDK 22.11's JSON writer mangles
 * them). Returns @p buf. */
const char *tg_tel_ascii(const char *s, char *buf, size_t len);
int tg_tel_reply_error(struct rte_tel_data *d, const char *msg);
/* "START" or "START,COUNT" (decimal). Returns 0 or -EINVAL. */
int tg_tel_parse_page(const char *params, uint32_t *start, uint32_t *count);

/*
 * An entry under construction and the bytes of JSON it will take, so a
 * page can stop before DPDK's 16 KiB limit whatever the names and
 * numbers are: "key":"value", and "key":N, each with a comma.
 */
struct tg_tel_sized {
	struct rte_tel_data *d;
	size_t used;
};

void tg_tel_put_str(struct tg_tel_sized *s, const char *key, const char *val);
void tg_tel_put_u64(struct tg_tel_sized *s, const char *key, uint64_t v);
void tg_tel_put_ip(struct tg_tel_sized *s, const char *key, uint32_t a);

/* /tollgate/filters[,IFACE,DIR[,START[,COUNT]]] */
int tg_tel_filters(const char *cmd, const char *params, struct rte_tel_data *d);

/* /tollgate/nat/summary, /tollgate/nat/sessions[,ADDR][,START[,COUNT]] */
int tg_tel_nat(const char *cmd, const char *params, struct rte_tel_data *d);
/* /tollgate/firewall */
int tg_tel_firewall(const char *cmd, const char *params, struct rte_tel_data *d);

/* /tollgate/ipsec, /tollgate/ipsec/sa[,START[,COUNT]],
 * /tollgate/ipsec/spd[,START[,COUNT]] */
int tg_tel_ipsec(const char *cmd, const char *params, struct rte_tel_data *d);

/* /tollgate/trace, /tollgate/trace/show[,START[,COUNT]],
 * /tollgate/capture */
int tg_tel_trace(const char *cmd, const char *params, struct rte_tel_data *d);
int tg_tel_capture(const char *cmd, const char *params, struct rte_tel_data *d);
/* /tollgate/explain,in IFACE PROTO SRC -> DST [...] */
int tg_tel_explain(const char *cmd, const char *params, struct rte_tel_data *d);

#endif /* TG_CONTROL_TEL_H */
