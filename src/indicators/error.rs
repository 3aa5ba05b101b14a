//! The library's error type: one struct, a private kind, messages that tell the user what to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An error from trawl's library: I/O on a named path, a set file that cannot be used, or a feed
/// that cannot be read at all. Malformed *items* inside a feed are not errors: they are counted
/// and reported (see [`crate::indicators::collect::Collector`]).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
}

#[derive(Debug)]
enum ErrorKind {
    Io { path: PathBuf, source: io::Error },
    Write { what: String, source: io::Error },
    BadSet { what: String },
    Version { found: u32 },
    Digest,
    Feed { path: PathBuf, what: String },
    Invalid { what: String },
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>, source: io::Error) -> Error {
        Error {
            kind: ErrorKind::Io {
                path: path.as_ref().to_path_buf(),
                source,
            },
        }
    }

    /// Writing output (`what`: "writing hits") failed.
    pub(crate) fn write(what: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind: ErrorKind::Write {
                what: what.into(),
                source,
            },
        }
    }

    /// A set file that is truncated, corrupt or not a set file at all.
    pub(crate) fn bad_set(what: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::BadSet { what: what.into() },
        }
    }

    pub(crate) fn version(found: u32) -> Error {
        Error {
            kind: ErrorKind::Version { found },
        }
    }

    pub(crate) fn digest() -> Error {
        Error {
            kind: ErrorKind::Digest,
        }
    }

    pub(crate) fn feed(path: impl AsRef<Path>, what: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Feed {
                path: path.as_ref().to_path_buf(),
                what: what.into(),
            },
        }
    }

    /// An invalid argument or option value.
    pub(crate) fn invalid(what: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Invalid { what: what.into() },
        }
    }

    /// Whether the error says the set file is unusable (corrupt, truncated, wrong version or digest).
    pub fn is_bad_set(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::BadSet { .. } | ErrorKind::Version { .. } | ErrorKind::Digest
        )
    }

    /// Whether the error is an I/O failure.
    pub fn is_io(&self) -> bool {
        self.io_error().is_some()
    }

    /// The operating system's error behind an I/O failure (a closed pipe is
    /// [`io::ErrorKind::BrokenPipe`]).
    pub fn io_error(&self) -> Option<&io::Error> {
        match &self.kind {
            ErrorKind::Io { source, .. } | ErrorKind::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Io { path, source } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Write { what, source } => write!(f, "{what}: {source}"),
            ErrorKind::BadSet { what } => write!(
                f,
                "not a usable trawl set file: {what} (re-compile it with `trawl compile`)"
            ),
            ErrorKind::Version { found } => write!(
                f,
                "set file format version {found} is not supported by this trawl (reads version {}); \
                 re-compile the set with this version",
                crate::indicators::format::VERSION
            ),
            ErrorKind::Digest => write!(
                f,
                "set file digest mismatch: the file is corrupt (re-compile or re-copy it)"
            ),
            ErrorKind::Feed { path, what } => write!(f, "{}: {what}", path.display()),
            ErrorKind::Invalid { what } => f.write_str(what),
        }
    }
}

/// The message already ends with the operating system's error, so `source` is `None`: an
/// error chain printer (anyhow's `{:#}`) would print it twice. [`Error::io_error`] gives it.
impl std::error::Error for Error {}

/// Result with trawl's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_is_printed_once() {
        let e = Error::io("x.tset", io::Error::from_raw_os_error(2));
        assert_eq!(
            e.to_string(),
            "x.tset: No such file or directory (os error 2)"
        );
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "x.tset: No such file or directory (os error 2)"
        );
        let e = Error::write("writing hits", io::ErrorKind::BrokenPipe.into());
        assert_eq!(
            e.io_error().map(io::Error::kind),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert!(e.is_io() && !Error::invalid("x").is_io());
    }
}
