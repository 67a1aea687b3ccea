#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate's AH verified by an independent implementation: runs the
test_ipsec_ah unit test with TG_AH_DUMP set, so it signs the packets of
test/unit/data/ah.pcap with outbound SAs holding gen_ah.py's keys
(HMAC-SHA256-128 and HMAC-SHA1-96 x tunnel/transport, 10 packets), and
has scapy's IPsec layer verify every ICV and decapsulate each packet to
gen_ah.py's packet, byte for byte. Each one is also checked to fail
scapy's verification once a byte it covers is flipped, and to pass
with its TTL and DSCP changed (mutable fields). The other direction
(scapy's AH verified by tollgate) is in test_ipsec_ah itself.

  /usr/bin/python3 test/integration/ah_interop.py [-v]

TEST_IPSEC_AH=path overrides the unit test binary (default: build's).
The run and the count of checks: interop.py.
"""
import os
import sys

import interop
import gen_ah  # test/unit/data, on sys.path by interop
from scapy.layers.inet import IP
from scapy.layers.ipsec import AH, IPSecIntegrityError
from scapy.utils import rdpcap


def verify(i, pkt):
    """scapy's decapsulation of pkt with SA i's keys (raises if the ICV
    is wrong)."""
    sa = gen_ah.sa_for(i, src=gen_ah.US, dst=gen_ah.PEER)
    return sa.decrypt(IP(bytes(pkt)))


def checks(check, frames, dump):
    """Each packet verified and decapsulated by scapy, its headers, and
    scapy's verdict on it with mutable and immutable bytes changed."""
    # What tollgate signed: the cleartext frames of ah.pcap, in order.
    clear = [f for f in rdpcap(os.path.join(interop.DATA, "ah.pcap"))
             if f.dst.endswith(":02")]
    for k, f in enumerate(frames):
        i = int(f.src.split(":")[-1], 16)
        (alg, *_), mode = gen_ah.SAS[i]
        name = "packet %d SA %d %s %s" % (k + 1, i, alg, mode)
        ah = IP(bytes(f.payload))
        exp = bytes(clear[k].payload) if k < len(clear) else b""
        try:
            got = verify(i, ah)
            ok = bytes(got) == exp
        except Exception as e:  # noqa: BLE001 - scapy raises many
            got, ok = e, False
        check(name + ": scapy verifies it, same packet", ok,
              "got %r" % (got,))
        check(name + ": AH, SPI and protocol",
              ah.proto == 51 and ah.haslayer(AH) and
              ah[AH].spi == 0x1100 + i and
              ah[AH].nh == (4 if mode == "tunnel" else 17))
        if mode == "tunnel":
            check(name + ": outer header", (ah.src, ah.dst, ah.ttl,
                  ah.tos, int(ah.flags)) == (gen_ah.US, gen_ah.PEER,
                                             64, 0, 0))
        # Mutable fields changed: still authentic.
        m = ah.copy()
        m.ttl, m.tos = m.ttl - 1, 0x04
        del m.chksum
        try:
            verify(i, IP(bytes(m)))
            ok = True
        except IPSecIntegrityError as e:
            ok = e
        check(name + ": TTL and DSCP changed, still verifies",
              ok is True, repr(ok))
        # An immutable byte flipped (the last payload byte): refused.
        raw = bytearray(bytes(ah))
        raw[-1] ^= 0x01
        try:
            verify(i, IP(bytes(raw)))
            ok = False
        except IPSecIntegrityError:
            ok = True
        check(name + ": a flipped byte fails scapy's check", ok)


def main():
    return interop.run("test_ipsec_ah", "TEST_IPSEC_AH", "TG_AH_DUMP", "AH",
                       10, checks)


if __name__ == "__main__":
    sys.exit(main())
