//! `IndicatorSet` on arbitrary bytes: opening either refuses with an error or yields a set
//! whose every lookup, `prepare` and `verify` return without panicking. Seed the corpus with
//! `cargo test --test fuzz_seeds -- --ignored` (from nothing, inputs never pass the header).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::{AlignedBytes, IndicatorSet};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = IndicatorSet::from_bytes(AlignedBytes::copy_from(data)) else {
        return;
    };
    for ip in ["203.0.113.7", "10.1.1.1", "2001:db8::1", "::ffff:1.2.3.4"] {
        if let Some(h) = set.match_ip(ip.parse().unwrap()) {
            if let Some(i) = set.indicator(h.indicator) {
                let _ = (i.value(), i.provenance().count());
            }
        }
    }
    let _ = set.match_domain("a.b.evil.example.com");
    let _ = set.match_email("x@evil.example");
    let _ = set.match_hash(&[0u8; 32]);
    let _ = set.match_url("http://evil.example/a");
    let _ = set.match_http(b"GET /x HTTP/1.1");
    let _ = trawl::scan_text(&set, b"GET http://evil.example/gate.php from 203.0.113.7 bad@evil.example");
    let _ = set.prepare();
    let _ = set.meta();
    let _ = set.verify();
    let _ = set.ipv4_ranges().take(1 << 21).count();
    let _ = set.ipv6_ranges().take(1 << 21).count();
});
