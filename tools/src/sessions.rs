//! Full-session captures: TCP connections with their handshake, data both ways with consistent
//! sequence and acknowledgement numbers (segmented at an MSS, acknowledged every second
//! segment), a FIN or RST teardown; DNS query/response pairs over UDP. Many flows are open at
//! once and their frames interleave in time order. Application content (HTTP/1.1 with
//! keep-alive, TLS 1.3 ClientHellos with SNI, DNS over UDP and TCP, SMTP dialogues) draws its
//! values from given lists on a chosen share, so a benchmark controls its hit rate. Chosen shares
//! of flows have a split head, reordered or retransmitted segments, ride a VXLAN or GRE tunnel,
//! use IPv6 or carry a VLAN tag. Every flow is described in a ground-truth record (JSON Lines).
//!
//! Everything is drawn from one seeded generator: the same [`Config`] gives the same bytes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    EtherType, Ethernet2Header, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, SingleVlanHeader,
    TcpHeader, UdpHeader, VlanId, VlanPcp,
};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;

use crate::pcap::{self, PcapWriter};

/// Relative weights of the kinds of session.
#[derive(Clone, Debug)]
pub struct Mix {
    /// HTTP/1.1 on port 80, keep-alive.
    pub http: u32,
    /// TLS on port 443.
    pub tls: u32,
    /// A DNS query and its response over UDP.
    pub dns: u32,
    /// A DNS query and its response over TCP (2-byte length prefix).
    pub dns_tcp: u32,
    /// An SMTP dialogue on port 25.
    pub smtp: u32,
}

/// Shares (0 to 1) of flows, or of messages for `split` and of requests for `post`.
#[derive(Clone, Debug)]
pub struct Shares {
    /// Client messages (request heads, ClientHellos, queries, commands) cut at a random
    /// offset into two segments.
    pub split: f64,
    /// TCP flows with two adjacent segments of one direction swapped.
    pub reorder: f64,
    /// TCP flows with one data segment sent twice.
    pub retransmit: f64,
    /// TCP flows ending in RST instead of the FIN exchange.
    pub rst: f64,
    /// TCP flows with the timestamps option.
    pub tcp_timestamps: f64,
    /// TLS flows offering X25519MLKEM768.
    pub post_quantum: f64,
    /// HTTP requests that are POSTs with a body.
    pub post: f64,
    /// Flows over IPv6.
    pub ipv6: f64,
    /// Flows with an 802.1Q tag (on the outer frame for tunnelled flows).
    pub vlan: f64,
    /// Flows inside VXLAN (UDP 4789).
    pub vxlan: f64,
    /// Flows inside GRE.
    pub gre: f64,
}

/// Values a benchmark wants found: each draw takes one of these (when the list is not empty)
/// with probability [`Config::list_share`], a synthetic value otherwise.
#[derive(Clone, Debug, Default)]
pub struct Lists {
    /// Names for DNS queries, SNI, HTTP Host and SMTP domains.
    pub domains: Vec<String>,
    /// HTTP request targets (starting with `/`).
    pub uris: Vec<String>,
    /// HTTP User-Agent values.
    pub user_agents: Vec<String>,
    /// Mail addresses for MAIL FROM and RCPT TO.
    pub emails: Vec<String>,
    /// Server addresses and DNS answers.
    pub ips: Vec<IpAddr>,
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// Seed of every random choice.
    pub seed: u64,
    /// Stop opening flows once the capture (with the frames of the flows still open) reaches
    /// this many bytes.
    pub bytes: u64,
    /// Flows open at once.
    pub concurrent: usize,
    /// MSS over IPv4 without a tunnel (less the IPv6 or tunnel overhead otherwise).
    pub mss: u16,
    /// Kinds of session.
    pub mix: Mix,
    /// Shares of the variations.
    pub shares: Shares,
    /// HTTP requests per connection, inclusive range.
    pub requests: (u32, u32),
    /// Response bodies (HTTP, TLS), inclusive range, drawn log-uniformly.
    pub response_size: (u32, u32),
    /// POST and mail bodies, inclusive range, drawn log-uniformly.
    pub body_size: (u32, u32),
    /// Values to plant.
    pub lists: Lists,
    /// Share of draws taken from `lists`.
    pub list_share: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            bytes: 64 << 20,
            concurrent: 200,
            mss: 1460,
            mix: Mix {
                http: 35,
                tls: 40,
                dns: 15,
                dns_tcp: 2,
                smtp: 8,
            },
            shares: Shares {
                split: 0.1,
                reorder: 0.02,
                retransmit: 0.02,
                rst: 0.1,
                tcp_timestamps: 0.5,
                post_quantum: 0.5,
                post: 0.2,
                ipv6: 0.1,
                vlan: 0.1,
                vxlan: 0.02,
                gre: 0.02,
            },
            requests: (1, 6),
            response_size: (200, 200_000),
            body_size: (50, 8_000),
            lists: Lists::default(),
            list_share: 0.01,
        }
    }
}

/// What a run wrote.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Flows (each with one truth record).
    pub flows: u64,
    /// Frames.
    pub frames: u64,
    /// Bytes of capture, headers included.
    pub bytes: u64,
}

/// FNV-1a, 64-bit: the truth file's digest of each direction's payload (a few lines, and the
/// test re-implements it independently; no crate needed for a non-cryptographic check).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// Window scale both sides announce, and the window they keep (64128 bytes = 501 << 7, so
/// the scaled window after the handshake equals the SYN's and no analyser sees an update).
const WINDOW_SCALE: u8 = 7;
const WINDOW: u16 = 501 << WINDOW_SCALE;

/// One segment or datagram: who sends it, its flags, numbers, where its payload lies in the
/// sender's stream, and the time since the flow's previous frame.
#[derive(Clone, Copy, Debug)]
struct Seg {
    from: u8,
    flags: u8,
    seq: u32,
    ack: u32,
    start: u32,
    len: u32,
    gap_us: u32,
}

#[derive(Clone, Copy, Debug)]
struct Tunnel {
    gre: bool,
    /// Outer address on the client's side, and on the server's.
    vteps: [Ipv4Addr; 2],
    vni: u32,
    udp_port: u16,
}

#[derive(Clone, Copy, Debug)]
struct Endpoints {
    /// Client and server address, port, MAC.
    ip: [IpAddr; 2],
    port: [u16; 2],
    mac: [[u8; 6]; 2],
    ttl: [u8; 2],
    vlan: Option<u16>,
    tunnel: Option<Tunnel>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum App {
    Http,
    Tls,
    Dns,
    DnsTcp,
    Smtp,
}

/// One flow, built whole when it opens, then emitted segment by segment.
struct Flow {
    ep: Endpoints,
    udp: bool,
    /// Each side's TSval at the flow's start, when the flow uses TCP timestamps.
    ts_base: Option<[u32; 2]>,
    /// What the client sent, what the server sent.
    streams: [Vec<u8>; 2],
    segs: Vec<Seg>,
    next: usize,
    start_us: u64,
    at_us: u64,
    ip_id: [u16; 2],
    last_tsval: [u32; 2],
    /// Capture bytes of the segments not yet written.
    pending: u64,
    /// The MSS both sides announce.
    mss: u16,
}

/// The values a flow carries, for its truth record.
#[derive(Default)]
struct Carried {
    dns: Vec<String>,
    sni: Vec<String>,
    http_host: Vec<String>,
    http_uri: Vec<String>,
    http_url: Vec<String>,
    http_user_agent: Vec<String>,
    smtp_helo: Vec<String>,
    mail_from: Vec<String>,
    rcpt_to: Vec<String>,
    addresses: Vec<String>,
}

const USER_AGENTS: [&str; 6] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "python-requests/2.32.3",
];

const WORDS: [&str; 16] = [
    "index", "api", "static", "img", "news", "login", "search", "assets", "v1", "users", "cart",
    "media", "blog", "docs", "feed", "account",
];

/// Draws values: from the given lists on `list_share` of draws, synthetic otherwise.
struct Values {
    lists: Lists,
    share: f64,
    domains: Vec<String>,
    /// Text without dots, `@` or line-leading dots: bodies that plant no value by accident.
    text: Vec<u8>,
    /// Random bytes for key shares and ciphertext.
    noise: Vec<u8>,
}

impl Values {
    fn new(cfg: &Config, r: &mut StdRng) -> Values {
        let mut text = Vec::with_capacity(1 << 18);
        while text.len() < 1 << 18 {
            let word = WORDS[r.gen_range(0..WORDS.len())];
            text.extend_from_slice(word.as_bytes());
            text.extend_from_slice(if r.gen_range(0..12) == 0 {
                b"\r\n"
            } else {
                b" "
            });
        }
        let mut noise = vec![0u8; 1 << 18];
        r.fill(&mut noise[..]);
        Values {
            lists: cfg.lists.clone(),
            share: cfg.list_share,
            domains: crate::domains(20_000, cfg.seed ^ 0x5e55),
            text,
            noise,
        }
    }

    fn listed<'a, T>(&self, r: &mut StdRng, list: &'a [T]) -> Option<&'a T> {
        (!list.is_empty() && r.gen_bool(self.share)).then(|| &list[r.gen_range(0..list.len())])
    }

    fn domain(&self, r: &mut StdRng) -> String {
        match self.listed(r, &self.lists.domains) {
            Some(d) => d.clone(),
            None => self.domains[r.gen_range(0..self.domains.len())].clone(),
        }
    }

    fn uri(&self, r: &mut StdRng) -> String {
        if let Some(u) = self.listed(r, &self.lists.uris) {
            return u.clone();
        }
        let mut u = String::new();
        for _ in 0..r.gen_range(1..4) {
            u.push('/');
            u.push_str(WORDS[r.gen_range(0..WORDS.len())]);
        }
        if r.gen_bool(0.3) {
            u.push_str(&format!("?id={}", r.gen_range(0..100_000)));
        }
        u
    }

    fn user_agent(&self, r: &mut StdRng) -> String {
        match self.listed(r, &self.lists.user_agents) {
            Some(u) => u.clone(),
            None => USER_AGENTS[r.gen_range(0..USER_AGENTS.len())].to_string(),
        }
    }

    fn email(&self, r: &mut StdRng) -> String {
        match self.listed(r, &self.lists.emails) {
            Some(e) => e.clone(),
            None => {
                let user = WORDS[r.gen_range(0..WORDS.len())];
                format!("{user}{}@{}", r.gen_range(0..1000), self.domain(r))
            }
        }
    }

    /// A server address of the wanted family, or a listed one (of either family).
    fn server_ip(&self, r: &mut StdRng, v6: bool) -> IpAddr {
        if let Some(ip) = self.listed(r, &self.lists.ips) {
            return *ip;
        }
        if v6 {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                r.r#gen(),
                r.r#gen(),
                0,
                0,
                0,
                r.gen_range(1..0xffff),
            ))
        } else {
            // Public-looking unicast: 1.0.0.0 to 223.255.255.255, skipping 10/8 (the clients).
            loop {
                let a = Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xE000_0000));
                if a.octets()[0] != 10 && a.octets()[0] != 127 {
                    return IpAddr::V4(a);
                }
            }
        }
    }

    fn append_text(&self, r: &mut StdRng, out: &mut Vec<u8>, mut n: usize) {
        while n > 0 {
            let at = r.gen_range(0..self.text.len());
            let take = n.min(self.text.len() - at);
            out.extend_from_slice(&self.text[at..at + take]);
            n -= take;
        }
    }

    fn noise(&self, r: &mut StdRng, n: usize) -> &[u8] {
        let at = r.gen_range(0..self.noise.len() - n);
        &self.noise[at..at + n]
    }

    fn append_noise(&self, r: &mut StdRng, out: &mut Vec<u8>, mut n: usize) {
        while n > 0 {
            let take = n.min(4096);
            out.extend_from_slice(self.noise(r, take));
            n -= take;
        }
    }
}

fn log_uniform(r: &mut StdRng, (lo, hi): (u32, u32)) -> usize {
    let lo = lo.max(1);
    if hi <= lo {
        return lo as usize;
    }
    (f64::from(lo) * (f64::from(hi) / f64::from(lo)).powf(r.r#gen::<f64>())) as usize
}

/// Appends a flow's segments: keeps each side's next sequence number and how many of its
/// data segments the other side has not acknowledged yet.
struct TcpBuilder<'a> {
    r: &'a mut StdRng,
    segs: &'a mut Vec<Seg>,
    streams: &'a mut [Vec<u8>; 2],
    next_seq: [u32; 2],
    unacked: [u32; 2],
    /// Payload bytes per full segment (MSS less the timestamps option).
    seg_max: usize,
    rtt_us: u32,
    split: f64,
    splits: u32,
}

impl TcpBuilder<'_> {
    fn push(&mut self, from: usize, flags: u8, start: usize, len: usize, gap_us: u32) {
        let seq = self.next_seq[from];
        let ack = if flags & ACK != 0 {
            self.next_seq[1 - from]
        } else {
            0
        };
        self.segs.push(Seg {
            from: from as u8,
            flags,
            seq,
            ack,
            start: start as u32,
            len: len as u32,
            gap_us,
        });
        let used = len as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.next_seq[from] = seq.wrapping_add(used);
    }

    /// Time before `from` sends after the other side's last frame, seen from a sensor next to
    /// the client: the server's answers come a round trip later, the client's at once.
    fn turn_gap(&mut self, from: usize) -> u32 {
        if from == 1 {
            self.rtt_us + self.r.gen_range(20..300)
        } else {
            self.r.gen_range(20..300)
        }
    }

    fn burst_gap(&mut self) -> u32 {
        self.r.gen_range(5..120)
    }

    fn handshake(&mut self) {
        self.push(0, SYN, 0, 0, 0);
        let g = self.turn_gap(1);
        self.push(1, SYN | ACK, 0, 0, g);
        let g = self.turn_gap(0);
        self.push(0, ACK, 0, 0, g);
    }

    fn ack(&mut self, from: usize) {
        let g = self.turn_gap(from);
        self.push(from, ACK, 0, 0, g);
        self.unacked[1 - from] = 0;
    }

    /// `from` sends `data` after `first_gap_us`; the receiver acknowledges every second
    /// segment and the end. A client message may be cut at a random offset (a split head).
    fn message(&mut self, from: usize, data: &[u8], first_gap_us: u32) {
        let base = self.streams[from].len();
        self.streams[from].extend_from_slice(data);
        let total = data.len();
        let limit = total.min(self.seg_max);
        let mut first_len = self.seg_max;
        if from == 0 && limit > 1 && self.r.gen_bool(self.split) {
            // Half the cuts fall in the first 64 bytes (inside a request line or a TLS record
            // header), the others anywhere in the first segment.
            first_len = if self.r.gen_bool(0.5) {
                self.r.gen_range(1..limit.min(65))
            } else {
                self.r.gen_range(1..limit)
            };
            self.splits += 1;
        }
        let mut off = 0;
        while off < total {
            let n = if off == 0 { first_len } else { self.seg_max }.min(total - off);
            let gap = if off == 0 {
                first_gap_us
            } else {
                self.burst_gap()
            };
            let last = off + n == total;
            self.push(from, ACK | if last { PSH } else { 0 }, base + off, n, gap);
            self.unacked[from] += 1;
            off += n;
            if self.unacked[from] >= 2 && !last {
                self.ack(1 - from);
            }
        }
        if self.unacked[from] > 0 {
            self.ack(1 - from);
        }
    }

    /// `closer` ends the connection: RST, or FIN, the other's FIN, the last ACK.
    fn close(&mut self, closer: usize, rst: bool) {
        let g = self.r.gen_range(100..20_000);
        if rst {
            self.push(closer, RST | ACK, 0, 0, g);
        } else {
            self.push(closer, FIN | ACK, 0, 0, g);
            let g = self.turn_gap(1 - closer);
            self.push(1 - closer, FIN | ACK, 0, 0, g);
            let g = self.turn_gap(closer);
            self.push(closer, ACK, 0, 0, g);
        }
    }
}

/// Writes captures of full sessions.
pub struct Generator {
    cfg: Config,
    r: StdRng,
    values: Values,
    /// Next ephemeral port of each client host.
    client_ports: Vec<u16>,
    vxlan_tunnels: Vec<Tunnel>,
    gre_tunnels: Vec<Tunnel>,
    /// Stream buffers of finished flows, kept for reuse.
    spare: Vec<[Vec<u8>; 2]>,
    spare_segs: Vec<Vec<Seg>>,
    frame: Vec<u8>,
    scratch: Vec<u8>,
}

const CLIENT_HOSTS: usize = 4096;
const GATEWAY_MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0xff, 0x01];
const T0_US: u64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

impl Generator {
    /// A generator for `cfg`.
    pub fn new(cfg: Config) -> Generator {
        let mut r = crate::rng(cfg.seed);
        let values = Values::new(&cfg, &mut r);
        let client_ports = (0..CLIENT_HOSTS)
            .map(|_| r.gen_range(32768..60000))
            .collect();
        let tunnels = |r: &mut StdRng, gre: bool, net: u8| -> Vec<Tunnel> {
            (0..8u8)
                .map(|i| Tunnel {
                    gre,
                    vteps: [
                        Ipv4Addr::new(172, 16, net, 1 + i),
                        Ipv4Addr::new(172, 16, net + 1, 1 + i),
                    ],
                    vni: 1000 + u32::from(i),
                    udp_port: r.gen_range(49152..65535),
                })
                .collect()
        };
        let vxlan_tunnels = tunnels(&mut r, false, 10);
        let gre_tunnels = tunnels(&mut r, true, 20);
        Generator {
            cfg,
            r,
            values,
            client_ports,
            vxlan_tunnels,
            gre_tunnels,
            spare: Vec::new(),
            spare_segs: Vec::new(),
            frame: Vec::with_capacity(2048),
            scratch: Vec::with_capacity(4096),
        }
    }

    /// Writes the capture to `out` and one truth record per flow to `truth`.
    pub fn run<W: Write>(
        &mut self,
        out: W,
        mut truth: Option<&mut dyn Write>,
    ) -> io::Result<Stats> {
        let mut pcap = PcapWriter::new(out)?;
        let mut stats = Stats {
            bytes: 24,
            ..Stats::default()
        };
        let mut open: Vec<Option<Flow>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let mut queue: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
        let mut pending = 0u64;
        let mut now = T0_US;
        let mut opening = true;
        loop {
            // Keep `concurrent` flows open until the budget is spoken for.
            while opening && queue.len() < self.cfg.concurrent.max(1) {
                if stats.bytes + pending >= self.cfg.bytes {
                    opening = false;
                    break;
                }
                // The first flows start spread over a few milliseconds, later ones soon after
                // one ends.
                let start = now
                    + if stats.flows < self.cfg.concurrent as u64 {
                        self.r.gen_range(0..5_000)
                    } else {
                        self.r.gen_range(0..500)
                    };
                let id = stats.flows;
                let (flow, record) = self.open_flow(id, start, truth.is_some());
                if let (Some(t), Some(record)) = (truth.as_deref_mut(), record) {
                    serde_json::to_writer(&mut *t, &record)?;
                    t.write_all(b"\n")?;
                }
                stats.flows += 1;
                pending += flow.pending;
                let slot = free.pop().unwrap_or_else(|| {
                    open.push(None);
                    open.len() - 1
                });
                queue.push(Reverse((flow.at_us, id, slot)));
                open[slot] = Some(flow);
            }
            let Some(Reverse((at, id, slot))) = queue.pop() else {
                break;
            };
            now = at;
            let flow = open[slot].as_mut().expect("queued flow is open");
            let written = self.emit(flow, &mut pcap)?;
            stats.frames += 1;
            stats.bytes += written;
            pending -= written;
            flow.pending -= written;
            if flow.next < flow.segs.len() {
                queue.push(Reverse((flow.at_us, id, slot)));
            } else {
                let flow = open[slot].take().expect("open");
                self.spare.push(flow.streams);
                self.spare_segs.push(flow.segs);
                free.push(slot);
            }
        }
        pcap.into_inner().flush()?;
        Ok(stats)
    }

    /// Writes the flow's next segment; returns the capture bytes it took.
    fn emit<W: Write>(&mut self, flow: &mut Flow, pcap: &mut PcapWriter<W>) -> io::Result<u64> {
        let seg = flow.segs[flow.next];
        let ts = flow.at_us;
        encode(&mut self.frame, flow, &seg, ts);
        pcap.frame(ts, &self.frame)?;
        flow.next += 1;
        if let Some(next) = flow.segs.get(flow.next) {
            flow.at_us += u64::from(next.gap_us);
        }
        Ok(16 + self.frame.len() as u64)
    }

    /// Builds a whole flow starting at `start_us`; returns it with its truth record when
    /// `with_truth`.
    fn open_flow(
        &mut self,
        id: u64,
        start_us: u64,
        with_truth: bool,
    ) -> (Flow, Option<serde_json::Value>) {
        let cfg = &self.cfg;
        let r = &mut self.r;
        let total = cfg.mix.http + cfg.mix.tls + cfg.mix.dns + cfg.mix.dns_tcp + cfg.mix.smtp;
        let mut pick = r.gen_range(0..total.max(1));
        let app = [
            (App::Http, cfg.mix.http),
            (App::Tls, cfg.mix.tls),
            (App::Dns, cfg.mix.dns),
            (App::DnsTcp, cfg.mix.dns_tcp),
            (App::Smtp, cfg.mix.smtp),
        ]
        .into_iter()
        .find(|&(_, w)| {
            if pick < w {
                true
            } else {
                pick -= w;
                false
            }
        })
        .map_or(App::Http, |(a, _)| a);
        let s = cfg.shares.clone();
        let want_v6 = r.gen_bool(s.ipv6);
        let dns = matches!(app, App::Dns | App::DnsTcp);
        let server = if dns {
            if want_v6 {
                IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0x53, 0, 0, 0, 0x53))
            } else {
                IpAddr::V4(Ipv4Addr::new(10, 255, 0, 53))
            }
        } else {
            self.values.server_ip(r, want_v6)
        };
        let host = r.gen_range(0..CLIENT_HOSTS);
        let client = match server {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(
                10,
                (host >> 8) as u8,
                host as u8,
                r.gen_range(2..250),
            )),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::new(
                0xfd00,
                0,
                0,
                1,
                0,
                0,
                host as u16,
                r.gen_range(2..0xff),
            )),
        };
        let (app_port, udp) = match app {
            App::Http => (80, false),
            App::Tls => (443, false),
            App::Dns => (53, true),
            App::DnsTcp => (53, false),
            App::Smtp => (25, false),
        };
        let tunnel = match r.r#gen::<f64>() {
            x if x < s.vxlan => Some(self.vxlan_tunnels[r.gen_range(0..8)]),
            x if x < s.vxlan + s.gre => Some(self.gre_tunnels[r.gen_range(0..8)]),
            _ => None,
        };
        let vlan = r
            .gen_bool(s.vlan)
            .then(|| [10, 20, 30, 100, 200][r.gen_range(0..5)]);
        let cmac = [0x02, 0x00, 0x0a, (host >> 8) as u8, host as u8, 0x01];
        let cport = {
            let p = self.client_ports[host];
            self.client_ports[host] = if p >= 60999 { 32768 } else { p + 1 };
            p
        };
        let r = &mut self.r;
        let ep = Endpoints {
            ip: [client, server],
            port: [cport, app_port],
            mac: [cmac, GATEWAY_MAC],
            ttl: [64, r.gen_range(40..60)],
            vlan,
            tunnel,
        };
        let timestamps = !udp && r.gen_bool(s.tcp_timestamps);
        let mss = usize::from(self.cfg.mss)
            - if server.is_ipv6() { 20 } else { 0 }
            - match tunnel {
                Some(t) if t.gre => 24,
                Some(_) => 50,
                None => 0,
            };
        let seg_max = mss - if timestamps { 12 } else { 0 };
        let rtt_us = log_uniform(r, (500, 150_000)) as u32;
        let mut streams = self.spare.pop().unwrap_or_default();
        streams[0].clear();
        streams[1].clear();
        let mut segs = self.spare_segs.pop().unwrap_or_default();
        segs.clear();
        let mut carried = Carried::default();
        let (mut reordered, mut retransmitted, mut splits) = (0u32, 0u32, 0u32);
        let mut rst = false;
        if udp {
            self.dns_exchange(
                &mut streams,
                &mut segs,
                &mut carried,
                rtt_us,
                server.is_ipv6(),
            );
        } else {
            let mut b = TcpBuilder {
                r: &mut self.r,
                segs: &mut segs,
                streams: &mut streams,
                next_seq: [0, 0],
                unacked: [0, 0],
                seg_max,
                rtt_us,
                split: s.split,
                splits: 0,
            };
            b.next_seq = [b.r.r#gen(), b.r.r#gen()];
            b.handshake();
            let closer = match app {
                App::Http => http_dialogue(&mut b, &self.values, &self.cfg, &mut carried),
                App::Tls => tls_dialogue(
                    &mut b,
                    &self.values,
                    &self.cfg,
                    &mut carried,
                    &mut self.scratch,
                ),
                App::DnsTcp => {
                    dns_tcp_dialogue(&mut b, &self.values, &mut carried, server.is_ipv6())
                }
                App::Smtp => smtp_dialogue(&mut b, &self.values, &self.cfg, &mut carried),
                App::Dns => unreachable!("UDP"),
            };
            rst = b.r.gen_bool(s.rst);
            b.close(closer, rst);
            splits = b.splits;
            let r = &mut self.r;
            if r.gen_bool(s.reorder) {
                reordered = reorder(r, &mut segs);
            }
            if r.gen_bool(s.retransmit) {
                retransmitted = retransmit(r, &mut segs, rtt_us);
            }
        }
        let r = &mut self.r;
        let ts_base = timestamps.then(|| [r.r#gen::<u32>() >> 1, r.r#gen::<u32>() >> 1]);
        let mut flow = Flow {
            ep,
            udp,
            ts_base,
            streams,
            segs,
            next: 0,
            start_us,
            at_us: start_us,
            ip_id: [r.r#gen(), r.r#gen()],
            last_tsval: [0, 0],
            pending: 0,
            mss: mss as u16,
        };
        flow.pending = flow
            .segs
            .iter()
            .map(|seg| 16 + frame_len(&flow, seg) as u64)
            .sum();
        if !with_truth {
            return (flow, None);
        }
        let tunnel = tunnel.map(|t| {
            let mut v = json!({
                "type": if t.gre { "gre" } else { "vxlan" },
                "outer_src": t.vteps[0].to_string(),
                "outer_dst": t.vteps[1].to_string(),
            });
            if !t.gre {
                v["vni"] = json!(t.vni);
                v["outer_sport"] = json!(t.udp_port);
            }
            v
        });
        let record = json!({
            "flow": id,
            "app": match app {
                App::Http => "http",
                App::Tls => "tls",
                App::Dns => "dns",
                App::DnsTcp => "dns-tcp",
                App::Smtp => "smtp",
            },
            "proto": if udp { "udp" } else { "tcp" },
            "src": client.to_string(),
            "sport": cport,
            "dst": server.to_string(),
            "dport": app_port,
            "vlan": vlan,
            "tunnel": tunnel,
            "start_us": start_us,
            "end": if udp { "none" } else if rst { "rst" } else { "fin" },
            "tcp_timestamps": timestamps,
            "split_heads": splits,
            "reordered": reordered,
            "retransmitted": retransmitted,
            "client_bytes": flow.streams[0].len(),
            "server_bytes": flow.streams[1].len(),
            "client_fnv1a": format!("{:016x}", fnv1a(&flow.streams[0])),
            "server_fnv1a": format!("{:016x}", fnv1a(&flow.streams[1])),
            "values": {
                "dns": carried.dns,
                "sni": carried.sni,
                "http_host": carried.http_host,
                "http_uri": carried.http_uri,
                "http_url": carried.http_url,
                "http_user_agent": carried.http_user_agent,
                "smtp_helo": carried.smtp_helo,
                "mail_from": carried.mail_from,
                "rcpt_to": carried.rcpt_to,
                "addresses": carried.addresses,
            },
        });
        (flow, Some(record))
    }

    /// A DNS query and its response, one datagram each.
    fn dns_exchange(
        &mut self,
        streams: &mut [Vec<u8>; 2],
        segs: &mut Vec<Seg>,
        carried: &mut Carried,
        rtt_us: u32,
        v6: bool,
    ) {
        let (query, response) = dns_pair(&mut self.r, &self.values, carried, v6);
        streams[0].extend_from_slice(&query);
        streams[1].extend_from_slice(&response);
        segs.push(Seg {
            from: 0,
            flags: 0,
            seq: 0,
            ack: 0,
            start: 0,
            len: query.len() as u32,
            gap_us: 0,
        });
        segs.push(Seg {
            from: 1,
            flags: 0,
            seq: 0,
            ack: 0,
            start: 0,
            len: response.len() as u32,
            gap_us: rtt_us + self.r.gen_range(50..5_000),
        });
    }
}

/// A query for a drawn name and a response with an optional CNAME and one to three addresses.
fn dns_pair(r: &mut StdRng, v: &Values, carried: &mut Carried, v6: bool) -> (Vec<u8>, Vec<u8>) {
    let id: u16 = r.r#gen();
    let name = v.domain(r);
    let cname = r.gen_bool(0.2).then(|| format!("edge.{}", v.domain(r)));
    let addrs: Vec<IpAddr> = (0..r.gen_range(1..=3))
        .map(|_| v.server_ip(r, v6))
        .collect();
    let query = pcap::dns_query(id, &name);
    let response = pcap::dns_response(id, &name, cname.as_deref(), &addrs);
    carried.dns.push(name);
    carried.dns.extend(cname);
    carried
        .addresses
        .extend(addrs.iter().map(|a| a.to_string()));
    (query, response)
}

/// Keep-alive HTTP/1.1: requests (some POSTs with a body), each answered with a body of a drawn
/// size. Returns who closes (the client).
fn http_dialogue(b: &mut TcpBuilder, v: &Values, cfg: &Config, carried: &mut Carried) -> usize {
    let host = v.domain(b.r);
    let ua = v.user_agent(b.r);
    carried.http_host.push(host.clone());
    carried.http_user_agent.push(ua.clone());
    let requests =
        b.r.gen_range(cfg.requests.0.max(1)..=cfg.requests.1.max(cfg.requests.0).max(1));
    let mut msg = Vec::new();
    for i in 0..requests {
        let uri = v.uri(b.r);
        let post = b.r.gen_bool(cfg.shares.post);
        msg.clear();
        if post {
            let body = log_uniform(b.r, cfg.body_size);
            msg.extend_from_slice(
                format!(
                    "POST {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {body}\r\n\
                     Connection: keep-alive\r\n\r\n"
                )
                .as_bytes(),
            );
            v.append_text(b.r, &mut msg, body);
        } else {
            msg.extend_from_slice(
                format!(
                    "GET {uri} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\n\
                     Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\
                     Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate\r\n\
                     Connection: keep-alive\r\n\r\n"
                )
                .as_bytes(),
            );
        }
        carried.http_url.push(format!("http://{host}{uri}"));
        carried.http_uri.push(uri);
        let think = if i == 0 {
            b.r.gen_range(20..300)
        } else {
            b.r.gen_range(1_000..300_000)
        };
        b.message(0, &msg, think);
        let size = log_uniform(b.r, cfg.response_size);
        msg.clear();
        msg.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\n\
                 Content-Length: {size}\r\nConnection: keep-alive\r\nCache-Control: max-age=600\r\n\r\n"
            )
            .as_bytes(),
        );
        v.append_text(b.r, &mut msg, size);
        let g = b.r.gen_range(200..20_000);
        b.message(1, &msg, g);
    }
    0
}

/// TLS 1.3: ClientHello, the server's first flight (ServerHello, ChangeCipherSpec, encrypted
/// handshake), the client's Finished and request, the server's response. Returns the closer.
fn tls_dialogue(
    b: &mut TcpBuilder,
    v: &Values,
    cfg: &Config,
    carried: &mut Carried,
    scratch: &mut Vec<u8>,
) -> usize {
    let sni = v.domain(b.r);
    let pq = b.r.gen_bool(cfg.shares.post_quantum);
    scratch.clear();
    let entropy = v.noise(b.r, pcap::CLIENT_HELLO_ENTROPY);
    pcap::tls_client_hello_browser(
        scratch,
        &pcap::ClientHelloParts {
            sni: &sni,
            post_quantum: pq,
            entropy,
        },
    );
    let session_id = entropy[32..64].to_vec();
    carried.sni.push(sni);
    let g = b.r.gen_range(20..300);
    b.message(0, scratch, g);
    scratch.clear();
    let entropy = v.noise(b.r, 32 + pcap::MLKEM768_CIPHERTEXT_LEN + 32);
    pcap::tls_server_hello(scratch, &session_id, pq, entropy);
    // EncryptedExtensions, Certificate, CertificateVerify, Finished.
    let flight = b.r.gen_range(2_500..5_000);
    pcap::tls_application_data(scratch, flight, |out, n| v.append_noise(b.r, out, n));
    let g = b.r.gen_range(200..5_000);
    b.message(1, scratch, g);
    scratch.clear();
    scratch.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
    pcap::tls_application_data(scratch, 53, |out, n| v.append_noise(b.r, out, n));
    let request = b.r.gen_range(200..800);
    pcap::tls_application_data(scratch, request, |out, n| v.append_noise(b.r, out, n));
    let g = b.r.gen_range(20..300);
    b.message(0, scratch, g);
    scratch.clear();
    let size = log_uniform(b.r, cfg.response_size);
    pcap::tls_application_data(scratch, size, |out, n| v.append_noise(b.r, out, n));
    let g = b.r.gen_range(200..20_000);
    b.message(1, scratch, g);
    0
}

/// A DNS query over TCP (2-byte length prefix) and its response. Returns the closer.
fn dns_tcp_dialogue(b: &mut TcpBuilder, v: &Values, carried: &mut Carried, v6: bool) -> usize {
    let (query, response) = dns_pair(b.r, v, carried, v6);
    for (from, m) in [(0, query), (1, response)] {
        let mut framed = (m.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&m);
        let g = b.r.gen_range(20..300);
        b.message(from, &framed, g);
    }
    0
}

/// An SMTP dialogue without STARTTLS: banner, EHLO, MAIL FROM, RCPT TO (1 to 3), DATA with a
/// message, QUIT. Returns the closer (the server).
fn smtp_dialogue(b: &mut TcpBuilder, v: &Values, cfg: &Config, carried: &mut Carried) -> usize {
    let helo = v.domain(b.r);
    let from = v.email(b.r);
    let to: Vec<String> = (0..b.r.gen_range(1..=3)).map(|_| v.email(b.r)).collect();
    let say = |b: &mut TcpBuilder, who: usize, text: &[u8]| {
        let g = if who == 1 {
            b.r.gen_range(200..3_000)
        } else {
            b.r.gen_range(20..300)
        };
        b.message(who, text, g);
    };
    say(b, 1, b"220 ESMTP ready\r\n");
    say(b, 0, format!("EHLO {helo}\r\n").as_bytes());
    say(
        b,
        1,
        b"250-Hello\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
    );
    say(b, 0, format!("MAIL FROM:<{from}>\r\n").as_bytes());
    say(b, 1, b"250 2.1.0 Ok\r\n");
    for t in &to {
        say(b, 0, format!("RCPT TO:<{t}>\r\n").as_bytes());
        say(b, 1, b"250 2.1.5 Ok\r\n");
    }
    say(b, 0, b"DATA\r\n");
    say(b, 1, b"354 End data with <CR><LF>.<CR><LF>\r\n");
    let mut message = format!(
        "From: <{from}>\r\nTo: {}\r\nSubject: quarterly report\r\n\r\n",
        to.iter()
            .map(|t| format!("<{t}>"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .into_bytes();
    let body = log_uniform(b.r, cfg.body_size);
    v.append_text(b.r, &mut message, body);
    message.extend_from_slice(b"\r\n.\r\n");
    say(b, 0, &message);
    say(b, 1, b"250 2.0.0 Ok: queued\r\n");
    say(b, 0, b"QUIT\r\n");
    say(b, 1, b"221 2.0.0 Bye\r\n");
    carried.smtp_helo.push(helo);
    carried.mail_from.push(from);
    carried.rcpt_to.extend(to);
    1
}

/// Swaps two adjacent data segments of one direction (the frames keep their times). Returns
/// how many pairs were swapped (0 when the flow has no such pair).
fn reorder(r: &mut StdRng, segs: &mut [Seg]) -> u32 {
    let pairs: Vec<usize> = (0..segs.len().saturating_sub(1))
        .filter(|&i| segs[i].len > 0 && segs[i + 1].len > 0 && segs[i].from == segs[i + 1].from)
        .collect();
    let Some(&i) = pairs.get(r.gen_range(0..pairs.len().max(1))) else {
        return 0;
    };
    let (g0, g1) = (segs[i].gap_us, segs[i + 1].gap_us);
    segs.swap(i, i + 1);
    segs[i].gap_us = g0;
    segs[i + 1].gap_us = g1;
    1
}

/// Sends one data segment again one to three frames later (as after a lost ACK). Returns 1, or
/// 0 when the flow has no data.
fn retransmit(r: &mut StdRng, segs: &mut Vec<Seg>, rtt_us: u32) -> u32 {
    let data: Vec<usize> = (0..segs.len()).filter(|&i| segs[i].len > 0).collect();
    let Some(&i) = data.get(r.gen_range(0..data.len().max(1))) else {
        return 0;
    };
    let mut copy = segs[i];
    copy.gap_us = rtt_us.max(200_000) / 2 + r.gen_range(0..1_000);
    let at = (i + 1 + r.gen_range(0..3)).min(segs.len());
    segs.insert(at, copy);
    1
}

/// Bytes of the frame carrying `seg`.
fn frame_len(flow: &Flow, seg: &Seg) -> usize {
    let ep = &flow.ep;
    let ip = if ep.ip[0].is_ipv6() { 40 } else { 20 };
    let l4 = if flow.udp {
        8
    } else {
        20 + tcp_options_len(flow.ts_base.is_some(), seg.flags & SYN != 0)
    };
    let outer = match ep.tunnel {
        Some(t) if t.gre => 20 + 4,
        Some(_) => 20 + 8 + 8 + 14,
        None => 0,
    };
    14 + if ep.vlan.is_some() { 4 } else { 0 } + outer + ip + l4 + seg.len as usize
}

fn tcp_options_len(timestamps: bool, syn: bool) -> usize {
    match (syn, timestamps) {
        (true, true) => 20,
        (true, false) => 12,
        (false, true) => 12,
        (false, false) => 0,
    }
}

/// Encodes the frame carrying `seg` at `ts_us` into `out` (cleared first).
fn encode(out: &mut Vec<u8>, flow: &mut Flow, seg: &Seg, ts_us: u64) {
    out.clear();
    let from = usize::from(seg.from);
    let to = 1 - from;
    let ep = flow.ep;
    let payload = &flow.streams[from][seg.start as usize..(seg.start + seg.len) as usize];
    let v6 = ep.ip[0].is_ipv6();
    let ip_len = if v6 { 40 } else { 20 };
    let inner_type = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
    let transport_len = if flow.udp {
        8
    } else {
        20 + tcp_options_len(flow.ts_base.is_some(), seg.flags & SYN != 0)
    } + payload.len();
    let ip_packet_len = ip_len + transport_len;
    // Outer layers.
    let write_eth = |out: &mut Vec<u8>, ether_type: EtherType| {
        let (src, dst) = (ep.mac[from], ep.mac[to]);
        match ep.vlan {
            Some(vid) => {
                Ethernet2Header {
                    source: src,
                    destination: dst,
                    ether_type: EtherType::VLAN_TAGGED_FRAME,
                }
                .write(out)
                .expect("Vec");
                SingleVlanHeader {
                    pcp: VlanPcp::ZERO,
                    drop_eligible_indicator: false,
                    vlan_id: VlanId::try_new(vid).expect("VLAN id below 4095"),
                    ether_type,
                }
                .write(out)
                .expect("Vec");
            }
            None => Ethernet2Header {
                source: src,
                destination: dst,
                ether_type,
            }
            .write(out)
            .expect("Vec"),
        }
    };
    match ep.tunnel {
        Some(t) => {
            write_eth(out, EtherType::IPV4);
            let (proto, carried) = if t.gre {
                (IpNumber::GRE, 4 + ip_packet_len)
            } else {
                (IpNumber::UDP, 8 + 8 + 14 + ip_packet_len)
            };
            let mut outer = Ipv4Header::new(
                carried as u16,
                64,
                proto,
                t.vteps[from].octets(),
                t.vteps[to].octets(),
            )
            .expect("outer length fits");
            outer.identification = flow.ip_id[from];
            outer.header_checksum = outer.calc_header_checksum();
            outer.write(out).expect("Vec");
            if t.gre {
                out.extend_from_slice(&[0, 0]);
                out.extend_from_slice(&inner_type.0.to_be_bytes());
            } else {
                // Checksum 0 is allowed for VXLAN over IPv4 (RFC 7348).
                UdpHeader {
                    source_port: t.udp_port,
                    destination_port: 4789,
                    length: carried as u16,
                    checksum: 0,
                }
                .write(out)
                .expect("Vec");
                out.extend_from_slice(&[0x08, 0, 0, 0]);
                out.extend_from_slice(&(t.vni << 8).to_be_bytes());
                Ethernet2Header {
                    source: ep.mac[from],
                    destination: ep.mac[to],
                    ether_type: inner_type,
                }
                .write(out)
                .expect("Vec");
            }
        }
        None => write_eth(out, inner_type),
    }
    // The IP packet.
    let proto = if flow.udp {
        IpNumber::UDP
    } else {
        IpNumber::TCP
    };
    let (src, dst) = (ep.ip[from], ep.ip[to]);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut h = Ipv4Header::new(
                transport_len as u16,
                ep.ttl[from],
                proto,
                s.octets(),
                d.octets(),
            )
            .expect("length fits");
            h.identification = flow.ip_id[from];
            h.dont_fragment = !flow.udp;
            h.header_checksum = h.calc_header_checksum();
            h.write(out).expect("Vec");
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => Ipv6Header {
            traffic_class: 0,
            flow_label: Ipv6FlowLabel::ZERO,
            payload_length: transport_len as u16,
            next_header: proto,
            hop_limit: ep.ttl[from],
            source: s.octets(),
            destination: d.octets(),
        }
        .write(out)
        .expect("Vec"),
        _ => unreachable!("both ends of a flow share a family"),
    }
    flow.ip_id[from] = flow.ip_id[from].wrapping_add(1);
    if flow.udp {
        let mut h = UdpHeader {
            source_port: ep.port[from],
            destination_port: ep.port[to],
            length: transport_len as u16,
            checksum: 0,
        };
        h.checksum = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                h.calc_checksum_ipv4_raw(s.octets(), d.octets(), payload)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                h.calc_checksum_ipv6_raw(s.octets(), d.octets(), payload)
            }
            _ => unreachable!("one family"),
        }
        .expect("length fits");
        h.write(out).expect("Vec");
    } else {
        let syn = seg.flags & SYN != 0;
        let mut h = TcpHeader::new(
            ep.port[from],
            ep.port[to],
            seg.seq,
            if syn { WINDOW } else { WINDOW >> WINDOW_SCALE },
        );
        h.fin = seg.flags & FIN != 0;
        h.syn = syn;
        h.rst = seg.flags & RST != 0;
        h.psh = seg.flags & PSH != 0;
        h.ack = seg.flags & ACK != 0;
        h.acknowledgment_number = seg.ack;
        let mut opts = [0u8; 20];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            opts[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        let tsopt = flow.ts_base.map(|base| {
            let tsval = base[from].wrapping_add(((ts_us - flow.start_us) / 1000) as u32);
            let tsecr = if seg.flags == SYN {
                0
            } else {
                flow.last_tsval[to]
            };
            flow.last_tsval[from] = tsval;
            let mut o = [8u8, 10, 0, 0, 0, 0, 0, 0, 0, 0];
            o[2..6].copy_from_slice(&tsval.to_be_bytes());
            o[6..10].copy_from_slice(&tsecr.to_be_bytes());
            o
        });
        // Linux's layouts: MSS, SACK permitted, timestamps, window scale on SYNs; NOP NOP
        // timestamps after.
        let mss = flow.mss.to_be_bytes();
        match (syn, tsopt) {
            (true, Some(ts)) => {
                put(&[2, 4, mss[0], mss[1], 4, 2]);
                put(&ts);
                put(&[1, 3, 3, WINDOW_SCALE]);
            }
            (true, None) => {
                put(&[2, 4, mss[0], mss[1], 1, 1, 4, 2, 1, 3, 3, WINDOW_SCALE]);
            }
            (false, Some(ts)) => {
                put(&[1, 1]);
                put(&ts);
            }
            (false, None) => {}
        }
        h.set_options_raw(&opts[..n]).expect("options fit");
        h.checksum = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                h.calc_checksum_ipv4_raw(s.octets(), d.octets(), payload)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                h.calc_checksum_ipv6_raw(s.octets(), d.octets(), payload)
            }
            _ => unreachable!("one family"),
        }
        .expect("length fits");
        h.write(out).expect("Vec");
    }
    out.extend_from_slice(payload);
}
