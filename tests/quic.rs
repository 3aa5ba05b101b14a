//! QUIC end to end, through `scan pcap`'s engine: the server names Zeek and Arkime report for
//! their QUIC captures are hit, each once and nothing else; Google QUIC is counted, not read; a
//! crafted post-quantum ClientHello over two Initials that arrive out of order, with CRYPTO
//! frames out of order, is read in versions 1, 2 and draft 29 — and tshark reads the same
//! capture to the same names; damaged and cut Initials never panic and stay within bounds.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use proptest::prelude::*;
use trawl::testing::app::quic::{self, Connections, Event, QuicLimits};
use trawl::{Hit, HitSink, ObservedIn, SetVersion};
use trawl_tools::pcap::{
    CLIENT_HELLO_ENTROPY, ClientHelloParts, PcapWriter, tls_client_hello_browser, udp,
};
use trawl_tools::quic::{self as craft, DRAFT_29, V1, V2};

fn testdata(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

/// A hit: ECS field, IP protocol number, observed value.
type Seen = (&'static str, u8, String);

/// Every hit.
type Found = BTreeSet<Seen>;

const UDP: u8 = 17;

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Seen>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, h: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let (ObservedIn::Packet(field), trawl::Seen::Packet { flow, .. }) = (&h.field, &h.seen)
        else {
            panic!("a packet hit observed outside a packet");
        };
        self.0
            .lock()
            .unwrap()
            .push((field.ecs(), ip_number(flow.transport), h.observed.clone()));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn ip_number(t: trawl::Transport) -> u8 {
    match t {
        trawl::Transport::Udp => UDP,
        trawl::Transport::Tcp => 6,
        _ => 0,
    }
}

/// Scans `pcap` against a plain-list `feed`: every hit (none repeated) and the counters.
fn scan(feed: &str, pcap: &Path) -> (Found, trawl::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    let stats = common::scan_capture(dir.path(), feed, pcap, 2, sink.clone());
    let hits = sink.0.lock().unwrap().clone();
    let found: Found = hits.iter().cloned().collect();
    assert_eq!(found.len(), hits.len(), "a hit repeated: {hits:?}");
    (found, stats)
}

/// The `server_name` column of a Zeek quic.log.
fn zeek_server_names(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let col = fields.iter().position(|f| *f == "server_name").unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').nth(col).unwrap().to_string())
        .collect()
}

/// The server names Arkime reports for the QUIC sessions of a `.test` file (it files a QUIC
/// ClientHello's server name under `http.host`).
fn arkime_quic_hosts(test: &Path) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test).unwrap()).unwrap();
    let mut names = Vec::new();
    for s in doc["sessions3"].as_array().unwrap() {
        let body = &s["body"];
        let quic = body["protocol"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x == "quic"));
        if quic {
            for h in body["http"]["host"].as_array().into_iter().flatten() {
                names.push(h.as_str().unwrap().to_string());
            }
        }
    }
    names
}

/// The QUIC captures and the server names their peers' expected outputs give.
fn peer_cases(dir: &Path, zeek_logs: impl Fn(&str) -> PathBuf) -> Vec<(PathBuf, Vec<String>)> {
    let chromium = "quic_chromium-115.0.5790.110-api-cirrus-com";
    let curl = "quic_curl-8.1.2-dev-http3-www-google-de";
    let cases = vec![
        (
            dir.join(format!("zeek/{chromium}.pcap")),
            zeek_server_names(&zeek_logs(chromium)),
        ),
        (
            dir.join(format!("zeek/{curl}.pcap")),
            zeek_server_names(&zeek_logs(curl)),
        ),
        (
            dir.join("arkime/quicietf.pcap"),
            arkime_quic_hosts(&dir.join("arkime/quicietf.test.json")),
        ),
    ];
    // What the peers' files say (so that an empty expectation cannot pass unnoticed).
    let all: Vec<&str> = cases
        .iter()
        .flat_map(|c| c.1.iter().map(String::as_str))
        .collect();
    assert_eq!(
        all,
        ["api.cirrus-ci.com", "www.google.de", "ssl.gstatic.com"]
    );
    cases
}

/// Each capture hits exactly the server names its peer reports, as TLS server names over UDP,
/// with the feed holding every capture's names (and none of another's is hit).
fn check_peer_cases(cases: &[(PathBuf, Vec<String>)]) {
    let mut feed: String = cases
        .iter()
        .flat_map(|c| &c.1)
        .map(|n| format!("{n}\n"))
        .collect();
    feed.push_str("example.com\ngoogle.com.example\n");
    for (pcap, names) in cases {
        let (found, stats) = scan(&feed, pcap);
        let expected: Found = names
            .iter()
            .map(|n| ("tls.client.server_name", UDP, n.clone()))
            .collect();
        assert_eq!(found, expected, "{}", pcap.display());
        assert_eq!(stats.quic.client_hellos, names.len() as u64);
        let quic_errors: Vec<_> = stats
            .app_errors
            .keys()
            .filter(|k| k.starts_with("quic"))
            .collect();
        assert!(
            quic_errors.is_empty(),
            "{}: {quic_errors:?}",
            pcap.display()
        );
    }
}

#[test]
fn peers_quic_captures_give_their_server_names() {
    let dir = testdata("pcaps");
    let cases = peer_cases(&dir, |name| dir.join(format!("zeek/{name}.quic.log")));
    check_peer_cases(&cases);
}

/// The same from `../shared` where it is present (the files committed here are copies), plus
/// captures of other suites: Suricata's quic-ietf-ja3 (msquic.net, read by tshark too), and
/// maltrail's quic_sni, whose crafted Initial carries a placeholder AEAD tag that neither
/// Suricata (`failed_decrypt`) nor tshark accepts: counted as not authenticated, not reported.
#[test]
fn peers_quic_captures_in_shared() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !shared.is_dir() {
        println!("skipped: ../shared is not present");
        return;
    }
    let pcaps = shared.join("pcaps");
    let cases = peer_cases(&pcaps, |name| {
        let dir = std::fs::read_dir(pcaps.join("zeek/expected-logs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!("{name}.pcap__"))
            })
            .unwrap();
        dir.join("quic.log")
    });
    check_peer_cases(&cases);

    let feed = "msquic.net\nquic-evil.example\n";
    let (found, _) = scan(
        feed,
        &shared.join("suricata-verify/tests/quic-ietf-ja3/input.pcap"),
    );
    let expected: Found = [("tls.client.server_name", UDP, "msquic.net".to_string())].into();
    assert_eq!(found, expected);
    let (found, stats) = scan(
        feed,
        &pcaps.join("maltrail-sensor-tests/corpus/quic_sni.pcap"),
    );
    assert_eq!(found, Found::new());
    assert_eq!(stats.app_errors.get(quic::E_DECRYPT), Some(&1));
}

#[test]
fn google_quic_is_counted_not_read() {
    let (found, stats) = scan("example.com\n", &testdata("pcaps/tcpdump/gquic.pcap"));
    assert_eq!(found, Found::new());
    assert_eq!(
        stats.app_errors,
        BTreeMap::from([(quic::E_GQUIC, 1)]),
        "the one Q046 packet"
    );
}

/// A browser-like post-quantum ClientHello handshake message (about 1.7 KB).
fn pq_hello(sni: &str, seed: u8) -> Vec<u8> {
    let entropy: Vec<u8> = (0..CLIENT_HELLO_ENTROPY)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let mut record = Vec::new();
    tls_client_hello_browser(
        &mut record,
        &ClientHelloParts {
            sni,
            post_quantum: true,
            entropy: &entropy,
        },
    );
    record.split_off(5) // the record header: QUIC carries handshake messages bare
}

/// A capture of one client flight per version: a post-quantum ClientHello cut into four
/// CRYPTO frames, over two Initials — frames 1 and 3 in packet 1, written first, frames 2 and
/// 0 in packet 0 — so both packets and the frames in each come out of order.
fn crafted_capture(path: &Path) -> Vec<(u16, String)> {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    let client: IpAddr = "192.0.2.10".parse().unwrap();
    let server: IpAddr = "198.51.100.20".parse().unwrap();
    let mut flows = Vec::new();
    for (i, (version, name)) in [(V1, "v1"), (V2, "v2"), (DRAFT_29, "draft29")]
        .into_iter()
        .enumerate()
    {
        let sni = format!("pq-{name}.quic.example");
        let hello = pq_hello(&sni, i as u8);
        let dcid = [0x10 + i as u8, 2, 3, 4, 5, 6, 7, 8, 9];
        let cuts = [500, 1000, 1300];
        let flight =
            craft::client_hello_flight(version, &dcid, b"client", &hello, &cuts, &[0, 1, 0, 1]);
        assert_eq!(flight.len(), 2);
        let sport = 50_000 + i as u16;
        for (k, datagram) in flight.iter().rev().enumerate() {
            let frame = udp(client, sport, server, 443, None, datagram);
            w.frame((i * 10 + k) as u64 * 1000, &frame).unwrap();
        }
        flows.push((sport, sni));
    }
    flows
}

#[test]
fn a_crafted_post_quantum_hello_over_two_initials_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("quic-pq.pcap");
    let flows = crafted_capture(&pcap);
    let feed: String = flows.iter().map(|(_, n)| format!("{n}\n")).collect();
    let (found, stats) = scan(&feed, &pcap);
    let expected: Found = flows
        .iter()
        .map(|(_, n)| ("tls.client.server_name", UDP, n.clone()))
        .collect();
    assert_eq!(found, expected);
    assert_eq!((stats.quic.initials, stats.quic.client_hellos), (6, 3));
    assert_eq!(stats.app_errors, BTreeMap::new());

    // Wireshark's QUIC dissector decrypts the same Initials and reassembles the same names.
    if !tshark() {
        return;
    }
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&pcap)
        .args([
            "-Y",
            "tls.handshake.type == 1",
            "-T",
            "fields",
            "-e",
            "udp.srcport",
            "-e",
            "tls.handshake.extensions_server_name",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: BTreeSet<(u16, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (port, name) = l.split_once('\t').unwrap();
            (port.parse().unwrap(), name.to_string())
        })
        .collect();
    let want: BTreeSet<(u16, String)> = flows.into_iter().collect();
    assert_eq!(seen, want, "tshark");
}

fn tshark() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "tshark is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: tshark is not installed");
    }
    found
}

/// Datagrams worth damaging: RFC 9001's sample Initial, RFC 9369's, and a two-packet
/// post-quantum flight with the second packet coalesced behind a copy of the first.
fn seeds() -> Vec<Vec<u8>> {
    let hello = pq_hello("seed.quic.example", 9);
    let flight = craft::client_hello_flight(V1, b"seedseed", b"", &hello, &[700], &[1, 0]);
    let mut coalesced = craft::client_initial(V1, b"seedseed", b"", 5, &[1], 0);
    coalesced.extend_from_slice(&flight[1]);
    vec![
        std::fs::read(testdata("payloads/quic-rfc9001-client-initial.bin")).unwrap(),
        std::fs::read(testdata("payloads/quic-rfc9369-client-initial.bin")).unwrap(),
        flight[0].clone(),
        coalesced,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Cut, damaged or reordered Initials never panic, and a table fed them stays within its
    /// bounds; an error is one of the module's reasons.
    #[test]
    fn damaged_initials_never_panic(
        picks in proptest::collection::vec(
            (0usize..4, 0usize..1300, proptest::collection::vec((0usize..1300, any::<u8>()), 0..4), any::<bool>()),
            1..8,
        ),
    ) {
        let seeds = seeds();
        let limits = QuicLimits { max_connections: 4, max_held: 8 << 10, idle_ns: 1_000_000_000 };
        let mut t: Connections<u8> = Connections::new(limits);
        for (i, (which, cut, flips, from_first)) in picks.into_iter().enumerate() {
            let mut d = seeds[which].clone();
            d.truncate(cut.max(1));
            for (at, x) in flips {
                if let Some(b) = d.get_mut(at) {
                    *b ^= x;
                }
            }
            t.datagram(0, (i % 3) as u8, from_first, i as i64, &d, |e| {
                if let Event::Error(why) = e {
                    assert!(why.starts_with("quic: "), "{why}");
                }
            });
            prop_assert!(t.len() <= 4);
            prop_assert!(t.held() <= 8 << 10);
        }
    }
}

/// Writes the seed corpus of the `quic` fuzz target (see its input format): the datagrams of
/// [`seeds`] as captured, and the plaintext of a two-Initial post-quantum flight (CRYPTO frames
/// out of order between PING, ACK and PADDING) for each version.
#[test]
#[ignore = "writes fuzz/corpus/quic; run by hand before fuzzing"]
fn write_the_quic_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/quic");
    std::fs::create_dir_all(&dir).unwrap();
    let framed = |mode: u8, chunks: &[Vec<u8>]| {
        let mut out = vec![mode];
        for c in chunks {
            out.extend_from_slice(&(c.len() as u16).to_be_bytes());
            out.extend_from_slice(c);
        }
        out
    };
    let seeds = seeds();
    for (i, d) in seeds.iter().enumerate() {
        std::fs::write(
            dir.join(format!("datagram-{i}")),
            framed(0, std::slice::from_ref(d)),
        )
        .unwrap();
    }
    std::fs::write(dir.join("datagrams-all"), framed(8, &seeds)).unwrap();
    let hello = pq_hello("fuzz.quic.example", 3);
    let mut first = vec![0x01]; // PING
    craft::crypto_frame(&mut first, 900, &hello[900..1200]);
    craft::crypto_frame(&mut first, 0, &hello[..900]);
    let mut second = vec![0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]; // ACK, then PADDING
    craft::crypto_frame(&mut second, 1200, &hello[1200..]);
    for (mode, name) in [(1, "v1"), (3, "v2"), (5, "draft29")] {
        let plain = framed(mode, &[second.clone(), first.clone()]);
        std::fs::write(dir.join(format!("plaintext-{name}")), plain).unwrap();
    }
}

/// JA3 and JA4 of a ClientHello read from QUIC Initials equal Suricata 8.0.6's (its EVE `quic`
/// record for Arkime's `quicietf.pcap`, committed under testdata/logs): the JA4 starts with `q`.
#[test]
fn quic_client_hello_fingerprints_equal_suricata() {
    let eve = std::fs::read_to_string(testdata("logs/suricata/eve-suricata8-tls-quic-file.json"))
        .unwrap();
    let quic: serde_json::Value = eve
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event_type"] == "quic")
        .unwrap();
    let ja3 = quic["quic"]["ja3"]["hash"].as_str().unwrap();
    let ja4 = quic["quic"]["ja4"].as_str().unwrap();
    assert!(ja4.starts_with('q'), "{ja4}");
    let feed = format!("kind,value\nja3,{ja3}\nja4,{ja4}\n");
    let (found, _) = scan(&feed, &testdata("pcaps/arkime/quicietf.pcap"));
    let want: Found = [
        ("tls.client.ja3", UDP, ja3.to_string()),
        ("trawl.tls.client.ja4", UDP, ja4.to_string()),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, want);
}
