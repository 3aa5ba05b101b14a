//! Counts the lines of files with `memchr` over a memory map: the floor for any line-oriented
//! scan (it reads every byte once and does nothing else), timed for BENCHMARKS.md.
//!
//! ```text
//! line-count FILE...
//! ```

use std::fs::File;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: line-count FILE...");
        std::process::exit(2);
    }
    let start = Instant::now();
    let (mut lines, mut bytes) = (0u64, 0u64);
    for f in &files {
        let file = File::open(f)?;
        if file.metadata()?.len() == 0 {
            continue;
        }
        // SAFETY: read-only map of a file nobody truncates during the count.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        lines += memchr::memchr_iter(b'\n', &map).count() as u64;
        bytes += map.len() as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{lines} lines, {bytes} bytes in {secs:.3} s: {:.2} GB/s",
        bytes as f64 / secs / 1e9
    );
    Ok(())
}
