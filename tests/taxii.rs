//! The TAXII 2.1 client against the OASIS reference server, medallion (PyPI), started here on
//! 127.0.0.1 with a memory backend and data this test writes: several pages of indicators,
//! several versions of one, a revoked one, mixed types; basic auth on. Skipped with a printed
//! reason when medallion is not installed, unless TRAWL_REQUIRE_TOOLS is set (CI).

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;

use common::medallion::{COLLECTION, INDICATORS, indicator, start, start_with};

use trawl::SetBuilder;

use trawl::IndicatorSet;
use trawl::testing::taxii::{Auth, Client, ClientOptions, ObjectsQuery};
use trawl::{FeedSpec, ingest_feeds};

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
    let dir = server.dir.path();
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
