//! The flow table stays within its memory cap under a SYN flood and with a million concurrent
//! connections holding data, measured by the allocator (its own test binary: the counting
//! allocator sees every allocation of the process).

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use trawl::testing::FlowKey;
use trawl::testing::app::stream::StreamParser;
use trawl::testing::flow_table::{ACK, FlowLimits, FlowTable, SYN};

/// Tracks the bytes live on the heap, and their peak.
struct Tracking;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if new > layout.size() {
            grew(new - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

fn key(n: u32) -> FlowKey {
    let src = IpAddr::from((0x0a00_0000u32 + n).to_be_bytes());
    FlowKey::new(
        src,
        40000 + (n % 20000) as u16,
        "192.0.2.1".parse().unwrap(),
        443,
        6,
    )
}

/// Runs `f` and returns the peak heap growth above what was live before it.
fn peak_growth(f: impl FnOnce()) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    f();
    PEAK.load(Ordering::Relaxed) - before
}

// One test function: the measurements must not overlap with another test's allocations.
#[test]
fn the_flow_table_stays_within_its_memory_cap() {
    const MEMCAP: usize = 64 << 20;
    let limits = FlowLimits {
        memcap: MEMCAP,
        ..FlowLimits::default()
    };

    // A SYN flood: a million half-open connections from distinct sources.
    let mut stats = None;
    let growth = peak_growth(|| {
        let mut t: FlowTable<()> = FlowTable::new(limits);
        for n in 0..1_000_000u32 {
            t.segment(0, key(n), true, i64::from(n), n, SYN, &[], |_| ());
        }
        stats = Some(t.stats.clone());
    });
    let stats = stats.unwrap();
    println!("SYN flood: peak heap growth {growth} bytes, cap {MEMCAP}; {stats:?}");
    assert!(
        growth <= MEMCAP + MEMCAP / 8,
        "SYN flood: {growth} bytes at peak"
    );
    assert!(stats.memcap_evicted > 500_000, "{stats:?}");

    // A million concurrent connections, each with a request head in flight and a segment
    // waiting past a hole (the most a connection holds without its parser consuming).
    let mut stats = None;
    let growth = peak_growth(|| {
        let mut t: FlowTable<()> = FlowTable::new(limits);
        let head = [b'x'; 200];
        for n in 0..1_000_000u32 {
            let k = key(n);
            t.segment(0, k, true, i64::from(n), 1000, SYN, &[], |_| ());
            t.segment(0, k, true, i64::from(n), 1001, ACK, &head, |_| ());
            t.segment(0, k, true, i64::from(n), 1501, ACK, &head, |_| ());
        }
        stats = Some(t.stats.clone());
    });
    let stats = stats.unwrap();
    println!("1M connections: peak heap growth {growth} bytes, cap {MEMCAP}; {stats:?}");
    assert!(
        growth <= MEMCAP + MEMCAP / 8,
        "1M connections: {growth} bytes at peak"
    );
    assert_eq!(stats.created, 1_000_000);
    assert!(
        stats.memcap_evicted > 0 && stats.evicted_with_data > 0,
        "{stats:?}"
    );

    // TLS servers that each send a ServerHello and most of a 60 KB Certificate message: the
    // handshake bytes their parsers join count against the cap too.
    let mut hs = vec![2, 0, 0, 38, 3, 3];
    hs.extend_from_slice(&[9; 32]);
    hs.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
    hs.extend_from_slice(&[11, 0, 0xea, 0x60, 0, 0xea, 0x5d]);
    hs.resize(hs.len() + 48_000, 0x30);
    let records: Vec<Vec<u8>> = hs
        .chunks(16_000)
        .map(|c| [&[22, 3, 3][..], &(c.len() as u16).to_be_bytes(), c].concat())
        .collect();
    let mut stats = None;
    let growth = peak_growth(|| {
        let mut t: FlowTable<StreamParser> = FlowTable::new(limits);
        for n in 0..4_000u32 {
            let k = key(n);
            let mut seq = 1000;
            t.segment(0, k, false, i64::from(n), seq, SYN | ACK, &[], |_| {
                StreamParser::new(false, 443)
            });
            seq += 1;
            // The last, empty segment accounts what the parser joined from the one before.
            for r in records.iter().map(Vec::as_slice).chain([&b""[..]]) {
                let d = t.segment(0, k, false, i64::from(n), seq, ACK, r, |_| {
                    StreamParser::new(false, 443)
                });
                seq += r.len() as u32;
                if let Some(dir) = d.direction {
                    let used = dir.app.parse(dir.stream.data(), &mut |_| {});
                    dir.stream.consume(used);
                }
            }
        }
        stats = Some(t.stats.clone());
    });
    let stats = stats.unwrap();
    println!("4,000 TLS servers: peak heap growth {growth} bytes, cap {MEMCAP}; {stats:?}");
    assert!(
        growth <= MEMCAP + MEMCAP / 4,
        "TLS servers: {growth} bytes at peak"
    );
    assert!(stats.memcap_evicted > 0, "{stats:?}");
}
