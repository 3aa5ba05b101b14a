//! `trawl info` and `trawl verify`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use trawl::IndicatorSet;

pub fn info(path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let set = IndicatorSet::open(path)?;
    let open_time = t.elapsed();
    let meta = set.meta()?;
    let in_file = |e: trawl::Error| anyhow::anyhow!("{}: {e}", path.display());
    let (patterns, pattern_bytes) = set.pattern_totals().map_err(in_file)?;
    let prepared = set.prepare().map_err(in_file)?;
    let (url_ac, http_ac) = (prepared.url_build, prepared.http_build);
    let sizes = set.section_sizes();
    let file_len = set.as_bytes().len();
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
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let total: u64 = meta.indicators.values().sum();
    println!("file: {} ({file_len} bytes)", path.display());
    println!(
        "format version {}, built by trawl {}",
        meta.format_version, meta.trawl_version
    );
    println!(
        "built: {} (unix {})",
        chrono::DateTime::from_timestamp(meta.build_time, 0)
            .map_or_else(|| "?".into(), |t| t.to_rfc3339()),
        meta.build_time
    );
    println!("options: {}", meta.options);
    println!("indicators: {total}");
    for (k, n) in &meta.indicators {
        println!("  {k}: {n}");
    }
    println!("sources: {}", meta.sources.len());
    for s in &meta.sources {
        println!("  {}: {}", s.name, s.indicators);
    }
    println!(
        "rejected at compile: {}, suppressed by warninglists: {}",
        meta.rejected, meta.suppressed
    );
    println!("sections:");
    for (name, bytes) in sizes.iter().filter(|(_, b)| *b > 0) {
        println!("  {name}: {bytes} bytes");
    }
    if total > 0 {
        println!("bytes per indicator: {:.1}", file_len as f64 / total as f64);
    }
    println!("open: {:.3} ms", open_time.as_secs_f64() * 1e3);
    println!(
        "automaton build at first use: URL substrings {:.3} ms, HTTP literals {:.3} ms",
        url_ac.as_secs_f64() * 1e3,
        http_ac.as_secs_f64() * 1e3
    );
    println!(
        "patterns: {patterns}, {pattern_bytes} bytes (at most {} per set), automata {} bytes",
        trawl::format::MAX_PATTERN_BYTES,
        prepared.memory
    );
    Ok(ExitCode::SUCCESS)
}

pub fn verify(path: &Path) -> anyhow::Result<ExitCode> {
    let t = Instant::now();
    let set = IndicatorSet::open(path)?;
    set.verify()
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!(
        "{}: OK (digest and structure verified, {} indicators, {} bytes, {:.1} ms)",
        path.display(),
        set.len(),
        set.as_bytes().len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(ExitCode::SUCCESS)
}
