//! Files changed in place under a running trawl (issue 9): a set file overwritten with `cp`
//! (truncated, then rewritten) while `scan logs --follow` and `sniff` use it, a log file
//! truncated by logrotate's `copytruncate` during `scan logs FILE`, and a reload refused after
//! `sniff --user` dropped privileges. trawl must not die, must say what happened, and must pick
//! up the complete new set.
//!
//! The `sniff` tests capture on `lo` and need root (CI runs as root); they print and return
//! otherwise.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use trawl::Exclusions;
use trawl::Location;
use trawl::Meta;
use trawl::normalize;
use trawl::{CompileOptions, SetBuilder};

/// How long a child may take before the test fails instead of hanging.
use common::child::{line_reader, wait};

const PATIENCE: Duration = Duration::from_secs(20);
/// Longer than the reload threads' poll (200–250 ms), so that trawl sees each state.
const SETTLE: Duration = Duration::from_millis(700);

/// A set file's bytes holding `values`.
fn set_bytes(values: &[&str]) -> Vec<u8> {
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    let at = Location::File { file: "t".into() };
    for v in values {
        b.add(normalize::detect(v).unwrap(), &Meta::from_source("t"), &at)
            .unwrap();
    }
    b.build().unwrap().0.finish(trawl::testing::unix_now())
}

/// What `cp new.tset intel.tset` does to a running trawl, slowed down: the file is truncated
/// (`during` runs, so that trawl reads the set while it has no bytes), then half of the new
/// file is written (`during` again: a reload now finds a torn file), then the rest.
fn copy_in_place(path: &Path, new: &[u8], during: impl Fn()) {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    during();
    std::thread::sleep(SETTLE);
    f.write_all(&new[..new.len() / 2]).unwrap();
    f.flush().unwrap();
    during();
    std::thread::sleep(SETTLE);
    f.write_all(&new[new.len() / 2..]).unwrap();
    f.flush().unwrap();
}

/// Lines from `rx` until one satisfies `want` (all of them returned), or a failure.
fn until(rx: &Receiver<String>, what: &str, want: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = want(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no {what}; saw {seen:#?}"),
        }
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child's pid, not waited for yet.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn follow_survives_a_set_copied_in_place_and_loads_it_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    std::fs::write(&set, set_bytes(&["old.evil.example"])).unwrap();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "query old.evil.example\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["scan", "logs", "-s"])
        .arg(&set)
        .arg("--follow")
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = line_reader(child.stdout.take().unwrap());
    let err = line_reader(child.stderr.take().unwrap());
    let append = |line: &str| {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "{line}").unwrap();
    };
    let first = until(&out, "hit of the old set", |_| true);
    assert!(first[0].contains("old.evil.example"), "{first:?}");

    // While the set has no bytes or half of them, lines keep coming and are scanned against a
    // set that matches nothing.
    copy_in_place(&set, &set_bytes(&["new.evil.example"]), || {
        append("query old.evil.example")
    });
    let said = until(&err, "reload", |l| l.contains("reloaded (generation 2)"));
    assert!(
        said.iter()
            .any(|l| l.contains("truncated or rewritten in place")),
        "{said:#?}"
    );
    append("query new.evil.example");
    let hit = until(&out, "hit of the new set", |_| true);
    assert!(
        hit[0].contains("new.evil.example") && hit[0].contains("\"line\":4"),
        "the lines scanned while the set was gone matched nothing: {hit:?}"
    );
    signal(&child, libc::SIGTERM);
    let status = wait(&mut child, PATIENCE);
    let rest: Vec<String> = err.try_iter().collect();
    assert_eq!(status.code(), Some(0), "{rest:#?}");
    assert!(
        rest.iter().any(|l| l.starts_with("set: generation 2, ")),
        "the final status: {rest:#?}"
    );
}

#[test]
fn a_log_truncated_during_the_scan_ends_its_scan_with_counters_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    std::fs::write(&set, set_bytes(&["203.0.113.7"])).unwrap();
    // 48 MB of lines that all hit: the hits fill the pipe the test does not read yet, and
    // back-pressure stops the reader after at most about a dozen 1 MiB chunks.
    let log = dir.path().join("big.log");
    let line = "Jan  1 00:00:00 host app: connect to 203.0.113.7 port 443 refused\n";
    std::fs::write(&log, line.repeat((48 << 20) / line.len())).unwrap();
    let size = std::fs::metadata(&log).unwrap().len();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["scan", "logs", "-j", "1", "-s"])
        .arg(&set)
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    std::thread::sleep(SETTLE);
    // logrotate's copytruncate: the content is copied away, the file truncated in place.
    std::fs::copy(&log, dir.path().join("big.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let status = wait(&mut child, PATIENCE);
    drain.join().unwrap().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    let counters = err
        .lines()
        .find(|l| l.starts_with(&format!("{}: ", log.display())))
        .unwrap_or_else(|| panic!("the file's counters: {err}"));
    let field = |what: &str| -> u64 {
        let at = counters
            .find(what)
            .unwrap_or_else(|| panic!("{what}: {counters}"));
        counters[..at]
            .split_whitespace()
            .last()
            .unwrap()
            .trim_start_matches(", ")
            .parse()
            .unwrap()
    };
    let (read, unread) = (field(" bytes, "), field(" bytes not scanned"));
    assert!(unread > size / 2, "{counters}");
    assert_eq!(read + unread, size, "{counters}");
    assert!(
        err.contains("the file shrank while it was scanned"),
        "{err}"
    );
}

#[test]
fn a_capture_truncated_during_scan_pcap_is_reported_not_fatal() {
    use trawl_tools::pcap::{PcapWriter, udp};
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    std::fs::write(&set, set_bytes(&["203.0.113.7"])).unwrap();
    // 300k frames that all hit: as above, the unread output stops the reader early.
    let pcap = dir.path().join("big.pcap");
    let mut w = PcapWriter::new(std::io::BufWriter::new(
        std::fs::File::create(&pcap).unwrap(),
    ))
    .unwrap();
    for i in 0..300_000u64 {
        let frame = udp(
            "192.0.2.1".parse().unwrap(),
            1024 + (i % 50_000) as u16,
            "203.0.113.7".parse().unwrap(),
            9,
            None,
            b"x",
        );
        w.frame(1_767_225_600_000_000 + i, &frame).unwrap();
    }
    w.into_inner().flush().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["scan", "pcap", "-j", "2", "--dedup-window", "0", "-s"])
        .arg(&set)
        .arg(&pcap)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    std::thread::sleep(SETTLE);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pcap)
        .unwrap()
        .set_len(0)
        .unwrap();
    let drain = std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let status = wait(&mut child, PATIENCE);
    drain.join().unwrap().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    // A capture-file error that cut the scan short exits 2, with the counters.
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "truncated or rewritten in place while it was scanned; reading stopped at byte"
        ),
        "{err}"
    );
    assert!(err.contains("packets: "), "the counters: {err}");
}

/// `trawl sniff -i lo` with a stats line every 200 ms, hits to `hits`.
fn sniff(set: &Path, hits: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["sniff", "-i", "lo", "--dedup-window", "0", "-j", "2"])
        .args(["--stats-interval", "200ms", "--immediate", "-s"])
        .arg(set)
        .arg("-o")
        .arg(hits)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Sends UDP datagrams to `dst` until `hits` holds a hit on it from set generation
/// `generation`.
fn hit_on(hits: &Path, dst: &str, generation: u64) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let _ = socket.send_to(b"ping", (dst, 9));
        let found = std::fs::read_to_string(hits)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|v| {
                v["trawl"]["set_generation"] == generation
                    && v["trawl"]["indicator"]["value"]
                        .as_str()
                        .is_some_and(|s| s.starts_with(dst))
            });
        if found {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no hit on {dst} from generation {generation}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn sniff_survives_a_set_copied_in_place_and_loads_it_when_complete() {
    if !is_root() {
        println!("skipped: capturing on lo needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let set = dir.path().join("intel.tset");
    std::fs::write(&set, set_bytes(&["127.0.0.2"])).unwrap();
    let hits = dir.path().join("hits.jsonl");
    let mut child = sniff(&set, &hits, &[]);
    let err = line_reader(child.stderr.take().unwrap());
    until(&err, "capture start", |l| l.contains("capturing on lo"));
    hit_on(&hits, "127.0.0.2", 1);

    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    copy_in_place(&set, &set_bytes(&["127.0.0.3"]), || {
        for _ in 0..20 {
            let _ = socket.send_to(b"ping", ("127.0.0.2", 9));
        }
    });
    hit_on(&hits, "127.0.0.3", 2);
    signal(&child, libc::SIGINT);
    let status = wait(&mut child, PATIENCE);
    let said: Vec<String> = err.try_iter().collect();
    assert!(status.success(), "{said:#?}");
    assert!(
        said.iter()
            .any(|l| l.contains("truncated or rewritten in place")),
        "{said:#?}"
    );
    assert!(
        said.iter()
            .any(|l| l.contains("set reloaded (generation 2)")),
        "{said:#?}"
    );
    assert!(
        said.iter()
            .any(|l| l.contains("packets captured") && l.contains("; set: generation ")),
        "stats lines carry the set's status: {said:#?}"
    );
    assert_eq!(
        said.last()
            .map(String::as_str)
            .unwrap_or("")
            .split(',')
            .next(),
        Some("set: generation 2")
    );
}

#[test]
fn sniff_as_another_user_repeats_a_refused_reload_in_every_stats_line() {
    if !is_root() {
        println!("skipped: dropping privileges needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The unprivileged user must reach the set's directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let set = dir.path().join("intel.tset");
    std::fs::write(&set, set_bytes(&["127.0.0.2"])).unwrap();
    let hits = dir.path().join("hits.jsonl");
    let mut child = sniff(&set, &hits, &["--user", "nobody"]);
    let err = line_reader(child.stderr.take().unwrap());
    until(&err, "capture start", |l| l.contains("capturing on lo"));
    hit_on(&hits, "127.0.0.2", 1);

    // A new set that only root may read, renamed into place.
    let tmp = dir.path().join("intel.tset.tmp");
    std::fs::write(&tmp, set_bytes(&["127.0.0.3"])).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::fs::rename(&tmp, &set).unwrap();
    let said = until(&err, "refusal", |l| l.contains("reload refused"));
    assert!(
        said.last().unwrap().contains("Permission denied"),
        "{said:#?}"
    );
    // Every stats line from now on says so, with the serving set's age.
    let stats = |l: &str| l.contains("packets captured");
    let lines = until(&err, "two stats lines", |l| stats(l))
        .into_iter()
        .chain(until(&err, "a second stats line", |l| stats(l)))
        .filter(|l| stats(l))
        .collect::<Vec<_>>();
    for l in &lines {
        assert!(
            l.contains("set: generation 1, ")
                && l.contains(" old; reload of ")
                && l.contains("refused since ")
                && l.contains("Permission denied"),
            "{l}"
        );
    }
    // The old set keeps serving.
    hit_on(&hits, "127.0.0.2", 1);
    signal(&child, libc::SIGINT);
    let status = wait(&mut child, PATIENCE);
    let rest: Vec<String> = err.try_iter().collect();
    assert!(status.success(), "{rest:#?}");
    let last = rest.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("set: generation 1, ") && last.contains("refused since "),
        "on exit: {rest:#?}"
    );
}
