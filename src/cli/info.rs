//! `trawl info` and `trawl verify`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use crate::IndicatorSet;

pub(super) fn info(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let set = IndicatorSet::open(path)?;
    let open_time = t.elapsed();
    let meta = set.meta()?;
    let in_file = |e: crate::Error| anyhow::anyhow!("{}: {e}", path.display());
    let (patterns, pattern_bytes) = set.pattern_totals().map_err(in_file)?;
    let prepared = set.prepare().map_err(in_file)?;
    let (url_ac, http_ac) = (prepared.url_build, prepared.http_build);
    let sizes = set.section_sizes();
    let file_len = set.as_bytes().len();
    let mut out = std::io::stdout().lock();
    if json {
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "bytes": file_len,
            "format_version": meta.format_version,
            "trawl_version": meta.trawl_version,
            "build_time": meta.build_time,
            "indicators": meta.indicators,
            "sources": meta.sources,
            "inputs": meta.inputs,
            "options": meta.options,
            "rejected": meta.rejected,
            "suppressed": meta.suppressed,
            "sections": sizes.iter().map(|(n, b)| serde_json::json!({"name": n, "bytes": b})).collect::<Vec<_>>(),
            "open_us": open_time.as_micros() as u64,
            "url_automaton_build_us": url_ac.as_micros() as u64,
            "http_automaton_build_us": http_ac.as_micros() as u64,
            "patterns": patterns,
            "pattern_bytes": pattern_bytes,
            "automaton_bytes": prepared.memory,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let total: u64 = meta.indicators.values().sum();
    writeln!(out, "file: {} ({file_len} bytes)", path.display())?;
    writeln!(
        out,
        "format version {}, built by trawl {}",
        meta.format_version, meta.trawl_version
    )?;
    writeln!(
        out,
        "built: {} (unix {})",
        chrono::DateTime::from_timestamp(meta.build_time, 0)
            .map_or_else(|| "?".into(), |t| t.to_rfc3339()),
        meta.build_time
    )?;
    writeln!(out, "options: {}", meta.options)?;
    writeln!(out, "indicators: {total}")?;
    for (k, n) in &meta.indicators {
        writeln!(out, "  {k}: {n}")?;
    }
    writeln!(out, "sources: {}", meta.sources.len())?;
    for s in &meta.sources {
        writeln!(out, "  {}: {}", s.name, s.indicators)?;
    }
    writeln!(
        out,
        "rejected at compile: {}, suppressed by warninglists: {}",
        meta.rejected, meta.suppressed
    )?;
    writeln!(out, "sections:")?;
    for (name, bytes) in sizes.iter().filter(|(_, b)| *b > 0) {
        writeln!(out, "  {name}: {bytes} bytes")?;
    }
    if total > 0 {
        writeln!(
            out,
            "bytes per indicator: {:.1}",
            file_len as f64 / total as f64
        )?;
    }
    writeln!(out, "open: {:.3} ms", open_time.as_secs_f64() * 1e3)?;
    writeln!(
        out,
        "automaton build at first use: URL substrings {:.3} ms, HTTP literals {:.3} ms",
        url_ac.as_secs_f64() * 1e3,
        http_ac.as_secs_f64() * 1e3
    )?;
    writeln!(
        out,
        "patterns: {patterns}, {pattern_bytes} bytes (at most {} per set), automata {} bytes",
        crate::indicators::read::MAX_PATTERN_BYTES,
        prepared.memory
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn verify(path: &Path) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let set = IndicatorSet::open(path)?;
    set.verify()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: OK (digest and structure verified, {} indicators, {} bytes, {:.1} ms)",
        path.display(),
        set.len(),
        set.as_bytes().len(),
        t.elapsed().as_secs_f64() * 1e3
    )?;
    Ok(ExitCode::SUCCESS)
}
