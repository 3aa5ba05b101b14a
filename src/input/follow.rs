//! Following a file like `tail -F`: hand out lines as they are appended, and keep going when the
//! file is rotated (renamed away and created anew) or truncated in place (`copytruncate`).

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use memchr::memrchr;

use super::chunk::{Chunk, ChunkData, Numbering};
use super::stream::MAX_LINE;
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
    opts: FollowOptions,
    open: Option<Open>,
    /// Whether the first open is still to come (only it honours `from_end`).
    first: bool,
    /// Numbers the chunks handed out (the next one starts at `pending`'s first byte).
    numbering: Numbering,
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
            open: None,
            first: true,
            numbering: Numbering::new(path.to_string_lossy().into()),
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
            if !self.at_end()? {
                std::thread::sleep(self.opts.poll);
            }
        }
    }

    /// At the end of the open file (a read came back empty): moves on to the next generation
    /// if the path was rotated or the file truncated, and says whether it did.
    fn at_end(&mut self) -> Result<bool> {
        match self.changed()? {
            Change::None => Ok(false),
            Change::Truncated => {
                let tail = self.flush_pending();
                let open = self.open.as_mut().expect("still open");
                open.file
                    .seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(&self.path, e))?;
                open.pos = 0;
                self.numbering.new_generation();
                self.ready = tail;
                Ok(true)
            }
            Change::Rotated => {
                // The writer may have appended to the old file between the read that found its
                // end and the look at the path (it writes its last lines, then reopens): read
                // it to its end once more, or those lines are lost. What is left after the last
                // `\n` is a last line without one.
                self.drain()?;
                let tail = self.flush_pending();
                self.open = None;
                self.numbering.new_generation();
                self.ready = tail;
                Ok(true)
            }
        }
    }

    /// Reads the open file to its end into `pending`.
    fn drain(&mut self) -> Result<()> {
        let open = self.open.as_mut().expect("checked while open");
        loop {
            match open.file.read(&mut self.buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    open.pos += n as u64;
                    self.pending.extend_from_slice(&self.buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.path, e)),
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
            self.numbering.skip_to(pos);
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

    /// The whole lines at the front of `pending`, as a chunk; or, when a line has grown to
    /// [`MAX_LINE`] bytes without its end, that piece of it (memory stays bounded, no byte
    /// is dropped).
    fn take_lines(&mut self) -> Option<Chunk> {
        let Some(last) = memrchr(b'\n', &self.pending) else {
            if self.pending.len() < MAX_LINE {
                return None;
            }
            let rest = self.pending.split_off(MAX_LINE);
            let piece = std::mem::replace(&mut self.pending, rest);
            return Some(self.chunk(piece));
        };
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
        self.numbering.next(ChunkData::Owned(data))
    }
}

/// What [`Follow::changed`] saw.
enum Change {
    None,
    Truncated,
    Rotated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn lines_appended_to_the_rotated_file_after_its_end_was_seen_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "a\n").unwrap();
        let stop = AtomicBool::new(false);
        let mut f = Follow::new(&path, FollowOptions::default()).unwrap();
        let c = f.next_chunk(&stop).unwrap().unwrap();
        assert_eq!((c.bytes(), c.generation), (&b"a\n"[..], 0));
        // The follower's read has just come back empty; before it looks at the path, the
        // writer renames the file, writes its last line to it, and starts a new file.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        old.write_all(b"b\nc").unwrap();
        std::fs::write(&path, "d\n").unwrap();
        assert!(f.at_end().unwrap());
        let c = f.next_chunk(&stop).unwrap().unwrap();
        let lines: Vec<_> = c.lines().map(|l| (l.number, l.offset, l.bytes)).collect();
        assert_eq!(lines, [(2, 2, &b"b"[..]), (3, 4, b"c")]);
        assert_eq!(c.generation, 0);
        let c = f.next_chunk(&stop).unwrap().unwrap();
        assert_eq!((c.bytes(), c.generation, c.first_line), (&b"d\n"[..], 1, 1));
    }

    #[test]
    fn a_line_without_end_comes_in_bounded_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut data = vec![b'a'; MAX_LINE + 100];
        data.extend_from_slice(b"\nnext\n");
        std::fs::write(&path, &data).unwrap();
        let mut follow = Follow::new(&path, FollowOptions::default()).unwrap();
        let stop = AtomicBool::new(false);
        let mut got = Vec::new();
        let mut sizes = Vec::new();
        while got.len() < data.len() {
            let c = follow.next_chunk(&stop).unwrap().unwrap();
            sizes.push(c.len());
            got.extend_from_slice(c.bytes());
        }
        assert_eq!(got, data);
        assert_eq!(sizes[0], MAX_LINE);
        assert!(sizes.iter().all(|&s| s <= MAX_LINE));
    }
}
