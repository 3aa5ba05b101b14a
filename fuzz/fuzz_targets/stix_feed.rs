//! STIX bundle ingest on arbitrary bytes: never panics, never errors on in-memory input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::{FeedOptions, StixIngest};
use trawl::VecCollector;

fuzz_target!(|data: &[u8]| {
    let mut c = VecCollector::default();
    let mut s = StixIngest::new(true);
    s.read(data, "fuzz.json", &FeedOptions::source("fuzz"), &mut c).unwrap();
    s.finish(&mut c);
});
