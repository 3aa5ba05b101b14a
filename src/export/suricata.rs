//! Suricata datasets: one list file per dataset type Suricata has, and a rules file that
//! loads them (`dataset:isset,NAME,type T,load FILE`). Datasets match exact values, so what
//! needs more than that is reported as skipped: a CIDR wider than
//! [`MAX_EXPANDED_HOSTS`] addresses, URLs (Suricata's buffers hold a host or a path, not a
//! whole URL), emails, HTTP literals, SHA-1 and SHA-512 digests (no dataset type). Names
//! are matched exactly (no subdomains) by `dns.query`, `tls.sni` and `http.host`.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use base64::Engine as _;

use super::{Report, active, ipv4_cidrs, ipv6_cidrs};
use crate::indicator::Kind;
use crate::set::IndicatorSet;

/// CIDRs of at most this many addresses (a /24, a /120) are written as their addresses
/// (`type ipv4` and `type ip` datasets hold single addresses).
pub const MAX_EXPANDED_HOSTS: u32 = 256;

/// Writes `{prefix}-domains.lst` (type string: base64), `{prefix}-md5.lst`,
/// `{prefix}-sha256.lst` (hex), `{prefix}-ipv4.lst` (type ipv4), `{prefix}-ipv6.lst`
/// (type ip) and `{prefix}.rules` into `dir` (created if missing). `sid` numbers the rules
/// from there. The digest lists are for rules of the user's own (`ja3.hash`, …): no rule is
/// written for them.
pub fn write<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    dir: &Path,
    prefix: &str,
    sid: u32,
) -> io::Result<Report> {
    fs::create_dir_all(dir)?;
    let mut report = Report::default();
    let file = |name: &str| -> io::Result<io::BufWriter<fs::File>> {
        Ok(io::BufWriter::new(fs::File::create(dir.join(name))?))
    };

    let mut domains = file(&format!("{prefix}-domains.lst"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    for ind in active(set, &[Kind::Domain]) {
        writeln!(domains, "{}", b64.encode(ind.value_bytes()))?;
        report.wrote("domains", 1);
    }
    domains.flush()?;

    let mut md5 = file(&format!("{prefix}-md5.lst"))?;
    let mut sha256 = file(&format!("{prefix}-sha256.lst"))?;
    let hashes = [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512];
    for ind in active(set, &hashes) {
        match ind.kind() {
            Some(Kind::Md5) => {
                writeln!(md5, "{}", ind.value())?;
                report.wrote("md5", 1);
            }
            Some(Kind::Sha256) => {
                writeln!(sha256, "{}", ind.value())?;
                report.wrote("sha256", 1);
            }
            _ => report.skip("sha1/sha512 (no dataset type)"),
        }
    }
    md5.flush()?;
    sha256.flush()?;

    let mut v4 = file(&format!("{prefix}-ipv4.lst"))?;
    for net in ipv4_cidrs(set) {
        if net.prefix_len() < 24 {
            report.skip("ipv4 cidr wider than 256 addresses");
            continue;
        }
        for a in ipnet::Ipv4AddrRange::new(net.network(), net.broadcast()) {
            writeln!(v4, "{a}")?;
            report.wrote("ipv4 addresses", 1);
        }
    }
    v4.flush()?;
    let mut v6 = file(&format!("{prefix}-ipv6.lst"))?;
    for net in ipv6_cidrs(set) {
        if net.prefix_len() < 120 {
            report.skip("ipv6 cidr wider than 256 addresses");
            continue;
        }
        for a in ipnet::Ipv6AddrRange::new(net.network(), net.broadcast()) {
            writeln!(v6, "{a}")?;
            report.wrote("ipv6 addresses", 1);
        }
    }
    v6.flush()?;
    for ind in active(set, &[Kind::Url, Kind::Email, Kind::HttpRequest]) {
        report.skip(match ind.kind() {
            Some(Kind::Url) => "urls (no whole-URL buffer)",
            Some(Kind::Email) => "emails",
            _ => "http literals",
        });
    }

    let mut rules = file(&format!("{prefix}.rules"))?;
    let rule = |n: u32, proto: &str, buffer: &str, set: &str, ty: &str, what: &str| {
        format!(
            "alert {proto} any any -> any any (msg:\"trawl: {what}\"; {buffer}; \
             dataset:isset,{prefix}-{set},type {ty},load {prefix}-{set}.lst; sid:{}; rev:1;)",
            sid + n
        )
    };
    for line in [
        rule(
            0,
            "dns",
            "dns.query",
            "domains",
            "string",
            "DNS query for a listed name",
        ),
        rule(
            1,
            "tls",
            "tls.sni",
            "domains",
            "string",
            "TLS SNI of a listed name",
        ),
        rule(
            2,
            "http",
            "http.host",
            "domains",
            "string",
            "HTTP Host of a listed name",
        ),
        rule(
            3,
            "ip",
            "ip.dst",
            "ipv4",
            "ipv4",
            "traffic to a listed IPv4 address",
        ),
        rule(
            4,
            "ip",
            "ip.src",
            "ipv4",
            "ipv4",
            "traffic from a listed IPv4 address",
        ),
        rule(
            5,
            "ip",
            "ip.dst",
            "ipv6",
            "ip",
            "traffic to a listed IPv6 address",
        ),
        rule(
            6,
            "ip",
            "ip.src",
            "ipv6",
            "ip",
            "traffic from a listed IPv6 address",
        ),
    ] {
        writeln!(rules, "{line}")?;
    }
    rules.flush()?;
    Ok(report)
}
