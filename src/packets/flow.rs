//! Symmetric flow keys: both directions of a conversation map to one key and one hash, so one
//! worker sees the whole flow and per-flow state needs no locks.

use std::hash::Hash;
use std::net::IpAddr;

use crate::packets::decode::{Encap, Packet};
use crate::packets::tunnel::{Inner, Tunnel};

/// A flow's 5-tuple with its endpoints in canonical order (the smaller endpoint first), and the
/// link-layer context it was seen in: the same 5-tuple on two VLANs (or PPPoE sessions, or
/// MPLS VPNs) is two flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
    proto: u8,
    encap: Encap,
    /// The tunnels the flow was carried in ([`tunnel_context`]); 0 outside any tunnel.
    tunnel: u64,
    /// For a tunnel's own packets, the hash of the innermost flow they carry
    /// ([`FlowKey::carrying`]); 0 otherwise.
    carried: u64,
}

impl FlowKey {
    /// The key of a packet from `src:sport` to `dst:dport` (ports 0 when the protocol has none)
    /// carried without VLAN tags or other encapsulation.
    pub fn new(src: IpAddr, sport: u16, dst: IpAddr, dport: u16, proto: u8) -> FlowKey {
        let (a, b) = ((src, sport), (dst, dport));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        FlowKey {
            lo,
            hi,
            proto,
            encap: Encap::default(),
            tunnel: 0,
            carried: 0,
        }
    }

    /// The key of a decoded packet: its 5-tuple and its [`Encap`] context.
    pub(crate) fn of(p: &Packet<'_>) -> FlowKey {
        FlowKey::new(
            p.src,
            p.src_port.unwrap_or(0),
            p.dst,
            p.dst_port.unwrap_or(0),
            p.transport.ip_number(),
        )
        .within(p.encap)
    }

    /// Whether a packet from `src:sport` of this flow was sent by the key's first endpoint
    /// (the smaller one): tells a connection's two directions apart.
    pub fn sent_by_first(&self, src: IpAddr, sport: u16) -> bool {
        (src, sport) == self.lo
    }

    /// The same 5-tuple carried in `encap` (VLAN tags, PPPoE, MPLS).
    pub(crate) fn within(self, encap: Encap) -> FlowKey {
        FlowKey { encap, ..self }
    }

    /// The same flow carried in the tunnels that `context` describes ([`tunnel_context`]).
    pub(crate) fn in_tunnel(self, context: u64) -> FlowKey {
        FlowKey {
            tunnel: context,
            ..self
        }
    }

    /// The key of a tunnel packet's own flow as one carrying the flow whose hash is `inner`.
    /// A worker sees every packet of an innermost flow (that is how packets are routed), but
    /// not every packet of the tunnel around it: state kept per tunnel flow and innermost flow
    /// is complete in one worker, so what it reports does not depend on the worker count.
    pub(crate) fn carrying(self, inner: u64) -> FlowKey {
        FlowKey {
            carried: inner,
            ..self
        }
    }

    /// A hash that is the same for both directions (the key is already canonical): one xxh3
    /// pass over the key packed into 65 bytes, about half the cost of feeding the fields to a
    /// streaming hasher one by one (the reader hashes every frame to route it).
    pub(crate) fn hash64(&self) -> u64 {
        let mut b = [0u8; 65];
        for (at, (addr, port)) in [(0, self.lo), (18, self.hi)] {
            match addr {
                IpAddr::V4(a) => b[at..at + 4].copy_from_slice(&a.octets()),
                IpAddr::V6(a) => b[at..at + 16].copy_from_slice(&a.octets()),
            }
            b[at + 16..at + 18].copy_from_slice(&port.to_le_bytes());
        }
        b[36] = self.proto;
        let e = &self.encap;
        for (i, vid) in e.vlan_ids.iter().enumerate() {
            b[37 + 2 * i..39 + 2 * i].copy_from_slice(&vid.to_le_bytes());
        }
        // Collisions between "none" and an unlikely value only cost a shared worker.
        b[43..45].copy_from_slice(&e.pppoe_session.unwrap_or(u16::MAX).to_le_bytes());
        b[45..49].copy_from_slice(&e.mpls_label.unwrap_or(u32::MAX).to_le_bytes());
        b[49..57].copy_from_slice(&self.tunnel.to_le_bytes());
        b[57..65].copy_from_slice(&self.carried.to_le_bytes());
        xxhash_rust::xxh3::xxh3_64(&b)
    }
}

/// What a tunnel adds to the key of the flows inside it, given the context of the tunnels
/// around it (`outer`, 0 at the first) and the packet that carries it: the same inner 5-tuple
/// in two tunnels is two flows (two tenants' VXLAN networks reuse addresses).
///
/// Symmetric, like the key: the carrier's addresses in canonical order and no ports (a VXLAN
/// or GRE-in-UDP source port is a per-direction hash), and the tunnel's identifier only where
/// both directions share it (a VNI, a GRE key, an ERSPAN session, not GTP-U's per-direction
/// TEIDs or PPTP's call ids).
pub(crate) fn tunnel_context(outer: u64, carrier: &Packet<'_>, inner: &Inner<'_>) -> u64 {
    let (lo, hi) = if carrier.src <= carrier.dst {
        (carrier.src, carrier.dst)
    } else {
        (carrier.dst, carrier.src)
    };
    let id = match inner.tunnel {
        Tunnel::GtpU | Tunnel::Pptp => None,
        _ => inner.id,
    };
    let mut b = [0u8; 46];
    b[..8].copy_from_slice(&outer.to_le_bytes());
    for (at, addr) in [(8, lo), (24, hi)] {
        match addr {
            IpAddr::V4(a) => b[at..at + 4].copy_from_slice(&a.octets()),
            IpAddr::V6(a) => b[at..at + 16].copy_from_slice(&a.octets()),
        }
    }
    b[40] = inner.tunnel as u8;
    b[41] = u8::from(id.is_some());
    b[42..46].copy_from_slice(&id.unwrap_or(0).to_le_bytes());
    // Never 0, which means "no tunnel".
    xxhash_rust::xxh3::xxh3_64(&b) | 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packets::decode::{LinkType, decode};

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

    #[test]
    fn vlans_separate_flows() {
        // Ethernet, an 802.1Q tag with VLAN `vid`, IPv4/UDP 192.0.2.1:1000 -> 192.0.2.2:53.
        let frame = |vid: u16| {
            let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00];
            f.extend_from_slice(&vid.to_be_bytes());
            f.extend_from_slice(&[0x08, 0x00]);
            f.extend_from_slice(&[
                0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, //
                0x03, 0xe8, 0, 53, 0, 8, 0, 0,
            ]);
            f
        };
        let (f10, f20) = (frame(10), frame(20));
        let k10 = FlowKey::of(&decode(LinkType::Ethernet, &f10).unwrap());
        let k20 = FlowKey::of(&decode(LinkType::Ethernet, &f20).unwrap());
        assert_ne!(k10, k20);
        assert_eq!(
            k10,
            FlowKey::of(&decode(LinkType::Ethernet, &frame(10)).unwrap())
        );
        let untagged = FlowKey::new(
            "192.0.2.1".parse().unwrap(),
            1000,
            "192.0.2.2".parse().unwrap(),
            53,
            17,
        );
        assert_ne!(k10, untagged);
        // VLAN 0 is a priority tag: no VLAN.
        assert_eq!(
            FlowKey::of(&decode(LinkType::Ethernet, &frame(0)).unwrap()),
            untagged
        );
    }
}
