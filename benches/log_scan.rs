//! Log-scan throughput on generated logs (nginx/syslog text and Suricata-EVE-like JSON) against
//! a 1M-indicator set, next to the floor and a naive baseline, in alternating rounds so the
//! ratios survive a noisy machine:
//!
//! * a `memchr` line count over the same memory-mapped file (the floor: every byte read once);
//! * the naive way: each line on its own through `IndicatorSet::scan_text` (text), or parsed
//!   with `serde_json` and every string value through `scan_text` (JSON);
//! * tokenising only: the JSON walker (for JSON) and the free-text extractor over every value,
//!   no lookups — what the scan costs before it touches the set;
//! * `trawl scan logs` (`trawl::scan_logs`, counting mode) with 1..=cores workers.
//!
//! Run: `cargo bench --bench log_scan`. Inputs (generated under `target/bench-data/` when
//! absent): `TRAWL_SET` (default: 1M `gen-feed sensor` indicators), `TRAWL_LOG_MB` MiB of each
//! format (default 256) from `gen-logs --hits-from` the same feed; `TRAWL_BENCH_ROUNDS`
//! (default 3). The 1 GiB comparison with ripgrep is `tools/bench-logs.sh`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use memmap2::Mmap;
use serde_json::Value;
use trawl::IndicatorSet;
use trawl::testing::extract::Extractor;
use trawl::{LogDecoder as Decoder, LogFormat};
use trawl::{LogInput, LogOptions, OutputMode, scan_logs};

fn inputs() -> (PathBuf, [PathBuf; 2]) {
    let dir = common::data_dir();
    let (feed, set) = common::sensor_feed_and_set();
    let mb = std::env::var("TRAWL_LOG_MB").unwrap_or_else(|_| "256".into());
    let logs = ["plain", "json"].map(|kind| {
        let path = dir.join(format!("{kind}-{mb}.log"));
        if !path.exists() {
            let ok = Command::new(common::tool("gen-logs"))
                .arg(kind)
                .arg(&path)
                .arg(&mb)
                .arg("--hits-from")
                .arg(&feed)
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }
        path
    });
    (set, logs)
}

/// Reads files through the page cache: every timed pass warms its inputs first, since this
/// kind of VM reclaims idle page cache within seconds and the scan, not the disk, is measured.
fn warm(files: &[&Path]) {
    for f in files {
        std::hint::black_box(std::fs::read(f).unwrap().len());
    }
}

/// The lines of `data` (without their `\n`), found with `memchr` so that splitting costs the
/// baselines no more than it costs trawl.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', data)
        .chain(std::iter::once(data.len()))
        .map(move |end| {
            let line = &data[start.min(end)..end];
            start = end + 1;
            line
        })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn map(path: &Path) -> Mmap {
    // SAFETY: a generated file nobody modifies during the benchmark.
    unsafe { Mmap::map(&std::fs::File::open(path).unwrap()).unwrap() }
}

/// The naive baseline: every line on its own, free text through `scan_text`, JSON parsed with
/// serde_json and each string value through `scan_text`. Returns the number of hits.
fn naive<D: AsRef<[u8]>>(set: &IndicatorSet<D>, data: &[u8], json: bool) -> u64 {
    fn strings<D: AsRef<[u8]>>(set: &IndicatorSet<D>, v: &Value, hits: &mut u64) {
        match v {
            Value::String(s) => *hits += trawl::scan_text(set, s.as_bytes()).len() as u64,
            Value::Array(a) => a.iter().for_each(|v| strings(set, v, hits)),
            Value::Object(o) => o.values().for_each(|v| strings(set, v, hits)),
            _ => {}
        }
    }
    let mut hits = 0;
    for line in lines(data) {
        if json {
            if let Ok(v) = serde_json::from_slice::<Value>(line) {
                strings(set, &v, &mut hits);
            }
        } else {
            hits += trawl::scan_text(set, line).len() as u64;
        }
    }
    hits
}

/// Tokenising alone: every line through the format's walker and every value through the
/// free-text extractor, nothing looked up. Returns the number of tokens.
fn tokenise(data: &[u8], json: bool) -> u64 {
    let extractor = Extractor::default();
    let mut decoder = Decoder::new(if json {
        LogFormat::JsonLines
    } else {
        LogFormat::Plain
    });
    let mut tokens = 0;
    for line in lines(data) {
        let _ = decoder.line(line, |v| tokens += extractor.tokens(v.raw).count() as u64);
    }
    tokens
}

fn main() {
    let (set_path, logs) = inputs();
    let set = IndicatorSet::open(&set_path).unwrap();
    let rounds: usize = std::env::var("TRAWL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("set {}; {rounds} rounds, medians", set_path.display());
    for (log, json) in logs.iter().zip([false, true]) {
        let bytes = std::fs::metadata(log).unwrap().len() as f64;
        let mut count = Vec::new();
        let mut baseline = Vec::new();
        let mut tokenising = Vec::new();
        let mut scans: Vec<Vec<f64>> = vec![Vec::new(); cores];
        let (mut lines, mut naive_hits, mut hits, mut tokens) = (0, 0, 0, 0);
        for _ in 0..rounds {
            warm(&[log]);
            let t = Instant::now();
            let m = map(log);
            lines = memchr::memchr_iter(b'\n', &m).count();
            count.push(t.elapsed().as_secs_f64());

            warm(&[log]);
            let t = Instant::now();
            tokens = tokenise(&map(log), json);
            tokenising.push(t.elapsed().as_secs_f64());

            warm(&[log, &set_path]);
            let t = Instant::now();
            naive_hits = naive(&set, &map(log), json);
            baseline.push(t.elapsed().as_secs_f64());

            for (w, times) in scans.iter_mut().enumerate() {
                let opts = LogOptions {
                    workers: w + 1,
                    mode: OutputMode::Count,
                    ..LogOptions::default()
                };
                let input = [LogInput::Path(log.clone())];
                warm(&[log, &set_path]);
                let out = scan_logs(
                    &set,
                    &input,
                    &opts,
                    std::io::sink(),
                    &AtomicBool::new(false),
                )
                .unwrap();
                hits = out.total().hits;
                times.push(out.elapsed.as_secs_f64());
            }
        }
        let gbs = |secs: f64| bytes / secs / 1e9;
        let floor = median(count);
        println!(
            "{}: {lines} lines, {:.0} MB; {hits} hits (naive: {naive_hits})",
            log.display(),
            bytes / 1e6
        );
        println!(
            "  memchr line count (floor)          {:>7.3} GB/s",
            gbs(floor)
        );
        let tok = median(tokenising);
        println!(
            "  tokenising only ({tokens} tokens)   {:>7.3} GB/s  (one core)",
            gbs(tok)
        );
        let base = median(baseline);
        println!(
            "  naive per line ({})   {:>7.3} GB/s",
            if json {
                "serde_json+scan_text"
            } else {
                "scan_text      "
            },
            gbs(base)
        );
        for (w, times) in scans.into_iter().enumerate() {
            let secs = median(times);
            println!(
                "  trawl scan logs, {} worker(s)       {:>7.3} GB/s  {:>5.2}x naive  {:>5.1}x the floor's time",
                w + 1,
                gbs(secs),
                base / secs,
                secs / floor
            );
        }
    }
}
