//! Where hits go: a [`Sighting`] (a hit with where and when it was seen) is written by a
//! [`HitSink`]. Printers are sinks: [`EcsJsonLines`] (one ECS-aligned JSON object per hit) and
//! [`EveJsonLines`] (Suricata EVE `alert` records). The engine runs one sink on its own thread,
//! fed by the hits channel.

pub mod community_id;
mod ecs;
mod eve;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

pub use ecs::EcsJsonLines;
pub use eve::{EveJsonLines, EveOptions, SidRange};

use crate::indicators::field::Field;
use crate::indicators::read::{Hit, IndicatorSet};

/// A loaded set and its generation: hits say which set version matched them.
pub struct SetVersion<D> {
    /// The set.
    pub set: IndicatorSet<D>,
    /// 1 for the set loaded at start, +1 per reload.
    pub generation: u64,
}

/// The transport of a flow, as written in hit output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6.
    Icmp,
    /// Another IP protocol (its number).
    Other(u8),
}

impl Transport {
    /// ECS `network.transport` value.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Icmp => "icmp",
            Transport::Other(_) => "other",
        }
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

/// One hit with its context, as sinks receive it.
pub struct Sighting<D> {
    /// Capture time: seconds and nanoseconds since the Unix epoch.
    pub ts: (i64, u32),
    /// Where the packet came from.
    pub origin: Origin,
    /// The packet's addresses and ports.
    pub flow: FlowInfo,
    /// Where in the packet the observed value was.
    pub field: Field,
    /// The observed value as seen (a name, a URL, an address).
    pub observed: String,
    /// The indicator that matched.
    pub hit: Hit,
    /// The set (and its generation) the indicator lives in.
    pub set: Arc<SetVersion<D>>,
}

/// Receives hits, in the order the engine produces them.
pub trait HitSink<D> {
    /// Writes one hit.
    fn write(&mut self, s: &Sighting<D>) -> io::Result<()>;
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

    fn sighting() -> Sighting<AlignedBytes> {
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
        let hit = set.match_domain("www.evil.example").unwrap();
        Sighting {
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
            field: Field::DnsQuestion,
            observed: "www.evil.example".into(),
            hit,
            set: Arc::new(SetVersion { set, generation: 3 }),
        }
    }

    #[test]
    fn ecs_line_has_flow_match_and_every_source() {
        let mut sink = EcsJsonLines::new(Vec::new());
        sink.write(&sighting()).unwrap();
        let out = sink.into_inner();
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@timestamp"], "2026-01-01T00:00:00.123456Z");
        assert_eq!(v["source"]["ip"], "192.0.2.10");
        assert_eq!(v["destination"]["port"], 53);
        assert_eq!(v["network"]["transport"], "udp");
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
        assert_eq!(ais["indicator"]["id"][0], "indicator--0a1b");
        assert_eq!(ais["indicator"]["labels"][0], "c2");
    }

    #[test]
    fn eve_alert_line() {
        let mut sink = EveJsonLines::new(Vec::new());
        sink.write(&sighting()).unwrap();
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
