//! trawl: an inline threat-indicator matching engine.
//!
//! The tree follows the data: [`feeds`] read feeds into the indicator core ([`indicators`]:
//! model, canonical forms, the set file, its builder and reader); the [`packets`] and [`logs`]
//! lanes observe values in traffic and log lines; the [`engine`] matches them against the set
//! and hands [`hits`] to their sinks; [`sightings`] turn hits back into STIX, [`exports`] write a
//! set for firewalls and IDSes.
//!
//! ```
//! use trawl::indicators::build::{CompileOptions, SetBuilder, exclude::Exclusions};
//! use trawl::feeds::readers::{FeedOptions, text};
//! use trawl::indicators::read::{AlignedBytes, IndicatorSet};
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

pub mod engine;
pub mod exports;
pub mod feeds;
pub mod hits;
pub mod indicators;
pub mod logs;
pub mod packets;
pub mod sightings;

pub use indicators::error::{Error, Result};
pub use indicators::model::{Indicator, Kind, Meta, Tlp, Value};
pub use indicators::notice::Notices;
pub use indicators::read::{IndicatorSet, Match};
