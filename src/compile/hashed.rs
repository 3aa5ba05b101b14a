//! Static hash tables laid out in the file: buckets of eight slots, one cache line each.
//!
//! A slot holds a 32-bit fingerprint of the key's hash and the record index; the key itself
//! stays in the string pool and is compared only on a fingerprint match. A lookup probes the
//! home bucket, then the following ones, until the key is found or a bucket with an empty slot
//! proves it absent. The table is sized for at most 75 % occupancy, so almost every probe
//! touches one cache line.

use crate::format::{BUCKET_SLOTS, Slot, fingerprint};

/// Builds the slots of a table for `(hash, key entry offset)` pairs.
pub fn build(entries: &[(u64, u32)]) -> Vec<Slot> {
    if entries.is_empty() {
        return Vec::new();
    }
    let buckets = entries
        .len()
        .div_ceil(BUCKET_SLOTS * 3 / 4)
        .next_power_of_two()
        .max(1);
    let mask = buckets - 1;
    let mut slots = vec![Slot::default(); buckets * BUCKET_SLOTS];
    for &(hash, entry) in entries {
        let mut b = hash as usize & mask;
        'probe: loop {
            for slot in &mut slots[b * BUCKET_SLOTS..(b + 1) * BUCKET_SLOTS] {
                if slot.fp == 0 {
                    *slot = Slot {
                        fp: fingerprint(hash),
                        entry,
                    };
                    break 'probe;
                }
            }
            b = (b + 1) & mask;
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_placed_once_and_load_is_bounded() {
        let entries: Vec<(u64, u32)> = (0..1000u32)
            .map(|i| (u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15), i))
            .collect();
        let slots = build(&entries);
        assert!(slots.len().is_power_of_two());
        assert!(entries.len() * 4 <= slots.len() * 3);
        let mut recs: Vec<u32> = slots
            .iter()
            .filter(|s| s.fp != 0)
            .map(|s| s.entry)
            .collect();
        recs.sort_unstable();
        assert_eq!(recs, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn colliding_hashes_spill_into_following_buckets() {
        let entries: Vec<(u64, u32)> = (0..20).map(|i| (5, i)).collect();
        let slots = build(&entries);
        assert_eq!(slots.iter().filter(|s| s.fp != 0).count(), 20);
    }
}
