//! Every matching structure against a simple independent oracle: random sets and queries,
//! the same answers (most specific prefix, subdomain rule, validity, carved warninglist ranges,
//! IPv4-mapped addresses, exact tables, URL containment).

mod common;

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;

use common::{NOW, build, value_of};
use trawl::Exclusions;
use trawl::normalize::{self, Normalized};
use trawl::{Meta, Value};

fn meta(source: &str, expired: bool) -> Meta {
    Meta {
        source: source.into(),
        // Expired after compilation: the compile-time filter keeps it, the lookup must not.
        valid_until: if expired { Some(NOW - 1) } else { None },
        valid_from: if expired { Some(NOW - 100) } else { None },
        ..Meta::default()
    }
}

fn v4_net() -> impl Strategy<Value = Ipv4Net> {
    // A small pool of /8s so that prefixes nest and overlap often, and a pool of two /16s so
    // that some first-level buckets hold many boundaries (the binary-search path).
    let sparse = (
        prop::sample::select(vec![10u8, 192, 203, 8]),
        any::<u32>(),
        1u8..=32,
    )
        .prop_map(|(top, low, len)| ((u32::from(top) << 24) | (low >> 8), len));
    let dense = (
        prop::sample::select(vec![0x0A01u32, 0xC0A8]),
        any::<u16>(),
        17u8..=32,
    )
        .prop_map(|(top, low, len)| ((top << 16) | u32::from(low), len));
    prop_oneof![sparse, dense]
        .prop_map(|(addr, len)| Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc())
}

fn v6_net() -> impl Strategy<Value = Ipv6Net> {
    (
        prop::sample::select(vec![0x2001_0db8u32, 0x2a00_1450, 0xfe80_0000]),
        any::<u128>(),
        8u8..=128,
    )
        .prop_map(|(top, low, len)| {
            let addr = (u128::from(top) << 96) | (low >> 32);
            Ipv6Net::new(Ipv6Addr::from(addr), len).unwrap().trunc()
        })
}

/// Query addresses: around every prefix edge plus random ones.
fn v4_queries(nets: &[Ipv4Net], random: &[u32]) -> Vec<u32> {
    let mut q: Vec<u32> = random.to_vec();
    for n in nets {
        let (a, b) = (u32::from(n.network()), u32::from(n.broadcast()));
        q.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1), a + (b - a) / 2]);
    }
    q
}

/// The oracle: the most specific active prefix containing `addr`, or none; not in a hole.
fn oracle_ip(items: &[(IpNet, bool)], holes: &[IpNet], addr: IpAddr) -> Option<String> {
    if holes.iter().any(|h| h.contains(&addr)) {
        return None;
    }
    items
        .iter()
        .filter(|(n, expired)| !expired && n.contains(&addr))
        .map(|(n, _)| n)
        .max_by_key(|n| n.prefix_len())
        .map(|n| n.to_string())
}

fn net_items(nets: &[(IpNet, bool)]) -> Vec<(Normalized, Meta)> {
    nets.iter()
        .map(|(n, expired)| (Value::Net(*n).into(), meta("feed", *expired)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn ipv4_most_specific_prefix(
        nets in prop::collection::vec((v4_net(), prop::bool::weighted(0.15)), 1..300),
        random in prop::collection::vec(any::<u32>(), 200),
    ) {
        // A value listed twice (once expired) is active: dedupe the oracle by value.
        let mut by_value: HashMap<IpNet, bool> = HashMap::new();
        for (n, e) in &nets {
            let slot = by_value.entry(IpNet::V4(*n)).or_insert(true);
            *slot &= *e;
        }
        let items: Vec<(IpNet, bool)> = nets.iter().map(|(n, e)| (IpNet::V4(*n), *e)).collect();
        let set = build(&net_items(&items), Exclusions::new());
        let oracle_items: Vec<(IpNet, bool)> = by_value.into_iter().collect();
        let v4s: Vec<Ipv4Net> = nets.iter().map(|(n, _)| *n).collect();
        let queries = v4_queries(&v4s, &random);
        let ips: Vec<IpAddr> = queries.iter().map(|&a| IpAddr::V4(a.into())).collect();
        let mut batched = Vec::new();
        set.match_ips(&ips, &mut batched);
        for (i, &a) in queries.iter().enumerate() {
            let addr = Ipv4Addr::from(a);
            let want = oracle_ip(&oracle_items, &[], IpAddr::V4(addr));
            prop_assert_eq!(value_of(&set, set.match_ip(IpAddr::V4(addr))), want.clone(), "addr {}", addr);
            prop_assert_eq!(value_of(&set, batched[i]), want.clone(), "batched {}", addr);
            // The same address written IPv4-mapped.
            let mapped = IpAddr::V6(addr.to_ipv6_mapped());
            prop_assert_eq!(value_of(&set, set.match_ip(mapped)), want, "mapped {}", mapped);
        }
    }

    #[test]
    fn ipv6_most_specific_prefix(
        nets in prop::collection::vec((v6_net(), prop::bool::weighted(0.15)), 1..200),
        random in prop::collection::vec(any::<u128>(), 100),
    ) {
        let mut by_value: HashMap<IpNet, bool> = HashMap::new();
        for (n, e) in &nets {
            *by_value.entry(IpNet::V6(*n)).or_insert(true) &= *e;
        }
        let items: Vec<(IpNet, bool)> = nets.iter().map(|(n, e)| (IpNet::V6(*n), *e)).collect();
        let set = build(&net_items(&items), Exclusions::new());
        let oracle_items: Vec<(IpNet, bool)> = by_value.into_iter().collect();
        let mut queries: Vec<u128> = random.clone();
        for (n, _) in &nets {
            let (a, b) = (u128::from(n.network()), u128::from(n.broadcast()));
            queries.extend([a, b, a.wrapping_sub(1), b.wrapping_add(1), a + (b - a) / 3]);
        }
        let ips: Vec<IpAddr> = queries.iter().map(|&a| IpAddr::V6(a.into())).collect();
        let mut batched = Vec::new();
        set.match_ips(&ips, &mut batched);
        for (i, ip) in ips.iter().enumerate() {
            // An IPv4-mapped query is looked up as IPv4 (of which this set has none).
            let want = if normalize::unmap_addr(*ip).is_ipv4() { None } else { oracle_ip(&oracle_items, &[], *ip) };
            prop_assert_eq!(value_of(&set, set.match_ip(*ip)), want.clone(), "addr {}", ip);
            prop_assert_eq!(value_of(&set, batched[i]), want, "batched {}", ip);
        }
    }

    #[test]
    fn warninglist_ranges_are_carved_out(
        nets in prop::collection::vec(v4_net(), 1..100),
        holes in prop::collection::vec(v4_net(), 1..10),
        random in prop::collection::vec(any::<u32>(), 100),
    ) {
        let mut ex = Exclusions::new();
        let list: Vec<String> = holes.iter().map(|h| h.to_string()).collect();
        ex.add_misp(&serde_json::json!({"name": "wl", "type": "cidr", "list": list}), "wl").unwrap();
        let items: Vec<(IpNet, bool)> = nets.iter().map(|n| (IpNet::V4(*n), false)).collect();
        let set = build(&net_items(&items), ex);
        let holes: Vec<IpNet> = holes.iter().map(|h| IpNet::V4(*h)).collect();
        // Fully covered prefixes are suppressed at compile time; the rest match outside holes.
        let kept: Vec<(IpNet, bool)> = items
            .iter()
            .filter(|(n, _)| !holes.iter().any(|h| h.contains(n)))
            .cloned()
            .collect();
        let all: Vec<Ipv4Net> = nets.iter().chain(holes.iter().filter_map(|h| match h { IpNet::V4(n) => Some(n), _ => None })).copied().collect();
        for a in v4_queries(&all, &random) {
            let ip = IpAddr::V4(a.into());
            prop_assert_eq!(value_of(&set, set.match_ip(ip)), oracle_ip(&kept, &holes, ip), "addr {}", ip);
        }
    }
}

/// Random domain names over a small label alphabet, so that suffix relations are common.
fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "evil", "www", "cdn", "x-y", "_s"]),
        1..5,
    )
    .prop_map(|labels| format!("{}.example", labels.join(".")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn domains_with_subdomain_rule(
        listed in prop::collection::vec((domain(), any::<bool>(), prop::bool::weighted(0.1)), 1..60),
        queries in prop::collection::vec(domain(), 50),
    ) {
        // listed: (name, exact feed?, expired?)
        let items: Vec<(Normalized, Meta)> = listed
            .iter()
            .map(|(d, exact, expired)| {
                let mut m = meta(if *exact { "exact-feed" } else { "feed" }, *expired);
                m.exact = *exact;
                (Value::Domain(d.clone()).into(), m)
            })
            .collect();
        let set = build(&items, Exclusions::new());
        // Oracle: name → (active exact source, active subdomain source).
        let mut oracle: HashMap<&str, (bool, bool)> = HashMap::new();
        for (d, exact, expired) in &listed {
            let e = oracle.entry(d.as_str()).or_default();
            if !expired {
                if *exact { e.0 = true } else { e.1 = true }
            }
        }
        let all: Vec<&str> = queries.iter().chain(listed.iter().map(|(d, _, _)| d)).map(String::as_str).collect();
        let mut batched = Vec::new();
        set.match_domains(&all, &mut batched);
        for (qi, q) in all.iter().enumerate() {
            let mut want = None;
            let mut name = *q;
            let mut first = true;
            loop {
                if let Some(&(exact, sub)) = oracle.get(name) {
                    if sub || (first && exact) {
                        want = Some(name.to_string());
                        break;
                    }
                }
                match name.split_once('.') {
                    Some((_, rest)) => name = rest,
                    None => break,
                }
                first = false;
            }
            prop_assert_eq!(value_of(&set, set.match_domain(q)), want.clone(), "query {}", q);
            prop_assert_eq!(value_of(&set, batched[qi]), want.clone(), "batched {}", q);
            let shouted = format!("{}.", q.to_uppercase());
            prop_assert_eq!(value_of(&set, set.match_domain(&shouted)), want, "query {}", shouted);
        }
    }

    #[test]
    fn hashes_and_emails_exact(
        digests in prop::collection::vec((prop::sample::select(vec![16usize, 20, 32, 64]), any::<[u8; 64]>()), 1..200),
        absent in prop::collection::vec(any::<[u8; 32]>(), 50),
        emails in prop::collection::vec("[a-z]{1,6}@[a-z]{1,5}\\.example", 1..50),
    ) {
        let listed: Vec<Vec<u8>> = digests.iter().map(|(len, bytes)| bytes[..*len].to_vec()).collect();
        let mut items: Vec<(Normalized, Meta)> = listed.iter().map(|d| (Value::Hash(d.clone()).into(), meta("feed", false))).collect();
        items.extend(emails.iter().map(|e| (Value::Email(e.clone()).into(), meta("feed", false))));
        let set = build(&items, Exclusions::new());
        let listed_set: HashSet<&[u8]> = listed.iter().map(Vec::as_slice).collect();
        let refs: Vec<&[u8]> = listed.iter().map(Vec::as_slice).chain(absent.iter().map(|a| &a[..])).collect();
        let mut batched = Vec::new();
        set.match_hashes(&refs, &mut batched);
        for (i, d) in refs.iter().enumerate() {
            let want = listed_set.contains(d);
            prop_assert_eq!(set.match_hash(d).is_some(), want);
            prop_assert_eq!(batched[i].is_some(), want);
            let hex: String = d.iter().map(|b| format!("{b:02X}")).collect();
            prop_assert_eq!(set.match_hash_hex(hex.as_bytes()).is_some(), want);
        }
        let email_set: HashSet<&str> = emails.iter().map(String::as_str).collect();
        for e in &emails {
            prop_assert!(set.match_email(&e.to_uppercase()).is_some());
            let other = format!("z{e}");
            prop_assert_eq!(set.match_email(&other).is_some(), email_set.contains(other.as_str()));
        }
    }

    /// Certificate and TLS fingerprints live in tables of their own: a JA3 or certificate
    /// MD5 never answers a file-hash lookup of the same digest, nor the other way round, and
    /// each kind answers exactly its own values (oracle: a set of (kind, bytes)).
    #[test]
    fn fingerprints_exact_and_apart_from_file_hashes(
        listed in prop::collection::vec((0usize..8, any::<[u8; 32]>()), 1..120),
        ja4 in prop::collection::vec(("[tqd](13|12)[di][0-9]{4}(h2|00)", "[0-9a-f]{12}", "[0-9a-f]{12}"), 0..20),
    ) {
        use trawl::Kind;
        // Index 7 is a file MD5: the same bytes as a JA3 must stay apart.
        let kinds = [Kind::X509Md5, Kind::X509Sha1, Kind::X509Sha256, Kind::Ja3, Kind::Ja3s, Kind::Md5, Kind::Sha1, Kind::Md5];
        let len = |k: Kind| match k { Kind::X509Sha1 | Kind::Sha1 => 20, Kind::X509Sha256 => 32, _ => 16 };
        let mut want: HashSet<(Kind, Vec<u8>)> = HashSet::new();
        let mut items = Vec::new();
        for (k, bytes) in &listed {
            let kind = kinds[*k];
            let d = bytes[..len(kind)].to_vec();
            let value = if kind.name().starts_with("x509") || kind.name().starts_with("ja") {
                Value::Fingerprint(kind, d.clone())
            } else {
                Value::Hash(d.clone())
            };
            want.insert((kind, d));
            items.push((value.into(), meta("feed", false)));
        }
        let ja4_text: Vec<String> = ja4.iter().map(|(a, b, c)| format!("{a}_{b}_{c}")).collect();
        for t in &ja4_text {
            items.push((normalize::value(Kind::Ja4, t).unwrap(), meta("feed", false)));
        }
        let set = build(&items, Exclusions::new());
        for (_, bytes) in &listed {
            for kind in [Kind::X509Md5, Kind::X509Sha1, Kind::X509Sha256, Kind::Ja3, Kind::Ja3s] {
                let d = &bytes[..len(kind)];
                let got = set.match_fingerprint(kind, d);
                prop_assert_eq!(got.is_some(), want.contains(&(kind, d.to_vec())), "{} {:?}", kind, d);
                if let Some(h) = got {
                    prop_assert_eq!(h.kind, kind);
                }
                let colons: Vec<String> = d.iter().map(|b| format!("{b:02X}")).collect();
                prop_assert_eq!(set.match_fingerprint_text(kind, &colons.join(":")).is_some(), got.is_some());
            }
            for d in [&bytes[..16], &bytes[..20]] {
                let file = if d.len() == 16 { Kind::Md5 } else { Kind::Sha1 };
                let got = set.match_hash(d);
                prop_assert_eq!(got.is_some(), want.contains(&(file, d.to_vec())));
                prop_assert!(got.is_none_or(|h| h.kind == file));
            }
        }
        for (t, (a, b, c)) in ja4_text.iter().zip(&ja4) {
            prop_assert!(set.match_fingerprint(Kind::Ja4, t.as_bytes()).is_some());
            prop_assert!(set.match_fingerprint(Kind::Ja4s, t.as_bytes()).is_none());
            let shouted = format!("{a}_{}_{}", b.to_uppercase(), c.to_uppercase());
            prop_assert!(set.match_fingerprint_text(Kind::Ja4, &shouted).is_some());
            let other = format!("{a}_{c}_{b}");
            prop_assert_eq!(set.match_fingerprint(Kind::Ja4, other.as_bytes()).is_some(), ja4_text.contains(&other));
        }
    }

    #[test]
    fn urls_equal_or_contained(
        listed in prop::collection::vec("(http://)?[ab]{1,3}\\.example/[a-c/]{0,6}", 1..40),
        queries in prop::collection::vec("http://[ab]{1,3}\\.example/[a-c/?=]{0,12}", 50),
    ) {
        let canon: Vec<String> = listed.iter().map(|u| normalize::url(u).unwrap()).collect();
        let items: Vec<(Normalized, Meta)> = canon.iter().map(|u| (Value::Url(u.clone()).into(), meta("feed", false))).collect();
        let set = build(&items, Exclusions::new());
        for q in queries.iter().chain(canon.iter().filter(|c| c.starts_with("http"))) {
            let cq = normalize::url(q).unwrap();
            // Oracle: a URL with a scheme matches when equal to the query or a prefix of it
            // ending at a boundary; a schemeless one when contained anywhere.
            let boundary = |b: u8| b"/?&;=#".contains(&b);
            let mut want: Vec<String> = canon
                .iter()
                .filter(|c| {
                    if c.contains("://") {
                        cq == **c
                            || (cq.starts_with(c.as_str())
                                && (boundary(c.as_bytes()[c.len() - 1]) || boundary(cq.as_bytes()[c.len()])))
                    } else {
                        cq.contains(c.as_str())
                    }
                })
                .cloned()
                .collect();
            want.sort();
            want.dedup();
            let mut got: Vec<String> = set.match_url(q).iter().map(|h| set.indicator(h.indicator).unwrap().value()).collect();
            got.sort();
            got.dedup();
            prop_assert_eq!(&got, &want, "query {}", q);
            let exact = canon.contains(&cq);
            prop_assert_eq!(set.match_url_exact(q).is_some(), exact);
        }
    }
}
