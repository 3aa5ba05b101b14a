//! A STIX 2.1 bundle of `indicator` objects, one per indicator of the set active now, for
//! platforms that take STIX (a TIP, a SIEM's threat-intel module, another trawl).
//!
//! Each indicator gets a new id derived from its kind and value (`crate::indicators::stix_id::stable`),
//! so that re-exporting gives the same ids: the feeds' own ids cannot be reused, since one feed indicator may have
//! become several trawl indicators (an `OR` pattern) and several feeds may have named one
//! value. The feeds' ids are kept in `external_references`. The pattern holds exactly what
//! trawl matches: addresses as the CIDRs the set answers for now (holes carved), joined with
//! `OR`. Provenance is merged: `confidence` is the highest score, the marking the strictest
//! TLP, `labels` the union, `valid_from` the earliest, `valid_until` the latest when every
//! source has one. HTTP-request literals have no STIX pattern object and are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde_json::{Value as Json, json};

use super::{Report, active, ip_cidrs_with_indicator};
use crate::indicators::model::Kind;
use crate::indicators::model::rfc3339;
use crate::indicators::read::{IndicatorRef, IndicatorSet};
use crate::indicators::stix_id::marking_for_tlp;

/// Writes the bundle for `set`.
pub fn write<D: AsRef<[u8]>>(set: &IndicatorSet<D>, out: &mut dyn Write) -> io::Result<Report> {
    let mut report = Report::default();
    let now = set.now();
    let built = rfc3339(set.build_time(), 0);
    // Streamed: the bundle's head, then one object per line, so a million indicators do not
    // have to be held as JSON values at once.
    write!(
        out,
        "{{\"type\":\"bundle\",\"id\":\"bundle--{}\",\"objects\":[",
        crate::indicators::stix_id::stable(built.as_bytes())
    )?;
    let mut first = true;
    let mut emit = |o: Json, out: &mut dyn Write| -> io::Result<()> {
        out.write_all(if first { b"\n" } else { b",\n" })?;
        first = false;
        serde_json::to_writer(&mut *out, &o)?;
        Ok(())
    };

    let mut nets: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (net, id) in ip_cidrs_with_indicator(set) {
        nets.entry(id).or_default().push(net.to_string());
    }
    for (id, cidrs) in nets {
        let Some(ind) = set.indicator(id) else {
            continue;
        };
        let ty = if cidrs[0].contains(':') {
            "ipv6-addr"
        } else {
            "ipv4-addr"
        };
        let terms: Vec<String> = cidrs
            .iter()
            .map(|c| format!("{ty}:value = {}", quote(c)))
            .collect();
        emit(indicator(&ind, &terms.join(" OR "), &built, now), out)?;
        report.wrote("address indicators", 1);
    }

    for ind in active(set, super::NOT_ADDRESSES) {
        let value = quote(&ind.value());
        let term = match ind.kind() {
            Some(Kind::Domain) => format!("domain-name:value = {value}"),
            Some(Kind::Url) => format!("url:value = {value}"),
            Some(Kind::Email) => format!("email-addr:value = {value}"),
            Some(Kind::Md5) => format!("file:hashes.MD5 = {value}"),
            Some(Kind::Sha1) => format!("file:hashes.'SHA-1' = {value}"),
            Some(Kind::Sha256) => format!("file:hashes.'SHA-256' = {value}"),
            Some(Kind::Sha512) => format!("file:hashes.'SHA-512' = {value}"),
            Some(Kind::X509Md5) => format!("x509-certificate:hashes.MD5 = {value}"),
            Some(Kind::X509Sha1) => format!("x509-certificate:hashes.'SHA-1' = {value}"),
            Some(Kind::X509Sha256) => format!("x509-certificate:hashes.'SHA-256' = {value}"),
            Some(Kind::Ja3 | Kind::Ja3s | Kind::Ja4 | Kind::Ja4s) => {
                report.skip("tls fingerprints (no STIX pattern object)");
                continue;
            }
            _ => {
                report.skip("http literals (no STIX pattern object)");
                continue;
            }
        };
        emit(indicator(&ind, &term, &built, now), out)?;
        report.wrote("indicators", 1);
    }
    writeln!(out, "\n]}}")?;
    Ok(report)
}

/// A pattern string literal: single quotes, `\` and `'` escaped (STIX 2.1 patterning §9.3).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The `indicator` object for one trawl indicator with the comparison `term` (`[…]` added).
fn indicator(ind: &IndicatorRef<'_>, term: &str, built: &str, now: i64) -> Json {
    let provs: Vec<_> = ind.provenance().filter(|p| p.active_at(now)).collect();
    let kind = ind.kind().map_or("", Kind::name);
    let value = ind.value();
    let mut o = json!({
        "type": "indicator",
        "spec_version": "2.1",
        "id": format!("indicator--{}", crate::indicators::stix_id::stable(format!("{kind}\0{value}").as_bytes())),
        "created": built,
        "modified": built,
        "name": value,
        "pattern": format!("[{term}]"),
        "pattern_type": "stix",
        "valid_from": provs.iter().filter_map(|p| p.valid_from).min().map_or_else(|| built.to_string(), |t| rfc3339(t, 0)),
        "indicator_types": ["malicious-activity"],
    });
    let sources: BTreeSet<&str> = provs.iter().map(|p| p.source).collect();
    o["description"] = json!(format!(
        "Sources: {}",
        sources.into_iter().collect::<Vec<_>>().join(", ")
    ));
    if !provs.is_empty() && provs.iter().all(|p| p.valid_until.is_some()) {
        if let Some(t) = provs.iter().filter_map(|p| p.valid_until).max() {
            o["valid_until"] = json!(rfc3339(t, 0));
        }
    }
    if let Some(score) = provs.iter().filter_map(|p| p.score).max() {
        o["confidence"] = json!(score);
    }
    if let Some(tlp) = provs.iter().filter_map(|p| p.tlp).max_by_key(|t| *t as u8) {
        o["object_marking_refs"] = json!([marking_for_tlp(tlp)]);
    }
    let labels: BTreeSet<&str> = provs.iter().flat_map(|p| p.labels()).collect();
    if !labels.is_empty() {
        o["labels"] = json!(labels);
    }
    let refs: Vec<Json> = provs
        .iter()
        .filter_map(|p| {
            p.id.map(|id| json!({ "source_name": p.source, "external_id": id }))
        })
        .collect();
    if !refs.is_empty() {
        o["external_references"] = json!(refs);
    }
    o
}
