//! STIX 2.1 patterning: a parser for the whole grammar, and a classifier for the exact-match
//! subset trawl compiles into set lookups.
//!
//! * [`parse`] — a hand-written recursive-descent parser for the STIX 2.1 pattern grammar
//!   (`oasis-open/cti-stix2-json-schemas:pattern_grammar/STIXPattern.g4`, 2.1 revision with
//!   `EXISTS`) into a [`Pattern`]: observation expressions ([`ObsExpr`]: `OR`, `AND`,
//!   `FOLLOWEDBY`, [`Qualifier`]s), comparison expressions ([`CompExpr`]) and property tests
//!   ([`PropTest`]: an [`ObjectPath`], an [`Op`] and [`Literal`]s). It never panics, runs in
//!   time linear in the input, and refuses nesting deeper than [`MAX_DEPTH`].
//! * [`classify`] — turns a parsed pattern into [`Class::Compiled`] (the union of keys it
//!   matches, as `(kind, raw literal)`) or [`Class::Unsupported`] with a reason naming the
//!   construct. It never widens: a pattern is compiled only when matching any of its keys is
//!   exactly what the pattern means (up to the deliberate deviations below).
//! * [`compile`] — [`parse`] then [`classify`].
//!
//! What compiles (STANDARDS.md §2): `path = 'lit'` (also `==`), `path IN ('a', 'b')`,
//! `ip-path ISSUBSET 'cidr'`, comparison-`OR` of those, observation-`OR` of single-observation
//! expressions of those, and a same-object comparison-`AND` of one key with type guards such as
//! `network-traffic:dst_ref.type = 'ipv4-addr'` (MISP exports). Everything else — `!=`, `NOT`,
//! ordering, `LIKE`, `MATCHES`, `EXISTS`, `ISSUPERSET`, any other `AND`, observation-level `AND`,
//! `FOLLOWEDBY`, qualifiers — is unsupported-inline.
//!
//! Deliberate deviations from the strict specification (documented, tested):
//! * `file:hashes` keys are matched without regard to case, `-` or `_`: `md5`, `SHA1`,
//!   `sha256`, `SHA256` and `'SHA-256'` all name the same algorithm. The spec's hash keys are
//!   case-sensitive, but real feeds (the OASIS apt1 example, MISP, Unit 42) write them loosely.
//! * `path = 'CIDR'` on an IP path means containment when `cidr_equals_contains` is true
//!   ([`DEFAULT_CIDR_EQUALS_CONTAINS`]); the spec compares the strings, which can never match a
//!   single observed address. With the flag off such a comparison is unsupported.

use std::collections::HashSet;
use std::fmt;

use crate::indicators::model::Kind;
use crate::indicators::normalize;

/// Deepest nesting of parentheses and brackets [`parse`] accepts; deeper input is an error
/// rather than a risk to the stack.
pub const MAX_DEPTH: usize = 64;

/// Default for `cidr_equals_contains`: `ipv4-addr:value = '10.0.0.0/8'` means "inside 10/8".
pub const DEFAULT_CIDR_EQUALS_CONTAINS: bool = true;

/// A parsed STIX pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The top-level observation expression.
    pub expr: ObsExpr,
}

/// An observation expression: what must be observed, across one or more observations.
#[derive(Clone, Debug, PartialEq)]
pub enum ObsExpr {
    /// `[ comparison ]`: one observation whose objects satisfy the comparison.
    Observation(CompExpr),
    /// `a AND b AND …`: every operand observed (possibly in different observations).
    And(Vec<ObsExpr>),
    /// `a OR b OR …`: any operand observed.
    Or(Vec<ObsExpr>),
    /// `a FOLLOWEDBY b …`: operands observed in this order.
    FollowedBy(Vec<ObsExpr>),
    /// An expression with one or more qualifiers, in source order.
    Qualified {
        /// The qualified expression.
        expr: Box<ObsExpr>,
        /// The qualifiers, first one closest to the expression.
        qualifiers: Vec<Qualifier>,
    },
}

/// A temporal qualifier on an observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `START t'…' STOP t'…'` (the timestamp text, without the `t'…'` quoting).
    StartStop {
        /// Start of the window.
        start: String,
        /// End of the window.
        stop: String,
    },
    /// `WITHIN n SECONDS`.
    Within(f64),
    /// `REPEATS n TIMES`.
    Repeats(u64),
}

impl Qualifier {
    /// The qualifier's keyword, for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Qualifier::StartStop { .. } => "START/STOP",
            Qualifier::Within(_) => "WITHIN",
            Qualifier::Repeats(_) => "REPEATS",
        }
    }
}

/// A comparison expression: the test inside one `[ … ]`.
#[derive(Clone, Debug, PartialEq)]
pub enum CompExpr {
    /// `a AND b AND …`.
    And(Vec<CompExpr>),
    /// `a OR b OR …`.
    Or(Vec<CompExpr>),
    /// A single property test.
    Test(PropTest),
}

/// One property test: `path [NOT] op operand`, or `EXISTS path`.
#[derive(Clone, Debug, PartialEq)]
pub struct PropTest {
    /// The object path tested.
    pub path: ObjectPath,
    /// Whether the operator was preceded by `NOT`.
    pub negated: bool,
    /// The operator and its operand.
    pub op: Op,
}

/// A comparison operator with its operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `=` or `==`.
    Eq(Literal),
    /// `!=` or `<>`.
    Ne(Literal),
    /// `<`.
    Lt(Literal),
    /// `<=`.
    Le(Literal),
    /// `>`.
    Gt(Literal),
    /// `>=`.
    Ge(Literal),
    /// `IN (…)`.
    In(Vec<Literal>),
    /// `LIKE 'pattern'`.
    Like(String),
    /// `MATCHES 'regex'`.
    Matches(String),
    /// `ISSUBSET 'cidr'`.
    IsSubset(String),
    /// `ISSUPERSET 'cidr'`.
    IsSuperset(String),
    /// `EXISTS path`.
    Exists,
}

impl Op {
    /// The operator as written (canonical spelling), for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Eq(_) => "=",
            Op::Ne(_) => "!=",
            Op::Lt(_) => "<",
            Op::Le(_) => "<=",
            Op::Gt(_) => ">",
            Op::Ge(_) => ">=",
            Op::In(_) => "IN",
            Op::Like(_) => "LIKE",
            Op::Matches(_) => "MATCHES",
            Op::IsSubset(_) => "ISSUBSET",
            Op::IsSuperset(_) => "ISSUPERSET",
            Op::Exists => "EXISTS",
        }
    }
}

/// A literal operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `'text'`, with `\'` and `\\` unescaped.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `h'…'`: the hex digits.
    Hex(String),
    /// `b'…'`: the base64 text.
    Binary(String),
    /// `t'…'`: the timestamp text.
    Timestamp(String),
}

/// An object path: `type:first.key[0].'quoted-key'[*]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPath {
    /// The object type (`ipv4-addr`, `file`, …).
    pub object_type: String,
    /// The steps after the colon; the first is always a [`Step::Key`].
    pub steps: Vec<Step>,
}

/// One step of an object path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `.key` or `.'quoted key'` (the first component has no dot).
    Key(String),
    /// `[n]` (negative indices are allowed by the grammar).
    Index(i64),
    /// `[*]`.
    AnyIndex,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_plain_identifier(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && keyword(s).is_none()
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("'")
}

/// Why a pattern does not parse: where (1-based character column) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for PatternError {}

fn err<T>(index: usize, message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError {
        column: index + 1,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Kw(Kw),
    Bool(bool),
    Ident { name: String, hyphen: bool },
    Str(String),
    Int { value: i64, neg: bool },
    Float { value: f64, neg: bool },
    Hex(String),
    Bin(String),
    Ts(String),
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
    FollowedBy,
    Like,
    Matches,
    IsSuperset,
    IsSubset,
    Exists,
    Last,
    In,
    Start,
    Stop,
    Seconds,
    Within,
    Repeats,
    Times,
}

/// Keywords are case-sensitive (upper case), as in the 2.1 grammar.
fn keyword(word: &str) -> Option<Kw> {
    Some(match word {
        "AND" => Kw::And,
        "OR" => Kw::Or,
        "NOT" => Kw::Not,
        "FOLLOWEDBY" => Kw::FollowedBy,
        "LIKE" => Kw::Like,
        "MATCHES" => Kw::Matches,
        "ISSUPERSET" => Kw::IsSuperset,
        "ISSUBSET" => Kw::IsSubset,
        "EXISTS" => Kw::Exists,
        "LAST" => Kw::Last,
        "IN" => Kw::In,
        "START" => Kw::Start,
        "STOP" => Kw::Stop,
        "SECONDS" => Kw::Seconds,
        "WITHIN" => Kw::Within,
        "REPEATS" => Kw::Repeats,
        "TIMES" => Kw::Times,
        _ => return None,
    })
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LBrack => "'['".into(),
        Tok::RBrack => "']'".into(),
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Colon => "':'".into(),
        Tok::Dot => "'.'".into(),
        Tok::Comma => "','".into(),
        Tok::Star => "'*'".into(),
        Tok::Eq => "'='".into(),
        Tok::Ne => "'!='".into(),
        Tok::Lt => "'<'".into(),
        Tok::Le => "'<='".into(),
        Tok::Gt => "'>'".into(),
        Tok::Ge => "'>='".into(),
        Tok::Kw(k) => format!("keyword {}", format!("{k:?}").to_uppercase()),
        Tok::Bool(b) => format!("'{b}'"),
        Tok::Ident { name, .. } => format!("identifier '{name}'"),
        Tok::Str(_) => "a string literal".into(),
        Tok::Int { .. } => "an integer".into(),
        Tok::Float { .. } => "a number".into(),
        Tok::Hex(_) => "a hex literal".into(),
        Tok::Bin(_) => "a binary literal".into(),
        Tok::Ts(_) => "a timestamp literal".into(),
        Tok::Eof => "the end of the pattern".into(),
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, PatternError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('*') {
            let mut j = i + 2;
            loop {
                match chars.get(j) {
                    None => return err(start, "unterminated comment"),
                    Some('*') if chars.get(j + 1) == Some(&'/') => break,
                    Some(_) => j += 1,
                }
            }
            i = j + 2;
            continue;
        }
        if c == '/' && next == Some('/') {
            while chars.get(i).is_some_and(|&c| c != '\n' && c != '\r') {
                i += 1;
            }
            continue;
        }
        let tok = match c {
            '[' => single(&mut i, Tok::LBrack),
            ']' => single(&mut i, Tok::RBrack),
            '(' => single(&mut i, Tok::LParen),
            ')' => single(&mut i, Tok::RParen),
            ':' => single(&mut i, Tok::Colon),
            ',' => single(&mut i, Tok::Comma),
            '*' => single(&mut i, Tok::Star),
            '=' => {
                i += if next == Some('=') { 2 } else { 1 };
                Tok::Eq
            }
            '!' if next == Some('=') => {
                i += 2;
                Tok::Ne
            }
            '<' => match next {
                Some('=') => double(&mut i, Tok::Le),
                Some('>') => double(&mut i, Tok::Ne),
                _ => single(&mut i, Tok::Lt),
            },
            '>' => match next {
                Some('=') => double(&mut i, Tok::Ge),
                _ => single(&mut i, Tok::Gt),
            },
            '\'' => {
                let (s, end) = lex_string(&chars, i)?;
                i = end;
                Tok::Str(s)
            }
            'h' | 'b' | 't' if next == Some('\'') => {
                let body_start = i + 2;
                let Some(len) = chars[body_start..].iter().position(|&c| c == '\'') else {
                    return err(start, "unterminated literal");
                };
                let body: String = chars[body_start..body_start + len].iter().collect();
                i = body_start + len + 1;
                match c {
                    'h' if valid_hex(&body) => Tok::Hex(body),
                    'h' => return err(start, format!("invalid hex literal h'{body}'")),
                    'b' if valid_base64(&body) => Tok::Bin(body),
                    'b' => return err(start, format!("invalid binary (base64) literal b'{body}'")),
                    _ if valid_timestamp(&body) => Tok::Ts(body),
                    _ => return err(start, format!("invalid timestamp literal t'{body}'")),
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                let mut hyphen = false;
                while let Some(&d) = chars.get(j) {
                    if d == '-' {
                        hyphen = true;
                    } else if !(d.is_ascii_alphanumeric() || d == '_') {
                        break;
                    }
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                i = j;
                match (hyphen, word.as_str()) {
                    (false, "true") => Tok::Bool(true),
                    (false, "false") => Tok::Bool(false),
                    (false, w) => match keyword(w) {
                        Some(k) => Tok::Kw(k),
                        None => Tok::Ident {
                            name: word,
                            hyphen: false,
                        },
                    },
                    (true, _) => Tok::Ident { name: word, hyphen },
                }
            }
            '.' if !next.is_some_and(|d| d.is_ascii_digit()) => single(&mut i, Tok::Dot),
            c if c.is_ascii_digit() || matches!(c, '+' | '-' | '.') => {
                let (tok, end) = lex_number(&chars, i)?;
                i = end;
                tok
            }
            c => return err(start, format!("unexpected character {c:?}")),
        };
        out.push((tok, start));
    }
    out.push((Tok::Eof, chars.len()));
    Ok(out)
}

fn single(i: &mut usize, tok: Tok) -> Tok {
    *i += 1;
    tok
}

fn double(i: &mut usize, tok: Tok) -> Tok {
    *i += 2;
    tok
}

/// A quoted string starting at `chars[start] == '\''`; only `\'` and `\\` escapes exist.
fn lex_string(chars: &[char], start: usize) -> Result<(String, usize), PatternError> {
    let mut s = String::new();
    let mut j = start + 1;
    loop {
        match chars.get(j) {
            None => return err(start, "unterminated string literal"),
            Some('\'') => return Ok((s, j + 1)),
            Some('\\') => match chars.get(j + 1) {
                Some(&e @ ('\'' | '\\')) => {
                    s.push(e);
                    j += 2;
                }
                Some(e) => {
                    return err(j, format!("invalid escape \\{e} (only \\' and \\\\)"));
                }
                None => return err(start, "unterminated string literal"),
            },
            Some(&c) => {
                s.push(c);
                j += 1;
            }
        }
    }
}

fn lex_number(chars: &[char], start: usize) -> Result<(Tok, usize), PatternError> {
    let digit = |j: usize| chars.get(j).is_some_and(|c| c.is_ascii_digit());
    let neg = chars.get(start) == Some(&'-');
    let mut j = start;
    if matches!(chars.get(j), Some('+' | '-')) {
        j += 1;
    }
    let int_start = j;
    while digit(j) {
        j += 1;
    }
    let int_digits: String = chars[int_start..j].iter().collect();
    if chars.get(j) == Some(&'.') && digit(j + 1) {
        j += 1;
        let frac_start = j;
        while digit(j) {
            j += 1;
        }
        let frac: String = chars[frac_start..j].iter().collect();
        let int_part = if int_digits.is_empty() {
            "0"
        } else {
            &int_digits
        };
        let text = format!("{}{int_part}.{frac}", if neg { "-" } else { "" });
        return match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok((Tok::Float { value, neg }, j)),
            _ => err(start, "number out of range"),
        };
    }
    if int_digits.is_empty() {
        return err(start, "expected a number");
    }
    if int_digits.len() > 1 && int_digits.starts_with('0') {
        return err(start, "invalid number (leading zero)");
    }
    let text = format!("{}{int_digits}", if neg { "-" } else { "" });
    match text.parse::<i64>() {
        Ok(value) => Ok((Tok::Int { value, neg }, j)),
        Err(_) => err(start, "integer out of range"),
    }
}

fn valid_hex(s: &str) -> bool {
    s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Base64 per the grammar: whole groups of four, the last one optionally padded.
fn valid_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` with the grammar's field ranges (no calendar check).
fn valid_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        part.iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    let sep = |i: usize, c: u8| b.get(i) == Some(&c);
    let fields = (|| {
        let _year = num(0..4)?;
        let month = num(5..7)?;
        let day = num(8..10)?;
        let hour = num(11..13)?;
        let minute = num(14..16)?;
        let second = num(17..19)?;
        Some((month, day, hour, minute, second))
    })();
    let Some((month, day, hour, minute, second)) = fields else {
        return false;
    };
    if !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':')) {
        return false;
    }
    if !((1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour <= 23
        && minute <= 59
        && second <= 60)
    {
        return false;
    }
    let rest = &b[19..];
    match rest {
        [b'Z'] => true,
        [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Parser

/// Parses a STIX 2.1 pattern. Errors name the 1-based column and what was expected.
///
/// ```
/// use trawl::feeds::readers::pattern::{parse, ObsExpr};
/// let p = parse("[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'evil.example']")
///     .unwrap();
/// assert!(matches!(p.expr, ObsExpr::Or(ref v) if v.len() == 2));
/// assert!(parse("[file:size = ]").is_err());
/// ```
pub fn parse(src: &str) -> Result<Pattern, PatternError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let expr = p.obs_followed()?;
    if p.peek() != &Tok::Eof {
        return p.fail(format!(
            "unexpected {} after the pattern",
            describe(p.peek())
        ));
    }
    Ok(Pattern { expr })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        // The token list always ends with Eof and `pos` never passes it.
        self.toks.get(self.pos).map_or(&Tok::Eof, |(t, _)| t)
    }

    fn col(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(0, |&(_, c)| c)
    }

    fn bump(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        tok
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, PatternError> {
        err(self.col(), message)
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), PatternError> {
        if self.peek() == &want {
            self.bump();
            Ok(())
        } else {
            self.fail(format!("expected {what}, found {}", describe(self.peek())))
        }
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn obs_followed(&mut self) -> Result<ObsExpr, PatternError> {
        let mut items = vec![self.obs_or()?];
        while self.peek() == &Tok::Kw(Kw::FollowedBy) {
            self.bump();
            items.push(self.obs_or()?);
        }
        Ok(collapse(items, ObsExpr::FollowedBy))
    }

    fn obs_or(&mut self) -> Result<ObsExpr, PatternError> {
        let mut items = vec![self.obs_and()?];
        while self.peek() == &Tok::Kw(Kw::Or) {
            self.bump();
            items.push(self.obs_and()?);
        }
        Ok(collapse(items, ObsExpr::Or))
    }

    fn obs_and(&mut self) -> Result<ObsExpr, PatternError> {
        let mut items = vec![self.obs_qualified()?];
        while self.peek() == &Tok::Kw(Kw::And) {
            self.bump();
            items.push(self.obs_qualified()?);
        }
        Ok(collapse(items, ObsExpr::And))
    }

    fn obs_qualified(&mut self) -> Result<ObsExpr, PatternError> {
        let (expr, bracketed) = self.obs_primary()?;
        let mut qualifiers: Vec<Qualifier> = Vec::new();
        loop {
            let col = self.col();
            let q = match self.peek() {
                Tok::Kw(Kw::Start) => {
                    self.bump();
                    let start = self.qualifier_time()?;
                    self.expect(Tok::Kw(Kw::Stop), "STOP")?;
                    let stop = self.qualifier_time()?;
                    Qualifier::StartStop { start, stop }
                }
                Tok::Kw(Kw::Within) => {
                    self.bump();
                    let secs = match self.bump() {
                        Tok::Int { value, neg: false } => value as f64,
                        Tok::Float { value, neg: false } => value,
                        t => {
                            return err(
                                col,
                                format!(
                                    "expected a positive number after WITHIN, found {}",
                                    describe(&t)
                                ),
                            );
                        }
                    };
                    self.expect(Tok::Kw(Kw::Seconds), "SECONDS")?;
                    Qualifier::Within(secs)
                }
                Tok::Kw(Kw::Repeats) => {
                    self.bump();
                    let n = match self.bump() {
                        Tok::Int { value, neg: false } => value.unsigned_abs(),
                        t => {
                            return err(
                                col,
                                format!(
                                    "expected a positive integer after REPEATS, found {}",
                                    describe(&t)
                                ),
                            );
                        }
                    };
                    self.expect(Tok::Kw(Kw::Times), "TIMES")?;
                    Qualifier::Repeats(n)
                }
                _ => break,
            };
            // Like the OASIS validator: a bracketed observation takes each qualifier once.
            if bracketed
                && qualifiers
                    .iter()
                    .any(|p| std::mem::discriminant(p) == std::mem::discriminant(&q))
            {
                return err(col, format!("duplicate {} qualifier", q.name()));
            }
            qualifiers.push(q);
        }
        if qualifiers.is_empty() {
            Ok(expr)
        } else {
            Ok(ObsExpr::Qualified {
                expr: Box::new(expr),
                qualifiers,
            })
        }
    }

    /// A START/STOP operand: `t'…'` (2.1) or a plain string (2.0 and stix2-matcher tests).
    fn qualifier_time(&mut self) -> Result<String, PatternError> {
        match self.peek().clone() {
            Tok::Ts(s) | Tok::Str(s) => {
                self.bump();
                Ok(s)
            }
            t => self.fail(format!("expected a timestamp, found {}", describe(&t))),
        }
    }

    fn obs_primary(&mut self) -> Result<(ObsExpr, bool), PatternError> {
        match self.peek() {
            Tok::LBrack => {
                self.bump();
                self.enter()?;
                let c = self.comp_or()?;
                self.expect(Tok::RBrack, "']'")?;
                self.leave();
                Ok((ObsExpr::Observation(c), true))
            }
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let e = self.obs_followed()?;
                self.expect(Tok::RParen, "')'")?;
                self.leave();
                Ok((e, false))
            }
            t => self.fail(format!(
                "expected '[' or '(' to start an observation expression, found {}",
                describe(t)
            )),
        }
    }

    fn comp_or(&mut self) -> Result<CompExpr, PatternError> {
        let mut items = vec![self.comp_and()?];
        while self.peek() == &Tok::Kw(Kw::Or) {
            self.bump();
            items.push(self.comp_and()?);
        }
        Ok(collapse(items, CompExpr::Or))
    }

    fn comp_and(&mut self) -> Result<CompExpr, PatternError> {
        let mut items = vec![self.prop_test()?];
        while self.peek() == &Tok::Kw(Kw::And) {
            self.bump();
            items.push(self.prop_test()?);
        }
        Ok(collapse(items, CompExpr::And))
    }

    fn prop_test(&mut self) -> Result<CompExpr, PatternError> {
        match self.peek() {
            Tok::LParen => {
                self.bump();
                self.enter()?;
                let c = self.comp_or()?;
                self.expect(Tok::RParen, "')'")?;
                self.leave();
                return Ok(c);
            }
            Tok::Kw(Kw::Exists) => {
                self.bump();
                let path = self.object_path()?;
                return Ok(CompExpr::Test(PropTest {
                    path,
                    negated: false,
                    op: Op::Exists,
                }));
            }
            _ => {}
        }
        let path = self.object_path()?;
        let negated = if self.peek() == &Tok::Kw(Kw::Not) {
            self.bump();
            true
        } else {
            false
        };
        let col = self.col();
        let op = match self.bump() {
            Tok::Eq => Op::Eq(self.literal(true)?),
            Tok::Ne => Op::Ne(self.literal(true)?),
            Tok::Lt => Op::Lt(self.literal(false)?),
            Tok::Le => Op::Le(self.literal(false)?),
            Tok::Gt => Op::Gt(self.literal(false)?),
            Tok::Ge => Op::Ge(self.literal(false)?),
            Tok::Kw(Kw::In) => Op::In(self.set()?),
            Tok::Kw(Kw::Like) => Op::Like(self.string()?),
            Tok::Kw(Kw::Matches) => Op::Matches(self.string()?),
            Tok::Kw(Kw::IsSubset) => Op::IsSubset(self.string()?),
            Tok::Kw(Kw::IsSuperset) => Op::IsSuperset(self.string()?),
            t => {
                return err(
                    col,
                    format!("expected a comparison operator, found {}", describe(&t)),
                );
            }
        };
        Ok(CompExpr::Test(PropTest { path, negated, op }))
    }

    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.peek() {
            Tok::Ident { name, .. } => name.clone(),
            t => return self.fail(format!("expected an object type, found {}", describe(t))),
        };
        self.bump();
        self.expect(Tok::Colon, "':' after the object type")?;
        let mut steps = vec![Step::Key(self.path_key()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.bump();
                    steps.push(Step::Key(self.path_key()?));
                }
                Tok::LBrack => {
                    self.bump();
                    let step = match self.bump() {
                        Tok::Int { value, .. } => Step::Index(value),
                        Tok::Star => Step::AnyIndex,
                        t => {
                            return self
                                .fail(format!("expected an index or '*', found {}", describe(&t)));
                        }
                    };
                    self.expect(Tok::RBrack, "']' after the index")?;
                    steps.push(step);
                }
                _ => break,
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn path_key(&mut self) -> Result<String, PatternError> {
        match self.peek() {
            Tok::Ident {
                name,
                hyphen: false,
            }
            | Tok::Str(name) => {
                let name = name.clone();
                self.bump();
                Ok(name)
            }
            Tok::Ident { name, hyphen: true } => self.fail(format!(
                "property name '{name}' contains '-' and must be quoted"
            )),
            t => self.fail(format!("expected a property name, found {}", describe(t))),
        }
    }

    fn literal(&mut self, allow_bool: bool) -> Result<Literal, PatternError> {
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::Str(s),
            Tok::Int { value, .. } => Literal::Int(value),
            Tok::Float { value, .. } => Literal::Float(value),
            Tok::Bool(b) if allow_bool => Literal::Bool(b),
            Tok::Hex(s) => Literal::Hex(s),
            Tok::Bin(s) => Literal::Binary(s),
            Tok::Ts(s) => Literal::Timestamp(s),
            t => return self.fail(format!("expected a literal, found {}", describe(&t))),
        };
        self.bump();
        Ok(lit)
    }

    fn string(&mut self) -> Result<String, PatternError> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(s)
            }
            t => self.fail(format!("expected a string literal, found {}", describe(&t))),
        }
    }

    fn set(&mut self) -> Result<Vec<Literal>, PatternError> {
        self.expect(Tok::LParen, "'(' to start a set")?;
        let mut items = Vec::new();
        if self.peek() == &Tok::RParen {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.literal(true)?);
            match self.bump() {
                Tok::Comma => continue,
                Tok::RParen => return Ok(items),
                t => {
                    return self.fail(format!(
                        "expected ',' or ')' in a set, found {}",
                        describe(&t)
                    ));
                }
            }
        }
    }
}

/// One item stays itself; several become the list variant.
fn collapse<T>(mut items: Vec<T>, list: impl FnOnce(Vec<T>) -> T) -> T {
    if items.len() == 1 {
        if let Some(one) = items.pop() {
            return one;
        }
    }
    list(items)
}

// ---------------------------------------------------------------------------------------------
// Classifier

/// What trawl can do with a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// The pattern matches exactly when an observed value equals (or, for IP prefixes, lies
    /// inside) one of these keys: `(kind, raw literal)`, in pattern order, duplicates removed.
    /// The literal is not yet canonical; pass it to [`crate::indicators::normalize::value`].
    Compiled(Vec<(Kind, String)>),
    /// The pattern needs more than set lookups; the reason names the construct.
    Unsupported(String),
}

/// Parses and classifies a pattern. See [`classify`] for `cidr_equals_contains`.
pub fn compile(src: &str, cidr_equals_contains: bool) -> Result<Class, PatternError> {
    Ok(classify(&parse(src)?, cidr_equals_contains))
}

/// Classifies a parsed pattern into the keys it matches, or the reason it cannot be compiled.
///
/// `cidr_equals_contains` (default [`DEFAULT_CIDR_EQUALS_CONTAINS`]): read `= 'CIDR'` on an IP
/// path as containment. When false, such a comparison is unsupported (a host prefix such as
/// `/32` still compiles: it equals its address).
///
/// ```
/// use trawl::feeds::readers::pattern::{compile, Class};
/// use trawl::Kind;
/// let c = compile("[network-traffic:dst_ref.type = 'ipv4-addr' AND \
///                   network-traffic:dst_ref.value = '203.0.113.33/32']", true).unwrap();
/// assert_eq!(c, Class::Compiled(vec![(Kind::Ipv4, "203.0.113.33/32".into())]));
/// let c = compile("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] WITHIN 5 SECONDS", true)
///     .unwrap();
/// assert_eq!(c, Class::Unsupported("WITHIN qualifier".into()));
/// ```
pub fn classify(pattern: &Pattern, cidr_equals_contains: bool) -> Class {
    let mut keys = Vec::new();
    match obs_keys(&pattern.expr, cidr_equals_contains, &mut keys) {
        Ok(()) => {
            let mut seen = HashSet::with_capacity(keys.len());
            keys.retain(|k| seen.insert(k.clone()));
            Class::Compiled(keys)
        }
        Err(reason) => Class::Unsupported(reason),
    }
}

fn obs_keys(e: &ObsExpr, cidr: bool, out: &mut Vec<(Kind, String)>) -> Result<(), String> {
    match e {
        ObsExpr::Observation(c) => comparison_keys(c, cidr, out),
        ObsExpr::Or(items) => items.iter().try_for_each(|i| obs_keys(i, cidr, out)),
        ObsExpr::And(_) => Err("observation-level AND".into()),
        ObsExpr::FollowedBy(_) => Err("FOLLOWEDBY".into()),
        ObsExpr::Qualified { qualifiers, .. } => Err(format!(
            "{} qualifier",
            qualifiers.first().map_or("temporal", Qualifier::name)
        )),
    }
}

fn comparison_keys(c: &CompExpr, cidr: bool, out: &mut Vec<(Kind, String)>) -> Result<(), String> {
    first_unsupported_op(c)?;
    match term(c).0 {
        Term::Keys(keys) => keys.iter().try_for_each(|k| emit(k, cidr, out)),
        Term::Guard(g) => Err(format!("no indicator kind for object path {}", g.test.path)),
        Term::Other(reason) => Err(reason),
    }
}

/// Rejects operators that are never exact-set lookups, naming the first one found.
fn first_unsupported_op(c: &CompExpr) -> Result<(), String> {
    match c {
        CompExpr::And(items) | CompExpr::Or(items) => {
            items.iter().try_for_each(first_unsupported_op)
        }
        CompExpr::Test(t) => {
            if t.negated {
                return Err(format!("NOT {}", t.op.name()));
            }
            match &t.op {
                Op::Eq(_) | Op::In(_) | Op::IsSubset(_) => Ok(()),
                Op::Ne(_) => Err("'!=' comparison".into()),
                Op::Lt(_) | Op::Le(_) | Op::Gt(_) | Op::Ge(_) => {
                    Err(format!("ordering comparison '{}'", t.op.name()))
                }
                Op::Like(_) | Op::Matches(_) | Op::IsSuperset(_) => {
                    Err(format!("{} comparison", t.op.name()))
                }
                Op::Exists => Err("EXISTS test".into()),
            }
        }
    }
}

/// A key test with the kind a type guard fixed for it, if any.
struct KeyTest<'a> {
    test: &'a PropTest,
    pk: PathKind,
    guard: Option<Kind>,
}

/// A type guard (`network-traffic:dst_ref.type = 'ipv4-addr'`) and the kind it names.
struct Guard<'a> {
    test: &'a PropTest,
    side: Side,
    kind: Result<Kind, String>,
}

/// What a comparison (sub)expression amounts to. This is disjunctive normal form without
/// materialising it: an OR unions key lists; an AND keeps one key operand and applies type
/// guards to it; anything else cannot be a pure key set. Linear in the expression's size.
enum Term<'a> {
    /// Matches exactly when one of these keys does.
    Keys(Vec<KeyTest<'a>>),
    /// A type guard alone: says what an object is, never which one.
    Guard(Guard<'a>),
    /// Not a key set, and why.
    Other(String),
}

/// The single object type of every test in an expression, or `None` when they differ.
type ObjType<'a> = Option<&'a str>;

fn term(c: &CompExpr) -> (Term<'_>, ObjType<'_>) {
    match c {
        CompExpr::Test(t) => {
            let ty = Some(t.path.object_type.as_str());
            if let Some((side, name)) = guard(t) {
                let kind = guard_kind(name);
                return (
                    Term::Guard(Guard {
                        test: t,
                        side,
                        kind,
                    }),
                    ty,
                );
            }
            match path_kind(&t.path) {
                Ok(pk) => (
                    Term::Keys(vec![KeyTest {
                        test: t,
                        pk,
                        guard: None,
                    }]),
                    ty,
                ),
                Err(reason) => (Term::Other(reason), ty),
            }
        }
        CompExpr::Or(items) => {
            let mut keys = Vec::new();
            let mut failure: Option<String> = None;
            let mut ty: Option<ObjType<'_>> = None;
            for item in items {
                let (t, item_ty) = term(item);
                ty = Some(match ty {
                    None => item_ty,
                    Some(prev) if prev == item_ty => prev,
                    Some(_) => None,
                });
                // Every branch must be a key set; the first that is not names the reason.
                match (t, &failure) {
                    (_, Some(_)) => {}
                    (Term::Keys(k), None) => keys.extend(k),
                    (Term::Guard(g), None) => {
                        failure =
                            Some(format!("no indicator kind for object path {}", g.test.path));
                    }
                    (Term::Other(reason), None) => failure = Some(reason),
                }
            }
            let term = match failure {
                Some(reason) => Term::Other(reason),
                None => Term::Keys(keys),
            };
            (term, ty.flatten())
        }
        CompExpr::And(items) => {
            let terms: Vec<(Term<'_>, ObjType<'_>)> = items.iter().map(term).collect();
            let ty = terms.first().and_then(|(_, t)| *t);
            if ty.is_none() || terms.iter().any(|(_, t)| *t != ty) {
                return (
                    Term::Other("AND across different object types".into()),
                    None,
                );
            }
            (and_terms(terms.into_iter().map(|(t, _)| t)), ty)
        }
    }
}

/// Combines the operands of a same-object AND: one key operand plus type guards compiles.
fn and_terms<'a>(terms: impl Iterator<Item = Term<'a>>) -> Term<'a> {
    const RESIDUAL: &str = "AND with a residual condition";
    let mut keys: Option<Vec<KeyTest<'a>>> = None;
    let mut key_operands = 0;
    let mut guards: Vec<Guard<'a>> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for t in terms {
        match t {
            Term::Keys(k) => {
                key_operands += 1;
                keys = Some(k);
            }
            Term::Guard(g) => guards.push(g),
            Term::Other(reason) => others.push(reason),
        }
    }
    let Some(mut keys) = keys else {
        return match (others.into_iter().next(), guards.into_iter().next()) {
            (Some(reason), _) => Term::Other(reason),
            // Only guards: still a guard (the first stands for all of them).
            (None, Some(g)) => Term::Guard(g),
            (None, None) => Term::Other(RESIDUAL.into()),
        };
    };
    if key_operands > 1 || !others.is_empty() {
        return Term::Other(RESIDUAL.into());
    }
    // At most one kind per side; conflicting guards are a residual condition.
    let mut side_kind: [Option<Kind>; 2] = [None, None];
    for g in &guards {
        let kind = match &g.kind {
            Ok(k) => *k,
            Err(reason) => return Term::Other(reason.clone()),
        };
        let slot = &mut side_kind[g.side as usize];
        if slot.is_some_and(|prev| prev != kind) {
            return Term::Other(RESIDUAL.into());
        }
        *slot = Some(kind);
    }
    for key in &mut keys {
        for (i, kind) in side_kind.iter().enumerate() {
            let Some(kind) = *kind else { continue };
            match key.pk {
                PathKind::NetRef(side) if side as usize == i => {
                    if key.guard.is_some_and(|prev| prev != kind) {
                        return Term::Other(RESIDUAL.into());
                    }
                    key.guard = Some(kind);
                }
                _ => return Term::Other(RESIDUAL.into()),
            }
        }
    }
    Term::Keys(keys)
}

/// Which end of a `network-traffic` object a reference path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Src = 0,
    Dst = 1,
}

/// What kind of key an object path holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PathKind {
    /// Always this kind.
    Fixed(Kind),
    /// `network-traffic:{src,dst}_ref.value`: an IP address or a domain name, by the literal
    /// (or by a type guard in the same conjunction).
    NetRef(Side),
}

fn key(step: &Step) -> Option<&str> {
    match step {
        Step::Key(k) => Some(k),
        _ => None,
    }
}

fn net_side(step: &Step) -> Option<Side> {
    match key(step)? {
        "src_ref" => Some(Side::Src),
        "dst_ref" => Some(Side::Dst),
        _ => None,
    }
}

/// `network-traffic:{src,dst}_ref.type = 'x'`: a type guard (MISP writes these).
fn guard(t: &PropTest) -> Option<(Side, &str)> {
    let [side, ty] = t.path.steps.as_slice() else {
        return None;
    };
    if t.path.object_type != "network-traffic" || key(ty) != Some("type") {
        return None;
    }
    match &t.op {
        Op::Eq(Literal::Str(s)) => Some((net_side(side)?, s)),
        _ => None,
    }
}

/// The hash kind named by a STIX `hashes` key. Deliberately lenient (a documented deviation):
/// case, `-` and `_` are ignored, so `md5`, `SHA1`, `sha256`, `SHA256` and `SHA-256` all work.
/// Other algorithms (SHA3-256, SSDEEP, TLSH, …) give `None`.
pub fn hash_kind(name: &str) -> Option<Kind> {
    let folded: String = name
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match folded.as_str() {
        "MD5" => Some(Kind::Md5),
        "SHA1" => Some(Kind::Sha1),
        "SHA256" => Some(Kind::Sha256),
        "SHA512" => Some(Kind::Sha512),
        _ => None,
    }
}

/// Maps an object path to the kind of key it holds, or says why it holds none.
fn path_kind(path: &ObjectPath) -> Result<PathKind, String> {
    use Kind::*;
    let ty = path.object_type.as_str();
    let s = path.steps.as_slice();
    let k = |i: usize| s.get(i).and_then(key);
    let fixed = |kind| Ok(PathKind::Fixed(kind));
    let value_only = s.len() == 1 && k(0) == Some("value");
    match ty {
        "ipv4-addr" if value_only => return fixed(Ipv4),
        "ipv6-addr" if value_only => return fixed(Ipv6),
        "domain-name" if value_only => return fixed(Domain),
        "url" if value_only => return fixed(Url),
        "email-addr" if value_only => return fixed(Email),
        "email-message" => match s {
            [Step::Key(r), Step::Key(v)]
                if matches!(r.as_str(), "from_ref" | "sender_ref") && v == "value" =>
            {
                return fixed(Email);
            }
            [Step::Key(r), Step::AnyIndex, Step::Key(v)]
                if matches!(r.as_str(), "to_refs" | "cc_refs" | "bcc_refs") && v == "value" =>
            {
                return fixed(Email);
            }
            [Step::Key(r), Step::Index(_), Step::Key(v)]
                if matches!(r.as_str(), "to_refs" | "cc_refs" | "bcc_refs") && v == "value" =>
            {
                return Err(format!(
                    "list index in {path} (only [*] is matched, a position is not)"
                ));
            }
            _ => {}
        },
        "file" if k(0) == Some("hashes") => {
            return match s {
                [_, Step::Key(alg)] => match hash_kind(alg) {
                    Some(kind) => fixed(kind),
                    None => Err(format!("file hash algorithm {alg} not matched")),
                },
                _ => Err(format!("no indicator kind for object path {path}")),
            };
        }
        "x509-certificate" if k(0) == Some("hashes") => {
            return Err("x509 certificate hashes not matched yet".into());
        }
        "network-traffic" => match s {
            [side, Step::Key(v)] if v == "value" => {
                if let Some(side) = net_side(side) {
                    return Ok(PathKind::NetRef(side));
                }
            }
            [Step::Key(e), Step::Key(x), Step::Key(rv)]
                if e == "extensions" && x == "http-request-ext" && rv == "request_value" =>
            {
                return fixed(HttpRequest);
            }
            [
                Step::Key(e),
                Step::Key(x),
                Step::Key(h),
                Step::Key(ua),
                rest @ ..,
            ] if e == "extensions"
                && x == "http-request-ext"
                && h == "request_header"
                && ua.eq_ignore_ascii_case("user-agent")
                && matches!(rest, [] | [Step::AnyIndex]) =>
            {
                return fixed(HttpRequest);
            }
            _ => {}
        },
        _ => {}
    }
    Err(format!("no indicator kind for object path {path}"))
}

fn guard_kind(ty: &str) -> Result<Kind, String> {
    match ty {
        "ipv4-addr" => Ok(Kind::Ipv4),
        "ipv6-addr" => Ok(Kind::Ipv6),
        "domain-name" => Ok(Kind::Domain),
        other => Err(format!(
            "network-traffic reference of type {other} not matched"
        )),
    }
}

/// The kind of a `network-traffic` reference literal: an IP family when it parses as an
/// address or prefix, else a domain name.
fn net_literal_kind(lit: &str) -> Kind {
    match normalize::ip(lit) {
        Ok((ipnet::IpNet::V6(_), _)) => Kind::Ipv6,
        Ok((ipnet::IpNet::V4(_), _)) => Kind::Ipv4,
        Err(_) if lit.contains(':') => Kind::Ipv6,
        Err(_) => Kind::Domain,
    }
}

/// Whether `lit` is a prefix shorter than a host address (`10.0.0.0/8`, not `10.0.0.1/32`).
fn is_network_prefix(lit: &str) -> bool {
    match normalize::ip(lit) {
        Ok((net, _)) => net.prefix_len() < net.max_prefix_len(),
        Err(_) => false,
    }
}

/// Pushes the keys of one compiled test: its literal(s) with the kind its path (or guard) gives.
fn emit(key: &KeyTest<'_>, cidr: bool, out: &mut Vec<(Kind, String)>) -> Result<(), String> {
    let test = key.test;
    let (literals, subset): (Vec<&str>, bool) = match &test.op {
        Op::Eq(Literal::Str(s)) => (vec![s.as_str()], false),
        Op::In(items) => {
            let mut lits = Vec::with_capacity(items.len());
            for i in items {
                match i {
                    Literal::Str(s) => lits.push(s.as_str()),
                    _ => return Err("comparison with a non-string literal".into()),
                }
            }
            (lits, false)
        }
        Op::IsSubset(s) => (vec![s.as_str()], true),
        Op::Eq(_) => return Err("comparison with a non-string literal".into()),
        other => return Err(other.name().to_string()),
    };
    for lit in literals {
        let kind = match key.pk {
            PathKind::Fixed(k) => k,
            PathKind::NetRef(_) => key.guard.unwrap_or_else(|| net_literal_kind(lit)),
        };
        let ip = matches!(kind, Kind::Ipv4 | Kind::Ipv6);
        if subset && !ip {
            return Err(format!("ISSUBSET on a non-IP value ({})", test.path));
        }
        if !subset && ip && !cidr && is_network_prefix(lit) {
            return Err("'=' with a CIDR literal (cidr_equals_contains is off)".into());
        }
        out.push((kind, lit.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    /// The 23 examples of the STIX 2.1 patterning specification, as shipped with the OASIS
    /// pattern validator (`stix2patterns/test/v21/spec_examples.txt`).
    const SPEC_EXAMPLES: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/stix/patterns/spec_examples.txt"
    ));

    fn class(p: &str) -> Class {
        compile(p, DEFAULT_CIDR_EQUALS_CONTAINS).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    fn keys(p: &str) -> Vec<(Kind, String)> {
        match class(p) {
            Class::Compiled(k) => k,
            Class::Unsupported(r) => panic!("{p}: unsupported: {r}"),
        }
    }

    fn unsupported(p: &str) -> String {
        match class(p) {
            Class::Unsupported(r) => r,
            Class::Compiled(k) => panic!("{p}: compiled to {k:?}"),
        }
    }

    fn k(kind: Kind, raw: &str) -> (Kind, String) {
        (kind, raw.to_string())
    }

    #[test]
    fn spec_examples_parse_and_classify() {
        use Kind::*;
        let compiled = |v: Vec<(Kind, String)>| Class::Compiled(v);
        let unsup = |r: &str| Class::Unsupported(r.to_string());
        let expected = [
            compiled(vec![k(
                Sha256,
                "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
            )]),
            unsup("MATCHES comparison"),
            unsup("AND with a residual condition"),
            unsup("observation-level AND"),
            unsup("WITHIN qualifier"),
            unsup("observation-level AND"),
            unsup("MATCHES comparison"),
            unsup("no indicator kind for object path file:name"),
            unsup("ordering comparison '>'"),
            unsup("no indicator kind for object path file:mime_type"),
            compiled(vec![k(Ipv4, "203.0.113.33/32")]),
            unsup("REPEATS qualifier"),
            unsup("AND with a residual condition"),
            compiled(vec![
                k(Url, "http://example.com/foo"),
                k(Url, "http://example.com/bar"),
            ]),
            unsup("no indicator kind for object path x509-certificate:issuer"),
            unsup("no indicator kind for object path windows-registry-key:key"),
            unsup("no indicator kind for object path file:name"),
            unsup("AND with a residual condition"),
            unsup("no indicator kind for object path x-usb-device:usbdrive.serial_number"),
            // WITHIN binds to the second observation only; FOLLOWEDBY is the top.
            unsup("FOLLOWEDBY"),
            compiled(vec![k(Ipv6, "2001:0db8:dead:beef:0000:0000:0000:0000/64")]),
            unsup("observation-level AND"),
            compiled(vec![k(Md5, "cead3f77f6cda6ec00f57d76c9a69faa")]),
        ];
        let lines: Vec<&str> = SPEC_EXAMPLES
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 23);
        for (line, want) in lines.iter().zip(expected) {
            let parsed = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(classify(&parsed, true), want, "{line}");
        }
    }

    #[test]
    fn spec_example_ast_shape() {
        let p = parse(
            "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY \
             [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
        )
        .unwrap();
        let ObsExpr::Qualified { expr, qualifiers } = p.expr else {
            panic!("not qualified")
        };
        assert_eq!(qualifiers, vec![Qualifier::Within(300.0)]);
        let ObsExpr::FollowedBy(items) = *expr else {
            panic!("not FOLLOWEDBY")
        };
        let ObsExpr::Observation(CompExpr::Test(t)) = &items[1] else {
            panic!("not a single test")
        };
        assert_eq!(t.path.to_string(), "win-registry-key:key");
        assert_eq!(
            t.op,
            Op::Eq(Literal::Str("HKEY_LOCAL_MACHINE\\foo\\bar".into()))
        );

        let p = parse(
            "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'[*] \
             NOT IN ('a\\'b', 1, -2.5, true, h'ff', b'AQIDBA==', t'2016-06-01T01:30:00.123Z')]",
        )
        .unwrap();
        let ObsExpr::Observation(CompExpr::Test(t)) = p.expr else {
            panic!("not a single test")
        };
        assert!(t.negated);
        assert_eq!(
            t.path.steps,
            vec![
                Step::Key("extensions".into()),
                Step::Key("http-request-ext".into()),
                Step::Key("request_header".into()),
                Step::Key("User-Agent".into()),
                Step::AnyIndex,
            ]
        );
        assert_eq!(
            t.path.to_string(),
            "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'[*]"
        );
        assert_eq!(
            t.op,
            Op::In(vec![
                Literal::Str("a'b".into()),
                Literal::Int(1),
                Literal::Float(-2.5),
                Literal::Bool(true),
                Literal::Hex("ff".into()),
                Literal::Binary("AQIDBA==".into()),
                Literal::Timestamp("2016-06-01T01:30:00.123Z".into()),
            ])
        );
    }

    /// `PASS_CASES` and `TIMESTAMP_PASS_CASES` of the OASIS validator's `test_validator.py`
    /// (v21), plus syntax from stix2-matcher's v21 tests.
    #[test]
    fn validator_pass_cases_parse() {
        let cases = [
            "[file:size = 1280]",
            "[file:size != 1280]",
            "[file:size < 1024]",
            "[file:size <= 1024]",
            "[file:size > 1024]",
            "[file:size >= 1024]",
            "[file:file_name = 'my_file_name']",
            "[file:extended_properties.'ntfs-ext'.sid = '234']",
            r"[emailaddr:value MATCHES '.+\\@ibm\\.com$' OR file:name MATCHES '^Final Report.+\\.exe$']",
            "[ipv4addr:value ISSUBSET '192.168.0.1/24']",
            "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']",
            "[user-account:value = 'Peter'] AND [user-account:value != 'Paul'] AND [user-account:value = 'Mary'] WITHIN 5 SECONDS",
            "[file:file_system_properties.file_name LIKE 'name%']",
            "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
            "[file:size IN (1024, 2048, 4096)]",
            "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS",
            "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
            "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
            "[foo:bar=1] REPEATS 9 TIMES",
            "[network-traffic:start = '2018-04-20T12:36:24.558Z']",
            "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
            r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar']) WITHIN 5 SECONDS WITHIN 6 SECONDS",
            r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES",
            "[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] \
             START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR \
             [ipv4-addr:value = '192.168.122.83'] \
             START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
            "[file:hashes[*] = '8665c8d477534008b3058b72e2dae8ae']",
            "[x:created = t'2024-01-15T12:30:45Z']",
            "[x:created = t'2024-01-15T12:30:45.123456Z']",
            "[x:created = t'2000-02-29T12:00:00Z']",
            "[file:name = 'test'] START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59Z'",
            "[x:created = t'2024-02-30T12:00:00Z']",
            "[x:created = t'2023-02-29T12:00:00Z']",
            // stix2-matcher v21 tests
            "[test:int NOT != 5]",
            "[test:int IN (-4, 5, 6.6)]",
            "[test:string NOT IN ()]",
            "[person:name = 'bob'] WITHIN .0001 SECONDS",
            "[person:age < 20] REPEATS 10 TIMES START '2004-10-11T21:40:00Z' STOP '2004-10-11T21:50:00Z'",
            "([person:age < 30] AND [person:name > 'aaron']) WITHIN 2 SECONDS REPEATS 3 TIMES",
            "[person:name MATCHES ''] REPEATS 2 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'",
            "[binary_test:name_bin NOT MATCHES '\u{103}lice']",
            "[person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth'] AND [person:age < 15]",
            "[file:size = 5] /* a comment */ OR // another\n [file:size = 6]",
            "[a:b = 1]\u{3000}OR\u{a0}[a:b = 2]",
            "[EXISTS_is_an_identifier:ORDER = 1 AND INx:y = 'z']",
            "[EXISTS file:name]",
        ];
        for c in cases {
            if let Err(e) = parse(c) {
                panic!("{c}: {e}");
            }
        }
    }

    /// `FAIL_CASES` and `TIMESTAMP_FAIL_CASES` of the validator, and the parse errors of
    /// stix2-matcher's temporal and null tests.
    #[test]
    fn validator_fail_cases_do_not_parse() {
        let cases = [
            "file:size = 1280",
            "[file:size = ]",
            "[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]",
            "[file.size = 1280]",
            r"[file:name MATCHES /.*\\.dll/]",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN ]",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 HOURS]",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN -5 SECONDS]",
            "[network-traffic:dst_ref.value ISSUBSET ]",
            "[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']",
            "[x_whatever:detected == t'2457-73-22T32:81:84.1Z']",
            "[artifact:payload_bin = b'====']",
            "[foo:bar=1] within 2 seconds",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
            r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES REPEATS 3 TIMES)",
            r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'",
            "[x:created = t'2024-13-01T12:00:00Z']",
            "[x:created = t'2024-00-01T12:00:00Z']",
            "[x:created = t'2024-01-32T12:00:00Z']",
            "[x:created = t'2024-01-00T12:00:00Z']",
            "[x:created = t'2024-01-15T25:00:00Z']",
            "[x:created = t'2024-01-15T12:60:00Z']",
            "[x:created = t'2024-01-15T12:30:61Z']",
            "[x:created = t'2024-01-15T12:30:45']",
            "[x:created = t'not-a-timestamp']",
            "[x:created = t'2024/01/15T12:30:45Z']",
            // stix2-matcher: temporal qualifier and null parse errors
            "[person:name = 'alice'] WITHIN 1 second",
            "[person:name = 'alice'] WITHIN -123.367 SECONDS",
            "[person:name = 'hannah'] START t'1994-11-29T13:37:58Z'",
            "[person:name = 'hannah'] START t'1994-11-29t13:37:58Z' STOP t'1994-11-29T13:37:58Z'",
            "[person:name = 'hannah'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58z'",
            "[person:name = 'hannah'] START t'1994-11-29T13:37Z' STOP t'1994-11-29T13:37:58Z'",
            "[null_test:name = null]",
            "[null_test:name IN (null, null, null)]",
            "[null_test:name LIKE null]",
            "[null_test:name ISSUBSET null]",
            // more: lexical and structural errors
            "",
            "[]",
            "[file:name = 'x'",
            "[file:name = 'x'] OR",
            "[file:name = 'unterminated]",
            r"[file:name = 'bad \d escape']",
            "[file:extensions.windows-pebinary-ext.x = 1]",
            "[file:name = 'x'] [file:name = 'y']",
            "[file:size = 01]",
            "[file:size = 99999999999999999999]",
            "[a:b[x] = 1]",
            "[a:b = h'abc']",
            "[a:b = 'x'] /* unterminated",
            "[a:b < true]",
            "[a:b NOT EXISTS]",
            "[a:b = 1] and [a:b = 2]",
        ];
        for c in cases {
            assert!(parse(c).is_err(), "{c:?} parsed");
        }
    }

    #[test]
    fn parse_errors_say_where() {
        let e = parse("[file:size = ]").unwrap_err();
        assert_eq!(e.column, 14);
        assert_eq!(e.to_string(), "column 14: expected a literal, found ']'");
        let e = parse("[foo:bar=1] within 2 seconds").unwrap_err();
        assert_eq!(e.column, 13);
        let e = parse("[file:hashes.MD5 =? 'x']").unwrap_err();
        assert_eq!(e.to_string(), "column 19: unexpected character '?'");
    }

    /// The validator refuses `'f00'` as a SHA-256 at parse time; here it parses and classifies,
    /// and canonicalisation refuses the key.
    #[test]
    fn malformed_hash_fails_at_normalisation() {
        let ks = keys("[file:hashes.'SHA-256' = 'f00']");
        assert_eq!(ks, vec![k(Kind::Sha256, "f00")]);
        assert_eq!(
            normalize::value(ks[0].0, &ks[0].1),
            Err(normalize::Reject::BadHash)
        );
    }

    #[test]
    fn nesting_is_capped_not_recursed() {
        let nested = |n: usize| format!("{}[a:b = 1]{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nested(MAX_DEPTH - 1)).is_ok());
        let e = parse(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.message.contains("nesting deeper than 64"), "{e}");
        // Far beyond any stack: still just an error.
        assert!(parse(&nested(200_000)).is_err());
        let inner = |n: usize| format!("[{}a:b = 1{}]", "(".repeat(n), ")".repeat(n));
        assert!(parse(&inner(MAX_DEPTH - 1)).is_ok());
        assert!(parse(&inner(200_000)).is_err());
        // Long flat chains are iterative.
        let chain = vec!["[ipv4-addr:value = '198.51.100.1']"; 50_000].join(" OR ");
        assert_eq!(keys(&chain), vec![k(Kind::Ipv4, "198.51.100.1")]);
        let quals = format!("([a:b = 1]){}", " WITHIN 1 SECONDS".repeat(50_000));
        assert!(parse(&quals).is_ok());
    }

    #[test]
    fn large_comparisons_stay_linear() {
        // Thousands of alternatives in one observation (feeds do this), with and without a guard.
        let ips: Vec<String> = (0..20_000u32)
            .map(|i| {
                format!(
                    "network-traffic:dst_ref.value = '{}'",
                    std::net::Ipv4Addr::from(0x0a00_0000 + i)
                )
            })
            .collect();
        let p = format!("[{}]", ips.join(" OR "));
        assert_eq!(keys(&p).len(), 20_000);
        let p = format!(
            "[({}) AND network-traffic:dst_ref.type = 'ipv4-addr']",
            ips.join(" OR ")
        );
        let ks = keys(&p);
        assert_eq!(ks.len(), 20_000);
        assert!(ks.iter().all(|(kind, _)| *kind == Kind::Ipv4));
        // A long AND chain of guards around one key.
        let guards = vec!["network-traffic:dst_ref.type = 'ipv4-addr'"; 20_000].join(" AND ");
        let p = format!("[{guards} AND network-traffic:dst_ref.value = '198.51.100.1']");
        assert_eq!(keys(&p), vec![k(Kind::Ipv4, "198.51.100.1")]);
        // A product of ORs is never expanded: every combination has two keys.
        let or2 = "(domain-name:value = 'a.example' OR domain-name:value = 'b.example')";
        let p = format!("[{}]", [or2; 40].join(" AND "));
        assert_eq!(unsupported(&p), "AND with a residual condition");
        // OR distributed over a guard compiles.
        assert_eq!(
            keys(
                "[(network-traffic:dst_ref.value = '198.51.100.1' OR \
                 network-traffic:dst_ref.value = '198.51.100.2') AND \
                 network-traffic:dst_ref.type = 'ipv4-addr']"
            ),
            vec![k(Kind::Ipv4, "198.51.100.1"), k(Kind::Ipv4, "198.51.100.2")]
        );
        // Nested: each branch keeps its own guard.
        assert_eq!(
            keys(
                "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
                 OR (network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'evil.example')]"
            ),
            vec![
                k(Kind::Ipv4, "198.51.100.1"),
                k(Kind::Domain, "evil.example")
            ]
        );
        // Distinct keys are deduplicated without quadratic work.
        let doms: Vec<String> = (0..20_000)
            .map(|i| format!("'d{}.example'", i % 10_000))
            .collect();
        let p = format!("[domain-name:value IN ({})]", doms.join(", "));
        assert_eq!(keys(&p).len(), 10_000);
    }

    #[test]
    fn guards_that_do_not_fit_are_residual() {
        let cases = [
            // A guard in an OR would match every IPv4 destination.
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr' OR network-traffic:dst_ref.value = '198.51.100.1']",
                "no indicator kind for object path network-traffic:dst_ref.type",
            ),
            // Two guards that disagree.
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.type = 'ipv6-addr' \
                 AND network-traffic:dst_ref.value = '198.51.100.1']",
                "AND with a residual condition",
            ),
            // An OR of guards is not one kind.
            (
                "[(network-traffic:dst_ref.type = 'ipv4-addr' OR network-traffic:dst_ref.type = 'ipv6-addr') \
                 AND network-traffic:dst_ref.value = '198.51.100.1']",
                "AND with a residual condition",
            ),
            // A guard on a fixed-kind key path.
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND \
                 network-traffic:extensions.'http-request-ext'.request_value = '/gate.php']",
                "AND with a residual condition",
            ),
            // Nested guards that disagree with an inner one.
            (
                "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
                 AND network-traffic:dst_ref.type = 'domain-name']",
                "AND with a residual condition",
            ),
            (
                "[(domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1') AND domain-name:value = 'b.example']",
                "AND across different object types",
            ),
        ];
        for (p, reason) in cases {
            assert_eq!(unsupported(p), reason, "{p}");
        }
        // A non-key OR under an AND of the same object: the AND is residual, not cross-type.
        assert_eq!(
            unsupported("[(file:name = 'x' OR file:size = 1) AND file:hashes.MD5 = 'y']"),
            "AND with a residual condition"
        );
        // Agreeing guards, repeated or nested, are fine.
        assert_eq!(
            keys(
                "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
                 AND network-traffic:dst_ref.type = 'ipv4-addr']"
            ),
            vec![k(Kind::Ipv4, "198.51.100.1")]
        );
    }

    #[test]
    fn key_paths_map_to_kinds() {
        use Kind::*;
        let cases = [
            ("[ipv4-addr:value = '198.51.100.1']", Ipv4, "198.51.100.1"),
            ("[ipv6-addr:value = '2001:db8::1']", Ipv6, "2001:db8::1"),
            (
                "[domain-name:value = 'evil.example']",
                Domain,
                "evil.example",
            ),
            (
                "[url:value = 'http://evil.example/x']",
                Url,
                "http://evil.example/x",
            ),
            (
                "[email-addr:value = 'a@evil.example']",
                Email,
                "a@evil.example",
            ),
            (
                "[email-message:from_ref.value = 'a@evil.example']",
                Email,
                "a@evil.example",
            ),
            (
                "[email-message:sender_ref.value = 'a@evil.example']",
                Email,
                "a@evil.example",
            ),
            (
                "[email-message:to_refs[*].value = 'a@evil.example']",
                Email,
                "a@evil.example",
            ),
            (
                "[email-message:cc_refs[*].value = 'a@evil.example']",
                Email,
                "a@evil.example",
            ),
            ("[file:hashes.MD5 = 'x']", Md5, "x"),
            ("[file:hashes.md5 = 'x']", Md5, "x"),
            ("[file:hashes.'SHA-1' = 'x']", Sha1, "x"),
            ("[file:hashes.SHA1 = 'x']", Sha1, "x"),
            ("[file:hashes.'SHA-256' = 'x']", Sha256, "x"),
            ("[file:hashes.sha256 = 'x']", Sha256, "x"),
            ("[file:hashes.SHA256 = 'x']", Sha256, "x"),
            ("[file:hashes.'SHA-512' = 'x']", Sha512, "x"),
            (
                "[network-traffic:dst_ref.value = '198.51.100.1']",
                Ipv4,
                "198.51.100.1",
            ),
            (
                "[network-traffic:src_ref.value = '2001:db8::/32']",
                Ipv6,
                "2001:db8::/32",
            ),
            (
                "[network-traffic:dst_ref.value = 'evil.example']",
                Domain,
                "evil.example",
            ),
            (
                "[network-traffic:extensions.'http-request-ext'.request_value = '/gate.php']",
                HttpRequest,
                "/gate.php",
            ),
            (
                "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'EvilBot/1.0']",
                HttpRequest,
                "EvilBot/1.0",
            ),
            (
                "[network-traffic:extensions.'http-request-ext'.request_header.'user-agent'[*] = 'EvilBot/1.0']",
                HttpRequest,
                "EvilBot/1.0",
            ),
            (
                "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
                Ipv4,
                "198.51.100.0/24",
            ),
            (
                "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']",
                Ipv4,
                "198.51.100.0/24",
            ),
            (
                "[domain-name:value == 'evil.example']",
                Domain,
                "evil.example",
            ),
        ];
        for (p, kind, raw) in cases {
            assert_eq!(keys(p), vec![k(kind, raw)], "{p}");
        }
    }

    #[test]
    fn unsupported_reasons_name_the_construct() {
        let cases = [
            ("[ipv4-addr:value != '198.51.100.1']", "'!=' comparison"),
            ("[ipv4-addr:value <> '198.51.100.1']", "'!=' comparison"),
            ("[ipv4-addr:value NOT = '198.51.100.1']", "NOT ="),
            ("[ipv4-addr:value NOT IN ('198.51.100.1')]", "NOT IN"),
            (
                "[ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']",
                "NOT ISSUBSET",
            ),
            ("[file:size < 5]", "ordering comparison '<'"),
            ("[file:size >= 5]", "ordering comparison '>='"),
            (
                "[domain-name:value LIKE '%.evil.example']",
                "LIKE comparison",
            ),
            ("[domain-name:value MATCHES 'evil']", "MATCHES comparison"),
            (
                "[ipv4-addr:value ISSUPERSET '198.51.100.1']",
                "ISSUPERSET comparison",
            ),
            ("[EXISTS domain-name:value]", "EXISTS test"),
            (
                "[domain-name:value = 'evil.example'] WITHIN 5 SECONDS",
                "WITHIN qualifier",
            ),
            (
                "[domain-name:value = 'evil.example'] REPEATS 2 TIMES",
                "REPEATS qualifier",
            ),
            (
                "[domain-name:value = 'evil.example'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'",
                "START/STOP qualifier",
            ),
            (
                "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']",
                "observation-level AND",
            ),
            (
                "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
                "FOLLOWEDBY",
            ),
            // One unsupported branch makes the whole OR unsupported: nothing is partly compiled.
            (
                "[domain-name:value = 'a.example'] OR ([domain-name:value = 'b.example'] AND [url:value = 'http://c.example/'])",
                "observation-level AND",
            ),
            (
                "[domain-name:value = 'a.example' OR domain-name:value LIKE 'b%']",
                "LIKE comparison",
            ),
            (
                "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:size = 5]",
                "AND with a residual condition",
            ),
            (
                "[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]",
                "AND with a residual condition",
            ),
            (
                "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1']",
                "AND with a residual condition",
            ),
            (
                "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:hashes.'SHA-1' = 'x']",
                "AND with a residual condition",
            ),
            (
                "[domain-name:value = 'a.example' AND ipv4-addr:value = '198.51.100.1']",
                "AND across different object types",
            ),
            (
                "[x509-certificate:hashes.'SHA-256' = 'x']",
                "x509 certificate hashes not matched yet",
            ),
            (
                "[file:hashes.'SHA3-256' = 'x']",
                "file hash algorithm SHA3-256 not matched",
            ),
            (
                "[file:hashes.SSDEEP = 'x']",
                "file hash algorithm SSDEEP not matched",
            ),
            (
                "[file:hashes[*] = 'x']",
                "no indicator kind for object path file:hashes[*]",
            ),
            (
                "[file:name = 'x']",
                "no indicator kind for object path file:name",
            ),
            (
                "[network-traffic:dst_ref.type = 'ipv4-addr']",
                "no indicator kind for object path network-traffic:dst_ref.type",
            ),
            (
                "[network-traffic:dst_ref.type = 'mac-addr' AND network-traffic:dst_ref.value = 'x']",
                "network-traffic reference of type mac-addr not matched",
            ),
            (
                "[email-message:to_refs[0].value = 'a@evil.example']",
                "list index in email-message:to_refs[0].value (only [*] is matched, a position is not)",
            ),
            (
                "[ipv4-addr:value = 5]",
                "comparison with a non-string literal",
            ),
            (
                "[ipv4-addr:value IN ('198.51.100.1', 5)]",
                "comparison with a non-string literal",
            ),
            (
                "[url:value ISSUBSET '198.51.100.0/24']",
                "ISSUBSET on a non-IP value (url:value)",
            ),
            (
                "[network-traffic:extensions.'http-request-ext'.request_method = 'get']",
                "no indicator kind for object path network-traffic:extensions.'http-request-ext'.request_method",
            ),
        ];
        for (p, reason) in cases {
            assert_eq!(unsupported(p), reason, "{p}");
        }
    }

    #[test]
    fn misp_type_guards_compile_to_the_key() {
        use Kind::*;
        assert_eq!(
            keys(
                "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7']"
            ),
            vec![k(Ipv4, "198.51.100.7")]
        );
        assert_eq!(
            keys(
                "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = '2001:db8::7']"
            ),
            vec![k(Ipv6, "2001:db8::7")]
        );
        assert_eq!(
            keys(
                "[network-traffic:dst_ref.value = 'evil.example' AND network-traffic:dst_ref.type = 'domain-name']"
            ),
            vec![k(Domain, "evil.example")]
        );
        // The guard decides the kind; a contradicting literal is left to canonicalisation.
        assert_eq!(
            keys(
                "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = '198.51.100.7']"
            ),
            vec![k(Domain, "198.51.100.7")]
        );
    }

    #[test]
    fn in_sets_and_or_union_keys() {
        use Kind::*;
        assert_eq!(
            keys("[domain-name:value IN ('a.example', 'b.example', 'a.example')]"),
            vec![k(Domain, "a.example"), k(Domain, "b.example")]
        );
        assert_eq!(keys("[domain-name:value IN ()]"), vec![]);
        assert_eq!(
            keys(
                "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1'] OR [url:value = 'http://c.example/']"
            ),
            vec![
                k(Domain, "a.example"),
                k(Ipv4, "198.51.100.1"),
                k(Url, "http://c.example/")
            ]
        );
    }

    #[test]
    fn cidr_equals_contains_is_a_switch() {
        let p = "[ipv4-addr:value = '10.0.0.0/8']";
        assert_eq!(
            compile(p, true).unwrap(),
            Class::Compiled(vec![k(Kind::Ipv4, "10.0.0.0/8")])
        );
        assert_eq!(
            compile(p, false).unwrap(),
            Class::Unsupported("'=' with a CIDR literal (cidr_equals_contains is off)".into())
        );
        // A host prefix equals its address either way; ISSUBSET is containment either way.
        for p in [
            "[ipv4-addr:value = '10.0.0.1/32']",
            "[ipv6-addr:value = '2001:db8::1/128']",
            "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
        ] {
            assert!(
                matches!(compile(p, false).unwrap(), Class::Compiled(_)),
                "{p}"
            );
        }
    }

    /// Whether the pattern matches an observed `ipv4-addr` with `observed` as its value, by the
    /// compiled keys and `ipnet` containment; `None` when the pattern is unsupported.
    fn ip_match(pattern: &str, observed: &str) -> Option<bool> {
        let addr: IpAddr = observed.parse().unwrap();
        match class(pattern) {
            Class::Unsupported(_) => None,
            Class::Compiled(keys) => Some(keys.iter().any(|(kind, raw)| {
                matches!(kind, Kind::Ipv4 | Kind::Ipv6)
                    && normalize::ip(raw).is_ok_and(|(net, _)| net.contains(&addr))
            })),
        }
    }

    /// stix2-matcher's v21 IPv4 cases (`test_basic_ops.py` `test:ip = '11.22.33.44'`, with the
    /// string, set and empty-set cases and `test_observation_exprs.py`'s OR cases restated on an
    /// IPv4 value), run through the exact subset. `Some(b)`: the matcher's answer, which we must
    /// reproduce; `None`: the matcher answers but we do not compile the pattern (never widened).
    #[test]
    fn agrees_with_stix2_matcher_on_ipv4() {
        let observed = "11.22.33.44";
        let cases: &[(&str, Option<bool>)] = &[
            // test_basic_ops_ip_match / _nomatch
            ("[ipv4-addr:value ISSUBSET '11.22.41.123/20']", Some(true)),
            ("[ipv4-addr:value ISSUBSET '11.22.123.41/20']", Some(false)),
            ("[ipv4-addr:value NOT ISSUBSET '11.22.123.41/20']", None),
            ("[ipv4-addr:value NOT ISSUBSET '11.22.41.123/20']", None),
            ("[ipv4-addr:value ISSUPERSET '11.22.41.123']", None),
            // spec §9.6.1: identical address or subnet on both sides is a subset
            ("[ipv4-addr:value ISSUBSET '11.22.33.44']", Some(true)),
            ("[ipv4-addr:value ISSUBSET '11.22.33.44/32']", Some(true)),
            ("[ipv4-addr:value ISSUBSET '11.22.33.45']", Some(false)),
            // test_basic_ops_string_match / _nomatch, on the address
            ("[ipv4-addr:value = '11.22.33.44']", Some(true)),
            ("[ipv4-addr:value == '11.22.33.44']", Some(true)),
            ("[ipv4-addr:value = '11.22.33.45']", Some(false)),
            ("[ipv4-addr:value NOT = '11.22.33.45']", None),
            ("[ipv4-addr:value != '11.22.33.45']", None),
            ("[ipv4-addr:value = 1]", None),
            (
                "[ipv4-addr:value IN ('1.1.1.1', '11.22.33.44', '2.2.2.2')]",
                Some(true),
            ),
            ("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]", Some(false)),
            ("[ipv4-addr:value IN (1, 2, 3)]", None),
            // test_basic_ops_emptyset_match / _nomatch
            ("[ipv4-addr:value IN ()]", Some(false)),
            ("[ipv4-addr:value NOT IN ()]", None),
            // test_observation_exprs / test_comparison_exprs OR cases
            (
                "[ipv4-addr:value = '11.22.33.44'] OR [ipv4-addr:value = '9.9.9.9']",
                Some(true),
            ),
            (
                "[ipv4-addr:value = '8.8.8.8'] OR [ipv4-addr:value = '9.9.9.9']",
                Some(false),
            ),
            (
                "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value ISSUBSET '11.22.0.0/16']",
                Some(true),
            ),
            (
                "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value ISSUBSET '11.23.0.0/16']",
                Some(false),
            ),
            (
                "[ipv4-addr:value = '11.22.33.44'] AND [ipv4-addr:value = '11.22.33.44']",
                None,
            ),
            (
                "[ipv4-addr:value = '11.22.33.44'] FOLLOWEDBY [ipv4-addr:value = '11.22.33.44']",
                None,
            ),
            ("[ipv4-addr:value = '11.22.33.44'] WITHIN 1 SECONDS", None),
            (
                "[ipv4-addr:value = '11.22.33.44' AND ipv4-addr:value != '1.1.1.1']",
                None,
            ),
        ];
        for &(p, want) in cases {
            assert_eq!(ip_match(p, observed), want, "{p}");
        }
    }

    /// Where we differ from stix2-matcher on purpose: `= 'CIDR'` is containment (the matcher
    /// compares strings and says no), and hash keys are case-insensitive.
    #[test]
    fn documented_deviations_from_the_matcher() {
        assert_eq!(
            ip_match("[ipv4-addr:value = '11.22.32.0/20']", "11.22.33.44"),
            Some(true)
        );
        assert_eq!(
            ip_match("[ipv4-addr:value = '11.22.33.44/32']", "11.22.33.44"),
            Some(true)
        );
        assert_eq!(
            keys("[file:hashes.sha256 = 'x']"),
            keys("[file:hashes.'SHA-256' = 'x']")
        );
    }

    #[test]
    fn object_path_display_round_trips() {
        for p in [
            "file:hashes.'SHA-256'",
            "email-message:to_refs[*].value",
            "a:b[-1].'c\\'d'.e",
            "x:'IN'",
        ] {
            let parsed = parse(&format!("[{p} = 'v']")).unwrap();
            let ObsExpr::Observation(CompExpr::Test(t)) = parsed.expr else {
                panic!("{p}")
            };
            assert_eq!(t.path.to_string(), p);
        }
    }

    mod fuzz {
        use proptest::prelude::*;

        use super::super::*;

        const TOKENS: &[&str] = &[
            "[",
            "]",
            "(",
            ")",
            ":",
            ".",
            ",",
            "*",
            "=",
            "==",
            "!=",
            "<>",
            "<",
            "<=",
            ">",
            ">=",
            "AND",
            "OR",
            "NOT",
            "FOLLOWEDBY",
            "LIKE",
            "MATCHES",
            "ISSUBSET",
            "ISSUPERSET",
            "EXISTS",
            "IN",
            "START",
            "STOP",
            "WITHIN",
            "SECONDS",
            "REPEATS",
            "TIMES",
            "true",
            "ipv4-addr",
            "value",
            "file",
            "hashes",
            "'SHA-256'",
            "'198.51.100.0/24'",
            "'x\\'y'",
            "network-traffic",
            "dst_ref",
            "type",
            "'ipv4-addr'",
            "5",
            "-3",
            "1.5",
            "h'ff'",
            "b'AQ=='",
            "t'2020-01-01T00:00:00Z'",
            "[*]",
            "[0]",
            "/*",
            "*/",
            "'",
            "\\",
        ];

        proptest! {
            #[test]
            fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
                let _ = compile(&s, true);
            }

            #[test]
            fn never_panics_on_token_soup(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
                let s = toks.join(" ");
                let _ = compile(&s, true);
                let _ = compile(&toks.concat(), false);
            }

            #[test]
            fn compiled_ip_lists_round_trip(a in any::<[u8; 4]>(), b in any::<[u8; 4]>()) {
                let a = std::net::Ipv4Addr::from(a);
                let b = std::net::Ipv4Addr::from(b);
                let p = format!("[ipv4-addr:value IN ('{a}', '{b}')] OR [ipv4-addr:value = '{b}']");
                let want: Vec<(Kind, String)> = if a == b {
                    vec![(Kind::Ipv4, a.to_string())]
                } else {
                    vec![(Kind::Ipv4, a.to_string()), (Kind::Ipv4, b.to_string())]
                };
                prop_assert_eq!(compile(&p, true).unwrap(), Class::Compiled(want));
            }
        }
    }
}
