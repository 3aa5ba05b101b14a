//! Application parsers over a reassembled TCP stream: one [`StreamParser`] per direction of a
//! connection reads every message the direction carries, however the bytes were cut into
//! segments.
//!
//! # Contract with the reassembler
//!
//! The caller keeps, per direction, the bytes not consumed yet, in stream order, appends what
//! arrives and calls [`StreamParser::parse`] on the whole unconsumed run. `parse` reports what it
//! finds as [`Found`] values (borrowed from the bytes, or from the parser for a reassembled
//! ClientHello) and returns how many leading bytes it consumed; those are never given again.
//! A message is read only once it is complete, and a limit is a limit on the message (a request
//! head of more than [`MAX_HEAD`] bytes), never on how much happened to be buffered: so feeding
//! a stream in any chunks gives exactly the observations of feeding it whole (tested by
//! property). After `parse` returns, the unconsumed rest is shorter than
//! [`StreamParser::max_buffer`] unless [`StreamParser::done`]: buffering stays bounded whatever
//! the peer sends. HTTP bodies are hashed and mail message text is read as they arrive,
//! never buffered whole.
//! Lost bytes (a sequence gap, or data the caller could not keep) are announced with
//! [`StreamParser::gap`].
//!
//! # Protocols
//!
//! The protocol is chosen from the server port and the first bytes, in this order:
//!
//! * server direction, port 53: DNS over TCP, as below;
//! * server direction starting with a TLS handshake record whose first message is a
//!   ServerHello ([`tls::is_server_hello`]): the handshake fragments are joined as for the
//!   ClientHello and each complete message read in turn: the ServerHello ([`Found::ServerHello`]);
//!   when it chose TLS 1.2 or earlier, the Certificate message if it comes next, each of its
//!   certificates reported as [`Found::Certificate`]; then the direction is done (TLS 1.3
//!   encrypts the certificates: done after the ServerHello). A message above
//!   [`MAX_SERVER_MESSAGE`] bytes or a non-handshake record inside a message is an error;
//! * server direction starting with `HTTP/`: the responses (below); after a `101` head (an
//!   `Upgrade: h2c`) the protocol is chosen again; HTTP/2 frames from a server's first bytes
//!   (a `SETTINGS` frame, [`h2::server_start`]) are read as [`h2`] says — the requests it
//!   pushes are reported; on SMTP ports, the replies (below); anything else but a SOCKS
//!   proxy's reply is not read;
//! * server direction starting with a SOCKS proxy's reply to a tunnel request: a SOCKS5
//!   method choice, username/password status and reply (RFC 1928, 1929) or a SOCKS4 reply
//!   (`00 5A`): skipped, then the tunnelled server's bytes are read as above (its
//!   ServerHello). A refusal ends the direction;
//! * client direction, port 53: DNS over TCP — 2-byte length-prefixed messages, several per
//!   connection, each complete message reported as [`Found::Dns`] (RFC 1035 §4.2.2, RFC 7766);
//!   a length below a DNS header (12) loses the framing: reported, then done;
//! * a TLS handshake record starting a ClientHello ([`tls::is_client_hello`]): the handshake
//!   fragments of consecutive handshake records are joined until the ClientHello (type 1, 3-byte
//!   length) is complete (RFC 8446 §5.1 lets a handshake message span records), then its server
//!   name is reported ([`Found::Host`] with [`Field::TlsSni`]), then the whole message
//!   ([`Found::ClientHello`], for fingerprints), and the direction is done. A
//!   ClientHello above [`MAX_HELLO`] bytes, a record of length 0 or above 2^14 + 2048, or a
//!   non-handshake record before the end is an error, then done;
//! * ports 25, 587, 2525: SMTP (before HTTP: SMTP verbs look like methods). Command lines (CRLF
//!   or bare LF, at most [`MAX_SMTP_LINE`] bytes; a longer one is an error and skipped): the
//!   addresses of `MAIL FROM` / `RCPT TO` as [`Found::Mail`] (the rules of [`smtp`]); after
//!   `DATA` the message text up to the line `.`, and the chunks of `BDAT n [LAST]` (RFC 3030)
//!   up to the `LAST`, are read as they stream by [`super::mail`]: the addresses of the
//!   message's header as [`Found::Mail`], each MIME leaf part hashed and reported as
//!   [`Found::File`] ([`Field::SmtpAttachment`]). A message cut by a gap, `RSET`, a new
//!   `DATA`, `STARTTLS` or the end of the direction ([`StreamParser::end`]) is cut there (its
//!   open part is [`E_FILE_TRUNCATED`](super::file::E_FILE_TRUNCATED)). After `STARTTLS` only
//!   a ClientHello is read (as above), anything else ends the direction. The server's replies
//!   are skipped line by line until a line starts with a ServerHello (the TLS after `220` to
//!   `STARTTLS`), read as above. A `DATA` the server refused is still taken as followed by
//!   text;
//! * an HTTP/1.x request line: every request of the connection (keep-alive, pipelining). Each
//!   complete head (request line, headers, empty line; at most [`MAX_HEAD`] bytes; CRLF or bare
//!   LF) is reported as [`Found::Http`], parsed by [`http::request`]; then its body is read
//!   (`Content-Length` bytes, or `Transfer-Encoding: chunked` chunks and trailers:
//!   [`http::body`]), hashed as it arrives and, once whole, reported as [`Found::File`]
//!   ([`Field::HttpFile`], named by [`http_body::uri_name`]; a body cut by a gap or an error
//!   is [`E_FILE_TRUNCATED`](super::file::E_FILE_TRUNCATED)), and the next request is read.
//!   Empty lines between requests are skipped. Where a request head is due, the HTTP/2
//!   connection preface (prior knowledge, or after a request with `Upgrade: h2c`) starts HTTP/2
//!   frames: every request of the connection is reported as [`Found::Http`] with the
//!   HTTP/1-style head [`h2`] writes for it (version `HTTP/2`; read it back with
//!   [`http::request_or_h2_head`]). A first line that is not HTTP/1.x (RTSP) ends the
//!   direction; after that, anything unexpected — a line that is not a request line, a head
//!   above the limit, a
//!   malformed chunk, an unknown framing, a request without a target — is counted as an error
//!   and parsing resynchronises at the next line that starts with a method and a space. After
//!   an `Upgrade` to another protocol (WebSocket) the client sends frames: they are scanned for
//!   request lines like any other unexpected bytes, since the server's `101` is not seen;
//! * `CONNECT host:port` is reported like any request ([`http::Request::authority`] is the
//!   target), and the bytes after its head are parsed as a new stream to `port`, as if direct
//!   (TLS, HTTP, SOCKS, SMTP by port, …). The proxy's `200` travels in the other direction and is
//!   not seen: a refused CONNECT followed by another request is read as a tunnel carrying HTTP,
//!   which gives the same observations;
//! * a SOCKS client greeting, on any port (SOCKS servers listen anywhere):
//!   SOCKS4 `04 01|02 port ip userid\0` and SOCKS4a (`ip` = 0.0.0.x, x ≠ 0, then `domain\0`);
//!   SOCKS5 (RFC 1928) `05 n methods…` — methods 0–9 or 0x80–0xFE — then, when method 2 was
//!   offered, an optional username/password sub-negotiation (RFC 1929: skipped; the server's
//!   choice is not seen, so a request straight after the greeting is accepted too), then the
//!   request `05 cmd 00 atyp addr port`. The target is reported with [`Field::ProxyTarget`]:
//!   a domain as [`Found::Host`], an address as [`Found::Addr`]. The bytes after the request
//!   are parsed as a new stream to the target port. A SOCKS5 `UDP ASSOCIATE` names the client's
//!   own UDP endpoint, not a target: nothing is reported and the direction is done;
//! * anything else: done.
//!
//! After a gap, HTTP resynchronises at the next request line and SMTP at the next command line
//! (a gap inside message text is read as commands: text lines that look like `MAIL FROM:` would
//! be reported); TLS, DNS, SOCKS, HTTP/2 (its HPACK table is lost) and a direction whose protocol was not chosen yet give up.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::file::{FileDigests, FileLimits};
use super::http_body::{self, Body};
use super::mail::Message;
use super::{h2, http, smtp, tls};
use crate::indicators::field::Field;
use crate::packets::flow_table::AppMemory;

/// What a stream parser found, borrowed from the bytes it was given (or, for a ClientHello
/// joined from several records, from the parser) for the duration of the callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found<'a> {
    /// A host name or literal address as text: a TLS server name ([`Field::TlsSni`]) or a
    /// SOCKS target domain ([`Field::ProxyTarget`]).
    Host(Field, &'a [u8]),
    /// A binary address: a SOCKS4/SOCKS5 target given as an address ([`Field::ProxyTarget`]).
    Addr(Field, IpAddr),
    /// One complete HTTP/1.x request head (for CONNECT, [`http::Request::authority`] is the
    /// tunnel's target), or the head written for an HTTP/2 request (version `HTTP/2`,
    /// borrowed from the parser: [`super::h2`]).
    Http(http::Request<'a>),
    /// One complete DNS message, its TCP length prefix removed: pass it to [`super::dns::parse`].
    Dns(&'a [u8]),
    /// An SMTP envelope address ([`Field::SmtpMailFrom`], [`Field::SmtpRcptTo`]) or an
    /// address of a message's header ([`Field::MailFrom`], [`Field::MailTo`], …).
    Mail(Field, &'a [u8]),
    /// A file transferred whole, hashed: [`Field::HttpFile`] or [`Field::SmtpAttachment`];
    /// `name` is its file name (empty when the transfer gives none).
    File {
        /// Where the file was carried.
        field: Field,
        /// The file's name, as the transfer gives it; empty when none.
        name: &'a [u8],
        /// Its hashes and size.
        digests: &'a FileDigests,
    },
    /// One complete TLS ClientHello handshake message (type, length, body), for its
    /// fingerprints: pass it to [`tls::client_hello`].
    ClientHello(&'a [u8]),
    /// One complete TLS ServerHello handshake message: pass it to [`tls::server_hello`].
    ServerHello(&'a [u8]),
    /// The DER of one certificate of the server's chain (TLS 1.2 and earlier), the server's own
    /// first.
    Certificate(&'a [u8]),
    /// A parse error to count, by reason (the `E_*` constants of the app modules and of this
    /// one).
    Error(&'static str),
}

/// Longest HTTP request head (request line, headers, the empty line), chunk-size line or
/// trailer line read; longer is [`E_HEAD`].
pub const MAX_HEAD: usize = 64 * 1024;
/// Longest ClientHello handshake message read (type and length included); longer is
/// [`E_HELLO`].
pub const MAX_HELLO: usize = 64 * 1024;
/// Longest ServerHello or Certificate handshake message read (type and length included);
/// longer is [`E_SERVER_MESSAGE`]. Certificate chains seen on the web are a few KB.
pub const MAX_SERVER_MESSAGE: usize = 64 * 1024;
/// Longest SMTP command line read (RFC 5321 allows 512 bytes, extensions more); longer is
/// [`E_SMTP_LINE`].
pub const MAX_SMTP_LINE: usize = 8 * 1024;
/// The ports SMTP is read on (before HTTP: SMTP verbs look like methods).
pub const SMTP_PORTS: [u16; 3] = [25, 587, 2525];
/// The port DNS over TCP is read on, in both directions.
pub const DNS_PORT: u16 = 53;

/// Detection reads at most a SOCKS5 greeting: 2 + 255 method bytes.
const MAX_DETECT: usize = 2 + 255 + 1;
/// A SOCKS4a request: 8 fixed bytes, a user id and a domain of up to 255 bytes, each with its
/// NUL (SOCKS5 requests and RFC 1929 sub-negotiations are shorter).
const MAX_SOCKS: usize = 8 + 256 + 256;
/// One record: header and the largest fragment.
const MAX_TLS_RECORD: usize = 5 + tls::MAX_RECORD;
/// One DNS message with its length prefix.
const MAX_DNS: usize = 2 + 65_535;

/// Reason: a request head, chunk-size line or trailer line longer than [`MAX_HEAD`].
pub const E_HEAD: &str = "http: request head too long";
/// Reason: a line where a request line was expected.
pub const E_NOT_REQUEST: &str = "http: not a request line";
/// Reason: a line where a status line was expected.
pub const E_NOT_RESPONSE: &str = "http: not a status line";
/// Requests whose responses are awaited, at most (pipelined further, a response is read as
/// one to a GET, unnamed).
pub const MAX_PENDING: usize = 64;
/// Reason: a malformed chunk-size line, or a chunk not followed by its line end.
pub const E_CHUNK: &str = "http: bad chunk";
/// Reason: a ClientHello longer than [`MAX_HELLO`].
pub const E_HELLO: &str = "tls: client hello too long";
/// Reason: a ServerHello or Certificate message longer than [`MAX_SERVER_MESSAGE`].
pub const E_SERVER_MESSAGE: &str = "tls: server handshake message too long";
/// Reason: the server's handshake is cut by a record that is not a handshake record.
pub const E_SERVER_INTERRUPTED: &str = "tls: server handshake interrupted";
/// Reason: a DNS-over-TCP length prefix below the 12-byte header.
pub const E_DNS_LENGTH: &str = "dns: bad tcp length";
/// Reason: an SMTP command line longer than [`MAX_SMTP_LINE`].
pub const E_SMTP_LINE: &str = "smtp: command line too long";
/// Reason: a `BDAT` command without a valid chunk size.
pub const E_BDAT: &str = "smtp: bad bdat";
/// Reason: a SOCKS4 user id or domain without its NUL within 255 bytes, or an empty domain.
pub const E_SOCKS4: &str = "socks: bad socks4 request";
/// Reason: a SOCKS5 message that is neither a sub-negotiation nor a request, or a malformed
/// request.
pub const E_SOCKS5: &str = "socks: bad socks5 request";

/// One direction of one TCP connection, parsed as it is reassembled (see the module docs).
#[derive(Debug)]
pub struct StreamParser {
    from_client: bool,
    /// The port the protocol is chosen by: the server's, or a tunnel's target port.
    server_port: u16,
    /// How the files the stream carries are hashed; `None`: not hashed (bodies are still read
    /// for their framing).
    files: Option<FileLimits>,
    state: State,
    /// The HTTP body being read, hashed as it arrives.
    body: Option<Body>,
    /// HTTP requests read and not yet handed to the server direction (client side), or
    /// handed and not yet answered (server side).
    pending: VecDeque<Pending>,
}

/// What a response needs from its request: whether it has a body and what names it.
#[derive(Debug)]
struct Pending {
    /// A `HEAD` request: the response has no body whatever its head says.
    head: bool,
    /// A `CONNECT`: a 2xx response starts a tunnel.
    connect: bool,
    /// The request target's path ([`http_body::uri_name`]).
    name: Box<[u8]>,
}

#[derive(Debug)]
enum State {
    /// The protocol is not chosen yet.
    Detect,
    Http(Http),
    /// The handshake bytes of the ClientHello joined so far.
    Tls(Vec<u8>),
    /// The server's handshake bytes joined and not read yet; `hello`: its ServerHello was
    /// read.
    TlsServer {
        handshake: Vec<u8>,
        hello: bool,
    },
    Dns,
    /// SMTP, and the message being read (kept across `BDAT` chunks).
    Smtp(Smtp, Option<Box<Message>>),
    /// The server side of a proxy: its reply before the tunnelled server's own bytes.
    ProxyReply(ProxyReply),
    /// After the client's `STARTTLS`: a ClientHello, or nothing more to read.
    StartTls,
    /// The server's SMTP replies, skipped line by line until a ServerHello starts a line
    /// (after `220` to `STARTTLS`); `line_start`: at the start of a line.
    SmtpReplies {
        line_start: bool,
    },
    Socks4,
    /// After the greeting; `auth`: username/password was offered and no sub-negotiation seen.
    Socks5 {
        auth: bool,
    },
    /// HTTP/2 frames: after the client preface, or from a server's first frame.
    H2(Box<h2::Connection>),
    /// A server's `101 Switching Protocols` head, up to its end.
    Switching,
    Done,
}

#[derive(Debug)]
enum Http {
    /// Expecting a request head; `first`: the first of the stream (not HTTP/1.x ends it).
    Head {
        first: bool,
    },
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailer,
    /// A response body that ends when the connection closes (no length, not chunked).
    UntilClose,
    /// Skipping to the next line that starts a request.
    Resync {
        line_start: bool,
    },
}

#[derive(Debug)]
enum ProxyReply {
    /// After the SOCKS5 method choice; `auth`: username/password was chosen, its status
    /// (RFC 1929) may come first.
    Socks5 { auth: bool },
}

#[derive(Debug)]
enum Smtp {
    Command {
        line_start: bool,
    },
    /// `DATA` text, up to the line `.`.
    Data,
    /// The bytes left of a `BDAT` chunk, and whether it is the `LAST`.
    Bdat {
        left: u64,
        last: bool,
    },
}

/// One step: `Some(n)` bytes consumed (0 when the state changed), `None` to wait for more.
type Step = Option<usize>;

fn find_nl(p: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', p)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The end (after the empty line) of the head starting `p`, when it lies within `p`.
fn head_end(p: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = find_nl(&p[from..]).map(|i| from + i) {
        match p.get(i + 1..) {
            Some([b'\n', ..]) => return Some(i + 2),
            Some([b'\r', b'\n', ..]) => return Some(i + 3),
            _ => from = i + 1,
        }
    }
    None
}

/// Heap bytes the parser holds beyond its own size: a body's decoder, pending requests, a
/// ClientHello being joined.
impl AppMemory for StreamParser {
    fn held(&self) -> usize {
        let body = self.body.as_ref().map_or(0, |b| b.held());
        let pending = self.pending.capacity() * size_of::<Pending>()
            + self.pending.iter().map(|p| p.name.len()).sum::<usize>();
        // The handshake bytes a TLS parser joined (at most `MAX_HELLO` or
        // `MAX_SERVER_MESSAGE` and a record), or the mail message being read.
        let state = match &self.state {
            State::Tls(h) | State::TlsServer { handshake: h, .. } => h.capacity(),
            State::Smtp(_, Some(m)) => m.held(),
            _ => 0,
        };
        body + pending + state
    }
}

/// The file a message with head `head` carries: named by its `Content-Disposition` filename,
/// else by `target` (the request's path), decoded as its `Content-Encoding` says; a request's
/// multipart body carries its parts.
fn body_file(files: Option<FileLimits>, head: &[u8], target: &[u8], request: bool) -> Option<Body> {
    let files = files?;
    let named =
        http_body::header(head, b"content-disposition").and_then(http_body::disposition_name);
    let name = named.unwrap_or_else(|| http_body::uri_name(target));
    Some(Body::new(files, head, name, request))
}

/// What starts a TLS direction's unconsumed bytes.
enum Record<'a> {
    /// A whole handshake record: its fragment (5 + its length bytes are consumed).
    Fragment(&'a [u8]),
    /// A record of another content type or version.
    NotHandshake,
    /// A handshake record of length 0 or above [`tls::MAX_RECORD`].
    BadLength,
}

/// The record at the start of `p`; `None` to wait for the rest of it.
fn handshake_record(p: &[u8]) -> Option<Record<'_>> {
    let h = p.get(..5)?;
    if h[0] != tls::CONTENT_HANDSHAKE || h[1] != 3 {
        return Some(Record::NotHandshake);
    }
    let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
    if len == 0 || len > tls::MAX_RECORD {
        return Some(Record::BadLength);
    }
    p.get(5..5 + len).map(Record::Fragment)
}

/// The port of an authority (`host:port`, `[v6]:port`), 0 when absent or unreadable.
fn authority_port(a: &[u8]) -> u16 {
    let port = match a.iter().rposition(|&b| b == b':') {
        Some(c) if a.starts_with(b"[") && a[..c].ends_with(b"]") => &a[c + 1..],
        Some(c) if !a.starts_with(b"[") && !a[..c].contains(&b':') => &a[c + 1..],
        _ => return 0,
    };
    std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// A chunk-size line (without line end): hex digits, then nothing, spaces or `;ext`.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 || !matches!(line.get(digits), None | Some(b';' | b' ' | b'\t')) {
        return None;
    }
    line[..digits].iter().try_fold(0u64, |n, &d| {
        let v = (d as char).to_digit(16)? as u64;
        Some((n << 4) | v)
    })
}

/// The size of `BDAT size [LAST]` (the verb already matched), and whether it is the last.
fn bdat_size(args: &[u8]) -> Option<(u64, bool)> {
    let mut words = args.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let n = words.next()?;
    let last = words.next();
    if n.is_empty() || n.len() > 19 || !n.iter().all(u8::is_ascii_digit) || words.next().is_some() {
        return None;
    }
    if last.is_some_and(|l| !l.eq_ignore_ascii_case(b"LAST")) {
        return None;
    }
    Some((
        n.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')),
        last.is_some(),
    ))
}

/// The verb of a command line and what follows its first space.
fn verb(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b' ') {
        Some(sp) => (&line[..sp], &line[sp + 1..]),
        None => (line, &[]),
    }
}

impl StreamParser {
    /// A parser for the client (`from_client`) or server direction of a connection whose
    /// server listens on `server_port`.
    pub fn new(from_client: bool, server_port: u16) -> StreamParser {
        StreamParser {
            from_client,
            server_port,
            files: Some(FileLimits::default()),
            state: State::Detect,
            body: None,
            pending: VecDeque::new(),
        }
    }

    /// The same parser, hashing the files it reads within `files` (default:
    /// [`FileLimits::default`]).
    pub fn with_file_limits(self, files: FileLimits) -> StreamParser {
        StreamParser {
            files: Some(files),
            ..self
        }
    }

    /// The same parser, hashing no file: for a set without hash indicators, where a file's
    /// hashes could match nothing.
    pub fn without_files(self) -> StreamParser {
        StreamParser {
            files: None,
            ..self
        }
    }

    /// Parses `data` — every byte of this direction not consumed by earlier calls, in stream
    /// order — reports what it finds to `out`, and returns how many leading bytes are consumed
    /// (never given again). Once [`done`](Self::done), consumes everything it is given.
    pub fn parse(&mut self, data: &[u8], out: &mut dyn FnMut(Found<'_>)) -> usize {
        let mut at = 0;
        loop {
            if matches!(self.state, State::Done) {
                return data.len();
            }
            if at == data.len() {
                return at;
            }
            match self.step(&data[at..], out) {
                Some(n) => at += n,
                None => return at,
            }
        }
    }

    /// The caller lost `lost` bytes of this direction. Inside an HTTP body of known length
    /// (or a chunk, or a body that ends with the connection) the framing survives: the body is
    /// [`E_FILE_TRUNCATED`](super::file::E_FILE_TRUNCATED) (reported to `out`) and the next
    /// message is read where the framing says, as Suricata does. Elsewhere HTTP resynchronises
    /// at the next request or status line, SMTP at the next command line (a message being read
    /// is cut: its open part is `E_FILE_TRUNCATED`); every other protocol
    /// is done, and so is a direction whose protocol is not chosen yet — except a server's,
    /// which may be HTTP responses (its first response's head lost): it resynchronises at the
    /// next status line.
    pub fn gap(&mut self, lost: u64, out: &mut dyn FnMut(Found<'_>)) {
        self.drop_body(out);
        self.state = match std::mem::replace(&mut self.state, State::Done) {
            State::Http(Http::Body(n)) if lost < n => State::Http(Http::Body(n - lost)),
            State::Http(Http::Body(n)) if lost == n => State::Http(Http::Head { first: false }),
            State::Http(Http::ChunkData(n)) if lost < n => State::Http(Http::ChunkData(n - lost)),
            State::Http(Http::UntilClose) => State::Http(Http::UntilClose),
            State::Http(_) => State::Http(Http::Resync { line_start: false }),
            State::Detect if !self.from_client && self.server_port != DNS_PORT => {
                State::Http(Http::Resync { line_start: false })
            }
            State::Smtp(_, Some(mut message)) => {
                message.cut(out);
                State::Smtp(Smtp::Command { line_start: false }, None)
            }
            State::Smtp(..) => State::Smtp(Smtp::Command { line_start: false }, None),
            State::SmtpReplies { .. } => State::SmtpReplies { line_start: false },
            _ => State::Done,
        };
    }

    /// Passes the HTTP requests this (client) direction read to the parser of the server
    /// direction, which needs them to read the responses (a response to `HEAD` has no body; a
    /// response file is named by its request's path).
    pub fn hand_over(&mut self, server: &mut StreamParser) {
        if !self.from_client {
            return;
        }
        for p in self.pending.drain(..) {
            if server.pending.len() < MAX_PENDING {
                server.pending.push_back(p);
            }
        }
    }

    /// The direction ended: `clean` by a FIN (the sender wrote everything), else by a reset
    /// or the capture's end. A response body delimited by the connection's close ends cleanly
    /// with a FIN; any other body being read, and an SMTP message not ended, is
    /// [`E_FILE_TRUNCATED`](super::file::E_FILE_TRUNCATED).
    pub fn end(&mut self, clean: bool, out: &mut dyn FnMut(Found<'_>)) {
        if clean && matches!(self.state, State::Http(Http::UntilClose)) {
            if let Some(b) = self.body.take() {
                b.finish(out);
            }
        }
        self.drop_body(out);
        if let State::Smtp(_, message) = &mut self.state {
            if let Some(mut m) = message.take() {
                m.cut(out);
            }
        }
    }

    /// True when this direction holds nothing more the parser reads (TLS after the
    /// ClientHello, or after the server's certificates, an unknown protocol, a server direction
    /// that is neither DNS, TLS nor SMTP): the caller may stop buffering it.
    pub fn done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The most unconsumed bytes the parser may leave after a call (strictly fewer remain
    /// unless [`done`](Self::done)): the longest incomplete message of the current protocol.
    pub fn max_buffer(&self) -> usize {
        match self.state {
            State::Detect => MAX_DETECT,
            State::Http(_) => MAX_HEAD,
            State::Tls(_) | State::TlsServer { .. } => MAX_TLS_RECORD,
            State::Dns => MAX_DNS,
            State::Smtp(..) => MAX_SMTP_LINE,
            State::StartTls | State::SmtpReplies { .. } => MAX_DETECT,
            State::ProxyReply(ProxyReply::Socks5 { .. }) => MAX_SOCKS,
            State::Socks4 | State::Socks5 { .. } => MAX_SOCKS,
            State::H2(_) => h2::FRAME_HEADER + h2::MAX_HEADER_BLOCK,
            State::Switching => MAX_HEAD,
            State::Done => 0,
        }
    }

    /// A body being read will not end where its framing says: counted, not reported.
    fn drop_body(&mut self, out: &mut dyn FnMut(Found<'_>)) {
        if let Some(b) = self.body.take() {
            b.truncated(out);
        }
    }

    fn step(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        match self.state {
            State::Detect => self.detect(p),
            State::Http(_) => self.http(p, out),
            State::Tls(_) => self.tls(p, out),
            State::TlsServer { .. } => self.tls_server(p, out),
            State::Dns => self.dns(p, out),
            State::Smtp(..) => self.smtp(p, out),
            State::StartTls => {
                if !self.start_tls(p)? {
                    self.state = State::Done;
                }
                Some(0)
            }
            State::SmtpReplies { line_start } => self.smtp_replies(p, line_start),
            State::ProxyReply(ProxyReply::Socks5 { auth }) => self.socks5_reply(p, auth),
            State::Socks4 => self.socks4(p, out),
            State::Socks5 { auth } => self.socks5(p, auth, out),
            State::H2(_) => self.h2(p, out),
            State::Switching => self.switching(p),
            State::Done => Some(p.len()),
        }
    }

    /// Chooses the protocol (see the module docs); consumes only a SOCKS5 greeting.
    fn detect(&mut self, p: &[u8]) -> Step {
        if !self.from_client && self.server_port != DNS_PORT {
            return self.detect_server(p);
        }
        if self.server_port == DNS_PORT {
            self.state = State::Dns;
            return Some(0);
        }
        if p[0] == tls::CONTENT_HANDSHAKE {
            if p.len() < 6 {
                return None;
            }
            self.state = if tls::is_client_hello(p) {
                State::Tls(Vec::new())
            } else {
                State::Done
            };
            return Some(0);
        }
        if SMTP_PORTS.contains(&self.server_port) {
            self.state = State::Smtp(Smtp::Command { line_start: true }, None);
            return Some(0);
        }
        match http::request_start_so_far(p) {
            Some(true) => {
                self.state = State::Http(Http::Head { first: true });
                return Some(0);
            }
            None => return None,
            Some(false) => {}
        }
        match p {
            [4, cmd, ..] => {
                self.state = if matches!(cmd, 1 | 2) {
                    State::Socks4
                } else {
                    State::Done
                };
                Some(0)
            }
            [5, n, ..] => {
                let n = *n as usize;
                let methods = p.get(2..2 + n)?;
                let plausible = n > 0
                    && methods
                        .iter()
                        .all(|&m| m <= 9 || (0x80..=0xFE).contains(&m));
                if !plausible {
                    self.state = State::Done;
                    return Some(0);
                }
                self.state = State::Socks5 {
                    auth: methods.contains(&2),
                };
                Some(2 + n)
            }
            [4 | 5] => None,
            _ => {
                self.state = State::Done;
                Some(0)
            }
        }
    }

    /// The server's direction (not DNS): a TLS ServerHello, HTTP/1.x responses, a SOCKS
    /// proxy's reply, SMTP replies on SMTP ports, HTTP/2 frames from the first byte or after a
    /// `101 Switching Protocols` head (an `Upgrade: h2c`); else nothing is read.
    fn detect_server(&mut self, p: &[u8]) -> Step {
        const SWITCHING: &[u8] = b"HTTP/1.1 101";
        if self.start_tls(p)? {
            return Some(0);
        }
        if p[0] == SWITCHING[0] {
            let n = p.len().min(SWITCHING.len());
            let m = n.min(5);
            if p[..m] != b"HTTP/"[..m] {
                self.state = State::Done;
                return Some(0);
            }
            if n < SWITCHING.len() {
                return None;
            }
            // The server's HTTP/1.x responses; a leading `101` switches protocols.
            self.state = if p[..n] == *SWITCHING {
                State::Switching
            } else {
                State::Http(Http::Head { first: true })
            };
            return Some(0);
        }
        if let Some(step) = self.proxy_reply(p) {
            return step;
        }
        if SMTP_PORTS.contains(&self.server_port) {
            self.state = State::SmtpReplies { line_start: true };
            return Some(0);
        }
        self.state = if h2::server_start(p)? {
            State::H2(Box::new(h2::Connection::server()))
        } else {
            State::Done
        };
        Some(0)
    }

    /// Steps over a server's `101` head; the protocol switched to is chosen after it.
    fn switching(&mut self, p: &[u8]) -> Step {
        match head_end(&p[..p.len().min(MAX_HEAD)]) {
            Some(end) => {
                self.state = State::Detect;
                Some(end)
            }
            None if p.len() < MAX_HEAD => None,
            None => {
                self.state = State::Done;
                Some(0)
            }
        }
    }

    /// Starts reading TLS when `p` starts with the first record of this direction's handshake
    /// (a ClientHello from the client, a ServerHello from the server): `Some(true)`;
    /// `Some(false)` when it does not, `None` to wait for the six bytes that tell.
    fn start_tls(&mut self, p: &[u8]) -> Option<bool> {
        if p[0] != tls::CONTENT_HANDSHAKE {
            return Some(false);
        }
        p.get(5)?;
        if self.from_client && tls::is_client_hello(p) {
            self.state = State::Tls(Vec::new());
        } else if !self.from_client && tls::is_server_hello(p) {
            self.state = State::TlsServer {
                handshake: Vec::new(),
                hello: false,
            };
        } else {
            return Some(false);
        }
        Some(true)
    }

    /// At the start of a server direction: the reply of a SOCKS5 or SOCKS4 proxy to a tunnel
    /// request, whose end is where the tunnelled server's bytes start. `None`: not one.
    fn proxy_reply(&mut self, p: &[u8]) -> Option<Step> {
        // `Some(None)`: wait for the bytes that tell.
        let Some(&second) = p.get(1) else {
            return matches!(p[0], 0 | 5).then_some(None);
        };
        match (p[0], second) {
            // SOCKS5 method choice (RFC 1928 §3): 0xFF refuses every method.
            (5, 0xFF) => {
                self.state = State::Done;
                Some(Some(0))
            }
            (5, m @ (0..=9 | 0x80..=0xFE)) => {
                self.state = State::ProxyReply(ProxyReply::Socks5 { auth: m == 2 });
                Some(Some(2))
            }
            // SOCKS4 reply: 00, 5A (granted) to 5D, port, address.
            (0, code @ 0x5a..=0x5d) => {
                if p.len() < 8 {
                    return Some(None);
                }
                if code != 0x5a {
                    self.state = State::Done;
                }
                Some(Some(8))
            }
            _ => None,
        }
    }

    /// A SOCKS5 proxy's reply after its method choice: the username/password status, then the
    /// reply to the request (RFC 1928 §6); success leads to the target's bytes.
    fn socks5_reply(&mut self, p: &[u8], auth: bool) -> Step {
        let end = match p[0] {
            1 if auth => {
                let ok = *p.get(1)? == 0;
                self.state = if ok {
                    State::ProxyReply(ProxyReply::Socks5 { auth: false })
                } else {
                    State::Done
                };
                return Some(if ok { 2 } else { 0 });
            }
            5 => {
                let h = p.get(..4)?;
                match (h[1], h[2], h[3]) {
                    (0, 0, 1) => 10,
                    (0, 0, 4) => 22,
                    (0, 0, 3) => 7 + usize::from(*p.get(4)?),
                    _ => 0,
                }
            }
            _ => 0,
        };
        if end == 0 {
            self.state = State::Done;
            return Some(0);
        }
        p.get(..end)?;
        self.state = State::Detect;
        Some(end)
    }

    /// Skips a line of the server's SMTP replies, or starts TLS at a line's start.
    fn smtp_replies(&mut self, p: &[u8], line_start: bool) -> Step {
        if line_start && self.start_tls(p)? {
            return Some(0);
        }
        let (next, used) = match find_nl(p) {
            Some(nl) => (true, nl + 1),
            None => (false, p.len()),
        };
        self.state = State::SmtpReplies { line_start: next };
        Some(used)
    }

    /// Starts a new stream to `port` inside a tunnel (CONNECT, SOCKS).
    fn tunnel(&mut self, port: u16) {
        self.server_port = port;
        self.state = State::Detect;
    }

    fn http(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let step = self.http_step(p, out);
        // Resynchronising (after an error) or leaving HTTP: a body being read is cut short.
        let in_body = matches!(
            self.state,
            State::Http(
                Http::Body(_)
                    | Http::ChunkSize
                    | Http::ChunkData(_)
                    | Http::ChunkEnd
                    | Http::UntilClose
            )
        );
        if !in_body {
            self.drop_body(out);
        }
        step
    }

    fn http_step(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let State::Http(h) = &mut self.state else {
            unreachable!("called in the HTTP state")
        };
        let window = &p[..p.len().min(MAX_HEAD)];
        match *h {
            Http::Head { first } if !self.from_client => self.response_head(p, first, out),
            Http::Head { first } => {
                let blank = p.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
                if blank > 0 {
                    return Some(blank);
                }
                // HTTP/2: prior knowledge, or after a request with `Upgrade: h2c`.
                if p[0] == h2::PREFACE[0] && h2::preface_so_far(p)? {
                    self.state = State::H2(Box::new(h2::Connection::client()));
                    return Some(h2::PREFACE.len());
                }
                match http::request_start_so_far(p)? {
                    true => {}
                    false if first => {
                        self.state = State::Done;
                        return Some(0);
                    }
                    false => {
                        out(Found::Error(E_NOT_REQUEST));
                        *h = Http::Resync { line_start: false };
                        return Some(0);
                    }
                }
                let Some(nl) = find_nl(window) else {
                    return self.http_too_long(p, out);
                };
                // Decide on the request line alone, so that a stream that is not HTTP/1.x
                // is given up without waiting for an empty line that may never come.
                match http::request(&p[..=nl]) {
                    Ok(Some(_)) => {}
                    Ok(None) if first => {
                        self.state = State::Done;
                        return Some(0);
                    }
                    Ok(None) => {
                        out(Found::Error(E_NOT_REQUEST));
                        *h = Http::Resync { line_start: true };
                        return Some(nl + 1);
                    }
                    Err(e) => {
                        out(Found::Error(e));
                        *h = Http::Resync { line_start: true };
                        return Some(nl + 1);
                    }
                }
                let Some(end) = head_end(window) else {
                    return self.http_too_long(p, out);
                };
                let Ok(Some(req)) = http::request(&p[..end]) else {
                    unreachable!("the request line was read above")
                };
                out(Found::Http(req));
                if req.uri.is_empty() {
                    out(Found::Error(http::E_TARGET));
                }
                if self.pending.len() < MAX_PENDING {
                    self.pending.push_back(Pending {
                        head: req.method == b"HEAD",
                        connect: req.method == b"CONNECT",
                        name: http_body::uri_name(req.uri).into(),
                    });
                }
                if req.method == b"CONNECT" {
                    let port = req.authority().map_or(0, authority_port);
                    self.tunnel(port);
                    return Some(end);
                }
                *h = match http::body(req.head) {
                    Ok(http::Body::Length(0)) => Http::Head { first: false },
                    Ok(http::Body::Length(n)) => {
                        self.body = body_file(self.files, req.head, req.uri, true);
                        Http::Body(n)
                    }
                    Ok(http::Body::Chunked) => {
                        self.body = body_file(self.files, req.head, req.uri, true);
                        Http::ChunkSize
                    }
                    Err(e) => {
                        out(Found::Error(e));
                        Http::Resync { line_start: true }
                    }
                };
                Some(end)
            }
            Http::Body(n) | Http::ChunkData(n) => {
                let k = n.min(p.len() as u64);
                let left = n - k;
                if let Some(b) = &mut self.body {
                    b.data(&p[..k as usize], out);
                }
                if matches!((&*h, left), (Http::Body(_), 0)) {
                    if let Some(b) = self.body.take() {
                        b.finish(out);
                    }
                }
                *h = match (&*h, left) {
                    (Http::Body(_), 0) => Http::Head { first: false },
                    (Http::Body(_), _) => Http::Body(left),
                    (_, 0) => Http::ChunkEnd,
                    _ => Http::ChunkData(left),
                };
                Some(k as usize)
            }
            Http::ChunkSize => {
                let Some(nl) = find_nl(window) else {
                    return self.http_too_long(p, out);
                };
                match chunk_size(strip_cr(&p[..nl])) {
                    Some(0) => {
                        // The last chunk: the body is whole (trailers are not part of it).
                        if let Some(b) = self.body.take() {
                            b.finish(out);
                        }
                        *h = Http::Trailer;
                    }
                    Some(n) => *h = Http::ChunkData(n),
                    None => {
                        out(Found::Error(E_CHUNK));
                        *h = Http::Resync { line_start: true };
                        return Some(0);
                    }
                }
                Some(nl + 1)
            }
            Http::ChunkEnd => match p {
                [b'\n', ..] => {
                    *h = Http::ChunkSize;
                    Some(1)
                }
                [b'\r'] => None,
                [b'\r', b'\n', ..] => {
                    *h = Http::ChunkSize;
                    Some(2)
                }
                _ => {
                    out(Found::Error(E_CHUNK));
                    *h = Http::Resync { line_start: false };
                    Some(0)
                }
            },
            Http::Trailer => {
                let Some(nl) = find_nl(window) else {
                    return self.http_too_long(p, out);
                };
                if strip_cr(&p[..nl]).is_empty() {
                    *h = Http::Head { first: false };
                }
                Some(nl + 1)
            }
            Http::UntilClose => {
                if let Some(b) = &mut self.body {
                    b.data(p, out);
                }
                Some(p.len())
            }
            Http::Resync { line_start: true } => {
                let start = if self.from_client {
                    http::request_start_so_far(p)?
                } else {
                    let n = p.len().min(5);
                    if n < 5 && p[..n] == b"HTTP/"[..n] {
                        return None;
                    }
                    p.starts_with(b"HTTP/")
                };
                if start {
                    *h = Http::Head { first: false };
                } else {
                    *h = Http::Resync { line_start: false };
                }
                Some(0)
            }
            Http::Resync { line_start: false } => match find_nl(p) {
                Some(nl) => {
                    *h = Http::Resync { line_start: true };
                    Some(nl + 1)
                }
                None => Some(p.len()),
            },
        }
    }

    /// A response head (status line, headers, empty line): its body's framing, from the head
    /// and from the request it answers (RFC 9112 §6.3: none after `HEAD`, for 1xx, 204 and
    /// 304; a 2xx to `CONNECT` opens the tunnel and a 101 switches protocols: what follows is
    /// chosen again).
    fn response_head(&mut self, p: &[u8], first: bool, out: &mut dyn FnMut(Found<'_>)) -> Step {
        let blank = p.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        if blank > 0 {
            return Some(blank);
        }
        let window = &p[..p.len().min(MAX_HEAD)];
        let Some(nl) = find_nl(window) else {
            return self.http_too_long(p, out);
        };
        let Some(code) = http_body::status(strip_cr(&p[..nl])) else {
            if first {
                self.state = State::Done;
            } else {
                out(Found::Error(E_NOT_RESPONSE));
                self.state = State::Http(Http::Resync { line_start: true });
            }
            return Some(if first { 0 } else { nl + 1 });
        };
        let Some(end) = head_end(window) else {
            return self.http_too_long(p, out);
        };
        let head = &p[..end];
        // An interim (1xx) response leaves its request waiting for the final one.
        let request = if code >= 200 {
            self.pending.pop_front()
        } else {
            None
        };
        let (head_req, connect) = request
            .as_ref()
            .map_or((false, false), |r| (r.head, r.connect));
        if code == 101 {
            // Switching protocols: what follows is chosen again (an HTTP/2 server's frames
            // after `Upgrade: h2c`; anything else ends the direction).
            self.state = State::Detect;
            return Some(end);
        }
        if connect && (200..300).contains(&code) {
            // The tunnel is open: the target server's own bytes follow (its ServerHello).
            self.state = State::Detect;
            return Some(end);
        }
        let next = if head_req || code < 200 || code == 204 || code == 304 {
            Http::Head { first: false }
        } else {
            let framing = match http::body(head) {
                Ok(http::Body::Length(0))
                    if http_body::header(head, b"content-length").is_none() =>
                {
                    Ok(Http::UntilClose)
                }
                Ok(http::Body::Length(0)) => Ok(Http::Head { first: false }),
                Ok(http::Body::Length(n)) => Ok(Http::Body(n)),
                Ok(http::Body::Chunked) => Ok(Http::ChunkSize),
                Err(e) => Err(e),
            };
            match framing {
                Ok(next) => {
                    if !matches!(next, Http::Head { .. }) {
                        let name = request.as_ref().map_or(&[][..], |r| &r.name[..]);
                        self.body = body_file(self.files, head, name, false);
                    }
                    next
                }
                Err(e) => {
                    out(Found::Error(e));
                    Http::Resync { line_start: true }
                }
            }
        };
        self.state = State::Http(next);
        Some(end)
    }

    fn h2(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let State::H2(conn) = &mut self.state else {
            unreachable!("called in the HTTP/2 state")
        };
        let progress = conn.step(p, &mut |r| {
            out(match r {
                Ok(req) => Found::Http(req),
                Err(why) => Found::Error(why),
            })
        });
        match progress {
            h2::Progress::Wait => None,
            h2::Progress::Read(n) => Some(n),
            h2::Progress::Lost => {
                self.state = State::Done;
                Some(0)
            }
        }
    }

    /// No line end (or no end of head) within [`MAX_HEAD`] bytes: wait while fewer are
    /// buffered, else count the error and skip to the next line.
    fn http_too_long(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        if p.len() < MAX_HEAD {
            return None;
        }
        out(Found::Error(E_HEAD));
        self.state = State::Http(Http::Resync { line_start: false });
        Some(0)
    }

    fn tls(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let State::Tls(hello) = &mut self.state else {
            unreachable!("called in the TLS state")
        };
        let fragment = match handshake_record(p)? {
            Record::Fragment(f) => f,
            Record::NotHandshake => {
                out(Found::Error(tls::E_INTERRUPTED));
                self.state = State::Done;
                return Some(0);
            }
            Record::BadLength => {
                out(Found::Error(tls::E_RECORD));
                self.state = State::Done;
                return Some(0);
            }
        };
        let len = fragment.len();
        hello.extend_from_slice(fragment);
        if let [_, a, b, c, ..] = hello[..] {
            let total = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
            if total > MAX_HELLO {
                out(Found::Error(E_HELLO));
                self.state = State::Done;
            } else if hello.len() >= total {
                let msg = &hello[..total];
                match tls::handshake_sni(msg) {
                    Ok(Some(name)) => out(Found::Host(Field::TlsSni, name)),
                    Ok(None) => {}
                    Err(e) => out(Found::Error(e)),
                }
                out(Found::ClientHello(msg));
                self.state = State::Done;
            }
        }
        Some(5 + len)
    }

    /// The server's records: the ServerHello, then (TLS 1.2 and earlier) the Certificate
    /// message when it comes next; done after it, after a ServerHello of TLS 1.3 (the rest is
    /// encrypted), or at the first other message or record (a resumed session's
    /// ChangeCipherSpec, an anonymous key exchange).
    fn tls_server(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let State::TlsServer { handshake, hello } = &mut self.state else {
            unreachable!("called in the server TLS state")
        };
        let fragment = match handshake_record(p)? {
            Record::Fragment(f) => f,
            Record::NotHandshake => {
                if !*hello || !handshake.is_empty() {
                    out(Found::Error(E_SERVER_INTERRUPTED));
                }
                self.state = State::Done;
                return Some(0);
            }
            Record::BadLength => {
                out(Found::Error(tls::E_RECORD));
                self.state = State::Done;
                return Some(0);
            }
        };
        let len = fragment.len();
        handshake.extend_from_slice(fragment);
        while let [ty, a, b, c, ..] = handshake[..] {
            let total = 4 + (usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c));
            if total > MAX_SERVER_MESSAGE {
                out(Found::Error(E_SERVER_MESSAGE));
                self.state = State::Done;
                break;
            }
            if handshake.len() < total {
                break;
            }
            let msg = &handshake[..total];
            match ty {
                tls::HANDSHAKE_SERVER_HELLO if !*hello => {
                    out(Found::ServerHello(msg));
                    *hello = true;
                    // Past TLS 1.2 (or unreadable), nothing more is in clear.
                    let clear = tls::server_hello(msg)
                        .ok()
                        .flatten()
                        .is_some_and(|h| (0x0300..=0x0303).contains(&h.negotiated_version()));
                    if !clear {
                        self.state = State::Done;
                        break;
                    }
                }
                tls::HANDSHAKE_CERTIFICATE if *hello => {
                    for cert in tls::certificates(msg) {
                        match cert {
                            Ok(der) => out(Found::Certificate(der)),
                            Err(e) => out(Found::Error(e)),
                        }
                    }
                    self.state = State::Done;
                    break;
                }
                _ => {
                    self.state = State::Done;
                    break;
                }
            }
            handshake.drain(..total);
        }
        Some(5 + len)
    }

    fn dns(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let n = u16::from_be_bytes([*p.first()?, *p.get(1)?]) as usize;
        if n < 12 {
            out(Found::Error(E_DNS_LENGTH));
            self.state = State::Done;
            return Some(0);
        }
        out(Found::Dns(p.get(2..2 + n)?));
        Some(2 + n)
    }

    fn smtp(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let files = self.files;
        let State::Smtp(s, message) = &mut self.state else {
            unreachable!("called in the SMTP state")
        };
        match *s {
            Smtp::Command { line_start: false } => {
                let Some(nl) = find_nl(p) else {
                    return Some(p.len());
                };
                *s = Smtp::Command { line_start: true };
                Some(nl + 1)
            }
            Smtp::Command { line_start: true } => {
                let Some(nl) = find_nl(&p[..p.len().min(MAX_SMTP_LINE)]) else {
                    if p.len() < MAX_SMTP_LINE {
                        return None;
                    }
                    out(Found::Error(E_SMTP_LINE));
                    *s = Smtp::Command { line_start: false };
                    return Some(0);
                };
                let line = strip_cr(&p[..nl]);
                match smtp::command_envelope(line) {
                    Ok(Some(smtp::Envelope::MailFrom(a))) => {
                        out(Found::Mail(Field::SmtpMailFrom, a))
                    }
                    Ok(Some(smtp::Envelope::RcptTo(a))) => out(Found::Mail(Field::SmtpRcptTo, a)),
                    Ok(None) => {}
                    Err(e) => out(Found::Error(e)),
                }
                let (v, args) = verb(line);
                let is = |name: &[u8]| v.eq_ignore_ascii_case(name);
                if is(b"DATA") {
                    // A message left open by BDAT chunks without LAST is cut.
                    if let Some(mut m) = message.take() {
                        m.cut(out);
                    }
                    *message = Some(Message::new(files));
                    *s = Smtp::Data;
                } else if is(b"BDAT") {
                    match bdat_size(args) {
                        Some((left, last)) => {
                            message.get_or_insert_with(|| Message::new(files));
                            *s = Smtp::Bdat { left, last };
                        }
                        None => out(Found::Error(E_BDAT)),
                    }
                } else if is(b"RSET") || is(b"STARTTLS") {
                    if let Some(mut m) = message.take() {
                        m.cut(out);
                    }
                    if is(b"STARTTLS") {
                        self.state = State::StartTls;
                    }
                }
                Some(nl + 1)
            }
            Smtp::Data => {
                let m = message.as_mut().expect("DATA reads a message");
                let (n, ended) = m.data(p, out)?;
                if ended {
                    message.take().expect("read above").end(out);
                    *s = Smtp::Command { line_start: true };
                }
                Some(n)
            }
            Smtp::Bdat { left, last } => {
                let k = left.min(p.len() as u64);
                let m = message.as_mut().expect("BDAT reads a message");
                m.chunk(&p[..k as usize], out);
                if k == left {
                    if last {
                        message.take().expect("read above").end(out);
                    }
                    *s = Smtp::Command { line_start: true };
                } else {
                    *s = Smtp::Bdat {
                        left: left - k,
                        last,
                    };
                }
                Some(k as usize)
            }
        }
    }

    /// The NUL-terminated string at `p[at..]` (at most 255 bytes): `Ok(Some(end))` with the
    /// NUL's index, `Ok(None)` to wait, `Err` when there is none within the limit.
    fn nul_string(p: &[u8], at: usize) -> Result<Option<usize>, ()> {
        let window = p.get(at..p.len().min(at + 256)).unwrap_or_default();
        match memchr::memchr(0, window) {
            Some(i) => Ok(Some(at + i)),
            None if p.len() >= at + 256 => Err(()),
            None => Ok(None),
        }
    }

    fn socks4(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Step {
        let fail = |this: &mut Self, out: &mut dyn FnMut(Found<'_>)| {
            out(Found::Error(E_SOCKS4));
            this.state = State::Done;
            Some(0)
        };
        if p.len() < 9 {
            return None;
        }
        let port = u16::from_be_bytes([p[2], p[3]]);
        let ip = Ipv4Addr::new(p[4], p[5], p[6], p[7]);
        let Ok(user_end) = Self::nul_string(p, 8) else {
            return fail(self, out);
        };
        let user_end = user_end?;
        let mut end = user_end + 1;
        // SOCKS4a: 0.0.0.x (x ≠ 0) says a domain follows the user id.
        if matches!(ip.octets(), [0, 0, 0, x] if x != 0) {
            let Ok(name_end) = Self::nul_string(p, end) else {
                return fail(self, out);
            };
            let name_end = name_end?;
            if name_end == end {
                return fail(self, out);
            }
            out(Found::Host(Field::ProxyTarget, &p[end..name_end]));
            end = name_end + 1;
        } else {
            out(Found::Addr(Field::ProxyTarget, IpAddr::V4(ip)));
        }
        self.tunnel(port);
        Some(end)
    }

    fn socks5(&mut self, p: &[u8], auth: bool, out: &mut dyn FnMut(Found<'_>)) -> Step {
        match p[0] {
            // RFC 1929: 01 ulen user plen password.
            1 if auth => {
                let ulen = *p.get(1)? as usize;
                let plen = *p.get(2 + ulen)? as usize;
                let end = 3 + ulen + plen;
                if p.len() < end {
                    return None;
                }
                self.state = State::Socks5 { auth: false };
                Some(end)
            }
            5 => {
                let h = p.get(..4)?;
                let (cmd, atyp) = (h[1], h[3]);
                if !matches!(cmd, 1..=3) || h[2] != 0 {
                    return self.socks5_bad(out);
                }
                let (addr_end, target) = match atyp {
                    1 => (8, None),
                    3 => {
                        let n = *p.get(4)? as usize;
                        if n == 0 {
                            return self.socks5_bad(out);
                        }
                        (5 + n, Some(5))
                    }
                    4 => (20, None),
                    _ => return self.socks5_bad(out),
                };
                let end = addr_end + 2;
                if p.len() < end {
                    return None;
                }
                let port = u16::from_be_bytes([p[addr_end], p[addr_end + 1]]);
                if cmd == 3 {
                    // UDP ASSOCIATE: the address is the client's own; no TCP payload follows.
                    self.state = State::Done;
                    return Some(end);
                }
                match (atyp, target) {
                    (_, Some(at)) => out(Found::Host(Field::ProxyTarget, &p[at..addr_end])),
                    (1, _) => {
                        let a: [u8; 4] = p[4..8].try_into().expect("four bytes");
                        out(Found::Addr(Field::ProxyTarget, IpAddr::V4(a.into())));
                    }
                    _ => {
                        let a: [u8; 16] = p[4..20].try_into().expect("sixteen bytes");
                        out(Found::Addr(
                            Field::ProxyTarget,
                            IpAddr::V6(Ipv6Addr::from(a)),
                        ));
                    }
                }
                self.tunnel(port);
                Some(end)
            }
            _ => self.socks5_bad(out),
        }
    }

    fn socks5_bad(&mut self, out: &mut dyn FnMut(Found<'_>)) -> Step {
        out(Found::Error(E_SOCKS5));
        self.state = State::Done;
        Some(0)
    }
}
