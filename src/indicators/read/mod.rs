//! Reading a compiled set: [`IndicatorSet`] answers lookups straight from the file's bytes.
//!
//! * [`IndicatorSet<D>`] — generic over where the bytes live (`Mmap` in production via
//!   [`IndicatorSet::open`], a `Vec` or [`AlignedBytes`] in tests). Opening checks the header and
//!   every section's bounds only; [`IndicatorSet::verify`] checks the digest and every index.
//! * [`Match`] — a small `Copy` value naming a record; [`IndicatorSet::indicator`] resolves it
//!   to an [`IndicatorRef`] with the value and every [`Provenance`].
//! * Lookups: [`IndicatorSet::match_ip`] (most specific prefix), [`IndicatorSet::match_ips`]
//!   (batched, prefetching), [`IndicatorSet::match_domain`] (with the subdomain rule),
//!   [`IndicatorSet::match_email`], [`IndicatorSet::match_hash`], [`IndicatorSet::match_url`]
//!   (equal, boundary prefix, or schemeless fragment inside), [`IndicatorSet::match_http`], `logs::text::scan_text`.
//!
//! Expired and not-yet-valid provenance never produces a hit: a CIDR whose record is inactive
//! falls back to its parent prefix, a domain to its parent names.

pub(crate) mod lookup;
mod patterns;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use bytemuck::Pod;
use memmap2::Mmap;

use crate::indicators::error::{Error, Result};
use crate::indicators::format::{
    self, BUCKET_SLOTS, Layout, MAX_L1_BITS, MIN_L1_BITS, NONE, PROV_EXACT, Prov, REC_SUBDOMAINS,
    REC_TIMED, Record, SCORE_UNKNOWN, SLOT_BYTES, SectionId, StrRef,
};
pub(crate) use crate::indicators::format::{MAX_PATTERN_BYTES, SetMeta};
use crate::indicators::model::{Kind, Tlp, unix_now, write_hex};
use crate::indicators::normalize;

use crate::indicators::map_guard::MapGuard;
use lookup::{Table, V4, V6};
use patterns::Patterns;

/// What [`IndicatorSet::prepare`] built.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prepared {
    /// Time the URL-substring automaton took to build.
    pub url_build: Duration,
    /// Time the HTTP-literal automaton took to build.
    pub http_build: Duration,
    /// Heap bytes both automata hold.
    pub memory: usize,
}

/// A match: which indicator, of which kind, and where in the scanned input (for
/// `logs::text::scan_text`; the whole input for direct lookups).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Match {
    /// Record index; resolve with [`IndicatorSet::indicator`].
    pub indicator: u32,
    /// The indicator's kind.
    pub kind: Kind,
    /// Start of the matched bytes in the input.
    pub start: u32,
    /// End (exclusive) of the matched bytes in the input.
    pub end: u32,
}

/// Bytes with 8-byte alignment, for sets loaded from a byte buffer.
#[derive(Clone, Debug)]
pub struct AlignedBytes {
    words: Vec<u64>,
    len: usize,
}

impl AlignedBytes {
    /// Copies `bytes` into an aligned buffer.
    pub fn copy_from(bytes: &[u8]) -> AlignedBytes {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..bytes.len()].copy_from_slice(bytes);
        AlignedBytes {
            words,
            len: bytes.len(),
        }
    }
}

impl AsRef<[u8]> for AlignedBytes {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.len]
    }
}

/// Section byte ranges, resolved once at open.
#[derive(Clone, Debug, Default)]
struct Sections {
    meta: Range<usize>,
    strings: Range<usize>,
    records: Range<usize>,
    provs: Range<usize>,
    prov_lists: Range<usize>,
    sources: Range<usize>,
    v4: [Range<usize>; 2],
    v4_shift: u32,
    v6: [Range<usize>; 2],
    v6_shift: u32,
    /// Per hashed table: the whole section, its tags and its entry offsets.
    tables: [[Range<usize>; 3]; TABLE_KINDS.len()],
    url_patterns: Range<usize>,
    http_patterns: Range<usize>,
}

const TABLE_KINDS: [Kind; 14] = [
    Kind::Domain,
    Kind::Email,
    Kind::Url,
    Kind::Md5,
    Kind::Sha1,
    Kind::Sha256,
    Kind::Sha512,
    Kind::X509Md5,
    Kind::X509Sha1,
    Kind::X509Sha256,
    Kind::Ja3,
    Kind::Ja3s,
    Kind::Ja4,
    Kind::Ja4s,
];

#[inline]
fn table_index(kind: Kind) -> Option<usize> {
    match kind {
        Kind::Domain => Some(0),
        Kind::Email => Some(1),
        Kind::Url => Some(2),
        Kind::Md5 => Some(3),
        Kind::Sha1 => Some(4),
        Kind::Sha256 => Some(5),
        Kind::Sha512 => Some(6),
        Kind::X509Md5 => Some(7),
        Kind::X509Sha1 => Some(8),
        Kind::X509Sha256 => Some(9),
        Kind::Ja3 => Some(10),
        Kind::Ja3s => Some(11),
        Kind::Ja4 => Some(12),
        Kind::Ja4s => Some(13),
        Kind::Ipv4 | Kind::Ipv6 | Kind::HttpRequest => None,
    }
}

/// A compiled indicator set, read in place.
pub struct IndicatorSet<D> {
    /// For a mapped file: keeps a truncation of the file from killing the process (see
    /// [`crate::indicators::map_guard`]). Declared before `data` so that it is dropped first, as its
    /// contract requires.
    guard: Option<MapGuard>,
    data: D,
    sec: Sections,
    build_time: i64,
    timed: bool,
    exact: bool,
    clock: Option<i64>,
    url_patterns: OnceLock<Patterns>,
    http_patterns: OnceLock<Patterns>,
    /// The last labels of the domain indicators, from META on first use; `None` when the set
    /// does not record them (built by an older trawl) or META cannot be read.
    domain_tlds: OnceLock<Option<hashbrown::HashSet<Box<[u8]>>>>,
}

impl<D> fmt::Debug for IndicatorSet<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorSet")
            .field("build_time", &self.build_time)
            .field("records", &(self.sec.records.len() / size_of::<Record>()))
            .finish()
    }
}

impl IndicatorSet<Mmap> {
    /// Maps a set file and checks its header and section bounds (no full read: opening costs
    /// the same at any size). Use [`IndicatorSet::verify`] for the full check, and
    /// [`IndicatorSet::pattern_totals`] or [`IndicatorSet::prepare`] to check the pattern
    /// lists' bounds before a first lookup would build from them.
    pub fn open(path: impl AsRef<Path>) -> Result<IndicatorSet<Mmap>> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is only read. trawl never modifies a set file in place: a new set is
        // renamed over the old one, so this mapping keeps seeing the old inode. Another process
        // may still truncate or rewrite the file in place (`cp new.tset intel.tset`): the
        // guard below turns the fault that follows into zero pages (see `map_guard`), every
        // reader of the bytes is safe on arbitrary contents, and `is_damaged` tells the engine
        // to reload.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Random);
        // SAFETY: the guard goes into the set's `guard` field, which is dropped before its
        // `data` (this map), also when the checks below fail.
        let guard = unsafe { MapGuard::new(&map) };
        IndicatorSet::checked(map, Some(guard)).map_err(|e| match e.is_bad_set() {
            true => Error::invalid(format!("{}: {e}", path.display())),
            false => e,
        })
    }
}

impl<D: AsRef<[u8]>> IndicatorSet<D> {
    /// Reads a set from bytes (8-byte aligned; see [`AlignedBytes`]). Checks the header and
    /// every section's bounds, alignment and shape; costs O(sections).
    pub fn from_bytes(data: D) -> Result<IndicatorSet<D>> {
        IndicatorSet::checked(data, None)
    }

    /// [`IndicatorSet::from_bytes`], with the guard of a mapping. The set is assembled before
    /// the checks, so that on failure the guard is dropped before the data, as for a set.
    fn checked(data: D, guard: Option<MapGuard>) -> Result<IndicatorSet<D>> {
        let mut set = IndicatorSet {
            guard,
            data,
            sec: Sections::default(),
            build_time: 0,
            timed: false,
            exact: false,
            clock: None,
            url_patterns: OnceLock::new(),
            domain_tlds: OnceLock::new(),
            http_patterns: OnceLock::new(),
        };
        let header = set.read_sections()?;
        set.build_time = header.build_time;
        set.timed = header.flags & format::HEADER_TIMED != 0;
        set.exact = header.flags & format::HEADER_EXACT != 0;
        // O(sections): no list can name more patterns than there are records (each at most
        // once). The full bounds are O(patterns), a cache miss each: checked by `verify`,
        // `pattern_totals` and before every automaton build instead, so opening stays
        // independent of size.
        let records = set.sec.records.len() / size_of::<Record>();
        for (kind, list) in [
            (Kind::Url, &set.sec.url_patterns),
            (Kind::HttpRequest, &set.sec.http_patterns),
        ] {
            if list.len() / 4 > records {
                return Err(Error::bad_set(format!(
                    "{kind} pattern list: {} entries for {records} records",
                    list.len() / 4
                )));
            }
        }
        Ok(set)
    }

    /// Resolves the section ranges into `self.sec`; returns the header.
    fn read_sections(&mut self) -> Result<format::Header> {
        let bytes = self.data.as_ref();
        if bytes.as_ptr() as usize % 8 != 0 {
            return Err(Error::invalid(
                "set bytes are not 8-byte aligned (load them through AlignedBytes)",
            ));
        }
        let layout = Layout::parse(bytes)?;
        let r = |id| layout.range(id);
        let mut sec = Sections {
            meta: r(SectionId::Meta),
            strings: r(SectionId::Strings),
            records: r(SectionId::Records),
            provs: r(SectionId::Provs),
            prov_lists: r(SectionId::ProvLists),
            sources: r(SectionId::Sources),
            v4: [r(SectionId::V4L1), r(SectionId::V4Nodes)],
            v4_shift: 0,
            v6: [r(SectionId::V6L1), r(SectionId::V6Nodes)],
            v6_shift: 0,
            tables: TABLE_KINDS.map(|k| {
                let whole = SectionId::table_for(k).map_or(0..0, r);
                // Tags first (2 bytes per slot), then entry offsets (4 bytes per slot).
                let tags_end = whole.start + whole.len() / SLOT_BYTES * 2;
                [whole.clone(), whole.start..tags_end, tags_end..whole.end]
            }),
            url_patterns: r(SectionId::UrlPatterns),
            http_patterns: r(SectionId::HttpPatterns),
        };
        if sec.meta.is_empty() {
            return Err(Error::bad_set("the META section is missing"));
        }
        let l1_bits = |bytes: usize, what: &str| -> Result<u32> {
            let entries = bytes / 4;
            let bits = entries.trailing_zeros();
            if !entries.is_power_of_two() || !(MIN_L1_BITS..=MAX_L1_BITS).contains(&bits) {
                return Err(Error::bad_set(format!(
                    "{what} first level has a malformed size"
                )));
            }
            Ok(bits)
        };
        if !sec.v4[0].is_empty() {
            sec.v4_shift = 32 - l1_bits(sec.v4[0].len(), "IPv4")?;
        } else if !sec.v4[1].is_empty() {
            return Err(Error::bad_set("IPv4 nodes without a first level"));
        }
        if !sec.v6[0].is_empty() {
            sec.v6_shift = 128 - l1_bits(sec.v6[0].len(), "IPv6")?;
        } else if !sec.v6[1].is_empty() {
            return Err(Error::bad_set("IPv6 nodes without a first level"));
        }
        for (k, [t, _, _]) in TABLE_KINDS.iter().zip(&sec.tables) {
            let buckets = t.len() / (BUCKET_SLOTS * SLOT_BYTES);
            if t.len() % (BUCKET_SLOTS * SLOT_BYTES) != 0
                || (buckets != 0 && !buckets.is_power_of_two())
            {
                return Err(Error::bad_set(format!(
                    "the {k} table has a malformed size"
                )));
            }
        }
        self.sec = sec;
        Ok(layout.header)
    }

    /// Fixes "now" for validity checks (Unix seconds), e.g. the capture time of a pcap being
    /// replayed, or a test. `None` (the default) reads the system clock when a record has a
    /// validity window.
    pub fn set_clock(&mut self, now: Option<i64>) {
        self.clock = now;
    }

    #[inline]
    fn slice<T: Pod>(&self, r: &Range<usize>) -> &[T] {
        self.data
            .as_ref()
            .get(r.clone())
            .and_then(|b| bytemuck::try_cast_slice(b).ok())
            .unwrap_or(&[])
    }

    #[inline]
    fn records(&self) -> &[Record] {
        self.slice(&self.sec.records)
    }

    #[inline]
    fn strings(&self) -> &[u8] {
        self.slice(&self.sec.strings)
    }

    fn v4(&self) -> V4<'_> {
        V4 {
            l1: self.slice(&self.sec.v4[0]),
            nodes: self.slice(&self.sec.v4[1]),
            shift: self.sec.v4_shift,
        }
    }

    fn v6(&self) -> V6<'_> {
        V6 {
            l1: self.slice(&self.sec.v6[0]),
            nodes: self.slice(&self.sec.v6[1]),
            shift: self.sec.v6_shift,
        }
    }

    #[inline]
    fn table(&self, kind: Kind) -> Table<'_> {
        let Some([_, tags, entries]) = table_index(kind).map(|i| &self.sec.tables[i]) else {
            return Table::default();
        };
        Table {
            tags: self.slice(tags),
            entries: self.slice(entries),
        }
    }

    /// Number of distinct indicators.
    pub fn len(&self) -> usize {
        self.records().len()
    }

    /// Whether the set holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the set may hold indicators of `kind` (its index for the kind is not empty), so
    /// that scanners can skip looking up values of kinds the set does not have.
    pub fn has_kind(&self, kind: Kind) -> bool {
        match kind {
            Kind::Ipv4 => self.sec.v4.iter().any(|r| !r.is_empty()),
            Kind::Ipv6 => self.sec.v6.iter().any(|r| !r.is_empty()),
            Kind::Url => !self.table(kind).is_empty() || !self.sec.url_patterns.is_empty(),
            Kind::HttpRequest => !self.sec.http_patterns.is_empty(),
            _ => !self.table(kind).is_empty(),
        }
    }

    /// When the set was built, Unix seconds.
    pub fn build_time(&self) -> i64 {
        self.build_time
    }

    /// The set's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.data.as_ref()
    }

    /// The build information stored in the set.
    pub fn meta(&self) -> Result<SetMeta> {
        serde_json::from_slice(self.slice::<u8>(&self.sec.meta))
            .map_err(|e| Error::bad_set(format!("META section: {e}")))
    }

    /// Whether a canonical name (lowercase, no trailing dot) can match a domain indicator at
    /// all, judged by its last label alone: `false` when no domain indicator of the set ends
    /// in that label (`index.html`, `style.css` against a set without `.html` or `.css`
    /// names). Cheap — a small hash set, read from META on first use — so scanners call it
    /// before the table lookups; always `true` for sets that do not record their labels.
    pub fn may_match_domain(&self, name: &[u8]) -> bool {
        let tlds = self.domain_tlds.get_or_init(|| {
            let tlds = self.meta().ok()?.domain_tlds?;
            Some(
                tlds.into_iter()
                    .map(|t| t.into_bytes().into_boxed_slice())
                    .collect(),
            )
        });
        match tlds {
            Some(t) => t.contains(name.rsplit(|&c| c == b'.').next().unwrap_or(name)),
            None => true,
        }
    }

    /// Bytes per section, for `trawl info`.
    pub fn section_sizes(&self) -> Vec<(&'static str, usize)> {
        let s = &self.sec;
        let mut v = vec![
            ("meta", s.meta.len()),
            ("strings", s.strings.len()),
            ("records", s.records.len()),
            (
                "provenance",
                s.provs.len() + s.prov_lists.len() + s.sources.len(),
            ),
            ("ipv4 intervals", s.v4.iter().map(Range::len).sum()),
            ("ipv6 intervals", s.v6.iter().map(Range::len).sum()),
        ];
        for (k, [t, _, _]) in TABLE_KINDS.iter().zip(&s.tables) {
            v.push((table_name(*k), t.len()));
        }
        v.push((
            "pattern lists",
            s.url_patterns.len() + s.http_patterns.len(),
        ));
        v
    }

    /// Whether the file this set was opened from has been truncated or rewritten in place
    /// since (see `crate::indicators::map_guard`): its bytes are no longer the set's, so it answers no
    /// lookup and must be reloaded. Always `false` for a set read from bytes.
    pub fn is_damaged(&self) -> bool {
        !self.intact()
    }

    /// Flags the set as damaged: its file was found rewritten in place (same inode, new size
    /// or time) before any read faulted. From then on it answers no lookup.
    pub(crate) fn mark_damaged(&self) {
        if let Some(g) = &self.guard {
            g.mark_damaged();
        }
    }

    /// Not damaged. Checked where a lookup has found something (rare), not per lookup.
    #[inline]
    fn intact(&self) -> bool {
        self.guard.as_ref().is_none_or(|g| !g.is_damaged())
    }

    /// The indicator a hit names (`None` once the set is damaged).
    pub fn indicator(&self, id: u32) -> Option<IndicatorRef<'_>> {
        if !self.intact() {
            return None;
        }
        let rec = *self.records().get(id as usize)?;
        Some(IndicatorRef {
            id,
            rec,
            strings: self.strings(),
            provs: self.slice(&self.sec.provs),
            lists: self.slice(&self.sec.prov_lists),
            sources: self.slice(&self.sec.sources),
        })
    }

    /// The time validity windows are judged at, Unix seconds: the clock given to
    /// [`IndicatorSet::set_clock`], else the current time.
    pub fn now(&self) -> i64 {
        self.clock.unwrap_or_else(unix_now)
    }

    /// Whether a record has active provenance now; with `subdomain`, only provenance that
    /// allows subdomain matches counts.
    fn active(&self, rec: &Record, subdomain: bool) -> bool {
        if rec.flags & REC_TIMED == 0 && !subdomain {
            return true;
        }
        if subdomain && rec.flags & REC_SUBDOMAINS == 0 {
            return false;
        }
        let now = if rec.flags & REC_TIMED != 0 {
            self.now()
        } else {
            0
        };
        let provs: &[Prov] = self.slice(&self.sec.provs);
        let lists: &[u32] = self.slice(&self.sec.prov_lists);
        format::prov_ids(rec.provs, lists)
            .filter_map(|p| provs.get(p as usize))
            .any(|p| {
                (!subdomain || p.flags & PROV_EXACT == 0)
                    && (rec.flags & REC_TIMED == 0 || (p.valid_from <= now && now < p.valid_until))
            })
    }

    /// Whether record `r` of `kind` answers a lookup (a `subdomain` match for domains). Reads
    /// the record only when the set has validity windows or exact-only domains to check.
    #[inline]
    fn answers(&self, r: u32, kind: Kind, subdomain: bool) -> bool {
        if !self.intact() {
            return false;
        }
        let records = self.records();
        let must_check = self.timed || (subdomain && self.exact);
        if !must_check {
            return (r as usize) < records.len();
        }
        records
            .get(r as usize)
            .is_some_and(|rec| rec.kind == kind as u8 && self.active(rec, subdomain))
    }

    /// Follows parent links from a CIDR record to the first active one.
    fn resolve_cidr(&self, mut rec_id: u32) -> Option<u32> {
        if !self.intact() {
            return None;
        }
        let records = self.records();
        if !self.timed {
            // Every record is always active: answer without touching the record.
            return ((rec_id as usize) < records.len()).then_some(rec_id);
        }
        for _ in 0..=129 {
            let rec = records.get(rec_id as usize)?;
            if self.active(rec, false) {
                return Some(rec_id);
            }
            rec_id = rec.parent;
        }
        None
    }

    fn ip_hit(&self, rec: u32, kind: Kind) -> Option<Match> {
        if rec == NONE {
            return None;
        }
        self.resolve_cidr(rec).map(|indicator| Match {
            indicator,
            kind,
            start: 0,
            end: 0,
        })
    }

    /// The most specific active prefix containing `ip` (IPv4-mapped IPv6 is looked up as IPv4).
    #[inline]
    pub fn match_ip(&self, ip: IpAddr) -> Option<Match> {
        match normalize::unmap_addr(ip) {
            IpAddr::V4(a) => self.match_ipv4(a),
            IpAddr::V6(a) => self.match_ipv6(a),
        }
    }

    /// [`IndicatorSet::match_ip`] for an IPv4 address.
    #[inline]
    pub fn match_ipv4(&self, ip: Ipv4Addr) -> Option<Match> {
        self.ip_hit(self.v4().lookup(u32::from(ip)), Kind::Ipv4)
    }

    /// [`IndicatorSet::match_ip`] for an IPv6 address (not unmapped).
    #[inline]
    pub fn match_ipv6(&self, ip: Ipv6Addr) -> Option<Match> {
        self.ip_hit(self.v6().lookup(u128::from(ip)), Kind::Ipv6)
    }

    /// Batched [`IndicatorSet::match_ip`]: `out[i]` answers `ips[i]` (`out` is resized). Cache
    /// misses of neighbouring lookups overlap; use it on packet and log paths.
    pub fn match_ips(&self, ips: &[IpAddr], out: &mut Vec<Option<Match>>) {
        out.clear();
        out.resize(ips.len(), None);
        const BLOCK: usize = 256;
        let mut v4_addrs = [0u32; BLOCK];
        let mut v4_at = [0usize; BLOCK];
        let mut v4_recs = [0u32; BLOCK];
        for (block, outs) in ips.chunks(BLOCK).zip(out.chunks_mut(BLOCK)) {
            let mut n4 = 0;
            for (i, ip) in block.iter().enumerate() {
                match normalize::unmap_addr(*ip) {
                    IpAddr::V4(a) => {
                        v4_addrs[n4] = u32::from(a);
                        v4_at[n4] = i;
                        n4 += 1;
                    }
                    IpAddr::V6(a) => outs[i] = self.match_ipv6(a),
                }
            }
            self.v4().lookup_batch(&v4_addrs[..n4], &mut v4_recs[..n4]);
            for j in 0..n4 {
                outs[v4_at[j]] = self.ip_hit(v4_recs[j], Kind::Ipv4);
            }
        }
    }

    /// The IPv4 address space the set matches now, in address order: `(first, last,
    /// indicator)` for every interval where [`IndicatorSet::match_ipv4`] answers `indicator`
    /// (warninglist holes and expired prefixes resolved as lookups resolve them). Adjacent
    /// intervals may share an indicator. For exports.
    pub fn ipv4_ranges(&self) -> impl Iterator<Item = (Ipv4Addr, Ipv4Addr, u32)> + '_ {
        self.v4().ranges().filter_map(|(a, b, r)| {
            let r = if r == NONE {
                None
            } else {
                self.resolve_cidr(r)
            }?;
            Some((Ipv4Addr::from(a), Ipv4Addr::from(b), r))
        })
    }

    /// [`IndicatorSet::ipv4_ranges`] for IPv6.
    pub fn ipv6_ranges(&self) -> impl Iterator<Item = (Ipv6Addr, Ipv6Addr, u32)> + '_ {
        self.v6().ranges().filter_map(|(a, b, r)| {
            let r = if r == NONE {
                None
            } else {
                self.resolve_cidr(r)
            }?;
            Some((Ipv6Addr::from(a), Ipv6Addr::from(b), r))
        })
    }

    /// Raw batched IPv4 interval lookup: `out[i]` is the most specific record containing
    /// `addrs[i]` or `u32::MAX`, without the validity check (benchmarks; callers that check
    /// validity themselves via [`IndicatorSet::match_ipv4`]).
    pub fn lookup_ipv4_raw(&self, addrs: &[u32], out: &mut [u32]) {
        self.v4().lookup_batch(addrs, out);
    }

    /// Raw batched IPv6 interval lookup, like [`IndicatorSet::lookup_ipv4_raw`].
    pub fn lookup_ipv6_raw(&self, addrs: &[u128], out: &mut [u32]) {
        self.v6().lookup_batch(addrs, out);
    }

    /// Probes a hashed table for an exact key (canonical bytes).
    #[inline]
    fn probe(&self, kind: Kind, key: &[u8]) -> Option<u32> {
        let strings = self.strings();
        let hash = format::key_hash(kind.is_digest(), key);
        self.table(kind)
            .probe(hash, |e| Self::entry_is(strings, e, key))
    }

    fn exact_hit(&self, kind: Kind, key: &[u8], len: usize) -> Option<Match> {
        let r = self.probe(kind, key)?;
        self.answers(r, kind, false).then_some(Match {
            indicator: r,
            kind,
            start: 0,
            end: len as u32,
        })
    }

    /// The most specific active domain indicator equal to `name` or, by the subdomain rule, a
    /// parent of it. `name` may be in any case, with a trailing dot, or Unicode (IDNA-encoded
    /// here).
    pub fn match_domain(&self, name: &str) -> Option<Match> {
        let mut buf = [0u8; 256];
        let owned;
        let canon: &[u8] = match canonical_name(name.as_bytes(), &mut buf) {
            Some(c) => c,
            None if !name.is_ascii() => {
                owned = normalize::domain(name).ok()?;
                owned.as_bytes()
            }
            None => return None,
        };
        self.match_canonical_domain(canon, name.len())
    }

    /// [`IndicatorSet::match_domain`] for a name already lowercase ASCII without trailing dot;
    /// `span` is the length of the input it came from.
    pub(crate) fn match_canonical_domain(&self, name: &[u8], span: usize) -> Option<Match> {
        let table = self.table(Kind::Domain);
        if table.is_empty() {
            return None;
        }
        let mut suffixes = Suffixes::EMPTY;
        suffixes.fill(name, &table);
        self.probe_suffixes(&table, name, &suffixes, span)
    }

    /// Batched [`IndicatorSet::match_domain`], software-pipelined in three stages `D` names
    /// apart: canonicalise a name, hash its suffixes and prefetch their tags; prefetch the
    /// entry offsets of tag matches; prefetch the key entries; then probe. `out[i]` answers
    /// `names[i]`. Names may be `&str` or bytes (a non-UTF-8 name never matches).
    pub fn match_domains<S: AsRef<[u8]>>(&self, names: &[S], out: &mut Vec<Option<Match>>) {
        const D: usize = 4;
        const RING: usize = 4 * D;
        out.clear();
        out.resize(names.len(), None);
        let table = self.table(Kind::Domain);
        if table.is_empty() {
            return;
        }
        let strings = self.strings();
        let mut bufs = [[0u8; 256]; RING];
        let mut lens = [None::<usize>; RING];
        let mut suffixes = [Suffixes::EMPTY; RING];
        for i in 0..names.len() + 3 * D {
            if let Some(j) = i.checked_sub(3 * D).filter(|&j| j < names.len()) {
                let slot = j % RING;
                out[j] = match lens[slot] {
                    Some(len) => self.probe_suffixes(
                        &table,
                        &bufs[slot][..len],
                        &suffixes[slot],
                        names[j].as_ref().len(),
                    ),
                    None => std::str::from_utf8(names[j].as_ref())
                        .ok()
                        .and_then(|n| self.match_domain(n)),
                };
            }
            if let Some(j) = i.checked_sub(2 * D).filter(|&j| j < names.len()) {
                for &h in suffixes[j % RING].prehashed() {
                    table.prefetch_entry(h, strings);
                }
            }
            if let Some(j) = i.checked_sub(D).filter(|&j| j < names.len()) {
                for &h in suffixes[j % RING].prehashed() {
                    table.prefetch_slot(h);
                }
            }
            if let Some(name) = names.get(i) {
                let slot = i % RING;
                let len = canonical_name(name.as_ref(), &mut bufs[slot]).map(<[u8]>::len);
                suffixes[slot].n = 0;
                if let Some(len) = len {
                    suffixes[slot].fill(&bufs[slot][..len], &table);
                }
                lens[slot] = len;
            }
        }
    }

    /// The record of the key entry at `entry` if its key is exactly `key`.
    #[inline]
    fn entry_is(strings: &[u8], entry: u32, key: &[u8]) -> Option<u32> {
        format::entry_at(strings, entry).and_then(|(rec, k)| (k == key).then_some(rec))
    }

    fn probe_suffixes(
        &self,
        table: &Table<'_>,
        name: &[u8],
        sfx: &Suffixes,
        span: usize,
    ) -> Option<Match> {
        let strings = self.strings();
        for i in 0..sfx.n {
            let key = &name[usize::from(sfx.starts[i])..];
            let found = table.probe(sfx.hash(name, i), |e| Self::entry_is(strings, e, key));
            if let Some(r) = found {
                if self.answers(r, Kind::Domain, i > 0) {
                    return Some(Match {
                        indicator: r,
                        kind: Kind::Domain,
                        start: 0,
                        end: span as u32,
                    });
                }
            }
        }
        None
    }

    /// An email address indicator equal to `addr` (compared lowercased).
    pub fn match_email(&self, addr: &str) -> Option<Match> {
        let mut buf = [0u8; 320];
        let bytes = addr.trim().as_bytes();
        let key = match buf.get_mut(..bytes.len()) {
            Some(b) if addr.is_ascii() => {
                b.copy_from_slice(bytes);
                b.make_ascii_lowercase();
                &*b
            }
            _ => {
                let canon = normalize::email(addr).ok()?;
                return self.exact_hit(Kind::Email, canon.as_bytes(), addr.len());
            }
        };
        self.exact_hit(Kind::Email, key, addr.len())
    }

    /// A hash indicator equal to a raw digest (16, 20, 32 or 64 bytes).
    #[inline]
    pub fn match_hash(&self, digest: &[u8]) -> Option<Match> {
        let kind = Kind::hash_for_len(digest.len())?;
        self.exact_hit(kind, digest, digest.len())
    }

    /// A hash indicator equal to a hex digest (either case).
    pub fn match_hash_hex(&self, hex: &[u8]) -> Option<Match> {
        let mut raw = [0u8; 64];
        if hex.len() % 2 != 0 || hex.len() > 128 {
            return None;
        }
        for (o, pair) in raw.iter_mut().zip(hex.chunks_exact(2)) {
            *o = normalize::hex_val(pair[0])? << 4 | normalize::hex_val(pair[1])?;
        }
        let mut hit = self.match_hash(&raw[..hex.len() / 2])?;
        hit.end = hex.len() as u32;
        Some(hit)
    }

    /// A certificate or TLS fingerprint indicator of `kind` (one of [`Kind::FINGERPRINTS`])
    /// equal to `value`: the raw digest for x509-* / JA3 / JA3S, the fingerprint text as
    /// computed for JA4 / JA4S. Any other kind answers `None`.
    #[inline]
    pub fn match_fingerprint(&self, kind: Kind, value: &[u8]) -> Option<Match> {
        if !Kind::FINGERPRINTS.contains(&kind)
            || kind.digest_len().is_some_and(|n| n != value.len())
        {
            return None;
        }
        self.exact_hit(kind, value, value.len())
    }

    /// A fingerprint indicator of `kind` equal to `text` as logs and feeds write it: hex in
    /// either case, with or without colons, for digest kinds; JA4/JA4S text (hex parts in
    /// either case). `Match::end` is the length of `text`.
    pub fn match_fingerprint_text(&self, kind: Kind, text: &str) -> Option<Match> {
        let key = normalize::fingerprint(kind, text).ok()?;
        let mut hit = self.match_fingerprint(kind, &key)?;
        hit.end = text.len() as u32;
        Some(hit)
    }

    /// Batched [`IndicatorSet::match_hash`], software-pipelined in three stages `D` digests
    /// apart: prefetch the home bucket's tags; on a tag match prefetch the entry offset; then
    /// prefetch the key entry; then answer. A miss (the common case) touches only tags.
    /// `out[i]` answers `digests[i]`.
    pub fn match_hashes(&self, digests: &[&[u8]], out: &mut Vec<Option<Match>>) {
        const D: usize = 8;
        out.clear();
        out.resize(digests.len(), None);
        let strings = self.strings();
        let tables = [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512].map(|k| self.table(k));
        let table = |d: &[u8]| match d.len() {
            16 => Some(&tables[0]),
            20 => Some(&tables[1]),
            32 => Some(&tables[2]),
            64 => Some(&tables[3]),
            _ => None,
        };
        let stage = |i: usize, ahead: usize| i.checked_sub(ahead).and_then(|j| digests.get(j));
        for i in 0..digests.len() + 3 * D {
            if let Some(d) = stage(i, 0) {
                if let Some(t) = table(d) {
                    t.prefetch(format::key_hash(true, d));
                }
            }
            if let Some(d) = stage(i, D) {
                if let Some(t) = table(d) {
                    t.prefetch_slot(format::key_hash(true, d));
                }
            }
            if let Some(d) = stage(i, 2 * D) {
                if let Some(t) = table(d) {
                    t.prefetch_entry(format::key_hash(true, d), strings);
                }
            }
            if i >= 3 * D {
                let d = digests[i - 3 * D];
                out[i - 3 * D] = table(d).and_then(|t| {
                    let r =
                        t.probe(format::key_hash(true, d), |e| Self::entry_is(strings, e, d))?;
                    let kind = Kind::hash_for_len(d.len())?;
                    self.answers(r, kind, false).then_some(Match {
                        indicator: r,
                        kind,
                        start: 0,
                        end: d.len() as u32,
                    })
                });
            }
        }
    }

    /// A URL indicator equal to `url` after canonicalisation (hash table only; no substring
    /// search).
    pub fn match_url_exact(&self, url: &str) -> Option<Match> {
        with_canonical_url(url, |canon| {
            self.exact_hit(Kind::Url, canon.as_bytes(), url.len())
        })?
    }

    /// Every active URL indicator that `url` (canonicalised) shows: a URL with a scheme that
    /// equals it or is a prefix of it ending at a path or query boundary (`/ ? & ; = #`), and
    /// a schemeless URL contained anywhere in it. Allocates only when something matches.
    pub fn match_url(&self, url: &str) -> Vec<Match> {
        let mut out = Vec::new();
        with_canonical_url(url, |canon| {
            self.match_canonical_url(canon.as_bytes(), &mut out)
        });
        for h in &mut out {
            h.start = 0;
            h.end = url.len() as u32;
        }
        out
    }

    /// The URL indicators with a scheme that a canonical `url` equals or extends at a
    /// boundary — [`IndicatorSet::match_canonical_url`] without the schemeless fragments, for
    /// callers that search the literals in the surrounding text themselves.
    pub(crate) fn match_canonical_url_prefixes(&self, url: &[u8], out: &mut Vec<Match>) {
        self.match_canonical_url_table(url, out);
    }

    /// [`IndicatorSet::match_url`] for a URL already in canonical form.
    pub(crate) fn match_canonical_url(&self, url: &[u8], out: &mut Vec<Match>) {
        self.match_canonical_url_table(url, out);
        self.find_patterns(Kind::Url, url, out);
    }

    /// The hashed-table part of [`IndicatorSet::match_canonical_url`]: URLs with a scheme equal
    /// to `url` or a prefix of it at a boundary.
    fn match_canonical_url_table(&self, url: &[u8], out: &mut Vec<Match>) {
        let table = self.table(Kind::Url);
        if table.is_empty() {
            return;
        }
        let mut cuts = UrlCuts::EMPTY;
        cuts.fill(url, &table);
        self.probe_url_cuts(&table, url, &cuts, |h| out.push(h));
    }

    /// Batched [`IndicatorSet::match_canonical_url_prefixes`] over `count` canonical URLs,
    /// `url(i)` giving the `i`-th: the prefixes of `G` URLs are hashed and prefetched before
    /// any of them is probed, so their cache misses overlap. `each(i, hit)` reports a hit of
    /// URL `i`, in order of `i`.
    pub(crate) fn match_canonical_urls_prefixes<'u>(
        &self,
        count: usize,
        url: impl Fn(usize) -> &'u [u8],
        mut each: impl FnMut(usize, Match),
    ) {
        const G: usize = 8;
        let table = self.table(Kind::Url);
        if table.is_empty() {
            return;
        }
        let mut cuts = [UrlCuts::EMPTY; G];
        for start in (0..count).step_by(G) {
            let group = start..count.min(start + G);
            for (c, i) in cuts.iter_mut().zip(group.clone()) {
                c.fill(url(i), &table);
            }
            for (c, i) in cuts.iter().zip(group) {
                self.probe_url_cuts(&table, url(i), c, |h| each(i, h));
            }
        }
    }

    /// Probes the prefixes in `cuts` (filled for `url`).
    fn probe_url_cuts(
        &self,
        table: &Table<'_>,
        url: &[u8],
        cuts: &UrlCuts,
        mut each: impl FnMut(Match),
    ) {
        let strings = self.strings();
        for (&h, &c) in cuts.hashes.iter().zip(&cuts.ends[..cuts.n]) {
            let key = &url[..c as usize];
            if let Some(r) = table.probe(h, |e| Self::entry_is(strings, e, key)) {
                if self.answers(r, Kind::Url, false) {
                    each(Match {
                        indicator: r,
                        kind: Kind::Url,
                        start: 0,
                        end: c,
                    });
                }
            }
        }
    }

    /// Every active HTTP-request literal found in `request` (request line and headers), and
    /// every compound HTTP-request indicator (a STIX pattern ANDing method, target, version
    /// and headers of one request) whose conditions the request meets.
    pub fn match_http(&self, request: &[u8]) -> Vec<Match> {
        let mut out = Vec::new();
        self.find_patterns_in(Kind::HttpRequest, request, true, &mut out);
        out
    }

    fn patterns(&self, kind: Kind) -> &Patterns {
        let (cell, range, kind) = match kind {
            Kind::Url => (&self.url_patterns, &self.sec.url_patterns, Kind::Url),
            _ => (
                &self.http_patterns,
                &self.sec.http_patterns,
                Kind::HttpRequest,
            ),
        };
        cell.get_or_init(|| {
            Patterns::build(kind, self.slice(range), self.records(), self.strings())
        })
    }

    /// Every active schemeless-URL fragment and HTTP-request literal occurring in `text`, with
    /// spans (the Aho-Corasick half of `logs::text::scan_text`).
    pub(crate) fn match_literals(&self, text: &[u8], out: &mut Vec<Match>) {
        self.find_patterns(Kind::Url, text, out);
        self.find_patterns(Kind::HttpRequest, text, out);
    }

    /// Whether the set has literals for [`IndicatorSet::match_literals`] to find.
    pub(crate) fn has_literals(&self) -> bool {
        !self.sec.url_patterns.is_empty() || !self.sec.http_patterns.is_empty()
    }

    fn find_patterns(&self, kind: Kind, haystack: &[u8], out: &mut Vec<Match>) {
        self.find_patterns_in(kind, haystack, false, out);
    }

    /// `request`: `haystack` is an HTTP request head (compounds are checked on it).
    fn find_patterns_in(&self, kind: Kind, haystack: &[u8], request: bool, out: &mut Vec<Match>) {
        let records = self.records();
        self.patterns(kind)
            .find(haystack, request, |rec, start, end| {
                if self.intact()
                    && records
                        .get(rec as usize)
                        .is_some_and(|r| self.active(r, false))
                {
                    out.push(Match {
                        indicator: rec,
                        kind,
                        start: start as u32,
                        end: end as u32,
                    });
                }
            });
    }

    /// Checks the pattern lists against the bounds of [`crate::indicators::format::MAX_PATTERN_BYTES`]
    /// and builds the Aho-Corasick automata now (they are otherwise built at first use), so
    /// that a long-running scan (and a reload, before it swaps the set in) pays for them up
    /// front and learns of a refusal. Errors when a pattern list breaks a bound (nothing is
    /// built then) or the builder failed.
    pub fn prepare(&self) -> Result<Prepared> {
        self.pattern_totals()?;
        let (url, http) = (self.patterns(Kind::Url), self.patterns(Kind::HttpRequest));
        if let Some(why) = url.refused.as_ref().or(http.refused.as_ref()) {
            return Err(Error::bad_set(why.clone()));
        }
        Ok(Prepared {
            url_build: url.build_time,
            http_build: http.build_time,
            memory: url.memory_usage() + http.memory_usage(),
        })
    }

    /// Checks the pattern lists against the bounds (see [`crate::indicators::format::MAX_PATTERN_BYTES`]):
    /// every entry names a record of its kind, once, with a value of 1 to
    /// [`crate::indicators::format::MAX_PATTERN_LEN`] bytes, all of them together at most
    /// `MAX_PATTERN_BYTES`. Returns the number of patterns and their bytes. O(patterns), about
    /// a cache miss each; builds nothing.
    pub fn pattern_totals(&self) -> Result<(usize, u64)> {
        patterns::check(
            self.slice(&self.sec.url_patterns),
            self.slice(&self.sec.http_patterns),
            self.records(),
            self.strings(),
        )
    }

    /// Checks the blake3 digest and every index in the file (reads the whole file).
    pub fn verify(&self) -> Result<()> {
        let bytes = self.data.as_ref();
        let layout = Layout::parse(bytes)?;
        if format::digest(bytes) != layout.header.digest {
            return Err(Error::digest());
        }
        verify::structure(self)
    }
}

mod verify;

/// The parent suffixes of a canonical name, most specific first (the last label alone is never
/// an indicator). The hashes of the first [`Suffixes::PREHASHED`] are computed and their home
/// buckets prefetched up front; deeper ones (rare) are hashed when probed.
#[derive(Clone, Copy)]
struct Suffixes {
    starts: [u8; 128],
    hashes: [u64; Suffixes::PREHASHED],
    n: usize,
}

impl Suffixes {
    const PREHASHED: usize = 8;
    const EMPTY: Suffixes = Suffixes {
        starts: [0; 128],
        hashes: [0; Suffixes::PREHASHED],
        n: 0,
    };

    /// Fills in the suffixes of `name` (at most 253 bytes, so a start fits in a byte and there
    /// are at most 127 labels), in place.
    fn fill(&mut self, name: &[u8], table: &Table<'_>) {
        self.n = 0;
        let mut at = 0;
        while let Some(dot) = name[at..].iter().position(|&b| b == b'.') {
            if self.n == self.starts.len() || at > 255 {
                break;
            }
            self.starts[self.n] = at as u8;
            if let Some(h) = self.hashes.get_mut(self.n) {
                *h = format::key_hash(false, &name[at..]);
                table.prefetch(*h);
            }
            self.n += 1;
            at += dot + 1;
        }
    }

    /// The hashes computed up front.
    #[inline]
    fn prehashed(&self) -> &[u64] {
        &self.hashes[..self.n.min(Suffixes::PREHASHED)]
    }

    /// The hash of suffix `i` of `name`.
    #[inline]
    fn hash(&self, name: &[u8], i: usize) -> u64 {
        match self.hashes.get(i) {
            Some(&h) => h,
            None => format::key_hash(false, &name[usize::from(self.starts[i])..]),
        }
    }
}

/// Lowercases an ASCII name into `buf` and drops a trailing dot; `None` for non-ASCII or
/// over-long names.
#[inline]
fn canonical_name<'b>(name: &[u8], buf: &'b mut [u8; 256]) -> Option<&'b [u8]> {
    let name = name.strip_suffix(b".").unwrap_or(name);
    if name.len() > 253 || !name.is_ascii() {
        return None;
    }
    let out = &mut buf[..name.len()];
    out.copy_from_slice(name);
    out.make_ascii_lowercase();
    Some(out)
}

thread_local! {
    static URL_BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Runs `f` on the canonical form of `url`, in a reused per-thread buffer.
/// The prefixes of a canonical URL that a URL indicator may equal — before and after every
/// boundary byte (`/ ? & ; = #`) past the authority, and the whole URL — with their hashes,
/// prefetched in the URL table.
#[derive(Clone, Copy)]
struct UrlCuts {
    ends: [u32; 64],
    hashes: [u64; 64],
    n: usize,
}

impl UrlCuts {
    const EMPTY: UrlCuts = UrlCuts {
        ends: [0; 64],
        hashes: [0; 64],
        n: 0,
    };

    /// Cuts `url` (none when it has no `scheme://`) and prefetches each prefix's slot.
    fn fill(&mut self, url: &[u8], table: &Table<'_>) {
        self.n = 0;
        let Some(host) = memchr::memmem::find(url, b"://").map(|i| i + 3) else {
            return;
        };
        let path = memchr::memchr(b'/', &url[host..]).map_or(url.len(), |p| host + p);
        let ends = &mut self.ends;
        let mut n = 0;
        for (i, &b) in url.iter().enumerate().skip(path) {
            if matches!(b, b'/' | b'?' | b'&' | b';' | b'=' | b'#') && n + 2 < ends.len() {
                if n == 0 || ends[n - 1] != i as u32 {
                    ends[n] = i as u32;
                    n += 1;
                }
                ends[n] = i as u32 + 1;
                n += 1;
            }
        }
        if n == 0 || ends[n - 1] != url.len() as u32 {
            ends[n] = url.len() as u32;
            n += 1;
        }
        for (h, &c) in self.hashes.iter_mut().zip(&ends[..n]) {
            *h = format::key_hash(false, &url[..c as usize]);
            table.prefetch(*h);
        }
        self.n = n;
    }
}

/// Runs `f` on the canonical form of `url` (in a per-thread buffer); `None` if it has none.
pub(crate) fn with_canonical_url<R>(url: &str, f: impl FnOnce(&str) -> R) -> Option<R> {
    URL_BUF.with(|buf| {
        let mut buf = buf.try_borrow_mut().ok()?;
        normalize::url_into(url, &mut buf).ok()?;
        Some(f(&buf))
    })
}

fn table_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Domain => "domain table",
        Kind::Email => "email table",
        Kind::Url => "url table",
        Kind::Md5 => "md5 table",
        Kind::Sha1 => "sha1 table",
        Kind::Sha256 => "sha256 table",
        Kind::Sha512 => "sha512 table",
        Kind::X509Md5 => "x509-md5 table",
        Kind::X509Sha1 => "x509-sha1 table",
        Kind::X509Sha256 => "x509-sha256 table",
        Kind::Ja3 => "ja3 table",
        Kind::Ja3s => "ja3s table",
        Kind::Ja4 => "ja4 table",
        Kind::Ja4s => "ja4s table",
        Kind::Ipv4 | Kind::Ipv6 | Kind::HttpRequest => "table",
    }
}

/// An indicator record of a set, with its value and provenance.
#[derive(Clone, Copy)]
pub struct IndicatorRef<'a> {
    id: u32,
    rec: Record,
    strings: &'a [u8],
    provs: &'a [Prov],
    lists: &'a [u32],
    sources: &'a [StrRef],
}

impl fmt::Debug for IndicatorRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndicatorRef")
            .field("id", &self.id)
            .field("kind", &self.kind())
            .field("value", &self.value())
            .finish()
    }
}

fn str_at(strings: &[u8], r: StrRef) -> &str {
    strings
        .get(r.off as usize..r.off as usize + r.len as usize)
        .and_then(|b| std::str::from_utf8(b).ok())
        .unwrap_or("")
}

impl<'a> IndicatorRef<'a> {
    /// Record index.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The kind (`None` only in a corrupt file).
    pub fn kind(&self) -> Option<Kind> {
        Kind::from_u8(self.rec.kind)
    }

    /// The stored value bytes: canonical text, or a raw digest for hashes.
    pub(crate) fn value_bytes(&self) -> &'a [u8] {
        let off = self.rec.value_off as usize;
        self.strings
            .get(off..off + usize::from(self.rec.value_len))
            .unwrap_or(&[])
    }

    /// The canonical value as text (hashes in lowercase hex, CIDRs as `a.b.c.d/n`).
    pub fn value(&self) -> String {
        let bytes = self.value_bytes();
        if self.kind().is_some_and(Kind::is_digest) {
            let mut s = String::with_capacity(bytes.len() * 2);
            let _ = write_hex(&mut s, bytes);
            s
        } else {
            String::from_utf8_lossy(bytes).into_owned()
        }
    }

    /// For a CIDR: the next less specific prefix in the set that contains this one.
    pub fn parent(&self) -> Option<u32> {
        (self.rec.parent != NONE).then_some(self.rec.parent)
    }

    /// Every feed's word on this indicator.
    pub fn provenance(&self) -> impl Iterator<Item = Provenance<'a>> + 'a {
        let (strings, provs, sources) = (self.strings, self.provs, self.sources);
        format::prov_ids(self.rec.provs, self.lists).filter_map(move |p| {
            let p = provs.get(p as usize)?;
            Some(Provenance {
                source: sources
                    .get(p.source as usize)
                    .map_or("", |&r| str_at(strings, r)),
                id: Some(str_at(strings, p.id)).filter(|s| !s.is_empty()),
                score: (p.score != SCORE_UNKNOWN).then_some(p.score),
                tlp: Tlp::from_u8(p.tlp),
                valid_from: (p.valid_from != i64::MIN).then_some(p.valid_from),
                valid_until: (p.valid_until != i64::MAX).then_some(p.valid_until),
                labels: str_at(strings, p.labels),
                description: Some(str_at(strings, p.description)).filter(|s| !s.is_empty()),
                exact: p.flags & PROV_EXACT != 0,
            })
        })
    }
}

/// One feed's word on an indicator, borrowed from the set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Provenance<'a> {
    /// Feed or collection name.
    pub source: &'a str,
    /// External id (STIX id, MISP uuid).
    pub id: Option<&'a str>,
    /// Score 0–100.
    pub score: Option<u8>,
    /// TLP marking.
    pub tlp: Option<Tlp>,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity (exclusive), Unix seconds.
    pub valid_until: Option<i64>,
    /// Labels joined by `,` (empty when none).
    pub labels: &'a str,
    /// Description.
    pub description: Option<&'a str>,
    /// A domain matched exactly, without subdomains.
    pub exact: bool,
}

impl<'a> Provenance<'a> {
    /// Whether valid at `now` (Unix seconds).
    pub fn active_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|t| t <= now) && self.valid_until.is_none_or(|t| now < t)
    }

    /// The labels as a list.
    pub fn labels(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.labels.split(',').filter(|s| !s.is_empty())
    }
}
