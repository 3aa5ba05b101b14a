#!/usr/bin/env python3
"""Writes the link-layer fixtures under testdata/pcaps/links/: one small pcap per link type
and per ethertype re-entry that trawl decodes, each with IPv4 and IPv6 UDP DNS queries and the
frames that deliberately yield no IP (protected, beacon, null data, LLC without SNAP, cut
headers).

    python3 tools/craft_links.py testdata/pcaps/links

The output is byte-identical on every run (fixed timestamps, fixed fields). Packet `k`, counted
over all files in the order below, goes from 192.0.2.k (or 2001:db8:a::k) port 20000+k to
203.0.113.k (or 2001:db8:b::k) port 53 and asks for hostk.links.example (A over IPv4, AAAA over
IPv6, DNS id k). tests/packet.rs and tests/scan_pcap.rs hold the same numbering.

Needs scapy (pip install scapy); tested with scapy 2.6.
"""

import struct
import sys
from pathlib import Path

from scapy.contrib.nsh import NSH
from scapy.contrib.mpls import MPLS
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.dot11 import (
    Dot11,
    Dot11Beacon,
    Dot11Elt,
    Dot11QoS,
    RadioTap,
)
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import LLC, SNAP, Dot1AD, Dot1AH, Dot1Q, Ether
from scapy.layers.ppp import PPP, PPPoE

COUNTER = [0]
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:0b"


def query(v6=False):
    """The next numbered DNS query as IP bytes."""
    COUNTER[0] += 1
    k = COUNTER[0]
    dns = DNS(id=k, rd=1, qd=DNSQR(qname=f"host{k}.links.example", qtype="AAAA" if v6 else "A"))
    udp = UDP(sport=20000 + k, dport=53) / dns
    if v6:
        return bytes(IPv6(src=f"2001:db8:a::{k:x}", dst=f"2001:db8:b::{k:x}", hlim=64) / udp)
    return bytes(IP(src=f"192.0.2.{k}", dst=f"203.0.113.{k}", ttl=64, id=k) / udp)


def pcap(linktype, frames):
    """A little-endian microsecond pcap; frame i is stamped 2024-01-01 00:00:00 + i seconds."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1704067200 + i, 0, len(f), len(f)) + f
    return out


def be16(v):
    return struct.pack(">H", v)


# ---------------------------------------------------------------------------------------------
# PPP family.


def ppp_frames():
    return [
        b"\xff\x03\x00\x21" + query(),  # HDLC-like address/control, 2-byte protocol
        b"\x57" + query(True),  # no address/control, compressed protocol
        b"\x00\x21" + query(),  # no address/control, full protocol
        b"\xff\x03\xc0\x21\x01\x01\x00\x04",  # LCP configure-request: not IP
        b"\xff\x03",  # cut before the protocol
    ]


def ppp_hdlc_frames():
    return [
        b"\xff\x03\x00\x21" + query(),
        b"\x8f\x00\x86\xdd" + query(True),  # Cisco HDLC under the same link type
        b"\xff\x03\x00",  # cut inside the protocol
    ]


def ppp_ether_frames():
    def session(proto, body):
        return bytes(PPPoE(sessionid=0x1234, len=len(body) + 2)) + be16(proto) + body

    return [
        session(0x0021, query()),
        session(0x0057, query(True)),
        b"\x11\x00\x12",  # cut inside the PPPoE header
    ]


def ppp_with_dir_frames():
    return [
        b"\x00\xff\x03\x00\x21" + query(),
        b"\x01\x00\x57" + query(True),
        b"",  # not even the direction byte
    ]


# ---------------------------------------------------------------------------------------------
# Cisco HDLC and Frame Relay.


def c_hdlc_frames():
    slarp = b"\x8f\x00\x80\x35" + bytes(18)
    return [
        b"\x0f\x00\x08\x00" + query(),
        b"\x0f\x00\x86\xdd" + query(True),
        slarp,  # Cisco keepalives: not IP
        b"\x0f\x00\x08",  # cut inside the ethertype
    ]


def c_hdlc_with_dir_frames():
    return [
        b"\x01\x0f\x00\x08\x00" + query(),
        b"\x00\x0f\x00\x86\xdd" + query(True),
    ]


def frelay_frames():
    dlci100 = b"\x18\x41"  # DLCI 100, EA set in the second byte
    dlci100_3 = b"\x18\x40\x01"  # a three-byte address
    return [
        dlci100 + b"\x03\xcc" + query(),  # RFC 2427, NLPID IPv4
        dlci100 + b"\x03\x8e" + query(True),  # NLPID IPv6
        dlci100 + b"\x03\x00\x80\x00\x00\x00\x08\x00" + query(),  # pad, SNAP, ethertype
        dlci100_3 + b"\x03\xcc" + query(),  # three-byte address
        dlci100 + b"\x86\xdd" + query(True),  # Cisco encapsulation: an ethertype
        b"\x00\x01\x03\x08\x00\x75\x95\x01\x01\x00",  # Q.933 LMI status enquiry: not IP
        b"\x18\x40\x00\x00\x03\xcc",  # no extension bit in four bytes
        b"\x18",  # cut inside the address
    ]


# ---------------------------------------------------------------------------------------------
# 802.11 and its radio headers.


def llc_snap(ip6=False):
    return bytes(LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x86DD if ip6 else 0x0800))


def wlan_data(ip6=False, fcfield="to_DS", qos=False, order=False):
    """A data frame; `fcfield` as scapy spells it ("to_DS", "from_DS", "to_DS+from_DS")."""
    flags = fcfield + ("+order" if order else "")
    hdr = Dot11(
        type=2,
        subtype=8 if qos else 0,
        FCfield=flags,
        addr1="02:00:00:00:01:01",
        addr2="02:00:00:00:01:02",
        addr3="02:00:00:00:01:03",
        addr4="02:00:00:00:01:04" if "to_DS+from_DS" in fcfield else None,
        SC=0x10,
    )
    head = bytes(hdr)
    if "to_DS+from_DS" not in fcfield:
        head = head[:24]
    if qos:
        head += bytes(Dot11QoS(TID=5))
        if order:
            head += b"\x00\x00\x00\x00"  # HT control
    return head + llc_snap(ip6) + query(ip6)


def wlan_beacon():
    return bytes(
        Dot11(type=0, subtype=8, addr1="ff:ff:ff:ff:ff:ff", addr2="02:00:00:00:01:02",
              addr3="02:00:00:00:01:02")
        / Dot11Beacon(timestamp=1, beacon_interval=100, cap=0x0411)
        / Dot11Elt(ID="SSID", info=b"links")
    )


def wlan_null():
    return bytes(Dot11(type=2, subtype=4, FCfield="to_DS", addr1="02:00:00:00:01:01",
                       addr2="02:00:00:00:01:02", addr3="02:00:00:00:01:03"))[:24]


def wlan_protected():
    head = bytes(Dot11(type=2, subtype=8, FCfield="to_DS+protected", addr1="02:00:00:00:01:01",
                       addr2="02:00:00:00:01:02", addr3="02:00:00:00:01:03"))[:24]
    # QoS control, a CCMP header, ciphertext and MIC (fixed bytes standing for random ones).
    return head + b"\x00\x00" + b"\x01\x00\x00\x20\x00\x00\x00\x00" + bytes(range(48))


def wlan_stp():
    head = bytes(Dot11(type=2, subtype=0, FCfield="to_DS", addr1="01:80:c2:00:00:00",
                       addr2="02:00:00:00:01:02", addr3="02:00:00:00:01:03"))[:24]
    return head + b"\x42\x42\x03" + bytes(35)  # LLC for spanning tree: not SNAP


def ieee80211_frames():
    return [
        wlan_data(),
        wlan_data(True, "from_DS", qos=True),
        wlan_data(False, "to_DS+from_DS", qos=True, order=True),  # 30 + 2 + 4 bytes
        wlan_beacon(),
        wlan_null(),
        wlan_protected(),
        wlan_stp(),
        bytes(Dot11(type=2, subtype=0, FCfield="to_DS"))[:20],  # cut inside the MAC header
    ]


def radiotap(body, flags=None, fcs=False):
    if flags is None:
        rt = RadioTap(present="Rate", Rate=2)
    else:
        rt = RadioTap(present="TSFT+Flags+Rate", mac_timestamp=1, Flags=flags, Rate=2)
    return bytes(rt) + body + (b"\xde\xad\xbe\xef" if fcs else b"")


def radiotap_frames():
    frames = [radiotap(wlan_data())]
    frames.append(radiotap(wlan_data(True, "from_DS", qos=True), flags="FCS", fcs=True))
    # With the data pad flag, the 26-byte QoS header is padded to 28.
    padded_qos = wlan_data(False, "to_DS", qos=True)
    frames.append(radiotap(padded_qos[:26] + b"\x00\x00" + padded_qos[26:], flags="pad"))
    return frames + [
        radiotap(wlan_protected()),
        radiotap(wlan_beacon()),
        b"\x00\x00\x40\x00\x00\x00\x00\x00",  # a radiotap length past the frame
    ]


def ppi(body, dlt=105):
    # One 802.11-common field (type 2, 20 bytes of zeros): the header is 32 bytes.
    field = struct.pack("<HH", 2, 20) + bytes(20)
    return struct.pack("<BBHI", 0, 0, 8 + len(field), dlt) + field + body


def ppi_frames():
    return [
        ppi(wlan_data()),
        ppi(wlan_data(True, "from_DS", qos=True)),
        ppi(wlan_null()),
        b"\x00\x00\x08",  # cut inside the PPI header
    ]


def avs(body):
    hdr = struct.pack(">II", 0x80211001, 64) + bytes(56)
    return hdr + body


def avs_frames():
    return [avs(wlan_data()), avs(wlan_data(True, "from_DS", qos=True))]


def prism(body):
    # msgcode 0x44 and msglen 144, little-endian, a device name, then items (zeros here).
    hdr = struct.pack("<II", 0x44, 144) + b"wlan0".ljust(16, b"\x00")
    return hdr + bytes(144 - len(hdr)) + body


def prism_frames():
    return [
        prism(wlan_data()),
        avs(wlan_data(True, "from_DS", qos=True)),  # link type 119 also records AVS
    ]


# ---------------------------------------------------------------------------------------------
# Ethertype re-entries inside Ethernet.


def eth(ether_type):
    return Ether(src=MAC_A, dst=MAC_B, type=ether_type)


def nsh_frames():
    frames = [bytes(eth(0x894F) / NSH(spi=10, si=255, nextproto=1)) + query()]
    frames.append(bytes(eth(0x894F) / NSH(spi=11, si=254, mdtype=2, nextproto=2)) + query(True))
    # NSH, Ethernet inside, then IPv4.
    frames.append(bytes(eth(0x894F) / NSH(spi=12, si=253, nextproto=3) / eth(0x0800)) + query())
    # NSH in NSH, then MPLS, then IPv6.
    frames.append(
        bytes(eth(0x894F) / NSH(spi=13, si=252, nextproto=4) / NSH(spi=14, si=251, nextproto=5)
              / MPLS(label=16, s=1, ttl=64)) + query(True))
    deep = bytes(eth(0x894F))
    for _ in range(9):  # nine NSH headers: past the decoder's eight layers
        deep += bytes(NSH(spi=1, si=255, nextproto=4))
    deep += bytes(NSH(spi=1, si=255, nextproto=1)) + query()
    frames.append(deep)
    frames.append(bytes(eth(0x894F)) + b"\x0f\xc6\x01")  # cut inside the base header
    return frames


def pbb_frames():
    def itag(isid):
        return bytes(Dot1AH(isid=isid))

    customer_v4 = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x0800)) + query()
    customer_v6 = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x8100) / Dot1Q(vlan=30, type=0x86DD))
    customer_v6 += query(True)
    # PBB, then a customer VLAN, then NSH, then Ethernet, then IPv4.
    chain = bytes(Ether(src=MAC_A, dst=MAC_B, type=0x8100) / Dot1Q(vlan=40, type=0x894F)
                  / NSH(spi=20, si=255, nextproto=3) / eth(0x0800)) + query()
    return [
        bytes(eth(0x88A8) / Dot1AD(vlan=100, type=0x88E7)) + itag(5000) + customer_v4,
        bytes(eth(0x88E7)) + itag(5001) + customer_v6,
        bytes(eth(0x88E7)) + itag(5002) + chain,
        bytes(eth(0x88E7)) + b"\x00\x00",  # cut inside the I-TAG
    ]


def llc_snap_frames():
    def dot3(body):
        return bytes(Ether(src=MAC_A, dst=MAC_B, type=len(body))) + body

    stp = bytes(LLC(dsap=0x42, ssap=0x42, ctrl=3)) + bytes(35)
    return [
        dot3(llc_snap() + query()),
        dot3(llc_snap(True) + query(True)),
        dot3(stp),  # spanning tree: LLC without SNAP
        dot3(b"\xaa\xaa\x03\x00\x00"),  # cut inside the SNAP header
    ]


FIXTURES = [
    ("ppp.pcap", 9, ppp_frames),
    ("ppp_hdlc.pcap", 50, ppp_hdlc_frames),
    ("ppp_ether.pcap", 51, ppp_ether_frames),
    ("ppp_with_dir.pcap", 204, ppp_with_dir_frames),
    ("c_hdlc.pcap", 104, c_hdlc_frames),
    ("c_hdlc_with_dir.pcap", 205, c_hdlc_with_dir_frames),
    ("frelay.pcap", 107, frelay_frames),
    ("ieee802_11.pcap", 105, ieee80211_frames),
    ("radiotap.pcap", 127, radiotap_frames),
    ("ppi.pcap", 192, ppi_frames),
    ("avs.pcap", 163, avs_frames),
    ("prism.pcap", 119, prism_frames),
    ("nsh.pcap", 1, nsh_frames),
    ("pbb.pcap", 1, pbb_frames),
    ("llc_snap.pcap", 1, llc_snap_frames),
]


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "testdata/pcaps/links")
    out.mkdir(parents=True, exist_ok=True)
    for name, linktype, frames in FIXTURES:
        (out / name).write_bytes(pcap(linktype, frames()))
    print(f"{len(FIXTURES)} captures, {COUNTER[0]} queries, in {out}")


if __name__ == "__main__":
    main()
