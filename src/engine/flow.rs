//! Symmetric flow keys: both directions of a conversation map to one key and one hash, so one
//! worker sees the whole flow and per-flow state needs no locks.

use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// A flow's 5-tuple with its endpoints in canonical order (the smaller endpoint first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
    proto: u8,
}

impl FlowKey {
    /// The key of a packet from `src:sport` to `dst:dport` (ports 0 when the protocol has none).
    pub fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, proto: u8) -> FlowKey {
        let (a, b) = ((src, sport), (dst, dport));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey { lo, hi, proto }
    }

    /// A hash that is the same for both directions (the key is already canonical).
    pub fn hash64(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        self.hash(&mut h);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_share_key_and_hash() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        let fwd = FlowKey::new(a, 40000, b, 443, 6);
        let rev = FlowKey::new(b, 443, a, 40000, 6);
        assert_eq!(fwd, rev);
        assert_eq!(fwd.hash64(), rev.hash64());
        assert_ne!(fwd, FlowKey::new(a, 40001, b, 443, 6));
        assert_ne!(fwd, FlowKey::new(a, 40000, b, 443, 17));
    }
}
