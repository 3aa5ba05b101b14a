//! HTTP/2 cleartext client streams for tests: frames written by hand, header blocks by
//! `loona-hpack`'s encoder (literals and dynamic-table indexes, no Huffman; Huffman is covered
//! by RFC 7541's examples and by the nghttp2 capture).

/// The client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// One frame.
pub fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut f = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8, ty, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

const HEADERS: u8 = 1;
const CONTINUATION: u8 = 9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

fn settings() -> Vec<u8> {
    // HEADER_TABLE_SIZE 4096, INITIAL_WINDOW_SIZE 65535.
    frame(4, 0, 0, &[0, 1, 0, 0, 0x10, 0, 0, 4, 0, 0, 0xff, 0xff])
}

/// Two-element header lists as the encoder takes them.
fn block(enc: &mut loona_hpack::Encoder, fields: &[(&str, &str)]) -> Vec<u8> {
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

/// A prior-knowledge connection: SETTINGS, WINDOW_UPDATE; a padded, prioritised HEADERS;
/// a request whose block spans HEADERS and two CONTINUATIONs, its DATA (which holds an
/// HTTP/1 request line that must not be read) and trailers; PING; an `https` request; a
/// request without `:authority` (its `host` field names the host). Returns the stream and
/// the heads trawl writes for its requests.
pub fn prior_knowledge() -> (Vec<u8>, Vec<String>) {
    let mut enc = loona_hpack::Encoder::new();
    let mut s = PREFACE.to_vec();
    s.extend(settings());
    s.extend(frame(8, 0, 0, &[0, 0, 0x40, 0]));
    let b1 = block(
        &mut enc,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "h2.example:8080"),
            (":path", "/a?b=c"),
            ("user-agent", "h2client/1"),
            ("referer", "http://ref.example/page"),
            ("x-forwarded-for", "192.0.2.44, 198.51.100.9"),
        ],
    );
    let mut p = vec![3u8];
    p.extend_from_slice(&[0, 0, 0, 0, 15]);
    p.extend_from_slice(&b1);
    p.extend_from_slice(&[0, 0, 0]);
    s.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM | PADDED | PRIORITY,
        1,
        &p,
    ));
    let b2 = block(
        &mut enc,
        &[
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", "h2.example:8080"),
            (":path", "/upload"),
            ("user-agent", "h2client/1"),
            ("content-type", "application/octet-stream"),
        ],
    );
    let (x, y) = (b2.len() / 3, 2 * b2.len() / 3);
    s.extend(frame(HEADERS, 0, 3, &b2[..x]));
    s.extend(frame(CONTINUATION, 0, 3, &b2[x..y]));
    s.extend(frame(CONTINUATION, END_HEADERS, 3, &b2[y..]));
    s.extend(frame(
        0,
        0,
        3,
        b"GET /fake HTTP/1.1\r\nHost: fake.example\r\n\r\n",
    ));
    let t = block(&mut enc, &[("x-checksum", "abc")]);
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &t));
    s.extend(frame(6, 0, 0, &[1, 2, 3, 4, 5, 6, 7, 8]));
    let b3 = block(
        &mut enc,
        &[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "secure.example"),
            (":path", "/s"),
        ],
    );
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 5, &b3));
    let b4 = block(
        &mut enc,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/no-authority"),
            ("host", "hosted.example"),
        ],
    );
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 7, &b4));
    let heads = [
        "GET /a?b=c HTTP/2\r\nHost: h2.example:8080\r\nuser-agent: h2client/1\r\n\
         referer: http://ref.example/page\r\nx-forwarded-for: 192.0.2.44, 198.51.100.9\r\n",
        "POST /upload HTTP/2\r\nHost: h2.example:8080\r\nuser-agent: h2client/1\r\n\
         content-type: application/octet-stream\r\n",
        "GET https://secure.example/s HTTP/2\r\nHost: secure.example\r\n",
        "GET /no-authority HTTP/2\r\nhost: hosted.example\r\n",
    ];
    (s, heads.iter().map(|h| h.to_string()).collect())
}

/// An HTTP/1.1 request that asks for `Upgrade: h2c`, then the preface and a request on
/// stream 3. Returns the stream and the HTTP/2 request's head.
pub fn upgrade() -> (Vec<u8>, String) {
    let mut s = b"GET /up HTTP/1.1\r\nHost: up.example\r\nConnection: Upgrade, HTTP2-Settings\r\n\
                  Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
        .to_vec();
    s.extend_from_slice(PREFACE);
    s.extend(settings());
    let mut enc = loona_hpack::Encoder::new();
    let b = block(
        &mut enc,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "up.example"),
            (":path", "/next"),
            ("user-agent", "upgrader/2"),
        ],
    );
    s.extend(frame(HEADERS, END_HEADERS | END_STREAM, 3, &b));
    (
        s,
        "GET /next HTTP/2\r\nHost: up.example\r\nuser-agent: upgrader/2\r\n".to_string(),
    )
}

/// A server's side: (after `101 Switching Protocols` when `upgrade`) SETTINGS, a response, a
/// padded PUSH_PROMISE whose block continues in a CONTINUATION, DATA, the pushed response.
/// Returns the stream and the head of the pushed request.
pub fn server_push(upgrade: bool) -> (Vec<u8>, String) {
    let mut s = Vec::new();
    if upgrade {
        s.extend_from_slice(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
        );
    }
    s.extend(settings());
    let mut enc = loona_hpack::Encoder::new();
    let r = block(
        &mut enc,
        &[(":status", "200"), ("content-type", "text/html")],
    );
    s.extend(frame(HEADERS, END_HEADERS, 1, &r));
    let p = block(
        &mut enc,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "push.example"),
            (":path", "/pushed.css"),
        ],
    );
    let mut payload = vec![2u8, 0, 0, 0, 2];
    payload.extend_from_slice(&p[..5]);
    payload.extend_from_slice(&[0, 0]);
    s.extend(frame(5, PADDED, 1, &payload));
    s.extend(frame(CONTINUATION, END_HEADERS, 1, &p[5..]));
    s.extend(frame(
        0,
        END_STREAM,
        1,
        b"<html>GET /x HTTP/1.1\r\n\r\n</html>",
    ));
    let r = block(
        &mut enc,
        &[(":status", "200"), ("content-type", "text/css")],
    );
    s.extend(frame(HEADERS, END_HEADERS, 2, &r));
    (
        s,
        "GET /pushed.css HTTP/2\r\nHost: push.example\r\n".to_string(),
    )
}
