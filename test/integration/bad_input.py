#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate bad-input tests: bad input gets a clear, counted, specific
answer, never a crash, never loses the running configuration.

Four parts:

- config: `tollgate --check -c FILE` on broken YAML files written here
  (syntax, unknown keys, wrong types, bad prefixes, references, ranges,
  ipsec (checked like the rest),
  empty/missing/binary files, a directory,
  ...). Exit code 1 and exactly the expected stderr lines
  `FILE:LINE:COL: path: message` (`FILE: message` for file-level errors),
  LINE:COL computed here from the snippet text (a `^` in a marker string
  shows the character meant), never taken from tollgate. A valid file
  gives exit 0 and `FILE: OK`. `tollgate -c BROKEN` (no --check) prints
  the same lines, exits non-zero and starts nothing (no
  /var/run/dpdk/<prefix>). Command-line misuse exits 2 with a message.
- telemetry: garbage parameters, unknown commands and 20 concurrent
  clients against a running tollgate (net_pcap ports). Bad requests get
  {"error": ...} (unknown commands DPDK's null), the configuration
  generation and tables stay the same, good requests keep working, and
  SIGINT with clients still connected gives exit 0 and the counters.
- storm: a few thousand malformed frames (scapy fuzz() of
  Ether/IP/UDP/TCP/ICMP/ARP, random bytes, truncations, bit flips, jumbo
  and empty frames) through two net_pcap ports: tollgate survives, exits
  0, rx + generated == tx + host + sum(drops) with every drop under a
  named reason, and every frame it sent is well formed.

Prints "PASS name" / "FAIL name: why" per case, then "N passed, N failed";
exits 1 if anything failed.

  /usr/bin/python3 test/integration/bad_input.py [-v] [--keep] [-k SUBSTRING]

Needs root (EAL runtime files in /var/run/dpdk) and a built
build/app/tollgate/tollgate (or TOLLGATE=path).
"""
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "test"))

import tgtelemetry as tel  # noqa: E402
from harness import (H0, H1, NEIGHBORS, TOLLGATE,  # noqa: E402
                     PcapTollgate, Results, Scratch, pcap_yaml, preflight,
                     scapy_missing, wait_settled)

try:
    from scapy.all import (  # noqa: E402
        ARP, ICMP, IP, TCP, UDP, Ether, Raw, fuzz)
    from scapy.utils import checksum  # noqa: E402
except ImportError:
    sys.exit(scapy_missing())

SCRATCH = Scratch("tg-bad")  # -v, --keep
log = SCRATCH.log


def show(lines, n=12):
    lines = list(lines)
    out = ["| " + repr(l)[1:-1] for l in lines[:n]]
    if len(lines) > n:
        out.append("| ... %d more lines" % (len(lines) - n))
    return "\n".join(out) if out else "| (nothing)"


# ============================================================================
# Part 1: configuration files
# ============================================================================

BASE = """\
# bad_input.py: a valid configuration; each case breaks one thing
dpdk:
  lcores: "0-1"
  no_huge: true
  memory_mb: 256
  file_prefix: {prefix}
ports:
  - name: p0
    device: net_null0
  - name: p1
    device: net_null1
interfaces:
  - name: lan0
    port: p0
    address: 10.0.0.1/24
  - name: wan0
    port: p1
    address: 10.1.0.1/24
routes:
  - prefix: 16.0.0.0/8
    via: 10.1.0.2
    interface: wan0
neighbors:
  - address: 10.1.0.2
    mac: "02:00:00:00:01:02"
    interface: wan0
"""


def pos(text, marker, nth=1):
    """(line, col), 1-based, of the character after '^' in @marker, whose
    text (without '^') must occur in @text; @nth picks the occurrence."""
    plain = marker.replace("^", "", 1)
    at = -1
    for _ in range(nth):
        at = text.find(plain, at + 1)
        if at < 0:
            raise ValueError("marker %r (#%d) not in the snippet" %
                             (marker, nth))
    off = at + marker.index("^")
    line = text.count("\n", 0, off) + 1
    col = off - (text.rfind("\n", 0, off) + 1) + 1
    return (line, col)


def eof_pos(text):
    """Where libyaml's end of stream is: after the last newline."""
    return (text.count("\n") + 1, len(text) - (text.rfind("\n") + 1) + 1)


def edit(text, old, new, count=1):
    if text.count(old) != count:
        raise ValueError("%r occurs %d times in the snippet, want %d" %
                         (old, text.count(old), count))
    return text.replace(old, new)


class CfgCase:
    """A configuration file and the errors it must produce.
    expect: [(pos or None, path or None, message regex)], in file order."""

    def __init__(self, name, content, expect, fname=None, more=None):
        self.name = name
        self.content = content        # str, bytes, None (no file), DIR
        self.expect = expect
        self.fname = fname or (re.sub(r"[^a-z0-9]+", "-", name) + ".yaml")
        self.more = more              # file-level "N more errors" count


DIR = object()


def line_re(fname):
    return re.compile(r"^%s(?::(\d+):(\d+))?: (.+)$" % re.escape(fname))


def config_cases(prefix, tollgate_bin):
    B = BASE.format(prefix=prefix)
    cases = []

    def case(name, content, expect, **kw):
        cases.append(CfgCase(name, content, expect, **kw))

    # --- syntax errors: libyaml's message and position -----------------
    t = edit(B, "    device: net_null1", "\tdevice: net_null1")
    case("syntax.tab_indentation", t,
         [(pos(t, "^\tdevice: net_null1"), None,
           r"syntax error: found a tab character that violates "
           r"indentation.*")])
    t = edit(B, "    via: 10.1.0.2", "    via: 10.1.0.2: x")
    case("syntax.colon_in_plain_value", t,
         [(pos(t, "via: 10.1.0.2^: x"), None,
           r"syntax error: mapping values are not allowed in this context")])
    t = B + "pipeline:\n  placement: [{lcore: 1, stages: [forward]}\n"
    case("syntax.unclosed_flow_list", t,
         [(eof_pos(t), None,
           r"syntax error: did not find expected ',' or '\]' \(while "
           r"parsing a flow sequence at %d:%d\)" %
           pos(t, "placement: ^[{lcore"))])
    t = B + 'limits:\n  max_routes: "12\n'
    case("syntax.unterminated_quote", t,
         [(eof_pos(t), None,
           r"syntax error: found unexpected end of stream \(while scanning "
           r"a quoted scalar at %d:%d\)" % pos(t, 'max_routes: ^"12'))])
    t = edit(B, "    via: 10.1.0.2", "    via: *gw")
    t = edit(t, "  - address: 10.1.0.2", "  - address: &gw 10.1.0.2")
    case("syntax.alias_refused", t,
         [(pos(t, "via: ^*gw"), None, r"YAML aliases are not supported")])
    t = B + "---\nports: []\n"
    case("syntax.second_document", t,
         [(pos(t, "^---\nports: []"), None,
           r"only one YAML document is supported")])
    t = B + "x: " + "[" * 70 + "]" * 70 + "\n"
    # The root mapping is level 1: the 64th '[' opens level 65.
    case("syntax.nesting_too_deep", t,
         [(pos(t, "x: " + "[" * 63 + "^["), None,
           r"nested more than 64 levels deep")])
    case("syntax.top_level_is_a_list", "- ports\n- routes\n",
         [((1, 1), None, r"expected a mapping of sections \(dpdk, ports, "
           r"interfaces, \.\.\.\) at the top level, got a list")])

    # --- unknown and duplicate keys -------------------------------------
    t = edit(B, '  lcores: "0-1"', '  lcore: "0-1"')
    case("key.unknown_in_dpdk", t,
         [(pos(t, "  ^lcore:"), "dpdk",
           r"unknown key 'lcore' \(valid keys: lcores, memory_mb, no_huge, "
           r"file_prefix, log_level, args\)")])
    t = B + "rutes: []\n"
    case("key.unknown_top_level", t,
         [(pos(t, "^rutes:"), None,
           r"unknown key 'rutes' \(valid keys: dpdk, mempool, ports, "
           r"interfaces, routes, neighbors, arp, icmp, pipeline, limits, "
           r"local_filter, host, nat, firewall, ipsec\)")])
    t = edit(B, "    address: 10.0.0.1/24", "    adress: 10.0.0.1/24")
    case("key.typo_in_interface_also_missing_required", t,
         [(pos(t, "  - ^name: lan0"), "interfaces[0]",
           r"missing required key 'address'"),
          (pos(t, "    ^adress:"), "interfaces[0]",
           r"unknown key 'adress' \(valid keys: name, port, address, "
           r"mtu, filters\)")])
    t = edit(B, "  no_huge: true\n", "  no_huge: true\n  no_huge: false\n")
    case("key.duplicate", t,
         [(pos(t, "  ^no_huge: false"), "dpdk.no_huge",
           r"duplicate key 'no_huge' \(first at line %d\)" %
           pos(t, "^  no_huge: true")[0])])

    # --- wrong types --------------------------------------------------------
    t = edit(B, "  memory_mb: 256", "  memory_mb: lots")
    case("type.word_for_integer", t,
         [(pos(t, "memory_mb: ^lots"), "dpdk.memory_mb",
           r"expected an integer, got 'lots'")])
    t = edit(B, "  memory_mb: 256", '  memory_mb: "256"')
    case("type.quoted_integer", t,
         [(pos(t, 'memory_mb: ^"256"'), "dpdk.memory_mb",
           r"expected an integer, got the quoted string '256'")])
    t = edit(B, "  no_huge: true", "  no_huge: 1")
    case("type.number_for_boolean", t,
         [(pos(t, "no_huge: ^1"), "dpdk.no_huge",
           r"expected a boolean \(true/false\), got '1'")])
    t = edit(B, "    device: net_null0", "    device: [net_null0]")
    case("type.list_for_string", t,
         [(pos(t, "device: ^[net_null0]"), "ports[0].device",
           r"expected a string, got a list")])
    t = edit(B, "    device: net_null0", "    device:")
    case("type.empty_value", t,
         [(pos(t, "    device:^\n  - name: p1"), "ports[0].device",
           r"expected a string, got an empty value")])
    t = edit(B, "routes:\n  - prefix: 16.0.0.0/8\n    via: 10.1.0.2\n"
                "    interface: wan0\n",
             "routes:\n  prefix: 16.0.0.0/8\n  via: 10.1.0.2\n"
             "  interface: wan0\n")
    case("type.mapping_for_list", t,
         [(pos(t, "routes:\n  ^prefix"), "routes",
           r"expected a list, got a mapping")])
    t = edit(B, "    device: net_null0", '    device: "net\\0null0"')
    case("type.nul_in_string", t,
         [(pos(t, 'device: ^"net'), "ports[0].device",
           r"contains a NUL character")])

    # --- addresses, prefixes, references -------------------------------
    t = edit(B, "  - prefix: 16.0.0.0/8", "  - prefix: 16.0.0.1/8")
    case("prefix.host_bits_set", t,
         [(pos(t, "prefix: ^16.0.0.1/8"), "routes[0].prefix",
           r"host bits are set in '16\.0\.0\.1/8': the prefix should be "
           r"16\.0\.0\.0/8")])
    t = edit(B, "  - prefix: 16.0.0.0/8", "  - prefix: 16.0.0.0/33")
    case("prefix.length_33", t,
         [(pos(t, "prefix: ^16.0.0.0/33"), "routes[0].prefix",
           r".*'16\.0\.0\.0/33'.*")])
    t = edit(B, "    address: 10.0.0.1/24", "    address: 010.0.0.1/24")
    case("prefix.leading_zero_octet", t,
         [(pos(t, "address: ^010.0.0.1/24"), "interfaces[0].address",
           r".*'010\.0\.0\.1/24'.*")])
    t = edit(B, "    via: 10.1.0.2\n    interface: wan0",
             "    via: 10.1.0.2\n    interface: wan9")
    case("route.via_unknown_interface", t,
         [(pos(t, "interface: ^wan9"), "routes[0].interface",
           r"unknown interface 'wan9' \(interfaces: lan0, wan0\)")])
    t = edit(B, "    via: 10.1.0.2\n", "    via: 10.0.0.2\n")
    case("route.gateway_outside_interface_subnet", t,
         [(pos(t, "via: ^10.0.0.2"), "routes[0].via",
           r"gateway 10\.0\.0\.2 is not in 10\.1\.0\.0/24, the subnet of "
           r"interface 'wan0'")])
    t = edit(B, "interfaces:\n",
             "  - name: p2\n    device: net_null2\ninterfaces:\n")
    t = edit(t, "routes:\n",
             "  - name: lan0\n    port: p2\n    address: 10.2.0.1/24\n"
             "routes:\n")
    case("interface.duplicate_name", t,
         [(pos(t, "  - name: ^lan0", nth=2), "interfaces[2].name",
           r"duplicate interface name 'lan0' \(first at line %d\)" %
           pos(t, "  - name: ^lan0")[0])])

    # --- numbers out of range ------------------------------------------
    t = edit(B, "  memory_mb: 256", "  memory_mb: 2000000")
    case("number.out_of_range", t,
         [(pos(t, "memory_mb: ^2000000"), "dpdk.memory_mb",
           r"out of range: 2000000 \(expected 0\.\.1048576\)")])
    t = B + "mempool:\n  mbufs: 99999999999999999999999\n"
    case("number.beyond_64_bits", t,
         [(pos(t, "mbufs: ^999"), "mempool.mbufs",
           r"out of range: 99999999999999999999999 "
           r"\(expected 1023\.\.16777215\)")])
    t = B + "icmp:\n  rate: -1\n"
    case("number.negative", t,
         [(pos(t, "rate: ^-1"), "icmp.rate",
           r"out of range: -1 \(expected 0\.\.1000000\)")])
    t = edit(B, "  memory_mb: 256", "  memory_mb: 0256")
    case("number.leading_zero", t,
         [(pos(t, "memory_mb: ^0256"), "dpdk.memory_mb",
           r"expected an integer without leading zeros, got '0256'")])
    t = B + "pipeline:\n  ring_size: 1000\n"
    case("number.not_a_power_of_two", t,
         [(pos(t, "ring_size: ^1000"), "pipeline.ring_size",
           r"must be a power of two, got 1000")])
    t = edit(B, "    address: 10.1.0.1/24\n",
             "    address: 10.1.0.1/24\n    mtu: 67\n")
    case("number.mtu_below_68", t,
         [(pos(t, "mtu: ^67"), "interfaces[1].mtu",
           r"out of range: 67 \(expected 68\.\.9000\)")])

    # --- nat: a list where a mapping belongs ----------------------------
    t = B + "nat:\n  - {from: lan0, to: wan0}\n"
    case("nat.not_a_mapping", t,
         [(pos(t, "  ^- {from"), "nat", r"expected a mapping, got a list")])

    # --- ipsec: checked completely, though the stage is not built -------
    sa = ("ipsec:\n  sas:\n    - name: out1\n      spi: 0x1000\n"
          "      direction: outbound\n      mode: transport\n"
          "      algorithm: aes-128-gcm\n"
          "      key: 00112233445566778899aabbccddeeff\n"
          "      salt: 01020304\n")
    t = B + edit(sa, "spi: 0x1000", "spi: 255")
    case("ipsec.spi_reserved", t,
         [(pos(t, "spi: ^255"), "ipsec.sas[0].spi",
           r"SPI 255 is reserved: RFC 4303 \(2\.1\) reserves 1\.\.255 "
           r"for IANA and 0 for local use, never sent: use "
           r"256\.\.4294967295 \(0x100\.\.0xffffffff\)")])
    t = B + edit(sa, "key: 00112233445566778899aabbccddeeff",
                 "key: 00112233445566778899aabbccdd")
    case("ipsec.key_length_without_the_key", t,
         [(pos(t, "key: ^0011"), "ipsec.sas[0].key",
           r"key: expected 32 hex digits \(16 bytes for aes-128-gcm\), "
           r"got 28")])
    t = B + sa + ("  policies:\n    - name: web\n      protocol: tcp\n"
                  "      dst_port: 80\n      direction: inbound\n"
                  "      action: protect\n      sa: out1\n")
    case("ipsec.policy_sa_direction", t,
         [(pos(t, "sa: ^out1"), "ipsec.policies[0].sa",
           r"SA 'out1' is outbound: the inbound side of a policy is "
           r"protected by an inbound SA")])
    t = B + edit(sa, "      salt: 01020304\n",
                 "      key_file: no-such.keys\n")
    t = edit(t, "      key: 00112233445566778899aabbccddeeff\n", "")
    case("ipsec.key_file_missing", t,
         [(pos(t, "key_file: ^no-such"), "ipsec.sas[0].key_file",
           r"key_file 'no-such\.keys': cannot read (.*/)?no-such\.keys: No "
           r"such file or directory")])

    # --- interfaces[].filters -------------------------------------------
    t = edit(B, "    address: 10.1.0.1/24\n",
             "    address: 10.1.0.1/24\n    filters: []\n")
    case("filters.not_a_mapping", t,
         [(pos(t, "    filters: ^[]"), "interfaces[1].filters",
           r"expected a mapping, got a list")])
    t = edit(B, "    address: 10.1.0.1/24\n",
             "    address: 10.1.0.1/24\n    filters:\n      inbound:\n"
             "        mode: deny-listed\n        rules:\n"
             "          - name: no-web\n            dst_port: 80\n"
             "          - name: no-web\n")
    case("filters.rule_errors", t,
         [(pos(t, "            ^dst_port: 80"),
           "interfaces[1].filters.inbound.rules[0].dst_port",
           r"dst_port needs protocol: tcp or udp"),
          (pos(t, "          - name: ^no-web", nth=2),
           "interfaces[1].filters.inbound.rules[1].name",
           r"duplicate rule name 'no-web' \(first at line %d\)" %
           pos(t, "          - name: ^no-web")[0])])
    t = B + "filters: {}\n"
    case("filters.only_per_interface", t,
         [(pos(t, "^filters:"), None,
           r"unknown key 'filters' \(valid keys: dpdk, .*, host, nat, "
           r"firewall, ipsec\)")])

    # --- whole files ---------------------------------------------------
    case("file.empty", "",
         [((1, 1), None, r"the configuration is empty \(it needs at least "
           r"a 'ports' list\)")])
    case("file.comments_only", "# nothing here\n\n# nor here\n",
         [((1, 1), None, r"the configuration is empty \(it needs at least "
           r"a 'ports' list\)")])
    case("file.missing", None,
         [(None, None, r"cannot read: No such file or directory")])
    case("file.directory", DIR,
         [(None, None, r"cannot read: Is a directory")])
    case("file.ports_empty_list", "ports: []\n",
         [((1, 8), "ports", r"at least one port is required")])
    # Garbage: an executable (0x7F 'E' 'L' 'F' ...) and invalid UTF-8.
    with open(tollgate_bin, "rb") as f:
        elf = f.read(4096)
    case("file.binary_executable", elf,
         [((1, 1), None, r"invalid input: control characters are not "
           r"allowed \(byte 0x7F\)")])
    t = edit(B, "    device: net_null0", "    device: net_\x00null0")
    tb = t.replace("\x00", "\xff").encode("latin-1")
    case("file.invalid_utf8", tb,
         [(pos(t, "device: net_^\x00"), None,
           r"invalid input: invalid leading UTF-8 octet \(byte 0xFF\)")])
    rnd = random.Random(7)
    case("file.random_bytes", bytes(rnd.randrange(256) for _ in range(2048)),
         [("ANY", None, r"(invalid input|syntax error): .+")])
    # A file just over the size limit (64 MiB) is refused unread.
    case("file.too_large", "BIG",
         [(None, None, r"too large: %d bytes \(at most 64 MiB\)" %
           ((64 << 20) + 1))])

    # --- many errors: the first 64, in file order, and a count ---------
    t = edit(B, "routes:\n  - prefix: 16.0.0.0/8\n    via: 10.1.0.2\n"
                "    interface: wan0\n",
             "routes:\n" + "".join(
                 "  - {prefix: 16.%d.0.1/16, interface: wan0}\n" % i
                 for i in range(100)))
    exp = [(pos(t, "prefix: ^16.%d.0.1/16" % i), "routes[%d].prefix" % i,
            r"host bits are set in '16\.%d\.0\.1/16': the prefix should "
            r"be 16\.%d\.0\.0/16" % (i, i)) for i in range(64)]
    case("errors.first_64_in_order_then_count", t, exp, more=36)
    return cases


def write_case_file(d, c):
    path = os.path.join(d, c.fname)
    if c.content is None:
        return path
    if c.content is DIR:
        os.makedirs(path)
        return path
    if c.content == "BIG":
        with open(path, "wb") as f:
            line = b"# padding " + b"x" * 53 + b"\n"      # 64 bytes
            f.write(line * (1 << 20))                   # 64 MiB
            f.write(b"\n")                              # + 1 byte
        return path
    data = c.content if isinstance(c.content, bytes) else \
        c.content.encode()
    with open(path, "wb") as f:
        f.write(data)
    return path


def run_cmd(args, cwd, timeout=30):
    try:
        p = subprocess.run(args, cwd=cwd, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out after %ds" % timeout
    return p.returncode, p.stdout, p.stderr


def compare_errors(c, err_lines):
    """Problems with the stderr lines of case @c (exact match, in order)."""
    p = []
    rx = line_re(c.fname)
    parsed = []
    for l in err_lines:
        m = rx.match(l)
        if not m or any(ord(ch) < 0x20 for ch in l):
            p.append("not one 'FILE:LINE:COL: path: message' line: %r" % l)
            continue
        where = (int(m.group(1)), int(m.group(2))) if m.group(1) else None
        parsed.append((where, m.group(3)))
    want = list(c.expect)
    if c.more:
        want = want + [(None, None, r"%d more errors not shown" % c.more)]
    for i, (wpos, wpath, wmsg) in enumerate(want):
        full = (re.escape(wpath) + ": " if wpath else "") + wmsg
        if i >= len(parsed):
            p.append("missing error #%d: %s%s" % (
                i + 1, "%d:%d: " % wpos if isinstance(wpos, tuple) else "",
                full))
            continue
        gpos, gtext = parsed[i]
        if wpos == "ANY" and gpos is None:
            p.append("error #%d has no position: %s" % (i + 1, gtext))
        elif wpos != "ANY" and gpos != wpos:
            p.append("error #%d at %s, want %s: %s" % (
                i + 1, "%d:%d" % gpos if gpos else "no position",
                "%d:%d" % wpos if wpos else "no position", gtext))
        if not re.fullmatch(full, gtext):
            p.append("error #%d text %r does not match %r" %
                     (i + 1, gtext, full))
    for gpos, gtext in parsed[len(want):]:
        p.append("unexpected error: %s%s" % (
            "%d:%d: " % gpos if gpos else "", gtext))
    return p


def run_config(res):
    d = os.path.join(SCRATCH.tmp, "config")
    os.makedirs(d)
    prefix = SCRATCH.new_prefix("cfg")
    cases = config_cases(prefix, TOLLGATE)

    # The valid file first: every case is one edit away from it.
    ok = os.path.join(d, "valid.yaml")
    with open(ok, "w") as f:
        f.write(BASE.format(prefix=prefix))
    rc, out, err = run_cmd([TOLLGATE, "--check", "-c", "valid.yaml"], d)
    p = []
    if rc != 0:
        p.append("exit code %s, want 0" % rc)
    if out.decode(errors="replace") != "valid.yaml: OK\n":
        p.append("stdout %r, want 'valid.yaml: OK\\n'" % out)
    if err:
        p.append("stderr not empty:\n" + show(err.decode(
            errors="replace").splitlines()))
    res.report("check.valid_file_ok", p)

    by_name = {}
    for c in cases:
        path = write_case_file(d, c)
        rc, out, err = run_cmd([TOLLGATE, "--check", "-c", c.fname], d)
        if c.content == "BIG":
            os.unlink(path)
        lines = err.decode("utf-8", errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        by_name[c.name] = lines
        p = []
        if rc is None:
            p.append(err.decode())
        elif rc != 1:
            p.append("exit code %s, want 1%s" % (
                rc, " (killed by signal %d)" % -rc if rc < 0 else ""))
        if out:
            p.append("stdout not empty: %r" % out[:200])
        p += compare_errors(c, lines)
        if p:
            p.append("stderr was:\n" + show(lines))
        res.report("check." + c.name, p)

    # Control characters from the file must not reach the terminal raw:
    # every error stays one line, whatever the quoted strings contain.
    t = BASE.format(prefix=prefix)
    t = edit(t, "  - name: lan0", '  - name: "lan\\n0"')
    t = edit(t, '  lcores: "0-1"', '  lcores: "0-1"\n  "\\e[31mkey": 1')
    c = CfgCase("control_characters_stay_on_one_line", t, [])
    write_case_file(d, c)
    rc, out, err = run_cmd([TOLLGATE, "--check", "-c", c.fname], d)
    raw = err.decode("utf-8", errors="replace")
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    p = []
    if rc != 1:
        p.append("exit code %s, want 1" % rc)
    rx = line_re(c.fname)
    for l in lines:
        if not rx.match(l):
            p.append("line not in FILE:LINE:COL format: %r" % l)
    if "\x1b" in raw:
        p.append("a raw ESC (0x1B) from the file reached stderr")
    want_lines = (pos(t, '  ^"\\e[31mkey"')[0], pos(t, 'name: ^"lan')[0])
    got_lines = sorted({int(m.group(1)) for m in map(rx.match, lines)
                        if m and m.group(1)})
    if sorted(set(want_lines)) != got_lines:
        p.append("errors on lines %s, want one each on %s" % (
            got_lines, sorted(set(want_lines))))
    if p:
        p.append("stderr was:\n" + show(lines))
    res.report("check." + c.name, p)

    # An absolute path is echoed as given.
    c = [x for x in cases if x.name == "file.directory"][0]
    absd = os.path.join(d, c.fname)
    rc, out, err = run_cmd([TOLLGATE, "--check", "-c", absd], "/")
    want = "%s: cannot read: Is a directory\n" % absd
    res.report("check.file_name_echoed_as_given",
               [] if rc == 1 and err.decode() == want else
               ["exit %s, stderr %r, want %r" % (rc, err, want)])

    # Without --check: the same messages, non-zero, nothing started.
    for name in ("key.unknown_in_dpdk", "prefix.host_bits_set",
                 "nat.not_a_mapping", "route.via_unknown_interface",
                 "syntax.tab_indentation"):
        c = [x for x in cases if x.name == name][0]
        t0 = time.monotonic()
        rc, out, err = run_cmd([TOLLGATE, "-c", c.fname], d, timeout=20)
        took = time.monotonic() - t0
        lines = err.decode("utf-8", errors="replace").splitlines()
        p = []
        if rc is None or rc == 0:
            p.append("exit code %s, want non-zero" % rc)
        if lines != by_name[name]:
            p.append("stderr differs from --check's:\n%s\n     --check:\n%s"
                     % (show(lines), show(by_name[name])))
        if b"running" in out or b"EAL" in err or b"EAL" in out:
            p.append("EAL or the pipeline started: %r" % (out + err)[:300])
        if os.path.exists(tel.runtime_dir(prefix)):
            p.append("%s exists" % tel.runtime_dir(prefix))
            shutil.rmtree(tel.runtime_dir(prefix), ignore_errors=True)
        if took > 5:
            p.append("took %.1f s" % took)
        res.report("run_broken." + name, p)

    # A valid ipsec: section: --check says OK.
    t = BASE.format(prefix=prefix) + "ipsec:\n  policy_order: as-written\n"
    c = CfgCase("ipsec_enabled", t, [])
    write_case_file(d, c)
    rc, out, err = run_cmd([TOLLGATE, "--check", "-c", c.fname], d)
    res.report("check.ipsec_enabled_ok",
               [] if rc == 0 and out.decode() == "%s: OK\n" % c.fname
               and not err else ["exit %s, stdout %r, stderr %r" %
                                 (rc, out, err)])
    t = edit(t, "  policy_order: as-written\n",
             "  enabled: false\n  policy_order: as-written\n")
    c = CfgCase("ipsec_disabled", t, [])
    write_case_file(d, c)
    rc, out, err = run_cmd([TOLLGATE, "--check", "-c", c.fname], d)
    res.report("check.ipsec_disabled_ok",
               [] if rc == 0 and out.decode() == "%s: OK\n" % c.fname
               and not err else ["exit %s, stdout %r, stderr %r" %
                                 (rc, out, err)])

    # A file that is valid but names a device that cannot start: a clear
    # message that points at the device, and no runtime directory left.
    pfx = SCRATCH.new_prefix("nodev")
    missing = os.path.join(d, "no-such-input.pcap")
    t = edit(BASE.format(prefix=pfx), "    device: net_null0",
             '    device: "net_pcap0,rx_pcap=%s,tx_pcap=%s"' %
             (missing, os.path.join(d, "o.pcap")))
    c = CfgCase("missing_pcap", t, [])
    write_case_file(d, c)
    rc, out, err = run_cmd([TOLLGATE, "-c", c.fname], d, timeout=30)
    text = (out + err).decode(errors="replace")
    p = []
    if rc in (None, 0):
        p.append("exit code %s, want non-zero" % rc)
    dev_pos = pos(t, "device: ^\"net_pcap0")
    want_ref = "%s:%d:%d: ports[0].device: " % ((c.fname,) + dev_pos)
    if want_ref not in text:
        got = re.findall(r"%s:\d+:\d+: [^\n]*" % re.escape(c.fname), text)
        p.append("no line starting %r (the device value); got %s" %
                 (want_ref, got or "no FILE:LINE:COL line"))
    if "running" in out.decode(errors="replace"):
        p.append("it says it is running")
    res.report("run_broken.unstartable_device_points_at_device_value", p)
    left = os.path.exists(tel.runtime_dir(pfx))
    res.report("run_broken.unstartable_device_leaves_no_runtime_dir",
               ["%s left behind after the failed start" %
                tel.runtime_dir(pfx)] if left else [])
    shutil.rmtree(tel.runtime_dir(pfx), ignore_errors=True)

    # Nothing above may have created the runtime directory.
    res.report("check.no_runtime_dir_created",
               ["%s exists" % tel.runtime_dir(prefix)]
               if os.path.exists(tel.runtime_dir(prefix)) else [])


def run_cli(res):
    d = os.path.join(SCRATCH.tmp, "cli")
    os.makedirs(d)
    with open(os.path.join(d, "ok.yaml"), "w") as f:
        f.write(BASE.format(prefix=SCRATCH.new_prefix("cli")))
    for name, args, want in (
            ("no_config", [], r"a configuration file is needed"),
            ("unknown_option", ["--bogus", "-c", "ok.yaml", "--check"],
             r"unrecognized option"),
            ("extra_argument", ["-c", "ok.yaml", "--check", "extra"],
             r"unexpected argument 'extra'"),
            ("stats_period_word", ["-c", "ok.yaml", "--check",
                                   "--stats-period", "abc"],
             r"--stats-period: 0\.\.86400 seconds"),
            ("stats_period_too_big", ["-c", "ok.yaml", "--check",
                                      "--stats-period", "86401"],
             r"--stats-period: 0\.\.86400 seconds"),
            ("stats_period_empty", ["-c", "ok.yaml", "--check",
                                    "--stats-period", ""],
             r"--stats-period: 0\.\.86400 seconds")):
        rc, out, err = run_cmd([TOLLGATE] + args, d)
        p = []
        if rc != 2:
            p.append("exit code %s, want 2" % rc)
        if not re.search(want, err.decode(errors="replace")):
            p.append("stderr %r lacks /%s/" % (err[:200], want))
        if b": OK" in out:
            p.append("it validated the file anyway: %r" % out)
        res.report("cli." + name, p)


# ============================================================================
# Running tollgate on net_pcap ports
# ============================================================================

BCAST = "ff:ff:ff:ff:ff:ff"


class Tollgate(PcapTollgate):
    """One tollgate process on two net_pcap ports (harness.py's topology,
    without the neighbor 10.1.0.3), frames IN0 and IN1 in, EXTRA
    appended to its configuration."""

    tail_lines, tail_indent = 15, "| "

    def __init__(self, name, in0, in1, extra=""):
        super().__init__(SCRATCH, name, {0: in0, 1: in1})
        self.cfg = self.write_config("tollgate.yaml", pcap_yaml(
            "bad_input.py", self.prefix, self.files,
            neighbors=NEIGHBORS[:2], extra=extra))

    def start(self):
        return super().start(TOLLGATE, self.cfg)

    def settle(self, timeout=20.0):
        """Until every input frame is accounted for, stable over 3 reads.
        → (the last /tollgate/stats, whether it settled)."""
        with tel.Telemetry(self.prefix) as t:
            return wait_settled(t.cmd, self.n_in, timeout=timeout)


def exit_problems(tg):
    p = []
    if tg.rc != 0:
        p.append("exit code %s%s" % (
            tg.rc, " (signal %d)" % -tg.rc if tg.rc and tg.rc < 0 else ""))
    if not tg.final["found"]:
        p.append("no final counters printed")
    if tg.runtime_dir_left:
        p.append("runtime dir %s left behind" % tel.runtime_dir(tg.prefix))
    if p:
        p.append(tg.tail())
    return p


def invariant_problems(tg, drop_names):
    """rx + generated == tx + host + sum(drops), every drop named."""
    f = tg.final
    t = f["totals"]
    p = []
    if not all(k in t for k in ("rx", "tx", "host", "generated",
                                "dropped")):
        return ["summary lacks rx/tx/host/generated/dropped: %s" % t]
    dsum = sum(f["drops"].values())
    if t["rx"] + t["generated"] != t["tx"] + t["host"] + dsum:
        p.append("rx %d + generated %d != tx %d + host %d + drops %d" % (
            t["rx"], t["generated"], t["tx"], t["host"], dsum))
    if t["dropped"] != dsum:
        p.append("dropped %d, but the drop lines add up to %d" %
                 (t["dropped"], dsum))
    if f["odd"]:
        p.append("drop lines not in 'drop NAME N (why)' form: %s" % f["odd"])
    unnamed = [k for k in f["drops"] if drop_names and k not in drop_names]
    if unnamed:
        p.append("drop reasons unknown to /tollgate/stats: %s" % unnamed)
    for k, v in f["drops"].items():
        if not re.fullmatch(r"[a-z]+\.[a-z_]+", k) or \
                not f["drop_desc"].get(k):
            p.append("drop %r has no proper name/description" % k)
    return p


# ============================================================================
# Part 2: telemetry garbage
# ============================================================================

def raw_request(prefix, payload, timeout=5.0):
    """Send @payload (bytes) on a fresh connection; the raw reply, b"" when
    the server closed the connection, None when it refused (greeting
    missing: DPDK serves at most 10 clients at once)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(tel.socket_path(prefix))
        g = s.recv(4096)
        if not g:
            return None
        s.send(payload)
        return s.recv(1 << 17)
    finally:
        s.close()


BAD_PAGE = ["abc", "-1", "1,0", "1,", "99999999999999999999", "1,2,3",
            "9" * 1000, "x" * 1000, " 1", "+1", "0x10", "1,,", "1,-5",
            "1,99999999999999999999", "4294967296", ",5", "1.5", "1;2",
            "0,abc", "1" * 2000]


def reply_of(raw, cmd):
    """The value of the JSON reply to @cmd, or raise ValueError."""
    obj = json.loads(raw.decode())
    if not isinstance(obj, dict) or list(obj) != [cmd]:
        raise ValueError("reply is not {%r: ...}: %r" % (cmd, raw[:200]))
    return obj[cmd]


def is_error(v):
    return isinstance(v, dict) and list(v) == ["error"] and \
        isinstance(v["error"], str) and len(v["error"]) > 5


def traffic_frames(n):
    """Valid lan → 16/8 UDP frames (forwarded to the static wan router)."""
    return [bytes(Ether(src=H0, dst="02:00:00:00:ff:00") /
                  IP(src="10.0.0.2", dst="16.0.0.%d" % (1 + i % 200),
                     id=i) / UDP(sport=1000 + i, dport=53) /
                  ("tel-%d" % i)) for i in range(n)]


def run_telemetry(res):
    n_frames = 200
    tg = Tollgate("tel", traffic_frames(n_frames), [])
    if not tg.start():
        tg.stop()
        res.report("telemetry.start", [tg.error, tg.tail()])
        return
    prefix = tg.prefix
    try:
        stats0, settled = tg.settle()
        with tel.Telemetry(prefix) as t:
            cfg0 = t.cmd("/tollgate/config")
            routes0 = t.paged("/tollgate/routes", "routes")
            ifaces0 = t.cmd("/tollgate/interfaces")
        p = [] if settled else ["traffic never settled: %s" % {
            k: stats0.get(k) for k in ("rx", "tx", "in_rings")}]
        if not isinstance(cfg0, dict) or cfg0.get("generation") != 1:
            p.append("/tollgate/config: %r" % cfg0)
        if len(routes0) != 6:
            p.append("%d routes, want 6 (2 connected, 2 static, 2 local)" %
                     len(routes0))
        res.report("telemetry.baseline", p)
        drop_names = set(tel.drops_flat(stats0))

        # One bad request at a time, each on its own connection.
        p = []
        for cmd in ("/tollgate/routes", "/tollgate/neighbors"):
            for prm in BAD_PAGE:
                raw = raw_request(prefix, ("%s,%s" % (cmd, prm)).encode())
                try:
                    v = reply_of(raw, cmd)
                    if not is_error(v):
                        p.append("%s,%s: %r, want {\"error\": ...}" % (
                            cmd, prm[:30], v if len(repr(v)) < 200 else
                            repr(v)[:200]))
                except (ValueError, AttributeError) as e:
                    p.append("%s,%s: %s (raw %r)" % (cmd, prm[:30], e,
                                                     (raw or b"")[:120]))
            raw = raw_request(prefix, cmd.encode() + b",\xff\xfe\x00\x01")
            try:
                if not is_error(reply_of(raw, cmd)):
                    p.append("%s,<binary>: %r" % (cmd, raw[:200]))
            except (ValueError, AttributeError) as e:
                p.append("%s,<binary>: %s (raw %r)" % (cmd, e, raw))
        res.report("telemetry.bad_page_parameters_get_error", p)

        p = []
        for cmd in ("/tollgate/stats", "/tollgate/interfaces",
                    "/tollgate/host", "/tollgate/config"):
            for prm in ("foo", "0", "x" * 1000):
                raw = raw_request(prefix, ("%s,%s" % (cmd, prm)).encode())
                try:
                    v = reply_of(raw, cmd)
                    if not is_error(v) or "no parameter" not in v["error"]:
                        p.append("%s,%s: %r" % (cmd, prm[:20], v))
                except (ValueError, AttributeError) as e:
                    p.append("%s,%s: %s" % (cmd, prm[:20], e))
        res.report("telemetry.parameters_to_parameterless_get_error", p)

        p = []
        for cmd in ("/tollgate/nope", "/tollgate/", "/tollgate/stats/x",
                    "/tollgate/STATS", "/tollgate/routesx,1",
                    "/tollgate/" + "a" * 2000):
            raw = raw_request(prefix, cmd.encode())
            key = cmd.split(",")[0]
            try:
                obj = json.loads(raw.decode())
                if not isinstance(obj, dict) or len(obj) != 1 or \
                        list(obj.values()) != [None]:
                    p.append("%s: %r, want null" % (key[:40], raw[:200]))
            except ValueError as e:
                p.append("%s: %s (raw %r)" % (key[:40], e, raw[:200]))
        res.report("telemetry.unknown_commands_answer_null", p)

        # Good edge cases of paging still work.
        p = []
        with tel.Telemetry(prefix) as t:
            for prm, want_n, want_next in (("0,2", 2, 2), ("5", 1, None),
                                           ("6", 0, None),
                                           ("4294967295", 0, None),
                                           ("0,121", 6, None), ("", 6, None)):
                v = t.cmd("/tollgate/routes", prm)
                if not isinstance(v, dict) or is_error(v):
                    p.append("routes,%s: %r" % (prm, v))
                    continue
                n = len(v.get("routes") or {})
                if n != want_n or v.get("next") != want_next or \
                        v.get("total") != 6:
                    p.append("routes,%s: %d entries, next %s, total %s; "
                             "want %d, %s, 6" % (prm, n, v.get("next"),
                                                 v.get("total"), want_n,
                                                 want_next))
        res.report("telemetry.good_paging_edges", p)

        # An empty message closes that client only (DPDK reads 0 bytes).
        p = []
        try:
            raw = raw_request(prefix, b"", timeout=2)
            if raw not in (b"", None):
                reply_of(raw, "")
        except (OSError, ValueError):
            pass
        try:
            if tel.query(prefix, "/tollgate/config").get("generation") != 1:
                p.append("config changed after an empty message")
        except tel.TelemetryError as e:
            p.append("no answer after an empty message: %s" % e)
        if not tg.alive():
            p.append("tollgate exited")
        res.report("telemetry.empty_message_harmless", p)

        run_concurrent(res, tg, cfg0)

        # Afterwards: same configuration, same tables, still answering,
        # and no packet counted that was not sent.
        p = []
        if not tg.alive():
            p.append("tollgate exited (code %s)\n%s" % (tg.p.poll(),
                                                         tg.tail()))
        else:
            with tel.Telemetry(prefix) as t:
                cfg1 = t.cmd("/tollgate/config")
                routes1 = t.paged("/tollgate/routes", "routes")
                ifaces1 = t.cmd("/tollgate/interfaces")
                s1 = t.cmd("/tollgate/stats")
            for k in set(cfg0) | set(cfg1):
                if k != "uptime_s" and cfg0.get(k) != cfg1.get(k):
                    p.append("config.%s: %r, was %r" % (k, cfg1.get(k),
                                                        cfg0.get(k)))
            if routes1 != routes0:
                p.append("routes changed: %s" % routes1)
            if ifaces1 != ifaces0:
                p.append("interfaces changed: %s" % ifaces1)
            for k in ("rx", "tx", "generated"):
                if s1.get(k) != stats0.get(k):
                    p.append("stats %s %s, was %s" % (k, s1.get(k),
                                                      stats0.get(k)))
        res.report("telemetry.configuration_and_counters_unchanged", p)

        # SIGINT while clients are connected and asking.
        stop = threading.Event()
        errors = []

        def hammer(i):
            cmds = ["/tollgate/stats", "/tollgate/neighbors,0,120",
                    "/tollgate/routes,0,3", "/tollgate/config",
                    "/tollgate/routes,abc"]
            k = 0
            while not stop.is_set():
                try:
                    with tel.Telemetry(prefix, timeout=2) as t:
                        for _ in range(20):
                            t.cmd(cmds[(i + k) % len(cmds)])
                            k += 1
                except (tel.TelemetryError, OSError):
                    time.sleep(0.01)
                except Exception as e:  # noqa: BLE001 - record it
                    errors.append(repr(e))

        hs = [threading.Thread(target=hammer, args=(i,), daemon=True)
              for i in range(6)]
        for h in hs:
            h.start()
        time.sleep(0.5)
    except (tel.TelemetryError, OSError, KeyError) as e:
        res.report("telemetry.run", ["telemetry: %s" % e, tg.tail()])
        tg.stop()
        return
    t0 = time.monotonic()
    tg.stop(timeout=15)
    took = time.monotonic() - t0
    stop.set()
    for h in hs:
        h.join(5)
    p = exit_problems(tg)
    if took > 10:
        p.append("SIGINT took %.1f s" % took)
    res.report("telemetry.sigint_with_clients_connected_exits_0", p)
    p = invariant_problems(tg, drop_names)
    t = tg.final["totals"]
    if t.get("rx") != n_frames or t.get("tx") != n_frames:
        p.append("rx %s tx %s, want %d each (forwarded traffic)" % (
            t.get("rx"), t.get("tx"), n_frames))
    res.report("telemetry.final_counters_add_up", p)


def run_concurrent(res, tg, cfg0):
    """20 clients × 50 requests, good and bad mixed, each checked."""
    prefix = tg.prefix
    reqs = [("/tollgate/stats", "", "stats"),
            ("/tollgate/routes", "abc", "bad"),
            ("/tollgate/routes", "0,2", "routes"),
            ("/tollgate/neighbors", "1,0", "bad"),
            ("/tollgate/config", "", "config"),
            ("/tollgate/nope", "", "null"),
            ("/tollgate/routes", "99999999999999999999", "bad"),
            ("/tollgate/neighbors", "0,120", "neighbors"),
            ("/tollgate/stats", "foo", "bad"),
            ("/tollgate/interfaces", "", "interfaces"),
            ("/tollgate/routes", "1,2,3", "bad"),
            ("/tollgate/routes", "x" * 1000, "bad")]
    n_threads, n_req = 20, 50
    problems = []
    counts = {"ok": 0, "refused": 0, "busy": 0, "reconnects": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + 40

    def check(kind, v):
        if kind == "bad":
            return is_error(v)
        if kind == "null":
            return v is None
        if kind == "stats":
            return isinstance(v, dict) and "rx" in v and "drops" in v
        if kind == "routes":
            return isinstance(v, dict) and v.get("total") == 6 and \
                len(v.get("routes") or {}) == 2 and v.get("next") == 2
        if kind == "neighbors":
            return isinstance(v, dict) and "total" in v
        if kind == "config":
            return isinstance(v, dict) and \
                v.get("generation") == cfg0.get("generation") and \
                v.get("file") == cfg0.get("file")
        if kind == "interfaces":
            return isinstance(v, dict) and set(v) == {"lan0", "wan0"}
        return False

    def client(tid):
        sock = None
        done = 0
        mine = []
        while done < n_req and time.monotonic() < deadline:
            if sock is None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                sock.settimeout(5)
                try:
                    sock.connect(tel.socket_path(prefix))
                    g = sock.recv(4096)
                except (BlockingIOError, ConnectionRefusedError):
                    # DPDK listens with a backlog of 1: a busy accept
                    # queue is the server's limit, not an answer.
                    with lock:
                        counts["busy"] += 1
                    sock.close()
                    sock = None
                    time.sleep(0.01)
                    continue
                except OSError as e:
                    mine.append("connect: %s" % e)
                    sock.close()
                    sock = None
                    time.sleep(0.02)
                    continue
                if not g:        # DPDK's limit of 10 clients: try again
                    with lock:
                        counts["refused"] += 1
                    sock.close()
                    sock = None
                    time.sleep(0.01)
                    continue
            cmd, prm, kind = reqs[(tid * 5 + done) % len(reqs)]
            msg = cmd if not prm else "%s,%s" % (cmd, prm)
            try:
                sock.send(msg.encode())
                raw = sock.recv(1 << 17)
                v = reply_of(raw, cmd)
                if not check(kind, v):
                    mine.append("%s (%s): %r" % (msg[:40], kind,
                                                 repr(v)[:160]))
                else:
                    with lock:
                        counts["ok"] += 1
            except (OSError, ValueError) as e:
                mine.append("%s: %s" % (msg[:40], e))
            done += 1
            if done % 10 == 0:   # churn: new connection every 10
                sock.close()
                sock = None
                with lock:
                    counts["reconnects"] += 1
        if sock is not None:
            sock.close()
        if done < n_req:
            mine.append("client %d did only %d of %d requests" %
                        (tid, done, n_req))
        with lock:
            problems.extend(mine)

    t0 = time.monotonic()
    ths = [threading.Thread(target=client, args=(i,), daemon=True)
           for i in range(n_threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    log("concurrent: %s in %.1f s" % (counts, time.monotonic() - t0))
    p = []
    if problems:
        p.append("%d of %d requests answered wrongly or not at all" %
                 (len(problems), n_threads * n_req))
        p += problems[:10]
    if counts["ok"] != n_threads * n_req:
        p.append("%d good answers, want %d" % (counts["ok"],
                                               n_threads * n_req))
    if not tg.alive():
        p.append("tollgate exited\n%s" % tg.tail())
    res.report("telemetry.concurrent_20_clients_x_50_mixed_requests", p)


SPAM = r"""
import os, socket, sys, time
path, secs = sys.argv[1], float(sys.argv[2])
try:
    os.sched_setaffinity(0, {int(sys.argv[3])})
except (OSError, ValueError):
    pass
end = time.time() + secs
while time.time() < end:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(1)
        s.connect(path)
        if not s.recv(4096):
            s.close()
            time.sleep(0.005)
            continue
        while time.time() < end:
            s.send(b"/tollgate/stats")
            if not s.recv(1 << 17):
                break
        s.close()
    except OSError:
        time.sleep(0.005)
"""


def run_sigint_stress(res, cycles=8, budget=14.0):
    """SIGINT while clients ask for /tollgate/stats as fast as they can,
    several times: tollgate must stop with exit 0 every time. The
    clients run on the worker's CPU so that the telemetry threads have
    the control CPU (the main lcore's) to themselves, as on an appliance
    with a busy dashboard: that is when a stop races the answers."""
    tg_empty = []
    t_end = time.monotonic() + budget
    p = []
    done = 0
    cpu = "1" if os.cpu_count() and os.cpu_count() > 1 else "0"
    for cyc in range(cycles):
        if time.monotonic() > t_end:
            break
        tg = Tollgate("sigint%d" % cyc, tg_empty, tg_empty)
        if not tg.start():
            tg.stop()
            p.append("cycle %d: %s\n%s" % (cyc, tg.error, tg.tail()))
            break
        spam = [subprocess.Popen(
            [sys.executable, "-c", SPAM, tel.socket_path(tg.prefix), "5",
             cpu], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL) for _ in range(6)]
        time.sleep(0.3 + 0.3 * random.Random(cyc).random())
        tg.stop(timeout=15)
        for h in spam:
            h.kill()
            h.wait()
        done += 1
        q = exit_problems(tg)
        if q:
            p.append("cycle %d: %s" % (cyc + 1, q[0]))
            p += q[1:]
            break
    if p:
        p[0] = "%s (after %d stop(s) under telemetry load)" % (p[0], done)
    log("sigint stress: %d cycles" % done)
    res.report("telemetry.sigint_under_stats_load_exits_0", p)


# ============================================================================
# Part 3: malformed packet storm
# ============================================================================

def fix_ip_cksum(fr):
    fr = bytearray(fr)
    if len(fr) >= 34 and fr[12:14] == b"\x08\x00":
        ihl = (fr[14] & 0xF) * 4
        if ihl >= 20 and 14 + ihl <= len(fr):
            fr[24:26] = b"\0\0"
            fr[24:26] = struct.pack("!H", checksum(bytes(fr[14:14 + ihl])))
    return bytes(fr)


def storm_frames(seed, us, port_ip, peer_mac, n):
    """@n malformed or unusual frames for one port, reproducible."""
    rnd = random.Random(seed)
    random.seed(seed)            # scapy's fuzz() draws from `random`
    routed = ["16.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256),
                               rnd.randrange(1, 255)) for _ in range(8)]
    subnet = port_ip.rsplit(".", 1)[0]
    dsts = routed + ["48.1.2.3", "10.0.0.2", "10.1.0.2", "10.0.0.1",
                     "10.1.0.1", "%s.77" % subnet, "%s.255" % subnet,
                     "99.1.2.3", "224.0.0.5", "255.255.255.255"]
    eth = Ether(src=peer_mac, dst=us)

    def l4():
        return rnd.choice([UDP, TCP, ICMP])

    def good():
        k = rnd.randrange(5)
        ip = IP(src=rnd.choice(["10.0.0.2", "10.1.0.2", "16.1.1.1",
                                "48.0.0.9", "%s.9" % subnet]),
                dst=rnd.choice(dsts), ttl=rnd.choice([0, 1, 2, 64]),
                id=rnd.randrange(65536),
                flags=rnd.choice([0, 2]))
        if k == 4:
            return bytes(Ether(src=peer_mac, dst=BCAST) /
                         ARP(op=rnd.choice([1, 2]), hwsrc=peer_mac,
                             psrc="%s.%d" % (subnet, rnd.randrange(1, 255)),
                             pdst=rnd.choice([port_ip, "%s.50" % subnet])))
        return bytes(eth / ip / l4()() /
                     Raw(bytes(rnd.randrange(256)
                               for _ in range(rnd.randrange(0, 1400)))))

    frames = []
    while len(frames) < n:
        k = rnd.randrange(100)
        try:
            if k < 22:      # fuzzed IPv4 + L4, version kept at 4
                ip = fuzz(IP(version=4, dst=rnd.choice(dsts),
                             src=rnd.choice(["10.0.0.2", "10.1.0.2"])))
                fr = bytes(eth / ip / fuzz(l4()()) /
                           Raw(b"s" * rnd.randrange(0, 64)))
            elif k < 30:    # fuzzed IPv4, everything random
                fr = bytes(eth / fuzz(IP() / l4()()))
            elif k < 42:    # fuzzed ARP
                fr = bytes(Ether(src=peer_mac, dst=rnd.choice([BCAST, us])) /
                           fuzz(ARP(pdst=rnd.choice([port_ip, "%s.50" %
                                                     subnet]))))
            elif k < 47:    # fuzzed ARP, every field random
                a = fuzz(ARP())
                a.hwlen, a.plen = rnd.choice([(6, 4), (None, None)]) \
                    if rnd.random() < 0.5 else (rnd.randrange(256),
                                                rnd.randrange(256))
                fr = bytes(Ether(src=peer_mac, dst=BCAST, type=0x0806) /
                           Raw(bytes(a)[:rnd.randrange(0, 60)]))
            elif k < 57:    # random bytes after an Ethernet header
                et = rnd.choice([b"\x08\x00", b"\x08\x06", b"\x86\xdd",
                                 b"\x81\x00", bytes([rnd.randrange(256),
                                                     rnd.randrange(256)])])
                fr = bytes(eth)[:12] + et + bytes(
                    rnd.randrange(256) for _ in range(rnd.randrange(0, 200)))
                if rnd.random() < 0.5:
                    fr = fix_ip_cksum(fr)
            elif k < 62:    # random bytes, random length
                fr = bytes(rnd.randrange(256)
                           for _ in range(rnd.randrange(0, 120)))
            elif k < 77:    # a good frame, truncated
                g = good()
                fr = g[:rnd.randrange(0, len(g))]
            elif k < 92:    # a good frame with a few bytes changed
                fr = bytearray(good())
                for _ in range(rnd.randrange(1, 6)):
                    i = rnd.randrange(min(len(fr), 80))
                    fr[i] = rnd.randrange(256)
                fr = bytes(fr)
                if rnd.random() < 0.6:
                    fr = fix_ip_cksum(fr)
            elif k < 94:    # IP total length / padding lies
                fr = bytearray(good())
                if fr[12:14] == b"\x08\x00":
                    fr[16:18] = struct.pack("!H", rnd.choice(
                        [0, 19, 20, 21, len(fr) - 14 + 1, 65535,
                         len(fr) - 30]))
                    fr = fix_ip_cksum(fr)
                fr = bytes(fr) + b"\xee" * rnd.randrange(0, 30)
            elif k < 96:    # jumbo: more than one mbuf
                fr = bytes(eth / IP(src="10.0.0.2", dst=routed[0]) /
                           UDP() / (b"J" * rnd.choice([1600, 2100, 4000,
                                                       9000, 16000])))
            elif k < 97:    # empty and one-byte frames
                fr = b"" if rnd.random() < 0.5 else b"\x45"
            else:           # plain good traffic, which must still pass
                fr = good()
        except Exception:   # noqa: BLE001 - scapy refused a fuzzed field
            continue
        frames.append(fr)
    return frames


def frame_problems(fr, port_mac):
    """What is wrong with a frame tollgate sent (empty: nothing)."""
    if len(fr) < 14:
        return ["%d-byte frame" % len(fr)]
    p = []
    if fr[6:12] != bytes.fromhex(port_mac.replace(":", "")):
        p.append("source MAC %s is not the port's %s" % (
            fr[6:12].hex(":"), port_mac))
    et = struct.unpack("!H", fr[12:14])[0]
    if et == 0x0806:
        if len(fr) < 42:
            p.append("ARP frame of %d bytes" % len(fr))
        return p
    if et != 0x0800:
        return p + ["ethertype 0x%04x" % et]
    ip = fr[14:]
    if len(ip) < 20 or ip[0] >> 4 != 4 or (ip[0] & 0xF) < 5:
        return p + ["bad IPv4 header %s" % ip[:20].hex()]
    ihl = (ip[0] & 0xF) * 4
    tl = struct.unpack("!H", ip[2:4])[0]
    if tl != len(ip):
        p.append("total length %d, %d bytes after Ethernet" % (tl, len(ip)))
    if checksum(ip[:ihl]) != 0:
        p.append("IPv4 header checksum wrong")
    if ip[8] == 0:
        p.append("TTL 0 sent")
    ours = ip[12:16] in (bytes([10, 0, 0, 1]), bytes([10, 1, 0, 1]))
    if ours and ip[9] == 1 and len(ip) >= ihl + 8 and ip[ihl] in (3, 11):
        # An ICMP error tollgate made (forwarded ones are left as they are)
        if len(ip) > 576:
            p.append("ICMP error of %d bytes" % len(ip))
        if checksum(ip[ihl:tl]) != 0:
            p.append("ICMP checksum wrong")
    return p


def run_storm(res):
    # The MACs only matter for realism: no MAC filter at RX.
    us0, us1 = "02:00:00:00:ff:00", "02:00:00:00:ff:01"
    t0 = time.monotonic()
    in0 = storm_frames(11, us0, "10.0.0.1", H0, 2000)
    in1 = storm_frames(12, us1, "10.1.0.1", H1, 1500)
    log("storm: %d + %d frames built in %.1f s" % (
        len(in0), len(in1), time.monotonic() - t0))
    tg = Tollgate("storm", in0, in1, extra="""\
arp:
  retry_ms: 20
  max_retries: 1
  failed_hold_s: 0
icmp:
  rate: 1000
  burst: 100
""")
    if not tg.start():
        tg.stop()
        res.report("storm.run", [tg.error, tg.tail()])
        return
    drop_names = set()
    macs = {}
    try:
        stats, settled = tg.settle(timeout=30)
        drop_names = set(tel.drops_flat(stats))
        with tel.Telemetry(tg.prefix) as t:
            macs = {v["port"]: v["mac"].lower()
                    for v in t.cmd("/tollgate/interfaces").values()}
        alive = tg.alive()
    except (tel.TelemetryError, OSError, KeyError) as e:
        settled, alive, stats = False, tg.alive(), {"error": str(e)}
    tg.stop()
    p = exit_problems(tg)
    if not alive:
        p.insert(0, "tollgate died during the storm")
    res.report("storm.survives_and_exits_0", p)

    p = invariant_problems(tg, drop_names)
    t = tg.final["totals"]
    if not settled:
        p.append("counters never settled: %s" % {
            k: stats.get(k) for k in ("rx", "tx", "generated", "in_rings",
                                      "error") if k in stats})
    if t.get("rx") != len(in0) + len(in1):
        p.append("rx %s, %d frames were in the pcaps" % (
            t.get("rx"), len(in0) + len(in1)))
    for k in ("pipeline.bad_verdict", "pipeline.tx_invalid_port"):
        if tg.final["drops"].get(k):
            p.append("internal error counter %s = %d" % (
                k, tg.final["drops"][k]))
    res.report("storm.rx_plus_generated_eq_tx_plus_host_plus_named_drops", p)
    log("storm drops: %s" % tg.final["drops"])
    log("storm events: %s" % tg.final["events"])

    outs = tg.outputs
    p = []
    n_out = sum(len(o or []) for o in outs.values())
    if t.get("tx") != n_out:
        p.append("tx %s, the output pcaps hold %d frames" % (t.get("tx"),
                                                             n_out))
    for port, name, n_in in ((0, "p0", len(in0)), (1, "p1", len(in1))):
        got = tg.final["ports"].get(name)
        want = (n_in, len(outs[port] or []))
        if got != want:
            p.append("port %s rx/tx %s, want %s" % (name, got, want))
    res.report("storm.port_counters_match_pcaps", p)

    p = []
    bad = 0
    for port, name in ((0, "p0"), (1, "p1")):
        for i, fr in enumerate(outs[port] or []):
            fp = frame_problems(fr, macs.get(name, "00:00:00:00:00:00"))
            if fp:
                bad += 1
                if len(p) < 8:
                    p.append("port %d frame %d: %s: %s" % (
                        port, i, "; ".join(fp), fr[:48].hex()))
    if bad:
        p.insert(0, "%d of %d frames sent are malformed" % (bad, n_out))
    if n_out == 0:
        p.append("nothing was sent at all (good frames are in the mix)")
    log("storm: %d frames sent, %d malformed" % (n_out, bad))
    res.report("storm.every_frame_sent_is_well_formed", p)


# ============================================================================

def main():
    a = SCRATCH.parse_args(__doc__)
    res = Results(a.k)
    t0 = time.monotonic()
    if preflight(res):
        if res.part_wanted("check") or res.part_wanted("run_broken"):
            run_config(res)
        if res.part_wanted("cli"):
            run_cli(res)
        if res.part_wanted("telemetry"):
            run_telemetry(res)
            run_sigint_stress(res)
        if res.part_wanted("storm"):
            run_storm(res)
    log("%.1f s" % (time.monotonic() - t0))
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
