//! Static hash tables laid out in the file: buckets of eight slots.
//!
//! A slot holds a 16-bit tag of the key's hash (in a dense tag array, 16 bytes per bucket) and,
//! in a parallel array, the offset of the key entry in the string pool; the key is compared only
//! on a tag match. A lookup probes the home bucket, then the following ones, until the key is
//! found or a bucket with an empty slot proves it absent. The table is sized for at most 75 %
//! occupancy, so almost every miss reads 16 bytes of tags and nothing else.

use crate::indicators::format::{BUCKET_SLOTS, tag};

/// A built table: the tags and the entry offsets of all slots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Table {
    /// One tag per slot, 0 for an empty slot.
    pub tags: Vec<u16>,
    /// One key-entry offset per slot.
    pub entries: Vec<u32>,
}

impl Table {
    /// The section bytes as u16 words: all tags, then every entry offset as two
    /// little-endian halves.
    pub(crate) fn into_words(self) -> Vec<u16> {
        let mut words = self.tags;
        words.reserve(self.entries.len() * 2);
        for e in self.entries {
            words.push(e as u16);
            words.push((e >> 16) as u16);
        }
        words
    }
}

/// Builds a table for `(hash, key entry offset)` pairs.
pub(crate) fn build(entries: &[(u64, u32)]) -> Table {
    if entries.is_empty() {
        return Table::default();
    }
    let buckets = entries
        .len()
        .div_ceil(BUCKET_SLOTS * 3 / 4)
        .next_power_of_two()
        .max(1);
    let mask = buckets - 1;
    let mut t = Table {
        tags: vec![0; buckets * BUCKET_SLOTS],
        entries: vec![0; buckets * BUCKET_SLOTS],
    };
    for &(hash, entry) in entries {
        let mut b = hash as usize & mask;
        'probe: loop {
            for i in b * BUCKET_SLOTS..(b + 1) * BUCKET_SLOTS {
                if t.tags[i] == 0 {
                    t.tags[i] = tag(hash);
                    t.entries[i] = entry;
                    break 'probe;
                }
            }
            b = (b + 1) & mask;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_placed_once_and_load_is_bounded() {
        let entries: Vec<(u64, u32)> = (0..1000u32)
            .map(|i| (u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15), i))
            .collect();
        let t = build(&entries);
        assert!(t.tags.len().is_power_of_two());
        assert_eq!(t.tags.len(), t.entries.len());
        assert!(entries.len() * 4 <= t.tags.len() * 3);
        let mut recs: Vec<u32> = (0..t.tags.len())
            .filter(|&i| t.tags[i] != 0)
            .map(|i| t.entries[i])
            .collect();
        recs.sort_unstable();
        assert_eq!(recs, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn colliding_hashes_spill_into_following_buckets() {
        let entries: Vec<(u64, u32)> = (0..20).map(|i| (5, i)).collect();
        let t = build(&entries);
        assert_eq!(t.tags.iter().filter(|&&g| g != 0).count(), 20);
        assert_eq!(t.clone().into_words().len(), t.tags.len() * 3);
    }
}
