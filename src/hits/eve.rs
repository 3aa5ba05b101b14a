//! Suricata EVE `alert` records, for pipelines that already ingest Suricata. Each record
//! validates against Suricata 8.0's `etc/schema.json`.
//!
//! * `alert.signature_id` is derived from the indicator itself (its kind and canonical value),
//!   into a configurable [`SidRange`]: the same indicator keeps its sid across recompiles, feed
//!   additions and restarts, so SIEM tuning keyed on sid survives updates. Different indicators
//!   may share a sid (see [`SidRange`]); `alert.signature` and `alert.metadata` name the
//!   indicator exactly. `alert.gid` is 1000000 on every trawl alert (so that a reader tells
//!   them from rule alerts, gid 1); `alert.rev` is 1 (an indicator's value never changes under
//!   its sid; the set generation that matched is in `alert.metadata.set_generation`).
//! * `flow_id` is the same for both directions of a 5-tuple, `community_id` is Community ID v1,
//!   `app_proto` the application protocol the matched value was read from, `host` the sensor
//!   name, `in_iface` the capture interface (live) or `capture_file`/`pcap_cnt` the file and
//!   frame.
//! * `alert.metadata` (arrays of strings, as Suricata writes rule metadata): `indicator_type`,
//!   `indicator_value`, `matched_field`, `matched_value`, `set_generation`, and per source of
//!   the indicator, aligned index by index, `source`, `source_id` and `source_tlp` (an empty
//!   string where the source has no id or no TLP). `trawl sightings` reads these, no set needed.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::community_id::of_flow;
use super::{FileMeta, Hit, HitSink, ObservedIn, Origin, Seen, SetVersion, TunnelInfo};
use crate::indicators::field::Field;
use crate::indicators::model::Tlp;

/// The range EVE `signature_id`s are drawn from: `base ..= base + len - 1`.
///
/// The default, 1,000,000,000–1,999,999,999, is outside every range rule publishers use: Snort
/// and Talos below 1,000,000, local rules 1,000,000–1,999,999, and the ranges registered at
/// sidallocation.org (Emerging Threats 2,000,000–2,899,999, Suricata's own engine events
/// 2,200,000–2,299,999, other publishers up to 27,999,999, Abuse.ch 902,200,000–906,200,096),
/// and outside `trawl export suricata`'s sequential sids (9,000,000 up); it stays below 2^31
/// for consumers that store sids as signed 32-bit integers.
///
/// A sid is a hash of the indicator reduced into the range, so two indicators can share one:
/// with `n` indicators in a range of `len`, about n²/(2·len) pairs do — about 500 pairs among
/// 1,000,000 indicators in the default range (one indicator in a thousand shares its sid), none
/// expected below about 45,000 indicators (n²/(2·len) < 1). A wider range (up to 4,294,967,295)
/// makes shared sids rarer. A sid alone therefore groups alerts for tuning; the indicator an
/// alert is about is in `alert.signature` and `alert.metadata`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SidRange {
    base: u32,
    len: u32,
}

impl Default for SidRange {
    fn default() -> Self {
        SidRange {
            base: 1_000_000_000,
            len: 1_000_000_000,
        }
    }
}

impl SidRange {
    /// The range `base ..= base + len - 1`; `None` when `base` is 0 (not a valid sid), `len` is
    /// 0, or the range passes 4,294,967,295 (Suricata's sids are 32-bit).
    pub fn new(base: u32, len: u32) -> Option<SidRange> {
        (base > 0 && len > 0 && base.checked_add(len - 1).is_some())
            .then_some(SidRange { base, len })
    }

    /// The first sid of the range.
    pub fn base(self) -> u32 {
        self.base
    }

    /// The number of sids in the range.
    pub fn size(self) -> u32 {
        self.len
    }

    /// The sid of the indicator of kind `kind` (its short name, `domain`, `ipv4`, …) and
    /// canonical value `value`: an unkeyed blake3 hash of both, reduced into the range. The
    /// reduction's bias (2^64 mod `len` out of 2^64) is below one in 4·10^9.
    pub fn sid(self, kind: &str, value: &str) -> u32 {
        let mut h = blake3::Hasher::new();
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(value.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&h.finalize().as_bytes()[..8]);
        let n = u64::from_le_bytes(first) % u64::from(self.len);
        // In range: n < len and base + len - 1 fits in u32 (checked in `new`).
        self.base + n as u32
    }
}

/// How EVE alerts are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EveOptions {
    /// Where `signature_id`s come from.
    pub sids: SidRange,
    /// The sensor's name, written as `host` (omitted when `None`).
    pub sensor: Option<String>,
}

/// Writes hits as EVE `alert` JSON Lines.
pub struct EveJsonLines<W: Write> {
    out: W,
    opts: EveOptions,
}

impl<W: Write> EveJsonLines<W> {
    /// A sink writing to `out` with the default [`EveOptions`] (no sensor name).
    pub fn new(out: W) -> Self {
        Self::with_options(out, EveOptions::default())
    }

    /// A sink writing to `out` with `opts`.
    pub fn with_options(out: W, opts: EveOptions) -> Self {
        EveJsonLines { out, opts }
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

/// A packet's endpoints and IP protocol number, as EVE and Community ID take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlowTuple {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) src_port: Option<u16>,
    pub(crate) dst_port: Option<u16>,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, …).
    pub(crate) proto: u8,
}

/// EVE's `proto`: the protocol's name as Suricata writes it (the IANA keyword), else its
/// number. Tunnels' outer protocols (4, 41, 47) appear in `tunnel.proto`.
fn proto_name(proto: u8) -> String {
    match proto {
        1 => "ICMP".into(),
        4 => "IP-in-IP".into(),
        41 => "IPv6".into(),
        47 => "GRE".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6-ICMP".into(),
        132 => "SCTP".into(),
        n => n.to_string(),
    }
}

/// A 51-bit id for the flow, the same for both directions: xxh3 of the endpoints in canonical
/// order (smaller address and port first) and the protocol. Suricata's `flow_id` is also a
/// hash of its flow, reduced to 51 bits because JSON consumers (JavaScript) lose precision
/// above 2^53. Unlike Suricata's it does not include the flow's start time or VLAN: one
/// 5-tuple has one id for the whole run (and across runs).
pub(crate) fn flow_id(f: &FlowTuple) -> u64 {
    let a = (f.src, f.src_port.unwrap_or(0));
    let b = (f.dst, f.dst_port.unwrap_or(0));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut buf = [0u8; 37];
    for (at, (addr, port)) in [(0, lo), (18, hi)] {
        match addr {
            IpAddr::V4(x) => buf[at..at + 4].copy_from_slice(&x.octets()),
            IpAddr::V6(x) => buf[at..at + 16].copy_from_slice(&x.octets()),
        }
        buf[at + 16..at + 18].copy_from_slice(&port.to_be_bytes());
    }
    buf[36] = f.proto;
    xxhash_rust::xxh3::xxh3_64(&buf) & ((1 << 51) - 1)
}

/// The Community ID of the flow ([`super::community_id::of_flow`]).
pub(crate) fn flow_community_id(f: &FlowTuple) -> Option<String> {
    of_flow(f.src, f.dst, f.proto, f.src_port, f.dst_port)
}

/// EVE's `app_proto` for a hit on `field` in a flow of IP protocol `proto`: the parser that read
/// the value. Address hits name no application protocol (none was detected for them), so they
/// have none. A server name over UDP was read from a QUIC Initial: Suricata says `quic`.
pub(crate) fn app_proto(field: Field, proto: u8) -> Option<&'static str> {
    match field {
        Field::SourceIp | Field::DestinationIp => None,
        Field::DnsQuestion | Field::DnsAnswerName | Field::DnsAnswerIp => Some("dns"),
        Field::TlsSni if proto == 17 => Some("quic"),
        Field::TlsSni
        | Field::X509SubjectCn
        | Field::X509San
        | Field::TlsServerMd5
        | Field::TlsServerSha1
        | Field::TlsServerSha256
        | Field::Ja3
        | Field::Ja3s
        | Field::Ja4
        | Field::Ja4s => Some("tls"),
        Field::HttpHost
        | Field::HttpUrl
        | Field::HttpRequest
        | Field::HttpUserAgent
        | Field::HttpReferrer
        | Field::HttpForwardedFor => Some("http"),
        Field::SmtpMailFrom
        | Field::SmtpRcptTo
        | Field::MailFrom
        | Field::MailTo
        | Field::MailCc
        | Field::MailBcc
        | Field::MailReplyTo
        | Field::MailSender
        | Field::MailReturnPath => Some("smtp"),
        Field::ProxyTarget => Some("socks"),
        Field::HttpFile => Some("http"),
        Field::SmtpAttachment => Some("smtp"),
    }
}

/// One source of the matched indicator.
pub(crate) struct AlertSource<'a> {
    pub(crate) provider: &'a str,
    pub(crate) id: Option<&'a str>,
    pub(crate) tlp: Option<Tlp>,
}

/// The indicator an alert is about.
pub(crate) struct AlertIndicator<'a> {
    /// Kind short name (`domain`, `ipv4`, …).
    pub(crate) kind: &'a str,
    /// Canonical value, as the set holds it.
    pub(crate) value: &'a str,
    pub(crate) sources: Vec<AlertSource<'a>>,
    pub(crate) best_score: Option<u8>,
}

/// Where the packet came from, as EVE says it.
#[derive(Clone, Copy)]
pub(crate) enum AlertOrigin<'a> {
    /// `capture_file` and `pcap_cnt` (1-based frame).
    File(&'a str, u64),
    /// `in_iface`.
    Interface(&'a str),
}

/// The packet an alert is about: when, where from, its flow and the tunnel it came out of.
pub(crate) struct AlertPacket<'a> {
    pub(crate) ts: (i64, u32),
    pub(crate) origin: AlertOrigin<'a>,
    pub(crate) flow: &'a FlowTuple,
    pub(crate) tunnel: Option<&'a TunnelInfo>,
}

/// What an alert matched: the field, its name in `matched_field`, the value seen in it and,
/// for a file's hash, the file.
pub(crate) struct AlertMatched<'a> {
    pub(crate) field: Field,
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) file: Option<&'a FileMeta>,
}

/// Suricata's `files[]` entry (its `fileinfo` object) for a file trawl hashed: a file is hashed
/// only once transferred whole, so its `state` is `CLOSED`, without `gaps`; trawl stores none.
/// Suricata's schema has no `sha512`: that hash is in the alert's metadata when it matched.
fn file_info(f: &FileMeta) -> Json {
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut o = Map::new();
    if !f.name.is_empty() {
        o.insert("filename".into(), f.name.as_str().into());
    }
    o.insert("gaps".into(), false.into());
    o.insert("state".into(), "CLOSED".into());
    o.insert("md5".into(), hex(&f.digests.md5).into());
    o.insert("sha1".into(), hex(&f.digests.sha1).into());
    o.insert("sha256".into(), hex(&f.digests.sha256).into());
    o.insert("stored".into(), false.into());
    o.insert("size".into(), f.digests.size.into());
    Json::Object(o)
}

/// One EVE alert record from plain values.
pub(crate) fn alert_record(
    opts: &EveOptions,
    packet: AlertPacket<'_>,
    matched: AlertMatched<'_>,
    ind: &AlertIndicator<'_>,
    set_generation: u64,
) -> Json {
    let AlertPacket {
        ts,
        origin,
        flow,
        tunnel,
    } = packet;
    let AlertMatched {
        field,
        name,
        value: observed,
        file,
    } = matched;
    let providers: Vec<&str> = ind.sources.iter().map(|s| s.provider).collect();
    let metadata = json!({
        "indicator_type": [ind.kind],
        "indicator_value": [ind.value],
        "matched_field": [name],
        "matched_value": [observed],
        "set_generation": [set_generation.to_string()],
        "source": providers,
        "source_id": ind.sources.iter().map(|s| s.id.unwrap_or("")).collect::<Vec<_>>(),
        "source_tlp": ind.sources.iter().map(|s| s.tlp.map_or("", Tlp::name)).collect::<Vec<_>>(),
    });
    let mut doc = Map::new();
    let ts = crate::indicators::model::rfc3339(ts.0, ts.1).replace('Z', "+0000");
    doc.insert("timestamp".into(), ts.into());
    doc.insert("event_type".into(), "alert".into());
    doc.insert("flow_id".into(), flow_id(flow).into());
    match origin {
        AlertOrigin::File(file, frame) => {
            doc.insert("capture_file".into(), file.into());
            doc.insert("pcap_cnt".into(), frame.into());
        }
        AlertOrigin::Interface(name) => {
            doc.insert("in_iface".into(), name.into());
        }
    }
    if let Some(host) = &opts.sensor {
        doc.insert("host".into(), host.as_str().into());
    }
    doc.insert("src_ip".into(), flow.src.to_string().into());
    if let Some(p) = flow.src_port {
        doc.insert("src_port".into(), p.into());
    }
    doc.insert("dest_ip".into(), flow.dst.to_string().into());
    if let Some(p) = flow.dst_port {
        doc.insert("dest_port".into(), p.into());
    }
    doc.insert("ip_v".into(), if flow.src.is_ipv6() { 6 } else { 4 }.into());
    doc.insert("proto".into(), proto_name(flow.proto).into());
    if let Some(c) = flow_community_id(flow) {
        doc.insert("community_id".into(), c.into());
    }
    if let Some(a) = app_proto(field, flow.proto) {
        doc.insert("app_proto".into(), a.into());
    }
    if let Some(t) = tunnel {
        // As Suricata writes it for a decapsulated packet: the outermost packet's endpoints
        // (ports 0 when it has none) and protocol, how deep the alerted packet was, and the
        // outermost packet's origin.
        let mut tun = Map::new();
        tun.insert("src_ip".into(), t.outer.src.to_string().into());
        tun.insert("src_port".into(), t.outer.src_port.unwrap_or(0).into());
        tun.insert("dest_ip".into(), t.outer.dst.to_string().into());
        tun.insert("dest_port".into(), t.outer.dst_port.unwrap_or(0).into());
        tun.insert(
            "proto".into(),
            proto_name(t.outer.transport.ip_number()).into(),
        );
        tun.insert("depth".into(), t.depth.into());
        if let AlertOrigin::File(_, frame) = origin {
            tun.insert("pcap_cnt".into(), frame.into());
        }
        tun.insert("pkt_src".into(), "wire/pcap".into());
        doc.insert("tunnel".into(), tun.into());
    }
    doc.insert(
        "alert".into(),
        json!({
            "action": "allowed",
            "gid": 1_000_000,
            "signature_id": opts.sids.sid(ind.kind, ind.value),
            "rev": 1,
            "signature": format!("trawl {} {} ({})", ind.kind, ind.value, providers.join(", ")),
            "category": "Threat intelligence indicator match",
            "severity": severity(ind.best_score),
            "metadata": metadata,
        }),
    );
    if let Some(f) = file {
        doc.insert("files".into(), Json::Array(vec![file_info(f)]));
    }
    Json::Object(doc)
}

impl<W: Write, D: AsRef<[u8]>> HitSink<D> for EveJsonLines<W> {
    fn write(&mut self, s: &Hit<Arc<SetVersion<D>>>) -> io::Result<()> {
        // The engine sends a sink packet hits only; an EVE alert needs a flow.
        let (
            Seen::Packet {
                ts,
                origin,
                flow: f,
                tunnel,
                ..
            },
            ObservedIn::Packet(field),
        ) = (&s.seen, &s.field)
        else {
            // Any other hit is an error the scan reports, not a hit left out.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an EVE alert is written for a packet hit only",
            ));
        };
        let found = s.set.set.indicator(s.matched.indicator);
        let value = found.as_ref().map(|i| i.value()).unwrap_or_default();
        let ind = AlertIndicator {
            kind: s.matched.kind.name(),
            value: &value,
            sources: found
                .iter()
                .flat_map(|i| i.provenance())
                .map(|p| AlertSource {
                    provider: p.source,
                    id: p.id,
                    tlp: p.tlp,
                })
                .collect(),
            best_score: found
                .iter()
                .flat_map(|i| i.provenance())
                .filter_map(|p| p.score)
                .max(),
        };
        let flow = FlowTuple {
            src: f.src,
            dst: f.dst,
            src_port: f.src_port,
            dst_port: f.dst_port,
            proto: f.transport.ip_number(),
        };
        let origin = match origin {
            Origin::File { file, frame } => AlertOrigin::File(file, *frame),
            Origin::Interface(name) => AlertOrigin::Interface(name),
        };
        let packet = AlertPacket {
            ts: *ts,
            origin,
            flow: &flow,
            tunnel: tunnel.as_ref(),
        };
        let matched = AlertMatched {
            field: *field,
            name: field.matched_name(s.matched.kind),
            value: &s.observed,
            file: s.file.as_deref(),
        };
        let doc = alert_record(&self.opts, packet, matched, &ind, s.set.generation);
        serde_json::to_writer(&mut self.out, &doc)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::field::Transport;

    fn tuple(src: &str, sp: Option<u16>, dst: &str, dp: Option<u16>, proto: u8) -> FlowTuple {
        FlowTuple {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            src_port: sp,
            dst_port: dp,
            proto,
        }
    }

    #[test]
    fn sid_depends_on_the_indicator_only_and_stays_in_range() {
        let r = SidRange::default();
        let a = r.sid("domain", "evil.example");
        assert_eq!(a, r.sid("domain", "evil.example"));
        assert_ne!(a, r.sid("domain", "evil.example."));
        // Kind and value are separated: ("ab", "c") is not ("a", "bc").
        assert_ne!(r.sid("ab", "c"), r.sid("a", "bc"));
        assert!((1_000_000_000..2_000_000_000).contains(&a));
        let narrow = SidRange::new(5, 3).unwrap();
        for v in ["a", "b", "c", "d", "e", "f", "g"] {
            assert!((5..=7).contains(&narrow.sid("url", v)));
        }
        assert_eq!(
            SidRange::new(u32::MAX, 1).unwrap().sid("ipv4", "x"),
            u32::MAX
        );
        assert!(SidRange::new(u32::MAX, 2).is_none());
        assert!(SidRange::new(0, 10).is_none());
        assert!(SidRange::new(10, 0).is_none());
    }

    #[test]
    fn flow_id_is_the_same_both_ways_and_fits_51_bits() {
        let fwd = tuple("192.0.2.10", Some(40000), "198.51.100.53", Some(53), 17);
        let rev = tuple("198.51.100.53", Some(53), "192.0.2.10", Some(40000), 17);
        assert_eq!(flow_id(&fwd), flow_id(&rev));
        assert!(flow_id(&fwd) < 1 << 51);
        assert_ne!(flow_id(&fwd), flow_id(&FlowTuple { proto: 6, ..fwd }));
        assert_ne!(
            flow_id(&fwd),
            flow_id(&FlowTuple {
                src_port: Some(40001),
                ..fwd
            })
        );
    }

    #[test]
    fn community_id_where_v1_defines_it() {
        // corelight/community-id-spec baseline: UDP 192.168.1.52:54585 -> 8.8.8.8:53.
        let udp = tuple("8.8.8.8", Some(53), "192.168.1.52", Some(54585), 17);
        assert_eq!(
            flow_community_id(&udp).as_deref(),
            Some("1:d/FP5EW3wiY1vCndhwleRRKHowQ=")
        );
        // Same baseline: protocol 46 has no ports.
        let rsvp = tuple("10.1.12.1", None, "10.1.12.2", None, 46);
        assert_eq!(
            flow_community_id(&rsvp).as_deref(),
            Some("1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=")
        );
        assert_eq!(
            flow_community_id(&tuple("10.0.0.1", None, "10.0.0.2", None, 1)),
            None
        );
        assert_eq!(
            flow_community_id(&tuple("::1", None, "::2", None, 58)),
            None
        );
        assert_eq!(
            flow_community_id(&tuple("10.0.0.1", None, "10.0.0.2", None, 6)),
            None
        );
    }

    #[test]
    fn app_proto_names_the_parser() {
        assert_eq!(app_proto(Field::DnsAnswerIp, 17), Some("dns"));
        assert_eq!(app_proto(Field::TlsSni, 6), Some("tls"));
        assert_eq!(app_proto(Field::TlsSni, 17), Some("quic"));
        assert_eq!(app_proto(Field::HttpUserAgent, 6), Some("http"));
        assert_eq!(app_proto(Field::SmtpRcptTo, 6), Some("smtp"));
        assert_eq!(app_proto(Field::DestinationIp, 6), None);
        assert_eq!(proto_name(Transport::Icmpv6.ip_number()), "IPv6-ICMP");
        assert_eq!(proto_name(Transport::Icmpv4.ip_number()), "ICMP");
        // Tunnels' outer protocols by their IANA keywords, as Suricata 8 writes them; others
        // by number.
        assert_eq!(proto_name(Transport::Other(47).ip_number()), "GRE");
        assert_eq!(proto_name(Transport::Other(4).ip_number()), "IP-in-IP");
        assert_eq!(proto_name(Transport::Other(50).ip_number()), "50");
    }
}
