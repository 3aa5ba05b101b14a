//! The server direction of a TLS connection on arbitrary bytes: the stream parser (whole, and
//! split in two at an offset the first byte chooses, which must report the same), what the
//! worker does with each ServerHello and certificate it hands out (JA3S, JA4S, certificate
//! names), and the hello and certificate-list parsers and fingerprints on the bytes
//! themselves. Never panics; never leaves more than `max_buffer` bytes unconsumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::app::tls_fingerprint::{self as fp, Ja4Transport};
use trawl::testing::app::{tls, x509};

/// What the server-direction parser reports on `chunks`, fed as the reassembler feeds it.
fn stream(port: u16, chunks: &[&[u8]]) -> Vec<String> {
    let mut p = StreamParser::new(false, port);
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    for c in chunks {
        if p.done() {
            break;
        }
        buf.extend_from_slice(c);
        let n = p.parse(&buf, &mut |f: Found| {
            match f {
                Found::ServerHello(m) => {
                    if let Ok(Some(h)) = tls::server_hello(m) {
                        let _ = (fp::ja3s(&h), fp::ja4s(&h, Ja4Transport::Tcp));
                    }
                }
                Found::Certificate(d) => {
                    let _ = (fp::md5(d), fp::sha1(d), fp::sha256(d));
                    let _ = x509::names(d, &mut |_, _| {});
                }
                _ => {}
            }
            seen.push(format!("{f:?}"));
        });
        assert!(n <= buf.len());
        buf.drain(..n);
        assert!(p.done() || buf.len() < p.max_buffer());
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let port = [443, 25, 1080, 3128][usize::from(sel & 3)];
    let whole = stream(port, &[rest]);
    let at = usize::from(sel >> 2) * rest.len() / 64;
    assert_eq!(stream(port, &[&rest[..at], &rest[at..]]), whole);
    // The message parsers straight on the bytes.
    if let Ok(Some(h)) = tls::server_hello(rest) {
        let _ = (h.negotiated_version(), fp::ja3s(&h), fp::ja4s(&h, Ja4Transport::Quic));
    }
    if let Ok(Some(h)) = tls::client_hello(rest) {
        let _ = (fp::ja3(&h), fp::ja4(&h, Ja4Transport::Tcp), h.server_name());
    }
    for c in tls::certificates(rest).take(1000) {
        if let Ok(der) = c {
            let _ = x509::names(der, &mut |_, _| {});
        }
    }
});
