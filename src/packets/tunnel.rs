//! IP tunnels: the packet that an outer packet carries as its payload.
//!
//! [`inner`] looks at one decoded [`Packet`] and, when it is a tunnel packet, says which tunnel
//! and where the carried frame starts; [`Inner::decode`] decodes that frame like any other.
//! The worker applies it again to the inner packet (a VLAN inside VXLAN inside IPv6), up to
//! [`MAX_DEPTH`] layers, and matches every layer: the outer endpoints are addresses on the
//! wire too.
//!
//! | tunnel | recognised by | carries |
//! |---|---|---|
//! | IP-in-IP, 4in6 | IP protocol 4 | IPv4 |
//! | 6in4, 6in6 | IP protocol 41 | IPv6 |
//! | GRE (RFC 2784, 2890; RFC 1701 routing) | IP protocol 47, version 0 | what its protocol field names: IPv4, IPv6, Ethernet (0x6558, NVGRE), MPLS, NSH, PPP |
//! | ERSPAN type I, II, III | GRE protocol 0x88BE, 0x22EB | Ethernet (type III: or IP) |
//! | PPTP enhanced GRE (RFC 2637) | IP protocol 47, version 1 | PPP |
//! | GRE-in-UDP (RFC 8086), MPLS-in-UDP (RFC 7510) | UDP port 4754, 6635 | GRE, MPLS |
//! | VXLAN (RFC 7348) | UDP port 4789 | Ethernet |
//! | VXLAN-GPE | UDP port 4790 | IPv4, IPv6, Ethernet, NSH, MPLS |
//! | Geneve (RFC 8926) | UDP port 6081 | what its protocol field names |
//! | GTP-U (3GPP TS 29.281) | UDP port 2152, G-PDU messages | IPv4, IPv6 |
//! | Teredo (RFC 4380) | UDP port 3544, a valid IPv6 header | IPv6 |
//! | AYIYA | UDP port 5072, forward messages | IPv4, IPv6 |
//!
//! Written here: `etherparse` stops at the outer payload of all of these, and the headers are
//! a few fixed fields each. Like `decode`, nothing here allocates or panics; a header that is
//! cut short or malformed is a [`TunnelError`] with a stable name to count by.

use std::fmt;

use super::decode::{
    self, DecodeError, ETHERTYPE_MPLS, ETHERTYPE_NSH, ETHERTYPE_TEB, LinkType, Packet, Transport,
    be16,
};

/// How many tunnel layers the worker opens below the outermost packet. Real traffic nests two
/// or three (ERSPAN carrying VXLAN carrying a VLAN); the bound keeps a crafted packet that
/// nests GRE in GRE from costing more than a few decodes.
pub const MAX_DEPTH: u8 = 8;

/// A kind of tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tunnel {
    /// IPv4 carried in IP (protocol 4): IP-in-IP, 4in6.
    Ipv4InIp,
    /// IPv6 carried in IP (protocol 41): 6in4, 6in6.
    Ipv6InIp,
    /// Generic Routing Encapsulation (version 0), over IP or UDP.
    Gre,
    /// ERSPAN (types I, II and III), a mirrored frame in GRE.
    Erspan,
    /// PPTP's enhanced GRE (version 1), carrying PPP.
    Pptp,
    /// MPLS in UDP.
    MplsInUdp,
    /// VXLAN.
    Vxlan,
    /// VXLAN with the generic protocol extension.
    VxlanGpe,
    /// Geneve.
    Geneve,
    /// GTP-U, user-plane tunnels of mobile cores.
    GtpU,
    /// Teredo, IPv6 over UDP over IPv4.
    Teredo,
    /// AYIYA (Anything In Anything).
    Ayiya,
}

impl Tunnel {
    /// The tunnel's short lower-case name, as hits and counters name it.
    pub fn name(self) -> &'static str {
        match self {
            Tunnel::Ipv4InIp => "ipip",
            Tunnel::Ipv6InIp => "ipv6-in-ip",
            Tunnel::Gre => "gre",
            Tunnel::Erspan => "erspan",
            Tunnel::Pptp => "pptp",
            Tunnel::MplsInUdp => "mpls-in-udp",
            Tunnel::Vxlan => "vxlan",
            Tunnel::VxlanGpe => "vxlan-gpe",
            Tunnel::Geneve => "geneve",
            Tunnel::GtpU => "gtp-u",
            Tunnel::Teredo => "teredo",
            Tunnel::Ayiya => "ayiya",
        }
    }
}

/// Where the carried frame starts and how to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// A frame of a link type (Ethernet, raw IP, PPP).
    Link(LinkType),
    /// Bytes that an ethertype names (GRE's and Geneve's protocol field).
    EtherType(u16),
}

/// The packet a tunnel packet carries, not yet decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inner<'a> {
    /// The tunnel.
    pub tunnel: Tunnel,
    /// The tunnel's own identifier when it has one: the VXLAN, VXLAN-GPE or Geneve VNI, the
    /// GRE key, the GTP-U TEID, the ERSPAN session or the PPTP call id. Two tunnels between
    /// the same endpoints with different identifiers carry different networks.
    pub id: Option<u32>,
    start: Start,
    bytes: &'a [u8],
}

impl<'a> Inner<'a> {
    /// Decodes the carried frame.
    pub fn decode(&self) -> Result<Packet<'a>, DecodeError> {
        match self.start {
            Start::Link(link) => decode::decode(link, self.bytes),
            Start::EtherType(t) => decode::decode_ether_type(t, self.bytes),
        }
    }

    /// The carried frame's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Why a tunnel packet yields no inner frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelError {
    /// The payload is shorter than the tunnel's header says.
    Truncated(Tunnel),
    /// A GRE header with a version other than 0 and 1, or a PPTP header without its key.
    BadGreVersion,
    /// A GRE or Geneve protocol field, a VXLAN-GPE next protocol or an ERSPAN frame type that
    /// names nothing trawl decodes.
    UnknownPayload(Tunnel),
    /// A tunnel packet that carries nothing (a GRE keepalive's reply, an empty payload).
    Empty(Tunnel),
}

impl TunnelError {
    /// A stable short name to count by, e.g. "truncated vxlan header".
    pub fn reason(self) -> &'static str {
        match self {
            TunnelError::Truncated(t) => match t {
                Tunnel::Gre => "truncated gre header",
                Tunnel::Erspan => "truncated erspan header",
                Tunnel::Pptp => "truncated pptp header",
                Tunnel::Vxlan => "truncated vxlan header",
                Tunnel::VxlanGpe => "truncated vxlan-gpe header",
                Tunnel::Geneve => "truncated geneve header",
                Tunnel::GtpU => "truncated gtp-u header",
                Tunnel::Teredo => "truncated teredo header",
                Tunnel::Ayiya => "truncated ayiya header",
                Tunnel::Ipv4InIp | Tunnel::Ipv6InIp | Tunnel::MplsInUdp => {
                    "truncated tunnel header"
                }
            },
            TunnelError::BadGreVersion => "unsupported gre version",
            TunnelError::Empty(_) => "empty tunnel packet",
            TunnelError::UnknownPayload(t) => match t {
                Tunnel::Gre => "gre payload not decoded",
                Tunnel::Erspan => "erspan frame type not decoded",
                Tunnel::Geneve => "geneve payload not decoded",
                Tunnel::VxlanGpe => "vxlan-gpe payload not decoded",
                _ => "tunnel payload not decoded",
            },
        }
    }
}

impl fmt::Display for TunnelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for TunnelError {}

const UDP_GRE: u16 = 4754;
const UDP_MPLS: u16 = 6635;
const UDP_VXLAN: u16 = 4789;
const UDP_VXLAN_GPE: u16 = 4790;
const UDP_GENEVE: u16 = 6081;
const UDP_GTP_U: u16 = 2152;
const UDP_TEREDO: u16 = 3544;
const UDP_AYIYA: u16 = 5072;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
const ETHERTYPE_PPP: u16 = 0x880B;
const ETHERTYPE_ERSPAN_2: u16 = 0x88BE;
const ETHERTYPE_ERSPAN_3: u16 = 0x22EB;
const ETHERTYPE_CISCO_METADATA: u16 = 0x8909;

/// The packet that `p` carries, when `p` is a tunnel packet: `None` for every other packet
/// (and for tunnel messages that carry no packet: GTP-U echoes, PPTP acknowledgements, AYIYA
/// echoes), an error when the tunnel header is cut short or names a payload trawl does not
/// decode. A fragment after the first carries no header to read.
pub fn inner<'a>(p: &Packet<'a>) -> Option<Result<Inner<'a>, TunnelError>> {
    if p.fragment.is_some_and(|f| !f.is_first()) || p.payload.is_empty() {
        return None;
    }
    let bytes = p.payload;
    let link = |tunnel, link| {
        Some(Ok(Inner {
            tunnel,
            id: None,
            start: Start::Link(link),
            bytes,
        }))
    };
    match p.transport {
        Transport::Other(4) => link(Tunnel::Ipv4InIp, LinkType::Ipv4),
        Transport::Other(41) => link(Tunnel::Ipv6InIp, LinkType::Ipv6),
        Transport::Other(47) => Some(gre(bytes)),
        Transport::Udp => {
            let (sport, dport) = (p.src_port?, p.dst_port?);
            match dport {
                UDP_VXLAN => return Some(vxlan(bytes)),
                UDP_VXLAN_GPE => return Some(vxlan_gpe(bytes)),
                UDP_GENEVE => return Some(geneve(bytes)),
                UDP_GRE => return Some(gre(bytes)),
                UDP_MPLS => {
                    return Some(Ok(Inner {
                        tunnel: Tunnel::MplsInUdp,
                        id: None,
                        start: Start::EtherType(ETHERTYPE_MPLS),
                        bytes,
                    }));
                }
                _ => {}
            }
            // GTP-U, Teredo and AYIYA peers use the port on both sides, or one side only.
            let on = |port| sport == port || dport == port;
            if on(UDP_GTP_U) {
                gtp_u(bytes)
            } else if on(UDP_TEREDO) {
                teredo(bytes).map(Ok)
            } else if on(UDP_AYIYA) {
                ayiya(bytes)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// One step down a packet's tunnels, from [`layers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// A packet carried `depth` tunnels deep (1 for the first), in `tunnel`.
    Packet {
        /// The tunnel it came out of.
        tunnel: Inner<'a>,
        /// The decoded packet.
        packet: Packet<'a>,
        /// How many tunnels deep it is.
        depth: u8,
    },
    /// A tunnel header that could not be read: decapsulation stops.
    Tunnel(TunnelError),
    /// A tunnel whose carried frame does not decode (often not a fault: ARP inside VXLAN).
    Decode(Tunnel, DecodeError),
    /// A packet [`MAX_DEPTH`] tunnels deep carries yet another: it is not opened.
    TooDeep,
}

/// The packets inside `outer`'s tunnels, outermost first: each a [`Step::Packet`], and at
/// most one final step saying why decapsulation stopped early.
pub fn layers(outer: Packet<'_>) -> Layers<'_> {
    Layers {
        current: Some(outer),
        depth: 0,
    }
}

/// The iterator [`layers`] returns.
#[derive(Clone, Debug)]
pub struct Layers<'a> {
    current: Option<Packet<'a>>,
    depth: u8,
}

impl<'a> Iterator for Layers<'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Step<'a>> {
        let found = inner(&self.current.take()?)?;
        if self.depth == MAX_DEPTH {
            return Some(Step::TooDeep);
        }
        let tunnel = match found {
            Ok(t) => t,
            Err(e) => return Some(Step::Tunnel(e)),
        };
        match tunnel.decode() {
            Ok(packet) => {
                self.depth += 1;
                self.current = Some(packet);
                Some(Step::Packet {
                    tunnel,
                    packet,
                    depth: self.depth,
                })
            }
            Err(e) => Some(Step::Decode(tunnel.tunnel, e)),
        }
    }
}

/// Whether a packet of IP protocol `proto` between these ports may be a tunnel packet that
/// [`inner`] opens: lets a caller that reads the commonest packets at fixed offsets skip the
/// full decode for everything else.
pub(crate) fn may_carry(proto: u8, sport: u16, dport: u16) -> bool {
    match proto {
        4 | 41 | 47 => true,
        17 => {
            matches!(
                dport,
                UDP_VXLAN | UDP_VXLAN_GPE | UDP_GENEVE | UDP_GRE | UDP_MPLS
            ) || [UDP_GTP_U, UDP_TEREDO, UDP_AYIYA]
                .iter()
                .any(|&p| sport == p || dport == p)
        }
        _ => false,
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The start of what an ethertype names in a GRE, Geneve or VXLAN-GPE payload.
fn ether_start(ether_type: u16) -> Start {
    match ether_type {
        ETHERTYPE_TEB => Start::Link(LinkType::Ethernet),
        ETHERTYPE_PPP => Start::Link(LinkType::Ppp),
        t => Start::EtherType(t),
    }
}

/// Whether `decode_ether_type` reads what this ethertype names.
fn decodable(ether_type: u16) -> bool {
    matches!(
        ether_type,
        ETHERTYPE_IPV4
            | ETHERTYPE_IPV6
            | ETHERTYPE_TEB
            | ETHERTYPE_MPLS
            | ETHERTYPE_NSH
            | ETHERTYPE_PPP
    )
}

/// A GRE packet (RFC 2784 with RFC 2890's key and sequence number; RFC 1701's checksum,
/// offset and source routes; RFC 2637's version 1 for PPTP).
fn gre(b: &[u8]) -> Result<Inner<'_>, TunnelError> {
    let truncated = Err(TunnelError::Truncated(Tunnel::Gre));
    if b.len() < 4 {
        return truncated;
    }
    let (flags, version, protocol) = (b[0], b[1] & 0x07, be16(b, 2));
    let (checksum, routing, key, seq) = (
        flags & 0x80 != 0,
        flags & 0x40 != 0,
        flags & 0x20 != 0,
        flags & 0x10 != 0,
    );
    if version == 1 {
        // PPTP: key (payload length, call id) always present; the A bit adds an ack number.
        if !key || protocol != ETHERTYPE_PPP {
            return Err(TunnelError::BadGreVersion);
        }
        let ack = b[1] & 0x80 != 0;
        let len = 8 + 4 * usize::from(seq) + 4 * usize::from(ack);
        let Some(payload) = b.get(len..) else {
            return Err(TunnelError::Truncated(Tunnel::Pptp));
        };
        let payload_len = usize::from(be16(b, 4));
        return Ok(Inner {
            tunnel: Tunnel::Pptp,
            id: Some(u32::from(be16(b, 6))),
            start: Start::Link(LinkType::Ppp),
            bytes: &payload[..payload_len.min(payload.len())],
        });
    }
    if version != 0 {
        return Err(TunnelError::BadGreVersion);
    }
    let mut at = 4 + 4 * usize::from(checksum || routing);
    let id = if key {
        let Some(k) = b.get(at..at + 4) else {
            return truncated;
        };
        at += 4;
        Some(be32(k, 0))
    } else {
        None
    };
    at += 4 * usize::from(seq);
    if routing {
        // Source route entries: address family (2), offset (1), length (1), then `length`
        // bytes; a zero length ends the list. Every entry is at least 4 bytes, so the walk
        // ends within the payload.
        loop {
            let Some(sre) = b.get(at..at + 4) else {
                return truncated;
            };
            let len = usize::from(sre[3]);
            at += 4 + len;
            if len == 0 {
                break;
            }
        }
    }
    let Some(mut payload) = b.get(at..) else {
        return truncated;
    };
    let mut protocol = protocol;
    if protocol == ETHERTYPE_CISCO_METADATA {
        // Cisco MetaData (TrustSec tags) in GRE: the ethertype of what follows, version,
        // length, option and tag.
        let Some(next) = payload.get(8..) else {
            return truncated;
        };
        protocol = be16(payload, 0);
        payload = next;
    }
    match protocol {
        // A keepalive (or an empty packet) carries nothing.
        _ if payload.is_empty() => Err(TunnelError::Empty(Tunnel::Gre)),
        ETHERTYPE_ERSPAN_2 | ETHERTYPE_ERSPAN_3 => erspan(protocol, seq, payload),
        p if decodable(p) => Ok(Inner {
            tunnel: Tunnel::Gre,
            id,
            start: ether_start(p),
            bytes: payload,
        }),
        _ => Err(TunnelError::UnknownPayload(Tunnel::Gre)),
    }
}

/// An ERSPAN frame in GRE. Type I (protocol 0x88BE without a GRE sequence number) has no
/// header of its own; type II has 8 bytes; type III has 12, and 8 more when its O bit says a
/// platform-specific subheader follows.
fn erspan(protocol: u16, gre_seq: bool, b: &[u8]) -> Result<Inner<'_>, TunnelError> {
    let ethernet = |id, bytes| {
        Ok(Inner {
            tunnel: Tunnel::Erspan,
            id,
            start: Start::Link(LinkType::Ethernet),
            bytes,
        })
    };
    let truncated = Err(TunnelError::Truncated(Tunnel::Erspan));
    if protocol == ETHERTYPE_ERSPAN_2 {
        if !gre_seq {
            return ethernet(None, b);
        }
        let Some(payload) = b.get(8..) else {
            return truncated;
        };
        return ethernet(Some(u32::from(be16(b, 2) & 0x03FF)), payload);
    }
    if b.len() < 12 {
        return truncated;
    }
    let session = Some(u32::from(be16(b, 2) & 0x03FF));
    let len = if b[11] & 0x01 != 0 { 20 } else { 12 };
    let Some(payload) = b.get(len..) else {
        return truncated;
    };
    // The frame type: 0 Ethernet, 2 IP (bits 1..6 of the byte after the timestamp).
    match (b[10] >> 2) & 0x1F {
        0 => ethernet(session, payload),
        2 => Ok(Inner {
            tunnel: Tunnel::Erspan,
            id: session,
            start: Start::Link(LinkType::Raw),
            bytes: payload,
        }),
        _ => Err(TunnelError::UnknownPayload(Tunnel::Erspan)),
    }
}

/// A VXLAN packet: flags (the I bit says the VNI is valid), 3 reserved bytes, the VNI and a
/// reserved byte, then an Ethernet frame.
fn vxlan(b: &[u8]) -> Result<Inner<'_>, TunnelError> {
    let Some(frame) = b.get(8..) else {
        return Err(TunnelError::Truncated(Tunnel::Vxlan));
    };
    Ok(Inner {
        tunnel: Tunnel::Vxlan,
        id: (b[0] & 0x08 != 0).then(|| be32(b, 4) >> 8),
        start: Start::Link(LinkType::Ethernet),
        bytes: frame,
    })
}

/// A VXLAN-GPE packet: like VXLAN, with a next-protocol byte (1 IPv4, 2 IPv6, 3 Ethernet,
/// 4 NSH, 5 MPLS).
fn vxlan_gpe(b: &[u8]) -> Result<Inner<'_>, TunnelError> {
    let Some(frame) = b.get(8..) else {
        return Err(TunnelError::Truncated(Tunnel::VxlanGpe));
    };
    let ether_type = match b[3] {
        1 => ETHERTYPE_IPV4,
        2 => ETHERTYPE_IPV6,
        3 => ETHERTYPE_TEB,
        4 => ETHERTYPE_NSH,
        5 => ETHERTYPE_MPLS,
        _ => return Err(TunnelError::UnknownPayload(Tunnel::VxlanGpe)),
    };
    Ok(Inner {
        tunnel: Tunnel::VxlanGpe,
        id: (b[0] & 0x08 != 0).then(|| be32(b, 4) >> 8),
        start: ether_start(ether_type),
        bytes: frame,
    })
}

/// A Geneve packet: version and options length (in 4-byte words), flags, a protocol type
/// (an ethertype), the VNI, then the options.
fn geneve(b: &[u8]) -> Result<Inner<'_>, TunnelError> {
    let truncated = Err(TunnelError::Truncated(Tunnel::Geneve));
    if b.len() < 8 {
        return truncated;
    }
    let len = 8 + 4 * usize::from(b[0] & 0x3F);
    let Some(frame) = b.get(len..) else {
        return truncated;
    };
    let protocol = be16(b, 2);
    if !decodable(protocol) {
        return Err(TunnelError::UnknownPayload(Tunnel::Geneve));
    }
    Ok(Inner {
        tunnel: Tunnel::Geneve,
        id: Some(be32(b, 4) >> 8),
        start: ether_start(protocol),
        bytes: frame,
    })
}

/// A GTP-U message (version 1): only G-PDUs (type 255) carry a user packet. The 8-byte
/// header grows by 4 when any of the E, S and PN flags is set, then by each extension header
/// the E flag chains (a length in 4-byte units, the last byte naming the next one).
fn gtp_u(b: &[u8]) -> Option<Result<Inner<'_>, TunnelError>> {
    let truncated = Some(Err(TunnelError::Truncated(Tunnel::GtpU)));
    if b.len() < 8 {
        return truncated;
    }
    let flags = b[0];
    // Version 1 with PT = 1: GTP, not GTP'. Anything else on this port is not GTP-U.
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return None;
    }
    if b[1] != 255 {
        return None;
    }
    let end = (8 + usize::from(be16(b, 2))).min(b.len());
    let mut at = 8;
    if flags & 0x07 != 0 {
        at += 4;
        let Some(&first) = b.get(at - 1) else {
            return truncated;
        };
        let mut next = first;
        if flags & 0x04 != 0 {
            while next != 0 {
                let Some(&units) = b.get(at) else {
                    return truncated;
                };
                if units == 0 {
                    return truncated;
                }
                at += 4 * usize::from(units);
                let Some(&n) = b.get(at - 1) else {
                    return truncated;
                };
                next = n;
            }
        }
    }
    if at > end {
        return truncated;
    }
    Some(Ok(Inner {
        tunnel: Tunnel::GtpU,
        id: Some(be32(b, 4)),
        start: Start::Link(LinkType::Raw),
        bytes: &b[at..end],
    }))
}

/// A Teredo packet: optional authentication and origin indication headers, then an IPv6
/// packet. Only a payload that holds a whole IPv6 header whose length fits is taken for one:
/// the port alone is weak evidence.
fn teredo(mut b: &[u8]) -> Option<Inner<'_>> {
    // Authentication: 0x0001, id length, auth length, id, auth, nonce (8), confirmation (1).
    if b.starts_with(&[0x00, 0x01]) {
        let len = 4 + usize::from(*b.get(2)?) + usize::from(*b.get(3)?) + 9;
        b = b.get(len..)?;
    }
    // Origin indication: 0x0000, port (2), address (4).
    if b.starts_with(&[0x00, 0x00]) {
        b = b.get(8..)?;
    }
    let ipv6 = b.len() >= 40 && b[0] >> 4 == 6 && 40 + usize::from(be16(b, 4)) <= b.len();
    ipv6.then_some(Inner {
        tunnel: Tunnel::Teredo,
        id: None,
        start: Start::Link(LinkType::Ipv6),
        bytes: b,
    })
}

/// An AYIYA message: identity length (log2) and type, signature length (in 4-byte words) and
/// hash method, authentication method and opcode, next header, epoch (4), identity,
/// signature. Opcode 1 forwards a packet.
fn ayiya(b: &[u8]) -> Option<Result<Inner<'_>, TunnelError>> {
    if b.len() < 8 {
        return Some(Err(TunnelError::Truncated(Tunnel::Ayiya)));
    }
    if b[2] & 0x0F != 1 {
        return None;
    }
    let link = match b[3] {
        4 => LinkType::Ipv4,
        41 => LinkType::Ipv6,
        _ => return Some(Err(TunnelError::UnknownPayload(Tunnel::Ayiya))),
    };
    let len = 8 + (1usize << (b[0] >> 4)) + 4 * usize::from(b[1] >> 4);
    let Some(packet) = b.get(len..) else {
        return Some(Err(TunnelError::Truncated(Tunnel::Ayiya)));
    };
    Some(Ok(Inner {
        tunnel: Tunnel::Ayiya,
        id: None,
        start: Start::Link(link),
        bytes: packet,
    }))
}
