//! MISP events: the JSON of one event (`{"Event": {…}}`, as MISP feeds serve `<uuid>.json`),
//! a REST search result (`{"response": [{"Event": …}, …]}`, `{"response": {"Attribute": […]}}`
//! or `{"response": [{"Object": …}, …]}`), or a bare event object.
//!
//! Every attribute — of the event and of its objects — whose type names an indicator trawl
//! matches becomes one (two for `domain|ip`). The values are those misp-stix puts in the STIX
//! pattern it writes for the attribute (`MISP/misp-stix`, `documentation/mapping/
//! misp_attributes_to_stix21.json`; `tests/misp.rs` checks this against that file):
//!
//! | MISP type | trawl kind | misp-stix pattern |
//! |---|---|---|
//! | `ip-src`, `ip-dst` | IPv4/IPv6 address or CIDR (family from the value) | `network-traffic:{src,dst}_ref.value` |
//! | `ip-src\|port`, `ip-dst\|port` | the address; the port is dropped | `… AND network-traffic:{src,dst}_port` |
//! | `domain`, `hostname` | domain | `domain-name:value` |
//! | `hostname\|port` | the domain; the port is dropped | `domain-name:value AND network-traffic:dst_port` |
//! | `domain\|ip` | the domain and the address (IPv4 or IPv6) | `domain-name:value AND domain-name:resolves_to_refs[*].value` |
//! | `url` | URL (a schemeless one matches as a substring) | `url:value` |
//! | `uri` | URL when it has a scheme, else an HTTP-request literal (a path) | `url:value` |
//! | `user-agent` | HTTP-request literal | `…'http-request-ext'.request_header.'User-Agent'` |
//! | `email`, `email-src`, `email-dst`, `email-reply-to` | email | `email-addr:value`, `email-message:from_ref.value`, `…to_refs[*].value`, `…reply_to` |
//! | `md5`, `sha1`, `sha256`, `sha512` | hash | `file:hashes.…` |
//! | `filename\|md5`, `filename\|sha1`, `filename\|sha256`, `filename\|sha512`, `malware-sample` (`filename\|md5`) | the hash; the file name is dropped | `file:name AND file:hashes.…` |
//!
//! A composite value (`a|b`) must hold exactly one `|` with something on both sides, as MISP
//! itself requires (`Attribute::validComposite`) and misp-stix assumes (`value.split('|')`
//! into two names); a port must be a number from 0 to 65535. Anything else rejects the whole
//! attribute, never half of it. IPv6 addresses need no special care: MISP's separator is `|`.
//!
//! Only attributes with `to_ids` set are taken, as MISP intends for detection and as misp-stix
//! writes indicators only for them, unless the feed says otherwise
//! ([`FeedOptions::all_attributes`]); deleted attributes, and every attribute of a deleted
//! object, never. Other types (`text`, `filename`, `regkey`, `link`, `AS`, `sha224`, `ssdeep`,
//! `x509-fingerprint-*`, …) are context or have no trawl kind, counted as dropped by type.
//! The TLP comes from a `tlp:*` tag of the attribute, else of the event; the score from the
//! event's threat level (1 high: 90, 2 medium: 60, 3 low: 30, 4 undefined: none), and the
//! other tags of the event and of the attribute become labels, the event's `info` the
//! description. The provenance id is the attribute's uuid (what a MISP sighting refers to).
//! `distribution` (who may see the data inside MISP) does not change matching and is not read.

use std::io::Read;
use std::sync::Arc;

use serde_json::Value as Json;

use super::FeedOptions;
use crate::indicators::collect::{Collector, Location};
use crate::indicators::model::{Kind, Meta, Tlp};
use crate::indicators::normalize;

/// Reads one MISP JSON document into `out`. A document that is not JSON, or JSON that holds
/// no event, is one rejected item naming the file; nothing else stops reading.
pub fn read(
    mut reader: impl Read,
    file: &Arc<str>,
    opts: &FeedOptions,
    out: &mut impl Collector,
) -> std::io::Result<()> {
    // The document is parsed whole anyway: read it in one go (`from_reader` on an unbuffered
    // file makes a system call per byte).
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let doc: Json = match serde_json::from_slice(&bytes) {
        Ok(d) => d,
        Err(e) => {
            let at = Location::File { file: file.clone() };
            out.reject(at, "malformed JSON", &e.to_string());
            return Ok(());
        }
    };
    let events: Vec<&Json> = match &doc {
        Json::Object(o) if o.contains_key("Event") => vec![&o["Event"]],
        Json::Object(o) if o.contains_key("response") => match &o["response"] {
            Json::Array(a) => a.iter().map(|e| e.get("Event").unwrap_or(e)).collect(),
            one => vec![one.get("Event").unwrap_or(one)],
        },
        Json::Object(o) if o.contains_key("Attribute") || o.contains_key("Object") => vec![&doc],
        Json::Array(a) => a.iter().map(|e| e.get("Event").unwrap_or(e)).collect(),
        _ => {
            let at = Location::File { file: file.clone() };
            out.reject(
                at,
                "not a MISP event",
                "no Event, response or Attribute key",
            );
            return Ok(());
        }
    };
    for (i, event) in events.into_iter().enumerate() {
        read_event(event, i, file, opts, out);
    }
    Ok(())
}

/// The tag names of an event or attribute (`Tag: [{name}]`).
fn tags(o: &Json) -> impl Iterator<Item = &str> {
    o.get("Tag")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("name").and_then(Json::as_str))
}

/// A MISP boolean: `true`, `"1"`, `1`, `"true"`.
fn flag(v: Option<&Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::Number(n)) => n.as_u64() == Some(1),
        Some(Json::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn read_event(
    event: &Json,
    index: usize,
    file: &Arc<str>,
    opts: &FeedOptions,
    out: &mut impl Collector,
) {
    let event_id = event
        .get("uuid")
        .and_then(Json::as_str)
        .map_or_else(|| format!("Event[{index}]"), |u| format!("event {u}"));
    if !event.is_object() {
        out.reject(
            Location::Object {
                file: file.clone(),
                id: event_id,
            },
            "not a MISP event",
            "not an object",
        );
        return;
    }
    let mut base = opts.meta();
    base.tlp = tags(event).find_map(Tlp::parse).or(opts.tlp);
    base.score = match event.get("threat_level_id").and_then(|t| {
        t.as_str()
            .and_then(|s| s.parse::<u8>().ok())
            .or_else(|| t.as_u64().map(|n| n as u8))
    }) {
        Some(1) => Some(90),
        Some(2) => Some(60),
        Some(3) => Some(30),
        _ => opts.score,
    };
    base.labels = tags(event)
        .filter(|t| Tlp::parse(t).is_none())
        .map(str::to_string)
        .collect();
    base.description = event.get("info").and_then(Json::as_str).map(str::to_string);
    // `Object` is a list in an event; a REST search on objects gives one object per element.
    let objects = match event.get("Object") {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(one @ Json::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let attributes = event
        .get("Attribute")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .map(|a| (a, false))
        .chain(objects.into_iter().flat_map(|o| {
            let deleted = flag(o.get("deleted"));
            o.get("Attribute")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .map(move |a| (a, deleted))
        }));
    for (i, (attr, object_deleted)) in attributes.enumerate() {
        let id = attr.get("uuid").and_then(Json::as_str).map_or_else(
            || format!("{event_id} Attribute[{i}]"),
            |u| format!("attribute {u}"),
        );
        let at = Location::Object {
            file: file.clone(),
            id,
        };
        let (Some(ty), Some(value)) = (
            attr.get("type").and_then(Json::as_str),
            attr.get("value").and_then(Json::as_str),
        ) else {
            out.reject(at, "MISP attribute without type or value", "");
            continue;
        };
        if flag(attr.get("deleted")) {
            out.dropped(at, "deleted attribute");
            continue;
        }
        if object_deleted {
            out.dropped(at, "attribute of a deleted object");
            continue;
        }
        let parts = match indicator_parts(ty, value) {
            None => {
                out.dropped(at, "MISP attribute type without an indicator kind");
                continue;
            }
            Some(_) if !opts.all_attributes && !flag(attr.get("to_ids")) => {
                out.dropped(at, "to_ids not set");
                continue;
            }
            Some(Err(why)) => {
                out.reject(at, why, value);
                continue;
            }
            Some(Ok(parts)) => parts,
        };
        let mut meta: Meta = base.clone();
        meta.id = attr.get("uuid").and_then(Json::as_str).map(str::to_string);
        for t in tags(attr) {
            match Tlp::parse(t) {
                Some(tlp) => meta.tlp = Some(tlp),
                None if !meta.labels.iter().any(|l| l == t) => meta.labels.push(t.to_string()),
                None => {}
            }
        }
        for (kind, raw) in parts {
            match normalize::value(kind, raw) {
                Ok(n) => out.accept(n, &meta, &at),
                Err(e) => out.reject(at.clone(), e.reason(), raw),
            }
        }
    }
}

/// Why a composite value is refused (stable report phrases).
const BAD_COMPOSITE: &str =
    "malformed MISP composite value (want exactly one '|' between two values)";
const BAD_PORT: &str = "malformed MISP composite value (port not a number from 0 to 65535)";

/// The two halves of a composite value (`a|b`): exactly one `|`, neither side blank.
fn halves(value: &str) -> Result<(&str, &str), &'static str> {
    match value.split_once('|') {
        Some((a, b)) if !b.contains('|') && !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a, b))
        }
        _ => Err(BAD_COMPOSITE),
    }
}

/// The address or host half of `x|port`, once the port half is a port number.
fn without_port(value: &str) -> Result<&str, &'static str> {
    let (host, port) = halves(value)?;
    match port.trim().parse::<u16>() {
        Ok(_) => Ok(host),
        Err(_) => Err(BAD_PORT),
    }
}

/// The indicator values of one attribute: a kind and the raw text of each.
type Parts<'v> = Vec<(Kind, &'v str)>;

/// The indicator values of an attribute of type `ty`. `None`: the type has no indicator kind;
/// `Some(Err)`: a composite value that is not `a|b` (or whose port is no port). Addresses are
/// given as [`Kind::Ipv4`]; [`normalize::value`] takes the family from the value.
fn indicator_parts<'v>(ty: &str, value: &'v str) -> Option<Result<Parts<'v>, &'static str>> {
    use Kind::*;
    let one = |kind: Kind| Ok(vec![(kind, value)]);
    let hash_of = |kind: Kind| halves(value).map(|(_file, digest)| vec![(kind, digest)]);
    let with_port = |kind: Kind| without_port(value).map(|host| vec![(kind, host)]);
    Some(match ty {
        "ip-src" | "ip-dst" => one(Ipv4),
        "ip-src|port" | "ip-dst|port" => with_port(Ipv4),
        "domain" | "hostname" => one(Domain),
        "hostname|port" => with_port(Domain),
        "domain|ip" => halves(value).map(|(domain, ip)| vec![(Domain, domain), (Ipv4, ip)]),
        "url" => one(Url),
        "uri" if value.contains("://") => one(Url),
        "uri" | "user-agent" => one(HttpRequest),
        "email" | "email-src" | "email-dst" | "email-reply-to" => one(Email),
        "md5" => one(Md5),
        "sha1" => one(Sha1),
        "sha256" => one(Sha256),
        "sha512" => one(Sha512),
        "filename|md5" | "malware-sample" => hash_of(Md5),
        "filename|sha1" => hash_of(Sha1),
        "filename|sha256" => hash_of(Sha256),
        "filename|sha512" => hash_of(Sha512),
        "x509-fingerprint-md5" => one(X509Md5),
        "x509-fingerprint-sha1" => one(X509Sha1),
        "x509-fingerprint-sha256" => one(X509Sha256),
        "ja3-fingerprint-md5" => one(Ja3),
        _ => return None,
    })
}
