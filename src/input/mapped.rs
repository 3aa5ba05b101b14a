//! Regular files: memory-mapped and cut into chunks at line boundaries without copying.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memchr::memchr;
use memmap2::Mmap;

use super::chunk::{Chunk, ChunkData, Numbering};
use super::{ReadMode, SourceStats};
use crate::error::{Error, Result};

/// Maps `file` (a regular file of `path`, not empty) and hands out its chunks.
pub(crate) fn chunks(
    file: &File,
    path: &Path,
    source: Arc<str>,
    target: usize,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    // SAFETY: the map is only read. A log file may be appended to while it is mapped: the map
    // covers the length at mapping time and nothing past it is read, so appends are harmless
    // (and not seen: a file being written is for `Follow`). A file truncated under the map
    // makes reads past its new end fault (SIGBUS); files that get rotated by truncation
    // (logrotate `copytruncate`) must be read with `Follow`, which uses read(2) and no map.
    let map = unsafe { Mmap::map(file) }.map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    {
        // Chunks are handed out front to back: ask for aggressive read-ahead. A hint only.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(split(Arc::new(map), source, target, each))
}

/// Cuts a whole map into chunks of about `target` bytes: each ends at the first `\n` at or
/// after its `target`-th byte (or at the end of the map), so a chunk is at least `target`
/// bytes unless it is the last, and a line longer than `target` goes whole into one chunk.
pub(crate) fn split(
    map: Arc<Mmap>,
    source: Arc<str>,
    target: usize,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> SourceStats {
    let target = target.max(1);
    let len = map.len();
    let mut stats = SourceStats {
        mode: ReadMode::Mapped,
        ..SourceStats::default()
    };
    let mut numbering = Numbering::new(source);
    let mut start = 0;
    while start < len {
        let end = if len - start > target {
            // The chunk's `target`-th byte; the chunk ends at the first `\n` from there.
            let probe = start + target - 1;
            memchr(b'\n', &map[probe..]).map_or(len, |i| probe + i + 1)
        } else {
            len
        };
        let chunk = numbering.next(ChunkData::Mapped {
            map: map.clone(),
            range: start..end,
        });
        stats.chunks = numbering.chunks();
        stats.lines += chunk.line_count;
        stats.bytes += (end - start) as u64;
        start = end;
        if !each(chunk) {
            stats.stopped = true;
            break;
        }
    }
    stats
}
