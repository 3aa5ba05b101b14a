//! The `trawl` command: a thin layer that parses arguments, calls the library and maps
//! outcomes to exit codes (0: success or a match, 1: lookups found nothing, 2: error).

mod cli;

use std::error::Error as StdError;
use std::io;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
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
    e.downcast_ref::<trawl::Error>()
        .and_then(trawl::Error::io_error)
        .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
}
