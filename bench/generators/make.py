#!/usr/bin/python3
"""Write what a wire test of the benchmark's transit-forward scenario needs.

    make.py config [-o FILE] [--lan-pci ADDR] [--wan-pci ADDR]
                   [--lcores 1-2] [--worker 2] [--gen-rx-mac MAC]
    make.py pcap   --dst-mac MAC [--size 64] [-o FILE]
    make.py pktgen --dst-mac MAC [--size 64] [-o FILE]

config: tollgate's YAML, from the benchmark's own writer
        (scenarios.tollgate_transit_yaml): its interfaces, limits, routes,
        static neighbors and ring sizes unchanged; EAL, mempool, ports and
        placement replaced by values for PCI NICs. --gen-rx-mac puts the
        generator's receiving port MAC in the four static neighbors
        (default: the bench's 02:00:00:00:01:02..05, which then needs that
        port in promiscuous mode).
pcap:   the bench's frames (bench/traffic.py, same seed) with MAC as the
        destination: tollgate's p0 MAC, for pktgen -s 0:FILE or tcpreplay.
pktgen: a pktgen-dpdk command file sending the same addresses as ranges.

Run with Debian's python (scapy, for pcap): /usr/bin/python3.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # bench/

import scenarios  # noqa: E402
import traffic as tr  # noqa: E402

MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")


def mac_arg(s):
    if not MAC_RE.match(s):
        raise argparse.ArgumentTypeError("not a MAC address: %r" % s)
    return s.lower()


def write_pcap(path, size, dst_mac, src_mac=None):
    """bench/traffic.py's transit-udp frames with other Ethernet addresses
    (the rest is byte for byte the bench's: same seed, same calls)."""
    saved = tr.DUT_MAC, tr.SRC_MAC
    try:
        tr.DUT_MAC = dst_mac
        tr.SRC_MAC = src_mac or tr.SRC_MAC
        return scenarios.TRANSIT_UDP.gen(path, size)
    finally:
        tr.DUT_MAC, tr.SRC_MAC = saved


class WireCtx(scenarios.Ctx):
    """The bench's run context, with PCI devices instead of pcap vdevs."""

    def __init__(self, lan, wan, lcores):
        super().__init__(prefix="tollgate-wire", rx_pcap="", empty_pcap="",
                         size=64, n_packets=0, workdir="", lcores=lcores)
        self.devices = (lan, wan)

    def vdev(self, port):
        return self.devices[port]


def wire_config(lan, wan, lcores, worker, gen_rx_mac=None, mbufs=32767,
                memory_mb=512):
    ctx = WireCtx(lan, wan, lcores)
    text = scenarios.tollgate_transit_yaml(ctx, scenarios.TRANSIT_UDP)
    lines = text.splitlines()
    # The bench's header: dpdk (no_huge, pcap vdevs), mempool, ports. The
    # checks make a change in the bench's writer fail here, not silently.
    body = lines.index("interfaces:")
    head = lines[:body]
    assert head[0].startswith("#") and "dpdk:" in head and \
        "mempool:" in head and "ports:" in head, head
    place = lines.index("  placement:")
    assert lines[place + 1:] == [
        "    - lcore: 1", "      ports: [p0, p1]",
        "      stages: [forward, filter, natfw, ipsec, localfilter]"], \
        lines[place:]
    middle = lines[body:place]
    if gen_rx_mac:
        n = 0
        for i, ln in enumerate(middle):
            if re.match(r'^    mac: "02:00:00:00:01:0[0-9a-f]"$', ln):
                middle[i] = '    mac: "%s"' % gen_rx_mac
                n += 1
        assert n == len(scenarios.TRANSIT_NEXT_HOPS), n
    out = [
        "# tollgate on a wire: the benchmark's transit-forward scenario.",
        "# Written by bench/generators/make.py config from the bench's own",
        "# writer (bench/scenarios.py tollgate_transit_yaml): interfaces,",
        "# routes, static neighbors and ring sizes are the bench's; EAL,",
        "# mempool, ports and placement are for PCI NICs. Check it with",
        "#   tollgate --check -c FILE",
        "#",
        "#   generator port 0 -> p0 (lan0 10.0.0.1/24)   tollgate",
        "#   generator port 1 <- p1 (wan0 10.1.0.1/24)   next hops "
        "10.1.0.2-.5",
        "#",
        "# Traffic: UDP from 48.0.0.0/16 to 512 /24s in 16.0.0.0-16.1.255.0,",
        "# routed via four static next hops on wan0 (no ARP on that side).",
        "dpdk:",
        '  lcores: "%s"            # main lcore (control, mostly asleep) '
        'and the worker' % lcores,
        "  memory_mb: %d          # hugepages, one LPM spare for reloads"
        % memory_mb,
        "  file_prefix: tollgate-wire",
        "mempool:",
        "  mbufs: %d            # RX/TX descriptors, stage rings, caches"
        % mbufs,
        "  cache: 256",
        "ports:",
        "  - name: p0                  # faces generator port 0",
        '    device: "%s"' % lan,
        "  - name: p1                  # faces generator port 1",
        '    device: "%s"' % wan,
    ]
    out += middle
    out += [
        "  placement:",
        "    - lcore: %d" % worker,
        "      ports: [p0, p1]",
        "      stages: [forward, filter, natfw, ipsec, localfilter]",
    ]
    return "\n".join(out) + "\n"


PKTGEN = """\
# pktgen-dpdk command file: the benchmark's transit-udp addresses as ranges.
# Written by bench/generators/make.py pktgen (see README.md there).
#   pktgen port 0 -> tollgate p0 (lan0 10.0.0.1/24), destination MAC {dst}
#   pktgen port 1 <- tollgate p1 (wan0), receives only (start pktgen with -P)
# Another tollgate or size: make.py pktgen --dst-mac P0_MAC --size N.
# Range mode steps each field linearly, it does not draw it at random:
# every packet goes to the next of the 512 /24s 16.0.0.0-16.1.255.0 (host .1),
# from the next source in 48.0.0.0/16 and the next source port; the bench's
# destination ports 53/123/443/8080/5000-5999 become 5000-5999. For the
# bench's exact frames replay make.py's pcap instead (-s 0:FILE).
stop all
set 0 type ipv4
set 0 proto udp
set 0 size {size}
set 0 rate 100

range 0 dst mac start {dst}
range 0 dst mac min {dst}
range 0 dst mac max {dst}
range 0 dst mac inc 00:00:00:00:00:00

range 0 src ip start 48.0.0.1
range 0 src ip min 48.0.0.1
range 0 src ip max 48.0.255.254
range 0 src ip inc 0.0.0.1

range 0 dst ip start 16.0.0.1
range 0 dst ip min 16.0.0.1
range 0 dst ip max 16.1.255.1
range 0 dst ip inc 0.0.1.0

range 0 proto udp

range 0 src port start 1024
range 0 src port min 1024
range 0 src port max 65535
range 0 src port inc 1

range 0 dst port start 5000
range 0 dst port min 5000
range 0 dst port max 5999
range 0 dst port inc 1

range 0 ttl start 64
range 0 ttl min 64
range 0 ttl max 64
range 0 ttl inc 0

range 0 size start {size}
range 0 size min {size}
range 0 size max {size}
range 0 size inc 0

enable 0 range
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("config", help="tollgate YAML for PCI NICs")
    c.add_argument("-o", "--output", default="-")
    c.add_argument("--lan-pci", default="0000:01:00.0")
    c.add_argument("--wan-pci", default="0000:01:00.1")
    c.add_argument("--lcores", default="1-2")
    c.add_argument("--worker", type=int, default=2)
    c.add_argument("--gen-rx-mac", type=mac_arg)
    c.add_argument("--mbufs", type=int, default=32767)
    c.add_argument("--memory-mb", type=int, default=512)
    p = sub.add_parser("pcap", help="the bench's frames, to tollgate's MAC")
    p.add_argument("--dst-mac", type=mac_arg, required=True)
    p.add_argument("--src-mac", type=mac_arg)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("-o", "--output")
    k = sub.add_parser("pktgen", help="pktgen-dpdk range command file")
    k.add_argument("--dst-mac", type=mac_arg, required=True)
    k.add_argument("--size", type=int, default=64)
    k.add_argument("-o", "--output", default="-")
    a = ap.parse_args()

    if a.what == "pcap":
        out = a.output or "transit-udp-%d-wire.pcap" % a.size
        n = write_pcap(out, a.size, a.dst_mac, a.src_mac)
        print("%s: %d frames of %d B (%d B on the wire)"
              % (out, n, a.size - 4, a.size), file=sys.stderr)
        return 0
    if a.what == "config":
        text = wire_config(a.lan_pci, a.wan_pci, a.lcores, a.worker,
                           a.gen_rx_mac, a.mbufs, a.memory_mb)
    else:
        if a.size < 64:
            ap.error("--size: pktgen sends at least 64 B")
        text = PKTGEN.format(dst=a.dst_mac, size=a.size)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
