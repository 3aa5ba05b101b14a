//! Valid sets with mutated section bodies and a recomputed digest, so that the mutation gets
//! past `verify`'s digest check: opening, `verify`, building the automata, every lookup (single
//! and batched), `scan_text`, the interval walks of the exports and resolving hits to their
//! indicators and provenance must return without panicking and within the memory limit
//! (`-rss_limit_mb` / `-malloc_limit_mb`), whatever the bytes. This is what makes a set file
//! rewritten under the mapping (or zeroed by the SIGBUS guard) harmless.
//!
//! Input: a selector byte (which sample set), then operations of 6 bytes and up: section
//! selector, a little-endian u32 offset into that section's body, an opcode, then data.
#![no_main]

#[path = "../sample_sets.rs"]
mod sample_sets;

use std::net::IpAddr;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trawl::testing::format::{self, DIGEST_OFFSET, Layout};
use trawl::{AlignedBytes, IndicatorSet};

fn samples() -> &'static [(&'static str, Vec<u8>)] {
    static SETS: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();
    SETS.get_or_init(sample_sets::sample_sets)
}

/// Words a corrupt index likes to hold.
const WORDS: [u32; 8] = [0, 1, 2, 0x7fff_ffff, 0x8000_0000, 0xffff_fffe, 0xffff_ffff, 0x10000];

/// Applies the operations in `ops` to the section bodies of `file`.
fn mutate(file: &mut [u8], ops: &[u8]) {
    let Ok(layout) = Layout::parse(file) else {
        return;
    };
    let bodies: Vec<_> = layout
        .sections
        .iter()
        .map(|(_, r)| r.clone())
        .filter(|r| !r.is_empty())
        .collect();
    if bodies.is_empty() {
        return;
    }
    let mut at = 0;
    while at + 6 <= ops.len() {
        let body = &bodies[usize::from(ops[at]) % bodies.len()];
        let off = u32::from_le_bytes([ops[at + 1], ops[at + 2], ops[at + 3], ops[at + 4]]);
        let op = ops[at + 5];
        at += 6;
        let pos = body.start + off as usize % body.len();
        match op % 4 {
            // Raw bytes: a length byte, then that many bytes.
            0 => {
                let n = ops.get(at).map_or(0, |&n| usize::from(n % 32));
                let data = ops.get(at + 1..(at + 1 + n).min(ops.len())).unwrap_or(&[]);
                at += 1 + data.len();
                let end = (pos + data.len()).min(body.end);
                file[pos..end].copy_from_slice(&data[..end - pos]);
            }
            // An interesting word at the word boundary.
            1 => {
                let pos = pos & !3;
                if pos + 4 <= body.end {
                    let w = WORDS[usize::from(op >> 2) % WORDS.len()];
                    file[pos..pos + 4].copy_from_slice(&w.to_le_bytes());
                }
            }
            // Zeros to the end of the section, as after the SIGBUS guard's zero pages.
            2 => file[pos..body.end].fill(0),
            // A byte nudged.
            _ => file[pos] = file[pos].wrapping_add(op >> 2 | 1),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, ops)) = data.split_first() else {
        return;
    };
    let sets = samples();
    let mut file = sets[usize::from(pick) % sets.len()].1.clone();
    mutate(&mut file, ops);
    let digest = format::digest(&file);
    file[DIGEST_OFFSET..DIGEST_OFFSET + 32].copy_from_slice(&digest);

    let Ok(mut set) = IndicatorSet::from_bytes(AlignedBytes::copy_from(&file)) else {
        return;
    };
    set.set_clock(Some(sample_sets::NOW));
    let _ = set.verify();
    let _ = set.prepare();
    let _ = set.meta();
    let _ = set.section_sizes();
    let mut hits = Vec::new();
    let ips: Vec<IpAddr> = sample_sets::PROBES
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let mut out = Vec::new();
    set.match_ips(&ips, &mut out);
    hits.extend(out.iter().flatten().copied());
    set.match_domains(sample_sets::PROBES, &mut out);
    hits.extend(out.iter().flatten().copied());
    for p in sample_sets::PROBES {
        hits.extend(trawl::scan_text(&set, p.as_bytes()));
        hits.extend(set.match_url(p));
        hits.extend(set.match_http(p.as_bytes()));
        hits.extend(set.match_email(p));
        hits.extend(set.match_hash_hex(p.as_bytes()));
        let _ = set.may_match_domain(p.as_bytes());
    }
    hits.extend(trawl::scan_text(&set, ops));
    for h in &hits {
        if let Some(i) = set.indicator(h.indicator) {
            let _ = (i.value(), i.kind(), i.parent());
            for p in i.provenance() {
                let _ = (p.labels().count(), p.active_at(sample_sets::NOW));
            }
        }
    }
    // What the exports walk: every interval (bounded by the first level's size).
    let _ = set.ipv4_ranges().take(1 << 21).count();
    let _ = set.ipv6_ranges().take(1 << 21).count();
});
