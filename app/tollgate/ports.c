/* SPDX-License-Identifier: BSD-3-Clause
 * Port start-up: from a config port (PCI address or vdev string) to a
 * started ethdev with its queues.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>

#include "tg_app.h"

int tg_app_logtype;

void
tg_app_log_init(void)
{
	tg_app_logtype = rte_log_register_type_and_pick_level(
		"tollgate.app", RTE_LOG_INFO);
	if (tg_app_logtype < 0)
		tg_app_logtype = RTE_LOGTYPE_USER1;
}

/* The ethdev name of a vdev string is the part before the first comma. */
static void
device_name(const struct tg_cfg_port *p, char *buf, size_t len)
{
	const char *comma = strchr(p->device, ',');
	size_t n = comma ? (size_t)(comma - p->device) : strlen(p->device);

	if (n >= len)
		n = len - 1;
	memcpy(buf, p->device, n);
	buf[n] = '\0';
}

static int
port_start(const struct tg_cfg_port *cp, uint16_t port_id, uint16_t n_workers,
	struct rte_mempool *mp, struct tg_pipeline_port *pp, char *err,
	size_t errlen)
{
	return tg_app_port_start_one(cp->name, port_id, cp->rx_queues,
		cp->rx_desc, cp->tx_desc, n_workers, mp, pp, err, errlen);
}

int
tg_app_port_start_one(const char *name, uint16_t port_id, uint16_t rx_queues,
	uint16_t rx_desc, uint16_t tx_desc, uint16_t n_workers,
	struct rte_mempool *mp, struct tg_pipeline_port *pp, char *err,
	size_t errlen)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = rx_desc, nb_txd = tx_desc, q, nb_txq;
	int rc, socket = rte_eth_dev_socket_id(port_id);

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: info: %s", name, strerror(-rc));
		return rc;
	}
	if (rx_queues > info.max_rx_queues) {
		snprintf(err, errlen,
			"port %s: rx_queues %u, but the device has at most %u",
			name, rx_queues, info.max_rx_queues);
		return -EINVAL;
	}
	nb_txq = tg_pipeline_txq_wanted(n_workers, info.max_tx_queues);
	memset(&conf, 0, sizeof(conf));
	/* Use the NIC's IPv4 header check where it has one; lib/pkt reads
	 * ol_flags and falls back to software otherwise. */
	pp->l3 = info.driver_name != NULL &&
		 strcmp(info.driver_name, "net_tun") == 0;
	/* net_tun parses bare IP as if it had an Ethernet header, so its
	 * checksum flags describe the wrong bytes: never ask it. */
	if (!pp->l3 && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM))
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (rx_queues > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(port_id, rx_queues, nb_txq, &conf);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: configure: %s", name,
			strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc < 0) {
		snprintf(err, errlen, "port %s: descriptors: %s", name,
			strerror(-rc));
		return rc;
	}
	for (q = 0; q < rx_queues; q++) {
		rc = rte_eth_rx_queue_setup(
			port_id, q, nb_rxd, socket, NULL, mp);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: rx queue %u: %s", name,
				q, strerror(-rc));
			return rc;
		}
	}
	for (q = 0; q < nb_txq; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, NULL);
		if (rc < 0) {
			snprintf(err, errlen, "port %s: tx queue %u: %s", name,
				q, strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(port_id);
	if (rc < 0) {
		snprintf(
			err, errlen, "port %s: start: %s", name, strerror(-rc));
		return rc;
	}
	pp->port_id = port_id;
	pp->n_rxq = rx_queues;
	pp->n_txq = nb_txq;
	snprintf(pp->name, sizeof(pp->name), "%s", name);
	return 0;
}

int
tg_app_ports_start(const struct tg_config *cfg, uint16_t n_workers,
	struct rte_mempool *mp, struct tg_port_env *env,
	struct tg_pipeline_port *ports, char *err, size_t errlen)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	uint16_t i, port_id;
	int rc;

	memset(env, 0, sizeof(*env));
	for (i = 0; i < cfg->n_ports; i++) {
		const struct tg_cfg_port *cp = &cfg->ports[i];

		device_name(cp, name, sizeof(name));
		rc = rte_eth_dev_get_port_by_name(name, &port_id);
		if (rc < 0) {
			snprintf(err, errlen,
				"%s:%u:%u: ports[%u].device: no ethdev named "
				"'%s' (driver missing, or PCI device not bound "
				"to vfio-pci?)",
				cfg->file, cp->device_pos.line,
				cp->device_pos.col, i, name);
			return -ENODEV;
		}
		rc = port_start(
			cp, port_id, n_workers, mp, &ports[i], err, errlen);
		if (rc < 0)
			return rc;
		env->port_id[i] = port_id;
		rte_eth_macaddr_get(port_id, &env->mac[i]);
		env->l3[i] = ports[i].l3;
		env->n_ports = i + 1;
		TG_APP_LOG(INFO,
			"port %s: ethdev %u (%s), %u rx / %u tx queues",
			cp->name, port_id, name, ports[i].n_rxq,
			ports[i].n_txq);
	}
	return 0;
}

void
tg_app_ports_stop(const struct tg_port_env *env)
{
	uint16_t i;

	for (i = 0; i < env->n_ports; i++) {
		/* Tap ports moved into another namespace refuse control
		 * operations; there is nothing useful to do about it here. */
		rte_eth_dev_stop(env->port_id[i]);
		rte_eth_dev_close(env->port_id[i]);
	}
}
