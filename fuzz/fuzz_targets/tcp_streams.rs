//! TCP reassembly and the stream parsers on arbitrary segment sequences: the input is a list
//! of segments (direction, flags, sequence offset, payload) of one connection, fed through a
//! flow table as the worker feeds it, each direction's bytes handed to its parser. Nothing
//! panics, no direction holds more than its depth, a parser never claims more bytes than it
//! was given, and the table stays within its memory cap.
#![no_main]

use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use trawl::testing::FlowKey;
use trawl::testing::app::stream::StreamParser;
use trawl::testing::flow_table::{FlowLimits, FlowTable, RST};
use trawl::testing::reassembly::Limits;

const LIMITS: Limits = Limits {
    depth: 4096,
    pending: 2048,
};

fuzz_target!(|data: &[u8]| {
    let Some((isn, mut rest)) = data.split_first_chunk::<4>() else {
        return;
    };
    let isn = u32::from_le_bytes(*isn);
    let client: IpAddr = "192.0.2.1".parse().unwrap();
    let server: IpAddr = "198.51.100.2".parse().unwrap();
    let key = FlowKey::new(client, 40000, server, 443, 6);
    let from_client_first = key.sent_by_first(client, 40000);
    let mut table: FlowTable<StreamParser> = FlowTable::new(FlowLimits {
        memcap: 1 << 20,
        stream: LIMITS,
        ..FlowLimits::default()
    });
    let mut ts = 0i64;
    // Segment header: direction and flags (1), sequence offset (2), length (1).
    while let Some((h, tail)) = rest.split_first_chunk::<4>() {
        let len = usize::from(h[3]).min(tail.len());
        let (payload, after) = tail.split_at(len);
        rest = after;
        let to_server = h[0] & 0x80 == 0;
        let flags = h[0] & 0x3f;
        let seq = isn.wrapping_add(u32::from(u16::from_le_bytes([h[1], h[2]])));
        ts += 1_000_000;
        let from_first = if to_server {
            from_client_first
        } else {
            !from_client_first
        };
        let d = table.segment(0, key, from_first, ts, seq, flags, payload, |c| {
            StreamParser::new(c.unwrap_or(to_server), 443)
        });
        let ended = d.ended;
        if let Some(dir) = d.direction {
            if d.segment.gap > 0 {
                dir.app.gap(d.segment.gap, &mut |_| {});
            }
            assert!(dir.stream.data().len() as u64 <= LIMITS.depth);
            let used = dir.app.parse(dir.stream.data(), &mut |_| {});
            assert!(used <= dir.stream.data().len());
            dir.stream.consume(used);
            if dir.app.done() || dir.stream.data().len() >= dir.app.max_buffer() {
                dir.stream.close();
            }
        }
        if ended || flags & RST != 0 {
            table.close(0, key);
        }
        assert!(table.used() <= 1 << 20);
    }
});
