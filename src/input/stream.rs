//! Streams (stdin, pipes, gzip): read into a buffer and cut into chunks of whole lines.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

use memchr::memrchr;

use super::chunk::{Chunk, ChunkData, Numbering};
use super::{ReadMode, SourceStats};
use crate::error::{Error, Result};

/// Cuts a stream into chunks of whole lines and hands them to `each` in order until it returns
/// `false`. A chunk is handed out when `target` bytes have gathered or when a read comes back
/// short (the writer has nothing more ready: on a pipe, every complete line is matched as soon
/// as it arrives); the bytes after its last `\n` wait for the rest of their line. A final line
/// without `\n` is handed out at the end. `path` names the input in errors.
pub fn chunks_from_reader(
    mut reader: impl Read,
    path: &Path,
    source: Arc<str>,
    target: usize,
    mode: ReadMode,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    let target = target.max(1);
    let mut stats = SourceStats {
        mode,
        ..SourceStats::default()
    };
    let mut numbering = Numbering::new(source);
    let mut buf: Vec<u8> = Vec::new();
    let mut emit = |data: Vec<u8>, stats: &mut SourceStats| -> bool {
        let chunk = numbering.next(ChunkData::Owned(data));
        stats.chunks = numbering.chunks();
        stats.lines += chunk.line_count;
        stats.bytes += chunk.len() as u64;
        each(chunk)
    };
    // `buf[..filled]` holds bytes read and not yet handed out; the rest is room to read into
    // (zeroed once when the buffer grows, not per read). The buffer never holds more than
    // `cap` bytes: a line longer than MAX_LINE is handed out in pieces, so that a stream
    // without line ends (a binary file on stdin) cannot take all memory; no byte is dropped.
    let cap = target.max(MAX_LINE);
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
                    emit(buf[..filled].to_vec(), &mut stats);
                }
                return Err(Error::io(path, e));
            }
        };
        let before = filled;
        filled += n;
        if n == 0 {
            if filled > 0 && !emit(buf[..filled].to_vec(), &mut stats) {
                stats.stopped = true;
            }
            return Ok(stats);
        }
        if let Some(i) = memrchr(b'\n', &buf[before..filled]) {
            lines_end = Some(before + i + 1);
        }
        let cut = match lines_end {
            Some(end) if filled >= target || n < room || filled == buf.len() => Some(end),
            None if filled == cap => Some(filled),
            _ => None,
        };
        if let Some(end) = cut {
            let data = buf[..end].to_vec();
            buf.copy_within(end..filled, 0);
            filled -= end;
            lines_end = None;
            if !emit(data, &mut stats) {
                stats.stopped = true;
                return Ok(stats);
            }
        }
    }
}

/// The longest line a stream hands out whole (with chunks of up to this size): longer ones
/// come in pieces of this size.
pub const MAX_LINE: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], target: usize) -> Vec<Chunk> {
        let mut out = Vec::new();
        let stats = chunks_from_reader(
            data,
            Path::new("t"),
            "t".into(),
            target,
            ReadMode::Stream,
            &mut |c| {
                out.push(c);
                true
            },
        )
        .unwrap();
        assert_eq!(stats.bytes, data.len() as u64);
        out
    }

    #[test]
    fn every_byte_arrives_once_in_whole_lines() {
        let data: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i} {}\n", "x".repeat(i % 300)).into_bytes())
            .chain(*b"last line without newline")
            .collect();
        for target in [1, 7, 4096, 1 << 20] {
            let got = chunks(&data, target);
            let joined: Vec<u8> = got.iter().flat_map(|c| c.bytes().to_vec()).collect();
            assert_eq!(joined, data);
            let mut line = 1;
            for c in &got {
                assert_eq!(c.first_line, line);
                assert!(c.bytes().ends_with(b"\n") || c.bytes().ends_with(b"newline"));
                line += c.line_count;
            }
            assert_eq!(line - 1, 5001);
        }
    }

    #[test]
    fn an_endless_line_comes_in_bounded_pieces() {
        let mut data = vec![b'a'; MAX_LINE + MAX_LINE / 2];
        data.extend_from_slice(b"\nnext\n");
        for target in [1 << 20, 3 << 20] {
            let got = chunks(&data, target);
            assert!(got.iter().all(|c| c.len() <= MAX_LINE));
            let joined: Vec<u8> = got.iter().flat_map(|c| c.bytes().to_vec()).collect();
            assert_eq!(joined, data);
            assert_eq!(got[0].len(), MAX_LINE);
        }
    }
}
