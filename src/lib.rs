//! trawl: an inline threat-indicator matching engine.
//!
//! The source tree follows the data: `feeds` read feeds into the indicator core (`indicators`:
//! model, canonical forms, the set file, its builder and reader); the `packets` and `logs`
//! lanes observe values in traffic and log lines; the `engine` matches them against the set and
//! hands `hits` to their sinks; [`sightings`] turn hits back into STIX, [`exports`] write a set
//! for firewalls and IDSes.
//!
//! The API is what this page lists: the types a program embedding trawl needs, re-exported
//! here at the root, and the [`sightings`] and [`exports`] modules. Everything else is internal
//! and may change in any release.
//!
//! ```
//! use trawl::{
//!     AlignedBytes, CompileOptions, Exclusions, FeedOptions, IndicatorSet, SetBuilder,
//!     read_text_feed,
//! };
//!
//! // Compile a small plain-list feed in memory …
//! let feed = "203.0.113.0/24\nevil.example.com\n";
//! let mut builder = SetBuilder::new(CompileOptions::default(), Exclusions::new());
//! read_text_feed(feed.as_bytes(), "feed.txt", &FeedOptions::source("demo"), &mut builder)?;
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

/// The `trawl` command, in the library so that it can wire internals that are not API; only
/// `cli::main` is public, for `src/main.rs`.
#[doc(hidden)]
pub mod cli;
mod engine;
pub mod exports;
mod feeds;
mod hits;
mod indicators;
mod logs;
mod packets;
pub mod sightings;

// The indicator core: the model, canonical forms, a set and how to build one.
pub use indicators::build::exclude::Exclusions;
pub use indicators::build::report::CompileReport;
pub use indicators::build::{CompileOptions, SetBuilder};
pub use indicators::collect::{Collector, Location, VecCollector};
pub use indicators::error::{Error, Result};
pub use indicators::field::{Field, FileDigests, Transport};
pub use indicators::format::SetMeta;
pub use indicators::model::{Indicator, Kind, Meta, Tlp, Value};
pub use indicators::normalize::{self, Normalized};
pub use indicators::notice::Notices;
pub use indicators::read::{AlignedBytes, IndicatorRef, IndicatorSet, Match, Provenance};

// Feeds in: files of any supported format, or one feed held in memory.
pub use feeds::detect::{FeedFormat, FeedSpec, ingest_feeds};
pub use feeds::readers::FeedOptions;
pub use feeds::readers::misp::read as read_misp_feed;
pub use feeds::readers::stix::StixIngest;
pub use feeds::readers::text::read as read_text_feed;

// Packets: capture files and live interfaces, scanned by worker threads; a set swapped live.
pub use engine::reader::{LiveCapture, LiveOptions};
pub use engine::reload::{Reload, Reloader, SetStatus};
pub use engine::stats::{Stats, Summary};
pub use engine::{Options as ScanOptions, Outcome as ScanOutcome, Progress, scan_files, sniff};
pub use packets::app::file::FileLimits;
pub use packets::flow_table::{FlowLimits, FlowStats};
pub use packets::reassembly::Limits as StreamLimits;

// Log lines and free text.
pub use engine::logs::{
    ErrorCount, FileStats, Input as LogInput, LogOptions, LogOutcome, OutputMode, SetSource,
    scan_logs,
};
pub use logs::format::{Decoder as LogDecoder, LineKind, LogFormat};
pub use logs::input::{FollowLosses, FollowOptions};
pub use logs::matcher::{BatchScanner, LineMatch, LineMatcher, LineOptions, LogFormatOption};
pub use logs::text::scan_text;

// Hits out.
pub use hits::{
    EcsJsonLines, EveJsonLines, EveOptions, FileMeta, FlowInfo, Hit, HitSink, ObservedIn, Origin,
    Seen, Sensor, SetRef, SetVersion, SidRange, TunnelInfo,
};

/// Internals that trawl's own integration tests, benchmarks and fuzz targets drive directly:
/// the set file's byte layout (to craft corrupt and hostile set files), the packet and log
/// parsers and the TCP reassembler (a fuzz target cannot be a unit test; a memory test needs
/// its own process), and the feed store and pulls.
/// Not part of the API: anything here may change in any release.
#[doc(hidden)]
pub mod testing {
    /// The set file's byte layout and its writer.
    pub mod format {
        pub use crate::indicators::format::*;
    }
    pub use crate::feeds::config::Config;
    pub use crate::feeds::detect::skipped_in_directory;
    pub use crate::feeds::pull::{PullReport, pull, set_is_stale};
    pub use crate::feeds::{bundle, store, taxii};
    pub use crate::indicators::model::unix_now;
    pub use crate::logs::extract;
    pub use crate::logs::format::detect as detect_log_format;
    pub use crate::logs::input::{Follow, chunk::overlap};
    pub use crate::packets::flow::FlowKey;
    pub use crate::packets::{app, capture, decode, flow_table, reassembly, sctp, tunnel};
}
