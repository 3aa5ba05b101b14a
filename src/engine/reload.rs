//! Hot reload of the set: on SIGHUP, or when the set file is replaced on disk (new inode, size
//! or modification time), the new file is opened, verified (digest and every index) and its
//! automata built, and only then swapped in atomically. Workers pick the current set up at the
//! start of each batch, so no packet is dropped or scanned twice for it, and every hit names
//! the generation that matched it.
//!
//! A reload that fails (unreadable after `sniff --user` dropped privileges, corrupt, over the
//! pattern bounds, half copied) leaves the previous set serving; [`SetStatus`] keeps saying so,
//! with the serving set's age, in every stats line and in the final counters, until a reload
//! succeeds. A set file rewritten in place under the serving set (`cp new.tset intel.tset`
//! instead of a rename) damages it: it then matches nothing (see `crate::indicators::map_guard`) and the
//! status says that instead, until the complete new file has been loaded.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use memmap2::Mmap;

use crate::hits::SetVersion;
use crate::indicators::format::DIGEST_OFFSET;
use crate::indicators::model::rfc3339;
use crate::indicators::model::unix_now;
use crate::indicators::read::IndicatorSet;

/// What identifies a version of the file: device, inode, size, modification time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl Identity {
    fn of(path: &Path) -> std::io::Result<Identity> {
        std::fs::metadata(path).map(|m| Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
        })
    }

    /// The same file changed in place (not a new file renamed over it).
    fn rewritten(self, now: Identity) -> bool {
        (self.dev, self.ino) == (now.dev, now.ino) && self != now
    }
}

/// What a [`Reloader::check`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reload {
    /// A new generation serves.
    Swapped(u64),
    /// The file changed but could not be used; the previous set keeps serving.
    Refused(String),
    /// The serving set's file was truncated or rewritten in place: the set matches nothing
    /// until a complete file has been loaded.
    Damaged(String),
}

impl fmt::Display for Reload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reload::Swapped(g) => write!(f, "set reloaded (generation {g})"),
            Reload::Refused(why) => {
                write!(f, "reload refused, the previous set keeps serving: {why}")
            }
            Reload::Damaged(what) => write!(
                f,
                "{what}; the set matches nothing until a complete set file is in place \
                 (replace set files by renaming a new file over them)"
            ),
        }
    }
}

/// The state of the serving set, for stats lines and the final counters.
#[derive(Debug)]
pub struct SetStatus {
    path: String,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    generation: u64,
    build_time: i64,
    /// Since when (Unix seconds) reloads have been refused, and the last reason.
    refused: Option<(i64, String)>,
    /// Since when the serving set is damaged, and how.
    damaged: Option<(i64, String)>,
}

impl SetStatus {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the serving set is damaged or the last reload was refused.
    pub fn is_degraded(&self) -> bool {
        let s = self.state();
        s.refused.is_some() || s.damaged.is_some()
    }

    /// One line: `set: generation 3, 2h14m old; reload of intel.tset refused since
    /// 2026-01-05T10:42:03Z: permission denied` (the age is the serving set's build time's).
    pub fn line(&self) -> String {
        let s = self.state();
        let mut line = format!(
            "set: generation {}, {} old",
            s.generation,
            age(unix_now() - s.build_time)
        );
        if let Some((since, what)) = &s.damaged {
            line += &format!(
                "; DAMAGED since {}: {what}; matching nothing until a complete set is loaded",
                rfc3339(*since, 0)
            );
        }
        if let Some((since, why)) = &s.refused {
            line += &format!(
                "; reload of {} refused since {}: {why}",
                self.path,
                rfc3339(*since, 0)
            );
        }
        line
    }
}

/// `2h14m`, `3d4h`, `42s`.
fn age(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// Watches a set file and swaps new versions in.
pub struct Reloader {
    path: PathBuf,
    current: Arc<ArcSwap<SetVersion<Mmap>>>,
    /// The file as last tried (loaded or refused).
    tried: Option<Identity>,
    /// The file the serving set was loaded from, and its digest as verified then.
    serving: Option<Identity>,
    serving_digest: [u8; 32],
    status: Arc<SetStatus>,
    /// Set by a SIGHUP handler.
    pub hup: Arc<AtomicBool>,
}

/// Opens, verifies and prepares a set: everything a swap must not wait for. Returns it with
/// the digest it was verified against.
fn load(path: &Path) -> crate::Result<(IndicatorSet<Mmap>, [u8; 32])> {
    let set = IndicatorSet::open(path)?;
    let in_file = |e: crate::Error| crate::Error::invalid(format!("{}: {e}", path.display()));
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&set.as_bytes()[DIGEST_OFFSET..DIGEST_OFFSET + 32]);
    set.verify().map_err(in_file)?;
    set.prepare().map_err(in_file)?;
    Ok((set, digest))
}

impl Reloader {
    /// Opens the set at `path` as generation 1, verified and with its automata built.
    pub fn open(path: &Path) -> crate::Result<Reloader> {
        let identity = Identity::of(path).ok();
        let (set, digest) = load(path)?;
        let status = SetStatus {
            path: path.display().to_string(),
            state: Mutex::new(State {
                generation: 1,
                build_time: set.build_time(),
                ..State::default()
            }),
        };
        Ok(Reloader {
            path: path.to_path_buf(),
            current: Arc::new(ArcSwap::from_pointee(SetVersion { set, generation: 1 })),
            tried: identity,
            serving: identity,
            serving_digest: digest,
            status: Arc::new(status),
            hup: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The shared handle workers read the current set from.
    pub fn current(&self) -> Arc<ArcSwap<SetVersion<Mmap>>> {
        self.current.clone()
    }

    /// The serving set's status, for stats lines.
    pub fn status(&self) -> Arc<SetStatus> {
        self.status.clone()
    }

    /// Reloads if a SIGHUP arrived or the file changed, and notices a serving set whose file
    /// was damaged. Returns what happened, in order (each damage is reported once); empty when
    /// nothing did.
    pub fn check(&mut self) -> Vec<Reload> {
        let mut events = Vec::new();
        let hup = self.hup.swap(false, Ordering::Relaxed);
        let now = match Identity::of(&self.path) {
            Ok(identity) => Some(identity),
            Err(e) => {
                // Removed, or out of reach (`sniff --user` after a change of permissions): no
                // new version can be seen, said once and kept in the status line.
                if self.tried.is_some() || hup {
                    self.tried = None;
                    events.push(self.refuse(format!(
                        "{}: {e}; watching for a new file",
                        self.path.display()
                    )));
                }
                self.report_damage(&mut events);
                return events;
            }
        };
        let in_place = matches!((self.serving, now), (Some(was), Some(now)) if was.rewritten(now));
        if in_place && self.serving.map(|i| i.size) != now.map(|i| i.size) {
            // A new size: the serving set's mapping now shows other bytes, or faults.
            self.current.load().set.mark_damaged();
        }
        self.report_damage(&mut events);
        if events.is_empty() && !hup && !(now.is_some() && now != self.tried) {
            return events;
        }
        self.tried = now;
        let serving = self.current.load();
        let (generation, digest, damaged) = (
            serving.generation,
            self.serving_digest,
            serving.set.is_damaged(),
        );
        drop(serving);
        let outcome = self.reload(now);
        if in_place && !damaged {
            // The same size, a new time: unchanged bytes (`touch`) harmed nothing; other bytes
            // were read by the serving set through its old layout until now.
            let unchanged = matches!(outcome, Reload::Swapped(_)) && self.serving_digest == digest;
            if !unchanged {
                if let Reload::Refused(_) = outcome {
                    self.current.load().set.mark_damaged();
                }
                events.push(self.damage(generation));
            }
        }
        events.push(outcome);
        events
    }

    /// Reports a serving set found damaged (by the SIGBUS guard, or marked above), once.
    fn report_damage(&mut self, events: &mut Vec<Reload>) {
        let serving = self.current.load();
        if serving.set.is_damaged() && self.status.state().damaged.is_none() {
            events.push(self.damage(serving.generation));
        }
    }

    /// The damage of `generation`, recorded in the status while that generation serves.
    fn damage(&self, generation: u64) -> Reload {
        let what = format!(
            "{} was truncated or rewritten in place under the serving set (generation {generation})",
            self.path.display()
        );
        if self.current.load().generation == generation {
            self.status.state().damaged = Some((unix_now(), what.clone()));
        }
        Reload::Damaged(what)
    }

    fn reload(&mut self, identity: Option<Identity>) -> Reload {
        match load(&self.path) {
            Ok((set, digest)) => {
                let generation = self.current.load().generation + 1;
                let build_time = set.build_time();
                self.current.store(Arc::new(SetVersion { set, generation }));
                self.serving = identity;
                self.serving_digest = digest;
                let mut s = self.status.state();
                s.generation = generation;
                s.build_time = build_time;
                s.refused = None;
                s.damaged = None;
                Reload::Swapped(generation)
            }
            Err(e) => self.refuse(e.to_string()),
        }
    }

    /// A reload that cannot be done: kept in the status (since when) while the set serves.
    fn refuse(&self, why: String) -> Reload {
        let mut s = self.status.state();
        let since = s.refused.as_ref().map_or_else(unix_now, |r| r.0);
        s.refused = Some((since, why.clone()));
        Reload::Refused(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_durations() {
        assert_eq!(age(-5), "0s");
        assert_eq!(age(42), "42s");
        assert_eq!(age(3 * 60 + 1), "3m1s");
        assert_eq!(age(2 * 3600 + 14 * 60 + 9), "2h14m");
        assert_eq!(age(3 * 86400 + 4 * 3600), "3d4h");
    }
}
