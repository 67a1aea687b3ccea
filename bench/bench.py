#!/usr/bin/python3
"""The benchmark runner: for every scenario, frame size and repeat, run each
of the scenario's systems in turn on the same traffic, read its counters
twice SECONDS apart after a warm-up, and report Mpps, cycles per packet,
ratios against the baseline peer and tollgate's per-stage costs.

Started by bench/run.sh (which builds first). Needs root (DPDK runtime
directory) and /usr/bin/python3 with scapy.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import scenarios as sc  # noqa: E402
import telemetry  # noqa: E402
import traffic as tr  # noqa: E402

BENCH = os.path.dirname(os.path.abspath(__file__))
TRAFFIC_DIR = os.path.join(BENCH, "traffic")
RESULTS_DIR = os.path.join(BENCH, "results")

# Processes and runtime directories of this invocation, for cleanup.
_live = {}      # pid -> Popen
_prefixes = set()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ processes


def stop(proc, timeout=15.0):
    """SIGINT (both tollgate and testpmd shut down cleanly on it), then
    SIGKILL to the process's own group if it does not exit in time.
    Returns the exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("  pid %d ignored SIGINT for %.0f s: SIGKILL" %
                (proc.pid, timeout))
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
    _live.pop(proc.pid, None)
    return proc.returncode


def remove_runtime_dir(prefix):
    shutil.rmtree(os.path.join(telemetry.RUNTIME_DIR, prefix),
                  ignore_errors=True)
    _prefixes.discard(prefix)


def cleanup():
    for proc in list(_live.values()):
        stop(proc, timeout=5.0)
    for prefix in list(_prefixes):
        remove_runtime_dir(prefix)


def _on_term(signum, frame):
    raise SystemExit(128 + signum)


# ------------------------------------------------------------ counters


def flatten(d, prefix=""):
    """{"forward": {"no_route": 3}} -> {"forward.no_route": 3}"""
    out = {}
    for k, v in d.items():
        key = prefix + k
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, (int, float)):
            out[key] = v
    return out


def thread_cpu_ns(pid):
    """CPU time of each thread of PID (ns, /proc/PID/task/*/schedstat)."""
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    out[tid] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return out


def sample(tel, system, pid=None):
    """One reading of every counter the run reports."""
    t0 = time.monotonic()
    s = {"ports": {}}
    if pid is not None:
        s["threads"] = thread_cpu_ns(pid)
    for p in system.tx_ports:
        st = tel.query("/ethdev/stats", str(p))
        s["ports"][p] = {k: st[k] for k in ("ipackets", "opackets",
                                             "imissed", "oerrors",
                                             "rx_nombuf")}
    if system.tollgate_stats:
        s["tollgate"] = tel.query("/tollgate/stats")
    s["time"] = (t0 + time.monotonic()) / 2
    return s


def delta(a, b):
    """Counter differences between two flattened readings."""
    return {k: b[k] - a.get(k, 0) for k in b}


# ------------------------------------------------------------ one run


class RunError(Exception):
    pass


def wait_ready(proc, prefix, system, logfile, timeout=30.0):
    """Until the telemetry socket answers and the system transmits."""
    deadline = time.monotonic() + timeout
    tel = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunError("exited with %d before it was ready:\n%s" %
                           (proc.returncode, tail(logfile)))
        if tel is None and os.path.exists(telemetry.socket_path(prefix)):
            try:
                tel = telemetry.Telemetry(prefix)
            except OSError:
                tel = None
        if tel is not None:
            s = sample(tel, system)
            if sum(p["opackets"] for p in s["ports"].values()) > 0:
                return tel
        time.sleep(0.2)
    if tel is not None:
        tel.close()
    raise RunError("not forwarding after %.0f s:\n%s" % (timeout,
                                                         tail(logfile)))


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def run_one(system, ctx, args, logfile):
    os.makedirs(ctx.workdir, exist_ok=True)
    for name, text in system.files(ctx).items():
        with open(ctx.file(name), "w") as f:
            f.write(text)
    argv = system.command(ctx)
    if system.setup is not None:
        system.setup(ctx)
    try:
        return _run_started(system, ctx, args, logfile, argv)
    finally:
        if system.teardown is not None:
            system.teardown(ctx)


def _run_started(system, ctx, args, logfile, argv):
    with open(logfile, "w") as lf:
        lf.write("$ %s\n" % " ".join(argv))
        lf.flush()
        _prefixes.add(ctx.prefix)
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf,
                                stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=sc.REPO)
    _live[proc.pid] = proc
    try:
        tel = wait_ready(proc, ctx.prefix, system, logfile)
        with tel:
            for cmd, params in system.after_start:
                r = tel.query(cmd, params)
                if isinstance(r, dict) and r.get("error"):
                    raise RunError("%s,%s: %s" % (cmd, params, r["error"]))
            time.sleep(args.warmup)
            load = os.getloadavg()[0]
            a = sample(tel, system, proc.pid)
            time.sleep(args.seconds)
            b = sample(tel, system, proc.pid)
        if proc.poll() is not None:
            raise RunError("exited with %d during the measurement" %
                           proc.returncode)
    finally:
        rc = stop(proc)
        remove_runtime_dir(ctx.prefix)
    r = measure(a, b, system)
    r["loadavg_before"] = load
    return r, rc


def measure(a, b, system):
    dt = b["time"] - a["time"]
    r = {"seconds": dt, "ports": {}}
    # The busiest thread is the worker lcore: the share of the wall clock
    # it was on a CPU shows whether anything else took its core.
    busy = [b["threads"][t] - a["threads"].get(t, 0) for t in b["threads"]]
    r["worker_cpu_share"] = max(busy) / (dt * 1e9) if busy else None
    tx = rx = 0
    for p in system.tx_ports:
        d = delta(a["ports"][p], b["ports"][p])
        r["ports"][str(p)] = d
        tx += d["opackets"]
        rx += d["ipackets"]
    r["tx_pps"] = tx / dt
    r["rx_pps"] = rx / dt
    if "tollgate" in a:
        fa, fb = flatten(a["tollgate"]), flatten(b["tollgate"])
        d = delta(fa, fb)
        r["tollgate"] = {
            "tsc_hz": fb["tsc_hz"],
            "counters": {k: v for k, v in d.items() if k != "tsc_hz"},
        }
    return r


# ------------------------------------------------------------ summary


def tsc_hz_fallback():
    """TSC rate when no tollgate run reported it: /proc/cpuinfo MHz (on
    this kind of VM the TSC runs at the nominal clock)."""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"cpu MHz\s*:\s*([\d.]+)", f.read())
    return float(m.group(1)) * 1e6 if m else None


def med_range(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs),
            "n": len(xs)}


def stage_names(counters):
    return sorted({k.split(".")[1] for k in counters
                   if k.startswith("stages.") and
                   (k.endswith(".in") or k.endswith(".bypassed"))},
                  key=lambda s: ["forward", "filter", "natfw", "ipsec",
                                 "localfilter"].index(s)
                  if s in ("forward", "filter", "natfw", "ipsec",
                           "localfilter") else 99)


def tollgate_costs(run, tsc_hz):
    """Cycles per packet from tollgate's own TSC counters, for one run."""
    c = run["tollgate"]["counters"]
    tx = c.get("tx", 0) or 1
    rx = c.get("rx", 0) or 1
    out = {
        "tx_pps_own": c.get("tx", 0) / run["seconds"],
        # the worker lcore polls all the time: every TSC cycle it is on a
        # CPU is spent on the packets
        "total_per_tx": tsc_hz * run["seconds"] *
        (run.get("worker_cpu_share") or 1.0) / tx,
        "rx_per_rx": c.get("rx_cycles", 0) / rx,
        "rx_per_tx": c.get("rx_cycles", 0) / tx,
        "stages": {},
        "rx_pps_own": c.get("rx", 0) / run["seconds"],
        "drops": {k[len("drops."):]: v for k, v in c.items()
                  if k.startswith("drops.") and v},
        "drops_per_s": {k[len("drops."):]: v / run["seconds"]
                        for k, v in c.items()
                        if k.startswith("drops.") and v},
    }
    counted = out["rx_per_tx"]
    for s in stage_names(c):
        n = c.get("stages.%s.in" % s, 0)
        cyc = c.get("stages.%s.cycles" % s, 0)
        bursts = c.get("stages.%s.bursts" % s, 0)
        out["stages"][s] = {
            "per_in": cyc / n if n else 0.0,
            "per_tx": cyc / tx,
            "in_per_tx": n / tx,
            # passed by the dispatcher without a ring hop (nothing
            # configured for the stage in the snapshot): costs no stage
            # cycles, only the dispatcher's check
            "bypassed_per_tx": c.get("stages.%s.bypassed" % s, 0) / tx,
            "avg_burst": n / bursts if bursts else 0.0,
        }
        counted += cyc / tx
    out["outside_per_tx"] = out["total_per_tx"] - counted
    it = c.get("iterations", 0)
    out["busy_iterations"] = c.get("busy_iterations", 0) / it if it else 0.0
    return out


def summarize(results):
    tsc = None
    for r in results["runs"]:
        if r.get("ok") and "tollgate" in r["measure"]:
            tsc = r["measure"]["tollgate"]["tsc_hz"]
            break
    if tsc is None:
        tsc = tsc_hz_fallback()
    results["tsc_hz"] = tsc
    summary = []
    keys = []
    for r in results["runs"]:
        k = (r["scenario"], r["size"], r["system"])
        if k not in keys:
            keys.append(k)
    for scen, size, system in keys:
        runs = [r for r in results["runs"] if (r["scenario"], r["size"],
                r["system"]) == (scen, size, system) and r.get("ok")]
        e = {"scenario": scen, "size": size, "system": system,
             "ok_runs": len(runs)}
        if runs:
            mpps = [r["measure"]["tx_pps"] / 1e6 for r in runs]
            e["mpps"] = med_range(mpps)
            # TSC cycles the worker thread was on a CPU, per packet: the
            # cost of a packet even when the run lost time to another
            # process (equal to tsc / pps when it kept its core).
            e["cycles_per_packet"] = statistics.median(
                tsc * (r["measure"].get("worker_cpu_share") or 1.0) /
                r["measure"]["tx_pps"] for r in runs) \
                if all(r["measure"]["tx_pps"] for r in runs) else None
            shares = [r["measure"]["worker_cpu_share"] for r in runs
                      if r["measure"].get("worker_cpu_share") is not None]
            e["worker_cpu_share_min"] = min(shares) if shares else None
            e["disturbed_runs"] = sum(1 for r in runs if r.get("disturbed"))
            if "tollgate" in runs[0]["measure"]:
                costs = [tollgate_costs(r["measure"], tsc) for r in runs]
                e["tollgate"] = summarize_costs(costs)
        summary.append(e)
    # ratios against the scenario's baseline, and tollgate's against its
    # peer, same size
    for e in summary:
        scen = next(s for s in sc.SCENARIOS if s.name == e["scenario"])
        r = ratio_vs(results["runs"], summary, e, scen.baseline)
        if r:
            e["ratio"] = r
        if e["system"].startswith("tollgate"):
            r = ratio_vs(results["runs"], summary, e, scen.peer)
            if r:
                e["peer_ratio"] = r
    results["summary"] = summary
    results["ring_hops"] = ring_hops(summary)


def ratio_vs(runs, summary, e, other):
    """e's Mpps / other's: of the medians, and per repeat."""
    if not other or e["system"] == other or "mpps" not in e:
        return None
    base = next((b for b in summary if b["scenario"] == e["scenario"]
                 and b["size"] == e["size"]
                 and b["system"] == other and "mpps" in b), None)
    if base is None:
        return None
    r = {"vs": other,
         "of_medians": e["mpps"]["median"] / base["mpps"]["median"]}
    paired = paired_ratios(runs, e, other)
    if paired:
        r["per_repeat"] = med_range(paired)
    return r


def ring_hops(summary):
    """The cost of one ring hop: tollgate through every stage's ring
    against tollgate past the idle ones, same scenario and size. Stage
    rings crossed per forwarded packet come from the counters (stage
    "in" / tx): 1 (forward) against 5 (filter twice, forward, natfw,
    ipsec). The difference in cycles per packet over the difference in
    hops is what one hop costs: enqueue, dequeue, the dispatcher's work
    for the step and the idle stage's call (which only writes verdicts)."""
    out = []
    for e in summary:
        if e["system"] != "tollgate-all-rings" or "tollgate" not in e:
            continue
        b = next((x for x in summary if x["system"] == "tollgate"
                  and x["scenario"] == e["scenario"]
                  and x["size"] == e["size"] and "tollgate" in x), None)
        if b is None or not e.get("cycles_per_packet") \
                or not b.get("cycles_per_packet"):
            continue

        def hops(x):
            return sum(s["in_per_tx"] for s in x["tollgate"]["stages"].values())
        dh = hops(e) - hops(b)
        if dh <= 0.5:
            continue
        out.append({"scenario": e["scenario"], "size": e["size"],
                    "cycles_bypass": b["cycles_per_packet"],
                    "cycles_all_rings": e["cycles_per_packet"],
                    "hops_bypass": hops(b), "hops_all_rings": hops(e),
                    "cycles_per_hop": (e["cycles_per_packet"] -
                                       b["cycles_per_packet"]) / dh})
    return out


def paired_ratios(runs, e, baseline):
    """system/baseline within the same repeat (the runs nearest in time)."""
    by = {}
    for r in runs:
        if r["scenario"] == e["scenario"] and r["size"] == e["size"] \
                and r.get("ok"):
            by.setdefault(r["repeat"], {})[r["system"]] = \
                r["measure"]["tx_pps"]
    return [v[e["system"]] / v[baseline] for v in by.values()
            if e["system"] in v and baseline in v and v[baseline]]


def summarize_costs(costs):
    def m(f):
        return statistics.median(f(c) for c in costs)
    out = {
        "total_per_tx": m(lambda c: c["total_per_tx"]),
        "rx_per_rx": m(lambda c: c["rx_per_rx"]),
        "rx_per_tx": m(lambda c: c["rx_per_tx"]),
        "outside_per_tx": m(lambda c: c["outside_per_tx"]),
        "busy_iterations": m(lambda c: c["busy_iterations"]),
        "rx_mpps": m(lambda c: c["rx_pps_own"] / 1e6),
        "tx_mpps": m(lambda c: c["tx_pps_own"] / 1e6),
        "stages": {},
    }
    for s in costs[0]["stages"]:
        out["stages"][s] = {k: m(lambda c: c["stages"][s].get(k, 0.0))
                            for k in costs[0]["stages"][s]}
    drops = {}
    for c in costs:
        for k, v in c["drops"].items():
            drops.setdefault(k, []).append(v)
    out["drops_total"] = {k: sum(v) for k, v in drops.items()}
    # a reason missing from a run counts as 0 there
    out["drops_mpps"] = {k: statistics.median(
        c["drops_per_s"].get(k, 0) / 1e6 for c in costs) for k in drops}
    return out


# ------------------------------------------------------------ report


def fmt_ratio(r):
    if not r:
        return ""
    out = "%.2f× %s" % (r["of_medians"], r["vs"])
    if "per_repeat" in r and r["per_repeat"]["n"] > 1:
        out += " (%.2f–%.2f)" % (r["per_repeat"]["min"], r["per_repeat"]["max"])
    return out


def fmt_range(r, f="%.2f"):
    if r["n"] == 1:
        return f % r["median"]
    return (f + " (" + f + "–" + f + ")") % (r["median"], r["min"], r["max"])


def mult(x):
    return "" if abs(x - 1) < 0.01 else " (×%.2f)" % x


def stage_cell(c):
    """One stage's cell: its cost per packet it handled, or "bypassed"
    when the dispatcher passed it by, or both after a reload changed it."""
    byp = c.get("bypassed_per_tx", 0.0)
    if c["in_per_tx"] == 0:
        return "bypassed" + mult(byp) if byp else "–"
    cell = "%.1f" % c["per_in"] + mult(c["in_per_tx"])
    if byp:
        cell += ", bypassed ×%.2f" % byp
    return cell


def markdown(results):
    lines = []
    a = results["args"]
    lines.append("Measured %g s per run after %g s warm-up, %d repeat(s); "
                 "TSC %.3f GHz; %s. cycles/packet = TSC cycles the worker "
                 "thread was on a CPU / packets forwarded." % (
                     a["seconds"], a["warmup"], a["repeat"],
                     results["tsc_hz"] / 1e9, results["machine"]["cpu"]))
    lines.append("")
    lines.append("| scenario | size (B) | system | Mpps median (min–max) | "
                 "cycles/packet | vs baseline (median, per-repeat range) | "
                 "tollgate vs peer | worker on CPU (min) |")
    lines.append("|---|---:|---|---:|---:|---:|---:|---:|")
    for e in results["summary"]:
        if "mpps" not in e:
            lines.append("| %s | %d | %s | FAILED | | | | |" %
                         (e["scenario"], e["size"], e["system"]))
            continue
        share = e.get("worker_cpu_share_min")
        cpp = e.get("cycles_per_packet")
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
            e["scenario"], e["size"], e["system"], fmt_range(e["mpps"]),
            "%.0f" % cpp if cpp else "?", fmt_ratio(e.get("ratio")),
            fmt_ratio(e.get("peer_ratio")),
            ("%.1f %%" % (100 * share) if share is not None else "?") +
            (" (%d disturbed)" % e["disturbed_runs"]
             if e.get("disturbed_runs") else "")))
    if results.get("ring_hops"):
        lines.append("")
        lines.append("One ring hop (tollgate-all-rings against tollgate, "
                     "cycles per forwarded packet, stage rings crossed per "
                     "packet from the counters):")
        lines.append("")
        lines.append("| scenario | size (B) | tollgate | rings | "
                     "all rings | rings | cycles per ring hop |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for h in results["ring_hops"]:
            lines.append("| %s | %d | %.0f | %.1f | %.0f | %.1f | %.1f |" % (
                h["scenario"], h["size"], h["cycles_bypass"],
                h["hops_bypass"], h["cycles_all_rings"], h["hops_all_rings"],
                h["cycles_per_hop"]))
    tg = [e for e in results["summary"] if "tollgate" in e]
    if tg:
        stages = list(tg[0]["tollgate"]["stages"])
        lines.append("")
        lines.append("tollgate's own counters (medians over repeats), in "
                     "cycles per forwarded packet unless noted. RX "
                     "validate+classify: per received packet. Stage "
                     "columns: per packet the stage handled (×N: packets it "
                     "handled per forwarded packet; a transit packet visits "
                     "filter twice); \"bypassed\": the dispatcher passed "
                     "the stage by (nothing configured for it: no ring hop, "
                     "no stage cycles), ×N per forwarded packet; –: not "
                     "visited. RX + stages: the cost the counters see, per "
                     "forwarded packet (no port I/O); outside counters = "
                     "total − that: port I/O, dispatcher, rings.")
        lines.append("")
        lines.append("| scenario | size (B) | system | RX Mpps | total/pkt | "
                     "RX validate+classify | " + " | ".join(stages) +
                     " | RX + stages | outside counters | drops (Mpps) |")
        lines.append("|---|---:|---|---:|---:|---:|" + "---:|" * len(stages) +
                     "---:|---:|---|")
        for e in tg:
            t = e["tollgate"]
            cells = []
            for st in stages:
                cells.append(stage_cell(t["stages"][st]))
            drops = ", ".join("%s %.3g" % kv for kv in
                              sorted(t["drops_mpps"].items())) or "none"
            lines.append("| %s | %d | %s | %.2f | %.1f | %.1f | %s | %.1f | "
                         "%.1f | %s |" % (
                             e["scenario"], e["size"], e["system"],
                             t["rx_mpps"],
                             t["total_per_tx"], t["rx_per_rx"],
                             " | ".join(cells),
                             t["total_per_tx"] - t["outside_per_tx"],
                             t["outside_per_tx"], drops))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------ main


def machine_info():
    info = {"cpu": "?", "cpus": os.cpu_count()}
    with open("/proc/cpuinfo") as f:
        text = f.read()
    for key, rx in (("cpu", r"model name\s*:\s*(.*)"),
                    ("cpu_family", r"cpu family\s*:\s*(.*)"),
                    ("cpu_model", r"\nmodel\s*:\s*(.*)"),
                    ("cpu_mhz", r"cpu MHz\s*:\s*(.*)")):
        m = re.search(rx, text)
        if m:
            info[key] = m.group(1).strip()
    info["hypervisor"] = " hypervisor " in text
    try:
        info["dpdk"] = subprocess.run(
            ["pkg-config", "--modversion", "libdpdk"], capture_output=True,
            text=True).stdout.strip()
    except OSError:
        pass
    info["kernel"] = os.uname().release
    try:
        import hashlib
        with open(sc.TOLLGATE, "rb") as f:
            info["tollgate_binary"] = {
                "path": sc.TOLLGATE,
                "sha256": hashlib.sha256(f.read()).hexdigest()[:16],
                "mtime": datetime.datetime.fromtimestamp(
                    os.path.getmtime(sc.TOLLGATE)).isoformat(
                        timespec="seconds")}
    except OSError:
        pass
    if "TOLLGATE_BIN" in os.environ:
        # another build: this tree's commit says nothing about it
        info["commit"] = os.environ.get("TOLLGATE_COMMIT") or \
            "unknown (TOLLGATE_BIN; set TOLLGATE_COMMIT)"
        info["dirty"] = None
        return info
    try:
        git = subprocess.run(["git", "-C", sc.REPO, "rev-parse", "HEAD"],
                             capture_output=True, text=True)
        info["commit"] = git.stdout.strip() or None
        dirty = subprocess.run(["git", "-C", sc.REPO, "status",
                                "--porcelain"], capture_output=True,
                               text=True)
        info["dirty"] = bool(dirty.stdout.strip())
    except OSError:
        pass
    return info


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=None,
                   help="measurement window per run (default 10)")
    p.add_argument("--repeat", type=int, default=None,
                   help="repeats of every run (default 3)")
    p.add_argument("--warmup", type=float, default=None,
                   help="seconds between forwarding start and the first "
                        "reading (default 3)")
    p.add_argument("--sizes", default="64,1400",
                   help="frame sizes in bytes, FCS included (default "
                        "64,1400)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 3 s, 1 repeat, 2 s warm-up")
    p.add_argument("--scenario", action="append",
                   help="only this scenario (repeatable); default all: " +
                   ", ".join(s.name for s in sc.SCENARIOS))
    p.add_argument("--system", action="append",
                   help="only this system (repeatable)")
    p.add_argument("--min-cpu-share", type=float, default=0.95,
                   help="a run whose worker thread was on a CPU for less "
                        "than this share of the window was disturbed by "
                        "another process: run it again (default 0.95)")
    p.add_argument("--retries", type=int, default=2,
                   help="re-runs of a disturbed run (default 2)")
    a = p.parse_args()
    q = a.quick
    a.seconds = a.seconds if a.seconds is not None else (3 if q else 10)
    a.repeat = a.repeat if a.repeat is not None else (1 if q else 3)
    a.warmup = a.warmup if a.warmup is not None else (2 if q else 3)
    a.sizes = [int(s) for s in a.sizes.split(",") if s]
    return a


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGHUP, _on_term)
    scens = [s for s in sc.SCENARIOS
             if not args.scenario or s.name in args.scenario]
    if not scens:
        sys.exit("no such scenario: %s" % args.scenario)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    os.makedirs(TRAFFIC_DIR, exist_ok=True)
    logdir = os.path.join(RESULTS_DIR, stamp + ".logs")
    os.makedirs(logdir, exist_ok=True)
    results = {"started": stamp, "machine": machine_info(),
               "args": {"seconds": args.seconds, "repeat": args.repeat,
                        "warmup": args.warmup, "sizes": args.sizes},
               "runs": []}
    empty = os.path.join(TRAFFIC_DIR, "empty.pcap")
    tr.write_empty_pcap(empty)
    tag = "tgb%d" % os.getpid()
    n = 0
    try:
        for scen in scens:
            systems = [s for s in scen.systems
                       if not args.system or s.name in args.system]
            for size in args.sizes:
                pcap = os.path.join(TRAFFIC_DIR, "%s-%d.pcap" %
                                    (scen.traffic.name, size))
                log("== %s, %d B: writing %s" % (scen.name, size,
                                                 os.path.relpath(pcap)))
                npk = scen.traffic.gen(pcap, size)
                for rep in range(args.repeat):
                    for system in systems:
                        n += 1
                        ctx = sc.Ctx(prefix="%s-%d" % (tag, n), rx_pcap=pcap,
                                     empty_pcap=empty, size=size,
                                     n_packets=npk,
                                     workdir=os.path.join(TRAFFIC_DIR, "run",
                                                          system.name))
                        name = "%s-%d-%s-r%d" % (scen.name, size,
                                                 system.name, rep + 1)
                        logfile = os.path.join(logdir, name + ".log")
                        r = {"scenario": scen.name, "size": size,
                             "system": system.name, "repeat": rep + 1,
                             "log": os.path.relpath(logfile, BENCH)}
                        share = None
                        try:
                            for attempt in range(args.retries + 1):
                                if attempt:
                                    n += 1
                                    ctx.prefix = "%s-%d" % (tag, n)
                                    log("  %-12s rep %d: worker on CPU only "
                                        "%.1f %%: disturbed, again" % (
                                            system.name, rep + 1, 100 *
                                            (share or 0)))
                                r["measure"], r["exit_code"] = run_one(
                                    system, ctx, args, logfile)
                                share = r["measure"]["worker_cpu_share"]
                                if share is None or \
                                        share >= args.min_cpu_share:
                                    break
                            r["attempts"] = attempt + 1
                            r["disturbed"] = share is not None and \
                                share < args.min_cpu_share
                            r["ok"] = True
                            m = r["measure"]
                            log("  %-12s rep %d: %7.3f Mpps  (worker on CPU "
                                "%.1f %%, load %.2f before)" % (
                                    system.name, rep + 1, m["tx_pps"] / 1e6,
                                    100 * (m["worker_cpu_share"] or 0),
                                    m["loadavg_before"]))
                        except (RunError, OSError) as ex:
                            r["ok"] = False
                            r["error"] = str(ex)
                            log("  %-12s rep %d: FAILED: %s" % (
                                system.name, rep + 1, ex))
                        results["runs"].append(r)
    finally:
        cleanup()
    summarize(results)
    out = os.path.join(RESULTS_DIR, stamp + ".json")
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    md = markdown(results)
    with open(os.path.join(RESULTS_DIR, stamp + ".md"), "w") as f:
        f.write(md)
    print(md)
    log("results: %s (logs: %s)" % (os.path.relpath(out),
                                    os.path.relpath(logdir)))
    return 0 if all(r.get("ok") for r in results["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
