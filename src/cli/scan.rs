//! `trawl scan pcap` and `trawl sniff`.

use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use memmap2::Mmap;

use crate::engine::reader::{LiveCapture, LiveOptions};
use crate::engine::reload::Reloader;
use crate::engine::{self, Options, Outcome, Progress};
use crate::hits::{EcsJsonLines, EveJsonLines, EveOptions, Hit, HitSink, SetVersion, SidRange};
use crate::packets::app::file::FileLimits;
use crate::packets::flow_table::FlowLimits;
use crate::packets::reassembly::Limits as StreamLimits;

/// Hit output format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Format {
    /// ECS JSON Lines (threat.enrichments; validates against ECS).
    Ecs,
    /// Suricata EVE-style alert JSON Lines.
    Eve,
}

/// Options shared by `scan pcap` and `sniff`.
#[derive(Args, Debug)]
pub(super) struct EngineArgs {
    /// The set file (reloaded on SIGHUP or when replaced on disk).
    #[arg(short, long)]
    set: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    threads: Option<usize>,
    /// Append hits to this file (created if missing) instead of writing them to stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Hit output format.
    #[arg(long, value_enum, default_value = "ecs")]
    format: Format,
    /// Report one hit per flow and indicator per this much capture time (`0` reports all).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    dedup_window: Duration,
    /// Memory for TCP connection tracking and reassembly, all workers together, in MiB;
    /// the least recently seen connections are evicted (and counted) beyond it.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    flow_memcap: usize,
    /// Drop a TCP connection idle this long (capture time).
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    flow_timeout: Duration,
    /// Read each direction of a TCP connection up to this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    stream_depth: u64,
    /// Hash files carried in streams (HTTP bodies, mail attachments) up to this many bytes;
    /// a larger file is counted, not hashed. A file is read only within --stream-depth.
    #[arg(long, value_name = "BYTES", default_value_t = FileLimits::default().max_size)]
    file_max_size: u64,
    /// The sensor's name in hits: ECS `observer.name`, EVE `host` (default: the host name).
    #[arg(long, value_name = "NAME")]
    sensor: Option<String>,
    /// EVE: the first `signature_id` of the range indicators' sids are drawn from
    /// (default 1000000000).
    #[arg(long, value_name = "N")]
    sid_base: Option<u32>,
    /// EVE: how many sids that range holds (default 1000000000).
    #[arg(long, value_name = "N")]
    sid_range: Option<u32>,
}

/// `trawl scan pcap`.
#[derive(Args, Debug)]
pub(super) struct PcapArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Capture files (pcap or pcapng).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// No progress line, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

/// `trawl sniff`.
#[derive(Args, Debug)]
pub(super) struct SniffArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Interface to capture on.
    #[arg(short, long)]
    interface: String,
    /// BPF filter, e.g. `not port 22`.
    #[arg(long)]
    bpf: Option<String>,
    /// Bytes captured per packet.
    #[arg(long, default_value_t = 65535)]
    snaplen: i32,
    /// Do not put the interface in promiscuous mode.
    #[arg(long)]
    no_promisc: bool,
    /// Kernel capture buffer in bytes.
    #[arg(long, default_value_t = 64 << 20)]
    buffer_size: i32,
    /// Deliver packets as they arrive (lower latency, more wake-ups).
    #[arg(long)]
    immediate: bool,
    /// Print running counters to stderr this often.
    #[arg(long, value_parser = parse_duration)]
    stats_interval: Option<Duration>,
    /// After opening the capture, drop privileges to this user (the set file must stay readable
    /// for it, for reloads).
    #[arg(long)]
    user: Option<String>,
}

/// Parses `250ms`, `10s`, `5m`, `1h` (a bare number is seconds).
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h)")),
    })
}

/// A sink chosen at run time.
enum AnySink {
    Ecs(EcsJsonLines<Box<dyn Write + Send>>),
    Eve(EveJsonLines<Box<dyn Write + Send>>),
}

impl HitSink<Mmap> for AnySink {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        match self {
            AnySink::Ecs(x) => x.write(s),
            AnySink::Eve(x) => x.write(s),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            AnySink::Ecs(x) => HitSink::<Mmap>::flush(x),
            AnySink::Eve(x) => HitSink::<Mmap>::flush(x),
        }
    }
}

impl EngineArgs {
    fn sink(&self) -> anyhow::Result<AnySink> {
        let out: Box<dyn Write + Send> = match &self.output {
            Some(p) => Box::new(BufWriter::new(super::append_to(p)?)),
            None => Box::new(BufWriter::new(std::io::stdout())),
        };
        Ok(match self.format {
            Format::Ecs => AnySink::Ecs(EcsJsonLines::new(
                out,
                super::sensor(self.sensor.as_deref()),
            )),
            Format::Eve => AnySink::Eve(EveJsonLines::with_options(out, self.eve_options()?)),
        })
    }

    fn eve_options(&self) -> anyhow::Result<EveOptions> {
        let default = SidRange::default();
        let (base, size) = (
            self.sid_base.unwrap_or(default.base()),
            self.sid_range.unwrap_or(default.size()),
        );
        let Some(sids) = SidRange::new(base, size) else {
            bail!(
                "--sid-base {base} --sid-range {size}: the base must be at least 1, the range at \
                 least 1, and the last sid at most 4294967295"
            );
        };
        Ok(EveOptions {
            sids,
            sensor: Some(super::sensor(self.sensor.as_deref()).name),
        })
    }

    fn options(&self) -> Options {
        let defaults = FlowLimits::default();
        let mut o = Options {
            dedup_window: self.dedup_window,
            flows: FlowLimits {
                memcap: self.flow_memcap.saturating_mul(1 << 20),
                idle_ns: i64::try_from(self.flow_timeout.as_nanos()).unwrap_or(i64::MAX),
                stream: StreamLimits {
                    depth: self.stream_depth,
                    ..defaults.stream
                },
                files: FileLimits {
                    max_size: self.file_max_size,
                    ..defaults.files
                },
                ..defaults
            },
            notices: super::stderr_notices(),
            ..Options::default()
        };
        if let Some(n) = self.threads {
            o.workers = n.max(1);
        }
        o
    }
}

/// SIGINT/SIGTERM set `stop`; SIGHUP sets `hup`.
fn signals() -> anyhow::Result<(Arc<AtomicBool>, Arc<AtomicBool>)> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    let hup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGINT, stop.clone())?;
    signal_hook::flag::register(SIGTERM, stop.clone())?;
    signal_hook::flag::register(SIGHUP, hup.clone())?;
    Ok((stop, hup))
}

/// Prints the counters; the exit status is 2 when a capture file (or the interface) failed,
/// even though the other files were scanned.
fn finish(outcome: Outcome) -> ExitCode {
    eprint!("{}", outcome.stats.summary(outcome.elapsed));
    eprintln!("set generation at the end: {}", outcome.generation);
    eprintln!("{}", outcome.set_status);
    if outcome.stats.file_errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

pub(super) fn pcap(a: PcapArgs) -> anyhow::Result<ExitCode> {
    let (stop, hup) = signals()?;
    let sink = a.engine.sink()?;
    let opts = a.engine.options();
    let progress = Progress::default();
    let total: u64 = a
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let show = !a.no_progress && std::io::stderr().is_terminal();
    let done = AtomicBool::new(false);
    let outcome = std::thread::scope(|scope| {
        if show {
            scope.spawn(|| {
                let bar = indicatif::ProgressBar::new(total);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(progress.bytes.load(Ordering::Relaxed));
                    bar.set_message(format!("{} hits", progress.hits.load(Ordering::Relaxed)));
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            });
        }
        let r = engine::scan_files(
            &a.engine.set,
            &a.files,
            &opts,
            sink,
            &stop,
            Some(hup),
            &progress,
        );
        done.store(true, Ordering::Relaxed);
        r
    })?;
    Ok(finish(outcome))
}

pub(super) fn sniff(a: SniffArgs) -> anyhow::Result<ExitCode> {
    let (stop, hup) = signals()?;
    let capture = LiveCapture::open(&LiveOptions {
        interface: a.interface.clone(),
        snaplen: a.snaplen,
        promisc: !a.no_promisc,
        buffer_size: a.buffer_size,
        immediate: a.immediate,
        bpf: a.bpf.clone(),
    })?;
    // The output file and the set are opened before privileges are dropped.
    let sink = a.engine.sink()?;
    let mut reloader = Reloader::open(&a.engine.set)?;
    reloader.hup = hup;
    if let Some(user) = &a.user {
        drop_privileges(user)?;
    }
    eprintln!("trawl: capturing on {}", a.interface);
    let mut opts = a.engine.options();
    opts.stats_interval = a.stats_interval;
    let outcome = engine::sniff(reloader, capture, &opts, sink, &stop, &Progress::default())?;
    Ok(finish(outcome))
}

/// Switches to `user`'s uid and gid (and only that group).
fn drop_privileges(user: &str) -> anyhow::Result<()> {
    let name = std::ffi::CString::new(user).context("user name")?;
    // SAFETY: getpwnam returns a pointer to static storage or null; it is read at once, before
    // any other call that could overwrite it.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        bail!("no such user {user:?}");
    }
    // SAFETY: `pw` is non-null and points to a valid passwd record (see above).
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    // SAFETY: plain system calls on integers; their results are checked.
    let ok = unsafe {
        libc::setgroups(1, &gid) == 0 && libc::setgid(gid) == 0 && libc::setuid(uid) == 0
    };
    if !ok {
        bail!(
            "dropping privileges to {user:?}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}
