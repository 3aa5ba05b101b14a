//! Exports of a compiled set for devices that cannot run trawl: firewall address sets
//! ([`nft`], [`ipset`]), Suricata IP reputation, datasets and file-hash lists ([`suricata`]),
//! the Zeek Intel framework
//! ([`zeek`]), flat files ([`csv`]) and STIX 2.1 ([`stix`]).
//!
//! Every export answers what the set answers *now*: addresses come from the set's interval
//! tables ([`IndicatorSet::ipv4_ranges`]), so warninglist holes and expired prefixes are
//! exported as lookups resolve them, and adjacent or nested prefixes are merged into the
//! fewest CIDRs; other kinds are the indicators active now. What a format cannot express (a
//! CIDR in a host-only dataset, a URL in a firewall set) is counted in the [`Report`], never
//! silently dropped.

pub mod csv;
pub mod ipset;
pub mod nft;
pub mod stix;
pub mod suricata;
pub mod zeek;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net, Ipv6Subnets};

use crate::indicators::model::Kind;
use crate::indicators::read::{IndicatorRef, IndicatorSet};

/// What an export wrote and what it could not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Entries written, per what they are (`ipv4 cidrs`, `domains`, …).
    pub written: BTreeMap<&'static str, u64>,
    /// Indicators the format cannot express, per reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Per kind (exports that account for every indicator): how many the set holds and how
    /// many of them the export carries.
    pub coverage: BTreeMap<&'static str, Coverage>,
}

/// Indicators of one kind active in the set, and how many of them an export carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Active in the set now.
    pub in_set: u64,
    /// Carried by the export.
    pub exported: u64,
}

impl Report {
    fn wrote(&mut self, what: &'static str, n: u64) {
        *self.written.entry(what).or_default() += n;
    }

    fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_default() += 1;
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |m: &BTreeMap<&str, u64>| {
            m.iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "wrote {}",
            if self.written.is_empty() {
                "nothing".into()
            } else {
                list(&self.written)
            }
        )?;
        if !self.skipped.is_empty() {
            write!(f, "; skipped {}", list(&self.skipped))?;
        }
        if !self.coverage.is_empty() {
            let kinds: Vec<String> = self
                .coverage
                .iter()
                .map(|(k, c)| format!("{k} {} of {}", c.exported, c.in_set))
                .collect();
            write!(f, "; indicators exported: {}", kinds.join(", "))?;
        }
        Ok(())
    }
}

/// The IPv4 space the set matches now, as the fewest CIDRs (adjacent and nested prefixes
/// merged; holes left out), in address order.
pub fn ipv4_cidrs<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Vec<Ipv4Net> {
    merge(
        set.ipv4_ranges()
            .map(|(a, b, _)| (u32::from(a), u32::from(b))),
    )
    .into_iter()
    .flat_map(|(a, b)| Ipv4Subnets::new(Ipv4Addr::from(a), Ipv4Addr::from(b), 0))
    .collect()
}

/// [`ipv4_cidrs`] for IPv6.
pub fn ipv6_cidrs<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Vec<Ipv6Net> {
    merge(
        set.ipv6_ranges()
            .map(|(a, b, _)| (u128::from(a), u128::from(b))),
    )
    .into_iter()
    .flat_map(|(a, b)| Ipv6Subnets::new(Ipv6Addr::from(a), Ipv6Addr::from(b), 0))
    .collect()
}

/// The CIDRs of each interval with the indicator that answers there (not merged across
/// indicators): for formats that carry provenance per entry.
pub(crate) fn ip_cidrs_with_indicator<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Vec<(IpNet, u32)> {
    let v4 = set
        .ipv4_ranges()
        .flat_map(|(a, b, r)| Ipv4Subnets::new(a, b, 0).map(move |n| (IpNet::V4(n), r)));
    let v6 = set
        .ipv6_ranges()
        .flat_map(|(a, b, r)| Ipv6Subnets::new(a, b, 0).map(move |n| (IpNet::V6(n), r)));
    // Adjacent intervals of one indicator (split by the table's first level) are joined.
    let mut out: Vec<(IpNet, u32)> = Vec::new();
    for (net, r) in v4.chain(v6) {
        out.push((net, r));
        while out.len() >= 2 {
            let (b, rb) = out[out.len() - 1];
            let (a, ra) = out[out.len() - 2];
            match (ra == rb)
                .then(|| IpNet::aggregate(&vec![a, b]))
                .filter(|m| m.len() == 1)
            {
                Some(m) => {
                    out.pop();
                    *out.last_mut().expect("two entries") = (m[0], ra);
                }
                None => break,
            }
        }
    }
    out
}

/// Joins sorted intervals that touch or overlap.
fn merge<T: Copy + Ord + num_like::Succ>(ranges: impl Iterator<Item = (T, T)>) -> Vec<(T, T)> {
    let mut out: Vec<(T, T)> = Vec::new();
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if last.1.succ().is_some_and(|n| n >= a) || last.1 >= a => {
                last.1 = last.1.max(b);
            }
            _ => out.push((a, b)),
        }
    }
    out
}

mod num_like {
    /// The next value, if any.
    pub(super) trait Succ: Sized {
        fn succ(self) -> Option<Self>;
    }
    impl Succ for u32 {
        fn succ(self) -> Option<u32> {
            self.checked_add(1)
        }
    }
    impl Succ for u128 {
        fn succ(self) -> Option<u128> {
            self.checked_add(1)
        }
    }
}

/// Every kind but the addresses, which exports take from the interval tables ([`Kind::ALL`]
/// lists the two address kinds first).
pub(crate) const NOT_ADDRESSES: &[Kind] = Kind::ALL.split_at(2).1;

/// Every indicator of `kinds` active now (at the set's clock), in record order.
pub fn active<'s, D: AsRef<[u8]>>(
    set: &'s IndicatorSet<D>,
    kinds: &'s [Kind],
) -> impl Iterator<Item = IndicatorRef<'s>> + 's {
    let now = set.now();
    (0..set.len() as u32)
        .filter_map(move |id| set.indicator(id))
        .filter(move |i| {
            i.kind().is_some_and(|k| kinds.contains(&k)) && i.provenance().any(|p| p.active_at(now))
        })
}
