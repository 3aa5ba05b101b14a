//! Suricata EVE-style `alert` records, for pipelines that already ingest Suricata.

use std::io::{self, Write};
use std::sync::Arc;

use serde_json::json;

use super::{Hit, HitSink, Seen, SetVersion};

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
    fn write(&mut self, s: &Hit<Arc<SetVersion<D>>>) -> io::Result<()> {
        // The engine sends a sink packet hits only; an EVE alert needs a flow.
        let Seen::Packet { ts, flow: f, .. } = &s.seen else {
            return Ok(());
        };
        let set = &s.set.set;
        let ind = set.indicator(s.matched.indicator);
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
        let ts = crate::indicators::model::rfc3339(ts.0, ts.1).replace('Z', "+0000");
        let doc = json!({
            "timestamp": ts,
            "event_type": "alert",
            "src_ip": f.src.to_string(),
            "src_port": f.src_port,
            "dest_ip": f.dst.to_string(),
            "dest_port": f.dst_port,
            "proto": f.transport.name().map_or_else(|| f.transport.ip_number().to_string(), str::to_uppercase),
            "alert": {
                "action": "allowed",
                "gid": 1_000_000,
                // Stable per indicator within one set generation.
                "signature_id": s.matched.indicator,
                "rev": s.set.generation,
                "signature": format!("trawl {} {} ({})", s.matched.kind, value, sources.join(", ")),
                "category": "Threat intelligence indicator match",
                "severity": severity(best),
                "metadata": { "matched_field": [s.field.name()], "matched_value": [&s.observed], "source": sources },
            },
        });
        serde_json::to_writer(&mut self.out, &doc)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
