//! Log inputs: where lines come from, cut into [`Chunk`]s of whole lines that workers can scan
//! independently.
//!
//! * [`chunks`] — one input read once: a regular file is read in chunks up to the size it had
//!   when it was opened (a file truncated meanwhile ends early, and the bytes not read are
//!   counted); a gzip file (recognised by its magic bytes) is decompressed as a stream; stdin,
//!   pipes and other non-regular files are read as streams that hand out every complete line
//!   as soon as it has arrived (so `tail -F x | trawl scan logs -` answers per line).
//! * [`Follow`] — one file followed like `tail -F`: new lines as they are appended, across
//!   rotation (rename and a new file, however fast: every file that appears at the path is
//!   opened at once, with inotify) and truncation.
//!
//! A line is never split between chunks, except a line longer than a stream holds (see
//! [`Piece`]); a final line without `\n` is still a line.

pub(crate) mod chunk;
mod file;
mod follow;
mod stream;
mod watch;

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

pub(crate) use chunk::{Chunk, Piece};
pub use follow::{Follow, FollowLosses, FollowOptions};
pub(crate) use stream::MAX_LINE;
pub(crate) use stream::chunks_from_reader;

use crate::indicators::error::{Error, Result};

/// How an input was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ReadMode {
    /// Read as a regular file, up to its size at open.
    #[default]
    File,
    /// Read as a stream (stdin, pipes, character devices).
    Stream,
    /// Gzip-decompressed as a stream.
    Gzip,
}

/// What reading one input produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SourceStats {
    /// How it was read.
    pub mode: ReadMode,
    /// Chunks handed out.
    pub chunks: u64,
    /// Lines handed out.
    pub lines: u64,
    /// Bytes handed out (decompressed, for gzip).
    pub bytes: u64,
    /// The callback asked to stop before the end.
    pub stopped: bool,
    /// Bytes of a regular file that were not read because the file shrank under the scan
    /// (truncated in place, e.g. by logrotate's `copytruncate`): its size when it was opened
    /// minus what was read.
    pub unread: u64,
}

/// The two bytes every gzip member starts with (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads the input at `path` (`-` for stdin) once, handing its chunks of about `target` bytes
/// to `each` in order until it returns `false`. A stream (stdin, a pipe, gzip) holds at most
/// `piece_size` bytes ([`MAX_LINE`] unless testing): longer lines come in overlapping pieces
/// (see [`Piece`]); so does a regular file, which is read, not mapped (see `file`).
pub(crate) fn chunks(
    path: &Path,
    target: usize,
    piece_size: usize,
    each: &mut dyn FnMut(Chunk) -> bool,
) -> Result<SourceStats> {
    let source: Arc<str> = path.to_string_lossy().into();
    if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        return chunks_from_reader(
            stdin.lock(),
            path,
            source,
            target,
            piece_size,
            ReadMode::Stream,
            each,
        );
    }
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(Error::invalid(format!(
            "{}: is a directory",
            path.display()
        )));
    }
    let regular = meta.is_file();
    let mut magic = [0u8; 2];
    let magic_len = if regular {
        read_up_to(&mut file, &mut magic).map_err(|e| Error::io(path, e))?
    } else {
        0
    };
    if magic_len == 2 && magic == GZIP_MAGIC {
        let stream = std::io::Cursor::new(magic).chain(file);
        let gz = flate2::read::MultiGzDecoder::new(stream);
        return chunks_from_reader(gz, path, source, target, piece_size, ReadMode::Gzip, each);
    }
    if !regular {
        return chunks_from_reader(
            file,
            path,
            source,
            target,
            piece_size,
            ReadMode::Stream,
            each,
        );
    }
    if meta.len() == 0 {
        return Ok(SourceStats::default());
    }
    file::chunks(&file, path, source, target, piece_size, each)
}

/// `read` until `buf` is full or the end; returns how many bytes were read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
