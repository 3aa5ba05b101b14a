//! Feed ingest: readers that turn feed files into canonical indicators, one item at a time.
//!
//! * [`Collector`](crate::indicators::collect::Collector) — where readers push what they find
//!   (the set builder is one).
//! * [`FeedOptions`] — per-feed defaults: source name, score, TLP, exact-domain matching.
//! * [`text`] — plain lists (one value per line) and CSV with a header row.
//! * [`stix`] — STIX 2.1 bundles and TAXII envelopes; [`pattern`] — the STIX patterning subset.
//!
//! Readers never stop at a bad item: they report it and go on. They return an error only when
//! the input cannot be read at all (I/O failure, a JSON document that is not one).

pub(crate) mod misp;
pub(crate) mod pattern;
pub(crate) mod stix;
pub(crate) mod text;

use crate::indicators::model::{Meta, Tlp};

/// Per-feed settings that apply to every indicator of the feed unless the item says otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedOptions {
    /// Source name reported with every hit (defaults to the file stem).
    pub source: String,
    /// Score for items that carry none.
    pub score: Option<u8>,
    /// TLP for items that carry none.
    pub tlp: Option<Tlp>,
    /// Domains of this feed match exactly, without the subdomain rule.
    pub exact: bool,
    /// MISP: take every attribute of an indicator type, not only those marked `to_ids`.
    pub all_attributes: bool,
    /// Plain lists and CSV files without a `kind` column: every value is of this kind (a
    /// list of JA3 fingerprints or certificate SHA-1s is not a list of file hashes).
    pub value_kind: Option<crate::indicators::model::Kind>,
}

impl FeedOptions {
    /// Options with only a source name.
    pub fn source(source: impl Into<String>) -> FeedOptions {
        FeedOptions {
            source: source.into(),
            ..FeedOptions::default()
        }
    }

    /// The default metadata for an item of this feed.
    pub fn meta(&self) -> Meta {
        Meta {
            source: self.source.clone(),
            score: self.score,
            tlp: self.tlp,
            exact: self.exact,
            ..Meta::default()
        }
    }
}
