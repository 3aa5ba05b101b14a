//! pcap and pcapng capture files, read in place from a memory map.
//!
//! * [`CaptureFile`] — a capture's bytes ([`CaptureFile::open`] maps a file,
//!   [`CaptureFile::from_bytes`] takes any `AsRef<[u8]>`: tests and fuzzing need no file) and
//!   its detected [`Format`]: legacy pcap in either byte order with microsecond or nanosecond
//!   timestamps, or pcapng.
//! * [`Frames`] — the iterator over its packets: a [`Frame`] per packet record, every byte
//!   borrowed from the capture, nothing allocated per frame.
//! * [`FrameError`] — the damage that ended the iteration: frame number, byte offset, reason.
//!
//! A truncated or corrupt file yields the frames before the damage, then one
//! `Err(FrameError)`, then nothing: the iterator never panics and always ends (every step
//! consumes at least one record header).
//!
//! pcapng sections may change byte order and each section declares its own interfaces, each
//! with its own link type and timestamp resolution (`if_tsresol`) and offset (`if_tsoffset`).
//! Enhanced, Simple and (obsolete) Packet blocks are read; other blocks are skipped. The
//! file header and interface descriptions go through `pcap-parser`; the packet records
//! themselves are read here, because its block parsers collect each record's options into a
//! `Vec` (an allocation per packet), and its legacy-pcap iterator reads record headers as
//! little-endian whatever the file's byte order.

use std::fmt;
use std::fs::File;
use std::path::Path;

use memmap2::Mmap;
use pcap_parser::pcapng::{
    OptionCode, parse_interfacedescriptionblock_be, parse_interfacedescriptionblock_le,
};

use crate::indicators::error::Error;
use crate::indicators::map_guard::MapGuard;
use crate::packets::decode::LinkType;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BOM: u32 = 0x1A2B_3C4D;
const PCAPNG_IDB: u32 = 1;
const PCAPNG_PB: u32 = 2;
const PCAPNG_SPB: u32 = 3;
const PCAPNG_EPB: u32 = 6;

/// Larger records are taken for corruption rather than read (Wireshark's largest snapshot
/// length is 256 KiB; this leaves room for any real frame).
const MAX_RECORD: u32 = 64 << 20;

/// The format of a capture file, as detected from its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Legacy pcap (libpcap).
    Pcap {
        /// Whether the header and records are big-endian.
        big_endian: bool,
        /// Whether timestamps are in nanoseconds (magic `a1b23c4d`) rather than microseconds.
        nanosecond: bool,
        /// The file's link type.
        link: LinkType,
        /// The file's snapshot length.
        snaplen: u32,
    },
    /// pcapng: link types and timestamp resolutions are per interface.
    PcapNg,
}

/// A capture file's bytes and format. `D` is where the bytes live: an [`Mmap`] from
/// [`CaptureFile::open`], or anything `AsRef<[u8]>` through [`CaptureFile::from_bytes`].
pub struct CaptureFile<D: AsRef<[u8]> = Mmap> {
    /// For a mapped file: a truncation under the map reads as zeros instead of killing the
    /// process (see [`crate::indicators::map_guard`]). Dropped before `data`, as its contract requires.
    guard: Option<MapGuard>,
    data: D,
    format: Format,
}

impl CaptureFile<Mmap> {
    /// Maps the file at `path` and detects its format (cheap: reads only the header). A file
    /// that is neither pcap nor pcapng is refused with an error saying what it starts with.
    ///
    /// The file is mapped, not read. If another process truncates it while it is mapped, the
    /// lost pages read as zeros (see `crate::indicators::map_guard`) and [`CaptureFile::is_damaged`]
    /// says so; the engine then stops reading the file and reports it.
    pub fn open(path: impl AsRef<Path>) -> Result<CaptureFile<Mmap>, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Err(Error::feed(
                path,
                "empty file: not a pcap or pcapng capture",
            ));
        }
        // SAFETY: the map is only ever read. A file truncated under the map makes reads past
        // its new end fault: the guard turns the fault into zero pages, which the frame
        // iterator reads like any corrupt bytes.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        // SAFETY: the guard is stored in the `guard` field, dropped before `data` (the map).
        let guard = unsafe { MapGuard::new(&map) };
        #[cfg(unix)]
        {
            // Frames are read front to back once: ask for aggressive read-ahead. A hint only.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        let format = detect(&map).map_err(|what| Error::feed(path, what))?;
        Ok(CaptureFile {
            guard: Some(guard),
            data: map,
            format,
        })
    }
}

impl<D: AsRef<[u8]>> CaptureFile<D> {
    /// Takes a capture held in memory and detects its format (cheap: reads only the header).
    pub fn from_bytes(data: D) -> Result<CaptureFile<D>, Error> {
        let format = detect(data.as_ref()).map_err(Error::invalid)?;
        Ok(CaptureFile {
            guard: None,
            data,
            format,
        })
    }

    /// Whether the mapped file was truncated or rewritten in place while mapped: the rest of
    /// it reads as zeros and is not the capture. Always `false` for bytes held in memory.
    pub fn is_damaged(&self) -> bool {
        self.guard.as_ref().is_some_and(MapGuard::is_damaged)
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The capture's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.data.as_ref()
    }

    /// The frames, in file order, numbered from 1.
    pub fn frames(&self) -> Frames<'_> {
        let data = self.data.as_ref();
        let state = match self.format {
            Format::Pcap {
                big_endian,
                nanosecond,
                link,
                ..
            } => State::Pcap {
                big_endian,
                nanosecond,
                // The "modified" (Kuznetzov) format has 8 more bytes per record header.
                record_header: if data.get(..4) == Some(&[0x34, 0xcd, 0xb2, 0xa1]) {
                    24
                } else {
                    16
                },
                link,
            },
            Format::PcapNg => State::PcapNg {
                big_endian: false,
                interfaces: Vec::new(),
            },
        };
        Frames {
            data,
            pos: if matches!(self.format, Format::Pcap { .. }) {
                24
            } else {
                0
            },
            number: 0,
            state,
            done: false,
        }
    }
}

impl<D: AsRef<[u8]>> fmt::Debug for CaptureFile<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureFile")
            .field("len", &self.data.as_ref().len())
            .field("format", &self.format)
            .finish()
    }
}

/// Reads the format from the first bytes; the error says what the bytes look like instead.
fn detect(data: &[u8]) -> Result<Format, String> {
    let Some(magic) = data.first_chunk::<4>() else {
        return Err(format!(
            "not a pcap or pcapng capture: only {} bytes",
            data.len()
        ));
    };
    if u32::from_le_bytes(*magic) == PCAPNG_SHB {
        return match data.get(8..12).map(|bom| read_u32(bom, 0, false)) {
            Some(bom) if bom == PCAPNG_BOM || bom.swap_bytes() == PCAPNG_BOM => Ok(Format::PcapNg),
            _ => Err("pcapng section header with a bad byte-order magic".to_string()),
        };
    }
    match pcap_parser::parse_pcap_header(data) {
        Ok((_, h)) => Ok(Format::Pcap {
            big_endian: h.is_bigendian(),
            nanosecond: h.is_nanosecond_precision(),
            // The high bits of the field carry FCS information, not the link type.
            link: LinkType::from_linktype(h.network.0 as u32 & 0xffff),
            snaplen: h.snaplen,
        }),
        Err(pcap_parser::nom::Err::Incomplete(_)) => {
            Err("pcap file header cut short (under 24 bytes)".to_string())
        }
        Err(_) if magic[..2] == [0x1f, 0x8b] => {
            Err("gzip-compressed: decompress it first, then scan the pcap".to_string())
        }
        Err(_) => Err(format!(
            "not a pcap or pcapng capture (starts with {:02x} {:02x} {:02x} {:02x})",
            magic[0], magic[1], magic[2], magic[3]
        )),
    }
}

/// One packet record: where it is in the capture, when it was seen, and its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The frame's number in the file, from 1 (as Wireshark counts).
    pub number: u64,
    /// Seconds since the Unix epoch (pcapng `if_tsoffset` applied); 0 for a pcapng Simple
    /// Packet Block, which records no time.
    pub ts_sec: i64,
    /// Nanoseconds within the second (below 1 000 000 000).
    pub ts_nsec: u32,
    /// The link type of the file or, in pcapng, of the frame's interface.
    pub link: LinkType,
    /// The captured bytes (at most the snapshot length).
    pub data: &'a [u8],
    /// The frame's length on the wire; more than `data.len()` when the capture cut it.
    pub orig_len: u32,
}

/// The damage that ended a capture's frames: which frame could not be read, where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameError {
    /// The number the unreadable frame would have had.
    pub frame: u64,
    /// Byte offset in the file of the record or block that could not be read.
    pub offset: u64,
    kind: FrameErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum FrameErrorKind {
    RecordHeader,
    RecordData { caplen: u32 },
    RecordTooLarge { caplen: u32 },
    BlockHeader,
    BlockLength { len: u32 },
    BlockTrailer,
    SectionHeader,
    InterfaceBlock,
    TsResolution { tsresol: u8 },
    PacketBlock,
    Interface { id: u32, defined: usize },
}

impl FrameError {
    /// A stable short name to count by, e.g. "truncated record header".
    pub fn reason(&self) -> &'static str {
        match self.kind {
            FrameErrorKind::RecordHeader => "truncated record header",
            FrameErrorKind::RecordData { .. } => "record data runs past the end of the file",
            FrameErrorKind::RecordTooLarge { .. } => "implausible record length",
            FrameErrorKind::BlockHeader => "truncated block header",
            FrameErrorKind::BlockLength { .. } => "bad block length",
            FrameErrorKind::BlockTrailer => "block trailer does not repeat the block length",
            FrameErrorKind::SectionHeader => "bad section header block",
            FrameErrorKind::InterfaceBlock => "malformed interface description block",
            FrameErrorKind::TsResolution { .. } => "bad interface timestamp resolution",
            FrameErrorKind::PacketBlock => "packet data runs past its block",
            FrameErrorKind::Interface { .. } => "packet names an undefined interface",
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "frame {} at byte offset {}: {}",
            self.frame,
            self.offset,
            self.reason()
        )?;
        match self.kind {
            FrameErrorKind::RecordData { caplen } | FrameErrorKind::RecordTooLarge { caplen } => {
                write!(f, " (captured length {caplen})")
            }
            FrameErrorKind::BlockLength { len } => write!(f, " ({len})"),
            FrameErrorKind::TsResolution { tsresol } => write!(f, " ({tsresol:#04x})"),
            FrameErrorKind::Interface { id, defined } => {
                write!(f, " ({id}; the section defines {defined})")
            }
            _ => Ok(()),
        }
    }
}

impl std::error::Error for FrameError {}

/// One pcapng interface: what its packets' link type and timestamps mean.
#[derive(Clone, Copy, Debug)]
struct Interface {
    link: LinkType,
    /// Timestamp units per second (`if_tsresol`).
    units: u64,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    offset: i64,
}

#[derive(Clone, Debug)]
enum State {
    Pcap {
        big_endian: bool,
        nanosecond: bool,
        record_header: usize,
        link: LinkType,
    },
    PcapNg {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Iterator over a capture's frames; see [`CaptureFile::frames`].
///
/// To split a file among readers, walk it once and clone the iterator at the split points:
/// a clone resumes exactly there (pcapng interfaces included). [`Frames::offset`] and
/// [`Frames::next_number`] say where it stands.
#[derive(Clone, Debug)]
pub struct Frames<'a> {
    data: &'a [u8],
    pos: usize,
    number: u64,
    state: State,
    done: bool,
}

impl<'a> Frames<'a> {
    /// The byte offset of the next record or block.
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }

    /// The number the next frame will have.
    pub fn next_number(&self) -> u64 {
        self.number + 1
    }

    fn fail(&mut self, kind: FrameErrorKind) -> Option<Result<Frame<'a>, FrameError>> {
        self.done = true;
        Some(Err(FrameError {
            frame: self.number + 1,
            offset: self.pos as u64,
            kind,
        }))
    }

    fn next_pcap(
        &mut self,
        big_endian: bool,
        nanosecond: bool,
        record_header: usize,
        link: LinkType,
    ) -> Option<Result<Frame<'a>, FrameError>> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let Some(header) = rest.get(..record_header) else {
            return self.fail(FrameErrorKind::RecordHeader);
        };
        let field = |i: usize| read_u32(header, i * 4, big_endian);
        let (ts_sec, ts_frac, caplen, orig_len) = (field(0), field(1), field(2), field(3));
        if caplen > MAX_RECORD {
            return self.fail(FrameErrorKind::RecordTooLarge { caplen });
        }
        let Some(data) = rest.get(record_header..record_header + caplen as usize) else {
            return self.fail(FrameErrorKind::RecordData { caplen });
        };
        let per_sec = if nanosecond { 1_000_000_000 } else { 1_000_000 };
        // A fraction of a second at or over one second is corrupt but harmless: carry it.
        let ts_sec = i64::from(ts_sec) + i64::from(ts_frac / per_sec);
        let ts_nsec = (ts_frac % per_sec) * (1_000_000_000 / per_sec);
        self.pos += record_header + data.len();
        self.number += 1;
        Some(Ok(Frame {
            number: self.number,
            ts_sec,
            ts_nsec,
            link,
            data,
            orig_len,
        }))
    }

    fn next_pcapng(&mut self) -> Option<Result<Frame<'a>, FrameError>> {
        loop {
            let rest = self.data.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                self.done = true;
                return None;
            }
            if rest.len() < 12 {
                return self.fail(FrameErrorKind::BlockHeader);
            }
            let State::PcapNg {
                big_endian,
                interfaces,
            } = &mut self.state
            else {
                return None;
            };
            let block_type_le = read_u32(rest, 0, false);
            if block_type_le == PCAPNG_SHB {
                // A new section: its own byte order, its own interfaces.
                match read_u32(rest, 8, false) {
                    PCAPNG_BOM => *big_endian = false,
                    bom if bom.swap_bytes() == PCAPNG_BOM => *big_endian = true,
                    _ => return self.fail(FrameErrorKind::SectionHeader),
                }
                interfaces.clear();
            }
            let be = *big_endian;
            let block_type = read_u32(rest, 0, be);
            let len = read_u32(rest, 4, be);
            if len < 12 || len % 4 != 0 {
                return self.fail(FrameErrorKind::BlockLength { len });
            }
            let Some(block) = rest.get(..len as usize) else {
                return self.fail(FrameErrorKind::BlockLength { len });
            };
            if read_u32(block, block.len() - 4, be) != len {
                return self.fail(FrameErrorKind::BlockTrailer);
            }
            let body = &block[8..block.len() - 4];
            match block_type {
                // Byte-order magic (checked above), version 1.x, section length.
                PCAPNG_SHB if body.len() < 16 || read_u16(body, 4, be) != 1 => {
                    return self.fail(FrameErrorKind::SectionHeader);
                }
                PCAPNG_IDB => {
                    let interface = match parse_interface(block, be) {
                        Ok(i) => i,
                        Err(kind) => return self.fail(kind),
                    };
                    interfaces.push(interface);
                }
                PCAPNG_EPB | PCAPNG_PB => {
                    // EPB: interface (4), timestamp (8), captured and original length (4+4).
                    // PB: interface (2), drops (2), then the same.
                    if body.len() < 20 {
                        return self.fail(FrameErrorKind::PacketBlock);
                    }
                    let id = if block_type == PCAPNG_EPB {
                        read_u32(body, 0, be)
                    } else {
                        u32::from(read_u16(body, 0, be))
                    };
                    let (ts_high, ts_low) = (read_u32(body, 4, be), read_u32(body, 8, be));
                    let (caplen, orig_len) = (read_u32(body, 12, be), read_u32(body, 16, be));
                    let Some(data) = body[20..].get(..caplen as usize) else {
                        return self.fail(FrameErrorKind::PacketBlock);
                    };
                    let Some(interface) = interfaces.get(id as usize).copied() else {
                        let defined = interfaces.len();
                        return self.fail(FrameErrorKind::Interface { id, defined });
                    };
                    let (ts_sec, ts_nsec) = interface.timestamp(ts_high, ts_low);
                    return Some(Ok(self.advance(
                        len,
                        ts_sec,
                        ts_nsec,
                        interface.link,
                        data,
                        orig_len,
                    )));
                }
                PCAPNG_SPB => {
                    // Original length, then data up to the snapshot length; no timestamp.
                    if body.len() < 4 {
                        return self.fail(FrameErrorKind::PacketBlock);
                    }
                    let Some(interface) = interfaces.first().copied() else {
                        return self.fail(FrameErrorKind::Interface { id: 0, defined: 0 });
                    };
                    let orig_len = read_u32(body, 0, be);
                    let data = &body[4..];
                    let data = &data[..data.len().min(orig_len as usize)];
                    return Some(Ok(self.advance(len, 0, 0, interface.link, data, orig_len)));
                }
                _ => {}
            }
            self.pos += len as usize;
        }
    }

    fn advance(
        &mut self,
        block_len: u32,
        ts_sec: i64,
        ts_nsec: u32,
        link: LinkType,
        data: &'a [u8],
        orig_len: u32,
    ) -> Frame<'a> {
        self.pos += block_len as usize;
        self.number += 1;
        Frame {
            number: self.number,
            ts_sec,
            ts_nsec,
            link,
            data,
            orig_len,
        }
    }
}

impl Interface {
    /// Seconds and nanoseconds of a 64-bit pcapng timestamp.
    fn timestamp(&self, high: u32, low: u32) -> (i64, u32) {
        let ts = (u64::from(high) << 32) | u64::from(low);
        let secs = ts / self.units;
        let nanos = u128::from(ts % self.units) * 1_000_000_000 / u128::from(self.units);
        (
            i64::try_from(secs)
                .unwrap_or(i64::MAX)
                .saturating_add(self.offset),
            nanos as u32,
        )
    }
}

/// Reads an Interface Description Block through `pcap-parser` (link type, raw options). Two
/// values are interpreted here: `if_tsoffset` in the section's byte order (`pcap-parser` reads
/// it as little-endian), and `if_tsresol` (its `ts_resolution` refuses every binary one).
fn parse_interface(block: &[u8], big_endian: bool) -> Result<Interface, FrameErrorKind> {
    let parsed = if big_endian {
        parse_interfacedescriptionblock_be(block)
    } else {
        parse_interfacedescriptionblock_le(block)
    };
    let Ok((_, idb)) = parsed else {
        return Err(FrameErrorKind::InterfaceBlock);
    };
    let Some(units) = units_per_second(idb.if_tsresol) else {
        return Err(FrameErrorKind::TsResolution {
            tsresol: idb.if_tsresol,
        });
    };
    let offset = idb
        .options
        .iter()
        .find(|o| o.code == OptionCode::IfTsoffset)
        .and_then(|o| o.value().first_chunk::<8>().copied())
        .map_or(0, |b| {
            if big_endian {
                i64::from_be_bytes(b)
            } else {
                i64::from_le_bytes(b)
            }
        });
    Ok(Interface {
        link: LinkType::from_linktype(idb.linktype.0 as u32 & 0xffff),
        units,
        offset,
    })
}

/// Timestamp units per second for an `if_tsresol` value: 10^n, or 2^n when the high bit is
/// set; `None` when that does not fit 64 bits.
fn units_per_second(tsresol: u8) -> Option<u64> {
    let exp = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(exp)
    } else {
        1u64.checked_shl(exp)
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.state {
            State::Pcap {
                big_endian,
                nanosecond,
                record_header,
                link,
            } => self.next_pcap(big_endian, nanosecond, record_header, link),
            State::PcapNg { .. } => self.next_pcapng(),
        }
    }
}

impl std::iter::FusedIterator for Frames<'_> {}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big_endian {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

fn read_u16(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if big_endian {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(units_per_second(6), Some(1_000_000));
        assert_eq!(units_per_second(9), Some(1_000_000_000));
        assert_eq!(units_per_second(19), Some(10_000_000_000_000_000_000));
        assert_eq!(units_per_second(20), None);
        assert_eq!(units_per_second(0x80 | 10), Some(1024));
        assert_eq!(units_per_second(0x80 | 63), Some(1 << 63));
        assert_eq!(units_per_second(0x80 | 64), None);
        assert_eq!(units_per_second(0), Some(1));
    }

    #[test]
    fn timestamps_never_overflow() {
        let i = |units, offset| Interface {
            link: LinkType::Ethernet,
            units,
            offset,
        };
        assert_eq!(i(1_000_000, -1).timestamp(0, 1_500_000), (0, 500_000_000));
        assert_eq!(i(1 << 20, 0).timestamp(0, 3 << 19), (1, 500_000_000));
        // Seconds beyond i64 or an offset that overflows saturate instead of panicking.
        assert_eq!(i(1, 0).timestamp(u32::MAX, u32::MAX), (i64::MAX, 0));
        assert_eq!(i(1, i64::MAX).timestamp(0, 5), (i64::MAX, 0));
        assert_eq!(i(1, i64::MIN).timestamp(0, 5), (i64::MIN + 5, 0));
        let (_, ns) = i(1 << 63, 0).timestamp(u32::MAX, u32::MAX);
        assert!(ns < 1_000_000_000);
    }

    #[test]
    fn detects_every_pcap_magic() {
        // magic, version 2.4, zone, sigfigs, snaplen 65535, link type 1
        let header = |magic: [u8; 4], big: bool| {
            let u16s = |v: u16| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            let u32s = |v: u32| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            };
            [
                &magic[..],
                &u16s(2),
                &u16s(4),
                &u32s(0),
                &u32s(0),
                &u32s(65535),
                &u32s(1),
            ]
            .concat()
        };
        let cases = [
            ([0xd4, 0xc3, 0xb2, 0xa1], false, false),
            ([0x4d, 0x3c, 0xb2, 0xa1], false, true),
            ([0xa1, 0xb2, 0xc3, 0xd4], true, false),
            ([0xa1, 0xb2, 0x3c, 0x4d], true, true),
        ];
        for (magic, big_endian, nanosecond) in cases {
            assert_eq!(
                detect(&header(magic, big_endian)),
                Ok(Format::Pcap {
                    big_endian,
                    nanosecond,
                    link: LinkType::Ethernet,
                    snaplen: 65535
                }),
                "{magic:02x?}"
            );
        }
        // The modified (Kuznetzov) format: 24-byte record headers.
        let mut modified = header([0x34, 0xcd, 0xb2, 0xa1], false);
        let record = [1u32, 2, 4, 4, 0, 0];
        for f in record {
            modified.extend_from_slice(&f.to_le_bytes());
        }
        modified.extend_from_slice(&[9, 9, 9, 9]);
        let capture = CaptureFile::from_bytes(modified).unwrap();
        let frames: Vec<_> = capture.frames().collect();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].as_ref().unwrap().data, &[9, 9, 9, 9]);
    }

    #[test]
    fn bundled_capture_frames_decode() {
        use crate::packets::decode::decode;
        use std::fmt::Write;

        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/crafted.pcap");
        let capture = CaptureFile::open(&path).unwrap();
        let mut lines = String::new();
        for frame in capture.frames() {
            let frame = frame.unwrap(); // the damage, if any, after every good frame
            if let Ok(packet) = decode(frame.link, frame.data) {
                writeln!(lines, "{} {} -> {}", frame.number, packet.src, packet.dst).unwrap();
            }
        }
        assert!(lines.starts_with("1 192.0.2.10 -> 192.0.2.53\n"), "{lines}");
        assert!(lines.contains(" 192.0.2.10 -> 203.0.113.7\n"), "{lines}");
        assert!(
            lines.contains(" 2001:db8::10 -> 2001:db8:bad::1\n"),
            "{lines}"
        );
    }
}
