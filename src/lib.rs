//! trawl: an inline threat-indicator matching engine.
//!
//! Feeds (plain lists, CSV, STIX 2.1 bundles) are read by [`ingest`] into canonical
//! [`indicator::Indicator`]s ([`normalize`] holds the canonical forms), compiled by [`compile`]
//! into one set file whose byte layout [`format`](mod@format) owns, and queried through
//! [`set::IndicatorSet`], straight from a memory map.
#![deny(missing_docs)]

pub mod compile;
pub mod error;
pub mod extract;
pub mod format;
pub mod indicator;
pub mod ingest;
pub mod normalize;
pub mod set;

pub use error::{Error, Result};
pub use indicator::{Indicator, Kind, Meta, Tlp, Value};
pub use set::{Hit, IndicatorSet};
