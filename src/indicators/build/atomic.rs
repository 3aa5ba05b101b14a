//! Writing a file so that readers see the old one or the new one, never a part, and so that
//! nobody else who can write in its directory can redirect the write.
//!
//! The new content goes to a temp file beside the target, created exclusively
//! (`O_CREAT|O_EXCL`, which never follows a symlink) under an unpredictable name, with an
//! explicit mode; it is fsynced and renamed over the target (a rename replaces a symlink
//! planted at the target, it does not follow it), then the directory is fsynced. The temp file
//! is created by the `tempfile` crate (random name, exclusive create, retried on a clash)
//! rather than by hand.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::indicators::error::{Error, Result};

/// Who may read a file written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// A set: mode 0644 (`sniff --user` reads it after dropping privileges), or the mode of
    /// the file it replaces, so that an operator's `chmod 640` stays.
    Shared,
    /// Mode 0600 whatever the file had: feed store files (they may hold TLP:AMBER/RED data,
    /// and a feed's state holds server error text).
    Private,
}

impl Access {
    /// The mode a new version of `path` gets.
    fn mode(self, path: &Path) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Shared => std::fs::symlink_metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map_or(0o644, |m| m.permissions().mode() & 0o7777),
        }
    }
}

/// A file being written: a temp file beside its target until [`AtomicFile::commit`]; dropped
/// without a commit, the temp file is removed and the target untouched.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: NamedTempFile,
    target: PathBuf,
    dir: PathBuf,
}

impl AtomicFile {
    /// Starts a new version of `target` (its directory must exist). The temp file is named
    /// `.tmpXXXXXX.NAME`: random, and ending like the target, so a reader that goes by the
    /// extension reads it like the target.
    pub(crate) fn create(target: &Path, access: Access) -> Result<AtomicFile> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .ok_or_else(|| Error::invalid(format!("{}: not a file path", target.display())))?;
        let suffix = format!(".{}", name.to_string_lossy());
        let tmp = tempfile::Builder::new()
            .prefix(".tmp")
            .suffix(&suffix)
            .tempfile_in(&dir)
            .map_err(|e| Error::io(target, e))?;
        // fchmod, not the create mode: the umask must not decide who reads a set or a store.
        tmp.as_file()
            .set_permissions(Permissions::from_mode(access.mode(target)))
            .map_err(|e| Error::io(target, e))?;
        Ok(AtomicFile {
            tmp,
            target: target.to_path_buf(),
            dir,
        })
    }

    /// The open temp file, to write the content to.
    pub(crate) fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// The file this replaces at [`AtomicFile::commit`].
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Where the temp file is (to read back what was written before committing it).
    pub(crate) fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Flushes and fsyncs the temp file, renames it over the target and fsyncs the directory.
    pub(crate) fn commit(mut self) -> Result<()> {
        let target = self.target;
        let file = self.tmp.as_file_mut();
        file.flush()
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(&target, e))?;
        // On a failed rename the temp file is dropped with the error, and so removed.
        self.tmp
            .persist(&target)
            .map_err(|e| Error::io(&target, e.error))?;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Writes a file through `fill` (see `AtomicFile`): a temp file beside `path` with the mode
/// `access` gives, fsynced, renamed over `path`, the directory fsynced. On error the temp file
/// is removed and `path` untouched.
pub(crate) fn write_atomic(
    path: &Path,
    access: Access,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<()> {
    let mut f = AtomicFile::create(path, access)?;
    fill(f.file()).map_err(|e| Error::io(path, e))?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn symlinks_planted_in_the_directory_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("s.tset");
        // The name the old writer used, and names guessed from the new one's pattern.
        let mut planted = vec![format!(".s.tset.tmp.{}", std::process::id())];
        planted.extend(["A", "aaaaaa", "000000", "XXXXXX"].map(|g| format!(".tmp{g}.s.tset")));
        for name in &planted {
            symlink(&victim, dir.path().join(name)).unwrap();
        }
        write_atomic(&target, Access::Shared, |f| f.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(mode(&target), 0o644);
        // A symlink at the target itself is replaced, not followed.
        std::fs::remove_file(&target).unwrap();
        symlink(&victim, &target).unwrap();
        write_atomic(&target, Access::Private, |f| f.write_all(b"newer")).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
        assert_eq!(mode(&target), 0o600);
        assert_eq!(mode(&victim), 0o644, "the victim's mode is untouched");
    }

    #[test]
    fn modes_are_explicit_and_a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let set = dir.path().join("s.tset");
        // (That the umask does not decide is tested with `trawl compile` under `umask 077`.)
        write_atomic(&set, Access::Shared, |f| f.write_all(b"1")).unwrap();
        assert_eq!(mode(&set), 0o644);
        // An operator's chmod survives the next write of a shared file…
        std::fs::set_permissions(&set, Permissions::from_mode(0o640)).unwrap();
        write_atomic(&set, Access::Shared, |f| f.write_all(b"2")).unwrap();
        assert_eq!(mode(&set), 0o640);
        // … a private file is 0600 even over a file that was readable.
        let state = dir.path().join("state.json");
        std::fs::write(&state, "{}").unwrap();
        std::fs::set_permissions(&state, Permissions::from_mode(0o644)).unwrap();
        write_atomic(&state, Access::Private, |f| f.write_all(b"{}")).unwrap();
        assert_eq!(mode(&state), 0o600);
        // A failing fill leaves the old content and no temp file.
        let err = write_atomic(&set, Access::Shared, |_| {
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.unwrap_err().to_string().contains("disk full"));
        assert_eq!(std::fs::read(&set).unwrap(), b"2");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
