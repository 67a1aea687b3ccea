#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes esp.pcap for test_ipsec.c: ESP packets built by scapy's IPsec
layer (an implementation independent of DPDK's rte_ipsec) and the
cleartext packets they carry, for every algorithm tollgate supports in
tunnel and transport mode.

For SA number i (the order of SAS below, which test_ipsec.c repeats with
the same keys), frames come in pairs: the ESP packet as the peer sends it,
then the packet tollgate must make of it (tunnel: the inner packet;
transport: the original packet). Ethernet source ends in i, destination
in 1 (ESP) or 2 (cleartext); frames are otherwise bare IPv4 behind a
dummy Ethernet header. Two packets per SA, sequence numbers 1 and 5.

test/integration/esp_interop.py checks the other direction with the same
keys (KEYS below), importing this module.

  /usr/bin/python3 test/unit/data/gen_esp.py   (writes next to itself)
"""
import os

from scapy.layers.inet import IP, UDP
from scapy.layers.ipsec import ESP, SecurityAssociation
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

PEER, US = "192.0.2.2", "192.0.2.1"       # tunnel: peer → tollgate
CKEY16 = bytes(range(0x10, 0x20))
CKEY32 = bytes(range(0x20, 0x40))
SALT = bytes.fromhex("c0ffee01")
AKEY32 = bytes(range(0x40, 0x60))
AKEY20 = bytes(range(0x60, 0x74))

# (test_ipsec.c's tg_ipsec_alg, scapy crypt_algo, crypt key (GCM: key +
# salt), scapy auth_algo, auth key)
ALGS = [
    ("AES128_GCM", "AES-GCM", CKEY16 + SALT, "NULL", None),
    ("AES256_GCM", "AES-GCM", CKEY32 + SALT, "NULL", None),
    ("AES128_CBC_SHA256", "AES-CBC", CKEY16, "SHA2-256-128", AKEY32),
    ("AES256_CBC_SHA256", "AES-CBC", CKEY32, "SHA2-256-128", AKEY32),
    ("AES128_CBC_SHA1", "AES-CBC", CKEY16, "HMAC-SHA1-96", AKEY20),
]
MODES = ["tunnel", "transport"]
# SA i: ALGS[i // 2], MODES[i % 2], SPI 0x1000 + i.
SAS = [(a, m) for a in ALGS for m in MODES]
SEQS = [1, 5]


def sa_for(i, src=PEER, dst=US):
    """scapy's SA number i; tunnel outer header src → dst."""
    (_, calg, ckey, aalg, akey), mode = SAS[i]
    kw = {}
    if mode == "tunnel":
        kw["tunnel_header"] = IP(src=src, dst=dst)
    return SecurityAssociation(ESP, spi=0x1000 + i, crypt_algo=calg,
                               crypt_key=ckey, auth_algo=aalg,
                               auth_key=akey, **kw)


def inner(i, seq):
    """The cleartext packet of SA i, sequence number seq."""
    mode = SAS[i][1]
    src, dst = ("10.1.0.1", "10.2.0.1") if mode == "tunnel" else (PEER, US)
    p = IP(src=src, dst=dst, id=0x100 * i + seq, ttl=61) / UDP(
        sport=1000 + i, dport=4500 + seq) / Raw(
        ("tollgate esp interop sa %d seq %d " % (i, seq)).encode() * 2)
    return IP(bytes(p))  # checksums and lengths filled in


def main():
    frames = []
    for i in range(len(SAS)):
        sa = sa_for(i)
        for seq in SEQS:
            clear = inner(i, seq)
            esp = sa.encrypt(clear, seq_num=seq)
            frames.append(Ether(src="02:00:00:00:00:%02x" % i,
                                dst="02:00:00:00:00:01") / IP(bytes(esp)))
            frames.append(Ether(src="02:00:00:00:00:%02x" % i,
                                dst="02:00:00:00:00:02") / clear)
    wrpcap(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "esp.pcap"), frames)


if __name__ == "__main__":
    main()
