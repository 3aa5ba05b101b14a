//! The TAXII feed store's merge: pages of pulled objects merged into a feed's stored bundle
//! with [`StixBundle`] (an index of id hashes; objects stream through a scratch file) against
//! the naive way (every object parsed and kept in a map until the bundle is written, which is
//! what trawl did before). Both run in alternating rounds in one process on the same pages;
//! the report gives, per variant, the median time, objects per second and the peak heap
//! above what the pages themselves take, then the cost of an incremental pull (one new page
//! merged into the stored collection). Both variants must store the same ids.
//!
//! Run: `cargo bench --bench feed_store` (`TRAWL_BENCH_N` objects, default 200,000;
//! `TRAWL_BENCH_ROUNDS`, default 3).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value as Json, json};
use trawl::testing::bundle::{BUNDLE, StixBundle};

mod common;
use common::env;

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only adds counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PAGE: usize = 1000;

/// TAXII pages as a server sends them: N indicators of mixed pattern types, 1 in 10 of them
/// again in a later version, 1 in 50 revoked.
fn pages(n: usize, first_id: usize) -> Vec<Vec<u8>> {
    let ts = |s: usize| {
        chrono::DateTime::from_timestamp(1_767_225_600 + s as i64, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    let object = |i: usize, version: usize| {
        let pattern = match i % 4 {
            0 => format!("[domain-name:value = 'host{i}.evil.example']"),
            1 => format!(
                "[ipv4-addr:value = '10.{}.{}.{}']",
                i >> 16 & 255,
                i >> 8 & 255,
                i & 255
            ),
            2 => format!("[url:value = 'http://evil.example/p{i}']"),
            _ => format!("[file:hashes.'SHA-256' = '{:064x}']", i),
        };
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": format!("indicator--{i:08x}-0000-4000-8000-{i:012x}"),
            "created": ts(0), "modified": ts(version), "valid_from": ts(0),
            "pattern_type": "stix", "pattern": pattern, "confidence": 70,
            "revoked": i % 50 == 49 && version > 0,
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            "description": "synthetic indicator for the feed store benchmark",
        })
    };
    let mut objects: Vec<Json> = (first_id..first_id + n).map(|i| object(i, 0)).collect();
    objects.extend(
        (first_id..first_id + n)
            .filter(|i| i % 10 == 9)
            .map(|i| object(i, 1)),
    );
    objects
        .chunks(PAGE)
        .map(|c| serde_json::to_vec(&json!({"more": true, "objects": c})).unwrap())
        .collect()
}

fn page_objects(page: &[u8]) -> Vec<Json> {
    let mut doc: Json = serde_json::from_slice(page).unwrap();
    match doc["objects"].take() {
        Json::Array(a) => a,
        _ => Vec::new(),
    }
}

/// trawl's store: a page at a time through [`StixBundle`].
fn merge_streaming(dir: &Path, pages: &[Vec<u8>]) {
    let mut store = StixBundle::open(dir).unwrap();
    for page in pages {
        for o in page_objects(page) {
            store.merge(&o).unwrap();
        }
    }
    store.save().unwrap();
}

/// The naive store: every object kept parsed until the bundle is written.
fn merge_naive(dir: &Path, pages: &[Vec<u8>]) {
    let path = dir.join(BUNDLE);
    let mut objects: BTreeMap<String, Json> = match std::fs::read(&path) {
        Ok(b) => {
            let doc: Json = serde_json::from_slice(&b).unwrap();
            doc["objects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| (o["id"].as_str().unwrap().to_string(), o.clone()))
                .collect()
        }
        Err(_) => BTreeMap::new(),
    };
    let version = |o: &Json| {
        (
            o["modified"].as_str().unwrap_or("").to_string(),
            o["revoked"] == true,
        )
    };
    for page in pages {
        for o in page_objects(page) {
            let id = o["id"].as_str().unwrap().to_string();
            let replace = objects.get(&id).is_none_or(|old| {
                let ((old_t, old_r), (new_t, new_r)) = (version(old), version(&o));
                !old_r && (new_r || new_t > old_t)
            });
            if replace {
                objects.insert(id, o);
            }
        }
    }
    let bundle = json!({"type": "bundle", "id": "bundle--0", "objects": objects.values().collect::<Vec<_>>()});
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
}

/// The ids a stored bundle holds, with their revocation.
fn stored(dir: &Path) -> BTreeSet<(String, bool)> {
    let doc: Json = serde_json::from_slice(&std::fs::read(dir.join(BUNDLE)).unwrap()).unwrap();
    doc["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap().to_string(), o["revoked"] == true))
        .collect()
}

/// Runs `f`, returning seconds and the peak heap above the heap live before it.
fn measure(f: impl FnOnce()) -> (f64, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    f();
    (
        t.elapsed().as_secs_f64(),
        PEAK.load(Ordering::Relaxed) - base,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let n = env("TRAWL_BENCH_N", 200_000);
    let rounds = env("TRAWL_BENCH_ROUNDS", 3);
    let first = pages(n, 0);
    let next = pages(PAGE, n);
    let objects: usize = first.iter().map(|p| page_objects(p).len()).sum();
    let bytes: usize = first.iter().map(Vec::len).sum();
    println!(
        "feed store: {n} ids, {objects} objects in {} pages of {PAGE} ({:.0} MiB of JSON); {rounds} rounds",
        first.len(),
        bytes as f64 / (1 << 20) as f64
    );
    type Merge = fn(&Path, &[Vec<u8>]);
    let variants: [(&str, Merge); 2] = [
        ("StixBundle (trawl)", merge_streaming),
        ("map of parsed objects (naive)", merge_naive),
    ];
    let mut first_t = [vec![], vec![]];
    let mut next_t = [vec![], vec![]];
    let mut peak = [0usize; 2];
    let mut next_peak = [0usize; 2];
    let mut results = [BTreeSet::new(), BTreeSet::new()];
    for _ in 0..rounds {
        for (i, (_, merge)) in variants.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let (t, p) = measure(|| merge(dir.path(), &first));
            first_t[i].push(t);
            peak[i] = peak[i].max(p);
            let (t, p) = measure(|| merge(dir.path(), &next));
            next_t[i].push(t);
            next_peak[i] = next_peak[i].max(p);
            results[i] = stored(dir.path());
        }
    }
    assert_eq!(results[0], results[1], "both variants store the same ids");
    assert_eq!(results[0].len(), n + PAGE);
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "{:<30} {:>9} {:>12} {:>10} | {:>11} {:>10}",
        "variant", "first s", "objects/s", "peak MiB", "next page s", "peak MiB"
    );
    for (i, (name, _)) in variants.iter().enumerate() {
        let t = median(first_t[i].clone());
        println!(
            "{name:<30} {t:>9.3} {:>12.0} {:>10.1} | {:>11.3} {:>10.1}",
            objects as f64 / t,
            mib(peak[i]),
            median(next_t[i].clone()),
            mib(next_peak[i])
        );
    }
    let ratio = |a: &[Vec<f64>; 2]| {
        median(
            a[1].iter()
                .zip(&a[0])
                .map(|(naive, ours)| naive / ours)
                .collect(),
        )
    };
    println!(
        "naive/trawl: first pull time {:.2}x, peak heap {:.1}x; next page time {:.2}x, peak heap {:.1}x",
        ratio(&first_t),
        peak[1] as f64 / peak[0] as f64,
        ratio(&next_t),
        next_peak[1] as f64 / next_peak[0] as f64
    );
}
