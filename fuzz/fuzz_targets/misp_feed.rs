//! The MISP event reader on arbitrary bytes: never panics, and every accepted value comes
//! with the attribute it was read from.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use trawl::{FeedOptions, read_misp_feed};
use trawl::{Location, VecCollector};

fuzz_target!(|data: &[u8]| {
    for all_attributes in [false, true] {
        let opts = FeedOptions {
            all_attributes,
            ..FeedOptions::source("fuzz")
        };
        let mut c = VecCollector::default();
        read_misp_feed(data, &Arc::from("fuzz.json"), &opts, &mut c).unwrap();
        for (_, _, at) in &c.accepted {
            assert!(matches!(at, Location::Object { .. }));
        }
    }
});
