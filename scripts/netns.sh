# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Network-namespace helpers shared by test/e2e/run.sh and scripts/demo.sh.
# Source it (bash); every function returns non-zero on failure and says why
# on stderr. Nothing here touches the root namespace's addresses or routes:
# the only root-namespace action is moving a tap interface out of it.
#
#   tg_ns_exists NS                 true if the namespace exists
#   tg_ns_create NS                 new namespace, lo up, IPv6 off
#   tg_ns_destroy NS...             kill what runs inside (by pid), delete
#   tg_wait_iface IFACE [SECONDS]   until IFACE exists in the root namespace
#   tg_ns_take_iface IFACE NS ADDR/LEN [GATEWAY] [MAC]
#                                   move, (re-MAC), address, up, default route
#   tg_wait_tcp NS ADDR PORT [SECONDS]   until a TCP connect succeeds
#   tg_wait_log FILE REGEX [SECONDS] [PID]  until FILE has a matching line
#   tg_rand_mac                     a random locally administered unicast MAC
#   tg_iface_stat NS IFACE COUNTER  e.g. tx_packets, from sysfs in NS
#   tg_dpdk_rundir PREFIX           /var/run/dpdk/PREFIX (as EAL picks it)

tg_ns_exists() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF -- "$1"
}

tg_ns_create() {
	local ns=$1
	if tg_ns_exists "$ns"; then
		echo "netns: $ns exists already" >&2
		return 1
	fi
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up || return 1
	# No IPv6: router solicitations, MLD and DAD would add frames the
	# counter checks would have to explain.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

tg_ns_destroy() {
	local ns pid
	for ns in "$@"; do
		tg_ns_exists "$ns" || continue
		# Only processes started inside this namespace (ours).
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		sleep 0.1
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

tg_wait_iface() {
	local iface=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		[ -e "/sys/class/net/$iface" ] && return 0
		sleep 0.05
	done
	echo "netns: interface $iface did not appear within ${secs}s" >&2
	return 1
}

# Move a tap interface (still in the root namespace) into NS and configure
# it there. The DPDK side keeps working after the move as long as the port
# is never restarted (TESTING.md). MAC: the kernel end starts with the DPDK
# port's MAC; giving it another one keeps the two ends apart in neighbor
# tables and captures.
tg_ns_take_iface() {
	local iface=$1 ns=$2 addr=$3 gw=${4:-} mac=${5:-}
	ip link set dev "$iface" netns "$ns" || return 1
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=1" \
		>/dev/null 2>&1 || true
	if [ -n "$mac" ]; then
		ip -n "$ns" link set dev "$iface" address "$mac" || return 1
	fi
	ip -n "$ns" addr add "$addr" dev "$iface" || return 1
	ip -n "$ns" link set dev "$iface" up || return 1
	if [ -n "$gw" ]; then
		ip -n "$ns" route add default via "$gw" dev "$iface" || return 1
	fi
}

tg_wait_tcp() {
	local ns=$1 addr=$2 port=$3 secs=${4:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		if ip netns exec "$ns" bash -c \
			"exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "netns: nothing listens on $addr:$port in $ns after ${secs}s" >&2
	return 1
}

tg_wait_log() {
	local file=$1 re=$2 secs=${3:-20} pid=${4:-} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE -- "$re" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			echo "netns: process $pid exited before '$re' in $file" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "netns: no '$re' in $file after ${secs}s" >&2
	return 1
}

tg_rand_mac() {
	local b
	b=$(od -An -N5 -tx1 /dev/urandom | tr -s ' ' ':')
	echo "02${b%:}"
}

tg_iface_stat() {
	ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"
}

tg_dpdk_rundir() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "/var/run/dpdk/$1"
	else
		echo "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
	fi
}
