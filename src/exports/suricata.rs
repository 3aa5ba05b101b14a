//! Suricata 8: a directory that stock Suricata loads with
//! `suricata --include DIR/NAME.yaml -S DIR/NAME.rules` (the YAML names the IP reputation
//! files and raises the dataset limits to what the export needs).
//!
//! * **Addresses** go to IP reputation (`iprep`), which takes CIDRs: one category named NAME,
//!   one reputation file with the fewest CIDRs covering what the set answers now
//!   ([`ipv4_cidrs`], [`ipv6_cidrs`]). Single addresses are written as `/32` and `/128`, so
//!   Suricata keeps them in its CIDR tree rather than its host table: `host.memcap` cannot cut
//!   a big list short (a partial load Suricata reports only in suricata.log), and no
//!   single-address entry hides a CIDR entry. Four rules alert once per flow and listed
//!   endpoint (the server or the client), a flowbit remembering the alert.
//! * **Domains** go to JSON datasets, one per label count, asked on `dns.query`,
//!   `dns.answer.name`, `tls.sni` and `http.host` after `to_lowercase`. trawl's subdomain rule
//!   becomes one rule per label count `k`: `pcrexform` keeps the name's last `k` labels and the
//!   `k`-label dataset is asked. As in trawl the most specific listed suffix answers: the rule
//!   also asks (`isnotset`) the datasets of the longer names listed below a `k`-label name.
//!   Names whose every source is `exact` go to a dataset asked with the whole name.
//! * **Emails** go to a JSON dataset asked on `smtp.mail_from` and `smtp.rcpt_to`, lowercased
//!   and without their angle brackets.
//! * **MD5, SHA-1 and SHA-256** go to `filemd5`/`filesha1`/`filesha256` lists.
//! * URLs (no whole-URL buffer), HTTP literals and SHA-512 (no keyword) are counted as not
//!   exported.
//!
//! A dataset alert carries the entry that matched, with its sources, in `alert.context.trawl`.
//! Names, emails and files alert once per transaction and rule. A dataset is defined (file and
//! options) by the first rule that asks it `isset`; later rules name it alone, so the rules file
//! is loaded whole and in order.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::{Coverage, Report, active, ipv4_cidrs, ipv6_cidrs};
use crate::indicators::model::Kind;
use crate::indicators::read::{IndicatorRef, IndicatorSet};

/// The key under which dataset alerts carry the matched entry: `alert.context.trawl`.
pub(crate) const CONTEXT_KEY: &str = "trawl";

/// The score of every reputation entry (Suricata's scale is 1–127; rules ask `>,0`).
pub(crate) const IPREP_SCORE: u8 = 100;

/// Stock Suricata's `datasets.limits`: the largest `hashsize` of one dataset, and the budget
/// of all datasets together (the export's are added to it, leaving the stock budget to others).
const STOCK_SINGLE_HASHSIZE: u64 = 65_536;
const STOCK_TOTAL_HASHSIZES: u64 = 16_777_216;

/// The buffers names are asked on: (rule protocol, sticky buffer, what it holds).
pub(crate) const NAME_BUFFERS: [(&str, &str, &str); 4] = [
    ("dns", "dns.query", "DNS query"),
    ("dns", "dns.answer.name", "DNS answer"),
    ("tls", "tls.sni", "TLS SNI"),
    ("http", "http.host", "HTTP Host"),
];

/// The longest rule Suricata reads is 8,192 bytes (`DETECT_MAX_RULE_SIZE`, with its newline);
/// this leaves room for the sid.
const MAX_RULE_HEAD: usize = 8_192 - 40;

/// The most buffers (a sticky buffer with its transforms) Suricata 8.0.6 takes in one rule: one
/// more fails with "failed to expand rule buffer array".
const MAX_RULE_BUFFERS: usize = 56;

/// `pcrexform` keeping the whole name without a trailing dot.
const WHOLE_NAME: &str = r"^(.+?)\.?$";

/// `pcrexform` keeping an address without the angle brackets SMTP puts around it.
const SMTP_ADDRESS: &str = r"^<(.*)>$";

/// Writes the export of `set` into `dir` (created if missing): `NAME.rules` (sids from `sid`),
/// `NAME.yaml`, `NAME-iprep-categories.txt`, `NAME-iprep.list`, `NAME-domains-K.json` per
/// label count K and `NAME-domains-exact.json`, `NAME-emails.json`, `NAME-ja3.json`,
/// `NAME-ja3s.json`, `NAME-ja4.json`, `NAME-x509-sha1.json`, `NAME-md5.txt`,
/// `NAME-sha1.txt`, `NAME-sha256.txt` (files of kinds the set lacks are not written).
pub fn write<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    dir: &Path,
    prefix: &str,
    sid: u32,
) -> io::Result<Report> {
    fs::create_dir_all(dir)?;
    // The YAML names the reputation files by absolute path: Suricata resolves a relative one
    // against its own default-reputation-path.
    let dir = fs::canonicalize(dir)?;
    let mut out = Export {
        dir: &dir,
        prefix,
        next_sid: sid,
        rules: String::new(),
        report: Report::default(),
        hashsizes: Vec::new(),
        iprep: false,
    };
    out.addresses(set)?;
    out.names(set)?;
    out.emails(set)?;
    out.file_hashes(set)?;
    out.fingerprints(set)?;
    out.not_exported(set);
    out.yaml()?;
    fs::write(dir.join(format!("{prefix}.rules")), &out.rules)?;
    Ok(out.report)
}

/// The export being written.
struct Export<'a> {
    dir: &'a Path,
    prefix: &'a str,
    next_sid: u32,
    rules: String,
    report: Report,
    /// The `hashsize` of every dataset written.
    hashsizes: Vec<u64>,
    /// Whether IP reputation files were written.
    iprep: bool,
}

impl Export<'_> {
    /// Appends a rule: `head` is everything up to the sid.
    fn rule(&mut self, head: String) {
        let _ = writeln!(self.rules, "{head}sid:{}; rev:1;)", self.next_sid);
        self.next_sid += 1;
        self.report.wrote("rules", 1);
    }

    fn create(&self, name: &str) -> io::Result<BufWriter<File>> {
        Ok(BufWriter::new(File::create(self.dir.join(name))?))
    }

    /// IP reputation: the categories file, the reputation file, and the rules.
    fn addresses<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> io::Result<()> {
        let p = self.prefix;
        let (v4, v6) = (ipv4_cidrs(set), ipv6_cidrs(set));
        // Every indicator that answers somewhere is carried by the CIDRs covering its space.
        let mut answering = vec![false; set.len()];
        let ids = set.ipv4_ranges().map(|r| r.2);
        for id in ids.chain(set.ipv6_ranges().map(|r| r.2)) {
            if let Some(a) = answering.get_mut(id as usize) {
                *a = true;
            }
        }
        for kind in [Kind::Ipv4, Kind::Ipv6] {
            let mut c = Coverage::default();
            for ind in active(set, &[kind]) {
                c.in_set += 1;
                if answering.get(ind.id() as usize) == Some(&true) {
                    c.exported += 1;
                } else {
                    self.report.skip(
                        "addresses answering nowhere (carved out, or covered by longer prefixes)",
                    );
                }
            }
            self.report.coverage.insert(kind.name(), c);
        }
        if v4.is_empty() && v6.is_empty() {
            return Ok(());
        }
        fs::write(
            self.dir.join(format!("{p}-iprep-categories.txt")),
            format!("1,{p},addresses listed in the trawl set exported as {p}\n"),
        )?;
        let mut list = self.create(&format!("{p}-iprep.list"))?;
        for net in &v4 {
            writeln!(list, "{net},1,{IPREP_SCORE}")?;
        }
        for net in &v6 {
            writeln!(list, "{net},1,{IPREP_SCORE}")?;
        }
        list.flush()?;
        self.report.wrote("ipv4 cidrs", v4.len() as u64);
        self.report.wrote("ipv6 cidrs", v6.len() as u64);
        self.iprep = true;
        // The flowbit is set by the first alert for that endpoint of the flow, in whichever
        // direction it comes.
        for (role, flow, side) in [
            ("server", "to_server", "dst"),
            ("server", "to_client", "src"),
            ("client", "to_server", "src"),
            ("client", "to_client", "dst"),
        ] {
            self.rule(format!(
                "alert ip any any -> any any (msg:\"{p}: {role} address listed\"; \
                 flow:{flow}; flowbits:isnotset,{p}.{role}; iprep:{side},{p},>,0; \
                 flowbits:set,{p}.{role}; "
            ));
        }
        Ok(())
    }

    /// Domain datasets and the rules asking them on every name buffer.
    fn names<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> io::Result<()> {
        let p = self.prefix;
        let now = set.now();
        // Names that match their subdomains too, by label count; names matching only themselves.
        let mut walking: BTreeMap<usize, Vec<(String, IndicatorRef<'_>)>> = BTreeMap::new();
        let mut exact = Vec::new();
        for ind in active(set, &[Kind::Domain]) {
            let value = ind.value();
            if ind.provenance().any(|s| s.active_at(now) && !s.exact) {
                walking
                    .entry(labels(&value))
                    .or_default()
                    .push((value, ind));
            } else {
                exact.push((value, ind));
            }
        }
        let n = walking.values().map(Vec::len).sum::<usize>() + exact.len();
        if n == 0 {
            self.report
                .coverage
                .insert(Kind::Domain.name(), Coverage::default());
            return Ok(());
        }

        // For each label count k: the label counts of names listed below a k-label name, and
        // whether an exact-only name is listed below one. A k-label rule must not answer for
        // what they answer (the most specific listed suffix wins).
        let listed: HashSet<&str> = walking.values().flatten().map(|e| e.0.as_str()).collect();
        let mut below: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        let mut exact_below: BTreeSet<usize> = BTreeSet::new();
        let all = walking.values().flatten().map(|e| (e, true));
        for ((name, _), walks) in all.chain(exact.iter().map(|e| (e, false))) {
            let j = labels(name);
            let mut rest = name.as_str();
            while let Some((_, parent)) = rest.split_once('.') {
                if listed.contains(parent) {
                    let k = labels(parent);
                    if walks {
                        below.entry(k).or_default().insert(j);
                    } else {
                        exact_below.insert(k);
                    }
                }
                rest = parent;
            }
        }

        let mut datasets = BTreeMap::new();
        for (k, entries) in &walking {
            let opts = self.dataset(&format!("{p}-domains-{k}"), Kind::Domain, entries, now)?;
            datasets.insert(*k, opts);
        }
        let exact_set = if exact.is_empty() {
            None
        } else {
            Some(self.dataset(&format!("{p}-domains-exact"), Kind::Domain, &exact, now)?)
        };
        // Rules by buffer: the exact-only rule, then label counts from the longest down, so every
        // dataset is defined (with its file and options) by its own `isset` before a rule asks
        // it `isnotset` by name alone. A label count whose rule would pass Suricata's limits on
        // a rule (names listed below it at more than 55 depths) is left out and counted.
        let name_rule =
            |proto: &str, buffer: &str, what: &str, k: Option<usize>, skip: &BTreeSet<usize>| {
                let ask = |re: &str, cmd: &str, set: &str| {
                    format!("{buffer}; to_lowercase; pcrexform:\"{re}\"; dataset:{cmd},{set}; ")
                };
                let mut r = format!(
                    "alert {proto} any any -> any any (msg:\"{p}: {what} of a listed name\"; "
                );
                let Some(k) = k else {
                    return r + &ask(
                        WHOLE_NAME,
                        "isset",
                        exact_set.as_deref().unwrap_or_default(),
                    );
                };
                r += &ask(&last_labels(k), "isset", &datasets[&k]);
                for j in below
                    .get(&k)
                    .into_iter()
                    .flatten()
                    .filter(|j| !skip.contains(j))
                {
                    r += &ask(
                        &last_labels(*j),
                        "isnotset",
                        &format!("{p}-domains-{j},type string"),
                    );
                }
                if exact_set.is_some() && exact_below.contains(&k) {
                    r += &ask(
                        WHOLE_NAME,
                        "isnotset",
                        &format!("{p}-domains-exact,type string"),
                    );
                }
                r
            };
        let mut too_long = BTreeSet::new();
        for &k in datasets.keys().rev() {
            if NAME_BUFFERS.iter().any(|b| {
                let r = name_rule(b.0, b.1, b.2, Some(k), &too_long);
                r.len() > MAX_RULE_HEAD || r.matches("; dataset:").count() > MAX_RULE_BUFFERS
            }) {
                too_long.insert(k);
            }
        }
        let mut rules = Vec::new();
        for (proto, buffer, what) in NAME_BUFFERS {
            if exact_set.is_some() {
                rules.push(name_rule(proto, buffer, what, None, &too_long));
            }
            for &k in datasets.keys().rev().filter(|k| !too_long.contains(k)) {
                rules.push(name_rule(proto, buffer, what, Some(k), &too_long));
            }
        }
        for r in rules {
            self.rule(r);
        }
        let left_out: usize = too_long.iter().map(|k| walking[k].len()).sum();
        if left_out > 0 {
            *self
                .report
                .skipped
                .entry("domains whose rule would pass Suricata's limits (8 KiB, 56 buffers)")
                .or_default() += left_out as u64;
        }
        self.report.coverage.insert(
            Kind::Domain.name(),
            Coverage {
                in_set: n as u64,
                exported: (n - left_out) as u64,
            },
        );
        self.report.wrote("domains", (n - left_out) as u64);
        Ok(())
    }

    /// The email dataset and its SMTP rules.
    fn emails<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> io::Result<()> {
        let p = self.prefix;
        let entries: Vec<_> = active(set, &[Kind::Email])
            .map(|i| (i.value(), i))
            .collect();
        let n = entries.len() as u64;
        let c = Coverage {
            in_set: n,
            exported: n,
        };
        self.report.coverage.insert(Kind::Email.name(), c);
        if n == 0 {
            return Ok(());
        }
        self.report.wrote("emails", n);
        let set_opts = self.dataset(&format!("{p}-emails"), Kind::Email, &entries, set.now())?;
        for (buffer, what) in [
            ("smtp.mail_from", "SMTP MAIL FROM"),
            ("smtp.rcpt_to", "SMTP RCPT TO"),
        ] {
            self.rule(format!(
                "alert smtp any any -> any any (msg:\"{p}: {what} a listed address\"; \
                 {buffer}; to_lowercase; pcrexform:\"{SMTP_ADDRESS}\"; dataset:isset,{set_opts}; "
            ));
        }
        Ok(())
    }

    /// MD5, SHA-1 and SHA-256 lists and the file rules asking them.
    fn file_hashes<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> io::Result<()> {
        let p = self.prefix;
        for (kind, keyword, what) in [
            (Kind::Md5, "filemd5", "MD5"),
            (Kind::Sha1, "filesha1", "SHA-1"),
            (Kind::Sha256, "filesha256", "SHA-256"),
        ] {
            let file = format!("{p}-{kind}.txt");
            let mut n = 0;
            let mut w = None;
            for ind in active(set, &[kind]) {
                if w.is_none() {
                    w = Some(self.create(&file)?);
                }
                if let Some(w) = &mut w {
                    writeln!(w, "{}", ind.value())?;
                }
                n += 1;
            }
            self.report.coverage.insert(
                kind.name(),
                Coverage {
                    in_set: n,
                    exported: n,
                },
            );
            let Some(mut w) = w else { continue };
            w.flush()?;
            self.report.wrote(kind.name(), n);
            self.rule(format!(
                "alert ip any any -> any any (msg:\"{p}: file with a listed {what}\"; \
                 {keyword}:{file}; "
            ));
        }
        Ok(())
    }

    /// JA3, JA3S, JA4 and certificate SHA-1 datasets and the TLS and QUIC rules asking
    /// Suricata's sticky buffers for them (`ja3.hash`, `ja3s.hash`, `ja4.hash`: lowercase
    /// text as trawl writes it; `tls.cert_fingerprint`: the leaf certificate's SHA-1 as
    /// lowercase hex pairs joined by `:`). Suricata computes JA3/JA4 when a rule asks.
    fn fingerprints<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> io::Result<()> {
        let p = self.prefix;
        for (kind, buffer, protos, what) in [
            (Kind::Ja3, "ja3.hash", &["tls", "quic"][..], "JA3"),
            (Kind::Ja3s, "ja3s.hash", &["tls", "quic"][..], "JA3S"),
            (Kind::Ja4, "ja4.hash", &["tls", "quic"][..], "JA4"),
            (
                Kind::X509Sha1,
                "tls.cert_fingerprint",
                &["tls"][..],
                "certificate SHA-1",
            ),
        ] {
            let kinds = [kind];
            let entries: Vec<_> = active(set, &kinds)
                .map(|i| {
                    let v = i.value();
                    let v = if kind == Kind::X509Sha1 {
                        colon_pairs(&v)
                    } else {
                        v
                    };
                    (v, i)
                })
                .collect();
            let n = entries.len() as u64;
            self.report.coverage.insert(
                kind.name(),
                Coverage {
                    in_set: n,
                    exported: n,
                },
            );
            if n == 0 {
                continue;
            }
            self.report.wrote(kind.name(), n);
            let set_opts = self.dataset(&format!("{p}-{kind}"), kind, &entries, set.now())?;
            for proto in protos {
                self.rule(format!(
                    "alert {proto} any any -> any any (msg:\"{p}: {what} listed\"; \
                     {buffer}; dataset:isset,{set_opts}; "
                ));
            }
        }
        Ok(())
    }

    /// Counts the kinds Suricata has nothing for.
    fn not_exported<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) {
        for (kind, why) in [
            (Kind::Url, "urls (no whole-URL buffer)"),
            (Kind::HttpRequest, "http literals (no equivalent)"),
            (Kind::Sha512, "sha512 (no file keyword)"),
            (
                Kind::X509Md5,
                "certificate md5/sha256 (Suricata matches the sha1)",
            ),
            (
                Kind::X509Sha256,
                "certificate md5/sha256 (Suricata matches the sha1)",
            ),
            (Kind::Ja4s, "ja4s (no keyword)"),
        ] {
            let n = active(set, &[kind]).count() as u64;
            self.report.coverage.insert(
                kind.name(),
                Coverage {
                    in_set: n,
                    exported: 0,
                },
            );
            if n > 0 {
                *self.report.skipped.entry(why).or_default() += n;
            }
        }
    }

    /// Writes a JSON dataset (`{"indicators": [{"indicator", "kind", "sources"}, …]}`) and
    /// returns the `dataset` keyword's name and options for it, `hashsize` sized to it.
    fn dataset(
        &mut self,
        name: &str,
        kind: Kind,
        entries: &[(String, IndicatorRef<'_>)],
        now: i64,
    ) -> io::Result<String> {
        let file = format!("{name}.json");
        let mut w = self.create(&file)?;
        w.write_all(b"{\"indicators\":[\n")?;
        for (i, (value, ind)) in entries.iter().enumerate() {
            let mut sources: Vec<&str> = Vec::new();
            for s in ind.provenance().filter(|s| s.active_at(now)) {
                if !sources.contains(&s.source) {
                    sources.push(s.source);
                }
            }
            writeln!(
                w,
                "{{\"indicator\":{},\"kind\":\"{kind}\",\"sources\":{}}}{}",
                json(value),
                serde_json::to_string(&sources).map_err(io::Error::other)?,
                if i + 1 < entries.len() { "," } else { "" }
            )?;
        }
        w.write_all(b"]}\n")?;
        w.flush()?;
        let hashsize = (entries.len() as u64).next_power_of_two().max(1024);
        self.hashsizes.push(hashsize);
        Ok(format!(
            "{name},type string,load {file},format json,context_key {CONTEXT_KEY},\
             value_key indicator,array_key indicators,hashsize {hashsize}"
        ))
    }

    /// `NAME.yaml`, for `suricata --include`: the reputation files and the dataset limits.
    fn yaml(&mut self) -> io::Result<()> {
        let p = self.prefix;
        let dir = self
            .dir
            .to_str()
            .ok_or_else(|| io::Error::other("the output directory's path is not UTF-8"))?;
        let mut y = format!(
            "%YAML 1.1\n---\n# trawl export {p}: what stock suricata.yaml needs for {p}.rules. Load with\n\
             #   suricata -c suricata.yaml --include {dir}/{p}.yaml -S {dir}/{p}.rules\n"
        );
        if self.iprep {
            let _ = write!(
                y,
                "reputation-categories-file: {}\ndefault-reputation-path: {}\n\
                 reputation-files:\n  - {p}-iprep.list\n",
                json(&format!("{dir}/{p}-iprep-categories.txt")),
                json(dir),
            );
        }
        let single = self.hashsizes.iter().copied().max().unwrap_or(0);
        let total: u64 = self.hashsizes.iter().sum();
        let _ = write!(
            y,
            "datasets:\n  limits:\n    single-hashsize: {}\n    total-hashsizes: {}\n",
            single.max(STOCK_SINGLE_HASHSIZE),
            STOCK_TOTAL_HASHSIZES + total
        );
        fs::write(self.dir.join(format!("{p}.yaml")), y)
    }
}

/// A JSON string (valid as a YAML double-quoted scalar too).
fn json(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// `3367a1…` → `33:67:a1:…`, as Suricata writes a certificate fingerprint.
fn colon_pairs(hex: &str) -> String {
    let mut out = String::with_capacity(hex.len() * 3 / 2);
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push_str(std::str::from_utf8(pair).unwrap_or(""));
    }
    out
}

/// Labels of a canonical name.
fn labels(name: &str) -> usize {
    name.split('.').count()
}

/// `pcrexform` keeping the last `k` labels of a name (and dropping a trailing dot); a name
/// with fewer labels is left whole, which no `k`-label dataset holds.
fn last_labels(k: usize) -> String {
    format!(r"(?:^|\.)([^.]+(?:\.[^.]+){{{}}})\.?$", k - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patterns are in the subset PCRE and the regex crate read alike.
    #[test]
    fn patterns_keep_what_the_datasets_hold() {
        let keep = |re: &str, s: &str| {
            regex::Regex::new(re)
                .unwrap()
                .captures(s)
                .map(|c| c[1].to_string())
        };
        assert_eq!(
            keep(&last_labels(2), "a.b.evil.example").unwrap(),
            "evil.example"
        );
        assert_eq!(
            keep(&last_labels(3), "a.b.evil.example.").unwrap(),
            "b.evil.example"
        );
        assert_eq!(
            keep(&last_labels(2), "evil.example").unwrap(),
            "evil.example"
        );
        assert_eq!(keep(&last_labels(3), "evil.example"), None);
        assert_eq!(keep(WHOLE_NAME, "evil.example.").unwrap(), "evil.example");
        assert_eq!(keep(SMTP_ADDRESS, "<a@b.example>").unwrap(), "a@b.example");
    }
}
