/* SPDX-License-Identifier: BSD-3-Clause
 * Private to lib/config: the parse context and the interfaces between the
 * YAML walker (config_parse.c), the schema it is driven by
 * (config_schema.c), the values several sections share (config_values.c)
 * and the cross-section checks (config_validate.c).
 */
#ifndef TG_CONFIG_INTERNAL_H
#define TG_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#include "tg_config.h"

#define TG_CFG_MAX_FILE	 (64u << 20) /**< bytes */
#define TG_CFG_MAX_DEPTH 64	     /**< nested lists and mappings */
#define TG_CFG_MAX_RXQ	 16	     /**< ports[].rx_queues upper bound */

/* A reference by name to a port or interface, resolved by validation.
 * name points into the YAML document, which lives until validation is
 * done; NULL when the key is absent or not a string (already reported). */
struct tg_cfg_ref {
	const char *name;
	uint32_t len;
	struct tg_cfg_pos pos;
};

/* Where the values that validation may complain about sit, and whether
 * they parsed (a value that did not is reported once, by the walker). */
struct tg_cfg_src_port {
	struct tg_cfg_pos name;
	struct tg_cfg_pos device;
};

struct tg_cfg_src_iface {
	struct tg_cfg_pos name;
	struct tg_cfg_pos address;
	struct tg_cfg_ref port;
	bool addr_ok;
};

struct tg_cfg_src_route {
	struct tg_cfg_pos prefix;
	struct tg_cfg_pos via;
	struct tg_cfg_ref iface;
	bool prefix_ok;
	bool via_ok; /* present and valid */
};

struct tg_cfg_src_neighbor {
	struct tg_cfg_pos addr;
	struct tg_cfg_ref iface;
	bool addr_ok;
};

struct tg_cfg_src_rxq {
	struct tg_cfg_ref port; /* the PORT part of "PORT:QUEUE" */
	uint32_t queue;
	bool ok;
};

struct tg_cfg_src_stage {
	uint8_t stage; /* TG_CFG_N_STAGES: unknown name, reported */
	struct tg_cfg_pos pos;
};

struct tg_cfg_src_placement {
	struct tg_cfg_pos lcore;
	bool lcore_ok;
	uint32_t n_ports;
	struct tg_cfg_src_rxq *ports; /* malloc'd */
	uint32_t n_stages;
	struct tg_cfg_src_stage *stages; /* malloc'd */
	bool bad_list; /* ports or stages is not a list (reported) */
};

/* nat.port_mappings[i] (config_natfw.c): where the values validation
 * may complain about are, and whether they parsed. */
struct tg_cfg_src_nat_map {
	struct tg_cfg_pos name, public_port, private_address, public_address;
	bool name_ok, proto_ok, port_ok, priv_ok, pub_given, pub_ok;
	bool key_ok; /* (protocol, public address, public port) is known */
};

/* firewall.exceptions[i] */
struct tg_cfg_src_fw_exc {
	struct tg_cfg_pos name;
	bool name_ok;
	struct tg_cfg_ref iface;
};

/* nat.private or nat.public, resolved by validation. */
struct tg_cfg_src_iface_list {
	uint16_t n;
	struct tg_cfg_ref ref[TG_MAX_PORTS];
	bool ok; /* given, a list, and every entry a string */
	struct tg_cfg_pos pos;
};

/* The nat: and firewall: sections, for validation. */
struct tg_cfg_src_natfw {
	bool nat, firewall; /* the sections are present */
	struct tg_cfg_src_iface_list priv, pub;
	bool addresses_given;
	bool addresses_ok; /* every entry's address parsed */
	struct tg_cfg_pos addr[TG_CFG_NAT_MAX_ADDRESSES];
	bool addr_ok[TG_CFG_NAT_MAX_ADDRESSES];
	bool max_sessions_ok; /* default or a good value */
	bool per_host_given;
	struct tg_cfg_pos per_host;
	struct tg_cfg_src_nat_map *map; /* nat.n_mappings entries */
	struct tg_cfg_src_fw_exc *exc;	/* firewall.n_exceptions entries */
};

/* ipsec.policies[i] (config_ipsec.c) for validation. */
struct tg_cfg_src_ipsec_pol {
	struct tg_cfg_pos name;
	bool name_ok, dir_ok, action_ok;
	bool sa_given;	      /* the key is there (a name or a pair) */
	bool sa_pair;	      /* given as {outbound: X, inbound: Y} */
	struct tg_cfg_pos sa; /* of the sa key's value */
	struct tg_cfg_ref sa_out, sa_in; /* a single name goes in the side
					    of the direction */
};

/* ipsec.sas[i] */
struct tg_cfg_src_ipsec_sa {
	struct tg_cfg_pos name, spi, local;
	bool name_ok, spi_ok, dir_ok, proto_ok, local_ok;
};

/* The ipsec: section, for validation (NULL without it; malloc'd). */
struct tg_cfg_src_ipsec {
	struct tg_cfg_src_ipsec_pol *pol; /* ipsec.n_policies entries */
	struct tg_cfg_src_ipsec_sa *sa;	  /* ipsec.n_sas entries */
	struct tg_cfg_src_ipsec_pol *cur; /* the policy being walked */
};

struct tg_cfg_ctx {
	yaml_document_t *doc;
	struct tg_config *cfg;
	struct tg_cfg_errors *errs;
	bool nomem;

	char path[256]; /* YAML path of the value being walked */
	size_t path_len;

	struct tg_cfg_pos routes_pos;
	struct tg_cfg_pos neighbors_pos;
	struct tg_cfg_pos placement_pos;

	struct tg_cfg_src_port port[TG_MAX_PORTS];
	struct tg_cfg_src_iface iface[TG_MAX_PORTS];
	struct tg_cfg_src_route *route;	      /* n_routes entries */
	struct tg_cfg_src_neighbor *neighbor; /* n_neighbors entries */
	struct tg_cfg_src_placement placement[TG_MAX_LCORES];
	/* local_filter.interfaces[i].interface, resolved by validation */
	struct tg_cfg_ref lf_iface[TG_MAX_PORTS];
	/* nat: and firewall:, NULL when neither is given (malloc'd) */
	struct tg_cfg_src_natfw *natfw;
	/* ipsec:, NULL without it (malloc'd) */
	struct tg_cfg_src_ipsec *ipsec;
};

/* ---- The error list (config_validate.c). ---- */

/* Record an error at @p pos; @p path NULL means the current walk path. */
void tg_cfg_err(struct tg_cfg_ctx *c, struct tg_cfg_pos pos, const char *path,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same without a walk (document-level errors). */
void tg_cfg_errs_add(struct tg_cfg_errors *errs, uint32_t line, uint32_t col,
	const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void tg_cfg_errs_reset(struct tg_cfg_errors *errs, const char *file);
/* Stable sort of the stored errors by position: file order. */
void tg_cfg_errs_sort(struct tg_cfg_errors *errs);

/* ---- The walker (config_parse.c), driven by the schema's tables. ---- */

/* Checks a string value and stores it at @p dst, or writes a complete
 * message into @p msg and returns false. */
typedef bool tg_cfg_check_fn(const char *s, void *dst, char *msg, size_t len);

enum tg_cfg_field_type {
	TG_CFG_FT_UINT,
	TG_CFG_FT_BOOL,
	TG_CFG_FT_STR,
	TG_CFG_FT_CHECK, /* a string checked and stored by .check */
	TG_CFG_FT_REF,	 /* a name of something else: resolved by validation */
	TG_CFG_FT_MAP,	 /* a nested mapping with its own table (.sub) */
	TG_CFG_FT_FN,	 /* anything else: .fn, given base + .off */
	TG_CFG_FT_TODO,	 /* a planned section: an error, never ignored */
};

#define TG_CFG_FF_REQUIRED 1
#define TG_CFG_FF_POW2	   2
#define TG_CFG_MAX_FIELDS  20 /* per mapping */

/* One key of a mapping: its type, where it goes (.off from the base the
 * mapping is walked into), and its range. */
struct tg_cfg_field {
	const char *key;
	uint8_t type;
	uint8_t flags;
	uint16_t size;
	size_t off;
	uint64_t min;
	uint64_t max;
	bool (*fn)(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);
	tg_cfg_check_fn *check;
	const struct tg_cfg_field *sub;
	unsigned int n_sub;
};

/* What a mapping gave for each field, and whether it was good. */
struct tg_cfg_seen {
	const yaml_node_t *key;
	const yaml_node_t *node;
	bool ok;
};

typedef bool tg_cfg_item_fn(
	struct tg_cfg_ctx *c, size_t i, const yaml_node_t *item, void *arg);

/* Walk a mapping against its field table into @p base: unknown,
 * duplicate, planned and missing required keys are reported. @p seen
 * (nf entries, may be NULL) returns what each field got. */
bool tg_cfg_walk_map(struct tg_cfg_ctx *c, const yaml_node_t *map,
	const struct tg_cfg_field *f, unsigned int nf, void *base,
	struct tg_cfg_seen *seen);
/* Call @p fn for each item of a list (at most @p max: "too many
 * @p what" beyond), with the walk path set to the item. */
bool tg_cfg_for_each(struct tg_cfg_ctx *c, const yaml_node_t *v, size_t max,
	const char *what, tg_cfg_item_fn *fn, void *arg);
struct tg_cfg_pos tg_cfg_node_pos(const yaml_node_t *n);
size_t tg_cfg_list_len(const yaml_node_t *n); /* 0 if not a list */
const char *tg_cfg_get_str(struct tg_cfg_ctx *c, const yaml_node_t *n);
/* What @p n is, for "expected X, got Y" messages ("a list", "'abc'"). */
const char *tg_cfg_describe(const yaml_node_t *n, char *buf, size_t len);
bool tg_cfg_get_str_buf(
	struct tg_cfg_ctx *c, const yaml_node_t *n, char *dst, size_t size);
/* The position of what a field got, else @p dflt; its name as a ref. */
struct tg_cfg_pos tg_cfg_seen_pos(
	const struct tg_cfg_seen *s, struct tg_cfg_pos dflt);
struct tg_cfg_ref tg_cfg_seen_ref(const struct tg_cfg_seen *s);

/* ---- The schema (config_schema.c). ---- */

void tg_cfg_schema_defaults(struct tg_config *cfg);
/* Walk the top-level mapping into c->cfg. */
void tg_cfg_schema_walk(struct tg_cfg_ctx *c, const yaml_node_t *root);
uint32_t tg_cfg_mask(uint32_t len); /* prefix length → netmask */
/* A dotted quad (decimal, no leading zeros), and "a.b.c.d/len" with len
 * 0..32: the whole string, nothing after it. */
bool tg_cfg_ipv4_parse(const char *s, uint32_t *addr);
bool tg_cfg_prefix_parse(const char *s, uint32_t *addr, uint32_t *len);
void tg_cfg_ipv4_fmt(uint32_t addr, char buf[16]);
/* The set of an EAL -l list ("0-1", "0,2-3"): NULL, or what is wrong. */
const char *tg_cfg_lcores_parse(const char *s, uint64_t set[2]);

/* ---- Values more than one section takes (config_values.c). ---- */

/* A scalar's text, or NULL for anything that is not a string (a list, a
 * mapping, an empty value, embedded NUL). */
const char *tg_cfg_scalar_text(const yaml_node_t *n);
/* The same, reporting "expected @p what, got ..." at @p v when NULL. */
const char *tg_cfg_want_text(
	struct tg_cfg_ctx *c, const yaml_node_t *v, const char *what);
/* Decimal without leading zeros, at most 10 digits (larger is out of
 * range anyway); the number of characters read, 0 if none. */
size_t tg_cfg_number(const char *s, unsigned long long *v);
/* One unicast host address a.b.c.d (not 0/8, 127/8 or 224/4 and above)
 * into the uint32_t at @p dst, host order (a tg_cfg_check_fn). */
bool tg_cfg_host_check(const char *s, void *dst, char *msg, size_t len);
/* A name of 1..@p max - 1 characters from A-Z a-z 0-9 _ . : -, copied
 * to @p dst; else "invalid @p what '...'" in @p msg (a tg_cfg_check_fn's
 * body). */
bool tg_cfg_name_check(const char *s, size_t max, const char *what, void *dst,
	char *msg, size_t len);
/* icmp, tcp, udp, gre, esp or ah for those numbers, else NULL. */
const char *tg_cfg_proto_name(uint8_t proto);
enum tg_cfg_proto_res {
	TG_CFG_PROTO_OK,
	TG_CFG_PROTO_REPORTED, /* a number out of 0..255: reported at pos */
	TG_CFG_PROTO_UNKNOWN,  /* anything else: the caller reports it */
};
/* A protocol name (any case) or a number 0..255 into @p proto. */
enum tg_cfg_proto_res tg_cfg_proto_parse(struct tg_cfg_ctx *c,
	struct tg_cfg_pos pos, const char *s, uint8_t *proto);
/* @p s, the text of @p v, as "N" or an inclusive range "LO-HI" within
 * @p min..@p max; else "expected @p what, got ..." or "out of range". */
bool tg_cfg_range_text(struct tg_cfg_ctx *c, const yaml_node_t *v,
	const char *s, const char *what, unsigned int min, unsigned int max,
	uint16_t *lo, uint16_t *hi);
/* A port "N" or an inclusive range "LO-HI", @p min..65535. */
bool tg_cfg_port_range(struct tg_cfg_ctx *c, const yaml_node_t *v,
	unsigned int min, uint16_t *lo, uint16_t *hi);
/* a.b.c.d (a /32) or a.b.c.d/len with the host bits zero; "any" (0/0)
 * too when @p any. */
bool tg_cfg_prefix_value(struct tg_cfg_ctx *c, const yaml_node_t *v, bool any,
	uint32_t *addr, uint8_t *plen);

/* ---- The local_filter section (config_local_filter.c). ---- */

/* The F_FN of the top-level key: @p base is the struct tg_config. */
bool tg_cfg_local_filter_walk(
	struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);

/* ---- interfaces[].filters (config_filters.c). ---- */

/* The F_FN of the interface's key: @p base is the struct tg_cfg_iface. */
bool tg_cfg_filters_walk(
	struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);

/* ---- nat: and firewall: (config_natfw.c, config_natfw_validate.c). ---- */

/* The F_FN of the top-level keys: @p base is the struct tg_config. */
bool tg_cfg_nat_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);
bool tg_cfg_firewall_walk(
	struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);
/* Defaults of both sections (enabled false), from tg_cfg_schema_defaults. */
void tg_cfg_natfw_defaults(struct tg_config *cfg);
/* Interface references, addresses against interfaces, duplicates; the
 * implicit NAT addresses. After the interfaces are validated. */
void tg_cfg_natfw_validate(struct tg_cfg_ctx *c);
/* Frees c->natfw. */
void tg_cfg_natfw_src_free(struct tg_cfg_ctx *c);

/* ---- ipsec: (config_ipsec.c, config_ipsec_keys.c,
 *      config_ipsec_validate.c). ---- */

/* The F_FN of the top-level key: @p base is the struct tg_config. */
bool tg_cfg_ipsec_walk(struct tg_cfg_ctx *c, const yaml_node_t *v, void *base);
void tg_cfg_ipsec_defaults(struct tg_config *cfg);
/* SA references and directions, tunnel addresses against the interfaces,
 * duplicate names and SPIs; then the evaluation order. */
void tg_cfg_ipsec_validate(struct tg_cfg_ctx *c);
/* Frees c->ipsec. */
void tg_cfg_ipsec_src_free(struct tg_cfg_ctx *c);
/* An SA's keys, given inline (key, salt, auth_key) or in key_file, into
 * sa->keys, checked against sa->alg; @p s: the fields the SA mapping
 * got, indexed by enum tg_cfg_ipsec_key_field. Never puts key bytes in a
 * message. */
enum tg_cfg_ipsec_key_field {
	TG_CFG_IPSEC_KF_KEY,
	TG_CFG_IPSEC_KF_SALT,
	TG_CFG_IPSEC_KF_AUTH_KEY,
	TG_CFG_IPSEC_KF_FILE,
	TG_CFG_IPSEC_KF__N
};
void tg_cfg_ipsec_keys(struct tg_cfg_ctx *c, struct tg_cfg_ipsec_sa *sa,
	const struct tg_cfg_seen *s[TG_CFG_IPSEC_KF__N],
	struct tg_cfg_pos sa_pos);

/* ---- Cross-references and section-wide rules (config_validate.c). ---- */

void tg_cfg_validate(struct tg_cfg_ctx *c);
/* Resolve a reference to an interface: its index, or -1 (an unknown name
 * is reported at the reference, under @p path; an absent one is not). */
int tg_cfg_iface_ref(
	struct tg_cfg_ctx *c, const struct tg_cfg_ref *r, const char *path);

#endif /* TG_CONFIG_INTERNAL_H */
