//! Files on the wire: a streaming hasher that takes a transfer's bytes as they arrive (an HTTP
//! body, a mail attachment) and gives the file's MD5, SHA-1, SHA-256 and, when asked, SHA-512 —
//! the hashes Zeek's `files.log` and Suricata's `fileinfo` give — without holding the file.
//!
//! A file above [`FileLimits::max_size`] stops being hashed (the cost of hashing is CPU time per
//! byte: the cap bounds it per file) and gives [`E_FILE_TOO_LARGE`]; a transfer that ends before
//! its announced end is the caller's to report as [`E_FILE_TRUNCATED`]. Neither is a hash: a
//! hash of part of a file matches nothing anyone publishes.

use md5::Md5;
use sha1::Sha1;
use sha2::digest::Digest;
use sha2::{Sha256, Sha512};

pub use crate::indicators::field::FileDigests;

/// Reason: a file larger than [`FileLimits::max_size`]; it is not hashed.
pub const E_FILE_TOO_LARGE: &str = "file: larger than the hashing limit";
/// Reason: a file whose transfer ended (connection end, a lost segment, the stream depth) before
/// its announced end; it is not reported.
pub const E_FILE_TRUNCATED: &str = "file: transfer incomplete";

/// What a [`FileHasher`] hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// The largest file hashed, in bytes; a larger one is [`E_FILE_TOO_LARGE`].
    pub max_size: u64,
    /// Also compute SHA-512 (only worth its cost when the set holds SHA-512 indicators).
    pub sha512: bool,
}

impl Default for FileLimits {
    /// 64 MiB: hashing MD5, SHA-1 and SHA-256 costs a few milliseconds per MiB, so one file costs
    /// at most a fraction of a second; malware samples and documents are far smaller, while disk
    /// images and video are not what file-hash feeds list. SHA-512 off.
    fn default() -> FileLimits {
        FileLimits {
            max_size: 64 << 20,
            sha512: false,
        }
    }
}

/// Hashes one file as its bytes arrive (see the module docs).
#[derive(Clone, Debug)]
pub struct FileHasher {
    limits: FileLimits,
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    sha512: Option<Sha512>,
    size: u64,
}

impl FileHasher {
    /// A hasher for one file.
    pub fn new(limits: FileLimits) -> FileHasher {
        FileHasher {
            limits,
            md5: Md5::new(),
            sha1: Sha1::new(),
            sha256: Sha256::new(),
            sha512: limits.sha512.then(Sha512::new),
            size: 0,
        }
    }

    /// Adds the file's next bytes. Past [`FileLimits::max_size`] nothing more is hashed; the
    /// size still counts.
    pub fn update(&mut self, bytes: &[u8]) {
        let before = self.size;
        self.size = self.size.saturating_add(bytes.len() as u64);
        if self.size > self.limits.max_size || before > self.limits.max_size {
            return;
        }
        self.md5.update(bytes);
        self.sha1.update(bytes);
        self.sha256.update(bytes);
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
    }

    /// Bytes given so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's hashes, or [`E_FILE_TOO_LARGE`] when it passed the limit.
    pub fn finish(self) -> Result<FileDigests, &'static str> {
        if self.size > self.limits.max_size {
            return Err(E_FILE_TOO_LARGE);
        }
        Ok(FileDigests {
            md5: self.md5.finalize().into(),
            sha1: self.sha1.finalize().into(),
            sha256: self.sha256.finalize().into(),
            sha512: self.sha512.map(|h| h.finalize().into()),
            size: self.size,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn known_digests_of_abc_in_pieces() {
        let mut h = FileHasher::new(FileLimits {
            sha512: true,
            ..FileLimits::default()
        });
        h.update(b"a");
        h.update(b"");
        h.update(b"bc");
        assert_eq!(h.size(), 3);
        let d = h.finish().unwrap();
        // FIPS 180-2 and RFC 1321 test vectors for "abc".
        assert_eq!(hex(&d.md5), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(hex(&d.sha1), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(&d.sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&d.sha512.unwrap()),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(d.size, 3);
    }

    #[test]
    fn sha512_only_when_asked() {
        let d = FileHasher::new(FileLimits::default()).finish().unwrap();
        assert_eq!(d.sha512, None);
        assert_eq!(hex(&d.md5), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(d.size, 0);
    }

    #[test]
    fn a_file_over_the_limit_is_not_hashed() {
        let limits = FileLimits {
            max_size: 4,
            sha512: false,
        };
        let mut at = FileHasher::new(limits);
        at.update(b"abcd");
        assert_eq!(at.finish().map(|d| d.size), Ok(4));
        let mut over = FileHasher::new(limits);
        over.update(b"abc");
        over.update(b"de");
        over.update(b"f");
        assert_eq!(over.size(), 6);
        assert_eq!(over.finish(), Err(E_FILE_TOO_LARGE));
    }
}
