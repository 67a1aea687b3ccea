#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""tollgate integration tests of PPTP through NAT (docs/nat.md, "PPTP"):
two lan clients call one PPTP server beyond wan0 with the same call ID;
wan0 must show the NAT address and a public call ID per call, the
server's replies and GRE must come back to each client with its own call
ID. Packets in and expected out are built with scapy (scapy.layers.pptp,
GRE_PPTP) from the specification; the one value NAT chooses, the second
client's public call ID (its own is taken), is read from wan0 and checked
against the rules (not the first client's, then used consistently).
Runs on nat.py's machinery (live veth ports in a namespace of its own,
steps settled by telemetry, exact drop counters, clean exit).

  /usr/bin/python3 test/integration/nat_pptp.py [-v] [--keep] [-k SUBSTRING]

Needs root; TOLLGATE=path overrides the binary.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nat  # noqa: E402
from harness import WAN_IP  # noqa: E402
from scapy.all import IP, TCP  # noqa: E402
from scapy.layers.l2 import GRE_PPTP  # noqa: E402
from scapy.layers.ppp import PPP  # noqa: E402
from scapy.layers.pptp import (PPTPOutgoingCallReply,  # noqa: E402
                               PPTPOutgoingCallRequest)
from scapy.packet import Raw  # noqa: E402

SRV = "16.0.0.5"
CID = 0x4001                  # both clients' call ID
CLIENTS = {"a": ("10.0.0.2", 40000, 0x0A01),   # host, TCP port, server's ID
           "b": ("10.0.0.3", 40001, 0x0B01)}
YAML = "nat:\n  private: [lan0]\n  public: [wan0]\nfirewall: {}\n"
DATA = PPP(proto=0xC021) / Raw(b"\x09\x01\x00\x08\x11\x22\x33\x44")


def seg(src, sport, dst, dport, ttl, ipid, flags, seq, ack, msg=None):
    p = IP(src=src, dst=dst, ttl=ttl, id=ipid) / TCP(
        sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
        window=64240)
    return bytes(p / msg if msg is not None else p)


def gre(src, dst, ttl, ipid, call_id, seq):
    return bytes(IP(src=src, dst=dst, ttl=ttl, id=ipid) / GRE_PPTP(
        key_present=1, seqnum_present=1, call_id=call_id,
        sequence_number=seq, payload_len=len(DATA)) / DATA)


def exchange(run, what, case, sends, switches=0):
    """SENDS [(port, packet in, packet expected out)]: each expected on
    the other port, byte for byte. → the step's outputs."""
    outs = run.step(what, [(p, i) for p, i, _ in sends], switches=switches,
                    cases=[case])
    run.match(outs, [(case, 1 - p, run.frame_out(1 - p, x))
                     for p, _, x in sends])
    return outs


def control(run):
    """SYN, SYN-ACK, Outgoing-Call-Request/Reply of both clients. →
    {client: public call ID} (None when not seen)."""
    pub = {}
    exchange(run, "syn", "pptp_control_connection_translated", [
        (0, seg(h, p, SRV, 1723, 64, 0x100 + p % 16, "S", 1000, 0),
         seg(WAN_IP, p, SRV, 1723, 63, 0x100 + p % 16, "S", 1000, 0))
        for h, p, _ in CLIENTS.values()])
    exchange(run, "synack", "pptp_control_connection_translated", [
        (1, seg(SRV, 1723, WAN_IP, p, 50, 0x200 + p % 16, "SA", 9000, 1001),
         seg(SRV, 1723, h, p, 49, 0x200 + p % 16, "SA", 9000, 1001))
        for h, p, _ in CLIENTS.values()], switches=2)
    for name, (h, p, _) in CLIENTS.items():   # a first: its ID is kept
        req = PPTPOutgoingCallRequest(call_id=CID, call_serial_number=p)
        ipb = seg(h, p, SRV, 1723, 64, 0x300 + p % 16, "PA", 1001, 9001, req)
        outs = run.step("ocrq_" + name, [(0, ipb)],
                        cases=["pptp_call_request_public_call_id"])
        got = [IP(f[14:]) for f in outs[1] if f[14:] and
               IP(f[14:]).haslayer(PPTPOutgoingCallRequest)]
        pub[name] = got[0][PPTPOutgoingCallRequest].call_id if got else None
        want = {"a": CID}.get(name, pub[name])
        if pub[name] is None or want == CID and name != "a":
            run.case("pptp_call_request_public_call_id").append(
                "%s: public call ID %s (a's is %#x)" % (name, pub[name], CID))
            want = 0xFFFF
        req = PPTPOutgoingCallRequest(call_id=want, call_serial_number=p)
        run.match(outs, [("pptp_call_request_public_call_id", 1,
                          run.frame_out(1, seg(WAN_IP, p, SRV, 1723, 63,
                                               0x300 + p % 16, "PA", 1001,
                                               9001, req)))])
    exchange(run, "ocrp", "pptp_call_reply_peer_call_id_back", [
        (1, seg(SRV, 1723, WAN_IP, p, 50, 0x400 + p % 16, "PA", 9001,
                1169, PPTPOutgoingCallReply(call_id=s, peer_call_id=pub[n]
                                            or 0, result_code=1)),
         seg(SRV, 1723, h, p, 49, 0x400 + p % 16, "PA", 9001, 1169,
             PPTPOutgoingCallReply(call_id=s, peer_call_id=CID,
                                   result_code=1)))
        for n, (h, p, s) in CLIENTS.items()], switches=2)
    return pub


def run_pptp(res, live):
    def body(run):
        pub = control(run)
        nat.log("public call IDs: %s" % pub)
        exchange(run, "gre_out", "gre_out_nat_address_server_call_id", [
            (0, gre(h, SRV, 64, 0x500 + p % 16, s, 1),
             gre(WAN_IP, SRV, 63, 0x500 + p % 16, s, 1))
            for h, p, s in CLIENTS.values()])
        exchange(run, "gre_in", "gre_in_client_address_and_call_id", [
            (1, gre(SRV, WAN_IP, 50, 0x600 + p % 16, pub[n] or 0, 1),
             gre(SRV, h, 49, 0x600 + p % 16, CID, 1))
            for n, (h, p, s) in CLIENTS.items()], switches=2)
        run.step_dropped("gre_in_unknown_call_no_exception",
                         gre(SRV, WAN_IP, 50, 0x701, 0x7777, 1),
                         "natfw.no_exception")
        case = "gre_out_without_call_gre_no_call"
        outs = run.step(case, [(0, gre("10.0.0.4", SRV, 64, 0x702, 0x0A01,
                                       1))],
                        drops={"natfw.gre_no_call": 1}, cases=[case])
        run.match(outs, [])

    nat.run_part(res, live, "pptp", YAML, body)


def main():
    return nat.main_parts(__doc__, [("pptp", run_pptp)])


if __name__ == "__main__":
    sys.exit(main())
