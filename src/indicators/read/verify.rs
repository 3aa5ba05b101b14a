//! The full structural check behind [`super::IndicatorSet::verify`]: every index in every
//! section points where it must. Lookups are already safe on a corrupt file (they miss); this
//! tells the operator the file is bad before it is deployed.

use super::{IndicatorSet, TABLE_KINDS};
use crate::indicators::error::{Error, Result};
use crate::indicators::format::{self, NONE, Prov, Record, StrRef, V4_DIRECT};
use crate::indicators::model::Kind;

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::bad_set(what()))
    }
}

fn str_ok(strings: &[u8], r: StrRef) -> bool {
    (r.off as usize)
        .checked_add(r.len as usize)
        .and_then(|end| strings.get(r.off as usize..end))
        .is_some_and(|b| std::str::from_utf8(b).is_ok())
}

pub(super) fn structure<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Result<()> {
    let strings = set.strings();
    let records = set.records();
    let provs: &[Prov] = set.slice(&set.sec.provs);
    let lists: &[u32] = set.slice(&set.sec.prov_lists);
    let sources: &[StrRef] = set.slice(&set.sec.sources);
    let n = records.len() as u32;
    let valid_rec = |r: u32| r == NONE || r < n;

    for (i, s) in sources.iter().enumerate() {
        check(str_ok(strings, *s), || format!("source {i} has a bad name"))?;
    }
    for (i, p) in provs.iter().enumerate() {
        check((p.source as usize) < sources.len(), || {
            format!("provenance {i}: bad source")
        })?;
        check(
            str_ok(strings, p.id) && str_ok(strings, p.labels) && str_ok(strings, p.description),
            || format!("provenance {i}: bad string"),
        )?;
    }
    for (i, r) in records.iter().enumerate() {
        let kind = Kind::from_u8(r.kind);
        check(kind.is_some(), || {
            format!("record {i}: unknown kind {}", r.kind)
        })?;
        let end = r.value_off as usize + usize::from(r.value_len);
        check(end <= strings.len(), || {
            format!("record {i}: value out of bounds")
        })?;
        let listed = r.provs & format::PROVS_SINGLE != 0
            || lists
                .get(r.provs as usize)
                .is_some_and(|&n| (r.provs as usize + 1).saturating_add(n as usize) <= lists.len());
        let mut ids = format::prov_ids(r.provs, lists).peekable();
        check(
            listed && ids.peek().is_some() && ids.all(|p| (p as usize) < provs.len()),
            || format!("record {i}: bad provenance list"),
        )?;
        check(valid_rec(r.parent), || format!("record {i}: bad parent"))?;
    }

    let v4 = set.v4();
    for (b, &e) in v4.l1.iter().enumerate() {
        if e & V4_DIRECT != 0 {
            let v = e & !V4_DIRECT;
            check(v == NONE & !V4_DIRECT || v < n, || {
                format!("IPv4 bucket {b}: bad record")
            })?;
            continue;
        }
        let off = e as usize;
        let count = v4.nodes.get(off).copied().unwrap_or(u32::MAX) as usize;
        let key_words = count.div_ceil(2);
        let keys = v4.nodes.get(off + 1..(off + 1).saturating_add(key_words));
        let vals = v4
            .nodes
            .get(off + 1 + key_words..(off + 2 + key_words).saturating_add(count));
        let sorted = keys.is_some_and(|w| {
            let k: &[u16] = bytemuck::cast_slice(w);
            k[..count].windows(2).all(|p| p[0] < p[1])
        });
        check(
            sorted && vals.is_some_and(|v| v.iter().all(|&r| valid_rec(r))),
            || format!("IPv4 bucket {b}: bad node"),
        )?;
    }
    let v6 = set.v6();
    for (b, &e) in v6.l1.iter().enumerate() {
        if e & V4_DIRECT != 0 {
            let v = e & !V4_DIRECT;
            check(v == NONE & !V4_DIRECT || v < n, || {
                format!("IPv6 bucket {b}: bad record")
            })?;
            continue;
        }
        let off = e as usize;
        let count = v6.nodes.get(off).map_or(usize::MAX, |&c| c as usize);
        let keys = count
            .checked_mul(2)
            .and_then(|k| v6.nodes.get(off + 1..(off + 1).checked_add(k)?));
        let recs = keys.and_then(|_| {
            let at = off + 1 + 2 * count;
            v6.nodes.get(at..at.checked_add(count / 2 + 1)?)
        });
        let ok = match (keys, recs) {
            (Some(k), Some(r)) => {
                let key = |i: usize| (u128::from(k[i]) << 64) | u128::from(k[count + i]);
                let sorted = (1..count).all(|i| key(i - 1) < key(i));
                let in_bucket =
                    (0..count).all(|i| key(i).checked_shr(v6.shift).unwrap_or(0) as usize == b);
                let recs_ok = (0..=count).all(|i| {
                    let pair = r[i / 2];
                    valid_rec(if i % 2 == 0 {
                        pair as u32
                    } else {
                        (pair >> 32) as u32
                    })
                });
                sorted && in_bucket && recs_ok
            }
            _ => false,
        };
        check(ok, || format!("IPv6 bucket {b}: bad node"))?;
    }
    for kind in TABLE_KINDS {
        let table = set.table(kind);
        check(table.tags.len() == table.entries.len(), || {
            format!("{kind} table is torn")
        })?;
        let used = table
            .tags
            .iter()
            .zip(table.entries)
            .filter(|(t, _)| **t != 0);
        for (_, &e) in used {
            let entry = format::entry_at(strings, e);
            check(
                entry.is_some_and(|(r, key)| {
                    records.get(r as usize).is_some_and(|rec: &Record| {
                        rec.kind == kind as u8
                            && rec.value_off as usize == e as usize + format::ENTRY_HEADER
                            && usize::from(rec.value_len) == key.len()
                    })
                }),
                || format!("{kind} table points at a wrong entry"),
            )?;
        }
    }
    // Pattern lists: records of the right kind, each once, within the automaton bounds.
    set.pattern_totals()?;
    Ok(())
}
