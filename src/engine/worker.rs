//! A worker: decodes the frames of a batch, extracts observables, looks them up, de-duplicates
//! hits per flow and sends them to the sink. Each worker owns all its state (buffers, dedup
//! table, counters); the set is shared read-only and reloaded between batches.

use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_channel::{Sender, TrySendError};

use super::batch::{Batch, FrameRef};
use super::dedup::Dedup;
use super::stats::Stats;
use crate::hits::{
    self, FileMeta, FlowInfo, Hit, ObservedIn, Origin, SetVersion, Transport, TunnelInfo,
};
use crate::indicators::field::{Field, FileDigests};
use crate::indicators::model::Kind;
use crate::indicators::read::Match;
use crate::packets::app::file::FileLimits;
use crate::packets::app::stream::{Found, StreamParser};
use crate::packets::app::tls_fingerprint::{self as fingerprint, Ja4Transport};
use crate::packets::app::{dns, http, quic, tls, x509};
use crate::packets::decode::{self, Encap, Packet};
use crate::packets::flow::{FlowKey, tunnel_context};
use crate::packets::flow_table::{FIN, FlowLimits, FlowTable, RST, SYN};
use crate::packets::{sctp, tunnel};

/// SYN, FIN and RST: the flags that open or end a stream.
const TCP_OPEN_CLOSE: u8 = SYN | FIN | RST;

/// Reason: a stream parser could not use a full buffer (a message longer than it reads);
/// the rest of that direction is not read.
const E_STREAM_FULL: &str = "stream: message longer than the parser buffers";
/// Ports whose UDP payloads are always tried as DNS (others only when they look like DNS).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

/// One worker's state.
pub(crate) struct Worker<D> {
    set: Arc<ArcSwap<SetVersion<D>>>,
    hits: Sender<Hit<Arc<SetVersion<D>>>>,
    dedup: Dedup,
    /// This worker's counters.
    pub stats: Stats,
    /// Set when the sink has gone (its output failed): the worker should stop.
    pub closed: bool,
    ips: Vec<IpAddr>,
    ip_hits: Vec<Option<Match>>,
    names: Vec<u8>,
    items: Vec<(Field, Range<usize>)>,
    addrs: Vec<(Field, IpAddr)>,
    url: Vec<u8>,
    dns_scratch: dns::NameBuf,
    /// The tunnels of this batch's decapsulated packets.
    tunnels: Vec<TunnelInfo>,
    /// TCP connections: their streams and parsers.
    flows: FlowTable<StreamParser>,
    /// How stream parsers hash files (SHA-512 is added per set: see `file_limits`).
    files: FileLimits,
    /// QUIC connections: their clients' Initial packets until the ClientHello is read.
    quic: quic::Connections<FlowKey>,
    /// What a stream parser found in one segment's worth of data, copied out of the stream.
    found: FoundBuf,
}

/// Observations copied out of a stream (which the flow table owns) so that they can be looked
/// up while the table is borrowed no more.
#[derive(Default)]
struct FoundBuf {
    bytes: Vec<u8>,
    items: Vec<(Slot, Range<usize>)>,
}

/// The kind of one copied observation.
#[derive(Clone, Copy)]
enum Slot {
    Host(Field),
    Addr(Field, IpAddr),
    Http,
    Dns,
    Mail(Field),
    ClientHello,
    ServerHello,
    Certificate,
    /// A file: its name is the range.
    File(Field, FileDigests),
    QuicClientHello,
    Error(&'static str),
}

/// One observation, borrowed from a [`FoundBuf`].
enum Item<'a> {
    Host(Field, &'a [u8]),
    Addr(Field, IpAddr),
    Http(&'a [u8]),
    Dns(&'a [u8]),
    Mail(Field, &'a [u8]),
    ClientHello(&'a [u8]),
    ServerHello(&'a [u8]),
    Certificate(&'a [u8]),
    File(Field, &'a [u8], &'a FileDigests),
    /// A whole ClientHello handshake message from a QUIC client's Initial packets (TLS
    /// fingerprints of it name transport `q`).
    QuicClientHello(&'a [u8]),
    Error(&'static str),
}

impl FoundBuf {
    fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }

    fn error(&mut self, why: &'static str) {
        self.items.push((Slot::Error(why), 0..0));
    }

    fn copy(&mut self, slot: Slot, bytes: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        self.items.push((slot, start..self.bytes.len()));
    }

    fn push(&mut self, f: Found<'_>) {
        match f {
            Found::Host(field, name) => self.copy(Slot::Host(field), name),
            Found::Addr(field, ip) => self.items.push((Slot::Addr(field, ip), 0..0)),
            Found::Http(req) => self.copy(Slot::Http, req.head),
            Found::Dns(msg) => self.copy(Slot::Dns, msg),
            Found::Mail(field, addr) => self.copy(Slot::Mail(field), addr),
            Found::ClientHello(msg) => self.copy(Slot::ClientHello, msg),
            Found::ServerHello(msg) => self.copy(Slot::ServerHello, msg),
            Found::Certificate(der) => self.copy(Slot::Certificate, der),
            Found::File {
                field,
                name,
                digests,
            } => self.copy(Slot::File(field, *digests), name),
            Found::Error(why) => self.error(why),
        }
    }

    fn items(&self) -> impl Iterator<Item = Item<'_>> {
        self.items.iter().map(|(slot, r)| {
            let b = &self.bytes[r.clone()];
            match slot {
                Slot::Host(f) => Item::Host(*f, b),
                Slot::Addr(f, ip) => Item::Addr(*f, *ip),
                Slot::Http => Item::Http(b),
                Slot::Dns => Item::Dns(b),
                Slot::ClientHello => Item::ClientHello(b),
                Slot::ServerHello => Item::ServerHello(b),
                Slot::Certificate => Item::Certificate(b),
                Slot::Mail(f) => Item::Mail(*f, b),
                Slot::File(f, digests) => Item::File(*f, b, digests),
                Slot::QuicClientHello => Item::QuicClientHello(b),
                Slot::Error(why) => Item::Error(why),
            }
        })
    }
}

/// What one packet needs from its decoding for matching.
struct Seen {
    frame: FrameRef,
    flow: FlowInfo,
    /// The link-layer context: with `flow`, the flow's key (built only for a hit).
    encap: Encap,
    payload: Range<usize>,
    /// The tunnel the packet came out of, if any: an index into the worker's `tunnels`
    /// (kept out of line: most packets are in none).
    tunnel: Option<usize>,
    /// What the tunnels around it add to its flow key (0 outside any tunnel).
    context: u64,
    /// For a packet that carries a tunnel, the hash of the innermost flow's key; 0 otherwise.
    carried: u64,
    /// A TCP segment's sequence number and flags.
    tcp: Option<(u32, u8)>,
}

impl<D: AsRef<[u8]>> Worker<D> {
    /// A worker reading the current set from `set` and sending hits to `hits`.
    pub(crate) fn new(
        set: Arc<ArcSwap<SetVersion<D>>>,
        hits: Sender<Hit<Arc<SetVersion<D>>>>,
        dedup_window_ns: i64,
        flow_limits: FlowLimits,
    ) -> Self {
        Worker {
            set,
            hits,
            dedup: Dedup::new(dedup_window_ns),
            stats: Stats::default(),
            closed: false,
            ips: Vec::new(),
            ip_hits: Vec::new(),
            names: Vec::new(),
            items: Vec::new(),
            addrs: Vec::new(),
            url: Vec::new(),
            dns_scratch: dns::NameBuf::new(),
            tunnels: Vec::new(),
            flows: FlowTable::new(flow_limits),
            files: flow_limits.files,
            quic: quic::Connections::new(quic::QuicLimits::default()),
            found: FoundBuf::default(),
        }
    }

    /// Processes one batch against the set current at its start.
    pub(crate) fn batch(&mut self, batch: &Batch) {
        let set = self.set.load_full();
        let base = batch.bytes.as_slice();
        let mut seen: Vec<Seen> = Vec::with_capacity(batch.frames.len());
        self.ips.clear();
        self.tunnels.clear();
        for f in &batch.frames {
            let data = batch.frame(f);
            self.stats.frames += 1;
            self.stats.bytes += u64::from(f.orig_len.max(f.len));
            let pkt = match decode::decode(f.link, data) {
                Ok(p) => p,
                Err(e) => {
                    Stats::count(&mut self.stats.decode_errors, e.reason());
                    continue;
                }
            };
            self.stats.decoded += 1;
            self.stats.truncated += u64::from(pkt.truncated.is_some());
            self.stats.fragments += u64::from(pkt.fragment.is_some());
            let outer = seen.len();
            seen.push(self.observe(base, f, &pkt, None, 0));
            let ports = (pkt.src_port.unwrap_or(0), pkt.dst_port.unwrap_or(0));
            if tunnel::may_carry(pkt.transport.ip_number(), ports.0, ports.1) {
                self.decapsulate(base, f, pkt, outer, &mut seen);
            }
        }
        // Addresses of the whole batch in one pipelined lookup.
        set.set.match_ips(&self.ips, &mut self.ip_hits);
        self.stats.lookups += self.ips.len() as u64;
        let ip_hits = std::mem::take(&mut self.ip_hits);
        for (i, s) in seen.iter().enumerate() {
            for (j, field) in [Field::SourceIp, Field::DestinationIp]
                .into_iter()
                .enumerate()
            {
                if let Some(hit) = ip_hits[2 * i + j] {
                    let ip = if j == 0 { s.flow.src } else { s.flow.dst };
                    self.report(&set, batch, s, field, hit, || ip.to_string());
                }
            }
            let payload = base.get(s.payload.clone()).unwrap_or(&[]);
            match (s.flow.transport, s.tcp) {
                // A bare ACK changes no stream: it skips the table (about half of a TCP
                // capture's frames).
                (Transport::Tcp, Some((_, flags)))
                    if payload.is_empty() && flags & TCP_OPEN_CLOSE == 0 => {}
                (Transport::Tcp, Some(tcp)) => self.segment(&set, batch, s, tcp, payload),
                (Transport::Udp, _) if !payload.is_empty() => {
                    self.datagram(&set, batch, s, payload);
                }
                (Transport::Other(132), _) if !payload.is_empty() => {
                    self.sctp(&set, batch, s, payload);
                }
                _ => {}
            }
        }
        self.ip_hits = ip_hits;
        if batch.last {
            self.dedup.end_source(batch.source);
            self.flows.end_source(batch.source);
            let incomplete = self.quic.end_source(batch.source);
            if incomplete > 0 {
                *self.stats.app_errors.entry(quic::E_INCOMPLETE).or_default() += incomplete;
            }
        }
        self.stats.flows = self.flows.stats.clone();
        self.stats.quic = self.quic.stats.clone();
    }

    /// Matches the packets inside `pkt`'s tunnels like any other (`seen[outer]` is `pkt`'s
    /// own entry); the outer packet's payload is then the tunnel, not an application protocol.
    fn decapsulate<'a>(
        &mut self,
        base: &[u8],
        f: &FrameRef,
        pkt: Packet<'a>,
        outer: usize,
        seen: &mut Vec<Seen>,
    ) {
        let (mut carrier, mut context) = (pkt, 0);
        for step in tunnel::layers(pkt) {
            let reason = match step {
                tunnel::Step::Packet {
                    tunnel: inner,
                    packet,
                    depth,
                } => {
                    Stats::count(&mut self.stats.tunnels, inner.tunnel.name());
                    seen[outer].payload = 0..0;
                    context = tunnel_context(context, &carrier, &inner);
                    let info = TunnelInfo {
                        kind: inner.tunnel.name(),
                        id: inner.id,
                        depth,
                        outer: seen[outer].flow,
                    };
                    self.stats.truncated += u64::from(packet.truncated.is_some());
                    self.stats.fragments += u64::from(packet.fragment.is_some());
                    self.tunnels.push(info);
                    let index = Some(self.tunnels.len() - 1);
                    seen.push(self.observe(base, f, &packet, index, context));
                    carrier = packet;
                    continue;
                }
                tunnel::Step::Tunnel(e) => e.reason(),
                tunnel::Step::Decode(_, e) => e.reason(),
                tunnel::Step::TooDeep => "too many tunnel layers",
            };
            Stats::count(&mut self.stats.tunnel_errors, reason);
        }
        // The frame was routed by its innermost flow: the tunnel's own packets are told apart
        // by it too (see `FlowKey::carrying`).
        if let [layers @ .., innermost] = &mut seen[outer..] {
            let inner = flow_key(innermost).hash64();
            for s in layers {
                s.carried = inner;
            }
        }
    }

    /// What matching needs from one decoded packet (the outermost, or one inside the tunnel
    /// `self.tunnels[tunnel]`, whose flows `context` tells apart); queues its addresses for
    /// the batch lookup.
    fn observe(
        &mut self,
        base: &[u8],
        f: &FrameRef,
        pkt: &Packet<'_>,
        tunnel: Option<usize>,
        context: u64,
    ) -> Seen {
        self.ips.push(pkt.src);
        self.ips.push(pkt.dst);
        // The payload borrows from the batch bytes; an empty one may be a static `&[]`.
        let payload_off = (pkt.payload.as_ptr() as usize)
            .checked_sub(base.as_ptr() as usize)
            .filter(|&o| !pkt.payload.is_empty() && o + pkt.payload.len() <= base.len())
            .unwrap_or(0);
        let payload_len = if payload_off == 0 {
            0
        } else {
            pkt.payload.len()
        };
        Seen {
            frame: *f,
            flow: flow_info(pkt),
            encap: pkt.encap,
            payload: payload_off..payload_off + payload_len,
            tunnel,
            context,
            carried: 0,
            tcp: pkt.tcp_seq.zip(pkt.tcp_flags),
        }
    }

    /// Extracts and looks up application-layer observables of one UDP payload.
    fn datagram(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, payload: &[u8]) {
        let ports = [s.flow.src_port.unwrap_or(0), s.flow.dst_port.unwrap_or(0)];
        if ports.iter().any(|p| DNS_PORTS.contains(p)) || dns::looks_like_dns(payload) {
            self.dns(set, batch, s, payload);
        }
        if quic::may_be_long_header(payload) {
            self.quic(set, batch, s, payload);
        }
    }

    /// Reads the QUIC Initial packets of one UDP payload, and looks up the server name of a
    /// ClientHello they complete.
    fn quic(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, payload: &[u8]) {
        let key = flow_key(s);
        let from_first = key.sent_by_first(s.flow.src, s.flow.src_port.unwrap_or(0));
        let Worker { quic, found, .. } = self;
        found.clear();
        quic.datagram(
            batch.source,
            key,
            from_first,
            s.frame.ts_ns(),
            payload,
            |event| match event {
                quic::Event::ClientHello(message) => found.copy(Slot::QuicClientHello, message),
                quic::Event::Error(why) => found.error(why),
            },
        );
        self.look_up_found(set, batch, s);
    }

    /// Parses the whole user messages of an SCTP packet as the application protocol their
    /// ports say (each message on its own: SCTP keeps message boundaries).
    fn sctp(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, chunks: &[u8]) {
        let (sport, dport) = (s.flow.src_port.unwrap_or(0), s.flow.dst_port.unwrap_or(0));
        let from_client = client_by_port(sport, dport);
        let server_port = if from_client { dport } else { sport };
        let files = file_limits(self.files, set);
        self.found.clear();
        for message in sctp::messages(chunks) {
            match message {
                Ok(m) => {
                    let found = &mut self.found;
                    stream_parser(from_client, server_port, files)
                        .parse(m.data, &mut |f| found.push(f));
                }
                Err(why) => self.found.error(why),
            }
        }
        self.look_up_found(set, batch, s);
    }

    /// Adds one TCP segment to its connection's stream and parses what became readable.
    fn segment(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        (seq, flags): (u32, u8),
        payload: &[u8],
    ) {
        let key = flow_key(s);
        let (sport, dport) = (s.flow.src_port.unwrap_or(0), s.flow.dst_port.unwrap_or(0));
        let from_first = key.sent_by_first(s.flow.src, sport);
        let files = self.files;
        let Worker { flows, found, .. } = self;
        found.clear();
        let delivered = flows.segment(
            batch.source,
            key,
            from_first,
            s.frame.ts_ns(),
            seq,
            flags,
            payload,
            |from_client| {
                let from_client = from_client.unwrap_or_else(|| client_by_port(sport, dport));
                let server_port = if from_client { dport } else { sport };
                stream_parser(from_client, server_port, file_limits(files, set))
            },
        );
        let ended = delivered.ended;
        if let Some(dir) = delivered.direction {
            let out = &mut |f: Found<'_>| found.push(f);
            if delivered.segment.gap > 0 {
                dir.app.gap(delivered.segment.gap, out);
            }
            if !dir.stream.is_closed() {
                let used = dir.app.parse(dir.stream.data(), out);
                dir.stream.consume(used);
                if dir.app.done() {
                    dir.stream.close();
                } else if dir.stream.data().len() >= dir.app.max_buffer() {
                    // The parser could not use a full buffer: stop rather than grow.
                    out(Found::Error(E_STREAM_FULL));
                    dir.stream.close();
                }
            }
            // The sender finished (FIN): a body delimited by the close is whole. A reset ends
            // both directions, cleanly for neither.
            if flags & RST != 0 {
                dir.app.end(false, out);
            } else if flags & FIN != 0 {
                dir.app.end(true, out);
            }
            if let Some(peer) = delivered.peer {
                if flags & RST != 0 {
                    peer.app.end(false, out);
                }
                // HTTP requests tell the server direction how their responses are framed.
                dir.app.hand_over(&mut peer.app);
            }
        }
        if ended {
            flows.close(batch.source, key);
        }
        self.look_up_found(set, batch, s);
    }

    /// Looks up what a stream or message parser found (in `self.found`).
    fn look_up_found(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen) {
        let found = std::mem::take(&mut self.found);
        for item in found.items() {
            match item {
                Item::Host(field, name) => self.name(set, batch, s, field, name),
                Item::Addr(field, ip) => {
                    self.stats.lookups += 1;
                    if let Some(hit) = set.set.match_ip(ip) {
                        self.report(set, batch, s, field, hit, || ip.to_string());
                    }
                }
                Item::Http(head) => match http::request_or_h2_head(head) {
                    Ok(Some(req)) => self.http(set, batch, s, &req),
                    Ok(None) => {}
                    Err(why) => Stats::count(&mut self.stats.app_errors, why),
                },
                Item::Dns(msg) => self.dns(set, batch, s, msg),
                Item::QuicClientHello(message) => {
                    match tls::handshake_sni(message) {
                        Ok(Some(name)) => self.name(set, batch, s, Field::TlsSni, name),
                        Ok(None) => {}
                        Err(why) => Stats::count(&mut self.stats.app_errors, why),
                    }
                    self.client_hello(set, batch, s, message, Ja4Transport::Quic);
                }
                Item::Mail(field, addr) => {
                    self.stats.lookups += 1;
                    if let Ok(addr) = std::str::from_utf8(addr) {
                        if let Some(hit) = set.set.match_email(addr) {
                            self.report(set, batch, s, field, hit, || addr.to_string());
                        }
                    }
                }
                Item::ClientHello(msg) => {
                    self.client_hello(set, batch, s, msg, Ja4Transport::Tcp);
                }
                Item::ServerHello(msg) => self.server_hello(set, batch, s, msg),
                Item::Certificate(der) => self.certificate(set, batch, s, der),
                Item::File(field, name, digests) => self.file(set, batch, s, field, name, digests),
                Item::Error(why) => Stats::count(&mut self.stats.app_errors, why),
            }
        }
        self.found = found;
    }

    /// Looks up the JA3 and JA4 fingerprints of a ClientHello that came over `transport`
    /// (JA4 starts with `t` or `q`), when the set holds any. (A ClientHello that cannot be
    /// read was counted by its parser already.)
    fn client_hello(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        msg: &[u8],
        transport: Ja4Transport,
    ) {
        let (ja3, ja4) = (set.set.has_kind(Kind::Ja3), set.set.has_kind(Kind::Ja4));
        if !ja3 && !ja4 {
            return;
        }
        let Ok(Some(hello)) = tls::client_hello(msg) else {
            return;
        };
        if ja3 {
            match fingerprint::ja3(&hello) {
                Ok(d) => self.fingerprint(set, batch, s, Field::Ja3, Kind::Ja3, &d),
                Err(why) => Stats::count(&mut self.stats.app_errors, why),
            }
        }
        if ja4 {
            match fingerprint::ja4(&hello, transport) {
                Ok(text) => self.fingerprint(set, batch, s, Field::Ja4, Kind::Ja4, text.as_bytes()),
                // Counted once per hello, by JA3 when it was computed.
                Err(why) if !ja3 => Stats::count(&mut self.stats.app_errors, why),
                Err(_) => {}
            }
        }
    }

    /// Looks up the JA3S and JA4S fingerprints of a ServerHello, when the set holds any.
    fn server_hello(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, msg: &[u8]) {
        let (ja3s, ja4s) = (set.set.has_kind(Kind::Ja3s), set.set.has_kind(Kind::Ja4s));
        if !ja3s && !ja4s {
            return;
        }
        let hello = match tls::server_hello(msg) {
            Ok(Some(h)) => h,
            Ok(None) => return,
            Err(why) => return Stats::count(&mut self.stats.app_errors, why),
        };
        if ja3s {
            match fingerprint::ja3s(&hello) {
                Ok(d) => self.fingerprint(set, batch, s, Field::Ja3s, Kind::Ja3s, &d),
                Err(why) => Stats::count(&mut self.stats.app_errors, why),
            }
        }
        if ja4s {
            match fingerprint::ja4s(&hello, Ja4Transport::Tcp) {
                Ok(text) => {
                    self.fingerprint(set, batch, s, Field::Ja4s, Kind::Ja4s, text.as_bytes())
                }
                Err(why) if !ja3s => Stats::count(&mut self.stats.app_errors, why),
                Err(_) => {}
            }
        }
    }

    /// Looks up the names a server certificate is for (as domains) and its fingerprints, each
    /// only when the set holds indicators of its kind.
    fn certificate(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, der: &[u8]) {
        if set.set.has_kind(Kind::X509Sha1) {
            let d = fingerprint::sha1(der);
            self.fingerprint(set, batch, s, Field::TlsServerSha1, Kind::X509Sha1, &d);
        }
        if set.set.has_kind(Kind::X509Sha256) {
            let d = fingerprint::sha256(der);
            self.fingerprint(set, batch, s, Field::TlsServerSha256, Kind::X509Sha256, &d);
        }
        if set.set.has_kind(Kind::X509Md5) {
            let d = fingerprint::md5(der);
            self.fingerprint(set, batch, s, Field::TlsServerMd5, Kind::X509Md5, &d);
        }
        if !set.set.has_kind(Kind::Domain) {
            return;
        }
        let mut names = std::mem::take(&mut self.names);
        let mut items = std::mem::take(&mut self.items);
        names.clear();
        items.clear();
        let read = x509::names(der, &mut |field, name| {
            let start = names.len();
            names.extend_from_slice(name);
            items.push((field, start..names.len()));
        });
        if let Err(why) = read {
            Stats::count(&mut self.stats.app_errors, why);
        }
        for (field, r) in &items {
            let name = &names[r.clone()];
            match name.strip_prefix(b"*.") {
                // A wildcard name is for the subdomains of the name after it: that name is
                // looked up, the name as written is reported.
                Some(parent) => {
                    self.stats.lookups += 1;
                    let hit = std::str::from_utf8(parent)
                        .ok()
                        .and_then(|p| set.set.match_domain(p));
                    if let Some(hit) = hit {
                        self.report(set, batch, s, *field, hit, || {
                            String::from_utf8_lossy(name).into_owned()
                        });
                    }
                }
                None => self.name(set, batch, s, *field, name),
            }
        }
        self.names = names;
        self.items = items;
    }

    /// Looks up a certificate or TLS fingerprint of `kind`: raw digest bytes, or JA4 text. The
    /// hit shows a digest in lowercase hex, JA4 as it is.
    fn fingerprint(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        field: Field,
        kind: Kind,
        value: &[u8],
    ) {
        self.stats.lookups += 1;
        if let Some(hit) = set.set.match_fingerprint(kind, value) {
            self.report(set, batch, s, field, hit, || match kind {
                Kind::Ja4 | Kind::Ja4s => String::from_utf8_lossy(value).into_owned(),
                _ => value.iter().map(|b| format!("{b:02x}")).collect(),
            });
        }
    }

    /// Looks each hash of a file up (SHA-512 when it was computed); a hit carries the file.
    fn file(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        field: Field,
        name: &[u8],
        digests: &FileDigests,
    ) {
        let hashes: [Option<&[u8]>; 4] = [
            Some(&digests.md5),
            Some(&digests.sha1),
            Some(&digests.sha256),
            digests.sha512.as_ref().map(|d| &d[..]),
        ];
        for digest in hashes.into_iter().flatten() {
            self.stats.lookups += 1;
            if let Some(hit) = set.set.match_hash(digest) {
                let file = FileMeta {
                    name: String::from_utf8_lossy(name).into_owned(),
                    digests: *digests,
                };
                self.report_file(set, batch, s, field, hit, hex(digest), Some(Box::new(file)));
            }
        }
    }

    fn dns(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, msg: &[u8]) {
        self.names.clear();
        self.items.clear();
        self.addrs.clear();
        let (names, items, addrs) = (&mut self.names, &mut self.items, &mut self.addrs);
        let parsed = dns::parse(msg, &mut self.dns_scratch, |item| match item {
            dns::DnsItem::Question(n) | dns::DnsItem::AnswerName(n) => {
                let field = if matches!(item, dns::DnsItem::Question(_)) {
                    Field::DnsQuestion
                } else {
                    Field::DnsAnswerName
                };
                let start = names.len();
                names.extend_from_slice(n);
                items.push((field, start..names.len()));
            }
            dns::DnsItem::AnswerAddr(ip) => addrs.push((Field::DnsAnswerIp, ip)),
        });
        if let Err(why) = parsed {
            Stats::count(&mut self.stats.app_errors, why);
        }
        let items = std::mem::take(&mut self.items);
        let names = std::mem::take(&mut self.names);
        for (field, r) in &items {
            self.name(set, batch, s, *field, &names[r.clone()]);
        }
        self.items = items;
        self.names = names;
        let addrs = std::mem::take(&mut self.addrs);
        for &(field, ip) in &addrs {
            self.stats.lookups += 1;
            if let Some(hit) = set.set.match_ip(ip) {
                self.report(set, batch, s, field, hit, || ip.to_string());
            }
        }
        self.addrs = addrs;
    }

    /// Looks a host name up (domain table with the subdomain rule); a literal address (an HTTP
    /// Host of `203.0.113.7`) is looked up as an address.
    fn name(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        field: Field,
        name: &[u8],
    ) {
        self.stats.lookups += 1;
        let Ok(text) = std::str::from_utf8(name) else {
            return;
        };
        let hit = match text.parse::<IpAddr>() {
            Ok(ip) => set.set.match_ip(ip),
            Err(_) => set.set.match_domain(text),
        };
        if let Some(hit) = hit {
            self.report(set, batch, s, field, hit, || text.to_string());
        }
    }

    fn http(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, req: &http::Request<'_>) {
        if let Some(authority) = req.authority() {
            self.name(set, batch, s, Field::HttpHost, http::strip_port(authority));
        }
        let server = s.flow.dst_port.map(|p| (s.flow.dst, p));
        let mut url = std::mem::take(&mut self.url);
        url.clear();
        if http::full_url(req, server, &mut url) {
            if let Ok(u) = std::str::from_utf8(&url) {
                self.stats.lookups += 1;
                for hit in set.set.match_url(u) {
                    self.report(set, batch, s, Field::HttpUrl, hit, || u.to_string());
                }
            }
        }
        self.url = url;
        if let Some(referer) = req.referer {
            self.referer(set, batch, s, referer);
        }
        // `addrs` may still hold a DNS message's answers.
        self.addrs.clear();
        http::forwarded_addrs(req.head, |ip| {
            self.addrs.push((Field::HttpForwardedFor, ip))
        });
        let addrs = std::mem::take(&mut self.addrs);
        for &(field, ip) in &addrs {
            self.stats.lookups += 1;
            if let Some(hit) = set.set.match_ip(ip) {
                self.report(set, batch, s, field, hit, || ip.to_string());
            }
        }
        self.addrs = addrs;
        self.stats.lookups += 1;
        for hit in set.set.match_http(req.head) {
            let seen = &req.head[hit.start as usize..hit.end as usize];
            self.report(set, batch, s, Field::HttpRequest, hit, || {
                String::from_utf8_lossy(seen).into_owned()
            });
        }
    }

    /// A request's `Referer`: the URL as a URL (as the request's own URL is matched), and the
    /// host it names as a name.
    fn referer(&mut self, set: &Arc<SetVersion<D>>, batch: &Batch, s: &Seen, referer: &[u8]) {
        if let Ok(u) = std::str::from_utf8(referer) {
            self.stats.lookups += 1;
            for hit in set.set.match_url(u) {
                self.report(set, batch, s, Field::HttpReferrer, hit, || u.to_string());
            }
        }
        if let Some(host) = http::url_host(referer) {
            self.name(set, batch, s, Field::HttpReferrer, host);
        }
    }

    /// De-duplicates a hit and sends it to the sink, counting a full queue as back-pressure.
    fn report(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        field: Field,
        hit: Match,
        observed: impl FnOnce() -> String,
    ) {
        self.report_file(set, batch, s, field, hit, observed, None);
    }

    /// [`report`](Self::report) for a hit that may carry the file it was computed from.
    #[allow(clippy::too_many_arguments)]
    fn report_file(
        &mut self,
        set: &Arc<SetVersion<D>>,
        batch: &Batch,
        s: &Seen,
        field: Field,
        hit: Match,
        observed: impl FnOnce() -> String,
        file: Option<Box<FileMeta>>,
    ) {
        if !self.dedup.admit(
            batch.source,
            flow_key(s).carrying(s.carried),
            hit.indicator,
            s.frame.ts_ns(),
            s.frame.newest_ns,
        ) {
            self.stats.deduplicated += 1;
            return;
        }
        self.stats.hits += 1;
        let vlans = s.encap.vlan_ids;
        let found = Hit {
            seen: hits::Seen::Packet {
                ts: (s.frame.ts_sec, s.frame.ts_nsec),
                origin: if batch.live {
                    Origin::Interface(batch.origin.clone())
                } else {
                    Origin::File {
                        file: batch.origin.clone(),
                        frame: s.frame.number,
                    }
                },
                flow: s.flow,
                vlans: [vlans[0], vlans[1]],
                tunnel: s.tunnel.map(|i| self.tunnels[i]),
            },
            field: ObservedIn::Packet(field),
            observed: observed(),
            matched: hit,
            set: set.clone(),
            file,
        };
        match self.hits.try_send(found) {
            Ok(()) => {}
            Err(TrySendError::Full(found)) => {
                self.stats.backpressure += 1;
                self.closed |= self.hits.send(found).is_err();
            }
            Err(TrySendError::Disconnected(_)) => self.closed = true,
        }
    }
}

/// How a stream parser made now hashes files: `files`, with SHA-512 when the set holds any
/// SHA-512 indicator (else it would be computed for nothing); not at all when the set holds no
/// hash indicator (a body is then read for its framing only).
fn file_limits<D: AsRef<[u8]>>(files: FileLimits, set: &SetVersion<D>) -> Option<FileLimits> {
    let hashes = [Kind::Md5, Kind::Sha1, Kind::Sha256, Kind::Sha512];
    hashes
        .iter()
        .any(|&k| set.set.has_kind(k))
        .then(|| FileLimits {
            sha512: set.set.has_kind(Kind::Sha512),
            ..files
        })
}

/// A stream parser for a direction, hashing files as `files` says.
fn stream_parser(from_client: bool, server_port: u16, files: Option<FileLimits>) -> StreamParser {
    let p = StreamParser::new(from_client, server_port);
    match files {
        Some(f) => p.with_file_limits(f),
        None => p.without_files(),
    }
}

/// Lowercase hex, as hash indicators are written.
fn hex(digest: &[u8]) -> impl FnOnce() -> String + '_ {
    move || {
        use std::fmt::Write;
        digest.iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    }
}

/// Whether a packet from `sport` to `dport` comes from the client, when no handshake says:
/// the side on the higher (ephemeral) port is.
fn client_by_port(sport: u16, dport: u16) -> bool {
    sport > dport
}

/// The key of a packet's own flow, in its tunnels.
fn flow_key(s: &Seen) -> FlowKey {
    FlowKey::new(
        s.flow.src,
        s.flow.src_port.unwrap_or(0),
        s.flow.dst,
        s.flow.dst_port.unwrap_or(0),
        s.flow.transport.ip_number(),
    )
    .within(s.encap)
    .in_tunnel(s.context)
}

fn flow_info(p: &Packet<'_>) -> FlowInfo {
    FlowInfo {
        src: p.src,
        dst: p.dst,
        src_port: p.src_port,
        dst_port: p.dst_port,
        transport: p.transport,
    }
}
