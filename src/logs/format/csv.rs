//! CSV logs with a header line: every cell of a record named by its column.
//!
//! * [`CsvHeader`] — the column names, from the file's first line.
//! * [`columns`] — hands every non-empty cell of a record to a callback as a [`Value`].
//! * [`unescape`] — turns a quoted cell's doubled quotes (`""`) into single ones.
//!
//! # Rules
//!
//! * RFC 4180 on one line: cells separated by `,`; a cell that starts with `"` (after
//!   optional spaces) is quoted and runs to the next lone `"`, `""` inside standing for one
//!   quote. [`Value::raw`] of a quoted cell is what lies between its quotes, with
//!   [`Value::escaped`] set when it holds `""`.
//! * Lenient where real exports are sloppy: spaces and tabs around cells are not part of them,
//!   a `"` inside an unquoted cell is an ordinary byte, invalid UTF-8 is reported as it is,
//!   and a UTF-8 byte-order mark before the header is skipped.
//! * Empty cells (`,,` or `""`) are absent values and not reported.
//! * A quoted cell that does not close on its line (a multi-line cell, out of scope) fails
//!   with [`E_UNTERMINATED`]; text between a closing quote and the next comma fails with
//!   [`E_AFTER_QUOTE`]; a record with more or fewer cells than the header reports the named
//!   cells it has, then fails with [`E_COLUMNS`]. Cells before a fault are reported. A blank
//!   line is no record (`Ok`, nothing reported).

use memchr::memchr;

use super::{Value, trim_eol};

/// Reason: a quoted cell does not close on its line.
pub(crate) const E_UNTERMINATED: &str = "csv: unterminated quote";
/// Reason: something other than a comma or the end of the line after a closing quote.
pub(crate) const E_AFTER_QUOTE: &str = "csv: text after closing quote";
/// Reason: the record's cell count differs from the header's.
pub(crate) const E_COLUMNS: &str = "csv: column count";
/// Reason: the header line is blank.
pub(crate) const E_EMPTY_HEADER: &str = "csv: empty header";

/// The column names of a CSV log, from its first line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvHeader {
    names: Vec<Vec<u8>>,
}

impl CsvHeader {
    /// Reads the header line (end-of-line bytes may be included): one name per cell, quotes
    /// decoded, surrounding spaces dropped. Fails on a blank line or a malformed quote.
    pub fn new(line: &[u8]) -> Result<CsvHeader, &'static str> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        if trim_eol(line).trim_ascii().is_empty() {
            return Err(E_EMPTY_HEADER);
        }
        let mut names = Vec::new();
        cells(line, |cell, escaped, _| {
            let mut name = Vec::with_capacity(cell.len());
            if escaped {
                unescape(cell, &mut name);
            } else {
                name.extend_from_slice(cell);
            }
            names.push(name);
        })?;
        Ok(CsvHeader { names })
    }

    /// The column names, in order.
    pub fn names(&self) -> &[Vec<u8>] {
        &self.names
    }

    /// The index of the column called `name`.
    pub fn column(&self, name: &[u8]) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Hands every non-empty cell of the record `line` (end-of-line bytes may be included) to
/// `each`, named by `header` (see the [module rules](self)).
pub(crate) fn columns<F: FnMut(Value<'_>)>(
    header: &CsvHeader,
    line: &[u8],
    mut each: F,
) -> Result<(), &'static str> {
    if trim_eol(line).trim_ascii().is_empty() {
        return Ok(());
    }
    let mut col = 0;
    cells(line, |raw, escaped, start| {
        if let Some(name) = header.names.get(col) {
            if !raw.is_empty() {
                each(Value {
                    field: name,
                    raw,
                    start,
                    escaped,
                });
            }
        }
        col += 1;
    })?;
    if col == header.names.len() {
        Ok(())
    } else {
        Err(E_COLUMNS)
    }
}

/// The number of cells on `line`, or `None` if it is malformed.
pub(crate) fn count_cells(line: &[u8]) -> Option<usize> {
    let mut n = 0;
    cells(line, |_, _, _| n += 1).ok().map(|()| n)
}

/// Splits one line into cells: `each(raw, escaped, start)` per cell, empty ones included.
pub(crate) fn cells(
    line: &[u8],
    mut each: impl FnMut(&[u8], bool, usize),
) -> Result<(), &'static str> {
    let line = trim_eol(line);
    let n = line.len();
    let blank = |i: usize| matches!(line.get(i), Some(b' ' | b'\t'));
    let mut i = 0;
    loop {
        let mut j = i;
        while blank(j) {
            j += 1;
        }
        if line.get(j) == Some(&b'"') {
            let start = j + 1;
            let mut k = start;
            let mut escaped = false;
            let end = loop {
                let Some(p) = memchr(b'"', &line[k..]) else {
                    return Err(E_UNTERMINATED);
                };
                let q = k + p;
                if line.get(q + 1) == Some(&b'"') {
                    escaped = true;
                    k = q + 2;
                } else {
                    break q;
                }
            };
            each(&line[start..end], escaped, start);
            let mut k = end + 1;
            while blank(k) {
                k += 1;
            }
            match line.get(k) {
                None => return Ok(()),
                Some(b',') => i = k + 1,
                Some(_) => return Err(E_AFTER_QUOTE),
            }
        } else {
            let end = memchr(b',', &line[i..]).map_or(n, |p| i + p);
            let mut e = end;
            while e > j && blank(e - 1) {
                e -= 1;
            }
            each(&line[j..e], false, j);
            if end == n {
                return Ok(());
            }
            i = end + 1;
        }
    }
}

/// Appends a quoted cell's content (as [`Value::raw`] gives it) to `out` with each `""`
/// turned into `"`. Returns false on a lone `"` (which cannot occur in a cell [`columns`]
/// reports); it is copied as it is.
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut ok = true;
    let mut i = 0;
    while let Some(k) = memchr(b'"', &raw[i..]) {
        let p = i + k;
        out.extend_from_slice(&raw[i..=p]);
        if raw.get(p + 1) == Some(&b'"') {
            i = p + 2;
        } else {
            ok = false;
            i = p + 1;
        }
    }
    out.extend_from_slice(&raw[i..]);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cells as (text, quoted, start), and the walk's result.
    type Cells = (Vec<(String, bool, usize)>, Result<(), &'static str>);

    fn all_cells(line: &str) -> Cells {
        let mut got = Vec::new();
        let r = cells(line.as_bytes(), |c, e, s| {
            assert_eq!(&line.as_bytes()[s..s + c.len()], c);
            got.push((String::from_utf8_lossy(c).into_owned(), e, s))
        });
        (got, r)
    }

    fn ok(line: &str) -> Vec<String> {
        let (got, r) = all_cells(line);
        assert_eq!(r, Ok(()), "{line}");
        got.into_iter().map(|(c, _, _)| c).collect()
    }

    #[test]
    fn splitting() {
        assert_eq!(ok("a,b,c"), ["a", "b", "c"]);
        assert_eq!(ok("a,,c,"), ["a", "", "c", ""]);
        assert_eq!(ok(""), [""]);
        assert_eq!(ok(" a , b\t,c \r\n"), ["a", "b", "c"]);
        assert_eq!(ok(r#""a,b","""",x"y"#), ["a,b", "\"\"", "x\"y"]);
        assert_eq!(ok(r#" "q" ,"""x""""#), ["q", r#"""x"""#]);
        let (got, _) = all_cells(r#"1,"say ""hi""",3"#);
        assert_eq!(got[1], (r#"say ""hi"""#.to_string(), true, 3));
        assert_eq!(
            all_cells(r#"a,"open"#),
            (vec![("a".into(), false, 0)], Err(E_UNTERMINATED))
        );
        assert_eq!(all_cells(r#""a"b,c"#).1, Err(E_AFTER_QUOTE));
    }

    #[test]
    fn header_and_columns() {
        let h = CsvHeader::new(b"\xEF\xBB\xBF\"src ip\",\"a \"\"b\"\"\", host\r\n").unwrap();
        assert_eq!(
            h.names(),
            [b"src ip".to_vec(), b"a \"b\"".to_vec(), b"host".to_vec()]
        );
        assert_eq!(h.column(b"host"), Some(2));
        assert_eq!(CsvHeader::new(b" \r\n"), Err(E_EMPTY_HEADER));
        let mut got = Vec::new();
        let r = columns(&h, b"192.0.2.1,,\"\"\n", |v| {
            got.push((v.field.to_vec(), v.raw.to_vec(), v.start))
        });
        assert_eq!(r, Ok(()));
        assert_eq!(got, [(b"src ip".to_vec(), b"192.0.2.1".to_vec(), 0)]);
        let mut n = 0;
        assert_eq!(columns(&h, b"a,b", |_| n += 1), Err(E_COLUMNS));
        assert_eq!(columns(&h, b"a,b,c,d", |_| n += 1), Err(E_COLUMNS));
        assert_eq!(n, 5);
        assert_eq!(columns(&h, b"\r\n", |_| n += 1), Ok(()));
    }

    #[test]
    fn unescape_cases() {
        let mut out = Vec::new();
        assert!(unescape(br#"""a"""#, &mut out));
        assert_eq!(out, br#""a""#);
        out.clear();
        assert!(!unescape(br#"a"b"#, &mut out));
        assert_eq!(out, br#"a"b"#);
    }

    #[test]
    fn columns_names_cells_with_offsets_and_quoting() {
        let h = CsvHeader::new(b"ts,host,user_agent\n").unwrap();
        let mut got = Vec::new();
        let r = columns(
            &h,
            br#"1710238532,evil.example,"Mozilla/5.0 (""X11"", Linux)""#,
            |v| {
                got.push((
                    String::from_utf8_lossy(v.field).into_owned(),
                    v.start,
                    v.escaped,
                ))
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(got[1], ("host".to_string(), 11, false));
        assert_eq!(got[2], ("user_agent".to_string(), 25, true));
    }

    #[test]
    fn unescape_undoubles_quotes() {
        let mut out = Vec::new();
        assert!(unescape(br#"a ""quoted"" value"#, &mut out));
        assert_eq!(out, br#"a "quoted" value"#);
    }
}
