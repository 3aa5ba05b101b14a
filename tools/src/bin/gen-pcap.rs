//! Writes a synthetic capture with a realistic mix for throughput benchmarks:
//! bulk TCP data (1448-byte segments) and bare ACKs, DNS queries and responses, TLS
//! ClientHellos, HTTP requests, SMTP envelopes and small UDP datagrams, over IPv4 and some IPv6.
//! With `--hits-from FEED`, about 0.5 % of sessions use a domain or address from that feed, so
//! a set compiled from it finds hits.
//!
//! ```text
//! gen-pcap OUT.pcap MEGABYTES [--hits-from FEED] [--seed N] [--small]
//! ```
//!
//! `--small` replaces bulk data segments with bare ACKs (frames of 54–250 bytes), for
//! packet-rate tests such as live replay at 1 Mpps.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rand::Rng;
use trawl_tools::pcap::{self, PcapWriter};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(mb)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok()))
    else {
        eprintln!("usage: gen-pcap OUT.pcap MEGABYTES [--hits-from FEED] [--seed N] [--small]");
        std::process::exit(2);
    };
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let seed = opt("--seed").and_then(|s| s.parse().ok()).unwrap_or(7);
    let small = args.iter().any(|a| a == "--small");
    let mut bad_names = Vec::new();
    let mut bad_ips = Vec::new();
    if let Some(feed) = opt("--hits-from") {
        for line in BufReader::new(File::open(feed)?).lines().take(200_000) {
            let line = line?;
            let v = line.trim();
            if let Ok(ip) = v.split('/').next().unwrap_or("").parse::<Ipv4Addr>() {
                if v.ends_with("/32") || !v.contains('/') {
                    bad_ips.push(IpAddr::V4(ip));
                }
            } else if !v.contains('/') && !v.contains(':') && v.contains('.') && v.len() < 64 {
                bad_names.push(v.to_string());
            }
        }
    }
    let names = trawl_tools::domains(50_000, seed);
    let mut r = trawl_tools::rng(seed);
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, File::create(out)?))?;
    let budget = mb << 20;
    let mut written = 24u64;
    let mut ts = 1_767_225_600_000_000u64;
    let mut frames = 0u64;
    let bulk = vec![0x5Au8; 1448];
    while written < budget {
        let client = IpAddr::V4(Ipv4Addr::new(
            10,
            r.gen_range(0..4),
            r.r#gen(),
            r.gen_range(1..255),
        ));
        let hit = r.gen_range(0..200) == 0;
        let server = if hit && !bad_ips.is_empty() {
            bad_ips[r.gen_range(0..bad_ips.len())]
        } else if r.gen_bool(0.1) {
            IpAddr::V6(Ipv6Addr::new(
                0x2001,
                0xdb8,
                r.r#gen(),
                0,
                0,
                0,
                0,
                r.r#gen(),
            ))
        } else {
            IpAddr::V4(Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xDF00_0000)))
        };
        let client = if server.is_ipv6() {
            IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, r.r#gen()))
        } else {
            client
        };
        let name = if hit && !bad_names.is_empty() {
            bad_names[r.gen_range(0..bad_names.len())].clone()
        } else {
            format!("www.{}", names[r.gen_range(0..names.len())])
        };
        let sport = r.gen_range(32768..61000);
        let mut session: Vec<Vec<u8>> = Vec::new();
        match r.gen_range(0..100) {
            0..15 => {
                let resolver = IpAddr::V4(Ipv4Addr::new(10, 255, 0, 53));
                let (c, s) = if client.is_ipv6() {
                    (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)), resolver)
                } else {
                    (client, resolver)
                };
                let id = r.r#gen();
                session.push(pcap::udp(
                    c,
                    sport,
                    s,
                    53,
                    None,
                    &pcap::dns_query(id, &name),
                ));
                let answer = IpAddr::V4(Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xDF00_0000)));
                session.push(pcap::udp(
                    s,
                    53,
                    c,
                    sport,
                    None,
                    &pcap::dns_response(id, &name, None, &[answer]),
                ));
            }
            15..25 => session.push(pcap::tcp(
                client,
                sport,
                server,
                443,
                None,
                1,
                &pcap::tls_client_hello(&name),
            )),
            25..35 => session.push(pcap::tcp(
                client,
                sport,
                server,
                80,
                None,
                1,
                &pcap::http_get(&name, "/index.php?id=7", "Mozilla/5.0"),
            )),
            35..37 => session.push(pcap::tcp(
                client,
                sport,
                server,
                25,
                None,
                1,
                &pcap::smtp_envelope("a@example.org", &["b@example.net"]),
            )),
            37..42 => session.push(pcap::udp(client, sport, server, 123, None, &[0x23; 48])),
            _ => {
                // A bulk transfer: data from the server, ACKs from the client.
                for i in 0..r.gen_range(4..24u32) {
                    let data: &[u8] = if small { &[] } else { &bulk };
                    session.push(pcap::tcp(server, 443, client, sport, None, i * 1448, data));
                    if i % 2 == 1 {
                        session.push(pcap::tcp(client, sport, server, 443, None, 1, &[]));
                    }
                }
            }
        }
        for f in session {
            ts += r.gen_range(1..50);
            written += 16 + f.len() as u64;
            frames += 1;
            w.frame(ts, &f)?;
        }
    }
    std::io::Write::flush(&mut w.into_inner())?;
    eprintln!("gen-pcap: {frames} frames, {written} bytes");
    Ok(())
}
