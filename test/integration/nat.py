#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate integration tests of NAT and the host firewall (nat:,
firewall:, docs/nat.md): packets in → tollgate → pcap out, expectations
computed here.

Every packet is built with scapy; what should come out is built with
scapy from the specification (docs/nat.md, docs/configuration.md,
ARCHITECTURE.md section 2), never from tollgate's output, except for what
the specification leaves open: the public port a translation takes when
the private port is not free (or not in the range). That one is read from
the output and then checked against the rules: in the range of the NAT
address, not held by another mapping, the same for every flow of one
private endpoint (endpoint-independent mapping), the private port itself
when it is free and in the range (port preservation). Expected frames
are the input with the translated fields set, TTL - 1, the MACs of the
hop, and the checksums scapy recomputes (the fields deleted and the
packet rebuilt); outputs are compared byte for byte.

  transit lan0 → wan0   filter(in) → forward → natfw(nat) → filter(out) → TX
  target to 10.1.0.1    ipsec(in) → filter(in) → natfw(in): translated back
                        → switch to transit at forward → ... → TX on lan0

Ordering. NAT is stateful: the answers must reach tollgate only after the
packets they answer were translated, and sessions live in the process,
so two runs cannot be chained. A net_pcap port reading an rx pcap offers
the whole file at start, both ports at once. So this script gives both
ports live rx instead: net_pcap's rx_iface_in on one end of a veth pair
(IPv6 off, no address: nothing but what is injected arrives), the other
end in a network namespace of this script, where an AF_PACKET socket
injects frames; tx still goes to out0.pcap and out1.pcap (net_pcap
flushes the dumper every burst, so they can be read while tollgate runs).
The script sends in steps: inject, wait until /tollgate/stats says every
packet is accounted for (rx, rings empty, rx = tx + host + drops, stable),
read the frames each port sent meanwhile and the drop counters' change,
then the next step. Each case's drops are thus counted exactly, per step.

Runs (lan0 10.0.0.1/24 private, wan0 10.1.0.1/24 public, harness.py's
topology; the NAT address is wan0's, 10.1.0.1):

  apdf  default filtering (address-and-port-dependent), ports 1024-65535,
        a port mapping tcp 8080 → 10.0.0.10:80, firewall: {} —
        outbound UDP, TCP SYN and ICMP echo from several lan hosts (port
        preservation, clashes, a port below the range, endpoint-
        independent mapping, a UDP checksum of 0); the answers translated
        back (path switch, TTL - 1 once); the port mapping both ways; ICMP
        errors about translated UDP, TCP and echo (8-byte and whole
        quotes); unsolicited traffic (natfw.no_exception,
        natfw.icmp_blocked); packets to a mapping from remotes the host
        never sent to (dropped).
  eif   filtering: endpoint-independent, ports 5000-5063, the firewall
        exception ssh tcp 22 — anyone may answer a mapping; a port
        outside the range is translated into it; the host's answer to
        such a remote keeps its mapping; SYN to 22 passes the firewall and
        ends as pipeline.no_host_port (no host port), SYN to 23 does not.

Per run: the drop counters of the final summary exactly, rx = tx + host +
drops (+ generated), per port, tx = frames in the pcaps, nothing but the
expected frames, stages.natfw.path_switch = packets translated back, a
clean exit.

Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
if anything failed.

  /usr/bin/python3 test/integration/nat.py [-v] [--keep] [-k SUBSTRING]

Needs root (network namespace, veth pairs); TOLLGATE=path overrides the
binary (an ASan/UBSan build's reports fail the run's clean_exit).
"""
import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test"))
sys.path.insert(0, HERE)

import tgtelemetry as tel  # noqa: E402
from harness import (H0, H1, H1B, NEIGHBORS, TOLLGATE,  # noqa: E402
                     WAN_IP, PcapTollgate, Results, Scratch, pcap_yaml,
                     preflight, read_pcap, scapy_missing, tag, wait_settled)

try:
    from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402
    from scapy.utils import checksum  # noqa: E402
except ImportError:
    sys.exit(scapy_missing())

SCRATCH = Scratch("tg-nat")
log = SCRATCH.log

# ---- topology (harness.py's) and the lan hosts behind lan0 ------------------
#
#   lan hosts 10.0.0.2 .3 .4 .10 ─ p0 ─ lan0 10.0.0.1/24 (private)
#                                  [tollgate, NAT address 10.1.0.1]
#   wan: router 10.1.0.2 (16/8 behind it), host 10.1.0.3
#                                  ─ p1 ─ wan0 10.1.0.1/24 (public)
#
HOST_MAC = {"10.0.0.2": H0, "10.0.0.3": "02:00:00:00:00:03",
            "10.0.0.4": "02:00:00:00:00:04",
            "10.0.0.10": "02:00:00:00:00:0a"}
LAN_NEIGHBORS = NEIGHBORS + [(a, m, "lan0") for a, m in HOST_MAC.items()
                             if a != "10.0.0.2"]
ROUTER = "10.1.0.2"          # wan0's gateway to 16/8 (MAC H1)
WAN_HOST = "10.1.0.3"        # on wan0's subnet (MAC H1B)


def remote_mac(addr):
    """The wan MAC a packet to or from @addr uses."""
    return H1B if addr == WAN_HOST else H1


def sender_mac(port, src):
    return HOST_MAC[src] if port == 0 else remote_mac(src)


# ---- live injection: veth pairs, the far ends in a namespace ----------------

CLONE_NEWNET = 0x40000000


class Live:
    """Two veth pairs in a network namespace of this script's own (.ns):
    tollgate runs in it (run_in()) and its net_pcap ports capture
    (rx_iface_in) on one end of each pair (.ifs); this script injects
    frames through AF_PACKET sockets bound to the other ends (created
    inside the namespace, they stay in it when the script returns to its
    own). Nothing is added to the root namespace."""

    def __init__(self, scratch):
        pid = os.getpid() % 100000
        self.ns = "tgnat-%d" % pid
        self.ifs = {0: "tgn%da" % pid, 1: "tgn%db" % pid}
        self.socks = {}
        self.error = None
        try:
            self._setup(scratch)
        except (OSError, subprocess.CalledProcessError) as e:
            self.error = "%s: %s" % (type(e).__name__, e)

    def _run(self, *cmd):
        subprocess.run(list(cmd), check=True, capture_output=True)

    def _setup(self, scratch):
        self._run("ip", "netns", "add", self.ns)
        scratch.netns.append(self.ns)   # its veth ends die with it
        ns_exec = ["ip", "netns", "exec", self.ns]
        for port, a in self.ifs.items():
            b = a + "p"
            self._run("ip", "-n", self.ns, "link", "add", a, "type", "veth",
                      "peer", "name", b)
            for dev in (a, b):
                # no IPv6 (router solicitations, MLD), no IPv4 address:
                # the only frames are the injected ones
                if os.path.exists("/proc/sys/net/ipv6"):
                    self._run(*(ns_exec + [
                        "sysctl", "-qw",
                        "net.ipv6.conf.%s.disable_ipv6=1" % dev]))
                self._run("ip", "-n", self.ns, "link", "set", dev, "up")
        libc = ctypes.CDLL(None, use_errno=True)
        own = os.open("/proc/self/ns/net", os.O_RDONLY)
        there = os.open("/var/run/netns/" + self.ns, os.O_RDONLY)
        try:
            if libc.setns(there, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + self.ns)
            try:
                for port, a in self.ifs.items():
                    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
                    s.bind((a + "p", 0))
                    self.socks[port] = s
            finally:
                if libc.setns(own, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(own)
            os.close(there)

    def send(self, port, frame):
        self.socks[port].send(frame)

    def run_in(self, folder):
        """A wrapper that execs TOLLGATE inside the namespace (the pid
        stays tollgate's: SIGINT reaches it). → its path."""
        path = os.path.join(folder, "tollgate-in-netns")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (
                self.ns, TOLLGATE))
        os.chmod(path, 0o755)
        return path


# ---- frames -----------------------------------------------------------------

def frame_of(ipb, dst_mac, src_mac):
    return bytes(Ether(dst=dst_mac, src=src_mac, type=0x0800)) + ipb


def fix_ip_csum(b):
    """@b (bytearray, an IP packet): its header checksum from scratch."""
    ihl = (b[0] & 15) * 4
    b[10:12] = b"\0\0"
    b[10:12] = struct.pack("!H", checksum(bytes(b[:ihl])))
    return b


def hop(ipb):
    """@ipb after one router: TTL - 1, header checksum recomputed."""
    b = bytearray(ipb)
    b[8] -= 1
    return bytes(fix_ip_csum(b))


def translate(ipb, src=None, sport=None, dst=None, dport=None):
    """What a NAT that forwards @ipb sends: addresses and ports (ICMP
    query: the identifier) as given, TTL - 1, every checksum recomputed by
    scapy (a UDP checksum of 0, "none", stays 0)."""
    p = IP(ipb)
    p.ttl -= 1
    del p.chksum
    if src:
        p.src = src
    if dst:
        p.dst = dst
    if p.haslayer(UDP):
        if sport is not None:
            p[UDP].sport = sport
        if dport is not None:
            p[UDP].dport = dport
        if p[UDP].chksum != 0:
            del p[UDP].chksum
    elif p.haslayer(TCP):
        if sport is not None:
            p[TCP].sport = sport
        if dport is not None:
            p[TCP].dport = dport
        del p[TCP].chksum
    elif p.haslayer(ICMP):
        ident = sport if sport is not None else dport
        if ident is not None:
            p[ICMP].id = ident
        del p[ICMP].chksum
    return bytes(p)


def l4_port(ipb, which):
    """Source or destination port (ICMP query: the identifier) of @ipb."""
    p = IP(ipb)
    if p.haslayer(UDP):
        return p[UDP].sport if which == "s" else p[UDP].dport
    if p.haslayer(TCP):
        return p[TCP].sport if which == "s" else p[TCP].dport
    return p[ICMP].id


def checksums_problems(ipb, whole_quote):
    """Every checksum of an ICMP error packet @ipb verified from scratch:
    outer IP, ICMP (over the whole message), the embedded IP header and,
    when the quote is whole, the embedded UDP or TCP checksum."""
    p = []
    ihl = (ipb[0] & 15) * 4
    if checksum(ipb[:ihl]) != 0:
        p.append("outer IP header checksum wrong")
    icmp = ipb[ihl:]
    if checksum(icmp) != 0:
        p.append("ICMP checksum wrong")
    inner = icmp[8:]
    iihl = (inner[0] & 15) * 4
    if checksum(inner[:iihl]) != 0:
        p.append("embedded IP header checksum wrong")
    if whole_quote:
        q = IP(inner)
        for layer in (UDP, TCP):
            if q.haslayer(layer) and not (layer is UDP and
                                          q[UDP].chksum == 0):
                r = q.copy()
                del r[layer].chksum
                if bytes(r) != inner:
                    p.append("embedded %s checksum wrong" % layer.__name__)
    return p


# ---- comparing frames -------------------------------------------------------

def summary_of(frame):
    try:
        return Ether(frame).summary()
    except Exception:  # noqa: BLE001 - decoration
        return frame[:40].hex()


def fields_diff(want, got):
    """Layer by layer, the fields that differ (scapy's view)."""
    out = []
    try:
        a, b = Ether(want), Ether(got)
    except Exception:  # noqa: BLE001 - decoration
        return out
    depth = 0
    while a is not None and b is not None and depth < 8:
        if type(a) is not type(b):
            out.append("layer %s vs %s" % (a.name, b.name))
            break
        for f in a.fields_desc:
            va, vb = a.getfieldval(f.name), b.getfieldval(f.name)
            if f.name == "load" or va == vb:
                continue
            out.append("%s.%s want %r got %r" % (a.name, f.name, va, vb))
        if isinstance(a, Raw) and a.load != b.load:
            out.append("payload want %r got %r" % (a.load[:48], b.load[:48]))
        a = a.payload if a.payload else None
        b = b.payload if b.payload else None
        depth += 1
    return out


def byte_diff(want, got):
    offs = [i for i in range(max(len(want), len(got)))
            if i >= len(want) or i >= len(got) or want[i] != got[i]]
    return "lengths %d/%d, differing offsets %s" % (
        len(want), len(got), offs[:24])


def diff_text(want, got):
    lines = ["want %s" % summary_of(want), "got  %s" % summary_of(got),
             byte_diff(want, got)]
    lines += fields_diff(want, got)
    lines += ["want %s" % want.hex(" "), "got  %s" % got.hex(" ")]
    return "\n".join(lines)


# ---- a run: tollgate on two live ports, driven in steps ---------------------

class Run(PcapTollgate):
    """One tollgate process (net_pcap ports capturing on LIVE's veths,
    writing out0.pcap and out1.pcap) with the nat: and firewall: text
    NATFW; steps of injected packets, each settled and its outputs and
    drops taken apart; the expectations and problems per case."""

    def __init__(self, name, live, natfw):
        super().__init__(SCRATCH, name, {})
        self.live = live
        text = pcap_yaml("nat.py", self.prefix, self.files,
                         neighbors=LAN_NEIGHBORS, extra=natfw)
        for port in (0, 1):
            text = text.replace("rx_pcap=%s" % self.files["in%d" % port],
                                "rx_iface_in=%s" % live.ifs[port])
        self.cfg = self.write_config("tollgate.yaml", text)
        self.macs = {}
        self.sent = {0: 0, 1: 0}
        self.seen = {0: 0, 1: 0}      # output frames taken by steps
        self.stats = None
        self.drops = {}               # the model: reason → n
        self.switches = 0             # the model: packets translated back
        self.problems = {}            # case → [problems]
        self.cases = []
        self.stray = []               # frames no case expected
        self.dead = False

    def case(self, name):
        if name not in self.problems:
            self.problems[name] = []
            self.cases.append(name)
        return self.problems[name]

    def start(self):
        if not super().start(self.live.run_in(self.dir), self.cfg):
            return False
        ifs = tel.query(self.prefix, "/tollgate/interfaces")
        self.macs = {k: v["mac"].lower() for k, v in ifs.items()}
        self.stats = tel.query(self.prefix, "/tollgate/stats")
        return True

    def cmd(self, command, params=None):
        return tel.query(self.prefix, command, params, 10.0)

    def frame_in(self, port, ipb):
        """@ipb as it arrives on @port: from its sender's MAC to ours."""
        src = "%d.%d.%d.%d" % tuple(ipb[12:16])
        return frame_of(ipb, self.macs["lan0" if port == 0 else "wan0"],
                        sender_mac(port, src))

    def frame_out(self, port, ipb):
        """@ipb as tollgate sends it on @port: to the next hop's MAC."""
        dst = "%d.%d.%d.%d" % tuple(ipb[16:20])
        return frame_of(ipb, HOST_MAC[dst] if port == 0 else remote_mac(dst),
                        self.macs["lan0" if port == 0 else "wan0"])

    def step(self, what, sends, drops=None, switches=0, cases=()):
        """Inject SENDS [(port, IP bytes)] in order, wait until they are
        accounted for; the model adds DROPS {reason: n} and SWITCHES.
        → {port: [frames sent meanwhile]}. Unexpected drops, a wrong
        path_switch count and not settling are problems of CASES."""
        drops = drops or {}
        self.switches += switches
        for k, v in drops.items():
            self.drops[k] = self.drops.get(k, 0) + v
        if self.dead:
            for c in cases:
                self.case(c).append("not run: %s" % self.dead)
            return {0: [], 1: []}
        before = self.stats
        for port, ipb in sends:
            self.live.send(port, self.frame_in(port, ipb))
            self.sent[port] += 1
        try:
            self.stats, ok = wait_settled(self.cmd, sum(self.sent.values()),
                                          timeout=5.0)
        except (tel.TelemetryError, OSError) as e:
            self.dead = "telemetry: %s" % e
            for c in cases:
                self.case(c).append("step %s: %s" % (what, self.dead))
            return {0: [], 1: []}
        p = []
        if not ok:
            p.append("step %s: counters never settled: rx %s (want %d) tx "
                     "%s in_rings %s" % (what, self.stats.get("rx"),
                                         sum(self.sent.values()),
                                         self.stats.get("tx"),
                                         self.stats.get("in_rings")))
        d0, d1 = tel.drops_flat(before), tel.drops_flat(self.stats)
        delta = {k: d1[k] - d0.get(k, 0) for k in d1
                 if d1[k] != d0.get(k, 0)}
        want = {k: v for k, v in drops.items() if v}
        if delta != want:
            p.append("step %s: drops %s, want %s" % (what, delta, want))
        sw = (tel.dig(self.stats, "stages.natfw.path_switch") or 0) - \
            (tel.dig(before, "stages.natfw.path_switch") or 0)
        if sw != switches:
            p.append("step %s: stages.natfw.path_switch +%d, want +%d "
                     "(packets translated back)" % (what, sw, switches))
        for c in cases:
            self.case(c).extend(p)
        outs = {}
        for port in (0, 1):
            frames = read_pcap(self.files["out%d" % port]) or []
            outs[port] = frames[self.seen[port]:]
            self.seen[port] = len(frames)
        log("%s: sent %d, out lan0 %d wan0 %d, drops %s" % (
            what, len(sends), len(outs[0]), len(outs[1]), delta))
        return outs

    def match(self, outs, want):
        """WANT [(case, port, frame)] against OUTS byte for byte; a frame
        missing is its case's problem (with the nearest frame's diff),
        a frame left over is a stray one."""
        used = {0: [False] * len(outs[0]), 1: [False] * len(outs[1])}
        missing = []
        for case, port, fr in want:
            self.case(case)
            for i, got in enumerate(outs[port]):
                if not used[port][i] and got == fr:
                    used[port][i] = True
                    break
            else:
                missing.append((case, port, fr))
        for case, port, fr in missing:
            free = [g for i, g in enumerate(outs[port]) if not used[port][i]]
            near = min(free, key=lambda g: sum(
                x != y for x, y in zip(g, fr)) + abs(len(g) - len(fr)),
                default=None)
            msg = "port %d: expected frame missing: %s" % (port,
                                                          summary_of(fr))
            if near is not None:
                msg += "\nnearest frame sent:\n" + diff_text(fr, near)
            self.case(case).append(msg)
        for port in (0, 1):
            for i, got in enumerate(outs[port]):
                if not used[port][i]:
                    self.stray.append("port %d: unexpected frame: %s" % (
                        port, summary_of(got)))

    def step_dropped(self, case, ipb, reason):
        """IPB in from wan, dropped for REASON: no frame out (any that
        comes out is CASE's problem)."""
        outs = self.step(case, [(1, ipb)], drops={reason: 1}, cases=[case])
        self.match(outs, [])
        self.case(case).extend("frame out: %s" % summary_of(fr)
                               for fr in outs[0] + outs[1])

    def report(self, res):
        for c in self.cases:
            res.report("%s.%s" % (self.name, c), self.problems[c])

    def final_checks(self, res):
        """After stop(): no frames but the expected ones, the drop
        counters exactly, the invariant, a clean exit."""
        n = self.name
        p = list(self.stray)
        for port in (0, 1):
            outs = self.outputs.get(port)
            if outs is None:
                p.append("out%d.pcap missing" % port)
            elif len(outs) > self.seen[port]:
                p += ["port %d: unexpected frame after the last step: %s" %
                      (port, summary_of(f)) for f in outs[self.seen[port]:]]
        res.report("%s.no_unexpected_frames" % n, p)

        p = []
        got = self.final["drops"] if self.final else {}
        if not self.final or not self.final["found"]:
            p.append("no final counter summary\n%s" % self.tail())
        for k, v in sorted(self.drops.items()):
            if got.get(k, 0) != v:
                p.append("drop %s = %d, want %d" % (k, got.get(k, 0), v))
        for k, v in sorted(got.items()):
            if v and k not in self.drops:
                p.append("unexpected drop %s = %d" % (k, v))
        res.report("%s.drop_counters_exact" % n, p)

        p = []
        t = self.final["totals"] if self.final else {}
        dsum = sum(got.values())
        if not all(k in t for k in ("rx", "tx", "generated")):
            p.append("summary lacks rx/tx/generated: %s" % t)
        else:
            if t["rx"] + t["generated"] != t["tx"] + t.get("host", 0) + dsum:
                p.append("rx %d + generated %d != tx %d + host %d + drops "
                         "%d" % (t["rx"], t["generated"], t["tx"],
                                 t.get("host", 0), dsum))
            if t["rx"] != sum(self.sent.values()):
                p.append("rx %d, want %d (frames injected)" % (
                    t["rx"], sum(self.sent.values())))
            if t["generated"] != 0 or t.get("host", 0) != 0:
                p.append("generated %d host %d, want 0 and 0" % (
                    t["generated"], t.get("host", 0)))
            n_out = sum(len(o or []) for o in self.outputs.values())
            if t["tx"] != n_out:
                p.append("tx %d, but the output pcaps hold %d frames" % (
                    t["tx"], n_out))
            ports = self.final.get("ports", {})
            for port, pname in ((0, "p0"), (1, "p1")):
                rx_tx = ports.get(pname) or ports.get(str(port))
                want = (self.sent[port], len(self.outputs.get(port) or []))
                if rx_tx != want:
                    p.append("port %s rx/tx %s, want %s (injected, in "
                             "out%d.pcap)" % (pname, rx_tx, want, port))
        res.report("%s.invariant_rx_eq_tx_plus_host_plus_drops" % n, p)

        got = tel.dig(self.stats, "stages.natfw.path_switch")
        res.report("%s.natfw_path_switch_eq_packets_translated_back" % n,
                   [] if got == self.switches else [
                       "stages.natfw.path_switch %r after the last step, "
                       "want %d" % (got, self.switches)])

        p = []
        if self.rc != 0:
            p.append("exit code %s (last line: %s)" % (
                self.rc, self.lines[-1] if self.lines else ""))
        if self.runtime_dir_left:
            p.append("runtime dir /var/run/dpdk/%s left behind" % self.prefix)
        san = [ln for ln in self.lines if "Sanitizer" in ln or
               "runtime error:" in ln]
        if san:
            p.append("sanitizer report:\n" + "\n".join(san[:20]))
        res.report("%s.clean_exit" % n, p)


# ---- flows and the port rules -----------------------------------------------

PROTO_NAME = {17: "udp", 6: "tcp", 1: "icmp"}


class Flow:
    """A lan host's flow to a remote: what it sent, the public port
    (ICMP: identifier) it got, the frame expected on wan0."""

    def __init__(self, name, case, host, proto, sport, remote, rport,
                 seq=1000, zero_csum=False, ffff=False):
        self.name, self.case = name, case
        self.host, self.proto, self.sport = host, proto, sport
        self.remote, self.rport = remote, rport
        self.seq = seq
        self.ffff = ffff
        ip = IP(src=host, dst=remote, ttl=64, id=0x4000 + seq % 4096)
        if proto == "udp":
            l4 = UDP(sport=sport, dport=rport)
            if zero_csum:
                l4.chksum = 0
        elif proto == "tcp":
            l4 = TCP(sport=sport, dport=rport, flags="S", seq=seq,
                     window=64240)
        else:
            l4 = ICMP(type=8, id=sport, seq=seq % 65536)
        self.ip = bytes(ip / l4 / tag("out-" + name))
        if ffff:  # translated with its own port kept: UDP checksum 0xffff
            self.ip = ffff_payload(
                ip / l4, tag("out-" + name),
                lambda b: translate(b, src=WAN_IP, sport=sport))
        self.pub = None       # the public port it got
        self.out_ip = None    # expected on wan0

    def reply(self, i=0):
        """The remote's answer to the public endpoint."""
        ip = IP(src=self.remote, dst=WAN_IP, ttl=50,
                id=0x6000 + self.seq % 4096 + i)
        if self.proto == "udp":
            l4 = UDP(sport=self.rport, dport=self.pub)
            if IP(self.ip)[UDP].chksum == 0:
                l4.chksum = 0
        elif self.proto == "tcp":
            l4 = TCP(sport=self.rport, dport=self.pub, flags="SA",
                     seq=777000 + self.seq, ack=self.seq + 1, window=65535)
        else:
            l4 = ICMP(type=0, id=self.pub, seq=self.seq % 65536)
        if self.ffff:  # translated back: UDP checksum 0xffff
            return ffff_payload(ip / l4, tag("re-" + self.name),
                                lambda b: translate(b, dst=self.host,
                                                    dport=self.sport))
        return bytes(ip / l4 / tag("re-" + self.name))


def ffff_payload(head, marker, xlate):
    """HEAD (IP / UDP) with a payload: MARKER, padding to an even
    length, then a 16-bit word chosen so that XLATE(packet) has a
    one's-complement sum of 0 over its UDP checksum: computed as 0, sent
    as 0xffff (RFC 768), where an incremental update that forgets the
    rule would leave 0, "no checksum"."""
    pad = marker + b"\0" * (len(marker) % 2)
    first = IP(xlate(bytes(head / (pad + b"\0\0"))))
    word = struct.pack("!H", first[UDP].chksum)
    ipb = bytes(head / (pad + word))
    assert IP(xlate(ipb))[UDP].chksum == 0xFFFF
    return ipb


class Ports:
    """The model of one NAT address's port spaces (per protocol): which
    public ports mappings hold and which private endpoint holds which."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi
        self.taken = {"udp": {}, "tcp": {}, "icmp": {}}   # pub → endpoint
        self.by_ep = {}                                   # endpoint → pub

    def judge(self, f, pub):
        """@f got public port @pub: → (rule case, problems)."""
        ep = (f.proto, f.host, f.sport)
        taken = self.taken[f.proto]
        if ep in self.by_ep:
            rule = "endpoint_independent_mapping"
            p = [] if pub == self.by_ep[ep] else [
                "%s %s:%d → %s: got port %d, but the endpoint's mapping is "
                "%d" % (f.proto, f.host, f.sport, f.remote, pub,
                        self.by_ep[ep])]
            return rule, p
        p = []
        if self.lo <= f.sport <= self.hi and f.sport not in taken:
            rule = "port_preserved_when_free"
            if pub != f.sport:
                p.append("%s %s:%d: port %d free and in %d-%d, got %d" % (
                    f.proto, f.host, f.sport, f.sport, self.lo, self.hi,
                    pub))
        else:
            rule = ("clash_gets_another_port_of_the_range"
                    if f.sport in taken else
                    "port_outside_the_range_translated_into_it")
            if not self.lo <= pub <= self.hi:
                p.append("%s %s:%d: got port %d, outside %d-%d" % (
                    f.proto, f.host, f.sport, pub, self.lo, self.hi))
            if pub in taken:
                p.append("%s %s:%d: got port %d, held by %s" % (
                    f.proto, f.host, f.sport, pub, taken[pub]))
        if not p:
            taken[pub] = ep
            self.by_ep[ep] = pub
        return rule, p


def run_outbound(run, flows, ports, what="outbound"):
    """Send @flows from the lan; learn each one's public port from the
    frame with its tag on wan0, judge it by the rules, expect the
    translated packet byte for byte."""
    outs = run.step(what, [(0, f.ip) for f in flows],
                    cases=sorted({f.case for f in flows}))
    want = []
    for f in flows:
        run.case(f.case)
        t = tag("out-" + f.name)
        hits = [fr for fr in outs[1] if t in fr]
        if len(hits) != 1:
            run.case(f.case).append(
                "%s: %d frames on wan0 with its tag, want 1 (lan0: %d)" % (
                    f.name, len(hits), sum(t in fr for fr in outs[0])))
            continue
        try:
            f.pub = l4_port(hits[0][14:], "s")
        except Exception as e:  # noqa: BLE001 - a mangled frame
            run.case(f.case).append("%s: unreadable: %s" % (f.name, e))
            continue
        rule, p = ports.judge(f, f.pub)
        log("%s %s %s:%d -> %s:%d (%s)" % (f.name, f.proto, f.host, f.sport,
                                           WAN_IP, f.pub, rule))
        run.case(rule).extend(p)
        f.out_ip = translate(f.ip, src=WAN_IP, sport=f.pub)
        want.append((f.case, 1, run.frame_out(1, f.out_ip)))
    run.match(outs, want)
    return outs


def replies(run, flows, case_of_flow, what="replies"):
    """Each flow's remote answers its public endpoint: expected on lan0
    to the host and its port, TTL - 1 (forward ran once)."""
    live = [f for f in flows if f.pub is not None]
    for f in flows:
        if f.pub is None:
            run.case(case_of_flow(f)).append(
                "%s: not sent (its outbound packet was not seen)" % f.name)
    sends, want = [], []
    for f in live:
        r = f.reply()
        sends.append((1, r))
        exp = translate(r, dst=f.host, dport=f.sport)
        want.append((case_of_flow(f), 0, run.frame_out(0, exp)))
    outs = run.step(what, sends, switches=len(sends),
                    cases=sorted({c for c, _, _ in want}))
    run.match(outs, want)


# ---- run apdf ---------------------------------------------------------------

APDF_YAML = """nat:
  private: [lan0]
  public: [wan0]
  port_mappings:
    - name: web
      protocol: tcp
      public_port: 8080
      private_address: 10.0.0.10
      private_port: 80
firewall: {}
"""


def run_part(res, live, name, natfw, body):
    """A Run NAME of NATFW: BODY(run) once it started; then stopped, its
    cases reported and the final checks made."""
    run = Run(name, live, natfw)
    try:
        if not run.start():
            res.report(name + ".run", ["%s\n%s" % (run.error, run.tail())])
            run.stop()
            return
        body(run)
    except (tel.TelemetryError, OSError, KeyError, TypeError) as e:
        run.error = "%s: %s" % (type(e).__name__, e)
    finally:
        run.stop()
    if run.error:
        res.report(name + ".run", ["%s\n%s" % (run.error, run.tail())])
    run.report(res)
    run.final_checks(res)


def run_apdf(res, live):
    ports = Ports(1024, 65535)
    U, T, I = ("outbound_udp", "outbound_tcp_syn", "outbound_icmp_echo")
    flows = [
        Flow("u1", U, "10.0.0.2", "udp", 5000, "16.0.0.5", 53, seq=1),
        Flow("u2", U, "10.0.0.3", "udp", 5000, "16.0.0.5", 53, seq=2),
        Flow("u3", U, "10.0.0.4", "udp", 6000, WAN_HOST, 53, seq=3),
        Flow("u4", U, "10.0.0.2", "udp", 5000, "16.0.0.6", 53, seq=4),
        Flow("u5", U, "10.0.0.3", "udp", 5000, "16.0.0.6", 53, seq=5),
        Flow("u6", U, "10.0.0.4", "udp", 123, "16.0.0.5", 123, seq=6),
        Flow("u7", "outbound_udp_zero_checksum_stays_zero", "10.0.0.4",
             "udp", 7000, "16.0.0.7", 33434, seq=7, zero_csum=True),
        Flow("u8", "outbound_udp_checksum_0xffff_not_0", "10.0.0.2", "udp",
             5353, "16.0.0.5", 5353, seq=8, ffff=True),
        Flow("t1", T, "10.0.0.2", "tcp", 40000, "16.0.0.5", 443, seq=11),
        Flow("t2", T, "10.0.0.3", "tcp", 40000, "16.0.0.6", 80, seq=12),
        Flow("t3", T, "10.0.0.4", "tcp", 40001, "16.0.0.5", 443, seq=13),
        Flow("i1", I, "10.0.0.2", "icmp", 1234, "16.0.0.5", 0, seq=21),
        Flow("i2", I, "10.0.0.3", "icmp", 1234, "16.0.0.5", 0, seq=22),
    ]
    by = {f.name: f for f in flows}

    def body(run):
        # 1. outbound translation
        run_outbound(run, flows, ports)

        # 2. the answers, after the translations exist
        rcase = {"udp": "replies_udp_translated_back",
                 "tcp": "replies_tcp_synack_translated_back",
                 "icmp": "replies_icmp_echo_reply_translated_back"}
        replies(run, flows, lambda f: {
            "u7": "replies_udp_zero_checksum_stays_zero",
            "u8": "replies_udp_checksum_0xffff_not_0"}.get(
                f.name, rcase[f.proto]))

        # 3. the port mapping: SYN in, the server's SYN-ACK out
        syn = bytes(IP(src="16.0.0.8", dst=WAN_IP, ttl=50, id=0x7001) /
                    TCP(sport=50000, dport=8080, flags="S", seq=5550000,
                        window=64240) / tag("pm-syn"))
        outs = run.step("port_mapping_syn", [(1, syn)], switches=1,
                        cases=["port_mapping_syn_to_private_host"])
        run.match(outs, [("port_mapping_syn_to_private_host", 0,
                          run.frame_out(0, translate(syn, dst="10.0.0.10",
                                                     dport=80)))])
        synack = bytes(IP(src="10.0.0.10", dst="16.0.0.8", ttl=64,
                          id=0x7002) /
                       TCP(sport=80, dport=50000, flags="SA", seq=880000,
                           ack=5550001, window=65535) / tag("pm-synack"))
        outs = run.step("port_mapping_synack", [(0, synack)],
                        cases=["port_mapping_synack_from_public_port"])
        run.match(outs, [("port_mapping_synack_from_public_port", 1,
                          run.frame_out(1, translate(synack, src=WAN_IP,
                                                     sport=8080)))])

        # 5. ICMP errors about translated packets
        errs = [  # (case, flow, sender, type, code, quote length or None)
            ("icmp_error_udp_8_byte_quote", "u7", ROUTER, 3, 3, 28),
            ("icmp_error_udp_whole_quote", "u3", WAN_HOST, 3, 3, None),
            ("icmp_error_tcp_whole_quote", "t1", ROUTER, 3, 1, None),
            ("icmp_error_tcp_8_byte_quote", "t2", ROUTER, 3, 1, 28),
            ("icmp_error_echo_translated_id", "i2", ROUTER, 11, 0, 28),
        ]
        sends, want, checks = [], [], []
        for n, (case, fname, sender, ty, code, qlen) in enumerate(errs):
            f = by[fname]
            if f.out_ip is None:
                run.case(case).append("not sent: %s was not translated" %
                                      fname)
                continue
            # the router quotes the packet as it arrived (from 10.1.0.1)
            quote = f.out_ip if qlen is None else f.out_ip[:qlen]
            err = bytes(IP(src=sender, dst=WAN_IP, ttl=64, id=0x7100 + n,
                           tos=0xC0) / ICMP(type=ty, code=code) / Raw(quote))
            # the host gets back what it sent, after one hop (TTL - 1)
            emb = hop(f.ip)
            emb = emb if qlen is None else emb[:qlen]
            exp = bytes(IP(src=sender, dst=f.host, ttl=63, id=0x7100 + n,
                           tos=0xC0) / ICMP(type=ty, code=code) / Raw(emb))
            sends.append((1, err))
            want.append((case, 0, run.frame_out(0, exp)))
            checks.append((case, f, qlen, exp))
        outs = run.step("icmp_errors", sends, switches=len(sends),
                        cases=[c[0] for c in checks])
        run.match(outs, want)
        for case, f, qlen, exp in checks:
            # independently of the byte comparison: the embedded packet
            # is the host's own, its checksums valid
            got = [fr for fr in outs[0] if fr[14:] and
                   IP(fr[14:]).dst == f.host and IP(fr[14:]).proto == 1 and
                   IP(fr[14:]).src == IP(exp).src and
                   bytes(IP(fr[14:])[ICMP].payload)[12:20] == f.ip[12:20]]
            if len(got) != 1:
                if not run.case(case):  # else match() said why
                    run.case(case).append(
                        "%d frames on lan0 carry %s's packet, want 1" % (
                            len(got), f.name))
                continue
            ipb = got[0][14:]
            ipb = ipb[:struct.unpack("!H", ipb[2:4])[0]]
            run.case(case).extend(checksums_problems(ipb, qlen is None))
            emb = ipb[(ipb[0] & 15) * 4 + 8:]
            n = len(emb) if qlen is None else 28
            offs = [i for i in range(min(n, len(f.ip)))
                    if emb[i:i + 1] != f.ip[i:i + 1] and i not in (8, 10, 11)]
            if offs or emb[8] != f.ip[8] - 1:
                run.case(case).append(
                    "embedded packet differs from the host's at offsets %s "
                    "(only TTL - 1 and the header checksum may)\n"
                    "host's  %s\nembedded %s" % (offs, f.ip[:n].hex(" "),
                                                 emb[:n].hex(" ")))

        # 4. unsolicited inbound: the firewall's default
        for case, ipb, reason in (
                ("unsolicited_udp_unmapped_port_no_exception",
                 bytes(IP(src="16.0.0.5", dst=WAN_IP, ttl=50) /
                       UDP(sport=1111, dport=9999) / tag("un-udp")),
                 "natfw.no_exception"),
                ("unsolicited_tcp_syn_22_no_exception",
                 bytes(IP(src="16.0.0.5", dst=WAN_IP, ttl=50) /
                       TCP(sport=2222, dport=22, flags="S", seq=1) /
                       tag("un-ssh")),
                 "natfw.no_exception"),
                ("unsolicited_echo_request_icmp_blocked",
                 bytes(IP(src="16.0.0.5", dst=WAN_IP, ttl=50) /
                       ICMP(type=8, id=999, seq=1) / tag("un-ping")),
                 "natfw.icmp_blocked")):
            run.step_dropped(case, ipb, reason)

        # 6. address-and-port-dependent filtering
        u1 = by["u1"]
        if u1.pub is not None:
            for case, src, sport in (
                    ("filtering_apdf_remote_never_contacted_dropped",
                     "16.0.0.9", 53),
                    ("filtering_apdf_contacted_address_other_port_dropped",
                     "16.0.0.5", 54)):
                ipb = bytes(IP(src=src, dst=WAN_IP, ttl=50) /
                            UDP(sport=sport, dport=u1.pub) / tag(case))
                run.step_dropped(case, ipb, "natfw.no_exception")

    run_part(res, live, "apdf", APDF_YAML, body)


# ---- run eif ----------------------------------------------------------------

EIF_YAML = """nat:
  private: [lan0]
  public: [wan0]
  addresses:
    - address: 10.1.0.1
      ports: 5000-5063
  filtering: endpoint-independent
firewall:
  exceptions:
    - name: ssh
      protocol: tcp
      port: 22
"""


def run_eif(res, live):
    ports = Ports(5000, 5063)
    U = "outbound_udp_range_5000_5063"
    flows = [Flow("b1", U, "10.0.0.2", "udp", 5000, "16.0.0.5", 53, seq=31),
             Flow("b2", U, "10.0.0.3", "udp", 40000, "16.0.0.5", 53, seq=32)]

    def body(run):
        run_outbound(run, flows, ports)

        # 6. endpoint-independent filtering: strangers reach the mappings
        sends, want, strangers = [], [], []
        for f, src, sport in ((flows[0], "16.0.0.9", 4444),
                              (flows[1], WAN_HOST, 7777)):
            case = "filtering_eif_stranger_translated_to_host"
            if f.pub is None:
                run.case(case).append("not sent: %s untranslated" % f.name)
                continue
            ipb = bytes(IP(src=src, dst=WAN_IP, ttl=50, id=0x7200 + sport) /
                        UDP(sport=sport, dport=f.pub) /
                        tag("eif-" + f.name))
            sends.append((1, ipb))
            want.append((case, 0, run.frame_out(
                0, translate(ipb, dst=f.host, dport=f.sport))))
            strangers.append((f, src, sport))
        outs = run.step("eif_in", sends, switches=len(sends),
                        cases=["filtering_eif_stranger_translated_to_host"])
        run.match(outs, want)

        # the host answers the stranger: from its one mapping
        sends, want = [], []
        case = "filtering_eif_host_answers_stranger_from_its_mapping"
        for f, src, sport in strangers:
            ipb = bytes(IP(src=f.host, dst=src, ttl=64, id=0x7300 + sport) /
                        UDP(sport=f.sport, dport=sport) / tag("eif-re-" +
                                                              f.name))
            sends.append((0, ipb))
            want.append((case, 1, run.frame_out(
                1, translate(ipb, src=WAN_IP, sport=f.pub))))
        outs = run.step("eif_answer", sends, cases=[case])
        run.match(outs, want)

        # 4. the firewall: an exception lets SYN to 22 through to the host
        # side (no host port here); what no exception names stays out
        for case, ipb, reason in (
                ("exception_ssh_syn_reaches_host_side_no_host_port",
                 bytes(IP(src="16.0.0.5", dst=WAN_IP, ttl=50) /
                       TCP(sport=2222, dport=22, flags="S", seq=1) /
                       tag("ex-ssh")),
                 "pipeline.no_host_port"),
                ("exception_not_for_tcp_23_no_exception",
                 bytes(IP(src="16.0.0.5", dst=WAN_IP, ttl=50) /
                       TCP(sport=2223, dport=23, flags="S", seq=1) /
                       tag("ex-telnet")),
                 "natfw.no_exception"),
                ("filtering_eif_unmapped_port_no_exception",
                 bytes(IP(src="16.0.0.9", dst=WAN_IP, ttl=50) /
                       UDP(sport=4444, dport=6000) / tag("eif-unmapped")),
                 "natfw.no_exception")):
            run.step_dropped(case, ipb, reason)

    run_part(res, live, "eif", EIF_YAML, body)


# ---- main -------------------------------------------------------------------

def main_parts(doc, parts):
    """The main of a NAT module (DOC its usage): the veth pairs and the
    namespace up, then each (name, run) of PARTS that -k may want,
    run(res, live); the exit code."""
    a = SCRATCH.parse_args(doc)
    res = Results(a.k)
    t0 = time.monotonic()
    if preflight(res):
        live = Live(SCRATCH)
        if live.error:
            res.report("setup", ["veth pairs and namespace: %s" %
                                 live.error])
        else:
            for name, run in parts:
                if res.part_wanted(name):
                    run(res, live)
    log("%.1f s" % (time.monotonic() - t0))
    return res.finish()


def main():
    return main_parts(__doc__, [("apdf", run_apdf), ("eif", run_eif)])


if __name__ == "__main__":
    sys.exit(main())
