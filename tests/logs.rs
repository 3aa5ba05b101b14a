//! `scan logs` on the fixtures of `testdata/logs/`, through the library: the exact hits of every
//! fixture (line, byte offset of the line, field, span, matched text, indicator) written out by
//! hand from the fixtures; per-file counters; `--field`; `--enrich`; output order with tiny
//! chunks and several workers; gzip input; an overlong line; and a property test that plants
//! indicators in random lines and checks them against the free-text matcher
//! (`IndicatorSet::scan_text`) as an independent oracle.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use proptest::prelude::*;
use serde_json::Value as Json;
use trawl::Exclusions;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{BatchScanner, LineMatcher, LineOptions};
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedOptions, read_text_feed};
use trawl::{FileStats, LogInput, LogOptions, LogOutcome, OutputMode, scan_logs};
use trawl::{LogDecoder as Decoder, LogFormat};

type Set = IndicatorSet<AlignedBytes>;

fn logs(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(p)
}

fn set_from_feed(feed: &[u8]) -> Set {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    read_text_feed(feed, "feed", &FeedOptions::source("fixtures"), &mut b).unwrap();
    let (w, report) = b.build().unwrap();
    assert_eq!(report.rejected_total(), 0, "{report:?}");
    IndicatorSet::from_bytes(AlignedBytes::copy_from(&w.finish(0))).unwrap()
}

/// The set compiled from `testdata/logs/indicators.txt`.
fn set() -> &'static Set {
    static SET: OnceLock<Set> = OnceLock::new();
    SET.get_or_init(|| {
        let set = set_from_feed(&std::fs::read(logs("indicators.txt")).unwrap());
        assert_eq!(set.len(), 36);
        set
    })
}

fn options(workers: usize, chunk_size: usize, mode: OutputMode) -> LogOptions {
    LogOptions {
        workers,
        chunk_size,
        mode,
        ..LogOptions::default()
    }
}

/// Runs `scan_logs` over `inputs`, returning the output and the outcome.
fn run(inputs: &[impl AsRef<Path>], opts: &LogOptions) -> (Vec<u8>, LogOutcome) {
    let inputs: Vec<LogInput> = inputs
        .iter()
        .map(|p| LogInput::Path(p.as_ref().to_path_buf()))
        .collect();
    let mut out = Vec::new();
    let outcome = scan_logs(set(), &inputs, opts, &mut out, &AtomicBool::new(false)).unwrap();
    (out, outcome)
}

/// One hit as the test compares it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    line: u64,
    offset: u64,
    field: String,
    start: usize,
    atomic: String,
    value: String,
}

/// (line number, byte offset of the line, field, start of the match in the line, matched
/// text as it stands in the line, indicator value).
type Exp = (u64, u64, &'static str, usize, &'static str, &'static str);

fn rows_of(expected: &[Exp]) -> Vec<Row> {
    expected
        .iter()
        .map(|&(line, offset, field, start, atomic, value)| Row {
            line,
            offset,
            field: field.into(),
            start,
            atomic: atomic.into(),
            value: value.into(),
        })
        .collect()
}

/// Parses Hits-mode output into rows (file path, row), checking the shape of each document.
fn parse_hits(out: &[u8]) -> Vec<(String, Row)> {
    out.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let d: Json = serde_json::from_slice(l).unwrap();
            assert_eq!(d["event"]["kind"], "alert", "{d}");
            let e = d["threat"]["enrichments"].as_array().unwrap();
            assert_eq!(e.len(), 1, "one source per indicator: {d}");
            let e = &e[0];
            assert_eq!(e["indicator"]["provider"], "fixtures", "{d}");
            let start = d["trawl"]["start"].as_u64().unwrap() as usize;
            let end = d["trawl"]["end"].as_u64().unwrap() as usize;
            let atomic = e["matched"]["atomic"].as_str().unwrap().to_string();
            assert!(start < end, "{d}");
            if !atomic.contains('\u{fffd}') {
                assert_eq!(end - start, atomic.len(), "span and atomic disagree: {d}");
            }
            (
                d["log"]["file"]["path"].as_str().unwrap().to_string(),
                Row {
                    line: d["trawl"]["line"].as_u64().unwrap(),
                    offset: d["trawl"]["offset"].as_u64().unwrap(),
                    field: e["matched"]["field"].as_str().unwrap().into(),
                    start,
                    atomic,
                    value: e["trawl"]["indicator"]["value"].as_str().unwrap().into(),
                },
            )
        })
        .collect()
}

/// The hits of one file, scanned alone with default chunking.
fn hits(path: &Path, opts: &LogOptions) -> (Vec<Row>, LogOutcome) {
    let (out, outcome) = run(&[path], opts);
    let rows = parse_hits(&out)
        .into_iter()
        .map(|(file, row)| {
            assert_eq!(file, path.display().to_string());
            row
        })
        .collect();
    (rows, outcome)
}

/// Checks a fixture's hits against the hand-written list, and the list against the file (the
/// matched text lies at offset + start), and the per-file counters that follow from them.
fn check_fixture(name: &str, expected: &[Exp], lines: u64, format: &str) {
    let path = logs(name);
    let data = std::fs::read(&path).unwrap();
    let want = rows_of(expected);
    for r in &want {
        let at = (r.offset as usize + r.start)..(r.offset as usize + r.start + r.atomic.len());
        assert_eq!(
            &data[at],
            r.atomic.as_bytes(),
            "{name}: expectation does not match the file: {r:?}"
        );
        assert!(
            r.offset == 0 || data[r.offset as usize - 1] == b'\n',
            "{name}: {r:?}"
        );
    }
    for workers in [1, 2] {
        let (got, outcome) = hits(&path, &options(workers, 1 << 20, OutputMode::Hits));
        assert_eq!(got, want, "{name} with {workers} workers");
        let f = &outcome.files[0];
        assert_eq!(f.lines, lines, "{name}: lines");
        assert_eq!(f.bytes, data.len() as u64, "{name}: bytes");
        assert_eq!(f.hits, want.len() as u64, "{name}: hits");
        let mut matched: Vec<u64> = want.iter().map(|r| r.line).collect();
        matched.dedup();
        assert_eq!(
            f.matched_lines,
            matched.len() as u64,
            "{name}: matched lines"
        );
        assert_eq!(f.format, format, "{name}: format");
        if name != "suricata/eve-truncated.json" {
            assert!(f.errors.is_empty(), "{name}: {:?}", f.errors);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Expected hits, derived by hand from the fixtures: one hit a line, in output order (line,
// then start). The matched text is the whole raw value for a value that holds escapes.

/// `nginx/access.log`. Lines 6 and 7 hold only near misses (`v=1.2.3.4.5`,
/// `notc2.badsite.test`, `198.51.100.77`); `Chrome/122.0.0.0` is an address, not listed.
#[rustfmt::skip]
const NGINX_ACCESS_LOG: &[Exp] = &[
    (1, 0, "message", 0, "203.0.113.66", "203.0.113.66/32"),
    (2, 159, "message", 68, "http://dl.badsite.test/stage2.bin", "http://dl.badsite.test/stage2.bin"),
    (3, 294, "message", 0, "198.51.100.7", "198.51.100.7/32"),
    (3, 294, "message", 93, "Malware-CDN.example", "malware-cdn.example"),
    (4, 536, "message", 0, "2001:db8::1", "2001:db8::1/128"),
    (4, 536, "message", 51, "/wp-login.php", "/wp-login.php"),
    (5, 648, "message", 56, "c2.badsite.test", "c2.badsite.test"),
    (5, 648, "message", 59, "badsite.test/gate.php", "badsite.test/gate.php"),
];

/// `syslog/messages`. None on 4 (`198.51.100.230`), 7, 10 (`notc2.badsite.test`) and 11; on 8
/// the email `alice@bücher.example` is not listed (an email's domain is not looked up), the
/// relay host is.
#[rustfmt::skip]
const SYSLOG_MESSAGES: &[Exp] = &[
    (1, 0, "message", 75, "198.51.100.23", "198.51.100.23/32"),
    (2, 105, "message", 71, "198.51.100.23", "198.51.100.23/32"),
    (3, 211, "message", 66, "2001:db8:bad::17", "2001:db8:bad::/48"),
    (5, 441, "message", 61, "203.0.113.66", "203.0.113.66/32"),
    (6, 516, "message", 75, "203.0.113.66", "203.0.113.66/32"),
    (6, 516, "message", 101, "Mailer@Phish.Example", "mailer@phish.example"),
    (6, 516, "message", 170, "mailer@phish.example", "mailer@phish.example"),
    (6, 516, "message", 231, "C2.BadSite.Test", "c2.badsite.test"),
    (8, 885, "message", 90, "mx.bücher.example", "xn--bcher-kva.example"),
    (9, 1048, "message", 73, "www.c2.badsite.test", "c2.badsite.test"),
    (9, 1048, "message", 102, "www.c2.badsite.test", "c2.badsite.test"),
];

/// `ecs/filebeat.json`. The message of line 7 holds only near misses (`v10.0.0.1`,
/// `1.2.3.4.5`, `198.51.100.230`).
#[rustfmt::skip]
const ECS_FILEBEAT_JSON: &[Exp] = &[
    (1, 0, "dns.question.name", 203, "update.malware-cdn.example", "malware-cdn.example"),
    (1, 0, "dns.answers.data", 263, "203.0.113.66", "203.0.113.66/32"),
    (2, 301, "source.ip", 92, "203.0.113.66", "203.0.113.66/32"),
    (2, 301, "url.full", 135, "http://dl.badsite.test/stage2.bin?arch=x64", "http://dl.badsite.test/stage2.bin"),
    (3, 589, "url.domain", 80, "C2.BadSite.Test", "c2.badsite.test"),
    (3, 589, "message", 150, "c2.badsite.test", "c2.badsite.test"),
    (4, 778, "file.hash.sha256", 161, "C3132CCF55446FE38EA503BFE272607B11CA466152D9815DCB86AF0531167EB3", "c3132ccf55446fe38ea503bfe272607b11ca466152d9815dcb86af0531167eb3"),
    (5, 1046, "source.ip", 57, "2001:db8:bad::5", "2001:db8:bad::/48"),
    (6, 1231, "email.from.address", 99, "mailer@phish.example", "mailer@phish.example"),
    (6, 1231, "email.subject", 134, r#"Your invoice from \"203.0.113.66\""#, "203.0.113.66/32"),
    (6, 1231, "related.ip", 202, "203.0.113.66", "203.0.113.66/32"),
    (7, 1450, "labels.note", 164, r#"b\u00fccher.example"#, "xn--bcher-kva.example"),
    (8, 1637, "source.ip", 57, "198.51.100.23", "198.51.100.23/32"),
    (8, 1637, "destination.domain", 98, "Evil-Domain.TEST", "evil-domain.test"),
    (8, 1637, "event.original", 138, r#"{\"src\":\"198.51.100.23\"}"#, "198.51.100.23/32"),
];

/// `csv/proxy.csv`. Line 1 is the header; none on 4 (`%22203.0.113.66%22`) and 6.
#[rustfmt::skip]
const CSV_PROXY_CSV: &[Exp] = &[
    (2, 68, "url", 42, "http://dl.badsite.test/stage2.bin", "http://dl.badsite.test/stage2.bin"),
    (3, 212, "host", 45, "update.malware-cdn.example", "malware-cdn.example"),
    (5, 485, "client_ip", 21, "203.0.113.66", "203.0.113.66/32"),
    (5, 485, "url", 40, r#"http://203.0.113.66:8080/a,b?x=""1"""#, "203.0.113.66/32"),
    (5, 485, "host", 78, "203.0.113.66", "203.0.113.66/32"),
    (5, 485, "category", 98, r#"Bad ""actor"", mailer@phish.example"#, "mailer@phish.example"),
];

/// `tricky/boundaries.log`. Lines 1, 3, 7 and 13 hold only near misses, and so do parts of
/// the others (`büchers.example`, `stage2.binary`, `2001:db8::10`, a 65-digit hex run, …).
#[rustfmt::skip]
const TRICKY_BOUNDARIES_LOG: &[Exp] = &[
    (2, 90, "message", 11, "1.2.3.4", "1.2.3.4/32"),
    (2, 90, "message", 23, "10.0.0.1", "10.0.0.1/32"),
    (2, 90, "message", 38, "1.2.3.4", "1.2.3.4/32"),
    (2, 90, "message", 66, "10.0.0.1", "10.0.0.1/32"),
    (4, 230, "message", 27, "evil-domain.test", "evil-domain.test"),
    (5, 274, "message", 26, "evil-domain.test", "evil-domain.test"),
    (6, 318, "message", 12, "evil-domain.test", "evil-domain.test"),
    (6, 318, "message", 31, "www.evil-domain.test", "evil-domain.test"),
    (6, 318, "message", 54, "sub.evil-domain.test", "evil-domain.test"),
    (8, 470, "message", 11, "EVIL-DOMAIN.TEST", "evil-domain.test"),
    (8, 470, "message", 28, "Www.Evil-Domain.Test", "evil-domain.test"),
    (9, 519, "message", 5, "bücher.example", "xn--bcher-kva.example"),
    (9, 519, "message", 21, "shop.BÜCHER.example", "xn--bcher-kva.example"),
    (9, 519, "message", 42, "xn--bcher-kva.example", "xn--bcher-kva.example"),
    (9, 519, "message", 64, "WWW.XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"),
    (10, 626, "message", 6, "HTTP://DL.BadSite.Test:80/stage2.bin?x=1&y=2", "http://dl.badsite.test/stage2.bin"),
    (11, 754, "message", 11, "http://dl.badsite.test/stage2.bin#top", "http://dl.badsite.test/stage2.bin"),
    (11, 754, "message", 54, "c2.badsite.test", "c2.badsite.test"),
    (11, 754, "message", 84, "HTTP://C2.BADSITE.TEST:80/gate.php?x=1", "badsite.test/gate.php"),
    (11, 754, "message", 91, "C2.BADSITE.TEST", "c2.badsite.test"),
    (12, 877, "message", 6, "2001:db8::1", "2001:db8::1/128"),
    (12, 877, "message", 19, "2001:db8::1", "2001:db8::1/128"),
    (12, 877, "message", 36, "2001:DB8:0:0:0:0:0:1", "2001:db8::1/128"),
    (12, 877, "message", 57, "::ffff:198.51.100.23", "198.51.100.23/32"),
    (14, 1034, "message", 8, "C3132CCF55446FE38EA503BFE272607B11CA466152D9815DCB86AF0531167EB3", "c3132ccf55446fe38ea503bfe272607b11ca466152d9815dcb86af0531167eb3"),
    (14, 1034, "message", 144, "c3132ccf55446fe38ea503bfe272607b11ca466152d9815dcb86af0531167eb3", "c3132ccf55446fe38ea503bfe272607b11ca466152d9815dcb86af0531167eb3"),
    (15, 1247, "message", 8, "MAILER@PHISH.EXAMPLE", "mailer@phish.example"),
    (15, 1247, "message", 77, "mailer@phish.example", "mailer@phish.example"),
];

/// `tricky/crlf.log`
#[rustfmt::skip]
const TRICKY_CRLF_LOG: &[Exp] = &[
    (1, 0, "message", 61, "198.51.100.23", "198.51.100.23/32"),
    (2, 92, "message", 42, "c2.badsite.test", "c2.badsite.test"),
];

/// `tricky/no-final-newline.log`
#[rustfmt::skip]
const TRICKY_NO_FINAL_NEWLINE_LOG: &[Exp] = &[
    (1, 0, "message", 16, "203.0.113.66", "203.0.113.66/32"),
    (2, 29, "message", 29, "mailer@phish.example", "mailer@phish.example"),
];

/// `tricky/empty.log`
#[rustfmt::skip]
const TRICKY_EMPTY_LOG: &[Exp] = &[
];

/// `tricky/invalid-utf8.log`
#[rustfmt::skip]
const TRICKY_INVALID_UTF8_LOG: &[Exp] = &[
    (1, 0, "message", 23, "203.0.113.66", "203.0.113.66/32"),
    (2, 39, "message", 1, "203.0.113.66", "203.0.113.66/32"),
    (3, 54, "message", 5, "c2.badsite.test", "c2.badsite.test"),
    (5, 90, "message", 11, "198.51.100.23", "198.51.100.23/32"),
];

/// `suricata/eve.json`. None on 1 and 7.
#[rustfmt::skip]
const SURICATA_EVE_JSON: &[Exp] = &[
    (2, 369, "dns.answers.rdata", 501, "cdn.evil.example.net", "cdn.evil.example.net"),
    (2, 369, "dns.answers.rrname", 535, "cdn.evil.example.net", "cdn.evil.example.net"),
    (2, 369, "dns.grouped.CNAME", 624, "cdn.evil.example.net", "cdn.evil.example.net"),
    (3, 1039, "http.url", 265, r#"\/payload.exe?id=7"#, "/payload.exe"),
    (4, 1578, "http.url", 617, r#"\/payload.exe?id=7"#, "/payload.exe"),
    (4, 1578, "payload_printable", 1162, r#"GET \/payload.exe?id=7 HTTP\/1.1\r\nHost: www.evil.example.com\r\nUser-Agent: \"x\"\tend\u0001\r\n\r\n"#, "/payload.exe"),
    (5, 2856, "http.url", 259, r#"\/payload.exe?id=7"#, "/payload.exe"),
    (5, 2856, "fileinfo.filename", 575, r#"\/payload.exe"#, "/payload.exe"),
    (5, 2856, "fileinfo.sha256", 730, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
    (6, 3692, "tls.subject", 228, "login.bank.example", "login.bank.example"),
    (6, 3692, "tls.sni", 438, "login.bank.example", "login.bank.example"),
    (8, 4986, "smtp.mail_from", 265, "billing@evil.example.com", "billing@evil.example.com"),
    (8, 4986, "email.from", 386, r#"\"Billing Dept\" <billing@evil.example.com>"#, "billing@evil.example.com"),
];

/// `suricata/eve-truncated.json`. Line 2 ends inside a string: an error, no hit.
#[rustfmt::skip]
const SURICATA_EVE_TRUNCATED_JSON: &[Exp] = &[
    (1, 0, "http.url", 265, r#"\/payload.exe?id=7"#, "/payload.exe"),
];

/// `zeek/conn.log`
#[rustfmt::skip]
const ZEEK_CONN_LOG: &[Exp] = &[
    (11, 704, "id.resp_h", 57, "125.190.109.199", "125.190.109.199/32"),
];

/// `zeek/http.log`
#[rustfmt::skip]
const ZEEK_HTTP_LOG: &[Exp] = &[
    (10, 789, "id.resp_h", 57, "125.190.109.199", "125.190.109.199/32"),
    (10, 789, "host", 82, "www.icir.org", "icir.org"),
];

/// `zeek/dns.log`
#[rustfmt::skip]
const ZEEK_DNS_LOG: &[Exp] = &[
    (10, 589, "query", 80, "us.v27.distributed.net", "distributed.net"),
    (10, 589, "answers", 175, "134.53.131.135", "134.53.131.0/24"),
    (10, 589, "answers", 190, "134.53.131.192", "134.53.131.0/24"),
];

/// `zeek/dns-ipv6-frag.log`
#[rustfmt::skip]
const ZEEK_DNS_IPV6_FRAG_LOG: &[Exp] = &[
    (10, 589, "id.resp_h", 79, "2607:f740:b::f93", "2607:f740:b::f93/128"),
    (10, 589, "query", 117, "txtpadding_323.n1.netalyzr.icsi.berkeley.edu", "netalyzr.icsi.berkeley.edu"),
    (11, 1025, "id.resp_h", 80, "2607:f740:b::f93", "2607:f740:b::f93/128"),
    (11, 1025, "query", 119, "txtpadding_3230.n1.netalyzr.icsi.berkeley.edu", "netalyzr.icsi.berkeley.edu"),
    (12, 4490, "id.resp_h", 80, "2607:f740:b::f93", "2607:f740:b::f93/128"),
    (12, 4490, "query", 112, "txtpadding_3230.n1.netalyzr.icsi.berkeley.edu", "netalyzr.icsi.berkeley.edu"),
];

/// `zeek/smtp.log`
#[rustfmt::skip]
const ZEEK_SMTP_LOG: &[Exp] = &[
    (10, 649, "id.resp_h", 51, "74.53.140.153", "74.53.140.153/32"),
    (10, 649, "mailfrom", 73, "gurpartap@patriots.in", "gurpartap@patriots.in"),
    (10, 649, "from", 172, "gurpartap@patriots.in", "gurpartap@patriots.in"),
    (10, 649, "path", 305, "74.53.140.153", "74.53.140.153/32"),
    (11, 1066, "rcptto", 139, "ericlim220@yahoo.com", "ericlim220@yahoo.com"),
    (11, 1066, "to", 255, "ericlim220@yahoo.com", "ericlim220@yahoo.com"),
];

/// `zeek/ssl.log`
#[rustfmt::skip]
const ZEEK_SSL_LOG: &[Exp] = &[
    (10, 552, "server_name", 112, "cloudflare-ech.com", "cloudflare-ech.com"),
    (11, 702, "server_name", 113, "cloudflare-ech.com", "cloudflare-ech.com"),
];

/// `zeek/handmade-escapes.log`
#[rustfmt::skip]
const ZEEK_HANDMADE_ESCAPES_LOG: &[Exp] = &[
    (9, 495, "uri", 96, "/payload.exe", "/payload.exe"),
    (10, 724, "id.resp_h", 54, "198.51.100.20", "198.51.100.20/32"),
    (10, 724, "uri", 97, r#"http://download.evil.example/a\x5cb\x09c.zip"#, "download.evil.example"),
    (10, 724, "proxied", 277, "192.0.2.99", "192.0.2.99/32"),
    (11, 1039, "host", 74, r#"mixed\x2cname.example"#, "name.example"),
    (21, 1541, "answers", 111, "cdn.evil.example.net", "cdn.evil.example.net"),
];

#[test]
fn nginx_access_log() {
    check_fixture("nginx/access.log", NGINX_ACCESS_LOG, 7, "plain");
}

#[test]
fn syslog_messages() {
    check_fixture("syslog/messages", SYSLOG_MESSAGES, 11, "plain");
}

#[test]
fn ecs_filebeat_json() {
    check_fixture("ecs/filebeat.json", ECS_FILEBEAT_JSON, 8, "json");
}

#[test]
fn csv_proxy_log() {
    check_fixture("csv/proxy.csv", CSV_PROXY_CSV, 6, "csv");
}

#[test]
fn tricky_lines() {
    check_fixture("tricky/boundaries.log", TRICKY_BOUNDARIES_LOG, 15, "plain");
    check_fixture("tricky/crlf.log", TRICKY_CRLF_LOG, 4, "plain");
    check_fixture(
        "tricky/no-final-newline.log",
        TRICKY_NO_FINAL_NEWLINE_LOG,
        2,
        "plain",
    );
    check_fixture(
        "tricky/invalid-utf8.log",
        TRICKY_INVALID_UTF8_LOG,
        5,
        "plain",
    );
    // An empty file has no lines and is never read far enough to have a format.
    check_fixture("tricky/empty.log", TRICKY_EMPTY_LOG, 0, "");
}

#[test]
fn suricata_eve() {
    check_fixture("suricata/eve.json", SURICATA_EVE_JSON, 8, "json");
    check_fixture(
        "suricata/eve-truncated.json",
        SURICATA_EVE_TRUNCATED_JSON,
        2,
        "json",
    );
    // The record cut short is counted once, where it is; the values before the damage were
    // still matched (none of them is an indicator here).
    let (_, outcome) = run(
        &[logs("suricata/eve-truncated.json")],
        &options(1, 1 << 20, OutputMode::Count),
    );
    let errors: Vec<(&str, u64, u64)> = outcome.files[0]
        .errors
        .iter()
        .map(|(k, e)| (*k, e.count, e.first_line))
        .collect();
    assert_eq!(errors, [("json: unterminated string", 1, 2)]);
}

#[test]
fn zeek_logs() {
    check_fixture("zeek/conn.log", ZEEK_CONN_LOG, 13, "zeek");
    check_fixture("zeek/http.log", ZEEK_HTTP_LOG, 12, "zeek");
    check_fixture("zeek/dns.log", ZEEK_DNS_LOG, 11, "zeek");
    check_fixture("zeek/dns-ipv6-frag.log", ZEEK_DNS_IPV6_FRAG_LOG, 13, "zeek");
    check_fixture("zeek/smtp.log", ZEEK_SMTP_LOG, 12, "zeek");
    check_fixture("zeek/ssl.log", ZEEK_SSL_LOG, 12, "zeek");
    check_fixture(
        "zeek/handmade-escapes.log",
        ZEEK_HANDMADE_ESCAPES_LOG,
        22,
        "zeek",
    );
}

/// Every fixture with its expected hits.
const FIXTURES: &[(&str, &[Exp])] = &[
    ("nginx/access.log", NGINX_ACCESS_LOG),
    ("syslog/messages", SYSLOG_MESSAGES),
    ("ecs/filebeat.json", ECS_FILEBEAT_JSON),
    ("csv/proxy.csv", CSV_PROXY_CSV),
    ("tricky/boundaries.log", TRICKY_BOUNDARIES_LOG),
    ("tricky/crlf.log", TRICKY_CRLF_LOG),
    ("tricky/no-final-newline.log", TRICKY_NO_FINAL_NEWLINE_LOG),
    ("tricky/empty.log", TRICKY_EMPTY_LOG),
    ("tricky/invalid-utf8.log", TRICKY_INVALID_UTF8_LOG),
    ("suricata/eve.json", SURICATA_EVE_JSON),
    ("suricata/eve-truncated.json", SURICATA_EVE_TRUNCATED_JSON),
    ("zeek/conn.log", ZEEK_CONN_LOG),
    ("zeek/http.log", ZEEK_HTTP_LOG),
    ("zeek/dns.log", ZEEK_DNS_LOG),
    ("zeek/dns-ipv6-frag.log", ZEEK_DNS_IPV6_FRAG_LOG),
    ("zeek/smtp.log", ZEEK_SMTP_LOG),
    ("zeek/ssl.log", ZEEK_SSL_LOG),
    ("zeek/handmade-escapes.log", ZEEK_HANDMADE_ESCAPES_LOG),
];

/// Things that look like indicators of the set but are not: each line alone, through the
/// matcher and through the free-text oracle.
#[test]
fn near_misses_do_not_match() {
    let set = set();
    let m = LineMatcher::new(set, LineOptions::default());
    for line in [
        // versions and dotted runs around 1.2.3.4 and 10.0.0.1
        "agent v10.0.0.1",
        "build 1.2.3.4.5",
        "rev 1.2.3.4a",
        "pad 01.2.3.4",
        "host 10.0.0.1.example",
        "Chrome/1.2.3.4.5",
        // longer numbers holding an address of the set
        "from 198.51.100.230 port 1",
        "q=%22203.0.113.66%22",
        "11.2.3.4 1.2.3.45 101.2.3.4 210.0.0.1 10.0.0.10 2203.0.113.66",
        // names sharing only a suffix, without a label boundary
        "notevil-domain.test xevil-domain.test notc2.badsite.test",
        "evil-domain.test.example evil-domain.testing",
        "büchers.example",
        // other addresses, URLs and emails near the listed ones
        "2001:db8::10 2001:db8::1:0 2001:db8:0:1 2001:db8:ba::1",
        "http://dl.badsite.test/stage2.binary https://dl.badsite.test/stage2.bin",
        "xmailer@phish.example mailer@phish.example.org",
        "c3132ccf55446fe38ea503bfe272607b11ca466152d9815dcb86af0531167eb3a",
    ] {
        let got: Vec<_> = m.scan(line.as_bytes()).collect();
        assert!(got.is_empty(), "{line:?}: {got:?}");
        let oracle: Vec<_> = trawl::scan_text(set, line.as_bytes()).collect();
        assert!(oracle.is_empty(), "{line:?}: oracle {oracle:?}");
    }
}

/// `--field`: JSON dotted paths (nested or as dotted keys, and the paths below them) and
/// Zeek column names; plain text ignores it.
#[test]
fn field_restriction() {
    let with_fields = |fields: &[&str]| LogOptions {
        line: LineOptions {
            fields: fields.iter().map(|s| s.to_string()).collect(),
            ..LineOptions::default()
        },
        ..options(2, 1 << 20, OutputMode::Hits)
    };
    let only = |expected: &[Exp], fields: &[&str]| -> Vec<Row> {
        rows_of(expected)
            .into_iter()
            .filter(|r| {
                fields
                    .iter()
                    .any(|f| r.field == *f || r.field.starts_with(&format!("{f}.")))
            })
            .collect()
    };
    for (file, expected, fields) in [
        ("ecs/filebeat.json", ECS_FILEBEAT_JSON, &["source.ip"][..]),
        ("ecs/filebeat.json", ECS_FILEBEAT_JSON, &["url"]),
        ("ecs/filebeat.json", ECS_FILEBEAT_JSON, &["url.domain"]),
        ("ecs/filebeat.json", ECS_FILEBEAT_JSON, &["dns", "message"]),
        ("ecs/filebeat.json", ECS_FILEBEAT_JSON, &["email.from"]),
        ("suricata/eve.json", SURICATA_EVE_JSON, &["tls"]),
        ("suricata/eve.json", SURICATA_EVE_JSON, &["dns.answers"]),
        ("zeek/conn.log", ZEEK_CONN_LOG, &["id.resp_h"]),
        ("zeek/dns-ipv6-frag.log", ZEEK_DNS_IPV6_FRAG_LOG, &["query"]),
        ("zeek/smtp.log", ZEEK_SMTP_LOG, &["id.resp_h", "to"]),
        (
            "zeek/handmade-escapes.log",
            ZEEK_HANDMADE_ESCAPES_LOG,
            &["uri", "answers"],
        ),
        ("csv/proxy.csv", CSV_PROXY_CSV, &["host"]),
    ] {
        let want = only(expected, fields);
        assert!(!want.is_empty(), "{file} {fields:?}: a useless case");
        let (got, _) = hits(&logs(file), &with_fields(fields));
        assert_eq!(got, want, "{file} with --field {fields:?}");
    }
    // A field name that is only a prefix of the real ones (not at a dot) selects nothing.
    for (file, fields) in [
        ("ecs/filebeat.json", &["sourc"][..]),
        ("ecs/filebeat.json", &["url.dom"]),
        ("zeek/conn.log", &["id.resp"]),
        ("zeek/conn.log", &["id"]),
    ] {
        let (got, outcome) = hits(&logs(file), &with_fields(fields));
        if fields == ["id"] {
            // `id` selects `id.orig_h` and `id.resp_h`: a path selects the fields below it.
            assert_eq!(got, rows_of(ZEEK_CONN_LOG), "{file} {fields:?}");
            continue;
        }
        assert!(got.is_empty(), "{file} {fields:?}: {got:?}");
        assert!(outcome.files[0].errors.is_empty());
    }
    // Plain lines have no fields: scanned whole whatever --field says.
    let (got, _) = hits(&logs("syslog/messages"), &with_fields(&["source.ip"]));
    assert_eq!(got, rows_of(SYSLOG_MESSAGES));
}

/// `--enrich`: one JSON object per record (header and blank lines are not records); JSON
/// records keep every field and get `threat.enrichments` (one per hit) only when they have
/// hits; other formats are wrapped as `{"message": line}`.
#[test]
fn enrich_passes_every_record_through() {
    for &(file, expected) in FIXTURES {
        let path = logs(file);
        let data = std::fs::read(&path).unwrap();
        let (out, outcome) = run(&[&path], &options(2, 1 << 20, OutputMode::Enrich));
        let format = outcome.files[0].format;
        let mut hits_per_line: BTreeMap<u64, usize> = BTreeMap::new();
        for r in rows_of(expected) {
            *hits_per_line.entry(r.line).or_default() += 1;
        }
        // The records: what the file's header and blank lines leave.
        let mut records: Vec<(u64, &[u8])> = Vec::new();
        let mut csv_header = format == "csv";
        for (i, line) in data.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) || (format == "zeek" && line[0] == b'#') {
                continue;
            }
            if std::mem::take(&mut csv_header) {
                continue;
            }
            records.push((i as u64 + 1, line));
        }
        let outs: Vec<&[u8]> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            outs.len(),
            records.len(),
            "{file}: one output line per record"
        );
        assert!(out.is_empty() || out.ends_with(b"\n"));
        for ((number, line), o) in records.iter().zip(&outs) {
            let doc: Json = serde_json::from_slice(o).unwrap_or_else(|e| {
                panic!(
                    "{file}:{number}: not JSON ({e}): {}",
                    String::from_utf8_lossy(o)
                )
            });
            let n = hits_per_line.get(number).copied().unwrap_or(0);
            let enrichments = doc["threat"]["enrichments"].as_array().map_or(0, Vec::len);
            assert_eq!(enrichments, n, "{file}:{number}: {doc}");
            let original: Option<Json> = if format == "json" {
                serde_json::from_slice(line).ok()
            } else {
                None
            };
            match original {
                Some(original) => {
                    if n == 0 {
                        assert_eq!(o, line, "{file}:{number}: passed through as it is");
                    }
                    let mut stripped = doc.clone();
                    let threat = stripped.as_object_mut().unwrap();
                    if n > 0 {
                        let t = threat["threat"].as_object_mut().unwrap();
                        t.remove("enrichments");
                        if t.is_empty() {
                            threat.remove("threat");
                        }
                    }
                    assert_eq!(stripped, original, "{file}:{number}: fields changed");
                }
                None => {
                    // Not a JSON object (or a JSON record that does not parse): wrapped.
                    assert_eq!(
                        doc["message"].as_str().unwrap(),
                        String::from_utf8_lossy(line),
                        "{file}:{number}"
                    );
                    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
                    let want: &[&str] = if n > 0 {
                        &["message", "threat"]
                    } else {
                        &["message"]
                    };
                    assert_eq!(keys, want, "{file}:{number}");
                }
            }
            if n > 0 {
                let e = &doc["threat"]["enrichments"][0];
                assert!(e["matched"]["atomic"].is_string() && e["indicator"]["type"].is_string());
            }
        }
    }
    // The enrichments of an ECS record with a `threat` object of its own go inside it.
    let (out, _) = run(
        &[logs("ecs/filebeat.json")],
        &options(1, 1 << 20, OutputMode::Enrich),
    );
    let last: Json = serde_json::from_slice(out.split(|&b| b == b'\n').nth(7).unwrap()).unwrap();
    assert_eq!(last["threat"]["framework"], "MITRE ATT&CK");
    let matched: Vec<(&str, &str)> = last["threat"]["enrichments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["matched"]["field"].as_str().unwrap(),
                e["trawl"]["indicator"]["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        matched,
        [
            ("source.ip", "198.51.100.23/32"),
            ("destination.domain", "evil-domain.test"),
            ("event.original", "198.51.100.23/32"),
        ]
    );
}

/// The output without what differs between runs (the scan time of each hit document: its
/// `event.created`, and `@timestamp` for records without a time of their own).
fn comparable(out: &[u8], mode: OutputMode) -> Vec<u8> {
    if mode != OutputMode::Hits {
        return out.to_vec();
    }
    let mut v = Vec::new();
    for l in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut d: Json = serde_json::from_slice(l).unwrap();
        d.as_object_mut().unwrap().remove("@timestamp");
        d["event"].as_object_mut().unwrap().remove("created");
        serde_json::to_writer(&mut v, &d).unwrap();
        v.push(b'\n');
    }
    v
}

/// Counters as compared between runs: lines, bytes, hits, matched lines, and the errors by
/// (reason, count, first line).
type Counters = (u64, u64, u64, u64, Vec<(&'static str, u64, u64)>);

fn counters(f: &FileStats) -> Counters {
    let errors = f
        .errors
        .iter()
        .map(|(k, e)| (*k, e.count, e.first_line))
        .collect();
    (f.lines, f.bytes, f.hits, f.matched_lines, errors)
}

/// The format a fixture is read in, as `LogOptions::format` names it.
fn format_of(outcome: &LogOutcome) -> Option<LogFormat> {
    LogFormat::parse(outcome.files[0].format)
}

/// Many tiny chunks on several workers give, in order, exactly what one worker gives on one
/// chunk: for every fixture, every output mode and several chunk sizes (a chunk of one byte
/// is one line). Zeek headers and the CSV header reach every chunk after them.
///
/// The format is given: detection sees the first chunk only, and the Zeek files copied from
/// Zeek's test baselines open with a `### BTest` comment line, so a one-line first chunk
/// leaves them undecided (plain text). `format_detection_from_a_small_first_chunk` covers
/// detection.
#[test]
fn ordered_output_with_tiny_chunks_equals_one_worker() {
    let modes = [
        OutputMode::Hits,
        OutputMode::Enrich,
        OutputMode::OnlyMatching,
    ];
    for &(file, expected) in FIXTURES {
        let path = logs(file);
        for mode in modes {
            let (base, base_outcome) = run(&[&path], &options(1, 1 << 20, mode));
            if mode == OutputMode::Hits {
                assert_eq!(parse_hits(&base).len(), expected.len(), "{file}");
            }
            for chunk in [1, 7, 100] {
                let opts = LogOptions {
                    format: format_of(&base_outcome),
                    ..options(3, chunk, mode)
                };
                let (out, outcome) = run(&[&path], &opts);
                assert_eq!(
                    String::from_utf8_lossy(&comparable(&out, mode)),
                    String::from_utf8_lossy(&comparable(&base, mode)),
                    "{file}: {mode:?} with {chunk}-byte chunks"
                );
                assert_eq!(
                    counters(&outcome.files[0]),
                    counters(&base_outcome.files[0]),
                    "{file}: {mode:?} with {chunk}-byte chunks"
                );
            }
        }
    }
}

/// Detection from the first chunk alone, as with a pipe that delivers one line at a time:
/// enough wherever the first line decides (a `{`, a `#separator` line, a CSV header, text).
#[test]
fn format_detection_from_a_small_first_chunk() {
    for &(file, expected) in FIXTURES {
        let (_, base) = run(&[logs(file)], &options(1, 1 << 20, OutputMode::Count));
        let (got, outcome) = hits(&logs(file), &options(2, 1, OutputMode::Hits));
        let first = std::fs::read(logs(file)).unwrap();
        if first.starts_with(b"### BTest") {
            // Known limit: the comment line alone does not say Zeek; read as plain text.
            assert_eq!(outcome.files[0].format, "plain", "{file}");
            continue;
        }
        assert_eq!(outcome.files[0].format, base.files[0].format, "{file}");
        assert_eq!(got, rows_of(expected), "{file}");
    }
}

/// Several inputs in one scan: the output keeps the inputs' order too, as one input after the
/// other, however the chunks of neighbouring inputs overlap on the workers.
#[test]
fn ordered_output_keeps_the_order_of_inputs() {
    let files: Vec<PathBuf> = FIXTURES.iter().map(|(f, _)| logs(f)).collect();
    let mut want = Vec::new();
    for f in &files {
        let (out, _) = run(&[f], &options(1, 1 << 20, OutputMode::OnlyMatching));
        want.extend(out);
    }
    for chunk in [1, 50] {
        for _ in 0..3 {
            let (out, outcome) = run(&files, &options(4, chunk, OutputMode::OnlyMatching));
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&want),
                "{chunk}-byte chunks"
            );
            let total: usize = FIXTURES.iter().map(|(_, e)| e.len()).sum();
            assert_eq!(outcome.total().hits, total as u64);
        }
    }
}

/// A gzip file (found by its magic bytes, whatever its name) gives the same hits, offsets and
/// counters as the plain file, the offsets being those of the decompressed text.
#[test]
fn gzip_input_gives_the_same_hits() {
    let dir = tempfile::tempdir().unwrap();
    for (i, &(file, expected)) in FIXTURES.iter().enumerate() {
        let data = std::fs::read(logs(file)).unwrap();
        // Keep the name's extension: CSV is recognised by it.
        let name = Path::new(file).file_name().unwrap().to_string_lossy();
        let gz = dir.path().join(format!("{i}-{name}"));
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(&data).unwrap();
        enc.finish().unwrap();
        let (_, plain) = run(&[logs(file)], &options(1, 1 << 20, OutputMode::Count));
        for chunk in [1 << 20, 64] {
            // (With small chunks, as a pipe may deliver them, the format is given: see
            // `ordered_output_with_tiny_chunks_equals_one_worker`.)
            let opts = LogOptions {
                format: format_of(&plain).filter(|_| chunk < 1 << 20),
                ..options(2, chunk, OutputMode::Hits)
            };
            let (got, outcome) = hits(&gz, &opts);
            assert_eq!(
                got,
                rows_of(expected),
                "{file} gzipped, {chunk}-byte chunks"
            );
            assert_eq!(outcome.files[0].bytes, data.len() as u64, "{file}");
        }
    }
}

/// A line of a few megabytes is one line: hits in it and around it keep their offsets, with
/// chunks much smaller than the line.
#[test]
fn overlong_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.log");
    let filler = "lorem ipsum dolor sit amet ".repeat(80_000); // 2.16 MB
    let mut data = String::from("short 203.0.113.66\n");
    let long_at = data.len();
    data += &filler;
    let mid = data.len() - long_at;
    data += "c2.badsite.test ";
    data += &filler;
    let end = data.len() - long_at;
    data += "mailer@phish.example\n";
    let last_at = data.len();
    data += "after 198.51.100.23";
    std::fs::write(&path, &data).unwrap();
    let want = rows_of(&[
        (1, 0, "message", 6, "203.0.113.66", "203.0.113.66/32"),
        (
            2,
            long_at as u64,
            "message",
            mid,
            "c2.badsite.test",
            "c2.badsite.test",
        ),
        (
            2,
            long_at as u64,
            "message",
            end,
            "mailer@phish.example",
            "mailer@phish.example",
        ),
        (
            3,
            last_at as u64,
            "message",
            6,
            "198.51.100.23",
            "198.51.100.23/32",
        ),
    ]);
    for (workers, chunk) in [(1, 1 << 20), (2, 4096)] {
        let (got, outcome) = hits(&path, &options(workers, chunk, OutputMode::Hits));
        assert_eq!(got, want, "{workers} workers, {chunk}-byte chunks");
        assert_eq!(outcome.files[0].lines, 3);
    }
}

/// A line longer than a stream holds at once comes in overlapping pieces: a token at any
/// offset across a piece boundary (cut by it, inside the overlap, just before or after it) is
/// reported once, at its place in the whole line; the line after it keeps its number; bytes
/// and lines are counted once. (Small pieces here; 64 MiB with 64 KiB overlaps in production.)
#[test]
fn tokens_across_the_pieces_of_an_overlong_line() {
    let piece = 512;
    let keep = trawl::testing::overlap(piece);
    // Piece 1 holds bytes [0, 512) of the line, piece 2 [384, 896), piece 3 [768, …).
    let boundaries = [piece, 2 * piece - keep];
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("long.log.gz");
    let plain = dir.path().join("long.log");
    let filler = "lorem ipsum dolor sit amet ".repeat(80);
    let tokens = [
        ("203.0.113.66", "203.0.113.66/32"),
        ("c2.badsite.test", "c2.badsite.test"),
        ("mailer@phish.example", "mailer@phish.example"),
        (
            "http://dl.badsite.test/stage2.bin",
            "http://dl.badsite.test/stage2.bin",
        ),
    ];
    for (token, value) in tokens {
        let len = token.len();
        // Every start from well before the first overlap to past the first boundary; the same
        // offsets around the second boundary (a piece both continued and cut).
        for start in boundaries[0] - keep - len - 2..=boundaries[0] + 2 {
            let second = start + (boundaries[1] - boundaries[0]);
            let mut line = filler[..start - 1].to_string() + " " + token + " ";
            line += &filler[line.len()..second - 1];
            line += " ";
            line += token;
            line += " ";
            line += &filler[..filler.len() - 200];
            let text = format!("{line}\nafter 198.51.100.7\n");
            let mut enc = flate2::write::GzEncoder::new(
                std::fs::File::create(&gz).unwrap(),
                flate2::Compression::fast(),
            );
            enc.write_all(text.as_bytes()).unwrap();
            enc.finish().unwrap();
            // A regular file is read in the same overlapping pieces as a stream.
            std::fs::write(&plain, &text).unwrap();
            for path in [&gz, &plain] {
                let opts = LogOptions {
                    piece_size: piece,
                    ..options(2, 100, OutputMode::Hits)
                };
                let (got, outcome) = hits(path, &opts);
                let got: Vec<(u64, u64, usize, &str)> = got
                    .iter()
                    .map(|r| (r.line, r.offset, r.start, r.value.as_str()))
                    .collect();
                assert_eq!(
                    got,
                    [
                        (1, 0, start, value),
                        (1, 0, second, value),
                        (2, line.len() as u64 + 1, 6, "198.51.100.7/32")
                    ],
                    "{token} at {start} and {second} in {}",
                    path.display()
                );
                let f = &outcome.files[0];
                assert_eq!((f.lines, f.bytes), (2, text.len() as u64));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planted indicators in random lines, against the free-text oracle.

/// A set of random indicators, and values of the same shapes that are not in it.
struct Pool {
    set: Set,
    ipv4: Vec<Ipv4Addr>,
    ipv6: Vec<Ipv6Addr>,
    domains: Vec<String>,
    emails: Vec<String>,
    hashes: Vec<String>,
    decoys: Vec<String>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x7a41);
        let label = |rng: &mut rand::rngs::StdRng, n: usize| -> String {
            (0..n).map(|_| rng.gen_range(b'a'..=b'z') as char).collect()
        };
        let hex = |rng: &mut rand::rngs::StdRng| -> String {
            (0..64)
                .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap())
                .collect()
        };
        let mut ipv4: Vec<Ipv4Addr> = (0..40)
            .map(|i| {
                let net = if i % 2 == 0 {
                    [198, 51, 100]
                } else {
                    [203, 0, 113]
                };
                Ipv4Addr::new(net[0], net[1], net[2], rng.gen_range(1..255))
            })
            .collect();
        ipv4.sort();
        ipv4.dedup();
        let ipv6: Vec<Ipv6Addr> = (0..30u16)
            .map(|i| {
                let mut g = [0x2001, 0xdb8, 1 + i, 0, 0, 0, 0, 0];
                // Some zero groups to compress, some not.
                for slot in g.iter_mut().skip(3) {
                    if rng.gen_bool(0.4) {
                        *slot = rng.r#gen();
                    }
                }
                Ipv6Addr::new(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7])
            })
            .collect();
        let mut domains: Vec<String> = (0..40)
            .map(|i| {
                let tld = if i % 2 == 0 { "example" } else { "test" };
                let n = rng.gen_range(4..10);
                format!("{}-{}.{tld}", label(&mut rng, n), i)
            })
            .collect();
        domains.sort();
        domains.dedup();
        let emails: Vec<String> = (0..30)
            .map(|i| {
                let (a, b) = (rng.gen_range(2..8), rng.gen_range(3..8));
                format!("{}.{i}@{}.example", label(&mut rng, a), label(&mut rng, b))
            })
            .collect();
        let hashes: Vec<String> = (0..30).map(|_| hex(&mut rng)).collect();
        let mut decoys: Vec<String> = Vec::new();
        for i in 0..40 {
            let n = rng.gen_range(3..9);
            decoys.push(format!("192.0.2.{}", rng.gen_range(1..255)));
            decoys.push(format!("2001:db8:ffff::{:x}", rng.gen_range(1..0xffffu32)));
            decoys.push(format!("{}-{i}.example.net", label(&mut rng, n)));
            decoys.push(format!("{}@decoy.example.net", label(&mut rng, n)));
            decoys.push(hex(&mut rng));
        }
        let mut feed = String::new();
        for v in ipv4
            .iter()
            .map(ToString::to_string)
            .chain(ipv6.iter().map(ToString::to_string))
            .chain(domains.iter().cloned())
            .chain(emails.iter().cloned())
            .chain(hashes.iter().cloned())
        {
            feed += &v;
            feed.push('\n');
        }
        let set = set_from_feed(feed.as_bytes());
        Pool {
            set,
            ipv4,
            ipv6,
            domains,
            emails,
            hashes,
            decoys,
        }
    })
}

/// One piece of a random line.
#[derive(Clone, Debug)]
enum Piece {
    /// A word of letters and digits.
    Filler(String),
    /// Something that is not in the set.
    Decoy(usize),
    /// An indicator of the pool: kind (0–4), index, and a variant (case, subdomain, brackets).
    Planted(u8, usize, u8),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => "[a-zA-Z0-9]{1,9}".prop_map(Piece::Filler),
        1 => (0usize..200).prop_map(Piece::Decoy),
        3 => (0u8..5, 0usize..40, 0u8..4).prop_map(|(k, i, v)| Piece::Planted(k, i, v)),
    ]
}

/// Delimiters that end every kind of token on both sides.
const DELIMITERS: &[&str] = &[
    " ", "  ", "\t", ", ", "; ", " (", ") ", " \"", "\" ", " <", "> ", "=", " = ", " | ", "'",
];

/// Random case for ASCII letters, driven by `bits`.
fn mixed_case(s: &str, bits: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if bits >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// A line and the (start, end, indicator value) of every indicator planted in it.
type Planted = (String, Vec<(usize, usize, String)>);

/// Builds one line; returns it with the planted (start, end, indicator value) spans.
fn build_line(pieces: &[(Piece, usize)], case_bits: u64) -> Planted {
    let p = pool();
    let mut line = String::new();
    let mut planted = Vec::new();
    for (n, (piece, delim)) in pieces.iter().enumerate() {
        if n > 0 {
            line += DELIMITERS[delim % DELIMITERS.len()];
        }
        match piece {
            Piece::Filler(w) => line += w,
            Piece::Decoy(i) => line += &p.decoys[i % p.decoys.len()],
            Piece::Planted(kind, i, variant) => {
                let bits = case_bits.rotate_left(n as u32 * 7);
                let (pre, text, post, value) = match kind {
                    0 => {
                        let a = p.ipv4[i % p.ipv4.len()];
                        ("", a.to_string(), "", format!("{a}/32"))
                    }
                    1 => {
                        let a = p.ipv6[i % p.ipv6.len()];
                        let text = if variant & 1 == 1 {
                            a.to_string().to_uppercase()
                        } else {
                            a.to_string()
                        };
                        let (pre, post) = if variant & 2 == 2 {
                            ("[", "]:443")
                        } else {
                            ("", "")
                        };
                        (pre, text, post, format!("{a}/128"))
                    }
                    2 => {
                        let d = &p.domains[i % p.domains.len()];
                        let text = match variant {
                            0 => d.clone(),
                            1 => mixed_case(d, bits),
                            2 => format!("www.{d}"),
                            _ => format!("a-1.B.{}", mixed_case(d, bits)),
                        };
                        ("", text, "", d.clone())
                    }
                    3 => {
                        let e = &p.emails[i % p.emails.len()];
                        let text = if variant & 1 == 1 {
                            mixed_case(e, bits)
                        } else {
                            e.clone()
                        };
                        ("", text, "", e.clone())
                    }
                    _ => {
                        let h = &p.hashes[i % p.hashes.len()];
                        let text = if variant & 1 == 1 {
                            h.to_uppercase()
                        } else {
                            h.clone()
                        };
                        ("", text, "", h.clone())
                    }
                };
                line += pre;
                planted.push((line.len(), line.len() + text.len(), value));
                line += &text;
                line += post;
            }
        }
    }
    (line, planted)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    /// Every planted indicator is reported at its exact span with its value, nothing else is,
    /// and the line matcher (one line at a time, and batched over all lines) agrees with
    /// `IndicatorSet::scan_text` hit for hit.
    #[test]
    fn planted_indicators_against_the_oracle(
        lines in prop::collection::vec(
            (prop::collection::vec((piece(), 0usize..64), 1..10), any::<u64>()),
            1..6,
        ),
    ) {
        let p = pool();
        let matcher = LineMatcher::new(&p.set, LineOptions::default());
        let built: Vec<Planted> =
            lines.iter().map(|(pieces, bits)| build_line(pieces, *bits)).collect();
        let mut batch = BatchScanner::new(&matcher);
        let mut decoder = Decoder::new(LogFormat::Plain);
        for (i, (line, _)) in built.iter().enumerate() {
            batch.add_line(i as u32, line.as_bytes(), &mut decoder).unwrap();
        }
        let mut batched: Vec<Vec<(usize, usize, u32)>> = vec![Vec::new(); built.len()];
        batch.finish(|i, h| batched[i as usize].push((h.start, h.end, h.matched.indicator)));
        for (i, (line, planted)) in built.iter().enumerate() {
            let got: Vec<_> = matcher.scan(line.as_bytes()).collect();
            let mut spans: Vec<(usize, usize, String)> = got
                .iter()
                .map(|h| (h.start, h.end, p.set.indicator(h.matched.indicator).unwrap().value()))
                .collect();
            spans.sort();
            let mut want = planted.clone();
            want.sort();
            prop_assert_eq!(&spans, &want, "line {:?}", line);
            prop_assert!(got.iter().all(|h| h.field.is_none()));
            let mut ids: Vec<(usize, usize, u32)> =
                got.iter().map(|h| (h.start, h.end, h.matched.indicator)).collect();
            ids.sort();
            let mut oracle: Vec<(usize, usize, u32)> =
                trawl::scan_text(&p.set, line.as_bytes())
                .map(|h| (h.start as usize, h.end as usize, h.indicator))
                .collect();
            oracle.sort();
            prop_assert_eq!(&ids, &oracle, "oracle on {:?}", line);
            let mut b = batched[i].clone();
            b.sort();
            prop_assert_eq!(&b, &ids, "batched on {:?}", line);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lines that are not records of their file's format: scanned as text, never dropped.

/// The hits of a Hits-mode output per line number: the indicator values, sorted.
fn values_per_line(out: &[u8]) -> BTreeMap<u64, Vec<String>> {
    let mut got: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (_, r) in parse_hits(out) {
        got.entry(r.line).or_default().push(r.value);
    }
    for v in got.values_mut() {
        v.sort();
    }
    got
}

/// A log whose first line is an EVE-like JSON record, mixed with what real "JSON" logs hold
/// too: syslog and nginx lines, records cut short, records nested deeper than the walker goes,
/// two records run together. Returns the text, the indicator values planted on each line (the
/// oracle; line numbers from 1) and the numbers of the lines that are not JSON records.
fn mixed_json_log(lines: usize, seed: u64) -> (String, BTreeMap<u64, Vec<String>>, Vec<u64>) {
    use rand::{Rng, SeedableRng};
    let p = pool();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut text = String::new();
    let mut planted: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let mut not_json = Vec::new();
    // A value for one slot: (as written, indicator value) when planted, else a decoy.
    let slot = |rng: &mut rand::rngs::StdRng, kind: u8| -> (String, Option<String>) {
        let i = rng.gen_range(0..1000);
        if !rng.gen_bool(0.15) {
            return (p.decoys[i % p.decoys.len()].clone(), None);
        }
        match kind {
            0 => {
                let a = p.ipv4[i % p.ipv4.len()];
                (a.to_string(), Some(format!("{a}/32")))
            }
            1 => {
                let d = &p.domains[i % p.domains.len()];
                (format!("www.{d}"), Some(d.clone()))
            }
            2 => {
                let e = &p.emails[i % p.emails.len()];
                (e.clone(), Some(e.clone()))
            }
            _ => {
                let h = &p.hashes[i % p.hashes.len()];
                (h.clone(), Some(h.clone()))
            }
        }
    };
    for n in 1..=lines as u64 {
        // Up to four values per line, each with where it ends in the line (for cuts).
        let vals: Vec<(String, Option<String>)> = (0..4u8).map(|k| slot(&mut rng, k)).collect();
        let record = |vals: &[(String, Option<String>)]| {
            format!(
                r#"{{"timestamp":"2026-01-01T00:00:00.000000+0000","src_ip":"10.1.2.3","dest_ip":"{}","http":{{"hostname":"{}","url":"http:\/\/{}\/a\/b?x=1"}},"smtp":{{"mail_from":"{}"}},"fileinfo":{{"sha256":"{}"}}}}"#,
                vals[0].0, vals[1].0, vals[1].0, vals[2].0, vals[3].0
            )
        };
        // The hostname and the URL hold the same name: two hits.
        let all = |vals: &[(String, Option<String>)]| -> Vec<String> {
            let mut v: Vec<String> = vals.iter().filter_map(|(_, i)| i.clone()).collect();
            v.extend(vals[1].1.clone());
            v
        };
        let kind = if n == 1 { 0 } else { rng.gen_range(0..10) };
        let (line, want) = match kind {
            0..=4 => (record(&vals), all(&vals)),
            5 => (
                format!(
                    "Jan  1 00:00:01 web-1 sshd[42]: Failed password for root from {} port 22 ssh2, host {}",
                    vals[0].0, vals[1].0
                ),
                vals[..2].iter().filter_map(|(_, i)| i.clone()).collect(),
            ),
            6 => (
                format!(
                    "10.0.0.9 - - [01/Jan/2026:00:00:01 +0000] \"GET /x HTTP/1.1\" 200 5 \"https://{}/\" \"curl/8\" from={} md5={}",
                    vals[1].0, vals[2].0, vals[3].0
                ),
                vals[1..].iter().filter_map(|(_, i)| i.clone()).collect(),
            ),
            7 => {
                // Cut anywhere after the e-mail: the address, the names and the address before
                // the cut are all there; the digest may be cut short (then it is no indicator).
                let full = record(&vals);
                let at = full.find(&vals[2].0).unwrap() + vals[2].0.len();
                let cut = rng.gen_range(at..full.len() - 1);
                let line = full[..cut].to_string();
                let mut want = all(&vals[..3]);
                if line.contains(&vals[3].0) {
                    want.extend(vals[3].1.clone());
                }
                (line, want)
            }
            8 => {
                let depth = rng.gen_range(65..90);
                (
                    format!(
                        r#"{{"deep":{}"{}","http:\/\/{}\/p","{}"{}}}"#,
                        "[".repeat(depth),
                        vals[0].0,
                        vals[1].0,
                        vals[2].0,
                        "]".repeat(depth)
                    ),
                    vals[..3].iter().filter_map(|(_, i)| i.clone()).collect(),
                )
            }
            _ => {
                let other: Vec<(String, Option<String>)> =
                    (0..4u8).map(|k| slot(&mut rng, k)).collect();
                let mut want = all(&vals);
                want.extend(all(&other));
                (record(&vals) + &record(&other), want)
            }
        };
        if kind >= 5 {
            not_json.push(n);
        }
        text += &line;
        text.push('\n');
        if !want.is_empty() {
            let mut want = want;
            want.sort();
            planted.insert(n, want);
        }
    }
    (text, planted, not_json)
}

/// A JSON log with other lines mixed in: every indicator of every line is reported once, in
/// JSON records and in the lines that are not (scanned as text and counted, never dropped).
/// On a 20,000-line file, 446 of 591 lines carrying an indicator were missed before.
#[test]
fn mixed_json_log_misses_no_indicator() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    let (text, planted, not_json) = mixed_json_log(20_000, 9);
    std::fs::write(&path, &text).unwrap();
    assert!(planted.len() > 2_000 && not_json.len() > 9_000);
    let p = pool();
    for (workers, chunk) in [(1, 1 << 20), (2, 4096)] {
        let inputs = [LogInput::Path(path.clone())];
        let mut out = Vec::new();
        let opts = options(workers, chunk, OutputMode::Hits);
        let outcome = scan_logs(&p.set, &inputs, &opts, &mut out, &AtomicBool::new(false)).unwrap();
        let got = values_per_line(&out);
        let missed: Vec<_> = planted
            .iter()
            .filter(|(n, v)| got.get(n) != Some(v))
            .collect();
        assert!(
            missed.is_empty(),
            "{} of {} lines with indicators not reported exactly, first: {:?} got {:?}",
            missed.len(),
            planted.len(),
            missed[0],
            got.get(missed[0].0)
        );
        assert_eq!(got.len(), planted.len(), "hits on lines without indicators");
        let f = &outcome.files[0];
        assert_eq!(f.format, "json");
        assert_eq!(f.lines, 20_000);
        assert_eq!(
            (f.fallback.count, f.fallback.first_line),
            (not_json.len() as u64, not_json[0])
        );
        assert_eq!(
            f.errors.values().map(|e| e.count).sum::<u64>(),
            f.fallback.count
        );
        assert!(f.errors.contains_key("json: too deep"), "{:?}", f.errors);
    }
}

/// Zeek and CSV rows that do not fit the header (a foreign line, a column too many or too
/// few, a quote left open) are scanned as text: their indicators are
/// reported once each, those in named columns with their column's name.
#[test]
fn zeek_and_csv_rows_that_do_not_fit_are_scanned_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let zeek = dir.path().join("dns.log");
    std::fs::write(
        &zeek,
        "#separator \\x09\n#fields\tts\tquery\tanswers\n#types\ttime\tstring\tvector[string]\n\
         1.0\tc2.badsite.test\t198.51.100.7\n\
         Jan  1 00:00:01 web-1 named[1]: query evil-domain.test from 203.0.113.66\n\
         2.0\tc2.badsite.test\t198.51.100.7\t203.0.113.66\n\
         3.0\tevil-domain.test\n",
    )
    .unwrap();
    let csv = dir.path().join("proxy.csv");
    std::fs::write(
        &csv,
        "ts,host,client\n\
         1,c2.badsite.test,10.9.9.9\n\
         2,\"evil-domain.test,203.0.113.66\n\
         3,c2.badsite.test,10.9.9.9,198.51.100.7\n",
    )
    .unwrap();
    let rows = |path: &Path, fallback: u64| -> Vec<(u64, String, String)> {
        let (got, outcome) = hits(path, &options(1, 1 << 20, OutputMode::Hits));
        let f = &outcome.files[0];
        assert_eq!(f.fallback.count, fallback, "{f:?}");
        got.into_iter()
            .map(|r| (r.line, r.field, r.atomic))
            .collect()
    };
    let row = |line: u64, field: &str, atomic: &str| (line, field.to_string(), atomic.to_string());
    assert_eq!(
        rows(&zeek, 3),
        [
            row(4, "query", "c2.badsite.test"),
            row(4, "answers", "198.51.100.7"),
            row(5, "message", "evil-domain.test"),
            row(5, "message", "203.0.113.66"),
            row(6, "query", "c2.badsite.test"),
            row(6, "answers", "198.51.100.7"),
            row(6, "message", "203.0.113.66"),
            row(7, "query", "evil-domain.test"),
        ]
    );
    assert_eq!(
        rows(&csv, 2),
        [
            row(2, "host", "c2.badsite.test"),
            row(3, "message", "evil-domain.test"),
            row(3, "message", "203.0.113.66"),
            row(4, "host", "c2.badsite.test"),
            row(4, "message", "198.51.100.7"),
        ]
    );
}
