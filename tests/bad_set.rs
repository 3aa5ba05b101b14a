//! Truncated, corrupt and wrong-version set files are refused with a clear error; no input
//! bytes make opening, looking up or verifying panic.

mod common;

use std::net::IpAddr;

use rand::{Rng, SeedableRng, rngs::StdRng};

use trawl::Exclusions;
use trawl::SetBuilder;
use trawl::testing::format::{self, HEADER_LEN, SECTION_ENTRY_LEN};
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{FeedSpec, ingest_feeds};

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

/// The bounds error of a set that opens (open is O(sections)) but whose pattern lists break a
/// bound: `pattern_totals`, `prepare` and `verify` all refuse it, and nothing is built.
fn pattern_err(bytes: &[u8]) -> String {
    let set = open(bytes).expect("the sections are in bounds");
    let msg = set.pattern_totals().unwrap_err().to_string();
    assert_eq!(set.prepare().unwrap_err().to_string(), msg);
    assert!(set.verify().is_err());
    // A lookup that needs the automaton builds nothing and finds nothing.
    assert!(set.match_url("http://evil.example/").is_empty());
    assert!(
        trawl::scan_text(&set, b"evil.example/gate.php")
            .next()
            .is_none()
    );
    msg
}

/// The set a single `trawl verify` used to accept and the first lookup then built an
/// automaton from until memory ran out (issue 9): refused by `verify`, `prepare` and the
/// commands, quickly, under a memory limit far below what the build would take.
#[test]
fn a_set_whose_patterns_would_exhaust_memory_is_refused() {
    let bytes = common::hostile_pattern_set(u16::MAX);
    assert!(bytes.len() < 3 << 20, "a small file: {} bytes", bytes.len());
    let started = std::time::Instant::now();
    let msg = pattern_err(&bytes);
    assert!(msg.contains("url pattern list"), "{msg}");
    assert!(msg.contains("a pattern of 65535 bytes"), "{msg}");
    // Patterns within the length bound, 400 MB of them together.
    let within = common::hostile_pattern_set(format::MAX_PATTERN_LEN as u16);
    let msg = pattern_err(&within);
    assert!(msg.contains("too much memory"), "{msg}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.tset");
    let trawl = env!("CARGO_BIN_EXE_trawl");
    for (bytes, args) in [&bytes, &within].into_iter().flat_map(|b| {
        [
            vec!["verify", path.to_str().unwrap()],
            vec!["lookup", path.to_str().unwrap(), "http://evil.example/a"],
            vec!["info", path.to_str().unwrap()],
        ]
        .map(|args| (b, args))
    }) {
        std::fs::write(&path, bytes).unwrap();
        // 1 GiB of address space: the automata would need 20 GB and 300 GB.
        let started = std::time::Instant::now();
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg("ulimit -v 1048576; exec \"$@\"")
            .arg("bash")
            .arg(trawl)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("url pattern list") && stderr.contains("hostile.tset"),
            "{args:?}: {stderr}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}

#[test]
fn pattern_lists_out_of_bounds_are_refused() {
    let pool = b"evil.example/gate.php".to_vec();
    let ok = common::crafted_set(pool.clone(), vec![common::url_record(0, 21)], vec![0]);
    let set = open(&ok).unwrap();
    set.verify().unwrap();
    assert_eq!(set.pattern_totals().unwrap(), (1, 21));
    assert_eq!(set.match_url("http://evil.example/gate.php?a=1").len(), 1);

    // More entries than records: refused at open already (O(sections)).
    let twice = common::crafted_set(pool.clone(), vec![common::url_record(0, 21)], vec![0, 0]);
    assert!(err(&twice).contains("url pattern list: 2 entries for 1 records"));
    let records = vec![common::url_record(0, 21), common::url_record(0, 21)];
    let twice = common::crafted_set(pool.clone(), records, vec![0, 0]);
    assert!(pattern_err(&twice).contains("record 0 is listed twice"));
    let past = common::crafted_set(pool.clone(), vec![common::url_record(0, 21)], vec![1]);
    assert!(pattern_err(&past).contains("past the 1 records"));
    let outside = common::crafted_set(pool.clone(), vec![common::url_record(10, 21)], vec![0]);
    assert!(pattern_err(&outside).contains("outside the string pool"));
    let empty = common::crafted_set(pool.clone(), vec![common::url_record(0, 0)], vec![0]);
    assert!(pattern_err(&empty).contains("pattern of 0 bytes"));
    let long_pool = vec![b'a'; format::MAX_PATTERN_LEN + 1];
    let long = common::crafted_set(
        long_pool,
        vec![common::url_record(0, format::MAX_PATTERN_LEN as u16 + 1)],
        vec![0],
    );
    assert!(pattern_err(&long).contains(&format!("1 to {} allowed", format::MAX_PATTERN_LEN)));
    let mut not_url = common::url_record(0, 21);
    not_url.kind = trawl::Kind::Domain as u8;
    let wrong_kind = common::crafted_set(pool, vec![not_url], vec![0]);
    assert!(pattern_err(&wrong_kind).contains("not a url"));
}

#[test]
fn compile_rejects_overlong_literals_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.csv");
    let long = format!("evil.example/{}", "a".repeat(format::MAX_PATTERN_LEN));
    std::fs::write(
        &feed,
        format!("value,kind\n{long},url\nevil.example/gate.php,url\n"),
    )
    .unwrap();
    let set = dir.path().join("s.tset");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["compile", "-o"])
        .arg(&set)
        .arg(&feed)
        .output()
        .unwrap();
    let report =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("literal too long for substring matching"),
        "{report}"
    );
    let set = IndicatorSet::open(&set).unwrap();
    set.verify().unwrap();
    assert_eq!(set.pattern_totals().unwrap(), (1, 21));
}

/// `V6::ranges` read a node's count (a u64 from the file) and added to it unchecked: a count
/// near `u64::MAX` overflowed (a panic in a debug build). It ends that slot now.
#[test]
fn a_crafted_ipv6_node_count_does_not_overflow() {
    use trawl::testing::format::{FileWriter, NONE, SectionId, V4_DIRECT};
    let mut l1 = vec![V4_DIRECT | NONE; 1 << 16];
    l1[0] = 0; // a node at word 0 …
    l1[1] = 1; // … and one at word 1
    let nodes = vec![u64::MAX, u64::MAX / 2];
    let mut w = FileWriter::new();
    w.section(SectionId::Meta, b"{}".to_vec());
    w.section(SectionId::V6L1, l1);
    w.section(SectionId::V6Nodes, nodes);
    let set = open(&w.finish(0)).unwrap();
    assert!(set.verify().is_err());
    let ranges: Vec<_> = set.ipv6_ranges().collect();
    assert!(ranges.is_empty(), "{ranges:?}");
    assert!(set.match_ip("::1".parse().unwrap()).is_none());
}
