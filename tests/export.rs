//! Exports: the set's address intervals against its own lookups (property tests, with nested
//! and expired prefixes and warninglist holes), and every export format checked by the tool
//! that reads it where this machine has it (`nft -c`, `ipset restore` in a network namespace)
//! or by parsing it back.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::Command;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use common::{NOW, build};
use trawl::Exclusions;
use trawl::exports;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{Meta, Value};

fn item(net: IpNet, expired: bool) -> (trawl::normalize::Normalized, Meta) {
    let meta = Meta {
        source: "feed".into(),
        valid_from: expired.then_some(NOW - 100),
        valid_until: expired.then_some(NOW - 1),
        ..Meta::default()
    };
    (Value::Net(net).into(), meta)
}

fn v4_net() -> impl Strategy<Value = Ipv4Net> {
    (
        prop::sample::select(vec![10u32, 192, 203]),
        any::<u32>(),
        4u8..=32,
    )
        .prop_map(|(top, low, len)| {
            Ipv4Net::new(Ipv4Addr::from(top << 24 | low >> 8), len)
                .unwrap()
                .trunc()
        })
}

fn v6_net() -> impl Strategy<Value = Ipv6Net> {
    (
        prop::sample::select(vec![0x2001_0db8u128, 0x2a00_1450]),
        any::<u128>(),
        16u8..=128,
    )
        .prop_map(|(top, low, len)| {
            Ipv6Net::new(Ipv6Addr::from(top << 96 | low >> 32), len)
                .unwrap()
                .trunc()
        })
}

/// Checks the intervals of one family against the set's lookups at every interval edge and
/// at `queries`, and the exported CIDRs against the intervals.
fn check_family<A: Copy + Ord + Into<IpAddr> + std::fmt::Debug>(
    set: &IndicatorSet<AlignedBytes>,
    ranges: &[(A, A, u32)],
    cidrs: &[IpNet],
    queries: &[A],
) -> Result<(), TestCaseError> {
    for w in ranges.windows(2) {
        prop_assert!(
            w[0].1 < w[1].0,
            "intervals overlap or are out of order: {:?}",
            w
        );
    }
    for &(a, b, r) in ranges {
        prop_assert!(a <= b);
        for x in [a, b] {
            let hit = set.match_ip(x.into()).map(|h| h.indicator);
            prop_assert_eq!(hit, Some(r), "{:?} in {:?}..{:?}", x, a, b);
        }
    }
    for &q in queries {
        let i = ranges.partition_point(|&(_, b, _)| b < q);
        let covered = ranges
            .get(i)
            .filter(|&&(a, _, _)| a <= q)
            .map(|&(_, _, r)| r);
        let hit = set.match_ip(q.into()).map(|h| h.indicator);
        prop_assert_eq!(hit, covered, "query {:?}", q);
        let in_cidr = cidrs.iter().any(|n| n.contains(&q.into()));
        prop_assert_eq!(in_cidr, hit.is_some(), "cidrs at {:?}", q);
    }
    // The CIDRs are disjoint and merged: no two of them could be joined.
    prop_assert_eq!(IpNet::aggregate(&cidrs.to_vec()).len(), cidrs.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn ipv4_ranges_answer_as_lookups_do(
        nets in prop::collection::vec((v4_net(), prop::bool::weighted(0.15)), 1..120),
        holes in prop::collection::vec(v4_net(), 0..6),
        random in prop::collection::vec(any::<u32>(), 200),
    ) {
        let mut ex = Exclusions::new();
        if !holes.is_empty() {
            let list: Vec<String> = holes.iter().map(|h| h.to_string()).collect();
            ex.add_misp(&serde_json::json!({"name": "wl", "type": "cidr", "list": list}), "wl").unwrap();
        }
        let items: Vec<_> = nets.iter().map(|(n, e)| item(IpNet::V4(*n), *e)).collect();
        let set = build(&items, ex);
        let ranges: Vec<(Ipv4Addr, Ipv4Addr, u32)> = set.ipv4_ranges().collect();
        let cidrs: Vec<IpNet> = exports::ipv4_cidrs(&set).into_iter().map(IpNet::V4).collect();
        let mut queries: Vec<Ipv4Addr> = random.iter().map(|&a| Ipv4Addr::from(a)).collect();
        for n in nets.iter().map(|(n, _)| n).chain(&holes) {
            let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
            queries.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1)].map(Ipv4Addr::from));
        }
        check_family(&set, &ranges, &cidrs, &queries)?;
    }

    #[test]
    fn ipv6_ranges_answer_as_lookups_do(
        nets in prop::collection::vec((v6_net(), prop::bool::weighted(0.15)), 1..80),
        random in prop::collection::vec(any::<u128>(), 100),
    ) {
        let items: Vec<_> = nets.iter().map(|(n, e)| item(IpNet::V6(*n), *e)).collect();
        let set = build(&items, Exclusions::new());
        let ranges: Vec<(Ipv6Addr, Ipv6Addr, u32)> = set.ipv6_ranges().collect();
        let cidrs: Vec<IpNet> = exports::ipv6_cidrs(&set).into_iter().map(IpNet::V6).collect();
        let mut queries: Vec<Ipv6Addr> = random.iter().map(|&a| Ipv6Addr::from(a)).collect();
        for (n, _) in &nets {
            let (a, b) = (u128::from(n.network()), u128::from(n.broadcast()));
            queries.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1)].map(Ipv6Addr::from));
        }
        // IPv4-mapped queries are looked up as IPv4: leave them out.
        queries.retain(|q| q.to_ipv4_mapped().is_none());
        check_family(&set, &ranges, &cidrs, &queries)?;
    }
}

/// The bundled feeds compiled with the RFC 1918 warninglist, as the README's first command
/// does.
fn bundled() -> (tempfile::TempDir, IndicatorSet<memmap2::Mmap>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("intel.tset");
    let mut ex = Exclusions::new();
    ex.load(&root.join("testdata/warninglists/rfc1918.json"))
        .unwrap();
    let mut b = trawl::SetBuilder::new(Default::default(), ex);
    let feeds = ["blocklist.txt", "intel.csv"]
        .map(|f| trawl::FeedSpec::new(root.join("testdata/feeds").join(f)));
    trawl::ingest_feeds(&feeds, &mut b).unwrap();
    b.write(&path).unwrap();
    let set = IndicatorSet::open(&path).unwrap();
    (dir, set)
}

/// Whether the external tools must be there (CI sets this: a missing tool fails the test
/// instead of skipping it).
fn required() -> bool {
    std::env::var_os("TRAWL_REQUIRE_TOOLS").is_some()
}

fn have(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !required(),
            "{tool} is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: {tool} not installed");
    }
    found
}

#[test]
fn nftables_script_is_accepted_by_nft() {
    let (dir, set) = bundled();
    let mut out = Vec::new();
    let report = exports::nft::write(&set, "trawl_test", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("type ipv4_addr") && text.contains("2001:db8:bad::/48"),
        "{text}"
    );
    assert_eq!(report.written["ipv6 cidrs"], 1);
    if !have("nft") {
        return;
    }
    let path = dir.path().join("trawl.nft");
    std::fs::write(&path, &text).unwrap();
    let o = Command::new("nft")
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "nft -c: {}\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn ipset_script_restores_in_a_network_namespace() {
    let (_dir, set) = bundled();
    let mut out = Vec::new();
    exports::ipset::write(&set, "trawltest", &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let adds: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("add trawltest-v4.new "))
        .collect();
    let want: Vec<String> = exports::ipv4_cidrs(&set)
        .iter()
        .map(|n| format!("add trawltest-v4.new {n}"))
        .collect();
    assert_eq!(adds, want);
    let root = is_root();
    if !have("ipset") || !root {
        assert!(
            !required() || root,
            "ipset restore needs root under TRAWL_REQUIRE_TOOLS"
        );
        return;
    }
    let ns = format!("trawl-export-{}", std::process::id());
    assert!(
        Command::new("ip")
            .args(["netns", "add", &ns])
            .status()
            .unwrap()
            .success()
    );
    // Restoring twice (a reload) must work too.
    let ok = ipset_restore(&ns, &text);
    let ok_again = ipset_restore(&ns, &text);
    let list = Command::new("ip")
        .args(["netns", "exec", &ns, "ipset", "list", "trawltest-v4"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    let _ = Command::new("ip")
        .args(["netns", "exec", &ns, "ipset", "destroy"])
        .status();
    let _ = Command::new("ip").args(["netns", "del", &ns]).status();
    assert!(ok && ok_again, "ipset restore failed");
    for cidr in exports::ipv4_cidrs(&set) {
        let member = if cidr.prefix_len() == 32 {
            cidr.addr().to_string()
        } else {
            cidr.to_string()
        };
        assert!(
            list.lines().any(|l| l.trim() == member),
            "{member} missing from\n{list}"
        );
    }
}

/// Runs `ipset restore` with `script` on stdin inside the network namespace `ns`.
fn ipset_restore(ns: &str, script: &str) -> bool {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["netns", "exec", ns, "ipset", "restore"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    child.wait().unwrap().success()
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn zeek_intel_file_has_one_typed_line_per_indicator() {
    let (_dir, set) = bundled();
    let mut out = Vec::new();
    let report = exports::zeek::write(&set, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    assert!(
        rows.iter()
            .all(|r| r.len() == 4 && r.iter().all(|f| !f.is_empty())),
        "{text}"
    );
    let find = |v: &str| rows.iter().find(|r| r[0] == v).map(|r| (r[1], r[2]));
    assert_eq!(
        find("evil.example.com"),
        Some(("Intel::DOMAIN", "blocklist,intel"))
    );
    assert_eq!(
        find("malware.example/payload.exe"),
        Some(("Intel::URL", "blocklist"))
    );
    assert_eq!(find("203.0.113.7"), Some(("Intel::ADDR", "blocklist")));
    assert_eq!(
        find("2001:db8:bad::/48"),
        Some(("Intel::SUBNET", "blocklist"))
    );
    assert_eq!(
        find("ceo-fraud@bad-actor.example"),
        Some(("Intel::EMAIL", "blocklist"))
    );
    assert_eq!(
        find("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Some(("Intel::FILE_HASH", "blocklist"))
    );
    // What Zeek cannot express is counted, not lost silently.
    assert_eq!(report.skipped["http literals"], 1);
    assert_eq!(report.skipped["urls without http(s) scheme"], 1);
    // Every address the set matches is in a SUBNET or ADDR line, nothing else.
    let nets: Vec<IpNet> = rows
        .iter()
        .filter(|r| r[1] == "Intel::SUBNET" || r[1] == "Intel::ADDR")
        .map(|r| {
            r[0].parse::<IpNet>()
                .or_else(|_| r[0].parse::<IpAddr>().map(IpNet::from))
                .unwrap()
        })
        .collect();
    for probe in [
        "203.0.113.7",
        "203.0.113.200",
        "198.51.100.1",
        "192.0.2.99",
        "10.0.0.1",
        "192.0.2.98",
    ] {
        let ip: IpAddr = probe.parse().unwrap();
        assert_eq!(
            nets.iter().any(|n| n.contains(&ip)),
            set.match_ip(ip).is_some(),
            "{probe}"
        );
    }
}

#[test]
fn suricata_export_carries_every_kind_it_can() {
    let (dir, set) = bundled();
    let out = dir.path().join("suricata");
    let report = exports::suricata::write(&set, &out, "t", 100).unwrap();
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    // Every indicator of the kinds Suricata can match is carried; the others are counted.
    for (kind, c) in &report.coverage {
        match *kind {
            "url" | "http-request" => assert_eq!(c.exported, 0, "{kind}"),
            _ => assert_eq!(c.exported, c.in_set, "{kind}"),
        }
    }
    assert_eq!(report.coverage["ipv4"].in_set, 4);
    assert_eq!(report.skipped["urls (no whole-URL buffer)"], 3);
    // CIDRs as they are (the /22 was dropped when datasets held single addresses).
    let iprep = read("t-iprep.list");
    for line in [
        "198.51.100.0/22,1,100",
        "203.0.113.0/24,1,100",
        "192.0.2.99/32,1,100",
        "2001:db8:bad::/48,1,100",
    ] {
        assert!(iprep.lines().any(|l| l == line), "{line} in {iprep}");
    }
    assert_eq!(
        read("t-iprep-categories.txt")
            .split(',')
            .take(2)
            .collect::<Vec<_>>(),
        ["1", "t"]
    );
    let domains: serde_json::Value = serde_json::from_str(&read("t-domains-3.json")).unwrap();
    let evil = domains["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["indicator"] == "evil.example.com")
        .unwrap();
    assert_eq!(evil["sources"], serde_json::json!(["blocklist", "intel"]));
    assert!(read("t-emails.json").contains("\"ceo-fraud@bad-actor.example\""));
    assert_eq!(read("t-md5.txt").trim(), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        read("t-sha256.txt").trim(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let rules = read("t.rules");
    let sids: Vec<&str> = rules
        .lines()
        .map(|l| l.split("sid:").nth(1).unwrap().split(';').next().unwrap())
        .collect();
    assert_eq!(sids, (100..113).map(|s| s.to_string()).collect::<Vec<_>>());
    assert!(rules.contains("iprep:dst,t,>,0; flowbits:set,t.server;"));
    assert!(rules.contains("smtp.rcpt_to; to_lowercase; pcrexform:"));
    assert!(rules.contains("filesha256:t-sha256.txt;"));
    let yaml = read("t.yaml");
    let abs = std::fs::canonicalize(&out).unwrap();
    assert!(yaml.contains(&format!("default-reputation-path: \"{}\"", abs.display())));
    assert!(yaml.contains("reputation-files:\n  - t-iprep.list\n"));
}

/// A name with listed names below it at very many depths would need a rule longer than
/// Suricata reads (8 KiB, 56 buffers): that label count is left out, counted, and no rule
/// passes the limits.
#[test]
fn suricata_rule_too_long_for_suricata_is_counted_not_written() {
    let mut names = vec!["p.example".to_string(), "q.example".to_string()];
    for depth in 1..=90 {
        names.push(format!("{}p.example", "l.".repeat(depth)));
    }
    let items: Vec<_> = names
        .iter()
        .map(|d| (Value::Domain(d.clone()).into(), Meta::from_source("feed")))
        .collect();
    let set = build(&items, Exclusions::new());
    let dir = tempfile::tempdir().unwrap();
    let report = exports::suricata::write(&set, dir.path(), "t", 1).unwrap();
    let rules = std::fs::read_to_string(dir.path().join("t.rules")).unwrap();
    assert!(
        rules
            .lines()
            .all(|l| l.len() < 8192 && l.matches("pcrexform").count() <= 56)
    );
    // The short names have too many longer ones below them; the deep ones are written.
    let skipped =
        report.skipped["domains whose rule would pass Suricata's limits (8 KiB, 56 buffers)"];
    let c = report.coverage["domain"];
    assert!((2..50).contains(&skipped), "{skipped}");
    assert_eq!((c.in_set - c.exported, c.in_set), (skipped, 92));
    assert!(!rules.contains("dataset:isset,t-domains-2,"));
    assert!(rules.contains("dataset:isset,t-domains-92,"));
}

/// The name rules of the Suricata export, evaluated as Suricata evaluates them (sticky buffer,
/// `to_lowercase`, `pcrexform` leaving the buffer whole when it does not match, dataset
/// lookups), answer what trawl answers: the most specific listed suffix, exact-only names only
/// for themselves.
mod suricata_names {
    use super::*;
    use std::collections::{BTreeSet, HashMap, HashSet};

    /// One rule: its groups of (transform, dataset command, dataset) on the TLS SNI buffer.
    struct Rule {
        groups: Vec<(Option<regex::Regex>, bool, String)>,
    }

    fn rules(dir: &Path) -> (Vec<Rule>, HashMap<String, HashSet<String>>) {
        let text = std::fs::read_to_string(dir.join("t.rules")).unwrap();
        let mut sets = HashMap::new();
        let mut out = Vec::new();
        for line in text.lines().filter(|l| l.contains("tls.sni;")) {
            let body = &line[line.find('(').unwrap() + 1..line.rfind(')').unwrap()];
            let mut groups = Vec::new();
            let mut re = None;
            for kw in body.split("; ") {
                if let Some(p) = kw.strip_prefix("pcrexform:") {
                    re = Some(regex::Regex::new(p.trim_matches('"')).unwrap());
                } else if let Some(d) = kw.strip_prefix("dataset:") {
                    let f: Vec<&str> = d.split(',').collect();
                    // A dataset is loaded where it is first named with its file; later rules
                    // may name it alone.
                    match f.iter().find_map(|o| o.strip_prefix("load ")) {
                        Some(file) => {
                            let text = std::fs::read_to_string(dir.join(file)).unwrap();
                            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
                            let values = json["indicators"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|e| e["indicator"].as_str().unwrap().to_string())
                                .collect();
                            sets.insert(f[1].to_string(), values);
                        }
                        None => assert!(
                            sets.contains_key(f[1]),
                            "{} named before it is loaded",
                            f[1]
                        ),
                    }
                    groups.push((re.take(), f[0] == "isset", f[1].to_string()));
                } else {
                    assert!(
                        kw.starts_with("msg:")
                            || ["tls.sni", "to_lowercase"].contains(&kw)
                            || kw.starts_with("sid:")
                            || kw == "rev:1;",
                        "{kw}"
                    );
                }
            }
            out.push(Rule { groups });
        }
        (out, sets)
    }

    /// The indicators the rules alert with for `name`.
    fn alerts(
        rules: &[Rule],
        sets: &HashMap<String, HashSet<String>>,
        name: &str,
    ) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        'rule: for r in rules {
            let mut hit = None;
            for (re, isset, set) in &r.groups {
                let lower = name.to_ascii_lowercase();
                let buf = re
                    .as_ref()
                    .and_then(|re| re.captures(&lower))
                    .map_or(lower.clone(), |c| c[1].to_string());
                if sets[set].contains(&buf) != *isset {
                    continue 'rule;
                }
                if *isset {
                    hit = Some(buf);
                }
            }
            out.extend(hit);
        }
        out
    }

    const LABELS: [&str; 8] = ["a", "b", "evil", "example", "only", "deep", "other", "test"];

    fn listed() -> Vec<(&'static str, bool)> {
        vec![
            ("evil.example", false),
            ("a.evil.example", false),
            ("b.a.evil.example", false),
            ("deep.b.a.evil.example", true),
            ("only.evil.example", true),
            ("a.only.evil.example", false),
            ("other.test", false),
            ("a.b.other.test", true),
            ("example", false), // refused: a lone label
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn name_rules_answer_as_trawl_does(
            names in prop::collection::vec(
                (prop::collection::vec(prop::sample::select(LABELS.to_vec()), 1..7), any::<bool>(), any::<bool>()),
                64,
            )
        ) {
            let items: Vec<_> = listed()
                .into_iter()
                .filter(|(d, _)| d.contains('.'))
                .map(|(d, exact)| {
                    let meta = Meta { source: "feed".into(), exact, ..Meta::default() };
                    (Value::Domain(d.to_string()).into(), meta)
                })
                .collect();
            let set = build(&items, Exclusions::new());
            let dir = tempfile::tempdir().unwrap();
            exports::suricata::write(&set, dir.path(), "t", 1).unwrap();
            let (rules, sets) = rules(dir.path());
            let mut queries: Vec<String> = listed().iter().flat_map(|(d, _)| [d.to_string(), format!("x.{d}")]).collect();
            for (labels, upper, dot) in names {
                let mut q = labels.join(".");
                if upper { q = q.to_ascii_uppercase(); }
                if dot { q.push('.'); }
                queries.push(q);
            }
            for q in queries {
                let want: BTreeSet<String> = set
                    .match_domain(&q)
                    .map(|h| set.indicator(h.indicator).unwrap().value())
                    .into_iter()
                    .collect();
                prop_assert_eq!(alerts(&rules, &sets, &q), want, "{}", q);
            }
        }
    }
}

#[test]
fn csv_rows_carry_every_source() {
    let (_dir, set) = bundled();
    let mut out = Vec::new();
    exports::csv::write(&set, &mut out).unwrap();
    let mut r = csv::Reader::from_reader(&out[..]);
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header[..4], ["kind", "value", "source", "id"]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let evil: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[1] == "evil.example.com")
        .collect();
    assert_eq!(evil.len(), 2, "one row per source");
    let intel = evil.iter().find(|r| &r[2] == "intel").unwrap();
    assert_eq!(
        (&intel[3], &intel[4], &intel[5]),
        ("ioc-0001", "90", "amber")
    );
    assert!(rows.iter().any(|r| &r[0] == "http-request"));
}

#[test]
fn export_command_writes_each_format() {
    let (dir, _set) = bundled();
    let set = dir.path().join("intel.tset");
    let trawl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(args)
            .output()
            .unwrap()
    };
    let s = set.to_str().unwrap();
    for format in ["nftables", "ipset", "zeek-intel", "csv"] {
        let o = trawl(&["export", "-s", s, "-f", format]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!o.stdout.is_empty(), "{format}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("wrote"),
            "{format}"
        );
    }
    let out = dir.path().join("sd");
    let o = trawl(&[
        "export",
        "-s",
        s,
        "-f",
        "suricata-dataset",
        "-o",
        out.to_str().unwrap(),
    ]);
    // The old name is still accepted for the new export.
    assert_eq!(o.status.code(), Some(0));
    assert!(out.join("trawl.rules").exists() && out.join("trawl.yaml").exists());
    let o = trawl(&[
        "export",
        "-s",
        s,
        "-f",
        "suricata",
        "-o",
        out.to_str().unwrap(),
    ]);
    let report = String::from_utf8_lossy(&o.stderr);
    assert!(
        report.contains("indicators exported: domain 4 of 4,") && report.contains("url 0 of 3"),
        "{report}"
    );
    // A directory is needed for datasets; a bad name is refused.
    assert_eq!(
        trawl(&["export", "-s", s, "-f", "suricata"]).status.code(),
        Some(2)
    );
    assert_eq!(
        trawl(&["export", "-s", s, "-f", "ipset", "--name", "a b"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn stix_bundle_round_trips_through_compile_and_validates() {
    let (dir, set) = bundled();
    let mut out = Vec::new();
    let report = exports::stix::write(&set, &mut out).unwrap();
    assert_eq!(report.skipped["http literals (no STIX pattern object)"], 1);
    // The same ids on a second export.
    let mut again = Vec::new();
    exports::stix::write(&set, &mut again).unwrap();
    assert_eq!(out, again);
    let bundle = dir.path().join("export.json");
    std::fs::write(&bundle, &out).unwrap();

    // Compiled back, the bundle answers every lookup as the set does.
    let back_path = dir.path().join("back.tset");
    let mut b = trawl::SetBuilder::new(Default::default(), Exclusions::new());
    trawl::ingest_feeds(&[trawl::FeedSpec::new(&bundle)], &mut b).unwrap();
    b.write(&back_path).unwrap();
    let back = IndicatorSet::open(&back_path).unwrap();
    assert_eq!(exports::ipv4_cidrs(&back), exports::ipv4_cidrs(&set));
    assert_eq!(exports::ipv6_cidrs(&back), exports::ipv6_cidrs(&set));
    for value in [
        "www.evil.example.com",
        "cdn.partner.example",
        "phish.example.net",
        "clean.example",
        "ceo-fraud@bad-actor.example",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "d41d8cd98f00b204e9800998ecf8427e",
        "http://malware.example/payload.exe?x=1",
    ] {
        let hits = |s: &IndicatorSet<memmap2::Mmap>| {
            trawl::scan_text(s, value.as_bytes())
                .map(|h| s.indicator(h.indicator).unwrap().value())
                .collect::<Vec<_>>()
        };
        assert_eq!(hits(&back), hits(&set), "{value}");
    }
    // Provenance carried: the strictest TLP as a marking, the best score as confidence.
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let evil = doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "evil.example.com")
        .unwrap();
    assert_eq!(evil["confidence"], 90);
    assert_eq!(
        evil["object_marking_refs"][0],
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
    );
    assert_eq!(evil["pattern"], "[domain-name:value = 'evil.example.com']");

    if !have_stix2_validator() {
        return;
    }
    let o = Command::new("stix2_validator")
        .arg(&bundle)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && text.contains("STIX JSON: Valid"),
        "{text}"
    );
    assert!(!text.contains("Warning"), "{text}");
}

fn have_stix2_validator() -> bool {
    let found = Command::new("stix2_validator")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !required(),
            "stix2_validator is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: stix2_validator not installed");
    }
    found
}
