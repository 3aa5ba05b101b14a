//! Compile → write → open (memory map) → lookup, for every kind and every metadata field, from
//! the fixtures in testdata/.

use std::net::IpAddr;
use std::path::Path;

use trawl::Exclusions;
use trawl::IndicatorSet;
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{Kind, Tlp};

const NOW: i64 = 1_767_225_600; // 2026-01-01

fn testdata(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

fn compile() -> (
    tempfile::TempDir,
    IndicatorSet<memmap2::Mmap>,
    trawl::CompileReport,
) {
    let mut ex = Exclusions::new();
    ex.load(&testdata("warninglists/rfc1918.json")).unwrap();
    ex.load(&testdata("warninglists/local-allowlist.txt"))
        .unwrap();
    let opts = CompileOptions {
        tlp_max: Some(Tlp::Amber),
        now: NOW,
        ..CompileOptions::default()
    };
    let mut b = SetBuilder::new(opts, ex);
    let feeds = [
        FeedSpec::new(testdata("feeds/blocklist.txt")),
        FeedSpec::new(testdata("feeds/intel.csv")),
    ];
    ingest_feeds(&feeds, &mut b).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intel.tset");
    let report = b.write(&path).unwrap();
    let mut set = IndicatorSet::open(&path).unwrap();
    set.set_clock(Some(NOW));
    set.verify().unwrap();
    (dir, set, report)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn every_kind_round_trips_with_its_provenance() {
    let (_dir, set, _) = compile();
    let value = |h: Option<trawl::Match>| h.map(|h| set.indicator(h.indicator).unwrap().value());

    // CIDRs: most specific prefix, IPv4-mapped, IPv6, carved and suppressed ranges.
    assert_eq!(
        value(set.match_ip(ip("203.0.113.7"))),
        Some("203.0.113.7/32".into())
    );
    assert_eq!(
        value(set.match_ip(ip("203.0.113.9"))),
        Some("203.0.113.0/24".into())
    );
    assert_eq!(
        value(set.match_ip(ip("198.51.100.5"))),
        Some("198.51.100.0/22".into())
    );
    assert_eq!(
        value(set.match_ip(ip("198.51.100.200"))),
        None,
        "carved by the allowlist"
    );
    assert_eq!(
        value(set.match_ip(ip("10.1.2.3"))),
        None,
        "suppressed by rfc1918"
    );
    assert_eq!(
        value(set.match_ip(ip("192.0.2.99"))),
        Some("192.0.2.99/32".into())
    );
    assert_eq!(
        value(set.match_ip(ip("::ffff:192.0.2.99"))),
        Some("192.0.2.99/32".into())
    );
    assert_eq!(
        value(set.match_ip(ip("2001:db8:bad::1"))),
        Some("2001:db8:bad::/48".into())
    );
    assert_eq!(value(set.match_ip(ip("2001:db8:bae::1"))), None);

    // Domains: subdomain rule, case, trailing dot; suppressed by the allowlist.
    assert_eq!(
        value(set.match_domain("WWW.Evil.Example.com.")),
        Some("evil.example.com".into())
    );
    assert_eq!(
        value(set.match_domain("phish.example.net")),
        Some("phish.example.net".into())
    );
    assert_eq!(value(set.match_domain("ads.tracker.example")), None);
    assert_eq!(value(set.match_domain("example.com")), None);

    // URLs: exact, canonicalised, contained, schemeless.
    assert!(
        set.match_url_exact("http://malware.example/payload.exe")
            .is_some()
    );
    assert!(
        set.match_url_exact("http://MALWARE.example:80/dl/stage2.bin")
            .is_some()
    );
    let hits = set.match_url("https://malware.example/gate.php?id=7");
    assert_eq!(hits.len(), 1);
    assert_eq!(
        value(Some(hits[0])),
        Some("malware.example/gate.php".into())
    );
    assert!(set.match_url("http://malware.example/other").is_empty());

    // HTTP literal in a request.
    let req = b"GET /wp-content/plugins/evil/shell.php?cmd=id HTTP/1.1\r\nHost: x\r\n\r\n";
    let hits = set.match_http(req);
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].start, hits[0].end), (4, 38));

    // Hashes, emails.
    assert_eq!(
        set.match_hash_hex(b"D41D8CD98F00B204E9800998ECF8427E")
            .map(|h| h.kind),
        Some(Kind::Md5)
    );
    assert!(
        set.match_hash_hex(b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            .is_some()
    );
    assert!(
        set.match_hash_hex(b"0123456789abcdef0123456789abcdef01234567")
            .is_some()
    );
    assert!(set.match_email("CEO-Fraud@bad-actor.example").is_some());
    assert!(set.match_email("bad@evil.example.com").is_some());
    assert!(set.match_email("good@evil.example.com").is_none());

    // Filtered at compile time: TLP:RED above --tlp-max amber, expired.
    assert!(set.match_domain("cdn.partner.example").is_none());
    assert!(set.match_domain("old.example.org").is_none());
}

#[test]
fn every_source_and_metadata_field_is_kept() {
    let (_dir, set, _) = compile();
    let hit = set.match_domain("evil.example.com").unwrap();
    let ind = set.indicator(hit.indicator).unwrap();
    assert_eq!(ind.kind(), Some(Kind::Domain));
    let mut provs: Vec<_> = ind.provenance().collect();
    provs.sort_by_key(|p| p.source);
    assert_eq!(provs.len(), 2);
    assert_eq!(provs[0].source, "blocklist");
    assert_eq!(provs[0].score, None);
    assert_eq!(provs[0].id, None);
    let csv = &provs[1];
    assert_eq!(csv.source, "intel");
    assert_eq!(csv.id, Some("ioc-0001"));
    assert_eq!(csv.score, Some(90));
    assert_eq!(csv.tlp, Some(Tlp::Amber));
    assert_eq!(csv.labels().collect::<Vec<_>>(), ["c2", "emotet"]);
    assert_eq!(csv.valid_until, Some(4_070_908_800));
    assert_eq!(csv.description, Some("Emotet C2"));
    assert!(!csv.exact);

    let hit = set.match_ip(ip("203.0.113.200")).unwrap();
    let ind = set.indicator(hit.indicator).unwrap();
    let sources: Vec<_> = ind
        .provenance()
        .map(|p| (p.source, p.score, p.tlp))
        .collect();
    assert_eq!(sources.len(), 2);
    assert!(sources.contains(&("intel", Some(40), Some(Tlp::Green))));
    assert!(sources.contains(&("blocklist", None, None)));
    // The /32 inside it names the /24 as its parent.
    let inner = set
        .indicator(set.match_ip(ip("203.0.113.7")).unwrap().indicator)
        .unwrap();
    assert_eq!(inner.parent(), Some(hit.indicator));
}

#[test]
fn the_report_accounts_for_every_line() {
    let (_dir, _set, report) = compile();
    let rejected: Vec<(&str, Vec<&str>)> = report
        .rejected
        .iter()
        .map(|(r, t)| {
            (
                r.as_str(),
                t.examples
                    .iter()
                    .map(|e| e.split(" — ").next().unwrap())
                    .collect(),
            )
        })
        .collect();
    let loc = |f: &str, line: u32| format!("{}:{line}", testdata(f).display());
    let bl = |l| loc("feeds/blocklist.txt", l);
    assert_eq!(report.rejected_total(), 4, "{report}");
    assert!(
        rejected.contains(&("invalid IP address or CIDR", vec![bl(19).as_str()])),
        "{rejected:?}"
    );
    // Well formed but a trail for one port: unsupported (counted), never widened.
    let port = &report.unsupported["address:port (not widened to the whole address)"];
    assert_eq!(port.count, 1);
    assert!(port.examples[0].starts_with(&bl(20)), "{:?}", port.examples);
    assert!(rejected.contains(&(
        "single-label domain (would match a whole TLD)",
        vec![bl(22).as_str()]
    )));
    let bad_domain = rejected
        .iter()
        .find(|(r, _)| *r == "invalid domain name")
        .unwrap();
    assert_eq!(
        bad_domain.1,
        [bl(21).as_str(), loc("feeds/intel.csv", 8).as_str()]
    );
    assert_eq!(report.filtered["TLP above amber"].count, 1);
    assert_eq!(
        report.filtered["expired (valid_until in the past)"].count,
        1
    );
    assert_eq!(
        report.suppressed.values().map(|t| t.count).sum::<u64>(),
        2,
        "{report}"
    );
    assert_eq!(
        report.carved.values().map(|t| t.count).sum::<u64>(),
        1,
        "{report}"
    );
    assert_eq!(report.host_bits_cleared.count, 0);
    // 20 values in the list (4 bad), 7 CSV rows (1 bad, 2 filtered) = 20; minus 2 suppressed.
    assert_eq!(report.accepted.values().sum::<u64>(), 18, "{report}");
    // evil.example.com and 203.0.113.0/24 come from both feeds.
    assert_eq!(report.merged, 2, "{report}");
    assert_eq!(report.indicators_total(), 16, "{report}");
}

#[test]
fn scan_text_finds_every_kind_in_a_log_line() {
    let (_dir, set, _) = compile();
    let line = "2026-01-01T00:00:00Z 203.0.113.7 -> 10.9.9.9 GET HTTP://MALWARE.example:80/payload.exe \
                host=www.evil.example.com from=ceo-fraud@bad-actor.example \
                sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 \
                uri=/wp-content/plugins/evil/shell.php?x=1 ver=Chrome/10.0.0.1";
    let mut hits: Vec<(Kind, String, String)> = trawl::scan_text(&set, line.as_bytes())
        .map(|h| {
            let seen = line[h.start as usize..h.end as usize].to_string();
            (h.kind, set.indicator(h.indicator).unwrap().value(), seen)
        })
        .collect();
    hits.sort();
    let want: Vec<(Kind, String, String)> = [
        (Kind::Ipv4, "203.0.113.7/32", "203.0.113.7"),
        (Kind::Domain, "evil.example.com", "www.evil.example.com"),
        (
            Kind::Url,
            "http://malware.example/payload.exe",
            "HTTP://MALWARE.example:80/payload.exe",
        ),
        (
            Kind::Email,
            "ceo-fraud@bad-actor.example",
            "ceo-fraud@bad-actor.example",
        ),
        (
            Kind::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            Kind::HttpRequest,
            "/wp-content/plugins/evil/shell.php",
            "/wp-content/plugins/evil/shell.php",
        ),
    ]
    .into_iter()
    .map(|(k, v, s)| (k, v.to_string(), s.to_string()))
    .collect();
    let mut want = want;
    want.sort();
    assert_eq!(hits, want);
    // Nothing in a line without indicators, and no allocation needed for it.
    assert_eq!(
        trawl::scan_text(&set, b"GET /index.html HTTP/1.1 200 from 192.0.2.1").count(),
        0
    );
}
