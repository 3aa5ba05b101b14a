//! The set file's byte layout — the one owner of it; [`crate::indicators::build`] writes through it and
//! [`crate::indicators::read`] reads through it.
//!
//! ```text
//! offset 0    Header (128 bytes): magic "TRAWLSET", version, section count, file length,
//!             build time, blake3 digest of the whole file with the digest field zeroed
//! offset 128  section table: SectionEntry (32 bytes) × section count
//! then        sections, each starting on a 64-byte boundary (a cache line), little-endian,
//!             laid out so that readers cast them in place (`bytemuck`) — no decoding at open
//! ```
//!
//! Sections (ids in [`SectionId`]): a META JSON document (counts, sources, build report), a
//! string pool, the indicator records ([`Record`]), their provenance ([`Prov`]) and provenance
//! lists, the IPv4 and IPv6 interval tables (a first level indexed by the top 16–20 address
//! bits, chosen by the compiler so that a bucket holds about eight boundaries, and nodes), one
//! hashed table (tags, then key-entry offsets, in buckets of eight slots) per exact kind, and the pattern lists from which the
//! Aho-Corasick automata are built at first use.
//!
//! Everything is little-endian; the crate refuses to build on big-endian targets.

use std::io::{self, Seek, SeekFrom, Write};

use bytemuck::{Pod, Zeroable};

use crate::indicators::error::{Error, Result};

#[cfg(target_endian = "big")]
compile_error!("trawl's set format is little-endian; big-endian targets are not supported");

/// File magic.
pub const MAGIC: [u8; 8] = *b"TRAWLSET";
/// Format version written and read by this build. Older or newer versions are refused by name.
pub const VERSION: u32 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 128;
/// Size of one section-table entry.
pub const SECTION_ENTRY_LEN: usize = 32;
/// Every section starts on this boundary.
pub const ALIGN: usize = 64;
/// Byte offset of the digest inside the header.
pub const DIGEST_OFFSET: usize = 32;
/// Most sections a file may declare (a bound for the open-time checks).
pub(crate) const MAX_SECTIONS: u32 = 64;
/// Seed of the string hash used by the hashed tables; fixed by the format.
pub const HASH_SEED: u64 = 0x7472_6177_6c5f_7631;
/// Slots per hashed-table bucket: 8 tags of 2 bytes, a quarter of a cache line.
pub(crate) const BUCKET_SLOTS: usize = 8;
/// Bytes per hashed-table slot: a 2-byte tag plus a 4-byte key-entry offset.
pub(crate) const SLOT_BYTES: usize = 6;
/// "No record" in interval tables and parent links.
pub const NONE: u32 = u32::MAX;
/// Direct-value flag in an interval first-level entry.
pub const V4_DIRECT: u32 = 1 << 31;
/// Fewest address bits an interval first level is indexed by (IPv4 node keys hold the
/// remaining low bits in 16 bits, so IPv4 needs at least 16).
pub(crate) const MIN_L1_BITS: u32 = 16;
/// Most address bits an interval first level is indexed by (4 MiB of entries).
pub(crate) const MAX_L1_BITS: u32 = 20;

// The Aho-Corasick automata over the pattern lists are the one thing a set makes trawl build
// (the rest is read in place), and a set is copied to many sensors: these bounds keep what any
// set can make a sensor build small, and are enforced by the compiler, by `verify`, by
// `prepare` and before every automaton build. An automaton has at most one state per pattern
// byte plus its root; building one peaks at about 45 bytes per pattern byte (measured in
// BENCHMARKS.md), so [`MAX_PATTERN_BYTES`] bounds a build at about 750 MB. A real feed
// collection of 920k indicators holds 72k patterns and 1.8 MB of pattern bytes.

/// Longest URL-substring or HTTP-request pattern, in bytes. Longer literals are rejected at
/// compile time. The bound also caps the matches one input byte can end (distinct patterns
/// ending at one position differ in length).
pub const MAX_PATTERN_LEN: usize = 4 << 10;
/// Most pattern bytes, URL substrings and HTTP literals together, that a set may hold.
pub const MAX_PATTERN_BYTES: u64 = 16 << 20;

/// The fixed header at offset 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Header {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`VERSION`].
    pub version: u32,
    /// Number of section-table entries.
    pub section_count: u32,
    /// Total file length in bytes.
    pub file_len: u64,
    /// Build time, Unix seconds.
    pub build_time: i64,
    /// blake3 of the file with this field zeroed.
    pub digest: [u8; 32],
    /// `HEADER_*` flags.
    pub flags: u32,
    /// Zero.
    pub reserved: [u32; 15],
}

/// Header flag: some record has a validity window, so hits must check the clock. Without it,
/// a CIDR hit needs no record read at all.
pub(crate) const HEADER_TIMED: u32 = 1;
/// Header flag: some domain provenance is `exact` (no subdomain rule), so a subdomain hit must
/// check its record's flags.
pub(crate) const HEADER_EXACT: u32 = 2;

/// One section-table entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub(crate) struct SectionEntry {
    /// A [`SectionId`] value.
    pub id: u32,
    /// Size of one element (1 for byte sections).
    pub elem_size: u32,
    /// Byte offset from the start of the file; a multiple of [`ALIGN`].
    pub offset: u64,
    /// Length in bytes; a multiple of `elem_size`.
    pub len: u64,
    /// Zero.
    pub reserved: u64,
}

/// Section identifiers. Unknown ids in a file are ignored (forward compatible within a version).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum SectionId {
    /// JSON: build info, counts per kind and source, compile report summary.
    Meta = 1,
    /// UTF-8 / raw byte pool referenced by [`StrRef`]s and [`Record::value_off`].
    Strings = 2,
    /// `[Record]`, one per distinct (kind, canonical value).
    Records = 3,
    /// `[Prov]`, deduplicated provenance entries.
    Provs = 4,
    /// `[u32]`: runs of `count, prov index × count`, referenced by [`Record::provs`].
    ProvLists = 5,
    /// `[StrRef]`: source names, indexed by [`Prov::source`].
    Sources = 6,
    /// `[u32; 2^bits]`: IPv4 first level, indexed by the top `bits` bits (16–20, given by
    /// the section's length): `V4_DIRECT | record`, or a word offset into the nodes.
    V4L1 = 10,
    /// `[u32]`: IPv4 nodes: `n`, then `n` boundary low bits as u16 pairs (padded to a word),
    /// then `n + 1` records (the one in effect at the bucket start, then from each boundary).
    V4Nodes = 11,
    /// `[u32; 2^bits]`: IPv6 first level, like [`SectionId::V4L1`] (offsets count u64 words).
    V6L1 = 13,
    /// `[u64]`: IPv6 nodes: `n`, the `n` boundaries' high 64 bits, their low 64 bits, then
    /// `n + 1` records as u32 pairs (the one in effect at the bucket start first). A lookup
    /// searches the high halves and reads a low half only to break a tie.
    V6Nodes = 14,
    /// Hashed domain table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Domains = 20,
    /// Hashed email table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Emails = 21,
    /// Hashed canonical URL table (exact match): `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Urls = 22,
    /// Hashed MD5 table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Md5 = 23,
    /// Hashed SHA-1 table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Sha1 = 24,
    /// Hashed SHA-256 table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Sha256 = 25,
    /// Hashed SHA-512 table: `[u16]` tags of all slots, then `[u32]` key-entry offsets.
    Sha512 = 26,
    /// `[u32]`: records whose canonical URL is a substring pattern.
    UrlPatterns = 30,
    /// `[u32]`: records of HTTP-request literals.
    HttpPatterns = 31,
    /// Hashed certificate MD5 fingerprint table, like [`SectionId::Md5`].
    X509Md5 = 40,
    /// Hashed certificate SHA-1 fingerprint table.
    X509Sha1 = 41,
    /// Hashed certificate SHA-256 fingerprint table.
    X509Sha256 = 42,
    /// Hashed JA3 table (raw MD5 digests).
    Ja3 = 43,
    /// Hashed JA3S table (raw MD5 digests).
    Ja3s = 44,
    /// Hashed JA4 table (the fingerprint text).
    Ja4 = 45,
    /// Hashed JA4S table (the fingerprint text).
    Ja4s = 46,
}

impl SectionId {
    /// Every section id this version knows.
    pub const ALL: [SectionId; 26] = [
        SectionId::Meta,
        SectionId::Strings,
        SectionId::Records,
        SectionId::Provs,
        SectionId::ProvLists,
        SectionId::Sources,
        SectionId::V4L1,
        SectionId::V4Nodes,
        SectionId::V6L1,
        SectionId::V6Nodes,
        SectionId::Domains,
        SectionId::Emails,
        SectionId::Urls,
        SectionId::Md5,
        SectionId::Sha1,
        SectionId::Sha256,
        SectionId::Sha512,
        SectionId::UrlPatterns,
        SectionId::HttpPatterns,
        SectionId::X509Md5,
        SectionId::X509Sha1,
        SectionId::X509Sha256,
        SectionId::Ja3,
        SectionId::Ja3s,
        SectionId::Ja4,
        SectionId::Ja4s,
    ];

    /// The element size this section must declare.
    pub fn elem_size(self) -> usize {
        match self {
            SectionId::Meta | SectionId::Strings => 1,
            SectionId::Records => size_of::<Record>(),
            SectionId::Provs => size_of::<Prov>(),
            SectionId::Sources => size_of::<StrRef>(),
            SectionId::V6Nodes => 8,
            SectionId::Domains
            | SectionId::Emails
            | SectionId::Urls
            | SectionId::Md5
            | SectionId::Sha1
            | SectionId::Sha256
            | SectionId::Sha512
            | SectionId::X509Md5
            | SectionId::X509Sha1
            | SectionId::X509Sha256
            | SectionId::Ja3
            | SectionId::Ja3s
            | SectionId::Ja4
            | SectionId::Ja4s => 2,
            SectionId::ProvLists
            | SectionId::V4L1
            | SectionId::V4Nodes
            | SectionId::V6L1
            | SectionId::UrlPatterns
            | SectionId::HttpPatterns => 4,
        }
    }

    /// The section id for a raw value, if this version knows it.
    pub(crate) fn from_u32(v: u32) -> Option<SectionId> {
        SectionId::ALL.iter().copied().find(|s| *s as u32 == v)
    }

    /// The hashed-table section holding a kind, if the kind is stored in one.
    pub(crate) fn table_for(kind: crate::Kind) -> Option<SectionId> {
        use crate::Kind;
        Some(match kind {
            Kind::Domain => SectionId::Domains,
            Kind::Email => SectionId::Emails,
            Kind::Url => SectionId::Urls,
            Kind::Md5 => SectionId::Md5,
            Kind::Sha1 => SectionId::Sha1,
            Kind::Sha256 => SectionId::Sha256,
            Kind::Sha512 => SectionId::Sha512,
            Kind::X509Md5 => SectionId::X509Md5,
            Kind::X509Sha1 => SectionId::X509Sha1,
            Kind::X509Sha256 => SectionId::X509Sha256,
            Kind::Ja3 => SectionId::Ja3,
            Kind::Ja3s => SectionId::Ja3s,
            Kind::Ja4 => SectionId::Ja4,
            Kind::Ja4s => SectionId::Ja4s,
            Kind::Ipv4 | Kind::Ipv6 | Kind::HttpRequest => return None,
        })
    }
}

/// A byte range in the string pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
#[repr(C)]
pub struct StrRef {
    /// Offset in [`SectionId::Strings`].
    pub off: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Record flag: some provenance of this domain allows subdomain matches.
pub(crate) const REC_SUBDOMAINS: u8 = 1;
/// Record flag: some provenance has a validity window (check the clock on a hit).
pub(crate) const REC_TIMED: u8 = 2;

/// One indicator: a distinct (kind, canonical value), 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct Record {
    /// Offset of the value bytes in the string pool (canonical text, or a raw digest); for kinds
    /// kept in a hashed table, the bytes are preceded by their key-entry header.
    pub value_off: u32,
    /// Length of the value bytes.
    pub value_len: u16,
    /// [`crate::Kind`] discriminant.
    pub kind: u8,
    /// `REC_*` flags.
    pub flags: u8,
    /// The record's provenance: `PROVS_SINGLE | prov index` for the common single source, else
    /// the index into [`SectionId::ProvLists`] of a `count, provs…` run (see [`prov_ids`]).
    pub provs: u32,
    /// For CIDRs: the next less specific prefix in the set that contains this one, or [`NONE`].
    pub parent: u32,
}

/// [`Record::provs`] flag: the low 31 bits are the one provenance index.
pub const PROVS_SINGLE: u32 = 1 << 31;

/// The provenance indices of a record (`Record::provs`), resolved against the list section;
/// empty when a list is out of bounds.
pub fn prov_ids(provs: u32, lists: &[u32]) -> ProvIds<'_> {
    if provs & PROVS_SINGLE != 0 {
        return ProvIds::One(Some(provs & !PROVS_SINGLE));
    }
    let start = provs as usize;
    let n = lists.get(start).copied().unwrap_or(0) as usize;
    let ids = n
        .checked_add(start + 1)
        .and_then(|end| lists.get(start + 1..end))
        .unwrap_or(&[]);
    ProvIds::Many(ids.iter())
}

/// Iterator over a record's provenance indices.
#[derive(Clone, Debug)]
pub enum ProvIds<'a> {
    /// The single inline index.
    One(Option<u32>),
    /// A run in the list section.
    Many(std::slice::Iter<'a, u32>),
}

impl Iterator for ProvIds<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        match self {
            ProvIds::One(v) => v.take(),
            ProvIds::Many(it) => it.next().copied(),
        }
    }
}

/// Provenance flag: a domain from an `exact` feed (no subdomain rule).
pub(crate) const PROV_EXACT: u8 = 1;
/// Score value meaning "unknown".
pub const SCORE_UNKNOWN: u8 = u8::MAX;

/// One feed's word on an indicator, 48 bytes; identical entries are shared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Pod, Zeroable)]
#[repr(C)]
pub struct Prov {
    /// Index into [`SectionId::Sources`].
    pub source: u32,
    /// 0–100, or [`SCORE_UNKNOWN`].
    pub score: u8,
    /// [`crate::Tlp`] discriminant, 0 when unmarked.
    pub tlp: u8,
    /// `PROV_*` flags.
    pub flags: u8,
    /// Zero.
    pub reserved: u8,
    /// External id (STIX id, MISP uuid); empty when none.
    pub id: StrRef,
    /// Labels joined by `,`.
    pub labels: StrRef,
    /// Description.
    pub description: StrRef,
    /// Start of validity (Unix seconds), `i64::MIN` when none.
    pub valid_from: i64,
    /// End of validity, exclusive (Unix seconds), `i64::MAX` when none.
    pub valid_until: i64,
}

// A hashed table keeps its tags apart from its entry offsets: a lookup that misses (the common
// case) reads only the tags, 2 bytes per slot, so the hot part of a table with millions of keys
// stays cache-resident (the idea of SwissTable's control bytes). An entry offset points into
// the string pool at the key entry: record index (u32), key length (u16), key bytes — which
// are also the record's value (`Record::value_off == entry + ENTRY_HEADER`), so a probe
// verifies a key with one read, without touching the record.

/// Bytes of a key entry's header (record index u32, key length u16), little-endian.
pub(crate) const ENTRY_HEADER: usize = 6;

/// Reads the key entry at `off` in the string pool: (record index, key bytes).
#[inline]
pub(crate) fn entry_at(strings: &[u8], off: u32) -> Option<(u32, &[u8])> {
    let off = off as usize;
    let head = strings.get(off..off.checked_add(ENTRY_HEADER)?)?;
    let rec = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let len = usize::from(u16::from_le_bytes([head[4], head[5]]));
    let key = strings.get(off + ENTRY_HEADER..off + ENTRY_HEADER + len)?;
    Some((rec, key))
}

/// The hash of a key in a hashed table. Digests are uniformly random already, so their first
/// eight bytes are the hash (one less pass over the key); other keys use xxh3 with [`HASH_SEED`].
#[inline]
pub(crate) fn key_hash(kind_is_digest: bool, key: &[u8]) -> u64 {
    if kind_is_digest && key.len() >= 8 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&key[..8]);
        u64::from_le_bytes(b)
    } else {
        xxhash_rust::xxh3::xxh3_64_with_seed(key, HASH_SEED)
    }
}

/// The tag stored in a slot for a hash: 16 bits the bucket index does not use, never 0
/// (0 marks an empty slot).
#[inline]
pub fn tag(hash: u64) -> u16 {
    ((hash >> 48) as u16) | 1
}

/// Rounds `n` up to the next multiple of [`ALIGN`].
pub(crate) fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// blake3 of a whole file with the header's digest field taken as zero.
pub fn digest(file: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(&file[..DIGEST_OFFSET.min(file.len())]);
    if file.len() > DIGEST_OFFSET {
        h.update(&[0u8; 32]);
    }
    if file.len() > DIGEST_OFFSET + 32 {
        h.update(&file[DIGEST_OFFSET + 32..]);
    }
    *h.finalize().as_bytes()
}

/// The sections of a file as byte ranges, checked against the file's length, alignment and
/// element sizes. Costs O(sections); never reads section contents.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The header as read.
    pub header: Header,
    /// (id, byte range) for every known section present.
    pub sections: Vec<(SectionId, std::ops::Range<usize>)>,
}

impl Layout {
    /// Checks magic, version, declared length and every section's bounds.
    pub fn parse(file: &[u8]) -> Result<Layout> {
        if file.len() < HEADER_LEN {
            if file.len() >= 8 && file[..8] != MAGIC {
                return Err(Error::bad_set("wrong magic (not a trawl set file)"));
            }
            return Err(Error::bad_set(format!(
                "file is {} bytes, shorter than the {HEADER_LEN}-byte header (truncated?)",
                file.len()
            )));
        }
        let header: Header = bytemuck::pod_read_unaligned(&file[..HEADER_LEN]);
        if header.magic != MAGIC {
            return Err(Error::bad_set("wrong magic (not a trawl set file)"));
        }
        if header.version != VERSION {
            return Err(Error::version(header.version));
        }
        if header.file_len != file.len() as u64 {
            return Err(Error::bad_set(format!(
                "header says {} bytes but the file has {} (truncated or padded)",
                header.file_len,
                file.len()
            )));
        }
        if header.section_count > MAX_SECTIONS {
            return Err(Error::bad_set(format!(
                "{} sections declared (at most {MAX_SECTIONS})",
                header.section_count
            )));
        }
        let table_end = HEADER_LEN + header.section_count as usize * SECTION_ENTRY_LEN;
        if table_end > file.len() {
            return Err(Error::bad_set(
                "section table runs past the end of the file",
            ));
        }
        let mut sections = Vec::with_capacity(header.section_count as usize);
        for i in 0..header.section_count as usize {
            let at = HEADER_LEN + i * SECTION_ENTRY_LEN;
            let e: SectionEntry = bytemuck::pod_read_unaligned(&file[at..at + SECTION_ENTRY_LEN]);
            let Some(id) = SectionId::from_u32(e.id) else {
                continue;
            };
            let end = e.offset.checked_add(e.len);
            let in_bounds = end.is_some_and(|end| end <= file.len() as u64);
            if !in_bounds || (e.offset as usize) < table_end {
                return Err(Error::bad_set(format!(
                    "section {id:?} at {}+{} lies outside the file body",
                    e.offset, e.len
                )));
            }
            if e.offset as usize % ALIGN != 0 {
                return Err(Error::bad_set(format!("section {id:?} is not aligned")));
            }
            if e.elem_size as usize != id.elem_size() || e.len % u64::from(e.elem_size) != 0 {
                return Err(Error::bad_set(format!(
                    "section {id:?} has element size {} / length {} (expected elements of {})",
                    e.elem_size,
                    e.len,
                    id.elem_size()
                )));
            }
            if sections.iter().any(|(s, _)| *s == id) {
                return Err(Error::bad_set(format!("section {id:?} appears twice")));
            }
            let start = e.offset as usize;
            sections.push((id, start..start + e.len as usize));
        }
        Ok(Layout { header, sections })
    }

    /// The byte range of a section; empty when absent.
    pub fn range(&self, id: SectionId) -> std::ops::Range<usize> {
        self.sections
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, r)| r.clone())
            .unwrap_or(0..0)
    }
}

/// Streams a set file: sections are appended in order, then the header, section table and
/// digest are written. Writers in `crate::indicators::build` produce section bytes; this type places them.
#[derive(Debug, Default)]
pub struct FileWriter {
    sections: Vec<(SectionId, Box<dyn SectionBytes>)>,
    flags: u32,
}

/// Owned section contents, viewed as bytes without a copy.
trait SectionBytes: Send {
    fn bytes(&self) -> &[u8];
}

impl<T: Pod + Send> SectionBytes for Vec<T> {
    fn bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self)
    }
}

impl std::fmt::Debug for dyn SectionBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.bytes().len())
    }
}

impl FileWriter {
    /// An empty file.
    pub fn new() -> FileWriter {
        FileWriter::default()
    }

    /// Sets `HEADER_*` flags.
    pub(crate) fn set_flags(&mut self, flags: u32) {
        self.flags = flags;
    }

    /// Adds a section of plain-old-data elements.
    pub fn section<T: Pod + Send>(&mut self, id: SectionId, elems: Vec<T>) {
        debug_assert_eq!(size_of::<T>(), id.elem_size());
        self.sections.push((id, Box::new(elems)));
    }

    /// Total bytes of section data added so far.
    pub(crate) fn data_len(&self) -> usize {
        self.sections.iter().map(|(_, b)| b.bytes().len()).sum()
    }

    /// Writes the file: header, table, aligned sections, hashing as it goes; the digest is
    /// written into the header last (hence `Seek`).
    pub(crate) fn write_to<W: Write + Seek>(self, mut w: W, build_time: i64) -> io::Result<()> {
        let flags = self.flags;
        let table_end = HEADER_LEN + self.sections.len() * SECTION_ENTRY_LEN;
        let mut offset = align_up(table_end);
        let mut entries = Vec::with_capacity(self.sections.len());
        for (id, data) in &self.sections {
            let bytes = data.bytes();
            entries.push(SectionEntry {
                id: *id as u32,
                elem_size: id.elem_size() as u32,
                offset: offset as u64,
                len: bytes.len() as u64,
                reserved: 0,
            });
            offset = align_up(offset + bytes.len());
        }
        let header = Header {
            magic: MAGIC,
            version: VERSION,
            section_count: self.sections.len() as u32,
            file_len: offset as u64,
            build_time,
            digest: [0; 32],
            flags,
            reserved: [0; 15],
        };
        let mut hasher = blake3::Hasher::new();
        let mut put = |w: &mut W, bytes: &[u8]| -> io::Result<()> {
            hasher.update(bytes);
            w.write_all(bytes)
        };
        let start = w.stream_position()?;
        put(&mut w, bytemuck::bytes_of(&header))?;
        for e in &entries {
            put(&mut w, bytemuck::bytes_of(e))?;
        }
        let mut at = table_end;
        let zeros = [0u8; ALIGN];
        for ((_, data), e) in self.sections.iter().zip(&entries) {
            let bytes = data.bytes();
            put(&mut w, &zeros[..e.offset as usize - at])?;
            put(&mut w, bytes)?;
            at = e.offset as usize + bytes.len();
        }
        put(&mut w, &zeros[..offset - at])?;
        let digest = *hasher.finalize().as_bytes();
        w.seek(SeekFrom::Start(start + DIGEST_OFFSET as u64))?;
        w.write_all(&digest)?;
        w.seek(SeekFrom::Start(start + offset as u64))?;
        w.flush()
    }

    /// The file as bytes (tests, small sets).
    pub fn finish(self, build_time: i64) -> Vec<u8> {
        let mut cursor = io::Cursor::new(Vec::with_capacity(self.data_len() + 4096));
        self.write_to(&mut cursor, build_time)
            .expect("writing to memory cannot fail");
        cursor.into_inner()
    }
}

/// The META section: what `trawl info` shows without touching the tables.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SetMeta {
    /// trawl version that built the set.
    pub trawl_version: String,
    /// Format version.
    pub format_version: u32,
    /// Build time (also the "now" of the expiry filter), Unix seconds.
    pub build_time: i64,
    /// Distinct indicators per kind.
    pub indicators: std::collections::BTreeMap<String, u64>,
    /// Distinct indicators per source.
    pub sources: Vec<SourceCount>,
    /// Feed files compiled.
    pub inputs: Vec<String>,
    /// The compile options.
    pub options: String,
    /// Items rejected during compilation.
    pub rejected: u64,
    /// Items suppressed by warninglists.
    pub suppressed: u64,
    /// The distinct last labels of the domain indicators (`com`, `xn--p1ai`), sorted: a name
    /// whose last label is not among them cannot match, so scanners skip looking up file
    /// names like `index.html` (see [`crate::indicators::read::IndicatorSet::may_match_domain`]). Absent
    /// in sets built before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain_tlds: Option<Vec<String>>,
}

/// Indicators of one source.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SourceCount {
    /// Source name.
    pub name: String,
    /// Distinct indicators it contributed.
    pub indicators: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_sizes_are_fixed_by_the_format() {
        assert_eq!(size_of::<Header>(), HEADER_LEN);
        assert_eq!(size_of::<SectionEntry>(), SECTION_ENTRY_LEN);
        assert_eq!(size_of::<Record>(), 16);
        assert_eq!(size_of::<Prov>(), 48);
        assert_eq!(SLOT_BYTES * BUCKET_SLOTS, 48);
        assert_eq!(std::mem::offset_of!(Header, digest), DIGEST_OFFSET);
    }

    #[test]
    fn written_file_parses_and_digest_matches() {
        let mut w = FileWriter::new();
        w.section(SectionId::Strings, b"hello".to_vec());
        w.section(SectionId::V4Nodes, vec![1u32, 2, 3]);
        let file = w.finish(42);
        let layout = Layout::parse(&file).unwrap();
        assert_eq!(&file[layout.range(SectionId::Strings)], b"hello");
        assert_eq!(layout.range(SectionId::V4Nodes).len(), 12);
        assert_eq!(layout.range(SectionId::V4Nodes).start % ALIGN, 0);
        assert_eq!(layout.header.build_time, 42);
        assert_eq!(digest(&file), layout.header.digest);
    }
}
