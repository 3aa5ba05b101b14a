//! Files on the wire, end to end through `scan pcap`'s engine: the hashes trawl computes for
//! the files HTTP carries equal, value for value, what Suricata 8.0.6 writes in `fileinfo` for
//! the same captures; a hit on a file's hash carries the file (ECS `file.*`, EVE `files[]`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use serde_json::Value as Json;
use trawl::{EcsJsonLines, EveJsonLines, Hit, HitSink, ObservedIn, Sensor, SetVersion};

fn testdata(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// One file as a hit carries it: matched field, observed value, name, md5, sha1, sha256, size.
type FileHit = (String, String, String, String, String, String, u64);

/// Collects hits on files, and every hit as ECS and EVE lines.
#[derive(Clone, Default)]
struct Collect {
    files: Arc<Mutex<Vec<FileHit>>>,
    ecs: Arc<Mutex<Vec<Json>>>,
    eve: Arc<Mutex<Vec<Json>>>,
}

impl HitSink<Mmap> for Collect {
    fn write(&mut self, h: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let ObservedIn::Packet(field) = h.field else {
            panic!("a packet hit observed outside a packet");
        };
        if let Some(f) = &h.file {
            self.files.lock().unwrap().push((
                field.matched_name(h.matched.kind).to_string(),
                h.observed.clone(),
                f.name.clone(),
                hex(&f.digests.md5),
                hex(&f.digests.sha1),
                hex(&f.digests.sha256),
                f.digests.size,
            ));
        }
        let sensor = Sensor {
            name: "t".into(),
            hostname: "t".into(),
        };
        let mut ecs = EcsJsonLines::new(Vec::new(), sensor);
        ecs.write(h)?;
        let mut eve = EveJsonLines::new(Vec::new());
        eve.write(h)?;
        self.ecs
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&ecs.into_inner()).unwrap());
        self.eve
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&eve.into_inner()).unwrap());
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_post_body_hash_hits_and_the_hit_carries_the_file() {
    // Suricata 8.0.6 (`files` output, force-hash md5, sha1, sha256) on this capture: the
    // request body `hello world`, 11 bytes, named `/post`.
    let md5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";
    let sha1 = "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed";
    let sha256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";
    let dir = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    let stats = common::scan_capture(
        dir.path(),
        &format!("{md5}\n{sha256}\n"),
        &testdata("pcaps/zeek/http_post.pcap"),
        1,
        sink.clone(),
    );
    let mut files = sink.files.lock().unwrap().clone();
    files.sort();
    let file = |field: &str, observed: &str| {
        (
            field.to_string(),
            observed.to_string(),
            "/post".to_string(),
            md5.to_string(),
            sha1.to_string(),
            sha256.to_string(),
            11,
        )
    };
    assert_eq!(
        files,
        [file("file.hash.md5", md5), file("file.hash.sha256", sha256)]
    );
    assert_eq!(stats.app_errors.values().sum::<u64>(), 0, "{stats:?}");

    for doc in sink.ecs.lock().unwrap().iter() {
        assert_eq!(doc["file"]["hash"]["md5"], md5);
        assert_eq!(doc["file"]["hash"]["sha1"], sha1);
        assert_eq!(doc["file"]["hash"]["sha256"], sha256);
        assert_eq!(doc["file"]["size"], 11);
        assert_eq!(doc["file"]["name"], "/post");
        assert!(doc["file"]["hash"].get("sha512").is_none(), "not computed");
        let field = &doc["threat"]["enrichments"][0]["matched"]["field"];
        assert!(
            field == "file.hash.md5" || field == "file.hash.sha256",
            "{field}"
        );
    }
    for doc in sink.eve.lock().unwrap().iter() {
        assert_eq!(doc["app_proto"], "http");
        let f = &doc["files"][0];
        assert_eq!(
            (&f["md5"], &f["sha1"], &f["sha256"], &f["size"]),
            (
                &Json::from(md5),
                &Json::from(sha1),
                &Json::from(sha256),
                &Json::from(11)
            )
        );
        assert_eq!(f["filename"], "/post");
        assert_eq!(
            (&f["state"], &f["stored"], &f["gaps"]),
            (&"CLOSED".into(), &false.into(), &false.into())
        );
    }
}

/// The captures of `testdata/files/suricata-fileinfo.tsv` (in `testdata/pcaps/zeek`, or the
/// shared peer data when present) and, per capture, Suricata's files: whole (`CLOSED`) and
/// cut short (`TRUNCATED`), each as (md5, sha1, sha256, size).
type Expected = Vec<(PathBuf, Vec<(String, String, String, u64)>, Vec<String>)>;

fn suricata_files() -> Expected {
    let text = std::fs::read_to_string(testdata("files/suricata-fileinfo.tsv")).unwrap();
    let mut out: Expected = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let local = testdata("pcaps/zeek").join(f[0]);
        let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/pcaps/zeek")
            .join(f[0]);
        let Some(pcap) = [local, shared].into_iter().find(|p| p.exists()) else {
            continue;
        };
        if out.last().is_none_or(|e| e.0 != pcap) {
            out.push((pcap, Vec::new(), Vec::new()));
        }
        let e = out.last_mut().unwrap();
        if f[1] == "CLOSED" {
            e.1.push((f[3].into(), f[4].into(), f[5].into(), f[6].parse().unwrap()));
        } else {
            e.2.push(f[3].into());
        }
    }
    out
}

/// Files Suricata reports whole that trawl rightly does not, per shared capture. On
/// `http_1000-requests-one-dropped-response` the capture lost the first response's head and two
/// bytes of its body (238 bytes); Suricata still reports the 613 bytes left as a whole file
/// (`CLOSED`, no gaps) — a file nobody served. trawl cannot frame a response whose head it
/// lost, and resynchronises at the next one.
const KNOWN_MISSES: &[(&str, usize)] = &[("http_1000-requests-one-dropped-response.pcap", 1)];

/// Every file Suricata hashed whole on these HTTP captures is hashed by trawl to the same MD5,
/// SHA-1, SHA-256 and size (each MD5 in the set hits, and the hit's file equals Suricata's);
/// no file Suricata saw cut short is reported.
#[test]
fn http_file_hashes_equal_suricatas() {
    let expected = suricata_files();
    assert!(expected.len() >= 2, "the committed captures at least");
    for (pcap, whole, cut) in expected {
        let feed: String = whole
            .iter()
            .map(|w| &w.0)
            .chain(&cut)
            .map(|m| format!("{m}\n"))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let sink = Collect::default();
        common::scan_capture(dir.path(), &feed, &pcap, 2, sink.clone());
        let mut got: Vec<(String, String, String, u64)> = sink
            .files
            .lock()
            .unwrap()
            .iter()
            .map(|h| (h.3.clone(), h.4.clone(), h.5.clone(), h.6))
            .collect();
        got.sort();
        got.dedup();
        let mut want = whole.clone();
        want.sort();
        want.dedup();
        // Every file trawl reports has Suricata's values.
        for g in &got {
            assert!(want.contains(g), "{}: {g:?} not Suricata's", pcap.display());
        }
        // And all of them, but for the `KNOWN_MISSES`.
        let missed = want.len() - got.len();
        let allowed = KNOWN_MISSES
            .iter()
            .find(|k| pcap.ends_with(k.0))
            .map_or(0, |k| k.1);
        assert!(
            missed <= allowed,
            "{}: {missed} of {} missed",
            pcap.display(),
            want.len()
        );
    }
}
