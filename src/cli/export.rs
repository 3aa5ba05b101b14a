//! `trawl export`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::IndicatorSet;
use crate::exports::{self, Report};

/// Export formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum ExportFormat {
    /// An `nft -f` script: table `inet NAME` with interval sets `ipv4` and `ipv6`.
    Nftables,
    /// An `ipset restore` script: `hash:net` sets `NAME-v4` and `NAME-v6`, swapped in whole.
    Ipset,
    /// Suricata 8 IP reputation, datasets, file-hash lists, rules and a YAML include, into the
    /// directory `-o` (`suricata-dataset` is the old name).
    #[value(alias = "suricata-dataset")]
    Suricata,
    /// A Zeek Intel framework file.
    ZeekIntel,
    /// CSV, one row per indicator and source, with provenance.
    Csv,
    /// A STIX 2.1 bundle of indicators.
    Stix,
}

/// `trawl export`.
#[derive(Args, Debug)]
pub(super) struct ExportArgs {
    /// The set file.
    #[arg(short, long)]
    set: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum)]
    format: ExportFormat,
    /// Output file (a directory for suricata); stdout when absent.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Name of the nftables table, the ipset sets, or the Suricata files, category and flowbits.
    #[arg(long, default_value = "trawl")]
    name: String,
    /// First sid of the Suricata rules.
    #[arg(long, default_value_t = 9_000_000)]
    sid: u32,
}

pub(super) fn run(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let set = IndicatorSet::open(&a.set)?;
    if !a
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || a.name.is_empty()
    {
        anyhow::bail!("--name must be letters, digits, `_` or `-`: {:?}", a.name);
    }
    let report: Report = match a.format {
        ExportFormat::Suricata => {
            let dir = a
                .output
                .as_deref()
                .context("suricata writes several files: give a directory with -o")?;
            exports::suricata::write(&set, dir, &a.name, a.sid)
                .with_context(|| format!("writing {}", dir.display()))?
        }
        format => {
            let mut out: Box<dyn Write> = match &a.output {
                Some(p) => Box::new(BufWriter::new(
                    File::create(p).with_context(|| format!("creating {}", p.display()))?,
                )),
                None => Box::new(BufWriter::new(std::io::stdout().lock())),
            };
            match format {
                ExportFormat::Nftables => exports::nft::write(&set, &a.name, &mut out),
                ExportFormat::Ipset => exports::ipset::write(&set, &a.name, &mut out),
                ExportFormat::ZeekIntel => exports::zeek::write(&set, &mut out),
                ExportFormat::Csv => exports::csv::write(&set, &mut out),
                ExportFormat::Stix => exports::stix::write(&set, &mut out),
                ExportFormat::Suricata => unreachable!("handled above"),
            }
            .and_then(|r| out.flush().map(|()| r))
            .context("writing the export")?
        }
    };
    if set.is_damaged() {
        anyhow::bail!(
            "{}: the set file was truncated or rewritten in place during the export, which is \
             incomplete: run it again",
            a.set.display()
        );
    }
    eprintln!("{}: {report}", a.set.display());
    Ok(ExitCode::SUCCESS)
}
