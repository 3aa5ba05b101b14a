//! Free-text extraction: find indicator-shaped tokens in a log line or any other text.
//!
//! * [`Extractor`] — the options ([`Options`]: recognise defanged forms or not); cheap to copy.
//! * [`Tokens`] — the iterator [`Extractor::tokens`] returns: one forward pass over the bytes,
//!   no allocation, no regex, no panic on any input (invalid UTF-8, NULs, megabyte lines).
//! * [`Found`] — one token: its byte span in the input and a [`Token`] (an address, or the raw
//!   bytes of a name, email, URL or hex digest, borrowed from the input; the caller canonicalises
//!   them with [`crate::indicators::normalize`]).
//! * [`refang`] — turns the raw bytes of a defanged token back into the plain form.
//!
//! The code follows the scan: `classes` (byte tables), `masks` (64-byte blocks to bit masks),
//! `chars` (UTF-8 and word characters), `parsers` (one per kind, run at an anchor), `scanner`
//! ([`Tokens`], which hands each anchor to its parser).
//!
//! # How it scans
//!
//! Most bytes of a log line cannot start a token. The text is cut into 64-byte blocks, and SIMD
//! compares (SSE2, or AVX2 when the CPU has it) turn each block into bit masks: dots, colons,
//! `@` (and `[`, `(` when defanged), hex digits, letters, slashes. The masks alone dismiss most
//! dots and colons: a name always has a dot followed by a letter (its TLD's), an IPv4 address a
//! chain of three dots 2–4 bytes apart, an IPv6 address a `::` or a chain of five colons, a URL a
//! `:/`; so versions (`Chrome/120.0.6099.109`, `HTTP/1.1`) and times of day cost nothing. A parser
//! runs only at the anchors that remain, walking back from there to where its token starts
//! (a plain dotted quad takes a shorter path than names). Hex digests come from the hex mask alone
//! (a run of 32 set bits is found with five shift-ands). Parsers re-read only the bytes around an
//! anchor and never walk back over a byte twice, so the work is linear in the input.
//!
//! # Rules
//!
//! A *word character* is an ASCII letter or digit or a Unicode letter, digit or combining mark.
//! Tokens never continue a word: the bytes on either side of a token must not be word characters
//! (further limits per kind below). `_` and `-` are not word characters but are part of names.
//!
//! * **IPv4** — a dotted quad of decimal octets ≤ 255 without leading zeros (`01.2.3.4` is not
//!   one). It must not be part of a longer dotted run: `1.2.3.4.5`, `v10.1.2.3`, `1.2.3.4a` and
//!   `1.2.3.4.example.com` (a name) give no address. `-` and `_` separate it from neighbours, so
//!   `10.0.0.1-10.0.0.255` gives two addresses. A `/` before it is a boundary, so a version in a
//!   user agent such as `Chrome/10.0.0.1` *is* reported: paths and `key/value` fields carry real
//!   addresses far more often than four-part versions with octets ≤ 255, and a stray lookup costs
//!   little. `1.2.3.4:8080` gives the address alone; a trailing sentence dot is not part of it.
//! * **IPv6** — groups of 1–4 hex digits, at most one `::`, an optional dotted IPv4 tail
//!   (`::ffff:1.2.3.4`, reported as that IPv6 address: the caller unmaps it with
//!   [`crate::indicators::normalize::unmap_addr`]). To keep times (`12:34:56`), MAC addresses
//!   (`00:11:22:33:44:55`) and the like out, an address needs a `::` and at least one group, or
//!   all eight groups with at least one of three or more digits (or an IPv4 tail). It must not
//!   follow a word character, `:` or `.`, nor be followed by a word character, `::`, `:` plus a hex
//!   digit, or `.` plus a name character. A zone (`fe80::1%eth0`) is skipped: the span is the
//!   address alone. `[2001:db8::1]:443` gives the address inside the brackets. A known blind spot:
//!   `key:2001:db8::1` (a `:` right before the address) gives nothing, as it cannot be told from
//!   a longer colon-separated run; `key=2001:db8::1` works.
//! * **Domain** — at least two labels of ASCII letters, digits, `-`, `_` or Unicode word
//!   characters (so `bücher.example` is found; the caller IDNA-encodes it), each 1–63 bytes and
//!   not starting or ending with `-` (leading `-` are trimmed: `-evil.com` gives `evil.com`),
//!   at most 253 bytes in all, the last label two or more letters (Unicode letters allowed) or a
//!   punycode `xn--` label. The span is the raw bytes as written (case kept); a trailing dot is
//!   not part of it. A name right after `@` is never a domain (it is an email's, or a handle's).
//!   There is no TLD list: `index.html` or `kibana-search.png` are reported too, and the set's
//!   lookup simply misses them.
//! * **Email** — `local@domain`, the domain valid as above. The local part is RFC 5322 atext
//!   *minus* `' = / ? % { } | `` ` ``: in logs and URLs those are delimiters far more often than
//!   parts of an address (`user='a@b.example'`, `sasl_username=a@b.example`, `/users/a@b.example`).
//!   It is 1–64 bytes, has no `..`, does not end with `.`; leading dots are trimmed. A dotted run
//!   directly followed by local-part characters and an `@` is a local part, never a domain or
//!   address on its own.
//! * **URL** — scheme `http`, `https`, `ftp`, `ws` or `wss` (any case; `hxxp`/`hxxps` when
//!   defanged), `://`, a non-empty host; the scheme must not continue a word (`xhttp://`). It runs
//!   to the first whitespace, control byte, `"`, `'`, `<`, `>`, backtick or `\` (the last so that
//!   JSON's `\"` ends it); then trailing `. , ; : ! ?` are dropped, and trailing `) ] }` too unless
//!   an opener inside the URL balances them (`…/Foo_(bar)` keeps its `)`).
//! * **Hex** — a maximal run of exactly 32, 40, 64 or 128 hex digits (either case) with no word
//!   character on either side. Hex runs are found independently of every other kind: `<md5>.exe`
//!   gives the digest *and* the name, a digest inside a URL is reported too.
//!
//! # Overlaps
//!
//! * A URL yields the URL and then its host (a [`Token::Domain`], [`Token::Ipv4`] or
//!   [`Token::Ipv6`] with its own span; single-label hosts such as `localhost` yield none). The
//!   userinfo yields nothing. Scanning goes on after the authority, so addresses, names, emails
//!   and digests in the path and query are reported too; a URL inside another URL's path or query
//!   (`?next=http://…`) is not reported as a URL (its host still is, as a name); the outer URL
//!   contains it, which is what URL matching needs.
//! * An email yields the email only: its domain is not reported separately. `root@10.0.0.1` is
//!   not an email, and yields the address.
//! * Tokens come in the text order of the byte that triggered them (one of a name's dots, an
//!   email's `@`, a URL's scheme colon, a digest's first digit), so they are nearly but not
//!   strictly sorted by `start`: a URL's host comes right after its URL, and a digest inside a
//!   name may come before or after the name. Sort by `start` where order matters.
//!
//! # Defanged forms
//!
//! With [`Options::defanged`], `hxxp://`, `hxxps://`, `[.]`, `(.)`, `[:]` and `[@]` are read as
//! their plain forms. Tokens still borrow the raw bytes (they cannot be rewritten in place):
//! [`Found::defanged`] says when a token used a defanged form, and [`refang`] writes the plain
//! bytes into a caller-owned buffer. The common case (nothing defanged) so stays allocation-free.
//! Addresses are parsed either way: their token holds the value.

mod chars;
mod classes;
mod masks;
mod parsers;
mod scanner;

pub use scanner::Tokens;

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::indicators::model::Kind;

/// An indicator-shaped token, borrowed from the scanned text where it is text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Token<'a> {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (without any zone; IPv4-mapped addresses are left as they are).
    Ipv6(Ipv6Addr),
    /// A DNS name as written: not lowercased, not IDNA-encoded.
    Domain(&'a [u8]),
    /// An email address as written.
    Email(&'a [u8]),
    /// A URL as written, scheme included.
    Url(&'a [u8]),
    /// A run of 32, 40, 64 or 128 hex digits, either case.
    Hex(&'a [u8]),
}

impl Token<'_> {
    /// The indicator kind this token is looked up as (a hex run's length gives its hash kind).
    pub fn kind(&self) -> Kind {
        match self {
            Token::Ipv4(_) => Kind::Ipv4,
            Token::Ipv6(_) => Kind::Ipv6,
            Token::Domain(_) => Kind::Domain,
            Token::Email(_) => Kind::Email,
            Token::Url(_) => Kind::Url,
            Token::Hex(h) => match h.len() {
                32 => Kind::Md5,
                40 => Kind::Sha1,
                64 => Kind::Sha256,
                _ => Kind::Sha512,
            },
        }
    }
}

/// One token found in the text, with where it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Found<'a> {
    /// Byte offset of the token's first byte in the scanned text.
    pub start: usize,
    /// Byte offset just past the token's last byte (`start < end`).
    pub end: usize,
    /// What was found.
    pub token: Token<'a>,
    /// The raw bytes use a defanged form (`hxxp`, `[.]`, …): pass them through [`refang`]
    /// before canonicalising. Always `false` unless [`Options::defanged`] is set.
    pub defanged: bool,
}

impl Found<'_> {
    /// The indicator kind of the token (see [`Token::kind`]).
    pub fn kind(&self) -> Kind {
        self.token.kind()
    }
}

/// Extraction options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Also read defanged forms (`hxxp://`, `[.]`, `(.)`, `[:]`, `[@]`). Off by default: plain
    /// logs never contain them, and `[` / `(` become anchors, which costs a little speed.
    pub defanged: bool,
}

/// Finds indicator-shaped tokens in text. Holds only options, so build it once and share it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Extractor {
    opts: Options,
}

impl Extractor {
    /// An extractor with the given options.
    pub fn new(opts: Options) -> Self {
        Extractor { opts }
    }

    /// The options in use.
    pub fn options(&self) -> Options {
        self.opts
    }

    /// Every token in `text`, in one forward pass (see the module docs for the rules).
    pub fn tokens<'a>(&self, text: &'a [u8]) -> Tokens<'a> {
        Tokens::new(text, self.opts)
    }
}

/// Writes the plain form of a defanged token's raw bytes into `out` (cleared first):
/// `[.]` and `(.)` become `.`, `[:]` becomes `:`, `[@]` becomes `@`, and a leading
/// `hxxp`/`hxxps` scheme (any case) becomes `http`/`https`. Any token's raw bytes may be passed;
/// a plain one comes out unchanged.
pub fn refang(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(raw.len());
    let mut i = 0;
    if raw.len() >= 4 && raw[..4].eq_ignore_ascii_case(b"hxxp") {
        let rest = &raw[4..];
        let rest = match rest.first() {
            Some(b's' | b'S') => &rest[1..],
            _ => rest,
        };
        if rest.starts_with(b"://") || rest.starts_with(b"[:]//") {
            out.extend_from_slice(b"http");
            i = 4;
        }
    }
    while i < raw.len() {
        match raw.get(i..i + 3) {
            Some(b"[.]" | b"(.)") => out.push(b'.'),
            Some(b"[:]") => out.push(b':'),
            Some(b"[@]") => out.push(b'@'),
            _ => {
                out.push(raw[i]);
                i += 1;
                continue;
            }
        }
        i += 3;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refang_forms() {
        let mut out = Vec::new();
        refang(b"hXXps://evil[.]example(.)com[:]8080/a[@]b", &mut out);
        assert_eq!(out, b"https://evil.example.com:8080/a@b");
        refang(b"plain.example", &mut out);
        assert_eq!(out, b"plain.example");
    }

    #[test]
    fn tokens_in_line_order_and_defanged_url_refangs() {
        let line = b"203.0.113.7 GET https://Evil.Example/x?u=bob@evil.example";
        let kinds: Vec<String> = Extractor::default()
            .tokens(line)
            .map(|f| {
                format!(
                    "{}:{}",
                    f.kind(),
                    String::from_utf8_lossy(&line[f.start..f.end])
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ipv4:203.0.113.7",
                "url:https://Evil.Example/x?u=bob@evil.example",
                "domain:Evil.Example",
                "email:bob@evil.example",
            ]
        );

        let mut plain = Vec::new();
        let defanged = Extractor::new(Options { defanged: true });
        let found = defanged
            .tokens(b"see hxxp://evil[.]example/a")
            .next()
            .unwrap();
        assert!(found.defanged);
        let Token::Url(raw) = found.token else {
            panic!("expected a URL token, got {:?}", found.token);
        };
        refang(raw, &mut plain);
        assert_eq!(plain, b"http://evil.example/a");
    }
}
