//! The feed store: per feed, a state file and the data pulled so far, every write atomic.
//! The store is private to the user that pulls: directories 0700, files 0600 (stored feeds
//! may hold TLP:AMBER/RED data, states hold servers' error text); only the set is shared.

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::indicators::build::{Access, write_atomic};
use crate::indicators::error::{Error, Result};

const STATE: &str = "state.json";
/// The set's state, in the store's root (a feed's name cannot start with a dot).
const SET_STATE: &str = ".set-state.json";

/// What the store remembers of a feed between pulls.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FeedState {
    /// TAXII: the `X-TAXII-Date-Added-Last` of the last pull.
    pub added_after: Option<String>,
    /// When it was last pulled, Unix seconds.
    pub last_pull: Option<i64>,
    /// The last pull's error, if it failed.
    pub last_error: Option<String>,
    /// Successful pulls.
    pub pulls: u64,
    /// Objects (TAXII), events (MISP) or indicators (url and file feeds) stored.
    pub objects: u64,
    /// url and file feeds: the indicators the stored copy holds, counted at the pull that
    /// stored it (absent in states written before it was kept: counted again then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicators: Option<u64>,
    /// MISP: event uuid → manifest timestamp of the stored version.
    #[serde(default)]
    pub events: BTreeMap<String, String>,
    /// url and file feeds: blake3 of the stored copy.
    pub digest: Option<String>,
}

impl FeedState {
    /// The state in `dir`, or a fresh one (a missing or unreadable state starts over).
    pub fn load(dir: &Path) -> FeedState {
        std::fs::read(dir.join(STATE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::invalid(e.to_string()))?;
        write_file(&dir.join(STATE), &bytes)
    }
}

/// What the store remembers of the last attempt to rebuild the set, so that `feeds list` can
/// show a rebuild that failed (a warninglist gone, a full disk) though no feed did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SetState {
    /// When the set was last rebuilt, Unix seconds.
    pub last_build: Option<i64>,
    /// Why the last rebuild failed, if it did (the previous set is kept).
    pub last_error: Option<String>,
}

impl SetState {
    /// The state in the store `dir`, or a fresh one.
    pub fn load(dir: &Path) -> SetState {
        std::fs::read(dir.join(SET_STATE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::invalid(e.to_string()))?;
        write_file(&dir.join(SET_STATE), &bytes)
    }
}

/// Writes `bytes` to `path` atomically, mode 0600, creating its directory.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    write_atomic(path, Access::Private, |f| {
        std::io::Write::write_all(f, bytes)
    })
}

/// Creates a store directory and its missing parents, mode 0700 (an existing one is left as
/// it is).
pub fn create_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::io(dir, e))
}

/// The stored MISP event files of a feed, sorted (not the temp files of a write a crash
/// interrupted, which start with a dot).
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("events"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// An exclusive lock on a store, held for a whole pull: two pulls of one store at once (a cron
/// job beside `--every`) would interleave their writes. A second pull waits for the first; the
/// lock goes with the process, so a crashed pull never leaves it held.
#[derive(Debug)]
pub(crate) struct StoreLock {
    /// Held open: the lock lasts as long as the descriptor.
    _file: File,
}

impl StoreLock {
    /// Takes the lock of the store in `dir` (creating `dir/.lock`), waiting while another
    /// process holds it.
    pub(crate) fn acquire(dir: &Path) -> Result<StoreLock> {
        let path = dir.join(".lock");
        // Not through a symlink planted in a shared directory.
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        loop {
            // SAFETY: flock(2) on a descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(StoreLock { _file: file });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(Error::io(&path, e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = StoreLock::acquire(dir.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let path = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let _second = StoreLock::acquire(&path).unwrap();
            tx.send(()).unwrap();
        });
        let wait = std::time::Duration::from_millis(200);
        assert!(rx.recv_timeout(wait).is_err(), "taken while held");
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("taken once released");
        waiter.join().unwrap();
    }
}
