//! QUIC client Initials: a table of connections fed arbitrary datagrams never panics, stays
//! within its bounds, and every ClientHello it reports is one whole handshake message of type 1.
//!
//! Input: a mode byte, then chunks, each behind a 2-byte big-endian length. Mode bit 0 clear:
//! each chunk is a UDP datagram as captured (header parsing, header protection and the AEAD on
//! hostile bytes). Set: each chunk is the plaintext of a client Initial, sealed as one with the
//! client keys (version from bits 1–2) before it is fed, so the frame walker and the CRYPTO
//! reassembly behind the AEAD see arbitrary frames. Bit 3 picks the direction of odd chunks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::quic::hello::MAX_CRYPTO;
use trawl::testing::app::quic::{Connections, Event, QuicLimits};
use trawl_tools::quic::{DRAFT_29, V1, V2, client_initial};

const DCID: &[u8] = b"fuzzdcid";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, mut rest)) = data.split_first() else {
        return;
    };
    let limits = QuicLimits {
        max_connections: 4,
        max_held: 64 << 10,
        idle_ns: 1_000_000_000,
    };
    let mut t: Connections<u8> = Connections::new(limits);
    let mut i = 0u32;
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b])).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        let datagram = if mode & 1 == 0 {
            chunk.to_vec()
        } else {
            let version = [V1, V2, DRAFT_29, V1][usize::from(mode >> 1 & 3)];
            client_initial(version, DCID, b"", i, chunk, 1200)
        };
        let from_first = mode & 8 == 0 || i % 2 == 0;
        t.datagram(0, (i % 5) as u8, from_first, i64::from(i), &datagram, |e| match e {
            Event::ClientHello(m) => {
                assert_eq!(m[0], 1);
                let len = usize::from(m[1]) << 16 | usize::from(m[2]) << 8 | usize::from(m[3]);
                assert_eq!(m.len(), 4 + len);
                assert!(m.len() <= MAX_CRYPTO);
            }
            Event::Error(why) => assert!(why.starts_with("quic: ")),
        });
        assert!(t.len() <= limits.max_connections);
        assert!(t.held() <= limits.max_held);
        i += 1;
    }
});
