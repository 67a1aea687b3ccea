"""Benchmark traffic, written with scapy (an implementation independent of
the code under test). Run with /usr/bin/python3 (Debian's, which has scapy).

Frame sizes follow RFC 2544: SIZE counts the Ethernet FCS, so a "64-byte"
frame is 60 bytes in the pcap (the FCS is not captured) and 64 on the wire.
"""

import ipaddress
import os
import random
import struct

# Locally administered MACs. The destination is what net_pcap gives its
# first port ("\x02pcap\x00"); tollgate does not filter on it today, but a
# frame addressed to the port is what a real neighbor would send.
SRC_MAC = "02:00:00:00:00:02"
DUT_MAC = "02:70:63:61:70:00"


def write_empty_pcap(path):
    """A pcap with a global header and no packet: the receive-nothing port.
    (Never give it infinite_rx=1: BENCHMARKING.md, pitfalls.)"""
    with open(path, "wb") as f:
        # magic, v2.4, thiszone, sigfigs, snaplen, LINKTYPE_ETHERNET
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))


def udp_flows(path, size, n_packets=4096, prefixes=None, src_net="48.0.0.0/16",
              seed=1, local_ip=None, local_every=0, local_ports=()):
    """Ethernet/IPv4/UDP frames of SIZE bytes (FCS included), one flow per
    packet: random source address in SRC_NET, random source port, and a
    destination spread over PREFIXES (a list of ipaddress.IPv4Network).
    With LOCAL_IP, every LOCAL_EVERY-th packet is a TCP SYN to LOCAL_IP
    instead (the appliance: target traffic), its destination port taken in
    turn from LOCAL_PORTS. Returns the number of packets written."""
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import PcapWriter

    hdr = 14 + 20 + 8
    frame = size - 4
    if frame < hdr:
        raise ValueError("size %d is below Ethernet+IPv4+UDP+FCS (%d)"
                         % (size, hdr + 4))
    rnd = random.Random(seed)
    src = ipaddress.IPv4Network(src_net)
    src_hosts = src.num_addresses - 2
    payload = bytes(rnd.getrandbits(8) for _ in range(frame - hdr))
    tmp = path + ".tmp"
    w = PcapWriter(tmp, linktype=1, sync=False)
    for i in range(n_packets):
        net = prefixes[i % len(prefixes)] if i < len(prefixes) else \
            rnd.choice(prefixes)
        dst = net.network_address + rnd.randrange(1, net.num_addresses - 1)
        s = src.network_address + 1 + rnd.randrange(src_hosts)
        if local_ip and local_every and i % local_every == local_every - 1:
            # TCP header: 12 bytes more than UDP's, taken from the payload
            port = local_ports[(i // local_every) % len(local_ports)]
            p = (Ether(src=SRC_MAC, dst=DUT_MAC) /
                 IP(src=str(s), dst=local_ip, ttl=64, id=i & 0xFFFF) /
                 TCP(sport=rnd.randrange(1024, 65536), dport=port,
                     flags="S") /
                 Raw(payload[12:]))
        else:
            p = (Ether(src=SRC_MAC, dst=DUT_MAC) /
                 IP(src=str(s), dst=str(dst), ttl=64, id=i & 0xFFFF) /
                 UDP(sport=rnd.randrange(1024, 65536),
                     dport=rnd.choice((53, 123, 443, 8080,
                                       5000 + i % 1000))) /
                 Raw(payload))
        raw = bytes(p)
        assert len(raw) == frame, (len(raw), frame)
        w.write(raw)
    w.close()
    os.replace(tmp, path)
    return n_packets


def prefixes_24(first="16.0.0.0", count=512):
    """COUNT consecutive /24 prefixes starting at FIRST."""
    base = int(ipaddress.IPv4Address(first))
    return [ipaddress.IPv4Network((base + (i << 8), 24)) for i in range(count)]


def nat_flows(path, n_sessions, prefixes, seed=7, max_endpoints=60000):
    """Ethernet/IPv4/UDP 64-byte frames (FCS included), one per session of
    a NAT benchmark with N_SESSIONS sessions, in a random order, written
    with numpy (millions of packets: scapy would take hours). The first
    packet is built by scapy and is the template; every other differs in
    addresses, ports, IPv4 id and both checksums, computed here and checked
    for a sample of packets against scapy's own (check_sample()).

    The sessions are E private endpoints x K remote endpoints each:
    K = ceil(N_SESSIONS / MAX_ENDPOINTS), because one NAT address has
    64,512 ports per protocol and every private endpoint (endpoint-
    independent mapping) holds one. Endpoint e: host 48.0.(e//16 + 1),
    source port 20000 + e % 16 (ports collide across hosts, so NAT
    searches past the preserved port); remote r: a host in PREFIXES, port
    1000 + r. Returns (packets written, E, K)."""
    import numpy as np
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw

    k = max(1, -(-n_sessions // max_endpoints))
    e = -(-n_sessions // k)
    n = e * k
    rng = np.random.default_rng(seed)
    flow = rng.permutation(n).astype(np.int64)
    ep, rem = flow // k, flow % k
    nets = np.array([int(p.network_address) for p in prefixes], np.int64)
    src = (0x30000000 + 1 + ep // 16).astype(np.uint32)
    sport = (20000 + ep % 16).astype(np.uint32)
    dst = (nets[(ep * 7 + rem) % len(nets)] + 1 +
           (ep + rem * 31) % 253).astype(np.uint32)
    dport = (1000 + rem).astype(np.uint32)
    ipid = (np.arange(n) & 0xFFFF).astype(np.uint32)

    tmpl = bytes(Ether(src=SRC_MAC, dst=DUT_MAC) /
                 IP(src="48.0.0.1", dst="16.0.0.1", ttl=64, id=0) /
                 UDP(sport=20000, dport=1000) / Raw(bytes(18)))
    assert len(tmpl) == 60

    def fold(s):
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        return s

    def words(v):  # the two 16-bit words of 32-bit V, summed
        return (v >> 16) + (v & 0xFFFF)

    # IPv4: 4500 002e id 0000 4011 csum src dst
    ip_sum = 0x4500 + 46 + ipid + 0x4011 + words(src) + words(dst)
    ip_ck = (~fold(ip_sum.astype(np.int64))) & 0xFFFF
    # UDP over the pseudo header (src, dst, 17, 26), the header (length
    # 26) and 18 zero bytes of payload
    u_sum = words(src) + words(dst) + 17 + 26 + sport + dport + 26
    u_ck = (~fold(u_sum.astype(np.int64))) & 0xFFFF
    u_ck[u_ck == 0] = 0xFFFF

    rec = np.zeros((n, 16 + 60), np.uint8)
    rec[:, 16:] = np.frombuffer(tmpl, np.uint8)
    hdr = np.array([0, 0, 60, 60], "<u4").view(np.uint8)
    rec[:, :16] = hdr

    def put(col, v, width):
        be = v.astype(">u%d" % width).view(np.uint8).reshape(n, width)
        rec[:, 16 + col:16 + col + width] = be

    put(18, ipid, 2)
    put(24, ip_ck, 2)
    put(26, src, 4)
    put(30, dst, 4)
    put(34, sport, 2)
    put(36, dport, 2)
    put(40, u_ck, 2)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        rec.tofile(f)
    check_sample(tmp, n, seed)
    os.replace(tmp, path)
    return n, e, k


def check_sample(path, n, seed, count=64):
    """Read COUNT packets of PATH (a pcap of 76-byte records) and check
    their IPv4 and UDP checksums against the ones scapy computes."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether

    rnd = random.Random(seed)
    with open(path, "rb") as f:
        for i in sorted(rnd.randrange(n) for _ in range(count)):
            f.seek(24 + i * 76 + 16)
            raw = f.read(60)
            p = Ether(raw)
            q = Ether(raw)
            del q[IP].chksum
            del q[UDP].chksum
            q = Ether(bytes(q))
            if (p[IP].chksum, p[UDP].chksum) != (q[IP].chksum,
                                                  q[UDP].chksum):
                raise ValueError("packet %d: checksums %04x/%04x, scapy "
                                 "says %04x/%04x" % (
                                     i, p[IP].chksum, p[UDP].chksum,
                                     q[IP].chksum, q[UDP].chksum))
