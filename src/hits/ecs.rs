//! The ECS renderer: one JSON document per hit, valid against the Elastic Common Schema, with
//! one `threat.enrichments[]` entry per source of the indicator.
//!
//! Every field is an ECS field holding a value of its ECS type, except those under trawl's
//! custom namespace `trawl`: `trawl.*` at the top of a document (where the hit was found in
//! a capture or log, the set generation, the indicator's kind and value) and
//! `threat.enrichments[].trawl.*` in each enrichment (what ECS has no field for: the source's
//! STIX ids, score, labels and validity end, trawl's kind). Hit documents
//! ([`write_document`]) and the enrichments of `--enrich` records and `lookup --json`
//! ([`enrichments`]) build each enrichment with one function, so they are the same bytes.
//! `tools/elasticsearch/` holds the index template.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value as Json;

use super::community_id::of_flow;
use super::{Hit, HitSink, ObservedIn, Origin, Seen, SetRef, SetVersion};
use crate::Kind;
use crate::indicators::field::Field;
use crate::indicators::model::{Tlp, rfc3339, unix_now};
use crate::indicators::read::{IndicatorSet, Match, Provenance};

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

/// ECS `threat.indicator.confidence` is a label; STIX 2.1 Appendix A maps 0–100 onto it.
fn confidence_label(score: u8) -> &'static str {
    match score {
        0 => "None",
        1..=29 => "Low",
        30..=69 => "Medium",
        _ => "High",
    }
}

/// ECS `marking.tlp` values.
fn tlp_label(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "CLEAR",
        Tlp::Green => "GREEN",
        Tlp::Amber => "AMBER",
        Tlp::AmberStrict => "AMBER+STRICT",
        Tlp::Red => "RED",
    }
}

// The documents are serialized from these structs rather than built as `serde_json::Value`
// maps: no key strings to allocate and no maps to sort, which matters on the sink thread of
// a busy sensor. Fields are declared in alphabetical order, the order a `Value` map keeps, so
// an enrichment is the same bytes whether it is written from here or inserted into an
// `--enrich` record as a `Value`.

/// One `threat.enrichments[]` entry.
#[derive(Serialize)]
struct Enrichment<'a> {
    indicator: EcsIndicator<'a>,
    matched: Matched<'a>,
    trawl: SourceOwn<'a>,
}

/// `threat.enrichments[].indicator`.
#[derive(Serialize)]
struct EcsIndicator<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<FileHash<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marking: Option<Marking>,
    name: &'a str,
    provider: &'a str,
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Url<'a>>,
}

#[derive(Serialize)]
struct Address<'a> {
    address: &'a str,
}

#[derive(Serialize)]
struct FileHash<'a> {
    hash: Hashes<'a>,
}

#[derive(Default, Serialize)]
struct Hashes<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha1: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha512: Option<&'a str>,
}

#[derive(Serialize)]
struct Marking {
    tlp: &'static str,
}

#[derive(Default, Serialize)]
struct Url<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original: Option<&'a str>,
}

/// `threat.enrichments[].matched`.
#[derive(Serialize)]
struct Matched<'a> {
    atomic: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(rename = "type")]
    ty: &'static str,
}

/// trawl's own fields of one source (`threat.enrichments[].trawl`).
#[derive(Serialize)]
struct SourceOwn<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<[&'a str; 1]>,
    indicator: KindValue<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<String>,
}

/// The indicator as the set holds it: trawl's kind name and its value.
#[derive(Clone, Copy, Serialize)]
struct KindValue<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    value: &'a str,
}

/// The enrichment of one source.
fn enrichment<'a>(
    kind: Kind,
    value: &'a str,
    p: &Provenance<'a>,
    observed: &'a str,
    field: Option<&'a str>,
) -> Enrichment<'a> {
    let mut url = None;
    let mut email = None;
    let mut file = None;
    let mut ip = None;
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => ip = bare_ip(value),
        Kind::Domain => {
            url = Some(Url {
                domain: Some(value),
                ..Url::default()
            })
        }
        Kind::Url | Kind::HttpRequest => {
            url = Some(Url {
                original: Some(value),
                ..Url::default()
            })
        }
        Kind::Email => email = Some(Address { address: value }),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
            let mut hash = Hashes::default();
            *match kind {
                Kind::Md5 => &mut hash.md5,
                Kind::Sha1 => &mut hash.sha1,
                Kind::Sha256 => &mut hash.sha256,
                _ => &mut hash.sha512,
            } = Some(value);
            file = Some(FileHash { hash });
        }
        // ECS has no indicator fields for certificate or TLS fingerprints: the value is in
        // `threat.indicator.name` and `trawl.indicator`.
        Kind::X509Md5
        | Kind::X509Sha1
        | Kind::X509Sha256
        | Kind::Ja3
        | Kind::Ja3s
        | Kind::Ja4
        | Kind::Ja4s => {}
    }
    Enrichment {
        indicator: EcsIndicator {
            confidence: p.score.map(confidence_label),
            description: p.description,
            email,
            file,
            ip,
            marking: p.tlp.map(|t| Marking { tlp: tlp_label(t) }),
            name: value,
            provider: p.source,
            ty: kind.sco_type(),
            url,
        },
        matched: Matched {
            atomic: observed,
            field,
            ty: "indicator_match_rule",
        },
        trawl: SourceOwn {
            id: p.id.map(|id| [id]),
            indicator: KindValue {
                ty: kind.name(),
                value,
            },
            labels: p.labels().collect(),
            score: p.score,
            valid_until: p.valid_until.map(|t| rfc3339(t, 0)),
        },
    }
}

/// Appends the `threat.enrichments[]` objects of one match to `out`: one per source of the
/// indicator, each with what was matched (`matched.atomic`: `observed`; `matched.field`:
/// `field`, none for a lookup). Hit documents, `--enrich` records and `lookup --json` all
/// take their enrichments from the same code, so they are the same bytes.
pub(crate) fn enrichments<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    m: &Match,
    observed: &str,
    field: Option<&str>,
    out: &mut Vec<Json>,
) {
    if let Some(ind) = set.indicator(m.indicator) {
        let kind = ind.kind().unwrap_or(m.kind);
        let value = ind.value();
        for p in ind.provenance() {
            let e = enrichment(kind, &value, &p, observed, field);
            out.push(serde_json::to_value(e).expect("an enrichment is plain JSON"));
        }
    }
}

/// A whole hit document.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "@timestamp")]
    timestamp: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dns: Option<Dns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<Email<'a>>,
    event: Event,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<File<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<HttpEcs<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<Log<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network: Option<Network>,
    observer: Observer<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related: Option<Related<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<Endpoint>,
    threat: Threat<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<Tls<'a>>,
    trawl: DocOwn<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<Url<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<Original<'a>>,
}

/// The file a hash hit was computed from (ECS `file.*`).
#[derive(Serialize)]
struct File<'a> {
    hash: Hashes<'a>,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    size: u64,
}

/// Lowercase hex of a digest.
fn hex(digest: &[u8]) -> String {
    use std::fmt::Write as _;
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[derive(Serialize)]
struct Endpoint {
    /// A proxy's target (`destination.address`), when the hit is on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    ip: IpAddr,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
}

#[derive(Default, Serialize)]
struct Dns<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    answers: Vec<DnsAnswer<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    question: Option<Name<'a>>,
}

#[derive(Serialize)]
struct DnsAnswer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Default, Serialize)]
struct Email<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    bcc: Option<Addresses<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cc: Option<Addresses<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<Addresses<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<Addresses<'a>>,
    /// ECS takes one sender, not an array.
    #[serde(skip_serializing_if = "Option::is_none")]
    sender: Option<Address<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<Addresses<'a>>,
}

/// `trawl.email`: the mail header fields ECS has no field for.
#[derive(Serialize)]
struct OwnEmail<'a> {
    return_path: Addresses<'a>,
}

#[derive(Serialize)]
struct Addresses<'a> {
    address: [&'a str; 1],
}

#[derive(Serialize)]
struct Event {
    category: &'static [&'static str],
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    dataset: &'static str,
    kind: &'static str,
    #[serde(rename = "type")]
    ty: &'static [&'static str],
}

#[derive(Serialize)]
struct Log<'a> {
    file: Path<'a>,
}

#[derive(Serialize)]
struct Path<'a> {
    path: &'a str,
}

#[derive(Serialize)]
struct Network {
    #[serde(skip_serializing_if = "Option::is_none")]
    community_id: Option<String>,
    iana_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner: Option<Inner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<Vlan>,
}

#[derive(Serialize)]
struct Inner {
    vlan: Vlan,
}

#[derive(Serialize)]
struct Vlan {
    id: String,
}

#[derive(Serialize)]
struct Observer<'a> {
    hostname: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ingress: Option<Ingress<'a>>,
    name: &'a str,
}

#[derive(Serialize)]
struct Ingress<'a> {
    interface: Name<'a>,
}

#[derive(Default, Serialize)]
struct Related<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hosts: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ip: Option<[&'a str; 1]>,
}

#[derive(Serialize)]
struct Threat<'a> {
    enrichments: Vec<Enrichment<'a>>,
}

#[derive(Default, Serialize)]
struct Tls<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<TlsClient<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<TlsServer<'a>>,
}

#[derive(Default, Serialize)]
struct TlsClient<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_name: Option<&'a str>,
}

#[derive(Default, Serialize)]
struct TlsServer<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<Hashes<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ja3s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    x509: Option<X509<'a>>,
}

/// `tls.server.x509`: its name fields are arrays in ECS.
#[derive(Default, Serialize)]
struct X509<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alternative_names: Option<[&'a str; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<CommonName<'a>>,
}

#[derive(Serialize)]
struct CommonName<'a> {
    common_name: [&'a str; 1],
}

/// `trawl.tls`: the JA4 fingerprints, which ECS has no fields for.
#[derive(Default, Serialize)]
struct TrawlTls<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<Ja4<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<Ja4s<'a>>,
}

#[derive(Serialize)]
struct Ja4<'a> {
    ja4: &'a str,
}

#[derive(Serialize)]
struct Ja4s<'a> {
    ja4s: &'a str,
}

#[derive(Serialize)]
struct Original<'a> {
    original: &'a str,
}

/// trawl's own fields of a hit document (`trawl.*`).
#[derive(Serialize)]
struct DocOwn<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<OwnEmail<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<Http<'a>>,
    indicator: KindValue<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pcap: Option<Pcap<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set_generation: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<TrawlTls<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel: Option<TunnelDoc>,
}

/// `trawl.tunnel`: ECS has no fields for the tunnel a packet came out of.
#[derive(Serialize)]
struct TunnelDoc {
    depth: u8,
    destination: Endpoint,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u32>,
    source: Endpoint,
    transport: String,
    #[serde(rename = "type")]
    ty: &'static str,
}

/// `trawl.http`: what ECS has no field for.
#[derive(Default, Serialize)]
struct Http<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    forwarded_for: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<&'a str>,
}

/// ECS `http`.
#[derive(Serialize)]
struct HttpEcs<'a> {
    request: Referrer<'a>,
}

#[derive(Serialize)]
struct Referrer<'a> {
    referrer: &'a str,
}

#[derive(Serialize)]
struct Pcap<'a> {
    file: &'a str,
    frame: u64,
}

/// Writes the ECS document of one hit, seen by `sensor`, to `out` (no newline).
pub(crate) fn write_document<S: SetRef, W: Write>(
    h: &Hit<S>,
    sensor: &Sensor,
    out: W,
) -> serde_json::Result<()> {
    // The indicator's kind and value as the set states them (the match's kind if the record
    // is out of reach: a damaged set).
    let ind = h.set.indicators().indicator(h.matched.indicator);
    let kind = ind
        .as_ref()
        .and_then(|i| i.kind())
        .unwrap_or(h.matched.kind);
    let value = ind.as_ref().map(|i| i.value()).unwrap_or_default();
    let field = h.field.name(h.matched.kind);
    let enrichments = ind
        .iter()
        .flat_map(|i| i.provenance())
        .map(|p| enrichment(kind, &value, &p, &h.observed, field))
        .collect();
    let observed = h.observed.as_str();
    // A file's hashes in hex, MD5, SHA-1, SHA-256 and SHA-512 when computed.
    let file_hex = h.file.as_deref().map(|f| {
        let d = &f.digests;
        let all: [Option<&[u8]>; 4] = [
            Some(&d.md5),
            Some(&d.sha1),
            Some(&d.sha256),
            d.sha512.as_ref().map(|x| &x[..]),
        ];
        all.into_iter().flatten().map(hex).collect::<Vec<_>>()
    });
    let mut doc = Document {
        timestamp: String::new(),
        destination: None,
        dns: None,
        email: None,
        file: h.file.as_deref().zip(file_hex.as_ref()).map(|(f, x)| File {
            hash: Hashes {
                md5: Some(&x[0]),
                sha1: Some(&x[1]),
                sha256: Some(&x[2]),
                sha512: x.get(3).map(String::as_str),
            },
            name: &f.name,
            size: f.digests.size,
        }),
        event: Event {
            category: &["threat"],
            created: None,
            dataset: "trawl.log",
            kind: "alert",
            ty: &["indicator"],
        },
        http: None,
        log: None,
        network: None,
        observer: Observer {
            hostname: &sensor.hostname,
            ingress: None,
            name: &sensor.name,
        },
        related: None,
        source: None,
        threat: Threat { enrichments },
        tls: None,
        trawl: DocOwn {
            email: None,
            end: None,
            http: None,
            indicator: KindValue {
                ty: kind.name(),
                value: &value,
            },
            line: None,
            offset: None,
            pcap: None,
            set_generation: h.set.generation(),
            start: None,
            tls: None,
            tunnel: None,
        },
        url: None,
        user_agent: None,
    };
    match &h.seen {
        Seen::Packet {
            ts,
            origin,
            flow: f,
            vlans,
            tunnel,
        } => {
            doc.timestamp = rfc3339(ts.0, ts.1);
            doc.trawl.tunnel = tunnel.map(|t| TunnelDoc {
                depth: t.depth,
                destination: Endpoint {
                    address: None,
                    ip: t.outer.dst,
                    port: t.outer.dst_port,
                },
                id: t.id,
                source: Endpoint {
                    address: None,
                    ip: t.outer.src,
                    port: t.outer.src_port,
                },
                transport: t
                    .outer
                    .transport
                    .name()
                    .map_or_else(|| t.outer.transport.ip_number().to_string(), str::to_string),
                ty: t.kind,
            });
            doc.event.category = &["network", "threat"];
            doc.event.dataset = "trawl.packet";
            doc.source = Some(Endpoint {
                address: None,
                ip: f.src,
                port: f.src_port,
            });
            doc.destination = Some(Endpoint {
                address: None,
                ip: f.dst,
                port: f.dst_port,
            });
            let vlan = |id: u16| (id != 0).then(|| Vlan { id: id.to_string() });
            doc.network = Some(Network {
                community_id: of_flow(
                    f.src,
                    f.dst,
                    f.transport.ip_number(),
                    f.src_port,
                    f.dst_port,
                ),
                iana_number: f.transport.ip_number().to_string(),
                inner: vlan(vlans[1])
                    .filter(|_| vlans[0] != 0)
                    .map(|vlan| Inner { vlan }),
                transport: f.transport.name(),
                vlan: vlan(vlans[0]),
            });
            match origin {
                Origin::File { file, frame } => {
                    doc.trawl.pcap = Some(Pcap {
                        file,
                        frame: *frame,
                    });
                }
                Origin::Interface(name) => {
                    doc.observer.ingress = Some(Ingress {
                        interface: Name { name },
                    });
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
            doc.timestamp = time.map_or_else(|| now.clone(), |t| rfc3339(t.0, t.1));
            doc.event.created = Some(now);
            doc.log = Some(Log {
                file: Path { path: file },
            });
            doc.trawl.line = Some(*line);
            doc.trawl.offset = Some(*offset);
            doc.trawl.start = Some(span.0);
            doc.trawl.end = Some(span.1);
        }
    }
    // The observed value in the traffic field it was seen in, so that the hit can be pivoted
    // on (the flow's addresses are there already).
    if let ObservedIn::Packet(f) = &h.field {
        match f {
            Field::SourceIp | Field::DestinationIp => {}
            Field::DnsQuestion => {
                doc.dns = Some(Dns {
                    question: Some(Name { name: observed }),
                    ..Dns::default()
                })
            }
            // `dns.answers` is an array of objects.
            Field::DnsAnswerName | Field::DnsAnswerIp => {
                let ip = *f == Field::DnsAnswerIp;
                doc.dns = Some(Dns {
                    answers: vec![DnsAnswer {
                        data: ip.then_some(observed),
                        name: (!ip).then_some(observed),
                    }],
                    question: None,
                })
            }
            Field::TlsSni | Field::Ja3 => {
                let sni = *f == Field::TlsSni;
                doc.tls = Some(Tls {
                    client: Some(TlsClient {
                        ja3: (!sni).then_some(observed),
                        server_name: sni.then_some(observed),
                    }),
                    ..Tls::default()
                })
            }
            Field::X509SubjectCn
            | Field::X509San
            | Field::TlsServerMd5
            | Field::TlsServerSha1
            | Field::TlsServerSha256
            | Field::Ja3s => {
                let one = |g: Field| (*f == g).then_some(observed);
                let hash = Hashes {
                    md5: one(Field::TlsServerMd5),
                    sha1: one(Field::TlsServerSha1),
                    sha256: one(Field::TlsServerSha256),
                    sha512: None,
                };
                let x509 = X509 {
                    alternative_names: one(Field::X509San).map(|n| [n]),
                    subject: one(Field::X509SubjectCn).map(|n| CommonName { common_name: [n] }),
                };
                doc.tls = Some(Tls {
                    server: Some(TlsServer {
                        hash: (hash.md5.is_some() || hash.sha1.is_some() || hash.sha256.is_some())
                            .then_some(hash),
                        ja3s: one(Field::Ja3s),
                        x509: (x509.alternative_names.is_some() || x509.subject.is_some())
                            .then_some(x509),
                    }),
                    ..Tls::default()
                })
            }
            Field::Ja4 => {
                doc.trawl.tls = Some(TrawlTls {
                    client: Some(Ja4 { ja4: observed }),
                    ..TrawlTls::default()
                })
            }
            Field::Ja4s => {
                doc.trawl.tls = Some(TrawlTls {
                    server: Some(Ja4s { ja4s: observed }),
                    ..TrawlTls::default()
                })
            }
            Field::HttpHost => {
                doc.url = Some(Url {
                    domain: Some(observed),
                    ..Url::default()
                })
            }
            Field::HttpUrl => {
                doc.url = Some(Url {
                    full: Some(observed),
                    ..Url::default()
                })
            }
            Field::HttpRequest => {
                doc.trawl.http = Some(Http {
                    request: Some(observed),
                    ..Http::default()
                })
            }
            Field::HttpForwardedFor => {
                doc.trawl.http = Some(Http {
                    forwarded_for: Some(observed),
                    ..Http::default()
                })
            }
            Field::HttpReferrer => {
                doc.http = Some(HttpEcs {
                    request: Referrer { referrer: observed },
                })
            }
            Field::HttpUserAgent => doc.user_agent = Some(Original { original: observed }),
            Field::ProxyTarget => {
                if let Some(d) = doc.destination.as_mut() {
                    d.address = Some(observed.to_string());
                }
            }
            // The file's hashes are in `file.hash.*` already.
            Field::HttpFile | Field::SmtpAttachment => {}
            Field::SmtpMailFrom
            | Field::SmtpRcptTo
            | Field::MailFrom
            | Field::MailTo
            | Field::MailCc
            | Field::MailBcc
            | Field::MailReplyTo
            | Field::MailSender => {
                let one = Some(Addresses {
                    address: [observed],
                });
                let mut email = Email::default();
                match f {
                    Field::SmtpMailFrom | Field::MailFrom => email.from = one,
                    Field::MailCc => email.cc = one,
                    Field::MailBcc => email.bcc = one,
                    Field::MailReplyTo => email.reply_to = one,
                    Field::MailSender => email.sender = Some(Address { address: observed }),
                    _ => email.to = one,
                }
                doc.email = Some(email);
            }
            Field::MailReturnPath => {
                doc.trawl.email = Some(OwnEmail {
                    return_path: Addresses {
                        address: [observed],
                    },
                })
            }
        }
    }
    // And in `related.*` by the indicator's kind.
    let one = Some([observed]);
    doc.related = match kind {
        Kind::Ipv4 | Kind::Ipv6 if observed.parse::<IpAddr>().is_ok() => Some(Related {
            ip: one,
            ..Related::default()
        }),
        Kind::Domain => Some(Related {
            hosts: one,
            ..Related::default()
        }),
        // ECS: "all the hashes seen on your event", whatever their algorithm.
        Kind::Md5
        | Kind::Sha1
        | Kind::Sha256
        | Kind::Sha512
        | Kind::X509Md5
        | Kind::X509Sha1
        | Kind::X509Sha256
        | Kind::Ja3
        | Kind::Ja3s => Some(Related {
            hash: one,
            ..Related::default()
        }),
        _ => None,
    };
    serde_json::to_writer(out, &doc)
}

impl<W: Write, D: AsRef<[u8]>> HitSink<D> for EcsJsonLines<W> {
    fn write(&mut self, h: &Hit<Arc<SetVersion<D>>>) -> io::Result<()> {
        write_document(h, &self.sensor, &mut self.out)?;
        self.out.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
