//! The exact-match subset: which patterns compile into set lookups, and into which keys.

use std::collections::HashSet;

use crate::indicators::model::Kind;
use crate::indicators::normalize;

use super::ast::*;

/// What trawl can do with a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// The pattern matches exactly when an observed value equals (or, for IP prefixes, lies
    /// inside) one of these keys: `(kind, raw literal)`, in pattern order, duplicates removed.
    /// The literal is not yet canonical; pass it to [`crate::indicators::normalize::value`].
    Compiled(Vec<(Kind, String)>),
    /// The pattern needs more than set lookups; the reason names the construct.
    Unsupported(String),
}

/// Parses and classifies a pattern. See [`classify`] for `cidr_equals_contains`.
#[cfg(test)]
pub(crate) fn compile(src: &str, cidr_equals_contains: bool) -> Result<Class, super::PatternError> {
    Ok(classify(&super::parse(src)?, cidr_equals_contains))
}

/// Classifies a parsed pattern into the keys it matches, or the reason it cannot be compiled.
///
/// `cidr_equals_contains` (default
/// [`DEFAULT_CIDR_EQUALS_CONTAINS`](super::DEFAULT_CIDR_EQUALS_CONTAINS)): read `= 'CIDR'` on
/// an IP path as containment. When false, such a comparison is unsupported (a host prefix such
/// as `/32` still compiles: it equals its address).
pub(crate) fn classify(pattern: &Pattern, cidr_equals_contains: bool) -> Class {
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
pub(crate) fn hash_kind(name: &str) -> Option<Kind> {
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
            return match s {
                [_, Step::Key(alg)] => match hash_kind(alg) {
                    Some(Md5) => fixed(X509Md5),
                    Some(Sha1) => fixed(X509Sha1),
                    Some(Sha256) => fixed(X509Sha256),
                    _ => Err(format!("certificate hash algorithm {alg} not matched")),
                },
                _ => Err(format!("no indicator kind for object path {path}")),
            };
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
    use super::*;

    #[test]
    fn guarded_host_prefix_compiles_and_qualified_pattern_is_unsupported() {
        let c = compile(
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND \
              network-traffic:dst_ref.value = '203.0.113.33/32']",
            true,
        )
        .unwrap();
        assert_eq!(
            c,
            Class::Compiled(vec![(Kind::Ipv4, "203.0.113.33/32".into())])
        );
        let c = compile(
            "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f'] WITHIN 5 SECONDS",
            true,
        )
        .unwrap();
        assert_eq!(c, Class::Unsupported("WITHIN qualifier".into()));
    }
}
