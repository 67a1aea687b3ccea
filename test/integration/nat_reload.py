#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate integration test of a NAT reload that changes a NAT address's
range (docs/nat.md, Reload): live tollgate, packets injected through veth
pairs, expectations built with scapy (nat.py's machinery and topology).

  run shrink  nat.addresses 10.1.0.1 ports 1024-65535, firewall: {}.
              Four UDP flows and one TCP flow from lan hosts, ports
              preserved (5000, 6000, 30000, 40000, TCP 45000), answered.
              Then /tollgate/config/reload,FILE with ports 1024-20000:
              - flows whose port is still in the range keep their public
                port: their next packet leaves as before, byte for byte,
                and the answer comes back;
              - flows whose port fell out are re-mapped: their next packet
                leaves from a new port of the new range (read from the
                output and checked against the range), the answer to it
                comes back, the answer to the old port is dropped
                (natfw.no_exception);
              - /tollgate/nat/summary: reload_dropped counts exactly the
                flows that fell out, the generation moved on.

Prints "PASS name" / "FAIL name: why", then "N passed, N failed"; exits 1
if anything failed.

  /usr/bin/python3 test/integration/nat_reload.py [-v] [--keep] [-k SUB]

Needs root (network namespace, veth pairs); TOLLGATE=path overrides the
binary. Adding a NAT address needs a second public interface, which this
two-port topology lacks: the unit tests (test_natfw_reload) cover it.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nat  # noqa: E402
from harness import WAN_IP, Scratch  # noqa: E402

nat.SCRATCH = Scratch("tg-natrl")
nat.log = nat.SCRATCH.log
log = nat.SCRATCH.log

NATFW = """nat:
  private: [lan0]
  public: [wan0]
  addresses:
    - {address: 10.1.0.1, ports: %s}
firewall: {}
"""
NEW_HI = 20000


def run_shrink(res, live):
    ports = nat.Ports(1024, 65535)
    flows = [nat.Flow("s%d" % i, "outbound_before_reload", "10.0.0.%d" % h,
                      proto, sport, "16.0.0.5", 53, seq=100 + i)
             for i, (h, proto, sport) in enumerate((
                 (2, "udp", 5000), (3, "udp", 6000), (4, "udp", 30000),
                 (2, "udp", 40000), (3, "tcp", 45000)))]

    def body(run):
        nat.run_outbound(run, flows, ports)
        nat.replies(run, flows, lambda f: "answered_before_reload")
        kept = [f for f in flows if f.pub is not None and f.pub <= NEW_HI]
        gone = [f for f in flows if f.pub is not None and f.pub > NEW_HI]
        c = run.case("reload_applied")
        if len(kept) != 2 or len(gone) != 3:
            c.append("ports %s: want two below %d, three above" % (
                [f.pub for f in flows], NEW_HI))
        text = open(run.cfg).read().replace(
            NATFW % "1024-65535", NATFW % ("1024-%d" % NEW_HI))
        cfg_b = run.write_config("b.yaml", text)
        gen0 = run.cmd("/tollgate/config")["generation"]
        r = run.cmd("/tollgate/config/reload", cfg_b)
        log("reload: %s" % r)
        s = run.cmd("/tollgate/nat/summary")
        if s.get("generation") != gen0 + 1:
            c.append("generation %s after the reload, want %d: %s" % (
                s.get("generation"), gen0 + 1, r))
        if s.get("addresses", {}).get("0", {}).get("ports") != \
                "1024-%d" % NEW_HI:
            c.append("summary addresses: %s" % s.get("addresses"))

        # the next packet of each flow: kept ports as before, the others
        # from a new port of the new range
        outs = run.step("after_reload", [(0, f.ip) for f in flows],
                        cases=["kept_flow_keeps_public_port",
                               "dropped_flow_remapped_into_new_range"])
        want = []
        for f in kept:
            want.append(("kept_flow_keeps_public_port", 1, run.frame_out(
                1, nat.translate(f.ip, src=WAN_IP, sport=f.pub))))
        new = {}
        for f in gone:
            case = "dropped_flow_remapped_into_new_range"
            t = nat.tag("out-" + f.name)
            hits = [fr for fr in outs[1] if t in fr]
            if len(hits) != 1:
                run.case(case).append("%s: %d frames" % (f.name, len(hits)))
                continue
            p = nat.l4_port(hits[0][14:], "s")
            if not 1024 <= p <= NEW_HI or p in [k.pub for k in kept]:
                run.case(case).append("%s: new port %d (old %d)" % (
                    f.name, p, f.pub))
            new[f.name] = (f.pub, p)
            want.append((case, 1, run.frame_out(
                1, nat.translate(f.ip, src=WAN_IP, sport=p))))
        run.match(outs, want)
        s = run.cmd("/tollgate/nat/summary")
        if s.get("reload_dropped") != len(gone):
            run.case("reload_dropped_counts_them").append(
                "reload_dropped %s, want %d" % (s.get("reload_dropped"),
                                                len(gone)))
        else:
            run.case("reload_dropped_counts_them")

        # answers: to the kept ports and the new ones translated back; to
        # the old ports of the re-mapped flows, nothing lets them in
        for f in gone:
            if f.name in new:
                f.pub = new[f.name][1]
        nat.replies(run, kept + [f for f in gone if f.name in new],
                    lambda f: "answered_after_reload")
        for f in gone:
            if f.name not in new:
                continue
            f.pub = new[f.name][0]
            run.step_dropped("answer_to_old_port_dropped", f.reply(1),
                             "natfw.no_exception")

    nat.run_part(res, live, "shrink", NATFW % "1024-65535", body)


def main():
    return nat.main_parts(__doc__, [("shrink", run_shrink)])


if __name__ == "__main__":
    sys.exit(main())
