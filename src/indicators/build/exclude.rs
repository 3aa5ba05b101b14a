//! Warninglists: known-good values that must not become indicators (`trawl compile --exclude`).
//!
//! Reads MISP warninglists (`{name, type, matching_attributes, list}`, types `string`,
//! `substring`, `hostname`, `cidr`, `regex`) and plain allowlists (one value per line, `#`
//! comments; addresses/CIDRs act as `cidr`, names as `hostname`, anything else as `string`).
//! A value a list covers is suppressed. A CIDR indicator that only *overlaps* a `cidr` list keeps
//! matching outside the list's ranges: those ranges are carved out of the interval table.

use std::collections::HashSet;
use std::path::Path;

use aho_corasick::AhoCorasick;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use iprange::IpRange;
use regex::Regex;

use crate::indicators::error::{Error, Result};
use crate::indicators::model::{Kind, Value};
use crate::indicators::normalize;

/// Sorted, disjoint, inclusive address ranges (IPv4 in the low 32 bits).
pub(crate) type Ranges = Vec<(u128, u128)>;

/// What a warninglist decides for one indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not covered by any list.
    Keep,
    /// Fully covered: leave the indicator out (the list's name).
    Suppress(String),
    /// A CIDR overlapping a list's ranges: keep it, carve the ranges out (the list's name).
    Carve(String),
}

enum Matcher {
    Exact(HashSet<String>),
    Substring(Option<AhoCorasick>),
    Hostname(HashSet<String>),
    /// Merged inclusive ranges, IPv4 then IPv6 (IPv4 in the low 32 bits).
    Cidr(Ranges, Ranges),
    Regex(Vec<Regex>),
}

struct List {
    name: String,
    kinds: Option<Vec<Kind>>,
    matcher: Matcher,
}

/// A set of loaded warninglists.
#[derive(Default)]
pub struct Exclusions {
    lists: Vec<List>,
    /// Entries that could not be used, as `list: entry — why`.
    pub skipped: Vec<String>,
}

impl std::fmt::Debug for Exclusions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exclusions")
            .field(
                "lists",
                &self.lists.iter().map(|l| &l.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Maps MISP attribute types to the kinds they cover (None: an attribute type trawl has no kind for).
fn kinds_of_attribute(attr: &str) -> &'static [Kind] {
    match attr {
        "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" | "domain|ip" => {
            &[Kind::Ipv4, Kind::Ipv6, Kind::Domain]
        }
        "domain" | "hostname" => &[Kind::Domain],
        "url" | "uri" | "link" => &[Kind::Url],
        "email"
        | "email-src"
        | "email-dst"
        | "target-email"
        | "whois-registrant-email"
        | "dns-soa-email" => &[Kind::Email],
        "md5" | "filename|md5" => &[Kind::Md5],
        "sha1" | "filename|sha1" => &[Kind::Sha1],
        "sha256" | "filename|sha256" => &[Kind::Sha256],
        "sha512" | "filename|sha512" => &[Kind::Sha512],
        _ => &[],
    }
}

impl Exclusions {
    /// No lists.
    pub fn new() -> Exclusions {
        Exclusions::default()
    }

    /// Whether no list is loaded.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Loads a MISP warninglist (JSON) or a plain allowlist from a file.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        if text.trim_start().starts_with('{') {
            let doc: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::feed(path, format!("warninglist is not valid JSON: {e}")))?;
            self.add_misp(&doc, &path.display().to_string())
                .map_err(|e| Error::feed(path, e))
        } else {
            let name = path
                .file_name()
                .map_or_else(|| "allowlist".into(), |n| n.to_string_lossy().into_owned());
            self.add_plain(&name, &text);
            Ok(())
        }
    }

    /// Adds a MISP warninglist document.
    pub fn add_misp(&mut self, doc: &serde_json::Value, fallback_name: &str) -> Result<(), String> {
        let name = doc["name"].as_str().unwrap_or(fallback_name).to_string();
        let ty = doc["type"].as_str().unwrap_or("string");
        let entries: Vec<&str> = doc["list"]
            .as_array()
            .ok_or("warninglist has no \"list\" array")?
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let kinds = doc["matching_attributes"].as_array().and_then(|attrs| {
            let mut ks: Vec<Kind> = attrs
                .iter()
                .filter_map(|a| a.as_str())
                .flat_map(|a| kinds_of_attribute(a).iter().copied())
                .collect();
            ks.sort_unstable();
            ks.dedup();
            (!attrs.is_empty()).then_some(ks)
        });
        let matcher = match ty {
            "string" => Matcher::Exact(entries.iter().map(|e| e.trim().to_lowercase()).collect()),
            "substring" => {
                let pats: Vec<String> = entries.iter().map(|e| e.trim().to_lowercase()).collect();
                Matcher::Substring(AhoCorasick::new(&pats).ok())
            }
            "hostname" => Matcher::Hostname(
                entries
                    .iter()
                    .filter_map(|e| {
                        let e = e.trim().trim_start_matches('.');
                        normalize::domain(e).ok().or_else(|| {
                            self.skipped.push(format!("{name}: {e} — not a host name"));
                            None
                        })
                    })
                    .collect(),
            ),
            "cidr" => {
                let (v4, v6) = self.cidr_ranges(&name, &entries);
                Matcher::Cidr(v4, v6)
            }
            "regex" => Matcher::Regex(
                entries
                    .iter()
                    .filter_map(|e| match misp_regex(e) {
                        Ok(r) => Some(r),
                        Err(why) => {
                            self.skipped.push(format!("{name}: {e} — {why}"));
                            None
                        }
                    })
                    .collect(),
            ),
            other => return Err(format!("unknown warninglist type {other:?}")),
        };
        self.lists.push(List {
            name,
            kinds,
            matcher,
        });
        Ok(())
    }

    /// Adds a plain allowlist: addresses/CIDRs, host names, and exact values.
    pub(crate) fn add_plain(&mut self, name: &str, text: &str) {
        let mut nets = Vec::new();
        let mut hosts = HashSet::new();
        let mut exact = HashSet::new();
        for line in text.lines() {
            let v = line.split('#').next().unwrap_or("").trim();
            if v.is_empty() {
                continue;
            }
            if normalize::ip(v).is_ok() {
                nets.push(v);
            } else if let Ok(d) = normalize::domain(v) {
                hosts.insert(d);
            } else {
                exact.insert(v.to_lowercase());
            }
        }
        let (v4, v6) = self.cidr_ranges(name, &nets);
        for matcher in [
            Matcher::Cidr(v4, v6),
            Matcher::Hostname(hosts),
            Matcher::Exact(exact),
        ] {
            self.lists.push(List {
                name: name.to_string(),
                kinds: None,
                matcher,
            });
        }
    }

    fn cidr_ranges(&mut self, name: &str, entries: &[&str]) -> (Ranges, Ranges) {
        let mut v4: IpRange<Ipv4Net> = IpRange::new();
        let mut v6: IpRange<Ipv6Net> = IpRange::new();
        for e in entries {
            let parsed = if e.contains('/') {
                e.trim().parse::<IpNet>().ok()
            } else {
                e.trim().parse::<std::net::IpAddr>().ok().map(IpNet::from)
            };
            match parsed.map(|n| normalize::unmap_net(n).trunc()) {
                Some(IpNet::V4(n)) => {
                    v4.add(n);
                }
                Some(IpNet::V6(n)) => {
                    v6.add(n);
                }
                None => self
                    .skipped
                    .push(format!("{name}: {e} — not an address or CIDR")),
            }
        }
        v4.simplify();
        v6.simplify();
        let r4 = v4
            .iter()
            .map(|n| {
                (
                    u128::from(u32::from(n.network())),
                    u128::from(u32::from(n.broadcast())),
                )
            })
            .collect();
        let r6 = v6
            .iter()
            .map(|n| (u128::from(n.network()), u128::from(n.broadcast())))
            .collect();
        (merge_ranges(r4), merge_ranges(r6))
    }

    /// Decides for one canonical value.
    pub fn check(&self, value: &Value) -> Verdict {
        let kind = value.kind();
        let mut carve = None;
        for list in &self.lists {
            if list.kinds.as_ref().is_some_and(|ks| !ks.contains(&kind)) {
                continue;
            }
            match (&list.matcher, value) {
                (Matcher::Cidr(v4, v6), Value::Net(net)) => {
                    let (first, last, ranges) = match net {
                        IpNet::V4(n) => (
                            u128::from(u32::from(n.network())),
                            u128::from(u32::from(n.broadcast())),
                            v4,
                        ),
                        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast()), v6),
                    };
                    // The first range that ends at or after `first`; ranges are disjoint and sorted.
                    let i = ranges.partition_point(|&(_, b)| b < first);
                    let (inside, overlaps) = match ranges.get(i) {
                        Some(&(a, b)) => (a <= first && last <= b, a <= last),
                        None => (false, false),
                    };
                    if inside {
                        return Verdict::Suppress(list.name.clone());
                    }
                    if overlaps && carve.is_none() {
                        carve = Some(list.name.clone());
                    }
                }
                (Matcher::Hostname(hosts), _) => {
                    let covered =
                        host_of(value).is_some_and(|h| suffixes(&h).any(|s| hosts.contains(s)));
                    if covered {
                        return Verdict::Suppress(list.name.clone());
                    }
                }
                (Matcher::Exact(set), _) if texts(value).iter().any(|t| set.contains(t)) => {
                    return Verdict::Suppress(list.name.clone());
                }
                (Matcher::Substring(Some(ac)), _)
                    if texts(value).iter().any(|t| ac.is_match(t.as_str())) =>
                {
                    return Verdict::Suppress(list.name.clone());
                }
                (Matcher::Regex(res), _)
                    if texts(value)
                        .iter()
                        .any(|t| res.iter().any(|r| r.is_match(t))) =>
                {
                    return Verdict::Suppress(list.name.clone());
                }
                _ => {}
            }
        }
        carve.map_or(Verdict::Keep, Verdict::Carve)
    }

    /// All `cidr` list ranges of one family as merged inclusive integer ranges (IPv4 in the low
    /// 32 bits), for carving holes into the interval table.
    pub fn holes(&self, v6: bool) -> Vec<(u128, u128)> {
        let kind = if v6 { Kind::Ipv6 } else { Kind::Ipv4 };
        let mut all: Vec<(u128, u128)> = Vec::new();
        for list in &self.lists {
            if let Matcher::Cidr(r4, r6) = &list.matcher {
                if list.kinds.as_ref().is_none_or(|ks| ks.contains(&kind)) {
                    all.extend_from_slice(if v6 { r6 } else { r4 });
                }
            }
        }
        merge_ranges(all)
    }
}

/// Sorts and merges overlapping or adjacent inclusive ranges.
pub(crate) fn merge_ranges(mut ranges: Vec<(u128, u128)>) -> Vec<(u128, u128)> {
    ranges.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The host a value names, for `hostname` lists: a domain, a URL's host, an email's domain.
fn host_of(value: &Value) -> Option<String> {
    match value {
        Value::Domain(d) => Some(d.clone()),
        Value::Url(u) => {
            let rest = crate::indicators::normalize::scheme_end(u.as_bytes())
                .map_or(u.as_str(), |i| &u[i + 3..]);
            let auth = rest.split(['/', '?']).next().unwrap_or("");
            let host = auth.rsplit_once('@').map_or(auth, |(_, h)| h);
            let host = if host.starts_with('[') {
                host
            } else {
                host.split(':').next().unwrap_or(host)
            };
            Some(host.to_string())
        }
        Value::Email(e) => e.rsplit_once('@').map(|(_, d)| d.to_string()),
        _ => None,
    }
}

/// A name and each parent suffix (`a.b.c`, `b.c`, `c`).
fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(name), |s| s.split_once('.').map(|(_, rest)| rest))
}

/// The texts a value is compared as by `string`/`substring`/`regex` lists (lowercase).
fn texts(value: &Value) -> Vec<String> {
    match value {
        Value::Net(n) if n.prefix_len() == n.max_prefix_len() => {
            vec![n.addr().to_string(), n.to_string()]
        }
        other => vec![other.to_string().to_lowercase()],
    }
}

/// Parses a MISP regex entry: `/pattern/flags` (flag `i` honoured) or a bare pattern.
fn misp_regex(entry: &str) -> std::result::Result<Regex, String> {
    let (pat, ci) = match entry.strip_prefix('/').and_then(|r| r.rsplit_once('/')) {
        Some((pat, flags)) => (pat, flags.contains('i')),
        None => (entry, false),
    };
    regex::RegexBuilder::new(pat)
        .case_insensitive(ci)
        .build()
        .map_err(|e| format!("regex not supported: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(s: &str) -> Value {
        normalize::detect(s).unwrap().value
    }

    #[test]
    fn cidr_lists_suppress_contained_and_carve_overlapping() {
        let mut ex = Exclusions::new();
        ex.add_misp(
            &json!({"name": "rfc1918", "type": "cidr", "matching_attributes": ["ip-src", "ip-dst"],
                    "list": ["10.0.0.0/8", "192.168.0.0/16"]}),
            "x",
        )
        .unwrap();
        assert_eq!(
            ex.check(&v("10.1.2.3")),
            Verdict::Suppress("rfc1918".into())
        );
        assert_eq!(
            ex.check(&v("10.0.0.0/8")),
            Verdict::Suppress("rfc1918".into())
        );
        assert_eq!(ex.check(&v("8.0.0.0/6")), Verdict::Carve("rfc1918".into()));
        assert_eq!(ex.check(&v("203.0.113.7")), Verdict::Keep);
        assert_eq!(
            ex.holes(false),
            vec![(0x0A00_0000, 0x0AFF_FFFF), (0xC0A8_0000, 0xC0A8_FFFF)]
        );
        assert!(ex.holes(true).is_empty());
    }

    #[test]
    fn hostname_lists_cover_subdomains_and_url_hosts() {
        let mut ex = Exclusions::new();
        ex.add_misp(
            &json!({"name": "top", "type": "hostname", "matching_attributes": [],
                    "list": ["google.com", ".example.org"]}),
            "x",
        )
        .unwrap();
        assert_eq!(
            ex.check(&v("mail.google.com")),
            Verdict::Suppress("top".into())
        );
        assert_eq!(
            ex.check(&v("http://www.example.org:8080/x")),
            Verdict::Suppress("top".into())
        );
        assert_eq!(ex.check(&v("notgoogle.com")), Verdict::Keep);
    }

    #[test]
    fn string_substring_regex_and_attribute_scoping() {
        let mut ex = Exclusions::new();
        ex.add_misp(
            &json!({"name": "empty", "type": "string", "matching_attributes": ["md5"],
                    "list": ["D41D8CD98F00B204E9800998ECF8427E"]}),
            "x",
        )
        .unwrap();
        ex.add_misp(
            &json!({"name": "disp", "type": "substring", "matching_attributes": ["email-src"],
                    "list": ["mailinator"]}),
            "x",
        )
        .unwrap();
        ex.add_misp(
            &json!({"name": "contacts", "type": "regex", "matching_attributes": ["email-dst"],
                    "list": ["/^(security|abuse)\\@.*\\..*$/i"]}),
            "x",
        )
        .unwrap();
        assert_eq!(
            ex.check(&v("d41d8cd98f00b204e9800998ecf8427e")),
            Verdict::Suppress("empty".into())
        );
        assert_eq!(
            ex.check(&v("x@mailinator.com")),
            Verdict::Suppress("disp".into())
        );
        assert_eq!(
            ex.check(&v("Abuse@evil.example")),
            Verdict::Suppress("contacts".into())
        );
        // The md5 list does not apply to a domain that happens to be written the same.
        assert_eq!(ex.check(&v("mailinator.com")), Verdict::Keep);
    }

    #[test]
    fn plain_allowlist() {
        let mut ex = Exclusions::new();
        ex.add_plain("local", "# ours\n198.51.100.0/24\ncorp.example\n");
        assert_eq!(
            ex.check(&v("198.51.100.9")),
            Verdict::Suppress("local".into())
        );
        assert_eq!(
            ex.check(&v("vpn.corp.example")),
            Verdict::Suppress("local".into())
        );
        assert_eq!(ex.check(&v("evil.example")), Verdict::Keep);
    }
}
