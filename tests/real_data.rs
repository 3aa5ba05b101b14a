//! Real public blocklists from ../shared/data (see its PROVENANCE.md): compile them with
//! warninglists, verify the set, and check lookups against the source files line by line.
//! Skipped, with the reason printed, when ../shared is not present.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use trawl::compile::exclude::Exclusions;
use trawl::compile::{CompileOptions, FeedSpec, SetBuilder, ingest_feeds};
use trawl::set::IndicatorSet;

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
