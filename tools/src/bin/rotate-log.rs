//! Writes numbered lines to a log and rotates it fast, as logrotate does (`rotate 2`: `.1` →
//! `.2`, the file → `.1`, a new file), to measure what a follower loses: every line is
//! `n SEQ from 203.0.113.7`, so a follower's output tells which lines it saw.
//!
//! ```text
//! rotate-log PATH EVERY_MS SECONDS     prints: LINES lines, ROTATIONS rotations
//! ```
//!
//! Lines come in bursts of 5 every millisecond (about 5,000 a second).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(every), Some(secs)) = (
        args.get(1).map(PathBuf::from),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
        args.get(3).and_then(|s| s.parse::<f64>().ok()),
    ) else {
        eprintln!("usage: rotate-log PATH EVERY_MS SECONDS");
        std::process::exit(2);
    };
    let open =
        || -> std::io::Result<File> { OpenOptions::new().create(true).append(true).open(&path) };
    let rotated = |k: u32| PathBuf::from(format!("{}.{k}", path.display()));
    let every = Duration::from_millis(every);
    let run = Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut next_rotation = start + every;
    let mut log = open()?;
    let (mut n, mut rotations) = (0u64, 0u64);
    while start.elapsed() < run {
        for _ in 0..5 {
            log.write_all(format!("n {n} from 203.0.113.7\n").as_bytes())?;
            n += 1;
        }
        if Instant::now() >= next_rotation {
            let _ = std::fs::rename(rotated(1), rotated(2));
            std::fs::rename(&path, rotated(1))?;
            log = open()?;
            rotations += 1;
            // Never faster than `every`, even after a stall (a burst of rotations would delete
            // files as fast as they come).
            next_rotation = Instant::now() + every;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    println!("{n} lines, {rotations} rotations");
    Ok(())
}
