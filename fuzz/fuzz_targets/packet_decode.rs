//! `decode` on arbitrary bytes for every link type, then every tunnel layer the packet carries,
//! and the same bytes read as a whole capture file: nothing panics, every decoded packet's
//! slices lie inside its frame, decapsulation stops within its depth limit, and the frame
//! iterator ends with at most one error, after every good frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::capture::CaptureFile;
use trawl::testing::decode::{LinkType, Packet, Transport, decode};
use trawl::testing::sctp;
use trawl::testing::tunnel::{self, MAX_DEPTH, Step};

const LINKS: [LinkType; 23] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Null,
    LinkType::Loop,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Nflog,
    LinkType::Ppp,
    LinkType::PppHdlc,
    LinkType::PppEther,
    LinkType::PppWithDir,
    LinkType::CiscoHdlc,
    LinkType::CiscoHdlcWithDir,
    LinkType::FrameRelay,
    LinkType::Ieee80211,
    LinkType::Radiotap,
    LinkType::Ppi,
    LinkType::Avs,
    LinkType::Prism,
    LinkType::Other(147),
    LinkType::Other(0),
];

fn check(p: &Packet<'_>, frame: &[u8]) {
    check_one(p, frame);
    let mut steps = 0;
    for step in tunnel::layers(*p) {
        steps += 1;
        match step {
            Step::Packet { packet, depth, .. } => {
                assert!(depth <= MAX_DEPTH);
                check_one(&packet, frame);
            }
            Step::Tunnel(e) => {
                let _ = e.reason();
            }
            Step::Decode(_, e) => {
                let _ = e.reason();
            }
            Step::TooDeep => {}
        }
    }
    assert!(steps <= usize::from(MAX_DEPTH) + 1);
}

fn check_one(p: &Packet<'_>, frame: &[u8]) {
    assert_eq!(p.src_port.is_some(), p.dst_port.is_some());
    if p.transport == Transport::Other(132) {
        for m in sctp::messages(p.payload).flatten() {
            assert!(m.data.len() <= p.payload.len());
        }
    }
    if !p.payload.is_empty() {
        let start = p.payload.as_ptr() as usize - frame.as_ptr() as usize;
        assert!(start + p.payload.len() <= frame.len());
    }
    if p.fragment.is_some_and(|f| !f.is_first()) {
        assert!(p.src_port.is_none() && p.payload.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    for link in LINKS {
        match decode(link, data) {
            Ok(p) => check(&p, data),
            Err(e) => {
                let _ = (e.reason(), e.to_string());
            }
        }
    }
    if let Ok(capture) = CaptureFile::from_bytes(data) {
        let mut errors = 0;
        for frame in capture.frames() {
            assert_eq!(errors, 0, "a frame after an error");
            match frame {
                Ok(f) => {
                    if let Ok(p) = decode(f.link, f.data) {
                        check(&p, f.data);
                    }
                }
                Err(e) => {
                    errors += 1;
                    let _ = (e.reason(), e.to_string());
                }
            }
        }
    }
});
