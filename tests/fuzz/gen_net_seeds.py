#!/usr/bin/env python3
"""Seed corpus for tests/fuzz/fuzz_net.c, written to tests/fuzz/seeds/net/.

    python3 tests/fuzz/gen_net_seeds.py [DIR]    (default: tests/fuzz/seeds/net)

The seeds are committed; run this again after changing it or the harness's
fixed choices (addresses, ports, ISS 0x1234, client port 32768) and commit
what it wrote. Each seed is a list of frames in the harness's format,
[2-byte length][flags][frame]: flags 3 fixes the IPv4 and L4 checksums,
1 only the IPv4 one (fragments: the UDP checksum is computed here over the
whole datagram, or 0), 4 advances the clock a second, 8 is eth1 (DHCP).

What they reach, with an empty corpus out of reach: the listener's three-way
handshake, data in order, out of order with holes and the fill, FIN and
RST; the client's SYN-SENT -> ESTABLISHED after ARP let its SYN out; UDP to
bound and unbound ports; IPv4 reassembly in order, reversed, duplicated,
overlapping, with a hole and with a piece past the end; ICMP echo both ways; ARP; DHCP offer and ack.

Measured on the 2-core build machine (clang 14, 60 s, -seed=1, about
1900 inputs/s, each run twice; docs/net.md's Tests section has the same):
  empty corpus: cov 435, ft 1183 after 60 s; never reaches tcp_input
    (0/330 edges), ooo_insert, deliver, fin_arrived, dhcp_input, take_lease;
    reassemble 19/78 edges, tcp_lookup 4/27.
  these seeds:  cov 833, ft 1765 on loading them (tcp_input 71/330,
    tcp_lookup 9/27, ooo_insert 8/23, deliver 10/32, reassemble 26/78,
    dhcp_input 10/79, take_lease 20/86); cov 1058, ft 2882 after 60 s.
  With today's reassembly (holes declared complete, kmalloc not zeroed)
  the stale-byte check fired in 6 of 6 runs, after 261 to 13744 inputs
  (0.1 to 7 s); with reassembly fixed, 3 runs of 60 s found nothing.
"""
import os
import struct
import sys

GUEST_MAC = bytes.fromhex("525400123456")
GUEST2_MAC = bytes.fromhex("525400123457")      # eth1, the DHCP client's
PEER_MAC = bytes.fromhex("525400000001")
OTHER_MAC = bytes.fromhex("525400000005")
BCAST = b"\xff" * 6
GUEST = bytes([10, 0, 0, 2])
PEER = bytes([10, 0, 0, 1])                      # the gateway; the client's server
OTHER = bytes([10, 0, 0, 5])
GUEST_ISS = 0x1234                               # random_u64() in the harness
CLIENT_PORT = 32768                              # TCP's first ephemeral port

FIX_IP, FIX_L4, TICK_1S, ON_ETH1, TICK_10MS = 1, 2, 4, 8, 16


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, ident=1, frag_off=0, more=False, ttl=64):
    flags = (0x2000 if more else 0) | (frag_off // 8)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0,
                    src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def udp(src, dst, sport, dport, data, checksum=True):
    length = 8 + len(data)
    h = struct.pack("!HHHH", sport, dport, length, 0)
    if checksum:
        pseudo = src + dst + struct.pack("!BBH", 0, 17, length)
        c = csum(pseudo + h + data) or 0xFFFF
        h = h[:6] + struct.pack("!H", c)
    return h + data


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", window=65535, options=b""):
    while len(options) % 4:
        options += b"\x01"
    off = (20 + len(options)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4,
                    flags, window, 0, 0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
SYN_OPTS = (b"\x02\x04\x05\xb4"          # MSS 1460
            + b"\x04\x02"                # SACK permitted
            + b"\x01\x03\x03\x07")       # NOP, window scale 7


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def icmp_echo(typ, ident, seq, data):
    h = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


class Seed:
    def __init__(self):
        self.out = b""

    def frame(self, f, flags=FIX_IP | FIX_L4):
        self.out += struct.pack("!HB", len(f), flags) + f
        return self

    def tick(self, seconds=1):
        # an empty frame that only moves the clock
        for _ in range(seconds):
            self.out += struct.pack("!HB", 0, TICK_1S)
        return self


def to_guest(proto, payload, src=PEER, src_mac=PEER_MAC, **kw):
    return eth(GUEST_MAC, src_mac, 0x0800, ipv4(src, GUEST, proto, payload, **kw))


def arp_reply_from_peer():
    return eth(GUEST_MAC, PEER_MAC, 0x0806, arp(2, PEER_MAC, PEER, GUEST_MAC, GUEST))


def tcp_to_guest(seq, ack, flags, data=b"", sport=40000, dport=80, options=b"", src=PEER,
                 src_mac=PEER_MAC):
    return to_guest(6, tcp(src, GUEST, sport, dport, seq, ack, flags, data, options=options),
                    src=src, src_mac=src_mac)


def server_handshake(s, peer_iss=5000, sport=40000):
    s.frame(arp_reply_from_peer())
    s.frame(tcp_to_guest(peer_iss, 0, SYN, sport=sport, options=SYN_OPTS))
    s.frame(tcp_to_guest(peer_iss + 1, GUEST_ISS + 1, ACK, sport=sport))
    return peer_iss + 1


def seeds():
    out = {}

    out["arp_request"] = Seed().frame(
        eth(BCAST, OTHER_MAC, 0x0806, arp(1, OTHER_MAC, OTHER, b"\0" * 6, GUEST))).frame(
        eth(BCAST, PEER_MAC, 0x0806, arp(1, PEER_MAC, PEER, b"\0" * 6, PEER)))  # gratuitous

    # The listener: handshake, data in order, FIN; the echo goes back.
    s = Seed()
    seq = server_handshake(s)
    s.frame(tcp_to_guest(seq, GUEST_ISS + 1, PSH | ACK, b"hello, tern\n"))
    seq += 12
    s.frame(tcp_to_guest(seq, GUEST_ISS + 1 + 12, FIN | ACK))
    s.tick()
    out["tcp_server_inorder_fin"] = s

    # Out of order with holes, then the fills: 0..9 A, 10..19 B, 20..29 C, 30..39 D.
    s = Seed()
    seq = server_handshake(s)
    parts = [bytes([0x41 + i]) * 10 for i in range(4)]
    for i in (1, 3, 2, 0):
        s.frame(tcp_to_guest(seq + 10 * i, GUEST_ISS + 1, ACK, parts[i]))
    s.frame(tcp_to_guest(seq + 40, GUEST_ISS + 1, FIN | ACK))
    out["tcp_server_ooo_fill"] = s

    # Overlapping out-of-order segments and a duplicate.
    s = Seed()
    seq = server_handshake(s)
    data = bytes(range(48, 48 + 60))
    s.frame(tcp_to_guest(seq + 20, GUEST_ISS + 1, ACK, data[20:40]))
    s.frame(tcp_to_guest(seq + 30, GUEST_ISS + 1, ACK, data[30:60]))
    s.frame(tcp_to_guest(seq + 20, GUEST_ISS + 1, ACK, data[20:40]))
    s.frame(tcp_to_guest(seq + 5, GUEST_ISS + 1, ACK, data[5:25]))
    s.frame(tcp_to_guest(seq, GUEST_ISS + 1, PSH | ACK, data[0:10]))
    out["tcp_server_ooo_overlap"] = s

    # RST after data, and a SYN to a closed port (RST back).
    s = Seed()
    seq = server_handshake(s)
    s.frame(tcp_to_guest(seq, GUEST_ISS + 1, PSH | ACK, b"bye"))
    s.frame(tcp_to_guest(seq + 3, 0, RST))
    s.frame(tcp_to_guest(7000, 0, SYN, sport=40001, dport=81, options=SYN_OPTS))
    out["tcp_server_rst"] = s

    # The client: ARP lets its SYN out, a SYN-ACK makes it ESTABLISHED, data
    # comes in, then the server's FIN.
    s = Seed()
    s.frame(arp_reply_from_peer())
    s.frame(tcp_to_guest(9000, GUEST_ISS + 1, SYN | ACK, sport=80, dport=CLIENT_PORT,
                         options=SYN_OPTS))
    s.frame(tcp_to_guest(9001, GUEST_ISS + 1, PSH | ACK, b"HTTP/1.0 200 OK\r\n\r\n", sport=80,
                         dport=CLIENT_PORT))
    s.frame(tcp_to_guest(9001 + 19, GUEST_ISS + 1, FIN | ACK, sport=80, dport=CLIENT_PORT))
    s.tick()
    out["tcp_client_synsent_established"] = s

    # The client refused.
    s = Seed()
    s.frame(arp_reply_from_peer())
    s.frame(tcp_to_guest(0, GUEST_ISS + 1, RST | ACK, sport=80, dport=CLIENT_PORT))
    out["tcp_client_refused"] = s

    # UDP: bound ports, an unbound one (port unreachable back), a broadcast.
    s = Seed()
    s.frame(arp_reply_from_peer())
    s.frame(to_guest(17, udp(PEER, GUEST, 1234, 7, b"echo me")))
    s.frame(to_guest(17, udp(PEER, GUEST, 1234, 5000, b"x" * 100)))
    s.frame(to_guest(17, udp(PEER, GUEST, 1234, 9, b"nobody")))
    s.frame(eth(BCAST, PEER_MAC, 0x0800,
                ipv4(PEER, bytes([10, 0, 0, 255]), 17, udp(PEER, bytes([10, 0, 0, 255]), 1, 53, b"b"))))
    out["udp"] = s

    # IPv4 reassembly of one UDP datagram to port 7: 24 + 24 + 16 bytes of IP payload.
    def frag_seed(order, dgram_data, checksum=True, dup=(), extra=(), ident=0x77):
        d = udp(OTHER, GUEST, 4444, 7, dgram_data, checksum)
        pieces = [(0, d[0:24], True), (24, d[24:48], True), (48, d[48:], False)]
        s = Seed()
        for i in order:
            off, p, more = pieces[i]
            s.frame(to_guest(17, p, src=OTHER, src_mac=OTHER_MAC, ident=ident, frag_off=off,
                             more=more), FIX_IP)
        for off, p, more in extra:
            s.frame(to_guest(17, p, src=OTHER, src_mac=OTHER_MAC, ident=ident, frag_off=off,
                             more=more), FIX_IP)
        return s

    payload = bytes((i * 7 + 3) & 0xFF for i in range(56))
    out["frag_inorder"] = frag_seed((0, 1, 2), payload)
    out["frag_reversed"] = frag_seed((2, 1, 0), payload)
    out["frag_duplicate"] = frag_seed((0, 1, 1, 2), payload, checksum=False)
    # Overlap: an 8..32 piece besides the real ones (Linux drops the datagram).
    d = udp(OTHER, GUEST, 4444, 7, payload, False)
    out["frag_overlap"] = frag_seed((0, 2), payload, checksum=False,
                                    extra=((8, d[8:32], True), (24, d[24:48], True)))
    # A hole: first and last pieces only, never complete; then it times out.
    out["frag_hole"] = frag_seed((0, 2), payload, checksum=False).tick(31)
    # A stray piece past the datagram's end, after the datagram was whole
    # (must be rejected, not counted toward another datagram's bytes).
    out["frag_past_end"] = frag_seed((0, 1, 2), payload, checksum=False,
                                     extra=((72, d[0:24], True),)).tick(31)
    # The first piece only, twice (a retransmission), from another host too.
    s = frag_seed((0,), payload, checksum=False)
    s.frame(to_guest(17, d[0:24], src=PEER, ident=0x77, frag_off=0, more=True), FIX_IP)
    out["frag_first_only"] = s

    # ICMP: echo request to the guest; an echo reply for the ping socket (id 0).
    s = Seed()
    s.frame(arp_reply_from_peer())
    s.frame(to_guest(1, icmp_echo(8, 0x4242, 1, b"ping data 0123456789")))
    s.frame(to_guest(1, icmp_echo(0, 0, 1, b"pong data")))
    out["icmp_echo"] = s

    # DHCP on eth1: an OFFER for the client's DISCOVER (xid 0x1234), then the ACK.
    def dhcp(msg_type, yiaddr):
        m = bytearray(240)
        m[0], m[1], m[2] = 2, 1, 6
        m[4:8] = struct.pack("!I", 0x1234)
        m[16:20] = yiaddr
        m[28:34] = GUEST2_MAC
        m[236:240] = struct.pack("!I", 0x63825363)
        opts = bytes([53, 1, msg_type, 54, 4]) + PEER + bytes([51, 4]) + struct.pack("!I", 3600)
        opts += bytes([1, 4, 255, 255, 255, 0, 3, 4]) + PEER + bytes([6, 4]) + PEER + b"\xff"
        m += opts
        while len(m) < 300:
            m += b"\0"
        u = udp(PEER, BCAST[:4], 67, 68, bytes(m))
        return eth(BCAST, PEER_MAC, 0x0800, ipv4(PEER, BCAST[:4], 17, u))
    s = Seed()
    s.frame(dhcp(2, bytes([10, 0, 1, 9])), FIX_IP | FIX_L4 | ON_ETH1)
    s.frame(dhcp(5, bytes([10, 0, 1, 9])), FIX_IP | FIX_L4 | ON_ETH1)
    s.tick(2)
    out["dhcp_offer_ack"] = s

    # Everything in one input, so that mutations can combine them.
    s = Seed()
    for name in ("tcp_server_ooo_fill", "tcp_client_synsent_established", "frag_reversed",
                 "icmp_echo", "udp"):
        s.out += out[name].out
    out["all"] = s
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "seeds", "net")
    os.makedirs(d, exist_ok=True)
    for name, s in sorted(seeds().items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(s.out)
    print("%d seeds in %s" % (len(seeds()), d))


if __name__ == "__main__":
    main()
