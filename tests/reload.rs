//! Hot reload while scanning: the set file is replaced mid-scan; no frame is lost or scanned
//! twice, hits before the swap come from the old set and hits after it from the new one.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded};
use memmap2::Mmap;
use trawl::Exclusions;
use trawl::Location;
use trawl::Meta;
use trawl::normalize;
use trawl::{CompileOptions, SetBuilder};
use trawl::{Hit, HitSink, Origin, Seen, SetVersion};
use trawl::{Progress, ScanOptions};
use trawl_tools::pcap::{PcapWriter, udp};

const FRAMES: u64 = 60_000;
const A: &str = "198.51.100.1";
const B: &str = "198.51.100.2";

fn write_set(path: &Path, value: &str) {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let at = Location::File { file: "t".into() };
    b.add(
        normalize::detect(value).unwrap(),
        &Meta::from_source("t"),
        &at,
    )
    .unwrap();
    b.write(path).unwrap();
}

/// Frames alternate between destinations A and B, each in its own flow.
fn capture(path: &Path) {
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(path).unwrap(),
    ))
    .unwrap();
    let src = "192.0.2.1".parse().unwrap();
    for i in 0..FRAMES {
        let dst = if i % 2 == 0 { A } else { B };
        let frame = udp(
            src,
            1024 + (i % 60_000) as u16,
            dst.parse().unwrap(),
            9,
            None,
            b"x",
        );
        w.frame(1_767_225_600_000_000 + i, &frame).unwrap();
    }
    std::io::Write::flush(&mut w.into_inner()).unwrap();
}

/// Records hits; after `gate_after` hits it waits for the test's go-ahead.
struct Gated {
    seen: Arc<Mutex<Vec<(u64, String, u64)>>>,
    gate_after: usize,
    go: Receiver<()>,
    gated: Arc<AtomicBool>,
}

impl HitSink<Mmap> for Gated {
    fn write(&mut self, s: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let Seen::Packet {
            origin: Origin::File { frame, .. },
            ..
        } = s.seen
        else {
            unreachable!()
        };
        let n = {
            let mut seen = self.seen.lock().unwrap();
            seen.push((frame, s.observed.clone(), s.set.generation));
            seen.len()
        };
        if n == self.gate_after {
            self.gated.store(true, Ordering::SeqCst);
            let _ = self.go.recv();
        }
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run(workers: usize) {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    write_set(&set, A);
    let pcap = dir.path().join("big.pcap");
    capture(&pcap);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let gated = Arc::new(AtomicBool::new(false));
    let (go_tx, go_rx) = bounded(1);
    let sink = Gated {
        seen: seen.clone(),
        gate_after: 100,
        go: go_rx,
        gated: gated.clone(),
    };
    let progress = Progress::default();
    let opts = ScanOptions {
        workers,
        dedup_window: Duration::ZERO,
        batch_size: 64,
        queue_depth: 2,
        ..ScanOptions::default()
    };
    let outcome = std::thread::scope(|scope| {
        let scan = scope.spawn(|| {
            trawl::scan_files(
                &set,
                std::slice::from_ref(&pcap),
                &opts,
                sink,
                &AtomicBool::new(false),
                None,
                &progress,
            )
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while !gated.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the sink never filled");
            std::thread::sleep(Duration::from_millis(5));
        }
        // Replace the set file (new inode via rename) while the pipeline is stalled.
        write_set(&set, B);
        while progress.generation.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "the set was not reloaded");
            std::thread::sleep(Duration::from_millis(5));
        }
        go_tx.send(()).unwrap();
        scan.join().unwrap().unwrap()
    });
    let seen = seen.lock().unwrap();
    assert_eq!(outcome.stats.frames, FRAMES, "every frame read once");
    assert_eq!(outcome.stats.decoded, FRAMES);
    assert_eq!(outcome.stats.reloads, 1);
    assert_eq!(outcome.generation, 2);
    let mut frames: Vec<u64> = seen.iter().map(|h| h.0).collect();
    frames.sort_unstable();
    frames.dedup();
    assert_eq!(frames.len(), seen.len(), "no frame reported twice");
    let (old, new): (Vec<_>, Vec<_>) = seen.iter().partition(|h| h.2 == 1);
    assert!(
        old.len() >= 100 && !new.is_empty(),
        "{} {}",
        old.len(),
        new.len()
    );
    assert!(
        old.iter().all(|h| h.1 == A && h.0 % 2 == 1),
        "generation 1 hits are A frames"
    );
    assert!(
        new.iter().all(|h| h.1 == B && h.0 % 2 == 0),
        "generation 2 hits are B frames"
    );
    // Every frame was matched against exactly one set version: A frames before the swap and
    // B frames after it account for all hits, and no B frame is missing after the last A hit.
    let last_old = old.iter().map(|h| h.0).max().unwrap();
    if workers == 1 {
        let first_new = new.iter().map(|h| h.0).min().unwrap();
        assert!(
            last_old < first_new,
            "one worker sees the swap at one point"
        );
        let b_frames_after = (first_new..=FRAMES).filter(|f| f % 2 == 0).count();
        assert_eq!(new.len(), b_frames_after);
    }
}

#[test]
fn reload_mid_scan_one_worker() {
    run(1);
}

#[test]
fn reload_mid_scan_two_workers() {
    run(2);
}

/// A reload to a set that breaks the pattern bounds is refused, quickly and without building
/// anything; the old set keeps serving and the status says so until a good set arrives.
#[test]
fn a_refused_reload_keeps_the_old_set_and_says_so() {
    use trawl::{Reload, Reloader};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    write_set(&set, A);
    let mut reloader = Reloader::open(&set).unwrap();
    let current = reloader.current();
    assert!(reloader.check().is_empty());
    assert!(!reloader.status().is_degraded());

    let hostile = dir.path().join("hostile.tset.tmp");
    std::fs::write(&hostile, common::hostile_pattern_set(4096)).unwrap();
    std::fs::rename(&hostile, &set).unwrap();
    let started = Instant::now();
    let events = reloader.check();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(&events[..], [Reload::Refused(why)] if why.contains("url pattern list")),
        "{events:?}"
    );
    assert_eq!(current.load().generation, 1);
    assert!(current.load().set.match_ip(A.parse().unwrap()).is_some());
    let line = reloader.status().line();
    assert!(line.starts_with("set: generation 1, "), "{line}");
    assert!(
        line.contains("reload of ") && line.contains("refused since "),
        "{line}"
    );
    assert!(line.contains("url pattern list"), "{line}");
    // Not retried until the file changes again; then a good set clears the refusal.
    assert!(reloader.check().is_empty());
    write_set(&set, B);
    assert_eq!(reloader.check(), [Reload::Swapped(2)]);
    assert!(!reloader.status().is_degraded());
    assert!(current.load().set.match_ip(B.parse().unwrap()).is_some());
}

/// A set file that goes away (removed, or out of reach after `sniff --user`) is said once and
/// kept in the status line while the loaded set serves on; a new file is loaded when it comes.
#[test]
fn a_set_file_that_vanishes_is_said_once_and_the_set_serves_on() {
    use trawl::{Reload, Reloader};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    write_set(&set, A);
    let mut reloader = Reloader::open(&set).unwrap();
    let current = reloader.current();
    std::fs::remove_file(&set).unwrap();
    let events = reloader.check();
    assert!(
        matches!(&events[..], [Reload::Refused(why)] if why.contains("No such file") && why.contains("intel.tset")),
        "{events:?}"
    );
    assert!(reloader.check().is_empty(), "said once");
    let line = reloader.status().line();
    assert!(
        line.contains("refused since") && line.contains("No such file"),
        "{line}"
    );
    assert!(current.load().set.match_ip(A.parse().unwrap()).is_some());
    write_set(&set, B);
    assert_eq!(reloader.check(), [Reload::Swapped(2)]);
    assert!(!reloader.status().is_degraded());
}

/// A set file changed in place (not renamed over): a `touch` reloads quietly; new bytes of the
/// same size are reported as damage of the serving generation and loaded; a torn file (new
/// size) damages the serving set, which then answers nothing, and the status says so until
/// the complete file is back.
#[test]
fn in_place_changes_are_told_apart() {
    use std::os::unix::fs::FileExt;
    use trawl::{Reload, Reloader};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    write_set(&set, A);
    let mut reloader = Reloader::open(&set).unwrap();
    let current = reloader.current();

    let file = std::fs::OpenOptions::new().write(true).open(&set).unwrap();
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
    assert_eq!(reloader.check(), [Reload::Swapped(2)], "a touch");
    assert!(!reloader.status().is_degraded());

    let other = dir.path().join("other.tset");
    write_set(&other, B);
    let b = std::fs::read(&other).unwrap();
    assert_eq!(b.len() as u64, std::fs::metadata(&set).unwrap().len());
    file.write_all_at(&b, 0).unwrap();
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(10))
        .unwrap();
    let events = reloader.check();
    assert!(
        matches!(&events[..], [Reload::Damaged(what), Reload::Swapped(3)] if what.contains("(generation 2)")),
        "{events:?}"
    );
    assert!(!reloader.status().is_degraded());
    assert!(current.load().set.match_ip(B.parse().unwrap()).is_some());

    // Half of A written over B in place: a torn file of another size.
    let a = {
        write_set(&other, A);
        std::fs::read(&other).unwrap()
    };
    file.set_len(0).unwrap();
    file.write_all_at(&a[..a.len() / 2], 0).unwrap();
    let events = reloader.check();
    assert!(
        matches!(&events[..], [Reload::Damaged(_), Reload::Refused(why)] if why.contains("truncated")),
        "{events:?}"
    );
    assert!(current.load().set.is_damaged());
    assert!(current.load().set.match_ip(B.parse().unwrap()).is_none());
    let line = reloader.status().line();
    assert!(
        line.contains("DAMAGED since") && line.contains("refused since"),
        "{line}"
    );
    file.write_all_at(&a[a.len() / 2..], a.len() as u64 / 2)
        .unwrap();
    assert_eq!(reloader.check(), [Reload::Swapped(4)]);
    assert!(!reloader.status().is_degraded());
    assert!(current.load().set.match_ip(A.parse().unwrap()).is_some());
}
