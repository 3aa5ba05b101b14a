//! Following a file like `tail -F`: hand out lines as they are appended, and keep going when the
//! file is rotated (renamed away and created anew) or truncated in place (`copytruncate`).

use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use memchr::{memchr, memrchr};

use super::chunk::{Chunk, ChunkData, Numbering, overlap};
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
    /// The most of a line held at once: a longer line is handed out in overlapping pieces of
    /// this size (see [`super::Piece`]); [`MAX_LINE`] unless testing (at least 64).
    pub piece_size: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_millis(200),
            from_end: false,
            read_size: 1 << 20,
            piece_size: MAX_LINE,
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
    /// How many bytes at the front of `pending` are known to hold no `\n` (each byte is
    /// searched once, however long a line grows).
    searched: usize,
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
            searched: 0,
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
            // What an earlier read left: a long line's next piece.
            if let Some(c) = self.take_lines() {
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

    /// The whole lines at the front of `pending`, as a chunk; or, when the line at the front
    /// is longer than the piece size, a piece of it whose last bytes start the next one
    /// (memory stays bounded, no token is lost at the cut).
    fn take_lines(&mut self) -> Option<Chunk> {
        let size = self.opts.piece_size.max(64);
        let from = self.searched;
        let first = memchr(b'\n', &self.pending[from..]).map_or(self.pending.len(), |i| from + i);
        if first >= size {
            let keep = overlap(size);
            let rest = self.pending[size - keep..].to_vec();
            self.pending.truncate(size);
            let piece = std::mem::replace(&mut self.pending, rest);
            self.searched = first - (size - keep);
            return Some(self.numbering.next_cut(ChunkData::Owned(piece), keep));
        }
        if first == self.pending.len() {
            self.searched = first;
            return None;
        }
        let last = first + memrchr(b'\n', &self.pending[first..]).expect("a \\n at `first`");
        let rest = self.pending.split_off(last + 1);
        self.searched = 0;
        let data = std::mem::replace(&mut self.pending, rest);
        Some(self.chunk(data))
    }

    /// Everything pending, as a chunk (a line without its `\n`), if anything is.
    fn flush_pending(&mut self) -> Option<Chunk> {
        self.searched = 0;
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
    fn a_line_without_end_comes_in_bounded_overlapping_pieces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let piece = 4096;
        let mut data: Vec<u8> = (0..piece * 3).map(|i| b'a' + (i % 26) as u8).collect();
        data.extend_from_slice(b"\nnext\n");
        std::fs::write(&path, &data).unwrap();
        for read_size in [100, 1 << 20] {
            let opts = FollowOptions {
                read_size,
                piece_size: piece,
                ..FollowOptions::default()
            };
            let mut follow = Follow::new(&path, opts).unwrap();
            let stop = AtomicBool::new(false);
            let mut fresh = Vec::new();
            let mut cuts = 0;
            while fresh.len() < data.len() {
                let c = follow.next_chunk(&stop).unwrap().unwrap();
                assert!(c.len() <= piece);
                assert_eq!(c.offset, (fresh.len() - c.piece.repeated) as u64);
                assert_eq!(
                    c.offset - c.piece.lead,
                    if c.first_line == 1 { 0 } else { 3 * 4096 + 1 }
                );
                cuts += usize::from(c.piece.cut > 0);
                fresh.extend_from_slice(&c.bytes()[c.piece.repeated..]);
            }
            assert_eq!(fresh, data);
            assert!(cuts >= 3, "{cuts}");
        }
    }
}
