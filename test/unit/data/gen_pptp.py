#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes pptp.pcap for test_natfw_pptp.c: PPTP control messages (RFC
2637, scapy.layers.pptp) and enhanced GRE (GRE_PPTP), as the clients, the
server and the appliance send them, and what NAT must make of each,
built here from the specification (docs/nat.md), never from tollgate.

Each frame is named by its IPv4 identification (the test looks frames up
by it) and its kind, the last byte of the Ethernet destination: 1 the
packet as sent, 2 what natfw must make of it. A public call ID that NAT
chooses (the second client's: its own is taken) is 0 here, a
placeholder the test fills in with the ID it observed, once it has
checked that ID against the rules.

Topology (test_natfw.c's): lan0 10.0.0.1/24 private, wan0 192.0.2.1/24
public and the NAT address; clients 10.0.0.2 (A) and 10.0.0.3 (B), the
PPTP server 203.0.113.5.

  /usr/bin/python3 test/unit/data/gen_pptp.py   (writes next to itself)
"""
import os
import sys

from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import GRE, GRE_PPTP, Ether
from scapy.layers.ppp import PPP
from scapy.layers.pptp import (PPTPCallClearRequest,
                               PPTPCallDisconnectNotify,
                               PPTPIncomingCallConnected,
                               PPTPIncomingCallReply,
                               PPTPIncomingCallRequest,
                               PPTPOutgoingCallReply,
                               PPTPOutgoingCallRequest,
                               PPTPStartControlConnectionReply,
                               PPTPStartControlConnectionRequest)
from scapy.packet import Raw
from scapy.utils import wrpcap

A, B, PUB, SRV = "10.0.0.2", "10.0.0.3", "192.0.2.1", "203.0.113.5"
A_PORT, B_PORT, L_PORT = 40000, 40001, 41000
CC = 0x4001           # the clients' call ID (both use it)
SA, SB = 0x0A01, 0x0B01   # the server's call IDs for A's and B's calls
HC, SL = 0x5001, 0x0C01   # the appliance's own call and the server's
PPP_DATA = PPP(proto=0xC021) / Raw(b"\x09\x01\x00\x08\x11\x22\x33\x44")

frames = []
seqs = {}


def put(ipid, kind, pkt):
    frames.append(Ether(src="02:00:00:00:00:aa",
                        dst="02:00:00:00:00:%02x" % kind) / pkt)


def tcp(src, sport, dst, dport, payload, flags, ipid, seq, ack):
    p = IP(src=src, dst=dst, id=ipid, ttl=64) / TCP(
        sport=sport, dport=dport, flags=flags, seq=seq, ack=ack,
        window=64240)
    if payload is not None:
        p = p / payload
    return p


def ctl(ipid, src, sport, dst, dport, msg, x_src=None, x_dst=None,
        x_msg=None, flags="PA"):
    """A control segment (kind 1) and what it becomes (kind 2): the
    address and message NAT gives it (None: the same). Sequence numbers
    follow what each side sent on the connection (its ports)."""
    seq = seqs.get((sport, dport), 1000 if sport != 1723 else 900000)
    ack = seqs.get((dport, sport), 0)
    put(ipid, 1, tcp(src, sport, dst, dport, msg, flags, ipid, seq, ack))
    put(ipid, 2, tcp(x_src or src, sport, x_dst or dst, dport,
                     x_msg if x_msg is not None else msg, flags, ipid,
                     seq, ack))
    seqs[(sport, dport)] = seq + (len(bytes(msg)) if msg is not None
                                  else 1)


def gre(ipid, src, dst, call_id, x_src=None, x_dst=None, x_call=None,
        seq=1, ack=None):
    """An enhanced GRE packet (kind 1) and what it becomes (kind 2)."""
    def one(s, d, c):
        g = GRE_PPTP(key_present=1, seqnum_present=1, call_id=c,
                     sequence_number=seq, payload_len=len(PPP_DATA))
        if ack is not None:
            g.acknum_present = 1
            g.ack_number = ack
        return IP(src=s, dst=d, id=ipid, ttl=64) / g / PPP_DATA
    put(ipid, 1, one(src, dst, call_id))
    put(ipid, 2, one(x_src or src, x_dst or dst,
                     call_id if x_call is None else x_call))


def gre_csum(ipid, src, dst, call_id, x_dst, x_call):
    """Enhanced GRE with the checksum bit (RFC 2637 says 0; natfw patches
    the checksum): scapy's GRE computes it."""
    def one(d, c):
        return IP(src=src, dst=d, id=ipid, ttl=64) / GRE(
            chksum_present=1, key_present=1, version=1, proto=0x880B,
            key=(len(PPP_DATA) << 16) | c) / PPP_DATA
    put(ipid, 1, one(dst, call_id))
    put(ipid, 2, one(x_dst, x_call))


def client(ipid0, host, port, to_pub=True):
    """SYN, SYN-ACK of a client's control connection."""
    ctl(ipid0, host, port, SRV, 1723, None, x_src=PUB, flags="S")
    ctl(ipid0 + 1, SRV, 1723, PUB, port, None, x_dst=host, flags="SA")


def main():
    # A: a whole outgoing call (0x01..0x0a)
    client(0x01, A, A_PORT)
    ctl(0x03, A, A_PORT, SRV, 1723, PPTPStartControlConnectionRequest(),
        x_src=PUB)
    ctl(0x04, SRV, 1723, PUB, A_PORT, PPTPStartControlConnectionReply(),
        x_dst=A)
    # the client's ID is free on the NAT address: kept
    ctl(0x05, A, A_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=CC, call_serial_number=1), x_src=PUB)
    ctl(0x06, SRV, 1723, PUB, A_PORT, PPTPOutgoingCallReply(
        call_id=SA, peer_call_id=CC, result_code=1), x_dst=A)
    gre(0x07, A, SRV, SA, x_src=PUB)
    gre(0x08, SRV, PUB, CC, x_dst=A, seq=1, ack=1)
    ctl(0x09, A, A_PORT, SRV, 1723, PPTPCallClearRequest(call_id=CC),
        x_src=PUB)
    ctl(0x0A, SRV, 1723, PUB, A_PORT, PPTPCallDisconnectNotify(
        call_id=SA, result_code=3), x_dst=A)

    # B: the same call ID to the same server; its public one is NAT's
    # choice (0 here, filled in by the test)
    client(0x11, B, B_PORT)
    ctl(0x15, B, B_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=CC, call_serial_number=2), x_src=PUB,
        x_msg=PPTPOutgoingCallRequest(call_id=0, call_serial_number=2))
    ctl(0x16, SRV, 1723, PUB, B_PORT, PPTPOutgoingCallReply(
        call_id=SB, peer_call_id=0, result_code=1), x_dst=B,
        x_msg=PPTPOutgoingCallReply(call_id=SB, peer_call_id=CC,
                                    result_code=1))
    gre(0x17, B, SRV, SB, x_src=PUB)
    gre(0x18, SRV, PUB, 0, x_dst=B, x_call=CC, seq=7, ack=3)
    gre_csum(0x19, SRV, PUB, 0, x_dst=B, x_call=CC)
    ctl(0x1A, SRV, 1723, PUB, B_PORT, PPTPCallDisconnectNotify(
        call_id=SB, result_code=3), x_dst=B)

    # A: a call the server refuses (result 2, general error)
    ctl(0x21, A, A_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=0x4002, call_serial_number=3), x_src=PUB)
    ctl(0x22, SRV, 1723, PUB, A_PORT, PPTPOutgoingCallReply(
        call_id=0x0A02, peer_call_id=0x4002, result_code=2), x_dst=A)
    gre(0x23, SRV, PUB, 0x4002, x_dst=A)

    # A takes an incoming call from the server
    ctl(0x31, SRV, 1723, PUB, A_PORT, PPTPIncomingCallRequest(
        call_id=0x0D01, call_serial_number=4), x_dst=A)
    ctl(0x32, A, A_PORT, SRV, 1723, PPTPIncomingCallReply(
        call_id=0x4003, peer_call_id=0x0D01, result_code=1), x_src=PUB)
    ctl(0x33, SRV, 1723, PUB, A_PORT, PPTPIncomingCallConnected(
        peer_call_id=0x4003), x_dst=A)
    gre(0x34, A, SRV, 0x0D01, x_src=PUB)
    gre(0x35, SRV, PUB, 0x4003, x_dst=A)

    # the appliance's own call (source path): nothing translated
    ctl(0x41, PUB, L_PORT, SRV, 1723, None, flags="S")
    ctl(0x42, SRV, 1723, PUB, L_PORT, None, flags="SA")
    ctl(0x43, PUB, L_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=HC, call_serial_number=5))
    ctl(0x44, SRV, 1723, PUB, L_PORT, PPTPOutgoingCallReply(
        call_id=SL, peer_call_id=HC, result_code=1))
    gre(0x45, SRV, PUB, HC)
    gre(0x46, SRV, PUB, HC + 1)
    ctl(0x47, PUB, L_PORT, SRV, 1723, PPTPCallClearRequest(call_id=HC))

    # malformed: passed (TCP translated, message untouched) or dropped
    ctl(0x51, A, A_PORT, SRV, 1723, Raw(bytes(PPTPOutgoingCallRequest(
        call_id=0x4004))[:40]), x_src=PUB)
    ctl(0x52, A, A_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=0x4005, magic_cookie=0xDEADBEEF), x_src=PUB)
    ctl(0x53, A, A_PORT, SRV, 1723, Raw(bytes(PPTPOutgoingCallRequest(
        call_id=0x4006))[:8]), x_src=PUB)
    ctl(0x54, A, A_PORT, SRV, 1723, PPTPOutgoingCallRequest(
        call_id=0x4007, ctrl_msg_type=99), x_src=PUB)
    put(0x55, 1, IP(src=A, dst=SRV, id=0x55) / GRE(key_present=1,
                                                  key=SA, proto=0x880B) /
        PPP_DATA)   # version 0
    put(0x56, 1, IP(src=A, dst=SRV, id=0x56) /
        GRE_PPTP(key_present=0, seqnum_present=1) / PPP_DATA)   # no key
    put(0x57, 1, IP(src=A, dst=SRV, id=0x57, proto=47) /
        Raw(bytes(GRE_PPTP(call_id=SA))[:6]))   # cut in the key
    put(0x58, 1, IP(src=SRV, dst=PUB, id=0x58) /
        GRE(key_present=1, key=CC, proto=0x880B) / PPP_DATA)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "pptp.pcap")
    wrpcap(out, frames)
    print("%s: %d frames" % (out, len(frames)))


if __name__ == "__main__":
    sys.exit(main())
