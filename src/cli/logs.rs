//! `trawl scan logs`.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::IndicatorSet;
use crate::LineOptions;
use crate::engine::logs::{ErrorCount, Input, LogOptions, OutputMode, scan_logs};
use crate::engine::reload::{Reload, Reloader};
use crate::logs::format::LogFormat;
use crate::logs::input::FollowOptions;

/// Log format choice.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum FormatArg {
    /// Decide per file from its first bytes and name.
    Auto,
    /// Free text.
    Plain,
    /// One JSON object per line (EVE, ECS, any JSON).
    Json,
    /// Zeek TSV logs (`#fields` header).
    Zeek,
    /// CSV with a header row.
    Csv,
}

/// `trawl scan logs`.
#[derive(Args, Debug)]
pub(super) struct LogsArgs {
    /// The set file.
    #[arg(short, long)]
    set: PathBuf,
    /// Log files (`-` for stdin; gzip files are decompressed).
    #[arg(default_value = "-")]
    files: Vec<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    threads: Option<usize>,
    /// Follow the files like `tail -F` (survives rotation and truncation) until interrupted.
    #[arg(short = 'f', long)]
    follow: bool,
    /// With --follow: start at the files' current ends (only new lines are read).
    #[arg(long, requires = "follow")]
    from_end: bool,
    /// Log format.
    #[arg(long, value_enum, default_value = "auto")]
    format: FormatArg,
    /// The sensor's name in hits (`observer.name`; default: the host name).
    #[arg(long, value_name = "NAME")]
    sensor: Option<String>,
    /// Only these fields: JSON dotted paths or Zeek/CSV column names (repeatable).
    #[arg(long = "field", value_name = "NAME")]
    fields: Vec<String>,
    /// Pass every record through with `threat.enrichments` added (JSON; other lines are wrapped
    /// as `{"message": …}`).
    #[arg(long, conflicts_with_all = ["only_matching", "count"])]
    enrich: bool,
    /// Print the lines that have a hit, as they are (grep-like).
    #[arg(long, conflicts_with = "count")]
    only_matching: bool,
    /// Print the number of hits per input instead of the hits.
    #[arg(short, long)]
    count: bool,
    /// Write output as chunks finish instead of in input order (faster with many cores).
    #[arg(long)]
    unordered: bool,
    /// Also recognise defanged indicators (`hxxp://`, `evil[.]example`).
    #[arg(long)]
    defanged: bool,
    /// Append output to this file (created if missing) instead of writing it to stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print no statistics on stderr.
    #[arg(short, long)]
    quiet: bool,
}

pub(super) fn run(a: LogsArgs) -> anyhow::Result<ExitCode> {
    // Checked here, before any input is read: a bad set file is an error of its own.
    let set = IndicatorSet::open(&a.set)?;
    set.prepare()
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.set.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())?;
    let mode = if a.enrich {
        OutputMode::Enrich
    } else if a.only_matching {
        OutputMode::OnlyMatching
    } else if a.count {
        OutputMode::Count
    } else {
        OutputMode::Hits
    };
    let format = match a.format {
        FormatArg::Auto => None,
        FormatArg::Plain => Some(LogFormat::Plain),
        FormatArg::Json => Some(LogFormat::JsonLines),
        FormatArg::Zeek => Some(LogFormat::Zeek),
        FormatArg::Csv => Some(LogFormat::Csv),
    };
    let mut opts = LogOptions {
        format,
        line: LineOptions {
            fields: a.fields.clone(),
            defanged: a.defanged,
            ..LineOptions::default()
        },
        ordered: !a.unordered,
        mode,
        sensor: super::sensor(a.sensor.as_deref()),
        ..LogOptions::default()
    };
    if let Some(n) = a.threads {
        opts.workers = n.max(1);
    }
    let streaming = a.follow || a.files.iter().any(|f| f.as_os_str() == "-");
    if streaming {
        // Small chunks: a line is matched and written as soon as it is complete.
        opts.chunk_size = 64 << 10;
    }
    if a.follow && a.files.iter().any(|f| f.as_os_str() == "-") {
        anyhow::bail!("--follow needs files: stdin is already a stream");
    }
    if a.follow {
        raise_open_files_limit();
    }
    let inputs: Vec<Input> = a
        .files
        .iter()
        .map(|p| {
            if a.follow {
                Input::Follow(
                    p.clone(),
                    FollowOptions {
                        poll: Duration::from_millis(250),
                        from_end: a.from_end,
                        notices: super::stderr_notices(),
                        ..FollowOptions::default()
                    },
                )
            } else {
                Input::Path(p.clone())
            }
        })
        .collect();
    let out: Box<dyn Write + Send> = match &a.output {
        Some(p) => Box::new(BufWriter::new(super::append_to(p)?)),
        None if streaming => Box::new(std::io::stdout()),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout())),
    };
    let mut set_status = None;
    let mut set_damaged = false;
    let outcome = if streaming {
        // A long-running scan (followed files, a pipe) picks up a replaced set file, or a
        // SIGHUP, between two chunks — as `trawl sniff` does; `trawl feeds pull` renames
        // recompiled sets into place.
        drop(set);
        let mut reloader = Reloader::open(&a.set)?;
        signal_hook::flag::register(signal_hook::consts::SIGHUP, reloader.hup.clone())?;
        let current = reloader.current();
        set_status = Some(reloader.status());
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    for event in reloader.check() {
                        match event {
                            Reload::Swapped(generation) if !a.quiet => {
                                eprintln!("{}: reloaded (generation {generation})", a.set.display())
                            }
                            Reload::Swapped(_) => {}
                            // Refusals and damage are warnings, printed even with --quiet.
                            other => eprintln!("{}: {other}", a.set.display()),
                        }
                    }
                    std::thread::sleep(Duration::from_millis(250));
                }
            });
            let r = scan_logs(&*current, &inputs, &opts, out, &stop);
            done.store(true, Ordering::Relaxed);
            r
        })?
    } else {
        let outcome = scan_logs(&set, &inputs, &opts, out, &stop)?;
        if set.is_damaged() {
            eprintln!(
                "trawl: {}: the set file was truncated or rewritten in place during the scan: \
                 the lines scanned after that matched nothing",
                a.set.display()
            );
            set_damaged = true;
        }
        outcome
    };
    let total = outcome.total();
    if a.count && !outcome.output_closed {
        let stdout = std::io::stdout();
        let mut o = stdout.lock();
        for f in &outcome.files {
            writeln!(o, "{}:{}", f.name, f.hits)?;
        }
    }
    if !a.quiet {
        let secs = outcome.elapsed.as_secs_f64().max(1e-9);
        for f in outcome.files.iter().chain(std::iter::once(&total)) {
            eprint!(
                "{}: {} lines, {} bytes, {} hits on {} lines",
                f.name, f.lines, f.bytes, f.hits, f.matched_lines
            );
            if !f.format.is_empty() {
                eprint!(" ({})", f.format);
            }
            // Lines that were not records of the format were scanned as text: say how many,
            // why, and where the first of each kind is, so that they can be looked at.
            let at = |e: &ErrorCount| {
                if f.name == "total" {
                    String::new()
                } else {
                    format!(" (first at line {})", e.first_line)
                }
            };
            if f.fallback.count > 0 {
                eprint!(
                    ", {} lines scanned as text{}:",
                    f.fallback.count,
                    at(&f.fallback)
                );
                for (i, (why, e)) in f.errors.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "," };
                    eprint!("{sep} {} × {why}{}", e.count, at(e));
                }
            }
            let lost = f.follow_losses;
            if lost.files > 0 {
                eprint!(
                    ", {} rotated files lost (gone before they could be opened)",
                    lost.files
                );
            }
            if lost.late_bytes > 0 {
                eprint!(
                    ", {} bytes lost (written to a rotated file after it was read)",
                    lost.late_bytes
                );
            }
            if f.unread > 0 {
                eprint!(", {} bytes not scanned", f.unread);
            }
            eprintln!();
        }
        eprintln!(
            "{:.3} s: {:.3} GB/s, {:.2} M lines/s",
            secs,
            total.bytes as f64 / secs / 1e9,
            total.lines as f64 / secs / 1e6
        );
    }
    // A followed scan ends with its set's status: a refused reload or a damaged set file is
    // said again here, even with --quiet.
    if let Some(status) = set_status.filter(|s| !a.quiet || s.is_degraded()) {
        eprintln!("{}", status.line());
    }
    // A file that shrank under the scan was not read to its end: said even with --quiet, and
    // an error whatever was found.
    for f in outcome.files.iter().filter(|f| f.unread > 0) {
        eprintln!(
            "trawl: {}: the file shrank while it was scanned (truncated in place, e.g. by \
             logrotate's copytruncate): its last {} bytes were not scanned",
            f.name, f.unread
        );
    }
    Ok(if total.unread > 0 || set_damaged {
        ExitCode::from(2)
    } else if total.hits > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Following opens each rotated file as it appears and holds it until it has been read: a
/// reader far behind a fast rotation holds many. The soft limit on open files goes up to the
/// hard one, as daemons do (a file that still cannot be opened is counted lost).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls get a valid pointer to an `rlimit` that outlives them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
