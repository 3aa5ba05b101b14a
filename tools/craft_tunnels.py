#!/usr/bin/env python3
"""Writes testdata/pcaps/tunnels/crafted.pcap: one frame per tunnel trawl opens, each carrying a
DNS query for `<case>.tunnel.example` from inner addresses that appear nowhere else, plus the
negative cases (cut headers, a GTP-U echo, a GRE keepalive, nesting past the depth limit).

    pip install scapy && python3 tools/craft_tunnels.py testdata/pcaps/tunnels/crafted.pcap

Timestamps are fixed, so the file is byte-identical on every run. tests/tunnels.rs lists what
each frame must yield; `CASES` below is the same list, in frame order.
"""
import struct
import sys

from scapy.all import (DNS, DNSQR, GRE, IP, UDP, Ether, IPv6, Raw, Dot1Q, wrpcap)
from scapy.contrib.mpls import MPLS

OUTER4 = ("198.51.100.1", "198.51.100.2")
OUTER6 = ("2001:db8:ffff::1", "2001:db8:ffff::2")
ETH = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def dns(case, n):
    """An inner IPv4 DNS query for `<case>.tunnel.example` from 10.<n>.0.1 to 10.<n>.0.2."""
    return IP(src=f"10.{n}.0.1", dst=f"10.{n}.0.2", id=n) / UDP(sport=40000 + n, dport=53) / \
        DNS(id=n, rd=1, qd=DNSQR(qname=f"{case}.tunnel.example"))


def dns6(case, n):
    """The IPv6 form: fd00:<n>::1 -> fd00:<n>::2."""
    return IPv6(src=f"fd00:{n:x}::1", dst=f"fd00:{n:x}::2") / UDP(sport=40000 + n, dport=53) / \
        DNS(id=n, rd=1, qd=DNSQR(qname=f"{case}.tunnel.example"))


def outer_udp(dport, payload, sport=50000):
    return Ether(**ETH) / IP(src=OUTER4[0], dst=OUTER4[1], id=1) / UDP(sport=sport, dport=dport) / \
        Raw(bytes(payload))


def outer_udp6(dport, payload, sport=50000):
    return Ether(**ETH) / IPv6(src=OUTER6[0], dst=OUTER6[1]) / UDP(sport=sport, dport=dport) / \
        Raw(bytes(payload))


def outer_ip(proto, payload, v6=False):
    if v6:
        return Ether(**ETH) / IPv6(src=OUTER6[0], dst=OUTER6[1], nh=proto) / Raw(bytes(payload))
    return Ether(**ETH) / IP(src=OUTER4[0], dst=OUTER4[1], proto=proto, id=1) / Raw(bytes(payload))


def gre(proto, payload, flags=0, extra=b""):
    return struct.pack("!BBH", flags, 0, proto) + extra + bytes(payload)


def inner_eth(pkt, ethertype=0x0800):
    return Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02", type=ethertype) / pkt


frames = []


def case(name, frame):
    frames.append((name, frame))


# IP in IP: IPv4 in IPv4, IPv6 in IPv4 (6in4), IPv4 in IPv6 (4in6), IPv6 in IPv6.
case("ipip", outer_ip(4, dns("ipip", 1)))
case("sixinfour", outer_ip(41, dns6("sixinfour", 2)))
case("fourinsix", outer_ip(4, dns("fourinsix", 3), v6=True))
case("sixinsix", outer_ip(41, dns6("sixinsix", 4), v6=True))
# GRE: IPv4, IPv6, with key + sequence + checksum, transparent Ethernet bridging (NVGRE-like,
# key = VSID 5000 << 8), RFC 1701 source routing, MPLS, over IPv6.
case("gre", outer_ip(47, gre(0x0800, dns("gre", 5))))
case("gre6", outer_ip(47, gre(0x86DD, dns6("gre6", 6))))
case("grekey", outer_ip(47, gre(0x0800, dns("grekey", 7), flags=0xB0,
                                extra=b"\x00\x00\x00\x00" + struct.pack("!I", 77) + b"\x00\x00\x00\x01")))
case("nvgre", outer_ip(47, gre(0x6558, inner_eth(dns("nvgre", 8)), flags=0x20,
                               extra=struct.pack("!I", 5000 << 8))))
case("greroute", outer_ip(47, gre(0x0800, dns("greroute", 9), flags=0x40,
                                  extra=b"\x00\x00\x00\x00" + b"\x08\x00\x00\x04" + b"\xc0\x00\x02\x01"
                                  + b"\x00\x00\x00\x00")))
case("grempls", outer_ip(47, gre(0x8847, MPLS(label=100, s=1, ttl=64) / dns("grempls", 10))))
case("grev6outer", outer_ip(47, gre(0x0800, dns("grev6outer", 11)), v6=True))
# ERSPAN: type I (no GRE sequence number, no header), type II (8-byte header, session 21),
# type III (12-byte header, session 22) and type III with its platform subheader.
case("erspan1", outer_ip(47, gre(0x88BE, inner_eth(dns("erspan1", 12)))))
erspan2 = struct.pack("!HHI", 0x1000 | 100, 21, 0)
case("erspan2", outer_ip(47, gre(0x88BE, erspan2 + bytes(inner_eth(dns("erspan2", 13))), flags=0x10,
                                 extra=b"\x00\x00\x00\x05")))
erspan3 = struct.pack("!HHIHH", 0x2000 | 100, 22, 0, 0, 0)
case("erspan3", outer_ip(47, gre(0x22EB, erspan3 + bytes(inner_eth(dns("erspan3", 14))), flags=0x10,
                                 extra=b"\x00\x00\x00\x06")))
erspan3o = struct.pack("!HHIHH", 0x2000 | 100, 23, 0, 0, 0x0001) + b"\x00" * 8
case("erspan3sub", outer_ip(47, gre(0x22EB, erspan3o + bytes(inner_eth(dns("erspan3sub", 15))),
                                    flags=0x10, extra=b"\x00\x00\x00\x07")))
# GRE in UDP, MPLS in UDP.
case("greudp", outer_udp(4754, gre(0x0800, dns("greudp", 16))))
case("mplsudp", outer_udp(6635, MPLS(label=200, s=1, ttl=64) / dns("mplsudp", 17)))
# VXLAN (VNI 4242), with a VLAN inside; VXLAN-GPE carrying IPv4 and IPv6.
vx = lambda vni: struct.pack("!BxxxI", 0x08, vni << 8)
case("vxlan", outer_udp(4789, vx(4242) + bytes(inner_eth(dns("vxlan", 18)))))
case("vxlanvlan", outer_udp(4789, vx(4243) + bytes(
    Ether(src="02:00:00:00:01:01", dst="02:00:00:00:01:02") / Dot1Q(vlan=300) / dns("vxlanvlan", 19))))
gpe = lambda nxt, vni: struct.pack("!BxxBI", 0x0C, nxt, vni << 8)
case("gpe4", outer_udp(4790, gpe(1, 11) + bytes(dns("gpe4", 20))))
case("gpe6", outer_udp(4790, gpe(2, 12) + bytes(dns6("gpe6", 21))))
# Geneve: Ethernet with one 8-byte option, and IPv4 straight.
case("geneve", outer_udp(6081, struct.pack("!BBHI", 2, 0, 0x6558, 31 << 8) + b"\x01\x02\x03\x01" + b"\x00" * 4
                         + bytes(inner_eth(dns("geneve", 22)))))
case("geneveip", outer_udp(6081, struct.pack("!BBHI", 0, 0, 0x0800, 32 << 8) + bytes(dns("geneveip", 23))))
# GTP-U: a G-PDU (TEID 0x1234), one with sequence number and a PDU session container extension
# header, and an echo request (no user packet).
g = bytes(dns("gtpu", 24))
case("gtpu", outer_udp(2152, struct.pack("!BBHI", 0x30, 255, len(g), 0x1234) + g, sport=2152))
g = bytes(dns("gtpuext", 25))
ext = b"\x01\x10\x01\x00"  # PDU session container: 1 unit, content, next = none
hdr_rest = struct.pack("!HBB", 7, 0, 0x85) + ext
case("gtpuext", outer_udp(2152, struct.pack("!BBHI", 0x36, 255, len(hdr_rest) + len(g), 0x5678) + hdr_rest + g,
                          sport=2152))
case("gtpecho", outer_udp(2152, struct.pack("!BBHIHBB", 0x32, 1, 4, 0, 9, 0, 0), sport=2152))
# Teredo: plain, and with an origin indication.
t = bytes(dns6("teredo", 26))
case("teredo", outer_udp(3544, t, sport=3544))
t = b"\x00\x00" + struct.pack("!H", 0xFFFF ^ 3544) + bytes([0xFF ^ b for b in (192, 0, 2, 9)]) + \
    bytes(dns6("teredoorigin", 27))
case("teredoorigin", outer_udp(50001, t, sport=3544))
# AYIYA: identity 16 bytes (idlen 4), signature 20 bytes (5 words), forward, IPv6.
a = bytes([0x41, 0x52, 0x11, 41]) + b"\x00" * 4 + b"\x11" * 16 + b"\x22" * 20 + bytes(dns6("ayiya", 28))
case("ayiya", outer_udp(5072, a, sport=5072))
# Nesting: IPv4 in VXLAN in GRE over IPv6 (depth 2).
nested = outer_ip(47, gre(0x0800, IP(src="203.0.113.200", dst="203.0.113.201", id=2) /
                          UDP(sport=50002, dport=4789) / Raw(vx(99) + bytes(inner_eth(dns("nested", 29))))), v6=True)
case("nested", nested)
# PPTP: enhanced GRE (version 1) with key (payload length, call id 0x0102) and sequence number,
# carrying PPP (FF 03, protocol 0x0021) with IPv4.
ppp = b"\xff\x03\x00\x21" + bytes(dns("pptp", 30))
case("pptp", outer_ip(47, struct.pack("!BBHHHI", 0x30, 0x01, 0x880B, len(ppp), 0x0102, 1) + ppp))
# GTP-U over IPv6 (a mobile core's IPv6 transport), carrying IPv6.
g = bytes(dns6("gtpu6", 31))
case("gtpu6", outer_udp6(2152, struct.pack("!BBHI", 0x30, 255, len(g), 0x9abc) + g, sport=2152))
# Negative cases: a cut VXLAN header, a cut GRE key, a GRE keepalive-like empty packet, GRE
# nested past the depth limit (nine GRE headers around the query).
case("cutvxlan", outer_udp(4789, b"\x08\x00\x00"))
case("cutgre", outer_ip(47, b"\x20\x00\x08\x00\x00"))
case("greempty", outer_ip(47, gre(0x0800, b"")))
deep = dns("toodeep", 32)
for i in range(9):
    deep = IP(src=f"192.0.2.{100 + i}", dst=f"192.0.2.{200 + i}", proto=47, id=3) / Raw(gre(0x0800, deep))
case("toodeep", Ether(**ETH) / deep)

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "testdata/pcaps/tunnels/crafted.pcap"
    pkts = []
    for i, (name, f) in enumerate(frames):
        f.time = 1700000000 + i
        pkts.append(f)
    wrpcap(out, pkts)
    for i, (name, _) in enumerate(frames):
        print(i + 1, name)
