#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate integration tests of the ipsec stage (ipsec:, ESP tunnel
mode): pcap in → tollgate → pcap out, checked against scapy's IPsec layer.

Every input packet is built with scapy (ESP too: scapy's
SecurityAssociation encrypts what the peer sends); what should come out is
built with scapy from the specification (the inner packet forwarded: TTL -
1, the MACs of the hop), never taken from tollgate. ESP that tollgate
sends is decrypted by scapy and compared byte for byte with the expected
inner packet. scapy's ESP has no extended sequence numbers for HMAC (only
for GCM's AAD): for ESN with AES-CBC + HMAC the ICV is computed here with
Python's hmac over the ESP packet and the high 32 bits of the sequence
number (RFC 4303 2.2.1, 3.3.2.1) and the payload decrypted by scapy
without its check.

Topology (harness.py's, plus a remote lan 10.2.0.0/16 behind the tunnel
peer H1 10.1.0.2):

  lan hosts 10.0.0.x ─ p0 ─ lan0 10.0.0.1/24 [tollgate] wan0 10.1.0.1/24
       ─ p1 ─ H1 10.1.0.2, the tunnel's remote end; 10.2.0.0/16 behind it

Every SA is a tunnel between 10.1.0.1 (local) and 10.1.0.2 (remote), each
with keys of its own. Per algorithm k (aes-128-gcm, aes-256-gcm,
aes-128-cbc-hmac-sha256, aes-256-cbc-hmac-sha256, aes-128-cbc-hmac-sha1;
then ESN with aes-128-gcm and with aes-128-cbc-hmac-sha256):

  outbound  policy 10.0.0.16(k+1)/28 → 10.2.0.0/24 protect, SA o-k
  inbound   policy 10.2.(10+k).0/24 → 10.0.0.0/24 protect, SA i-k

and: an outbound SA with lifetime {hard_packets: 2} (10.0.0.144/28), an
inbound one with {hard_packets: 3} (10.2.20.0/24), a block policy 10.0.0.0/24
↔ 10.2.9.0/24 (direction both).

Runs (one tollgate process each, the same configuration):

  out  lan frames in on port 0: ESP out of port 1 (Ethernet to H1, outer
       10.1.0.1 → 10.1.0.2, TTL 64, the SA's SPI, sequence 1..N in
       order), scapy decrypts each to exactly the forwarded inner packet;
       the N+1th packet of the hard-lifetime SA (ipsec.sa_expired); the
       block policy (ipsec.blocked); a packet no policy matches passes
       in clear.
  in   ESP from 10.1.0.2 in on port 1: the inner packet forwarded out of
       port 0 to H0, byte for byte; an inner packet to the appliance's
       own lan address goes on along the target path (dropped there as
       pipeline.no_host_port: no host port); drops: unprotected transit
       and target
       packets matching an inbound protect policy (ipsec.unprotected), an
       unknown SPI (ipsec.no_sa), a replayed packet (ipsec.replay), a bad
       ICV (ipsec.auth_failed), a truncated packet (ipsec.malformed), an
       inner packet outside the SA's policy (ipsec.policy_mismatch), the
       N+1th packet of the hard-lifetime SA (ipsec.sa_expired), the block
       policy inbound (ipsec.blocked).

Per run: each case's frames (no frame carrying a dropped packet's tag),
the drop counters of the final summary exactly, the ipsec stage block of
/tollgate/stats (in, held = emitted, path_switch, dropped = the ipsec.*
drops) and the tunnel path against the cases, per-port rx/tx against the
pcaps, rx + generated = tx + host + drops, a clean exit.

Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
if anything failed.

  /usr/bin/python3 test/integration/ipsec.py [-v] [--keep] [-k SUBSTRING]

Needs root (EAL runtime files, net_pcap); TOLLGATE=path overrides the
binary.
"""
import hashlib
import hmac
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test"))
sys.path.insert(0, HERE)

import tgtelemetry as tel  # noqa: E402
from harness import (H0, H1, LAN_IP, TOLLGATE, WAN_IP,  # noqa: E402
                     PcapTollgate, Results, Scratch, forwarded, ip_of,
                     pcap_yaml, preflight, scapy_missing, tag, wait_settled)

try:
    from scapy.all import ICMP, IP, UDP, Ether, Raw  # noqa: E402
    from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: E402
    from scapy.utils import checksum  # noqa: E402
except ImportError:
    sys.exit(scapy_missing())

SCRATCH = Scratch("tg-ipsec")
log = SCRATCH.log

PEER = "10.1.0.2"           # H1: the tunnel's remote end
REMOTE_LANS = [("10.2.0.0/16", PEER, "wan0")]

# algorithm → (scapy crypt_algo, key bytes, salt bytes, scapy auth_algo,
# auth key bytes, ICV bytes, hash for a hand-made HMAC)
ALGS = {
    "aes-128-gcm": ("AES-GCM", 16, 4, "NULL", 0, 16, None),
    "aes-256-gcm": ("AES-GCM", 32, 4, "NULL", 0, 16, None),
    "aes-128-cbc-hmac-sha256": ("AES-CBC", 16, 0, "SHA2-256-128", 32, 16,
                                hashlib.sha256),
    "aes-256-cbc-hmac-sha256": ("AES-CBC", 32, 0, "SHA2-256-128", 32, 16,
                                hashlib.sha256),
    "aes-128-cbc-hmac-sha1": ("AES-CBC", 16, 0, "HMAC-SHA1-96", 20, 12,
                              hashlib.sha1),
}
ALG_NAMES = list(ALGS)


def keybytes(name, what, n):
    """Deterministic key material of its own for every SA and purpose."""
    return hashlib.sha256(("tg-ipsec-it %s %s" % (name, what)).encode()
                          ).digest()[:n]


class SA:
    """One tunnel SA between 10.1.0.1 and 10.1.0.2, its YAML and scapy's
    view of it."""

    def __init__(self, name, spi, direction, alg, esn=False,
                 hard_packets=None):
        self.name, self.spi, self.dir, self.alg = name, spi, direction, alg
        self.esn = esn
        self.hard_packets = hard_packets
        calg, kl, sl, aalg, al, self.icv, self.hash = ALGS[alg]
        self.calg, self.aalg = calg, aalg
        self.key = keybytes(name, "key", kl)
        self.salt = keybytes(name, "salt", sl) if sl else b""
        self.akey = keybytes(name, "auth", al) if al else None

    def yaml(self):
        s = ("    - {name: %s, spi: 0x%x, direction: %s, mode: tunnel,\n"
             "       local: %s, remote: %s, algorithm: %s,\n"
             "       key: %s" % (self.name, self.spi, self.dir, WAN_IP, PEER,
                                 self.alg, self.key.hex()))
        if self.salt:
            s += ", salt: %s" % self.salt.hex()
        if self.akey:
            s += ", auth_key: %s" % self.akey.hex()
        if self.esn:
            s += ", esn: true"
        if self.hard_packets:
            s += ", lifetime: {hard_packets: %d}" % self.hard_packets
        return s + "}"

    def scapy(self, src, dst):
        return SecurityAssociation(
            ESP, spi=self.spi, crypt_algo=self.calg,
            crypt_key=self.key + self.salt, auth_algo=self.aalg,
            auth_key=self.akey, tunnel_header=IP(src=src, dst=dst),
            esn_en=self.esn, esn=0)

    def hand_icv(self):
        """ESN with HMAC: scapy leaves the high bits out (and GCM does
        not take this path)."""
        return self.esn and self.hash is not None

    def icv_of(self, esp_wo_icv, esn_hi=0):
        return hmac.new(self.akey, esp_wo_icv + struct.pack("!I", esn_hi),
                        self.hash).digest()[:self.icv]

    def encrypt(self, inner, seq):
        """The ESP packet (outer IP, bytes) the peer sends for @inner."""
        p = bytearray(bytes(self.scapy(PEER, WAN_IP).encrypt(
            IP(bytes(inner)), seq_num=seq)))
        if self.hand_icv():
            ihl = (p[0] & 15) * 4
            p[-self.icv:] = self.icv_of(bytes(p[ihl:-self.icv]))
        return bytes(p)

    def decrypt(self, outer):
        """The inner packet (bytes) of ESP @outer, or an exception."""
        ip = IP(outer)
        if self.hand_icv():
            ihl = (outer[0] & 15) * 4
            want = self.icv_of(outer[ihl:len(outer) - self.icv])
            if outer[len(outer) - self.icv:] != want:
                raise ValueError("ICV (with ESN high bits 0) does not verify")
            return bytes(self.scapy(WAN_IP, PEER).decrypt(ip, verify=False))
        return bytes(self.scapy(WAN_IP, PEER).decrypt(ip))


# The SAs and policies (one configuration for both runs).
VARIANTS = [(a, False) for a in ALG_NAMES] + [("aes-128-gcm", True),
                                              ("aes-128-cbc-hmac-sha256",
                                               True)]


def vname(k):
    alg, esn = VARIANTS[k]
    return ("esn." if esn else "") + alg


OUT_SA = [SA("o-%d" % k, 0x1000 + k, "outbound", a, esn)
          for k, (a, esn) in enumerate(VARIANTS)]
IN_SA = [SA("i-%d" % k, 0x2000 + k, "inbound", a, esn)
         for k, (a, esn) in enumerate(VARIANTS)]
OUT_LIFE = SA("o-life", 0x1100, "outbound", "aes-256-gcm", hard_packets=2)
IN_LIFE = SA("i-life", 0x2100, "inbound", "aes-128-cbc-hmac-sha1",
             hard_packets=3)
ALL_SA = OUT_SA + IN_SA + [OUT_LIFE, IN_LIFE]


def out_src_net(k):
    return "10.0.0.%d" % (16 * (k + 1))


def out_host(k, j=1):
    return "10.0.0.%d" % (16 * (k + 1) + j)


LIFE_K = len(VARIANTS)      # outbound lifetime SA's slot: 10.0.0.128/28


def in_src_net(k):
    return "10.2.%d.0" % (10 + k)


def ipsec_yaml(mode="lookaside"):
    pol = []
    for k in range(len(VARIANTS)):
        pol.append("    - {name: out-%d, src: %s/28, dst: 10.2.0.0/24,\n"
                   "       direction: outbound, action: protect, sa: o-%d}"
                   % (k, out_src_net(k), k))
        pol.append("    - {name: in-%d, src: %s/24, dst: 10.0.0.0/24,\n"
                   "       direction: inbound, action: protect, sa: i-%d}"
                   % (k, in_src_net(k), k))
    pol.append("    - {name: out-life, src: %s/28, dst: 10.2.0.0/24,\n"
               "       direction: outbound, action: protect, sa: o-life}"
               % out_src_net(LIFE_K))
    pol.append("    - {name: in-life, src: 10.2.20.0/24, dst: 10.0.0.0/24,\n"
               "       direction: inbound, action: protect, sa: i-life}")
    pol.append("    - {name: no-9, src: 10.0.0.0/24, dst: 10.2.9.0/24,\n"
               "       direction: both, action: block}")
    return ("ipsec:\n  crypto_mode: %s\n  policies:\n" % mode +
            "\n".join(pol) + "\n  sas:\n" +
            "\n".join(sa.yaml() for sa in ALL_SA) + "\n")


# ---- cases ------------------------------------------------------------------

class Case:
    """Frames in; what should come out: ("frame", port, bytes) exactly,
    or ("esp", sa, seq, inner IP bytes) on port 1; drop counters; and
    what the packets do at the ipsec stage (in, held, path_switch)."""

    seq = 0

    def __init__(self, name, drops=None, ipsec_in=0, held=0, switch=0,
                 held_maybe=0):
        self.name = name
        self.drops = drops or {}
        self.inputs = []
        self.want = []
        self.ipsec = {"in": ipsec_in, "held": held, "path_switch": switch}
        self.held_maybe = held_maybe   # may or may not reach the device

    def send(self, port, frame):
        Case.seq += 1
        self.inputs.append((port, bytes(frame), Case.seq))

    def want_frame(self, port, frame):
        self.want.append(("frame", port, bytes(frame)))

    def want_esp(self, sa, seq, inner):
        self.want.append(("esp", sa, seq, bytes(inner)))


def hop(ipb):
    """@ipb after one router: TTL - 1, header checksum from scratch."""
    b = bytearray(ipb)
    b[8] -= 1
    ihl = (b[0] & 15) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))
    return bytes(b)


def udp_ip(src, dst, name, n, extra=0):
    """A tagged UDP packet (bytes, checksums filled in); @extra bytes of
    payload vary the ESP padding."""
    return bytes(IP(src=src, dst=dst, ttl=64, id=0x100 + n) /
                 UDP(sport=4000 + n, dport=5000) /
                 Raw(tag(name) + b"#%d#" % n + b"p" * extra))


def out_cases(us0, us1):
    """lan → remote lan through the tunnel, and the outbound drops."""
    cases = []

    def lan(ipb):
        return bytes(Ether(src=H0, dst=us0, type=0x0800)) + ipb

    for k, sa in enumerate(OUT_SA):
        n = 3 if not VARIANTS[k][1] else 2
        c = Case("out.tunnel.%s" % vname(k), ipsec_in=n, held=n, switch=n)
        for j in range(n):
            ipb = udp_ip(out_host(k, j + 1), "10.2.0.%d" % (k + 1), c.name,
                         j, extra=7 * j + k)
            c.send(0, lan(ipb))
            c.want_esp(sa, j + 1, hop(ipb))
        cases.append(c)

    c = Case("out.sa_expired.hard_packets_2", {"ipsec.sa_expired": 1},
             ipsec_in=3, held=2, switch=2)
    for j in range(3):
        ipb = udp_ip(out_host(LIFE_K, j + 1), "10.2.0.99", c.name, j)
        c.send(0, lan(ipb))
        if j < 2:
            c.want_esp(OUT_LIFE, j + 1, hop(ipb))
    cases.append(c)

    c = Case("out.blocked", {"ipsec.blocked": 1}, ipsec_in=1)
    c.send(0, lan(udp_ip("10.0.0.2", "10.2.9.5", c.name, 0)))
    cases.append(c)

    # The lan host of a protect policy, to where no policy protects:
    # passes in clear (outbound SPD: no match).
    c = Case("out.no_policy_passes_clear", ipsec_in=1)
    ipb = udp_ip(out_host(0), "16.0.0.5", c.name, 0)
    c.send(0, lan(ipb))
    c.want_frame(1, bytes(Ether(dst=H1, src=us1, type=0x0800)) + hop(ipb))
    cases.append(c)
    return cases


def in_cases(us0, us1):
    """Remote lan → lan through the tunnel, and the inbound drops."""
    cases = []

    def wan(ipb):
        return bytes(Ether(src=H1, dst=us1, type=0x0800)) + ipb

    def to_h0(ipb):
        return forwarded(wan(ipb), H0, us0)

    for k, sa in enumerate(IN_SA):
        c = Case("in.tunnel.%s" % vname(k), ipsec_in=4, held=2, switch=2)
        for j in range(2):
            inner = udp_ip("10.2.%d.%d" % (10 + k, 5 + j), "10.0.0.2",
                           c.name, j, extra=5 * j + k)
            c.send(1, wan(sa.encrypt(inner, j + 1)))
            c.want_frame(0, to_h0(inner))
        cases.append(c)

    sa0 = IN_SA[0]
    # Through the tunnel to the appliance's own lan address: decrypted,
    # then on along the target path (no host port here: dropped there).
    c = Case("in.tunnel.to_appliance_continues_on_target_path",
             {"pipeline.no_host_port": 1}, ipsec_in=1, held=1)
    c.send(1, wan(sa0.encrypt(bytes(IP(src="10.2.10.5", dst=LAN_IP) /
                                    ICMP(type=8, id=9, seq=1) /
                                    Raw(tag(c.name))), 20)))
    cases.append(c)

    c = Case("in.unprotected.transit", {"ipsec.unprotected": 1}, ipsec_in=1)
    c.send(1, wan(udp_ip("10.2.10.9", "10.0.0.2", c.name, 0)))
    cases.append(c)

    c = Case("in.unprotected.target", {"ipsec.unprotected": 1}, ipsec_in=1)
    c.send(1, wan(bytes(IP(src="10.2.10.9", dst=LAN_IP) /
                        ICMP(type=8, id=7, seq=1) / Raw(tag(c.name)))))
    cases.append(c)

    c = Case("in.no_sa", {"ipsec.no_sa": 1}, ipsec_in=1)
    stranger = SA("stranger", 0x7777, "inbound", "aes-128-gcm")
    c.send(1, wan(stranger.encrypt(
        udp_ip("10.2.10.5", "10.0.0.2", c.name, 0), 1)))
    cases.append(c)

    # The same bytes twice: one passes, the copy is a replay. Whether the
    # copy reaches the device (same burst: found at processing) or not
    # (found at preparation) depends on the bursts.
    c = Case("in.replay", {"ipsec.replay": 1}, ipsec_in=3, held=1, switch=1,
             held_maybe=1)
    inner = udp_ip("10.2.10.6", "10.0.0.2", c.name, 0)
    esp = sa0.encrypt(inner, 10)
    c.send(1, wan(esp))
    c.send(1, wan(esp))
    c.want_frame(0, to_h0(inner))
    cases.append(c)

    c = Case("in.auth_failed", {"ipsec.auth_failed": 1}, ipsec_in=1, held=1)
    esp = bytearray(sa0.encrypt(udp_ip("10.2.10.7", "10.0.0.2", c.name, 0),
                                11))
    esp[-1] ^= 0x01
    c.send(1, wan(bytes(esp)))
    cases.append(c)

    c = Case("in.malformed.truncated", {"ipsec.malformed": 1}, ipsec_in=1)
    esp = bytearray(sa0.encrypt(udp_ip("10.2.10.8", "10.0.0.2", c.name, 0),
                                13))[:-1]
    esp[2:4] = struct.pack("!H", len(esp))
    esp[10:12] = b"\0\0"
    esp[10:12] = struct.pack("!H", checksum(bytes(esp[:20])))
    c.send(1, wan(bytes(esp)))
    cases.append(c)

    # Right SA, inner packet outside its policy: from a /16 no policy
    # names, and from the lan of another SA's policy.
    c = Case("in.policy_mismatch", {"ipsec.policy_mismatch": 2}, ipsec_in=2,
             held=2)
    c.send(1, wan(sa0.encrypt(udp_ip("10.3.0.5", "10.0.0.2", c.name, 0),
                              12)))
    c.send(1, wan(sa0.encrypt(udp_ip("10.2.11.5", "10.0.0.2", c.name, 1),
                              14)))
    cases.append(c)

    c = Case("in.sa_expired.hard_packets_3", {"ipsec.sa_expired": 1},
             ipsec_in=3 * 2 + 1, held=3, switch=3)
    for j in range(4):
        inner = udp_ip("10.2.20.%d" % (5 + j), "10.0.0.2", c.name, j)
        c.send(1, wan(IN_LIFE.encrypt(inner, j + 1)))
        if j < 3:
            c.want_frame(0, to_h0(inner))
    cases.append(c)

    c = Case("in.blocked", {"ipsec.blocked": 1}, ipsec_in=1)
    c.send(1, wan(udp_ip("10.2.9.5", "10.0.0.2", c.name, 0)))
    cases.append(c)
    return cases


# ---- a run ------------------------------------------------------------------

class Run(PcapTollgate):
    def __init__(self, name, inputs):
        super().__init__(SCRATCH, name, inputs)
        self.macs = {}
        self.stats = None
        self.settled = False


def run_tollgate(name, inputs, extra):
    r = Run(name, inputs)
    cfg = r.write_config("tollgate.yaml", pcap_yaml(
        "ipsec.py", r.prefix, r.files, routes=REMOTE_LANS, extra=extra))
    try:
        if r.start(TOLLGATE, cfg):
            with tel.Telemetry(r.prefix) as t:
                for ifname, info in (t.cmd("/tollgate/interfaces") or
                                     {}).items():
                    r.macs[ifname] = info["mac"].lower()
                r.stats, r.settled = wait_settled(t.cmd, r.n_in)
    except (tel.TelemetryError, OSError, KeyError) as e:
        r.error = "telemetry: %s" % e
    finally:
        r.stop()
    return r


def probe_macs(res):
    r = run_tollgate("probe", {}, ipsec_yaml())
    p = []
    if r.error:
        p.append("%s\n%s" % (r.error, r.tail()))
    elif set(r.macs) != {"lan0", "wan0"}:
        p.append("interfaces: %s" % r.macs)
    elif r.outputs.get(0) or r.outputs.get(1):
        p.append("frames out of an idle appliance")
    elif r.rc != 0:
        p.append("exit code %s\n%s" % (r.rc, r.tail()))
    res.report("probe.starts_with_ipsec_section", p)
    return r.macs if not p else None


def esp_problems(frame, sa, seq, inner, us1):
    """What is wrong with @frame as the ESP packet number @seq of @sa
    carrying @inner (IP bytes)."""
    p = []
    eth = Ether(frame)
    if eth.dst.lower() != H1 or eth.src.lower() != us1 or eth.type != 0x0800:
        p.append("Ethernet %s → %s type 0x%04x, want %s → %s IPv4" % (
            eth.src, eth.dst, eth.type, us1, H1))
    outer = ip_of(frame)
    ihl = (outer[0] & 15) * 4
    o = IP(outer)
    if (o.src, o.dst, o.proto, o.ttl) != (WAN_IP, PEER, 50, 64):
        p.append("outer %s → %s proto %d ttl %d, want %s → %s proto 50 "
                 "ttl 64" % (o.src, o.dst, o.proto, o.ttl, WAN_IP, PEER))
    if checksum(outer[:ihl]) != 0:
        p.append("outer IP header checksum wrong")
    if o.flags.MF or o.frag:
        p.append("outer header is a fragment")
    if len(frame) - 14 > len(outer) and len(frame) > 60:
        p.append("%d bytes after the IP packet" % (len(frame) - 14 -
                                                    len(outer)))
    spi, got_seq = struct.unpack("!II", outer[ihl:ihl + 8])
    if spi != sa.spi or got_seq != seq:
        p.append("SPI 0x%x seq %d, want SPI 0x%x seq %d" % (
            spi, got_seq, sa.spi, seq))
    try:
        got = sa.decrypt(outer)
        if got != inner:
            p.append("decrypted: %s\n want:      %s" % (
                IP(got).summary(), IP(inner).summary()) +
                "\n got  %s\n want %s" % (got.hex(), inner.hex()))
    except Exception as e:  # noqa: BLE001 - scapy raises many kinds
        p.append("scapy cannot decrypt it: %s: %s" % (type(e).__name__, e))
    return p


def owner_of(frame, cases, spi_owner):
    """The case a frame belongs to: ESP by its SPI, else by the tag."""
    if len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] == 50:
        ihl = (frame[14] & 15) * 4
        spi = struct.unpack("!I", frame[14 + ihl:18 + ihl])[0]
        return spi_owner.get(spi)
    for c in cases:
        if tag(c.name) in frame:
            return c
    return None


def evaluate(res, run_name, r, cases):
    us1 = r.macs.get("wan0")
    spi_owner = {}
    for c in cases:
        for w in c.want:
            if w[0] == "esp":
                spi_owner[w[1].spi] = c
    got = {c.name: {0: [], 1: []} for c in cases}
    stray = []
    if not r.error:
        for port in (0, 1):
            for fr in r.outputs.get(port) or []:
                c = owner_of(fr, cases, spi_owner)
                if c is None:
                    stray.append("port %d: %s" % (port, Ether(fr).summary()))
                else:
                    got[c.name][port].append(fr)
    for c in cases:
        p = []
        if r.error:
            p.append("%s run failed: %s\n%s" % (run_name, r.error, r.tail()))
            res.report(c.name, p)
            continue
        # ESP, in the order it left
        esp_want = [w for w in c.want if w[0] == "esp"]
        esp_got = [fr for fr in got[c.name][1]
                   if len(fr) > 23 and fr[23] == 50]
        if len(esp_got) != len(esp_want):
            p.append("%d ESP frames out of port 1, want %d" % (
                len(esp_got), len(esp_want)))
        for (_, sa, seq, inner), fr in zip(esp_want, esp_got):
            for e in esp_problems(fr, sa, seq, inner, us1):
                p.append("ESP #%d: %s" % (seq, e))
        # clear frames, exactly (as a multiset per port)
        for port in (0, 1):
            want = [w[2] for w in c.want if w[0] == "frame" and w[1] == port]
            outs = [fr for fr in got[c.name][port]
                    if not (port == 1 and len(fr) > 23 and fr[23] == 50)]
            left = list(outs)
            for w in want:
                if w in left:
                    left.remove(w)
                else:
                    p.append("port %d: missing %s\n want %s%s" % (
                        port, Ether(w).summary(), w.hex(),
                        "".join("\n got  %s" % x.hex() for x in left)))
            for x in left:
                p.append("port %d: unexpected %s%s" % (
                    port, Ether(x).summary(),
                    " (once more than expected)" if x in want else ""))
        res.report(c.name, p)

    if r.error:
        res.report("%s.run" % run_name, ["%s\n%s" % (r.error, r.tail())])
        return
    res.report("%s.no_unexpected_frames" % run_name, stray)
    counters(res, run_name, r, cases)


def counters(res, run_name, r, cases):
    f = r.final
    drops = f["drops"] if f else {}
    want_drops = {}
    for c in cases:
        for k, v in c.drops.items():
            want_drops[k] = want_drops.get(k, 0) + v
    p = []
    if not f["found"]:
        p.append("no final counter summary on stdout\n%s" % r.tail())
    for k in sorted(set(drops) | set(want_drops)):
        if drops.get(k, 0) != want_drops.get(k, 0):
            p.append("drop %s = %d, want %d" % (k, drops.get(k, 0),
                                                 want_drops.get(k, 0)))
    res.report("%s.drop_counters_exact" % run_name, p)

    # rx + generated = tx + host + drops; tx = the pcaps; per port.
    p = []
    t = f["totals"]
    n_in = sum(len(c.inputs) for c in cases)
    n_out = {port: len(r.outputs.get(port) or []) for port in (0, 1)}
    want_out = {port: sum(1 for c in cases for w in c.want
                          if (w[0] == "frame" and w[1] == port) or
                          (w[0] == "esp" and port == 1))
                for port in (0, 1)}
    if not all(k in t for k in ("rx", "tx", "generated", "dropped")):
        p.append("summary lacks rx/tx/generated/dropped: %s" % t)
    else:
        if t["rx"] != n_in:
            p.append("rx %d, %d frames were in the pcaps" % (t["rx"], n_in))
        if t["rx"] + t["generated"] != t["tx"] + t.get("host", 0) + \
                sum(drops.values()):
            p.append("rx %d + generated %d != tx %d + host %d + drops %d"
                     % (t["rx"], t["generated"], t["tx"], t.get("host", 0),
                        sum(drops.values())))
        if t["tx"] != n_out[0] + n_out[1]:
            p.append("tx %d, the output pcaps hold %d frames" % (
                t["tx"], n_out[0] + n_out[1]))
        if t["tx"] != want_out[0] + want_out[1]:
            p.append("tx %d, the cases expect %d" % (
                t["tx"], want_out[0] + want_out[1]))
    for pname, port in (("p0", 0), ("p1", 1)):
        n_rx = sum(1 for c in cases for i in c.inputs if i[0] == port)
        got = f["ports"].get(pname)
        if got != (n_rx, want_out[port]):
            p.append("port %s: rx/tx %s, want (%d, %d) (pcap holds %d)" % (
                pname, got, n_rx, want_out[port], n_out[port]))
    if not r.settled:
        p.append("counters never settled: %s" % {
            k: (r.stats or {}).get(k) for k in ("rx", "tx", "in_rings")})
    res.report("%s.rx_tx_and_ports_add_up" % run_name, p)

    # The ipsec stage block and the tunnel path against the cases.
    p = []
    st = ((r.stats or {}).get("stages") or {}).get("ipsec")
    if st is None:
        p.append("/tollgate/stats has no stages.ipsec: %s" % (
            (r.stats or {}).get("stages")))
    else:
        want = {k: sum(c.ipsec[k] for c in cases)
                for k in ("in", "held", "path_switch")}
        maybe = sum(c.held_maybe for c in cases)
        ipsec_drops = sum(v for k, v in drops.items()
                          if k.startswith("ipsec."))
        if st.get("in") != want["in"]:
            p.append("in %s, want %d" % (st.get("in"), want["in"]))
        if not want["held"] <= st.get("held", -1) <= want["held"] + maybe:
            p.append("held %s, want %d%s" % (
                st.get("held"), want["held"],
                " (+%d)" % maybe if maybe else ""))
        if st.get("emitted") != st.get("held"):
            p.append("emitted %s != held %s: crypto operations lost" % (
                st.get("emitted"), st.get("held")))
        if st.get("path_switch") != want["path_switch"]:
            p.append("path_switch %s, want %d" % (st.get("path_switch"),
                                                 want["path_switch"]))
        if st.get("dropped") != ipsec_drops:
            p.append("dropped %s, the ipsec.* drops add up to %d" % (
                st.get("dropped"), ipsec_drops))
        if st.get("direct_tx", 0) != 0:
            p.append("direct_tx %s, want 0" % st.get("direct_tx"))
        n_esp = sum(1 for c in cases for w in c.want if w[0] == "esp")
        # routed by forward (tunnel) or sent on the next hop ipsec found
        # ready (tunnel_direct): together, every ESP packet, none lost
        paths = (r.stats or {}).get("paths") or {}
        tun = [paths.get(k) or {} for k in ("tunnel", "tunnel_direct")]
        got = tuple(sum(t.get(f, 0) for t in tun)
                    for f in ("entered", "completed"))
        if got != (n_esp, n_esp):
            p.append("paths.tunnel + tunnel_direct %s, want entered = "
                     "completed = %d" % (tun, n_esp))
        if st.get("in") is not None and \
                st["in"] + st["emitted"] != st["next"] + st["path_switch"] + \
                st["held"] + st["dropped"] + st["direct_tx"]:
            p.append("in + emitted != next + path_switch + held + dropped: "
                     "%s" % st)
        if p:
            p.append("stages.ipsec: %s" % st)
    res.report("%s.ipsec_stage_counters" % run_name, p)

    p = []
    if r.rc != 0:
        p.append("exit code %s (last line: %s)" % (
            r.rc, r.lines[-1] if r.lines else ""))
    if r.runtime_dir_left:
        p.append("runtime dir /var/run/dpdk/<prefix> left behind")
    res.report("%s.clean_exit" % run_name, p)


def one_run(res, run_name, cases, mode="lookaside"):
    if not any(res.wanted(c.name) for c in cases) and \
            not res.part_wanted(run_name):
        return
    inputs = {0: [], 1: []}
    for port, fr, _ in sorted((i for c in cases for i in c.inputs),
                              key=lambda i: i[2]):
        inputs[port].append(fr)
    t0 = time.monotonic()
    r = run_tollgate(run_name, inputs, ipsec_yaml(mode))
    log("%s: %.1f s" % (run_name, time.monotonic() - t0))
    if mode == "cpu":
        # CPU crypto: every verdict is final in the burst, nothing held.
        for c in cases:
            c.ipsec["held"] = 0
            c.held_maybe = 0
    evaluate(res, run_name, r, cases)


def main():
    a = SCRATCH.parse_args(__doc__)
    res = Results(a.k)
    t0 = time.monotonic()
    if preflight(res):
        macs = probe_macs(res)
        if macs:
            # Both ways in both crypto modes: lookaside (operations
            # through the device's queue, packets held and emitted) and
            # CPU crypto (inline, what ipsec.crypto_mode auto picks for
            # aesni_mb).
            for mode, sfx in (("lookaside", ""), ("cpu", "-cpu")):
                one_run(res, "out" + sfx,
                        out_cases(macs["lan0"], macs["wan0"]), mode)
                one_run(res, "in" + sfx,
                        in_cases(macs["lan0"], macs["wan0"]), mode)
    log("%.1f s" % (time.monotonic() - t0))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
