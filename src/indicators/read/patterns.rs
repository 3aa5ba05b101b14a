//! Aho-Corasick automata over the set's pattern lists (URL substrings, HTTP-request literals).
//! The `aho-corasick` crate cannot be serialised, so the automaton is built from the mapped
//! pattern pool at first use (or by [`super::IndicatorSet::prepare`]); its build time is kept
//! for `trawl info`.
//!
//! A pattern list is the one part of a set that trawl builds something from, so it is bounded
//! (see [`crate::indicators::format::MAX_PATTERN_BYTES`]): [`check`] runs in `verify` and `prepare`, and
//! every build collects its patterns through the same checks first, so that no file, not even
//! one changed under the mapping after it was checked, can make a build larger. (Open does
//! not run it: it costs a cache miss per pattern, 14–22 ms for the 72k patterns of a real
//! feed collection, and opening costs the same at any size.)

use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};

use crate::indicators::error::{Error, Result};
use crate::indicators::format::{MAX_PATTERN_BYTES, MAX_PATTERN_LEN, Record};
use crate::indicators::http_compound::{self, Compound, Head};
use crate::indicators::model::Kind;

/// The patterns of one list: their bytes in the string pool and their records.
struct Collected<'a> {
    pats: Vec<&'a [u8]>,
    ids: Vec<u32>,
    bytes: u64,
}

/// Reads the pattern list `ids` of `kind`: every id names a record of that kind, at most once,
/// whose value lies in the pool, is not empty and is at most [`MAX_PATTERN_LEN`] bytes; all
/// of them together at most `budget` bytes. Costs O(patterns); reads no pattern byte.
fn collect<'a>(
    kind: Kind,
    ids: &[u32],
    records: &[Record],
    strings: &'a [u8],
    budget: u64,
) -> Result<Collected<'a>> {
    let bad = |what: String| Error::bad_set(format!("{kind} pattern list: {what}"));
    let mut out = Collected {
        pats: Vec::with_capacity(ids.len().min(records.len())),
        ids: Vec::with_capacity(ids.len().min(records.len())),
        bytes: 0,
    };
    if ids.is_empty() {
        return Ok(out);
    }
    // One bit per record: an id listed twice would add its pattern (and its matches) twice.
    let mut seen = vec![0u64; records.len().div_ceil(64)];
    for (i, &id) in ids.iter().enumerate() {
        let Some(r) = records.get(id as usize) else {
            return Err(bad(format!(
                "entry {i} names record {id}, past the {} records",
                records.len()
            )));
        };
        let (word, bit) = (id as usize / 64, 1u64 << (id % 64));
        if seen[word] & bit != 0 {
            return Err(bad(format!("record {id} is listed twice")));
        }
        seen[word] |= bit;
        if r.kind != kind as u8 {
            return Err(bad(format!("entry {i} names record {id}, not a {kind}")));
        }
        let len = usize::from(r.value_len);
        if len == 0 || len > MAX_PATTERN_LEN {
            return Err(bad(format!(
                "record {id} is a pattern of {len} bytes (1 to {MAX_PATTERN_LEN} allowed)"
            )));
        }
        let off = r.value_off as usize;
        let Some(p) = strings.get(off..off + len) else {
            return Err(bad(format!("record {id} lies outside the string pool")));
        };
        out.bytes += len as u64;
        if out.bytes > budget {
            return Err(bad(format!(
                "over {MAX_PATTERN_BYTES} pattern bytes (URL substrings and HTTP literals \
                 together, the most a set may hold): building the automata would take too \
                 much memory"
            )));
        }
        out.pats.push(p);
        out.ids.push(id);
    }
    Ok(out)
}

/// Checks both pattern lists against the bounds (together at most [`MAX_PATTERN_BYTES`]).
/// Returns the number of patterns and of pattern bytes.
pub(crate) fn check(
    url: &[u32],
    http: &[u32],
    records: &[Record],
    strings: &[u8],
) -> Result<(usize, u64)> {
    let u = collect(Kind::Url, url, records, strings, MAX_PATTERN_BYTES)?;
    let h = collect(
        Kind::HttpRequest,
        http,
        records,
        strings,
        MAX_PATTERN_BYTES - u.bytes,
    )?;
    Ok((u.ids.len() + h.ids.len(), u.bytes + h.bytes))
}

/// A built automaton and the record behind each pattern.
pub(crate) struct Patterns {
    ac: Option<AhoCorasick>,
    ids: Vec<u32>,
    /// Per pattern, the compound HTTP-request indicator it stands for
    /// ([`http_compound`]: the pattern is its anchor literal), if any.
    compounds: Vec<Option<Compound>>,
    /// Time it took to build.
    pub build_time: Duration,
    /// Why the automaton was not built (its patterns never match): the list broke a bound or
    /// the builder failed. Reported by `prepare`, which long-running commands call first.
    pub refused: Option<String>,
}

impl Patterns {
    /// Builds the automaton for the records of `kind` listed in `ids`, if the list keeps to
    /// the bounds.
    pub(super) fn build(kind: Kind, ids: &[u32], records: &[Record], strings: &[u8]) -> Patterns {
        let start = Instant::now();
        let mut out = Patterns {
            ac: None,
            ids: Vec::new(),
            compounds: Vec::new(),
            build_time: Duration::ZERO,
            refused: None,
        };
        match collect(kind, ids, records, strings, MAX_PATTERN_BYTES) {
            Ok(c) if c.pats.is_empty() => {}
            Ok(c) => {
                let compounds: Vec<Option<Compound>> = c
                    .pats
                    .iter()
                    .map(|p| {
                        let text = std::str::from_utf8(p).ok()?;
                        let compound =
                            kind == Kind::HttpRequest && text.starts_with(http_compound::PREFIX);
                        compound.then(|| Compound::parse(text)).flatten()
                    })
                    .collect();
                let anchors: Vec<Option<String>> = compounds
                    .iter()
                    .map(|k| k.as_ref().map(Compound::anchor))
                    .collect();
                let pats: Vec<&[u8]> = c
                    .pats
                    .iter()
                    .zip(&anchors)
                    .map(|(p, a)| a.as_ref().map_or(*p, |a| a.as_bytes()))
                    .collect();
                match AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(&pats)
                {
                    Ok(ac) => {
                        out.ac = Some(ac);
                        out.ids = c.ids;
                        out.compounds = compounds;
                    }
                    Err(e) => out.refused = Some(format!("{kind} patterns: {e}")),
                }
            }
            Err(e) => out.refused = Some(e.to_string()),
        }
        out.build_time = start.elapsed();
        out
    }

    /// Calls `f(record, start, end)` for every occurrence of every pattern in `haystack`. When
    /// `haystack` is a request head (`request`), a compound HTTP-request indicator is reported
    /// once, spanning the whole head, if the request meets all its conditions (checked at its
    /// anchor's first occurrence); otherwise compounds are not reported.
    pub(super) fn find(
        &self,
        haystack: &[u8],
        request: bool,
        mut f: impl FnMut(u32, usize, usize),
    ) {
        let Some(ac) = &self.ac else {
            return;
        };
        let mut head: Option<Option<Head<'_>>> = None;
        let mut checked: Vec<u32> = Vec::new();
        for m in ac.find_overlapping_iter(haystack) {
            let i = m.pattern().as_usize();
            let Some(&id) = self.ids.get(i) else {
                continue;
            };
            if let Some(Some(compound)) = self.compounds.get(i) {
                if !request || checked.contains(&id) {
                    continue;
                }
                checked.push(id);
                let head = head.get_or_insert_with(|| Head::parse(haystack));
                if head.as_ref().is_some_and(|h| compound.holds(h)) {
                    // The whole request is what matched.
                    f(id, 0, haystack.len());
                }
                continue;
            }
            f(id, m.start(), m.end());
        }
    }

    /// Heap bytes the automaton holds.
    pub(super) fn memory_usage(&self) -> usize {
        self.ac.as_ref().map_or(0, AhoCorasick::memory_usage) + self.ids.len() * 4
    }
}
