//! The files that appear at a followed path, each opened as soon as it appears (for
//! [`super::Follow`]).
//!
//! A rotation renames the file away and creates a new one at the path; a writer that rotates
//! every 10 ms leaves each file there for 10 ms, and a reader that looks at the path now and
//! then misses most of them. [`Watcher`] runs a thread that watches the path's directory with
//! inotify and opens every file that appears at the path (`IN_CREATE`, `IN_MOVED_TO`) at once,
//! handing the open file to the reader, which reads it when it is done with the ones before: a
//! descriptor follows its file through later renames, so the reader may fall behind as far as
//! it likes.
//!
//! When the thread itself falls behind (a file was renamed again before it could be opened),
//! [`Tracker`] follows the renames the events report (`IN_MOVED_FROM`/`IN_MOVED_TO` pairs) to
//! the file's current name and opens it there; the open counts only if no event touched that
//! name between the events read and the open, else it is tried again. A file deleted or moved
//! out of the directory before it could be opened is lost: counted, and said to the caller's
//! [`Notices`].
//!
//! Where inotify is not available (not Linux, no inotify instance or watch left, the
//! directory missing) or not wanted ([`super::FollowOptions::notify`]), the thread looks at
//! the path every poll interval instead, and says (to the [`Notices`]) that files rotated
//! away between two looks are missed. With inotify it also looks every poll interval, as a safety net for
//! what inotify cannot see (changes made on another host of a network filesystem).

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

use crate::indicators::notice::Notices;

/// A file that appeared at the followed path, open.
pub(crate) struct Arrival {
    /// The file.
    pub file: File,
    /// It was at the path when following began (only such a file may be read from its end).
    pub initial: bool,
}

/// The watching thread, and what it hands to the reader.
pub(crate) struct Watcher {
    /// The files that appeared at the path, in order.
    pub arrivals: Receiver<Arrival>,
    /// A token when something in the directory changed (a write, most often): the reader
    /// waits on it rather than sleeping a whole poll interval.
    pub wake: Receiver<()>,
    lost: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The longest the thread waits before it looks at its stop flag.
const STEP: Duration = Duration::from_millis(50);

/// How many times the thread opens the files it tracks while their names keep changing under
/// it before it takes what it has.
const ROUNDS: usize = 16;

impl Watcher {
    /// Starts watching `path` (which need not exist yet): with inotify when `notify` is set
    /// and inotify can watch its directory, else by looking at the path every `poll`. Lost
    /// files and a fall-back to polling are said to `notices`.
    pub(super) fn start(path: &Path, poll: Duration, notify: bool, notices: Notices) -> Watcher {
        let poll = poll.max(Duration::from_millis(1));
        let (arrivals_tx, arrivals) = unbounded();
        let (wake_tx, wake) = bounded(1);
        let lost = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut looker = Looker {
            path: path.to_path_buf(),
            dir,
            name: path.file_name().map(OsString::from).unwrap_or_default(),
            arrivals: arrivals_tx,
            wake: wake_tx,
            lost: lost.clone(),
            last: None,
            notices,
        };
        let flag = stop.clone();
        // The watch is in place before this returns: a file that appears right after is seen.
        let events = if notify {
            Events::watch(&looker.dir)
        } else {
            Err(String::new())
        };
        let thread = std::thread::Builder::new()
            .name("trawl-follow-watch".into())
            .spawn(move || {
                let mut initial = true;
                if notify {
                    match events.and_then(|e| inotify_loop(&mut looker, e, poll, &flag)) {
                        Ok(()) => return,
                        Err(why) => {
                            initial = looker.last.is_none();
                            looker.notices.say(format_args!(
                                "{}: {why}; looking at the path every {} ms instead: a file \
                                 rotated away between two looks is missed",
                                looker.path.display(),
                                poll.as_millis()
                            ));
                        }
                    }
                }
                poll_loop(&mut looker, poll, &flag, initial);
            })
            .expect("spawning a thread");
        Watcher {
            arrivals,
            wake,
            lost,
            stop,
            thread: Some(thread),
        }
    }

    /// Files that appeared at the path and could not be read (gone before they could be
    /// opened), and kernel event queue overflows (files may have been missed in them).
    pub(super) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread's side: opens what is at the path and hands it out.
struct Looker {
    path: PathBuf,
    dir: PathBuf,
    /// The path's file name in `dir`.
    name: OsString,
    arrivals: Sender<Arrival>,
    wake: Sender<()>,
    lost: Arc<AtomicU64>,
    /// The last file handed out, kept open so that its inode cannot be reused by a new file
    /// while it is compared with: a file with its device and inode is the same file, not a
    /// new one.
    last: Option<(File, (u64, u64))>,
    notices: Notices,
}

/// A file's device and inode.
fn id_of(file: &File) -> Option<(u64, u64)> {
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

impl Looker {
    fn last_id(&self) -> Option<(u64, u64)> {
        self.last.as_ref().map(|(_, id)| *id)
    }

    /// Hands `file` to the reader, unless it is the last one handed out.
    fn hand_out(&mut self, file: File, initial: bool) {
        let id = id_of(&file);
        if id.is_some() && id == self.last_id() {
            return;
        }
        // Without a second descriptor (out of them) the next look may hand the same file out
        // again: read twice rather than lost.
        self.last = id.and_then(|id| Some((file.try_clone().ok()?, id)));
        let _ = self.arrivals.send(Arrival { file, initial });
        let _ = self.wake.try_send(());
    }

    fn lose(&self, what: &str) {
        self.lost.fetch_add(1, Ordering::Relaxed);
        self.notices.say(format_args!(
            "{}: {what}: its lines are lost",
            self.path.display()
        ));
    }

    /// Opens the file at the path if it is not the last one handed out.
    fn look(&mut self, initial: bool) {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        if Some((meta.dev(), meta.ino())) == self.last_id() {
            return;
        }
        if let Ok(file) = File::open(&self.path) {
            self.hand_out(file, initial);
        }
    }
}

/// Without inotify: a look at the path every `poll`.
fn poll_loop(looker: &mut Looker, poll: Duration, stop: &AtomicBool, mut initial: bool) {
    loop {
        looker.look(initial);
        initial = false;
        let until = Instant::now() + poll;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(STEP.min(until.saturating_duration_since(Instant::now())));
        }
    }
}

/// What the kernel said about the directory, as far as following the path is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    /// A file was created under this name.
    Created(OsString),
    /// The file of this name is being renamed (the cookie pairs it with its `MovedTo`).
    MovedFrom(OsString, u32),
    /// A file was renamed to this name (from within the directory when a `MovedFrom` with
    /// the same cookie came before it).
    MovedTo(OsString, u32),
    /// The file of this name was deleted.
    Deleted(OsString),
    /// A file was written to.
    Modified,
    /// The kernel's event queue overflowed: events were dropped.
    Overflow,
    /// The directory's watch is gone (the directory was deleted, moved or unmounted).
    Gone,
}

/// Why a file is tracked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// It was at the path when following began (not finding it is no loss).
    Initial,
    /// An event said it appeared at the path.
    Appeared,
    /// Whatever is at the path now, looked at as a safety net (not finding it is no loss).
    Look,
}

/// A file that appeared at the path and has not been handed out yet.
#[derive(Debug)]
struct Unopened {
    /// Its name now; `None` between the two halves of a rename, or once it is gone.
    name: Option<OsString>,
    /// The cookie of the rename it is in.
    cookie: u32,
    /// Why it can no longer be opened (deleted, replaced, moved out of the directory).
    gone: Option<&'static str>,
    /// Why it is tracked.
    seen: Seen,
    /// The file as last opened by its name, or why it could not be.
    file: Option<std::io::Result<File>>,
}

/// The files that appeared at the path and have not been handed out yet, each by its current
/// name, kept up to date with the directory's changes.
struct Tracker {
    /// The path's file name.
    name: OsString,
    unopened: Vec<Unopened>,
}

impl Tracker {
    fn new(name: OsString) -> Tracker {
        Tracker {
            name,
            unopened: Vec::new(),
        }
    }

    /// Tracks a file that is at the path now.
    fn add(&mut self, seen: Seen) {
        self.unopened.push(Unopened {
            name: Some(self.name.clone()),
            cookie: 0,
            gone: None,
            seen,
            file: None,
        });
    }

    fn named(&mut self, name: &OsString) -> Option<&mut Unopened> {
        self.unopened
            .iter_mut()
            .find(|u| u.gone.is_none() && u.name.as_ref() == Some(name))
    }

    /// Marks the file called `name`, if one is tracked, as gone: deleted, or `replaced` by
    /// another file of that name.
    ///
    /// What it was last opened as is kept (the open may have come before the change), except
    /// where that could be a file that has an entry of its own, which would then be read
    /// under this one's name and counted lost under its own: a file a safety-net look opened
    /// (the files whose events come after it have their entries), or, once replaced, the file
    /// that was at the path when following began.
    fn remove(&mut self, name: &OsString, why: &'static str, replaced: bool) -> bool {
        match self.named(name) {
            Some(u) => {
                u.name = None;
                u.gone = Some(why);
                if u.seen == Seen::Look || (replaced && u.seen == Seen::Initial) {
                    u.file = None;
                }
                true
            }
            None => false,
        }
    }

    /// Applies one change; says whether it concerns a tracked file or brings a new one (an
    /// open made before it may have opened another file than the one meant).
    fn apply(&mut self, change: &Change) -> bool {
        match change {
            Change::Created(name) => {
                let replaced =
                    self.remove(name, "replaced by another file before it was opened", true);
                if *name == self.name {
                    self.add(Seen::Appeared);
                    return true;
                }
                replaced
            }
            Change::MovedTo(name, cookie) => {
                let replaced =
                    self.remove(name, "replaced by another file before it was opened", true);
                let moved = self
                    .unopened
                    .iter_mut()
                    .find(|u| u.gone.is_none() && u.name.is_none() && u.cookie == *cookie);
                if let Some(u) = moved {
                    u.name = Some(name.clone());
                    return true;
                }
                if *name == self.name {
                    // A file moved into place from elsewhere.
                    self.add(Seen::Appeared);
                    return true;
                }
                replaced
            }
            Change::MovedFrom(name, cookie) => match self.named(name) {
                Some(u) => {
                    u.name = None;
                    u.cookie = *cookie;
                    true
                }
                None => false,
            },
            Change::Deleted(name) => self.remove(name, "deleted before it could be opened", false),
            Change::Modified | Change::Overflow | Change::Gone => false,
        }
    }

    /// Whether a tracked file is between the two halves of a rename.
    fn moving(&self) -> bool {
        self.unopened
            .iter()
            .any(|u| u.gone.is_none() && u.name.is_none())
    }

    /// The files renamed out of the directory (no second half came): gone.
    fn moved_out(&mut self) {
        for u in &mut self.unopened {
            if u.gone.is_none() && u.name.is_none() {
                u.gone = Some("moved out of its directory before it could be opened");
            }
        }
    }

    /// Opens every tracked file that has a name, by that name.
    fn open_all(&mut self, dir: &Path) {
        for u in &mut self.unopened {
            if let Some(name) = &u.name {
                u.file = Some(File::open(dir.join(name)));
            }
        }
    }

    /// Hands every tracked file out in order, and loses those that could not be opened. A
    /// file opened by a name that, by then, held a later file (the same device and inode as
    /// a later one's) was not the file meant: that one is lost.
    fn finish(&mut self, looker: &mut Looker) {
        let ids: Vec<Option<(u64, u64)>> = self
            .unopened
            .iter()
            .map(|u| {
                u.file
                    .as_ref()
                    .and_then(|f| f.as_ref().ok())
                    .and_then(id_of)
            })
            .collect();
        for (i, u) in self.unopened.drain(..).enumerate() {
            let later = ids[i].is_some() && ids[i + 1..].contains(&ids[i]);
            match (u.file, u.gone) {
                (Some(Ok(file)), _) if !later => {
                    looker.hand_out(file, u.seen == Seen::Initial);
                }
                _ if u.seen != Seen::Appeared => {}
                (_, Some(why)) => looker.lose(&format!("a rotated file was {why}")),
                (Some(Err(e)), None) if e.kind() != std::io::ErrorKind::NotFound => {
                    // Out of descriptors, most likely (a reader far behind a fast rotation).
                    looker.lose(&format!("a rotated file could not be opened ({e})"));
                }
                _ => looker.lose("a rotated file was gone before it could be opened"),
            }
        }
    }
}

/// With inotify: the changes of the directory as they come; returns why it cannot (or can no
/// longer) watch, for [`poll_loop`] to take over.
#[cfg(target_os = "linux")]
fn inotify_loop(
    looker: &mut Looker,
    mut events: Events,
    poll: Duration,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut tracker = Tracker::new(looker.name.clone());
    // The file at the path now, if any: opened by the same rules as the ones to come, since it
    // may be rotated before it is opened.
    tracker.add(Seen::Initial);
    let mut last_look = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !tracker.unopened.is_empty() {
            settle(looker, &mut events, &mut tracker)?;
            last_look = Instant::now();
        }
        let changes = events.read(STEP.min(poll))?;
        apply(looker, &mut tracker, &changes)?;
        if tracker.unopened.is_empty() && last_look.elapsed() >= poll {
            // Through the tracker, as any file: a look between an event and its reading must
            // not hand a file out before those that came before it.
            tracker.add(Seen::Look);
        }
    }
}

/// Without inotify (not Linux): never watching.
#[cfg(not(target_os = "linux"))]
struct Events;

#[cfg(not(target_os = "linux"))]
impl Events {
    fn watch(_: &Path) -> Result<Events, String> {
        Err("inotify is Linux only".into())
    }
}

#[cfg(not(target_os = "linux"))]
fn inotify_loop(_: &mut Looker, _: Events, _: Duration, _: &AtomicBool) -> Result<(), String> {
    Err("inotify is Linux only".into())
}

/// Applies `changes` to the tracker; says whether one concerned a tracked file or brought a
/// new one.
#[cfg(target_os = "linux")]
fn apply(looker: &mut Looker, tracker: &mut Tracker, changes: &[Change]) -> Result<bool, String> {
    let mut touched = false;
    for c in changes {
        match c {
            Change::Modified => {
                let _ = looker.wake.try_send(());
            }
            Change::Overflow => {
                looker.lose("the kernel's file event queue overflowed, so a rotated file may have been missed");
                // Whatever is at the path now (if it is the last file, it is not handed out
                // twice).
                tracker.add(Seen::Look);
                touched = true;
            }
            Change::Gone => return Err(format!("{} is no longer watched", looker.dir.display())),
            c => touched |= tracker.apply(c),
        }
    }
    Ok(touched)
}

/// Opens every tracked file by its current name, until an open is not overtaken by a change
/// to the names (or [`ROUNDS`] times), then hands them out.
#[cfg(target_os = "linux")]
fn settle(looker: &mut Looker, events: &mut Events, tracker: &mut Tracker) -> Result<(), String> {
    for _ in 0..ROUNDS {
        if tracker.moving() {
            // The second half of a rename is normally queued right after the first.
            let changes = events.read(Duration::from_millis(10))?;
            apply(looker, tracker, &changes)?;
            tracker.moved_out();
        }
        tracker.open_all(&looker.dir);
        // Events are queued before the call that caused them returns: what changed before
        // the opens is all here.
        let changes = events.read(Duration::ZERO)?;
        if !apply(looker, tracker, &changes)? {
            break;
        }
    }
    tracker.finish(looker);
    Ok(())
}

/// The inotify instance and its read buffer.
#[cfg(target_os = "linux")]
struct Events {
    inotify: inotify::Inotify,
    buf: Vec<u8>,
}

#[cfg(target_os = "linux")]
impl Events {
    /// An inotify instance watching `dir` for what following a file in it needs.
    fn watch(dir: &Path) -> Result<Events, String> {
        use inotify::{Inotify, WatchMask};

        let inotify = Inotify::init().map_err(|e| format!("inotify is not available ({e})"))?;
        let mask = WatchMask::CREATE
            | WatchMask::MOVED_FROM
            | WatchMask::MOVED_TO
            | WatchMask::DELETE
            | WatchMask::MODIFY
            | WatchMask::DELETE_SELF
            | WatchMask::MOVE_SELF;
        inotify
            .watches()
            .add(dir, mask)
            .map_err(|e| format!("cannot watch {} ({e})", dir.display()))?;
        Ok(Events {
            inotify,
            buf: vec![0; 64 << 10],
        })
    }

    /// The changes queued now, waiting up to `wait` for the first.
    fn read(&mut self, wait: Duration) -> Result<Vec<Change>, String> {
        use inotify::EventMask;
        use std::os::fd::AsRawFd;

        let mut pfd = libc::pollfd {
            fd: self.inotify.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, for the duration of the call.
        let ready = unsafe { libc::poll(&mut pfd, 1, wait.as_millis().min(60_000) as i32) };
        let mut out = Vec::new();
        if ready <= 0 {
            return Ok(out);
        }
        loop {
            let events = match self.inotify.read_events(&mut self.buf) {
                Ok(events) => events,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(out),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("reading inotify events failed ({e})")),
            };
            for e in events {
                let m = e.mask;
                let name = || e.name.map(OsString::from).unwrap_or_default();
                let change = if m.contains(EventMask::Q_OVERFLOW) {
                    Change::Overflow
                } else if m.intersects(
                    EventMask::IGNORED
                        | EventMask::DELETE_SELF
                        | EventMask::MOVE_SELF
                        | EventMask::UNMOUNT,
                ) {
                    Change::Gone
                } else if m.contains(EventMask::ISDIR) {
                    continue;
                } else if m.contains(EventMask::CREATE) {
                    Change::Created(name())
                } else if m.contains(EventMask::MOVED_FROM) {
                    Change::MovedFrom(name(), e.cookie)
                } else if m.contains(EventMask::MOVED_TO) {
                    Change::MovedTo(name(), e.cookie)
                } else if m.contains(EventMask::DELETE) {
                    Change::Deleted(name())
                } else {
                    Change::Modified
                };
                out.push(change);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Without a directory to watch, the watcher falls back to polling and says so to the
    /// caller's observer, once.
    #[test]
    fn a_fall_back_to_polling_is_said_to_the_observer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("app.log");
        let heard = Arc::new(Mutex::new(Vec::<String>::new()));
        let to = heard.clone();
        let notices = Notices::new(move |n| to.lock().unwrap().push(n.to_string()));
        let watcher = Watcher::start(&path, Duration::from_millis(5), true, notices);
        let until = Instant::now() + Duration::from_secs(5);
        while heard.lock().unwrap().is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(watcher);
        let heard = heard.lock().unwrap();
        assert_eq!(heard.len(), 1, "{heard:?}");
        assert!(
            heard[0].starts_with(&format!("{}: ", path.display()))
                && heard[0].ends_with(
                    "; looking at the path every 5 ms instead: a file rotated away between \
                     two looks is missed"
                ),
            "{heard:?}"
        );
    }

    fn os(s: &str) -> OsString {
        OsString::from(s)
    }

    /// (name, gone) of every tracked file.
    fn state(t: &Tracker) -> Vec<(Option<String>, bool)> {
        t.unopened
            .iter()
            .map(|u| {
                (
                    u.name.as_ref().map(|n| n.to_string_lossy().into_owned()),
                    u.gone.is_some(),
                )
            })
            .collect()
    }

    #[test]
    fn the_tracker_follows_files_through_a_rotation_chain() {
        let mut t = Tracker::new(os("app.log"));
        // app.log is created, then rotated twice (.1 → .2, app.log → .1, new app.log) before
        // anything is opened; then .2 is deleted (keep 2), a file is moved out, one replaced.
        let changes = [
            Change::Created(os("app.log")),
            Change::MovedFrom(os("app.log"), 1),
            Change::MovedTo(os("app.log.1"), 1),
            Change::Created(os("app.log")),
            Change::Modified,
            Change::MovedFrom(os("app.log.1"), 2),
            Change::MovedTo(os("app.log.2"), 2),
            Change::MovedFrom(os("app.log"), 3),
            Change::MovedTo(os("app.log.1"), 3),
            Change::Created(os("app.log")),
        ];
        let touched: Vec<bool> = changes.iter().map(|c| t.apply(c)).collect();
        assert_eq!(
            touched,
            [true, true, true, true, false, true, true, true, true, true]
        );
        assert_eq!(
            state(&t),
            [
                (Some("app.log.2".into()), false),
                (Some("app.log.1".into()), false),
                (Some("app.log".into()), false),
            ]
        );
        // Unrelated names change nothing.
        assert!(!t.apply(&Change::Created(os("other.log"))));
        assert!(!t.apply(&Change::Deleted(os("other.log"))));
        assert!(!t.apply(&Change::MovedFrom(os("x"), 9)));
        // Deleted, replaced by a rename, moved out of the directory.
        assert!(t.apply(&Change::Deleted(os("app.log.2"))));
        assert!(t.apply(&Change::MovedTo(os("app.log.1"), 7)));
        assert!(t.apply(&Change::MovedFrom(os("app.log"), 8)));
        assert!(t.moving());
        t.moved_out();
        assert!(!t.moving());
        assert_eq!(state(&t), [(None, true), (None, true), (None, true)]);
        // A file moved into place is a new file at the path.
        assert!(t.apply(&Change::MovedTo(os("app.log"), 10)));
        assert_eq!(state(&t)[3], (Some("app.log".into()), false));
    }

    /// Collects what a looker hands out, for the finish tests.
    fn looker(dir: &Path) -> (Looker, Receiver<Arrival>) {
        let (tx, rx) = unbounded();
        let (wake, _) = bounded(1);
        let looker = Looker {
            path: dir.join("app.log"),
            dir: dir.to_path_buf(),
            name: os("app.log"),
            arrivals: tx,
            wake,
            lost: Arc::new(AtomicU64::new(0)),
            last: None,
            notices: Notices::default(),
        };
        (looker, rx)
    }

    #[test]
    fn finish_hands_out_in_order_and_loses_what_was_gone() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("app.log.1", "one"), ("app.log", "two")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let (mut looker, rx) = looker(dir.path());
        let mut t = Tracker::new(os("app.log"));
        // The first file, moved to app.log.1; a second at app.log; a third deleted before it
        // was opened; a fourth whose open found the second's file.
        t.add(Seen::Appeared);
        t.apply(&Change::MovedFrom(os("app.log"), 1));
        t.apply(&Change::MovedTo(os("app.log.1"), 1));
        t.add(Seen::Appeared);
        t.open_all(dir.path());
        t.unopened.insert(
            1,
            Unopened {
                name: None,
                cookie: 0,
                gone: Some("deleted before it could be opened"),
                seen: Seen::Appeared,
                file: None,
            },
        );
        t.unopened.insert(
            1,
            Unopened {
                name: None,
                cookie: 0,
                gone: Some("deleted before it could be opened"),
                seen: Seen::Appeared,
                file: Some(File::open(dir.path().join("app.log"))),
            },
        );
        t.finish(&mut looker);
        let texts: Vec<String> = rx
            .try_iter()
            .map(|mut a| {
                let mut s = String::new();
                a.file.read_to_string(&mut s).unwrap();
                s
            })
            .collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(looker.lost.load(Ordering::Relaxed), 2);
        // The last file handed out is not handed out again.
        looker.look(false);
        assert!(rx.try_recv().is_err());
    }
}
