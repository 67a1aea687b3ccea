# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Harness shared by test/e2e/run.sh, tun.sh, reload.sh, host.sh,
# filter.sh and nat.sh. Source it after scripts/netns.sh, with ROOT set; it sets
# TOLLGATE, TOLLGATECTL, PY and id. The sourcing script sets PREFIX
# (e2e_names), TMP, passed=0, failed=0 and TG_PID= (and, for
# the counter check and e2e_start_hosts, NS_L, NS_W, IF_L, IF_W with the
# ports named lan and wan; LAN_HOST, LAN_GW, WAN_HOST, WAN_GW for
# e2e_start_hosts).
#
#   pass NAME / fail NAME WHY [FILE|TEXT] / info TEXT / finish
#   stop_tollgate                    SIGINT, wait, → tollgate's exit status
#   e2e_cleanup NS...                stop web servers and tollgate; namespaces,
#                                    EAL dir, TMP
#   e2e_start_http NS PORT DIR LOG   a web server in NS serving DIR on PORT
#   e2e_stop_http                    stop the web servers in HTTP_PIDS
#   e2e_start_tollgate CONFIG        start it, wait until it runs and IF_L,
#                                    IF_W exist (TG_PID, $TMP/tollgate.log)
#   e2e_start_hosts CONFIG [HOST_NS] fresh namespaces NS_L, NS_W (HOST_NS),
#                                    tollgate, its taps moved to the hosts
#   e2e_tel_ready                    telemetry answers, or a message
#   e2e_preflight WHAT TOOL...       root (for WHAT) and tools, or finish
#   e2e_need_ctl                     TOLLGATECTL is built, or finish
#   tel ARGS...                      test/tgtelemetry.py against PREFIX
#   nsx NS COMMAND...                run COMMAND inside NS
#   stat_get KEY                     a counter of /tollgate/stats (0 if none)
#   reload_file FILE                 reload through telemetry: "ok GEN" or not
#   check_ping NAME NS TARGET [OPTION...]  NS pings TARGET (2 echoes)
#   check_http NAME NS URL BODY      curl in NS gets BODY from URL
#   check_blocked NAME NS URL KEY    curl in NS fails, stats KEY grows
#   check_client NAME LOG PATH ADDR  the web server saw ADDR for PATH
#   e2e_root_view                    the root namespace's routes and IF_H
#   e2e_check_root NAME WHEN         e2e_root_view now ($TMP/root.WHEN) is
#                                    $TMP/root.before
#   e2e_nonzero_drops                the drop counters that are not 0
#   e2e_check_lan_arp                lan host resolved lan0's MAC
#   e2e_check_counters NAME [LAN_KIND WAN_KIND [HOST_NS HOST_IF HOST_KIND]]
#                                    kernel vs tollgate counters, invariant,
#                                    ports sum to pipeline
#   e2e_check_clean_exit             stop tollgate; status, counters, EAL dir
#   e2e_config_head COMMENT WAN_DRIVER  dpdk, mempool and ports of a YAML

pass() {
	echo "PASS $1"
	passed=$((passed + 1))
}

fail() { # name, why, [details file or text]
	echo "FAIL $1: $2"
	if [ -n "${3:-}" ]; then
		if [ -f "$3" ]; then
			tail -20 "$3" | sed 's/^/     | /'
		else
			printf '%s\n' "$3" | sed 's/^/     | /'
		fi
	fi
	failed=$((failed + 1))
}

info() { echo "     ($*)"; }

finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# Where every thread of a hung tollgate is: to the test's output, so that
# a hang CI alone has seen can be read in CI's log.
tg_dump_stacks() { # pid
	local t
	echo "---- threads of hung tollgate $1 (kernel side: state, wchan, stack)"
	for t in /proc/"$1"/task/*; do
		echo "$(cut -d' ' -f2,3 "$t/stat" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null | head -20
	done
	# Whatever else on the machine sits in memory management (a lock on
	# tollgate's address space may be held from outside it).
	echo "---- other tasks in mm code"
	for t in /proc/[0-9]*/task/*; do
		case "$t" in /proc/"$1"/*) continue ;; esac
		grep -qE 'mmap|mm_|vma|page|khugepaged|access_remote|compact' "$t/stack" 2>/dev/null || continue
		echo "$t $(cut -d' ' -f2,3 "$t/stat" 2>/dev/null)"
		sed 's/^/    /' "$t/stack" 2>/dev/null | head -20
	done | head -150
	if command -v gdb >/dev/null; then
		# twice, a second apart: a thread that moves is not stuck
		for t in 1 2; do
			timeout 60 gdb -p "$1" -batch -nx -ex "set pagination off" \
				-ex "thread apply all bt" 2>&1 |
				grep -E '^(Thread|#)' | head -120
			sleep 1
		done
	fi
	echo "----"
}

stop_tollgate() { # → exit status of tollgate
	local rc i
	[ -n "$TG_PID" ] || return 0
	if kill -0 "$TG_PID" 2>/dev/null; then
		kill -INT "$TG_PID" 2>/dev/null
		for ((i = 0; i < 150; i++)); do
			kill -0 "$TG_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$TG_PID" 2>/dev/null; then
			echo "tollgate did not stop on SIGINT: killing it" >>"$TMP/tollgate.log"
			tg_dump_stacks "$TG_PID"
			kill -9 "$TG_PID" 2>/dev/null
		fi
	fi
	wait "$TG_PID" 2>/dev/null
	rc=$?
	TG_PID=
	return $rc
}

# Web servers started in namespaces: add each one's pid to HTTP_PIDS;
# e2e_stop_http (and e2e_cleanup) stops them.
# The binaries and interpreter every script runs (TOLLGATE= and
# TOLLGATECTL= in the environment override them), and the run's id.
TOLLGATE=${TOLLGATE:-$ROOT/build/app/tollgate/tollgate}
TOLLGATECTL=${TOLLGATECTL:-$ROOT/build/app/tollgatectl/tollgatectl}
PY=/usr/bin/python3
id=$$

# e2e_names T NAME: the lan, wan and host namespaces and interfaces of
# this run (tgT-lan-ID; tgTL<id>, within the 15 characters of an
# interface name) and its EAL file prefix (tg-e2e-NAME-ID).
e2e_names() {
	NS_L=tg$1-lan-$id NS_W=tg$1-wan-$id NS_H=tg$1-host-$id
	IF_L=tg$1L$id IF_W=tg$1W$id IF_H=tg$1H$id
	PREFIX=tg-e2e-$2-$id
}

HTTP_PIDS=()
e2e_start_http() { # ns, port, directory, log
	# ip netns exec execs the server: $! is its pid.
	ip netns exec "$1" "$PY" -m http.server "$2" --bind 0.0.0.0 \
		--directory "$3" </dev/null >"$4" 2>&1 &
	HTTP_PIDS+=($!)
	tg_wait_tcp "$1" 127.0.0.1 "$2" 10
}

e2e_stop_http() {
	local pid
	for pid in "${HTTP_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	HTTP_PIDS=()
}

# Start tollgate on CONFIG (log: $TMP/tollgate.log, pid: TG_PID), wait
# until it runs and its ports' kernel ends IF_L and IF_W exist. The
# caller moves them at once: never restart a port, and link status is
# not waited for (TESTING.md).
e2e_start_tollgate() { # config
	"$TOLLGATE" -c "$1" </dev/null >"$TMP/tollgate.log" 2>&1 &
	TG_PID=$!
	tg_wait_log "$TMP/tollgate.log" '^tollgate: running' 30 "$TG_PID" || return 1
	tg_wait_iface "$IF_L" 10 || return 1
	tg_wait_iface "$IF_W" 10 || return 1
}

# Fresh namespaces NS_L, NS_W and (a host port's: tollgate moves its
# interface there) HOST_NS; tollgate on CONFIG; its taps moved into the lan
# and wan hosts as LAN_HOST/24 and WAN_HOST/24, their default routes via
# LAN_GW and WAN_GW, random MACs.
e2e_start_hosts() { # config [host-ns]
	tg_ns_destroy "$NS_L" "$NS_W" ${2:+"$2"}
	tg_ns_create "$NS_L" || return 1
	tg_ns_create "$NS_W" || return 1
	if [ -n "${2:-}" ]; then
		tg_ns_create "$2" || return 1
	fi
	e2e_start_tollgate "$1" || return 1
	tg_ns_take_iface "$IF_L" "$NS_L" "$LAN_HOST/24" "$LAN_GW" "$(tg_rand_mac)" || return 1
	tg_ns_take_iface "$IF_W" "$NS_W" "$WAN_HOST/24" "$WAN_GW" "$(tg_rand_mac)" || return 1
}

# The telemetry socket answers (within 10 s), or a message on stderr.
e2e_tel_ready() {
	tel --wait 10 || {
		echo "telemetry socket does not answer" >&2
		return 1
	}
}

e2e_cleanup() { # namespaces...
	e2e_stop_http
	stop_tollgate
	tg_ns_destroy "$@"
	rm -rf "$(tg_dpdk_rundir "$PREFIX")"
	if [ "${E2E_KEEP:-0}" = 1 ]; then
		echo "kept $TMP"
	else
		rm -rf "$TMP"
	fi
}

e2e_preflight() { # what root is needed for, tools...
	local tool
	if [ "$(id -u)" -ne 0 ]; then
		fail setup "must run as root ($1)"
		finish
	fi
	shift
	if [ ! -x "$TOLLGATE" ]; then
		fail build "$TOLLGATE not found: run ./scripts/build.sh"
		finish
	fi
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null; then
			fail setup "$tool is missing (./scripts/deps.sh installs it)"
			finish
		fi
	done
}

e2e_need_ctl() {
	if [ ! -x "$TOLLGATECTL" ]; then
		fail build "$TOLLGATECTL not found: run ./scripts/build.sh"
		finish
	fi
}

tel() { # command [params] [--get key]
	"$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" "$@"
}

nsx() { # namespace, command...
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

stat_get() { # dotted key of /tollgate/stats → value (0 when absent)
	tel /tollgate/stats --get "$1" 2>/dev/null || echo 0
}

# A reload through telemetry: "ok GENERATION", or what went wrong (a
# warning means the kernel's side was not brought in step).
reload_file() { # file
	local out
	out=$("$PY" - "$ROOT/test" "$PREFIX" "$1" 2>&1 <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
r = t.query(sys.argv[2], "/tollgate/config/reload", sys.argv[3], timeout=30)
if isinstance(r, dict) and r.get("result") == "ok" and not r.get("warning"):
    print("ok %s" % r.get("generation"))
else:
    print("not ok: %r" % (r,))
EOF
)
	echo "$out"
	# No answer at all: where tollgate's threads are, while it lasts (it
	# may be over by the time the test stops tollgate).
	if [[ "$out" == *"timed out"* ]] && [ -n "${TG_PID:-}" ]; then
		tg_dump_stacks "$TG_PID"
	fi
}

# Two echo requests 0.2 s apart, each answered within 2 s; ping OPTIONS
# go before TARGET (a -c there sets another count).
check_ping() { # name, ns, target, [ping options...]
	local name=$1 ns=$2 target=$3
	shift 3
	if nsx "$ns" ping -c 2 -i 0.2 -W 2 "$@" "$target" >"$TMP/ping.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "no reply from $target${*:+ (ping $*)}" "$TMP/ping.out"
	fi
}

check_http() { # name, ns, url, wanted body
	local got
	if ! got=$(nsx "$2" curl -sS --max-time 5 "$3" 2>"$TMP/curl.err"); then
		fail "$1" "curl $3 failed" "$TMP/curl.err"
	elif [ "$got" != "$4" ]; then
		fail "$1" "curl $3: '$got', want '$4'"
	else
		pass "$1"
	fi
}

# curl must not connect; the counter KEY of /tollgate/stats must grow.
check_blocked() { # name, ns, url, stats key
	local before after
	before=$(stat_get "$4")
	if nsx "$2" curl -sS --connect-timeout 1.5 --max-time 2 "$3" >"$TMP/curl.out" 2>&1; then
		fail "$1" "curl $3 got an answer" "$TMP/curl.out"
		return
	fi
	after=$(stat_get "$4")
	if [ "$after" -gt "$before" ]; then
		pass "$1"
		info "$(tail -1 "$TMP/curl.out"); $4 $before -> $after"
	else
		fail "$1" "curl failed, but $4 stayed $after" "$TMP/curl.out"
	fi
}

# The client address the server logged for its last request of PATH.
check_client() { # name, server log, path, wanted client address
	local line
	line=$(grep -F "\"GET $3 " "$2" | tail -1)
	if [ "${line%% *}" = "$4" ]; then
		pass "$1"
	else
		fail "$1" "server saw '${line%% *}' for GET $3, want $4" "$2"
	fi
}

e2e_root_view() { # → the root namespace's IPv4 routes and whether IF_H is there
	ip -4 route show table all
	ip -o link show dev "$IF_H" 2>/dev/null
}

# The root namespace now (kept as $TMP/root.WHEN) as it was in
# $TMP/root.before.
e2e_check_root() { # name, when
	e2e_root_view >"$TMP/root.$2"
	if diff -u "$TMP/root.before" "$TMP/root.$2" >"$TMP/root.diff"; then
		pass "$1"
	else
		fail "$1" "root namespace changed" "$TMP/root.diff"
	fi
}

e2e_nonzero_drops() { # → "key=n ..." of the drops that are not 0, or none
	"$PY" - "$ROOT/test" "$PREFIX" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
d = t.drops_flat(t.query(sys.argv[2], "/tollgate/stats"))
print(" ".join("%s=%d" % (k, v) for k, v in sorted(d.items()) if v) or "none")
EOF
}

# ARP: the lan host resolved the appliance's address to the lan port's MAC.
e2e_check_lan_arp() {
	local lan_mac neigh
	lan_mac=$(tel /tollgate/interfaces --get lan0.mac 2>/dev/null | tr 'A-F' 'a-f')
	neigh=$(ip -n "$NS_L" neigh show "$LAN_GW" dev "$IF_L")
	if [ -n "$lan_mac" ] && echo "$neigh" | grep -q "lladdr $lan_mac "; then
		pass arp.lan_host_knows_appliance_mac
	else
		fail arp.lan_host_knows_appliance_mac \
			"neighbor entry '$neigh', lan0 MAC '$lan_mac'"
	fi
}

tg_counters() { # → "lan_rx lan_tx wan_rx wan_tx host host_rx rx tx generated drops in_rings"
	"$PY" - "$ROOT/test" "$PREFIX" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
s = t.query(sys.argv[2], "/tollgate/stats")
p = s.get("ports", {})
print(p["lan"]["rx_packets"], p["lan"]["tx_packets"],
      p["wan"]["rx_packets"], p["wan"]["tx_packets"],
      s.get("host", 0), s.get("host_rx", 0), s["rx"], s["tx"],
      s["generated"], sum(t.drops_flat(s).values()), s.get("in_rings", 0))
EOF
}

kernel_counters() { # [host-ns host-if]: also the host port's interface
	echo "$(tg_iface_stat "$NS_L" "$IF_L" tx_packets) $(tg_iface_stat "$NS_L" "$IF_L" rx_packets)" \
		"$(tg_iface_stat "$NS_W" "$IF_W" tx_packets) $(tg_iface_stat "$NS_W" "$IF_W" rx_packets)"
	if [ -n "${1:-}" ]; then
		echo "$(tg_iface_stat "$1" "$2" tx_packets) $(tg_iface_stat "$1" "$2" rx_packets)"
	else
		echo "0 0"
	fi
}

# Once traffic has stopped: what each namespace interface sent is what
# tollgate received on that port, and what tollgate sent is what the
# interface received; with a host port (HOST_NS, HOST_IF: the interface
# tollgate moved there) the same for host_rx and host. Read kernel,
# tollgate, kernel again and accept only a stable reading (a late ARP
# could otherwise fall in between). NAME is the first check's name;
# LAN_KIND/WAN_KIND/HOST_KIND (e.g. tap, tun) are shown after the
# interface names in its detail line. Then, named after NAME without its
# last part: rx + generated = tx + host + drops with nothing in the
# rings, and rx = lan rx + wan rx + host_rx, tx = lan tx + wan tx.
e2e_check_counters() { # name [lan-kind wan-kind [host-ns host-if host-kind]]
	local name=$1 lk=${2:+ ($2)} wk=${3:+ ($3)} hns=${4:-} hif=${5:-} hk=${6:+ ($6)}
	local try k1 k2 t kl_tx kl_rx kw_tx kw_rx kh_tx kh_rx ok detail
	local tl_rx tl_tx tw_rx tw_tx host host_rx rx tx gen drops inr
	sleep 0.5
	for ((try = 0; try < 20; try++)); do
		k1=$(kernel_counters "$hns" "$hif")
		t=$(tg_counters 2>"$TMP/tel.err") || t=
		k2=$(kernel_counters "$hns" "$hif")
		if [ -z "$t" ] || [ "$k1" != "$k2" ]; then
			sleep 0.3
			continue
		fi
		read -r kl_tx kl_rx kw_tx kw_rx kh_tx kh_rx <<<"${k1//$'\n'/ }"
		read -r tl_rx tl_tx tw_rx tw_tx host host_rx rx tx gen drops inr <<<"$t"
		ok=0
		if [ "$kl_tx" = "$tl_rx" ] && [ "$kl_rx" = "$tl_tx" ] &&
			[ "$kw_tx" = "$tw_rx" ] && [ "$kw_rx" = "$tw_tx" ] &&
			{ [ -z "$hns" ] || { [ "$kh_tx" = "$host_rx" ] && [ "$kh_rx" = "$host" ]; }; }; then
			ok=1
		fi
		if [ "$ok" = 1 ] && [ "$inr" = 0 ] &&
			[ $((rx + gen)) = $((tx + host + drops)) ]; then
			break
		fi
		sleep 0.3
	done
	detail="kernel $IF_L$lk tx/rx ${kl_tx:-?}/${kl_rx:-?}, tollgate lan rx/tx ${tl_rx:-?}/${tl_tx:-?}; kernel $IF_W$wk tx/rx ${kw_tx:-?}/${kw_rx:-?}, tollgate wan rx/tx ${tw_rx:-?}/${tw_tx:-?}"
	if [ -n "$hns" ]; then
		detail="$detail; kernel $hif$hk tx/rx ${kh_tx:-?}/${kh_rx:-?}, tollgate host_rx/host ${host_rx:-?}/${host:-?}"
	fi
	if [ -z "${t:-}" ]; then
		fail "$name" "no telemetry reading" "$TMP/tel.err"
		return
	elif [ "${ok:-0}" = 1 ]; then
		pass "$name"
		echo "     ($detail)"
	else
		fail "$name" "$detail"
	fi
	if [ $((rx + gen)) = $((tx + host + drops)) ] && [ "$inr" = 0 ]; then
		pass "${name%.*}.invariant_rx_plus_generated_eq_tx_plus_host_plus_drops"
	else
		fail "${name%.*}.invariant_rx_plus_generated_eq_tx_plus_host_plus_drops" \
			"rx $rx + generated $gen vs tx $tx + host $host + drops $drops, in rings $inr"
	fi
	if [ $((tl_rx + tw_rx + host_rx)) = "$rx" ] && [ $((tl_tx + tw_tx)) = "$tx" ]; then
		pass "${name%.*}.ports_and_host_sum_to_pipeline"
	else
		fail "${name%.*}.ports_and_host_sum_to_pipeline" \
			"ports rx $tl_rx+$tw_rx + host_rx $host_rx vs pipeline rx $rx; ports tx $tl_tx+$tw_tx vs pipeline tx $tx"
	fi
}

# Stop tollgate: exit status 0, final counters printed, EAL dir removed.
e2e_check_clean_exit() {
	local rc
	stop_tollgate
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail tollgate.clean_exit "exit status $rc" "$(tail -3 "$TMP/tollgate.log")"
	elif ! grep -q -- '--- tollgate counters' "$TMP/tollgate.log"; then
		fail tollgate.clean_exit "no final counters printed" "$TMP/tollgate.log"
	elif [ -e "$(tg_dpdk_rundir "$PREFIX")" ]; then
		fail tollgate.clean_exit "$(tg_dpdk_rundir "$PREFIX") left behind"
	else
		pass tollgate.clean_exit
	fi
}

# The start of a tollgate YAML for two ports, lan (a net_tap) and wan
# (WAN_DRIVER: net_tap1 or net_tun0) on IF_L and IF_W, EAL prefix PREFIX;
# the caller appends interfaces, routes and the rest.
e2e_config_head() { # comment wan-driver → YAML on stdout
	cat <<EOF
# $1
dpdk:
  lcores: "0-1"
  memory_mb: 256
  no_huge: true
  file_prefix: $PREFIX
mempool:
  mbufs: 8191
ports:
  - name: lan
    device: "net_tap0,iface=$IF_L"
  - name: wan
    device: "$2,iface=$IF_W"
EOF
}
