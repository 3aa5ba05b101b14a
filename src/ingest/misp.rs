//! MISP events: the JSON of one event (`{"Event": {…}}`, as MISP feeds serve `<uuid>.json`),
//! a REST search result (`{"response": [{"Event": …}, …]}`), or a bare event object.
//!
//! Every attribute — of the event and of its objects — whose type names an indicator trawl
//! matches becomes one (two for `domain|ip`):
//!
//! | MISP type | trawl kind |
//! |---|---|
//! | `ip-src`, `ip-dst`, and their `|port` forms (the port dropped) | IPv4/IPv6 address or CIDR |
//! | `domain`, `hostname`, `hostname|port`, `domain|ip` (both halves) | domain (and address) |
//! | `url` | URL (a schemeless one becomes a substring literal) |
//! | `uri` | HTTP-request literal |
//! | `email`, `email-src`, `email-dst`, `email-reply-to` | email |
//! | `md5`, `sha1`, `sha256`, `sha512`, `filename|<hash>` | hash |
//!
//! Only attributes with `to_ids` set are taken, as MISP intends for detection, unless the
//! feed says otherwise ([`FeedOptions::all_attributes`]); deleted attributes never. Other
//! types (`text`, `filename`, `regkey`, `link`, …) are context, counted as dropped by type.
//! The TLP comes from a `tlp:*` tag of the attribute, else of the event; the score from the
//! event's threat level (1 high: 90, 2 medium: 60, 3 low: 30, 4 undefined: none), and the
//! event's other tags become labels, its `info` the description. The provenance id is the
//! attribute's uuid (what a MISP sighting refers to).

use std::io::Read;
use std::sync::Arc;

use serde_json::Value as Json;

use super::{Collector, FeedOptions, Location};
use crate::indicator::{Kind, Meta, Tlp};
use crate::normalize;

/// Reads one MISP JSON document into `out`. A document that is not JSON, or JSON that holds
/// no event, is one rejected item naming the file; nothing else stops reading.
pub fn read(
    reader: impl Read,
    file: &Arc<str>,
    opts: &FeedOptions,
    out: &mut impl Collector,
) -> std::io::Result<()> {
    let doc: Json = match serde_json::from_reader(reader) {
        Ok(d) => d,
        Err(e) if e.is_io() => return Err(e.into()),
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
    let objects = event
        .get("Object")
        .and_then(Json::as_array)
        .into_iter()
        .flatten();
    let attributes = event
        .get("Attribute")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .chain(objects.flat_map(|o| {
            o.get("Attribute")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
        }));
    for (i, attr) in attributes.enumerate() {
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
        let Some(parts) = indicator_parts(ty, value) else {
            out.dropped(at, "MISP attribute type without an indicator kind");
            continue;
        };
        if !opts.all_attributes && !flag(attr.get("to_ids")) {
            out.dropped(at, "to_ids not set");
            continue;
        }
        let mut meta: Meta = base.clone();
        meta.id = attr.get("uuid").and_then(Json::as_str).map(str::to_string);
        if let Some(t) = tags(attr).find_map(Tlp::parse) {
            meta.tlp = Some(t);
        }
        for (kind, raw) in parts {
            let parsed = match kind {
                Some(k) => normalize::value(k, raw),
                None => normalize::detect(raw),
            };
            match parsed {
                Ok(n) => out.accept(n, &meta, &at),
                Err(e) => out.reject(at.clone(), e.reason(), raw),
            }
        }
    }
}

/// The indicator values of an attribute of type `ty`: a kind (`None`: recognise it, as for
/// addresses and URLs whose form decides) and the raw text.
fn indicator_parts<'v>(ty: &str, value: &'v str) -> Option<Vec<(Option<Kind>, &'v str)>> {
    let first = |v: &'v str| v.split('|').next().unwrap_or(v);
    let second = |v: &'v str| v.split_once('|').map_or("", |(_, b)| b);
    Some(match ty {
        "ip-src" | "ip-dst" => vec![(Some(Kind::Ipv4), value)],
        "ip-src|port" | "ip-dst|port" => vec![(Some(Kind::Ipv4), first(value))],
        "domain" | "hostname" => vec![(Some(Kind::Domain), value)],
        "hostname|port" => vec![(Some(Kind::Domain), first(value))],
        "domain|ip" => vec![
            (Some(Kind::Domain), first(value)),
            (Some(Kind::Ipv4), second(value)),
        ],
        "url" => vec![(None, value)],
        "uri" => vec![(Some(Kind::HttpRequest), value)],
        "email" | "email-src" | "email-dst" | "email-reply-to" => vec![(Some(Kind::Email), value)],
        "md5" => vec![(Some(Kind::Md5), value)],
        "sha1" => vec![(Some(Kind::Sha1), value)],
        "sha256" => vec![(Some(Kind::Sha256), value)],
        "sha512" => vec![(Some(Kind::Sha512), value)],
        "filename|md5" => vec![(Some(Kind::Md5), second(value))],
        "filename|sha1" => vec![(Some(Kind::Sha1), second(value))],
        "filename|sha256" => vec![(Some(Kind::Sha256), second(value))],
        "filename|sha512" => vec![(Some(Kind::Sha512), second(value))],
        _ => return None,
    })
}
