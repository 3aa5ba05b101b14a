//! Zeek's ASCII (TSV) logs: the `#` header lines, then one record per line.
//!
//! * [`ZeekHeader`] — built line by line from `#separator`, `#set_separator`, `#empty_field`,
//!   `#unset_field`, `#path`, `#fields` and `#types` ([`ZeekHeader::header_line`]); other `#`
//!   lines (`#open`, `#close`, comments) are consumed and ignored.
//! * [`columns`] — hands every reported column of a data line to a callback as a [`Value`]
//!   named after its `#fields` entry.
//! * [`unescape`] — decodes Zeek's `\xHH` escapes.
//!
//! # Rules
//!
//! * Columns are split on the separator (a tab unless `#separator` says otherwise); set and
//!   vector columns (by `#types`: `set[…]`, `vector[…]`) are split again on the set separator
//!   and reported element by element.
//! * Not reported: the unset marker (`-`), the empty marker (`(empty)`), empty cells and
//!   elements, and columns whose type is numeric, time or boolean (`count int double time
//!   interval port bool`, or a set/vector of them) — Zeek's JSON writer emits those as JSON
//!   numbers and booleans, so Zeek TSV and Zeek JSON logs report the same fields. Without
//!   `#types` every column is reported as a scalar.
//! * Zeek writes non-printable bytes, backslashes and separators inside values as `\xHH`; such
//!   a value is reported raw with [`Value::escaped`] set.
//! * A new `#separator` line starts a new header (concatenated logs); `#fields` and `#types`
//!   replace earlier ones.
//! * A data line before any `#fields` is an error ([`E_NO_FIELDS`]); a line with too few or
//!   too many columns reports the named columns it has, then fails with [`E_COLUMNS`]. A blank
//!   line is no record (`Ok`, nothing reported).

use memchr::{memchr, memmem};

use super::{Value, trim_eol};

/// Reason: a data line came before any `#fields` line.
pub(crate) const E_NO_FIELDS: &str = "zeek: no #fields header";
/// Reason: the line's column count differs from `#fields`.
pub(crate) const E_COLUMNS: &str = "zeek: column count";

/// How a column's values are reported, from its `#types` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Not reported (numbers, times, booleans).
    Skip,
    /// One value.
    Scalar,
    /// A set or vector: elements split on the set separator.
    Container,
}

/// The header of one Zeek log, read from its `#` lines.
#[derive(Clone, Debug)]
pub struct ZeekHeader {
    separator: Vec<u8>,
    set_separator: Vec<u8>,
    empty_field: Vec<u8>,
    unset_field: Vec<u8>,
    path: Option<String>,
    fields: Vec<Vec<u8>>,
    types: Vec<Vec<u8>>,
    kinds: Vec<Kind>,
}

impl Default for ZeekHeader {
    fn default() -> Self {
        ZeekHeader::new()
    }
}

impl ZeekHeader {
    /// An empty header with Zeek's defaults (tab, `,`, `(empty)`, `-`) and no fields yet.
    pub fn new() -> ZeekHeader {
        ZeekHeader {
            separator: b"\t".to_vec(),
            set_separator: b",".to_vec(),
            empty_field: b"(empty)".to_vec(),
            unset_field: b"-".to_vec(),
            path: None,
            fields: Vec::new(),
            types: Vec::new(),
            kinds: Vec::new(),
        }
    }

    /// Reads `line` (end-of-line bytes may be included) into the header if it is a `#` line,
    /// and says whether it was. Unknown `#` lines are consumed and change nothing.
    pub fn header_line(&mut self, line: &[u8]) -> bool {
        let line = trim_eol(line);
        if line.first() != Some(&b'#') {
            return false;
        }
        if let Some(rest) = line.strip_prefix(b"#separator") {
            // `#separator \x09`: the value follows a space and is written with Zeek escapes.
            let value = rest.strip_prefix(b" ").or(rest.strip_prefix(b"\t"));
            let mut sep = Vec::new();
            unescape(value.unwrap_or_default(), &mut sep);
            if !sep.is_empty() {
                *self = ZeekHeader::new();
                self.separator = sep;
            }
            return true;
        }
        let (name, value) = match find(line, 0, &self.separator) {
            Some(p) => (&line[..p], &line[p + self.separator.len()..]),
            None => (line, &b""[..]),
        };
        let unescaped = || {
            let mut v = Vec::new();
            unescape(value, &mut v);
            v
        };
        match name {
            b"#set_separator" => {
                let v = unescaped();
                if !v.is_empty() {
                    self.set_separator = v;
                }
            }
            b"#empty_field" => self.empty_field = unescaped(),
            b"#unset_field" => self.unset_field = unescaped(),
            b"#path" => self.path = Some(String::from_utf8_lossy(&unescaped()).into_owned()),
            b"#fields" => {
                self.fields = split(value, &self.separator);
                self.kinds = kinds(&self.types, self.fields.len());
            }
            b"#types" => {
                self.types = split(value, &self.separator);
                self.kinds = kinds(&self.types, self.fields.len());
            }
            _ => {}
        }
        true
    }

    /// The column names from `#fields` (empty until that line is read).
    pub fn fields(&self) -> &[Vec<u8>] {
        &self.fields
    }

    /// The column types from `#types` (empty if that line is absent).
    pub fn types(&self) -> &[Vec<u8>] {
        &self.types
    }

    /// Whether [`columns`] reports column `i` at all (false for numeric, time and boolean
    /// columns, and for columns beyond `#fields`).
    pub fn reports(&self, i: usize) -> bool {
        self.kinds.get(i).is_some_and(|&k| k != Kind::Skip)
    }

    /// The log's `#path` (`conn`, `dns`, `http`, …), if given.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The column separator.
    pub fn separator(&self) -> &[u8] {
        &self.separator
    }

    /// The separator between elements of set and vector columns.
    pub fn set_separator(&self) -> &[u8] {
        &self.set_separator
    }
}

fn split(value: &[u8], sep: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let end = find(value, i, sep).unwrap_or(value.len());
        out.push(value[i..end].to_vec());
        if end == value.len() {
            return out;
        }
        i = end + sep.len();
    }
}

fn kinds(types: &[Vec<u8>], n: usize) -> Vec<Kind> {
    const UNREPORTED: [&[u8]; 7] = [
        b"count",
        b"int",
        b"double",
        b"time",
        b"interval",
        b"port",
        b"bool",
    ];
    (0..n)
        .map(|i| {
            let Some(t) = types.get(i) else {
                return Kind::Scalar;
            };
            let inner = ["set[", "vector[", "table["].iter().find_map(|p| {
                t.strip_prefix(p.as_bytes())
                    .and_then(|r| r.strip_suffix(b"]"))
            });
            match inner {
                Some(e) if UNREPORTED.contains(&e) => Kind::Skip,
                Some(_) => Kind::Container,
                None if UNREPORTED.contains(&t.as_slice()) => Kind::Skip,
                None => Kind::Scalar,
            }
        })
        .collect()
}

/// The first occurrence of `sep` in `hay[from..]`, as an index into `hay`. `sep` is never
/// empty (the header refuses empty separators).
#[inline]
fn find(hay: &[u8], from: usize, sep: &[u8]) -> Option<usize> {
    let rest = hay.get(from..)?;
    let p = if let [b] = sep {
        memchr(*b, rest)
    } else {
        memmem::find(rest, sep)
    };
    p.map(|p| from + p)
}

/// Hands every reported column of the data line `line` (end-of-line bytes may be included)
/// to `each`, named by `header`'s `#fields` (see the [module rules](self)).
pub(crate) fn columns<F: FnMut(Value<'_>)>(
    header: &ZeekHeader,
    line: &[u8],
    mut each: F,
) -> Result<(), &'static str> {
    let line = trim_eol(line);
    if line.is_empty() {
        return Ok(());
    }
    if header.fields.is_empty() {
        return Err(E_NO_FIELDS);
    }
    // Escapes are rare: one search of the line spares one per value.
    let any_escape = memchr(b'\\', line).is_some();
    let sep = &header.separator[..];
    let mut i = 0;
    let mut col = 0;
    loop {
        let end = find(line, i, sep).unwrap_or(line.len());
        if let (Some(&kind), Some(name)) = (header.kinds.get(col), header.fields.get(col)) {
            let cell = &line[i..end];
            if kind != Kind::Skip
                && !cell.is_empty()
                && cell != header.unset_field.as_slice()
                && cell != header.empty_field.as_slice()
            {
                let mut report = |raw: &[u8], start: usize| {
                    if !raw.is_empty() && raw != header.unset_field.as_slice() {
                        each(Value {
                            field: name,
                            raw,
                            start,
                            escaped: any_escape && memchr(b'\\', raw).is_some(),
                        });
                    }
                };
                if kind == Kind::Container {
                    let ss = &header.set_separator[..];
                    let mut j = 0;
                    loop {
                        let e = find(cell, j, ss).unwrap_or(cell.len());
                        report(&cell[j..e], i + j);
                        if e == cell.len() {
                            break;
                        }
                        j = e + ss.len();
                    }
                } else {
                    report(cell, i);
                }
            }
        }
        col += 1;
        if end == line.len() {
            break;
        }
        i = end + sep.len();
    }
    if col == header.fields.len() {
        Ok(())
    } else {
        Err(E_COLUMNS)
    }
}

/// Decodes Zeek's `\xHH` escapes in `raw` and appends the result to `out`. Other backslashes
/// are copied as they are (older Zeek versions wrote backslashes unescaped).
///
/// Returns false if a `\x` is not followed by two hex digits (it is then copied as it is).
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut ok = true;
    let mut i = 0;
    while let Some(k) = memchr(b'\\', &raw[i..]) {
        let p = i + k;
        out.extend_from_slice(&raw[i..p]);
        let hex = |j: usize| raw.get(j).and_then(|&c| (c as char).to_digit(16));
        if raw.get(p + 1) == Some(&b'x') {
            if let (Some(h), Some(l)) = (hex(p + 2), hex(p + 3)) {
                out.push((h << 4 | l) as u8);
                i = p + 4;
                continue;
            }
            ok = false;
        }
        out.push(b'\\');
        i = p + 1;
    }
    out.extend_from_slice(&raw[i..]);
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &[&str]) -> ZeekHeader {
        let mut h = ZeekHeader::new();
        for l in lines {
            assert!(h.header_line(l.as_bytes()), "{l}");
        }
        h
    }

    fn cols(h: &ZeekHeader, line: &[u8]) -> (Vec<String>, Result<(), &'static str>) {
        let mut got = Vec::new();
        let r = columns(h, line, |v| {
            assert_eq!(&line[v.start..v.end()], v.raw);
            got.push(format!(
                "{}={}@{}{}",
                String::from_utf8_lossy(v.field),
                String::from_utf8_lossy(v.raw),
                v.start,
                if v.escaped { "!" } else { "" }
            ))
        });
        (got, r)
    }

    #[test]
    fn header_lines() {
        let mut h = ZeekHeader::new();
        assert!(!h.header_line(b"1.0\tx"));
        assert!(!h.header_line(b""));
        assert!(h.header_line(b"### BTest baseline data"));
        assert!(h.header_line(b"#separator \\x7c\n"));
        assert_eq!(h.separator(), b"|");
        assert!(h.header_line(b"#set_separator|;"));
        assert!(h.header_line(b"#path|dns"));
        assert!(h.header_line(b"#fields|a|b.c"));
        assert!(h.header_line(b"#open|2024-01-01-00-00-00"));
        assert_eq!(h.set_separator(), b";");
        assert_eq!(h.path(), Some("dns"));
        assert_eq!(h.fields(), [b"a".to_vec(), b"b.c".to_vec()]);
        assert!(h.reports(0) && h.reports(1) && !h.reports(2));
        // A new #separator starts over.
        assert!(h.header_line(b"#separator \\x09"));
        assert!(h.fields().is_empty() && h.path().is_none());
        // Empty separators are refused.
        assert!(h.header_line(b"#separator "));
        assert!(h.header_line(b"#set_separator\t"));
        assert_eq!((h.separator(), h.set_separator()), (&b"\t"[..], &b","[..]));
    }

    #[test]
    fn values() {
        let h = header(&[
            "#separator \\x09",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tquery\tanswers\tTTLs\ttags\tnote",
            "#types\ttime\tstring\taddr\tport\tstring\tvector[string]\tvector[interval]\tset[enum]\tstring",
        ]);
        let (got, r) = cols(
            &h,
            b"1.5\tCx1\t10.0.0.1\t53\tevil.example\ta.example,-,,b\\x2cc\t1.0,2.0\t(empty)\t-\r\n",
        );
        assert_eq!(r, Ok(()));
        assert_eq!(
            got,
            [
                "uid=Cx1@4",
                "id.orig_h=10.0.0.1@8",
                "query=evil.example@20",
                "answers=a.example@33",
                "answers=b\\x2cc@46!",
            ]
        );
        let (got, r) = cols(&h, b"1.5\tCx1\t10.0.0.1");
        assert_eq!((got.len(), r), (2, Err(E_COLUMNS)));
        let (got, r) = cols(&h, b"1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11");
        assert_eq!((got.len(), r), (6, Err(E_COLUMNS)));
        assert_eq!(cols(&h, b"\n"), (vec![], Ok(())));
        assert_eq!(cols(&ZeekHeader::new(), b"x\ty").1, Err(E_NO_FIELDS));
    }

    #[test]
    fn without_types() {
        let h = header(&["#fields\ta\tb"]);
        let (got, r) = cols(&h, b"1,2\t\\x2d");
        assert_eq!(r, Ok(()));
        assert_eq!(got, ["a=1,2@0", "b=\\x2d@4!"]);
    }

    #[test]
    fn unescape_cases() {
        let mut out = Vec::new();
        assert!(unescape(b"plain", &mut out));
        assert_eq!(out, b"plain");
        out.clear();
        assert!(unescape(br"\x2d\xFF\\n", &mut out));
        assert_eq!(out, b"-\xff\\\\n");
        out.clear();
        assert!(!unescape(br"a\x4", &mut out));
        assert_eq!(out, br"a\x4");
        out.clear();
        assert!(!unescape(br"\xg0\", &mut out));
        assert_eq!(out, br"\xg0\");
    }

    #[test]
    fn columns_split_vectors_with_offsets() {
        let mut h = ZeekHeader::new();
        for l in [
            "#separator \\x09",
            "#fields\tts\tquery\tanswers",
            "#types\ttime\tstring\tvector[string]",
        ] {
            assert!(h.header_line(l.as_bytes()));
        }
        let mut got = Vec::new();
        let r = columns(&h, b"1.5\tevil.example\t192.0.2.1,192.0.2.2\n", |v| {
            got.push(format!(
                "{}={}@{}",
                String::from_utf8_lossy(v.field),
                String::from_utf8_lossy(v.raw),
                v.start
            ))
        });
        assert_eq!(r, Ok(()));
        assert_eq!(
            got,
            [
                "query=evil.example@4",
                "answers=192.0.2.1@17",
                "answers=192.0.2.2@27"
            ]
        );
    }

    #[test]
    fn unescape_hex_escapes() {
        let mut out = Vec::new();
        assert!(unescape(br"a\x09b\x5cc", &mut out));
        assert_eq!(out, b"a\tb\\c");
    }
}
