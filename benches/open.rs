//! Opening a set file from disk (memory map + header and bounds checks) at growing sizes: the
//! cost must not grow with the set.
//!
//! Run: `cargo bench --bench open`.

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};

use trawl::Exclusions;
use trawl::IndicatorSet;
use trawl::{CompileOptions, SetBuilder};
use trawl::{FeedSpec, ingest_feeds};

fn open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("open");
    for n in [1_000usize, 100_000, 1_000_000] {
        let feed = dir.path().join(format!("mixed-{n}.txt"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(&feed).unwrap());
        trawl_tools::mixed_lines(n, 12, |l| writeln!(f, "{l}").unwrap());
        drop(f);
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        ingest_feeds(&[FeedSpec::new(&feed)], &mut b).unwrap();
        let path = dir.path().join(format!("mixed-{n}.tset"));
        b.write(&path).unwrap();
        let bytes = std::fs::metadata(&path).unwrap().len();
        eprintln!("open: {n} indicators, {bytes} bytes");
        g.bench_function(format!("open_{n}"), |bch| {
            bch.iter(|| IndicatorSet::open(black_box(&path)).unwrap().len())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = open
}
criterion_main!(benches);
