//! JSON Lines: every string value of one JSON record with its dotted key path.
//!
//! * [`strings`] — walks one line's JSON value (objects, arrays, nested to [`MAX_DEPTH`])
//!   and hands each string value to a callback as a [`Value`]: field path, raw bytes, offset,
//!   and whether it holds escapes.
//! * [`unescape`] — decodes a string's escapes (`\" \\ \/ \b \f \n \r \t \uXXXX`, surrogate
//!   pairs) into UTF-8 in a reused buffer.
//! * [`quoted_strings`] — every `"…"` string of a line whatever the structure around it: what a
//!   line that [`strings`] refuses (cut short, nested too deep, two records run together) still
//!   holds.
//!
//! # Rules
//!
//! * Paths: object keys joined by `.`; an array adds nothing, so the elements of
//!   `"answers":[{"rdata":"…"}]` are all `answers.rdata`; a key holding dots is not told apart
//!   from nested objects (the ECS convention). Keys with escapes are decoded into the path
//!   (kept raw if the escape is malformed). A string outside any object has the path `""`.
//! * Reported: string values only, in the order they appear, duplicates and empty strings
//!   included. Object keys, numbers, `true`, `false` and `null` are checked and skipped.
//! * Lenient where a scanner should be: invalid UTF-8 and raw control bytes inside strings are
//!   reported as they are (not errors), escapes are validated only by [`unescape`], a UTF-8
//!   byte-order mark before the value is skipped, and a blank line is no record (`Ok`, nothing
//!   reported).
//! * Strict about structure: a line holds exactly one JSON value; anything else is an error
//!   whose reason is one of the `E_*` constants. Every value reported before the error is
//!   valid, so a line cut short still gives what it had.
//! * Bounded: at most [`MAX_DEPTH`] nested containers; work is linear in the line length;
//!   nothing is allocated except growth of the caller's path buffer.
//!
//! # Speed
//!
//! Strings are skipped with `memchr2` for `"` and `\`, so long values cost little per byte;
//! structure is read byte by byte with no per-token allocation or recursion.

use memchr::{memchr, memchr2};

use super::Value;

/// Containers (objects and arrays) nested deeper than this make the line an error.
pub(crate) const MAX_DEPTH: usize = 64;

/// Reason: a string (value or key) has no closing quote on the line.
pub(crate) const E_UNTERMINATED: &str = "json: unterminated string";
/// Reason: a byte that cannot start or continue the JSON text where it stands.
pub(crate) const E_UNEXPECTED: &str = "json: unexpected byte";
/// Reason: more than [`MAX_DEPTH`] nested containers.
pub(crate) const E_TOO_DEEP: &str = "json: too deep";
/// Reason: bytes other than whitespace after the line's value.
pub(crate) const E_TRAILING: &str = "json: trailing data";
/// Reason: the line ends inside an object or array.
pub(crate) const E_TRUNCATED: &str = "json: truncated";
/// Reason: a malformed number.
pub(crate) const E_NUMBER: &str = "json: bad number";
/// Reason: a bare word other than `true`, `false`, `null`.
pub(crate) const E_LITERAL: &str = "json: bad literal";

/// Walks the JSON value on `line` (normally one object per line, as in JSON Lines; its
/// end-of-line bytes may be included) and hands every string value to `each` with its dotted
/// key path (see the [module rules](self)). `path_buf` is scratch space for the path, reused
/// across lines so that steady state allocates nothing.
///
/// On malformed JSON the values handed out before the fault stand and the reason is returned.
pub(crate) fn strings<F: FnMut(Value<'_>)>(
    line: &[u8],
    path_buf: &mut Vec<u8>,
    mut each: F,
) -> Result<(), &'static str> {
    // The path is kept with a leading `.` before every key (`.dns.rrname`), so that joining a
    // key never needs to know whether it is the first one; the field is the path without its
    // first byte. Per open container: the path length to restore, and (as a bit) whether it is
    // an object.
    let path = path_buf;
    path.clear();
    let n = line.len();
    let mut i = if line.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    i = skip_ws(line, i);
    if i == n {
        return Ok(());
    }
    let mut lens = [0u32; MAX_DEPTH];
    let mut objects: u64 = 0;
    let mut depth = 0usize;

    'value: loop {
        // A value starts at `i` (whitespace already skipped).
        let Some(&b) = line.get(i) else {
            return Err(E_TRUNCATED);
        };
        match b {
            b'"' => {
                let (end, escaped) = scan_string(line, i + 1)?;
                each(Value {
                    field: field(path),
                    raw: &line[i + 1..end],
                    start: i + 1,
                    escaped,
                });
                i = end + 1;
            }
            b'{' | b'[' => {
                if depth == MAX_DEPTH {
                    return Err(E_TOO_DEEP);
                }
                let object = b == b'{';
                // Paths are at most a line long; lines beyond 4 GiB are not records.
                lens[depth] = path.len() as u32;
                if object {
                    objects |= 1 << depth;
                } else {
                    objects &= !(1 << depth);
                }
                depth += 1;
                i = skip_ws(line, i + 1);
                let close = if object { b'}' } else { b']' };
                match line.get(i) {
                    Some(&c) if c == close => {
                        depth -= 1;
                        i += 1;
                    }
                    Some(_) if object => {
                        i = key(line, i, path)?;
                        continue 'value;
                    }
                    Some(_) => continue 'value,
                    None => return Err(E_TRUNCATED),
                }
            }
            b't' => i = literal(line, i, b"true")?,
            b'f' => i = literal(line, i, b"false")?,
            b'n' => i = literal(line, i, b"null")?,
            b'-' | b'0'..=b'9' => i = number(line, i)?,
            _ => return Err(E_UNEXPECTED),
        }
        // After a value: a separator, or the end of one or more containers.
        loop {
            i = skip_ws(line, i);
            if depth == 0 {
                return if i == n { Ok(()) } else { Err(E_TRAILING) };
            }
            let object = (objects >> (depth - 1)) & 1 == 1;
            match line.get(i) {
                Some(b',') => {
                    i = skip_ws(line, i + 1);
                    if object {
                        path.truncate(lens[depth - 1] as usize);
                        i = key(line, i, path)?;
                    }
                    continue 'value;
                }
                Some(b'}') if object => {
                    depth -= 1;
                    path.truncate(lens[depth] as usize);
                    i += 1;
                }
                Some(b']') if !object => {
                    depth -= 1;
                    i += 1;
                }
                Some(_) => return Err(E_UNEXPECTED),
                None => return Err(E_TRUNCATED),
            }
        }
    }
}

/// Hands every `"…"` string on `line` to `each`, keys included, in order, whatever the
/// structure around them (no [`MAX_DEPTH`], no grammar): for a line that is not valid JSON, so
/// that escaped values after the damage (`"http:\/\/…"`) can still be unescaped and matched.
/// Quotes pair up from the start of the line, a backslash escaping the byte after it; a last
/// string without its closing quote is not reported. Fields are empty.
pub(crate) fn quoted_strings<F: FnMut(Value<'_>)>(line: &[u8], mut each: F) {
    let mut i = 0;
    while let Some(k) = line.get(i..).and_then(|rest| memchr(b'"', rest)) {
        let start = i + k + 1;
        let Ok((end, escaped)) = scan_string(line, start) else {
            return;
        };
        each(Value {
            field: b"",
            raw: &line[start..end],
            start,
            escaped,
        });
        i = end + 1;
    }
}

#[inline]
fn field(path: &[u8]) -> &[u8] {
    path.get(1..).unwrap_or_default()
}

/// Reads `"key"` and its `:` at `i`, appends `.key` to the path; returns where the value
/// starts.
#[inline]
fn key(line: &[u8], i: usize, path: &mut Vec<u8>) -> Result<usize, &'static str> {
    if line.get(i) != Some(&b'"') {
        return Err(if i >= line.len() {
            E_TRUNCATED
        } else {
            E_UNEXPECTED
        });
    }
    let (end, escaped) = scan_string(line, i + 1)?;
    let raw = &line[i + 1..end];
    path.push(b'.');
    if escaped {
        let at = path.len();
        if !unescape(raw, path) {
            path.truncate(at);
            path.extend_from_slice(raw);
        }
    } else {
        path.extend_from_slice(raw);
    }
    let j = skip_ws(line, end + 1);
    match line.get(j) {
        Some(b':') => Ok(skip_ws(line, j + 1)),
        Some(_) => Err(E_UNEXPECTED),
        None => Err(E_TRUNCATED),
    }
}

/// Finds the closing quote of a string whose content starts at `start`: its index, and
/// whether a backslash was seen.
#[inline]
fn scan_string(line: &[u8], start: usize) -> Result<(usize, bool), &'static str> {
    let mut j = start;
    let mut escaped = false;
    // Keys and most values are short: a plain loop beats memchr's setup for the first bytes.
    let short_end = line.len().min(start + 16);
    while j < short_end {
        match line[j] {
            b'"' => return Ok((j, escaped)),
            b'\\' => {
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    loop {
        let Some(rest) = line.get(j..) else {
            return Err(E_UNTERMINATED);
        };
        match memchr2(b'"', b'\\', rest) {
            None => return Err(E_UNTERMINATED),
            Some(k) => {
                let p = j + k;
                if line[p] == b'"' {
                    return Ok((p, escaped));
                }
                escaped = true;
                j = p + 2;
            }
        }
    }
}

#[inline]
fn skip_ws(line: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = line.get(i) {
        i += 1;
    }
    i
}

fn literal(line: &[u8], i: usize, word: &[u8]) -> Result<usize, &'static str> {
    let got = &line[i..];
    if got.starts_with(word) {
        Ok(i + word.len())
    } else if word.starts_with(got) {
        Err(E_TRUNCATED)
    } else {
        Err(E_LITERAL)
    }
}

/// Skips a number (RFC 8259 grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
fn number(line: &[u8], mut i: usize) -> Result<usize, &'static str> {
    let digit = |i: usize| line.get(i).is_some_and(u8::is_ascii_digit);
    let digits = |mut i: usize| {
        while digit(i) {
            i += 1;
        }
        i
    };
    if line[i] == b'-' {
        i += 1;
    }
    match line.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i + 1),
        _ => return Err(E_NUMBER),
    }
    if line.get(i) == Some(&b'.') {
        if !digit(i + 1) {
            return Err(E_NUMBER);
        }
        i = digits(i + 1);
    }
    if let Some(b'e' | b'E') = line.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = line.get(i) {
            i += 1;
        }
        if !digit(i) {
            return Err(E_NUMBER);
        }
        i = digits(i);
    }
    Ok(i)
}

/// Decodes the escapes of a JSON string's raw bytes (as [`Value::raw`] gives them) and
/// appends the result to `out`: `\" \\ \/ \b \f \n \r \t` and `\uXXXX`, a surrogate pair
/// becoming one UTF-8 character. Bytes outside escapes are copied as they are (invalid UTF-8
/// included).
///
/// Returns false on a malformed escape (unknown letter, short or non-hex `\u`, a lone
/// surrogate); `out` then holds what was decoded before it.
pub(crate) fn unescape(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while let Some(k) = memchr(b'\\', &raw[i..]) {
        out.extend_from_slice(&raw[i..i + k]);
        i += k + 1;
        let Some(&c) = raw.get(i) else {
            return false;
        };
        i += 1;
        let byte = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let Some(hi) = hex4(raw, i) else {
                    return false;
                };
                i += 4;
                let cp = match hi {
                    0xD800..=0xDBFF => {
                        let lo = match raw.get(i..i + 2) {
                            Some(b"\\u") => hex4(raw, i + 2),
                            _ => None,
                        };
                        match lo {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                i += 6;
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            }
                            _ => return false,
                        }
                    }
                    0xDC00..=0xDFFF => return false,
                    cp => cp,
                };
                // Surrogates were handled above, so every value here is a scalar value.
                let Some(ch) = char::from_u32(cp) else {
                    return false;
                };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            _ => return false,
        };
        out.push(byte);
    }
    out.extend_from_slice(&raw[i..]);
    true
}

fn hex4(raw: &[u8], i: usize) -> Option<u32> {
    let h = raw.get(i..i + 4)?;
    let mut v = 0u32;
    for &c in h {
        v = v << 4 | (c as char).to_digit(16)?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values as (field, raw, start, escaped), and the walk's result.
    type Walk = (Vec<(String, String, usize, bool)>, Result<(), &'static str>);

    fn walk(line: &[u8]) -> Walk {
        let mut path = Vec::new();
        let mut got = Vec::new();
        let r = strings(line, &mut path, |v| {
            assert_eq!(&line[v.start..v.end()], v.raw);
            got.push((
                String::from_utf8_lossy(v.field).into_owned(),
                String::from_utf8_lossy(v.raw).into_owned(),
                v.start,
                v.escaped,
            ))
        });
        (got, r)
    }

    fn fields(line: &str) -> Vec<(String, String)> {
        let (got, r) = walk(line.as_bytes());
        assert_eq!(r, Ok(()), "{line}");
        got.into_iter().map(|(f, v, _, _)| (f, v)).collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn paths_and_kinds() {
        assert_eq!(
            fields(
                r#"{"a":"1","b":{"c":"2","d":[ "3", {"e":"4"}, ["5"] ]},"f":7,"g":true,"h":null,"i":false,"j":-1.5e3,"k":""}"#
            ),
            pairs(&[
                ("a", "1"),
                ("b.c", "2"),
                ("b.d", "3"),
                ("b.d.e", "4"),
                ("b.d", "5"),
                ("k", "")
            ])
        );
        assert_eq!(fields(r#""top""#), pairs(&[("", "top")]));
        assert_eq!(
            fields(r#"["x",{"y":"z"}]"#),
            pairs(&[("", "x"), ("y", "z")])
        );
        assert_eq!(
            fields(r#"{"":{"b":"x"},"a.b":"y"}"#),
            pairs(&[(".b", "x"), ("a.b", "y")])
        );
        assert_eq!(fields(r#"{"k\u0041\/":"v"}"#), pairs(&[("kA/", "v")]));
        assert_eq!(fields(r#"{"k\q":"v"}"#), pairs(&[(r"k\q", "v")]));
        assert_eq!(fields(" \t{ \"a\" : \"b\" } \r\n"), pairs(&[("a", "b")]));
        assert_eq!(fields("{}"), pairs(&[]));
        assert_eq!(fields("[]"), pairs(&[]));
        assert_eq!(fields("\u{feff}{\"a\":\"b\"}"), pairs(&[("a", "b")]));
        assert_eq!(fields("   \r\n"), pairs(&[]));
        assert_eq!(fields("7"), pairs(&[]));
    }

    #[test]
    fn errors_keep_earlier_values() {
        let cases: &[(&str, usize, &str)] = &[
            (r#"{"a":"x","b":"y"#, 1, E_UNTERMINATED),
            ("{\"a\":\"x\",\"b\":\"", 1, E_UNTERMINATED),
            (r#"{"a":"x","b":"#, 1, E_TRUNCATED),
            (r#"{"a":"x","#, 1, E_TRUNCATED),
            (r#"{"a":"x""#, 1, E_TRUNCATED),
            (r#"{"a":["x""#, 1, E_TRUNCATED),
            (r#"{"a":"x"} x"#, 1, E_TRAILING),
            (r#"{"a":"x"}{"b":"y"}"#, 1, E_TRAILING),
            (r#"{"a":"x" "b":"y"}"#, 1, E_UNEXPECTED),
            (r#"{"a":"x",}"#, 1, E_UNEXPECTED),
            (r#"{"a" "x"}"#, 0, E_UNEXPECTED),
            (r#"{a:"x"}"#, 0, E_UNEXPECTED),
            (r#"{"a":tru"#, 0, E_TRUNCATED),
            (r#"{"a":trux}"#, 0, E_LITERAL),
            (r#"{"a":01}"#, 0, E_UNEXPECTED),
            (r#"{"a":1.}"#, 0, E_NUMBER),
            (r#"{"a":-}"#, 0, E_NUMBER),
            (r#"{"a":1e}"#, 0, E_NUMBER),
            (r#"{"a":"x"]"#, 1, E_UNEXPECTED),
            (r#"["a"}"#, 1, E_UNEXPECTED),
            ("{\"a\":\"x\\", 0, E_UNTERMINATED),
            ("{\"a\":\"x\\\"", 0, E_UNTERMINATED),
        ];
        for &(line, n, err) in cases {
            let (got, r) = walk(line.as_bytes());
            assert_eq!((got.len(), r), (n, Err(err)), "{line}");
        }
    }

    #[test]
    fn depth_cap() {
        let ok = "[".repeat(MAX_DEPTH) + "\"x\"" + &"]".repeat(MAX_DEPTH);
        assert_eq!(walk(ok.as_bytes()).1, Ok(()));
        let deep = "[".repeat(MAX_DEPTH + 1) + "\"x\"" + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(walk(deep.as_bytes()).1, Err(E_TOO_DEEP));
        let mut o = String::new();
        for _ in 0..MAX_DEPTH {
            o.push_str("{\"k\":");
        }
        o.push_str("\"v\"");
        o.push_str(&"}".repeat(MAX_DEPTH));
        let (got, r) = walk(o.as_bytes());
        assert_eq!(r, Ok(()));
        assert_eq!(got[0].0, vec!["k"; MAX_DEPTH].join("."));
    }

    #[test]
    fn quoted_strings_whatever_the_structure() {
        let strings = |line: &[u8]| {
            let mut got = Vec::new();
            quoted_strings(line, |v| {
                assert_eq!(&line[v.start..v.end()], v.raw);
                got.push((String::from_utf8_lossy(v.raw).into_owned(), v.escaped));
            });
            got
        };
        let deep = "[".repeat(MAX_DEPTH + 1) + r#""a\/b""# + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(strings(deep.as_bytes()), [(r"a\/b".to_string(), true)]);
        assert_eq!(
            strings(br#"{"k":"v\"q"}{"x":"#),
            [
                ("k".to_string(), false),
                (r#"v\"q"#.into(), true),
                ("x".into(), false)
            ]
        );
        assert_eq!(strings(br#"no quotes, then "open"#), []);
        assert_eq!(strings(b"\"\\"), []);
        assert_eq!(strings(b""), []);
    }

    #[test]
    fn raw_bytes_and_escapes() {
        let line = b"{\"a\":\"\xff\xfe\x01\",\"b\":\"q\\\"uote\"}";
        let (got, r) = walk(line);
        assert_eq!(r, Ok(()));
        assert_eq!((got[0].2, got[0].3), (6, false));
        assert_eq!((got[1].1.as_str(), got[1].3), ("q\\\"uote", true));
    }

    #[test]
    fn unescape_cases() {
        let ok: &[(&[u8], &[u8])] = &[
            (b"plain", b"plain"),
            (br#"a\"b\\c\/d"#, b"a\"b\\c/d"),
            (br"\b\f\n\r\t", b"\x08\x0c\n\r\t"),
            (br"\u0041\u00e9\u20AC", "Aé€".as_bytes()),
            (br"\ud83d\ude00!", "😀!".as_bytes()),
            (br"\u0000", b"\0"),
            (b"\xff\\n", b"\xff\n"),
        ];
        for &(raw, want) in ok {
            let mut out = b"pre:".to_vec();
            assert!(unescape(raw, &mut out), "{raw:?}");
            assert_eq!(&out[4..], want, "{raw:?}");
        }
        let bad: &[&[u8]] = &[
            br"\",
            br"\x41",
            br"\u12",
            br"\u12g4",
            br"\ud83d",
            br"\ud83dx",
            br"\ud83d\u0041",
            br"\ude00",
            br"\ud83d\n",
        ];
        for &raw in bad {
            assert!(!unescape(raw, &mut Vec::new()), "{raw:?}");
        }
    }

    #[test]
    fn strings_report_dotted_paths_and_offsets() {
        let line =
            br#"{"dns":{"rrname":"evil.example","answers":[{"rdata":"203.0.113.7"}]},"ttl":60}"#;
        let mut path = Vec::new();
        let mut got = Vec::new();
        let r = strings(line, &mut path, |v| {
            got.push((String::from_utf8_lossy(v.field).into_owned(), v.start))
        });
        assert_eq!(r, Ok(()));
        assert_eq!(
            got,
            [
                ("dns.rrname".to_string(), 18),
                ("dns.answers.rdata".to_string(), 53)
            ]
        );
    }

    #[test]
    fn quoted_strings_on_broken_line_drop_unterminated_last() {
        let mut got = Vec::new();
        quoted_strings(br#"{"a":[[{"u":"x\/y"}]] "cut"#, |v| {
            got.push((
                String::from_utf8_lossy(v.raw).into_owned(),
                v.start,
                v.escaped,
            ))
        });
        assert_eq!(
            got,
            [
                ("a".to_string(), 2, false),
                ("u".into(), 9, false),
                (r"x\/y".into(), 13, true)
            ]
        );
    }

    #[test]
    fn unescape_solidus_unicode_and_surrogate_pair() {
        let mut out = Vec::new();
        assert!(unescape(
            br"http:\/\/x.example\/\u0041\ud83d\ude00",
            &mut out
        ));
        assert_eq!(out, "http://x.example/A😀".as_bytes());
    }
}
