//! Lookup throughput per structure at 1M indicators, each next to a naive baseline in the same
//! run (iprange trie for CIDRs, hashbrown HashSet for exact kinds). Every baseline is checked to
//! give the same number of hits as trawl before it is timed.
//!
//! Run: `cargo bench --bench lookup` (set `TRAWL_BENCH_N` to change the set size).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hashbrown::HashSet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use iprange::IpRange;
use rand::Rng;

use trawl::Value;
use trawl_tools as synth;

mod common;
use common::{build, naive_domain_match, set_size, v6_queries};

const QUERIES: usize = 1 << 16;

fn ipv4(c: &mut Criterion) {
    let n = set_size();
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
    let mut raw = vec![0u32; QUERIES];
    set.lookup_ipv4_raw(&addrs, &mut raw);
    let trawl_hits = raw.iter().filter(|&&r| r != u32::MAX).count();
    let trie_hits = addrs
        .iter()
        .filter(|&&a| trie.contains(&Ipv4Net::from(Ipv4Addr::from(a))))
        .count();
    assert_eq!(trawl_hits, trie_hits, "trawl and the iprange trie disagree");
    eprintln!(
        "ipv4: {n} prefixes, {} bytes of interval tables, hit rate {:.1} %",
        set.section_sizes()[4].1,
        100.0 * trawl_hits as f64 / QUERIES as f64
    );

    let mut g = c.benchmark_group("ipv4_cidr_1M");
    g.throughput(Throughput::Elements(QUERIES as u64));
    g.bench_function("trawl_batched_raw", |b| {
        b.iter(|| set.lookup_ipv4_raw(black_box(&addrs), &mut raw))
    });
    let mut out = Vec::new();
    g.bench_function("trawl_match_ips_batched", |b| {
        b.iter(|| set.match_ips(black_box(&ips), &mut out))
    });
    g.bench_function("trawl_match_ipv4_one_at_a_time", |b| {
        b.iter(|| {
            addrs
                .iter()
                .filter(|&&a| set.match_ipv4(black_box(a.into())).is_some())
                .count()
        })
    });
    g.bench_function("naive_iprange_trie", |b| {
        b.iter(|| {
            addrs
                .iter()
                .filter(|&&a| trie.contains(&Ipv4Net::from(Ipv4Addr::from(black_box(a)))))
                .count()
        })
    });
    g.finish();
}

fn ipv6(c: &mut Criterion) {
    let n = set_size();
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
    // Half the queries inside listed prefixes, half random in 2000::/3.
    let addrs = v6_queries(&prefixes, QUERIES, 4);
    let mut raw = vec![0u32; QUERIES];
    set.lookup_ipv6_raw(&addrs, &mut raw);
    let trawl_hits = raw.iter().filter(|&&r| r != u32::MAX).count();
    let trie_hits = addrs
        .iter()
        .filter(|&&a| trie.contains(&Ipv6Net::from(Ipv6Addr::from(a))))
        .count();
    assert_eq!(trawl_hits, trie_hits, "trawl and the iprange trie disagree");

    let mut g = c.benchmark_group("ipv6_cidr_1M");
    g.throughput(Throughput::Elements(QUERIES as u64));
    g.bench_function("trawl_batched_raw", |b| {
        b.iter(|| set.lookup_ipv6_raw(black_box(&addrs), &mut raw))
    });
    g.bench_function("trawl_match_ipv6_one_at_a_time", |b| {
        b.iter(|| {
            addrs
                .iter()
                .filter(|&&a| set.match_ipv6(black_box(a.into())).is_some())
                .count()
        })
    });
    g.bench_function("naive_iprange_trie", |b| {
        b.iter(|| {
            addrs
                .iter()
                .filter(|&&a| trie.contains(&Ipv6Net::from(Ipv6Addr::from(black_box(a)))))
                .count()
        })
    });
    g.finish();
}

fn domains(c: &mut Criterion) {
    let n = set_size();
    let listed = synth::domains(n, 5);
    let set = build(listed.iter().map(|d| Value::Domain(d.clone())));
    let naive: HashSet<String> = listed.iter().cloned().collect();
    let queries = synth::domain_queries(&listed, QUERIES, 20, 6);
    let naive_match = |q: &str| naive_domain_match(&naive, q);
    let t = queries
        .iter()
        .filter(|q| set.match_domain(q).is_some())
        .count();
    let b = queries.iter().filter(|q| naive_match(q)).count();
    assert_eq!(t, b, "trawl and the HashSet suffix walk disagree");

    let mut g = c.benchmark_group("domain_suffix_walk_1M");
    g.throughput(Throughput::Elements(QUERIES as u64));
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    g.bench_function("trawl_match_domains_batched", |bch| {
        bch.iter(|| set.match_domains(black_box(&refs), &mut out))
    });
    g.bench_function("trawl_match_domain", |bch| {
        bch.iter(|| {
            queries
                .iter()
                .filter(|q| set.match_domain(black_box(q)).is_some())
                .count()
        })
    });
    g.bench_function("naive_hashbrown_suffix_walk", |bch| {
        bch.iter(|| queries.iter().filter(|q| naive_match(black_box(q))).count())
    });
    g.finish();
}

fn sha256(c: &mut Criterion) {
    let n = set_size();
    let listed = synth::digests(n, 32, 7);
    let set = build(listed.iter().map(|d| Value::Hash(d.clone())));
    let naive: HashSet<[u8; 32]> = listed.iter().map(|d| d[..].try_into().unwrap()).collect();
    let mut r = synth::rng(8);
    let queries: Vec<[u8; 32]> = (0..QUERIES)
        .map(|i| {
            if i % 10 == 0 {
                listed[r.gen_range(0..n)][..].try_into().unwrap()
            } else {
                r.r#gen()
            }
        })
        .collect();
    let refs: Vec<&[u8]> = queries.iter().map(|q| &q[..]).collect();
    let t = queries
        .iter()
        .filter(|q| set.match_hash(&q[..]).is_some())
        .count();
    let b = queries.iter().filter(|q| naive.contains(*q)).count();
    assert_eq!(t, b);

    let mut g = c.benchmark_group("sha256_1M");
    g.throughput(Throughput::Elements(QUERIES as u64));
    let mut out = Vec::new();
    g.bench_function("trawl_match_hashes_batched", |bch| {
        bch.iter(|| set.match_hashes(black_box(&refs), &mut out))
    });
    g.bench_function("trawl_match_hash_one_at_a_time", |bch| {
        bch.iter(|| {
            queries
                .iter()
                .filter(|q| set.match_hash(black_box(&q[..])).is_some())
                .count()
        })
    });
    g.bench_function("naive_hashbrown_hashset", |bch| {
        bch.iter(|| {
            queries
                .iter()
                .filter(|q| naive.contains(black_box(*q)))
                .count()
        })
    });
    g.finish();
}

fn urls(c: &mut Criterion) {
    let n = set_size();
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
    let t = queries
        .iter()
        .filter(|q| set.match_url_exact(q).is_some())
        .count();
    let b = queries
        .iter()
        .filter(|q| naive.contains(q.as_str()))
        .count();
    assert_eq!(t, b);

    let mut g = c.benchmark_group("url_exact_1M");
    g.throughput(Throughput::Elements(QUERIES as u64));
    g.bench_function("trawl_match_url_exact", |bch| {
        bch.iter(|| {
            queries
                .iter()
                .filter(|q| set.match_url_exact(black_box(q)).is_some())
                .count()
        })
    });
    g.bench_function("naive_hashbrown_hashset", |bch| {
        bch.iter(|| {
            queries
                .iter()
                .filter(|q| naive.contains(black_box(q.as_str())))
                .count()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = ipv4, ipv6, domains, sha256, urls
}
criterion_main!(benches);
