//! Link, network and transport layers as zero-copy views over one captured frame.
//!
//! * [`LinkType`] — how a frame starts (pcap `LINKTYPE_*`): Ethernet, raw IP, BSD loopback,
//!   Linux cooked capture v1/v2, Linux NFLOG, PPP (bare, in HDLC framing, over PPPoE, with a
//!   direction byte), Cisco HDLC (with or without a direction byte), Frame Relay, 802.11
//!   (bare, behind radiotap, PPI, AVS or Prism headers), or something trawl does not read.
//! * [`decode`] — the one checked entry point: frame bytes in, [`Packet`] or [`DecodeError`]
//!   out. It never panics and never allocates; every slice in a [`Packet`] borrows the frame.
//! * [`Packet`] — addresses, [`Transport`], ports, TCP flags, the L4 payload, how many VLAN
//!   tags were crossed and the [`Encap`] context (VLAN IDs, PPPoE session, MPLS label),
//!   [`Fragment`] information, and where lax decoding stopped ([`Layer`]) when the frame was
//!   cut short.
//! * [`DecodeError`] — why a frame yields no addresses; [`DecodeError::reason`] is a stable
//!   short name to count by (most are not errors at all: ARP, LLDP and friends are simply not
//!   IP).
//!
//! Ethernet, 802.1Q/802.1ad tags (up to three), IPv4 (options, AH) and IPv6 (hop-by-hop,
//! routing, fragment, destination options, AH) are sliced by `etherparse`'s lax parser.
//! Written here, because `etherparse` does not read them: the BSD loopback headers, both Linux
//! cooked headers (`etherparse` refuses SLL frames whose ARPHRD type it does not know, such as
//! the loopback and tun devices a Linux "any" capture records), NFLOG, PPP, Cisco HDLC, Frame
//! Relay, the 802.11 MAC header and the radio headers in front of it, LLC/SNAP, and the
//! re-entries below an ethertype: PPPoE session frames, MPLS label stacks, Cisco VN-Tags,
//! 802.1ah provider backbone frames, the Network Service Header (NSH) and SNAP inside 802.3
//! frames. Re-entries nest (802.1ah, then a VLAN, then NSH, then Ethernet) up to a fixed depth,
//! past which a frame is [`DecodeError::TooManyLayers`]. 802.11 frames that are not data, carry
//! no data or are encrypted are errors of their own. IP tunnels (GRE, VXLAN, Geneve, IP-in-IP, …)
//! decode to their outer packet here; `tunnel` opens them.
//!
//! **Truncation.** A sensor matches addresses, so a frame whose IP header is complete always
//! decodes: when what follows is cut off (a short snapshot length, a tiny first fragment) the
//! packet keeps its addresses, has no ports, and [`Packet::truncated`] names the layer that
//! was cut. A frame cut inside its link or IP header is an error.
//!
//! **Fragments** are not reassembled. The first fragment of a datagram carries the transport
//! header: its ports and the payload prefix are reported. Later fragments report the
//! transport protocol but no ports and an empty payload.

use std::fmt;
use std::net::IpAddr;

use etherparse::err::Layer as EpLayer;
use etherparse::err::packet::SliceError;
use etherparse::{
    EtherType, Icmpv4Slice, Icmpv6Slice, LaxIpPayloadSlice, LaxLinkExtSlice, LaxNetSlice,
    LaxSlicedPacket, TcpSlice, TransportSlice, UdpSlice,
};

/// How a captured frame starts, from the pcap `LINKTYPE_*` number of its file or interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (`LINKTYPE_ETHERNET`, 1), possibly with 802.1Q/802.1ad tags.
    Ethernet,
    /// Raw IP, version from the first nibble (`LINKTYPE_RAW`, 101; also the DLT values 12
    /// and 14 some writers put in files).
    Raw,
    /// Raw IPv4 (`LINKTYPE_IPV4`, 228).
    Ipv4,
    /// Raw IPv6 (`LINKTYPE_IPV6`, 229).
    Ipv6,
    /// BSD loopback (`LINKTYPE_NULL`, 0): a 4-byte address family in the capturing host's
    /// byte order.
    Null,
    /// OpenBSD loopback (`LINKTYPE_LOOP`, 108): a 4-byte address family in network order.
    Loop,
    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 113): a 16-byte header.
    LinuxSll,
    /// Linux cooked capture v2 (`LINKTYPE_LINUX_SLL2`, 276): a 20-byte header.
    LinuxSll2,
    /// Linux netfilter log (`LINKTYPE_NFLOG`, 239): an address family, then TLVs, one of
    /// which holds the IP packet.
    Nflog,
    /// PPP (`LINKTYPE_PPP`, 9): the protocol field, possibly compressed to one byte, after an
    /// optional `FF 03` address and control.
    Ppp,
    /// PPP in HDLC-like framing (`LINKTYPE_PPP_HDLC`, 50): `FF 03`, then PPP; a frame starting
    /// `0F` or `8F` is Cisco HDLC (RFC 1547), which the same link type also records.
    PppHdlc,
    /// PPPoE (`LINKTYPE_PPP_ETHER`, 51): a PPPoE session header, then PPP.
    PppEther,
    /// PPP with a direction byte (`LINKTYPE_PPP_WITH_DIR`, 204).
    PppWithDir,
    /// Cisco HDLC (`LINKTYPE_C_HDLC`, 104): address, control, then an ethertype.
    CiscoHdlc,
    /// Cisco HDLC with a direction byte (`LINKTYPE_C_HDLC_WITH_DIR`, 205).
    CiscoHdlcWithDir,
    /// Frame Relay (`LINKTYPE_FRELAY`, 107): a Q.922 address, then RFC 2427 multiprotocol
    /// encapsulation (NLPID IPv4, IPv6 or SNAP) or Cisco's (an ethertype).
    FrameRelay,
    /// IEEE 802.11 (`LINKTYPE_IEEE802_11`, 105): a MAC header, then LLC/SNAP.
    Ieee80211,
    /// 802.11 behind a radiotap header (`LINKTYPE_IEEE802_11_RADIOTAP`, 127).
    Radiotap,
    /// Per-Packet Information (`LINKTYPE_PPI`, 192): a header naming the link type that follows
    /// (802.11, usually).
    Ppi,
    /// 802.11 behind an AVS header (`LINKTYPE_IEEE802_11_AVS`, 163).
    Avs,
    /// 802.11 behind a Prism (or AVS) header (`LINKTYPE_IEEE802_11_PRISM`, 119).
    Prism,
    /// Any other link type: its frames decode to [`DecodeError::UnsupportedLink`].
    Other(u32),
}

impl LinkType {
    /// The link type of a pcap `LINKTYPE_*` number (a pcap file header's `network` field or a
    /// pcapng interface's `LinkType`).
    pub fn from_linktype(v: u32) -> LinkType {
        match v {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            239 => LinkType::Nflog,
            276 => LinkType::LinuxSll2,
            9 => LinkType::Ppp,
            50 => LinkType::PppHdlc,
            51 => LinkType::PppEther,
            204 => LinkType::PppWithDir,
            104 => LinkType::CiscoHdlc,
            205 => LinkType::CiscoHdlcWithDir,
            107 => LinkType::FrameRelay,
            105 => LinkType::Ieee80211,
            127 => LinkType::Radiotap,
            192 => LinkType::Ppi,
            163 => LinkType::Avs,
            119 => LinkType::Prism,
            v => LinkType::Other(v),
        }
    }

    /// The `LINKTYPE_*` number (`Raw` gives 101), for reports and round trips.
    pub fn linktype(self) -> u32 {
        match self {
            LinkType::Null => 0,
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Loop => 108,
            LinkType::LinuxSll => 113,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Nflog => 239,
            LinkType::LinuxSll2 => 276,
            LinkType::Ppp => 9,
            LinkType::PppHdlc => 50,
            LinkType::PppEther => 51,
            LinkType::PppWithDir => 204,
            LinkType::CiscoHdlc => 104,
            LinkType::CiscoHdlcWithDir => 205,
            LinkType::FrameRelay => 107,
            LinkType::Ieee80211 => 105,
            LinkType::Radiotap => 127,
            LinkType::Ppi => 192,
            LinkType::Avs => 163,
            LinkType::Prism => 119,
            LinkType::Other(v) => v,
        }
    }
}

pub use crate::indicators::field::Transport;

/// Where a fragment sits in its datagram (IPv4 flags and offset, or an IPv6 fragment header).
/// Only packets that really are part of a fragmented datagram carry one: an IPv6 "atomic"
/// fragment (offset 0, no more fragments) is a whole datagram and reports `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fragment {
    /// The datagram's identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// The fragment's offset in the datagram, in bytes (a multiple of 8).
    pub offset: u16,
    /// Whether more fragments follow (the MF flag).
    pub more: bool,
}

impl Fragment {
    /// Whether this is the first fragment, the only one that carries the transport header.
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }
}

/// The layer at which lax decoding stopped, recorded in [`Packet::truncated`]. The addresses
/// are valid whatever the layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// An IPv4 authentication header or an IPv6 extension header is cut off or malformed: no
    /// transport header was read, [`Packet::transport`] names the header that failed.
    IpExtension,
    /// The TCP, UDP or ICMP header is cut off (or, for TCP, its data offset is invalid): no
    /// ports.
    Transport,
    /// The headers are complete but the frame holds less than the IP header's length says
    /// (a short snapshot length): the payload is a prefix.
    Payload,
}

impl Layer {
    /// A stable short name to count by: "truncated IP extension header", "truncated
    /// transport header" or "truncated payload".
    pub fn reason(self) -> &'static str {
        match self {
            Layer::IpExtension => "truncated IP extension header",
            Layer::Transport => "truncated transport header",
            Layer::Payload => "truncated payload",
        }
    }
}

/// One decoded packet: a view of the frame it came from (no copies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Source address of the (outermost) IP header.
    pub src: IpAddr,
    /// Destination address of the (outermost) IP header.
    pub dst: IpAddr,
    /// The IP payload's protocol.
    pub transport: Transport,
    /// TCP, UDP or SCTP source port, when the transport header was read.
    pub src_port: Option<u16>,
    /// TCP, UDP or SCTP destination port, when the transport header was read.
    pub dst_port: Option<u16>,
    /// The raw TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN, high bit first) for TCP.
    pub tcp_flags: Option<u8>,
    /// The TCP sequence number, for TCP: where the payload sits in its stream.
    pub tcp_seq: Option<u32>,
    /// The transport payload: after the TCP/UDP/ICMP/SCTP common header (for SCTP: its chunks),
    /// or the whole IP payload for other protocols. Empty when there is none, when the transport header could not be read, and
    /// for fragments after the first.
    pub payload: &'a [u8],
    /// How many 802.1Q/802.1ad tags the frame carried.
    pub vlans: u8,
    /// The VLAN IDs, PPPoE session and MPLS label the packet was carried in.
    pub encap: Encap,
    /// Fragment information when the packet is part of a fragmented datagram (not reassembled).
    pub fragment: Option<Fragment>,
    /// Where lax decoding stopped early, when it did.
    pub truncated: Option<Layer>,
}

/// The link-layer context a packet travelled in, beyond its addresses and ports. The same
/// 5-tuple on two VLANs (or in two PPPoE sessions, or two MPLS VPNs) is two conversations, so
/// flow state keys on this too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Encap {
    /// VLAN IDs of the 802.1Q/802.1ad tags crossed, outermost first; 0 past the last tag (as
    /// for a priority tag, VLAN 0, which is no VLAN). Tags past the third are counted in
    /// [`Packet::vlans`] but not recorded.
    pub vlan_ids: [u16; 3],
    /// The session ID of a PPPoE session frame.
    pub pppoe_session: Option<u16>,
    /// The bottom-of-stack label of an MPLS frame (the VPN label of an L3VPN).
    pub mpls_label: Option<u32>,
}

/// What was crossed before the IP header, carried through the re-entries below the link layer
/// (PPPoE, MPLS, VN-Tag, 802.1ah, LLC/SNAP, NSH).
#[derive(Clone, Copy, Default)]
struct Outer {
    vlans: u8,
    encap: Encap,
    /// Re-entries below the link layer so far (see [`MAX_LAYERS`]).
    layers: u8,
}

/// How many times one frame may re-enter the ethertype level (VN-Tag, 802.1ah, LLC/SNAP, NSH):
/// enough for PBB, then VLAN, then NSH, then Ethernet; a crafted frame cannot recurse without
/// bound.
const MAX_LAYERS: u8 = 8;

impl Outer {
    /// One more layer of re-entry, refused past [`MAX_LAYERS`].
    fn deeper(mut self) -> Result<Outer, DecodeError> {
        self.layers += 1;
        if self.layers > MAX_LAYERS {
            return Err(DecodeError::TooManyLayers);
        }
        Ok(self)
    }

    /// One more VLAN tag, with its 12-bit ID.
    fn vlan(mut self, id: u16) -> Outer {
        if let Some(slot) = self.encap.vlan_ids.get_mut(usize::from(self.vlans)) {
            *slot = id;
        }
        self.vlans = self.vlans.saturating_add(1);
        self
    }
}

/// Why a frame yields no IP packet. Most are not faults: a sensor counts them by
/// [`DecodeError::reason`] and moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame is shorter than its link-layer header.
    TruncatedLink,
    /// The frame ends inside an 802.1Q/802.1ad tag.
    TruncatedVlan,
    /// More stacked VLAN tags than the decoder reads (three).
    TooManyVlans,
    /// The frame carries something other than IP (ARP, LLDP, …); values below 0x0600 are
    /// 802.3 length fields (LLC frames other than SNAP).
    NotIp {
        /// The ethertype after the link header and tags.
        ether_type: u16,
    },
    /// A loopback or NFLOG frame whose address family is neither IPv4 nor IPv6.
    NotIpFamily {
        /// The address family in the link header.
        family: u32,
    },
    /// A Linux cooked frame whose protocol field is not an IP ethertype (netlink, CAN, LLC…).
    NotIpLinux {
        /// The cooked header's protocol field.
        protocol: u16,
    },
    /// A PPPoE session frame carrying a PPP protocol other than IP (LCP, IPCP, …).
    NotIpPpp {
        /// The PPP protocol number.
        protocol: u16,
    },
    /// An NFLOG record without a packet payload TLV.
    NflogNoPayload,
    /// An MPLS label stack whose payload does not start like an IP header (a pseudowire).
    NotIpMpls,
    /// The frame ends inside a PPPoE session header.
    TruncatedPppoe,
    /// The frame ends inside an MPLS label stack.
    TruncatedMpls,
    /// The frame ends inside the IP header (or right before it).
    TruncatedIp,
    /// The IP version nibble is neither 4 nor 6.
    BadIpVersion {
        /// The version nibble.
        version: u8,
    },
    /// An IPv4 header whose header length field is below 5 words.
    MalformedIpv4,
    /// An 802.11 frame that is not a data frame (management, control, extension, or an
    /// unknown protocol version).
    Ieee80211NotData {
        /// The frame type (0 management, 1 control, 3 extension; 2 with a protocol version
        /// other than 0).
        frame_type: u8,
        /// The frame subtype.
        subtype: u8,
    },
    /// An 802.11 data frame of a subtype that carries no data (null, CF-Ack, CF-Poll).
    Ieee80211NullData,
    /// An 802.11 data frame with the Protected bit: WEP/WPA-encrypted, unreadable.
    Ieee80211Protected,
    /// The frame ends inside its 802.11 MAC header.
    TruncatedIeee80211,
    /// An 802.2 LLC frame that is not SNAP (spanning tree, NetBIOS, …).
    NotIpLlc {
        /// The destination service access point.
        dsap: u8,
    },
    /// A SNAP header whose OUI does not make its protocol an ethertype (CDP, bridged frames).
    NotIpSnap {
        /// The organisationally unique identifier.
        oui: u32,
    },
    /// The frame ends inside an LLC or SNAP header.
    TruncatedLlc,
    /// A Frame Relay address whose extension bits do not end it within four bytes.
    BadFrameRelayAddress,
    /// A Frame Relay frame whose NLPID is neither IPv4, IPv6 nor SNAP (Q.933 signalling, OSI).
    NotIpFrameRelay {
        /// The network layer protocol identifier.
        nlpid: u8,
    },
    /// The frame ends inside a Network Service Header or its metadata.
    TruncatedNsh,
    /// A Network Service Header of an unknown version or shorter than its fixed part.
    MalformedNsh,
    /// A Network Service Header whose next protocol is not IPv4, IPv6, Ethernet, NSH or MPLS.
    NotIpNsh {
        /// The next protocol field.
        next: u8,
    },
    /// The frame ends inside an 802.1ah (PBB) I-TAG.
    TruncatedPbb,
    /// More encapsulations within one frame than the decoder follows (eight).
    TooManyLayers,
    /// A link type trawl does not decode.
    UnsupportedLink {
        /// The pcap `LINKTYPE_*` number.
        linktype: u32,
    },
}

/// Maps a number to a `&'static str` that names it, for the numbers in the list; others get
/// the fallback. Keeps [`DecodeError::reason`] allocation-free yet specific where it matters.
macro_rules! numbered_reason {
    ($v:expr, $prefix:literal, $suffix:literal, $other:literal; $($n:literal)*) => {
        match $v {
            $( $n => concat!($prefix, stringify!($n), $suffix), )*
            _ => $other,
        }
    };
}

impl DecodeError {
    /// A stable short name to count by, e.g. "truncated link header", "not IP (ethertype
    /// 0x0806)", "malformed IPv4 header", "unsupported link type 147". Common ethertypes and
    /// link types are named by number; rare ones share an "other" bucket (the `Display` form
    /// always has the number).
    pub fn reason(&self) -> &'static str {
        match *self {
            DecodeError::TruncatedLink => "truncated link header",
            DecodeError::TruncatedVlan => "truncated VLAN tag",
            DecodeError::TooManyVlans => "too many VLAN tags",
            DecodeError::NotIp { ether_type } if ether_type < 0x0600 => {
                "not IP (802.3 length field)"
            }
            DecodeError::NotIp { ether_type } => numbered_reason!(
                ether_type, "not IP (ethertype ", ")", "not IP (other ethertype)";
                0x0806 0x8035 0x809b 0x80f3 0x8137 0x8808 0x8809 0x8847 0x8848 0x8863 0x8864
                0x888e 0x8892 0x8899 0x88a4 0x88b5 0x88b6 0x88b7 0x88cc 0x88e1 0x88e5 0x88f7
                0x88fb 0x8902 0x8906 0x8914 0x892f 0x894f 0x9000 0x6002 0x6003 0x6004 0x0842
                0x22f3 0x8100 0x88a8 0x9100
            ),
            DecodeError::NotIpFamily { .. } => "not IP (address family)",
            DecodeError::NotIpLinux { .. } => "not IP (Linux cooked protocol)",
            DecodeError::NotIpPpp { .. } => "not IP (PPP protocol)",
            DecodeError::NotIpMpls => "not IP (MPLS payload)",
            DecodeError::NflogNoPayload => "NFLOG record without payload",
            DecodeError::TruncatedPppoe => "truncated PPPoE header",
            DecodeError::TruncatedMpls => "truncated MPLS label stack",
            DecodeError::TruncatedIp => "truncated IP header",
            DecodeError::BadIpVersion { .. } => "bad IP version",
            DecodeError::MalformedIpv4 => "malformed IPv4 header",
            DecodeError::Ieee80211NotData { .. } => "802.11 non-data frame",
            DecodeError::Ieee80211NullData => "802.11 null data frame",
            DecodeError::Ieee80211Protected => "802.11 protected frame",
            DecodeError::TruncatedIeee80211 => "truncated 802.11 header",
            DecodeError::NotIpLlc { .. } => "not IP (LLC)",
            DecodeError::NotIpSnap { .. } => "not IP (SNAP OUI)",
            DecodeError::TruncatedLlc => "truncated LLC/SNAP header",
            DecodeError::BadFrameRelayAddress => "bad Frame Relay address",
            DecodeError::NotIpFrameRelay { .. } => "not IP (Frame Relay NLPID)",
            DecodeError::TruncatedNsh => "truncated NSH header",
            DecodeError::MalformedNsh => "malformed NSH header",
            DecodeError::NotIpNsh { .. } => "not IP (NSH next protocol)",
            DecodeError::TruncatedPbb => "truncated 802.1ah I-TAG",
            DecodeError::TooManyLayers => "too many encapsulation layers",
            DecodeError::UnsupportedLink { linktype } => numbered_reason!(
                linktype, "unsupported link type ", "", "unsupported link type (other)";
                6 8 9 10 50 51 104 105 107 119 122 127 138 139 140 141 142 143 144 147 148 149
                150 151 152 153 154 155 156 157 158 159 160 161 162 163 165 166 169 177 187
                189 192 195 197 201 204 209 215 220 224 226 227 230 231 235 239 240 247 249
                251 252 253 254 255 256 258 263 266 270 272 274 275 277 278 279 280 281 282
                283 284 285 286 287 288 289 290 291 292 293 294 295 296 297 298 299
            ),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DecodeError::NotIp { ether_type } if ether_type < 0x0600 => {
                write!(f, "not IP (802.3 length field {ether_type})")
            }
            DecodeError::NotIp { ether_type } => write!(f, "not IP (ethertype {ether_type:#06x})"),
            DecodeError::NotIpFamily { family } => {
                write!(f, "not IP (address family {family})")
            }
            DecodeError::NotIpLinux { protocol } => {
                write!(f, "not IP (Linux cooked protocol {protocol:#06x})")
            }
            DecodeError::NotIpPpp { protocol } => {
                write!(f, "not IP (PPP protocol {protocol:#06x})")
            }
            DecodeError::BadIpVersion { version } => write!(f, "bad IP version {version}"),
            DecodeError::Ieee80211NotData {
                frame_type,
                subtype,
            } => write!(
                f,
                "802.11 non-data frame (type {frame_type}, subtype {subtype})"
            ),
            DecodeError::NotIpLlc { dsap } => write!(f, "not IP (LLC DSAP {dsap:#04x})"),
            DecodeError::NotIpSnap { oui } => write!(f, "not IP (SNAP OUI {oui:06x})"),
            DecodeError::NotIpFrameRelay { nlpid } => {
                write!(f, "not IP (Frame Relay NLPID {nlpid:#04x})")
            }
            DecodeError::NotIpNsh { next } => write!(f, "not IP (NSH next protocol {next})"),
            DecodeError::UnsupportedLink { linktype } => {
                write!(f, "unsupported link type {linktype}")
            }
            _ => f.write_str(self.reason()),
        }
    }
}

impl std::error::Error for DecodeError {}

const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
pub(crate) const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_VNTAG: u16 = 0x8926;
/// 802.1ah provider backbone bridging: an I-TAG, then a whole customer Ethernet frame.
const ETHERTYPE_PBB: u16 = 0x88e7;
/// Network Service Header (RFC 8300).
pub(crate) const ETHERTYPE_NSH: u16 = 0x894f;
/// Transparent Ethernet bridging: a whole Ethernet frame follows (GRE, Geneve, NVGRE).
pub(crate) const ETHERTYPE_TEB: u16 = 0x6558;
const ARPHRD_NETLINK: u16 = 824;
const NFULA_PAYLOAD: u16 = 9;

/// Ethernet through etherparse's lax slicing: every case, including VLANs, IPv6, fragments
/// and cut headers.
fn lax_ethernet(frame: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    match LaxSlicedPacket::from_ethernet(frame) {
        Ok(lax) => from_lax(lax, outer),
        Err(_) => Err(DecodeError::TruncatedLink),
    }
}

/// The commonest frame read at fixed offsets: untagged Ethernet, IPv4 without options, not a
/// fragment, a complete TCP or UDP header, nothing cut by the snapshot length. Anything else
/// returns `None` and goes through [`lax_ethernet`], which gives the same [`Packet`] for these
/// frames (a test checks it) at about twice the cost.
#[inline]
fn fast_ethernet_ipv4(f: &[u8]) -> Option<Packet<'_>> {
    if f.len() < 34 || f[12..14] != [0x08, 0x00] || f[14] != 0x45 {
        return None;
    }
    let total = usize::from(be16(f, 16));
    let ip_end = 14 + total;
    if ip_end > f.len() || be16(f, 20) & 0x3FFF != 0 {
        return None;
    }
    let src = IpAddr::from([f[26], f[27], f[28], f[29]]);
    let dst = IpAddr::from([f[30], f[31], f[32], f[33]]);
    let (transport, header, flags, seq) = match f[23] {
        6 if ip_end >= 54 && f[46] >> 4 >= 5 => {
            let offset = usize::from(f[46] >> 4) * 4;
            let seq = u32::from_be_bytes([f[38], f[39], f[40], f[41]]);
            (Transport::Tcp, offset, Some(f[47]), Some(seq))
        }
        17 if ip_end >= 42 && usize::from(be16(f, 38)) == total - 20 => {
            (Transport::Udp, 8, None, None)
        }
        _ => return None,
    };
    if 34 + header > ip_end {
        return None;
    }
    Some(Packet {
        src,
        dst,
        transport,
        src_port: Some(be16(f, 34)),
        dst_port: Some(be16(f, 36)),
        tcp_flags: flags,
        tcp_seq: seq,
        payload: &f[34 + header..ip_end],
        vlans: 0,
        encap: Encap::default(),
        fragment: None,
        truncated: None,
    })
}

/// Decodes one frame of the given link type into a [`Packet`] borrowing it.
///
/// Never panics and never allocates, whatever the bytes. A frame whose IP header is complete
/// decodes even when what follows is cut off ([`Packet::truncated`] says where); a frame
/// without a complete IP header, or that is not IP, gives a [`DecodeError`].
pub fn decode(link: LinkType, frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match link {
        LinkType::Ethernet => match fast_ethernet_ipv4(frame) {
            Some(p) => Ok(p),
            None => lax_ethernet(frame, Outer::default()),
        },
        LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => from_ip(frame, Outer::default()),
        LinkType::Null => {
            let (family, rest) = split4(frame)?;
            // The capturing host's byte order is not recorded; families are small numbers,
            // so a value with high bits set was written by a host of the other order (the
            // rule libpcap and Wireshark use).
            let mut family = u32::from_le_bytes(family);
            if family & 0xffff_0000 != 0 {
                family = family.swap_bytes();
            }
            from_family(family, rest)
        }
        LinkType::Loop => {
            let (family, rest) = split4(frame)?;
            from_family(u32::from_be_bytes(family), rest)
        }
        LinkType::LinuxSll => {
            // packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
            if frame.len() < 16 {
                return Err(DecodeError::TruncatedLink);
            }
            let hatype = be16(frame, 2);
            from_cooked(hatype, be16(frame, 14), &frame[16..])
        }
        LinkType::LinuxSll2 => {
            // protocol (2), reserved (2), interface index (4), ARPHRD type (2), packet type
            // (1), address length (1), address (8)
            if frame.len() < 20 {
                return Err(DecodeError::TruncatedLink);
            }
            let hatype = be16(frame, 8);
            from_cooked(hatype, be16(frame, 0), &frame[20..])
        }
        LinkType::Nflog => nflog(frame),
        LinkType::Ppp => ppp(frame),
        // RFC 1547 Cisco HDLC frames start with their address, 0x0F unicast or 0x8F broadcast;
        // PPP in HDLC framing with 0xFF.
        LinkType::PppHdlc => match frame.first() {
            Some(0x0f | 0x8f) => cisco_hdlc(frame),
            _ => ppp(frame),
        },
        LinkType::PppEther => pppoe(frame, Outer::default()),
        LinkType::PppWithDir => ppp(frame.get(1..).ok_or(DecodeError::TruncatedLink)?),
        LinkType::CiscoHdlc => cisco_hdlc(frame),
        LinkType::CiscoHdlcWithDir => cisco_hdlc(frame.get(1..).ok_or(DecodeError::TruncatedLink)?),
        LinkType::FrameRelay => frame_relay(frame),
        LinkType::Ieee80211 => ieee80211(frame, false),
        LinkType::Radiotap => radiotap(frame),
        LinkType::Ppi => ppi(frame),
        LinkType::Avs => avs(frame),
        LinkType::Prism => prism(frame),
        LinkType::Other(linktype) => Err(DecodeError::UnsupportedLink { linktype }),
    }
}

/// Decodes bytes that start where an ethertype says what follows (a GRE or Geneve payload,
/// whose protocol field is an ethertype): IPv4, IPv6, Ethernet (transparent bridging, 0x6558)
/// and the link-layer re-entries `decode` reads (PPPoE, MPLS, …).
pub fn decode_ether_type(ether_type: u16, bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match ether_type {
        ETHERTYPE_TEB => decode(LinkType::Ethernet, bytes),
        _ => from_ether_type(ether_type, bytes, Outer::default()),
    }
}

/// What follows an ethertype inside a frame: re-entries (SNAP, NSH) go through here.
fn from_ether_type(ether_type: u16, bytes: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    match ether_type {
        ETHERTYPE_TEB => lax_ethernet(bytes, outer),
        _ => from_lax(
            LaxSlicedPacket::from_ether_type(EtherType(ether_type), bytes),
            outer,
        ),
    }
}

/// The big-endian `u16` at `at` (the caller has checked the length).
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn split4(frame: &[u8]) -> Result<([u8; 4], &[u8]), DecodeError> {
    match frame.split_first_chunk::<4>() {
        Some((head, rest)) => Ok((*head, rest)),
        None => Err(DecodeError::TruncatedLink),
    }
}

/// BSD loopback families: AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD, BSD/OS),
/// 28 (FreeBSD, DragonFly) or 30 (Darwin).
fn from_family(family: u32, rest: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match family {
        2 | 24 | 28 | 30 => from_ip(rest, Outer::default()),
        family => Err(DecodeError::NotIpFamily { family }),
    }
}

fn from_cooked(hatype: u16, protocol: u16, rest: &[u8]) -> Result<Packet<'_>, DecodeError> {
    // The protocol field is an ethertype except for netlink (a netlink family) and the
    // Linux pseudo-ethertypes below 0x0600 (802.3, 802.2, CAN, …).
    if hatype == ARPHRD_NETLINK || protocol < 0x0600 {
        return Err(DecodeError::NotIpLinux { protocol });
    }
    from_lax(
        LaxSlicedPacket::from_ether_type(EtherType(protocol), rest),
        Outer::default(),
    )
}

fn from_ip(bytes: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    use etherparse::err::ip::{HeaderError, LaxHeaderSliceError};
    match LaxSlicedPacket::from_ip(bytes) {
        Ok(lax) => from_lax(lax, outer),
        Err(LaxHeaderSliceError::Len(_)) => Err(DecodeError::TruncatedIp),
        Err(LaxHeaderSliceError::Content(HeaderError::UnsupportedIpVersion { version_number })) => {
            Err(DecodeError::BadIpVersion {
                version: version_number,
            })
        }
        Err(LaxHeaderSliceError::Content(HeaderError::Ipv4HeaderLengthSmallerThanHeader {
            ..
        })) => Err(DecodeError::MalformedIpv4),
    }
}

/// Turns `etherparse`'s lax slices into a [`Packet`], or classifies why there is none.
/// `outer` is what was crossed before `lax` started (PPPoE, MPLS, VN-Tag, 802.1ah, LLC/SNAP
/// and NSH re-enter below the link layer), with a count of re-entries that bounds recursion.
fn from_lax(lax: LaxSlicedPacket<'_>, outer: Outer) -> Result<Packet<'_>, DecodeError> {
    let outer = lax.link_exts.iter().fold(outer, |o, e| match e {
        LaxLinkExtSlice::Vlan(v) => o.vlan(v.vlan_identifier().value()),
        _ => o,
    });
    let (src, dst, fragment, ip_payload) = match &lax.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let fragment = h.is_fragmenting_payload().then(|| Fragment {
                id: u32::from(h.identification()),
                offset: h.fragments_offset().value() << 3,
                more: h.more_fragments(),
            });
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                fragment,
                ip.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
            let h = ip.header();
            let exts = ip.extensions();
            let fragment = exts
                .first_header()
                .and_then(|first| ipv6_fragment_in_chain(first.0, exts.slice()));
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                fragment,
                ip.payload(),
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Err(DecodeError::NotIp { ether_type: 0x0806 }),
        None => return beyond_ethertype(lax, outer),
    };

    let mut packet = Packet {
        src,
        dst,
        transport: Transport::from_ip_number(ip_payload.ip_number.0),
        src_port: None,
        dst_port: None,
        tcp_flags: None,
        tcp_seq: None,
        payload: &[],
        vlans: outer.vlans,
        encap: outer.encap,
        fragment,
        truncated: None,
    };

    let ext_failed = matches!(
        lax.stop_err,
        Some((
            _,
            EpLayer::IpAuthHeader
                | EpLayer::Ipv6ExtHeader
                | EpLayer::Ipv6HopByHopHeader
                | EpLayer::Ipv6DestOptionsHeader
                | EpLayer::Ipv6RouteHeader
                | EpLayer::Ipv6FragHeader
        ))
    );
    if ext_failed {
        packet.truncated = Some(Layer::IpExtension);
        return Ok(packet);
    }
    if fragment.is_some_and(|f| !f.is_first()) {
        packet.truncated = ip_payload.incomplete.then_some(Layer::Payload);
        return Ok(packet);
    }
    // `etherparse` leaves the transport unread for every fragment, the first included, and
    // after a transport error: read it here in those cases.
    let transport = match lax.transport {
        Some(t) => Some(Ok(t)),
        None => slice_transport(ip_payload),
    };
    match transport {
        Some(Ok(TransportSlice::Tcp(tcp))) => {
            packet.src_port = Some(tcp.source_port());
            packet.dst_port = Some(tcp.destination_port());
            packet.tcp_flags = Some(tcp.header_slice()[13]);
            packet.tcp_seq = Some(tcp.sequence_number());
            packet.payload = tcp.payload();
        }
        Some(Ok(TransportSlice::Udp(udp))) => {
            packet.src_port = Some(udp.source_port());
            packet.dst_port = Some(udp.destination_port());
            packet.payload = udp.payload();
        }
        Some(Ok(TransportSlice::Icmpv4(icmp))) => packet.payload = icmp.payload(),
        Some(Ok(TransportSlice::Icmpv6(icmp))) => packet.payload = icmp.payload(),
        Some(Err(())) => {
            packet.truncated = Some(Layer::Transport);
            return Ok(packet);
        }
        // SCTP: the common header's ports (the checksum is not verified), then the chunks.
        None if ip_payload.ip_number.0 == 132 => match ip_payload.payload.split_at_checked(12) {
            Some((header, chunks)) => {
                packet.src_port = Some(be16(header, 0));
                packet.dst_port = Some(be16(header, 2));
                packet.payload = chunks;
            }
            None => {
                packet.truncated = Some(Layer::Transport);
                return Ok(packet);
            }
        },
        None => packet.payload = ip_payload.payload,
    }
    if ip_payload.incomplete {
        packet.truncated = Some(Layer::Payload);
    }
    Ok(packet)
}

/// The first fragmenting fragment header in an IPv6 extension chain (the bytes `etherparse`
/// accepted as extension headers, starting with protocol `first`).
///
/// Walked here with bounds checks rather than through `etherparse`'s `Ipv6ExtensionSliceIter`:
/// in 0.19, when lax slicing stopped inside the chain (a hop-by-hop header not at the start,
/// a header cut short), that iterator goes on to read the failed header past the end of the
/// slice (found by fuzzing: a heap over-read under AddressSanitizer).
fn ipv6_fragment_in_chain(first: u8, mut chain: &[u8]) -> Option<Fragment> {
    let mut next = first;
    loop {
        let (&following, _) = chain.split_first()?;
        let len = match next {
            // Hop-by-hop, routing, destination options: length in 8-octet units, less one.
            0 | 43 | 60 => (usize::from(*chain.get(1)?) + 1) * 8,
            44 => {
                if let Some(fragment) = ipv6_fragment(chain.get(..8)?) {
                    return Some(fragment);
                }
                8
            }
            // Authentication header: length in 4-octet units, less two.
            51 => (usize::from(*chain.get(1)?) + 2) * 4,
            _ => return None,
        };
        next = following;
        chain = chain.get(len..)?;
    }
}

/// The fragment described by an IPv6 fragment header, if it fragments (offset or M set).
///
/// Read here from the raw bytes: `etherparse` 0.19 reads the offset and the M flag from the
/// wrong bits (its issue #150, fixed in 0.20), and so misjudges which packets are fragments.
/// RFC 8200 §4.5: bytes 2..4 are a big-endian word, offset in 8-octet units in its top 13
/// bits, M in its lowest bit; bytes 4..8 the identification.
fn ipv6_fragment(header: &[u8]) -> Option<Fragment> {
    let (&[_, _, hi, lo], rest) = header.split_first_chunk::<4>()?;
    let id = rest
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_be_bytes(*b));
    let word = u16::from_be_bytes([hi, lo]);
    let (offset, more) = (word >> 3, word & 1 == 1);
    (offset != 0 || more).then_some(Fragment {
        id,
        offset: offset << 3,
        more,
    })
}

/// The transport header of an IP payload: `None` for protocols without one we read,
/// `Some(Err(()))` when it is cut off or malformed.
fn slice_transport<'a>(
    ip_payload: &LaxIpPayloadSlice<'a>,
) -> Option<Result<TransportSlice<'a>, ()>> {
    let bytes = ip_payload.payload;
    Some(match ip_payload.ip_number.0 {
        6 => TcpSlice::from_slice(bytes)
            .map(TransportSlice::Tcp)
            .map_err(drop),
        // Lax: a first fragment's UDP length covers the whole datagram, not this fragment.
        17 => UdpSlice::from_slice_lax(bytes)
            .map(TransportSlice::Udp)
            .map_err(drop),
        1 => Icmpv4Slice::from_slice(bytes)
            .map(TransportSlice::Icmpv4)
            .map_err(drop),
        58 => Icmpv6Slice::from_slice(bytes)
            .map(TransportSlice::Icmpv6)
            .map_err(drop),
        _ => return None,
    })
}

/// A frame that `etherparse` sliced without reaching IP: unwrap PPPoE, MPLS, VN-Tag, 802.1ah,
/// NSH and LLC/SNAP (written here: `etherparse` 0.19 reads none of them), or say why there is
/// no IP.
fn beyond_ethertype(lax: LaxSlicedPacket<'_>, outer: Outer) -> Result<Packet<'_>, DecodeError> {
    if let Some((err, layer)) = &lax.stop_err {
        return Err(match layer {
            EpLayer::VlanHeader => DecodeError::TruncatedVlan,
            EpLayer::Arp => DecodeError::NotIp { ether_type: 0x0806 },
            EpLayer::MacsecHeader | EpLayer::MacsecPacket => {
                DecodeError::NotIp { ether_type: 0x88e5 }
            }
            _ => match err {
                SliceError::Ip(etherparse::err::ip::HeaderError::UnsupportedIpVersion {
                    version_number,
                }) => DecodeError::BadIpVersion {
                    version: *version_number,
                },
                SliceError::Ip(_) | SliceError::Ipv4(_) => DecodeError::MalformedIpv4,
                _ => DecodeError::TruncatedIp,
            },
        });
    }
    let Some(ether) = lax.ether_payload() else {
        // The only link extension without an ether payload: encrypted or modified MACsec.
        return Err(DecodeError::NotIp { ether_type: 0x88e5 });
    };
    match ether.ether_type.0 {
        0x8100 | 0x88a8 | 0x9100 if lax.link_exts.is_full() => Err(DecodeError::TooManyVlans),
        ETHERTYPE_PPPOE_SESSION => pppoe(ether.payload, outer),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(ether.payload, outer),
        // Cisco VN-Tag: 4 bytes of tag, then the real ethertype (tags and all may follow).
        ETHERTYPE_VNTAG => match ether.payload.split_at_checked(6) {
            Some((tag, rest)) => from_ether_type(be16(tag, 4), rest, outer.deeper()?),
            None => Err(DecodeError::TruncatedLink),
        },
        // 802.1ah: the I-TAG (priority, flags, 24-bit service ID), then the customer's frame.
        ETHERTYPE_PBB => match ether.payload.get(4..) {
            Some(customer) => lax_ethernet(customer, outer.deeper()?),
            None => Err(DecodeError::TruncatedPbb),
        },
        ETHERTYPE_NSH => nsh(ether.payload, outer),
        // An 802.3 length field: LLC follows; only SNAP names an ethertype.
        length if length < 0x0600 => match ether.payload {
            [0xaa, 0xaa, 0x03, snap_header @ ..] => snap(snap_header, outer.deeper()?),
            _ => Err(DecodeError::NotIp { ether_type: length }),
        },
        ether_type => Err(DecodeError::NotIp { ether_type }),
    }
}

/// A PPPoE session frame (RFC 2516): version/type, code, session id, length, then the PPP
/// protocol number and the PPP payload.
fn pppoe(bytes: &[u8], mut outer: Outer) -> Result<Packet<'_>, DecodeError> {
    if bytes.len() < 8 {
        return Err(DecodeError::TruncatedPppoe);
    }
    let protocol = be16(bytes, 6);
    // The length field counts the PPP protocol and payload: it trims Ethernet padding.
    let len = usize::from(be16(bytes, 4));
    let end = if len >= 2 {
        (6 + len).min(bytes.len())
    } else {
        bytes.len()
    };
    let inner = &bytes[8..end];
    outer.encap.pppoe_session = Some(be16(bytes, 2));
    ppp_protocol(protocol, inner, outer)
}

/// What a PPP protocol number carries: IPv4, IPv6 or MPLS.
fn ppp_protocol(protocol: u16, bytes: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    match protocol {
        0x0021 | 0x0057 => from_ip(bytes, outer),
        0x0281 | 0x0283 => mpls(bytes, outer),
        protocol => Err(DecodeError::NotIpPpp { protocol }),
    }
}

// The link layers below are written by hand: `etherparse` 0.19 reads none of them, and each is
// a few fixed fields in front of an ethertype or an IP header.

/// A PPP frame (RFC 1661): the `FF 03` address and control of HDLC-like framing (RFC 1662)
/// when present, then the protocol, one byte when its first byte is odd (protocol field
/// compression: every protocol number's low byte is odd, its high byte even).
fn ppp(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let bytes = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
    let (protocol, rest) = match bytes {
        [low, rest @ ..] if low & 1 == 1 => (u16::from(*low), rest),
        [high, low, rest @ ..] => (u16::from_be_bytes([*high, *low]), rest),
        _ => return Err(DecodeError::TruncatedLink),
    };
    ppp_protocol(protocol, rest, Outer::default())
}

/// A Cisco HDLC frame: address, control, then an ethertype (SLARP, 0x8035, is not IP).
fn cisco_hdlc(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match frame {
        [_address, _control, high, low, rest @ ..] => {
            from_ether_type(u16::from_be_bytes([*high, *low]), rest, Outer::default())
        }
        _ => Err(DecodeError::TruncatedLink),
    }
}

/// A Frame Relay frame: a Q.922 address of two to four bytes (the last has its extension bit,
/// bit 0, set), then either the RFC 2427 encapsulation (control `03`, an optional `00` pad,
/// an NLPID: `CC` IPv4, `8E` IPv6, `80` SNAP) or Cisco's (an ethertype right after the
/// address), told apart the way tcpdump does: by the control byte.
fn frame_relay(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let address_len = match frame.iter().take(4).position(|b| b & 1 == 1) {
        Some(0) => return Err(DecodeError::BadFrameRelayAddress),
        Some(last) => last + 1,
        None if frame.len() < 4 => return Err(DecodeError::TruncatedLink),
        None => return Err(DecodeError::BadFrameRelayAddress),
    };
    let rest = &frame[address_len..];
    let Some(after_control) = rest.strip_prefix(&[0x03]) else {
        return match rest {
            [high, low, rest @ ..] => {
                from_ether_type(u16::from_be_bytes([*high, *low]), rest, Outer::default())
            }
            _ => Err(DecodeError::TruncatedLink),
        };
    };
    // NLPID 0 is "null network layer", never used here: a zero byte is the pad.
    let after_pad = after_control.strip_prefix(&[0x00]).unwrap_or(after_control);
    match after_pad {
        [0xcc | 0x8e, ip @ ..] => from_ip(ip, Outer::default()),
        [0x80, snap_header @ ..] => snap(snap_header, Outer::default()),
        [nlpid, ..] => Err(DecodeError::NotIpFrameRelay { nlpid: *nlpid }),
        [] => Err(DecodeError::TruncatedLink),
    }
}

/// An 802.2 LLC header: only SNAP (`AA AA 03`) says what follows.
fn llc(bytes: &[u8]) -> Result<Packet<'_>, DecodeError> {
    match bytes {
        [0xaa, 0xaa, 0x03, snap_header @ ..] => snap(snap_header, Outer::default()),
        [dsap, _, _, ..] => Err(DecodeError::NotIpLlc { dsap: *dsap }),
        _ => Err(DecodeError::TruncatedLlc),
    }
}

/// A SNAP header after its LLC: OUI, then a protocol that is an ethertype when the OUI is
/// 00-00-00 (RFC 1042) or 00-00-F8 (802.1H bridge tunnel).
fn snap(bytes: &[u8], outer: Outer) -> Result<Packet<'_>, DecodeError> {
    match bytes {
        [0, 0, 0 | 0xf8, high, low, rest @ ..] => {
            from_ether_type(u16::from_be_bytes([*high, *low]), rest, outer)
        }
        [a, b, c, _, _, ..] => Err(DecodeError::NotIpSnap {
            oui: u32::from_be_bytes([0, *a, *b, *c]),
        }),
        _ => Err(DecodeError::TruncatedLlc),
    }
}

/// An 802.11 MAC frame (IEEE 802.11-2020 §9.2). Only data frames carry IP: a 24-byte header,
/// 30 with a fourth address (ToDS and FromDS both set), 2 more for QoS subtypes and 4 more for
/// HT control (QoS with the +HTC/Order bit), then LLC/SNAP. `padded` is radiotap's "data pad"
/// flag: the header is padded to a multiple of 4 bytes. The FCS a capture may keep at the end
/// is trimmed by the IP length.
fn ieee80211(frame: &[u8], padded: bool) -> Result<Packet<'_>, DecodeError> {
    let Some(&[fc, flags]) = frame.first_chunk::<2>() else {
        return Err(DecodeError::TruncatedIeee80211);
    };
    let (version, frame_type, subtype) = (fc & 3, (fc >> 2) & 3, fc >> 4);
    if version != 0 || frame_type != 2 {
        return Err(DecodeError::Ieee80211NotData {
            frame_type,
            subtype,
        });
    }
    // Subtypes with bit 2 set are null functions (null, CF-Ack, CF-Poll, QoS null, …).
    if subtype & 0b0100 != 0 {
        return Err(DecodeError::Ieee80211NullData);
    }
    if flags & 0x40 != 0 {
        return Err(DecodeError::Ieee80211Protected);
    }
    let qos = subtype & 0b1000 != 0;
    let mut len = if flags & 0b11 == 0b11 { 30 } else { 24 };
    let qos_at = len;
    if qos {
        len += 2;
        if flags & 0x80 != 0 {
            len += 4;
        }
    }
    if padded {
        len = (len + 3) & !3;
    }
    let body = frame.get(len..).ok_or(DecodeError::TruncatedIeee80211)?;
    // An A-MSDU (QoS control bit 7): subframes of destination, source and length, then
    // LLC/SNAP; the first one is read.
    if qos && frame[qos_at] & 0x80 != 0 {
        return llc(body.get(14..).ok_or(DecodeError::TruncatedIeee80211)?);
    }
    llc(body)
}

/// A radiotap header: version, pad, its length (little-endian), present flags; the 802.11
/// frame follows it.
fn radiotap(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let Some(&[_, _, l0, l1]) = frame.first_chunk::<4>() else {
        return Err(DecodeError::TruncatedLink);
    };
    let len = usize::from(u16::from_le_bytes([l0, l1]));
    match (frame.get(..len), frame.get(len..)) {
        (Some(header), Some(body)) if len >= 8 => {
            ieee80211(body, radiotap_flags(header) & RADIOTAP_DATA_PAD != 0)
        }
        _ => Err(DecodeError::TruncatedLink),
    }
}

/// Radiotap's "frame has padding between the 802.11 header and the payload" flag.
const RADIOTAP_DATA_PAD: u8 = 0x20;

/// The radiotap Flags field (0 when absent): field 1, after TSFT (field 0: 8 bytes, 8-aligned)
/// when present, and after every extended present bitmap (bit 31 says another follows).
fn radiotap_flags(header: &[u8]) -> u8 {
    let word = |at: usize| {
        header
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let Some(present) = word(4) else { return 0 };
    let mut at = 8;
    let mut last = present;
    while last & 0x8000_0000 != 0 {
        let Some(next) = word(at) else { return 0 };
        last = next;
        at += 4;
    }
    if present & 0b10 == 0 {
        return 0;
    }
    if present & 1 != 0 {
        at = ((at + 7) & !7) + 8;
    }
    header.get(at).copied().unwrap_or(0)
}

/// A Per-Packet Information header: version, flags, its length and the link type that
/// follows (both little-endian). PPI inside PPI is refused rather than recursed into.
fn ppi(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let Some(&[_, _, l0, l1, d0, d1, d2, d3]) = frame.first_chunk::<8>() else {
        return Err(DecodeError::TruncatedLink);
    };
    let len = usize::from(u16::from_le_bytes([l0, l1]));
    let body = frame.get(len..).filter(|_| len >= 8);
    let body = body.ok_or(DecodeError::TruncatedLink)?;
    match LinkType::from_linktype(u32::from_le_bytes([d0, d1, d2, d3])) {
        LinkType::Ppi => Err(DecodeError::UnsupportedLink { linktype: 192 }),
        link => decode(link, body),
    }
}

/// AVS capture header magic numbers (versions 1 and 2), big-endian.
const AVS_MAGIC: [u32; 2] = [0x8021_1001, 0x8021_1002];

/// An AVS header: magic, then its own length (both big-endian), then the 802.11 frame.
fn avs(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let Some(&[_, _, _, _, l0, l1, l2, l3]) = frame.first_chunk::<8>() else {
        return Err(DecodeError::TruncatedLink);
    };
    let len = u32::from_be_bytes([l0, l1, l2, l3]) as usize;
    match frame.get(len..) {
        Some(body) if len >= 8 => ieee80211(body, false),
        _ => Err(DecodeError::TruncatedLink),
    }
}

/// A Prism header (message code, message length in the capturing host's byte order — tried
/// little-endian first, as for NFLOG — device name and items), or an AVS header, which the
/// same link type also records (told apart by its magic, as Wireshark does).
fn prism(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let Some(&[c0, c1, c2, c3, l0, l1, l2, l3]) = frame.first_chunk::<8>() else {
        return Err(DecodeError::TruncatedLink);
    };
    if AVS_MAGIC.contains(&u32::from_be_bytes([c0, c1, c2, c3])) {
        return avs(frame);
    }
    let fits = |len: u32| (8..=frame.len()).contains(&(len as usize));
    let le = u32::from_le_bytes([l0, l1, l2, l3]);
    let be = u32::from_be_bytes([l0, l1, l2, l3]);
    let len = if fits(le) {
        le
    } else if fits(be) {
        be
    } else {
        return Err(DecodeError::TruncatedLink);
    };
    ieee80211(&frame[len as usize..], false)
}

/// A Network Service Header (RFC 8300): version (2 bits, 0), flags and TTL, the header's
/// length in 4-byte words (6 bits), MD type, next protocol, then the service path header
/// and metadata. NSH may follow NSH; each counts as a layer.
fn nsh(mut bytes: &[u8], mut outer: Outer) -> Result<Packet<'_>, DecodeError> {
    loop {
        outer = outer.deeper()?;
        let Some(&[b0, b1, _, next]) = bytes.first_chunk::<4>() else {
            return Err(DecodeError::TruncatedNsh);
        };
        // At least the base and service path headers (two words).
        let len = usize::from(b1 & 0x3f) * 4;
        if b0 >> 6 != 0 || len < 8 {
            return Err(DecodeError::MalformedNsh);
        }
        let inner = bytes.get(len..).ok_or(DecodeError::TruncatedNsh)?;
        match next {
            1 | 2 => return from_ip(inner, outer),
            3 => return lax_ethernet(inner, outer),
            4 => bytes = inner,
            5 => return mpls(inner, outer),
            next => return Err(DecodeError::NotIpNsh { next }),
        }
    }
}

/// An MPLS label stack (RFC 3032): 4-byte entries up to the one with the bottom-of-stack bit;
/// the payload is taken for IP when its version nibble says so (as Wireshark and Zeek do: the
/// stack does not say what it carries).
fn mpls(mut bytes: &[u8], mut outer: Outer) -> Result<Packet<'_>, DecodeError> {
    loop {
        let Some((entry, rest)) = bytes.split_first_chunk::<4>() else {
            return Err(DecodeError::TruncatedMpls);
        };
        bytes = rest;
        if entry[2] & 1 == 1 {
            // The label is the entry's top 20 bits.
            outer.encap.mpls_label = Some(u32::from_be_bytes(*entry) >> 12);
            break;
        }
    }
    match bytes.first().map(|b| b >> 4) {
        Some(4 | 6) => from_ip(bytes, outer),
        Some(_) => Err(DecodeError::NotIpMpls),
        None => Err(DecodeError::TruncatedIp),
    }
}

/// An NFLOG record: address family (1), version (1), resource id (2), then TLVs of length (2,
/// counting its 4-byte header), type (2) and value padded to 4 bytes. Lengths and types are in
/// the capturing host's byte order, nearly always little-endian: a length that does not fit
/// is tried big-endian before giving up.
fn nflog(frame: &[u8]) -> Result<Packet<'_>, DecodeError> {
    let Some((&family, _)) = frame.split_first() else {
        return Err(DecodeError::TruncatedLink);
    };
    let mut rest = frame.get(4..).ok_or(DecodeError::TruncatedLink)?;
    while let Some((tlv, _)) = rest.split_first_chunk::<4>() {
        let le = usize::from(u16::from_le_bytes([tlv[0], tlv[1]]));
        let be = usize::from(u16::from_be_bytes([tlv[0], tlv[1]]));
        let (len, kind) = if (4..=rest.len()).contains(&le) {
            (le, u16::from_le_bytes([tlv[2], tlv[3]]))
        } else if (4..=rest.len()).contains(&be) {
            (be, u16::from_be_bytes([tlv[2], tlv[3]]))
        } else {
            return Err(DecodeError::TruncatedLink);
        };
        if kind == NFULA_PAYLOAD {
            // AF_INET is 2, AF_INET6 10 on Linux.
            return match family {
                2 | 10 => from_ip(&rest[4..len], Outer::default()),
                family => Err(DecodeError::NotIpFamily {
                    family: u32::from(family),
                }),
            };
        }
        rest = rest.get((len + 3) & !3..).unwrap_or_default();
    }
    Err(DecodeError::NflogNoPayload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_fragment_header_bits() {
        // Offset 362 units (2896 bytes), last fragment.
        let f = ipv6_fragment(&[17, 0, 0x0b, 0x50, 0, 0, 0, 1]).unwrap();
        assert_eq!((f.id, f.offset, f.more), (1, 2896, false));
        // Offset 0, more fragments: the first fragment.
        let f = ipv6_fragment(&[17, 0, 0x00, 0x01, 0, 0, 0, 2]).unwrap();
        assert_eq!((f.offset, f.more, f.is_first()), (0, true, true));
        // Offset 4 units with byte 2 zero: the case etherparse 0.19 misses.
        assert_eq!(
            ipv6_fragment(&[17, 0, 0, 0x20, 0, 0, 0, 3]).unwrap().offset,
            32
        );
        // Atomic (only the reserved bits set): not a fragment.
        assert_eq!(ipv6_fragment(&[17, 0, 0x00, 0x06, 0, 0, 0, 4]), None);
        assert_eq!(ipv6_fragment(&[17, 0]), None);
    }

    #[test]
    fn ipv6_chain_walk() {
        let frag = [17, 0, 0x05, 0xa9, 0, 0, 0, 9]; // offset 181 units, more
        // Hop-by-hop (8 bytes), authentication (length 1: 12 bytes), then the fragment header.
        let chain = [
            &[51, 0, 1, 4, 0, 0, 0, 0][..],
            &[44, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &frag,
        ]
        .concat();
        let f = ipv6_fragment_in_chain(0, &chain).unwrap();
        assert_eq!((f.id, f.offset, f.more), (9, 1448, true));
        // Cut anywhere: no fragment, no panic.
        for cut in 0..chain.len() {
            assert_eq!(ipv6_fragment_in_chain(0, &chain[..cut]), None, "cut {cut}");
        }
        // A chain that does not reach a fragment header.
        assert_eq!(ipv6_fragment_in_chain(60, &[6, 0, 1, 4, 0, 0, 0, 0]), None);
    }

    #[test]
    fn reasons_name_common_numbers() {
        let cases = [
            (
                DecodeError::NotIp { ether_type: 0x88cc },
                "not IP (ethertype 0x88cc)",
            ),
            (
                DecodeError::NotIp { ether_type: 0x0806 },
                "not IP (ethertype 0x0806)",
            ),
            (
                DecodeError::NotIp { ether_type: 0x4242 },
                "not IP (other ethertype)",
            ),
            (
                DecodeError::NotIp { ether_type: 0x05dc },
                "not IP (802.3 length field)",
            ),
            (
                DecodeError::UnsupportedLink { linktype: 127 },
                "unsupported link type 127",
            ),
            (
                DecodeError::UnsupportedLink { linktype: 9 },
                "unsupported link type 9",
            ),
            (
                DecodeError::UnsupportedLink { linktype: 100_000 },
                "unsupported link type (other)",
            ),
        ];
        for (e, reason) in cases {
            assert_eq!(e.reason(), reason);
        }
        assert_eq!(
            DecodeError::NotIp { ether_type: 0x05dc }.to_string(),
            "not IP (802.3 length field 1500)"
        );
        assert_eq!(
            DecodeError::NotIpPpp { protocol: 0xc021 }.to_string(),
            "not IP (PPP protocol 0xc021)"
        );
    }

    #[test]
    fn nflog_big_endian_tlvs() {
        // An NFLOG record written by a big-endian host: TLV lengths and types in network order.
        let ip = [
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 7, 0, 9, 0, 8,
            0, 0,
        ];
        let mut frame = vec![2, 0, 0, 0];
        frame.extend_from_slice(&32u16.to_be_bytes());
        frame.extend_from_slice(&9u16.to_be_bytes());
        frame.extend_from_slice(&ip);
        let p = decode(LinkType::Nflog, &frame).unwrap();
        assert_eq!((p.src_port, p.dst_port), (Some(7), Some(9)));
        // A TLV whose length fits neither way.
        frame[4..6].copy_from_slice(&[0xff, 0xfe]);
        assert_eq!(
            decode(LinkType::Nflog, &frame),
            Err(DecodeError::TruncatedLink)
        );
    }

    #[test]
    fn null_header_byte_order() {
        let v4 = [
            0x45, 0, 0, 20, 0, 1, 0, 0, 64, 0xfd, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        for family in [[2, 0, 0, 0], [0, 0, 0, 2]] {
            let frame = [&family[..], &v4].concat();
            let p = decode(LinkType::Null, &frame).unwrap();
            assert_eq!(p.transport, Transport::Other(0xfd));
        }
        // Loop is always network order: a little-endian 2 is family 0x02000000.
        let frame = [&[2, 0, 0, 0][..], &v4].concat();
        assert_eq!(
            decode(LinkType::Loop, &frame),
            Err(DecodeError::NotIpFamily {
                family: 0x0200_0000
            })
        );
    }

    /// An IPv4/UDP datagram 10.0.0.1:7 -> 10.0.0.2:9 with four bytes of payload.
    fn v4_udp() -> Vec<u8> {
        vec![
            0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 7, 0, 9, 0, 12,
            0, 0, b'd', b'a', b't', b'a',
        ]
    }

    #[test]
    fn nsh_depth_limit() {
        // n NSH headers (MD type 2, two words each), the last saying IPv4, in Ethernet.
        let frame = |n: usize| {
            let mut f = vec![0; 12];
            f.extend_from_slice(&[0x89, 0x4f]);
            for i in 0..n {
                let next = if i + 1 == n { 1 } else { 4 };
                f.extend_from_slice(&[0x0f, 0xc2, 0x02, next, 0, 0, 1, 255]);
            }
            f.extend_from_slice(&v4_udp());
            f
        };
        assert_eq!(
            decode(LinkType::Ethernet, &frame(8)).unwrap().payload,
            b"data"
        );
        assert_eq!(
            decode(LinkType::Ethernet, &frame(9)),
            Err(DecodeError::TooManyLayers)
        );
        // A length below two words, and an unknown version.
        let mut short = frame(1);
        short[15] = 0xc1;
        assert_eq!(
            decode(LinkType::Ethernet, &short),
            Err(DecodeError::MalformedNsh)
        );
        let mut v1 = frame(1);
        v1[14] = 0x4f;
        assert_eq!(
            decode(LinkType::Ethernet, &v1),
            Err(DecodeError::MalformedNsh)
        );
    }

    #[test]
    fn ppp_mpls_and_prism_byte_order() {
        // PPP protocol 0x0281: MPLS unicast, one label (100, bottom of stack).
        let mut ppp = vec![0xff, 0x03, 0x02, 0x81, 0x00, 0x06, 0x41, 64];
        ppp.extend_from_slice(&v4_udp());
        let p = decode(LinkType::Ppp, &ppp).unwrap();
        assert_eq!((p.encap.mpls_label, p.dst_port), (Some(100), Some(9)));
        // A Prism header written by a big-endian host: message length 144 in network order.
        let wlan = [
            &[0x08, 0x01][..],
            &[0; 22],
            &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00],
            &v4_udp(),
        ]
        .concat();
        let mut prism = vec![0, 0, 0, 0x44, 0, 0, 0, 144];
        prism.resize(144, 0);
        prism.extend_from_slice(&wlan);
        assert_eq!(decode(LinkType::Prism, &prism).unwrap().payload, b"data");
        // An A-MSDU: the QoS control's bit 7, then a 14-byte subframe header before LLC.
        let amsdu = [
            &[0x88, 0x01][..],
            &[0; 22],
            &[0x80, 0],
            &[0; 12],
            &[0, 40],
            &wlan[24..],
        ]
        .concat();
        assert_eq!(
            decode(LinkType::Ieee80211, &amsdu).unwrap().payload,
            b"data"
        );
    }

    #[test]
    fn radiotap_flags_after_extended_bitmaps_and_tsft() {
        // Present: TSFT, Flags, and an extension bit; a second bitmap; TSFT 8-aligned at 16;
        // Flags at 24 with the data pad bit.
        let mut h = vec![0, 0, 0, 0];
        h.extend_from_slice(&0x8000_0003u32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&[0; 4]); // alignment padding
        h.extend_from_slice(&[1; 8]); // TSFT
        h.push(RADIOTAP_DATA_PAD);
        h.push(0);
        assert_eq!(radiotap_flags(&h), RADIOTAP_DATA_PAD);
        // A cut header reads as no flags, never past its end.
        for cut in 0..h.len() - 2 {
            assert_eq!(radiotap_flags(&h[..cut]), 0, "{cut}");
        }
    }

    #[test]
    fn raw_ip_udp_datagram_decodes() {
        // An IPv4/UDP datagram as a raw-IP capture records it.
        let mut frame = vec![
            0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, // IPv4 header: 32 bytes in all, UDP
            192, 0, 2, 1, 198, 51, 100, 7, //            source, destination
            0x30, 0x39, 0, 53, 0, 12, 0, 0, //           UDP 12345 -> 53, length 12
        ];
        frame.extend_from_slice(b"ping");
        let p = decode(LinkType::from_linktype(101), &frame).unwrap();
        assert_eq!(p.dst.to_string(), "198.51.100.7");
        assert_eq!(
            (p.transport, p.dst_port, p.payload),
            (Transport::Udp, Some(53), &b"ping"[..])
        );
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(tcp: bool, sport: u16, dport: u16, payload: &[u8], flags: u8) -> Vec<u8> {
        let b = etherparse::PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]).ipv4(
            [192, 0, 2, 1],
            [198, 51, 100, 2],
            64,
        );
        let mut out = Vec::new();
        if tcp {
            let mut t = b.tcp(sport, dport, 1, 1000);
            if flags & 1 != 0 {
                t = t.syn();
            }
            if flags & 2 != 0 {
                t = t.ack(7);
            }
            t.write(&mut out, payload).unwrap();
        } else {
            b.udp(sport, dport).write(&mut out, payload).unwrap();
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Wherever the fixed-offset path answers, it answers exactly as etherparse's lax
        /// slicing does — on valid frames, padded frames and frames with mutated header bytes.
        #[test]
        fn fast_path_agrees_with_lax_slicing(
            tcp in any::<bool>(),
            sport in any::<u16>(),
            dport in any::<u16>(),
            payload in prop::collection::vec(any::<u8>(), 0..64),
            flags in any::<u8>(),
            padding in 0usize..20,
            mutations in prop::collection::vec((12usize..60, any::<u8>()), 0..3),
        ) {
            let mut f = frame(tcp, sport, dport, &payload, flags);
            f.extend(std::iter::repeat_n(0u8, padding));
            for (at, v) in mutations {
                if at < f.len() {
                    f[at] = v;
                }
            }
            if let Some(fast) = fast_ethernet_ipv4(&f) {
                prop_assert_eq!(Ok(fast), lax_ethernet(&f, Outer::default()));
            }
        }
    }

    #[test]
    fn fast_path_takes_the_common_frames() {
        assert!(fast_ethernet_ipv4(&frame(true, 1, 2, b"GET / HTTP/1.1", 3)).is_some());
        assert!(fast_ethernet_ipv4(&frame(false, 1, 53, b"dns", 0)).is_some());
        let mut cut = frame(true, 1, 2, b"abcdef", 0);
        cut.truncate(cut.len() - 2);
        assert!(
            fast_ethernet_ipv4(&cut).is_none(),
            "snapshot-cut frames take the lax path"
        );
    }
}
