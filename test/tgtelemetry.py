#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small client for DPDK's v2 telemetry socket, as tollgate serves it.

Used by test/integration/run.py, test/e2e/run.sh and scripts/demo.sh.
Standard library only (no scapy), so any python3 runs it.

  /usr/bin/python3 test/tgtelemetry.py PREFIX /tollgate/stats [PARAMS]
  /usr/bin/python3 test/tgtelemetry.py PREFIX /tollgate/stats --get ports.lan.rx_packets
  /usr/bin/python3 test/tgtelemetry.py PREFIX --wait 10   # until the socket answers

In Python:
  with Telemetry("tg-it-123") as t:
      stats = t.cmd("/tollgate/stats")
"""
import json
import os
import socket
import sys
import time

BUF = 1 << 17  # replies are at most 16 KiB by default; be generous


def runtime_dir(prefix):
    """Where EAL keeps the runtime files of @prefix (same logic as EAL)."""
    base = os.environ.get("RUNTIME_DIRECTORY")
    if not base:
        if os.getuid() == 0:
            base = "/var/run/dpdk"
        else:
            base = os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                "dpdk")
    return os.path.join(base, prefix)


def socket_path(prefix):
    return os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")


class TelemetryError(Exception):
    pass


class Telemetry:
    """One connection to the telemetry socket of the process with @prefix."""

    def __init__(self, prefix, timeout=5.0):
        self.path = socket_path(prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(self.path)
            greeting = self._recv()
        except (OSError, ValueError) as e:
            self.sock.close()
            raise TelemetryError("%s: %s" % (self.path, e)) from e
        self.max_output_len = greeting.get("max_output_len", 16384)
        self.pid = greeting.get("pid")

    def _recv(self):
        data = self.sock.recv(BUF)
        if not data:
            raise TelemetryError("%s: connection closed" % self.path)
        return json.loads(data.decode())

    def cmd(self, command, params=None):
        """Send "/cmd[,params]" and return the value of the reply's key."""
        msg = command if params in (None, "") else "%s,%s" % (command, params)
        try:
            self.sock.send(msg.encode())
            reply = self._recv()
        except (OSError, ValueError) as e:
            raise TelemetryError("%s: %s" % (msg, e)) from e
        # The reply is {"/cmd": value}; unknown commands answer null.
        if not isinstance(reply, dict) or len(reply) != 1:
            raise TelemetryError("%s: unexpected reply %r" % (msg, reply))
        return next(iter(reply.values()))

    def paged(self, command, key, page=100):
        """Every entry of a paged table (/tollgate/routes, /neighbors)."""
        out, start = [], 0
        while True:
            r = self.cmd(command, "%d,%d" % (start, page))
            if not isinstance(r, dict):
                raise TelemetryError("%s: %r" % (command, r))
            rows = r.get(key, [])
            if isinstance(rows, dict):  # {"0": {...}, "1": {...}}
                rows = [rows[k] for k in sorted(rows, key=int)]
            out.extend(rows)
            if "next" not in r:
                return out
            start = r["next"]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def query(prefix, command, params=None, timeout=5.0):
    """One command on a fresh connection."""
    with Telemetry(prefix, timeout) as t:
        return t.cmd(command, params)


def wait_ready(prefix, timeout=10.0, proc=None):
    """Wait until the socket answers /tollgate/interfaces with data.
    Returns True, or False on timeout or when @proc (a Popen) exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if query(prefix, "/tollgate/interfaces"):
                return True
        except (TelemetryError, OSError):
            pass
        time.sleep(0.05)
    return False


def dig(obj, dotted):
    """dig(stats, "drops.pkt.bad_checksum") → value, or None."""
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def flat(d, prefix=""):
    """Nested dicts → {"a.b.c": value, ...} (telemetry nests dotted
    names: filter → in → denied)."""
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def drops_flat(stats):
    """{"pkt.bad_checksum": N, "filter.in.denied": N, ...} from a
    /tollgate/stats reply."""
    return flat(stats.get("drops"))


def events_flat(stats):
    return flat(stats.get("events"))


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("prefix", help="EAL --file-prefix of the process")
    ap.add_argument("command", nargs="?", default="/tollgate/stats")
    ap.add_argument("params", nargs="?")
    ap.add_argument("--get", help="print only this dotted key of the reply")
    ap.add_argument("--wait", type=float, metavar="SECONDS",
                    help="wait until the socket answers, then exit 0")
    a = ap.parse_args(argv)
    if a.wait is not None:
        return 0 if wait_ready(a.prefix, a.wait) else 1
    try:
        r = query(a.prefix, a.command, a.params)
    except TelemetryError as e:
        print("telemetry: %s" % e, file=sys.stderr)
        return 1
    if a.get:
        r = dig(r, a.get)
        if r is None:
            print("telemetry: no key %s in the reply" % a.get,
                  file=sys.stderr)
            return 1
    print(r if isinstance(r, (int, str)) else json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
