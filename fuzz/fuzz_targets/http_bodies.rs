//! HTTP bodies as files: a client stream (requests with bodies, multipart uploads) and a server
//! stream (responses: lengths, chunks, gzip/deflate, until close) from arbitrary bytes, after
//! a valid prefix the first byte chooses. Never panics; any two-chunk cut reports exactly what
//! the whole stream reports, the connection's end included; never more than `max_buffer` bytes
//! unconsumed; memory held by the parser stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::flow_table::AppMemory;

const PREFIXES: [&[u8]; 6] = [
    b"POST /u HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 60\r\n\r\n--b\r\n\r\n",
    b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 40\r\n\r\n\x1f\x8b\x08\x00",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
];

fn stream(from_client: bool, chunks: &[&[u8]]) -> Vec<String> {
    let mut p = StreamParser::new(from_client, 80);
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
        assert!(p.held() < 256 << 10, "{}", p.held());
    }
    p.end(true, &mut |f: Found| seen.push(format!("{f:?}")));
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let prefix = PREFIXES[usize::from(choice) % PREFIXES.len()];
    let from_client = prefix.starts_with(b"POST");
    let input = [prefix, rest].concat();
    let whole = stream(from_client, &[&input]);
    let cut = usize::from(choice) * 7 % (input.len() + 1);
    let split = stream(from_client, &[&input[..cut], &input[cut..]]);
    assert_eq!(whole, split);
});
