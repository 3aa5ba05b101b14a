//! A TAXII 2.1 client (OASIS TAXII 2.1, §4–5): discovery, API roots, collections, objects with
//! pagination and `added_after`, posting an envelope and following its status, with
//! `Accept: application/taxii+json;version=2.1`. Requests go through `crate::feeds::http` (auth,
//! TLS, retries, redirects, byte cap, deadline, cancellation); a paginated pull is bounded by
//! [`PullLimits`] and ends with an error as soon as the server loops.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

pub use crate::feeds::http::{Auth, ClientOptions};
use crate::feeds::http::{Http, escape, parse_url, redact};
use crate::indicators::error::{Error, Result};

/// The TAXII 2.1 media type, sent in `Accept` and `Content-Type`.
pub(crate) const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// Bounds of one paginated pull, so that a server that never stops saying `more` cannot hold
/// it: besides these, a pull ends with an error at once when a page holds the same objects
/// (ids and versions) as an earlier one, or when the `X-TAXII-Date-Added-Last` it pages by
/// does not move forward. The defaults let a collection of millions of objects complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullLimits {
    /// Pages per pull.
    pub max_pages: u64,
    /// Time per pull (checked before each page).
    pub max_time: Duration,
    /// Pages in a row without an object while the server says `more`.
    pub max_empty_pages: u64,
}

impl Default for PullLimits {
    fn default() -> Self {
        PullLimits {
            max_pages: 1_000_000,
            max_time: Duration::from_secs(12 * 3600),
            max_empty_pages: 100,
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
    /// Bounds of the pull.
    pub limits: PullLimits,
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

/// A TAXII 2.1 client.
pub struct Client {
    http: Http,
}

impl Client {
    /// A client with `opts`; fails when a CA bundle, certificate or key cannot be read.
    pub fn new(opts: ClientOptions) -> Result<Client> {
        Ok(Client {
            http: Http::new(opts)?,
        })
    }

    /// `GET url?query` with the TAXII headers; returns the JSON body and
    /// `X-TAXII-Date-Added-Last`.
    fn get(&self, url: &str, query: &[(&str, String)]) -> Result<(Json, Option<String>)> {
        let mut full = parse_url(url)?;
        if !query.is_empty() {
            let mut pairs = full.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        let resp = self.http.get(full.as_str(), &[("Accept", MEDIA_TYPE)])?;
        Ok((json(url, &resp.body)?, date_added_last(&resp)))
    }

    /// The raw body at `url` (any media type), with the client's credentials, retries and
    /// limits: for feed files served over HTTP.
    pub(crate) fn get_bytes(&self, url: &str) -> Result<Vec<u8>> {
        Ok(self.http.get(url, &[])?.body)
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
        let limits = &query.limits;
        let started = Instant::now();
        // Errors name the URL without its credentials.
        let fail = |what: String| Error::feed(redact(&url), what);
        let mut pull = Pull {
            date_added_last: query.added_after.clone(),
            ..Pull::default()
        };
        // TAXII 2.1 §3.4: while `more`, follow `next` (a string or a number) with the same
        // query; a server that gives no `next` is paged by `added_after` = the page's
        // `X-TAXII-Date-Added-Last`, which must then move forward. `next` itself may repeat
        // (medallion's is a session id): a looping server shows in its pages, remembered as
        // hashes, 8 bytes a page.
        let mut added_after = query.added_after.clone();
        let mut next: Option<String> = None;
        let mut seen_pages: HashSet<u64> = HashSet::new();
        let mut empty_in_a_row = 0u64;
        loop {
            if pull.pages >= limits.max_pages {
                let limit = format!("max_pages = {}", limits.max_pages);
                return Err(fail(stopped(&pull, limit)));
            }
            if started.elapsed() >= limits.max_time {
                let limit = format!("max_pull_time = {} s", limits.max_time.as_secs_f64());
                return Err(fail(stopped(&pull, limit)));
            }
            let mut p = params.clone();
            if let Some(a) = &added_after {
                p.push(("added_after", a.clone()));
            }
            if let Some(n) = &next {
                p.push(("next", n.clone()));
            }
            let (mut doc, added) = self.get(&url, &p)?;
            pull.pages += 1;
            if let Some(a) = &added {
                timestamp(a).map_err(fail)?;
            }
            let objects = match doc.get_mut("objects").map(Json::take) {
                Some(Json::Array(objects)) => objects,
                _ => Vec::new(),
            };
            if fingerprint(&objects).is_some_and(|f| !seen_pages.insert(f)) {
                return Err(fail(format!(
                    "page {} holds the same objects as an earlier page: the server is looping",
                    pull.pages
                )));
            }
            empty_in_a_row = if objects.is_empty() {
                empty_in_a_row + 1
            } else {
                0
            };
            pull.objects += objects.len() as u64;
            page(objects, added.as_deref())?;
            if added.is_some() {
                pull.date_added_last.clone_from(&added);
            }
            if !doc.get("more").and_then(Json::as_bool).unwrap_or(false) {
                return Ok(pull);
            }
            if empty_in_a_row >= limits.max_empty_pages {
                return Err(fail(stopped(
                    &pull,
                    format!(
                        "{empty_in_a_row} pages in a row without an object while the server \
                         says there is more (max_empty_pages)"
                    ),
                )));
            }
            next = match doc.get("next") {
                Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Json::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            if next.is_some() {
                continue;
            }
            // Paged by `added_after`: the cursor must move forward.
            let later = match (&added, &added_after) {
                (None, _) => None,
                (Some(new), None) => Some(new),
                (Some(new), Some(old)) => {
                    (timestamp(new).ok() > timestamp(old).ok()).then_some(new)
                }
            };
            let Some(later) = later else {
                let why = match &added {
                    None => "the server says there is more but gives neither `next` nor a \
                             later X-TAXII-Date-Added-Last to continue from"
                        .to_string(),
                    Some(new) => format!(
                        "the server says there is more but its X-TAXII-Date-Added-Last {new} \
                         is not later than the {} it was asked for: the server is looping",
                        added_after.as_deref().unwrap_or_default()
                    ),
                };
                return Err(fail(why));
            };
            added_after = Some(later.clone());
        }
    }

    /// Posts `objects` as an envelope to a collection; returns the status resource.
    pub(crate) fn post_objects(
        &self,
        api_root: &str,
        collection: &str,
        objects: &[Json],
    ) -> Result<Json> {
        let url = format!("{api_root}collections/{collection}/objects/");
        let envelope = serde_json::json!({ "objects": objects });
        let body = serde_json::to_vec(&envelope).map_err(|e| Error::invalid(e.to_string()))?;
        let headers = [("Accept", MEDIA_TYPE), ("Content-Type", MEDIA_TYPE)];
        json(&url, &self.http.post(&url, &headers, body)?.body)
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

/// A JSON body (`null` when empty).
fn json(url: &str, body: &[u8]) -> Result<Json> {
    if body.trim_ascii().is_empty() {
        return Ok(Json::Null);
    }
    serde_json::from_slice(body)
        .map_err(|e| Error::feed(redact(url), format!("malformed JSON response: {e}")))
}

/// `X-TAXII-Date-Added-Last`, checked later as a timestamp where it is a cursor.
fn date_added_last(resp: &crate::feeds::http::Response) -> Option<String> {
    resp.header("X-TAXII-Date-Added-Last")
        .map(|v| escape(v.trim()))
}

/// An `X-TAXII-Date-Added-Last` as a time, for ordering (checked when it arrives); the error
/// says what is wrong with it.
fn timestamp(text: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("X-TAXII-Date-Added-Last \"{text}\" is not a timestamp"))
}

/// What identifies a page's objects whatever their order: the hashes of their ids and versions
/// (`modified`), summed; `None` for a page without ids. A new version of an object pulled
/// again is not a repeat.
fn fingerprint(objects: &[Json]) -> Option<u64> {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    fn str_of<'a>(o: &'a Json, k: &str) -> Option<&'a str> {
        o.get(k).and_then(Json::as_str)
    }
    let (count, sum) = objects
        .iter()
        .filter_map(|o| Some((str_of(o, "id")?, str_of(o, "modified").unwrap_or_default())))
        .fold((0u64, 0u64), |(n, sum), (id, modified)| {
            let h = xxh3_64_with_seed(modified.as_bytes(), xxh3_64(id.as_bytes()));
            (n + 1, sum.wrapping_add(h))
        });
    (count > 0).then(|| sum ^ count.rotate_left(32))
}

/// Why a pull stopped by one of its [`PullLimits`] failed: what came before is kept.
fn stopped(pull: &Pull, limit: String) -> String {
    format!(
        "stopped after {} pages and {} objects: {limit} reached (the objects so far are kept; \
         raise the limit in the feed's configuration if the server is right)",
        pull.pages, pull.objects
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_s_fingerprint_is_its_ids_and_versions_in_any_order() {
        let o = |id: &str, modified: &str| json!({"id": id, "modified": modified});
        let page = [o("a", "1"), o("b", "1")];
        let shuffled = [o("b", "1"), o("a", "1")];
        assert_eq!(fingerprint(&page), fingerprint(&shuffled));
        assert_ne!(fingerprint(&page), fingerprint(&[o("a", "2"), o("b", "1")]));
        assert_ne!(fingerprint(&page), fingerprint(&[o("a", "1")]));
        assert_eq!(fingerprint(&[]), None);
        assert_eq!(fingerprint(&[json!(42), json!({"type": "x"})]), None);
    }
}
