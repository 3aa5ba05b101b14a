//! TLS fingerprints of the hellos: JA3 and JA3S (salesforce/ja3: MD5 of a decimal string) and
//! JA4 and JA4S (FoxIO JA4 technical details: a readable prefix and truncated SHA-256 hashes).
//! Pure functions over [`ClientHello`] and [`ServerHello`]; feeds list JA3/JA3S as the MD5
//! digest and JA4/JA4S as the whole string, which is what these give.
//!
//! * JA3: `version,ciphers,extensions,groups,point_formats` — `legacy_version`, the cipher suites,
//!   extension types, `supported_groups` and `ec_point_formats` in the order sent, decimal, each
//!   list joined by `-`, GREASE values (RFC 8701) left out.
//! * JA3S: `version,cipher,extensions` of the ServerHello (the reference keeps GREASE there).
//! * JA4: `t13d1516h2_8daaf6152771_e5627efa2ab1` — transport (`t` TCP, `q` QUIC), the highest
//!   `supported_versions` entry or else `legacy_version`, `d`/`i` for a server name or none, the
//!   cipher and extension counts, the first and last characters of the first ALPN value; then
//!   the first 12 hex digits of the SHA-256 of the sorted cipher suites, and of the sorted
//!   extensions without server_name and ALPN, `_`, the signature algorithms in order. GREASE is
//!   ignored everywhere; an empty list hashes to twelve zeros.
//! * JA4S: `t1204h2_cca9_1428ce7b4018` — transport, negotiated version, extension count, ALPN
//!   chosen; the cipher suite in hex; the truncated SHA-256 of the extensions in order.

use std::fmt::Write as _;

use md5::Digest as _;

use super::tls::{
    ClientHello, EXT_ALPN, EXT_EC_POINT_FORMATS, EXT_SERVER_NAME, EXT_SIGNATURE_ALGORITHMS,
    EXT_SUPPORTED_GROUPS, EXT_SUPPORTED_VERSIONS, ServerHello,
};

/// Reason: a hello whose extensions run past their block: no fingerprint of it (a reason of
/// its own: the ClientHello's server name may have been read, or counted as an error, already).
pub const E_EXTENSIONS: &str = "tls: hello extensions unreadable, no fingerprint";

/// What carries a hello, the first character of JA4 and JA4S.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ja4Transport {
    /// TLS over TCP: `t`.
    Tcp,
    /// QUIC, whose ClientHello travels in CRYPTO frames: `q`.
    Quic,
}

impl Ja4Transport {
    fn marker(self) -> char {
        match self {
            Ja4Transport::Tcp => 't',
            Ja4Transport::Quic => 'q',
        }
    }
}

/// A GREASE value (RFC 8701): `0x?A?A` with both bytes equal.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The big-endian `u16`s of `data` (an odd last byte is not a value).
fn u16s(data: &[u8]) -> impl Iterator<Item = u16> + Clone + '_ {
    data.chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// The body of a vector with a `len`-byte length prefix (RFC 8446 §3.4), cut to the data there
/// is when the length claims more.
fn vector(data: &[u8], len: usize) -> &[u8] {
    let n = data.get(..len).map_or(0, |l| {
        l.iter().fold(0usize, |n, &b| n << 8 | usize::from(b))
    });
    data.get(len..)
        .map_or(&[], |rest| &rest[..n.min(rest.len())])
}

/// MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    sha1::Sha1::digest(data).into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// Appends `values` in decimal joined by `-`.
fn push_decimal(out: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{v}");
    }
}

/// The JA3 string of a ClientHello, appended to `out`. `Err`: its extensions are malformed
/// ([`E_EXTENSIONS`]).
pub fn ja3_string(hello: &ClientHello<'_>, out: &mut String) -> Result<(), &'static str> {
    let (mut groups, mut formats): (&[u8], &[u8]) = (&[], &[]);
    let _ = write!(out, "{},", hello.version);
    push_decimal(out, u16s(hello.cipher_suites).filter(|&c| !is_grease(c)));
    out.push(',');
    let mut first = true;
    for ext in hello.extensions() {
        let (ty, data) = ext.map_err(|_| E_EXTENSIONS)?;
        match ty {
            EXT_SUPPORTED_GROUPS => groups = vector(data, 2),
            EXT_EC_POINT_FORMATS => formats = vector(data, 1),
            _ => {}
        }
        if !is_grease(ty) {
            if !first {
                out.push('-');
            }
            first = false;
            let _ = write!(out, "{ty}");
        }
    }
    out.push(',');
    push_decimal(out, u16s(groups).filter(|&g| !is_grease(g)));
    out.push(',');
    push_decimal(out, formats.iter().map(|&f| u16::from(f)));
    Ok(())
}

/// The JA3S string of a ServerHello, appended to `out`. `Err`: its extensions are malformed.
pub fn ja3s_string(hello: &ServerHello<'_>, out: &mut String) -> Result<(), &'static str> {
    let _ = write!(out, "{},{},", hello.version, hello.cipher_suite);
    for (i, ext) in hello.extensions().enumerate() {
        let (ty, _) = ext.map_err(|_| E_EXTENSIONS)?;
        if i > 0 {
            out.push('-');
        }
        let _ = write!(out, "{ty}");
    }
    Ok(())
}

/// The JA3 fingerprint: MD5 of [`ja3_string`].
pub fn ja3(hello: &ClientHello<'_>) -> Result<[u8; 16], &'static str> {
    let mut s = String::with_capacity(256);
    ja3_string(hello, &mut s)?;
    Ok(md5(s.as_bytes()))
}

/// The JA3S fingerprint: MD5 of [`ja3s_string`].
pub fn ja3s(hello: &ServerHello<'_>) -> Result<[u8; 16], &'static str> {
    let mut s = String::with_capacity(64);
    ja3s_string(hello, &mut s)?;
    Ok(md5(s.as_bytes()))
}

/// The two characters of a TLS version in JA4.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The ALPN characters of JA4: the first and last characters of the first protocol when both
/// are ASCII letters or digits, else the first hex digit of its first byte and the last hex
/// digit of its last byte; `00` without one.
fn push_alpn(out: &mut String, alpn_ext: Option<&[u8]>) {
    let first = alpn_ext
        .map(|d| vector(d, 2))
        .map(|list| vector(list, 1))
        .filter(|p| !p.is_empty());
    match first {
        None => out.push_str("00"),
        Some(p) => {
            let (a, z) = (p[0], p[p.len() - 1]);
            if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric() {
                out.push(char::from(a));
                out.push(char::from(z));
            } else {
                let _ = write!(out, "{:x}{:x}", a >> 4, z & 0xf);
            }
        }
    }
}

/// The first 12 hex digits of the SHA-256 of `text`, or twelve zeros for an empty text.
fn push_hash12(out: &mut String, text: &str) {
    if text.is_empty() {
        out.push_str("000000000000");
        return;
    }
    for b in &sha256(text.as_bytes())[..6] {
        let _ = write!(out, "{b:02x}");
    }
}

/// `values` as 4-digit lowercase hex joined by `,`, appended to `out`.
fn push_hex_list(out: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{v:04x}");
    }
}

/// The JA4 fingerprint of a ClientHello carried by `transport`. `Err`: its extensions are
/// malformed.
pub fn ja4(hello: &ClientHello<'_>, transport: Ja4Transport) -> Result<String, &'static str> {
    let mut ciphers: Vec<u16> = u16s(hello.cipher_suites)
        .filter(|&c| !is_grease(c))
        .collect();
    let mut exts = Vec::with_capacity(24);
    let (mut versions, mut alpn, mut sigs) = (None, None, &[][..]);
    for ext in hello.extensions() {
        let (ty, data) = ext.map_err(|_| E_EXTENSIONS)?;
        if is_grease(ty) {
            continue;
        }
        exts.push(ty);
        match ty {
            EXT_SUPPORTED_VERSIONS => versions = Some(vector(data, 1)),
            EXT_ALPN => alpn = Some(data),
            EXT_SIGNATURE_ALGORITHMS => sigs = vector(data, 2),
            _ => {}
        }
    }
    let version = versions
        .and_then(|v| u16s(v).filter(|&v| !is_grease(v)).max())
        .unwrap_or(hello.version);
    let mut out = String::with_capacity(36);
    out.push(transport.marker());
    out.push_str(ja4_version(version));
    out.push(if exts.contains(&EXT_SERVER_NAME) {
        'd'
    } else {
        'i'
    });
    let _ = write!(out, "{:02}{:02}", ciphers.len().min(99), exts.len().min(99));
    push_alpn(&mut out, alpn);
    out.push('_');
    ciphers.sort_unstable();
    let mut text = String::with_capacity(512);
    push_hex_list(&mut text, ciphers.into_iter());
    push_hash12(&mut out, &text);
    out.push('_');
    exts.retain(|&e| e != EXT_SERVER_NAME && e != EXT_ALPN);
    exts.sort_unstable();
    text.clear();
    push_hex_list(&mut text, exts.iter().copied());
    let sigs = u16s(sigs).filter(|&s| !is_grease(s));
    if sigs.clone().next().is_some() {
        text.push('_');
        push_hex_list(&mut text, sigs);
    }
    push_hash12(&mut out, &text);
    Ok(out)
}

/// The JA4S fingerprint of a ServerHello carried by `transport`. `Err`: its extensions are
/// malformed.
pub fn ja4s(hello: &ServerHello<'_>, transport: Ja4Transport) -> Result<String, &'static str> {
    let mut exts = Vec::with_capacity(8);
    let mut alpn = None;
    for ext in hello.extensions() {
        let (ty, data) = ext.map_err(|_| E_EXTENSIONS)?;
        exts.push(ty);
        if ty == EXT_ALPN {
            alpn = Some(data);
        }
    }
    let mut out = String::with_capacity(25);
    out.push(transport.marker());
    out.push_str(ja4_version(hello.negotiated_version()));
    let _ = write!(out, "{:02}", exts.len().min(99));
    push_alpn(&mut out, alpn);
    let _ = write!(out, "_{:04x}_", hello.cipher_suite);
    let mut text = String::with_capacity(64);
    push_hex_list(&mut text, exts.into_iter());
    push_hash12(&mut out, &text);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packets::app::tls;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn be16s(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    /// A vector with a `len`-byte length prefix.
    fn vec_of(len: usize, body: &[u8]) -> Vec<u8> {
        let mut v = body.len().to_be_bytes()[8 - len..].to_vec();
        v.extend_from_slice(body);
        v
    }

    /// A hello message of `ty` with the given fixed part and extensions.
    fn hello(ty: u8, version: u16, middle: &[u8], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend_from_slice(&[7; 32]);
        body.push(0); // empty session id
        body.extend_from_slice(middle);
        let mut e = Vec::new();
        for (t, d) in exts {
            e.extend_from_slice(&t.to_be_bytes());
            e.extend_from_slice(&vec_of(2, d));
        }
        if !exts.is_empty() {
            body.extend_from_slice(&vec_of(2, &e));
        }
        let mut m = vec![ty];
        m.extend_from_slice(&vec_of(3, &body));
        m
    }

    fn client(version: u16, ciphers: &[u16], exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut middle = vec_of(2, &be16s(ciphers));
        middle.extend_from_slice(&[1, 0]);
        hello(1, version, &middle, exts)
    }

    /// The FoxIO JA4 example (technical details, JA4.md), with GREASE values added where
    /// Chrome puts them.
    fn foxio_client() -> Vec<u8> {
        let ciphers = [
            0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let sigs = be16s(&[
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ]);
        let mut exts: Vec<(u16, Vec<u8>)> = [
            0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ]
        .iter()
        .map(|&t| (t, Vec::new()))
        .collect();
        for (t, d) in &mut exts {
            *d = match *t {
                0x0000 => vec_of(2, &[&[0u8][..], &vec_of(2, b"example.com")].concat()),
                0x0010 => vec_of(2, &vec_of(1, b"h2")),
                0x000d => vec_of(2, &sigs),
                0x002b => vec_of(1, &be16s(&[0x2a2a, 0x0304, 0x0303])),
                0x000a => vec_of(2, &be16s(&[0x3a3a, 29, 23, 24])),
                0x000b => vec_of(1, &[0]),
                _ => Vec::new(),
            };
        }
        client(0x0303, &ciphers, &exts)
    }

    #[test]
    fn ja4_of_the_specification_example() {
        let m = foxio_client();
        let h = tls::client_hello(&m).unwrap().unwrap();
        assert_eq!(
            ja4(&h, Ja4Transport::Tcp).unwrap(),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(
            ja4(&h, Ja4Transport::Quic).unwrap(),
            "q13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(h.server_name().unwrap(), Some(&b"example.com"[..]));
    }

    #[test]
    fn ja4_without_signature_algorithms_ends_without_underscore() {
        // JA4.md: "0005,000a,…,ff01 = 6d807ffa2a79" — the example's extensions, its
        // signature_algorithms list empty. SHA-256("1301") starts 0f2cb44170f4.
        let exts: Vec<(u16, Vec<u8>)> = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ]
        .iter()
        .map(|&t| (t, Vec::new()))
        .collect();
        let m = client(0x0303, &[0x1301], &exts);
        let h = tls::client_hello(&m).unwrap().unwrap();
        // No supported version listed, no ALPN value: the legacy version and 00.
        assert_eq!(
            ja4(&h, Ja4Transport::Tcp).unwrap(),
            "t12d011600_0f2cb44170f4_6d807ffa2a79"
        );
    }

    #[test]
    fn ja4_empty_lists_hash_to_zeros() {
        let m = client(0x0300, &[], &[]);
        let h = tls::client_hello(&m).unwrap().unwrap();
        assert_eq!(
            ja4(&h, Ja4Transport::Tcp).unwrap(),
            "ts3i000000_000000000000_000000000000"
        );
    }

    #[test]
    fn ja4_alpn_characters() {
        let alpn = |p: &[u8]| {
            let m = client(0x0303, &[1], &[(0x0010, vec_of(2, &vec_of(1, p)))]);
            let h = tls::client_hello(&m).unwrap().unwrap();
            ja4(&h, Ja4Transport::Tcp).unwrap()[8..10].to_string()
        };
        // JA4.md's examples of non-alphanumeric first or last bytes.
        assert_eq!(alpn(b"http/1.1"), "h1");
        assert_eq!(alpn(b"h"), "hh");
        assert_eq!(alpn(&[0xab]), "ab");
        assert_eq!(alpn(&[0xab, 0xcd]), "ad");
        assert_eq!(alpn(&[0x30, 0xab]), "3b");
        assert_eq!(alpn(&[0x30, 0x31, 0xab, 0xcd]), "3d");
        assert_eq!(alpn(&[0x30, 0xab, 0xcd, 0x31]), "01");
        assert_eq!(alpn(b""), "00");
    }

    #[test]
    fn ja3_of_the_reference_example() {
        // salesforce/ja3 README: this string hashes to ada70206e40642a3e4461f35503241d5.
        let exts = vec![
            (
                0,
                vec_of(2, &[&[0u8][..], &vec_of(2, b"a.example")].concat()),
            ),
            (10, vec_of(2, &be16s(&[23, 24, 25]))),
            (11, vec_of(1, &[0])),
        ];
        let ciphers = [47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4];
        let m = client(0x0301, &ciphers, &exts);
        let h = tls::client_hello(&m).unwrap().unwrap();
        let mut s = String::new();
        ja3_string(&h, &mut s).unwrap();
        assert_eq!(
            s,
            "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0"
        );
        assert_eq!(hex(&ja3(&h).unwrap()), "ada70206e40642a3e4461f35503241d5");
        // GREASE is left out of every list.
        let m = foxio_client();
        let h = tls::client_hello(&m).unwrap().unwrap();
        s.clear();
        ja3_string(&h, &mut s).unwrap();
        assert!(s.starts_with("771,4865-"), "{s}");
        assert!(
            s.contains(",27-0-51-16-") && s.ends_with(",29-23-24,0"),
            "{s}"
        );
    }

    #[test]
    fn ja4s_and_ja3s_of_the_specification_example() {
        // JA4S.md: extensions 0005,0017,ff01,0000, cipher c030, TLS 1.2.
        let exts: Vec<(u16, Vec<u8>)> = [0x0005, 0x0017, 0xff01, 0x0000]
            .iter()
            .map(|&t| (t, Vec::new()))
            .collect();
        let m = hello(2, 0x0303, &[0xc0, 0x30, 0], &exts);
        let h = tls::server_hello(&m).unwrap().unwrap();
        assert_eq!(
            ja4s(&h, Ja4Transport::Tcp).unwrap(),
            "t120400_c030_4e8089b08790"
        );
        let mut s = String::new();
        ja3s_string(&h, &mut s).unwrap();
        assert_eq!(s, "771,49200,5-23-65281-0");
        assert_eq!(ja3s(&h).unwrap(), md5(s.as_bytes()));
        // TLS 1.3: the version is the one supported_versions chose.
        let m = hello(2, 0x0303, &[0x13, 0x01, 0], &[(43, be16s(&[0x0304]))]);
        let h = tls::server_hello(&m).unwrap().unwrap();
        assert!(ja4s(&h, Ja4Transport::Quic).unwrap().starts_with("q1301"));
    }

    #[test]
    fn malformed_extensions_are_an_error() {
        let mut m = client(0x0303, &[1], &[(0, vec![0; 4])]);
        let n = m.len();
        m[n - 5] = 9; // the extension's length: past its block
        let h = tls::client_hello(&m).unwrap().unwrap();
        assert_eq!(ja4(&h, Ja4Transport::Tcp), Err(E_EXTENSIONS));
        assert_eq!(ja3(&h), Err(E_EXTENSIONS));
    }

    #[test]
    fn digests_of_known_inputs() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
