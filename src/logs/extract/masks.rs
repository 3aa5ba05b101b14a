//! Block masks: 64 bytes at a time, SIMD compares (SSE2, or AVX2 when the CPU has it) turn a
//! block into bit masks of dots, colons, hex digits, letters and slashes, and bit tricks on them
//! dismiss the dots and colons that cannot be part of a token.

use super::classes::{HEX, class};

/// Bit `j` of each mask describes byte `j` of a 64-byte block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Masks {
    /// `.`
    pub(super) dots: u64,
    /// `:`
    pub(super) colons: u64,
    /// `@`, and `[` or `(` when defanged forms are on: always parsed.
    pub(super) others: u64,
    /// Hex digits.
    pub(super) hex: u64,
    /// ASCII letters and bytes ≥ 0x80: what may follow a name's last dot.
    pub(super) alpha: u64,
    /// `/`
    pub(super) slashes: u64,
}

/// The masks of the 64 bytes at `base` (bytes past the end are none of them).
#[inline(always)]
pub(super) fn masks_at(text: &[u8], base: usize, simd: Simd, defang: bool) -> Masks {
    if base >= text.len() {
        return Masks::default();
    }
    let block = |at: usize| -> &[u8; 64] { text[at..at + 64].try_into().unwrap_or(&[0; 64]) };
    if base + 64 <= text.len() {
        return simd.block_masks(block(base), defang);
    }
    if text.len() >= 64 {
        // The last 64 bytes, shifted so bit 0 is `base`: no copy into a padded buffer.
        let skip = (base + 64 - text.len()) as u32;
        let m = simd.block_masks(block(text.len() - 64), defang);
        let f = |x: u64| x >> skip;
        return Masks {
            dots: f(m.dots),
            colons: f(m.colons),
            others: f(m.others),
            hex: f(m.hex),
            alpha: f(m.alpha),
            slashes: f(m.slashes),
        };
    }
    let mut padded = [0u8; 64];
    padded[..text.len() - base].copy_from_slice(&text[base..]);
    simd.block_masks(&padded, defang)
}

/// Which [`block_masks`] implementation to use, chosen once per [`Tokens`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Simd {
    /// SSE2 on x86_64 (part of its baseline), the portable loop elsewhere.
    Baseline,
    /// AVX2, detected at run time: half the vector operations of SSE2.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Simd {
    pub(super) fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Simd::Avx2;
        }
        Simd::Baseline
    }

    #[inline(always)]
    pub(super) fn block_masks(self, block: &[u8; 64], defang: bool) -> Masks {
        match self {
            Simd::Baseline => block_masks(block, defang),
            // SAFETY: `Simd::Avx2` is only made after AVX2 was detected on this CPU.
            #[cfg(target_arch = "x86_64")]
            Simd::Avx2 => unsafe { block_masks_avx2(block, defang) },
        }
    }
}

/// [`block_masks`] with AVX2, 32 bytes per vector.
///
/// # Safety
///
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn block_masks_avx2(block: &[u8; 64], defang: bool) -> Masks {
    use std::arch::x86_64::*;
    // Macros rather than closures: closures would not inherit the `avx2` feature.
    macro_rules! splat {
        ($b:expr) => {
            _mm256_set1_epi8($b as i8)
        };
    }
    // lo <= x < lo + n, unsigned: saturating (x - lo) - (n - 1) is zero.
    macro_rules! within {
        ($x:expr, $lo:expr, $n:expr) => {
            _mm256_cmpeq_epi8(
                _mm256_subs_epu8(_mm256_sub_epi8($x, splat!($lo)), splat!($n - 1)),
                _mm256_setzero_si256(),
            )
        };
    }
    let mut m = Masks::default();
    for k in 0..2 {
        // SAFETY: the unaligned load reads bytes `32k..32k+32` of a 64-byte array, all in
        // bounds; the caller guarantees AVX2.
        let bits = unsafe {
            let v = _mm256_loadu_si256(block.as_ptr().add(32 * k).cast());
            let mut others = _mm256_cmpeq_epi8(v, splat!(b'@'));
            if defang {
                others = _mm256_or_si256(
                    others,
                    _mm256_or_si256(
                        _mm256_cmpeq_epi8(v, splat!(b'[')),
                        _mm256_cmpeq_epi8(v, splat!(b'(')),
                    ),
                );
            }
            let lower = _mm256_or_si256(v, splat!(0x20));
            let hex = _mm256_or_si256(within!(v, b'0', 10u8), within!(lower, b'a', 6u8));
            let alpha = _mm256_or_si256(within!(lower, b'a', 26u8), v);
            [
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, splat!(b'.'))),
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, splat!(b':'))),
                _mm256_movemask_epi8(others),
                _mm256_movemask_epi8(hex),
                _mm256_movemask_epi8(alpha),
                _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, splat!(b'/'))),
            ]
        };
        let shift = 32 * k;
        m.dots |= u64::from(bits[0] as u32) << shift;
        m.colons |= u64::from(bits[1] as u32) << shift;
        m.others |= u64::from(bits[2] as u32) << shift;
        m.hex |= u64::from(bits[3] as u32) << shift;
        m.alpha |= u64::from(bits[4] as u32) << shift;
        m.slashes |= u64::from(bits[5] as u32) << shift;
    }
    m
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_masks(block: &[u8; 64], defang: bool) -> Masks {
    use std::arch::x86_64::*;
    let mut m = Masks::default();
    for k in 0..4 {
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available;
        // the unaligned load reads bytes `16k..16k+16` of a 64-byte array, all in bounds.
        let bits = unsafe {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
            // lo <= x < lo + n, unsigned: saturating (x - lo) - (n - 1) is zero.
            let within = |x: __m128i, lo: u8, n: u8| {
                let off = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
                _mm_cmpeq_epi8(
                    _mm_subs_epu8(off, _mm_set1_epi8((n - 1) as i8)),
                    _mm_setzero_si128(),
                )
            };
            let mut others = eq(b'@');
            if defang {
                others = _mm_or_si128(others, _mm_or_si128(eq(b'['), eq(b'(')));
            }
            let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let hex = _mm_or_si128(within(v, b'0', 10), within(lower, b'a', 6));
            // movemask takes each byte's top bit: letters are all ones, bytes >= 0x80 have it.
            let alpha = _mm_or_si128(within(lower, b'a', 26), v);
            [
                _mm_movemask_epi8(eq(b'.')),
                _mm_movemask_epi8(eq(b':')),
                _mm_movemask_epi8(others),
                _mm_movemask_epi8(hex),
                _mm_movemask_epi8(alpha),
                _mm_movemask_epi8(eq(b'/')),
            ]
        };
        let shift = 16 * k;
        let put = |mask: &mut u64, b: i32| *mask |= u64::from(b as u16) << shift;
        put(&mut m.dots, bits[0]);
        put(&mut m.colons, bits[1]);
        put(&mut m.others, bits[2]);
        put(&mut m.hex, bits[3]);
        put(&mut m.alpha, bits[4]);
        put(&mut m.slashes, bits[5]);
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn block_masks(block: &[u8; 64], defang: bool) -> Masks {
    block_masks_scalar(block, defang)
}

/// Portable [`block_masks`]; also the reference the SIMD version is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn block_masks_scalar(block: &[u8; 64], defang: bool) -> Masks {
    let mut m = Masks::default();
    for (j, &b) in block.iter().enumerate() {
        let bit = |yes: bool| u64::from(yes) << j;
        m.dots |= bit(b == b'.');
        m.colons |= bit(b == b':');
        m.others |= bit(b == b'@' || (defang && (b == b'[' || b == b'(')));
        m.hex |= bit(class(b) & HEX != 0);
        m.alpha |= bit(b >= 0x80 || b.is_ascii_alphabetic());
        m.slashes |= bit(b == b'/');
    }
    m
}

/// The anchors of a block worth parsing, from its masks and the next block's. A name always
/// has a dot followed by a letter (its TLD's, or an IDN's first byte), an IPv4 address a chain
/// of dots, an IPv6 address a `::` or a chain of colons, a URL a `:/`; every `@` (and `[`, `(`
/// when defanged) is parsed. So `5.0`, `537.36`, `HTTP/1.1` and times of day cost nothing.
#[inline]
pub(super) fn anchors(cur: &Masks, next: &Masks) -> u64 {
    let wide = |a: u64, b: u64| u128::from(a) | u128::from(b) << 64;
    let dots = wide(cur.dots, next.dots);
    let colons = wide(cur.colons, next.colons);
    let alpha_next = (wide(cur.alpha, next.alpha) >> 1) as u64;
    let colon_next = (wide(cur.colons | cur.slashes, next.colons | next.slashes) >> 1) as u64;
    cur.others
        | cur.dots & alpha_next
        | cur.colons & colon_next
        | dot_chains(dots)
        | colon_chains(colons)
}

/// Whether `x` has at least `n` bits set, one of them in its low 64 bits (the current block:
/// a chain must start there). Baseline x86_64 has no `popcnt`; clearing the lowest bit `n - 1`
/// times is cheaper than `count_ones`.
#[inline]
fn has_bits(mut x: u128, n: usize) -> bool {
    if x as u64 == 0 {
        return false;
    }
    for _ in 1..n {
        x &= x.wrapping_sub(1);
    }
    x != 0
}

/// Dots that start a chain of three dots 2–4 bytes apart, as in any dotted quad: the only
/// dots followed by a digit that need parsing (`5.0`, `537.36` and `120.0.6099.109` do not).
/// `d` holds a block's dots and, above bit 63, the next block's.
#[inline]
fn dot_chains(d: u128) -> u64 {
    if !has_bits(d, 3) {
        return 0;
    }
    let x = d & (d >> 2 | d >> 3 | d >> 4);
    (x & (x >> 2 | x >> 3 | x >> 4)) as u64
}

/// Colons that start a chain of five colons 2–5 bytes apart: an IPv6 address without `::` has
/// seven (six before an IPv4 tail), a time of day two.
#[inline]
fn colon_chains(c: u128) -> u64 {
    if !has_bits(c, 5) {
        return 0;
    }
    let step = |x: u128| x & (x >> 2 | x >> 3 | x >> 4 | x >> 5);
    step(step(step(step(c)))) as u64
}

/// Bits of the positions in a block where 32 hex digits in a row start; `next` is the hex mask
/// of the following block, so runs that cross into it are seen.
#[inline]
pub(super) fn hex_runs(cur: u64, next: u64) -> u64 {
    let mut r = u128::from(cur) | u128::from(next) << 64;
    r &= r >> 1;
    r &= r >> 2;
    r &= r >> 4;
    r &= r >> 8;
    r &= r >> 16;
    r as u64
}

/// The bits of a block starting at `blk` for positions at or after `pos`.
#[inline]
pub(super) fn keep_from(pos: usize, blk: usize) -> u64 {
    match pos.checked_sub(blk) {
        None | Some(0) => !0,
        Some(k) if k >= 64 => 0,
        Some(k) => !0 << k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simd_masks_match_scalar() {
        let mut block = [0u8; 64];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            check(&block);
        }
        let all: Vec<u8> = (0..=255).collect();
        for chunk in all.chunks(64) {
            check(chunk.try_into().unwrap());
        }
        fn check(block: &[u8; 64]) {
            for defang in [false, true] {
                let want = block_masks_scalar(block, defang);
                assert_eq!(Simd::Baseline.block_masks(block, defang), want);
                assert_eq!(Simd::detect().block_masks(block, defang), want);
            }
        }
    }

    #[test]
    fn hex_run_bits() {
        assert_eq!(hex_runs(!0, 0), (1u64 << 33) - 1);
        assert_eq!(hex_runs(0xFFFF_FFFF, 0), 1);
        assert_eq!(hex_runs(0x7FFF_FFFF, 0), 0);
        // A run crossing into the next block.
        assert_eq!(hex_runs(0xFFFF_0000_0000_0000, 0xFFFF), 1 << 48);
    }
}
