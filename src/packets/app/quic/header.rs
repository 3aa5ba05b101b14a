//! The long-header packets of one UDP datagram (RFC 9000 §17.2, §12.2): a datagram may carry
//! several packets back to back (coalesced), each long header ending in a Length that says where
//! the next one starts.

use super::protection::Version;
use super::{E_CID, E_GQUIC, E_HEADER, E_LENGTH, E_VERSION, varint};

/// Longest connection ID of versions 1 and 2 (RFC 9000 §17.2).
pub const MAX_CID: usize = 20;

/// The type of a long-header packet (its numbering differs between versions: RFC 9369 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    /// Initial: protected with keys derived from the Destination Connection ID.
    Initial,
    /// 0-RTT: early data under resumption keys.
    ZeroRtt,
    /// Handshake: protected with handshake keys.
    Handshake,
    /// Retry: the server asks the client to start again with a token.
    Retry,
}

impl PacketType {
    /// The type of a packet whose first byte is `first`, in `version`.
    fn of(first: u8, version: Version) -> PacketType {
        let bits = (first >> 4) & 3;
        let v1 = match version {
            // Version 2 moves every type up by one: Initial 1, 0-RTT 2, Handshake 3, Retry 0.
            Version::V2 => (bits + 3) & 3,
            _ => bits,
        };
        match v1 {
            0 => PacketType::Initial,
            1 => PacketType::ZeroRtt,
            2 => PacketType::Handshake,
            _ => PacketType::Retry,
        }
    }
}

/// One long-header packet, borrowed from its datagram, its protection still on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongPacket<'a> {
    /// The version, one whose Initial keys are known.
    pub version: Version,
    /// The packet type.
    pub kind: PacketType,
    /// The Destination Connection ID (for a client's first Initial: what its keys derive from).
    pub dcid: &'a [u8],
    /// The Source Connection ID.
    pub scid: &'a [u8],
    /// The whole packet: header, protected packet number, payload and AEAD tag.
    pub bytes: &'a [u8],
    /// Where the (protected) packet number starts in `bytes`.
    pub pn_offset: usize,
}

/// What one step through a datagram gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// A long-header packet of a version whose keys are known (any type but Retry).
    Packet(LongPacket<'a>),
    /// A long header that is not read, by reason ([`E_GQUIC`], [`E_VERSION`]), or a malformed
    /// one ([`E_HEADER`], [`E_CID`], [`E_LENGTH`]); the rest of the datagram is not read.
    Error(&'static str),
}

/// The long-header packets of a datagram, in order. Ends at the datagram's end, at a byte that
/// does not start a long header (a short-header packet, or padding after the last packet), at
/// a Retry or Version Negotiation packet (nothing follows them), at a version that is not QUIC,
/// and after an [`Step::Error`].
pub fn packets(datagram: &[u8]) -> Packets<'_> {
    Packets { rest: datagram }
}

/// Iterator of [`packets`].
pub struct Packets<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Packets<'a> {
    type Item = Step<'a>;

    fn next(&mut self) -> Option<Step<'a>> {
        let b = self.rest;
        self.rest = &[];
        let (&first, after) = b.split_first()?;
        if first & 0xc0 != 0xc0 {
            return None;
        }
        let Some(v) = after.get(..4) else {
            return Some(Step::Error(E_HEADER));
        };
        let wire = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
        let version = match Version::from_wire(wire) {
            Some(version) => version,
            None if wire == 0 => return None, // Version Negotiation: the server's
            None if is_google_quic(wire) => return Some(Step::Error(E_GQUIC)),
            None if is_quic_family(wire) => return Some(Step::Error(E_VERSION)),
            None => return None,
        };
        let kind = PacketType::of(first, version);
        if kind == PacketType::Retry {
            return None;
        }
        match parse(b, version, kind) {
            Ok((packet, len)) => {
                self.rest = &b[len..];
                Some(Step::Packet(packet))
            }
            Err(why) => Some(Step::Error(why)),
        }
    }
}

/// Parses the long header at the start of `b`: the packet and its length in bytes.
fn parse(
    b: &[u8],
    version: Version,
    kind: PacketType,
) -> Result<(LongPacket<'_>, usize), &'static str> {
    let mut pos = 5;
    let dcid = cid(b, &mut pos)?;
    let scid = cid(b, &mut pos)?;
    if kind == PacketType::Initial {
        let token = varint(b, &mut pos).ok_or(E_HEADER)?;
        let token = usize::try_from(token).map_err(|_| E_HEADER)?;
        pos = pos
            .checked_add(token)
            .filter(|&p| p <= b.len())
            .ok_or(E_HEADER)?;
    }
    let len = varint(b, &mut pos).ok_or(E_HEADER)?;
    let end = usize::try_from(len)
        .ok()
        .and_then(|l| pos.checked_add(l))
        .filter(|&e| e <= b.len())
        .ok_or(E_LENGTH)?;
    let packet = LongPacket {
        version,
        kind,
        dcid,
        scid,
        bytes: &b[..end],
        pn_offset: pos,
    };
    Ok((packet, end))
}

/// A connection ID: a length byte and that many bytes.
fn cid<'a>(b: &'a [u8], pos: &mut usize) -> Result<&'a [u8], &'static str> {
    let len = usize::from(*b.get(*pos).ok_or(E_HEADER)?);
    if len > MAX_CID {
        return Err(E_CID);
    }
    let id = b.get(*pos + 1..*pos + 1 + len).ok_or(E_HEADER)?;
    *pos += 1 + len;
    Ok(id)
}

/// Google QUIC with a long header: `Q046`, `Q050`, `T050`, `T051`, … (ASCII `Q` or `T`, then
/// three digits).
fn is_google_quic(v: u32) -> bool {
    let [a, b, c, d] = v.to_be_bytes();
    matches!(a, b'Q' | b'T') && [b, c, d].iter().all(u8::is_ascii_digit)
}

/// Versions that are QUIC but whose keys are not known here: the other IETF drafts
/// (`0xff000001` to `0xff000022`), Facebook's mvfst (`0xfaceb00x`) and the reserved
/// `0x?a?a?a?a` versions (RFC 9000 §15). Narrow on purpose: other UDP payloads (a DNS message
/// with a high ID) start with the same two bits and must not be counted as QUIC.
fn is_quic_family(v: u32) -> bool {
    (0xff00_0001..=0xff00_0022).contains(&v)
        || v >> 4 == 0x0fac_eb00
        || v & 0x0f0f_0f0f == 0x0a0a_0a0a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long header of `version` and type bits `bits`, with the given connection IDs, a token
    /// (Initial only) and `payload` behind a 2-byte Length.
    fn long(version: u32, bits: u8, dcid: &[u8], token: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0xc0 | (bits << 4)];
        p.extend_from_slice(&version.to_be_bytes());
        p.push(dcid.len() as u8);
        p.extend_from_slice(dcid);
        p.push(3);
        p.extend_from_slice(b"scd");
        if bits == 0 || version == 0x6b33_43cf && bits == 1 {
            p.push(token.len() as u8);
            p.extend_from_slice(token);
        }
        p.extend_from_slice(&(0x4000 | payload.len() as u16).to_be_bytes());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn coalesced_packets_are_split_by_their_lengths() {
        let mut d = long(1, 0, b"dcid0001", b"tok", &[1; 40]);
        d.extend(long(1, 2, b"dcid0002", b"", &[2; 30])); // Handshake: no token
        d.extend([0u8; 12]); // padding after the last packet
        let steps: Vec<_> = packets(&d).collect();
        assert_eq!(steps.len(), 2);
        let Step::Packet(a) = steps[0] else { panic!() };
        assert_eq!(
            (a.kind, a.dcid, a.scid),
            (PacketType::Initial, &b"dcid0001"[..], &b"scd"[..])
        );
        assert_eq!(a.bytes.len(), a.pn_offset + 40);
        assert_eq!(&a.bytes[a.pn_offset..], &[1; 40]);
        let Step::Packet(b) = steps[1] else { panic!() };
        assert_eq!((b.kind, b.dcid), (PacketType::Handshake, &b"dcid0002"[..]));
    }

    #[test]
    fn version_2_numbers_its_types_differently() {
        let d = long(0x6b33_43cf, 1, b"12345678", b"", &[0; 20]);
        let Some(Step::Packet(p)) = packets(&d).next() else {
            panic!()
        };
        assert_eq!((p.version, p.kind), (Version::V2, PacketType::Initial));
        // Type 0 in version 2 is Retry: nothing is read after it.
        let d = long(0x6b33_43cf, 0, b"12345678", b"", &[0; 20]);
        assert_eq!(packets(&d).next(), None);
    }

    #[test]
    fn other_versions_are_counted_or_ignored() {
        let mut gquic = long(1, 0, b"12345678", b"", &[0; 20]);
        gquic[1..5].copy_from_slice(b"Q046");
        assert_eq!(packets(&gquic).next(), Some(Step::Error(E_GQUIC)));
        let mut draft = gquic.clone();
        draft[1..5].copy_from_slice(&0xff00_0016u32.to_be_bytes()); // draft 22
        assert_eq!(packets(&draft).next(), Some(Step::Error(E_VERSION)));
        let mut grease = gquic.clone();
        grease[1..5].copy_from_slice(&0x1a2a_3a4au32.to_be_bytes());
        assert_eq!(packets(&grease).next(), Some(Step::Error(E_VERSION)));
        let mut other = gquic.clone();
        other[1..5].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        assert_eq!(packets(&other).next(), None, "not QUIC: nothing to count");
        let mut negotiation = gquic;
        negotiation[1..5].fill(0);
        assert_eq!(packets(&negotiation).next(), None);
    }

    #[test]
    fn malformed_headers_are_reported_not_read() {
        let d = long(1, 0, b"12345678", b"tok", &[0; 20]);
        for cut in 1..d.len() - 20 {
            let step = packets(&d[..cut]).next();
            assert!(
                matches!(step, Some(Step::Error(E_HEADER | E_LENGTH))),
                "cut at {cut}: {step:?}"
            );
        }
        assert_eq!(
            packets(&d[..d.len() - 1]).next(),
            Some(Step::Error(E_LENGTH))
        );
        let long_cid = long(1, 0, &[7; 21], b"", &[0; 20]);
        assert_eq!(packets(&long_cid).next(), Some(Step::Error(E_CID)));
    }
}
