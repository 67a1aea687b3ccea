#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Packet trace and drop capture on real traffic (issue 8).

tollgate replays a capture of packets that each end a different way —
forwarded, no route, TTL expired, denied by lan0's inbound filter,
refused by the local filter, for the appliance without a host port, a
header checksum RX refuses — over and over (net_pcap infinite_rx), and:

- /tollgate/trace marks packets by a BPF-like filter; every marked
  packet's recorded end ("tx wan0", "drop forward.no_route", ...) and
  stages must be what the configuration says for its kind, worked out
  here from the packet, not taken from tollgate; a filter that names one
  kind marks only that kind; with count N exactly N are marked, and the
  trace ends by itself once they are through;
- /tollgate/capture writes the drops to a pcapng file that tshark reads:
  every frame's comment names the reason this script expects for that
  frame; forwarded frames are never in it; reason= keeps one reason;
- /tollgate/explain, asked about each kind, walks the same stages with
  the same verdicts to the same end as the trace of the real packet (that
  it changes nothing is checked where no traffic runs: test_pipeline);
  a second run does the same through NAT and the firewall (a translation
  out, a protocol NAT does not translate, unsolicited traffic and a ping
  the firewall drops), a third through IPsec (the tunnel out straight to
  TX, a blocked destination, an unprotected packet a protect policy
  wants, and real ESP from the peer, encrypted by scapy, which tollgate
  decrypts and forwards while explain, told its SPI, walks the same way;
  ESP whose inner packet no policy takes, ESP of a length its SA cannot
  take, explained from its bytes, an SPI no SA has); a fourth with a
  host port (tun, its kernel side in a namespace of its own): datagrams
  the kernel really sends take the source path, one out of wan0, one
  denied by wan0's outbound list, and a datagram to the appliance ends at
  the host, each traced and explained alike;
- tollgatectl's explain, trace and capture drops print and write the
  same (exit codes, the lines an operator reads, a pcapng tshark reads);
  explain --pcap reads a frame of scapy's pcap (Ethernet, bare IP) and
  of the pcapng of drops tollgate wrote, and answers as for the frame;
- bad requests get an "error" answer, and the appliance keeps running.

  /usr/bin/python3 test/integration/trace.py [-v] [--keep]
"""
import logging
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test"))

import tgtelemetry as tel  # noqa: E402
from harness import (H0, LAN_IP, TOLLGATE, TOLLGATECTL, WAN_IP,  # noqa
                     PcapTollgate,
                     Results, Scratch, pcap_yaml, preflight,
                     scapy_missing)

try:
    from scapy.all import (ICMP, IP, TCP, UDP, Ether, Raw,  # noqa: E402
                           wrpcap)
except ImportError:
    sys.exit(scapy_missing())

S = Scratch("tg-trace")

# Each kind of packet: (name, frame builder, the end the configuration
# below gives it, the stages (with mode) it passes through, in order).
LAN_MAC = "02:00:00:00:00:01"  # any unicast: net_pcap takes every frame


def frame(ip):
    return Ether(src=H0, dst=LAN_MAC) / ip


def bad_cksum(ip):
    """IP with a header checksum that is not its own (RFC 791's sum,
    as scapy computes it, with two bits flipped)."""
    good = IP(bytes(ip)).chksum
    ip.chksum = good ^ 0x0101
    return ip


KINDS = [
    ("forwarded", frame(IP(src="10.0.0.2", dst="16.0.0.1") /
                        UDP(sport=5000, dport=53) / (b"f" * 20)),
     "tx wan0", ["filter(in)", "forward(transit)"]),
    ("no_route", frame(IP(src="10.0.0.2", dst="99.0.0.1") /
                       UDP(sport=5000, dport=53)),
     "drop forward.no_route", ["filter(in)", "forward(transit)"]),
    ("ttl", frame(IP(src="10.0.0.2", dst="16.0.0.9", ttl=1) / ICMP()),
     "drop forward.ttl_exceeded", ["filter(in)", "forward(transit)"]),
    ("filtered", frame(IP(src="10.0.0.2", dst="16.0.0.2") /
                       TCP(sport=40000, dport=23, flags="S")),
     "drop filter.in.denied", ["filter(in)"]),
    ("local_refused", frame(IP(src="10.0.0.2", dst=LAN_IP) /
                            TCP(sport=40001, dport=8080, flags="S")),
     "drop localfilter.tcp_port", ["filter(in)", "localfilter(in)"]),
    ("to_host", frame(IP(src="10.0.0.2", dst=LAN_IP) /
                      TCP(sport=40002, dport=22, flags="S")),
     "drop pipeline.no_host_port", ["filter(in)", "localfilter(in)"]),
    # refused at RX, before any stage: a trace marks it all the same
    ("bad_checksum", frame(bad_cksum(IP(src="10.0.0.2", dst="16.0.0.3") /
                                     UDP(sport=5000, dport=53))),
     "drop pkt.bad_checksum", []),
]


def kind_of(pkt_text, kinds=None):
    """The kind of a traced packet, from tollgate's one-line summary."""
    for name, f, end, stages in kinds or KINDS:
        ip = f[IP]
        l4 = ip.payload
        if " %s" % ip.src not in pkt_text.split("->")[0] + " ":
            continue
        dst = "-> %s" % ip.dst
        if hasattr(l4, "dport"):
            dst += ":%d" % l4.dport
        if dst not in pkt_text or (
                hasattr(l4, "dport") and dst + "0" in pkt_text):
            continue
        if isinstance(l4, ICMP) and ip.ttl == 1 and not \
                pkt_text.startswith("icmp"):
            continue
        return name, end, stages
    return None, None, None


EXTRA = """local_filter:
  protocols: [tcp, udp]
  tcp_ports: [22]
  udp_ports: all
pipeline:
  burst: 32
  ring_size: 1024
"""
FILTER_LINES = {"lan0": [
    "    filters:",
    "      inbound:",
    "        mode: deny-listed",
    "        rules:",
    "          - name: no-telnet",
    "            action: deny",
    "            protocol: tcp",
    "            dst_port: 23",
]}


def config(t, if_lines=None, name="trace.yaml", more=""):
    y = pcap_yaml("trace.py", t.prefix, t.files,
                  if_lines=if_lines or FILTER_LINES, extra=EXTRA)
    # Replayed for ever, and no TX capture (it would grow without end).
    y = y.replace("rx_pcap=%s,tx_pcap=%s" % (t.files["in0"],
                                             t.files["out0"]),
                  "rx_pcap=%s,infinite_rx=1" % t.files["in0"])
    y = y.replace(",tx_pcap=%s" % t.files["out1"], "")
    return t.write_config(name, y + more)


def show_all(c):
    """Every traced packet, following the pages."""
    pkts, start = {}, 1
    while True:
        r = c.cmd("/tollgate/trace/show", "%d" % start)
        pkts.update({int(k): v for k, v in r.get("packets", {}).items()})
        if "next" not in r:
            return r, pkts
        start = r["next"]


def wait_trace_done(c, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        st = c.cmd("/tollgate/trace")
        if st.get("state") == "stopped":
            return st
        time.sleep(0.1)
    return c.cmd("/tollgate/trace")


def check_trace(res, c):
    n = 6 * len(KINDS)
    r = c.cmd("/tollgate/trace", "start %d in lan0" % n)
    p = []
    if r.get("error"):
        res.report("trace: start", ["error: %s" % r["error"]])
        return
    st = wait_trace_done(c)
    if st.get("marked") != n or st.get("state") != "stopped" or \
            st.get("in_flight") != 0:
        p.append("status after the trace: %r (want %d marked, stopped)"
                 % (st, n))
    _, pkts = show_all(c)
    if sorted(pkts) != list(range(1, n + 1)):
        p.append("packet ids %r, want 1..%d" % (sorted(pkts), n))
    seen = set()
    for pid, v in sorted(pkts.items()):
        name, end, stages = kind_of(v.get("packet", ""))
        if name is None:
            p.append("packet %d: %r is none of the kinds sent" % (
                pid, v.get("packet")))
            continue
        seen.add(name)
        if v.get("end") != end:
            p.append("%s (packet %d): end %r, want %r" % (
                name, pid, v.get("end"), end))
        if v.get("in") != "lan0":
            p.append("%s: in %r" % (name, v.get("in")))
        steps = [v["steps"][k] for k in sorted(v.get("steps", {}), key=int)]
        got = [s["stage"] for s in steps if s["what"] == "stage"]
        if got != stages:
            p.append("%s: stages %r, want %r" % (name, got, stages))
        # what decided, in explain's words (computed from the same code
        # on a copy before the stage ran)
        whys = {s["stage"]: s.get("why", "") for s in steps
                if s["what"] == "stage"}
        if name == "filtered" and \
                "rule no-telnet (#0)" not in whys.get("filter(in)", ""):
            p.append("filtered: filter(in) why %r" % whys)
        if name == "forwarded" and "route 16.0.0.0/8 via 10.1.0.2 on wan0" \
                not in whys.get("forward(transit)", ""):
            p.append("forwarded: forward why %r" % whys)
        ns = [s["ns"] for s in steps]
        if ns != sorted(ns):
            p.append("%s: steps out of time order %r" % (name, ns))
        if end.startswith("drop ") and end != "drop pipeline.no_host_port":
            last = steps[-1] if steps else {}
            # a stage's drop verdict, or RX's own drop (pkt.*)
            if (last.get("verdict") != "drop" and
                    last.get("what") != "drop") or \
                    "drop " + last.get("reason", "") != end:
                p.append("%s: last step %r does not say the drop" % (
                    name, last))
    if seen != {k[0] for k in KINDS}:
        p.append("kinds traced %r, want all of %r" % (
            sorted(seen), [k[0] for k in KINDS]))
    res.report("trace: every kind of packet ends as the config says", p)

    # A filter naming one kind marks only that kind.
    p = []
    r = c.cmd("/tollgate/trace", "start 5 tcp and dst port 23 and in lan0")
    st = wait_trace_done(c)
    _, pkts = show_all(c)
    if len(pkts) != 5 or st.get("marked") != 5:
        p.append("%d packets marked, want 5: %r" % (len(pkts), st))
    for v in pkts.values():
        if kind_of(v.get("packet", ""))[0] != "filtered":
            p.append("marked %r" % v.get("packet"))
    res.report("trace: the filter picks the packets", p)

    p = []
    for params, what in (("start 0", "COUNT"), ("start 5000", "COUNT"),
                         ("start 3 tcp or udp", "or"),
                         ("start 3 in eth7", "eth7"),
                         ("bogus", "start")):
        r = c.cmd("/tollgate/trace", params)
        if "error" not in r or what not in r["error"]:
            p.append("%r: %r (want an error naming %r)" % (params, r, what))
    r = c.cmd("/tollgate/trace/show", "x")
    if "error" not in r:
        p.append("show,x: %r" % r)
    res.report("trace: bad requests are refused", p)


def explain_args(f, iface="lan0"):
    """/tollgate/explain's description of scapy frame F (from IFACE)."""
    ip = f[IP]
    words = ["in", iface]
    if TCP not in f and UDP not in f and ICMP not in f:
        words += ["proto", str(ip.proto), ip.src, "to", ip.dst, "ttl",
                  str(ip.ttl), "length", str(len(bytes(ip.payload)))]
        return " ".join(words)
    if TCP in f or UDP in f:
        l4 = f[TCP] if TCP in f else f[UDP]
        words += ["tcp" if TCP in f else "udp",
                  "%s:%d" % (ip.src, l4.sport), "->",
                  "%s:%d" % (ip.dst, l4.dport)]
        if TCP in f:
            words += ["flags", str(f[TCP].flags)]
        payload = len(bytes(l4.payload))
    else:
        words += ["icmp", ip.src, "->", ip.dst, "type", str(f[ICMP].type)]
        payload = len(bytes(f[ICMP].payload))
    words += ["ttl", str(ip.ttl), "length", str(payload)]
    return " ".join(words)


def stage_steps(steps):
    return [(s.get("stage"), s.get("verdict"), s.get("path"),
             s.get("reason")) for k, s in sorted(steps.items(),
                                                 key=lambda kv: int(kv[0]))
            if s.get("what") == "stage"]


def check_explain(res, c, kinds=None, iface_of=None, label="every kind",
                  args_of=None):
    """explain of each kind against the trace of one real packet of it
    (ARGS_OF: explain's words for a kind, when not the frame's)."""
    kinds = kinds or KINDS
    iface_of = iface_of or {}
    args_of = args_of or {}
    p = []
    traced = {}
    # one trace per receiving interface: a port replaying faster than the
    # other would take every mark
    for iface in sorted({"lan0"} | set(iface_of.values())):
        c.cmd("/tollgate/trace", "start %d in %s" % (3 * len(kinds), iface))
        wait_trace_done(c)
        _, pkts = show_all(c)
        for v in pkts.values():
            name = kind_of(v.get("packet", ""), kinds)[0]
            if name is not None:
                traced.setdefault(name, v)
    for name, f, end, stages in kinds:
        before = c.cmd("/tollgate/stats")
        x = c.cmd("/tollgate/explain",
                  args_of.get(name) or
                  explain_args(f, iface_of.get(name, "lan0")))
        after = c.cmd("/tollgate/stats")
        if "error" in x:
            p.append("%s: %s" % (name, x["error"]))
            continue
        # "tx wan0 SRC-MAC -> DST-MAC": explain also says which MACs
        if not x.get("end", "").startswith(end):
            p.append("%s: explain ends %r, want %r" % (name, x.get("end"),
                                                      end))
        t = traced.get(name)
        if t is None:
            p.append("%s: not traced" % name)
        elif not t.get("steps"):
            p.append("%s: traced without steps: %r" % (name, t))
        elif stage_steps(x.get("steps", {})) != stage_steps(t["steps"]):
            p.append("%s: explain %r, trace %r" % (
                name, stage_steps(x.get("steps", {})),
                stage_steps(t["steps"])))
        elif not x.get("end", "").startswith(t.get("end", "?")):
            p.append("%s: explain ends %r, the trace %r" % (
                name, x.get("end"), t.get("end")))
        if before.get("generation") != after.get("generation"):
            p.append("%s: the generation moved" % name)
        got = [st[0] for st in stage_steps(x.get("steps", {}))]
        if got != stages:
            p.append("%s: explain's stages %r, want %r" % (name, got,
                                                          stages))
    res.report("explain: %s as the real packet's trace" % label, p)


def check_explain_refusals(res, c):
    p = []
    for params, what in (("in lan0 tcp 1.2.3.4 -> 5.6.7.8 flags Z", "flags"),
                         ("in eth9 udp 1.2.3.4:1 -> 5.6.7.8:2", "eth9"),
                         ("in lan0 udp 1.2.3.4:1 -> 5.6.7.8:70000", "DST"),
                         ("in lan0 icmp 1.2.3.4:1 -> 5.6.7.8", "ports"),
                         ("tcp 1.2.3.4 -> 5.6.7.8", "in IFACE"),
                         ("in lan0 frame 0g", "hex"),
                         ("in lan0 frame " + "00" * 600, "hex"),
                         ("in lan0 frame 0000 udp 1.2.3.4:1 -> 5.6.7.8:2",
                          "says it all"),
                         ("in lan0 frame 00000000 len 2", "shorter"),
                         ("in lan0 frame 00 len 60000", "mbuf")):
        r = c.cmd("/tollgate/explain", params)
        if "error" not in r or what not in r["error"]:
            p.append("%r: %r (want an error naming %r)" % (params, r, what))
    res.report("explain: bad requests are refused", p)


def tshark_frames(path):
    out = subprocess.run(
        ["tshark", "-r", path, "-T", "fields", "-E", "separator=|",
         "-e", "ip.dst", "-e", "tcp.dstport", "-e", "ip.ttl",
         "-e", "frame.comment"],
        capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None, out.stderr
    rows = [ln.split("|") for ln in out.stdout.splitlines() if ln]
    return rows, ""


def expected_reason(dst, dport, ttl):
    for name, f, end, stages in KINDS:
        ip = f[IP]
        if ip.dst != dst or str(ip.ttl) != ttl:
            continue
        if TCP in f and str(f[TCP].dport) != dport:
            continue
        return end[len("drop "):] if end.startswith("drop ") else None
    return "?"


def check_capture(res, c, t):
    path = os.path.join(t.dir, "drops.pcapng")
    p = []
    r = c.cmd("/tollgate/capture", "start %s count=50" % path)
    if r.get("error"):
        res.report("capture: every reason", ["error: %s" % r["error"]])
        return
    end = time.time() + 10
    while time.time() < end and c.cmd("/tollgate/capture")["written"] < 50:
        time.sleep(0.1)
    st = c.cmd("/tollgate/capture", "stop")
    if st.get("written") != 50 or st.get("state") != "stopped":
        p.append("status %r" % st)
    rows, err = tshark_frames(path)
    if rows is None:
        p.append("tshark: %s" % err.strip())
        rows = []
    if len(rows) != 50:
        p.append("%d frames in the file, want 50" % len(rows))
    reasons = set()
    for dst, dport, ttl, comment in rows:
        want = expected_reason(dst, dport, ttl)
        if want is None:
            p.append("a forwarded packet was captured: %s" % dst)
        elif "tollgate drop: %s " % want not in comment:
            p.append("%s:%s ttl %s: comment %r, want reason %s" % (
                dst, dport, ttl, comment, want))
        reasons.add(want)
    drops = {e[2][len("drop "):] for e in KINDS if e[2].startswith("drop ")}
    if reasons != drops:
        p.append("reasons in the file %r, want %r" % (sorted(reasons),
                                                     sorted(drops)))
    res.report("capture: tshark reads every drop with its reason", p)

    p = []
    path2 = os.path.join(t.dir, "ttl.pcapng")
    r = c.cmd("/tollgate/capture",
              "start %s reason=forward.ttl_exceeded count=5" % path2)
    end = time.time() + 10
    while time.time() < end and c.cmd("/tollgate/capture")["written"] < 5:
        time.sleep(0.1)
    st = c.cmd("/tollgate/capture", "stop")
    rows, err = tshark_frames(path2)
    if rows is None or len(rows) != 5:
        p.append("frames %r %s" % (rows, err))
    for row in rows or []:
        if "forward.ttl_exceeded" not in row[3] or row[2] != "1":
            p.append("frame %r" % row)
    res.report("capture: reason= keeps one reason", p)

    p = []
    for params, what in (("start relative.pcapng", "absolute"),
                         ("start /tmp/x.pcapng reason=no.such", "no.such"),
                         ("start /nonexistent-dir/x.pcapng", "nonexistent"),
                         ("start /tmp/x.pcapng count=abc", "count"),
                         ("start /dev/full", "pcapng header")):
        r = c.cmd("/tollgate/capture", params)
        if "error" not in r or what not in r["error"]:
            p.append("%r: %r (want an error naming %r)" % (params, r, what))
    if c.cmd("/tollgate/capture").get("state") != "stopped":
        p.append("a refused start left a capture running")
    res.report("capture: bad requests are refused", p)


# NAT and the firewall (a second run): lan0 private, wan0 public.
WAN_MAC_IN = "02:00:00:00:00:11"  # any unicast: net_pcap takes every frame


def wan_frame(ip):
    return Ether(src="02:00:00:00:01:02", dst=WAN_MAC_IN) / ip


NAT_KINDS = [
    ("nat_out", frame(IP(src="10.0.0.2", dst="16.0.0.1") /
                      UDP(sport=5000, dport=53) / (b"n" * 20)),
     "tx wan0", ["forward(transit)", "natfw(transit)"]),
    ("sctp_out", frame(IP(src="10.0.0.2", dst="16.0.0.2", proto=132) /
                       (b"s" * 26)),
     "drop natfw.protocol", ["forward(transit)", "natfw(transit)"]),
    ("unsolicited", wan_frame(IP(src="16.0.0.5", dst="10.1.0.1") /
                              UDP(sport=9, dport=7)),
     "drop natfw.no_exception", ["natfw(in)"]),
    ("ping_in", wan_frame(IP(src="16.0.0.5", dst="10.1.0.1") / ICMP()),
     "drop natfw.icmp_blocked", ["natfw(in)"]),
]
NAT_IFACE = {"unsolicited": "wan0", "ping_in": "wan0"}


def check_nat(res):
    """explain against real packets through NAT and the firewall."""
    t = PcapTollgate(S, "trace-nat", {
        0: [bytes(k[1]) for k in NAT_KINDS if k[0] not in NAT_IFACE],
        1: [bytes(k[1]) for k in NAT_KINDS if k[0] in NAT_IFACE]})
    y = pcap_yaml("trace.py", t.prefix, t.files,
                  extra="nat: {private: [lan0], public: [wan0]}\n"
                        "firewall: {}\n")
    for port in ("0", "1"):
        y = y.replace("rx_pcap=%s,tx_pcap=%s" % (t.files["in" + port],
                                                 t.files["out" + port]),
                      "rx_pcap=%s,infinite_rx=1" % t.files["in" + port])
    if not t.start(TOLLGATE, t.write_config("nat.yaml", y)):
        res.report("nat: tollgate starts", [t.error, t.tail()])
        return
    try:
        with tel.Telemetry(t.prefix) as c:
            check_explain(res, c, NAT_KINDS, NAT_IFACE,
                          "NAT and the firewall")
    finally:
        t.stop()


# IPsec (a third run): a tunnel to 10.1.0.2 for 16.1/16 with ESP from
# there (replay window 0: the replayed capture repeats its ESP), 16.5/16
# blocked.
IPSEC_KEY = bytes(range(16))
IPSEC_SALT = bytes([1, 2, 3, 4])
IPSEC_YAML = """ipsec:
  policies:
    - {name: gw, dst: 16.1.0.0/16, direction: outbound, action: protect,
       sa: to-gw}
    - {name: from-gw, src: 16.1.0.0/16, dst: 10.0.0.0/24,
       direction: inbound, action: protect, sa: from-gw}
    - {name: no-5, dst: 16.5.0.0/16, direction: outbound, action: block}
  sas:
    - {name: to-gw, spi: 0x1001, direction: outbound, mode: tunnel,
       local: 10.1.0.1, remote: 10.1.0.2, algorithm: aes-128-gcm,
       key: 101112131415161718191a1b1c1d1e1f, salt: 05060708}
    - {name: from-gw, spi: 0x2001, direction: inbound, mode: tunnel,
       local: 10.1.0.1, remote: 10.1.0.2, algorithm: aes-128-gcm,
       key: %s, salt: %s, replay_window: 0}
""" % (IPSEC_KEY.hex(), IPSEC_SALT.hex())


def esp_in_frame(peer="10.1.0.2", inner_dst="10.0.0.2"):
    from scapy.layers.ipsec import ESP, SecurityAssociation
    sa = SecurityAssociation(ESP, spi=0x2001, crypt_algo="AES-GCM",
                             crypt_key=IPSEC_KEY + IPSEC_SALT,
                             auth_algo="NULL",
                             tunnel_header=IP(src=peer, dst="10.1.0.1"))
    inner = IP(src="16.1.0.5", dst=inner_dst) / UDP(sport=9, dport=7) / \
        (b"e" * 20)
    return wan_frame(sa.encrypt(inner, seq_num=1))


def esp_cut_frame(peer, spi, ct):
    """ESP with SPI SPI, sequence number 1 and CT bytes of "ciphertext"
    between AES-GCM's 8-byte IV and 16-byte ICV (RFC 4106): CT that is
    not a multiple of 4 is a length no AES-GCM SA takes."""
    return wan_frame(IP(src=peer, dst="10.1.0.1", proto=50) /
                     Raw(spi.to_bytes(4, "big") + (1).to_bytes(4, "big") +
                         bytes(8 + ct + 16)))


def check_ipsec(res):
    """explain against real packets through IPsec: protect (the tunnel
    straight to TX), block, an unprotected packet a protect policy
    wants, and real ESP from the peer, decrypted and forwarded."""
    kinds = [
        ("tunnel_out", frame(IP(src="10.0.0.2", dst="16.1.0.5") /
                             UDP(sport=7, dport=9) / (b"t" * 20)),
         "tx wan0", ["forward(transit)", "ipsec(out)"]),
        ("blocked_out", frame(IP(src="10.0.0.2", dst="16.5.0.1") /
                              UDP(sport=7, dport=9)),
         "drop ipsec.blocked", ["forward(transit)", "ipsec(out)"]),
        ("unprotected_in", wan_frame(IP(src="16.1.0.5", dst="10.0.0.2") /
                                     UDP(sport=9, dport=7)),
         "drop ipsec.unprotected", ["forward(transit)", "ipsec(out)"]),
        ("esp_in", esp_in_frame(), "tx lan0",
         ["ipsec(in)", "forward(transit)", "ipsec(out)"]),
        # decrypted by tollgate, its inner packet outside from-gw's
        # selectors (10.0.0.0/24)
        ("esp_mismatch", esp_in_frame("10.1.0.3", "10.0.1.9"),
         "drop ipsec.policy_mismatch", ["ipsec(in)"]),
        # refused before the crypto device: explained from the frame
        ("esp_malformed", esp_cut_frame("10.1.0.4", 0x2001, 3),
         "drop ipsec.malformed", ["ipsec(in)"]),
        ("esp_no_sa", esp_cut_frame("10.1.0.5", 0x9999, 4),
         "drop ipsec.no_sa", ["ipsec(in)"]),
    ]
    iface = {"unprotected_in": "wan0", "esp_in": "wan0",
             "esp_mismatch": "wan0", "esp_malformed": "wan0",
             "esp_no_sa": "wan0"}
    args = {"esp_in": "in wan0 udp 16.1.0.5:9 to 10.0.0.2:7 length 20 "
                      "esp 8193",
            "esp_mismatch": "in wan0 udp 16.1.0.5:9 to 10.0.1.9:7 length "
                            "20 esp 8193"}
    for name in ("esp_malformed", "esp_no_sa"):
        args[name] = "in wan0 frame " + bytes(
            dict((k[0], k[1]) for k in kinds)[name]).hex()
    t = PcapTollgate(S, "trace-ipsec", {
        0: [bytes(k[1]) for k in kinds if k[0] not in iface],
        1: [bytes(k[1]) for k in kinds if k[0] in iface]})
    y = pcap_yaml("trace.py", t.prefix, t.files,
                  routes=[("16.1.0.0/16", "10.1.0.2", "wan0"),
                          ("16.5.0.0/16", "10.1.0.2", "wan0")],
                  extra=IPSEC_YAML)
    for port in ("0", "1"):
        y = y.replace("rx_pcap=%s,tx_pcap=%s" % (t.files["in" + port],
                                                 t.files["out" + port]),
                      "rx_pcap=%s,infinite_rx=1" % t.files["in" + port])
    if not t.start(TOLLGATE, t.write_config("ipsec.yaml", y)):
        res.report("ipsec: tollgate starts", [t.error, t.tail()])
        return
    try:
        with tel.Telemetry(t.prefix) as c:
            check_explain(res, c, kinds, iface, "IPsec", args)
    finally:
        t.stop()


# The appliance's own stack (a fourth run): a host port, tun, whose
# kernel side is in a namespace of its own. wan0's outbound list denies
# UDP to port 5353. lan0 replays telnet SYNs (filter.in.denied) and, one
# frame in 500, a datagram to the appliance's port 9: to the kernel,
# without flooding it.
SOURCE_LINES = {"lan0": FILTER_LINES["lan0"], "wan0": [
    "    filters:",
    "      outbound:",
    "        mode: deny-listed",
    "        rules:",
    "          - name: no-mdns",
    "            action: deny",
    "            protocol: udp",
    "            dst_port: 5353",
]}
HOST_SPORT = 40053


def ns_send_udp(ns, dst, ports):
    """The kernel in namespace NS sends a datagram from port HOST_SPORT
    to each of DST's PORTS."""
    code = ("import socket,sys\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.bind(('0.0.0.0', %d))\n"
            "for p in sys.argv[2:]:\n"
            "    s.sendto(b'h' * 20, (sys.argv[1], int(p)))\n" % HOST_SPORT)
    r = subprocess.run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
                        code, dst] + [str(p) for p in ports],
                       capture_output=True, text=True, timeout=20)
    return r.returncode == 0, r.stderr


def host_ready(ns, ifname, timeout=15):
    """The host interface in NS, up with the appliance's wan address."""
    end = time.time() + timeout
    while time.time() < end:
        r = subprocess.run(["ip", "-n", ns, "-4", "addr", "show", "dev",
                            ifname], capture_output=True, text=True)
        if r.returncode == 0 and WAN_IP + "/" in r.stdout and \
                "UP" in r.stdout:
            return True
        time.sleep(0.2)
    return False


def traced_by(pkts, text):
    """The traced packets whose summary is TEXT ("udp A:P -> B:Q")."""
    return [v for v in pkts.values() if v.get("packet") == text]


def check_source(res):
    """The source path (what the appliance's own stack sends) and the
    target path's end at the host, each against explain."""
    pid = os.getpid() % 100000
    ns, ifname = "tgtr-%d" % pid, "tgtr%d" % pid
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        res.report("source: setup", ["ip netns add %s failed" % ns])
        return
    S.netns.append(ns)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=False)
    syn = frame(IP(src="10.0.0.2", dst="16.0.0.2") /
                TCP(sport=40000, dport=23, flags="S"))
    to_host = frame(IP(src="10.0.0.2", dst=LAN_IP) /
                    UDP(sport=40009, dport=9) / (b"k" * 10))
    t = PcapTollgate(S, "trace-source",
                     {0: [bytes(syn)] * 499 + [bytes(to_host)]})
    cfg = config(t, SOURCE_LINES, "source.yaml",
                 "host:\n  type: tun\n  ifname: %s\n  netns: %s\n" % (
                     ifname, ns))
    if not t.start(TOLLGATE, cfg):
        res.report("source: tollgate starts", [t.error, t.tail()])
        return
    try:
        if not host_ready(ns, ifname):
            res.report("source: the host interface comes up",
                       ["%s in %s never had %s" % (ifname, ns, WAN_IP)])
            return
        with tel.Telemetry(t.prefix) as c:
            check_source_trace(res, c, ns)
    finally:
        t.stop()


def check_source_trace(res, c, ns):
    # what explain and the trace must say, worked out from the config
    # and ARCHITECTURE.md section 2: the source path is natfw(out),
    # forward(out), filter(out), ipsec(out); only forward and wan0's
    # list are configured
    want = {53: ("tx wan0", ["forward(out)", "filter(out)"]),
            5353: ("drop filter.out.denied",
                   ["forward(out)", "filter(out)"])}
    p = []
    r = c.cmd("/tollgate/trace", "start 4 from host and udp and src port %d"
              % HOST_SPORT)
    if r.get("error"):
        res.report("source: trace start", [r["error"]])
        return
    ok, err = ns_send_udp(ns, "16.0.0.9", [53, 5353, 53, 5353])
    if not ok:
        p.append("the namespace could not send: %s" % err)
    st = wait_trace_done(c)
    _, pkts = show_all(c)
    if st.get("marked") != 4:
        p.append("marked %r, want 4 (status %r)" % (st.get("marked"), st))
    for dport, (end, stages) in sorted(want.items()):
        text = "udp %s:%d -> 16.0.0.9:%d" % (WAN_IP, HOST_SPORT, dport)
        got = traced_by(pkts, text)
        if len(got) != 2:
            p.append("%s: traced %d times, want 2" % (text, len(got)))
            continue
        x = c.cmd("/tollgate/explain", "from host udp %s:%d -> "
                  "16.0.0.9:%d length 20" % (WAN_IP, HOST_SPORT, dport))
        for v in got:
            if v.get("in") != "host" or v.get("path") != "source":
                p.append("%s: in %r, path %r" % (text, v.get("in"),
                                                  v.get("path")))
            if v.get("end") != end or \
                    [s[0] for s in stage_steps(v["steps"])] != stages:
                p.append("%s: trace ends %r through %r, want %r through "
                         "%r" % (text, v.get("end"),
                                 stage_steps(v["steps"]), end, stages))
            if stage_steps(x.get("steps", {})) != \
                    stage_steps(v["steps"]) or \
                    not x.get("end", "").startswith(v.get("end", "?")):
                p.append("%s: explain %r ending %r, trace %r ending %r" % (
                    text, stage_steps(x.get("steps", {})), x.get("end"),
                    stage_steps(v["steps"]), v.get("end")))
        if dport == 5353 and "rule no-mdns (#0)" not in str(x):
            p.append("explain of :5353 does not name the rule: %r" % x)
    res.report("source path: the host's datagrams, traced and explained",
               p)

    # the target path's end at the host: the datagram to port 9
    p = []
    c.cmd("/tollgate/trace", "start 2 in lan0 and udp and dst port 9")
    wait_trace_done(c)
    _, pkts = show_all(c)
    x = c.cmd("/tollgate/explain", "in lan0 udp 10.0.0.2:40009 -> %s:9 "
              "length 10" % LAN_IP)
    got = traced_by(pkts, "udp 10.0.0.2:40009 -> %s:9" % LAN_IP)
    if len(got) != 2:
        p.append("traced %d, want 2: %r" % (len(got), pkts))
    for v in got:
        if v.get("end") != "host" or \
                [s[0] for s in stage_steps(v["steps"])] != \
                ["filter(in)", "localfilter(in)"]:
            p.append("trace ends %r through %r" % (
                v.get("end"), stage_steps(v["steps"])))
        if stage_steps(x.get("steps", {})) != stage_steps(v["steps"]) or \
                x.get("end") != "host":
            p.append("explain %r ending %r" % (
                stage_steps(x.get("steps", {})), x.get("end")))
    res.report("target path to the host: traced and explained", p)


def ctl(t, *args):
    r = subprocess.run([TOLLGATECTL, "-f", t.prefix] + list(args),
                       capture_output=True, text=True, timeout=60,
                       cwd=t.dir, check=False)
    return r.returncode, r.stdout, r.stderr


def check_tollgatectl(res, t):
    p = []
    rc, out, err = ctl(t, "explain", "--in", "lan0", "udp",
                       "10.0.0.2:5000", "to", "16.0.0.1:53", "--length",
                       "20")
    if rc != 0 or "=> tx wan0" not in out or \
            "route 16.0.0.0/8 via 10.1.0.2 on wan0" not in out:
        p.append("explain: rc %d %r %r" % (rc, out, err))
    rc, out, err = ctl(t, "explain", "--in", "lan0", "tcp",
                       "10.0.0.2:40000", "->", "16.0.0.2:23")
    if rc != 0 or "drop filter.in.denied" not in out or \
            "rule no-telnet (#0)" not in out:
        p.append("explain filtered: rc %d %r %r" % (rc, out, err))
    rc, out, err = ctl(t, "explain", "--in", "eth9", "udp", "1.2.3.4:1",
                       "to", "5.6.7.8:2")
    if rc != 1 or "eth9" not in err:
        p.append("explain eth9: rc %d %r" % (rc, err))
    rc, out, err = ctl(t, "explain", "--bogus", "1")
    if rc != 2:
        p.append("explain --bogus: rc %d" % rc)
    rc, out, err = ctl(t, "trace", "start", "--count", "2", "--filter",
                       "udp and dst host 99.0.0.1")
    if rc != 0 or "trace" not in out:
        p.append("trace start: rc %d %r %r" % (rc, out, err))
    wait_trace_done(tel.Telemetry(t.prefix))
    rc, out, err = ctl(t, "trace", "show")
    if rc != 0 or out.count("=> drop forward.no_route") != 2 or \
            "packet 2: udp 10.0.0.2:5000 -> 99.0.0.1:53" not in out:
        p.append("trace show: rc %d %r %r" % (rc, out, err))
    rc, out, err = ctl(t, "capture", "drops", "-w", "ctl.pcapng",
                       "--reason", "forward.ttl_exceeded", "--count", "3")
    rows, terr = tshark_frames(os.path.join(t.dir, "ctl.pcapng"))
    if rc != 0 or "3 packets written" not in out or rows is None or \
            len(rows) != 3 or any("forward.ttl_exceeded" not in r[3]
                                  for r in rows):
        p.append("capture drops: rc %d %r %r; frames %r %s" % (
            rc, out, err, rows, terr))
    rc, out, err = ctl(t, "capture")
    if rc != 0 or "stopped" not in out:
        p.append("capture: rc %d %r" % (rc, out))
    res.report("tollgatectl: explain, trace, capture drops", p)

    # explain a frame of a capture: scapy's pcap (Ethernet and bare IP),
    # and the pcapng of drops tollgate itself just wrote
    p = []
    kinds = dict((k[0], k[1]) for k in KINDS)
    wrpcap(os.path.join(t.dir, "two.pcap"),
           [kinds["forwarded"], kinds["bad_checksum"]])
    quiet = logging.getLogger("scapy.runtime")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "inconsistent linktypes": bare IP
    wrpcap(os.path.join(t.dir, "raw.pcap"), [kinds["ttl"][IP]],
           linktype=101)
    quiet.setLevel(level)
    for args, want in ((["--pcap", "two.pcap"], "=> tx wan0"),
                       (["--pcap", "two.pcap", "--index", "2"],
                        "=> drop pkt.bad_checksum"),
                       (["--pcap", "raw.pcap"],
                        "=> drop forward.ttl_exceeded"),
                       (["--pcap", "ctl.pcapng", "--index", "3"],
                        "=> drop forward.ttl_exceeded")):
        rc, out, err = ctl(t, "explain", "--in", "lan0", *args)
        if rc != 0 or want not in out:
            p.append("explain %s: rc %d %r %r" % (" ".join(args), rc, out,
                                                  err))
    rc, out, err = ctl(t, "explain", "--in", "lan0", "--pcap", "two.pcap",
                       "--index", "3")
    if rc != 2 or "fewer frames" not in err:
        p.append("explain --index 3 of 2: rc %d %r" % (rc, err))
    res.report("tollgatectl: explain --pcap, a frame of a capture", p)


def main():
    S.parse_args(__doc__)
    res = Results()
    if not preflight(res):
        return res.finish()
    t = PcapTollgate(S, "trace", {0: [bytes(k[1]) for k in KINDS]})
    cfg = config(t)
    if not t.start(TOLLGATE, cfg):
        res.report("tollgate starts", [t.error, t.tail()])
        return res.finish()
    try:
        with tel.Telemetry(t.prefix) as c:
            check_trace(res, c)
            # a frame RX refuses: explained from its bytes
            check_explain(res, c, args_of={
                "bad_checksum": "in lan0 frame " +
                bytes(dict((k[0], k[1]) for k in KINDS)["bad_checksum"])
                .hex()})
            check_explain_refusals(res, c)
            check_capture(res, c, t)
            check_tollgatectl(res, t)
            res.report("still running after all of it",
                       [] if t.alive() else ["tollgate exited"])
    finally:
        t.stop()
    check_nat(res)
    check_ipsec(res)
    check_source(res)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
