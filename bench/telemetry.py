"""A minimal DPDK telemetry (v2) client: SOCK_SEQPACKET, greeting, one JSON
reply per command. Works against tollgate and any DPDK application."""

import json
import os
import socket

RUNTIME_DIR = "/var/run/dpdk"


def socket_path(prefix):
    return os.path.join(RUNTIME_DIR, prefix, "dpdk_telemetry.v2")


class Telemetry:
    def __init__(self, prefix, timeout=5.0):
        self.path = socket_path(prefix)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(self.path)
        greeting = json.loads(self.sock.recv(4096).decode())
        # Answers are capped at max_output_len (16 KiB in 22.11).
        self.max_len = int(greeting.get("max_output_len", 16384))

    def query(self, cmd, params=None):
        """Send "/cmd" or "/cmd,params"; return the value under the command
        name (the reply is {"/cmd": value})."""
        text = cmd if params is None else "%s,%s" % (cmd, params)
        self.sock.send(text.encode())
        reply = json.loads(self.sock.recv(self.max_len * 2 + 1024).decode())
        return reply.get(cmd)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
