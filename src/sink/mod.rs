//! Where hits go: a [`Sighting`] (a hit with where and when it was seen) is written by a
//! [`HitSink`]. Printers are sinks: [`EcsJsonLines`] (one ECS-aligned JSON object per hit) and
//! [`EveJsonLines`] (Suricata EVE `alert` records). The engine runs one sink on its own thread,
//! fed by the hits channel.

mod ecs;
mod eve;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;

pub use ecs::EcsJsonLines;
pub use eve::EveJsonLines;

use crate::decode::Field;
use crate::set::{Hit, IndicatorSet};

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

/// Formats Unix seconds + nanoseconds as RFC 3339 UTC with microseconds.
pub(crate) fn rfc3339(sec: i64, nsec: u32) -> String {
    chrono::DateTime::from_timestamp(sec, nsec)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".into())
}

/// The STIX-style indicator type name ECS uses in `threat.indicator.type`.
pub(crate) fn indicator_type(kind: crate::Kind) -> &'static str {
    use crate::Kind;
    match kind {
        Kind::Ipv4 => "ipv4-addr",
        Kind::Ipv6 => "ipv6-addr",
        Kind::Domain => "domain-name",
        Kind::Url | Kind::HttpRequest => "url",
        Kind::Email => "email-addr",
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => "file",
    }
}
