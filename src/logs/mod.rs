//! The log lane: log lines in, indicator matches with their field and byte span out.
//!
//! * [`input`] — files, stdin and followed files, cut into pieces of whole lines.
//! * [`format`](mod@format) — record formats (JSON Lines, Zeek TSV, CSV) and their detection.
//! * [`extract`] — candidate tokens (addresses, names, URLs, emails, hashes) in free text.
//! * [`matcher`] — [`matcher::LineMatcher`]: every indicator in one line, with its field.
//! * [`text`] — [`text::scan_text`]: every indicator in free text, the simple way.

pub mod extract;
pub(crate) mod format;
pub(crate) mod input;
pub(crate) mod matcher;
pub(crate) mod text;
