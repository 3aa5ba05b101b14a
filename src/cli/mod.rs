//! Command-line arguments and the commands they run.

mod compile;
mod export;
mod feeds;
mod info;
mod logs;
mod lookup;
mod scan;
mod sightings;

use std::error::Error as StdError;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// trawl — compile threat-indicator feeds into one memory-mapped set and match against it.
#[derive(Parser, Debug)]
#[command(name = "trawl", version, about)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Compile feeds (plain lists, CSV, STIX 2.1 bundles, MISP events; files or directories) into a set file.
    Compile(compile::CompileArgs),
    /// Show a set's counts per kind and per source, sizes, build time and format version.
    Info {
        /// The set file.
        set: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check a set file's blake3 digest and every index in it.
    Verify {
        /// The set file.
        set: PathBuf,
    },
    /// Look values up (IPs, domains, URLs, emails, hashes, HTTP literals); exit 0 when
    /// something matched, 1 when nothing did.
    Lookup(lookup::LookupArgs),
    /// Scan captured traffic or logs against a set.
    #[command(subcommand)]
    Scan(ScanCommand),
    /// Capture live from an interface on all cores and report every hit (SIGHUP or a replaced
    /// set file reloads the set; SIGINT/SIGTERM stop, drain and print the final counters).
    Sniff(scan::SniffArgs),
    /// Aggregate hits (trawl's JSON Lines output) into STIX 2.1 sightings of the indicators,
    /// the feedback sharing programs ask for.
    Sightings(sightings::SightingsArgs),
    /// Write a set out for devices that cannot run trawl: nftables, ipset, Suricata datasets,
    /// Zeek Intel, CSV, STIX 2.1.
    Export(export::ExportArgs),
    /// Keep a set current from TAXII collections, MISP feeds and feed files (`trawl.toml`).
    #[command(subcommand)]
    Feeds(feeds::FeedsCommand),
}

#[derive(Subcommand, Debug)]
enum ScanCommand {
    /// Scan pcap/pcapng files on all cores: one reader per file, flows pinned to workers.
    Pcap(scan::PcapArgs),
    /// Scan log lines (files, gzip, stdin, or followed files) on all cores: plain text, JSON
    /// Lines (EVE, ECS), Zeek TSV, CSV; exit 0 when something matched, 1 when nothing did.
    Logs(logs::LogsArgs),
}

/// The observer hits name: `--sensor NAME`, by default the host name (`observer.hostname` is
/// always the host name).
pub fn sensor(name: Option<&str>) -> crate::hits::Sensor {
    let hostname = host_name();
    crate::hits::Sensor {
        name: name.map_or_else(|| hostname.clone(), str::to_string),
        hostname,
    }
}

/// This machine's host name (`unknown` if the system will not say).
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is what gethostname is told.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    // A name longer than the buffer may come back without its NUL: then there is none.
    match std::ffi::CStr::from_bytes_until_nul(&buf) {
        Ok(name) if rc == 0 && !name.is_empty() => name.to_string_lossy().into_owned(),
        _ => "unknown".to_string(),
    }
}

/// Opens a hit output file (`-o`) for appending, creating it if needed: a restarted sensor
/// adds to its hit log instead of wiping it.
pub fn append_to(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}

/// What the library tells while it runs, printed on stderr as `trawl: NOTICE`.
pub fn stderr_notices() -> crate::Notices {
    crate::Notices::new(|notice| eprintln!("trawl: {notice}"))
}

/// Runs the parsed command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Compile(a) => compile::run(a),
        Command::Info { set, json } => info::info(&set, json),
        Command::Verify { set } => info::verify(&set),
        Command::Lookup(a) => lookup::run(a),
        Command::Scan(ScanCommand::Pcap(a)) => scan::pcap(a),
        Command::Scan(ScanCommand::Logs(a)) => logs::run(a),
        Command::Sniff(a) => scan::sniff(a),
        Command::Sightings(a) => sightings::run(a),
        Command::Export(a) => export::run(a),
        Command::Feeds(c) => feeds::run(c),
    }
}

/// The `trawl` command: parses arguments, runs the command and maps its outcome to an exit
/// code (0: success or a match, 1: lookups found nothing, 2: error).
pub fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        // A closed pipe (`trawl lookup … | head`) is a normal end, not an error: every command
        // writes stdout through `write!` and returns the error, never `println!` (which panics).
        Err(e) if e.chain().any(is_broken_pipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trawl: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Whether an error is a write to a closed pipe: an `io::Error` of kind `BrokenPipe`, directly,
/// inside trawl's error, inside a `serde_json` error (JSON written straight to stdout), or in a
/// `csv` error wrapped in an `io::Error` (how the CSV export's errors arrive).
fn is_broken_pipe(e: &(dyn StdError + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<io::Error>() {
        let inner: Option<&(dyn StdError + 'static)> = io.get_ref().map(|e| e as _);
        return io.kind() == io::ErrorKind::BrokenPipe
            || std::iter::successors(inner, |&e| e.source()).any(is_broken_pipe);
    }
    if let Some(json) = e.downcast_ref::<serde_json::Error>() {
        // `serde_json::Error` gives its I/O error's source, not the I/O error itself.
        return json.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
    }
    if let Some(csv) = e.downcast_ref::<csv::Error>() {
        // `csv::Error` keeps its I/O error in its kind, not as a source.
        return matches!(csv.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe);
    }
    e.downcast_ref::<crate::Error>()
        .and_then(crate::Error::io_error)
        .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
