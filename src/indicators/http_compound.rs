//! Compound HTTP-request indicators — MS-ISAC's "unique HTTP requests": several conditions on
//! one request (method, request target, version, header values), all of which must hold for
//! one request, from a STIX pattern that ANDs comparisons of one
//! `network-traffic:extensions.'http-request-ext'`.
//!
//! A compound is an HTTP-request indicator whose value is its canonical text, the pattern's
//! comparisons sorted, header names in lower case:
//!
//! ```text
//! [http-request-ext:request_method = 'POST' AND request_value = '/gate.php' AND request_header.'user-agent' = 'EvilBot/1.0']
//! ```
//!
//! (quotes and backslashes in literals escaped with a backslash, as STIX writes them). Such a
//! record sits in the set's HTTP-literal list like any other; where the automaton is built
//! ([`crate::indicators::read`]), its longest literal stands for it (every literal of a request
//! that meets the conditions occurs in its head), and each occurrence has the whole request
//! checked against every condition ([`Compound::holds`]). Only request heads are checked
//! (the packet lane's `match_http`), never log lines.
//!
//! Conditions are equalities: the method as sent (case-sensitive), the request target as sent,
//! the version as sent in upper case (STIX writes `http/1.1`; `HTTP` is case-sensitive on the
//! wire), and a header that is
//! present with exactly that value (names without regard to case; any of several lines with
//! the name may match; values trimmed of spaces and tabs as HTTP does).

use std::fmt::Write as _;

/// How the text of every compound starts.
pub const PREFIX: &str = "[http-request-ext:";

/// What one condition tests.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// `request_method`.
    Method,
    /// `request_value`: the request target.
    Value,
    /// `request_version`.
    Version,
    /// `request_header.'name'` (the name in lower case).
    Header(String),
}

/// One condition: the target equals the literal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Condition {
    /// What is tested.
    pub target: Target,
    /// The value it must equal.
    pub literal: String,
}

/// Conditions that must all hold for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compound {
    /// Sorted, without duplicates, never empty.
    pub conditions: Vec<Condition>,
}

impl Compound {
    /// The compound of these conditions (sorted, duplicates removed), or `None` when there are
    /// none or a literal is empty.
    pub fn new(mut conditions: Vec<Condition>) -> Option<Compound> {
        for c in &mut conditions {
            if let Target::Header(n) = &mut c.target {
                n.make_ascii_lowercase();
            }
        }
        conditions.sort();
        conditions.dedup();
        let ok = !conditions.is_empty() && conditions.iter().all(|c| !c.literal.is_empty());
        ok.then_some(Compound { conditions })
    }

    /// The canonical text (see the module docs).
    pub fn text(&self) -> String {
        let mut s = String::from(PREFIX);
        for (i, c) in self.conditions.iter().enumerate() {
            if i > 0 {
                s.push_str(" AND ");
            }
            match &c.target {
                Target::Method => s.push_str("request_method"),
                Target::Value => s.push_str("request_value"),
                Target::Version => s.push_str("request_version"),
                Target::Header(n) => {
                    s.push_str("request_header.");
                    quote(&mut s, n);
                }
            }
            s.push_str(" = ");
            quote(&mut s, &c.literal);
        }
        s.push(']');
        s
    }

    /// Reads the canonical text back; `None` for anything else.
    pub fn parse(text: &str) -> Option<Compound> {
        let mut rest = text.strip_prefix(PREFIX)?.strip_suffix(']')?;
        let mut conditions = Vec::new();
        loop {
            let target = if let Some(r) = rest.strip_prefix("request_method") {
                rest = r;
                Target::Method
            } else if let Some(r) = rest.strip_prefix("request_value") {
                rest = r;
                Target::Value
            } else if let Some(r) = rest.strip_prefix("request_version") {
                rest = r;
                Target::Version
            } else {
                let (name, r) = unquote(rest.strip_prefix("request_header.")?)?;
                rest = r;
                Target::Header(name)
            };
            let (literal, r) = unquote(rest.strip_prefix(" = ")?)?;
            conditions.push(Condition { target, literal });
            match r.strip_prefix(" AND ") {
                Some(r) => rest = r,
                None if r.is_empty() => break,
                None => return None,
            }
        }
        let c = Compound::new(conditions)?;
        (c.text() == text).then_some(c)
    }

    /// The text the automaton searches for this compound: its longest literal (the rarest,
    /// most likely) as it occurs in every head that meets it — a version in upper case, as
    /// HTTP sends it (`HTTP` is case-sensitive on the wire, RFC 9112 §2.3; STIX writes
    /// `http/1.1`).
    pub fn anchor(&self) -> String {
        let c = self
            .conditions
            .iter()
            .max_by_key(|c| c.literal.len())
            .expect("a compound has conditions");
        match c.target {
            Target::Version => c.literal.to_ascii_uppercase(),
            _ => c.literal.clone(),
        }
    }

    /// Whether the request whose head is `head` meets every condition.
    pub fn holds(&self, head: &Head<'_>) -> bool {
        self.conditions.iter().all(|c| {
            let lit = c.literal.as_bytes();
            match &c.target {
                Target::Method => head.method == lit,
                Target::Value => head.target == lit,
                Target::Version => head.version == c.literal.to_ascii_uppercase().as_bytes(),
                Target::Header(name) => head
                    .headers()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name.as_bytes()) && v == lit),
            }
        })
    }
}

fn quote(s: &mut String, v: &str) {
    s.push('\'');
    for ch in v.chars() {
        if ch == '\'' || ch == '\\' {
            s.push('\\');
        }
        let _ = s.write_char(ch);
    }
    s.push('\'');
}

/// The quoted literal at the start of `s` and what follows it.
fn unquote(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('\'')?.char_indices();
    let mut out = String::new();
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\\' => out.push(chars.next()?.1),
            '\'' => return Some((out, &s[1 + i + 1..])),
            _ => out.push(ch),
        }
    }
    None
}

/// A request head as the conditions read it: the request line's parts and the header lines.
#[derive(Clone, Copy, Debug)]
pub struct Head<'a> {
    /// Up to the first space.
    pub method: &'a [u8],
    /// Between the first and the last space, spaces trimmed.
    pub target: &'a [u8],
    /// After the last space.
    pub version: &'a [u8],
    /// The header lines (after the request line, up to an empty line).
    fields: &'a [u8],
}

impl<'a> Head<'a> {
    /// The head at the start of `bytes` (request line, header lines; CRLF or LF), or `None`
    /// when its first line has no two spaces.
    pub fn parse(bytes: &'a [u8]) -> Option<Head<'a>> {
        let nl = bytes
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(bytes.len());
        let line = bytes[..nl].strip_suffix(b"\r").unwrap_or(&bytes[..nl]);
        let first = line.iter().position(|&b| b == b' ')?;
        let last = line.iter().rposition(|&b| b == b' ')?;
        if last <= first {
            return None;
        }
        Some(Head {
            method: &line[..first],
            target: trim(&line[first + 1..last]),
            version: &line[last + 1..],
            fields: bytes.get(nl + 1..).unwrap_or_default(),
        })
    }

    /// Each header line's name and value (trimmed), up to an empty line; folded
    /// continuations and lines without a colon skipped.
    pub fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> {
        self.fields
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .take_while(|l| !l.is_empty())
            .filter(|l| !matches!(l[0], b' ' | b'\t'))
            .filter_map(|l| {
                let colon = l.iter().position(|&b| b == b':')?;
                Some((trim(&l[..colon]), trim(&l[colon + 1..])))
            })
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(target: Target, literal: &str) -> Condition {
        Condition {
            target,
            literal: literal.into(),
        }
    }

    #[test]
    fn text_is_canonical_and_reads_back() {
        let a = Compound::new(vec![
            c(Target::Header("User-Agent".into()), "Evil 'Bot'\\1"),
            c(Target::Method, "POST"),
            c(Target::Value, "/gate.php"),
            c(Target::Method, "POST"),
        ])
        .unwrap();
        let text = a.text();
        assert_eq!(
            text,
            "[http-request-ext:request_method = 'POST' AND request_value = '/gate.php' AND \
             request_header.'user-agent' = 'Evil \\'Bot\\'\\\\1']"
        );
        assert_eq!(Compound::parse(&text), Some(a.clone()));
        assert_eq!(a.anchor(), "Evil 'Bot'\\1");
        let v = Compound::new(vec![
            c(Target::Version, "http/1.1"),
            c(Target::Method, "GET"),
        ]);
        assert_eq!(v.unwrap().anchor(), "HTTP/1.1");
        // Not canonical, not a compound.
        for t in [
            "[http-request-ext:request_value = '/a' AND request_method = 'GET']",
            "[http-request-ext:request_method = 'GET' AND ]",
            "[http-request-ext:request_method = ''",
            "/gate.php",
        ] {
            assert_eq!(Compound::parse(t), None, "{t}");
        }
        assert_eq!(Compound::new(vec![]), None);
        assert_eq!(Compound::new(vec![c(Target::Method, "")]), None);
    }

    #[test]
    fn conditions_hold_on_one_request() {
        let head = b"POST  /gate.php  HTTP/1.1\r\nHost: a.example\r\nUser-Agent:  EvilBot/1.0 \r\n\
                     X-Folded: a\r\n b\r\nuser-agent: Other\r\n\r\nUser-Agent: late\r\n";
        let h = Head::parse(head).unwrap();
        assert_eq!(h.target, b"/gate.php");
        let holds = |conds: Vec<Condition>| Compound::new(conds).unwrap().holds(&h);
        assert!(holds(vec![
            c(Target::Method, "POST"),
            c(Target::Value, "/gate.php"),
            c(Target::Version, "http/1.1"),
            c(Target::Header("USER-AGENT".into()), "EvilBot/1.0"),
            c(Target::Header("user-agent".into()), "Other"),
            c(Target::Header("host".into()), "a.example"),
        ]));
        assert!(!holds(vec![c(Target::Method, "post")]));
        assert!(!holds(vec![c(Target::Value, "/gate")]));
        assert!(!holds(vec![c(Target::Header("user-agent".into()), "late")]));
        assert!(!holds(vec![c(Target::Header("x-folded".into()), "a b")]));
        assert!(!holds(vec![
            c(Target::Method, "POST"),
            c(Target::Header("host".into()), "b.example"),
        ]));
        assert!(Head::parse(b"GET\r\n").is_none());
    }
}
