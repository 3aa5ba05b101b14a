//! The TAXII 2.1 client against the OASIS reference server, medallion (PyPI), started here on
//! 127.0.0.1 with a memory backend and data this test writes: several pages of indicators,
//! several versions of one, a revoked one, mixed types; basic auth on. Skipped with a printed
//! reason when medallion is not installed, unless TRAWL_REQUIRE_TOOLS is set (CI).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use trawl::compile::{FeedSpec, SetBuilder, ingest_feeds};
use trawl::set::IndicatorSet;
use trawl::taxii::{Auth, Client, ClientOptions, ObjectsQuery};

const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
const INDICATORS: usize = 230;

/// A medallion process, killed when dropped.
struct Medallion {
    child: Child,
    api_root: String,
    _dir: tempfile::TempDir,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ts(i: usize) -> String {
    let t = chrono::DateTime::from_timestamp(1_767_225_600 + i as i64, 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn indicator(n: usize, pattern: &str, modified: usize, revoked: bool) -> Json {
    json!({
        "type": "indicator", "spec_version": "2.1",
        "id": format!("indicator--{n:08}-0000-4000-8000-{n:012}"),
        "created": ts(0), "modified": ts(modified), "valid_from": ts(0),
        "pattern_type": "stix", "pattern": pattern, "revoked": revoked,
    })
}

/// The collection's objects with their `date_added` (one second apart, in order).
fn objects() -> Vec<Json> {
    let mut v = Vec::new();
    for i in 0..INDICATORS {
        let pattern = match i % 3 {
            0 => format!("[domain-name:value = 'host{i}.evil.example']"),
            1 => format!("[ipv4-addr:value = '198.51.{}.{}']", i / 250, i % 250),
            _ => format!("[url:value = 'http://evil.example/p{i}']"),
        };
        v.push(indicator(i, &pattern, 1, false));
    }
    // A second version of indicator 0 (a new name), and a revoked indicator.
    v.push(indicator(
        0,
        "[domain-name:value = 'renamed.evil.example']",
        2,
        false,
    ));
    v.push(indicator(
        9_999,
        "[domain-name:value = 'revoked.evil.example']",
        1,
        true,
    ));
    v
}

fn start() -> Option<Medallion> {
    start_with(None)
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl in
/// `dir`: `ca.pem`, `server.pem`/`server.key`, `client.pem`/`client.key`.
fn certificates(dir: &Path) {
    let key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(key);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=trawl test CA",
    ]);
    openssl(dir, &ca);
    for (name, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        std::fs::write(dir.join(format!("{name}.ext")), ext).unwrap();
        let mut req = vec!["req"];
        req.extend(key);
        let (k, csr, subj) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("/CN=trawl test {name}"),
        );
        req.extend(["-keyout", &k, "-out", &csr, "-subj", &subj]);
        openssl(dir, &req);
        let (pem, ext) = (format!("{name}.pem"), format!("{name}.ext"));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}

/// Starts medallion; with `tls`, behind TLS that requires a client certificate signed by the
/// test CA (a launcher that runs medallion's Flask app with an `ssl.SSLContext`).
fn start_with(tls: Option<()>) -> Option<Medallion> {
    let found = Command::new("medallion")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "medallion is required (TRAWL_REQUIRE_TOOLS) but missing: pip install medallion"
        );
        println!("skipped: medallion not installed (pip install medallion)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://127.0.0.1:{port}");
    let objs = objects();
    let manifest: Vec<Json> = objs
        .iter()
        .enumerate()
        .map(|(i, o)| {
            // medallion keeps date_added with microseconds.
            let added = ts(i).replace(".000Z", ".000000Z");
            json!({"id": o["id"], "date_added": added, "version": o["modified"],
                   "media_type": "application/stix+json;version=2.1"})
        })
        .collect();
    let data = json!({
        "/discovery": {"title": "trawl test", "default": format!("{base}/api1/"), "api_roots": [format!("{base}/api1/")]},
        "api1": {
            "information": {"title": "api1", "versions": ["application/taxii+json;version=2.1"], "max_content_length": 10_000_000},
            "status": [],
            "collections": [{
                "id": COLLECTION, "title": "indicators", "can_read": true, "can_write": true,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objs, "manifest": manifest,
            }],
        },
    });
    std::fs::write(dir.path().join("data.json"), data.to_string()).unwrap();
    let config = json!({
        "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                    "filename": dir.path().join("data.json")},
        "users": {"user": "pass"},
        "taxii": {"max_page_size": 100},
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let child = match tls {
        None => Command::new("medallion")
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(dir.path().join("config.json"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        Some(()) => {
            certificates(dir.path());
            std::fs::write(dir.path().join("tls_front.py"), TLS_FRONT).unwrap();
            Command::new("python3")
                .arg("tls_front.py")
                .arg(port.to_string())
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        }
    };
    let server = Medallion {
        child,
        api_root: format!("{base}/api1/"),
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "medallion did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

/// medallion's app served over TLS that requires a client certificate from the test CA.
const TLS_FRONT: &str = r#"
import json, ssl, sys
from medallion import application_instance, register_blueprints, set_config
config = json.load(open("config.json"))
for part in ("users", "taxii", "backend"):
    set_config(application_instance, part, config)
register_blueprints(application_instance)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("server.pem", "server.key")
context.load_verify_locations("ca.pem")
context.verify_mode = ssl.CERT_REQUIRED
application_instance.run(host="127.0.0.1", port=int(sys.argv[1]), ssl_context=context)
"#;

fn options(password: &str) -> ClientOptions {
    ClientOptions {
        auth: Auth::Basic {
            user: "user".into(),
            password: password.into(),
        },
        attempts: 2,
        backoff: Duration::from_millis(50),
        ..ClientOptions::default()
    }
}

fn client(password: &str) -> Client {
    Client::new(options(password)).unwrap()
}

#[test]
fn pulls_pages_incrementally_posts_and_compiles() {
    let Some(server) = start() else { return };
    let root = &server.api_root;

    // Wrong credentials: the server's answer, not a retry loop.
    let err = client("wrong").collections(root).unwrap_err().to_string();
    assert!(err.contains("HTTP 401"), "{err}");

    let c = client("pass");
    let collections = c.collections(root).unwrap();
    assert_eq!(collections[0]["id"], COLLECTION);

    // Every object, 100 a page: medallion sends the newest version of each id.
    let mut got = Vec::new();
    let query = ObjectsQuery {
        limit: Some(100),
        ..ObjectsQuery::default()
    };
    let pull = c
        .objects(root, COLLECTION, &query, |o| got.push(o))
        .unwrap();
    assert_eq!(got.len(), INDICATORS + 1, "one object per id");
    assert_eq!(pull.objects as usize, got.len());
    assert_eq!(pull.pages, 3);
    let last = pull
        .date_added_last
        .clone()
        .expect("X-TAXII-Date-Added-Last");
    let renamed = got
        .iter()
        .find(|o| o["id"] == "indicator--00000000-0000-4000-8000-000000000000")
        .unwrap();
    assert_eq!(
        renamed["pattern"],
        "[domain-name:value = 'renamed.evil.example']"
    );

    // Nothing new since the last pull.
    let since = ObjectsQuery {
        added_after: Some(last.clone()),
        ..ObjectsQuery::default()
    };
    let mut none = Vec::new();
    let again = c
        .objects(root, COLLECTION, &since, |o| none.push(o))
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
    assert_eq!(again.date_added_last.as_deref(), Some(last.as_str()));

    // Post two new indicators; the status completes; the next pull brings only them.
    let new = vec![
        indicator(
            20_000,
            "[domain-name:value = 'new1.evil.example']",
            3,
            false,
        ),
        indicator(20_001, "[ipv4-addr:value = '203.0.113.99']", 3, false),
    ];
    let status = c
        .post_and_wait(root, COLLECTION, &new, Duration::from_secs(10))
        .unwrap();
    assert_eq!(status["status"], "complete", "{status}");
    assert_eq!(status["success_count"], 2, "{status}");
    let mut fresh = Vec::new();
    c.objects(root, COLLECTION, &since, |o| {
        fresh.push(o["id"].as_str().unwrap().to_string())
    })
    .unwrap();
    fresh.sort();
    assert_eq!(
        fresh,
        [
            "indicator--00020000-0000-4000-8000-000000020000",
            "indicator--00020001-0000-4000-8000-000000020001"
        ]
    );

    // match[type] filters on the server.
    let mut types = Vec::new();
    let only = ObjectsQuery {
        types: vec!["malware".into()],
        ..ObjectsQuery::default()
    };
    c.objects(root, COLLECTION, &only, |o| types.push(o))
        .unwrap();
    assert!(types.is_empty());

    // What was pulled compiles: the newest version wins, the revoked one is out.
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("pulled.json");
    std::fs::write(&bundle, json!({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": got}).to_string()).unwrap();
    let mut b = SetBuilder::new(Default::default(), Default::default());
    ingest_feeds(&[FeedSpec::new(&bundle)], &mut b).unwrap();
    let set_path = dir.path().join("taxii.tset");
    b.write(&set_path).unwrap();
    let set = IndicatorSet::open(&set_path).unwrap();
    assert!(set.match_domain("renamed.evil.example").is_some());
    assert!(
        set.match_domain("host0.evil.example").is_none(),
        "superseded version"
    );
    assert!(set.match_domain("revoked.evil.example").is_none());
    assert!(set.match_domain("www.host3.evil.example").is_some());
    assert!(set.match_ip("198.51.0.1".parse().unwrap()).is_some());
    assert_eq!(set.match_url("http://evil.example/p5").len(), 1);
}

#[test]
fn a_server_that_is_down_is_an_error_after_the_retries() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = client("pass");
    let started = Instant::now();
    let err = c
        .collections(&format!("http://127.0.0.1:{port}/api1/"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("after 2 attempts"), "{err}");
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "backed off before retrying"
    );
}

#[test]
fn client_certificate_tls_with_a_custom_ca() {
    let Some(server) = start_with(Some(())) else {
        return;
    };
    let root = &server.api_root;
    let dir = server._dir.path();
    let with = |ca: bool, cert: bool| {
        Client::new(ClientOptions {
            ca_bundle: ca.then(|| dir.join("ca.pem")),
            client_cert: cert.then(|| (dir.join("client.pem"), dir.join("client.key"))),
            ..options("pass")
        })
        .unwrap()
    };
    let collections = with(true, true).collections(root).unwrap();
    assert_eq!(collections[0]["id"], COLLECTION);
    // No client certificate: the server refuses the handshake.
    assert!(with(true, false).collections(root).is_err());
    // The built-in web roots do not know the test CA.
    let err = with(false, true).collections(root).unwrap_err().to_string();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    // Unreadable files are refused when the client is made.
    let bad = ClientOptions {
        ca_bundle: Some(dir.join("missing.pem")),
        ..options("pass")
    };
    assert!(Client::new(bad).is_err());
}
