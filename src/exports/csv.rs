//! CSV: one row per indicator and source, with the provenance — for spreadsheets, SIEM
//! lookups and anything else that reads a table. Addresses come as the CIDRs the set
//! answers for now (holes carved, nested prefixes split), each with the indicator that
//! answers there.

use std::io::{self, Write};

use super::{Report, active, ip_cidrs_with_indicator};
use crate::indicators::model::Kind;
use crate::indicators::model::rfc3339;
use crate::indicators::read::{IndicatorRef, IndicatorSet};

/// Writes the CSV for `set`: `kind,value,source,id,score,tlp,valid_from,valid_until,labels,description`.
pub fn write<D: AsRef<[u8]>>(set: &IndicatorSet<D>, out: &mut dyn Write) -> io::Result<Report> {
    let mut report = Report::default();
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record([
        "kind",
        "value",
        "source",
        "id",
        "score",
        "tlp",
        "valid_from",
        "valid_until",
        "labels",
        "description",
    ])?;
    let now = set.now();
    let mut rows = |kind: &str, value: &str, ind: &IndicatorRef<'_>| -> io::Result<u64> {
        let mut n = 0;
        for p in ind.provenance().filter(|p| p.active_at(now)) {
            let time = |t: Option<i64>| t.map(|t| rfc3339(t, 0)).unwrap_or_default();
            w.write_record([
                kind,
                value,
                p.source,
                p.id.unwrap_or(""),
                &p.score.map(|s| s.to_string()).unwrap_or_default(),
                p.tlp.map_or("", |t| t.name()),
                &time(p.valid_from),
                &time(p.valid_until),
                p.labels,
                p.description.unwrap_or(""),
            ])?;
            n += 1;
        }
        Ok(n)
    };
    for (net, id) in ip_cidrs_with_indicator(set) {
        let Some(ind) = set.indicator(id) else {
            continue;
        };
        let kind = if net.addr().is_ipv4() { "ipv4" } else { "ipv6" };
        let n = rows(kind, &net.to_string(), &ind)?;
        report.wrote("address rows", n);
    }

    for ind in active(set, super::NOT_ADDRESSES) {
        let kind = ind.kind().map_or("", Kind::name);
        let n = rows(kind, &ind.value(), &ind)?;
        report.wrote("rows", n);
    }
    w.flush()?;
    Ok(report)
}
