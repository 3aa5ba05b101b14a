//! The sample sets of the fuzz targets (`fuzz/sample_sets.rs`): each opens, verifies and
//! answers its own values, and between them they fill every section of the format. The
//! ignored test writes them as the seed corpus of `set_open` (from an empty corpus libFuzzer
//! never gets past the header check): `cargo test --test fuzz_seeds -- --ignored`.

#[path = "../fuzz/sample_sets.rs"]
mod sample_sets;

use trawl::testing::format::{Layout, SectionId};
use trawl::{AlignedBytes, IndicatorSet};

#[test]
fn the_sample_sets_are_valid_and_cover_every_section() {
    let mut seen = std::collections::BTreeSet::new();
    for (name, bytes) in sample_sets::sample_sets() {
        let mut set = IndicatorSet::from_bytes(AlignedBytes::copy_from(&bytes)).unwrap();
        set.set_clock(Some(sample_sets::NOW));
        set.verify().unwrap_or_else(|e| panic!("{name}: {e}"));
        set.prepare().unwrap();
        for (id, range) in Layout::parse(&bytes).unwrap().sections {
            if !range.is_empty() {
                seen.insert(id);
            }
        }
        if name == "every-kind" {
            for probe in sample_sets::PROBES.iter().take(4) {
                assert!(set.match_ip(probe.parse().unwrap()).is_some(), "{probe}");
            }
        }
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        SectionId::ALL.to_vec(),
        "every section is filled by some sample"
    );
}

#[test]
#[ignore = "writes fuzz/corpus/set_open; run by hand before fuzzing"]
fn write_the_set_open_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/set_open");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in sample_sets::sample_sets() {
        std::fs::write(dir.join(format!("sample-{name}")), bytes).unwrap();
    }
}
