//! Compilation: indicators in, one set file out. Writers only; the byte layout is
//! `crate::indicators::format`'s.
//!
//! * [`SetBuilder`] — a [`Collector`] that filters (score, TLP, expiry), applies warninglists
//!   ([`exclude::Exclusions`]), merges duplicate values keeping every provenance, and writes the
//!   set ([`SetBuilder::write`] is atomic: temp file, fsync, rename).
//! * `cidr` — interval tables for IPv4/IPv6 prefixes; `hashed` — static hash tables.
//! * [`report::CompileReport`] — what happened to every input item.

pub(crate) mod atomic;
pub(crate) mod cidr;
pub(crate) mod exclude;
pub(crate) mod hashed;
pub(crate) mod report;

use std::collections::HashMap;
use std::io::BufWriter;
use std::path::Path;

use crate::indicators::format::{SetMeta, SourceCount};
use hashbrown::HashTable;
use ipnet::IpNet;

use crate::indicators::collect::{Collector, Location};
use crate::indicators::error::{Error, Result};
use crate::indicators::format::{
    self, FileWriter, NONE, PROV_EXACT, Prov, REC_SUBDOMAINS, REC_TIMED, Record, SCORE_UNKNOWN,
    SectionId, StrRef,
};
use crate::indicators::model::{Kind, Meta, Tlp, Value};
use crate::indicators::normalize::{self, Normalized};

pub(crate) use atomic::{Access, write_atomic};
use cidr::{Intervals, Prefix, V4Table, V6Table};
use exclude::{Exclusions, Verdict};
use report::CompileReport;

/// Options that decide which indicators enter the set.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Leave out indicators whose score is known and below this.
    pub min_score: Option<u8>,
    /// Leave out indicators marked more restrictive than this TLP.
    pub tlp_max: Option<Tlp>,
    /// "Now" for the expiry filter, Unix seconds.
    pub now: i64,
    /// STIX `ipv4-addr:value = '10.0.0.0/8'` means containment (not string equality).
    pub cidr_equals_contains: bool,
    /// Per source (a feed's name): limits applied on top of `min_score` and `tlp_max`, for
    /// feeds that need a stricter filter than the rest.
    pub source_limits: std::collections::BTreeMap<String, SourceLimits>,
}

/// A source's own score and TLP limits (see [`CompileOptions::source_limits`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceLimits {
    /// Leave out this source's indicators scored below this.
    pub min_score: Option<u8>,
    /// Leave out this source's indicators marked above this TLP.
    pub tlp_max: Option<Tlp>,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            min_score: None,
            tlp_max: None,
            now: crate::indicators::model::unix_now(),
            cidr_equals_contains: true,
            source_limits: Default::default(),
        }
    }
}

/// An encoded interval table of one address family.
enum IntervalTable {
    V4(V4Table),
    V6(V6Table),
}

/// A distinct value being collected.
struct BRec {
    kind: Kind,
    key_off: u32,
    key_len: u32,
}

impl BRec {
    /// The merge-table hash of a key of a kind (recomputed on the rare rehash rather than
    /// stored: 8 bytes less per indicator).
    fn hash(kind: Kind, key: &[u8]) -> u64 {
        format::key_hash(kind.is_digest(), key) ^ (kind as u64).wrapping_mul(0x9E37_79B9)
    }

    fn key<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        &arena[self.key_off as usize..(self.key_off + self.key_len) as usize]
    }
}

/// Collects indicators and writes a set file.
pub struct SetBuilder {
    opts: CompileOptions,
    exclusions: Exclusions,
    report: CompileReport,
    arena: Vec<u8>,
    recs: Vec<BRec>,
    index: HashTable<u32>,
    pairs: Vec<(u32, u32)>,
    provs: Vec<Prov>,
    prov_index: HashMap<Prov, u32>,
    last_meta: Option<(Meta, u32)>,
    pool: Vec<u8>,
    pool_index: HashMap<Vec<u8>, StrRef>,
    sources: Vec<String>,
    source_index: HashMap<String, u32>,
    any_carved: bool,
    /// Accepted items per kind (by discriminant - 1), folded into the report at build.
    accepted: [u64; Kind::ALL.len()],
    /// Bytes of the distinct values that become automaton patterns (see [`is_pattern`]).
    pattern_bytes: u64,
}

/// Whether a value of `kind` becomes an Aho-Corasick pattern rather than a table key: HTTP
/// literals, and URLs without a scheme (substring literals such as `evil.example/gate.php`).
pub(crate) fn is_pattern(kind: Kind, key: &[u8]) -> bool {
    kind == Kind::HttpRequest || (kind == Kind::Url && normalize::scheme_end(key).is_none())
}

/// The refusal of a pattern longer than [`format::MAX_PATTERN_LEN`] (report reason, detail).
fn overlong_pattern(value: &Value) -> Option<(&'static str, String)> {
    let (Value::Url(s) | Value::HttpRequest(s)) = value else {
        return None;
    };
    (is_pattern(value.kind(), s.as_bytes()) && s.len() > format::MAX_PATTERN_LEN).then(|| {
        (
            "literal too long for substring matching",
            format!(
                "{} bytes (at most {}) — {}…",
                s.len(),
                format::MAX_PATTERN_LEN,
                s.chars().take(60).collect::<String>()
            ),
        )
    })
}

/// The most records a set may hold (the IPv4 first level keeps one bit for a flag).
pub(crate) const MAX_RECORDS: usize = (1 << 31) - 2;

impl SetBuilder {
    /// A builder with options and warninglists.
    pub fn new(opts: CompileOptions, exclusions: Exclusions) -> SetBuilder {
        SetBuilder {
            opts,
            exclusions,
            report: CompileReport::default(),
            arena: Vec::new(),
            recs: Vec::new(),
            index: HashTable::new(),
            pairs: Vec::new(),
            provs: Vec::new(),
            prov_index: HashMap::new(),
            last_meta: None,
            pool: Vec::new(),
            pool_index: HashMap::new(),
            sources: Vec::new(),
            source_index: HashMap::new(),
            any_carved: false,
            pattern_bytes: 0,
            accepted: [0; Kind::ALL.len()],
        }
    }

    /// Reserves room for about `n` more indicators (saves rehashing and reallocation on large
    /// compiles).
    pub(crate) fn reserve(&mut self, n: usize) {
        self.recs.reserve(n);
        self.pairs.reserve(n);
        self.arena.reserve(n * 24);
        let (arena, recs) = (&self.arena, &self.recs);
        self.index.reserve(n, |&x| {
            BRec::hash(recs[x as usize].kind, recs[x as usize].key(arena))
        });
    }

    /// The options this builder filters with.
    pub fn options(&self) -> &CompileOptions {
        &self.opts
    }

    /// The report so far.
    pub fn report(&self) -> CompileReport {
        let mut r = self.report.clone();
        r.fold_accepted(&self.accepted);
        r
    }

    /// Notes an input file in the report.
    pub(crate) fn note_input(&mut self, name: &str) {
        self.report.inputs.push(name.to_string());
    }

    /// Notes a file that was not compiled, and why, in the report.
    pub fn note_skipped(&mut self, name: &str, reason: &str) {
        self.report
            .skipped
            .entry(reason.to_string())
            .or_default()
            .add(|| name.to_string());
    }

    fn intern_str(&mut self, s: &[u8]) -> StrRef {
        if s.is_empty() {
            return StrRef::default();
        }
        if let Some(r) = self.pool_index.get(s) {
            return *r;
        }
        let r = StrRef {
            off: self.pool.len() as u32,
            len: s.len() as u32,
        };
        self.pool.extend_from_slice(s);
        self.pool_index.insert(s.to_vec(), r);
        r
    }

    fn intern_prov(&mut self, meta: &Meta) -> u32 {
        if let Some((m, id)) = &self.last_meta {
            if m == meta {
                return *id;
            }
        }
        let source = match self.source_index.get(&meta.source) {
            Some(&i) => i,
            None => {
                let i = self.sources.len() as u32;
                self.sources.push(meta.source.clone());
                self.source_index.insert(meta.source.clone(), i);
                i
            }
        };
        let prov = Prov {
            source,
            score: meta.score.map_or(SCORE_UNKNOWN, |s| s.min(100)),
            tlp: meta.tlp.map_or(0, |t| t as u8),
            flags: if meta.exact { PROV_EXACT } else { 0 },
            reserved: 0,
            id: self.intern_str(meta.id.as_deref().unwrap_or("").as_bytes()),
            labels: self.intern_str(meta.labels.join(",").as_bytes()),
            description: self.intern_str(meta.description.as_deref().unwrap_or("").as_bytes()),
            valid_from: meta.valid_from.unwrap_or(i64::MIN),
            valid_until: meta.valid_until.unwrap_or(i64::MAX),
        };
        let next = self.provs.len() as u32;
        let id = *self.prov_index.entry(prov).or_insert(next);
        if id == next {
            self.provs.push(prov);
        }
        self.last_meta = Some((meta.clone(), id));
        id
    }

    /// The record for a value, created on first sight.
    fn intern_value(&mut self, value: &Value) -> Result<u32> {
        let kind = value.kind();
        let mut net_key = [0u8; 17];
        let key: &[u8] = match value {
            Value::Net(IpNet::V4(n)) => {
                net_key[..4].copy_from_slice(&n.network().octets());
                net_key[4] = n.prefix_len();
                &net_key[..5]
            }
            Value::Net(IpNet::V6(n)) => {
                net_key[..16].copy_from_slice(&n.network().octets());
                net_key[16] = n.prefix_len();
                &net_key[..]
            }
            Value::Domain(s) | Value::Url(s) | Value::Email(s) | Value::HttpRequest(s) => {
                s.as_bytes()
            }
            Value::Hash(d) | Value::Fingerprint(_, d) => d,
        };
        let hash = BRec::hash(kind, key);
        let (arena, recs) = (&self.arena, &self.recs);
        let eq = |&r: &u32| {
            let b = &recs[r as usize];
            b.kind == kind && b.key(arena) == key
        };
        if let Some(&r) = self.index.find(hash, eq) {
            return Ok(r);
        }
        if self.recs.len() >= MAX_RECORDS || self.arena.len() + key.len() > u32::MAX as usize {
            return Err(Error::invalid(format!(
                "more than {MAX_RECORDS} distinct indicators or 4 GiB of values: split the set"
            )));
        }
        if is_pattern(kind, key) {
            // The bound every reader enforces on what a set makes it build.
            if self.pattern_bytes + key.len() as u64 > format::MAX_PATTERN_BYTES {
                return Err(Error::invalid(format!(
                    "URL-substring and HTTP-literal patterns over {} bytes (an automaton a \
                     sensor could not afford to build): split the set",
                    format::MAX_PATTERN_BYTES
                )));
            }
            self.pattern_bytes += key.len() as u64;
        }
        let r = self.recs.len() as u32;
        self.recs.push(BRec {
            kind,
            key_off: self.arena.len() as u32,
            key_len: key.len() as u32,
        });
        self.arena.extend_from_slice(key);
        let (arena, recs) = (&self.arena, &self.recs);
        self.index.insert_unique(hash, r, |&x| {
            BRec::hash(recs[x as usize].kind, recs[x as usize].key(arena))
        });
        Ok(r)
    }

    /// Why the compile options leave an item out (report reason, detail), if they do.
    fn filtered_out(&self, meta: &Meta) -> Option<(String, String)> {
        if meta.valid_until.is_some_and(|t| t <= self.opts.now) {
            return Some(("expired (valid_until in the past)".into(), String::new()));
        }
        let own = self.opts.source_limits.get(&meta.source);
        let min_score = self.opts.min_score.max(own.and_then(|l| l.min_score));
        if let (Some(min), Some(score)) = (min_score, meta.score) {
            if score < min {
                return Some((format!("score below {min}"), format!(" (score {score})")));
            }
        }
        let tlp_max = [self.opts.tlp_max, own.and_then(|l| l.tlp_max)]
            .into_iter()
            .flatten()
            .min();
        if let (Some(max), Some(tlp)) = (tlp_max, meta.tlp) {
            if tlp > max {
                return Some((format!("TLP above {max}"), format!(" (TLP {tlp})")));
            }
        }
        None
    }

    /// Adds one indicator (the [`Collector::accept`] path, with errors surfaced).
    pub fn add(&mut self, n: Normalized, meta: &Meta, at: &Location) -> Result<()> {
        let value = &n.value;
        if let Some((reason, detail)) = overlong_pattern(value) {
            return Err(Error::invalid(format!("{reason}: {detail}")));
        }
        if let Some((reason, detail)) = self.filtered_out(meta) {
            self.report
                .filtered
                .entry(reason)
                .or_default()
                .add(|| format!("{at} — {value}{detail}"));
            return Ok(());
        }
        if !self.exclusions.is_empty() {
            match self.exclusions.check(value) {
                Verdict::Keep => {}
                Verdict::Suppress(list) => {
                    self.report
                        .suppressed
                        .entry(list)
                        .or_default()
                        .add(|| format!("{at} — {value}"));
                    return Ok(());
                }
                Verdict::Carve(list) => {
                    self.any_carved = true;
                    self.report
                        .carved
                        .entry(list)
                        .or_default()
                        .add(|| format!("{at} — {value}"));
                }
            }
        }
        if n.host_bits_cleared {
            self.report
                .host_bits_cleared
                .add(|| format!("{at} — stored as {value}"));
        }
        let prov = self.intern_prov(meta);
        let rec = self.intern_value(value)?;
        self.pairs.push((rec, prov));
        self.accepted[value.kind() as usize - 1] += 1;
        Ok(())
    }

    /// Builds the set in memory.
    pub fn build(mut self) -> Result<(FileWriter, CompileReport)> {
        self.report.fold_accepted(&self.accepted);
        let before = self.pairs.len();
        // Pairs arrive mostly in record order: the adaptive stable sort merges the runs.
        self.pairs.sort();
        self.pairs.dedup();
        self.report.duplicates = (before - self.pairs.len()) as u64;
        self.report.merged = (self.pairs.len() - self.recs.len()) as u64;

        let mut prov_lists: Vec<u32> = Vec::new();
        let mut records: Vec<Record> = Vec::with_capacity(self.recs.len());
        let mut pairs = self.pairs.iter().peekable();
        let mut value_text = String::new();
        let mut ids: Vec<u32> = Vec::new();
        for (r, b) in self.recs.iter().enumerate() {
            ids.clear();
            let mut flags = 0u8;
            while let Some(&&(pr, p)) = pairs.peek() {
                if pr as usize != r {
                    break;
                }
                pairs.next();
                ids.push(p);
                let prov = &self.provs[p as usize];
                if prov.flags & PROV_EXACT == 0 && b.kind == Kind::Domain {
                    flags |= REC_SUBDOMAINS;
                }
                if prov.valid_from != i64::MIN || prov.valid_until != i64::MAX {
                    flags |= REC_TIMED;
                }
            }
            let provs_at = match ids[..] {
                [one] if one & format::PROVS_SINGLE == 0 => format::PROVS_SINGLE | one,
                _ => {
                    let at = prov_lists.len() as u32;
                    prov_lists.push(ids.len() as u32);
                    prov_lists.extend_from_slice(&ids);
                    at
                }
            };
            let key = b.key(&self.arena);
            let value: &[u8] = match b.kind {
                Kind::Ipv4 => {
                    value_text.clear();
                    write_v4_prefix(&mut value_text, key);
                    value_text.as_bytes()
                }
                Kind::Ipv6 => {
                    value_text.clear();
                    use std::fmt::Write as _;
                    let _ = write!(value_text, "{}", net_of(b.kind, key));
                    value_text.as_bytes()
                }
                _ => key,
            };
            if SectionId::table_for(b.kind).is_some() {
                // Key entry header: a probe verifies the key and learns the record in one read.
                let len = value.len().min(usize::from(u16::MAX)) as u16;
                self.pool.extend_from_slice(&(r as u32).to_le_bytes());
                self.pool.extend_from_slice(&len.to_le_bytes());
            }
            let value_off = self.pool.len() as u32;
            self.pool.extend_from_slice(value);
            if self.pool.len() > u32::MAX as usize {
                return Err(Error::invalid("string pool over 4 GiB: split the set"));
            }
            records.push(Record {
                value_off,
                value_len: value.len().min(u16::MAX as usize) as u16,
                kind: b.kind as u8,
                flags,
                provs: provs_at,
                parent: NONE,
            });
        }

        let mut w = FileWriter::new();
        let mut flags = 0;
        if records.iter().any(|r| r.flags & REC_TIMED != 0) {
            flags |= format::HEADER_TIMED;
        }
        if self.provs.iter().any(|p| p.flags & PROV_EXACT != 0) {
            flags |= format::HEADER_EXACT;
        }
        w.set_flags(flags);
        // The IPv4 and IPv6 interval tables and the hashed tables are independent: build them
        // on three threads (the slowest, IPv4, takes about as long as the other two together).
        let (ip_tables, hashed_tables) = std::thread::scope(|scope| {
            let v4 = scope.spawn(|| self.interval_table(false));
            let v6 = scope.spawn(|| self.interval_table(true));
            let hashed = self.hashed_tables(&records);
            let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            };
            ([join(v4), join(v6)], hashed)
        });
        for (table, parents) in ip_tables.into_iter().flatten() {
            for (rec, parent) in parents {
                records[rec as usize].parent = parent;
            }
            match table {
                IntervalTable::V4(t) => {
                    w.section(SectionId::V4L1, t.l1);
                    w.section(SectionId::V4Nodes, t.nodes);
                }
                IntervalTable::V6(t) => {
                    w.section(SectionId::V6L1, t.l1);
                    w.section(SectionId::V6Nodes, t.nodes);
                }
            }
        }
        for (id, slots) in hashed_tables {
            w.section(id, slots);
        }
        // Pattern lists for Aho-Corasick: HTTP literals, and URLs without a scheme (substring
        // literals such as `evil.example/gate.php`). URLs with a scheme are matched through the
        // hashed table (equal, or a prefix at a path or query boundary): an automaton over
        // millions of full URLs costs tens of seconds and gigabytes to build.
        for (kind, section) in [
            (Kind::Url, SectionId::UrlPatterns),
            (Kind::HttpRequest, SectionId::HttpPatterns),
        ] {
            let ids: Vec<u32> = (0..self.recs.len() as u32)
                .filter(|&r| {
                    let b = &self.recs[r as usize];
                    b.kind == kind && is_pattern(kind, b.key(&self.arena))
                })
                .collect();
            if !ids.is_empty() {
                w.section(section, ids);
            }
        }
        for b in &self.recs {
            *self.report.indicators.entry(b.kind.name()).or_default() += 1;
        }
        let source_refs: Vec<StrRef> = self
            .sources
            .clone()
            .iter()
            .map(|s| self.intern_str(s.as_bytes()))
            .collect();
        let mut per_source = vec![0u64; self.sources.len()];
        let mut seen = vec![u32::MAX; self.sources.len()];
        for &(r, p) in &self.pairs {
            let s = self.provs[p as usize].source as usize;
            if seen[s] != r {
                seen[s] = r;
                per_source[s] += 1;
            }
        }
        let meta = SetMeta {
            trawl_version: env!("CARGO_PKG_VERSION").to_string(),
            format_version: format::VERSION,
            build_time: self.opts.now,
            indicators: self
                .report
                .indicators
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            sources: self
                .sources
                .iter()
                .zip(per_source)
                .map(|(name, indicators)| SourceCount {
                    name: name.clone(),
                    indicators,
                })
                .collect(),
            inputs: self.report.inputs.clone(),
            options: format!(
                "min_score={} tlp_max={} cidr_equals_contains={}{}",
                self.opts.min_score.map_or("-".into(), |s| s.to_string()),
                self.opts.tlp_max.map_or("-", Tlp::name),
                self.opts.cidr_equals_contains,
                self.opts
                    .source_limits
                    .iter()
                    .map(|(source, l)| format!(
                        " {source}:min_score={},tlp_max={}",
                        l.min_score.map_or("-".into(), |s| s.to_string()),
                        l.tlp_max.map_or("-", Tlp::name),
                    ))
                    .collect::<String>()
            ),
            rejected: self.report.rejected_total(),
            suppressed: self.report.suppressed.values().map(|t| t.count).sum(),
            domain_tlds: Some(
                self.recs
                    .iter()
                    .filter(|b| b.kind == Kind::Domain)
                    .map(|b| {
                        let key = b.key(&self.arena);
                        let last = key.rsplit(|&c| c == b'.').next().unwrap_or(key);
                        String::from_utf8_lossy(last).into_owned()
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            ),
        };
        let meta_json = serde_json::to_vec(&meta).map_err(|e| Error::invalid(e.to_string()))?;
        w.section(SectionId::Meta, meta_json);
        w.section(SectionId::Records, records);
        w.section(SectionId::Provs, std::mem::take(&mut self.provs));
        w.section(SectionId::ProvLists, prov_lists);
        w.section(SectionId::Sources, source_refs);
        w.section(SectionId::Strings, std::mem::take(&mut self.pool));
        Ok((w, self.report))
    }

    /// The interval-table sections of one address family and each prefix's parent, or `None`
    /// when the set has no prefix of that family.
    fn interval_table(&self, v6: bool) -> Option<(IntervalTable, Vec<(u32, u32)>)> {
        let kind = if v6 { Kind::Ipv6 } else { Kind::Ipv4 };
        let prefixes: Vec<Prefix> = self
            .recs
            .iter()
            .enumerate()
            .filter(|(_, b)| b.kind == kind)
            .map(|(r, b)| {
                let key = b.key(&self.arena);
                let (first, last) = match net_of(kind, key) {
                    IpNet::V4(n) => (
                        u128::from(u32::from(n.network())),
                        u128::from(u32::from(n.broadcast())),
                    ),
                    IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
                };
                Prefix {
                    first,
                    last,
                    rec: r as u32,
                }
            })
            .collect();
        if prefixes.is_empty() {
            return None;
        }
        let max = if v6 { u128::MAX } else { u128::from(u32::MAX) };
        let (mut iv, parents) = Intervals::build(&prefixes, max);
        let parents = prefixes.iter().map(|p| p.rec).zip(parents).collect();
        if self.any_carved {
            iv = iv.carve(&self.exclusions.holes(v6), max);
        }
        let table = if v6 {
            IntervalTable::V6(V6Table::encode(&iv, cidr::l1_bits(iv.bounds.len(), 3)))
        } else {
            IntervalTable::V4(V4Table::encode(&iv, cidr::l1_bits(iv.bounds.len(), 0)))
        };
        Some((table, parents))
    }

    /// The hashed-table sections, one per exact kind present.
    fn hashed_tables(&self, records: &[Record]) -> Vec<(SectionId, Vec<u16>)> {
        let mut out = Vec::new();
        for kind in Kind::ALL {
            let Some(section) = SectionId::table_for(kind) else {
                continue;
            };
            let entries: Vec<(u64, u32)> = self
                .recs
                .iter()
                .enumerate()
                .filter(|(_, b)| b.kind == kind)
                .map(|(r, b)| {
                    let key = b.key(&self.arena);
                    let entry = records[r].value_off - format::ENTRY_HEADER as u32;
                    (format::key_hash(kind.is_digest(), key), entry)
                })
                .collect();
            if !entries.is_empty() {
                out.push((section, hashed::build(&entries).into_words()));
            }
        }
        out
    }

    /// Builds the set and writes it atomically to `path` (temp file, fsync, rename, fsync dir):
    /// readers of the old file never see a partial one.
    pub fn write(self, path: &Path) -> Result<CompileReport> {
        let build_time = self.opts.now;
        let (w, report) = self.build()?;
        write_atomic(path, Access::Shared, |file| {
            w.write_to(BufWriter::new(file), build_time)
        })?;
        Ok(report)
    }
}

/// Writes an IPv4 prefix key (4 address bytes, prefix length) as `a.b.c.d/n`; several times
/// faster than `Display` on the millions of prefixes of a large compile.
fn write_v4_prefix(out: &mut String, key: &[u8]) {
    fn num(out: &mut String, v: u8) {
        if v >= 100 {
            out.push(char::from(b'0' + v / 100));
        }
        if v >= 10 {
            out.push(char::from(b'0' + v / 10 % 10));
        }
        out.push(char::from(b'0' + v % 10));
    }
    for (i, &b) in key[..4].iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        num(out, b);
    }
    out.push('/');
    num(out, key[4]);
}

fn net_of(kind: Kind, key: &[u8]) -> IpNet {
    if kind == Kind::Ipv4 {
        let a: [u8; 4] = key[..4].try_into().unwrap_or_default();
        IpNet::V4(ipnet::Ipv4Net::new(a.into(), key[4]).unwrap_or_default())
    } else {
        let a: [u8; 16] = key[..16].try_into().unwrap_or_default();
        IpNet::V6(ipnet::Ipv6Net::new(a.into(), key[16]).unwrap_or_default())
    }
}

impl Collector for SetBuilder {
    fn accept(&mut self, indicator: Normalized, meta: &Meta, at: &Location) {
        if let Some((reason, detail)) = overlong_pattern(&indicator.value) {
            self.reject(at.clone(), reason, &detail);
            return;
        }
        if let Err(e) = self.add(indicator, meta, at) {
            self.reject(at.clone(), "set limit reached", &e.to_string());
        }
    }
    fn reject(&mut self, at: Location, reason: &str, detail: &str) {
        self.report
            .rejected
            .entry(reason.to_string())
            .or_default()
            .add(|| format!("{at} — {detail}"));
    }
    fn unsupported(&mut self, at: Location, reason: &str, detail: &str) {
        self.report
            .unsupported
            .entry(reason.to_string())
            .or_default()
            .add(|| format!("{at} — {detail}"));
    }
    fn dropped(&mut self, at: Location, reason: &str) {
        self.report
            .dropped
            .entry(reason.to_string())
            .or_default()
            .add(|| at.to_string());
    }
}
