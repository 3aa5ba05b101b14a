//! The per-kind parsers run at the anchors that remain: dotted runs of name labels (names
//! and IPv4 addresses), IPv4, IPv6 and zones, URL schemes and trailing punctuation.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::indicators::normalize::hex_val;

use super::chars::{decode_at, is_mark, is_word_char, label_char_at, sep_len};
use super::classes::{HEX, L_JOIN, L_NOT_ALPHA, L_NOT_DIGIT, LABEL_BITS, class};

/// A maximal dotted run of name labels.
#[derive(Clone, Copy, Debug)]
pub(super) struct Run {
    pub(super) end: usize,
    pub(super) labels: usize,
    /// Label bytes plus one per separator: the length once refanged.
    pub(super) len: usize,
    /// Every label is ASCII digits.
    pub(super) digits: bool,
    /// Some label is longer than 63 bytes or starts or ends with `-`.
    pub(super) bad: bool,
    /// The last label can be a TLD: two or more letters, or `xn--…`.
    pub(super) tld: bool,
    /// A label holds `-` or `_` (an IPv4 address may sit between them).
    pub(super) joined: bool,
    /// A defanged separator was used.
    pub(super) defanged: bool,
}

impl Run {
    pub(super) fn is_domain(&self) -> bool {
        self.labels >= 2 && !self.bad && self.tld && self.len <= 253
    }
}

/// Parses the dotted run of labels starting at `s` (a label character).
pub(super) fn parse_run(text: &[u8], s: usize, defang: bool) -> Run {
    let mut run = Run {
        end: s,
        labels: 0,
        len: 0,
        digits: true,
        bad: false,
        tld: false,
        joined: false,
        defanged: false,
    };
    let mut i = s;
    loop {
        let start = i;
        // OR of the bytes' label bits: one table load per byte and no data-dependent branch
        // (branching on digit vs letter per byte cost a third of the scan time).
        let mut acc = 0u8;
        let mut multibyte = 0usize;
        loop {
            while let Some(&b) = text.get(i) {
                let t = LABEL_BITS[usize::from(b)];
                if t == 0 {
                    break;
                }
                acc |= t;
                i += 1;
            }
            match text.get(i) {
                Some(&b) if b >= 0x80 => match unicode_label_char(text, i) {
                    Some((len, bits)) => {
                        acc |= bits;
                        multibyte += len - 1;
                        i += len;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        let label = &text[start..i];
        run.labels += 1;
        run.len += label.len();
        run.digits &= acc & L_NOT_DIGIT == 0;
        run.joined |= acc & L_JOIN != 0;
        run.bad |= label.is_empty()
            || label.len() > 63
            || (acc & L_JOIN != 0 && (label[0] == b'-' || label[label.len() - 1] == b'-'));
        let sep = match text.get(i) {
            Some(b'.') => 1,
            Some(b'[' | b'(') if defang => sep_len(text, i, true),
            _ => 0,
        };
        let more = sep > 0
            && match text.get(i + sep) {
                Some(&b) if b < 0x80 => LABEL_BITS[usize::from(b)] != 0,
                Some(_) => label_char_at(text, i + sep) > 0,
                None => false,
            };
        if !more {
            run.end = i;
            run.tld =
                (acc & L_NOT_ALPHA == 0 && label.len() - multibyte >= 2) || is_punycode(label);
            return run;
        }
        run.defanged |= sep > 1;
        run.len += 1;
        i += sep;
    }
}

/// The length and label bits of the non-ASCII name character at `i`, if it is one. Out of
/// line: the label loop stays small for the ASCII names that are nearly all of them.
#[inline(never)]
fn unicode_label_char(text: &[u8], i: usize) -> Option<(usize, u8)> {
    let (c, len) = decode_at(text, i)?;
    if !is_word_char(c) {
        return None;
    }
    let alpha = c.is_alphabetic() || is_mark(c);
    Some((len, L_NOT_DIGIT | if alpha { 0 } else { L_NOT_ALPHA }))
}

fn is_punycode(label: &[u8]) -> bool {
    label.len() > 4
        && label[..4].eq_ignore_ascii_case(b"xn--")
        && label[4..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Parses a dotted quad at `i`; returns the address and where it ends. The caller checks what
/// surrounds it.
pub(super) fn parse_ipv4(text: &[u8], mut i: usize, defang: bool) -> Option<(Ipv4Addr, usize)> {
    let digit = |i: usize| {
        text.get(i)
            .filter(|b| b.is_ascii_digit())
            .map(|b| u32::from(b - b'0'))
    };
    let mut octets = [0u8; 4];
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            match sep_len(text, i, defang) {
                0 => return None,
                sep => i += sep,
            }
        }
        let first = digit(i)?;
        let mut v = first;
        i += 1;
        if let Some(d) = digit(i) {
            if first == 0 {
                return None; // a leading zero
            }
            v = v * 10 + d;
            i += 1;
            if let Some(d) = digit(i) {
                v = v * 10 + d;
                i += 1;
                if digit(i).is_some() {
                    return None;
                }
            }
        }
        *octet = u8::try_from(v).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// Parses an IPv6 address at `start` (a hex digit or `::`), under the rules in the module docs;
/// returns the address and where it ends. The caller checks what surrounds it.
pub(super) fn parse_ipv6(text: &[u8], start: usize) -> Option<(Ipv6Addr, usize)> {
    let mut groups = [0u16; 8];
    let mut n = 0;
    let mut gap = None;
    let mut long = false;
    let mut i = start;
    if text.get(i..i + 2) == Some(b"::") {
        gap = Some(0);
        i += 2;
    }
    loop {
        let group = i;
        let mut v = 0u32;
        while i - group < 5 {
            match text.get(i).and_then(|&b| hex_val(b)) {
                Some(d) => v = v << 4 | u32::from(d),
                None => break,
            }
            i += 1;
        }
        if i == group {
            break; // only right after "::": the address ends with it
        }
        if text.get(i) == Some(&b'.') && text.get(i + 1).is_some_and(u8::is_ascii_digit) {
            if n > 6 {
                return None;
            }
            let (v4, end) = parse_ipv4(text, group, false)?;
            let o = v4.octets();
            groups[n] = u16::from_be_bytes([o[0], o[1]]);
            groups[n + 1] = u16::from_be_bytes([o[2], o[3]]);
            n += 2;
            i = end;
            long = true;
            break;
        }
        if i - group > 4 || n == 8 {
            return None;
        }
        groups[n] = v as u16;
        n += 1;
        long |= i - group >= 3;
        match (text.get(i), text.get(i + 1)) {
            (Some(b':'), Some(b':')) => {
                if gap.is_some() {
                    break; // a second "::": the caller rejects what follows
                }
                gap = Some(n);
                i += 2;
            }
            (Some(b':'), Some(&b)) if class(b) & HEX != 0 => i += 1,
            _ => break,
        }
    }
    let ok = match gap {
        Some(_) => (1..=7).contains(&n),
        None => n == 8 && long,
    };
    if !ok {
        return None;
    }
    let mut out = [0u16; 8];
    match gap {
        Some(g) => {
            out[..g].copy_from_slice(&groups[..g]);
            out[8 - (n - g)..].copy_from_slice(&groups[g..n]);
        }
        None => out = groups,
    }
    Some((Ipv6Addr::from(out), i))
}

/// End of a zone id after the `%` at `pct` (`%eth0`, `%25en0`, `%eth0.100`); `pct` if none.
pub(super) fn zone_end(text: &[u8], pct: usize) -> usize {
    let mut z = pct + 1;
    while text
        .get(z)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        z += 1;
    }
    while z > pct + 1 && text[z - 1] == b'.' {
        z -= 1;
    }
    if z == pct + 1 { pct } else { z }
}

/// Whether `scheme` (at most 6 ASCII letters) starts a URL: `Some(true)` when it is a
/// defanged one.
pub(super) fn url_scheme(scheme: &[u8], defang: bool) -> Option<bool> {
    /// The letters packed into an integer, lowercased (`| 0x20` lowercases ASCII letters).
    const fn key(s: &[u8]) -> u64 {
        let mut k = 0u64;
        let mut i = 0;
        while i < s.len() {
            k = k << 8 | (s[i] | 0x20) as u64;
            i += 1;
        }
        k
    }
    const HTTP: u64 = key(b"http");
    const HTTPS: u64 = key(b"https");
    const FTP: u64 = key(b"ftp");
    const WS: u64 = key(b"ws");
    const WSS: u64 = key(b"wss");
    const HXXP: u64 = key(b"hxxp");
    const HXXPS: u64 = key(b"hxxps");
    match key(scheme) {
        HTTP | HTTPS | FTP | WS | WSS => Some(false),
        HXXP | HXXPS if defang => Some(true),
        _ => None,
    }
}

/// Drops trailing punctuation from the URL body `[a, end)`; closing brackets only when no
/// opener inside balances them.
pub(super) fn strip_trailing(text: &[u8], a: usize, mut end: usize) -> usize {
    // Counted once (closers minus openers per bracket kind), then kept up to date: counting
    // per stripped byte would be quadratic on a URL ending in many `)`.
    let mut excess: Option<[isize; 3]> = None;
    while end > a {
        let k = match text[end - 1] {
            b'.' | b',' | b';' | b':' | b'!' | b'?' => {
                end -= 1;
                continue;
            }
            b')' => 0,
            b']' => 1,
            b'}' => 2,
            _ => break,
        };
        let excess = excess.get_or_insert_with(|| {
            let mut e = [0isize; 3];
            for &b in &text[a..end] {
                match b {
                    b'(' => e[0] -= 1,
                    b')' => e[0] += 1,
                    b'[' => e[1] -= 1,
                    b']' => e[1] += 1,
                    b'{' => e[2] -= 1,
                    b'}' => e[2] += 1,
                    _ => {}
                }
            }
            e
        });
        if excess[k] <= 0 {
            break;
        }
        excess[k] -= 1;
        end -= 1;
    }
    end
}

pub(super) fn has_defanged_form(raw: &[u8]) -> bool {
    raw.windows(3)
        .any(|w| matches!(w, b"[.]" | b"(.)" | b"[:]" | b"[@]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_parser_agrees_with_std() {
        for s in [
            "::1",
            "1::",
            "2001:db8::1",
            "2001:db8:0:0:1:0:0:1",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6::7",
            "fe80::abcd:1234",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            let (ip, end) = parse_ipv6(s.as_bytes(), 0).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(end, s.len(), "{s}");
            assert_eq!(ip, s.parse::<Ipv6Addr>().unwrap(), "{s}");
        }
        for s in [
            "::",
            "1:2:3:4:5:6:7:8",
            "12:34:56",
            "1::2::3",
            "12345::1",
            "1:2:3:4:5:6:7:8:9",
        ] {
            assert!(
                parse_ipv6(s.as_bytes(), 0).is_none_or(|(_, e)| e != s.len()),
                "{s}"
            );
        }
    }

    #[test]
    fn trailing_punctuation() {
        fn strip(s: &str) -> &str {
            &s[..strip_trailing(s.as_bytes(), 0, s.len())]
        }
        assert_eq!(strip("a/b)."), "a/b");
        assert_eq!(strip("a/(b)."), "a/(b)");
        assert_eq!(strip("a/b]]"), "a/b");
        assert_eq!(strip("a/[b]]"), "a/[b]");
        assert_eq!(strip("a?!,;:"), "a");
        assert_eq!(strip("...."), "");
    }
}
