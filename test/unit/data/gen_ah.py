#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes ah.pcap for test_ipsec_ah.c: AH packets (RFC 4302) built by
scapy's IPsec layer (independent of tollgate) and the packets tollgate
must make of them, for both AH algorithms in tunnel and transport mode.

For SA number i (the order of SAS below, which test_ipsec_ah.c repeats
with the same keys), frames come in pairs: the AH packet as the peer
sends it, then the packet tollgate must make of it (tunnel: the inner
packet; transport: the original packet). Ethernet source ends in i,
destination in 1 (AH) or 2 (cleartext); frames are otherwise bare IPv4
behind a dummy Ethernet header. Per SA: sequence number 1; 5 with the
mutable fields changed after signing (TTL down, DSCP/ECN and DF set, as
routers may: RFC 4302 3.3.3.1.1.1), which must still verify; and in
transport mode 9, carrying IPv4 options — router alert (immutable: in
the ICV) and record route (mutable: zeroed for the ICV) — with the
record route filled in after signing, as a router on the path would.

test/integration/ah_interop.py checks the other direction with the same
keys, importing this module.

  /usr/bin/python3 test/unit/data/gen_ah.py   (writes next to itself)
"""
import os

from scapy.layers.inet import IP, IPOption_RR, IPOption_Router_Alert, UDP
from scapy.layers.ipsec import AH, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

PEER, US = "192.0.2.2", "192.0.2.1"       # tunnel: peer → tollgate
AKEY32 = bytes(range(0x40, 0x60))
AKEY20 = bytes(range(0x60, 0x74))

# (test_ipsec_ah.c's tg_ipsec_alg, scapy auth_algo, auth key)
ALGS = [
    ("HMAC_SHA256", "SHA2-256-128", AKEY32),
    ("HMAC_SHA1", "HMAC-SHA1-96", AKEY20),
]
MODES = ["tunnel", "transport"]
# SA i: ALGS[i // 2], MODES[i % 2], SPI 0x1100 + i.
SAS = [(a, m) for a in ALGS for m in MODES]
SEQS = {"tunnel": [1, 5], "transport": [1, 5, 9]}
SEQ_MUTATED = 5
SEQ_OPTIONS = 9


def sa_for(i, src=PEER, dst=US):
    """scapy's SA number i; tunnel outer header src → dst."""
    (_, aalg, akey), mode = SAS[i]
    kw = {}
    if mode == "tunnel":
        kw["tunnel_header"] = IP(src=src, dst=dst)
    return SecurityAssociation(AH, spi=0x1100 + i, auth_algo=aalg,
                               auth_key=akey, **kw)


def inner(i, seq):
    """The cleartext packet of SA i, sequence number seq."""
    mode = SAS[i][1]
    src, dst = ("10.1.0.1", "10.2.0.1") if mode == "tunnel" else (PEER, US)
    opts = []
    if seq == SEQ_OPTIONS:
        opts = [IPOption_Router_Alert(), IPOption_RR(routers=["0.0.0.0"] * 2)]
    p = IP(src=src, dst=dst, id=0x100 * i + seq, ttl=61, tos=0x20,
           options=opts) / UDP(sport=1000 + i, dport=4500 + seq) / Raw(
        ("tollgate ah interop sa %d seq %d " % (i, seq)).encode() * 2)
    return IP(bytes(p))  # checksums and lengths filled in


def in_transit(pkt, seq):
    """What routers may do to the signed packet's mutable fields."""
    pkt = IP(bytes(pkt))
    if seq == SEQ_MUTATED:
        pkt.ttl -= 3
        pkt.tos = 0xb9
        pkt.flags = "DF"
    if seq == SEQ_OPTIONS:
        rr = pkt.options[1]
        rr.routers = ["198.51.100.7", "0.0.0.0"]
        rr.pointer = 8
    del pkt.chksum
    return IP(bytes(pkt))


def main():
    frames = []
    for i, (_, mode) in enumerate(SAS):
        sa = sa_for(i)
        for seq in SEQS[mode]:
            clear = inner(i, seq)
            ah = in_transit(sa.encrypt(clear, seq_num=seq), seq)
            if mode == "transport":
                # Transport keeps the header as received, mutable
                # fields and options included.
                want = ah.copy()
                want.proto = ah[AH].nh
                want.remove_payload()
                del want.len, want.chksum
                clear = IP(bytes(want / ah[AH].payload))
            # scapy itself accepts what routers did (and agrees on the
            # result): the expected packets are RFC 4302's, not ours.
            got = sa_for(i).decrypt(ah.copy())
            assert bytes(got) == bytes(clear), (i, seq)
            frames.append(Ether(src="02:00:00:00:00:%02x" % i,
                                dst="02:00:00:00:00:01") / ah)
            frames.append(Ether(src="02:00:00:00:00:%02x" % i,
                                dst="02:00:00:00:00:02") / clear)
    wrpcap(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "ah.pcap"), frames)


if __name__ == "__main__":
    main()
