//! nftables: one table with an IPv4 and an IPv6 interval set, loaded atomically with
//! `nft -f FILE` (the table is created if missing, then deleted and re-created in the same
//! transaction, so a reload replaces the sets whole).

use std::io::{self, Write};

use super::{Report, ipv4_cidrs, ipv6_cidrs};
use crate::indicators::read::IndicatorSet;

/// Writes the nftables script for `set` with table `table` (family `inet`) holding the sets
/// `ipv4` and `ipv6`.
pub fn write<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    table: &str,
    out: &mut dyn Write,
) -> io::Result<Report> {
    let mut report = Report::default();
    let v4 = ipv4_cidrs(set);
    let v6 = ipv6_cidrs(set);
    writeln!(out, "#!/usr/sbin/nft -f")?;
    writeln!(
        out,
        "# trawl export: {} IPv4 and {} IPv6 CIDRs",
        v4.len(),
        v6.len()
    )?;
    writeln!(out, "table inet {table}")?;
    writeln!(out, "delete table inet {table}")?;
    writeln!(out, "table inet {table} {{")?;
    let mut section = |name: &str, ty: &str, items: Vec<String>| -> io::Result<()> {
        writeln!(out, "\tset {name} {{")?;
        writeln!(out, "\t\ttype {ty}")?;
        writeln!(out, "\t\tflags interval")?;
        if !items.is_empty() {
            writeln!(out, "\t\telements = {{")?;
            let last = items.len() - 1;
            for (i, item) in items.iter().enumerate() {
                writeln!(out, "\t\t\t{item}{}", if i < last { "," } else { "" })?;
            }
            writeln!(out, "\t\t}}")?;
        }
        writeln!(out, "\t}}")
    };
    report.wrote("ipv4 cidrs", v4.len() as u64);
    report.wrote("ipv6 cidrs", v6.len() as u64);
    section(
        "ipv4",
        "ipv4_addr",
        v4.iter()
            .map(|n| host_or_net(n.prefix_len() == 32, n))
            .collect(),
    )?;
    section(
        "ipv6",
        "ipv6_addr",
        v6.iter()
            .map(|n| host_or_net(n.prefix_len() == 128, n))
            .collect(),
    )?;
    writeln!(out, "}}")?;
    Ok(report)
}

/// A host as a bare address, a network in CIDR notation.
fn host_or_net<N: std::fmt::Display + Addr>(host: bool, n: &N) -> String {
    if host { n.addr_string() } else { n.to_string() }
}

/// The address part of a network.
pub(crate) trait Addr {
    fn addr_string(&self) -> String;
}

impl Addr for ipnet::Ipv4Net {
    fn addr_string(&self) -> String {
        self.addr().to_string()
    }
}

impl Addr for ipnet::Ipv6Net {
    fn addr_string(&self) -> String {
        self.addr().to_string()
    }
}
