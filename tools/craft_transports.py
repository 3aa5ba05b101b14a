#!/usr/bin/env python3
"""Writes testdata/pcaps/transports/sctp.pcap: application messages carried by SCTP, which trawl
parses as the protocol their ports say, one message at a time.

    pip install scapy && python3 tools/craft_transports.py testdata/pcaps/transports

Frames (fixed timestamps, byte-identical on every run):
  1. IPv4, DATA chunk, port 80: an HTTP request for sctp-http.transport.example
  2. IPv6, DATA chunk, port 443: a TLS ClientHello (DTLS over SCTP uses TLS records) for
     sctp-tls.transport.example
  3. IPv4, two bundled DATA chunks (after a SACK chunk), port 80: requests for
     bundle-one.transport.example and bundle-two.transport.example
  4. IPv4, I-DATA chunk, port 80: a request for sctp-idata.transport.example
  5. IPv4, DATA chunk with only the B flag (a first fragment), port 80: counted, not parsed
"""
import struct
import sys
from pathlib import Path

from scapy.all import IP, SCTP, Ether, IPv6, Raw, wrpcap

ETH = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def data_chunk(payload, flags=0x03, stream=1, ppid=0, tsn=1):
    c = struct.pack("!BBHIHHI", 0, flags, 16 + len(payload), tsn, stream, 0, ppid) + payload
    return c + b"\0" * (-len(c) % 4)


def idata_chunk(payload, flags=0x03, stream=1, mid=5, ppid=0, tsn=1):
    c = struct.pack("!BBHIHHII", 64, flags, 20 + len(payload), tsn, stream, 0, mid, ppid) + payload
    return c + b"\0" * (-len(c) % 4)


def http(host):
    return f"GET /s HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sctp-test\r\n\r\n".encode()


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(sni_ext)) + sni_ext
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def frame(chunks, v6=False, dport=80):
    ip = IPv6(src="2001:db8:5c::1", dst="2001:db8:5c::2") if v6 else \
        IP(src="192.0.2.51", dst="198.51.100.52", id=1)
    return Ether(**ETH) / ip / SCTP(sport=40001, dport=dport, tag=0x1234) / Raw(chunks)


FRAMES = [
    frame(data_chunk(http("sctp-http.transport.example"))),
    frame(data_chunk(client_hello("sctp-tls.transport.example")), v6=True, dport=443),
    frame(struct.pack("!BBHIIHH", 3, 0, 16, 1, 65535, 0, 0) + data_chunk(http("bundle-one.transport.example"), tsn=2)
          + data_chunk(http("bundle-two.transport.example"), tsn=3)),
    frame(idata_chunk(http("sctp-idata.transport.example"))),
    frame(data_chunk(http("fragment.transport.example"), flags=0x02)),
]

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "testdata/pcaps/transports")
    out.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(FRAMES):
        f.time = 1700000000 + i
    wrpcap(str(out / "sctp.pcap"), FRAMES)
