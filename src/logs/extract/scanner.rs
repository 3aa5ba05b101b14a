//! The scanner: [`Tokens`], one forward pass over the blocks that hands each anchor to its
//! parser.

use std::iter::FusedIterator;

use super::chars::{label_char_at, label_char_before, sep_len, word_at, word_before};
use super::classes::{AUTH_END, HEX, LABEL_BITS, LOCAL, URL_STOP, class};
use super::masks::{Masks, Simd, anchors, hex_runs, keep_from, masks_at};
use super::parsers::{
    has_defanged_form, parse_ipv4, parse_ipv6, parse_run, strip_trailing, url_scheme, zone_end,
};
use super::{Found, Options, Token};

enum Event {
    Anchor(usize),
    Hex(usize),
}

/// The tokens of one text, in one forward pass; made by
/// [`Extractor::tokens`](super::Extractor::tokens). Borrows the text and allocates nothing.
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    text: &'a [u8],
    defang: bool,
    simd: Simd,
    /// Anchors before this position are done with.
    cursor: usize,
    /// Parsers never walk back before this position (the end of the last token).
    floor: usize,
    /// Hex runs before this position are done with.
    hex_pos: usize,
    /// End of the last URL: no URL starts inside another.
    url_end: usize,
    /// Start of the current block, and its remaining anchor and hex-run bits.
    blk: usize,
    anchors: u64,
    hex: u64,
    /// Every dot and colon is an anchor and no fast path is taken (tests compare this
    /// reference scan with the real one).
    #[cfg(test)]
    reference: bool,
    /// Raw masks of the block after the current one.
    next: Masks,
    /// A token found together with the one returned last (a URL's host).
    pending: Option<Found<'a>>,
    /// A dotted run holding `-` or `_`, still to be searched for addresses: (from, end).
    pieces: Option<(usize, usize)>,
}

impl<'a> Tokens<'a> {
    pub(super) fn new(text: &'a [u8], opts: Options) -> Self {
        let defang = opts.defanged;
        let simd = Simd::detect();
        let mut tokens = Tokens {
            text,
            defang,
            simd,
            cursor: 0,
            floor: 0,
            hex_pos: 0,
            url_end: 0,
            blk: 0,
            anchors: 0,
            hex: 0,
            #[cfg(test)]
            reference: false,
            next: masks_at(text, 64, simd, defang),
            pending: None,
            pieces: None,
        };
        tokens.load(masks_at(text, 0, simd, defang));
        tokens
    }

    /// Makes `cur` (the masks of the block at `blk`) the current block.
    fn load(&mut self, cur: Masks) {
        self.anchors = anchors(&cur, &self.next);
        #[cfg(test)]
        if self.reference {
            self.anchors = cur.dots | cur.colons | cur.others;
        }
        self.hex = hex_runs(cur.hex, self.next.hex);
    }

    /// The next anchor or hex-run start, in text order.
    fn next_event(&mut self) -> Option<Event> {
        loop {
            self.anchors &= keep_from(self.cursor, self.blk);
            self.hex &= keep_from(self.hex_pos, self.blk);
            if self.anchors | self.hex != 0 {
                let a = self.anchors.trailing_zeros();
                let h = self.hex.trailing_zeros();
                return Some(if h < a {
                    self.hex &= self.hex - 1;
                    Event::Hex(self.blk + h as usize)
                } else {
                    self.anchors &= self.anchors - 1;
                    Event::Anchor(self.blk + a as usize)
                });
            }
            if self.blk + 64 >= self.text.len() {
                return None;
            }
            self.blk += 64;
            let cur = self.next;
            self.next = masks_at(self.text, self.blk + 64, self.simd, self.defang);
            self.load(cur);
        }
    }

    fn on_anchor(&mut self, p: usize) -> Option<Found<'a>> {
        match self.text[p] {
            b'.' => self.on_dot(p),
            b':' => self.on_colon(p, 1),
            b'@' => self.on_at(p, 1),
            // '[' or '(' (anchors only when defanged forms are on)
            _ => match self.text.get(p..p + 3) {
                Some(b"[.]" | b"(.)") => self.on_dot(p),
                Some(b"[:]") => self.on_colon(p, 3),
                Some(b"[@]") => self.on_at(p, 3),
                _ => None,
            },
        }
    }

    /// A hex run of at least 32 digits starts at `p`.
    fn on_hex(&mut self, p: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut q = p + 32;
        while text.get(q).is_some_and(|&b| class(b) & HEX != 0) {
            q += 1;
        }
        self.hex_pos = q;
        if !matches!(q - p, 32 | 40 | 64 | 128) || word_before(text, p) || word_at(text, q) {
            return None;
        }
        Some(Found {
            start: p,
            end: q,
            token: Token::Hex(&text[p..q]),
            defanged: false,
        })
    }

    /// A label separator at `d`: a name, an address, or an email's local part.
    fn on_dot(&mut self, d: usize) -> Option<Found<'a>> {
        let text = self.text;
        if label_char_at(text, d + sep_len(text, d, self.defang)) == 0 {
            return None; // a dot that ends a run (or stands alone) starts nothing
        }
        #[cfg(test)]
        let fast = !self.reference;
        #[cfg(not(test))]
        let fast = true;
        if fast {
            if let Some(found) = self.plain_ipv4(d) {
                return Some(found);
            }
        }
        let mut s = self.run_start(d);
        // Leading hyphens are punctuation (`-evil.com`, `--config.yaml`).
        while s < d {
            if text[s] == b'-' {
                s += 1;
            } else if label_char_at(text, s) == 0 {
                s += sep_len(text, s, self.defang).max(1); // a label of hyphens only
            } else {
                break;
            }
        }
        if s >= d {
            return None; // nothing before the dot: a later dot starts the run, if any
        }
        let run = parse_run(text, s, self.defang);
        if let Some(at) = self.local_part_end(s, run.end) {
            self.cursor = at; // leave the bytes to the email parser
            return None;
        }
        self.cursor = run.end;
        let found = if run.is_domain() {
            let after_at = (s > 0 && text[s - 1] == b'@')
                || (self.defang && s >= 3 && &text[s - 3..s] == b"[@]");
            (!after_at).then(|| Found {
                start: s,
                end: run.end,
                token: Token::Domain(&text[s..run.end]),
                defanged: run.defanged,
            })
        } else if run.digits && run.labels == 4 {
            parse_ipv4(text, s, self.defang)
                .filter(|&(_, end)| end == run.end)
                .map(|(ip, end)| Found {
                    start: s,
                    end,
                    token: Token::Ipv4(ip),
                    defanged: run.defanged,
                })
        } else {
            if run.joined && run.labels >= 4 {
                self.pieces = Some((s, run.end));
            }
            None
        };
        // Only a token moves the floor: how far later parsers may walk back must not depend
        // on which anchors were parsed and found nothing (the anchor filter skips most).
        if found.is_some() {
            self.floor = run.end;
        }
        found
    }

    /// The commonest token, a dotted quad between plain delimiters, without the general run
    /// parser; `None` sends anything unusual (a longer run, a possible local part, defanged
    /// separators, non-ASCII neighbours) to [`Self::on_dot`]'s general path, which gives the
    /// same answer when this one gives one.
    fn plain_ipv4(&mut self, d: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut s = d;
        while s > self.floor && d - s < 3 && text[s - 1].is_ascii_digit() {
            s -= 1;
        }
        // Neither a name nor a local-part byte (so not `.`, `-`, `_`), ASCII, not `@`, and not
        // a bracket of a defanged form.
        let plain = |b: u8| {
            b < 0x80
                && LABEL_BITS[usize::from(b)] == 0
                && class(b) & LOCAL == 0
                && b != b'@'
                && !(self.defang && matches!(b, b'[' | b'(' | b']' | b')'))
        };
        if s == d || (s > 0 && !plain(text[s - 1])) {
            return None;
        }
        let (ip, e) = parse_ipv4(text, s, false)?;
        if text.get(e).is_some_and(|&b| !plain(b)) {
            return None;
        }
        self.cursor = e;
        self.floor = e;
        Some(Found {
            start: s,
            end: e,
            token: Token::Ipv4(ip),
            defanged: false,
        })
    }

    /// Where the dotted run through the separator at `d` starts: back over labels and the
    /// separators between them (the dot that triggered parsing need not be the run's first).
    fn run_start(&self, d: usize) -> usize {
        let text = self.text;
        let mut s = d;
        loop {
            while s > self.floor {
                if LABEL_BITS[usize::from(text[s - 1])] != 0 {
                    s -= 1;
                    continue;
                }
                let len = label_char_before(text, s);
                if len == 0 || s - len < self.floor {
                    break;
                }
                s -= len;
            }
            let sep = if s >= 1 && text[s - 1] == b'.' {
                1
            } else if self.defang && s >= 3 && matches!(&text[s - 3..s], b"[.]" | b"(.)") {
                3
            } else {
                0
            };
            if s == d || sep == 0 || s - sep <= self.floor || label_char_before(text, s - sep) == 0
            {
                return s;
            }
            s -= sep;
        }
    }

    /// If the run `[s, e)` continues with local-part characters into an `@`, where the `@` is.
    fn local_part_end(&self, s: usize, e: usize) -> Option<usize> {
        let text = self.text;
        let limit = s + 65;
        let mut j = e;
        while j < limit && text.get(j).is_some_and(|&b| class(b) & LOCAL != 0) {
            if text[j] == b'.' && text.get(j + 1) == Some(&b'.') {
                return None; // an ellipsis: no local part runs through it
            }
            j += 1;
        }
        match text.get(j) {
            Some(b'@') => Some(j),
            Some(b'[') if self.defang && text.get(j..j + 3) == Some(b"[@]") => Some(j),
            _ => None,
        }
    }

    /// The next address in a dotted run joined by `-` or `_` (`10.0.0.1-10.0.0.255`).
    fn next_piece(&mut self, mut p: usize, e: usize) -> Option<Found<'a>> {
        let text = self.text;
        while p < e {
            let next = text[p..e]
                .iter()
                .position(|&b| b == b'-' || b == b'_')
                .map_or(e, |k| p + k + 1);
            let ip = parse_ipv4(text, p, self.defang)
                .filter(|&(_, q)| q == e || matches!(text[q], b'-' | b'_'));
            if let Some((ip, q)) = ip {
                self.pieces = (next < e).then_some((next, e));
                return Some(Found {
                    start: p,
                    end: q,
                    token: Token::Ipv4(ip),
                    defanged: self.defang && text[p..q].iter().any(|&b| b == b'[' || b == b'('),
                });
            }
            p = next;
        }
        self.pieces = None;
        None
    }

    /// A colon at `c` (`clen` bytes: 1, or 3 for `[:]`): a URL scheme's, or inside an IPv6
    /// address.
    fn on_colon(&mut self, c: usize, clen: usize) -> Option<Found<'a>> {
        if c >= self.url_end && self.text.get(c + clen..c + clen + 2) == Some(b"//") {
            if let Some(found) = self.url(c, clen + 2) {
                return Some(found);
            }
        }
        if clen == 1 { self.ipv6(c) } else { None }
    }

    /// A URL whose scheme ends at `c` and whose authority starts at `c + sep`.
    fn url(&mut self, c: usize, sep: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut ss = c;
        while ss > self.floor && c - ss < 6 && text[ss - 1].is_ascii_alphabetic() {
            ss -= 1;
        }
        if word_before(text, ss) {
            return None;
        }
        let hxxp = url_scheme(&text[ss..c], self.defang)?;
        let a = c + sep;
        // One pass: the authority (noting its last `@`), then the rest of the URL.
        let mut end = a;
        let mut at = None;
        while let Some(&b) = text.get(end) {
            if class(b) & (URL_STOP | AUTH_END) != 0 {
                break;
            }
            if b == b'@' {
                at = Some(end);
            }
            end += 1;
        }
        let auth_end = end;
        while text.get(end).is_some_and(|&b| class(b) & URL_STOP == 0) {
            end += 1;
        }
        let end = strip_trailing(text, a, end);
        let auth_end = auth_end.min(end);
        let host_start = match at {
            None => a,
            Some(k) if self.defang && k > a && text.get(k - 1..k + 2) == Some(b"[@]") => k + 2,
            Some(k) => k + 1,
        };
        if host_start >= auth_end {
            return None;
        }
        self.url_end = end;
        self.cursor = auth_end;
        self.floor = auth_end;
        self.pending = self.url_host(host_start, auth_end);
        Some(Found {
            start: ss,
            end,
            token: Token::Url(&text[ss..end]),
            defanged: hxxp || sep > 3 || (self.defang && has_defanged_form(&text[a..end])),
        })
    }

    /// The host of a URL, `[hs, he)` being the authority after any userinfo.
    fn url_host(&self, hs: usize, he: usize) -> Option<Found<'a>> {
        let text = self.text;
        if text[hs] == b'[' && sep_len(text, hs, self.defang) == 0 {
            let (ip, end) = parse_ipv6(text, hs + 1)?;
            let z = if text.get(end) == Some(&b'%') {
                zone_end(text, end)
            } else {
                end
            };
            return (z < he && text[z] == b']').then_some(Found {
                start: hs + 1,
                end,
                token: Token::Ipv6(ip),
                defanged: false,
            });
        }
        if label_char_at(text, hs) == 0 {
            return None;
        }
        let run = parse_run(text, hs, self.defang);
        let e = run.end;
        let whole = e == he
            || (e < he
                && match text[e] {
                    b':' => true,
                    b'.' => e + 1 == he || text[e + 1] == b':',
                    _ => self.defang && text.get(e..e + 3) == Some(b"[:]"),
                });
        if !whole {
            return None;
        }
        if run.is_domain() {
            return Some(Found {
                start: hs,
                end: e,
                token: Token::Domain(&text[hs..e]),
                defanged: run.defanged,
            });
        }
        if !(run.digits && run.labels == 4) {
            return None;
        }
        parse_ipv4(text, hs, self.defang)
            .filter(|&(_, q)| q == e)
            .map(|(ip, _)| Found {
                start: hs,
                end: e,
                token: Token::Ipv4(ip),
                defanged: run.defanged,
            })
    }

    /// An IPv6 address around the colon at `c`.
    fn ipv6(&mut self, c: usize) -> Option<Found<'a>> {
        let text = self.text;
        // Back to where the hex digits and colons around `c` start: the colon that triggered
        // parsing may be a `::` in the middle of the address.
        let mut w = c;
        while w > self.floor && c - w < 40 && (class(text[w - 1]) & HEX != 0 || text[w - 1] == b':')
        {
            w -= 1;
        }
        if c - w >= 40 {
            return None;
        }
        // A single leading colon is not part of the address (and the check below refuses it).
        let start = if text[w] == b':' && text.get(w + 1) != Some(&b':') {
            w + 1
        } else {
            w
        };
        if start > 0 && (matches!(text[start - 1], b':' | b'.') || word_before(text, start)) {
            return None;
        }
        let (ip, addr_end) = parse_ipv6(text, start)?;
        let end = if text.get(addr_end) == Some(&b'%') {
            zone_end(text, addr_end)
        } else {
            addr_end
        };
        let bad_tail = match text.get(end) {
            Some(b':') => text
                .get(end + 1)
                .is_some_and(|&b| b == b':' || class(b) & HEX != 0),
            Some(b'.') => label_char_at(text, end + 1) > 0,
            _ => word_at(text, end),
        };
        if bad_tail {
            return None;
        }
        self.cursor = end;
        self.floor = end;
        Some(Found {
            start,
            end: addr_end,
            token: Token::Ipv6(ip),
            defanged: false,
        })
    }

    /// An `@` at `a` (`alen` bytes: 1, or 3 for `[@]`).
    fn on_at(&mut self, a: usize, alen: usize) -> Option<Found<'a>> {
        let text = self.text;
        let mut ls = a;
        let mut ellipsis = false;
        while ls > self.floor && a - ls <= 64 && class(text[ls - 1]) & LOCAL != 0 {
            if text[ls - 1] == b'.' && ls >= 2 && text[ls - 2] == b'.' {
                // A local part has no `..`. Three or more dots are an ellipsis before the
                // address (`see...bob@x.example`); two are a malformed local part.
                ellipsis = ls >= 3 && text[ls - 3] == b'.';
                if ellipsis {
                    break;
                }
                return None;
            }
            ls -= 1;
        }
        if !ellipsis && ls > 0 && (class(text[ls - 1]) & LOCAL != 0 || word_before(text, ls)) {
            return None;
        }
        while ls < a && text[ls] == b'.' {
            ls += 1;
        }
        let local = &text[ls..a];
        if local.is_empty() || local.len() > 64 || local.last() == Some(&b'.') {
            return None;
        }
        let ds = a + alen;
        if label_char_at(text, ds) == 0 {
            return None;
        }
        let run = parse_run(text, ds, self.defang);
        if !run.is_domain() {
            return None;
        }
        self.cursor = run.end;
        self.floor = run.end;
        Some(Found {
            start: ls,
            end: run.end,
            token: Token::Email(&text[ls..run.end]),
            defanged: alen > 1 || run.defanged,
        })
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Found<'a>;

    fn next(&mut self) -> Option<Found<'a>> {
        // Test the slot before moving it: `take()` copied the whole token out on every call.
        if let Some(found) = self.pending {
            self.pending = None;
            return Some(found);
        }
        loop {
            if let Some((p, e)) = self.pieces {
                if let Some(found) = self.next_piece(p, e) {
                    return Some(found);
                }
            }
            let found = match self.next_event()? {
                Event::Anchor(p) => self.on_anchor(p),
                Event::Hex(p) => self.on_hex(p),
            };
            if found.is_some() {
                return found;
            }
        }
    }
}

impl FusedIterator for Tokens<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &[u8], defang: bool, reference: bool) -> Vec<Found<'_>> {
        let mut tokens = Tokens::new(text, Options { defanged: defang });
        if reference {
            tokens.reference = true;
            let m = masks_at(text, 0, Simd::Baseline, defang);
            tokens.anchors = m.dots | m.colons | m.others;
        }
        tokens.collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Dismissing dots and colons from the block masks, and the IPv4 fast path, change
        /// nothing but speed.
        #[test]
        fn anchor_filter_only_saves_time(
            bytes in proptest::collection::vec(
                proptest::sample::select(b"..::@@//[]().-_+0123456789abcdefghtpwsxyz% \xc3\xa9".to_vec()),
                0..300,
            ),
            defang: bool,
        ) {
            proptest::prop_assert_eq!(scan(&bytes, defang, false), scan(&bytes, defang, true));
        }
    }

    #[test]
    fn anchor_filter_cases() {
        for text in [
            &b"1.2.3.4 2001:db8::1 fe80::1 1:2:3:4:5:6:7:8 1:2:3:4:5:6:1.2.3.4 http://a.b/"[..],
            b"1.2.3.com 12:34:2001:db8::1 a.b.c+d@x.com 5.0:ab::1 -1.2.3.4 --.evil.com",
            b"1111:2222:3333:4444:5555:6666:7777:8888 ::ffff:10.0.0.1 10.0.0.1-10.0.0.2",
            b"_.-0::",
        ] {
            for defang in [false, true] {
                assert_eq!(scan(text, defang, false), scan(text, defang, true));
            }
        }
    }
}
