//! Following a file like `tail -F`: hand out lines as they are appended, and keep going when the
//! file is rotated (renamed away and created anew) or truncated in place (`copytruncate`).

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use memchr::memrchr;

use super::chunk::{Chunk, ChunkData, count_lines};
use crate::error::{Error, Result};

/// How a file is followed.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// How long to sleep when the file has nothing new.
    pub poll: Duration,
    /// Start at the file's current end instead of its beginning (lines already there are
    /// skipped; only new ones are read).
    pub from_end: bool,
    /// Bytes read per call.
    pub read_size: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_millis(200),
            from_end: false,
            read_size: 1 << 20,
        }
    }
}

/// The file being read now.
struct Open {
    file: File,
    /// Device and inode: a rotation gives the path a different pair.
    id: (u64, u64),
    /// Bytes of this file read so far (= position in it).
    pos: u64,
}

/// A followed file. [`Follow::next_chunk`] blocks (polling) until whole lines are there.
///
/// Each file the path names in turn is a *generation*: [`Chunk::generation`] counts them, and
/// line numbers and offsets restart at each. On rotation the old file is read to its end
/// before the new one is opened, so lines written just before the rename are not lost; on
/// truncation reading restarts at the beginning. Bytes after the last `\n` wait for the rest
/// of their line, except at a rotation, a truncation or a stop, where they are handed out as a
/// line of their own.
pub struct Follow {
    path: PathBuf,
    source: Arc<str>,
    opts: FollowOptions,
    open: Option<Open>,
    /// Whether the first open is still to come (only it honours `from_end`).
    first: bool,
    generation: u64,
    seq: u64,
    next_line: u64,
    /// Offset (within the generation) of `pending`'s first byte.
    offset: u64,
    /// Bytes read and not yet handed out: a line still being written.
    pending: Vec<u8>,
    /// A chunk ready to be handed out before anything else (the tail of a rotated file).
    ready: Option<Chunk>,
    /// Read buffer, `read_size` bytes.
    buf: Vec<u8>,
}

impl Follow {
    /// Follows `path`; the file need not exist yet.
    pub fn new(path: &Path, opts: FollowOptions) -> Result<Follow> {
        if opts.read_size == 0 {
            return Err(Error::invalid("follow: read size must be positive"));
        }
        Ok(Follow {
            path: path.to_path_buf(),
            source: path.to_string_lossy().into(),
            open: None,
            first: true,
            generation: 0,
            seq: 0,
            next_line: 1,
            offset: 0,
            pending: Vec::new(),
            ready: None,
            buf: vec![0; opts.read_size],
            opts,
        })
    }

    /// The next run of whole lines, waiting for them as long as it takes; `None` once `stop`
    /// is set (after handing out any bytes still pending).
    pub fn next_chunk(&mut self, stop: &AtomicBool) -> Result<Option<Chunk>> {
        loop {
            if let Some(c) = self.ready.take() {
                return Ok(Some(c));
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(self.flush_pending());
            }
            if self.open.is_none() && !self.try_open()? {
                std::thread::sleep(self.opts.poll);
                continue;
            }
            let open = self.open.as_mut().expect("opened above");
            let n = match open.file.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            open.pos += n as u64;
            if n > 0 {
                self.pending.extend_from_slice(&self.buf[..n]);
                if let Some(c) = self.take_lines() {
                    return Ok(Some(c));
                }
                continue;
            }
            // At the end of the file: has the path moved on, or the file shrunk?
            match self.changed()? {
                Change::None => std::thread::sleep(self.opts.poll),
                Change::Truncated => {
                    let tail = self.flush_pending();
                    let open = self.open.as_mut().expect("still open");
                    open.file
                        .seek(SeekFrom::Start(0))
                        .map_err(|e| Error::io(&self.path, e))?;
                    open.pos = 0;
                    self.new_generation();
                    self.ready = tail;
                }
                Change::Rotated => {
                    // The old file was read to its end just now; what is left is a last line
                    // without `\n`.
                    let tail = self.flush_pending();
                    self.open = None;
                    self.new_generation();
                    self.ready = tail;
                }
            }
        }
    }

    /// Opens the path if it exists; `false` if it does not (yet).
    fn try_open(&mut self) -> Result<bool> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io(&self.path, e)),
        };
        let meta = file.metadata().map_err(|e| Error::io(&self.path, e))?;
        let mut pos = 0;
        if self.first && self.opts.from_end {
            pos = file
                .seek(SeekFrom::End(0))
                .map_err(|e| Error::io(&self.path, e))?;
            self.offset = pos;
        }
        self.first = false;
        self.open = Some(Open {
            file,
            id: (meta.dev(), meta.ino()),
            pos,
        });
        Ok(true)
    }

    /// What happened to the path since the file was opened (checked at the file's end).
    fn changed(&self) -> Result<Change> {
        let open = self.open.as_ref().expect("checked while open");
        match std::fs::metadata(&self.path) {
            // Renamed away and not created again yet: keep reading the old file, which its
            // writer may still be appending to.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Change::None),
            Err(e) => Err(Error::io(&self.path, e)),
            Ok(m) if (m.dev(), m.ino()) != open.id => Ok(Change::Rotated),
            Ok(m) if m.len() < open.pos => Ok(Change::Truncated),
            Ok(_) => Ok(Change::None),
        }
    }

    fn new_generation(&mut self) {
        self.generation += 1;
        self.next_line = 1;
        self.offset = 0;
    }

    /// The whole lines at the front of `pending`, as a chunk.
    fn take_lines(&mut self) -> Option<Chunk> {
        let last = memrchr(b'\n', &self.pending)?;
        let rest = self.pending.split_off(last + 1);
        let data = std::mem::replace(&mut self.pending, rest);
        Some(self.chunk(data))
    }

    /// Everything pending, as a chunk (a line without its `\n`), if anything is.
    fn flush_pending(&mut self) -> Option<Chunk> {
        if self.pending.is_empty() {
            return None;
        }
        let data = std::mem::take(&mut self.pending);
        Some(self.chunk(data))
    }

    fn chunk(&mut self, data: Vec<u8>) -> Chunk {
        let line_count = count_lines(&data);
        let chunk = Chunk {
            source: self.source.clone(),
            generation: self.generation,
            seq: self.seq,
            first_line: self.next_line,
            line_count,
            offset: self.offset,
            data: ChunkData::Owned(data),
        };
        self.seq += 1;
        self.next_line += line_count;
        self.offset += chunk.len() as u64;
        chunk
    }
}

/// What [`Follow::changed`] saw.
enum Change {
    None,
    Truncated,
    Rotated,
}
