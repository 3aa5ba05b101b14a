//! The shrink guard: an upstream that answers with nothing, or with a small part of what it
//! served before (an empty 200, a `{}` manifest, a truncated file, a mass revocation), must
//! not empty the set. Such a pull is refused: the feed keeps its previous data, the pull
//! exits 1 and `feeds list` shows why, with the numbers.
//!
//! What a feed's size is, per kind (compared before and after the pull):
//!
//! * `url` and `file`: the indicators the list holds (items its reader accepts, expired ones
//!   included; duplicates counted), read from the new copy before it replaces the stored one.
//! * `misp`: the events the manifest lists, checked before any event is fetched or removed.
//! * `taxii`: the stored objects that are not revoked. A pull is incremental (objects added
//!   since the last one), so only revocations can shrink it; nothing new is not a shrink.
//!
//! Refused: a pull that drops more than `max_shrink` of the feed (`[set]`, or the feed's own;
//! default 0.5), and an answer that holds nothing at all (url, file, misp) — even at the first
//! pull. `allow_shrink = true` on a feed, or `trawl feeds pull --force`, accepts any pull.

use std::path::Path;

use super::config::{FeedConfig, SetConfig};
use crate::feeds::detect::{FeedSpec, ingest_feeds};
use crate::feeds::readers::FeedOptions;
use crate::indicators::build::exclude::Exclusions;
use crate::indicators::build::{CompileOptions, SetBuilder};
use crate::indicators::error::Result;

/// The shrink limit of one feed's pull.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ShrinkGuard {
    /// The fraction of the feed a pull may drop.
    max_shrink: f64,
    /// Accept anything (`allow_shrink = true`, or `--force`).
    off: bool,
}

/// A feed's size before and after a pull, and what was counted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes<'a> {
    /// Before the pull (what the store holds).
    pub before: u64,
    /// What the pull would store.
    pub after: u64,
    /// What was counted: `indicators`, `events`, `objects not revoked`.
    pub unit: &'a str,
    /// The answer, when an empty one is refused outright (`body`, `file`, `manifest`); `None`
    /// where nothing new is normal (TAXII).
    pub answer: Option<&'a str>,
    /// The answer held no bytes (or `{}`): said as "empty body" rather than "holds no …".
    pub blank: bool,
}

impl ShrinkGuard {
    /// The guard of `feed`'s pull; `force` (the `--force` flag) turns it off.
    pub(crate) fn new(set: &SetConfig, feed: &FeedConfig, force: bool) -> ShrinkGuard {
        ShrinkGuard {
            max_shrink: feed.max_shrink(set),
            off: force || feed.allow_shrink,
        }
    }

    /// `Err` with the message for `feeds list` when the pull must be refused.
    pub(crate) fn check(&self, s: Sizes<'_>) -> std::result::Result<(), String> {
        const ACCEPT: &str = "allow_shrink = true or --force to accept";
        if self.off {
            return Ok(());
        }
        let drop = s.before.saturating_sub(s.after);
        let shrinks = s.before > 0 && drop as f64 / s.before as f64 > self.max_shrink;
        let empty = s.after == 0 && s.answer.is_some();
        if !shrinks && !empty {
            return Ok(());
        }
        let why = match s.answer {
            Some(answer) if s.after == 0 && s.blank => format!("empty {answer}: "),
            Some(answer) if s.after == 0 => format!("{answer} holds no {}: ", s.unit),
            _ => String::new(),
        };
        if s.before == 0 {
            return Err(format!("{why}nothing stored; {ACCEPT}"));
        }
        let change = -100.0 * drop as f64 / s.before as f64;
        Err(format!(
            "{why}would shrink from {} to {} {} ({change:.1} %); previous data kept; {ACCEPT}",
            thousands(s.before),
            thousands(s.after),
            s.unit,
        ))
    }
}

/// The indicators a feed file holds, read the way `compile` reads it: items accepted as
/// indicators, expired ones included, before warninglists and score or TLP limits (those are
/// the set's choices, not the feed's size). It parses the file once more than the compile
/// does, only when the feed's bytes changed.
pub(crate) fn count_indicators(path: &Path, options: &FeedOptions) -> Result<u64> {
    let mut builder = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let spec = FeedSpec {
        path: path.to_path_buf(),
        format: None,
        options: options.clone(),
    };
    ingest_feeds(&[spec], &mut builder)?;
    let report = builder.report();
    let filtered: u64 = report.filtered.values().map(|t| t.count).sum();
    Ok(report.accepted.values().sum::<u64>() + filtered)
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: ShrinkGuard = ShrinkGuard {
        max_shrink: 0.5,
        off: false,
    };

    fn sizes(before: u64, after: u64) -> Sizes<'static> {
        Sizes {
            before,
            after,
            unit: "indicators",
            answer: Some("body"),
            blank: false,
        }
    }

    #[test]
    fn refuses_shrinks_beyond_the_limit_and_empty_answers() {
        assert_eq!(
            ON.check(sizes(12_345, 10)).unwrap_err(),
            "would shrink from 12,345 to 10 indicators (-99.9 %); previous data kept; \
             allow_shrink = true or --force to accept"
        );
        assert!(ON.check(sizes(100, 50)).is_ok(), "exactly half: allowed");
        assert!(ON.check(sizes(100, 49)).is_err());
        assert!(ON.check(sizes(10, 1_000_000)).is_ok(), "growth");
        let blank = Sizes {
            blank: true,
            ..sizes(3, 0)
        };
        assert_eq!(
            ON.check(blank).unwrap_err(),
            "empty body: would shrink from 3 to 0 indicators (-100.0 %); previous data kept; \
             allow_shrink = true or --force to accept"
        );
        assert_eq!(
            ON.check(sizes(0, 0)).unwrap_err(),
            "body holds no indicators: nothing stored; allow_shrink = true or --force to accept"
        );
        // TAXII: nothing new is normal; a mass revocation is not.
        let taxii = |before, after| Sizes {
            before,
            after,
            unit: "objects not revoked",
            answer: None,
            blank: false,
        };
        assert!(ON.check(taxii(0, 0)).is_ok());
        assert!(ON.check(taxii(1000, 1000)).is_ok());
        assert!(ON.check(taxii(1000, 10)).is_err());
        // max_shrink 1: any shrink, but not an empty answer.
        let lax = ShrinkGuard {
            max_shrink: 1.0,
            off: false,
        };
        assert!(lax.check(sizes(1000, 1)).is_ok());
        assert!(lax.check(taxii(1000, 0)).is_ok());
        assert!(lax.check(sizes(1000, 0)).is_err());
        let off = ShrinkGuard { off: true, ..ON };
        assert!(off.check(sizes(1000, 0)).is_ok());
    }

    #[test]
    fn thousands_separators() {
        for (n, s) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), s);
        }
    }
}
