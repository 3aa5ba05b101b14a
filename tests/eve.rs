//! EVE alerts: every alert `scan pcap` writes on the bundled captures (and one from a live
//! interface) validates against Suricata 8.0's `etc/schema.json`; `signature_id` is the same
//! for an indicator across recompiles and when a feed is added before it; `community_id`
//! agrees with the reference implementation (pycommunityid) on every alerted flow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::Value as Json;
use trawl::Exclusions;
use trawl::Field;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{CompileOptions, SetBuilder};
use trawl::{
    EcsJsonLines, EveJsonLines, EveOptions, FlowInfo, Hit, HitSink, ObservedIn, Origin, Seen,
    Sensor, SetVersion, SidRange, Transport,
};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{Progress, ScanOptions};

/// The crafted capture's indicators (as in `tests/scan_pcap.rs`), one per line of a CSV feed.
const CRAFTED: &str = "value,kind\n\
evil.example,domain\n\
evil-cdn.example,domain\n\
198.51.100.66,ipv4\n\
phish.example,domain\n\
http://malware.example/payload.exe,url\n\
EvilBot/1.0,http-request\n\
ceo-fraud@bad-actor.example,email\n\
203.0.113.7,ipv4\n\
2001:db8:bad::/48,ipv6\n";

/// Every address, and a few top-level domains: every packet of every bundled capture alerts,
/// so that every protocol and link type they hold is rendered.
const EVERYTHING: &str = "value,kind\n\
0.0.0.0/1,ipv4\n\
128.0.0.0/1,ipv4\n\
::/1,ipv6\n\
8000::/1,ipv6\n\
com,domain\n\
org,domain\n\
net,domain\n\
arpa,domain\n";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles the CSV feeds `feeds` (in that order) into `dir/NAME.tset`.
fn set_file(dir: &Path, name: &str, feeds: &[&str]) -> PathBuf {
    let mut specs = Vec::new();
    for (i, text) in feeds.iter().enumerate() {
        let p = dir.join(format!("{name}-{i}.csv"));
        std::fs::write(&p, text).unwrap();
        specs.push(FeedSpec::new(p));
    }
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    ingest_feeds(&specs, &mut b).unwrap();
    let out = dir.join(format!("{name}.tset"));
    b.write(&out).unwrap();
    out
}

/// Every capture under `testdata/pcaps`, sorted.
fn bundled_captures() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(&root().join("testdata/pcaps"), &mut v);
    v.sort();
    v
}

/// Scans `captures` against `set` with every hit reported, as `scan pcap --format eve` does;
/// returns the alerts.
fn scan_eve(set: &Path, captures: &[PathBuf]) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eve.json");
    let sink = EveJsonLines::with_options(
        std::fs::File::create(&out).unwrap(),
        EveOptions {
            sensor: Some("sensor-1".into()),
            ..EveOptions::default()
        },
    );
    scan_into(set, captures, sink, &out)
}

/// The same scan, written as ECS hit documents.
fn scan_ecs(set: &Path, captures: &[PathBuf]) -> Vec<Json> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hits.json");
    let sensor = Sensor {
        name: "sensor-1".into(),
        hostname: "sensor-1".into(),
    };
    let sink = EcsJsonLines::new(std::fs::File::create(&out).unwrap(), sensor);
    scan_into(set, captures, sink, &out)
}

fn scan_into<S: HitSink<memmap2::Mmap> + Send>(
    set: &Path,
    captures: &[PathBuf],
    sink: S,
    out: &Path,
) -> Vec<Json> {
    let opts = ScanOptions {
        workers: 2,
        dedup_window: Duration::ZERO,
        ..ScanOptions::default()
    };
    let stop = AtomicBool::new(false);
    trawl::scan_files(
        set,
        captures,
        &opts,
        sink,
        &stop,
        None,
        &Progress::default(),
    )
    .unwrap();
    std::fs::read_to_string(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("testdata/eve/schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

/// Validates `alert` against the schema, and checks what the schema leaves open but Suricata's
/// consumers rely on: rule metadata is arrays of strings.
fn check(schema: &jsonschema::Validator, alert: &Json) {
    let errors: Vec<String> = schema.iter_errors(alert).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{alert}\n{errors:#?}");
    let metadata = alert["alert"]["metadata"].as_object().unwrap();
    for (k, v) in metadata {
        let strings = v.as_array().is_some_and(|a| a.iter().all(Json::is_string));
        assert!(strings, "metadata {k} is not an array of strings: {alert}");
    }
}

#[test]
fn every_alert_of_the_bundled_captures_validates() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), "all", &[CRAFTED, EVERYTHING]);
    let captures = bundled_captures();
    let alerts = scan_eve(&set, &captures);
    let schema = schema();
    for a in &alerts {
        check(&schema, a);
        assert_eq!(a["host"], "sensor-1");
        assert!(a["pcap_cnt"].as_u64().is_some_and(|n| n >= 1), "{a}");
        assert!(a.get("in_iface").is_none());
        let sid = a["alert"]["signature_id"].as_u64().unwrap();
        assert!((1_000_000_000..2_000_000_000).contains(&sid), "{a}");
    }
    // The run covered what EVE alerts can hold: every application protocol, both IP versions,
    // ports and no ports, a Community ID and its absence (ICMP).
    let has = |f: &dyn Fn(&Json) -> bool| alerts.iter().any(f);
    for proto in ["dns", "tls", "http", "smtp"] {
        assert!(has(&|a| a["app_proto"] == proto), "no {proto} alert");
    }
    assert!(has(&|a| a.get("app_proto").is_none()));
    assert!(has(&|a| a["ip_v"] == 6) && has(&|a| a["ip_v"] == 4));
    assert!(has(
        &|a| a["proto"] == "IPv6-ICMP" && a.get("community_id").is_none()
    ));
    assert!(has(&|a| a["proto"] == "ICMP" && a.get("src_port").is_none()));
    assert!(has(&|a| a["community_id"].is_string()));
    // A packet taken out of two tunnels (VXLAN in GRE over IPv6) names the outermost endpoints.
    assert!(has(&|a| a["tunnel"]["depth"] == 2
        && a["tunnel"]["proto"] == "GRE"
        && a["tunnel"]["src_ip"] == "2001:db8:ffff::1"));
    let files: std::collections::BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["capture_file"].as_str().unwrap())
        .collect();
    assert!(files.len() >= 10, "{files:?}");
}

#[test]
fn a_live_alert_validates() {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let feed = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(feed.path(), CRAFTED).unwrap();
    ingest_feeds(&[FeedSpec::new(feed.path())], &mut b).unwrap();
    let set =
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap();
    let matched = set.match_domain("www.evil.example").unwrap();
    let hit = Hit {
        set: Arc::new(SetVersion { set, generation: 2 }),
        matched,
        observed: "www.evil.example".into(),
        field: ObservedIn::Packet(Field::DnsQuestion),
        seen: Seen::Packet {
            ts: (1_767_225_600, 5_000),
            origin: Origin::Interface("eth0".into()),
            flow: FlowInfo {
                src: "2001:db8::10".parse().unwrap(),
                dst: "2001:db8::53".parse().unwrap(),
                src_port: Some(40000),
                dst_port: Some(53),
                transport: Transport::Udp,
            },
            vlans: [0, 0],
            tunnel: None,
        },
        file: None,
    };
    let mut sink = EveJsonLines::with_options(
        Vec::new(),
        EveOptions {
            sensor: Some("edge-1".into()),
            sids: SidRange::new(3_900_000_000, 1000).unwrap(),
        },
    );
    sink.write(&hit).unwrap();
    let a: Json = serde_json::from_slice(&sink.into_inner()).unwrap();
    let schema = schema();
    check(&schema, &a);
    // The schema is not vacuous: what trawl wrote before (null ports) and unknown fields fail.
    for (k, v) in [("src_port", Json::Null), ("sensor", "edge-1".into())] {
        let mut bad = a.clone();
        bad[k] = v;
        assert!(!schema.is_valid(&bad), "{bad}");
    }
    assert_eq!(a["in_iface"], "eth0");
    assert_eq!(a["host"], "edge-1");
    assert!(a.get("capture_file").is_none() && a.get("pcap_cnt").is_none());
    assert_eq!(a["timestamp"], "2026-01-01T00:00:00.000005+0000");
    assert_eq!(a["app_proto"], "dns");
    let sid = a["alert"]["signature_id"].as_u64().unwrap();
    assert!((3_900_000_000..3_900_001_000).contains(&sid));
    assert_eq!(a["alert"]["metadata"]["set_generation"][0], "2");
    assert_eq!(a["alert"]["metadata"]["indicator_value"][0], "evil.example");
}

/// signature_id per indicator value, from alerts.
fn sids(alerts: &[Json]) -> std::collections::BTreeMap<String, u64> {
    alerts
        .iter()
        .map(|a| {
            let m = &a["alert"]["metadata"];
            (
                format!(
                    "{} {}",
                    m["indicator_type"][0].as_str().unwrap(),
                    m["indicator_value"][0].as_str().unwrap()
                ),
                a["alert"]["signature_id"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn sids_survive_recompiles_and_feeds_added_before() {
    let dir = tempfile::tempdir().unwrap();
    let crafted = vec![root().join("testdata/pcaps/crafted.pcap")];
    // A feed that sorts before the crafted one's indicators of every kind.
    let earlier = "value,kind\n\
        0.0.0.1,ipv4\n\
        aaa.example,domain\n\
        aaa@aaa.example,email\n\
        http://aaa.example/,url\n\
        ::1,ipv6\n";
    let one = set_file(dir.path(), "one", &[CRAFTED]);
    let again = set_file(dir.path(), "again", &[CRAFTED]);
    let grown = set_file(dir.path(), "grown", &[earlier, CRAFTED]);
    // The indicators did move in the set: a sid that was the position would have changed.
    let pos = |p: &Path| {
        let s = IndicatorSet::open(p).unwrap();
        s.match_email("ceo-fraud@bad-actor.example")
            .unwrap()
            .indicator
    };
    assert_ne!(pos(&one), pos(&grown));
    let (a, b, c) = (
        sids(&scan_eve(&one, &crafted)),
        sids(&scan_eve(&again, &crafted)),
        sids(&scan_eve(&grown, &crafted)),
    );
    assert!(a.len() >= 8, "{a:?}");
    assert!(a.contains_key("email ceo-fraud@bad-actor.example"), "{a:?}");
    assert_eq!(a, b);
    assert_eq!(a, c);
}

/// Whether the reference Community ID implementation (the `communityid` Python package) is
/// there; a missing one fails under TRAWL_REQUIRE_TOOLS and skips otherwise.
fn have_pycommunityid() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import communityid"])
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "the communityid Python package is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: the communityid Python package is not installed");
    }
    found
}

#[test]
fn community_ids_agree_with_pycommunityid() {
    if !have_pycommunityid() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), "all", &[CRAFTED, EVERYTHING]);
    let alerts = scan_eve(&set, &bundled_captures());
    let proto_number = |p: &str| match p {
        "TCP" => 6,
        "UDP" => 17,
        "SCTP" => 132,
        "IP-in-IP" => 4,
        "IPv6" => 41,
        "GRE" => 47,
        n => n.parse::<u8>().unwrap(),
    };
    let mut lines = String::new();
    let mut ours = Vec::new();
    for a in alerts.iter().filter(|a| a["community_id"].is_string()) {
        let port = |k: &str| a.get(k).map_or("-".to_string(), |p| p.to_string());
        lines.push_str(&format!(
            "{} {} {} {} {}\n",
            proto_number(a["proto"].as_str().unwrap()),
            a["src_ip"].as_str().unwrap(),
            a["dest_ip"].as_str().unwrap(),
            port("src_port"),
            port("dest_port"),
        ));
        ours.push(a["community_id"].as_str().unwrap().to_string());
    }
    assert!(ours.len() >= 20, "{}", ours.len());
    let mut py = Command::new("python3")
        .args([
            "-c",
            "import sys, communityid\n\
             c = communityid.CommunityID()\n\
             for line in sys.stdin:\n\
             \x20   p, s, d, sp, dp = line.split()\n\
             \x20   ports = (None, None) if sp == '-' else (int(sp), int(dp))\n\
             \x20   print(c.calc(communityid.FlowTuple(int(p), s, d, *ports)))\n",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    py.stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(out.status.success());
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ours, theirs, "{lines}");
}

#[test]
fn ecs_hits_carry_the_community_id_of_their_eve_alert() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), "all", &[CRAFTED, EVERYTHING]);
    let captures = bundled_captures();
    let alerts = scan_eve(&set, &captures);
    let docs = scan_ecs(&set, &captures);
    assert_eq!(alerts.len(), docs.len());
    // The same hits per capture: compare packet by packet (a frame holds one packet per
    // tunnel layer).
    let key = |file: &Json, frame: &Json, src: &Json, depth: &Json| {
        format!("{file}#{frame}#{src}#{}", depth.as_u64().unwrap_or(0))
    };
    let eve: std::collections::BTreeMap<String, Json> = alerts
        .iter()
        .map(|a| {
            (
                key(
                    &a["capture_file"],
                    &a["pcap_cnt"],
                    &a["src_ip"],
                    &a["tunnel"]["depth"],
                ),
                a["community_id"].clone(),
            )
        })
        .collect();
    let mut with_id = 0;
    for d in &docs {
        let k = key(
            &d["trawl"]["pcap"]["file"],
            &d["trawl"]["pcap"]["frame"],
            &d["source"]["ip"],
            &d["trawl"]["tunnel"]["depth"],
        );
        let ecs = &d["network"]["community_id"];
        assert_eq!(Some(ecs), eve.get(&k), "{d}");
        with_id += usize::from(ecs.is_string());
    }
    assert!(with_id > 10, "only {with_id} hits with a Community ID");
}
