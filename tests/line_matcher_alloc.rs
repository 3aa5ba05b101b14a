//! `LineMatcher::scan` allocates nothing for a line without hits (once its per-thread buffers
//! have grown), in plain text and JSON Lines, and the matcher can be shared between threads.
//! Its own test binary: the counting allocator sees every allocation of the process.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use trawl::{AlignedBytes, IndicatorSet};
use trawl::{CompileOptions, Exclusions, SetBuilder};
use trawl::{FeedOptions, read_text_feed};
use trawl::{LineMatcher, LineOptions, LogFormatOption};

/// Counts the allocations made by the current thread while `COUNTING` is set on it.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|a| a.set(a.get() + 1));
        }
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

fn set() -> IndicatorSet<AlignedBytes> {
    let feed = b"203.0.113.0/24\n2001:db8:bad::/48\nevil.example\nbad@evil.example\n\
http://evil.example/payload\nevil.example/gate.php\n\
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    read_text_feed(&feed[..], "feed", &FeedOptions::source("test"), &mut b).unwrap();
    IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap()
}

/// Lines full of tokens (addresses, names, URLs, emails, digests) none of which is in the set.
const MISSES: [&[u8]; 3] = [
    b"Jan  1 00:00:01 web-1 sshd[4242]: Failed password for root from 198.51.100.7 port 51022 ssh2",
    b"10.1.2.3 - - [01/Jan/2026:00:00:01 +0000] \"GET /a/b.html?x=1 HTTP/1.1\" 200 512 \"https://www.good.example/start\" \"Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0.6099.109\" user@good.example 2001:db8::1 d41d8cd98f00b204e9800998ecf8427e",
    b"named[77]: client @0x7f 192.0.2.1#53 (clean.example): query: clean.example IN A +E(0)",
];

const JSON_MISSES: [&[u8]; 2] = [
    br#"{"timestamp":"2026-01-01T00:00:01.000000+0000","event_type":"dns","src_ip":"192.0.2.10","dest_ip":"198.51.100.53","dns":{"rrname":"clean.example","answers":[{"rdata":"192.0.2.99"}]}}"#,
    br#"{"url":{"full":"https:\/\/www.good.example\/a?b=c"},"file":{"hash":{"md5":"d41d8cd98f00b204e9800998ecf8427e"}},"user":{"email":"x@good.example"}}"#,
];

#[test]
fn a_line_without_hits_allocates_nothing() {
    let set = set();
    for (format, lines) in [
        (LogFormatOption::Plain, &MISSES[..]),
        (LogFormatOption::JsonLines, &JSON_MISSES[..]),
    ] {
        let matcher = LineMatcher::new(
            &set,
            LineOptions {
                format,
                ..LineOptions::default()
            },
        );
        // Warm-up: per-thread buffers grow, field names are registered.
        for line in lines {
            assert_eq!(
                matcher.scan(line).count(),
                0,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
        let n = allocations(|| {
            for _ in 0..100 {
                for line in lines {
                    assert_eq!(matcher.scan(line).count(), 0);
                }
            }
        });
        assert_eq!(n, 0, "{format:?}: {n} allocations for lines without hits");
    }
    // The counter does see allocations: a hit is returned in a fresh vector.
    let matcher = LineMatcher::new(&set, LineOptions::default());
    let n = allocations(|| assert_eq!(matcher.scan(b"from 203.0.113.7").count(), 1));
    assert!(n > 0);
}

#[test]
fn a_line_with_hits_reports_them() {
    // The counterpart: the same kind of lines with listed values do hit (so the test above is
    // not passing because nothing is ever found).
    let set = set();
    let matcher = LineMatcher::new(&set, LineOptions::default());
    let line =
        b"from 203.0.113.7 to www.evil.example: http://evil.example/payload?x=1 bad@evil.example";
    let found: Vec<&[u8]> = matcher.scan(line).map(|h| &line[h.start..h.end]).collect();
    assert!(found.contains(&&b"203.0.113.7"[..]), "{found:?}");
    assert!(found.contains(&&b"www.evil.example"[..]), "{found:?}");
    assert!(found.contains(&&b"bad@evil.example"[..]), "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.starts_with(b"http://evil.example/payload")),
        "{found:?}"
    );
}

#[test]
fn the_matcher_is_shared_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    let set = set();
    let matcher = LineMatcher::new(&set, LineOptions::default());
    send_sync(&matcher);
    let line: &[u8] = b"conn 203.0.113.9 -> 192.0.2.1";
    let counts: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| (0..1000).map(|_| matcher.scan(line).count()).sum()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(counts, vec![1000; 4]);
}

#[test]
fn has_kind_names_exactly_the_kinds_of_the_set() {
    use trawl::Kind;
    let build = |feed: &[u8]| {
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        read_text_feed(feed, "feed", &FeedOptions::source("test"), &mut b).unwrap();
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap()
    };
    let ips = build(b"203.0.113.7\n198.51.100.0/24\n");
    let all = set();
    for kind in Kind::ALL {
        assert_eq!(ips.has_kind(kind), kind == Kind::Ipv4, "{kind:?}");
        let expected = !matches!(
            kind,
            Kind::Md5 | Kind::Sha1 | Kind::Sha512 | Kind::HttpRequest
        ) && !Kind::FINGERPRINTS.contains(&kind);
        assert_eq!(all.has_kind(kind), expected, "{kind:?}");
    }
    // An IP-only set still finds an address next to names, URLs and digests it skips.
    let matcher = LineMatcher::new(&ips, LineOptions::default());
    let line = b"GET http://evil.example/x from 198.51.100.9 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let found: Vec<&[u8]> = matcher.scan(line).map(|h| &line[h.start..h.end]).collect();
    assert_eq!(found, [&b"198.51.100.9"[..]]);
}

#[test]
fn names_ending_in_labels_no_indicator_ends_in_are_skipped_exactly() {
    let set = set();
    assert!(set.may_match_domain(b"www.evil.example"));
    assert!(set.may_match_domain(b"other.example"));
    assert!(!set.may_match_domain(b"index.html"));
    assert!(!set.may_match_domain(b"jquery.min.js"));
    // Sets built before the labels were recorded answer `true` (META without the field).
    let meta: trawl::SetMeta = serde_json::from_str(
        r#"{"trawl_version":"0.1.0","format_version":1,"build_time":0,"indicators":{},
            "sources":[],"inputs":[],"options":"","rejected":0,"suppressed":0}"#,
    )
    .unwrap();
    assert_eq!(meta.domain_tlds, None);
    // A set with a name under `.html` does look `.html` names up.
    let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
    read_text_feed(
        &b"evil.html\n"[..],
        "feed",
        &FeedOptions::source("t"),
        &mut b,
    )
    .unwrap();
    let html =
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap();
    let matcher = LineMatcher::new(&html, LineOptions::default());
    let line = b"GET /index.html from cdn.evil.html";
    let found: Vec<&[u8]> = matcher.scan(line).map(|h| &line[h.start..h.end]).collect();
    assert_eq!(found, [&b"cdn.evil.html"[..]]);
}
