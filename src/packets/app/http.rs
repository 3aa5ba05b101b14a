//! HTTP/1.x requests (RFC 9112): request line and the headers indicators match on.
//!
//! * [`request`] — parses the request at the start of a TCP payload into a [`Request`] of
//!   slices borrowed from the payload.
//! * [`full_url`] — the request's URL (`http://host[:port]/uri`) into a reused buffer.
//! * [`Request::authority`], [`strip_port`] — the host a request is for, for name matching.
//! * [`request_start_so_far`] — a cheap check of the first bytes, which may still grow: for
//!   the stream parser to choose HTTP and to find the next request line.
//! * [`url_host`] — the host of an absolute URL (a `Referer`), for name matching.
//! * [`forwarded_addrs`] — the addresses of `X-Forwarded-For` and `Forwarded` (RFC 7239).
//! * [`body`] — how the body after a head is delimited (`Content-Length`, chunked), so that the
//!   stream parser ([`super::stream`]) can step over it to the next request.
//!
//! # Rules
//!
//! * Method: a standard one (RFC 9110 §9, RFC 5789) or any other token of 1–24 uppercase ASCII letters, `-` or `_`
//!   starting with a letter (WebDAV `PROPFIND`, SSDP `M-SEARCH`, …), followed by a space.
//!   Methods are case-sensitive, so `get /` is not a request.
//! * The request line must end (LF or CRLF) within the payload and close with `HTTP/1.x` (or
//!   the sloppy `HTTP/1.` / `HTTP/1` some clients send and permissive servers accept); the
//!   target is what lies between the method and the last space, spaces trimmed (malware sends
//!   unencoded spaces). Anything else — HTTP/0.9, the HTTP/2 preface, RTSP — is not an HTTP/1.x
//!   request (`Ok(None)`). Empty lines before the request line are skipped (RFC 9112 §2.2).
//! * Headers: lines up to the first empty line; names compared case-insensitively, values
//!   trimmed of spaces and tabs. The first `Host`, `User-Agent` and `Referer` win. Folded
//!   continuation lines (obs-fold) and lines without a colon are skipped: a folded value keeps
//!   its first line only. A request cut inside its headers yields the complete header lines
//!   present; a header line cut by the end of the payload is not read (its value may be
//!   incomplete), and [`Request::head`] is then the whole payload.

use std::io::Write as _;
use std::net::IpAddr;

/// Longest method token accepted.
pub(crate) const MAX_METHOD: usize = 24;

/// Reason: a method and a space, but the payload ends before the request line does.
pub const E_LINE: &str = "http: truncated request line";
/// Reason: a request line without a request target (the request is still read: its Host and
/// headers are what a peer reports for it too).
pub const E_TARGET: &str = "http: empty request target";

/// One HTTP/1.x request head; every slice borrows from the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The method token (`GET`).
    pub method: &'a [u8],
    /// The request target as sent (`/a?b`, `http://host/a` from a proxy client, `host:443` for
    /// CONNECT, `*`).
    pub uri: &'a [u8],
    /// The protocol version (`HTTP/1.1`).
    pub version: &'a [u8],
    /// The first `Host` header's value, trimmed.
    pub host: Option<&'a [u8]>,
    /// The first `User-Agent` header's value, trimmed.
    pub user_agent: Option<&'a [u8]>,
    /// The first `Referer` header's value, trimmed: the URL of the page that linked here.
    pub referer: Option<&'a [u8]>,
    /// The request line and header lines up to (not including) the empty line that ends them,
    /// or up to the end of the payload when the head is cut short: what `http-request`
    /// indicators are searched in.
    pub head: &'a [u8],
}

impl<'a> Request<'a> {
    /// The `host[:port]` the request is for: the authority of an absolute-form target (a request
    /// to a proxy), the target of CONNECT (when it is an authority), else the `Host` header. Pass it to [`strip_port`] for
    /// the name or address alone.
    pub fn authority(&self) -> Option<&'a [u8]> {
        if self.method == b"CONNECT" && plausible_authority(self.uri) {
            return Some(self.uri);
        }
        if let Some(rest) = after_scheme(self.uri) {
            let end = rest
                .iter()
                .position(|&b| matches!(b, b'/' | b'?' | b'#'))
                .unwrap_or(rest.len());
            let auth = &rest[..end];
            // userinfo@ never names the host
            let auth = match auth.iter().rposition(|&b| b == b'@') {
                Some(at) => &auth[at + 1..],
                None => auth,
            };
            return (!auth.is_empty()).then_some(auth);
        }
        self.host.filter(|h| !h.is_empty())
    }
}

/// The host of an authority without its port: `example.com:8080` → `example.com`,
/// `[2001:db8::1]:443` → `2001:db8::1` (brackets removed, so the caller can parse the address).
/// A bare IPv6 address without brackets (several colons) is returned whole.
pub fn strip_port(authority: &[u8]) -> &[u8] {
    if let Some(rest) = authority.strip_prefix(b"[") {
        return match rest.iter().position(|&b| b == b']') {
            Some(end) => &rest[..end],
            None => authority,
        };
    }
    match authority.iter().position(|&b| b == b':') {
        Some(c) if !authority[c + 1..].contains(&b':') => &authority[..c],
        _ => authority,
    }
}

/// The bytes after `scheme://` when `uri` starts with an RFC 3986 scheme and `://`.
fn after_scheme(uri: &[u8]) -> Option<&[u8]> {
    let colon = uri.iter().take(32).position(|&b| b == b':')?;
    let scheme = &uri[..colon];
    let ok = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if ok {
        uri[colon + 1..].strip_prefix(b"//")
    } else {
        None
    }
}

/// The host of an absolute URL (`scheme://[userinfo@]host[:port]/…`) without its port and
/// brackets, or `None` when `url` has no scheme or an empty host: what a `Referer` names.
pub fn url_host(url: &[u8]) -> Option<&[u8]> {
    let rest = after_scheme(url)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = match auth.iter().rposition(|&b| b == b'@') {
        Some(at) => &auth[at + 1..],
        None => auth,
    };
    let host = strip_port(auth);
    (!host.is_empty()).then_some(host)
}

/// Calls `out` with every address a request's head names as a client or proxy it was
/// forwarded for, in order: each element of every `X-Forwarded-For` line (comma-separated;
/// de facto standard) and the `for=` node of each element of every `Forwarded` line
/// (RFC 7239 §4–6: `for=192.0.2.43`, `for="[2001:db8::1]:4711"`, `for="192.0.2.1:80"`).
/// Elements that are no address — RFC 7239's `unknown` and obfuscated identifiers (`_hidden`),
/// host names some proxies put there — are skipped. Header lines as [`request`] reads them.
pub fn forwarded_addrs(head: &[u8], mut out: impl FnMut(IpAddr)) {
    for (name, value) in header_fields(head) {
        if name.eq_ignore_ascii_case(b"x-forwarded-for") {
            for node in value.split(|&b| b == b',') {
                if let Some(a) = node_addr(trim(node)) {
                    out(a);
                }
            }
        } else if name.eq_ignore_ascii_case(b"forwarded") {
            for pair in split_unquoted(value, |b| b == b',' || b == b';') {
                let pair = trim(pair);
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                if trim(&pair[..eq]).eq_ignore_ascii_case(b"for") {
                    let v = trim(&pair[eq + 1..]);
                    let v = v
                        .strip_prefix(b"\"")
                        .and_then(|v| v.strip_suffix(b"\""))
                        .unwrap_or(v);
                    if let Some(a) = node_addr(v) {
                        out(a);
                    }
                }
            }
        }
    }
}

/// `s` cut at every byte `sep` accepts outside a double-quoted string (RFC 9110 §5.6.4; a
/// backslash escapes the next byte inside one).
fn split_unquoted(s: &[u8], sep: impl Fn(u8) -> bool) -> impl Iterator<Item = &[u8]> {
    let (mut quoted, mut escaped, mut start, mut i) = (false, false, 0, 0);
    std::iter::from_fn(move || {
        while i < s.len() {
            let b = s[i];
            i += 1;
            if escaped {
                escaped = false;
            } else if quoted && b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = !quoted;
            } else if !quoted && sep(b) {
                let part = &s[start..i - 1];
                start = i;
                return Some(part);
            }
        }
        (start <= s.len()).then(|| {
            let part = &s[start..];
            start = s.len() + 1;
            part
        })
    })
}

/// The address of a forwarding node: `192.0.2.1`, `192.0.2.1:8080`, `[2001:db8::1]`,
/// `[2001:db8::1]:4711`, or a bare `2001:db8::1`; an IPv4 address may have leading zeros in
/// its parts (`10.000.000.03`, read as decimal, as Arkime reads it). Anything else (`unknown`,
/// `_obfuscated`, a name) is `None`.
fn node_addr(node: &[u8]) -> Option<IpAddr> {
    let host = strip_port(node);
    let text = std::str::from_utf8(host).ok()?;
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| ipv4_leading_zeros(text))
}

/// A dotted-quad IPv4 address whose parts may carry leading zeros (std refuses them).
fn ipv4_leading_zeros(text: &str) -> Option<IpAddr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    parts.next().is_none().then(|| IpAddr::from(octets))
}

fn is_method_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b == b'-' || b == b'_'
}

/// Length of the method token when `p` starts with one followed by a space.
fn method_len(p: &[u8]) -> Option<usize> {
    if !p.first()?.is_ascii_uppercase() {
        return None;
    }
    let n = p
        .iter()
        .take(MAX_METHOD + 1)
        .position(|&b| !is_method_byte(b))?;
    (n <= MAX_METHOD && p[n] == b' ').then_some(n)
}

/// Whether `p` starts like a request line — a method token (see the module docs) and a space —
/// on bytes that may still grow: `None` while `p` is a proper prefix of a method token (more
/// bytes decide), else the answer. Reads at most 25 bytes.
pub fn request_start_so_far(p: &[u8]) -> Option<bool> {
    for (i, &b) in p.iter().enumerate().take(MAX_METHOD + 1) {
        let ok = if i == 0 {
            b.is_ascii_uppercase()
        } else if b == b' ' {
            return Some(true);
        } else {
            i < MAX_METHOD && is_method_byte(b)
        };
        if !ok {
            return Some(false);
        }
    }
    // Every byte so far fits a method and no space has come yet (fewer than 25 bytes).
    None
}

/// How the body that follows a request head is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// Exactly this many bytes (`Content-Length`; 0 when the head announces no body).
    Length(u64),
    /// `Transfer-Encoding` ending in `chunked`: chunks up to the last (size 0) and trailers.
    Chunked,
}

/// Reason: a `Content-Length` that is not a decimal number, or several that differ.
pub const E_CONTENT_LENGTH: &str = "http: bad content-length";
/// Reason: a `Transfer-Encoding` whose last coding is not `chunked` (the server answers 400
/// and closes: the body's end is unknown).
pub const E_TRANSFER_ENCODING: &str = "http: bad transfer-encoding";

/// The body framing a complete request head announces: `Transfer-Encoding` (last coding
/// `chunked`) wins over `Content-Length` (RFC 9112 §6.3 rules 3–6); neither means no body.
/// The header fields of a message head (start line first) as [`request`] reads them: LF or
/// CRLF, up to the empty line; folded continuation lines and lines without a colon skipped.
/// Each as (name trimmed, value untrimmed).
fn header_fields(head: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    head.split(|&b| b == b'\n')
        .skip(1)
        .map(strip_cr)
        .take_while(|line| !line.is_empty())
        .filter(|line| !matches!(line[0], b' ' | b'\t'))
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            Some((trim(&line[..colon]), &line[colon + 1..]))
        })
}

/// Header lines as [`request`] reads them (LF or CRLF, obs-fold skipped).
pub fn body(head: &[u8]) -> Result<Body, &'static str> {
    let mut length: Option<u64> = None;
    let mut chunked: Option<bool> = None;
    for (name, value) in header_fields(head) {
        let value = trim(value);
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            // The last coding of the last header line is what frames the body.
            let last = value
                .rsplit(|&b| b == b',')
                .next()
                .map(trim)
                .unwrap_or_default();
            chunked = Some(last.eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // `Content-Length: 5, 5` (a list of one value repeated) is allowed (§8.6).
            for v in value.split(|&b| b == b',') {
                let v = trim(v);
                if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
                    return Err(E_CONTENT_LENGTH);
                }
                let n = v.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
                if length.is_some_and(|l| l != n) {
                    return Err(E_CONTENT_LENGTH);
                }
                length = Some(n);
            }
        }
    }
    match chunked {
        Some(true) => Ok(Body::Chunked),
        Some(false) => Err(E_TRANSFER_ENCODING),
        None => Ok(Body::Length(length.unwrap_or(0))),
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The version in the request line of a head written for an HTTP/2 request.
pub const H2_VERSION: &[u8] = b"HTTP/2";

/// `HTTP/1.1`, `HTTP/1.0`, and the sloppy `HTTP/1.` / `HTTP/1` that custom clients send and
/// permissive servers (and Zeek) accept as 1.x.
fn is_version_1x(v: &[u8]) -> bool {
    match v.strip_prefix(b"HTTP/1") {
        Some([]) | Some([b'.']) => true,
        Some([b'.', d]) => d.is_ascii_digit(),
        _ => false,
    }
}

/// Parses the HTTP/1.x request head at the start of `payload` (see the module docs).
///
/// `Ok(None)`: the payload is not an HTTP/1.x request. `Err`: it starts like one but the request
/// line is cut short. A request line without a target (`GET HTTP/1.1`, malware does send it)
/// is still a request, with an empty [`Request::uri`].
pub fn request(payload: &[u8]) -> Result<Option<Request<'_>>, &'static str> {
    parse(payload, false)
}

/// [`request`], also accepting the version `HTTP/2` of the heads [`super::h2`] writes for each
/// HTTP/2 request (`METHOD target HTTP/2`, `Host:` from `:authority`, then the request's
/// header fields): what the worker reads back the heads the stream parser reported with.
pub fn request_or_h2_head(payload: &[u8]) -> Result<Option<Request<'_>>, &'static str> {
    parse(payload, true)
}

fn parse(payload: &[u8], or_h2: bool) -> Result<Option<Request<'_>>, &'static str> {
    let start = payload
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(payload.len());
    let p = &payload[start..];
    let Some(mlen) = method_len(p) else {
        return Ok(None);
    };
    let Some(nl) = p.iter().position(|&b| b == b'\n') else {
        return Err(E_LINE);
    };
    let line = strip_cr(&p[..nl]);
    let Some(last_sp) = line.iter().rposition(|&b| b == b' ') else {
        return Ok(None);
    };
    let version = &line[last_sp + 1..];
    let h2 = or_h2 && version == H2_VERSION;
    if !is_version_1x(version) && !h2 {
        return Ok(None);
    }
    let uri = if last_sp > mlen {
        trim(&line[mlen + 1..last_sp])
    } else {
        &[][..]
    };
    let mut req = Request {
        method: &p[..mlen],
        uri,
        version,
        host: None,
        user_agent: None,
        referer: None,
        head: p,
    };
    let mut pos = nl + 1;
    while let Some(len) = p[pos..].iter().position(|&b| b == b'\n') {
        let line = strip_cr(&p[pos..pos + len]);
        if line.is_empty() {
            req.head = &p[..pos];
            break;
        }
        pos += len + 1;
        if matches!(line[0], b' ' | b'\t') {
            continue; // obs-fold
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = trim(&line[..colon]);
        let value = trim(&line[colon + 1..]);
        if req.host.is_none() && name.eq_ignore_ascii_case(b"host") {
            req.host = Some(value);
        } else if req.user_agent.is_none() && name.eq_ignore_ascii_case(b"user-agent") {
            req.user_agent = Some(value);
        } else if req.referer.is_none() && name.eq_ignore_ascii_case(b"referer") {
            req.referer = Some(value);
        }
    }
    Ok(Some(req))
}

/// A `Host` value usable as a URL authority: no delimiters, spaces or control bytes, so that a
/// forged header cannot move the path (`Host: evil.example/x`).
fn plausible_authority(h: &[u8]) -> bool {
    !h.is_empty()
        && h.iter()
            .all(|&b| b > b' ' && b != 0x7F && !matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\'))
}

/// Writes the request's URL into `out` (cleared first) and returns true, or returns false with
/// `out` empty when there is none (CONNECT, `*`, a target that is neither absolute nor starts
/// with `/`, no usable host and no server address).
///
/// An absolute-form target (`GET http://x/ HTTP/1.1`, sent to proxies) is the URL as is.
/// Otherwise `http://` + the `Host` header (or, when it is missing or not a plausible
/// authority, the server address and port: `server_ip_port`) + the target; port 80 is dropped.
/// Bytes are copied as sent: the caller canonicalises (case, IDNA, percent-encoding).
pub fn full_url(req: &Request, server_ip_port: Option<(IpAddr, u16)>, out: &mut Vec<u8>) -> bool {
    out.clear();
    if req.method == b"CONNECT" {
        return false;
    }
    if after_scheme(req.uri).is_some() {
        out.extend_from_slice(req.uri);
        return true;
    }
    if !req.uri.starts_with(b"/") {
        return false;
    }
    out.extend_from_slice(b"http://");
    match req.host.filter(|h| plausible_authority(h)) {
        Some(h) => {
            let h = h.strip_suffix(b":80").unwrap_or(h);
            let h = h.strip_suffix(b":").unwrap_or(h);
            out.extend_from_slice(h);
        }
        None => {
            let Some((ip, port)) = server_ip_port else {
                out.clear();
                return false;
            };
            // Writing to a Vec cannot fail.
            let _ = match ip {
                IpAddr::V4(a) => write!(out, "{a}"),
                IpAddr::V6(a) => write!(out, "[{a}]"),
            };
            if port != 80 {
                let _ = write!(out, ":{port}");
            }
        }
    }
    out.extend_from_slice(req.uri);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_port_forms() {
        assert_eq!(strip_port(b"a.example:8080"), b"a.example");
        assert_eq!(strip_port(b"a.example"), b"a.example");
        assert_eq!(strip_port(b"[2001:db8::1]:443"), b"2001:db8::1");
        assert_eq!(strip_port(b"[2001:db8::1]"), b"2001:db8::1");
        assert_eq!(strip_port(b"2001:db8::1"), b"2001:db8::1");
        assert_eq!(strip_port(b"[broken"), b"[broken");
    }

    #[test]
    fn referer_hosts() {
        assert_eq!(
            url_host(b"http://www.a.example/x/y"),
            Some(&b"www.a.example"[..])
        );
        assert_eq!(
            url_host(b"https://u:p@b.example:8443?q"),
            Some(&b"b.example"[..])
        );
        assert_eq!(
            url_host(b"http://[2001:db8::1]:80/"),
            Some(&b"2001:db8::1"[..])
        );
        assert_eq!(url_host(b"http:///path"), None);
        assert_eq!(url_host(b"/relative"), None);
    }

    fn forwarded(head: &str) -> Vec<String> {
        let mut v = Vec::new();
        forwarded_addrs(head.as_bytes(), |a| v.push(a.to_string()));
        v
    }

    #[test]
    fn forwarded_for_addresses() {
        // Every element of every X-Forwarded-For line, ports and brackets removed.
        assert_eq!(
            forwarded(
                "GET / HTTP/1.1\r\nX-Forwarded-For: 203.0.113.7, 10.000.000.03 ,unknown\r\n\
                 x-forwarded-for: [2001:db8::7]:80,198.51.100.1:3128\r\n\r\n"
            ),
            ["203.0.113.7", "10.0.0.3", "2001:db8::7", "198.51.100.1"]
        );
        // RFC 7239 §7.4 examples, obfuscated identifiers and `unknown` skipped.
        assert_eq!(
            forwarded(
                "GET / HTTP/1.1\r\nForwarded: for=\"_gazonk\"\r\n\
                 Forwarded: For=\"[2001:db8:cafe::17]:4711\"\r\n\
                 Forwarded: for=192.0.2.60;proto=http;by=203.0.113.43\r\n\
                 Forwarded: for=192.0.2.43, for=198.51.100.17;by=\"x,y\", for=unknown\r\n\r\n"
            ),
            [
                "2001:db8:cafe::17",
                "192.0.2.60",
                "192.0.2.43",
                "198.51.100.17"
            ]
        );
        // Header lines only: not the request line, not past the head.
        assert!(
            forwarded("GET /X-Forwarded-For:1.2.3.4 HTTP/1.1\r\n\r\nX-Forwarded-For: 1.2.3.4\r\n")
                .is_empty()
        );
        assert!(
            forwarded("GET / HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4.5, 256.1.1.1, 1..2.3\r\n\r\n")
                .is_empty()
        );
    }

    #[test]
    fn scheme_detection() {
        assert_eq!(after_scheme(b"http://x/"), Some(&b"x/"[..]));
        assert_eq!(after_scheme(b"HTTPS://x"), Some(&b"x"[..]));
        assert_eq!(after_scheme(b"/a://b"), None);
        assert_eq!(after_scheme(b"x.example:443"), None);
        assert_eq!(after_scheme(b"1http://x"), None);
    }
}
