//! Following a file like `tail -F`: hand out lines as they are appended, and keep going when the
//! file is rotated (renamed away and created anew) or truncated in place (`copytruncate`),
//! however fast: every file that appears at the path is opened as it appears (see
//! [`super::watch`]) and read to its end in turn.

use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::select;
use memchr::{memchr, memrchr};

use super::chunk::{Chunk, ChunkData, Numbering, overlap};
use super::stream::MAX_LINE;
use super::watch::{Arrival, Watcher};
use crate::indicators::error::{Error, Result};
use crate::indicators::notice::Notices;

/// How a file is followed.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// The longest wait for news before looking again: with inotify, a safety net (news wakes
    /// the reader at once); without, how often the path is looked at.
    pub poll: Duration,
    /// Start at the file's current end instead of its beginning (lines already there are
    /// skipped; only new ones are read).
    pub from_end: bool,
    /// Bytes read per call.
    pub read_size: usize,
    /// The most of a line held at once: a longer line is handed out in overlapping pieces of
    /// this size (see `Piece`); `MAX_LINE` unless testing (at least 64).
    pub piece_size: usize,
    /// Watch the directory with inotify (Linux), so that every file rotated away is read
    /// however fast the rotation; where it is off or unavailable, the path is looked at every
    /// `poll`, and files that come and go in between are missed (said to `notices`).
    pub notify: bool,
    /// Hears what could not be read (files gone before they could be opened, bytes written
    /// to a rotated file too late) as it happens, and a fall-back from inotify to polling.
    pub notices: Notices,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll: Duration::from_millis(200),
            from_end: false,
            read_size: 1 << 20,
            piece_size: MAX_LINE,
            notify: true,
            notices: Notices::default(),
        }
    }
}

/// What following a file could not read, each also said to [`FollowOptions::notices`] when
/// it happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FollowLosses {
    /// Files that appeared at the path and could not be read (deleted, replaced or moved out
    /// of the directory before they could be opened), and kernel event queue overflows (in
    /// which files may have been missed).
    pub files: u64,
    /// Bytes written to a rotated file after it had been read to its end and the next file
    /// was being read.
    pub late_bytes: u64,
}

/// How long a rotated file may stay quiet, while the file after it is still empty, before the
/// follower moves on: after a rename, writers often go on writing to the old file a moment
/// (logrotate's `create`, then a signal to reopen).
const ROTATION_GRACE: Duration = Duration::from_secs(1);

/// A file being read.
struct Open {
    file: std::fs::File,
    /// Bytes of this file read so far (= position in it).
    pos: u64,
}

/// A followed file. [`Follow::next_chunk`] blocks until whole lines are there.
///
/// Each file the path names in turn is a *generation*: `generation` counts them, and
/// line numbers and offsets restart at each. A rotated file is read to its end before the
/// next one: once the next one has data, or a file after it appeared, or the rotated one has
/// been quiet a second; bytes written to it later are counted as lost
/// ([`FollowLosses::late_bytes`]). On truncation reading restarts at the beginning. Bytes
/// after the last `\n` wait for the rest of their line, except at a rotation, a truncation or
/// a stop, where they are handed out as a line of their own.
pub struct Follow {
    path: PathBuf,
    opts: FollowOptions,
    watcher: Watcher,
    open: Option<Open>,
    /// When a read of the open file last brought data.
    last_data: Instant,
    /// The file after the open one, to move on to once the open one is done.
    next: Option<Arrival>,
    /// The file before the open one, still watched for late writes.
    previous: Option<Open>,
    late_bytes: u64,
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
            watcher: Watcher::start(path, opts.poll, opts.notify, opts.notices.clone()),
            open: None,
            last_data: Instant::now(),
            next: None,
            previous: None,
            late_bytes: 0,
            numbering: Numbering::new(path.to_string_lossy().into()),
            pending: Vec::new(),
            searched: 0,
            ready: None,
            buf: vec![0; opts.read_size],
            opts,
        })
    }

    /// What could not be read so far.
    pub fn losses(&self) -> FollowLosses {
        FollowLosses {
            files: self.watcher.lost(),
            late_bytes: self.late_bytes,
        }
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
                self.check_late();
                return Ok(self.flush_pending());
            }
            let Some(open) = self.open.as_mut() else {
                // Nothing open yet: wait for the first file.
                if let Some(a) = self.wait() {
                    self.start(a)?;
                }
                continue;
            };
            let n = match open.file.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            if n > 0 {
                open.pos += n as u64;
                self.last_data = Instant::now();
                self.pending.extend_from_slice(&self.buf[..n]);
                continue;
            }
            // At the end of the open file.
            let len = open
                .file
                .metadata()
                .map_err(|e| Error::io(&self.path, e))?
                .len();
            if len < open.pos {
                // Truncated in place: the rest of the old content is gone; start over.
                open.file
                    .seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(&self.path, e))?;
                open.pos = 0;
                self.ready = self.flush_pending();
                self.numbering.new_generation();
                continue;
            }
            if self.next.is_none() {
                self.next = self.watcher.arrivals.try_recv().ok();
            }
            if self.next.as_ref().is_some_and(|a| self.may_move_on(a)) {
                let a = self.next.take().expect("checked above");
                self.switch(a)?;
                continue;
            }
            if let Some(a) = self.wait() {
                self.next = Some(a);
            }
        }
    }

    /// Whether the writer has left the open file for `next`: `next` has data, a file came
    /// after it, or the open file has been quiet for [`ROTATION_GRACE`].
    fn may_move_on(&self, next: &Arrival) -> bool {
        next.file.metadata().is_ok_and(|m| m.len() > 0)
            || !self.watcher.arrivals.is_empty()
            || self.last_data.elapsed() >= ROTATION_GRACE
    }

    /// Waits for news: a new file (taken only when there is room for it in `next`), a change
    /// in the directory, or `poll`.
    fn wait(&mut self) -> Option<Arrival> {
        let poll = self.opts.poll;
        let w = &self.watcher;
        // A watcher thread that is gone (it ends only with `Follow`, or by a panic) leaves
        // its channels disconnected, which wake at once: sleep instead of spinning.
        let mut gone = false;
        let got = if self.next.is_some() {
            select! {
                recv(w.wake) -> r => {
                    gone = r.is_err();
                    None
                }
                default(poll) => None,
            }
        } else {
            select! {
                recv(w.arrivals) -> a => {
                    gone = a.is_err();
                    a.ok()
                }
                recv(w.wake) -> r => {
                    gone = r.is_err();
                    None
                }
                default(poll) => None,
            }
        };
        if gone {
            std::thread::sleep(poll);
        }
        got
    }

    /// Starts reading `a` (from its end if it was there when following began and `from_end`
    /// is set).
    fn start(&mut self, a: Arrival) -> Result<()> {
        let mut file = a.file;
        let mut pos = 0;
        if a.initial && self.opts.from_end {
            pos = file
                .seek(SeekFrom::End(0))
                .map_err(|e| Error::io(&self.path, e))?;
            self.numbering.skip_to(pos);
        }
        self.open = Some(Open { file, pos });
        self.last_data = Instant::now();
        Ok(())
    }

    /// Moves on from the open file to `next`, after reading the open one to its end: its
    /// writer may have appended to it between the read that found its end and now. What is
    /// left after its last `\n` is a last line without one.
    fn switch(&mut self, next: Arrival) -> Result<()> {
        let open = self.open.as_mut().expect("a file is open");
        loop {
            match open.file.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => {
                    open.pos += n as u64;
                    self.pending.extend_from_slice(&self.buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.path, e)),
            }
        }
        self.ready = self.flush_pending();
        self.check_late();
        self.previous = self.open.take();
        self.numbering.new_generation();
        self.start(next)
    }

    /// Counts (and says) what was written to the file before the open one after it was read
    /// to its end.
    fn check_late(&mut self) {
        let Some(p) = self.previous.take() else {
            return;
        };
        let len = p.file.metadata().map_or(0, |m| m.len());
        if len > p.pos {
            let late = len - p.pos;
            self.late_bytes += late;
            self.opts.notices.say(format_args!(
                "{}: {late} bytes were written to a rotated file after it had been read to its \
                 end and the next one was being read: they are lost",
                self.path.display()
            ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The next `n` lines as (generation, number, offset, text).
    fn lines(f: &mut Follow, n: usize) -> Vec<(u64, u64, u64, String)> {
        let stop = AtomicBool::new(false);
        let mut got = Vec::new();
        while got.len() < n {
            let c = f.next_chunk(&stop).unwrap().unwrap();
            got.extend(c.lines().map(|l| {
                let text = String::from_utf8_lossy(l.bytes).into_owned();
                (c.generation, l.number, l.offset, text)
            }));
        }
        got
    }

    fn line(g: u64, n: u64, o: u64, t: &str) -> (u64, u64, u64, String) {
        (g, n, o, t.to_string())
    }

    #[test]
    fn lines_written_to_the_rotated_file_before_the_next_has_data_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        std::fs::write(&path, "a\n").unwrap();
        let mut f = Follow::new(&path, FollowOptions::default()).unwrap();
        assert_eq!(lines(&mut f, 1), [line(0, 1, 0, "a")]);
        // The writer renames the file and a new, empty one appears (logrotate's `create`);
        // the writer goes on writing to the old file a moment, then moves over.
        let mut old = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
        let mut new = std::fs::File::create(&path).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        old.write_all(b"b\nc").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        new.write_all(b"d\n").unwrap();
        assert_eq!(
            lines(&mut f, 3),
            [line(0, 2, 2, "b"), line(0, 3, 4, "c"), line(1, 1, 0, "d")]
        );
        // Written to the old file once the follower has moved on: counted as lost.
        old.write_all(b"late\n").unwrap();
        new.write_all(b"e\n").unwrap();
        std::fs::rename(&path, dir.path().join("app.log.2")).unwrap();
        std::fs::write(&path, "f\n").unwrap();
        assert_eq!(lines(&mut f, 2), [line(1, 2, 2, "e"), line(2, 1, 0, "f")]);
        assert_eq!(
            f.losses(),
            FollowLosses {
                files: 0,
                late_bytes: 5
            }
        );
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
