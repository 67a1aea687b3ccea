"""The benchmark scenarios, as data.

A scenario is one kind of traffic plus the systems that forward it in the
same run: tollgate and its peers. A system is a command line, the files it
needs (a config, a rule file) and the ethdev ports whose transmitted packets
count as its output. Adding a peer or a scenario is a few lines here; the
runner (bench.py) knows nothing about any particular system.

Every system gets the same environment (struct Ctx): the same two net_pcap
ports (port 0 replays the traffic file forever, port 1 receives nothing),
one worker lcore, --no-huge, and a unique --file-prefix.
"""

import os
import random
import subprocess
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional

import traffic as tr

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# TOLLGATE_BIN benchmarks another build (a patched copy, an older commit).
TOLLGATE = os.environ.get("TOLLGATE_BIN",
                          os.path.join(REPO, "build/app/tollgate/tollgate"))
TESTPMD = "/usr/bin/dpdk-testpmd"
# Built by bench/run.sh from /usr/share/dpdk/examples (dpdk-doc), git-ignored.
L3FWD = os.path.join(REPO, "bench/peers/l3fwd/build/l3fwd")

# ---------------------------------------------------------------- context


@dataclass
class Ctx:
    """What a system's command and files may refer to, for one run."""
    prefix: str          # EAL --file-prefix (unique per run)
    rx_pcap: str         # the traffic file, absolute path
    empty_pcap: str      # a pcap with no packet
    size: int            # frame size in bytes (FCS included)
    n_packets: int       # packets in rx_pcap
    workdir: str         # where files() are written
    lcores: str = "0-1"  # main lcore 0, one worker lcore 1
    memory_mb: int = 1024

    def vdev(self, port):
        """Port 0 replays the traffic forever; port 1 gets a plain empty
        pcap (infinite_rx on an empty file leaks mbufs). No tx_pcap: the
        PMD counts and frees what it transmits."""
        if port == 0:
            return "net_pcap0,rx_pcap=%s,infinite_rx=1" % self.rx_pcap
        return "net_pcap%d,rx_pcap=%s" % (port, self.empty_pcap)

    def eal(self):
        """EAL arguments for a peer (DPDK sample applications)."""
        return ["-l", self.lcores, "--no-huge", "-m", str(self.memory_mb),
                "--no-pci", "--file-prefix", self.prefix,
                "--vdev", self.vdev(0), "--vdev", self.vdev(1)]

    def mbufs(self, ring_mbufs=0, lcores=2, cache=256):
        """A pool big enough for infinite_rx: the PMD keeps one mbuf per
        packet of the file for the whole run (counted for both ports, to be
        safe), plus what can sit in rings and descriptors, plus the
        per-lcore caches (up to 1.5 x cache each). Rounded up to 2^n - 1,
        the size rte_mempool likes best."""
        need = (2 * self.n_packets + ring_mbufs + 2 * 2 * 1024 +
                lcores * cache * 3 // 2 + 1024)
        n = 1
        while n - 1 < need:
            n <<= 1
        return n - 1

    def file(self, name):
        return os.path.join(self.workdir, name)


# ---------------------------------------------------------------- traffic


@dataclass
class Traffic:
    name: str
    # gen(path, size) writes the pcap and returns the number of packets
    gen: Callable[[str, int], int]
    # what config writers need to know (routes, next hops, ...)
    info: Dict = field(default_factory=dict)


TRANSIT_PREFIXES = tr.prefixes_24("16.0.0.0", 512)
TRANSIT_NEXT_HOPS = ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"]

TRANSIT_UDP = Traffic(
    name="transit-udp",
    gen=lambda path, size: tr.udp_flows(path, size, n_packets=4096,
                                        prefixes=TRANSIT_PREFIXES),
    info={"prefixes": TRANSIT_PREFIXES, "next_hops": TRANSIT_NEXT_HOPS},
)

# One packet in four to the appliance's lan0 address, TCP to ports of
# which local_filter below accepts half (22, 80, 443, 8080 yes; 23, 25,
# 3389, 9999 no).
LOCAL_IP = "10.0.0.1"
LOCAL_PORTS = [22, 23, 80, 25, 443, 3389, 8080, 9999]

TRANSIT_TARGET = Traffic(
    name="transit-target",
    gen=lambda path, size: tr.udp_flows(
        path, size, n_packets=4096, prefixes=TRANSIT_PREFIXES,
        local_ip=LOCAL_IP, local_every=4, local_ports=LOCAL_PORTS),
    info={"prefixes": TRANSIT_PREFIXES, "next_hops": TRANSIT_NEXT_HOPS},
)

# ---------------------------------------------------------------- systems


@dataclass
class System:
    name: str
    # argv for one run; ctx.file(name) are the files written from files()
    command: Callable[[Ctx], List[str]]
    # {file name: text} written into ctx.workdir before the start
    files: Callable[[Ctx], Dict[str, str]] = lambda ctx: {}
    # ethdev port ids whose opackets are the system's output
    tx_ports: List[int] = field(default_factory=lambda: [0, 1])
    # also read /tollgate/stats (per-stage cycles, drops)
    tollgate_stats: bool = False
    # run before the start and after the stop (a network namespace)
    setup: Optional[Callable[[Ctx], None]] = None
    teardown: Optional[Callable[[Ctx], None]] = None
    # telemetry commands [(command, params)] sent once it runs, before the
    # warm-up (a trace or a capture armed for the whole run)
    after_start: List[tuple] = field(default_factory=list)


def tollgate_transit_yaml(ctx, traffic, bypass=True, reply_route=False):
    """Config for the transit forward-only path: lan0 on p0 receives the
    traffic, every destination prefix is routed to one of four next hops on
    wan0 (p1) with static neighbor entries, so no ARP is involved.
    bypass=False: every packet also crosses the rings of the stages with
    nothing configured (pipeline.bypass_idle_stages), which prices a ring
    hop."""
    ring_size = 1024
    mbufs = ctx.mbufs(ring_mbufs=5 * ring_size, lcores=2, cache=256)
    hops = traffic.info["next_hops"]
    out = [
        "# Generated by bench/scenarios.py for one benchmark run.",
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
        "    port: p0",
        "    address: 10.0.0.1/24",
        "  - name: wan0",
        "    port: p1",
        "    address: 10.1.0.1/24",
        "limits:",
        "  max_routes: %d" % max(1024, 2 * len(traffic.info["prefixes"])),
        "routes:",
    ]
    for i, net in enumerate(traffic.info["prefixes"]):
        out += ["  - prefix: %s" % net,
                "    via: %s" % hops[i % len(hops)],
                "    interface: wan0"]
    if reply_route:
        # back to the traffic's sources (48.0.0.0/16), through the lan
        # host: where the host's answers go
        out += ["  - prefix: 48.0.0.0/16",
                "    via: 10.0.0.2",
                "    interface: lan0"]
    out.append("neighbors:")
    for i, hop in enumerate(hops):
        out += ["  - address: %s" % hop,
                '    mac: "02:00:00:00:01:%02x"' % (i + 2),
                "    interface: wan0"]
    if reply_route:
        out += ["  - address: 10.0.0.2",
                '    mac: "%s"' % tr.SRC_MAC,
                "    interface: lan0"]
    out += [
        "pipeline:",
        "  burst: 32",
        "  ring_size: %d" % ring_size,
        "  bypass_idle_stages: %s" % ("true" if bypass else "false"),
        "  placement:",
        "    - lcore: 1",
        "      ports: [p0, p1]",
        "      stages: [forward, filter, natfw, ipsec, localfilter]",
    ]
    return "\n".join(out) + "\n"


def tollgate_localfilter_yaml(ctx, traffic, reply_route=False):
    """The transit config plus local_filter: TCP to 22, 80, 443 and
    8000-8099 accepted, every UDP port, TCP and UDP only."""
    return tollgate_transit_yaml(ctx, traffic,
                                 reply_route=reply_route) + "\n".join([
        "local_filter:",
        "  protocols: [tcp, udp]",
        '  tcp_ports: [22, 80, 443, "8000-8099"]',
        "  udp_ports: all",
    ]) + "\n"


# ---------------------------------------------------------------- filters
#
# The filter hook's rule lists for the transit-filter scenario and
# bench/filter_scale.py: deny-listed, realistic rules (prefixes of every
# length, single ports and port ranges, several protocols) that the
# transit traffic (UDP from 48.0.0.0/16, random source port, to
# 16.0.0.0-16.1.255.255, destination port 53, 123, 443, 8080 or
# 5000-5999) never matches, so every packet is classified against the
# whole list and passes as "no match". Deterministic: the same N and
# seed give the same rules.

_TCP_SERVICES = [22, 23, 25, 80, 110, 135, 139, 143, 445, 993, 1433, 3306,
                 3389, 5432, 5900, 6379, 8443, 9200]
_FOREIGN_NETS = ["100.64.0.0/10", "198.18.0.0/15", "203.0.113.0/24",
                 "192.0.2.0/24", "172.16.0.0/12", "10.128.0.0/9",
                 "49.0.0.0/8", "17.0.0.0/8"]


def _ip(a):
    return "%d.%d.%d.%d" % (a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                            a & 255)


def _sub(rnd, net, min_len, max_len):
    """A random prefix of length min_len..max_len inside NET."""
    base, blen = net.split("/")
    b = [int(x) for x in base.split(".")]
    base = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]
    blen = int(blen)
    plen = rnd.randint(max(min_len, blen), max_len)
    host_bits = 32 - plen
    a = base | (rnd.getrandbits(plen - blen) << host_bits if plen > blen
                else 0)
    return "%s/%d" % (_ip(a), plen) if plen < 32 else _ip(a)


def _range(rnd, lo, hi, width_max):
    a = rnd.randint(lo, hi - 1)
    b = min(hi, a + rnd.randint(0, width_max))
    return "%d-%d" % (a, b) if b > a else "%d" % a


def filter_rules(n, seed=5, prefix="r"):
    """N rule lines (YAML flow mappings, no indentation) that the transit
    traffic does not match; see above."""
    rnd = random.Random("%s-%d" % (prefix, seed))
    out = []
    for i in range(n):
        name = "%s%06d" % (prefix, i)
        k = i % 10
        if k in (0, 1, 2):
            # TCP services blocked towards the traffic's destinations
            port = rnd.choice(_TCP_SERVICES) if k != 2 else \
                _range(rnd, 6000, 7999, 63)
            r = "protocol: tcp, dst: %s, dst_port: %s" % (
                _sub(rnd, "16.0.0.0/15", 16, 32), port)
        elif k in (3, 4):
            # UDP from foreign sources
            r = "protocol: udp, src: %s, dst: %s, dst_port: %s" % (
                _sub(rnd, rnd.choice(_FOREIGN_NETS), 12, 28),
                _sub(rnd, "16.0.0.0/8", 12, 24),
                _range(rnd, 1, 65535, 4096))
        elif k in (5, 6):
            # UDP from the traffic's own sources, to ports it never uses
            r = "protocol: udp, src: %s, dst: %s, src_port: %s, " \
                "dst_port: %s" % (
                    _sub(rnd, "48.0.0.0/16", 16, 28),
                    _sub(rnd, "16.0.0.0/15", 15, 28),
                    _range(rnd, 1024, 65535, 20000),
                    _range(rnd, 9000, 65535, 2000))
        elif k == 7:
            r = "protocol: icmp, src: %s, icmp_type: %d" % (
                _sub(rnd, "0.0.0.0/0", 8, 24), rnd.choice([0, 3, 5, 8,
                                                           11, 13, 17]))
            if rnd.random() < 0.5:
                r += ", icmp_code: %d" % rnd.randint(0, 15)
        elif k == 8:
            # outgoing mail from the traffic's sources, established or not
            r = "protocol: tcp, src: %s, src_port: 1024-65535, " \
                "dst_port: %s" % (_sub(rnd, "48.0.0.0/12", 12, 24),
                                  rnd.choice(["25", "465", "587"]))
            if rnd.random() < 0.3:
                r += ", established: true"
        else:
            r = "protocol: %s, src: %s, dst: %s" % (
                rnd.choice(["gre", "esp", "ah", "132", "89"]),
                _sub(rnd, "0.0.0.0/0", 8, 32),
                _sub(rnd, "16.0.0.0/8", 8, 32))
        out.append("{name: %s, action: deny, %s}" % (name, r))
    return out


def filters_block(inbound=0, outbound=0, seed=5, indent="    "):
    """The filters: key of an interface (YAML lines), or ""."""
    if not inbound and not outbound:
        return ""
    lines = [indent + "filters:"]
    for key, n, pfx in (("inbound", inbound, "in"),
                        ("outbound", outbound, "out")):
        if not n:
            continue
        lines += [indent + "  %s:" % key, indent + "    mode: deny-listed",
                  indent + "    rules:"]
        lines += [indent + "      - " + r
                  for r in filter_rules(n, seed, pfx)]
    return "\n".join(lines) + "\n"


def tollgate_filter_yaml(ctx, traffic, lan_in=1000, wan_out=1000, seed=5):
    """The transit config plus LAN_IN deny rules inbound on lan0 and
    WAN_OUT outbound on wan0 (filter_rules()): every forwarded packet is
    classified twice and matches no rule."""
    text = tollgate_transit_yaml(ctx, traffic)
    for addr, block in (("10.0.0.1/24", filters_block(inbound=lan_in,
                                                      seed=seed)),
                        ("10.1.0.1/24", filters_block(outbound=wan_out,
                                                      seed=seed))):
        line = "    address: %s\n" % addr
        assert text.count(line) == 1
        text = text.replace(line, line + block)
    return text


def tollgate_nat_yaml(ctx, traffic):
    """The transit config with NAT from lan0 (private) to wan0 (public):
    every forwarded packet is translated at natfw(nat) — its source
    becomes 10.1.0.1 and a port of the range — by a session the first
    packet of its flow created (the traffic's 4,096 flows: 4,096
    sessions, all found in the table afterwards)."""
    text = tollgate_transit_yaml(ctx, traffic)
    return text + "nat:\n  private: [lan0]\n  public: [wan0]\n"


def tollgate_filter_avx512_yaml(ctx, traffic):
    """tollgate_filter_yaml() with DPDK's SIMD limit raised to 512 bits
    (EAL --force-max-simd-bitwidth=512), so that rte_acl may classify 32
    packets at a time with AVX-512 (avx512x32); at the default limit
    (256) it uses avx512x16. Without the decision cache: this prices
    rte_acl's widest walk."""
    text = tollgate_filter_cache_yaml(0)(ctx, traffic)
    line = "  no_huge: true\n"
    assert text.count(line) == 1
    return text.replace(
        line, line + '  args: ["--force-max-simd-bitwidth=512"]\n')


def tollgate_filter_cache_yaml(entries):
    """tollgate_filter_yaml() with pipeline.filter_cache set to ENTRIES:
    0 sends every packet to rte_acl; a cache far smaller than the
    traffic's 8,192 (flow, list) keys makes nearly every lookup a miss
    (what many more flows than entries do), which prices a miss."""
    def make(ctx, traffic):
        text = tollgate_filter_yaml(ctx, traffic)
        line = "pipeline:\n"
        assert text.count(line) == 1
        return text.replace(line, line + "  filter_cache: %d\n" % entries)
    return make


def host_netns(ctx):
    """The host port's namespace for one run: never the root namespace,
    whose addresses and routes a benchmark must not touch."""
    return "tgb-" + ctx.prefix


def tollgate_host_yaml(ctx, traffic):
    """The local_filter config plus the host port, its kernel interface in
    a namespace of its own: the accepted TCP SYNs (one packet in eight)
    reach a real kernel, which answers them (RST: nothing listens) through
    the source path, routed back to the sources on lan0 (port 0)."""
    return tollgate_localfilter_yaml(ctx, traffic,
                                     reply_route=True) + "\n".join([
        "host:",
        "  netns: %s" % host_netns(ctx),
        "  ifname: tgbh%d" % (os.getpid() % 100000),
    ]) + "\n"


def netns_add(ctx):
    subprocess.run(["ip", "netns", "add", host_netns(ctx)], check=True)
    subprocess.run(["ip", "-n", host_netns(ctx), "link", "set", "lo", "up"],
                   check=True)


def netns_del(ctx):
    subprocess.run(["ip", "netns", "del", host_netns(ctx)], check=False)


def tollgate(traffic, yaml_writer, name="tollgate", host=False,
             binary=None, after_start=()):
    return System(
        name=name,
        files=lambda ctx: {"tollgate.yaml": yaml_writer(ctx, traffic)},
        # EAL options after "--" override the YAML's dpdk: section.
        command=lambda ctx: [binary or TOLLGATE, "-c",
                             ctx.file("tollgate.yaml"), "--", "-l",
                             ctx.lcores, "--file-prefix", ctx.prefix],
        tollgate_stats=True,
        setup=netns_add if host else None,
        teardown=netns_del if host else None,
        after_start=list(after_start),
    )


# The build before the trace's hooks (issue 8), for transit-trace: what
# "off" costs is the difference to it. Built apart, e.g.
#   git archive 36355c6 | tar -x -C /tmp/base && meson setup /tmp/base/b \
#     /tmp/base -Dtests=false && ninja -C /tmp/base/b
TOLLGATE_BASE = os.environ.get("TOLLGATE_BASE_BIN")


def testpmd_io():
    """DPDK's testpmd in io mode: receive and transmit unchanged, port 0 to
    port 1 and back: the I/O ceiling of these ports."""
    return System(
        name="testpmd-io",
        command=lambda ctx: [
            TESTPMD, *ctx.eal(), "--",
            "--forward-mode=io", "--nb-cores=1", "--burst=32",
            "--rxq=1", "--txq=1",
            "--total-num-mbufs=%d" % (ctx.mbufs(lcores=2, cache=250) + 1),
            # with stdin from /dev/null testpmd exits at once without it
            "--stats-period=1", "--auto-start"],
    )


def l3fwd_rules(traffic):
    """l3fwd's LPM route files (`R<prefix> <port>`): the same /24 prefixes
    as tollgate's routes, all out of port 1. l3fwd wants an IPv6 file as
    well; one unused route keeps it non-empty."""
    v4 = ["R%s 1" % net for net in traffic.info["prefixes"]]
    return {"l3fwd_v4.cfg": "\n".join(v4) + "\n",
            "l3fwd_v6.cfg": "R2001:0db8:0000:0000:0000:0000:0000:0000/32 1\n"}


def l3fwd_system(name, lookup, rule_files):
    """DPDK's l3fwd with --lookup=LOOKUP, on the same ports and memory,
    rule files from RULE_FILES(ctx). EAL gets `-l 1` only: l3fwd opens one
    TX queue per EAL lcore and net_pcap has one, so with `-l 0-1` port
    configure fails. Its main lcore is then the worker, polling both ports
    on CPU 1 as the others' worker does (their lcore 0 only waits).
    --parse-ptype: net_pcap reports no packet types, and every lookup mode
    needs them (ACL: IPv4 or IPv6, else the packet is dropped). Built
    (with the net_pcap offload mask and a larger mbuf pool) by
    bench/run.sh; see bench/README.md."""
    return System(
        name=name,
        files=rule_files,
        command=lambda ctx: [
            L3FWD, *replace(ctx, lcores="1").eal(), "--", "-p", "0x3",
            "--lookup=%s" % lookup,
            "--config=(0,0,1),(1,0,1)", "--parse-ptype",
            "--rule_ipv4=%s" % ctx.file("l3fwd_v4.cfg"),
            "--rule_ipv6=%s" % ctx.file("l3fwd_v6.cfg")],
    )


def l3fwd_lpm(traffic):
    """l3fwd, LPM lookup, routes from l3fwd_rules()."""
    return l3fwd_system("l3fwd", "lpm", lambda ctx: l3fwd_rules(traffic))


_PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "gre": 47, "esp": 50,
              "ah": 51}


def _flow_mapping(line):
    """{k: v, k: v} (filter_rules()'s lines: no nesting, no commas in a
    value) -> dict of strings."""
    assert line.startswith("{") and line.endswith("}"), line
    out = {}
    for item in line[1:-1].split(","):
        k, v = item.split(":", 1)
        out[k.strip()] = v.strip()
    return out


def _acl_net(v):
    """An address or prefix as l3fwd's ACL parser wants it (a/len)."""
    if v in (None, "any"):
        return "0.0.0.0/0"
    return v if "/" in v else v + "/32"


def _acl_ports(v):
    """A port or lo-hi as l3fwd's `lo : hi`."""
    if v in (None, "any"):
        return "0 : 65535"
    lo, _, hi = v.partition("-")
    return "%d : %d" % (int(lo), int(hi or lo))


def l3fwd_acl_rule(rule):
    """One filter_rules() line as an l3fwd ACL deny line: `@<src>/<len>
    <dst>/<len> <sport_lo> : <sport_hi> <dport_lo> : <dport_hi>
    <proto>/<mask>`. See l3fwd_acl_rules() for what it cannot say."""
    r = _flow_mapping(rule)
    r.pop("name", None)
    known = {"protocol", "src", "dst", "src_port", "dst_port", "icmp_type",
             "icmp_code", "established"}
    if r.pop("action", None) != "deny" or not set(r) <= known:
        raise ValueError("l3fwd_acl_rule: cannot convert %s" % rule)
    proto = r.get("protocol", "any")
    proto = "0/0" if proto == "any" else \
        "%d/0xff" % (_PROTOCOLS[proto] if proto in _PROTOCOLS else int(proto))
    # icmp_type/icmp_code and established are dropped (wild): see
    # l3fwd_acl_rules()
    return "@%s %s %s %s %s" % (_acl_net(r.get("src")), _acl_net(r.get("dst")),
                                _acl_ports(r.get("src_port")),
                                _acl_ports(r.get("dst_port")), proto)


def l3fwd_acl_rules(traffic, lan_in=1000, seed=5):
    """l3fwd's ACL rule files (--lookup=acl). IPv4: the LAN_IN rules of
    tollgate_filter_yaml()'s lan0 inbound list (filter_rules(LAN_IN, SEED,
    "in")) as `@` deny lines, then the traffic's /24 prefixes as `R` route
    lines out of port 1 (`R0.0.0.0/0 <prefix> 0 : 65535 0 : 65535 0/0 1`).
    l3fwd puts both in one rte_acl context and gives each line the
    priority of its place in the file (earlier wins), so the deny lines
    come first. One classification per packet, like tollgate's first
    (lan0 inbound) of its two; it is also l3fwd's route lookup.

    What l3fwd's format cannot say, approximated (the traffic, UDP to
    ports none of the rules name, matches none either way):
    - icmp_type / icmp_code: only the protocol (1/0xff) is kept, ports
      wild (l3fwd would read type and code as the "source port");
    - established: the same TCP rule without it (no TCP flags field);
    - a missing or "any" field: wild (0.0.0.0/0, 0 : 65535, 0/0).

    IPv6 (mandatory file, at least one route): one unused route,
    `R::/0 2001:db8::/32 ...` written in full, as l3fwd's parser wants."""
    v4 = [l3fwd_acl_rule(r) for r in filter_rules(lan_in, seed, "in")]
    v4 += ["R0.0.0.0/0 %s 0 : 65535 0 : 65535 0/0 1" % net
           for net in traffic.info["prefixes"]]
    v6 = ("R0000:0000:0000:0000:0000:0000:0000:0000/0 "
          "2001:0db8:0000:0000:0000:0000:0000:0000/32 "
          "0 : 65535 0 : 65535 0/0 1\n")
    return {"l3fwd_v4.cfg": "\n".join(v4) + "\n", "l3fwd_v6.cfg": v6}


def l3fwd_acl(traffic):
    """l3fwd, ACL lookup (--lookup=acl), rules from l3fwd_acl_rules(): per
    packet one rte_acl classification against 1,000 deny rules and the
    routes. Classify method: rte_acl's default choice, as tollgate's
    (no --alg)."""
    return l3fwd_system("l3fwd-acl", "acl",
                        lambda ctx: l3fwd_acl_rules(traffic))


L3FWD_SYSTEMS = ("l3fwd", "l3fwd-acl")


def peers_available(systems):
    """Drop the l3fwd systems when bench/run.sh could not build it (it
    says why)."""
    return [s for s in systems
            if s.name not in L3FWD_SYSTEMS or os.access(L3FWD, os.X_OK)]


# ---------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    name: str
    description: str
    traffic: Traffic
    systems: List[System]
    baseline: Optional[str] = None  # ratios are taken against this system
    # tollgate's systems are also compared with this peer (its own column)
    peer: Optional[str] = None


SCENARIOS = [
    Scenario(
        name="transit-forward",
        description="transit path, forward only (filter/natfw/ipsec bypassed); "
                    "UDP, 4096 flows, 512 /24 routes, 4 static next hops",
        traffic=TRANSIT_UDP,
        systems=peers_available([
            tollgate(TRANSIT_UDP, tollgate_transit_yaml),
            l3fwd_lpm(TRANSIT_UDP), testpmd_io(),
            # the same, through every stage's ring: prices a ring hop
            tollgate(TRANSIT_UDP,
                     lambda ctx, t: tollgate_transit_yaml(ctx, t, bypass=False),
                     name="tollgate-all-rings")]),
        baseline="testpmd-io",
        peer="l3fwd",
    ),
    Scenario(
        name="transit-target-localfilter",
        description="as transit-forward, but one packet in four is a TCP "
                    "SYN to the appliance (target path): localfilter judges "
                    "it (half refused). tollgate: no host port, the "
                    "accepted ones end as pipeline.no_host_port; "
                    "tollgate-host: they go to a real kernel through the "
                    "host port (bounded queue, host.tx_full beyond what it "
                    "takes). Mpps counts what is transmitted: the transit "
                    "3/4 (plus, with the host, the kernel's answers)",
        traffic=TRANSIT_TARGET,
        systems=[tollgate(TRANSIT_TARGET, tollgate_localfilter_yaml),
                 tollgate(TRANSIT_TARGET, tollgate_host_yaml,
                          name="tollgate-host", host=True),
                 testpmd_io()],
        baseline="testpmd-io",
    ),
    Scenario(
        name="transit-filter",
        description="transit-forward's traffic through the filter hook: "
                    "1,000 deny rules inbound on lan0 and 1,000 outbound "
                    "on wan0 (prefixes, ports and port ranges, several "
                    "protocols; bench/scenarios.py filter_rules()), none "
                    "matching the traffic, so each forwarded packet is "
                    "classified twice against a whole list. "
                    "tollgate-nofilter: the same config without filters "
                    "(filter bypassed). l3fwd-acl: DPDK's l3fwd "
                    "--lookup=acl, lan0's 1,000 rules and the routes in "
                    "one rte_acl context, one classification per packet "
                    "(l3fwd_acl_rules()). filter column: cycles per "
                    "classification (×2 per forwarded packet). "
                    "tollgate: the default decision cache (49,152 "
                    "entries: every flow stays in it); -nocache: "
                    "pipeline.filter_cache 0, every packet through "
                    "rte_acl; -cachemiss: 768 entries for 8,192 keys, "
                    "nearly every lookup a miss; -avx512: no cache and "
                    "rte_acl's avx512x32",
        traffic=TRANSIT_UDP,
        systems=peers_available([
            tollgate(TRANSIT_UDP, tollgate_filter_yaml),
            tollgate(TRANSIT_UDP, tollgate_filter_cache_yaml(0),
                     name="tollgate-nocache"),
            tollgate(TRANSIT_UDP, tollgate_filter_cache_yaml(768),
                     name="tollgate-cachemiss"),
            tollgate(TRANSIT_UDP, tollgate_filter_avx512_yaml,
                     name="tollgate-avx512"),
            tollgate(TRANSIT_UDP, tollgate_transit_yaml,
                     name="tollgate-nofilter"),
            l3fwd_lpm(TRANSIT_UDP), l3fwd_acl(TRANSIT_UDP)]),
        baseline="l3fwd",
        peer="l3fwd-acl",
    ),
    Scenario(
        name="transit-nat",
        description="transit-forward's traffic through NAT (issue 6, a "
                    "first measure): lan0 private, wan0 public, each "
                    "forwarded packet's source translated by its session "
                    "(4,096 flows, 4,096 sessions). tollgate-nonat: the "
                    "same without nat (natfw bypassed). natfw column: "
                    "cycles per translated packet",
        traffic=TRANSIT_UDP,
        systems=peers_available([
            tollgate(TRANSIT_UDP, tollgate_nat_yaml),
            tollgate(TRANSIT_UDP, tollgate_transit_yaml,
                     name="tollgate-nonat"),
            l3fwd_lpm(TRANSIT_UDP)]),
        baseline="l3fwd",
        peer="l3fwd",
    ),
    Scenario(
        name="transit-trace",
        description="transit-forward's traffic and config, to price the "
                    "trace and the drop capture (issue 8). tollgate: "
                    "neither on, the dispatcher tests one word per burst. "
                    "-trace-idle: a trace marking (filter 'tcp and port "
                    "9': no packet matches, so every packet is looked at "
                    "and none marked). -capture-idle: a drop capture "
                    "running for forward.ttl_exceeded (no packet is "
                    "dropped). -before-trace: the build before the hooks "
                    "(TOLLGATE_BASE_BIN; left out without it)",
        traffic=TRANSIT_UDP,
        systems=[tollgate(TRANSIT_UDP, tollgate_transit_yaml),
                 tollgate(TRANSIT_UDP, tollgate_transit_yaml,
                          name="tollgate-trace-idle",
                          after_start=[("/tollgate/trace",
                                        "start 10 tcp and port 9")]),
                 tollgate(TRANSIT_UDP, tollgate_transit_yaml,
                          name="tollgate-capture-idle",
                          after_start=[("/tollgate/capture",
                                        "start /dev/null "
                                        "reason=forward.ttl_exceeded")])]
        + ([tollgate(TRANSIT_UDP, tollgate_transit_yaml,
                     name="tollgate-before-trace", binary=TOLLGATE_BASE)]
           if TOLLGATE_BASE else []),
        baseline="tollgate-before-trace" if TOLLGATE_BASE else "tollgate",
    ),
]
