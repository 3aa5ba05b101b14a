//! Suricata EVE-style `alert` records, for pipelines that already ingest Suricata.

use std::io::{self, Write};

use serde_json::json;

use super::{HitSink, Sighting};

/// Writes hits as EVE `alert` JSON Lines.
pub struct EveJsonLines<W: Write> {
    out: W,
}

impl<W: Write> EveJsonLines<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        EveJsonLines { out }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// EVE severity (1 = high … 3 = low) from the best score among the sources.
fn severity(best_score: Option<u8>) -> u8 {
    match best_score {
        Some(70..) => 1,
        Some(30..) => 2,
        _ => 3,
    }
}

impl<W: Write, D: AsRef<[u8]>> HitSink<D> for EveJsonLines<W> {
    fn write(&mut self, s: &Sighting<D>) -> io::Result<()> {
        let set = &s.set.set;
        let ind = set.indicator(s.hit.indicator);
        let value = ind.map(|i| i.value()).unwrap_or_default();
        let sources: Vec<&str> = ind
            .iter()
            .flat_map(|i| i.provenance())
            .map(|p| p.source)
            .collect();
        let best = ind
            .iter()
            .flat_map(|i| i.provenance())
            .filter_map(|p| p.score)
            .max();
        let f = &s.flow;
        let ts = crate::indicators::model::rfc3339(s.ts.0, s.ts.1).replace('Z', "+0000");
        let doc = json!({
            "timestamp": ts,
            "event_type": "alert",
            "src_ip": f.src.to_string(),
            "src_port": f.src_port,
            "dest_ip": f.dst.to_string(),
            "dest_port": f.dst_port,
            "proto": f.transport.name().to_uppercase(),
            "alert": {
                "action": "allowed",
                "gid": 1_000_000,
                // Stable per indicator within one set generation.
                "signature_id": s.hit.indicator,
                "rev": s.set.generation,
                "signature": format!("trawl {} {} ({})", s.hit.kind, value, sources.join(", ")),
                "category": "Threat intelligence indicator match",
                "severity": severity(best),
                "metadata": { "matched_field": [s.field.ecs()], "matched_value": [&s.observed], "source": sources },
            },
        });
        serde_json::to_writer(&mut self.out, &doc)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
