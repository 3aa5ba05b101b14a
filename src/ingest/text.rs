//! Plain-list and CSV feeds.
//!
//! A plain list has one value per line, its kind detected ([`crate::normalize::detect`]). Lines
//! starting with `#`, `;`, `!` or `//` are comments; after the value, anything separated by
//! whitespace, `;` or ` #` is ignored (ipsum's `IP<TAB>count`, Spamhaus' `CIDR ; SBL…`,
//! signature-base's `HASH;comment`). Also understood: hosts-file lines (`0.0.0.0 name`), address
//! ranges (`first last` or `first-last`, split into CIDRs), adblock host rules (`||host^`).
//!
//! A file whose first non-comment line is a CSV header naming a value column (`value`,
//! `indicator`, `ioc`, or a kind such as `domain`, `ip`, `url`, `sha256`) is read as CSV; other
//! recognised columns: `kind`/`type`, `score`/`confidence`, `tlp`, `source`, `id`/`uuid`,
//! `valid_from`/`first_seen`, `valid_until`/`expires`, `labels`/`tags`/`malware` (several
//! labels in one field separated by `|` or `;`),
//! `description`/`comment`. A `host` + `path` pair forms a URL.

use std::io::{self, BufRead, BufReader, Read};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};

use crate::indicator::{Kind, Meta, Tlp, Value};
use crate::ingest::{Collector, FeedOptions, Location};
use crate::normalize::{self, Normalized};

/// What one plain-list line yields.
enum Parsed {
    Accept(Normalized),
    Reject(&'static str, String),
}

/// Lines parsed per batch handed from the parsing thread to the collecting one.
const BATCH: usize = 4096;

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
    let file: Arc<str> = file.into();
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let meta = opts.meta();
    let mut buf = Vec::with_capacity(256);
    let mut line_no = 0u64;
    // Up to the first value line: skip comments, and decide between CSV and a plain list.
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line_no += 1;
        let bytes = if line_no == 1 {
            buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&buf)
        } else {
            &buf[..]
        };
        let Ok(line) = std::str::from_utf8(bytes) else {
            let at = Location::Line {
                file: file.clone(),
                line: line_no,
            };
            out.reject(at, "invalid UTF-8", &String::from_utf8_lossy(bytes));
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
        plain_line(line, &mut |p| first.push((line_no, p)));
        deliver(first, &file, &meta, out);
        break;
    }
    let (tx, rx) = crossbeam_channel::bounded::<io::Result<Vec<(u64, Parsed)>>>(4);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let result = (|| -> io::Result<()> {
                loop {
                    buf.clear();
                    if r.read_until(b'\n', &mut buf)? == 0 {
                        return Ok(());
                    }
                    line_no += 1;
                    match std::str::from_utf8(&buf) {
                        Ok(line) => {
                            let line = line.trim();
                            if !line.is_empty() && !is_comment(line) {
                                plain_line(line, &mut |p| batch.push((line_no, p)));
                            }
                        }
                        Err(_) => batch.push((
                            line_no,
                            Parsed::Reject(
                                "invalid UTF-8",
                                String::from_utf8_lossy(&buf).into_owned(),
                            ),
                        )),
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
        }
    }
}

fn is_comment(line: &str) -> bool {
    line.starts_with(['#', ';', '!']) || line.starts_with("//")
}

/// Names that hosts files map to loopback as boilerplate, not as indicators.
fn hosts_boilerplate(name: &str) -> bool {
    matches!(
        name,
        "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
    ) || name.starts_with("ip6-")
}

fn plain_line(line: &str, emit: &mut impl FnMut(Parsed)) {
    let mut tokens = line.split_whitespace();
    let Some(mut token) = tokens.next() else {
        return;
    };
    let second = tokens.next();
    if matches!(token, "0.0.0.0" | "127.0.0.1" | "::" | "::1" | "::0") {
        match second {
            Some(name) if hosts_boilerplate(name) => return,
            Some(name) => token = name,
            None => {}
        }
    } else if let Some(range) = parse_range(token, second) {
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
    if !token.contains("://") {
        token = token.split([';', '#']).next().unwrap_or(token);
    }
    if let Some(rule) = token.strip_prefix("||") {
        token = rule.strip_suffix('^').unwrap_or(rule);
    }
    emit(match normalize::detect(token) {
        Ok(n) => Parsed::Accept(n),
        Err(why) => Parsed::Reject(why.reason(), token.to_string()),
    });
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
            return None;
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
                "value" | "indicator" | "ioc" | "observable" => value = value.or(Some((i, None))),
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
        .from_reader(r);
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
            None => c.value_kind,
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
pub fn parse_time(s: &str) -> Option<i64> {
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
    use crate::ingest::VecCollector;

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
                    "feed.txt:4".into(),
                    "address:port (not widened to the whole address)".into()
                ),
                (
                    "feed.txt:5".into(),
                    "single-label domain (would match a whole TLD)".into()
                ),
            ]
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
}
