//! The application-layer extractors (DNS, TLS ClientHello, HTTP request, SMTP envelope) on
//! arbitrary bytes: never panic, and every slice handed out lies in the input (or, for DNS
//! names, in the caller's `NameBuf`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::dns::{self, DnsItem, NameBuf};
use trawl::testing::app::{http, smtp, tls};

fn inside(part: &[u8], start: usize, len: usize) -> bool {
    let p = part.as_ptr() as usize;
    p >= start && p + part.len() <= start + len
}

fuzz_target!(|data: &[u8]| {
    let (d0, dl) = (data.as_ptr() as usize, data.len());
    let mut nb = NameBuf::new();
    let (n0, nl) = (&nb as *const NameBuf as usize, std::mem::size_of::<NameBuf>());
    for m in std::iter::once(data).chain(dns::tcp_messages(data)) {
        let _ = dns::looks_like_dns(m);
        let _ = dns::parse(m, &mut nb, |it| {
            if let DnsItem::Question(n) | DnsItem::AnswerName(n) = it {
                assert!(inside(n, n0, nl) && !n.is_empty());
            }
        });
    }
    let _ = tls::is_client_hello(data);
    if let Ok(Some(n)) = tls::client_hello_sni(data) {
        assert!(inside(n, d0, dl) && !n.is_empty());
    }
    let _ = http::is_request_start(data);
    if let Ok(Some(r)) = http::request(data) {
        for part in [r.method, r.uri, r.version, r.head]
            .into_iter()
            .chain(r.host)
            .chain(r.user_agent)
            .chain(r.authority())
        {
            assert!(inside(part, d0, dl));
        }
        let mut out = Vec::new();
        let ok = http::full_url(&r, Some(("192.0.2.1".parse().unwrap(), 8080)), &mut out);
        assert_eq!(ok, !out.is_empty());
        let _ = http::strip_port(r.authority().unwrap_or_default());
    }
    let _ = smtp::envelope(data, |e| {
        let (smtp::Envelope::MailFrom(a) | smtp::Envelope::RcptTo(a)) = e;
        assert!(inside(a, d0, dl) && !a.is_empty());
    });
});
