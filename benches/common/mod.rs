//! Shared by the benches: set building and query generation (lookup benches), and the generated inputs of the scan benches.

#![allow(dead_code)]

use hashbrown::HashSet;
use rand::Rng;

use trawl::Exclusions;
use trawl::Location;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{CompileOptions, SetBuilder};
use trawl::{Meta, Value};

/// An environment variable as a number, or `default`.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Set size for the benches (`TRAWL_BENCH_N`, default 1,000,000).
pub fn set_size() -> usize {
    env("TRAWL_BENCH_N", 1_000_000)
}

/// Compiles values into an in-memory set.
pub fn build(values: impl Iterator<Item = Value>) -> IndicatorSet<AlignedBytes> {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let meta = Meta::from_source("bench");
    let at = Location::File {
        file: "bench".into(),
    };
    for v in values {
        b.add(v.into(), &meta, &at).unwrap();
    }
    let bytes = b.build().unwrap().0.finish(0);
    IndicatorSet::from_bytes(AlignedBytes::copy_from(&bytes)).unwrap()
}

/// IPv6 queries: every other one inside a listed prefix, the rest random in 2000::/3.
pub fn v6_queries(prefixes: &[(u128, u8)], n: usize, seed: u64) -> Vec<u128> {
    let mut r = trawl_tools::rng(seed);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                let (a, l) = prefixes[r.gen_range(0..prefixes.len())];
                a | (r.r#gen::<u128>() & u128::MAX.checked_shr(u32::from(l)).unwrap_or(0))
            } else {
                (0x2u128 << 124) | (r.r#gen::<u128>() >> 3)
            }
        })
        .collect()
}

/// The naive domain oracle: the name or a parent (not the bare TLD) is in the set.
pub fn naive_domain_match(set: &HashSet<String>, q: &str) -> bool {
    let mut name = q;
    loop {
        if set.contains(name) {
            return true;
        }
        match name.split_once('.') {
            Some((_, rest)) if rest.contains('.') => name = rest,
            _ => return false,
        }
    }
}

/// A generator of `tools/` (`gen-feed`, `gen-logs`, `gen-pcap`), built in release mode.
pub fn tool(name: &str) -> std::path::PathBuf {
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "trawl-tools",
            "--bin",
            name,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/release")
        .join(name)
}

/// `target/bench-data/` (created), where generated bench inputs are kept between runs.
pub fn data_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The 1M-indicator sensor feed (`gen-feed sensor 1000000`) and its set — or the set named
/// by `TRAWL_SET` — generated once under [`data_dir`].
pub fn sensor_feed_and_set() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = data_dir();
    let feed = dir.join("sensor-1m.txt");
    if !feed.exists() {
        let out = std::fs::File::create(&feed).unwrap();
        let ok = std::process::Command::new(tool("gen-feed"))
            .args(["sensor", "1000000"])
            .stdout(out)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let set = std::env::var_os("TRAWL_SET")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let set = dir.join("sensor-1m.tset");
            if !set.exists() {
                let mut b = SetBuilder::new(Default::default(), Default::default());
                trawl::ingest_feeds(&[trawl::FeedSpec::new(&feed)], &mut b).unwrap();
                b.write(&set).unwrap();
            }
            set
        });
    (feed, set)
}
