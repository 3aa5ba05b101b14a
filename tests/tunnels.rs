//! Tunnels: every frame of the crafted tunnel capture opens to exactly the listed layers (and
//! the crafted captures are their scripts' output); a scan
//! reports each carried DNS query once, with the tunnel it came out of; the inner endpoints of
//! real captures equal what tcpdump and Arkime decode from them; no prefix or mutation of a
//! tunnel frame panics.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use proptest::prelude::*;
use trawl::testing::capture::CaptureFile;
use trawl::testing::decode::{LinkType, decode};
use trawl::testing::tunnel::{self, Step};
use trawl::{Hit, HitSink, ObservedIn, Origin, SetVersion};

fn testdata(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

/// Every frame of a capture file, with its link type.
fn frames(path: &Path) -> Vec<(LinkType, Vec<u8>)> {
    let capture = CaptureFile::open(path).unwrap();
    capture
        .frames()
        .map(|f| {
            let f = f.unwrap();
            (f.link, f.data.to_vec())
        })
        .collect()
}

/// One opened layer: its tunnel, the tunnel's id, and the packet's source and destination.
type Layer = (&'static str, Option<u32>, String, String);

/// A tunnel and its id, as the crafted capture's table lists them.
type Tunnel = (&'static str, Option<u32>);

/// What one frame opens to: each layer, then why it stopped early.
fn open(link: LinkType, frame: &[u8]) -> (Vec<Layer>, String) {
    let outer = decode(link, frame).unwrap();
    let mut layers = Vec::new();
    let mut stop = String::new();
    for step in tunnel::layers(outer) {
        match step {
            Step::Packet {
                tunnel,
                packet,
                depth,
            } => {
                assert_eq!(usize::from(depth), layers.len() + 1);
                layers.push((
                    tunnel.tunnel.name(),
                    tunnel.id,
                    packet.src.to_string(),
                    packet.dst.to_string(),
                ));
            }
            Step::Tunnel(e) => stop = e.reason().to_string(),
            Step::Decode(_, e) => stop = e.reason().to_string(),
            Step::TooDeep => stop = "too deep".to_string(),
        }
    }
    (layers, stop)
}

/// The crafted capture's frames in order (see tools/craft_tunnels.py): the case name, the
/// tunnels from the outside in with their ids, and why opening stopped (empty: it did not).
/// Each positive case carries `<case>.tunnel.example` between 10.N.0.1 and 10.N.0.2 (IPv4)
/// or fd00:N::1 and fd00:N::2 (IPv6), N its 1-based number among the positive cases.
const CRAFTED: &[(&str, &[Tunnel], &str)] = &[
    ("ipip", &[("ipip", None)], ""),
    ("sixinfour", &[("ipv6-in-ip", None)], ""),
    ("fourinsix", &[("ipip", None)], ""),
    ("sixinsix", &[("ipv6-in-ip", None)], ""),
    ("gre", &[("gre", None)], ""),
    ("gre6", &[("gre", None)], ""),
    ("grekey", &[("gre", Some(77))], ""),
    ("nvgre", &[("gre", Some(5000 << 8))], ""),
    ("greroute", &[("gre", None)], ""),
    ("grempls", &[("gre", None)], ""),
    ("grev6outer", &[("gre", None)], ""),
    ("erspan1", &[("erspan", None)], ""),
    ("erspan2", &[("erspan", Some(21))], ""),
    ("erspan3", &[("erspan", Some(22))], ""),
    ("erspan3sub", &[("erspan", Some(23))], ""),
    ("greudp", &[("gre", None)], ""),
    ("mplsudp", &[("mpls-in-udp", None)], ""),
    ("vxlan", &[("vxlan", Some(4242))], ""),
    ("vxlanvlan", &[("vxlan", Some(4243))], ""),
    ("gpe4", &[("vxlan-gpe", Some(11))], ""),
    ("gpe6", &[("vxlan-gpe", Some(12))], ""),
    ("geneve", &[("geneve", Some(31))], ""),
    ("geneveip", &[("geneve", Some(32))], ""),
    ("gtpu", &[("gtp-u", Some(0x1234))], ""),
    ("gtpuext", &[("gtp-u", Some(0x5678))], ""),
    ("gtpecho", &[], ""),
    ("teredo", &[("teredo", None)], ""),
    ("teredoorigin", &[("teredo", None)], ""),
    ("ayiya", &[("ayiya", None)], ""),
    ("nested", &[("gre", None), ("vxlan", Some(99))], ""),
    ("pptp", &[("pptp", Some(0x0102))], ""),
    ("gtpu6", &[("gtp-u", Some(0x9abc))], ""),
    ("cutvxlan", &[], "truncated vxlan header"),
    ("cutgre", &[], "truncated gre header"),
    ("greempty", &[], "empty tunnel packet"),
    ("toodeep", &[("gre", None); 8], "too deep"),
];

/// The inner endpoints of positive case number `n` (1-based), by IP version.
fn inner_endpoints(n: usize, v6: bool) -> (String, String) {
    if v6 {
        (format!("fd00:{n:x}::1"), format!("fd00:{n:x}::2"))
    } else {
        (format!("10.{n}.0.1"), format!("10.{n}.0.2"))
    }
}

fn carries_query(case: &str) -> bool {
    !matches!(case, "gtpecho" | "cutvxlan" | "cutgre" | "greempty")
}

/// The crafted tunnel and link-layer fixtures are what their scapy scripts write today.
#[test]
fn the_committed_fixtures_are_the_crafting_scripts_output() {
    let have_scapy = std::process::Command::new("python3")
        .args(["-c", "import scapy"])
        .status()
        .is_ok_and(|s| s.success());
    if !have_scapy {
        assert!(
            std::env::var_os("TRAWL_REQUIRE_TOOLS").is_none(),
            "scapy is required (TRAWL_REQUIRE_TOOLS) but missing: pip install scapy"
        );
        println!("skipped: scapy is not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = |script: &str, out: &Path| {
        let status = std::process::Command::new("python3")
            .arg(root.join("tools").join(script))
            .arg(out)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{script}");
    };
    let tunnels = dir.path().join("crafted.pcap");
    run("craft_tunnels.py", &tunnels);
    assert!(
        std::fs::read(&tunnels).unwrap()
            == std::fs::read(testdata("pcaps/tunnels/crafted.pcap")).unwrap(),
        "re-run: python3 tools/craft_tunnels.py testdata/pcaps/tunnels/crafted.pcap"
    );
    let transports = dir.path().join("transports");
    run("craft_transports.py", &transports);
    assert!(
        std::fs::read(transports.join("sctp.pcap")).unwrap()
            == std::fs::read(testdata("pcaps/transports/sctp.pcap")).unwrap(),
        "re-run: python3 tools/craft_transports.py testdata/pcaps/transports"
    );
    let links = dir.path().join("links");
    run("craft_links.py", &links);
    let mut committed: Vec<_> = std::fs::read_dir(testdata("pcaps/links"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    committed.sort();
    assert!(committed.len() >= 10);
    for path in committed {
        let name = path.file_name().unwrap();
        assert!(
            std::fs::read(links.join(name)).ok() == Some(std::fs::read(&path).unwrap()),
            "{}: re-run: python3 tools/craft_links.py testdata/pcaps/links",
            path.display()
        );
    }
}

#[test]
fn every_crafted_frame_opens_to_the_listed_layers() {
    let frames = frames(&testdata("pcaps/tunnels/crafted.pcap"));
    assert_eq!(frames.len(), CRAFTED.len());
    let mut n = 0;
    for ((link, frame), &(case, tunnels, stop)) in frames.iter().zip(CRAFTED) {
        let (layers, stopped) = open(*link, frame);
        let got: Vec<(&str, Option<u32>)> = layers.iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(got, tunnels, "{case}: tunnels");
        assert_eq!(stopped, stop, "{case}: why opening stopped");
        if carries_query(case) && case != "toodeep" {
            n += 1;
            let innermost = layers.last().unwrap();
            let v6 = innermost.2.contains(':');
            let (src, dst) = inner_endpoints(n, v6);
            assert_eq!(
                (&innermost.2, &innermost.3),
                (&src, &dst),
                "{case}: inner endpoints"
            );
        }
    }
}

/// One hit as this test sees it: frame, field, observed value, tunnel (kind, depth, id).
type Found = (
    u64,
    &'static str,
    String,
    Option<(&'static str, u8, Option<u32>)>,
);

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Found>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let trawl::Seen::Packet { origin, tunnel, .. } = &s.seen else {
            panic!("a packet scan sent a hit that is not a packet's");
        };
        let (Origin::File { frame, .. }, ObservedIn::Packet(field)) = (origin, &s.field) else {
            panic!("a capture-file hit without its frame or field");
        };
        let tunnel = tunnel.map(|t| (t.kind, t.depth, t.id));
        self.0
            .lock()
            .unwrap()
            .push((*frame, field.ecs(), s.observed.clone(), tunnel));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn scan(feed: &str, pcap: &Path, workers: usize) -> (Vec<Found>, trawl::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    let stats = common::scan_capture(dir.path(), feed, pcap, workers, sink.clone());
    let mut hits = sink.0.lock().unwrap().clone();
    hits.sort();
    (hits, stats)
}

#[test]
fn a_scan_reports_every_carried_query_once_with_its_tunnel() {
    let names: Vec<String> = CRAFTED
        .iter()
        .filter(|c| carries_query(c.0))
        .map(|c| format!("{}.tunnel.example", c.0))
        .collect();
    let pcap = testdata("pcaps/tunnels/crafted.pcap");
    let (one, stats) = scan(&(names.join("\n") + "\n"), &pcap, 1);
    let mut want: Vec<Found> = Vec::new();
    for (i, &(case, tunnels, stop)) in CRAFTED.iter().enumerate() {
        // Past the depth limit the query is not reached: the capture counts it instead.
        if !carries_query(case) || stop == "too deep" {
            continue;
        }
        let (kind, id) = *tunnels.last().unwrap();
        want.push((
            i as u64 + 1,
            "dns.question.name",
            format!("{case}.tunnel.example"),
            Some((kind, tunnels.len() as u8, id)),
        ));
    }
    want.sort();
    assert_eq!(one, want);
    // Both directions of a tunnelled flow go to one worker: the hits do not depend on how
    // many there are.
    assert_eq!(scan(&(names.join("\n") + "\n"), &pcap, 3).0, want);

    let count = |m: &BTreeMap<&str, u64>| -> BTreeMap<String, u64> {
        m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    };
    let mut tunnels: BTreeMap<String, u64> = BTreeMap::new();
    for (_, layers, _) in CRAFTED {
        for (kind, _) in layers.iter() {
            *tunnels.entry(kind.to_string()).or_default() += 1;
        }
    }
    assert_eq!(count(&stats.tunnels), tunnels);
    assert_eq!(
        count(&stats.tunnel_errors),
        BTreeMap::from([
            ("empty tunnel packet".to_string(), 1),
            ("too many tunnel layers".to_string(), 1),
            ("truncated gre header".to_string(), 1),
            ("truncated vxlan header".to_string(), 1),
        ])
    );
    assert!(stats.decode_errors.is_empty(), "{:?}", stats.decode_errors);
}

#[test]
fn outer_and_inner_addresses_both_hit_and_the_outer_has_no_tunnel() {
    // The VXLAN case: its outer endpoints and its inner source.
    let (hits, _) = scan(
        "198.51.100.1\n10.18.0.1\n",
        &testdata("pcaps/tunnels/crafted.pcap"),
        1,
    );
    let vxlan: Vec<&Found> = hits.iter().filter(|h| h.0 == 18).collect();
    assert_eq!(
        vxlan,
        [
            &(
                18,
                "source.ip",
                "10.18.0.1".into(),
                Some(("vxlan", 1, Some(4242)))
            ),
            &(18, "source.ip", "198.51.100.1".into(), None),
        ]
    );
}

/// The IPv4 address pairs of each frame of a tcpdump `.out` decoding, in order (outer first):
/// `a.b.c.d[.port] > e.f.g.h[.port]:`.
fn tcpdump_pairs(out: &str) -> Vec<Vec<(String, String)>> {
    let mut frames: Vec<Vec<(String, String)>> = Vec::new();
    for line in out.lines() {
        let t = line.trim_start();
        let starts_frame = t
            .split_once("  ")
            .is_some_and(|(n, rest)| n.parse::<u32>().is_ok() && rest.starts_with("20"));
        if starts_frame {
            frames.push(Vec::new());
        }
        for (i, _) in line.match_indices(" > ") {
            let before = line[..i].rsplit(' ').next().unwrap();
            let after = line[i + 3..].split([':', ' ']).next().unwrap();
            let addr = |s: &str| -> Option<String> {
                let parts: Vec<&str> = s.split('.').collect();
                (parts.len() >= 4)
                    .then(|| parts[..4].join("."))
                    .filter(|a| a.parse::<std::net::Ipv4Addr>().is_ok())
            };
            if let (Some(a), Some(b)) = (addr(before), addr(after)) {
                frames.last_mut().unwrap().push((a, b));
            }
        }
    }
    frames
}

/// The (src, dst) of every layer of every frame, as trawl opens them (outer first); frames
/// that are not IP give an empty list.
fn trawl_pairs(pcap: &Path) -> Vec<Vec<(String, String)>> {
    frames(pcap)
        .iter()
        .map(|(link, frame)| match decode(*link, frame) {
            Ok(outer) => {
                let mut pairs = vec![(outer.src.to_string(), outer.dst.to_string())];
                pairs.extend(tunnel::layers(outer).filter_map(|s| match s {
                    Step::Packet { packet, .. } => {
                        Some((packet.src.to_string(), packet.dst.to_string()))
                    }
                    _ => None,
                }));
                pairs.retain(|(a, _)| a.parse::<std::net::Ipv4Addr>().is_ok());
                pairs
            }
            Err(_) => Vec::new(),
        })
        .collect()
}

#[test]
fn vxlan_and_geneve_inner_endpoints_equal_tcpdumps() {
    for (pcap, out) in [
        ("pcaps/tcpdump/vxlan.pcap", "pcaps/tcpdump/vxlan.out"),
        ("pcaps/tcpdump/geneve.pcap", "pcaps/tcpdump/geneve-vv.out"),
    ] {
        let want = tcpdump_pairs(&std::fs::read_to_string(testdata(out)).unwrap());
        let got = trawl_pairs(&testdata(pcap));
        assert_eq!(got.len(), want.len(), "{pcap}: frames");
        let inner = got.iter().filter(|layers| layers.len() > 1).count();
        assert!(
            inner >= 8,
            "{pcap}: only {inner} frames carried IPv4 inside"
        );
        assert_eq!(got, want, "{pcap}");
    }
}

#[test]
fn arkimes_gre_sessions_are_all_seen_inside_and_outside() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("pcaps/arkime/gre-sample.test.json")).unwrap(),
    )
    .unwrap();
    let mut inner = BTreeSet::new();
    let mut outer = BTreeSet::new();
    for s in expected["sessions3"].as_array().unwrap() {
        let b = &s["body"];
        for side in ["source", "destination"] {
            inner.insert(b[side]["ip"].as_str().unwrap().to_string());
        }
        for side in ["srcOuterIp", "dstOuterIp"] {
            for ip in b[side].as_array().unwrap() {
                outer.insert(ip.as_str().unwrap().to_string());
            }
        }
    }
    assert!(inner.len() >= 3 && outer.len() >= 2);
    let feed: String = inner
        .iter()
        .chain(&outer)
        .map(|ip| format!("{ip}\n"))
        .collect();
    let (hits, stats) = scan(&feed, &testdata("pcaps/arkime/gre-sample.pcap"), 1);
    let seen = |tunnelled: bool| -> BTreeSet<String> {
        hits.iter()
            .filter(|h| h.3.is_some() == tunnelled)
            .map(|h| h.2.clone())
            .collect()
    };
    assert_eq!(seen(true), inner, "inner addresses, seen inside GRE");
    assert_eq!(seen(false), outer, "outer addresses, seen on the wire");
    assert_eq!(stats.tunnels.get("gre"), Some(&stats.decoded));
}

#[test]
fn ciscos_gre_frames_open_and_keepalives_and_cdp_are_counted() {
    let (_, stats) = scan(
        "192.0.2.1\n",
        &testdata("pcaps/tcpdump/various_gre.pcap"),
        1,
    );
    // tshark 3.x decodes the same file as 20 frames of IP in GRE (12 with Cisco MetaData
    // around it), 8 GRE keepalives (an empty GRE packet once opened) and 2 CDP in GRE.
    assert_eq!(stats.tunnels, BTreeMap::from([("gre", 20)]));
    assert_eq!(
        stats.tunnel_errors,
        BTreeMap::from([("empty tunnel packet", 16), ("gre payload not decoded", 2)])
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Opening a cut or damaged tunnel frame never panics, and every layer's payload lies
    /// inside the frame.
    #[test]
    fn damaged_tunnel_frames_never_panic(
        which in 0..CRAFTED.len(),
        cut in 0usize..400,
        flips in proptest::collection::vec((0usize..400, any::<u8>()), 0..4),
    ) {
        let frames = frames(&testdata("pcaps/tunnels/crafted.pcap"));
        let (link, mut frame) = frames[which].clone();
        for (at, x) in flips {
            if let Some(b) = frame.get_mut(at) {
                *b ^= x;
            }
        }
        frame.truncate(cut.min(frame.len()));
        if let Ok(outer) = decode(link, &frame) {
            let range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
            for step in tunnel::layers(outer) {
                if let Step::Packet { packet, tunnel, .. } = step {
                    for bytes in [packet.payload, tunnel.bytes()] {
                        if !bytes.is_empty() {
                            let at = bytes.as_ptr() as usize;
                            prop_assert!(range.contains(&at) && at + bytes.len() <= range.end);
                        }
                    }
                    let _: IpAddr = packet.src;
                }
            }
        }
    }
}
