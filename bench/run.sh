#!/usr/bin/env bash
# The benchmark: builds tollgate (release), writes the traffic with scapy,
# runs every scenario's systems in turn on the same net_pcap ports and
# prints a markdown table; results go to bench/results/<timestamp>.json.
#
#   bench/run.sh [--seconds N] [--repeat K] [--sizes 64,1400] [--quick]
#                [--warmup W] [--scenario NAME] [--system NAME]
#
# Needs root (DPDK's runtime directory) and nothing else running on the
# two cores. Leaves no process and no /var/run/dpdk/<prefix> behind.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "bench/run.sh: run as root (DPDK runtime directory, telemetry socket)" >&2
	exit 1
fi
PY=/usr/bin/python3 # Debian's, with scapy (the pyenv python3 has none)
"$PY" -c 'import scapy' 2>/dev/null || {
	echo "bench/run.sh: $PY lacks scapy: apt-get install python3-scapy" >&2
	exit 1
}
command -v dpdk-testpmd >/dev/null || {
	echo "bench/run.sh: dpdk-testpmd missing: apt-get install dpdk" >&2
	exit 1
}

if [ -n "${TOLLGATE_BIN:-}" ]; then
	# Another build (a pinned commit, a patched copy): this tree's build/
	# is not what is measured, so leave it alone.
	[ -x "$TOLLGATE_BIN" ] || {
		echo "bench/run.sh: TOLLGATE_BIN=$TOLLGATE_BIN is not an executable" >&2
		exit 1
	}
	echo "== benchmarking $TOLLGATE_BIN (no build)" >&2
else
	echo "== building (scripts/build.sh)" >&2
	if ! ./scripts/build.sh; then
		# A broken unit test must not stop a benchmark of a working binary.
		echo "bench/run.sh: scripts/build.sh failed; building the tollgate target alone" >&2
		ninja -C build app/tollgate/tollgate >/dev/null
	fi
fi

# DPDK's l3fwd (LPM) as a peer, built here from Debian's dpdk-doc examples
# into bench/peers/ (git-ignored; DPDK's code is never committed). Two
# changes for net_pcap ports and infinite_rx, both applied by sed below and
# described in bench/README.md. The stamp rebuilds it when this recipe or
# DPDK changes.
build_l3fwd() {
	local src=/usr/share/dpdk/examples dst=bench/peers
	local recipe="l3fwd-v1 min_mbuf=16383 $(dpkg-query -W -f='${Version}' dpdk-doc 2>/dev/null)"
	if [ -x "$dst/l3fwd/build/l3fwd" ] && [ "$(cat "$dst/.stamp" 2>/dev/null)" = "$recipe" ]; then
		return 0
	fi
	[ -d "$src/l3fwd" ] || {
		echo "bench/run.sh: $src/l3fwd missing (apt-get install dpdk-doc): no l3fwd peer" >&2
		return 1
	}
	rm -rf "$dst/l3fwd" "$dst/common" "$dst/.stamp"
	mkdir -p "$dst"
	cp -r "$src/l3fwd" "$src/common" "$dst/"
	# 1. Mask the hard-coded RX checksum offload by the device's
	#    capabilities (net_pcap has none): port and queue configuration.
	sed -i 's|^\(\t*\)ret = config_port_max_pkt_len(&local_port_conf, &dev_info);|\1local_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n\1port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n&|' "$dst/l3fwd/main.c"
	# 2. Minimum mempool size 8192 -> 16383 mbufs: infinite_rx keeps one
	#    mbuf per packet of the file (4096) for the whole run.
	sed -i 's|(unsigned)8192)|(unsigned)16383)|' "$dst/l3fwd/main.c"
	if [ "$(grep -c 'offloads &= dev_info.rx_offload_capa;' "$dst/l3fwd/main.c")" != 2 ] ||
		! grep -q '(unsigned)16383)' "$dst/l3fwd/main.c"; then
		echo "bench/run.sh: l3fwd patch did not apply: no l3fwd peer" >&2
		return 1
	fi
	make -C "$dst/l3fwd" shared >"$dst/build.log" 2>&1 || {
		echo "bench/run.sh: l3fwd build failed (see $dst/build.log): no l3fwd peer" >&2
		return 1
	}
	echo "$recipe" >"$dst/.stamp"
}
echo "== building l3fwd peer (bench/peers/)" >&2
build_l3fwd || true

# The runner stops its own children and removes their runtime directories;
# this trap is the backstop if it is killed outright. Its prefixes are
# tgb<pid>-N, so only this invocation's directories are touched.
runner=
cleanup() {
	if [ -n "$runner" ] && kill -0 "$runner" 2>/dev/null; then
		kill -TERM "$runner" 2>/dev/null || true
		wait "$runner" 2>/dev/null || true
	fi
	if [ -n "$runner" ]; then
		rm -rf /var/run/dpdk/tgb"$runner"-* 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PY" bench/bench.py "$@" &
runner=$!
wait "$runner"
