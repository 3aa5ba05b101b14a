//! The addresses of a mail header field that holds an RFC 5322 address list (`From`, `To`,
//! `Cc`, `Reply-To`, `Sender`, `Return-Path`), its value unfolded.
//!
//! * [`addresses`] reports each addr-spec: the contents of an angle address (`Name <a@b>`,
//!   a source route `<@r1,@r2:a@b>` reduced to the mailbox), or a bare addr-spec (`a@b`).
//! * Display names (atoms, quoted strings, RFC 2047 encoded words) are skipped; they are not
//!   decoded, since only the address is matched. Comments (`(…)`, nested, with escapes) and
//!   white space are dropped, inside an address too (obsolete `a . b @ c`).
//! * Groups: `name: a@b, c@d;` gives the members; `undisclosed-recipients:;` gives nothing.
//! * Lenient, like mail readers: a missing `>` or `"` runs to the end of the value.
//! * A mailbox that holds no `@` (a display name split by an unquoted comma, a local name) is
//!   not an addr-spec: counted as [`E_NOT_ADDRESS`], not reported.
//! * Addresses are the bytes as sent (quoted local parts keep their quotes); the caller's
//!   normalisation validates them.

/// One mailbox of a list: its addr-spec, or why it has none.
pub type Mailbox<'a> = Result<&'a [u8], &'static str>;

/// Reason: a mailbox of an address header with no addr-spec in it.
pub const E_NOT_ADDRESS: &str = "mail: header mailbox without an address";

/// The end (index after the closing byte) of a comment, quoted string or angle address
/// opened at `s[0]`, skipping escapes, nested comments and quoted strings within.
fn closing(s: &[u8]) -> usize {
    let (mut depth, mut quoted, mut i) = (0u32, false, 0);
    let open = s[0];
    while i < s.len() {
        let b = s[i];
        match b {
            b'\\' => i += 1,
            b'"' if open != b'(' => {
                quoted = !quoted;
                if open == b'"' && !quoted {
                    return i + 1;
                }
            }
            b'(' if !quoted => depth += 1,
            b')' if !quoted => {
                depth = depth.saturating_sub(1);
                if open == b'(' && depth == 0 {
                    return i + 1;
                }
            }
            b'>' if open == b'<' && !quoted && depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// The contents of an angle address with white space and comments removed and the source
/// route dropped, into `out`.
fn angle_contents(inner: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'(' => {
                i += closing(&inner[i..]);
                continue;
            }
            b'"' => {
                let end = i + closing(&inner[i..]);
                out.extend_from_slice(&inner[i..end]);
                i = end;
                continue;
            }
            b'[' => {
                // A domain literal: kept whole.
                let end = inner[i..]
                    .iter()
                    .position(|&b| b == b']')
                    .map_or(inner.len(), |e| i + e + 1);
                out.extend_from_slice(&inner[i..end]);
                i = end;
                continue;
            }
            // `@r1,@r2:` route: everything before the colon goes.
            b':' if out.first() == Some(&b'@') => out.clear(),
            b if b.is_ascii_whitespace() => {}
            b => out.push(b),
        }
        i += 1;
    }
}

/// Reports each addr-spec of the address list `value` to `out` as `Ok`, and each mailbox
/// without one as `Err` (see the module docs); `scratch` is room to join an address in.
pub fn addresses(value: &[u8], scratch: &mut Vec<u8>, out: &mut dyn FnMut(Mailbox<'_>)) {
    // The bare words of the current mailbox, joined without the white space between them.
    scratch.clear();
    // White space (or a comment) after the last word; two words apart make a display name.
    let (mut gap, mut phrase, mut angled) = (false, false, false);
    let end_mailbox = |scratch: &mut Vec<u8>,
                       phrase: &mut bool,
                       angled: &mut bool,
                       out: &mut dyn FnMut(Mailbox<'_>)| {
        if !*angled && !scratch.is_empty() {
            if *phrase || !scratch.contains(&b'@') {
                out(Err(E_NOT_ADDRESS));
            } else {
                out(Ok(scratch));
            }
        }
        scratch.clear();
        *phrase = false;
        *angled = false;
    };
    let mut i = 0;
    while i < value.len() {
        let b = value[i];
        match b {
            b'(' => {
                gap = true;
                i += closing(&value[i..]);
                continue;
            }
            b'<' => {
                let end = i + closing(&value[i..]);
                let inner = &value[i + 1..end];
                let inner = inner.strip_suffix(b">").unwrap_or(inner);
                let mut addr = std::mem::take(scratch);
                angle_contents(inner, &mut addr);
                if addr.contains(&b'@') {
                    out(Ok(&addr));
                } else if !addr.is_empty() {
                    out(Err(E_NOT_ADDRESS));
                }
                *scratch = addr;
                scratch.clear();
                angled = true;
                gap = false;
                i = end;
                continue;
            }
            b',' | b';' => end_mailbox(scratch, &mut phrase, &mut angled, out),
            // A group's display name ends: its members follow.
            b':' if !angled => {
                scratch.clear();
                phrase = false;
            }
            b if b.is_ascii_whitespace() => {
                gap = true;
                i += 1;
                continue;
            }
            _ => {
                let end = if b == b'"' {
                    i + closing(&value[i..])
                } else {
                    i + value[i..]
                        .iter()
                        .position(|&c| c.is_ascii_whitespace() || b"(<,;:\"".contains(&c))
                        .unwrap_or(value.len() - i)
                        .max(1)
                };
                let word = &value[i..end];
                let joins = |c: Option<&u8>| matches!(c, Some(b'.' | b'@'));
                if gap && !scratch.is_empty() && !joins(scratch.last()) && !joins(word.first()) {
                    phrase = true;
                }
                if !angled {
                    scratch.extend_from_slice(word);
                }
                gap = false;
                i = end;
                continue;
            }
        }
        gap = false;
        i += 1;
    }
    end_mailbox(scratch, &mut phrase, &mut angled, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &str) -> (Vec<String>, usize) {
        let (mut found, mut errors) = (Vec::new(), 0);
        addresses(v.as_bytes(), &mut Vec::new(), &mut |a| match a {
            Ok(a) => found.push(String::from_utf8_lossy(a).into_owned()),
            Err(_) => errors += 1,
        });
        (found, errors)
    }

    #[test]
    fn rfc5322_forms() {
        let cases: &[(&str, &[&str], usize)] = &[
            ("a@b.example", &["a@b.example"], 0),
            ("\"Q, Name\" <q@x.example>", &["q@x.example"], 0),
            (
                "Name (comment) <n@x.example> (trailing)",
                &["n@x.example"],
                0,
            ),
            ("jan@cern.ch (Jan Grashoefer)", &["jan@cern.ch"], 0),
            (
                "\"Test Group\":addr-spec@example.com, <angle-addr@example.com>,\t\"Test Member\" <name-addr@example.com>;, jan@cern.ch",
                &[
                    "addr-spec@example.com",
                    "angle-addr@example.com",
                    "name-addr@example.com",
                    "jan@cern.ch",
                ],
                0,
            ),
            ("undisclosed-recipients:;", &[], 0),
            (
                "=?utf-8?Q?J=C3=B6rg?= <j@x.example>, =?utf-8?B?w6k=?= <k@x.example>",
                &["j@x.example", "k@x.example"],
                0,
            ),
            (
                "<@r1.example,@r2.example:route@x.example>",
                &["route@x.example"],
                0,
            ),
            ("\"john doe\"@x.example", &["\"john doe\"@x.example"], 0),
            ("a . b @ x.example", &["a.b@x.example"], 0),
            ("< spaced @ x.example >", &["spaced@x.example"], 0),
            ("Smith, John <j@x.example>", &["j@x.example"], 1),
            ("John Smith", &[], 1),
            ("<unterminated@x.example", &["unterminated@x.example"], 0),
            ("<a@[192.0.2.1]>", &["a@[192.0.2.1]"], 0),
            ("", &[], 0),
            ("<>", &[], 0),
        ];
        for (v, want, errors) in cases {
            assert_eq!(
                list(v),
                (want.iter().map(|s| s.to_string()).collect(), *errors),
                "{v}"
            );
        }
    }
}
