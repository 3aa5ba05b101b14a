//! The application-layer extractors (DNS message, TLS ClientHello, HTTP request head, SMTP
//! command line) on arbitrary bytes: never panic, and every slice handed out lies in the input
//! (or, for DNS names, in the caller's `NameBuf`). The stream parser, on the same bytes split in two at an
//! offset the first bytes choose, reports exactly what it reports on the unsplit stream, and
//! never leaves more than `max_buffer` bytes unconsumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::dns::{self, DnsItem, NameBuf};
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::app::{http, smtp, tls};

/// What the stream parser reports on `chunks`, fed as the reassembler feeds it.
fn stream(from_client: bool, port: u16, chunks: &[&[u8]]) -> Vec<String> {
    let mut p = StreamParser::new(from_client, port);
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    for c in chunks {
        if p.done() {
            break;
        }
        buf.extend_from_slice(c);
        let n = p.parse(&buf, &mut |f: Found| seen.push(format!("{f:?}")));
        assert!(n <= buf.len());
        buf.drain(..n);
        assert!(p.done() || buf.len() < p.max_buffer());
    }
    seen
}

fn inside(part: &[u8], start: usize, len: usize) -> bool {
    let p = part.as_ptr() as usize;
    p >= start && p + part.len() <= start + len
}

fuzz_target!(|data: &[u8]| {
    let (d0, dl) = (data.as_ptr() as usize, data.len());
    let mut nb = NameBuf::new();
    let (n0, nl) = (&nb as *const NameBuf as usize, std::mem::size_of::<NameBuf>());
    let _ = dns::looks_like_dns(data);
    let _ = dns::parse(data, &mut nb, |it| {
        if let DnsItem::Question(n) | DnsItem::AnswerName(n) = it {
            assert!(inside(n, n0, nl) && !n.is_empty());
        }
    });
    let _ = tls::is_client_hello(data);
    if let Ok(Some(n)) = tls::handshake_sni(data) {
        assert!(inside(n, d0, dl) && !n.is_empty());
    }
    let _ = http::request_start_so_far(data);
    if let Ok(Some(r)) = http::request(data) {
        for part in [r.method, r.uri, r.version, r.head]
            .into_iter()
            .chain(r.host)
            .chain(r.user_agent)
            .chain(r.referer)
            .chain(r.authority())
            .chain(r.referer.and_then(http::url_host))
        {
            assert!(inside(part, d0, dl));
        }
        http::forwarded_addrs(r.head, |_| {});
        let mut out = Vec::new();
        let ok = http::full_url(&r, Some(("192.0.2.1".parse().unwrap(), 8080)), &mut out);
        assert_eq!(ok, !out.is_empty());
        let _ = http::strip_port(r.authority().unwrap_or_default());
    }
    for line in data.split(|&b| b == b'\n') {
        if let Ok(Some(smtp::Envelope::MailFrom(a) | smtp::Envelope::RcptTo(a))) =
            smtp::command_envelope(line)
        {
            assert!(inside(a, d0, dl) && !a.is_empty());
        }
    }
    // Stream: byte 0 picks the port and direction, bytes 1-2 the cut.
    if let [sel, a, b, rest @ ..] = data {
        let ports = [80, 443, 25, 53, 1080];
        let (client, port) = (sel & 0x80 == 0, ports[usize::from(sel & 0x7F) % ports.len()]);
        let at = usize::from(u16::from_be_bytes([*a, *b])) % (rest.len() + 1);
        let (x, y) = rest.split_at(at);
        assert_eq!(stream(client, port, &[x, y]), stream(client, port, &[rest]));
    }
});
