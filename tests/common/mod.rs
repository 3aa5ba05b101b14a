//! Helpers shared by the integration tests: build a set in memory from values.

#![allow(dead_code)]

pub mod child;
pub mod h2c;
pub mod medallion;

use trawl::Exclusions;
use trawl::Location;
use trawl::Meta;
use trawl::normalize::Normalized;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{CompileOptions, SetBuilder};

/// Fixed "now" for tests: 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

pub fn options() -> CompileOptions {
    CompileOptions {
        now: NOW,
        ..CompileOptions::default()
    }
}

/// Builds a set from (normalized value, meta) pairs and opens it from aligned memory.
pub fn build(items: &[(Normalized, Meta)], exclusions: Exclusions) -> IndicatorSet<AlignedBytes> {
    build_with(items, options(), exclusions)
}

pub fn build_with(
    items: &[(Normalized, Meta)],
    opts: CompileOptions,
    exclusions: Exclusions,
) -> IndicatorSet<AlignedBytes> {
    let mut b = SetBuilder::new(opts, exclusions);
    let at = Location::File {
        file: "test".into(),
    };
    for (n, m) in items {
        b.add(n.clone(), m, &at).unwrap();
    }
    let (w, _) = b.build().unwrap();
    let bytes = w.finish(NOW);
    let mut set = IndicatorSet::from_bytes(AlignedBytes::copy_from(&bytes)).unwrap();
    set.set_clock(Some(NOW));
    set
}

/// The canonical value text of a hit's indicator.
pub fn value_of(set: &IndicatorSet<AlignedBytes>, hit: Option<trawl::Match>) -> Option<String> {
    hit.map(|h| set.indicator(h.indicator).unwrap().value())
}

/// A set file written field by field through the format module: one source, one provenance,
/// the given records over `strings`, and `url_patterns` as the URL-substring pattern list.
/// Every index is valid for the structural checks that predate the pattern bounds.
pub fn crafted_set(
    strings: Vec<u8>,
    records: Vec<trawl::testing::format::Record>,
    url_patterns: Vec<u32>,
) -> Vec<u8> {
    use trawl::testing::format::{FileWriter, Prov, SectionId, StrRef};
    let meta = trawl::SetMeta {
        trawl_version: "crafted".into(),
        format_version: trawl::testing::format::VERSION,
        build_time: NOW,
        indicators: [("url".to_string(), records.len() as u64)].into(),
        sources: Vec::new(),
        inputs: Vec::new(),
        options: String::new(),
        rejected: 0,
        suppressed: 0,
        domain_tlds: None,
    };
    let mut w = FileWriter::new();
    w.section(SectionId::Meta, serde_json::to_vec(&meta).unwrap());
    w.section(SectionId::Strings, strings);
    w.section(SectionId::Records, records);
    w.section(SectionId::Provs, vec![Prov::default()]);
    w.section(SectionId::Sources, vec![StrRef::default()]);
    w.section(SectionId::UrlPatterns, url_patterns);
    w.finish(NOW)
}

/// A URL record with its value at `off..off + len` of the string pool.
pub fn url_record(off: u32, len: u16) -> trawl::testing::format::Record {
    trawl::testing::format::Record {
        value_off: off,
        value_len: len,
        kind: trawl::Kind::Url as u8,
        flags: 0,
        provs: trawl::testing::format::PROVS_SINGLE,
        parent: trawl::testing::format::NONE,
    }
}

/// The set of issue 9: 100,000 overlapping URL patterns of `len` bytes (64 KB there) over
/// one string pool of pseudo-random bytes — 2.2 MB on disk, 6.5 GB of pattern bytes, and as
/// many automaton states, for a reader that builds before it counts.
pub fn hostile_pattern_set(len: u16) -> Vec<u8> {
    const PATTERNS: u32 = 100_000;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let pool: Vec<u8> = (0..PATTERNS as usize + usize::from(len))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'a' + (x % 26) as u8
        })
        .collect();
    let records = (0..PATTERNS).map(|i| url_record(i, len)).collect();
    crafted_set(pool, records, (0..PATTERNS).collect())
}

/// Compiles `feed` (a plain list) into a set under `dir` and scans the capture `pcap` with
/// `workers` workers into `sink`, as `trawl scan pcap` does; returns the scan's counters.
pub fn scan_capture<S: trawl::HitSink<memmap2::Mmap> + Send>(
    dir: &std::path::Path,
    feed: &str,
    pcap: &std::path::Path,
    workers: usize,
    sink: S,
) -> trawl::Stats {
    let feed_path = dir.join("feed.txt");
    std::fs::write(&feed_path, feed).unwrap();
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    trawl::ingest_feeds(&[trawl::FeedSpec::new(&feed_path)], &mut b).unwrap();
    let set = dir.join("intel.tset");
    b.write(&set).unwrap();
    let opts = trawl::ScanOptions {
        workers,
        ..trawl::ScanOptions::default()
    };
    trawl::scan_files(
        &set,
        &[pcap.to_path_buf()],
        &opts,
        sink,
        &std::sync::atomic::AtomicBool::new(false),
        None,
        &trawl::Progress::default(),
    )
    .unwrap()
    .stats
}
