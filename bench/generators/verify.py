#!/usr/bin/python3
"""Check the traffic-generator profiles against the benchmark's own traffic.

For each size: write the pcap with bench/traffic.py (scapy), rebuild the
frames the way trex_transit_udp.py does, and compare them byte for byte;
then replay the TRex field engine the profile programs (value lists
written at their offsets, IPv4 checksum fixed) on its base packet and
compare again. Also checks that make.py's pcap differs from the bench's
only in the destination MAC. Run with Debian's python (scapy):

    /usr/bin/python3 bench/generators/verify.py [--sizes 64,1400]

Exit 0 when everything matches. bench/traffic.py changing (seed, flows,
prefixes, header fields) makes this fail: update the profile with it.
"""

import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))  # bench/

import traffic as tr  # noqa: E402
import scenarios  # noqa: E402
import trex_transit_udp as prof  # noqa: E402
import make  # noqa: E402


def read_pcap(path):
    from scapy.utils import RawPcapReader
    return [bytes(pkt) for pkt, _ in RawPcapReader(path)]


def replay_field_engine(base, lists):
    """What the profile asks TRex to do for packet k: write entry k of
    each value list at its offset, then fix the IPv4 header checksum."""
    n = len(next(iter(lists.values()))[1])
    out = []
    for k in range(n):
        f = bytearray(base)
        for off, (size, values) in lists.items():
            f[off:off + size] = values[k].to_bytes(size, "big")
        ip = prof.OFF_IP
        f[ip + 10:ip + 12] = b"\0\0"
        f[ip + 10:ip + 12] = prof._csum(bytes(f[ip:ip + 20])).to_bytes(
            2, "big")
        out.append(bytes(f))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="64,1400")
    a = ap.parse_args()
    ok = True
    # The constants the profile copies from the bench.
    assert prof.SRC_MAC == tr.SRC_MAC and prof.DUT_MAC == tr.DUT_MAC
    assert [int(n.network_address) for n in scenarios.TRANSIT_PREFIXES] == \
        [prof.FIRST_PREFIX + (i << 8) for i in range(prof.N_PREFIXES)]
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in a.sizes.split(",")):
            path = os.path.join(tmp, "b%d.pcap" % size)
            n = scenarios.TRANSIT_UDP.gen(path, size)
            bench = read_pcap(path)
            mine = prof.bench_frames(size, n)
            same = bench == mine
            fe = replay_field_engine(mine[0], prof.field_lists(mine))
            same_fe = fe == bench
            wire = os.path.join(tmp, "w%d.pcap" % size)
            make.write_pcap(wire, size, "0c:42:a1:00:00:01")
            w = read_pcap(wire)
            same_wire = len(w) == len(bench) and all(
                x[:6] == bytes.fromhex("0c42a1000001") and x[6:] == y[6:]
                for x, y in zip(w, bench))
            flows = len({f[26:38] for f in bench})
            print("%5d B: %d frames, %d distinct (src, dst, sport, dport); "
                  "profile %s, field engine %s, make.py pcap %s"
                  % (size, n, flows, "same" if same else "DIFFERENT",
                     "same" if same_fe else "DIFFERENT",
                     "same but dst MAC" if same_wire else "DIFFERENT"))
            if not same:
                for k, (x, y) in enumerate(zip(bench, mine)):
                    if x != y:
                        print("  first difference: packet %d\n  bench   %s\n"
                              "  profile %s" % (k, x.hex(), y.hex()))
                        break
            ok &= same and same_fe and same_wire
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
