//! Packet-scan throughput on a large capture with a realistic mix, next to the limits: a
//! read-only pass over the same memory-mapped file (frame iteration only) and libpcap's own
//! offline reader. Rounds alternate so the ratios survive a noisy machine.
//!
//! Run: `cargo bench --bench pcap_scan`. Inputs (generated under `target/bench-data/` when
//! absent): `TRAWL_PCAP` (default: a 1 GiB `gen-pcap` mix), `TRAWL_SET` (default: 1M synthetic
//! indicators shaped like sensor blocklists — `gen-feed sensor` — whose domains and addresses
//! the mix uses for ~0.5 % of sessions).
//! `TRAWL_BENCH_ROUNDS` (default 3).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use memmap2::Mmap;
use trawl::testing::capture::CaptureFile;
use trawl::{Hit, HitSink, SetVersion};
use trawl::{Progress, ScanOptions};

/// Counts hits and drops them (the sink is not what is measured).
struct Discard;

impl HitSink<Mmap> for Discard {
    fn write(&mut self, _: &Hit<std::sync::Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn inputs() -> (PathBuf, PathBuf) {
    let dir = common::data_dir();
    let (feed, set) = common::sensor_feed_and_set();
    let pcap = std::env::var_os("TRAWL_PCAP")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let pcap = dir.join("mix-1g-sensor.pcap");
            if !pcap.exists() {
                let status = Command::new(common::tool("gen-pcap"))
                    .arg(&pcap)
                    .arg("1024")
                    .arg("--hits-from")
                    .arg(&feed)
                    .status()
                    .unwrap();
                assert!(status.success());
            }
            pcap
        });
    (set, pcap)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let (set, pcap) = inputs();
    let rounds: usize = std::env::var("TRAWL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let file = CaptureFile::open(&pcap).unwrap();
    let frames = file.frames().filter(|f| f.is_ok()).count() as f64;
    let bytes = std::fs::metadata(&pcap).unwrap().len() as f64;
    println!(
        "{}: {} frames, {:.0} MB; set {}",
        pcap.display(),
        frames,
        bytes / 1e6,
        set.display()
    );
    let mut read_only = Vec::new();
    let mut libpcap = Vec::new();
    let mut scans: Vec<Vec<f64>> = vec![Vec::new(); cores];
    let mut hits = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut sum = 0u64;
        for f in CaptureFile::open(&pcap).unwrap().frames().flatten() {
            sum = sum.wrapping_add(
                f.data.len() as u64 + u64::from(f.data.first().copied().unwrap_or(0)),
            );
        }
        std::hint::black_box(sum);
        read_only.push(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut cap = pcap::Capture::from_file(&pcap).unwrap();
        let mut n = 0u64;
        while let Ok(p) = cap.next_packet() {
            n += u64::from(p.data.first().copied().unwrap_or(0)) + 1;
        }
        std::hint::black_box(n);
        libpcap.push(t.elapsed().as_secs_f64());

        for (w, times) in scans.iter_mut().enumerate() {
            let opts = ScanOptions {
                workers: w + 1,
                ..ScanOptions::default()
            };
            let out = trawl::scan_files(
                &set,
                std::slice::from_ref(&pcap),
                &opts,
                Discard,
                &AtomicBool::new(false),
                None,
                &Progress::default(),
            )
            .unwrap();
            assert_eq!(out.stats.frames as f64, frames);
            hits = out.stats.hits;
            times.push(out.elapsed.as_secs_f64());
        }
    }
    let rate = |secs: f64| (frames / secs / 1e6, bytes * 8.0 / secs / 1e9);
    let ro = median(read_only);
    let (ro_mpps, ro_gbps) = rate(ro);
    println!("{rounds} rounds, medians; {hits} hits per scan");
    println!("  read-only pass (mmap, frames only)   {ro_mpps:>7.2} Mpps {ro_gbps:>7.2} Gbps");
    let (lp_mpps, lp_gbps) = rate(median(libpcap));
    println!("  libpcap offline reader               {lp_mpps:>7.2} Mpps {lp_gbps:>7.2} Gbps");
    for (w, times) in scans.into_iter().enumerate() {
        let secs = median(times);
        let (mpps, gbps) = rate(secs);
        println!(
            "  trawl scan, {} worker(s)              {mpps:>7.2} Mpps {gbps:>7.2} Gbps  {:.2}x the read-only time",
            w + 1,
            secs / ro
        );
    }
}
