#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The filter hook at scale: build time, memory and classification cost of
rule lists from 10 to 100,000 rules.

Run as root with Debian's python (scapy, for the traffic), on an otherwise
idle machine (it uses both cores):

    bench/filter_scale.py                          # N = 10 .. 100,000
    bench/filter_scale.py --rules 10,1000 --seconds 3 --variants in

For every N and variant (`in`: one list, N rules inbound on lan0; `both`:
also N rules outbound on wan0, so each forwarded packet is classified
twice), one tollgate process on the benchmark's ports and traffic
(bench/scenarios.py, transit-forward: port 0 replays the 64 B transit
pcap forever, port 1 receives nothing; lcore 1 the worker, lcore 0
control) starts from the same configuration without filters and, once it
forwards, is reloaded through telemetry to the configuration with the
filters (the rules of bench/scenarios.py filter_rules(): deny-listed,
prefixes, ports and port ranges, several protocols, none matching the
traffic: every packet is classified against the whole list and passes):

- build: the reload answer's parse_us, build_us (the rte_acl contexts and
  the rest of the snapshot) and publish_us; then a second reload of the
  same file (an unchanged configuration is rebuilt all the same);
- memory: rte_malloc heap in use (`/eal/heap_info,0` Alloc_size) after
  the reload minus before it, i.e. the new snapshot's filter table (rte_acl
  contexts, hit counters) — the snapshot without filters is freed by then;
- classification cost under traffic: after WARMUP s, /tollgate/stats read
  twice SECONDS apart: Δstages.filter.cycles / Δtx = the filter stage's
  TSC cycles per forwarded packet (the key per packet, rte_acl_classify,
  the verdicts and the hit counters), divided by the lists a packet meets
  (1 or 2) = cycles per classification; and Mpps (Δtx / Δt) with the
  worker's whole cost per packet (tsc_hz / pps: it polls all the time).
  The filter stage is handed every transit packet twice (in and out) once
  any list exists; a step without a list only passes the packet.

The decision cache is off (`pipeline.filter_cache: 0`) unless --cache N
says otherwise: this measures rte_acl. With the default cache the
benchmark's 4,096 flows are answered from it whatever N is.

A row N = 0 is the same traffic without filters (filter bypassed).
Prints a markdown table; --json FILE also writes the raw numbers.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import scenarios as sc  # noqa: E402
import telemetry  # noqa: E402
import traffic as tr  # noqa: E402


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def flat(d, prefix=""):
    out = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        elif isinstance(v, (int, float)):
            out[prefix + k] = v
    return out


class Run:
    """One tollgate process on the benchmark's ports."""

    def __init__(self, ctx, config, logfile):
        self.ctx = ctx
        self.prefix = ctx.prefix
        argv = [sc.TOLLGATE, "-c", config, "--", "-l", ctx.lcores,
                "--file-prefix", ctx.prefix]
        self.log = open(logfile, "w")
        self.log.write("$ %s\n" % " ".join(argv))
        self.log.flush()
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True, cwd=sc.REPO)
        self.tel = None

    def wait_forwarding(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError("tollgate exited with %d" %
                                   self.p.returncode)
            if self.tel is None and os.path.exists(
                    telemetry.socket_path(self.prefix)):
                try:
                    self.tel = telemetry.Telemetry(self.prefix, timeout=900)
                except OSError:
                    self.tel = None
            if self.tel is not None:
                s = self.tel.query("/tollgate/stats")
                if isinstance(s, dict) and s.get("tx", 0) > 0:
                    return
            time.sleep(0.2)
        raise RuntimeError("not forwarding after %.0f s" % timeout)

    def q(self, cmd, params=None):
        return self.tel.query(cmd, params)

    def heap_used(self):
        h = self.q("/eal/heap_info", "0")
        return h.get("Alloc_size") if isinstance(h, dict) else None

    def stop(self):
        if self.tel is not None:
            self.tel.close()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()
        shutil.rmtree(os.path.join(telemetry.RUNTIME_DIR, self.prefix),
                      ignore_errors=True)


def worker_cpu_ns(pid):
    best = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    best = max(best, int(f.read().split()[0]))
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return best


def measure(run, seconds):
    """Counter deltas over SECONDS of traffic."""
    a = flat(run.q("/tollgate/stats"))
    ta, ca = time.monotonic(), worker_cpu_ns(run.p.pid)
    time.sleep(seconds)
    b = flat(run.q("/tollgate/stats"))
    tb, cb = time.monotonic(), worker_cpu_ns(run.p.pid)
    d = {k: b[k] - a.get(k, 0) for k in b}
    dt = tb - ta
    fin = d.get("stages.filter.in", 0)
    out = {
        "seconds": dt,
        "tsc_hz": b.get("tsc_hz"),
        "mpps": d.get("tx", 0) / dt / 1e6,
        "rx_mpps": d.get("rx", 0) / dt / 1e6,
        "filter_in_per_tx": fin / d["tx"] if d.get("tx") else 0.0,
        # per packet the stage was handed (a transit packet is handed
        # to it twice, in and out, whether or not that step has a list)
        "cycles_per_visit":
            d.get("stages.filter.cycles", 0) / fin if fin else None,
        "filter_cycles_per_tx":
            d.get("stages.filter.cycles", 0) / d["tx"] if d.get("tx")
            else None,
        "worker_cpu_share": (cb - ca) / (dt * 1e9),
        "drops": {k[6:]: v for k, v in d.items()
                  if k.startswith("drops.") and v},
    }
    if d.get("tx"):
        out["cycles_per_packet"] = (b.get("tsc_hz", 0) * dt *
                                    out["worker_cpu_share"] / d["tx"])
        out["forward_cycles_per_packet"] = \
            d.get("stages.forward.cycles", 0) / d["tx"]
    return out


def with_cache(text, entries):
    """TEXT with pipeline.filter_cache set (restart-only: the base
    configuration and the reloaded one must agree)."""
    line = "pipeline:\n"
    assert text.count(line) == 1
    return text.replace(line, line + "  filter_cache: %d\n" % entries)


def one(a, n, variant, n_run, pcap, empty, npk, tmp):
    ctx = sc.Ctx(prefix="tgfs%d-%d" % (os.getpid(), n_run), rx_pcap=pcap,
                 empty_pcap=empty, size=a.frame, n_packets=npk,
                 workdir=tmp, memory_mb=a.memory_mb)
    base = os.path.join(tmp, "base-%d.yaml" % n_run)
    with open(base, "w") as f:
        f.write(with_cache(sc.tollgate_transit_yaml(ctx, sc.TRANSIT_UDP),
                           a.cache))
    row = {"rules": n, "variant": variant, "lists": 0}
    cfg = base
    if n:
        cfg = os.path.join(tmp, "filters-%s-%d.yaml" % (variant, n))
        t0 = time.perf_counter()
        text = sc.tollgate_filter_yaml(
            ctx, sc.TRANSIT_UDP, lan_in=n,
            wan_out=n if variant == "both" else 0)
        row["generate_s"] = time.perf_counter() - t0
        with open(cfg, "w") as f:
            f.write(with_cache(text, a.cache))
        row["yaml_mb"] = os.path.getsize(cfg) / 1e6
        row["lists"] = 2 if variant == "both" else 1
    logfile = os.path.join(tmp, "tollgate-%s-%d.log" % (variant, n))
    run = Run(ctx, base, logfile)
    try:
        run.wait_forwarding()
        if n:
            time.sleep(0.5)
            h0 = run.heap_used()
            t0 = time.perf_counter()
            r = run.q("/tollgate/config/reload", cfg)
            row["reload_rtt_ms"] = (time.perf_counter() - t0) * 1e3
            if not isinstance(r, dict) or r.get("result") != "ok":
                e0 = ((r or {}).get("errors") or {}).get("0") \
                    if isinstance(r, dict) else None
                row["error"] = "reload refused: %s" % (
                    e0.get("message") if isinstance(e0, dict) else
                    json.dumps(r)[:600])
                row["reload_answer"] = r
                return row
            for k in ("parse_us", "build_us", "publish_us"):
                row[k] = r.get(k)
            h1 = run.heap_used()
            if h0 is not None and h1 is not None:
                row["heap_delta_bytes"] = h1 - h0
            summ = run.q("/tollgate/filters")
            row["filters_summary"] = {k: v for k, v in (summ or {}).items()
                                      if k != "lists"} if isinstance(
                summ, dict) else summ
            if isinstance(summ, dict):
                row["filters_lists"] = summ.get("lists")
        time.sleep(a.warmup)
        row.update(measure(run, a.seconds))
        if n and a.rebuild:
            r = run.q("/tollgate/config/reload", cfg)
            if isinstance(r, dict) and r.get("result") == "ok":
                row["rebuild_build_us"] = r.get("build_us")
                row["rebuild_publish_us"] = r.get("publish_us")
        if run.p.poll() is not None:
            row["error"] = "tollgate exited with %d" % run.p.returncode
        if n and row.get("filter_cycles_per_tx") is not None:
            # one classification per list a forwarded packet meets
            row["cycles_per_classification"] = \
                row["filter_cycles_per_tx"] / row["lists"]
    except (RuntimeError, OSError, ValueError) as e:
        row["error"] = "%s (log %s)" % (e, logfile)
    finally:
        run.stop()
        row["exit_code"] = run.p.returncode
    return row


def fmt(v, f="%.1f", scale=1.0):
    return f % (v / scale) if isinstance(v, (int, float)) else "–"


def markdown(rows, a, tsc_hz):
    out = ["Rule lists of bench/scenarios.py filter_rules() (deny-listed, "
           "none matching the traffic); traffic: the transit-forward pcap, "
           "%d B, replayed on net_pcap; %g s per measurement after %g s "
           "warm-up; TSC %.3f GHz. cycles/pkt = the worker's whole cost per forwarded packet "
           "(tsc_hz / pps). Memory: rte_malloc heap in use after the "
           "reload minus before. filter/pkt: the filter stage's cycles "
           "per forwarded packet (it is handed every transit packet "
           "twice, in and out; a step whose interface has no list only "
           "passes it); classify = filter/pkt / lists met per packet "
           "(1 or 2)."
           % (a.frame, a.seconds, a.warmup, (tsc_hz or 0) / 1e9), "",
           "| lists | rules per list | YAML MB | parse ms | build ms | "
           "publish ms | rebuild ms | memory MB | filter/pkt | "
           "classify | Mpps | cycles/pkt | Δ cycles/pkt | drops |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
           "---:|---|"]
    base = next((r.get("cycles_per_packet") for r in rows
                 if r["rules"] == 0), None)
    for r in rows:
        lists = {0: "none", 1: "lan0 in", 2: "lan0 in + wan0 out"}[
            r["lists"]]
        if "error" in r and "mpps" not in r:
            out.append("| %s | %d | %s | | | | | | | | FAILED: %s | | | |"
                       % (
                lists, r["rules"], fmt(r.get("yaml_mb"), "%.2f"),
                r["error"].replace("|", "/")[:300]))
            continue
        drops = ", ".join("%s %d" % kv for kv in sorted(
            r.get("drops", {}).items())) or "none"
        cpp = r.get("cycles_per_packet")
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | "
                   "%s | %s | %s | %s |" % (
                       lists, r["rules"], fmt(r.get("yaml_mb"), "%.2f"),
                       fmt(r.get("parse_us"), "%.1f", 1e3),
                       fmt(r.get("build_us"), "%.1f", 1e3),
                       fmt(r.get("publish_us"), "%.1f", 1e3),
                       fmt(r.get("rebuild_build_us"), "%.1f", 1e3),
                       fmt(r.get("heap_delta_bytes"), "%.2f", 1 << 20),
                       fmt(r.get("filter_cycles_per_tx")),
                       fmt(r.get("cycles_per_classification")),
                       fmt(r.get("mpps"), "%.2f"),
                       fmt(cpp, "%.0f"),
                       fmt(cpp - base, "%+.0f") if cpp and base and
                       r["rules"] else "–", drops))
    return "\n".join(out) + "\n"


def parse_args(ap):
    """AP's arguments, with the ones every scale script takes (--json,
    --keep); exits unless this can run (root, a tollgate binary)."""
    ap.add_argument("--json", help="also write the raw rows here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (configs, logs)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (DPDK runtime directory)")
    if not os.access(sc.TOLLGATE, os.X_OK):
        sys.exit("%s not found: build first (or TOLLGATE_BIN=...)" %
                 sc.TOLLGATE)
    return a


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", default="10,100,1000,10000,100000",
                    help="rules per list (default 10,100,1000,10000,"
                         "100000)")
    ap.add_argument("--variants", default="in,both",
                    help="in (lan0 inbound only) and/or both (also wan0 "
                         "outbound); default in,both")
    ap.add_argument("--cache", type=int, default=0,
                    help="pipeline.filter_cache (default 0: no decision "
                         "cache, every packet walks rte_acl: the "
                         "classifier's own cost)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--frame", type=int, default=64,
                    help="frame size, FCS included (default 64)")
    ap.add_argument("--memory-mb", type=int, default=2048,
                    help="EAL memory (--no-huge), default 2048")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip the N = 0 run")
    ap.add_argument("--no-rebuild", dest="rebuild", action="store_false",
                    help="skip the second (unchanged) reload")
    a = parse_args(ap)
    tmp = tempfile.mkdtemp(prefix="tg-filter-scale.")
    pcap = os.path.join(tmp, "transit-udp-%d.pcap" % a.frame)
    empty = os.path.join(tmp, "empty.pcap")
    tr.write_empty_pcap(empty)
    npk = sc.TRANSIT_UDP.gen(pcap, a.frame)
    plan = [] if a.no_baseline else [(0, "none")]
    for n in [int(x) for x in a.rules.split(",") if x]:
        for v in a.variants.split(","):
            plan.append((n, v))
    rows = []
    try:
        for i, (n, v) in enumerate(plan):
            log("== %s, %d rules per list" % (v, n))
            r = one(a, n, v, i, pcap, empty, npk, tmp)
            rows.append(r)
            log("   %s" % {k: r.get(k) for k in (
                "build_us", "heap_delta_bytes", "cycles_per_classification",
                "mpps", "error") if k in r})
    finally:
        if a.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    tsc = next((r["tsc_hz"] for r in rows if r.get("tsc_hz")), None)
    print(markdown(rows, a, tsc))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "rows": rows}, f, indent=1)
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
