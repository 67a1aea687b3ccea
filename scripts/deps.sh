#!/usr/bin/env bash
# Installs the Debian 12 packages tollgate needs to build, test, run the
# demo and benchmark — only those that are missing. Run as root.
set -euo pipefail

pkgs=(
	build-essential meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev dpdk-doc
	libyaml-dev libcunit1-dev libpcap-dev libmnl-dev
	python3 python3-scapy python3-cryptography python3-yaml python3-numpy
	tshark iproute2 iputils-ping ethtool curl procps
	clang libclang-rt-14-dev graphviz gdb
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
