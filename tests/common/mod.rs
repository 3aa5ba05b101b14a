//! Helpers shared by the integration tests: build a set in memory from values.

#![allow(dead_code)]

pub mod medallion;

use trawl::compile::exclude::Exclusions;
use trawl::compile::{CompileOptions, SetBuilder};
use trawl::indicator::Meta;
use trawl::ingest::Location;
use trawl::normalize::Normalized;
use trawl::set::{AlignedBytes, IndicatorSet};

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
pub fn value_of(set: &IndicatorSet<AlignedBytes>, hit: Option<trawl::Hit>) -> Option<String> {
    hit.map(|h| set.indicator(h.indicator).unwrap().value())
}
