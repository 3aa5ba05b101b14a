//! Interval tables for IPv4 and IPv6 prefixes.
//!
//! Every prefix of the set is flattened into disjoint intervals, each labelled with the most
//! specific prefix covering it (or none); warninglist ranges are then carved out as holes. The
//! intervals are cut by the top 16 bits of the address (DXR's idea): a first-level table of
//! 65,536 entries answers directly where a /16 holds no boundary, and otherwise points at the few
//! boundaries inside it. See [`crate::set`] for the lookup side.

use crate::format::{L1_ENTRIES, NONE, V4_DIRECT, V6Key};

/// A prefix to place: first address, last address (inclusive), record index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    /// First address of the prefix.
    pub first: u128,
    /// Last address of the prefix (inclusive).
    pub last: u128,
    /// Record index of the indicator.
    pub rec: u32,
}

/// Sorted interval starts with the record in effect from each start on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intervals {
    /// `(start, record or NONE)`, strictly ascending starts, adjacent values different,
    /// the first start is 0.
    pub bounds: Vec<(u128, u32)>,
}

impl Intervals {
    /// Flattens nested prefixes (most specific wins) and returns the intervals and, per input
    /// prefix in input order, its parent: the next less specific prefix containing it.
    pub fn build(prefixes: &[Prefix], max: u128) -> (Intervals, Vec<u32>) {
        let mut order: Vec<usize> = (0..prefixes.len()).collect();
        // Outer prefixes first at equal starts, so the stack nests.
        order.sort_unstable_by_key(|&i| (prefixes[i].first, std::cmp::Reverse(prefixes[i].last)));
        let mut parents = vec![NONE; prefixes.len()];
        let mut raw: Vec<(u128, u32)> = vec![(0, NONE)];
        let mut stack: Vec<(u128, u32)> = Vec::new();
        let pop_until = |stack: &mut Vec<(u128, u32)>, raw: &mut Vec<(u128, u32)>, before: u128| {
            while let Some(&(last, _)) = stack.last() {
                if last >= before {
                    break;
                }
                stack.pop();
                if last < max {
                    raw.push((last + 1, stack.last().map_or(NONE, |&(_, r)| r)));
                }
            }
        };
        for &i in &order {
            let p = prefixes[i];
            pop_until(&mut stack, &mut raw, p.first);
            parents[i] = stack.last().map_or(NONE, |&(_, r)| r);
            raw.push((p.first, p.rec));
            stack.push((p.last, p.rec));
        }
        pop_until(&mut stack, &mut raw, u128::MAX);
        (Intervals::normalise(raw), parents)
    }

    /// Keeps the last value per start (the sweep emits in order) and merges equal neighbours.
    fn normalise(raw: Vec<(u128, u32)>) -> Intervals {
        let mut bounds: Vec<(u128, u32)> = Vec::with_capacity(raw.len());
        for (start, val) in raw {
            match bounds.last_mut() {
                Some(last) if last.0 == start => last.1 = val,
                _ => bounds.push((start, val)),
            }
        }
        let mut merged: Vec<(u128, u32)> = Vec::with_capacity(bounds.len());
        for b in bounds {
            if merged.last().is_none_or(|l| l.1 != b.1) {
                merged.push(b);
            }
        }
        Intervals { bounds: merged }
    }

    /// The record in effect at `addr` (NONE when none).
    pub fn at(&self, addr: u128) -> u32 {
        let i = self.bounds.partition_point(|&(s, _)| s <= addr);
        self.bounds.get(i.wrapping_sub(1)).map_or(NONE, |&(_, v)| v)
    }

    /// Carves `holes` (sorted, disjoint, inclusive ranges) out: addresses in them map to NONE.
    pub fn carve(&self, holes: &[(u128, u128)], max: u128) -> Intervals {
        if holes.is_empty() {
            return self.clone();
        }
        let in_hole = |addr: u128| {
            let i = holes.partition_point(|&(a, _)| a <= addr);
            i > 0 && holes[i - 1].1 >= addr
        };
        let mut points: Vec<u128> = self.bounds.iter().map(|&(s, _)| s).collect();
        for &(a, b) in holes {
            points.push(a);
            if b < max {
                points.push(b + 1);
            }
        }
        points.sort_unstable();
        points.dedup();
        let raw = points
            .into_iter()
            .map(|p| (p, if in_hole(p) { NONE } else { self.at(p) }))
            .collect();
        Intervals::normalise(raw)
    }
}

/// The IPv4 sections: first level, keys (low 16 bits; a bucket's first slot holds its count),
/// values (parallel to keys; a bucket's first value is the one in effect at its start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V4Table {
    /// `[u32; 65536]`: `V4_DIRECT | record` or an offset into keys/vals.
    pub l1: Vec<u32>,
    /// Per bucket: count, then the low 16 bits of each boundary inside the bucket.
    pub keys: Vec<u16>,
    /// Per bucket: the value at the bucket start, then the value from each boundary on.
    pub vals: Vec<u32>,
}

impl V4Table {
    /// Encodes IPv4 intervals.
    pub fn encode(iv: &Intervals) -> V4Table {
        let mut l1 = Vec::with_capacity(L1_ENTRIES);
        let mut keys = Vec::new();
        let mut vals = Vec::new();
        let bounds = &iv.bounds;
        let mut i = 0; // first bound with start > bucket start
        for bucket in 0..L1_ENTRIES as u128 {
            let start = bucket << 16;
            while i < bounds.len() && bounds[i].0 <= start {
                i += 1;
            }
            let at_start = if i == 0 { NONE } else { bounds[i - 1].1 };
            let mut j = i;
            while j < bounds.len() && bounds[j].0 < start + (1 << 16) {
                j += 1;
            }
            if j == i {
                l1.push(V4_DIRECT | (at_start & !V4_DIRECT));
            } else {
                l1.push(keys.len() as u32);
                keys.push((j - i) as u16);
                vals.push(at_start);
                for &(s, v) in &bounds[i..j] {
                    keys.push(s as u16);
                    vals.push(v);
                }
            }
            i = j;
        }
        V4Table { l1, keys, vals }
    }
}

/// The IPv6 sections, laid out like IPv4's: a first level of 65,536 entries (`V4_DIRECT |
/// record`, or an offset), and per non-direct bucket a block whose first key holds the count in
/// its low half, followed by the full 128-bit boundaries; values are parallel to keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V6Table {
    /// `[u32; 65536]`.
    pub l1: Vec<u32>,
    /// Per bucket: `{hi: 0, lo: count}`, then each boundary inside the bucket.
    pub keys: Vec<V6Key>,
    /// Per bucket: the value at the bucket start, then the value from each boundary on.
    pub vals: Vec<u32>,
}

impl V6Table {
    /// Encodes IPv6 intervals.
    pub fn encode(iv: &Intervals) -> V6Table {
        let mut l1 = Vec::with_capacity(L1_ENTRIES);
        let mut keys = Vec::new();
        let mut vals = Vec::new();
        let bounds = &iv.bounds;
        let mut i = 0;
        for bucket in 0..L1_ENTRIES as u128 {
            let start = bucket << 112;
            let end = start.checked_add(1u128 << 112);
            while i < bounds.len() && bounds[i].0 <= start {
                i += 1;
            }
            let at_start = if i == 0 { NONE } else { bounds[i - 1].1 };
            let mut j = i;
            while j < bounds.len() && end.is_none_or(|e| bounds[j].0 < e) {
                j += 1;
            }
            if j == i {
                l1.push(V4_DIRECT | (at_start & !V4_DIRECT));
            } else {
                l1.push(keys.len() as u32);
                keys.push(V6Key {
                    hi: 0,
                    lo: (j - i) as u64,
                });
                vals.push(at_start);
                for &(s, v) in &bounds[i..j] {
                    keys.push(V6Key::new(s));
                    vals.push(v);
                }
            }
            i = j;
        }
        V6Table { l1, keys, vals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(first: u128, last: u128, rec: u32) -> Prefix {
        Prefix { first, last, rec }
    }

    #[test]
    fn nested_prefixes_most_specific_wins_and_parents() {
        // 10.0.0.0/8 ⊃ 10.1.0.0/16 ⊃ 10.1.2.0/24, and a disjoint 192.0.2.0/24.
        let ps = [
            p(0x0A01_0200, 0x0A01_02FF, 2),
            p(0x0A00_0000, 0x0AFF_FFFF, 0),
            p(0xC000_0200, 0xC000_02FF, 3),
            p(0x0A01_0000, 0x0A01_FFFF, 1),
        ];
        let (iv, parents) = Intervals::build(&ps, u32::MAX as u128);
        assert_eq!(parents, vec![1, NONE, NONE, 0]);
        assert_eq!(iv.at(0x0A00_0001), 0);
        assert_eq!(iv.at(0x0A01_0001), 1);
        assert_eq!(iv.at(0x0A01_0280), 2);
        assert_eq!(iv.at(0x0A01_0300), 1);
        assert_eq!(iv.at(0x0A02_0000), 0);
        assert_eq!(iv.at(0x0B00_0000), NONE);
        assert_eq!(iv.at(0xC000_02FF), 3);
        assert_eq!(iv.at(0xC000_0300), NONE);
    }

    #[test]
    fn carving_holes() {
        let (iv, _) = Intervals::build(&[p(0x0A00_0000, 0x0AFF_FFFF, 7)], u32::MAX as u128);
        let carved = iv.carve(&[(0x0A01_0000, 0x0A01_FFFF)], u32::MAX as u128);
        assert_eq!(carved.at(0x0A00_FFFF), 7);
        assert_eq!(carved.at(0x0A01_0000), NONE);
        assert_eq!(carved.at(0x0A01_FFFF), NONE);
        assert_eq!(carved.at(0x0A02_0000), 7);
    }

    #[test]
    fn prefix_at_the_top_of_the_space() {
        let (iv, _) = Intervals::build(&[p(0xFFFF_FF00, 0xFFFF_FFFF, 1)], u32::MAX as u128);
        assert_eq!(iv.bounds, vec![(0, NONE), (0xFFFF_FF00, 1)]);
        let t = V4Table::encode(&iv);
        assert_eq!(t.l1.len(), L1_ENTRIES);
        assert_eq!(t.l1[0], V4_DIRECT | (NONE & !V4_DIRECT));
        let off = t.l1[0xFFFF] as usize;
        assert_eq!(t.keys[off], 1);
        assert_eq!(t.keys[off + 1], 0xFF00);
        assert_eq!(t.vals[off..off + 2], [NONE, 1]);
    }
}
