/* SPDX-License-Identifier: BSD-3-Clause
 * Human-readable counters on stdout: the periodic line and the final
 * summary printed at exit.
 */
#include <inttypes.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "tg_app.h"

void
tg_app_stats_print(struct tg_control *ctl, const struct tg_pipeline *pl,
	FILE *f, bool full)
{
	static struct tg_lcore_stats s;
	const struct tg_forward_ctx *fctx;
	uint64_t drops = 0;
	uint16_t i;
	uint8_t st;

	tg_pipeline_stats_sum(pl, &s);
	for (i = 0; i < tg_drop_count(); i++)
		drops += s.drops[i];
	if (!full) {
		fprintf(f,
			"rx %" PRIu64 "  tx %" PRIu64 "  host %" PRIu64
			"  generated %" PRIu64 "  dropped %" PRIu64,
			s.rx, s.tx, s.host, s.generated, drops);
		for (i = 0; i < tg_drop_count(); i++)
			if (s.drops[i])
				fprintf(f, "  %s=%" PRIu64, tg_drop_name(i),
					s.drops[i]);
		fprintf(f, "\n");
		fflush(f);
		return;
	}
	fprintf(f, "--- tollgate counters (generation %" PRIu64 ") ---\n",
		ctl->generation);
	fprintf(f, "%-36s %" PRIu64 "\n", "rx", s.rx);
	fprintf(f, "%-36s %" PRIu64 "\n", "tx", s.tx);
	fprintf(f, "%-36s %" PRIu64 "\n", "host", s.host);
	fprintf(f, "%-36s %" PRIu64 "\n", "host_rx", s.host_rx);
	fprintf(f, "%-36s %" PRIu64 "\n", "generated", s.generated);
	fprintf(f, "%-36s %" PRIu64 "\n", "dropped", drops);
	for (i = 0; i < TG_PATH__COUNT; i++)
		if (s.path_rx[i] || s.path_done[i])
			fprintf(f,
				"path %-31s entered %" PRIu64
				" completed %" PRIu64 "\n",
				tg_paths[i].name, s.path_rx[i], s.path_done[i]);
	for (st = 0; st < TG_STAGE__COUNT; st++) {
		const struct tg_stage_stats *ss = &s.stage[st];

		if (ss->in == 0 && ss->emitted == 0 && ss->bypassed == 0)
			continue;
		fprintf(f,
			"stage %-30s in %" PRIu64 " bypassed %" PRIu64
			" dropped %" PRIu64 " cycles/pkt %.1f\n",
			tg_stage_name(st), ss->in, ss->bypassed, ss->dropped,
			ss->in ? (double)ss->cycles / (double)ss->in : 0.0);
	}
	for (i = 0; i < tg_drop_count(); i++)
		if (s.drops[i])
			fprintf(f, "drop %-31s %" PRIu64 "  (%s)\n",
				tg_drop_name(i), s.drops[i], tg_drop_desc(i));
	fctx = tg_pipeline_forward_ctx(pl);
	if (fctx != NULL) {
		const uint64_t *c = tg_forward_ctx_counters(fctx);

		for (i = 0; i < TG_FORWARD_CNT__COUNT; i++)
			if (c[i])
				fprintf(f, "event %-30s %" PRIu64 "\n",
					tg_forward_counter_names[i], c[i]);
	}
	for (i = 0; i < ctl->env.n_ports; i++) {
		struct rte_eth_stats es;

		const char *name = ctl->slot.cur != NULL
					   ? ctl->slot.cur->cfg->ports[i].name
					   : "?";

		if (rte_eth_stats_get(ctl->env.port_id[i], &es) == 0)
			fprintf(f,
				"port %-31s rx %" PRIu64 " tx %" PRIu64
				" missed %" PRIu64 " rx_nombuf %" PRIu64 "\n",
				name, es.ipackets, es.opackets, es.imissed,
				es.rx_nombuf);
	}
	fflush(f);
}
