//! Initial packet protection (RFC 9001 §5; version 2: RFC 9369 §3.3): the client's Initial
//! secret derived from the Destination Connection ID, header protection (an AES-128 ECB mask
//! over a sample of the ciphertext) and the AES-128-GCM payload.
//!
//! The primitives are `ring`'s (HKDF-SHA256, AES-128-GCM, the QUIC header-protection mask):
//! a well-kept crate that rustls already brings in; nothing cryptographic is written here.

use ring::aead::quic::{AES_128, HeaderProtectionKey};
use ring::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, KeyType, Prk, Salt};

use super::{E_DECRYPT, E_SAMPLE};

/// A QUIC version whose Initial keys are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// Version 1 (RFC 9000), and drafts 33 and 34, which use its salt.
    V1,
    /// Version 2 (RFC 9369).
    V2,
    /// Drafts 29 to 32.
    Draft29,
    /// Drafts 23 to 28.
    Draft23,
}

impl Version {
    /// The version of a long header's version field, when its keys are known.
    pub fn from_wire(v: u32) -> Option<Version> {
        match v {
            0x0000_0001 | 0xff00_0021 | 0xff00_0022 => Some(Version::V1),
            0x6b33_43cf => Some(Version::V2),
            0xff00_001d..=0xff00_0020 => Some(Version::Draft29),
            0xff00_0017..=0xff00_001c => Some(Version::Draft23),
            _ => None,
        }
    }

    /// The salt of the Initial secret.
    fn salt(self) -> &'static [u8; 20] {
        match self {
            // RFC 9001 §5.2.
            Version::V1 => {
                b"\x38\x76\x2c\xf7\xf5\x59\x34\xb3\x4d\x17\x9a\xe6\xa4\xc8\x0c\xad\xcc\xbb\x7f\x0a"
            }
            // RFC 9369 §3.3.1.
            Version::V2 => {
                b"\x0d\xed\xe3\xde\xf7\x00\xa6\xdb\x81\x93\x81\xbe\x6e\x26\x9d\xcb\xf9\xbd\x2e\xd9"
            }
            // draft-ietf-quic-tls-29 §5.2 (drafts 29 to 32).
            Version::Draft29 => {
                b"\xaf\xbf\xec\x28\x99\x93\xd2\x4c\x9e\x97\x86\xf1\x9c\x61\x11\xe0\x43\x90\xa8\x99"
            }
            // draft-ietf-quic-tls-23 §5.2 (drafts 23 to 28).
            Version::Draft23 => {
                b"\xc3\xee\xf7\x12\xc7\x2e\xbb\x5a\x11\xa7\xd2\x43\x2b\xb4\x63\x65\xbe\xf5\xf5\x02"
            }
        }
    }

    /// The HKDF labels of the packet key, IV and header-protection key.
    fn labels(self) -> [&'static [u8]; 3] {
        match self {
            Version::V2 => [b"quicv2 key", b"quicv2 iv", b"quicv2 hp"],
            _ => [b"quic key", b"quic iv", b"quic hp"],
        }
    }
}

/// The client's Initial keys as bytes (what RFC 9001 Appendix A lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secrets {
    /// The client's Initial secret.
    pub secret: [u8; 32],
    /// The AES-128-GCM key.
    pub key: [u8; 16],
    /// The IV the packet number is XORed into.
    pub iv: [u8; 12],
    /// The header-protection key.
    pub hp: [u8; 16],
}

/// An output length for HKDF-Expand.
struct Len(usize);

impl KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, into `out`.
fn expand_label(prk: &Prk, label: &[u8], out: &mut [u8]) {
    let len = (out.len() as u16).to_be_bytes();
    let label_len = [(b"tls13 ".len() + label.len()) as u8];
    let info: [&[u8]; 5] = [&len, &label_len, b"tls13 ", label, &[0]];
    prk.expand(&info, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF-SHA256 outputs of at most 32 bytes");
}

/// The client's Initial secret and keys for a connection whose client chose `dcid` as the
/// Destination Connection ID of its first Initial.
pub fn client_initial_secrets(version: Version, dcid: &[u8]) -> Secrets {
    let initial = Salt::new(HKDF_SHA256, version.salt()).extract(dcid);
    let mut s = Secrets {
        secret: [0; 32],
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&initial, b"client in", &mut s.secret);
    let client = Prk::new_less_safe(HKDF_SHA256, &s.secret);
    let [key, iv, hp] = version.labels();
    expand_label(&client, key, &mut s.key);
    expand_label(&client, iv, &mut s.iv);
    expand_label(&client, hp, &mut s.hp);
    s
}

/// Opens packets protected with one set of Initial keys.
pub struct Opener {
    key: LessSafeKey,
    iv: [u8; 12],
    hp: HeaderProtectionKey,
}

impl Opener {
    /// An opener for the client's Initial packets of `version` under `dcid`.
    pub fn client(version: Version, dcid: &[u8]) -> Opener {
        Opener::new(&client_initial_secrets(version, dcid))
    }

    /// An opener with the given keys.
    pub fn new(s: &Secrets) -> Opener {
        let key = UnboundKey::new(&AES_128_GCM, &s.key).expect("a 16-byte AES-128 key");
        let hp = HeaderProtectionKey::new(&AES_128, &s.hp).expect("a 16-byte AES-128 key");
        Opener {
            key: LessSafeKey::new(key),
            iv: s.iv,
            hp,
        }
    }

    /// Removes the header protection and the AEAD of one long-header packet, in place:
    /// `packet` is a copy of the whole packet, its packet number at `pn_offset`; `expected` is
    /// the packet number expected next (one more than the largest seen; 0 at first), from
    /// which the full number is recovered (RFC 9000 §17.1). Gives the packet number and the
    /// plaintext payload (the frames), or [`E_SAMPLE`] or [`E_DECRYPT`].
    pub fn open<'p>(
        &self,
        packet: &'p mut [u8],
        pn_offset: usize,
        expected: u64,
    ) -> Result<(u64, &'p mut [u8]), &'static str> {
        // The sample starts 4 bytes after the packet number's start, whatever its length.
        let sample = pn_offset
            .checked_add(4)
            .and_then(|s| packet.get(s..s + 16))
            .ok_or(E_SAMPLE)?;
        let mask = self.hp.new_mask(sample).map_err(|_| E_SAMPLE)?;
        packet[0] ^= mask[0] & 0x0f; // long header: reserved bits and packet number length
        let pn_len = usize::from(packet[0] & 3) + 1;
        let mut truncated = 0u64;
        for (i, m) in mask[1..=pn_len].iter().enumerate() {
            packet[pn_offset + i] ^= m;
            truncated = (truncated << 8) | u64::from(packet[pn_offset + i]);
        }
        let pn = decode_packet_number(expected, truncated, pn_len * 8);
        let mut nonce = self.iv;
        for (n, p) in nonce[4..].iter_mut().zip(pn.to_be_bytes()) {
            *n ^= p;
        }
        let (header, body) = packet.split_at_mut(pn_offset + pn_len);
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&header[..]),
                body,
            )
            .map_err(|_| E_DECRYPT)?;
        Ok((pn, plain))
    }
}

/// The full packet number closest to `expected` whose low `bits` bits are `truncated`
/// (RFC 9000 Appendix A.3).
fn decode_packet_number(expected: u64, truncated: u64, bits: usize) -> u64 {
    let win = 1u64 << bits;
    let half = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate.saturating_add(half) <= expected && candidate < (1 << 62) - win {
        candidate + win
    } else if candidate > expected.saturating_add(half) && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const DCID: &str = "8394c8f03e515708";

    /// The client's first Initial of RFC 9001 A.2 / RFC 9369 A.2 (the same ClientHello for
    /// `example.com`), before protection: a CRYPTO frame, then PADDING to 1162 bytes.
    fn a2_frames() -> Vec<u8> {
        let mut f = hex(
            "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868
             04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578
             616d706c652e636f6dff01000100000a00080006001d00170018001000070005
             04616c706e000500050100000000003300260024001d00209370b2c9caa47fba
             baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400
             0d0010000e0403050306030203080408050806002d00020101001c0002400100
             3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000
             75300901100f088394c8f03e51570806048000ffff",
        );
        f.resize(1162, 0);
        f
    }

    #[test]
    fn rfc_9001_a1_keys() {
        let s = client_initial_secrets(Version::V1, &hex(DCID));
        assert_eq!(
            s.secret.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
        );
        assert_eq!(s.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(s.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(s.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    #[test]
    fn rfc_9369_a1_keys() {
        let s = client_initial_secrets(Version::V2, &hex(DCID));
        assert_eq!(
            s.secret.to_vec(),
            hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
        );
        assert_eq!(s.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(s.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(s.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    }

    /// RFC 9001 A.2 and RFC 9369 A.2: the protected client Initial opens to the unprotected
    /// header (packet number 2 in 4 bytes) and the frames.
    #[test]
    fn rfc_9001_and_9369_a2_client_initials_open() {
        for (version, file, header) in [
            (
                Version::V1,
                &include_bytes!("../../../../testdata/payloads/quic-rfc9001-client-initial.bin")[..],
                "c300000001088394c8f03e5157080000449e00000002",
            ),
            (
                Version::V2,
                &include_bytes!("../../../../testdata/payloads/quic-rfc9369-client-initial.bin")[..],
                "d36b3343cf088394c8f03e5157080000449e00000002",
            ),
        ] {
            assert_eq!(file.len(), 1200);
            let mut packet = file.to_vec();
            let opener = Opener::client(version, &hex(DCID));
            let (pn, plain) = opener.open(&mut packet, 18, 0).unwrap();
            assert_eq!(pn, 2);
            assert_eq!(plain.to_vec(), a2_frames(), "{version:?}");
            assert_eq!(packet[..22].to_vec(), hex(header), "{version:?}");
        }
    }

    /// RFC 9001 A.3: the server's Initial does not open with the client's keys.
    #[test]
    fn the_servers_initial_does_not_open_with_the_clients_keys() {
        let mut server = hex(
            "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a
             5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3
             dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84
             022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4
             2158407dd074ee",
        );
        let opener = Opener::client(Version::V1, &hex("f067a5502a4262b5"));
        assert_eq!(opener.open(&mut server, 18, 0).err(), Some(E_DECRYPT));
    }

    #[test]
    fn a_damaged_or_short_initial_is_refused() {
        let file = include_bytes!("../../../../testdata/payloads/quic-rfc9001-client-initial.bin");
        let opener = Opener::client(Version::V1, &hex(DCID));
        for at in [0, 17, 18, 30, 600, 1199] {
            let mut p = file.to_vec();
            p[at] ^= 0x40;
            assert_eq!(opener.open(&mut p, 18, 0).err(), Some(E_DECRYPT), "{at}");
        }
        let mut short = file[..37].to_vec();
        assert_eq!(opener.open(&mut short, 18, 0).err(), Some(E_SAMPLE));
    }

    #[test]
    fn packet_numbers_are_recovered_as_rfc_9000_a3_says() {
        assert_eq!(decode_packet_number(0xa82f30eb, 0x9b32, 16), 0xa82f9b32);
        assert_eq!(decode_packet_number(0, 2, 32), 2);
        assert_eq!(decode_packet_number(250, 3, 8), 259);
        assert_eq!(decode_packet_number(5, 250, 8), 250);
    }
}
