//! Hot reload of the set: on SIGHUP, or when the set file is replaced on disk (new inode, size
//! or modification time), the new file is opened and swapped in atomically. Workers pick the
//! current set up at the start of each batch, so no packet is dropped or scanned twice for it,
//! and every hit names the generation that matched it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use memmap2::Mmap;

use crate::set::IndicatorSet;
use crate::sink::SetVersion;

/// Watches a set file and swaps new versions in.
pub struct Reloader {
    path: PathBuf,
    current: Arc<ArcSwap<SetVersion<Mmap>>>,
    identity: Option<(u64, u64, u64, i64, i64)>,
    /// Set by a SIGHUP handler.
    pub hup: Arc<AtomicBool>,
}

fn identity(path: &Path) -> Option<(u64, u64, u64, i64, i64)> {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

impl Reloader {
    /// Opens the set at `path` as generation 1.
    pub fn open(path: &Path) -> crate::Result<Reloader> {
        let identity = identity(path);
        let set = IndicatorSet::open(path)?;
        Ok(Reloader {
            path: path.to_path_buf(),
            current: Arc::new(ArcSwap::from_pointee(SetVersion { set, generation: 1 })),
            identity,
            hup: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The shared handle workers read the current set from.
    pub fn current(&self) -> Arc<ArcSwap<SetVersion<Mmap>>> {
        self.current.clone()
    }

    /// Reloads if a SIGHUP arrived or the file changed. Returns the new generation, `None` when
    /// nothing changed, or the error of a failed reload (the old set keeps serving).
    pub fn check(&mut self) -> Option<crate::Result<u64>> {
        let now = identity(&self.path);
        let hup = self.hup.swap(false, Ordering::Relaxed);
        if !hup && (now == self.identity || now.is_none()) {
            return None;
        }
        self.identity = now;
        Some(IndicatorSet::open(&self.path).map(|set| {
            let generation = self.current.load().generation + 1;
            self.current.store(Arc::new(SetVersion { set, generation }));
            generation
        }))
    }
}
