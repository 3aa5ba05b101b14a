//! Synthetic indicator data for trawl's benchmarks and tests, reproducible from a seed.
//!
//! Distributions follow what real feeds look like: IPv4 blocklists are mostly single hosts
//! with some /24s and a few wide ranges; IPv6 lists mix /128 hosts with /64–/32 allocations;
//! domains are registrable names with a few subdomains; hashes are uniform. Query generators
//! return a chosen fraction of hits (drawn from the set) among random misses.

pub mod pcap;
pub mod quic;
pub mod sessions;

use rand::prelude::*;
use rand::rngs::StdRng;

/// Top-level domains drawn from for synthetic names.
pub const TLDS: [&str; 12] = [
    "com", "net", "org", "ru", "cn", "info", "xyz", "top", "io", "de", "uk", "biz",
];

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// IPv4 prefixes as `(address, length)` with host bits cleared: 70 % /32, 20 % /24,
/// 9.9 % /16–/23, 0.1 % /8–/15 (about a fifth of the address space ends up covered).
pub fn ipv4_prefixes(n: usize, seed: u64) -> Vec<(u32, u8)> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let len = match r.gen_range(0..1000) {
                0..700 => 32,
                700..900 => 24,
                900..999 => r.gen_range(16..=23),
                _ => r.gen_range(8..=15),
            };
            let addr: u32 = r.r#gen();
            (addr & (u32::MAX << (32 - len)), len)
        })
        .collect()
}

/// IPv6 prefixes inside 2000::/3 as `(address, length)`: 50 % /128, 20 % /64, 20 % /48,
/// 10 % /29–/40.
pub fn ipv6_prefixes(n: usize, seed: u64) -> Vec<(u128, u8)> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let len: u8 = match r.gen_range(0..100) {
                0..50 => 128,
                50..70 => 64,
                70..90 => 48,
                _ => r.gen_range(29..=40),
            };
            let addr: u128 = (0x2u128 << 124) | (r.r#gen::<u128>() >> 3);
            let mask = if len == 128 {
                u128::MAX
            } else {
                !(u128::MAX >> len)
            };
            (addr & mask, len)
        })
        .collect()
}

fn label(r: &mut StdRng, min: usize, max: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let len = r.gen_range(min..=max);
    (0..len)
        .map(|i| {
            let c = CHARS[r.gen_range(0..if i == 0 { 26 } else { CHARS.len() })];
            char::from(c)
        })
        .collect()
}

/// Domain names: a registrable name, 30 % with one or two extra labels.
pub fn domains(n: usize, seed: u64) -> Vec<String> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            let mut d = format!(
                "{}.{}",
                label(&mut r, 5, 14),
                TLDS[r.gen_range(0..TLDS.len())]
            );
            for _ in 0..[0, 0, 0, 0, 0, 0, 0, 1, 1, 2][r.gen_range(0..10)] {
                d = format!("{}.{d}", label(&mut r, 2, 8));
            }
            d
        })
        .collect()
}

/// Random digests of `len` bytes.
pub fn digests(n: usize, len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| (0..len).map(|_| r.r#gen::<u8>()).collect())
        .collect()
}

/// Canonical URLs: `http(s)://name/path[?query]`.
pub fn urls(n: usize, seed: u64) -> Vec<String> {
    let mut r = rng(seed);
    let names = domains(n / 4 + 1, seed ^ 0x55);
    (0..n)
        .map(|_| {
            let scheme = if r.gen_bool(0.6) { "http" } else { "https" };
            let host = &names[r.gen_range(0..names.len())];
            let mut path = String::new();
            for _ in 0..r.gen_range(1..4) {
                path.push('/');
                path.push_str(&label(&mut r, 3, 10));
            }
            if r.gen_bool(0.3) {
                path.push_str(".php");
            }
            if r.gen_bool(0.3) {
                path.push_str(&format!("?id={}", r.gen_range(0..100_000)));
            }
            format!("{scheme}://{host}{path}")
        })
        .collect()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Query names: `hit_pct` % are subdomains of (or equal to) listed names, the rest random.
pub fn domain_queries(listed: &[String], n: usize, hit_pct: u32, seed: u64) -> Vec<String> {
    let mut r = rng(seed);
    (0..n)
        .map(|_| {
            if r.gen_range(0..100) < hit_pct {
                let base = &listed[r.gen_range(0..listed.len())];
                match r.gen_range(0..3) {
                    0 => base.clone(),
                    1 => format!("www.{base}"),
                    _ => format!("{}.cdn.{base}", label(&mut r, 3, 6)),
                }
            } else {
                let mut d = format!(
                    "{}.{}",
                    label(&mut r, 5, 14),
                    TLDS[r.gen_range(0..TLDS.len())]
                );
                if r.gen_bool(0.5) {
                    d = format!("www.{d}");
                }
                d
            }
        })
        .collect()
}

/// Mixed feed lines for compile benchmarks: 40 % IPv4 (mixed prefixes), 10 % IPv6,
/// 25 % domains, 10 % URLs, 10 % sha256, 5 % md5.
pub fn mixed_lines(n: usize, seed: u64, mut emit: impl FnMut(&str)) {
    let mut r = rng(seed);
    let chunk = 100_000;
    let mut done = 0;
    let mut round = 0u64;
    while done < n {
        let m = chunk.min(n - done);
        let s = seed.wrapping_add(round * 7919);
        let v4 = ipv4_prefixes(m * 40 / 100, s);
        let v6 = ipv6_prefixes(m * 10 / 100, s + 1);
        let doms = domains(m * 25 / 100, s + 2);
        let us = urls(m * 10 / 100, s + 3);
        let shas = digests(m * 10 / 100, 32, s + 4);
        let md5s = digests(m - m * 95 / 100, 16, s + 5);
        let mut lines: Vec<String> = Vec::with_capacity(m);
        lines.extend(
            v4.iter()
                .map(|&(a, l)| format!("{}/{l}", std::net::Ipv4Addr::from(a))),
        );
        lines.extend(
            v6.iter()
                .map(|&(a, l)| format!("{}/{l}", std::net::Ipv6Addr::from(a))),
        );
        lines.extend(doms);
        lines.extend(us);
        lines.extend(shas.iter().map(|d| hex(d)));
        lines.extend(md5s.iter().map(|d| hex(d)));
        lines.shuffle(&mut r);
        for l in &lines {
            emit(l);
        }
        done += m;
        round += 1;
    }
}

/// A sensor blocklist mix, shaped like real IP and domain feeds (no wide prefixes): 60 % IPv4
/// hosts, 5 % IPv4 /24s, 5 % IPv6 hosts, 25 % domains, 5 % URLs.
pub fn sensor_lines(n: usize, seed: u64, mut emit: impl FnMut(&str)) {
    let mut r = rng(seed);
    let doms = domains(n / 4 + 1, seed + 1);
    let us = urls(n / 20 + 1, seed + 2);
    let (mut d, mut u) = (0, 0);
    for _ in 0..n {
        let line = match r.gen_range(0..100) {
            0..60 => format!(
                "{}",
                std::net::Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xDF00_0000))
            ),
            60..65 => format!(
                "{}/24",
                std::net::Ipv4Addr::from(r.gen_range(0x0100_0000u32..0xDF00_0000) & !0xFF)
            ),
            65..70 => format!(
                "{}",
                std::net::Ipv6Addr::from((0x2u128 << 124) | (r.r#gen::<u128>() >> 3))
            ),
            70..95 => {
                d = (d + 1) % doms.len();
                doms[d].clone()
            }
            _ => {
                u = (u + 1) % us.len();
                us[u].clone()
            }
        };
        emit(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_reproducible_and_shaped() {
        assert_eq!(ipv4_prefixes(100, 1), ipv4_prefixes(100, 1));
        let v4 = ipv4_prefixes(10_000, 2);
        assert!(
            v4.iter()
                .all(|&(a, l)| l == 32 || a & !(u32::MAX << (32 - l)) == 0)
        );
        let hosts = v4.iter().filter(|p| p.1 == 32).count();
        assert!((6500..7500).contains(&hosts), "{hosts}");
        let v6 = ipv6_prefixes(1000, 3);
        assert!(v6.iter().all(|&(a, _)| a >> 125 == 1));
        let d = domains(1000, 4);
        assert!(d.iter().all(|n| n.split('.').count() >= 2));
        let q = domain_queries(&d, 1000, 50, 5);
        assert_eq!(q.len(), 1000);
        let mut n = 0;
        mixed_lines(2500, 6, |_| n += 1);
        assert_eq!(n, 2500);
    }
}
