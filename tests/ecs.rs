//! Every document trawl writes validates against the Elastic Common Schema (the field list of
//! ECS 9.3.0 in `testdata/ecs/`): packet hits of `scan pcap`, a live hit, log hits of
//! `scan logs`, the enrichments `--enrich` adds and the hits of `lookup --json`. Every field
//! outside the custom namespace (`trawl.*`, and `threat.enrichments.trawl.*` in each
//! enrichment) is an ECS field holding a value of its type (an `ip` holds a bare address, an
//! array only where ECS allows one, a value from ECS's list where it has one). And for one
//! indicator the `threat.enrichments[]` objects are the same bytes in every output. The
//! Elasticsearch templates of `tools/elasticsearch/` map every field trawl writes, ECS fields
//! with their ECS type.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value as Json, json};
use trawl::Exclusions;
use trawl::Field;
use trawl::IndicatorSet;
use trawl::Location;
use trawl::normalize;
use trawl::{CompileOptions, SetBuilder};
use trawl::{
    EcsJsonLines, FlowInfo, Hit, HitSink, ObservedIn, Origin, Seen, Sensor, SetVersion, Transport,
};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{Meta, Tlp};

fn testdata(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

/// One ECS field: its type, whether it may hold an array, the values it allows.
struct EcsField {
    ty: String,
    array: bool,
    allowed: Vec<String>,
    /// For `event.category`: the `event.type` values each category expects.
    expected_types: HashMap<String, Vec<String>>,
}

fn ecs_fields() -> HashMap<String, EcsField> {
    let text = std::fs::read_to_string(testdata("ecs/ecs_flat-9.3.0.tsv")).unwrap();
    let mut fields = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "{line}");
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let expected_types = cols[4]
            .split(';')
            .filter_map(|c| c.split_once('='))
            .map(|(cat, types)| (cat.to_string(), list(types)))
            .collect();
        fields.insert(
            cols[0].to_string(),
            EcsField {
                ty: cols[1].to_string(),
                array: cols[2].split(',').any(|n| n == "array"),
                allowed: list(cols[3]),
                expected_types,
            },
        );
    }
    assert!(fields.len() > 1500, "the whole ECS field list");
    fields
}

/// trawl's custom namespace: the top-level `trawl` object, and `trawl` in each enrichment
/// (`threat.enrichments` is a nested array, so what belongs to one source must sit in it).
fn custom(path: &str) -> bool {
    path.starts_with("trawl.") || path.starts_with("threat.enrichments.trawl.")
}

/// Leaves of `v` by dotted path; `in_array` says whether a JSON array was crossed on the way
/// to the leaf (below the last object in an array, for arrays of objects).
fn flatten(prefix: &str, v: &Json, out: &mut Vec<(String, Json, bool)>, in_array: bool) {
    match v {
        Json::Object(o) => {
            for (k, x) in o {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, x, out, false);
            }
        }
        Json::Array(a) => {
            if a.iter().all(Json::is_object) {
                // An array of objects: ECS must say the object path takes arrays.
                out.push((prefix.to_string(), Json::Null, true));
            }
            for x in a {
                flatten(prefix, x, out, !x.is_object());
            }
        }
        _ => out.push((prefix.to_string(), v.clone(), in_array)),
    }
}

/// Every way `doc` breaks ECS, as lines of text (empty: it validates).
fn violations(ecs: &HashMap<String, EcsField>, doc: &Json) -> Vec<String> {
    let mut leaves = Vec::new();
    flatten("", doc, &mut leaves, false);
    let mut bad = Vec::new();
    for (path, value, in_array) in &leaves {
        if custom(path) {
            continue;
        }
        let Some(f) = ecs.get(path) else {
            bad.push(format!("{path}: not an ECS field"));
            continue;
        };
        if *in_array && !f.array && f.ty != "nested" {
            bad.push(format!("{path}: ECS does not take an array here"));
        }
        if value.is_null() {
            // The marker of an array of objects.
            if !matches!(f.ty.as_str(), "nested" | "object") {
                bad.push(format!("{path}: objects in a {} field", f.ty));
            }
            continue;
        }
        let ok = match f.ty.as_str() {
            "ip" => value.as_str().is_some_and(|s| s.parse::<IpAddr>().is_ok()),
            "keyword" | "wildcard" | "constant_keyword" | "text" | "match_only_text" => {
                value.is_string()
            }
            "long" | "integer" | "short" | "byte" | "unsigned_long" => {
                value.is_u64() || value.is_i64()
            }
            "float" | "double" | "scaled_float" | "half_float" => value.is_number(),
            "boolean" => value.is_boolean(),
            "date" => value
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            _ => false,
        };
        if !ok {
            bad.push(format!("{path}: {value} is not a valid {}", f.ty));
        }
        if !f.allowed.is_empty()
            && !value
                .as_str()
                .is_some_and(|s| f.allowed.iter().any(|a| a == s))
        {
            bad.push(format!("{path}: {value} is not one of {:?}", f.allowed));
        }
    }
    // `event.type` values must be ones that one of the document's categories expects.
    let cats: Vec<&str> = doc
        .pointer("/event/category")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let expected = &ecs["event.category"].expected_types;
    for t in doc
        .pointer("/event/type")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
    {
        if !cats
            .iter()
            .any(|c| expected.get(*c).is_some_and(|ts| ts.iter().any(|x| x == t)))
        {
            bad.push(format!(
                "event.type {t} is not expected with categories {cats:?}"
            ));
        }
    }
    bad
}

fn assert_valid(ecs: &HashMap<String, EcsField>, what: &str, doc: &Json) {
    let bad = violations(ecs, doc);
    assert!(bad.is_empty(), "{what}: {bad:#?}\n{doc}");
}

/// The field types the Elasticsearch templates of `tools/elasticsearch/` map, by dotted path.
fn template_fields() -> HashMap<String, String> {
    fn walk(prefix: &str, props: &Json, out: &mut HashMap<String, String>) {
        for (k, m) in props.as_object().unwrap() {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Some(t) = m.get("type").and_then(Json::as_str) {
                out.insert(path.clone(), t.to_string());
            }
            if let Some(p) = m.get("properties") {
                walk(&path, p, out);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/elasticsearch");
    let mut out = HashMap::new();
    for f in ["trawl-fields.component.json", "trawl.index-template.json"] {
        let t: Json = serde_json::from_slice(&std::fs::read(root.join(f)).unwrap()).unwrap();
        walk("", &t["template"]["mappings"]["properties"], &mut out);
    }
    out
}

/// Every field of `doc` is mapped by the templates, with its ECS type.
fn assert_mapped(ecs: &HashMap<String, EcsField>, mapped: &HashMap<String, String>, doc: &Json) {
    let mut leaves = Vec::new();
    flatten("", doc, &mut leaves, false);
    for (path, _, _) in leaves {
        let Some(t) = mapped.get(&path) else {
            panic!("{path} is not in the index template: {doc}");
        };
        if !custom(&path) {
            assert_eq!(*t, ecs[&path].ty, "{path} in the index template");
        }
    }
}

/// Value with two sources (ids, scores, TLP, labels, description, validity), a network with
/// one, a host address, a hash, and the feeds of the packet and log fixtures.
fn set_file(dir: &Path) -> PathBuf {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let at = Location::File { file: "t".into() };
    let ais = Meta {
        source: "ais".into(),
        id: Some("indicator--0a1b2c3d-0000-4000-8000-000000000001".into()),
        score: Some(85),
        tlp: Some(Tlp::Amber),
        labels: vec!["c2".into(), "emotet".into()],
        description: Some("C2 of the week".into()),
        valid_until: Some(4_102_444_800),
        ..Meta::default()
    };
    let local = Meta {
        source: "local".into(),
        score: Some(20),
        tlp: Some(Tlp::Clear),
        ..Meta::default()
    };
    for (value, meta) in [
        ("evil.example", &ais),
        ("evil.example", &local),
        ("203.0.113.0/24", &local),
        ("97.107.139.108", &ais),
        (
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            &ais,
        ),
    ] {
        b.add(normalize::detect(value).unwrap(), meta, &at).unwrap();
    }
    let feed = dir.join("feed.csv");
    std::fs::write(
        &feed,
        "value,kind\nevil-cdn.example,domain\n198.51.100.66,ipv4\nphish.example,domain\n\
         http://malware.example/payload.exe,url\nEvilBot/1.0,http-request\n\
         ceo-fraud@bad-actor.example,email\n2001:db8:bad::/48,ipv6\n",
    )
    .unwrap();
    ingest_feeds(
        &[
            FeedSpec::new(&feed),
            FeedSpec::new(testdata("logs/indicators.txt")),
        ],
        &mut b,
    )
    .unwrap();
    let out = dir.join("intel.tset");
    b.write(&out).unwrap();
    out
}

fn trawl(args: &[&str]) -> Vec<Json> {
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sensor() -> Sensor {
    Sensor {
        name: "tap-7".into(),
        hostname: "sensor-host".into(),
    }
}

/// A hit as `sniff` reports it, on interface `eth1`, observed in `field`.
fn live_hit(set: &Path, observed: &str, field: Field) -> Json {
    let set = IndicatorSet::open(set).unwrap();
    let m = match observed.parse::<IpAddr>() {
        Ok(ip) => set.match_ip(ip),
        Err(_) => set.match_domain(observed),
    }
    .unwrap();
    let hit = Hit {
        set: Arc::new(SetVersion { set, generation: 1 }),
        matched: m,
        observed: observed.into(),
        field: ObservedIn::Packet(field),
        seen: Seen::Packet {
            ts: (1_767_225_600, 5_000),
            origin: Origin::Interface("eth1".into()),
            flow: FlowInfo {
                src: "192.0.2.10".parse().unwrap(),
                dst: "203.0.113.7".parse().unwrap(),
                src_port: None,
                dst_port: None,
                transport: Transport::Icmpv6,
            },
            vlans: [100, 7],
            tunnel: None,
        },
        file: None,
    };
    let mut sink = EcsJsonLines::new(Vec::new(), sensor());
    sink.write(&hit).unwrap();
    serde_json::from_slice(&sink.into_inner()).unwrap()
}

fn log_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in [
        "csv", "ecs", "nginx", "suricata", "syslog", "tricky", "zeek",
    ] {
        for e in std::fs::read_dir(testdata(&format!("logs/{dir}"))).unwrap() {
            let p = e.unwrap().path();
            if p.file_name().is_some_and(|n| n != "COPYING") {
                files.push(p.display().to_string());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_document_trawl_writes_validates_against_ecs() {
    let ecs = ecs_fields();
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let s = set.to_str().unwrap();
    let pcaps = [
        testdata("pcaps/crafted.pcap"),
        testdata("pcaps/vlans.pcap"),
        testdata("pcaps/tunnels/crafted.pcap"),
    ];
    let pcaps: Vec<&str> = pcaps.iter().map(|p| p.to_str().unwrap()).collect();

    let mut args = vec![
        "scan",
        "pcap",
        "--no-progress",
        "--sensor",
        "tap-7",
        "-s",
        s,
    ];
    args.extend(&pcaps);
    let packet = trawl(&args);
    assert!(packet.len() >= 10, "{packet:?}");
    let mapped = template_fields();
    let mut fields_seen = Vec::new();
    for doc in &packet {
        assert_valid(&ecs, "scan pcap", doc);
        assert_mapped(&ecs, &mapped, doc);
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["observer"]["name"], "tap-7");
        assert!(doc["observer"]["hostname"].is_string());
        // The observed value is in the document under the field that matched (Kibana pivots
        // on it); trawl.http.request is trawl's own.
        for e in doc["threat"]["enrichments"].as_array().unwrap() {
            let field = e["matched"]["field"].as_str().unwrap();
            let atomic = &e["matched"]["atomic"];
            let mut leaves = Vec::new();
            flatten("", doc, &mut leaves, false);
            assert!(
                leaves.iter().any(|(p, v, _)| p == field && v == atomic),
                "{field} = {atomic} missing in {doc}"
            );
            fields_seen.push(field.to_string());
        }
    }
    fields_seen.sort();
    fields_seen.dedup();
    // A hit inside a tunnel says which, in trawl's namespace (ECS has no tunnel fields).
    assert!(
        packet.iter().any(|d| d["trawl"]["tunnel"]["type"] == "gre"
            && d["trawl"]["tunnel"]["source"]["ip"] == "2001:db8:ffff::1"),
        "no tunnelled hit"
    );
    for f in [
        "dns.question.name",
        "dns.answers.data",
        "dns.answers.name",
        "tls.client.server_name",
        "url.full",
        "email.from.address",
        "destination.ip",
        "trawl.http.request",
    ] {
        assert!(fields_seen.iter().any(|x| x == f), "{f} in {fields_seen:?}");
    }
    // A network indicator is no `ip`; a host address is, without its prefix.
    let ips: Vec<&Json> = packet
        .iter()
        .flat_map(|d| d["threat"]["enrichments"].as_array().unwrap())
        .map(|e| &e["indicator"])
        .filter(|i| i["type"] == "ipv4-addr" || i["type"] == "ipv6-addr")
        .collect();
    assert!(
        ips.iter()
            .any(|i| i["name"] == "2001:db8:bad::/48" && i.get("ip").is_none())
    );
    assert!(
        ips.iter()
            .any(|i| i["name"] == "198.51.100.66/32" && i["ip"] == "198.51.100.66")
    );
    // VLAN tags are ECS's.
    assert!(
        packet
            .iter()
            .any(|d| d["network"]["vlan"]["id"].is_string())
    );

    // A Referer's host and a forwarded-for address: under ECS's http.request.referrer and
    // trawl's own trawl.http.forwarded_for.
    for (observed, field, path) in [
        (
            "evil.example",
            Field::HttpReferrer,
            ["http", "request", "referrer"],
        ),
        (
            "97.107.139.108",
            Field::HttpForwardedFor,
            ["trawl", "http", "forwarded_for"],
        ),
    ] {
        let doc = live_hit(&set, observed, field);
        assert_valid(&ecs, field.ecs(), &doc);
        assert_mapped(&ecs, &mapped, &doc);
        assert_eq!(doc[path[0]][path[1]][path[2]], observed, "{doc}");
        assert_eq!(
            doc["threat"]["enrichments"][0]["matched"]["field"],
            field.ecs()
        );
    }

    let live = live_hit(&set, "97.107.139.108", Field::DestinationIp);
    assert_valid(&ecs, "live hit", &live);
    assert_mapped(&ecs, &mapped, &live);
    assert_eq!(live["observer"]["ingress"]["interface"]["name"], "eth1");
    assert_eq!(live["network"]["transport"], "ipv6-icmp");
    assert_eq!(live["network"]["iana_number"], "58");
    assert_eq!(live["network"]["inner"]["vlan"]["id"], "7");
    let e = &live["threat"]["enrichments"][0];
    assert_eq!(e["indicator"]["ip"], "97.107.139.108");
    assert_eq!(e["indicator"]["marking"]["tlp"], "AMBER");
    assert_eq!(
        e["trawl"]["id"][0],
        "indicator--0a1b2c3d-0000-4000-8000-000000000001"
    );
    assert_eq!(e["trawl"]["score"], 85);
    assert_eq!(e["trawl"]["labels"], json!(["c2", "emotet"]));
    assert_eq!(e["trawl"]["valid_until"], "2100-01-01T00:00:00.000000Z");

    let files = log_files();
    let mut args = vec!["scan", "logs", "--sensor", "tap-7", "-s", s];
    args.extend(files.iter().map(String::as_str));
    let logs = trawl(&args);
    assert!(logs.len() > 50, "{}", logs.len());
    for doc in &logs {
        assert_valid(&ecs, "scan logs", doc);
        assert_mapped(&ecs, &mapped, doc);
        assert_eq!(doc["event"]["kind"], "alert");
        assert_eq!(doc["observer"]["name"], "tap-7");
    }

    // `--enrich` passes records through: what trawl adds is the enrichments (and the
    // `message` a line that is not JSON is wrapped in).
    args.insert(2, "--enrich");
    let mut enriched = 0;
    for doc in trawl(&args) {
        let mut added = json!({ "threat": { "enrichments": doc.pointer("/threat/enrichments") } });
        if doc
            .as_object()
            .is_some_and(|o| o.len() == 2 && o.contains_key("message"))
            || doc.as_object().is_some_and(|o| o.len() == 1)
        {
            added["message"] = doc["message"].clone();
        }
        if let Some(list) = doc.pointer("/threat/enrichments").and_then(Json::as_array) {
            // Only the enrichments trawl wrote: a record may carry older ones.
            let own: Vec<Json> = list
                .iter()
                .filter(|e| e.get("trawl").is_some())
                .cloned()
                .collect();
            enriched += own.len();
            added["threat"]["enrichments"] = json!(own);
            assert_valid(&ecs, "scan logs --enrich", &added);
            assert_mapped(&ecs, &mapped, &added);
        }
    }
    assert!(enriched > 50, "{enriched}");

    let mut args = vec!["lookup", "--json", s];
    let values = [
        "www.evil.example",
        "203.0.113.9",
        "97.107.139.108",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "http://malware.example/payload.exe",
        "ceo-fraud@bad-actor.example",
    ];
    args.extend(values);
    let rows = trawl(&args);
    assert_eq!(rows.len(), values.len());
    for row in rows {
        assert_eq!(row["matched"], true, "{row}");
        let doc = json!({ "threat": { "enrichments": row["hits"] } });
        assert_valid(&ecs, "lookup --json", &doc);
        assert_mapped(&ecs, &mapped, &doc);
    }
}

/// The enrichment objects of every document in `docs` that say `provider`'s indicator `value`
/// matched `atomic`, as bytes.
fn enrichments_of(docs: &[Json], provider: &str, value: &str, atomic: &str) -> Vec<String> {
    docs.iter()
        .filter_map(|d| {
            d.pointer("/threat/enrichments")
                .or_else(|| d.get("hits"))
                .and_then(Json::as_array)
        })
        .flatten()
        .filter(|e| {
            e["indicator"]["provider"] == provider
                && e["trawl"]["indicator"]["value"] == value
                && e["matched"]["atomic"] == atomic
        })
        .map(|e| serde_json::to_string(e).unwrap())
        .collect()
}

#[test]
fn enrichments_are_the_same_bytes_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    let s = set.to_str().unwrap();
    let pcap = testdata("pcaps/crafted.pcap");
    // crafted.pcap: `www.evil.example` asked in DNS (frame 1), 203.0.113.7 a destination.
    let packet = trawl(&[
        "scan",
        "pcap",
        "--no-progress",
        "-s",
        s,
        pcap.to_str().unwrap(),
    ]);
    let live = [
        live_hit(&set, "203.0.113.7", Field::DestinationIp),
        live_hit(&set, "www.evil.example", Field::DnsQuestion),
    ];
    let log = dir.path().join("ecs.json");
    std::fs::write(
        &log,
        "{\"destination.ip\":\"203.0.113.7\"}\n{\"dns.question.name\":\"www.evil.example\"}\n",
    )
    .unwrap();
    let log = log.to_str().unwrap();
    let logs = trawl(&["scan", "logs", "-s", s, log]);
    let enriched = trawl(&["scan", "logs", "--enrich", "-s", s, log]);
    let lookup = trawl(&["lookup", "--json", s, "203.0.113.7", "www.evil.example"]);

    for (provider, value, atomic, sources) in [
        ("local", "203.0.113.0/24", "203.0.113.7", 1),
        ("ais", "evil.example", "www.evil.example", 2),
        ("local", "evil.example", "www.evil.example", 2),
    ] {
        let want = enrichments_of(&live, provider, value, atomic);
        assert_eq!(want.len(), 1, "{provider} {value}");
        let doc: Json = serde_json::from_str(&want[0]).unwrap();
        let all = live
            .iter()
            .find(|d| d["trawl"]["indicator"]["value"] == value)
            .unwrap();
        assert_eq!(
            all["threat"]["enrichments"].as_array().unwrap().len(),
            sources
        );
        for (lane, docs) in [
            ("scan pcap", &packet[..]),
            ("scan logs", &logs),
            ("--enrich", &enriched),
        ] {
            let got = enrichments_of(docs, provider, value, atomic);
            assert!(!got.is_empty(), "{lane}: no {provider} {value}");
            for g in got {
                assert_eq!(g, want[0], "{lane}");
            }
        }
        // lookup has no field the value was seen in: the same object without `matched.field`.
        let mut no_field = doc.clone();
        no_field["matched"].as_object_mut().unwrap().remove("field");
        let got = enrichments_of(&lookup, provider, value, atomic);
        assert_eq!(got, [serde_json::to_string(&no_field).unwrap()], "lookup");
    }
}

#[test]
fn the_check_catches_what_ecs_does_not_allow() {
    let ecs = ecs_fields();
    let ok = json!({
        "@timestamp": "2026-01-01T00:00:00Z",
        "event": { "kind": "alert", "category": ["threat"], "type": ["indicator"] },
        "threat": { "enrichments": [{ "indicator": { "ip": "97.107.139.108" } }] },
        "trawl": { "anything": [1, {"x": 2}] },
    });
    assert_eq!(violations(&ecs, &ok), Vec::<String>::new());
    // What trawl wrote before, and other mistakes: each is caught.
    for (pointer, value) in [
        (
            "/threat/enrichments/0/indicator/ip",
            json!("97.107.139.108/32"),
        ),
        (
            "/threat/enrichments/0/indicator/id",
            json!(["indicator--1"]),
        ),
        ("/threat/enrichments/0/indicator/score", json!(85)),
        ("/log", json!({ "offset": 12 })),
        ("/event/kind", json!("hit")),
        ("/event/category", json!(["network"])),
        ("/source", json!({ "port": "53" })),
        ("/@timestamp", json!("yesterday")),
        ("/event/dataset", json!(["a", "b"])),
    ] {
        let mut doc = ok.clone();
        match doc.pointer_mut(pointer) {
            Some(v) => *v = value,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                doc.pointer_mut(parent).unwrap()[key] = value;
            }
        }
        assert!(!violations(&ecs, &doc).is_empty(), "{pointer}: {doc}");
    }
}

/// A hit in each field of a TLS handshake (certificate names and fingerprints, JA3/JA4)
/// validates, is mapped by the index templates, and has the observed value at the field it
/// names: the ECS `tls.*` fields, `trawl.tls.*` for JA4 and JA4S (ECS has none).
#[test]
fn tls_handshake_fields_validate_and_hold_the_observed_value() {
    let ecs = ecs_fields();
    let mapped = template_fields();
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path());
    for field in [
        Field::X509SubjectCn,
        Field::X509San,
        Field::TlsServerMd5,
        Field::TlsServerSha1,
        Field::TlsServerSha256,
        Field::Ja3,
        Field::Ja3s,
        Field::Ja4,
        Field::Ja4s,
    ] {
        let doc = live_hit(&set, "www.evil.example", field);
        assert_valid(&ecs, field.ecs(), &doc);
        assert_mapped(&ecs, &mapped, &doc);
        let mut leaves = Vec::new();
        flatten("", &doc, &mut leaves, false);
        assert!(
            leaves
                .iter()
                .any(|(p, v, _)| p == field.ecs() && v == "www.evil.example"),
            "{}: {doc}",
            field.ecs()
        );
        assert_eq!(
            doc["threat"]["enrichments"][0]["matched"]["field"],
            field.ecs()
        );
    }
}
