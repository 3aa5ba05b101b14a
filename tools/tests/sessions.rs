//! Checks `gen-sessions` captures with code of their own: a pcap reader, a frame parser
//! (Ethernet, VLAN, IPv4/IPv6, GRE, VXLAN, TCP, UDP) and a reassembler by sequence number, so
//! a generator bug is not checked against itself. Every TCP flow must be a valid session and
//! carry exactly the bytes and values its truth record names; with tshark installed, Wireshark's
//! analysis must find nothing wrong with a capture without reordering and retransmissions, and
//! must find every SNI, Host, URI and query name.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::process::Command;

use serde_json::Value;
use trawl_tools::sessions::{Config, Generator, Stats};

fn generate(cfg: Config) -> (Vec<u8>, Vec<Value>, Stats) {
    let mut pcap = Vec::new();
    let mut truth = Vec::new();
    let stats = Generator::new(cfg)
        .run(&mut pcap, Some(&mut truth as &mut dyn std::io::Write))
        .expect("write to memory");
    let records = truth
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("truth line is JSON"))
        .collect();
    (pcap, records, stats)
}

/// Every variation on, often, over a small capture.
fn busy(seed: u64, bytes: u64) -> Config {
    let mut cfg = Config {
        seed,
        bytes,
        concurrent: 40,
        ..Config::default()
    };
    let s = &mut cfg.shares;
    s.split = 0.4;
    s.reorder = 0.3;
    s.retransmit = 0.3;
    s.rst = 0.2;
    s.ipv6 = 0.2;
    s.vlan = 0.2;
    s.vxlan = 0.1;
    s.gre = 0.1;
    cfg.mix.dns_tcp = 10;
    cfg.mix.smtp = 15;
    cfg.response_size = (100, 30_000);
    cfg
}

/// The same capture without reordering or retransmissions: nothing an analyser should warn of.
fn clean(seed: u64, bytes: u64) -> Config {
    let mut cfg = busy(seed, bytes);
    cfg.shares.reorder = 0.0;
    cfg.shares.retransmit = 0.0;
    cfg
}

fn fnv(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// One transport packet as the test reads it.
#[derive(Debug, Clone)]
struct Packet {
    ts: u64,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    udp: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: Vec<u8>,
    vlan: Option<u16>,
    /// Outer source and destination, and "vxlan" or "gre".
    tunnel: Option<(IpAddr, IpAddr, &'static str)>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_pcap(bytes: &[u8]) -> Vec<Packet> {
    assert_eq!(
        be32(bytes, 0).swap_bytes(),
        0xa1b2c3d4,
        "little-endian pcap"
    );
    assert_eq!(u32::from_le_bytes(bytes[20..24].try_into().unwrap()), 1);
    let mut at = 24;
    let mut out = Vec::new();
    while at < bytes.len() {
        let le = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap());
        let ts = u64::from(le(at)) * 1_000_000 + u64::from(le(at + 4));
        let (cap, orig) = (le(at + 8) as usize, le(at + 12) as usize);
        assert_eq!(cap, orig, "frames are whole");
        let frame = &bytes[at + 16..at + 16 + cap];
        let mut p = parse_ethernet(frame, None).expect("every frame parses");
        p.ts = ts;
        out.push(p);
        at += 16 + cap;
    }
    assert_eq!(at, bytes.len());
    out
}

fn parse_ethernet(f: &[u8], tunnel: Option<(IpAddr, IpAddr, &'static str)>) -> Option<Packet> {
    let mut ether_type = be16(f, 12);
    let mut at = 14;
    let mut vlan = None;
    if ether_type == 0x8100 {
        vlan = Some(be16(f, 14) & 0x0fff);
        ether_type = be16(f, 16);
        at = 18;
    }
    let mut p = parse_ip(ether_type, &f[at..], tunnel)?;
    if p.vlan.is_none() {
        p.vlan = vlan;
    }
    Some(p)
}

fn parse_ip(
    ether_type: u16,
    ip: &[u8],
    tunnel: Option<(IpAddr, IpAddr, &'static str)>,
) -> Option<Packet> {
    let (src, dst, proto, l4): (IpAddr, IpAddr, u8, &[u8]) = match ether_type {
        0x0800 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let total = usize::from(be16(ip, 2));
            assert_eq!(total, ip.len(), "IPv4 total length");
            let src: [u8; 4] = ip[12..16].try_into().unwrap();
            let dst: [u8; 4] = ip[16..20].try_into().unwrap();
            (src.into(), dst.into(), ip[9], &ip[ihl..total])
        }
        0x86dd => {
            let len = usize::from(be16(ip, 4));
            assert_eq!(len + 40, ip.len(), "IPv6 payload length");
            let src: [u8; 16] = ip[8..24].try_into().unwrap();
            let dst: [u8; 16] = ip[24..40].try_into().unwrap();
            (src.into(), dst.into(), ip[6], &ip[40..])
        }
        _ => return None,
    };
    match proto {
        47 => {
            assert!(tunnel.is_none(), "one tunnel level");
            assert_eq!(be16(l4, 0), 0, "plain GRE");
            parse_ip(be16(l4, 2), &l4[4..], Some((src, dst, "gre")))
        }
        17 => {
            let (sport, dport) = (be16(l4, 0), be16(l4, 2));
            assert_eq!(usize::from(be16(l4, 4)), l4.len(), "UDP length");
            if dport == 4789 {
                assert!(tunnel.is_none(), "one tunnel level");
                assert_eq!(l4[8], 0x08, "VXLAN flags");
                return parse_ethernet(&l4[16..], Some((src, dst, "vxlan")));
            }
            Some(Packet {
                ts: 0,
                src,
                dst,
                sport,
                dport,
                udp: true,
                flags: 0,
                seq: 0,
                ack: 0,
                payload: l4[8..].to_vec(),
                vlan: None,
                tunnel,
            })
        }
        6 => {
            let off = usize::from(l4[12] >> 4) * 4;
            Some(Packet {
                ts: 0,
                src,
                dst,
                sport: be16(l4, 0),
                dport: be16(l4, 2),
                udp: false,
                flags: l4[13],
                seq: be32(l4, 4),
                ack: be32(l4, 8),
                payload: l4[off..].to_vec(),
                vlan: None,
                tunnel,
            })
        }
        _ => None,
    }
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// Joins one direction's data segments by sequence number (relative to `isn + 1`); any two
/// copies of a byte must agree, and the bytes must have no hole.
fn reassemble(segments: &[(u32, &[u8])], isn: u32) -> Vec<u8> {
    let mut bytes: BTreeMap<usize, u8> = BTreeMap::new();
    for &(seq, data) in segments {
        let rel = seq.wrapping_sub(isn.wrapping_add(1)) as usize;
        assert!(rel < 1 << 30, "segment before the stream's start");
        for (i, &b) in data.iter().enumerate() {
            if let Some(old) = bytes.insert(rel + i, b) {
                assert_eq!(old, b, "retransmitted bytes differ");
            }
        }
    }
    let out: Vec<u8> = bytes.values().copied().collect();
    if let Some((&last, _)) = bytes.last_key_value() {
        assert_eq!(last + 1, out.len(), "hole in the stream");
    }
    out
}

/// A flow's packets and its truth record, checked.
struct Checked {
    client: Vec<u8>,
    server: Vec<u8>,
}

fn check_flow(t: &Value, pkts: &[&Packet]) -> Checked {
    let src: IpAddr = t["src"].as_str().unwrap().parse().unwrap();
    let vlan = t["vlan"].as_u64().map(|v| v as u16);
    let tunnel = t["tunnel"].as_object().map(|o| {
        (
            o["outer_src"].as_str().unwrap().parse::<IpAddr>().unwrap(),
            o["outer_dst"].as_str().unwrap().parse::<IpAddr>().unwrap(),
            o["type"].as_str().unwrap().to_string(),
        )
    });
    for p in pkts {
        assert_eq!(p.vlan, vlan, "flow {}: VLAN", t["flow"]);
        let from_client = p.src == src && p.sport == t["sport"].as_u64().unwrap() as u16;
        let seen = p.tunnel.map(|(a, b, k)| {
            if from_client {
                (a, b, k.to_string())
            } else {
                (b, a, k.to_string())
            }
        });
        assert_eq!(seen, tunnel, "flow {}: tunnel", t["flow"]);
    }
    let is_client = |p: &Packet| p.src == src && p.sport == t["sport"].as_u64().unwrap() as u16;
    if t["proto"] == "udp" {
        assert_eq!(pkts.len(), 2, "a query and a response");
        assert!(is_client(pkts[0]) && !is_client(pkts[1]));
        let c = pkts[0].payload.clone();
        let s = pkts[1].payload.clone();
        assert_eq!(fnv(&c), t["client_fnv1a"]);
        assert_eq!(fnv(&s), t["server_fnv1a"]);
        return Checked {
            client: c,
            server: s,
        };
    }
    // The handshake comes first, with consistent numbers.
    let (syn, synack, ack) = (pkts[0], pkts[1], pkts[2]);
    assert!(
        is_client(syn) && syn.flags == SYN,
        "flow {}: SYN first",
        t["flow"]
    );
    assert!(!is_client(synack) && synack.flags == SYN | ACK);
    assert_eq!(synack.ack, syn.seq.wrapping_add(1));
    assert!(is_client(ack) && ack.flags == ACK && ack.payload.is_empty());
    assert_eq!(
        (ack.seq, ack.ack),
        (syn.seq.wrapping_add(1), synack.seq.wrapping_add(1))
    );
    let isn = [syn.seq, synack.seq];
    let mut segments: [Vec<(u32, &[u8])>; 2] = [Vec::new(), Vec::new()];
    // Highest sequence end each side has sent so far: no ACK may go beyond it.
    let mut sent_end = [isn[0].wrapping_add(1), isn[1].wrapping_add(1)];
    let mut fins = [false, false];
    let mut rsts = 0;
    for p in &pkts[2..] {
        let side = usize::from(!is_client(p));
        assert!(p.flags & SYN == 0, "one handshake");
        if !p.payload.is_empty() {
            segments[side].push((p.seq, &p.payload));
        }
        let end = p
            .seq
            .wrapping_add(p.payload.len() as u32 + u32::from(p.flags & FIN != 0));
        if end.wrapping_sub(sent_end[side]) as i32 > 0 {
            sent_end[side] = end;
        }
        if p.flags & ACK != 0 {
            assert!(
                sent_end[1 - side].wrapping_sub(p.ack) as i32 >= 0,
                "flow {}: ACK of unsent data",
                t["flow"]
            );
        }
        fins[side] |= p.flags & FIN != 0;
        rsts += usize::from(p.flags & RST != 0);
    }
    let client = reassemble(&segments[0], isn[0]);
    let server = reassemble(&segments[1], isn[1]);
    assert_eq!(client.len() as u64, t["client_bytes"].as_u64().unwrap());
    assert_eq!(server.len() as u64, t["server_bytes"].as_u64().unwrap());
    assert_eq!(fnv(&client), t["client_fnv1a"], "flow {}", t["flow"]);
    assert_eq!(fnv(&server), t["server_fnv1a"], "flow {}", t["flow"]);
    match t["end"].as_str().unwrap() {
        "fin" => assert!(
            fins == [true, true] && rsts == 0,
            "flow {}: FINs",
            t["flow"]
        ),
        "rst" => assert!(fins == [false, false] && rsts == 1),
        other => panic!("end {other}"),
    }
    Checked { client, server }
}

/// Groups packets by the truth record whose 5-tuple they carry (either way), checking that
/// every packet belongs to one and timestamps never go back.
fn by_flow<'a>(packets: &'a [Packet], truth: &[Value]) -> Vec<Vec<&'a Packet>> {
    let mut index = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        let key = (
            t["src"].as_str().unwrap().parse::<IpAddr>().unwrap(),
            t["sport"].as_u64().unwrap() as u16,
            t["dst"].as_str().unwrap().parse::<IpAddr>().unwrap(),
            t["dport"].as_u64().unwrap() as u16,
            t["proto"] == "udp",
        );
        assert!(index.insert(key, i).is_none(), "5-tuples are unique");
    }
    let mut flows = vec![Vec::new(); truth.len()];
    let mut last = 0;
    for p in packets {
        assert!(p.ts >= last, "time goes forward");
        last = p.ts;
        let i = index
            .get(&(p.src, p.sport, p.dst, p.dport, p.udp))
            .or_else(|| index.get(&(p.dst, p.dport, p.src, p.sport, p.udp)))
            .expect("every packet belongs to a flow in the truth file");
        flows[*i].push(p);
    }
    flows
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn dns_name(m: &[u8], mut at: usize) -> (String, usize) {
    let mut labels = Vec::new();
    let mut end = None;
    loop {
        let len = usize::from(m[at]);
        if len == 0 {
            return (labels.join("."), end.unwrap_or(at + 1));
        }
        if len & 0xc0 == 0xc0 {
            end.get_or_insert(at + 2);
            at = usize::from(be16(m, at) & 0x3fff);
            continue;
        }
        labels.push(String::from_utf8(m[at + 1..at + 1 + len].to_vec()).unwrap());
        at += 1 + len;
    }
}

/// Names and addresses of a DNS query and response.
fn dns_values(query: &[u8], response: &[u8], got: &mut HashMap<&'static str, Vec<String>>) {
    let (qname, _) = dns_name(query, 12);
    got.entry("dns").or_default().push(qname);
    let answers = be16(response, 6);
    let (_, mut at) = dns_name(response, 12);
    at += 4;
    for _ in 0..answers {
        let (_, next) = dns_name(response, at);
        let (kind, len) = (be16(response, next), usize::from(be16(response, next + 8)));
        let rdata = &response[next + 10..next + 10 + len];
        match kind {
            5 => {
                let (cname, _) = dns_name(response, next + 10);
                got.entry("dns").or_default().push(cname);
            }
            1 => got
                .entry("addresses")
                .or_default()
                .push(IpAddr::from(<[u8; 4]>::try_from(rdata).unwrap()).to_string()),
            28 => got
                .entry("addresses")
                .or_default()
                .push(IpAddr::from(<[u8; 16]>::try_from(rdata).unwrap()).to_string()),
            _ => panic!("answer type {kind}"),
        }
        at = next + 10 + len;
    }
}

/// The values a flow's reassembled streams carry, found by parsing them.
fn extract(app: &str, c: &[u8], s: &[u8]) -> HashMap<&'static str, Vec<String>> {
    let mut got: HashMap<&'static str, Vec<String>> = HashMap::new();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match app {
        "http" => {
            let mut rest = c;
            while !rest.is_empty() {
                let head_end = rest.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let head = text(&rest[..head_end]);
                let mut lines = head.split("\r\n");
                let uri = lines.next().unwrap().split(' ').nth(1).unwrap();
                got.entry("http_uri").or_default().push(uri.to_string());
                let host = head
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix("Host: "))
                    .unwrap();
                got.entry("http_url")
                    .or_default()
                    .push(format!("http://{host}{uri}"));
                let mut body = 0;
                for l in lines {
                    if let Some(h) = l.strip_prefix("Host: ") {
                        let hosts = got.entry("http_host").or_default();
                        if !hosts.contains(&h.to_string()) {
                            hosts.push(h.to_string());
                        }
                    } else if let Some(u) = l.strip_prefix("User-Agent: ") {
                        let uas = got.entry("http_user_agent").or_default();
                        if !uas.contains(&u.to_string()) {
                            uas.push(u.to_string());
                        }
                    } else if let Some(n) = l.strip_prefix("Content-Length: ") {
                        body = n.parse().unwrap();
                    }
                }
                rest = &rest[head_end + body..];
            }
        }
        "tls" => {
            // Record header, handshake header, version, random, session id, suites,
            // compression, then extensions.
            assert_eq!(&c[..3], &[22, 3, 1]);
            let mut at = 5 + 4 + 2 + 32;
            at += 1 + usize::from(c[at]);
            at += 2 + usize::from(be16(c, at));
            at += 1 + usize::from(c[at]);
            let end = at + 2 + usize::from(be16(c, at));
            at += 2;
            while at < end {
                let (kind, len) = (be16(c, at), usize::from(be16(c, at + 2)));
                if kind == 0 {
                    let name_len = usize::from(be16(c, at + 7));
                    got.entry("sni")
                        .or_default()
                        .push(text(&c[at + 9..at + 9 + name_len]));
                }
                at += 4 + len;
            }
        }
        "dns" => dns_values(c, s, &mut got),
        "dns-tcp" => {
            assert_eq!(usize::from(be16(c, 0)) + 2, c.len());
            assert_eq!(usize::from(be16(s, 0)) + 2, s.len());
            dns_values(&c[2..], &s[2..], &mut got);
        }
        "smtp" => {
            let dialogue = text(c);
            let mut in_data = false;
            for line in dialogue.split("\r\n") {
                if in_data {
                    in_data = line != ".";
                    continue;
                }
                if let Some(h) = line.strip_prefix("EHLO ") {
                    got.entry("smtp_helo").or_default().push(h.to_string());
                } else if let Some(a) = line.strip_prefix("MAIL FROM:<") {
                    got.entry("mail_from")
                        .or_default()
                        .push(a.trim_end_matches('>').to_string());
                } else if let Some(a) = line.strip_prefix("RCPT TO:<") {
                    got.entry("rcpt_to")
                        .or_default()
                        .push(a.trim_end_matches('>').to_string());
                } else if line == "DATA" {
                    in_data = true;
                }
            }
        }
        other => panic!("app {other}"),
    }
    got
}

fn check_capture(pcap: &[u8], truth: &[Value]) {
    let packets = read_pcap(pcap);
    let flows = by_flow(&packets, truth);
    for (t, pkts) in truth.iter().zip(&flows) {
        let streams = check_flow(t, pkts);
        let app = t["app"].as_str().unwrap();
        let got = extract(app, &streams.client, &streams.server);
        for (key, want) in t["values"].as_object().unwrap() {
            let found = got.get(key.as_str()).cloned().unwrap_or_default();
            assert_eq!(found, strings(want), "flow {}: {key}", t["flow"]);
        }
        for key in got.keys() {
            assert!(
                t["values"].get(*key).is_some(),
                "{key} is in the truth file"
            );
        }
    }
}

#[test]
fn every_flow_is_a_valid_session_carrying_its_truth() {
    let (pcap, truth, stats) = generate(busy(11, 3 << 20));
    assert_eq!(stats.bytes, pcap.len() as u64);
    assert_eq!(stats.flows, truth.len() as u64);
    check_capture(&pcap, &truth);
    // The variations were all exercised, and every kind of session.
    let count = |f: &dyn Fn(&Value) -> bool| truth.iter().filter(|t| f(t)).count();
    assert!(count(&|t| t["split_heads"].as_u64().unwrap() > 0) > 10);
    assert!(count(&|t| t["reordered"] == 1) > 5);
    assert!(count(&|t| t["retransmitted"] == 1) > 5);
    assert!(count(&|t| t["end"] == "rst") > 5);
    assert!(count(&|t| t["tunnel"]["type"] == "vxlan") > 3);
    assert!(count(&|t| t["tunnel"]["type"] == "gre") > 3);
    assert!(count(&|t| t["dst"].as_str().unwrap().contains(':')) > 5);
    assert!(count(&|t| t["vlan"].is_u64()) > 5);
    assert!(count(&|t| t["tcp_timestamps"] == true) > 5);
    for app in ["http", "tls", "dns", "dns-tcp", "smtp"] {
        assert!(count(&|t| t["app"] == app) > 3, "{app}");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    let (a, ta, _) = generate(busy(5, 1 << 20));
    let (b, tb, _) = generate(busy(5, 1 << 20));
    let (c, _, _) = generate(busy(6, 1 << 20));
    assert!(a == b, "same seed, same capture");
    assert_eq!(ta, tb);
    assert!(a != c, "another seed, another capture");
}

#[test]
fn the_capture_ends_just_past_the_budget_with_every_session_complete() {
    for budget in [200_000u64, 2 << 20] {
        let (pcap, truth, stats) = generate(busy(3, budget));
        assert!(stats.bytes >= budget, "{} < {budget}", stats.bytes);
        // At most one flow's worth more (responses are at most 30 kB, six per connection).
        assert!(
            stats.bytes < budget + 300_000,
            "{} for {budget}",
            stats.bytes
        );
        check_capture(&pcap, &truth);
    }
}

#[test]
fn listed_values_appear_on_the_chosen_share() {
    let mut cfg = busy(9, 4 << 20);
    cfg.lists.domains = vec!["listed.example".into()];
    cfg.lists.ips = vec!["198.51.100.7".parse().unwrap()];
    cfg.lists.emails = vec!["boss@listed.example".into()];
    cfg.list_share = 0.25;
    let (pcap, truth, _) = generate(cfg);
    check_capture(&pcap, &truth);
    let snis: Vec<String> = truth
        .iter()
        .flat_map(|t| strings(&t["values"]["sni"]))
        .collect();
    let hits = snis.iter().filter(|s| *s == "listed.example").count();
    let share = hits as f64 / snis.len() as f64;
    assert!(
        snis.len() > 100 && (0.15..0.35).contains(&share),
        "{hits}/{}",
        snis.len()
    );
    let servers = truth
        .iter()
        .filter(|t| t["app"] == "http" || t["app"] == "tls")
        .map(|t| t["dst"] == "198.51.100.7")
        .collect::<Vec<_>>();
    let share = servers.iter().filter(|&&h| h).count() as f64 / servers.len() as f64;
    assert!((0.15..0.35).contains(&share), "server share {share}");
    assert!(
        truth
            .iter()
            .any(|t| strings(&t["values"]["mail_from"]).contains(&"boss@listed.example".into()))
    );
    // With no share, nothing listed.
    let mut cfg = busy(9, 1 << 20);
    cfg.lists.domains = vec!["listed.example".into()];
    cfg.list_share = 0.0;
    let (_, truth, _) = generate(cfg);
    assert!(
        !truth
            .iter()
            .any(|t| t.to_string().contains("listed.example"))
    );
}

#[test]
fn post_quantum_client_hellos_span_two_segments() {
    let mut cfg = clean(4, 1 << 20);
    cfg.mix = trawl_tools::sessions::Mix {
        http: 0,
        tls: 1,
        dns: 0,
        dns_tcp: 0,
        smtp: 0,
    };
    cfg.shares.post_quantum = 1.0;
    cfg.shares.split = 0.0;
    cfg.shares.vxlan = 0.0;
    cfg.shares.gre = 0.0;
    cfg.shares.ipv6 = 0.0;
    cfg.shares.tcp_timestamps = 0.0;
    let (pcap, truth, _) = generate(cfg);
    check_capture(&pcap, &truth);
    let packets = read_pcap(&pcap);
    let flows = by_flow(&packets, &truth);
    for pkts in flows {
        let data: Vec<&&Packet> = pkts.iter().filter(|p| !p.payload.is_empty()).collect();
        // ClientHello: a full 1460-byte segment, then the rest.
        assert_eq!(data[0].payload.len(), 1460);
        assert_eq!(data[0].payload[..3], [22, 3, 1]);
        let record = 5 + usize::from(be16(&data[0].payload, 3));
        assert!(
            (1_650..1_800).contains(&record),
            "ClientHello record of {record} bytes"
        );
        assert_eq!(data[1].payload.len(), record - 1460);
    }
}

// ---- tshark, when installed ----

fn tshark() -> bool {
    let found = Command::new("tshark").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "tshark is required (TRAWL_REQUIRE_TOOLS) but missing"
        );
        println!("skipped: tshark is not installed");
    }
    found
}

fn tshark_lines(pcap: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(pcap)
        .args(args)
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn write_temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gen-sessions-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn wireshark_finds_nothing_wrong_without_reordering_or_retransmissions() {
    if !tshark() {
        return;
    }
    let (pcap, truth, _) = generate(clean(21, 2 << 20));
    let path = write_temp("clean.pcap", &pcap);
    let flagged = tshark_lines(&path, &["-Y", "tcp.analysis.flags || _ws.malformed"]);
    assert!(flagged.is_empty(), "{flagged:#?}");
    // Checksums are right too (Suricata checks them).
    let bad = tshark_lines(
        &path,
        &[
            "-o",
            "ip.check_checksum:TRUE",
            "-o",
            "tcp.check_checksum:TRUE",
            "-o",
            "udp.check_checksum:TRUE",
            "-Y",
            "ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0",
        ],
    );
    assert!(bad.is_empty(), "{bad:#?}");
    // The flows tshark sees are the flows of the truth file.
    let tcp_flows = truth.iter().filter(|t| t["proto"] == "tcp").count();
    let conversations = tshark_lines(&path, &["-q", "-z", "conv,tcp"])
        .iter()
        .filter(|l| l.contains("<->"))
        .count();
    assert_eq!(conversations, tcp_flows);
    std::fs::remove_file(path).unwrap();
}

/// tshark (which reassembles) finds every SNI, Host, URI and query name the truth file lists,
/// split heads, tunnels, reordering and retransmissions included.
#[test]
fn wireshark_finds_every_value() {
    if !tshark() {
        return;
    }
    let (pcap, truth, _) = generate(busy(22, 2 << 20));
    let path = write_temp("busy.pcap", &pcap);
    let sorted = |mut v: Vec<String>| {
        assert!(v.len() > 5, "enough values to compare: {v:?}");
        v.sort();
        v
    };
    let field = |filter: &str, field: &str| {
        sorted(tshark_lines(
            &path,
            &[
                "-o",
                "tcp.reassemble_out_of_order:TRUE",
                "-Y",
                filter,
                "-T",
                "fields",
                "-e",
                field,
            ],
        ))
    };
    let want = |key: &str, filter: &dyn Fn(&Value) -> bool| {
        sorted(
            truth
                .iter()
                .filter(|t| filter(t))
                .flat_map(|t| strings(&t["values"][key]))
                .collect(),
        )
    };
    assert_eq!(
        field(
            "tls.handshake.type == 1",
            "tls.handshake.extensions_server_name"
        ),
        want("sni", &|_| true)
    );
    assert_eq!(
        field("http.request", "http.request.uri"),
        want("http_uri", &|_| true)
    );
    let hosts = field("http.request", "http.host");
    let mut want_hosts = Vec::new();
    for t in truth.iter().filter(|t| t["app"] == "http") {
        for _ in strings(&t["values"]["http_uri"]) {
            want_hosts.extend(strings(&t["values"]["http_host"]));
        }
    }
    assert_eq!(hosts, sorted(want_hosts));
    let queries = field("dns.flags.response == 0", "dns.qry.name");
    let mut want_queries: Vec<String> = truth
        .iter()
        .filter(|t| t["app"] == "dns" || t["app"] == "dns-tcp")
        .map(|t| strings(&t["values"]["dns"])[0].clone())
        .collect();
    want_queries.sort();
    assert_eq!(queries, want_queries);
    std::fs::remove_file(path).unwrap();
}
