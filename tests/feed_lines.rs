//! Every real feed format, line by line: a small oracle written here (not trawl's parser) says
//! what each line of a feed means — an address or network, a domain, a URL, a URL fragment,
//! a request path, a hash, an email, nothing (a comment, a header, zone-file structure), or
//! a value trawl must refuse (an `address:port`, a pattern, a malformed value). Each file is
//! compiled on its own, and then:
//!
//! * for a deterministic sample of its lines (the first and last 20 and every Nth), looking
//!   up what the line means in the compiled set hits;
//! * every line that means something is accounted for — accepted, rejected or unsupported,
//!   with its line number — and no comment is; a line the oracle refuses is never silently
//!   dropped;
//! * the compile report's totals equal what the reader reported line by line, and the file
//!   is not mistaken for one to skip.
//!
//! Files that are not indicator lists (documentation, IDS and YARA rules, LOKI file-name
//! regexes) must be skipped with a reason. The fixtures in `testdata/feeds-real/` cover every
//! format (origins and licences in `testdata/README.md`); the real lists under
//! `../shared/data/feeds` are checked the same way when they are present.

use std::collections::HashMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use trawl::Exclusions;
use trawl::FeedOptions;
use trawl::IndicatorSet;
use trawl::Meta;
use trawl::normalize::Normalized;
use trawl::testing::skipped_in_directory;
use trawl::{Collector, Location};
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedSpec, ingest_feeds};

/// What one line of a feed means, by its publisher's format.
#[derive(Clone, Debug, PartialEq)]
enum Meaning {
    /// A network (or one address): its first and last addresses are listed.
    Net(IpNet),
    /// An address range `first last`.
    Range(IpAddr, IpAddr),
    /// A domain and, by the subdomain rule, its subdomains.
    Domain(String),
    /// A URL with a scheme.
    Url(String),
    /// A URL without a scheme (`host/path`): found inside any URL that holds it.
    Fragment(String),
    /// A request path, found in a request line.
    Path(String),
    /// A hex digest.
    Hash(String),
    /// An email address.
    Email(String),
    /// Not something trawl can hold without widening or guessing: must be reported.
    Refused(&'static str),
}

use Meaning::*;

/// Which publisher's conventions apply to a file.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Publisher {
    /// LOKI IOC files (`VALUE;COMMENT`).
    SignatureBase,
    /// Spamhaus DROP (`CIDR ; SBL…`).
    Spamhaus,
    /// Anything else: one value per line, trailing words and ` # comments` ignored.
    Other,
}

fn publisher(path: &Path) -> Publisher {
    let p = path.to_string_lossy();
    if p.contains("signature-base") {
        Publisher::SignatureBase
    } else if p.contains("spamhaus") || p.contains("drop-format") {
        Publisher::Spamhaus
    } else {
        Publisher::Other
    }
}

/// Why a file is not an indicator list, as the oracle sees it by name.
fn expected_skip(path: &Path) -> Option<&'static str> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let stem_is = |w: &str| {
        name.strip_prefix(w)
            .is_some_and(|r| r.is_empty() || r.starts_with(['.', '-', '_']))
    };
    if ["license", "licence", "readme", "copying"]
        .iter()
        .any(|w| stem_is(w))
        || name.ends_with(".md")
    {
        Some("documentation")
    } else if name.ends_with(".rules") {
        Some("Snort/Suricata")
    } else if name.ends_with(".yar") {
        Some("YARA")
    } else if name.contains("filename-iocs") {
        Some("LOKI")
    } else {
        None
    }
}

fn valid_label(l: &str) -> bool {
    (1..=63).contains(&l.len())
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A DNS name as a blocklist means it: lowercase, IDNA, at least two labels, a last label
/// that is not a number.
fn domain(raw: &str) -> Option<String> {
    let s = raw.trim_end_matches('.');
    let s = s.strip_prefix("*.").unwrap_or(s);
    let s = s.strip_prefix('.').unwrap_or(s);
    let s = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(s).ok()?
    };
    let labels: Vec<&str> = s.split('.').collect();
    let ok = s.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| valid_label(l))
        && !labels[labels.len() - 1].bytes().all(|b| b.is_ascii_digit());
    ok.then_some(s)
}

/// A URL's host (without userinfo and port): an IP literal or a name of valid labels.
fn url_host_ok(authority: &str) -> bool {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host.strip_prefix('[') {
        let Some((addr, port)) = v6.split_once(']') else {
            return false;
        };
        return addr.parse::<std::net::Ipv6Addr>().is_ok()
            && (port.is_empty()
                || port
                    .strip_prefix(':')
                    .is_some_and(|p| p.parse::<u16>().is_ok()));
    }
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if port.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err()) {
        return false;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let name = if name.is_ascii() {
        name
    } else {
        match idna::domain_to_ascii(&name) {
            Ok(n) => n,
            Err(_) => return false,
        }
    };
    name.parse::<IpAddr>().is_ok() || (name.len() <= 253 && name.split('.').all(valid_label))
}

fn is_hex_digest(v: &str) -> bool {
    matches!(v.len(), 32 | 40 | 64 | 128) && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What a single value means.
fn classify(v: &str) -> Meaning {
    if v.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Refused("control character");
    }
    if let Some(i) = v.find("://") {
        let scheme = &v[..i];
        if !scheme.contains(['/', '?', '#']) {
            let ok_scheme = scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
            let rest = &v[i + 3..];
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            return if ok_scheme && !v.contains(' ') && url_host_ok(authority) {
                Url(v.to_string())
            } else {
                Refused("bad URL")
            };
        }
    }
    if let Ok(net) = v.parse::<IpNet>() {
        return if net.prefix_len() == 0 {
            Refused("/0")
        } else {
            Net(net.trunc())
        };
    }
    if let Ok(a) = v.parse::<IpAddr>() {
        return Net(IpNet::from(a));
    }
    if is_hex_digest(v) {
        return Hash(v.to_ascii_lowercase());
    }
    if let Some((host, port)) = v.rsplit_once(':') {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && host.parse::<IpAddr>().is_ok()
        {
            return Refused("address:port");
        }
    }
    if v.starts_with('/') {
        return if v.len() >= 4 {
            Path(v.to_string())
        } else {
            Refused("short path")
        };
    }
    if let Some(slash) = v.find('/') {
        return if !v.contains(' ') && url_host_ok(&v[..slash]) && !v[..slash].is_empty() {
            Fragment(v.to_string())
        } else {
            Refused("bad URL fragment")
        };
    }
    if let Some((local, dom)) = v.rsplit_once('@') {
        return match domain(dom) {
            Some(_) if !local.is_empty() && !local.contains(['@', ' ', '(', ')', '<', '>']) => {
                Email(v.to_string())
            }
            _ => Refused("bad email"),
        };
    }
    match domain(v) {
        Some(d) => Domain(d),
        None => Refused("bad name"),
    }
}

/// `0.0.0.0 name`-style boilerplate of hosts files.
fn hosts_boilerplate(name: &str) -> bool {
    matches!(
        name,
        "localhost" | "localhost.localdomain" | "local" | "broadcasthost" | "0.0.0.0"
    ) || name.starts_with("ip6-")
}

/// What one line of a plain list means (empty: nothing).
fn plain_line(line: &str, path: &Path) -> Vec<Meaning> {
    let line = line.trim();
    if line.is_empty()
        || line.starts_with(['#', '!', ';'])
        || line.starts_with("//")
        || line.starts_with("[Adblock")
    {
        return vec![];
    }
    let name = path.to_string_lossy();
    if [".md5", ".sha1", ".sha256", ".sha512"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        return vec![if is_hex_digest(line) {
            Hash(line.to_ascii_lowercase())
        } else {
            Refused("bad hash")
        }];
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    // dnsmasq, Unbound, BIND, RPZ (urlhaus-filter's script.sh writes each of these).
    for key in ["address=/", "local=/", "server=/"] {
        if let Some(rest) = line.strip_prefix(key) {
            let mut parts: Vec<&str> = rest.split('/').collect();
            let target = parts.pop().unwrap_or("");
            if key == "server=/" && !target.is_empty() {
                return vec![Refused("forwarder")];
            }
            return parts.iter().map(|n| dns_name(n)).collect();
        }
    }
    if words[0] == "local-zone:" || (words[0] == "zone" && line.contains('{')) {
        return vec![dns_name(line.split('"').nth(1).unwrap_or(""))];
    }
    if words[0] == "server:" || words[0].starts_with('$') || words[0] == "@" {
        return vec![];
    }
    if words.len() >= 2
        && words[..words.len().min(4)]
            .iter()
            .any(|w| *w == "SOA" || *w == "NS")
    {
        return vec![];
    }
    if words.len() >= 3 && words[1] == "CNAME" {
        return vec![if words[2] == "rpz-passthru." {
            Refused("passthru")
        } else {
            dns_name(words[0])
        }];
    }
    // Adblock rules (urlhaus-filter's uBO list).
    if line.starts_with("@@") {
        return vec![Refused("exception")];
    }
    if let Some(rule) = line.strip_prefix("||") {
        let (pattern, options) = rule.rsplit_once('$').unwrap_or((rule, ""));
        if !options.is_empty() && !["all", "document"].contains(&options) {
            return vec![Refused("options")];
        }
        let pattern = pattern.trim_end_matches('^');
        if pattern.contains(['*', '^', '|']) {
            return vec![Refused("wildcard")];
        }
        return vec![classify(pattern)];
    }
    // Hosts files.
    if words.len() >= 2 && ["0.0.0.0", "127.0.0.1", "::", "::1"].contains(&words[0]) {
        if hosts_boilerplate(words[1]) {
            return vec![];
        }
        return words[1..]
            .iter()
            .take_while(|w| !w.starts_with('#'))
            .map(|w| classify(w))
            .collect();
    }
    if words.len() >= 2 && words[0].parse::<IpAddr>().is_ok() && hosts_boilerplate(words[1]) {
        return vec![];
    }
    // Address ranges (DShield: start, end, prefix, …).
    if words.len() >= 2 {
        if let (Ok(a), Ok(b)) = (words[0].parse::<IpAddr>(), words[1].parse::<IpAddr>()) {
            return vec![Range(a, b)];
        }
    }
    let value = match publisher(path) {
        // LOKI: `VALUE;COMMENT` (and `VALUE;SCORE` in c2-iocs).
        Publisher::SignatureBase => line.split(';').next().unwrap_or(line).trim(),
        Publisher::Spamhaus => line.split(';').next().unwrap_or(line).trim(),
        Publisher::Other => {
            // A value, then ` # comment` or further columns (ipsum's count). A path keeps
            // its spaces (maltrail's `/Consulta FGTS.js`).
            let before_comment = line.split(" #").next().unwrap_or(line).trim();
            if before_comment.starts_with('/') {
                before_comment
            } else {
                words[0]
            }
        }
    };
    vec![classify(value)]
}

fn dns_name(n: &str) -> Meaning {
    match domain(n) {
        Some(d) => Domain(d),
        None => Refused("bad name"),
    }
}

/// What each line of a file means: line number (1-based) → meanings.
fn meanings(path: &Path, text: &str) -> Vec<(u64, Vec<Meaning>)> {
    let lines: Vec<&str> = text.split('\n').collect();
    let is_csv = path.extension().is_some_and(|e| e == "csv");
    let mut out = Vec::new();
    let mut header: Option<(usize, Option<usize>)> = None;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end_matches('\r');
        let n = i as u64 + 1;
        if !is_csv {
            out.push((n, plain_line(line, path)));
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') {
            out.push((n, vec![]));
            continue;
        }
        let cells: Vec<String> = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(line.as_bytes())
            .records()
            .next()
            .and_then(Result::ok)
            .map(|r| r.iter().map(|c| c.trim().to_string()).collect())
            .unwrap_or_default();
        let Some((value, path_col)) = header else {
            // The header: blackbook `Domain,…`, urlhaus-filter's Splunk `"host","path",…`,
            // CTU AIP `attacker`.
            let find = |names: &[&str]| {
                cells
                    .iter()
                    .position(|c| names.contains(&c.to_ascii_lowercase().as_str()))
            };
            header = Some((
                find(&["domain", "host", "attacker"]).expect("value column"),
                find(&["path"]),
            ));
            out.push((n, vec![]));
            continue;
        };
        let host = cells.get(value).map_or("", String::as_str);
        let meaning = match path_col.and_then(|p| cells.get(p)).map(String::as_str) {
            Some(p) if !p.is_empty() => classify(&format!("{host}{p}")),
            _ => classify(host),
        };
        out.push((n, vec![meaning]));
    }
    out
}

/// What the reader reported per line.
#[derive(Default)]
struct Recorder {
    accepted: HashMap<u64, u64>,
    refused: HashMap<u64, Vec<String>>,
    rejected_total: u64,
    unsupported_total: u64,
    accepted_total: u64,
}

fn line_of(at: &Location) -> u64 {
    match at {
        Location::Line { line, .. } => *line,
        other => panic!("a text feed reports lines, not {other}"),
    }
}

impl Collector for Recorder {
    fn accept(&mut self, _: Normalized, _: &Meta, at: &Location) {
        *self.accepted.entry(line_of(at)).or_default() += 1;
        self.accepted_total += 1;
    }
    fn reject(&mut self, at: Location, reason: &str, _: &str) {
        self.refused
            .entry(line_of(&at))
            .or_default()
            .push(reason.into());
        self.rejected_total += 1;
    }
    fn unsupported(&mut self, at: Location, reason: &str, _: &str) {
        self.refused
            .entry(line_of(&at))
            .or_default()
            .push(reason.into());
        self.unsupported_total += 1;
    }
    fn dropped(&mut self, at: Location, reason: &str) {
        panic!("a text feed drops nothing: {at} {reason}");
    }
}

/// Hands what a reader reports both to the set being built and to a [`Recorder`].
struct Tee {
    set: SetBuilder,
    rec: Recorder,
}

impl Collector for Tee {
    fn accept(&mut self, n: Normalized, meta: &Meta, at: &Location) {
        self.rec.accept(n.clone(), meta, at);
        self.set.accept(n, meta, at);
    }
    fn reject(&mut self, at: Location, reason: &str, detail: &str) {
        self.rec.reject(at.clone(), reason, detail);
        self.set.reject(at, reason, detail);
    }
    fn unsupported(&mut self, at: Location, reason: &str, detail: &str) {
        self.rec.unsupported(at.clone(), reason, detail);
        self.set.unsupported(at, reason, detail);
    }
    fn dropped(&mut self, at: Location, reason: &str) {
        self.rec.dropped(at.clone(), reason);
        self.set.dropped(at, reason);
    }
}

/// Whether looking up what a line means hits in the set.
fn hits(set: &IndicatorSet<memmap2::Mmap>, m: &Meaning) -> bool {
    let ip_hit = |a: IpAddr| {
        set.match_ip(a).is_some_and(|h| {
            let v = set.indicator(h.indicator).unwrap().value();
            v.parse::<IpNet>().is_ok_and(|n| n.contains(&a))
        })
    };
    match m {
        Net(net) => ip_hit(net.network()) && ip_hit(net.broadcast()),
        Range(a, b) => ip_hit(*a) && ip_hit(*b),
        Domain(d) => {
            set.match_domain(d).is_some() && set.match_domain(&format!("www.{d}")).is_some()
        }
        Url(u) => !set.match_url(u).is_empty(),
        Fragment(f) => !set.match_url(&format!("http://{f}")).is_empty(),
        Path(p) => !set
            .match_http(format!("GET {p} HTTP/1.1\r\nHost: x.example\r\n\r\n").as_bytes())
            .is_empty(),
        Hash(h) => set.match_hash_hex(h.as_bytes()).is_some(),
        Email(e) => set.match_email(e).is_some(),
        Refused(_) => false,
    }
}

/// Per-file figures, printed by the tests.
#[derive(Default, Debug)]
struct Checked {
    files: usize,
    skipped: usize,
    lines: u64,
    sampled: u64,
    refused: u64,
}

/// Checks one feed file (see the module comment); `failures` collects what went wrong.
fn check_file(path: &Path, out_dir: &Path, totals: &mut Checked, failures: &mut Vec<String>) {
    let mut fail = |msg: String| failures.push(format!("{}: {msg}", path.display()));
    if let Some(what) = expected_skip(path) {
        totals.skipped += 1;
        if what == "documentation" {
            match skipped_in_directory(path) {
                Ok(Some(why)) if why.contains("documentation") => {}
                other => fail(format!("documentation not skipped: {other:?}")),
            }
            return;
        }
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        ingest_feeds(&[FeedSpec::new(path)], &mut b).unwrap();
        let report = b.report();
        let skipped: Vec<&String> = report.skipped.keys().collect();
        if skipped.len() != 1 || !skipped[0].contains(what) || !report.inputs.is_empty() {
            fail(format!("expected skipped as {what}: {skipped:?}"));
        }
        return;
    }
    totals.files += 1;
    let text = String::from_utf8(std::fs::read(path).unwrap()).expect("feeds are UTF-8");
    let lines = meanings(path, &text);
    totals.lines += lines.len() as u64;

    // Compile the file alone, as `trawl compile DIR` would read it: not skipped, then read
    // into the set while a recorder notes what was reported for each line.
    match skipped_in_directory(path) {
        Ok(None) => {}
        other => fail(format!("a feed was skipped: {other:?}")),
    }
    let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
    let mut tee = Tee {
        set: SetBuilder::new(CompileOptions::default(), Exclusions::new()),
        rec: Recorder::default(),
    };
    trawl::read_text_feed(
        File::open(path).unwrap(),
        &path.display().to_string(),
        &FeedOptions::source(stem),
        &mut tee,
    )
    .unwrap();
    let Tee { set: b, rec } = tee;
    let set_path = out_dir.join("one.tset");
    let report = b.write(&set_path).unwrap();
    let set = IndicatorSet::open(&set_path).unwrap();
    // The compile report counts everything the reader reported.
    let accepted: u64 = report.accepted.values().sum();
    let unsupported: u64 = report.unsupported.values().map(|t| t.count).sum();
    if (accepted, report.rejected_total(), unsupported)
        != (
            rec.accepted_total,
            rec.rejected_total,
            rec.unsupported_total,
        )
    {
        fail(format!(
            "report (accepted, rejected, unsupported) = {:?}, reader = {:?}",
            (accepted, report.rejected_total(), unsupported),
            (
                rec.accepted_total,
                rec.rejected_total,
                rec.unsupported_total
            )
        ));
    }

    // Every line is accounted for as the oracle says.
    for (n, m) in &lines {
        let accepted = rec.accepted.get(n).copied().unwrap_or(0);
        let refused = rec.refused.get(n).map_or(0, Vec::len) as u64;
        if m.is_empty() && accepted + refused > 0 {
            fail(format!(
                "line {n} means nothing but was reported ({accepted} accepted, {:?})",
                rec.refused.get(n)
            ));
        }
        if !m.is_empty() && accepted + refused == 0 {
            fail(format!("line {n} ({m:?}) vanished without a report"));
        }
        let wanted_refusals = m.iter().filter(|m| matches!(m, Refused(_))).count() as u64;
        if refused < wanted_refusals {
            fail(format!(
                "line {n} ({m:?}) was not reported as refused: {:?}",
                rec.refused.get(n)
            ));
        }
        totals.refused += wanted_refusals;
    }

    // The sample: first and last 20 lines that mean something, and every Nth between.
    let meaningful: Vec<&(u64, Vec<Meaning>)> =
        lines.iter().filter(|(_, m)| !m.is_empty()).collect();
    let step = meaningful.len().div_ceil(200).max(1);
    for (i, (n, ms)) in meaningful.iter().enumerate() {
        if !(i < 20 || i + 20 >= meaningful.len() || i % step == 0) {
            continue;
        }
        totals.sampled += 1;
        for m in ms {
            if !matches!(m, Refused(_)) && !hits(&set, m) {
                fail(format!(
                    "line {n}: {m:?} does not hit (reported: {:?})",
                    rec.refused.get(n)
                ));
            }
        }
    }
}

fn feed_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn check_tree(root: &Path) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let mut totals = Checked::default();
    let mut failures = Vec::new();
    for f in feed_files(root) {
        check_file(&f, dir.path(), &mut totals, &mut failures);
    }
    println!("{}: {totals:?}", root.display());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(60)].join("\n")
    );
    totals
}

/// Every format, from the fixtures in the repository.
#[test]
fn every_fixture_format_means_what_its_publisher_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/feeds-real");
    let t = check_tree(&root);
    assert!(t.files >= 40 && t.skipped >= 10, "{t:?}");
    assert!(t.sampled > 800 && t.refused > 40, "{t:?}");
}

/// Every list under `../shared/data/feeds` (13 publishers, about 576 files), when present.
#[test]
fn every_real_feed_means_what_its_publisher_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/feeds");
    if !root.join("urlhaus-filter").exists() {
        println!(
            "skipped: {} not present (real data lives outside the repository)",
            root.display()
        );
        return;
    }
    let t = check_tree(&root);
    assert!(t.files > 500 && t.lines > 1_000_000, "{t:?}");
}
