//! HTTP/2 in cleartext (h2c), read frame by frame, every header block HPACK-decoded
//! (RFC 7541): the client direction of a connection that starts with the connection preface —
//! with prior knowledge (RFC 9113 §3.3), or after an HTTP/1.1 request with `Upgrade: h2c`
//! (RFC 7540 §3.2) — and the server direction, which starts with a `SETTINGS` frame (after
//! `101 Switching Protocols` on an upgrade): the requests the server pushes (`PUSH_PROMISE`,
//! RFC 9113 §8.4) are requests too, for resources the client is sent.
//!
//! # What is read
//!
//! * Frames (RFC 9113 §4.1): a 9-byte header, then the payload. `HEADERS` and the
//!   `CONTINUATION` frames that follow it up to `END_HEADERS` are joined into one header block
//!   (padding and priority fields removed) and decoded; every other frame (`DATA`, `SETTINGS`,
//!   `PING`, `WINDOW_UPDATE`, unknown types, …) is stepped over as its bytes arrive, never
//!   buffered.
//! * HPACK: one decoder per connection direction, its dynamic table kept across blocks (a
//!   block that is not decoded would leave the table out of step, so every block is decoded,
//!   trailers included). The crate `loona-hpack` decodes (Huffman, static and dynamic table).
//!   The table's bound is the server's `SETTINGS_HEADER_TABLE_SIZE`, which travels in the
//!   other direction and is not seen here: size updates up to [`MAX_TABLE_SIZE`] are
//!   accepted, larger ones are an error.
//! * Each header block with a `:method` is a request (from the server: each `PUSH_PROMISE`'s;
//!   its `HEADERS` blocks are responses, decoded for the table only). It is presented to the rest of trawl as
//!   an HTTP/1-style head, so that requests of both versions are looked up alike (Host, URL,
//!   Referer, forwarded addresses, HTTP-request literals):
//!
//!   ```text
//!   METHOD target HTTP/2\r\n
//!   Host: <:authority>\r\n
//!   name: value\r\n            (each regular header field, in order, names lower case)
//!   ```
//!
//!   The target is `:path`; for a `:scheme` other than `http`, the absolute form
//!   `scheme://authority/path`, so that the URL keeps its scheme; for `CONNECT` (no `:path`),
//!   the `:authority`. Without `:authority` the request's `host` field names the host (as in
//!   HTTP/1). CR, LF and NUL in a name or value — a malformed request (RFC 9113 §8.2.1) — are
//!   written as spaces, so a value cannot add header lines to the head. A header block without
//!   pseudo-header fields (trailers) is decoded and not reported.
//!
//! # Limits
//!
//! A header block (all its frames' fragments) of at most [`MAX_HEADER_BLOCK`] bytes, and no
//! `HEADERS`/`CONTINUATION` frame longer; head fields beyond [`MAX_HEAD_FIELDS`] bytes are left
//! out of the head (counted). Anything that loses the HPACK state — a longer block, a decoding
//! error, a header block interrupted by another frame, bad padding, a `PUSH_PROMISE` from the
//! client, a malformed request from the server — is counted and ends the direction. Memory per direction is bounded by the block,
//! the dynamic table and the head.

use std::borrow::Cow;
use std::fmt;

use super::http;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Longest header block (and `HEADERS` or `CONTINUATION` frame payload) read.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Largest dynamic table size a size update may ask for (the default is 4096).
pub const MAX_TABLE_SIZE: usize = 64 * 1024;
/// Most bytes of header field lines written into one request's head.
pub const MAX_HEAD_FIELDS: usize = 64 * 1024;
/// Frame header length.
pub const FRAME_HEADER: usize = 9;

/// Reason: a header block or one of its frames longer than [`MAX_HEADER_BLOCK`].
pub const E_BLOCK: &str = "http2: header block too long";
/// Reason: a header block interrupted by another frame, a `CONTINUATION` that continues
/// nothing, or a `PUSH_PROMISE` from the client.
pub const E_SEQUENCE: &str = "http2: bad frame sequence";
/// Reason: a `HEADERS` or `PUSH_PROMISE` frame whose padding, priority or promised stream
/// fields exceed its payload.
pub const E_PADDING: &str = "http2: bad padding";
/// Reason: a header block HPACK could not decode (or a table size update past
/// [`MAX_TABLE_SIZE`]).
pub const E_HPACK: &str = "http2: hpack error";
/// Reason: a request whose `:method` is not a method token, or pseudo-header fields without
/// `:method`.
pub const E_REQUEST: &str = "http2: malformed request";
/// Reason: header field lines past [`MAX_HEAD_FIELDS`], left out of the head.
pub const E_HEAD: &str = "http2: request headers too long";

const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const PUSH_PROMISE: u8 = 5;
const CONTINUATION: u8 = 9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// Whether `p` (a server's first bytes, or those after its `101`) starts with a frame header
/// that can open a server's side of a connection: a `SETTINGS` frame on stream 0, not an
/// acknowledgement, its length a multiple of 6 (RFC 9113 §6.5). `None` while fewer than 9
/// bytes are there and those there could still start one.
pub fn server_start(p: &[u8]) -> Option<bool> {
    // A SETTINGS frame's length is below 2^14: its first byte is 0; its type byte is 4.
    if p.first().is_some_and(|&b| b != 0) || p.get(3).is_some_and(|&b| b != SETTINGS) {
        return Some(false);
    }
    let h = p.get(..FRAME_HEADER)?;
    let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
    Some(h[3] == SETTINGS && h[4] == 0 && h[5..9] == [0; 4] && len % 6 == 0 && len <= 16_384)
}

/// Whether `p` starts with the connection preface, on bytes that may still grow: `None` while
/// `p` is a proper prefix of it (more bytes decide).
pub fn preface_so_far(p: &[u8]) -> Option<bool> {
    let n = p.len().min(PREFACE.len());
    if p[..n] != PREFACE[..n] {
        Some(false)
    } else if n == PREFACE.len() {
        Some(true)
    } else {
        None
    }
}

/// What one [`Connection::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// More bytes are needed.
    Wait,
    /// This many leading bytes were read.
    Read(usize),
    /// The HPACK state is lost (the error was reported): nothing more can be read.
    Lost,
}

/// One direction of one HTTP/2 connection, after its preface (the client's) or from its first
/// frame (the server's).
pub struct Connection {
    /// The server's direction: requests come in `PUSH_PROMISE` frames.
    server: bool,
    decoder: loona_hpack::Decoder<'static>,
    /// The header block being joined, and its stream while `CONTINUATION` frames are due.
    block: Vec<u8>,
    continues: Option<u32>,
    /// Payload bytes of the current non-header frame still to step over.
    skip: u64,
    /// The block being joined is a `PUSH_PROMISE`'s (else a `HEADERS`').
    push_promise: bool,
    /// The pseudo-header fields of the block being decoded.
    method: Vec<u8>,
    scheme: Vec<u8>,
    authority: Vec<u8>,
    path: Vec<u8>,
    /// Regular header field lines of the block being decoded; then the request's head.
    fields: Vec<u8>,
    head: Vec<u8>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .field("block", &self.block.len())
            .field("continues", &self.continues)
            .field("skip", &self.skip)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The client's direction, its preface read.
    pub fn client() -> Connection {
        Connection::new(false)
    }

    /// The server's direction, from its first frame.
    pub fn server() -> Connection {
        Connection::new(true)
    }

    fn new(server: bool) -> Connection {
        let mut decoder = loona_hpack::Decoder::new();
        decoder.set_max_allowed_table_size(MAX_TABLE_SIZE);
        Connection {
            server,
            decoder,
            block: Vec::new(),
            continues: None,
            skip: 0,
            push_promise: false,
            method: Vec::new(),
            scheme: Vec::new(),
            authority: Vec::new(),
            path: Vec::new(),
            fields: Vec::new(),
            head: Vec::new(),
        }
    }

    /// Reads what it can of the frame at the start of `p` (every byte not read before, in
    /// stream order): each request is given to `out` as `Ok(head)`, each error as `Err`.
    /// Leaves at most `FRAME_HEADER + MAX_HEADER_BLOCK - 1` bytes unread.
    pub fn step(
        &mut self,
        p: &[u8],
        out: &mut dyn FnMut(Result<http::Request<'_>, &'static str>),
    ) -> Progress {
        if self.skip > 0 {
            let k = self.skip.min(p.len() as u64);
            self.skip -= k;
            return Progress::Read(k as usize);
        }
        let Some(h) = p.get(..FRAME_HEADER) else {
            return Progress::Wait;
        };
        let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
        let (ty, flags) = (h[3], h[4]);
        let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7FFF_FFFF;
        let lost = |out: &mut dyn FnMut(Result<http::Request<'_>, &'static str>), why| {
            out(Err(why));
            Progress::Lost
        };
        match (self.continues, ty) {
            (Some(s), CONTINUATION) if s == stream => {}
            (None, PUSH_PROMISE) if self.server => {}
            (Some(_), _) | (None, CONTINUATION | PUSH_PROMISE) => return lost(out, E_SEQUENCE),
            (None, HEADERS) => {}
            (None, _) => {
                // DATA and every other frame: stepped over, payload as it arrives.
                self.skip = len as u64;
                return Progress::Read(FRAME_HEADER);
            }
        }
        if len > MAX_HEADER_BLOCK {
            return lost(out, E_BLOCK);
        }
        let Some(payload) = p.get(FRAME_HEADER..FRAME_HEADER + len) else {
            return Progress::Wait;
        };
        let fragment = if ty == HEADERS || ty == PUSH_PROMISE {
            let mut start = 0;
            let mut pad = 0;
            if flags & PADDED != 0 {
                pad = usize::from(*payload.first().unwrap_or(&0));
                start = 1;
            }
            if ty == PUSH_PROMISE {
                start += 4; // the promised stream id
            } else if flags & PRIORITY != 0 {
                start += 5;
            }
            if start + pad > len {
                return lost(out, E_PADDING);
            }
            &payload[start..len - pad]
        } else {
            payload
        };
        if self.block.len() + fragment.len() > MAX_HEADER_BLOCK {
            return lost(out, E_BLOCK);
        }
        self.block.extend_from_slice(fragment);
        if ty != CONTINUATION {
            self.push_promise = ty == PUSH_PROMISE;
        }
        if flags & END_HEADERS == 0 {
            self.continues = Some(stream);
            return Progress::Read(FRAME_HEADER + len);
        }
        self.continues = None;
        let decoded = self.decode_block(out);
        self.block.clear();
        match decoded {
            Ok(()) => Progress::Read(FRAME_HEADER + len),
            Err(why) => lost(out, why),
        }
    }

    /// Decodes the joined header block and reports the request it holds, if any.
    fn decode_block(
        &mut self,
        out: &mut dyn FnMut(Result<http::Request<'_>, &'static str>),
    ) -> Result<(), &'static str> {
        let Connection {
            decoder,
            block,
            method,
            scheme,
            authority,
            path,
            fields,
            ..
        } = self;
        for v in [
            &mut *method,
            &mut *scheme,
            &mut *authority,
            &mut *path,
            &mut *fields,
        ] {
            v.clear();
        }
        let mut pseudo = false;
        let mut cut = false;
        decoder
            .decode_with_cb(block, |name: Cow<[u8]>, value: Cow<[u8]>| {
                let slot = match &name[..] {
                    b":method" => Some(&mut *method),
                    b":scheme" => Some(&mut *scheme),
                    b":authority" => Some(&mut *authority),
                    b":path" => Some(&mut *path),
                    _ => None,
                };
                if let Some(slot) = slot {
                    pseudo = true;
                    slot.clear();
                    push_clean(slot, &value);
                } else if name.first() == Some(&b':') {
                    // `:protocol` (RFC 8441) and unknown pseudo-header fields name no header.
                    pseudo = true;
                } else if fields.len() + name.len() + value.len() + 4 > MAX_HEAD_FIELDS {
                    cut = true;
                } else {
                    push_clean(fields, &name);
                    fields.extend_from_slice(b": ");
                    push_clean(fields, &value);
                    fields.extend_from_slice(b"\r\n");
                }
            })
            .map_err(|_| E_HPACK)?;
        // Trailers have no pseudo-header fields; a server's HEADERS are responses.
        if !pseudo || (self.server && !self.push_promise) {
            return Ok(());
        }
        if cut {
            out(Err(E_HEAD));
        }
        self.write_head();
        match http::request_or_h2_head(&self.head) {
            Ok(Some(req)) => out(Ok(req)),
            _ => out(Err(E_REQUEST)),
        }
        Ok(())
    }

    /// The HTTP/1-style head of the decoded request (see the module docs).
    fn write_head(&mut self) {
        let h = &mut self.head;
        h.clear();
        h.extend_from_slice(&self.method);
        h.push(b' ');
        if self.path.is_empty() {
            h.extend_from_slice(&self.authority);
        } else if self.scheme.is_empty() || self.scheme.eq_ignore_ascii_case(b"http") {
            h.extend_from_slice(&self.path);
        } else {
            h.extend_from_slice(&self.scheme);
            h.extend_from_slice(b"://");
            h.extend_from_slice(&self.authority);
            h.extend_from_slice(&self.path);
        }
        h.push(b' ');
        h.extend_from_slice(http::H2_VERSION);
        h.extend_from_slice(b"\r\n");
        if !self.authority.is_empty() {
            h.extend_from_slice(b"Host: ");
            h.extend_from_slice(&self.authority);
            h.extend_from_slice(b"\r\n");
        }
        h.extend_from_slice(&self.fields);
    }
}

/// Appends `v` with CR, LF and NUL written as spaces.
fn push_clean(out: &mut Vec<u8>, v: &[u8]) {
    out.extend(v.iter().map(|&b| {
        if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The heads one connection reports for these header blocks, one HEADERS frame each.
    fn heads(blocks: &[&str]) -> Vec<String> {
        let mut c = Connection::client();
        let mut out = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            let b = hex(b);
            let mut f = vec![0, (b.len() >> 8) as u8, b.len() as u8, HEADERS, END_HEADERS];
            f.extend_from_slice(&(2 * i as u32 + 1).to_be_bytes());
            f.extend_from_slice(&b);
            let p = c.step(&f, &mut |r| {
                out.push(String::from_utf8(r.unwrap().head.to_vec()).unwrap())
            });
            assert_eq!(p, Progress::Read(f.len()));
        }
        out
    }

    fn want() -> Vec<&'static str> {
        vec![
            "GET / HTTP/2\r\nHost: www.example.com\r\n",
            "GET / HTTP/2\r\nHost: www.example.com\r\ncache-control: no-cache\r\n",
            "GET https://www.example.com/index.html HTTP/2\r\nHost: www.example.com\r\n\
             custom-key: custom-value\r\n",
        ]
    }

    /// RFC 7541 Appendix C.3: three requests on one connection, literals without Huffman
    /// coding; the second and third index the first's `:authority` in the dynamic table.
    #[test]
    fn rfc7541_c3_requests_without_huffman() {
        let blocks = [
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
        ];
        assert_eq!(heads(&blocks), want());
    }

    /// RFC 7541 Appendix C.4: the same requests, Huffman-coded.
    #[test]
    fn rfc7541_c4_requests_with_huffman() {
        let blocks = [
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        ];
        assert_eq!(heads(&blocks), want());
    }

    /// A block decoded out of order (the second without the first) refers to a dynamic
    /// table entry that is not there: the state is lost.
    #[test]
    fn a_missing_block_loses_the_table() {
        let mut c = Connection::client();
        let b = hex("8286 84be 5808 6e6f 2d63 6163 6865");
        let mut f = vec![0, 0, b.len() as u8, HEADERS, END_HEADERS, 0, 0, 0, 1];
        f.extend_from_slice(&b);
        let mut errors = Vec::new();
        assert_eq!(c.step(&f, &mut |r| errors.push(r.err())), Progress::Lost);
        assert_eq!(errors, [Some(E_HPACK)]);
    }

    #[test]
    fn preface_and_server_start() {
        assert_eq!(preface_so_far(b"PRI * HTTP/2.0\r\n"), None);
        assert_eq!(preface_so_far(PREFACE), Some(true));
        assert_eq!(preface_so_far(b"PRI * HTTP/1.1\r\n"), Some(false));
        assert_eq!(preface_so_far(b"POST"), Some(false));
        assert_eq!(server_start(b"\x00\x00\x12\x04\x00\x00\x00"), None);
        assert_eq!(
            server_start(b"\x00\x00\x12\x04\x00\x00\x00\x00\x00"),
            Some(true)
        );
        assert_eq!(
            server_start(b"\x00\x00\x00\x04\x00\x00\x00\x00\x01"),
            Some(false)
        );
    }
}
