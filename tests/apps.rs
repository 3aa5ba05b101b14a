//! Application-layer extractors (`app::{dns, tls, http, smtp}`), read as the engine reads them:
//! TCP payloads through the stream parser (`app::stream`), DNS messages and HTTP heads through
//! the functions it hands them to. Table-driven cases per parser, every prefix of valid
//! messages, committed real payloads (`testdata/payloads/`), a cross-check against the peers'
//! expected output (Arkime `.test` JSON, Zeek logs) for pcaps in `../shared` (skipped when
//! absent; TCP reassembled per connection), properties on arbitrary and mutated bytes, and a
//! throughput probe (`--ignored`).

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use trawl::Field;
use trawl::testing::app::dns::{self, DnsItem, NameBuf};
use trawl::testing::app::stream::{self, Found, StreamParser};
use trawl::testing::app::tls_fingerprint as fp;
use trawl::testing::app::{http, smtp, tls, x509};
use trawl::testing::reassembly;

// ---------------------------------------------------------------------------------------------
// Helpers

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/payloads")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs the DNS parser; items as `Q name`, `N name`, `A addr`.
fn dns_items(msg: &[u8]) -> (Vec<String>, Result<dns::Summary, &'static str>) {
    let mut out = Vec::new();
    let mut nb = NameBuf::new();
    let r = dns::parse(msg, &mut nb, |it| {
        out.push(match it {
            DnsItem::Question(n) => format!("Q {}", s(n)),
            DnsItem::AnswerName(n) => format!("N {}", s(n)),
            DnsItem::AnswerAddr(a) => format!("A {a}"),
        })
    });
    (out, r)
}

/// A name in wire form, uncompressed.
fn wire(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

fn ptr(off: u16) -> Vec<u8> {
    vec![0xC0 | (off >> 8) as u8, off as u8]
}

/// The UDP payload from port 53 of a committed Arkime capture.
fn arkime_dns_response(name: &str) -> Vec<u8> {
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pcaps/arkime")
        .join(format!("{name}.pcap"));
    let response = pcap_payloads(&pcap).into_iter().find(|p| p.src.1 == 53);
    response.unwrap().data
}

/// A DNS message under construction.
struct Msg(Vec<u8>);

impl Msg {
    fn new(flags: u16, qd: u16, an: u16, ns: u16, ar: u16) -> Msg {
        let mut v = vec![0x12, 0x34];
        for x in [flags, qd, an, ns, ar] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        Msg(v)
    }
    fn query(name: &str) -> Msg {
        Msg::new(0x0100, 1, 0, 0, 0).question(&wire(name), 1)
    }
    fn at(&self) -> u16 {
        self.0.len() as u16
    }
    fn raw(mut self, b: &[u8]) -> Msg {
        self.0.extend_from_slice(b);
        self
    }
    fn question(self, name: &[u8], qtype: u16) -> Msg {
        self.raw(name)
            .raw(&qtype.to_be_bytes())
            .raw(&1u16.to_be_bytes())
    }
    fn rr(self, owner: &[u8], rtype: u16, class: u16, rdata: &[u8]) -> Msg {
        self.raw(owner)
            .raw(&rtype.to_be_bytes())
            .raw(&class.to_be_bytes())
            .raw(&300u32.to_be_bytes())
            .raw(&(rdata.len() as u16).to_be_bytes())
            .raw(rdata)
    }
}

const QR: u16 = 0x8180;

/// www.example.com CNAME example.com; example.com A 192.0.2.1, AAAA 2001:db8::1, all compressed.
fn sample_response() -> Vec<u8> {
    let m = Msg::new(QR, 1, 3, 0, 0).question(&wire("www.example.com"), 1);
    // "example.com" starts at 12 + 4 ("\x03www")
    let m = m.rr(&ptr(12), 5, 1, &ptr(16));
    m.rr(&ptr(16), 1, 1, &[192, 0, 2, 1])
        .rr(
            &ptr(16),
            28,
            1,
            &"2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets(),
        )
        .0
}

/// Runs a stream parser over `data` given as one run of stream bytes; whether it is done.
fn stream_each(from_client: bool, port: u16, data: &[u8], mut each: impl FnMut(Found<'_>)) -> bool {
    let mut p = StreamParser::new(from_client, port);
    let used = p.parse(data, &mut each);
    assert!(used <= data.len());
    p.done()
}

/// What a stream parser reports: `S name` (TLS server name), `F addr` / `T addr` (SMTP),
/// `R method uri` (HTTP), `D len` (DNS), `P target` (proxy), `CH len` / `SH len` / `X len` (a
/// ClientHello, ServerHello, certificate), `E reason`.
fn render(f: Found) -> String {
    match f {
        Found::Host(Field::TlsSni, n) => format!("S {}", s(n)),
        Found::Host(_, n) => format!("P {}", s(n)),
        Found::Addr(_, a) => format!("P {a}"),
        Found::Http(r) => format!("R {} {}", s(r.method), s(r.uri)),
        Found::Dns(m) => format!("D {}", m.len()),
        Found::Mail(Field::SmtpMailFrom, a) => format!("F {}", s(a)),
        Found::Mail(_, a) => format!("T {}", s(a)),
        Found::ClientHello(m) => format!("CH {}", m.len()),
        Found::ServerHello(m) => format!("SH {}", m.len()),
        Found::Certificate(d) => format!("X {}", d.len()),
        Found::File { name, digests, .. } => format!("B {} {}", s(name), digests.size),
        Found::Error(e) => format!("E {e}"),
    }
}

fn stream_items(from_client: bool, port: u16, data: &[u8]) -> Vec<String> {
    let mut v = Vec::new();
    stream_each(from_client, port, data, |f| v.push(render(f)));
    v
}

/// The DNS messages a stream parser finds in a DNS-over-TCP stream, length prefixes removed.
fn tcp_dns(data: &[u8], from_client: bool) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    stream_each(from_client, 53, data, |f| match f {
        Found::Dns(m) => v.push(m.to_vec()),
        other => panic!("{}", render(other)),
    });
    v
}

/// The server name a client stream to port 443 gives (`Ok(None)`: none, or not yet), or its
/// error.
fn tls_items(p: &[u8]) -> Result<Option<String>, &'static str> {
    let mut out = Ok(None);
    let mut n = 0;
    stream_each(true, 443, p, |f| match f {
        Found::Host(Field::TlsSni, name) => {
            n += 1;
            out = Ok(Some(s(name)));
        }
        Found::Error(e) => {
            n += 1;
            out = Err(e);
        }
        _ => {}
    });
    assert!(n <= 1, "{n} results");
    out
}

/// The handshake bytes of a run of TLS records, their headers removed.
fn handshake(records: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(h) = records.get(at..at + 5) {
        let n = u16::from_be_bytes([h[3], h[4]]) as usize;
        out.extend_from_slice(&records[at + 5..(at + 5 + n).min(records.len())]);
        at += 5 + n;
    }
    out
}

/// Where the record that completes the ClientHello of `records` ends.
fn hello_end(records: &[u8]) -> usize {
    let hs = handshake(records);
    let total = 4 + ((hs[1] as usize) << 16 | (hs[2] as usize) << 8 | hs[3] as usize);
    let (mut got, mut at) = (0, 0);
    while got < total {
        let n = u16::from_be_bytes([records[at + 3], records[at + 4]]) as usize;
        got += n;
        at += 5 + n;
    }
    at
}

/// A ClientHello record with the given extensions (type, data).
fn client_hello(exts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0xAB; 32]); // random
    body.push(32);
    body.extend_from_slice(&[0xCD; 32]); // session id
    body.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02]); // cipher suites
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut e = Vec::new();
    for (t, d) in exts {
        e.extend_from_slice(&t.to_be_bytes());
        e.extend_from_slice(&(d.len() as u16).to_be_bytes());
        e.extend_from_slice(d);
    }
    body.extend_from_slice(&(e.len() as u16).to_be_bytes());
    body.extend_from_slice(&e);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    records(&hs, &[hs.len()])
}

/// Cuts a handshake stream into TLS records of the given sizes.
fn records(hs: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    for &n in sizes {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&hs[at..at + n]);
        at += n;
    }
    assert_eq!(at, hs.len());
    out
}

fn sni_ext(entries: &[(u8, &[u8])]) -> (u16, Vec<u8>) {
    let mut list = Vec::new();
    for (t, n) in entries {
        list.push(*t);
        list.extend_from_slice(&(n.len() as u16).to_be_bytes());
        list.extend_from_slice(n);
    }
    let mut d = (list.len() as u16).to_be_bytes().to_vec();
    d.extend_from_slice(&list);
    (0, d)
}

/// What a client stream to port 25 gives: `F`/`T` addresses and `E` reasons, in order.
fn smtp_items(p: &[u8]) -> Vec<String> {
    stream_items(true, 25, p)
}

fn url(req: &http::Request, server: Option<(IpAddr, u16)>) -> Option<String> {
    let mut out = b"stale".to_vec();
    let ok = http::full_url(req, server, &mut out);
    assert_eq!(ok, !out.is_empty());
    ok.then(|| s(&out))
}

/// Whether `part` lies inside `whole` (same memory).
fn within(part: &[u8], whole_start: usize, whole_len: usize) -> bool {
    let p = part.as_ptr() as usize;
    p >= whole_start && p + part.len() <= whole_start + whole_len
}

fn inside(part: &[u8], whole: &[u8]) -> bool {
    within(part, whole.as_ptr() as usize, whole.len())
}

// ---------------------------------------------------------------------------------------------
// DNS

#[test]
fn dns_table() {
    let long63 = "a".repeat(63);
    let long64 = "a".repeat(64);
    // 3 x 63-byte labels + one of 61: 3*64 + 62 + 1 = 255 bytes on the wire; one more is 256.
    let name255 = format!("{0}.{0}.{0}.{1}", long63, "b".repeat(61));
    let name256 = format!("{0}.{0}.{0}.{1}", long63, "b".repeat(62));
    let mut label64 = vec![64u8];
    label64.extend_from_slice(long64.as_bytes());
    label64.push(0);
    let q = |n: &str| format!("Q {n}");
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<u8>, Vec<String>, Result<(), &str>)> = vec![
        (
            "query",
            Msg::query("www.Example.com").0,
            vec![q("www.Example.com")],
            Ok(()),
        ),
        (
            "response: CNAME, A, AAAA, compressed; owner equal to the question and the repeated \
             owner not reported again",
            sample_response(),
            vec![
                q("www.example.com"),
                "N example.com".into(),
                "A 192.0.2.1".into(),
                "A 2001:db8::1".into(),
            ],
            Ok(()),
        ),
        (
            "pointer to a pointer",
            {
                let m = Msg::new(QR, 1, 2, 0, 0).question(&wire("x.example"), 1);
                let first_owner = m.at();
                let m = m.rr(&ptr(12), 1, 1, &[192, 0, 2, 1]);
                // owner "mail" + pointer to the first owner, which is itself a pointer to 12
                let mut owner = b"\x04mail".to_vec();
                owner.extend(ptr(first_owner));
                m.rr(&owner, 1, 1, &[192, 0, 2, 2]).0
            },
            vec![
                q("x.example"),
                "A 192.0.2.1".into(),
                "N mail.x.example".into(),
                "A 192.0.2.2".into(),
            ],
            Ok(()),
        ),
        (
            "pointer to itself",
            Msg::new(0x0100, 1, 0, 0, 0)
                .raw(&ptr(12))
                .raw(&[0, 1, 0, 1])
                .0,
            vec![],
            Err(dns::E_LOOP),
        ),
        (
            "label then a pointer back to the name's start",
            Msg::new(0x0100, 1, 0, 0, 0)
                .raw(b"\x01a")
                .raw(&ptr(12))
                .raw(&[0, 1, 0, 1])
                .0,
            vec![],
            Err(dns::E_LOOP),
        ),
        (
            "two pointers pointing at each other (after the question)",
            {
                // question at 12; answer owner at X = pointer to Y (an earlier offset, inside
                // the question's type field) holding a pointer to X.
                let m = Msg::new(QR, 1, 1, 0, 0).question(&wire("a.example"), 1);
                let x = m.at();
                let mut m = m.rr(&ptr(x - 4), 1, 1, &[1, 2, 3, 4]);
                let y = (x - 4) as usize;
                m.0[y..y + 2].copy_from_slice(&ptr(x));
                m.0
            },
            vec![q("a.example")],
            Err(dns::E_LOOP),
        ),
        (
            "forward pointer",
            Msg::new(0x0100, 1, 0, 0, 0)
                .raw(&ptr(18))
                .raw(&[0, 1, 0, 1])
                .raw(b"\x01a\x00")
                .0,
            vec![],
            Err(dns::E_LOOP),
        ),
        (
            "pointer past the end",
            Msg::new(0x0100, 1, 0, 0, 0).raw(&[0xC0]).0,
            vec![],
            Err(dns::E_NAME),
        ),
        (
            "label of 63 bytes",
            Msg::query(&format!("{long63}.example")).0,
            vec![q(&format!("{long63}.example"))],
            Ok(()),
        ),
        (
            "label of 64 bytes",
            Msg::new(0x0100, 1, 0, 0, 0).question(&label64, 1).0,
            vec![],
            Err(dns::E_LABEL),
        ),
        (
            "name of 255 bytes",
            Msg::query(&name255).0,
            vec![q(&name255)],
            Ok(()),
        ),
        (
            "name of 256 bytes",
            Msg::query(&name256).0,
            vec![],
            Err(dns::E_NAME_LEN),
        ),
        (
            "EDNS OPT with a client-subnet option is stepped over",
            Msg::new(0x0100, 1, 0, 0, 1)
                .question(&wire("opt.example"), 1)
                .rr(&[0], 41, 4096, &[0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2])
                .0,
            vec![q("opt.example")],
            Ok(()),
        ),
        (
            "root question (priming) gives nothing",
            Msg::new(0x0100, 1, 0, 0, 0).question(&[0], 2).0,
            vec![],
            Ok(()),
        ),
        (
            "mDNS cache-flush class is IN; CHAOS is skipped",
            Msg::new(0x8400, 0, 2, 0, 0)
                .rr(&wire("printer.local"), 1, 0x8001, &[10, 0, 0, 7])
                .rr(&wire("version.bind"), 1, 3, &[10, 0, 0, 8])
                .0,
            vec!["N printer.local".into(), "A 10.0.0.7".into()],
            Ok(()),
        ),
        (
            "owner equal to the question in another case is not repeated",
            Msg::new(QR, 1, 1, 0, 0)
                .question(&wire("Evil.Example"), 1)
                .rr(&wire("evil.example"), 1, 1, &[203, 0, 113, 9])
                .0,
            vec![q("Evil.Example"), "A 203.0.113.9".into()],
            Ok(()),
        ),
        (
            "MX exchange, NS target, glue in the additional section (its owner repeats the NS \
             target, not reported again); TXT stepped over",
            Msg::new(QR, 1, 2, 1, 1)
                .question(&wire("example.org"), 15)
                .rr(&ptr(12), 15, 1, &[0, 10, 2, b'm', b'x', 0xC0, 12])
                .rr(&ptr(12), 16, 1, b"\x0bmx.evil.net")
                .rr(&ptr(12), 2, 1, &wire("ns1.example.org"))
                .rr(&wire("ns1.example.org"), 1, 1, &[198, 51, 100, 53])
                .0,
            vec![
                q("example.org"),
                "N mx.example.org".into(),
                "N ns1.example.org".into(),
                "A 198.51.100.53".into(),
            ],
            Ok(()),
        ),
        (
            "A with 5 bytes of data",
            Msg::new(QR, 0, 1, 0, 0)
                .rr(&wire("a.example"), 1, 1, &[1, 2, 3, 4, 5])
                .0,
            vec![],
            Err(dns::E_RDATA),
        ),
        (
            "CNAME target running past its data",
            Msg::new(QR, 0, 1, 0, 0)
                .rr(&wire("a.example"), 5, 1, b"\x01b")
                .raw(b"\x07example\x00")
                .0,
            vec!["N a.example".into()],
            Err(dns::E_RDATA),
        ),
        (
            "record data past the end",
            Msg::new(QR, 0, 1, 0, 0)
                .rr(&wire("a.example"), 1, 1, &[1, 2, 3, 4])
                .0[..35]
                .to_vec(),
            vec![],
            Err(dns::E_RECORD),
        ),
        (
            "question without type and class still reports the name",
            Msg::new(0x0100, 1, 0, 0, 0).raw(&wire("cut.example")).0,
            vec![q("cut.example")],
            Err(dns::E_QUESTION),
        ),
        ("short header", vec![0; 11], vec![], Err(dns::E_HEADER)),
        (
            "dots and backslashes inside labels are escaped",
            Msg::new(0x0100, 1, 0, 0, 0)
                .question(b"\x07evil.co\x01\\\x00", 1)
                .0,
            vec![q("evil\\.co.\\\\")],
            Ok(()),
        ),
    ];
    for (what, msg, want, res) in cases {
        let (got, r) = dns_items(&msg);
        assert_eq!(got, want, "{what}");
        assert_eq!(r.map(|_| ()), res, "{what}");
    }
}

#[test]
fn dns_summary_and_record_cap() {
    let mut m = Msg::new(QR | 0x0200, 1, 100, 0, 0).question(&wire("many.example"), 1);
    for i in 0..100u8 {
        m = m.rr(&ptr(12), 1, 1, &[10, 0, 0, i]);
    }
    let (items, r) = dns_items(&m.0);
    let sum = r.unwrap();
    assert!(sum.capped && sum.response && sum.truncated);
    assert_eq!((sum.id, sum.opcode, sum.rcode), (0x1234, 0, 0));
    assert_eq!(sum.questions, 1);
    assert_eq!(sum.records as usize, dns::MAX_RECORDS - 1);
    assert_eq!(items.len(), dns::MAX_RECORDS); // the question and 63 addresses
    assert_eq!(items.last().unwrap(), "A 10.0.0.62");
}

#[test]
fn dns_pointer_hop_limit() {
    // MAX_POINTERS hops are fine, one more is refused, even when every pointer points back.
    for hops in [dns::MAX_POINTERS, dns::MAX_POINTERS + 1] {
        // The chain sits in the data of a TXT record, which nothing reads directly: "x" and
        // then pointers, each to the one before; an A record's owner points at the last.
        let txt_owner = [0u8];
        let data_at = 12 + txt_owner.len() + 10;
        let mut body = b"\x01x\x00".to_vec();
        let mut prev = data_at as u16;
        for _ in 0..hops - 1 {
            let at = (data_at + body.len()) as u16;
            body.extend(ptr(prev));
            prev = at;
        }
        let m = Msg::new(QR, 0, 2, 0, 0).rr(&txt_owner, 16, 1, &body).rr(
            &ptr(prev),
            1,
            1,
            &[192, 0, 2, 7],
        );
        let (items, r) = dns_items(&m.0);
        if hops <= dns::MAX_POINTERS {
            assert_eq!(items, ["N x", "A 192.0.2.7"], "{hops} hops");
            r.unwrap();
        } else {
            assert_eq!(r.unwrap_err(), dns::E_POINTERS, "{hops} hops");
        }
    }
}

#[test]
fn dns_every_prefix() {
    let full_msgs = [
        sample_response(),
        fixture("dns-udp-cname-response.bin"),
        tcp_dns(&fixture("dns-tcp-response.bin"), false).remove(0),
        arkime_dns_response("dns-mx"),
        arkime_dns_response("dns-https"),
    ];
    for full in &full_msgs {
        let (want, r) = dns_items(full);
        r.unwrap();
        for cut in 0..full.len() {
            let (got, r) = dns_items(&full[..cut]);
            assert!(r.is_err(), "cut at {cut}: {got:?}");
            assert!(
                want.starts_with(&got),
                "cut at {cut}: {got:?} not a prefix of {want:?}"
            );
        }
    }
}

#[test]
fn dns_tcp_framing() {
    let q1 = Msg::query("one.example").0;
    let q2 = Msg::query("two.example").0;
    let mut seg = Vec::new();
    for q in [&q1, &q2] {
        seg.extend_from_slice(&(q.len() as u16).to_be_bytes());
        seg.extend_from_slice(q);
    }
    assert_eq!(tcp_dns(&seg, true), [q1.clone(), q2.clone()]);
    // The second message continues in the next segment: the parser waits for it.
    let cut = &seg[..seg.len() - 4]; // type and class of the second question missing
    assert_eq!(tcp_dns(cut, true), [q1]);
    // A length below a DNS header loses the framing: counted, and the direction is done.
    let mut bad = Vec::new();
    assert!(stream_each(true, 53, &[0, 3, 1, 2, 3], |f| bad.push(render(f))));
    assert_eq!(bad, [format!("E {}", stream::E_DNS_LENGTH)]);
    assert!(tcp_dns(&[], true).is_empty());

    let tcp = tcp_dns(&fixture("dns-tcp-response.bin"), false);
    assert_eq!(tcp.len(), 1);
    let (items, r) = dns_items(&tcp[0]);
    assert_eq!(r.unwrap().records, 19);
    assert_eq!(items[0], "Q google.com");
    assert!(items.contains(&"A 74.125.228.46".to_string()));
    assert!(items.contains(&"N ns1.google.com".to_string()));
}

#[test]
fn dns_looks_like() {
    assert!(dns::looks_like_dns(&Msg::query("a.example").0));
    assert!(dns::looks_like_dns(&sample_response()));
    assert!(dns::looks_like_dns(&fixture("dns-udp-cname-response.bin")));
    assert!(dns::looks_like_dns(
        &tcp_dns(&fixture("dns-tcp-response.bin"), false)[0]
    ));
    assert!(!dns::looks_like_dns(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert!(!dns::looks_like_dns(&fixture("tls-clienthello-tls13.bin")));
    assert!(!dns::looks_like_dns(&[0; 11]));
    assert!(!dns::looks_like_dns(
        &Msg::new(0x0100, 0, 0, 0, 0).raw(&[0; 8]).0
    )); // no question
    assert!(!dns::looks_like_dns(
        &Msg::new(0x3100, 1, 0, 0, 0).raw(&[0; 5]).0
    )); // opcode 6
    assert!(!dns::looks_like_dns(
        &Msg::new(0x8180, 1, 50, 0, 0).raw(&[0; 40]).0
    )); // counts
}

#[test]
fn dns_real_udp_response() {
    let (items, r) = dns_items(&fixture("dns-udp-cname-response.bin"));
    r.unwrap();
    assert_eq!(
        &items[..3],
        ["Q www.github.com", "N github.com", "A 192.30.252.128"]
    );
    // NS glue addresses of the additional section
    assert!(items.contains(&"N ns1.p16.dynect.net".to_string()));
    assert!(items.contains(&"A 10.2.95.12".to_string()));
}

// ---------------------------------------------------------------------------------------------
// TLS

#[test]
fn tls_real_client_hellos() {
    let cases = [
        ("tls-clienthello-tls13.bin", "blog.cloudflare.com"),
        ("tls-clienthello-alpn-h2.bin", "www.cloudflare.com"),
        ("tls-clienthello-two-segments.bin", "clients2.google.com"),
    ];
    for (f, want) in cases {
        let p = fixture(f);
        assert!(tls::is_client_hello(&p), "{f}");
        assert_eq!(tls_items(&p), Ok(Some(want.to_string())), "{f}");
        let msg = handshake(&p);
        let sni = tls::handshake_sni(&msg).unwrap().unwrap();
        assert_eq!(sni, want.as_bytes(), "{f}");
        assert!(inside(sni, &msg));
    }
    // A post-quantum ClientHello of 1729 bytes: its first TCP segment (1392 bytes) ends before
    // the server_name extension, which only the second segment carries. The parser waits for
    // it, then reports the name once.
    let p = fixture("tls-clienthello-two-segments.bin");
    let mut parser = StreamParser::new(true, 443);
    let mut seen = Vec::new();
    let used = parser.parse(&p[..1392], &mut |f| seen.push(render(f)));
    assert!(seen.is_empty() && !parser.done());
    parser.parse(&p[used..], &mut |f| seen.push(render(f)));
    assert_eq!(seen, ["S clients2.google.com", "CH 1724"]);
    assert!(parser.done());
}

#[test]
fn tls_table() {
    let sni = |n: &[u8]| sni_ext(&[(0, n)]);
    let alpn = (16u16, b"\x00\x03\x02h2".to_vec());
    let with_sni = client_hello(&[alpn.clone(), sni(b"Evil.Example")]);
    let no_sni = client_hello(std::slice::from_ref(&alpn));
    let hs = &with_sni[5..];
    let name_at = hs.len() - "Evil.Example".len();
    let mut server_hello = with_sni.clone();
    server_hello[5] = 2;
    let mut v2 = with_sni.clone();
    v2[0] = 0x80;
    let mut alert_between = records(hs, &[40, hs.len() - 40]);
    alert_between[45] = 21;
    let mut bad_ext_len = with_sni.clone();
    let n = bad_ext_len.len();
    bad_ext_len[n - 14] = 0xFF; // the host_name length: beyond its list
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<u8>, Result<Option<&str>, &str>)> = vec![
        ("SNI after ALPN", with_sni.clone(), Ok(Some("Evil.Example"))),
        ("no SNI", no_sni.clone(), Ok(None)),
        (
            "no extensions at all",
            {
                // drop the extensions block: lengths adjusted
                let mut body = hs[4..].to_vec();
                let ext_at = 2 + 32 + 1 + 32 + 2 + 4 + 2;
                body.truncate(ext_at);
                let mut h = vec![1, 0];
                h.extend_from_slice(&(body.len() as u16).to_be_bytes());
                h.extend_from_slice(&body);
                records(&h, &[h.len()])
            },
            Ok(None),
        ),
        (
            "a non-host_name entry first",
            client_hello(&[sni_ext(&[(7, b"zzz"), (0, b"b.example")])]),
            Ok(Some("b.example")),
        ),
        (
            "empty host_name",
            client_hello(&[sni(b"")]),
            Err(tls::E_EMPTY),
        ),
        (
            "split over two records, name whole in the second",
            records(hs, &[60, hs.len() - 60]),
            Ok(Some("Evil.Example")),
        ),
        (
            "split over three records",
            records(hs, &[1, 60, hs.len() - 61]),
            Ok(Some("Evil.Example")),
        ),
        (
            "name split between two records: joined",
            records(hs, &[name_at + 3, hs.len() - name_at - 3]),
            Ok(Some("Evil.Example")),
        ),
        (
            "second record is an alert",
            alert_between,
            Err(tls::E_INTERRUPTED),
        ),
        ("ServerHello", server_hello, Ok(None)),
        ("SSLv2-framed hello", v2, Ok(None)),
        ("HTTP", b"GET / HTTP/1.1\r\n\r\n".to_vec(), Ok(None)),
        (
            "length beyond its structure",
            bad_ext_len,
            Err(tls::E_LENGTH),
        ),
        (
            "zero-length record",
            vec![22, 3, 1, 0, 0, 1, 0, 0, 0],
            Err(tls::E_RECORD),
        ),
    ];
    for (what, p, want) in cases {
        assert_eq!(tls_items(&p), want.map(|o| o.map(str::to_string)), "{what}");
    }
    assert!(tls::is_client_hello(&with_sni));
    assert!(!tls::is_client_hello(&with_sni[..5]));
    assert!(!tls::is_client_hello(b"\x16\x03\x05\x00\x10\x01"));
    assert!(!tls::is_client_hello(b"\x17\x03\x03\x00\x10\x01"));
}

#[test]
fn tls_every_prefix() {
    for p in [
        client_hello(&[
            (16, b"\x00\x03\x02h2".to_vec()),
            sni_ext(&[(0, b"a.example")]),
        ]),
        fixture("tls-clienthello-tls13.bin"),
        fixture("tls-clienthello-two-segments.bin"),
    ] {
        // Nothing until the record that completes the ClientHello is whole, then the name.
        let want = tls_items(&p).unwrap().unwrap();
        let end = hello_end(&p);
        for cut in 0..=p.len() {
            let r = tls_items(&p[..cut]);
            if cut < end {
                assert_eq!(r, Ok(None), "cut at {cut}");
            } else {
                assert_eq!(r, Ok(Some(want.clone())), "cut at {cut}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[test]
fn http_table() {
    let v4: Option<(IpAddr, u16)> = Some(("192.0.2.80".parse().unwrap(), 80));
    let v4_8080: Option<(IpAddr, u16)> = Some(("192.0.2.80".parse().unwrap(), 8080));
    let v6: Option<(IpAddr, u16)> = Some(("2001:db8::80".parse().unwrap(), 80));
    struct Case {
        what: &'static str,
        req: &'static [u8],
        server: Option<(IpAddr, u16)>,
        method: &'static str,
        uri: &'static str,
        host: Option<&'static str>,
        ua: Option<&'static str>,
        url: Option<&'static str>,
        authority: Option<&'static str>,
    }
    let cases = [
        Case {
            what: "GET with Host and User-Agent",
            req: b"GET /a/b?c=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/a/b?c=1",
            host: Some("www.example.com"),
            ua: Some("curl/8.0"),
            url: Some("http://www.example.com/a/b?c=1"),
            authority: Some("www.example.com"),
        },
        Case {
            what: "POST with a body",
            req: b"POST /gate.php HTTP/1.0\r\nHost: c2.example\r\nContent-Length: 5\r\n\r\nx=1&y",
            server: v4,
            method: "POST",
            uri: "/gate.php",
            host: Some("c2.example"),
            ua: None,
            url: Some("http://c2.example/gate.php"),
            authority: Some("c2.example"),
        },
        Case {
            what: "CONNECT without Host",
            req: b"CONNECT ts01-b.cloudsink.net:443 HTTP/1.0\r\nUser-Agent: Falcon\r\n\r\n",
            server: v4,
            method: "CONNECT",
            uri: "ts01-b.cloudsink.net:443",
            host: None,
            ua: Some("Falcon"),
            url: None,
            authority: Some("ts01-b.cloudsink.net:443"),
        },
        Case {
            what: "absolute form to a proxy",
            req: b"GET http://user@evil.example:8080/x?y HTTP/1.1\r\nHost: evil.example:8080\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "http://user@evil.example:8080/x?y",
            host: Some("evil.example:8080"),
            ua: None,
            url: Some("http://user@evil.example:8080/x?y"),
            authority: Some("evil.example:8080"),
        },
        Case {
            what: "missing Host: the server address",
            req: b"GET /x HTTP/1.0\r\n\r\n",
            server: v4_8080,
            method: "GET",
            uri: "/x",
            host: None,
            ua: None,
            url: Some("http://192.0.2.80:8080/x"),
            authority: None,
        },
        Case {
            what: "missing Host, IPv6 server on port 80",
            req: b"GET /x HTTP/1.0\r\n\r\n",
            server: v6,
            method: "GET",
            uri: "/x",
            host: None,
            ua: None,
            url: Some("http://[2001:db8::80]/x"),
            authority: None,
        },
        Case {
            what: "missing Host and no server address",
            req: b"GET /x HTTP/1.0\r\n\r\n",
            server: None,
            method: "GET",
            uri: "/x",
            host: None,
            ua: None,
            url: None,
            authority: None,
        },
        Case {
            what: "Host with a port; port 80 dropped",
            req: b"GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/",
            host: Some("a.example:80"),
            ua: None,
            url: Some("http://a.example/"),
            authority: Some("a.example:80"),
        },
        Case {
            what: "Host with another port kept",
            req: b"GET / HTTP/1.1\r\nHost: a.example:8443\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/",
            host: Some("a.example:8443"),
            ua: None,
            url: Some("http://a.example:8443/"),
            authority: Some("a.example:8443"),
        },
        Case {
            what: "IPv6 literal Host",
            req: b"GET /v6 HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
            server: v6,
            method: "GET",
            uri: "/v6",
            host: Some("[2001:db8::1]:8080"),
            ua: None,
            url: Some("http://[2001:db8::1]:8080/v6"),
            authority: Some("[2001:db8::1]:8080"),
        },
        Case {
            what: "lowercase names, bare LF, padded values",
            req: b"GET /lf HTTP/1.1\nhost:   b.example  \nuser-agent:\tWget/1.21\t\n\n",
            server: v4,
            method: "GET",
            uri: "/lf",
            host: Some("b.example"),
            ua: Some("Wget/1.21"),
            url: Some("http://b.example/lf"),
            authority: Some("b.example"),
        },
        Case {
            what: "first Host wins; folded continuation ignored",
            req: b"GET / HTTP/1.1\r\nHost: first.example\r\nX-A: 1\r\n  Host: fold.example\r\nHost: second.example\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/",
            host: Some("first.example"),
            ua: None,
            url: Some("http://first.example/"),
            authority: Some("first.example"),
        },
        Case {
            what: "a Host that would move the path is not used for the URL",
            req: b"GET /p HTTP/1.1\r\nHost: evil.example/fake\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/p",
            host: Some("evil.example/fake"),
            ua: None,
            url: Some("http://192.0.2.80/p"),
            authority: Some("evil.example/fake"),
        },
        Case {
            what: "cut inside the headers: complete lines only",
            req: b"GET /cut HTTP/1.1\r\nUser-Agent: Mozilla/5.0\r\nHost: trunc.exa",
            server: v4,
            method: "GET",
            uri: "/cut",
            host: None,
            ua: Some("Mozilla/5.0"),
            url: Some("http://192.0.2.80/cut"),
            authority: None,
        },
        Case {
            what: "other uppercase methods, OPTIONS *",
            req: b"M-SEARCH * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n",
            server: v4,
            method: "M-SEARCH",
            uri: "*",
            host: Some("239.255.255.250:1900"),
            ua: None,
            url: None,
            authority: Some("239.255.255.250:1900"),
        },
        Case {
            what: "empty lines before the request line; spaces inside the target",
            req: b"\r\n\r\nGET /a b.php HTTP/1.1\r\nHost: s.example\r\n\r\n",
            server: v4,
            method: "GET",
            uri: "/a b.php",
            host: Some("s.example"),
            ua: None,
            url: Some("http://s.example/a b.php"),
            authority: Some("s.example"),
        },
    ];
    for c in &cases {
        let r = http::request(c.req)
            .unwrap()
            .unwrap_or_else(|| panic!("{}", c.what));
        assert_eq!(s(r.method), c.method, "{}", c.what);
        assert_eq!(s(r.uri), c.uri, "{}", c.what);
        assert!(r.version.starts_with(b"HTTP/1."), "{}", c.what);
        assert_eq!(r.host.map(s).as_deref(), c.host, "{}", c.what);
        assert_eq!(r.user_agent.map(s).as_deref(), c.ua, "{}", c.what);
        assert_eq!(url(&r, c.server).as_deref(), c.url, "{}", c.what);
        assert_eq!(r.authority().map(s).as_deref(), c.authority, "{}", c.what);
        assert!(inside(r.head, c.req), "{}", c.what);
        assert_eq!(
            http::request_start_so_far(c.req.trim_ascii_start()),
            Some(true),
            "{}",
            c.what
        );
    }
    // head: up to the empty line, or the whole payload when cut
    let r = http::request(cases[1].req).unwrap().unwrap();
    assert_eq!(
        r.head,
        b"POST /gate.php HTTP/1.0\r\nHost: c2.example\r\nContent-Length: 5\r\n"
    );
    let r = http::request(cases[13].req).unwrap().unwrap();
    assert_eq!(r.head, cases[13].req);
    assert_eq!(http::strip_port(r.authority().unwrap_or(b"x:1")), b"x");
    let r = http::request(cases[9].req).unwrap().unwrap();
    assert_eq!(http::strip_port(r.authority().unwrap()), b"2001:db8::1");
}

#[test]
fn http_not_requests() {
    let none: &[&[u8]] = &[
        b"",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET /\r\n",                                // HTTP/0.9
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",         // HTTP/2 preface
        b"DESCRIBE rtsp://cam/ RTSP/1.0\r\n\r\n",    // RTSP
        b"GET /HTTP/1.1\r\nHost: x\r\n\r\n",         // no space before the version
        b"EHLO mail.example\r\n",                    // SMTP
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03", // TLS
        b"\x00\x01GET / HTTP/1.1\r\n",
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ / HTTP/1.1\r\n", // method longer than 24
    ];
    for p in none {
        assert_eq!(http::request(p), Ok(None), "{:?}", s(p));
    }
    assert_eq!(
        http::request(b"GET /long-uri-cut-by-the-segm"),
        Err(http::E_LINE)
    );
    assert_eq!(
        http::request(b"GET \x00\xff\xfe\x80garbage"),
        Err(http::E_LINE)
    );
    // No target: still a request (empty URI), with its headers.
    let r = http::request(b"OPTIONS HTTP/1.0\r\n\r\n").unwrap().unwrap();
    assert_eq!((r.method, r.uri), (&b"OPTIONS"[..], &b""[..]));
    let r = http::request(b"GET   HTTP/1.1\r\nHost: h.example\r\n\r\n")
        .unwrap()
        .unwrap();
    assert_eq!((r.uri, r.host), (&b""[..], Some(&b"h.example"[..])));
    let mut url = Vec::new();
    assert!(
        !http::full_url(&r, None, &mut url),
        "no URL without a target"
    );
    for p in [&b"get / HTTP/1.1"[..], b"GET/ HTTP/1.1", b" GET / HTTP/1.1"] {
        assert_eq!(http::request_start_so_far(p), Some(false), "{:?}", s(p));
    }
    assert_eq!(http::request_start_so_far(b"GE"), None);
}

#[test]
fn http_real_request() {
    let p = fixture("http-get-basicauth.bin");
    let r = http::request(&p).unwrap().unwrap();
    assert_eq!(r.host, Some(&b"10.000.000.001:1234"[..]));
    assert!(
        r.user_agent
            .unwrap()
            .starts_with(b"Mozilla/5.0 (Windows NT 5.1")
    );
    let u = url(&r, Some(("10.0.0.1".parse().unwrap(), 1234))).unwrap();
    assert_eq!(
        u,
        "http://10.000.000.001:1234/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/xxx/xxxxxxxxxxxxxxxxxxxx.js"
    );
    assert!(r.head.ends_with(b"GMT\r\n"));
    assert_eq!(r.head.len() + 2, p.len());
}

#[test]
fn http_every_prefix() {
    let p = fixture("http-get-basicauth.bin");
    let line_end = p.iter().position(|&b| b == b'\n').unwrap();
    for cut in 0..p.len() {
        let r = http::request(&p[..cut]);
        if cut < 4 {
            assert_eq!(r, Ok(None), "cut at {cut}");
        } else if cut <= line_end {
            assert_eq!(r, Err(http::E_LINE), "cut at {cut}");
        } else {
            let r = r.unwrap().unwrap();
            assert_eq!(r.head, &p[..cut], "cut at {cut}");
            // The Host line is read once complete, and then as it is in the whole request.
            if let Some(h) = r.host {
                assert_eq!(h, b"10.000.000.001:1234");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP

#[test]
fn smtp_table() {
    // Every command line through a client stream to port 25: addresses (`F`, `T`) and the
    // reasons of malformed ones (`E`), in stream order.
    let e = |r: &str| format!("E {r}");
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, &[u8], Vec<String>)> = vec![
        (
            "pipelined MAIL, RCPT, RCPT, DATA",
            b"MAIL FROM:<a@x.example> SIZE=100\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<c@z.example> NOTIFY=NEVER\r\nDATA\r\n",
            vec!["F a@x.example".into(), "T b@y.example".into(), "T c@z.example".into()],
        ),
        (
            "null sender skipped",
            b"MAIL FROM:<>\r\nRCPT TO:<postmaster@x.example>\r\n",
            vec!["T postmaster@x.example".into()],
        ),
        (
            "source route reduced to the mailbox",
            b"RCPT TO:<@relay1.example,@relay2.example:user@final.example>\r\n",
            vec!["T user@final.example".into()],
        ),
        (
            "bare LF, lowercase verbs, spaces around the colon",
            b"mail from: <low@x.example>\nrcpt to : <r@x.example>\n",
            vec!["F low@x.example".into(), "T r@x.example".into()],
        ),
        (
            "no brackets",
            b"MAIL FROM:bare@x.example BODY=8BITMIME\r\nRCPT TO:r@x.example\r\n",
            vec!["F bare@x.example".into(), "T r@x.example".into()],
        ),
        (
            "quoted local part holding > and :",
            b"MAIL FROM:<\"odd>:name\"@x.example>\r\n",
            vec!["F \"odd>:name\"@x.example".into()],
        ),
        (
            "address literal in a route",
            b"RCPT TO:<@[IPv6:2001:db8::1]:u@x.example>\r\n",
            vec!["T u@x.example".into()],
        ),
        (
            "other commands and replies ignored",
            b"EHLO client.example\r\nNOOP\r\n250 OK\r\nMAILFROM:<no@x.example>\r\nRCPT TO;<no@x.example>\r\n",
            vec![],
        ),
        (
            "unterminated bracket; later lines still read",
            b"MAIL FROM:<broken@x.example\r\nRCPT TO:<ok@x.example>\r\n",
            vec![e(smtp::E_UNTERMINATED), "T ok@x.example".into()],
        ),
        (
            "a last line without its line end waits for it",
            b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@x.example>",
            vec!["F a@x.example".into()],
        ),
        ("empty recipient", b"RCPT TO:<>\r\n", vec![e(smtp::E_EMPTY)]),
        ("missing address", b"MAIL FROM:\r\n", vec![e(smtp::E_MISSING)]),
        (
            "route without mailbox",
            b"RCPT TO:<@a.example:>\r\n",
            vec![e(smtp::E_EMPTY)],
        ),
        (
            "every malformed command is counted",
            b"RCPT TO:<>\r\nMAIL FROM:\r\n",
            vec![e(smtp::E_EMPTY), e(smtp::E_MISSING)],
        ),
    ];
    for (what, p, want) in &cases {
        assert_eq!(smtp_items(p), *want, "{what}");
        // The same lines one by one through the function the stream parser hands them to.
        let one_by_one: Vec<String> = p
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| l.ends_with(b"\n"))
            .filter_map(|l| {
                let l = l.strip_suffix(b"\n").unwrap();
                match smtp::command_envelope(l.strip_suffix(b"\r").unwrap_or(l)) {
                    Ok(Some(smtp::Envelope::MailFrom(a))) => Some(format!("F {}", s(a))),
                    Ok(Some(smtp::Envelope::RcptTo(a))) => Some(format!("T {}", s(a))),
                    Ok(None) => None,
                    Err(r) => Some(e(r)),
                }
            })
            .collect();
        assert_eq!(one_by_one, *want, "{what}");
    }
    assert_eq!(
        smtp_items(&fixture("smtp-pipelined-envelope.bin")),
        [
            "F papanoel@intradef.gouv.fr",
            "T aponcelet@shewa.intradef.gouv.fr"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Real captures from ../shared, cross-checked against the peers' expected output

/// One transport segment or datagram of a capture.
#[derive(Clone, Debug)]
struct Payload {
    tcp: bool,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    /// TCP: the sequence number and the SYN and ACK flags.
    seq: u32,
    syn: bool,
    ack: bool,
    data: Vec<u8>,
}

/// Every TCP segment that carries data or SYN and every non-empty UDP payload of a classic pcap
/// file, in capture order (Ethernet with VLAN tags, BSD loopback, raw IP, Linux cooked; no
/// tunnels).
fn pcap_payloads(path: &Path) -> Vec<Payload> {
    use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
    use pcap_parser::data::{PacketData, get_packetdata};
    let bytes = std::fs::read(path).unwrap();
    let cap = pcap_parser::PcapCapture::from_file(&bytes).unwrap();
    let mut out = Vec::new();
    for b in &cap.blocks {
        let Some(pd) = get_packetdata(b.data, cap.header.network, b.caplen as usize) else {
            continue;
        };
        let pkt = match pd {
            PacketData::L2(d) => match LaxSlicedPacket::from_ethernet(d) {
                Ok(p) => p,
                Err(_) => continue,
            },
            PacketData::L3(et, d) => LaxSlicedPacket::from_ether_type(EtherType(et), d),
            _ => continue,
        };
        let (sa, da) = match &pkt.net {
            Some(LaxNetSlice::Ipv4(s)) => (
                IpAddr::V4(s.header().source_addr()),
                IpAddr::V4(s.header().destination_addr()),
            ),
            Some(LaxNetSlice::Ipv6(s)) => (
                IpAddr::V6(s.header().source_addr()),
                IpAddr::V6(s.header().destination_addr()),
            ),
            _ => continue,
        };
        let (tcp, sp, dp, (seq, syn, ack), data) = match &pkt.transport {
            Some(TransportSlice::Tcp(t)) => (
                true,
                t.source_port(),
                t.destination_port(),
                (t.sequence_number(), t.syn(), t.ack()),
                t.payload(),
            ),
            Some(TransportSlice::Udp(u)) => (
                false,
                u.source_port(),
                u.destination_port(),
                (0, false, false),
                u.payload(),
            ),
            _ => continue,
        };
        if !data.is_empty() || syn {
            out.push(Payload {
                tcp,
                src: (sa, sp),
                dst: (da, dp),
                seq,
                syn,
                ack,
                data: data.to_vec(),
            });
        }
    }
    out
}

/// What the four parsers found in a capture.
#[derive(Default, Debug)]
struct Seen {
    names: HashSet<String>,
    addrs: HashSet<IpAddr>,
    snis: HashSet<String>,
    hosts: HashSet<String>,
    urls: HashSet<String>,
    methods: HashSet<String>,
    emails: HashSet<String>,
    /// `Referer` URLs, and the hosts they name.
    referrers: HashSet<String>,
    referrer_hosts: HashSet<String>,
    /// `X-Forwarded-For` / `Forwarded` addresses.
    forwarded: HashSet<IpAddr>,
    user_agents: HashSet<String>,
}

impl Seen {
    fn dns(&mut self, msg: &[u8], nb: &mut NameBuf) {
        let _ = dns::parse(msg, nb, |it| match it {
            DnsItem::Question(n) | DnsItem::AnswerName(n) => {
                self.names.insert(s(n).to_ascii_lowercase());
            }
            DnsItem::AnswerAddr(a) => {
                self.addrs.insert(a);
            }
        });
    }

    fn found(&mut self, f: Found, server: (IpAddr, u16), nb: &mut NameBuf, buf: &mut Vec<u8>) {
        match f {
            Found::Host(Field::TlsSni, n) => {
                self.snis.insert(s(n).to_ascii_lowercase());
            }
            Found::Http(r) => {
                self.methods.insert(s(r.method));
                if let Some(h) = r.authority() {
                    self.hosts.insert(s(h).to_ascii_lowercase());
                    self.hosts
                        .insert(s(http::strip_port(h)).to_ascii_lowercase());
                }
                if r.method == b"CONNECT" {
                    self.urls.extend(r.authority().map(s));
                }
                if http::full_url(&r, Some(server), buf) {
                    self.urls.insert(s(buf));
                }
                self.user_agents.extend(r.user_agent.map(s));
                if let Some(u) = r.referer {
                    self.referrers.insert(s(u));
                    if let Some(h) = http::url_host(u) {
                        self.referrer_hosts.insert(s(h).to_ascii_lowercase());
                    }
                }
                http::forwarded_addrs(r.head, |a| {
                    self.forwarded.insert(a);
                });
            }
            Found::Dns(m) => self.dns(m, nb),
            Found::Mail(_, a) => {
                self.emails.insert(s(a).to_ascii_lowercase());
            }
            Found::Host(..)
            | Found::Addr(..)
            | Found::File { .. }
            | Found::ClientHello(_)
            | Found::ServerHello(_)
            | Found::Certificate(_)
            | Found::Error(_) => {}
        }
    }
}

/// One direction of a TCP connection, read as the engine's worker reads it.
struct Direction {
    stream: reassembly::Stream,
    parser: StreamParser,
    server: (IpAddr, u16),
}

/// Reads a capture as the engine does: a UDP payload is one DNS message (on port 53 or 5353,
/// or when it looks like one); each direction of a TCP connection is reassembled and read by a
/// stream parser, the client being the side that sent the SYN (without one, the side on the
/// higher port).
fn scan(payloads: &[Payload]) -> Seen {
    let mut seen = Seen::default();
    let mut nb = NameBuf::new();
    let mut buf = Vec::new();
    let limits = reassembly::Limits::default();
    let clients: HashSet<_> = payloads
        .iter()
        .filter(|p| p.tcp && p.syn && !p.ack)
        .map(|p| (p.src, p.dst))
        .collect();
    let mut dirs: std::collections::HashMap<_, Direction> = Default::default();
    for p in payloads {
        if !p.tcp {
            let port53 = [p.src.1, p.dst.1].iter().any(|&x| x == 53 || x == 5353);
            if port53 || dns::looks_like_dns(&p.data) {
                seen.dns(&p.data, &mut nb);
            }
            continue;
        }
        let d = dirs.entry((p.src, p.dst)).or_insert_with(|| {
            let from_client = clients.contains(&(p.src, p.dst))
                || (!clients.contains(&(p.dst, p.src)) && p.src.1 > p.dst.1);
            let server = if from_client { p.dst } else { p.src };
            Direction {
                stream: reassembly::Stream::default(),
                parser: StreamParser::new(from_client, server.1),
                server,
            }
        });
        let seg = d.stream.segment(p.seq, p.syn, &p.data, &limits);
        read(d, seg, &mut seen, &mut nb, &mut buf);
    }
    // The capture ends: waiting data past a hole is still read.
    for d in dirs.values_mut() {
        let seg = d.stream.finish();
        read(d, seg, &mut seen, &mut nb, &mut buf);
    }
    seen
}

fn read(
    d: &mut Direction,
    seg: reassembly::Segment,
    seen: &mut Seen,
    nb: &mut NameBuf,
    buf: &mut Vec<u8>,
) {
    if seg.gap > 0 {
        d.parser.gap(seg.gap, &mut |_| {});
    }
    if d.stream.is_closed() {
        return;
    }
    let server = d.server;
    let used = d
        .parser
        .parse(d.stream.data(), &mut |f| seen.found(f, server, nb, buf));
    d.stream.consume(used);
    if d.parser.done() {
        d.stream.close();
    }
}

fn shared_pcaps() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pcaps");
    if p.join("arkime/dns-udp.pcap").exists() {
        Some(p)
    } else {
        println!("skipped: {} not present", p.display());
        None
    }
}

fn ascii_name(n: &str) -> String {
    idna::domain_to_ascii(n).unwrap_or_else(|_| n.to_ascii_lowercase())
}

/// Values Arkime's expected output lists for a capture, by what they should match.
#[derive(Default, Debug)]
struct Expected {
    names: Vec<String>,
    addrs: Vec<IpAddr>,
    snis: Vec<String>,
    hosts: Vec<String>,
    urls: Vec<String>,
    methods: Vec<String>,
    emails: Vec<String>,
    referrers: Vec<String>,
    forwarded: Vec<IpAddr>,
}

fn arkime_expected(test_json: &Path) -> Expected {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(test_json).unwrap()).unwrap();
    let strs = |v: &serde_json::Value| -> Vec<String> {
        match v {
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            serde_json::Value::String(s) => vec![s.clone()],
            _ => vec![],
        }
    };
    let mut e = Expected::default();
    for sess in v["sessions3"].as_array().unwrap() {
        let b = &sess["body"];
        for d in b["dns"].as_array().into_iter().flatten() {
            for q in strs(&d["queryHost"]) {
                if q != "<root>" {
                    e.names.push(ascii_name(&q));
                }
            }
            for a in d["answers"].as_array().into_iter().flatten() {
                let ty = a["type"].as_str().unwrap_or("");
                if matches!(ty, "A" | "AAAA" | "CNAME") {
                    e.names
                        .extend(strs(&a["name"]).iter().map(|n| ascii_name(n)));
                }
                // Host names in the data: CNAME, MX and NS targets.
                for key in ["cname", "mx", "nameserver"] {
                    e.names.extend(strs(&a[key]).iter().map(|n| ascii_name(n)));
                }
                // "HTTPS 1 . alpn=h3,h2 ipv4hint=a,b ipv6hint=c,d": the target ("." is the
                // owner) and the address hints.
                for svc in strs(&a["https"]).iter().chain(&strs(&a["svcb"])) {
                    let mut words = svc.split(' ').skip(2);
                    e.names.extend(
                        words
                            .next()
                            .map(|t| t.trim_end_matches('.'))
                            .filter(|t| !t.is_empty())
                            .map(ascii_name),
                    );
                    for w in words {
                        if let Some(v) = w
                            .strip_prefix("ipv4hint=")
                            .or_else(|| w.strip_prefix("ipv6hint="))
                        {
                            e.addrs
                                .extend(v.split(',').map(|ip| ip.parse::<IpAddr>().unwrap()));
                        }
                    }
                }
                if matches!(ty, "A" | "AAAA") {
                    e.addrs.extend(
                        strs(&a["ip"])
                            .iter()
                            .map(|ip| ip.parse::<IpAddr>().unwrap()),
                    );
                }
            }
        }
        // For a TLS session Arkime's http.host is the SNI.
        let hosts = strs(&b["http"]["host"])
            .into_iter()
            .map(|h| h.to_ascii_lowercase());
        if b.get("tls").is_some() {
            e.snis.extend(hosts);
        } else {
            e.hosts.extend(hosts);
        }
        // Arkime's uri is host + path, the scheme left out.
        e.urls.extend(strs(&b["http"]["uri"]));
        e.methods.extend(strs(&b["http"]["method"]));
        e.referrers.extend(strs(&b["http"]["request-referer"]));
        e.forwarded.extend(
            strs(&b["http"]["xffIp"])
                .iter()
                .map(|ip| ip.parse::<IpAddr>().unwrap()),
        );
        for a in strs(&b["email"]["src"])
            .iter()
            .chain(&strs(&b["email"]["dst"]))
        {
            if !a.is_empty() {
                e.emails.push(a.to_ascii_lowercase());
            }
        }
    }
    e
}

fn check(what: &str, e: &Expected, seen: &Seen) -> usize {
    let mut n = 0;
    let mut miss = |kind: &str, v: &str, ok: bool| {
        n += 1;
        assert!(
            ok,
            "{what}: expected {kind} {v:?} not extracted; saw {seen:#?}"
        );
    };
    for x in &e.names {
        miss("name", x, seen.names.contains(x));
    }
    for x in &e.addrs {
        miss("address", &x.to_string(), seen.addrs.contains(x));
    }
    for x in &e.snis {
        miss("SNI", x, seen.snis.contains(x));
    }
    for x in &e.hosts {
        miss("host", x, seen.hosts.contains(x));
    }
    for x in &e.urls {
        let ok = seen.urls.contains(x) || seen.urls.contains(&format!("http://{x}"));
        miss("URL", x, ok);
    }
    for x in &e.methods {
        miss("method", x, seen.methods.contains(x));
    }
    for x in &e.emails {
        miss("email", x, seen.emails.contains(x));
    }
    for x in &e.referrers {
        miss("referrer", x, seen.referrers.contains(x));
        // The host it names is looked up as a name too.
        let host = http::url_host(x.as_bytes()).map(|h| s(h).to_ascii_lowercase());
        let host = host.expect("a referrer with a host");
        miss("referrer host", &host, seen.referrer_hosts.contains(&host));
    }
    for x in &e.forwarded {
        miss("forwarded-for", &x.to_string(), seen.forwarded.contains(x));
    }
    n
}

#[test]
fn peers_arkime() {
    let Some(dir) = shared_pcaps() else { return };
    let dir = dir.join("arkime");
    let pcaps = [
        "dns-udp",
        "dns-tcp",
        "dns-mx",
        "dns-punycode",
        "dns-wiresharkrepo",
        "dns-https",
        "curl-enabled-tls13",
        "v6",
        "v6-http",
        "http-basicauth",
        "http-content-gzip",
        "http-post-upload",
        "http-simple-get",
        "http-xff",
        "twovlan",
        "https-connect",
        "tls13",
        "tls-alpn-h2",
        "socks-https-example",
        "smtp-data-250",
        "smtp-originating",
        "smtp-subject-utf8-q",
        "smtp-zip",
        // A ClientHello and a request line that one segment alone does not hold.
        "tls-split-client-hello",
        "http-wrapped-header",
    ];
    let mut total = 0;
    for name in pcaps {
        let seen = scan(&pcap_payloads(&dir.join(format!("{name}.pcap"))));
        let e = arkime_expected(&dir.join(format!("{name}.test.json")));
        let n = check(name, &e, &seen);
        assert!(n > 0, "{name}: nothing expected?");
        total += n;
    }
    println!("arkime: {total} expected values found");

    // smtp-decrypted holds the session after STARTTLS in clear text (decrypted by whoever made
    // the capture); on the wire those bytes are TLS, so the engine stops reading at STARTTLS.
    // The commands after it, read as a new SMTP stream per connection, give Arkime's
    // addresses.
    let name = "smtp-decrypted";
    let payloads = pcap_payloads(&dir.join(format!("{name}.pcap")));
    assert!(scan(&payloads).emails.is_empty());
    let mut clients: std::collections::BTreeMap<_, Vec<u8>> = Default::default();
    for p in payloads
        .iter()
        .filter(|p| p.tcp && stream::SMTP_PORTS.contains(&p.dst.1))
    {
        clients
            .entry((p.src, p.dst))
            .or_default()
            .extend_from_slice(&p.data);
    }
    let mut seen = Seen::default();
    let (mut nb, mut buf) = (NameBuf::new(), Vec::new());
    for ((_, server), client) in &clients {
        let after = client
            .windows(10)
            .position(|w| w == b"STARTTLS\r\n")
            .map_or(0, |at| at + 10);
        stream_each(true, server.1, &client[after..], |f| {
            seen.found(f, *server, &mut nb, &mut buf)
        });
    }
    let e = arkime_expected(&dir.join(format!("{name}.test.json")));
    assert_eq!(check(name, &e, &seen), e.emails.len());
    assert!(!e.emails.is_empty());
}

/// The committed Arkime captures with host names and addresses in MX, NS and HTTPS records:
/// every name and address Arkime lists for them is extracted.
#[test]
fn peers_arkime_dns_answer_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/arkime");
    let cases: [(&str, &[&str], &[&str]); 2] = [
        (
            "dns-mx",
            &["cluster5a.us.messagelabs.com", "dns1.stabletransit.com"],
            &[],
        ),
        (
            "dns-https",
            &[],
            &["104.16.133.229", "2606:4700::6810:85e5"],
        ),
    ];
    for (name, names, addrs) in cases {
        let seen = scan(&pcap_payloads(&dir.join(format!("{name}.pcap"))));
        let e = arkime_expected(&dir.join(format!("{name}.test.json")));
        // The expectation read from Arkime's file holds the MX, NS and HTTPS values.
        for n in names {
            assert!(
                e.names.iter().any(|x| x == n),
                "{name}: {n} not read from Arkime"
            );
        }
        for a in addrs {
            let a: IpAddr = a.parse().unwrap();
            assert!(e.addrs.contains(&a), "{name}: {a} not read from Arkime");
        }
        assert_eq!(
            check(name, &e, &seen),
            e.names.len() + e.addrs.len(),
            "{name}"
        );
    }
}

/// Arkime's h2c capture (committed; prior knowledge, a header block over CONTINUATION frames,
/// Huffman-coded strings): its host, each path as a URL on that host, the methods (less the
/// preface's `PRI`, which Arkime lists and is no request) and the user agent are read.
#[test]
fn peers_arkime_h2c() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/arkime");
    let seen = scan(&pcap_payloads(&dir.join("http2-nghttp2.pcap")));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("http2-nghttp2.test.json")).unwrap())
            .unwrap();
    let http = &v["sessions3"][0]["body"]["http"];
    let list = |k: &str| -> Vec<String> {
        http[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect()
    };
    let hosts = list("host");
    assert_eq!(hosts.len(), 1);
    let paths = list("path");
    assert_eq!(paths.len(), 2);
    let mut n = 0;
    for h in &hosts {
        assert!(seen.hosts.contains(h), "{h}: {seen:#?}");
        for p in &paths {
            let url = format!("http://{h}{p}");
            assert!(seen.urls.contains(&url), "{url}: {seen:#?}");
            n += 1;
        }
    }
    for m in list("method").iter().filter(|m| *m != "PRI") {
        assert!(seen.methods.contains(m), "{m}");
        n += 1;
    }
    for ua in list("useragent") {
        assert!(seen.user_agents.contains(&ua), "{ua}");
        n += 1;
    }
    assert_eq!(n, 4);
    // Two requests, no more: nothing else in the capture reads as one.
    assert_eq!(seen.urls.len(), 2, "{:?}", seen.urls);
}

/// Rows of a Zeek log as maps from field name to value (`-` unset ones left out).
fn zeek_log(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            fields
                .iter()
                .zip(l.split('\t'))
                .filter(|(_, v)| *v != "-" && *v != "(empty)")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn peers_zeek() {
    let Some(dir) = shared_pcaps() else { return };
    let logs = dir.join("zeek/expected-logs");
    let cases: &[(&str, &str, &str)] = &[
        (
            "dns53.pcap",
            "dns53.pcap__scripts.base.protocols.dns.flip",
            "dns.log",
        ),
        (
            "ipv6-fragmented-dns.pcap",
            "ipv6-fragmented-dns.pcap__core.ipv6-frag",
            "dns.log",
        ),
        (
            "smtp.pcap",
            "smtp.pcap__scripts.base.protocols.smtp.basic",
            "smtp.log",
        ),
        (
            "tls_smtp-starttls.pcap",
            "tls_smtp-starttls.pcap__scripts.base.protocols.smtp.starttls",
            "smtp.log",
        ),
        (
            "tls_tls13-ech.pcap",
            "tls_tls13-ech.pcap__scripts.base.protocols.ssl.tls13-encrypted-client-hello",
            "ssl.log",
        ),
        (
            "tls_tls1.2.pcap",
            "tls_tls1.2.pcap__scripts.base.protocols.ssl.tls-1.2",
            "ssl.log",
        ),
        (
            "http_pipelined-requests.pcap",
            "http_pipelined-requests.pcap__scripts.base.protocols.http.http-pipelining",
            "http.log",
        ),
        (
            "http_methods.pcap",
            "http_methods.pcap__scripts.base.protocols.http.http-methods",
            "http.log",
        ),
    ];
    let mut total = 0;
    for (pcap, test, log) in cases {
        let seen = scan(&pcap_payloads(&dir.join("zeek").join(pcap)));
        let mut e = Expected::default();
        for row in zeek_log(&logs.join(test).join(log)) {
            let get = |k: &str| row.get(k).cloned();
            match *log {
                "dns.log" => {
                    e.names.extend(get("query"));
                    // Addresses and names; TXT strings ("TXT 33 …") are not extracted.
                    for a in get("answers").iter().flat_map(|a| a.split(',')) {
                        match a.parse::<IpAddr>() {
                            Ok(ip) => e.addrs.push(ip),
                            Err(_) if !a.contains(' ') => e.names.push(a.to_ascii_lowercase()),
                            Err(_) => {}
                        }
                    }
                }
                "smtp.log" => {
                    e.emails.extend(get("mailfrom"));
                    for r in get("rcptto").iter().flat_map(|a| a.split(',')) {
                        e.emails.push(r.to_string());
                    }
                }
                "ssl.log" => e.snis.extend(get("server_name")),
                _ => {
                    // Zeek keeps requests this parser refuses (`GET /HTTP/1.1` as HTTP/0.9,
                    // `OPTIONS` without a target): only methods and hosts are compared for
                    // those; well-formed ones give their full URL too.
                    e.hosts.extend(get("host"));
                    e.methods.extend(get("method"));
                    e.referrers.extend(get("referrer"));
                    if let (Some(h), Some(u), Some("1.1")) =
                        (get("host"), get("uri"), get("version").as_deref())
                    {
                        if u.starts_with('/') && !u.contains("HTTP/") {
                            e.urls.push(format!("http://{h}{u}"));
                        }
                    }
                }
            }
        }
        total += check(pcap, &e, &seen);
    }
    assert!(total > 20, "{total}");
    println!("zeek: {total} expected values found");
}

// ---------------------------------------------------------------------------------------------
// Properties: no panic on any input; every slice handed out lies in the input (or, for DNS
// names, in the caller's NameBuf).

fn seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "dns-udp-cname-response.bin",
        "dns-tcp-response.bin",
        "tls-clienthello-tls13.bin",
        "tls-clienthello-alpn-h2.bin",
        "tls-clienthello-two-segments.bin",
        "http-get-basicauth.bin",
        "smtp-pipelined-envelope.bin",
    ]
    .iter()
    .map(|f| fixture(f))
    .collect();
    v.push(sample_response());
    // The real MX/NS and HTTPS (target, address hints) responses, for the record types whose
    // data names hosts.
    v.push(arkime_dns_response("dns-mx"));
    v.push(arkime_dns_response("dns-https"));
    v.push(client_hello(&[sni_ext(&[(0, b"x.example")])]));
    v
}

/// A DNS message parsed: every name handed out lies in the caller's `NameBuf`.
fn dns_checked(m: &[u8], nb: &mut NameBuf) {
    let nb_start = &*nb as *const NameBuf as usize;
    let nb_len = std::mem::size_of::<NameBuf>();
    let _ = dns::parse(m, nb, |it| {
        if let DnsItem::Question(n) | DnsItem::AnswerName(n) = it {
            assert!(within(n, nb_start, nb_len));
            assert!(n.len() <= 508);
        }
    });
}

/// An HTTP head's parts all lie in `data`.
fn http_checked(r: &http::Request, data: &[u8]) {
    for part in [r.method, r.uri, r.version, r.head]
        .into_iter()
        .chain(r.host)
        .chain(r.user_agent)
        .chain(r.referer)
        .chain(r.authority())
    {
        assert!(inside(part, data));
    }
    let mut out = Vec::new();
    let _ = http::full_url(r, Some(("192.0.2.1".parse().unwrap(), 8080)), &mut out);
    let _ = http::strip_port(r.authority().unwrap_or_default());
    if let Some(h) = r.referer.and_then(http::url_host) {
        assert!(inside(h, data) && !h.is_empty());
    }
    http::forwarded_addrs(r.head, |_| {});
}

fn all_parsers(data: &[u8]) {
    let mut nb = NameBuf::new();
    let _ = dns::looks_like_dns(data);
    dns_checked(data, &mut nb);
    let _ = tls::is_client_hello(data);
    if let Ok(Some(n)) = tls::handshake_sni(data) {
        assert!(inside(n, data) && !n.is_empty());
    }
    let _ = http::request_start_so_far(data);
    if let Ok(Some(r)) = http::request(data) {
        http_checked(&r, data);
    }
    // The stream parser in each direction and on the ports that choose each protocol; what
    // it hands out lies in the input (a TLS server name: in the parser's joined handshake).
    for (from_client, port) in [
        (true, 80),
        (true, 443),
        (true, 25),
        (true, 53),
        (false, 53),
        (true, 1080),
        (false, 443),
        (false, 25),
    ] {
        stream_each(from_client, port, data, |f| match f {
            Found::Dns(m) => {
                assert!(inside(m, data));
                dns_checked(m, &mut nb);
            }
            Found::Http(r) => http_checked(&r, data),
            Found::Mail(_, a) => assert!(inside(a, data) && !a.is_empty()),
            Found::Host(_, h) => assert!(!h.is_empty()),
            // Joined from records by the parser: whole messages of their type.
            Found::ClientHello(m) => {
                assert_eq!(m[0], 1);
                if let Ok(Some(h)) = tls::client_hello(m) {
                    let _ = (fp::ja3(&h), fp::ja4(&h, fp::Ja4Transport::Tcp));
                }
            }
            Found::ServerHello(m) => {
                assert_eq!(m[0], 2);
                if let Ok(Some(h)) = tls::server_hello(m) {
                    let _ = (fp::ja3s(&h), fp::ja4s(&h, fp::Ja4Transport::Tcp));
                }
            }
            Found::Certificate(d) => {
                assert!(!d.is_empty());
                let _ = x509::names(d, &mut |_, n| assert!(inside(n, d)));
            }
            Found::Addr(..) | Found::File { .. } | Found::Error(_) => {}
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn prop_arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..700)) {
        all_parsers(&data);
    }

    #[test]
    fn prop_mutated_real_payloads(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let seeds = seeds();
        let mut d = seeds[which.index(seeds.len())].clone();
        for (at, b) in edits {
            let i = at.index(d.len());
            d[i] = b;
        }
        let n = cut.index(d.len() + 1);
        all_parsers(&d[..n]);
        all_parsers(&d);
    }

    #[test]
    fn prop_dns_names_round_trip(labels in prop::collection::vec("[a-zA-Z0-9_-]{1,20}", 1..8)) {
        let name = labels.join(".");
        let (items, r) = dns_items(&Msg::query(&name).0);
        prop_assert!(r.is_ok());
        prop_assert_eq!(items, vec![format!("Q {name}")]);
    }

    #[test]
    fn prop_smtp_lines(addrs in prop::collection::vec("[a-z0-9.]{1,12}@[a-z0-9]{1,10}\\.example", 1..6)) {
        let mut p = String::new();
        for (i, a) in addrs.iter().enumerate() {
            p.push_str(if i == 0 { "MAIL FROM:<" } else { "RCPT TO:<" });
            p.push_str(a);
            p.push_str(">\r\n");
        }
        let items = smtp_items(p.as_bytes());
        prop_assert_eq!(items.len(), addrs.len());
        prop_assert!(items.iter().zip(&addrs).all(|(i, a)| i.ends_with(a.as_str())));
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput: `cargo test --release --test apps -- --ignored throughput --nocapture`

/// Runs `f` over the mix for about half a second; `f` returns how much it found, summed per
/// pass over the mix for the report (and so that nothing is optimised away).
fn rate(name: &str, payloads: &[Vec<u8>], mut f: impl FnMut(&[u8]) -> usize) {
    let per_pass: usize = payloads.iter().map(|p| f(p)).sum(); // also warms up
    let mut found = 0usize;
    let start = std::time::Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_millis() < 500 {
        for _ in 0..1000 {
            for p in payloads {
                found += f(std::hint::black_box(p));
            }
        }
        n += 1000 * payloads.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    println!(
        "{name:<28} {:>8.2} M payloads/s  {:>5.0} ns each  ({} payloads, mean {} bytes, {} found per pass)",
        n as f64 / secs / 1e6,
        secs * 1e9 / n as f64,
        payloads.len(),
        bytes / payloads.len(),
        per_pass
    );
    std::hint::black_box(found);
}

#[test]
#[ignore]
fn throughput() {
    let dns_mix: Vec<Vec<u8>> = vec![
        Msg::query("www.example.com").0,
        Msg::query("clients4.google.com").0,
        sample_response(),
        fixture("dns-udp-cname-response.bin"),
        tcp_dns(&fixture("dns-tcp-response.bin"), false).remove(0),
    ];
    let mut nb = NameBuf::new();
    rate("dns::parse", &dns_mix, |m| {
        let mut k = 0;
        let _ = dns::parse(m, &mut nb, |_| k += 1);
        k
    });
    let tls_mix: Vec<Vec<u8>> = vec![
        fixture("tls-clienthello-tls13.bin"),
        fixture("tls-clienthello-alpn-h2.bin"),
        fixture("tls-clienthello-two-segments.bin")[..1392].to_vec(),
        fixture("tls-clienthello-two-segments.bin"),
    ];
    // A parser per payload, as per connection: detection, joining the records, the walk.
    rate("stream: tls client hello", &tls_mix, |p| {
        let mut k = 0;
        stream_each(true, 443, p, |f| {
            if let Found::Host(_, n) = f {
                k += n.len();
            }
        });
        k
    });
    let http_mix: Vec<Vec<u8>> = vec![
        fixture("http-get-basicauth.bin"),
        b"GET /favicon.ico HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nAccept: image/avif,image/webp,*/*\r\nAccept-Encoding: gzip, deflate\r\nAccept-Language: en-US,en;q=0.9\r\nConnection: keep-alive\r\nReferer: http://www.example.com/\r\n\r\n".to_vec(),
        b"POST /api/v1/upload HTTP/1.1\r\nHost: api.example.net:8080\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"k\":\"some data\"}".to_vec(),
    ];
    let mut buf = Vec::new();
    let server = Some(("192.0.2.1".parse::<IpAddr>().unwrap(), 80));
    rate(
        "http::request + full_url",
        &http_mix,
        |p| match http::request(p) {
            Ok(Some(r)) => {
                http::full_url(&r, server, &mut buf);
                buf.len()
            }
            _ => 0,
        },
    );
    let mut body = Vec::new();
    while body.len() < 1400 {
        body.extend_from_slice(
            b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do\r\n",
        );
    }
    let smtp_mix: Vec<Vec<u8>> = vec![
        fixture("smtp-pipelined-envelope.bin"),
        b"EHLO client.example.org\r\n".to_vec(),
        b"MAIL FROM:<sender@example.org> SIZE=2048\r\n".to_vec(),
        b"RCPT TO:<rcpt@example.com>\r\n".to_vec(),
        body,
    ];
    rate("stream: smtp commands", &smtp_mix, |p| {
        let mut k = 0;
        stream_each(true, 25, p, |f| {
            if let Found::Mail(..) = f {
                k += 1;
            }
        });
        k
    });
    // What the engine pays to rule a payload out.
    let other: Vec<Vec<u8>> = vec![vec![0x17, 3, 3, 0, 40, 1, 2, 3], http_mix[0].clone()];
    rate("is_client_hello (no)", &other, |p| {
        tls::is_client_hello(p) as usize
    });
    rate("looks_like_dns (no)", &other, |p| {
        dns::looks_like_dns(p) as usize
    });
    rate("request_start_so_far (mixed)", &other, |p| {
        (http::request_start_so_far(p) == Some(true)) as usize
    });
}
