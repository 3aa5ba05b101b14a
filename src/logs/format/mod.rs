//! Log records: formats a log line can come in, and the fields inside structured ones.
//!
//! * [`LogFormat`] and [`detect`] — plain text, JSON Lines, Zeek TSV, CSV with a header.
//! * [`Value`] — one string value of a record: its field name, its bytes as they stand in the
//!   line, and where they start.
//! * [`json`], [`zeek`], [`csv`] — walk the values of one record. Each is a pure function over
//!   the line (plus, for Zeek and CSV, a header read once per file), never panics, allocates
//!   nothing per line once the caller's buffers have grown, and reports malformed input by
//!   reason after handing out every value it could read before the fault.
//! * [`Decoder`] — one object per file that feeds header lines to the right header, and record
//!   lines to the right walker: what a log scanner holds per input.
//! * `field_matches` — whether a field name is selected by a `--field` argument.
//!
//! # Field names
//!
//! A JSON value's field is its dotted key path: keys of nested objects joined by `.`
//! (`dns.question.name`), array elements under the array's own path without an index
//! (`answers`, `dns.answers.data`). A key that itself contains dots names the same field as
//! the nested objects would (`{"url.full": …}` and `{"url": {"full": …}}` both give
//! `url.full`), as Elasticsearch and ECS treat them. Zeek and CSV fields are column names as
//! the header gives them (Zeek's are already dotted: `id.orig_h`).
//!
//! # What counts as a value
//!
//! Indicators (addresses, names, URLs, emails, hashes) are strings in every structured format
//! trawl reads, so only string-like values are reported: JSON strings (not numbers, booleans,
//! null, nor object keys); Zeek columns except the numeric, time and boolean ones (exactly the
//! columns Zeek's own JSON writer emits as strings), elements of set and vector columns one by
//! one; every non-empty CSV cell. Zeek's unset (`-`) and empty (`(empty)`) markers and empty
//! CSV cells are absent values and not reported; an empty JSON string is reported (it is a
//! value, and `--enrich` sees records whole).
//!
//! # Escapes
//!
//! [`Value::raw`] is always the bytes of the line, so [`Value::start`] locates them exactly.
//! When [`Value::escaped`] is set, the value must be decoded with the format's `unescape`
//! ([`json::unescape`], [`zeek::unescape`], [`csv::unescape`]) into a reused buffer before it
//! is matched; values without escapes (nearly all of them) are matched in place.

pub(crate) mod csv;
pub(crate) mod json;
pub(crate) mod zeek;

use std::path::Path;

/// The format of a log file's lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Free text: each line is one value (syslog, web server access logs, anything else).
    Plain,
    /// One JSON value (normally an object) per line: Suricata EVE, ECS/Filebeat, Zeek JSON.
    JsonLines,
    /// Zeek's tab-separated logs with `#separator`/`#fields` header lines.
    Zeek,
    /// Comma-separated values whose first line names the columns.
    Csv,
}

impl LogFormat {
    /// Every format, in the order [`detect`] tries them.
    pub const ALL: [LogFormat; 4] = [
        LogFormat::JsonLines,
        LogFormat::Zeek,
        LogFormat::Csv,
        LogFormat::Plain,
    ];

    /// The name used on the command line (`--log-format`) and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Plain => "plain",
            LogFormat::JsonLines => "json",
            LogFormat::Zeek => "zeek",
            LogFormat::Csv => "csv",
        }
    }

    /// Reads a format name as a user types it: [`LogFormat::name`] or a common alias
    /// (`text`, `jsonl`, `ndjson`, `eve`, `ecs`, `bro`, `tsv`), in any case.
    pub fn parse(s: &str) -> Option<LogFormat> {
        let s = s.trim().to_ascii_lowercase();
        Some(match s.as_str() {
            "plain" | "text" | "txt" | "raw" => LogFormat::Plain,
            "json" | "jsonl" | "json-lines" | "jsonlines" | "ndjson" | "eve" | "ecs" => {
                LogFormat::JsonLines
            }
            "zeek" | "bro" | "tsv" | "zeek-tsv" => LogFormat::Zeek,
            "csv" => LogFormat::Csv,
            _ => return None,
        })
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One string value of a record. Every slice borrows from the line or from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    /// The field it came from: a dotted JSON key path (`dns.rrname`, `answers` for the
    /// elements of an array) or a Zeek/CSV column name. Empty for a JSON value outside any
    /// object, and for a [`LogFormat::Plain`] line.
    pub field: &'a [u8],
    /// The value's bytes as they stand in the line (between the quotes for a quoted JSON or
    /// CSV string), escapes not decoded; may be invalid UTF-8.
    pub raw: &'a [u8],
    /// Byte offset of `raw` in the line: `line[start..start + raw.len()] == raw`.
    pub start: usize,
    /// `raw` holds escape sequences of its format (JSON `\…`, Zeek `\xHH`, CSV `""`), so it
    /// must go through that format's `unescape` before being matched.
    pub escaped: bool,
}

impl Value<'_> {
    /// Byte offset just past `raw` in the line.
    pub fn end(&self) -> usize {
        self.start + self.raw.len()
    }
}

/// Whether a field name is selected by `wanted` (one `--field` argument): the same dotted
/// path, or a path below it (`dns` selects `dns.rrname` and `dns.answers.rdata`, but not
/// `dnssec`). Compared byte for byte, case-sensitively, as JSON keys and Zeek and CSV column
/// names are. Matching is left to the caller so that a scanner can also cache the answer per
/// Zeek or CSV column.
pub(crate) fn field_matches(field: &[u8], wanted: &[u8]) -> bool {
    field.starts_with(wanted) && (field.len() == wanted.len() || field[wanted.len()] == b'.')
}

/// How many bytes of a file [`detect`] wants to see: enough for a Zeek header or a long first
/// JSON record.
pub(crate) const DETECT_HEAD: usize = 64 * 1024;

/// Decides a file's format from its first bytes (up to `DETECT_HEAD` of them) and, where
/// the bytes leave it open, its name.
///
/// The rule, in order, on the first non-blank line (a UTF-8 byte-order mark skipped):
/// 1. it starts with `{` → [`LogFormat::JsonLines`];
/// 2. it starts with `#`, and one of the consecutive `#` lines at the head of the file
///    starts with `#separator` → [`LogFormat::Zeek`] (Zeek writes `#separator` first; the
///    lines before it in btest baselines are comments);
/// 3. the name ends in `.csv` (any case) → [`LogFormat::Csv`];
/// 4. the line looks like a CSV header: two or more comma-separated names (quotes allowed),
///    none preceded by a space, each 1–64 bytes of letters, digits, `_ - . / @ ( )` and single
///    inner spaces, starting with a letter, `_` or `@`; and, when a second line is there, it
///    splits into as many cells (RFC 4180 quoting) → [`LogFormat::Csv`];
/// 5. otherwise → [`LogFormat::Plain`].
///
/// A line of prose with commas fails rule 4 (its clauses start with a space after the comma,
/// and its cells would not line up with the next line's); a header written `a, b, c` needs a
/// `.csv` name or `--log-format csv`.
pub fn detect(head: &[u8], name: Option<&Path>) -> LogFormat {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(trim_eol)
        .skip_while(|l| l.iter().all(|b| b.is_ascii_whitespace()));
    let Some(first) = lines.next() else {
        return by_name(name).unwrap_or(LogFormat::Plain);
    };
    let first_t = trim_ascii_start(first);
    if first_t.first() == Some(&b'{') {
        return LogFormat::JsonLines;
    }
    if first_t.first() == Some(&b'#') {
        let zeek = std::iter::once(first_t)
            .chain(lines.clone().take_while(|l| l.first() == Some(&b'#')))
            .any(|l| l.starts_with(b"#separator"));
        if zeek {
            return LogFormat::Zeek;
        }
    }
    if let Some(f) = by_name(name) {
        return f;
    }
    if let Some(cols) = csv_header_columns(first) {
        let consistent = match lines.next() {
            Some(second) if !second.is_empty() => csv::count_cells(second) == Some(cols),
            _ => true,
        };
        if consistent {
            return LogFormat::Csv;
        }
    }
    LogFormat::Plain
}

fn by_name(name: Option<&Path>) -> Option<LogFormat> {
    let ext = name?.extension()?.to_str()?;
    ext.eq_ignore_ascii_case("csv").then_some(LogFormat::Csv)
}

/// The number of columns if `line` looks like a CSV header (rule 4 of [`detect`]).
fn csv_header_columns(line: &[u8]) -> Option<usize> {
    let mut n = 0usize;
    let mut ok = true;
    let r = csv::cells(line, |cell, _quoted, _start| {
        ok &= looks_like_column_name(cell);
        n += 1;
    });
    let no_space_after_comma = !line.windows(2).any(|w| w == b", ");
    (r.is_ok() && ok && n >= 2 && no_space_after_comma).then_some(n)
}

fn looks_like_column_name(cell: &[u8]) -> bool {
    let name = cell;
    (1..=64).contains(&name.len())
        && (name[0].is_ascii_alphabetic() || name[0] == b'_' || name[0] == b'@')
        && name.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'-' | b'.' | b'/' | b'@' | b'(' | b')' | b' ')
        })
        && !name.windows(2).any(|w| w == b"  ")
        && name.last() != Some(&b' ')
}

/// The line without its end-of-line bytes (`\n`, `\r\n`, or a lone trailing `\r`).
pub(crate) fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_ascii_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// What [`Decoder::line`] found on a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// A record: its values were handed out.
    Record,
    /// A header line (Zeek `#…` lines, the CSV header): read into the decoder, nothing
    /// handed out.
    Header,
    /// An empty or all-blank line: nothing to do.
    Blank,
}

/// Per-file decoding state: the format, the header read so far, and the JSON path buffer.
/// Feed it every line of one file in order.
#[derive(Clone, Debug)]
pub struct Decoder {
    format: LogFormat,
    path: Vec<u8>,
    zeek: zeek::ZeekHeader,
    csv: Option<csv::CsvHeader>,
}

impl Decoder {
    /// A decoder for one file of the given format.
    pub fn new(format: LogFormat) -> Decoder {
        Decoder {
            format,
            path: Vec::with_capacity(128),
            zeek: zeek::ZeekHeader::new(),
            csv: None,
        }
    }

    /// The format this decoder reads.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// The Zeek header read so far (empty unless the format is [`LogFormat::Zeek`]).
    pub fn zeek_header(&self) -> &zeek::ZeekHeader {
        &self.zeek
    }

    /// The CSV header, once its line has been read.
    pub fn csv_header(&self) -> Option<&csv::CsvHeader> {
        self.csv.as_ref()
    }

    /// Decodes one line (its end-of-line bytes may be included): header lines update the
    /// decoder, a record's values go to `each`. A [`LogFormat::Plain`] line is one value with
    /// an empty field name (end-of-line bytes excluded). Errors are the format's reasons; the
    /// values handed out before an error are valid.
    pub fn line(
        &mut self,
        line: &[u8],
        mut each: impl FnMut(Value<'_>),
    ) -> Result<LineKind, &'static str> {
        let content = trim_eol(line);
        if content.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(LineKind::Blank);
        }
        match self.format {
            LogFormat::Plain => {
                each(Value {
                    field: b"",
                    raw: content,
                    start: 0,
                    escaped: false,
                });
                Ok(LineKind::Record)
            }
            LogFormat::JsonLines => {
                json::strings(line, &mut self.path, each).map(|()| LineKind::Record)
            }
            LogFormat::Zeek => {
                if self.zeek.header_line(line) {
                    Ok(LineKind::Header)
                } else {
                    zeek::columns(&self.zeek, line, each).map(|()| LineKind::Record)
                }
            }
            LogFormat::Csv => match &self.csv {
                None => {
                    self.csv = Some(csv::CsvHeader::new(line)?);
                    Ok(LineKind::Header)
                }
                Some(h) => csv::columns(h, line, each).map(|()| LineKind::Record),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_decoder_reads_header_then_names_record_values() {
        let mut d = Decoder::new(LogFormat::Csv);
        let mut seen = Vec::new();
        assert_eq!(d.line(b"src_ip,host\n", |_| {}), Ok(LineKind::Header));
        let r = d.line(b"192.0.2.7,evil.example\n", |v| {
            seen.push((String::from_utf8_lossy(v.field).into_owned(), v.start))
        });
        assert_eq!(r, Ok(LineKind::Record));
        assert_eq!(seen, [("src_ip".to_string(), 0), ("host".to_string(), 10)]);
    }
}
