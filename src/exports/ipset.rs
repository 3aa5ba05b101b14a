//! ipset: a script for `ipset restore` that fills two `hash:net` sets, `NAME-v4` and
//! `NAME-v6`, atomically: each is built as `NAME-v4.new`, swapped in, and the old contents
//! destroyed, so rules that refer to the set never see it half full.

use std::io::{self, Write};

use ipnet::IpNet;

use super::{Report, ipv4_cidrs, ipv6_cidrs};
use crate::indicators::read::IndicatorSet;

/// Writes the `ipset restore` script for `set`, sets named `{name}-v4` and `{name}-v6`.
/// `hash:net` cannot hold a `/0`; such an entry is split in two halves.
pub fn write<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    name: &str,
    out: &mut dyn Write,
) -> io::Result<Report> {
    let mut report = Report::default();
    let v4 = entries(ipv4_cidrs(set).into_iter().map(IpNet::V4));
    let v6 = entries(ipv6_cidrs(set).into_iter().map(IpNet::V6));
    for (family, suffix, items, what) in [
        ("inet", "v4", &v4, "ipv4 cidrs"),
        ("inet6", "v6", &v6, "ipv6 cidrs"),
    ] {
        let set_name = format!("{name}-{suffix}");
        let new = format!("{set_name}.new");
        // `maxelem` must admit every entry (65536 is ipset's default).
        let maxelem = items.len().max(65536);
        let create = format!("hash:net family {family} hashsize 1024 maxelem {maxelem}");
        writeln!(out, "create {set_name} {create} -exist")?;
        writeln!(out, "create {new} {create} -exist")?;
        writeln!(out, "flush {new}")?;
        for item in items {
            writeln!(out, "add {new} {item}")?;
        }
        writeln!(out, "swap {new} {set_name}")?;
        writeln!(out, "destroy {new}")?;
        report.wrote(what, items.len() as u64);
    }
    Ok(report)
}

/// The CIDRs as `hash:net` entries: a `/0` becomes its two halves.
fn entries(nets: impl Iterator<Item = IpNet>) -> Vec<String> {
    nets.flat_map(|n| match n.prefix_len() {
        0 => n.subnets(1).expect("/1 of /0").collect(),
        _ => vec![n],
    })
    .map(|n| n.to_string())
    .collect()
}
