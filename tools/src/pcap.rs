//! Crafting traffic: a classic-pcap writer and builders for the frames and payloads trawl
//! extracts observables from (DNS, TLS ClientHello, HTTP, SMTP), over IPv4/IPv6, with VLAN tags,
//! fragments and deliberately broken packets.

use std::io::{self, Write};
use std::net::IpAddr;

use etherparse::PacketBuilder;

/// Writes a classic pcap file (microsecond timestamps, Ethernet link type).
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?; // LINKTYPE_ETHERNET
        Ok(PcapWriter { out })
    }

    /// Writes one frame captured at `ts_us` microseconds since the epoch.
    pub fn frame(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        self.out
            .write_all(&((ts_us / 1_000_000) as u32).to_le_bytes())?;
        self.out
            .write_all(&((ts_us % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(frame)
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

fn builder(
    src: IpAddr,
    dst: IpAddr,
    vlan: Option<u16>,
) -> etherparse::PacketBuilderStep<etherparse::IpHeaders> {
    let eth = PacketBuilder::ethernet2(MAC_A, MAC_B);
    match (src, dst, vlan) {
        (IpAddr::V4(s), IpAddr::V4(d), None) => eth.ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V4(s), IpAddr::V4(d), Some(v)) => eth
            .single_vlan(v.try_into().expect("vlan id"))
            .ipv4(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d), None) => eth.ipv6(s.octets(), d.octets(), 64),
        (IpAddr::V6(s), IpAddr::V6(d), Some(v)) => eth
            .single_vlan(v.try_into().expect("vlan id"))
            .ipv6(s.octets(), d.octets(), 64),
        _ => panic!("mixed address families"),
    }
}

/// An Ethernet frame carrying UDP.
pub fn udp(
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    vlan: Option<u16>,
    payload: &[u8],
) -> Vec<u8> {
    let b = builder(src, dst, vlan).udp(sport, dport);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("write to Vec");
    out
}

/// An Ethernet frame carrying a TCP segment with PSH|ACK.
pub fn tcp(
    src: IpAddr,
    sport: u16,
    dst: IpAddr,
    dport: u16,
    vlan: Option<u16>,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let b = builder(src, dst, vlan)
        .tcp(sport, dport, seq, 64240)
        .psh()
        .ack(1);
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).expect("write to Vec");
    out
}

/// A TCP connection written as a stream analyser expects it: the three-way handshake, data
/// segments with consistent sequence and acknowledgement numbers (each acknowledged by the
/// other side), and a FIN exchange. Returns frames with their timestamps, 1 ms apart.
pub struct TcpSession {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    /// Next sequence number of the client and of the server.
    seq: [u32; 2],
    ts: u64,
    frames: Vec<(u64, Vec<u8>)>,
}

impl TcpSession {
    /// A connection from `client` to `server` starting at `ts_us`; writes the handshake.
    pub fn open(client: (IpAddr, u16), server: (IpAddr, u16), ts_us: u64) -> TcpSession {
        let mut s = TcpSession {
            client,
            server,
            seq: [1_000, 50_000],
            ts: ts_us,
            frames: Vec::new(),
        };
        s.segment(0, Flags::Syn, &[]);
        s.segment(1, Flags::SynAck, &[]);
        s.segment(0, Flags::Ack, &[]);
        s
    }

    /// The client sends `data` (PSH|ACK), the server acknowledges it.
    pub fn client(&mut self, data: &[u8]) -> &mut Self {
        self.segment(0, Flags::Data, data);
        self.segment(1, Flags::Ack, &[]);
        self
    }

    /// The server sends `data` (PSH|ACK), the client acknowledges it.
    pub fn server(&mut self, data: &[u8]) -> &mut Self {
        self.segment(1, Flags::Data, data);
        self.segment(0, Flags::Ack, &[]);
        self
    }

    /// The client closes (FIN|ACK), the server closes too, the client acknowledges; returns
    /// every frame of the connection.
    pub fn close(mut self) -> Vec<(u64, Vec<u8>)> {
        self.segment(0, Flags::Fin, &[]);
        self.segment(1, Flags::Fin, &[]);
        self.segment(0, Flags::Ack, &[]);
        self.frames
    }

    /// Writes one segment from side `from` (0 client, 1 server).
    fn segment(&mut self, from: usize, flags: Flags, data: &[u8]) {
        let (src, dst) = if from == 0 {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let seq = self.seq[from];
        let ack = self.seq[1 - from];
        let b = builder(src.0, dst.0, None).tcp(src.1, dst.1, seq, 64240);
        let b = match flags {
            Flags::Syn => b.syn(),
            Flags::SynAck => b.syn().ack(ack),
            Flags::Ack => b.ack(ack),
            Flags::Data => b.psh().ack(ack),
            Flags::Fin => b.fin().ack(ack),
        };
        let mut out = Vec::with_capacity(b.size(data.len()));
        b.write(&mut out, data).expect("write to Vec");
        // SYN and FIN take one sequence number each.
        let used =
            data.len() as u32 + u32::from(matches!(flags, Flags::Syn | Flags::SynAck | Flags::Fin));
        self.seq[from] = seq.wrapping_add(used);
        self.frames.push((self.ts, out));
        self.ts += 1000;
    }
}

#[derive(Clone, Copy)]
enum Flags {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
}

/// The two IPv4 fragments of a UDP datagram (the first carries the UDP header), split after
/// `first_len` bytes of IP payload (a multiple of 8).
pub fn udp_v4_fragments(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
    first_len: usize,
) -> [Vec<u8>; 2] {
    let whole = udp(
        IpAddr::from(src),
        sport,
        IpAddr::from(dst),
        dport,
        None,
        payload,
    );
    let ip_payload = &whole[14 + 20..];
    let (a, b) = ip_payload.split_at(first_len.min(ip_payload.len()));
    let frag = |part: &[u8], offset: usize, more: bool| {
        let mut h =
            etherparse::Ipv4Header::new(part.len() as u16, 64, etherparse::IpNumber::UDP, src, dst)
                .expect("header");
        h.identification = 0x1234;
        h.more_fragments = more;
        h.fragment_offset = etherparse::IpFragOffset::try_new((offset / 8) as u16).expect("offset");
        h.header_checksum = h.calc_header_checksum();
        let mut out = Vec::new();
        etherparse::Ethernet2Header {
            source: MAC_A,
            destination: MAC_B,
            ether_type: etherparse::EtherType::IPV4,
        }
        .write(&mut out)
        .expect("write");
        h.write(&mut out).expect("write");
        out.extend_from_slice(part);
        out
    };
    [frag(a, 0, true), frag(b, first_len, false)]
}

fn dns_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A DNS query for `name` (type A).
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    dns_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    m
}

/// A DNS response to a query for `name`: an optional CNAME to `cname`, then A/AAAA records
/// (owner names compressed as pointers).
pub fn dns_response(id: u16, name: &str, cname: Option<&str>, addrs: &[IpAddr]) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    let answers = addrs.len() as u16 + u16::from(cname.is_some());
    m.extend_from_slice(&[0x81, 0x80, 0, 1]);
    m.extend_from_slice(&answers.to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    dns_name(&mut m, name);
    m.extend_from_slice(&[0, 1, 0, 1]);
    let mut owner: u16 = 0xC00C; // pointer to the question name
    if let Some(c) = cname {
        m.extend_from_slice(&owner.to_be_bytes());
        m.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0, 60]);
        let mut rdata = Vec::new();
        dns_name(&mut rdata, c);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        owner = 0xC000 | (m.len() as u16);
        m.extend_from_slice(&rdata);
    }
    for a in addrs {
        m.extend_from_slice(&owner.to_be_bytes());
        match a {
            IpAddr::V4(v4) => {
                m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                m.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                m.extend_from_slice(&[0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
                m.extend_from_slice(&v6.octets());
            }
        }
    }
    m
}

/// A TLS 1.2 record holding a ClientHello with a server_name extension for `sni`.
pub fn tls_client_hello(sni: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let name = sni.as_bytes();
    ext.extend_from_slice(&[0, 0]); // server_name
    ext.extend_from_slice(&((name.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
    ext.extend_from_slice(name);
    let mut body = Vec::new();
    body.extend_from_slice(&[3, 3]);
    body.extend_from_slice(&[0x42; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// An HTTP/1.1 GET request.
pub fn http_get(host: &str, uri: &str, user_agent: &str) -> Vec<u8> {
    format!("GET {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

/// An SMTP client segment with the envelope commands (pipelined).
pub fn smtp_envelope(from: &str, to: &[&str]) -> Vec<u8> {
    let mut s = format!("MAIL FROM:<{from}> SIZE=1024\r\n");
    for t in to {
        s.push_str(&format!("RCPT TO:<{t}>\r\n"));
    }
    s.into_bytes()
}

/// The crafted capture behind `testdata/pcaps/crafted.pcap` and the engine's exact-hit test:
/// one frame per thing a sensor must see (DNS query and answer, TLS SNI, HTTP request, SMTP
/// envelope, plain IPv4 and IPv6 flows, a VLAN tag, fragments, a cut TCP header, ARP, garbage,
/// a repeated query). Returns `(timestamp µs, frame, what it is)`.
pub fn crafted_scenario() -> Vec<(u64, Vec<u8>, &'static str)> {
    let ip = |s: &str| -> IpAddr { s.parse().expect("address") };
    let (client, resolver) = (ip("192.0.2.10"), ip("192.0.2.53"));
    let t0 = 1_767_225_600_000_000u64; // 2026-01-01T00:00:00Z
    let query = dns_query(0x1111, "www.evil.example");
    let mut frames = vec![
        (
            udp(client, 50000, resolver, 53, None, &query),
            "DNS query www.evil.example",
        ),
        (
            udp(
                resolver,
                53,
                client,
                50000,
                None,
                &dns_response(
                    0x1111,
                    "www.evil.example",
                    Some("edge.evil-cdn.example"),
                    &[ip("198.51.100.66")],
                ),
            ),
            "DNS response: CNAME edge.evil-cdn.example, A 198.51.100.66",
        ),
        (
            tcp(
                client,
                50001,
                ip("203.0.113.80"),
                443,
                None,
                1,
                &tls_client_hello("login.phish.example"),
            ),
            "TLS ClientHello, SNI login.phish.example",
        ),
        (
            tcp(
                client,
                50002,
                ip("203.0.113.81"),
                80,
                None,
                1,
                &http_get("malware.example", "/payload.exe", "EvilBot/1.0"),
            ),
            "HTTP GET http://malware.example/payload.exe, User-Agent EvilBot/1.0",
        ),
        (
            tcp(
                client,
                50003,
                ip("203.0.113.25"),
                25,
                None,
                1,
                &smtp_envelope("ceo-fraud@bad-actor.example", &["victim@corp.example"]),
            ),
            "SMTP MAIL FROM ceo-fraud@bad-actor.example",
        ),
        (
            udp(client, 50004, ip("203.0.113.7"), 4444, None, b"ping"),
            "UDP to 203.0.113.7",
        ),
        (
            udp(client, 50005, ip("203.0.113.7"), 4445, Some(100), b"ping"),
            "VLAN 100, UDP to 203.0.113.7",
        ),
        (
            tcp(
                ip("2001:db8::10"),
                50006,
                ip("2001:db8:bad::1"),
                443,
                None,
                1,
                &[],
            ),
            "IPv6 TCP to 2001:db8:bad::1",
        ),
    ];
    let [f1, f2] = udp_v4_fragments(
        [192, 0, 2, 10],
        [192, 0, 2, 53],
        50007,
        53,
        &dns_query(0x2222, "www.evil.example"),
        16,
    );
    frames.push((
        f1,
        "first IPv4 fragment of a DNS query (UDP header + 8 bytes)",
    ));
    frames.push((f2, "second IPv4 fragment"));
    let whole = tcp(client, 50008, ip("203.0.113.7"), 8080, None, 1, b"data");
    frames.push((
        whole[..14 + 20 + 10].to_vec(),
        "IPv4 to 203.0.113.7 with its TCP header cut at 10 bytes",
    ));
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&[0x02, 0, 0, 0, 0, 1, 0x08, 0x06]);
    arp.extend_from_slice(&[
        0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1,
    ]);
    frames.push((arp, "ARP request"));
    frames.push((vec![0xde, 0xad, 0xbe, 0xef, 0x00], "5 bytes of garbage"));
    frames.push((
        udp(client, 50000, resolver, 53, None, &query),
        "the DNS query again, 10 s later",
    ));
    frames
        .into_iter()
        .enumerate()
        .map(|(i, (f, what))| {
            let ts = if i + 1 == 14 {
                t0 + 10_000_000
            } else {
                t0 + i as u64 * 1000
            };
            (ts, f, what)
        })
        .collect()
}

/// An Ethernet frame whose untagged `frame` is re-wrapped: QinQ tags `outer` then `inner`
/// (802.1ad, then 802.1Q), or one MPLS label.
fn rewrap(frame: &[u8], tags: &[u16], mpls_label: Option<u32>) -> Vec<u8> {
    let (macs, rest) = frame.split_at(12);
    let (ether_type, ip) = rest.split_at(2);
    let mut out = macs.to_vec();
    for (i, vid) in tags.iter().enumerate() {
        out.extend_from_slice(if i == 0 && tags.len() > 1 {
            &[0x88, 0xa8]
        } else {
            &[0x81, 0x00]
        });
        out.extend_from_slice(&vid.to_be_bytes());
    }
    match mpls_label {
        Some(label) => {
            out.extend_from_slice(&[0x88, 0x47]);
            // Label, bottom of stack, TTL 64.
            out.extend_from_slice(&((label << 12) | 0x100 | 64).to_be_bytes());
        }
        None => out.extend_from_slice(ether_type),
    }
    out.extend_from_slice(ip);
    out
}

/// The capture behind `testdata/pcaps/vlans.pcap`: one DNS query for `www.evil.example` from
/// 192.0.2.10:50000 to 192.0.2.53:53 — the same 5-tuple every time — untagged, on VLAN 10, on
/// VLAN 20, in QinQ 100/10, under MPLS labels 16 and 17, then again on VLAN 10 one second
/// later (a repeat in its flow). Returns `(timestamp µs, frame, what it is)`.
pub fn vlan_scenario() -> Vec<(u64, Vec<u8>, &'static str)> {
    let ip = |s: &str| -> IpAddr { s.parse().expect("address") };
    let t0 = 1_767_225_600_000_000u64; // 2026-01-01T00:00:00Z
    let query = udp(
        ip("192.0.2.10"),
        50000,
        ip("192.0.2.53"),
        53,
        None,
        &dns_query(0x3333, "www.evil.example"),
    );
    let frames = [
        (rewrap(&query, &[], None), "untagged"),
        (rewrap(&query, &[10], None), "VLAN 10"),
        (rewrap(&query, &[20], None), "VLAN 20"),
        (rewrap(&query, &[100, 10], None), "QinQ 100/10"),
        (rewrap(&query, &[], Some(16)), "MPLS label 16"),
        (rewrap(&query, &[], Some(17)), "MPLS label 17"),
        (rewrap(&query, &[10], None), "VLAN 10 again, 1 s later"),
    ];
    frames
        .into_iter()
        .enumerate()
        .map(|(i, (f, what))| {
            let ts = if i == 6 {
                t0 + 1_000_000
            } else {
                t0 + i as u64 * 1000
            };
            (ts, f, what)
        })
        .collect()
}

/// Appends a big-endian length of `width` bytes, filled in after `body` has written what it
/// counts.
fn with_len(out: &mut Vec<u8>, width: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.resize(at + width, 0);
    body(out);
    let len = (out.len() - at - width) as u32;
    out[at..at + width].copy_from_slice(&len.to_be_bytes()[4 - width..]);
}

/// An extension: type, then its body behind a 2-byte length.
fn extension(out: &mut Vec<u8>, kind: u16, body: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&kind.to_be_bytes());
    with_len(out, 2, body);
}

/// TLS group code point of the hybrid post-quantum key exchange X25519MLKEM768.
pub const X25519_MLKEM768: u16 = 0x11ec;
/// Bytes of an ML-KEM-768 encapsulation key (the client's share, before the X25519 part).
pub const MLKEM768_KEY_LEN: usize = 1184;
/// Bytes of an ML-KEM-768 ciphertext (the server's share, before the X25519 part).
pub const MLKEM768_CIPHERTEXT_LEN: usize = 1088;

/// The varying parts of a browser-like ClientHello.
pub struct ClientHelloParts<'a> {
    /// The server_name extension's host name.
    pub sni: &'a str,
    /// Whether to offer X25519MLKEM768 (a 1216-byte key share) besides X25519.
    pub post_quantum: bool,
    /// Random bytes for the hello random, session id, key shares and the ECH GREASE extension:
    /// at least [`CLIENT_HELLO_ENTROPY`] bytes.
    pub entropy: &'a [u8],
}

/// Random bytes a [`ClientHelloParts`] needs.
pub const CLIENT_HELLO_ENTROPY: usize = 32 + 32 + 32 + MLKEM768_KEY_LEN + 32 + 176;

/// Appends a TLS record holding a ClientHello as a current browser sends it (TLS 1.3 with 1.2
/// fallback, 15 cipher suites, SNI, ALPN, key shares, an ECH GREASE extension, padded to 512
/// bytes like BoringSSL). With `post_quantum` the X25519MLKEM768 share makes it about 1.7 KB,
/// more than one segment at MSS 1460.
pub fn tls_client_hello_browser(out: &mut Vec<u8>, parts: &ClientHelloParts) {
    let e = parts.entropy;
    let (random, rest) = e.split_at(32);
    let (session_id, rest) = rest.split_at(32);
    let (x25519, rest) = rest.split_at(32);
    let (mlkem, rest) = rest.split_at(MLKEM768_KEY_LEN);
    let (ech_enc, ech_payload) = rest.split_at(32);
    out.extend_from_slice(&[22, 3, 1]);
    with_len(out, 2, |out| {
        out.push(1); // client_hello
        let hs_start = out.len();
        with_len(out, 3, |out| {
            out.extend_from_slice(&[3, 3]);
            out.extend_from_slice(random);
            out.push(32);
            out.extend_from_slice(session_id);
            with_len(out, 2, |out| {
                for suite in [
                    0x1301u16, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
                ] {
                    out.extend_from_slice(&suite.to_be_bytes());
                }
            });
            out.extend_from_slice(&[1, 0]); // null compression
            with_len(out, 2, |out| {
                let name = parts.sni.as_bytes();
                extension(out, 0x0000, |out| {
                    with_len(out, 2, |out| {
                        out.push(0);
                        with_len(out, 2, |out| out.extend_from_slice(name));
                    })
                });
                extension(out, 0x0017, |_| {}); // extended_master_secret
                extension(out, 0xff01, |out| out.push(0)); // renegotiation_info
                extension(out, 0x000a, |out| {
                    with_len(out, 2, |out| {
                        if parts.post_quantum {
                            out.extend_from_slice(&X25519_MLKEM768.to_be_bytes());
                        }
                        out.extend_from_slice(&[0, 0x1d, 0, 0x17, 0, 0x18]);
                    })
                });
                extension(out, 0x000b, |out| out.extend_from_slice(&[1, 0]));
                extension(out, 0x0023, |_| {}); // session_ticket
                extension(out, 0x0010, |out| {
                    with_len(out, 2, |out| {
                        out.extend_from_slice(b"\x02h2\x08http/1.1");
                    })
                });
                extension(out, 0x0005, |out| out.extend_from_slice(&[1, 0, 0, 0, 0]));
                extension(out, 0x000d, |out| {
                    with_len(out, 2, |out| {
                        for alg in [
                            0x0403u16, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
                        ] {
                            out.extend_from_slice(&alg.to_be_bytes());
                        }
                    })
                });
                extension(out, 0x0012, |_| {}); // signed_certificate_timestamp
                extension(out, 0x0033, |out| {
                    with_len(out, 2, |out| {
                        if parts.post_quantum {
                            out.extend_from_slice(&X25519_MLKEM768.to_be_bytes());
                            with_len(out, 2, |out| {
                                out.extend_from_slice(mlkem);
                                out.extend_from_slice(x25519);
                            });
                        }
                        out.extend_from_slice(&[0, 0x1d, 0, 32]);
                        out.extend_from_slice(x25519);
                    })
                });
                extension(out, 0x002d, |out| out.extend_from_slice(&[1, 1]));
                extension(out, 0x002b, |out| {
                    out.extend_from_slice(&[4, 3, 4, 3, 3]);
                });
                extension(out, 0x001b, |out| out.extend_from_slice(&[2, 0, 2]));
                // ECH GREASE, as Chrome sends it: outer type, HPKE suite, config id, enc,
                // payload.
                extension(out, 0xfe0d, |out| {
                    out.extend_from_slice(&[0, 0, 1, 0, 1, ech_enc[0], 0, 32]);
                    out.extend_from_slice(ech_enc);
                    with_len(out, 2, |out| out.extend_from_slice(&ech_payload[..176]));
                });
                // BoringSSL pads a hello of 256..511 bytes to 512 (some middleboxes choke).
                let hs_len = out.len() - hs_start + 1; // with the type byte
                if (256..512).contains(&hs_len) {
                    let pad = (512 - hs_len).saturating_sub(4);
                    extension(out, 0x0015, |out| out.resize(out.len() + pad, 0));
                }
            });
        });
    });
}

/// Appends a TLS 1.3 server's first flight in the clear: a ServerHello (echoing
/// `session_id`, choosing TLS_AES_128_GCM_SHA256 and X25519MLKEM768 or X25519) and a
/// ChangeCipherSpec record. `entropy` gives the random and the key share: at least
/// 32 + 1088 + 32 bytes.
pub fn tls_server_hello(out: &mut Vec<u8>, session_id: &[u8], post_quantum: bool, entropy: &[u8]) {
    let (random, share) = entropy.split_at(32);
    out.extend_from_slice(&[22, 3, 3]);
    with_len(out, 2, |out| {
        out.push(2); // server_hello
        with_len(out, 3, |out| {
            out.extend_from_slice(&[3, 3]);
            out.extend_from_slice(random);
            out.push(session_id.len() as u8);
            out.extend_from_slice(session_id);
            out.extend_from_slice(&[0x13, 0x01, 0]);
            with_len(out, 2, |out| {
                extension(out, 0x002b, |out| out.extend_from_slice(&[3, 4]));
                extension(out, 0x0033, |out| {
                    let (group, len) = if post_quantum {
                        (X25519_MLKEM768, MLKEM768_CIPHERTEXT_LEN + 32)
                    } else {
                        (0x001d, 32)
                    };
                    out.extend_from_slice(&group.to_be_bytes());
                    with_len(out, 2, |out| out.extend_from_slice(&share[..len]));
                });
            });
        });
    });
    out.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
}

/// Appends TLS application_data records carrying `len` bytes of ciphertext from `fill`
/// (records of at most 16 KiB plus the 17-byte AEAD overhead, as TLS 1.3 sends them).
pub fn tls_application_data(
    out: &mut Vec<u8>,
    mut len: usize,
    mut fill: impl FnMut(&mut Vec<u8>, usize),
) {
    while len > 0 {
        let n = len.min(16_384 + 17);
        out.extend_from_slice(&[23, 3, 3]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        fill(out, n);
        len -= n;
    }
}
