//! `trawl feeds pull` and `trawl feeds list`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::{Args, Subcommand};

use crate::feeds::http::Cancel;
use crate::feeds::store::{FeedState, SetState};
use crate::feeds::{self, Config};
use crate::indicators::model::rfc3339_utc;

/// `trawl feeds`.
#[derive(Subcommand, Debug)]
pub(super) enum FeedsCommand {
    /// Pull every configured feed into the store; recompile and swap the set when something
    /// changed.
    Pull(PullArgs),
    /// Per feed: kind, last pull, objects stored, last error; and the set's age.
    List(ListArgs),
}

/// `trawl feeds pull`.
#[derive(Args, Debug)]
pub(super) struct PullArgs {
    /// The configuration file.
    #[arg(short, long, default_value = "trawl.toml")]
    config: PathBuf,
    /// Keep pulling at this interval (`5m`, `1h`; at least 60s) until SIGINT or SIGTERM. A
    /// round that fails is logged and retried sooner, backing off up to the interval.
    #[arg(long, value_parser = crate::cli::scan::parse_duration)]
    every: Option<Duration>,
    /// Recompile the set even when no feed changed, and accept pulls the shrink guard would
    /// refuse (an empty answer, a feed shrinking by more than `max_shrink`); with `--every`,
    /// the first round only.
    #[arg(long)]
    force: bool,
}

/// `trawl feeds list`.
#[derive(Args, Debug)]
pub(super) struct ListArgs {
    /// The configuration file.
    #[arg(short, long, default_value = "trawl.toml")]
    config: PathBuf,
}

/// The shortest `--every`: a shorter one hammers the feeds' servers.
const MIN_EVERY: Duration = Duration::from_secs(60);

/// Lowers [`MIN_EVERY`] to this many seconds, for tests only (not documented for users).
const MIN_EVERY_ENV: &str = "TRAWL_TEST_MIN_EVERY_SECS";

pub(super) fn run(cmd: FeedsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FeedsCommand::Pull(a) => pull(a),
        FeedsCommand::List(a) => list(a),
    }
}

/// Loads a configuration, warning on stderr about secrets others can read.
pub(super) fn load_config(path: &Path) -> anyhow::Result<Config> {
    let config = Config::load(path)?;
    for w in config.permission_warnings(path) {
        eprintln!("trawl: warning: {w}");
    }
    Ok(config)
}

fn pull(a: PullArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&a.config)?;
    let min_every = std::env::var(MIN_EVERY_ENV)
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(MIN_EVERY, Duration::from_secs);
    if let Some(every) = a.every
        && every < min_every
    {
        bail!(
            "--every {every:?}: the shortest interval is {}s (a shorter one hammers the feeds' \
             servers); a failed round is retried sooner anyway",
            min_every.as_secs()
        );
    }
    let log = Log {
        stamped: a.every.is_some(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal exits at once (every store and set write is atomic); the first
        // raises the flag, which stops a pull in progress within moments and keeps what it
        // fetched, and then ends the reads that wait on a server. Registered in this order so
        // that the first signal only arms the second, and the flag is up before a read fails.
        signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone())?;
        signal_hook::flag::register(signal, stop.clone())?;
        // SAFETY: interrupt_connections makes only async-signal-safe system calls.
        unsafe {
            signal_hook::low_level::register(signal, crate::feeds::http::interrupt_connections)
        }?;
    }
    let cancel = Cancel::from_flag(stop.clone());
    let mut force = a.force;
    let mut failures = 0;
    loop {
        let started = Instant::now();
        let failed = match (feeds::pull_cancellable(&config, force, &cancel), a.every) {
            (Ok(report), _) if report.interrupted => {
                show(&config, &report, &log);
                log.line(format_args!(
                    "interrupted: the feeds after the one cut short were not pulled and {} was \
                     not rebuilt; the next pull goes on from what is stored",
                    config.set.output.display()
                ));
                // With --every a signal is how the loop ends; a single pull did not complete.
                return Ok(if a.every.is_some() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                });
            }
            (Ok(report), _) => show(&config, &report, &log),
            (Err(e), Some(_)) => {
                log.line(format_args!("pull failed: {e}"));
                true
            }
            (Err(e), None) => return Err(e.into()),
        };
        force = false;
        let Some(every) = a.every else {
            return Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        };
        // A failed round (a server down, a full disk) is retried after 1/16 of the interval,
        // then twice as long each time, up to the interval; the loop never gives up.
        let next = if failed {
            failures += 1;
            let wait = backoff(every, failures);
            log.line(format_args!(
                "round failed ({failures} in a row): next pull in {wait:?}"
            ));
            Instant::now() + wait
        } else {
            failures = 0;
            started + every
        };
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(
                Duration::from_millis(200).min(next.saturating_duration_since(Instant::now())),
            );
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

/// The wait before retrying after `failures` failed rounds in a row: `every`/16, doubled per
/// failure, at most `every`.
fn backoff(every: Duration, failures: u32) -> Duration {
    (every / 16)
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(every)
}

/// Stderr lines, with a UTC timestamp when pulling `--every` (a long-running log).
struct Log {
    stamped: bool,
}

impl Log {
    fn line(&self, msg: std::fmt::Arguments<'_>) {
        if self.stamped {
            eprintln!(
                "{} {msg}",
                rfc3339_utc(crate::indicators::model::unix_now())
            );
        } else {
            eprintln!("{msg}");
        }
    }
}

/// Prints what a pull did; whether anything failed.
fn show(config: &Config, report: &feeds::PullReport, log: &Log) -> bool {
    let mut failed = false;
    for f in &report.feeds {
        match &f.error {
            Some(e) if f.refused => {
                failed = true;
                log.line(format_args!("{}: refused: {e}", f.name));
            }
            Some(e) if f.changed => {
                failed = true;
                log.line(format_args!(
                    "{}: failed part-way, {} new kept with the stored data: {e}",
                    f.name, f.fetched
                ));
            }
            Some(e) => {
                failed = true;
                log.line(format_args!("{}: failed, previous data kept: {e}", f.name));
            }
            None => log.line(format_args!(
                "{}: {} new{}, {}",
                f.name,
                f.fetched,
                if f.skipped > 0 {
                    format!(" ({} skipped: not an object with an id)", f.skipped)
                } else {
                    String::new()
                },
                if f.changed { "changed" } else { "unchanged" }
            )),
        }
    }
    let output = config.set.output.display();
    match (&report.compiled, &report.set_error) {
        (_, Some(e)) => {
            failed = true;
            log.line(format_args!(
                "{output}: not rebuilt, previous set kept: {e}"
            ));
        }
        (Some(r), None) if r.indicators_total() == 0 => {
            log.line(format_args!("{output}: {r}"));
            log.line(format_args!(
                "WARNING: {output} now holds 0 indicators: nothing will match"
            ));
        }
        (Some(r), None) => log.line(format_args!("{output}: {r}")),
        (None, None) => log.line(format_args!("{output}: unchanged")),
    }
    failed
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&a.config)?;
    let now = crate::indicators::model::unix_now();
    let set = crate::IndicatorSet::open(&config.set.output);
    // Indicators per feed: the set's per-source counts (a feed's name is its source).
    let per_source = set
        .as_ref()
        .ok()
        .and_then(|s| s.meta().ok())
        .map(|m| m.sources)
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20} {:<6} {:<22} {:>9} {:>10} {:>6}  error",
        "feed", "kind", "last pull", "objects", "indicators", "pulls"
    )?;
    for feed in &config.feeds {
        let s = FeedState::load(&config.set.store.join(&feed.name));
        let last = s.last_pull.map_or("never".into(), |t| {
            format!("{} ({})", rfc3339_utc(t), age(now - t))
        });
        let indicators = per_source
            .iter()
            .find(|c| c.name == feed.name)
            .map_or(0, |c| c.indicators);
        writeln!(
            out,
            "{:<20} {:<6} {:<22} {:>9} {:>10} {:>6}  {}",
            feed.name,
            feed.kind.name(),
            last,
            s.objects,
            indicators,
            s.pulls,
            // Cleaned again: a state written by an older trawl may hold raw server text.
            s.last_error
                .as_deref()
                .map_or("-".into(), crate::feeds::http::clean)
        )?;
    }
    match set {
        Ok(set) => writeln!(
            out,
            "set {}: {} indicators, built {} ({} ago)",
            config.set.output.display(),
            set.len(),
            rfc3339_utc(set.build_time()),
            age(now - set.build_time())
        )?,
        Err(e) => writeln!(out, "set {}: {e}", config.set.output.display())?,
    }
    if let Some(e) = SetState::load(&config.set.store).last_error {
        writeln!(
            out,
            "set {}: last rebuild failed: {e}",
            config.set.output.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `42s`, `5m`, `3h`, `2d`.
fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
