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
//! The code: `ast` (the parsed pattern), `lexer` (tokens), `parser`, `classify` (the
//! exact-match subset).
//!
//! What compiles: `path = 'lit'` (also `==`), `path IN ('a', 'b')`,
//! `ip-path ISSUBSET 'cidr'`, comparison-`OR` of those, observation-`OR` of single-observation
//! expressions of those, a same-object comparison-`AND` of one key with type guards such as
//! `network-traffic:dst_ref.type = 'ipv4-addr'` (MISP exports), and a comparison-`AND` of two or
//! more `=` tests of one `network-traffic:extensions.'http-request-ext'` (`request_method`,
//! `request_value`, `request_version`, `request_header.'Name'`): one compound HTTP-request key
//! ([`crate::indicators::http_compound`]) that matches a request meeting them all. Everything
//! else — `!=`, `NOT`, ordering, `LIKE`, `MATCHES`, `EXISTS`, `ISSUPERSET`, `IN` inside such a
//! compound, an HTTP request ANDed with another property (ports, addresses), any other `AND`,
//! observation-level `AND`, `FOLLOWEDBY`, qualifiers — is unsupported-inline.
//!
//! Deliberate deviations from the strict specification (documented, tested):
//! * `file:hashes` keys are matched without regard to case, `-` or `_`: `md5`, `SHA1`,
//!   `sha256`, `SHA256` and `'SHA-256'` all name the same algorithm. The spec's hash keys are
//!   case-sensitive, but real feeds (the OASIS apt1 example, MISP, Unit 42) write them loosely.
//! * `path = 'CIDR'` on an IP path means containment when `cidr_equals_contains` is true
//!   ([`DEFAULT_CIDR_EQUALS_CONTAINS`]); the spec compares the strings, which can never match a
//!   single observed address. With the flag off such a comparison is unsupported.

mod ast;
mod classify;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub(crate) use classify::{Class, classify, hash_kind};
pub(crate) use parser::parse;

use std::fmt;

/// Deepest nesting of parentheses and brackets [`parse`] accepts; deeper input is an error
/// rather than a risk to the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// Default for `cidr_equals_contains`: `ipv4-addr:value = '10.0.0.0/8'` means "inside 10/8".
pub(crate) const DEFAULT_CIDR_EQUALS_CONTAINS: bool = true;

/// Why a pattern does not parse: where (1-based character column) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PatternError {
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
