//! `trawl lookup`: values from the command line or a file, one result per input.

use std::io::{self, BufRead, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde_json::{Value as Json, json};

use crate::IndicatorSet;
use crate::Kind;
use crate::Match;
use crate::Value;
use crate::hits::ObservedIn;
use crate::indicators::normalize;

#[derive(Args, Debug)]
pub(super) struct LookupArgs {
    /// The set file.
    set: PathBuf,
    /// Values to look up; the kind is detected (IP, domain, URL, email, hash or certificate/JA3
    /// digest, JA4/JA4S, `/path` literal); anything else is scanned as free text for every
    /// indicator inside it.
    values: Vec<String>,
    /// Also read values from this file, one per line (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// One JSON object per input line instead of text.
    #[arg(long)]
    json: bool,
    /// Look every value up as this kind (`ja3`, `x509-sha256`, `md5`, …: the names of a CSV
    /// feed's `kind` column) instead of detecting it. Fingerprints may have colons.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    kind: Option<Kind>,
}

fn parse_kind(name: &str) -> Result<Kind, String> {
    Kind::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        format!("unknown kind (one of {})", names.join(", "))
    })
}

/// Looks one value up by its detected kind.
fn lookup<D: AsRef<[u8]>>(set: &IndicatorSet<D>, kind: Option<Kind>, value: &str) -> Vec<Match> {
    let value = value.trim();
    if let Ok(ip) = value.parse::<IpAddr>() {
        return set.match_ip(ip).into_iter().collect();
    }
    if let Some(kind) = kind {
        return lookup_as(set, kind, value);
    }
    // JA4/JA4S text has a shape of its own.
    for kind in [Kind::Ja4, Kind::Ja4s] {
        if normalize::fingerprint(kind, value).is_ok() {
            return set
                .match_fingerprint_text(kind, value)
                .into_iter()
                .collect();
        }
    }
    match normalize::detect(value).map(|n| n.value) {
        Ok(Value::Domain(d)) => set.match_domain(&d).into_iter().collect(),
        Ok(Value::Url(_)) => set.match_url(value),
        Ok(Value::Email(_)) => set.match_email(value).into_iter().collect(),
        // A bare digest may be a file hash or a certificate/JA3 fingerprint of that length:
        // each answer says its kind.
        Ok(Value::Hash(d)) => set
            .match_hash(&d)
            .into_iter()
            .chain(
                Kind::FINGERPRINTS
                    .iter()
                    .filter_map(|&k| set.match_fingerprint(k, &d)),
            )
            .collect(),
        Ok(Value::HttpRequest(_)) => set.match_http(value.as_bytes()),
        // Anything else (a CIDR, a log line, free text): every indicator inside it.
        Ok(Value::Net(_) | Value::Fingerprint(..)) | Err(_) => {
            crate::scan_text(set, value.as_bytes()).collect()
        }
    }
}

/// Looks one value up as the kind the user named; a value that is not of that kind matches
/// nothing.
fn lookup_as<D: AsRef<[u8]>>(set: &IndicatorSet<D>, kind: Kind, value: &str) -> Vec<Match> {
    if Kind::FINGERPRINTS.contains(&kind) {
        return set
            .match_fingerprint_text(kind, value)
            .into_iter()
            .collect();
    }
    let hits: Vec<Match> = match normalize::value(kind, value).map(|n| n.value) {
        Ok(Value::Net(n)) => set.match_ip(n.addr()).into_iter().collect(),
        Ok(Value::Domain(d)) => set.match_domain(&d).into_iter().collect(),
        Ok(Value::Url(_)) => set.match_url(value),
        Ok(Value::Email(_)) => set.match_email(value).into_iter().collect(),
        Ok(Value::Hash(d)) => set.match_hash(&d).into_iter().collect(),
        Ok(Value::HttpRequest(_)) => set.match_http(value.as_bytes()),
        Ok(Value::Fingerprint(..)) | Err(_) => Vec::new(),
    };
    // Only answers of the named kind (an address answers with its family's kind).
    let family = |k: Kind| matches!(k, Kind::Ipv4 | Kind::Ipv6);
    hits.into_iter()
        .filter(|h| h.kind == kind || family(h.kind) && family(kind))
        .collect()
}

/// The `threat.enrichments[]` objects of one input's matches, as every hit output writes them:
/// one per source of each indicator, with the input as `matched.atomic` and no field.
fn hits_json<D: AsRef<[u8]>>(set: &IndicatorSet<D>, input: &str, hits: &[Match]) -> Vec<Json> {
    let mut out = Vec::new();
    for h in hits {
        crate::hits::ecs::enrichments(set, h, input, ObservedIn::Input.name(h.kind), &mut out);
    }
    out
}

fn hit_text<D: AsRef<[u8]>>(set: &IndicatorSet<D>, hit: &Match) -> String {
    let Some(ind) = set.indicator(hit.indicator) else {
        return format!("{}\t?", hit.kind);
    };
    let sources: Vec<String> = ind
        .provenance()
        .map(|p| {
            let mut s = p.source.to_string();
            let mut attrs = Vec::new();
            if let Some(score) = p.score {
                attrs.push(format!("score={score}"));
            }
            if let Some(tlp) = p.tlp {
                attrs.push(format!("tlp={tlp}"));
            }
            if let Some(id) = p.id {
                attrs.push(format!("id={id}"));
            }
            if !p.labels.is_empty() {
                attrs.push(format!("labels={}", p.labels));
            }
            if !attrs.is_empty() {
                s.push_str(&format!("[{}]", attrs.join(" ")));
            }
            s
        })
        .collect();
    format!("{}\t{}\t{}", hit.kind, ind.value(), sources.join("; "))
}

pub(super) fn run(a: LookupArgs) -> anyhow::Result<ExitCode> {
    let set = IndicatorSet::open(&a.set)?;
    // The automata are built at the first lookup that needs them; their bounds are checked
    // now, so a set that breaks them is an error, not a silent miss.
    set.pattern_totals()
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.set.display()))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut any = false;
    let mut one = |value: &str, out: &mut BufWriter<io::StdoutLock>| -> io::Result<()> {
        let hits = lookup(&set, a.kind, value);
        any |= !hits.is_empty();
        if a.json {
            let v = json!({
                "input": value,
                "matched": !hits.is_empty(),
                "hits": hits_json(&set, value.trim(), &hits),
            });
            writeln!(out, "{v}")
        } else if hits.is_empty() {
            writeln!(out, "{value}\t-")
        } else {
            for h in &hits {
                writeln!(out, "{value}\t{}", hit_text(&set, h))?;
            }
            Ok(())
        }
    };
    for v in &a.values {
        one(v, &mut out)?;
    }
    if let Some(f) = &a.file {
        let reader: Box<dyn BufRead> = if f.as_os_str() == "-" {
            Box::new(io::stdin().lock())
        } else {
            Box::new(io::BufReader::new(
                std::fs::File::open(f).with_context(|| format!("opening {}", f.display()))?,
            ))
        };
        for line in reader.split(b'\n') {
            let line = line?;
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches('\r');
            if !line.trim().is_empty() {
                one(line, &mut out)?;
            }
        }
    }
    out.flush()?;
    if set.is_damaged() {
        anyhow::bail!(
            "{}: the set file was truncated or rewritten in place while it was in use: the \
             lookups after that answered nothing; run them again",
            a.set.display()
        );
    }
    Ok(if any {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
