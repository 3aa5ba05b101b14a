//! HTTP message bodies as files: the bytes of one body, once its transfer coding (chunked) is
//! removed by the stream parser, hashed as they arrive ([`super::file`]); a body transferred
//! whole is reported as a file, named as [`uri_name`] says.

use super::file::{E_FILE_TRUNCATED, FileHasher, FileLimits};
use super::stream::Found;
use crate::indicators::field::Field;

/// Longest file name kept (a longer one is cut: names are for the analyst, not matched).
pub const MAX_NAME: usize = 255;

/// The name Suricata gives a file carried by a request to `uri` (its `fileinfo.filename`):
/// the target's path, without query or fragment (`/dl/setup.exe`); the path of an
/// absolute-form target (`http://host/dl/setup.exe`, to a proxy). Zeek names a file only from
/// `Content-Disposition`.
pub fn uri_name(uri: &[u8]) -> &[u8] {
    let end = memchr::memchr2(b'?', b'#', uri).unwrap_or(uri.len());
    let target = &uri[..end];
    // Absolute form: the path starts at the first `/` after `scheme://`.
    match memchr::memmem::find(target, b"://") {
        Some(i) => {
            let rest = &target[i + 3..];
            memchr::memchr(b'/', rest).map_or(&[][..], |j| &rest[j..])
        }
        None => target,
    }
}

/// One body being hashed.
#[derive(Debug)]
pub struct BodyFile {
    hasher: FileHasher,
    name: Vec<u8>,
}

impl BodyFile {
    /// A body named `name` (cut to [`MAX_NAME`] bytes), hashed within `limits`.
    pub fn new(limits: FileLimits, name: &[u8]) -> Box<BodyFile> {
        Box::new(BodyFile {
            hasher: FileHasher::new(limits),
            name: name[..name.len().min(MAX_NAME)].to_vec(),
        })
    }

    /// The body's next bytes.
    pub fn data(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
    }

    /// The body ended where its framing said: reports it as a file carried in `field` (an
    /// empty body is no file), or why it is not hashed.
    pub fn finish(self: Box<Self>, field: Field, out: &mut dyn FnMut(Found<'_>)) {
        let BodyFile { hasher, name } = *self;
        if hasher.size() == 0 {
            return;
        }
        match hasher.finish() {
            Ok(digests) => out(Found::File {
                field,
                name: &name,
                digests: &digests,
            }),
            Err(why) => out(Found::Error(why)),
        }
    }

    /// The body's transfer ended before its end: counted, not reported.
    pub fn truncated(self: Box<Self>, out: &mut dyn FnMut(Found<'_>)) {
        out(Found::Error(E_FILE_TRUNCATED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_names_the_file_by_its_path() {
        assert_eq!(uri_name(b"/a/b/setup.exe?x=/y#z"), b"/a/b/setup.exe");
        assert_eq!(uri_name(b"/upload/"), b"/upload/");
        assert_eq!(uri_name(b"http://h.example/f.bin?q"), b"/f.bin");
        assert_eq!(uri_name(b"http://h.example"), b"");
    }
}
