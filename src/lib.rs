//! trawl: an inline threat-indicator matching engine.
//!
//! The tree follows the data: [`feeds`] read feeds into the indicator core ([`indicators`]:
//! model, canonical forms, the set file, its builder and reader); the [`packets`] and [`logs`]
//! lanes observe values in traffic and log lines; the [`engine`] matches them against the set
//! and hands [`hits`] to their sinks; [`sightings`] turn hits back into STIX, [`exports`] write a
//! set for firewalls and IDSes.
//!
//! What a program embedding trawl needs most is re-exported here at the root; each lane module
//! documents its own API, and everything else is internal.
//!
//! ```
//! use trawl::feeds::readers::text;
//! use trawl::{AlignedBytes, CompileOptions, Exclusions, FeedOptions, IndicatorSet, SetBuilder};
//!
//! // Compile a small plain-list feed in memory …
//! let feed = "203.0.113.0/24\nevil.example.com\n";
//! let mut builder = SetBuilder::new(CompileOptions::default(), Exclusions::new());
//! text::read(feed.as_bytes(), "feed.txt", &FeedOptions::source("demo"), &mut builder)?;
//! let (file, report) = builder.build()?;
//! assert_eq!(report.indicators_total(), 2);
//! // … and query it in place (`IndicatorSet::open` maps a file the same way).
//! let set = IndicatorSet::from_bytes(AlignedBytes::copy_from(&file.finish(0)))?;
//! let m = set.match_ip("203.0.113.7".parse()?).expect("inside the /24");
//! let indicator = set.indicator(m.indicator).unwrap();
//! assert_eq!(indicator.value(), "203.0.113.0/24");
//! assert_eq!(indicator.provenance().next().unwrap().source, "demo");
//! assert!(set.match_domain("www.Evil.Example.COM").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
// Everything a user cannot reach is `pub(crate)`: what is `pub` is the API.
#![warn(unreachable_pub)]

pub mod engine;
pub mod exports;
pub mod feeds;
pub mod hits;
pub mod indicators;
pub mod logs;
pub mod packets;
pub mod sightings;

// The curated surface: what a program embedding trawl names most, at the root.

// The indicator core: the model, a set and how to build one.
pub use indicators::build::exclude::Exclusions;
pub use indicators::build::report::CompileReport;
pub use indicators::build::{CompileOptions, SetBuilder};
pub use indicators::collect::{Collector, Location, VecCollector};
pub use indicators::error::{Error, Result};
pub use indicators::field::{Field, Transport};
pub use indicators::model::{Indicator, Kind, Meta, Tlp, Value};
pub use indicators::normalize::Normalized;
pub use indicators::notice::Notices;
pub use indicators::read::{AlignedBytes, IndicatorRef, IndicatorSet, Match, Provenance, SetMeta};
// Feeds in.
pub use feeds::detect::{FeedFormat, FeedSpec, ingest_feeds};
pub use feeds::readers::FeedOptions;
// Log lines and free text.
pub use logs::matcher::{LineMatch, LineMatcher, LineOptions, LogFormatOption};
pub use logs::text::scan_text;
// Hits out.
pub use hits::{
    EcsJsonLines, EveJsonLines, EveOptions, FlowInfo, Hit, HitSink, ObservedIn, Origin, Seen,
    Sensor, SetVersion, SidRange,
};

/// The set file's byte layout and its writer, which trawl's own integration tests and fuzz
/// targets use to craft corrupt and hostile set files (a fuzz target cannot be a unit test).
/// Not part of the API: anything here may change in any release.
#[doc(hidden)]
pub mod testing {
    /// The set file's byte layout and its writer.
    pub mod format {
        pub use crate::indicators::format::*;
    }
}
