//! The feed lane: feeds in, indicators into the set builder.
//!
//! * [`readers`] — plain lists and CSV, STIX 2.1 (with its patterning subset), MISP events.
//! * [`detect`] — what a feed file holds, decided from its name and first bytes;
//!   [`detect::ingest_feeds`] reads a list of feed files into a builder.
//! * [`pull`](mod@pull) — keeping a set current from a TOML list of feeds ([`config`]):
//!   [`taxii`] client, MISP and URL feeds over [`http`], a local [`store`], the shrink
//!   `guard`, the stored STIX [`bundle`].

pub mod bundle;
pub(crate) mod config;
pub(crate) mod detect;
pub(crate) mod guard;
pub(crate) mod http;
pub(crate) mod pull;
pub(crate) mod readers;
pub mod store;
pub mod taxii;

pub(crate) use config::Config;
pub(crate) use pull::{PullReport, pull_cancellable};
