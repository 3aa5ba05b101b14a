//! Keeping a set current: `trawl feeds pull` against medallion (TAXII, incremental), a MISP
//! feed directory (only new or changed events fetched), a local file; the set recompiled only
//! when something changed; a server that goes away leaves the previous data serving; a crash
//! between a store write and its rename leaves the previous state.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::medallion::{COLLECTION, INDICATORS, indicator, start};
use trawl::IndicatorSet;
use trawl::testing::taxii::{Auth, Client, ClientOptions};
use trawl::testing::{self as feeds, Config};

fn misp_feed(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let uuid = "57c4445b-c548-4654-af0b-4be3950d210f";
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("testdata/misp/circl-xorist-{uuid}.json"));
    std::fs::copy(src, dir.join(format!("{uuid}.json"))).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        format!(r#"{{"{uuid}": {{"info": "Ransomware - Xorist", "timestamp": "1472569413"}}}}"#),
    )
    .unwrap();
}

fn write_config(dir: &Path, api_root: &str) -> std::path::PathBuf {
    misp_feed(&dir.join("misp-feed"));
    std::fs::write(dir.join("local.txt"), "203.0.113.50\nlocal.evil.example\n").unwrap();
    let path = dir.join("trawl.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[set]
output = "intel.tset"
store = "store"

[[feed]]
name = "taxii-test"
kind = "taxii"
api_root = "{api_root}"
collection = "{COLLECTION}"
auth = {{ user = "user", password = "pass" }}
page_size = 100
score = 70

[[feed]]
name = "circl"
kind = "misp"
path = "misp-feed"

[[feed]]
name = "local"
kind = "file"
path = "local.txt"
"#
        ),
    )
    .unwrap();
    path
}

fn fetched(r: &feeds::PullReport, name: &str) -> (u64, bool, Option<String>) {
    let f = r.feeds.iter().find(|f| f.name == name).unwrap();
    (f.fetched, f.changed, f.error.clone())
}

#[test]
fn pulls_incrementally_recompiles_on_change_and_survives_faults() {
    let Some(server) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_config(dir.path(), &server.api_root);
    let config = Config::load(&config_path).unwrap();

    // First pull: everything, and a set.
    let r = feeds::pull(&config, false).unwrap();
    assert_eq!(
        fetched(&r, "taxii-test"),
        (INDICATORS as u64 + 1, true, None)
    );
    assert_eq!(fetched(&r, "circl"), (1, true, None));
    assert!(r.compiled.is_some());
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("renamed.evil.example").is_some());
    assert!(set.match_domain("revoked.evil.example").is_none());
    let hit = set
        .match_hash_hex(b"0749bae92ca336a02c83d126e04ec628")
        .unwrap();
    assert_eq!(
        set.indicator(hit.indicator)
            .unwrap()
            .provenance()
            .next()
            .unwrap()
            .source,
        "circl"
    );
    let hit = set.match_domain("host3.evil.example").unwrap();
    let p = set
        .indicator(hit.indicator)
        .unwrap()
        .provenance()
        .next()
        .unwrap();
    assert_eq!((p.source, p.score), ("taxii-test", Some(70)));
    assert!(set.match_domain("local.evil.example").is_some());
    let built = std::fs::metadata(&config.set.output)
        .unwrap()
        .modified()
        .unwrap();

    // Second pull: nothing new anywhere, the set is left alone.
    std::thread::sleep(Duration::from_millis(20));
    let r = feeds::pull(&config, false).unwrap();
    assert_eq!(fetched(&r, "taxii-test"), (0, false, None));
    assert_eq!(fetched(&r, "circl"), (0, false, None));
    assert!(r.compiled.is_none());
    assert_eq!(
        std::fs::metadata(&config.set.output)
            .unwrap()
            .modified()
            .unwrap(),
        built
    );

    // New objects on the server: only they are fetched, and the set is rebuilt.
    let client = Client::new(ClientOptions {
        auth: Auth::Basic {
            user: "user".into(),
            password: "pass".into(),
        },
        ..ClientOptions::default()
    })
    .unwrap();
    let new = [indicator(
        30_000,
        "[domain-name:value = 'fresh.evil.example']",
        3,
        false,
    )];
    let status = client
        .post_and_wait(&server.api_root, COLLECTION, &new, Duration::from_secs(10))
        .unwrap();
    assert_eq!(status["status"], "complete");
    // A crash between a store write and its rename leaves a temp file behind: harmless.
    std::fs::write(
        config.set.store.join("taxii-test/.bundle.json.tmp.99999"),
        b"{garbage",
    )
    .unwrap();
    let r = feeds::pull(&config, false).unwrap();
    assert_eq!(fetched(&r, "taxii-test"), (1, true, None));
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("fresh.evil.example").is_some());
    assert!(
        set.match_domain("renamed.evil.example").is_some(),
        "earlier objects kept"
    );

    // The server goes away: the pull reports it, the stored data keeps serving.
    drop(server);
    let r = feeds::pull(&config, true).unwrap();
    let (_, changed, error) = fetched(&r, "taxii-test");
    assert!(!changed && error.is_some(), "{error:?}");
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("fresh.evil.example").is_some());

    // The CLI: exit 1 when a feed failed; `feeds list` shows every feed and the set.
    let trawl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(args)
            .output()
            .unwrap()
    };
    let c = config_path.to_str().unwrap();
    let o = trawl(&["feeds", "pull", "-c", c]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("previous data kept"));
    let o = trawl(&["feeds", "list", "-c", c]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    for want in [
        "taxii-test",
        "circl",
        "local",
        "taxii",
        "misp",
        "indicators, built",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    // Columns: feed, kind, last pull (time and age), objects stored, indicators in the set,
    // pulls. The indicators are counted here from the set's provenance, one by one.
    let columns = |feed: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(feed)).unwrap();
        line.split_whitespace().map(str::to_string).collect()
    };
    let set = IndicatorSet::open(&config.set.output).unwrap();
    let from = |source: &str| {
        (0..set.len() as u32)
            .filter(|&i| {
                set.indicator(i)
                    .unwrap()
                    .provenance()
                    .any(|p| p.source == source)
            })
            .count()
            .to_string()
    };
    let taxii = columns("taxii-test");
    assert_eq!(taxii[4], (INDICATORS + 2).to_string(), "{taxii:?}");
    assert_eq!(taxii[5], from("taxii-test"), "{taxii:?}");
    assert_eq!(columns("circl")[5], from("circl"));
    assert_ne!(from("circl"), "0");
}

#[test]
fn a_feed_s_own_score_and_tlp_limits_apply_to_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["low", "red", "other"] {
        std::fs::write(
            dir.path().join(format!("{name}.txt")),
            format!("{name}.limits.example\n"),
        )
        .unwrap();
    }
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"st\"\nmin_score = 20\n\
         [[feed]]\nname = \"low\"\nkind = \"file\"\npath = \"low.txt\"\nscore = 30\nmin_score = 50\n\
         [[feed]]\nname = \"red\"\nkind = \"file\"\npath = \"red.txt\"\ntlp = \"red\"\ntlp_max = \"amber\"\n\
         [[feed]]\nname = \"other\"\nkind = \"file\"\npath = \"other.txt\"\nscore = 30\ntlp = \"red\"\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let r = feeds::pull(&config, false).unwrap();
    let report = r.compiled.unwrap();
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("low.limits.example").is_none());
    assert!(set.match_domain("red.limits.example").is_none());
    assert!(
        set.match_domain("other.limits.example").is_some(),
        "the limits of one feed do not touch another"
    );
    let filtered: Vec<&String> = report.filtered.keys().collect();
    assert_eq!(filtered, ["TLP above amber", "score below 50"]);

    // An edited local feed is stored again at the next pull and the set rebuilt, then left
    // alone.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        dir.path().join("other.txt"),
        "other.limits.example\nadded.limits.example\n",
    )
    .unwrap();
    assert!(
        !feeds::set_is_stale(&config),
        "the set is as new as the store"
    );
    assert!(feeds::pull(&config, false).unwrap().compiled.is_some());
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("added.limits.example").is_some());
    assert!(feeds::pull(&config, false).unwrap().compiled.is_none());
}

/// A feed's `value_kind` makes every value of a plain list that kind: a JA3 list's digests are
/// JA3 fingerprints, not file MD5s; an unknown kind is a config error.
#[test]
fn a_feed_s_value_kind_types_its_plain_values() {
    let dir = tempfile::tempdir().unwrap();
    let ja3 = "e7d705a3286e19ea42f587b344ee6865";
    std::fs::write(dir.path().join("ja3.txt"), format!("{ja3}\n")).unwrap();
    let path = dir.path().join("trawl.toml");
    let config = |kind: &str| {
        format!(
            "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
             [[feed]]\nname = \"ja3\"\nkind = \"file\"\npath = \"ja3.txt\"\nvalue_kind = \"{kind}\"\n"
        )
    };
    std::fs::write(&path, config("ja5")).unwrap();
    let err = format!("{:#}", Config::load(&path).unwrap_err());
    assert!(err.contains("unknown value kind"), "{err}");
    std::fs::write(&path, config("ja3")).unwrap();
    let config = Config::load(&path).unwrap();
    feeds::pull(&config, false).unwrap();
    let set = IndicatorSet::open(&config.set.output).unwrap();
    let digest: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&ja3[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert!(set.match_fingerprint(trawl::Kind::Ja3, &digest).is_some());
    assert!(set.match_hash(&digest).is_none(), "not a file MD5");
}

#[test]
fn a_changed_misp_event_is_fetched_again_and_bad_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    misp_feed(&dir.path().join("m"));
    let path = dir.path().join("trawl.toml");
    std::fs::write(&path, "[set]\noutput = \"s.tset\"\nstore = \"st\"\n[[feed]]\nname = \"m\"\nkind = \"misp\"\npath = \"m\"\n").unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(
        fetched(&feeds::pull(&config, false).unwrap(), "m"),
        (1, true, None)
    );
    assert_eq!(
        fetched(&feeds::pull(&config, false).unwrap(), "m"),
        (0, false, None)
    );
    let manifest = dir.path().join("m/manifest.json");
    let text = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace("1472569413", "1472569999");
    std::fs::write(&manifest, text).unwrap();
    assert_eq!(
        fetched(&feeds::pull(&config, false).unwrap(), "m"),
        (1, true, None)
    );
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(!set.is_empty());
    // An empty manifest is refused by the shrink guard: the event stays.
    std::fs::write(&manifest, "{}").unwrap();
    let r = feeds::pull(&config, false).unwrap();
    let (_, changed, error) = fetched(&r, "m");
    assert!(!changed);
    assert_eq!(
        error.unwrap(),
        "empty manifest: would shrink from 1 to 0 events (-100.0 %); previous data kept; \
         allow_shrink = true or --force to accept"
    );
    assert!(!IndicatorSet::open(&config.set.output).unwrap().is_empty());
    // Forced, the event leaves the manifest: it leaves the store and the set.
    let r = feeds::pull(&config, true).unwrap();
    assert_eq!(fetched(&r, "m"), (0, true, None));
    assert!(r.compiled.is_some());
    assert_eq!(IndicatorSet::open(&config.set.output).unwrap().len(), 0);
    assert!(trawl::testing::store::event_files(&config.set.store.join("m")).is_empty());

    for (bad, why) in [
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\n[[feed]]\nname = \"a/b\"\nkind = \"file\"\n",
            "feed name",
        ),
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\n[[feed]]\nname = \"a\"\nkind = \"ftp\"\n",
            "unknown variant",
        ),
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\nbogus = 1\n",
            "unknown field",
        ),
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\nmax_shrink = 1.5\n",
            "max_shrink = 1.5: a fraction from 0 to 1",
        ),
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\n[[feed]]\nname = \"a\"\nkind = \"file\"\nmax_shrink = -0.1\n",
            "feed \"a\": max_shrink = -0.1",
        ),
        (
            "[set]\noutput = \"s\"\nstore = \"t\"\n[[feed]]\nname = \"a\"\nkind = \"file\"\n[[feed]]\nname = \"a\"\nkind = \"file\"\n",
            "twice",
        ),
    ] {
        std::fs::write(&path, bad).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains(why), "{why}: {err}");
    }
}

#[test]
fn sightings_are_posted_to_the_taxii_feed_and_read_back() {
    let Some(server) = start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config_path = write_config(dir.path(), &server.api_root);
    let config = Config::load(&config_path).unwrap();
    feeds::pull(&config, false).unwrap();
    let set = config.set.output.to_str().unwrap().to_string();

    // Real hits: a log line naming two pulled indicators, scanned by trawl.
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "GET http://host3.evil.example/ from 198.51.0.1\nlookup host6.evil.example\n",
    )
    .unwrap();
    let trawl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(args)
            .output()
            .unwrap()
    };
    let hits = trawl(&["scan", "logs", "-s", &set, "-q", log.to_str().unwrap()]);
    assert_eq!(hits.status.code(), Some(0));
    let hits_path = dir.path().join("hits.jsonl");
    std::fs::write(&hits_path, &hits.stdout).unwrap();

    let out = dir.path().join("sightings.json");
    let c = config_path.to_str().unwrap();
    let o = trawl(&[
        "sightings",
        "-s",
        &set,
        hits_path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--post",
        "taxii-test",
        "-c",
        c,
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("status complete"), "{stderr}");
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let mut posted: Vec<String> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "sighting")
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    posted.sort();
    assert_eq!(
        posted.len(),
        3,
        "host3 (URL host and name), 198.51.0.1, host6: {bundle}"
    );
    // The status resource counts every object posted as a success.
    let sent = bundle["objects"].as_array().unwrap().len();
    let summary =
        format!("posted {sent} objects to taxii-test: status complete, {sent} succeeded, 0 failed");
    assert!(stderr.contains(&summary), "{stderr}");

    // Read back from the collection.
    let client = Client::new(ClientOptions {
        auth: Auth::Basic {
            user: "user".into(),
            password: "pass".into(),
        },
        ..ClientOptions::default()
    })
    .unwrap();
    let query = trawl::testing::taxii::ObjectsQuery {
        types: vec!["sighting".into()],
        ..Default::default()
    };
    let mut back = Vec::new();
    client
        .objects(&server.api_root, COLLECTION, &query, |o| back.push(o))
        .unwrap();
    let mut ids: Vec<String> = back
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, posted);
    for o in &back {
        let of = o["sighting_of_ref"].as_str().unwrap();
        assert!(of.starts_with("indicator--"), "{o}");
        assert!(o["count"].as_u64().unwrap() >= 1);
    }
    // A feed that is not in the configuration is an error.
    let o = trawl(&[
        "sightings",
        "-s",
        &set,
        hits_path.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--post",
        "nope",
        "-c",
        c,
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A small HTTP server (Python's http.server) for fault tests: `/list.txt` serves a feed list
/// whose content the test changes; under `/bad/api1/collections/C/objects/` it answers 500 to
/// the first two requests, then a page that is not JSON; under `/flaky/` it answers 503 once
/// and then a valid empty envelope; under `/revoke/`, ten indicators, then nine revocations.
const FAULTY: &str = r#"
import http.server, json, sys, os, time, urllib.parse
hits = {"bad": 0, "flaky": 0}
def indicator(name):
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--%s" % name,
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "valid_from": "2026-01-01T00:00:00.000Z", "pattern_type": "stix",
            "pattern": "[domain-name:value = '%s.resume.example']" % name}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/taxii+json;version=2.1", added=None):
        self.send_response(code); self.send_header("Content-Type", ctype)
        if added: self.send_header("X-TAXII-Date-Added-Last", added)
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        if self.path == "/list.txt":
            return self.send(200, open("list.txt", "rb").read(), "text/plain")
        if self.path.startswith("/misp/"):
            name = self.path[len("/misp/"):]
            try:
                return self.send(200, open("misp/" + name, "rb").read(), "application/json")
            except OSError:
                return self.send(404, b'{"title": "no such event"}')
        kind = self.path.split("/")[1]
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        if kind == "nonext":
            # More without `next`: paged by added_after; then a numeric `next`.
            aa = query.get("added_after", [None])[0]
            nx = query.get("next", [None])[0]
            t1 = "2026-01-01T00:00:01.000Z"
            if aa is None and nx is None:
                page, added = {"more": True, "objects": [indicator("n1")]}, t1
            elif aa == t1 and nx is None:
                page, added = {"more": True, "next": 7, "objects": [indicator("n2")]}, "2026-01-01T00:00:02.000Z"
            elif aa == t1 and nx == "7":
                page, added = {"more": False, "objects": [indicator("n3")]}, "2026-01-01T00:00:03.000Z"
            elif nx is None:
                page, added = {"more": False, "objects": []}, None  # a later pull: nothing new
            else:
                return self.send(400, json.dumps({"title": "unexpected query %r" % query}).encode())
            return self.send(200, json.dumps(page).encode(), added=added)
        if kind == "revoke":
            # Ten indicators; a later pull (after them) revokes nine.
            if "added_after" not in query:
                page = {"more": False, "objects": [indicator("r%d" % i) for i in range(10)]}
                return self.send(200, json.dumps(page).encode(), added="2026-01-01T00:00:01.000Z")
            gone = [dict(indicator("r%d" % i), modified="2026-01-02T00:00:00.000Z", revoked=True)
                    for i in range(9)]
            page = {"more": False, "objects": gone}
            return self.send(200, json.dumps(page).encode(), added="2026-01-02T00:00:01.000Z")
        if kind == "stuck":
            # More, forever, with nothing to continue from.
            return self.send(200, b'{"more": true, "objects": []}')
        if kind == "slow":
            # 20 pages of 50 indicators, 100 ms each: a pull long enough to be killed in.
            n = int(query.get("next", ["0"])[0])
            page = {"more": n < 19, "next": str(n + 1),
                    "objects": [indicator("s%d" % (n * 50 + i)) for i in range(50)]}
            time.sleep(0.1)
            return self.send(200, json.dumps(page).encode(), added="2026-01-01T00:%02d:00.000Z" % n)
        if kind == "resume":
            # Page one, then a page that always fails; a pull resumed from page one's
            # Date-Added-Last (less a second) gets the rest.
            if "added_after" in query:
                if query["added_after"] == ["2026-01-01T00:00:09Z"]:
                    page = {"more": False, "objects": [indicator("c")]}
                    return self.send(200, json.dumps(page).encode(), added="2026-01-01T00:00:20.000Z")
                return self.send(200, b'{"more": false, "objects": []}')
            if "next" in query:
                return self.send(500, b'{"title": "page two is lost"}')
            bad = dict(indicator("bad"), pattern="[domain-name:value = ")
            page = {"more": True, "next": "2",
                    "objects": [indicator("a"), 42, {"type": "indicator"}, bad, indicator("b")]}
            return self.send(200, json.dumps(page).encode(), added="2026-01-01T00:00:10.000Z")
        if kind in hits:
            hits[kind] += 1
            if kind == "bad":
                if hits[kind] <= 2:
                    return self.send(500, b'{"title": "backend down", "description": "try later"}')
                return self.send(200, b'{"objects": [')
            if hits[kind] == 1:
                return self.send(503, b"")
            return self.send(200, b'{"more": false, "objects": []}')
        self.send(404, b'{"title": "not found"}')
class Quiet(http.server.HTTPServer):
    def handle_error(self, *a): pass  # clients killed mid-request
Quiet(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

/// A process killed when dropped.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts [`FAULTY`] in `dir` and returns it with its base URL; `None` (and says so) when
/// python3 is missing, unless TRAWL_REQUIRE_TOOLS is set.
fn faulty_server(dir: &Path) -> Option<(Kill, String)> {
    let python = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "python3 is required"
        );
        println!("skipped: python3 not installed");
        return None;
    }
    std::fs::write(dir.join("faulty.py"), FAULTY).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Kill(
        Command::new("python3")
            .arg("faulty.py")
            .arg(port.to_string())
            .current_dir(dir)
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((server, format!("http://127.0.0.1:{port}")))
}

#[test]
fn url_feeds_and_server_faults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("list.txt"),
        "192.0.2.66\nurl-feed.evil.example\n",
    )
    .unwrap();
    misp_feed(&dir.path().join("misp"));
    let Some((_server, base)) = faulty_server(dir.path()) else {
        return;
    };
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        format!(
            "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
             [[feed]]\nname = \"list\"\nkind = \"url\"\nurl = \"{base}/list.txt\"\n\
             [[feed]]\nname = \"bad\"\nkind = \"taxii\"\napi_root = \"{base}/bad/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"flaky\"\nkind = \"taxii\"\napi_root = \"{base}/flaky/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"misp-http\"\nkind = \"misp\"\nurl = \"{base}/misp/\"\n\
             [[feed]]\nname = \"resume\"\nkind = \"taxii\"\napi_root = \"{base}/resume/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"nonext\"\nkind = \"taxii\"\napi_root = \"{base}/nonext/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"stuck\"\nkind = \"taxii\"\napi_root = \"{base}/stuck/api1/\"\ncollection = \"C\"\n"
        ),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    let r = feeds::pull(&config, false).unwrap();
    let (_, changed, error) = fetched(&r, "list");
    assert!(changed && error.is_none(), "{error:?}");
    // 500, 500, then a page cut short: retried, then reported with what went wrong.
    let (_, _, error) = fetched(&r, "bad");
    let error = error.expect("the bad server fails");
    assert!(
        error.contains("malformed JSON") || error.contains("backend down"),
        "{error}"
    );
    // 503 once, then fine: the retry hides it.
    assert_eq!(fetched(&r, "flaky"), (0, false, None));
    // A MISP feed over HTTP: the manifest, then its one event.
    assert_eq!(fetched(&r, "misp-http"), (1, true, None));
    // Paging without `next` (by X-TAXII-Date-Added-Last), then with a numeric `next`.
    assert_eq!(fetched(&r, "nonext"), (3, true, None));
    // `more` with nothing to continue from is an error, not an endless loop.
    let error = fetched(&r, "stuck").2.unwrap();
    assert!(error.contains("neither `next`"), "{error}");
    // A pull that fails on its second page keeps the first page, and the set is built with it.
    // Its page also holds a number, an object without an id (both skipped and counted) and
    // an indicator with a broken pattern (stored; the compile rejects it, saying where).
    let (fetched_before_failure, changed, error) = fetched(&r, "resume");
    assert!(error.unwrap().contains("page two is lost"));
    assert_eq!((fetched_before_failure, changed), (5, true));
    let resume = r.feeds.iter().find(|f| f.name == "resume").unwrap();
    assert_eq!(resume.skipped, 2);
    let rejects = &r.compiled.as_ref().unwrap().rejected;
    assert!(
        rejects
            .values()
            .any(|t| t.examples.iter().any(|e| e.contains("indicator--bad"))),
        "{rejects:?}"
    );
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("url-feed.evil.example").is_some());
    assert!(set.match_domain("b.resume.example").is_some());
    for n in ["n1", "n2", "n3"] {
        assert!(
            set.match_domain(&format!("{n}.resume.example")).is_some(),
            "{n}"
        );
    }
    let state = trawl::testing::store::FeedState::load(&config.set.store.join("resume"));
    assert_eq!(state.added_after.as_deref(), Some("2026-01-01T00:00:09Z"));
    assert_eq!(state.objects, 3);

    // The list changes: stored again and the set rebuilt; unchanged: left alone.
    std::fs::write(
        dir.path().join("list.txt"),
        "192.0.2.66\nnext.evil.example\n",
    )
    .unwrap();
    let r = feeds::pull(&config, false).unwrap();
    assert!(fetched(&r, "list").1 && r.compiled.is_some());
    assert_eq!(fetched(&r, "nonext"), (0, false, None));
    let set = IndicatorSet::open(&config.set.output).unwrap();
    assert!(set.match_domain("next.evil.example").is_some());
    assert!(set.match_domain("url-feed.evil.example").is_none());
    // The failed pull resumes where it stopped: the rest comes, the first page stays.
    assert_eq!(fetched(&r, "resume"), (1, true, None));
    assert!(set.match_domain("c.resume.example").is_some());
    assert!(set.match_domain("a.resume.example").is_some());
    let r = feeds::pull(&config, false).unwrap();
    assert!(!fetched(&r, "list").1);
    assert_eq!(
        fetched(&r, "misp-http"),
        (0, false, None),
        "the event is not fetched again"
    );
    assert!(
        set.match_hash_hex(b"0749bae92ca336a02c83d126e04ec628")
            .is_some()
    );
    // The failing feed's error is kept in its state for `feeds list`.
    let state = trawl::testing::store::FeedState::load(&config.set.store.join("bad"));
    assert!(state.last_error.is_some());
}

#[test]
fn a_pull_killed_at_any_moment_leaves_a_set_that_opens_and_the_next_pull_completes() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_server, base)) = faulty_server(dir.path()) else {
        return;
    };
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        format!(
            "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
             [[feed]]\nname = \"slow\"\nkind = \"taxii\"\napi_root = \"{base}/slow/api1/\"\ncollection = \"C\"\n"
        ),
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    // SIGKILL at several moments of a 2-second pull (the last ones during or after the store
    // write, the recompile and their renames); each time, what is on disk is whole.
    for delay_ms in [300, 900, 1500, 2100, 2300, 2500] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["feeds", "pull", "-c", path.to_str().unwrap()])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        if config.set.output.exists() {
            IndicatorSet::open(&config.set.output).unwrap();
        }
        let stored = config.set.store.join("slow/bundle.json");
        if stored.exists() {
            let doc: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&stored).unwrap()).unwrap();
            assert!(doc["objects"].is_array());
        }
        if let Ok(state) = std::fs::read(config.set.store.join("slow/state.json")) {
            serde_json::from_slice::<serde_json::Value>(&state).unwrap();
        }
    }
    let r = feeds::pull(&config, false).unwrap();
    assert_eq!(fetched(&r, "slow").2, None);
    let set = IndicatorSet::open(&config.set.output).unwrap();
    for i in [0, 499, 999] {
        assert!(
            set.match_domain(&format!("s{i}.resume.example")).is_some(),
            "s{i}"
        );
    }
    // A crash after the store's rename and before the set's: the store is newer than the set,
    // and the next pull rebuilds the set though it fetches nothing new.
    std::thread::sleep(Duration::from_millis(20));
    let stored = config.set.store.join("slow/bundle.json");
    std::fs::write(&stored, std::fs::read(&stored).unwrap()).unwrap();
    let r = feeds::pull(&config, false).unwrap();
    assert!(!fetched(&r, "slow").1 && r.compiled.is_some());
}

#[test]
fn pull_every_keeps_pulling_until_terminated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.txt"), "every.evil.example\n").unwrap();
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"st\"\n[[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"local.txt\"\n",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args([
            "feeds",
            "pull",
            "-c",
            path.to_str().unwrap(),
            "--every",
            "1s",
        ])
        .env("TRAWL_TEST_MIN_EVERY_SECS", "1")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state = dir.path().join("st/local/state.json");
    let pulls = || trawl::testing::store::FeedState::load(state.parent().unwrap()).pulls;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while pulls() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "still {} pulls",
            pulls()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    assert!(set.match_domain("every.evil.example").is_some());
}

/// Runs trawl with `args`; its output.
fn trawl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The line of `feeds list` about `feed`.
fn listed(config: &Path, feed: &str) -> String {
    let o = trawl(&["feeds", "list", "-c", config.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find(|l| l.starts_with(&format!("{feed} ")))
        .unwrap_or_else(|| panic!("{feed} not listed"))
        .to_string()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn domains(prefix: &str, n: usize) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}.shrink.example\n"))
        .collect()
}

#[test]
fn an_empty_or_shrunk_upstream_is_refused_and_the_previous_data_kept() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, domains("d", 10)).unwrap();
    misp_feed(&dir.path().join("misp"));
    let Some((_server, base)) = faulty_server(dir.path()) else {
        return;
    };
    let path = dir.path().join("trawl.toml");
    let write_config = |list_options: &str| {
        std::fs::write(
            &path,
            format!(
                "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
                 [[feed]]\nname = \"list\"\nkind = \"url\"\nurl = \"{base}/list.txt\"\n{list_options}\n\
                 [[feed]]\nname = \"m\"\nkind = \"misp\"\nurl = \"{base}/misp/\"\n\
                 [[feed]]\nname = \"revoke\"\nkind = \"taxii\"\napi_root = \"{base}/revoke/api1/\"\ncollection = \"C\"\n"
            ),
        )
        .unwrap();
    };
    write_config("");
    let c = path.to_str().unwrap();
    let set_path = dir.path().join("s.tset");
    let pull = |extra: &[&str]| {
        let mut args = vec!["feeds", "pull", "-c", c];
        args.extend(extra);
        trawl(&args)
    };
    let o = pull(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let has = |d: &str| {
        IndicatorSet::open(&set_path)
            .unwrap()
            .match_domain(d)
            .is_some()
    };
    assert!(has("d0.shrink.example") && has("r0.resume.example"));

    // A 200 with an empty body; a manifest `{}`; nine of ten TAXII objects revoked: each
    // refused, with the numbers, on stderr and in `feeds list`; exit 1; the set unchanged.
    std::fs::write(&list, "").unwrap();
    std::fs::write(dir.path().join("misp/manifest.json"), "{}").unwrap();
    let o = pull(&[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let accept = "previous data kept; allow_shrink = true or --force to accept";
    for (feed, why) in [
        (
            "list",
            "empty body: would shrink from 10 to 0 indicators (-100.0 %)",
        ),
        (
            "m",
            "empty manifest: would shrink from 1 to 0 events (-100.0 %)",
        ),
        (
            "revoke",
            "would shrink from 10 to 1 objects not revoked (-90.0 %)",
        ),
    ] {
        let want = format!("{why}; {accept}");
        assert!(
            stderr(&o).contains(&format!("{feed}: refused: {want}")),
            "{feed}: {}",
            stderr(&o)
        );
        assert!(
            listed(&path, feed).contains(&want),
            "{}",
            listed(&path, feed)
        );
    }
    assert!(has("d0.shrink.example") && has("r0.resume.example"));
    assert!(
        IndicatorSet::open(&set_path)
            .unwrap()
            .match_hash_hex(b"0749bae92ca336a02c83d126e04ec628")
            .is_some()
    );
    // Refused again at the next pull (the revocations are fetched again, not skipped).
    let o = pull(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("revoke: refused: would shrink from 10 to 1"));

    // Down to 4 of 10 is more than half: refused; 5 of 10 is half: taken.
    misp_feed(&dir.path().join("misp"));
    std::fs::write(&list, domains("d", 4)).unwrap();
    let o = pull(&[]);
    assert!(
        stderr(&o).contains("list: refused: would shrink from 10 to 4 indicators (-60.0 %)"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&list, domains("d", 5)).unwrap();
    let o = pull(&[]);
    assert!(
        stderr(&o).contains("list: 90 new, changed"),
        "{}",
        stderr(&o)
    );
    assert!(!has("d7.shrink.example") && has("d4.shrink.example"));
    assert!(listed(&path, "list").ends_with(" -"), "error cleared");

    // The feed's own allow_shrink takes any pull of it.
    write_config("allow_shrink = true");
    std::fs::write(&list, domains("d", 1)).unwrap();
    let o = pull(&[]);
    assert!(!stderr(&o).contains("list: refused"), "{}", stderr(&o));
    assert!(!has("d4.shrink.example") && has("d0.shrink.example"));
    write_config("max_shrink = 0.2");
    std::fs::write(&list, domains("d", 10)).unwrap();
    assert!(!stderr(&pull(&[])).contains("list: refused"));
    std::fs::write(&list, domains("d", 7)).unwrap();
    assert!(
        stderr(&pull(&[]))
            .contains("list: refused: would shrink from 10 to 7 indicators (-30.0 %)")
    );

    // --force takes everything: the list and the manifest emptied, nine objects revoked.
    std::fs::write(&list, "").unwrap();
    std::fs::write(dir.path().join("misp/manifest.json"), "{}").unwrap();
    let o = pull(&["--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        IndicatorSet::open(&set_path).unwrap().len(),
        1,
        "r9 is left"
    );
    assert!(has("r9.resume.example"));
}

#[test]
fn a_first_pull_of_an_empty_url_stores_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("list.txt"), "# nothing yet\n").unwrap();
    let Some((_server, base)) = faulty_server(dir.path()) else {
        return;
    };
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        format!(
            "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
             [[feed]]\nname = \"list\"\nkind = \"url\"\nurl = \"{base}/list.txt\"\n"
        ),
    )
    .unwrap();
    let o = trawl(&["feeds", "pull", "-c", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "list: refused: body holds no indicators: nothing stored; allow_shrink = true or \
             --force to accept"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("st/list/feed.txt").exists());
    // The set built from nothing is empty, and said to be.
    assert!(
        stderr(&o).contains("WARNING: ") && stderr(&o).contains("now holds 0 indicators"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_missing_or_emptied_file_feed_fails_shows_in_the_list_and_keeps_its_copy() {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local.txt");
    std::fs::write(&local, "203.0.113.50\nlocal.evil.example\n").unwrap();
    std::fs::write(dir.path().join("other.txt"), "other.evil.example\n").unwrap();
    let path = dir.path().join("trawl.toml");
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
         [[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"local.txt\"\n\
         [[feed]]\nname = \"other\"\nkind = \"file\"\npath = \"other.txt\"\n\
         [[feed]]\nname = \"gone\"\nkind = \"file\"\npath = \"missing.txt\"\n",
    )
    .unwrap();
    let c = path.to_str().unwrap();
    let set_path = dir.path().join("s.tset");
    // The missing file fails its own pull (exit 1, its error listed); the others are built.
    let o = trawl(&["feeds", "pull", "-c", c]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("gone: failed, previous data kept: ")
            && stderr(&o).contains("missing.txt: No such file"),
        "{}",
        stderr(&o)
    );
    assert!(listed(&path, "gone").contains("missing.txt: No such file"));
    assert!(listed(&path, "local").ends_with(" -"));
    let set = IndicatorSet::open(&set_path).unwrap();
    assert!(set.match_domain("local.evil.example").is_some());
    assert!(set.match_domain("other.evil.example").is_some());

    // The local file goes too: its stored copy keeps serving.
    std::fs::remove_file(&local).unwrap();
    std::fs::write(dir.path().join("other.txt"), "other2.evil.example\n").unwrap();
    let o = trawl(&["feeds", "pull", "-c", c]);
    assert_eq!(o.status.code(), Some(1));
    assert!(listed(&path, "local").contains("local.txt: No such file"));
    let set = IndicatorSet::open(&set_path).unwrap();
    assert!(set.match_domain("local.evil.example").is_some());
    assert!(set.match_domain("other2.evil.example").is_some());

    // Emptied: refused like an empty download.
    std::fs::write(&local, "").unwrap();
    let o = trawl(&["feeds", "pull", "-c", c]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        listed(&path, "local")
            .contains("empty file: would shrink from 2 to 0 indicators (-100.0 %)"),
        "{}",
        listed(&path, "local")
    );
    assert!(
        IndicatorSet::open(&set_path)
            .unwrap()
            .match_domain("local.evil.example")
            .is_some()
    );
    // Turned binary (a compressed download, a capture saved over it): not an indicator list,
    // so this feed's pull fails, naming the file, and its last copy and the others serve on.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, b"203.0.113.50\nlocal.evil.example\n").unwrap();
    std::fs::write(&local, gz.finish().unwrap()).unwrap();
    std::fs::write(dir.path().join("other.txt"), "other3.evil.example\n").unwrap();
    let o = trawl(&["feeds", "pull", "-c", c]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        listed(&path, "local").contains("local.txt: not a text feed: gzip-compressed data"),
        "{}",
        listed(&path, "local")
    );
    let set = IndicatorSet::open(&set_path).unwrap();
    assert!(set.match_domain("local.evil.example").is_some());
    assert!(set.match_domain("other3.evil.example").is_some());
    // A set rebuild that fails (a warninglist gone) is listed too, the previous set kept.
    std::fs::write(
        &path,
        format!(
            "{}exclude = [\"allow.txt\"]\n{}",
            "[set]\noutput = \"s.tset\"\nstore = \"st\"\n",
            "[[feed]]\nname = \"other\"\nkind = \"file\"\npath = \"other.txt\"\n"
        ),
    )
    .unwrap();
    let o = trawl(&["feeds", "pull", "-c", c, "--force"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not rebuilt, previous set kept"),
        "{}",
        stderr(&o)
    );
    let o = trawl(&["feeds", "list", "-c", c]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("last rebuild failed: ") && text.contains("allow.txt"),
        "{text}"
    );
}

#[test]
fn the_set_and_the_store_have_explicit_modes_and_planted_symlinks_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("feed.txt"), "mode.evil.example\n").unwrap();
    std::fs::write(d.join("victim"), "precious").unwrap();
    // `exec` keeps the shell's pid: the symlink sits at the temp name the old writer used.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 077; ln -s victim .s.tset.tmp.$$; exec {} compile -q -o s.tset feed.txt",
            env!("CARGO_BIN_EXE_trawl")
        ))
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        std::fs::read(d.join("victim")).unwrap() == b"precious",
        "the symlink's target was overwritten"
    );
    IndicatorSet::open(d.join("s.tset")).unwrap();
    assert_eq!(
        mode(&d.join("s.tset")),
        0o644,
        "readable after sniff --user"
    );

    // The store: private whatever the umask.
    std::fs::write(
        d.join("trawl.toml"),
        "[set]\noutput = \"p.tset\"\nstore = \"st\"\n\
         [[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"feed.txt\"\n",
    )
    .unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 022; exec {} feeds pull -c trawl.toml",
            env!("CARGO_BIN_EXE_trawl")
        ))
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "st/local/state.json",
        "st/local/feed.txt",
        "st/.set-state.json",
    ] {
        assert_eq!(mode(&d.join(f)), 0o600, "{f}");
    }
    for f in ["st", "st/local"] {
        assert_eq!(mode(&d.join(f)), 0o700, "{f}");
    }
    assert_eq!(mode(&d.join("p.tset")), 0o644);
}

#[test]
fn compile_writes_an_empty_set_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("junk.txt"), "not an indicator\n# nor this\n").unwrap();
    std::fs::write(d.join("s.tset"), "previous").unwrap();
    let (out, feed) = (d.join("s.tset"), d.join("junk.txt"));
    let (out, feed) = (out.to_str().unwrap(), feed.to_str().unwrap());
    let o = trawl(&["compile", "-q", "-o", out, feed]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("WARNING: the set would hold 0 indicators: not written"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(d.join("s.tset")).unwrap(), b"previous");
    let o = trawl(&["compile", "-q", "--allow-empty", "-o", out, feed]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("holds 0 indicators: nothing will match"));
    assert_eq!(IndicatorSet::open(d.join("s.tset")).unwrap().len(), 0);
}

#[test]
fn a_config_holding_credentials_readable_by_others_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trawl.toml");
    let key = dir.path().join("client.key");
    std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"st\"\n\
         [[feed]]\nname = \"ais\"\nkind = \"taxii\"\napi_root = \"https://taxii.invalid/api1/\"\n\
         collection = \"C\"\nauth = { token = \"secret\" }\n\
         client_cert = \"client.pem\"\nclient_key = \"client.key\"\n",
    )
    .unwrap();
    let chmod = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    };
    chmod(&path, 0o644);
    chmod(&key, 0o640);
    let o = trawl(&["feeds", "list", "-c", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "warning: {} holds feed credentials and is readable by its group and others \
             (mode 644): chmod 600 {}",
            path.display(),
            path.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{} holds a client private key and is readable by its group (mode 640): chmod 600",
            key.display()
        )),
        "{err}"
    );
    chmod(&path, 0o600);
    chmod(&key, 0o600);
    let o = trawl(&["feeds", "list", "-c", path.to_str().unwrap()]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    // Without credentials, a readable configuration is fine.
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"st\"\n[[feed]]\nname = \"a\"\nkind = \"file\"\npath = \"a.txt\"\n",
    )
    .unwrap();
    chmod(&path, 0o644);
    let o = trawl(&["feeds", "list", "-c", path.to_str().unwrap()]);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

/// Waits (up to 20 s) until `done` holds, failing with `what`.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `feeds pull --every` with stderr to `log`, the test's short minimum interval allowed.
fn pull_every(config: &Path, every: &str, log: &Path) -> Kill {
    Kill(
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["feeds", "pull", "-c", config.to_str().unwrap()])
            .args(["--every", every])
            .env("TRAWL_TEST_MIN_EVERY_SECS", "1")
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

/// Sends SIGTERM to `child` and returns its exit code.
fn terminate(mut child: Kill) -> Option<i32> {
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) };
    child.0.wait().unwrap().code()
}

#[test]
fn pull_every_refuses_short_intervals_and_survives_failed_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("local.txt"), "every.evil.example\n").unwrap();
    // The store's parent is a file: every round fails on I/O until it is removed.
    std::fs::write(d.join("blocker"), "").unwrap();
    let path = d.join("trawl.toml");
    std::fs::write(
        &path,
        "[set]\noutput = \"s.tset\"\nstore = \"blocker/st\"\n\
         [[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"local.txt\"\n",
    )
    .unwrap();

    // Under a minute: refused at once (the old trawl hammered in a loop).
    let refused = d.join("refused.log");
    let mut child = Kill(
        Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args([
                "feeds",
                "pull",
                "-c",
                path.to_str().unwrap(),
                "--every",
                "0s",
            ])
            .stderr(std::fs::File::create(&refused).unwrap())
            .spawn()
            .unwrap(),
    );
    let mut status = None;
    wait_for("--every 0s is refused", || {
        status = child.0.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(2));
    let text = std::fs::read_to_string(&refused).unwrap();
    assert!(text.contains("the shortest interval is 60s"), "{text}");

    let log = d.join("every.log");
    let mut child = pull_every(&path, "2s", &log);
    let failures = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("pull failed: ") && l.contains("blocker"))
            .count()
    };
    // Retried after 1/16 of the interval, then 1/8: three failures well within the interval.
    wait_for("three failed rounds", || failures() >= 3);
    assert!(child.0.try_wait().unwrap().is_none(), "still running");
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text.lines().find(|l| l.contains("pull failed")).unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(line.split(' ').next().unwrap()).is_ok(),
        "timestamped: {line}"
    );
    assert!(
        text.contains("round failed (2 in a row): next pull in 250ms"),
        "{text}"
    );
    // The fault goes away: the next round succeeds.
    std::fs::remove_file(d.join("blocker")).unwrap();
    let state = d.join("blocker/st/local");
    wait_for("a pull after the fault", || {
        trawl::testing::store::FeedState::load(&state).pulls >= 1
    });
    assert_eq!(terminate(child), Some(0));
    let set = IndicatorSet::open(d.join("s.tset")).unwrap();
    assert!(set.match_domain("every.evil.example").is_some());
}

/// A tmpfs mounted for a test, unmounted when dropped (lazily: a file still open in it, as
/// on a failed assertion, does not leave the mount behind).
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_a_round_keeps_the_data_and_the_loop_goes_on() {
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("skipped: mounting a small tmpfs needs root");
        return;
    }
    // The set and the store on a 64 KiB disk, as under /var/lib/trawl.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let var = d.join("var");
    std::fs::create_dir(&var).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&var)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "mount -t tmpfs failed"
        );
        println!("skipped: cannot mount a tmpfs here");
        return;
    }
    let _tmpfs = Tmpfs(var.clone());
    let local = d.join("local.txt");
    std::fs::write(&local, domains("f", 10)).unwrap();
    let path = d.join("trawl.toml");
    std::fs::write(
        &path,
        "[set]\noutput = \"var/s.tset\"\nstore = \"var/st\"\n\
         [[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"local.txt\"\n",
    )
    .unwrap();
    let log = d.join("every.log");
    let mut child = pull_every(&path, "2s", &log);
    let state = var.join("st/local");
    let set_path = var.join("s.tset");
    wait_for("the first pull", || {
        trawl::testing::store::FeedState::load(&state).pulls >= 1
    });
    // A list bigger than the disk: the round fails, the stored copy and the set keep serving.
    std::fs::write(&local, domains("big", 5000)).unwrap();
    wait_for("a round failed on the full disk", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("No space left on device")
    });
    assert!(child.0.try_wait().unwrap().is_none(), "the loop goes on");
    assert!(listed(&path, "local").contains("No space left on device"));
    assert!(
        IndicatorSet::open(&set_path)
            .unwrap()
            .match_domain("f0.shrink.example")
            .is_some()
    );
    // Room again: a later round stores it.
    std::fs::write(&local, domains("small", 20)).unwrap();
    wait_for("a pull after the disk emptied", || {
        IndicatorSet::open(&set_path)
            .is_ok_and(|s| s.match_domain("small19.shrink.example").is_some())
    });
    assert_eq!(terminate(child), Some(0));
    drop(_tmpfs);
}
