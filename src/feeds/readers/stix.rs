//! STIX 2.1 bundles and TAXII 2.1 envelopes (and STIX 2.0 bundles where the fields allow),
//! streamed one object at a time into canonical indicators.
//!
//! * [`StixIngest`] — reads any number of files ([`StixIngest::read`]) and emits what they
//!   say at [`StixIngest::finish`]: per indicator id only the version with the greatest
//!   `modified` (across all files), nothing for an id once any version of it is revoked, TLP
//!   resolved from `object_marking_refs` once every marking definition has been seen.
//! * The nine fixed TLP 1.0 and 2.0 marking-definition ids
//!   (`TLP_MARKINGS`) resolve without the marking
//!   object being present.
//!
//! Documents accepted: a bundle `{"type":"bundle","objects":[…]}`, a TAXII envelope
//! `{"objects":[…],"more":…}`, a bare array of objects, or a single object. The `objects`
//! array is never held whole: each element is parsed, handled and dropped in turn. JSON that
//! breaks off is reported once (with serde's line and column) and what was read before stays.
//!
//! Per object:
//! * `indicator` — needs `id`, `pattern`, `pattern_type` (absent in STIX 2.0, read as `stix`),
//!   `valid_from`, `modified`; `valid_until` must be later than `valid_from`. Such malformed
//!   objects are rejected and take no part in versioning. The pattern is compiled with
//!   [`super::pattern`]; patterns outside the exact subset and non-`stix` pattern types are
//!   reported unsupported, never widened.
//! * `ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`, `file` (MD5/SHA-1/SHA-256/
//!   SHA-512 hashes) — accepted as indicators with the feed's defaults, *unless* an
//!   `observed-data` object in the files read refers to them: those are observations (MISP
//!   exports its non-IDS attributes that way), and are dropped with a reason.
//! * `marking-definition` — TLP definitions (`definition_type: "tlp"` or the TLP 2.0 extension)
//!   for ids other than the nine fixed ones.
//! * `opinion` — a score for the indicators in its `object_refs`, as CISA's AIS gives one for
//!   every indicator it shares (the AIS Scoring Framework): `strongly-disagree` 0, `disagree`
//!   25, `neutral` 50, `agree` 75, `strongly-agree` 100 (STIX 2.1 §4.15 reads them as 1–5).
//!   Per indicator id the newest opinion (`modified`) wins and replaces the indicator's own
//!   `confidence`, whichever version of the indicator comes, and in whichever order the files
//!   hold them; a revoked opinion counts for nothing.
//! * anything else (relationships, malware, identities, …) is ignored; an element that is not
//!   a JSON object or has no `type` is rejected.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{BufReader, Read};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::FeedOptions;
use super::pattern::{self, Class};
use crate::indicators::collect::{Collector, Location};
use crate::indicators::model::{Kind, Meta, Tlp};
use crate::indicators::normalize::{self, Normalized, Reject};
use crate::indicators::stix_id::tlp_for_marking_id;

/// Reason for a version that a newer one replaced.
const SUPERSEDED: &str = "superseded by a newer version";
/// Reason for any version of an id that has been revoked.
const REVOKED: &str = "revoked";

/// Reads STIX bundles and TAXII envelopes into indicators, across any number of files.
///
/// Versioning, revocation and TLP resolution span every file read by one `StixIngest`, so
/// indicators are emitted only at [`StixIngest::finish`]; rejects found while reading (bad
/// JSON, objects missing required properties, malformed patterns) are reported at once.
///
/// ```
/// use trawl::{FeedOptions, StixIngest, VecCollector};
/// let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator",
///   "spec_version":"2.1","id":"indicator--1","created":"2024-01-01T00:00:00Z",
///   "modified":"2024-01-01T00:00:00Z","valid_from":"2024-01-01T00:00:00Z",
///   "pattern_type":"stix","pattern":"[domain-name:value = 'evil.example']"}]}"#;
/// let mut ingest = StixIngest::new(true);
/// let mut out = VecCollector::default();
/// ingest.read(bundle.as_bytes(), "feed.json", &FeedOptions::source("feed"), &mut out).unwrap();
/// ingest.finish(&mut out);
/// assert_eq!(out.accepted.len(), 1);
/// assert_eq!(out.accepted[0].0.value.to_string(), "evil.example");
/// ```
#[derive(Debug)]
pub struct StixIngest {
    cidr_equals_contains: bool,
    /// Current versions (indicators) and SCOs, in order of first sight; `None` once revoked.
    entries: Vec<Option<Pending>>,
    /// Object id → index in `entries`.
    by_id: HashMap<String, usize>,
    /// Indicator ids revoked by any version.
    revoked: HashSet<String>,
    /// TLP of marking definitions seen (other than the nine fixed ids).
    markings: HashMap<String, Tlp>,
    /// Ids referred to by `observed-data` objects.
    observed: HashSet<String>,
    /// Opinion id → its newest version: `modified`, score (`None` once revoked) and the
    /// indicator ids it is about.
    opinions: HashMap<String, (Stamp, Option<u8>, Vec<String>)>,
}

impl Default for StixIngest {
    /// An ingest with `DEFAULT_CIDR_EQUALS_CONTAINS`.
    fn default() -> Self {
        StixIngest::new(pattern::DEFAULT_CIDR_EQUALS_CONTAINS)
    }
}

/// `modified` as (Unix seconds, nanoseconds): comparable whatever the fractional precision.
type Stamp = (i64, u32);

/// One indicator version or SCO waiting for [`StixIngest::finish`].
#[derive(Debug)]
struct Pending {
    at: Location,
    /// Indicators only; SCOs have no versions.
    modified: Option<Stamp>,
    is_sco: bool,
    /// Metadata with every field but `tlp` filled in.
    meta: Meta,
    /// The feed's TLP, for objects that carry no TLP marking.
    fallback_tlp: Option<Tlp>,
    marking_refs: Vec<String>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Canonical keys, or (reason, raw literal) for keys canonicalisation refused.
    Keys(Vec<Result<Normalized, (&'static str, String)>>),
    Unsupported {
        reason: String,
        detail: String,
    },
}

impl StixIngest {
    /// An empty ingest. `cidr_equals_contains` reads `= 'CIDR'` on IP paths as containment
    /// (see `classify`; the usual choice is `DEFAULT_CIDR_EQUALS_CONTAINS`).
    pub fn new(cidr_equals_contains: bool) -> StixIngest {
        StixIngest {
            cidr_equals_contains,
            entries: Vec::new(),
            by_id: HashMap::new(),
            revoked: HashSet::new(),
            markings: HashMap::new(),
            observed: HashSet::new(),
            opinions: HashMap::new(),
        }
    }

    /// Reads one document (bundle, envelope, array or single object) named `file` in reports.
    /// Malformed JSON is reported as one reject at [`Location::File`] and reading stops there,
    /// keeping what came before; the only error returned is an I/O failure.
    pub fn read(
        &mut self,
        reader: impl Read,
        file: &str,
        opts: &FeedOptions,
        out: &mut dyn Collector,
    ) -> crate::Result<()> {
        let file: Arc<str> = Arc::from(file);
        let mut de = serde_json::Deserializer::from_reader(BufReader::new(reader));
        let mut ctx = Ctx {
            ingest: self,
            file: &file,
            opts,
            out,
            position: 0,
        };
        let result = Document(&mut ctx)
            .deserialize(&mut de)
            .and_then(|()| de.end());
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.is_io() => Err(crate::Error::io(&*file, e.into())),
            Err(e) => {
                ctx.out.reject(
                    Location::File { file: file.clone() },
                    "invalid JSON",
                    &e.to_string(),
                );
                Ok(())
            }
        }
    }

    /// Emits every current indicator version and every SCO (accepted keys, rejected keys,
    /// unsupported patterns), in order of first sight, with TLP resolved.
    pub fn finish(self, out: &mut dyn Collector) {
        let StixIngest {
            entries,
            markings,
            observed,
            opinions,
            ..
        } = self;
        // Per indicator, the score of the newest opinion about it that stands.
        let mut scores: HashMap<&str, (Stamp, u8)> = HashMap::new();
        for (stamp, score, refs) in opinions.values() {
            let Some(score) = *score else { continue };
            for id in refs {
                let slot = scores.entry(id.as_str()).or_insert((*stamp, score));
                if *stamp > slot.0 {
                    *slot = (*stamp, score);
                }
            }
        }
        for p in entries.into_iter().flatten() {
            if p.is_sco && p.meta.id.as_ref().is_some_and(|id| observed.contains(id)) {
                out.dropped(
                    p.at,
                    "observation (referred to by observed-data), not an indicator",
                );
                continue;
            }
            let mut meta = p.meta;
            meta.tlp = resolve_tlp(&p.marking_refs, &markings).or(p.fallback_tlp);
            if let Some(&(_, score)) = meta.id.as_deref().and_then(|id| scores.get(id)) {
                meta.score = Some(score);
            }
            match p.outcome {
                Outcome::Unsupported { reason, detail } => out.unsupported(p.at, &reason, &detail),
                Outcome::Keys(keys) => {
                    let mut seen = HashSet::new();
                    for key in keys {
                        match key {
                            Ok(n) => {
                                if seen.insert(n.value.clone()) {
                                    out.accept(n, &meta, &p.at);
                                }
                            }
                            Err((reason, raw)) => out.reject(p.at.clone(), reason, &raw),
                        }
                    }
                }
            }
        }
    }

    /// Handles one element of the document.
    fn object(&mut self, v: Value, ctx: &ObjCtx<'_>, out: &mut dyn Collector) {
        let Value::Object(obj) = v else {
            out.reject(ctx.position_loc(), "not a JSON object", &snippet(&v));
            return;
        };
        let at = match obj.get("id").and_then(Value::as_str) {
            Some(id) => ctx.loc(id),
            None => ctx.position_loc(),
        };
        let Some(ty) = obj.get("type").and_then(Value::as_str) else {
            out.reject(at, "missing required property type", "");
            return;
        };
        match ty {
            "indicator" => self.indicator(&obj, at, ctx, out),
            "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "file" => {
                self.sco(ty, &obj, at, ctx.opts, out)
            }
            "marking-definition" => self.marking(&obj),
            "opinion" => self.opinion(&obj, at, out),
            "observed-data" => {
                if let Some(Value::Array(refs)) = obj.get("object_refs") {
                    let ids = refs.iter().filter_map(Value::as_str).map(str::to_string);
                    self.observed.extend(ids);
                }
            }
            _ => {}
        }
    }

    fn indicator(
        &mut self,
        obj: &Map<String, Value>,
        at: Location,
        ctx: &ObjCtx<'_>,
        out: &mut dyn Collector,
    ) {
        let pattern_text = obj.get("pattern").and_then(Value::as_str).unwrap_or("");
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            out.reject(at, "missing required property id", pattern_text);
            return;
        };
        if obj.get("revoked") == Some(&Value::Bool(true)) {
            self.revoke(id, at, out);
            return;
        }
        if self.revoked.contains(id) {
            out.dropped(at, REVOKED);
            return;
        }
        // STIX 2.0 indicators have no pattern_type (and objects no spec_version): the pattern
        // language is STIX.
        let stix20 = obj
            .get("spec_version")
            .is_none_or(|v| v.as_str() == Some("2.0"));
        let mut props = [None; 4];
        for (slot, name) in
            props
                .iter_mut()
                .zip(["pattern", "pattern_type", "valid_from", "modified"])
        {
            match obj.get(name) {
                Some(Value::String(s)) => *slot = Some(s.as_str()),
                None if name == "pattern_type" && stix20 => *slot = Some("stix"),
                None => {
                    out.reject(
                        at,
                        &format!("missing required property {name}"),
                        pattern_text,
                    );
                    return;
                }
                Some(other) => {
                    out.reject(at, &format!("invalid property {name}"), &snippet(other));
                    return;
                }
            }
        }
        let [
            Some(pattern),
            Some(pattern_type),
            Some(valid_from),
            Some(modified),
        ] = props
        else {
            return;
        };
        let valid_until = match obj.get("valid_until") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(other) => {
                out.reject(at, "invalid property valid_until", &snippet(other));
                return;
            }
        };
        let mut stamps = [None; 3];
        for (slot, (name, text)) in stamps.iter_mut().zip([
            ("modified", Some(modified)),
            ("valid_from", Some(valid_from)),
            ("valid_until", valid_until),
        ]) {
            if let Some(text) = text {
                match timestamp(text) {
                    Some(t) => *slot = Some(t),
                    None => {
                        out.reject(at, "invalid timestamp", &format!("{name}: {text}"));
                        return;
                    }
                }
            }
        }
        let [Some(modified_at), Some(from), until] = stamps else {
            return;
        };
        if until.is_some_and(|u| u <= from) {
            let detail = format!(
                "valid_from {valid_from}, valid_until {}",
                valid_until.unwrap_or("")
            );
            out.reject(at, "valid_until is not later than valid_from", &detail);
            return;
        }
        let is_stix = pattern_type.eq_ignore_ascii_case("stix");
        let parsed = if is_stix {
            match pattern::parse(pattern) {
                Ok(p) => Some(p),
                Err(e) => {
                    out.reject(at, "invalid STIX pattern", &format!("{e}: {pattern}"));
                    return;
                }
            }
        } else {
            None
        };

        // Versioning: the greatest `modified` wins; ties keep the version read first.
        let slot = match self.by_id.get(id) {
            Some(&slot) => {
                if let Some(prev) = self.entries.get(slot).and_then(Option::as_ref) {
                    match Some(modified_at).cmp(&prev.modified) {
                        std::cmp::Ordering::Less => {
                            out.dropped(at, SUPERSEDED);
                            return;
                        }
                        std::cmp::Ordering::Equal => {
                            out.dropped(at, "duplicate of a version already read");
                            return;
                        }
                        std::cmp::Ordering::Greater => out.dropped(prev.at.clone(), SUPERSEDED),
                    }
                }
                slot
            }
            None => {
                self.entries.push(None);
                let slot = self.entries.len() - 1;
                self.by_id.insert(id.to_string(), slot);
                slot
            }
        };

        let outcome = match parsed {
            None => Outcome::Unsupported {
                reason: "pattern_type is not stix".into(),
                detail: pattern_type.to_string(),
            },
            Some(p) => match pattern::classify(&p, self.cidr_equals_contains) {
                Class::Unsupported(reason) => Outcome::Unsupported {
                    reason,
                    detail: pattern.to_string(),
                },
                Class::Compiled(keys) if keys.is_empty() => Outcome::Unsupported {
                    reason: "pattern matches nothing (empty set)".into(),
                    detail: pattern.to_string(),
                },
                Class::Compiled(keys) => Outcome::Keys(
                    keys.into_iter()
                        .map(|(kind, raw)| canonical(kind, &raw).map_err(|r| (r.reason(), raw)))
                        .collect(),
                ),
            },
        };

        let mut meta = ctx.opts.meta();
        meta.tlp = None;
        meta.id = Some(id.to_string());
        if let Some(c) = obj.get("confidence").and_then(Value::as_u64) {
            if let Ok(c @ 0..=100) = u8::try_from(c) {
                meta.score = Some(c);
            }
        }
        meta.valid_from = Some(from.0);
        // The window is [valid_from, valid_until); whole seconds round outwards so that a
        // sub-second window never becomes empty.
        meta.valid_until = until.map(|(s, ns)| if ns > 0 { s.saturating_add(1) } else { s });
        for key in ["labels", "indicator_types"] {
            if let Some(Value::Array(items)) = obj.get(key) {
                for label in items.iter().filter_map(Value::as_str) {
                    if !meta.labels.iter().any(|l| l == label) {
                        meta.labels.push(label.to_string());
                    }
                }
            }
        }
        let name = obj
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let description = obj
            .get("description")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        meta.description = match (name, description) {
            (Some(n), Some(d)) => Some(format!("{n}: {d}")),
            (Some(s), None) | (None, Some(s)) => Some(s.to_string()),
            (None, None) => None,
        };

        self.entries[slot] = Some(Pending {
            at,
            modified: Some(modified_at),
            is_sco: false,
            meta,
            fallback_tlp: ctx.opts.tlp,
            marking_refs: marking_refs(obj, |sel| sel == "pattern"),
            outcome,
        });
    }

    /// A revoked version: drop the id now and for good, whatever versions come later.
    fn revoke(&mut self, id: &str, at: Location, out: &mut dyn Collector) {
        self.revoked.insert(id.to_string());
        out.dropped(at, REVOKED);
        if let Some(&slot) = self.by_id.get(id) {
            if let Some(prev) = self.entries.get_mut(slot).and_then(Option::take) {
                out.dropped(prev.at, REVOKED);
            }
        }
    }

    fn sco(
        &mut self,
        ty: &str,
        obj: &Map<String, Value>,
        at: Location,
        opts: &FeedOptions,
        out: &mut dyn Collector,
    ) {
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            out.reject(at, "missing required property id", &snippet_map(obj));
            return;
        };
        if self.by_id.contains_key(id) {
            // The same SCO again (2.1 SCO ids are derived from their values): keep the first.
            out.dropped(at, "duplicate of an object already read");
            return;
        }
        let outcome = if obj.get("defanged") == Some(&Value::Bool(true)) {
            let value = obj.get("value").and_then(Value::as_str).unwrap_or(id);
            Outcome::Unsupported {
                reason: "defanged value".into(),
                detail: value.to_string(),
            }
        } else if ty == "file" {
            let mut keys = Vec::new();
            if let Some(Value::Object(hashes)) = obj.get("hashes") {
                for (alg, v) in hashes {
                    if let (Some(kind), Some(raw)) = (pattern::hash_kind(alg), v.as_str()) {
                        keys.push(canonical(kind, raw).map_err(|r| (r.reason(), raw.to_string())));
                    }
                }
            }
            if keys.is_empty() {
                Outcome::Unsupported {
                    reason: "file object without an MD5, SHA-1, SHA-256 or SHA-512 hash".into(),
                    detail: obj
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or(id)
                        .to_string(),
                }
            } else {
                Outcome::Keys(keys)
            }
        } else {
            let kind = match ty {
                "ipv4-addr" => Kind::Ipv4,
                "ipv6-addr" => Kind::Ipv6,
                "domain-name" => Kind::Domain,
                "url" => Kind::Url,
                _ => Kind::Email,
            };
            let Some(raw) = obj.get("value").and_then(Value::as_str) else {
                out.reject(at, "missing required property value", "");
                return;
            };
            Outcome::Keys(vec![
                canonical(kind, raw).map_err(|r| (r.reason(), raw.to_string())),
            ])
        };
        let mut meta = opts.meta();
        meta.tlp = None;
        meta.id = Some(id.to_string());
        self.entries.push(Some(Pending {
            at,
            modified: None,
            is_sco: true,
            meta,
            fallback_tlp: opts.tlp,
            marking_refs: marking_refs(obj, |sel| sel == "value" || sel.starts_with("hashes")),
            outcome,
        }));
        self.by_id.insert(id.to_string(), self.entries.len() - 1);
    }

    /// Records an opinion's score for the indicators it refers to (see the module doc).
    fn opinion(&mut self, obj: &Map<String, Value>, at: Location, out: &mut dyn Collector) {
        let score = match obj.get("opinion").and_then(Value::as_str) {
            Some("strongly-disagree") => 0,
            Some("disagree") => 25,
            Some("neutral") => 50,
            Some("agree") => 75,
            Some("strongly-agree") => 100,
            _ => {
                out.reject(at, "invalid property opinion", &snippet_map(obj));
                return;
            }
        };
        let stamp = ["modified", "created"]
            .iter()
            .find_map(|k| obj.get(*k)?.as_str().and_then(timestamp));
        let Some(stamp) = stamp else {
            out.reject(at, "invalid timestamp", "opinion without a valid modified");
            return;
        };
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            out.reject(at, "missing required property id", "");
            return;
        };
        let revoked = obj.get("revoked") == Some(&Value::Bool(true));
        let refs: Vec<String> = obj
            .get("object_refs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|r| r.starts_with("indicator--"))
            .map(str::to_string)
            .collect();
        match self.opinions.get(id) {
            // A revoked opinion stays revoked; otherwise the newest version wins.
            Some((_, None, _)) => {}
            Some((t, _, _)) if stamp <= *t && !revoked => {}
            _ => {
                let score = (!revoked).then_some(score);
                self.opinions.insert(id.to_string(), (stamp, score, refs));
            }
        }
    }

    /// Records the TLP of a marking definition, unless its id is one of the fixed nine.
    fn marking(&mut self, obj: &Map<String, Value>) {
        let Some(id) = obj.get("id").and_then(Value::as_str) else {
            return;
        };
        if tlp_for_marking_id(id).is_some() {
            return;
        }
        let tlp_1 = (obj.get("definition_type").and_then(Value::as_str) == Some("tlp"))
            .then(|| obj.get("definition")?.get("tlp")?.as_str())
            .flatten();
        let tlp_2 = || {
            obj.get("extensions")?
                .as_object()?
                .values()
                .find_map(|ext| ext.get("tlp_2_0")?.as_str())
        };
        if let Some(tlp) = tlp_1.or_else(tlp_2).and_then(Tlp::parse) {
            self.markings.insert(id.to_string(), tlp);
        }
    }
}

/// Canonicalises a key, and checks the IP family a path promised: an `ipv4-addr` value must be
/// IPv4, an `ipv6-addr` value IPv6 (an IPv4-mapped IPv6 value, stored as IPv4, is fine).
fn canonical(kind: Kind, raw: &str) -> Result<Normalized, Reject> {
    let n = normalize::value(kind, raw)?;
    let family_ok = match (kind, n.value.kind()) {
        (Kind::Ipv4, Kind::Ipv6) => false,
        (Kind::Ipv6, Kind::Ipv4) => raw.contains(':'),
        _ => true,
    };
    if family_ok {
        Ok(n)
    } else {
        Err(Reject::KindMismatch)
    }
}

/// `object_marking_refs`, plus the `granular_markings` whose selectors cover what we match.
fn marking_refs(obj: &Map<String, Value>, covers: impl Fn(&str) -> bool) -> Vec<String> {
    let mut refs: Vec<String> = match obj.get("object_marking_refs") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Array(granular)) = obj.get("granular_markings") {
        for g in granular {
            let applies = g
                .get("selectors")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().filter_map(Value::as_str).any(&covers));
            if let (true, Some(r)) = (applies, g.get("marking_ref").and_then(Value::as_str)) {
                refs.push(r.to_string());
            }
        }
    }
    refs
}

/// The most restrictive TLP among the references, from the fixed ids or marking objects seen.
fn resolve_tlp(refs: &[String], markings: &HashMap<String, Tlp>) -> Option<Tlp> {
    refs.iter()
        .filter_map(|r| tlp_for_marking_id(r).or_else(|| markings.get(r).copied()))
        .max()
}

/// An RFC 3339 timestamp (STIX writes `…Z`, with or without fractional seconds).
fn timestamp(text: &str) -> Option<Stamp> {
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some((t.timestamp(), t.timestamp_subsec_nanos()))
}

/// A short rendering of a JSON value for a report.
fn snippet(v: &Value) -> String {
    truncate(v.to_string())
}

fn snippet_map(obj: &Map<String, Value>) -> String {
    truncate(Value::Object(obj.clone()).to_string())
}

fn truncate(mut s: String) -> String {
    const MAX: usize = 120;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Streaming: a serde visitor over the top-level value that hands each object to the ingest.

/// What the visitors carry: the ingest, the file, the feed options and the collector.
struct Ctx<'a> {
    ingest: &'a mut StixIngest,
    file: &'a Arc<str>,
    opts: &'a FeedOptions,
    out: &'a mut dyn Collector,
    /// Index of the next element, for objects without an id.
    position: usize,
}

/// The per-object view of [`Ctx`] handed to [`StixIngest`].
struct ObjCtx<'a> {
    file: &'a Arc<str>,
    opts: &'a FeedOptions,
    position: usize,
}

impl ObjCtx<'_> {
    fn loc(&self, id: &str) -> Location {
        Location::Object {
            file: self.file.clone(),
            id: id.to_string(),
        }
    }

    fn position_loc(&self) -> Location {
        self.loc(&format!("objects[{}]", self.position))
    }
}

impl Ctx<'_> {
    fn handle(&mut self, v: Value) {
        let oc = ObjCtx {
            file: self.file,
            opts: self.opts,
            position: self.position,
        };
        self.position += 1;
        self.ingest.object(v, &oc, &mut *self.out);
    }

    fn not_stix(&mut self) {
        self.out.reject(
            Location::File {
                file: self.file.clone(),
            },
            "not a STIX bundle, envelope or object",
            "top-level JSON value is not an object or array",
        );
    }

    /// Handles each element of an array as it is parsed; none is kept.
    fn stream<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.handle(v);
        }
        Ok(())
    }
}

/// The top-level value: an array of objects, or an object (bundle, envelope or single object).
struct Document<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle, TAXII envelope, array of objects or object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.stream(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Small properties (type, id, more, next, …) are kept in case this is a single object;
        // an `objects` array is streamed and marks the document as a bundle or envelope.
        let mut rest = Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "objects" {
                match map.next_value_seed(Objects(&mut *self.0))? {
                    Some(v) => {
                        rest.insert(key, v);
                    }
                    None => streamed = true,
                }
            } else {
                let v: Value = map.next_value()?;
                rest.insert(key, v);
            }
        }
        if !streamed {
            self.0.handle(Value::Object(rest));
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.not_stix();
        Ok(())
    }
}

/// The value of an `objects` key: an array is streamed (`None`); anything else (STIX 2.0
/// `observed-data` has an `objects` map) is returned whole as part of a single object.
struct Objects<'c, 'a>(&'c mut Ctx<'a>);

impl<'de> DeserializeSeed<'de> for Objects<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Objects<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        self.0.stream(seq).map(|()| None)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::collect::VecCollector;
    use crate::indicators::stix_id::{TLP_MARKINGS, marking_for_tlp};

    fn run(docs: &[&str]) -> VecCollector {
        let mut ingest = StixIngest::new(true);
        let mut out = VecCollector::default();
        for (i, doc) in docs.iter().enumerate() {
            ingest
                .read(
                    doc.as_bytes(),
                    &format!("f{i}.json"),
                    &FeedOptions::source("t"),
                    &mut out,
                )
                .unwrap();
        }
        ingest.finish(&mut out);
        out
    }

    fn indicator(id: &str, modified: &str, pattern: &str) -> String {
        format!(
            r#"{{"type":"indicator","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00Z",
            "modified":"{modified}","valid_from":"2020-01-01T00:00:00Z","pattern_type":"stix",
            "pattern":"{pattern}"}}"#
        )
    }

    fn opinion(id: &str, modified: &str, value: &str, refs: &[&str], revoked: bool) -> String {
        let refs: Vec<String> = refs.iter().map(|r| format!("\"{r}\"")).collect();
        format!(
            r#"{{"type":"opinion","spec_version":"2.1","id":"{id}","created":"2020-01-01T00:00:00Z",
            "modified":"{modified}","opinion":"{value}","object_refs":[{}],"revoked":{revoked}}}"#,
            refs.join(",")
        )
    }

    fn scores(out: &VecCollector) -> Vec<(String, Option<u8>)> {
        let mut v: Vec<(String, Option<u8>)> = out
            .accepted
            .iter()
            .map(|(n, m, _)| (n.value.to_string(), m.score))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn opinions_score_the_indicators_they_refer_to_across_versions_and_files() {
        let a = "indicator--0000000a-0000-4000-8000-000000000000";
        let b = "indicator--0000000b-0000-4000-8000-000000000000";
        let c = "indicator--0000000c-0000-4000-8000-000000000000";
        let with_confidence = |id: &str, modified: &str, name: &str| {
            indicator(id, modified, &format!("[domain-name:value = '{name}']"))
                .replace("\"pattern_type\"", "\"confidence\":90,\"pattern_type\"")
        };
        let o1 = "opinion--00000001-0000-4000-8000-000000000000";
        let o2 = "opinion--00000002-0000-4000-8000-000000000000";
        // File 0: the opinions come first; file 1: the indicators, `a` in a second version.
        let opinions = format!(
            "[{},{},{}]",
            opinion(o1, "2020-01-02T00:00:00Z", "disagree", &[a, b], false),
            opinion(o2, "2020-01-03T00:00:00Z", "strongly-agree", &[b], false),
            opinion(o2, "2020-01-01T00:00:00Z", "neutral", &[b], false),
        );
        let indicators = format!(
            "[{},{},{},{}]",
            with_confidence(a, "2020-01-01T00:00:00Z", "a.example"),
            with_confidence(a, "2020-02-01T00:00:00Z", "a2.example"),
            with_confidence(b, "2020-01-01T00:00:00Z", "b.example"),
            with_confidence(c, "2020-01-01T00:00:00Z", "c.example"),
        );
        let out = run(&[&opinions, &indicators]);
        assert_eq!(
            scores(&out),
            [
                ("a2.example".to_string(), Some(25)),
                ("b.example".to_string(), Some(100)),
                ("c.example".to_string(), Some(90)),
            ],
            "the newest opinion wins over confidence, on the indicator's newest version"
        );

        // The newer opinion on `b` is revoked: the older one stands again; a bad value is a
        // reject.
        let revoked = format!(
            "[{},{}]",
            opinion(o2, "2020-01-04T00:00:00Z", "strongly-agree", &[b], true),
            opinion(o1, "2020-01-05T00:00:00Z", "maybe", &[a], false),
        );
        let out = run(&[&opinions, &indicators, &revoked]);
        assert_eq!(scores(&out)[1], ("b.example".to_string(), Some(25)));
        assert!(
            out.rejected
                .iter()
                .any(|(_, reason, _)| reason == "invalid property opinion")
        );
    }

    #[test]
    fn the_nine_tlp_ids() {
        assert_eq!(
            tlp_for_marking_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        assert_eq!(
            tlp_for_marking_id("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(
            tlp_for_marking_id("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ec"),
            None
        );
        let levels: Vec<Tlp> = TLP_MARKINGS.iter().map(|&(_, t)| t).collect();
        assert_eq!(levels.iter().filter(|&&t| t == Tlp::Red).count(), 2);
        for tlp in [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ] {
            assert_eq!(tlp_for_marking_id(marking_for_tlp(tlp)), Some(tlp));
        }
    }

    #[test]
    fn fractional_modified_compares_as_time_not_text() {
        // "…00.5Z" sorts before "…00Z" as text but is later in time.
        let a = indicator(
            "indicator--a",
            "2020-01-01T00:00:00Z",
            "[domain-name:value = 'old.example']",
        );
        let b = indicator(
            "indicator--a",
            "2020-01-01T00:00:00.5Z",
            "[domain-name:value = 'new.example']",
        );
        let out = run(&[&format!("[{a},{b}]")]);
        assert_eq!(out.accepted.len(), 1);
        assert_eq!(out.accepted[0].0.value.to_string(), "new.example");
        assert_eq!(out.dropped.len(), 1);
    }

    #[test]
    fn sub_second_window_stays_non_empty() {
        let doc = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--w",
            "modified":"2020-01-01T00:00:00Z","valid_from":"2020-01-01T00:00:00.2Z",
            "valid_until":"2020-01-01T00:00:00.7Z","pattern_type":"stix",
            "pattern":"[domain-name:value = 'w.example']"}"#;
        let out = run(&[doc]);
        let meta = &out.accepted[0].1;
        assert_eq!(
            (meta.valid_from, meta.valid_until),
            (Some(1577836800), Some(1577836801))
        );
    }

    #[test]
    fn scalar_top_level_is_not_stix() {
        let out = run(&["42"]);
        assert_eq!(out.rejected.len(), 1);
        assert_eq!(out.rejected[0].1, "not a STIX bundle, envelope or object");
    }

    #[test]
    fn family_mismatch_is_rejected() {
        assert_eq!(
            canonical(Kind::Ipv4, "2001:db8::1"),
            Err(Reject::KindMismatch)
        );
        assert_eq!(
            canonical(Kind::Ipv6, "198.51.100.1"),
            Err(Reject::KindMismatch)
        );
        assert_eq!(
            canonical(Kind::Ipv6, "::ffff:198.51.100.1").map(|n| n.value.kind()),
            Ok(Kind::Ipv4)
        );
    }
}
