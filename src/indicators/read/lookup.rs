//! The lookup kernels over the cast sections: IPv4/IPv6 interval tables and hashed tables.
//! Pure functions over slices, so the property tests and benches can drive them directly.
//! Every index into a section is checked: a corrupt file yields misses, never a panic.

use crate::indicators::format::{BUCKET_SLOTS, NONE, V4_DIRECT, tag};

/// The value that a direct IPv4 first-level entry uses for "no record".
const V4_DIRECT_NONE: u32 = NONE & !V4_DIRECT;

/// The record a first-level entry holds directly, if it is a direct entry: `Some(NONE)` for a
/// direct "no record".
#[inline]
fn direct(e: u32) -> Option<u32> {
    if e & V4_DIRECT == 0 {
        return None;
    }
    let v = e & !V4_DIRECT;
    Some(if v == V4_DIRECT_NONE { NONE } else { v })
}

/// Buckets with at most this many boundaries are scanned linearly (branch-free, vectorised);
/// larger ones are binary searched.
const LINEAR_MAX: usize = 32;

/// Number of keys `<= lo` in a sorted slice.
#[inline]
fn count_le(keys: &[u16], lo: u16) -> usize {
    if keys.len() <= LINEAR_MAX {
        keys.iter().map(|&k| usize::from(k <= lo)).sum()
    } else {
        keys.partition_point(|&k| k <= lo)
    }
}

/// The IPv4 sections, cast.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct V4<'a> {
    /// First level, `2^(32 - shift)` entries.
    pub l1: &'a [u32],
    /// Nodes: count, keys (u16 pairs), records.
    pub nodes: &'a [u32],
    /// Address bits below the first-level index.
    pub shift: u32,
}

impl V4<'_> {
    /// The most specific record containing `addr`, or [`NONE`].
    #[inline]
    pub(crate) fn lookup(&self, addr: u32) -> u32 {
        let Some(&e) = self
            .l1
            .get(addr.checked_shr(self.shift).unwrap_or(0) as usize)
        else {
            return NONE;
        };
        self.finish(e, addr)
    }

    #[inline]
    fn finish(&self, e: u32, addr: u32) -> u32 {
        if let Some(v) = direct(e) {
            return v;
        }
        let off = e as usize;
        let Some(&n) = self.nodes.get(off) else {
            return NONE;
        };
        let n = n as usize;
        let key_words = n.div_ceil(2);
        let Some(words) = self.nodes.get(off + 1..off + 1 + key_words) else {
            return NONE;
        };
        let keys: &[u16] = bytemuck::cast_slice(words);
        let i = count_le(&keys[..n], addr as u16);
        self.nodes
            .get(off + 1 + key_words + i)
            .copied()
            .unwrap_or(NONE)
    }

    /// [`V4::lookup`] for many addresses, software-pipelined: the first-level line of address
    /// `i + 2D` is prefetched, the entry of `i + D` read and its node prefetched, and address
    /// `i` answered, so that about `2D` cache misses are in flight at once instead of one.
    pub(crate) fn lookup_batch(&self, addrs: &[u32], out: &mut [u32]) {
        const D: usize = 16;
        let n = addrs.len().min(out.len());
        let mut entries = [0u32; D];
        let index = |a: u32| a.checked_shr(self.shift).unwrap_or(0) as usize;
        for i in 0..n + 2 * D {
            if let Some(&a) = addrs.get(i) {
                prefetch(self.l1, index(a));
            }
            // Answer `i - 2D` before its entry slot is reused for `i - D`.
            if i >= 2 * D && i - 2 * D < n {
                let j = i - 2 * D;
                out[j] = self.finish(entries[j % D], addrs[j]);
            }
            if i >= D && i - D < n {
                let j = i - D;
                let e = self
                    .l1
                    .get(index(addrs[j]))
                    .copied()
                    .unwrap_or(V4_DIRECT | V4_DIRECT_NONE);
                if e & V4_DIRECT == 0 {
                    prefetch(self.nodes, e as usize);
                    prefetch(self.nodes, e as usize + 16);
                }
                entries[j % D] = e;
            }
        }
    }
}

impl<'a> V4<'a> {
    /// Every interval of the table in address order: `(first, last, record)`, `record` being
    /// [`NONE`] where no prefix covers the addresses (or a warninglist carved them out).
    /// Adjacent intervals may carry the same record. A corrupt node ends its slot early.
    pub(crate) fn ranges(self) -> impl Iterator<Item = (u32, u32, u32)> + 'a {
        let span = 1u64 << self.shift;
        self.l1.iter().enumerate().flat_map(move |(i, &e)| {
            let base = (i as u64) << self.shift;
            let last = (base + span - 1) as u32;
            let base = base as u32;
            if let Some(v) = direct(e) {
                return vec![(base, last, v)];
            }
            let off = e as usize;
            let n = self.nodes.get(off).map_or(0, |&n| n as usize);
            let key_words = n.div_ceil(2);
            // `off` and `n` are u32s from the file: these sums cannot overflow a 64-bit usize.
            let (Some(words), Some(recs)) = (
                self.nodes.get(off + 1..off + 1 + key_words),
                self.nodes.get(off + 1 + key_words..off + 2 + key_words + n),
            ) else {
                return Vec::new();
            };
            let keys: &[u16] = bytemuck::cast_slice(words);
            // Keys are the low 16 bits of the boundaries; the bits above are the slot's.
            let high = base & !0xFFFF;
            let bounds = keys[..n]
                .iter()
                .zip(recs)
                .map(|(k, &r)| (high | u32::from(*k), r));
            cut_slot(base, last, bounds, recs[n], |b| b - 1)
        })
    }
}

impl<'a> V6<'a> {
    /// Every interval of the table in address order, like [`V4::ranges`].
    pub(crate) fn ranges(self) -> impl Iterator<Item = (u128, u128, u32)> + 'a {
        self.l1.iter().enumerate().flat_map(move |(i, &e)| {
            let base = (i as u128).checked_shl(self.shift).unwrap_or(0);
            let last = base | (u128::MAX.checked_shr(128 - self.shift).unwrap_or(0));
            if let Some(v) = direct(e) {
                return vec![(base, last, v)];
            }
            // The count is a u64 from the file: every bound is checked, so a corrupt count
            // ends the slot instead of overflowing.
            let off = e as usize;
            let n = self.nodes.get(off).map_or(0, |&n| n as usize);
            let part = |from: usize, len: usize| {
                let start = (off + 1).checked_add(from)?;
                self.nodes.get(start..start.checked_add(len)?)
            };
            let (Some(hi), Some(lo), Some(pairs)) = (
                part(0, n),
                part(n, n),
                n.checked_mul(2).and_then(|two_n| part(two_n, n / 2 + 1)),
            ) else {
                return Vec::new();
            };
            let rec = |i: usize| {
                let pair = pairs[i / 2];
                if i % 2 == 0 {
                    pair as u32
                } else {
                    (pair >> 32) as u32
                }
            };
            let bounds = (0..n).map(|i| (u128::from(hi[i]) << 64 | u128::from(lo[i]), rec(i)));
            cut_slot(base, last, bounds, rec(n), |b| b - 1)
        })
    }
}

/// The intervals of one first-level slot `[base, last]`: `bounds` are its node's boundaries
/// in order, each with the record of the addresses below it, and `tail` the record from the
/// last boundary on. `pred` is `b - 1` in the address type.
fn cut_slot<A: Copy + Ord>(
    base: A,
    last: A,
    bounds: impl Iterator<Item = (A, u32)>,
    tail: u32,
    pred: impl Fn(A) -> A,
) -> Vec<(A, A, u32)> {
    let mut out = Vec::new();
    let mut start = base;
    for (b, r) in bounds {
        if b > start {
            out.push((start, pred(b), r));
            start = b;
        }
    }
    out.push((start, last, tail));
    out
}

/// The IPv6 sections, cast (first level like [`V4`]; nodes of split 128-bit keys).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct V6<'a> {
    /// First level, `2^(128 - shift)` entries.
    pub l1: &'a [u32],
    /// Nodes: count, high halves, low halves, records (two per word).
    pub nodes: &'a [u64],
    /// Address bits below the first-level index.
    pub shift: u32,
}

impl V6<'_> {
    /// The most specific record containing `addr`, or [`NONE`].
    #[inline]
    pub(crate) fn lookup(&self, addr: u128) -> u32 {
        let Some(&e) = self
            .l1
            .get(addr.checked_shr(self.shift).unwrap_or(0) as usize)
        else {
            return NONE;
        };
        self.finish(e, addr)
    }

    #[inline]
    fn finish(&self, e: u32, addr: u128) -> u32 {
        if let Some(v) = direct(e) {
            return v;
        }
        let off = e as usize;
        let Some(n) = self.nodes.get(off).map(|&n| n as usize) else {
            return NONE;
        };
        let Some(hi) = n
            .checked_add(off + 1)
            .and_then(|end| self.nodes.get(off + 1..end))
        else {
            return NONE;
        };
        let (ah, al) = ((addr >> 64) as u64, addr as u64);
        // Boundaries are sorted by (high, low): those with a lower high half all lie below the
        // address; among equal high halves the low halves decide.
        let mut i = if n <= LINEAR_MAX {
            hi.iter().map(|&h| usize::from(h < ah)).sum()
        } else {
            hi.partition_point(|&h| h < ah)
        };
        while i < n && hi[i] == ah {
            match self.nodes.get(off + 1 + n + i) {
                Some(&lo) if lo <= al => i += 1,
                _ => break,
            }
        }
        let Some(&pair) = self.nodes.get(off + 1 + 2 * n + i / 2) else {
            return NONE;
        };
        if i % 2 == 0 {
            pair as u32
        } else {
            (pair >> 32) as u32
        }
    }

    /// [`V6::lookup`] for many addresses, software-pipelined in three stages `D` addresses
    /// apart: prefetch the first-level entry; read it and prefetch the node's first line; read
    /// the count and prefetch the rest of the high halves and the records; then search.
    pub(crate) fn lookup_batch(&self, addrs: &[u128], out: &mut [u32]) {
        const D: usize = 8;
        let n = addrs.len().min(out.len());
        let mut entries = [0u32; 2 * D];
        let index = |a: u128| a.checked_shr(self.shift).unwrap_or(0) as usize;
        for i in 0..n + 3 * D {
            // Answer `i - 3D` first: its entry slot is reused for `i - D` below.
            if i >= 3 * D && i - 3 * D < n {
                let j = i - 3 * D;
                out[j] = self.finish(entries[j % (2 * D)], addrs[j]);
            }
            if i >= 2 * D && i - 2 * D < n {
                let e = entries[(i - 2 * D) % (2 * D)];
                if e & V4_DIRECT == 0 {
                    let off = e as usize;
                    let count = self.nodes.get(off).map_or(0, |&c| c as usize).min(512);
                    // Eight high halves per cache line; then the records.
                    for word in (off + 8..off + 1 + count).step_by(8) {
                        prefetch(self.nodes, word);
                    }
                    prefetch(self.nodes, off + 1 + 2 * count);
                }
            }
            if i >= D && i - D < n {
                let j = i - D;
                let e = self
                    .l1
                    .get(index(addrs[j]))
                    .copied()
                    .unwrap_or(V4_DIRECT | V4_DIRECT_NONE);
                if e & V4_DIRECT == 0 {
                    prefetch(self.nodes, e as usize);
                }
                entries[j % (2 * D)] = e;
            }
            if let Some(&a) = addrs.get(i) {
                prefetch(self.l1, index(a));
            }
        }
    }
}

/// A hashed table, cast: buckets of [`BUCKET_SLOTS`] slots, a power-of-two bucket count;
/// tags and entry offsets in parallel arrays.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Table<'a> {
    /// One tag per slot (0: empty).
    pub tags: &'a [u16],
    /// One key-entry offset per slot.
    pub entries: &'a [u32],
}

impl Table<'_> {
    /// Whether the table has no slot.
    pub(crate) fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Walks the probe sequence of `hash`; `is_key` is called with the key-entry offset of
    /// every slot whose tag matches and returns `Some` for the key sought.
    #[inline]
    pub(crate) fn probe<R>(
        &self,
        hash: u64,
        mut is_key: impl FnMut(u32) -> Option<R>,
    ) -> Option<R> {
        let buckets = self.tags.len() / BUCKET_SLOTS;
        if buckets == 0 {
            return None;
        }
        let mask = buckets - 1;
        let want = tag(hash);
        let mut b = hash as usize & mask;
        for _ in 0..buckets {
            let at = b * BUCKET_SLOTS;
            let tags = self.tags.get(at..at + BUCKET_SLOTS)?;
            for (i, &t) in tags.iter().enumerate() {
                if t == want {
                    if let Some(found) = self.entries.get(at + i).and_then(|&e| is_key(e)) {
                        return Some(found);
                    }
                }
            }
            if tags.contains(&0) {
                return None;
            }
            b = (b + 1) & mask;
        }
        None
    }

    /// The slot index of the first tag match in the home bucket of `hash` (tags must be in
    /// cache for this to be cheap).
    #[inline]
    fn first_match(&self, hash: u64) -> Option<usize> {
        let buckets = self.tags.len() / BUCKET_SLOTS;
        if buckets == 0 {
            return None;
        }
        let at = (hash as usize & (buckets - 1)) * BUCKET_SLOTS;
        let want = tag(hash);
        let tags = self.tags.get(at..at + BUCKET_SLOTS)?;
        tags.iter().position(|&t| t == want).map(|i| at + i)
    }

    /// Prefetches the entry offset of the first tag match in the home bucket of `hash` (call
    /// after the tags have arrived; misses, the common case, stop here).
    #[inline]
    pub(crate) fn prefetch_slot(&self, hash: u64) {
        if let Some(i) = self.first_match(hash) {
            prefetch(self.entries, i);
        }
    }

    /// Prefetches the key entry named by the first tag match in the home bucket of `hash`
    /// (call after the entry offset has arrived), so that verifying a hit does not wait on
    /// memory either.
    #[inline]
    pub(crate) fn prefetch_entry(&self, hash: u64, strings: &[u8]) {
        if let Some(&e) = self.first_match(hash).and_then(|i| self.entries.get(i)) {
            prefetch(strings, e as usize);
        }
    }

    /// Prefetches the tags of the home bucket of `hash`.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        let buckets = self.tags.len() / BUCKET_SLOTS;
        if buckets > 0 {
            prefetch(self.tags, (hash as usize & (buckets - 1)) * BUCKET_SLOTS);
        }
    }
}

/// Hints the CPU to bring `slice[i]`'s cache line in; out-of-range indices are ignored.
#[inline(always)]
pub(crate) fn prefetch<T>(slice: &[T], i: usize) {
    if let Some(x) = slice.get(i) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `_mm_prefetch` is a hint that never faults; the pointer is to a live element.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>((x as *const T).cast::<i8>());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = x;
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use ipnet::{Ipv4Net, Ipv6Net};
    use proptest::prelude::*;

    use super::{V4, V6};
    use crate::indicators::build::cidr::{Intervals, Prefix, V4Table, V6Table};

    /// Prefixes under a few common tops, so that they nest and overlap, some of them crowded
    /// into two /16s (first-level buckets with many boundaries: the binary-search path).
    fn v4_net() -> impl Strategy<Value = Ipv4Net> {
        let top = prop::sample::select(vec![0x0A00_0000u32, 0xC0A8_0000, 0xCB00_7100, 0x0800_0000]);
        (top, any::<u32>(), 1u8..=32, any::<bool>()).prop_map(|(top, low, len, crowded)| {
            let (addr, len) = if crowded {
                (top | (low & 0xFFFF), len.max(17))
            } else {
                (top | (low >> 8), len)
            };
            Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc()
        })
    }

    fn v6_net() -> impl Strategy<Value = Ipv6Net> {
        let top = prop::sample::select(vec![0x2001_0db8u128, 0x2a00_1450, 0xfe80_0000]);
        (top, any::<u128>(), 8u8..=128).prop_map(|(top, low, len)| {
            let addr = (top << 96) | (low >> 32);
            Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap().trunc()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

        /// The interval kernels at every first-level width the compiler may choose (16–20
        /// bits), one at a time and batched, against the flattened intervals they encode,
        /// queried at every prefix edge, one past each edge, and at random.
        #[test]
        fn interval_kernels_at_every_first_level_width(
            v4 in prop::collection::vec(v4_net(), 1..200),
            v6 in prop::collection::vec(v6_net(), 1..200),
            random4 in prop::collection::vec(any::<u32>(), 100),
            random6 in prop::collection::vec(any::<u128>(), 100),
        ) {
            let p4: Vec<Prefix> = v4.iter().enumerate().map(|(i, n)| Prefix {
                first: u32::from(n.network()).into(), last: u32::from(n.broadcast()).into(), rec: i as u32,
            }).collect();
            let (iv4, _) = Intervals::build(&p4, u32::MAX.into());
            let p6: Vec<Prefix> = v6.iter().enumerate().map(|(i, n)| Prefix {
                first: n.network().into(), last: n.broadcast().into(), rec: i as u32,
            }).collect();
            let (iv6, _) = Intervals::build(&p6, u128::MAX);
            let mut q4 = random4.clone();
            for n in &v4 {
                let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
                q4.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1), a + (b - a) / 2]);
            }
            let mut q6 = random6.clone();
            for n in &v6 {
                let (a, b) = (u128::from(n.network()), u128::from(n.broadcast()));
                q6.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1)]);
            }
            for bits in 16..=20u32 {
                let t = V4Table::encode(&iv4, bits);
                let k = V4 { l1: &t.l1, nodes: &t.nodes, shift: 32 - bits };
                let mut batch = vec![0; q4.len()];
                k.lookup_batch(&q4, &mut batch);
                for (i, &a) in q4.iter().enumerate() {
                    prop_assert_eq!(k.lookup(a), iv4.at(a.into()), "v4 bits {} addr {}", bits, Ipv4Addr::from(a));
                    prop_assert_eq!(batch[i], iv4.at(a.into()));
                }
                let t = V6Table::encode(&iv6, bits);
                let k = V6 { l1: &t.l1, nodes: &t.nodes, shift: 128 - bits };
                let mut batch = vec![0; q6.len()];
                k.lookup_batch(&q6, &mut batch);
                for (i, &a) in q6.iter().enumerate() {
                    prop_assert_eq!(k.lookup(a), iv6.at(a), "v6 bits {} addr {}", bits, Ipv6Addr::from(a));
                    prop_assert_eq!(batch[i], iv6.at(a));
                }
            }
        }
    }
}
