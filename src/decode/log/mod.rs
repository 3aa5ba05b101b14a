//! Log records: formats a log line can come in, and the fields inside structured ones.
//!
//! * [`LogFormat`] and [`detect`] — plain text, JSON Lines, Zeek TSV, CSV with a header.
//! * [`json`], [`zeek`], [`csv`] — walk the string values of one record with their field names
//!   and byte offsets, without allocating (being written on the `logformats` branch).

pub mod csv;
pub mod json;
pub mod zeek;
