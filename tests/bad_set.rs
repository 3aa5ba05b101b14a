//! Truncated, corrupt and wrong-version set files are refused with a clear error; no input
//! bytes make opening, looking up or verifying panic.

mod common;

use std::net::IpAddr;

use rand::{Rng, SeedableRng, rngs::StdRng};

use trawl::compile::exclude::Exclusions;
use trawl::compile::{FeedSpec, SetBuilder, ingest_feeds};
use trawl::format::{self, HEADER_LEN, SECTION_ENTRY_LEN};
use trawl::set::{AlignedBytes, IndicatorSet};

fn good_set() -> Vec<u8> {
    let mut b = SetBuilder::new(common::options(), Exclusions::new());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/feeds");
    ingest_feeds(
        &[
            FeedSpec::new(dir.join("blocklist.txt")),
            FeedSpec::new(dir.join("intel.csv")),
        ],
        &mut b,
    )
    .unwrap();
    b.build().unwrap().0.finish(common::NOW)
}

fn open(bytes: &[u8]) -> trawl::Result<IndicatorSet<AlignedBytes>> {
    IndicatorSet::from_bytes(AlignedBytes::copy_from(bytes))
}

fn err(bytes: &[u8]) -> String {
    match open(bytes) {
        Ok(_) => panic!("opened a bad set"),
        Err(e) => {
            assert!(e.is_bad_set(), "{e}");
            e.to_string()
        }
    }
}

/// Exercises every lookup; must not panic whatever the bytes.
fn poke(set: &IndicatorSet<AlignedBytes>) {
    for ip in ["203.0.113.7", "10.1.1.1", "2001:db8:bad::1", "198.51.100.1"] {
        if let Some(h) = set.match_ip(ip.parse::<IpAddr>().unwrap()) {
            if let Some(i) = set.indicator(h.indicator) {
                let _ = (i.value(), i.provenance().count(), i.parent());
            }
        }
    }
    let _ = set.match_domain("www.evil.example.com");
    let _ = set.match_email("bad@evil.example.com");
    let _ = set.match_hash_hex(b"d41d8cd98f00b204e9800998ecf8427e");
    let _ = set.match_url("http://malware.example/payload.exe");
    let _ = set.match_http(b"GET /wp-content/plugins/evil/shell.php");
    let _ = set.meta();
    let _ = set.verify();
}

#[test]
fn the_good_set_opens_and_verifies() {
    let set = open(&good_set()).unwrap();
    set.verify().unwrap();
    assert!(set.match_domain("evil.example.com").is_some());
}

#[test]
fn truncated_files_are_refused() {
    let good = good_set();
    assert!(err(&[]).contains("shorter than the 128-byte header"));
    assert!(err(&good[..100]).contains("truncated"));
    for cut in [HEADER_LEN, HEADER_LEN + 10, good.len() / 2, good.len() - 1] {
        let msg = err(&good[..cut]);
        assert!(msg.contains("truncated"), "{cut}: {msg}");
        assert!(msg.contains("re-compile"), "{msg}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(err(&longer).contains("padded"));
}

#[test]
fn wrong_magic_and_version_are_refused_by_name() {
    let good = good_set();
    let mut bad = good.clone();
    bad[..8].copy_from_slice(b"NOTTRAWL");
    assert!(err(&bad).contains("not a trawl set file"));
    assert!(err(b"PK\x03\x04 a zip file, not a set").contains("not a trawl set file"));
    let mut v2 = good.clone();
    v2[8..12].copy_from_slice(&2u32.to_le_bytes());
    let msg = err(&v2);
    assert!(msg.contains("format version 2 is not supported"), "{msg}");
    assert!(msg.contains("re-compile"), "{msg}");
}

#[test]
fn sections_outside_the_file_or_misaligned_are_refused() {
    let good = good_set();
    let entry = HEADER_LEN; // first section-table entry
    let mut past_end = good.clone();
    past_end[entry + 8..entry + 16].copy_from_slice(&(good.len() as u64).to_le_bytes());
    assert!(err(&past_end).contains("outside the file"));
    let mut overflow = good.clone();
    overflow[entry + 16..entry + 24].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(err(&overflow).contains("outside the file"));
    let mut misaligned = good.clone();
    let off = u64::from_le_bytes(good[entry + 8..entry + 16].try_into().unwrap());
    misaligned[entry + 8..entry + 16].copy_from_slice(&(off + 4).to_le_bytes());
    misaligned[entry + 16..entry + 24].copy_from_slice(&0u64.to_le_bytes());
    assert!(err(&misaligned).contains("not aligned"));
    let mut elem = good.clone();
    elem[entry + 4..entry + 8].copy_from_slice(&3u32.to_le_bytes());
    assert!(err(&elem).contains("element size"));
    let mut many = good.clone();
    many[12..16].copy_from_slice(&10_000u32.to_le_bytes());
    assert!(err(&many).contains("sections declared"));
    assert_eq!(SECTION_ENTRY_LEN, 32);
}

#[test]
fn a_flipped_body_byte_fails_verify_with_a_digest_error() {
    let good = good_set();
    let mut bad = good.clone();
    let at = good.len() - 100;
    bad[at] ^= 0x55;
    let set = open(&bad).expect("bounds are intact, so open succeeds");
    let e = set.verify().unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    poke(&set);
    // The digest covers the header too (its digest field excepted).
    let mut hdr = good.clone();
    hdr[16..24].copy_from_slice(&1u64.to_le_bytes()); // build time
    let set = open(&hdr);
    assert!(set.is_err() || set.unwrap().verify().is_err());
    assert_eq!(
        format::digest(&good),
        open(&good).unwrap().as_bytes()[32..64]
    );
}

#[test]
fn random_corruption_never_panics() {
    let good = good_set();
    let mut rng = StdRng::seed_from_u64(7);
    for round in 0..3000 {
        let mut bad = good.clone();
        let flips = rng.gen_range(1..8);
        for _ in 0..flips {
            // Bias towards the header, table and index sections where damage matters most.
            let at = if rng.gen_bool(0.5) {
                rng.gen_range(0..1024.min(bad.len()))
            } else {
                rng.gen_range(0..bad.len())
            };
            bad[at] = rng.r#gen();
        }
        if round % 10 == 0 {
            bad.truncate(rng.gen_range(0..bad.len()));
        }
        if let Ok(set) = open(&bad) {
            poke(&set);
        }
    }
}

#[test]
fn misaligned_buffers_are_refused() {
    let good = good_set();
    let aligned = AlignedBytes::copy_from(&[&[0u8][..], &good].concat());
    let shifted = &aligned.as_ref()[1..];
    let e = IndicatorSet::from_bytes(shifted).unwrap_err();
    assert!(e.to_string().contains("aligned"), "{e}");
}
