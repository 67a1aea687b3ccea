/* SPDX-License-Identifier: BSD-3-Clause
 * The host port (ARCHITECTURE.md section 4): the net_tun/net_tap vdev
 * whose kernel interface is the appliance's own TCP/IP stack. Started
 * like any port, then handed to lib/host, which moves the interface into
 * its namespace and gives it the appliance's addresses and routes, and
 * keeps them in step with every reload.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "tg_app.h"
#include "tg_host.h"

#define TG_APP_HOST_DESC 64

static int
host_sync(struct tg_app_host *ah, const struct tg_config *cfg, char *err,
	size_t errlen)
{
	struct tg_host_state st;
	int rc;

	rc = tg_host_state_from_config(cfg, &st);
	if (rc < 0) {
		snprintf(err, errlen, "host: %s", strerror(-rc));
		return rc;
	}
	rc = tg_host_sync(ah->nl, &st, err, errlen);
	tg_host_state_fini(&st);
	return rc;
}

int
tg_app_host_start(const struct tg_config *cfg, struct rte_mempool *mp,
	struct tg_app_host *ah, struct tg_pipeline_host *ph, char *err,
	size_t errlen)
{
	const struct tg_cfg_host *h = &cfg->host;
	const char *dev = h->tap ? TG_CFG_HOST_TAP : TG_CFG_HOST_TUN;
	struct tg_pipeline_port pp;
	uint16_t port_id;
	int rc;

	memset(ah, 0, sizeof(*ah));
	memset(ph, 0, sizeof(*ph));
	if (!h->enabled)
		return 0;
	rc = rte_eth_dev_get_port_by_name(dev, &port_id);
	if (rc < 0) {
		snprintf(err, errlen,
			"%s:%u:%u: host: no ethdev %s (was the %s device "
			"given to EAL?)",
			cfg->file, h->pos.line, h->pos.col, dev,
			h->tap ? "net_tap" : "net_tun");
		return -ENODEV;
	}
	/* Before the start brings it up: no IPv6 chatter into the pipeline
	 * in the moment before tg_host_open(). */
	rc = tg_host_silence(h->ifname, err, errlen);
	if (rc < 0)
		return rc;
	/* One queue each way: only the host thread reads and writes it. The
	 * tun/tap driver holds one mbuf per RX descriptor for as long as it
	 * runs (they are the segments of one read()): 1024 would take half
	 * of a small pool. */
	rc = tg_app_port_start_one("host", port_id, 1, TG_APP_HOST_DESC,
		TG_APP_HOST_DESC, 1, mp, &pp, err, errlen);
	if (rc < 0)
		return rc;
	ah->port_id = port_id;
	ah->started = true;
	ph->enabled = true;
	ph->port_id = port_id;
	ph->l3 = !h->tap;
	rte_eth_macaddr_get(port_id, &ph->mac);
	ph->queue_size = h->queue_size;
	ph->poll_us = h->poll_us;
	/* Started before the move: after it, the device refuses control
	 * operations from this namespace (test/e2e and TESTING.md). */
	rc = tg_host_open(h->ifname, h->netns, h->tap, &ah->nl, err, errlen);
	if (rc < 0)
		return rc;
	rc = host_sync(ah, cfg, err, errlen);
	if (rc < 0)
		return rc;
	TG_APP_LOG(INFO, "host port: ethdev %u, kernel interface %s%s%s",
		port_id, h->ifname, h->netns[0] ? " in netns " : "", h->netns);
	return 0;
}

int
tg_app_host_after_reload(
	void *arg, const struct tg_config *cfg, char *err, size_t errlen)
{
	struct tg_app_host *ah = arg;

	if (ah->nl == NULL)
		return 0;
	return host_sync(ah, cfg, err, errlen);
}

void
tg_app_host_tick(struct tg_app_host *ah, struct tg_control *ctl)
{
	char err[512];
	int rc;

	if (ah->nl == NULL)
		return;
	/* Under the reload lock: a reload syncs through the same handle,
	 * and the running config cannot change underneath. */
	pthread_mutex_lock(&ctl->reload_lock);
	rc = tg_host_link_came_up(ah->nl);
	if (rc > 0 && ctl->slot.cur != NULL) {
		if (host_sync(ah, ctl->slot.cur->cfg, err, sizeof(err)) < 0)
			TG_APP_LOG(WARNING,
				"host: %s is up again, but restoring its "
				"routes failed: %s",
				ctl->slot.cur->cfg->host.ifname, err);
		else
			TG_APP_LOG(INFO,
				"host: %s is up again: addresses and routes "
				"restored",
				ctl->slot.cur->cfg->host.ifname);
	}
	pthread_mutex_unlock(&ctl->reload_lock);
}

void
tg_app_host_stop(struct tg_app_host *ah)
{
	tg_host_close(ah->nl);
	ah->nl = NULL;
	if (ah->started) {
		/* Moved into another namespace, the device refuses to stop;
		 * closing it removes the kernel interface all the same. */
		rte_eth_dev_stop(ah->port_id);
		rte_eth_dev_close(ah->port_id);
		ah->started = false;
	}
}
