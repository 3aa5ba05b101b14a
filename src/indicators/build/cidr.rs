//! Interval tables for IPv4 and IPv6 prefixes.
//!
//! Every prefix of the set is flattened into disjoint intervals, each labelled with the most
//! specific prefix covering it (or none); warninglist ranges are then carved out as holes. The
//! intervals are cut by the top 16 bits of the address (DXR's idea): a first-level table of
//! 65,536 entries answers directly where a /16 holds no boundary, and otherwise points at the few
//! boundaries inside it. See [`crate::indicators::read`] for the lookup side.

use crate::indicators::format::{MAX_L1_BITS, MIN_L1_BITS, NONE, V4_DIRECT};

/// A prefix to place: first address, last address (inclusive), record index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Prefix {
    /// First address of the prefix.
    pub first: u128,
    /// Last address of the prefix (inclusive).
    pub last: u128,
    /// Record index of the indicator.
    pub rec: u32,
}

/// Sorted interval starts with the record in effect from each start on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Intervals {
    /// `(start, record or NONE)`, strictly ascending starts, adjacent values different,
    /// the first start is 0.
    pub bounds: Vec<(u128, u32)>,
}

impl Intervals {
    /// Flattens nested prefixes (most specific wins) and returns the intervals and, per input
    /// prefix in input order, its parent: the next less specific prefix containing it.
    pub(crate) fn build(prefixes: &[Prefix], max: u128) -> (Intervals, Vec<u32>) {
        // Sort (prefix, input position) pairs in place: sorting indices by a key read through
        // them is several times slower on millions of prefixes (random access per comparison).
        let mut order: Vec<(Prefix, u32)> = prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| (*p, i as u32))
            .collect();
        // Outer prefixes first at equal starts, so the stack nests.
        order.sort_unstable_by_key(|(p, _)| (p.first, std::cmp::Reverse(p.last)));
        let mut parents = vec![NONE; prefixes.len()];
        let mut raw: Vec<(u128, u32)> = Vec::with_capacity(2 * prefixes.len() + 1);
        raw.push((0, NONE));
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
        for &(p, i) in &order {
            pop_until(&mut stack, &mut raw, p.first);
            parents[i as usize] = stack.last().map_or(NONE, |&(_, r)| r);
            raw.push((p.first, p.rec));
            stack.push((p.last, p.rec));
        }
        pop_until(&mut stack, &mut raw, u128::MAX);
        (Intervals::normalise(raw), parents)
    }

    /// Keeps the last value per start (the sweep emits in order) and merges equal neighbours,
    /// in place.
    fn normalise(mut raw: Vec<(u128, u32)>) -> Intervals {
        let mut kept = 0;
        for i in 0..raw.len() {
            let (start, val) = raw[i];
            if kept > 0 && raw[kept - 1].0 == start {
                raw[kept - 1].1 = val;
                // A replaced value may now equal the one before it.
                if kept > 1 && raw[kept - 2].1 == val {
                    kept -= 1;
                }
            } else if kept == 0 || raw[kept - 1].1 != val {
                raw[kept] = (start, val);
                kept += 1;
            }
        }
        raw.truncate(kept);
        Intervals { bounds: raw }
    }

    /// The record in effect at `addr` (NONE when none).
    pub(crate) fn at(&self, addr: u128) -> u32 {
        let i = self.bounds.partition_point(|&(s, _)| s <= addr);
        self.bounds.get(i.wrapping_sub(1)).map_or(NONE, |&(_, v)| v)
    }

    /// Carves `holes` (sorted, disjoint, inclusive ranges) out: addresses in them map to NONE.
    pub(crate) fn carve(&self, holes: &[(u128, u128)], max: u128) -> Intervals {
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

/// First-level bits for a table of `boundaries` interval boundaries: about eight boundaries
/// per bucket, so that a node is one or two cache lines, within [`MIN_L1_BITS`, `MAX_L1_BITS`].
/// `skip` top bits that are known to be constant (IPv6 global unicast: 3) are added.
pub(crate) fn l1_bits(boundaries: usize, skip: u32) -> u32 {
    let per_bucket = 8;
    let want = (boundaries / per_bucket)
        .max(1)
        .next_power_of_two()
        .trailing_zeros()
        + skip;
    want.clamp(MIN_L1_BITS, MAX_L1_BITS)
}

/// For each first-level bucket of `bits` bits over a `width`-bit space: the value in effect at
/// the bucket start and the boundaries strictly inside it.
fn buckets(iv: &Intervals, bits: u32, width: u32) -> impl Iterator<Item = (u32, &[(u128, u32)])> {
    let shift = width - bits;
    let bounds = &iv.bounds;
    let mut i = 0;
    (0..1u128 << bits).map(move |bucket| {
        let start = bucket << shift;
        let end = start.checked_add(1u128 << shift);
        while i < bounds.len() && bounds[i].0 <= start {
            i += 1;
        }
        let at_start = if i == 0 { NONE } else { bounds[i - 1].1 };
        let mut j = i;
        while j < bounds.len() && end.is_none_or(|e| bounds[j].0 < e) {
            j += 1;
        }
        let inner = &bounds[i..j];
        i = j;
        (at_start, inner)
    })
}

fn direct(rec: u32) -> u32 {
    V4_DIRECT | (rec & !V4_DIRECT)
}

/// The IPv4 sections: a first level of `2^bits` entries (`V4_DIRECT | record`, or a word offset
/// into `nodes`) and the nodes: `n`, `n` low-bit keys as u16 pairs (the last pair padded with
/// `0xFFFF`), then `n + 1` records. Keys and records of a node sit together, so a lookup
/// touches the first level and one node, usually one cache line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct V4Table {
    /// First level.
    pub l1: Vec<u32>,
    /// Nodes.
    pub nodes: Vec<u32>,
}

impl V4Table {
    /// Encodes IPv4 intervals with a first level of `bits` bits (16–20).
    pub(crate) fn encode(iv: &Intervals, bits: u32) -> V4Table {
        let mut l1 = Vec::with_capacity(1 << bits);
        let mut nodes = Vec::new();
        for (at_start, inner) in buckets(iv, bits, 32) {
            if inner.is_empty() {
                l1.push(direct(at_start));
                continue;
            }
            l1.push(nodes.len() as u32);
            nodes.push(inner.len() as u32);
            for pair in inner.chunks(2) {
                let lo = pair[0].0 as u16;
                let hi = pair.get(1).map_or(0xFFFF, |b| b.0 as u16);
                nodes.push(u32::from(lo) | (u32::from(hi) << 16));
            }
            nodes.push(at_start);
            nodes.extend(inner.iter().map(|&(_, v)| v));
        }
        V4Table { l1, nodes }
    }
}

/// The IPv6 sections: a first level like IPv4's (offsets in u64 words) and nodes of `n`, the
/// boundaries' high halves, their low halves, and `n + 1` records packed two per word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct V6Table {
    /// First level.
    pub l1: Vec<u32>,
    /// Nodes.
    pub nodes: Vec<u64>,
}

impl V6Table {
    /// Encodes IPv6 intervals with a first level of `bits` bits.
    pub(crate) fn encode(iv: &Intervals, bits: u32) -> V6Table {
        let mut l1 = Vec::with_capacity(1 << bits);
        let mut nodes = Vec::new();
        for (at_start, inner) in buckets(iv, bits, 128) {
            if inner.is_empty() {
                l1.push(direct(at_start));
                continue;
            }
            l1.push(nodes.len() as u32);
            nodes.push(inner.len() as u64);
            nodes.extend(inner.iter().map(|&(b, _)| (b >> 64) as u64));
            nodes.extend(inner.iter().map(|&(b, _)| b as u64));
            let recs: Vec<u32> = std::iter::once(at_start)
                .chain(inner.iter().map(|&(_, v)| v))
                .collect();
            nodes.extend(
                recs.chunks(2)
                    .map(|p| u64::from(p[0]) | (u64::from(*p.get(1).unwrap_or(&NONE)) << 32)),
            );
        }
        V6Table { l1, nodes }
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
        let t = V4Table::encode(&iv, 16);
        assert_eq!(t.l1.len(), 1 << 16);
        assert_eq!(t.l1[0], V4_DIRECT | (NONE & !V4_DIRECT));
        let off = t.l1[0xFFFF] as usize;
        assert_eq!(t.nodes[off..], [1, 0xFFFF_FF00, NONE, 1]);
        assert_eq!(l1_bits(10, 0), 16);
        assert_eq!(l1_bits(2_000_000, 0), 18);
        assert_eq!(l1_bits(2_000_000, 3), 20);
    }
}
