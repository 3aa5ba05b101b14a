//! QUIC client Initial packets as a client sends them (RFC 9000 §17.2.2), protected with the
//! client's Initial keys (RFC 9001 §5; version 2: RFC 9369 §3.3), for tests and benchmarks: a
//! ClientHello cut into CRYPTO frames in any order, over one or several Initials.
//!
//! This is the sending side, written separately from trawl's reader (it shares only `ring`'s
//! primitives), so that a test of one against the other, and tshark reading what this writes,
//! prove both.

use ring::aead::quic::{AES_128, HeaderProtectionKey};
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Prk, Salt};

/// QUIC version 1.
pub const V1: u32 = 1;
/// QUIC version 2.
pub const V2: u32 = 0x6b33_43cf;
/// IETF draft 29 (what Chrome spoke as `h3-29`).
pub const DRAFT_29: u32 = 0xff00_001d;
/// IETF draft 27.
pub const DRAFT_27: u32 = 0xff00_001b;

/// The Initial salt and the key, IV and header-protection labels of `version`.
fn parameters(version: u32) -> ([u8; 20], [&'static [u8]; 3]) {
    let v1_labels: [&[u8]; 3] = [b"quic key", b"quic iv", b"quic hp"];
    let salt = match version {
        V1 => "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
        V2 => {
            let salt = "0dede3def700a6db819381be6e269dcbf9bd2ed9";
            return (unhex(salt), [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"]);
        }
        0xff00_001d..=0xff00_0020 => "afbfec289993d24c9e9786f19c6111e04390a899",
        0xff00_0017..=0xff00_001c => "c3eef712c72ebb5a11a7d2432bb46365bef9f502",
        _ => panic!("no Initial salt for version {version:#x}"),
    };
    (unhex(salt), v1_labels)
}

fn unhex<const N: usize>(s: &str) -> [u8; N] {
    let mut out = [0; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand_label<const N: usize>(prk: &Prk, label: &[u8]) -> [u8; N] {
    let full: Vec<u8> = [&b"tls13 "[..], label].concat();
    let info: [&[u8]; 4] = [&(N as u16).to_be_bytes(), &[full.len() as u8], &full, &[0]];
    let mut out = [0; N];
    prk.expand(&info, Len(N))
        .and_then(|okm| okm.fill(&mut out))
        .expect("HKDF output length");
    out
}

/// Appends a variable-length integer (RFC 9000 §16) in its shortest form.
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=0x3f => out.push(v as u8),
        0x40..=0x3fff => out.extend_from_slice(&(0x4000 | v as u16).to_be_bytes()),
        0x4000..=0x3fff_ffff => out.extend_from_slice(&(0x8000_0000 | v as u32).to_be_bytes()),
        _ => out.extend_from_slice(&(0xc000_0000_0000_0000 | v).to_be_bytes()),
    }
}

/// Appends a CRYPTO frame carrying `data` at stream `offset`.
pub fn crypto_frame(out: &mut Vec<u8>, offset: u64, data: &[u8]) {
    out.push(0x06);
    put_varint(out, offset);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

/// One protected client Initial packet of `version` to `dcid` from `scid` (no token), packet
/// number `pn` in 4 bytes, carrying `frames` followed by PADDING up to `min_len` bytes of
/// packet (1200 for a datagram of its own: RFC 9000 §14.1).
pub fn client_initial(
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    pn: u32,
    frames: &[u8],
    min_len: usize,
) -> Vec<u8> {
    client_initial_keyed(version, dcid, dcid, scid, pn, frames, min_len)
}

/// [`client_initial`] sent to `dcid` but protected with the keys of `keys_dcid`: what a client
/// sends once the server's first Initial gave it the server's connection ID (RFC 9001 §5.2:
/// the Initial keys stay those of the client's first Destination Connection ID).
pub fn client_initial_keyed(
    version: u32,
    keys_dcid: &[u8],
    dcid: &[u8],
    scid: &[u8],
    pn: u32,
    frames: &[u8],
    min_len: usize,
) -> Vec<u8> {
    let (salt, [key_label, iv_label, hp_label]) = parameters(version);
    let initial = Salt::new(HKDF_SHA256, &salt).extract(keys_dcid);
    let secret: [u8; 32] = expand_label(&initial, b"client in");
    let client = Prk::new_less_safe(HKDF_SHA256, &secret);
    let key: [u8; 16] = expand_label(&client, key_label);
    let iv: [u8; 12] = expand_label(&client, iv_label);
    let hp: [u8; 16] = expand_label(&client, hp_label);

    // Initial type bits: 0 in version 1 and the drafts, 1 in version 2; 4-byte packet number.
    let ty: u8 = if version == V2 { 1 } else { 0 };
    let mut packet = vec![0xc0 | (ty << 4) | 3];
    packet.extend_from_slice(&version.to_be_bytes());
    packet.push(dcid.len() as u8);
    packet.extend_from_slice(dcid);
    packet.push(scid.len() as u8);
    packet.extend_from_slice(scid);
    packet.push(0); // token length
    // Length: packet number, payload and tag, in 2 bytes (the payload is under 16 KiB).
    let header_len = packet.len() + 2 + 4;
    let payload_len = frames.len().max(min_len.saturating_sub(header_len + 16));
    packet.extend_from_slice(&(0x4000 | (4 + payload_len + 16) as u16).to_be_bytes());
    let pn_offset = packet.len();
    packet.extend_from_slice(&pn.to_be_bytes());
    let mut payload = frames.to_vec();
    payload.resize(payload_len, 0);

    let mut nonce = iv;
    for (n, p) in nonce[4..].iter_mut().zip(u64::from(pn).to_be_bytes()) {
        *n ^= p;
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).expect("key"));
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(&packet[..]),
        &mut payload,
    )
    .expect("seal");
    packet.extend_from_slice(&payload);

    let hp = HeaderProtectionKey::new(&AES_128, &hp).expect("hp key");
    let mask = hp
        .new_mask(&packet[pn_offset + 4..pn_offset + 20])
        .expect("sample");
    packet[0] ^= mask[0] & 0x0f;
    for i in 0..4 {
        packet[pn_offset + i] ^= mask[1 + i];
    }
    packet
}

/// A client's first flight: the ClientHello handshake message `hello` (no record header) cut
/// at `cuts` into CRYPTO frames, frame `i` placed in packet `packet_of[i]` (frames in one packet
/// in the order given). Gives one protected Initial per packet, packet `k` with packet number
/// `k`, each padded to 1200 bytes: the datagrams in packet-number order.
pub fn client_hello_flight(
    version: u32,
    dcid: &[u8],
    scid: &[u8],
    hello: &[u8],
    cuts: &[usize],
    packet_of: &[usize],
) -> Vec<Vec<u8>> {
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(cuts.iter().copied())
        .chain(std::iter::once(hello.len()))
        .collect();
    assert_eq!(bounds.len() - 1, packet_of.len(), "one packet per piece");
    let packets = packet_of.iter().max().map_or(0, |m| m + 1);
    let mut frames = vec![Vec::new(); packets];
    for (i, w) in bounds.windows(2).enumerate() {
        crypto_frame(&mut frames[packet_of[i]], w[0] as u64, &hello[w[0]..w[1]]);
    }
    frames
        .iter()
        .enumerate()
        .map(|(k, f)| client_initial(version, dcid, scid, k as u32, f, 1200))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 A.2: the sample ClientHello to `8394c8f03e515708`, packet number 2, padded to
    /// 1200 bytes, protects to the bytes the RFC lists (its first and last 16 here).
    #[test]
    fn rfc_9001_a2_sample_protects_to_the_listed_bytes() {
        let crypto: Vec<u8> = (0..490)
            .step_by(2)
            .map(|i| u8::from_str_radix(&A2_CRYPTO[i..i + 2], 16).unwrap())
            .collect();
        let dcid = unhex::<8>("8394c8f03e515708");
        let p = client_initial(V1, &dcid, &[], 2, &crypto, 1200);
        assert_eq!(p.len(), 1200);
        assert_eq!(crate::hex(&p[..16]), "c000000001088394c8f03e5157080000");
        assert_eq!(crate::hex(&p[16..22]), "449e7b9aec34");
        assert_eq!(crate::hex(&p[1184..]), "e221af44860018ab0856972e194cd934");
    }

    const A2_CRYPTO: &str = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff";
}
