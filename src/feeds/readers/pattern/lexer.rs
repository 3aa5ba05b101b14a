//! The tokens of the STIX 2.1 pattern grammar, and the checks of literal syntax (hex, base64,
//! timestamps).

use super::{PatternError, err};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
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
pub(super) enum Kw {
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
pub(super) fn keyword(word: &str) -> Option<Kw> {
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

pub(super) fn describe(tok: &Tok) -> String {
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

pub(super) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, PatternError> {
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
