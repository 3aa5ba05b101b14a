//! `trawl feeds pull` and `trawl feeds list`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use trawl::feeds::{self, Config, store::FeedState};
use trawl::http::Cancel;
use trawl::sink::rfc3339_utc;

/// `trawl feeds`.
#[derive(Subcommand, Debug)]
pub enum FeedsCommand {
    /// Pull every configured feed into the store; recompile and swap the set when something
    /// changed.
    Pull(PullArgs),
    /// Per feed: kind, last pull, objects stored, last error; and the set's age.
    List(ListArgs),
}

/// `trawl feeds pull`.
#[derive(Args, Debug)]
pub struct PullArgs {
    /// The configuration file.
    #[arg(short, long, default_value = "trawl.toml")]
    config: PathBuf,
    /// Keep pulling at this interval (`30s`, `5m`, `1h`) until SIGINT or SIGTERM.
    #[arg(long, value_parser = crate::cli::scan::parse_duration)]
    every: Option<Duration>,
    /// Recompile the set even when no feed changed.
    #[arg(long)]
    force: bool,
}

/// `trawl feeds list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// The configuration file.
    #[arg(short, long, default_value = "trawl.toml")]
    config: PathBuf,
}

pub fn run(cmd: FeedsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FeedsCommand::Pull(a) => pull(a),
        FeedsCommand::List(a) => list(a),
    }
}

fn pull(a: PullArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&a.config)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal exits at once (every store and set write is atomic); the first
        // raises the flag, which stops a pull in progress within moments and keeps what it
        // fetched, and then ends the reads that wait on a server. Registered in this order so
        // that the first signal only arms the second, and the flag is up before a read fails.
        signal_hook::flag::register_conditional_shutdown(signal, 1, stop.clone())?;
        signal_hook::flag::register(signal, stop.clone())?;
        // SAFETY: interrupt_connections makes only async-signal-safe system calls.
        unsafe { signal_hook::low_level::register(signal, trawl::http::interrupt_connections) }?;
    }
    let cancel = Cancel::from_flag(stop.clone());
    let mut force = a.force;
    loop {
        let started = Instant::now();
        let report = feeds::pull_cancellable(&config, force, &cancel)?;
        force = false;
        let mut failed = false;
        for f in &report.feeds {
            match &f.error {
                Some(e) if f.changed => {
                    failed = true;
                    eprintln!(
                        "{}: failed part-way, {} new kept with the stored data: {e}",
                        f.name, f.fetched
                    );
                }
                Some(e) => {
                    failed = true;
                    eprintln!("{}: failed, previous data kept: {e}", f.name);
                }
                None => eprintln!(
                    "{}: {} new{}, {}",
                    f.name,
                    f.fetched,
                    if f.skipped > 0 {
                        format!(" ({} skipped: not an object with an id)", f.skipped)
                    } else {
                        String::new()
                    },
                    if f.changed { "changed" } else { "unchanged" }
                ),
            }
        }
        if report.interrupted {
            eprintln!(
                "interrupted: the feeds after the one cut short were not pulled and {} was not \
                 rebuilt; the next pull goes on from what is stored",
                config.set.output.display()
            );
            // With --every a signal is how the loop ends; a single pull did not complete.
            return Ok(if a.every.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        match &report.compiled {
            Some(r) => eprintln!("{}: {r}", config.set.output.display()),
            None => eprintln!("{}: unchanged", config.set.output.display()),
        }
        let Some(every) = a.every else {
            return Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        };
        let next = started + every;
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                return Ok(ExitCode::SUCCESS);
            }
            std::thread::sleep(Duration::from_millis(200).min(next - Instant::now()));
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(ExitCode::SUCCESS);
        }
    }
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&a.config)?;
    let now = trawl::indicator::unix_now();
    let set = trawl::IndicatorSet::open(&config.set.output);
    // Indicators per feed: the set's per-source counts (a feed's name is its source).
    let per_source = set
        .as_ref()
        .ok()
        .and_then(|s| s.meta().ok())
        .map(|m| m.sources)
        .unwrap_or_default();
    println!(
        "{:<20} {:<6} {:<22} {:>9} {:>10} {:>6}  error",
        "feed", "kind", "last pull", "objects", "indicators", "pulls"
    );
    for feed in &config.feeds {
        let s = FeedState::load(&config.set.store.join(&feed.name));
        let last = s.last_pull.map_or("never".into(), |t| {
            format!("{} ({})", rfc3339_utc(t), age(now - t))
        });
        let indicators = per_source
            .iter()
            .find(|c| c.name == feed.name)
            .map_or(0, |c| c.indicators);
        println!(
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
                .map_or("-".into(), trawl::http::clean)
        );
    }
    match set {
        Ok(set) => println!(
            "set {}: {} indicators, built {} ({} ago)",
            config.set.output.display(),
            set.len(),
            rfc3339_utc(set.build_time()),
            age(now - set.build_time())
        ),
        Err(e) => println!("set {}: {e}", config.set.output.display()),
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
