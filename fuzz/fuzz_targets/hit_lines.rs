//! `sightings`' reader of hit output (ECS hit documents, `--enrich` records, EVE alerts) on
//! arbitrary bytes: never panics, counts every line it reads, and what it aggregated resolves
//! against a set and renders as a bundle.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trawl::sightings::{Aggregator, BundleOptions, ReadReport, Timestamp, Window, read_hits};
use trawl::{AlignedBytes, IndicatorSet};

#[path = "../sample_sets.rs"]
#[allow(dead_code)] // its probes serve the set targets
mod sample_sets;

/// A set with every kind of indicator, for the alerts that are resolved through one.
fn set() -> &'static IndicatorSet<AlignedBytes> {
    static SET: OnceLock<IndicatorSet<AlignedBytes>> = OnceLock::new();
    SET.get_or_init(|| {
        let (_, bytes) = sample_sets::sample_sets()
            .into_iter()
            .find(|(name, _)| *name == "every-kind")
            .expect("the every-kind sample set");
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&bytes)).expect("a valid sample set")
    })
}

fuzz_target!(|data: &[u8]| {
    let mut agg = Aggregator::new(Window::default(), true);
    let mut report = ReadReport::default();
    read_hits(data, "fuzz.jsonl", Some(set()), &mut agg, &mut report).unwrap();
    // Every line is read and counted, blank ones too; a last line without its newline counts.
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    let lines = newlines + u64::from(!data.is_empty() && !data.ends_with(b"\n"));
    assert_eq!(report.lines, lines);
    agg.resolve(set());
    let bundle = agg.bundle(&BundleOptions::new(Timestamp::from_unix(1_767_225_600, 0)));
    assert!(bundle.json.is_object());
});
