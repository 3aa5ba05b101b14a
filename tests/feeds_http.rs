//! What a broken or hostile server cannot do to `trawl feeds pull`: servers written here on
//! 127.0.0.1 send an endless body, trickle a byte at a time, page a TAXII collection in a loop,
//! redirect to `file:`, to another host or from https down to http, hang while the pull is
//! sent SIGTERM, and put ANSI escapes in their errors, while feeds carry credentials in their
//! URLs. Each pull runs as a child process with a time limit, so that a regression fails
//! instead of hanging, and its peak memory is watched (`/proc/PID/status`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use trawl::IndicatorSet;

/// A request as the test server saw it.
#[derive(Clone, Debug)]
struct Request {
    /// The path, without the query.
    path: String,
    query: Vec<(String, String)>,
    host: String,
    authorization: Option<String>,
    /// The port the server listens on.
    port: u16,
}

impl Request {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `next` parameter as a number (0 when absent or not a number).
    fn page(&self) -> u64 {
        self.param("next").and_then(|n| n.parse().ok()).unwrap_or(0)
    }
}

/// What the test server answers.
enum Reply {
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// 200 with no length, feed lines until the client hangs up.
    Endless,
    /// 200 announcing `Content-Length: 1000000`, then one byte per interval.
    Trickle(Duration),
    /// 200 announcing this `Content-Length`, then nothing.
    Announced(u64),
    /// Nothing at all, for a minute.
    Silent,
}

fn text(status: u16, body: &str) -> Reply {
    Reply::Full {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

/// A TAXII envelope (or error), with `X-TAXII-Date-Added-Last` when `added` is given.
fn taxii(status: u16, body: Json, added: Option<&str>) -> Reply {
    let mut headers = vec![(
        "Content-Type".to_string(),
        "application/taxii+json;version=2.1".to_string(),
    )];
    if let Some(a) = added {
        headers.push(("X-TAXII-Date-Added-Last".into(), a.into()));
    }
    Reply::Full {
        status,
        headers,
        body: body.to_string().into_bytes(),
    }
}

fn redirect(location: &str) -> Reply {
    Reply::Full {
        status: 302,
        headers: vec![("Location".into(), location.into())],
        body: Vec::new(),
    }
}

fn indicator(name: &str) -> Json {
    json!({"type": "indicator", "spec_version": "2.1", "id": format!("indicator--{}", uuid_of(name)),
           "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
           "valid_from": "2026-01-01T00:00:00.000Z", "pattern_type": "stix",
           "pattern": format!("[domain-name:value = '{name}.http.example']")})
}

fn uuid_of(name: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, name.as_bytes()).to_string()
}

/// A test server: the requests it saw, and its base URL.
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn requests(&self, path_prefix: &str) -> Vec<Request> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .cloned()
            .collect()
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// Serves `handler` on 127.0.0.1, over TLS with `tls`; a thread per connection, one request
/// per connection. Runs until the test process ends.
fn serve_with(
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Handler = Arc::new(handler);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (handler, log, tls) = (handler.clone(), log.clone(), tls.clone());
            std::thread::spawn(move || {
                let _ = match tls {
                    None => answer(stream, port, &handler, &log),
                    Some(config) => {
                        let conn = rustls::ServerConnection::new(config).unwrap();
                        answer(rustls::StreamOwned::new(conn, stream), port, &handler, &log)
                    }
                };
            });
        }
    });
    Server {
        base: format!("{scheme}://127.0.0.1:{port}"),
        seen,
    }
}

fn serve(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Server {
    serve_with(None, handler)
}

fn answer(
    stream: impl Read + Write,
    port: u16,
    handler: &Handler,
    log: &Mutex<Vec<Request>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split(' ').nth(1).unwrap_or("/").to_string();
    let url = url::Url::parse(&format!("http://test{target}")).unwrap();
    let mut req = Request {
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        host: String::new(),
        authorization: None,
        port,
    };
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        match name.to_ascii_lowercase().as_str() {
            "host" => req.host = value.trim().to_string(),
            "authorization" => req.authorization = Some(value.trim().to_string()),
            _ => {}
        }
    }
    log.lock().unwrap().push(req.clone());
    let reply = handler(&req);
    let out = reader.get_mut();
    match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            out.write_all(head.as_bytes())?;
            out.write_all(b"\r\n")?;
            out.write_all(&body)?;
        }
        Reply::Endless => {
            out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")?;
            let lines = b"203.0.113.1\n".repeat(5000);
            loop {
                out.write_all(&lines)?;
            }
        }
        Reply::Trickle(every) => {
            out.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n",
            )?;
            for _ in 0..1_000_000 {
                out.write_all(b" ")?;
                out.flush()?;
                std::thread::sleep(every);
            }
        }
        Reply::Silent => std::thread::sleep(Duration::from_secs(60)),
        Reply::Announced(len) => {
            let head =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n");
            out.write_all(head.as_bytes())?;
            std::thread::sleep(Duration::from_secs(5));
        }
    }
    out.flush()
}

/// `trawl.toml` in `dir`: a set and a store there, and `feeds`.
fn config(dir: &Path, feeds: &str) -> PathBuf {
    let path = dir.join("trawl.toml");
    std::fs::write(
        &path,
        format!("[set]\noutput = \"s.tset\"\nstore = \"st\"\n{feeds}"),
    )
    .unwrap();
    path
}

/// A finished `trawl` run.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stderr: String,
    /// Peak resident memory (`VmHWM`) at the last look before it exited.
    max_rss_kib: u64,
}

/// A running `trawl`, its stderr going to a file.
struct Running {
    child: std::process::Child,
    args: Vec<String>,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

fn spawn(args: &[&str]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let stderr = dir.path().join("stderr");
    let child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    Running {
        child,
        args: args.iter().map(|a| a.to_string()).collect(),
        stderr,
        _dir: dir,
    }
}

impl Running {
    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, sig) }, 0);
    }

    /// Waits up to `limit`; a child still running then is killed and the test fails.
    fn finish(mut self, limit: Duration) -> Run {
        let deadline = Instant::now() + limit;
        let mut peak = 0;
        let status = loop {
            // Not wait4's ru_maxrss: a child spawned with vfork inherits this process's peak.
            peak = peak.max(high_water_kib(self.child.id()));
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "trawl {:?} still running after {limit:?} (killed; peak memory {} MiB); \
                     stderr:\n{}",
                    self.args,
                    peak / 1024,
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            code: status.code(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap(),
            max_rss_kib: peak,
        }
    }
}

/// `VmHWM` of a running process, in KiB (0 once it is gone).
fn high_water_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// `trawl feeds pull -c config`, within `limit`.
fn pull(config: &Path, limit: Duration) -> Run {
    spawn(&["feeds", "pull", "-c", config.to_str().unwrap()]).finish(limit)
}

/// A feed's `state.json`.
fn state(dir: &Path, feed: &str) -> Json {
    let raw = std::fs::read(dir.join("st").join(feed).join("state.json")).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

fn last_error(dir: &Path, feed: &str) -> String {
    state(dir, feed)["last_error"]
        .as_str()
        .unwrap_or_else(|| panic!("{feed}: no error"))
        .to_string()
}

#[test]
fn an_endless_body_stops_at_the_byte_cap_in_bounded_memory() {
    let server = serve(|r| match r.path.as_str() {
        "/announced.txt" => Reply::Announced(10 << 30),
        _ => Reply::Endless,
    });
    let dir = tempfile::tempdir().unwrap();
    let base = &server.base;
    let cfg = config(
        dir.path(),
        &format!(
            "[[feed]]\nname = \"list\"\nkind = \"url\"\nurl = \"{base}/list.txt\"\nmax_response_bytes = 4194304\n\
             [[feed]]\nname = \"taxii\"\nkind = \"taxii\"\napi_root = \"{base}/taxii/api1/\"\ncollection = \"C\"\nmax_response_bytes = 4194304\n\
             [[feed]]\nname = \"announced\"\nkind = \"url\"\nurl = \"{base}/announced.txt\"\n"
        ),
    );
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    for feed in ["list", "taxii"] {
        let e = last_error(dir.path(), feed);
        assert!(
            e.contains("larger than max_response_bytes = 4194304"),
            "{e}"
        );
    }
    // Refused on its Content-Length (10 GiB, over the default 256 MiB), before any byte.
    let e = last_error(dir.path(), "announced");
    assert!(
        e.contains("max_response_bytes = 268435456 (10737418240 bytes)"),
        "{e}"
    );
    assert!(run.stderr.contains("max_response_bytes"), "{}", run.stderr);
    // Not retried: the cap is not a transient fault.
    assert_eq!(server.requests("/list.txt").len(), 1);
    // The process stayed small: the 4 MiB body and the program (a debug build is ~20 MiB).
    assert!(run.max_rss_kib < 64 << 10, "peak {} KiB", run.max_rss_kib);
}

#[test]
fn a_trickling_server_is_cut_at_the_request_deadline() {
    let server = serve(|_| Reply::Trickle(Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let base = &server.base;
    let cfg = config(
        dir.path(),
        &format!(
            "[[feed]]\nname = \"slow\"\nkind = \"taxii\"\napi_root = \"{base}/slow/api1/\"\ncollection = \"C\"\nrequest_timeout = 1\n\
             [[feed]]\nname = \"list\"\nkind = \"url\"\nurl = \"{base}/slow.txt\"\nrequest_timeout = 0.5\n"
        ),
    );
    let started = Instant::now();
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let e = last_error(dir.path(), "slow");
    assert!(e.contains("took longer than request_timeout = 1 s"), "{e}");
    let e = last_error(dir.path(), "list");
    assert!(e.contains("request_timeout = 0.5 s"), "{e}");
    assert_eq!(
        server.requests("/slow/").len(),
        1,
        "a deadline is not retried"
    );
}

#[test]
fn a_taxii_server_that_loops_is_stopped_within_seconds() {
    let t1 = "2026-01-01T00:00:01.000Z";
    let t2 = "2026-01-01T00:00:02.000Z";
    let server = serve(move |r| {
        let kind = r.path.split('/').nth(1).unwrap_or_default();
        let n = r.page();
        match kind {
            // `more` forever, never an object.
            "empty" => taxii(
                200,
                json!({"more": true, "next": (n + 1).to_string(), "objects": []}),
                None,
            ),
            // The same page again and again, with the same `next`.
            "same" => taxii(
                200,
                json!({"more": true, "next": "same", "objects": [indicator("same1")]}),
                Some(t1),
            ),
            // The same objects under ever new `next` tokens.
            "fresh" => taxii(
                200,
                json!({"more": true, "next": (n + 1).to_string(),
                                           "objects": [indicator("fresh1"), indicator("fresh2")]}),
                Some(t1),
            ),
            // Paged by added_after, whose Date-Added-Last goes back and forth.
            "stale" => {
                let (name, added) = if r.param("added_after") == Some(t2) {
                    ("d2", t1)
                } else {
                    ("d1", t2)
                };
                taxii(
                    200,
                    json!({"more": true, "objects": [indicator(name)]}),
                    Some(added),
                )
            }
            _ => text(404, "{}"),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let feeds: String = ["empty", "same", "fresh", "stale"]
        .iter()
        .map(|k| {
            format!(
                "[[feed]]\nname = \"{k}\"\nkind = \"taxii\"\napi_root = \"{}/{k}/api1/\"\ncollection = \"C\"\n",
                server.base
            )
        })
        .collect();
    let cfg = config(dir.path(), &feeds);
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let e = last_error(dir.path(), "empty");
    assert!(e.contains("100 pages in a row without an object"), "{e}");
    assert_eq!(server.requests("/empty/").len(), 100);
    for feed in ["same", "fresh"] {
        let e = last_error(dir.path(), feed);
        assert!(
            e.contains("page 2 holds the same objects as an earlier page"),
            "{e}"
        );
        assert_eq!(server.requests(&format!("/{feed}/")).len(), 2);
    }
    let e = last_error(dir.path(), "stale");
    assert!(
        e.contains(&format!(
            "X-TAXII-Date-Added-Last {t1} is not later than the {t2}"
        )),
        "{e}"
    );
    assert_eq!(server.requests("/stale/").len(), 2);
    // What came before the loop was seen is kept.
    assert_eq!(state(dir.path(), "same")["objects"], 1);
    assert_eq!(state(dir.path(), "stale")["objects"], 2);
}

#[test]
fn pages_and_time_per_pull_are_bounded_and_the_next_pull_resumes() {
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = serve(move |r| {
        let n = r.page();
        if r.path.starts_with("/forever/") {
            // Ever new objects, a page every 150 ms, never the end.
            count.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(150));
            let objects: Vec<Json> = (0..3).map(|i| indicator(&format!("f{n}-{i}"))).collect();
            let added = format!("2026-01-01T01:{:02}:{:02}.000Z", n / 60, n % 60);
            return taxii(
                200,
                json!({"more": true, "next": (n + 1).to_string(), "objects": objects}),
                Some(&added),
            );
        }
        // Ten pages of five; the page asked for by `next`, whatever `added_after` says.
        let objects: Vec<Json> = (0..5).map(|i| indicator(&format!("p{n}-{i}"))).collect();
        let added = format!("2026-01-01T00:00:{n:02}.000Z");
        taxii(
            200,
            json!({"more": n < 9, "next": (n + 1).to_string(), "objects": objects}),
            Some(&added),
        )
    });
    let dir = tempfile::tempdir().unwrap();
    let base = &server.base;
    let bounded = format!(
        "[[feed]]\nname = \"pages\"\nkind = \"taxii\"\napi_root = \"{base}/pages/api1/\"\ncollection = \"C\"\n"
    );
    let cfg = config(
        dir.path(),
        &format!(
            "{bounded}max_pages = 3\n\
             [[feed]]\nname = \"forever\"\nkind = \"taxii\"\napi_root = \"{base}/forever/api1/\"\ncollection = \"C\"\nmax_pull_time = 1\n"
        ),
    );
    let started = Instant::now();
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(8));
    let e = last_error(dir.path(), "pages");
    assert!(
        e.contains("stopped after 3 pages and 15 objects: max_pages = 3"),
        "{e}"
    );
    let s = state(dir.path(), "pages");
    assert_eq!(s["objects"], 15);
    // Resumes a second before the last page's Date-Added-Last.
    assert_eq!(s["added_after"], "2026-01-01T00:00:01Z");
    let e = last_error(dir.path(), "forever");
    assert!(e.contains("max_pull_time = 1 s reached"), "{e}");
    assert!(served.load(Ordering::Relaxed) <= 9, "{served:?}");
    // The set was built with what came.
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    assert!(set.match_domain("p2-4.http.example").is_some());

    // Without the bound the pull completes, the first pages kept.
    let cfg = config(dir.path(), &bounded);
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(state(dir.path(), "pages")["objects"], 50);
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    for d in ["p0-0", "p9-4"] {
        assert!(
            set.match_domain(&format!("{d}.http.example")).is_some(),
            "{d}"
        );
    }
}

#[test]
fn redirects_follow_trawl_s_rules_and_never_panic() {
    let server = serve(|r| match r.path.as_str() {
        "/to-file/list.txt" => redirect("file:///etc/passwd"),
        "/to-other/list.txt" => redirect(&format!("http://localhost:{}/ok/list.txt", r.port)),
        "/to-self/list.txt" => redirect("/ok/list.txt"),
        "/loop/list.txt" => redirect("/loop/list.txt"),
        "/garbage/list.txt" => redirect("http://[::1"),
        "/ok/list.txt" => text(200, "192.0.2.77\nredirected.http.example\n"),
        _ => text(404, ""),
    });
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str, path: &str, extra: &str| {
        format!(
            "[[feed]]\nname = \"{name}\"\nkind = \"url\"\nurl = \"{}/{path}/list.txt\"\n{extra}",
            server.base
        )
    };
    let cfg = config(
        dir.path(),
        &[
            url("file", "to-file", ""),
            url("other", "to-other", ""),
            url(
                "allowed",
                "to-other",
                "allow_redirect_hosts = [\"localhost\"]\nauth = { user = \"u\", password = \"p\" }\n",
            ),
            url("self", "to-self", "").replace("http://", "http://u:p@"),
            url("loop", "loop", ""),
            url("garbage", "garbage", ""),
        ]
        .concat(),
    );
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for (feed, want) in [
        (
            "file",
            "refused a redirect to file:///etc/passwd: only http and https",
        ),
        ("other", "refused a redirect to http://localhost:"),
        ("other", "allow_redirect_hosts"),
        ("loop", "more than 5 redirects"),
        ("garbage", "not a URL"),
    ] {
        let e = last_error(dir.path(), feed);
        assert!(e.contains(want), "{feed}: {e}");
    }
    for feed in ["allowed", "self"] {
        assert!(state(dir.path(), feed)["last_error"].is_null(), "{feed}");
        assert_eq!(state(dir.path(), feed)["objects"], 2);
    }
    // The feed's credentials went to its own host, not to the one it was redirected to.
    let asked = server.requests("/to-other/");
    assert!(asked.iter().any(|r| r.authorization.is_some()), "{asked:?}");
    let elsewhere: Vec<Request> = server
        .requests("/ok/")
        .into_iter()
        .filter(|r| r.host.starts_with("localhost"))
        .collect();
    assert_eq!(elsewhere.len(), 1);
    assert!(elsewhere[0].authorization.is_none(), "{elsewhere:?}");
    // Credentials in the URL follow a redirect on the same host.
    let here: Vec<Option<String>> = server
        .requests("/ok/")
        .into_iter()
        .filter(|r| r.host.starts_with("127.0.0.1"))
        .map(|r| r.authorization)
        .collect();
    assert_eq!(here, [Some("Basic dTpw".to_string())]);
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    assert!(set.match_domain("redirected.http.example").is_some());
}

/// A rustls server configuration with the test CA's server certificate for 127.0.0.1, made
/// with openssl in `dir`; `None` (and says so) when openssl is missing, unless
/// TRAWL_REQUIRE_TOOLS is set.
fn tls_server(dir: &Path) -> Option<Arc<rustls::ServerConfig>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "openssl is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: openssl not installed");
        return None;
    }
    common::medallion::certificates(dir);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Some(Arc::new(config))
}

#[test]
fn a_redirect_from_https_down_to_http_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tls) = tls_server(dir.path()) else {
        return;
    };
    let plain = serve(|_| text(200, "192.0.2.78\nclear.http.example\n"));
    let to_plain = format!("{}/list.txt", plain.base);
    let secure = serve_with(Some(tls), move |r| match r.path.as_str() {
        "/down/list.txt" => redirect(&to_plain),
        "/up/list.txt" => redirect("/ok/list.txt"),
        _ => text(200, "192.0.2.79\nsecure.http.example\n"),
    });
    let ca = dir.path().join("ca.pem");
    let feed = |name: &str| {
        format!(
            "[[feed]]\nname = \"{name}\"\nkind = \"url\"\nurl = \"{}/{name}/list.txt\"\nca_bundle = \"{}\"\n",
            secure.base,
            ca.display()
        )
    };
    let cfg = config(dir.path(), &(feed("down") + &feed("up")));
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let e = last_error(dir.path(), "down");
    assert!(e.contains("from https down to http"), "{e}");
    assert!(plain.requests("/").is_empty(), "nothing went in clear");
    // A redirect that stays on https is followed (the refusal is not a TLS failure).
    assert_eq!(state(dir.path(), "up")["objects"], 2);
}

#[test]
fn sigterm_stops_a_pull_blocked_on_a_slow_body_within_seconds() {
    let second_pages = Arc::new(AtomicUsize::new(0));
    let count = second_pages.clone();
    let server = serve(move |r| match r.page() {
        _ if r.path == "/never.txt" => text(404, ""),
        0 => taxii(
            200,
            json!({"more": true, "next": "1",
                                "objects": [indicator("c1"), indicator("c2"), indicator("c3")]}),
            Some("2026-01-01T00:00:05.000Z"),
        ),
        // The first time, page two hangs; then it comes.
        _ if count.fetch_add(1, Ordering::SeqCst) == 0 => Reply::Trickle(Duration::from_secs(5)),
        _ => taxii(
            200,
            json!({"more": false, "objects": [indicator("c4")]}),
            Some("2026-01-01T00:00:06.000Z"),
        ),
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("local.txt"), "local.http.example\n").unwrap();
    let local = "[[feed]]\nname = \"local\"\nkind = \"file\"\npath = \"local.txt\"\n";
    let cfg = config(dir.path(), local);
    assert_eq!(pull(&cfg, Duration::from_secs(30)).code, Some(0));
    let cfg = config(
        dir.path(),
        &format!(
            "{local}[[feed]]\nname = \"cut\"\nkind = \"taxii\"\napi_root = \"{}/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"after\"\nkind = \"url\"\nurl = \"{}/never.txt\"\n",
            server.base, server.base
        ),
    );
    let running = spawn(&["feeds", "pull", "-c", cfg.to_str().unwrap()]);
    let waited = Instant::now();
    while second_pages.load(Ordering::SeqCst) == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(20),
            "page two never asked for"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    running.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let run = running.finish(Duration::from_secs(20));
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "stopped {:?} after SIGTERM",
        signalled.elapsed()
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    // The first page is kept; the next pull resumes a second before its Date-Added-Last.
    let s = state(dir.path(), "cut");
    assert!(
        s["last_error"].as_str().unwrap().contains("interrupted"),
        "{s}"
    );
    assert_eq!(s["objects"], 3);
    assert_eq!(s["added_after"], "2026-01-01T00:00:04Z");
    // The feed after it was not started; the set from before still opens.
    assert!(!dir.path().join("st/after/state.json").exists());
    assert!(server.requests("/never.txt").is_empty());
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    assert!(set.match_domain("local.http.example").is_some());

    // The next pull completes (the url feed fails: 404), and the set holds every page.
    let run = pull(&cfg, Duration::from_secs(30));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(state(dir.path(), "cut")["last_error"].is_null());
    let set = IndicatorSet::open(dir.path().join("s.tset")).unwrap();
    for d in ["c1", "c4", "local"] {
        assert!(
            set.match_domain(&format!("{d}.http.example")).is_some(),
            "{d}"
        );
    }
}

#[test]
fn credentials_are_masked_and_server_text_escaped_everywhere_it_shows() {
    let server = serve(|r| match r.path.as_str() {
        "/gone.txt" => text(
            404,
            r#"{"title": "\u001b[2J\u001b[31mgone", "description": "one\nforged line"}"#,
        ),
        _ => taxii(
            200,
            json!({"more": false, "objects": [indicator("esc")]}),
            Some("yesterday"),
        ),
    });
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = server.base.trim_start_matches("http://");
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feed]]\nname = \"gone\"\nkind = \"url\"\nurl = \"http://user:s3cret@{host}/gone.txt\"\n\
             [[feed]]\nname = \"down\"\nkind = \"taxii\"\napi_root = \"http://user:s3cret@127.0.0.1:{closed}/api1/\"\ncollection = \"C\"\n\
             [[feed]]\nname = \"date\"\nkind = \"taxii\"\napi_root = \"http://user:s3cret@{host}/api1/\"\ncollection = \"C\"\n"
        ),
    );
    let run = pull(&cfg, Duration::from_secs(60));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // The userinfo is still the credentials sent.
    let gone = server.requests("/gone.txt");
    assert_eq!(
        gone[0].authorization.as_deref(),
        Some("Basic dXNlcjpzM2NyZXQ=")
    );
    let list = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["feeds", "list", "-c", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    let states: Vec<String> = ["gone", "down", "date"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join("st").join(f).join("state.json")).unwrap())
        .collect();
    for (what, text) in [("stderr", &run.stderr), ("feeds list", &list)]
        .into_iter()
        .chain(states.iter().map(|s| ("state.json", s)))
    {
        assert!(!text.contains("s3cret"), "{what}: {text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains("\\u001b"),
            "{what}: {text}"
        );
    }
    for (feed, want) in [
        ("gone", "http://***@127.0.0.1:"),
        (
            "gone",
            "HTTP 404: \\u{1b}[2J\\u{1b}[31mgone — one\\u{a}forged line",
        ),
        ("down", "http://***@127.0.0.1:"),
        ("down", "after 4 attempts"),
        (
            "date",
            "X-TAXII-Date-Added-Last \"yesterday\" is not a timestamp",
        ),
    ] {
        let e = last_error(dir.path(), feed);
        assert!(e.contains(want), "{feed}: {want} in {e}");
    }
    assert!(run.stderr.contains("\\u{1b}[2J"), "{}", run.stderr);
    assert!(list.contains("\\u{1b}[2J"), "{list}");
}

#[test]
fn sigterm_ends_pull_every_mid_pull_with_status_0() {
    // The server never answers: the pull waits for the headers.
    let server = serve(|_| Reply::Silent);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feed]]\nname = \"slow\"\nkind = \"taxii\"\napi_root = \"{}/api1/\"\ncollection = \"C\"\n",
            server.base
        ),
    );
    let running = spawn(&[
        "feeds",
        "pull",
        "-c",
        cfg.to_str().unwrap(),
        "--every",
        "1h",
    ]);
    let waited = Instant::now();
    while server.requests("/").is_empty() {
        assert!(waited.elapsed() < Duration::from_secs(20), "never asked");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    running.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let run = running.finish(Duration::from_secs(20));
    assert!(signalled.elapsed() < Duration::from_secs(3));
    // A signal is how `--every` ends: status 0, the cut feed reported.
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stderr.contains("slow: failed"), "{}", run.stderr);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(last_error(dir.path(), "slow").contains("interrupted"));
}
