//! Streams (stdin, pipes, gzip): read into a buffer and cut into chunks of whole lines.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

use memchr::memrchr;

use super::chunk::{Chunk, ChunkData, Numbering, overlap};
use super::{ReadMode, SourceStats};
use crate::indicators::error::{Error, Result};

/// Cuts a stream into chunks of whole lines and hands them to `each` in order until it returns
/// `false`. A chunk is handed out when `target` bytes have gathered or when a read comes back
/// short (the writer has nothing more ready: on a pipe, every complete line is matched as soon
/// as it arrives); the bytes after its last `\n` wait for the rest of their line. A final line
/// without `\n` is handed out at the end. `path` names the input in errors.
///
/// The stream never holds more than `piece_size` bytes ([`MAX_LINE`] in production; at least
/// 64): a longer line is handed out in overlapping pieces of that size (see
/// [`super::Piece`]), so that a stream without line ends (a binary file on stdin) cannot take
/// all memory and no token is lost at a piece boundary.
pub(crate) fn chunks_from_reader(
    mut reader: impl Read,
    path: &Path,
    source: Arc<str>,
    target: usize,
    piece_size: usize,
    mode: ReadMode,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    let target = target.max(1);
    let cap = piece_size.max(64);
    let mut stats = SourceStats {
        mode,
        ..SourceStats::default()
    };
    let mut numbering = Numbering::new(source);
    let mut buf: Vec<u8> = Vec::new();
    let mut emit = |data: Vec<u8>, cut: usize, stats: &mut SourceStats| -> bool {
        let chunk = numbering.next_cut(ChunkData::Owned(data), cut);
        stats.chunks = numbering.chunks();
        stats.lines += chunk.fresh_lines();
        stats.bytes += chunk.fresh_len() as u64;
        each(chunk)
    };
    // `buf[..filled]` holds bytes read and not yet handed out; the rest is room to read into
    // (zeroed once when the buffer grows, not per read). The buffer never holds more than
    // `cap` bytes.
    let mut filled = 0;
    // Just past the last `\n` in `buf[..filled]`, if any (each byte is searched once).
    let mut lines_end: Option<usize> = None;
    loop {
        if buf.len() - filled < 4096 && buf.len() < cap {
            let grow = buf.len().max(target);
            buf.resize((buf.len() + grow).min(cap), 0);
        }
        let room = buf.len() - filled;
        let n = match reader.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                // What was read before the error is still handed out.
                if filled > 0 {
                    emit(buf[..filled].to_vec(), 0, &mut stats);
                }
                return Err(Error::io(path, e));
            }
        };
        let before = filled;
        filled += n;
        if n == 0 {
            if filled > 0 && !emit(buf[..filled].to_vec(), 0, &mut stats) {
                stats.stopped = true;
            }
            return Ok(stats);
        }
        if let Some(i) = memrchr(b'\n', &buf[before..filled]) {
            lines_end = Some(before + i + 1);
        }
        // What to hand out: whole lines up to `end`, or (a line filling the whole buffer) a
        // piece of it, whose last `keep` bytes stay to start the next piece.
        let (end, keep) = match lines_end {
            Some(end) if filled >= target || n < room || filled == buf.len() => (end, 0),
            None if filled == cap => (filled, overlap(cap)),
            _ => continue,
        };
        let data = buf[..end].to_vec();
        buf.copy_within(end - keep..filled, 0);
        filled -= end - keep;
        lines_end = None;
        if !emit(data, keep, &mut stats) {
            stats.stopped = true;
            return Ok(stats);
        }
    }
}

/// The longest line a stream hands out whole (with chunks of up to this size): longer ones
/// come in overlapping pieces of this size (see [`super::Piece`]).
pub(crate) const MAX_LINE: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], target: usize, piece_size: usize) -> Vec<Chunk> {
        let mut out = Vec::new();
        let stats = chunks_from_reader(
            data,
            Path::new("t"),
            "t".into(),
            target,
            piece_size,
            ReadMode::Stream,
            &mut |c| {
                out.push(c);
                true
            },
        )
        .unwrap();
        assert_eq!(stats.bytes, data.len() as u64);
        assert_eq!(
            stats.lines,
            super::super::chunk::count_lines(data),
            "lines counted once"
        );
        out
    }

    #[test]
    fn every_byte_arrives_once_in_whole_lines() {
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 300)).into_bytes())
            .chain(*b"last line without newline")
            .collect();
        for target in [1, 7, 4096, 1 << 20] {
            let got = chunks(&data, target, MAX_LINE);
            let joined: Vec<u8> = got.iter().flat_map(|c| c.bytes().to_vec()).collect();
            assert_eq!(joined, data);
            let mut line = 1;
            for c in &got {
                assert_eq!(c.first_line, line);
                assert_eq!(c.piece, Default::default());
                assert!(c.bytes().ends_with(b"\n") || c.bytes().ends_with(b"newline"));
                line += c.line_count;
            }
            assert_eq!(line - 1, 5001);
        }
    }

    /// A line longer than the piece size comes in pieces of that size, each repeating the
    /// previous one's last `overlap` bytes; every piece knows where its line started.
    #[test]
    fn an_endless_line_comes_in_bounded_overlapping_pieces() {
        let piece = 4096;
        let keep = overlap(piece);
        let long: Vec<u8> = (0..piece * 5 / 2).map(|i| b'a' + (i % 26) as u8).collect();
        let mut data = b"first\n".to_vec();
        data.extend_from_slice(&long);
        data.extend_from_slice(b"\nnext\n");
        for target in [1, 1000, 1 << 20] {
            let got = chunks(&data, target, piece);
            assert!(got.iter().all(|c| c.len() <= piece));
            let mut fresh = Vec::new();
            let mut prev: Option<&Chunk> = None;
            for c in &got {
                if let Some(p) = prev {
                    assert_eq!(c.piece.repeated, p.piece.cut);
                    let shared = &p.bytes()[p.len() - p.piece.cut..];
                    assert_eq!(&c.bytes()[..c.piece.repeated], shared);
                    assert_eq!(c.offset, p.offset + (p.len() - p.piece.cut) as u64);
                }
                if c.piece.lead > 0 {
                    assert_eq!((c.first_line, c.offset - c.piece.lead), (2, 6));
                }
                fresh.extend_from_slice(&c.bytes()[c.piece.repeated..]);
                prev = Some(c);
            }
            assert_eq!(fresh, data, "target {target}");
            let cut: Vec<usize> = got.iter().map(|c| c.piece.cut).filter(|&k| k > 0).collect();
            assert!(cut.len() >= 2 && cut.iter().all(|&k| k == keep), "{cut:?}");
            let last = got.last().unwrap();
            assert_eq!(last.first_line + last.line_count - 1, 3);
        }
    }
}
