//! Keeping a set current: feeds listed in a TOML file are pulled into a local store, and the
//! set is recompiled from the store and renamed over the old one when something changed; a
//! running `trawl sniff` picks the new file up through its reload path.
//!
//! ```toml
//! [set]
//! output = "intel.tset"           # the set file kept current
//! store = "feeds.d"               # one directory per feed, kept between pulls
//! exclude = ["rfc1918.json"]      # warninglists
//! min_score = 50                  # optional; also tlp_max = "amber"
//!
//! [[feed]]
//! name = "ais"
//! kind = "taxii"                  # taxii | misp | file | url
//! api_root = "https://taxii.example/api1/"
//! collection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
//! auth = { user = "u", password = "p" }   # or { token = "…" }
//! client_cert = "cert.pem"        # with client_key; ca_bundle = "ca.pem"
//! types = ["indicator"]           # match[type]
//! added_after = "2026-01-01T00:00:00Z"    # where the first pull starts
//! score = 50                      # defaults for items that carry none; also tlp = "green"
//! min_score = 70                  # this feed's own filters, on top of [set]'s; also tlp_max
//!
//! # What a server may cost this feed (any kind fetched over HTTP); the defaults:
//! max_response_bytes = 268435456  # 256 MiB per response; more is an error naming this key
//! request_timeout = 600           # seconds for one request: connect, headers, whole body
//! allow_redirect_hosts = []       # hosts besides api_root's/url's own a redirect may go to
//! # TAXII only, per pull:
//! max_pages = 1000000
//! max_pull_time = 43200           # seconds (12 h), checked before each page
//! max_empty_pages = 100           # pages in a row without an object while `more` is true
//! ```
//!
//! Per kind: `taxii` pulls objects added after the last pull's `X-TAXII-Date-Added-Last` and
//! merges them into the feed's stored bundle (newest `modified` per id; a revoked id stays
//! revoked); `misp` reads a MISP feed's `manifest.json` (a `url` or a local `path`) and
//! fetches only the events whose timestamp changed; `url` downloads a list; `file` reads a
//! local feed in place. Every store write is atomic (temp file, fsync, rename), so a crash
//! leaves the previous state; a feed that fails keeps its previous data and its error is
//! reported, and the set is still rebuilt from what the store holds.
//!
//! Every request goes through [`crate::http`]: a byte cap per response, a deadline per request,
//! redirects only to https (or http from an http feed) on the feed's own host or one listed in
//! `allow_redirect_hosts`, credentials only to the feed's own host. A TAXII pull ends with an
//! error as soon as the server loops (a page holding the same objects as an earlier one, an
//! `X-TAXII-Date-Added-Last` to page by that does not move forward) or a bound above is reached;
//! what came before is kept and the next pull resumes after it. [`pull_cancellable`] stops
//! within moments when its [`Cancel`] flag is raised (`trawl feeds pull` raises it on
//! SIGINT/SIGTERM), even while a request waits on a silent server: the feed being pulled ends
//! like a part-way failure, the feeds after it are not pulled, and the set is not rebuilt. Errors
//! are stored and shown with URL credentials masked and control characters escaped
//! ([`crate::http::clean`]).

pub mod bundle;
pub mod config;
pub mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use bundle::StixBundle;
pub use config::{Config, FeedConfig, FeedKind};
use store::FeedState;

use crate::compile::exclude::Exclusions;
use crate::compile::report::CompileReport;
use crate::compile::{
    CompileOptions, FeedFormat, FeedSpec, SetBuilder, SourceLimits, ingest_feeds,
};
use crate::error::{Error, Result};
use crate::http::Cancel;
use crate::ingest::FeedOptions;
use crate::taxii::{Client, ClientOptions, ObjectsQuery};

/// What pulling one feed did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeedPull {
    /// Feed name.
    pub name: String,
    /// Objects, events or bytes newly fetched.
    pub fetched: u64,
    /// TAXII objects skipped because they are not objects with a string `id` (a server's
    /// error; nothing can version them).
    pub skipped: u64,
    /// Whether the feed's stored data changed. A pull that failed part-way may still have
    /// changed it: what came before the failure is kept.
    pub changed: bool,
    /// The error, when the pull failed (the stored data is kept).
    pub error: Option<String>,
}

/// What [`pull`] did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Per feed, in configuration order.
    pub feeds: Vec<FeedPull>,
    /// The compile report, when the set was rebuilt.
    pub compiled: Option<CompileReport>,
    /// Whether the pull was cancelled: the feed being pulled failed part-way (what it fetched
    /// is kept), the feeds after it were not pulled and the set was not rebuilt (the next
    /// pull rebuilds it if the store changed).
    pub interrupted: bool,
}

/// Pulls every feed of `config` into the store; when any changed, or the set is older than
/// what it is built from (see [`set_is_stale`]), or `force`, recompiles the set and renames it
/// into place.
pub fn pull(config: &Config, force: bool) -> Result<PullReport> {
    pull_cancellable(config, force, &Cancel::new())
}

/// [`pull`], stopped within moments when `cancel` is raised (see [`PullReport::interrupted`]).
pub fn pull_cancellable(config: &Config, force: bool, cancel: &Cancel) -> Result<PullReport> {
    std::fs::create_dir_all(&config.set.store).map_err(|e| Error::io(&config.set.store, e))?;
    let _lock = store::StoreLock::acquire(&config.set.store)?;
    let mut report = PullReport::default();
    for feed in &config.feeds {
        if cancel.is_cancelled() {
            report.interrupted = true;
            break;
        }
        let dir = config.set.store.join(&feed.name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut state = FeedState::load(&dir);
        let mut p = FeedPull {
            name: feed.name.clone(),
            ..FeedPull::default()
        };
        let result = match feed.kind {
            FeedKind::Taxii => pull_taxii(feed, &dir, &mut state, &mut p, cancel),
            FeedKind::Misp => pull_misp(feed, &dir, &mut state, &mut p, cancel),
            FeedKind::Url => pull_url(feed, &dir, &mut state, &mut p, cancel),
            FeedKind::File => Ok(()),
        };
        state.last_pull = Some(crate::indicator::unix_now());
        match result {
            Ok(()) => {
                state.last_error = None;
                state.pulls += 1;
            }
            Err(e) => {
                // Masked and escaped again: an error from anywhere may quote a URL or a server.
                p.error = Some(crate::http::clean(&e.to_string()));
                state.last_error.clone_from(&p.error);
            }
        }
        state.save(&dir)?;
        report.feeds.push(p);
    }
    report.interrupted |= cancel.is_cancelled();
    let changed = report.feeds.iter().any(|f| f.changed);
    if report.interrupted {
        // A compile takes long; the store, newer than the set, makes the next pull rebuild it.
        return Ok(report);
    }
    if changed || force || set_is_stale(config) {
        report.compiled = Some(compile(config)?);
    }
    Ok(report)
}

/// Whether the set file is missing or older than a file it is built from (a stored feed, a
/// `file` feed, a warninglist): so that a crash between a store write and the set's rename,
/// or an edited local feed or warninglist, still leads to a rebuild.
pub fn set_is_stale(config: &Config) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(built) = modified(&config.set.output) else {
        return true;
    };
    let specs = inputs(config);
    specs
        .iter()
        .map(|s| s.path.as_path())
        .chain(config.set.exclude.iter().map(PathBuf::as_path))
        .any(|p| modified(p).is_some_and(|t| t > built))
}

/// Recompiles the set from the store (and the `file` feeds) and renames it into place.
pub fn compile(config: &Config) -> Result<CompileReport> {
    let mut ex = Exclusions::new();
    for list in &config.set.exclude {
        ex.load(list)?;
    }
    let opts = CompileOptions {
        min_score: config.set.min_score,
        tlp_max: config.set.tlp_max,
        source_limits: config
            .feeds
            .iter()
            .filter(|f| f.min_score.is_some() || f.tlp_max.is_some())
            .map(|f| {
                let limits = SourceLimits {
                    min_score: f.min_score,
                    tlp_max: f.tlp_max,
                };
                (f.name.clone(), limits)
            })
            .collect(),
        ..CompileOptions::default()
    };
    let mut b = SetBuilder::new(opts, ex);
    ingest_feeds(&inputs(config), &mut b)?;
    b.write(&config.set.output)
}

/// The files the set is compiled from, with each feed's options: what the store holds for
/// each feed, and the `file` feeds in place.
fn inputs(config: &Config) -> Vec<FeedSpec> {
    let mut specs = Vec::new();
    for feed in &config.feeds {
        let dir = config.set.store.join(&feed.name);
        let options = FeedOptions {
            source: feed.name.clone(),
            score: feed.score,
            tlp: feed.tlp,
            exact: feed.exact,
            all_attributes: feed.misp_all,
        };
        let spec = |path: PathBuf, format: Option<FeedFormat>| FeedSpec {
            path,
            format,
            options: options.clone(),
        };
        match feed.kind {
            FeedKind::File => specs.push(spec(feed.path.clone().unwrap_or_default(), None)),
            FeedKind::Url => {
                let f = dir.join("feed.txt");
                if f.exists() {
                    specs.push(spec(f, None));
                }
            }
            FeedKind::Taxii => {
                let f = dir.join(bundle::BUNDLE);
                if f.exists() {
                    specs.push(spec(f, Some(FeedFormat::Stix)));
                }
            }
            FeedKind::Misp => {
                for f in store::event_files(&dir) {
                    specs.push(spec(f, Some(FeedFormat::Misp)));
                }
            }
        }
    }
    specs
}

fn client(feed: &FeedConfig, cancel: &Cancel) -> Result<Client> {
    Client::new(ClientOptions {
        cancel: cancel.clone(),
        ..feed.client_options()
    })
}

/// TAXII: objects added since the last pull, merged into the stored bundle a page at a time
/// (see [`bundle`]). When a page fails after others came, those are kept and the next pull
/// resumes a second before the last good page's `X-TAXII-Date-Added-Last` (objects added in
/// the same instant may straddle pages; fetching one twice is harmless).
fn pull_taxii(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    p: &mut FeedPull,
    cancel: &Cancel,
) -> Result<()> {
    let api_root = feed
        .api_root
        .as_deref()
        .ok_or_else(|| missing(feed, "api_root"))?;
    let collection = feed
        .collection
        .as_deref()
        .ok_or_else(|| missing(feed, "collection"))?;
    let api_root = if api_root.ends_with('/') {
        api_root.to_string()
    } else {
        format!("{api_root}/")
    };
    let query = ObjectsQuery {
        added_after: state
            .added_after
            .clone()
            .or_else(|| feed.added_after.clone()),
        types: feed.types.clone(),
        limit: feed.page_size,
        limits: feed.pull_limits(),
        ..ObjectsQuery::default()
    };
    // Opened at the first object: a pull that brings nothing does not read the store.
    let mut store: Option<StixBundle> = None;
    let mut resume_at: Option<String> = None;
    let pulled = client(feed, cancel)?.pages(&api_root, collection, &query, |objects, added| {
        for o in &objects {
            p.fetched += 1;
            if o.get("id").and_then(Json::as_str).is_none() {
                p.skipped += 1;
                continue;
            }
            let s = match &mut store {
                Some(s) => s,
                None => store.insert(StixBundle::open(dir)?),
            };
            s.merge(o)?;
        }
        if let Some(added) = added {
            resume_at = Some(added.to_string());
        }
        Ok(())
    });
    let Some(store) = store else {
        let pulled = pulled?;
        state.added_after = pulled.date_added_last;
        return Ok(());
    };
    state.objects = store.len() as u64;
    p.changed = store.changed();
    if p.changed {
        store.save()?;
    }
    match pulled {
        Ok(pulled) => state.added_after = pulled.date_added_last,
        Err(e) => {
            if let Some(at) = resume_at.as_deref().and_then(second_before) {
                state.added_after = Some(at);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// `timestamp` minus one second, in the same RFC 3339 form the server uses.
fn second_before(timestamp: &str) -> Option<String> {
    let t = chrono::DateTime::parse_from_rfc3339(timestamp).ok()? - chrono::Duration::seconds(1);
    Some(
        t.with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// MISP feed: the manifest, then only events that are new or whose timestamp changed; events
/// no longer in the manifest are removed.
fn pull_misp(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    p: &mut FeedPull,
    cancel: &Cancel,
) -> Result<()> {
    let read = |name: &str| -> Result<Vec<u8>> {
        match (&feed.url, &feed.path) {
            (Some(url), _) => {
                let url = format!("{}/{name}", url.trim_end_matches('/'));
                client(feed, cancel)?.get_bytes(&url)
            }
            (None, Some(path)) => {
                std::fs::read(path.join(name)).map_err(|e| Error::io(path.join(name), e))
            }
            (None, None) => Err(missing(feed, "url or path")),
        }
    };
    let manifest: BTreeMap<String, Json> = serde_json::from_slice(&read("manifest.json")?)
        .map_err(|e| Error::feed(&feed.name, format!("manifest.json: {e}")))?;
    for (uuid, info) in &manifest {
        if uuid.len() != 36 || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            continue;
        }
        let stamp = info
            .get("timestamp")
            .map(|t| t.to_string())
            .unwrap_or_default();
        if state.events.get(uuid) == Some(&stamp) {
            continue;
        }
        let body = read(&format!("{uuid}.json"))?;
        store::write_file(&dir.join("events").join(format!("{uuid}.json")), &body)?;
        state.events.insert(uuid.clone(), stamp);
        state.objects = state.events.len() as u64;
        p.fetched += 1;
        p.changed = true;
    }
    // Events the feed no longer lists (withdrawn, unpublished) leave the store and the set.
    let gone: Vec<String> = state
        .events
        .keys()
        .filter(|uuid| !manifest.contains_key(*uuid))
        .cloned()
        .collect();
    for uuid in gone {
        let file = dir.join("events").join(format!("{uuid}.json"));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&file, e)),
        }
        state.events.remove(&uuid);
        state.objects = state.events.len() as u64;
        p.changed = true;
    }
    Ok(())
}

/// A list at a URL, stored when its bytes changed.
fn pull_url(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    p: &mut FeedPull,
    cancel: &Cancel,
) -> Result<()> {
    let url = feed.url.as_deref().ok_or_else(|| missing(feed, "url"))?;
    let body = client(feed, cancel)?.get_bytes(url)?;
    p.fetched = body.len() as u64;
    let digest = blake3::hash(&body).to_hex().to_string();
    if state.digest.as_deref() == Some(digest.as_str()) {
        return Ok(());
    }
    store::write_file(&dir.join("feed.txt"), &body)?;
    state.digest = Some(digest);
    state.objects = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    p.changed = true;
    Ok(())
}

fn missing(feed: &FeedConfig, what: &str) -> Error {
    Error::invalid(format!(
        "feed {:?} ({}): missing `{what}`",
        feed.name,
        feed.kind.name()
    ))
}
