//! Writes synthetic logs for throughput benchmarks: nginx access lines and syslog lines
//! (`plain`), or Suricata-EVE-like JSON records for dns/http/tls/flow events (`json`). With
//! `--hits-from FEED`, about 0.5 % of lines carry a domain or address from that feed.
//!
//! ```text
//! gen-logs plain|json OUT MEGABYTES [--hits-from FEED] [--seed N]
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::Ipv4Addr;

use rand::Rng;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(out), Some(mb)) = (
        args.get(1),
        args.get(2),
        args.get(3).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: gen-logs plain|json OUT MEGABYTES [--hits-from FEED] [--seed N]");
        std::process::exit(2);
    };
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let seed = opt("--seed").and_then(|s| s.parse().ok()).unwrap_or(11);
    let (mut bad_names, mut bad_ips) = (Vec::new(), Vec::new());
    if let Some(feed) = opt("--hits-from") {
        for line in BufReader::new(File::open(feed)?).lines().take(200_000) {
            let line = line?;
            let v = line.trim().to_string();
            if v.parse::<Ipv4Addr>().is_ok() {
                bad_ips.push(v);
            } else if !v.contains('/') && !v.contains(':') && v.contains('.') {
                bad_names.push(v);
            }
        }
    }
    let names = trawl_tools::domains(20_000, seed);
    let mut r = trawl_tools::rng(seed);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let budget = mb << 20;
    let mut written = 0u64;
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36",
        "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "curl/8.4.0",
    ];
    let mut line = String::with_capacity(512);
    while written < budget {
        line.clear();
        let hit = r.gen_range(0..200) == 0;
        let client =
            Ipv4Addr::new(10, r.gen_range(0..4), r.r#gen(), r.gen_range(1..255)).to_string();
        let remote = if hit && !bad_ips.is_empty() {
            bad_ips[r.gen_range(0..bad_ips.len())].clone()
        } else {
            Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xDF00_0000)).to_string()
        };
        let host = if hit && !bad_names.is_empty() {
            bad_names[r.gen_range(0..bad_names.len())].clone()
        } else {
            format!("www.{}", names[r.gen_range(0..names.len())])
        };
        let ts = 1_767_225_600 + written / 200;
        match (kind.as_str(), r.gen_range(0..4)) {
            ("plain", 0..=2) => {
                use std::fmt::Write as _;
                let _ = write!(
                    line,
                    "{client} - - [01/Jan/2026:00:{:02}:{:02} +0000] \"GET /articles/{}/index.html?ref={} HTTP/1.1\" 200 {} \"https://{host}/\" \"{}\"",
                    (ts / 60) % 60,
                    ts % 60,
                    r.gen_range(1000..99999),
                    r.gen_range(1..100),
                    r.gen_range(200..90000),
                    agents[r.gen_range(0..agents.len())]
                );
            }
            ("plain", _) => {
                use std::fmt::Write as _;
                let _ = write!(
                    line,
                    "Jan  1 00:{:02}:{:02} web-{:02} sshd[{}]: Failed password for invalid user admin from {remote} port {} ssh2",
                    (ts / 60) % 60,
                    ts % 60,
                    r.gen_range(1..20),
                    r.gen_range(1000..60000),
                    r.gen_range(1024..65535)
                );
            }
            (_, n) => {
                let common = format!(
                    "\"timestamp\":\"2026-01-01T00:{:02}:{:02}.{:06}+0000\",\"flow_id\":{},\"in_iface\":\"eth0\",\"src_ip\":\"{client}\",\"src_port\":{},\"dest_ip\":\"{remote}\",\"dest_port\":{}",
                    (ts / 60) % 60,
                    ts % 60,
                    r.gen_range(0..999_999),
                    r.r#gen::<u32>(),
                    r.gen_range(1024..65535),
                    [53, 80, 443, 443][n as usize]
                );
                line.push('{');
                line.push_str(&common);
                match n {
                    0 => line.push_str(&format!(",\"event_type\":\"dns\",\"proto\":\"UDP\",\"dns\":{{\"type\":\"query\",\"id\":{},\"rrname\":\"{host}\",\"rrtype\":\"A\",\"tx_id\":0}}}}", r.gen_range(0..65535))),
                    1 => line.push_str(&format!(",\"event_type\":\"http\",\"proto\":\"TCP\",\"http\":{{\"hostname\":\"{host}\",\"url\":\"\\/api\\/v1\\/items?id={}\",\"http_user_agent\":\"{}\",\"http_method\":\"GET\",\"protocol\":\"HTTP\\/1.1\",\"status\":200,\"length\":{}}}}}", r.gen_range(1..99999), agents[r.gen_range(0..agents.len())], r.gen_range(100..90000))),
                    2 => line.push_str(&format!(",\"event_type\":\"tls\",\"proto\":\"TCP\",\"tls\":{{\"sni\":\"{host}\",\"version\":\"TLS 1.3\",\"ja3\":{{\"hash\":\"{:032x}\"}}}}}}", r.r#gen::<u128>())),
                    _ => line.push_str(&format!(",\"event_type\":\"flow\",\"proto\":\"TCP\",\"flow\":{{\"pkts_toserver\":{},\"pkts_toclient\":{},\"bytes_toserver\":{},\"bytes_toclient\":{},\"start\":\"2026-01-01T00:00:00.000000+0000\",\"state\":\"closed\"}}}}", r.gen_range(1..99), r.gen_range(1..99), r.gen_range(100..99999), r.gen_range(100..99999))),
                }
            }
        }
        line.push('\n');
        written += line.len() as u64;
        w.write_all(line.as_bytes())?;
    }
    w.flush()?;
    eprintln!("gen-logs: {written} bytes");
    Ok(())
}
