//! Matching log lines: [`LineMatcher`] finds every indicator in one line, in free text or in the
//! string values of a structured record, with the field and byte span of each hit;
//! [`BatchScanner`] does the same for many lines at once, looking all their tokens up together
//! with the set's pipelined batch lookups (several times faster on large inputs, where every
//! lookup is a cache miss).
//!
//! ```
//! use trawl::{
//!     AlignedBytes, CompileOptions, Exclusions, FeedOptions, IndicatorSet, LineMatcher,
//!     LineOptions, SetBuilder, read_text_feed,
//! };
//!
//! let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
//! let feed = &b"evil.example\n203.0.113.7\n"[..];
//! read_text_feed(feed, "feed", &FeedOptions::source("demo"), &mut b)?;
//! let set = IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build()?.0.finish(0)))?;
//! let matcher = LineMatcher::new(&set, LineOptions::default());
//! let line = b"Jan 1 00:00:01 host sshd[1]: connection from 203.0.113.7 to www.evil.example";
//! let hits: Vec<_> = matcher.scan(line).collect();
//! assert_eq!(hits.len(), 2);
//! assert_eq!(&line[hits[0].start..hits[0].end], b"203.0.113.7");
//! // A line with nothing in it allocates nothing and yields nothing.
//! assert_eq!(matcher.scan(b"Jan 1 00:00:02 host cron[2]: done").count(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cell::RefCell;
use std::net::IpAddr;
use std::ops::Range;

use hashbrown::HashMap;

use crate::indicators::model::Kind;
use crate::indicators::normalize;
use crate::indicators::read::{IndicatorSet, Match};
use crate::logs::extract::{Extractor, Options as ExtractOptions, Token};
use crate::logs::format::{Decoder, LineKind, LogFormat, csv, field_matches, json, trim_eol, zeek};

/// How lines are read.
#[derive(Clone, Debug, Default)]
pub struct LineOptions {
    /// The format [`LineMatcher::scan`] reads lines in.
    pub format: LogFormatOption,
    /// Only these fields of structured records (JSON dotted paths, Zeek/CSV column names; a
    /// path also selects the fields below it, see `field_matches`); empty: every value.
    /// Plain-text lines have no fields and are always scanned whole.
    pub fields: Vec<String>,
    /// Also recognise defanged indicators (`hxxp://`, `evil[.]example`).
    pub defanged: bool,
}

/// The format of lines given to [`LineMatcher::scan`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormatOption {
    /// Free text.
    #[default]
    Plain,
    /// One JSON object per line.
    JsonLines,
}

/// One match in a line: which indicator, in which field, at which bytes (the engine makes it
/// a [`crate::hits::Hit`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineMatch {
    /// The set's answer: which indicator matched.
    pub matched: Match,
    /// The field it was found in (JSON path, column name); `None` for free text.
    pub field: Option<String>,
    /// Start of the matched bytes in the line (for an escaped JSON, Zeek or CSV value: the
    /// start of the raw value, since unescaping moves bytes).
    pub start: usize,
    /// End (exclusive) of the matched bytes in the line.
    pub end: usize,
}

/// Finds indicators in log lines. Holds no per-line state, so one matcher can be shared by
/// every thread (`Send + Sync` when the set is); scanning allocates only when a line has hits.
pub struct LineMatcher<'s, D> {
    set: &'s IndicatorSet<D>,
    extractor: Extractor,
    opts: LineOptions,
    wants: Wants,
}

/// The token kinds worth looking up: those the set has indicators of (an IP-only blocklist
/// makes every name, URL and digest in the logs free).
#[derive(Clone, Copy, Debug)]
struct Wants {
    ipv4: bool,
    ipv6: bool,
    domain: bool,
    email: bool,
    url: bool,
    hash: bool,
    /// Any certificate or TLS fingerprint kind.
    fingerprint: bool,
}

impl Wants {
    fn of<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Wants {
        let ipv4 = set.has_kind(Kind::Ipv4);
        Wants {
            ipv4,
            // IPv4-mapped IPv6 addresses are looked up among the IPv4 indicators.
            ipv6: ipv4 || set.has_kind(Kind::Ipv6),
            domain: set.has_kind(Kind::Domain),
            email: set.has_kind(Kind::Email),
            url: set.has_kind(Kind::Url),
            hash: [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512]
                .into_iter()
                .any(|k| set.has_kind(k)),
            fingerprint: Kind::FINGERPRINTS.into_iter().any(|k| set.has_kind(k)),
        }
    }

    fn token(&self, t: &Token<'_>) -> bool {
        match t {
            Token::Ipv4(_) => self.ipv4,
            Token::Ipv6(_) => self.ipv6,
            Token::Domain(_) => self.domain,
            Token::Email(_) => self.email,
            Token::Url(_) => self.url,
            Token::Hex(_) => self.hash,
        }
    }
}

impl<'s, D: AsRef<[u8]>> LineMatcher<'s, D> {
    /// A matcher over `set`.
    pub fn new(set: &'s IndicatorSet<D>, opts: LineOptions) -> Self {
        LineMatcher {
            set,
            extractor: Extractor::new(ExtractOptions {
                defanged: opts.defanged,
            }),
            opts,
            wants: Wants::of(set),
        }
    }

    /// The set.
    pub fn set(&self) -> &'s IndicatorSet<D> {
        self.set
    }

    /// Every hit in `line`, read in the matcher's format (plain text or JSON Lines). A JSON
    /// line that does not parse is scanned whole as text (see [`LineMatcher::scan_record`]).
    /// Reuses per-thread buffers: a line without hits allocates nothing.
    pub fn scan(&self, line: &[u8]) -> std::vec::IntoIter<LineMatch> {
        let format = match self.opts.format {
            LogFormatOption::Plain => LogFormat::Plain,
            LogFormatOption::JsonLines => LogFormat::JsonLines,
        };
        thread_local! {
            static DECODER: RefCell<Option<Decoder>> = const { RefCell::new(None) };
        }
        let mut out = Vec::new();
        DECODER.with(|d| {
            let mut d = d.borrow_mut();
            let decoder = d.get_or_insert_with(|| Decoder::new(format));
            if decoder.format() != format {
                *decoder = Decoder::new(format);
            }
            let _ = self.scan_record(line, decoder, &mut out);
        });
        out.into_iter()
    }

    /// Every hit in one `line` of a file read with `decoder` (which holds the file's format
    /// and, for Zeek and CSV, its header: feed it every line of the file in order, header
    /// lines included), appended to `out`. Returns what the line was, or its parse error.
    ///
    /// A line that is not a record of the format (a syslog line in a JSON file, a record cut
    /// short or nested deeper than the walker goes, a row with the wrong column count) is
    /// scanned whole as free text, `--field` or not, so that nothing in it is hidden: the
    /// error says it was such a *fallback* line. Its hits are those of the values read before
    /// the damage (with their fields), then those of the text that no such value already
    /// reported (field `None`); in a JSON line, escaped strings (`"http:\/\/…"`) are also
    /// unescaped and matched wherever they stand.
    pub fn scan_record(
        &self,
        line: &[u8],
        decoder: &mut Decoder,
        out: &mut Vec<LineMatch>,
    ) -> Result<LineKind, &'static str> {
        thread_local! {
            static TOKENS: RefCell<Tokens> = RefCell::new(Tokens::default());
        }
        TOKENS.with(|t| {
            let mut t = t.borrow_mut();
            let result = t.add_line(self, 0, line, decoder);
            t.finish(self, |_, h| out.push(h));
            result
        })
    }
}

/// Scans many lines with batched lookups: add lines, then [`BatchScanner::finish`] looks every
/// token up at once and reports the hits by line index, in line order.
pub struct BatchScanner<'m, 's, D> {
    matcher: &'m LineMatcher<'s, D>,
    tokens: Tokens,
}

/// The buffers of a [`BatchScanner`], kept across scanners: a worker that makes a scanner per
/// chunk (because the set may have been reloaded) reuses memory that has grown to a chunk's
/// size instead of growing it again — freshly mapped pages cost a fault each.
#[derive(Default)]
pub(crate) struct ScanBuffers(Tokens);

impl<'m, 's, D: AsRef<[u8]>> BatchScanner<'m, 's, D> {
    /// A scanner for `matcher`'s set and options.
    pub fn new(matcher: &'m LineMatcher<'s, D>) -> Self {
        BatchScanner::with_buffers(matcher, ScanBuffers::default())
    }

    /// A scanner that reuses `buffers` (from [`BatchScanner::into_buffers`]).
    pub(crate) fn with_buffers(matcher: &'m LineMatcher<'s, D>, buffers: ScanBuffers) -> Self {
        BatchScanner {
            matcher,
            tokens: buffers.0,
        }
    }

    /// The scanner's buffers, for the next scanner.
    pub(crate) fn into_buffers(self) -> ScanBuffers {
        ScanBuffers(self.tokens)
    }

    /// Gathers the tokens of one line (`index` names it in [`BatchScanner::finish`]), read
    /// with `decoder` as in [`LineMatcher::scan_record`]. Returns what the line was, or its
    /// parse error.
    pub fn add_line(
        &mut self,
        index: u32,
        line: &[u8],
        decoder: &mut Decoder,
    ) -> Result<LineKind, &'static str> {
        self.tokens.add_line(self.matcher, index, line, decoder)
    }

    /// Looks every gathered token up, calls `each(line index, hit)` in (line, start) order, and
    /// empties the scanner for the next batch.
    pub fn finish(&mut self, each: impl FnMut(u32, LineMatch)) {
        self.tokens.finish(self.matcher, each);
    }
}

/// Drops the hits of a fallback line's text scan ([`Origin::Text`]) that repeat a hit of the
/// same indicator on the same line found in a value, whose span holds theirs (the value's own
/// span when it was unescaped): one indicator at one place is one hit. `hits` is sorted by
/// (line, start, end).
fn drop_echoes(hits: &mut Vec<(At, Match)>) {
    // Per line and indicator: the value hits' spans by start, with the furthest end reached so
    // far, so that each text hit is checked with one binary search (a line may hold many hits
    // of one indicator).
    let mut spans: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
    let text_lines: Vec<u32> = hits
        .iter()
        .filter(|(a, _)| a.origin == Origin::Text)
        .map(|(a, _)| a.line)
        .collect();
    for (a, h) in hits.iter() {
        if a.origin != Origin::Text && text_lines.binary_search(&a.line).is_ok() {
            let v = spans.entry((a.line, h.indicator)).or_default();
            let reach = v.last().map_or(a.end, |&(_, e)| e.max(a.end));
            v.push((a.start, reach));
        }
    }
    if spans.is_empty() {
        return;
    }
    hits.retain(|(a, h)| {
        if a.origin != Origin::Text {
            return true;
        }
        let Some(v) = spans.get(&(a.line, h.indicator)) else {
            return true;
        };
        // The value hits that start at or before this one: does any reach its end?
        let n = v.partition_point(|&(s, _)| s <= a.start);
        n == 0 || v[n - 1].1 < a.end
    });
}

/// Where a token was found.
#[derive(Clone, Copy, Debug)]
struct At {
    line: u32,
    field: u32,
    start: u32,
    end: u32,
    origin: Origin,
}

/// How a token was found: in a value of a record, or by the fallback scan of a line that is
/// not one. The order ranks them: of two hits of one indicator at one place, the first kind is
/// kept (it knows the field).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
enum Origin {
    /// A value the format's walker handed out (a plain-text line's too).
    #[default]
    Value,
    /// An escaped `"…"` string of a JSON line that did not parse, unescaped.
    Quoted,
    /// The raw text of a line that did not parse.
    Text,
}

/// The distinct keys of `keys` in first-seen order; `which[i]` is set to the index of key `i`'s
/// distinct copy.
fn distinct<K: Copy + Eq + std::hash::Hash>(
    keys: impl ExactSizeIterator<Item = K>,
    which: &mut Vec<u32>,
) -> Vec<K> {
    let mut seen: HashMap<K, u32> = HashMap::with_capacity(keys.len());
    let mut unique = Vec::with_capacity(keys.len());
    which.clear();
    for k in keys {
        let next = unique.len() as u32;
        let i = *seen.entry(k).or_insert_with(|| {
            unique.push(k);
            next
        });
        which.push(i);
    }
    unique
}

/// What the values of a field are when its name says they are certificate or TLS
/// fingerprints: they are matched against that kind only, never as file hashes (a JA3 is an
/// MD5, a certificate fingerprint a SHA-1 or SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FingerprintField {
    /// A certificate digest; its kind follows from its length (`x509-md5`, `-sha1`, `-sha256`).
    Certificate,
    /// One TLS fingerprint kind (`ja3`, `ja3s`, `ja4`, `ja4s`).
    Tls(Kind),
}

impl FingerprintField {
    /// The role of a field, by its name as Zeek, Suricata EVE and ECS write it:
    ///
    /// * Zeek `ssl.log` `ja3`, `ja3s` (the ja3 package), `ja4`, `ja4s` (the JA4 package);
    ///   EVE `tls.ja3.hash`, `tls.ja3s.hash`, `tls.ja4`, `quic.ja3.hash`, `quic.ja4`; ECS
    ///   `tls.client.ja3`, `tls.server.ja3s`;
    /// * certificates: Zeek `x509.log` `fingerprint` (SHA-256 by default) and `ssl.log`
    ///   `cert_chain_fps`, `client_cert_chain_fps`; EVE `tls.fingerprint` (SHA-1 with colons);
    ///   ECS `tls.server.hash.*`, `tls.client.hash.*`.
    fn of(field: &[u8]) -> Option<FingerprintField> {
        let last = field.rsplit(|&b| b == b'.').next().unwrap_or(field);
        let parent = field
            .strip_suffix(last)
            .and_then(|f| f.strip_suffix(b"."))
            .map(|f| f.rsplit(|&b| b == b'.').next().unwrap_or(f))
            .unwrap_or(b"");
        let tls = |name: &[u8]| {
            [
                (&b"ja3"[..], Kind::Ja3),
                (b"ja3s", Kind::Ja3s),
                (b"ja4", Kind::Ja4),
                (b"ja4s", Kind::Ja4s),
            ]
            .into_iter()
            .find(|(n, _)| name.eq_ignore_ascii_case(n))
            .map(|(_, kind)| kind)
        };
        if let Some(kind) = tls(last).or_else(|| tls(parent).filter(|_| last == b"hash")) {
            return Some(FingerprintField::Tls(kind));
        }
        let grandparent = field.ends_with(b".hash.sha1")
            || field.ends_with(b".hash.sha256")
            || field.ends_with(b".hash.md5");
        // Not every `fingerprint` is a certificate's (SSH host keys have them too): Zeek's
        // x509.log column and EVE's `tls.fingerprint` only.
        let certificate = field == b"fingerprint"
            || field == b"tls.fingerprint"
            || last == b"cert_chain_fps"
            || last == b"client_cert_chain_fps"
            || (grandparent
                && (field.starts_with(b"tls.server.") || field.starts_with(b"tls.client.")));
        certificate.then_some(FingerprintField::Certificate)
    }

    /// The kind a value of this field is matched as.
    fn kind(self, value: &str) -> Option<Kind> {
        match self {
            FingerprintField::Tls(kind) => Some(kind),
            FingerprintField::Certificate => match value.bytes().filter(|&b| b != b':').count() {
                32 => Some(Kind::X509Md5),
                40 => Some(Kind::X509Sha1),
                64 => Some(Kind::X509Sha256),
                _ => None,
            },
        }
    }
}

/// What a token looked up on its own is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scalar {
    Email,
    /// A URL, and whether it was written defanged.
    Url {
        defanged: bool,
    },
}

/// A field id meaning "free text".
const NO_FIELD: u32 = u32::MAX;

/// Up to this many address, name and digest tokens are looked up one by one; more go through
/// the pipelined batch lookups, which pay off once there are enough misses to overlap.
const SMALL_BATCH: usize = 16;

/// Tokens gathered from a batch of lines, grouped by how they are looked up.
#[derive(Default)]
struct Tokens {
    /// Field names seen, by id, and the ids by name.
    fields: Vec<Vec<u8>>,
    field_ids: HashMap<Vec<u8>, u32>,
    unescaped: Vec<u8>,
    arena: Vec<u8>,
    ips: Vec<IpAddr>,
    ip_at: Vec<At>,
    names: Vec<Range<usize>>,
    name_at: Vec<At>,
    digests: Vec<Range<usize>>,
    digest_at: Vec<At>,
    /// Emails and URLs: looked up one by one (rarer in logs, and URLs need canonicalising).
    scalars: Vec<(Range<usize>, Scalar, At)>,
    /// A URL's canonical form.
    canonical: String,
    /// URLs already in canonical form (indexes into `scalars`), probed together.
    canonical_urls: Vec<u32>,
    hits: Vec<(At, Match)>,
    literal_hits: Vec<Match>,
    results: Vec<Option<Match>>,
    /// How the tokens being gathered now were found.
    origin: Origin,
    /// Some line of the batch was scanned as text ([`Origin::Text`]).
    fallback: bool,
}

impl Tokens {
    /// The id of a field name ([`NO_FIELD`] for none), registering it on first sight.
    fn field_id(&mut self, name: &[u8]) -> u32 {
        if name.is_empty() {
            return NO_FIELD;
        }
        if let Some(&id) = self.field_ids.get(name) {
            return id;
        }
        let id = self.fields.len() as u32;
        self.fields.push(name.to_vec());
        self.field_ids.insert(name.to_vec(), id);
        id
    }

    fn add_line<D: AsRef<[u8]>>(
        &mut self,
        m: &LineMatcher<'_, D>,
        line_ix: u32,
        line: &[u8],
        decoder: &mut Decoder,
    ) -> Result<LineKind, &'static str> {
        let format = decoder.format();
        let unescape: fn(&[u8], &mut Vec<u8>) -> bool = match format {
            LogFormat::JsonLines => json::unescape,
            LogFormat::Zeek => zeek::unescape,
            LogFormat::Csv => csv::unescape,
            LogFormat::Plain => |_, _| false,
        };
        let filtered = format != LogFormat::Plain && !m.opts.fields.is_empty();
        let result = decoder.line(line, |v| {
            if filtered
                && !m
                    .opts
                    .fields
                    .iter()
                    .any(|f| field_matches(v.field, f.as_bytes()))
            {
                return;
            }
            // Enrichments (trawl's own, or another tool's) describe indicators, not what was
            // observed: matching them again would echo every hit of a re-enriched record.
            if format == LogFormat::JsonLines && field_matches(v.field, b"threat.enrichments") {
                return;
            }
            if v.escaped {
                let mut buf = std::mem::take(&mut self.unescaped);
                buf.clear();
                if unescape(v.raw, &mut buf) {
                    self.add_text(m, line_ix, &buf, v.start, v.field, Some(v.start..v.end()));
                } else {
                    self.add_text(m, line_ix, v.raw, v.start, v.field, None);
                }
                self.unescaped = buf;
            } else {
                self.add_text(m, line_ix, v.raw, v.start, v.field, None);
            }
        });
        if result.is_err() {
            self.add_fallback(m, line_ix, trim_eol(line), format);
        }
        result
    }

    /// A line that is not a record of `format`, scanned whole as text (a Plain line never
    /// fails). A JSON line's escaped strings are unescaped and matched too: the text scan
    /// cannot see `http:\/\/evil.example\/x` as a URL.
    fn add_fallback<D: AsRef<[u8]>>(
        &mut self,
        m: &LineMatcher<'_, D>,
        line_ix: u32,
        text: &[u8],
        format: LogFormat,
    ) {
        self.fallback = true;
        if format == LogFormat::JsonLines && memchr::memchr(b'\\', text).is_some() {
            self.origin = Origin::Quoted;
            let mut buf = std::mem::take(&mut self.unescaped);
            json::quoted_strings(text, |v| {
                buf.clear();
                if v.escaped && json::unescape(v.raw, &mut buf) {
                    self.add_text(m, line_ix, &buf, v.start, b"", Some(v.start..v.end()));
                }
            });
            self.unescaped = buf;
        }
        self.origin = Origin::Text;
        self.add_text(m, line_ix, text, 0, b"", None);
        self.origin = Origin::Value;
    }

    /// Gathers the tokens of `text`, found at `base` in its line. When the text was unescaped,
    /// `whole` is the raw value's span, which every hit in it reports.
    fn add_text<D: AsRef<[u8]>>(
        &mut self,
        m: &LineMatcher<'_, D>,
        line: u32,
        text: &[u8],
        base: usize,
        field_name: &[u8],
        whole: Option<Range<usize>>,
    ) {
        // The field's id is looked up only once the value turns out to hold a token (most
        // values hold none).
        let mut field_id = None;
        let origin = self.origin;
        if (m.wants.fingerprint || m.wants.hash) && !field_name.is_empty() {
            if let Some(role) = FingerprintField::of(field_name) {
                self.add_fingerprints(m, line, text, base, field_name, whole, role);
                return;
            }
        }
        let at = |field: u32, start: usize, end: usize| match &whole {
            Some(w) => At {
                line,
                field,
                start: w.start as u32,
                end: w.end as u32,
                origin,
            },
            None => At {
                line,
                field,
                start: (base + start) as u32,
                end: (base + end) as u32,
                origin,
            },
        };
        let mut refanged = Vec::new();
        // Every token holds a `.`, `:` or `@` (so do the defanged forms) or is a run of 32 or
        // more hex digits: short values without them (most of a JSON record's) skip the
        // extractor's setup.
        let may_hold_token = text.len() >= 32 || memchr::memchr3(b'.', b':', b'@', text).is_some();
        let tokens = m.extractor.tokens(if may_hold_token { text } else { b"" });
        for found in tokens {
            if !m.wants.token(&found.token) {
                continue;
            }
            let field = *field_id.get_or_insert_with(|| self.field_id(field_name));
            let a = at(field, found.start, found.end);
            let raw = match found.token {
                Token::Domain(b) | Token::Email(b) | Token::Url(b) | Token::Hex(b) => b,
                Token::Ipv4(_) | Token::Ipv6(_) => &[][..],
            };
            let bytes: &[u8] = if found.defanged {
                refanged.clear();
                crate::logs::extract::refang(raw, &mut refanged);
                &refanged
            } else {
                raw
            };
            match found.token {
                Token::Ipv4(v4) => {
                    self.ips.push(IpAddr::V4(v4));
                    self.ip_at.push(a);
                }
                Token::Ipv6(v6) => {
                    self.ips.push(IpAddr::V6(v6));
                    self.ip_at.push(a);
                }
                Token::Domain(_) => {
                    let start = self.arena.len();
                    let name = bytes.strip_suffix(b".").unwrap_or(bytes);
                    if name.is_ascii() && name.len() <= 253 {
                        self.arena.extend(name.iter().map(u8::to_ascii_lowercase));
                    } else if let Some(d) = std::str::from_utf8(name)
                        .ok()
                        .and_then(|n| normalize::domain(n).ok())
                    {
                        self.arena.extend_from_slice(d.as_bytes());
                    } else {
                        continue;
                    }
                    // File names (`index.html`, `app.js`) end in labels no indicator ends in.
                    if !m.set.may_match_domain(&self.arena[start..]) {
                        self.arena.truncate(start);
                        continue;
                    }
                    self.names.push(start..self.arena.len());
                    self.name_at.push(a);
                }
                Token::Hex(_) => {
                    let start = self.arena.len();
                    let ok = bytes.chunks_exact(2).all(|p| {
                        match (normalize::hex_val(p[0]), normalize::hex_val(p[1])) {
                            (Some(h), Some(l)) => {
                                self.arena.push(h << 4 | l);
                                true
                            }
                            _ => false,
                        }
                    });
                    if ok {
                        self.digests.push(start..self.arena.len());
                        self.digest_at.push(a);
                    } else {
                        self.arena.truncate(start);
                    }
                }
                Token::Email(_) | Token::Url(_) => {
                    let start = self.arena.len();
                    self.arena.extend_from_slice(bytes);
                    let kind = match found.token {
                        Token::Email(_) => Scalar::Email,
                        _ => Scalar::Url {
                            defanged: found.defanged,
                        },
                    };
                    self.scalars.push((start..self.arena.len(), kind, a));
                }
            }
        }
        if m.set.has_literals() {
            self.literal_hits.clear();
            m.set.match_literals(text, &mut self.literal_hits);
            if !self.literal_hits.is_empty() {
                let field = *field_id.get_or_insert_with(|| self.field_id(field_name));
                for h in self.literal_hits.drain(..) {
                    self.hits
                        .push((at(field, h.start as usize, h.end as usize), h));
                }
            }
        }
    }

    /// The values of a fingerprint field (a Zeek vector holds several, `,`-separated), each
    /// looked up as its field's kind only.
    #[allow(clippy::too_many_arguments)]
    fn add_fingerprints<D: AsRef<[u8]>>(
        &mut self,
        m: &LineMatcher<'_, D>,
        line: u32,
        text: &[u8],
        base: usize,
        field_name: &[u8],
        whole: Option<Range<usize>>,
        role: FingerprintField,
    ) {
        if !m.wants.fingerprint {
            return;
        }
        let mut at = 0;
        for piece in text.split(|&b| b == b',') {
            let start = at;
            at += piece.len() + 1;
            let Ok(value) = std::str::from_utf8(piece) else {
                continue;
            };
            let lead = value.len() - value.trim_start().len();
            let value = value.trim();
            let Some(kind) = role.kind(value) else {
                continue;
            };
            if let Some(h) = m.set.match_fingerprint_text(kind, value) {
                let field = self.field_id(field_name);
                let (s, e) = match &whole {
                    Some(w) => (w.start, w.end),
                    None => (base + start + lead, base + start + lead + value.len()),
                };
                let a = At {
                    line,
                    field,
                    start: s as u32,
                    end: e as u32,
                    origin: self.origin,
                };
                self.hits.push((a, h));
            }
        }
    }

    /// Looks the addresses, names and digests up with the set's pipelined batch lookups.
    fn finish_batched<D: AsRef<[u8]>>(&mut self, m: &LineMatcher<'_, D>) {
        let set = m.set;
        // Logs repeat themselves (clients, hosts, referrers): each distinct address and name
        // of the batch is looked up once.
        let mut which = Vec::new();
        let ips = distinct(self.ips.iter().copied(), &mut which);
        set.match_ips(&ips, &mut self.results);
        for (&w, a) in which.iter().zip(&self.ip_at) {
            if let Some(h) = self.results[w as usize] {
                self.hits.push((*a, h));
            }
        }
        let names = distinct(
            self.names.iter().map(|r| &self.arena[r.clone()]),
            &mut which,
        );
        set.match_domains(&names, &mut self.results);
        for (&w, a) in which.iter().zip(&self.name_at) {
            if let Some(h) = self.results[w as usize] {
                self.hits.push((*a, h));
            }
        }
        let digests: Vec<&[u8]> = self
            .digests
            .iter()
            .map(|r| &self.arena[r.clone()])
            .collect();
        set.match_hashes(&digests, &mut self.results);
        for (r, a) in self.results.iter().zip(&self.digest_at) {
            if let Some(h) = r {
                self.hits.push((*a, *h));
            }
        }
    }

    fn finish<D: AsRef<[u8]>>(
        &mut self,
        m: &LineMatcher<'_, D>,
        mut each: impl FnMut(u32, LineMatch),
    ) {
        let set = m.set;
        if self.ips.len() + self.names.len() + self.digests.len() <= SMALL_BATCH {
            // Few tokens (one line): plain lookups, no batch bookkeeping and no allocation.
            for (ip, a) in self.ips.iter().zip(&self.ip_at) {
                self.hits.extend(set.match_ip(*ip).map(|h| (*a, h)));
            }
            for (r, a) in self.names.iter().zip(&self.name_at) {
                let name = &self.arena[r.clone()];
                self.hits.extend(
                    set.match_canonical_domain(name, name.len())
                        .map(|h| (*a, h)),
                );
            }
            for (r, a) in self.digests.iter().zip(&self.digest_at) {
                self.hits
                    .extend(set.match_hash(&self.arena[r.clone()]).map(|h| (*a, h)));
            }
        } else {
            self.finish_batched(m);
        }
        self.canonical_urls.clear();
        for (i, (range, kind, a)) in self.scalars.iter().enumerate() {
            let bytes = &self.arena[range.clone()];
            // Already canonical (the common case): probed below, all together.
            if *kind == (Scalar::Url { defanged: false }) && normalize::url_is_canonical(bytes) {
                self.canonical_urls.push(i as u32);
                continue;
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                continue;
            };
            match kind {
                Scalar::Email => self.hits.extend(set.match_email(text).map(|h| (*a, h))),
                Scalar::Url { defanged } => {
                    if normalize::url_into(text, &mut self.canonical).is_err() {
                        continue;
                    }
                    // The literal search over the line saw this URL as written; when its
                    // canonical form differs (case, default port, defanged), the literals are
                    // searched on that form too — as `IndicatorSet::scan_text` does.
                    self.literal_hits.clear();
                    let canonical = self.canonical.as_bytes();
                    if !defanged && canonical == bytes {
                        set.match_canonical_url_prefixes(canonical, &mut self.literal_hits);
                    } else {
                        set.match_canonical_url(canonical, &mut self.literal_hits);
                    }
                    self.hits
                        .extend(self.literal_hits.drain(..).map(|h| (*a, h)));
                }
            }
        }
        let (scalars, arena, urls) = (&self.scalars, &self.arena, &self.canonical_urls);
        set.match_canonical_urls_prefixes(
            urls.len(),
            |i| &arena[scalars[urls[i] as usize].0.clone()],
            |i, h| self.hits.push((scalars[urls[i] as usize].2, h)),
        );
        self.hits
            .sort_by_key(|(a, h)| (a.line, a.start, a.end, h.indicator, a.origin));
        self.hits
            .dedup_by_key(|(a, h)| (a.line, a.start, a.end, h.indicator));
        if std::mem::take(&mut self.fallback) {
            drop_echoes(&mut self.hits);
        }
        for (a, h) in self.hits.drain(..) {
            let field = (a.field != NO_FIELD)
                .then(|| String::from_utf8_lossy(&self.fields[a.field as usize]).into_owned());
            each(
                a.line,
                LineMatch {
                    matched: h,
                    field,
                    start: a.start as usize,
                    end: a.end as usize,
                },
            );
        }
        self.arena.clear();
        self.ips.clear();
        self.ip_at.clear();
        self.names.clear();
        self.name_at.clear();
        self.digests.clear();
        self.digest_at.clear();
        self.scalars.clear();
    }
}
