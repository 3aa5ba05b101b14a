//! Writes a capture of complete sessions (handshakes, data both ways with consistent
//! sequence and acknowledgement numbers, teardowns, DNS pairs) for benchmarks that must parse
//! sessions as a real IDS does; see `trawl_tools::sessions`.
//!
//! ```text
//! gen-sessions OUT.pcap [--bytes 64M] [--seed N] [--truth FILE.jsonl] [--concurrent 200]
//!   [--mss 1460] [--mix http=35,tls=40,dns=15,dns-tcp=2,smtp=8]
//!   [--split 0.1] [--reorder 0.02] [--retransmit 0.02] [--rst 0.1] [--tcp-ts 0.5] [--pq 0.5]
//!   [--post 0.2] [--ipv6 0.1] [--vlan 0.1] [--vxlan 0.02] [--gre 0.02]
//!   [--requests 1-6] [--response-size 200-200000] [--body-size 50-8000]
//!   [--domains LIST] [--uris LIST] [--user-agents LIST] [--emails LIST] [--ips LIST]
//!   [--list-share 0.01]
//! ```
//!
//! A LIST is comma-separated values or `@FILE` (one value a line, `#` comments). `--list-share`
//! is the share of draws (names, URIs, User-Agents, addresses) taken from the lists, so a set
//! compiled from them finds hits on about that share. `--bytes` takes K, M, G suffixes
//! (binary); the capture ends at about that size, every session complete.
//!
//! `--truth` writes one JSON object a line, in flow order: `flow`, `app` (http, tls, dns,
//! dns-tcp, smtp), `proto`, `src` `sport` `dst` `dport` (the inner flow), `vlan`, `tunnel`
//! (`type`, `outer_src`, `outer_dst`, for VXLAN `vni` and `outer_sport`; or null), `start_us`,
//! `end` (fin, rst, none), `tcp_timestamps`, `split_heads`, `reordered`, `retransmitted`,
//! `client_bytes` and `server_bytes` with their FNV-1a 64 digests, and `values` (`dns`, `sni`,
//! `http_host`, `http_uri`, `http_url`, `http_user_agent`, `smtp_helo`, `mail_from`, `rcpt_to`,
//! `addresses` answered in DNS).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::time::Instant;

use trawl_tools::sessions::{Config, Generator};

fn usage(why: &str) -> ! {
    eprintln!("gen-sessions: {why}");
    eprintln!(
        "usage: gen-sessions OUT.pcap [--bytes N[K|M|G]] [--seed N] [--truth FILE] \
         [--concurrent N] [--mss N] [--mix http=W,tls=W,dns=W,dns-tcp=W,smtp=W] \
         [--split P] [--reorder P] [--retransmit P] [--rst P] [--tcp-ts P] [--pq P] [--post P] \
         [--ipv6 P] [--vlan P] [--vxlan P] [--gre P] [--requests A-B] [--response-size A-B] \
         [--body-size A-B] [--domains LIST] [--uris LIST] [--user-agents LIST] [--emails LIST] \
         [--ips LIST] [--list-share P]   (LIST: a,b,c or @FILE)"
    );
    std::process::exit(2);
}

fn size(s: &str) -> u64 {
    let t = s.trim_end_matches("iB").trim_end_matches('B');
    let (digits, shift) = match t.char_indices().last() {
        Some((at, 'K' | 'k')) => (&t[..at], 10),
        Some((at, 'M' | 'm')) => (&t[..at], 20),
        Some((at, 'G' | 'g')) => (&t[..at], 30),
        _ => (t, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .unwrap_or_else(|| usage(&format!("bad size {s}")))
}

fn share(name: &str, s: &str) -> f64 {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => p,
        _ => usage(&format!("{name} wants a share from 0 to 1, not {s}")),
    }
}

fn range(name: &str, s: &str) -> (u32, u32) {
    let parse = |x: &str| {
        x.parse::<u32>()
            .unwrap_or_else(|_| usage(&format!("bad {name} {s}")))
    };
    match s.split_once('-') {
        Some((a, b)) if parse(a) <= parse(b) => (parse(a), parse(b)),
        Some(_) => usage(&format!("{name}: empty range {s}")),
        None => (parse(s), parse(s)),
    }
}

fn list(s: &str) -> Vec<String> {
    let text = match s.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| usage(&format!("cannot read {path}: {e}"))),
        None => s.replace(',', "\n"),
    };
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().filter(|a| !a.starts_with("--")) else {
        usage("no output file");
    };
    let mut cfg = Config::default();
    let mut truth_path = None;
    let mut i = 1;
    while i < args.len() {
        let flag = args[i].as_str();
        let Some(v) = args.get(i + 1) else {
            usage(&format!("{flag} wants a value"));
        };
        let s = &mut cfg.shares;
        match flag {
            "--bytes" => cfg.bytes = size(v),
            "--seed" => cfg.seed = v.parse().unwrap_or_else(|_| usage("bad seed")),
            "--truth" => truth_path = Some(v.clone()),
            "--concurrent" => {
                cfg.concurrent = v.parse().unwrap_or_else(|_| usage("bad --concurrent"))
            }
            "--mss" => match v.parse::<u16>() {
                Ok(m) if (536..=9000).contains(&m) => cfg.mss = m,
                _ => usage("--mss wants 536 to 9000"),
            },
            "--mix" => {
                let m = &mut cfg.mix;
                (m.http, m.tls, m.dns, m.dns_tcp, m.smtp) = (0, 0, 0, 0, 0);
                for part in v.split(',') {
                    let (k, w) = part.split_once('=').unwrap_or_else(|| usage("bad --mix"));
                    let w: u32 = w.parse().unwrap_or_else(|_| usage("bad --mix weight"));
                    match k {
                        "http" => m.http = w,
                        "tls" => m.tls = w,
                        "dns" => m.dns = w,
                        "dns-tcp" => m.dns_tcp = w,
                        "smtp" => m.smtp = w,
                        _ => usage(&format!("unknown session kind {k}")),
                    }
                }
                if m.http + m.tls + m.dns + m.dns_tcp + m.smtp == 0 {
                    usage("--mix weighs nothing");
                }
            }
            "--split" => s.split = share(flag, v),
            "--reorder" => s.reorder = share(flag, v),
            "--retransmit" => s.retransmit = share(flag, v),
            "--rst" => s.rst = share(flag, v),
            "--tcp-ts" => s.tcp_timestamps = share(flag, v),
            "--pq" => s.post_quantum = share(flag, v),
            "--post" => s.post = share(flag, v),
            "--ipv6" => s.ipv6 = share(flag, v),
            "--vlan" => s.vlan = share(flag, v),
            "--vxlan" => s.vxlan = share(flag, v),
            "--gre" => s.gre = share(flag, v),
            "--requests" => cfg.requests = range(flag, v),
            "--response-size" => cfg.response_size = range(flag, v),
            "--body-size" => cfg.body_size = range(flag, v),
            "--domains" => cfg.lists.domains = list(v),
            "--uris" => cfg.lists.uris = list(v),
            "--user-agents" => cfg.lists.user_agents = list(v),
            "--emails" => cfg.lists.emails = list(v),
            "--ips" => {
                cfg.lists.ips = list(v)
                    .iter()
                    .map(|a| {
                        a.parse::<IpAddr>()
                            .unwrap_or_else(|_| usage(&format!("not an address: {a}")))
                    })
                    .collect()
            }
            "--list-share" => cfg.list_share = share(flag, v),
            _ => usage(&format!("unknown flag {flag}")),
        }
        i += 2;
    }
    if cfg.shares.vxlan + cfg.shares.gre > 1.0 {
        usage("--vxlan and --gre add up to more than 1");
    }
    let started = Instant::now();
    let pcap = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut truth = match truth_path {
        Some(p) => Some(BufWriter::with_capacity(1 << 16, File::create(p)?)),
        None => None,
    };
    let stats = Generator::new(cfg).run(pcap, truth.as_mut().map(|t| t as &mut dyn Write))?;
    if let Some(mut t) = truth {
        t.flush()?;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "gen-sessions: {} flows, {} frames, {} bytes in {secs:.2} s ({:.0} MiB/s)",
        stats.flows,
        stats.frames,
        stats.bytes,
        stats.bytes as f64 / f64::from(1 << 20) / secs
    );
    Ok(())
}
