//! Free text against a set: every indicator of any kind inside a line or a document, found by
//! extracting candidate tokens ([`super::extract`]) and looking each up, plus the set's
//! literal search for schemeless URL fragments and HTTP requests.

use std::net::IpAddr;

use super::extract::{Extractor, Token, refang};
use crate::indicators::read::{IndicatorSet, Match, with_canonical_url};

/// Every active indicator of any kind found inside `text` (a log line, a document):
/// addresses, names, emails, URLs and hex digests extracted by [`crate::logs::extract`], plus
/// URL substrings and HTTP literals found by Aho-Corasick. Each hit carries its byte span.
/// Allocates only when something matches.
pub fn scan_text<D: AsRef<[u8]>>(set: &IndicatorSet<D>, text: &[u8]) -> std::vec::IntoIter<Match> {
    let mut out = Vec::new();
    scan_text_into(set, &Extractor::default(), text, &mut out);
    out.into_iter()
}

/// [`scan_text`] with a caller's extractor (e.g. with defanged forms on),
/// appending to `out`.
pub(crate) fn scan_text_into<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    extractor: &Extractor,
    text: &[u8],
    out: &mut Vec<Match>,
) {
    let mut refanged = Vec::new();
    for found in extractor.tokens(text) {
        let raw = match found.token {
            Token::Domain(b) | Token::Email(b) | Token::Url(b) | Token::Hex(b) => b,
            Token::Ipv4(_) | Token::Ipv6(_) => &[][..],
        };
        let bytes = if found.defanged {
            refanged.clear();
            refang(raw, &mut refanged);
            &refanged[..]
        } else {
            raw
        };
        let span = |mut h: Match| {
            h.start = found.start as u32;
            h.end = found.end as u32;
            h
        };
        match found.token {
            Token::Ipv4(a) => out.extend(set.match_ipv4(a).map(span)),
            Token::Ipv6(a) => out.extend(set.match_ip(IpAddr::V6(a)).map(span)),
            Token::Domain(_) => {
                let hit = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|d| set.match_domain(d));
                out.extend(hit.map(span));
            }
            Token::Email(_) => {
                let hit = std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|e| set.match_email(e));
                out.extend(hit.map(span));
            }
            Token::Hex(_) => out.extend(set.match_hash_hex(bytes).map(span)),
            Token::Url(_) => {
                // URLs with a scheme are matched on the canonical token. Schemeless patterns
                // are found by the text-wide search below, which sees the URL as written; a
                // URL whose canonical form differs (case, default port, defanged) is
                // searched canonicalised too.
                let Ok(url) = std::str::from_utf8(bytes) else {
                    continue;
                };
                let mut hits = Vec::new();
                with_canonical_url(url, |c| {
                    if c.as_bytes() == raw {
                        set.match_canonical_url_prefixes(c.as_bytes(), &mut hits);
                    } else {
                        set.match_canonical_url(c.as_bytes(), &mut hits);
                    }
                });
                out.extend(hits.into_iter().map(span));
            }
        }
    }
    set.match_literals(text, out);
}
