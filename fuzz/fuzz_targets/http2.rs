//! HTTP/2 cleartext frames and HPACK header blocks (`app::h2`) through the stream parser:
//! byte 0 picks the direction (high bit: the server's, else the client's after its preface),
//! bytes 1–2 a cut; the rest is frames. No panic; every request's head reads back as a
//! request; the cut changes nothing; the parser buffers less than it says.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::app::{h2, http};

fn stream(client: bool, chunks: &[&[u8]]) -> Vec<String> {
    let mut p = StreamParser::new(client, 80);
    let mut buf = Vec::new();
    let mut seen = Vec::new();
    for c in chunks {
        buf.extend_from_slice(c);
        let n = p.parse(&buf, &mut |f| {
            seen.push(match f {
                Found::Http(r) => {
                    let back = http::request_or_h2_head(r.head);
                    assert_eq!(back, Ok(Some(r)));
                    format!("R {:?}", r.head)
                }
                Found::Error(e) => format!("E {e}"),
                other => format!("{other:?}"),
            })
        });
        buf.drain(..n);
        assert!(p.done() || buf.len() < p.max_buffer());
    }
    seen
}

fuzz_target!(|data: &[u8]| {
    if let [sel, a, b, rest @ ..] = data {
        let client = sel & 0x80 == 0;
        let mut s = Vec::new();
        if client {
            s.extend_from_slice(h2::PREFACE);
        }
        s.extend_from_slice(rest);
        let at = usize::from(u16::from_be_bytes([*a, *b])) % (s.len() + 1);
        let (x, y) = s.split_at(at);
        assert_eq!(stream(client, &[x, y]), stream(client, &[&s]));
    }
});
