//! The ECS renderer: one JSON document per hit, valid against the Elastic Common Schema, with
//! one `threat.enrichments[]` entry per source of the indicator.
//!
//! Every field is an ECS field holding a value of its ECS type, except those under trawl's
//! custom namespace `trawl`: `trawl.*` at the top of a document (where the hit was found in
//! a capture or log, the set generation, the indicator's kind and value) and
//! `threat.enrichments[].trawl.*` in each enrichment (what ECS has no field for: the source's
//! STIX ids, score, labels and validity end, trawl's kind). The enrichment objects are built
//! by [`enrichments`] alone, so they are the same bytes in packet hits, log hits, enriched
//! records and `lookup --json`. `tools/elasticsearch/` holds the index template.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::{Hit, HitSink, ObservedIn, Origin, Seen, SetRef, SetVersion};
use crate::Kind;
use crate::indicators::model::{rfc3339, unix_now};
use crate::indicators::read::{IndicatorRef, IndicatorSet, Match, Provenance};

/// Who saw the hits: written as `observer.name` and `observer.hostname`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sensor {
    /// The sensor's name (`--sensor`; by default the host name).
    pub name: String,
    /// The host name of the machine trawl runs on.
    pub hostname: String,
}

/// Writes hits as ECS JSON Lines to any writer.
pub struct EcsJsonLines<W: Write> {
    out: W,
    sensor: Sensor,
}

impl<W: Write> EcsJsonLines<W> {
    /// A sink writing to `out` (wrap files in a `BufWriter`), naming `sensor` as the observer.
    pub fn new(out: W, sensor: Sensor) -> Self {
        EcsJsonLines { out, sensor }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// An address indicator's value as an ECS `ip`: the bare address of a host (`/32`, `/128` or
/// no prefix); `None` for a network, which ECS's `ip` type cannot hold.
fn bare_ip(value: &str) -> Option<IpAddr> {
    let (addr, prefix) = value.split_once('/').unwrap_or((value, ""));
    let ip: IpAddr = addr.parse().ok()?;
    let host = match ip {
        IpAddr::V4(_) => "32",
        IpAddr::V6(_) => "128",
    };
    (prefix.is_empty() || prefix == host).then_some(ip)
}

/// The ECS `threat.indicator` object of one source, and trawl's own fields of it.
fn indicator_json(kind: Kind, value: &str, p: &Provenance<'_>) -> (Json, Json) {
    let mut ind = Map::new();
    ind.insert("type".into(), json!(kind.sco_type()));
    ind.insert("name".into(), json!(value));
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => {
            if let Some(ip) = bare_ip(value) {
                ind.insert("ip".into(), json!(ip.to_string()));
            }
        }
        Kind::Domain => {
            ind.insert("url".into(), json!({ "domain": value }));
        }
        Kind::Url | Kind::HttpRequest => {
            ind.insert("url".into(), json!({ "original": value }));
        }
        Kind::Email => {
            ind.insert("email".into(), json!({ "address": value }));
        }
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
            ind.insert("file".into(), json!({ "hash": { kind.name(): value } }));
        }
    }
    ind.insert("provider".into(), json!(p.source));
    if let Some(score) = p.score {
        ind.insert("confidence".into(), json!(confidence_label(score)));
    }
    if let Some(tlp) = p.tlp {
        ind.insert(
            "marking".into(),
            json!({ "tlp": tlp.name().to_uppercase() }),
        );
    }
    if let Some(d) = p.description {
        ind.insert("description".into(), json!(d));
    }
    let mut own = Map::new();
    own.insert(
        "indicator".into(),
        json!({ "type": kind.name(), "value": value }),
    );
    if let Some(id) = p.id {
        own.insert("id".into(), json!([id]));
    }
    if let Some(score) = p.score {
        own.insert("score".into(), json!(score));
    }
    let labels: Vec<&str> = p.labels().collect();
    if !labels.is_empty() {
        own.insert("labels".into(), json!(labels));
    }
    if let Some(t) = p.valid_until {
        own.insert("valid_until".into(), json!(rfc3339(t, 0)));
    }
    (Json::Object(ind), Json::Object(own))
}

/// ECS `threat.indicator.confidence` is a label; STIX 2.1 Appendix A maps 0–100 onto it.
fn confidence_label(score: u8) -> &'static str {
    match score {
        0 => "None",
        1..=29 => "Low",
        30..=69 => "Medium",
        _ => "High",
    }
}

/// Appends the `threat.enrichments[]` objects of one match to `out`: one per source of the
/// indicator, each with what was matched (`matched.atomic`: `observed`; `matched.field`:
/// `field`, none for a lookup). The only place enrichments are built: hit documents,
/// `--enrich` records and `lookup --json` all take them from here.
pub fn enrichments<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    m: &Match,
    observed: &str,
    field: Option<&str>,
    out: &mut Vec<Json>,
) {
    if let Some(ind) = set.indicator(m.indicator) {
        let kind = ind.kind().unwrap_or(m.kind);
        push_enrichments(&ind, kind, &ind.value(), observed, field, out);
    }
}

/// [`enrichments`] of an indicator already resolved (its kind and value read once per hit).
fn push_enrichments(
    ind: &IndicatorRef<'_>,
    kind: Kind,
    value: &str,
    observed: &str,
    field: Option<&str>,
    out: &mut Vec<Json>,
) {
    for p in ind.provenance() {
        let mut matched = Map::new();
        matched.insert("atomic".into(), json!(observed));
        if let Some(f) = field {
            matched.insert("field".into(), json!(f));
        }
        matched.insert("type".into(), json!("indicator_match_rule"));
        let (indicator, own) = indicator_json(kind, value, &p);
        out.push(json!({ "indicator": indicator, "matched": matched, "trawl": own }));
    }
}

/// Sets the dotted ECS field `path` of `doc` to `value` (objects created on the way).
fn set_path(doc: &mut Json, path: &str, value: Json) {
    let mut at = doc;
    for key in path.split('.') {
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .expect("made an object above")
            .entry(key)
            .or_insert(Json::Null);
    }
    *at = value;
}

/// The observed value in its ECS field, so that the hit can be pivoted on: the traffic field
/// it was seen in, and `related.ip`/`related.hosts`/`related.hash` by the indicator's kind.
fn observed_fields(doc: &mut Json, kind: Kind, observed: &str, field: &ObservedIn) {
    if let ObservedIn::Packet(f) = field {
        use crate::indicators::field::Field;
        match f {
            // Already there as the flow's addresses.
            Field::SourceIp | Field::DestinationIp => {}
            // `dns.answers` is an array of objects.
            Field::DnsAnswerIp => doc["dns"] = json!({ "answers": [{ "data": observed }] }),
            Field::DnsAnswerName => doc["dns"] = json!({ "answers": [{ "name": observed }] }),
            Field::SmtpMailFrom | Field::SmtpRcptTo => set_path(doc, f.ecs(), json!([observed])),
            _ => set_path(doc, f.ecs(), json!(observed)),
        }
    }
    let related = match kind {
        Kind::Ipv4 | Kind::Ipv6 => observed.parse::<IpAddr>().is_ok().then_some("ip"),
        Kind::Domain => Some("hosts"),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => Some("hash"),
        Kind::Url | Kind::HttpRequest | Kind::Email => None,
    };
    if let Some(r) = related {
        doc["related"] = json!({ r: [observed] });
    }
}

/// The whole ECS document of one hit, seen by `sensor`.
pub fn document<S: SetRef>(h: &Hit<S>, sensor: &Sensor) -> Json {
    // The indicator's kind and value as the set states them (the match's kind if the record
    // is out of reach: a damaged set).
    let mut list = Vec::new();
    let (kind, value) = match h.set.indicators().indicator(h.matched.indicator) {
        Some(ind) => {
            let kind = ind.kind().unwrap_or(h.matched.kind);
            let value = ind.value();
            let field = h.field.name();
            push_enrichments(&ind, kind, &value, &h.observed, field, &mut list);
            (kind, value)
        }
        None => (h.matched.kind, String::new()),
    };
    let mut doc = json!({
        "observer": { "name": sensor.name, "hostname": sensor.hostname },
        "threat": { "enrichments": list },
        "trawl": { "indicator": { "type": kind.name(), "value": value } },
    });
    if let Some(g) = h.set.generation() {
        doc["trawl"]["set_generation"] = json!(g);
    }
    match &h.seen {
        Seen::Packet {
            ts,
            origin,
            flow: f,
            vlans,
        } => {
            doc["@timestamp"] = json!(rfc3339(ts.0, ts.1));
            doc["event"] = json!({
                "kind": "alert",
                "category": ["network", "threat"],
                "type": ["indicator"],
                "dataset": "trawl.packet",
            });
            doc["source"] = json!({ "ip": f.src.to_string() });
            doc["destination"] = json!({ "ip": f.dst.to_string() });
            if let Some(p) = f.src_port {
                doc["source"]["port"] = json!(p);
            }
            if let Some(p) = f.dst_port {
                doc["destination"]["port"] = json!(p);
            }
            doc["network"] = json!({ "iana_number": f.transport.ip_number().to_string() });
            if let Some(t) = f.transport.name() {
                doc["network"]["transport"] = json!(t);
            }
            if vlans[0] != 0 {
                doc["network"]["vlan"] = json!({ "id": vlans[0].to_string() });
                if vlans[1] != 0 {
                    doc["network"]["inner"] = json!({ "vlan": { "id": vlans[1].to_string() } });
                }
            }
            match origin {
                Origin::File { file, frame } => {
                    doc["trawl"]["pcap"] = json!({ "file": &**file, "frame": frame });
                }
                Origin::Interface(name) => {
                    doc["observer"]["ingress"] = json!({ "interface": { "name": &**name } });
                }
            }
        }
        Seen::Log {
            file,
            line,
            offset,
            span,
            time,
        } => {
            let now = rfc3339(unix_now(), 0);
            doc["@timestamp"] = json!(time.map_or_else(|| now.clone(), |t| rfc3339(t.0, t.1)));
            doc["event"] = json!({
                "kind": "alert",
                "category": ["threat"],
                "type": ["indicator"],
                "dataset": "trawl.log",
                "created": now,
            });
            doc["log"] = json!({ "file": { "path": &**file } });
            doc["trawl"]["line"] = json!(line);
            doc["trawl"]["offset"] = json!(offset);
            doc["trawl"]["start"] = json!(span.0);
            doc["trawl"]["end"] = json!(span.1);
        }
    }
    observed_fields(&mut doc, kind, &h.observed, &h.field);
    doc
}

impl<W: Write, D: AsRef<[u8]>> HitSink<D> for EcsJsonLines<W> {
    fn write(&mut self, h: &Hit<Arc<SetVersion<D>>>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &document(h, &self.sensor))?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
