//! What a compilation did with its input, for the operator: files skipped per reason, accepted
//! per kind, rejected per reason with locations, duplicates merged, suppressed by warninglists, filtered by score, TLP
//! or expiry, unsupported patterns.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::indicators::model::Kind;

/// How many example locations a report keeps per reason (the count is always exact).
pub(crate) const EXAMPLES_PER_REASON: usize = 20;

/// A count with the first few places it happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// How many times.
    pub count: u64,
    /// The first [`EXAMPLES_PER_REASON`] occurrences: `location — detail`.
    pub examples: Vec<String>,
}

impl Tally {
    /// Counts one occurrence, keeping it as an example while there is room.
    pub fn add(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES_PER_REASON {
            self.examples.push(example());
        }
    }
}

/// The report of one compilation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompileReport {
    /// Feed files read, in order.
    pub inputs: Vec<String>,
    /// Files not compiled (documentation, not text, rules), per reason.
    pub skipped: BTreeMap<String, Tally>,
    /// Items accepted per kind (before merging duplicates).
    pub accepted: BTreeMap<&'static str, u64>,
    /// Distinct indicators per kind in the set.
    pub indicators: BTreeMap<&'static str, u64>,
    /// Items whose value was already in the set from another entry (provenance merged).
    pub merged: u64,
    /// Items identical to one already seen (same value, same provenance).
    pub duplicates: u64,
    /// CIDRs whose host bits were cleared.
    pub host_bits_cleared: Tally,
    /// Malformed items per reason.
    pub rejected: BTreeMap<String, Tally>,
    /// Well-formed items outside what trawl compiles, per reason.
    pub unsupported: BTreeMap<String, Tally>,
    /// Items the feed itself retired (revoked, superseded), per reason.
    pub dropped: BTreeMap<String, Tally>,
    /// Items left out by the compile options (score, TLP, expiry), per reason.
    pub filtered: BTreeMap<String, Tally>,
    /// Items suppressed by a warninglist, per list.
    pub suppressed: BTreeMap<String, Tally>,
    /// CIDR indicators that keep matching but with warninglist ranges carved out, per list.
    pub carved: BTreeMap<String, Tally>,
}

impl CompileReport {
    /// Sets the accepted counts from per-kind counters (indexed by discriminant - 1).
    pub(crate) fn fold_accepted(&mut self, counts: &[u64; Kind::ALL.len()]) {
        self.accepted = Kind::ALL
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.name(), *n))
            .collect();
    }

    /// Total items rejected for any reason.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().map(|t| t.count).sum()
    }

    /// Total distinct indicators.
    pub fn indicators_total(&self) -> u64 {
        self.indicators.values().sum()
    }
}

fn section(f: &mut fmt::Formatter<'_>, title: &str, m: &BTreeMap<String, Tally>) -> fmt::Result {
    if m.is_empty() {
        return Ok(());
    }
    let total: u64 = m.values().map(|t| t.count).sum();
    writeln!(f, "{title}: {total}")?;
    for (reason, t) in m {
        writeln!(f, "  {reason}: {}", t.count)?;
        for e in &t.examples {
            writeln!(f, "    {e}")?;
        }
        if t.count > t.examples.len() as u64 {
            writeln!(f, "    … and {} more", t.count - t.examples.len() as u64)?;
        }
    }
    Ok(())
}

impl fmt::Display for CompileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inputs.len() {
            0..=8 => writeln!(f, "inputs: {}", self.inputs.join(", "))?,
            n => writeln!(
                f,
                "inputs: {n} files ({}, … {})",
                self.inputs[0],
                self.inputs[n - 1]
            )?,
        }
        section(f, "skipped files", &self.skipped)?;
        let acc: u64 = self.accepted.values().sum();
        writeln!(f, "accepted: {acc}")?;
        for (k, n) in &self.accepted {
            writeln!(f, "  {k}: {n}")?;
        }
        writeln!(f, "indicators in set: {}", self.indicators_total())?;
        for (k, n) in &self.indicators {
            writeln!(f, "  {k}: {n}")?;
        }
        writeln!(
            f,
            "merged (same value from another entry): {}\nidentical duplicates: {}",
            self.merged, self.duplicates
        )?;
        if self.host_bits_cleared.count > 0 {
            let mut m = BTreeMap::new();
            m.insert(
                "CIDR host bits cleared".to_string(),
                self.host_bits_cleared.clone(),
            );
            section(f, "warnings", &m)?;
        }
        section(f, "rejected", &self.rejected)?;
        section(f, "unsupported", &self.unsupported)?;
        section(f, "dropped by the feed", &self.dropped)?;
        section(f, "filtered", &self.filtered)?;
        section(f, "suppressed by warninglist", &self.suppressed)?;
        section(f, "CIDRs with warninglist ranges carved out", &self.carved)
    }
}
