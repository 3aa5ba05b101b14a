//! Real public blocklists from ../shared/data (stamparm/ipsum, Spamhaus DROP, blocklistproject,
//! Neo23x0/signature-base hash IOCs, the Phishing.Database URL list; MISP warninglists
//! rfc1918 and tranco10k): compile them with the warninglists, verify the set, and check
//! lookups against the source files line by line.
//! Skipped, with the reason printed, when ../shared is not present.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use trawl::Exclusions;
use trawl::IndicatorSet;
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedSpec, ingest_feeds};

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.join("feeds/ipsum/ipsum.txt").exists() {
        Some(p)
    } else {
        println!(
            "skipped: {} not present (real data lives outside the repository)",
            p.display()
        );
        None
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(['#', ';']))
        .map(str::to_string)
        .collect()
}

#[test]
fn real_blocklists_compile_and_answer() {
    let Some(data) = shared() else { return };
    let feeds = data.join("feeds");
    let list = |p: &str| FeedSpec::new(feeds.join(p));
    let specs = [
        list("ipsum/ipsum.txt"),
        list("spamhaus/drop.txt"),
        list("spamhaus/dropv6.txt"),
        list("blocklistproject/phishing-nl.txt"),
        list("signature-base/hash-iocs.txt"),
        list("phishing-database/phishing-links-ACTIVE.txt"),
    ];
    let mut ex = Exclusions::new();
    let wl = data.join("goodlists/misp-warninglists");
    ex.load(&wl.join("rfc1918.json")).unwrap();
    ex.load(&wl.join("tranco10k.json")).unwrap();
    let mut b = SetBuilder::new(CompileOptions::default(), ex);
    ingest_feeds(&specs, &mut b).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("real.tset");
    let report = b.write(&path).unwrap();
    println!("{report}");
    let set = IndicatorSet::open(&path).unwrap();
    set.verify().unwrap();

    // ipsum: every address (IP<TAB>count) is in the set, from source "ipsum".
    let ipsum = lines(&feeds.join("ipsum/ipsum.txt"));
    assert_eq!(ipsum.len(), 120_430);
    for line in ipsum.iter().step_by(37) {
        let ip: IpAddr = line.split('\t').next().unwrap().parse().unwrap();
        let hit = set.match_ip(ip).unwrap_or_else(|| panic!("{ip} missing"));
        let ind = set.indicator(hit.indicator).unwrap();
        let net: ipnet::IpNet = ind.value().parse().unwrap();
        assert!(net.contains(&ip));
    }
    // Spamhaus DROP: every listed network's first and last address hit a prefix containing them.
    let mut nets = 0;
    for f in ["spamhaus/drop.txt", "spamhaus/dropv6.txt"] {
        for line in lines(&feeds.join(f)) {
            let net: ipnet::IpNet = line.split(';').next().unwrap().trim().parse().unwrap();
            for addr in [net.network(), net.broadcast()] {
                let hit = set
                    .match_ip(addr)
                    .unwrap_or_else(|| panic!("{addr} of {net} missing"));
                let got: ipnet::IpNet = set
                    .indicator(hit.indicator)
                    .unwrap()
                    .value()
                    .parse()
                    .unwrap();
                assert!(got.contains(&addr));
            }
            nets += 1;
        }
    }
    assert_eq!(nets, 1699 + 91);
    assert_eq!(report.indicators["ipv6"], 91);
    // Phishing domains: subdomains of listed names hit, unless a warninglist suppressed them.
    let suppressed = report.suppressed.values().map(|t| t.count).sum::<u64>();
    assert!(
        suppressed > 0,
        "tranco10k suppresses some phishing hosts on top sites"
    );
    let mut checked = 0;
    for d in lines(&feeds.join("blocklistproject/phishing-nl.txt"))
        .iter()
        .step_by(101)
    {
        let Ok(canon) = trawl::normalize::domain(d) else {
            continue;
        };
        if let Some(hit) = set.match_domain(&format!("login.{canon}")) {
            let v = set.indicator(hit.indicator).unwrap().value();
            assert!(
                canon == v || canon.ends_with(&format!(".{v}")),
                "{canon} matched {v}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1500, "{checked}");
    assert!(set.match_domain("www.google.com").is_none());
    // signature-base hashes: counts per kind and lookups by hex.
    let hashes: HashSet<String> = lines(&feeds.join("signature-base/hash-iocs.txt"))
        .iter()
        .map(|l| l.split(';').next().unwrap().trim().to_lowercase())
        .collect();
    for h in &hashes {
        assert!(set.match_hash_hex(h.as_bytes()).is_some(), "{h}");
    }
    assert_eq!(
        report.indicators["md5"] + report.indicators["sha1"] + report.indicators["sha256"],
        hashes.len() as u64
    );
    // Phishing URLs: exact lookups of listed URLs hit.
    let urls = lines(&feeds.join("phishing-database/phishing-links-ACTIVE.txt"));
    let mut hits = 0;
    for u in urls.iter().step_by(53) {
        if trawl::normalize::url(u).is_ok() && set.match_url_exact(u).is_some() {
            hits += 1;
        }
    }
    assert!(hits > 600, "{hits}");
}

/// 10,000 real Apache access-log lines (elastic/examples) scanned against the real ipsum
/// blocklist: the hits are exactly the listed IPv4 literals found by an independent regex,
/// with their line numbers and byte offsets.
#[test]
fn real_access_log_against_ipsum() {
    use std::sync::atomic::AtomicBool;
    use trawl::{LogInput, LogOptions, scan_logs};

    let Some(data) = shared() else { return };
    let log = data.join("logs/elastic-examples/apache_access_combined.log");
    let ipsum = data.join("feeds/ipsum/ipsum.txt");
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    ingest_feeds(&[FeedSpec::new(&ipsum)], &mut b).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ipsum.tset");
    b.write(&path).unwrap();
    let set = IndicatorSet::open(&path).unwrap();
    let listed: HashSet<String> = lines(&ipsum)
        .iter()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();

    // The oracle: dotted quads not inside longer numbers, listed in ipsum.
    let quad =
        regex::Regex::new(r"(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:$|[^0-9.])").unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut expected = Vec::new();
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        for c in quad.captures_iter(line) {
            let m = c.get(1).unwrap();
            let canonical = m.as_str().parse::<IpAddr>().map(|a| a.to_string());
            if canonical.is_ok_and(|a| a == m.as_str() && listed.contains(&a)) {
                expected.push((
                    i as u64 + 1,
                    offset,
                    m.start() as u64,
                    m.as_str().to_string(),
                ));
            }
        }
        offset += line.len() as u64;
    }
    assert!(
        expected.len() >= 4,
        "the fixture should hold listed clients: {expected:?}"
    );

    let opts = LogOptions {
        workers: 2,
        chunk_size: 64 << 10,
        ..LogOptions::default()
    };
    let mut out = Vec::new();
    let outcome = scan_logs(
        &set,
        &[LogInput::Path(log)],
        &opts,
        &mut out,
        &AtomicBool::new(false),
    )
    .unwrap();
    let got: Vec<(u64, u64, u64, String)> = out
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            let e = &v["threat"]["enrichments"][0];
            (
                v["trawl"]["line"].as_u64().unwrap(),
                v["trawl"]["offset"].as_u64().unwrap(),
                v["trawl"]["start"].as_u64().unwrap(),
                e["matched"]["atomic"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    let total = outcome.total();
    assert_eq!(total.lines, 10_000);
    assert_eq!(total.hits, expected.len() as u64);
    assert!(total.errors.is_empty());
}
