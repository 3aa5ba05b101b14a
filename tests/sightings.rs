//! `trawl sightings` and `trawl::sightings` on trawl's real output: the set is compiled from
//! `testdata/sightings/` (a STIX bundle with every TLP marking, a plain CSV feed, a CSV feed
//! with MISP-style uuids), hits come from the packet engine on `testdata/pcaps/crafted.pcap`
//! (ECS and EVE) and from the log engine (hits and `--enrich`); then exact counts, first and
//! last seen, references and markings; nothing observed or identifying without the flags;
//! malformed lines counted with their place; windows; deterministic ids; the CLI; and
//! `stix2-validator` on the output (required under CI: `.ci/run` sets `TRAWL_REQUIRE_TOOLS`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::{Value as Json, json};
use trawl::AlignedBytes;
use trawl::Exclusions;
use trawl::LogFormat;
use trawl::sightings::{
    Aggregator, Bundle, BundleOptions, Identity, NotSightable, ReadReport, Timestamp, TlpVersion,
    Window, read_hits,
};
use trawl::{CompileOptions, SetBuilder};
use trawl::{EcsJsonLines, EveJsonLines};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{IndicatorSet, Tlp};
use trawl::{LogInput, LogOptions, OutputMode, scan_logs};
use trawl::{Progress, ScanOptions};

const A1: &str = "indicator--a1000000-0000-4000-8000-000000000001"; // evil.example, GREEN
const A2: &str = "indicator--a2000000-0000-4000-8000-000000000002"; // 203.0.113.7, AMBER (1.0)
const A3: &str = "indicator--a3000000-0000-4000-8000-000000000003"; // payload URL, RED
const A4: &str = "indicator--a4000000-0000-4000-8000-000000000004"; // email, unmarked
const A5: &str = "indicator--a5000000-0000-4000-8000-000000000005"; // CDN OR address, WHITE
const A6: &str = "indicator--a6000000-0000-4000-8000-000000000006"; // phish.example, AMBER+STRICT
const A7: &str = "indicator--a7000000-0000-4000-8000-000000000007"; // SHA-256, GREEN

const SHA256: &str = "4bf1c2d5e7a1b6f3c0d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7";

/// TLP 2.0 marking-definition ids (OASIS's TLP 2.0 extension for STIX 2.1,
/// `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`).
const TLP2_CLEAR: &str = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const TLP2_GREEN: &str = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const TLP2_AMBER: &str = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
/// TLP 1.0 marking-definition ids (STIX 2.1 §7.2.1.4).
const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const TLP1_GREEN: &str = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const TLP1_AMBER: &str = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82";

/// The crafted capture's first frame: 2026-01-01T00:00:00Z; frame n is n-1 ms later, frame 14
/// ten seconds later.
const T0: i64 = 1_767_225_600;

/// A fixed report time, 2026-03-01T00:00:00Z.
fn report_time() -> Timestamp {
    Timestamp::from_unix(1_772_323_200, 0)
}

fn at_ms(ms: i64) -> String {
    Timestamp::from_micros(T0 * 1_000_000 + ms * 1000).rfc3339_micros()
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `testdata/sightings/` compiled into `dir/intel.tset`.
fn set_file(dir: &Path) -> PathBuf {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let feeds: Vec<FeedSpec> = ["intel.json", "plain.csv", "misp.csv"]
        .iter()
        .map(|f| FeedSpec::new(fixture("testdata/sightings").join(f)))
        .collect();
    ingest_feeds(&feeds, &mut b).unwrap();
    let out = dir.join("intel.tset");
    b.write(&out).unwrap();
    out
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Ecs,
    Eve,
}

/// Scans the crafted capture with every hit reported (no deduplication), writing the hits as
/// `scan pcap` does; returns the hits file.
fn packet_hits(dir: &Path, set: &Path, format: Format) -> PathBuf {
    let out = dir.join(match format {
        Format::Ecs => "hits.jsonl",
        Format::Eve => "hits.eve.json",
    });
    let file = File::create(&out).unwrap();
    let opts = ScanOptions {
        workers: 2,
        dedup_window: Duration::ZERO,
        ..ScanOptions::default()
    };
    let pcap = vec![fixture("testdata/pcaps/crafted.pcap")];
    let (stop, progress) = (AtomicBool::new(false), Progress::default());
    let outcome = match format {
        Format::Ecs => trawl::scan_files(
            set,
            &pcap,
            &opts,
            EcsJsonLines::new(file, trawl::Sensor::default()),
            &stop,
            None,
            &progress,
        ),
        Format::Eve => trawl::scan_files(
            set,
            &pcap,
            &opts,
            EveJsonLines::new(file),
            &stop,
            None,
            &progress,
        ),
    }
    .unwrap();
    assert_eq!(outcome.stats.hits, 13);
    out
}

/// Reads hit files into an aggregator and resolves it against the set.
fn aggregate(
    set: &Path,
    files: &[&Path],
    window: Window,
    keep_observed: bool,
) -> (Aggregator, ReadReport, BTreeMap<String, u64>) {
    let set = IndicatorSet::open(set).unwrap();
    let mut agg = Aggregator::new(window, keep_observed);
    let mut report = ReadReport::default();
    for f in files {
        let input = BufReader::new(File::open(f).unwrap());
        let name = f.file_name().unwrap().to_string_lossy();
        read_hits(input, &name, Some(&set), &mut agg, &mut report).unwrap();
    }
    let dropped = agg.resolve(&set);
    (agg, report, dropped)
}

fn options() -> BundleOptions {
    BundleOptions {
        bundle_id: Some(uuid_for_tests()),
        ..BundleOptions::new(report_time())
    }
}

fn uuid_for_tests() -> uuid::Uuid {
    uuid::Uuid::from_u128(0x2f0e1d6c_5b4a_4938_8271_605f4e3d2c1b)
}

fn objects<'a>(b: &'a Bundle, ty: &str) -> Vec<&'a Json> {
    b.json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == ty)
        .collect()
}

/// (indicator, count, first_seen, last_seen, markings) of every sighting.
type Row = (String, u64, String, String, Vec<String>);

fn rows(b: &Bundle) -> Vec<Row> {
    objects(b, "sighting")
        .iter()
        .map(|s| {
            let marks = s["object_marking_refs"]
                .as_array()
                .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            (
                s["sighting_of_ref"].as_str().unwrap().to_string(),
                s["count"].as_u64().unwrap(),
                s["first_seen"].as_str().unwrap().to_string(),
                s["last_seen"].as_str().unwrap().to_string(),
                marks,
            )
        })
        .collect()
}

fn row(id: &str, count: u64, first_ms: i64, last_ms: i64, marks: &[&str]) -> Row {
    (
        id.to_string(),
        count,
        at_ms(first_ms),
        at_ms(last_ms),
        marks.iter().map(|m| m.to_string()).collect(),
    )
}

/// The sightings of the crafted capture: `evil.example` in frames 1 (query), 2 (the query
/// repeated in the response) and 14 (10 s later); 203.0.113.7 in frames 6, 7 and 11; the
/// email sender in frame 5; both halves of the CDN indicator in frame 2. The payload URL
/// (RED) and the phishing domain (AMBER+STRICT) are withheld.
fn expected_packet_rows() -> Vec<Row> {
    vec![
        row(A1, 3, 0, 10_000, &[TLP2_GREEN]),
        row(A2, 3, 5, 10, &[TLP2_AMBER]),
        row(A4, 1, 4, 4, &[]),
        row(A5, 2, 1, 1, &[TLP2_CLEAR]),
    ]
}

fn unsightable(r: &ReadReport) -> Vec<(String, &'static str, u64)> {
    r.unsightable
        .iter()
        .flat_map(|(src, reasons)| reasons.iter().map(move |(why, n)| (src.clone(), *why, *n)))
        .collect()
}

#[test]
fn packet_hits_aggregate_into_exact_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let (agg, report, dropped) = aggregate(&set, &[&hits], Window::default(), false);
    assert_eq!(report.lines, 13);
    assert_eq!(report.hit_records, 13);
    // Sightable hits: 3 + 3 + 1 + 2, the RED URL and the AMBER+STRICT domain.
    assert_eq!(report.hits, 11);
    assert!(report.malformed.is_empty(), "{report:?}");
    assert_eq!(
        (
            report.without_hits,
            report.not_trawl,
            report.threat_field_hits
        ),
        (0, 0, 0)
    );
    assert!(dropped.is_empty(), "{dropped:?}");
    assert_eq!(
        unsightable(&report),
        vec![
            ("intel".into(), NotSightable::NotDomainObject.reason(), 1),
            ("misp".into(), NotSightable::NotStixId.reason(), 1),
            // EvilBot/1.0 once, 203.0.113.7 three times.
            ("plain".into(), NotSightable::NoId.reason(), 4),
        ]
    );
    assert_eq!(agg.len(), 6);
    assert_eq!(agg.get(A3).unwrap().tlp, Some(Tlp::Red));
    assert_eq!(agg.get(A6).unwrap().tlp, Some(Tlp::AmberStrict));

    let b = agg.bundle(&options());
    assert_eq!(rows(&b), expected_packet_rows());
    assert_eq!((b.sightings, b.hits), (4, 9));
    assert_eq!(
        b.withheld,
        BTreeMap::from([
            (A3.to_string(), (Some(Tlp::Red), 1)),
            (A6.to_string(), (Some(Tlp::AmberStrict), 1)),
        ])
    );
    assert_eq!(b.json["type"], "bundle");
    assert_eq!(
        b.json["id"],
        format!("bundle--{}", uuid_for_tests()).as_str()
    );
    for s in objects(&b, "sighting") {
        assert_eq!(s["spec_version"], "2.1");
        assert!(s["id"].as_str().unwrap().starts_with("sighting--"));
        assert_eq!(s["modified"], "2026-03-01T00:00:00.000Z");
        // `created` is the start of the window: here the first hit, to the millisecond.
        let first = s["first_seen"].as_str().unwrap();
        assert_eq!(s["created"].as_str().unwrap(), format!("{}Z", &first[..23]));
    }
    // The marking definitions referred to are in the bundle, and only those.
    let defs: Vec<&str> = objects(&b, "marking-definition")
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(defs, vec![TLP2_CLEAR, TLP2_GREEN, TLP2_AMBER]);
    let text = b.json.to_string();
    for never in [A3, A6, "TLP:RED", "amber+strict"] {
        assert!(!text.contains(never), "{never} left");
    }
}

#[test]
fn eve_alerts_give_the_same_sightings() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Eve);
    let (agg, report, dropped) = aggregate(&set, &[&hits], Window::default(), true);
    assert!(report.malformed.is_empty(), "{report:?}");
    assert!(dropped.is_empty());
    assert_eq!(
        (report.lines, report.hit_records, report.hits),
        (13, 13, 11)
    );
    assert_eq!(unsightable(&report).len(), 3);
    let b = agg.bundle(&options());
    assert_eq!(rows(&b), expected_packet_rows());

    // The alerts carry their indicator's ids: they are read without a set, to the same hits.
    let mut no_set = Aggregator::new(Window::default(), true);
    let mut no_set_report = ReadReport::default();
    let input = BufReader::new(File::open(&hits).unwrap());
    read_hits::<_, AlignedBytes>(input, "hits", None, &mut no_set, &mut no_set_report).unwrap();
    assert!(no_set_report.malformed.is_empty(), "{no_set_report:?}");
    assert_eq!(no_set_report.hits, report.hits);

    // An EVE file read against another set is never misattributed: ids that set does not carry
    // are dropped when resolving against it.
    let other = dir.path().join("other.tset");
    let mut builder = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    ingest_feeds(
        &[FeedSpec::new(fixture("testdata/sightings/plain.csv"))],
        &mut builder,
    )
    .unwrap();
    builder.write(&other).unwrap();
    let (agg, report, dropped) = aggregate(&other, &[&hits], Window::default(), false);
    assert!(report.malformed.is_empty(), "{report:?}");
    assert!(
        dropped.contains_key(A1) && dropped.contains_key(A2),
        "{dropped:?}"
    );
    assert!(agg.get(A1).is_none() && agg.get(A2).is_none(), "{agg:?}");
}

#[test]
fn nothing_observed_or_identifying_leaves_without_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let seen_in_capture = [
        "www.evil.example",
        "edge.evil-cdn.example",
        "evil-cdn.example",
        "evil.example",
        "198.51.100.66",
        "203.0.113",
        "192.0.2.",
        "ceo-fraud",
        "bad-actor",
        "phish.example",
        "malware.example",
        "2001:db8",
        "EvilBot",
        "victim@corp.example",
        "crafted.pcap",
    ];
    let private = [
        "identity",
        "created_by_ref",
        "where_sighted_refs",
        "observed",
    ];

    // The aggregator keeps values only when asked; even then, only the flag lets them out.
    for keep in [false, true] {
        let (agg, _, _) = aggregate(&set, &[&hits], Window::default(), keep);
        let text = agg.bundle(&options()).json.to_string();
        for s in seen_in_capture.iter().chain(&private) {
            assert!(!text.contains(s), "{s:?} leaked (kept: {keep}): {text}");
        }
    }

    // With both flags: one identity, named by every sighting; one observed-data per indicator
    // and value, each referring to an SCO of the value seen.
    let (agg, _, _) = aggregate(&set, &[&hits], Window::default(), true);
    let b = agg.bundle(&BundleOptions {
        identity: Some(Identity::new("Example Org")),
        share_observed: true,
        ..options()
    });
    let ids = objects(&b, "identity");
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0]["name"], "Example Org");
    assert_eq!(ids[0]["identity_class"], "organization");
    let identity = ids[0]["id"].as_str().unwrap();
    assert_eq!(identity, Identity::new("Example Org").id());
    let by_id: BTreeMap<&str, &Json> = b.json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    let mut seen = BTreeMap::new();
    for s in objects(&b, "sighting") {
        assert_eq!(s["created_by_ref"], identity);
        assert_eq!(s["where_sighted_refs"], json!([identity]));
        let mut values = Vec::new();
        for od in s["observed_data_refs"].as_array().unwrap() {
            let od = by_id[od.as_str().unwrap()];
            assert_eq!(od["type"], "observed-data");
            assert_eq!(od["object_marking_refs"], s["object_marking_refs"]);
            assert_eq!(od["created_by_ref"], identity);
            let refs = od["object_refs"].as_array().unwrap();
            assert_eq!(refs.len(), 1);
            let sco = by_id[refs[0].as_str().unwrap()];
            values.push((
                sco["type"].as_str().unwrap().to_string(),
                sco["value"].as_str().unwrap().to_string(),
                od["number_observed"].as_u64().unwrap(),
                od["first_observed"].as_str().unwrap().to_string(),
                od["last_observed"].as_str().unwrap().to_string(),
            ));
        }
        values.sort();
        seen.insert(s["sighting_of_ref"].as_str().unwrap().to_string(), values);
    }
    let v = |ty: &str, val: &str, n, first, last| {
        (
            ty.to_string(),
            val.to_string(),
            n,
            at_ms(first),
            at_ms(last),
        )
    };
    assert_eq!(
        seen,
        BTreeMap::from([
            (
                A1.to_string(),
                vec![v("domain-name", "www.evil.example", 3, 0, 10_000)]
            ),
            (
                A2.to_string(),
                vec![v("ipv4-addr", "203.0.113.7", 3, 5, 10)]
            ),
            (
                A4.to_string(),
                vec![v("email-addr", "ceo-fraud@bad-actor.example", 1, 4, 4)]
            ),
            (
                A5.to_string(),
                vec![
                    v("domain-name", "edge.evil-cdn.example", 1, 1, 1),
                    v("ipv4-addr", "198.51.100.66", 1, 1, 1),
                ]
            ),
        ])
    );
    assert_eq!(b.observed_values, 5);
    // Still nothing of the flows: the client's address and the capture's name.
    let text = b.json.to_string();
    assert!(!text.contains("192.0.2.") && !text.contains("crafted.pcap"));
    // Withheld indicators take their observed values with them.
    assert!(!text.contains("malware.example") && !text.contains("phish.example"));
}

/// Runs the log engine over `log`, returning its output.
fn scan_log(set: &Path, log: &Path, mode: OutputMode) -> Vec<u8> {
    let set = IndicatorSet::open(set).unwrap();
    let opts = LogOptions {
        workers: 2,
        format: Some(if mode == OutputMode::Enrich {
            LogFormat::JsonLines
        } else {
            LogFormat::Plain
        }),
        mode,
        ..LogOptions::default()
    };
    let mut out = Vec::new();
    let outcome = scan_logs(
        &set,
        &[LogInput::Path(log.to_path_buf())],
        &opts,
        &mut out,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(outcome.total().hits > 0);
    out
}

#[test]
fn log_hits_aggregate_with_the_scan_time() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let log = dir.path().join("proxy.log");
    std::fs::write(
        &log,
        format!(
            "Feb  1 10:00:00 gw named: client 10.1.2.3 query www.evil.example A\n\
             Feb  1 10:00:01 gw fw: 10.1.2.3 -> 203.0.113.7:4444 allowed\n\
             Feb  1 10:00:02 gw av: {SHA256} in download from 203.0.113.7\n\
             Feb  1 10:00:03 gw proxy: nothing to see at docs.example\n"
        ),
    )
    .unwrap();
    let before = Timestamp::now();
    let out = scan_log(&set, &log, OutputMode::Hits);
    let after = Timestamp::now();
    let hits = dir.path().join("log-hits.jsonl");
    std::fs::write(&hits, &out).unwrap();
    let (agg, report, _) = aggregate(&set, &[&hits], Window::default(), true);
    assert!(report.malformed.is_empty(), "{report:?}");
    let counts: Vec<(&str, u64)> = agg.iter().map(|(id, h)| (id, h.seen.count)).collect();
    assert_eq!(counts, vec![(A1, 1), (A2, 2), (A7, 1)]);
    assert_eq!(
        unsightable(&report),
        vec![("plain".into(), NotSightable::NoId.reason(), 2)]
    );
    // `scan logs` stamps its hits with the time of the scan.
    for (_, h) in agg.iter() {
        assert!(before.micros() / 1_000_000 <= h.seen.first.micros() / 1_000_000);
        assert!(h.seen.last <= after, "{h:?}");
    }
    // The hash is shared as a file SCO with its SHA-256.
    let b = agg.bundle(&BundleOptions {
        share_observed: true,
        ..options()
    });
    let files = objects(&b, "file");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["hashes"], json!({ "SHA-256": SHA256 }));
    assert_eq!(files[0]["object_marking_refs"], json!([TLP2_GREEN]));
    let text = b.json.to_string();
    assert!(!text.contains("10.1.2.3") && !text.contains("proxy.log"));
}

#[test]
fn enriched_records_keep_their_own_time() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let log = dir.path().join("events.json");
    let foreign = "indicator--ffffffff-0000-4000-8000-00000000ffff";
    let records = [
        json!({"@timestamp": "2026-02-01T10:00:00.000Z", "dns": {"question": {"name": "www.evil.example"}}}),
        json!({"@timestamp": "2026-02-01T11:30:00.250Z", "destination": {"ip": "203.0.113.7"}}),
        json!({"@timestamp": "2026-02-01T12:00:00.000Z", "message": "nothing here"}),
        // A record another tool enriched already: its enrichment is not trawl's to sight, and
        // `scan logs` does not match the values inside it (`threat.enrichments.matched.atomic`).
        json!({"@timestamp": "2026-02-01T12:30:00.000Z", "destination": {"ip": "203.0.113.7"},
               "threat": {"enrichments": [{"indicator": {"id": [foreign], "provider": "elastic"},
                                           "matched": {"atomic": "203.0.113.7"}}]}}),
        // Suricata EVE with its own time format.
        json!({"timestamp": "2026-02-01T13:00:00.000000+0000", "event_type": "dns",
               "dns": {"rrname": "cdn.evil-cdn.example"}}),
    ];
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(&log, text).unwrap();
    let enriched = dir.path().join("enriched.jsonl");
    std::fs::write(&enriched, scan_log(&set, &log, OutputMode::Enrich)).unwrap();
    let (agg, report, dropped) = aggregate(&set, &[&enriched], Window::default(), false);
    assert!(report.malformed.is_empty(), "{report:?}");
    assert!(dropped.is_empty(), "{dropped:?}");
    assert_eq!(
        (
            report.lines,
            report.hit_records,
            report.without_hits,
            report.not_trawl
        ),
        (5, 4, 1, 1)
    );
    // `scan logs` does not match inside `threat.enrichments`, so the earlier enrichment's
    // 203.0.113.7 brings no echo hit for sightings to skip.
    assert_eq!(report.threat_field_hits, 0);
    let got: Vec<(&str, u64, String, String)> = agg
        .iter()
        .map(|(id, h)| {
            (
                id,
                h.seen.count,
                h.seen.first.to_string(),
                h.seen.last.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                A1,
                1,
                "2026-02-01T10:00:00.000000Z".into(),
                "2026-02-01T10:00:00.000000Z".into()
            ),
            (
                A2,
                2,
                "2026-02-01T11:30:00.250000Z".into(),
                "2026-02-01T12:30:00.000000Z".into()
            ),
            (
                A5,
                1,
                "2026-02-01T13:00:00.000000Z".into(),
                "2026-02-01T13:00:00.000000Z".into()
            ),
        ]
    );
}

#[test]
fn malformed_lines_are_counted_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let good = std::fs::read_to_string(&hits).unwrap();
    let first = good.lines().find(|l| l.contains(A4)).unwrap().to_string();
    let doc: Json = serde_json::from_str(&first).unwrap();
    let with = |f: &dyn Fn(&mut Json)| {
        let mut d = doc.clone();
        f(&mut d);
        d.to_string()
    };
    let mut input: Vec<u8> = Vec::new();
    for line in [
        first.clone(),                                                    // 1: good
        "{\"@timestamp\": \"2026-01-01T00:00:00Z\", \"threat\": ".into(), // 2: cut off
        "[1, 2, 3]".into(),                                               // 3
        String::new(),                                                    // 4: blank, ignored
        with(&|d| {
            d.as_object_mut().unwrap().remove("@timestamp");
        }), // 5
        with(&|d| d["@timestamp"] = json!("last tuesday")),               // 6
        with(&|d| d["@timestamp"] = json!(1_767_225_600)),                // 7
        with(&|d| d["threat"]["enrichments"] = json!({"not": "a list"})), // 8
        with(&|d| d["threat"]["enrichments"] = json!([])),                // 9
        with(&|d| d["threat"]["enrichments"] = json!(["x"])),             // 10
        // 11: an EVE alert of trawl naming an indicator the set does not have.
        json!({"timestamp": "2026-01-01T00:00:00.000000+0000", "event_type": "alert",
               "alert": {"gid": 1_000_000, "signature_id": 4_000_000,
                         "signature": "trawl domain gone.example (intel)"}})
        .to_string(),
        // 12: Suricata's own alert: not trawl's, skipped without complaint.
        json!({"timestamp": "2026-01-01T00:00:00.000000+0000", "event_type": "alert",
               "alert": {"gid": 1, "signature_id": 2_000_001, "signature": "ET POLICY"}})
        .to_string(),
        "   ".into(),  // 13: blank
        first.clone(), // 14: good
    ] {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{\"bad\": \xff\xfe}\n"); // 15: invalid UTF-8
    input.extend_from_slice(first.as_bytes()); // 16: good, without a final newline
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, &input).unwrap();

    let (agg, report, _) = aggregate(&set, &[&path], Window::default(), false);
    let malformed: Vec<(&str, u64, Vec<&str>)> = report
        .malformed
        .iter()
        .map(|(k, p)| (*k, p.count, p.places.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        malformed,
        vec![
            (
                "EVE alert names an indicator the set does not have (another set?)",
                1,
                vec!["mixed.jsonl:11"]
            ),
            ("bad timestamp", 2, vec!["mixed.jsonl:6", "mixed.jsonl:7"]),
            ("enrichment without indicator", 1, vec!["mixed.jsonl:10"]),
            ("hit without enrichments", 1, vec!["mixed.jsonl:9"]),
            ("no @timestamp or timestamp", 1, vec!["mixed.jsonl:5"]),
            ("not JSON", 2, vec!["mixed.jsonl:2", "mixed.jsonl:15"]),
            ("not a JSON object", 1, vec!["mixed.jsonl:3"]),
            (
                "threat.enrichments is not an array",
                1,
                vec!["mixed.jsonl:8"]
            ),
        ]
    );
    assert_eq!(report.lines, 16);
    assert_eq!(report.not_trawl, 1);
    assert_eq!(report.malformed_total(), 10);
    assert_eq!(agg.get(A4).unwrap().seen.count, 3, "lines 1, 14 and 16");
}

#[test]
fn window_bounds_counts_ids_and_created() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let ms = |n: i64| Timestamp::from_micros(T0 * 1_000_000 + n * 1000);
    let window = Window {
        since: Some(ms(1)),
        until: Some(ms(10)),
    };
    let (agg, report, _) = aggregate(&set, &[&hits], window, false);
    // Outside [1 ms, 10 ms): frame 1 (0 ms) and frame 14 (10 s) of evil.example, frame 11
    // (10 ms) of 203.0.113.7 with its plain-list twin.
    assert_eq!(report.outside_window, 4);
    let b = agg.bundle(&options());
    assert_eq!(
        rows(&b),
        vec![
            row(A1, 1, 1, 1, &[TLP2_GREEN]),
            row(A2, 2, 5, 6, &[TLP2_AMBER]),
            row(A4, 1, 4, 4, &[]),
            row(A5, 2, 1, 1, &[TLP2_CLEAR]),
        ]
    );
    for s in objects(&b, "sighting") {
        assert_eq!(
            s["created"], "2026-01-01T00:00:00.001Z",
            "the window's start"
        );
    }
    // Another window, other ids.
    let (open, _, _) = aggregate(&set, &[&hits], Window::default(), false);
    let open = open.bundle(&options());
    let ids = |b: &Bundle| -> Vec<String> {
        objects(b, "sighting")
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(ids(&b).iter().all(|id| !ids(&open).contains(id)));
}

#[test]
fn ids_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let all = std::fs::read_to_string(&hits).unwrap();
    let id_of = |b: &Bundle, indicator: &str| -> String {
        objects(b, "sighting")
            .iter()
            .find(|s| s["sighting_of_ref"] == indicator)
            .map(|s| s["id"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let run = |text: &str, now: Timestamp, share: bool| -> Bundle {
        let path = dir.path().join("part.jsonl");
        std::fs::write(&path, text).unwrap();
        let (agg, _, _) = aggregate(&set, &[&path], Window::default(), share);
        agg.bundle(&BundleOptions {
            identity: share.then(|| Identity::new("Example Org")),
            share_observed: share,
            now,
            bundle_id: None,
            ..options()
        })
    };
    let later = Timestamp::from_micros(report_time().micros() + 86_400_000_000);
    let ids = |b: &Bundle| -> Vec<String> {
        b.json["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Same hits, another day: the same objects, a new `modified`, a new bundle id.
    for share in [false, true] {
        let (a, b) = (run(&all, report_time(), share), run(&all, later, share));
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(a.json["id"], b.json["id"]);
        assert!(a.json["id"].as_str().unwrap().starts_with("bundle--"));
        let uuid = uuid::Uuid::parse_str(&a.json["id"].as_str().unwrap()[8..]).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        let modified = |b: &Bundle| objects(b, "sighting")[0]["modified"].clone();
        assert_eq!(modified(&a), "2026-03-01T00:00:00.000Z");
        assert_eq!(modified(&b), "2026-03-02T00:00:00.000Z");
    }
    // With a fixed bundle id and time the whole bundle is byte for byte the same.
    let fixed = |text: &str| {
        let path = dir.path().join("fixed.jsonl");
        std::fs::write(&path, text).unwrap();
        let (agg, _, _) = aggregate(&set, &[&path], Window::default(), true);
        agg.bundle(&BundleOptions {
            share_observed: true,
            ..options()
        })
        .json
        .to_string()
    };
    assert_eq!(fixed(&all), fixed(&all));
    // Input order does not matter.
    let reversed: String = all.lines().rev().map(|l| format!("{l}\n")).collect();
    assert_eq!(fixed(&all), fixed(&reversed));

    // A later report over more hits since the same first hit is a new version of the same
    // sighting; hits that start later are another sighting.
    let a1: Vec<&str> = all.lines().filter(|l| l.contains(A1)).collect();
    assert_eq!(a1.len(), 3);
    let t = |l: &str| serde_json::from_str::<Json>(l).unwrap()["@timestamp"].clone();
    let mut a1_sorted = a1.clone();
    a1_sorted.sort_by_key(|l| t(l).as_str().unwrap().to_string());
    let first_two = format!("{}\n{}\n", a1_sorted[0], a1_sorted[1]);
    let last_one = format!("{}\n", a1_sorted[2]);
    let all_a1 = run(&all, report_time(), false);
    assert_eq!(
        id_of(&run(&first_two, report_time(), false), A1),
        id_of(&all_a1, A1)
    );
    assert_ne!(
        id_of(&run(&last_one, report_time(), false), A1),
        id_of(&all_a1, A1)
    );
}

#[test]
fn tlp_ceiling_and_tlp_1_markings() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let (agg, _, _) = aggregate(&set, &[&hits], Window::default(), true);
    let b = agg.bundle(&BundleOptions {
        tlp_max: Tlp::Green,
        tlp_version: TlpVersion::V1,
        share_observed: true,
        ..options()
    });
    assert_eq!(
        rows(&b),
        vec![
            row(A1, 3, 0, 10_000, &[TLP1_GREEN]),
            row(A4, 1, 4, 4, &[]),
            row(A5, 2, 1, 1, &[TLP1_WHITE]),
        ]
    );
    assert_eq!(b.withheld.len(), 3);
    assert!(!b.json.to_string().contains("203.0.113.7"));
    let defs: Vec<(&str, &str, &str)> = objects(&b, "marking-definition")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap(),
                m["definition_type"].as_str().unwrap(),
                m["definition"]["tlp"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        defs,
        vec![(TLP1_WHITE, "tlp", "white"), (TLP1_GREEN, "tlp", "green")]
    );
    // AMBER is the ceiling: asking for more withholds AMBER+STRICT and RED all the same.
    let b = agg.bundle(&BundleOptions {
        tlp_max: Tlp::Red,
        tlp_version: TlpVersion::V1,
        ..options()
    });
    assert_eq!(b.sightings, 4);
    assert_eq!(
        b.withheld.keys().map(String::as_str).collect::<Vec<_>>(),
        vec![A3, A6]
    );
    assert_eq!(rows(&b)[1].4, vec![TLP1_AMBER.to_string()]);
}

#[test]
fn ids_missing_from_the_set_are_dropped_and_the_set_tlp_wins() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let line = std::fs::read_to_string(&hits)
        .unwrap()
        .lines()
        .find(|l| l.contains(A5))
        .unwrap()
        .to_string();
    let mut doc: Json = serde_json::from_str(&line).unwrap();
    // A hit that claims TLP:CLEAR for an indicator the set marks AMBER…
    let mut lowered = doc.clone();
    lowered["threat"]["enrichments"][0]["trawl"]["id"] = json!([A2]);
    // …and one of an indicator the set does not have (revoked since, or another set).
    let gone = "indicator--0dd00000-0000-4000-8000-000000000000";
    doc["threat"]["enrichments"][0]["trawl"]["id"] = json!([gone]);
    let path = dir.path().join("edited.jsonl");
    std::fs::write(&path, format!("{lowered}\n{doc}\n{doc}\n")).unwrap();
    let (agg, report, dropped) = aggregate(&set, &[&path], Window::default(), false);
    assert_eq!(report.hits, 3);
    assert_eq!(dropped, BTreeMap::from([(gone.to_string(), 2)]));
    assert_eq!(agg.len(), 1);
    assert_eq!(agg.get(A2).unwrap().tlp, Some(Tlp::Amber));
}

fn trawl(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run trawl");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

#[test]
fn cli_writes_the_bundle_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let (set_s, hits_s) = (set.to_str().unwrap(), hits.to_str().unwrap());
    let out = dir.path().join("sightings.json");
    let r = trawl(
        &[
            "sightings",
            "-s",
            set_s,
            hits_s,
            "-o",
            out.to_str().unwrap(),
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(r.stdout.is_empty());
    for want in [
        "13 records with hits: 11 hits of 6 indicators → 4 sightings (9 hits)",
        "withheld for their TLP: 2 indicators (2 hits)",
        A3,
        "TLP:AMBER+STRICT",
        "plain: 4 hits (no STIX id (plain-list or CSV feed))",
        "misp: 1 hit (id is not a STIX id)",
    ] {
        assert!(stderr.contains(want), "{want:?} not in:\n{stderr}");
    }
    let written = std::fs::read_to_string(&out).unwrap();
    let b: Json = serde_json::from_str(&written).unwrap();
    let n = |ty: &str| {
        b["objects"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["type"] == ty)
            .count()
    };
    assert_eq!(n("sighting"), 4);
    assert_eq!(n("identity") + n("observed-data"), 0);
    for seen in [
        "www.evil.example",
        "203.0.113.7",
        "ceo-fraud@",
        "192.0.2.10",
    ] {
        assert!(!written.contains(seen), "{seen}");
    }

    // stdin, gzip, both flags, TLP 1.0, quiet.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&std::fs::read(&hits).unwrap()).unwrap();
    let gz = gz.finish().unwrap();
    let r = trawl(
        &[
            "sightings",
            "-s",
            set_s,
            "-",
            "--share-identity",
            "--identity-name",
            "Example Org",
            "--share-observed",
            "--tlp-version",
            "1",
            "-q",
        ],
        Some(&gz),
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(r.stderr.is_empty());
    let text = String::from_utf8(r.stdout).unwrap();
    assert!(text.contains("\"identity_class\": \"organization\""));
    assert!(text.contains("www.evil.example") && text.contains(TLP1_AMBER));

    // --since/--until: nothing in the window → an empty bundle and exit 1.
    let r = trawl(
        &[
            "sightings",
            "-s",
            set_s,
            hits_s,
            "--since",
            "2027-01-01",
            "-q",
        ],
        None,
    );
    assert_eq!(r.status.code(), Some(1));
    let empty: Json = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(empty["objects"], json!([]));

    // Consent needs a name; a window must be a window; a set must be a set.
    for (args, want) in [
        (vec!["--share-identity"], "--identity-name"),
        (
            vec!["--since", "2026-02-01", "--until", "2026-01-01"],
            "must be before",
        ),
        (vec!["--since", "soon"], "is not a time"),
        (
            vec![
                "--identity-name",
                "X",
                "--identity-id",
                "nope",
                "--share-identity",
            ],
            "not an identity id",
        ),
    ] {
        let mut all = vec!["sightings", "-s", set_s, hits_s];
        all.extend(args);
        let r = trawl(&all, None);
        assert_eq!(r.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(stderr.contains(want), "{want:?} not in {stderr}");
    }
    let r = trawl(&["sightings", "-s", hits_s, hits_s], None);
    assert_eq!(r.status.code(), Some(2));
    // The site's policy in trawl.toml's [sightings]: the identity is shared without the flag,
    // observed values still are not.
    let cfg = dir.path().join("trawl.toml");
    std::fs::write(
        &cfg,
        "[set]\noutput = \"x.tset\"\nstore = \"st\"\n\
         [sightings]\nshare_identity = true\nidentity_name = \"Policy Org\"\n",
    )
    .unwrap();
    let r = trawl(
        &[
            "sightings",
            "-s",
            set_s,
            hits_s,
            "-c",
            cfg.to_str().unwrap(),
            "-q",
        ],
        None,
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8(r.stdout).unwrap();
    assert!(text.contains("\"identity_class\": \"organization\"") && text.contains("Policy Org"));
    assert!(
        !text.contains("www.evil.example"),
        "no observed value without share_observed"
    );

    // No temporary file is left beside the output.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");
}

/// Whether `stix2_validator` (PyPI `stix2-validator`) is on the PATH. When it is not, the
/// validator test fails if `TRAWL_REQUIRE_TOOLS` (which `.ci/run` sets) or
/// `TRAWL_REQUIRE_STIX_VALIDATOR` is set, and is skipped with a note otherwise.
fn have_validator() -> bool {
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("stix2_validator").is_file())
    });
    if on_path {
        return true;
    }
    let required = ["TRAWL_REQUIRE_STIX_VALIDATOR", "TRAWL_REQUIRE_TOOLS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    assert!(
        !required,
        "stix2_validator is required here but not on the PATH: \
         python3 -m pip install stix2-validator"
    );
    eprintln!(
        "skipped: stix2_validator is not installed (python3 -m pip install stix2-validator); \
         TRAWL_REQUIRE_TOOLS=1 makes this a failure"
    );
    false
}

/// Runs the validator on `files` (one Python start for all): every warning is an error
/// (`--strict`). Returns whether all passed, and the validator's output.
fn validate(files: &[PathBuf]) -> (bool, String) {
    let out = Command::new("stix2_validator")
        .arg("--strict")
        .args(files)
        .output()
        .expect("run stix2_validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn stix2_validator_accepts_the_bundles() {
    if !have_validator() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let hits = packet_hits(dir.path(), &set, Format::Ecs);
    let log = dir.path().join("av.log");
    std::fs::write(&log, format!("av: {SHA256} quarantined\n")).unwrap();
    let log_hits = dir.path().join("log-hits.jsonl");
    std::fs::write(&log_hits, scan_log(&set, &log, OutputMode::Hits)).unwrap();
    let (agg, _, _) = aggregate(&set, &[&hits, &log_hits], Window::default(), true);
    let cases = [
        ("plain", options()),
        (
            "everything",
            BundleOptions {
                identity: Some(Identity::new("Example Org")),
                share_observed: true,
                ..options()
            },
        ),
        (
            "tlp1",
            BundleOptions {
                identity: Some(
                    Identity::with_id(
                        "identity--7c1b4c3e-2f2a-4d55-9c4e-1f5a0b6c7d8e",
                        "Example Org",
                    )
                    .unwrap(),
                ),
                share_observed: true,
                tlp_version: TlpVersion::V1,
                ..options()
            },
        ),
    ];
    let mut files = Vec::new();
    for (name, opts) in cases {
        let b = agg.bundle(&opts);
        assert_eq!(b.sightings, 5, "{name}: the packet sightings and the hash");
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&b.json).unwrap()).unwrap();
        files.push(path);
    }
    let (ok, text) = validate(&files);
    assert!(ok, "{text}");
    assert_eq!(text.matches("STIX JSON: Valid").count(), 3, "{text}");

    // The validator is really looking: a sighting last seen before it was first seen fails.
    let mut broken = agg.bundle(&options()).json;
    let s = broken["objects"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["type"] == "sighting")
        .unwrap();
    s["last_seen"] = json!("2000-01-01T00:00:00Z");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, broken.to_string()).unwrap();
    let (ok, text) = validate(&[path]);
    assert!(!ok, "{text}");
    assert!(text.contains("last_seen"), "{text}");
}
