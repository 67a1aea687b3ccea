#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate's ESP decrypted by independent implementations: runs the
test_ipsec unit test with TG_ESP_DUMP set, so it encrypts the cleartext
packets of test/unit/data/esp.pcap with outbound SAs holding
gen_esp.py's keys (5 algorithms x tunnel/transport, 2 packets each), and
decrypts what it wrote with scapy's IPsec layer (every packet, compared
byte for byte with gen_esp.py's cleartext) and with tshark (ICV checked
for every packet). The other direction (scapy's ESP decrypted by
tollgate) is in test_ipsec itself.

  /usr/bin/python3 test/integration/esp_interop.py [-v]

TEST_IPSEC=path overrides the unit test binary (default: build's).
The run and the count of checks: interop.py.
"""
import subprocess
import sys

import interop
import gen_esp  # test/unit/data, on sys.path by interop
from scapy.layers.inet import IP

TSHARK_ALG = {
    "AES-GCM": "AES-GCM with 16 octet ICV [RFC4106]",
    "AES-CBC": "AES-CBC [RFC3602]",
}
TSHARK_AUTH = {
    "NULL": "NULL",
    "SHA2-256-128": "HMAC-SHA-256-128 [RFC4868]",
    "HMAC-SHA1-96": "HMAC-SHA-1-96 [RFC2404]",
}


def tshark_icv(path):
    """esp.icv_good per frame, tshark given every SA (any addresses)."""
    args = ["tshark", "-r", path, "-o", "esp.enable_encryption_decode:TRUE",
            "-o", "esp.enable_authentication_check:TRUE"]
    for i, ((_, calg, ckey, aalg, akey), _) in enumerate(gen_esp.SAS):
        args += ["-o", 'uat:esp_sa:"IPv4","*","*","0x%08x","%s","0x%s",'
                 '"%s","%s"' % (0x1000 + i, TSHARK_ALG[calg], ckey.hex(),
                                TSHARK_AUTH[aalg],
                                "0x" + akey.hex() if akey else "")]
    args += ["-T", "fields", "-e", "esp.spi", "-e", "esp.icv_good"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return [ln.split("\t") for ln in out.stdout.splitlines()]


def checks(check, frames, dump):
    """Each packet decrypted by scapy, then by tshark."""
    seen = {}
    for f in frames:
        i = f.src and int(f.src.split(":")[-1], 16)
        seq = gen_esp.SEQS[seen.get(i, 0)]
        seen[i] = seen.get(i, 0) + 1
        (alg, *_), mode = gen_esp.SAS[i]
        name = "SA %d %s %s seq %d" % (i, alg, mode, seq)
        esp = IP(bytes(f.payload))
        want = gen_esp.inner(i, seq)
        try:
            got = gen_esp.sa_for(i, src=gen_esp.US,
                                 dst=gen_esp.PEER).decrypt(esp.copy())
            ok = bytes(got) == bytes(want)
        except Exception as e:  # noqa: BLE001 - scapy raises many
            got, ok = e, False
        if mode == "tunnel":
            ok = ok and (esp.src, esp.dst) == (gen_esp.US,
                                               gen_esp.PEER)
        check(name + ": scapy decrypts it", ok,
              "got %r" % (got,))
    rows = tshark_icv(dump) if frames else []
    check("tshark decoded every packet", len(rows) == 20,
          "got %d" % len(rows))
    for k, row in enumerate(rows):
        check("frame %d SPI %s: tshark ICV good" % (k + 1, row[0]),
              len(row) > 1 and row[1] in ("1", "True"), repr(row))


def main():
    return interop.run("test_ipsec", "TEST_IPSEC", "TG_ESP_DUMP", "ESP", 20,
                       checks)


if __name__ == "__main__":
    sys.exit(main())
