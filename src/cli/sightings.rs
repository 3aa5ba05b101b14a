//! `trawl sightings`.

use std::process::ExitCode;

use clap::Args;

/// `trawl sightings`.
#[derive(Args, Debug)]
pub struct SightingsArgs {}

pub fn run(_a: SightingsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("trawl sightings is being written (issue 5)")
}
