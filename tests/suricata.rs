//! `trawl export -f suricata` against Suricata 8.0.6 itself, on a set compiled from the real
//! public feeds of 13 publishers (../shared/data/feeds: ipsum, Spamhaus DROP, URLhaus,
//! maltrail, ESET malware-ioc, …) with the prebuilt peer in
//! ../shared/peers/suricata: the export carries every address of the feeds; stock Suricata
//! loads it in under 30 s with no error or warning of its own in suricata.log; and on a capture
//! of full sessions (IPv4 and IPv6 flows to and from listed addresses and CIDR members, DNS,
//! TLS, HTTP, SMTP) Suricata alerts on exactly the (flow, indicator) pairs `trawl scan pcap`
//! reports, kind by kind, once per flow for addresses. Skipped, with the reason printed, when
//! ../shared is not there (the real data and the peer live outside the repository); a Suricata
//! that is there but fails to run fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use trawl::IndicatorSet;
use trawl_tools::pcap::{
    PcapWriter, TcpSession, dns_query, dns_response, http_get, tls_client_hello, udp,
};

/// The shared data directory, or `None` (and a line saying why) when it is not there.
fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.join("data/feeds/ipsum/ipsum.txt").exists() {
        Some(p)
    } else {
        println!(
            "skipped: {} not present (real data and the Suricata peer live outside the repository)",
            p.display()
        );
        None
    }
}

fn trawl(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "trawl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The value lines of a feed file (comments and blank lines left out), first field only.
fn feed_values(path: &Path, sep: char) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', ';']))
        .map(|l| l.split(sep).next().unwrap().trim().to_string())
        .collect()
}

/// The CIDRs of the export's reputation file (`CIDR,category,score`).
fn iprep_nets(dir: &Path) -> Vec<IpNet> {
    std::fs::read_to_string(dir.join("trawl-iprep.list"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[1..], ["1", "100"], "{l}");
            f[0].parse().unwrap()
        })
        .collect()
}

fn covered(nets: &[IpNet], ip: IpAddr) -> bool {
    let i = nets.partition_point(|n| n.network() <= ip);
    i > 0 && nets[i - 1].contains(&ip)
}

/// Parses the "indicators exported: kind N of M, …" part of the export's report.
fn coverage(stderr: &str) -> BTreeMap<String, (u64, u64)> {
    let part = stderr
        .split("indicators exported: ")
        .nth(1)
        .expect("a coverage report");
    part.trim()
        .split(", ")
        .map(|item| {
            let w: Vec<&str> = item.split(' ').collect();
            assert_eq!((w.len(), w[2]), (4, "of"), "{item}");
            (
                w[0].to_string(),
                (w[1].parse().unwrap(), w[3].parse().unwrap()),
            )
        })
        .collect()
}

/// Regression: the dataset export expanded CIDRs of up to 256 addresses and dropped wider ones,
/// Spamhaus DROP among them, and the adjacent ipsum addresses merged into them (6,015 of
/// 120,430). Every address of ipsum and every DROP network must be in the reputation file.
#[test]
fn export_carries_every_address_of_the_feeds() {
    let Some(shared) = shared() else { return };
    let feeds = shared.join("data/feeds");
    let tmp = tempfile::tempdir().unwrap();
    let set = tmp.path().join("ip.tset");
    let (ipsum, drop, dropv6) = (
        feeds.join("ipsum/ipsum.txt"),
        feeds.join("spamhaus/drop.txt"),
        feeds.join("spamhaus/dropv6.txt"),
    );
    let path = |p: &Path| p.to_str().unwrap().to_string();
    trawl(&[
        "compile",
        "-q",
        "-o",
        &path(&set),
        &path(&ipsum),
        &path(&drop),
        &path(&dropv6),
    ]);
    let out = tmp.path().join("export");
    let o = trawl(&[
        "export",
        "-s",
        &path(&set),
        "-f",
        "suricata",
        "-o",
        &path(&out),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let cov = coverage(&stderr);
    for kind in ["ipv4", "ipv6"] {
        assert!(
            cov[kind].1 > 0 && cov[kind].0 == cov[kind].1,
            "{kind}: {stderr}"
        );
    }
    let mut nets = iprep_nets(&out);
    nets.sort_by_key(|n| (n.network(), n.prefix_len()));
    let ips = feed_values(&ipsum, '\t');
    assert_eq!(ips.len(), 120_430);
    let missing: Vec<&String> = ips
        .iter()
        .filter(|a| !covered(&nets, a.parse().unwrap()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} ipsum addresses missing: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    let mut networks = 0;
    for f in [&drop, &dropv6] {
        for line in feed_values(f, ';') {
            let net: IpNet = line.parse().unwrap();
            for a in [net.network(), net.broadcast()] {
                assert!(covered(&nets, a), "{a} of {net} missing");
            }
            networks += 1;
        }
    }
    assert!(networks > 1_500, "{networks}");
}

/// A flow as both engines name it: transport and its two endpoints in order.
type Flow = (String, [(IpAddr, u16); 2]);

fn flow(proto: &str, a: (IpAddr, u16), b: (IpAddr, u16)) -> Flow {
    let mut e = [a, b];
    e.sort();
    (proto.to_ascii_lowercase(), e)
}

/// (flow, kind, indicator): for addresses the listed address seen in the flow (Suricata's
/// reputation names no CIDR), for the other kinds the indicator value.
type Pair = (Flow, String, String);

/// The crafted capture and what trawl must find in it.
struct Capture {
    frames: Vec<(u64, Vec<u8>)>,
    t: u64,
    port: u16,
    /// Pairs that must be reported (by both engines).
    expect: BTreeSet<Pair>,
    /// Flows with nothing listed in them.
    clean: Vec<Flow>,
}

impl Capture {
    fn next(&mut self) -> (u64, u16) {
        self.t += 100_000;
        self.port += 1;
        (self.t, self.port)
    }

    /// A TCP connection from `client` to `server:port`; `talk` writes its payloads.
    fn tcp(
        &mut self,
        client: IpAddr,
        server: IpAddr,
        port: u16,
        talk: impl FnOnce(&mut TcpSession),
    ) -> Flow {
        let (t, sport) = self.next();
        let mut s = TcpSession::open((client, sport), (server, port), t);
        talk(&mut s);
        self.frames.extend(s.close());
        flow("tcp", (client, sport), (server, port))
    }

    /// A UDP exchange: the client's datagram, then the server's answers.
    fn udp(
        &mut self,
        client: IpAddr,
        server: IpAddr,
        port: u16,
        ask: &[u8],
        answers: &[&[u8]],
    ) -> Flow {
        let (t, sport) = self.next();
        self.frames
            .push((t, udp(client, sport, server, port, None, ask)));
        for (i, a) in answers.iter().enumerate() {
            self.frames.push((
                t + 1000 * (i as u64 + 1),
                udp(server, port, client, sport, None, a),
            ));
        }
        flow("udp", (client, sport), (server, port))
    }

    fn expect(&mut self, f: &Flow, kind: &str, indicator: impl ToString) {
        self.expect
            .insert((f.clone(), kind.to_string(), indicator.to_string()));
    }

    fn write(mut self, path: &Path) -> (BTreeSet<Pair>, Vec<Flow>) {
        self.frames.sort_by_key(|f| f.0);
        let file = std::fs::File::create(path).unwrap();
        let mut w = PcapWriter::new(std::io::BufWriter::new(file)).unwrap();
        for (ts, f) in &self.frames {
            w.frame(*ts, f).unwrap();
        }
        w.into_inner().flush().unwrap();
        (self.expect, self.clean)
    }
}

/// `md5sum`/`sha1sum`/`sha256sum` of `data`, hex.
fn digest(tool: &str, data: &[u8]) -> String {
    let mut c = Command::new(tool)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap()[..]
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// The lines of suricata.log that are errors or warnings, without their timestamps.
fn complaints(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let at = l.find(" Error: ").or_else(|| l.find(" Warning: "))?;
            Some(l[at + 1..].to_string())
        })
        .collect()
}

fn run_suricata(bin: &Path, args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::new(bin).args(args).output().unwrap();
    let took = start.elapsed();
    assert!(
        o.status.success(),
        "suricata {args:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o, took)
}

#[test]
fn stock_suricata_loads_the_export_and_alerts_like_trawl() {
    let Some(shared) = shared() else { return };
    let peer = shared.join("peers/suricata");
    let bin = peer.join("bin/suricata");
    if !bin.exists() {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "the Suricata peer is required (TRAWL_REQUIRE_TOOLS) but {} is missing",
            bin.display()
        );
        println!("skipped: {} not present", bin.display());
        return;
    }
    let feeds = shared.join("data/feeds");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let p = |p: &Path| p.to_str().unwrap().to_string();

    // Stock configuration, every path inside the temporary directory.
    let work = root.join("suricata");
    let o = Command::new(peer.join("setup"))
        .arg(&work)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "setup: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let yaml = work.join("suricata.yaml");

    // Small feeds of our own beside the real ones: emails (no real feed has any), an exact-only
    // name below a listed domain, and the digests of a file the capture carries.
    let body = b"trawl: a file whose digests are listed\n".repeat(20);
    let real = IndicatorSet::open({
        // Pick names from the real domain list first (the exact-only name goes below one).
        let probe = root.join("names.tset");
        trawl(&[
            "compile",
            "-q",
            "-o",
            &p(&probe),
            &p(&feeds.join("blocklistproject/phishing-nl.txt")),
        ]);
        probe
    })
    .unwrap();
    let names = pick_names(&real);
    let own = root.join("own.txt");
    std::fs::write(
        &own,
        format!(
            "ceo-fraud@bad-actor.example\nmule@bad-actor.example\n{}\n{}\n{}\n",
            digest("md5sum", &body),
            digest("sha1sum", &body),
            digest("sha256sum", &body)
        ),
    )
    .unwrap();
    let exact = root.join("exact.txt");
    std::fs::write(&exact, format!("{}\n", names.exact_only)).unwrap();

    let set_path = root.join("real.tset");
    let mut args: Vec<String> = ["compile", "-q", "-o", &p(&set_path)]
        .map(String::from)
        .to_vec();
    for f in [
        "ipsum/ipsum.txt",
        "spamhaus/drop.txt",
        "spamhaus/dropv6.txt",
        "blocklistproject/phishing-nl.txt",
        "openphish/feed.txt",
        "phishing-database/phishing-links-ACTIVE.txt",
        "signature-base/hash-iocs.txt",
        "eset-hashes",
    ] {
        args.push(p(&feeds.join(f)));
    }
    args.push(p(&own));
    args.push("--feed".into());
    args.push(format!("path={},exact", p(&exact)));
    trawl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let set = IndicatorSet::open(&set_path).unwrap();

    // Export: every indicator of an exported kind is carried, the others are reported.
    let out = root.join("export");
    let o = trawl(&[
        "export",
        "-s",
        &p(&set_path),
        "-f",
        "suricata",
        "-o",
        &p(&out),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    println!("{stderr}");
    let cov = coverage(&stderr);
    for kind in ["ipv4", "ipv6", "domain", "email", "md5", "sha1", "sha256"] {
        let (exported, in_set) = cov[kind];
        assert!(in_set > 0 && exported == in_set, "{kind}: {stderr}");
    }
    assert!(cov["url"].0 == 0 && cov["url"].1 > 40_000, "{stderr}");
    assert!(stderr.contains("urls (no whole-URL buffer)"), "{stderr}");

    // Load: stock configuration plus the export's YAML, under 30 s, nothing in suricata.log that
    // the stock configuration alone does not already say, every dataset loaded whole.
    let rules = out.join("trawl.rules");
    let include = out.join("trawl.yaml");
    let empty = root.join("empty.rules");
    std::fs::write(&empty, "").unwrap();
    let base_log = root.join("log-stock");
    std::fs::create_dir_all(&base_log).unwrap();
    run_suricata(
        &bin,
        &["-T", "-c", &p(&yaml), "-S", &p(&empty), "-l", &p(&base_log)],
    );
    let stock: BTreeSet<String> = complaints(&base_log.join("suricata.log"))
        .into_iter()
        .collect();
    let load_log = root.join("log-load");
    std::fs::create_dir_all(&load_log).unwrap();
    let (_, took) = run_suricata(
        &bin,
        &[
            "-T",
            "-vvvv",
            "-c",
            &p(&yaml),
            "--include",
            &p(&include),
            "-S",
            &p(&rules),
            "-l",
            &p(&load_log),
        ],
    );
    println!("suricata -T with the export: {took:.2?}");
    let log = std::fs::read_to_string(load_log.join("suricata.log")).unwrap();
    let new: Vec<String> = complaints(&load_log.join("suricata.log"))
        .into_iter()
        .filter(|c| !stock.contains(c))
        .collect();
    assert!(new.is_empty(), "suricata.log: {new:#?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(log.contains("Loading reputation file"), "{log}");
    let rule_count = std::fs::read_to_string(&rules).unwrap().lines().count();
    assert!(
        log.contains(&format!(
            "{rule_count} rules successfully loaded, 0 rules failed"
        )),
        "{log}"
    );
    for entry in std::fs::read_dir(&out).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let Some(dataset) = file.strip_suffix(".json") else {
            continue;
        };
        let written = std::fs::read_to_string(out.join(&file))
            .unwrap()
            .lines()
            .count()
            - 2;
        assert!(
            log.contains(&format!("dataset: {dataset} loaded {written} records")),
            "{dataset}: {written} records not loaded"
        );
    }

    // The capture.
    let pcap = root.join("capture.pcap");
    let addrs = pick_addresses(&feeds, &set);
    let (expect, clean) = capture(&addrs, &names, &body).write(&pcap);

    // trawl.
    let hits = root.join("hits.jsonl");
    trawl(&[
        "scan",
        "pcap",
        "-s",
        &p(&set_path),
        &p(&pcap),
        "-o",
        &p(&hits),
        "--no-progress",
    ]);
    let mut by_trawl: BTreeMap<String, BTreeSet<Pair>> = BTreeMap::new();
    let mut not_carried: BTreeMap<String, u64> = BTreeMap::new();
    for line in std::fs::read_to_string(&hits).unwrap().lines() {
        let h: serde_json::Value = serde_json::from_str(line).unwrap();
        let ip = |side: &str| -> (IpAddr, u16) {
            (
                h[side]["ip"].as_str().unwrap().parse().unwrap(),
                h[side]["port"].as_u64().unwrap() as u16,
            )
        };
        let f = flow(
            h["network"]["transport"].as_str().unwrap(),
            ip("source"),
            ip("destination"),
        );
        let kind = h["trawl"]["indicator"]["type"]
            .as_str()
            .unwrap()
            .to_string();
        let matched = &h["threat"]["enrichments"][0]["matched"];
        let field = matched["field"].as_str().unwrap();
        let indicator = match (kind.as_str(), field) {
            // Suricata's reputation looks at the packet's addresses, not at DNS answers.
            (_, "dns.answers.data") => {
                *not_carried.entry(format!("{kind} in {field}")).or_default() += 1;
                continue;
            }
            ("url" | "http-request", _) => {
                *not_carried.entry(kind).or_default() += 1;
                continue;
            }
            ("ipv4" | "ipv6", _) => norm_ip(matched["atomic"].as_str().unwrap()),
            _ => h["trawl"]["indicator"]["value"]
                .as_str()
                .unwrap()
                .to_string(),
        };
        by_trawl
            .entry(kind.clone())
            .or_default()
            .insert((f, kind, indicator));
    }

    // Suricata.
    let log_dir = root.join("log-pcap");
    std::fs::create_dir_all(&log_dir).unwrap();
    run_suricata(
        &bin,
        &[
            "--runmode",
            "single",
            "-k",
            "none",
            "-c",
            &p(&yaml),
            "--include",
            &p(&include),
            "-S",
            &p(&rules),
            "-l",
            &p(&log_dir),
            "-r",
            &p(&pcap),
        ],
    );
    let mut by_suricata: BTreeMap<String, BTreeSet<Pair>> = BTreeMap::new();
    let mut per_flow_role: BTreeMap<(Flow, String), u32> = BTreeMap::new();
    for line in std::fs::read_to_string(log_dir.join("eve.json"))
        .unwrap()
        .lines()
    {
        let e: serde_json::Value = serde_json::from_str(line).unwrap();
        if e["event_type"] != "alert" {
            continue;
        }
        let ip = |dir: &str| -> (IpAddr, u16) {
            (
                e[format!("{dir}_ip")].as_str().unwrap().parse().unwrap(),
                e[format!("{dir}_port")].as_u64().unwrap() as u16,
            )
        };
        let f = flow(e["proto"].as_str().unwrap(), ip("src"), ip("dest"));
        let msg = e["alert"]["signature"].as_str().unwrap();
        let context = &e["alert"]["context"]["trawl"];
        let (kind, indicator) = if let Some(role) = msg.strip_suffix(" address listed") {
            // The flow record says which endpoint is the client (it opened the flow).
            let side = if role.ends_with("server") {
                "dest_ip"
            } else {
                "src_ip"
            };
            let addr = norm_ip(e["flow"][side].as_str().unwrap());
            *per_flow_role
                .entry((f.clone(), role.to_string()))
                .or_default() += 1;
            let kind = if addr.contains(':') { "ipv6" } else { "ipv4" };
            (kind.to_string(), addr)
        } else if context.is_object() {
            (
                context["kind"].as_str().unwrap().to_string(),
                context["indicator"].as_str().unwrap().to_string(),
            )
        } else if let Some(what) = msg.split("file with a listed ").nth(1) {
            let (kind, key) = match what {
                "MD5" => ("md5", "md5"),
                "SHA-1" => ("sha1", "sha1"),
                _ => ("sha256", "sha256"),
            };
            (
                kind.to_string(),
                e["files"][0][key].as_str().unwrap().to_string(),
            )
        } else {
            panic!("an alert the export does not write: {line}");
        };
        by_suricata
            .entry(kind.clone())
            .or_default()
            .insert((f, kind, indicator));
    }

    // Compare, kind by kind.
    println!("trawl hits not carried to Suricata: {not_carried:?}");
    for kind in ["ipv4", "ipv6", "domain", "email"] {
        let (t, s) = (&by_trawl[kind], &by_suricata[kind]);
        println!(
            "{kind}: trawl {} pairs, Suricata {} pairs",
            t.len(),
            s.len()
        );
        assert!(!t.is_empty(), "{kind}: nothing found");
        assert_eq!(
            t.difference(s).collect::<Vec<_>>(),
            Vec::<&Pair>::new(),
            "{kind}: reported by trawl only"
        );
        assert_eq!(
            s.difference(t).collect::<Vec<_>>(),
            Vec::<&Pair>::new(),
            "{kind}: alerted by Suricata only"
        );
    }
    let all_trawl: BTreeSet<&Pair> = by_trawl.values().flatten().collect();
    for e in &expect {
        assert!(all_trawl.contains(e), "expected {e:?}");
    }
    for f in &clean {
        assert!(!all_trawl.iter().any(|p| &p.0 == f), "clean flow {f:?} hit");
        assert!(
            !by_suricata.values().flatten().any(|p| &p.0 == f),
            "clean flow {f:?} alerted"
        );
    }
    // One alert per flow and listed endpoint, however many packets the flow has.
    for ((f, role), n) in &per_flow_role {
        assert_eq!(*n, 1, "{role} of {f:?}");
    }
    // trawl does not hash files on the wire; Suricata alerts on the listed file, once per list.
    for (kind, tool) in [
        ("md5", "md5sum"),
        ("sha1", "sha1sum"),
        ("sha256", "sha256sum"),
    ] {
        let alerts = &by_suricata[kind];
        assert_eq!(alerts.len(), 1, "{kind}: {alerts:?}");
        assert_eq!(alerts.iter().next().unwrap().2, digest(tool, &body));
    }
}

fn norm_ip(s: &str) -> String {
    s.parse::<IpAddr>().unwrap().to_string()
}

/// Names of the real domain list the capture asks for.
struct Names {
    /// A 2-label name with a listed 3-label name below it.
    parent: String,
    /// That 3-label name.
    child: String,
    /// A 2-label name with nothing listed below it.
    plain: Vec<String>,
    /// `exact-only.<plain[0]>`, listed by a feed marked `exact`.
    exact_only: String,
}

fn pick_names<D: AsRef<[u8]>>(set: &IndicatorSet<D>) -> Names {
    let domains: BTreeSet<String> = (0..set.len() as u32)
        .filter_map(|i| set.indicator(i))
        .filter(|i| i.kind() == Some(trawl::Kind::Domain))
        .map(|i| i.value())
        .collect();
    let child = domains
        .iter()
        .find(|d| d.split('.').count() == 3 && domains.contains(d.split_once('.').unwrap().1))
        .expect("a listed name below a listed name")
        .clone();
    let parent = child.split_once('.').unwrap().1.to_string();
    // Every name that has a listed name below it.
    let mut above = BTreeSet::new();
    for d in &domains {
        let mut rest = d.as_str();
        while let Some((_, up)) = rest.split_once('.') {
            above.insert(up);
            rest = up;
        }
    }
    let plain: Vec<String> = domains
        .iter()
        .filter(|d| d.split('.').count() == 2 && !above.contains(d.as_str()))
        .take(4)
        .cloned()
        .collect();
    assert_eq!(plain.len(), 4);
    let exact_only = format!("exact-only.{}", plain[0]);
    Names {
        parent,
        child,
        plain,
        exact_only,
    }
}

/// Addresses of the real feeds the capture uses.
struct Addrs {
    /// Single ipsum addresses.
    ipsum: Vec<IpAddr>,
    /// Two adjacent ipsum addresses (merged into one CIDR by the export).
    adjacent: [IpAddr; 2],
    /// Members of a Spamhaus DROP network and of a DROPv6 network.
    drop: IpAddr,
    dropv6: IpAddr,
    /// Listed nowhere.
    clean: [IpAddr; 3],
}

fn pick_addresses<D: AsRef<[u8]>>(feeds: &Path, set: &IndicatorSet<D>) -> Addrs {
    let mut v4: Vec<Ipv4Addr> = feed_values(&feeds.join("ipsum/ipsum.txt"), '\t')
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    v4.sort();
    let pair = v4
        .windows(2)
        .find(|w| u32::from(w[0]) + 1 == u32::from(w[1]))
        .expect("adjacent ipsum addresses");
    let net = |f: &str| -> IpNet { feed_values(&feeds.join(f), ';')[0].parse().unwrap() };
    let drop = match net("spamhaus/drop.txt") {
        IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) + 77)),
        IpNet::V6(_) => unreachable!(),
    };
    let dropv6 = match net("spamhaus/dropv6.txt") {
        IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) + 0x1234)),
        IpNet::V4(_) => unreachable!(),
    };
    let clean = ["192.0.2.10", "192.0.2.20", "2001:db8::10"].map(|a| a.parse::<IpAddr>().unwrap());
    for a in clean {
        assert!(set.match_ip(a).is_none(), "{a} is listed");
    }
    Addrs {
        ipsum: [v4[10], v4[v4.len() / 2], v4[v4.len() - 10]]
            .map(IpAddr::V4)
            .to_vec(),
        adjacent: [IpAddr::V4(pair[0]), IpAddr::V4(pair[1])],
        drop,
        dropv6,
        clean,
    }
}

/// Mixed case, as resolvers and browsers may send it.
fn shout(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 2 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn capture(a: &Addrs, n: &Names, body: &[u8]) -> Capture {
    let mut c = Capture {
        frames: Vec::new(),
        t: 1_767_225_600_000_000,
        port: 40_000,
        expect: BTreeSet::new(),
        clean: Vec::new(),
    };
    let [me, other, me6] = a.clean;
    let resolver = other;
    let chat = |s: &mut TcpSession| {
        for i in 0..5 {
            s.client(format!("hello {i}\r\n").as_bytes());
            s.server(format!("world {i}\r\n").as_bytes());
        }
    };

    // Addresses: a listed server, a listed client, CIDR members, merged neighbours, both ends.
    for &ip in &a.ipsum {
        let f = c.tcp(me, ip, 8443, chat);
        c.expect(&f, "ipv4", ip);
    }
    let ip = a.ipsum[0];
    let f = c.udp(ip, me, 9999, b"knock", &[b"who", b"who"]);
    c.expect(&f, "ipv4", ip);
    for ip in a.adjacent {
        let f = c.tcp(me, ip, 22, chat);
        c.expect(&f, "ipv4", ip);
    }
    let f = c.tcp(me, a.drop, 80, chat);
    c.expect(&f, "ipv4", a.drop);
    let f = c.tcp(a.ipsum[1], a.drop, 443, chat);
    c.expect(&f, "ipv4", a.ipsum[1]);
    c.expect(&f, "ipv4", a.drop);
    let f = c.tcp(me6, a.dropv6, 443, chat);
    c.expect(&f, "ipv6", a.dropv6);
    let f = c.tcp(me, other, 8080, chat);
    c.clean.push(f);

    // Names: the listed name and a subdomain of it, the most specific of nested listings, an
    // exact-only name and a subdomain of it, mixed case, a CNAME to a listed name.
    // The answers hold a listed address: trawl matches it, Suricata's reputation does not look
    // inside DNS (counted as not carried).
    let answer_ip = a.ipsum[2];
    let dns = |c: &mut Capture, q: &str, cname: Option<&str>, id: u16| {
        let answer = dns_response(id, q, cname, &[answer_ip]);
        c.udp(me, resolver, 53, &dns_query(id, q), &[&answer])
    };
    let f = dns(&mut c, &shout(&n.plain[0]), None, 1);
    c.expect(&f, "domain", &n.plain[0]);
    let f = dns(&mut c, &format!("www.{}", n.plain[1]), None, 2);
    c.expect(&f, "domain", &n.plain[1]);
    let f = dns(&mut c, &format!("a.b.{}", n.child), None, 3);
    c.expect(&f, "domain", &n.child);
    let f = dns(&mut c, &format!("other.{}", n.parent), None, 4);
    c.expect(&f, "domain", &n.parent);
    let f = dns(&mut c, &n.exact_only, None, 5);
    c.expect(&f, "domain", &n.exact_only);
    let f = dns(&mut c, &format!("x.{}", n.exact_only), None, 6);
    c.expect(&f, "domain", &n.plain[0]);
    let f = dns(
        &mut c,
        "start.clean.test",
        Some(&format!("edge.{}", n.plain[2])),
        7,
    );
    c.expect(&f, "domain", &n.plain[2]);
    let f = dns(&mut c, "nothing.clean.test", None, 8);
    c.clean.push(f);
    let sni = shout(&format!("login.{}", n.plain[3]));
    let f = c.tcp(me, other, 443, |s| {
        s.client(&tls_client_hello(&sni));
    });
    c.expect(&f, "domain", &n.plain[3]);
    let host = format!("cdn.{}", n.child);
    let f = c.tcp(me, other, 80, |s| {
        s.client(&http_get(&host, "/", "test"));
        s.server(b"HTTP/1.1 204 No Content\r\n\r\n");
    });
    c.expect(&f, "domain", &n.child);

    // Emails, in mixed case and angle brackets, among an unlisted recipient.
    let f = c.tcp(me, other, 25, |s| {
        s.server(b"220 mx.clean.test ESMTP\r\n");
        s.client(b"EHLO client.clean.test\r\n");
        s.server(b"250-mx.clean.test\r\n250 SIZE 10000000\r\n");
        s.client(b"MAIL FROM:<CEO-Fraud@Bad-Actor.example> SIZE=1024\r\n");
        s.server(b"250 OK\r\n");
        s.client(b"RCPT TO:<victim@corp.clean.test>\r\n");
        s.server(b"250 OK\r\n");
        s.client(b"RCPT TO:<Mule@bad-actor.example>\r\n");
        s.server(b"250 OK\r\n");
        s.client(b"DATA\r\n");
        s.server(b"354 go ahead\r\n");
        s.client(b"Subject: hi\r\n\r\nhello\r\n.\r\n");
        s.server(b"250 queued\r\n");
        s.client(b"QUIT\r\n");
        s.server(b"221 bye\r\n");
    });
    c.expect(&f, "email", "ceo-fraud@bad-actor.example");
    c.expect(&f, "email", "mule@bad-actor.example");

    // A file whose digests are listed, and one whose are not.
    for (file, clean) in [(body, false), (&b"nothing to see\n"[..], true)] {
        let f = c.tcp(me, other, 8000, |s| {
            s.client(&http_get("files.clean.test", "/f.bin", "test"));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
                file.len()
            );
            s.server(&[head.as_bytes(), file].concat());
        });
        if clean {
            c.clean.push(f);
        }
    }
    c
}

/// The certificate and TLS fingerprint datasets: Suricata's own EVE on two real captures
/// (Zeek's `tls_tls1.2.pcap`, Arkime's `quicietf.pcap`) names each handshake's JA3, JA3S, JA4
/// and leaf-certificate SHA-1; a set of exactly those, exported, makes stock Suricata alert once
/// per handshake and fingerprint, on TLS and on QUIC.
#[test]
fn stock_suricata_alerts_on_exported_tls_fingerprints() {
    let Some(shared) = shared() else { return };
    let peer = shared.join("peers/suricata");
    let bin = peer.join("bin/suricata");
    if !bin.exists() {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "the Suricata peer is required (TRAWL_REQUIRE_TOOLS) but {} is missing",
            bin.display()
        );
        println!("skipped: {} not present", bin.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let p = |p: &Path| p.to_str().unwrap().to_string();
    let work = root.join("suricata");
    let o = Command::new(peer.join("setup"))
        .arg(&work)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A copy of the stock configuration that computes and logs the fingerprints.
    let stock = std::fs::read_to_string(work.join("suricata.yaml")).unwrap();
    let logging = stock
        .replace("#ja3-fingerprints: auto", "ja3-fingerprints: yes")
        .replace("#ja4-fingerprints: auto", "ja4-fingerprints: yes");
    assert_ne!(logging, stock, "the stock yaml changed: update the edit");
    let logging_yaml = work.join("logging.yaml");
    std::fs::write(&logging_yaml, logging).unwrap();
    let empty = root.join("empty.rules");
    std::fs::write(&empty, "").unwrap();
    let captures = [
        shared.join("data/pcaps/zeek/tls_tls1.2.pcap"),
        shared.join("data/pcaps/arkime/quicietf.pcap"),
    ];
    let mut rows = vec!["kind,value".to_string()];
    let mut expected = BTreeSet::new();
    for (i, pcap) in captures.iter().enumerate() {
        let log = root.join(format!("ref{i}"));
        std::fs::create_dir_all(&log).unwrap();
        run_suricata(
            &bin,
            &[
                "--runmode",
                "single",
                "-k",
                "none",
                "-c",
                &p(&logging_yaml),
                "-S",
                &p(&empty),
                "-l",
                &p(&log),
                "-r",
                &p(pcap),
            ],
        );
        for line in std::fs::read_to_string(log.join("eve.json"))
            .unwrap()
            .lines()
        {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let proto = e["event_type"].as_str().unwrap_or("");
            if proto != "tls" && proto != "quic" {
                continue;
            }
            let r = &e[proto];
            for (kind, v, what) in [
                ("ja3", &r["ja3"]["hash"], "JA3"),
                ("ja3s", &r["ja3s"]["hash"], "JA3S"),
                ("ja4", &r["ja4"], "JA4"),
                ("x509-sha1", &r["fingerprint"], "certificate SHA-1"),
            ] {
                if let Some(v) = v.as_str() {
                    rows.push(format!("{kind},{v}"));
                    expected.insert((proto.to_string(), format!("trawl: {what} listed")));
                }
            }
        }
    }
    // Both captures give a JA3 and a JA4; the TLS 1.2 one a JA3S and a certificate too.
    assert_eq!(expected.len(), 6, "{expected:?}");
    let feed = root.join("fp.csv");
    std::fs::write(&feed, rows.join("\n") + "\n").unwrap();
    let set = root.join("fp.tset");
    trawl(&["compile", "-o", &p(&set), &p(&feed)]);
    let out = root.join("export");
    let o = trawl(&["export", "-s", &p(&set), "-f", "suricata", "-o", &p(&out)]);
    let report = String::from_utf8_lossy(&o.stderr);
    for kind in [
        "ja3 2 of 2",
        "ja3s 1 of 1",
        "ja4 2 of 2",
        "x509-sha1 1 of 1",
    ] {
        assert!(report.contains(kind), "{kind}: {report}");
    }
    let mut alerts = BTreeSet::new();
    for (i, pcap) in captures.iter().enumerate() {
        let log = root.join(format!("alerts{i}"));
        std::fs::create_dir_all(&log).unwrap();
        run_suricata(
            &bin,
            &[
                "--runmode",
                "single",
                "-k",
                "none",
                "-c",
                &p(&work.join("suricata.yaml")),
                "--include",
                &p(&out.join("trawl.yaml")),
                "-S",
                &p(&out.join("trawl.rules")),
                "-l",
                &p(&log),
                "-r",
                &p(pcap),
            ],
        );
        // Nothing the stock run (rules: none) did not say too.
        let stock: BTreeSet<String> = complaints(&root.join(format!("ref{i}/suricata.log")))
            .into_iter()
            .collect();
        let new: Vec<String> = complaints(&log.join("suricata.log"))
            .into_iter()
            .filter(|c| !stock.contains(c))
            .collect();
        assert!(new.is_empty(), "suricata.log: {new:#?}");
        for line in std::fs::read_to_string(log.join("eve.json"))
            .unwrap()
            .lines()
        {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            if e["event_type"] == "alert" {
                let proto = e["app_proto"].as_str().unwrap().to_string();
                let msg = e["alert"]["signature"].as_str().unwrap().to_string();
                assert!(
                    alerts.insert((proto, msg)),
                    "one alert per handshake: {line}"
                );
            }
        }
    }
    assert_eq!(alerts, expected);
}
