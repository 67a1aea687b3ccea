"""TRex stateless profile: the benchmark's transit-udp traffic on a wire.

It sends exactly the frames bench/traffic.py writes into
bench/traffic/transit-udp-SIZE.pcap (seed 1, 4096 packets): the same
sources (48.0.0.0/16), UDP ports, IP ids, destinations over the 512 /24s
16.0.0.0-16.1.255.0, TTL 64, payload bytes and checksums. The profile
recomputes the packets with the same random sequence (Python's
random.Random, which gives the same numbers in every Python 3) and hands
them to TRex's field engine as value lists that advance together, one
entry per packet, so packet k on the wire is packet k of the pcap (TRex
starts each core at its own offset; the set of 4096 packets is the same).
Only the Ethernet addresses differ: by default TRex writes its port's MAC
as the source and the destination it resolved or was configured with
(tollgate's port MAC), see --src-mac and --dst-mac.

Load it on the port that faces tollgate's lan0 (bench/generators/README.md):

    trex> start -f bench/generators/trex_transit_udp.py -p 0 -m 100% -t --size 64
    trex> start -f bench/generators/trex_transit_udp.py -p 0 -m 10mpps -t --size 1400 --cache 4096

Older TRex versions (before argparse tunables) take `-t size=64,cache=4096`;
both forms work. Tunables:

    --size N      frame size on the wire including the 4-byte FCS, as
                  RFC 2544 and bench/run.sh --sizes count it (default 64)
    --cache N     let TRex precompute N packets per stream (0: off). 4096
                  (every distinct packet) gives the highest rate at 64 B;
                  needs that many mbufs per core in TRex's pool
    --dst-mac M   write M as the destination MAC instead of TRex's port
                  configuration (e.g. tollgate's p0 MAC, /tollgate/interfaces)
    --src-mac M   write M as the source MAC instead of the port's own
    --seed N      random seed of bench/traffic.py (default 1)
    --packets N   packets (flows) in the cycle (default 4096)

bench_frames() is plain Python without TRex: bench/generators/verify.py
checks it byte for byte against bench/traffic.py.
"""

import argparse
import random
import struct

try:  # TRex puts trex_stl_lib on the path when it loads a profile
    from trex_stl_lib.api import (STLPktBuilder, STLScVmRaw, STLStream,
                                  STLTXCont, STLVmFixIpv4, STLVmFlowVar,
                                  STLVmWrFlowVar)
except ImportError:  # verify.py and other users of bench_frames()
    STLStream = None

# bench/traffic.py and bench/scenarios.py (TRANSIT_UDP): keep in step.
SRC_MAC = "02:00:00:00:00:02"
DUT_MAC = "02:70:63:61:70:00"
SRC_NET = 0x30000000          # 48.0.0.0/16
SRC_HOSTS = (1 << 16) - 2
FIRST_PREFIX = 0x10000000     # 16.0.0.0: 512 consecutive /24s
N_PREFIXES = 512
DPORTS = (53, 123, 443, 8080)  # and 5000 + i % 1000

ETH, IP4, UDP4 = 14, 20, 8
# Offsets in the frame (Ethernet, IPv4 without options, UDP).
OFF_IP = ETH
OFF_IP_ID = ETH + 4
OFF_IP_SRC = ETH + 12
OFF_IP_DST = ETH + 16
OFF_SPORT = ETH + IP4
OFF_DPORT = ETH + IP4 + 2
OFF_UDP_CSUM = ETH + IP4 + 6


def _csum(data, start=0):
    """Internet checksum (ones' complement of the ones' complement sum)."""
    if len(data) % 2:
        data += b"\0"
    s = start + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _mac(text):
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise ValueError("not a MAC address: %r" % text)
    return b


def _frame(payload, src, dst, ident, sport, dport, src_mac, dst_mac):
    ip_len = IP4 + UDP4 + len(payload)
    ip = bytearray(struct.pack("!BBHHHBBHII", 0x45, 0, ip_len, ident, 0, 64,
                               17, 0, src, dst))
    ip[10:12] = struct.pack("!H", _csum(bytes(ip)))
    udp_len = UDP4 + len(payload)
    pseudo = struct.pack("!IIBBH", src, dst, 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0)
    c = _csum(pseudo + udp + payload)
    udp = udp[:6] + struct.pack("!H", c or 0xFFFF)  # 0 means "none" in UDP
    return _mac(dst_mac) + _mac(src_mac) + b"\x08\x00" + bytes(ip) + udp + \
        payload


def bench_frames(size, n_packets=4096, seed=1, src_mac=SRC_MAC,
                 dst_mac=DUT_MAC):
    """The frames of bench/traffic.py udp_flows(path, SIZE, N_PACKETS,
    TRANSIT_PREFIXES, seed=SEED), without the FCS: a list of bytes.
    Follows its random calls one for one: the payload first, then per
    packet the destination prefix (the first 512 in order, then random),
    the host in it, the source, the source port, the destination port."""
    frame = size - 4
    if frame < ETH + IP4 + UDP4:
        raise ValueError("size %d is below Ethernet+IPv4+UDP+FCS (%d)"
                         % (size, ETH + IP4 + UDP4 + 4))
    rnd = random.Random(seed)
    payload = bytes(rnd.getrandbits(8) for _ in range(frame - ETH - IP4 -
                                                       UDP4))
    out = []
    for i in range(n_packets):
        p = i if i < N_PREFIXES else rnd.randrange(N_PREFIXES)
        # rnd.choice(list) and randrange(len) draw the same number
        dst = FIRST_PREFIX + (p << 8) + rnd.randrange(1, 255)
        src = SRC_NET + 1 + rnd.randrange(SRC_HOSTS)
        sport = rnd.randrange(1024, 65536)
        dport = (DPORTS + (5000 + i % 1000,))[rnd.randrange(5)]
        out.append(_frame(payload, src, dst, i & 0xFFFF, sport, dport,
                          src_mac, dst_mac))
    return out


def field_lists(frames):
    """Per-packet values of the fields that differ between the frames:
    {offset: (size in bytes, [value of packet 0, 1, ...])}."""
    fields = {OFF_IP_ID: 2, OFF_IP_SRC: 4, OFF_IP_DST: 4, OFF_SPORT: 2,
              OFF_DPORT: 2, OFF_UDP_CSUM: 2}
    return {off: (n, [int.from_bytes(f[off:off + n], "big") for f in frames])
            for off, n in fields.items()}


def _options(tunables, kwargs):
    ap = argparse.ArgumentParser(prog="trex_transit_udp.py",
                                 description="tollgate bench transit-udp")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--cache", type=int, default=0)
    # TRex's console turns "-t dst_mac=M" into "--dst_mac M": take both.
    ap.add_argument("--dst-mac", "--dst_mac", dest="dst_mac", default=None)
    ap.add_argument("--src-mac", "--src_mac", dest="src_mac", default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--packets", type=int, default=4096)
    argv = list(tunables or [])
    # Old TRex passes "-t size=64,cache=4096" as keyword arguments.
    for k, v in kwargs.items():
        argv += ["--" + k.replace("_", "-"), str(v)]
    return ap.parse_args(argv)


class TransitUdp(object):
    def get_streams(self, direction=0, port_id=0, tunables=None, **kwargs):
        if STLStream is None:
            raise RuntimeError("trex_stl_lib is not importable: load this "
                               "profile from TRex")
        o = _options(tunables, kwargs)
        if not 1 <= o.packets <= 65535:
            raise ValueError("--packets: 1..65535 (TRex value lists)")
        frames = bench_frames(o.size, o.packets, o.seed,
                              o.src_mac or SRC_MAC, o.dst_mac or DUT_MAC)
        vm = []
        for off, (n, values) in sorted(field_lists(frames).items()):
            name = "f%d" % off
            # All lists have the same length and step: they stay in step
            # on every TRex core, so each packet is one of the bench's.
            vm.append(STLVmFlowVar(name=name, size=n, op="inc",
                                   value_list=values))
            vm.append(STLVmWrFlowVar(fv_name=name, pkt_offset=off))
        # The IP id changes per packet: recompute the header checksum (it
        # then equals the pcap's). UDP checksums come from their list.
        vm.append(STLVmFixIpv4(offset=OFF_IP))
        raw = STLScVmRaw(vm, cache_size=o.cache) if o.cache > 0 else \
            STLScVmRaw(vm)
        extra = {}
        if o.src_mac:
            extra["mac_src_override_by_pkt"] = True
        if o.dst_mac:
            extra["mac_dst_override_mode"] = 1  # STLStreamDstMAC_PKT
        return [STLStream(packet=STLPktBuilder(pkt_buffer=frames[0], vm=raw),
                          mode=STLTXCont(percentage=100), **extra)]


def register():
    return TransitUdp()
