//! `trawl export`.

use std::process::ExitCode;

use clap::Args;

/// `trawl export`.
#[derive(Args, Debug)]
pub struct ExportArgs {}

pub fn run(_a: ExportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("trawl export is being written (issue 5)")
}
