//! A streaming MIME reader (RFC 2045–2047, RFC 2231): the header fields of a mail message and
//! of its parts, and the decoded bytes of each leaf part, from the message text fed in chunks
//! of any size — never holding a message or a part.
//!
//! * [`Parser::feed`] takes the next bytes of one message (SMTP dot-unstuffing already undone)
//!   and reports [`Event`]s; [`Parser::finish`] ends the message. Feeding a message in any
//!   chunks gives the same header fields and the same part bytes (the [`Event::PartData`]
//!   pieces, gathered up to 4 KiB, may be cut differently).
//! * Lines end at LF, a CR before it dropped (bare-LF text is read as CRLF text).
//! * Header fields are unfolded (the line breaks before continuation lines removed); a field
//!   is read up to [`MAX_FIELD`] bytes, the rest counted ([`E_FIELD`]) and dropped.
//! * `multipart/*` with a `boundary`: a line starting `--boundary` starts a part,
//!   `--boundary--` ends the multipart; every open multipart's boundary is checked on every
//!   line, outermost first, so that an outer boundary ends unclosed inner parts. Preamble and
//!   epilogue are skipped. `message/*` bodies are read as a nested message. Nesting past
//!   [`MAX_DEPTH`] is counted ([`E_DEPTH`]) and the too-deep entity skipped. A boundary is read
//!   up to [`MAX_BOUNDARY`] bytes (longer: [`E_BOUNDARY`], the entity read as a leaf).
//! * Every other entity is a leaf. Its body is decoded by its `Content-Transfer-Encoding`, the
//!   way Zeek's MIME analyzer does, so that the bytes (and their hashes) equal Zeek's
//!   `files.log`:
//!   - base64: alphabet characters decoded in quads, everything else skipped (line breaks,
//!     garbage: counted once per part as [`E_BASE64`]); `=` ends a quad (padding), a trailing
//!     partial quad gives its whole bytes;
//!   - quoted-printable: trailing spaces and tabs of a line dropped, `=` at a line's end joins
//!     it to the next, `=XX` is the byte, any other `=` is kept as is, every other line end is
//!     CRLF;
//!   - anything else (7bit, 8bit, binary, unknown): the bytes, lines joined by CRLF; in a
//!     part of a multipart the last line end belongs to the boundary, not the content.
//! * A part's file name is the `filename` of `Content-Disposition`, else the `name` of
//!   `Content-Type` (RFC 2231 `filename*=charset''%XX` and `filename*0*=…` continuations
//!   decoded; RFC 2047 encoded words are given as sent).

use memchr::memchr;

/// Deepest nesting of multiparts and messages read; deeper is [`E_DEPTH`].
pub const MAX_DEPTH: usize = 16;
/// Longest header field read (name, value, folded lines); longer is [`E_FIELD`].
pub const MAX_FIELD: usize = 16 * 1024;
/// Longest multipart boundary read (RFC 2046 allows 70); longer is [`E_BOUNDARY`].
pub const MAX_BOUNDARY: usize = 256;
/// Longest file name kept.
const MAX_NAME: usize = 1024;
/// Decoded bytes gathered before they are reported.
const OUT_CHUNK: usize = 4096;

/// Reason: a header field longer than [`MAX_FIELD`] (its rest is not read).
pub const E_FIELD: &str = "mime: header field too long";
/// Reason: an entity nested deeper than [`MAX_DEPTH`] (not read).
pub const E_DEPTH: &str = "mime: nesting too deep";
/// Reason: a multipart boundary longer than [`MAX_BOUNDARY`] (its body read as one part).
pub const E_BOUNDARY: &str = "mime: boundary too long";
/// Reason: characters outside the base64 alphabet in a base64 part (skipped).
pub const E_BASE64: &str = "mime: invalid base64 skipped";

/// What the reader found in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete header field of the entity at `depth` (0: the message's own header, 1: a
    /// part of it, …); `value` unfolded, its leading and trailing white space removed.
    Header {
        /// Nesting depth of the entity the field belongs to.
        depth: usize,
        /// The field name as sent.
        name: &'a [u8],
        /// The unfolded value.
        value: &'a [u8],
    },
    /// A leaf part's body starts; `name` is its file name, if it has one.
    PartStart {
        /// The part's file name.
        name: Option<&'a [u8]>,
    },
    /// The next decoded bytes of the open part.
    PartData(&'a [u8]),
    /// The open part's body ended (a boundary, or the end of the message).
    PartEnd,
    /// Something counted, by reason (the `E_*` constants).
    Error(&'static str),
}

/// How a leaf's body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Base64,
    QuotedPrintable,
    /// 7bit, 8bit, binary or unknown: the bytes as they are.
    Identity,
}

/// What an entity's header says about its body.
#[derive(Debug)]
struct Entity {
    depth: usize,
    /// The entity is a part of a multipart (its last line end belongs to the boundary).
    in_multipart: bool,
    /// The field being read: name and value, folded lines joined.
    field: Vec<u8>,
    /// The field went past [`MAX_FIELD`].
    field_cut: bool,
    multipart: bool,
    message: bool,
    boundary: Option<Vec<u8>>,
    encoding: Encoding,
    disposition_name: Option<Vec<u8>>,
    type_name: Option<Vec<u8>>,
}

impl Entity {
    fn new(depth: usize, in_multipart: bool) -> Entity {
        Entity {
            depth,
            in_multipart,
            field: Vec::new(),
            field_cut: false,
            multipart: false,
            message: false,
            boundary: None,
            encoding: Encoding::Identity,
            disposition_name: None,
            type_name: None,
        }
    }
}

/// A leaf body being decoded.
#[derive(Debug)]
struct Leaf {
    encoding: Encoding,
    in_multipart: bool,
    /// Identity: a line end is owed before the next bytes (held back in a multipart part).
    crlf_owed: bool,
    /// Base64: the sextets of the quad so far.
    quad: [u8; 4],
    quad_len: u8,
    garbage: bool,
    /// Quoted-printable: bytes not decided yet — `=` and up to one hex digit, or `=` and
    /// white space, or a run of white space (dropped if the line ends).
    pending: Vec<u8>,
    /// Decoded bytes not reported yet.
    out: Vec<u8>,
}

/// One open multipart.
#[derive(Debug)]
struct Frame {
    boundary: Vec<u8>,
    /// Depth of the multipart entity (its parts are one deeper).
    depth: usize,
}

#[derive(Debug)]
enum Mode {
    Header(Box<Entity>),
    Leaf(Box<Leaf>),
    /// Lines read for nothing (preamble, epilogue, a too-deep entity).
    Skip,
}

/// The reader of one message (see the module docs).
#[derive(Debug)]
pub struct Parser {
    frames: Vec<Frame>,
    mode: Mode,
    /// The start of the current line, kept until it is known whether it is a boundary.
    prefix: Vec<u8>,
    /// The current line was given to the mode (not a boundary) or was a boundary (`skip`).
    decided: bool,
    /// The current line is a boundary: the rest of it is ignored.
    skip_line: bool,
    /// Something of the current line was given to the mode.
    started: bool,
    /// A CR ended the last chunk: a line end if an LF follows.
    cr: bool,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = s {
        if !b.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    while let [rest @ .., b] = s {
        if !b.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    s
}

fn base64_value(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|v| v as u8)
}

impl Leaf {
    fn new(encoding: Encoding, in_multipart: bool) -> Leaf {
        Leaf {
            encoding,
            in_multipart,
            crlf_owed: false,
            quad: [0; 4],
            quad_len: 0,
            garbage: false,
            pending: Vec::new(),
            out: Vec::with_capacity(OUT_CHUNK),
        }
    }

    fn emit(&mut self, bytes: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        if self.out.len() + bytes.len() > OUT_CHUNK {
            self.flush(out);
            if bytes.len() >= OUT_CHUNK {
                out(Event::PartData(bytes));
                return;
            }
        }
        self.out.extend_from_slice(bytes);
    }

    fn flush(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        if !self.out.is_empty() {
            out(Event::PartData(&self.out));
            self.out.clear();
        }
    }

    /// The bytes of a quad of `n` sextets (2 → 1 byte, 3 → 2, 4 → 3).
    fn quad_bytes(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        let q = self.quad;
        let b = [
            q[0] << 2 | q[1] >> 4,
            q[1] << 4 | q[2] >> 2,
            q[2] << 6 | q[3],
        ];
        let n = (self.quad_len as usize).saturating_sub(1);
        self.quad_len = 0;
        self.quad = [0; 4];
        self.emit(&b[..n], out);
    }

    /// Part of a line's content.
    fn data(&mut self, p: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        match self.encoding {
            Encoding::Identity => {
                if self.crlf_owed {
                    self.crlf_owed = false;
                    self.emit(b"\r\n", out);
                }
                self.emit(p, out);
            }
            Encoding::Base64 => {
                for &c in p {
                    if let Some(v) = base64_value(c) {
                        self.quad[self.quad_len as usize] = v;
                        self.quad_len += 1;
                        if self.quad_len == 4 {
                            self.quad_bytes(out);
                        }
                    } else if c == b'=' {
                        self.quad_bytes(out);
                    } else if !c.is_ascii_whitespace() && !self.garbage {
                        self.garbage = true;
                        out(Event::Error(E_BASE64));
                    }
                }
            }
            Encoding::QuotedPrintable => self.qp(p, out),
        }
    }

    fn qp(&mut self, p: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        let mut i = 0;
        while i < p.len() {
            let c = p[i];
            match self.pending.first() {
                Some(b'=') => {
                    let after = &self.pending[1..];
                    if after.is_empty() && hex_value(c).is_some() {
                        self.pending.push(c);
                    } else if after.len() == 1 && hex_value(after[0]).is_some() {
                        if let Some(lo) = hex_value(c) {
                            let byte = hex_value(after[0]).unwrap_or(0) << 4 | lo;
                            self.pending.clear();
                            self.emit(&[byte], out);
                        } else {
                            // `=X` then not a hex digit: kept as sent.
                            self.release(out);
                            continue;
                        }
                    } else if is_ws(c) && after.iter().all(|&b| is_ws(b)) {
                        // `=` then white space: a soft line break if the line ends here.
                        if self.pending.len() < 256 {
                            self.pending.push(c);
                        } else {
                            self.release(out);
                            continue;
                        }
                    } else {
                        self.release(out);
                        continue;
                    }
                    i += 1;
                }
                Some(_) => {
                    // A run of white space: kept only if the line goes on.
                    if is_ws(c) && self.pending.len() < 256 {
                        self.pending.push(c);
                        i += 1;
                    } else {
                        self.release(out);
                    }
                }
                None => {
                    let plain = p[i..]
                        .iter()
                        .position(|&b| b == b'=' || is_ws(b))
                        .unwrap_or(p.len() - i);
                    if plain > 0 {
                        let run = &p[i..i + plain];
                        self.emit(run, out);
                        i += plain;
                    } else {
                        self.pending.push(c);
                        i += 1;
                    }
                }
            }
        }
    }

    /// Quoted-printable: the undecided bytes are data after all.
    fn release(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        let pending = std::mem::take(&mut self.pending);
        self.emit(&pending, out);
        self.pending = pending;
        self.pending.clear();
    }

    fn line_end(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        match self.encoding {
            Encoding::Identity => {
                if self.crlf_owed {
                    self.emit(b"\r\n", out);
                }
                // In a multipart, the last line end belongs to the boundary: owe it until
                // more content comes.
                self.crlf_owed = self.in_multipart;
                if !self.in_multipart {
                    self.emit(b"\r\n", out);
                }
            }
            Encoding::Base64 => {}
            Encoding::QuotedPrintable => {
                let soft = self.pending.first() == Some(&b'=')
                    && self.pending[1..].iter().all(|&b| is_ws(b));
                if self.pending.first() == Some(&b'=') && !soft {
                    self.release(out);
                }
                self.pending.clear();
                if !soft {
                    self.emit(b"\r\n", out);
                }
            }
        }
    }

    /// The body ended: what is held back is reported (a line end owed to a boundary is not).
    fn finish(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        match self.encoding {
            Encoding::Base64 => self.quad_bytes(out),
            Encoding::QuotedPrintable if !self.pending.is_empty() => {
                // A last line without its line end: Zeek still ends it with CRLF.
                self.line_end(out);
            }
            _ => {}
        }
        self.flush(out);
        out(Event::PartEnd);
    }
}

/// The value of parameter `key` in the parameters `params` (`; a=b; c="d"`), RFC 2231
/// extended values and continuations decoded.
fn parameter(params: &[u8], key: &[u8]) -> Option<Vec<u8>> {
    let mut plain = None;
    let mut extended = None;
    let mut pieces: Vec<(u32, bool, Vec<u8>)> = Vec::new();
    let mut s = params;
    while let Some(semi) = next_semicolon(s) {
        s = &s[semi + 1..];
        let Some(eq) = s.iter().position(|&b| b == b'=' || b == b';') else {
            break;
        };
        if s[eq] == b';' {
            continue;
        }
        let attr = trim(&s[..eq]);
        let (value, rest) = param_value(&s[eq + 1..]);
        s = rest;
        if attr.eq_ignore_ascii_case(key) {
            plain.get_or_insert(value);
        } else if let Some(tail) = attr
            .get(..key.len())
            .filter(|a| a.eq_ignore_ascii_case(key))
            .and_then(|_| attr[key.len()..].strip_prefix(b"*"))
        {
            if tail.is_empty() {
                extended.get_or_insert_with(|| percent_decode(strip_charset(&value)));
            } else {
                let (digits, ext) = match tail.strip_suffix(b"*") {
                    Some(d) => (d, true),
                    None => (tail, false),
                };
                let n = std::str::from_utf8(digits)
                    .ok()
                    .and_then(|d| d.parse::<u32>().ok());
                if let Some(n) = n.filter(|_| pieces.len() < 64) {
                    pieces.push((n, ext, value));
                }
            }
        }
        if s.is_empty() {
            break;
        }
    }
    if extended.is_some() {
        return extended;
    }
    if !pieces.is_empty() {
        pieces.sort_by_key(|p| p.0);
        let mut name = Vec::new();
        for (n, ext, v) in pieces {
            match (n, ext) {
                (0, true) => name.extend(percent_decode(strip_charset(&v))),
                (_, true) => name.extend(percent_decode(&v)),
                _ => name.extend_from_slice(&v),
            }
        }
        return Some(name);
    }
    plain
}

/// The index of the next `;` outside quoted strings and comments.
fn next_semicolon(s: &[u8]) -> Option<usize> {
    let (mut quoted, mut comment, mut i) = (false, 0u32, 0);
    while i < s.len() {
        match s[i] {
            b'\\' if quoted || comment > 0 => i += 1,
            b'"' if comment == 0 => quoted = !quoted,
            b'(' if !quoted => comment += 1,
            b')' if !quoted && comment > 0 => comment -= 1,
            b';' if !quoted && comment == 0 => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A parameter value (token or quoted string) at the start of `s`, and what follows it.
fn param_value(s: &[u8]) -> (Vec<u8>, &[u8]) {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    let s = &s[start..];
    if let Some(inner) = s.strip_prefix(b"\"") {
        let mut v = Vec::new();
        let mut i = 0;
        while i < inner.len() {
            match inner[i] {
                b'\\' if i + 1 < inner.len() => {
                    v.push(inner[i + 1]);
                    i += 1;
                }
                b'"' => return (v, &inner[i + 1..]),
                b => v.push(b),
            }
            i += 1;
        }
        return (v, &[]);
    }
    let end = s
        .iter()
        .position(|&b| b == b';' || b.is_ascii_whitespace())
        .unwrap_or(s.len());
    (s[..end].to_vec(), &s[end..])
}

/// `charset'language'value` → `value` (as sent when the quotes are missing).
fn strip_charset(v: &[u8]) -> &[u8] {
    let mut quotes = v.iter().enumerate().filter(|(_, b)| **b == b'\'');
    match (quotes.next(), quotes.next()) {
        (Some(_), Some((second, _))) => &v[second + 1..],
        _ => v,
    }
}

fn percent_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'%' && i + 2 < v.len() {
            if let (Some(h), Some(l)) = (hex_value(v[i + 1]), hex_value(v[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

impl Parser {
    /// A reader at the start of a message.
    pub fn new() -> Parser {
        Parser {
            frames: Vec::new(),
            mode: Mode::Header(Box::new(Entity::new(0, false))),
            prefix: Vec::new(),
            decided: false,
            skip_line: false,
            started: false,
            cr: false,
        }
    }

    /// Reads the next bytes of the message.
    pub fn feed(&mut self, data: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        let mut rest = data;
        while !rest.is_empty() {
            let (mut content, line_end) = match memchr(b'\n', rest) {
                Some(i) => (&rest[..i], true),
                None => (rest, false),
            };
            rest = &rest[content.len() + usize::from(line_end)..];
            if self.cr {
                self.cr = false;
                if !(line_end && content.is_empty()) {
                    self.piece(b"\r", out);
                }
            }
            if let Some(c) = content.strip_suffix(b"\r") {
                if line_end {
                    content = c;
                } else {
                    self.cr = true;
                    content = c;
                }
            }
            if !content.is_empty() {
                self.piece(content, out);
            }
            if line_end {
                self.end_line(out);
            }
        }
    }

    /// The message ended: its last line (if unterminated) and its open part end.
    pub fn finish(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        if self.cr {
            self.cr = false;
            self.piece(b"\r", out);
        }
        if !self.decided && !self.prefix.is_empty() {
            self.decide(out);
        }
        match std::mem::replace(&mut self.mode, Mode::Skip) {
            Mode::Header(mut e) => Self::end_field(&mut e, out),
            Mode::Leaf(mut leaf) => leaf.finish(out),
            Mode::Skip => {}
        }
        *self = Parser {
            mode: Mode::Skip,
            ..Parser::new()
        };
    }

    /// Heap bytes held: the line start, the open multiparts' boundaries, the header field or
    /// the decoder's buffers.
    pub fn held(&self) -> usize {
        let mode = match &self.mode {
            Mode::Header(e) => {
                size_of::<Entity>()
                    + e.field.capacity()
                    + [&e.boundary, &e.disposition_name, &e.type_name]
                        .iter()
                        .map(|v| v.as_ref().map_or(0, Vec::capacity))
                        .sum::<usize>()
            }
            Mode::Leaf(l) => size_of::<Leaf>() + l.pending.capacity() + l.out.capacity(),
            Mode::Skip => 0,
        };
        self.prefix.capacity()
            + self.frames.capacity() * size_of::<Frame>()
            + self
                .frames
                .iter()
                .map(|f| f.boundary.capacity())
                .sum::<usize>()
            + mode
    }

    /// How many bytes of a line are needed to tell whether it is a boundary.
    fn need(&self) -> usize {
        self.frames
            .iter()
            .map(|f| f.boundary.len() + 4)
            .max()
            .unwrap_or(0)
    }

    fn piece(&mut self, p: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        if self.skip_line {
            return;
        }
        if self.decided {
            self.deliver(p, out);
            return;
        }
        let need = self.need();
        let take = need.saturating_sub(self.prefix.len()).min(p.len());
        self.prefix.extend_from_slice(&p[..take]);
        if self.prefix.len() < need {
            return;
        }
        self.decide(out);
        if !self.skip_line && take < p.len() {
            self.deliver(&p[take..], out);
        }
    }

    /// The line's start is known: a boundary is acted on, anything else given to the mode.
    fn decide(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        self.decided = true;
        let line = std::mem::take(&mut self.prefix);
        let hit = line.strip_prefix(b"--").and_then(|l| {
            self.frames.iter().enumerate().find_map(|(i, f)| {
                l.strip_prefix(f.boundary.as_slice())
                    .map(|after| (i, after.starts_with(b"--")))
            })
        });
        match hit {
            Some((i, closing)) => {
                self.skip_line = true;
                self.end_mode(out);
                let depth = self.frames[i].depth;
                if closing {
                    self.frames.truncate(i);
                    self.mode = Mode::Skip;
                } else {
                    self.frames.truncate(i + 1);
                    self.mode = Mode::Header(Box::new(Entity::new(depth + 1, true)));
                }
            }
            None => {
                if !line.is_empty() {
                    self.deliver(&line, out);
                }
            }
        }
        self.prefix = line;
        self.prefix.clear();
    }

    /// Ends what is open before a boundary.
    fn end_mode(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        match &mut self.mode {
            Mode::Header(e) => Self::end_field(e, out),
            Mode::Leaf(leaf) => leaf.finish(out),
            Mode::Skip => {}
        }
    }

    fn end_line(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        if !self.decided {
            self.decide(out);
        }
        if !self.skip_line {
            match &mut self.mode {
                Mode::Header(_) if !self.started => self.end_header(out),
                Mode::Header(_) | Mode::Skip => {}
                Mode::Leaf(leaf) => leaf.line_end(out),
            }
        }
        self.decided = false;
        self.skip_line = false;
        self.started = false;
    }

    /// Part of the current line, for the current mode.
    fn deliver(&mut self, p: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        let first = !self.started;
        self.started = true;
        match &mut self.mode {
            Mode::Header(e) => {
                if first && !is_ws(p[0]) {
                    Self::end_field(e, out);
                }
                let room = MAX_FIELD.saturating_sub(e.field.len());
                if p.len() > room {
                    if !e.field_cut {
                        e.field_cut = true;
                        out(Event::Error(E_FIELD));
                    }
                    e.field.extend_from_slice(&p[..room]);
                } else {
                    e.field.extend_from_slice(p);
                }
            }
            Mode::Leaf(leaf) => leaf.data(p, out),
            Mode::Skip => {}
        }
    }

    /// The field read so far is complete: reported, and read for what it says about the body.
    fn end_field(e: &mut Entity, out: &mut dyn FnMut(Event<'_>)) {
        if e.field.is_empty() {
            return;
        }
        let field = std::mem::take(&mut e.field);
        if let Some(colon) = memchr(b':', &field) {
            let name = trim(&field[..colon]);
            let value = trim(&field[colon + 1..]);
            if !name.is_empty() && !name.iter().any(|&b| is_ws(b)) {
                Self::content_field(e, name, value, out);
                out(Event::Header {
                    depth: e.depth,
                    name,
                    value,
                });
            }
        }
        e.field = field;
        e.field.clear();
        e.field_cut = false;
    }

    fn content_field(e: &mut Entity, name: &[u8], value: &[u8], out: &mut dyn FnMut(Event<'_>)) {
        if name.eq_ignore_ascii_case(b"content-type") {
            let end = next_semicolon(value).unwrap_or(value.len());
            let media = trim(&value[..end]);
            let (ty, sub) = match memchr(b'/', media) {
                Some(s) => (trim(&media[..s]), trim(&media[s + 1..])),
                None => (media, &b""[..]),
            };
            let params = &value[end..];
            e.multipart = false;
            e.message = false;
            e.boundary = None;
            if ty.eq_ignore_ascii_case(b"multipart") {
                match parameter(params, b"boundary") {
                    Some(b) if b.len() > MAX_BOUNDARY => out(Event::Error(E_BOUNDARY)),
                    Some(b) if !b.is_empty() => {
                        e.multipart = true;
                        e.boundary = Some(b);
                    }
                    _ => {}
                }
            } else if ty.eq_ignore_ascii_case(b"message") && !sub.is_empty() {
                e.message = true;
            }
            e.type_name = parameter(params, b"name").filter(|n| !n.is_empty());
        } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
            let token = trim(&value[..next_semicolon(value).unwrap_or(value.len())]);
            e.encoding = if token.eq_ignore_ascii_case(b"base64") {
                Encoding::Base64
            } else if token.eq_ignore_ascii_case(b"quoted-printable") {
                Encoding::QuotedPrintable
            } else {
                Encoding::Identity
            };
        } else if name.eq_ignore_ascii_case(b"content-disposition") {
            let end = next_semicolon(value).unwrap_or(value.len());
            e.disposition_name = parameter(&value[end..], b"filename").filter(|n| !n.is_empty());
        }
    }

    /// The empty line after an entity's header: its body starts.
    fn end_header(&mut self, out: &mut dyn FnMut(Event<'_>)) {
        let Mode::Header(e) = &mut self.mode else {
            return;
        };
        Self::end_field(e, out);
        let depth = e.depth;
        let deeper = depth + 1;
        if (e.multipart || e.message) && deeper > MAX_DEPTH {
            out(Event::Error(E_DEPTH));
            self.mode = Mode::Skip;
            return;
        }
        if e.multipart {
            let boundary = e.boundary.take().unwrap_or_default();
            self.frames.push(Frame { boundary, depth });
            self.mode = Mode::Skip;
        } else if e.message {
            self.mode = Mode::Header(Box::new(Entity::new(deeper, false)));
        } else {
            let mut name = e.disposition_name.take().or_else(|| e.type_name.take());
            if let Some(n) = name.as_mut() {
                n.truncate(MAX_NAME);
            }
            out(Event::PartStart {
                name: name.as_deref(),
            });
            self.mode = Mode::Leaf(Box::new(Leaf::new(e.encoding, e.in_multipart)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A part's file name and bytes.
    type Part = (Option<String>, Vec<u8>);

    /// The parts of `msg` fed in chunks of `step`, and the errors.
    fn parts(msg: &[u8], step: usize) -> (Vec<Part>, Vec<&'static str>) {
        let mut p = Parser::new();
        let (mut parts, mut errors) = (Vec::new(), Vec::new());
        let mut open = false;
        let mut on = |e: Event<'_>| match e {
            Event::PartStart { name } => {
                assert!(!open);
                open = true;
                parts.push((
                    name.map(|n| String::from_utf8_lossy(n).into_owned()),
                    vec![],
                ));
            }
            Event::PartData(d) => parts.last_mut().unwrap().1.extend_from_slice(d),
            Event::PartEnd => {
                assert!(open);
                open = false;
            }
            Event::Error(e) => errors.push(e),
            Event::Header { .. } => {}
        };
        for c in msg.chunks(step.max(1)) {
            p.feed(c, &mut on);
        }
        p.finish(&mut on);
        (parts, errors)
    }

    #[test]
    fn encodings_decode_as_zeek_does() {
        let msg = b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\npreamble\r\n--b\r\n\
            Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n\r\n--b\r\n\
            Content-Transfer-Encoding: quoted-printable\r\n\r\na=3Db  \r\nsoft=\r\nbreak =\r\nx=ZZ\r\n--b\r\n\
            Content-Disposition: attachment; filename=\"a b.bin\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG*8h\r\n=\r\n--b--\r\nepilogue\r\n";
        for step in [1, 2, 3, 7, 64, msg.len()] {
            let (p, errors) = parts(msg, step);
            assert_eq!(
                p,
                vec![
                    (None, b"line 1\r\nline 2\r\n".to_vec()),
                    (None, b"a=b\r\nsoftbreak x=ZZ\r\n".to_vec()),
                    (Some("a b.bin".into()), b"hello!".to_vec()),
                ],
                "step {step}"
            );
            assert_eq!(errors, vec![E_BASE64]);
        }
    }

    #[test]
    fn single_part_keeps_its_last_line_end() {
        let (p, _) = parts(b"From: a@b\r\n\r\nbody\r\n", 1);
        assert_eq!(p, vec![(None, b"body\r\n".to_vec())]);
        // A message that is only a header has no part.
        assert_eq!(parts(b"From: a@b\r\n", 3).0, vec![]);
    }

    #[test]
    fn outer_boundary_closes_inner_parts_and_messages_nest() {
        let msg = b"Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\n\
            Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\r\nA\r\n\
            --outer\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\
            Content-Type: text/plain; name*0*=utf-8''%41; name*1=\"b.txt\"\r\n\r\nB\r\n--outer--\r\n";
        let (p, _) = parts(msg, 5);
        assert_eq!(
            p,
            vec![
                (None, b"A".to_vec()),
                // The nested message's body is not a multipart's part: it keeps its line end.
                (Some("Ab.txt".into()), b"B\r\n".to_vec()),
            ]
        );
    }

    #[test]
    fn headers_unfold_and_long_fields_are_counted() {
        let mut long = b"X: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_FIELD + 10));
        let msg = [
            b"To: a@b,\r\n\tc@d\r\nSubject: s\r\n".as_slice(),
            &long,
            b"\r\n\r\nbody",
        ]
        .concat();
        let mut heads = Vec::new();
        let mut errors = Vec::new();
        let mut p = Parser::new();
        for c in msg.chunks(100) {
            p.feed(c, &mut |e| match e {
                Event::Header { depth, name, value } => {
                    heads.push((depth, name.to_vec(), value.len().min(20)))
                }
                Event::Error(e) => errors.push(e),
                _ => {}
            });
        }
        assert_eq!(
            heads,
            vec![
                (0, b"To".to_vec(), b"a@b,\tc@d".len()),
                (0, b"Subject".to_vec(), 1),
                (0, b"X".to_vec(), 20),
            ]
        );
        assert_eq!(errors, vec![E_FIELD]);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut msg = Vec::new();
        for i in 0..MAX_DEPTH + 2 {
            msg.extend(
                format!("Content-Type: multipart/mixed; boundary=\"b{i}.\"\r\n\r\n--b{i}.\r\n")
                    .bytes(),
            );
        }
        msg.extend(b"\r\ndeep\r\n");
        let (p, errors) = parts(&msg, 9);
        assert_eq!(p, vec![]);
        assert_eq!(errors, vec![E_DEPTH]);
    }
}
