//! HTTP message bodies as files: the bytes of one body, once its transfer coding (chunked) is
//! removed by the stream parser and its content coding (gzip, deflate) decoded here, hashed as
//! they arrive ([`super::file`]); a body transferred whole is reported as a file.
//!
//! Decoding is bounded by the file limit: a body that inflates past
//! [`FileLimits::max_size`] stops being decoded at that size ([`E_FILE_TOO_LARGE`]), so a
//! decompression bomb costs at most that much output. A corrupt stream is [`E_FILE_DECODE`];
//! a coding that is not decoded (`br`, `compress`, …) is [`E_FILE_ENCODING`]: trawl would hash
//! bytes no peer hashes, so the body is not reported.

use std::io::{self, Write};

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use super::file::{E_FILE_TOO_LARGE, E_FILE_TRUNCATED, FileHasher, FileLimits};
use super::stream::Found;
use crate::indicators::field::Field;

/// Longest file name kept (a longer one is cut: names are for the analyst, not matched).
pub const MAX_NAME: usize = 255;

/// Reason: a body whose gzip or deflate content coding could not be decoded.
pub const E_FILE_DECODE: &str = "file: bad content encoding";
/// Reason: a body in a content coding trawl does not decode (`br`, `compress`, …).
pub const E_FILE_ENCODING: &str = "file: content encoding not decoded";

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

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

/// The value of the first header `name` (any case) of a message head (start line first),
/// trimmed.
pub fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        trim(&line[..colon])
            .eq_ignore_ascii_case(name)
            .then(|| trim(&line[colon + 1..]))
    })
}

/// The `filename` parameter of a `Content-Disposition` value (quoted or a token), the name
/// both Zeek and Suricata give a file when the message names one.
pub fn disposition_name(value: &[u8]) -> Option<&[u8]> {
    for param in value.split(|&b| b == b';').skip(1) {
        let param = trim(param);
        let Some(eq) = param.iter().position(|&b| b == b'=') else {
            continue;
        };
        if !trim(&param[..eq]).eq_ignore_ascii_case(b"filename") {
            continue;
        }
        let v = trim(&param[eq + 1..]);
        return Some(match v {
            [b'"', rest @ ..] => {
                let end = memchr::memchr(b'"', rest).unwrap_or(rest.len());
                &rest[..end]
            }
            _ => v,
        });
    }
    None
}

/// The status code of a status line (`HTTP/1.1 200 OK`), when it is one.
pub fn status(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/")?;
    let sp = memchr::memchr(b' ', rest)?;
    let code = rest.get(sp + 1..sp + 4)?;
    if !code.iter().all(u8::is_ascii_digit)
        || !matches!(rest.get(sp + 4), None | Some(b' ' | b'\r' | b'\n'))
    {
        return None;
    }
    Some(code.iter().fold(0, |n, &d| n * 10 + u16::from(d - b'0')))
}

/// A body's content coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// None (or `identity`).
    Identity,
    /// `gzip` / `x-gzip` (RFC 1952).
    Gzip,
    /// `deflate`: zlib (RFC 1950) as RFC 9110 says, or the raw deflate some servers send.
    Deflate,
    /// A coding not decoded.
    Other,
}

/// The content coding a head's `Content-Encoding` names (the last one applied; several
/// codings stacked are not decoded).
pub fn coding(head: &[u8]) -> Coding {
    let Some(v) = header(head, b"content-encoding") else {
        return Coding::Identity;
    };
    let v = trim(v);
    if v.is_empty() || v.eq_ignore_ascii_case(b"identity") {
        Coding::Identity
    } else if v.eq_ignore_ascii_case(b"gzip") || v.eq_ignore_ascii_case(b"x-gzip") {
        Coding::Gzip
    } else if v.eq_ignore_ascii_case(b"deflate") {
        Coding::Deflate
    } else {
        Coding::Other
    }
}

/// Where decoded bytes go: the hasher, which refuses more than the limit (stopping the
/// decoder: a decompression bomb inflates no further than that).
#[derive(Debug)]
struct Sink {
    hasher: FileHasher,
    max: u64,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.hasher.update(buf);
        if self.hasher.size() > self.max {
            return Err(io::Error::other(E_FILE_TOO_LARGE));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
enum Decoder {
    Identity(Sink),
    /// Deflate whose first bytes do not yet tell zlib from raw.
    DeflateUndecided(Sink, Vec<u8>),
    Gzip(GzDecoder<Sink>),
    Zlib(ZlibDecoder<Sink>),
    Raw(DeflateDecoder<Sink>),
}

/// One body being hashed.
#[derive(Debug)]
pub struct BodyFile {
    decoder: Option<Decoder>,
    /// Why the body will not be reported, once known.
    failed: Option<&'static str>,
    name: Vec<u8>,
}

fn decode_error(e: io::Error) -> &'static str {
    if e.get_ref()
        .is_some_and(|i| i.to_string() == E_FILE_TOO_LARGE)
    {
        E_FILE_TOO_LARGE
    } else {
        E_FILE_DECODE
    }
}

impl BodyFile {
    /// A body named `name` (cut to [`MAX_NAME`] bytes) in content coding `coding`, hashed
    /// within `limits`.
    pub fn new(limits: FileLimits, name: &[u8], coding: Coding) -> Box<BodyFile> {
        let sink = Sink {
            hasher: FileHasher::new(limits),
            max: limits.max_size,
        };
        let (decoder, failed) = match coding {
            Coding::Identity => (Some(Decoder::Identity(sink)), None),
            Coding::Gzip => (Some(Decoder::Gzip(GzDecoder::new(sink))), None),
            Coding::Deflate => (Some(Decoder::DeflateUndecided(sink, Vec::new())), None),
            Coding::Other => (None, Some(E_FILE_ENCODING)),
        };
        Box::new(BodyFile {
            decoder,
            failed,
            name: name[..name.len().min(MAX_NAME)].to_vec(),
        })
    }

    /// Heap bytes held: the decoder's state (its window) and the name.
    pub fn held(&self) -> usize {
        // flate2's inflate state: the 32 KiB window and its tables.
        const INFLATE: usize = 48 << 10;
        let decoder = match &self.decoder {
            Some(Decoder::Gzip(_) | Decoder::Zlib(_) | Decoder::Raw(_)) => INFLATE,
            Some(Decoder::DeflateUndecided(_, b)) => b.capacity(),
            _ => 0,
        };
        size_of::<BodyFile>() + decoder + self.name.capacity()
    }

    /// The body's next bytes (after any transfer coding).
    pub fn data(&mut self, bytes: &[u8]) {
        if self.failed.is_some() || bytes.is_empty() {
            return;
        }
        let r = match self.decoder.as_mut() {
            Some(Decoder::Identity(s)) => {
                s.hasher.update(bytes);
                Ok(())
            }
            Some(Decoder::Gzip(d)) => d.write_all(bytes),
            Some(Decoder::Zlib(d)) => d.write_all(bytes),
            Some(Decoder::Raw(d)) => d.write_all(bytes),
            Some(Decoder::DeflateUndecided(..)) => return self.decide(bytes),
            None => Ok(()),
        };
        if let Err(e) = r {
            self.failed = Some(decode_error(e));
            self.decoder = None;
        }
    }

    /// Deflate: a zlib header (CM 8, a window of at most 32 KiB, a valid check) says zlib,
    /// anything else is raw deflate (as Zeek and browsers accept both).
    fn decide(&mut self, bytes: &[u8]) {
        let Some(Decoder::DeflateUndecided(sink, mut seen)) = self.decoder.take() else {
            unreachable!("called while undecided")
        };
        seen.extend_from_slice(bytes);
        let [cmf, flg, ..] = seen[..] else {
            self.decoder = Some(Decoder::DeflateUndecided(sink, seen));
            return;
        };
        let zlib =
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
        self.decoder = Some(if zlib {
            Decoder::Zlib(ZlibDecoder::new(sink))
        } else {
            Decoder::Raw(DeflateDecoder::new(sink))
        });
        self.data(&seen);
    }

    /// The body ended where its framing said: reports it as a file carried in `field` (an
    /// empty body is no file), or why it is not hashed.
    pub fn finish(self: Box<Self>, field: Field, out: &mut dyn FnMut(Found<'_>)) {
        let BodyFile {
            decoder,
            failed,
            name,
        } = *self;
        if let Some(why) = failed {
            return out(Found::Error(why));
        }
        let sink = match decoder {
            Some(Decoder::Identity(s)) => Ok(s),
            Some(Decoder::DeflateUndecided(s, seen)) if seen.is_empty() => Ok(s),
            Some(Decoder::DeflateUndecided(..)) => Err(E_FILE_DECODE),
            Some(Decoder::Gzip(d)) => d.finish().map_err(decode_error),
            Some(Decoder::Zlib(d)) => d.finish().map_err(decode_error),
            Some(Decoder::Raw(d)) => d.finish().map_err(decode_error),
            None => return,
        };
        let hasher = match sink {
            Ok(s) => s.hasher,
            Err(why) => return out(Found::Error(why)),
        };
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

    use crate::packets::app::file::FileDigests;

    fn run(coding: Coding, body: &[u8], limits: FileLimits) -> Result<FileDigests, String> {
        let mut f = BodyFile::new(limits, b"n", coding);
        for piece in body.chunks(7) {
            f.data(piece);
        }
        let mut got = Err("no file".to_string());
        f.finish(Field::HttpFile, &mut |found| {
            got = match found {
                Found::File { digests, .. } => Ok(*digests),
                Found::Error(e) => Err(e.to_string()),
                _ => Err("other".into()),
            }
        });
        got
    }

    fn plain(body: &[u8]) -> FileDigests {
        run(Coding::Identity, body, FileLimits::default()).unwrap()
    }

    #[test]
    fn gzip_zlib_and_raw_deflate_hash_the_decoded_content() {
        let content: Vec<u8> = (0..20_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&content).unwrap();
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(&content).unwrap();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&content).unwrap();
        let want = plain(&content);
        let d = FileLimits::default();
        assert_eq!(run(Coding::Gzip, &gz.finish().unwrap(), d), Ok(want));
        assert_eq!(run(Coding::Deflate, &zl.finish().unwrap(), d), Ok(want));
        assert_eq!(run(Coding::Deflate, &raw.finish().unwrap(), d), Ok(want));
        assert_eq!(
            run(Coding::Gzip, b"not gzip at all", d),
            Err(E_FILE_DECODE.into())
        );
        assert_eq!(run(Coding::Other, b"x", d), Err(E_FILE_ENCODING.into()));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_file_limit() {
        // 16 MiB of zeros compress to about 16 KiB; inflating stops at the 64 KiB limit,
        // after reading a fraction of the input.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 16 << 20]).unwrap();
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 64 << 10, "{}", bomb.len());
        let limits = FileLimits {
            max_size: 64 << 10,
            sha512: false,
        };
        let mut f = BodyFile::new(limits, b"", Coding::Gzip);
        let mut fed = 0;
        for piece in bomb.chunks(1460) {
            f.data(piece);
            fed += piece.len();
            if f.decoder.is_none() {
                break;
            }
        }
        assert!(f.decoder.is_none(), "decoding stopped");
        assert!(fed < bomb.len() / 2, "{fed} of {}", bomb.len());
        let mut got = Vec::new();
        f.finish(Field::HttpFile, &mut |found| got.push(format!("{found:?}")));
        assert_eq!(got, [format!("{:?}", Found::Error(E_FILE_TOO_LARGE))]);
    }

    #[test]
    fn heads_name_and_frame_their_bodies() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: x\r\ncontent-encoding:  GZIP \r\n\
                     Content-Disposition: attachment; filename=\"a b.exe\"\r\n";
        assert_eq!(status(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(status(b"HTTP/1.0 304\r\n"), Some(304));
        assert_eq!(status(b"HTTP/1.1 2000 OK"), None);
        assert_eq!(coding(head), Coding::Gzip);
        let cd = header(head, b"content-disposition").unwrap();
        assert_eq!(disposition_name(cd), Some(&b"a b.exe"[..]));
        assert_eq!(
            disposition_name(b"inline; filename=x.pdf"),
            Some(&b"x.pdf"[..])
        );
        assert_eq!(disposition_name(b"inline"), None);
    }

    #[test]
    fn the_uri_names_the_file_by_its_path() {
        assert_eq!(uri_name(b"/a/b/setup.exe?x=/y#z"), b"/a/b/setup.exe");
        assert_eq!(uri_name(b"/upload/"), b"/upload/");
        assert_eq!(uri_name(b"http://h.example/f.bin?q"), b"/f.bin");
        assert_eq!(uri_name(b"http://h.example"), b"");
    }
}
