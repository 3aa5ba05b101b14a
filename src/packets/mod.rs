//! The packet lane: capture files in, observed values out.
//!
//! * [`capture`] — pcap and pcapng files read in place from a memory map.
//! * [`decode`] — zero-copy views of link, network and transport layers (Ethernet,
//!   802.1Q/QinQ, PPPoE, MPLS, Linux cooked v1/v2, raw IP, loopback; IPv4 with options and
//!   fragments, IPv6 with extension headers; TCP, UDP, ICMP): [`decode::decode`] gives a
//!   [`decode::Packet`] or a [`decode::DecodeError`] naming the layer and reason.
//! * [`tunnel`] — the packet an IP tunnel carries (GRE, ERSPAN, VXLAN, Geneve, GTP-U, Teredo,
//!   AYIYA, IP-in-IP, …), decoded like any other.
//! * [`app`] — application-layer parsers (DNS, TLS, QUIC Initials, HTTP, SMTP).
//! * `flow` — the flow key that sends both directions of a flow to one worker.
//! * [`reassembly`] — one direction of a TCP connection: segments in, in-order bytes out.
//! * [`sctp`] — the whole user messages of an SCTP packet's DATA and I-DATA chunks.
//! * `flow_table` — a worker's TCP connections, their streams and parsers, within a memory cap
//!   and timeouts.

pub mod app;
pub mod capture;
pub mod decode;
pub(crate) mod flow;
pub mod flow_table;
pub mod reassembly;
pub mod sctp;
pub mod tunnel;
