//! The indicator core: what an indicator is, its canonical form, the set file that holds
//! millions of them, and the builder and reader of that file. It depends on no lane; every lane
//! depends on it.
//!
//! * [`model`] — [`Indicator`](model::Indicator), [`Kind`](model::Kind), per-source
//!   [`Meta`](model::Meta) (score, TLP, validity); [`normalize`] — canonical forms.
//! * [`field`] — where a value was observed (the fields both lanes report hits in).
//! * [`collect`] — the [`Collector`](collect::Collector) feed readers push into.
//! * `format` — the byte layout of a set file, shared by [`build`] (writer) and
//!   [`read`] (reader, straight from a memory map).
//! * `error` — the library's [`Error`](crate::Error); `notice` — the
//!   [`Notices`](crate::Notices) a long-running operation tells its caller while it runs (the
//!   library never prints); `map_guard` — mapped files that shrink under us; `stix_id` —
//!   deterministic STIX ids.

pub(crate) mod build;
pub(crate) mod collect;
pub(crate) mod error;
pub(crate) mod field;
pub(crate) mod format;
pub(crate) mod http_compound;
pub(crate) mod map_guard;
pub(crate) mod model;
pub mod normalize;
pub(crate) mod notice;
pub(crate) mod read;
pub(crate) mod stix_id;
