//! Packet decoding and capture files: crafted frames with exact expectations, every link type,
//! fixture captures cross-checked against tcpdump's output, truncated and corrupt files, the
//! whole shared pcap corpus, and property tests that no bytes make anything panic.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, IpHeaders, IpNumber, Ipv4Header,
    Ipv4Options, PacketBuilder, VlanId,
};
use proptest::prelude::*;

use trawl::testing::capture::{CaptureFile, Format, Frame, FrameError};
use trawl::testing::decode::{
    DecodeError, Encap, Fragment, Layer, LinkType, Packet, Transport, decode,
};

// ---------------------------------------------------------------------------------------------
// Frame builders. `etherparse::PacketBuilder` where it can; by hand for what it cannot write
// (IPv4 fragments after the first, IPv6 extension headers: etherparse 0.19 also writes the IPv6
// fragment header's offset and M flag at the wrong bits, its issue #150).

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
const V4_A: [u8; 4] = [192, 0, 2, 1];
const V4_B: [u8; 4] = [198, 51, 100, 2];
const V6_A: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
];
const V6_B: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
];

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn eth_v4_tcp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(V4_A, V4_B, 64)
        .tcp(40000, 443, 1000, 65535)
        .syn()
        .ack(7);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn eth_v6_udp(payload: &[u8]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(V6_A, V6_B, 64)
        .udp(5353, 53);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

/// An Ethernet II header.
fn eth(ether_type: u16, rest: &[u8]) -> Vec<u8> {
    let mut v = [MAC_B, MAC_A].concat();
    v.extend_from_slice(&ether_type.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

/// An IPv4 header (no checksum: decoders do not check it) with `options` and `flags_offset`
/// (flags in the top three bits, offset in 8-byte units below), then `rest`.
fn ipv4(proto: u8, id: u16, flags_offset: u16, options: &[u8], rest: &[u8]) -> Vec<u8> {
    let hlen = 20 + options.len();
    assert_eq!(hlen % 4, 0);
    let total = (hlen + rest.len()) as u16;
    let mut v = vec![0x40 | (hlen / 4) as u8, 0];
    v.extend_from_slice(&total.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&flags_offset.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0, 0]);
    v.extend_from_slice(&V4_A);
    v.extend_from_slice(&V4_B);
    v.extend_from_slice(options);
    v.extend_from_slice(rest);
    v
}

/// An IPv6 header whose payload (`rest`) starts with protocol `next`.
fn ipv6(next: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(rest.len() as u16).to_be_bytes());
    v.extend_from_slice(&[next, 64]);
    v.extend_from_slice(&V6_A);
    v.extend_from_slice(&V6_B);
    v.extend_from_slice(rest);
    v
}

/// An IPv6 fragment header (RFC 8200 layout) followed by `rest`.
fn frag6(next: u8, offset_units: u16, more: bool, id: u32, rest: &[u8]) -> Vec<u8> {
    let word = (offset_units << 3) | u16::from(more);
    let mut v = vec![next, 0];
    v.extend_from_slice(&word.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(rest);
    v
}

/// A hop-by-hop options header (8 bytes: next, length 0, a PadN option) followed by `rest`.
fn hop_by_hop(next: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![next, 0, 1, 4, 0, 0, 0, 0];
    v.extend_from_slice(rest);
    v
}

/// A 20-byte TCP header (flags byte as given) followed by `payload`.
fn tcp(sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&[
        0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    v.extend_from_slice(payload);
    v
}

/// An 8-byte UDP header whose length field claims `claimed` bytes, followed by `payload`.
fn udp(sport: u16, dport: u16, claimed: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&claimed.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

/// The packet every IPv4/TCP test frame is expected to decode to, before adjustments.
fn v4_tcp_packet(payload: &'static [u8], flags: u8) -> Packet<'static> {
    Packet {
        src: ip("192.0.2.1"),
        dst: ip("198.51.100.2"),
        transport: Transport::Tcp,
        src_port: Some(40000),
        dst_port: Some(443),
        tcp_flags: Some(flags),
        tcp_seq: Some(1000),
        payload,
        vlans: 0,
        encap: Encap::default(),
        fragment: None,
        truncated: None,
    }
}

fn reason(link: LinkType, frame: &[u8]) -> &'static str {
    match decode(link, frame) {
        Ok(p) => panic!("decoded {p:?}"),
        Err(e) => e.reason(),
    }
}

// ---------------------------------------------------------------------------------------------
// Crafted frames.

#[test]
fn ethernet_ipv4_tcp() {
    let frame = eth_v4_tcp(b"hello");
    let p = decode(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(p, v4_tcp_packet(b"hello", 0x12));
    // The payload is a view of the frame, not a copy.
    assert_eq!(p.payload.as_ptr(), frame[frame.len() - 5..].as_ptr());
}

#[test]
fn ethernet_ipv6_udp() {
    let frame = eth_v6_udp(b"query");
    assert_eq!(
        decode(LinkType::Ethernet, &frame).unwrap(),
        Packet {
            src: ip("2001:db8::a"),
            dst: ip("2001:db8::b"),
            transport: Transport::Udp,
            src_port: Some(5353),
            dst_port: Some(53),
            tcp_flags: None,
            tcp_seq: None,
            payload: b"query",
            vlans: 0,
            encap: Encap::default(),
            fragment: None,
            truncated: None,
        }
    );
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A 1-byte UDP payload, padded to the 60-byte Ethernet minimum.
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(V4_A, V4_B, 64)
        .udp(1, 2)
        .write(&mut frame, b"x")
        .unwrap();
    assert!(frame.len() < 60);
    frame.resize(60, 0);
    let p = decode(LinkType::Ethernet, &frame).unwrap();
    assert_eq!((p.payload, p.truncated), (&b"x"[..], None));
}

#[test]
fn vlan_and_qinq() {
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B).single_vlan(VlanId::try_new(100).unwrap());
    let mut one = Vec::new();
    b.ipv4(V4_A, V4_B, 64)
        .tcp(40000, 443, 1000, 1)
        .syn()
        .write(&mut one, b"")
        .unwrap();
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B).double_vlan(
        VlanId::try_new(200).unwrap(),
        VlanId::try_new(2001).unwrap(),
    );
    let mut two = Vec::new();
    b.ipv4(V4_A, V4_B, 64)
        .tcp(40000, 443, 1000, 1)
        .syn()
        .write(&mut two, b"")
        .unwrap();
    assert_eq!(&two[12..14], &[0x88, 0xa8], "802.1ad outer tag");
    // The tags' VLAN IDs, outermost first, are the packet's context.
    let expected = |vlans, vlan_ids| Packet {
        vlans,
        encap: Encap {
            vlan_ids,
            ..Encap::default()
        },
        ..v4_tcp_packet(b"", 0x02)
    };
    assert_eq!(
        decode(LinkType::Ethernet, &one).unwrap(),
        expected(1, [100, 0, 0])
    );
    assert_eq!(
        decode(LinkType::Ethernet, &two).unwrap(),
        expected(2, [200, 2001, 0])
    );

    // A third tag (0x9100 outer, then 802.1ad, then 802.1Q) still decodes; a fourth does not.
    let inner = ipv4(6, 1, 0, &[], &tcp(40000, 443, 0x02, b""));
    // A tag: its VLAN id, then the ethertype that follows it.
    let tag = |vid: u16, next: u16| [vid.to_be_bytes(), next.to_be_bytes()].concat();
    let three = eth(
        0x9100,
        &[
            tag(1, 0x88a8),
            tag(2, 0x8100),
            tag(3, 0x0800),
            inner.clone(),
        ]
        .concat(),
    );
    assert_eq!(
        decode(LinkType::Ethernet, &three).unwrap(),
        expected(3, [1, 2, 3])
    );
    let four = eth(
        0x9100,
        &[
            tag(1, 0x9100),
            tag(2, 0x88a8),
            tag(3, 0x8100),
            tag(4, 0x0800),
            inner,
        ]
        .concat(),
    );
    assert_eq!(reason(LinkType::Ethernet, &four), "too many VLAN tags");
    // A tag cut in half.
    assert_eq!(
        reason(LinkType::Ethernet, &eth(0x8100, &[0, 1])),
        "truncated VLAN tag"
    );
}

#[test]
fn ipv4_options_are_skipped() {
    let mut h = Ipv4Header::new(0, 64, IpNumber::TCP, V4_A, V4_B).unwrap();
    // Record route with room for two addresses, then end-of-list padding.
    h.options = Ipv4Options::try_from(&[7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0][..]).unwrap();
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ip(IpHeaders::Ipv4(h, Default::default()))
        .tcp(40000, 443, 1000, 65535)
        .syn()
        .ack(7)
        .write(&mut frame, b"opt")
        .unwrap();
    assert_eq!(frame[14], 0x48, "IHL 8: 12 bytes of options");
    assert_eq!(
        decode(LinkType::Ethernet, &frame).unwrap(),
        v4_tcp_packet(b"opt", 0x12)
    );
}

#[test]
fn ipv4_fragments() {
    // First fragment: MF set, offset 0. It carries the TCP header and a payload prefix.
    let first = eth(
        0x0800,
        &ipv4(6, 0x1234, 0x2000, &[], &tcp(40000, 443, 0x18, b"GET / HT")),
    );
    assert_eq!(
        decode(LinkType::Ethernet, &first).unwrap(),
        Packet {
            fragment: Some(Fragment {
                id: 0x1234,
                offset: 0,
                more: true
            }),
            ..v4_tcp_packet(b"GET / HT", 0x18)
        }
    );
    // A later fragment (offset 185 units = 1480 bytes, last): no ports, no payload.
    let later = eth(0x0800, &ipv4(6, 0x1234, 185, &[], b"TP/1.1\r\n\r\n"));
    let p = decode(LinkType::Ethernet, &later).unwrap();
    assert_eq!(
        p,
        Packet {
            src_port: None,
            dst_port: None,
            tcp_flags: None,
            tcp_seq: None,
            payload: b"",
            fragment: Some(Fragment {
                id: 0x1234,
                offset: 1480,
                more: false
            }),
            ..v4_tcp_packet(b"", 0)
        }
    );
    assert!(!p.fragment.unwrap().is_first());
    // A middle fragment whose bytes happen to look like a TCP header is still not read.
    let middle = eth(0x0800, &ipv4(6, 7, 0x2000 | 1, &[], &tcp(1, 2, 0x02, b"")));
    let p = decode(LinkType::Ethernet, &middle).unwrap();
    assert_eq!((p.src_port, p.payload.len()), (None, 0));
    // A tiny first fragment (8 bytes: half a TCP header): addresses, no ports.
    let tiny = eth(
        0x0800,
        &ipv4(6, 9, 0x2000, &[], &tcp(40000, 443, 0x02, b"")[..8]),
    );
    let p = decode(LinkType::Ethernet, &tiny).unwrap();
    assert_eq!(
        (p.src, p.src_port, p.truncated),
        (ip("192.0.2.1"), None, Some(Layer::Transport))
    );
}

#[test]
fn ipv6_extension_headers_and_fragments() {
    let expected = |ports: Option<(u16, u16)>, payload: &'static [u8], fragment| Packet {
        src: ip("2001:db8::a"),
        dst: ip("2001:db8::b"),
        transport: Transport::Udp,
        src_port: ports.map(|p| p.0),
        dst_port: ports.map(|p| p.1),
        tcp_flags: None,
        tcp_seq: None,
        payload,
        vlans: 0,
        encap: Encap::default(),
        fragment,
        truncated: None,
    };
    // Hop-by-hop, then a first fragment of a UDP datagram whose length covers all fragments.
    let first = eth(
        0x86dd,
        &ipv6(
            0,
            &hop_by_hop(
                44,
                &frag6(17, 0, true, 0xabcd, &udp(5353, 53, 3000, b"part")),
            ),
        ),
    );
    assert_eq!(
        decode(LinkType::Ethernet, &first).unwrap(),
        expected(
            Some((5353, 53)),
            b"part",
            Some(Fragment {
                id: 0xabcd,
                offset: 0,
                more: true
            })
        )
    );
    // The last fragment at offset 1448 bytes.
    let last = eth(
        0x86dd,
        &ipv6(0, &hop_by_hop(44, &frag6(17, 181, false, 0xabcd, b"tail"))),
    );
    assert_eq!(
        decode(LinkType::Ethernet, &last).unwrap(),
        expected(
            None,
            b"",
            Some(Fragment {
                id: 0xabcd,
                offset: 1448,
                more: false
            })
        )
    );
    // Offset 4 units (32 bytes): etherparse 0.19 takes this for an unfragmented packet and
    // would read a UDP header out of the middle of the datagram.
    let sneaky = eth(
        0x86dd,
        &ipv6(44, &frag6(17, 4, true, 1, &udp(1111, 2222, 12, b"evil"))),
    );
    let p = decode(LinkType::Ethernet, &sneaky).unwrap();
    assert_eq!((p.src_port, p.fragment.map(|f| f.offset)), (None, Some(32)));
    // An atomic fragment (offset 0, no more fragments) is a whole datagram.
    let atomic = eth(
        0x86dd,
        &ipv6(44, &frag6(17, 0, false, 2, &udp(5353, 53, 12, b"full"))),
    );
    assert_eq!(
        decode(LinkType::Ethernet, &atomic).unwrap(),
        expected(Some((5353, 53)), b"full", None)
    );
    // Routing and destination options before TCP.
    let routed = ipv6(
        43,
        &[
            &[60, 0, 0, 0, 0, 0, 0, 0][..], // routing: next = destination options
            &[6, 0, 1, 4, 0, 0, 0, 0][..],  // destination options: next = TCP
            &tcp(40000, 443, 0x02, b"x"),
        ]
        .concat(),
    );
    let p = decode(LinkType::Raw, &routed).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.dst_port, p.payload),
        (Transport::Tcp, Some(40000), Some(443), &b"x"[..])
    );
    // An extension header cut off: addresses, nothing else.
    let cut = ipv6(0, &[17, 0, 1]);
    let p = decode(LinkType::Raw, &cut).unwrap();
    assert_eq!(
        (p.src, p.src_port, p.truncated),
        (ip("2001:db8::a"), None, Some(Layer::IpExtension))
    );
}

/// Found by fuzzing: an IPv6 routing header followed by a hop-by-hop header (allowed only
/// first) made `etherparse` 0.19's extension iterator read past the frame.
#[test]
fn fuzz_regression_ipv6_chain_stopped_midway() {
    let frame = [
        0, 19, 196, 199, 132, 240, 0, 18, 63, 174, 34, 247, 134, 221, 96, 0, 0, 0, 0, 32, 43, 4,
        34, 0, 0, 0, 0, 0, 2, 68, 2, 18, 63, 43, 4, 34, 0, 0, 0, 0, 0, 2, 68, 2, 18, 63, 255, 254,
        174, 34, 247, 34, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let p = decode(LinkType::Ethernet, &frame).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.fragment, p.truncated),
        (Transport::Other(0), None, None, Some(Layer::IpExtension))
    );
    // The same chain ending in a fragment header cut short.
    let cut = ipv6(43, &[44, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0]);
    let p = decode(LinkType::Raw, &cut).unwrap();
    assert_eq!((p.fragment, p.truncated), (None, Some(Layer::IpExtension)));
}

#[test]
fn icmp() {
    let mut v4 = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(V4_A, V4_B, 64)
        .icmpv4_echo_request(1, 2)
        .write(&mut v4, b"ping")
        .unwrap();
    let p = decode(LinkType::Ethernet, &v4).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.tcp_flags, p.payload),
        (Transport::Icmpv4, None, None, &b"ping"[..])
    );
    let mut v6 = Vec::new();
    PacketBuilder::ipv6(V6_A, V6_B, 64)
        .icmpv6_echo_request(1, 2)
        .write(&mut v6, b"ping6")
        .unwrap();
    let p = decode(LinkType::Ipv6, &v6).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.payload, p.dst),
        (Transport::Icmpv6, None, &b"ping6"[..], ip("2001:db8::b"))
    );
    assert_eq!(Transport::Icmpv6.name(), Some("ipv6-icmp"));
    assert_eq!(Transport::Other(47).name(), None);
}

#[test]
fn arp_is_not_ip() {
    let mut frame = Vec::new();
    PacketBuilder::ethernet2(MAC_A, [0xff; 6])
        .arp(
            ArpPacket::new(
                ArpHardwareId::ETHERNET,
                EtherType::IPV4,
                ArpOperation::REQUEST,
                &MAC_A,
                &V4_A,
                &[0; 6],
                &V4_B,
            )
            .unwrap(),
        )
        .write(&mut frame)
        .unwrap();
    let err = decode(LinkType::Ethernet, &frame).unwrap_err();
    assert_eq!(err, DecodeError::NotIp { ether_type: 0x0806 });
    assert_eq!(err.reason(), "not IP (ethertype 0x0806)");
    // Cut short, it is still ARP, not a broken IP packet.
    assert_eq!(
        reason(LinkType::Ethernet, &frame[..20]),
        "not IP (ethertype 0x0806)"
    );
}

#[test]
fn truncated_transport_keeps_the_addresses() {
    let full = eth_v4_tcp(b"payload");
    // Cut inside the TCP header: 14 + 20 + 10 bytes.
    let p = decode(LinkType::Ethernet, &full[..44]).unwrap();
    assert_eq!(
        p,
        Packet {
            src_port: None,
            dst_port: None,
            tcp_flags: None,
            tcp_seq: None,
            payload: b"",
            truncated: Some(Layer::Transport),
            ..v4_tcp_packet(b"", 0)
        }
    );
    assert_eq!(Layer::Transport.reason(), "truncated transport header");
    // Cut inside the payload (a short snapshot length): ports and a prefix.
    let p = decode(LinkType::Ethernet, &full[..full.len() - 3]).unwrap();
    assert_eq!(
        p,
        Packet {
            truncated: Some(Layer::Payload),
            ..v4_tcp_packet(b"payl", 0x12)
        }
    );
    // UDP cut inside its header.
    let udp = eth_v6_udp(b"q");
    let p = decode(LinkType::Ethernet, &udp[..14 + 40 + 4]).unwrap();
    assert_eq!(
        (p.transport, p.src_port, p.truncated),
        (Transport::Udp, None, Some(Layer::Transport))
    );
    // A TCP header whose data offset is below 5 words is malformed: same outcome.
    let mut bad = eth_v4_tcp(b"");
    bad[14 + 20 + 12] = 0x40;
    let p = decode(LinkType::Ethernet, &bad).unwrap();
    assert_eq!((p.src_port, p.truncated), (None, Some(Layer::Transport)));
}

#[test]
fn garbage_and_broken_headers() {
    let cases: &[(LinkType, Vec<u8>, &str)] = &[
        (LinkType::Ethernet, vec![], "truncated link header"),
        (LinkType::Ethernet, vec![0xff; 13], "truncated link header"),
        (LinkType::Ethernet, eth(0x0800, &[]), "truncated IP header"),
        (
            LinkType::Ethernet,
            eth(0x0800, &[0x45; 19]),
            "truncated IP header",
        ),
        (
            LinkType::Ethernet,
            eth(0x0800, &[0xff; 40]),
            "bad IP version",
        ),
        (
            LinkType::Ethernet,
            eth(0x0800, &[0x43; 40]),
            "malformed IPv4 header",
        ),
        (
            LinkType::Ethernet,
            eth(0x86dd, &[0x60; 39]),
            "truncated IP header",
        ),
        (
            LinkType::Ethernet,
            eth(0x88cc, &[0; 40]),
            "not IP (ethertype 0x88cc)",
        ),
        (
            LinkType::Ethernet,
            eth(0x1234, &[0; 40]),
            "not IP (other ethertype)",
        ),
        (
            LinkType::Ethernet,
            eth(0x0026, &[0x42; 40]),
            "not IP (802.3 length field)",
        ),
        (LinkType::Raw, vec![], "truncated IP header"),
        (LinkType::Raw, b"POST / HTTP/1.1".to_vec(), "bad IP version"),
        (LinkType::Ipv4, vec![0x4f; 30], "truncated IP header"),
        (LinkType::Null, vec![2, 0, 0], "truncated link header"),
        (LinkType::Loop, vec![0, 0, 0, 2], "truncated IP header"),
        (LinkType::LinuxSll, vec![0; 15], "truncated link header"),
        (LinkType::LinuxSll2, vec![0; 19], "truncated link header"),
        (LinkType::Nflog, vec![2, 0, 0], "truncated link header"),
        (
            LinkType::Other(147),
            vec![0; 64],
            "unsupported link type 147",
        ),
        (
            LinkType::Other(4242),
            vec![0; 64],
            "unsupported link type (other)",
        ),
    ];
    for (link, frame, want) in cases {
        assert_eq!(reason(*link, frame), *want, "{link:?} {frame:02x?}");
    }
    // The Display form always carries the number.
    let e = decode(LinkType::Ethernet, &eth(0x1234, &[0; 40])).unwrap_err();
    assert_eq!(e.to_string(), "not IP (ethertype 0x1234)");
    let e = decode(LinkType::Other(4242), b"").unwrap_err();
    assert_eq!(e.to_string(), "unsupported link type 4242");
}

#[test]
fn pppoe_mpls_and_vntag() {
    let inner = ipv4(6, 1, 0, &[], &tcp(40000, 443, 0x02, b""));
    let want = v4_tcp_packet(b"", 0x02);
    // PPPoE session: version/type 0x11, code 0, session 1, length, PPP protocol 0x0021.
    let mut pppoe = vec![0x11, 0, 0, 1];
    pppoe.extend_from_slice(&((inner.len() + 2) as u16).to_be_bytes());
    pppoe.extend_from_slice(&[0x00, 0x21]);
    pppoe.extend_from_slice(&inner);
    pppoe.extend_from_slice(&[0; 6]); // Ethernet padding
    let context = |encap| Packet { encap, ..want };
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8864, &pppoe)).unwrap(),
        context(Encap {
            pppoe_session: Some(1),
            ..Encap::default()
        })
    );
    let lcp = eth(0x8864, &[0x11, 0, 0, 1, 0, 6, 0xc0, 0x21, 1, 1, 0, 4]);
    assert_eq!(reason(LinkType::Ethernet, &lcp), "not IP (PPP protocol)");
    assert_eq!(
        reason(LinkType::Ethernet, &eth(0x8864, &[0x11, 0])),
        "truncated PPPoE header"
    );
    // Two MPLS labels (17 and 34), the second with the bottom-of-stack bit.
    let mpls = [&[0, 1, 0x10, 64, 0, 2, 0x21, 64][..], &inner].concat();
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8847, &mpls)).unwrap(),
        context(Encap {
            mpls_label: Some(34),
            ..Encap::default()
        })
    );
    // PPPoE in an 802.1Q tag: both make the context.
    let tagged = eth(0x8100, &[&[0, 7, 0x88, 0x64][..], &pppoe].concat());
    assert_eq!(
        decode(LinkType::Ethernet, &tagged).unwrap(),
        Packet {
            vlans: 1,
            ..context(Encap {
                vlan_ids: [7, 0, 0],
                pppoe_session: Some(1),
                mpls_label: None
            })
        }
    );
    assert_eq!(
        reason(LinkType::Ethernet, &eth(0x8847, &[0, 1, 0x10, 64])),
        "truncated MPLS label stack"
    );
    assert_eq!(
        reason(
            LinkType::Ethernet,
            &eth(0x8847, &[0, 1, 0x11, 64, 0, 0, 0, 0])
        ),
        "not IP (MPLS payload)"
    );
    // VN-Tag, then an 802.1Q tag, then IPv4.
    let vntag = [
        &[0x80, 1, 0, 2, 0x81, 0x00][..],
        &[0, 11, 0x08, 0x00],
        &inner,
    ]
    .concat();
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8926, &vntag)).unwrap(),
        Packet {
            vlans: 1,
            ..context(Encap {
                vlan_ids: [11, 0, 0],
                ..Encap::default()
            })
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Link types.

#[test]
fn every_link_type() {
    let v4 = ipv4(6, 1, 0, &[], &tcp(40000, 443, 0x02, b"ok"));
    let v6 = ipv6(17, &udp(5353, 53, 10, b"ok"));
    let want4 = v4_tcp_packet(b"ok", 0x02);
    let check6 = |p: Packet<'_>| {
        assert_eq!(
            (p.src, p.dst, p.src_port, p.dst_port, p.payload),
            (
                ip("2001:db8::a"),
                ip("2001:db8::b"),
                Some(5353),
                Some(53),
                &b"ok"[..]
            )
        )
    };
    let with = |head: &[u8], body: &[u8]| [head, body].concat();

    assert_eq!(decode(LinkType::Raw, &v4).unwrap(), want4);
    check6(decode(LinkType::Raw, &v6).unwrap());
    assert_eq!(decode(LinkType::Ipv4, &v4).unwrap(), want4);
    check6(decode(LinkType::Ipv6, &v6).unwrap());

    // BSD loopback: the family in the writer's byte order, either order accepted.
    assert_eq!(
        decode(LinkType::Null, &with(&[2, 0, 0, 0], &v4)).unwrap(),
        want4
    );
    assert_eq!(
        decode(LinkType::Null, &with(&[0, 0, 0, 2], &v4)).unwrap(),
        want4
    );
    for af6 in [24u32, 28, 30] {
        check6(decode(LinkType::Null, &with(&af6.to_le_bytes(), &v6)).unwrap());
        check6(decode(LinkType::Null, &with(&af6.to_be_bytes(), &v6)).unwrap());
        check6(decode(LinkType::Loop, &with(&af6.to_be_bytes(), &v6)).unwrap());
    }
    assert_eq!(
        decode(LinkType::Loop, &with(&[0, 0, 0, 2], &v4)).unwrap(),
        want4
    );
    let e = decode(LinkType::Null, &with(&[7, 0, 0, 0], &v4)).unwrap_err();
    assert_eq!(
        (e.reason(), e.to_string().as_str()),
        ("not IP (address family)", "not IP (address family 7)")
    );

    // Linux cooked v1: packet type, ARPHRD, address length, address, protocol.
    let sll = |hatype: u16, proto: u16| {
        let mut h = vec![0, 0];
        h.extend_from_slice(&hatype.to_be_bytes());
        h.extend_from_slice(&[0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0]);
        h.extend_from_slice(&proto.to_be_bytes());
        h
    };
    assert_eq!(
        decode(LinkType::LinuxSll, &with(&sll(1, 0x0800), &v4)).unwrap(),
        want4
    );
    // The loopback and tun devices of a Linux "any" capture (etherparse refuses these).
    assert_eq!(
        decode(LinkType::LinuxSll, &with(&sll(772, 0x0800), &v4)).unwrap(),
        want4
    );
    check6(decode(LinkType::LinuxSll, &with(&sll(0xfffe, 0x86dd), &v6)).unwrap());
    assert_eq!(
        reason(LinkType::LinuxSll, &with(&sll(824, 0x0800), &v4)),
        "not IP (Linux cooked protocol)"
    );
    assert_eq!(
        reason(LinkType::LinuxSll, &with(&sll(1, 0x0004), &v4)),
        "not IP (Linux cooked protocol)"
    );
    // A VLAN tag the kernel left in place.
    let tagged = with(&sll(1, 0x8100), &with(&[0, 5, 0x08, 0x00], &v4));
    assert_eq!(
        decode(LinkType::LinuxSll, &tagged).unwrap(),
        Packet {
            vlans: 1,
            encap: Encap {
                vlan_ids: [5, 0, 0],
                ..Encap::default()
            },
            ..want4
        }
    );

    // Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length,
    // address.
    let sll2 = |proto: u16| {
        let mut h = proto.to_be_bytes().to_vec();
        h.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 0x0a, 0, 0]);
        h
    };
    assert_eq!(
        decode(LinkType::LinuxSll2, &with(&sll2(0x0800), &v4)).unwrap(),
        want4
    );
    check6(decode(LinkType::LinuxSll2, &with(&sll2(0x86dd), &v6)).unwrap());
    assert_eq!(
        reason(LinkType::LinuxSll2, &with(&sll2(0x0806), &[0; 28])),
        "not IP (ethertype 0x0806)"
    );

    // NFLOG: family, version, resource id, a prefix TLV, then the payload TLV (type 9).
    let mut nflog = vec![2, 0, 0, 1];
    nflog.extend_from_slice(&[7, 0, 10, 0, b'a', b'b', b'c', 0]); // prefix, padded to 8
    nflog.extend_from_slice(&((v4.len() + 4) as u16).to_le_bytes());
    nflog.extend_from_slice(&9u16.to_le_bytes());
    nflog.extend_from_slice(&v4);
    assert_eq!(decode(LinkType::Nflog, &nflog).unwrap(), want4);
    assert_eq!(
        reason(LinkType::Nflog, &[2, 0, 0, 1, 8, 0, 10, 0, 1, 2, 3, 4]),
        "NFLOG record without payload"
    );

    assert_eq!(
        decode(LinkType::Other(147), &v4).unwrap_err(),
        DecodeError::UnsupportedLink { linktype: 147 }
    );
}

#[test]
fn link_type_numbers() {
    let table = [
        (0, LinkType::Null),
        (1, LinkType::Ethernet),
        (12, LinkType::Raw),
        (14, LinkType::Raw),
        (101, LinkType::Raw),
        (108, LinkType::Loop),
        (113, LinkType::LinuxSll),
        (228, LinkType::Ipv4),
        (229, LinkType::Ipv6),
        (239, LinkType::Nflog),
        (276, LinkType::LinuxSll2),
        (9, LinkType::Ppp),
        (50, LinkType::PppHdlc),
        (51, LinkType::PppEther),
        (204, LinkType::PppWithDir),
        (104, LinkType::CiscoHdlc),
        (205, LinkType::CiscoHdlcWithDir),
        (107, LinkType::FrameRelay),
        (105, LinkType::Ieee80211),
        (127, LinkType::Radiotap),
        (192, LinkType::Ppi),
        (163, LinkType::Avs),
        (119, LinkType::Prism),
        (147, LinkType::Other(147)),
    ];
    for (n, link) in table {
        assert_eq!(LinkType::from_linktype(n), link, "{n}");
        if n != 12 && n != 14 {
            assert_eq!(link.linktype(), n);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture captures (testdata/pcaps, see testdata/README.md).

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pcaps")
        .join(name)
}

fn frames_of(name: &str) -> Vec<Frame<'static>> {
    // Leaked so that frames can outlive the map in these short tests.
    let capture = Box::leak(Box::new(CaptureFile::open(fixture(name)).unwrap()));
    capture.frames().map(|f| f.unwrap()).collect()
}

struct Expect {
    file: &'static str,
    format: &'static str,
    frames: usize,
    link: LinkType,
    first_ts: (i64, u32),
    /// Frame number, then source, destination and ports of its packet.
    packet: (u64, &'static str, &'static str, Option<(u16, u16)>),
}

#[test]
fn fixture_captures() {
    let table = [
        Expect {
            file: "tcpdump/LINKTYPE_IPV4.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::Ipv4,
            first_ts: (1751997572, 592885000),
            packet: (1, "192.168.1.100", "9.9.9.9", Some((12345, 53))),
        },
        Expect {
            file: "tcpdump/LINKTYPE_IPV6.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::Ipv6,
            first_ts: (1751997566, 204450000),
            packet: (1, "2001:db8::1", "2620:fe::9", Some((12345, 53))),
        },
        Expect {
            file: "tcpdump/LINKTYPE_RAW_ipv6.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::Raw,
            first_ts: (1751997557, 215270000),
            packet: (1, "2001:db8::1", "2620:fe::9", Some((12345, 53))),
        },
        Expect {
            file: "tcpdump/isup.pcap",
            format: "pcap-be-us",
            frames: 6,
            link: LinkType::Ethernet,
            first_ts: (1089032999, 862196000),
            // SCTP (M3UA on its registered port 2905; tshark decodes the same ports).
            packet: (1, "10.28.6.42", "10.28.6.44", Some((2905, 2905))),
        },
        Expect {
            file: "tcpdump/tcp-handshake-nano.pcap",
            format: "pcap-le-ns",
            frames: 3,
            link: LinkType::LinuxSll,
            first_ts: (1418145369, 924505488),
            packet: (2, "137.116.81.94", "131.155.215.69", Some((80, 46656))),
        },
        Expect {
            file: "zeek/linux_dlt_sll2.pcap",
            format: "pcap-le-us",
            frames: 6,
            link: LinkType::LinuxSll2,
            first_ts: (1660534249, 872259000),
            packet: (
                3,
                "fe80::8c36:6ff:fe44:acaf",
                "fe80::8c36:6ff:fe44:acaf",
                None,
            ),
        },
        Expect {
            file: "zeek/nflog-http.pcap",
            format: "pcap-le-us",
            frames: 13,
            link: LinkType::Nflog,
            first_ts: (1470574779, 148133000),
            packet: (4, "93.184.216.34", "10.0.2.15", Some((80, 49762))),
        },
        Expect {
            file: "zeek/vntag.pcap",
            format: "pcap-le-ns",
            frames: 3,
            link: LinkType::Ethernet,
            first_ts: (1342606813, 729856830),
            packet: (1, "1.1.1.1", "1.1.2.1", None),
        },
        Expect {
            file: "zeek/ipv6-fragmented-dns.pcap",
            format: "pcap-le-us",
            frames: 8,
            link: LinkType::Ethernet,
            first_ts: (1331084278, 438444000),
            // The first fragment of a DNS answer: ports from the fragment's UDP header.
            packet: (
                6,
                "2607:f740:b::f93",
                "2001:470:1f11:81f:d138:5f55:6d4:1fe2",
                Some((53, 51851)),
            ),
        },
        Expect {
            file: "zeek/pcapng-multi-interface.pcapng",
            format: "pcapng",
            frames: 6,
            link: LinkType::Ethernet,
            // Interface 0 has nanosecond timestamps.
            first_ts: (1767663089, 500330493),
            packet: (3, "10.0.0.4", "1.1.1.1", Some((56351, 53))),
        },
        Expect {
            file: "arkime/dns-udp.pcap",
            format: "pcap-le-us",
            frames: 5,
            link: LinkType::Ethernet,
            first_ts: (1385400647, 217572000),
            packet: (1, "10.180.156.141", "10.2.95.39", Some((62563, 53))),
        },
        Expect {
            file: "arkime/dot1ad.pcap",
            format: "pcap-le-us",
            frames: 2,
            link: LinkType::Ethernet,
            first_ts: (1747224993, 81092000),
            packet: (2, "92.104.109.0", "47.245.159.156", None), // ICMP in two tags
        },
        Expect {
            file: "arkime/tls13.pcap",
            format: "pcap-le-us",
            frames: 6,
            link: LinkType::Ethernet,
            first_ts: (1483560476, 240587000),
            packet: (
                4,
                "2001:16d8:ffce:10:aca8:353c:291d:a9b3",
                "2400:cb00:2048:1::6813:c266",
                Some((62510, 443)),
            ),
        },
        Expect {
            file: "maltrail/dlt_raw.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::Raw, // written as DLT 12
            first_ts: (1700000000, 0),
            packet: (1, "10.0.0.66", "66.66.66.66", Some((50500, 443))),
        },
        Expect {
            file: "maltrail/dlt_sll.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::LinuxSll,
            first_ts: (1700000000, 0),
            packet: (1, "10.0.0.66", "66.66.66.66", Some((50501, 443))),
        },
        Expect {
            file: "maltrail/ipv4_options.pcap",
            format: "pcap-le-us",
            frames: 1,
            link: LinkType::Ethernet,
            first_ts: (1700000000, 0),
            packet: (1, "10.0.0.66", "66.66.66.66", Some((50600, 443))),
        },
        Expect {
            file: "maltrail/fragments.pcap",
            format: "pcap-le-us",
            frames: 3,
            link: LinkType::Ethernet,
            first_ts: (1700000000, 0),
            packet: (1, "10.0.0.66", "66.66.66.66", Some((50070, 443))),
        },
    ];
    for e in table {
        let capture = CaptureFile::open(fixture(e.file)).unwrap();
        let format = match capture.format() {
            Format::Pcap {
                big_endian,
                nanosecond,
                ..
            } => format!(
                "pcap-{}-{}",
                if big_endian { "be" } else { "le" },
                if nanosecond { "ns" } else { "us" }
            ),
            Format::PcapNg => "pcapng".to_string(),
        };
        assert_eq!(format, e.format, "{}", e.file);
        let frames: Vec<_> = capture.frames().collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), e.frames, "{}", e.file);
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.number, i as u64 + 1);
            assert_eq!(f.link, e.link, "{}", e.file);
            assert!(f.ts_nsec < 1_000_000_000);
        }
        assert_eq!(
            (frames[0].ts_sec, frames[0].ts_nsec),
            e.first_ts,
            "{}",
            e.file
        );
        let (n, src, dst, ports) = e.packet;
        let f = &frames[n as usize - 1];
        let p = decode(f.link, f.data).unwrap();
        assert_eq!(
            (p.src, p.dst, p.src_port.zip(p.dst_port)),
            (ip(src), ip(dst), ports),
            "{} frame {n}",
            e.file
        );
    }
}

/// What one frame of a link-layer fixture decodes to: DNS query `k` of tools/craft_links.py
/// over IPv4 or IPv6, in the given VLANs, PPPoE session and MPLS label, or an error.
enum Want {
    V4(u8),
    V6(u8),
    In(u8, bool, &'static [u16], Option<u16>, Option<u32>),
    Err(&'static str),
}

/// The DNS query numbered `k`, as scapy writes it: id k, RD, one question for
/// hostk.links.example, type A (IPv4) or AAAA (IPv6), class IN.
fn links_query(k: u8, v6: bool) -> Vec<u8> {
    let mut q = vec![0, k, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in [format!("host{k}"), "links".into(), "example".into()] {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, if v6 { 28 } else { 1 }, 0, 1]);
    q
}

fn links_packet<'a>(
    k: u8,
    v6: bool,
    vlans: &[u16],
    pppoe_session: Option<u16>,
    mpls_label: Option<u32>,
    payload: &'a [u8],
) -> Packet<'a> {
    let (src, dst) = if v6 {
        (
            ip(&format!("2001:db8:a::{k:x}")),
            ip(&format!("2001:db8:b::{k:x}")),
        )
    } else {
        (ip(&format!("192.0.2.{k}")), ip(&format!("203.0.113.{k}")))
    };
    let mut vlan_ids = [0; 3];
    vlan_ids[..vlans.len()].copy_from_slice(vlans);
    Packet {
        src,
        dst,
        transport: Transport::Udp,
        src_port: Some(20000 + u16::from(k)),
        dst_port: Some(53),
        tcp_flags: None,
        tcp_seq: None,
        payload,
        vlans: vlans.len() as u8,
        encap: Encap {
            vlan_ids,
            pppoe_session,
            mpls_label,
        },
        fragment: None,
        truncated: None,
    }
}

/// The link-layer fixtures (testdata/pcaps/links, written by tools/craft_links.py): every
/// frame's link type and exact decode. Query 35 sits under nine NSH headers and is never read.
fn links_table() -> Vec<(&'static str, LinkType, Vec<Want>)> {
    use Want::*;
    const V: &str = "truncated link header";
    vec![
        (
            "ppp.pcap",
            LinkType::Ppp,
            vec![V4(1), V6(2), V4(3), Err("not IP (PPP protocol)"), Err(V)],
        ),
        (
            "ppp_hdlc.pcap",
            LinkType::PppHdlc,
            vec![V4(4), V6(5), Err(V)],
        ),
        (
            "ppp_ether.pcap",
            LinkType::PppEther,
            vec![
                In(6, false, &[], Some(0x1234), None),
                In(7, true, &[], Some(0x1234), None),
                Err("truncated PPPoE header"),
            ],
        ),
        (
            "ppp_with_dir.pcap",
            LinkType::PppWithDir,
            vec![V4(8), V6(9), Err(V)],
        ),
        (
            "c_hdlc.pcap",
            LinkType::CiscoHdlc,
            vec![V4(10), V6(11), Err("not IP (ethertype 0x8035)"), Err(V)],
        ),
        (
            "c_hdlc_with_dir.pcap",
            LinkType::CiscoHdlcWithDir,
            vec![V4(12), V6(13)],
        ),
        (
            "frelay.pcap",
            LinkType::FrameRelay,
            vec![
                V4(14),
                V6(15),
                V4(16),
                V4(17),
                V6(18),
                Err("not IP (Frame Relay NLPID)"),
                Err("bad Frame Relay address"),
                Err(V),
            ],
        ),
        (
            "ieee802_11.pcap",
            LinkType::Ieee80211,
            vec![
                V4(19),
                V6(20),
                V4(21),
                Err("802.11 non-data frame"),
                Err("802.11 null data frame"),
                Err("802.11 protected frame"),
                Err("not IP (LLC)"),
                Err("truncated 802.11 header"),
            ],
        ),
        (
            "radiotap.pcap",
            LinkType::Radiotap,
            vec![
                V4(22),
                V6(23),
                V4(24),
                Err("802.11 protected frame"),
                Err("802.11 non-data frame"),
                Err(V),
            ],
        ),
        (
            "ppi.pcap",
            LinkType::Ppi,
            vec![V4(25), V6(26), Err("802.11 null data frame"), Err(V)],
        ),
        ("avs.pcap", LinkType::Avs, vec![V4(27), V6(28)]),
        ("prism.pcap", LinkType::Prism, vec![V4(29), V6(30)]),
        (
            "nsh.pcap",
            LinkType::Ethernet,
            vec![
                V4(31),
                V6(32),
                V4(33),
                In(34, true, &[], None, Some(16)),
                Err("too many encapsulation layers"),
                Err("truncated NSH header"),
            ],
        ),
        (
            "pbb.pcap",
            LinkType::Ethernet,
            vec![
                In(36, false, &[100], None, None),
                In(37, true, &[30], None, None),
                In(38, false, &[40], None, None),
                Err("truncated 802.1ah I-TAG"),
            ],
        ),
        (
            "llc_snap.pcap",
            LinkType::Ethernet,
            vec![
                V4(39),
                V6(40),
                Err("not IP (802.3 length field)"),
                Err("truncated LLC/SNAP header"),
            ],
        ),
    ]
}

#[test]
fn link_layer_fixtures_decode_exactly() {
    let mut queries = 0;
    for (file, link, wants) in links_table() {
        let frames = frames_of(&format!("links/{file}"));
        assert_eq!(frames.len(), wants.len(), "{file}");
        for (f, want) in frames.iter().zip(wants) {
            assert_eq!(f.link, link, "{file}");
            let got = decode(f.link, f.data);
            let at = format!("{file} frame {}", f.number);
            let (k, v6, vlans, session, label) = match want {
                Want::Err(reason) => {
                    assert_eq!(got.map(|_| ()).map_err(|e| e.reason()), Err(reason), "{at}");
                    continue;
                }
                Want::V4(k) => (k, false, &[][..], None, None),
                Want::V6(k) => (k, true, &[][..], None, None),
                Want::In(k, v6, vlans, session, label) => (k, v6, vlans, session, label),
            };
            let query = links_query(k, v6);
            assert_eq!(
                got.unwrap(),
                links_packet(k, v6, vlans, session, label, &query),
                "{at}"
            );
            queries += 1;
        }
    }
    assert_eq!(queries, 39);
}

/// Every prefix of every link-layer fixture frame decodes or fails without panicking, and
/// what decodes keeps its slices inside the prefix.
#[test]
fn link_layer_fixture_prefixes_never_panic() {
    for (file, link, _) in links_table() {
        for f in frames_of(&format!("links/{file}")) {
            for cut in 0..=f.data.len() {
                let prefix = &f.data[..cut];
                match decode(link, prefix) {
                    Ok(p) => check_invariants(&p, prefix),
                    Err(e) => assert!(!e.reason().is_empty() && !e.to_string().is_empty()),
                }
            }
        }
    }
}

#[test]
fn fixture_fragments_and_truncation() {
    // maltrail's fragments.pcap: a first fragment with the SYN, then two later fragments.
    let frames = frames_of("maltrail/fragments.pcap");
    let p: Vec<_> = frames
        .iter()
        .map(|f| decode(f.link, f.data).unwrap())
        .collect();
    assert_eq!(
        p.iter()
            .map(|p| p.fragment.map(|f| (f.offset, f.more)))
            .collect::<Vec<_>>(),
        [Some((0, true)), Some((8, false)), Some((1480, false))]
    );
    assert_eq!(p[0].tcp_flags, Some(0x02));
    assert!(
        p[1..]
            .iter()
            .all(|p| p.src_port.is_none() && p.payload.is_empty())
    );

    // maltrail's truncated.pcap: ten hostile frames, none of which may yield ports.
    let reasons: Vec<_> = frames_of("maltrail/truncated.pcap")
        .iter()
        .map(|f| match decode(f.link, f.data) {
            Ok(p) => {
                assert_eq!(p.src_port, None);
                p.truncated.unwrap().reason()
            }
            Err(e) => e.reason(),
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "truncated IP header",
            "truncated IP header",
            "truncated IP header",
            "truncated IP header",
            "truncated IP header",
            "bad IP version",
            "bad IP version",
            "bad IP version",
            "truncated transport header",
            "truncated transport header",
        ]
    );

    // Zeek's IPv6 DNS answers in fragments (RFC 8200 bit layout, see ipv6_fragment).
    let frames = frames_of("zeek/ipv6-fragmented-dns.pcap");
    let frags: Vec<_> = frames
        .iter()
        .filter_map(|f| decode(f.link, f.data).unwrap().fragment)
        .map(|f| (f.id, f.offset, f.more))
        .collect();
    assert_eq!(
        frags,
        [
            (1, 2896, false),
            (2, 0, true),
            (2, 1432, true),
            (2, 2864, false)
        ]
    );
}

/// tcpdump's own decoding of the same files: timestamps (UTC), addresses and ports.
#[test]
fn fixtures_agree_with_tcpdump() {
    let line = regex::Regex::new(r"^\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) ").unwrap();
    for (pcap, out) in [
        ("tcpdump/802.1ad_QinQ.pcap", "tcpdump/802.1ad_QinQ.out"),
        ("tcpdump/dns_udp.pcap", "tcpdump/dns_udp-v.out"),
        (
            "tcpdump/ipv6-routing-header.pcap",
            "tcpdump/ipv6-routing-header.out",
        ),
    ] {
        let text = std::fs::read_to_string(fixture(out)).unwrap();
        // One entry per frame: its first line and any indented continuation lines.
        let mut entries: Vec<(u64, String, String)> = Vec::new();
        for l in text.lines() {
            if let Some(c) = line.captures(l) {
                entries.push((c[1].parse().unwrap(), c[2].to_string(), l.to_string()));
            } else if let Some(last) = entries.last_mut() {
                last.2.push_str(l);
            }
        }
        let frames = frames_of(pcap);
        assert_eq!(frames.len(), entries.len(), "{pcap}");
        for (f, (n, ts, text)) in frames.iter().zip(&entries) {
            assert_eq!(f.number, *n);
            let dt = chrono::DateTime::from_timestamp(f.ts_sec, f.ts_nsec).unwrap();
            assert_eq!(
                dt.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                *ts,
                "{pcap} #{n}"
            );
            match decode(f.link, f.data) {
                Ok(p) => {
                    for a in [p.src, p.dst] {
                        assert!(text.contains(&a.to_string()), "{pcap} #{n}: {a} in {text}");
                    }
                    if let (Some(s), Some(d)) = (p.src_port, p.dst_port) {
                        let dotted = format!("{}.{s} > {}.{d}", p.src, p.dst);
                        let bare = format!("{s} > {d}");
                        assert!(
                            text.contains(&dotted) || text.contains(&bare),
                            "{pcap} #{n}: ports {s} {d} in {text}"
                        );
                    }
                }
                Err(e) => {
                    assert_eq!(e.reason(), "not IP (ethertype 0x0806)");
                    assert!(text.contains("ethertype ARP (0x0806)"));
                }
            }
        }
    }
}

#[test]
fn empty_pcapng_has_no_frames() {
    let capture = CaptureFile::open(fixture("tcpdump/empty.pcapng")).unwrap();
    assert_eq!(capture.format(), Format::PcapNg);
    assert_eq!(capture.frames().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Capture files built here: pcapng byte orders, interfaces, block kinds; damage.

/// A pcapng writer: enough to lay out every case the reader must handle.
struct Ng {
    be: bool,
    out: Vec<u8>,
}

impl Ng {
    fn new(be: bool) -> Ng {
        let mut ng = Ng {
            be,
            out: Vec::new(),
        };
        ng.shb();
        ng
    }
    fn u16(&self, v: u16) -> [u8; 2] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u32(&self, v: u32) -> [u8; 4] {
        if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn block(&mut self, ty: u32, body: &[u8]) {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = 12 + body.len() as u32;
        let (t, l) = (self.u32(ty), self.u32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        self.out.extend_from_slice(&l);
    }
    fn shb(&mut self) {
        let mut body = self.u32(0x1A2B_3C4D).to_vec();
        body.extend_from_slice(&self.u16(1));
        body.extend_from_slice(&self.u16(0));
        body.extend_from_slice(&[0xff; 8]); // section length unknown
        self.block(0x0A0D_0D0A, &body);
    }
    /// An interface with optional `if_tsresol` and `if_tsoffset`.
    fn idb(&mut self, link: u16, tsresol: Option<u8>, tsoffset: Option<i64>) {
        let mut body = self.u16(link).to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&self.u32(65535));
        if let Some(r) = tsresol {
            body.extend_from_slice(&self.u16(9));
            body.extend_from_slice(&self.u16(1));
            body.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            body.extend_from_slice(&self.u16(14));
            body.extend_from_slice(&self.u16(8));
            body.extend_from_slice(&if self.be {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            });
        }
        body.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        self.block(1, &body);
    }
    fn epb(&mut self, interface: u32, ts: u64, data: &[u8], orig_len: u32) {
        let mut body = self.u32(interface).to_vec();
        body.extend_from_slice(&self.u32((ts >> 32) as u32));
        body.extend_from_slice(&self.u32(ts as u32));
        body.extend_from_slice(&self.u32(data.len() as u32));
        body.extend_from_slice(&self.u32(orig_len));
        body.extend_from_slice(data);
        self.block(6, &body);
    }
    fn spb(&mut self, data: &[u8]) {
        let mut body = self.u32(data.len() as u32).to_vec();
        body.extend_from_slice(data);
        self.block(3, &body);
    }
}

/// A little-endian microsecond pcap.
fn pcap(link: u32, frames: &[(u32, u32, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, link] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    for (sec, usec, data) in frames {
        for x in [*sec, *usec, data.len() as u32, data.len() as u32] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.extend_from_slice(data);
    }
    v
}

#[test]
fn pcapng_sections_interfaces_and_blocks() {
    let tcp4 = eth_v4_tcp(b"a");
    let raw6 = ipv6(17, &udp(1, 2, 9, b"b"));
    for be in [false, true] {
        let mut ng = Ng::new(be);
        ng.idb(1, None, None); // microseconds
        ng.idb(101, Some(3), Some(-10)); // milliseconds, 10 s before
        ng.idb(113, Some(0x80 | 20), Some(1_000_000)); // 2^-20 s, 1e6 s after
        ng.block(4, &[0, 0, 0, 0]); // a name resolution block: skipped
        ng.epb(0, 1_700_000_000_123_456, &tcp4, tcp4.len() as u32);
        ng.epb(1, 1_700_000_000_123, &raw6, 1500);
        ng.epb(2, (5 << 20) | (1 << 19), &tcp4, tcp4.len() as u32);
        ng.block(0x0BAD, &[1, 2, 3, 4, 5]); // custom block: skipped
        ng.spb(&tcp4);
        let capture = CaptureFile::from_bytes(ng.out).unwrap();
        let frames: Vec<_> = capture.frames().collect::<Result<_, _>>().unwrap();
        let got: Vec<_> = frames
            .iter()
            .map(|f| {
                (
                    f.number,
                    f.ts_sec,
                    f.ts_nsec,
                    f.link,
                    f.data.len(),
                    f.orig_len,
                )
            })
            .collect();
        let n4 = tcp4.len();
        assert_eq!(
            got,
            [
                (
                    1,
                    1_700_000_000,
                    123_456_000,
                    LinkType::Ethernet,
                    n4,
                    n4 as u32
                ),
                (
                    2,
                    1_699_999_990,
                    123_000_000,
                    LinkType::Raw,
                    raw6.len(),
                    1500
                ),
                (3, 1_000_005, 500_000_000, LinkType::LinuxSll, n4, n4 as u32),
                // A simple packet block: interface 0, no timestamp.
                (4, 0, 0, LinkType::Ethernet, n4, n4 as u32),
            ],
            "big-endian: {be}"
        );
        assert_eq!(
            decode(frames[1].link, frames[1].data).unwrap().dst_port,
            Some(2)
        );
    }

    // Sections of both byte orders in one file; each section has its own interfaces.
    let mut le = Ng::new(false);
    le.idb(1, None, None);
    le.epb(0, 1, &tcp4, 60);
    let mut be = Ng::new(true);
    be.idb(101, None, None);
    be.epb(0, 2_000_000, &raw6, 60);
    let both = [le.out, be.out].concat();
    let frames: Vec<_> = CaptureFile::from_bytes(both)
        .unwrap()
        .frames()
        .map(|f| f.map(|f| (f.number, f.link, f.ts_sec)))
        .collect();
    assert_eq!(
        frames,
        [Ok((1, LinkType::Ethernet, 0)), Ok((2, LinkType::Raw, 2))]
    );
}

#[test]
fn damaged_pcapng_stops_with_one_error() {
    let tcp4 = eth_v4_tcp(b"a");
    let errors = |bytes: Vec<u8>| -> (usize, Vec<String>) {
        let capture = CaptureFile::from_bytes(bytes).unwrap();
        let all: Vec<_> = capture.frames().collect();
        let ok = all.iter().take_while(|f| f.is_ok()).count();
        let errs = all[ok..]
            .iter()
            .map(|e| e.as_ref().unwrap_err().to_string())
            .collect();
        (ok, errs)
    };
    // A packet that names an interface the section never described.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    ng.epb(0, 0, &tcp4, 60);
    let at = ng.out.len();
    ng.epb(3, 0, &tcp4, 60);
    ng.epb(0, 0, &tcp4, 60);
    assert_eq!(
        errors(ng.out),
        (
            1,
            vec![format!(
                "frame 2 at byte offset {at}: packet names an undefined interface (3; the section defines 1)"
            )]
        )
    );
    // A block length that runs past the end of the file.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    let at = ng.out.len();
    ng.epb(0, 0, &tcp4, 60);
    ng.out[at + 4] = 0xf0;
    let (ok, errs) = errors(ng.out);
    assert_eq!(ok, 0);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with(&format!("frame 1 at byte offset {at}: bad block length")));
    // A trailer that does not repeat the length.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    ng.epb(0, 0, &tcp4, 60);
    let last = ng.out.len() - 1;
    ng.out[last] = 9;
    assert!(errors(ng.out).1[0].contains("trailer"));
    // A captured length larger than its block.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    let at = ng.out.len();
    ng.epb(0, 0, &tcp4, 60);
    ng.out[at + 20] = 0xff;
    assert!(errors(ng.out).1[0].ends_with("packet data runs past its block"));
    // An invalid timestamp resolution (10^-20 s does not fit 64 bits).
    let mut ng = Ng::new(false);
    ng.idb(1, Some(20), None);
    assert!(errors(ng.out).1[0].contains("bad interface timestamp resolution"));

    // Cut at every length: the frames before the cut, then at most one error, never a panic.
    let mut ng = Ng::new(false);
    ng.idb(1, Some(9), None);
    for i in 0..4 {
        ng.epb(0, i, &tcp4, 60);
    }
    let full = ng.out;
    for cut in 12..full.len() {
        let Ok(capture) = CaptureFile::from_bytes(&full[..cut]) else {
            continue;
        };
        let all: Vec<_> = capture.frames().collect();
        let ok = all.iter().take_while(|f| f.is_ok()).count();
        assert!(all.len() - ok <= 1, "cut {cut}");
        if let Some(Err(e)) = all.last() {
            assert_eq!(e.frame, ok as u64 + 1, "cut {cut}");
            assert!(e.offset < cut as u64);
        }
    }
}

#[test]
fn damaged_pcap_yields_the_frames_before_the_damage() {
    let bytes = std::fs::read(fixture("arkime/dns-udp.pcap")).unwrap();
    let full: Vec<(u64, Vec<u8>)> = CaptureFile::from_bytes(&bytes[..])
        .unwrap()
        .frames()
        .map(|f| f.map(|f| (f.number, f.data.to_vec())).unwrap())
        .collect();
    assert_eq!(full.len(), 5);
    // Record offsets: 24, then 16 + caplen each.
    let mut offsets = vec![24usize];
    for (_, d) in &full {
        offsets.push(offsets.last().unwrap() + 16 + d.len());
    }
    assert_eq!(*offsets.last().unwrap(), bytes.len());
    for cut in 24..bytes.len() {
        let capture = CaptureFile::from_bytes(&bytes[..cut]).unwrap();
        let all: Vec<Result<_, FrameError>> = capture.frames().collect();
        // Every record that ends at or before the cut comes out whole.
        let whole = offsets.iter().skip(1).filter(|&&end| end <= cut).count();
        for (i, f) in all[..whole].iter().enumerate() {
            let f = f.as_ref().unwrap();
            assert_eq!((f.number, f.data), (full[i].0, &full[i].1[..]));
        }
        if offsets.contains(&cut) {
            assert_eq!(all.len(), whole, "cut {cut} on a record boundary");
        } else {
            assert_eq!(all.len(), whole + 1, "cut {cut}");
            let e = all[whole].as_ref().unwrap_err();
            assert_eq!(
                (e.frame, e.offset),
                (whole as u64 + 1, offsets[whole] as u64)
            );
            let in_header = cut - offsets[whole] < 16;
            assert_eq!(
                e.reason(),
                if in_header {
                    "truncated record header"
                } else {
                    "record data runs past the end of the file"
                }
            );
        }
    }
    // The message names the frame and the offset.
    let e = CaptureFile::from_bytes(&bytes[..offsets[3] + 20])
        .unwrap()
        .frames()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(
        e.to_string(),
        format!(
            "frame 4 at byte offset {}: record data runs past the end of the file (captured length {})",
            offsets[3],
            full[3].1.len()
        )
    );
    // A record length no real capture has.
    let mut huge = pcap(1, &[(1, 0, &eth_v4_tcp(b""))]);
    huge[24 + 8..24 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let e = CaptureFile::from_bytes(huge)
        .unwrap()
        .frames()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.reason(), "implausible record length");
}

#[test]
fn pcap_timestamps_and_resuming() {
    let f = eth_v4_tcp(b"");
    // A fraction of a second at or over one second is carried, not trusted.
    let bytes = pcap(1, &[(10, 999_999, &f), (10, 1_500_000, &f), (11, 0, &f)]);
    let capture = CaptureFile::from_bytes(bytes).unwrap();
    let ts: Vec<_> = capture
        .frames()
        .map(|f| f.map(|f| (f.ts_sec, f.ts_nsec)).unwrap())
        .collect();
    assert_eq!(ts, [(10, 999_999_000), (11, 500_000_000), (11, 0)]);
    // A clone of the iterator resumes where it was.
    let mut frames = capture.frames();
    frames.next();
    let (offset, next) = (frames.offset(), frames.next_number());
    let resumed: Vec<_> = frames.clone().map(|f| f.unwrap().number).collect();
    assert_eq!(
        (offset, next, resumed),
        (24 + 16 + f.len() as u64, 2, vec![2, 3])
    );
}

#[test]
fn not_a_capture() {
    let message = |bytes: &[u8]| CaptureFile::from_bytes(bytes).unwrap_err().to_string();
    assert_eq!(message(b""), "not a pcap or pcapng capture: only 0 bytes");
    assert_eq!(
        message(b"GET / HTTP/1.1\r\n"),
        "not a pcap or pcapng capture (starts with 47 45 54 20)"
    );
    assert!(message(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]).starts_with("gzip-compressed"));
    assert!(message(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).contains("cut short"));
    assert!(message(&[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4]).contains("byte-order"));
    // From a file, the message names the path.
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    let e = CaptureFile::open(&text).unwrap_err().to_string();
    assert!(
        e.starts_with(&text.display().to_string()) && e.contains("not a pcap"),
        "{e}"
    );
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, "").unwrap();
    assert!(
        CaptureFile::open(&empty)
            .unwrap_err()
            .to_string()
            .contains("empty file")
    );
    let missing = CaptureFile::open(dir.path().join("missing.pcap")).unwrap_err();
    assert!(missing.is_io());
}

// ---------------------------------------------------------------------------------------------
// Properties.

fn links() -> impl Strategy<Value = LinkType> {
    prop_oneof![
        Just(LinkType::Ethernet),
        Just(LinkType::Raw),
        Just(LinkType::Ipv4),
        Just(LinkType::Ipv6),
        Just(LinkType::Null),
        Just(LinkType::Loop),
        Just(LinkType::LinuxSll),
        Just(LinkType::LinuxSll2),
        Just(LinkType::Nflog),
        Just(LinkType::Ppp),
        Just(LinkType::PppHdlc),
        Just(LinkType::PppEther),
        Just(LinkType::PppWithDir),
        Just(LinkType::CiscoHdlc),
        Just(LinkType::CiscoHdlcWithDir),
        Just(LinkType::FrameRelay),
        Just(LinkType::Ieee80211),
        Just(LinkType::Radiotap),
        Just(LinkType::Ppi),
        Just(LinkType::Avs),
        Just(LinkType::Prism),
        any::<u32>().prop_map(LinkType::Other),
    ]
}

/// A valid frame: link header, 0–3 VLAN tags (Ethernet), IPv4 or IPv6, TCP or UDP.
fn valid_frames() -> impl Strategy<Value = Vec<u8>> {
    (
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(vlans, v6, is_tcp, payload, sport, dport)| {
            let l4 = if is_tcp {
                tcp(sport, dport, 0x18, &payload)
            } else {
                udp(sport, dport, 8 + payload.len() as u16, &payload)
            };
            let proto = if is_tcp { 6 } else { 17 };
            let (ether_type, l3) = if v6 {
                (0x86ddu16, ipv6(proto, &l4))
            } else {
                (0x0800, ipv4(proto, 1, 0, &[], &l4))
            };
            let mut tags = Vec::new();
            for i in 0..vlans {
                tags.extend_from_slice(&u16::from(i + 1).to_be_bytes());
                let next = if i + 1 < vlans { 0x8100 } else { ether_type };
                tags.extend_from_slice(&u16::to_be_bytes(next));
            }
            eth(
                if vlans > 0 { 0x8100 } else { ether_type },
                &[tags, l3].concat(),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(link in links(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(p) = decode(link, &bytes) {
            check_invariants(&p, &bytes);
        }
    }

    /// Every prefix of a valid frame decodes without panicking; whatever decodes has the full
    /// frame's addresses, and ports only once the whole transport header is there.
    #[test]
    fn every_truncation_is_safe(frame in valid_frames()) {
        let full = decode(LinkType::Ethernet, &frame).unwrap();
        prop_assert!(full.src_port.is_some() && full.truncated.is_none());
        let l4_end = frame.len() - full.payload.len();
        for cut in 0..=frame.len() {
            match decode(LinkType::Ethernet, &frame[..cut]) {
                Ok(p) => {
                    check_invariants(&p, &frame[..cut]);
                    prop_assert_eq!((p.src, p.dst), (full.src, full.dst));
                    if p.src_port.is_some() {
                        prop_assert!(cut >= l4_end, "ports from a cut header at {}", cut);
                        prop_assert_eq!((p.src_port, p.dst_port), (full.src_port, full.dst_port));
                        prop_assert_eq!(p.payload, &full.payload[..cut - l4_end]);
                    } else {
                        prop_assert!(cut < l4_end);
                    }
                    prop_assert_eq!(p.truncated.is_some(), cut < frame.len());
                }
                Err(e) => {
                    let r = e.reason();
                    prop_assert!(r.starts_with("truncated"), "{} at {}", r, cut);
                }
            }
        }
    }

    /// Capture parsing of arbitrary bytes behind a real header: never panics, always ends, at
    /// most one error and only at the end.
    #[test]
    fn arbitrary_captures_end(
        head in prop_oneof![
            Just(pcap(1, &[])),
            Just(Ng::new(false).out),
            Just(Ng::new(true).out),
        ],
        idb in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = head;
        if idb && bytes[0] == 0x0a {
            let mut ng = Ng { be: bytes[8] == 0x1a, out: bytes };
            ng.idb(1, None, None);
            bytes = ng.out;
        }
        bytes.extend_from_slice(&tail);
        let capture = CaptureFile::from_bytes(bytes).unwrap();
        let all: Vec<_> = capture.frames().take(1000).collect();
        prop_assert!(all.len() < 1000);
        let ok = all.iter().take_while(|f| f.is_ok()).count();
        prop_assert!(all.len() - ok <= 1);
        for f in all.iter().flatten() {
            let _ = decode(f.link, f.data);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The shared corpus and a throughput figure.

fn shared_pcaps() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pcaps");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "skipped: {} not present (real captures live outside the repository)",
            p.display()
        );
        None
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[derive(Default)]
struct Tally {
    files: usize,
    frames: u64,
    bytes: u64,
    packets: u64,
    truncated: BTreeMap<&'static str, u64>,
    /// Per reason: how many, and the first file and frame number seen.
    errors: BTreeMap<&'static str, (u64, String)>,
    file_errors: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn frame(&mut self, file: &Path, frame: &Frame<'_>) {
        self.frames += 1;
        self.bytes += frame.data.len() as u64;
        match decode(frame.link, frame.data) {
            Ok(p) => {
                self.packets += 1;
                if let Some(l) = p.truncated {
                    *self.truncated.entry(l.reason()).or_default() += 1;
                }
                check_invariants(&p, frame.data);
            }
            Err(e) => {
                let entry = self.errors.entry(e.reason()).or_insert_with(|| {
                    let name = file.file_name().unwrap().to_string_lossy();
                    (0, format!("{name}#{}", frame.number))
                });
                entry.0 += 1;
            }
        }
    }
}

/// What must hold for every decoded packet, whatever the input.
fn check_invariants(p: &Packet<'_>, frame: &[u8]) {
    assert_eq!(p.src_port.is_some(), p.dst_port.is_some());
    if p.src_port.is_some() {
        assert!(matches!(
            p.transport,
            trawl::testing::decode::Transport::Tcp
                | trawl::testing::decode::Transport::Udp
                | trawl::testing::decode::Transport::Other(132)
        ));
    }
    assert_eq!(
        p.tcp_flags.is_some(),
        p.transport == trawl::testing::decode::Transport::Tcp && p.src_port.is_some()
    );
    if let Some(f) = p.fragment {
        if !f.is_first() {
            assert!(p.src_port.is_none() && p.payload.is_empty());
        }
    }
    // The payload is a view into the frame.
    if !p.payload.is_empty() {
        let start = p.payload.as_ptr() as usize - frame.as_ptr() as usize;
        assert!(start + p.payload.len() <= frame.len());
    }
    assert!(matches!(p.src, IpAddr::V4(_)) == matches!(p.dst, IpAddr::V4(_)));
}

#[test]
fn shared_corpus_never_panics() {
    let Some(dir) = shared_pcaps() else { return };
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    let mut t = Tally::default();
    for path in files {
        let capture = match CaptureFile::open(&path) {
            Ok(c) => c,
            Err(_) => continue, // .out, .json, README: not captures
        };
        t.files += 1;
        for frame in capture.frames() {
            match frame {
                Ok(frame) => t.frame(&path, &frame),
                Err(e) => {
                    println!("{}: {e}", path.display());
                    *t.file_errors.entry(e.reason()).or_default() += 1;
                }
            }
        }
    }
    println!(
        "{} captures, {} frames ({} bytes), {} decoded packets",
        t.files, t.frames, t.bytes, t.packets
    );
    println!("truncated packets by layer: {:#?}", t.truncated);
    println!("frames without IP by reason (count, first seen):");
    for (reason, (n, first)) in &t.errors {
        println!("  {reason}: {n} ({first})");
    }
    println!("damaged files by reason: {:#?}", t.file_errors);
    assert!(t.files >= 100, "{} captures", t.files);
    assert!(t.packets >= 140_000, "{} packets", t.packets);
    assert!(
        t.packets * 100 >= t.frames * 97,
        "{} of {}",
        t.packets,
        t.frames
    );
}

/// Frames per second and MB/s of `CaptureFile` iteration, alone and with `decode`, over the
/// largest capture in the shared corpus (6.8 MB, 82 582 frames), in memory after a first pass.
/// Run once in release mode:
/// `cargo test --release --test packet -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    let Some(dir) = shared_pcaps() else { return };
    let path = dir.join("zeek/echo-connections.pcap");
    let capture = CaptureFile::open(&path).unwrap();
    let file_mb = capture.bytes().len() as f64 / 1e6;
    let rounds = 50;
    let _ = capture.frames().count(); // fault the pages in
    let run = |with_decode: bool| {
        let start = std::time::Instant::now();
        let (mut frames, mut bytes, mut decoded, mut sum) = (0u64, 0u64, 0u64, 0u64);
        for _ in 0..rounds {
            for f in capture.frames() {
                let f = f.unwrap();
                frames += 1;
                bytes += f.data.len() as u64;
                if with_decode {
                    if let Ok(p) = decode(f.link, f.data) {
                        decoded += 1;
                        sum += u64::from(p.dst_port.unwrap_or(0)) + p.payload.len() as u64;
                    }
                } else {
                    sum += u64::from(f.data[0]);
                }
            }
        }
        std::hint::black_box(sum);
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{}: {} frames ({} decoded) in {secs:.3} s: {:.1} M frames/s, {:.0} MB/s of frames, \
             {:.0} MB/s of file",
            if with_decode {
                "iterate + decode"
            } else {
                "iterate only"
            },
            frames / rounds,
            decoded / rounds,
            frames as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6,
            file_mb * rounds as f64 / secs,
        );
    };
    run(false);
    run(true);
}
