//! Hits: the one [`Hit`] type both lanes produce (what matched, the value observed and the
//! field it was observed in, and where it was seen), its renderers and the sinks that write it.
//!
//! * [`Hit`] — one indicator match with its context. The engine builds it from a lane's
//!   result: a packet ([`Seen::Packet`]: time, capture file and frame or interface, flow,
//!   VLANs) or a log line ([`Seen::Log`]: file, line, byte offset, span, record time). It
//!   carries the set version it was matched in ([`SetRef`]), so every source of the indicator
//!   is rendered.
//! * [`ecs`] — the one ECS renderer: [`ecs::enrichments`] builds `threat.enrichments[]` (the
//!   same objects for every lane, for `--enrich` records and for `lookup --json`, whose input
//!   is [`ObservedIn::Input`]), [`ecs::write_document`] the whole hit document. Fields ECS
//!   does not define live in the custom namespace `trawl` (see [`ecs`]).
//! * [`HitSink`] — where packet hits go; printers are sinks: [`EcsJsonLines`] and
//!   [`EveJsonLines`] (Suricata EVE `alert` records). The engine runs one sink on its own
//!   thread, fed by the hits channel.

pub(crate) mod community_id;
pub(crate) mod ecs;
mod eve;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

pub use ecs::{EcsJsonLines, Sensor};
pub use eve::{EveJsonLines, EveOptions, SidRange};

pub(crate) use crate::indicators::field::{Field, FileDigests, Transport};
use crate::indicators::model::Kind;
use crate::indicators::read::{IndicatorSet, Match};

/// A loaded set and its generation: hits say which set version matched them.
pub struct SetVersion<D> {
    /// The set.
    pub set: IndicatorSet<D>,
    /// 1 for the set loaded at start, +1 per reload.
    pub generation: u64,
}

/// The set a hit was matched in: its indicators are read through it when the hit is rendered.
pub trait SetRef {
    /// The set file's bytes.
    type Data: AsRef<[u8]>;
    /// The set.
    fn indicators(&self) -> &IndicatorSet<Self::Data>;
    /// Its generation, when it is a reloaded set ([`SetVersion`]).
    fn generation(&self) -> Option<u64>;
}

impl<D: AsRef<[u8]>> SetRef for Arc<SetVersion<D>> {
    type Data = D;
    fn indicators(&self) -> &IndicatorSet<D> {
        &self.set
    }
    fn generation(&self) -> Option<u64> {
        Some(self.generation)
    }
}

impl<D: AsRef<[u8]>> SetRef for &IndicatorSet<D> {
    type Data = D;
    fn indicators(&self) -> &IndicatorSet<D> {
        self
    }
    fn generation(&self) -> Option<u64> {
        None
    }
}

/// The packet a hit was seen in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port, for TCP and UDP.
    pub src_port: Option<u16>,
    /// Destination port, for TCP and UDP.
    pub dst_port: Option<u16>,
    /// Transport protocol.
    pub transport: Transport,
}

/// The tunnel a decapsulated packet was carried in (a hit on the outermost packet has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelInfo {
    /// The innermost tunnel's short name (`vxlan`, `gre`, `gtp-u`, …).
    pub kind: &'static str,
    /// That tunnel's identifier, when it has one (VNI, GRE key, GTP-U TEID, ERSPAN session).
    pub id: Option<u32>,
    /// How many tunnels the packet was inside: 1 for a packet carried in one tunnel.
    pub depth: u8,
    /// The outermost packet's addresses and ports: the tunnel's endpoints on the wire.
    pub outer: FlowInfo,
}

/// Where the traffic came from: a capture file and frame, or a live interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Frame `frame` (1-based) of capture file `file`.
    File {
        /// Capture file as given.
        file: Arc<str>,
        /// 1-based frame number.
        frame: u64,
    },
    /// A live interface.
    Interface(Arc<str>),
}

/// The `matched.field` of a value found in free text (not in a field of a record).
pub(crate) const FREE_TEXT: &str = "message";

/// Where in the data the observed value was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObservedIn {
    /// A field of the traffic.
    Packet(Field),
    /// A field of a log record (JSON path, column name); `None` for free text.
    Record(Option<String>),
    /// A value given to `lookup`.
    Input,
}

impl ObservedIn {
    /// The name written as `threat.enrichments[].matched.field`: the ECS field of the traffic,
    /// the record's field (`message` for free text); `None` for a lookup. For a file, the hash
    /// field of the indicator's `kind` ([`Field::matched_name`]).
    pub fn name(&self, kind: Kind) -> Option<&str> {
        match self {
            ObservedIn::Packet(f) => Some(f.matched_name(kind)),
            ObservedIn::Record(f) => Some(f.as_deref().unwrap_or(FREE_TEXT)),
            ObservedIn::Input => None,
        }
    }
}

/// Where and when a hit was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// In a packet.
    Packet {
        /// Capture time: seconds and nanoseconds since the Unix epoch.
        ts: (i64, u32),
        /// Where the packet came from.
        origin: Origin,
        /// The packet's addresses and ports.
        flow: FlowInfo,
        /// The 802.1Q/802.1ad VLAN IDs crossed, outermost first; 0 where there was none.
        vlans: [u16; 2],
        /// The tunnel the packet was carried in, when it was decapsulated.
        tunnel: Option<TunnelInfo>,
    },
    /// In a log line.
    Log {
        /// The input's name (`-` for stdin).
        file: Arc<str>,
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line in the input.
        offset: u64,
        /// The matched bytes in the line: start and end (exclusive).
        span: (u64, u64),
        /// The time the record says it happened (seconds, nanoseconds), if it says.
        time: Option<(i64, u32)>,
    },
}

/// One indicator match with its context: what matched, the value observed and the field it
/// was observed in, and where it was seen. `S` is the set it was matched in ([`SetRef`]).
pub struct Hit<S> {
    /// The set (and its generation) the indicator lives in.
    pub set: S,
    /// The set's answer: which indicator matched.
    pub matched: Match,
    /// The observed value as seen (a name, a URL, an address).
    pub observed: String,
    /// Where in the data the observed value was.
    pub field: ObservedIn,
    /// Where and when.
    pub seen: Seen,
    /// The file whose hash matched, for a hit on a file (boxed: most hits are on none).
    pub file: Option<Box<FileMeta>>,
}

/// A file seen on the wire, as a hit on one of its hashes carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// Its name as the transfer gave it (lossy UTF-8); empty when none.
    pub name: String,
    /// Its hashes and size.
    pub digests: FileDigests,
}

/// Receives packet hits, in the order the engine produces them.
pub trait HitSink<D> {
    /// Writes one hit.
    fn write(&mut self, h: &Hit<Arc<SetVersion<D>>>) -> io::Result<()>;
    /// Flushes buffered output (called at the end and on quiet periods).
    fn flush(&mut self) -> io::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::build::exclude::Exclusions;
    use crate::indicators::build::{CompileOptions, SetBuilder};
    use crate::indicators::collect::Location;
    use crate::indicators::model::{Meta, Tlp};
    use crate::indicators::normalize;
    use crate::indicators::read::AlignedBytes;

    fn hit() -> Hit<Arc<SetVersion<AlignedBytes>>> {
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        let at = Location::File { file: "t".into() };
        let meta = Meta {
            source: "ais".into(),
            id: Some("indicator--0a1b".into()),
            score: Some(85),
            tlp: Some(Tlp::Amber),
            labels: vec!["c2".into()],
            ..Meta::default()
        };
        b.add(normalize::detect("evil.example").unwrap(), &meta, &at)
            .unwrap();
        b.add(
            normalize::detect("evil.example").unwrap(),
            &Meta::from_source("local"),
            &at,
        )
        .unwrap();
        let set =
            IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0)))
                .unwrap();
        let matched = set.match_domain("www.evil.example").unwrap();
        Hit {
            seen: Seen::Packet {
                ts: (1_767_225_600, 123_456_000),
                origin: Origin::File {
                    file: "x.pcap".into(),
                    frame: 42,
                },
                flow: FlowInfo {
                    src: "192.0.2.10".parse().unwrap(),
                    dst: "198.51.100.53".parse().unwrap(),
                    src_port: Some(40000),
                    dst_port: Some(53),
                    transport: Transport::Udp,
                },
                vlans: [0; 2],
                tunnel: None,
            },
            field: ObservedIn::Packet(Field::DnsQuestion),
            observed: "www.evil.example".into(),
            matched,
            set: Arc::new(SetVersion { set, generation: 3 }),
            file: None,
        }
    }

    #[test]
    fn ecs_line_has_flow_match_and_every_source() {
        let sensor = Sensor {
            name: "tap-1".into(),
            hostname: "box".into(),
        };
        let mut sink = EcsJsonLines::new(Vec::new(), sensor);
        sink.write(&hit()).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@timestamp"], "2026-01-01T00:00:00.123456Z");
        assert_eq!(v["source"]["ip"], "192.0.2.10");
        assert_eq!(v["destination"]["port"], 53);
        assert_eq!(v["network"]["transport"], "udp");
        assert_eq!(v["network"]["iana_number"], "17");
        assert_eq!(v["event"]["kind"], "alert");
        assert_eq!(v["observer"]["name"], "tap-1");
        assert_eq!(v["observer"]["hostname"], "box");
        // The observed field is in the document, for a pivot.
        assert_eq!(v["dns"]["question"]["name"], "www.evil.example");
        assert_eq!(v["related"]["hosts"][0], "www.evil.example");
        assert_eq!(v["trawl"]["pcap"]["frame"], 42);
        assert_eq!(v["trawl"]["set_generation"], 3);
        let e = v["threat"]["enrichments"].as_array().unwrap();
        assert_eq!(e.len(), 2);
        let ais = e
            .iter()
            .find(|x| x["indicator"]["provider"] == "ais")
            .unwrap();
        assert_eq!(ais["matched"]["field"], "dns.question.name");
        assert_eq!(ais["matched"]["atomic"], "www.evil.example");
        assert_eq!(ais["indicator"]["type"], "domain-name");
        assert_eq!(ais["indicator"]["url"]["domain"], "evil.example");
        assert_eq!(ais["indicator"]["confidence"], "High");
        assert_eq!(ais["indicator"]["marking"]["tlp"], "AMBER");
        assert_eq!(ais["trawl"]["id"][0], "indicator--0a1b");
        assert_eq!(ais["trawl"]["score"], 85);
        assert_eq!(ais["trawl"]["labels"][0], "c2");
        assert_eq!(ais["trawl"]["indicator"]["value"], "evil.example");
    }

    #[test]
    fn eve_alert_line() {
        let mut sink = EveJsonLines::new(Vec::new());
        sink.write(&hit()).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&sink.into_inner()).unwrap();
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["proto"], "UDP");
        assert_eq!(v["dest_port"], 53);
        assert_eq!(v["alert"]["severity"], 1);
        assert_eq!(
            v["alert"]["metadata"]["matched_field"][0],
            "dns.question.name"
        );
        assert!(
            v["alert"]["signature"]
                .as_str()
                .unwrap()
                .contains("evil.example")
        );
        assert!(v["timestamp"].as_str().unwrap().ends_with("+0000"));
    }
}
