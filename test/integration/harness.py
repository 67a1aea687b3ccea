# SPDX-License-Identifier: BSD-3-Clause
"""Pieces shared by the integration test scripts.

report() prints "PASS name" or "FAIL name: why" and counts it; finish()
prints the final "N passed, N failed" line and returns the exit status
(1 if anything failed). Results does the same for scripts that take -k
SUBSTRING and report a list of problems per case. TOLLGATE and
TOLLGATECTL: the binaries (the build's, or as the environment says).
preflight() reports whether tollgate can run at all (built, root);
scapy_missing() says what to do without scapy. write_pcap() and
read_pcap() write and read the pcaps of a net_pcap port.
start_tollgate() and stop_tollgate() run tollgate on a configuration
file and stop it with SIGINT.

For the scripts that run tollgate on two net_pcap ports (run.py,
filters.py, bad_input.py, ipsec.py): Scratch (the temporary directory, EAL file
prefixes, processes and namespaces to clean up at exit; the options -v,
--keep and -k; log()), pcap_yaml() (the configuration of their common
topology), PcapTollgate (one such run: its folder, pcaps, output lines,
final summary), wait_settled() (until every packet is accounted for)
and parse_final() (the counter summary tollgate prints when it stops).
Frames they expect, built with scapy (imported when needed): ip_of(),
forwarded(), icmp_error_ip(); tag() marks a payload with its case.

Import it from a script in test/integration (its folder is on sys.path
when the script runs; put test/ there first, for tgtelemetry):

    from harness import finish, report  # noqa: E402
"""
import argparse
import atexit
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

import tgtelemetry as tel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TOLLGATE = os.path.abspath(os.environ.get(
    "TOLLGATE", os.path.join(ROOT, "build/app/tollgate/tollgate")))
TOLLGATECTL = os.path.abspath(os.environ.get(
    "TOLLGATECTL", os.path.join(ROOT, "build/app/tollgatectl/tollgatectl")))

passed = failed = 0


def report(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why))


def finish():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


class Results:
    """PASS/FAIL per case (only those -k selects), then the final line."""

    def __init__(self, only=None):
        self.passed = 0
        self.failed = 0
        self.only = only

    def wanted(self, name):
        return self.only is None or any(o in name for o in self.only)

    def part_wanted(self, part):
        """Whether a part (cases named part.*) has a case -k may select."""
        return self.only is None or any(o in part or o.startswith(part)
                                        for o in self.only)

    def report(self, name, problems):
        if not self.wanted(name):
            return
        if problems:
            self.failed += 1
            print("FAIL %s: %s" % (name, problems[0]))
            for extra in problems[1:]:
                print("     " + str(extra).replace("\n", "\n     "))
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def preflight(res):
    """True when TOLLGATE is built and this runs as root; otherwise a
    FAIL "build" or "root" on RES (a Results) and False."""
    if not os.access(TOLLGATE, os.X_OK):
        res.report("build", ["%s not found: run ./scripts/build.sh" %
                             TOLLGATE])
    elif os.geteuid() != 0:
        res.report("root", ["run as root (EAL runtime files, net_pcap)"])
    else:
        return True
    return False


def scapy_missing():
    """Says so, and that nothing passed: → the exit status."""
    print("scapy is missing: run with /usr/bin/python3 (apt-get install "
          "python3-scapy)")
    print("0 passed, 1 failed")
    return 1


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)))
            f.write(fr)


def read_pcap(path):
    """The frames of a pcap file, as bytes; None when there is no file.
    No dissection: some of what bad_input.py's storm produces sends
    scapy into endless recursion."""
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def start_tollgate(tollgate, config, prefix, cwd):
    """tollgate -c CONFIG with EAL file prefix PREFIX; stdout and stderr
    together, as text, for stop_tollgate()."""
    return subprocess.Popen([tollgate, "-c", config, "--", "--file-prefix",
                             prefix], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)


def stop_tollgate(p, timeout=20):
    """SIGINT (if still running), wait (kill after TIMEOUT seconds);
    → everything it printed. Its exit status is p.returncode."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out


# ---- runs on two net_pcap ports ---------------------------------------------

class Scratch:
    """What a script's runs leave behind until it exits: a temporary
    directory (.tmp, named NAME-...), the tollgate processes that may
    still run (.live), the EAL file prefixes used (.prefixes, NAME-PID-
    RUN: their runtime dirs) and network namespaces (.netns). At exit
    (SIGTERM too) the processes get SIGINT (SIGKILL after 5 s) and the
    rest is removed; .keep (--keep) keeps the directory. log() prints
    only when .verbose (-v); parse_args() sets both."""

    def __init__(self, name):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix=name + "-")
        self.live = []
        self.prefixes = []
        self.netns = []
        self.verbose = False
        self.keep = False
        atexit.register(self.cleanup)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))

    def parse_args(self, doc, more=()):
        """The command line of a script whose docstring is DOC: -v
        (log()), --keep, -k SUBSTRING (for Results) and MORE [(flag,
        {add_argument's keywords})]. → the parsed arguments."""
        ap = argparse.ArgumentParser(description=doc.split("\n")[0])
        ap.add_argument("-v", "--verbose", action="store_true")
        ap.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (pcaps, YAML)")
        ap.add_argument("-k", action="append", metavar="SUBSTRING",
                        help="report only cases whose name contains it")
        for flag, kw in more:
            ap.add_argument(flag, **kw)
        a = ap.parse_args()
        self.verbose, self.keep = a.verbose, a.keep
        return a

    def log(self, msg):
        if self.verbose:
            print("  # " + msg, flush=True)

    def new_prefix(self, run):
        prefix = "%s-%d-%s" % (self.name, os.getpid(), run)
        self.prefixes.append(prefix)
        return prefix

    def cleanup(self):
        for p in self.live:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for prefix in self.prefixes:
            shutil.rmtree(tel.runtime_dir(prefix), ignore_errors=True)
        for ns in self.netns:
            subprocess.run(["ip", "netns", "del", ns],
                           stderr=subprocess.DEVNULL, check=False)
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            print("kept %s" % self.tmp)


# The topology of every run:
#
#   lan hosts 10.0.0.0/24, 48/8 behind 10.0.0.2
#        │ port 0 (p0, lan0 10.0.0.1/24)
#     tollgate
#        │ port 1 (p1, wan0 10.1.0.1/24)
#   wan: router 10.1.0.2 (16/8 behind it), host 10.1.0.3
#
LAN_IP, WAN_IP = "10.0.0.1", "10.1.0.1"
H0 = "02:00:00:00:00:02"    # 10.0.0.2, static neighbor on lan0
H1 = "02:00:00:00:01:02"    # 10.1.0.2, static neighbor on wan0 (router)
H1B = "02:00:00:00:01:03"   # 10.1.0.3, static neighbor on wan0 (host)
NEIGHBORS = [("10.0.0.2", H0, "lan0"), ("10.1.0.2", H1, "wan0"),
             ("10.1.0.3", H1B, "wan0")]


def pcap_yaml(script, prefix, files, if_lines=None, neighbors=NEIGHBORS,
              extra="", routes=()):
    """The configuration of that topology, written by SCRIPT: EAL file
    prefix PREFIX, the pcaps FILES (in0, out0, in1, out1), IF_LINES
    {interface: [YAML lines]} after an interface's address, ROUTES
    [(prefix, via, interface)] after the two routes every run has, the
    static NEIGHBORS [(address, MAC, interface)], then EXTRA."""
    ifs = []
    for ifname, port, addr in (("lan0", "p0", LAN_IP), ("wan0", "p1", WAN_IP)):
        ifs += ["  - name: %s" % ifname, "    port: %s" % port,
                "    address: %s/24" % addr]
        ifs += (if_lines or {}).get(ifname, [])
    more_routes = "".join(
        "\n  - prefix: %s\n    via: %s\n    interface: %s" % r
        for r in routes)
    neigh = []
    for addr, mac, ifname in neighbors:
        neigh += ["  - address: %s" % addr, "    mac: \"%s\"" % mac,
                  "    interface: %s" % ifname]
    return """# generated by test/integration/{script}
dpdk:
  lcores: "0-1"
  memory_mb: 256
  no_huge: true
  file_prefix: {prefix}
mempool:
  mbufs: 4095
  cache: 64
ports:
  - name: p0
    device: "net_pcap0,rx_pcap={in0},tx_pcap={out0}"
  - name: p1
    device: "net_pcap1,rx_pcap={in1},tx_pcap={out1}"
interfaces:
{ifs}
routes:
  - prefix: 16.0.0.0/8
    via: 10.1.0.2
    interface: wan0
  - prefix: 48.0.0.0/8
    via: 10.0.0.2
    interface: lan0{more_routes}
neighbors:
{neigh}
{extra}""".format(script=script, prefix=prefix, ifs="\n".join(ifs),
                  neigh="\n".join(neigh), extra=extra,
                  more_routes=more_routes, **files)


# ---- expected frames (scapy and plain byte arithmetic) ----------------------

ICMP_ERR_MAX = 576          # RFC 1812 4.3.2.3: whole error IP packet


def tag(name):
    """Payload marker: lets a stray output packet name its case."""
    return ("<tg:%s>" % name).encode()


def ip_of(frame):
    """The IP packet inside an Ethernet frame, without Ethernet padding."""
    ip = frame[14:]
    return ip[:struct.unpack("!H", ip[2:4])[0]]


def forwarded(frame, dst_mac, src_mac):
    """What a router sends for @frame: new MACs, TTL - 1, fresh checksum
    (computed over the whole header, not incrementally), padding gone."""
    from scapy.all import Ether
    from scapy.utils import checksum
    ip = bytearray(ip_of(frame))
    ihl = (ip[0] & 0xF) * 4
    ip[8] -= 1
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", checksum(bytes(ip[:ihl])))
    return bytes(Ether(dst=dst_mac, src=src_mac, type=0x0800)) + bytes(ip)


def icmp_error_ip(src_ip, orig_ip, icmp_type, code, next_mtu=0):
    """RFC 792 error about @orig_ip (bytes), within 576 bytes of IP;
    @next_mtu in the low 16 bits of the second word (RFC 1191)."""
    from scapy.all import IP, Raw
    from scapy.utils import checksum
    quote = orig_ip[:ICMP_ERR_MAX - 20 - 8]
    body = struct.pack("!BBHHH", icmp_type, code, 0, 0, next_mtu) + quote
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    orig_src = "%d.%d.%d.%d" % tuple(orig_ip[12:16])
    return bytes(IP(src=src_ip, dst=orig_src, ttl=64, tos=0xC0, id=0,
                    flags=0, proto=1) / Raw(body))


# ---- tollgate's final summary -------------------------------------------------

FINAL_RE = {
    "total": re.compile(
        r"^(rx|tx|host|host_rx|generated|dropped)\s+(\d+)\s*$"),
    "drop": re.compile(r"^drop\s+(\S+)\s+(\d+)\b"),
    "drop_desc": re.compile(r"^drop\s+\S+\s+\d+\s+\((.+)\)\s*$"),
    "event": re.compile(r"^event\s+(\S+)\s+(\d+)\s*$"),
    "port": re.compile(r"^port\s+(\S+)\s+rx\s+(\d+)\s+tx\s+(\d+)"),
}


def parse_final(lines):
    """The counter summary tollgate prints when it stops: {"totals":
    {rx, tx, ...}, "drops": {name: n}, "drop_desc": {name: why},
    "events": {name: n}, "ports": {port name or id: (rx, tx)}, "found":
    whether there was one, "odd": drop lines not in "drop NAME N (why)"
    form}."""
    res = {"totals": {}, "drops": {}, "drop_desc": {}, "events": {},
           "ports": {}, "found": False, "odd": []}
    for line in lines:
        if line.startswith("--- tollgate counters"):
            res["found"] = True
            continue
        if not res["found"]:
            continue
        m = FINAL_RE["total"].match(line)
        if m:
            res["totals"][m.group(1)] = int(m.group(2))
            continue
        m = FINAL_RE["drop"].match(line)
        if m:
            res["drops"][m.group(1)] = int(m.group(2))
            d = FINAL_RE["drop_desc"].match(line)
            if d:
                res["drop_desc"][m.group(1)] = d.group(1)
            else:
                res["odd"].append(line)
            continue
        if line.startswith("drop"):
            res["odd"].append(line)
        m = FINAL_RE["event"].match(line)
        if m:
            res["events"][m.group(1)] = int(m.group(2))
            continue
        m = FINAL_RE["port"].match(line)
        if m:
            # "port p0 rx .." (by name) or "port 0 rx .." (by id)
            res["ports"][m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return res


def wait_settled(cmd, rx, host=0, more=None, timeout=15.0):
    """Poll /tollgate/stats through CMD (a Telemetry's cmd or the like)
    until RX packets were received (host_rx included), at least HOST
    went to the host port, nothing is in the rings, rx + generated = tx
    + host + drops and MORE(stats) holds, the same over 3 reads in a
    row. → (the last stats, True), or (the last stats, False) after
    TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    stable, last, s = 0, None, None
    while time.monotonic() < deadline:
        s = cmd("/tollgate/stats")
        drops = sum(tel.drops_flat(s).values())
        key = (s.get("rx"), s.get("tx"), s.get("generated"), drops,
               s.get("in_rings"), s.get("host"))
        done = (s.get("rx") == rx and s.get("in_rings") == 0 and
                s.get("host", 0) >= host and
                s["rx"] + s["generated"] ==
                s["tx"] + s.get("host", 0) + drops and
                (more is None or more(s)))
        stable = stable + 1 if done and key == last else 0
        last = key
        if stable >= 3:
            return s, True
        time.sleep(0.05)
    return s, False


class PcapTollgate:
    """One tollgate process on two net_pcap ports, in a folder of its own
    under SCRATCH's directory: in0.pcap and in1.pcap hold INPUTS ({0:
    [frames], 1: [frames]}), stop() reads out0.pcap and out1.pcap into
    .outputs ({0: [frames] or None, 1: ...}). The caller writes the
    configuration (write_config(), .prefix, .files) and start()s it.
    .lines: everything it printed; .error: why the run failed, or None;
    .rc, .final (parse_final()) and .runtime_dir_left once stopped."""

    tail_lines, tail_indent = 20, "      | "

    def __init__(self, scratch, name, inputs):
        self.scratch = scratch
        self.name = name
        self.prefix = scratch.new_prefix(name)
        self.dir = os.path.join(scratch.tmp, name)
        os.makedirs(self.dir)
        self.files = {k: os.path.join(self.dir, k + ".pcap")
                      for k in ("in0", "in1", "out0", "out1")}
        write_pcap(self.files["in0"], inputs.get(0, []))
        write_pcap(self.files["in1"], inputs.get(1, []))
        self.n_in = len(inputs.get(0, [])) + len(inputs.get(1, []))
        self.lines = []
        self.p = None
        self.error = None
        self.rc = None
        self.final = None
        self.outputs = {}
        self.runtime_dir_left = False

    def write_config(self, fname, text):
        path = os.path.join(self.dir, fname)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, tollgate, cfg, args=()):
        """TOLLGATE -c CFG ARGS...: → True once it says it runs and its
        telemetry answers, else False with .error set."""
        cmd = [tollgate, "-c", cfg] + list(args)
        self.scratch.log("%s: %s" % (self.name, " ".join(cmd)))
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  errors="replace", cwd=self.dir)
        self.scratch.live.append(self.p)
        running = threading.Event()

        def reader():
            for line in self.p.stdout:
                self.lines.append(line.rstrip("\n"))
                if line.startswith("tollgate: running"):
                    running.set()
            running.set()

        self.th = threading.Thread(target=reader, daemon=True)
        self.th.start()
        if not running.wait(30) or self.p.poll() is not None:
            self.error = "tollgate did not start (exit code %s)" % \
                self.p.poll()
            return False
        if not tel.wait_ready(self.prefix, 10, self.p):
            self.error = "telemetry socket did not answer"
            return False
        return True

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, timeout=20):
        """SIGINT (SIGKILL after TIMEOUT seconds: an error), then the exit
        status, the runtime dir (removed), the summary and the output
        pcaps. → the exit status."""
        if self.p is None:
            return None
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.rc = self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.rc = self.p.wait()
                self.error = self.error or "tollgate did not stop on SIGINT"
        else:
            self.rc = self.p.returncode
        self.th.join(5)
        if self.p in self.scratch.live:
            self.scratch.live.remove(self.p)
        self.runtime_dir_left = os.path.exists(tel.runtime_dir(self.prefix))
        shutil.rmtree(tel.runtime_dir(self.prefix), ignore_errors=True)
        self.final = parse_final(self.lines)
        for port in (0, 1):
            try:
                self.outputs[port] = read_pcap(self.files["out%d" % port])
            except Exception as e:  # noqa: BLE001 - report, don't crash
                self.outputs[port] = None
                self.error = self.error or "out%d.pcap unreadable: %s" % (
                    port, e)
        return self.rc

    def tail(self, n=None):
        return "\n".join(self.tail_indent + ln
                         for ln in self.lines[-(n or self.tail_lines):])
