#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tollgate end-to-end: the seed's web server example, config/webserver.yaml
# as shipped (names changed): an IPsec rule requiring protection of TCP 80
# to and from the appliance's address, and a firewall exception for TCP
# 80. The protected client is the host of a second appliance,
# config/webserver-client.yaml (the kernel here has no ESP); the
# unprotected one a plain namespace on the same wan.
#
#   web server ─tun─ [A 192.0.2.1 wan0] ─tap─┐
#   (netns host A, :80 on 192.0.2.1)          br0 (netns wan, 192.0.2.3: client C, captured)
#   curl ─tun─ [B 192.0.2.2 wan0] ───────tap─┘
#   (netns host B)
#
# Checks, each with the web server's access log and A's counters:
#   - B's request (ESP both ways) reaches the web server, which logs
#     192.0.2.2; C's (unprotected) is dropped by A as ipsec.unprotected,
#     the server logs nothing from 192.0.2.3;
#   - a 200 KB protected download with a checksum (full-size segments:
#     the file's MTU 1400 leaves room for ESP on the 1500-byte wire);
#   - the wan capture: TCP port 80 between A and B never in clear; their
#     ESP, decrypted by scapy with the file's keys, is the HTTP exchange;
#   - A reloaded with the exception removed: B's request is dropped by
#     the firewall (natfw.no_exception), the server logs nothing new;
#   - A reloaded with allow_authenticated_bypass: true (still no
#     exception): B's request reaches the server again; C's is still
#     dropped as ipsec.unprotected;
#   - in each case, A's /tollgate/explain of B's request (in ESP under
#     web-in) and of C's (unprotected) ends where the real ones did:
#     host, natfw.no_exception, ipsec.unprotected;
#   - counters' invariant on both, clean exits.
# Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
# on any failure. Root. TOLLGATE=path overrides the binary; E2E_KEEP=1
# keeps the temporary directory (logs, captures).
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
# shellcheck source-path=SCRIPTDIR source=../../scripts/netns.sh
. "$ROOT/scripts/netns.sh"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/test/e2e/lib.sh"
# shellcheck source-path=SCRIPTDIR source=pair.sh
. "$ROOT/test/e2e/pair.sh"

NS_HA=tgw-hosta-$id NS_HB=tgw-hostb-$id NS_WAN=tgw-wan-$id
IF_WA=tgwAW$id IF_HA=tgwAH$id IF_WB=tgwBW$id IF_HB=tgwBH$id
PFX_A=tg-e2e-web-a-$id PFX_B=tg-e2e-web-b-$id
SERVER=192.0.2.1 CLIENT=192.0.2.2 PLAIN=192.0.2.3
URL=http://$SERVER/

# shellcheck disable=SC2034 # counted by pass and fail (lib.sh)
passed=0 failed=0
TG_PID=
TMP=$(mktemp -d /tmp/tg-e2e-web.XXXXXX)
T0=$SECONDS

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	pair_cleanup "$NS_HA" "$NS_HB" "$NS_WAN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

e2e_preflight "namespaces, taps, a bridge" ip curl sha256sum dumpcap
if ! "$PY" -c 'import scapy.layers.ipsec, yaml' 2>/dev/null; then
	fail setup "$PY lacks scapy's IPsec layer or PyYAML (./scripts/deps.sh)"
	finish
fi

# ---- configurations: the shipped ones, with this run's names -----------------------

sed -e "s/iface=web-wan\"/iface=$IF_WA\"/" -e "s/file_prefix: tg-web\$/file_prefix: $PFX_A/" \
	-e "s/ifname: web-host\$/ifname: $IF_HA/" -e "s/netns: web-host /netns: $NS_HA /" \
	config/webserver.yaml >"$TMP/a.yaml"
sed -e "s/iface=webc-wan\"/iface=$IF_WB\"/" -e "s/file_prefix: tg-web-client\$/file_prefix: $PFX_B/" \
	-e "s/ifname: webc-host\$/ifname: $IF_HB/" -e "s/netns: webc-host /netns: $NS_HB /" \
	config/webserver-client.yaml >"$TMP/b.yaml"
# A without the exception, then also with the bypass.
sed -e '/^  exceptions:$/,/^      port: 80$/c\  exceptions: []' "$TMP/a.yaml" >"$TMP/a-noexc.yaml"
sed -e 's/allow_authenticated_bypass: false/allow_authenticated_bypass: true/' \
	"$TMP/a-noexc.yaml" >"$TMP/a-bypass.yaml"
if [ "$(grep -cE "$IF_WA|$PFX_A|$IF_HA|$NS_HA" "$TMP/a.yaml")" != 4 ] ||
	[ "$(grep -cE "$IF_WB|$PFX_B|$IF_HB|$NS_HB" "$TMP/b.yaml")" != 4 ] ||
	grep -q ' port: 80$' "$TMP/a-noexc.yaml" ||
	! grep -q 'exceptions: \[\]' "$TMP/a-noexc.yaml" ||
	! grep -q 'allow_authenticated_bypass: true' "$TMP/a-bypass.yaml"; then
	fail setup "the shipped webserver configs changed: the names to replace are not there"
	finish
fi

# ---- set up ----------------------------------------------------------------------------

setup() {
	tg_ns_destroy "$NS_HA" "$NS_HB" "$NS_WAN"
	tg_ns_create "$NS_HA" && tg_ns_create "$NS_HB" && tg_ns_create "$NS_WAN" || return 1
	pair_bridge "$NS_WAN" || return 1
	ip -n "$NS_WAN" addr add "$PLAIN/24" dev br0 || return 1
	pair_start A "$TMP/a.yaml" "$PFX_A" "$IF_WA" || return 1
	pair_start B "$TMP/b.yaml" "$PFX_B" "$IF_WB" || return 1
	pair_bridge_port "$NS_WAN" "$IF_WA" || return 1
	pair_bridge_port "$NS_WAN" "$IF_WB" || return 1
	pair_use A && e2e_tel_ready || return 1
	pair_use B && e2e_tel_ready || return 1
	tg_wait_iface_ns "$NS_HA" "$IF_HA" && tg_wait_iface_ns "$NS_HB" "$IF_HB" || return 1
	mkdir -p "$TMP/www"
	echo "tollgate web server $id" >"$TMP/www/index.html"
	head -c $((200 * 1024 + 11)) /dev/urandom >"$TMP/www/blob"
	# The web server bound to the appliance's address, as the seed's.
	ip netns exec "$NS_HA" "$PY" -m http.server 80 --bind "$SERVER" \
		--directory "$TMP/www" </dev/null >"$TMP/http.log" 2>&1 &
	HTTP_PIDS+=($!)
	tg_wait_tcp "$NS_HA" "$SERVER" 80 10 || return 1
	cap_start wan "$NS_WAN" br0
}
tg_wait_iface_ns() { # ns, iface: tollgate moved its host interface there
	local i
	for ((i = 0; i < 100; i++)); do
		ip -n "$1" link show dev "$2" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "$2 did not appear in $1" >&2
	return 1
}
if ! setup 2>"$TMP/setup.err"; then
	fail setup "$(tail -1 "$TMP/setup.err")" "$(tail -5 "$TMP"/tollgate-*.log 2>/dev/null)"
	finish
fi
pass setup

# Requests the web server logged from ADDR.
logged() { # addr
	grep -c "^$1 .*\"GET / " "$TMP/http.log"
}

# B's host fetches the page: it must get it, and the server log one more
# request from B.
check_protected_ok() { # name
	local n0 n1
	n0=$(logged "$CLIENT")
	check_http "$1" "$NS_HB" "$URL" "tollgate web server $id"
	n1=$(logged "$CLIENT")
	if [ "$n1" = $((n0 + 1)) ]; then
		pass "$1.server_logged_$CLIENT"
	else
		fail "$1.server_logged_$CLIENT" "requests from $CLIENT in the log: $n0 -> $n1" "$TMP/http.log"
	fi
}

# C's unprotected request: refused by A as ipsec.unprotected; nothing from
# C in the server's log.
check_plain_refused() { # name
	pair_use A
	check_blocked "$1" "$NS_WAN" "$URL" drops.ipsec.unprotected
	if [ "$(logged "$PLAIN")" = 0 ]; then
		pass "$1.server_logged_nothing_from_$PLAIN"
	else
		fail "$1.server_logged_nothing_from_$PLAIN" "the server saw $PLAIN" "$TMP/http.log"
	fi
}

# check_explain NAME WANT PARAMS: A's /tollgate/explain of PARAMS ends
# with WANT (the whole answer kept in $TMP/explain.NAME.json).
check_explain() {
	local got
	pair_use A
	tel /tollgate/explain "$3" >"$TMP/explain.$1.json" 2>&1
	got=$(tel /tollgate/explain "$3" --get end 2>&1)
	if [ "$got" = "$2" ]; then
		pass "$1"
	else
		fail "$1" "explain ends '$got', want '$2'" "$TMP/explain.$1.json"
	fi
}
# B's request as it arrives (ESP under web-in, 0x3002), and C's.
EXPLAIN_B="in wan0 tcp $CLIENT:40000 -> $SERVER:80 flags S esp 12290"
EXPLAIN_C="in wan0 tcp $PLAIN:40000 -> $SERVER:80 flags S"

# ---- 1. as shipped: IPsec rule and firewall exception --------------------------------------

# The first request may wait for ARP: one warm-up, not judged.
nsx "$NS_HB" curl -s --max-time 3 -o /dev/null "$URL"
check_protected_ok shipped.protected_request_from_B_served
check_plain_refused shipped.unprotected_request_from_C_dropped_ipsec_unprotected
# Full-size segments: the server's answers, ESP added, must fit the wire.
rm -f "$TMP/got"
if nsx "$NS_HB" curl -sS --max-time 20 -o "$TMP/got" "${URL}blob" 2>"$TMP/curl.err" &&
	[ "$(sha256sum <"$TMP/got")" = "$(sha256sum <"$TMP/www/blob")" ]; then
	pass shipped.protected_200KB_download_checksum
else
	fail shipped.protected_200KB_download_checksum \
		"curl or checksum failed ($(stat -c %s "$TMP/got" 2>/dev/null || echo 0) bytes)" "$TMP/curl.err"
fi
check_explain shipped.explain_B_to_the_host host "$EXPLAIN_B"
check_explain shipped.explain_C_dropped_ipsec_unprotected \
	"drop ipsec.unprotected" "$EXPLAIN_C"
pair_use A
held=$(ipsec_sa_packets) nx=$(stat_get drops.natfw.no_exception)
if [ "$held" -gt 0 ] && [ "$nx" = 0 ]; then
	pass shipped.A_ipsec_stage_busy_firewall_dropped_nothing
	info "A: the SAs carried $held packets; natfw.no_exception $nx"
else
	fail shipped.A_ipsec_stage_busy_firewall_dropped_nothing \
		"A: SA packets $held; natfw.no_exception $nx"
fi

# ---- 2. the exception removed: the firewall drops what IPsec let in --------------------------

pair_use A
r=$(reload_file "$TMP/a-noexc.yaml" 2>&1)
if [ "${r%% *}" = ok ]; then
	pass noexc.reload_without_exception
	n0=$(logged "$CLIENT")
	check_blocked noexc.protected_request_from_B_dropped_natfw_no_exception \
		"$NS_HB" "$URL" drops.natfw.no_exception
	if [ "$(logged "$CLIENT")" = "$n0" ]; then
		pass noexc.server_logged_nothing_new
	else
		fail noexc.server_logged_nothing_new "the server saw B again" "$TMP/http.log"
	fi
	check_plain_refused noexc.unprotected_request_from_C_still_dropped
	check_explain noexc.explain_B_dropped_natfw_no_exception \
		"drop natfw.no_exception" "$EXPLAIN_B"
else
	fail noexc.reload_without_exception "reload: $r"
fi

# ---- 3. no exception, allow_authenticated_bypass: IPsec-protected passes ----------------------

pair_use A
r=$(reload_file "$TMP/a-bypass.yaml" 2>&1)
if [ "${r%% *}" = ok ]; then
	pass bypass.reload_with_bypass_no_exception
	nx0=$(stat_get drops.natfw.no_exception)
	check_protected_ok bypass.protected_request_from_B_served
	nx1=$(stat_get drops.natfw.no_exception)
	if [ "$nx1" = "$nx0" ]; then
		pass bypass.firewall_dropped_nothing
	else
		fail bypass.firewall_dropped_nothing "natfw.no_exception $nx0 -> $nx1"
	fi
	check_plain_refused bypass.unprotected_request_from_C_still_dropped
	check_explain bypass.explain_B_to_the_host host "$EXPLAIN_B"
else
	fail bypass.reload_with_bypass_no_exception "reload: $r"
fi

# ---- the wire -------------------------------------------------------------------------------

cap_stop wan
"$PY" - "$TMP/wan.pcap" "$TMP/a.yaml" >"$TMP/wire.out" 2>&1 <<'EOF'
import sys, yaml
from scapy.all import rdpcap, IP, TCP, Raw
from scapy.layers.ipsec import SecurityAssociation, ESP

cfg = yaml.safe_load(open(sys.argv[2]))["ipsec"]
sas = {}
for s in cfg["sas"]:
    sas[s["spi"]] = SecurityAssociation(ESP, spi=s["spi"], crypt_algo="AES-GCM",
        crypt_key=bytes.fromhex(s["key"] + s["salt"]), auth_algo="NULL")
A, B, C = "192.0.2.1", "192.0.2.2", "192.0.2.3"
clear, esp, bad, gets, oks, c_syn = 0, 0, [], 0, 0, 0
for n, f in enumerate(rdpcap(sys.argv[1]), 1):
    if IP not in f:
        continue
    ip = f[IP]
    if {ip.src, ip.dst} == {A, B}:
        if TCP in ip:
            clear += 1
            bad.append("frame %d: TCP %s:%d -> %s:%d in clear" % (n, ip.src, ip[TCP].sport, ip.dst, ip[TCP].dport))
        elif ip.proto == 50:
            esp += 1
            spi = ip[ESP].spi
            want = 0x3001 if ip.src == A else 0x3002
            if spi != want:
                bad.append("frame %d: SPI 0x%x from %s" % (n, spi, ip.src))
                continue
            try:
                p = sas[spi].decrypt(IP(bytes(ip)))
            except Exception as e:
                bad.append("frame %d: does not decrypt: %s" % (n, e))
                continue
            t = p[TCP] if TCP in p else None
            if t is None or 80 not in (t.sport, t.dport):
                bad.append("frame %d: inner %s" % (n, p.summary()))
            elif Raw in t and t[Raw].load.startswith(b"GET / "):
                gets += 1
            elif Raw in t and t[Raw].load.startswith(b"HTTP/1.0 200"):
                oks += 1
    elif ip.src == C and TCP in ip and ip[TCP].dport == 80:
        c_syn += 1
print("A<->B: %d ESP (GET %d, 200 OK %d), %d TCP in clear; C's TCP to port 80: %d" % (esp, gets, oks, clear, c_syn))
print("WIRE " + ("ok" if not bad and esp > 0 and gets >= 2 and oks >= 2 else "bad"))
for b in bad[:15]:
    print(b)
EOF
if grep -qx 'WIRE ok' "$TMP/wire.out"; then
	pass wire.A_B_port_80_only_in_esp_decrypted_by_scapy
	info "$(head -1 "$TMP/wire.out")"
else
	fail wire.A_B_port_80_only_in_esp_decrypted_by_scapy "see below" "$TMP/wire.out"
fi

# ---- idle workers give their CPU back (pipeline.idle_sleep_us) ----------------------------------

# The kernel's accounting of each worker thread over 2 s with no traffic:
# spinning would be ~200 ticks (100 Hz); sleeping 100 us per empty poll,
# a few. And tollgate's own count of the sleeps grows.
worker_ticks() { # pid → utime + stime of its rte-worker threads
	local t sum=0
	for t in /proc/"$1"/task/*; do
		grep -q '^rte-worker' "$t/comm" 2>/dev/null || continue
		set -- "$1" $(cut -d')' -f2- "$t/stat")
		sum=$((sum + ${13} + ${14}))
	done
	echo "$sum"
}
e2e_stop_http
sleep 0.5
for x in A B; do
	pair_use "$x"
	s0=$(stat_get idle_sleeps) k0=$(worker_ticks "$TG_PID")
	sleep 2
	s1=$(stat_get idle_sleeps) k1=$(worker_ticks "$TG_PID")
	if [ $((k1 - k0)) -lt 100 ] && [ "$s1" -gt "$s0" ]; then
		pass "idle.$x.worker_sleeps_when_idle"
		info "$x: worker CPU $((k1 - k0)) ticks in 2 s; idle_sleeps $s0 -> $s1"
	else
		fail "idle.$x.worker_sleeps_when_idle" \
			"worker CPU $((k1 - k0)) ticks in 2 s (spinning: ~200); idle_sleeps $s0 -> $s1"
	fi
done

# ---- counters and exit ------------------------------------------------------------------------

for x in A B; do
	pair_use "$x"
	pair_check_invariant "counters.$x.invariant_and_ports_sum"
	info "$x drops: $(e2e_nonzero_drops 2>&1)"
done
pair_check_clean_exit A
pair_check_clean_exit B
info "took $((SECONDS - T0)) s"
finish
