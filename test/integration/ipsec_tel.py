#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Telemetry of the ipsec stage and `tollgatectl ipsec`, against a running
tollgate on two net_pcap ports (harness.py's topology) with an ipsec
section: three policies of interest, four SAs that carry traffic and 300
more (each its own key) so that the SA table spans many pages.

Traffic, built with scapy: lan hosts send 5 UDP packets to 16.1.0.0/16
(protect, tunnel SA out-main), 3 to 16.2.0.0/16 (block) and 2 to
16.3.0.0/16 (a mirrored protect policy, SA out-both); from wan come 2
ESP packets encrypted by scapy with in-both's key (seq 1 and 2), one
with a broken ICV (seq 3) and one unprotected packet from 16.3.0.7 that
the mirrored policy wants protected.

Checked, against the YAML and what scapy built (never tollgate's own
code): /tollgate/ipsec (settings, drops), /tollgate/ipsec/sa (every SA
over all pages, each page under 16 KiB; packets, bytes, seq, err_auth
against the traffic and against the ESP found on the wire, decrypted by
scapy), /tollgate/ipsec/spd (evaluation order, hits), that no key hex
string appears in any reply or tollgatectl output, bad parameters
answered with an error, tollgatectl's tables and --json, and after a
live reload of the same file: every SA reused, counters and hits kept.
Then four more policies, reloaded: how the SPD answers (its 5 rules
walked at first, then 9 with the destination index in front of rte_acl,
and how many rules of each direction the index answers for).

  /usr/bin/python3 test/integration/ipsec_tel.py [-v] [--keep]

Needs root (EAL runtime files, net_pcap). TOLLGATE / TOLLGATECTL
override the binaries.
"""
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # test/, for tgtelemetry
sys.path.insert(0, HERE)
import tgtelemetry as tel  # noqa: E402
from harness import (H0, H1, TOLLGATE, TOLLGATECTL, PcapTollgate,  # noqa
                     Scratch, finish, pcap_yaml, report, scapy_missing,
                     wait_settled)

try:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.ipsec import ESP, SecurityAssociation  # noqa: F401
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
except ImportError:
    sys.exit(scapy_missing())

SCRATCH = Scratch("tg-iptel")
N_FILL = 300
PEER = "10.1.0.2"          # the tunnels' remote end (H1, on wan0)
US = "10.1.0.1"            # wan0


def key_of(i, n):
    """A distinct key for SA number i: n bytes."""
    return bytes((i * 7 + j * 13 + 1) & 0xFF for j in range(n - 2)) + \
        bytes([i >> 8, i & 0xFF])


SAS = {  # name: (spi, direction, mode, key, salt)
    "out-main": (0x1001, "outbound", "tunnel", key_of(1001, 16),
                 bytes.fromhex("01020304")),
    "out-both": (0x1002, "outbound", "tunnel", key_of(1002, 16),
                 bytes.fromhex("05060708")),
    "in-both": (0x2002, "inbound", "tunnel", key_of(2002, 16),
                bytes.fromhex("090a0b0c")),
    "in-idle": (0x2003, "inbound", "transport", key_of(2003, 16),
                bytes.fromhex("0d0e0f10")),
}
for _i in range(N_FILL):
    SAS["fill-%03d" % _i] = (0x10000 + _i, "outbound", "tunnel",
                             key_of(_i, 16), bytes([1, 2, _i >> 8, _i & 255]))

POLICIES = """  policies:
    - {name: protect-16-1, src: 10.0.0.0/24, dst: 16.1.0.0/16,
       direction: outbound, action: protect, sa: out-main}
    - {name: block-16-2, src: 10.0.0.0/24, dst: 16.2.0.0/16,
       direction: outbound, action: block}
    - {name: both-16-3, src: 10.0.0.0/24, dst: 16.3.0.0/16,
       direction: both, action: protect,
       sa: {outbound: out-both, inbound: in-both}}
    - {name: allow-udp-53, src: 10.0.0.0/24, dst: 16.4.0.0/16,
       protocol: udp, dst_port: 53, direction: outbound, action: allow}
"""
# Evaluation order by specificity (docs/configuration.md): all four have
# 24 + 16 address bits; allow-udp-53 names a protocol, so it comes first;
# the others as written.
ORDER = ["allow-udp-53", "protect-16-1", "block-16-2", "both-16-3"]


def ipsec_yaml():
    lines = ["ipsec:", "  allow_authenticated_bypass: true",
             POLICIES.rstrip("\n"), "  sas:"]
    for name, (spi, d, mode, key, salt) in SAS.items():
        lines.append("    - name: %s" % name)
        lines.append("      spi: 0x%x" % spi)
        lines.append("      direction: %s" % d)
        lines.append("      mode: %s" % mode)
        if mode == "tunnel":
            lines.append("      local: %s" % US)
            lines.append("      remote: %s" % PEER)
        lines.append("      algorithm: aes-128-gcm")
        lines.append("      key: %s" % key.hex())
        lines.append("      salt: %s" % salt.hex())
        if name == "out-main":
            lines.append("      lifetime: {soft_packets: 1000, "
                         "hard_packets: 2000}")
    return "\n".join(lines) + "\n"


def scapy_sa(name):
    spi, d, mode, key, salt = SAS[name]
    src, dst = (US, PEER) if d == "outbound" else (PEER, US)
    return SecurityAssociation(
        ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key + salt,
        auth_algo="NULL", tunnel_header=IP(src=src, dst=dst))


def inner(src, dst, n):
    return IP(src=src, dst=dst, ttl=64, id=n) / UDP(sport=4000 + n,
                                                    dport=5000) / \
        Raw(("<tg:iptel:%d>" % n).encode() + b"x" * n)


def traffic(macs):
    """Input frames per port, and what scapy expects."""
    lan, wan, exp = [], [], {}
    out_main = [inner("10.0.0.2", "16.1.2.%d" % (n + 1), n)
                for n in range(5)]
    blocked = [inner("10.0.0.3", "16.2.0.1", 10 + n) for n in range(3)]
    out_both = [inner("10.0.0.2", "16.3.0.%d" % (n + 1), 20 + n)
                for n in range(2)]
    for p in out_main + blocked + out_both:
        lan.append(bytes(Ether(src=H0, dst=macs["lan0"]) / p))
    sa = scapy_sa("in-both")
    good = [inner("16.3.0.5", "10.0.0.2", 30 + n) for n in range(2)]
    for seq, p in enumerate(good, 1):
        wan.append(bytes(Ether(src=H1, dst=macs["wan0"]) /
                         sa.encrypt(p, seq_num=seq)))
    bad = bytearray(bytes(Ether(src=H1, dst=macs["wan0"]) /
                          sa.encrypt(inner("16.3.0.5", "10.0.0.2", 40),
                                     seq_num=3)))
    bad[-1] ^= 0x55                                     # the ICV
    wan.append(bytes(bad))
    wan.append(bytes(Ether(src=H1, dst=macs["wan0"]) /
                     inner("16.3.0.7", "10.0.0.2", 50)))
    exp["out-main"] = {"packets": 5, "seq": 5,
                       "bytes": sum(len(p) for p in out_main),
                       "inner": [bytes(p) for p in out_main]}
    exp["out-both"] = {"packets": 2, "seq": 2,
                       "bytes": sum(len(p) for p in out_both)}
    # inbound bytes: the inner packet after decryption
    exp["in-both"] = {"packets": 2, "seq": 2, "err_auth": 1,
                      "bytes": sum(len(p) for p in good)}
    exp["hits"] = {"protect-16-1": (5, 0), "block-16-2": (3, 0),
                   "both-16-3": (2, 3), "allow-udp-53": (0, 0)}
    exp["drops"] = {"blocked": 3, "auth_failed": 1, "unprotected": 1}
    return {0: lan, 1: wan}, exp


def ctl(prefix, *args):
    p = subprocess.run([TOLLGATECTL, "-f", prefix] + list(args),
                       capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    err = p.stderr.decode(errors="replace")
    if "Sanitizer" in err or "runtime error:" in err:
        report("sanitizers(%s)" % " ".join(args), False, err[-2000:])
    return p.returncode, p.stdout.decode(errors="replace"), err


def rows(text, header):
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


def all_pages(prefix, cmd, key, count=None):
    """Every entry by index, and the raw size of each reply."""
    entries, sizes, start, gens = {}, [], 0, set()
    with tel.Telemetry(prefix) as t:
        while True:
            params = "%d" % start if count is None else "%d,%d" % (start,
                                                                   count)
            msg = "%s,%s" % (cmd, params)
            t.sock.send(msg.encode())
            raw = t.sock.recv(1 << 17)
            sizes.append(len(raw))
            r = json.loads(raw)[cmd]
            gens.add(r.get("generation"))
            for k, v in r.get(key, {}).items():
                entries[int(k)] = v
            if "next" not in r:
                return entries, sizes, r, gens
            if r["next"] <= start:
                raise RuntimeError("next does not advance")
            start = r["next"]


def probe_macs():
    tg = PcapTollgate(SCRATCH, "probe", {0: [], 1: []})
    cfg = tg.write_config("t.yaml", pcap_yaml("ipsec_tel.py", tg.prefix,
                                              tg.files))
    macs = {}
    try:
        if tg.start(TOLLGATE, cfg):
            ifs = tel.query(tg.prefix, "/tollgate/interfaces")
            macs = {k: v["mac"].lower() for k, v in ifs.items()}
    finally:
        tg.stop()
    return macs, tg


def check_sa_table(prefix, exp, gen, reused, where):
    sas, sizes, last, gens = all_pages(prefix, "/tollgate/ipsec/sa", "sas")
    names = list(SAS)
    report("%s.sa.all_entries_in_yaml_order" % where,
           [sas[i]["name"] for i in sorted(sas)] == names and
           sorted(sas) == list(range(len(names))) and
           last.get("total") == len(names),
           "got %d entries, total %s" % (len(sas), last.get("total")))
    report("%s.sa.paged_under_16k" % where,
           len(sizes) > 5 and max(sizes) < 16384 and gens == {gen},
           "pages %d, largest %d, generations %s" % (len(sizes),
                                                     max(sizes), gens))
    by = {v["name"]: v for v in sas.values()}
    bad = []
    for name, (spi, d, mode, key, salt) in SAS.items():
        s = by.get(name, {})
        want = {"spi": spi, "spi_hex": "0x%08x" % spi, "direction": d,
                "mode": mode, "protocol": "esp",
                "algorithm": "aes-128-gcm", "replay_window": 64,
                "esn": "no", "reused": "yes" if reused else "no",
                "inflight": 0}
        if mode == "tunnel":
            want.update(local=US, remote=PEER)
        e = exp.get(name, {})
        for k in ("packets", "seq", "bytes", "err_auth"):
            want[k] = e.get(k, 0)
        want["err_replay"] = want["err_other"] = want["expired"] = 0
        if name == "out-main":
            want.update(soft_packets=1000, hard_packets=2000)
        # in-both's one inbound rule (both-16-3 mirrored) meets no
        # other inbound rule, in-idle has none: both checked directly
        want["policy_check"] = "direct" if d == "inbound" else None
        got = {k: s.get(k) for k in want}
        if got != want:
            bad.append("%s: got %s, want %s" % (name, got, want))
        if mode == "transport" and ("local" in s or "remote" in s):
            bad.append("%s: transport SA with tunnel endpoints" % name)
    report("%s.sa.fields_and_counters" % where, not bad, "; ".join(bad[:4]))
    return sas


def check_spd(prefix, exp, where):
    pol, sizes, last, _ = all_pages(prefix, "/tollgate/ipsec/spd",
                                    "policies", count=2)
    got = [pol[i]["name"] for i in sorted(pol)]
    report("%s.spd.evaluation_order" % where, got == ORDER and
           len(sizes) == 2, "got %s over %d pages" % (got, len(sizes)))
    by = {v["name"]: v for v in pol.values()}
    hits = {n: (by[n]["hits_out"], by[n]["hits_in"]) for n in by}
    report("%s.spd.hits" % where, hits == exp["hits"],
           "got %s, want %s" % (hits, exp["hits"]))
    b = by.get("both-16-3", {})
    a = by.get("allow-udp-53", {})
    ok = (b.get("direction"), b.get("action"), b.get("src"), b.get("dst"),
          b.get("protocol"), b.get("sa_out"), b.get("sa_in"),
          b.get("index")) == ("both", "protect", "10.0.0.0/24",
                              "16.3.0.0/16", "any", "out-both", "in-both",
                              2) and \
        (a.get("protocol"), a.get("dst_port"), "src_port" in a,
         "sa_out" in a, a.get("action")) == ("udp", "53", False, False,
                                              "allow")
    report("%s.spd.fields" % where, ok, "%s / %s" % (b, a))
    return pol


def no_keys(texts, where):
    found = []
    for name, (spi, d, mode, key, salt) in SAS.items():
        for needle in (key.hex(), key.hex().upper(), (key + salt).hex()):
            for label, text in texts.items():
                if needle in text:
                    found.append("%s's key in %s" % (name, label))
    report("%s.no_key_anywhere" % where, not found and len(texts) > 0,
           "; ".join(found[:5]))


def raw_all(prefix):
    """Every ipsec reply's raw text (all SA and SPD pages)."""
    out = {}
    with tel.Telemetry(prefix) as t:
        for cmd in ("/tollgate/ipsec", "/tollgate/ipsec/sa",
                    "/tollgate/ipsec/spd"):
            start = 0
            while True:
                msg = cmd if cmd == "/tollgate/ipsec" else "%s,%d" % (
                    cmd, start)
                t.sock.send(msg.encode())
                raw = t.sock.recv(1 << 17).decode()
                out[msg] = raw
                r = json.loads(raw)[cmd]
                if "next" not in r:
                    break
                start = r["next"]
    return out


def check_wire(tg, exp):
    """ESP that left on wan0, decrypted by scapy: as many packets as
    out-main counted, the sequence numbers 1..5, the inner packets."""
    frames = tg.outputs.get(1) or []
    seqs, inner_got = [], []
    sa = scapy_sa("out-main")
    for f in frames:
        e = Ether(f)
        if ESP in e and e[ESP].spi == SAS["out-main"][0]:
            seqs.append(e[ESP].seq)
            try:
                inner_got.append(bytes(sa.decrypt(e[IP].copy())[UDP]))
            except Exception as x:  # noqa: BLE001 - scapy raises many
                inner_got.append(repr(x))
    # the inner packet's UDP datagram (its IP header was forwarded:
    # TTL - 1)
    want = [bytes(IP(p)[UDP]) for p in exp["out-main"]["inner"]]
    report("wire.out_main_esp", seqs == [1, 2, 3, 4, 5] and
           inner_got == want, "seqs %s, inner %s" % (seqs, inner_got[:1]))


def check_errors(prefix):
    bad = []
    for cmd, params in (("/tollgate/ipsec/sa", "abc"),
                        ("/tollgate/ipsec/sa", "999999"),
                        ("/tollgate/ipsec/sa", "0,0"),
                        ("/tollgate/ipsec/sa", "0,5,9"),
                        ("/tollgate/ipsec/spd", "5"),
                        ("/tollgate/ipsec/spd", "-1"),
                        ("/tollgate/ipsec", "1")):
        try:
            r = tel.query(prefix, cmd, params)
        except tel.TelemetryError as e:
            bad.append("%s,%s: %s" % (cmd, params, e))
            continue
        if not (isinstance(r, dict) and list(r) == ["error"] and
                len(r["error"]) > 10):
            bad.append("%s,%s: %r" % (cmd, params, r))
    r = tel.query(prefix, "/tollgate/ipsec/spd", "4")
    if r.get("policies") != {} or r.get("total") != 4 or "next" in r:
        bad.append("START = total: %r" % r)
    report("errors.bad_parameters_answered", not bad, "; ".join(bad))
    rc, out, err = ctl(prefix, "raw", "/tollgate/ipsec/sa,x")
    report("errors.ctl_raw_exit_1", rc == 1 and '"error"' in out,
           "exit %d %s" % (rc, out))
    rc, out, err = ctl(prefix, "ipsec", "sa", "no-such-sa")
    report("errors.ctl_unknown_sa", rc == 1 and "no-such-sa" in err,
           "exit %d %s" % (rc, err))
    report("errors.still_running", tel.query(prefix, "/tollgate/ipsec")
           .get("enabled") == "yes")


def check_ctl(prefix, exp, sas, reused, where):
    texts = {}
    rc, out, err = ctl(prefix, "ipsec")
    texts["ipsec"] = out
    summ = tel.query(prefix, "/tollgate/ipsec")
    ok = rc == 0 and "ipsec: enabled" in out and \
        "crypto device: crypto_aesni_mb" in out and \
        "allow authenticated bypass: yes" in out and \
        "SAs: %d (%d kept" % (len(SAS), len(SAS) if reused else 0) in out
    drops = {r[0]: int(r[1]) for r in rows(out, "DROP")}
    want_drops = {"ipsec." + k: v for k, v in exp["drops"].items()}
    report("%s.ctl.ipsec_summary" % where, ok and drops == want_drops,
           "exit %d drops %s want %s: %s %s" % (rc, drops, want_drops,
                                                out[:400], err))
    t = {r[0]: r for r in rows(out, "NAME")}
    mb = exp["out-main"]
    want = ["out-main", "0x00001001", "outbound", "tunnel", "aes-128-gcm",
            "%s>%s" % (US, PEER), "5", str(mb["bytes"]), "5", "0", "ok",
            "yes" if reused else "no"]
    ib = exp["in-both"]
    want_in = ["in-both", "0x00002002", "inbound", "tunnel", "aes-128-gcm",
               "%s>%s" % (US, PEER), "2", str(ib["bytes"]), "2", "1", "ok",
               "yes" if reused else "no"]
    report("%s.ctl.ipsec_sa_rows" % where, t.get("out-main") == want and
           t.get("in-both") == want_in and len(t) == len(SAS) and
           t.get("in-idle", [""] * 6)[5] == "-",
           "got %s / %s (%d rows)" % (t.get("out-main"), t.get("in-both"),
                                      len(t)))
    rc, out, err = ctl(prefix, "ipsec", "sa")
    texts["ipsec sa"] = out
    report("%s.ctl.ipsec_sa_all" % where, rc == 0 and
           [r[0] for r in rows(out, "NAME")] == list(SAS), err)
    rc, out, err = ctl(prefix, "ipsec", "sa", "out-main")
    texts["ipsec sa out-main"] = out
    f = dict((ln.split(None, 1) + [""])[:2] for ln in out.splitlines()[1:])
    f = {k: v.strip() for k, v in f.items()}
    report("%s.ctl.ipsec_sa_detail" % where, rc == 0 and
           f.get("spi") == str(0x1001) and f.get("packets") == "5" and
           f.get("hard_packets") == "2000" and f.get("seq") == "5" and
           "key" not in " ".join(f), "exit %d %s" % (rc, out[:500]))
    rc, out, err = ctl(prefix, "ipsec", "spd")
    texts["ipsec spd"] = out
    got = {r[1]: r for r in rows(out, "#")}
    ok = rc == 0 and [r[1] for r in rows(out, "#")] == ORDER and \
        got["both-16-3"][9:] == ["out-both/in-both", "2", "3"] and \
        got["protect-16-1"][9:] == ["out-main", "5", "0"] and \
        got["block-16-2"][3] == "block" and \
        got["allow-udp-53"][6:9] == ["udp", "any", "53"]
    report("%s.ctl.ipsec_spd_rows" % where, ok, out[:800] + err)
    rc, out, err = ctl(prefix, "--json", "ipsec")
    texts["--json ipsec"] = out
    try:
        j = json.loads(out)
        m = j["/tollgate/ipsec/sa"]
        ok = rc == 0 and j["/tollgate/ipsec"]["sas"] == len(SAS) and \
            m["total"] == len(SAS) and \
            {int(k): v for k, v in m["sas"].items()} == sas and \
            "next" not in m
    except (ValueError, KeyError, TypeError) as e:
        ok, out = False, "%r %s" % (e, out[:300])
    report("%s.ctl.json_merged" % where, ok, out[:300])
    rc, out, err = ctl(prefix, "--json", "ipsec", "spd")
    texts["--json ipsec spd"] = out
    try:
        j = json.loads(out)["/tollgate/ipsec/spd"]
        ok = rc == 0 and j["total"] == 4 and \
            [j["policies"][str(i)]["name"] for i in range(4)] == ORDER
    except (ValueError, KeyError, TypeError) as e:
        ok = False
    report("%s.ctl.json_spd" % where, ok, out[:300])
    rc, out, err = ctl(prefix, "--json", "ipsec", "sa", "in-both")
    texts["--json ipsec sa in-both"] = out
    try:
        j = json.loads(out)["/tollgate/ipsec/sa"]["sas"]
        ok = rc == 0 and list(j.values())[0]["err_auth"] == 1
    except (ValueError, KeyError, TypeError, IndexError):
        ok = False
    report("%s.ctl.json_one_sa" % where, ok, out[:300])
    return texts, summ


def check_spd_index(tg, cfg):
    """Four more outbound policies make 9 rules: more than the 8 the SPD
    walks, so the destination index answers in front of rte_acl. Every
    outbound destination (16.1-4.0.0/16, 198.18.0-3.0/24) is its own and
    nests in none of the others, so no earlier rule overlaps any of the
    8 outbound rules; the one inbound rule (both-16-3 mirrored) is alone
    in its direction."""
    extra = "".join(
        "    - {name: block-198-%d, dst: 198.18.%d.0/24, "
        "direction: outbound, action: block}\n" % (k, k) for k in range(4))
    text = open(cfg).read().replace(POLICIES, POLICIES + extra)
    report("index.config", POLICIES + extra in text, "policies not found")
    tg.write_config("tollgate.yaml", text)
    rc, out, err = ctl(tg.prefix, "reload")
    report("index.reload_ok", rc == 0, out + err)
    summ = tel.query(tg.prefix, "/tollgate/ipsec")
    got = {k: summ.get(k) for k in ("policies", "spd_lookup",
                                    "spd_indexed_out", "spd_indexed_in")}
    want = {"policies": 8, "spd_lookup": "index", "spd_indexed_out": 8,
            "spd_indexed_in": 1}
    report("index.summary", got == want, "got %s, want %s" % (got, want))
    rc, out, err = ctl(tg.prefix, "ipsec")
    report("index.ctl", rc == 0 and "lookup: index; rules in the "
           "destination index: 8 outbound, 1 inbound" in out,
           out[:600] + err)


def main():
    SCRATCH.parse_args(__doc__)
    if os.geteuid() != 0 or not os.access(TOLLGATE, os.X_OK):
        report("preflight", False, "needs root and %s" % TOLLGATE)
        return finish()
    macs, probe = probe_macs()
    if not macs:
        report("probe.macs", False, "%s\n%s" % (probe.error, probe.tail()))
        return finish()
    inputs, exp = traffic(macs)
    tg = PcapTollgate(SCRATCH, "run", inputs)
    cfg = tg.write_config("tollgate.yaml", pcap_yaml(
        "ipsec_tel.py", tg.prefix, tg.files, extra=ipsec_yaml()))
    try:
        if not tg.start(TOLLGATE, cfg):
            report("start", False, "%s\n%s" % (tg.error, tg.tail()))
            return finish()
        n_in = len(inputs[0]) + len(inputs[1])
        s, ok = wait_settled(lambda c: tel.query(tg.prefix, c), n_in,
                             more=lambda s: s["stages"]["ipsec"]["held"] ==
                             s["stages"]["ipsec"]["emitted"])
        report("traffic.settled", ok, "stats %s" % {k: s.get(k) for k in (
            "rx", "tx", "in_rings")})
        summ = tel.query(tg.prefix, "/tollgate/ipsec")
        want = {"enabled": "yes", "allow_authenticated_bypass": "yes",
                "policy_order": "specificity", "policies": 4,
                "sas": len(SAS), "sas_reused": 0, "inflight": 0,
                "crypto_device": "crypto_aesni_mb",
                # 4 policies are at most 8 rules: walked, no rte_acl
                "spd_lookup": "walk", "spd_indexed_out": 0,
                "spd_indexed_in": 0}
        got = {k: summ.get(k) for k in want}
        nz = {k: v for k, v in summ.get("drops", {}).items() if v}
        report("summary.fields", got == want and
               summ.get("crypto", {}).get("driver") == "crypto_aesni_mb",
               "got %s (%s)" % (got, summ.get("crypto")))
        report("summary.drops", nz == exp["drops"] and
               "no_sa" in summ.get("drops", {}),
               "got %s, want %s" % (nz, exp["drops"]))
        sas = check_sa_table(tg.prefix, exp, 1, False, "start")
        check_spd(tg.prefix, exp, "start")
        texts, _ = check_ctl(tg.prefix, exp, sas, False, "start")
        texts.update(raw_all(tg.prefix))
        no_keys(texts, "start")
        check_errors(tg.prefix)

        rc, out, err = ctl(tg.prefix, "reload")
        report("reload.ok", rc == 0, out + err)
        time.sleep(0.2)
        summ = tel.query(tg.prefix, "/tollgate/ipsec")
        report("reload.all_sas_reused", summ.get("sas_reused") == len(SAS)
               and summ.get("generation") == 2, "%s" % summ)
        sas = check_sa_table(tg.prefix, exp, 2, True, "reload")
        check_spd(tg.prefix, exp, "reload")
        texts, _ = check_ctl(tg.prefix, exp, sas, True, "reload")
        texts.update(raw_all(tg.prefix))
        no_keys(texts, "reload")
        check_spd_index(tg, cfg)
    finally:
        tg.stop()
    report("exit.clean", tg.rc == 0 and not tg.runtime_dir_left,
           "exit %s\n%s" % (tg.rc, tg.tail()))
    check_wire(tg, exp)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
