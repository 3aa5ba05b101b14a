//! The stream parser (`app::stream`) fed as the TCP reassembler feeds it: for each protocol a
//! stream of several messages gives the observations of the messages parsed one by one; any
//! segmentation gives the observations of the whole stream (property, and every two-chunk cut
//! of an HTTP head and of a post-quantum ClientHello); hostile streams stay within
//! `max_buffer` and never panic.

use std::path::Path;

use proptest::prelude::*;
use trawl::testing::app::stream::{self, Found, StreamParser};
use trawl::testing::app::{dns, h2, http, mime, smtp, tls};

#[path = "common/h2c.rs"]
mod h2c;

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/payloads")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn render_request(r: &http::Request) -> String {
    format!(
        "R {} {} {} host={:?} ua={:?} auth={:?} head={}",
        s(r.method),
        s(r.uri),
        s(r.version),
        r.host.map(s),
        r.user_agent.map(s),
        r.authority().map(s),
        s(r.head)
    )
}

/// A DNS message's items, as `D Q name`, `D N name`, `D A addr`, then its outcome.
fn render_dns(msg: &[u8]) -> String {
    let mut nb = dns::NameBuf::new();
    let mut v = Vec::new();
    let r = dns::parse(msg, &mut nb, |it| {
        v.push(match it {
            dns::DnsItem::Question(n) => format!("Q {}", s(n)),
            dns::DnsItem::AnswerName(n) => format!("N {}", s(n)),
            dns::DnsItem::AnswerAddr(a) => format!("A {a}"),
        })
    });
    format!("D {v:?} {:?}", r.map(|sum| sum.id))
}

fn render(f: Found) -> String {
    match f {
        Found::Host(field, h) => format!("H {} {}", field.ecs(), s(h)),
        Found::Addr(field, a) => format!("A {} {a}", field.ecs()),
        Found::Http(r) => render_request(&r),
        Found::Dns(m) => render_dns(m),
        Found::Mail(field, a) => format!("M {} {}", field.ecs(), s(a)),
        Found::ClientHello(m) => format!("CH {}", m.len()),
        Found::ServerHello(m) => format!("SH {}", m.len()),
        Found::Certificate(d) => format!("X {}", d.len()),
        Found::File {
            field,
            name,
            digests,
        } => format!(
            "F {field:?} {:?} md5={} sha256={} size={}",
            s(name),
            hex(&digests.md5),
            hex(&digests.sha256),
            digests.size
        ),
        Found::Error(e) => format!("E {e}"),
    }
}

/// What a parser reports, fed as the reassembler feeds it: each chunk appended to the
/// unconsumed rest, `parse` called, the consumed prefix dropped; no more buffering once done.
/// Checks the buffering bound after every call.
fn feed(from_client: bool, port: u16, chunks: &[&[u8]]) -> (Vec<String>, bool) {
    let mut p = StreamParser::new(from_client, port);
    let mut buf: Vec<u8> = Vec::new();
    let mut seen = Vec::new();
    for c in chunks {
        if p.done() {
            break;
        }
        buf.extend_from_slice(c);
        let n = p.parse(&buf, &mut |f| seen.push(render(f)));
        assert!(n <= buf.len());
        buf.drain(..n);
        assert!(
            p.done() || buf.len() < p.max_buffer(),
            "{} bytes left, max_buffer {}",
            buf.len(),
            p.max_buffer()
        );
    }
    if !p.done() {
        // The connection closes (FIN): a body delimited by the close ends here.
        p.end(true, &mut |f| seen.push(render(f)));
    }
    (seen, p.done())
}

fn whole(from_client: bool, port: u16, data: &[u8]) -> Vec<String> {
    feed(from_client, port, &[data]).0
}

/// `data` cut at the given offsets (sorted, deduplicated, clamped).
fn cut<'a>(data: &'a [u8], offsets: &[usize]) -> Vec<&'a [u8]> {
    let mut o: Vec<usize> = offsets.iter().map(|&x| x % (data.len() + 1)).collect();
    o.sort_unstable();
    o.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for x in o {
        out.push(&data[at..x]);
        at = x;
    }
    out.push(&data[at..]);
    out
}

// ---------------------------------------------------------------------------------------------
// Streams

fn get(host: &str, uri: &str) -> Vec<u8> {
    format!("GET {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ua/1\r\n\r\n").into_bytes()
}

/// A request head as sent and its body's content (its chunked framing removed).
type Message = (Vec<u8>, Vec<u8>);

/// Keep-alive and pipelined requests with every body framing.
fn http_stream() -> (Vec<u8>, Vec<Message>) {
    // A body that looks like a request is skipped, not read.
    let fake = b"GET /fake HTTP/1.1\r\nHost: fake\r\n\r\n\r\n";
    let chunk2 = b"GET /fake HTTP/1.1\r\n\r\nabcd";
    let heads: Vec<Vec<u8>> = vec![
        get("a.example", "/one"),
        format!(
            "POST /form HTTP/1.1\r\nHost: b.example\r\nContent-Length: {}\r\n\r\n",
            fake.len()
        )
        .into_bytes(),
        b"POST /up HTTP/1.1\nHost: c.example\nTransfer-Encoding: gzip, chunked\n\n".to_vec(),
        fixture("http-get-basicauth.bin"),
        b"PUT /x HTTP/1.0\r\nHost: d.example\r\ncontent-length: 5, 5\r\n\r\n".to_vec(),
        get("e.example:8080", "http://f.example/proxy"),
    ];
    let mut chunked = b"5;ext=1\r\nGET /\r\n".to_vec();
    chunked.extend_from_slice(format!("{:X}\r\n", chunk2.len()).as_bytes());
    chunked.extend_from_slice(chunk2);
    chunked.extend_from_slice(b"\n0\r\nX-Trailer: t\r\n\r\n");
    let bodies: Vec<&[u8]> = vec![
        b"",
        fake,
        &chunked,
        b"",
        b"hello\r\n\r\n", // and empty lines between requests
        b"",
    ];
    let mut stream = Vec::new();
    for (h, b) in heads.iter().zip(&bodies) {
        stream.extend_from_slice(h);
        stream.extend_from_slice(b);
    }
    let contents: Vec<Vec<u8>> = vec![
        vec![],
        fake.to_vec(),
        [&b"GET /"[..], chunk2].concat(),
        vec![],
        b"hello".to_vec(),
        vec![],
    ];
    (stream, heads.into_iter().zip(contents).collect())
}

/// Responses with every framing and coding, as a server sends them, and the files they carry
/// (name, content): Content-Length, chunked, gzip, raw deflate, no body (204, 304, 1xx), and
/// last a body delimited by the connection's close.
fn response_stream() -> (Vec<u8>, Vec<(&'static str, Vec<u8>)>) {
    use std::io::Write;
    let page = b"<html>a page</html>".to_vec();
    let big: Vec<u8> = (0..5000u32).map(|i| (i % 97) as u8).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&big).unwrap();
    let gz = gz.finish().unwrap();
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    raw.write_all(&page).unwrap();
    let raw = raw.finish().unwrap();
    let mut out = Vec::new();
    out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
    out.extend_from_slice(
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", page.len()).as_bytes(),
    );
    out.extend_from_slice(&page);
    out.extend_from_slice(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n");
    out.extend_from_slice(b"HTTP/1.1 304 Not Modified\r\n\r\n");
    out.extend_from_slice(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n\r\n");
    for c in gz.chunks(1000) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out.extend_from_slice(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: {}\r\n\r\n",
            raw.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&raw);
    out.extend_from_slice(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
    out.extend_from_slice(&big[..3000]);
    let files = vec![
        ("", page.clone()),
        ("big.bin", big.clone()),
        ("", page),
        ("", big[..3000].to_vec()),
    ];
    (out, files)
}

/// An upload form: a field, a file, and a part whose content holds a near-delimiter.
fn multipart_upload() -> Vec<u8> {
    let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue\r\n\
                 --XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"up.exe\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\nMZ\r\n--XyQ not it\r\n--XyZ--\r\n";
    let mut out = format!(
        "POST /up HTTP/1.1\r\nHost: u\r\nContent-Type: multipart/form-data; boundary=\"XyZ\"\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[test]
fn multipart_parts_are_files() {
    let seen = whole(true, 80, &multipart_upload());
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], render_file(b"", b"value"));
    assert_eq!(seen[2], render_file(b"up.exe", b"MZ\r\n--XyQ not it"));
}

/// How the stream parser reports a body of `content` sent to `uri`, hashed here with the
/// digest crates directly.
fn render_file(uri: &[u8], content: &[u8]) -> String {
    use sha2::Digest;
    let name = uri.strip_prefix(b"http://f.example").unwrap_or(uri);
    format!(
        "F HttpFile {:?} md5={} sha256={} size={}",
        s(name),
        hex(&md5::Md5::digest(content)),
        hex(&sha2::Sha256::digest(content)),
        content.len()
    )
}

fn client_hello_pq() -> Vec<u8> {
    fixture("tls-clienthello-two-segments.bin")
}

/// The handshake message of a single-record ClientHello cut into records of the given sizes.
fn reframe(record: &[u8], sizes: &[usize]) -> Vec<u8> {
    let hs = &record[5..];
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes
        .iter()
        .chain(std::iter::once(&(hs.len() - sizes.iter().sum::<usize>())))
    {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&hs[at..at + n]);
        at += n;
    }
    out
}

fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend_from_slice(l.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

fn framed(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

fn smtp_stream() -> Vec<u8> {
    let mut v = b"EHLO client.example\r\n".to_vec();
    v.extend_from_slice(&fixture("smtp-pipelined-envelope.bin")); // ends with DATA
    v.extend_from_slice(
        b"From: \"A, B\" <hdr-from@example.org>\r\nTo: undisclosed-recipients:;\r\n\
          Cc: c1@example.org,\r\n\tc2@example.org (C2)\r\nSubject: x\r\n\
          Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n\
          Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--zz--\r\n\
          MAIL FROM:<text@fake>\r\n..\r\n.not-the-end\r\n.\r\n\
          MAIL FROM:<second@example.org>\r\nrcpt to: <r2@example.org>\r\n\
          BDAT 52\r\nRCPT TO:<in-bdat@fake>\r\nReply-To: <rt@example.org>\r\n\
          BDAT 0 LAST\r\nRCPT TO:<>\r\nMAIL FROM:<third@example.org>\nSTARTTLS\r\n\
          MAIL FROM:<after-tls@fake>\r\n",
    );
    v
}

fn socks5(atyp_addr: &[u8], port: u16, auth: bool, inner: &[u8]) -> Vec<u8> {
    let mut v = if auth {
        b"\x05\x02\x00\x02\x01\x04user\x04pass".to_vec()
    } else {
        b"\x05\x01\x00".to_vec()
    };
    v.extend_from_slice(&[5, 1, 0]);
    v.extend_from_slice(atyp_addr);
    v.extend_from_slice(&port.to_be_bytes());
    v.extend_from_slice(inner);
    v
}

/// Every stream of the tests, with its port: (name, from_client, port, bytes).
fn streams() -> Vec<(&'static str, bool, u16, Vec<u8>)> {
    let pq = client_hello_pq();
    let mut connect =
        b"CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n".to_vec();
    connect.extend_from_slice(&reframe(&pq, &[700]));
    let mut socks4a = b"\x04\x01\x00\x50\x00\x00\x00\x01user\x00s4a.example\x00".to_vec();
    socks4a.extend_from_slice(&get("s4a.example", "/"));
    let mut socks4 = b"\x04\x01\x00\x19\xc0\x00\x02\x07\x00".to_vec();
    socks4.extend_from_slice(b"MAIL FROM:<via-socks@example.org>\r\n"); // port 25: SMTP
    vec![
        ("http", true, 80, http_stream().0),
        ("http responses", false, 80, response_stream().0),
        ("h2c prior knowledge", true, 80, h2c::prior_knowledge().0),
        ("h2c upgrade", true, 8080, h2c::upgrade().0),
        ("h2c server push", false, 80, h2c::server_push(false).0),
        (
            "h2c server push, upgraded",
            false,
            8080,
            h2c::server_push(true).0,
        ),
        ("http multipart", true, 80, multipart_upload()),
        ("tls one record", true, 443, pq.clone()),
        ("tls two records", true, 443, reframe(&pq, &[1000])),
        ("tls three records", true, 443, reframe(&pq, &[3, 1700])),
        (
            "dns queries",
            true,
            53,
            framed(&[dns_query(1, "a.example"), dns_query(2, "b.example")]),
        ),
        ("dns response", false, 53, fixture("dns-tcp-response.bin")),
        ("smtp", true, 587, smtp_stream()),
        ("connect", true, 3128, connect),
        ("socks4a", true, 1080, socks4a),
        ("socks4", true, 1080, socks4),
        (
            "socks5 domain + auth",
            true,
            1080,
            socks5(b"\x03\x0as5.example", 443, true, &pq),
        ),
        (
            "socks5 v4",
            true,
            9050,
            socks5(b"\x01\xc6\x33\x64\x01", 80, false, &get("x.example", "/")),
        ),
        (
            "socks5 v6",
            true,
            9050,
            socks5(
                &[&[4u8][..], &[0x20, 1, 0xd, 0xb8], &[0; 11], &[1]].concat(),
                53,
                true,
                &framed(&[dns_query(9, "in.socks")]),
            ),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Whole streams against the messages one by one

#[test]
fn http_every_response_of_a_connection() {
    let (stream, files) = response_stream();
    let want: Vec<String> = files
        .iter()
        .map(|(name, content)| render_file(name.as_bytes(), content))
        .collect();
    assert_eq!(whole(false, 80, &stream), want);
    // Without the close, the last body is not whole: counted, not reported.
    let mut p = StreamParser::new(false, 80);
    let mut seen = Vec::new();
    p.parse(&stream, &mut |f| seen.push(render(f)));
    p.end(false, &mut |f| seen.push(render(f)));
    assert_eq!(seen[..3], want[..3]);
    assert_eq!(seen[3], "E file: transfer incomplete");
}

#[test]
fn a_response_to_head_has_no_body_and_files_are_named_by_their_request() {
    let mut client = StreamParser::new(true, 80);
    let mut server = StreamParser::new(false, 80);
    client.parse(
        b"HEAD /a.exe HTTP/1.1\r\nHost: h\r\n\r\nGET /dl/b.exe?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut |_| {},
    );
    client.hand_over(&mut server);
    let mut seen = Vec::new();
    let responses = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\
                      HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    let n = server.parse(responses, &mut |f| seen.push(render(f)));
    assert_eq!(n, responses.len());
    assert_eq!(seen, [render_file(b"/dl/b.exe", b"hello")]);
}

#[test]
fn http_every_request_of_a_connection() {
    let (stream, messages) = http_stream();
    let mut want = Vec::new();
    for (h, content) in &messages {
        let r = http::request(h).unwrap().unwrap();
        want.push(render_request(&r));
        if !content.is_empty() {
            want.push(render_file(r.uri, content));
        }
    }
    assert_eq!(whole(true, 80, &stream), want);
    assert_eq!(want.len(), 9);
    // A request without a target is still read (its Host is what peers report for it) and
    // counted; the next one is read.
    let bad_head = b"GET  HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut bad = bad_head.to_vec();
    bad.extend_from_slice(&get("after.example", "/"));
    assert_eq!(
        whole(true, 80, &bad),
        [
            render_request(&http::request(bad_head).unwrap().unwrap()),
            format!("E {}", http::E_TARGET),
            render_request(&http::request(&get("after.example", "/")).unwrap().unwrap())
        ]
    );
    // Not HTTP/1.x: the direction is given up (the HTTP/2 preface starts HTTP/2 frames).
    let (seen, done) = feed(true, 80, &[b"RTSP/1.0 200 OK\r\n\r\n"]);
    assert!(seen.is_empty() && done);
    let (seen, done) = feed(true, 80, &[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"]);
    assert!(seen.is_empty() && !done);
    let (seen, done) = feed(true, 80, &[b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"]);
    assert!(seen.is_empty() && done);
    // A bad framing is counted, then the next request line is found.
    let mut te = b"POST / HTTP/1.1\r\nHost: y\r\nTransfer-Encoding: gzip\r\n\r\nzzz\r\n".to_vec();
    te.extend_from_slice(&get("z.example", "/"));
    let seen = whole(true, 80, &te);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], format!("E {}", http::E_TRANSFER_ENCODING));
    assert!(seen[2].contains("z.example"));
}

#[test]
fn tls_client_hello_across_records() {
    let pq = client_hello_pq();
    // The name as the ClientHello's own walk reads it from the bare handshake message.
    let want = [
        format!(
            "H tls.client.server_name {}",
            s(tls::handshake_sni(&pq[5..]).unwrap().unwrap())
        ),
        format!("CH {}", pq.len() - 5),
    ];
    let name_at = pq
        .windows(19)
        .position(|w| w == b"clients2.google.com")
        .unwrap()
        - 5;
    for rec in [
        pq.clone(),
        reframe(&pq, &[1000]),
        reframe(&pq, &[1, 2, 3, 1000]),
        reframe(&pq, &[name_at - 2]),
    ] {
        let (seen, done) = feed(true, 443, &[&rec]);
        assert_eq!(seen, want);
        assert!(done);
    }
    // The name split between two records: the stream joins the records.
    let split = reframe(&pq, &[name_at + 3]);
    assert_eq!(whole(true, 443, &split), want);
    // A record that is not a handshake before the end of the ClientHello.
    let mut alert = reframe(&pq, &[100]);
    alert[105] = 21;
    assert_eq!(
        whole(true, 443, &alert),
        [format!("E {}", tls::E_INTERRUPTED)]
    );
}

#[test]
fn dns_every_message() {
    let msgs = vec![dns_query(1, "a.example"), dns_query(2, "b.example")];
    let want: Vec<String> = msgs.iter().map(|m| render_dns(m)).collect();
    assert_eq!(whole(true, 53, &framed(&msgs)), want);
    let resp = fixture("dns-tcp-response.bin");
    assert_eq!(whole(false, 53, &resp), [render_dns(&resp[2..])]);
    // The server direction of other ports unless it sends HTTP responses, a TLS ServerHello
    // or a SOCKS reply, and a bad length, end the direction.
    assert!(feed(false, 80, &[b"SSH-2.0-OpenSSH\r\n"]).1);
    assert!(feed(false, 8000, &[b"\x01binary"]).1);
    assert!(!feed(false, 80, &[b"HTTP/1.1 200 OK\r\n"]).1);
    assert_eq!(
        whole(true, 53, b"\x00\x05hello"),
        [format!("E {}", stream::E_DNS_LENGTH)]
    );
}

#[test]
fn smtp_envelope_of_every_transaction() {
    let seen = whole(true, 587, &smtp_stream());
    // The command lines alone, parsed one by one.
    let commands = [
        "MAIL FROM:<papanoel@intradef.gouv.fr> SIZE=16530",
        "RCPT TO:<aponcelet@shewa.intradef.gouv.fr> ORCPT=rfc822;aponcelet@shewa.intradef.gouv.fr",
        "MAIL FROM:<second@example.org>",
        "rcpt to: <r2@example.org>",
        "RCPT TO:<>",
        "MAIL FROM:<third@example.org>",
    ];
    let mut want = Vec::new();
    for c in commands {
        match smtp::command_envelope(c.as_bytes()) {
            Ok(Some(smtp::Envelope::MailFrom(a))) => {
                want.push(format!("M email.from.address {}", s(a)))
            }
            Ok(Some(smtp::Envelope::RcptTo(a))) => {
                want.push(format!("M email.to.address {}", s(a)))
            }
            Ok(None) => {}
            Err(e) => want.push(format!("E {e}")),
        }
    }
    // The header addresses of the DATA message, and of the BDAT one once its LAST arrives.
    let header = |f: &str, a: &str| format!("M email.{f}.address {a}");
    want.splice(
        2..2,
        [
            header("from", "hdr-from@example.org"),
            header("cc", "c1@example.org"),
            header("cc", "c2@example.org"),
            // Its one part, `hello` in base64.
            "F SmtpAttachment \"\" md5=5d41402abc4b2a76b9719d911017c592 \
             sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 size=5"
                .to_string(),
        ],
    );
    want.insert(8, header("reply_to", "rt@example.org"));
    assert_eq!(seen, want);
    assert!(!seen.iter().any(|x| x.contains("fake")));
    assert_eq!(seen.len(), 11); // 9 addresses, a part and the empty recipient's reason
    // After STARTTLS only a ClientHello is read: commands are done with.
    assert!(!feed(true, 25, &[b"STARTTLS\r\n"]).1);
    assert_eq!(
        feed(true, 25, &[b"STARTTLS\r\nMAIL FROM:<clear@fake>\r\n"]),
        (vec![], true)
    );
    let mut starttls = b"EHLO x\r\nSTARTTLS\r\n".to_vec();
    starttls.extend_from_slice(&client_hello_pq());
    assert_eq!(
        whole(true, 587, &starttls)[0],
        "H tls.client.server_name clients2.google.com"
    );
}

#[test]
fn tunnels_report_the_target_then_parse_inside() {
    let all = streams();
    let get = |name: &str| {
        let (_, c, p, d) = all.iter().find(|x| x.0 == name).unwrap();
        whole(*c, *p, d)
    };
    let sni = "H tls.client.server_name clients2.google.com".to_string();
    let connect = get("connect");
    assert_eq!(connect.len(), 3);
    assert!(connect[0].contains("auth=Some(\"tunnel.example:443\")"));
    assert_eq!(connect[1], sni);
    assert!(connect[2].starts_with("CH "));
    let s4a = get("socks4a");
    assert_eq!(s4a[0], "H destination.address s4a.example");
    assert!(s4a[1].starts_with("R GET / HTTP/1.1 host=Some(\"s4a.example\")"));
    assert_eq!(
        get("socks4"),
        [
            "A destination.address 192.0.2.7",
            "M email.from.address via-socks@example.org"
        ]
    );
    assert_eq!(
        get("socks5 domain + auth")[..2],
        ["H destination.address s5.example".to_string(), sni]
    );
    let v4 = get("socks5 v4");
    assert_eq!(v4[0], "A destination.address 198.51.100.1");
    assert!(v4[1].contains("x.example"));
    let v6 = get("socks5 v6");
    assert_eq!(v6[0], "A destination.address 2001:db8::1");
    assert_eq!(v6[1], render_dns(&dns_query(9, "in.socks")));
    // UDP ASSOCIATE names no target; junk after a greeting is an error.
    assert!(
        feed(
            true,
            1080,
            &[b"\x05\x01\x00\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00"]
        )
        .1
    );
    assert_eq!(
        whole(true, 1080, b"\x05\x01\x00\x07junk"),
        [format!("E {}", stream::E_SOCKS5)]
    );
    // Not a greeting at all: nothing is read.
    assert!(feed(true, 1080, &[b"\x05\x00"]).1);
    assert!(feed(true, 8000, &[b"\x00\x01binary"]).1);
}

#[test]
fn gaps_resynchronise_http_and_smtp() {
    let mut p = StreamParser::new(true, 80);
    let mut seen = Vec::new();
    let head = b"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nbody";
    let n = p.parse(head, &mut |f| seen.push(render(f)));
    assert_eq!(n, head.len());
    p.gap(1000, &mut |f| seen.push(render(f)));
    // The body lost is counted, not hashed.
    assert_eq!(seen[1], "E file: transfer incomplete");
    // The rest of a line, then a request line.
    let rest = b"dy of the lost\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n";
    assert_eq!(p.parse(rest, &mut |f| seen.push(render(f))), rest.len());
    assert_eq!(seen.len(), 3);
    assert!(seen[2].contains("host=Some(\"b\")"));

    let mut p = StreamParser::new(true, 25);
    let mut seen = Vec::new();
    p.parse(b"MAIL FROM:<a@b.example>\r\nDATA\r\ntext", &mut |f| {
        seen.push(render(f))
    });
    p.gap(1000, &mut |_| {});
    p.parse(b"lost line\r\nRCPT TO:<c@d.example>\r\n", &mut |f| {
        seen.push(render(f))
    });
    assert_eq!(
        seen,
        [
            "M email.from.address a@b.example",
            "M email.to.address c@d.example"
        ]
    );

    for (port, first) in [
        (443u16, reframe(&client_hello_pq(), &[100])),
        (53, framed(&[dns_query(1, "x")])),
    ] {
        let mut p = StreamParser::new(true, port);
        p.parse(&first[..10], &mut |_| {});
        p.gap(1000, &mut |_| {});
        assert!(p.done());
    }
}

// ---------------------------------------------------------------------------------------------
// Segmentation invariance

/// The heads a client-side stream parser reports, and its errors.
fn h2_heads(data: &[u8], port: u16) -> (Vec<String>, Vec<&'static str>) {
    h2_heads_from(true, data, port)
}

fn h2_heads_from(client: bool, data: &[u8], port: u16) -> (Vec<String>, Vec<&'static str>) {
    let (mut heads, mut errors) = (Vec::new(), Vec::new());
    StreamParser::new(client, port).parse(data, &mut |f| match f {
        Found::Http(r) => heads.push(s(r.head)),
        Found::Error(e) => errors.push(e),
        _ => panic!("{}", render(f)),
    });
    (heads, errors)
}

#[test]
fn h2c_every_request_by_prior_knowledge_and_after_an_upgrade() {
    let (data, want) = h2c::prior_knowledge();
    let (heads, errors) = h2_heads(&data, 80);
    assert_eq!(heads, want);
    assert!(errors.is_empty(), "{errors:?}");
    // The heads read back as requests: host, URL, user agent, referer, forwarded addresses.
    let r = http::request_or_h2_head(want[0].as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(r.authority(), Some(&b"h2.example:8080"[..]));
    assert_eq!(r.user_agent, Some(&b"h2client/1"[..]));
    assert_eq!(r.referer, Some(&b"http://ref.example/page"[..]));
    let mut url = Vec::new();
    assert!(http::full_url(&r, None, &mut url));
    assert_eq!(s(&url), "http://h2.example:8080/a?b=c");
    let mut xff = Vec::new();
    http::forwarded_addrs(r.head, |a| xff.push(a.to_string()));
    assert_eq!(xff, ["192.0.2.44", "198.51.100.9"]);
    let r = http::request_or_h2_head(want[2].as_bytes())
        .unwrap()
        .unwrap();
    assert!(http::full_url(&r, None, &mut url));
    assert_eq!(s(&url), "https://secure.example/s");
    let r = http::request_or_h2_head(want[3].as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(r.authority(), Some(&b"hosted.example"[..]));
    // A head of HTTP/2 is not an HTTP/1 request.
    assert_eq!(http::request(want[0].as_bytes()), Ok(None));

    let (data, want) = h2c::upgrade();
    let (heads, errors) = h2_heads(&data, 8080);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(heads[0].starts_with("GET /up HTTP/1.1\r\n"));
    assert_eq!(heads[1], want);
    assert!(errors.is_empty(), "{errors:?}");

    // The server's side: its responses are decoded (for the table) and not reported; the
    // request it pushes is.
    for upgrade in [false, true] {
        let (data, want) = h2c::server_push(upgrade);
        assert_eq!(h2_heads_from(false, &data, 80), (vec![want], vec![]));
    }
    // A server's side that starts neither with SETTINGS nor an HTTP/1.x status line is not
    // read (a status line starts the responses, with their bodies).
    for data in [
        &b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"[..],
        b"\x00\x00\x05\x04\x00\x00\x00\x00\x00",
    ] {
        assert!(feed(false, 80, &[data]).1);
    }
}

#[test]
fn h2c_hostile_streams_stay_bounded() {
    let f = h2c::frame;
    let pre = |frames: &[Vec<u8>]| [h2c::PREFACE.to_vec(), frames.concat()].concat();
    // A DATA frame of 16 MB is stepped over as it arrives; the request after it is read.
    let mut enc = loona_hpack::Encoder::new();
    let b = enc.encode([(&b":method"[..], &b"GET"[..]), (b":path", b"/after")]);
    let mut data = pre(&[f(0, 0, 1, &[]), f(1, 4, 3, &b)]);
    let huge = [0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1];
    data.splice(24..24 + 9, huge);
    data.splice(33..33, vec![0u8; 0xff_ffff]);
    let chunks: Vec<&[u8]> = data.chunks(1460).collect();
    let (seen, done) = feed(true, 80, &chunks);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("head=GET /after HTTP/2"), "{seen:?}");
    assert!(!done);
    // A HEADERS frame longer than a block may be: reported, then done.
    let (seen, done) = feed(true, 80, &[&pre(&[f(1, 4, 1, &vec![0x82; 70_000])])]);
    assert_eq!(seen, [format!("E {}", h2::E_BLOCK)]);
    assert!(done);
    // Endless CONTINUATION frames: the block limit ends them.
    let mut frames = vec![f(1, 0, 1, &[0x82])];
    frames.extend((0..100).map(|_| f(9, 0, 1, &[0x82; 1000])));
    let data = pre(&frames);
    let chunks: Vec<&[u8]> = data.chunks(1460).collect();
    let (seen, done) = feed(true, 80, &chunks);
    assert_eq!(seen, [format!("E {}", h2::E_BLOCK)]);
    assert!(done);
    // Another frame inside a header block, a CONTINUATION that continues nothing.
    for frames in [
        vec![f(1, 0, 1, &[0x82]), f(0, 0, 1, b"x")],
        vec![f(1, 0, 1, &[0x82]), f(9, 4, 3, &[0x84])],
        vec![f(9, 4, 1, &[0x82])],
    ] {
        assert_eq!(
            feed(true, 80, &[&pre(&frames)]).0,
            [format!("E {}", h2::E_SEQUENCE)]
        );
    }
    // A table size update past the bound (2^20), an index past the table, bad padding.
    for (frame, why) in [
        (f(1, 4, 1, &[0x3f, 0xe1, 0xff, 0x3f]), h2::E_HPACK),
        (f(1, 4, 1, &[0xff, 0x80, 0x01]), h2::E_HPACK),
        (f(1, 4 | 8, 1, &[9, 0x82]), h2::E_PADDING),
    ] {
        assert_eq!(feed(true, 80, &[&pre(&[frame])]).0, [format!("E {why}")]);
    }
    // Pseudo-header fields without a method: counted, the connection read on.
    let b = loona_hpack::Encoder::new().encode([(&b":path"[..], &b"/"[..])]);
    let (seen, done) = feed(true, 80, &[&pre(&[f(1, 4, 1, &b)])]);
    assert_eq!(seen, [format!("E {}", h2::E_REQUEST)]);
    assert!(!done);
}

#[test]
fn every_two_chunk_cut_of_a_head_and_a_client_hello() {
    let http_head = fixture("http-get-basicauth.bin");
    let pq = client_hello_pq();
    let two_records = reframe(&pq, &[1000]);
    for (port, data) in [(80u16, &http_head), (443, &pq), (443, &two_records)] {
        let want = whole(true, port, data);
        assert_eq!(want.len(), if port == 443 { 2 } else { 1 });
        for at in 0..=data.len() {
            let (a, b) = data.split_at(at);
            assert_eq!(feed(true, port, &[a, b]).0, want, "cut at {at}");
        }
    }
}

#[test]
fn byte_by_byte_equals_whole() {
    for (name, c, port, data) in streams() {
        let want = whole(c, port, &data);
        assert!(!want.is_empty(), "{name}");
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(feed(c, port, &bytes).0, want, "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_segmentation_equals_whole(
        which in 0usize..64,
        cuts in proptest::collection::vec(any::<usize>(), 0..24),
    ) {
        let all = streams();
        let (name, c, port, data) = &all[which % all.len()];
        let want = whole(*c, *port, data);
        prop_assert_eq!(feed(*c, *port, &cut(data, &cuts)).0, want, "{}", name);
    }

    /// Arbitrary bytes on the ports that choose each protocol, in arbitrary chunks: no panic,
    /// the buffering bound holds (checked in `feed`), and the chunking changes nothing.
    #[test]
    fn arbitrary_bytes_any_segmentation(
        port in prop::sample::select(vec![25u16, 53, 80, 443, 1080]),
        prefix in prop::sample::select(vec![
            &b""[..],
            &b"GET / HTTP/1.1\r\n"[..],
            &b"\x16\x03\x01\x00\x40\x01"[..],
            &b"\x05\x02\x00\x02"[..],
            &b"\x04\x01\x00\x50"[..],
        ]),
        body in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
        client in any::<bool>(),
    ) {
        let data = [prefix, &body[..]].concat();
        let want = whole(client, port, &data);
        prop_assert_eq!(feed(client, port, &cut(&data, &cuts)).0, want);
    }

    /// A valid stream with bytes flipped: same property.
    #[test]
    fn mutated_streams_any_segmentation(
        which in 0usize..64,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
    ) {
        let all = streams();
        let (_, c, port, data) = &all[which % all.len()];
        let mut data = data.clone();
        for (at, b) in flips {
            let i = at % data.len();
            data[i] = b;
        }
        let want = whole(*c, *port, &data);
        prop_assert_eq!(feed(*c, *port, &cut(&data, &cuts)).0, want);
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded buffering on hostile streams

/// Feeds `head` then `filler` repeatedly (`total` bytes) in 1,460-byte segments; returns what
/// was reported. `feed` checks the bound after every call.
fn hostile(port: u16, head: &[u8], filler: &[u8], total: usize) -> (Vec<String>, bool) {
    let mut data = head.to_vec();
    while data.len() < total {
        data.extend_from_slice(filler);
    }
    let chunks: Vec<&[u8]> = data.chunks(1460).collect();
    feed(true, port, &chunks)
}

#[test]
fn hostile_streams_stay_bounded() {
    // An endless header line: counted once per 64 KiB, never buffered beyond.
    let (seen, _) = hostile(80, b"GET / HTTP/1.1\r\nX-A: ", b"a", 300_000);
    assert!(!seen.is_empty() && seen.iter().all(|x| x == &format!("E {}", stream::E_HEAD)));
    // An endless request line.
    let (seen, _) = hostile(80, b"GET /", b"a", 200_000);
    assert_eq!(seen, [format!("E {}", stream::E_HEAD)]);
    // A huge chunk and a 1 GB body are hashed as they arrive, never buffered; cut short by the
    // connection's end, they are counted, not reported.
    let (seen, done) = hostile(
        80,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        2_000_000,
    );
    assert_eq!(seen.len(), 2, "only the first head");
    assert_eq!(seen[1], "E file: transfer incomplete");
    assert!(!done);
    let (seen, _) = hostile(
        80,
        b"POST / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        2_000_000,
    );
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1], "E file: transfer incomplete");
    // A chunk size beyond 64 bits is an error, an endless chunk-size line too.
    let (seen, _) = hostile(
        80,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1FFFFFFFFFFFFFFFF\r\n",
        b"",
        0,
    );
    assert_eq!(seen[1], format!("E {}", stream::E_CHUNK));
    let (seen, _) = hostile(
        80,
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;",
        b"x",
        200_000,
    );
    assert_eq!(seen[1], format!("E {}", stream::E_HEAD));
    // SOCKS: an endless user id, endless junk after a greeting.
    let (seen, done) = hostile(1080, b"\x04\x01\x00\x50\x01\x02\x03\x04", b"u", 100_000);
    assert_eq!(seen, [format!("E {}", stream::E_SOCKS4)]);
    assert!(done);
    let (seen, done) = hostile(1080, b"\x05\x01\x02\x01\xff", b"\xff", 100_000);
    assert_eq!(seen, [format!("E {}", stream::E_SOCKS5)]);
    assert!(done);
    // SMTP: an endless command line, endless message text.
    let (seen, _) = hostile(25, b"MAIL FROM:<", b"a", 100_000);
    assert!(
        seen.iter()
            .all(|x| x == &format!("E {}", stream::E_SMTP_LINE))
    );
    // Endless message text: one header field, read up to its limit and counted once.
    let (seen, done) = hostile(25, b"DATA\r\n", b"MAIL FROM:<x@y> no newline ", 1_000_000);
    assert_eq!(seen, [format!("E {}", mime::E_FIELD)]);
    assert!(!done);
    // An endless base64 line, an endless line of a part, endless nesting.
    for (head, filler) in [
        (
            &b"DATA\r\nContent-Transfer-Encoding: base64\r\n\r\n"[..],
            &b"QUJD"[..],
        ),
        (
            b"DATA\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n",
            b"-",
        ),
        (b"DATA\r\n", b"Content-Type: message/rfc822\r\n\r\n"),
    ] {
        let (seen, done) = hostile(25, head, filler, 1_000_000);
        assert!(seen.len() <= 1 && !done, "{seen:?}");
    }
    // TLS: a ClientHello announcing 16 MB.
    let (seen, done) = hostile(
        443,
        b"\x16\x03\x01\x40\x00\x01\xff\xff\xff",
        b"\x00",
        20_000,
    );
    assert_eq!(seen, [format!("E {}", stream::E_HELLO)]);
    assert!(done);
}
