//! Lookup throughput of every structure next to its naive baseline, measured in alternating
//! rounds in one process so that the ratio survives a noisy shared machine: each round times
//! every variant once over the same queries; the report gives the median per variant and the
//! median of the per-round ratios to the baseline. Also checks that trawl and the baseline
//! agree on every query.
//!
//! Run: `cargo bench --bench ratios` (`TRAWL_BENCH_N` sets the set size, default 1,000,000;
//! `TRAWL_BENCH_ROUNDS` the rounds, default 15).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use hashbrown::HashSet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use iprange::IpRange;
use rand::Rng;

use trawl::Value;
use trawl_tools as synth;

mod common;
use common::{build, env, naive_domain_match, v6_queries};

const QUERIES: usize = 1 << 20;

/// Runs `variants` (name, closure returning a hit count) for `rounds` alternating rounds and
/// prints medians; the last variant is the baseline. Every variant must count the same hits.
fn compare(group: &str, rounds: usize, variants: &mut [(&str, &mut dyn FnMut() -> usize)]) {
    let k = variants.len();
    let mut times = vec![Vec::with_capacity(rounds); k];
    let mut counts = vec![0; k];
    for _ in 0..rounds {
        for (i, (_, f)) in variants.iter_mut().enumerate() {
            let t = Instant::now();
            counts[i] = black_box(f());
            times[i].push(t.elapsed().as_secs_f64());
        }
    }
    for (i, (name, _)) in variants.iter().enumerate() {
        assert_eq!(
            counts[i],
            counts[k - 1],
            "{group}/{name} disagrees with the baseline"
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let base: Vec<f64> = times[k - 1].clone();
    println!("{group} ({} hits in {QUERIES} queries)", counts[k - 1]);
    for (i, (name, _)) in variants.iter().enumerate() {
        let mut ratios: Vec<f64> = times[i].iter().zip(&base).map(|(t, b)| b / t).collect();
        let ratio = median(&mut ratios);
        let t = median(&mut times[i]);
        println!(
            "  {name:<34} {:>8.1} M lookups/s   {:>5.2}x baseline",
            QUERIES as f64 / t / 1e6,
            ratio
        );
    }
}

fn main() {
    let n = common::set_size();
    let rounds = env("TRAWL_BENCH_ROUNDS", 15);
    println!("set size {n}, {QUERIES} queries per round, {rounds} rounds, medians");

    // IPv4 CIDR.
    let prefixes = synth::ipv4_prefixes(n, 1);
    let set = build(
        prefixes
            .iter()
            .map(|&(a, l)| Value::Net(IpNet::V4(Ipv4Net::new(a.into(), l).unwrap()))),
    );
    let mut trie: IpRange<Ipv4Net> = IpRange::new();
    for &(a, l) in &prefixes {
        trie.add(Ipv4Net::new(a.into(), l).unwrap());
    }
    trie.simplify();
    let mut r = synth::rng(2);
    let addrs: Vec<u32> = (0..QUERIES).map(|_| r.r#gen()).collect();
    let ips: Vec<IpAddr> = addrs.iter().map(|&a| IpAddr::V4(a.into())).collect();
    let (mut raw, mut out) = (vec![0u32; QUERIES], Vec::new());
    compare(
        "ipv4 CIDR",
        rounds,
        &mut [
            ("trawl lookup_ipv4_raw (batched)", &mut || {
                set.lookup_ipv4_raw(&addrs, &mut raw);
                raw.iter().filter(|&&v| v != u32::MAX).count()
            }),
            ("trawl match_ips (batched)", &mut || {
                set.match_ips(&ips, &mut out);
                out.iter().filter(|h| h.is_some()).count()
            }),
            ("trawl match_ipv4 (one at a time)", &mut || {
                addrs
                    .iter()
                    .filter(|&&a| set.match_ipv4(a.into()).is_some())
                    .count()
            }),
            ("iprange trie (baseline)", &mut || {
                addrs
                    .iter()
                    .filter(|&&a| trie.contains(&Ipv4Net::from(Ipv4Addr::from(a))))
                    .count()
            }),
        ],
    );
    drop((set, trie));

    // IPv6 CIDR: half the queries inside listed prefixes.
    let prefixes = synth::ipv6_prefixes(n, 3);
    let set = build(
        prefixes
            .iter()
            .map(|&(a, l)| Value::Net(IpNet::V6(Ipv6Net::new(a.into(), l).unwrap()))),
    );
    let mut trie: IpRange<Ipv6Net> = IpRange::new();
    for &(a, l) in &prefixes {
        trie.add(Ipv6Net::new(a.into(), l).unwrap());
    }
    trie.simplify();
    let addrs = v6_queries(&prefixes, QUERIES, 4);
    compare(
        "ipv6 CIDR",
        rounds,
        &mut [
            ("trawl lookup_ipv6_raw (batched)", &mut || {
                set.lookup_ipv6_raw(&addrs, &mut raw);
                raw.iter().filter(|&&v| v != u32::MAX).count()
            }),
            ("trawl match_ipv6 (one at a time)", &mut || {
                addrs
                    .iter()
                    .filter(|&&a| set.match_ipv6(a.into()).is_some())
                    .count()
            }),
            ("iprange trie (baseline)", &mut || {
                addrs
                    .iter()
                    .filter(|&&a| trie.contains(&Ipv6Net::from(Ipv6Addr::from(a))))
                    .count()
            }),
        ],
    );
    drop((set, trie));

    // Domains with the suffix walk; 20 % of queries are listed names or their subdomains.
    let listed = synth::domains(n, 5);
    let set = build(listed.iter().map(|d| Value::Domain(d.clone())));
    let naive: HashSet<String> = listed.iter().cloned().collect();
    let queries = synth::domain_queries(&listed, QUERIES, 20, 6);
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let naive_match = |q: &str| naive_domain_match(&naive, q);
    compare(
        "domain (suffix walk)",
        rounds,
        &mut [
            ("trawl match_domains (batched)", &mut || {
                set.match_domains(&refs, &mut out);
                out.iter().filter(|h| h.is_some()).count()
            }),
            ("trawl match_domain (one at a time)", &mut || {
                refs.iter()
                    .filter(|q| set.match_domain(q).is_some())
                    .count()
            }),
            ("hashbrown HashSet suffix walk", &mut || {
                refs.iter().filter(|q| naive_match(q)).count()
            }),
        ],
    );
    drop((set, naive));

    // SHA-256; 10 % hits, then 1 % hits.
    let listed = synth::digests(n, 32, 7);
    let set = build(listed.iter().map(|d| Value::Hash(d.clone())));
    let naive: HashSet<[u8; 32]> = listed.iter().map(|d| d[..].try_into().unwrap()).collect();
    for pct in [10, 1] {
        let mut r = synth::rng(8);
        let queries: Vec<[u8; 32]> = (0..QUERIES)
            .map(|_| {
                if r.gen_range(0..100) < pct {
                    listed[r.gen_range(0..n)][..].try_into().unwrap()
                } else {
                    r.r#gen()
                }
            })
            .collect();
        let refs: Vec<&[u8]> = queries.iter().map(|q| &q[..]).collect();
        compare(
            &format!("sha256 ({pct} % hits)"),
            rounds,
            &mut [
                ("trawl match_hashes (batched)", &mut || {
                    set.match_hashes(&refs, &mut out);
                    out.iter().filter(|h| h.is_some()).count()
                }),
                ("trawl match_hash (one at a time)", &mut || {
                    refs.iter().filter(|q| set.match_hash(q).is_some()).count()
                }),
                ("hashbrown HashSet<[u8; 32]>", &mut || {
                    queries.iter().filter(|q| naive.contains(*q)).count()
                }),
            ],
        );
    }
    drop((set, naive));

    // URLs, exact; 10 % hits.
    let listed = synth::urls(n, 9);
    let set = build(listed.iter().map(|u| Value::Url(u.clone())));
    let naive: HashSet<String> = listed.iter().cloned().collect();
    let others = synth::urls(QUERIES, 10);
    let mut r = synth::rng(11);
    let queries: Vec<String> = (0..QUERIES)
        .map(|i| {
            if i % 10 == 0 {
                listed[r.gen_range(0..n)].clone()
            } else {
                others[i].clone()
            }
        })
        .collect();
    compare(
        "url (exact, canonicalising)",
        rounds,
        &mut [
            ("trawl match_url_exact", &mut || {
                queries
                    .iter()
                    .filter(|q| set.match_url_exact(q).is_some())
                    .count()
            }),
            ("hashbrown HashSet<String>", &mut || {
                queries
                    .iter()
                    .filter(|q| naive.contains(q.as_str()))
                    .count()
            }),
        ],
    );
}
