//! Streams (stdin, pipes, gzip): read into a buffer and cut into chunks of whole lines.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::sync::Arc;

use memchr::memrchr;

use super::chunk::{Chunk, ChunkData, count_lines};
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
    let mut next_line = 1;
    let mut offset = 0u64;
    let mut buf: Vec<u8> = Vec::new();
    let mut emit = |data: Vec<u8>, stats: &mut SourceStats| -> bool {
        let line_count = count_lines(&data);
        let len = data.len() as u64;
        let chunk = Chunk {
            source: source.clone(),
            generation: 0,
            seq: stats.chunks,
            first_line: next_line,
            line_count,
            offset,
            data: ChunkData::Owned(data),
        };
        stats.chunks += 1;
        stats.lines += line_count;
        stats.bytes += len;
        next_line += line_count;
        offset += len;
        each(chunk)
    };
    // `buf[..filled]` holds bytes read and not yet handed out; the rest is room to read into
    // (zeroed once when the buffer grows, not per read).
    let mut filled = 0;
    loop {
        if buf.len() - filled < 4096 {
            let grow = buf.len().max(target);
            buf.resize(buf.len() + grow, 0);
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
        filled += n;
        if n == 0 {
            if filled > 0 && !emit(buf[..filled].to_vec(), &mut stats) {
                stats.stopped = true;
            }
            return Ok(stats);
        }
        if filled >= target || n < room {
            if let Some(last) = memrchr(b'\n', &buf[..filled]) {
                let data = buf[..=last].to_vec();
                buf.copy_within(last + 1..filled, 0);
                filled -= last + 1;
                if !emit(data, &mut stats) {
                    stats.stopped = true;
                    return Ok(stats);
                }
            }
        }
    }
}
