#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""NAT at scale: the natfw stage's cost per packet with 1 thousand to 10
million established sessions, how fast it creates sessions, and the
session table's memory per session; DPDK's l3fwd in the same run.

Run as root with Debian's python (scapy and numpy, for the traffic), on an
otherwise idle machine (it uses both cores):

    bench/nat_scale.py                              # N = 1k .. 10M
    bench/nat_scale.py --sessions 1000000 --seconds 10

For every N, one tollgate process on the benchmark's ports (bench/
scenarios.py, transit-nat: lan0 private, wan0 public; port 0 replays the
traffic forever, port 1 receives nothing; lcore 1 the worker, lcore 0
control) and a traffic file of N UDP flows, one 64-byte packet each, in a
random order (traffic.nat_flows(): E private endpoints x K remote
endpoints, K = ceil(N / 60,000), since every private endpoint holds one of
the NAT address's 64,512 ports). net_pcap's infinite_rx keeps one mbuf per
packet of the file, so the pool holds N mbufs (data room 1024 B) and the
EAL gets memory for them: about 1.3 GB per million sessions, 14 GB at 10
million; N that would not fit in the free memory are skipped.

- creation: the first pass through the file makes every session. Its cost
  is read from the cumulative counters at the first /tollgate/stats reading
  that shows all N sessions: the natfw stage's TSC cycles then, minus the
  established cost (measured below) of the packets after the first pass,
  divided by N = cycles per new session; its inverse at the TSC rate is
  the sessions one lcore running natfw alone could create per second.
  Not estimated when more than 20 x N packets came after the pass (small
  N: the pass ends before telemetry answers, and the subtraction is
  mostly noise).
  While the pass lasts long enough to be sampled (about a second or more:
  millions of sessions), the readings every 0.2 s also give the rate the
  whole worker reached (RX, forward, natfw, TX on one lcore):
  Δ nat.created / Δt.
- established: after WARMUP s, /tollgate/stats read REPEAT times
  SECONDS apart (the median window is reported, with the range of the
  natfw cost over the windows); per window:
  Δ stages.natfw.cycles / Δ stages.natfw.in = the stage's cycles per
  packet (the session lookup, the rewrite with its checksums, the
  counters); Mpps and the worker's whole cost per packet (tsc_hz x its
  share of the CPU / pps), and Δ nat.created, which must be 0.
- memory: nat.table_bytes (everything the table allocated: records,
  indexes, mappings, port arrays, hosts, wheel) / nat.max_sessions, and /
  the sessions in use.
- l3fwd (LPM, bench/scenarios.py) on the transit-forward traffic (4,096
  flows: its mbuf pool cannot hold a larger file), the same ports, core
  and warm-up: the reference for the Mpps ratio.

Prints a markdown table; --json FILE also writes the raw rows.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import filter_scale as fs  # noqa: E402
import scenarios as sc  # noqa: E402
import traffic as tr  # noqa: E402

DATA_ROOM = 1024
# rte_mbuf (128 B) + the data room + mempool object header and padding:
# what one pool entry costs, rounded up
MBUF_BYTES = 128 + DATA_ROOM + 128
# creation() estimates only when at most this many times N packets came
# after the first pass
CREATION_MAX_AFTER = 20
# session table bytes per max_sessions, with room (measured: about 121)
TABLE_BYTES = 160


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def mem_free_mb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    return 0


def sizing(n):
    """(mbufs, max_sessions, memory_mb) for a file of N packets."""
    # the file, plus rings, descriptors and caches (not rounded up to
    # 2^k - 1: at 10 million that would waste gigabytes)
    mbufs = n + 16384
    max_sessions = max(65536, int(n * 1.05))
    mb = (mbufs * MBUF_BYTES + max_sessions * TABLE_BYTES) // (1 << 20)
    return mbufs, max_sessions, mb + 768


def config(ctx, mbufs, max_sessions):
    text = sc.tollgate_transit_yaml(ctx, sc.TRANSIT_UDP)
    old = "mempool:\n  mbufs: %d\n" % sc.Ctx.mbufs(
        ctx, ring_mbufs=5 * 1024, lcores=2, cache=256)
    assert text.count(old) == 1
    text = text.replace(old, "mempool:\n  mbufs: %d\n  data_room: %d\n" %
                        (mbufs, DATA_ROOM))
    return text + ("nat:\n  private: [lan0]\n  public: [wan0]\n"
                   "  max_sessions: %d\n" % max_sessions)


def stats(run):
    s = fs.flat(run.q("/tollgate/stats"))
    s["_t"] = time.monotonic()
    # per thread: the worker is the one whose time grows most between two
    # readings (at start the main thread has more in total: it loaded the
    # file and filled the memory)
    s["_threads"] = bench.thread_cpu_ns(run.p.pid)
    return s


def first_pass(run, total, timeout):
    """Readings every 0.2 s until nat.created reaches TOTAL."""
    samples = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = stats(run)
        samples.append(s)
        if s.get("nat.created", 0) >= total:
            return samples
        time.sleep(0.2)
    raise RuntimeError("first pass: %d of %d sessions after %.0f s" % (
        samples[-1].get("nat.created", 0), total, timeout))


def creation(samples, total, est_cycles, tsc_hz):
    """Cost and rate of making the sessions (see the module doc)."""
    last = samples[-1]
    after = last.get("stages.natfw.in", 0) - total
    cyc = last.get("stages.natfw.cycles", 0) - est_cycles * max(after, 0)
    out = {"first_pass_samples": len(samples),
           "packets_after_first_pass": after}
    # With many more packets after the pass than sessions (small N: the
    # pass is over before telemetry answers), the estimate is mostly the
    # subtraction's noise: none then.
    if cyc > 0 and after <= CREATION_MAX_AFTER * total:
        out["cycles_per_new_session"] = cyc / total
        out["stage_sessions_per_s"] = tsc_hz * total / cyc
    # whole-worker rate over readings taken inside the pass
    inside = [s for s in samples
              if 0 < s.get("nat.created", 0) < total]
    if len(inside) >= 2:
        a, b = inside[0], inside[-1]
        dt = b["_t"] - a["_t"]
        out["worker_sessions_per_s"] = (b["nat.created"] -
                                        a["nat.created"]) / dt
        out["worker_window_s"] = dt
    return out


def established(run, seconds):
    a = stats(run)
    time.sleep(seconds)
    b = stats(run)
    d = {k: b[k] - a.get(k, 0) for k in b if k != "_threads"}
    dt = d["_t"]
    nin = d.get("stages.natfw.in", 0)
    share = max(v - a["_threads"].get(t, 0)
                for t, v in b["_threads"].items()) / (dt * 1e9)
    out = {"seconds": dt, "tsc_hz": b.get("tsc_hz"),
           "mpps": d.get("tx", 0) / dt / 1e6,
           "worker_cpu_share": share,
           "created_during": d.get("nat.created", 0),
           "natfw_cycles_per_packet":
               d.get("stages.natfw.cycles", 0) / nin if nin else None,
           "rx_cycles_per_packet":
               d.get("rx_cycles", 0) / d["rx"] if d.get("rx") else None,
           "forward_cycles_per_packet":
               d.get("stages.forward.cycles", 0) / d["tx"]
               if d.get("tx") else None,
           "drops": {k[6:]: v for k, v in d.items()
                     if k.startswith("drops.") and v}}
    if d.get("tx"):
        out["cycles_per_packet"] = b["tsc_hz"] * dt * share / d["tx"]
    for k in ("nat.sessions", "nat.mappings", "nat.max_sessions",
              "nat.table_bytes"):
        out[k[4:]] = b.get(k)
    if b.get("nat.table_bytes") and b.get("nat.max_sessions"):
        out["bytes_per_session_capacity"] = \
            b["nat.table_bytes"] / b["nat.max_sessions"]
        if b.get("nat.sessions"):
            out["bytes_per_session_in_use"] = \
                b["nat.table_bytes"] / b["nat.sessions"]
    return out


def one(a, n, i, tmp, empty):
    pcap = os.path.join(a.traffic_dir, "nat-%d-64.pcap" % n)
    row = {"sessions_asked": n}
    if not os.path.exists(pcap):
        t0 = time.perf_counter()
        tr.nat_flows(pcap, n, sc.TRANSIT_PREFIXES)
        row["generate_s"] = time.perf_counter() - t0
    npk = (os.path.getsize(pcap) - 24) // 76
    k = max(1, -(-n // 60000))
    row.update(packets=npk, endpoints=npk // k, remotes_per_endpoint=k)
    mbufs, max_sessions, mb = sizing(npk)
    row.update(mbufs=mbufs, memory_mb=mb)
    if mb > mem_free_mb() - 2048:
        row["skipped"] = "needs %d MB, %d MB available" % (
            mb, mem_free_mb())
        return row
    ctx = sc.Ctx(prefix="tgns%d-%d" % (os.getpid(), i), rx_pcap=pcap,
                 empty_pcap=empty, size=64, n_packets=npk, workdir=tmp,
                 memory_mb=mb)
    cfg = os.path.join(tmp, "nat-%d.yaml" % n)
    with open(cfg, "w") as f:
        f.write(config(ctx, mbufs, max_sessions))
    logfile = os.path.join(tmp, "tollgate-%d.log" % n)
    t0 = time.monotonic()
    run = fs.Run(ctx, cfg, logfile)
    try:
        run.wait_forwarding(timeout=900)
        row["start_s"] = time.monotonic() - t0
        samples = first_pass(run, npk, timeout=300)
        time.sleep(a.warmup)
        # several windows in a row: the spread shows this machine's noise
        wins = [established(run, a.seconds) for _ in range(a.repeat)]
        cyc = sorted(w["natfw_cycles_per_packet"] for w in wins)
        row.update(sorted(wins, key=lambda w: w["natfw_cycles_per_packet"])
                   [len(wins) // 2])
        row["natfw_cycles_windows"] = [w["natfw_cycles_per_packet"]
                                       for w in wins]
        row["natfw_cycles_range"] = [cyc[0], cyc[-1]]
        row.update(creation(samples, npk, row["natfw_cycles_per_packet"],
                            row["tsc_hz"]))
        if run.p.poll() is not None:
            row["error"] = "tollgate exited with %d" % run.p.returncode
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        row["error"] = "%s (log %s)" % (e, logfile)
    finally:
        run.stop()
        row["exit_code"] = run.p.returncode
    return row


def l3fwd(a, tmp, empty):
    """l3fwd on the transit-forward traffic (bench.run_one)."""
    pcap = os.path.join(tmp, "transit-udp-64.pcap")
    npk = sc.TRANSIT_UDP.gen(pcap, 64)
    ctx = sc.Ctx(prefix="tgns%d-l3" % os.getpid(), rx_pcap=pcap,
                 empty_pcap=empty, size=64, n_packets=npk,
                 workdir=os.path.join(tmp, "l3fwd"))
    system = sc.l3fwd_lpm(sc.TRANSIT_UDP)
    r, rc = bench.run_one(system, ctx, a, os.path.join(tmp, "l3fwd.log"))
    out = {"mpps": r["tx_pps"] / 1e6, "worker_cpu_share":
           r["worker_cpu_share"], "exit_code": rc}
    hz = bench.tsc_hz_fallback()
    if r["tx_pps"]:
        out["cycles_per_packet"] = hz * r["worker_cpu_share"] / r["tx_pps"]
    return out


def fmt(v, f="%.1f", scale=1.0):
    return f % (v / scale) if isinstance(v, (int, float)) else "–"


def markdown(rows, ref, a):
    tsc = next((r["tsc_hz"] for r in rows if r.get("tsc_hz")), None)
    out = ["NAT (lan0 private → wan0 public), 64 B UDP, one packet per "
           "session in a random order, replayed on net_pcap; %g s per "
           "window (median of the windows, range in brackets) after the "
           "first pass and %g s warm-up; TSC %.3f "
           "GHz. natfw/pkt: the stage's cycles per packet (established "
           "sessions). new session: the stage's cycles to make one (its "
           "first packet), and tsc_hz / that; worker: sessions per second "
           "the whole worker made while the first pass could be sampled. "
           "B/session: the table's bytes / max_sessions (capacity), and / "
           "sessions in use. vs l3fwd: Mpps / l3fwd's (LPM, 4,096 flows, "
           "same run): %s Mpps, %s cycles/pkt."
           % (a.seconds, a.warmup, (tsc or 0) / 1e9,
              fmt(ref.get("mpps"), "%.2f"),
              fmt(ref.get("cycles_per_packet"), "%.0f")), "",
           "| sessions | endpoints x remotes | natfw/pkt | new session "
           "(cycles) | new sessions/s (stage) | new sessions/s (worker) | "
           "Mpps | vs l3fwd | cycles/pkt | B/session (capacity / in use) | "
           "table MB | drops |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|"]
    for r in rows:
        if (r.get("packets_after_first_pass") or 0) > \
                CREATION_MAX_AFTER * (r.get("packets") or 1):
            r = {k: v for k, v in r.items() if k not in (
                "cycles_per_new_session", "stage_sessions_per_s")}
        head = "| %s | %s x %s |" % (
            fmt(r.get("sessions") or r.get("packets"), "%d"),
            fmt(r.get("endpoints"), "%d"),
            fmt(r.get("remotes_per_endpoint"), "%d"))
        if "skipped" in r or ("error" in r and "mpps" not in r):
            out.append(head + " %s | | | | | | | | | |" % (
                r.get("skipped") or "FAILED: " +
                r["error"].replace("|", "/")[:300]))
            continue
        drops = ", ".join("%s %d" % kv for kv in sorted(
            r.get("drops", {}).items())) or "none"
        ratio = (r["mpps"] / ref["mpps"]) if ref.get("mpps") else None
        if (r.get("worker_cpu_share") or 0) < 0.95:
            # something else took the worker's core: every TSC count
            # of the window includes the time it was off the CPU
            drops += " (worker on CPU %.0f %%: disturbed)" % (
                100 * (r.get("worker_cpu_share") or 0))
        out.append(head + " %s | %s | %s | %s | %s | %s | %s | %s / %s | "
                   "%s | %s |" % (
                       fmt(r.get("natfw_cycles_per_packet")) + (
                           " (%.0f–%.0f)" % tuple(r["natfw_cycles_range"])
                           if r.get("natfw_cycles_range") else ""),
                       fmt(r.get("cycles_per_new_session"), "%.0f"),
                       fmt(r.get("stage_sessions_per_s"), "%.2fM", 1e6),
                       fmt(r.get("worker_sessions_per_s"), "%.2fM", 1e6),
                       fmt(r.get("mpps"), "%.2f"),
                       fmt(ratio, "%.2f×"),
                       fmt(r.get("cycles_per_packet"), "%.0f"),
                       fmt(r.get("bytes_per_session_capacity")),
                       fmt(r.get("bytes_per_session_in_use")),
                       fmt(r.get("table_bytes"), "%.1f", 1e6), drops))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions",
                    default="1000,10000,100000,1000000,10000000",
                    help="session counts (default 1000,10000,100000,"
                         "1000000,10000000)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="established-session windows of SECONDS per N, "
                         "one after the other; the median is reported, "
                         "with the range (default 3)")
    ap.add_argument("--no-l3fwd", action="store_true",
                    help="skip the l3fwd reference run")
    ap.add_argument("--traffic-dir", default=os.path.join(HERE, "traffic"),
                    help="where the traffic files are kept between runs "
                         "(default bench/traffic; 10M sessions: 760 MB)")
    a = fs.parse_args(ap)
    os.makedirs(a.traffic_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tg-nat-scale.")
    empty = os.path.join(tmp, "empty.pcap")
    tr.write_empty_pcap(empty)
    rows, ref = [], {}
    try:
        if not a.no_l3fwd:
            log("== l3fwd")
            try:
                ref = l3fwd(a, tmp, empty)
            except bench.RunError as e:
                ref = {"error": str(e)}
            log("   %s" % ref)
        for i, n in enumerate(int(x) for x in a.sessions.split(",") if x):
            log("== %d sessions" % n)
            r = one(a, n, i, tmp, empty)
            rows.append(r)
            log("   %s" % {k: r.get(k) for k in (
                "natfw_cycles_per_packet", "cycles_per_new_session",
                "stage_sessions_per_s", "worker_sessions_per_s", "mpps",
                "bytes_per_session_capacity", "skipped", "error")
                if k in r})
    finally:
        if a.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(markdown(rows, ref, a))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": vars(a), "l3fwd": ref, "rows": rows}, f,
                      indent=1)
    return 1 if any("error" in r for r in rows) or "error" in ref else 0


if __name__ == "__main__":
    sys.exit(main())
