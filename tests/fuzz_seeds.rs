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

#[path = "common/h2c.rs"]
mod h2c;

#[test]
#[ignore = "writes fuzz/corpus/http2; run by hand before fuzzing"]
fn write_the_http2_seed_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/http2");
    std::fs::create_dir_all(&dir).unwrap();
    // The target's input: a direction byte (high bit: the server's), a 2-byte cut, frames
    // (the client's without its preface, which the target adds).
    let client = h2c::prior_knowledge().0;
    let upgraded = h2c::upgrade().0;
    let after = upgraded
        .windows(h2c::PREFACE.len())
        .position(|w| w == h2c::PREFACE)
        .unwrap()
        + h2c::PREFACE.len();
    for (name, sel, frames) in [
        ("client", 0u8, &client[h2c::PREFACE.len()..]),
        ("client-upgraded", 0, &upgraded[after..]),
        ("server-push", 0x80, &h2c::server_push(false).0[..]),
    ] {
        let mut seed = vec![sel, 0, 40];
        seed.extend_from_slice(frames);
        std::fs::write(dir.join(name), seed).unwrap();
    }
}
