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
