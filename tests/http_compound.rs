//! Compound HTTP-request indicators ("unique HTTP requests" from STIX ANDs of one
//! `http-request-ext`): a request hits one only when it meets every condition — by property
//! against a simple oracle, and end to end from a STIX bundle through a packet scan (HTTP/1.1
//! and HTTP/2 requests alike).

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use proptest::prelude::*;
use trawl::Kind;
use trawl::normalize;
use trawl::testing::http_compound::{Compound, Condition, Target};
use trawl::{Exclusions, Hit, HitSink, Meta, ObservedIn, SetVersion};
use trawl_tools::pcap::{PcapWriter, TcpSession};

/// One generated request: its parts, then the head as a client sends it.
#[derive(Clone, Debug)]
struct Request {
    method: &'static str,
    target: &'static str,
    version: &'static str,
    headers: Vec<(String, &'static str)>,
}

const METHODS: [&str; 3] = ["GET", "POST", "PUT"];
const TARGETS: [&str; 3] = ["/gate.php", "/a?b=c", "/"];
const VERSIONS: [&str; 2] = ["HTTP/1.1", "HTTP/1.0"];
const NAMES: [&str; 3] = ["Host", "User-Agent", "X-Id"];
const VALUES: [&str; 3] = ["c2.example", "EvilBot/1.0", "GET"];

impl Request {
    fn head(&self) -> Vec<u8> {
        let mut h = format!("{} {} {}\r\n", self.method, self.target, self.version);
        for (n, v) in &self.headers {
            h.push_str(&format!("{n}: {v}\r\n"));
        }
        h.push_str("\r\n");
        h.into_bytes()
    }

    /// The oracle: every condition compared with the request's parts directly.
    fn meets(&self, conditions: &[Condition]) -> bool {
        conditions.iter().all(|c| match &c.target {
            Target::Method => c.literal == self.method,
            Target::Value => c.literal == self.target,
            Target::Version => c.literal.to_ascii_uppercase() == self.version,
            Target::Header(name) => self
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && c.literal == *v),
        })
    }
}

fn request() -> impl Strategy<Value = Request> {
    let header = (0..NAMES.len(), any::<bool>(), 0..VALUES.len()).prop_map(|(n, upper, v)| {
        let name = if upper {
            NAMES[n].to_ascii_uppercase()
        } else {
            NAMES[n].to_string()
        };
        (name, VALUES[v])
    });
    (
        0..METHODS.len(),
        0..TARGETS.len(),
        0..VERSIONS.len(),
        proptest::collection::vec(header, 0..4),
    )
        .prop_map(|(m, t, v, headers)| Request {
            method: METHODS[m],
            target: TARGETS[t],
            version: VERSIONS[v],
            headers,
        })
}

fn condition() -> impl Strategy<Value = Condition> {
    prop_oneof![
        (0..METHODS.len()).prop_map(|i| (Target::Method, METHODS[i].to_string())),
        (0..TARGETS.len()).prop_map(|i| (Target::Value, TARGETS[i].to_string())),
        (0..VERSIONS.len()).prop_map(|i| (Target::Version, VERSIONS[i].to_lowercase())),
        (0..NAMES.len(), 0..VALUES.len())
            .prop_map(|(n, v)| (Target::Header(NAMES[n].to_string()), VALUES[v].to_string())),
    ]
    .prop_map(|(target, literal)| Condition { target, literal })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A set of compounds (and a plain literal) against requests: each compound hits a
    /// request exactly when the oracle says it meets all the compound's conditions.
    #[test]
    fn a_compound_hits_exactly_the_requests_that_meet_all_its_conditions(
        compounds in proptest::collection::vec(proptest::collection::vec(condition(), 1..4), 1..6),
        requests in proptest::collection::vec(request(), 1..8),
    ) {
        let compounds: Vec<Compound> =
            compounds.into_iter().filter_map(Compound::new).collect();
        let mut items: Vec<_> = compounds
            .iter()
            .map(|c| (normalize::value(Kind::HttpRequest, &c.text()).unwrap(), Meta::default()))
            .collect();
        items.push((normalize::value(Kind::HttpRequest, "EvilBot/1.0").unwrap(), Meta::default()));
        let set = common::build(&items, Exclusions::new());
        for r in &requests {
            let head = r.head();
            let hit: BTreeSet<String> = set
                .match_http(&head)
                .into_iter()
                .map(|m| set.indicator(m.indicator).unwrap().value())
                .collect();
            for c in &compounds {
                prop_assert_eq!(
                    hit.contains(&c.text()),
                    r.meets(&c.conditions),
                    "{} on {:?}", c.text(), String::from_utf8_lossy(&head)
                );
            }
            // The plain literal is still a substring match.
            prop_assert_eq!(
                hit.contains("EvilBot/1.0"),
                head.windows(11).any(|w| w == b"EvilBot/1.0")
            );
        }
    }
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(String, String, String)>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let ObservedIn::Packet(field) = s.field else {
            panic!("a packet hit observed outside a packet");
        };
        let value = s.set.set.indicator(s.matched.indicator).unwrap().value();
        self.0
            .lock()
            .unwrap()
            .push((field.ecs().to_string(), value, s.observed.clone()));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The STIX bundle's compounds through a packet scan: the request that meets all of a
/// compound's conditions hits it, with the whole head as what was seen; requests that meet
/// only some do not; an HTTP/2 request meets them like an HTTP/1.1 one.
#[test]
fn stix_compounds_hit_the_requests_that_meet_them_in_a_capture() {
    let dir = tempfile::tempdir().unwrap();
    let feed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/stix/handmade/http-compound.json"),
    )
    .unwrap();
    let pcap = dir.path().join("requests.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&pcap).unwrap()).unwrap();
    let server: IpAddr = "198.51.100.80".parse().unwrap();
    let requests: [&[u8]; 4] = [
        // All three conditions of the first compound.
        b"POST /gate.php HTTP/1.1\r\nHost: a.example\r\nUser-Agent: EvilBot/1.0\r\nContent-Length: 0\r\n\r\n",
        // Two of three: the method differs.
        b"GET /gate.php HTTP/1.1\r\nHost: a.example\r\nUser-Agent: EvilBot/1.0\r\n\r\n",
        // Two of three: the user agent differs.
        b"POST /gate.php HTTP/1.1\r\nHost: a.example\r\nUser-Agent: Mozilla/5.0\r\nContent-Length: 0\r\n\r\n",
        // The second compound (host and user agent), in upper-case header names.
        b"GET /x HTTP/1.1\r\nHOST: c2.example\r\nUSER-AGENT: EvilBot/1.0\r\n\r\n",
    ];
    for (i, req) in requests.iter().enumerate() {
        let client = IpAddr::from([10, 0, 0, i as u8 + 1]);
        let mut s = TcpSession::open((client, 40000), (server, 80), i as u64 * 1000);
        s.client(req);
        for (ts, frame) in s.close() {
            w.frame(ts, &frame).unwrap();
        }
    }
    // HTTP/2 (prior knowledge): the first compound's request.
    let mut enc = loona_hpack::Encoder::new();
    let block = enc.encode([
        (&b":method"[..], &b"POST"[..]),
        (b":scheme", b"http"),
        (b":authority", b"a.example"),
        (b":path", b"/gate.php"),
        (b"user-agent", b"EvilBot/1.0"),
    ]);
    let mut h2 = common::h2c::PREFACE.to_vec();
    h2.extend(common::h2c::frame(1, 0x5, 1, &block));
    let mut s = TcpSession::open(("10.0.0.9".parse().unwrap(), 40000), (server, 80), 9000);
    s.client(&h2);
    for (ts, frame) in s.close() {
        w.frame(ts, &frame).unwrap();
    }
    drop(w);

    let sink = Collect::default();
    let stats = common::scan_capture(dir.path(), &feed, &pcap, 1, sink.clone());
    assert!(stats.app_errors.is_empty(), "{:?}", stats.app_errors);
    let hits = sink.0.lock().unwrap().clone();
    let first = "[http-request-ext:request_method = 'POST' AND request_value = '/gate.php' AND \
                 request_header.'user-agent' = 'EvilBot/1.0']";
    let second = "[http-request-ext:request_header.'host' = 'c2.example' AND \
                  request_header.'user-agent' = 'EvilBot/1.0']";
    let head = |r: &[u8]| String::from_utf8_lossy(&r[..r.len() - 2]).into_owned();
    let want = vec![
        (
            "trawl.http.request".to_string(),
            first.to_string(),
            head(requests[0]),
        ),
        (
            "trawl.http.request".to_string(),
            second.to_string(),
            head(requests[3]),
        ),
        (
            "trawl.http.request".to_string(),
            first.to_string(),
            "POST /gate.php HTTP/2\r\nHost: a.example\r\nuser-agent: EvilBot/1.0\r\n".to_string(),
        ),
    ];
    assert_eq!(hits, want);
}
