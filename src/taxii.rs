//! A TAXII 2.1 client (OASIS TAXII 2.1, §4–5): discovery, API roots, collections, objects with
//! pagination and `added_after`, posting an envelope and following its status. Blocking HTTP
//! (pulls are rare), `Accept: application/taxii+json;version=2.1`, basic or bearer auth,
//! retries with exponential back-off on transport errors, 429 and 5xx; other HTTP errors are
//! reported with the server's own error message (`title`, `description`). HTTPS through
//! rustls, with a custom CA bundle and a client certificate (PEM chain and PKCS#8, PKCS#1 or
//! SEC1 key) as AIS requires.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use serde_json::Value as Json;

use crate::error::{Error, Result};

/// The TAXII 2.1 media type, sent in `Accept` and `Content-Type`.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// How to authenticate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
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

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Credentials.
    pub auth: Auth,
    /// Attempts per request (1: no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    /// Connect and read timeout of one request.
    pub timeout: Duration,
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
            ca_bundle: None,
            client_cert: None,
        }
    }
}

/// Filters of a `GET …/objects/` request (TAXII 2.1 §3.4).
#[derive(Clone, Debug, Default)]
pub struct ObjectsQuery {
    /// Only objects added after this timestamp (the `X-TAXII-Date-Added-Last` of the previous
    /// pull, for an incremental one).
    pub added_after: Option<String>,
    /// `match[type]`: object types.
    pub types: Vec<String>,
    /// `match[id]`: object ids.
    pub ids: Vec<String>,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
    /// Page size asked for (`limit`); the server may send fewer.
    pub limit: Option<u32>,
}

/// What a paginated pull returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pull {
    /// Objects handed out.
    pub objects: u64,
    /// Pages fetched.
    pub pages: u64,
    /// The last `X-TAXII-Date-Added-Last` seen: the `added_after` of the next pull.
    pub date_added_last: Option<String>,
}

/// The whole body of `resp`; not `into_string`, whose 10 MB cap a page of a large `limit` or
/// a big feed file exceeds.
fn read_body(url: &str, resp: ureq::Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body)
        .map_err(|e| Error::feed(url, format!("reading the response: {e}")))?;
    Ok(body)
}

/// A TAXII 2.1 client.
pub struct Client {
    agent: ureq::Agent,
    opts: ClientOptions,
}

impl Client {
    /// A client with `opts`; fails when a CA bundle, certificate or key cannot be read.
    pub fn new(opts: ClientOptions) -> Result<Client> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.timeout)
            .timeout_read(opts.timeout)
            .tls_config(Arc::new(tls_config(&opts)?))
            .build();
        Ok(Client { agent, opts })
    }

    /// `GET url` with the TAXII headers; retried on transport errors, 429 and 5xx.
    fn get(&self, url: &str, query: &[(&str, String)]) -> Result<(Json, Option<String>)> {
        self.send(url, |agent| {
            let mut r = self.authorise(agent.get(url)).set("Accept", MEDIA_TYPE);
            for (k, v) in query {
                r = r.query(k, v);
            }
            r.call().map_err(Box::new)
        })
    }

    fn authorise(&self, r: ureq::Request) -> ureq::Request {
        match &self.opts.auth {
            Auth::None => r,
            Auth::Basic { user, password } => {
                use base64::Engine as _;
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                r.set("Authorization", &format!("Basic {token}"))
            }
            Auth::Bearer(t) => r.set("Authorization", &format!("Bearer {t}")),
        }
    }

    /// Runs a request with retries; returns the JSON body and `X-TAXII-Date-Added-Last`.
    fn send(
        &self,
        url: &str,
        call: impl Fn(&ureq::Agent) -> std::result::Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<(Json, Option<String>)> {
        let resp = self.retrying(url, call)?;
        let added = resp.header("X-TAXII-Date-Added-Last").map(str::to_string);
        let body = read_body(url, resp)?;
        let json = if body.trim_ascii().is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| Error::feed(url, format!("malformed JSON response: {e}")))?
        };
        Ok((json, added))
    }

    /// Calls `call` until it succeeds, retrying transport errors, 429 and 5xx with back-off;
    /// other HTTP errors end at once, with the server's message.
    fn retrying(
        &self,
        url: &str,
        call: impl Fn(&ureq::Agent) -> std::result::Result<ureq::Response, Box<ureq::Error>>,
    ) -> Result<ureq::Response> {
        let attempts = self.opts.attempts.max(1);
        let mut wait = self.opts.backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            match call(&self.agent).map_err(|e| *e) {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(code, resp)) => {
                    let body = resp.into_string().unwrap_or_default();
                    last = format!("HTTP {code}{}", server_message(&body));
                    if !(code == 429 || code >= 500) {
                        return Err(Error::feed(url, last));
                    }
                }
                Err(ureq::Error::Transport(t)) => last = t.to_string(),
            }
            if attempt < attempts {
                std::thread::sleep(wait);
                wait *= 2;
            }
        }
        Err(Error::feed(
            url,
            format!("{last} (after {attempts} attempts)"),
        ))
    }

    /// The raw body at `url` (any media type), with the client's credentials and retries: for
    /// feed files served over HTTP.
    pub fn get_bytes(&self, url: &str) -> Result<Vec<u8>> {
        let resp = self.retrying(url, |agent| {
            self.authorise(agent.get(url)).call().map_err(Box::new)
        })?;
        read_body(url, resp)
    }

    /// The discovery resource at `url` (`https://host/taxii2/`).
    pub fn discovery(&self, url: &str) -> Result<Json> {
        Ok(self.get(url, &[])?.0)
    }

    /// The collections of the API root at `api_root` (a URL ending in `/`).
    pub fn collections(&self, api_root: &str) -> Result<Vec<Json>> {
        let (doc, _) = self.get(&format!("{api_root}collections/"), &[])?;
        Ok(doc
            .get("collections")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Every object of a collection matching `query`, page by page (`limit`, then `next` while
    /// the server says `more`), handed to `each` as they arrive.
    pub fn objects(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
        mut each: impl FnMut(Json),
    ) -> Result<Pull> {
        self.pages(api_root, collection, query, |objects, _| {
            objects.into_iter().for_each(&mut each);
            Ok(())
        })
    }

    /// Like [`Client::objects`], a page at a time: `page` gets the page's objects and its
    /// `X-TAXII-Date-Added-Last` (where a later pull may resume), and may stop the pull with
    /// an error. Only one page is held in memory.
    pub fn pages(
        &self,
        api_root: &str,
        collection: &str,
        query: &ObjectsQuery,
        mut page: impl FnMut(Vec<Json>, Option<&str>) -> Result<()>,
    ) -> Result<Pull> {
        let url = format!("{api_root}collections/{collection}/objects/");
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(l) = query.limit {
            params.push(("limit", l.to_string()));
        }
        for (key, values) in [
            ("match[type]", &query.types),
            ("match[id]", &query.ids),
            ("match[spec_version]", &query.spec_versions),
        ] {
            if !values.is_empty() {
                params.push((key, values.join(",")));
            }
        }
        let mut pull = Pull {
            date_added_last: query.added_after.clone(),
            ..Pull::default()
        };
        // TAXII 2.1 §3.4: while `more`, follow `next` (a string or a number) with the same
        // query; a server that gives no `next` is paged by `added_after` = the page's
        // `X-TAXII-Date-Added-Last`.
        let mut added_after = query.added_after.clone();
        let mut next: Option<String> = None;
        loop {
            let mut p = params.clone();
            if let Some(a) = &added_after {
                p.push(("added_after", a.clone()));
            }
            if let Some(n) = &next {
                p.push(("next", n.clone()));
            }
            let (mut doc, added) = self.get(&url, &p)?;
            pull.pages += 1;
            let objects = match doc.get_mut("objects").map(Json::take) {
                Some(Json::Array(objects)) => objects,
                _ => Vec::new(),
            };
            pull.objects += objects.len() as u64;
            page(objects, added.as_deref())?;
            if added.is_some() {
                pull.date_added_last.clone_from(&added);
            }
            if !doc.get("more").and_then(Json::as_bool).unwrap_or(false) {
                return Ok(pull);
            }
            next = match doc.get("next") {
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Json::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            if next.is_none() {
                match added {
                    Some(last) if added_after.as_ref() != Some(&last) => added_after = Some(last),
                    _ => {
                        return Err(Error::feed(
                            &url,
                            "the server says there is more but gives neither `next` nor a \
                             later X-TAXII-Date-Added-Last to continue from",
                        ));
                    }
                }
            }
        }
    }

    /// Posts `objects` as an envelope to a collection; returns the status resource.
    pub fn post_objects(&self, api_root: &str, collection: &str, objects: &[Json]) -> Result<Json> {
        let url = format!("{api_root}collections/{collection}/objects/");
        let envelope = serde_json::json!({ "objects": objects });
        Ok(self
            .send(&url, |agent| {
                self.authorise(agent.post(&url))
                    .set("Accept", MEDIA_TYPE)
                    .set("Content-Type", MEDIA_TYPE)
                    .send_json(&envelope)
                    .map_err(Box::new)
            })?
            .0)
    }

    /// The status resource `id` of an API root.
    pub fn status(&self, api_root: &str, id: &str) -> Result<Json> {
        Ok(self.get(&format!("{api_root}status/{id}/"), &[])?.0)
    }

    /// Posts `objects` and polls the status until it is `complete` or `timeout` passes;
    /// returns the last status.
    pub fn post_and_wait(
        &self,
        api_root: &str,
        collection: &str,
        objects: &[Json],
        timeout: Duration,
    ) -> Result<Json> {
        let mut status = self.post_objects(api_root, collection, objects)?;
        let deadline = std::time::Instant::now() + timeout;
        while status.get("status").and_then(Json::as_str) == Some("pending") {
            if std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            let Some(id) = status.get("id").and_then(Json::as_str) else {
                break;
            };
            status = self.status(api_root, id)?;
        }
        Ok(status)
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

/// `: title — description` of a TAXII error message body, or the body's start.
fn server_message(body: &str) -> String {
    match serde_json::from_str::<Json>(body) {
        Ok(j) => {
            let title = j.get("title").and_then(Json::as_str).unwrap_or("");
            let desc = j.get("description").and_then(Json::as_str).unwrap_or("");
            match (title.is_empty(), desc.is_empty()) {
                (true, true) => String::new(),
                (false, true) => format!(": {title}"),
                (true, false) => format!(": {desc}"),
                (false, false) => format!(": {title} — {desc}"),
            }
        }
        Err(_) if body.trim().is_empty() => String::new(),
        Err(_) => format!(": {}", body.chars().take(200).collect::<String>()),
    }
}
