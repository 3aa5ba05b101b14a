//! The packet engine end to end on the crafted capture: exactly the expected hits and counters,
//! with one worker and with several; the committed capture equals the generator's output.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use memmap2::Mmap;
use trawl::compile::exclude::Exclusions;
use trawl::compile::{CompileOptions, FeedSpec, SetBuilder, ingest_feeds};
use trawl::engine::{self, Options, Progress};
use trawl::sink::{HitSink, Origin, Sighting};
use trawl_tools::pcap::{PcapWriter, crafted_scenario};

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
    fn write(&mut self, s: &Sighting<Mmap>) -> std::io::Result<()> {
        let frame = match s.origin {
            Origin::File { frame, .. } => frame,
            Origin::Interface(_) => 0,
        };
        let value = s.set.set.indicator(s.hit.indicator).unwrap().value();
        self.0.lock().unwrap().push((
            frame,
            s.field.ecs(),
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

fn scan(workers: usize) -> (Vec<Seen>, trawl::engine::stats::Stats) {
    let dir = tempfile::tempdir().unwrap();
    let set = set_file(dir.path(), FEED);
    let pcap = dir.path().join("crafted.pcap");
    std::fs::write(&pcap, crafted_pcap()).unwrap();
    let sink = Collect::default();
    let opts = Options {
        workers,
        dedup_window: Duration::from_secs(60),
        ..Options::default()
    };
    let out = engine::scan_files(
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
            (4, "http.request.original", "EvilBot/1.0", "EvilBot/1.0"),
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
    let opts = Options {
        workers: 2,
        dedup_window: Duration::ZERO,
        ..Options::default()
    };
    let out = engine::scan_files(
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
        if trawl::capture::file::CaptureFile::open(f).is_ok() {
            opened.push(f.clone());
        }
    }
    let opts = Options {
        workers: 2,
        ..Options::default()
    };
    let out = engine::scan_files(
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
