//! Free-text extraction: find indicator-shaped tokens in a log line or any other text.
//!
//! * [`Extractor`] — the options ([`Options`]: recognise defanged forms or not); cheap to copy.
//! * [`Tokens`] — the iterator [`Extractor::tokens`] returns: one forward pass over the bytes,
//!   no allocation, no regex, no panic on any input (invalid UTF-8, NULs, megabyte lines).
//! * [`Found`] — one token: its byte span in the input and a [`Token`] (an address, or the raw
//!   bytes of a name, email, URL or hex digest, borrowed from the input; the caller canonicalises
//!   them with [`crate::indicators::normalize`]).
//! * [`refang`] — turns the raw bytes of a defanged token back into the plain form.
//!
//! # How it scans
//!
//! Most bytes of a log line cannot start a token. The text is cut into 64-byte blocks, and SIMD
//! compares (SSE2, or AVX2 when the CPU has it) turn each block into bit masks: dots, colons,
//! `@` (and `[`, `(` when defanged), hex digits, letters, slashes. The masks alone dismiss most
//! dots and colons: a name always has a dot followed by a letter (its TLD's), an IPv4 address a
//! chain of three dots 2–4 bytes apart, an IPv6 address a `::` or a chain of five colons, a URL a
//! `:/`; so versions (`Chrome/120.0.6099.109`, `HTTP/1.1`) and times of day cost nothing. A parser
//! runs only at the anchors that remain, walking back from there to where its token starts
//! (a plain dotted quad takes a shorter path than names). Hex digests come from the hex mask alone
//! (a run of 32 set bits is found with five shift-ands). Parsers re-read only the bytes around an
//! anchor and never walk back over a byte twice, so the work is linear in the input.
//!
//! # Rules
//!
//! A *word character* is an ASCII letter or digit or a Unicode letter, digit or combining mark.
//! Tokens never continue a word: the bytes on either side of a token must not be word characters
//! (further limits per kind below). `_` and `-` are not word characters but are part of names.
//!
//! * **IPv4** — a dotted quad of decimal octets ≤ 255 without leading zeros (`01.2.3.4` is not
//!   one). It must not be part of a longer dotted run: `1.2.3.4.5`, `v10.1.2.3`, `1.2.3.4a` and
//!   `1.2.3.4.example.com` (a name) give no address. `-` and `_` separate it from neighbours, so
//!   `10.0.0.1-10.0.0.255` gives two addresses. A `/` before it is a boundary, so a version in a
//!   user agent such as `Chrome/10.0.0.1` *is* reported: paths and `key/value` fields carry real
//!   addresses far more often than four-part versions with octets ≤ 255, and a stray lookup costs
//!   little. `1.2.3.4:8080` gives the address alone; a trailing sentence dot is not part of it.
//! * **IPv6** — groups of 1–4 hex digits, at most one `::`, an optional dotted IPv4 tail
//!   (`::ffff:1.2.3.4`, reported as that IPv6 address: the caller unmaps it with
//!   [`crate::indicators::normalize::unmap_addr`]). To keep times (`12:34:56`), MAC addresses
//!   (`00:11:22:33:44:55`) and the like out, an address needs a `::` and at least one group, or
//!   all eight groups with at least one of three or more digits (or an IPv4 tail). It must not
//!   follow a word character, `:` or `.`, nor be followed by a word character, `::`, `:` plus a hex
//!   digit, or `.` plus a name character. A zone (`fe80::1%eth0`) is skipped: the span is the
//!   address alone. `[2001:db8::1]:443` gives the address inside the brackets. A known blind spot:
//!   `key:2001:db8::1` (a `:` right before the address) gives nothing, as it cannot be told from
//!   a longer colon-separated run; `key=2001:db8::1` works.
//! * **Domain** — at least two labels of ASCII letters, digits, `-`, `_` or Unicode word
//!   characters (so `bücher.example` is found; the caller IDNA-encodes it), each 1–63 bytes and
//!   not starting or ending with `-` (leading `-` are trimmed: `-evil.com` gives `evil.com`),
//!   at most 253 bytes in all, the last label two or more letters (Unicode letters allowed) or a
//!   punycode `xn--` label. The span is the raw bytes as written (case kept); a trailing dot is
//!   not part of it. A name right after `@` is never a domain (it is an email's, or a handle's).
//!   There is no TLD list: `index.html` or `kibana-search.png` are reported too, and the set's
//!   lookup simply misses them.
//! * **Email** — `local@domain`, the domain valid as above. The local part is RFC 5322 atext
//!   *minus* `' = / ? % { } | `` ` ``: in logs and URLs those are delimiters far more often than
//!   parts of an address (`user='a@b.example'`, `sasl_username=a@b.example`, `/users/a@b.example`).
//!   It is 1–64 bytes, has no `..`, does not end with `.`; leading dots are trimmed. A dotted run
//!   directly followed by local-part characters and an `@` is a local part, never a domain or
//!   address on its own.
//! * **URL** — scheme `http`, `https`, `ftp`, `ws` or `wss` (any case; `hxxp`/`hxxps` when
//!   defanged), `://`, a non-empty host; the scheme must not continue a word (`xhttp://`). It runs
//!   to the first whitespace, control byte, `"`, `'`, `<`, `>`, backtick or `\` (the last so that
//!   JSON's `\"` ends it); then trailing `. , ; : ! ?` are dropped, and trailing `) ] }` too unless
//!   an opener inside the URL balances them (`…/Foo_(bar)` keeps its `)`).
//! * **Hex** — a maximal run of exactly 32, 40, 64 or 128 hex digits (either case) with no word
//!   character on either side. Hex runs are found independently of every other kind: `<md5>.exe`
//!   gives the digest *and* the name, a digest inside a URL is reported too.
//!
//! # Overlaps
//!
//! * A URL yields the URL and then its host (a [`Token::Domain`], [`Token::Ipv4`] or
//!   [`Token::Ipv6`] with its own span; single-label hosts such as `localhost` yield none). The
//!   userinfo yields nothing. Scanning goes on after the authority, so addresses, names, emails
//!   and digests in the path and query are reported too; a URL inside another URL's path or query
//!   (`?next=http://…`) is not reported as a URL (its host still is, as a name); the outer URL
//!   contains it, which is what URL matching needs.
//! * An email yields the email only: its domain is not reported separately. `root@10.0.0.1` is
//!   not an email, and yields the address.
//! * Tokens come in the text order of the byte that triggered them (one of a name's dots, an
//!   email's `@`, a URL's scheme colon, a digest's first digit), so they are nearly but not
//!   strictly sorted by `start`: a URL's host comes right after its URL, and a digest inside a
//!   name may come before or after the name. Sort by `start` where order matters.
//!
//! # Defanged forms
//!
//! With [`Options::defanged`], `hxxp://`, `hxxps://`, `[.]`, `(.)`, `[:]` and `[@]` are read as
//! their plain forms. Tokens still borrow the raw bytes (they cannot be rewritten in place):
//! [`Found::defanged`] says when a token used a defanged form, and [`refang`] writes the plain
//! bytes into a caller-owned buffer. The common case (nothing defanged) so stays allocation-free.
//! Addresses are parsed either way: their token holds the value.
//!
//! ```
//! use trawl::logs::extract::{Extractor, Options, Token};
//!
//! let line = b"203.0.113.7 GET https://Evil.Example/x?u=bob@evil.example";
//! let kinds: Vec<String> = Extractor::default()
//!     .tokens(line)
//!     .map(|f| format!("{}:{}", f.kind(), String::from_utf8_lossy(&line[f.start..f.end])))
//!     .collect();
//! assert_eq!(
//!     kinds,
//!     [
//!         "ipv4:203.0.113.7",
//!         "url:https://Evil.Example/x?u=bob@evil.example",
//!         "domain:Evil.Example",
//!         "email:bob@evil.example",
//!     ]
//! );
//!
//! let mut plain = Vec::new();
//! let defanged = Extractor::new(Options { defanged: true });
//! let found = defanged.tokens(b"see hxxp://evil[.]example/a").next().unwrap();
//! assert!(found.defanged);
//! if let Token::Url(raw) = found.token {
//!     trawl::logs::extract::refang(raw, &mut plain);
//! }
//! assert_eq!(plain, b"http://evil.example/a");
//! ```

use std::iter::FusedIterator;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::indicators::model::Kind;
use crate::indicators::normalize::hex_val;

/// An indicator-shaped token, borrowed from the scanned text where it is text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Token<'a> {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (without any zone; IPv4-mapped addresses are left as they are).
    Ipv6(Ipv6Addr),
    /// A DNS name as written: not lowercased, not IDNA-encoded.
    Domain(&'a [u8]),
    /// An email address as written.
    Email(&'a [u8]),
    /// A URL as written, scheme included.
    Url(&'a [u8]),
    /// A run of 32, 40, 64 or 128 hex digits, either case.
    Hex(&'a [u8]),
}

impl Token<'_> {
    /// The indicator kind this token is looked up as (a hex run's length gives its hash kind).
    pub fn kind(&self) -> Kind {
        match self {
            Token::Ipv4(_) => Kind::Ipv4,
            Token::Ipv6(_) => Kind::Ipv6,
            Token::Domain(_) => Kind::Domain,
            Token::Email(_) => Kind::Email,
            Token::Url(_) => Kind::Url,
            Token::Hex(h) => match h.len() {
                32 => Kind::Md5,
                40 => Kind::Sha1,
                64 => Kind::Sha256,
                _ => Kind::Sha512,
            },
        }
    }
}

/// One token found in the text, with where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Found<'a> {
    /// Byte offset of the token's first byte in the scanned text.
    pub start: usize,
    /// Byte offset just past the token's last byte (`start < end`).
    pub end: usize,
    /// What was found.
    pub token: Token<'a>,
    /// The raw bytes use a defanged form (`hxxp`, `[.]`, …): pass them through [`refang`]
    /// before canonicalising. Always `false` unless [`Options::defanged`] is set.
    pub defanged: bool,
}

impl Found<'_> {
    /// The indicator kind of the token (see [`Token::kind`]).
    pub fn kind(&self) -> Kind {
        self.token.kind()
    }
}

/// Extraction options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Also read defanged forms (`hxxp://`, `[.]`, `(.)`, `[:]`, `[@]`). Off by default: plain
    /// logs never contain them, and `[` / `(` become anchors, which costs a little speed.
    pub defanged: bool,
}

/// Finds indicator-shaped tokens in text. Holds only options, so build it once and share it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extractor {
    opts: Options,
}

impl Extractor {
    /// An extractor with the given options.
    pub fn new(opts: Options) -> Self {
        Extractor { opts }
    }

    /// The options in use.
    pub fn options(&self) -> Options {
        self.opts
    }

    /// Every token in `text`, in one forward pass (see the module docs for the rules).
    pub fn tokens<'a>(&self, text: &'a [u8]) -> Tokens<'a> {
        Tokens::new(text, self.opts)
    }
}

/// Writes the plain form of a defanged token's raw bytes into `out` (cleared first):
/// `[.]` and `(.)` become `.`, `[:]` becomes `:`, `[@]` becomes `@`, and a leading
/// `hxxp`/`hxxps` scheme (any case) becomes `http`/`https`. Any token's raw bytes may be passed;
/// a plain one comes out unchanged.
pub fn refang(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(raw.len());
    let mut i = 0;
    if raw.len() >= 4 && raw[..4].eq_ignore_ascii_case(b"hxxp") {
        let rest = &raw[4..];
        let rest = match rest.first() {
            Some(b's' | b'S') => &rest[1..],
            _ => rest,
        };
        if rest.starts_with(b"://") || rest.starts_with(b"[:]//") {
            out.extend_from_slice(b"http");
            i = 4;
        }
    }
    while i < raw.len() {
        match raw.get(i..i + 3) {
            Some(b"[.]" | b"(.)") => out.push(b'.'),
            Some(b"[:]") => out.push(b':'),
            Some(b"[@]") => out.push(b'@'),
            _ => {
                out.push(raw[i]);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
}

// ---------------------------------------------------------------------------------------------
// Byte classes

// `CLASS` bits.
const HEX: u8 = 1 << 0;
/// Characters of an email local part (see the module docs).
const LOCAL: u8 = 1 << 1;
/// Bytes that end a URL.
const URL_STOP: u8 = 1 << 2;
/// Bytes that end a URL's authority: `/`, `?`, `#`.
const AUTH_END: u8 = 1 << 3;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'.' | b'_' | b'+' | b'-' | b'!' | b'#' | b'$' | b'&' | b'*' | b'^' | b'~'
            )
        {
            c |= LOCAL;
        }
        if b <= b' ' || matches!(b, 0x7f | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\') {
            c |= URL_STOP;
        }
        if matches!(b, b'/' | b'?' | b'#') {
            c |= AUTH_END;
        }
        t[i] = c;
        i += 1;
    }
    t
}

// `LABEL_BITS`: what an ASCII byte says about the name label it is in (0: not a label byte;
// bytes >= 0x80 are 0 too, and decoded where met).
const L_CHAR: u8 = 1;
const L_NOT_DIGIT: u8 = 2;
const L_NOT_ALPHA: u8 = 4;
const L_JOIN: u8 = 8;

static LABEL_BITS: [u8; 256] = label_bits();

const fn label_bits() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            L_CHAR | L_NOT_ALPHA
        } else if b.is_ascii_alphabetic() {
            L_CHAR | L_NOT_DIGIT
        } else if b == b'-' || b == b'_' {
            L_CHAR | L_NOT_DIGIT | L_NOT_ALPHA | L_JOIN
        } else {
            0
        };
        i += 1;
    }
    t
}

#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

// ---------------------------------------------------------------------------------------------
// Block masks

/// Bit `j` of each mask describes byte `j` of a 64-byte block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Masks {
    /// `.`
    dots: u64,
    /// `:`
    colons: u64,
    /// `@`, and `[` or `(` when defanged forms are on: always parsed.
    others: u64,
    /// Hex digits.
    hex: u64,
    /// ASCII letters and bytes ≥ 0x80: what may follow a name's last dot.
    alpha: u64,
    /// `/`
    slashes: u64,
}

/// The masks of the 64 bytes at `base` (bytes past the end are none of them).
#[inline(always)]
fn masks_at(text: &[u8], base: usize, simd: Simd, defang: bool) -> Masks {
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
enum Simd {
    /// SSE2 on x86_64 (part of its baseline), the portable loop elsewhere.
    Baseline,
    /// AVX2, detected at run time: half the vector operations of SSE2.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Simd {
    fn detect() -> Simd {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Simd::Avx2;
        }
        Simd::Baseline
    }

    #[inline(always)]
    fn block_masks(self, block: &[u8; 64], defang: bool) -> Masks {
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
fn anchors(cur: &Masks, next: &Masks) -> u64 {
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
fn hex_runs(cur: u64, next: u64) -> u64 {
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
fn keep_from(pos: usize, blk: usize) -> u64 {
    match pos.checked_sub(blk) {
        None | Some(0) => !0,
        Some(k) if k >= 64 => 0,
        Some(k) => !0 << k,
    }
}

// ---------------------------------------------------------------------------------------------
// Characters

/// Decodes the UTF-8 scalar starting at `i`; `None` for ASCII, invalid or truncated bytes.
fn decode_at(text: &[u8], i: usize) -> Option<(char, usize)> {
    let b0 = *text.get(i)?;
    let (len, min, mut cp) = match b0 {
        0xC2..=0xDF => (2, 0x80, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(b0 & 0x0F)),
        0xF0..=0xF4 => (4, 0x10000, u32::from(b0 & 0x07)),
        _ => return None,
    };
    for &b in text.get(i + 1..i + len)? {
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    if cp < min {
        return None;
    }
    char::from_u32(cp).map(|c| (c, len))
}

/// Decodes the UTF-8 scalar that ends just before `i`.
fn decode_before(text: &[u8], i: usize) -> Option<(char, usize)> {
    if i == 0 {
        return None;
    }
    let mut j = i;
    while j > 0 && i - j < 4 {
        j -= 1;
        if text[j] & 0xC0 != 0x80 {
            break;
        }
    }
    let (c, len) = decode_at(text, j)?;
    (j + len == i).then_some((c, len))
}

/// Combining marks of common scripts (an approximation: std has no general-category lookup).
fn is_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06ED
            | 0x0900..=0x0963
            | 0x0966..=0x0DFF
            | 0x0E31..=0x0E4E
            | 0x0EB1..=0x0ECD
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x20D0..=0x20FF
            | 0xFE20..=0xFE2F
    )
}

/// A non-ASCII character that can be part of a word or a name label.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Whether the character ending just before `i` is a word character.
fn word_before(text: &[u8], i: usize) -> bool {
    match i.checked_sub(1).map(|j| text[j]) {
        None => false,
        Some(b) if b < 0x80 => b.is_ascii_alphanumeric(),
        Some(_) => decode_before(text, i).is_some_and(|(c, _)| is_word_char(c)),
    }
}

/// Whether the character at `i` is a word character.
fn word_at(text: &[u8], i: usize) -> bool {
    match text.get(i) {
        None => false,
        Some(b) if *b < 0x80 => b.is_ascii_alphanumeric(),
        Some(_) => decode_at(text, i).is_some_and(|(c, _)| is_word_char(c)),
    }
}

/// Byte length of the name-label character at `i`, 0 if there is none.
#[inline]
fn label_char_at(text: &[u8], i: usize) -> usize {
    match text.get(i) {
        None => 0,
        Some(&b) if b < 0x80 => usize::from(LABEL_BITS[usize::from(b)] != 0),
        Some(_) => match decode_at(text, i) {
            Some((c, len)) if is_word_char(c) => len,
            _ => 0,
        },
    }
}

/// Byte length of the name-label character ending just before `i`, 0 if there is none.
#[inline]
fn label_char_before(text: &[u8], i: usize) -> usize {
    match i.checked_sub(1).map(|j| text[j]) {
        None => 0,
        Some(b) if b < 0x80 => usize::from(LABEL_BITS[usize::from(b)] != 0),
        Some(_) => match decode_before(text, i) {
            Some((c, len)) if is_word_char(c) => len,
            _ => 0,
        },
    }
}

/// Length of a label separator at `i`: 1 for `.`, 3 for `[.]` or `(.)` when defanged, else 0.
#[inline]
fn sep_len(text: &[u8], i: usize, defang: bool) -> usize {
    match text.get(i) {
        Some(b'.') => 1,
        Some(b'[' | b'(') if defang => match text.get(i..i + 3) {
            Some(b"[.]" | b"(.)") => 3,
            _ => 0,
        },
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// Parsers

/// A maximal dotted run of name labels.
#[derive(Clone, Copy, Debug)]
struct Run {
    end: usize,
    labels: usize,
    /// Label bytes plus one per separator: the length once refanged.
    len: usize,
    /// Every label is ASCII digits.
    digits: bool,
    /// Some label is longer than 63 bytes or starts or ends with `-`.
    bad: bool,
    /// The last label can be a TLD: two or more letters, or `xn--…`.
    tld: bool,
    /// A label holds `-` or `_` (an IPv4 address may sit between them).
    joined: bool,
    /// A defanged separator was used.
    defanged: bool,
}

impl Run {
    fn is_domain(&self) -> bool {
        self.labels >= 2 && !self.bad && self.tld && self.len <= 253
    }
}

/// Parses the dotted run of labels starting at `s` (a label character).
fn parse_run(text: &[u8], s: usize, defang: bool) -> Run {
    let mut run = Run {
        end: s,
        labels: 0,
        len: 0,
        digits: true,
        bad: false,
        tld: false,
        joined: false,
        defanged: false,
    };
    let mut i = s;
    loop {
        let start = i;
        // OR of the bytes' label bits: one table load per byte and no data-dependent branch
        // (branching on digit vs letter per byte cost a third of the scan time).
        let mut acc = 0u8;
        let mut multibyte = 0usize;
        loop {
            while let Some(&b) = text.get(i) {
                let t = LABEL_BITS[usize::from(b)];
                if t == 0 {
                    break;
                }
                acc |= t;
                i += 1;
            }
            match text.get(i) {
                Some(&b) if b >= 0x80 => match unicode_label_char(text, i) {
                    Some((len, bits)) => {
                        acc |= bits;
                        multibyte += len - 1;
                        i += len;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        let label = &text[start..i];
        run.labels += 1;
        run.len += label.len();
        run.digits &= acc & L_NOT_DIGIT == 0;
        run.joined |= acc & L_JOIN != 0;
        run.bad |= label.is_empty()
            || label.len() > 63
            || (acc & L_JOIN != 0 && (label[0] == b'-' || label[label.len() - 1] == b'-'));
        let sep = match text.get(i) {
            Some(b'.') => 1,
            Some(b'[' | b'(') if defang => sep_len(text, i, true),
            _ => 0,
        };
        let more = sep > 0
            && match text.get(i + sep) {
                Some(&b) if b < 0x80 => LABEL_BITS[usize::from(b)] != 0,
                Some(_) => label_char_at(text, i + sep) > 0,
                None => false,
            };
        if !more {
            run.end = i;
            run.tld =
                (acc & L_NOT_ALPHA == 0 && label.len() - multibyte >= 2) || is_punycode(label);
            return run;
        }
        run.defanged |= sep > 1;
        run.len += 1;
        i += sep;
    }
}

/// The length and label bits of the non-ASCII name character at `i`, if it is one. Out of
/// line: the label loop stays small for the ASCII names that are nearly all of them.
#[inline(never)]
fn unicode_label_char(text: &[u8], i: usize) -> Option<(usize, u8)> {
    let (c, len) = decode_at(text, i)?;
    if !is_word_char(c) {
        return None;
    }
    let alpha = c.is_alphabetic() || is_mark(c);
    Some((len, L_NOT_DIGIT | if alpha { 0 } else { L_NOT_ALPHA }))
}

fn is_punycode(label: &[u8]) -> bool {
    label.len() > 4
        && label[..4].eq_ignore_ascii_case(b"xn--")
        && label[4..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a dotted quad at `i`; returns the address and where it ends. The caller checks what
/// surrounds it.
fn parse_ipv4(text: &[u8], mut i: usize, defang: bool) -> Option<(Ipv4Addr, usize)> {
    let digit = |i: usize| {
        text.get(i)
            .filter(|b| b.is_ascii_digit())
            .map(|b| u32::from(b - b'0'))
    };
    let mut octets = [0u8; 4];
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            match sep_len(text, i, defang) {
                0 => return None,
                sep => i += sep,
            }
        }
        let first = digit(i)?;
        let mut v = first;
        i += 1;
        if let Some(d) = digit(i) {
            if first == 0 {
                return None; // a leading zero
            }
            v = v * 10 + d;
            i += 1;
            if let Some(d) = digit(i) {
                v = v * 10 + d;
                i += 1;
                if digit(i).is_some() {
                    return None;
                }
            }
        }
        *octet = u8::try_from(v).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// Parses an IPv6 address at `start` (a hex digit or `::`), under the rules in the module docs;
/// returns the address and where it ends. The caller checks what surrounds it.
fn parse_ipv6(text: &[u8], start: usize) -> Option<(Ipv6Addr, usize)> {
    let mut groups = [0u16; 8];
    let mut n = 0;
    let mut gap = None;
    let mut long = false;
    let mut i = start;
    if text.get(i..i + 2) == Some(b"::") {
        gap = Some(0);
        i += 2;
    }
    loop {
        let group = i;
        let mut v = 0u32;
        while i - group < 5 {
            match text.get(i).and_then(|&b| hex_val(b)) {
                Some(d) => v = v << 4 | u32::from(d),
                None => break,
            }
            i += 1;
        }
        if i == group {
            break; // only right after "::": the address ends with it
        }
        if text.get(i) == Some(&b'.') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            if n > 6 {
                return None;
            }
            let (v4, end) = parse_ipv4(text, group, false)?;
            let o = v4.octets();
            groups[n] = u16::from_be_bytes([o[0], o[1]]);
            groups[n + 1] = u16::from_be_bytes([o[2], o[3]]);
            n += 2;
            i = end;
            long = true;
            break;
        }
        if i - group > 4 || n == 8 {
            return None;
        }
        groups[n] = v as u16;
        n += 1;
        long |= i - group >= 3;
        match (text.get(i), text.get(i + 1)) {
            (Some(b':'), Some(b':')) => {
                if gap.is_some() {
                    break; // a second "::": the caller rejects what follows
                }
                gap = Some(n);
                i += 2;
            }
            (Some(b':'), Some(&b)) if class(b) & HEX != 0 => i += 1,
            _ => break,
        }
    }
    let ok = match gap {
        Some(_) => (1..=7).contains(&n),
        None => n == 8 && long,
    };
    if !ok {
        return None;
    }
    let mut out = [0u16; 8];
    match gap {
        Some(g) => {
            out[..g].copy_from_slice(&groups[..g]);
            out[8 - (n - g)..].copy_from_slice(&groups[g..n]);
        }
        None => out = groups,
    }
    Some((Ipv6Addr::from(out), i))
}

/// End of a zone id after the `%` at `pct` (`%eth0`, `%25en0`, `%eth0.100`); `pct` if none.
fn zone_end(text: &[u8], pct: usize) -> usize {
    let mut z = pct + 1;
    while text
        .get(z)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        z += 1;
    }
    while z > pct + 1 && text[z - 1] == b'.' {
        z -= 1;
    }
    if z == pct + 1 { pct } else { z }
}

/// Whether `scheme` (at most 6 ASCII letters) starts a URL: `Some(true)` when it is a
/// defanged one.
fn url_scheme(scheme: &[u8], defang: bool) -> Option<bool> {
    /// The letters packed into an integer, lowercased (`| 0x20` lowercases ASCII letters).
    const fn key(s: &[u8]) -> u64 {
        let mut k = 0u64;
        let mut i = 0;
        while i < s.len() {
            k = k << 8 | (s[i] | 0x20) as u64;
            i += 1;
        }
        k
    }
    const HTTP: u64 = key(b"http");
    const HTTPS: u64 = key(b"https");
    const FTP: u64 = key(b"ftp");
    const WS: u64 = key(b"ws");
    const WSS: u64 = key(b"wss");
    const HXXP: u64 = key(b"hxxp");
    const HXXPS: u64 = key(b"hxxps");
    match key(scheme) {
        HTTP | HTTPS | FTP | WS | WSS => Some(false),
        HXXP | HXXPS if defang => Some(true),
        _ => None,
    }
}

/// Drops trailing punctuation from the URL body `[a, end)`; closing brackets only when no
/// opener inside balances them.
fn strip_trailing(text: &[u8], a: usize, mut end: usize) -> usize {
    // Counted once (closers minus openers per bracket kind), then kept up to date: counting
    // per stripped byte would be quadratic on a URL ending in many `)`.
    let mut excess: Option<[isize; 3]> = None;
    while end > a {
        let k = match text[end - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' => {
                end -= 1;
                continue;
            }
            b')' => 0,
            b']' => 1,
            b'}' => 2,
            _ => break,
        };
        let excess = excess.get_or_insert_with(|| {
            let mut e = [0isize; 3];
            for &b in &text[a..end] {
                match b {
                    b'(' => e[0] -= 1,
                    b')' => e[0] += 1,
                    b'[' => e[1] -= 1,
                    b']' => e[1] += 1,
                    b'{' => e[2] -= 1,
                    b'}' => e[2] += 1,
                    _ => {}
                }
            }
            e
        });
        if excess[k] <= 0 {
            break;
        }
        excess[k] -= 1;
        end -= 1;
    }
    end
}

fn has_defanged_form(raw: &[u8]) -> bool {
    raw.windows(3)
        .any(|w| matches!(w, b"[.]" | b"(.)" | b"[:]" | b"[@]"))
}

// ---------------------------------------------------------------------------------------------
// The scanner

enum Event {
    Anchor(usize),
    Hex(usize),
}

/// The tokens of one text, in one forward pass; made by [`Extractor::tokens`]. Borrows the text
/// and allocates nothing.
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    text: &'a [u8],
    defang: bool,
    simd: Simd,
    /// Anchors before this position are done with.
    cursor: usize,
    /// Parsers never walk back before this position (the end of the last token).
    floor: usize,
    /// Hex runs before this position are done with.
    hex_pos: usize,
    /// End of the last URL: no URL starts inside another.
    url_end: usize,
    /// Start of the current block, and its remaining anchor and hex-run bits.
    blk: usize,
    anchors: u64,
    hex: u64,
    /// Every dot and colon is an anchor and no fast path is taken (tests compare this
    /// reference scan with the real one).
    #[cfg(test)]
    reference: bool,
    /// Raw masks of the block after the current one.
    next: Masks,
    /// A token found together with the one returned last (a URL's host).
    pending: Option<Found<'a>>,
    /// A dotted run holding `-` or `_`, still to be searched for addresses: (from, end).
    pieces: Option<(usize, usize)>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a [u8], opts: Options) -> Self {
        let defang = opts.defanged;
        let simd = Simd::detect();
        let mut tokens = Tokens {
            text,
            defang,
            simd,
            cursor: 0,
            floor: 0,
            hex_pos: 0,
            url_end: 0,
            blk: 0,
            anchors: 0,
            hex: 0,
            #[cfg(test)]
            reference: false,
            next: masks_at(text, 64, simd, defang),
            pending: None,
            pieces: None,
        };
        tokens.load(masks_at(text, 0, simd, defang));
        tokens
    }

    /// Makes `cur` (the masks of the block at `blk`) the current block.
    fn load(&mut self, cur: Masks) {
        self.anchors = anchors(&cur, &self.next);
        #[cfg(test)]
        if self.reference {
            self.anchors = cur.dots | cur.colons | cur.others;
        }
        self.hex = hex_runs(cur.hex, self.next.hex);
    }

    /// The next anchor or hex-run start, in text order.
    fn next_event(&mut self) -> Option<Event> {
        loop {
            self.anchors &= keep_from(self.cursor, self.blk);
            self.hex &= keep_from(self.hex_pos, self.blk);
            if self.anchors | self.hex != 0 {
                let a = self.anchors.trailing_zeros();
                let h = self.hex.trailing_zeros();
                return Some(if h < a {
                    self.hex &= self.hex - 1;
                    Event::Hex(self.blk + h as usize)
                } else {
                    self.anchors &= self.anchors - 1;
                    Event::Anchor(self.blk + a as usize)
                });
            }
            if self.blk + 64 >= self.text.len() {
                return None;
            }
            self.blk += 64;
            let cur = self.next;
            self.next = masks_at(self.text, self.blk + 64, self.simd, self.defang);
            self.load(cur);
        }
    }

    fn on_anchor(&mut self, p: usize) -> Option<Found<'a>> {
        match self.text[p] {
            b'.' => self.on_dot(p),
            b':' => self.on_colon(p, 1),
            b'@' => self.on_at(p, 1),
            // '[' or '(' (anchors only when defanged forms are on)
            _ => match self.text.get(p..p + 3) {
                Some(b"[.]" | b"(.)") => self.on_dot(p),
                Some(b"[:]") => self.on_colon(p, 3),
                Some(b"[@]") => self.on_at(p, 3),
                _ => None,
            },
        }
    }

    /// A hex run of at least 32 digits starts at `p`.
    fn on_hex(&mut self, p: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut q = p + 32;
        while text.get(q).is_some_and(|&b| class(b) & HEX != 0) {
            q += 1;
        }
        self.hex_pos = q;
        if !matches!(q - p, 32 | 40 | 64 | 128) || word_before(text, p) || word_at(text, q) {
            return None;
        }
        Some(Found {
            start: p,
            end: q,
            token: Token::Hex(&text[p..q]),
            defanged: false,
        })
    }

    /// A label separator at `d`: a name, an address, or an email's local part.
    fn on_dot(&mut self, d: usize) -> Option<Found<'a>> {
        let text = self.text;
        if label_char_at(text, d + sep_len(text, d, self.defang)) == 0 {
            return None; // a dot that ends a run (or stands alone) starts nothing
        }
        #[cfg(test)]
        let fast = !self.reference;
        #[cfg(not(test))]
        let fast = true;
        if fast {
            if let Some(found) = self.plain_ipv4(d) {
                return Some(found);
            }
        }
        let mut s = self.run_start(d);
        // Leading hyphens are punctuation (`-evil.com`, `--config.yaml`).
        while s < d {
            if text[s] == b'-' {
                s += 1;
            } else if label_char_at(text, s) == 0 {
                s += sep_len(text, s, self.defang).max(1); // a label of hyphens only
            } else {
                break;
            }
        }
        if s >= d {
            return None; // nothing before the dot: a later dot starts the run, if any
        }
        let run = parse_run(text, s, self.defang);
        if let Some(at) = self.local_part_end(s, run.end) {
            self.cursor = at; // leave the bytes to the email parser
            return None;
        }
        self.cursor = run.end;
        let found = if run.is_domain() {
            let after_at = (s > 0 && text[s - 1] == b'@')
                || (self.defang && s >= 3 && &text[s - 3..s] == b"[@]");
            (!after_at).then(|| Found {
                start: s,
                end: run.end,
                token: Token::Domain(&text[s..run.end]),
                defanged: run.defanged,
            })
        } else if run.digits && run.labels == 4 {
            parse_ipv4(text, s, self.defang)
                .filter(|&(_, end)| end == run.end)
                .map(|(ip, end)| Found {
                    start: s,
                    end,
                    token: Token::Ipv4(ip),
                    defanged: run.defanged,
                })
        } else {
            if run.joined && run.labels >= 4 {
                self.pieces = Some((s, run.end));
            }
            None
        };
        // Only a token moves the floor: how far later parsers may walk back must not depend
        // on which anchors were parsed and found nothing (the anchor filter skips most).
        if found.is_some() {
            self.floor = run.end;
        }
        found
    }

    /// The commonest token, a dotted quad between plain delimiters, without the general run
    /// parser; `None` sends anything unusual (a longer run, a possible local part, defanged
    /// separators, non-ASCII neighbours) to [`Self::on_dot`]'s general path, which gives the
    /// same answer when this one gives one.
    fn plain_ipv4(&mut self, d: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut s = d;
        while s > self.floor && d - s < 3 && text[s - 1].is_ascii_digit() {
            s -= 1;
        }
        // Neither a name nor a local-part byte (so not `.`, `-`, `_`), ASCII, not `@`, and not
        // a bracket of a defanged form.
        let plain = |b: u8| {
            b < 0x80
                && LABEL_BITS[usize::from(b)] == 0
                && class(b) & LOCAL == 0
                && b != b'@'
                && !(self.defang && matches!(b, b'[' | b'(' | b']' | b')'))
        };
        if s == d || (s > 0 && !plain(text[s - 1])) {
            return None;
        }
        let (ip, e) = parse_ipv4(text, s, false)?;
        if text.get(e).is_some_and(|&b| !plain(b)) {
            return None;
        }
        self.cursor = e;
        self.floor = e;
        Some(Found {
            start: s,
            end: e,
            token: Token::Ipv4(ip),
            defanged: false,
        })
    }

    /// Where the dotted run through the separator at `d` starts: back over labels and the
    /// separators between them (the dot that triggered parsing need not be the run's first).
    fn run_start(&self, d: usize) -> usize {
        let text = self.text;
        let mut s = d;
        loop {
            while s > self.floor {
                if LABEL_BITS[usize::from(text[s - 1])] != 0 {
                    s -= 1;
                    continue;
                }
                let len = label_char_before(text, s);
                if len == 0 || s - len < self.floor {
                    break;
                }
                s -= len;
            }
            let sep = if s >= 1 && text[s - 1] == b'.' {
                1
            } else if self.defang && s >= 3 && matches!(&text[s - 3..s], b"[.]" | b"(.)") {
                3
            } else {
                0
            };
            if s == d || sep == 0 || s - sep <= self.floor || label_char_before(text, s - sep) == 0
            {
                return s;
            }
            s -= sep;
        }
    }

    /// If the run `[s, e)` continues with local-part characters into an `@`, where the `@` is.
    fn local_part_end(&self, s: usize, e: usize) -> Option<usize> {
        let text = self.text;
        let limit = s + 65;
        let mut j = e;
        while j < limit && text.get(j).is_some_and(|&b| class(b) & LOCAL != 0) {
            if text[j] == b'.' && text.get(j + 1) == Some(&b'.') {
                return None; // an ellipsis: no local part runs through it
            }
            j += 1;
        }
        match text.get(j) {
            Some(b'@') => Some(j),
            Some(b'[') if self.defang && text.get(j..j + 3) == Some(b"[@]") => Some(j),
            _ => None,
        }
    }

    /// The next address in a dotted run joined by `-` or `_` (`10.0.0.1-10.0.0.255`).
    fn next_piece(&mut self, mut p: usize, e: usize) -> Option<Found<'a>> {
        let text = self.text;
        while p < e {
            let next = text[p..e]
                .iter()
                .position(|&b| b == b'-' || b == b'_')
                .map_or(e, |k| p + k + 1);
            let ip = parse_ipv4(text, p, self.defang)
                .filter(|&(_, q)| q == e || matches!(text[q], b'-' | b'_'));
            if let Some((ip, q)) = ip {
                self.pieces = (next < e).then_some((next, e));
                return Some(Found {
                    start: p,
                    end: q,
                    token: Token::Ipv4(ip),
                    defanged: self.defang && text[p..q].iter().any(|&b| b == b'[' || b == b'('),
                });
            }
            p = next;
        }
        self.pieces = None;
        None
    }

    /// A colon at `c` (`clen` bytes: 1, or 3 for `[:]`): a URL scheme's, or inside an IPv6
    /// address.
    fn on_colon(&mut self, c: usize, clen: usize) -> Option<Found<'a>> {
        if c >= self.url_end && self.text.get(c + clen..c + clen + 2) == Some(b"//") {
            if let Some(found) = self.url(c, clen + 2) {
                return Some(found);
            }
        }
        if clen == 1 { self.ipv6(c) } else { None }
    }

    /// A URL whose scheme ends at `c` and whose authority starts at `c + sep`.
    fn url(&mut self, c: usize, sep: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut ss = c;
        while ss > self.floor && c - ss < 6 && text[ss - 1].is_ascii_alphabetic() {
            ss -= 1;
        }
        if word_before(text, ss) {
            return None;
        }
        let hxxp = url_scheme(&text[ss..c], self.defang)?;
        let a = c + sep;
        // One pass: the authority (noting its last `@`), then the rest of the URL.
        let mut end = a;
        let mut at = None;
        while let Some(&b) = text.get(end) {
            if class(b) & (URL_STOP | AUTH_END) != 0 {
                break;
            }
            if b == b'@' {
                at = Some(end);
            }
            end += 1;
        }
        let auth_end = end;
        while text.get(end).is_some_and(|&b| class(b) & URL_STOP == 0) {
            end += 1;
        }
        let end = strip_trailing(text, a, end);
        let auth_end = auth_end.min(end);
        let host_start = match at {
            None => a,
            Some(k) if self.defang && k > a && text.get(k - 1..k + 2) == Some(b"[@]") => k + 2,
            Some(k) => k + 1,
        };
        if host_start >= auth_end {
            return None;
        }
        self.url_end = end;
        self.cursor = auth_end;
        self.floor = auth_end;
        self.pending = self.url_host(host_start, auth_end);
        Some(Found {
            start: ss,
            end,
            token: Token::Url(&text[ss..end]),
            defanged: hxxp || sep > 3 || (self.defang && has_defanged_form(&text[a..end])),
        })
    }

    /// The host of a URL, `[hs, he)` being the authority after any userinfo.
    fn url_host(&self, hs: usize, he: usize) -> Option<Found<'a>> {
        let text = self.text;
        if text[hs] == b'[' && sep_len(text, hs, self.defang) == 0 {
            let (ip, end) = parse_ipv6(text, hs + 1)?;
            let z = if text.get(end) == Some(&b'%') {
                zone_end(text, end)
            } else {
                end
            };
            return (z < he && text[z] == b']').then_some(Found {
                start: hs + 1,
                end,
                token: Token::Ipv6(ip),
                defanged: false,
            });
        }
        if label_char_at(text, hs) == 0 {
            return None;
        }
        let run = parse_run(text, hs, self.defang);
        let e = run.end;
        let whole = e == he
            || (e < he
                && match text[e] {
                    b':' => true,
                    b'.' => e + 1 == he || text[e + 1] == b':',
                    _ => self.defang && text.get(e..e + 3) == Some(b"[:]"),
                });
        if !whole {
            return None;
        }
        if run.is_domain() {
            return Some(Found {
                start: hs,
                end: e,
                token: Token::Domain(&text[hs..e]),
                defanged: run.defanged,
            });
        }
        if !(run.digits && run.labels == 4) {
            return None;
        }
        parse_ipv4(text, hs, self.defang)
            .filter(|&(_, q)| q == e)
            .map(|(ip, _)| Found {
                start: hs,
                end: e,
                token: Token::Ipv4(ip),
                defanged: run.defanged,
            })
    }

    /// An IPv6 address around the colon at `c`.
    fn ipv6(&mut self, c: usize) -> Option<Found<'a>> {
        let text = self.text;
        // Back to where the hex digits and colons around `c` start: the colon that triggered
        // parsing may be a `::` in the middle of the address.
        let mut w = c;
        while w > self.floor && c - w < 40 && (class(text[w - 1]) & HEX != 0 || text[w - 1] == b':')
        {
            w -= 1;
        }
        if c - w >= 40 {
            return None;
        }
        // A single leading colon is not part of the address (and the check below refuses it).
        let start = if text[w] == b':' && text.get(w + 1) != Some(&b':') {
            w + 1
        } else {
            w
        };
        if start > 0 && (matches!(text[start - 1], b':' | b'.') || word_before(text, start)) {
            return None;
        }
        let (ip, addr_end) = parse_ipv6(text, start)?;
        let end = if text.get(addr_end) == Some(&b'%') {
            zone_end(text, addr_end)
        } else {
            addr_end
        };
        let bad_tail = match text.get(end) {
            Some(b':') => text
                .get(end + 1)
                .is_some_and(|&b| b == b':' || class(b) & HEX != 0),
            Some(b'.') => label_char_at(text, end + 1) > 0,
            _ => word_at(text, end),
        };
        if bad_tail {
            return None;
        }
        self.cursor = end;
        self.floor = end;
        Some(Found {
            start,
            end: addr_end,
            token: Token::Ipv6(ip),
            defanged: false,
        })
    }

    /// An `@` at `a` (`alen` bytes: 1, or 3 for `[@]`).
    fn on_at(&mut self, a: usize, alen: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut ls = a;
        let mut ellipsis = false;
        while ls > self.floor && a - ls <= 64 && class(text[ls - 1]) & LOCAL != 0 {
            if text[ls - 1] == b'.' && ls >= 2 && text[ls - 2] == b'.' {
                // A local part has no `..`. Three or more dots are an ellipsis before the
                // address (`see...bob@x.example`); two are a malformed local part.
                ellipsis = ls >= 3 && text[ls - 3] == b'.';
                if ellipsis {
                    break;
                }
                return None;
            }
            ls -= 1;
        }
        if !ellipsis && ls > 0 && (class(text[ls - 1]) & LOCAL != 0 || word_before(text, ls)) {
            return None;
        }
        while ls < a && text[ls] == b'.' {
            ls += 1;
        }
        let local = &text[ls..a];
        if local.is_empty() || local.len() > 64 || local.last() == Some(&b'.') {
            return None;
        }
        let ds = a + alen;
        if label_char_at(text, ds) == 0 {
            return None;
        }
        let run = parse_run(text, ds, self.defang);
        if !run.is_domain() {
            return None;
        }
        self.cursor = run.end;
        self.floor = run.end;
        Some(Found {
            start: ls,
            end: run.end,
            token: Token::Email(&text[ls..run.end]),
            defanged: alen > 1 || run.defanged,
        })
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Found<'a>;

    fn next(&mut self) -> Option<Found<'a>> {
        // Test the slot before moving it: `take()` copied the whole token out on every call.
        if let Some(found) = self.pending {
            self.pending = None;
            return Some(found);
        }
        loop {
            if let Some((p, e)) = self.pieces {
                if let Some(found) = self.next_piece(p, e) {
                    return Some(found);
                }
            }
            let found = match self.next_event()? {
                Event::Anchor(p) => self.on_anchor(p),
                Event::Hex(p) => self.on_hex(p),
            };
            if found.is_some() {
                return found;
            }
        }
    }
}

impl FusedIterator for Tokens<'_> {}

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

    fn scan(text: &[u8], defang: bool, reference: bool) -> Vec<Found<'_>> {
        let mut tokens = Tokens::new(text, Options { defanged: defang });
        if reference {
            tokens.reference = true;
            let m = masks_at(text, 0, Simd::Baseline, defang);
            tokens.anchors = m.dots | m.colons | m.others;
        }
        tokens.collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Dismissing dots and colons from the block masks, and the IPv4 fast path, change
        /// nothing but speed.
        #[test]
        fn anchor_filter_only_saves_time(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"..::@@//[]().-_+0123456789abcdefghtpwsxyz% \xc3\xa9".to_vec()),
                0..300,
            ),
            defang: bool,
        ) {
            proptest::prop_assert_eq!(scan(&bytes, defang, false), scan(&bytes, defang, true));
        }
    }

    #[test]
    fn anchor_filter_cases() {
        for text in [
            &b"1.2.3.4 2001:db8::1 fe80::1 1:2:3:4:5:6:7:8 1:2:3:4:5:6:1.2.3.4 http://a.b/"[..],
            b"1.2.3.com 12:34:2001:db8::1 a.b.c+d@x.com 5.0:ab::1 -1.2.3.4 --.evil.com",
            b"1111:2222:3333:4444:5555:6666:7777:8888 ::ffff:10.0.0.1 10.0.0.1-10.0.0.2",
            b"_.-0::",
        ] {
            for defang in [false, true] {
                assert_eq!(scan(text, defang, false), scan(text, defang, true));
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

    #[test]
    fn utf8_decoding_matches_std() {
        let s = "aü€𝄞z";
        let b = s.as_bytes();
        for (i, c) in s.char_indices() {
            let len = c.len_utf8();
            if len > 1 {
                assert_eq!(decode_at(b, i), Some((c, len)));
                assert_eq!(decode_before(b, i + len), Some((c, len)));
            } else {
                assert_eq!(decode_at(b, i), None);
            }
        }
        for bad in [
            &b"\xc0\x80"[..],
            b"\xed\xa0\x80",
            b"\xf5\x80\x80\x80",
            b"\xe2\x82",
            b"\x80",
        ] {
            assert_eq!(decode_at(bad, 0), None, "{bad:?}");
            assert_eq!(decode_before(bad, bad.len()), None, "{bad:?}");
        }
        assert_eq!(decode_before(b"", 0), None);
    }

    #[test]
    fn ipv6_parser_agrees_with_std() {
        for s in [
            "::1",
            "1::",
            "2001:db8::1",
            "2001:db8:0:0:1:0:0:1",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6::7",
            "fe80::abcd:1234",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            let (ip, end) = parse_ipv6(s.as_bytes(), 0).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(end, s.len(), "{s}");
            assert_eq!(ip, s.parse::<Ipv6Addr>().unwrap(), "{s}");
        }
        for s in [
            "::",
            "1:2:3:4:5:6:7:8",
            "12:34:56",
            "1::2::3",
            "12345::1",
            "1:2:3:4:5:6:7:8:9",
        ] {
            assert!(
                parse_ipv6(s.as_bytes(), 0).is_none_or(|(_, e)| e != s.len()),
                "{s}"
            );
        }
    }

    #[test]
    fn trailing_punctuation() {
        fn strip(s: &str) -> &str {
            &s[..strip_trailing(s.as_bytes(), 0, s.len())]
        }
        assert_eq!(strip("a/b)."), "a/b");
        assert_eq!(strip("a/(b)."), "a/(b)");
        assert_eq!(strip("a/b]]"), "a/b");
        assert_eq!(strip("a/[b]]"), "a/[b]");
        assert_eq!(strip("a?!,;:"), "a");
        assert_eq!(strip("...."), "");
    }

    #[test]
    fn refang_forms() {
        let mut out = Vec::new();
        refang(b"hXXps://evil[.]example(.)com[:]8080/a[@]b", &mut out);
        assert_eq!(out, b"https://evil.example.com:8080/a@b");
        refang(b"plain.example", &mut out);
        assert_eq!(out, b"plain.example");
    }
}
