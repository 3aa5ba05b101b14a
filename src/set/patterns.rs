//! Aho-Corasick automata over the set's pattern lists (URL substrings, HTTP-request literals).
//! The `aho-corasick` crate cannot be serialised, so the automaton is built from the mapped
//! pattern pool at first use; its build time is kept for `trawl info`.

use std::time::{Duration, Instant};

use aho_corasick::{AhoCorasick, MatchKind};

use crate::format::Record;

/// A built automaton and the record behind each pattern.
pub(crate) struct Patterns {
    ac: Option<AhoCorasick>,
    ids: Vec<u32>,
    /// Time it took to build.
    pub build_time: Duration,
}

impl Patterns {
    /// Builds the automaton for the records listed in `ids`.
    pub fn build(ids: &[u32], records: &[Record], strings: &[u8]) -> Patterns {
        let start = Instant::now();
        let mut kept = Vec::with_capacity(ids.len());
        let mut pats: Vec<&[u8]> = Vec::with_capacity(ids.len());
        for &id in ids {
            let Some(r) = records.get(id as usize) else {
                continue;
            };
            let off = r.value_off as usize;
            match strings.get(off..off + usize::from(r.value_len)) {
                Some(p) if !p.is_empty() => {
                    pats.push(p);
                    kept.push(id);
                }
                _ => {}
            }
        }
        let ac = if pats.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&pats)
                .ok()
        };
        Patterns {
            ac,
            ids: kept,
            build_time: start.elapsed(),
        }
    }

    /// Calls `f(record, start, end)` for every occurrence of every pattern in `haystack`.
    pub fn find(&self, haystack: &[u8], mut f: impl FnMut(u32, usize, usize)) {
        let Some(ac) = &self.ac else {
            return;
        };
        for m in ac.find_overlapping_iter(haystack) {
            if let Some(&id) = self.ids.get(m.pattern().as_usize()) {
                f(id, m.start(), m.end());
            }
        }
    }
}
