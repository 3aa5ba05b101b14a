//! Small valid sets that between them fill every section of the format: the seeds of the
//! `set_open` corpus (written by `cargo test --test fuzz_seeds -- --ignored`) and the sets
//! whose section bodies `set_sections` mutates. Shared by the fuzz targets and the tests
//! through `#[path]`, so both build exactly the same bytes.

use trawl::Exclusions;
use trawl::Kind;
use trawl::Location;
use trawl::normalize;
use trawl::{CompileOptions, SetBuilder};
use trawl::{Meta, Tlp};

/// The build time and "now" of every sample: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

/// Values of every kind: nested IPv4 and IPv6 prefixes, names, emails, URLs with and without
/// a scheme, HTTP literals, digests of each length, certificate and TLS fingerprints.
const EVERY_KIND: &[&str] = &[
    "203.0.113.7",
    "198.51.100.0/24",
    "198.51.100.128/25",
    "198.51.100.200",
    "10.0.0.0/8",
    "2001:db8::/32",
    "2001:db8:bad::/48",
    "2001:db8:bad::1",
    "evil.example",
    "c2.badsite.test",
    "bad@evil.example",
    "http://malware.example/payload.exe",
    "https://phish.example/login?id=1",
    "evil.example/gate.php",
    "badsite.test/a/b",
    "/wp-content/plugins/evil/shell.php",
    "/gate.php",
    "d41d8cd98f00b204e9800998ecf8427e",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    // Kinds a value does not tell: `kind=value`.
    "x509-md5=d41d8cd98f00b204e9800998ecf8427e",
    "x509-sha1=46:AB:A9:9A:A7:15:8E:46:09:AA:A7:2B:50:99:08:42:FD:22:AE:86",
    "x509-sha256=ec5aedf5ecc6bdadd4120932170d1b10f6cfa175cfda22951dfd882928ab279b",
    "ja3=e7d705a3286e19ea42f587b344ee6865",
    "ja3s=d41d8cd98f00b204e9800998ecf8427e",
    "ja4=t13d1516h2_8daaf6152771_e5627efa2ab1",
    "ja4s=t130200_1301_234ea6891581",
];

/// Names, URLs, literals and digests only: no interval tables, so a few kilobytes.
const NO_ADDRESSES: &[&str] = &[
    "evil.example",
    "sub.evil.example",
    "xn--80ak6aa92e.example",
    "bad@evil.example",
    "http://malware.example/payload.exe",
    "http://malware.example/a/",
    "evil.example/gate.php",
    "badsite.test/gate.php?id=",
    "/wp-login.php",
    "/cgi-bin/evil.cgi",
    "d41d8cd98f00b204e9800998ecf8427e",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];

/// Patterns that contain and overlap each other.
const OVERLAPPING: &[&str] = &[
    "evil.example/a",
    "evil.example/ab",
    "evil.example/abc",
    "vil.example/abc",
    "/abc",
    "/abcd",
    "/bcd",
];

fn build(items: &[(String, Meta)]) -> Vec<u8> {
    let opts = CompileOptions {
        now: NOW,
        ..CompileOptions::default()
    };
    let mut b = SetBuilder::new(opts, Exclusions::new());
    let at = Location::File {
        file: "sample".into(),
    };
    for (v, meta) in items {
        let typed = v
            .split_once('=')
            .and_then(|(k, value)| Some((Kind::parse(k)?, value)));
        let n = match typed {
            Some((kind, value)) => normalize::value(kind, value),
            None => normalize::detect(v),
        }
        .unwrap_or_else(|e| panic!("{v}: {e:?}"));
        b.add(n, meta, &at).unwrap();
    }
    b.build().unwrap().0.finish(NOW)
}

fn plain(values: &[&str], source: &str) -> Vec<(String, Meta)> {
    values
        .iter()
        .map(|v| (v.to_string(), Meta::from_source(source)))
        .collect()
}

/// The sample sets, by name: `every-kind` (with interval tables, about 600 KB), then small
/// ones: `no-addresses`, `timed` (validity windows, several sources per value, exact
/// domains, scores, TLP, labels), `overlapping` (patterns inside patterns), `empty`.
pub fn sample_sets() -> Vec<(&'static str, Vec<u8>)> {
    let mut timed = plain(NO_ADDRESSES, "first");
    let windows = [
        (Some(NOW - 3600), Some(NOW + 3600)),
        (Some(NOW + 3600), None),
        (None, Some(NOW - 1)),
    ];
    for (i, v) in NO_ADDRESSES.iter().enumerate() {
        let (valid_from, valid_until) = windows[i % windows.len()];
        let meta = Meta {
            source: "second".into(),
            id: Some(format!("indicator--{i:08}")),
            score: Some((i * 9 % 101) as u8),
            tlp: [Some(Tlp::Green), Some(Tlp::Amber), None][i % 3],
            valid_from,
            valid_until,
            labels: vec!["c2".into(), format!("family-{i}")],
            description: Some(format!("sample {i}")),
            exact: i % 2 == 0,
        };
        timed.push((v.to_string(), meta));
    }
    vec![
        ("every-kind", build(&plain(EVERY_KIND, "every"))),
        ("no-addresses", build(&plain(NO_ADDRESSES, "names"))),
        ("timed", build(&timed)),
        ("overlapping", build(&plain(OVERLAPPING, "patterns"))),
        ("empty", build(&[])),
    ]
}

/// Values to look up in a mutated set: the samples' own values (hits reach the records and
/// provenance), their neighbours, and misses.
pub const PROBES: &[&str] = &[
    "203.0.113.7",
    "198.51.100.201",
    "10.1.2.3",
    "2001:db8:bad::1",
    "2001:db8:1::1",
    "::ffff:198.51.100.7",
    "www.sub.evil.example",
    "evil.example",
    "bad@evil.example",
    "http://malware.example/payload.exe?x=1",
    "https://phish.example/login?id=1",
    "http://www.evil.example/gate.php?id=7",
    "d41d8cd98f00b204e9800998ecf8427e",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
];
