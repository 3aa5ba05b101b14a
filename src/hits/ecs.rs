//! ECS-aligned JSON Lines: one object per hit, with one `threat.enrichments[]` entry per source
//! of the indicator (DESIGN.md, "Hits").

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use super::{HitSink, Origin, Sighting};
use crate::Kind;
use crate::indicators::model::rfc3339;

/// Writes hits as ECS JSON Lines to any writer.
pub struct EcsJsonLines<W: Write> {
    out: W,
}

impl<W: Write> EcsJsonLines<W> {
    /// A sink writing to `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        EcsJsonLines { out }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The ECS `threat.indicator` object of one provenance entry.
fn indicator_json(kind: Kind, value: &str, p: &crate::indicators::read::Provenance<'_>) -> Json {
    let mut ind = Map::new();
    ind.insert("type".into(), json!(kind.sco_type()));
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => {
            ind.insert("ip".into(), json!(value));
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
    if let Some(id) = p.id {
        ind.insert("id".into(), json!([id]));
    }
    if let Some(score) = p.score {
        ind.insert("confidence".into(), json!(confidence_label(score)));
        ind.insert("score".into(), json!(score));
    }
    if let Some(tlp) = p.tlp {
        ind.insert(
            "marking".into(),
            json!({ "tlp": tlp.name().to_uppercase() }),
        );
    }
    if let Some(t) = p.valid_until {
        ind.insert("valid_until".into(), json!(rfc3339(t, 0)));
    }
    if let Some(d) = p.description {
        ind.insert("description".into(), json!(d));
    }
    let labels: Vec<&str> = p.labels().collect();
    if !labels.is_empty() {
        ind.insert("labels".into(), json!(labels));
    }
    Json::Object(ind)
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

/// The whole ECS document of one sighting.
pub(crate) fn sighting_json<D: AsRef<[u8]>>(s: &Sighting<D>) -> Json {
    let set = &s.set.set;
    let (kind, value, enrichments) = match set.indicator(s.hit.indicator) {
        Some(ind) => {
            let kind = ind.kind().unwrap_or(s.hit.kind);
            let value = ind.value();
            let enrichments: Vec<Json> = ind
                .provenance()
                .map(|p| {
                    json!({
                        "matched": {
                            "field": s.field.ecs(),
                            "atomic": s.observed,
                            "type": "indicator_match_rule",
                        },
                        "indicator": indicator_json(kind, &value, &p),
                    })
                })
                .collect();
            (kind, value, enrichments)
        }
        None => (s.hit.kind, String::new(), Vec::new()),
    };
    let f = &s.flow;
    let mut doc = json!({
        "@timestamp": rfc3339(s.ts.0, s.ts.1),
        "event": { "kind": "enrichment", "category": ["network", "threat"], "type": ["indicator"], "dataset": "trawl.packet" },
        "source": { "ip": f.src.to_string() },
        "destination": { "ip": f.dst.to_string() },
        "network": { "transport": f.transport.name() },
        "threat": { "enrichments": enrichments },
        "trawl": { "indicator": { "type": kind.name(), "value": value }, "set_generation": s.set.generation },
    });
    if let Some(p) = f.src_port {
        doc["source"]["port"] = json!(p);
    }
    if let Some(p) = f.dst_port {
        doc["destination"]["port"] = json!(p);
    }
    match &s.origin {
        Origin::File { file, frame } => {
            doc["trawl"]["pcap"] = json!({ "file": &**file, "frame": frame });
        }
        Origin::Interface(name) => {
            doc["observer"] = json!({ "ingress": { "interface": { "name": &**name } } });
        }
    }
    doc
}

impl<W: Write, D: AsRef<[u8]>> HitSink<D> for EcsJsonLines<W> {
    fn write(&mut self, s: &Sighting<D>) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &sighting_json(s))?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
