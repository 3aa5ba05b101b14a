//! The HTTP layer of every pull — TAXII collections, MISP feeds, `url` feeds — and of posting
//! to TAXII, with the limits a broken or hostile server cannot get past:
//!
//! - **a byte cap per response** (`max_response_bytes`, 256 MiB by default): a body longer than
//!   that (an announced `Content-Length` or what arrives) ends the request with an error that
//!   names the limit, so memory stays bounded whatever the server sends;
//! - **a deadline per request** (`request_timeout`, 10 minutes by default) covering connect,
//!   headers and the whole body, so a server that trickles a byte at a time, or sends nothing,
//!   cannot hold a pull (a request that runs out of it is not retried);
//! - **redirects followed here, not by ureq**: at most [`MAX_REDIRECTS`] hops, `http`/`https`
//!   only, never from `https` down to `http`, and only to the host asked for or one listed in
//!   `allow_redirect_hosts`; credentials go to the host asked for only. Anything else is refused
//!   with an error naming the target; no `Location` value can make the client panic;
//! - **cancellation**: a [`Cancel`] flag (raised on SIGINT/SIGTERM by `trawl feeds pull`) is
//!   checked before each request, between the reads of a body and during back-off, and a request
//!   that fails once it is raised ends as cancelled. A read that waits on a silent server is
//!   ended by [`interrupt_connections`], which the same signal handler calls: ureq 2 has no other
//!   way to interrupt a blocked read than its socket, and running requests on a second thread
//!   (to stop waiting for them) would take glibc's malloc off its single-threaded fast path for
//!   the rest of the process, 5 to 10 % more CPU over a pull and its compile (measured: see
//!   BENCHMARKS.md);
//! - retries with exponential back-off on transport errors, 429 and 5xx; other
//!   HTTP errors end at once with the server's own message (`title`, `description`).
//!
//! What a server says reaches a terminal or the state file only through [`clean`]: credentials
//! in URLs (`https://user:pass@…`) are masked (`redact`) and control characters, ANSI escape
//! sequences among them, are shown as visible escapes (`escape`).
//!
//! HTTPS goes through rustls, with a custom CA bundle and a client certificate (PEM chain and
//! PKCS#8, PKCS#1 or SEC1 key) as AIS requires.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use regex::Regex;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use url::Url;

use crate::indicators::error::{Error, Result};

/// Default of [`ClientOptions::max_response_bytes`]: room for a TAXII page of a large `limit`.
pub(crate) const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 << 20;
/// Default of [`ClientOptions::request_timeout`].
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);
/// Redirects followed per request.
pub(crate) const MAX_REDIRECTS: usize = 5;
/// How often a back-off looks at the cancel flag.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// The most memory reserved for a body before it arrives.
const RESERVE_AT_MOST: u64 = 64 << 20;
/// The part of an error response's body read for its message.
const ERROR_BODY_BYTES: u64 = 64 << 10;

/// A flag that stops the requests of the clients holding it (see [`from_flag`](Cancel::from_flag)
/// for a signal handler's flag): checked before each request and between reads, so a read that
/// waits on a silent server ends only at its deadline, or at once with [`interrupt_connections`].
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not raised.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// A cancel flag that is raised when `flag` is set.
    pub fn from_flag(flag: Arc<AtomicBool>) -> Cancel {
        Cancel(flag)
    }

    /// Raises the flag.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is raised.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How to authenticate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials (or those in the URL's userinfo, sent as basic authentication).
    #[default]
    None,
    /// HTTP basic authentication.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
}

impl Auth {
    /// The `Authorization` header value, if any.
    fn header(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Basic { user, password } => {
                use base64::Engine as _;
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                Some(format!("Basic {token}"))
            }
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
        }
    }
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Credentials.
    pub auth: Auth,
    /// Attempts per request (1: no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    /// Connect timeout (then retried).
    pub timeout: Duration,
    /// The longest one request may take, from connect to the body's last byte (not retried
    /// when it runs out).
    pub request_timeout: Duration,
    /// The largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Hosts other than the one asked for that a redirect may lead to (they get no
    /// credentials).
    pub allow_redirect_hosts: Vec<String>,
    /// Stops every request of the client when raised.
    pub cancel: Cancel,
    /// PEM file of the CA certificates to trust instead of the built-in web roots.
    pub ca_bundle: Option<PathBuf>,
    /// PEM files of the client certificate chain and its private key, for servers that ask
    /// for one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            auth: Auth::None,
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(60),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            allow_redirect_hosts: Vec::new(),
            cancel: Cancel::new(),
            ca_bundle: None,
            client_cert: None,
        }
    }
}

/// A response: its status, headers and (capped) body.
#[derive(Debug)]
pub(crate) struct Response {
    /// The HTTP status (2xx: redirects are followed, errors are [`Error`]s).
    pub status: u16,
    headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The blocking HTTP client under [`crate::feeds::taxii::Client`].
pub(crate) struct Http {
    agent: ureq::Agent,
    /// The configured `Authorization` header value, sent to the host asked for only.
    auth: Option<String>,
    opts: ClientOptions,
}

/// Why one attempt failed.
enum Failure {
    /// Worth another attempt (a transport error).
    Retry(String),
    /// Not: over the byte cap, past the deadline, cancelled.
    Fatal(String),
}

impl Http {
    /// A client with `opts`; fails when a CA bundle, certificate or key cannot be read.
    pub(crate) fn new(opts: ClientOptions) -> Result<Http> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.timeout)
            // Applied by ureq to every read of the headers and the body.
            .timeout(opts.request_timeout)
            // Followed in `request`, by this module's rules.
            .redirects(0)
            .tls_config(Arc::new(tls_config(&opts)?))
            .build();
        Ok(Http {
            agent,
            auth: opts.auth.header(),
            opts,
        })
    }

    /// `GET url` with `headers`; follows redirects, retries, and returns a 2xx response.
    pub(crate) fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response> {
        self.request("GET", url, headers, None)
    }

    /// `POST url` with `headers` and `body`; retried like [`Http::get`], but a redirect is an
    /// error (the body would have to be sent again elsewhere).
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response> {
        self.request("POST", url, headers, Some(&body))
    }

    fn request(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let origin = parse_url(url)?;
        // Credentials in the URL are sent as ureq would (basic auth), but by the rules here: to
        // the host asked for only, redirects included (a Location rarely repeats them).
        let auth = self.auth.clone().or_else(|| userinfo_auth(&origin));
        let mut at = origin.clone();
        for _ in 0..=MAX_REDIRECTS {
            let auth = auth
                .as_deref()
                .filter(|_| at.host_str() == origin.host_str());
            let resp = self.retrying(method, &at, auth, headers, body)?;
            if !(300..400).contains(&resp.status) {
                return Ok(resp);
            }
            let Some(location) = resp.header("Location") else {
                return Err(error(
                    &at,
                    format!("HTTP {} without a Location to follow", resp.status),
                ));
            };
            if method != "GET" {
                return Err(error(
                    &at,
                    format!(
                        "HTTP {}: the server redirects the {method} to {location}; configure \
                         that URL instead",
                        resp.status
                    ),
                ));
            }
            at = redirect_target(&origin, &at, location, &self.opts.allow_redirect_hosts)
                .map_err(|why| error(&at, why))?;
        }
        Err(error(
            &origin,
            format!("more than {MAX_REDIRECTS} redirects (the last to {at})"),
        ))
    }

    /// One request with retries: transport errors, 429 and 5xx are retried with back-off; other
    /// HTTP errors end at once, with the server's message.
    fn retrying(
        &self,
        method: &'static str,
        url: &Url,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let attempts = self.opts.attempts.max(1);
        let mut wait = self.opts.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match self.attempt(method, url, auth, headers, body) {
                Ok(resp) if resp.status == 429 || resp.status >= 500 => {
                    last = format!("HTTP {}{}", resp.status, server_message(&resp.body));
                }
                Ok(resp) if resp.status >= 400 => {
                    let why = format!("HTTP {}{}", resp.status, server_message(&resp.body));
                    return Err(error(url, why));
                }
                Ok(resp) => return Ok(resp),
                Err(Failure::Fatal(why)) => return Err(error(url, why)),
                Err(Failure::Retry(why)) => last = why,
            }
            if attempt < attempts {
                let until = Instant::now() + wait;
                while let Some(left) = until.checked_duration_since(Instant::now()) {
                    if self.opts.cancel.is_cancelled() {
                        return Err(error(url, cancelled()));
                    }
                    std::thread::sleep(left.min(POLL));
                }
                wait *= 2;
            }
        }
        Err(error(url, format!("{last} (after {attempts} attempts)")))
    }

    /// One attempt, on the calling thread (see the module's doc): the deadline bounds it, the
    /// cancel flag is checked between reads, and [`interrupt_connections`] ends a read that
    /// waits on a silent server.
    fn attempt(
        &self,
        method: &'static str,
        url: &Url,
        auth: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> std::result::Result<Response, Failure> {
        if self.opts.cancel.is_cancelled() {
            return Err(Failure::Fatal(cancelled()));
        }
        let mut req = self.agent.request_url(method, url);
        for (name, value) in headers {
            req = req.set(name, value);
        }
        if let Some(auth) = auth {
            req = req.set("Authorization", auth);
        }
        let job = Job {
            cap: self.opts.max_response_bytes,
            deadline: self.opts.request_timeout,
            started: Instant::now(),
            cancel: &self.opts.cancel,
        };
        job.run(req, body)
    }
}

/// A body reader that fails once the cancel flag is raised, so that `read_to_end` (which
/// reads straight into the body) ends within a read.
struct Watched<'a, R> {
    inner: R,
    cancel: &'a Cancel,
}

impl<R: Read> Read for Watched<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

/// One attempt's limits.
struct Job<'a> {
    cap: u64,
    deadline: Duration,
    started: Instant,
    cancel: &'a Cancel,
}

impl Job<'_> {
    fn run(
        &self,
        req: ureq::Request,
        body: Option<&[u8]>,
    ) -> std::result::Result<Response, Failure> {
        let result = match body {
            Some(body) => req.send_bytes(body),
            None => req.call(),
        };
        let resp = match result {
            Ok(resp) | Err(ureq::Error::Status(_, resp)) => resp,
            Err(ureq::Error::Transport(t)) => return Err(self.transport(&t)),
        };
        let status = resp.status();
        let headers = resp
            .headers_names()
            .into_iter()
            .filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string())))
            .collect();
        let body = match status {
            200..=299 => self.read_body(resp)?,
            300..=399 => Vec::new(),
            // Only for the server's message: a cut or failed read leaves what came.
            _ => {
                let mut body = Vec::new();
                let _ = resp
                    .into_reader()
                    .take(ERROR_BODY_BYTES)
                    .read_to_end(&mut body);
                body
            }
        };
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    /// The body, up to the cap; stops at once when the flag is raised.
    fn read_body(&self, resp: ureq::Response) -> std::result::Result<Vec<u8>, Failure> {
        let announced = resp
            .header("Content-Length")
            .and_then(|l| l.trim().parse::<u64>().ok());
        if let Some(len) = announced.filter(|&len| len > self.cap) {
            return Err(Failure::Fatal(over_cap(self.cap, &format!("{len} bytes"))));
        }
        // Reserved up front up to a point: a server may announce more than it sends.
        let mut body = Vec::with_capacity(announced.unwrap_or(0).min(RESERVE_AT_MOST) as usize);
        let watched = Watched {
            inner: resp.into_reader(),
            cancel: self.cancel,
        };
        // One byte past the cap tells a body that is too long from one that fits exactly.
        match watched
            .take(self.cap.saturating_add(1))
            .read_to_end(&mut body)
        {
            Ok(_) if body.len() as u64 > self.cap => {
                Err(Failure::Fatal(over_cap(self.cap, "more")))
            }
            Ok(_) => Ok(body),
            Err(e) => Err(self.io(&e)),
        }
    }

    fn past_deadline(&self) -> bool {
        self.started.elapsed() >= self.deadline
    }

    fn transport(&self, t: &ureq::Transport) -> Failure {
        if self.cancel.is_cancelled() {
            return Failure::Fatal(cancelled());
        }
        if self.past_deadline() {
            return Failure::Fatal(past_deadline(self.deadline));
        }
        // Not `t.to_string()`: it starts with the URL, credentials and all.
        let mut why = t.kind().to_string();
        if let Some(m) = t.message() {
            why = format!("{why}: {m}");
        }
        let mut source = std::error::Error::source(t);
        while let Some(s) = source {
            why = format!("{why}: {s}");
            source = s.source();
        }
        Failure::Retry(why)
    }

    fn io(&self, e: &std::io::Error) -> Failure {
        if self.cancel.is_cancelled() {
            return Failure::Fatal(cancelled());
        }
        if self.past_deadline() {
            return Failure::Fatal(past_deadline(self.deadline));
        }
        Failure::Retry(format!("reading the response: {e}"))
    }
}

/// Shuts down every TCP connection of the process, so that a read waiting on a silent server
/// (for its headers or its body) returns at once: for a SIGINT/SIGTERM handler, registered
/// after the one raising the [`Cancel`] flag, so that the requests end as cancelled. Only
/// async-signal-safe system calls (`getrlimit`, `getsockopt`, `shutdown`); local (Unix)
/// sockets such as a journal on stderr are left alone.
pub(crate) fn interrupt_connections() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit(2) with a valid out pointer.
    let fds = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur.min(1 << 16) as libc::c_int
    } else {
        1024
    };
    let option = |fd: libc::c_int, name: libc::c_int| {
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: getsockopt(2) with an out buffer of `len` bytes; any descriptor number is
        // fine (EBADF, ENOTSOCK for the others).
        let ok = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                name,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        } == 0;
        ok.then_some(value)
    };
    for fd in 0..fds {
        let inet = matches!(
            option(fd, libc::SO_DOMAIN),
            Some(libc::AF_INET | libc::AF_INET6)
        );
        if inet && option(fd, libc::SO_TYPE) == Some(libc::SOCK_STREAM) {
            // SAFETY: shutdown(2) on a TCP socket of this process; its owner sees an error or
            // the end of the stream at its next read.
            unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
        }
    }
}

/// Basic authentication from `url`'s userinfo, as ureq would send it.
fn userinfo_auth(url: &Url) -> Option<String> {
    let (user, password) = (url.username(), url.password().unwrap_or(""));
    (!user.is_empty() || !password.is_empty()).then(|| {
        Auth::Basic {
            user: user.into(),
            password: password.into(),
        }
        .header()
        .unwrap_or_default()
    })
}

fn cancelled() -> String {
    "interrupted (SIGINT/SIGTERM)".into()
}

fn past_deadline(limit: Duration) -> String {
    format!(
        "the response took longer than request_timeout = {} s",
        limit.as_secs_f64()
    )
}

fn over_cap(cap: u64, got: &str) -> String {
    format!(
        "the response is larger than max_response_bytes = {cap} ({got}); raise max_response_bytes \
         for this feed if the server is right"
    )
}

/// A feed error about `url`, with the URL's credentials masked and the text made safe to
/// print.
fn error(url: &Url, what: impl AsRef<str>) -> Error {
    Error::feed(redact(url.as_str()), clean(what.as_ref()))
}

/// `url` parsed, when it is an `http` or `https` URL with a host.
pub(crate) fn parse_url(url: &str) -> Result<Url> {
    let parsed =
        Url::parse(url).map_err(|e| Error::invalid(format!("{}: not a URL ({e})", clean(url))))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::invalid(format!(
            "{}: only http:// and https:// URLs with a host are fetched",
            clean(url)
        )));
    }
    Ok(parsed)
}

/// Where a redirect from `from` to `location` goes, if it may: `https`, or `http` while the
/// requests so far were `http`; the host of `origin` (the URL asked for) or one of `allowed`.
/// The error names the target.
fn redirect_target(
    origin: &Url,
    from: &Url,
    location: &str,
    allowed: &[String],
) -> std::result::Result<Url, String> {
    let to = from
        .join(location.trim())
        .map_err(|e| format!("a redirect to {location:?}, which is not a URL ({e})"))?;
    let refused = |why: &str| format!("refused a redirect to {to}: {why}");
    match (from.scheme(), to.scheme()) {
        (_, "https") | ("http", "http") => {}
        ("https", "http") => {
            return Err(refused(
                "from https down to http (credentials and data would go in clear)",
            ));
        }
        _ => return Err(refused("only http and https are followed")),
    }
    let Some(host) = to.host_str() else {
        return Err(refused("no host"));
    };
    let same = origin.host_str() == Some(host);
    if !same && !allowed.iter().any(|a| a.eq_ignore_ascii_case(host)) {
        return Err(refused(&format!(
            "another host than {}; list {host:?} in the feed's allow_redirect_hosts to follow it",
            origin.host_str().unwrap_or_default()
        )));
    }
    Ok(to)
}

/// `text` with the credentials of every URL in it masked: `https://user:pass@host/` becomes
/// `https://***@host/`.
pub(crate) fn redact(text: &str) -> String {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        // The scheme, then the authority up to its last `@` (a password may hold one).
        Regex::new(r"([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s]*@").expect("a valid regex")
    });
    USERINFO.replace_all(text, "${1}***@").into_owned()
}

/// `text` with control characters (ANSI escape sequences start with one) and the Unicode
/// marks that reorder text shown as visible escapes (`\u{1b}`), so that what a server sends
/// cannot rewrite a terminal or forge lines of a log.
pub(crate) fn escape(text: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `redact`, then `escape`: for any text that may hold a URL or a server's words, before
/// it is printed or stored.
pub(crate) fn clean(text: &str) -> String {
    escape(&redact(text))
}

/// `: title — description` of a (TAXII-style) JSON error body, or the body's start.
fn server_message(body: &[u8]) -> String {
    let body = String::from_utf8_lossy(body);
    match serde_json::from_str::<serde_json::Value>(&body) {
        Ok(j) => {
            let field = |k: &str| j.get(k).and_then(serde_json::Value::as_str).unwrap_or("");
            let (title, desc) = (field("title"), field("description"));
            match (title.is_empty(), desc.is_empty()) {
                (true, true) => String::new(),
                (false, true) => format!(": {title}"),
                (true, false) => format!(": {desc}"),
                (false, false) => format!(": {title} — {desc}"),
            }
        }
        Err(_) if body.trim().is_empty() => String::new(),
        Err(_) => format!(": {}", body.trim().chars().take(200).collect::<String>()),
    }
}

/// The rustls configuration: trusted roots (the CA bundle, else the built-in web roots) and
/// the client certificate, if any.
fn tls_config(opts: &ClientOptions) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match &opts.ca_bundle {
        Some(path) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .and_then(|i| i.collect())
                .map_err(|e| Error::invalid(format!("CA bundle {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(Error::invalid(format!(
                    "CA bundle {}: no certificate",
                    path.display()
                )));
            }
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| Error::invalid(format!("CA bundle {}: {e}", path.display())))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::invalid(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    Ok(match &opts.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|i| i.collect())
                .map_err(|e| {
                    Error::invalid(format!("client certificate {}: {e}", cert.display()))
                })?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| Error::invalid(format!("client key {}: {e}", key.display())))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::invalid(format!("client certificate: {e}")))?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn redirects_stay_on_http_s_and_on_the_host_asked_for() {
        let https = url("https://taxii.example/api1/collections/");
        let http = url("http://feeds.example/list.txt");
        let none: &[String] = &[];
        let ok = |origin: &Url, loc: &str, allowed: &[String]| {
            redirect_target(origin, origin, loc, allowed).map(|u| u.to_string())
        };
        assert_eq!(
            ok(&https, "/api2/", none).unwrap(),
            "https://taxii.example/api2/"
        );
        assert_eq!(
            ok(&http, "https://feeds.example/list.txt", none).unwrap(),
            "https://feeds.example/list.txt",
            "an upgrade to https is fine"
        );
        assert_eq!(
            ok(&http, "other.txt", none).unwrap(),
            "http://feeds.example/other.txt"
        );
        for (origin, loc, why) in [
            (&https, "file:///etc/passwd", "only http and https"),
            (&http, "file:///etc/passwd", "only http and https"),
            (&https, "ftp://taxii.example/x", "only http and https"),
            (&https, "data:text/plain,hi", "only http and https"),
            (&https, "javascript:alert(1)", "only http and https"),
            (&https, "http://taxii.example/api1/", "down to http"),
            (&https, "https://evil.example/api1/", "allow_redirect_hosts"),
            (&https, "//evil.example/api1/", "allow_redirect_hosts"),
            (
                &https,
                "https://user:pw@taxii.example.evil.example/",
                "another host",
            ),
            (&https, "http://[::1", "not a URL"),
        ] {
            let err = ok(origin, loc, none).unwrap_err();
            assert!(err.contains(why), "{loc}: {err}");
        }
        // A listed host is followed; any case.
        let cdn = ["CDN.example".to_string()];
        assert_eq!(
            ok(&https, "https://cdn.example/x", &cdn).unwrap(),
            "https://cdn.example/x"
        );
        // After an upgrade to https, http is a downgrade.
        let upgraded = url("https://feeds.example/list.txt");
        let err = redirect_target(&http, &upgraded, "http://feeds.example/", none).unwrap_err();
        assert!(err.contains("down to http"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn no_location_panics(loc in ".{0,64}", bytes in proptest::collection::vec(0u8..=255, 0..32)) {
            let origin = url("https://taxii.example/a/b/");
            let _ = redirect_target(&origin, &origin, &loc, &[]);
            let _ = redirect_target(&origin, &origin, &String::from_utf8_lossy(&bytes), &[]);
        }
    }

    #[test]
    fn credentials_in_urls_are_masked() {
        assert_eq!(
            redact("https://user:pass@taxii.example/api1/: HTTP 401"),
            "https://***@taxii.example/api1/: HTTP 401"
        );
        assert_eq!(
            redact("from http://a:b@c@h.example:8080/x?u=v@w and https://ok.example/p@q"),
            "from http://***@h.example:8080/x?u=v@w and https://ok.example/p@q"
        );
        assert_eq!(redact("no url here, a@b"), "no url here, a@b");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape("\u{1b}[31mred\u{1b}[0m\nnext\tline\u{7f}\u{9b}"),
            "\\u{1b}[31mred\\u{1b}[0m\\u{a}next\\u{9}line\\u{7f}\\u{9b}"
        );
        assert_eq!(escape("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape("plain — ünïcode"), "plain — ünïcode");
        assert_eq!(
            clean(&clean("http://u:p@h/\u{1b}")),
            clean("http://u:p@h/\u{1b}")
        );
    }

    #[test]
    fn only_http_urls_with_a_host_are_fetched() {
        assert!(parse_url("https://taxii.example/").is_ok());
        for bad in ["file:///etc/passwd", "ftp://h/", "not a url", "http://"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
