//! TLS fingerprints (JA3, JA3S, JA4, JA4S) and server certificates (fingerprints, subject common
//! names, subjectAltName DNS names) computed from real captures, value for value against what
//! the peers' expected outputs say for the same captures: Arkime's `.test.json`, Zeek's
//! `x509.log` baselines, FoxIO's JA4 reference output (copied under `testdata/pcaps/`, see
//! `testdata/README.md`). Each capture is read as the engine reads it: TCP reassembled per
//! direction, then the stream parser.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

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
    errors: Vec<&'static str>,
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
            }
            Found::Certificate(der) => {
                self.sha1.insert(hex(&fp::sha1(der)));
                self.sha256.insert(hex(&fp::sha256(der)));
                self.md5.insert(hex(&fp::md5(der)));
                x509::names(der, &mut |field, name| {
                    let name = String::from_utf8_lossy(name).to_lowercase();
                    match field {
                        Field::X509SubjectCn => self.cns.insert(name),
                        Field::X509San => self.sans.insert(name),
                        other => panic!("{other:?}"),
                    };
                })
                .unwrap();
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
}

impl Direction {
    fn read(&mut self, seg: reassembly::Segment, seen: &mut Tls) {
        if seg.gap > 0 {
            self.parser.gap();
        }
        if self.stream.is_closed() {
            return;
        }
        let used = self.parser.parse(self.stream.data(), &mut |f| seen.found(f));
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
        assert_eq!(got.ja3_strings, a(&["tls", "ja3string"]), "{name} ja3 string");
        assert_eq!(got.ja3, a(&["tls", "ja3"]), "{name} ja3");
        assert_eq!(got.ja3s_strings, a(&["tls", "ja3sstring"]), "{name} ja3s string");
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
        let sha1: BTreeSet<String> = a(&["cert", "hash"]).iter().map(|h| h.replace(':', "")).collect();
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
    let (fpc, subj, san) = (col("fingerprint"), col("certificate.subject"), col("san.dns"));
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
