//! STIX 2.1 / TAXII ingest against real fixtures (`testdata/stix/`, provenance in
//! `testdata/README.md`), hand-made edge cases, and — when present — the whole staged corpus
//! under `/work/shared/data/stix` (or `$TRAWL_STIX_DATA`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use trawl::FeedOptions;
use trawl::StixIngest;
use trawl::{Kind, Meta, Tlp};
use trawl::{Location, VecCollector};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/stix")
        .join(rel)
}

/// Reads the fixtures in order into one ingest and finishes it.
fn ingest_with(files: &[&str], opts: &FeedOptions, cidr_equals_contains: bool) -> VecCollector {
    let mut ingest = StixIngest::new(cidr_equals_contains);
    let mut out = VecCollector::default();
    for f in files {
        let reader = File::open(fixture(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        ingest.read(reader, f, opts, &mut out).unwrap();
    }
    ingest.finish(&mut out);
    out
}

fn ingest(files: &[&str]) -> VecCollector {
    ingest_with(files, &FeedOptions::source("test"), true)
}

fn read_str(doc: &str) -> VecCollector {
    let mut ingest = StixIngest::new(true);
    let mut out = VecCollector::default();
    ingest
        .read(
            doc.as_bytes(),
            "inline.json",
            &FeedOptions::source("test"),
            &mut out,
        )
        .unwrap();
    ingest.finish(&mut out);
    out
}

fn obj(file: &str, id: &str) -> Location {
    Location::Object {
        file: Arc::from(file),
        id: id.to_string(),
    }
}

/// (kind, canonical value, object id) of every accepted indicator, in order.
fn accepted(out: &VecCollector) -> Vec<(Kind, String, String)> {
    out.accepted
        .iter()
        .map(|(n, m, _)| {
            (
                n.value.kind(),
                n.value.to_string(),
                m.id.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn a(kind: Kind, value: &str, id: &str) -> (Kind, String, String) {
    (kind, value.to_string(), id.to_string())
}

fn triples(items: &[(Location, String, String)]) -> Vec<(Location, &str, &str)> {
    items
        .iter()
        .map(|(l, r, d)| (l.clone(), r.as_str(), d.as_str()))
        .collect()
}

fn pairs(items: &[(Location, String)]) -> Vec<(Location, &str)> {
    items.iter().map(|(l, r)| (l.clone(), r.as_str())).collect()
}

fn meta(id: &str) -> Meta {
    Meta {
        source: "test".into(),
        id: Some(id.into()),
        ..Meta::default()
    }
}

#[test]
fn oasis_indicator_for_malicious_url() {
    let f = "oasis/indicator-for-malicious-url.json";
    let out = ingest(&[f]);
    let id = "indicator--d81f86b9-975b-4c0b-875e-810c5ad45a4f";
    assert_eq!(
        accepted(&out),
        vec![a(Kind::Url, "http://x4z9arb.cn/4712/", id)]
    );
    let (_, m, at) = &out.accepted[0];
    assert_eq!(at, &obj(f, id));
    assert_eq!(
        m,
        &Meta {
            // 2014-06-29T13:49:37.079Z
            valid_from: Some(1_404_049_777),
            labels: vec!["malicious-activity".into()],
            description: Some(
                "Malicious site hosting downloader: This organized threat actor group operates \
                 to create profit from all types of crime."
                    .into()
            ),
            ..meta(id)
        }
    );
    assert!(out.rejected.is_empty() && out.unsupported.is_empty() && out.dropped.is_empty());
}

#[test]
fn oasis_file_hash_indicator() {
    let out = ingest(&["oasis/malware-indicator-for-file-hash.json"]);
    assert_eq!(
        accepted(&out),
        vec![a(
            Kind::Sha256,
            "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
            "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"
        )]
    );
    // 2014-02-20T09:00:00Z
    assert_eq!(out.accepted[0].1.valid_from, Some(1_392_886_800));
}

#[test]
fn oasis_tlp_amber_with_statement_marking() {
    let out = ingest(&["oasis/using-marking-definitions.json"]);
    let id = "indicator--33fe3b22-0201-47cf-85d0-97c02164528d";
    assert_eq!(accepted(&out), vec![a(Kind::Ipv4, "10.0.0.0/32", id)]);
    assert_eq!(
        out.accepted[0].1,
        Meta {
            tlp: Some(Tlp::Amber),
            valid_from: Some(1_492_175_269),
            labels: vec!["malicious-activity".into()],
            description: Some(
                "Known malicious IP Address: Detected malicious activity from this address".into()
            ),
            ..meta(id)
        }
    );
}

#[test]
fn scos_referred_to_by_observed_data_are_observations() {
    let f = "oasis/sighting-of-observed-data.json";
    let out = ingest(&[f]);
    assert!(out.accepted.is_empty());
    assert_eq!(
        pairs(&out.dropped),
        vec![(
            obj(f, "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"),
            "observation (referred to by observed-data), not an indicator"
        )]
    );
}

#[test]
fn bundle_scos_are_indicators_with_feed_defaults() {
    let f = "oasis/infrastructure.json";
    let opts = FeedOptions {
        source: "infra".into(),
        score: Some(40),
        tlp: Some(Tlp::Green),
        exact: true,
        all_attributes: false,
        value_kind: None,
    };
    let out = ingest_with(&[f], &opts, true);
    let ip = "ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956";
    let dom = "domain-name--ecb120bf-2694-4902-a737-62b74539a41b";
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Ipv4, "198.51.100.3/32", ip),
            a(Kind::Domain, "example.com", dom)
        ]
    );
    for (_, m, at) in &out.accepted {
        assert_eq!(
            m,
            &Meta {
                source: "infra".into(),
                id: m.id.clone(),
                score: Some(40),
                tlp: Some(Tlp::Green),
                exact: true,
                ..Meta::default()
            }
        );
        assert_eq!(at, &obj(f, m.id.as_deref().unwrap_or("")));
    }
}

#[test]
fn repeated_scos_are_kept_once() {
    let f = "oasis/infrastructure.json";
    let out = ingest(&[f, f]);
    assert_eq!(out.accepted.len(), 2);
    assert_eq!(
        pairs(&out.dropped),
        vec![
            (
                obj(f, "ipv4-addr--1e4ffad7-0b88-41d4-ba4d-77d27490b956"),
                "duplicate of an object already read"
            ),
            (
                obj(f, "domain-name--ecb120bf-2694-4902-a737-62b74539a41b"),
                "duplicate of an object already read"
            ),
        ]
    );
}

#[test]
fn medallion_collection_newest_version_wins() {
    let f = "medallion/collection-91a7b528-envelope.json";
    let out = ingest(&[f]);
    let url_id = "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e";
    assert_eq!(
        accepted(&out),
        vec![
            a(
                Kind::Sha256,
                "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
                "indicator--cd981c25-8042-4166-8945-51178443bdac"
            ),
            // z4z10farb.cn (2016-11-03) and the 2016-12-25 version lose to 2017-01-27.
            a(Kind::Url, "http://x4z9arb.cn/4712", url_id),
        ]
    );
    assert_eq!(
        out.accepted[1].1.description.as_deref(),
        Some(
            "Malicious site hosting downloader: Accessing this url will infect your machine \
             with malware. This is the last updated indicator"
        )
    );
    // The newest version's own valid_from (2016-11-03T12:30:59Z), not an older version's.
    assert_eq!(out.accepted[1].1.valid_from, Some(1_478_176_259));
    assert_eq!(
        pairs(&out.dropped),
        vec![
            (obj(f, url_id), "superseded by a newer version"),
            (obj(f, url_id), "superseded by a newer version"),
        ]
    );
    assert!(out.rejected.is_empty() && out.unsupported.is_empty());

    // The same collection read twice: nothing doubles, the repeats are duplicates.
    let out = ingest(&[f, f]);
    assert_eq!(out.accepted.len(), 2);
    let dups = out
        .dropped
        .iter()
        .filter(|(_, r)| r == "duplicate of a version already read")
        .count();
    assert_eq!(dups, 2);
}

#[test]
fn misp_export_type_guards_and_observations() {
    let f = "misp-stix/attribute-mappings-bundle.json";
    let out = ingest(&[f]);
    assert_eq!(
        accepted(&out),
        vec![
            a(
                Kind::Ipv4,
                "5.6.7.8/32",
                "indicator--518b4bcb-a86b-4783-9457-391d548b605b"
            ),
            a(
                Kind::Ipv4,
                "1.2.3.4/32",
                "indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"
            ),
            a(
                Kind::HttpRequest,
                "Mozilla Firefox",
                "indicator--f0b5b638-81b4-4509-bd40-1e114955caf4"
            ),
            a(
                Kind::Sha1,
                "2920d5e6c579fce772e5506caf03af65579088bd",
                "indicator--f2259650-bc33-4b64-a3a8-a324aa7ea6bb"
            ),
            a(
                Kind::X509Sha256,
                "ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b",
                "indicator--34cb1a7c-55ec-412a-8684-ba4a88d83a45"
            ),
        ]
    );
    assert_eq!(
        out.accepted[0].1.labels,
        vec![
            r#"misp:type="ip-dst""#,
            r#"misp:category="Network activity""#
        ]
    );
    assert_eq!(
        triples(&out.unsupported),
        vec![(
            obj(f, "indicator--e9f3dab7-1c2d-43ca-8bf7-d49214ca81a6"),
            "file hash algorithm SHA3-256 not matched",
            "[file:hashes.'SHA3-256' = \
                 '39725234628358bcce613d1d1c07c2c3d2d106e3a6ac192016b46e5dddcd03f4']"
        ),]
    );
    // MISP's non-IDS form (observed-data + SCOs) is context, not indicators.
    let reason = "observation (referred to by observed-data), not an indicator";
    assert_eq!(
        pairs(&out.dropped),
        vec![
            (
                obj(f, "ipv4-addr--518b4bcb-a86b-4783-9457-391d548b605b"),
                reason
            ),
            (obj(f, "file--f2259650-bc33-4b64-a3a8-a324aa7ea6bb"), reason),
        ]
    );
}

#[test]
fn stix20_bundle_without_pattern_type() {
    let f = "unit42/maze-excerpt-stix20.json";
    let out = ingest(&[f]);
    assert_eq!(
        accepted(&out),
        vec![
            a(
                Kind::Sha256,
                "cfd8e3a47036c4eeeb318117c0c23e126aea95d1774dae37d5b6c3de02bdfc2a",
                "indicator--02fdb004-34aa-4792-ae21-1aab70f911a0"
            ),
            a(
                Kind::Sha256,
                "a9524de985a3ecc43e11dd7c051a4bbfe08c3d71cde98ea9bb6ea7f32c0cb174",
                "indicator--0befa1ca-c607-41a7-b9da-ec620e5e568b"
            ),
            a(
                Kind::Url,
                "http://91.218.114.31/yyxtqylcto",
                "indicator--01e860b3-67a6-4bf7-a885-c296c4fa5243"
            ),
            a(
                Kind::Domain,
                "apktool.info",
                "indicator--139f4252-6a90-466e-95f5-46a634415f37"
            ),
            a(
                Kind::Ipv4,
                "92.63.32.52/32",
                "indicator--003b9bb9-947c-458f-94ef-407345018e1a"
            ),
        ]
    );
    assert_eq!(out.accepted[3].1.labels, vec!["malicious-activity"]);
    let reasons: Vec<&str> = out.unsupported.iter().map(|(_, r, _)| r.as_str()).collect();
    assert_eq!(
        reasons,
        vec![
            "no indicator kind for object path directory:path",
            "no indicator kind for object path software:name"
        ]
    );
    assert!(out.rejected.is_empty());
}

#[test]
fn versions_and_revocation_across_files() {
    let (f1, f2) = (
        "handmade/versions-1.json",
        "handmade/versions-2-envelope.json",
    );
    let out = ingest(&[f1, f2]);
    let i1 = "indicator--11111111-1111-4111-8111-111111111111";
    let i2 = "indicator--22222222-2222-4222-8222-222222222222";
    let i3 = "indicator--33333333-3333-4333-8333-333333333333";
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Domain, "v2.example", i1),
            a(Kind::Url, "http://new.example/b", i3)
        ]
    );
    assert_eq!(out.accepted[0].2, obj(f1, i1));
    assert_eq!(out.accepted[1].2, obj(f2, i3));
    assert_eq!(
        out.accepted[0].1,
        Meta {
            score: Some(80),
            // 2021-05-01T12:00:00.250Z floors; 2030-01-01T00:00:00Z is exact.
            valid_from: Some(1_619_870_400),
            valid_until: Some(1_893_456_000),
            labels: vec![
                "c2".into(),
                "malicious-activity".into(),
                "attribution".into()
            ],
            description: Some("C2 domain: Seen in campaign X".into()),
            ..meta(i1)
        }
    );
    assert_eq!(
        pairs(&out.dropped),
        vec![
            (obj(f1, i1), "superseded by a newer version"),
            (obj(f2, i1), "superseded by a newer version"),
            // The revocation, the version read before it, and one read after it.
            (obj(f2, i2), "revoked"),
            (obj(f1, i2), "revoked"),
            (obj(f2, i2), "revoked"),
            (obj(f1, i3), "superseded by a newer version"),
            (obj(f2, i1), "duplicate of a version already read"),
        ]
    );
    assert!(out.rejected.is_empty() && out.unsupported.is_empty());

    // Read the other way round: the same id set survives; on a tie in `modified` the version
    // read first is kept.
    let out = ingest(&[f2, f1]);
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Domain, "v2-duplicate.example", i1),
            a(Kind::Url, "http://new.example/b", i3)
        ]
    );
    assert!(
        out.accepted
            .iter()
            .all(|(_, m, _)| m.id.as_deref() != Some(i2))
    );
}

#[test]
fn malformed_objects_are_rejected_with_reasons() {
    let f = "handmade/malformed-objects.json";
    let opts = FeedOptions {
        score: Some(30),
        ..FeedOptions::source("test")
    };
    let out = ingest_with(&[f], &opts, true);
    let id = |n: u32| format!("indicator--{n:08}-0000-4000-8000-{n:012}");
    assert_eq!(
        accepted(&out),
        vec![a(Kind::Domain, "good.example", &id(100))]
    );
    // confidence 150 is out of range: the feed's score applies.
    assert_eq!(out.accepted[0].1.score, Some(30));
    let rejected = triples(&out.rejected);
    let want: Vec<(Location, &str, &str)> = vec![
        (
            obj(f, "objects[0]"),
            "missing required property id",
            "[domain-name:value = 'no-id.example']",
        ),
        (obj(f, &id(101)), "missing required property pattern", ""),
        (
            obj(f, &id(102)),
            "missing required property pattern_type",
            "[domain-name:value = 'missing-pattern_type.example']",
        ),
        (
            obj(f, &id(103)),
            "missing required property valid_from",
            "[domain-name:value = 'missing-valid_from.example']",
        ),
        (
            obj(f, &id(104)),
            "missing required property modified",
            "[domain-name:value = 'missing-modified.example']",
        ),
        (
            obj(f, &id(105)),
            "valid_until is not later than valid_from",
            "valid_from 2021-01-01T00:00:00Z, valid_until 2021-01-01T00:00:00.000Z",
        ),
        (
            obj(f, &id(106)),
            "valid_until is not later than valid_from",
            "valid_from 2021-01-02T00:00:00Z, valid_until 2021-01-01T00:00:00Z",
        ),
        (
            obj(f, &id(107)),
            "invalid timestamp",
            "valid_from: yesterday",
        ),
        (
            obj(f, &id(108)),
            "invalid STIX pattern",
            "column 14: expected a literal, found ']': [file:size = ]",
        ),
        (obj(f, "objects[9]"), "not a JSON object", "42"),
        (
            obj(f, "indicator--99999999-9999-4999-8999-999999999999"),
            "missing required property type",
            "",
        ),
        // Bad keys of an otherwise good indicator, reported when it is emitted.
        (obj(f, &id(100)), "invalid IP address or CIDR", "300.1.1.1"),
        (
            obj(f, &id(100)),
            "value does not have the stated kind",
            "2001:db8::1",
        ),
    ];
    assert_eq!(rejected, want);
    assert!(out.unsupported.is_empty() && out.dropped.is_empty());
}

#[test]
fn unsupported_patterns_are_never_widened() {
    let f = "handmade/unsupported-patterns.json";
    let id = |n: u32| format!("indicator--{n:08}-0000-4000-8000-{n:012}");
    let out = ingest(&[f]);
    // Only the CIDR equality compiles (containment, the default).
    assert_eq!(accepted(&out), vec![a(Kind::Ipv4, "10.0.0.0/8", &id(209))]);
    let want: Vec<(Location, &str, &str)> = vec![
        (obj(f, &id(200)), "pattern_type is not stix", "snort"),
        (obj(f, &id(201)), "pattern_type is not stix", "yara"),
        (
            obj(f, &id(202)),
            "WITHIN qualifier",
            "[ipv4-addr:value = '198.51.100.30'] WITHIN 300 SECONDS",
        ),
        (
            obj(f, &id(203)),
            "FOLLOWEDBY",
            "[ipv4-addr:value = '198.51.100.31'] FOLLOWEDBY [domain-name:value = 'then.example']",
        ),
        (
            obj(f, &id(204)),
            "observation-level AND",
            "[ipv4-addr:value = '198.51.100.32'] AND [domain-name:value = 'and.example']",
        ),
        (
            obj(f, &id(205)),
            "REPEATS qualifier",
            "[domain-name:value = 'repeat.example'] REPEATS 3 TIMES",
        ),
        (
            obj(f, &id(206)),
            "AND with a residual condition",
            "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:size = 5]",
        ),
        (
            obj(f, &id(207)),
            "LIKE comparison",
            "[domain-name:value LIKE '%.evil.example']",
        ),
        (
            obj(f, &id(208)),
            "pattern matches nothing (empty set)",
            "[domain-name:value IN ()]",
        ),
    ];
    assert_eq!(triples(&out.unsupported), want);
    assert!(out.rejected.is_empty() && out.dropped.is_empty());

    // With containment switched off, `= 'CIDR'` is unsupported too: nothing compiles.
    let out = ingest_with(&[f], &FeedOptions::source("test"), false);
    assert!(out.accepted.is_empty());
    assert_eq!(out.unsupported.len(), 10);
    assert_eq!(
        out.unsupported[9].1,
        "'=' with a CIDR literal (cidr_equals_contains is off)"
    );
}

#[test]
fn tlp_from_fixed_ids_marking_objects_and_feed_default() {
    let f = "handmade/tlp-markings.json";
    let levels = |out: &VecCollector| -> BTreeMap<String, Option<Tlp>> {
        out.accepted
            .iter()
            .map(|(n, m, _)| (n.value.to_string(), m.tlp))
            .collect()
    };
    let want = |fallback: Option<Tlp>| -> BTreeMap<String, Option<Tlp>> {
        [
            // Fixed ids, no marking object needed.
            ("tlp1-green.example", Some(Tlp::Green)),
            ("tlp2-amber-strict.example", Some(Tlp::AmberStrict)),
            ("tlp1-white.example", Some(Tlp::Clear)),
            // Several markings: the most restrictive wins.
            ("clear-and-red.example", Some(Tlp::Red)),
            // Custom ids defined by marking objects later in the bundle.
            ("custom-tlp1.example", Some(Tlp::Amber)),
            ("custom-tlp2.example", Some(Tlp::Red)),
            // No TLP marking: the feed's default.
            ("statement-only.example", fallback),
            ("unmarked.example", fallback),
            // A granular marking on the pattern counts; one on the description does not.
            ("granular-red.example", Some(Tlp::Red)),
            // SCOs honour their markings too.
            ("sco-amber-strict.example", Some(Tlp::AmberStrict)),
        ]
        .into_iter()
        .map(|(v, t)| (v.to_string(), t))
        .collect()
    };
    let out = ingest(&[f]);
    assert_eq!(levels(&out), want(None));
    let opts = FeedOptions {
        tlp: Some(Tlp::Amber),
        ..FeedOptions::source("test")
    };
    let out = ingest_with(&[f], &opts, true);
    assert_eq!(levels(&out), want(Some(Tlp::Amber)));
    // The bundle also "redefines" the fixed TLP 1.0 GREEN id as red: ignored.
    assert_eq!(levels(&out)["tlp1-green.example"], Some(Tlp::Green));
}

#[test]
fn bare_array_of_scos() {
    let f = "handmade/bare-array-of-scos.json";
    let out = ingest(&[f]);
    let id = |t: &str, n: u32| format!("{t}--0c0ffee0-0000-5000-8000-{n:012}");
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Url, "http://evil.example/Gate.php", &id("url", 2)),
            a(Kind::Email, "bad.actor@evil.example", &id("email-addr", 3)),
            a(Kind::Ipv6, "2001:db8::/32", &id("ipv6-addr", 4)),
            a(
                Kind::Md5,
                "cead3f77f6cda6ec00f57d76c9a6879f",
                &id("file", 5)
            ),
            a(
                Kind::Sha256,
                "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
                &id("file", 5)
            ),
        ]
    );
    assert_eq!(
        triples(&out.unsupported),
        vec![
            (
                obj(f, &id("file", 6)),
                "file object without an MD5, SHA-1, SHA-256 or SHA-512 hash",
                "only-ssdeep.bin"
            ),
            (
                obj(f, &id("domain-name", 7)),
                "defanged value",
                "evil[.]example"
            ),
        ]
    );
    assert_eq!(
        triples(&out.rejected),
        vec![(
            obj(f, &id("ipv4-addr", 8)),
            "value does not have the stated kind",
            "2001:db8::8"
        )]
    );
}

#[test]
fn single_object_document() {
    let f = "handmade/single-indicator.json";
    let out = ingest(&[f]);
    let id = "indicator--00000400-0000-4000-8000-000000000400";
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Email, "phisher@evil.example", id),
            a(Kind::HttpRequest, "EvilBot/1.0", id)
        ]
    );
}

#[test]
fn truncated_json_keeps_what_came_before() {
    let f = "handmade/truncated.json";
    let out = ingest(&[f]);
    assert_eq!(
        accepted(&out),
        vec![
            a(
                Kind::Domain,
                "before-1.example",
                "indicator--00000500-0000-4000-8000-000000000500"
            ),
            a(
                Kind::Domain,
                "before-2.example",
                "indicator--00000501-0000-4000-8000-000000000501"
            ),
        ]
    );
    assert_eq!(
        triples(&out.rejected),
        vec![(
            Location::File { file: Arc::from(f) },
            "invalid JSON",
            "EOF while parsing a string at line 33 column 37"
        )]
    );
}

#[test]
fn documents_that_are_not_stix() {
    let file = || Location::File {
        file: Arc::from("inline.json"),
    };
    let out = read_str("");
    assert_eq!(
        triples(&out.rejected),
        vec![(
            file(),
            "invalid JSON",
            "EOF while parsing a value at line 1 column 0"
        )]
    );
    let out = read_str("\"hello\"");
    assert_eq!(
        triples(&out.rejected),
        vec![(
            file(),
            "not a STIX bundle, envelope or object",
            "top-level JSON value is not an object or array"
        )]
    );
    // Trailing garbage after a complete bundle: its objects stay, the garbage is reported.
    let out = read_str(
        r#"{"type":"bundle","objects":[{"type":"domain-name","id":"domain-name--1",
           "value":"kept.example"}]} garbage"#,
    );
    assert_eq!(
        accepted(&out),
        vec![a(Kind::Domain, "kept.example", "domain-name--1")]
    );
    assert_eq!(
        triples(&out.rejected),
        vec![(
            file(),
            "invalid JSON",
            "trailing characters at line 2 column 38"
        )]
    );
    // Every `objects` array is streamed, even a repeated key.
    let out = read_str(
        r#"{"objects":[{"type":"domain-name","id":"domain-name--1","value":"one.example"}],
            "more":true,
            "objects":[{"type":"domain-name","id":"domain-name--2","value":"two.example"}]}"#,
    );
    assert_eq!(
        accepted(&out),
        vec![
            a(Kind::Domain, "one.example", "domain-name--1"),
            a(Kind::Domain, "two.example", "domain-name--2")
        ]
    );
    // A top-level object without "objects" and without "type".
    let out = read_str(r#"{"title":"not stix"}"#);
    assert_eq!(
        triples(&out.rejected),
        vec![(
            obj("inline.json", "objects[0]"),
            "missing required property type",
            ""
        )]
    );
    // A single STIX 2.0 observed-data object: its `objects` map is not an array of objects.
    let out = read_str(
        r#"{"type":"observed-data","id":"observed-data--1","objects":{"0":{"type":"ipv4-addr","value":"198.51.100.1"}}}"#,
    );
    assert!(out.accepted.is_empty() && out.rejected.is_empty());
}

/// A reader that yields `data` and then fails.
struct FailingReader {
    data: io::Cursor<Vec<u8>>,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.data.read(buf)? {
            0 => Err(io::Error::other("disk on fire")),
            n => Ok(n),
        }
    }
}

#[test]
fn io_failure_is_an_error_and_objects_stream() {
    let doc = r#"{"type":"bundle","objects":[42, true, {"type":"ipv4-addr","id":"ipv4-addr--1","value":"198.51.100.1"},"#;
    let mut ingest = StixIngest::new(true);
    let mut out = VecCollector::default();
    let reader = FailingReader {
        data: io::Cursor::new(doc.as_bytes().to_vec()),
    };
    let err = ingest
        .read(
            reader,
            "broken.json",
            &FeedOptions::source("test"),
            &mut out,
        )
        .unwrap_err();
    assert!(err.is_io(), "{err}");
    assert!(err.to_string().contains("broken.json"), "{err}");
    // The elements before the failure were handled as they streamed past.
    assert_eq!(
        triples(&out.rejected),
        vec![
            (obj("broken.json", "objects[0]"), "not a JSON object", "42"),
            (
                obj("broken.json", "objects[1]"),
                "not a JSON object",
                "true"
            ),
        ]
    );
    ingest.finish(&mut out);
    assert_eq!(
        accepted(&out),
        vec![a(Kind::Ipv4, "198.51.100.1/32", "ipv4-addr--1")]
    );
}

/// A generated bundle of many indicators, produced lazily: the ingest never needs it whole.
#[test]
fn large_generated_bundle() {
    const N: usize = 20_000;
    struct Gen {
        i: usize,
        buf: Vec<u8>,
        pos: usize,
    }
    impl Read for Gen {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.pos == self.buf.len() {
                self.buf.clear();
                self.pos = 0;
                match self.i {
                    0 => self
                        .buf
                        .extend_from_slice(br#"{"type":"bundle","objects":["#),
                    i if i <= N => {
                        let sep = if i > 1 { "," } else { "" };
                        let ip = std::net::Ipv4Addr::from(0x0a00_0000u32 + i as u32);
                        self.buf.extend_from_slice(
                            format!(
                                r#"{sep}{{"type":"indicator","spec_version":"2.1","id":"indicator--{i}","modified":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z","pattern_type":"stix","pattern":"[ipv4-addr:value = '{ip}']"}}"#
                            )
                            .as_bytes(),
                        );
                    }
                    i if i == N + 1 => self.buf.extend_from_slice(b"]}"),
                    _ => return Ok(0),
                }
                self.i += 1;
            }
            let n = out.len().min(self.buf.len() - self.pos);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }
    let mut ingest = StixIngest::new(true);
    let mut out = VecCollector::default();
    let reader = Gen {
        i: 0,
        buf: Vec::new(),
        pos: 0,
    };
    ingest
        .read(reader, "gen.json", &FeedOptions::source("gen"), &mut out)
        .unwrap();
    ingest.finish(&mut out);
    assert_eq!(out.accepted.len(), N);
    assert_eq!(out.accepted[0].0.value.to_string(), "10.0.0.1/32");
    assert!(out.rejected.is_empty());
}

/// Every `*.json` of the staged corpus: no panic, sane counts.
#[test]
fn staged_corpus() {
    let root = std::env::var_os("TRAWL_STIX_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/data/stix"));
    if !root.is_dir() {
        println!(
            "skipped: {} does not exist (set TRAWL_STIX_DATA)",
            root.display()
        );
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(!files.is_empty());
    let mut per_file: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, BTreeMap<Kind, usize>> = BTreeMap::new();
    let mut rejects: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let mut ingest = StixIngest::new(true);
        let mut out = VecCollector::default();
        ingest
            .read(
                File::open(path).unwrap(),
                &rel,
                &FeedOptions::source("corpus"),
                &mut out,
            )
            .unwrap();
        ingest.finish(&mut out);
        let kinds = by_kind.entry(rel.clone()).or_default();
        for (n, _, _) in &out.accepted {
            *kinds.entry(n.value.kind()).or_default() += 1;
        }
        per_file.insert(
            rel.clone(),
            (
                out.accepted.len(),
                out.rejected.len(),
                out.unsupported.len(),
                out.dropped.len(),
            ),
        );
        println!(
            "{rel}: accepted {} rejected {} unsupported {} dropped {} {:?}",
            out.accepted.len(),
            out.rejected.len(),
            out.unsupported.len(),
            out.dropped.len(),
            kinds
        );
        for (at, reason, detail) in out.rejected.iter().take(3) {
            println!("    reject {at}: {reason}: {detail}");
        }
        rejects.insert(
            rel,
            out.rejected.into_iter().map(|(_, r, d)| (r, d)).collect(),
        );
    }
    let kind = |file: &str, k: Kind| {
        by_kind
            .get(file)
            .and_then(|m| m.get(&k))
            .copied()
            .unwrap_or(0)
    };
    let emotet = "unit42-playbooks-stix20/emotet.json";
    if per_file.contains_key(emotet) {
        // 886 indicators: ~730 SHA-256 (a few with a residual `file:name`), 140 URLs.
        assert!(kind(emotet, Kind::Sha256) >= 700, "{:?}", by_kind[emotet]);
        assert!(kind(emotet, Kind::Url) >= 100, "{:?}", by_kind[emotet]);
        assert_eq!(per_file[emotet].1, 0, "emotet rejects");
    }
    let trickbot = "unit42-playbooks-stix20/trickbot.json";
    if per_file.contains_key(trickbot) {
        assert!(
            kind(trickbot, Kind::Sha256) >= 600,
            "{:?}",
            by_kind[trickbot]
        );
    }
    let poisonivy = "cti-documentation/poisonivy.json";
    if per_file.contains_key(poisonivy) {
        assert!(per_file[poisonivy].0 >= 60, "{:?}", per_file[poisonivy]);
        // The example has one domain literal with a stray word in it.
        assert_eq!(
            rejects[poisonivy],
            vec![(
                "invalid domain name".to_string(),
                "domain autuo.xicp.net".to_string()
            )]
        );
    }
    let medallion = "taxii-medallion/default_data.json";
    if per_file.contains_key(medallion) {
        // A server data file, not a STIX document: one object without a type, nothing else.
        assert_eq!(per_file[medallion], (0, 1, 0, 0));
    }
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"objects\"",
        "\"type\"",
        "\"indicator\"",
        "\"bundle\"",
        "\"ipv4-addr\"",
        "\"file\"",
        "\"marking-definition\"",
        "\"observed-data\"",
        "\"id\"",
        "\"indicator--1\"",
        "\"ipv4-addr--1\"",
        "\"pattern\"",
        "\"[ipv4-addr:value = '198.51.100.1']\"",
        "\"[file:hashes.MD5 = 'x'] WITHIN 5 SECONDS\"",
        "\"pattern_type\"",
        "\"stix\"",
        "\"modified\"",
        "\"valid_from\"",
        "\"valid_until\"",
        "\"2020-01-01T00:00:00Z\"",
        "\"2021-01-01T00:00:00.5Z\"",
        "\"revoked\"",
        "true",
        "false",
        "null",
        "\"value\"",
        "\"object_marking_refs\"",
        "\"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed\"",
        "\"hashes\"",
        "\"SHA-256\"",
        "\"object_refs\"",
        "\"spec_version\"",
        "\"2.0\"",
        "\"2.1\"",
        "\"confidence\"",
        "101",
        "-1",
        "1e400",
        "\"\\u0000\"",
        "\"\\ud800\"",
    ];

    proptest! {
        #[test]
        fn ingest_never_fails_or_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let mut ingest = StixIngest::new(true);
            let mut out = VecCollector::default();
            let r = ingest.read(&bytes[..], "fuzz.json", &FeedOptions::source("fuzz"), &mut out);
            prop_assert!(r.is_ok());
            ingest.finish(&mut out);
        }

        #[test]
        fn ingest_never_fails_or_panics_on_json_soup(
            parts in prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80)
        ) {
            let doc = parts.concat();
            let mut ingest = StixIngest::new(true);
            let mut out = VecCollector::default();
            let r = ingest.read(doc.as_bytes(), "fuzz.json", &FeedOptions::source("fuzz"), &mut out);
            prop_assert!(r.is_ok());
            // Whatever was accepted is canonical and carries the object's id.
            ingest.finish(&mut out);
            for (_, meta, _) in &out.accepted {
                prop_assert!(meta.id.is_some());
            }
        }
    }
}
