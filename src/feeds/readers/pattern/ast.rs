//! The parsed form of a STIX 2.1 pattern: observation expressions, comparison expressions,
//! property tests, object paths and literals.

use std::fmt;

use super::lexer::keyword;

/// A parsed STIX pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Pattern {
    /// The top-level observation expression.
    pub expr: ObsExpr,
}

/// An observation expression: what must be observed, across one or more observations.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ObsExpr {
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
pub(crate) enum Qualifier {
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
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Qualifier::StartStop { .. } => "START/STOP",
            Qualifier::Within(_) => "WITHIN",
            Qualifier::Repeats(_) => "REPEATS",
        }
    }
}

/// A comparison expression: the test inside one `[ … ]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CompExpr {
    /// `a AND b AND …`.
    And(Vec<CompExpr>),
    /// `a OR b OR …`.
    Or(Vec<CompExpr>),
    /// A single property test.
    Test(PropTest),
}

/// One property test: `path [NOT] op operand`, or `EXISTS path`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PropTest {
    /// The object path tested.
    pub path: ObjectPath,
    /// Whether the operator was preceded by `NOT`.
    pub negated: bool,
    /// The operator and its operand.
    pub op: Op,
}

/// A comparison operator with its operand.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
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
    pub(crate) fn name(&self) -> &'static str {
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
pub(crate) enum Literal {
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
pub(crate) struct ObjectPath {
    /// The object type (`ipv4-addr`, `file`, …).
    pub object_type: String,
    /// The steps after the colon; the first is always a [`Step::Key`].
    pub steps: Vec<Step>,
}

/// One step of an object path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
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
