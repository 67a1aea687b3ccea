#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""IPsec at scale (issue 7): AES-128-GCM tunnel-mode encryption and
decryption through tollgate's ipsec stage against DPDK's ipsec-secgw and
dpdk-test-crypto-perf, with 1, 100 and 10,000 SAs, in the same run, on the
same worker lcore, traffic and crypto device (crypto_aesni_mb).

Run as root with Debian's python (scapy), on an otherwise idle machine:

    bench/ipsec_scale.py                    # N = 1,100,10000; 64 and 1400 B
    bench/ipsec_scale.py --quick            # smoke: N = 1,100, < 2 minutes
    bench/ipsec_scale.py --sas 100 --sizes 64 --direction encrypt

It takes /tmp/bench.lock itself (flock; not when started under
`flock /tmp/bench.lock ...`, which it notices), builds ipsec-secgw into
bench/peers/ when missing, writes the traffic into bench/traffic/, prints a
markdown table and writes bench/results/ipsec-scale-<timestamp>.json.

What is measured, per direction (encrypt, decrypt), N and frame size:

- Traffic. N SAs, SA i protects the destination prefix 16.(i>>8).(i&255).0
  /24 (traffic.prefixes_24("16.0.0.0", N)); its tunnel peer is
  203.0.(i//250).(i%250+1). encrypt: max(4096, N) cleartext UDP frames from
  48.0.0.0/16, spread evenly over the N prefixes (traffic.udp_flows()),
  arriving on port 0. decrypt: the same cleartext encrypted once by
  ipsec-secgw with the N *inbound* keys (tunnel 203.0.x.y -> 10.1.0.1, the
  appliance), captured with net_pcap tx_pcap= and its MACs rewritten: ESP
  frames of N SAs (SPI 200000+i), each SA's sequence numbers 1.. . The file
  is replayed forever, so anti-replay is off on every inbound SA (tollgate
  replay_window: 0, ipsec-secgw's default -w 0). SIZE is the cleartext frame
  (FCS included), as in bench.py; the ESP frames are 56-58 B longer.
- ipsec-secgw: built from dpdk-doc's examples, with one change for
  net_pcap (RX offloads masked by the device's capabilities). -u on the ESP
  port (encrypt: port 1, decrypt: port 0), SP rules `sport 0:65535 dport
  0:65535`, routes to port 1, `-l 1` (it opens one TX queue per lcore;
  net_pcap has one), --vdev crypto_aesni_mb.
- tollgate: a generated config (tollgate_yaml()): N SAs and N policies
  (`action: protect`), lcore 1 the worker with every stage. Its ipsec
  stage's cost per packet = Δ(stages.ipsec.cycles + tick_cycles) /
  Δ stages.ipsec.in, from /tollgate/stats.
- tollgate's encryption is checked before it is measured: the cleartext
  file once through it (tx_pcap), every packet out, a sample decrypted by
  scapy (ICV checked) back to UDP for the SA's prefix. Its decryption
  shows as packets out with no ipsec drops (the inner packet is checked
  against the SA's policy by the stage itself).
- Mpps: Δ opackets of both ports over the window (/ethdev/stats), the same
  for both systems; cycles/packet: TSC cycles the worker thread was on a
  CPU / packets transmitted (I/O included).
- dpdk-test-crypto-perf: throughput test, crypto_aesni_mb, aead aes-gcm,
  key 16, IV 12, AAD 8, digest 16, burst 32, buffer sizes = the frame
  sizes, encrypt and decrypt: its Cycles/Buf, the cost of one crypto
  operation with nothing else around it.
- The floor under the stage: build/bench/ipsec_floor (bench/ipsec_floor.c)
  right after each crypto-perf run, on the same lcore: (a) the AES-GCM of
  the ESP packet alone through CPU crypto, (b) tollgate's
  tg_ipsec_cpu_process (rte_ipsec + CPU crypto), (c) rte_ipsec with
  lookaside crypto ops; TSC cycles per packet of the same size and SA
  spread, hot packets, nothing around the calls. (b) / crypto-perf above
  1.3 means the stage's target cannot be met with rte_ipsec on this
  device, whatever the stage's own code does.

Targets (issue 7): tollgate Mpps >= 1.1 x ipsec-secgw's; the ipsec stage's
cycles per packet <= 1.3 x crypto-perf's cycles per operation.
"""
import argparse
import datetime
import fcntl
import hashlib
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import scenarios as sc  # noqa: E402
import telemetry  # noqa: E402
import traffic as tr  # noqa: E402

PEERS = os.path.join(HERE, "peers")
SECGW = os.path.join(PEERS, "ipsec-secgw", "build", "ipsec-secgw")
SECGW_STAMP = os.path.join(PEERS, ".stamp-ipsec-secgw")
CRYPTO_PERF = "/usr/bin/dpdk-test-crypto-perf"
# bench/ipsec_floor.c, built by scripts/build.sh into build/bench/
FLOOR = os.path.join(os.path.dirname(HERE), "build", "bench", "ipsec_floor")
EXAMPLES = "/usr/share/dpdk/examples"
RESULTS_DIR = os.path.join(HERE, "results")
TRAFFIC_DIR = os.path.join(HERE, "traffic")
LOCK = "/tmp/bench.lock"
CRYPTO_DEV = "crypto_aesni_mb"

# Addresses: the appliance is 10.0.0.1 (lan0) and 10.1.0.1 (wan0), where
# wan0 is the ESP side: the tunnels' local end. In the decrypt configs the
# ESP arrives on port 0, so there wan0 is on p0.
LAN_IP, WAN_IP = "10.0.0.1", "10.1.0.1"
LAN_GW, WAN_GW = "10.0.0.2", "10.1.0.2"
OUT_SPI, IN_SPI = 100000, 200000
PACKETS_MIN = 4096


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ SAs


def sa_prefixes(n):
    return tr.prefixes_24("16.0.0.0", n)


def remote(i):
    """The tunnel peer of SA I: 203.0.0.1 ..., 250 per /24 (all in
    203.0.0.0/16: one route)."""
    return "203.0.%d.%d" % (i // 250, i % 250 + 1)


def sa_key(direction, i):
    """(key 16 bytes, salt 4 bytes) of SA I of DIRECTION: every SA its own
    (tollgate refuses shared keys: GCM nonce reuse), deterministic."""
    h = hashlib.sha256(("tollgate-bench-%s-%d" % (direction, i)).encode())
    d = h.digest()
    return d[:16], d[16:20]


def colon_hex(b):
    return ":".join("%02x" % x for x in b)


# ------------------------------------------------------------ the peer


def secgw_recipe():
    ver = subprocess.run(["dpkg-query", "-W",
                          "-f=${Version}", "dpdk-doc"], capture_output=True,
                         text=True).stdout.strip()
    return "ipsec-secgw-v1 rx-offload-mask %s" % ver


def build_secgw():
    """Copy dpdk-doc's ipsec-secgw and common into bench/peers/, mask the
    hard-coded RX checksum offload by the device's capabilities (net_pcap
    has none: port configure fails otherwise) and build with make shared
    (pkg-config). Returns None or why it could not."""
    recipe = secgw_recipe()
    try:
        with open(SECGW_STAMP) as f:
            if f.read().strip() == recipe and os.access(SECGW, os.X_OK):
                return None
    except OSError:
        pass
    src = os.path.join(EXAMPLES, "ipsec-secgw")
    if not os.path.isdir(src):
        return "%s missing (apt-get install dpdk-doc)" % src
    log("== building ipsec-secgw into %s (patched: RX offloads masked by "
        "the device's capabilities, for net_pcap)" % os.path.relpath(PEERS))
    os.makedirs(PEERS, exist_ok=True)
    dst = os.path.join(PEERS, "ipsec-secgw")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    if not os.path.isdir(os.path.join(PEERS, "common")):
        shutil.copytree(os.path.join(EXAMPLES, "common"),
                        os.path.join(PEERS, "common"))
    path = os.path.join(dst, "ipsec-secgw.c")
    with open(path) as f:
        text = f.read()
    old = "\tlocal_port_conf.rxmode.offloads |= req_rx_offloads;\n"
    if text.count(old) != 1:
        return "ipsec-secgw patch did not apply (DPDK version?)"
    text = text.replace(old, old + "\t/* tollgate bench: net_pcap has no RX "
                        "checksum offload */\n\tlocal_port_conf.rxmode."
                        "offloads &= dev_info.rx_offload_capa;\n")
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(PEERS, "ipsec-secgw-build.log"), "w") as lf:
        rc = subprocess.run(["make", "-C", dst, "shared"], stdout=lf,
                            stderr=subprocess.STDOUT).returncode
    if rc != 0 or not os.access(SECGW, os.X_OK):
        return "build failed (see bench/peers/ipsec-secgw-build.log)"
    with open(SECGW_STAMP, "w") as f:
        f.write(recipe + "\n")
    return None


def secgw_cfg(n, direction):
    """ipsec-secgw's config file (SP, SA, RT) for N SAs.
    encrypt: outbound SAs OUT_SPI+i to remote(i), one inbound SA (-u
    needs one). decrypt: inbound SAs IN_SPI+i from remote(i) to WAN_IP.
    gen: the decrypt traffic's source: outbound SAs with the inbound keys
    and SPIs, remote(i) -> WAN_IP (the peers' side of the tunnels)."""
    out = ["# generated by bench/ipsec_scale.py: %d SAs, %s" % (n, direction)]
    pfx = sa_prefixes(n)
    for i in range(n):
        if direction == "encrypt":
            out.append("sp ipv4 out esp protect %d pri 1 dst %s sport "
                       "0:65535 dport 0:65535" % (OUT_SPI + i, pfx[i]))
        elif direction == "decrypt":
            out.append("sp ipv4 in esp protect %d pri 1 dst %s sport "
                       "0:65535 dport 0:65535" % (IN_SPI + i, pfx[i]))
        else:
            out.append("sp ipv4 out esp protect %d pri 1 dst %s sport "
                       "0:65535 dport 0:65535" % (IN_SPI + i, pfx[i]))
    for i in range(n):
        if direction == "encrypt":
            k, s = sa_key("out", i)
            sa = "sa out %d" % (OUT_SPI + i)
            ends = "src %s dst %s" % (WAN_IP, remote(i))
        elif direction == "decrypt":
            k, s = sa_key("in", i)
            sa = "sa in %d" % (IN_SPI + i)
            ends = "src %s dst %s" % (remote(i), WAN_IP)
        else:
            k, s = sa_key("in", i)
            sa = "sa out %d" % (IN_SPI + i)
            ends = "src %s dst %s" % (remote(i), WAN_IP)
        out.append("%s aead_algo aes-128-gcm aead_key %s mode ipv4-tunnel "
                   "%s" % (sa, colon_hex(k + s), ends))
    if direction == "encrypt":
        k, s = sa_key("dummy-in", 0)
        out.append("sa in %d aead_algo aes-128-gcm aead_key %s mode "
                   "ipv4-tunnel src %s dst %s" % (IN_SPI + 999999,
                                                  colon_hex(k + s),
                                                  "198.51.100.1", WAN_IP))
        # -l (librte_ipsec) wants an SP rule for every SA; none of the
        # traffic matches it
        out.append("sp ipv4 in esp protect %d pri 1 dst 192.0.2.0/24 sport "
                   "0:65535 dport 0:65535" % (IN_SPI + 999999))
        out.append("rt ipv4 dst 203.0.0.0/16 port 1")
    elif direction == "decrypt":
        out.append("rt ipv4 dst 16.0.0.0/8 port 1")
    else:
        out.append("rt ipv4 dst %s/32 port 1" % WAN_IP)
    return "\n".join(out) + "\n"


def secgw_mbufs(ctx):
    # infinite_rx's copy of the file, crypto queue (2048 descriptors),
    # rings, per-lcore caches
    return ctx.mbufs(ring_mbufs=2 * 2048 + 4096, lcores=2, cache=256)


def secgw_system(n, direction, lib=False):
    """ipsec-secgw on the bench's ports. -u marks the ESP side. lib: its
    librte_ipsec code path (-l, lookaside crypto ops), the library
    tollgate uses; without, its own ESP code (the default)."""
    return sc.System(
        name="ipsec-secgw-lib" if lib else "ipsec-secgw",
        files=lambda ctx: {"secgw.cfg": secgw_cfg(n, direction)},
        command=lambda ctx: [
            SECGW, *sc.replace(ctx, lcores="1").eal(),
            "--vdev", CRYPTO_DEV, "--",
            "-p", "0x3", "-u", "0x2" if direction == "encrypt" else "0x1",
            "--config=(0,0,1),(1,0,1)", "-s", str(secgw_mbufs(ctx)),
            "-f", ctx.file("secgw.cfg")] + (["-l"] if lib else []),
    )


# ------------------------------------------------------------ tollgate


def tollgate_yaml(ctx, n, direction, keys_inline=True):
    """tollgate's config for N SAs. encrypt: lan0 (p0) receives the
    cleartext, N outbound policies (dst 16.i/24, protect with SA out-i,
    tunnel WAN_IP -> remote(i)); routes to 16.0.0.0/8 and the tunnel
    peers 203.0.0.0/16 via WAN_GW on wan0 (p1). decrypt: wan0 is p0 and
    receives the ESP, N inbound SAs in-i (remote(i) -> WAN_IP, no replay
    window: the file is replayed) and N inbound policies (dst 16.i/24,
    protect with in-i); the cleartext is routed to 16.0.0.0/8 via LAN_GW
    on lan0 (p1)."""
    ring = 1024
    mbufs = ctx.mbufs(ring_mbufs=5 * ring + 2048, lcores=2, cache=256)
    ports = ("p0", "p1") if direction == "encrypt" else ("p1", "p0")
    out = [
        "# Generated by bench/ipsec_scale.py: %d SAs, %s." % (n, direction),
        "dpdk:",
        '  lcores: "%s"' % ctx.lcores,
        "  memory_mb: %d" % ctx.memory_mb,
        "  no_huge: true",
        "  file_prefix: %s" % ctx.prefix,
        "mempool:",
        "  mbufs: %d" % mbufs,
        "  cache: 256",
        "ports:",
        "  - name: p0",
        '    device: "%s"' % ctx.vdev(0),
        "  - name: p1",
        '    device: "%s"' % ctx.vdev(1),
        "interfaces:",
        "  - name: lan0",
        "    port: %s" % ports[0],
        "    address: %s/24" % LAN_IP,
        "  - name: wan0",
        "    port: %s" % ports[1],
        "    address: %s/24" % WAN_IP,
        "routes:",
    ]
    if direction == "encrypt":
        out += ["  - prefix: 16.0.0.0/8", "    via: %s" % WAN_GW,
                "    interface: wan0",
                "  - prefix: 203.0.0.0/16", "    via: %s" % WAN_GW,
                "    interface: wan0"]
    else:
        out += ["  - prefix: 16.0.0.0/8", "    via: %s" % LAN_GW,
                "    interface: lan0"]
    out += ["neighbors:",
            "  - address: %s" % WAN_GW, '    mac: "02:00:00:00:01:02"',
            "    interface: wan0",
            "  - address: %s" % LAN_GW, '    mac: "02:00:00:00:01:03"',
            "    interface: lan0",
            "pipeline:",
            "  burst: 32",
            "  ring_size: %d" % ring,
            "  placement:",
            "    - lcore: 1",
            "      ports: [p0, p1]",
            "      stages: [forward, filter, natfw, ipsec, localfilter]",
            "ipsec:",
            "  crypto_device: %s" % CRYPTO_DEV,
            "  policies:"]
    pfx = sa_prefixes(n)
    d = "out" if direction == "encrypt" else "in"
    for i in range(n):
        out.append("    - {name: p%d, dst: %s, direction: %sbound, "
                   "action: protect, sa: %s%d}" % (i, pfx[i], d, d, i))
    out.append("  sas:")
    for i in range(n):
        k, s = sa_key(d, i)
        spi = (OUT_SPI if d == "out" else IN_SPI) + i
        extra = ", replay_window: 0" if d == "in" else ""
        out.append("    - {name: %s%d, spi: %d, direction: %sbound, "
                   "mode: tunnel, local: %s, remote: %s, algorithm: "
                   "aes-128-gcm, key: %s, salt: %s%s}" % (
                       d, i, spi, d, WAN_IP, remote(i), k.hex(), s.hex(),
                       extra))
    return "\n".join(out) + "\n"


def tollgate_system(n, direction):
    return sc.System(
        name="tollgate",
        files=lambda ctx: {"tollgate.yaml": tollgate_yaml(ctx, n, direction)},
        command=lambda ctx: [sc.TOLLGATE, "-c", ctx.file("tollgate.yaml"),
                             "--", "-l", ctx.lcores, "--file-prefix",
                             ctx.prefix],
        tollgate_stats=True,
    )


def tollgate_check(path):
    """`tollgate --check`: (ok, runnable, output). runnable is False while
    the binary only checks the ipsec section (the stage not built)."""
    try:
        p = subprocess.run([sc.TOLLGATE, "-c", path, "--check"],
                           capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, False, str(e)
    text = (p.stdout + p.stderr).strip()
    runnable = "not built yet" not in text
    return p.returncode == 0, runnable, text


# ------------------------------------------------------------ traffic


def cleartext(n, size):
    """The cleartext file for N SAs: max(4096, N) UDP frames, spread
    evenly over the N prefixes (packet i to prefix i mod N)."""
    path = os.path.join(TRAFFIC_DIR, "ipsec-clear-%d-%d.pcap" % (n, size))
    npk = max(PACKETS_MIN, n)
    if not os.path.exists(path):
        pf = sa_prefixes(n)
        # udp_flows takes prefix i for the first len(prefixes) packets and
        # random ones after: give it the list repeated for an even spread
        reps = -(-npk // n)
        tr.udp_flows(path, size, n_packets=npk, prefixes=(pf * reps)[:npk])
    return path, npk


def pcap_records(path):
    """[(header bytes, frame bytes)] of a pcap (classic format)."""
    out = []
    with open(path, "rb") as f:
        gh = f.read(24)
        if len(gh) < 24:
            raise ValueError("%s: no pcap header" % path)
        # microsecond or nanosecond (net_pcap's tx_pcap) magic
        le = gh[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
        fmt = "<IIII" if le else ">IIII"
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            _, _, incl, _ = struct.unpack(fmt, h)
            out.append((h, f.read(incl)))
    return gh, out


def capture(argv, prefix, npk, logf, what):
    """Run ARGV (a DPDK process with port 1 writing a tx_pcap, port 0
    reading a file once) until port 1 sent NPK packets or stopped
    sending for 2 s, then stop it (the capture is written at close)."""
    with open(logf, "w") as lf:
        lf.write("$ %s\n" % " ".join(argv))
        lf.flush()
        bench._prefixes.add(prefix)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=lf,
                             stderr=subprocess.STDOUT, start_new_session=True)
    bench._live[p.pid] = p
    try:
        deadline = time.monotonic() + 120
        tel, sent, last, still = None, -1, -1, 0
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("%s exited with %d:\n%s" %
                                   (what, p.returncode, bench.tail(logf)))
            if tel is None and os.path.exists(telemetry.socket_path(prefix)):
                try:
                    tel = telemetry.Telemetry(prefix)
                except OSError:
                    tel = None
            if tel is not None:
                sent = tel.query("/ethdev/stats", "1")["opackets"]
                if sent >= npk:
                    break
                still = still + 1 if sent == last and sent > 0 else 0
                last = sent
                if still >= 10:
                    break
            time.sleep(0.2)
        if tel is not None:
            tel.close()
    finally:
        bench.stop(p)
        bench.remove_runtime_dir(prefix)


def verify_tollgate_encrypt(n, size, wd):
    """tollgate encrypts the cleartext file once (read once, port 1's
    tx_pcap): every packet must come out, and a sample must decrypt with
    scapy (ICV checked) to UDP for its SA's prefix, from WAN_IP to the SA's
    peer. Returns a short description; raises on a wrong output."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.layers.l2 import Ether
    import ipaddress
    clear, npk = cleartext(n, size)
    os.makedirs(wd, exist_ok=True)
    cap = os.path.join(wd, "tollgate-out.pcap")
    prefix = "tgis%d-ver-%d-%d" % (os.getpid(), n, size)
    ctx = sc.Ctx(prefix=prefix, rx_pcap=clear,
                 empty_pcap=os.path.join(TRAFFIC_DIR, "empty.pcap"),
                 size=size, n_packets=npk, workdir=wd)
    text = tollgate_yaml(ctx, n, "encrypt")
    text = text.replace("rx_pcap=%s,infinite_rx=1" % clear,
                        "rx_pcap=%s" % clear)
    text = text.replace('rx_pcap=%s"' % ctx.empty_pcap,
                        'rx_pcap=%s,tx_pcap=%s"' % (ctx.empty_pcap, cap))
    cfg = os.path.join(wd, "tollgate-verify.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    capture([sc.TOLLGATE, "-c", cfg, "--", "-l", "0-1", "--file-prefix",
             prefix], prefix, npk, os.path.join(wd, "tollgate-verify.log"),
            "tollgate (verify)")
    _, recs = pcap_records(cap)
    if len(recs) != npk:
        raise RuntimeError("tollgate encrypted %d of %d packets" % (
            len(recs), npk))
    pfx = sa_prefixes(n)
    step = max(1, len(recs) // 16)
    for j in range(0, len(recs), step):
        p = Ether(recs[j][1])
        i = p[ESP].spi - OUT_SPI
        if not 0 <= i < n or p[IP].src != WAN_IP or p[IP].dst != remote(i):
            raise RuntimeError("tollgate output %d: SPI %d %s -> %s" % (
                j, p[ESP].spi, p[IP].src, p[IP].dst))
        k, s = sa_key("out", i)
        sa = SecurityAssociation(ESP, spi=p[ESP].spi, crypt_algo="AES-GCM",
                                 crypt_key=k + s,
                                 tunnel_header=IP(src=WAN_IP, dst=remote(i)))
        inner = sa.decrypt(p[IP])
        if not inner.haslayer("UDP") or \
                ipaddress.IPv4Address(inner.dst) not in pfx[i]:
            raise RuntimeError("tollgate output %d does not decrypt to UDP "
                               "to %s" % (j, pfx[i]))
    return "%d packets encrypted, %d decrypted by scapy" % (
        len(recs), len(range(0, len(recs), step)))


def esp_traffic(n, size, empty, keep_dir):
    """The decrypt traffic for N SAs: the cleartext file encrypted once by
    ipsec-secgw (secgw_cfg(n, "gen")), port 1's tx_pcap capture, the MACs
    rewritten to the bench's (SRC_MAC -> DUT_MAC). Cached in
    bench/traffic/."""
    path = os.path.join(TRAFFIC_DIR, "ipsec-esp-%d-%d.pcap" % (n, size))
    clear, npk = cleartext(n, size)
    if os.path.exists(path):
        return path, npk
    wd = os.path.join(keep_dir, "gen-%d-%d" % (n, size))
    os.makedirs(wd, exist_ok=True)
    cap = os.path.join(wd, "esp-raw.pcap")
    cfg = os.path.join(wd, "secgw.cfg")
    with open(cfg, "w") as f:
        f.write(secgw_cfg(n, "gen"))
    prefix = "tgis%d-gen-%d-%d" % (os.getpid(), n, size)
    argv = [SECGW, "-l", "1", "--no-huge", "-m", "1024", "--no-pci",
            "--file-prefix", prefix,
            "--vdev", "net_pcap0,rx_pcap=%s" % clear,
            "--vdev", "net_pcap1,rx_pcap=%s,tx_pcap=%s" % (empty, cap),
            "--vdev", CRYPTO_DEV, "--", "-p", "0x3",
            "--config=(0,0,1),(1,0,1)", "-s", str(2 * npk + 16383),
            "-f", cfg]
    logf = os.path.join(wd, "secgw.log")
    log("   encrypting %d packets for the decrypt traffic (ipsec-secgw, "
        "tx_pcap)" % npk)
    capture(argv, prefix, npk, logf, "ipsec-secgw (gen)")
    gh, recs = pcap_records(cap)
    if len(recs) != npk:
        raise RuntimeError("ipsec-secgw encrypted %d of %d packets (log %s)"
                           % (len(recs), npk, logf))
    mac = bytes.fromhex(tr.DUT_MAC.replace(":", "")) + \
        bytes.fromhex(tr.SRC_MAC.replace(":", ""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gh)
        for h, fr in recs:
            f.write(h + mac + fr[12:])
    check_esp(tmp, n)
    os.replace(tmp, path)
    return path, npk


def check_esp(path, n):
    """Every frame: IPv4 ESP to WAN_IP with a valid header checksum, from
    its SA's peer, SPIs covering all N SAs; a sample decrypted with scapy
    back to a UDP packet to the SA's prefix (independent of both)."""
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.layers.l2 import Ether
    _, recs = pcap_records(path)
    spis = set()
    for j, (_, fr) in enumerate(recs):
        if fr[12:14] != b"\x08\x00" or fr[23] != 50:
            raise ValueError("frame %d is not IPv4 ESP" % j)
        ihl = (fr[14] & 15) * 4
        s = sum(struct.unpack("!%dH" % (ihl // 2), fr[14:14 + ihl]))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        if s != 0xFFFF:
            raise ValueError("frame %d: bad IPv4 header checksum" % j)
        spi = struct.unpack("!I", fr[14 + ihl:18 + ihl])[0]
        i = spi - IN_SPI
        if not 0 <= i < n or fr[26:30] != bytes(
                int(x) for x in remote(i).split(".")):
            raise ValueError("frame %d: SPI %d from the wrong peer" % (j,
                                                                        spi))
        spis.add(spi)
    if len(spis) != n:
        raise ValueError("%d SPIs in the ESP traffic, %d SAs" % (len(spis),
                                                                 n))
    pfx = sa_prefixes(n)
    for j in range(0, len(recs), max(1, len(recs) // 8)):
        p = Ether(recs[j][1])
        i = p[ESP].spi - IN_SPI
        k, s = sa_key("in", i)
        sa = SecurityAssociation(ESP, spi=p[ESP].spi, crypt_algo="AES-GCM",
                                 crypt_key=k + s,
                                 tunnel_header=IP(src=remote(i), dst=WAN_IP))
        inner = sa.decrypt(p[IP])
        if not inner.haslayer("UDP") or \
                not __import__("ipaddress").IPv4Address(inner.dst) in pfx[i]:
            raise ValueError("frame %d does not decrypt to UDP to %s" % (
                j, pfx[i]))


# ------------------------------------------------------------ crypto-perf


def run_tool(argv, prefix, logf):
    """A DPDK tool run to its end (file prefix @p prefix, its runtime
    directory removed after), its output appended to @p logf."""
    bench._prefixes.add(prefix)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    finally:
        bench.remove_runtime_dir(prefix)
    with open(logf, "a") as f:
        f.write("$ %s\n%s%s\n" % (" ".join(argv), p.stdout, p.stderr))
    return p


def crypto_perf(op, sizes, total_ops, prefix, logf):
    """{size: {"cycles_per_op", "mops"}} from one dpdk-test-crypto-perf
    throughput run (lcore 1 the worker)."""
    argv = [CRYPTO_PERF, "-l", "0-1", "--no-huge", "-m", "1024", "--no-pci",
            "--file-prefix", prefix, "--vdev", CRYPTO_DEV, "--",
            "--devtype", CRYPTO_DEV, "--ptest", "throughput",
            "--optype", "aead", "--aead-algo", "aes-gcm",
            "--aead-op", op, "--aead-key-sz", "16", "--aead-iv-sz", "12",
            "--aead-aad-sz", "8", "--digest-sz", "16",
            "--buffer-sz", ",".join(str(s) for s in sizes),
            "--burst-sz", "32", "--total-ops", str(total_ops)]
    p = run_tool(argv, prefix, logf)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split()
        # lcore, buf size, burst, enq, deq, failed enq, failed deq, MOps,
        # Gbps, Cycles/Buf
        if len(f) == 10 and f[0].isdigit() and int(f[1]) in sizes:
            out[int(f[1])] = {"mops": float(f[7]),
                              "cycles_per_op": float(f[9])}
    if p.returncode != 0 or len(out) != len(sizes):
        raise RuntimeError("dpdk-test-crypto-perf %s failed (%d):\n%s" % (
            op, p.returncode, (p.stdout + p.stderr)[-1500:]))
    return out


# ------------------------------------------------------------ runs


FLOOR_MODES = ("cipher", "cpu", "lookaside")
# ref: crypto-perf's operation timed by the tool in the same runs (its
# own yardstick, immune to the host's speed of the moment)
FLOOR_ALL = FLOOR_MODES + ("ref",)


def floor(op, size, n, prefix, logf, repeat=5):
    """bench/ipsec_floor on lcore 1, right after a crypto-perf run: the
    cycles per packet of (a) the AEAD alone through CPU crypto on the ESP
    packet's lengths ("cipher"), (b) tg_ipsec_cpu_process, i.e.
    rte_ipsec + CPU crypto ("cpu"), (c) rte_ipsec with lookaside crypto
    ops through the device's queue ("lookaside"); hot packets, no SPD,
    no SAD, no pipeline, the restore of the packets taken off; and
    "ref", crypto-perf's operation timed in the same runs.
    {mode: the tool's JSON line}, or None when the tool is not built."""
    if not os.access(FLOOR, os.X_OK):
        return None
    # >= 5000 bursts (160,000 packets, 16 rounds of 10,000 SAs)
    argv = [FLOOR, "-l", "1", "--no-huge", "-m", "512", "--no-pci",
            "--file-prefix", prefix, "--log-level=error", "--",
            "--op", op, "--size", str(size), "--sas", str(n),
            "--mode", ",".join(FLOOR_ALL), "--no-table",
            "--repeat", str(repeat),
            "--bursts", str(max(5000, 20000 // max(1, n // 32)))]
    p = run_tool(argv, prefix, logf)
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            out[r["mode"]] = r
    if p.returncode == 0 and len(out) == len(FLOOR_ALL) and \
            not any(r.get("failed") for r in out.values()):
        return out
    raise RuntimeError("ipsec_floor %s %d B %d SAs failed (%d): %s" % (
        op, size, n, p.returncode, (p.stdout + p.stderr)[-800:]))


def floor_values(x):
    """{mode: cycles/pkt} of one repeat's floor entry (files written
    before (a) and (c) were measured hold (b) alone, as
    cycles_per_packet)."""
    if "cpu" in x:
        v = {m: x[m] for m in FLOOR_ALL if x.get(m) is not None}
        v["detail"] = x.get("detail") or {}
        return v
    return {"cpu": x["cycles_per_packet"]}


def lock():
    """flock LOCK unless an inherited descriptor already holds it (started
    under `flock /tmp/bench.lock ...`)."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) == LOCK:
                log("== %s held by the caller" % LOCK)
                return None
        except OSError:
            pass
    f = open(LOCK, "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("== waiting for %s (another benchmark runs)" % LOCK)
        fcntl.flock(f, fcntl.LOCK_EX)
    return f


def cpu_times():
    """{cpu: (busy, total)} jiffies from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                idle = v[3] + v[4]
                out[line.split()[0]] = (sum(v[:8]) - idle, sum(v[:8]))
    return out


def wait_quiet(limit, threshold=0.25, window=0.5):
    """Up to LIMIT seconds until every CPU was busy less than THRESHOLD
    over WINDOW (between runs nothing of ours runs: what is busy is another
    session's build or test). Returns (seconds waited, last busy max)."""
    t0 = time.monotonic()
    while True:
        a = cpu_times()
        time.sleep(window)
        b = cpu_times()
        busy = max((b[c][0] - a[c][0]) / max(1, b[c][1] - a[c][1])
                   for c in b if c in a)
        waited = time.monotonic() - t0
        if busy < threshold or waited >= limit:
            return waited, busy


def stage_costs(c):
    """The ipsec stage's cost from tollgate's counter deltas C. Per packet
    through the crypto device: stages.ipsec.held when the binary counts
    it (b5ade05), else tollgate's tx — in these configs every forwarded
    packet was encrypted or decrypted, and the windows have no drops. A
    decrypted tunnel packet visits the stage twice (ipsec(in) on the
    target path, then ipsec(out) as transit) unless no policy applies
    outbound (the bench's decrypt configs, since session 11: the
    dispatcher then passes ipsec(out) by for it), so per visit ("in") is
    kept beside it."""
    nin = c.get("stages.ipsec.in", 0)
    held = c.get("stages.ipsec.held", 0) or c.get("tx", 0) or nin
    cyc = c.get("stages.ipsec.cycles", 0) + \
        c.get("stages.ipsec.tick_cycles", 0)
    return {"ipsec_in": nin, "ipsec_packets": held,
            "ipsec_cycles_per_packet": cyc / held if held else None,
            "ipsec_cycles_per_visit": cyc / nin if nin else None,
            "ipsec_visits_per_packet": nin / held if held else None,
            "rx_cycles_per_packet": c.get("rx_cycles", 0) / c["rx"]
            if c.get("rx") else None}


def run(system, ctx, a, logf):
    """bench.run_one, again while the worker was disturbed (up to
    a.retries). Returns the measurement plus the derived numbers."""
    for attempt in range(a.retries + 1):
        if attempt:
            ctx.prefix += "r"
        waited, busy = wait_quiet(a.quiet_wait)
        if busy >= 0.25:
            log("     the machine is busy (%.0f %% of a CPU) after %.0f s of "
                "waiting: running anyway" % (100 * busy, waited))
        t0 = cpu_times()
        m, rc = bench.run_one(system, ctx, a, logf)
        m["quiet_wait_s"], m["busy_before"] = waited, busy
        t1 = cpu_times()
        # the other CPU's load over the whole run (start-up included): on
        # this VM a busy sibling slows the worker without taking its CPU
        m["other_cpu_busy"] = {
            c: (t1[c][0] - t0[c][0]) / max(1, t1[c][1] - t0[c][1])
            for c in t1 if c in t0 and c != "cpu1"}
        if (m["worker_cpu_share"] or 0) >= a.min_cpu_share or \
                attempt == a.retries:
            break
        log("     worker on CPU %.1f %%: disturbed, again" %
            (100 * (m["worker_cpu_share"] or 0)))
    m["exit_code"], m["attempts"] = rc, attempt + 1
    m["mpps"] = m["tx_pps"] / 1e6
    hz = (m.get("tollgate") or {}).get("tsc_hz") or bench.tsc_hz_fallback()
    m["tsc_hz"] = hz
    if m["tx_pps"]:
        m["cycles_per_packet"] = hz * (m["worker_cpu_share"] or 1) / \
            m["tx_pps"]
    if "tollgate" in m:
        c = m["tollgate"]["counters"]
        m.update(stage_costs(c))
        m["drops"] = {k[6:]: v for k, v in c.items()
                      if k.startswith("drops.") and v}
    return m


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(res):
    cp = {}
    for r in res["crypto_perf"]:
        # JSON keys are strings (--render of a file)
        for op in list(r):
            r[op] = {int(k): v for k, v in r[op].items()}
    for op in ("encrypt", "decrypt"):
        for size in res["args"]["sizes"]:
            xs = [r[op][size]["cycles_per_op"] for r in res["crypto_perf"]
                  if op in r]
            ms = [r[op][size]["mops"] for r in res["crypto_perf"] if op in r]
            if not xs:
                # no upfront runs (--quick): the runs next to the cases
                near = [x for c in res["cases"] if c["direction"] == op and
                        c["size"] == size for x in c.get("crypto_perf", [])]
                xs = [x["cycles_per_op"] for x in near]
                ms = [x["mops"] for x in near]
            if xs:
                cp[(op, size)] = {"cycles_per_op": med(xs), "mops": med(ms),
                                  "cycles_per_op_all": xs}
    res["crypto_perf_summary"] = [dict(op=k[0], size=k[1], **v)
                                  for k, v in sorted(cp.items())]
    rows = []
    for case in res["cases"]:
        for r in case["runs"]:
            if "tollgate" in r:
                # again from the raw counters (--render of an older file)
                r.update(stage_costs(r["tollgate"]["counters"]))
        row = {k: case.get(k) for k in ("direction", "sas", "size", "packets")}
        for sysname in ("ipsec-secgw", "ipsec-secgw-lib", "testpmd-io",
                        "tollgate"):
            runs = [r for r in case["runs"] if r["system"] == sysname and
                    "mpps" in r]
            if not runs:
                continue
            row[sysname] = {
                "mpps": med(r["mpps"] for r in runs),
                "mpps_all": [r["mpps"] for r in runs],
                "cycles_per_packet": med(r.get("cycles_per_packet")
                                         for r in runs),
                "worker_cpu_share_min": min(r["worker_cpu_share"] or 0
                                            for r in runs)}
            if sysname == "tollgate":
                for key in ("ipsec_cycles_per_packet",
                            "ipsec_cycles_per_visit",
                            "ipsec_visits_per_packet",
                            "rx_cycles_per_packet"):
                    row[sysname][key] = med(r.get(key) for r in runs)
                drops = {}
                for r in runs:
                    for kk, v in (r.get("drops") or {}).items():
                        drops[kk] = drops.get(kk, 0) + v
                row[sysname]["drops"] = drops
        if "ipsec-secgw" in row and "tollgate" in row and \
                row["ipsec-secgw"]["mpps"]:
            row["mpps_ratio"] = row["tollgate"]["mpps"] / \
                row["ipsec-secgw"]["mpps"]
            per = []
            for rep in sorted({r["repeat"] for r in case["runs"]}):
                v = {r["system"]: r["mpps"] for r in case["runs"]
                     if r["repeat"] == rep and "mpps" in r}
                if v.get("ipsec-secgw") and "tollgate" in v:
                    per.append(v["tollgate"] / v["ipsec-secgw"])
            row["mpps_ratio_per_repeat"] = per
            row["mpps_target_met"] = row["mpps_ratio"] >= 1.1
        if "ipsec-secgw-lib" in row and "tollgate" in row and \
                row["ipsec-secgw-lib"]["mpps"]:
            row["mpps_ratio_lib"] = row["tollgate"]["mpps"] / \
                row["ipsec-secgw-lib"]["mpps"]
        near = {x["repeat"]: x["cycles_per_op"]
                for x in case.get("crypto_perf", [])}
        c = cp.get((case["direction"], case["size"]))
        if near:
            row["crypto_perf_cycles_per_op"] = med(near.values())
            row["crypto_perf_cycles_per_op_all"] = list(near.values())
        elif c:
            row["crypto_perf_cycles_per_op"] = c["cycles_per_op"]
        per = []
        for r in case["runs"]:
            if r["system"] == "ipsec-secgw" and r.get("cycles_per_packet") \
                    and near.get(r["repeat"]):
                per.append(r["cycles_per_packet"] / near[r["repeat"]])
        if per:
            row["secgw_cycles_per_crypto_op"] = med(per)
        per = []
        for r in case["runs"]:
            if r["system"] == "tollgate" and \
                    r.get("ipsec_cycles_per_packet") and near.get(r["repeat"]):
                per.append(r["ipsec_cycles_per_packet"] / near[r["repeat"]])
        if per:
            # each repeat against the crypto-perf run next to it
            row["cycles_ratio"] = med(per)
            row["cycles_ratio_per_repeat"] = per
        elif row.get("crypto_perf_cycles_per_op") and \
                (row.get("tollgate") or {}).get("ipsec_cycles_per_packet"):
            row["cycles_ratio"] = row["tollgate"][
                "ipsec_cycles_per_packet"] / row["crypto_perf_cycles_per_op"]
        if "cycles_ratio" in row:
            row["cycles_target_met"] = row["cycles_ratio"] <= 1.3
        # the floor (bench/ipsec_floor): each repeat against the
        # crypto-perf run just before it, median
        fl = {x["repeat"]: floor_values(x) for x in case.get("floor", [])}
        stage = {r["repeat"]: r["ipsec_cycles_per_packet"]
                 for r in case["runs"] if r["system"] == "tollgate" and
                 r.get("ipsec_cycles_per_packet")}
        for m in FLOOR_ALL:
            v = {k: x[m] for k, x in fl.items() if m in x}
            if not v:
                continue
            row["floor_%s_cycles_per_packet" % m] = med(v.values())
            per = [v[k] / near[k] for k in v if near.get(k)]
            if per:
                row["floor_%s_ratio" % m] = med(per)
            # over crypto-perf's op timed by the tool in the same runs
            per = [fl[k]["detail"][m]["over_ref"] for k in v
                   if "over_ref" in ((fl[k].get("detail") or {}).get(m)
                                     or {})]
            if per:
                row["floor_%s_over_ref" % m] = med(per)
            if m == "cpu":
                # the stage above its library floor: its own bookkeeping
                per = [stage[k] - v[k] for k in v if k in stage]
                if per:
                    row["stage_over_floor_cpu"] = med(per)
        # What the >= 1.1x target leaves: ipsec-secgw's cycles/pkt / 1.1,
        # less what every system here pays anyway (the ports: testpmd io)
        # and the library floor (b). Per repeat, median.
        io = {r["repeat"]: r["cycles_per_packet"] for r in case["runs"]
              if r["system"] == "testpmd-io" and r.get("cycles_per_packet")}
        sg = {r["repeat"]: r["cycles_per_packet"] for r in case["runs"]
              if r["system"] == "ipsec-secgw" and r.get("cycles_per_packet")}
        tg = {r["repeat"]: r["cycles_per_packet"] for r in case["runs"]
              if r["system"] == "tollgate" and r.get("cycles_per_packet")}
        fb = {k: x["cpu"] for k, x in fl.items() if "cpu" in x}
        if io:
            row["io_cycles_per_packet"] = med(io.values())
        per = [sg[k] / 1.1 - io[k] - fb[k] for k in sg
               if k in io and k in fb]
        if per:
            row["budget_for_target"] = med(per)
        per = [sg[k] - io[k] - fb[k] for k in sg if k in io and k in fb]
        if per:
            row["secgw_above_io_floor"] = med(per)
        per = [tg[k] - io[k] - fb[k] for k in tg if k in io and k in fb]
        if per:
            row["tollgate_above_io_floor"] = med(per)
        # (the names of the first version: (b))
        if "floor_cpu_cycles_per_packet" in row:
            row["floor_cycles_per_packet"] = \
                row["floor_cpu_cycles_per_packet"]
            if "floor_cpu_ratio" in row:
                row["floor_ratio"] = row["floor_cpu_ratio"]
        for k in ("tollgate_check", "tollgate_skipped", "error"):
            if case.get(k):
                row[k] = case[k]
        rows.append(row)
    res["summary"] = rows


def fmt(v, f="%.2f"):
    return f % v if isinstance(v, (int, float)) else "–"


def markdown(res):
    a = res["args"]
    out = ["AES-128-GCM tunnel mode, crypto_aesni_mb, one worker lcore, "
           "net_pcap ports; %g s windows after %g s warm-up, median of %d "
           "repeat(s); TSC %s GHz; %s. size = the cleartext frame (FCS "
           "included); decrypt frames are the ESP of it." % (
               a["seconds"], a["warmup"], a["repeat"],
               fmt((res.get("tsc_hz") or 0) / 1e9, "%.3f"),
               res["machine"]["cpu"]), "",
           "dpdk-test-crypto-perf (throughput, aes-gcm 128, AAD 8, digest "
           "16, burst 32):", "",
           "| op | buffer (B) | Mops | cycles/op |", "|---|---:|---:|---:|"]
    for c in res["crypto_perf_summary"]:
        out.append("| %s | %d | %.2f | %.1f |" % (
            c["op"], c["size"], c["mops"], c["cycles_per_op"]))
    out += ["", "| direction | SAs | size (B) | ipsec-secgw Mpps | "
            "secgw cycles/pkt | tollgate Mpps | tollgate cycles/pkt | "
            "tollgate / secgw (≥ 1.1) | ipsec stage cycles/pkt | "
            "crypto-perf cycles/op | stage / crypto-perf (≤ 1.3) | "
            "secgw whole / crypto-perf | ipsec-secgw -l Mpps | "
            "tollgate / secgw -l | rte_ipsec + CPU crypto floor (b) "
            "cycles/pkt | floor (b) / crypto-perf |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            "---:|---:|---:|---:|"]
    for r in res["summary"]:
        s, t = r.get("ipsec-secgw") or {}, r.get("tollgate") or {}
        ratio = fmt(r.get("mpps_ratio"), "%.2f×")
        if len(r.get("mpps_ratio_per_repeat") or []) > 1:
            ratio += " (%.2f–%.2f)" % (min(r["mpps_ratio_per_repeat"]),
                                       max(r["mpps_ratio_per_repeat"]))
        if r.get("tollgate_skipped"):
            tcell = "not run: %s" % r["tollgate_skipped"]
        else:
            tcell = fmt(t.get("mpps"))
        out.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s "
                   "| %s | %s | %s | %s | %s |"
                   % (r["direction"], r["sas"], r["size"],
                      fmt(s.get("mpps")), fmt(s.get("cycles_per_packet"),
                                              "%.0f"),
                      tcell, fmt(t.get("cycles_per_packet"), "%.0f"), ratio,
                      fmt(t.get("ipsec_cycles_per_packet"), "%.1f") + (
                          " (%.0f per visit)" % t["ipsec_cycles_per_visit"]
                          if (t.get("ipsec_visits_per_packet") or 1) > 1.05
                          and t.get("ipsec_cycles_per_visit") else ""),
                      fmt(r.get("crypto_perf_cycles_per_op"), "%.1f"),
                      fmt(r.get("cycles_ratio"), "%.2f×"),
                      fmt(r.get("secgw_cycles_per_crypto_op"), "%.2f×"),
                      fmt((r.get("ipsec-secgw-lib") or {}).get("mpps")),
                      fmt(r.get("mpps_ratio_lib"), "%.2f×"),
                      fmt(r.get("floor_cycles_per_packet"), "%.1f"),
                      fmt(r.get("floor_ratio"), "%.2f×")))
    out += ["", "ipsec stage cycles/pkt: (stages.ipsec.cycles + tick_cycles)"
            " / packets through the crypto device (stages.ipsec.held, or "
            "tollgate's tx where held is not counted); a "
            "decrypted tunnel packet visits the stage twice (ipsec(in), then "
            "ipsec(out) as transit) where a policy applies outbound, and "
            "then per visit is shown beside it; with inbound policies "
            "alone ipsec(out) is passed by (one visit). Ratios "
            "to crypto-perf: each repeat against the crypto-perf run just "
            "before it, median. secgw whole / crypto-perf: ipsec-secgw's "
            "whole cost per packet (I/O included) over one crypto "
            "operation's. floor (b): bench/ipsec_floor, tollgate's burst "
            "call into rte_ipsec and CPU crypto with nothing around it "
            "(below)."]
    out += ["", "The floor under the stage (bench/ipsec_floor, run on the "
            "same lcore right after each crypto-perf run; TSC cycles per "
            "packet, hot packets, no SPD, SAD or pipeline, the restore of "
            "the packets between bursts taken off): (a) the AES-GCM alone "
            "through CPU crypto (rte_cryptodev_sym_cpu_crypto_process) on "
            "the ESP packet's ciphertext, IV, AAD and ICV, one call per "
            "run of one SA; (b) tg_ipsec_cpu_process = "
            "rte_ipsec_pkt_cpu_prepare + rte_ipsec_pkt_process + the outer "
            "checksum; (c) lookaside: tg_ipsec_crypto_enqueue + "
            "tg_ipsec_crypto_dequeue (rte_ipsec crypto_prepare, crypto ops "
            "through the queue pair, rte_ipsec_pkt_process). Ratios: each "
            "repeat against its crypto-perf run, median. ref: "
            "crypto-perf's operation (one session, AEAD op of the frame "
            "size through the queue pair) timed by the tool in the same "
            "runs; (b) / ref is the floor's ratio free of the host's "
            "drift between processes (ref / crypto-perf shows how well ref "
            "stands in for it). stage − (b): the ipsec stage's cycles/pkt "
            "above the library floor (decrypt: every visit of the "
            "stage).", "",
            "| direction | SAs | size (B) | crypto-perf cycles/op | "
            "1.3 × crypto-perf | (a) cipher | (b) rte_ipsec + CPU crypto | "
            "(c) rte_ipsec lookaside | (a) / crypto-perf | "
            "(b) / crypto-perf | (c) / crypto-perf | ref cycles/op | "
            "ref / crypto-perf | (b) / ref | ipsec stage cycles/pkt | "
            "stage − (b) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
            "---:|---:|---:|---:|"]
    for r in res["summary"]:
        cpo = r.get("crypto_perf_cycles_per_op")
        out.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s "
                   "| %s | %s | %s | %s | %s |" % (
                       r["direction"], r["sas"], r["size"],
                       fmt(cpo, "%.1f"),
                       fmt(1.3 * cpo if cpo else None, "%.1f"),
                       *[fmt(r.get("floor_%s_cycles_per_packet" % m),
                             "%.1f") for m in FLOOR_MODES],
                       *[fmt(r.get("floor_%s_ratio" % m), "%.2f×")
                         for m in FLOOR_MODES],
                       fmt(r.get("floor_ref_cycles_per_packet"), "%.1f"),
                       fmt(r.get("floor_ref_ratio"), "%.2f×"),
                       fmt(r.get("floor_cpu_over_ref"), "%.2f×"),
                       fmt((r.get("tollgate") or {}).get(
                           "ipsec_cycles_per_packet"), "%.1f"),
                       fmt(r.get("stage_over_floor_cpu"), "%.1f")))
    if any("io_cycles_per_packet" in r for r in res["summary"]):
        out += ["", "What the ≥ 1.1× target leaves (cycles per packet, each "
                "repeat's runs, median): io = testpmd's io forwarding on the "
                "same ports and traffic (receive and transmit only, what "
                "every system here pays); (b) = the floor above, hot. "
                "ipsec-secgw / 1.1 − io − (b) is what tollgate may spend on "
                "everything else — RX validation, SPD, SAD, route, "
                "counters, pipeline, and the cache misses of packets that "
                "are not hot — to be 1.1× ipsec-secgw; the two columns "
                "after it are what each spends on that now.", "",
                "| direction | SAs | size (B) | ipsec-secgw cycles/pkt | io "
                "(testpmd) | (b) | secgw / 1.1 − io − (b) | secgw − io − (b) "
                "| tollgate − io − (b) |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in res["summary"]:
            out.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s |" % (
                r["direction"], r["sas"], r["size"],
                fmt((r.get("ipsec-secgw") or {}).get("cycles_per_packet"),
                    "%.0f"),
                fmt(r.get("io_cycles_per_packet"), "%.0f"),
                fmt(r.get("floor_cpu_cycles_per_packet"), "%.0f"),
                fmt(r.get("budget_for_target"), "%.0f"),
                fmt(r.get("secgw_above_io_floor"), "%.0f"),
                fmt(r.get("tollgate_above_io_floor"), "%.0f")))
    drops = ["%s %d SAs %d B: %s" % (r["direction"], r["sas"], r["size"],
                                    ", ".join("%s %d" % kv for kv in
                                              sorted(r["tollgate"]["drops"]
                                                     .items())))
             for r in res["summary"]
             if (r.get("tollgate") or {}).get("drops")]
    if drops:
        out += ["", "tollgate drops during the windows: " + "; ".join(drops)]
    return "\n".join(out) + "\n"


def parse_args():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sas", default=None,
                    help="SA counts (default 1,100,10000; --quick 1,100)")
    ap.add_argument("--sizes", default="64,1400")
    ap.add_argument("--direction", action="append",
                    choices=["encrypt", "decrypt"],
                    help="default both")
    ap.add_argument("--seconds", type=float, default=None,
                    help="window per run (default 5; --quick 1.5)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="default 2; --quick 1")
    ap.add_argument("--repeat", type=int, default=None,
                    help="default 3; --quick 1")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run, under 2 minutes")
    ap.add_argument("--render", metavar="JSON",
                    help="print the table of an earlier result file, "
                         "summarized again; nothing is run")
    ap.add_argument("--no-secgw-lib", action="store_true",
                    help="do not also run ipsec-secgw -l (librte_ipsec)")
    ap.add_argument("--no-io", action="store_true",
                    help="do not also run testpmd io (the ports' own "
                         "cost, for the budget table)")
    ap.add_argument("--no-tollgate", action="store_true",
                    help="peers only")
    ap.add_argument("--total-ops", type=int, default=None,
                    help="operations per size of the crypto-perf runs "
                         "before the cases (the table's; default 20M; "
                         "--quick 0: none, the table from the runs next "
                         "to the cases)")
    ap.add_argument("--tollgate", default=None,
                    help="the tollgate binary (default $TOLLGATE_BIN, else "
                         "build/app/tollgate/tollgate, else build-b/...)")
    ap.add_argument("--near-ops", type=int, default=3000000,
                    help="crypto-perf operations of the run next to each "
                         "repeat of each case (default 3M)")
    ap.add_argument("--quiet-wait", type=float, default=None,
                    help="before each run, wait up to this many seconds "
                         "for the CPUs to be idle (other sessions' builds; "
                         "default 10, --quick 1)")
    ap.add_argument("--min-cpu-share", type=float, default=0.95)
    ap.add_argument("--retries", type=int, default=None,
                    help="re-runs of a run whose worker was off its CPU "
                         "(default 1; --quick 0)")
    ap.add_argument("--json", default=None,
                    help="default bench/results/ipsec-scale-<stamp>.json")
    a = ap.parse_args()
    q = a.quick
    a.sas = [int(x) for x in (a.sas or ("1,100" if q else "1,100,10000"))
             .split(",") if x]
    a.sizes = [int(x) for x in a.sizes.split(",") if x]
    a.direction = a.direction or ["encrypt", "decrypt"]
    a.seconds = a.seconds if a.seconds is not None else (1.5 if q else 5)
    a.warmup = a.warmup if a.warmup is not None else (1 if q else 2)
    a.repeat = a.repeat if a.repeat is not None else (1 if q else 3)
    if a.quiet_wait is None:
        a.quiet_wait = 1 if q else 10
    if a.retries is None:
        a.retries = 0 if q else 1
    if a.total_ops is None:
        a.total_ops = 0 if q else 20000000
    if a.tollgate:
        sc.TOLLGATE = os.path.abspath(a.tollgate)
    elif "TOLLGATE_BIN" not in os.environ and \
            not os.access(sc.TOLLGATE, os.X_OK):
        sc.TOLLGATE = os.path.join(sc.REPO, "build-b/app/tollgate/tollgate")
    return a


def main():
    a = parse_args()
    if a.render:
        # summary and table again from a result file (after a change of
        # this script's summary)
        with open(a.render) as f:
            res = json.load(f)
        summarize(res)
        print(markdown(res))
        return 0
    if os.geteuid() != 0:
        sys.exit("ipsec_scale.py: run as root (DPDK runtime directory)")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for d in (RESULTS_DIR, TRAFFIC_DIR):
        os.makedirs(d, exist_ok=True)
    logdir = os.path.join(RESULTS_DIR, "ipsec-scale-%s.logs" % stamp)
    os.makedirs(logdir, exist_ok=True)
    why = build_secgw()
    if why:
        sys.exit("ipsec_scale.py: no ipsec-secgw peer: %s" % why)
    if not os.access(CRYPTO_PERF, os.X_OK):
        sys.exit("ipsec_scale.py: %s missing (apt-get install dpdk)" %
                 CRYPTO_PERF)
    held = lock()
    res = {"started": stamp, "machine": bench.machine_info(),
           "args": {k: v for k, v in vars(a).items()},
           "peer_patch": "ipsec-secgw: RX offloads masked by the device's "
                         "capabilities (net_pcap has no RX checksum "
                         "offload)",
           "crypto_perf": [], "cases": []}
    log("== ipsec-secgw %s (patched: RX offloads masked by the device's "
        "capabilities, for net_pcap)" % os.path.relpath(SECGW))
    empty = os.path.join(TRAFFIC_DIR, "empty.pcap")
    tr.write_empty_pcap(empty)
    tag = "tgis%d" % os.getpid()
    k = 0
    try:
        for rep in range(a.repeat if a.total_ops else 0):
            r = {}
            for op in a.direction:
                k += 1
                r[op] = crypto_perf(op, a.sizes, a.total_ops,
                                    "%s-%d" % (tag, k),
                                    os.path.join(logdir, "crypto-perf.log"))
                log("== crypto-perf %s rep %d: %s" % (op, rep + 1, ", ".join(
                    "%d B %.1f cycles/op %.2f Mops" % (
                        s, v["cycles_per_op"], v["mops"])
                    for s, v in sorted(r[op].items()))))
            res["crypto_perf"].append(r)
        for direction in a.direction:
            for n in a.sas:
                for size in a.sizes:
                    case = {"direction": direction, "sas": n, "size": size,
                            "runs": []}
                    res["cases"].append(case)
                    log("== %s, %d SAs, %d B" % (direction, n, size))
                    try:
                        if direction == "encrypt":
                            pcap, npk = cleartext(n, size)
                        else:
                            pcap, npk = esp_traffic(n, size, empty, logdir)
                    except (RuntimeError, ValueError, OSError) as e:
                        case["error"] = str(e)
                        log("   traffic: %s" % e)
                        continue
                    case["packets"] = npk
                    systems = [secgw_system(n, direction)]
                    if not a.no_io:
                        # the ports' own cost, paid by every system here
                        systems.append(sc.testpmd_io())
                    if not a.no_secgw_lib:
                        systems.append(secgw_system(n, direction, lib=True))
                    wd = os.path.join(logdir, "%s-%d-%d" % (direction, n,
                                                            size))
                    if not a.no_tollgate:
                        ctx = sc.Ctx(prefix="%s-chk" % tag, rx_pcap=pcap,
                                     empty_pcap=empty, size=size,
                                     n_packets=npk, workdir=wd)
                        os.makedirs(wd, exist_ok=True)
                        cfg = os.path.join(wd, "tollgate-check.yaml")
                        with open(cfg, "w") as f:
                            f.write(tollgate_yaml(ctx, n, direction))
                        ok, runnable, text = tollgate_check(cfg)
                        case["tollgate_check"] = text[-600:]
                        if not ok:
                            case["tollgate_skipped"] = "config refused"
                            log("   tollgate --check FAILED: %s" % text[-600:])
                        elif not runnable:
                            case["tollgate_skipped"] = "ipsec stage not " \
                                "built (config checked OK)"
                            log("   tollgate: config OK, stage not built: "
                                "not run")
                        else:
                            systems.append(tollgate_system(n, direction))
                            # --quick: the first size only (time)
                            if direction == "encrypt" and (
                                    not a.quick or size == a.sizes[0]):
                                try:
                                    case["tollgate_verified"] = \
                                        verify_tollgate_encrypt(
                                            n, size, os.path.join(wd,
                                                                  "verify"))
                                    log("   tollgate output checked: %s" %
                                        case["tollgate_verified"])
                                except (RuntimeError, OSError,
                                        IndexError) as e:
                                    case["tollgate_verify_error"] = str(e)
                                    log("   tollgate output WRONG: %s" % e)
                    for rep in range(a.repeat):
                        # the cost of one crypto operation, measured right
                        # next to the systems' runs: this host's speed
                        # drifts by 2x and more within minutes
                        k += 1
                        wait_quiet(a.quiet_wait)
                        try:
                            cp = crypto_perf(direction, [size], a.near_ops,
                                             "%s-%d" % (tag, k), os.path.join(
                                                 logdir, "crypto-perf.log"))
                            case.setdefault("crypto_perf", []).append(
                                dict(repeat=rep + 1, **cp[size]))
                            log("   crypto-perf  rep %d: %7.1f cycles/op" %
                                (rep + 1, cp[size]["cycles_per_op"]))
                        except RuntimeError as e:
                            log("   crypto-perf FAILED: %s" % e)
                        k += 1
                        try:
                            # the floor under the stage, on the same
                            # lcore, right after crypto-perf
                            fl = floor(direction, size, n, "%s-%d" % (tag, k),
                                       os.path.join(logdir, "floor.log"),
                                       repeat=3 if a.quick else 5)
                            if fl is not None:
                                case.setdefault("floor", []).append(dict(
                                    repeat=rep + 1,
                                    detail=fl, **{m: fl[m][
                                        "cycles_per_packet"]
                                        for m in FLOOR_ALL}))
                                log("   floor        rep %d: (a) cipher "
                                    "%.1f, (b) rte_ipsec + CPU crypto %.1f,"
                                    " (c) lookaside %.1f, ref %.1f "
                                    "cycles/pkt; (b) / ref %.2f" % (
                                        rep + 1,
                                        *[fl[m]["cycles_per_packet"]
                                          for m in FLOOR_ALL],
                                        fl["cpu"]["over_ref"]))
                        except RuntimeError as e:
                            log("   floor FAILED: %s" % e)
                        order = systems if rep % 2 == 0 else systems[::-1]
                        for system in order:
                            k += 1
                            ctx = sc.Ctx(prefix="%s-%d" % (tag, k),
                                         rx_pcap=pcap, empty_pcap=empty,
                                         size=size, n_packets=npk,
                                         workdir=os.path.join(wd,
                                                              system.name))
                            logf = os.path.join(wd, "%s-r%d.log" % (
                                system.name, rep + 1))
                            rr = {"system": system.name, "repeat": rep + 1,
                                  "log": os.path.relpath(logf, HERE)}
                            try:
                                rr.update(run(system, ctx, a, logf))
                                log("   %-12s rep %d: %7.3f Mpps, %5.0f "
                                    "cycles/pkt%s (worker on CPU %.1f %%)"
                                    % (system.name, rep + 1, rr["mpps"],
                                       rr.get("cycles_per_packet") or 0,
                                       ", ipsec stage %.1f cycles/pkt" %
                                       rr["ipsec_cycles_per_packet"]
                                       if rr.get("ipsec_cycles_per_packet")
                                       else "",
                                       100 * (rr["worker_cpu_share"] or 0)))
                            except (bench.RunError, OSError) as e:
                                rr["error"] = str(e)
                                log("   %-12s rep %d: FAILED: %s" % (
                                    system.name, rep + 1, e))
                            case["runs"].append(rr)
    finally:
        bench.cleanup()
        if held is not None:
            held.close()
    hz = [r["tsc_hz"] for c in res["cases"] for r in c["runs"]
          if r.get("tsc_hz")]
    res["tsc_hz"] = hz[0] if hz else bench.tsc_hz_fallback()
    summarize(res)
    out = a.json or os.path.join(RESULTS_DIR, "ipsec-scale-%s.json" % stamp)
    with open(out, "w") as f:
        json.dump(res, f, indent=1, default=str)
    md = markdown(res)
    with open(out[:-5] + ".md" if out.endswith(".json") else out + ".md",
              "w") as f:
        f.write(md)
    print(md)
    log("results: %s (logs %s)" % (os.path.relpath(out),
                                   os.path.relpath(logdir)))
    return 0 if all("error" not in r for c in res["cases"]
                    for r in c["runs"]) and \
        not any(c.get("error") for c in res["cases"]) else 1


if __name__ == "__main__":
    sys.exit(main())
