#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tollgate end-to-end: the natfw stage (docs/nat.md) between real Linux
# hosts — NAPT from a private lan to a "public" wan, a port mapping, and
# the stateful host firewall on the appliance's own stack.
#
#   lan host 10.0.0.2 ─tap─ [lan0 10.0.0.1  tollgate  203.0.113.1 wan0] ─tap─ wan host 203.0.113.2
#   default via 10.0.0.1          │ tun (host port)                       no route to 10.0.0.0/24:
#   web server :80                │                                       only NAT makes replies work
#                netns tgn-host-<pid>: 10.0.0.1/24 203.0.113.1/24         web :80 :8081, tcp echo :7000,
#                web servers :8000 (no exception) and :2222 (exception alt-ssh)   udp echo :5300 :5303
#
# Config A: nat {private: [lan0], public: [wan0], addresses: 203.0.113.1
#           ports 10000-32767 (apart from the host's ephemeral range, as
#           configuration.md asks)}; firewall {exceptions: [alt-ssh tcp 2222]}.
# Config B (reload): A + port mappings web tcp 8080 → 10.0.0.2:80 and
#           closed udp 5302 → 10.0.0.2:5302 (nothing listens), and the
#           exception host-web tcp 8000.
# Checks:
#   - the wan host has no route to 10.0.0.0/24;
#   - transit lan → wan (NAT): HTTP works and the wan server logs only the
#     NAT address as its client; ping with identifier 4321 (outside the
#     range) works; a UDP echo server sees 203.0.113.1 and a port of the
#     range; RFC 4787: a free in-range UDP port is preserved, one mapping
#     serves two destinations, a datagram to it from another remote port
#     is dropped (natfw.no_exception); the wan host's port unreachable
#     (ICMP error translated back) and RST reach the lan host's sockets;
#   - unsolicited from wan: TCP to 203.0.113.1:9999 (no mapping, nothing
#     listening) and to :8080 before the mapping, and ping of 203.0.113.1
#     (echo_request blocked by default) fail, counted as natfw.no_exception
#     and natfw.icmp_blocked;
#   - source path: the host namespace's curl and ping to the wan host work
#     (dynamic entries), the server sees 203.0.113.1; wan → the host's
#     :8000 fails (no_exception) and its server logs nothing, wan → :2222
#     (exception) works;
#   - reload B, with a lan → wan TCP connection open across it (it keeps
#     its translated port): wan → 203.0.113.1:8080 reaches the lan host's
#     web server (which logs the wan host as client); the lan host's port
#     unreachable for udp 5302 reaches the wan host's socket (ICMP error
#     translated out); wan → the host's :8000 works; lan → wan and the
#     host's own connections still work;
#   - the wan wire (dumpcap in the wan namespace, the whole run): no
#     10.0.0.0/24 address, embedded ICMP headers included; the lan host's
#     TCP source ports and echo identifiers in the NAT range (replies with
#     the same identifiers); the appliance's own echoes untranslated;
#   - counters: every kernel interface against tollgate's, rx + generated
#     = tx + host + drops; the root namespace's routes unchanged; a clean
#     exit.
# Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
# on any failure. Root. TOLLGATE=path, TOLLGATECTL=path override the
# binaries; E2E_KEEP=1 keeps the temporary directory (logs, wan.pcap).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
. "$ROOT/scripts/netns.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/test/e2e/lib.sh"

e2e_names n nat
LAN_GW=10.0.0.1 LAN_HOST=10.0.0.2
NAT_ADDR=203.0.113.1 WAN_HOST=203.0.113.2
# The wan host gets no default route (e2e_start_hosts adds none without a
# gateway): it has no way back to 10.0.0.0/24 but through the NAT address.
# shellcheck disable=SC2034 # read by e2e_start_hosts (lib.sh)
WAN_GW=
NAT_LO=10000 NAT_HI=32767 # nat.addresses[0].ports
PING_ID=4321              # the lan host's: outside the range, must be translated
HOST_PING_ID=4322         # the appliance's own: a dynamic entry, not translated
WAN_HTTP=80               # the wan host's web server for the lan host
WAN_HTTP_HOST=8081        # ... and for the appliance's own stack
WAN_UDP=5300              # the wan host's UDP echo server
LAN_HTTP=80               # the lan host's web server behind the mapping
MAP_PORT=8080             # its public port
HOST_WEB=8000             # the host's web server without an exception (A)
HOST_SSH=2222             # ... and with one (alt-ssh)
CLOSED=9999               # nothing listens, nothing mapped
WAN_TCP=7000              # the wan host's TCP echo server
WAN_UDP2=5303             # a second one (another destination)
UDP_LPORT=20002           # the lan host's UDP port for the RFC 4787 checks
UDP_STRANGER=5399         # a wan port the lan host never sent to
UDP_CLOSED=5301           # nothing listens on the wan host
UDP_MAP_PORT=5302         # mapped (B) to the lan host, where nothing listens

# shellcheck disable=SC2034 # counted by pass and fail (lib.sh)
passed=0 failed=0
TG_PID=
CAP_PID=
TMP=$(mktemp -d /tmp/tg-e2e-nat.XXXXXX)
T0=$SECONDS

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	stop_capture
	e2e_cleanup "$NS_L" "$NS_W" "$NS_H"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

e2e_preflight "namespaces, tap/tun" ip ping curl dumpcap tshark
e2e_need_ctl

# ---- configurations ----------------------------------------------------------

config() { # extra nat lines, extra exception lines (YAML, indented)
	e2e_config_head "generated by test/e2e/nat.sh" net_tap1
	cat <<EOF
interfaces:
  - {name: lan0, port: lan, address: $LAN_GW/24}
  - {name: wan0, port: wan, address: $NAT_ADDR/24}
nat:
  private: [lan0]
  public: [wan0]
  addresses:
    - {address: $NAT_ADDR, ports: $NAT_LO-$NAT_HI}
$1
firewall:
  exceptions:
    - {name: alt-ssh, protocol: tcp, port: $HOST_SSH}
$2
host:
  type: tun
  ifname: $IF_H
  netns: $NS_H
EOF
}
PMAP="  port_mappings:
    - {name: web, protocol: tcp, public_port: $MAP_PORT, private_address: $LAN_HOST, private_port: $LAN_HTTP}
    - {name: closed, protocol: udp, public_port: $UDP_MAP_PORT, private_address: $LAN_HOST}"
EXC="    - {name: host-web, protocol: tcp, port: $HOST_WEB}"
config "" "" >"$TMP/a.yaml"
config "$PMAP" "$EXC" >"$TMP/b.yaml"

# ---- helpers -------------------------------------------------------------------

# dumpcap on the wan host's interface, for the whole run (passive: it
# changes no counter; -p: no promiscuous mode).
start_capture() {
	ip netns exec "$NS_W" dumpcap -q -p -P -i "$IF_W" -w "$TMP/wan.pcap" \
		</dev/null >/dev/null 2>"$TMP/dumpcap.err" &
	CAP_PID=$!
	tg_wait_log "$TMP/dumpcap.err" '^Capturing on' 10 "$CAP_PID"
}

stop_capture() {
	[ -n "$CAP_PID" ] || return 0
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
}

# A UDP server in NS on PORT that answers each datagram with the address
# and port it came from ("ADDR PORT").
start_udp_echo() { # ns, port
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(("%s %d" % a).encode(), a)
' "$2" </dev/null >>"$TMP/udp-echo.log" 2>&1 &
	HTTP_PIDS+=($!) # stopped with the web servers
	local i
	for ((i = 0; i < 50; i++)); do
		[ -n "$(ip netns exec "$1" ss -Hlun "sport = :$2")" ] && return 0
		sleep 0.1
	done
	echo "udp echo server on :$2 did not start" >&2
	return 1
}

# A TCP server in NS on PORT that answers each line with "ADDR PORT: LINE"
# (the client's address and port as it sees them), many connections.
start_tcp_echo() { # ns, port
	ip netns exec "$1" "$PY" -c '
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(("%s %d: " % self.client_address).encode() + line)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
' "$2" </dev/null >>"$TMP/tcp-echo.log" 2>&1 &
	HTTP_PIDS+=($!)
	tg_wait_tcp "$1" 127.0.0.1 "$2" 10
}

# One datagram from NS to ADDR:PORT, up to 3 tries: the answer, or nothing.
udp_ask() { # ns, addr, port
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(3):
    s.sendto(b"who am i", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recvfrom(2048)[0].decode())
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
' "$2" "$3"
}

# From lan port LPORT, one datagram to the wan host's echo servers on
# WAN_UDP and WAN_UDP2: prints what each saw ("ADDR PORT"), then waits
# 2 s for anything else arriving at LPORT: "extra ..." or "none".
udp_lan_probe() { # lport
	ip netns exec "$NS_L" "$PY" -c '
import socket, sys
wan, p1, p2, lport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", lport))
for port in (p1, p2):
    s.settimeout(1)
    for _ in range(3):
        s.sendto(b"who am i", (wan, port))
        try:
            d, a = s.recvfrom(2048)
            print(d.decode(), flush=True)
            break
        except socket.timeout:
            pass
    else:
        print("timeout", flush=True)
s.settimeout(2)
try:
    d, a = s.recvfrom(2048)
    print("extra %r from %s:%d" % (d, a[0], a[1]))
except socket.timeout:
    print("none")
' "$WAN_HOST" "$WAN_UDP" "$WAN_UDP2" "$1"
}

# A datagram to ADDR:PORT, where nothing listens, from a connected socket
# in NS: "refused" when an ICMP port unreachable came back (the kernel
# matched it to the socket: addresses and ports of the packet it carries
# are the socket's), "timeout", or the answer.
udp_refused() { # ns, addr, port
	ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.connect((sys.argv[1], int(sys.argv[2])))
for _ in range(2):
    try:
        s.send(b"anybody there")
        print("answer %r" % s.recv(2048))
        sys.exit(0)
    except ConnectionRefusedError:
        print("refused")
        sys.exit(0)
    except socket.timeout:
        pass
print("timeout")
' "$2" "$3"
}

# The wan capture as text, once (tshark starts slowly): a line a frame,
# tab-separated: number, ip.src, ip.dst, icmp.type, icmp.ident,
# tcp.srcport, tcp.dstport. An ICMP error's embedded header adds its
# addresses after a comma ("203.0.113.2,203.0.113.1").
cap_text() {
	tshark -n -r "$TMP/wan.pcap" -T fields -e frame.number -e ip.src -e ip.dst \
		-e icmp.type -e icmp.ident -e tcp.srcport -e tcp.dstport \
		>"$TMP/wan.txt" 2>"$TMP/tshark.err"
}

# Column COL of the frames for which the awk CONDITION holds ($2 ip.src,
# $3 ip.dst, $4 icmp.type, $5 icmp.ident, $6/$7 tcp ports).
cap_select() { # condition, column
	awk -F'\t' "$1 { print \$$2 }" "$TMP/wan.txt"
}

# All numbers in FILE (one a line) are in LO..HI and there is one at
# least: "ok", or what is wrong.
all_in_range() { # file, lo, hi
	awk -v lo="$2" -v hi="$3" '
		NF { n++; if ($1 < lo || $1 > hi) bad = bad " " $1 }
		END { if (!n) print "none seen"; else if (bad != "") print "outside" bad; else print "ok" }' "$1"
}

# ---- start -----------------------------------------------------------------------

e2e_root_view >"$TMP/root.before"
start_run() {
	e2e_start_hosts "$TMP/a.yaml" "$NS_H" || return 1
	e2e_tel_ready || return 1
	start_capture || return 1
}
if ! start_run 2>"$TMP/setup.err"; then
	fail setup "$(tail -1 "$TMP/setup.err")" "$TMP/tollgate.log"
	finish
fi
pass setup

if r=$(ip -n "$NS_W" route get "$LAN_HOST" 2>&1); then
	fail setup.wan_host_has_no_route_to_lan "route get $LAN_HOST: $r"
else
	pass setup.wan_host_has_no_route_to_lan
fi

mkdir -p "$TMP/wanwww" "$TMP/lanwww" "$TMP/hostwww" "$TMP/sshwww"
echo "wan host $id" >"$TMP/wanwww/index.html"
cp "$TMP/wanwww/index.html" "$TMP/wanwww/lan.html"
cp "$TMP/wanwww/index.html" "$TMP/wanwww/host.html"
echo "lan host $id" >"$TMP/lanwww/index.html"
echo "host web $id" >"$TMP/hostwww/index.html"
echo "host ssh $id" >"$TMP/sshwww/index.html"
if e2e_start_http "$NS_W" "$WAN_HTTP" "$TMP/wanwww" "$TMP/http-wan.log" 2>"$TMP/srv.err" &&
	e2e_start_http "$NS_W" "$WAN_HTTP_HOST" "$TMP/wanwww" "$TMP/http-wan-host.log" 2>>"$TMP/srv.err" &&
	e2e_start_http "$NS_L" "$LAN_HTTP" "$TMP/lanwww" "$TMP/http-lan.log" 2>>"$TMP/srv.err" &&
	e2e_start_http "$NS_H" "$HOST_WEB" "$TMP/hostwww" "$TMP/http-host.log" 2>>"$TMP/srv.err" &&
	e2e_start_http "$NS_H" "$HOST_SSH" "$TMP/sshwww" "$TMP/http-ssh.log" 2>>"$TMP/srv.err" &&
	start_udp_echo "$NS_W" "$WAN_UDP" 2>>"$TMP/srv.err" &&
	start_udp_echo "$NS_W" "$WAN_UDP2" 2>>"$TMP/srv.err" &&
	start_tcp_echo "$NS_W" "$WAN_TCP" 2>>"$TMP/srv.err"; then
	pass setup.servers
else
	fail setup.servers "$(tail -1 "$TMP/srv.err")"
fi

# ---- 1, 2: transit lan → wan through NAT ---------------------------------------

check_http nat.http_lan_to_wan "$NS_L" "http://$WAN_HOST:$WAN_HTTP/lan.html" "wan host $id"
check_http nat.http_lan_to_wan_again "$NS_L" "http://$WAN_HOST:$WAN_HTTP/lan.html" "wan host $id"
clients=$(awk '/"GET /{print $1}' "$TMP/http-wan.log" | sort | uniq -c | sed 's/^ *//' | tr '\n' ' ')
if [ -n "$clients" ] && ! awk '/"GET /{print $1}' "$TMP/http-wan.log" | grep -vqxF "$NAT_ADDR"; then
	pass nat.wan_server_saw_only_nat_address
	info "clients: $clients"
else
	fail nat.wan_server_saw_only_nat_address "clients (count address): '${clients:-none}', want only $NAT_ADDR" \
		"$TMP/http-wan.log"
fi

check_ping nat.ping_lan_to_wan_identifier_translated "$NS_L" "$WAN_HOST" -e "$PING_ID"

r=$(udp_ask "$NS_L" "$WAN_HOST" "$WAN_UDP" 2>&1)
if [ "${r%% *}" = "$NAT_ADDR" ] && [ "${r##* }" -ge "$NAT_LO" ] 2>/dev/null &&
	[ "${r##* }" -le "$NAT_HI" ]; then
	pass nat.udp_lan_to_wan_seen_from_nat_address_and_range
	info "the wan host saw $r"
else
	fail nat.udp_lan_to_wan_seen_from_nat_address_and_range \
		"answer '$r', want '$NAT_ADDR <port in $NAT_LO-$NAT_HI>'" "$TMP/udp-echo.log"
fi

# RFC 4787: port preservation (LPORT is free and in the range), one
# mapping for every destination (endpoint-independent mapping), and
# address-and-port-dependent filtering: a datagram to the mapping from a
# port the lan host never sent to is dropped.
udp_lan_probe "$UDP_LPORT" >"$TMP/probe.out" 2>&1 &
probe=$!
for ((i = 0; i < 40; i++)); do
	[ "$(wc -l <"$TMP/probe.out")" -ge 2 ] && break
	sleep 0.1
done
# to the public port the wan host saw (preserved or not)
mapped=$(head -1 "$TMP/probe.out")
mapped=${mapped##* }
[[ "$mapped" =~ ^[0-9]+$ ]] || mapped=$UDP_LPORT
ne0=$(stat_get drops.natfw.no_exception)
nsx "$NS_W" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[3])))
s.sendto(b"unsolicited", (sys.argv[1], int(sys.argv[2])))
' "$NAT_ADDR" "$mapped" "$UDP_STRANGER" 2>>"$TMP/probe.out"
wait "$probe"
ne1=$(stat_get drops.natfw.no_exception)
mapfile -t probe_out <"$TMP/probe.out"
if [ "${probe_out[0]:-}" = "$NAT_ADDR $UDP_LPORT" ]; then
	pass nat.udp_source_port_preserved
else
	fail nat.udp_source_port_preserved "the wan host saw '${probe_out[0]:-}', want '$NAT_ADDR $UDP_LPORT'" "$TMP/probe.out"
fi
if [[ "${probe_out[0]:-}" == "$NAT_ADDR "* ]] && [ "${probe_out[1]:-}" = "${probe_out[0]}" ]; then
	pass nat.udp_endpoint_independent_mapping
else
	fail nat.udp_endpoint_independent_mapping \
		"to :$WAN_UDP seen as '${probe_out[0]:-}', to :$WAN_UDP2 as '${probe_out[1]:-}'" "$TMP/probe.out"
fi
if [[ "${probe_out[0]:-}" != "$NAT_ADDR "* ]]; then
	fail nat.udp_filtering_drops_unknown_remote_port "no mapping to test (the lan host's datagrams got no answer)"
elif [ "${probe_out[2]:-}" = none ] && [ "$ne1" -gt "$ne0" ]; then
	pass nat.udp_filtering_drops_unknown_remote_port
	info "natfw.no_exception $ne0 -> $ne1"
else
	fail nat.udp_filtering_drops_unknown_remote_port \
		"lan host: '${probe_out[2]:-}', natfw.no_exception $ne0 -> $ne1" "$TMP/probe.out"
fi

r=$(udp_refused "$NS_L" "$WAN_HOST" "$UDP_CLOSED" 2>&1)
if [ "$r" = refused ]; then
	pass nat.icmp_error_to_lan_host_translated
else
	fail nat.icmp_error_to_lan_host_translated \
		"UDP to $WAN_HOST:$UDP_CLOSED (closed): '$r', want the port unreachable as ECONNREFUSED"
fi
# A connect to a closed port: the wan host's RST, translated back.
if nsx "$NS_L" timeout 3 bash -c "exec 3<>/dev/tcp/$WAN_HOST/$CLOSED" >"$TMP/tcp.out" 2>&1; then
	fail nat.tcp_rst_to_lan_host_translated "connected" "$TMP/tcp.out"
elif grep -q "Connection refused" "$TMP/tcp.out"; then
	pass nat.tcp_rst_to_lan_host_translated
else
	fail nat.tcp_rst_to_lan_host_translated "want 'Connection refused' (the wan host's RST)" "$TMP/tcp.out"
fi

# ---- 3: unsolicited from wan -----------------------------------------------------

check_blocked fw.wan_tcp_to_unmapped_port_dropped "$NS_W" \
	"http://$NAT_ADDR:$CLOSED/" drops.natfw.no_exception
check_blocked fw.wan_tcp_to_8080_before_mapping_dropped "$NS_W" \
	"http://$NAT_ADDR:$MAP_PORT/" drops.natfw.no_exception
ib0=$(stat_get drops.natfw.icmp_blocked)
if nsx "$NS_W" ping -c 1 -W 1 "$NAT_ADDR" >"$TMP/ping-fw.out" 2>&1; then
	fail fw.wan_ping_to_appliance_blocked "answered" "$TMP/ping-fw.out"
else
	ib1=$(stat_get drops.natfw.icmp_blocked)
	if [ "$ib1" -gt "$ib0" ]; then
		pass fw.wan_ping_to_appliance_blocked
		info "natfw.icmp_blocked $ib0 -> $ib1"
	else
		fail fw.wan_ping_to_appliance_blocked "no answer, but natfw.icmp_blocked stayed $ib1" "$TMP/ping-fw.out"
	fi
fi

# ---- 5: the appliance's own stack (source path, dynamic entries) -----------------

check_http fw.http_host_to_wan_dynamic_entry "$NS_H" \
	"http://$WAN_HOST:$WAN_HTTP_HOST/host.html" "wan host $id"
check_client fw.wan_server_saw_appliance_address "$TMP/http-wan-host.log" /host.html "$NAT_ADDR"
check_ping fw.ping_host_to_wan_dynamic_entry "$NS_H" "$WAN_HOST" -e "$HOST_PING_ID"
check_blocked fw.wan_to_host_port_without_exception_dropped "$NS_W" \
	"http://$NAT_ADDR:$HOST_WEB/" drops.natfw.no_exception
if grep -q '"GET ' "$TMP/http-host.log"; then
	fail fw.host_server_got_nothing "the host's server on :$HOST_WEB logged requests" "$TMP/http-host.log"
else
	pass fw.host_server_got_nothing
fi
check_http fw.wan_to_host_port_with_exception "$NS_W" "http://$NAT_ADDR:$HOST_SSH/" "host ssh $id"
check_client fw.host_server_saw_wan_host "$TMP/http-ssh.log" / "$WAN_HOST"

# ---- reload B: 4, the port mapping; the exception for :8000 ------------------------

# A TCP connection from the lan host, open across the reload: its source
# port (ephemeral, above the NAT range) was translated to a port of the
# range; had the reload lost the session, its next segment would make a
# new one on another port and the wan host would refuse it.
rm -f "$TMP/reloaded"
nsx "$NS_L" "$PY" -c '
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
f = c.makefile("rwb")
f.write(b"before\n"); f.flush()
print(f.readline().decode().strip(), flush=True)
for _ in range(100):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)
f.write(b"after\n"); f.flush()
print(f.readline().decode().strip(), flush=True)
' "$WAN_HOST" "$WAN_TCP" "$TMP/reloaded" >"$TMP/conn.out" 2>&1 &
conn=$!
for ((i = 0; i < 40; i++)); do
	[ -s "$TMP/conn.out" ] && break
	sleep 0.1
done
if "$TOLLGATECTL" -f "$PREFIX" reload "$TMP/b.yaml" >"$TMP/reload-b.out" 2>&1 &&
	! grep -q '^warning' "$TMP/reload-b.out"; then
	pass reload.b_port_mapping_and_exception_applied
else
	fail reload.b_port_mapping_and_exception_applied "tollgatectl reload failed" "$TMP/reload-b.out"
fi
touch "$TMP/reloaded"
wait "$conn"
mapfile -t conn_out <"$TMP/conn.out"
if [[ "${conn_out[0]:-}" == "$NAT_ADDR "*": before" ]] &&
	[ "${conn_out[1]:-}" = "${conn_out[0]/%before/after}" ]; then
	pass reload.tcp_connection_survives
	info "${conn_out[0]} / ${conn_out[1]}"
else
	fail reload.tcp_connection_survives "want '$NAT_ADDR PORT: before' then the same port 'after'" "$TMP/conn.out"
fi
check_http pmap.wan_to_nat_8080_reaches_lan_host "$NS_W" \
	"http://$NAT_ADDR:$MAP_PORT/" "lan host $id"
check_client pmap.lan_server_saw_wan_host "$TMP/http-lan.log" / "$WAN_HOST"
check_http pmap.wan_to_nat_8080_again "$NS_W" "http://$NAT_ADDR:$MAP_PORT/" "lan host $id"
# Hairpinning (RFC 5382 REQ-8): the lan host reaches its own mapped
# server through the NAT address, and sees the connection come from the
# NAT address (its own mapping), not from itself.
check_http pmap.hairpin_lan_to_nat_8080 "$NS_L" "http://$NAT_ADDR:$MAP_PORT/" "lan host $id"
check_client pmap.hairpin_server_saw_nat_address "$TMP/http-lan.log" / "$NAT_ADDR"
r=$(udp_refused "$NS_W" "$NAT_ADDR" "$UDP_MAP_PORT" 2>&1)
if [ "$r" = refused ]; then
	pass pmap.icmp_error_from_lan_host_translated
else
	fail pmap.icmp_error_from_lan_host_translated \
		"UDP to $NAT_ADDR:$UDP_MAP_PORT (mapped to $LAN_HOST:$UDP_MAP_PORT, closed): '$r', want ECONNREFUSED"
fi
check_http fw.wan_to_host_port_after_exception_added "$NS_W" \
	"http://$NAT_ADDR:$HOST_WEB/" "host web $id"
check_http reload.http_lan_to_wan_still_works "$NS_L" \
	"http://$WAN_HOST:$WAN_HTTP/lan.html" "wan host $id"
check_http reload.http_host_to_wan_still_works "$NS_H" \
	"http://$WAN_HOST:$WAN_HTTP_HOST/host.html" "wan host $id"

# ---- the wan wire ----------------------------------------------------------------------

e2e_stop_http
sleep 0.3
stop_capture
cap_text
nframes=$(wc -l <"$TMP/wan.txt")
# shellcheck disable=SC2016 # awk's fields
priv=$(cap_select '($2 "," $3) ~ /(^|,)10\.0\.0\./' 0)
if [ "$nframes" -gt 0 ] && [ -z "$priv" ]; then
	pass wire.no_private_address_on_wan
	info "$nframes frames captured on $IF_W"
else
	fail wire.no_private_address_on_wan "$nframes frames; with a 10.0.0.0/24 address (frame, src, dst, icmp type/id, tcp ports):" \
		"${priv:-$(cat "$TMP/tshark.err" "$TMP/dumpcap.err" 2>/dev/null)}"
fi
# The lan host's connections to :80 (the host's go to :8081).
cap_select "\$2 == \"$NAT_ADDR\" && \$7 == $WAN_HTTP" 6 | sort -un >"$TMP/ports"
r=$(all_in_range "$TMP/ports" "$NAT_LO" "$NAT_HI")
if [ "$r" = ok ]; then
	pass wire.lan_tcp_source_ports_in_nat_range
	info "source ports $(tr '\n' ' ' <"$TMP/ports")"
else
	fail wire.lan_tcp_source_ports_in_nat_range "$r"
fi
# Echoes between the NAT address and the wan host: the lan host's (its
# identifier translated into the range) and the appliance's own ones
# (HOST_PING_ID, untranslated).
cap_select "\$4 == 8 && \$2 == \"$NAT_ADDR\" && \$3 == \"$WAN_HOST\" && \$5 != $HOST_PING_ID" 5 |
	sort -u >"$TMP/idents"
cap_select "\$4 == 0 && \$2 == \"$WAN_HOST\" && \$3 == \"$NAT_ADDR\" && \$5 != $HOST_PING_ID" 5 |
	sort -u >"$TMP/idents-reply"
r=$(all_in_range "$TMP/idents" "$NAT_LO" "$NAT_HI")
if [ "$r" = ok ] && cmp -s "$TMP/idents" "$TMP/idents-reply"; then
	pass wire.lan_echo_identifier_translated_into_nat_range
	info "lan ping identifier $PING_ID, on the wan wire $(tr '\n' ' ' <"$TMP/idents")"
else
	fail wire.lan_echo_identifier_translated_into_nat_range \
		"requests' identifiers: $r ($(tr '\n' ' ' <"$TMP/idents")), replies' $(tr '\n' ' ' <"$TMP/idents-reply")"
fi
n=$(cap_select "\$4 == 8 && \$2 == \"$NAT_ADDR\" && \$5 == $HOST_PING_ID" 1 | wc -l)
if [ "$n" -gt 0 ]; then
	pass wire.appliance_echo_identifier_untranslated
else
	fail wire.appliance_echo_identifier_untranslated \
		"no echo request with identifier $HOST_PING_ID from $NAT_ADDR on the wan wire"
fi

# ---- 6: counters and exit --------------------------------------------------------------

e2e_check_counters counters.kernel_equals_tollgate_lan_wan_host tap tap "$NS_H" "$IF_H" tun
info "drops: $(e2e_nonzero_drops 2>&1)"
e2e_check_root root.routes_unchanged_no_host_interface during
e2e_check_clean_exit
e2e_check_root exit.root_namespace_unchanged after
info "took $((SECONDS - T0)) s"
finish
