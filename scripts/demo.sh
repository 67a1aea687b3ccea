#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The tollgate demo: two Linux hosts in network namespaces, tollgate routing
# between them (config/demo.yaml), and the appliance's own TCP/IP stack —
# the host port, a net_tun interface tollgate moves into the namespace
# tg-host — with a web server on it (docs/host.md).
#
#   tg-lan 192.168.10.2 ── [lan0 .10.1  tollgate  203.0.113.1 wan0] ── tg-wan 203.0.113.2
#                                     │ host port                    198.51.100.1 (static route)
#                 tg-host: 192.168.10.1/24 203.0.113.1/24, web server on :80
#
# Installs what is missing, builds, starts tollgate, shows a ping and an
# HTTP fetch through it (NAT: the wan host sees 203.0.113.1), the
# appliance answering ping and HTTP on both its addresses and fetching
# from the wan host itself, a port mapping to a lan web server, the
# firewall dropping what it has no exception for, then prints the live
# counters every second until Ctrl-C. Run as root:   ./scripts/demo.sh
#   DEMO_SECONDS=N     stop by itself after N seconds of counters
#   DEMO_NO_BUILD=1    skip deps.sh and build.sh
#   TOLLGATE=path      another tollgate binary
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
# shellcheck source-path=SCRIPTDIR source=netns.sh
. "$ROOT/scripts/netns.sh"

CONFIG=config/demo.yaml
PREFIX=tg-demo # dpdk.file_prefix in $CONFIG
NS_L=tg-lan NS_W=tg-wan
IF_L=tg-lan IF_W=tg-wan # the net_tap iface= names in $CONFIG
NS_H=tg-host IF_H=tg-host # host: netns and ifname in $CONFIG
LAN_GW=192.168.10.1 LAN_HOST=192.168.10.2
WAN_GW=203.0.113.1 WAN_HOST=203.0.113.2
FAR=198.51.100.1
HTTP_PORT=8080
HOST_HTTP_PORT=80 # the web server on the appliance (in $NS_H)
TOLLGATE=${TOLLGATE:-$ROOT/build/app/tollgate/tollgate}
CTL=$ROOT/build/app/tollgatectl/tollgatectl
LAN_HTTP_PORT=8000 # nat.port_mappings lan-web in $CONFIG
PY=/usr/bin/python3

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
[ -t 1 ] || say() { printf '==> %s\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	die "run as root (namespaces, tap interfaces, DPDK runtime files): sudo $0"
fi

if [ "${DEMO_NO_BUILD:-0}" != 1 ]; then
	say "installing what is missing (scripts/deps.sh)"
	./scripts/deps.sh || die "deps.sh failed"
	say "building (scripts/build.sh)"
	./scripts/build.sh || die "build failed"
fi
[ -x "$TOLLGATE" ] || die "$TOLLGATE not found"

# Another demo running? Its telemetry socket answers.
if "$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" --wait 0.2 2>/dev/null; then
	die "a tollgate with file prefix $PREFIX is already running (another demo?)"
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/tg-demo.XXXXXX")
LOG=$DIR/tollgate.log
TG_PID=
HTTP_PID=
HOST_HTTP_PID=
HTTP2_PID=
LAN_HTTP_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local i
	trap - INT TERM
	echo
	say "cleaning up"
	if [ -n "$TG_PID" ] && kill -0 "$TG_PID" 2>/dev/null; then
		kill -INT "$TG_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$TG_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$TG_PID" 2>/dev/null && kill -9 "$TG_PID" 2>/dev/null
	fi
	[ -n "$TG_PID" ] && wait "$TG_PID" 2>/dev/null
	if [ -f "$LOG" ] && grep -q -- '--- tollgate counters' "$LOG"; then
		echo "final counters:"
		sed -n '/^--- tollgate counters/,$p' "$LOG" | sed 's/^/  /'
	fi
	[ -n "$HTTP_PID" ] && kill "$HTTP_PID" 2>/dev/null
	[ -n "$HOST_HTTP_PID" ] && kill "$HOST_HTTP_PID" 2>/dev/null
	[ -n "$HTTP2_PID" ] && kill "$HTTP2_PID" 2>/dev/null
	[ -n "$LAN_HTTP_PID" ] && kill "$LAN_HTTP_PID" 2>/dev/null
	tg_ns_destroy "$NS_L" "$NS_W" "$NS_H"
	rm -rf "$(tg_dpdk_rundir "$PREFIX")" "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Left over from an interrupted demo (nothing runs in them any more).
if tg_ns_exists "$NS_L" || tg_ns_exists "$NS_W" || tg_ns_exists "$NS_H"; then
	say "removing namespaces left over from an earlier demo"
	tg_ns_destroy "$NS_L" "$NS_W" "$NS_H"
fi
rm -rf "$(tg_dpdk_rundir "$PREFIX")"

say "creating namespaces $NS_L, $NS_W and $NS_H (the appliance's own stack)"
if ! tg_ns_create "$NS_L" || ! tg_ns_create "$NS_W" || ! tg_ns_create "$NS_H"; then
	die "cannot create namespaces"
fi

say "starting tollgate -c $CONFIG --stats-period 1 (log: $LOG)"
"$TOLLGATE" -c "$CONFIG" --stats-period 1 </dev/null >"$LOG" 2>&1 &
TG_PID=$!
if ! tg_wait_log "$LOG" '^tollgate: running' 30 "$TG_PID"; then
	tail -20 "$LOG" >&2
	die "tollgate did not start"
fi

say "moving the tap interfaces into the namespaces"
if ! tg_wait_iface "$IF_L" 10 || ! tg_wait_iface "$IF_W" 10; then
	die "no tap interfaces"
fi
tg_ns_take_iface "$IF_L" "$NS_L" "$LAN_HOST/24" "$LAN_GW" "$(tg_rand_mac)" ||
	die "cannot configure $IF_L in $NS_L"
tg_ns_take_iface "$IF_W" "$NS_W" "$WAN_HOST/24" "$WAN_GW" "$(tg_rand_mac)" ||
	die "cannot configure $IF_W in $NS_W"
# A network behind the wan host, reached through the static route.
if ip -n "$NS_W" link add far0 type dummy 2>/dev/null; then
	ip -n "$NS_W" addr add "$FAR/24" dev far0
	ip -n "$NS_W" link set far0 up
else
	ip -n "$NS_W" addr add "$FAR/32" dev lo
fi
"$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" --wait 10 || die "telemetry does not answer"

echo
"$PY" - "$ROOT/test" "$PREFIX" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import tgtelemetry as t
for name, i in t.query(sys.argv[2], "/tollgate/interfaces").items():
    print("  %-5s port %-4s %-18s mac %s" % (name, i["port"], i["address"],
                                             i["mac"]))
EOF
echo
say "the host port: tollgate moved interface $IF_H into namespace $NS_H and gave it the appliance's addresses and routes"
ip -n "$NS_H" -br addr show dev "$IF_H" | sed 's/^/  /'
ip -n "$NS_H" route show | sed 's/^/  /'
echo

say "ping $NS_L → $WAN_HOST ($NS_W), through tollgate"
ip netns exec "$NS_L" ping -c 3 -i 0.3 -W 2 "$WAN_HOST"
say "ping $NS_L → $FAR (the static route 198.51.100.0/24 via $WAN_HOST)"
ip netns exec "$NS_L" ping -c 2 -i 0.3 -W 2 "$FAR"
say "ping -t 1: tollgate answers Time Exceeded from $LAN_GW"
ip netns exec "$NS_L" ping -c 1 -t 1 -W 2 "$WAN_HOST"

mkdir -p "$DIR/www"
echo "hello from $NS_W, through tollgate" >"$DIR/www/index.html"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$DIR/www/8MB.bin"
ip netns exec "$NS_W" "$PY" -m http.server "$HTTP_PORT" --bind "$WAN_HOST" \
	--directory "$DIR/www" </dev/null >"$DIR/http.log" 2>&1 &
HTTP_PID=$!
tg_wait_tcp "$NS_W" "$WAN_HOST" "$HTTP_PORT" 10 || die "the web server did not start"
say "HTTP from $NS_L: curl http://$WAN_HOST:$HTTP_PORT/"
ip netns exec "$NS_L" curl -sS --max-time 10 "http://$WAN_HOST:$HTTP_PORT/"
echo "  NAT: the wan web server saw the client as $(grep -F '"GET / ' "$DIR/http.log" | tail -1 | cut -d' ' -f1) (the lan host is $LAN_HOST)"
ip netns exec "$NS_L" curl -sS --max-time 30 -o /dev/null \
	-w "  8 MB file: %{size_download} bytes in %{time_total} s\n" \
	"http://$WAN_HOST:$HTTP_PORT/8MB.bin"

# The filter hook: lan0's inbound list denies TCP to port 8081, where a
# second web server listens on the wan host.
ip netns exec "$NS_W" "$PY" -m http.server 8081 --bind "$WAN_HOST" \
	--directory "$DIR/www" </dev/null >"$DIR/http2.log" 2>&1 &
HTTP2_PID=$!
tg_wait_tcp "$NS_W" "$WAN_HOST" 8081 10 || die "the second web server did not start"
say "HTTP from $NS_L to port 8081: lan0's inbound filter denies it (no answer)"
if ip netns exec "$NS_L" curl -sS --max-time 2 "http://$WAN_HOST:8081/"; then
	die "port 8081 answered through the filter"
fi
"$CTL" -f "$PREFIX" filters lan0 in
echo "  drops.filter.in.denied: $("$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" /tollgate/stats --get drops.filter.in.denied)"

# The appliance itself: a web server in its own stack (the host port).
mkdir -p "$DIR/host-www"
echo "hello from tollgate itself (a web server in $NS_H, behind the host port)" \
	>"$DIR/host-www/index.html"
ip netns exec "$NS_H" "$PY" -m http.server "$HOST_HTTP_PORT" --bind 0.0.0.0 \
	--directory "$DIR/host-www" </dev/null >"$DIR/host-http.log" 2>&1 &
HOST_HTTP_PID=$!
tg_wait_tcp "$NS_H" 127.0.0.1 "$HOST_HTTP_PORT" 10 ||
	die "the web server in $NS_H did not start"
say "ping the appliance itself: $NS_L → $LAN_GW, $NS_W → $WAN_GW (answered by its kernel)"
ip netns exec "$NS_L" ping -c 2 -i 0.3 -W 2 "$LAN_GW"
ip netns exec "$NS_W" ping -c 2 -i 0.3 -W 2 "$WAN_GW"
say "HTTP to the appliance from $NS_L: curl http://$LAN_GW/"
ip netns exec "$NS_L" curl -sS --max-time 10 "http://$LAN_GW:$HOST_HTTP_PORT/"
say "HTTP to the appliance from $NS_W: curl http://$WAN_GW/"
ip netns exec "$NS_W" curl -sS --max-time 10 "http://$WAN_GW:$HOST_HTTP_PORT/"
say "HTTP from the appliance ($NS_H) to $WAN_HOST: its own connection, source path"
ip netns exec "$NS_H" curl -sS --max-time 10 "http://$WAN_HOST:$HTTP_PORT/"
echo "  the wan host's web server saw the client: $(grep -F '"GET / ' "$DIR/http.log" | tail -1 | cut -d' ' -f1)"
echo "  stats: host $("$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" /tollgate/stats --get host) packets delivered to the kernel," \
	"host_rx $("$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" /tollgate/stats --get host_rx) received from it"

say "NAT sessions (tollgatectl nat sessions): the lan host's flows and their public ports"
"$CTL" -f "$PREFIX" nat sessions | head -12

mkdir -p "$DIR/lan-www"
echo "hello from $NS_L ($LAN_HOST), reached through a port mapping" \
	>"$DIR/lan-www/index.html"
ip netns exec "$NS_L" "$PY" -m http.server "$LAN_HTTP_PORT" --bind "$LAN_HOST" \
	--directory "$DIR/lan-www" </dev/null >"$DIR/lan-http.log" 2>&1 &
LAN_HTTP_PID=$!
tg_wait_tcp "$NS_L" "$LAN_HOST" "$LAN_HTTP_PORT" 10 ||
	die "the web server in $NS_L did not start"
say "port mapping: $NS_W → http://$WAN_GW:$LAN_HTTP_PORT/ reaches the lan host's web server"
ip netns exec "$NS_W" curl -sS --max-time 10 "http://$WAN_GW:$LAN_HTTP_PORT/"

say "the firewall: $NS_W → $WAN_GW port 22 has no exception: dropped, no answer (not even a reset)"
if ip netns exec "$NS_W" curl -sS --max-time 2 "telnet://$WAN_GW:22" </dev/null 2>/dev/null; then
	die "port 22 of the appliance answered through the firewall"
fi
echo "  drops.natfw.no_exception: $("$PY" "$ROOT/test/tgtelemetry.py" "$PREFIX" /tollgate/stats --get drops.natfw.no_exception)"
"$CTL" -f "$PREFIX" firewall | sed 's/^/  /'

cat <<EOF

Try next (as root, in another terminal, while the demo runs):
  ip netns exec $NS_L curl http://$WAN_HOST:$HTTP_PORT/
  ip netns exec $NS_L ping $FAR             # through the static route
  ip netns exec $NS_L ping -t 1 $WAN_HOST   # Time exceeded from $LAN_GW
  ip netns exec $NS_L ping 10.9.9.9         # Net unreachable from $LAN_GW
  ip netns exec $NS_W ping $LAN_HOST
  ip netns exec $NS_L curl http://$LAN_GW/  # the appliance's own web server
  build/app/tollgatectl/tollgatectl -f $PREFIX filters lan0 in  # rule hits
  build/app/tollgatectl/tollgatectl -f $PREFIX nat        # NAT summary
  build/app/tollgatectl/tollgatectl -f $PREFIX firewall   # exceptions, ICMP
  ip netns exec $NS_W curl http://$WAN_GW:$LAN_HTTP_PORT/  # the port mapping
  ip netns exec $NS_H bash                # a shell in the appliance's own stack
                                            # (ip addr, ss -tn, curl, sshd, ...)
  echo /tollgate/stats | dpdk-telemetry.py -f $PREFIX
  dpdk-telemetry.py -f $PREFIX              # interactive: /tollgate/stats,
                                            # /tollgate/interfaces, /help
  $PY test/tgtelemetry.py $PREFIX /tollgate/stats --get drops

Counters below: host counts the packets delivered to the appliance's own
kernel (those it sent are part of rx); forward.no_route counts, among
others, the wan web server's reverse-DNS lookup of its own address (sent
to this machine's resolver, for which tollgate has no route);
pkt.unsupported_ethertype the IPv6 frames the kernel sent on the taps
before they were moved and IPv6 was turned off.

EOF

if [ -n "${DEMO_SECONDS:-}" ]; then
	say "live counters for ${DEMO_SECONDS}s (tollgate --stats-period 1)"
else
	say "live counters (tollgate --stats-period 1); Ctrl-C to stop"
fi
start=$SECONDS
while :; do
	sleep 1
	if ! kill -0 "$TG_PID" 2>/dev/null; then
		# Ctrl-C reaches tollgate too (same process group): not an error.
		grep -q '^tollgate: stopping (signal' "$LOG" && exit 0
		tail -20 "$LOG" >&2
		die "tollgate stopped"
	fi
	line=$(grep -E '^rx [0-9]+ ' "$LOG" | tail -1)
	[ -n "$line" ] && printf '  [%3ds] %s\n' $((SECONDS - start)) "$line"
	if [ -n "${DEMO_SECONDS:-}" ] && [ $((SECONDS - start)) -ge "$DEMO_SECONDS" ]; then
		break
	fi
done
exit 0
