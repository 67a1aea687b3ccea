#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate integration tests of the filter hook (interfaces[].filters):
pcap in → tollgate → pcap out, expectations computed here.

Every input packet is built with scapy; what should come out, which drop
reason should count it and which rule of which list should count a hit is
computed by this script's own model of the three paths (ARCHITECTURE.md
section 2) and its own first-match evaluator of the rules, never by
tollgate's code:

  source  natfw(out) → forward → filter(out, next-hop if) → ipsec(out) → TX
  target  ipsec(in) → filter(in, rx if) → natfw(in) → localfilter → host
  transit filter(in, rx if) → forward → natfw(nat) → filter(out, next-hop if)
          → ipsec(out) → TX

Runs (each one tollgate process on two net_pcap ports, lan0 = port 0,
wan0 = port 1, as in run.py):

  paths   one deny rule in each of the four lists (lan0/wan0 × in/out):
          which list sees which traffic — transit both ways, target to both
          of the appliance's addresses, and source traffic (the ICMP errors
          forward creates, which take the source path);
  rules   an allow-listed list on lan0 and a deny-listed one on wan0:
          first match wins, the default drop, established, ICMP type and
          code, port ranges, prefixes, protocol numbers, non-first
          fragments (allow vs deny rules with port conditions), short L4
          headers (at and around the limits) and the TCP overlap fragment;
          the /tollgate/filters paging;
  edge    values at the edges of their ranges: protocol 0, ICMP type and
          code 0, port 0 and 0-65535, a /0 prefix and a bare address, IP
          options before the L4 header, short L4 headers in frames padded
          to 60 bytes, an allow-listed list without rules;
  host    a host port (net_tun in a namespace of this script's own): the
          Linux kernel answers pings that passed lan0's inbound list, its
          replies take the source path through lan0's outbound list; UDP
          the kernel sends meets wan0's outbound list. A live reload that
          changes one rule and puts a new one first keeps the other rules'
          counts (wherever they moved) and the no-match counts; a reload
          with a duplicate rule name is refused with FILE:LINE:COL and the
          running filters keep working; tollgatectl filters.

Per run: the frames on each output pcap (byte for byte where the input
decides them), every drop reason exactly, per-rule hits and no-match
counts in /tollgate/filters (and the per-list summary) equal to the model's,
rx + generated = tx + host + drops, a clean exit.

Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
if anything failed.

  /usr/bin/python3 test/integration/filters.py [-v] [--keep] [-k SUBSTRING]
                                              [--eal "EAL OPTIONS"]

Needs root; TOLLGATE=path and TOLLGATECTL=path override the binaries (an
ASan/UBSan build's reports fail the run's clean_exit).
"""
import ipaddress
import json
import os
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test"))
sys.path.insert(0, HERE)

import tgtelemetry as tel  # noqa: E402
from harness import (H0, H1, LAN_IP, NEIGHBORS, TOLLGATE,  # noqa: E402
                     TOLLGATECTL, WAN_IP, PcapTollgate, Results, Scratch,
                     forwarded, icmp_error_ip, ip_of, pcap_yaml, preflight,
                     scapy_missing, tag, wait_settled)

try:
    from scapy.all import (  # noqa: E402
        GRE, ICMP, IP, TCP, UDP, Ether, IPOption_NOP, Raw)
except ImportError:
    sys.exit(scapy_missing())

PY = "/usr/bin/python3"

# ---- topology (harness.py's, as run.py's) ----------------------------------
#
#   lan: 10.0.0.2 (48/8 behind it)  ─ p0 ─ lan0 10.0.0.1/24 [tollgate]
#   wan: router 10.1.0.2 (16/8 behind it), host 10.1.0.3
#                                   ─ p1 ─ wan0 10.1.0.1/24
#
IFACES = {"lan0": {"port": 0, "addr": LAN_IP, "net": "10.0.0.0/24"},
          "wan0": {"port": 1, "addr": WAN_IP, "net": "10.1.0.0/24"}}
NEIGH = {addr: (ifname, mac) for addr, mac, ifname in NEIGHBORS}
ROUTES = [("16.0.0.0/8", "10.1.0.2", "wan0"),
          ("48.0.0.0/8", "10.0.0.2", "lan0")]
PORT_IF = {0: "lan0", 1: "wan0"}
SENDER_MAC = {0: H0, 1: H1}

EAL_EXTRA = []  # --eal: EAL options after "--" (e.g. more worker lcores)
SCRATCH = Scratch("tg-filt")  # -v, --keep; the host run's namespace
log = SCRATCH.log


# ---- the rules: YAML and an independent first-match evaluator ------------

PROTOS = {"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51}
L4_KEYS = ("src_port", "dst_port", "icmp_type", "icmp_code", "established")


def rule(name, **kw):
    r = {"name": name}
    r.update(kw)
    return r


def flist(mode, rules):
    return {"mode": mode, "rules": rules}


def yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def yaml_rule(r):
    # block style, one key a line: error positions are easy to compute
    lines = ["          - name: %s" % r["name"]]
    for k in ("action", "protocol", "src", "dst", "src_port", "dst_port",
              "icmp_type", "icmp_code", "established"):
        if k in r:
            lines.append("            %s: %s" % (k, yaml_value(r[k])))
    return lines


def yaml_filters(lists, ifname):
    """The filters: block of interface IFNAME, or nothing."""
    out = []
    for d, key in (("in", "inbound"), ("out", "outbound")):
        lst = lists.get((ifname, d))
        if lst is None:
            continue
        if not out:
            out.append("    filters:")
        out.append("      %s:" % key)
        out.append("        mode: %s" % lst["mode"])
        if lst["rules"]:
            out.append("        rules:")
            for r in lst["rules"]:
                out.extend(yaml_rule(r))
        else:
            out.append("        rules: []")
    return out


def rule_defaults(lst, r):
    """action: the default is deny in deny-listed, allow in allow-listed."""
    if "action" in r:
        return r["action"]
    return "deny" if lst["mode"] == "deny-listed" else "allow"


def in_prefix(addr, pfx):
    if pfx in (None, "any"):
        return True
    return ipaddress.IPv4Address(addr) in ipaddress.IPv4Network(pfx)


def port_in(p, spec):
    s = str(spec)
    if "-" in s:
        lo, hi = s.split("-")
    else:
        lo = hi = s
    return int(lo) <= p <= int(hi)


def parse_ip(ip):
    """What the rules look at, from the IP packet's bytes; 'short' or
    'overlap' for what is dropped before the rules."""
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    frag = struct.unpack("!H", ip[6:8])[0] & 0x1FFF
    proto = ip[9]
    info = {"proto": proto, "src": "%d.%d.%d.%d" % tuple(ip[12:16]),
            "dst": "%d.%d.%d.%d" % tuple(ip[16:20]), "nonfirst": frag != 0,
            "drop": None}
    l4 = ip[ihl:total]
    if frag != 0:
        if proto == 6 and frag == 1:
            info["drop"] = "filter.tcp_overlap"
        return info
    need = {6: 14, 17: 4, 1: 2}.get(proto, 0)
    if len(l4) < need:
        info["drop"] = "filter.short_l4"
        return info
    if proto in (6, 17):
        info["sport"], info["dport"] = struct.unpack("!HH", l4[:4])
    if proto == 6:
        info["tcp_flags"] = l4[13]
    if proto == 1:
        info["icmp_type"], info["icmp_code"] = l4[0], l4[1]
    return info


def rule_matches(lst, r, info):
    p = r.get("protocol", "any")
    if p != "any":
        num = PROTOS.get(p, None)
        if num is None:
            num = int(p)
        if info["proto"] != num:
            return False
    if not in_prefix(info["src"], r.get("src")):
        return False
    if not in_prefix(info["dst"], r.get("dst")):
        return False
    has_l4 = any(k in r for k in L4_KEYS if not (
        k == "established" and r.get(k) is False))
    if info["nonfirst"]:
        if not has_l4:
            return True
        # allow rules with L4 conditions: on protocol and addresses alone;
        # deny rules with them never match a later fragment
        return rule_defaults(lst, r) == "allow"
    if "src_port" in r and not port_in(info["sport"], r["src_port"]):
        return False
    if "dst_port" in r and not port_in(info["dport"], r["dst_port"]):
        return False
    if "icmp_type" in r and info["icmp_type"] != r["icmp_type"]:
        return False
    if "icmp_code" in r and info["icmp_code"] != r["icmp_code"]:
        return False
    if r.get("established") is True and not info["tcp_flags"] & 0x14:
        return False  # neither ACK (0x10) nor RST (0x04)
    return True


def judge(lst, d, ip):
    """→ (drop reason or None, rule index, None for no match, or 'pre'
    when dropped before the rules)."""
    info = parse_ip(ip)
    if info["drop"]:
        return info["drop"], "pre"
    for i, r in enumerate(lst["rules"]):
        if rule_matches(lst, r, info):
            if rule_defaults(lst, r) == "deny":
                return "filter.%s.denied" % d, i
            return None, i
    if lst["mode"] == "allow-listed":
        return "filter.%s.default" % d, None
    return None, None


# ---- frames ------------------------------------------------------------------

def raw_ip(src, dst, proto, l4, ttl=64, ident=1, flags=0, frag=0):
    """An IPv4 packet with exactly the L4 bytes given (short headers)."""
    return bytes(IP(src=src, dst=dst, proto=proto, ttl=ttl, id=ident,
                    flags=flags, frag=frag) / Raw(l4))


def route(dst):
    """(interface, next hop) by this script's view of the routes, or None."""
    a = ipaddress.IPv4Address(dst)
    best = None
    for pfx, via, ifname in ROUTES:
        n = ipaddress.IPv4Network(pfx)
        if a in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, via, ifname)
    for ifname, i in IFACES.items():
        n = ipaddress.IPv4Network(i["net"])
        if a in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, dst, ifname)
    return (best[2], best[1]) if best else None


# ---- the model -----------------------------------------------------------------

class Model:
    """Expected outcome of every packet sent: outputs, drops, hits."""

    def __init__(self, lists, macs, host=False):
        self.lists = lists
        self.macs = macs       # iface → the appliance's MAC
        self.host = host       # a host port: target traffic reaches it
        self.inputs = {0: [], 1: []}
        self.want = {0: [], 1: []}    # (case, frame)
        self.drops = {}
        self.hits = {k: [0] * (len(v["rules"]) + 1) for k, v in lists.items()}
        self.generated = 0
        self.to_host = []             # IP packets the kernel gets
        self.cases = []
        self.case_drops = {}          # case → {reason: n}

    def _drop(self, case, reason):
        self.drops[reason] = self.drops.get(reason, 0) + 1
        cd = self.case_drops.setdefault(case, {})
        cd[reason] = cd.get(reason, 0) + 1

    def visit(self, case, ifname, d, ip):
        """One filter step: → True when the packet goes on."""
        lst = self.lists.get((ifname, d))
        if lst is None:
            return True
        reason, idx = judge(lst, d, ip)
        if idx != "pre":
            self.hits[(ifname, d)][len(lst["rules"]) if idx is None
                                   else idx] += 1
        if reason:
            self._drop(case, reason)
            return False
        return True

    def send(self, case, port, ip):
        """Packet @ip (scapy or bytes) arrives on @port."""
        if case not in self.cases:
            self.cases.append(case)
        rx_if = PORT_IF[port]
        frame = bytes(Ether(src=SENDER_MAC[port], dst=self.macs[rx_if]) /
                      (ip if not isinstance(ip, bytes) else Raw(ip)))
        if isinstance(ip, bytes):
            frame = frame[:12] + b"\x08\x00" + frame[14:]
        self.inputs[port].append(frame)
        ipb = ip_of(frame)
        dst = "%d.%d.%d.%d" % tuple(ipb[16:20])
        if dst in (LAN_IP, WAN_IP):                       # target
            if not self.visit(case, rx_if, "in", ipb):
                return frame
            if self.host:
                self.to_host.append(ipb)
            else:
                self._drop(case, "pipeline.no_host_port")
            return frame
        if not self.visit(case, rx_if, "in", ipb):        # transit
            return frame
        rt = route(dst)
        if rt is None:
            self._drop(case, "forward.no_route")
            self.error(case, rx_if, ipb, 3, 0)
            return frame
        if ipb[8] <= 1:
            self._drop(case, "forward.ttl_exceeded")
            self.error(case, rx_if, ipb, 11, 0)
            return frame
        out_if, nh = rt
        fwd = forwarded(frame, NEIGH[nh][1], self.macs[out_if])
        if self.visit(case, out_if, "out", ip_of(fwd)):
            self.want[IFACES[out_if]["port"]].append((case, fwd))
        return frame

    def error(self, case, rx_if, orig_ip, icmp_type, code):
        """forward's ICMP error: source path, filter(out, next-hop if)."""
        self.generated += 1
        err = icmp_error_ip(IFACES[rx_if]["addr"], orig_ip, icmp_type, code)
        self.source(case, err)

    def source(self, case, ip):
        """A packet on the source path (from forward or the host):
        → (out interface, True if it passes), appended to want."""
        dst = "%d.%d.%d.%d" % tuple(ip[16:20])
        out_if, nh = route(dst)
        ok = self.visit(case, out_if, "out", ip)
        if ok:
            self.want[IFACES[out_if]["port"]].append(
                (case, bytes(Ether(dst=NEIGH[nh][1], src=self.macs[out_if],
                                   type=0x0800)) + ip))
        return out_if, ok


# ---- running tollgate ------------------------------------------------------------

def yaml_config(prefix, files, lists, extra="", host=None):
    text = pcap_yaml("filters.py", prefix, files, if_lines={
        ifname: yaml_filters(lists, ifname) for ifname in IFACES},
        extra="icmp:\n  rate: 100000\n  burst: 10000\n")
    if host:
        text += "host:\n  type: tun\n  ifname: %s\n  netns: %s\n" % (
            host["ifname"], host["netns"])
    return text + extra


class Tollgate(PcapTollgate):
    """One tollgate process on two net_pcap ports (and a host port) with
    the filter lists LISTS."""

    def __init__(self, name, lists, inputs, host=None, extra=""):
        super().__init__(SCRATCH, name, inputs)
        self.host = host
        self.extra = extra
        self.cfg = self.write_config("tollgate.yaml", self.config_text(lists))
        self.stats = None

    def config_text(self, lists):
        return yaml_config(self.prefix, self.files, lists, self.extra,
                           self.host)

    def start(self):
        if not super().start(TOLLGATE, self.cfg,
                             ["--"] + EAL_EXTRA if EAL_EXTRA else []):
            return False
        ifs = tel.query(self.prefix, "/tollgate/interfaces")
        self.macs = {k: v["mac"].lower() for k, v in ifs.items()}
        return True

    def cmd(self, command, params=None, timeout=30.0):
        return tel.query(self.prefix, command, params, timeout)

    def settle(self, rx, host=0, timeout=15.0, more=None):
        """Until @rx packets were received (host_rx included), @host went
        to the host port and every one is accounted for, stable."""
        self.stats, ok = wait_settled(self.cmd, rx, host, more, timeout)
        return ok


# ---- checks ------------------------------------------------------------------

def summary_of(frame):
    try:
        return Ether(frame).summary()
    except Exception:  # noqa: BLE001 - decoration
        return frame[:40].hex()


def case_of(frame):
    m = re.search(rb"<tg:([^>]+)>", frame)
    return m.group(1).decode(errors="replace") if m else None


def check_outputs(res, run, tg, model, loose=None):
    """Each case's expected frames on their port, nothing else (frames
    @loose(port, frame) accepts are left to the caller)."""
    problems = {c: [] for c in model.cases}
    stray = []
    for port in (0, 1):
        outs = tg.outputs.get(port)
        if outs is None:
            stray.append("out%d.pcap missing" % port)
            continue
        used = [False] * len(outs)
        for case, want in model.want[port]:
            for i, got in enumerate(outs):
                if not used[i] and got == want:
                    used[i] = True
                    break
            else:
                problems.setdefault(case, []).append(
                    "port %d: expected frame missing: %s\n      want %s" % (
                        port, summary_of(want), want[:80].hex(" ")))
        for i, got in enumerate(outs):
            if used[i] or (loose and loose(port, got)):
                continue
            c = case_of(got)
            msg = "port %d: unexpected frame: %s" % (port, summary_of(got))
            if c in problems:
                problems[c].append(msg)
            else:
                stray.append(msg)
    for c in model.cases:
        res.report("%s.%s" % (run, c), problems[c])
    res.report("%s.no_unexpected_frames" % run, stray)


def check_drops(res, run, tg, model, extra=None):
    """Every drop reason exactly (final summary), none that the model
    does not expect."""
    want = dict(model.drops)
    for k, v in (extra or {}).items():
        want[k] = want.get(k, 0) + v
    got = tg.final["drops"] if tg.final else {}
    p = []
    if not tg.final or not tg.final["found"]:
        p.append("no final counter summary\n%s" % tg.tail())
    for k, v in sorted(want.items()):
        if got.get(k, 0) != v:
            p.append("drop %s = %d, want %d" % (k, got.get(k, 0), v))
    for k, v in sorted(got.items()):
        if v and k not in want:
            p.append("unexpected drop %s = %d" % (k, v))
    res.report("%s.drop_counters_exact" % run, p)


def check_invariant(res, run, tg, model, host=0):
    p = []
    t = tg.final["totals"] if tg.final else {}
    dsum = sum((tg.final or {}).get("drops", {}).values())
    if not all(k in t for k in ("rx", "tx", "generated")):
        p.append("summary lacks rx/tx/generated: %s" % t)
    else:
        if t["rx"] + t["generated"] != t["tx"] + t.get("host", 0) + dsum:
            p.append("rx %d + generated %d != tx %d + host %d + drops %d" %
                     (t["rx"], t["generated"], t["tx"], t.get("host", 0),
                      dsum))
        if t["generated"] != model.generated:
            p.append("generated %d, want %d (ICMP errors)" %
                     (t["generated"], model.generated))
        if t.get("host", 0) != host:
            p.append("host %d, want %d" % (t.get("host", 0), host))
        n_out = sum(len(o or []) for o in tg.outputs.values())
        if t["tx"] != n_out:
            p.append("tx %d, but the output pcaps hold %d frames" %
                     (t["tx"], n_out))
    res.report("%s.invariant_rx_plus_generated_eq_tx_plus_host_plus_drops"
               % run, p)


def check_exit(res, run, tg):
    p = []
    if tg.rc != 0:
        p.append("exit code %s (last line: %s)" % (
            tg.rc, tg.lines[-1] if tg.lines else ""))
    if tg.runtime_dir_left:
        p.append("runtime dir /var/run/dpdk/%s left behind" % tg.prefix)
    san = [ln for ln in tg.lines if "Sanitizer" in ln or
           "runtime error:" in ln]
    if san:  # an ASan/UBSan build (TOLLGATE=build-asan/...)
        p.append("sanitizer report:\n      " + "\n      ".join(san[:20]))
    res.report("%s.clean_exit" % run, p)


def read_filters(tg):
    """{(iface, dir): page dict with every rule} and the summary."""
    summary = tg.cmd("/tollgate/filters")
    lists = {}
    for ifname in ("lan0", "wan0"):
        for d in ("in", "out"):
            rules, start, head = {}, 0, None
            while True:
                r = tg.cmd("/tollgate/filters", "%s,%s,%d" % (ifname, d,
                                                               start))
                if not isinstance(r, dict) or "error" in r or \
                        "rules" not in r:
                    break
                head = head or r
                for k, v in (r.get("rules") or {}).items():
                    rules[int(k)] = v
                if "next" not in r:
                    break
                start = r["next"]
            if head is not None:
                head = dict(head)
                head["rules"] = rules
                lists[(ifname, d)] = head
    return summary, lists


def hits_problems(model, summary, lists, only=None):
    """Per-rule hits and no_match in the rule pages, and the summary."""
    p = []
    if not isinstance(summary, dict) or "lists" not in summary:
        return ["/tollgate/filters: %r" % (summary,)]
    if not summary.get("method"):
        p.append("/tollgate/filters has no classify method: %r" % summary)
    by_key = {}
    for v in summary["lists"].values():
        by_key[(v.get("interface"), v.get("direction"))] = v
    for key, lst in model.lists.items():
        if only and key not in only:
            continue
        n = len(lst["rules"])
        want = model.hits[key]
        s = by_key.get(key)
        if s is None:
            p.append("summary lacks %s %s: %s" % (key + (summary,)))
        else:
            if s.get("mode") != lst["mode"] or s.get("rules") != n:
                p.append("summary %s %s: mode %r rules %r, want %s %d" % (
                    key + (s.get("mode"), s.get("rules"), lst["mode"], n)))
            if s.get("no_match") != want[n]:
                p.append("summary %s %s: no_match %r, want %d" % (
                    key + (s.get("no_match"), want[n])))
        page = (lists or {}).get(key)
        if page is None:
            p.append("no rule pages for %s %s" % key)
            continue
        if page.get("total") != n or page.get("mode") != lst["mode"]:
            p.append("%s %s: total %r mode %r, want %d %s" % (
                key + (page.get("total"), page.get("mode"), n,
                       lst["mode"])))
        if page.get("no_match") != want[n]:
            p.append("%s %s: no_match %r, want %d" % (
                key + (page.get("no_match"), want[n])))
        for i, r in enumerate(lst["rules"]):
            got = page["rules"].get(i)
            if got is None:
                p.append("%s %s: rule %d (%s) missing" % (key + (i,
                                                              r["name"])))
                continue
            if got.get("name") != r["name"]:
                p.append("%s %s: rule %d is %r, want %r" % (
                    key + (i, got.get("name"), r["name"])))
            if got.get("hits") != want[i]:
                p.append("%s %s: rule %s hits %r, want %d" % (
                    key + (r["name"], got.get("hits"), want[i])))
    return p


def cache_problems(model, summary):
    """The decision cache (default size) was asked once per packet a list
    judged: its hits and misses add up to the model's rule hits and
    no-match counts over every list (no reload in between)."""
    if not isinstance(summary, dict):
        return ["/tollgate/filters: %r" % (summary,)]
    p = []
    if summary.get("cache_entries") != 49152:
        p.append("cache_entries %r, want the default 49152"
                 % summary.get("cache_entries"))
    judged = sum(sum(h) for h in model.hits.values())
    got = (summary.get("cache_hits") or 0) + \
        (summary.get("cache_misses") or 0)
    if got != judged:
        p.append("cache hits %r + misses %r = %d, want %d lookups (every "
                 "packet a list judged)" % (summary.get("cache_hits"),
                                             summary.get("cache_misses"),
                                             got, judged))
    return p


def rule_keys_problems(model, lists):
    """The rule pages show the keys each rule was written with (and its
    action, with the list's default filled in)."""
    p = []
    for key, lst in model.lists.items():
        page = (lists or {}).get(key)
        if page is None:
            p.append("no rule pages for %s %s" % key)
            continue
        for i, r in enumerate(lst["rules"]):
            got = page["rules"].get(i) or {}
            if got.get("action") != rule_defaults(lst, r):
                p.append("%s %s %s: action %r, want %r" % (
                    key + (r["name"], got.get("action"),
                           rule_defaults(lst, r))))
            for k in ("protocol", "src", "dst", "src_port", "dst_port",
                      "icmp_type", "icmp_code"):
                if k not in r:
                    if k in got and not (k in ("src", "dst") and
                                         got[k] in ("any", "0.0.0.0/0")):
                        p.append("%s %s %s: shows %s=%r, not configured" %
                                 (key + (r["name"], k, got[k])))
                    continue
                w = r[k]
                if k in ("src", "dst") and "/" not in str(w):
                    w = "%s/32" % w
                if k in ("src", "dst") and w == "0.0.0.0/0" and k not in got:
                    continue  # the same as any, which is not shown
                if str(got.get(k)) != str(w):
                    p.append("%s %s %s: %s=%r, want %r" % (
                        key + (r["name"], k, got.get(k), w)))
            if r.get("established") is True and \
                    got.get("established") in (None, False, "no"):
                p.append("%s %s %s: established not shown: %r" % (
                    key + (r["name"], got)))
    return p


def run_checks(res, run, tg, model, extra_drops=None, host=0):
    if tg.error:
        res.report("%s.run" % run, ["%s\n%s" % (tg.error, tg.tail())])
        return False
    check_outputs(res, run, tg, model)
    check_drops(res, run, tg, model, extra_drops)
    check_invariant(res, run, tg, model, host)
    return True


def run_lists(res, run, lists, macs, traffic, while_running=()):
    """Run RUN: the filter lists LISTS, the packets TRAFFIC(model) sends
    (no host port). Checks the outputs, drops and invariant, the hits and
    the rule keys in /tollgate/filters, a clean exit; WHILE_RUNNING
    [(case, fn(tg, lists) → problems)] are asked once the counters
    settled and reported before the exit ("not run" if it never got that
    far). → the model, or None when the run failed."""
    m = Model(lists, macs)
    traffic(m)
    tg = Tollgate(run, lists, m.inputs)
    summary = pages = None
    more = {case: ["not run"] for case, _ in while_running}
    try:
        if tg.start():
            if not tg.settle(tg.n_in):
                tg.error = "counters never settled: %s" % tel.flat(
                    tg.stats)
            summary, pages = read_filters(tg)
            for case, fn in while_running:
                more[case] = fn(tg, lists)
    except (tel.TelemetryError, OSError) as e:
        tg.error = "telemetry: %s" % e
    finally:
        tg.stop()
    if not run_checks(res, run, tg, m):
        return None
    res.report("%s.filters_hits_and_no_match" % run,
               hits_problems(m, summary, pages))
    res.report("%s.filters_rule_keys_shown" % run,
               rule_keys_problems(m, pages))
    res.report("%s.filters_decision_cache_counts" % run,
               cache_problems(m, summary))
    for case, _ in while_running:
        res.report("%s.%s" % (run, case), more[case])
    check_exit(res, run, tg)
    return m


# ---- run: paths ----------------------------------------------------------------

def paths_lists():
    """One deny rule (UDP to a port of its own) in each list, and ICMP
    error types on the outbound lists (the source path)."""
    return {
        ("lan0", "in"): flist("deny-listed", [
            rule("lan-in-9001", protocol="udp", dst_port=9001)]),
        ("lan0", "out"): flist("deny-listed", [
            rule("lan-out-9002", protocol="udp", dst_port=9002),
            rule("lan-out-time-exceeded", protocol="icmp", icmp_type=11)]),
        ("wan0", "in"): flist("deny-listed", [
            rule("wan-in-9003", protocol="udp", dst_port=9003)]),
        ("wan0", "out"): flist("deny-listed", [
            rule("wan-out-9004", protocol="udp", dst_port=9004),
            rule("wan-out-unreachable", protocol="icmp", icmp_type=3)]),
    }


def paths_traffic(m):
    """Which list sees which packet: by the port each case uses."""
    def lan(case, dst, dport, **kw):
        for i in range(kw.pop("n", 2)):
            m.send(case, 0, IP(src="10.0.0.2", dst=dst, id=100 + i, **kw) /
                   UDP(sport=40000 + i, dport=dport) / tag(case))

    def wan(case, dst, dport, src="16.0.0.5", **kw):
        for i in range(kw.pop("n", 2)):
            m.send(case, 1, IP(src=src, dst=dst, id=200 + i, **kw) /
                   UDP(sport=41000 + i, dport=dport) / tag(case))

    # lan0 inbound: transit lan→wan and target (both addresses) from lan
    lan("lan_in_denies_transit_lan_to_wan", "16.0.0.5", 9001)
    lan("lan_in_denies_target_lan_address", LAN_IP, 9001)
    lan("lan_in_denies_target_wan_address_from_lan", WAN_IP, 9001)
    # lan0 outbound does not see lan→wan transit; wan0 inbound neither
    lan("lan_out_not_on_lan_to_wan_transit", "16.0.0.5", 9002)
    lan("wan_in_not_on_lan_to_wan_transit", "16.0.0.6", 9003)
    lan("wan_in_not_on_target_from_lan", WAN_IP, 9003)
    # wan0 outbound: lan→wan transit
    lan("wan_out_denies_transit_lan_to_wan", "10.1.0.3", 9004)
    lan("transit_lan_to_wan_other_port_passes", "16.0.0.7", 9005)
    # wan→lan: the mirror image
    wan("lan_out_denies_transit_wan_to_lan", "48.1.2.3", 9002)
    wan("wan_in_denies_transit_wan_to_lan", "10.0.0.2", 9003)
    wan("wan_in_denies_target_wan_address", WAN_IP, 9003)
    wan("wan_in_denies_target_lan_address_from_wan", LAN_IP, 9003)
    wan("lan_in_not_on_wan_to_lan_transit", "48.1.2.3", 9001)
    wan("wan_out_not_on_wan_to_lan_transit", "10.0.0.2", 9004)
    wan("lan_in_not_on_target_from_wan", LAN_IP, 9001)
    # source path: forward's ICMP errors meet the outbound list of the
    # interface they leave by
    wan("source_unreachable_to_wan_denied_by_wan_out", "99.9.9.9", 9010,
        n=1)
    wan("source_time_exceeded_to_wan_passes", "48.1.2.3", 9011, ttl=1,
        n=1)
    lan("source_time_exceeded_to_lan_denied_by_lan_out", "16.0.0.5", 9012,
        ttl=1, n=1)
    lan("source_unreachable_to_lan_passes", "99.9.9.9", 9013, n=1)
    # the inbound list comes before forward: no error about a denied one
    lan("lan_in_before_forward_no_error", "16.0.0.5", 9001, ttl=1, n=1)
    lan("lan_in_before_forward_no_error", "99.9.9.9", 9001, n=1)


def run_paths(res, macs):
    m = run_lists(res, "paths", paths_lists(), macs, paths_traffic)
    # the case names above say what each list must (not) see; the drops
    # per case make it visible which list counted it
    for case, d in (m.case_drops.items() if m else ()):
        log("paths %s: %s" % (case, d))


# ---- run: rules ------------------------------------------------------------------

def rules_lists():
    return {
        # allow-listed: what no rule allows is dropped (filter.in.default)
        ("lan0", "in"): flist("allow-listed", [
            rule("deny-host-web", action="deny", protocol="tcp",
                 src="10.0.0.2", dst="16.0.1.0/24", dst_port=80),
            rule("web", protocol="tcp", dst="16.0.0.0/8", dst_port=80),
            rule("high-to-5000s", protocol="udp", src_port="1024-65535",
                 dst_port="5000-5010"),
            rule("est", protocol="tcp", established=True),
            rule("ping", protocol="icmp", icmp_type=8, icmp_code=0),
            rule("unreach", protocol="icmp", icmp_type=3),
            rule("gre-16-0", protocol="gre", dst="16.0.0.0/16"),
            rule("proto-99", protocol=99),
            rule("deny-48-nets", action="deny", src="48.0.0.0/8"),
            rule("from-48-1", src="48.1.0.0/16"),
        ]),
        # deny-listed: what no rule denies passes
        ("wan0", "in"): flist("deny-listed", [
            rule("deny-telnet", protocol="tcp", dst_port=23),
            rule("deny-dns-replies", protocol="udp", src="16.0.0.0/16",
                 src_port=53),
            rule("allow-one", action="allow", protocol="udp",
                 src="16.0.0.9"),
            rule("deny-16-0-udp", protocol="udp", src="16.0.0.0/16"),
            rule("deny-gre", protocol="gre"),
            rule("deny-not-established", protocol="tcp", dst_port=8080,
                 established=False),
        ]),
        # present but empty: matches nothing, passes everything
        ("wan0", "out"): flist("deny-listed", []),
    }


def numbered_senders(m, base):
    """lan(case, ip) and wan(case, ip): @m.send() on port 0 and port 1,
    a scapy packet with the next IP id on the way (base + 1, base + 2,
    ... over both), bytes as they are."""
    n = [base]

    def sender(port):
        def send(case, ip):
            n[0] += 1
            if not isinstance(ip, bytes):
                ip.id = n[0]
            m.send(case, port, ip)
        return send

    return sender(0), sender(1)


def rules_traffic(m):
    lan, wan = numbered_senders(m, 300)
    t = tag
    S = "10.0.0.2"
    # first match wins: the deny before the allow for the same packet
    lan("first_match_deny_before_allow",
        IP(src=S, dst="16.0.1.5") / TCP(sport=40000, dport=80, flags="S") /
        t("first_match_deny_before_allow"))
    lan("first_match_allow_when_deny_src_differs",
        IP(src="48.7.0.1", dst="16.0.1.5") /
        TCP(sport=40001, dport=80, flags="S") /
        t("first_match_allow_when_deny_src_differs"))
    lan("first_match_allow_other_prefix",
        IP(src=S, dst="16.0.2.5") / TCP(sport=40002, dport=80, flags="S") /
        t("first_match_allow_other_prefix"))
    # allow-listed: no rule → filter.in.default
    for dport in (81, 443, 79):
        lan("allow_listed_default_drop",
            IP(src=S, dst="16.0.2.5") /
            TCP(sport=40003, dport=dport, flags="S") /
            t("allow_listed_default_drop"))
    lan("allow_listed_default_drop",
        IP(src=S, dst="16.0.2.5", proto=98) / t("allow_listed_default_drop"))
    # established: ACK or RST set
    for flags in ("A", "R", "SA", "PA", "RA", "FA"):
        lan("established_ack_or_rst_passes",
            IP(src=S, dst="16.0.2.5") /
            TCP(sport=40004, dport=443, flags=flags) /
            t("established_ack_or_rst_passes"))
    for flags in ("S", "F", "P", "U", ""):
        lan("established_without_ack_rst_default_drop",
            IP(src=S, dst="16.0.2.5") /
            TCP(sport=40005, dport=443, flags=flags) /
            t("established_without_ack_rst_default_drop"))
    # port ranges: both ends, and just outside each
    for sport, dport in ((1024, 5000), (65535, 5010), (30000, 5005)):
        lan("port_range_inside_passes",
            IP(src=S, dst="16.0.3.5") / UDP(sport=sport, dport=dport) /
            t("port_range_inside_passes"))
    for sport, dport in ((1023, 5005), (2000, 4999), (2000, 5011),
                         (0, 5000)):
        lan("port_range_outside_default_drop",
            IP(src=S, dst="16.0.3.5") / UDP(sport=sport, dport=dport) /
            t("port_range_outside_default_drop"))
    # ICMP type and code
    lan("icmp_type_code_match",
        IP(src=S, dst="16.0.4.5") / ICMP(type=8, code=0, id=1, seq=1) /
        t("icmp_type_code_match"))
    for ty, code in ((3, 0), (3, 1), (3, 13)):
        lan("icmp_type_any_code_match",
            IP(src=S, dst="16.0.4.5") / ICMP(type=ty, code=code) /
            t("icmp_type_any_code_match"))
    for ty, code in ((8, 1), (0, 0), (11, 0), (13, 0)):
        lan("icmp_other_type_or_code_default_drop",
            IP(src=S, dst="16.0.4.5") / ICMP(type=ty, code=code) /
            t("icmp_other_type_or_code_default_drop"))
    # protocols by name and number, with a destination prefix
    lan("gre_rule_with_prefix",
        IP(src=S, dst="16.0.5.5") / GRE() / t("gre_rule_with_prefix"))
    lan("gre_outside_prefix_default_drop",
        IP(src=S, dst="16.1.5.5") / GRE() /
        t("gre_outside_prefix_default_drop"))
    lan("protocol_number",
        IP(src=S, dst="16.0.5.6", proto=99) / t("protocol_number"))
    # source prefixes in order: /8 deny before the /16 allow
    lan("source_prefix_first_match",
        IP(src="48.1.2.3", dst="16.0.5.7") / UDP(sport=1, dport=2) /
        t("source_prefix_first_match"))
    # fragments: the first fragment carries the ports and is judged by
    # them; later fragments by protocol and addresses
    c = "fragment_first_judged_by_ports"
    lan(c, IP(src=S, dst="16.0.6.5", flags="MF") /
        UDP(sport=2000, dport=5001) / t(c) / bytes(8))
    c = "fragment_nonfirst_allow_rule_with_ports_matches"
    lan(c, IP(src=S, dst="16.0.6.5", proto=17, frag=185) / Raw(t(c)))
    lan(c, IP(src=S, dst="16.0.6.5", proto=1, frag=3) / Raw(t(c)))
    # a later TCP fragment to 16.0.1.0/24: the deny rule with a port
    # never matches it, the allow rule after it does
    c = "fragment_nonfirst_skips_deny_rule_with_ports"
    lan(c, IP(src=S, dst="16.0.1.9", proto=6, frag=185) / Raw(t(c)))
    # a later fragment of a protocol no rule allows: default
    c = "fragment_nonfirst_default_drop"
    lan(c, IP(src=S, dst="16.0.6.5", proto=98, frag=185) / Raw(t(c)))
    # short L4 headers: drop below the limit, judged at it
    L = "16.0.2.5"
    lan("short_l4_tcp_13_bytes", raw_ip(S, L, 6, bytes(
        TCP(sport=40006, dport=80, flags="S"))[:13]))
    lan("short_l4_tcp_14_bytes_judged", raw_ip(S, L, 6, bytes(
        TCP(sport=40007, dport=80, flags="S"))[:14]))
    lan("short_l4_udp_3_bytes", raw_ip(S, "16.0.3.5", 17, bytes(
        UDP(sport=1024, dport=5000))[:3]))
    lan("short_l4_udp_4_bytes_judged", raw_ip(S, "16.0.3.5", 17, bytes(
        UDP(sport=1024, dport=5000))[:4]))
    lan("short_l4_icmp_1_byte", raw_ip(S, "16.0.4.5", 1, b"\x08"))
    lan("short_l4_icmp_2_bytes_judged", raw_ip(S, "16.0.4.5", 1,
                                               b"\x08\x00"))
    lan("short_l4_tiny_first_fragment", raw_ip(
        S, L, 6, bytes(TCP(sport=40008, dport=80, flags="S"))[:8],
        flags=1))
    lan("short_l4_empty_udp", raw_ip(S, "16.0.3.5", 17, b""))
    # RFC 1858: a TCP fragment at offset 8 bytes
    lan("tcp_overlap_offset_8_bytes", raw_ip(S, L, 6, bytes(16), frag=1))
    # offset 16 bytes is an ordinary later fragment: allowed by "web"
    lan("tcp_offset_16_bytes_is_later_fragment", raw_ip(S, L, 6, bytes(16),
                                                        frag=2))
    # UDP at offset 8 bytes is no overlap
    lan("udp_offset_8_bytes_is_later_fragment",
        raw_ip(S, "16.0.3.5", 17, bytes(16), frag=1))

    # wan0 inbound, deny-listed, wan→lan transit to 10.0.0.2 / 48/8
    D = "48.1.2.3"
    wan("deny_listed_deny_rule",
        IP(src="16.0.0.5", dst=D) / TCP(sport=1, dport=23, flags="S") /
        t("deny_listed_deny_rule"))
    wan("deny_listed_no_match_passes",
        IP(src="16.0.0.5", dst=D) / TCP(sport=1, dport=22, flags="S") /
        t("deny_listed_no_match_passes"))
    c = "deny_rule_with_port_skips_later_fragment"
    wan(c, IP(src="16.0.0.5", dst=D, proto=6, frag=100) / Raw(t(c)))
    c = "deny_rule_with_port_first_fragment"
    wan(c, IP(src="16.0.0.5", dst=D, flags="MF") /
        TCP(sport=1, dport=23, flags="S") / t(c) / bytes(4))
    wan("deny_listed_src_port_and_prefix",
        IP(src="16.0.0.5", dst=D) / UDP(sport=53, dport=3000) /
        t("deny_listed_src_port_and_prefix"))
    # later UDP fragment from 16.0.0.5: skips the port deny, meets the
    # address-only deny
    c = "later_fragment_meets_deny_without_ports"
    wan(c, IP(src="16.0.0.5", dst=D, proto=17, frag=50) / Raw(t(c)))
    wan("first_match_deny_before_allow_one",
        IP(src="16.0.0.9", dst=D) / UDP(sport=53, dport=3000) /
        t("first_match_deny_before_allow_one"))
    wan("allow_in_deny_listed_before_deny",
        IP(src="16.0.0.9", dst=D) / UDP(sport=54, dport=3000) /
        t("allow_in_deny_listed_before_deny"))
    c = "allow_in_deny_listed_later_fragment"
    wan(c, IP(src="16.0.0.9", dst=D, proto=17, frag=50) / Raw(t(c)))
    wan("deny_listed_other_prefix_passes",
        IP(src="16.1.0.5", dst=D) / UDP(sport=53, dport=3000) /
        t("deny_listed_other_prefix_passes"))
    wan("deny_listed_gre",
        IP(src="16.1.0.5", dst=D) / GRE() / t("deny_listed_gre"))
    # established: false is no condition: every TCP to 8080 is denied
    for flags in ("S", "A"):
        wan("established_false_is_no_condition",
            IP(src="16.1.0.5", dst=D) / TCP(sport=1, dport=8080,
                                            flags=flags) /
            t("established_false_is_no_condition"))
    wan("deny_listed_short_l4",
        raw_ip("16.1.0.5", D, 17, b"\x00\x35"))


def paging_problems(tg, lists):
    """/tollgate/filters,lan0,in,2,3: rules 2..4, next 5, total."""
    p = []
    n = len(lists[("lan0", "in")]["rules"])
    r = tg.cmd("/tollgate/filters", "lan0,in,2,3")
    if not isinstance(r, dict):
        return ["lan0,in,2,3: %r" % (r,)]
    keys = sorted(int(k) for k in (r.get("rules") or {}))
    if keys != [2, 3, 4] or r.get("start") != 2 or r.get("next") != 5 or \
            r.get("total") != n or r.get("interface") != "lan0" or \
            r.get("direction") != "in":
        p.append("lan0,in,2,3: rules %s start %r next %r total %r "
                 "interface %r direction %r (want [2, 3, 4], 2, 5, %d, "
                 "lan0, in)" % (keys, r.get("start"), r.get("next"),
                                r.get("total"), r.get("interface"),
                                r.get("direction"), n))
    r = tg.cmd("/tollgate/filters", "lan0,in,%d" % (n - 2))
    keys = sorted(int(k) for k in ((r or {}).get("rules") or {}))
    if keys != [n - 2, n - 1] or "next" in (r or {}):
        p.append("lan0,in,%d: rules %s, next %r (want the last two, no "
                 "next)" % (n - 2, keys, (r or {}).get("next")))
    r = tg.cmd("/tollgate/filters", "lan0,in,%d" % (n + 5))
    if not isinstance(r, dict) or (r.get("rules") or {}):
        p.append("past the end: %r" % (r,))
    for bad in ("lan0,sideways", "nosuch0,in", "lan0,out"):
        r = tg.cmd("/tollgate/filters", bad)
        if not (isinstance(r, dict) and "error" in r):
            p.append("%s: want an error, got %r" % (bad, r))
    return p


def run_rules(res, macs):
    run_lists(res, "rules", rules_lists(), macs, rules_traffic,
              [("filters_paging", paging_problems)])


# ---- run: edge values ------------------------------------------------------------

def edge_lists():
    return {
        ("lan0", "in"): flist("deny-listed", [
            rule("hopopt", protocol=0),
            rule("echo-reply-0-0", protocol="icmp", icmp_type=0,
                 icmp_code=0),
            rule("udp-port-zero", protocol="udp", dst_port=0),
            rule("tcp-every-port", protocol="tcp", dst="16.0.9.0/24",
                 dst_port="0-65535"),
            rule("one-host", action="allow", protocol="udp",
                 src="0.0.0.0/0", dst="16.0.8.1"),
            rule("deny-16-0-8", protocol="udp", dst="16.0.8.0/24"),
            rule("web-80", protocol="tcp", dst_port=80),
            rule("src-port-65535", protocol="udp", src_port=65535),
        ]),
        # allow-listed without rules: nothing leaves by lan0
        ("lan0", "out"): flist("allow-listed", []),
    }


def padded(ip):
    """An IP packet's bytes padded to the 60-byte Ethernet minimum with
    non-zero bytes (not part of the IP packet: total length says so)."""
    return ip + b"\xaa" * max(0, 46 - len(ip))


def edge_traffic(m):
    S = "10.0.0.2"
    lan, _ = numbered_senders(m, 700)
    t = tag
    c = "protocol_0_matches_only_protocol_0"
    lan(c, IP(src=S, dst="16.0.1.1", proto=0) / Raw(t(c)))
    for dport in (53, 1):
        lan(c, IP(src=S, dst="16.0.1.1") / UDP(sport=1000, dport=dport) /
            t(c))
    lan(c, IP(src=S, dst="16.0.1.1", proto=47) / Raw(t(c)))
    c = "icmp_type_0_code_0"
    for ty, code in ((0, 0), (0, 1), (8, 0), (3, 0)):
        lan(c, IP(src=S, dst="16.0.1.2") / ICMP(type=ty, code=code) / t(c))
    c = "udp_port_0"
    for dport in (0, 1, 65535):
        lan(c, IP(src=S, dst="16.0.1.3") / UDP(sport=5, dport=dport) / t(c))
    c = "tcp_ports_0_to_65535"
    for dport in (0, 65535, 22):
        lan(c, IP(src=S, dst="16.0.9.5") / TCP(sport=5, dport=dport) / t(c))
    lan(c, IP(src=S, dst="16.0.10.5") / TCP(sport=5, dport=22) / t(c))
    lan(c, IP(src=S, dst="16.0.9.5", proto=6, frag=20) / Raw(t(c)))
    c = "zero_prefix_and_bare_address"
    for src, dst in ((S, "16.0.8.1"), ("48.9.9.9", "16.0.8.1"),
                     (S, "16.0.8.2"), (S, "16.0.7.1")):
        lan(c, IP(src=src, dst=dst) / UDP(sport=7, dport=7) / t(c))
    c = "src_port_65535"
    for sport in (65535, 65534):
        lan(c, IP(src=S, dst="16.0.1.4") / UDP(sport=sport, dport=7) / t(c))
    # IP options: the L4 header is where the IHL says
    opts = [IPOption_NOP()] * 4
    c = "ip_options_before_l4"
    for dport in (80, 81):
        lan(c, IP(src=S, dst="16.0.2.5", options=opts) /
            TCP(sport=40000, dport=dport, flags="S") / t(c))
    lan("ip_options_short_l4", bytes(
        IP(src=S, dst="16.0.2.5", proto=6, options=opts) /
        Raw(bytes(TCP(sport=40000, dport=81, flags="S"))[:13])))
    lan("ip_options_nonfirst_tcp_fragment", bytes(
        IP(src=S, dst="16.0.2.5", proto=6, frag=30, options=opts) /
        Raw(t("ip_options_nonfirst_tcp_fragment"))))
    # short L4 in padded frames: the IP total length counts, not the frame
    lan("short_l4_udp_3_bytes_padded", padded(raw_ip(
        S, "16.0.1.3", 17, bytes(UDP(sport=5, dport=0))[:3])))
    lan("short_l4_tcp_13_bytes_padded", padded(raw_ip(
        S, "16.0.2.5", 6, bytes(TCP(sport=5, dport=81, flags="S"))[:13])))
    lan("short_l4_icmp_1_byte_padded", padded(raw_ip(
        S, "16.0.1.2", 1, b"\x08")))
    lan("udp_4_bytes_padded_judged", padded(raw_ip(
        S, "16.0.1.3", 17, bytes(UDP(sport=5, dport=0))[:4])))
    lan("udp_4_bytes_padded_judged", padded(raw_ip(
        S, "16.0.1.3", 17, bytes(UDP(sport=5, dport=9))[:4])))
    # wan → lan: lan0's outbound list allows nothing
    c = "allow_listed_empty_list_drops_all"
    for dport in (53, 80):
        m.send(c, 1, IP(src="16.0.0.5", dst="10.0.0.2", id=790 + dport) /
               UDP(sport=5, dport=dport) / t(c))


def run_edge(res, macs):
    run_lists(res, "edge", edge_lists(), macs, edge_traffic)


# ---- run: host port, reload ------------------------------------------------------

def host_lists(changed=False):
    """changed: udp-7000s gets another port range, and a new rule goes
    first in wan0's outbound list (no-host-7777 moves from 0 to 1: its
    count belongs to it, not to its place)."""
    udp_rule = rule("udp-7000s", action="allow", protocol="udp",
                    dst_port="7000-7999")
    top = []
    if changed:
        udp_rule = rule("udp-7000s", action="allow", protocol="udp",
                        dst_port="7700-7799")
        top = [rule("new-top", protocol="udp", dst_port=9999)]
    return {
        ("lan0", "in"): flist("deny-listed", [
            rule("no-udp-9001", protocol="udp", dst_port=9001),
            rule("count-ping", action="allow", protocol="icmp",
                 icmp_type=8),
        ]),
        ("lan0", "out"): flist("deny-listed", [
            rule("no-reply-to-48", protocol="icmp", icmp_type=0,
                 dst="48.0.0.0/8"),
            rule("count-reply", action="allow", protocol="icmp",
                 icmp_type=0),
        ]),
        ("wan0", "out"): flist("deny-listed", top + [
            rule("no-host-7777", protocol="udp", src=WAN_IP,
                 dst_port=7777),
            udp_rule,
        ]),
    }


def ns_send_udp(ns, dst, items):
    """The kernel in @ns sends UDP datagrams [(dport, payload)]."""
    code = ("import socket,sys,json\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for port,data in json.loads(sys.argv[2]):\n"
            "    s.sendto(data.encode(),(sys.argv[1],port))\n")
    r = subprocess.run(["ip", "netns", "exec", ns, PY, "-c", code, dst,
                        json.dumps(items)], capture_output=True, text=True,
                       timeout=20)
    return r.returncode == 0, r.stderr


def error_pos(text, marker, nth):
    """Line and column (1-based) of the @nth occurrence of @marker."""
    i = -1
    for _ in range(nth):
        i = text.index(marker, i + 1)
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col


def run_host(res, macs):
    """Target traffic reaches a real kernel only through lan0's inbound
    list; the kernel's answers and its own datagrams take the source path
    through the outbound lists; reloads."""
    R = "host"
    pid = os.getpid() % 100000
    ns = "tgfilt-%d" % pid
    host = {"ifname": "tgfh%d" % pid, "netns": ns}
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        res.report("%s.setup" % R, ["ip netns add %s failed" % ns])
        return
    SCRATCH.netns.append(ns)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=False)
    lists = host_lists()
    m = Model(lists, macs, host=True)
    # lan: pings to the appliance (from the lan host and from 48/8
    # behind it), UDP the inbound list denies
    for i in range(3):
        m.send("target_ping_from_lan_host", 0,
               IP(src="10.0.0.2", dst=LAN_IP, id=500 + i) /
               ICMP(type=8, id=77, seq=i) / tag("ping-a"))
        m.send("target_ping_from_48", 0,
               IP(src="48.1.2.3", dst=LAN_IP, id=510 + i) /
               ICMP(type=8, id=78, seq=i) / tag("ping-b"))
    for i in range(2):
        m.send("target_udp_denied_by_lan_in", 0,
               IP(src="10.0.0.2", dst=LAN_IP, id=520 + i) /
               UDP(sport=4000, dport=9001) / tag("udp-9001"))
    # The kernel's echo replies: source path, lan0's outbound list.
    # Not byte for byte (IP id and flags are the kernel's): matched by
    # addresses, ICMP id and seq, and counted in the model.
    replies = []
    for ip in m.to_host:
        p = IP(ip)
        if p.haslayer(ICMP) and p[ICMP].type == 8:
            reply = bytes(IP(src=p.dst, dst=p.src, id=0) /
                          ICMP(type=0, id=p[ICMP].id, seq=p[ICMP].seq) /
                          p[ICMP].payload)
            out_if, ok = m.source("kernel_echo_replies", reply)
            m.want[IFACES[out_if]["port"]].pop() if ok else None
            replies.append((p.src, p[ICMP].id, p[ICMP].seq, ok))
    n_host = len(m.to_host)

    tg = Tollgate(R, lists, m.inputs, host=host)
    notes = {}
    phases = []   # (what, [(dport, payload)]) the host sent
    try:
        if not tg.start():
            res.report("%s.run" % R, ["%s\n%s" % (tg.error, tg.tail())])
            tg.stop()
            return
        # wait for the pings, the kernel's replies (host_rx) and their
        # way out
        n_in = sum(len(v) for v in m.inputs.values())
        ok = tg.settle(n_in + len(replies), host=n_host)
        if not ok:
            notes["settle1"] = "counters never settled: %s" % {
                k: tg.stats.get(k) for k in ("rx", "tx", "host", "host_rx",
                                             "in_rings")}

        def send(phase, deny, allow):
            items = ([(7777, "<tg:host-7777-%s-%d>" % (phase, i))
                      for i in range(deny)] +
                     [(7778, "<tg:host-7778-%s-%d>" % (phase, i))
                      for i in range(allow)])
            ok, err = ns_send_udp(ns, "16.0.0.5", items)
            phases.append((phase, items))
            before = tg.stats.get("rx", 0)
            settled = tg.settle(before + len(items), host=n_host)
            return ok and settled, err

        # phase 1: the host's own datagrams, wan0's outbound list
        ok1, err1 = send("p1", 3, 3)
        s1, pages1 = read_filters(tg)
        notes["p1"] = (ok1, err1, pages1)

        # live reload: one rule changed (udp-7000s), the others kept
        new_lists = host_lists(changed=True)
        cfg_b = tg.write_config("b.yaml", tg.config_text(new_lists))
        gen0 = tg.cmd("/tollgate/config")["generation"]
        rb = tg.cmd("/tollgate/config/reload", cfg_b)
        s2, pages2 = read_filters(tg)
        notes["reload"] = (gen0, rb, pages2)

        ok2, err2 = send("p2", 2, 2)
        s3, pages3 = read_filters(tg)
        notes["p2"] = (ok2, err2, pages3)

        # a bad reload: a duplicate rule name in lan0's inbound list
        bad_lists = host_lists(changed=True)
        bad_lists[("lan0", "in")] = flist("deny-listed", lists[(
            "lan0", "in")]["rules"] + [rule("no-udp-9001", protocol="udp",
                                            dst_port=9002)])
        bad_text = tg.config_text(bad_lists)
        cfg_c = tg.write_config("bad.yaml", bad_text)
        line, col = error_pos(bad_text, "name: no-udp-9001", 2)
        col += len("name: ")
        ctl = subprocess.run([TOLLGATECTL, "-f", tg.prefix, "reload",
                              "bad.yaml"], cwd=tg.dir, capture_output=True,
                             text=True, timeout=60)
        rc_tel = tg.cmd("/tollgate/config/reload", cfg_c)
        gen_after_bad = tg.cmd("/tollgate/config")["generation"]
        notes["bad"] = (line, col, ctl, rc_tel, gen_after_bad)

        ok3, err3 = send("p3", 1, 1)
        s4, pages4 = read_filters(tg)
        notes["p3"] = (ok3, err3, pages4, s4)

        ctl_sum = subprocess.run([TOLLGATECTL, "-f", tg.prefix, "filters"],
                                 capture_output=True, text=True, timeout=30)
        ctl_list = subprocess.run([TOLLGATECTL, "-f", tg.prefix, "filters",
                                   "wan0", "out"], capture_output=True,
                                  text=True, timeout=30)
        notes["ctl"] = (ctl_sum, ctl_list)
        host_info = tg.cmd("/tollgate/host")
    except (tel.TelemetryError, OSError, KeyError, TypeError,
            AttributeError, subprocess.TimeoutExpired) as e:
        tg.error = "%s: %s" % (type(e).__name__, e)
        host_info = None
    finally:
        tg.stop()
    if tg.error:
        res.report("%s.run" % R, ["%s\n%s" % (tg.error, tg.tail())])
        return

    # -- target and the kernel's replies (before any reload) ------------
    p = []
    if "settle1" in notes:
        p.append(notes["settle1"])
    got_replies = []
    for fr in tg.outputs.get(0) or []:
        e = Ether(fr)
        if e.haslayer(ICMP) and e[ICMP].type == 0:
            got_replies.append((e[IP].dst, e[ICMP].id, e[ICMP].seq,
                                e.dst.lower(), e.src.lower(),
                                e[IP].src))
    want_replies = sorted((d, i, s) for d, i, s, ok in replies if ok)
    if sorted(r[:3] for r in got_replies) != want_replies:
        p.append("echo replies on lan0: %s, want %s (the replies to "
                 "48.1.2.3 denied by lan0's outbound list)" % (
                     sorted(r[:3] for r in got_replies), want_replies))
    for r in got_replies:
        if r[3] != H0 or r[4] != macs["lan0"] or r[5] != LAN_IP:
            p.append("echo reply framing: %s" % (r,))
    if host_info is not None and host_info.get("to_kernel") != n_host:
        p.append("/tollgate/host to_kernel %r, want %d (pings that passed "
                 "lan0's inbound list)" % (host_info.get("to_kernel"),
                                           n_host))
    res.report("%s.target_through_lan_in_source_through_lan_out" % R, p)

    # -- host datagrams on wan0 --------------------------------------------
    p = []
    out1 = tg.outputs.get(1) or []
    got = sorted(re.search(rb"<tg:([^>]+)>", fr).group(1).decode()
                 for fr in out1 if re.search(rb"<tg:host-", fr))
    want = sorted(d[4:-1] for _, items in phases for port, d in items
                  if port == 7778)
    if got != want:
        p.append("host datagrams on wan0: %s, want %s" % (got, want))
    for fr in out1:
        e = Ether(fr)
        if not e.haslayer(UDP) or e[UDP].dport != 7778 or \
                e[IP].src != WAN_IP or e[IP].dst != "16.0.0.5" or \
                e.dst.lower() != H1 or e.src.lower() != macs["wan0"]:
            p.append("unexpected frame on wan0: %s" % summary_of(fr))
    for ph in ("p1", "p2", "p3"):
        if ph in notes and not notes[ph][0]:
            p.append("%s: sending failed: %s" % (ph, notes[ph][1]))
    res.report("%s.source_from_host_through_wan_out" % R, p)

    # -- hits: expected counts per phase ------------------------------
    def hits(pages, key):
        page = (pages or {}).get(key) or {}
        rules = page.get("rules") or {}
        return ({v.get("name"): v.get("hits") for v in rules.values()},
                page.get("no_match"))

    # lan0 lists: the model's counts throughout (no traffic after start)
    lan_in = {r["name"]: m.hits[("lan0", "in")][i] for i, r in
              enumerate(lists[("lan0", "in")]["rules"])}
    lan_out = {r["name"]: m.hits[("lan0", "out")][i] for i, r in
               enumerate(lists[("lan0", "out")]["rules"])}
    want_p = {
        "p1": {"no-host-7777": 3, "udp-7000s": 3},
        "reload": {"new-top": 0, "no-host-7777": 3, "udp-7000s": 0},
        "p2": {"new-top": 0, "no-host-7777": 5, "udp-7000s": 2},
        "p3": {"new-top": 0, "no-host-7777": 6, "udp-7000s": 3},
    }
    for ph, pages in (("p1", notes.get("p1", (0, 0, None))[2]),
                      ("reload", notes.get("reload", (0, 0, None))[2]),
                      ("p2", notes.get("p2", (0, 0, None))[2]),
                      ("p3", notes.get("p3", (0, 0, None))[2])):
        p = []
        h, nm = hits(pages, ("wan0", "out"))
        if h != want_p[ph]:
            p.append("wan0 out hits %s, want %s" % (h, want_p[ph]))
        if nm != 0:
            p.append("wan0 out no_match %r, want 0" % nm)
        h, nm = hits(pages, ("lan0", "in"))
        if h != lan_in or nm != m.hits[("lan0", "in")][-1]:
            p.append("lan0 in hits %s no_match %r, want %s %d" % (
                h, nm, lan_in, m.hits[("lan0", "in")][-1]))
        h, nm = hits(pages, ("lan0", "out"))
        if h != lan_out or nm != m.hits[("lan0", "out")][-1]:
            p.append("lan0 out hits %s no_match %r, want %s %d" % (
                h, nm, lan_out, m.hits[("lan0", "out")][-1]))
        name = {"p1": "hits_after_host_traffic",
                "reload": "reload_keeps_unchanged_rule_counts",
                "p2": "hits_after_reload",
                "p3": "hits_after_refused_reload"}[ph]
        res.report("%s.%s" % (R, name), p)

    # -- the reload answer ----------------------------------------------
    p = []
    gen0, rb, _ = notes.get("reload", (None, None, None))
    if not isinstance(rb, dict) or rb.get("result") != "ok" or \
            rb.get("generation") != (gen0 or 0) + 1:
        p.append("reload b.yaml: %r (generation before %r)" % (rb, gen0))
    if isinstance(rb, dict) and not isinstance(rb.get("build_us"), int):
        p.append("reload answer without build_us: %r" % rb)
    if isinstance(rb, dict) and rb.get("filters_changed") != "wan0.out":
        p.append("reload answer: filters_changed %r, want 'wan0.out' (the "
                 "one list with a changed rule)" % rb.get("filters_changed"))
    res.report("%s.reload_one_rule_changed" % R, p)

    # -- the refused reload -------------------------------------------------
    p = []
    if "bad" in notes:
        line, col, ctl, rc_tel, gen_bad = notes["bad"]
        want_pfx = "bad.yaml:%d:%d: " % (line, col)
        err_lines = [ln for ln in ctl.stderr.splitlines()
                     if ln.startswith("bad.yaml:")]
        if ctl.returncode != 1 or len(err_lines) != 1 or \
                not err_lines[0].startswith(want_pfx) or \
                "no-udp-9001" not in err_lines[0] or \
                "duplicate" not in err_lines[0]:
            p.append("tollgatectl reload bad.yaml: exit %d, stderr %r "
                     "(want one line starting %r naming the duplicate)" % (
                         ctl.returncode, ctl.stderr, want_pfx))
        errs = (rc_tel or {}).get("errors") or {}
        e0 = errs.get("0") or {}
        if (rc_tel or {}).get("result") != "error" or \
                e0.get("line") != line or e0.get("col") != col:
            p.append("telemetry reload: %r, want an error at %d:%d" % (
                rc_tel, line, col))
        if gen_bad != (gen0 or 0) + 1:
            p.append("generation %r after the refused reload, want %r" % (
                gen_bad, (gen0 or 0) + 1))
    else:
        p.append("not run")
    res.report("%s.refused_reload_duplicate_name_file_line_col" % R, p)

    # -- tollgatectl filters ---------------------------------------------------
    p = []
    if "ctl" in notes:
        cs, cl = notes["ctl"]
        if cs.returncode != 0 or not all(w in cs.stdout for w in (
                "lan0", "wan0", "deny-listed")):
            p.append("tollgatectl filters: exit %d\n%s%s" % (
                cs.returncode, cs.stdout, cs.stderr))
        ok = cl.returncode == 0
        for name, n in want_p["p3"].items():
            row = [ln for ln in cl.stdout.splitlines()
                   if re.search(r"(^|\s)%s(\s|$)" % re.escape(name), ln)]
            if not row or not re.search(r"(^|\s)%d(\s|$)" % n, row[0]):
                ok = False
        if not ok:
            p.append("tollgatectl filters wan0 out: exit %d, want rows "
                     "with %s\n%s%s" % (cl.returncode, want_p["p3"],
                                        cl.stdout, cl.stderr))
    else:
        p.append("not run")
    res.report("%s.tollgatectl_filters" % R, p)

    # -- counters ---------------------------------------------------------------
    p = []
    n_host_sent = sum(len(items) for _, items in phases)
    want_drops = {"filter.in.denied": m.drops.get("filter.in.denied", 0),
                  "filter.out.denied": m.drops.get("filter.out.denied", 0) +
                  3 + 2 + 1}
    got = tg.final["drops"] if tg.final else {}
    for k, v in want_drops.items():
        if got.get(k, 0) != v:
            p.append("drop %s = %d, want %d" % (k, got.get(k, 0), v))
    for k, v in got.items():
        if v and k not in want_drops:
            p.append("unexpected drop %s = %d" % (k, v))
    t = (tg.final or {}).get("totals", {})
    if t.get("host") != n_host:
        p.append("host %r, want %d" % (t.get("host"), n_host))
    want_rx = sum(len(v) for v in m.inputs.values()) + len(replies) + \
        n_host_sent
    if t.get("rx") != want_rx:
        p.append("rx %r, want %d (pcap %d + kernel replies %d + host "
                 "datagrams %d)" % (t.get("rx"), want_rx,
                                    sum(len(v) for v in m.inputs.values()),
                                    len(replies), n_host_sent))
    dsum = sum(got.values())
    if t and t.get("rx", 0) + t.get("generated", 0) != \
            t.get("tx", 0) + t.get("host", 0) + dsum:
        p.append("rx + generated != tx + host + drops: %s %d" % (t, dsum))
    res.report("%s.drop_counters_and_invariant" % R, p)
    check_exit(res, R, tg)


# ---- main ------------------------------------------------------------------------

def probe_macs(res):
    """The MACs the input frames are addressed to (an idle run)."""
    tg = Tollgate("probe", {}, {0: [], 1: []})
    macs = {}
    try:
        if tg.start():
            macs = tg.macs
    finally:
        tg.stop()
    p = [] if macs.get("lan0") and macs.get("wan0") else [
        "%s\n%s" % (tg.error, tg.tail()) if tg.error else
        "no MACs: %s" % macs]
    res.report("probe.macs", p)
    return macs


def main():
    global EAL_EXTRA
    a = SCRATCH.parse_args(__doc__, [("--eal", dict(
        default="", metavar="ARGS",
        help="EAL options for every run, e.g. \"--lcores 0@0,1@1,2@1\": "
             "two worker lcores (the stages spread over them, hits "
             "counted per worker)"))])
    EAL_EXTRA = a.eal.split()
    res = Results(a.k)
    t0 = time.monotonic()
    if preflight(res):
        macs = probe_macs(res)
        if macs:
            if res.part_wanted("paths"):
                run_paths(res, macs)
            if res.part_wanted("rules"):
                run_rules(res, macs)
            if res.part_wanted("edge"):
                run_edge(res, macs)
            if res.part_wanted("host"):
                run_host(res, macs)
    log("%.1f s" % (time.monotonic() - t0))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
