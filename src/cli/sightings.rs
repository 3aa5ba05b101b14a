//! `trawl sightings`: trawl's hit output aggregated into one STIX 2.1 bundle of sightings.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::IndicatorSet;
use crate::Tlp;
use crate::sightings::{
    Aggregator, Bundle, BundleOptions, Identity, ReadReport, Timestamp, TlpVersion, Window,
    read_hits,
};

/// The most restrictive TLP that may be shared.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum TlpMaxArg {
    /// TLP:CLEAR only (and unmarked indicators).
    Clear,
    /// Up to TLP:GREEN.
    Green,
    /// Up to TLP:AMBER (AMBER+STRICT and RED never leave).
    Amber,
}

/// `trawl sightings`.
#[derive(Args, Debug)]
pub(super) struct SightingsArgs {
    /// The set the hits were matched against: every indicator id is checked against it, and
    /// its TLP is taken from it.
    #[arg(short, long)]
    set: PathBuf,
    /// Hit files: JSON Lines of `scan pcap`, `sniff`, `scan logs` (ECS, also `--enrich`) or EVE
    /// alerts (`-` for stdin; gzip files are decompressed).
    #[arg(default_value = "-")]
    files: Vec<PathBuf>,
    /// Write the bundle here instead of stdout.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Count only hits at or after this time (RFC 3339, or a date: midnight UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Count only hits before this time (RFC 3339, or a date: midnight UTC).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<Timestamp>,
    /// Your organisation's name, for --share-identity.
    #[arg(long, value_name = "NAME")]
    identity_name: Option<String>,
    /// Your organisation's STIX identity id, when a sharing programme gave it one (default: an
    /// id made from the name, the same in every report).
    #[arg(long, value_name = "ID", requires = "identity_name")]
    identity_id: Option<String>,
    /// Say who sighted: add an `identity` (organisation) and name it in every sighting's
    /// `created_by_ref` and `where_sighted_refs`. Without it the bundle names nobody.
    #[arg(long, requires = "identity_name")]
    share_identity: bool,
    /// Add the values seen (addresses, names, URLs, email addresses, hashes) as
    /// `observed-data` and SCOs. Without it no observed value leaves.
    #[arg(long)]
    share_observed: bool,
    /// The most restrictive TLP to share; sightings of indicators marked above it are
    /// withheld (TLP:AMBER+STRICT and TLP:RED always are).
    #[arg(long, value_enum, default_value = "amber")]
    tlp_max: TlpMaxArg,
    /// Refer to the TLP 2.0 or the TLP 1.0 marking definitions.
    #[arg(long, value_name = "1|2", default_value = "2", value_parser = ["1", "2"])]
    tlp_version: String,
    /// Also post the sightings to this TAXII feed of the configuration file (its API root,
    /// collection and credentials), then wait for the server's status.
    #[arg(long, value_name = "FEED")]
    post: Option<String>,
    /// The configuration file: the feed of --post, and the sharing policy of its
    /// `[sightings]` table (share_identity, share_observed, identity_name, identity_id), which
    /// the flags above can only add to. Read when given, and for --post (default trawl.toml).
    #[arg(short, long)]
    config: Option<PathBuf>,
    /// Print no report on stderr.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse(s).ok_or_else(|| {
        format!("{s:?} is not a time (RFC 3339, e.g. 2026-01-01T00:00:00Z, or 2026-01-01)")
    })
}

/// Opens a hit file (`-`: stdin), decompressing gzip.
fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let raw: Box<dyn Read> = if path.as_os_str() == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("opening {}", path.display()))?)
    };
    let mut r = BufReader::with_capacity(1 << 16, raw);
    let gzip = r
        .fill_buf()
        .with_context(|| format!("reading {}", path.display()))?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(r),
        ))
    } else {
        Box::new(r)
    })
}

/// Writes the bundle to `path` atomically (see [`crate::indicators::build::write_atomic`]: an exclusively
/// created temp file, so a symlink planted beside `path` is never followed), so that a reader
/// never sees half a bundle.
fn write_file(path: &Path, bundle: &Bundle) -> anyhow::Result<()> {
    crate::indicators::build::write_atomic(path, crate::indicators::build::Access::Shared, |f| {
        let mut out = BufWriter::new(f);
        serde_json::to_writer_pretty(&mut out, &bundle.json)?;
        out.write_all(b"\n")?;
        out.flush()
    })
    .with_context(|| format!("writing {}", path.display()))
}

pub(super) fn run(mut a: SightingsArgs) -> anyhow::Result<ExitCode> {
    let config_path = match (&a.config, &a.post) {
        (Some(path), _) => Some(path.clone()),
        (None, Some(_)) => Some(PathBuf::from("trawl.toml")),
        (None, None) => None,
    };
    let config = config_path
        .as_deref()
        .map(super::feeds::load_config)
        .transpose()?;
    if let Some(policy) = config.as_ref().map(|c| &c.sightings) {
        a.share_identity |= policy.share_identity;
        a.share_observed |= policy.share_observed;
        if a.identity_name.is_none() {
            a.identity_name.clone_from(&policy.identity_name);
        }
        if a.identity_id.is_none() {
            a.identity_id.clone_from(&policy.identity_id);
        }
    }
    if let (Some(s), Some(u)) = (a.since, a.until) {
        if s >= u {
            bail!("--since ({s}) must be before --until ({u})");
        }
    }
    let identity = match (&a.identity_name, &a.identity_id) {
        _ if !a.share_identity => None,
        (Some(name), Some(id)) => Some(Identity::with_id(id, name).map_err(anyhow::Error::msg)?),
        (Some(name), None) => Some(Identity::new(name)),
        (None, _) => bail!(
            "sharing the identity needs a name (--identity-name, or identity_name in [sightings])"
        ),
    };
    if identity.is_none() && a.identity_name.is_some() && !a.quiet {
        eprintln!("trawl sightings: identity not shared (no --share-identity)");
    }
    let set = IndicatorSet::open(&a.set)?;
    let window = Window {
        since: a.since,
        until: a.until,
    };
    let mut agg = Aggregator::new(window, a.share_observed);
    let mut report = ReadReport::default();
    for f in &a.files {
        let name = f.display().to_string();
        let input = open(f)?;
        read_hits(input, &name, Some(&set), &mut agg, &mut report)
            .with_context(|| format!("reading {name}"))?;
    }
    let indicators_hit = agg.len();
    let not_in_set = agg.resolve(&set);
    let opts = BundleOptions {
        identity,
        share_observed: a.share_observed,
        tlp_max: match a.tlp_max {
            TlpMaxArg::Clear => Tlp::Clear,
            TlpMaxArg::Green => Tlp::Green,
            TlpMaxArg::Amber => Tlp::Amber,
        },
        tlp_version: if a.tlp_version == "1" {
            TlpVersion::V1
        } else {
            TlpVersion::V2
        },
        now: Timestamp::now(),
        bundle_id: None,
    };
    let bundle = agg.bundle(&opts);
    match &a.output {
        Some(path) => write_file(path, &bundle)?,
        None => {
            let stdout = io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            serde_json::to_writer_pretty(&mut out, &bundle.json)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
    }
    if !a.quiet {
        print_report(&a, &report, indicators_hit, &not_in_set, &bundle);
    }
    if let (Some(feed), Some(config)) = (&a.post, &config) {
        post(config, feed, &bundle)?;
    }
    Ok(if bundle.sightings > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Posts the bundle's objects to the TAXII collection of `feed` and waits for the status.
fn post(config: &crate::feeds::Config, feed: &str, bundle: &Bundle) -> anyhow::Result<()> {
    let f = config
        .feeds
        .iter()
        .find(|f| f.name == feed)
        .with_context(|| format!("no feed {feed:?} in the configuration"))?;
    let (Some(root), Some(collection)) = (&f.api_root, &f.collection) else {
        bail!("feed {feed:?} is not a TAXII feed with api_root and collection");
    };
    let root = if root.ends_with('/') {
        root.clone()
    } else {
        format!("{root}/")
    };
    let objects = bundle.json["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if objects.is_empty() {
        eprintln!("nothing to post to {feed}");
        return Ok(());
    }
    let client = crate::feeds::taxii::Client::new(f.client_options())?;
    let status = client.post_and_wait(
        &root,
        collection,
        &objects,
        std::time::Duration::from_secs(60),
    )?;
    let count = |k: &str| {
        status
            .get(k)
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    };
    eprintln!(
        "posted {} objects to {feed}: status {}, {} succeeded, {} failed, {} pending",
        objects.len(),
        status
            .get("status")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?"),
        count("success_count"),
        count("failure_count"),
        count("pending_count")
    );
    if count("failure_count") > 0 {
        bail!(
            "the server refused {} of the posted objects: {status}",
            count("failure_count")
        );
    }
    Ok(())
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_report(
    a: &SightingsArgs,
    r: &ReadReport,
    indicators_hit: usize,
    not_in_set: &std::collections::BTreeMap<String, u64>,
    b: &Bundle,
) {
    let to = a
        .output
        .as_ref()
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    eprintln!(
        "trawl sightings: {} ({}), {} with hits: {} of {} → {} ({}) to {to}",
        plural(a.files.len() as u64, "file", "files"),
        plural(r.lines, "line", "lines"),
        plural(r.hit_records, "record", "records"),
        plural(r.hits, "hit", "hits"),
        plural(indicators_hit as u64, "indicator", "indicators"),
        plural(b.sightings as u64, "sighting", "sightings"),
        plural(b.hits, "hit", "hits"),
    );
    if b.observed_values > 0 || a.share_observed {
        eprintln!(
            "  observed values shared: {}{}",
            b.observed_values,
            if b.unrepresentable > 0 {
                format!(
                    " ({} without an SCO form left out)",
                    plural(b.unrepresentable, "hit", "hits")
                )
            } else {
                String::new()
            }
        );
    }
    if !b.withheld.is_empty() {
        let hits: u64 = b.withheld.values().map(|v| v.1).sum();
        eprintln!(
            "  withheld for their TLP: {} ({})",
            plural(b.withheld.len() as u64, "indicator", "indicators"),
            plural(hits, "hit", "hits")
        );
        for (id, (tlp, n)) in b.withheld.iter().take(10) {
            let tlp = tlp.map_or("-", Tlp::name).to_uppercase();
            eprintln!("    {id} TLP:{tlp}, {}", plural(*n, "hit", "hits"));
        }
        if b.withheld.len() > 10 {
            eprintln!("    …");
        }
    }
    if !not_in_set.is_empty() {
        let hits: u64 = not_in_set.values().sum();
        eprintln!(
            "  not in the set (hits of another set, or revoked since): {} ({})",
            plural(not_in_set.len() as u64, "id", "ids"),
            plural(hits, "hit", "hits")
        );
        for (id, n) in not_in_set.iter().take(10) {
            eprintln!("    {id}, {}", plural(*n, "hit", "hits"));
        }
    }
    if !r.unsightable.is_empty() {
        eprintln!(
            "  cannot be sighted: {}",
            plural(r.unsightable_total(), "hit", "hits")
        );
        for (source, reasons) in &r.unsightable {
            for (reason, n) in reasons {
                eprintln!("    {source}: {} ({reason})", plural(*n, "hit", "hits"));
            }
        }
    }
    if r.outside_window > 0 {
        eprintln!(
            "  outside --since/--until: {}",
            plural(r.outside_window, "hit", "hits")
        );
    }
    if r.without_hits > 0 || r.not_trawl > 0 || r.threat_field_hits > 0 {
        eprintln!(
            "  skipped: {} without hits, {} not written by trawl, {} on values of earlier \
             enrichments",
            plural(r.without_hits, "record", "records"),
            plural(r.not_trawl, "enrichment or alert", "enrichments or alerts"),
            plural(r.threat_field_hits, "hit", "hits"),
        );
    }
    if !r.malformed.is_empty() {
        eprintln!(
            "  malformed, skipped: {}",
            plural(r.malformed_total(), "line", "lines")
        );
        for (reason, p) in &r.malformed {
            eprintln!("    {reason}: {} ({})", p.count, p.places.join(", "));
        }
    }
}
