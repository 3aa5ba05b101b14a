//! QUIC client Initial packets (RFC 9000, RFC 9001; version 2: RFC 9369): the TLS ClientHello
//! a client sends in them, decrypted and reassembled.
//!
//! A QUIC client's first flight is protected with keys anyone can derive: HKDF over the
//! Destination Connection ID of its first Initial packet with a salt fixed per version. So the
//! ClientHello — and its server name — is readable on the wire like TLS over TCP, once:
//!
//! * [`header`] finds the long-header packets of a UDP datagram (several may be coalesced in
//!   one) on any port, by header form, fixed bit and version;
//! * [`protection`] derives the client's Initial keys, removes header protection (AES-128 ECB
//!   mask) and opens the payload (AES-128-GCM), with `ring`;
//! * [`frames`] reads the frames an Initial may carry (PADDING, PING, ACK, CRYPTO,
//!   CONNECTION_CLOSE) and hands on the CRYPTO data;
//! * [`hello`] reassembles CRYPTO data by offset — a post-quantum ClientHello spans two or more
//!   Initial packets, which may arrive out of order, and one packet may carry its pieces out of
//!   order — until the ClientHello handshake message is whole;
//! * [`connections`] keeps that state per UDP flow, bounded, and reports each complete
//!   ClientHello once as [`Event::ClientHello`]: the whole handshake message, which
//!   [`super::tls::handshake_sni`] reads as it reads one from TCP.
//!
//! Only the client's Initials are read: the server's are protected with the server's secret,
//! and the client's later packets with keys negotiated in the handshake. Versions read: 1, 2 and
//! the IETF drafts 23 to 34; Google QUIC and other versions are counted, not read. Nothing is
//! lost silently: every packet not read and every piece of state dropped is counted by reason
//! (the `E_*` constants) or in [`connections::QuicStats`].

pub mod connections;
pub mod frames;
pub mod header;
pub mod hello;
pub mod protection;

pub use connections::{Connections, QuicLimits, QuicStats};

/// Reason: a long header cut short (connection IDs, token or length past the datagram).
pub const E_HEADER: &str = "quic: long header cut short";
/// Reason: a connection ID longer than 20 bytes in a version that allows at most 20.
pub const E_CID: &str = "quic: connection id longer than 20 bytes";
/// Reason: a packet's Length runs past the end of its datagram.
pub const E_LENGTH: &str = "quic: packet length past the datagram";
/// Reason: a packet too short to hold the 16-byte header-protection sample.
pub const E_SAMPLE: &str = "quic: packet too short for header protection";
/// Reason: an Initial whose AEAD tag does not verify under the client's Initial keys: the
/// server's (it is checked only when which side is the client is not known yet), damaged, or
/// not QUIC.
pub const E_DECRYPT: &str = "quic: initial not authenticated";
/// Reason: a Google QUIC packet (version `Qnnn`/`Tnnn`): its crypto handshake is not read.
pub const E_GQUIC: &str = "quic: google quic not read";
/// Reason: a long header of a QUIC version whose Initial keys are not known (an old draft, a
/// vendor version, a reserved version sent to force version negotiation).
pub const E_VERSION: &str = "quic: version not read";
/// Reason: a frame cut short or with an impossible length.
pub const E_FRAME: &str = "quic: malformed frame";
/// Reason: a frame type RFC 9000 §12.4 does not allow in an Initial packet.
pub const E_FRAME_TYPE: &str = "quic: frame type not allowed in an initial";
/// Reason: CRYPTO data past [`hello::MAX_CRYPTO`] bytes of the stream.
pub const E_CRYPTO_LIMIT: &str = "quic: crypto data past the limit";
/// Reason: CRYPTO data in more disjoint pieces than [`hello::MAX_PIECES`].
pub const E_PIECES: &str = "quic: crypto data in too many pieces";
/// Reason: the first handshake message of the client's CRYPTO stream is not a ClientHello.
pub const E_NOT_HELLO: &str = "quic: first handshake message not a client hello";
/// Reason: the ClientHello was not complete after [`connections::MAX_INITIALS`] Initials.
pub const E_INITIALS: &str = "quic: client hello not complete within the initials read";
/// Reason: a connection was dropped (idle, over the table's bounds, or its capture ended)
/// while its ClientHello was incomplete.
pub const E_INCOMPLETE: &str = "quic: client hello incomplete when dropped";

/// What reading a datagram found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// One complete ClientHello handshake message (type, 3-byte length, body) from a client's
    /// Initial packets: what [`super::tls::handshake_sni`] reads (and TLS fingerprints, for
    /// which QUIC is transport `q`).
    ClientHello(&'a [u8]),
    /// A packet or state not read, by reason (the `E_*` constants).
    Error(&'static str),
}

/// Whether a UDP payload may start with a QUIC long header: a cheap test (two bits of the first
/// byte) that keeps the rest of this module off other UDP traffic.
pub fn may_be_long_header(payload: &[u8]) -> bool {
    matches!(payload, [first, _, _, _, _, _, ..] if first & 0xc0 == 0xc0)
}

/// Reads a variable-length integer (RFC 9000 §16) at `*pos`, advancing it.
pub(crate) fn varint(b: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *b.get(*pos)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(*pos..pos.checked_add(len)?)?;
    let mut v = u64::from(first & 0x3f);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    *pos += len;
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_every_length_as_rfc_9000_appendix_a_1_gives_them() {
        for (hex, value, len) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652, 8),
            ("9d7f3e7d", 494_878_333, 4),
            ("7bbd", 15_293, 2),
            ("25", 37, 1),
            ("4025", 37, 2),
        ] {
            let b: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let mut pos = 0;
            assert_eq!(varint(&b, &mut pos), Some(value), "{hex}");
            assert_eq!(pos, len);
            let mut pos = 0;
            assert_eq!(varint(&b[..len - 1], &mut pos), None, "{hex} cut");
        }
    }

    #[test]
    fn only_long_headers_are_looked_at() {
        assert!(may_be_long_header(&[0xc3, 0, 0, 0, 1, 8]));
        assert!(!may_be_long_header(&[0x43, 0, 0, 0, 1, 8]), "short header");
        assert!(
            !may_be_long_header(&[0x83, 0, 0, 0, 1, 8]),
            "fixed bit clear"
        );
        assert!(!may_be_long_header(&[0xc3, 0, 0, 0, 1]), "too short");
    }
}
