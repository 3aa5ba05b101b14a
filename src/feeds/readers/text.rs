//! Plain-list and CSV feeds.
//!
//! A plain list has one value per line, its kind detected ([`crate::indicators::normalize::detect`]). Lines
//! starting with `#`, `;`, `!` or `//` are comments; after the value, anything separated by
//! whitespace, `;` or ` #` is ignored (ipsum's `IP<TAB>count`, Spamhaus' `CIDR ; SBL…`,
//! signature-base's `HASH;comment`) unless the value is a URL or a path, where `;` and `#` are
//! part of it. Also understood, in the forms their publishers write them:
//!
//! * hosts files: `0.0.0.0 name [name…]` (boilerplate such as `127.0.0.1 localhost` skipped);
//! * address ranges: `first last` or `first-last` (DShield's block list), split into CIDRs;
//! * adblock rules (uBlock Origin, AdGuard, ABP: urlhaus-filter's URL-based lists):
//!   `||host^` is the domain and its subdomains, `||host/path^$all` the schemeless URL
//!   `host/path`, a bare `host` line the domain; exception rules (`@@`), cosmetic filters
//!   (`##`), wildcard patterns and options that narrow a rule (`$script`, `$domain=…`) are
//!   reported as unsupported, never widened;
//! * DNS server configuration: dnsmasq `address=/name/…` (and `local=`/`server=` without an
//!   upstream), Unbound `local-zone: "name" always_nxdomain`, BIND `zone "name" {…};` and RPZ
//!   `name CNAME .` — each names a domain with its subdomains (zone-file directives and the
//!   zone's own SOA/NS records are structure, not items);
//! * files named `*.md5`, `*.sha1`, `*.sha256`, `*.sha512` (ESET's `samples.sha256`) hold
//!   hashes only: any other value is an invalid hash.
//!
//! Well-formed lines that trawl does not compile are reported as unsupported with their reason:
//! `address:port` (maltrail: a trail for that port only, not widened to the whole address) and
//! regular expressions (maltrail's wildcard trails such as `q(l|r)[0-9]{5,6}\.pw`).
//!
//! A file whose first non-comment line is a CSV header naming a value column (`value`,
//! `indicator`, `ioc`, or a kind such as `domain`, `ip`, `url`, `sha256`) is read as CSV; other
//! recognised columns: `kind`/`type`, `score`/`confidence`, `tlp`, `source`, `id`/`uuid`,
//! `valid_from`/`first_seen`, `valid_until`/`expires`, `labels`/`tags`/`malware` (several
//! labels in one field separated by `|` or `;`),
//! `description`/`comment`. A `host` + `path` pair forms a URL.
//!
//! A plain-list line longer than [`MAX_LINE`] bytes is reported and skipped without being held
//! in memory; in a CSV file, such a line is an error.

use std::io::{self, BufRead, BufReader, Read};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

use crate::feeds::readers::FeedOptions;
use crate::indicators::collect::{Collector, Location};
use crate::indicators::model::{Kind, Meta, Tlp, Value};
use crate::indicators::normalize::{self, Normalized, Reject};

/// What one plain-list line yields.
enum Parsed {
    Accept(Normalized),
    Reject(&'static str, String),
    Unsupported(&'static str, String),
}

/// Lines parsed per batch handed from the parsing thread to the collecting one.
const BATCH: usize = 4096;

/// The longest line a text feed may hold (1 MiB): a longer one is reported and skipped, so a
/// file without newlines cannot take memory without bound.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// How a plain list's values are read.
#[derive(Clone, Copy)]
struct ListKind {
    /// The file says it holds hashes only (`*.md5`, `*.sha1`, …).
    hashes: bool,
    /// The feed's options say every value is of this kind.
    kind: Option<Kind>,
}

impl ListKind {
    fn of(file: &str, opts: &FeedOptions) -> ListKind {
        let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
        ListKind {
            hashes: ["md5", "sha1", "sha256", "sha512"]
                .iter()
                .any(|h| ext.eq_ignore_ascii_case(h)),
            kind: opts.value_kind,
        }
    }
}

/// One line of input: its bytes (at most [`MAX_LINE`]), or the sign that it was longer.
enum Line {
    End,
    Text,
    TooLong,
}

/// Reads one line into `buf` (cleared first, newline kept), keeping at most [`MAX_LINE`]
/// bytes: the rest of a longer line is consumed and dropped.
fn read_line(r: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    let mut any = false;
    let mut too_long = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        let room = MAX_LINE - buf.len().min(MAX_LINE);
        if take > room {
            too_long = true;
        }
        buf.extend_from_slice(&avail[..take.min(room)]);
        r.consume(take);
        if done {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => Line::End,
        (true, false) => Line::Text,
        (true, true) => Line::TooLong,
    })
}

/// The report detail of an over-long line: its first bytes.
fn too_long_detail(buf: &[u8]) -> String {
    let head = String::from_utf8_lossy(&buf[..buf.len().min(80)]);
    format!("{head}… (over {MAX_LINE} bytes)")
}

/// Reads a plain or CSV feed from `reader`, reporting every item to `out`. Returns an error
/// only when reading fails.
///
/// A plain list is parsed on a second thread while the calling thread feeds `out` (which
/// need not be `Send`), in order: parsing and normalising are most of a compile's work.
pub fn read(
    reader: impl Read + Send,
    file: &str,
    opts: &FeedOptions,
    out: &mut dyn Collector,
) -> io::Result<()> {
    let list = ListKind::of(file, opts);
    let file: Arc<str> = file.into();
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let meta = opts.meta();
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    // Up to the first value line: skip comments, and decide between CSV and a plain list.
    loop {
        let line = read_line(&mut r, &mut buf)?;
        if matches!(line, Line::End) {
            return Ok(());
        }
        line_no += 1;
        let at = || Location::Line {
            file: file.clone(),
            line: line_no,
        };
        if matches!(line, Line::TooLong) {
            out.reject(at(), "line too long", &too_long_detail(&buf));
            continue;
        }
        let bytes = if line_no == 1 {
            buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        let Ok(line) = std::str::from_utf8(bytes) else {
            out.reject(at(), "invalid UTF-8", &String::from_utf8_lossy(bytes));
            continue;
        };
        let line = line.trim();
        if line.is_empty() || is_comment(line) {
            continue;
        }
        if let Some(columns) = Columns::from_header(line) {
            return read_csv(r, line_no, &file, columns, opts, out);
        }
        let mut first = Vec::new();
        plain_line(line, list, &mut |p| first.push((line_no, p)));
        deliver(first, &file, &meta, out);
        break;
    }
    let (tx, rx) = crossbeam_channel::bounded::<io::Result<Vec<(u64, Parsed)>>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let result = (|| -> io::Result<()> {
                loop {
                    let line = read_line(&mut r, &mut buf)?;
                    line_no += 1;
                    match line {
                        Line::End => return Ok(()),
                        Line::TooLong => batch.push((
                            line_no,
                            Parsed::Reject("line too long", too_long_detail(&buf)),
                        )),
                        Line::Text => match std::str::from_utf8(&buf) {
                            Ok(line) => {
                                let line = line.trim();
                                if !line.is_empty() && !is_comment(line) {
                                    plain_line(line, list, &mut |p| batch.push((line_no, p)));
                                }
                            }
                            Err(_) => batch.push((
                                line_no,
                                Parsed::Reject(
                                    "invalid UTF-8",
                                    String::from_utf8_lossy(&buf).into_owned(),
                                ),
                            )),
                        },
                    }
                    if batch.len() >= BATCH {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        if tx.send(Ok(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
            })();
            let _ = tx.send(Ok(batch));
            if let Err(e) = result {
                let _ = tx.send(Err(e));
            }
        });
        for batch in rx {
            deliver(batch?, &file, &meta, out);
        }
        Ok(())
    })
}

/// Hands parsed lines to the collector, in order.
fn deliver(batch: Vec<(u64, Parsed)>, file: &Arc<str>, meta: &Meta, out: &mut dyn Collector) {
    // One location per batch, its line number updated in place: no reference-count traffic
    // per item.
    let mut at = Location::Line {
        file: file.clone(),
        line: 0,
    };
    for (n, parsed) in batch {
        if let Location::Line { line, .. } = &mut at {
            *line = n;
        }
        match parsed {
            Parsed::Accept(v) => out.accept(v, meta, &at),
            Parsed::Reject(reason, detail) => out.reject(at.clone(), reason, &detail),
            Parsed::Unsupported(reason, detail) => out.unsupported(at.clone(), reason, &detail),
        }
    }
}

/// Comments, and an adblock list's `[Adblock Plus 2.0]` header line.
fn is_comment(line: &str) -> bool {
    line.starts_with(['#', ';', '!'])
        || line.starts_with("//")
        || (line.starts_with('[')
            && ["[Adblock", "[uBlock", "[AdGuard"]
                .iter()
                .any(|h| line.starts_with(h)))
}

/// Names that hosts files map to loopback as boilerplate, not as indicators.
fn hosts_boilerplate(name: &str) -> bool {
    matches!(
        name,
        "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
    ) || name.starts_with("ip6-")
}

/// The addresses hosts-format blocklists map listed names to (sinkholes and loopback).
fn hosts_sinkhole(token: &str) -> bool {
    matches!(token, "0.0.0.0" | "127.0.0.1" | "::" | "::1" | "::0")
}

fn plain_line(line: &str, list: ListKind, emit: &mut impl FnMut(Parsed)) {
    let mut tokens = line.split_whitespace();
    let Some(token) = tokens.next() else {
        return;
    };
    let second = tokens.next();
    if let Some(dns) = dns_config(line, token, second.is_none()) {
        match dns {
            DnsLine::Structure => {}
            DnsLine::Names(names) => {
                for name in names {
                    emit(match normalize::value(Kind::Domain, name) {
                        Ok(n) => Parsed::Accept(n),
                        Err(why) => Parsed::Reject(why.reason(), name.to_string()),
                    });
                }
            }
            DnsLine::Unsupported(reason) => emit(Parsed::Unsupported(reason, line.to_string())),
        }
        return;
    }
    if second.is_some() && is_ids_rule(line) {
        emit(Parsed::Unsupported(
            "Snort/Suricata rule, not an indicator",
            line.to_string(),
        ));
        return;
    }
    if let Some(rule) = adblock(line) {
        match rule {
            Ok(pattern) => value(pattern, list, emit),
            Err(reason) => emit(Parsed::Unsupported(reason, line.to_string())),
        }
        return;
    }
    if second.is_some_and(hosts_boilerplate)
        && token
            .split('%')
            .next()
            .is_some_and(|a| a.parse::<IpAddr>().is_ok())
    {
        // `127.0.0.1 localhost`, `fe80::1%lo0 localhost`, `ff02::1 ip6-allnodes`.
        return;
    }
    if hosts_sinkhole(token) {
        match second {
            // `0.0.0.0 name [name…] [# comment]`: every name on the line.
            Some(_) => {
                for name in line
                    .split_whitespace()
                    .skip(1)
                    .take_while(|t| !t.starts_with('#'))
                {
                    value(name, list, emit);
                }
            }
            None => value(token, list, emit),
        }
        return;
    }
    if let Some(range) = parse_range(token, second) {
        match range {
            Some(nets) => {
                for net in nets {
                    let n = Normalized {
                        value: Value::Net(net),
                        host_bits_cleared: false,
                    };
                    emit(Parsed::Accept(n));
                }
            }
            None => emit(Parsed::Reject("invalid address range", line.to_string())),
        }
        return;
    }
    if token.starts_with('/') && second.is_some() {
        // A path keeps its spaces up to a ` #` comment (maltrail's `/Consulta FGTS.js`):
        // its first word alone would be a wider literal.
        let path = line.split(" #").next().unwrap_or(line);
        return value(path.split("\t#").next().unwrap_or(path).trim(), list, emit);
    }
    value(strip_comment(token), list, emit)
}

/// `alert http $HOME_NET any -> … (msg:"…"; … sid:1;)`: an action, then options in
/// parentheses.
pub(crate) fn is_ids_rule(line: &str) -> bool {
    let Some(i) = memchr::memchr2(b' ', b'\t', line.as_bytes()) else {
        return false;
    };
    let (action, rest) = line.split_at(i);
    matches!(
        action,
        "alert"
            | "drop"
            | "reject"
            | "pass"
            | "sdrop"
            | "log"
            | "rejectsrc"
            | "rejectdst"
            | "rejectboth"
    ) && rest.contains('(')
        && (rest.contains("msg:") || rest.contains("sid:"))
}

/// `value;comment` / `value#comment` (LOKI's IOC files) without the comment — unless the
/// value is a URL or a path, where `;` and `#` belong to it (maltrail's
/// `/shell?cd+/tmp;rm+-rf+*;wget+`): a CIDR is the only value with a `/` that takes a comment
/// this way (`1.2.3.0/24;SBL1`).
fn strip_comment(token: &str) -> &str {
    let Some(i) = memchr::memchr2(b';', b'#', token.as_bytes()) else {
        return token;
    };
    let head = &token[..i];
    if !head.contains('/') || head.parse::<IpNet>().is_ok() {
        head
    } else {
        token
    }
}

/// One value of a plain list: checked, canonicalised and emitted.
fn value(token: &str, list: ListKind, emit: &mut impl FnMut(Parsed)) {
    if let Some(kind) = list.kind {
        emit(match normalize::value(kind, token) {
            Ok(n) => Parsed::Accept(n),
            Err(why) => Parsed::Reject(why.reason(), token.to_string()),
        });
        return;
    }
    if list.hashes {
        emit(match normalize::hash(token) {
            Ok(d) => Parsed::Accept(Value::Hash(d).into()),
            Err(why) => Parsed::Reject(why.reason(), token.to_string()),
        });
        return;
    }
    if memchr::memchr3(b'[', b'*', b'+', token.as_bytes()).is_some()
        && !token.contains('/')
        && is_regex(token)
    {
        emit(Parsed::Unsupported(
            "regular expression (trawl matches literal values)",
            token.to_string(),
        ));
        return;
    }
    emit(match normalize::detect(token) {
        Ok(n) => Parsed::Accept(n),
        // Well-formed, but what it means (that port only) is narrower than any indicator
        // trawl has, and the whole address would be wider.
        Err(Reject::IpPort) => Parsed::Unsupported(Reject::IpPort.reason(), token.to_string()),
        Err(why) => Parsed::Reject(why.reason(), token.to_string()),
    });
}

/// Whether a name is a regular expression rather than a literal, by maltrail's rule for its
/// wildcard trails (`build_trails_regex` in maltrail's `core/common.py`): a `.` or `]`
/// followed by `*` or `+`, or a character class such as `[0-9]` or `[a-z.]`. One pass.
/// maltrail matches these against DNS names only, so URLs and paths (which hold
/// `[[-Email-]]` literally in phishing kits) are never read as patterns.
fn is_regex(token: &str) -> bool {
    let b = token.as_bytes();
    if b.windows(2)
        .any(|w| matches!(w[0], b'.' | b']') && matches!(w[1], b'*' | b'+'))
    {
        return true;
    }
    // Inside a `[…]` so far: `Some(false)` just opened, `Some(true)` with class characters.
    let mut class = None;
    for &c in b {
        class = match c {
            b'[' => Some(false),
            b']' if class == Some(true) => return true,
            c if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-') => {
                class.map(|_| true)
            }
            _ => None,
        };
    }
    false
}

/// What a line of a DNS server's configuration says.
enum DnsLine<'a> {
    /// Names to block, each with its subdomains.
    Names(Vec<&'a str>),
    /// Zone-file structure (directives, the zone's own SOA and NS records): not an item.
    Structure,
    /// A rule that is not a block (a forwarder, a passthru).
    Unsupported(&'static str),
}

/// Reads a line in a DNS server's blocklist syntax, as urlhaus-filter (`src/script.sh`)
/// and others publish them; `None` when the line is in none of them.
fn dns_config<'a>(line: &'a str, first: &'a str, one_word: bool) -> Option<DnsLine<'a>> {
    // dnsmasq: `address=/name[/name…]/target` answers `target` (or nothing) for the names
    // and their subdomains; `local=/name/` and `server=/name/` (no upstream) answer locally
    // only, i.e. NXDOMAIN. `server=/name/1.2.3.4` forwards: not a block.
    for key in ["address=/", "local=/", "server=/"] {
        if let Some(rest) = line.strip_prefix(key) {
            let mut parts: Vec<&str> = rest.split('/').collect();
            let target = parts.pop().unwrap_or("").trim();
            if key == "server=/" && !target.is_empty() {
                return Some(DnsLine::Unsupported(
                    "dnsmasq forwarding rule (not a block)",
                ));
            }
            return Some(DnsLine::Names(parts));
        }
    }
    // Unbound: `local-zone: "name" type`; types that answer normally do not block.
    if first == "local-zone:" {
        let mut quoted = line.split('"');
        let name = quoted.nth(1)?;
        let kind = quoted.next().unwrap_or("").trim();
        return Some(
            if matches!(
                kind,
                "transparent" | "typetransparent" | "nodefault" | "inform" | "always_transparent"
            ) {
                DnsLine::Unsupported("Unbound local-zone that does not block")
            } else {
                DnsLine::Names(vec![name])
            },
        );
    }
    if first == "server:" {
        return Some(DnsLine::Structure);
    }
    // BIND: `zone "name" { type master; file "null.zone.file"; };` — a local zone for a
    // blocked name.
    if first == "zone" && line.contains('{') {
        return Some(DnsLine::Names(vec![line.split('"').nth(1)?]));
    }
    // Zone files (RPZ): `$TTL`/`$ORIGIN` directives and the zone's own SOA and NS records.
    if first.starts_with('$') || first == "@" {
        return Some(DnsLine::Structure);
    }
    if one_word {
        return None;
    }
    let mut fields = [""; 6];
    let mut n = 0;
    for t in line
        .split_whitespace()
        .take_while(|t| !t.starts_with(';'))
        .take(6)
    {
        fields[n] = t;
        n += 1;
    }
    let record = &fields[..n];
    let is = |t: &str, what: &str| t.eq_ignore_ascii_case(what);
    // Between a record's owner and its type: a TTL and the class.
    let ttl_or_class = |t: &&str| is(t, "IN") || t.bytes().all(|b| b.is_ascii_digit());
    let typed = |what: &str| {
        (1..record.len().min(4))
            .find(|&i| is(record[i], what) && record[1..i].iter().all(ttl_or_class))
    };
    if (record.len() == 2 && (is(first, "NS") || is(first, "SOA")))
        || typed("SOA").is_some()
        || typed("NS").is_some()
    {
        return Some(DnsLine::Structure);
    }
    // RPZ: `name [ttl] [IN] CNAME target` — `.` (NXDOMAIN), `*.` (NODATA), `rpz-drop.` or a
    // walled garden block the name; `rpz-passthru.` exempts it.
    let cname = typed("CNAME")?;
    let target = record.get(cname + 1)?;
    if is(target, "rpz-passthru.") {
        return Some(DnsLine::Unsupported(
            "RPZ passthru (an exemption, not a block)",
        ));
    }
    let name = record[0];
    if [".rpz-ip", ".rpz-nsdname", ".rpz-nsip", ".rpz-client-ip"]
        .iter()
        .any(|t| name.ends_with(t))
    {
        return Some(DnsLine::Unsupported("RPZ trigger other than a query name"));
    }
    Some(DnsLine::Names(vec![name]))
}

/// Reads an adblock rule (uBlock Origin / AdGuard / ABP syntax), or `None` when the line is
/// none. `Ok` holds the value the rule names (`host` or `host/path`); `Err` why trawl cannot
/// compile the rule without widening it.
///
/// urlhaus-filter's README: its URL-based list "operates by blocking the whole website" —
/// bare `host` lines, which uBO reads as `||host^` — except on popular sites, where the
/// malicious pages are listed as `||host/path^$all`. `||` anchors at a label boundary of the
/// host and `^` matches a separator or the end, so the rule names the schemeless URL
/// `host/path` (trawl matches it inside any observed URL: with any scheme and port, and on
/// subdomains, as `||` does).
fn adblock(line: &str) -> Option<Result<&str, &'static str>> {
    if line.starts_with("@@") {
        return Some(Err("adblock exception rule (allows, names no threat)"));
    }
    // `[domains]##selector`: what precedes the marker is a domain list, never a path.
    let cosmetic = line.contains('#')
        && ["##", "#@#", "#?#", "#$#", "#%#"]
            .iter()
            .filter_map(|m| line.find(m))
            .min()
            .is_some_and(|i| !line[..i].contains(['/', ' ', '\t']));
    if cosmetic {
        return Some(Err("adblock cosmetic filter (hides page elements)"));
    }
    let body = line.strip_prefix("||").or_else(|| line.strip_prefix('|'))?;
    // Options follow the last `$`; only those that do not narrow what the rule matches are
    // understood (`$all`: every request type; `$document`: the page itself).
    let (pattern, options) = match body.rfind('$') {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    let narrowing = options.split(',').map(str::trim).any(|o| {
        !o.is_empty()
            && !matches!(
                o,
                "all" | "document" | "doc" | "popup" | "important" | "match-case"
            )
    });
    if narrowing {
        return Some(Err(
            "adblock rule with options trawl cannot apply (request type, page, party)",
        ));
    }
    let pattern = pattern.strip_suffix('|').unwrap_or(pattern);
    let pattern = pattern.strip_suffix('^').unwrap_or(pattern);
    if pattern.contains(['*', '^', '|']) || pattern.is_empty() {
        return Some(Err("adblock wildcard pattern"));
    }
    Some(Ok(pattern))
}

/// `first last` / `first-last` address ranges: `None` when the tokens are no range at all,
/// `Some(None)` for a malformed one, otherwise the covering CIDRs.
fn parse_range(token: &str, second: Option<&str>) -> Option<Option<Vec<IpNet>>> {
    let (a, b) = match token.split_once('-') {
        Some((a, b)) if !b.is_empty() => (a, b),
        Some((a, "")) => (a, second?),
        _ => (token, second?),
    };
    let a: IpAddr = a.parse().ok()?;
    let b: IpAddr = b.parse().ok()?;
    Some(match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
            Some(Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect())
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
            Some(Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect())
        }
        _ => None,
    })
}

/// Header names of a column holding values of any kind. `attacker` is the column of
/// Stratosphere's AIP (CTU) lists.
const VALUE_COLUMNS: &[&str] = &["value", "indicator", "ioc", "observable", "attacker"];

/// Column positions of a CSV feed.
#[derive(Debug, Default)]
struct Columns {
    value: usize,
    value_kind: Option<Kind>,
    host: Option<usize>,
    path: Option<usize>,
    kind: Option<usize>,
    score: Option<usize>,
    tlp: Option<usize>,
    source: Option<usize>,
    id: Option<usize>,
    valid_from: Option<usize>,
    valid_until: Option<usize>,
    labels: Vec<usize>,
    description: Option<usize>,
}

impl Columns {
    fn from_header(line: &str) -> Option<Columns> {
        if !line.contains(',') {
            // A one-column CSV: its header is the name of the value column alone (CTU's
            // AIP lists: `attacker`, then one address per line).
            let name = line.trim().trim_matches('"').to_ascii_lowercase();
            let value_column =
                VALUE_COLUMNS.contains(&name.as_str()) || Kind::parse(&name).is_some();
            if !value_column {
                return None;
            }
        }
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes());
        let header = rdr.records().next()?.ok()?;
        let mut c = Columns::default();
        let mut value = None;
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_ascii_lowercase();
            match name.as_str() {
                n if VALUE_COLUMNS.contains(&n) => value = value.or(Some((i, None))),
                "host" => {
                    value = value.or(Some((i, None)));
                    c.host = Some(i);
                }
                "path" => c.path = Some(i),
                "kind" | "type" => c.kind = Some(i),
                "score" | "confidence" => c.score = Some(i),
                "tlp" => c.tlp = Some(i),
                "source" | "feed" => c.source = Some(i),
                "id" | "uuid" => c.id = Some(i),
                "valid_from" | "first_seen" | "first seen" => c.valid_from = Some(i),
                "valid_until" | "expires" | "expiration" => c.valid_until = Some(i),
                "labels" | "tags" | "malware" | "threat" | "family" => c.labels.push(i),
                "description" | "comment" | "desc" => c.description = Some(i),
                other => {
                    if let Some(k) = Kind::parse(other) {
                        value = value.or(Some((i, Some(k))));
                    }
                }
            }
        }
        let (v, k) = value?;
        c.value = v;
        c.value_kind = k;
        if c.host != Some(v) {
            c.path = None;
        }
        Some(c)
    }
}

/// Fails a read once a line runs past [`MAX_LINE`] bytes: the CSV reader holds a whole
/// record in memory, so a file without newlines could otherwise take memory without bound.
struct LineLimit<R> {
    inner: R,
    /// Bytes since the last newline.
    run: usize,
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', &buf[..n]) {
            self.run += nl - start;
            if self.run > MAX_LINE {
                break;
            }
            self.run = 0;
            start = nl + 1;
        }
        if self.run <= MAX_LINE {
            self.run += n - start;
        }
        if self.run > MAX_LINE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a CSV line longer than {MAX_LINE} bytes"),
            ));
        }
        Ok(n)
    }
}

fn read_csv(
    r: impl Read,
    header_line: u64,
    file: &Arc<str>,
    c: Columns,
    opts: &FeedOptions,
    out: &mut dyn Collector,
) -> io::Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(LineLimit { inner: r, run: 0 });
    let mut record = csv::ByteRecord::new();
    let base = opts.meta();
    loop {
        let line = header_line + rdr.position().line();
        let at = Location::Line {
            file: file.clone(),
            line,
        };
        match rdr.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => {
                    return Err(io::Error::other(e.to_string()));
                }
                _ => {
                    out.reject(at, "malformed CSV row", &e.to_string());
                    continue;
                }
            },
        }
        let field = |i: usize| -> Option<&str> {
            record
                .get(i)
                .and_then(|f| std::str::from_utf8(f).ok())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let Some(raw) = field(c.value) else {
            out.reject(
                at,
                "missing value",
                &String::from_utf8_lossy(record.as_slice()),
            );
            continue;
        };
        let mut meta = base.clone();
        let mut bad = None;
        if let Some(s) = c.score.and_then(field) {
            match s.parse::<u8>() {
                Ok(v) if v <= 100 => meta.score = Some(v),
                _ => bad = Some(("invalid score", s)),
            }
        }
        if let Some(s) = c.tlp.and_then(field) {
            match Tlp::parse(s) {
                Some(t) => meta.tlp = Some(t),
                None => bad = Some(("invalid TLP", s)),
            }
        }
        for (col, slot) in [
            (c.valid_from, &mut meta.valid_from),
            (c.valid_until, &mut meta.valid_until),
        ] {
            if let Some(s) = col.and_then(field) {
                match parse_time(s) {
                    Some(t) => *slot = Some(t),
                    None => bad = Some(("invalid timestamp", s)),
                }
            }
        }
        if let Some((reason, detail)) = bad {
            out.reject(at, reason, detail);
            continue;
        }
        if let Some(s) = c.source.and_then(field) {
            meta.source = s.to_string();
        }
        meta.id = c.id.and_then(field).map(str::to_string);
        meta.labels = c
            .labels
            .iter()
            .filter_map(|&i| field(i))
            .flat_map(|f| f.split(['|', ';']))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        meta.description = c.description.and_then(field).map(str::to_string);
        let kind = match c.kind.and_then(field) {
            Some(k) => match Kind::parse(k) {
                Some(k) => Some(k),
                None => {
                    out.reject(at, "unknown kind", k);
                    continue;
                }
            },
            // The feed's stated kind over a guess from the column's name (abuse.ch SSLBL's
            // `SHA1` column holds certificate fingerprints).
            None => opts.value_kind.or(c.value_kind),
        };
        let joined;
        let (raw, kind) = match c.path.and_then(field) {
            Some(path) if path != "/" || kind.is_none() => {
                joined = format!(
                    "{raw}{}{path}",
                    if path.starts_with('/') { "" } else { "/" }
                );
                (joined.as_str(), Some(Kind::Url))
            }
            _ => (raw, kind),
        };
        let result = match kind {
            Some(k) => normalize::value(k, raw),
            None => normalize::detect(raw),
        };
        match result {
            // A column named after a kind may hold a value of a neighbouring kind (an `ip`
            // column with IPv6, a `hash` column): accept when detection agrees on the family.
            Ok(n) => out.accept(n, &meta, &at),
            Err(normalize::Reject::KindMismatch) | Err(normalize::Reject::BadIp)
                if kind.is_some_and(|k| k.is_hash()) =>
            {
                match normalize::detect(raw) {
                    Ok(n) if n.value.kind().is_hash() => out.accept(n, &meta, &at),
                    _ => out.reject(at, normalize::Reject::BadHash.reason(), raw),
                }
            }
            Err(why) => out.reject(at, why.reason(), raw),
        }
    }
}

/// Parses RFC 3339, `YYYY-MM-DD` or Unix seconds.
pub(crate) fn parse_time(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc().timestamp());
    }
    s.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::collect::VecCollector;

    fn run(text: &str) -> VecCollector {
        let mut c = VecCollector::default();
        read(
            text.as_bytes(),
            "feed.txt",
            &FeedOptions::source("feed"),
            &mut c,
        )
        .unwrap();
        c
    }

    fn reasons_of(items: &[(Location, String, String)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(at, r, _)| (at.to_string(), r.clone()))
            .collect()
    }

    fn values(c: &VecCollector) -> Vec<String> {
        c.accepted
            .iter()
            .map(|(n, _, _)| n.value.to_string())
            .collect()
    }

    #[test]
    fn plain_list_with_comments_and_trailers() {
        let c = run(
            "# header\n\n203.0.113.7\t10\n198.51.100.0/24 ; SBL123\nEvil.Example.COM\n\
                     d41d8cd98f00b204e9800998ecf8427e;Some comment here\n; another comment\n\
                     http://evil.example/a.exe # note\n",
        );
        assert_eq!(
            values(&c),
            [
                "203.0.113.7/32",
                "198.51.100.0/24",
                "evil.example.com",
                "d41d8cd98f00b204e9800998ecf8427e",
                "http://evil.example/a.exe"
            ]
        );
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.accepted[1].2.to_string(), "feed.txt:4");
    }

    #[test]
    fn hosts_ranges_and_adblock() {
        let c = run("127.0.0.1 localhost\n0.0.0.0 ads.evil.example\n\
                     151.243.11.0\t151.243.11.255\t24\t170\n10.0.0.0-10.0.0.5\n||bad.example^\n");
        assert_eq!(
            values(&c),
            [
                "ads.evil.example",
                "151.243.11.0/24",
                "10.0.0.0/30",
                "10.0.0.4/31",
                "bad.example"
            ]
        );
    }

    #[test]
    fn malformed_lines_are_reported_with_location_and_reading_goes_on() {
        let c = run("good.example\nbad!value.example\n300.1.2.3\n1.2.3.4:8080\ncom\n");
        let mut c2 = VecCollector::default();
        read(
            &b"ok.example\n\xff\xfe\nok2.example\n"[..],
            "f",
            &FeedOptions::default(),
            &mut c2,
        )
        .unwrap();
        assert_eq!(values(&c), ["good.example"]);
        let reasons: Vec<(String, String)> = c
            .rejected
            .iter()
            .map(|(at, r, _)| (at.to_string(), r.clone()))
            .collect();
        assert_eq!(
            reasons,
            [
                ("feed.txt:2".to_string(), "invalid domain name".to_string()),
                ("feed.txt:3".into(), "invalid IP address or CIDR".into()),
                (
                    "feed.txt:5".into(),
                    "single-label domain (would match a whole TLD)".into()
                ),
            ]
        );
        // Well-formed but narrower than any indicator: unsupported, not malformed.
        assert_eq!(
            reasons_of(&c.unsupported),
            [(
                "feed.txt:4".to_string(),
                "address:port (not widened to the whole address)".to_string()
            )]
        );
        assert_eq!(values(&c2), ["ok.example", "ok2.example"]);
        assert_eq!(c2.rejected[0].0.to_string(), "f:2");
        assert_eq!(c2.rejected[0].1, "invalid UTF-8");
    }

    #[test]
    fn csv_with_header_and_metadata() {
        let c = run("value,kind,score,tlp,labels,valid_until,description\n\
                     evil.example,domain,80,amber,c2,2030-01-01,\"a, quoted\"\n\
                     203.0.113.9,,40,,,,\n\
                     bad,ipv4,10,,,,\n\
                     x.example,domain,101,,,,\n");
        assert_eq!(values(&c), ["evil.example", "203.0.113.9/32"]);
        let m = &c.accepted[0].1;
        assert_eq!(m.score, Some(80));
        assert_eq!(m.tlp, Some(Tlp::Amber));
        assert_eq!(m.labels, ["c2"]);
        assert_eq!(m.valid_until, Some(1_893_456_000));
        assert_eq!(m.description.as_deref(), Some("a, quoted"));
        assert_eq!(c.accepted[1].2.to_string(), "feed.txt:3");
        assert_eq!(c.rejected.len(), 2);
        assert_eq!(c.rejected[0].0.to_string(), "feed.txt:4");
        assert_eq!(c.rejected[1].1, "invalid score");
    }

    #[test]
    fn one_column_csv_header() {
        let c = run("attacker\n192.0.2.7\n198.51.100.1\n");
        assert_eq!(values(&c), ["192.0.2.7/32", "198.51.100.1/32"]);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert_eq!(c.accepted[0].2.to_string(), "feed.txt:2");
        // A lone word that names no column stays a (refused) value.
        let c = run("evil\n");
        assert_eq!(c.rejected.len(), 1);
    }

    #[test]
    fn csv_kind_named_columns_and_host_path() {
        let c = run("Domain,Malware,Date added,Source\nstatsrvv.com,keitaro,2024-09-01,ViriBack\n");
        assert_eq!(values(&c), ["statsrvv.com"]);
        assert_eq!(c.accepted[0].1.labels, ["keitaro"]);
        assert_eq!(c.accepted[0].1.source, "ViriBack");
        let c = run(
            "\"host\",\"path\",\"message\"\n\"evil.example\",\"/gate.php\",\"x\"\n\"1.2.3.4\",\"\",\"x\"\n",
        );
        assert_eq!(values(&c), ["evil.example/gate.php", "1.2.3.4/32"]);
    }

    #[test]
    fn adblock_rules_name_hosts_and_schemeless_urls() {
        let c = run(
            "! Title: x\n[Adblock Plus 2.0]\n||evil.example^\n||Evil.example/a/b.exe^$all\n\
                     ||cdn.example/gh/u/q@master/x.js^$all\n||host.example$document\n\
                     |http://evil.example/x|\nbare.example\n\
                     ||ads.example^$script,third-party\n@@||good.example^\nexample.com##.ad\n\
                     ||ev*il.example^\n",
        );
        assert_eq!(
            values(&c),
            [
                "evil.example",
                "evil.example/a/b.exe",
                "cdn.example/gh/u/q@master/x.js",
                "host.example",
                "http://evil.example/x",
                "bare.example"
            ]
        );
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        let unsupported: Vec<String> = reasons_of(&c.unsupported)
            .into_iter()
            .map(|(at, r)| format!("{at} {r}"))
            .collect();
        assert_eq!(
            unsupported,
            [
                "feed.txt:9 adblock rule with options trawl cannot apply (request type, page, party)",
                "feed.txt:10 adblock exception rule (allows, names no threat)",
                "feed.txt:11 adblock cosmetic filter (hides page elements)",
                "feed.txt:12 adblock wildcard pattern",
            ]
        );
    }

    #[test]
    fn dns_server_blocklists() {
        let c = run(
            "# dnsmasq\naddress=/a.example/0.0.0.0\naddress=/b.example/c.example/\n\
                     local=/d.example/\nserver=/fwd.example/192.0.2.1\n\
                     server:\nlocal-zone: \"e.example\" always_nxdomain\n\
                     local-zone: \"ok.example\" transparent\n\
                     zone \"f.example\" { type master; notify no; file \"null.zone.file\"; };\n\
                     $TTL 30\n@ IN SOA rpz.example. hostmaster.rpz.example. 1 86400 3600 604800 30\n \
                     NS localhost.\ng.example CNAME .\n*.h.example 300 IN CNAME rpz-drop.\n\
                     ok2.example CNAME rpz-passthru.\nx@y.example CNAME .\n",
        );
        assert_eq!(
            values(&c),
            [
                "a.example",
                "b.example",
                "c.example",
                "d.example",
                "e.example",
                "f.example",
                "g.example",
                "h.example"
            ]
        );
        assert_eq!(
            reasons_of(&c.unsupported)
                .into_iter()
                .map(|(at, _)| at)
                .collect::<Vec<_>>(),
            ["feed.txt:5", "feed.txt:8", "feed.txt:15"]
        );
        // A name with an `@` (urlhaus-filter's RPZ list carries a few) is no domain.
        assert_eq!(reasons_of(&c.rejected).len(), 1);
        assert_eq!(c.rejected[0].0.to_string(), "feed.txt:16");
    }

    #[test]
    fn hosts_lines_with_several_names_and_boilerplate() {
        let c = run(
            "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\nfe80::1%lo0 localhost\n\
                     255.255.255.255 broadcasthost\n0.0.0.0 a.example b.example # two\n",
        );
        assert_eq!(values(&c), ["a.example", "b.example"]);
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
    }

    #[test]
    fn maltrail_trails_paths_keep_separators_and_regexes_are_unsupported() {
        let c = run(
            "/shell?cd+/tmp;rm+-rf+*;wget+\nevil.example/a;b#c\n/@eaDir/x\n\
                     q(l|r)[0-9]{5,6}\\.pw\nbyethost[0-9]+\\.com\n[2001:db8::1]:443\n\
                     192.0.2.0/24;SBL1\ndeadbeefdeadbeefdeadbeefdeadbeef;note\n\
                     /Consulta FGTS.js\n/gate.php # comment\n",
        );
        assert_eq!(
            values(&c),
            [
                "/shell?cd+/tmp;rm+-rf+*;wget+",
                "evil.example/a;b",
                "/@eaDir/x",
                "192.0.2.0/24",
                "deadbeefdeadbeefdeadbeefdeadbeef",
                "/Consulta FGTS.js",
                "/gate.php"
            ]
        );
        let reasons: Vec<String> = reasons_of(&c.unsupported)
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(
            reasons,
            [
                "regular expression (trawl matches literal values)",
                "regular expression (trawl matches literal values)",
                "address:port (not widened to the whole address)"
            ]
        );
        assert!(c.rejected.is_empty(), "{:?}", c.rejected);
        assert!(!is_regex("http://[2001:db8::1]/a"));
        assert!(is_regex(&format!("{}[a]", "[".repeat(100_000))));
    }

    #[test]
    fn hash_list_files_hold_hashes_only() {
        let mut c = VecCollector::default();
        let text = "d41d8cd98f00b204e9800998ecf8427e\nf0295f2e46cebffaf7892a5b33ba54122781c20bs\n";
        read(
            text.as_bytes(),
            "eset/samples.sha1",
            &FeedOptions::source("eset"),
            &mut c,
        )
        .unwrap();
        assert_eq!(values(&c), ["d41d8cd98f00b204e9800998ecf8427e"]);
        assert_eq!(c.rejected[0].1, Reject::BadHash.reason());
    }

    #[test]
    fn an_overlong_csv_line_is_an_error_not_a_memory_sink() {
        let mut text = b"value,kind\nevil.example,domain\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        let mut c = VecCollector::default();
        let err = read(&text[..], "f.csv", &FeedOptions::default(), &mut c).unwrap_err();
        assert!(err.to_string().contains("longer than"), "{err}");
        assert_eq!(values(&c), ["evil.example"]);
        // Lines up to the limit are fine, however many.
        let mut ok = b"value\n".to_vec();
        for _ in 0..3 {
            ok.extend(std::iter::repeat_n(b'a', MAX_LINE - 20));
            ok.extend_from_slice(b".example\n");
        }
        let mut c = VecCollector::default();
        read(&ok[..], "f.csv", &FeedOptions::default(), &mut c).unwrap();
        assert_eq!(c.rejected.len(), 3);
    }

    #[test]
    fn an_overlong_line_is_reported_and_not_held() {
        let mut text = b"a.example\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        text.extend_from_slice(b"\nb.example\n");
        let mut c = VecCollector::default();
        read(&text[..], "f", &FeedOptions::default(), &mut c).unwrap();
        assert_eq!(values(&c), ["a.example", "b.example"]);
        assert_eq!(c.rejected.len(), 1);
        assert_eq!(c.rejected[0].0.to_string(), "f:2");
        assert_eq!(c.rejected[0].1, "line too long");
        assert!(c.rejected[0].2.len() < 200);
    }
}
