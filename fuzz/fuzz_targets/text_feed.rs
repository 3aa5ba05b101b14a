//! Plain-list / CSV ingest on arbitrary bytes: never panics; every line is accounted for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::{FeedOptions, read_text_feed};
use trawl::VecCollector;

fuzz_target!(|data: &[u8]| {
    let mut c = VecCollector::default();
    read_text_feed(data, "fuzz.txt", &FeedOptions::source("fuzz"), &mut c).unwrap();
    let lines = data.split(|&b| b == b'\n').count() as u64;
    for (_, _, at) in &c.accepted {
        if let trawl::Location::Line { line, .. } = at {
            assert!(*line <= lines);
        }
    }
});
