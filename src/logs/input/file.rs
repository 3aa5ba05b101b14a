//! Regular files: read with `read(2)` into chunks of whole lines.
//!
//! Log files were memory-mapped once (no copy), but a log file is a file other processes
//! write: logrotate's `copytruncate` truncates it in place, and a read of a mapped page past
//! the new end raises SIGBUS and kills the scan with no counters. Read, a shrinking file
//! simply ends early: what was read was scanned, and the bytes that were not are counted
//! ([`SourceStats::unread`]) and reported. One copy per byte, from the page cache into the
//! chunk (BENCHMARKS.md measures what it costs against the map).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use memchr::memchr;

use super::chunk::{ChunkData, Numbering, overlap};
use super::{Chunk, ReadMode, SourceStats};
use crate::indicators::error::{Error, Result};

/// How much more is read at a time while looking for the end of a chunk's last line.
const LINE_STEP: usize = 64 << 10;

/// Reads `file` (a regular file of `path`) up to the size it has now, handing out chunks of
/// whole lines of about `target` bytes: each ends at the first `\n` at or after its
/// `target`-th byte, or at the end, so a chunk is at least `target` bytes unless it is the
/// last; a line longer than `piece_size` ([`super::MAX_LINE`] unless testing) comes in
/// overlapping pieces of that size, as on a stream (see [`super::Piece`]), so memory stays
/// bounded and no token is lost at a piece boundary. Bytes appended meanwhile are not read (a
/// file being written is for `Follow`).
pub(crate) fn chunks(
    file: &File,
    path: &Path,
    source: Arc<str>,
    target: usize,
    piece_size: usize,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    // From the start: the caller has read the first bytes to tell gzip from text.
    let mut file = file;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(path, e))?;
    chunks_of(file, size, path, source, target, piece_size, each)
}

/// [`chunks`] over any reader of `size` bytes (the tests shrink one).
fn chunks_of(
    reader: impl Read,
    size: u64,
    path: &Path,
    source: Arc<str>,
    target: usize,
    piece_size: usize,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    let piece = piece_size.max(64);
    let target = target.clamp(1, piece);
    let mut stats = SourceStats {
        mode: ReadMode::File,
        ..SourceStats::default()
    };
    let mut numbering = Numbering::new(source);
    let mut reader = reader.take(size);
    let mut read = 0u64;
    // Bytes read past the end of the last chunk: the start of the next one.
    let mut carry: Vec<u8> = Vec::new();
    let mut eof = false;
    while !eof || !carry.is_empty() {
        let mut buf = Vec::with_capacity(target + LINE_STEP);
        buf.append(&mut carry);
        // Up to `target` bytes, then more until a line ends at or after the target-th byte;
        // `cut`: the last bytes of a piece of an overlong line, which start the next piece.
        let mut want = target.saturating_sub(buf.len());
        // Where the search for the line end goes on from (each byte is searched once).
        let mut from = target - 1;
        let (end, cut) = loop {
            if want > 0 && !eof {
                buf.reserve(want);
                let n = (&mut reader)
                    .take(want as u64)
                    .read_to_end(&mut buf)
                    .map_err(|e| Error::io(path, e))?;
                read += n as u64;
                eof = n < want;
            }
            from = from.min(buf.len());
            if let Some(i) = memchr(b'\n', &buf[from..]) {
                break (from + i + 1, 0);
            }
            from = buf.len();
            if eof {
                break (buf.len(), 0);
            }
            if buf.len() >= piece {
                break (piece, overlap(piece));
            }
            want = LINE_STEP.min(piece - buf.len());
        };
        if end == 0 {
            break;
        }
        carry = buf[end - cut..].to_vec();
        buf.truncate(end);
        let chunk = numbering.next_cut(ChunkData::Owned(buf), cut);
        stats.chunks = numbering.chunks();
        stats.lines += chunk.fresh_lines();
        stats.bytes += chunk.fresh_len() as u64;
        if !each(chunk) {
            stats.stopped = true;
            return Ok(stats);
        }
    }
    stats.unread = size - read;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::input::MAX_LINE;

    fn cut(data: &[u8], size: u64, target: usize) -> (Vec<Chunk>, SourceStats) {
        let mut out = Vec::new();
        let each = &mut |c| {
            out.push(c);
            true
        };
        let stats = chunks_of(
            data,
            size,
            Path::new("t"),
            "t".into(),
            target,
            MAX_LINE,
            each,
        );
        (out, stats.unwrap())
    }

    #[test]
    fn chunks_end_at_the_first_line_end_past_the_target() {
        let data: Vec<u8> = (0..3000)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 200)).into_bytes())
            .chain(*b"last line without newline")
            .collect();
        for target in [1, 7, 100, 4096, 1 << 20] {
            let (got, stats) = cut(&data, data.len() as u64, target);
            let joined: Vec<u8> = got.iter().flat_map(|c| c.bytes().to_vec()).collect();
            assert_eq!(joined, data, "target {target}");
            assert_eq!((stats.bytes, stats.unread), (data.len() as u64, 0));
            let mut line = 1;
            for (i, c) in got.iter().enumerate() {
                assert_eq!(c.first_line, line);
                line += c.line_count;
                if i + 1 < got.len() {
                    assert!(c.len() >= target && c.bytes().ends_with(b"\n"));
                    // The first line end at or after the target-th byte.
                    assert!(!c.bytes()[target.min(c.len()) - 1..c.len() - 1].contains(&b'\n'));
                }
            }
            assert_eq!(line - 1, 3001);
        }
    }

    #[test]
    fn a_file_that_shrank_ends_early_and_counts_what_was_not_read() {
        let data = b"one\ntwo\nthree\n".repeat(100);
        // The size at open was larger than what the reads now find.
        let (got, stats) = cut(&data, data.len() as u64 + 5000, 64);
        let joined: Vec<u8> = got.iter().flat_map(|c| c.bytes().to_vec()).collect();
        assert_eq!(joined, data);
        assert_eq!(stats.unread, 5000);
        // Appended bytes past the size at open are not read.
        let (got, stats) = cut(&data, 8, 64);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].bytes(), stats.unread), (&b"one\ntwo\n"[..], 0));
    }

    #[test]
    fn an_endless_line_comes_in_bounded_pieces() {
        let mut data = vec![b'a'; MAX_LINE + MAX_LINE / 2];
        data.extend_from_slice(b"\nnext\n");
        let (got, stats) = cut(&data, data.len() as u64, 1 << 20);
        assert!(got.iter().all(|c| c.len() <= MAX_LINE));
        assert_eq!(got[0].len(), MAX_LINE);
        // The pieces overlap: each continues with the last bytes of the one before.
        let joined: Vec<u8> = got
            .iter()
            .flat_map(|c| c.bytes()[c.len() - c.fresh_len()..].to_vec())
            .collect();
        assert_eq!(joined, data);
        assert_eq!((stats.bytes, stats.lines), (data.len() as u64, 2));
    }
}
