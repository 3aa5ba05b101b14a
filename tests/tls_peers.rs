//! TLS fingerprints (JA3, JA3S, JA4, JA4S) and server certificates (fingerprints, subject common
//! names, subjectAltName DNS names) computed from real captures, value for value against what
//! the peers' expected outputs say for the same captures: Arkime's `.test.json`, Zeek's
//! `x509.log` baselines, FoxIO's JA4 reference output (copied under `testdata/pcaps/`, see
//! `testdata/README.md`). Each capture is read as the engine reads it: TCP reassembled per
//! direction, then the stream parser.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use trawl::{Hit, HitSink, ObservedIn, SetVersion};

use trawl::Field;
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::app::tls_fingerprint::{self as fp, Ja4Transport};
use trawl::testing::app::{tls, x509};
use trawl::testing::{capture, decode, reassembly};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/pcaps")
        .join(rel)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the TLS handshakes of a capture give, as sets of strings.
#[derive(Default, Debug)]
struct Tls {
    ja3: BTreeSet<String>,
    ja3_strings: BTreeSet<String>,
    ja3s: BTreeSet<String>,
    ja3s_strings: BTreeSet<String>,
    ja4: BTreeSet<String>,
    ja4s: BTreeSet<String>,
    /// Per certificate: SHA-1, SHA-256, MD5 (hex).
    sha1: BTreeSet<String>,
    sha256: BTreeSet<String>,
    md5: BTreeSet<String>,
    /// Subject common names and SAN DNS names, lowercased.
    cns: BTreeSet<String>,
    sans: BTreeSet<String>,
    /// The SAN names of each server's own certificate (the first of its chain), in order.
    leaf_sans: Vec<Vec<String>>,
    /// The next certificate is the first of a chain.
    /// The connections (by client) whose next certificate is the first of a chain.
    leaf_next: HashSet<Option<(IpAddr, u16)>>,
    errors: Vec<&'static str>,
    /// The client of the connection being read.
    client: Option<(IpAddr, u16)>,
}

impl Tls {
    fn found(&mut self, f: Found<'_>) {
        match f {
            Found::ClientHello(msg) => {
                let h = tls::client_hello(msg).unwrap().unwrap();
                let mut s = String::new();
                fp::ja3_string(&h, &mut s).unwrap();
                self.ja3_strings.insert(s);
                self.ja3.insert(hex(&fp::ja3(&h).unwrap()));
                self.ja4.insert(fp::ja4(&h, Ja4Transport::Tcp).unwrap());
            }
            Found::ServerHello(msg) => {
                let h = tls::server_hello(msg).unwrap().unwrap();
                let mut s = String::new();
                fp::ja3s_string(&h, &mut s).unwrap();
                self.ja3s_strings.insert(s);
                self.ja3s.insert(hex(&fp::ja3s(&h).unwrap()));
                self.ja4s.insert(fp::ja4s(&h, Ja4Transport::Tcp).unwrap());
                self.leaf_next.insert(self.client);
            }
            Found::Certificate(der) => {
                let mut leaf = self.leaf_next.remove(&self.client).then(Vec::new);
                self.sha1.insert(hex(&fp::sha1(der)));
                self.sha256.insert(hex(&fp::sha256(der)));
                self.md5.insert(hex(&fp::md5(der)));
                x509::names(der, &mut |field, name| {
                    let name = String::from_utf8_lossy(name).to_lowercase();
                    match field {
                        Field::X509SubjectCn => self.cns.insert(name),
                        Field::X509San => {
                            leaf.iter_mut().for_each(|l| l.push(name.clone()));
                            self.sans.insert(name)
                        }
                        other => panic!("{other:?}"),
                    };
                })
                .unwrap();
                self.leaf_sans.extend(leaf);
            }
            Found::Error(e) => self.errors.push(e),
            _ => {}
        }
    }
}

/// One direction of a TCP connection, reassembled and parsed as the worker does.
struct Direction {
    stream: reassembly::Stream,
    parser: StreamParser,
    client: (IpAddr, u16),
}

impl Direction {
    fn read(&mut self, seg: reassembly::Segment, seen: &mut Tls) {
        seen.client = Some(self.client);
        if seg.gap > 0 {
            self.parser.gap(seg.gap, &mut |f| seen.found(f));
        }
        if self.stream.is_closed() {
            return;
        }
        let used = self
            .parser
            .parse(self.stream.data(), &mut |f| seen.found(f));
        self.stream.consume(used);
        if self.parser.done() {
            self.stream.close();
        }
    }
}

/// The TLS observations of every TCP connection of a capture; the client is the side that
/// sent the SYN.
fn read_capture(pcap: &Path) -> Tls {
    let file = capture::CaptureFile::open(pcap).unwrap();
    type End = (IpAddr, u16);
    let mut segments: Vec<(End, End, u32, u8, Vec<u8>)> = Vec::new();
    for frame in file.frames() {
        let frame = frame.unwrap();
        let Ok(p) = decode::decode(frame.link, frame.data) else {
            continue;
        };
        let (Some(seq), Some(flags)) = (p.tcp_seq, p.tcp_flags) else {
            continue;
        };
        let (src, dst) = ((p.src, p.src_port.unwrap()), (p.dst, p.dst_port.unwrap()));
        segments.push((src, dst, seq, flags, p.payload.to_vec()));
    }
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    let clients: HashSet<(End, End)> = segments
        .iter()
        .filter(|s| s.3 & SYN != 0 && s.3 & ACK == 0)
        .map(|s| (s.0, s.1))
        .collect();
    let limits = reassembly::Limits::default();
    let mut seen = Tls::default();
    let mut dirs: HashMap<(End, End), Direction> = HashMap::new();
    for (src, dst, seq, flags, data) in &segments {
        let d = dirs.entry((*src, *dst)).or_insert_with(|| {
            let from_client = clients.contains(&(*src, *dst))
                || (!clients.contains(&(*dst, *src)) && src.1 > dst.1);
            let server_port = if from_client { dst.1 } else { src.1 };
            Direction {
                stream: reassembly::Stream::default(),
                parser: StreamParser::new(from_client, server_port),
                client: if from_client { *src } else { *dst },
            }
        });
        let seg = d.stream.segment(*seq, flags & SYN != 0, data, &limits);
        d.read(seg, &mut seen);
    }
    for d in dirs.values_mut() {
        let seg = d.stream.finish();
        d.read(seg, &mut seen);
    }
    seen
}

/// The strings of an Arkime field of every session, from its `.test.json`.
fn arkime(test_json: &Path, path: &[&str]) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(test_json).unwrap()).unwrap();
    let mut out = BTreeSet::new();
    fn walk(v: &serde_json::Value, path: &[&str], out: &mut BTreeSet<String>) {
        match (v, path) {
            (serde_json::Value::Array(a), _) => a.iter().for_each(|x| walk(x, path, out)),
            (serde_json::Value::String(s), []) => {
                out.insert(s.clone());
            }
            (serde_json::Value::Object(o), [k, rest @ ..]) => {
                if let Some(x) = o.get(*k) {
                    walk(x, rest, out);
                }
            }
            _ => {}
        }
    }
    for s in v["sessions3"].as_array().unwrap() {
        walk(&s["body"], path, &mut out);
    }
    out
}

const ARKIME_TLS: [&str; 7] = [
    "openssl-tls1_2",
    "ssl-selfsign",
    "tls13",
    "curl-enabled-tls13",
    "tls-alpn-h2",
    "tls-split-client-hello",
    "smtp-starttls",
];

#[test]
fn arkime_ja3_ja3s_ja4_equal_ours() {
    for name in ARKIME_TLS {
        let want = testdata(&format!("arkime/{name}.test.json"));
        let got = read_capture(&testdata(&format!("arkime/{name}.pcap")));
        let a = |p: &[&str]| arkime(&want, p);
        assert!(!a(&["tls", "ja3"]).is_empty(), "{name}: no ja3 expected");
        assert_eq!(
            got.ja3_strings,
            a(&["tls", "ja3string"]),
            "{name} ja3 string"
        );
        assert_eq!(got.ja3, a(&["tls", "ja3"]), "{name} ja3");
        assert_eq!(
            got.ja3s_strings,
            a(&["tls", "ja3sstring"]),
            "{name} ja3s string"
        );
        assert_eq!(got.ja3s, a(&["tls", "ja3s"]), "{name} ja3s");
        assert_eq!(got.ja4, a(&["tls", "ja4"]), "{name} ja4");
        assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
    }
}

#[test]
fn arkime_certificates_equal_ours() {
    let mut certs = 0;
    for name in ARKIME_TLS {
        let want = testdata(&format!("arkime/{name}.test.json"));
        let got = read_capture(&testdata(&format!("arkime/{name}.pcap")));
        let a = |p: &[&str]| arkime(&want, p);
        // Arkime: SHA-1 with colons, names lowercased.
        let sha1: BTreeSet<String> = a(&["cert", "hash"])
            .iter()
            .map(|h| h.replace(':', ""))
            .collect();
        certs += sha1.len();
        assert_eq!(got.sha1, sha1, "{name} sha1");
        assert_eq!(got.sans, a(&["cert", "alt"]), "{name} SAN");
        assert_eq!(got.cns, a(&["cert", "subjectCN"]), "{name} CN");
    }
    assert_eq!(certs, 9, "certificates in Arkime's expected output");
}

/// Zeek `x509.log`: column `fingerprint` (SHA-256), `certificate.subject`, `san.dns`.
fn zeek_x509(log: &Path) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let text = std::fs::read_to_string(log).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let col = |n: &str| fields.iter().position(|f| *f == n).unwrap();
    let (fpc, subj, san) = (
        col("fingerprint"),
        col("certificate.subject"),
        col("san.dns"),
    );
    let (mut fps, mut cns, mut sans) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = l.split('\t').collect();
        fps.insert(c[fpc].to_string());
        for rdn in c[subj].split(',') {
            if let Some(cn) = rdn.strip_prefix("CN=") {
                cns.insert(cn.to_lowercase());
            }
        }
        if c[san] != "-" {
            sans.extend(c[san].split(',').map(str::to_lowercase));
        }
    }
    (fps, cns, sans)
}

#[test]
fn zeek_x509_log_equals_ours() {
    for name in ["tls_tls1.2", "tls_smtp-starttls"] {
        let (fps, cns, sans) = zeek_x509(&testdata(&format!("zeek/{name}.x509.log")));
        let got = read_capture(&testdata(&format!("zeek/{name}.pcap")));
        assert_eq!(fps.len(), 3, "{name}");
        assert_eq!(got.sha256, fps, "{name} sha256");
        assert_eq!(got.cns, cns, "{name} CN");
        assert_eq!(got.sans, sans, "{name} SAN");
    }
}

/// Suricata 8.0.6's EVE `tls` records for captures of Zeek's and suricata-verify's test suites
/// (`testdata/pcaps/suricata/tls-eve.jsonl`, made with the configuration that README names):
/// JA3 and JA3S (hash and string), JA4, the server certificate's SHA-1, subject CN and SAN names
/// equal ours. Suricata logs the server's own certificate; trawl reads the whole chain, so
/// Suricata's certificate values are among ours. suricata-verify's `tls-subjectaltname` (1.6
/// MB) is read from `../shared` when present; its `test.yaml` expects 28 records with SAN names,
/// 4 of them with `www.bing.com`.
#[test]
fn suricata_eve_tls_equals_ours() {
    let eve = std::fs::read_to_string(testdata("suricata/tls-eve.jsonl")).unwrap();
    let mut by_pcap: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        Default::default();
    for l in eve.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        by_pcap
            .entry(v["pcap"].as_str().unwrap().into())
            .or_default()
            .push(v);
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/pcaps/suricata-verify-large/tls-subjectaltname.pcap");
    let mut read = 0;
    for (name, records) in &by_pcap {
        let pcap = match name.as_str() {
            "tls-subjectaltname" if shared.exists() => shared.clone(),
            "tls-subjectaltname" => {
                println!("skipped: {} not present", shared.display());
                continue;
            }
            _ => testdata(&format!("zeek/{name}.pcap")),
        };
        let got = read_capture(&pcap);
        let set = |f: &dyn Fn(&serde_json::Value) -> Option<String>| -> BTreeSet<String> {
            records.iter().filter_map(f).collect()
        };
        let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
        assert_eq!(got.ja3, set(&|r| s(&r["ja3"]["hash"])), "{name} ja3");
        assert_eq!(
            got.ja3_strings,
            set(&|r| s(&r["ja3"]["string"])),
            "{name} ja3 string"
        );
        assert_eq!(got.ja3s, set(&|r| s(&r["ja3s"]["hash"])), "{name} ja3s");
        assert_eq!(
            got.ja3s_strings,
            set(&|r| s(&r["ja3s"]["string"])),
            "{name} ja3s string"
        );
        assert_eq!(got.ja4, set(&|r| s(&r["ja4"])), "{name} ja4");
        let sha1 = set(&|r| s(&r["fingerprint"]).map(|f| f.replace(':', "")));
        assert!(
            sha1.is_subset(&got.sha1),
            "{name}: {sha1:?} in {:?}",
            got.sha1
        );
        let cns = set(&|r| {
            s(&r["subject"])?
                .split(", ")
                .find_map(|rdn| rdn.strip_prefix("CN=").map(str::to_lowercase))
        });
        assert!(cns.is_subset(&got.cns), "{name}: {cns:?} in {:?}", got.cns);
        let sans: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r["subjectaltname"].as_array())
            .flatten()
            .filter_map(|n| n.as_str().map(str::to_lowercase))
            .collect();
        assert!(sans.is_subset(&got.sans), "{name}: {sans:?}");
        let with_san = records
            .iter()
            .filter(|r| r["subjectaltname"].is_array())
            .count();
        let leaves_with_san = got.leaf_sans.iter().filter(|l| !l.is_empty()).count();
        assert_eq!(
            leaves_with_san, with_san,
            "{name}: server certificates with SAN names"
        );
        if name == "tls-subjectaltname" {
            let bing = got
                .leaf_sans
                .iter()
                .filter(|l| l.iter().any(|n| n == "www.bing.com"));
            assert_eq!(bing.count(), 4);
        }
        assert!(got.errors.is_empty(), "{name}: {:?}", got.errors);
        read += 1;
    }
    assert!(read >= 5);
}

/// FoxIO's reference output for the same capture (`ja4__insta@tls-alpn-h2.pcap.snap`): JA4
/// and JA4S.
#[test]
fn foxio_ja4s_equals_ours() {
    let got = read_capture(&testdata("arkime/tls-alpn-h2.pcap"));
    let want = std::fs::read_to_string(testdata("foxio/tls-alpn-h2.pcap.snap")).unwrap();
    let value = |k: &str| {
        want.lines()
            .find_map(|l| l.trim().strip_prefix(k))
            .unwrap()
            .trim()
            .to_string()
    };
    assert_eq!(got.ja4, BTreeSet::from([value("ja4:")]));
    assert_eq!(got.ja4s, BTreeSet::from([value("ja4s:")]));
}

// ---------------------------------------------------------------------------------------------
// End to end: a set with certificate names, certificate fingerprints and TLS fingerprints

/// (ECS field, observed value) of every hit.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(&'static str, String)>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, h: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let ObservedIn::Packet(field) = h.field else {
            panic!("a packet hit observed outside a packet");
        };
        self.0
            .lock()
            .unwrap()
            .push((field.ecs(), h.observed.clone()));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn scan(feed: &str, pcap: &Path) -> (Vec<(&'static str, String)>, trawl::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    let stats = common::scan_capture(dir.path(), feed, pcap, 2, sink.clone());
    let mut hits = sink.0.lock().unwrap().clone();
    hits.sort();
    (hits, stats)
}

#[test]
fn a_scan_hits_exactly_the_certificate_name_fingerprint_and_ja3_of_the_set() {
    // Values from Arkime's expected output for openssl-tls1_2: a SAN of the server's
    // certificate, that certificate's SHA-1 (with colons, as Arkime writes it), the client's
    // JA3. The same digest as a file MD5, and fingerprints of other kinds and values, must not
    // hit.
    let feed = "value,kind\n\
                g.co,domain\n\
                0e:a3:27:7c:eb:7f:b2:8c:2b:5d:7d:d7:6b:e9:ba:1a:ec:0d:ff:91,x509-sha1\n\
                c1a36e1a870786cc75edddc0009eaf3a,ja3\n\
                c1a36e1a870786cc75edddc0009eaf3b,md5\n\
                c1a36e1a870786cc75edddc0009eaf3a,ja3s\n\
                0ea3277ceb7fb28c2b5d7dd76be9ba1aec0dff91000000000000000000000000,x509-sha256\n";
    let (hits, stats) = scan(feed, &testdata("arkime/openssl-tls1_2.pcap"));
    assert_eq!(
        hits,
        [
            (
                "tls.client.ja3",
                "c1a36e1a870786cc75edddc0009eaf3a".to_string()
            ),
            (
                "tls.server.hash.sha1",
                "0ea3277ceb7fb28c2b5d7dd76be9ba1aec0dff91".to_string()
            ),
            ("tls.server.x509.alternative_names", "g.co".to_string()),
        ]
    );
    assert!(stats.app_errors.is_empty(), "{:?}", stats.app_errors);
}

#[test]
fn a_scan_hits_ja4_ja4s_ja3s_and_wildcard_names() {
    // tls-alpn-h2: JA4 (Arkime, FoxIO), JA4S (FoxIO), JA3S (Arkime); cloudflare.com is the
    // client's SNI (www.) and the certificate's CN and SAN: one hit per flow and indicator,
    // the first seen. openssl-tls1_2 (no SNI): its CN *.google.com and SAN *.ytimg.com are for
    // the subdomains of google.com and ytimg.com: those indicators hit them, shown as written.
    let feed = "value,kind\n\
                t12d4605h2_85626a9a5f7f_aaf95bb78ec9,ja4\n\
                t1204h2_cca9_1428ce7b4018,ja4s\n\
                7f76f3e952a1bc7d407366fafe1db7ed,ja3s\n\
                cloudflare.com,domain\n";
    let (hits, _) = scan(feed, &testdata("arkime/tls-alpn-h2.pcap"));
    assert_eq!(
        hits,
        [
            ("tls.client.server_name", "www.cloudflare.com".to_string()),
            (
                "tls.server.ja3s",
                "7f76f3e952a1bc7d407366fafe1db7ed".to_string()
            ),
            (
                "trawl.tls.client.ja4",
                "t12d4605h2_85626a9a5f7f_aaf95bb78ec9".to_string()
            ),
            (
                "trawl.tls.server.ja4s",
                "t1204h2_cca9_1428ce7b4018".to_string()
            ),
        ]
    );
    let (hits, _) = scan(
        "google.com\nytimg.com\n",
        &testdata("arkime/openssl-tls1_2.pcap"),
    );
    assert_eq!(
        hits,
        [
            (
                "tls.server.x509.alternative_names",
                "*.ytimg.com".to_string()
            ),
            (
                "tls.server.x509.subject.common_name",
                "*.google.com".to_string()
            ),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The server direction fed in pieces, damaged, hostile

/// The bytes the server of the first TCP connection of a capture sent, in stream order.
fn server_stream(pcap: &Path) -> Vec<u8> {
    let file = capture::CaptureFile::open(pcap).unwrap();
    let (mut stream, mut out) = (reassembly::Stream::default(), Vec::new());
    let limits = reassembly::Limits::default();
    let mut server = None;
    for frame in file.frames() {
        let frame = frame.unwrap();
        let Ok(p) = decode::decode(frame.link, frame.data) else {
            continue;
        };
        let (Some(seq), Some(flags)) = (p.tcp_seq, p.tcp_flags) else {
            continue;
        };
        if flags & 0x12 == 0x02 && server.is_none() {
            server = Some((p.dst, p.dst_port));
        }
        if server != Some((p.src, p.src_port)) {
            continue;
        }
        stream.segment(seq, flags & 0x02 != 0, p.payload, &limits);
        out.extend_from_slice(stream.data());
        let n = stream.data().len();
        stream.consume(n);
    }
    out
}

fn render(f: Found<'_>) -> String {
    match f {
        Found::ServerHello(m) => format!("SH {}", hex(&fp::md5(m))),
        Found::Certificate(d) => format!("X {}", hex(&fp::sha1(d))),
        Found::Error(e) => format!("E {e}"),
        other => panic!("client observation from a server: {other:?}"),
    }
}

/// What a server-direction parser reports when fed `chunks` as the reassembler feeds it;
/// checks the buffering bound after every call. Also returns whether it is done.
fn feed(port: u16, chunks: &[&[u8]]) -> (Vec<String>, bool) {
    let mut p = StreamParser::new(false, port);
    let (mut buf, mut seen) = (Vec::new(), Vec::new());
    for c in chunks {
        if p.done() {
            break;
        }
        buf.extend_from_slice(c);
        let n = p.parse(&buf, &mut |f| seen.push(render(f)));
        buf.drain(..n);
        assert!(
            p.done() || buf.len() < p.max_buffer(),
            "{} buffered",
            buf.len()
        );
    }
    (seen, p.done())
}

#[test]
fn server_handshake_in_any_two_pieces_gives_the_same() {
    let data = server_stream(&testdata("zeek/tls_tls1.2.pcap"));
    let (want, done) = feed(443, &[&data]);
    // The ServerHello and three certificates, then nothing more is read.
    assert_eq!(want.len(), 4, "{want:?}");
    assert!(want[0].starts_with("SH ") && done);
    for at in (0..data.len()).step_by(7) {
        let (a, b) = data.split_at(at);
        assert_eq!(feed(443, &[a, b]).0, want, "cut at {at}");
    }
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    assert_eq!(feed(443, &bytes).0, want);
    // TLS 1.3: the ServerHello, then done (the certificates are encrypted).
    let data = server_stream(&testdata("arkime/curl-enabled-tls13.pcap"));
    let (seen, done) = feed(443, &[&data]);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("SH ") && done);
}

/// Handshake bytes as TLS records of at most `size` bytes each.
fn records(hs: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for c in hs.chunks(size) {
        out.extend_from_slice(&[22, 3, 3]);
        out.extend_from_slice(&(c.len() as u16).to_be_bytes());
        out.extend_from_slice(c);
    }
    out
}

/// A TLS 1.2 ServerHello message without extensions.
fn server_hello() -> Vec<u8> {
    let mut m = vec![2, 0, 0, 38, 3, 3];
    m.extend_from_slice(&[9; 32]);
    m.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    m
}

#[test]
fn hostile_certificate_messages_stay_bounded() {
    // A Certificate message announcing 16 MB: an error once it passes the limit, never
    // buffered beyond one record.
    let mut hs = server_hello();
    hs.extend_from_slice(&[11, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc]);
    hs.resize(hs.len() + 300_000, 0x30);
    let data = records(&hs, 16_384);
    let chunks: Vec<&[u8]> = data.chunks(1460).collect();
    let (seen, done) = feed(443, &chunks);
    assert_eq!(
        seen[1..],
        [format!(
            "E {}",
            trawl::testing::app::stream::E_SERVER_MESSAGE
        )]
    );
    assert!(done);
    // A list whose entries run past it, and 15,000 one-byte "certificates": each reported
    // (bounded by the message limit), none a certificate x509 can read.
    let mut hs = server_hello();
    hs.extend_from_slice(&[11, 0, 0, 10, 0, 0, 7, 0, 0, 9, 1, 2, 3, 4]);
    let (seen, _) = feed(443, &[&records(&hs, 100)]);
    assert_eq!(seen[1..], [format!("E {}", tls::E_CERTIFICATES)]);
    let mut hs = server_hello();
    let list: Vec<u8> = (0..15_000).flat_map(|_| [0, 0, 1, 0x30]).collect();
    hs.push(11);
    hs.extend_from_slice(&(list.len() as u32 + 3).to_be_bytes()[1..]);
    hs.extend_from_slice(&(list.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&list);
    let (seen, _) = feed(443, &[&records(&hs, 16_384)]);
    assert_eq!(seen.len(), 1 + 15_000);
    assert!(x509::names(&[0x30], &mut |_, _| {}).is_err());
    // A record that is not a handshake inside the Certificate message is an error; a
    // ChangeCipherSpec right after the ServerHello (a resumed session) is not.
    let mut data = records(&hs[..200], 100);
    data.extend_from_slice(&[21, 3, 3, 0, 2, 2, 40]);
    assert_eq!(
        feed(443, &[&data]).0[1..],
        [format!(
            "E {}",
            trawl::testing::app::stream::E_SERVER_INTERRUPTED
        )]
    );
    let mut data = records(&server_hello(), 100);
    data.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    assert_eq!(
        feed(443, &[&data]),
        (vec![feed(443, &[&data]).0[0].clone()], true)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Damaged server handshakes (bytes changed, in any pieces) never panic, the parser's
    /// buffer stays bounded, and pieces never change what is reported.
    #[test]
    fn damaged_server_handshakes(
        which in 0usize..3,
        flips in proptest::collection::vec((proptest::prelude::any::<usize>(), proptest::prelude::any::<u8>()), 1..8),
        cuts in proptest::collection::vec(proptest::prelude::any::<usize>(), 0..12),
    ) {
        let pcap = ["zeek/tls_tls1.2.pcap", "arkime/tls-alpn-h2.pcap", "arkime/ssl-selfsign.pcap"][which];
        let mut data = server_stream(&testdata(pcap));
        for (at, b) in flips {
            let i = at % data.len();
            data[i] = b;
        }
        let (want, _) = feed(443, &[&data]);
        let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut chunks = Vec::new();
        let mut at = 0;
        for o in offsets {
            chunks.push(&data[at..o]);
            at = o;
        }
        chunks.push(&data[at..]);
        proptest::prop_assert_eq!(feed(443, &chunks).0, want);
        // What the worker does with each message does not panic either.
        let mut p = StreamParser::new(false, 443);
        p.parse(&data, &mut |f| match f {
            Found::ServerHello(m) => {
                if let Ok(Some(h)) = tls::server_hello(m) {
                    let _ = (fp::ja3s(&h), fp::ja4s(&h, Ja4Transport::Tcp));
                }
            }
            Found::Certificate(d) => {
                let _ = x509::names(d, &mut |_, _| {});
            }
            _ => {}
        });
    }
}

#[test]
fn server_handshake_behind_a_proxy_reads_as_direct() {
    // Zeek's socks-with-ssl: the SOCKS5 server's method choice and reply (12 bytes), then the
    // tunnelled server's ServerHello and two certificates.
    let socks = server_stream(&testdata("zeek/socks-with-ssl.pcap"));
    assert_eq!(socks[..4], [5, 0, 5, 0]);
    let (direct, _) = feed(443, &[&socks[12..]]);
    assert_eq!(direct.len(), 3, "{direct:?}");
    assert_eq!(feed(1080, &[&socks]).0, direct);
    for at in 0..14 {
        assert_eq!(
            feed(1080, &[&socks[..at], &socks[at..]]).0,
            direct,
            "cut at {at}"
        );
    }
    // The same server behind a SOCKS4 proxy, and a SOCKS5 one with username/password.
    let tls12 = server_stream(&testdata("zeek/tls_tls1.2.pcap"));
    let (want, _) = feed(443, &[&tls12]);
    for reply in [
        &[0, 0x5a, 1, 187, 192, 0, 2, 1][..],
        &[5, 2, 1, 0, 5, 0, 0, 3, 3, b'a', b'.', b'b', 1, 187][..],
    ] {
        let data = [reply, &tls12[..]].concat();
        assert_eq!(feed(3128, &[&data]).0, want, "{reply:?}");
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(feed(3128, &bytes).0, want, "{reply:?} byte by byte");
    }
    // A refusal ends the direction: nothing of what follows is read.
    for reply in [
        &[0, 0x5b, 0, 0, 0, 0, 0, 0][..],
        &[5, 0xff][..],
        &[5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0][..],
    ] {
        let data = [reply, &tls12[..]].concat();
        assert_eq!(feed(3128, &[&data]), (vec![], true), "{reply:?}");
    }
}

/// Writes the server directions of the committed TLS captures (and their ClientHello-less
/// variants behind a SOCKS5 reply) as the seed corpus of the `tls_server` fuzz target; its
/// first byte selects port 443 and a split point.
#[test]
#[ignore = "writes fuzz/corpus/tls_server; run by hand before fuzzing"]
fn write_the_tls_server_seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/tls_server");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, pcap) in [
        "zeek/tls_tls1.2.pcap",
        "zeek/tls_chrome-34-google.pcap",
        "zeek/socks-with-ssl.pcap",
        "arkime/ssl-selfsign.pcap",
        "arkime/tls-alpn-h2.pcap",
        "arkime/tls13.pcap",
        "arkime/curl-enabled-tls13.pcap",
    ]
    .iter()
    .enumerate()
    {
        let mut seed = vec![(i as u8) << 2];
        seed.extend_from_slice(&server_stream(&testdata(pcap)));
        // Past the handshake the parser reads nothing: keep the seeds small.
        seed.truncate(8192);
        std::fs::write(dir.join(format!("seed-{i}")), seed).unwrap();
    }
    // ClientHello messages, for the hello parsers and fingerprints run on the bytes.
    for name in ["tls-clienthello-tls13.bin", "tls-clienthello-alpn-h2.bin"] {
        let p = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("testdata/payloads")
                .join(name),
        )
        .unwrap();
        std::fs::write(dir.join(name), [&[0u8][..], &p[5..]].concat()).unwrap();
    }
}

/// TLS through an HTTP proxy (Arkime's `https-connect`): the server's handshake follows the
/// proxy's `200` to `CONNECT`; through the engine (which tells the server's side the request
/// was a CONNECT) its certificates and JA3S are Arkime's.
#[test]
fn a_handshake_behind_http_connect_is_read() {
    let want = testdata("arkime/https-connect.test.json");
    let sha1: BTreeSet<String> = arkime(&want, &["cert", "hash"])
        .iter()
        .map(|h| h.replace(':', ""))
        .collect();
    let ja3s = arkime(&want, &["tls", "ja3s"]);
    assert_eq!((sha1.len(), ja3s.len()), (2, 1));
    let mut feed = "kind,value\n".to_string();
    for h in &sha1 {
        feed.push_str(&format!("x509-sha1,{h}\n"));
    }
    for h in &ja3s {
        feed.push_str(&format!("ja3s,{h}\n"));
    }
    let (hits, _) = scan(&feed, &testdata("arkime/https-connect.pcap"));
    let got: BTreeSet<(&str, String)> = hits.into_iter().collect();
    let mut expected: BTreeSet<(&str, String)> = sha1
        .iter()
        .map(|h| ("tls.server.hash.sha1", h.clone()))
        .collect();
    expected.extend(ja3s.iter().map(|h| ("tls.server.ja3s", h.clone())));
    assert_eq!(got, expected);
}
