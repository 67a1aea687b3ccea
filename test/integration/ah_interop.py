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
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "test/unit/data"))

import gen_ah  # noqa: E402
from scapy.layers.inet import IP  # noqa: E402
from scapy.layers.ipsec import AH, IPSecIntegrityError  # noqa: E402
from scapy.utils import rdpcap  # noqa: E402

BIN = os.environ.get("TEST_IPSEC_AH",
                     os.path.join(ROOT, "build/test/unit/test_ipsec_ah"))


def verify(i, pkt):
    """scapy's decapsulation of pkt with SA i's keys (raises if the ICV
    is wrong)."""
    sa = gen_ah.sa_for(i, src=gen_ah.US, dst=gen_ah.PEER)
    return sa.decrypt(IP(bytes(pkt)))


def main():
    verbose = "-v" in sys.argv
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            if verbose:
                print("ok    " + name)
        else:
            failed += 1
            print("FAIL  %s %s" % (name, detail))

    if not os.access(BIN, os.X_OK):
        print("FAIL  build: %s not found: run ./scripts/build.sh" % BIN)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "tollgate_ah.pcap")
        env = dict(os.environ, TG_AH_DUMP=dump)
        run = subprocess.run([BIN], env=env, capture_output=True, text=True)
        check("test_ipsec_ah ran", run.returncode == 0, run.stdout[-2000:])
        frames = rdpcap(dump) if os.path.exists(dump) else []
        check("10 AH packets written", len(frames) == 10,
              "got %d" % len(frames))
        # What tollgate signed: the cleartext frames of ah.pcap, in order.
        clear = [f for f in rdpcap(os.path.join(ROOT, "test/unit/data",
                                                "ah.pcap"))
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
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
