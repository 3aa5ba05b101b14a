//! Measures the latency of dependent random loads over a working set (a pointer chase through a
//! shuffled cycle), with and without transparent huge pages: the floor under any lookup that
//! misses the cache on this machine.
//!
//! ```text
//! mem-latency [MEGABYTES...]      default: 1 16 256
//! ```

use std::time::Instant;

use rand::seq::SliceRandom;

fn chase(bytes: usize, huge: bool) -> f64 {
    let n = bytes / 8;
    let mut map = memmap2::MmapMut::map_anon(n * 8).expect("anonymous map");
    if huge {
        let _ = map.advise(memmap2::Advice::HugePage);
    }
    let next: &mut [u64] = bytemuck_cast(&mut map);
    // One random cycle through every slot.
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut trawl_tools::rng(1));
    for w in order.windows(2) {
        next[w[0]] = w[1] as u64;
    }
    next[order[n - 1]] = order[0] as u64;
    let steps = 5_000_000;
    let mut p = 0usize;
    let t = Instant::now();
    for _ in 0..steps {
        p = next[p] as usize;
    }
    std::hint::black_box(p);
    t.elapsed().as_nanos() as f64 / steps as f64
}

fn bytemuck_cast(map: &mut memmap2::MmapMut) -> &mut [u64] {
    let len = map.len() / 8;
    // SAFETY: an anonymous mapping is page-aligned and `len * 8` bytes long; u64 has no
    // invalid bit patterns.
    unsafe { std::slice::from_raw_parts_mut(map.as_mut_ptr().cast::<u64>(), len) }
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1, 16, 256]
    } else {
        sizes
    };
    for mb in sizes {
        for huge in [false, true] {
            println!(
                "{mb:>5} MB  huge pages {:<5}  {:>6.1} ns per dependent load",
                huge,
                chase(mb << 20, huge)
            );
        }
    }
}
