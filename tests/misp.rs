//! MISP events into indicators: real event files (ESET, CIRCL via PyMISP) with their exact
//! expected indicators and metadata, every JSON shape MISP serves, the attribute types and
//! flags, bad input, and a MISP feed directory through `trawl compile`'s detection.

use std::path::Path;
use std::sync::Arc;

use trawl::compile::{FeedSpec, SetBuilder, ingest_feeds};
use trawl::indicator::{Meta, Tlp};
use trawl::ingest::{FeedOptions, Location, VecCollector, misp};
use trawl::set::IndicatorSet;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/misp")
        .join(name)
}

fn read(bytes: &[u8], opts: &FeedOptions) -> VecCollector {
    let mut c = VecCollector::default();
    misp::read(bytes, &Arc::from("t.json"), opts, &mut c).unwrap();
    c
}

/// Accepted values as text, with the provenance id.
fn values(c: &VecCollector) -> Vec<(String, Option<String>)> {
    c.accepted
        .iter()
        .map(|(n, m, _)| (n.value.to_string(), m.id.clone()))
        .collect()
}

fn reasons(items: &[(Location, String)]) -> Vec<String> {
    let mut r: Vec<String> = items.iter().map(|(_, why)| why.clone()).collect();
    r.sort();
    r
}

#[test]
fn circl_event_gives_its_to_ids_hashes_with_event_metadata() {
    let bytes = std::fs::read(fixture(
        "circl-xorist-57c4445b-c548-4654-af0b-4be3950d210f.json",
    ))
    .unwrap();
    let c = read(&bytes, &FeedOptions::source("circl"));
    assert_eq!(
        values(&c),
        [
            (
                "0749bae92ca336a02c83d126e04ec628".to_string(),
                Some("57c4448b-454c-4d17-90d1-4d2f950d210f".to_string())
            ),
            (
                "77b0c41b7d340b8a3d903f21347bbf06aa766b5b".into(),
                Some("57c4448a-bef0-4ba7-a071-444e950d210f".into())
            ),
            (
                "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68".into(),
                Some("57c4448b-3fa4-4d65-9ccc-4afa950d210f".into())
            ),
        ]
    );
    let meta: &Meta = &c.accepted[0].1;
    assert_eq!(meta.source, "circl");
    assert_eq!(meta.tlp, Some(Tlp::Clear), "tlp:white");
    assert_eq!(meta.score, Some(30), "threat level 3 (low)");
    assert_eq!(meta.description.as_deref(), Some("Ransomware - Xorist"));
    assert_eq!(
        meta.labels,
        [
            "circl:incident-classification=\"malware\"",
            "ms-caro-malware:malware-type=\"Ransom\"",
            "malware_classification:malware-category=\"Ransomware\"",
        ]
    );
    // links, comment, text, filename and regkey|value are context, not indicators.
    assert_eq!(
        reasons(&c.dropped),
        vec!["MISP attribute type without an indicator kind".to_string(); 6]
    );
    assert!(c.rejected.is_empty());
}

#[test]
fn eset_event_without_to_ids_gives_nothing_unless_asked() {
    let bytes = std::fs::read(fixture("eset-sshdoor-jakku.json")).unwrap();
    let c = read(&bytes, &FeedOptions::source("eset"));
    assert!(c.accepted.is_empty());
    let mut want = vec!["to_ids not set".to_string(); 4];
    want.extend(vec![
        "MISP attribute type without an indicator kind"
            .to_string();
        2
    ]);
    want.sort();
    assert_eq!(reasons(&c.dropped), want);

    let all = FeedOptions {
        all_attributes: true,
        ..FeedOptions::source("eset")
    };
    let c = read(&bytes, &all);
    let got: Vec<String> = values(&c).into_iter().map(|(v, _)| v).collect();
    assert_eq!(
        got,
        [
            "status-ok.com",
            "194.146.180.41/32",
            "fd7af0fcb483c2e308c453519156df31e9e1dce6",
            "d9841ef6e14d1a6a369501402bf8fe5b607db0be",
            "e7610aad54003b0cc78ca2f2f0ca51d6250e9dca",
        ]
    );
    let meta = &c.accepted[0].1;
    assert_eq!(
        (meta.score, meta.tlp),
        (None, None),
        "threat level 4 is undefined"
    );
    assert_eq!(meta.labels, ["SSHDoor"]);
}

#[test]
fn every_shape_type_and_flag() {
    let doc = br#"{"response": [{"Event": {
        "uuid": "e1", "info": "test", "threat_level_id": "1",
        "Tag": [{"name": "tlp:green"}],
        "Attribute": [
            {"uuid": "a1", "type": "ip-dst|port", "value": "203.0.113.7|443", "to_ids": true},
            {"uuid": "a2", "type": "hostname|port", "value": "Evil.Example.|8080", "to_ids": "1"},
            {"uuid": "a3", "type": "filename|sha256", "value": "x.exe|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "to_ids": 1},
            {"uuid": "a4", "type": "uri", "value": "/wp-content/plugins/x/shell.php", "to_ids": true},
            {"uuid": "a5", "type": "email-src", "value": "Bad@Evil.Example", "to_ids": true, "Tag": [{"name": "tlp:red"}]},
            {"uuid": "a6", "type": "url", "value": "HTTP://evil.example:80/a?b", "to_ids": true},
            {"uuid": "a7", "type": "domain", "value": "gone.example", "to_ids": true, "deleted": true},
            {"uuid": "a8", "type": "ip-src", "value": "2001:db8::/32", "to_ids": true},
            {"uuid": "a9", "type": "domain", "value": "not a name", "to_ids": true},
            {"type": "domain"}
        ],
        "Object": [{"Attribute": [
            {"uuid": "o1", "type": "domain|ip", "value": "c2.example|198.51.100.9", "to_ids": true}
        ]}]
    }}]}"#;
    let c = read(doc, &FeedOptions::source("s"));
    let got: Vec<(String, Option<String>)> = values(&c);
    let id = |s: &str| Some(s.to_string());
    assert_eq!(
        got,
        [
            ("203.0.113.7/32".to_string(), id("a1")),
            ("evil.example".into(), id("a2")),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                id("a3")
            ),
            ("/wp-content/plugins/x/shell.php".into(), id("a4")),
            ("bad@evil.example".into(), id("a5")),
            ("http://evil.example/a?b".into(), id("a6")),
            ("2001:db8::/32".into(), id("a8")),
            ("c2.example".into(), id("o1")),
            ("198.51.100.9/32".into(), id("o1")),
        ]
    );
    let tlp_of = |v: &str| {
        c.accepted
            .iter()
            .find(|(n, _, _)| n.value.to_string() == v)
            .unwrap()
            .1
            .tlp
    };
    assert_eq!(tlp_of("evil.example"), Some(Tlp::Green), "the event's tag");
    assert_eq!(
        tlp_of("bad@evil.example"),
        Some(Tlp::Red),
        "the attribute's own tag wins"
    );
    assert_eq!(c.accepted[0].1.score, Some(90), "threat level 1 (high)");
    assert_eq!(reasons(&c.dropped), ["deleted attribute"]);
    let mut rejected: Vec<&str> = c.rejected.iter().map(|(_, r, _)| r.as_str()).collect();
    rejected.sort();
    assert_eq!(
        rejected,
        [
            "MISP attribute without type or value",
            "invalid domain name"
        ]
    );
    assert!(
        matches!(&c.rejected[0].0, Location::Object { id, .. } if id == "attribute a9" || id.ends_with("Attribute[9]"))
    );

    // A bare event and an `{"Event": …}` give the same as inside a response.
    let bare = br#"{"Attribute": [{"uuid": "b1", "type": "md5", "value": "0749bae92ca336a02c83d126e04ec628", "to_ids": true}]}"#;
    assert_eq!(values(&read(bare, &FeedOptions::source("s"))).len(), 1);
}

#[test]
fn bad_documents_are_one_rejected_item_each() {
    for (doc, reason) in [
        (&b"{\"Event\": {\"Attribute\": [,]}}"[..], "malformed JSON"),
        (b"{\"type\": \"bundle\"}", "not a MISP event"),
        (b"42", "not a MISP event"),
        (b"{\"response\": [17]}", "not a MISP event"),
    ] {
        let c = read(doc, &FeedOptions::source("s"));
        assert!(c.accepted.is_empty());
        assert_eq!(c.rejected.len(), 1, "{}", String::from_utf8_lossy(doc));
        assert_eq!(c.rejected[0].1, reason, "{}", String::from_utf8_lossy(doc));
    }
}

#[test]
fn a_misp_feed_directory_compiles_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed");
    std::fs::create_dir(&feed).unwrap();
    let name = "57c4445b-c548-4654-af0b-4be3950d210f.json";
    std::fs::copy(fixture(&format!("circl-xorist-{name}")), feed.join(name)).unwrap();
    std::fs::write(
        feed.join("manifest.json"),
        br#"{"57c4445b-c548-4654-af0b-4be3950d210f": {"info": "Ransomware - Xorist", "timestamp": "1472569413", "Tag": [{"name": "tlp:white"}]}}"#,
    )
    .unwrap();
    let mut b = SetBuilder::new(Default::default(), Default::default());
    // What `trawl compile DIR` hands the library: every file of the directory.
    let files = [
        FeedSpec::new(feed.join("manifest.json")),
        FeedSpec::new(feed.join(name)),
    ];
    ingest_feeds(&files, &mut b).unwrap();
    let path = dir.path().join("misp.tset");
    let report = b.write(&path).unwrap();
    assert_eq!(report.indicators.values().sum::<u64>(), 3, "{report}");
    assert!(
        report.to_string().contains("MISP feed manifest"),
        "{report}"
    );
    let set = IndicatorSet::open(&path).unwrap();
    let hit = set
        .match_hash_hex(b"0749bae92ca336a02c83d126e04ec628")
        .expect("md5 listed");
    let ind = set.indicator(hit.indicator).unwrap();
    let p = ind.provenance().next().unwrap();
    assert_eq!(p.id, Some("57c4448b-454c-4d17-90d1-4d2f950d210f"));
    assert_eq!(p.tlp, Some(Tlp::Clear));
    assert_eq!(p.score, Some(30));
}
