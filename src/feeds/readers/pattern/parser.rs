//! A recursive-descent parser for the STIX 2.1 pattern grammar.

use super::ast::*;
use super::lexer::{Kw, Tok, describe, lex};
use super::{MAX_DEPTH, PatternError, err};

/// Parses a STIX 2.1 pattern. Errors name the 1-based column and what was expected.
pub(crate) fn parse(src: &str) -> Result<Pattern, PatternError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_observation_or_and_rejects_missing_operand() {
        let p = parse("[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'evil.example']")
            .unwrap();
        assert!(matches!(p.expr, ObsExpr::Or(ref v) if v.len() == 2));
        assert!(parse("[file:size = ]").is_err());
    }
}
