//! Canonical forms: one function per indicator kind, plus kind auto-detection.
//!
//! | kind | canonical form |
//! |---|---|
//! | ipv4 / ipv6 | address or CIDR via `ipnet`; host bits cleared (reported); IPv4-mapped IPv6 becomes IPv4; `/0` refused |
//! | domain | lowercase, trailing dot removed, IDNA → A-labels, labels of `[a-z0-9_-]` 1–63 bytes, at least two labels, ≤ 253 bytes; a leading `*.` or `.` is dropped (the subdomain rule already covers it) |
//! | url | scheme and host lowercased, host IDNA, default port dropped, fragment dropped, empty path becomes `/`, path and query kept byte for byte; a URL without a scheme stays schemeless (it then matches as a substring) |
//! | email | whole address lowercased, domain part valid as a domain |
//! | md5 / sha1 / sha256 / sha512 | hex of 32/40/64/128 digits, stored raw; the length gives the kind |
//! | http-request | the literal as given (at least [`MIN_LITERAL_LEN`] bytes) |
//!
//! The same functions canonicalise observed values at lookup time, so an indicator and the
//! traffic that shows it meet in one form.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};

use crate::indicators::model::{Kind, Value};

/// Shortest literal accepted for substring matching (URL substrings, HTTP-request literals):
/// shorter ones would fire on almost any request.
pub const MIN_LITERAL_LEN: usize = 4;

/// Why a value was refused. [`Reject::reason`] is the stable name used in compile reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    /// Nothing left after trimming.
    Empty,
    /// Not a valid IPv4/IPv6 address or CIDR.
    BadIp,
    /// A `/0` prefix: it would match every address.
    ZeroPrefix,
    /// An `address:port` pair; trawl does not widen it to the whole address.
    IpPort,
    /// Not a valid DNS name.
    BadDomain,
    /// A name with one label (a TLD); the subdomain rule would match a whole TLD.
    SingleLabel,
    /// Not a URL trawl can canonicalise.
    BadUrl,
    /// Not a valid addr-spec.
    BadEmail,
    /// Hex of the wrong length or with non-hex digits.
    BadHash,
    /// A substring literal shorter than [`MIN_LITERAL_LEN`].
    TooShort,
    /// The kind could not be recognised.
    Unrecognised,
    /// The value was given with an explicit kind it does not have.
    KindMismatch,
    /// Not a certificate fingerprint or JA3/JA4 value of the stated kind.
    BadFingerprint,
}

impl Reject {
    /// Stable, report-friendly name.
    pub fn reason(self) -> &'static str {
        match self {
            Reject::Empty => "empty value",
            Reject::BadIp => "invalid IP address or CIDR",
            Reject::ZeroPrefix => "/0 prefix (would match every address)",
            Reject::IpPort => "address:port (not widened to the whole address)",
            Reject::BadDomain => "invalid domain name",
            Reject::SingleLabel => "single-label domain (would match a whole TLD)",
            Reject::BadUrl => "invalid URL",
            Reject::BadEmail => "invalid email address",
            Reject::BadHash => "invalid hash (hex of 32, 40, 64 or 128 digits)",
            Reject::TooShort => "literal too short for substring matching",
            Reject::Unrecognised => "unrecognised value",
            Reject::KindMismatch => "value does not have the stated kind",
            Reject::BadFingerprint => "invalid certificate or TLS fingerprint for its kind",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// A canonical value plus what normalisation had to change that a report should mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    /// The canonical value.
    pub value: Value,
    /// A CIDR had host bits set; they were cleared (`10.1.2.3/8` → `10.0.0.0/8`).
    pub host_bits_cleared: bool,
}

impl From<Value> for Normalized {
    fn from(value: Value) -> Self {
        Normalized {
            value,
            host_bits_cleared: false,
        }
    }
}

/// Canonicalises `raw` as an indicator of `kind`. For [`Kind::Ipv4`] and [`Kind::Ipv6`] the
/// address family comes from the value; an IPv4-mapped IPv6 value becomes IPv4.
pub fn value(kind: Kind, raw: &str) -> Result<Normalized, Reject> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Reject::Empty);
    }
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => ip(raw).map(|(net, host_bits_cleared)| Normalized {
            value: Value::Net(net),
            host_bits_cleared,
        }),
        Kind::Domain => domain(raw).map(|d| Value::Domain(d).into()),
        Kind::Url => url(raw).map(|u| Value::Url(u).into()),
        Kind::Email => email(raw).map(|e| Value::Email(e).into()),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
            let digest = hash(raw)?;
            if Kind::hash_for_len(digest.len()) != Some(kind) {
                return Err(Reject::KindMismatch);
            }
            Ok(Value::Hash(digest).into())
        }
        Kind::HttpRequest => http_request(raw).map(|s| Value::HttpRequest(s).into()),
        Kind::X509Md5
        | Kind::X509Sha1
        | Kind::X509Sha256
        | Kind::Ja3
        | Kind::Ja3s
        | Kind::Ja4
        | Kind::Ja4s => fingerprint(kind, raw).map(|v| Value::Fingerprint(kind, v).into()),
    }
}

/// Canonicalises a fingerprint of one of [`Kind::FINGERPRINTS`]: for a digest kind, the raw
/// digest from hex in either case, with or without `:` between bytes (`AB:CD:…`, as
/// certificate tools print it); for JA4/JA4S, the text with its hex parts lowercased, after
/// checking its shape (FoxIO JA4 specification): JA4 `a_b_c` with `a` ten characters (`t`,
/// `q` or `d`, a two-character version, `d` or `i`, two-digit cipher and extension counts,
/// two ALPN characters) and `b`, `c` twelve hex digits; JA4S `a_b_c` with `a` seven
/// characters (protocol, version, two-digit extension count, ALPN), `b` four and `c` twelve
/// hex digits.
pub fn fingerprint(kind: Kind, raw: &str) -> Result<Vec<u8>, Reject> {
    let raw = raw.trim();
    if let Some(len) = kind.digest_len() {
        let colons = raw.bytes().filter(|&b| b == b':').count();
        let hex: Vec<u8> = raw.bytes().filter(|&b| b != b':').collect();
        // Colons go between every byte or nowhere.
        if hex.len() != 2 * len || (colons != 0 && colons != len - 1) {
            return Err(Reject::BadFingerprint);
        }
        if colons != 0
            && raw
                .as_bytes()
                .chunks(3)
                .any(|c| c.len() == 3 && c[2] != b':')
        {
            return Err(Reject::BadFingerprint);
        }
        return hex
            .chunks_exact(2)
            .map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or(Reject::BadFingerprint);
    }
    let (a_len, b_len) = match kind {
        Kind::Ja4 => (10, 12),
        Kind::Ja4s => (7, 4),
        _ => return Err(Reject::KindMismatch),
    };
    let parts: Vec<&str> = raw.split('_').collect();
    let [a, b, c] = parts[..] else {
        return Err(Reject::BadFingerprint);
    };
    let digits = |s: &str| s.bytes().all(|d| d.is_ascii_digit());
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|d| d.is_ascii_hexdigit());
    let a_ok = a.len() == a_len
        && a.is_ascii()
        && matches!(a.as_bytes()[0], b't' | b'q' | b'd')
        && a[1..3].bytes().all(|d| d.is_ascii_alphanumeric())
        && if kind == Kind::Ja4 {
            matches!(a.as_bytes()[3], b'd' | b'i') && digits(&a[4..8])
        } else {
            digits(&a[3..5])
        }
        && a[a_len - 2..].bytes().all(|d| d.is_ascii_alphanumeric());
    if !a_ok || !hex(b, b_len) || !hex(c, 12) {
        return Err(Reject::BadFingerprint);
    }
    Ok(format!("{a}_{}_{}", b.to_ascii_lowercase(), c.to_ascii_lowercase()).into_bytes())
}

/// Recognises the kind of `raw` and canonicalises it. Order: URL (with a scheme, or with `://`
/// inside its path), IP/CIDR, hash, `ip:port` (refused), URI path (`/…` → http-request),
/// schemeless URL (`host/path`), email, domain.
pub fn detect(raw: &str) -> Result<Normalized, Reject> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Reject::Empty);
    }
    if raw.contains("://") {
        return value(Kind::Url, raw);
    }
    if raw
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'))
    {
        if let Ok(n) = value(Kind::Ipv4, raw) {
            return Ok(n);
        }
        if let Ok(d) = hash(raw) {
            return Ok(Value::Hash(d).into());
        }
    }
    if looks_like_ip_port(raw) {
        return Err(Reject::IpPort);
    }
    // A `/` makes a path or a URL before an `@` makes an email: `@` is common in paths
    // (`cdn.jsdelivr.net/gh/user/repo@master/x.js`, maltrail's `/@eaDir/`) and an addr-spec
    // in a feed never holds a `/`.
    if raw.starts_with('/') {
        return value(Kind::HttpRequest, raw);
    }
    if raw.contains('/') {
        return value(Kind::Url, raw);
    }
    if raw.contains('@') {
        return value(Kind::Email, raw);
    }
    match domain(raw) {
        Ok(d) => Ok(Value::Domain(d).into()),
        Err(Reject::BadDomain) if raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Err(Reject::BadIp)
        }
        Err(e) => Err(e),
    }
}

fn looks_like_ip_port(raw: &str) -> bool {
    let Some((host, port)) = raw.rsplit_once(':') else {
        return false;
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && host.parse::<IpAddr>().is_ok()
}

/// Parses an address or CIDR. Returns the canonical network and whether host bits were cleared.
pub fn ip(raw: &str) -> Result<(IpNet, bool), Reject> {
    let raw = raw.trim();
    let net = if raw.contains('/') {
        raw.parse::<IpNet>().map_err(|_| Reject::BadIp)?
    } else {
        IpNet::from(raw.parse::<IpAddr>().map_err(|_| Reject::BadIp)?)
    };
    let net = unmap_net(net);
    if net.prefix_len() == 0 {
        return Err(Reject::ZeroPrefix);
    }
    let trunc = net.trunc();
    Ok((trunc, trunc != net))
}

/// An IPv4-mapped IPv6 network (`::ffff:a.b.c.d/n`, n ≥ 96) as the IPv4 network it maps.
pub(crate) fn unmap_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        if let Some(v4) = v6.addr().to_ipv4_mapped() {
            if v6.prefix_len() >= 96 {
                if let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96) {
                    return IpNet::V4(n);
                }
            }
        }
    }
    net
}

/// An IPv4-mapped IPv6 address as the IPv4 address it maps; other addresses unchanged.
#[inline]
pub fn unmap_addr(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => addr,
        },
        v4 => v4,
    }
}

/// Canonicalises a domain name (see the module table).
pub fn domain(raw: &str) -> Result<String, Reject> {
    let mut s = raw.trim();
    s = s.strip_suffix('.').unwrap_or(s);
    s = s.strip_prefix("*.").unwrap_or(s);
    s = s.strip_prefix('.').unwrap_or(s);
    if s.is_empty() {
        return Err(Reject::BadDomain);
    }
    let ascii = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(s).map_err(|_| Reject::BadDomain)?
    };
    validate_domain(&ascii)?;
    Ok(ascii)
}

/// Checks a lowercase ASCII name against the label rules.
fn validate_domain(name: &str) -> Result<(), Reject> {
    if name.is_empty() || name.len() > 253 {
        return Err(Reject::BadDomain);
    }
    let mut labels = 0;
    let mut last = "";
    for label in name.split('.') {
        if label.is_empty()
            || label.len() > 63
            || !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(Reject::BadDomain);
        }
        labels += 1;
        last = label;
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reject::BadDomain);
    }
    if labels < 2 {
        return Err(Reject::SingleLabel);
    }
    Ok(())
}

/// Whether `raw` is certainly a URL already in canonical form ([`url()`] would return it
/// unchanged): a lowercase `http`/`https` scheme, a host of lowercase letters, digits, `-` and
/// `_` in valid labels (no port, no user info, not starting with a digit), then `/` and a path
/// with no fragment, space or control byte. Checked in one pass, so that log scans can skip
/// canonicalising the common case; `false` only means "canonicalise to find out".
pub(crate) fn url_is_canonical(raw: &[u8]) -> bool {
    let rest = if let Some(r) = raw.strip_prefix(b"http://") {
        r
    } else if let Some(r) = raw.strip_prefix(b"https://") {
        r
    } else {
        return false;
    };
    let Some(host_len) = rest.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (host, path) = rest.split_at(host_len);
    if host.is_empty() || host.len() > 253 || host[0].is_ascii_digit() {
        return false;
    }
    let mut label = 0usize;
    for &b in host {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => label += 1,
            b'.' if label > 0 => label = 0,
            _ => return false,
        }
        if label > 63 {
            return false;
        }
    }
    label > 0 && path.iter().all(|&b| b > b' ' && b != 0x7f && b != b'#')
}

/// Canonicalises a host as it appears in a URL, appending it to `out`: IP literals in
/// canonical form (IPv6 in brackets), names lowercased and IDNA-encoded. Single-label names are
/// allowed here. Allocates only for a non-ASCII name.
fn url_host_into(host: &str, out: &mut String) -> Result<(), Reject> {
    use std::fmt::Write as _;
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let v6: Ipv6Addr = inner.parse().map_err(|_| Reject::BadUrl)?;
        let _ = write!(out, "[{v6}]");
        return Ok(());
    }
    if host.starts_with(|c: char| c.is_ascii_digit()) {
        if let Ok(v4) = host.parse::<Ipv4Addr>() {
            let _ = write!(out, "{v4}");
            return Ok(());
        }
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    let start = out.len();
    if host.is_ascii() {
        out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        out.push_str(&idna::domain_to_ascii(host).map_err(|_| Reject::BadUrl)?);
    }
    let ascii = &out[start..];
    let ok = !ascii.is_empty()
        && ascii.len() <= 253
        && ascii.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        });
    if ok { Ok(()) } else { Err(Reject::BadUrl) }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Where a URL's `://` ends its scheme, if it has one. A `://` after a `/`, `?` or `#` is
/// inside the path of a schemeless URL (urlhaus-filter's
/// `web.archive.org/web/2022/https://evil.example/x`), not the end of a scheme.
pub(crate) fn scheme_end(url: &[u8]) -> Option<usize> {
    let i = memchr::memmem::find(url, b"://")?;
    (!url[..i].iter().any(|b| matches!(b, b'/' | b'?' | b'#'))).then_some(i)
}

/// Canonicalises a URL (see the module table).
pub fn url(raw: &str) -> Result<String, Reject> {
    let mut out = String::with_capacity(raw.len() + 1);
    url_into(raw, &mut out)?;
    Ok(out)
}

/// [`url()`] into a caller-owned buffer (cleared first), for lookups that must not allocate.
pub(crate) fn url_into(raw: &str, out: &mut String) -> Result<(), Reject> {
    out.clear();
    let raw = raw.trim();
    if raw.is_empty() || raw.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(Reject::BadUrl);
    }
    let (scheme, rest) = match scheme_end(raw.as_bytes()) {
        Some(i) => {
            let scheme = &raw[..i];
            let valid = scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            if !valid {
                return Err(Reject::BadUrl);
            }
            (Some(scheme), &raw[i + 3..])
        }
        None => (None, raw),
    };
    let rest = match rest.find('#') {
        Some(i) => &rest[..i],
        None => rest,
    };
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport)?;
    if host.is_empty() {
        return Err(Reject::BadUrl);
    }
    if let Some(s) = scheme {
        out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        out.push_str("://");
    }
    let lower_scheme = &out[..scheme.map_or(0, str::len)];
    let default = default_port(lower_scheme);
    if let Some(u) = userinfo {
        out.push_str(u);
        out.push('@');
    }
    url_host_into(host, out)?;
    if let Some(p) = port {
        if default != Some(p) {
            use std::fmt::Write as _;
            let _ = write!(out, ":{p}");
        }
    }
    if !path.starts_with('/') {
        out.push('/');
    }
    out.push_str(path);
    Ok(())
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), Reject> {
    let port_start = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(close) if hostport.len() == close + 1 => None,
            Some(close) if hostport.as_bytes()[close + 1] == b':' => Some(close + 1),
            _ => return Err(Reject::BadUrl),
        }
    } else {
        hostport.rfind(':')
    };
    match port_start {
        None => Ok((hostport, None)),
        Some(i) => {
            let digits = &hostport[i + 1..];
            let port = if digits.is_empty() {
                None
            } else if digits.bytes().all(|b| b.is_ascii_digit()) {
                Some(digits.parse::<u16>().map_err(|_| Reject::BadUrl)?)
            } else {
                return Err(Reject::BadUrl);
            };
            Ok((&hostport[..i], port))
        }
    }
}

/// Canonicalises an email address: lowercase, domain part a valid domain.
pub fn email(raw: &str) -> Result<String, Reject> {
    let raw = raw.trim();
    let raw = raw
        .strip_prefix('<')
        .and_then(|r| r.strip_suffix('>'))
        .unwrap_or(raw);
    let raw = raw.strip_prefix("mailto:").unwrap_or(raw);
    let (local, dom) = raw.rsplit_once('@').ok_or(Reject::BadEmail)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.bytes().all(|b| {
            b > b' '
                && b != 0x7f
                && !matches!(
                    b,
                    b'<' | b'>' | b'(' | b')' | b',' | b';' | b'@' | b'[' | b']' | b'\\'
                )
        });
    if !local_ok {
        return Err(Reject::BadEmail);
    }
    let dom = domain(dom).map_err(|_| Reject::BadEmail)?;
    let mut out = local.to_lowercase();
    out.push('@');
    out.push_str(&dom);
    Ok(out)
}

/// Decodes a hex digest of 32, 40, 64 or 128 digits (either case).
pub fn hash(raw: &str) -> Result<Vec<u8>, Reject> {
    let raw = raw.trim().as_bytes();
    if Kind::hash_for_len(raw.len() / 2).is_none() || raw.len() % 2 != 0 {
        return Err(Reject::BadHash);
    }
    let mut out = Vec::with_capacity(raw.len() / 2);
    for pair in raw.chunks_exact(2) {
        let hi = hex_val(pair[0]).ok_or(Reject::BadHash)?;
        let lo = hex_val(pair[1]).ok_or(Reject::BadHash)?;
        out.push(hi << 4 | lo);
    }
    Ok(out)
}

/// The value of one hex digit.
#[inline]
pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Checks an HTTP-request literal; it is kept byte for byte.
pub(crate) fn http_request(raw: &str) -> Result<String, Reject> {
    if raw.len() < MIN_LITERAL_LEN {
        return Err(Reject::TooShort);
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn ip_address_becomes_host_prefix() {
        assert_eq!(ip("203.0.113.7"), Ok((net("203.0.113.7/32"), false)));
        assert_eq!(ip("2001:DB8::1"), Ok((net("2001:db8::1/128"), false)));
    }

    #[test]
    fn cidr_host_bits_are_cleared_and_reported() {
        assert_eq!(ip("10.1.2.3/8"), Ok((net("10.0.0.0/8"), true)));
        assert_eq!(ip("10.0.0.0/8"), Ok((net("10.0.0.0/8"), false)));
        assert_eq!(ip("2001:db8::1/32"), Ok((net("2001:db8::/32"), true)));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_ipv4() {
        assert_eq!(ip("::ffff:192.0.2.1"), Ok((net("192.0.2.1/32"), false)));
        assert_eq!(ip("::ffff:192.0.2.0/120"), Ok((net("192.0.2.0/24"), false)));
        assert_eq!(
            unmap_addr("::ffff:198.51.100.9".parse().unwrap()),
            "198.51.100.9".parse::<IpAddr>().unwrap()
        );
        // A short prefix covering more than the mapped range stays IPv6.
        assert!(matches!(ip("::ffff:0:0/80"), Ok((IpNet::V6(_), _))));
    }

    #[test]
    fn bad_ips_and_zero_prefix_are_refused() {
        assert_eq!(ip("300.1.1.1"), Err(Reject::BadIp));
        assert_eq!(ip("10.0.0.0/33"), Err(Reject::BadIp));
        assert_eq!(ip("010.0.0.1"), Err(Reject::BadIp));
        assert_eq!(ip("0.0.0.0/0"), Err(Reject::ZeroPrefix));
        assert_eq!(ip("::/0"), Err(Reject::ZeroPrefix));
    }

    #[test]
    fn domain_rules() {
        assert_eq!(
            domain("WWW.Evil.Example.COM."),
            Ok("www.evil.example.com".into())
        );
        assert_eq!(domain("*.evil.com"), Ok("evil.com".into()));
        assert_eq!(domain(".evil.com"), Ok("evil.com".into()));
        assert_eq!(domain("bücher.example"), Ok("xn--bcher-kva.example".into()));
        assert_eq!(domain("BÜCHER.example"), Ok("xn--bcher-kva.example".into()));
        assert_eq!(
            domain("_dmarc.example.com"),
            Ok("_dmarc.example.com".into())
        );
        assert_eq!(domain("com"), Err(Reject::SingleLabel));
        assert_eq!(domain("a..b"), Err(Reject::BadDomain));
        assert_eq!(domain("exa mple.com"), Err(Reject::BadDomain));
        assert_eq!(
            domain(&format!("{}.com", "a".repeat(64))),
            Err(Reject::BadDomain)
        );
        assert_eq!(domain("1.2.3.4"), Err(Reject::BadDomain));
    }

    #[test]
    fn url_rules() {
        assert_eq!(
            url("HTTP://WWW.Evil.Example:80/A/b.EXE?x=1#frag"),
            Ok("http://www.evil.example/A/b.EXE?x=1".into())
        );
        assert_eq!(
            url("https://evil.example:443"),
            Ok("https://evil.example/".into())
        );
        assert_eq!(
            url("https://evil.example:8443/x"),
            Ok("https://evil.example:8443/x".into())
        );
        assert_eq!(
            url("http://bücher.example/ä"),
            Ok("http://xn--bcher-kva.example/ä".into())
        );
        assert_eq!(
            url("http://[2001:DB8::1]:8080/p"),
            Ok("http://[2001:db8::1]:8080/p".into())
        );
        assert_eq!(
            url("http://u:P@Host.example/p"),
            Ok("http://u:P@host.example/p".into())
        );
        assert_eq!(
            url("http://h.example?q=1"),
            Ok("http://h.example/?q=1".into())
        );
        assert_eq!(
            url("Evil.Example/Gate.php"),
            Ok("evil.example/Gate.php".into())
        );
        assert_eq!(
            url("http://h.example/%7Efoo/../x"),
            Ok("http://h.example/%7Efoo/../x".into())
        );
        assert_eq!(url("http:///nohost"), Err(Reject::BadUrl));
        assert_eq!(url("http://a b/"), Err(Reject::BadUrl));
        assert_eq!(url("http://h:99999/"), Err(Reject::BadUrl));
        assert_eq!(url("1ttp://h/"), Err(Reject::BadUrl));
    }

    #[test]
    fn email_rules() {
        assert_eq!(
            email("Bad.Actor@Evil.Example"),
            Ok("bad.actor@evil.example".into())
        );
        assert_eq!(email("<x@evil.example>"), Ok("x@evil.example".into()));
        assert_eq!(
            email("x@bücher.example"),
            Ok("x@xn--bcher-kva.example".into())
        );
        assert_eq!(email("@evil.example"), Err(Reject::BadEmail));
        assert_eq!(email("x@com"), Err(Reject::BadEmail));
        assert_eq!(email("a b@evil.example"), Err(Reject::BadEmail));
    }

    #[test]
    fn hash_rules() {
        let md5 = "D41D8CD98F00B204E9800998ECF8427E";
        assert_eq!(hash(md5).unwrap().len(), 16);
        assert_eq!(value(Kind::Md5, md5).unwrap().value.kind(), Kind::Md5);
        assert_eq!(value(Kind::Sha256, md5), Err(Reject::KindMismatch));
        assert_eq!(hash(&"a".repeat(40)).unwrap().len(), 20);
        assert_eq!(hash(&"a".repeat(64)).unwrap().len(), 32);
        assert_eq!(hash(&"a".repeat(128)).unwrap().len(), 64);
        assert_eq!(hash(&"a".repeat(63)), Err(Reject::BadHash));
        assert_eq!(hash(&"g".repeat(64)), Err(Reject::BadHash));
        assert_eq!(
            Value::Hash(hash(md5).unwrap()).to_string(),
            md5.to_ascii_lowercase()
        );
    }

    #[test]
    fn http_literal_kept_as_is() {
        assert_eq!(http_request("/gate.php"), Ok("/gate.php".into()));
        assert_eq!(http_request("/a"), Err(Reject::TooShort));
    }

    #[test]
    fn detection_order() {
        let kind = |s: &str| detect(s).map(|n| n.value.kind());
        assert_eq!(kind("203.0.113.7"), Ok(Kind::Ipv4));
        assert_eq!(kind("198.51.100.0/24"), Ok(Kind::Ipv4));
        assert_eq!(kind("2001:db8::/32"), Ok(Kind::Ipv6));
        assert_eq!(kind("::ffff:1.2.3.4"), Ok(Kind::Ipv4));
        assert_eq!(kind("d41d8cd98f00b204e9800998ecf8427e"), Ok(Kind::Md5));
        assert_eq!(kind(&"e".repeat(64)), Ok(Kind::Sha256));
        assert_eq!(kind("deadbeef.com"), Ok(Kind::Domain));
        assert_eq!(kind("x@evil.example"), Ok(Kind::Email));
        assert_eq!(kind("http://evil.example/a"), Ok(Kind::Url));
        assert_eq!(kind("evil.example/gate.php"), Ok(Kind::Url));
        assert_eq!(kind("/gate.php"), Ok(Kind::HttpRequest));
        assert_eq!(kind("66.210.228.178:443"), Err(Reject::IpPort));
        assert_eq!(kind("[2001:db8::1]:443"), Err(Reject::IpPort));
        assert_eq!(kind("1.2.3"), Err(Reject::BadIp));
        assert_eq!(kind("2001:db8::1:443"), Ok(Kind::Ipv6));
        assert_eq!(kind("not a value"), Err(Reject::BadDomain));
        assert_eq!(kind("   "), Err(Reject::Empty));
    }

    /// Real feed lines that an earlier order refused (urlhaus-filter, maltrail): an `@` in a
    /// path, and `://` inside the path of a schemeless URL.
    #[test]
    fn at_signs_in_paths_and_urls_inside_paths() {
        assert_eq!(
            detect("cdn.jsdelivr.net/gh/repository-git/q@master/cloud.js").map(|n| n.value),
            Ok(Value::Url(
                "cdn.jsdelivr.net/gh/repository-git/q@master/cloud.js".into()
            ))
        );
        assert_eq!(
            detect("/@a@r@c").map(|n| n.value),
            Ok(Value::HttpRequest("/@a@r@c".into()))
        );
        assert_eq!(
            url("web.archive.org/web/2022if_/https://Evil.example/a.pdf"),
            Ok("web.archive.org/web/2022if_/https://Evil.example/a.pdf".into())
        );
        assert_eq!(
            url("HTTP://Web.Archive.org/web/2022/https://x.example/"),
            Ok("http://web.archive.org/web/2022/https://x.example/".into())
        );
        assert_eq!(url("a?b://c/"), Ok("a/?b://c/".into()));
    }
}

#[cfg(test)]
mod canonical_url_tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_canonical_urls_take_the_fast_path() {
        for u in [
            "http://evil.example/",
            "https://www.evil.example/a/b.php?id=7&x=y",
            "http://localhost/x",
            "https://cdn-1.evil_host.example/%41",
        ] {
            assert!(url_is_canonical(u.as_bytes()), "{u}");
            assert_eq!(url(u).as_deref(), Ok(u));
        }
        for u in [
            "HTTP://evil.example/",
            "http://Evil.example/",
            "http://evil.example",
            "http://evil.example:80/",
            "http://u@evil.example/",
            "http://evil.example./",
            "http://203.0.113.7/",
            "http://evil.example/#frag",
            "ftp://evil.example/",
            "http://a..b/",
        ] {
            assert!(!url_is_canonical(u.as_bytes()), "{u}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The fast path never claims a URL is canonical when canonicalising would change it.
        #[test]
        fn fast_path_agrees_with_url(
            s in "(https?|HTTPS?|Http|ftp|hxxp)://[a-zA-Z0-9._:@\\[\\]-]{0,24}(/[a-zA-Z0-9/?#&=. %_-]{0,24})?"
        ) {
            if url_is_canonical(s.as_bytes()) {
                prop_assert_eq!(url(&s), Ok(s.clone()));
            }
        }
    }

    #[test]
    fn fingerprints_with_or_without_colons_in_either_case() {
        let sha1 = "3B:4C:56:1F:8A:3D:0F:FF:FF:00:11:22:33:44:55:66:77:88:99:AA";
        let plain = "3b4c561f8a3d0fffff00112233445566778899aa";
        let want = fingerprint(Kind::X509Sha1, plain).unwrap();
        assert_eq!(want.len(), 20);
        assert_eq!(fingerprint(Kind::X509Sha1, sha1), Ok(want.clone()));
        assert_eq!(
            value(Kind::X509Sha1, sha1).unwrap().value.to_string(),
            plain,
            "written as lowercase hex"
        );
        // Wrong length for the kind, colons in the wrong places, a stray digit.
        assert!(fingerprint(Kind::X509Sha256, plain).is_err());
        assert!(fingerprint(Kind::Ja3, plain).is_err());
        assert!(fingerprint(Kind::X509Sha1, &plain.replacen("3b", "3b:", 1)).is_err());
        assert!(fingerprint(Kind::X509Sha1, &sha1.replace("3B:", "3:B")).is_err());
        assert!(fingerprint(Kind::Ja3, "e7d705a3286e19ea42f587b344ee686g").is_err());
        let ja3 = value(Kind::Ja3, "E7D705A3286E19EA42F587B344EE6865").unwrap();
        assert_eq!(ja3.value.kind(), Kind::Ja3, "a JA3 is not a file MD5");
    }

    #[test]
    fn ja4_and_ja4s_shapes() {
        let ja4 = "t13d1516h2_8daaf6152771_E5627EFA2AB1";
        assert_eq!(
            value(Kind::Ja4, ja4).unwrap().value.to_string(),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert!(value(Kind::Ja4, "q13d0310h3_55b375c5d22e_cd85d2d88918").is_ok());
        assert!(value(Kind::Ja4, "t13i181000_85036bcba153_d41ae481755e").is_ok());
        for bad in [
            "t13d1516h2_8daaf6152771",
            "x13d1516h2_8daaf6152771_e5627efa2ab1",
            "t13x1516h2_8daaf6152771_e5627efa2ab1",
            "t13d15a6h2_8daaf6152771_e5627efa2ab1",
            "t13d1516h2_8daaf615277_e5627efa2ab1",
            "t13d1516h2_8daaf6152771_e5627efa2ab1_x",
            "t130200_1301_234ea6891581",
        ] {
            assert_eq!(value(Kind::Ja4, bad), Err(Reject::BadFingerprint), "{bad}");
        }
        assert!(value(Kind::Ja4s, "t130200_1301_234ea6891581").is_ok());
        assert!(value(Kind::Ja4s, "t120400_c030_4e8089b08790").is_ok());
        assert_eq!(
            value(Kind::Ja4s, "t13d1516h2_8daaf6152771_e5627efa2ab1"),
            Err(Reject::BadFingerprint)
        );
    }
}
