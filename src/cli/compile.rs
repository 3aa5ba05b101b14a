//! `trawl compile`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use crate::Exclusions;
use crate::Tlp;
use crate::{CompileOptions, SetBuilder};
use crate::{FeedFormat, FeedSpec, ingest_feeds};

#[derive(Args, Debug)]
pub(super) struct CompileArgs {
    /// Output set file (written atomically: temp file, fsync, rename).
    #[arg(short, long)]
    output: PathBuf,
    /// Feed files or directories (read recursively, sorted). Format: `.json` or a leading
    /// `{`/`[` is STIX 2.1 or MISP, anything else a plain list or CSV with a header. A named
    /// file that is not text is an error; inside a directory, such files, documentation
    /// (LICENSE, README, COPYING, *.md), hidden entries and rules files are skipped and
    /// reported.
    feeds: Vec<PathBuf>,
    /// A feed with options: `path=FILE[,source=NAME][,score=N][,tlp=LEVEL][,exact][,format=stix|text][,kind=KIND]`
    /// (`kind`: every value of a plain list, or of a CSV without a `kind` column, is of this
    /// kind: `ja3`, `x509-sha1`, …).
    #[arg(long = "feed", value_name = "SPEC")]
    feed_specs: Vec<String>,
    /// Leave out indicators whose score is below N (indicators without a score are kept).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    min_score: Option<u8>,
    /// Leave out indicators marked more restrictive than this TLP (clear, green, amber,
    /// amber+strict, red); unmarked indicators are kept.
    #[arg(long, value_name = "LEVEL", value_parser = parse_tlp)]
    tlp_max: Option<Tlp>,
    /// Warninglist of known-good values (MISP warninglist JSON, or a plain list); repeatable.
    #[arg(long, value_name = "FILE")]
    exclude: Vec<PathBuf>,
    /// Read STIX `= 'CIDR'` comparisons as string equality instead of containment.
    #[arg(long)]
    cidr_equals_literal: bool,
    /// Also write the compile report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
    /// Print only the summary line, not the report.
    #[arg(short, long)]
    quiet: bool,
    /// Write the set even when it holds no indicator (otherwise an empty result is not
    /// written, the file at `--output` is left as it was, and the exit status is 1).
    #[arg(long)]
    allow_empty: bool,
}

fn parse_tlp(s: &str) -> Result<Tlp, String> {
    Tlp::parse(s).ok_or_else(|| format!("unknown TLP level {s:?}"))
}

/// A named path's feed files: the file itself, or a directory's files, recursively and
/// sorted. Inside a directory, hidden entries, documentation and files that are no indicator
/// lists go to `skipped` with the reason (a named file is always read; one that is not text is
/// an error then).
fn expand(
    path: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<(PathBuf, String)>,
) -> anyhow::Result<()> {
    if !path.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .with_context(|| format!("reading directory {}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.file_name()
            .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
        {
            skipped.push((e, "hidden file or directory".into()));
        } else if e.is_dir() {
            expand(&e, out, skipped)?;
        } else {
            match crate::feeds::detect::skipped_in_directory(&e)? {
                Some(why) => skipped.push((e, why)),
                None => out.push(e),
            }
        }
    }
    Ok(())
}

fn parse_spec(spec: &str) -> anyhow::Result<FeedSpec> {
    let mut path = None;
    let mut opts = Vec::new();
    for part in spec.split(',') {
        match part.split_once('=') {
            Some(("path", p)) => path = Some(PathBuf::from(p)),
            Some((k, v)) => opts.push((k.trim(), Some(v.trim()))),
            None => opts.push((part.trim(), None)),
        }
    }
    let Some(path) = path else {
        bail!("--feed {spec:?}: missing path=FILE");
    };
    let mut feed = FeedSpec::new(path);
    for (k, v) in opts {
        match (k, v) {
            ("source", Some(v)) => feed.options.source = v.to_string(),
            ("score", Some(v)) => {
                let s: u8 = v
                    .parse()
                    .ok()
                    .filter(|s| *s <= 100)
                    .with_context(|| format!("--feed: bad score {v:?}"))?;
                feed.options.score = Some(s);
            }
            ("tlp", Some(v)) => feed.options.tlp = Some(parse_tlp(v).map_err(anyhow::Error::msg)?),
            ("exact", None) | ("exact", Some("true")) => feed.options.exact = true,
            ("format", Some("stix")) => feed.format = Some(FeedFormat::Stix),
            ("format", Some("text")) => feed.format = Some(FeedFormat::Text),
            ("format", Some("misp")) => feed.format = Some(FeedFormat::Misp),
            ("misp-all", None) | ("misp-all", Some("true")) => feed.options.all_attributes = true,
            ("kind", Some(v)) => {
                feed.options.value_kind = Some(
                    crate::Kind::parse(v).with_context(|| format!("--feed: unknown kind {v:?}"))?,
                )
            }
            _ => bail!("--feed {spec:?}: unknown option {k:?}"),
        }
    }
    Ok(feed)
}

pub(super) fn run(a: CompileArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut feeds = Vec::new();
    let mut skipped = Vec::new();
    for p in &a.feeds {
        let mut files = Vec::new();
        expand(p, &mut files, &mut skipped)?;
        feeds.extend(files.into_iter().map(FeedSpec::new));
    }
    for s in &a.feed_specs {
        feeds.push(parse_spec(s)?);
    }
    if feeds.is_empty() {
        match skipped.first() {
            Some((path, why)) => bail!(
                "no feed files to compile: all {} files found were skipped ({}: {why}, …)",
                skipped.len(),
                path.display()
            ),
            None => bail!("no feeds given"),
        }
    }
    let mut exclusions = Exclusions::new();
    for e in &a.exclude {
        exclusions.load(e)?;
    }
    for s in &exclusions.skipped {
        eprintln!("trawl: warninglist entry skipped: {s}");
    }
    let opts = CompileOptions {
        min_score: a.min_score,
        tlp_max: a.tlp_max,
        cidr_equals_contains: !a.cidr_equals_literal,
        ..CompileOptions::default()
    };
    let mut builder = SetBuilder::new(opts, exclusions);
    for (path, why) in &skipped {
        builder.note_skipped(&path.display().to_string(), why);
    }
    ingest_feeds(&feeds, &mut builder)?;
    let read_time = start.elapsed();
    // Nothing accepted is an empty set: most often a feed that came empty or unreadable, and
    // an empty set swapped under `trawl sniff` silently stops all matching.
    let accepted: u64 = builder.report().accepted.values().sum();
    if accepted == 0 && !a.allow_empty {
        if !a.quiet {
            eprint!("{}", builder.report());
        }
        eprintln!(
            "trawl: WARNING: the set would hold 0 indicators: not written, {} left as it was \
             (--allow-empty writes it)",
            a.output.display()
        );
        return Ok(ExitCode::from(1));
    }
    let report = builder.write(&a.output)?;
    if !a.quiet {
        eprint!("{report}");
    }
    if let Some(p) = &a.report_json {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(p, json).with_context(|| format!("writing {}", p.display()))?;
    }
    let size = std::fs::metadata(&a.output).map(|m| m.len()).unwrap_or(0);
    let total = start.elapsed();
    eprintln!(
        "wrote {}: {} indicators from {} feeds, {} bytes, {} rejected, in {:.2} s \
         (reading {:.2} s, building and writing {:.2} s)",
        a.output.display(),
        report.indicators_total(),
        feeds.len(),
        size,
        report.rejected_total(),
        total.as_secs_f64(),
        read_time.as_secs_f64(),
        (total - read_time).as_secs_f64()
    );
    if accepted == 0 {
        eprintln!(
            "trawl: WARNING: {} holds 0 indicators: nothing will match",
            a.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
