//! medallion, the OASIS reference TAXII 2.1 server (PyPI), run by tests on 127.0.0.1 with a
//! memory backend and data written here: several pages of indicators, several versions of
//! one, a revoked one, mixed types; basic auth (`user`/`pass`); optionally behind TLS that
//! requires a client certificate. `start` returns `None` (and says so) when medallion is not
//! installed, unless TRAWL_REQUIRE_TOOLS is set (CI), where it fails.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

pub const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
pub const INDICATORS: usize = 230;

/// A medallion process, killed when dropped.
pub struct Medallion {
    child: Child,
    /// The API root URL, ending in `/`.
    pub api_root: String,
    /// The server's files (data, config, certificates).
    pub dir: tempfile::TempDir,
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

pub fn indicator(n: usize, pattern: &str, modified: usize, revoked: bool) -> Json {
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

pub fn start() -> Option<Medallion> {
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
pub fn certificates(dir: &Path) {
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
pub fn start_with(tls: Option<()>) -> Option<Medallion> {
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
        dir,
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
