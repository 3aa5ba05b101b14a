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
    data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// The body of a vector with a `len`-byte length prefix (RFC 8446 §3.4), cut to the data there
/// is when the length claims more.
fn vector(data: &[u8], len: usize) -> &[u8] {
    let n = data
        .get(..len)
        .map_or(0, |l| l.iter().fold(0usize, |n, &b| n << 8 | usize::from(b)));
    data.get(len..).map_or(&[], |rest| &rest[..n.min(rest.len())])
}

/// MD5 of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    d.as_ref().try_into().expect("SHA-1 is 20 bytes")
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    d.as_ref().try_into().expect("SHA-256 is 32 bytes")
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

/// The JA3 string of a ClientHello, appended to `out`. `Err`: its extensions are malformed.
pub fn ja3_string(hello: &ClientHello<'_>, out: &mut String) -> Result<(), &'static str> {
    let (mut groups, mut formats): (&[u8], &[u8]) = (&[], &[]);
    let _ = write!(out, "{},", hello.version);
    push_decimal(out, u16s(hello.cipher_suites).filter(|&c| !is_grease(c)));
    out.push(',');
    let mut first = true;
    for ext in hello.extensions() {
        let (ty, data) = ext?;
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
        let (ty, _) = ext?;
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
        let (ty, data) = ext?;
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
        let (ty, data) = ext?;
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
