//! The packet engine end to end on the crafted capture: exactly the expected hits and counters,
//! with one worker and with several; the committed capture equals the generator's output. Hits
//! are the same whatever the number of workers; flows are per capture file and per VLAN.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memmap2::Mmap;
use trawl::Exclusions;
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedSpec, ingest_feeds};
use trawl::{Hit, HitSink, ObservedIn, Origin, SetVersion};
use trawl::{Progress, ScanOptions};
use trawl_tools::pcap::{PcapWriter, crafted_scenario, vlan_scenario};

const FEED: &str = "value,kind\n\
evil.example,domain\n\
evil-cdn.example,domain\n\
198.51.100.66,ipv4\n\
phish.example,domain\n\
http://malware.example/payload.exe,url\n\
EvilBot/1.0,http-request\n\
ceo-fraud@bad-actor.example,email\n\
203.0.113.7,ipv4\n\
2001:db8:bad::/48,ipv6\n";

/// One hit as the test sees it: frame, field, observed value, indicator value, generation.
type Seen = (u64, &'static str, String, String, u64);

/// Collects every hit.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<Seen>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let trawl::Seen::Packet { origin, .. } = &s.seen else {
            panic!("a packet scan sent a hit that is not a packet's");
        };
        let frame = match origin {
            Origin::File { frame, .. } => *frame,
            Origin::Interface(_) => 0,
        };
        let ObservedIn::Packet(field) = s.field else {
            panic!("a packet hit observed outside a packet");
        };
        let value = s.set.set.indicator(s.matched.indicator).unwrap().value();
        self.0.lock().unwrap().push((
            frame,
            field.ecs(),
            s.observed.clone(),
            value,
            s.set.generation,
        ));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn set_file(dir: &Path, feed: &str) -> std::path::PathBuf {
    let feed_path = dir.join("feed.csv");
    std::fs::write(&feed_path, feed).unwrap();
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    ingest_feeds(&[FeedSpec::new(&feed_path)], &mut b).unwrap();
    let out = dir.join("intel.tset");
    b.write(&out).unwrap();
    out
}

fn crafted_pcap() -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (ts, frame, _) in crafted_scenario() {
        w.frame(ts, &frame).unwrap();
    }
    w.into_inner()
}

#[test]
fn committed_capture_is_the_generators_output() {
    let committed =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/pcaps/crafted.pcap"))
            .unwrap();
    assert_eq!(
        committed,
        crafted_pcap(),
        "re-run: cargo run -p trawl-tools --bin craft-pcap testdata/pcaps/crafted.pcap"
    );
}

fn scan(workers: usize) -> (Vec<Seen>, trawl::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    let pcap = dir.path().join("crafted.pcap");
    std::fs::write(&pcap, crafted_pcap()).unwrap();
    let sink = Collect::default();
    let opts = ScanOptions {
        workers,
        dedup_window: Duration::from_secs(60),
        ..ScanOptions::default()
    };
    let out = trawl::scan_files(
        &set,
        &[pcap],
        &opts,
        sink.clone(),
        &AtomicBool::new(false),
        None,
        &Progress::default(),
    )
    .unwrap();
    let mut hits = sink.0.lock().unwrap().clone();
    hits.sort();
    (hits, out.stats)
}

#[test]
fn crafted_capture_gives_exactly_the_expected_hits_and_counters() {
    for workers in [1, 3] {
        let (hits, stats) = scan(workers);
        let want: Vec<(u64, &str, &str, &str)> = vec![
            (1, "dns.question.name", "www.evil.example", "evil.example"),
            (2, "dns.answers.data", "198.51.100.66", "198.51.100.66/32"),
            (
                2,
                "dns.answers.name",
                "edge.evil-cdn.example",
                "evil-cdn.example",
            ),
            (
                3,
                "tls.client.server_name",
                "login.phish.example",
                "phish.example",
            ),
            (4, "trawl.http.request", "EvilBot/1.0", "EvilBot/1.0"),
            (
                4,
                "url.full",
                "http://malware.example/payload.exe",
                "http://malware.example/payload.exe",
            ),
            (
                5,
                "email.from.address",
                "ceo-fraud@bad-actor.example",
                "ceo-fraud@bad-actor.example",
            ),
            (6, "destination.ip", "203.0.113.7", "203.0.113.7/32"),
            (7, "destination.ip", "203.0.113.7", "203.0.113.7/32"),
            (8, "destination.ip", "2001:db8:bad::1", "2001:db8:bad::/48"),
            (11, "destination.ip", "203.0.113.7", "203.0.113.7/32"),
        ];
        let got: Vec<(u64, &str, &str, &str)> = hits
            .iter()
            .map(|(f, field, seen, value, _)| (*f, *field, seen.as_str(), value.as_str()))
            .collect();
        assert_eq!(got, want, "{workers} workers");
        assert!(hits.iter().all(|h| h.4 == 1), "generation 1");
        assert_eq!(stats.frames, 14);
        assert_eq!(stats.decoded, 12, "{stats:?}");
        assert_eq!(stats.decode_errors.values().sum::<u64>(), 2, "{stats:?}");
        assert_eq!(stats.truncated, 1, "{stats:?}");
        assert_eq!(stats.fragments, 2, "{stats:?}");
        // The response repeats the question in its flow; the query is repeated 10 s later.
        assert_eq!(stats.deduplicated, 2, "{stats:?}");
        assert_eq!(stats.hits, 11);
        assert!(
            stats.app_errors.keys().any(|k| k.starts_with("dns:")),
            "{stats:?}"
        );
    }
}

#[test]
fn zero_window_reports_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    let pcap = dir.path().join("crafted.pcap");
    std::fs::write(&pcap, crafted_pcap()).unwrap();
    let sink = Collect::default();
    let opts = ScanOptions {
        workers: 2,
        dedup_window: Duration::ZERO,
        ..ScanOptions::default()
    };
    let out = trawl::scan_files(
        &set,
        &[pcap],
        &opts,
        sink.clone(),
        &AtomicBool::new(false),
        None,
        &Progress::default(),
    )
    .unwrap();
    assert_eq!(out.stats.hits, 13);
    assert_eq!(out.stats.deduplicated, 0);
}

/// Every capture under ../shared/data (real traffic, tcpdump's malformed-packet corpus,
/// suricata-verify): the engine never panics and accounts for every frame.
#[test]
fn real_captures_scan_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !root.join("pcaps").exists() {
        println!("skipped: {} not present", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![root.join("pcaps"), root.join("suricata-verify")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                files.push(p);
            }
        }
    }
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    let mut opened = Vec::new();
    for f in &files {
        // Files that are not captures at all are refused at open with an error, not scanned.
        if trawl::testing::capture::CaptureFile::open(f).is_ok() {
            opened.push(f.clone());
        }
    }
    let opts = ScanOptions {
        workers: 2,
        ..ScanOptions::default()
    };
    let out = trawl::scan_files(
        &set,
        &opened,
        &opts,
        Collect::default(),
        &AtomicBool::new(false),
        None,
        &Progress::default(),
    )
    .unwrap();
    println!(
        "{} of {} captures\n{}",
        opened.len(),
        files.len(),
        out.stats.summary(out.elapsed)
    );
    assert!(opened.len() > 100, "{}", opened.len());
    assert!(out.stats.frames > 100_000, "{:?}", out.stats.frames);
    assert!(
        out.stats.decoded * 10 > out.stats.frames * 8,
        "most frames decode"
    );
}

fn testdata(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

#[test]
fn committed_vlan_capture_is_the_generators_output() {
    let mut w = PcapWriter::new(Vec::new()).unwrap();
    for (ts, frame, _) in vlan_scenario() {
        w.frame(ts, &frame).unwrap();
    }
    assert_eq!(
        std::fs::read(testdata("pcaps/vlans.pcap")).unwrap(),
        w.into_inner(),
        "re-run: cargo run -p trawl-tools --bin craft-pcap -- --vlans testdata/pcaps/vlans.pcap"
    );
}

/// One 5-tuple untagged, on VLANs 10 and 20, in QinQ 100/10 and under two MPLS labels: six
/// flows, six hits; the repeat on VLAN 10 is suppressed.
#[test]
fn same_five_tuple_in_other_vlans_is_another_flow() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    for workers in [1, 4] {
        let sink = Collect::default();
        let opts = ScanOptions {
            workers,
            ..ScanOptions::default()
        };
        let out = trawl::scan_files(
            &set,
            &[testdata("pcaps/vlans.pcap")],
            &opts,
            sink.clone(),
            &AtomicBool::new(false),
            None,
            &Progress::default(),
        )
        .unwrap();
        let mut hits = sink.0.lock().unwrap().clone();
        hits.sort();
        let frames: Vec<u64> = hits.iter().map(|h| h.0).collect();
        assert_eq!(frames, [1, 2, 3, 4, 5, 6], "{workers} workers: {hits:?}");
        assert!(hits.iter().all(|h| h.1 == "dns.question.name"));
        assert_eq!((out.stats.hits, out.stats.deduplicated), (6, 1));
    }
}

/// Runs `trawl scan pcap` and returns its hit lines, sorted, with its exit status and stderr.
fn scan_cli(set: &Path, files: &[std::path::PathBuf], args: &[&str]) -> (Vec<String>, Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["scan", "pcap", "--no-progress", "-s"])
        .arg(set)
        .args(args)
        .args(files)
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    (lines, out)
}

/// Every address and the names common in the test captures: hits in nearly every flow, so
/// that de-duplication has plenty to get wrong.
const BROAD_FEED: &str = "0.0.0.0/1\n128.0.0.0/1\n::/1\n8000::/1\ngoogle.com\nin-addr.arpa\n\
ip6.arpa\nmicrosoft.com\nnetflix.com\ncloudflare.com\nexample.com\ntunnel.com\ndgaparent.com\n\
bro.org\nzeek.org\nisc.org\nripe.net\napple.com\nevil.example\nphish.example\n";

/// Scans `files` with 1, 2, 4 and 8 workers, `runs` times each: the hits (sorted lines) are
/// the same every time. Returns them.
fn assert_deterministic(set: &Path, files: &[std::path::PathBuf], runs: usize) -> Vec<String> {
    let (first, out) = scan_cli(set, files, &["-j", "1"]);
    assert!(!first.is_empty());
    let status = out.status.code();
    for run in 0..runs {
        for j in ["1", "2", "4", "8"] {
            let (hits, out) = scan_cli(set, files, &["-j", j]);
            assert_eq!(out.status.code(), status);
            if hits != first {
                let diff = hits.iter().zip(&first).position(|(a, b)| a != b);
                panic!(
                    "run {run}, -j {j}: {} hits, {} with -j 1; first difference at {diff:?}",
                    hits.len(),
                    first.len()
                );
            }
        }
    }
    first
}

/// Every committed capture, the crafted one twice, and one 5-tuple on several VLANs: the hits
/// do not depend on the number of workers or on thread scheduling, and the capture given twice
/// reports its hits twice.
#[test]
fn hits_are_the_same_whatever_the_workers_and_a_capture_twice_hits_twice() {
    let mut files = Vec::new();
    let mut stack = vec![testdata("pcaps")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap" || x == "pcapng") {
                files.push(p);
            }
        }
    }
    files.sort();
    files.push(testdata("pcaps/crafted.pcap"));
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), BROAD_FEED);
    let all = assert_deterministic(&set, &files, 3);

    let crafted = testdata("pcaps/crafted.pcap");
    let (once, _) = scan_cli(&set, std::slice::from_ref(&crafted), &[]);
    let (twice, _) = scan_cli(&set, &[crafted.clone(), crafted.clone()], &[]);
    let doubled: Vec<String> = once.iter().flat_map(|l| [l.clone(), l.clone()]).collect();
    assert!(once.len() > 10, "{}", once.len());
    assert_eq!(twice, doubled);
    // In the whole run too: every hit of the crafted capture is there twice.
    let name = format!("\"file\":{}", serde_json::to_string(&crafted).unwrap());
    let in_all: Vec<&String> = all.iter().filter(|l| l.contains(&name)).collect();
    assert_eq!(in_all.len(), 2 * once.len());
}

/// The 150 real captures under ../shared/data/pcaps (several epochs, the same flows in several
/// files): the same hits with 1, 2, 4 and 8 workers, three times over.
#[test]
fn real_captures_give_the_same_hits_whatever_the_workers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pcaps");
    if !root.exists() {
        println!("skipped: {} not present", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), BROAD_FEED);
    let hits = assert_deterministic(&set, &files, 3);
    println!("{} captures, {} hits every time", files.len(), hits.len());
    assert!(files.len() >= 100 && hits.len() > 1000, "{}", hits.len());
}

/// A capture cut short, one with a corrupt record header part-way, one that does not exist and
/// one that is not a capture, among good ones: each is reported with where it broke, every
/// frame before the damage and every other file is scanned, the counters are printed, and the
/// exit status is 2.
#[test]
fn damaged_and_missing_captures_are_reported_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    let good = crafted_pcap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("good.pcap"), &good).unwrap();
    // Cut inside the last record's data (frame 14).
    std::fs::write(path("cut.pcap"), &good[..good.len() - 10]).unwrap();
    // Frame 5's record header claims 4 GiB.
    let mut corrupt = good.clone();
    let mut at = 24;
    for _ in 0..4 {
        at += 16 + u32::from_le_bytes(corrupt[at + 8..at + 12].try_into().unwrap()) as usize;
    }
    corrupt[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(path("corrupt.pcap"), &corrupt).unwrap();
    std::fs::write(path("notes.txt"), "not a capture\n").unwrap();
    let files = [
        "cut.pcap",
        "missing.pcap",
        "good.pcap",
        "notes.txt",
        "corrupt.pcap",
    ]
    .map(path);
    let (hits, out) = scan_cli(&set, &files, &["-j", "2"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let d = dir.path().display();
    for want in [
        format!("capture file error: {d}/cut.pcap: frame 14 at byte offset "),
        format!("capture file error: {d}/missing.pcap: No such file or directory (os error 2)\n"),
        format!("capture file error: {d}/notes.txt: not a pcap or pcapng capture"),
        format!(
            "capture file error: {d}/corrupt.pcap: frame 5 at byte offset {at}: implausible record length"
        ),
        "packets: ".to_string(),
    ] {
        assert_eq!(err.matches(&want).count(), 1, "{want:?} in\n{err}");
    }
    let from = |name: &str| {
        let file = format!("\"file\":\"{d}/{name}\"");
        hits.iter().filter(|l| l.contains(&file)).count()
    };
    // All 11 hits of the good file; the cut one loses only its last frame (the repeated query,
    // a suppressed repeat anyway); the corrupt one keeps the hits of frames 1-4 (six hits).
    assert_eq!(
        (from("good.pcap"), from("cut.pcap"), from("corrupt.pcap")),
        (11, 11, 6),
        "{err}"
    );
}

/// The link-layer fixtures (testdata/pcaps/links: PPP, Cisco HDLC, Frame Relay, 802.11 bare
/// and behind radiotap/PPI/AVS/Prism, NSH, 802.1ah, LLC/SNAP), scanned by `trawl scan pcap`:
/// every inner destination address and DNS name is hit (query k of tools/craft_links.py goes to
/// 203.0.113.k or 2001:db8:b::k and asks for hostk.links.example; query 35 sits under more
/// NSH headers than are decoded), and the only frames not decoded are the deliberate
/// negatives, each under its reason.
#[test]
fn link_layer_fixtures_hit_their_inner_addresses_and_names() {
    let mut files: Vec<_> = std::fs::read_dir(testdata("pcaps/links"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 15);
    let dir = tempfile::tempdir().unwrap();
    let feed = "value,kind\nlinks.example,domain\n203.0.113.0/24,ipv4\n2001:db8:b::/48,ipv6\n";
    let set = set_file(dir.path(), feed);
    let sink = Collect::default();
    let opts = ScanOptions {
        workers: 2,
        dedup_window: Duration::ZERO,
        ..ScanOptions::default()
    };
    let out = trawl::scan_files(
        &set,
        &files,
        &opts,
        sink.clone(),
        &AtomicBool::new(false),
        None,
        &Progress::default(),
    )
    .unwrap();
    let mut got: Vec<(&str, String)> = sink
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|(_, field, seen, _, _)| (*field, seen.clone()))
        .collect();
    got.sort();
    let mut want = Vec::new();
    let v6 = [
        2, 5, 7, 9, 11, 13, 15, 18, 20, 23, 26, 28, 30, 32, 34, 37, 40,
    ];
    for k in (1..=40u32).filter(|&k| k != 35) {
        let dst = if v6.contains(&k) {
            format!("2001:db8:b::{k:x}")
        } else {
            format!("203.0.113.{k}")
        };
        want.push(("destination.ip", dst));
        want.push(("dns.question.name", format!("host{k}.links.example")));
    }
    want.sort();
    assert_eq!(got, want);

    let s = &out.stats;
    assert_eq!((s.frames, s.decoded), (64, 39), "{s:?}");
    let errors: Vec<(&str, u64)> = s.decode_errors.iter().map(|(k, v)| (*k, *v)).collect();
    let mut expected = vec![
        ("truncated link header", 7),
        ("not IP (PPP protocol)", 1),
        ("truncated PPPoE header", 1),
        ("not IP (ethertype 0x8035)", 1),
        ("not IP (Frame Relay NLPID)", 1),
        ("bad Frame Relay address", 1),
        ("802.11 non-data frame", 2),
        ("802.11 null data frame", 2),
        ("802.11 protected frame", 2),
        ("not IP (LLC)", 1),
        ("truncated 802.11 header", 1),
        ("too many encapsulation layers", 1),
        ("truncated NSH header", 1),
        ("truncated 802.1ah I-TAG", 1),
        ("not IP (802.3 length field)", 1),
        ("truncated LLC/SNAP header", 1),
    ];
    expected.sort();
    assert_eq!(errors, expected);

    // The command line reports the same hits.
    let (lines, cli) = scan_cli(&set, &files, &["--dedup-window", "0"]);
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert_eq!(lines.len(), want.len());
    for k in [1, 19, 22, 25, 27, 29, 33, 38, 39] {
        let name = format!("host{k}.links.example");
        assert!(lines.iter().any(|l| l.contains(&name)), "{name}");
    }
}
