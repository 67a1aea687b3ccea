#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The shipped configurations that need no namespace run as they are.

config/pcap-forward.yaml runs on net_null ports: start tollgate with it
unchanged (only a private --file-prefix), and check what it installed
against the YAML read here independently (PyYAML): interfaces, connected,
static and local routes, static neighbors. Then a clean stop.
"""
import ipaddress
import os
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "test"))
import tgtelemetry as tel  # noqa: E402
from harness import (TOLLGATE, finish, report,  # noqa: E402
                     start_tollgate, stop_tollgate)

CONFIGS = ["config/pcap-forward.yaml"]

def expected_routes(cfg):
    """(prefix, origin, via or None, interface) as tollgate should list."""
    want = set()
    for ifc in cfg.get("interfaces", []):
        net = ipaddress.ip_interface(ifc["address"])
        want.add((str(net.network), "connected", None, ifc["name"]))
        want.add(("%s/32" % net.ip, "local", None, ifc["name"]))
    for r in cfg.get("routes", []):
        want.add((str(ipaddress.ip_network(r["prefix"])), "static",
                  r.get("via"), r["interface"]))
    return want


def check(path):
    name = os.path.basename(path)
    with open(os.path.join(TOP, path)) as f:
        cfg = yaml.safe_load(f)
    prefix = "tg-ship-%d" % os.getpid()
    p = start_tollgate(TOLLGATE, path, prefix, TOP)
    try:
        tel.wait_ready(prefix, timeout=20, proc=p)
        with tel.Telemetry(prefix) as t:
            ifs = t.cmd("/tollgate/interfaces")
            routes = t.paged("/tollgate/routes", "routes")
            neigh = t.paged("/tollgate/neighbors", "neighbors")
            conf = t.cmd("/tollgate/config")
        want_if = {i["name"]: str(ipaddress.ip_interface(i["address"]))
                   for i in cfg.get("interfaces", [])}
        got_if = {k: v["address"] for k, v in ifs.items()}
        report("%s.interfaces" % name, got_if == want_if,
               "got %s, want %s" % (got_if, want_if))
        got_rt = {(r["prefix"], r["origin"], r.get("via"), r["interface"])
                  for r in routes}
        want_rt = expected_routes(cfg)
        report("%s.routes" % name, got_rt == want_rt,
               "got %s, want %s" % (sorted(got_rt, key=str),
                                    sorted(want_rt, key=str)))
        got_nb = {(n["address"], n["mac"].lower(), n["interface"],
                   n["state"]) for n in neigh}
        want_nb = {(n["address"], n["mac"].lower(), n["interface"],
                    "static") for n in cfg.get("neighbors", [])}
        report("%s.static_neighbors" % name, got_nb == want_nb,
               "got %s, want %s" % (got_nb, want_nb))
        report("%s.config_generation" % name,
               conf.get("generation") == 1 and
               conf.get("routes") == len(cfg.get("routes", [])),
               str(conf))
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        report("%s.runs" % name, False, repr(e))
    finally:
        out = stop_tollgate(p)
    report("%s.clean_exit" % name, p.returncode == 0 and
           "tollgate counters" in out and
           not os.path.exists(tel.runtime_dir(prefix)),
           "exit %s, output tail: %s" % (p.returncode, out[-400:]))


def main():
    for c in CONFIGS:
        check(c)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
