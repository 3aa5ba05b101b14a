//! trawl: an inline threat-indicator matching engine.
//!
//! Feeds (plain lists, CSV, STIX 2.1 bundles) are read by [`ingest`] into canonical
//! [`indicator::Indicator`]s ([`normalize`] holds the canonical forms), compiled by [`compile`]
//! into one set file whose byte layout [`format`](mod@format) owns, and queried through
//! [`set::IndicatorSet`], straight from a memory map.
//!
//! ```
//! use trawl::compile::{CompileOptions, SetBuilder, exclude::Exclusions};
//! use trawl::ingest::{FeedOptions, text};
//! use trawl::set::{AlignedBytes, IndicatorSet};
//!
//! // Compile a small plain-list feed in memory …
//! let feed = "203.0.113.0/24\nevil.example.com\n";
//! let mut builder = SetBuilder::new(CompileOptions::default(), Exclusions::new());
//! text::read(feed.as_bytes(), "feed.txt", &FeedOptions::source("demo"), &mut builder)?;
//! let (file, report) = builder.build()?;
//! assert_eq!(report.indicators_total(), 2);
//! // … and query it in place (`IndicatorSet::open` maps a file the same way).
//! let set = IndicatorSet::from_bytes(AlignedBytes::copy_from(&file.finish(0)))?;
//! let hit = set.match_ip("203.0.113.7".parse()?).expect("inside the /24");
//! let indicator = set.indicator(hit.indicator).unwrap();
//! assert_eq!(indicator.value(), "203.0.113.0/24");
//! assert_eq!(indicator.provenance().next().unwrap().source, "demo");
//! assert!(set.match_domain("www.Evil.Example.COM").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod capture;
pub mod compile;
pub mod decode;
pub mod engine;
pub mod error;
pub mod export;
pub mod extract;
pub mod feeds;
pub mod format;
pub mod http;
pub mod indicator;
pub mod ingest;
pub mod input;
pub mod line_matcher;
pub mod map_guard;
pub mod normalize;
pub mod set;
pub mod sightings;
pub mod sink;
pub mod stix_id;
pub mod taxii;

pub use error::{Error, Result};
pub use indicator::{Indicator, Kind, Meta, Tlp, Value};
pub use set::{Hit, IndicatorSet};
