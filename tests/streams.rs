//! TCP reassembly end to end, through `scan pcap`'s engine: a ClientHello and an HTTP head
//! split at every byte offset still hit, once per connection; a generated capture of full
//! sessions — split heads, reordered and retransmitted segments, tunnels, VLANs, IPv6 — yields
//! every value its truth file lists, with no stream gap and no differing overlap; SCTP user
//! messages are read as the protocol their ports say.

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use trawl::{Hit, HitSink, ObservedIn, SetVersion};
use trawl_tools::pcap::{
    CLIENT_HELLO_ENTROPY, ClientHelloParts, PcapWriter, TcpSession, http_get,
    tls_client_hello_browser,
};
use trawl_tools::sessions::{Config, Generator, Shares};

/// (field, observed value) of every hit, and the scan's counters.
type Found = Vec<(&'static str, String)>;

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Found>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let ObservedIn::Packet(field) = s.field else {
            panic!("a packet hit observed outside a packet");
        };
        self.0
            .lock()
            .unwrap()
            .push((field.ecs(), s.observed.to_lowercase()));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn scan(dir: &Path, feed: &str, pcap: &Path, workers: usize) -> (Found, trawl::Stats) {
    let sink = Collect::default();
    let stats = common::scan_capture(dir, feed, pcap, workers, sink.clone());
    let mut hits = sink.0.lock().unwrap().clone();
    hits.sort();
    (hits, stats)
}

/// One connection per split offset, each sending `message` in two segments cut there.
fn split_everywhere(message: &[u8], server_port: u16, path: &Path) -> usize {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    let server: IpAddr = "198.51.100.80".parse().unwrap();
    let mut n = 0;
    for cut in 1..message.len() {
        let client: IpAddr = IpAddr::from([10, 1, (cut >> 8) as u8, cut as u8]);
        let mut s = TcpSession::open((client, 40000), (server, server_port), cut as u64 * 1000);
        s.client(&message[..cut]).client(&message[cut..]);
        for (ts, frame) in s.close() {
            w.frame(ts, &frame).unwrap();
        }
        n += 1;
    }
    n
}

#[test]
fn a_client_hello_and_an_http_head_split_at_every_offset_still_hit() {
    let dir = tempfile::tempdir().unwrap();
    // A post-quantum ClientHello: about 1.7 KB.
    let entropy: Vec<u8> = (0..CLIENT_HELLO_ENTROPY).map(|i| (i * 7) as u8).collect();
    let mut hello = Vec::new();
    tls_client_hello_browser(
        &mut hello,
        &ClientHelloParts {
            sni: "split.tls.example",
            post_quantum: true,
            entropy: &entropy,
        },
    );
    assert!(hello.len() > 1460, "{} bytes", hello.len());
    let pcap = dir.path().join("tls.pcap");
    let flows = split_everywhere(&hello, 443, &pcap);
    let (hits, stats) = scan(dir.path(), "split.tls.example\n", &pcap, 2);
    let sni = hits
        .iter()
        .filter(|h| h == &&("tls.client.server_name", "split.tls.example".to_string()))
        .count();
    assert_eq!(sni, flows, "one SNI hit per connection");
    assert_eq!(stats.flows.created, flows as u64);
    assert_eq!(stats.flows.gaps, 0);

    let head = http_get("split.http.example", "/a/b?c=d", "Splitter/1.0");
    let pcap = dir.path().join("http.pcap");
    let flows = split_everywhere(&head, 80, &pcap);
    let (hits, _) = scan(dir.path(), "split.http.example\n", &pcap, 2);
    let host = hits.iter().filter(|h| h.0 == "url.domain").count();
    assert_eq!(host, flows, "one Host hit per connection");
}

/// The values of a truth record, with the field trawl reports each in.
fn truth_values(truth: &str) -> BTreeSet<(&'static str, String)> {
    let mut want = BTreeSet::new();
    for line in truth.lines() {
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        let values = &rec["values"];
        for (key, field) in [
            ("sni", "tls.client.server_name"),
            ("http_host", "url.domain"),
            ("mail_from", "email.from.address"),
            ("rcpt_to", "email.to.address"),
        ] {
            for v in values[key].as_array().unwrap() {
                want.insert((field, v.as_str().unwrap().to_lowercase()));
            }
        }
        // DNS names are questions, or the CNAME targets of the answers.
        for v in values["dns"].as_array().unwrap() {
            want.insert(("dns", v.as_str().unwrap().to_lowercase()));
        }
    }
    want
}

#[test]
fn generated_sessions_yield_every_value_of_their_truth_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        seed: 11,
        bytes: 6 << 20,
        concurrent: 50,
        shares: Shares {
            split: 0.5,
            reorder: 0.2,
            retransmit: 0.2,
            ipv6: 0.2,
            vlan: 0.1,
            vxlan: 0.1,
            gre: 0.1,
            ..Config::default().shares
        },
        ..Config::default()
    };
    let pcap: PathBuf = dir.path().join("sessions.pcap");
    let mut truth = Vec::new();
    Generator::new(cfg)
        .run(
            std::io::BufWriter::new(std::fs::File::create(&pcap).unwrap()),
            Some(&mut truth),
        )
        .unwrap();
    let want = truth_values(std::str::from_utf8(&truth).unwrap());
    assert!(want.len() > 100, "{} values", want.len());
    let feed: BTreeSet<&str> = want.iter().map(|(_, v)| v.as_str()).collect();
    let feed: String = feed.into_iter().map(|v| format!("{v}\n")).collect();
    for workers in [1, 3] {
        let (hits, stats) = scan(dir.path(), &feed, &pcap, workers);
        let got: BTreeSet<(&str, String)> = hits
            .into_iter()
            .map(|(f, v)| match f {
                "dns.question.name" | "dns.answers.name" => ("dns", v),
                _ => (f, v),
            })
            .collect();
        let missing: Vec<_> = want.difference(&got).collect();
        assert!(missing.is_empty(), "-j {workers}: missing {missing:?}");
        assert_eq!(stats.flows.gaps, 0, "-j {workers}: {:?}", stats.flows);
        assert_eq!(stats.flows.differing_bytes, 0);
        assert!(stats.flows.duplicate_bytes > 0, "retransmissions were seen");
        assert_eq!(
            stats.flows.closed, stats.flows.created,
            "every session ended"
        );
    }
}

#[test]
fn sctp_messages_are_read_as_their_ports_say() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/transports/sctp.pcap");
    let names = [
        ("url.domain", "sctp-http.transport.example"),
        ("tls.client.server_name", "sctp-tls.transport.example"),
        ("url.domain", "bundle-one.transport.example"),
        ("url.domain", "bundle-two.transport.example"),
        ("url.domain", "sctp-idata.transport.example"),
    ];
    let feed: String = names
        .iter()
        .map(|(_, n)| format!("{n}\n"))
        .chain(["fragment.transport.example\n".to_string()])
        .collect();
    let (hits, stats) = scan(dir.path(), &feed, &pcap, 2);
    let mut want: Vec<(&str, String)> = names.iter().map(|(f, n)| (*f, n.to_string())).collect();
    want.sort();
    assert_eq!(hits, want, "every whole message, and not the fragment");
    assert_eq!(
        stats
            .app_errors
            .get("sctp: fragmented message not reassembled"),
        Some(&1)
    );
}

/// Arkime's http-xff capture (committed): the request's Referer hits as a URL and, by its
/// host, as a domain; its X-Forwarded-For address (`10.000.000.03`) as an address — the values
/// Arkime's expected output gives for it.
#[test]
fn a_referrer_and_a_forwarded_address_hit() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/arkime");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("http-xff.test.json")).unwrap()).unwrap();
    let http = &expected["sessions3"][0]["body"]["http"];
    let referrer = http["request-referer"][0].as_str().unwrap();
    let xff = http["xffIp"][0].as_str().unwrap();
    let host = referrer.split('/').nth(2).unwrap();
    let feed = format!("{referrer}\n{host}\n{xff}\n");
    let (hits, _) = scan(dir.path(), &feed, &data.join("http-xff.pcap"), 1);
    assert_eq!(
        hits,
        [
            ("http.request.referrer", referrer.to_string()),
            ("http.request.referrer", host.to_string()),
            ("trawl.http.forwarded_for", xff.to_string()),
        ]
    );
}

/// HTTP/2 in cleartext through the engine. Arkime's nghttp2 capture (committed): the request
/// for `/` and the one the server pushes give their host and URLs, with no error counted. The
/// crafted prior-knowledge and `Upgrade: h2c` connections, split at every offset, give every
/// request's host, URL, Referer and forwarded address once per connection.
#[test]
fn h2c_requests_hit_like_http1_requests() {
    let dir = tempfile::tempdir().unwrap();
    let pcap =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/arkime/http2-nghttp2.pcap");
    let feed = "nghttp2.org\nhttp://nghttp2.org/stylesheets/screen.css\n";
    let (hits, stats) = scan(dir.path(), feed, &pcap, 1);
    assert_eq!(
        hits,
        [
            ("url.domain", "nghttp2.org".to_string()),
            (
                "url.full",
                "http://nghttp2.org/stylesheets/screen.css".to_string()
            ),
        ]
    );
    assert!(stats.app_errors.is_empty(), "{:?}", stats.app_errors);

    let feed = "secure.example\nhosted.example\nhttp://h2.example:8080/upload\nref.example\n\
                198.51.100.9\nup.example\nhttp://up.example/next\n";
    for (name, data) in [
        ("prior knowledge", common::h2c::prior_knowledge().0),
        ("upgrade", common::h2c::upgrade().0),
    ] {
        let pcap = dir.path().join("h2c.pcap");
        let flows = split_everywhere(&data, 80, &pcap);
        let (hits, stats) = scan(dir.path(), feed, &pcap, 2);
        assert!(
            stats.app_errors.is_empty(),
            "{name}: {:?}",
            stats.app_errors
        );
        let mut counts: std::collections::BTreeMap<_, usize> = Default::default();
        for h in &hits {
            *counts.entry(h.clone()).or_default() += 1;
        }
        let want: Vec<(&str, &str)> = if name == "upgrade" {
            // The HTTP/1.1 request and the HTTP/2 one name the same host (one hit per flow);
            // the URL is the HTTP/2 request's.
            vec![
                ("url.domain", "up.example"),
                ("url.full", "http://up.example/next"),
            ]
        } else {
            vec![
                ("http.request.referrer", "ref.example"),
                ("trawl.http.forwarded_for", "198.51.100.9"),
                ("url.domain", "hosted.example"),
                ("url.domain", "secure.example"),
                ("url.full", "http://h2.example:8080/upload"),
            ]
        };
        let want: std::collections::BTreeMap<_, usize> = want
            .into_iter()
            .map(|(f, v)| ((f, v.to_string()), flows))
            .collect();
        assert_eq!(counts, want, "{name}");
    }
}
