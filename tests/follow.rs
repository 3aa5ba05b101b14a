//! `trawl::testing::Follow` driven from a thread while the test writes the file like a logger and
//! a log rotator would: appends, a line written in two parts, rotation by rename (with lines
//! still written to the old file before the new one appears), truncation in place
//! (`copytruncate`), and appends after it. Every line must be seen exactly once, in order,
//! numbered from 1 in each generation, at its byte offset. And `scan_logs` on a followed
//! file, end to end.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use trawl::Exclusions;
use trawl::Notices;
use trawl::{AlignedBytes, IndicatorSet};
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedOptions, read_text_feed};
use trawl::{FollowLosses, FollowOptions, testing::Follow};
use trawl::{LogInput, LogOptions, OutputMode, scan_logs};

/// How long any one wait may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

/// One line as the follower handed it out.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    generation: u64,
    number: u64,
    offset: u64,
    text: String,
}

fn seen(generation: u64, number: u64, offset: u64, text: &str) -> Seen {
    Seen {
        generation,
        number,
        offset,
        text: text.into(),
    }
}

/// A `Follow` on its own thread, sending every line it hands out; what it could not read comes
/// back when it stops.
struct Follower {
    lines: Receiver<Seen>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<FollowLosses>>,
}

impl Follower {
    fn start(path: &Path, opts: FollowOptions) -> Follower {
        let (tx, lines) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let mut follow = Follow::new(path, opts).unwrap();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut seq = 0;
            // Where the next chunk of the generation must start: (generation, line, offset).
            let mut next: Option<(u64, u64, u64)> = None;
            while let Some(chunk) = follow.next_chunk(&flag).unwrap() {
                assert_eq!(chunk.seq, seq, "chunks numbered without gaps");
                seq += 1;
                match next {
                    Some((g, line, offset)) if g == chunk.generation => {
                        assert_eq!(
                            (chunk.first_line, chunk.offset),
                            (line, offset),
                            "{chunk:?}"
                        );
                    }
                    _ => assert_eq!(chunk.first_line, 1, "a generation starts at line 1"),
                }
                let lines: Vec<_> = chunk.lines().collect();
                assert_eq!(lines.len() as u64, chunk.line_count);
                next = Some((
                    chunk.generation,
                    chunk.first_line + chunk.line_count,
                    chunk.offset + chunk.len() as u64,
                ));
                for l in lines {
                    let text = String::from_utf8(l.bytes.to_vec()).unwrap();
                    if tx
                        .send(seen(chunk.generation, l.number, l.offset, &text))
                        .is_err()
                    {
                        return follow.losses();
                    }
                }
            }
            follow.losses()
        });
        Follower {
            lines,
            stop,
            thread: Some(thread),
        }
    }

    /// The next `n` lines, failing after `PATIENCE`.
    fn take(&self, n: usize) -> Vec<Seen> {
        let deadline = Instant::now() + PATIENCE;
        (0..n)
            .map(|i| {
                let left = deadline.saturating_duration_since(Instant::now());
                self.lines
                    .recv_timeout(left)
                    .unwrap_or_else(|e| panic!("line {} of {n} not seen: {e:?}", i + 1))
            })
            .collect()
    }

    /// Every line until none has come for `quiet` (or `PATIENCE` has passed).
    fn take_until_quiet(&self, quiet: Duration) -> Vec<Seen> {
        let deadline = Instant::now() + PATIENCE;
        let mut got = Vec::new();
        while let Ok(s) = self.lines.recv_timeout(quiet) {
            got.push(s);
            assert!(Instant::now() < deadline, "lines kept coming");
        }
        got
    }

    /// Nothing arrives for `quiet`.
    fn assert_quiet(&self, quiet: Duration) {
        match self.lines.recv_timeout(quiet) {
            Err(RecvTimeoutError::Timeout) => {}
            other => panic!("nothing expected, got {other:?}"),
        }
    }

    /// Stops the follower and returns whatever it handed out after the last `take`; it must
    /// have lost nothing.
    fn finish(self) -> Vec<Seen> {
        let (rest, losses) = self.finish_with_losses();
        assert_eq!(losses, FollowLosses::default());
        rest
    }

    /// Stops the follower: what it handed out after the last `take`, and what it lost.
    fn finish_with_losses(mut self) -> (Vec<Seen>, FollowLosses) {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().unwrap();
        let deadline = Instant::now() + PATIENCE;
        while !thread.is_finished() {
            assert!(Instant::now() < deadline, "the follower did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
        let losses = thread.join().unwrap();
        (self.lines.try_iter().collect(), losses)
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn append(path: &Path) -> File {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
}

/// Writes `lines` (each with its `\n`) and returns what the follower should see for them,
/// continuing the numbering and offsets of `gen_state`.
fn write_lines(f: &mut File, state: &mut (u64, u64, u64), lines: &[&str]) -> Vec<Seen> {
    let (generation, number, offset) = state;
    let mut want = Vec::new();
    for l in lines {
        f.write_all(format!("{l}\n").as_bytes()).unwrap();
        want.push(seen(*generation, *number, *offset, l));
        *number += 1;
        *offset += l.len() as u64 + 1;
    }
    f.flush().unwrap();
    want
}

fn rotation_and_truncation(read_size: usize, notify: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let follower = Follower::start(
        &path,
        FollowOptions {
            poll: Duration::from_millis(10),
            from_end: false,
            read_size,
            notify,
            ..FollowOptions::default()
        },
    );
    // The file does not exist yet: the follower waits for it.
    follower.assert_quiet(Duration::from_millis(30));
    let mut log = append(&path);
    let mut state = (0, 1, 0);
    let lines: Vec<String> = (1..=5).map(|i| format!("gen0 line {i}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let want = write_lines(&mut log, &mut state, &lines);
    assert_eq!(follower.take(5), want);

    // A line written in two parts is handed out whole, once its `\n` is there.
    log.write_all(b"gen0 line 6, first half").unwrap();
    log.flush().unwrap();
    follower.assert_quiet(Duration::from_millis(60));
    log.write_all(b" and second half\n").unwrap();
    log.flush().unwrap();
    let text = "gen0 line 6, first half and second half";
    assert_eq!(follower.take(1), [seen(0, 6, state.2, text)]);
    state = (0, 7, state.2 + text.len() as u64 + 1);

    // Rotation: the file is renamed away; the writer still writes two lines to it (they
    // belong to the old generation) before it opens a new file at the path.
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    let mut want = write_lines(&mut log, &mut state, &["gen0 line 7", "gen0 line 8"]);
    drop(log);
    let mut log = append(&path);
    let mut state = (1, 1, 0);
    want.extend(write_lines(
        &mut log,
        &mut state,
        &["gen1 line 1", "gen1 line 2", "gen1 line 3"],
    ));
    assert_eq!(follower.take(5), want);

    // copytruncate: the file is copied away and truncated in place; the writer's handle
    // (O_APPEND) goes on at the new end. The first line after it is shorter than what was
    // there, so the follower sees the file shrink.
    std::fs::copy(&path, dir.path().join("app.log.2")).unwrap();
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    let mut state = (2, 1, 0);
    let want = write_lines(&mut log, &mut state, &["gen2 l1"]);
    assert_eq!(follower.take(1), want);
    let want = write_lines(
        &mut log,
        &mut state,
        &["gen2 line 2", "gen2 line 3", "gen2 line 4", "gen2 line 5"],
    );
    assert_eq!(follower.take(4), want);
    follower.assert_quiet(Duration::from_millis(30));
    assert_eq!(follower.finish(), [], "no line twice, nothing else");
}

#[test]
fn follows_appends_partial_lines_rotation_and_truncation() {
    rotation_and_truncation(1 << 20, true);
}

#[test]
fn follows_with_reads_shorter_than_a_line() {
    rotation_and_truncation(5, true);
}

/// Without inotify (unavailable, or turned off) the path is looked at every poll interval:
/// slow rotations are still followed.
#[test]
fn follows_by_polling_without_inotify() {
    rotation_and_truncation(1 << 20, false);
}

/// Writes numbered lines (`n 0`, `n 1`, …) to `path` for `run`, in bursts of 5 lines a
/// millisecond, and rotates it every `every` as logrotate does with `rotate 10`: `.9` → `.10`
/// (the `.10` before is deleted), …, `.1` → `.2`, the file → `.1`, a new file; so each file is
/// renamed again every `every`, and deleted `10 × every` after it was created. Returns how
/// many lines it wrote, and how many times it rotated (each new file gets lines).
fn rotating_writer(path: &Path, every: Duration, run: Duration) -> (u64, u64) {
    let rotated = |k: u32| PathBuf::from(format!("{}.{k}", path.display()));
    let start = Instant::now();
    let mut next_rotation = start + every;
    let mut log = append(path);
    let (mut n, mut rotations) = (0u64, 0u64);
    loop {
        for _ in 0..5 {
            log.write_all(format!("n {n}\n").as_bytes()).unwrap();
            n += 1;
        }
        if Instant::now() >= next_rotation {
            for k in (1..10).rev() {
                let _ = std::fs::rename(rotated(k), rotated(k + 1));
            }
            std::fs::rename(path, rotated(1)).unwrap();
            log = append(path);
            // Never faster than `every`, even after a stall (a burst of rotations would delete
            // files as fast as they come).
            next_rotation = Instant::now() + every;
            rotations += 1;
            continue;
        }
        if start.elapsed() >= run {
            return (n, rotations);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// 100 rotations a second for 3 seconds (before inotify: 98 % of the lines lost, nothing said):
/// every line is read once, in order, and nothing is counted lost.
#[test]
fn rotation_every_10_ms_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let follower = Follower::start(&path, FollowOptions::default());
    let (written, rotations) =
        rotating_writer(&path, Duration::from_millis(10), Duration::from_secs(3));
    let seen = follower.take_until_quiet(Duration::from_millis(500));
    let numbers: Vec<u64> = seen
        .iter()
        .map(|s| s.text.strip_prefix("n ").unwrap().parse().unwrap())
        .collect();
    // (Fewer than 300 rotations on a loaded machine: the writer sleeps longer.)
    let generations = seen.last().map_or(0, |s| s.generation);
    assert!(rotations >= 100, "{rotations} rotations");
    assert_eq!(generations, rotations, "every file read");
    let missing: Vec<u64> = (0..written)
        .filter(|n| numbers.binary_search(n).is_err())
        .collect();
    assert_eq!(
        (numbers.len() as u64, missing.len()),
        (written, 0),
        "lines read, lines never read, of {written}: missing {missing:?}"
    );
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "in order, once");
    assert_eq!(follower.finish(), []);
}

/// Makes files appear at `path` and go at once: `files` real ones (each read, or gone before
/// it could be opened) and `dangling` symbolic links to nothing (never readable).
fn come_and_go(path: &Path, files: u64, dangling: u64) {
    for i in 0..files.max(dangling) {
        if i < files {
            std::fs::write(path, format!("file {i} from 203.0.113.66\n")).unwrap();
            std::fs::remove_file(path).unwrap();
        }
        if i < dangling {
            std::os::unix::fs::symlink("nothing-here", path).unwrap();
            std::fs::remove_file(path).unwrap();
        }
    }
}

/// Files that appear at the path and are deleted at once: each is either read or counted
/// lost, never dropped silently (nor counted twice).
#[test]
fn a_file_gone_before_it_could_be_opened_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    // Each loss is also said, to the caller's observer (the library prints nothing).
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let to = heard.clone();
    let opts = FollowOptions {
        notices: Notices::new(move |n| to.lock().unwrap().push(n.to_string())),
        ..FollowOptions::default()
    };
    let follower = Follower::start(&path, opts);
    let (files, dangling) = (50, 5);
    come_and_go(&path, files, dangling);
    let seen = follower.take_until_quiet(Duration::from_millis(500));
    let (rest, losses) = follower.finish_with_losses();
    assert_eq!(rest, []);
    assert_eq!(
        seen.len() as u64 + losses.files,
        files + dangling,
        "{seen:?} {losses:?}"
    );
    assert!(losses.files >= dangling, "{losses:?}");
    let heard = heard.lock().unwrap();
    assert_eq!(heard.len() as u64, losses.files, "{heard:?}");
    let prefix = format!("{}: ", path.display());
    assert!(
        heard
            .iter()
            .all(|n| n.starts_with(&prefix) && n.ends_with(": its lines are lost")),
        "{heard:?}"
    );
}

/// A last line without `\n` in a rotated file is handed out as a line of its own when the
/// follower moves to the new file.
#[test]
fn partial_last_line_of_a_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut log = append(&path);
    log.write_all(b"one\ntwo, never finished").unwrap();
    let follower = Follower::start(
        &path,
        FollowOptions {
            poll: Duration::from_millis(10),
            ..FollowOptions::default()
        },
    );
    assert_eq!(follower.take(1), [seen(0, 1, 0, "one")]);
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    let mut log = append(&path);
    log.write_all(b"three\n").unwrap();
    assert_eq!(
        follower.take(2),
        [seen(0, 2, 4, "two, never finished"), seen(1, 1, 0, "three")]
    );
    assert_eq!(follower.finish(), []);
}

/// `from_end`: the lines already there are skipped; numbering starts at 1 at the old end,
/// offsets count from the start of the file.
#[test]
fn from_end_skips_what_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "old 1\nold 2\n").unwrap();
    let follower = Follower::start(
        &path,
        FollowOptions {
            poll: Duration::from_millis(10),
            from_end: true,
            ..FollowOptions::default()
        },
    );
    follower.assert_quiet(Duration::from_millis(50));
    let mut log = append(&path);
    let want = write_lines(&mut log, &mut (0, 1, 12), &["new 1", "new 2"]);
    assert_eq!(follower.take(2), want);
    assert_eq!(follower.finish(), []);
}

// ---------------------------------------------------------------------------------------------
// scan_logs on a followed file.

/// A writer the test can read while the scan runs.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    /// The output's lines once there are `n` of them, failing after `PATIENCE`.
    fn wait_lines(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
            let lines: Vec<String> = text.lines().map(String::from).collect();
            if lines.len() >= n {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "{n} lines expected, got {lines:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn set() -> IndicatorSet<AlignedBytes> {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let feed = &b"203.0.113.66\nc2.badsite.test\n"[..];
    read_text_feed(feed, "feed", &FeedOptions::source("follow"), &mut b).unwrap();
    IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap()
}

/// The hits of a followed Zeek log arrive as its lines are written, with their line numbers
/// and Zeek fields, across a rotation that brings a new header.
#[test]
fn scan_logs_follows_a_zeek_log_across_rotation() {
    let set = set();
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("dns.log");
    let header = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n\
                  #path\tdns\n#fields\tts\tid.orig_h\tquery\n#types\ttime\taddr\tstring\n";
    let mut log = append(&path);
    log.write_all(header.as_bytes()).unwrap();
    let out = Shared::default();
    let stop = AtomicBool::new(false);
    let inputs = [LogInput::Follow(
        path.clone(),
        FollowOptions {
            poll: Duration::from_millis(10),
            ..FollowOptions::default()
        },
    )];
    let opts = LogOptions {
        workers: 2,
        chunk_size: 64 << 10,
        mode: OutputMode::Hits,
        ..LogOptions::default()
    };
    let rows = |lines: &[String]| -> Vec<(u64, String, String)> {
        lines
            .iter()
            .map(|l| {
                let d: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = &d["threat"]["enrichments"][0]["matched"];
                (
                    d["trawl"]["line"].as_u64().unwrap(),
                    m["field"].as_str().unwrap().to_string(),
                    m["atomic"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let outcome = std::thread::scope(|s| {
        let scan = s.spawn(|| scan_logs(&set, &inputs, &opts, out.clone(), &stop));
        log.write_all(b"1.0\t192.0.2.1\tc2.badsite.test\n").unwrap();
        let got = rows(&out.wait_lines(1));
        assert_eq!(got, [(8, "query".to_string(), "c2.badsite.test".into())]);
        log.write_all(b"2.0\t203.0.113.66\tclean.example\n")
            .unwrap();
        let got = rows(&out.wait_lines(2));
        assert_eq!(got[1], (9, "id.orig_h".to_string(), "203.0.113.66".into()));
        // Rotation: a new file, a new header with the columns in another order.
        std::fs::rename(&path, dir.path().join("dns.log.1")).unwrap();
        let mut log = append(&path);
        log.write_all(
            b"#separator \\x09\n#fields\tquery\tts\n#types\tstring\ttime\n3.0\tclean.example\n\
              www.c2.badsite.test\t4.0\n",
        )
        .unwrap();
        let got = rows(&out.wait_lines(3));
        assert_eq!(
            got[2],
            (5, "query".to_string(), "www.c2.badsite.test".into())
        );
        stop.store(true, Ordering::Relaxed);
        scan.join().unwrap().unwrap()
    });
    assert_eq!(outcome.files[0].hits, 3);
    assert_eq!(outcome.files[0].format, "zeek");
    assert!(outcome.files[0].errors.is_empty(), "{:?}", outcome.files[0]);
}

/// `scan_logs` reports what its followed file lost: rotated files gone before they could be
/// opened are counted in the input's counters, beside the hits of those that were read.
#[test]
fn scan_logs_counts_rotated_files_it_could_not_read() {
    let set = set();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let out = Shared::default();
    let stop = AtomicBool::new(false);
    let inputs = [LogInput::Follow(path.clone(), FollowOptions::default())];
    let opts = LogOptions {
        workers: 1,
        mode: OutputMode::OnlyMatching,
        ..LogOptions::default()
    };
    let (files, dangling) = (30, 3);
    let outcome = std::thread::scope(|s| {
        let scan = s.spawn(|| scan_logs(&set, &inputs, &opts, out.clone(), &stop));
        // Time for the scan to start following (its watch is set up as it starts).
        std::thread::sleep(Duration::from_millis(500));
        come_and_go(&path, files, dangling);
        std::thread::sleep(Duration::from_millis(700));
        stop.store(true, Ordering::Relaxed);
        scan.join().unwrap().unwrap()
    });
    let f = &outcome.files[0];
    assert_eq!(f.hits + f.follow_losses.files, files + dangling, "{f:?}");
    assert!(f.follow_losses.files >= dangling, "{f:?}");
    assert_eq!(outcome.total().follow_losses, f.follow_losses);
}
