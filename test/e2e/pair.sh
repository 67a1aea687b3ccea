# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Two (or more) tollgate appliances in one test, their wan ports bridged
# in a namespace of their own: sourced by test/e2e/ipsec.sh and
# webserver.sh after lib.sh. Each appliance has a short NAME (A, B); lib.sh's
# helpers that read PREFIX and TG_PID (tel, stat_get, reload_file,
# stop_tollgate, e2e_nonzero_drops, e2e_check_counters) work on the one
# pair_use selected.
#
#   pair_start NAME CONFIG PREFIX IFACE...  start it (log $TMP/tollgate-NAME.log),
#                                    wait until it runs and its IFACEs exist
#   pair_use NAME                    PREFIX, TG_PID of NAME
#   pair_stop NAME                   stop it: its exit status
#   pair_check_clean_exit NAME       stop it: status 0, final counters, EAL dir gone
#   pair_bridge NS                   br0 in NS, up, no address
#   pair_bridge_port NS IFACE        move IFACE into NS, new MAC, into br0, up
#   cap_start NAME NS IFACE          dumpcap on IFACE in NS → $TMP/NAME.pcap
#   cap_stop NAME                    stop it (the file is complete)
#   pair_cleanup NS...               stop captures, web servers, appliances;
#                                    namespaces, EAL dirs, TMP

declare -A TGPID=() TGPFX=() CAPPID=()

pair_start() { # name, config, prefix, interfaces...
	local name=$1 cfg=$2 pfx=$3 ifc
	shift 3
	"$TOLLGATE" -c "$cfg" </dev/null >"$TMP/tollgate-$name.log" 2>&1 &
	TGPID[$name]=$!
	TGPFX[$name]=$pfx
	tg_wait_log "$TMP/tollgate-$name.log" '^tollgate: running' 30 \
		"${TGPID[$name]}" || return 1
	for ifc in "$@"; do
		tg_wait_iface "$ifc" 10 || return 1
	done
}

pair_use() { # name
	PREFIX=${TGPFX[$1]}
	# shellcheck disable=SC2034 # read by lib.sh (stop_tollgate)
	TG_PID=${TGPID[$1]:-}
}

pair_stop() { # name → exit status
	local rc
	pair_use "$1"
	stop_tollgate
	rc=$?
	TGPID[$1]=
	return $rc
}

pair_check_clean_exit() { # name
	local rc log=$TMP/tollgate-$1.log
	pair_stop "$1"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$1.clean_exit" "exit status $rc" "$(tail -3 "$log")"
	elif ! grep -q -- '--- tollgate counters' "$log"; then
		fail "$1.clean_exit" "no final counters printed" "$log"
	elif [ -e "$(tg_dpdk_rundir "${TGPFX[$1]}")" ]; then
		fail "$1.clean_exit" "$(tg_dpdk_rundir "${TGPFX[$1]}") left behind"
	else
		pass "$1.clean_exit"
	fi
}

pair_bridge() { # ns
	ip -n "$1" link add br0 type bridge || return 1
	ip -n "$1" link set br0 up
}

# The kernel end of a tap gets a MAC of its own: with the DPDK port's, the
# bridge would take frames to that MAC for itself (a port's own address).
pair_bridge_port() { # ns, iface
	ip link set dev "$2" netns "$1" || return 1
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" \
		>/dev/null 2>&1 || true
	ip -n "$1" link set dev "$2" address "$(tg_rand_mac)" || return 1
	ip -n "$1" link set dev "$2" master br0 || return 1
	ip -n "$1" link set dev "$2" up
}

cap_start() { # name, ns, iface
	local i
	rm -f "$TMP/$1.pcap"
	ip netns exec "$2" dumpcap -q -P -i "$3" -w "$TMP/$1.pcap" \
		</dev/null >"$TMP/$1.cap.log" 2>&1 &
	CAPPID[$1]=$!
	# dumpcap writes the file header once it captures.
	for ((i = 0; i < 100; i++)); do
		[ -s "$TMP/$1.pcap" ] && return 0
		sleep 0.05
	done
	echo "dumpcap on $3 in $2 did not start: $(tail -1 "$TMP/$1.cap.log")" >&2
	return 1
}

cap_stop() { # name
	local pid=${CAPPID[$1]:-}
	[ -n "$pid" ] || return 0
	sleep 0.3 # what is on its way
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	CAPPID[$1]=
}

pair_cleanup() { # namespaces...
	local n
	for n in "${!CAPPID[@]}"; do
		cap_stop "$n"
	done
	e2e_stop_http
	for n in "${!TGPID[@]}"; do
		[ -n "${TGPID[$n]}" ] && pair_stop "$n"
	done
	tg_ns_destroy "$@"
	for n in "${!TGPFX[@]}"; do
		rm -rf "$(tg_dpdk_rundir "${TGPFX[$n]}")"
	done
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

# Once traffic has stopped, for the selected appliance (any number of
# ports): rx + generated = tx + host + drops with nothing in the rings, and
# the ports' and host port's counters sum to the pipeline's.
pair_check_invariant() { # name
	local try out
	for ((try = 0; try < 10; try++)); do
		out=$("$PY" - "$ROOT/test" "$PREFIX" 2>&1 <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
s = t.query(sys.argv[2], "/tollgate/stats")
d = sum(t.drops_flat(s).values())
p = s.get("ports", {}).values()
prx = sum(x["rx_packets"] for x in p) + s.get("host_rx", 0)
ptx = sum(x["tx_packets"] for x in p)
ok = (s["rx"] + s["generated"] == s["tx"] + s["host"] + d
      and s.get("in_rings", 0) == 0 and prx == s["rx"] and ptx == s["tx"])
print("%s rx %d + generated %d vs tx %d + host %d + drops %d, in rings %d; "
      "ports rx %d (host_rx %d), tx %d" % ("ok" if ok else "bad", s["rx"],
      s["generated"], s["tx"], s["host"], d, s.get("in_rings", 0), prx,
      s.get("host_rx", 0), ptx))
PYEOF
)
		[ "${out%% *}" = ok ] && break
		sleep 0.3
	done
	if [ "${out%% *}" = ok ]; then
		pass "$1"
		info "${out#ok }"
	else
		fail "$1" "$out"
	fi
}

# Packets the running snapshot's SAs carried (both directions, every
# page of /tollgate/ipsec/sa): the stage's work whatever its crypto mode
# (lookaside holds packets, CPU crypto does not).
ipsec_sa_packets() {
	"$PY" - "$ROOT/test" "$PREFIX" <<'PYEOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
total, start = 0, 0
while start is not None:
    r = t.query(sys.argv[2], "/tollgate/ipsec/sa", str(start))
    r = r.get("/tollgate/ipsec/sa", r) if isinstance(r, dict) else {}
    total += sum(int(v.get("packets", 0)) for v in (r.get("sas") or {}).values())
    start = r.get("next")
print(total)
PYEOF
}
