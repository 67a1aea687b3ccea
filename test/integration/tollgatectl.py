#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgatectl against a running tollgate.

Starts tollgate with config/pcap-forward.yaml (net_null ports, a private
--file-prefix) and runs tollgatectl for every command, checking its human
and --json outputs against the telemetry answers read independently with
test/tgtelemetry.py: counters within the readings taken before and after,
tables entry by entry, `config show` byte for byte. Then live reload of a
changed copy (given relative to tollgatectl's working directory), a broken
copy refused with FILE:LINE:COL errors, --watch, a busy socket, a process
that is not running, a user without permission, and usage errors. Then
`nat`, `nat sessions` and `firewall`: against that configuration (nat and
firewall off), and against a second tollgate run with NAT_FIREWALL
appended (no traffic: the session table stays empty).

  TOLLGATECTL=build-asan/app/tollgatectl/tollgatectl test/integration/tollgatectl.py
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "test"))
import tgtelemetry as tel  # noqa: E402
from harness import (TOLLGATE, finish, report,  # noqa: E402
                     start_tollgate, stop_tollgate)
from harness import TOLLGATECTL as CTL  # noqa: E402

CONFIG = "config/pcap-forward.yaml"
# Appended to the reloaded copy: non-ASCII, a backslash and a tab all
# travel escaped in /tollgate/config/show.
ODD_COMMENT = "# Grüße, naïve café — ✓ C:\\tollgate\\x41\ttab\n".encode()
# Appended to CONFIG for the nat and firewall commands; EXCEPTIONS: the
# rows `tollgatectl firewall` should print for it.
NAT_FIREWALL = """
nat:
  private: [lan0]
  public: [wan0]
  port_mappings:
    - {name: web, protocol: tcp, public_port: 8080,
       private_address: 10.0.0.10, private_port: 80}
firewall:
  exceptions:
    - {name: ssh, protocol: tcp, port: 22, scope: [203.0.113.0/24]}
    - {name: dns, protocol: udp, port: 53-54,
       scope: [192.0.2.7, 198.51.100.0/24], interface: wan0}
    - {name: pptp, protocol: gre}
  icmp: {inbound: {echo_request: allow}, outbound: {time_exceeded: allow}}
"""
EXCEPTIONS = [["ssh", "tcp", "22", "203.0.113.0/24", "any"],
              ["dns", "udp", "53-54", "192.0.2.7/32,198.51.100.0/24",
               "wan0"],
              ["pptp", "gre", "-", "any", "any"]]
SESSIONS_HEADER = ("PROTO  PRIVATE  PUBLIC  REMOTE  KIND  STATE  TIMEOUT  "
                   "IDLE  PKTS_OUT  PKTS_IN\n")

def ctl(prefix, *args, cwd=None, timeout=30):
    """Run tollgatectl; returns (exit code, stdout bytes, stderr text)."""
    argv = [CTL] + (["-f", prefix] if prefix else []) + list(args)
    p = subprocess.run(argv, cwd=cwd or TOP, capture_output=True,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    err = p.stderr.decode(errors="replace")
    if "Sanitizer" in err or "runtime error:" in err:  # ASan/UBSan builds
        report("sanitizers(%s)" % " ".join(args), False, err[-2000:])
    return p.returncode, p.stdout, err


def rows(text, header):
    """Rows (lists of cells) of the table whose first line starts with
    @header, up to the next blank line."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith(header):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            out.append(line.split())
    return out


def between(lo, v, hi):
    return lo <= v <= hi


def check_stats(prefix):
    before = tel.query(prefix, "/tollgate/stats")
    rc, out, err = ctl(prefix, "stats")
    after = tel.query(prefix, "/tollgate/stats")
    text = out.decode()
    report("stats.exit", rc == 0, "exit %d: %s" % (rc, err))
    m = re.search(r"generation (\d+)", text.splitlines()[0] if text else "")
    report("stats.generation", m is not None and
           int(m.group(1)) == after["generation"], text[:200])
    tot = rows(text, "PACKETS")
    ok = len(tot) == 1 and tot[0][0] == "total"
    if ok:
        for i, k in enumerate(["rx", "tx", "generated", "host"]):
            ok = ok and between(before[k], int(tot[0][i + 1]), after[k])
    report("stats.totals", ok, "%s vs %s..%s" % (tot, before["rx"],
                                                  after["rx"]))
    ports = rows(text, "PORT ")
    ok = [r[0] for r in ports] == list(after["ports"])
    for r in ports if ok else []:
        b, a = before["ports"][r[0]], after["ports"][r[0]]
        ok = ok and between(b["rx_packets"], int(r[1]), a["rx_packets"]) \
            and between(b["tx_packets"], int(r[2]), a["tx_packets"]) \
            and between(b["rx_missed"], int(r[3]), a["rx_missed"])
    report("stats.ports", ok, "%s vs %s" % (ports, after["ports"]))
    stages = rows(text, "STAGE")
    ok = [r[0] for r in stages] == list(after["stages"])
    for r in stages if ok else []:
        b, a = before["stages"][r[0]], after["stages"][r[0]]
        ok = ok and int(r[1]) == a["lcore"] and \
            between(b["in"], int(r[2]), a["in"]) and \
            between(b["bypassed"], int(r[3]), a["bypassed"]) and \
            between(b["dropped"], int(r[4]), a["dropped"]) and \
            (r[5] == "-") == (int(r[2]) == 0)
    report("stats.stages", ok, "%s vs %s" % (stages, after["stages"]))
    for section, title, flat in (("drops", "DROP ", tel.drops_flat),
                                 ("events", "EVENT ", tel.events_flat)):
        b, a = flat(before), flat(after)
        shown = {r[0]: int(r[1]) for r in rows(text, title)}
        if not shown and ("%s: none" % section) not in text:
            shown = None
        nz_b = {k for k, v in b.items() if v}
        nz_a = {k for k, v in a.items() if v}
        ok = shown is not None and nz_b <= set(shown) <= nz_a and all(
            between(b[k], v, a[k]) for k, v in shown.items())
        report("stats.%s_nonzero_by_dotted_name" % section, ok,
               "shown %s, before %s, after %s" % (shown, nz_b, nz_a))

    rc, out, err = ctl(prefix, "--json", "stats")
    after = tel.query(prefix, "/tollgate/stats")
    try:
        j = json.loads(out)["/tollgate/stats"]
        ok = rc == 0 and set(j) == set(after) and \
            between(before["rx"], j["rx"], after["rx"]) and \
            tel.drops_flat(j).keys() == tel.drops_flat(after).keys()
    except (ValueError, KeyError, TypeError) as e:
        ok, out = False, "%r %r" % (e, out[:300])
    report("stats.json", ok, "exit %d: %s %s" % (rc, out[:300], err))


def check_tables(prefix):
    with tel.Telemetry(prefix) as t:
        ifs = t.cmd("/tollgate/interfaces")
        routes = t.paged("/tollgate/routes", "routes")
        neigh = t.paged("/tollgate/neighbors", "neighbors")

    rc, out, err = ctl(prefix, "interfaces")
    got = rows(out.decode(), "NAME")
    want = [[k, v["port"], str(v["port_id"]), v["address"], str(v["mtu"]),
             v["mac"]] for k, v in ifs.items()]
    report("interfaces.table", rc == 0 and got == want,
           "got %s, want %s (%s)" % (got, want, err))
    rc, out, err = ctl(prefix, "--json", "interfaces")
    report("interfaces.json", rc == 0 and
           json.loads(out) == {"/tollgate/interfaces": ifs}, out[:300])

    rc, out, err = ctl(prefix, "routes")
    got = rows(out.decode(), "PREFIX")
    want = [[r["prefix"], r.get("via", "-"), r["interface"], r["origin"]]
            for r in routes]
    report("routes.table", rc == 0 and got == want,
           "got %s, want %s (%s)" % (got, want, err))
    rc, out, err = ctl(prefix, "--json", "routes")
    j = json.loads(out)["/tollgate/routes"] if rc == 0 else {}
    report("routes.json_merged", rc == 0 and j.get("total") == len(routes)
           and "next" not in j and
           [j["routes"][k] for k in sorted(j["routes"], key=int)] == routes,
           out[:300])

    rc, out, err = ctl(prefix, "neighbors")
    got = [r[:5] for r in rows(out.decode(), "ADDRESS")]
    want = [[n["address"], n["mac"], n["interface"], n["state"],
             str(n["held"])] for n in neigh]
    report("neighbors.table", rc == 0 and got == want,
           "got %s, want %s (%s)" % (got, want, err))
    rc, out, err = ctl(prefix, "--json", "neighbors")
    j = json.loads(out)["/tollgate/neighbors"] if rc == 0 else {}
    strip = [{k: v for k, v in n.items() if k != "age_ms"} for n in neigh]
    got = [{k: v for k, v in j["neighbors"][i].items() if k != "age_ms"}
           for i in sorted(j.get("neighbors", {}), key=int)]
    report("neighbors.json_merged", rc == 0 and got == strip and
           j.get("total") == len(neigh), out[:300])


def check_config(prefix, path, generation):
    conf = tel.query(prefix, "/tollgate/config")
    rc, out, err = ctl(prefix, "config")
    info = dict(re.match(r"(.+?)\s{2,}(.*)$", line).groups()
                for line in out.decode().splitlines())
    report("config.info", rc == 0 and info.get("file") == conf["file"] and
           info.get("generation") == str(generation) and
           info.get("static routes") == str(conf["routes"]) and
           info.get("interfaces") == str(conf["interfaces"]),
           "%s vs %s" % (info, conf))
    rc, out, err = ctl(prefix, "--json", "config")
    j = json.loads(out)["/tollgate/config"] if rc == 0 else {}
    j.pop("uptime_s", None)
    conf.pop("uptime_s")
    report("config.json", j == conf, "%s vs %s" % (j, conf))

    with open(path, "rb") as f:
        want = f.read()
    rc, out, err = ctl(prefix, "config", "show")
    report("config_show.exact_bytes(%s)" % os.path.basename(path),
           rc == 0 and out == want,
           "exit %d, %d bytes vs %d: %s" % (rc, len(out), len(want), err))
    rc, out, err = ctl(prefix, "--json", "config", "show")
    try:
        j = json.loads(out)["/tollgate/config/show"]
        text = "".join(j["text"])
        # decode independently: bytes of plain text, \xNN as byte NN
        decoded = bytearray()
        i = 0
        while i < len(text):
            if text[i] == "\\":
                decoded.append(int(text[i + 2:i + 4], 16))
                i += 4
            else:
                decoded += text[i].encode()
                i += 1
        ok = rc == 0 and bytes(decoded) == want and j["offset"] == 0 and \
            j["size"] == len(want) and "next" not in j and \
            j["generation"] == generation
    except (ValueError, KeyError, TypeError, IndexError) as e:
        ok, out = False, "%r %r" % (e, out[:300])
    report("config_show.json_merged", ok, out[:300])


def check_raw(prefix):
    rc, out, err = ctl(prefix, "raw", "/tollgate/interfaces")
    report("raw.as_received", rc == 0 and json.loads(out) ==
           {"/tollgate/interfaces": tel.query(prefix, "/tollgate/interfaces")},
           out[:200])
    rc, out, err = ctl(prefix, "raw", "/tollgate/routes,1,1")
    j = json.loads(out)["/tollgate/routes"] if rc == 0 else {}
    report("raw.params", rc == 0 and list(j.get("routes", {})) == ["1"] and
           j.get("next") == 2, out[:200])
    rc, out, err = ctl(prefix, "raw", "/tollgate/nope")
    report("raw.unknown_is_failure", rc == 1 and
           json.loads(out) == {"/tollgate/nope": None}, "exit %d" % rc)
    rc, out, err = ctl(prefix, "raw", "/tollgate/stats,1")
    report("raw.error_reply_is_failure", rc == 1 and b"error" in out,
           "exit %d %s" % (rc, out))


def error_pos(text, old, new):
    """Replace @old by @new in @text; (line, col) of @new, 1-based."""
    i = text.index(old)
    text = text[:i] + new + text[i + len(old):]
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return text, line, col


def check_reload(prefix, work):
    src = open(os.path.join(TOP, CONFIG), encoding="utf-8").read()
    g0 = tel.query(prefix, "/tollgate/config")["generation"]

    mod = src.replace("48.0.0.0/8", "49.0.0.0/8").encode() + ODD_COMMENT
    with open(os.path.join(work, "mod.yaml"), "wb") as f:
        f.write(mod)
    rc, out, err = ctl(prefix, "check", "mod.yaml", cwd=work)
    report("check.ok", rc == 0 and out == b"mod.yaml: OK\n" and
           tel.query(prefix, "/tollgate/config")["generation"] == g0,
           "exit %d %s %s" % (rc, out, err))

    rc, out, err = ctl(prefix, "reload", "mod.yaml", cwd=work, timeout=120)
    want = (r"reloaded mod\.yaml: generation %d \(routes \+1 -1, neighbors "
            r"\+0 -0, interfaces added \[\] removed \[\] changed \[\]; "
            r"parse \d+\.\d{3} ms, build \d+\.\d{3} ms, publish \d+\.\d{3} "
            r"ms\)\n$" % (g0 + 1))
    report("reload.summary", rc == 0 and re.match(want, out.decode()),
           "exit %d %r %s" % (rc, out, err))
    conf = tel.query(prefix, "/tollgate/config")
    report("reload.generation_and_absolute_path",
           conf["generation"] == g0 + 1 and
           conf["file"] == os.path.join(work, "mod.yaml"), str(conf))
    rc, out, err = ctl(prefix, "routes")
    prefixes = [r[0] for r in rows(out.decode(), "PREFIX")]
    report("reload.routes_show_new_route", "49.0.0.0/8" in prefixes and
           "48.0.0.0/8" not in prefixes, str(prefixes))
    check_config(prefix, os.path.join(work, "mod.yaml"), g0 + 1)

    # Two errors, positions counted here from the text.
    bad, l1, c1 = error_pos(src, "address: 10.1.0.1/24",
                            "address: 10.1.0.1/33")
    c1 += len("address: ")
    bad, l2, c2 = error_pos(bad, "via: 10.0.0.2", "via: 10.0.0.x")
    c2 += len("via: ")
    with open(os.path.join(work, "bad.yaml"), "w") as f:
        f.write(bad)
    for cmd in ("check", "reload"):
        rc, out, err = ctl(prefix, cmd, "bad.yaml", cwd=work, timeout=120)
        lines = [ln for ln in err.splitlines() if ln.startswith("bad.yaml")]
        ok = rc == 1 and out == b"" and len(lines) == 2 and \
            lines[0].startswith("bad.yaml:%d:%d: interfaces[1].address: "
                                % (l1, c1)) and \
            lines[1].startswith("bad.yaml:%d:%d: routes[1].via: " % (l2, c2))
        if cmd == "reload":
            ok = ok and "reload refused, generation %d still runs" % (
                g0 + 1) in err
        report("%s.broken_file_errors" % cmd, ok,
               "exit %d, stderr %r (want %d:%d and %d:%d)"
               % (rc, err, l1, c1, l2, c2))
        report("%s.broken_file_changes_nothing" % cmd,
               tel.query(prefix, "/tollgate/config")["generation"] == g0 + 1)
    rc, out, err = ctl(prefix, "--json", "reload", "bad.yaml", cwd=work)
    j = json.loads(out)["/tollgate/config/reload"] if out else {}
    report("reload.json_errors", rc == 1 and j.get("result") == "error" and
           j.get("error_count") == 2, "exit %d %s" % (rc, out))
    rc, out, err = ctl(prefix, "check", "missing.yaml", cwd=work)
    report("check.unreadable_file", rc == 1 and
           err.startswith("missing.yaml: cannot read"), err)

    rc, out, err = ctl(prefix, "reload", timeout=120)
    report("reload.running_file", rc == 0 and out.decode().startswith(
        "reloaded %s: generation %d " % (os.path.join(work, "mod.yaml"),
                                         g0 + 2)), "%s %s" % (out, err))


def check_many_pages(prefix, work):
    """300 routes and 300 static neighbors on interfaces with 31-character
    names: several pages each, read whole."""
    lan = "lan_interface_with_a_long_name_"
    wan = "wan_interface_with_a_long_name_"
    text = open(os.path.join(TOP, CONFIG)).read()
    for a, b in (("name: lan0", "name: " + lan),
                 ("name: wan0", "name: " + wan),
                 ("interface: lan0", "interface: " + lan),
                 ("interface: wan0", "interface: " + wan),
                 ("address: 10.0.0.1/24", "address: 10.0.0.1/16")):
        text = text.replace(a, b)
    text = text.replace("routes:\n", "routes:\n" + "".join(
        "  - {prefix: 100.%d.%d.0/24, via: 10.1.0.2, interface: %s}\n"
        % (i // 250, i % 250, wan) for i in range(300)))
    text = text.replace("neighbors:\n", "neighbors:\n" + "".join(
        '  - {address: 10.0.%d.%d, mac: "02:00:00:00:%02x:%02x", '
        "interface: %s}\n" % (1 + i // 250, i % 250 + 2, i // 256, i % 256,
                               lan) for i in range(300)))
    path = os.path.join(work, "many.yaml")
    with open(path, "w") as f:
        f.write(text)
    rc, out, err = ctl(prefix, "reload", path, timeout=120)
    report("many.reload", rc == 0, "exit %d %s" % (rc, err))
    with tel.Telemetry(prefix) as t:
        routes = t.paged("/tollgate/routes", "routes", page=50)
        neigh = t.paged("/tollgate/neighbors", "neighbors", page=50)
    rc, out, err = ctl(prefix, "routes")
    got = rows(out.decode(), "PREFIX")
    want = [[r["prefix"], r.get("via", "-"), r["interface"], r["origin"]]
            for r in routes]
    report("many.routes", rc == 0 and len(want) == 306 and got == want,
           "exit %d, %d rows, want %d" % (rc, len(got), len(want)))
    rc, out, err = ctl(prefix, "neighbors")
    got = [r[:4] for r in rows(out.decode(), "ADDRESS")]
    want = [[n["address"], n["mac"], n["interface"], n["state"]]
            for n in neigh]
    report("many.neighbors", rc == 0 and len(want) == 302 and got == want,
           "exit %d, %d rows, want %d" % (rc, len(got), len(want)))
    rc, out, err = ctl(prefix, "--json", "neighbors")
    j = json.loads(out)["/tollgate/neighbors"] if rc == 0 else {}
    report("many.neighbors_json", j.get("total") == 302 and
           sorted(j.get("neighbors", {}), key=int) ==
           [str(i) for i in range(302)], str(j)[:200])


def check_natfw_off(prefix):
    """CONFIG has neither nat nor firewall: no session table."""
    rc, out, err = ctl(prefix, "nat")
    text = out.decode()
    report("natfw_off.nat", rc == 0 and
           text.startswith("nat: off, firewall: off, ") and
           text.endswith("\n\nno session table: nat and firewall are off\n"),
           "exit %d %r %s" % (rc, text, err))
    want = tel.query(prefix, "/tollgate/nat/sessions")["error"]
    rc, out, err = ctl(prefix, "nat", "sessions")
    report("natfw_off.sessions_error", rc == 1 and out == b"" and
           err == "tollgatectl: /tollgate/nat/sessions: %s\n" % want,
           "exit %d %r %r" % (rc, out, err))
    rc, out, err = ctl(prefix, "firewall")
    text = out.decode()
    report("natfw_off.firewall", rc == 0 and
           text.startswith("firewall: off, dynamic entries: 0 of ") and
           text.endswith("\n\nexceptions: none\n"),
           "exit %d %r %s" % (rc, text, err))


def icmp_policy(text):
    """{"in_TYPE": policy, "out_TYPE": policy} from the ICMP table, whose
    inbound pair is blank where outbound has more types."""
    got = {}
    for r in rows(text, "ICMP_IN"):
        if len(r) == 4:
            got["in_" + r[0]] = r[1]
        got["out_" + r[-2]] = r[-1]
    return got


def check_natfw(prefix):
    """nat and firewall on (NAT_FIREWALL), no traffic: every command
    against the telemetry answers, an empty session table."""
    with tel.Telemetry(prefix) as t:
        summ = t.cmd("/tollgate/nat/summary")
        fw = t.cmd("/tollgate/firewall")
        bad = t.cmd("/tollgate/nat/sessions", "10.0.0.300")

    rc, out, err = ctl(prefix, "nat")
    text = out.decode()
    report("nat.exit", rc == 0 and err == "", "exit %d %s" % (rc, err))
    head = ["nat: on, firewall: on, filtering: address-and-port-dependent, "
            "generation %d" % summ["generation"],
            "timeouts (s): " + ", ".join("%s %d" % kv for kv in
                                         summ["timeouts"].items())]
    report("nat.settings", text.splitlines()[:2] == head,
           "%r vs %r" % (text.splitlines()[:2], head))
    got = rows(text, "ADDRESS ")
    want = [[a["address"], a["ports"], str(a["tcp_used"]),
             str(a["udp_used"]), str(a["icmp_gre_used"])]
            for a in summ["addresses"].values()]
    report("nat.addresses", re.search(r"^ADDRESS +PORTS +TCP_USED +UDP_USED"
                                      r" +ICMP_GRE_USED$", text, re.M)
           and got == want == [["10.1.0.1", "1024-65535", "0", "0", "0"]],
           "got %s, want %s" % (got, want))
    line = ("sessions: 0 of %d records (0 mappings, 0 hosts); created 0, "
            "expired 0, deleted 0" % summ["max_sessions"])
    report("nat.sessions_line", summ["sessions"] == 0 and
           line in text.splitlines(), "%r not in %r" % (line, text))
    report("nat.reload_dropped", summ.get("reload_dropped") == 0 and
           any(x.startswith("reload_dropped: 0 (") for x in
               text.splitlines()), text)
    for title, key in (("PROTOCOL ", "by_protocol"),
                       ("TCP_STATE ", "tcp_states")):
        got = rows(text, title)
        want = [[k, str(v)] for k, v in summ[key].items()]
        report("nat.%s" % key, got == want and len(want) >= 5,
               "got %s, want %s" % (got, want))
    report("nat.no_failures", "\n\nfailures: none\n" in text and
           not any(summ["failed"].values()), text[-200:])
    line = "pptp: " + ", ".join("%s %d" % kv for kv in summ["pptp"].items())
    report("nat.pptp_line", text.endswith("\n\n" + line + "\n") and
           len(summ["pptp"]) >= 7, "%r not at the end of %r" % (line, text))
    rc, out, err = ctl(prefix, "--json", "nat")
    try:
        j = json.loads(out)
    except ValueError as e:
        j = repr(e)
    report("nat.json", rc == 0 and j == {"/tollgate/nat/summary": summ},
           "exit %d %r" % (rc, out[:300]))

    for args in (["nat", "sessions"], ["nat", "sessions", "10.1.0.1"]):
        rc, out, err = ctl(prefix, *args)
        report("nat_sessions.empty(%s)" % " ".join(args[2:]),
               rc == 0 and out.decode() == SESSIONS_HEADER and err == "",
               "exit %d %r %s" % (rc, out, err))
    rc, out, err = ctl(prefix, "--json", "nat", "sessions")
    try:
        j = json.loads(out)
    except ValueError as e:
        j = repr(e)
    report("nat_sessions.json", rc == 0 and j == {
        "/tollgate/nat/sessions": {"total": 0, "start": 0, "entries": {}}},
        "exit %d %r" % (rc, out[:300]))
    rc, out, err = ctl(prefix, "nat", "sessions", "10.0.0.300")
    report("nat_sessions.bad_address", rc == 1 and out == b"" and
           err == "tollgatectl: /tollgate/nat/sessions: %s\n" % bad["error"],
           "exit %d %r %r (want %r)" % (rc, out, err, bad))

    rc, out, err = ctl(prefix, "firewall")
    text = out.decode()
    report("firewall.exit", rc == 0 and err == "", "exit %d %s" % (rc, err))
    report("firewall.state", text.splitlines()[0] ==
           "firewall: on, dynamic entries: %d of %d"
           % (fw["dynamic_entries"], fw["max_dynamic"]), text[:100])
    got = icmp_policy(text)
    report("firewall.icmp_policy", re.search(
        r"^ICMP_IN +POLICY +ICMP_OUT +POLICY$", text, re.M) and
        got == fw["icmp"] and got["in_echo_request"] == "allow" and
        got["out_time_exceeded"] == "allow" and
        got["in_timestamp_request"] == "block",
        "got %s, want %s" % (got, fw["icmp"]))
    got = rows(text, "NAME ")
    report("firewall.exceptions", re.search(
        r"^NAME +PROTO +PORT +SCOPE +INTERFACE$", text, re.M) and
        got == EXCEPTIONS and fw["n_exceptions"] == len(EXCEPTIONS),
        "got %s, want %s" % (got, EXCEPTIONS))
    rc, out, err = ctl(prefix, "--json", "firewall")
    try:
        j = json.loads(out)
    except ValueError as e:
        j = repr(e)
    report("firewall.json", rc == 0 and j == {"/tollgate/firewall": fw},
           "exit %d %r" % (rc, out[:300]))

    p = subprocess.Popen([CTL, "-f", prefix, "--watch", "0.2", "nat",
                          "sessions"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(1)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    report("nat_sessions.watch", p.returncode == 0 and
           out.decode().count(SESSIONS_HEADER) >= 2,
           "exit %s %r %r" % (p.returncode, out[:200], err))


def check_watch(prefix):
    p = subprocess.Popen([CTL, "-f", prefix, "--watch", "1", "stats"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    time.sleep(2.5)
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    heads = [ln for ln in out.decode().splitlines()
             if ln.startswith("tollgate %s " % prefix)]
    report("watch.refreshes_with_rates", p.returncode == 0 and
           len(heads) >= 2 and "rates per second" in heads[1] and
           len(rows(out.decode().split("\n\ntollgate")[1], "PORT ")[0]) == 7,
           "exit %s, %d refreshes: %s %s" % (p.returncode, len(heads),
                                             heads, err))


def check_busy(prefix):
    conns = []
    try:
        for _ in range(tel_max_clients()):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.settimeout(5)
            s.connect(tel.socket_path(prefix))
            s.recv(1024)
            conns.append(s)
        rc, out, err = ctl(prefix, "stats")
        report("busy.exit_3", rc == 3 and
               "telemetry socket busy (DPDK serves at most 10 clients)"
               in err, "exit %d %s" % (rc, err))
    finally:
        for s in conns:
            s.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # DPDK counts the closes
        if ctl(prefix, "config")[0] == 0:
            break
        time.sleep(0.1)


def tel_max_clients():
    return 10  # DPDK 22.11 lib/telemetry MAX_CONNECTIONS


def drop_to_nobody():
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)


def check_access(prefix, work):
    env_free = dict(os.environ)
    env_free.pop("RUNTIME_DIRECTORY", None)
    env_free.pop("XDG_RUNTIME_DIR", None)
    # a copy nobody can reach: the checkout may sit in a directory only
    # root can enter (mktemp -d makes them 0700), which would refuse the
    # exec, not the socket
    pub = tempfile.mkdtemp(prefix="tgctl-pub-")
    os.chmod(pub, 0o755)
    ctl_copy = os.path.join(pub, "tollgatectl")
    shutil.copy2(CTL, ctl_copy)
    os.chmod(ctl_copy, 0o755)
    try:
        p = subprocess.run([ctl_copy, "-f", prefix, "stats"],
                           capture_output=True, preexec_fn=drop_to_nobody,
                           env=env_free, cwd="/", timeout=30)
    finally:
        shutil.rmtree(pub, ignore_errors=True)
    want = "permission denied on %s (run as the user tollgate runs as, " \
           "or root)" % tel.socket_path(prefix)
    report("access.non_root_is_refused", p.returncode == 3 and
           want in p.stderr.decode(), "exit %d %s" % (p.returncode,
                                                    p.stderr))

    yml = os.path.join(work, "prefix.yaml")
    with open(yml, "w") as f:
        f.write(open(os.path.join(TOP, CONFIG)).read().replace(
            "file_prefix: tg-pcap", 'file_prefix: "%s"' % prefix))
    rc, out, err = ctl(None, "-c", yml, "config")
    report("prefix_from_yaml", rc == 0 and b"generation" in out, err)


class FakeTelemetry(threading.Thread):
    """A telemetry v2 socket under RUNTIME_DIRECTORY=@base that misbehaves
    the ways DPDK can: pages that lost entries to the 16 KiB limit, and
    replies that are not what a client expects."""

    def __init__(self, base, prefix):
        super().__init__(daemon=True)
        d = os.path.join(base, "dpdk", prefix)
        os.makedirs(d)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(os.path.join(d, "dpdk_telemetry.v2"))
        self.sock.listen(4)
        self.pages = []
        self.session_pages = []

    def answer(self, cmd, params):
        if cmd == "/tollgate/neighbors":
            start, count = (int(x) for x in params.split(","))
            self.pages.append(count)
            total, out = 250, {"total": 250, "start": start}
            n = max(0, min(count, total - start))
            # Over 40 entries, DPDK would drop the whole container and
            # keep "next"; here the container stays, empty.
            out["neighbors"] = {} if n > 40 else {str(i): {
                "address": "10.9.%d.%d" % (i // 200, i % 200 + 1),
                "mac": "02:00:00:00:00:01", "interface": "lan0",
                "state": "static", "held": 0, "age_ms": 0}
                for i in range(start, start + n)}
            if start + n < total:
                out["next"] = start + n
            return json.dumps({cmd: out})
        if cmd == "/tollgate/nat/sessions":
            # Records 0..499, every other one in use (keys have gaps, no
            # "total"); over 25 entries a page passes 16 KiB and loses
            # its last entries, as DPDK would drop them.
            start, count = (int(x) for x in params.split(","))
            self.session_pages.append(count)
            ents, i = {}, start
            while i < 500 and len(ents) < count:
                if i % 2 == 0:
                    ents[str(i)] = {
                        "protocol": "udp", "private": "10.0.0.9:%d" % i,
                        "public": "10.1.0.1:%d" % i,
                        "remote": "16.0.0.1:53", "kind": "nat",
                        "timeout": "udp", "idle": 1, "packets_out": 1,
                        "packets_in": 0, "pad": "x" * 300}
                i += 1
            while i < 500 and i % 2:
                i += 1
            out = {"sessions": 250, "start": start, "entries": ents}
            if i < 500:
                out["next"] = i
            while len(json.dumps({cmd: out})) > 16300:
                del ents[max(ents, key=int)]
            return json.dumps({cmd: out})
        if cmd == "/tollgate/routes":  # "next" that does not advance
            return json.dumps({cmd: {"total": 5, "start": 0, "routes": {},
                                     "next": 0}})
        if cmd == "/tollgate/config/show":  # 10 bytes said, 3 sent
            return json.dumps({cmd: {"file": "f", "generation": 1,
                                     "size": 10, "offset": 0,
                                     "text": ["abc"]}})
        if cmd == "/tollgate/interfaces":  # deeper than any reply
            return '{"%s":%s1%s}' % (cmd, "[" * 200, "]" * 200)
        if cmd == "/tollgate/config":
            return json.dumps({cmd: {"generation": 1, "file": "f"}})
        if cmd == "/tollgate/stats":  # not UTF-8
            return b'{"/tollgate/stats":{"generation":1,"x":"\xff"}}'
        return '{"%s": {"rx": 1, "tx": ' % cmd  # cut short

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.send(b'{"version":"fake","pid":1,"max_output_len":16384}')
            while True:
                req = c.recv(1024).decode()
                if not req:
                    break
                cmd, _, params = req.partition(",")
                a = self.answer(cmd, params)
                c.send(a if isinstance(a, bytes) else a.encode())
            c.close()


def check_misbehaving_server(work):
    base = os.path.join(work, "fake")
    fake = FakeTelemetry(base, "fake")
    fake.start()
    env = dict(os.environ, RUNTIME_DIRECTORY=base)

    def run(*args):
        p = subprocess.run([CTL, "-f", "fake"] + list(args), env=env,
                           capture_output=True, timeout=30)
        err = p.stderr.decode(errors="replace")
        if "Sanitizer" in err or "runtime error:" in err:
            report("sanitizers(fake %s)" % " ".join(args), False, err)
        return p.returncode, p.stdout.decode(), err

    rc, out, err = run("neighbors")
    got = rows(out, "ADDRESS")
    report("fake.lost_entries_are_asked_again_in_smaller_pages",
           rc == 0 and len(got) == 250 and
           len({r[0] for r in got}) == 250 and
           fake.pages[:2] == [100, 50] and max(fake.pages[2:]) <= 40,
           "exit %d, %d rows, pages %s: %s" % (rc, len(got), fake.pages,
                                              err))
    rc, out, err = run("nat", "sessions")
    got = rows(out, "PROTO ")
    report("fake.sparse_pages_near_the_limit_are_asked_again",
           rc == 0 and len(got) == 250 and
           [r[1] for r in got] == ["10.0.0.9:%d" % i
                                   for i in range(0, 500, 2)] and
           fake.session_pages[:3] == [100, 50, 25] and
           max(fake.session_pages[3:]) <= 25,
           "exit %d, %d rows, pages %s: %s" % (rc, len(got),
                                              fake.session_pages, err))
    for args, want in ((["routes"], "does not advance"),
                       (["config", "show"], "expected 10"),
                       (["interfaces"], "not valid JSON"),
                       (["stats"], "invalid UTF-8"),
                       (["raw", "/tollgate/x"], "not valid JSON")):
        rc, out, err = run(*args)
        report("fake.bad_reply_fails_cleanly(%s)" % " ".join(args),
               rc == 1 and want in err and
               out == ("" if args[0] != "raw" else
                       '{"/tollgate/x": {"rx": 1, "tx": \n'),
               "exit %d %r %r" % (rc, out[:200], err))
    fake.sock.close()


def check_usage():
    for args in ([], ["bogus"], ["check"], ["raw"], ["raw", "tollgate"],
                 ["--watch", "0", "stats"], ["--watch", "1", "reload"],
                 ["stats", "extra"], ["-c", "/nonexistent.yaml", "stats"],
                 ["--nope", "stats"], ["nat", "bogus"], ["firewall", "x"],
                 ["nat", "sessions", "10.0.0.1", "extra"]):
        rc, out, err = ctl("x", *args)
        report("usage.exit_2(%s)" % " ".join(args), rc == 2, "exit %d" % rc)


def check_not_running(prefix, name):
    rc, out, err = ctl(prefix, "stats")
    want = "tollgate is not running with prefix %s (no socket at %s)" % (
        prefix, tel.socket_path(prefix))
    report("not_running.%s" % name, rc == 3 and want in err,
           "exit %d %s" % (rc, err))


def main():
    if not os.access(CTL, os.X_OK):
        print("FAIL tollgatectl: %s not built" % CTL)
        print("0 passed, 1 failed")
        return 1
    prefix = "tg-ctl-%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="tgctl-")
    check_usage()
    check_misbehaving_server(work)
    check_not_running(prefix, "before_start")
    p = start_tollgate(TOLLGATE, CONFIG, prefix, TOP)
    try:
        if not tel.wait_ready(prefix, timeout=20, proc=p):
            report("tollgate.starts", False, "no telemetry")
        else:
            g = tel.query(prefix, "/tollgate/config")["generation"]
            check_stats(prefix)
            check_tables(prefix)
            check_config(prefix, os.path.join(TOP, CONFIG), g)
            check_raw(prefix)
            check_natfw_off(prefix)
            check_watch(prefix)
            check_busy(prefix)
            check_access(prefix, work)
            check_reload(prefix, work)
            check_many_pages(prefix, work)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        report("tollgatectl.runs", False, repr(e))
    finally:
        out = stop_tollgate(p)
        shutil.rmtree(work, ignore_errors=True)
    report("tollgate.clean_exit", p.returncode == 0,
           "exit %s: %s" % (p.returncode, out[-400:]))
    check_not_running(prefix, "after_stop")
    check_natfw_run()
    return finish()


def check_natfw_run():
    """A second tollgate: CONFIG with NAT_FIREWALL."""
    prefix = "tg-ctlnat-%d" % os.getpid()
    work = tempfile.mkdtemp(prefix="tgctl-nat-")
    path = os.path.join(work, "natfw.yaml")
    with open(path, "w") as f:
        f.write(open(os.path.join(TOP, CONFIG)).read() + NAT_FIREWALL)
    p = start_tollgate(TOLLGATE, path, prefix, TOP)
    try:
        if not tel.wait_ready(prefix, timeout=20, proc=p):
            report("natfw.tollgate_starts", False, "no telemetry")
        else:
            check_natfw(prefix)
    except Exception as e:  # noqa: BLE001 - any failure is a test failure
        report("natfw.runs", False, repr(e))
    finally:
        out = stop_tollgate(p)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(tel.runtime_dir(prefix), ignore_errors=True)
    report("natfw.tollgate_clean_exit", p.returncode == 0,
           "exit %s: %s" % (p.returncode, out[-400:]))


if __name__ == "__main__":
    sys.exit(main())
