/* SPDX-License-Identifier: BSD-3-Clause
 * The fixture of the natfw suites (see tg_test_natfw.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>

#include "tg_test_natfw.h"

static struct tg_cfg_errors errs; /* large: not on the stack */

struct rte_mempool *
tg_test_natfw_setup(const char *name, unsigned int n_mbuf)
{
	struct rte_mempool *mp;

	if (tg_test_eal_init(name) != 0)
		return NULL;
	mp = rte_pktmbuf_pool_create(name, n_mbuf, 0, TG_MBUF_PRIV_SIZE,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return NULL;
	return mp;
}

int
tg_test_natfw_finish(struct rte_mempool *mp)
{
	int rc = tg_test_run();

	rte_mempool_free(mp);
	tg_test_eal_cleanup();
	return rc;
}

struct tg_config *
tg_test_natfw_parse(const char *name, const char *fmt, ...)
{
	static char y[8192];
	struct tg_config *c = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(y, sizeof(y), fmt, ap);
	va_end(ap);
	if (tg_config_parse(name, y, strlen(y), &c, &errs) != 0) {
		fprintf(stderr, "\n--- yaml:\n%s", y);
		tg_cfg_errors_print(&errs, stderr);
	}
	return c;
}

bool
tg_test_natfw_open(struct tg_test_natfw_fx *x, struct tg_config *cfg,
	const uint16_t ids[3])
{
	char err[256] = "";
	int rc;

	memset(x, 0, sizeof(*x));
	x->cfg = cfg;
	if (x->cfg == NULL)
		return false;
	rc = tg_natfw_build(x->cfg, ids, 3, &x->nt, err, sizeof(err));
	if (rc != 0 || x->nt == NULL) {
		fprintf(stderr, "\ntg_natfw_build: %d: %s\n", rc, err);
		return false;
	}
	x->ctx = tg_natfw_ctx_create(x->cfg, TG_TEST_NATFW_HZ, SOCKET_ID_ANY);
	if (x->ctx == NULL) {
		fprintf(stderr, "\ntg_natfw_ctx_create: %d\n", rte_errno);
		return false;
	}
	return true;
}

void
tg_test_natfw_close(struct tg_test_natfw_fx *x)
{
	tg_natfw_ctx_free(x->ctx);
	tg_natfw_table_free(x->nt);
	tg_config_free(x->cfg);
	memset(x, 0, sizeof(*x));
}

void
tg_test_natfw_ticks(struct tg_test_natfw_fx *x, uint64_t from, uint64_t to)
{
	uint64_t s;
	int i;

	for (s = from; s <= to; s++)
		tg_natfw_tick(x->nt, x->ctx, s * TG_TEST_NATFW_HZ);
	for (i = 0; i < 16; i++)
		tg_natfw_tick(x->nt, x->ctx, to * TG_TEST_NATFW_HZ);
}

void
tg_test_natfw_meta(struct rte_mbuf *m, const struct tg_test_natfw_dir *d)
{
	struct tg_meta *mt = tg_meta(m);

	memset(mt, 0, sizeof(*mt));
	mt->path = d->path;
	mt->mode = d->mode;
	mt->flags = d->flags;
	mt->rx_if = d->rx;
	mt->tx_if = d->tx;
	mt->l3_len = (uint16_t)((rte_pktmbuf_mtod(m, uint8_t *)[14] & 0xf) * 4);
}

void
tg_test_natfw_hex(const char *what, const uint8_t *p, uint16_t n)
{
	uint16_t i;

	fprintf(stderr, "\n    %s:", what);
	for (i = 14; i < n; i++)
		fprintf(stderr, "%s%02x", (i - 14) % 4 ? "" : " ", p[i]);
}
