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
//! max_shrink = 0.5                # refuse a pull that drops more than half a feed (default)
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
//! max_shrink = 0.9                # this feed's own limit; or allow_shrink = true: no guard
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
//! fetches only the events whose timestamp changed; `url` downloads a list; `file` copies a
//! local feed into the store when its bytes changed (so a file that goes missing or is
//! emptied keeps serving its last copy). Every store write is atomic (see
//! `crate::indicators::build::atomic`: an exclusively created temp file, fsync, rename), so a crash
//! leaves the previous state; the store is private (directories 0700, files 0600: it may hold
//! TLP:AMBER/RED data and servers' error text), the set 0644.
//!
//! A feed that fails, for any reason (a server error, a missing file, a full disk), keeps its
//! previous data; its error is reported and kept in its state, where `trawl feeds list` shows
//! it; the other feeds go on and the set is rebuilt from what the store holds. A rebuild that
//! fails keeps the previous set and is kept in the store's [`store::SetState`]. The shrink
//! guard (`guard`) refuses a pull that answers with nothing (an empty body, a `{}` manifest,
//! an emptied file) or that would drop more than `max_shrink` of a feed (indicators for
//! url/file, events for MISP, objects not revoked for TAXII), unless the feed says
//! `allow_shrink = true` or `trawl feeds pull --force` is given. `trawl feeds pull` exits 1
//! when a feed or the rebuild failed or was refused; with `--every` (60 s at least) a failed
//! round is logged with a timestamp and retried after 1/16 of the interval, doubling up to the
//! interval, until SIGINT or SIGTERM. A configuration that holds credentials and is readable
//! by its group or others, or such a `client_key`, is warned about
//! ([`Config::permission_warnings`]).
//!
//! Every request goes through [`crate::feeds::http`]: a byte cap per response, a deadline per request,
//! redirects only to https (or http from an http feed) on the feed's own host or one listed in
//! `allow_redirect_hosts`, credentials only to the feed's own host. A TAXII pull ends with an
//! error as soon as the server loops (a page holding the same objects as an earlier one, an
//! `X-TAXII-Date-Added-Last` to page by that does not move forward) or a bound above is reached;
//! what came before is kept and the next pull resumes after it. [`pull_cancellable`] stops
//! within moments when its [`Cancel`] flag is raised (`trawl feeds pull` raises it on
//! SIGINT/SIGTERM), even while a request waits on a silent server: the feed being pulled ends
//! like a part-way failure, the feeds after it are not pulled, and the set is not rebuilt. Errors
//! are stored and shown with URL credentials masked and control characters escaped
//! ([`crate::feeds::http::clean`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::bundle::{self, StixBundle};
use super::config::{Config, FeedConfig, FeedKind};
use super::guard::{self, ShrinkGuard, Sizes};
use super::store::{self, FeedState, SetState};

use crate::feeds::detect::Content;
use crate::feeds::detect::{FeedFormat, FeedSpec, ingest_feeds};
use crate::feeds::http::Cancel;
use crate::feeds::readers::FeedOptions;
use crate::feeds::taxii::{Client, ClientOptions, ObjectsQuery};
use crate::indicators::build::atomic::{Access, AtomicFile};
use crate::indicators::build::exclude::Exclusions;
use crate::indicators::build::report::CompileReport;
use crate::indicators::build::{CompileOptions, SetBuilder, SourceLimits};
use crate::indicators::error::{Error, Result};

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
    /// The shrink guard refused the pull (`guard`); `error` says why, with the numbers.
    pub refused: bool,
}

/// What [`pull`] did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Per feed, in configuration order.
    pub feeds: Vec<FeedPull>,
    /// The compile report, when the set was rebuilt.
    pub compiled: Option<CompileReport>,
    /// Why the set could not be rebuilt, when it could not (the previous set is kept).
    pub set_error: Option<String>,
    /// Whether the pull was cancelled: the feed being pulled failed part-way (what it fetched
    /// is kept), the feeds after it were not pulled and the set was not rebuilt (the next
    /// pull rebuilds it if the store changed).
    pub interrupted: bool,
}

/// Pulls every feed of `config` into the store; when any changed, or the set is older than
/// what it is built from (see [`set_is_stale`]), or `force`, recompiles the set and renames it
/// into place. `force` also turns the shrink guard off (`guard`).
///
/// A feed that fails, for any reason, is reported in [`PullReport::feeds`] and in its stored
/// state (for `feeds list`) and does not stop the others; a set that cannot be rebuilt is
/// reported in [`PullReport::set_error`] and in the store's [`SetState`]. `Err` only when the
/// store itself cannot be created or locked.
pub fn pull(config: &Config, force: bool) -> Result<PullReport> {
    pull_cancellable(config, force, &Cancel::new())
}

/// [`pull`], stopped within moments when `cancel` is raised (see [`PullReport::interrupted`]).
pub(crate) fn pull_cancellable(
    config: &Config,
    force: bool,
    cancel: &Cancel,
) -> Result<PullReport> {
    let root = &config.set.store;
    store::create_dir(root)?;
    let _lock = store::StoreLock::acquire(root)?;
    let mut report = PullReport::default();
    for feed in &config.feeds {
        if cancel.is_cancelled() {
            report.interrupted = true;
            break;
        }
        report.feeds.push(pull_feed(config, feed, force, cancel));
    }
    report.interrupted |= cancel.is_cancelled();
    let changed = report.feeds.iter().any(|f| f.changed);
    if report.interrupted {
        // A compile takes long; the store, newer than the set, makes the next pull rebuild it.
        return Ok(report);
    }
    if changed || force || set_is_stale(config) {
        let mut state = SetState::load(root);
        match compile(config) {
            Ok(compiled) => {
                state.last_build = Some(crate::indicators::model::unix_now());
                state.last_error = None;
                report.compiled = Some(compiled);
            }
            Err(e) => {
                state.last_error = Some(e.to_string());
                report.set_error = Some(e.to_string());
            }
        }
        if let Err(e) = state.save(root) {
            let saving = format!("saving the set's state: {e}");
            report.set_error = Some(match report.set_error.take() {
                Some(first) => format!("{first}; {saving}"),
                None => saving,
            });
        }
    }
    Ok(report)
}

/// Pulls one feed; every failure ends in the returned report and, where the store can be
/// written, in the feed's state.
fn pull_feed(config: &Config, feed: &FeedConfig, force: bool, cancel: &Cancel) -> FeedPull {
    let mut p = FeedPull {
        name: feed.name.clone(),
        ..FeedPull::default()
    };
    let dir = config.set.store.join(&feed.name);
    if let Err(e) = store::create_dir(&dir) {
        p.error = Some(e.to_string());
        return p;
    }
    let mut state = FeedState::load(&dir);
    let guard = ShrinkGuard::new(&config.set, feed, force);
    let result = match feed.kind {
        FeedKind::Taxii => pull_taxii(feed, &dir, &mut state, &guard, &mut p, cancel),
        FeedKind::Misp => pull_misp(feed, &dir, &mut state, &guard, &mut p, cancel),
        FeedKind::Url => pull_url(feed, &dir, &mut state, &guard, &mut p, cancel),
        FeedKind::File => pull_file(feed, &dir, &mut state, &guard, &mut p),
    };
    state.last_pull = Some(crate::indicators::model::unix_now());
    match result {
        Ok(()) => {
            state.last_error = None;
            state.pulls += 1;
        }
        Err(e) => {
            // Masked and escaped again: an error from anywhere may quote a URL or a server.
            p.error = Some(crate::feeds::http::clean(&e.to_string()));
            state.last_error.clone_from(&p.error);
        }
    }
    // A state that cannot be saved (a full disk) is reported with the pull; what was stored is
    // whole, and the next pull fetches it again at worst.
    if let Err(e) = state.save(&dir) {
        let saving = format!("saving its state: {e}");
        p.error = Some(match p.error.take() {
            Some(first) => format!("{first}; {saving}"),
            None => saving,
        });
    }
    p
}

/// Refuses a pull (see [`guard`]): marks it and makes the error.
fn refuse(p: &mut FeedPull, why: String) -> Error {
    p.refused = true;
    Error::invalid(why)
}

/// Whether the set file is missing or older than a file it is built from (a stored feed, a
/// warninglist): so that a crash between a store write and the set's rename, or an edited
/// warninglist, still leads to a rebuild. (An edited `file` feed is seen by its pull, which
/// stores its new copy.)
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
pub(crate) fn compile(config: &Config) -> Result<CompileReport> {
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

/// The options a feed's files are read with.
fn feed_options(feed: &FeedConfig) -> FeedOptions {
    FeedOptions {
        source: feed.name.clone(),
        score: feed.score,
        tlp: feed.tlp,
        exact: feed.exact,
        all_attributes: feed.misp_all,
        value_kind: feed.value_kind,
    }
}

/// Where the store keeps the copy of a `url` or `file` feed: `feed.txt`, or `feed.json` for a
/// local `.json` file (the extension decides how a JSON file with a byte-order mark is read).
fn stored_copy(feed: &FeedConfig, dir: &Path) -> PathBuf {
    let json = feed.kind == FeedKind::File
        && feed
            .path
            .as_deref()
            .and_then(Path::extension)
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    dir.join(if json { "feed.json" } else { "feed.txt" })
}

/// The files the set is compiled from, with each feed's options: what the store holds for
/// each feed (a `file` feed's copy too, so that a file gone or emptied keeps its last data).
fn inputs(config: &Config) -> Vec<FeedSpec> {
    let mut specs = Vec::new();
    for feed in &config.feeds {
        let dir = config.set.store.join(&feed.name);
        let options = feed_options(feed);
        let spec = |path: PathBuf, format: Option<FeedFormat>| FeedSpec {
            path,
            format,
            options: options.clone(),
        };
        match feed.kind {
            FeedKind::File | FeedKind::Url => {
                let f = stored_copy(feed, &dir);
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
///
/// The shrink guard compares the objects not revoked before and after the merge; a refused
/// merge is not saved and the next pull fetches the same objects again.
fn pull_taxii(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    guard: &ShrinkGuard,
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
    let mut live_before = 0;
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
                None => {
                    let opened = store.insert(StixBundle::open(dir)?);
                    live_before = opened.live();
                    opened
                }
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
    if store.changed() {
        let sizes = Sizes {
            before: live_before,
            after: store.live(),
            unit: "objects not revoked",
            answer: None,
            blank: false,
        };
        if let Err(why) = guard.check(sizes) {
            let why = match pulled {
                Err(e) => format!("{why}; and the pull failed part-way: {e}"),
                Ok(_) => why,
            };
            return Err(refuse(p, why));
        }
    }
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
/// no longer in the manifest are removed. The shrink guard compares the events stored with
/// the events the manifest lists, before anything is fetched or removed.
fn pull_misp(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    guard: &ShrinkGuard,
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
    let is_event =
        |uuid: &str| uuid.len() == 36 && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    let sizes = Sizes {
        before: state.events.len() as u64,
        after: manifest.keys().filter(|u| is_event(u)).count() as u64,
        unit: "events",
        answer: Some("manifest"),
        blank: manifest.is_empty(),
    };
    guard.check(sizes).map_err(|why| refuse(p, why))?;
    for (uuid, info) in &manifest {
        if !is_event(uuid) {
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

/// A list at a URL, stored when its bytes changed and the shrink guard lets it.
fn pull_url(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    guard: &ShrinkGuard,
    p: &mut FeedPull,
    cancel: &Cancel,
) -> Result<()> {
    let url = feed.url.as_deref().ok_or_else(|| missing(feed, "url"))?;
    let body = client(feed, cancel)?.get_bytes(url)?;
    p.fetched = body.len() as u64;
    let digest = blake3::hash(&body).to_hex().to_string();
    let target = stored_copy(feed, dir);
    if state.digest.as_deref() == Some(digest.as_str()) && target.exists() {
        return Ok(());
    }
    let mut copy = AtomicFile::create(&target, Access::Private)?;
    copy.file()
        .write_all(&body)
        .map_err(|e| Error::io(copy.temp_path(), e))?;
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let origin = crate::feeds::http::clean(url);
    store_copy(
        feed,
        state,
        guard,
        p,
        copy,
        digest,
        ("body", &origin, blank),
    )
}

/// A local file, copied into the store when its bytes changed and the shrink guard lets it:
/// a file that goes missing or is emptied fails the pull and the copy keeps serving.
fn pull_file(
    feed: &FeedConfig,
    dir: &Path,
    state: &mut FeedState,
    guard: &ShrinkGuard,
    p: &mut FeedPull,
) -> Result<()> {
    let path = feed.path.as_deref().ok_or_else(|| missing(feed, "path"))?;
    let target = stored_copy(feed, dir);
    // Hashed first, copied only when changed: an unchanged file costs a read, not a write.
    let (_, digest) = copy_hashing(path, &mut std::io::sink(), &target)?;
    if state.digest.as_deref() == Some(digest.as_str()) && target.exists() {
        return Ok(());
    }
    let mut copy = AtomicFile::create(&target, Access::Private)?;
    // The digest kept is the copy's: the file may have changed since it was hashed.
    let temp = copy.temp_path().to_path_buf();
    let (bytes, digest) = copy_hashing(path, copy.file(), &temp)?;
    p.fetched = bytes;
    let blank = bytes == 0;
    let origin = path.display().to_string();
    store_copy(
        feed,
        state,
        guard,
        p,
        copy,
        digest,
        ("file", &origin, blank),
    )
}

/// Copies the file at `path` to `out` (the file at `out_path`); its length and blake3.
fn copy_hashing(path: &Path, out: &mut impl Write, out_path: &Path) -> Result<(u64, String)> {
    let mut input = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|e| Error::io(out_path, e))?;
        total += n as u64;
    }
    Ok((total, hasher.finalize().to_hex().to_string()))
}

/// Commits the new copy of a `url` or `file` feed unless it is not an indicator list (a
/// binary download, IDS rules: named by `origin`, the URL or the path) or the shrink guard
/// refuses it (`answer`: what came, and whether it was blank).
fn store_copy(
    feed: &FeedConfig,
    state: &mut FeedState,
    guard: &ShrinkGuard,
    p: &mut FeedPull,
    copy: AtomicFile,
    digest: String,
    (answer, origin, blank): (&str, &str, bool),
) -> Result<()> {
    let mut head = Vec::with_capacity(crate::feeds::detect::HEAD);
    File::open(copy.temp_path())
        .and_then(|f| {
            f.take(crate::feeds::detect::HEAD as u64)
                .read_to_end(&mut head)
        })
        .map_err(|e| Error::io(copy.temp_path(), e))?;
    match crate::feeds::detect::sniff(copy.target(), &head) {
        Content::Text => {}
        Content::Binary(what) | Content::NotIndicators(what) => {
            return Err(Error::invalid(format!("{origin}: not a text feed: {what}")));
        }
    }
    let options = feed_options(feed);
    let after = guard::count_indicators(copy.temp_path(), &options)?;
    let before = match state.indicators {
        Some(n) => n,
        // A state from before the count was kept: count the stored copy.
        None if copy.target().exists() => guard::count_indicators(copy.target(), &options)?,
        None => 0,
    };
    let sizes = Sizes {
        before,
        after,
        unit: "indicators",
        answer: Some(answer),
        blank,
    };
    guard.check(sizes).map_err(|why| refuse(p, why))?;
    copy.commit()?;
    state.digest = Some(digest);
    state.indicators = Some(after);
    state.objects = after;
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
