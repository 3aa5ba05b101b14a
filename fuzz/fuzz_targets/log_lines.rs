//! Log lines on arbitrary bytes, in every format: the free-text extractor, the JSON, Zeek and
//! CSV walkers (through `Decoder`, header lines included) and the `LineMatcher` never panic;
//! every value and every token lies inside its line, and every hit's span does too.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trawl::{CompileOptions, Exclusions, SetBuilder};
use trawl::testing::detect_log_format as detect;
use trawl::{LogDecoder as Decoder, LogFormat};
use trawl::testing::extract::{Extractor, Options};
use trawl::{FeedOptions, read_text_feed};
use trawl::{LineMatcher, LineOptions};
use trawl::{AlignedBytes, IndicatorSet};

/// A small set with one indicator of each kind the extractor finds.
fn set() -> &'static IndicatorSet<AlignedBytes> {
    static SET: OnceLock<IndicatorSet<AlignedBytes>> = OnceLock::new();
    SET.get_or_init(|| {
        let feed = b"198.51.100.0/24\n2001:db8::/32\nevil.example\nbad@evil.example\n\
http://evil.example/payload\nevil.example/gate.php\n\
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n";
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        read_text_feed(&feed[..], "fuzz", &FeedOptions::source("fuzz"), &mut b).unwrap();
        let bytes = b.build().unwrap().0.finish(0);
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&bytes)).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    for defanged in [false, true] {
        for t in Extractor::new(Options { defanged }).tokens(data) {
            assert!(t.start <= t.end && t.end <= data.len());
        }
    }
    let set = set();
    let matcher = LineMatcher::new(set, LineOptions::default());
    let _ = detect(data, None);
    for format in LogFormat::ALL {
        let mut decoder = Decoder::new(format);
        let mut hits = Vec::new();
        for line in data.split_inclusive(|&b| b == b'\n') {
            let _ = decoder.clone().line(line, |v| {
                assert_eq!(&line[v.start..v.end()], v.raw);
            });
            hits.clear();
            let _ = matcher.scan_record(line, &mut decoder, &mut hits);
            for h in &hits {
                assert!(h.start <= h.end && h.end <= line.len());
            }
        }
    }
});
