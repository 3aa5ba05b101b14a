//! The Zeek Intel framework: a tab-separated file for `Intel::read_files`, one line per
//! indicator with its sources in `meta.source`. Zeek matches names exactly (no subdomains)
//! and URLs without their `http://`/`https://` scheme; schemeless URL fragments, other
//! schemes and HTTP literals have no Intel type and are reported as skipped.

use std::io::{self, Write};

use super::{Report, active, ip_cidrs_with_indicator};
use crate::indicators::model::Kind;
use crate::indicators::read::{IndicatorRef, IndicatorSet};

/// Writes the Intel file for `set`.
pub fn write<D: AsRef<[u8]>>(set: &IndicatorSet<D>, out: &mut dyn Write) -> io::Result<Report> {
    let mut report = Report::default();
    writeln!(
        out,
        "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc"
    )?;
    let now = set.now();
    let mut line = |value: &str, ty: &str, ind: &IndicatorRef<'_>| -> io::Result<()> {
        let sources: Vec<&str> = ind
            .provenance()
            .filter(|p| p.active_at(now))
            .map(|p| p.source)
            .collect();
        let desc = ind
            .provenance()
            .find_map(|p| p.description)
            .map(clean)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "-".into());
        writeln!(out, "{value}\t{ty}\t{}\t{desc}", clean(&sources.join(",")))
    };
    for (net, id) in ip_cidrs_with_indicator(set) {
        let Some(ind) = set.indicator(id) else {
            continue;
        };
        let host = net.prefix_len() == net.max_prefix_len();
        if host {
            line(&net.addr().to_string(), "Intel::ADDR", &ind)?;
            report.wrote("addresses", 1);
        } else {
            line(&net.to_string(), "Intel::SUBNET", &ind)?;
            report.wrote("subnets", 1);
        }
    }

    for ind in active(set, super::NOT_ADDRESSES) {
        let value = ind.value();
        match ind.kind() {
            Some(Kind::Domain) => {
                line(&value, "Intel::DOMAIN", &ind)?;
                report.wrote("domains", 1);
            }
            Some(Kind::Url) => {
                match value
                    .strip_prefix("http://")
                    .or_else(|| value.strip_prefix("https://"))
                {
                    Some(rest) => {
                        line(rest, "Intel::URL", &ind)?;
                        report.wrote("urls", 1);
                    }
                    None => report.skip("urls without http(s) scheme"),
                }
            }
            Some(Kind::Email) => {
                line(&value, "Intel::EMAIL", &ind)?;
                report.wrote("emails", 1);
            }
            Some(Kind::HttpRequest) => report.skip("http literals"),
            Some(Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512) => {
                line(&value, "Intel::FILE_HASH", &ind)?;
                report.wrote("file hashes", 1);
            }
            // Zeek's intel framework sees a certificate by the SHA-1 of its DER
            // (`policy/frameworks/intel/seen/x509.zeek`).
            Some(Kind::X509Sha1) => {
                line(&value, "Intel::CERT_HASH", &ind)?;
                report.wrote("certificate hashes", 1);
            }
            Some(Kind::X509Md5 | Kind::X509Sha256) => {
                report.skip("certificate md5/sha256 (Zeek's intel sees the sha1)")
            }
            Some(Kind::Ja3 | Kind::Ja3s | Kind::Ja4 | Kind::Ja4s) => {
                report.skip("tls fingerprints (no intel type)")
            }
            Some(Kind::Ipv4 | Kind::Ipv6) | None => report.skip("damaged records"),
        }
    }
    Ok(report)
}

/// A field value without the separators of the format (tabs, line ends) and never empty.
fn clean(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() { "-".into() } else { s }
}
