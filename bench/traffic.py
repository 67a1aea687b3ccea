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
