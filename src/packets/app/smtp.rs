//! SMTP envelope (RFC 5321 §4.1.1.2–3): the addresses of `MAIL FROM` and `RCPT TO` commands.
//!
//! * [`command_envelope`] — the address of one complete command line, as an [`Envelope`]
//!   borrowed from it. The stream parser ([`super::stream`]) finds the command lines of a
//!   client's stream (pipelined ones included, RFC 2920) and steps over message text.
//!
//! # Rules
//!
//! * Verbs and keywords are case-insensitive; spaces are allowed between verb and keyword,
//!   before the colon and after it (`MAIL FROM: <a@b>`). Other commands give nothing.
//! * `<addr>`: the address between the brackets, parameters after it ignored (`SIZE=…`). A
//!   quoted local part may hold `>` or `:` (`<"a>b"@x>`). The null sender `<>` is skipped.
//!   A source route (`<@a,@b:user@host>`) is reduced to the mailbox (`user@host`).
//! * An address without brackets (a lenient server accepts it) runs to the first space.
//! * Addresses are the bytes as sent; the caller's normalisation validates them.

/// Reason: a `MAIL FROM`/`RCPT TO` line with no address after the colon.
pub const E_MISSING: &str = "smtp: missing address";
/// Reason: `<` without a closing `>`.
pub const E_UNTERMINATED: &str = "smtp: unterminated address";
/// Reason: an empty mailbox (`RCPT TO:<>`, or a source route with nothing after it).
pub const E_EMPTY: &str = "smtp: empty address";

/// One envelope address, borrowed from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Envelope<'a> {
    /// The reverse path of `MAIL FROM` (the sender).
    MailFrom(&'a [u8]),
    /// The forward path of `RCPT TO` (a recipient).
    RcptTo(&'a [u8]),
}

fn skip_ws(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

/// `verb SP* keyword SP* ":"` at the start of `line`: the rest after the colon.
fn command<'a>(line: &'a [u8], verb: &[u8], keyword: &[u8]) -> Option<&'a [u8]> {
    let (v, rest) = line.split_at_checked(verb.len())?;
    if !v.eq_ignore_ascii_case(verb) || !matches!(rest.first(), Some(b' ' | b'\t')) {
        return None;
    }
    let rest = skip_ws(rest);
    let (k, rest) = rest.split_at_checked(keyword.len())?;
    if !k.eq_ignore_ascii_case(keyword) {
        return None;
    }
    skip_ws(rest).strip_prefix(b":")
}

/// Index of the `>` closing a bracketed path whose contents start `s`, skipping quoted strings
/// and address literals.
fn closing_bracket(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut quoted = false;
    let mut literal = false;
    while i < s.len() {
        match s[i] {
            b'\\' if quoted => i += 1,
            b'"' if !literal => quoted = !quoted,
            b'[' if !quoted => literal = true,
            b']' if !quoted => literal = false,
            b'>' if !quoted && !literal => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The mailbox of a path's contents, its source route (`@a,@b:`) removed.
fn strip_route(path: &[u8]) -> &[u8] {
    if path.first() != Some(&b'@') {
        return path;
    }
    let mut literal = false;
    for (i, &b) in path.iter().enumerate() {
        match b {
            b'[' => literal = true,
            b']' => literal = false,
            b':' if !literal => return &path[i + 1..],
            _ => {}
        }
    }
    &[]
}

/// The address after a command's colon: `Ok(None)` for the null sender.
fn address(rest: &[u8]) -> Result<Option<&[u8]>, &'static str> {
    let rest = skip_ws(rest);
    if let Some(inner) = rest.strip_prefix(b"<") {
        let Some(end) = closing_bracket(inner) else {
            return Err(E_UNTERMINATED);
        };
        if end == 0 {
            return Ok(None);
        }
        let mailbox = strip_route(&inner[..end]);
        return if mailbox.is_empty() {
            Err(E_EMPTY)
        } else {
            Ok(Some(mailbox))
        };
    }
    let end = rest
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(rest.len());
    if end == 0 {
        return Err(E_MISSING);
    }
    Ok(Some(&rest[..end]))
}

/// The envelope address of one complete command line (its CRLF or LF removed): `Ok(None)` for
/// other commands and the null sender, `Err` for a malformed `MAIL FROM` / `RCPT TO`.
pub fn command_envelope(line: &[u8]) -> Result<Option<Envelope<'_>>, &'static str> {
    let (found, mail) = if let Some(r) = command(line, b"MAIL", b"FROM") {
        (r, true)
    } else if let Some(r) = command(line, b"RCPT", b"TO") {
        (r, false)
    } else {
        return Ok(None);
    };
    match address(found)? {
        Some(a) if mail => Ok(Some(Envelope::MailFrom(a))),
        Some(a) => Ok(Some(Envelope::RcptTo(a))),
        None if mail => Ok(None),
        None => Err(E_EMPTY),
    }
}
