//! The `trawl` command: a thin layer that parses arguments, calls the library and maps
//! outcomes to exit codes (0: success or a match, 1: lookups found nothing, 2: error).

mod cli;

use std::io;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (`trawl lookup … | head`) is a normal end, not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<io::Error>()
                    .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("trawl: {e:#}");
            ExitCode::from(2)
        }
    }
}
