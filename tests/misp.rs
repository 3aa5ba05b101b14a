//! MISP events into indicators: real event files (ESET, CIRCL via PyMISP) with their exact
//! expected indicators and metadata, every JSON shape MISP serves, the attribute types and
//! flags, bad input, and a MISP feed directory through `trawl compile`'s detection; and, against
//! misp-stix (the MISP project's MISP → STIX 2.1 converter), the values of its patterns for
//! each attribute type and for its test collections, composite values (IPv6 halves, malformed
//! ones) and object search results.

use std::path::Path;
use std::sync::Arc;

use trawl::SetBuilder;

use trawl::IndicatorSet;
use trawl::{FeedOptions, read_misp_feed};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{Location, VecCollector};
use trawl::{Meta, Tlp};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/misp")
        .join(name)
}

fn read(bytes: &[u8], opts: &FeedOptions) -> VecCollector {
    let mut c = VecCollector::default();
    read_misp_feed(bytes, &Arc::from("t.json"), opts, &mut c).unwrap();
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

// ---------------------------------------------------------------------------------------------
// Against misp-stix: the MISP → STIX 2.1 converter of the MISP project. For each MISP attribute
// it writes an indicator whose pattern holds the values a detector should look for; trawl must
// take the same values from the same attribute. `testdata/misp/misp-stix/` holds misp-stix's
// own reference mapping (an excerpt) and its test collections with their STIX conversions.

use std::collections::BTreeSet;

use trawl::Kind;
use trawl::normalize;

fn misp_stix(name: &str) -> std::path::PathBuf {
    fixture(&format!("misp-stix/{name}"))
}

/// The comparisons (`path = 'value'`) of a misp-stix pattern: one observation of
/// `AND`-joined equalities, as misp-stix writes every attribute and object pattern.
fn comparisons(pattern: &str) -> Vec<(String, String)> {
    let body = pattern
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not one observation: {pattern}"));
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let (path, after) = rest
            .split_once(" = '")
            .unwrap_or_else(|| panic!("not `path = 'value'`: {rest}"));
        // The literal runs to the first quote not escaped by a backslash.
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => value.extend(chars.next().map(|(_, c)| c)),
                Some((i, '\'')) => break i,
                Some((_, c)) => value.push(c),
                None => panic!("unterminated literal in {pattern}"),
            }
        };
        out.push((path.trim().to_string(), value));
        rest = after[end + 1..].trim_start();
        rest = rest.strip_prefix("AND ").unwrap_or(rest);
    }
    out
}

/// The trawl kind of the values a misp-stix pattern path holds, or `None` where trawl matches
/// nothing for it: ports, file names, type guards, AS numbers, registry keys, other hash
/// algorithms.
fn path_kind(path: &str) -> Option<Kind> {
    Some(match path {
        "domain-name:value" => Kind::Domain,
        // The address family comes from the value (`normalize::value`).
        "domain-name:resolves_to_refs[*].value"
        | "network-traffic:src_ref.value"
        | "network-traffic:dst_ref.value" => Kind::Ipv4,
        "url:value" => Kind::Url,
        "email-addr:value"
        | "email-message:from_ref.value"
        | "email-message:to_refs[*].value"
        | "email-message:additional_header_fields.reply_to" => Kind::Email,
        "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'" => {
            Kind::HttpRequest
        }
        "file:hashes.MD5" => Kind::Md5,
        "file:hashes.'SHA-1'" => Kind::Sha1,
        "file:hashes.'SHA-256'" => Kind::Sha256,
        "file:hashes.'SHA-512'" => Kind::Sha512,
        "x509-certificate:hashes.MD5" => Kind::X509Md5,
        "x509-certificate:hashes.'SHA-1'" => Kind::X509Sha1,
        "x509-certificate:hashes.'SHA-256'" => Kind::X509Sha256,
        _ => return None,
    })
}

/// What trawl should hold for a misp-stix pattern: each comparison with a trawl kind, in
/// trawl's canonical form.
fn expected_from_pattern(pattern: &str) -> BTreeSet<(Kind, String)> {
    comparisons(pattern)
        .into_iter()
        .filter_map(|(path, value)| {
            let kind = path_kind(&path)?;
            let n = normalize::value(kind, &value)
                .unwrap_or_else(|e| panic!("{path} = '{value}': {e}"));
            Some((n.value.kind(), n.value.to_string()))
        })
        .collect()
}

fn got(c: &VecCollector) -> BTreeSet<(Kind, String)> {
    c.accepted
        .iter()
        .map(|(n, _, _)| (n.value.kind(), n.value.to_string()))
        .collect()
}

/// Where trawl deliberately differs from misp-stix, and why. The test checks that each
/// deviation is still real (misp-stix has a value, trawl takes none), so this list cannot rot.
const DEVIATIONS: &[(&str, &str)] = &[
    (
        "link",
        "a reference to outside analysis (MISP's category `External analysis`), not a network \
         indicator; MISP's own IDS exports leave it out",
    ),
    (
        "sha512/256",
        "misp-stix files a SHA-512/256 digest under the key 'SHA-256'; it is not a SHA-256 of \
         anything and could never match one",
    ),
];

#[test]
fn every_misp_stix_attribute_mapping_gives_the_values_of_its_pattern() {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(misp_stix("attribute-mappings.json")).unwrap())
            .unwrap();
    let entries = doc.as_object().unwrap();
    assert_eq!(
        entries.len(),
        36,
        "the excerpt as recorded in testdata/README.md"
    );
    // misp-stix's reference attributes carry no `to_ids`; it wrote an indicator for each, as it
    // does for `to_ids` attributes, so read them as a feed that takes every attribute.
    let all = FeedOptions {
        all_attributes: true,
        ..FeedOptions::source("misp-stix")
    };
    let mut with_values = 0;
    for (ty, entry) in entries {
        let attr = &entry["MISP"];
        assert_eq!(attr["type"], ty.as_str());
        let pattern = entry["STIX"][0]["pattern"].as_str().unwrap();
        let want = expected_from_pattern(pattern);
        let doc = serde_json::json!({ "Attribute": [attr] }).to_string();
        let c = read(doc.as_bytes(), &all);
        assert!(c.rejected.is_empty(), "{ty}: {:?}", c.rejected);
        let got = got(&c);
        if let Some((_, why)) = DEVIATIONS.iter().find(|(t, _)| t == ty) {
            assert!(
                got.is_empty() && !want.is_empty(),
                "{ty} ({why}): misp-stix {want:?}, trawl {got:?}"
            );
            continue;
        }
        assert_eq!(got, want, "{ty}: {pattern}");
        if want.is_empty() {
            assert_eq!(
                reasons(&c.dropped),
                ["MISP attribute type without an indicator kind"],
                "{ty}"
            );
        } else {
            with_values += 1;
            // Every value carries the attribute's uuid: what a MISP sighting names.
            assert!(
                c.accepted
                    .iter()
                    .all(|(_, m, _)| m.id == attr["uuid"].as_str().map(str::to_string))
            );
        }
    }
    assert_eq!(
        with_values, 27,
        "every MISP type trawl maps is in the excerpt"
    );
}

/// misp-stix's test collections (REST search results of attributes, events and objects) and
/// the STIX 2.1 bundles misp-stix makes of them: trawl, honouring `to_ids`, takes exactly the
/// values of the bundle's indicators, and each from the attribute or object the indicator
/// was made from (`indicator--<uuid>`).
#[test]
fn misp_stix_test_collections_give_the_values_of_their_stix_conversions() {
    for (misp_files, bundle) in [
        (
            [
                "test_attributes_collection_1.json",
                "test_attributes_collection_2.json",
            ],
            "test_attributes_collection_stix21.json",
        ),
        (
            [
                "test_events_collection_1.json",
                "test_events_collection_2.json",
            ],
            "test_events_collection_stix21.json",
        ),
        (
            [
                "test_objects_collection_1.json",
                "test_objects_collection_2.json",
            ],
            "test_objects_collection_stix21.json",
        ),
    ] {
        let stix: serde_json::Value =
            serde_json::from_slice(&std::fs::read(misp_stix(bundle)).unwrap()).unwrap();
        let mut want: BTreeSet<(String, Kind, String)> = BTreeSet::new();
        for o in stix["objects"].as_array().unwrap() {
            if o["type"] == "indicator" {
                let uuid = o["id"]
                    .as_str()
                    .unwrap()
                    .strip_prefix("indicator--")
                    .unwrap();
                for (k, v) in expected_from_pattern(o["pattern"].as_str().unwrap()) {
                    want.insert((uuid.to_string(), k, v));
                }
            }
        }
        assert!(!want.is_empty(), "{bundle}");

        let mut got_all = BTreeSet::new();
        for f in misp_files {
            let bytes = std::fs::read(misp_stix(f)).unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            // The uuid misp-stix names its indicator after: the object's for an object's
            // attribute, else the attribute's own.
            let mut owner = std::collections::HashMap::new();
            let response = &doc["response"];
            let items: Vec<&serde_json::Value> = match response.as_array() {
                Some(a) => a.iter().map(|e| e.get("Event").unwrap_or(e)).collect(),
                None => vec![response],
            };
            for item in items {
                for a in item["Attribute"].as_array().into_iter().flatten() {
                    owner.insert(a["uuid"].as_str().unwrap(), a["uuid"].as_str().unwrap());
                }
                for o in item["Object"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .chain(item.get("Object").filter(|o| o.is_object()))
                {
                    for a in o["Attribute"].as_array().into_iter().flatten() {
                        owner.insert(a["uuid"].as_str().unwrap(), o["uuid"].as_str().unwrap());
                    }
                }
            }
            let c = read(&bytes, &FeedOptions::source("misp-stix"));
            assert!(c.rejected.is_empty(), "{f}: {:?}", c.rejected);
            for (n, m, _) in &c.accepted {
                let id = m.id.as_deref().unwrap();
                got_all.insert((owner[id].to_string(), n.value.kind(), n.value.to_string()));
            }
        }
        assert_eq!(got_all, want, "{bundle}");
    }
}

#[test]
fn composite_values_split_as_misp_does_ipv6_included_and_malformed_ones_are_rejected_whole() {
    let doc = br#"{"Event": {"uuid": "e", "Attribute": [
        {"uuid": "v6", "type": "domain|ip", "value": "v6.example|2001:DB8::1", "to_ids": true},
        {"uuid": "v6port", "type": "ip-dst|port", "value": "2001:db8::2|443", "to_ids": true},
        {"uuid": "v6src", "type": "ip-src|port", "value": "2001:db8:0:0:0:0:0:3|8080", "to_ids": true},
        {"uuid": "hp", "type": "hostname|port", "value": "c2.example|8443", "to_ids": true},
        {"uuid": "ms", "type": "malware-sample", "value": "x.exe|B2A5ABFEEF9E36964281A31E17B57C97", "to_ids": true},
        {"uuid": "ua", "type": "user-agent", "value": "EvilBot/1.0", "to_ids": true},
        {"uuid": "path", "type": "uri", "value": "/scripts/m/query.php?id=", "to_ids": true},
        {"uuid": "host", "type": "url", "value": "www.whitewall.top", "to_ids": true},
        {"uuid": "nopipe", "type": "domain|ip", "value": "only.example", "to_ids": true},
        {"uuid": "emptyip", "type": "domain|ip", "value": "half.example|", "to_ids": true},
        {"uuid": "emptydom", "type": "domain|ip", "value": " |198.51.100.1", "to_ids": true},
        {"uuid": "extra", "type": "domain|ip", "value": "a.example|198.51.100.2|x", "to_ids": true},
        {"uuid": "colon", "type": "ip-dst|port", "value": "198.51.100.3:80", "to_ids": true},
        {"uuid": "badport", "type": "ip-dst|port", "value": "198.51.100.4|http", "to_ids": true},
        {"uuid": "bigport", "type": "hostname|port", "value": "big.example|65536", "to_ids": true},
        {"uuid": "fh", "type": "filename|sha1", "value": "a|b|2920d5e6c579fce772e5506caf03af65579088bd", "to_ids": true},
        {"uuid": "badip", "type": "domain|ip", "value": "ok.example|198.51.100.300", "to_ids": true},
        {"uuid": "quiet", "type": "domain|ip", "value": "not-for-ids", "to_ids": false}
    ], "Object": [
        {"uuid": "o1", "deleted": true, "Attribute": [
            {"uuid": "od", "type": "domain", "value": "gone.example", "to_ids": true}]},
        {"uuid": "o2", "Attribute": [
            {"uuid": "ot", "type": "domain", "value": "tagged.example", "to_ids": true,
             "Tag": [{"name": "tlp:amber"}, {"name": "kill-chain:c2"}]}]}
    ]}}"#;
    let c = read(doc, &FeedOptions::source("s"));
    let got: Vec<(String, String)> = c
        .accepted
        .iter()
        .map(|(n, m, _)| (m.id.clone().unwrap(), n.value.to_string()))
        .collect();
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        got,
        pairs(&[
            ("v6", "v6.example"),
            ("v6", "2001:db8::1/128"),
            ("v6port", "2001:db8::2/128"),
            ("v6src", "2001:db8::3/128"),
            ("hp", "c2.example"),
            ("ms", "b2a5abfeef9e36964281a31e17b57c97"),
            ("ua", "EvilBot/1.0"),
            ("path", "/scripts/m/query.php?id="),
            ("host", "www.whitewall.top/"),
            // The domain half of a `domain|ip` whose address is bad still stands: the value
            // is well-formed, its second half is not an address.
            ("badip", "ok.example"),
            ("ot", "tagged.example"),
        ])
    );
    let kinds: Vec<Kind> = c.accepted.iter().map(|(n, _, _)| n.value.kind()).collect();
    use Kind::*;
    assert_eq!(
        kinds,
        [
            Domain,
            Ipv6,
            Ipv6,
            Ipv6,
            Domain,
            Md5,
            HttpRequest,
            HttpRequest,
            Url,
            Domain,
            Domain
        ]
    );
    let tagged = &c.accepted.last().unwrap().1;
    assert_eq!(tagged.tlp, Some(Tlp::Amber));
    assert_eq!(
        tagged.labels,
        ["kill-chain:c2"],
        "the attribute's own tags are labels"
    );

    let composite = "malformed MISP composite value (want exactly one '|' between two values)";
    let port = "malformed MISP composite value (port not a number from 0 to 65535)";
    let rejected: Vec<(&str, &str, &str)> = c
        .rejected
        .iter()
        .map(|(at, why, detail)| {
            let Location::Object { id, file } = at else {
                panic!("{at:?}")
            };
            assert_eq!(&**file, "t.json");
            (id.as_str(), why.as_str(), detail.as_str())
        })
        .collect();
    assert_eq!(
        rejected,
        [
            ("attribute nopipe", composite, "only.example"),
            ("attribute emptyip", composite, "half.example|"),
            ("attribute emptydom", composite, " |198.51.100.1"),
            ("attribute extra", composite, "a.example|198.51.100.2|x"),
            ("attribute colon", composite, "198.51.100.3:80"),
            ("attribute badport", port, "198.51.100.4|http"),
            ("attribute bigport", port, "big.example|65536"),
            (
                "attribute fh",
                composite,
                "a|b|2920d5e6c579fce772e5506caf03af65579088bd"
            ),
            (
                "attribute badip",
                "invalid IP address or CIDR",
                "198.51.100.300"
            ),
        ]
    );
    // A malformed value MISP does not mean for detection is not taken, so not worth a reject.
    assert_eq!(
        reasons(&c.dropped),
        ["attribute of a deleted object", "to_ids not set"]
    );
}

/// A REST search on objects answers `{"response": [{"Object": {…}}, …]}`: each object's
/// attributes count like an event's.
#[test]
fn an_object_search_result_gives_its_attributes() {
    let doc = br#"{"response": [{"Object": {"uuid": "o", "name": "domain-ip", "Attribute": [
        {"uuid": "d", "type": "domain", "value": "circl.lu", "to_ids": true},
        {"uuid": "i", "type": "ip-dst", "value": "149.13.33.14", "to_ids": false}
    ]}}]}"#;
    let c = read(doc, &FeedOptions::source("s"));
    assert_eq!(
        values(&c),
        [("circl.lu".to_string(), Some("d".to_string()))]
    );
    assert_eq!(reasons(&c.dropped), ["to_ids not set"]);
}
