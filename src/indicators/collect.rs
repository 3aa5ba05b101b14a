//! Where feed readers put what they find: [`Collector`] receives accepted indicators, rejected
//! items (malformed, with their [`Location`]), unsupported items (well-formed but outside what
//! trawl compiles) and dropped items (revoked, superseded). The set builder implements it; so
//! does [`VecCollector`], for tests and small tools.

use std::fmt;
use std::sync::Arc;

use super::model::Meta;
use super::normalize::Normalized;

/// Where an item came from: a line of a text feed, or an object of a JSON feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// Line `line` (1-based) of `file`.
    Line {
        /// Feed file name as given.
        file: Arc<str>,
        /// 1-based line number.
        line: u64,
    },
    /// A JSON object of `file`, by its id (STIX id) or, without one, its position.
    Object {
        /// Feed file name as given.
        file: Arc<str>,
        /// STIX id, or `objects[N]` when the object has no usable id.
        id: String,
    },
    /// A whole file.
    File {
        /// Feed file name as given.
        file: Arc<str>,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { file, line } => write!(f, "{file}:{line}"),
            Location::Object { file, id } => write!(f, "{file}: {id}"),
            Location::File { file } => f.write_str(file),
        }
    }
}

/// Receives what a feed reader finds. The compiler implements it (filtering, merging,
/// reporting); tests implement it to look at what a reader produced.
pub trait Collector {
    /// A canonical indicator with one feed's metadata.
    fn accept(&mut self, indicator: Normalized, meta: &Meta, at: &Location);
    /// A malformed item: a bad value, a STIX object missing required properties, bad JSON.
    /// `reason` is a short stable phrase (reports group by it); `detail` names the offending text.
    fn reject(&mut self, at: Location, reason: &str, detail: &str);
    /// A well-formed item trawl does not compile inline (e.g. a STIX pattern with a qualifier
    /// or an observation-level AND, a non-`stix` `pattern_type`). Never widened into a broader rule.
    fn unsupported(&mut self, at: Location, reason: &str, detail: &str);
    /// An item left out by the feed's own semantics (revoked, superseded by a newer version).
    fn dropped(&mut self, at: Location, reason: &str);
}

/// A [`Collector`] that keeps everything, for tests and small tools.
#[derive(Debug, Default)]
pub struct VecCollector {
    /// Accepted indicators with their metadata and location.
    pub accepted: Vec<(Normalized, Meta, Location)>,
    /// Rejected items: location, reason, detail.
    pub rejected: Vec<(Location, String, String)>,
    /// Unsupported items: location, reason, detail.
    pub unsupported: Vec<(Location, String, String)>,
    /// Dropped items: location, reason.
    pub dropped: Vec<(Location, String)>,
}

impl Collector for VecCollector {
    fn accept(&mut self, indicator: Normalized, meta: &Meta, at: &Location) {
        self.accepted.push((indicator, meta.clone(), at.clone()));
    }
    fn reject(&mut self, at: Location, reason: &str, detail: &str) {
        self.rejected.push((at, reason.into(), detail.into()));
    }
    fn unsupported(&mut self, at: Location, reason: &str, detail: &str) {
        self.unsupported.push((at, reason.into(), detail.into()));
    }
    fn dropped(&mut self, at: Location, reason: &str) {
        self.dropped.push((at, reason.into()));
    }
}
