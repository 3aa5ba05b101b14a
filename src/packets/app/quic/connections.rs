//! A worker's QUIC connections: per UDP flow, which side is the client and the ClientHello
//! being reassembled from its Initial packets, within bounds.
//!
//! The first Initial that opens under client keys names the client; the other side's Initials
//! are then skipped unopened (the server's keys are not derivable from what it sends). Each of
//! the client's Initials is opened with keys from its own Destination Connection ID (its first
//! flight, or its flight after a Retry), and otherwise with those that last opened one (a client
//! that has seen the server's first Initial sends to the server's connection ID but keeps its
//! first keys). Once the ClientHello is complete it is reported, its buffer freed, and the
//! client's later Initials skipped unopened.
//!
//! Bounded four ways, each counted: at most [`MAX_INITIALS`] Initials read per connection,
//! [`super::hello::MAX_CRYPTO`] bytes and [`super::hello::MAX_PIECES`] pieces per ClientHello,
//! [`QuicLimits::max_connections`] connections and [`QuicLimits::max_held`] bytes of ClientHello
//! buffers per table (past either, the least recently seen quarter goes), and an idle timeout
//! in capture time. A connection dropped with a ClientHello incomplete is [`E_INCOMPLETE`].

use std::hash::{BuildHasher, Hash};
use std::mem::size_of;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::header::{self, LongPacket, PacketType, Step};
use super::hello::Hello;
use super::protection::{Opener, Version};
use super::{E_CRYPTO_LIMIT, E_DECRYPT, E_INCOMPLETE, E_INITIALS, E_PIECES, Event, frames};

/// Initial packets read per connection before its ClientHello is given up as incomplete (a
/// post-quantum ClientHello takes two or three; retransmissions add a few).
pub const MAX_INITIALS: u8 = 16;

/// The table's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuicLimits {
    /// Connections held.
    pub max_connections: usize,
    /// Bytes of ClientHello buffers held.
    pub max_held: usize,
    /// A connection without an Initial for this long (capture time, nanoseconds) is dropped.
    pub idle_ns: i64,
}

impl Default for QuicLimits {
    /// 32,768 connections and 16 MiB of buffers per worker; 60 s idle: a connection's Initials
    /// come within its first seconds (clients give a handshake up after about ten).
    fn default() -> QuicLimits {
        QuicLimits {
            max_connections: 32 << 10,
            max_held: 16 << 20,
            idle_ns: 60 * 1_000_000_000,
        }
    }
}

/// What the table did, for the scan's counters (the packets it could not read are counted by
/// reason through [`Event::Error`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct QuicStats {
    /// Client Initial packets decrypted.
    pub initials: u64,
    /// ClientHellos reassembled and reported.
    pub client_hellos: u64,
    /// Initials from the server side of a connection, not opened.
    pub server_initials: u64,
    /// Client Initials after the ClientHello was read, not opened.
    pub later_initials: u64,
    /// Connections tracked.
    pub connections: u64,
    /// Connections dropped to stay within the table's bounds.
    pub evicted: u64,
}

impl QuicStats {
    /// Adds another table's counters.
    pub fn merge(&mut self, o: &QuicStats) {
        self.initials += o.initials;
        self.client_hellos += o.client_hellos;
        self.server_initials += o.server_initials;
        self.later_initials += o.later_initials;
        self.connections += o.connections;
        self.evicted += o.evicted;
    }
}

/// One connection.
struct Conn {
    last_ns: i64,
    /// Whether the client is the flow key's first endpoint.
    client_first: bool,
    /// The ClientHello being read; `None` once it was read or given up.
    reading: Option<Box<Reading>>,
}

/// A ClientHello being reassembled.
struct Reading {
    /// The keys that last opened one of the client's Initials: its version and Destination
    /// Connection ID.
    version: Version,
    dcid: [u8; header::MAX_CID],
    dcid_len: u8,
    /// Initials read.
    initials: u8,
    /// The packet number expected next.
    next_pn: u64,
    hello: Hello,
    /// Bytes accounted for this connection in the table's total.
    accounted: usize,
}

impl Reading {
    fn dcid(&self) -> &[u8] {
        &self.dcid[..usize::from(self.dcid_len)]
    }

    fn size(&self) -> usize {
        size_of::<Reading>() + self.hello.held()
    }
}

/// A connection as the table holds it: its capture source and flow key, and its state.
type Entry<K> = ((u32, K), Conn);

/// A worker's QUIC connections, keyed by capture source and flow key `K`.
pub struct Connections<K> {
    limits: QuicLimits,
    table: HashTable<Entry<K>>,
    hasher: DefaultHashBuilder,
    /// A copy of the packet being opened (decryption works in place).
    scratch: Vec<u8>,
    /// Bytes of the connections' ClientHello buffers, as accounted.
    held: usize,
    /// Capture time of the last idle sweep.
    swept_ns: i64,
    /// Counters.
    pub stats: QuicStats,
}

impl<K: Copy + Eq + Hash> Connections<K> {
    /// An empty table.
    pub fn new(limits: QuicLimits) -> Self {
        Connections {
            limits,
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            scratch: Vec::new(),
            held: 0,
            swept_ns: i64::MIN,
            stats: QuicStats::default(),
        }
    }

    /// Connections held.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Bytes of ClientHello buffers held.
    pub fn held(&self) -> usize {
        self.held
    }

    /// Reads the QUIC packets of one UDP datagram of flow `key` in capture source `source`,
    /// sent from the key's first endpoint when `from_first`, at capture time `ts_ns`: what it
    /// finds (a complete ClientHello, packets not read) goes to `out`.
    pub fn datagram(
        &mut self,
        source: u32,
        key: K,
        from_first: bool,
        ts_ns: i64,
        payload: &[u8],
        mut out: impl FnMut(Event<'_>),
    ) {
        self.sweep(ts_ns, &mut out);
        for step in header::packets(payload) {
            match step {
                Step::Error(why) => out(Event::Error(why)),
                Step::Packet(p) if p.kind == PacketType::Initial => {
                    self.initial((source, key), from_first, ts_ns, &p, &mut out);
                }
                Step::Packet(_) => {}
            }
        }
    }

    /// Drops every connection of a capture source that has ended; gives how many had a
    /// ClientHello incomplete (for [`E_INCOMPLETE`]).
    pub fn end_source(&mut self, source: u32) -> u64 {
        let (mut freed, mut incomplete) = (0, 0);
        self.table.retain(|((s, _), c)| {
            if *s != source {
                return true;
            }
            if let Some(r) = &c.reading {
                freed += r.accounted;
                incomplete += 1;
            }
            false
        });
        self.held -= freed;
        incomplete
    }

    fn initial(
        &mut self,
        id: (u32, K),
        from_first: bool,
        ts_ns: i64,
        p: &LongPacket<'_>,
        out: &mut impl FnMut(Event<'_>),
    ) {
        let hash = self.hasher.hash_one(id);
        let mut expected = 0;
        let mut earlier_keys = None;
        if let Some((_, c)) = self.table.find_mut(hash, |e| e.0 == id) {
            c.last_ns = c.last_ns.max(ts_ns);
            if c.client_first != from_first {
                self.stats.server_initials += 1;
                return;
            }
            let Some(r) = &c.reading else {
                self.stats.later_initials += 1;
                return;
            };
            expected = r.next_pn;
            if (r.version, r.dcid()) != (p.version, p.dcid) {
                earlier_keys = Some((r.version, r.dcid, r.dcid_len));
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut opened = open(&mut scratch, p, p.version, p.dcid, expected);
        let mut keys = (p.version, p.dcid);
        if let (true, Some((version, dcid, len))) = (opened == Err(E_DECRYPT), &earlier_keys) {
            keys = (*version, &dcid[..usize::from(*len)]);
            opened = open(&mut scratch, p, keys.0, keys.1, expected);
        }
        match opened {
            Ok((pn, plain)) => {
                self.stats.initials += 1;
                self.read(id, hash, from_first, ts_ns, keys, pn, &scratch[plain], out);
            }
            Err(why) => out(Event::Error(why)),
        }
        self.scratch = scratch;
    }

    /// Adds the frames of a client Initial (packet number `pn`, opened with `keys`) to its
    /// connection's ClientHello, and reports the ClientHello when it is complete.
    #[allow(clippy::too_many_arguments)]
    fn read(
        &mut self,
        id: (u32, K),
        hash: u64,
        from_first: bool,
        ts_ns: i64,
        (version, dcid): (Version, &[u8]),
        pn: u64,
        frames: &[u8],
        out: &mut impl FnMut(Event<'_>),
    ) {
        if self.table.find(hash, |e| e.0 == id).is_none() {
            if self.table.len() >= self.limits.max_connections {
                self.evict_oldest(out);
            }
            let conn = Conn {
                last_ns: ts_ns,
                client_first: from_first,
                reading: Some(Box::new(Reading {
                    version,
                    dcid: [0; header::MAX_CID],
                    dcid_len: 0,
                    initials: 0,
                    next_pn: 0,
                    hello: Hello::default(),
                    accounted: 0,
                })),
            };
            let hasher = &self.hasher;
            self.table
                .insert_unique(hash, (id, conn), |e| hasher.hash_one(e.0));
            self.stats.connections += 1;
        }
        let c = &mut self.table.find_mut(hash, |e| e.0 == id).expect("held").1;
        let r = c.reading.as_mut().expect("a connection read from");
        r.version = version;
        r.dcid[..dcid.len()].copy_from_slice(dcid);
        r.dcid_len = dcid.len() as u8;
        r.next_pn = r.next_pn.max(pn.saturating_add(1));
        r.initials += 1;
        let walked = frames::crypto_frames(frames, |offset, data| r.hello.add(offset, data));
        if let Err(why) = walked {
            out(Event::Error(why));
        }
        let done = match r.hello.client_hello() {
            Ok(Some(message)) => {
                self.stats.client_hellos += 1;
                out(Event::ClientHello(message));
                true
            }
            Err(why) => {
                out(Event::Error(why));
                true
            }
            // Past a bound, the rest of this ClientHello would not be kept.
            Ok(None) if matches!(walked, Err(E_CRYPTO_LIMIT | E_PIECES)) => true,
            Ok(None) if r.initials >= MAX_INITIALS => {
                out(Event::Error(E_INITIALS));
                true
            }
            Ok(None) => false,
        };
        let before = r.accounted;
        r.accounted = if done { 0 } else { r.size() };
        self.held = self.held - before + r.accounted;
        if done {
            c.reading = None;
        }
        while self.held > self.limits.max_held {
            self.evict_oldest(out);
        }
    }

    /// Drops connections idle past the timeout, at most once a second of capture time.
    fn sweep(&mut self, now_ns: i64, out: &mut impl FnMut(Event<'_>)) {
        if now_ns < self.swept_ns.saturating_add(1_000_000_000) {
            return;
        }
        self.swept_ns = now_ns;
        let idle = self.limits.idle_ns;
        let mut freed = 0;
        self.table.retain(|(_, c)| {
            if now_ns.saturating_sub(c.last_ns) <= idle {
                return true;
            }
            if let Some(r) = &c.reading {
                freed += r.accounted;
                out(Event::Error(E_INCOMPLETE));
            }
            false
        });
        self.held -= freed;
    }

    /// Evicts the least recently seen quarter of the connections (at least one).
    fn evict_oldest(&mut self, out: &mut impl FnMut(Event<'_>)) {
        let mut seen: Vec<i64> = self.table.iter().map(|(_, c)| c.last_ns).collect();
        if seen.is_empty() {
            return;
        }
        let k = (seen.len() / 4).max(1) - 1;
        let (_, &mut cutoff, _) = seen.select_nth_unstable(k);
        let budget = (self.table.len() / 4).max(1);
        let (mut n, mut freed) = (0, 0);
        self.table.retain(|(_, c)| {
            if n >= budget || c.last_ns > cutoff {
                return true;
            }
            n += 1;
            if let Some(r) = &c.reading {
                freed += r.accounted;
                out(Event::Error(E_INCOMPLETE));
            }
            false
        });
        self.stats.evicted += n as u64;
        self.held -= freed;
    }
}

/// Copies `p` into `scratch` and opens it with the client keys of `version` and `dcid`: the
/// packet number and where the frames lie in `scratch`.
fn open(
    scratch: &mut Vec<u8>,
    p: &LongPacket<'_>,
    version: Version,
    dcid: &[u8],
    expected: u64,
) -> Result<(u64, std::ops::Range<usize>), &'static str> {
    scratch.clear();
    scratch.extend_from_slice(p.bytes);
    let base = scratch.as_ptr() as usize;
    let (pn, plain) = Opener::client(version, dcid).open(scratch, p.pn_offset, expected)?;
    let start = plain.as_ptr() as usize - base;
    Ok((pn, start..start + plain.len()))
}

#[cfg(test)]
mod tests {
    use trawl_tools::pcap::{CLIENT_HELLO_ENTROPY, ClientHelloParts, tls_client_hello_browser};
    use trawl_tools::quic::{self as craft, DRAFT_29, V1, V2};

    use super::*;
    use crate::packets::app::quic::{E_FRAME_TYPE, E_NOT_HELLO};
    use crate::packets::app::tls::handshake_sni;

    const S: i64 = 1_000_000_000;
    const DCID: &[u8] = b"\x83\x94\xc8\xf0\x3e\x51\x57\x08";

    /// A browser-like ClientHello handshake message (no record header).
    fn hello(sni: &str, post_quantum: bool) -> Vec<u8> {
        let entropy: Vec<u8> = (0..CLIENT_HELLO_ENTROPY).map(|i| (i * 13) as u8).collect();
        let mut record = Vec::new();
        tls_client_hello_browser(
            &mut record,
            &ClientHelloParts {
                sni,
                post_quantum,
                entropy: &entropy,
            },
        );
        record.split_off(5)
    }

    /// What a table reports for `datagrams` of one flow: (from the key's first endpoint, at
    /// second) each.
    #[derive(Default, Debug, PartialEq)]
    struct Seen {
        hellos: Vec<Vec<u8>>,
        errors: Vec<&'static str>,
    }

    fn feed(t: &mut Connections<u32>, key: u32, datagrams: &[(bool, i64, Vec<u8>)]) -> Seen {
        let mut seen = Seen::default();
        for (from_first, at, d) in datagrams {
            t.datagram(0, key, *from_first, at * S, d, |e| match e {
                Event::ClientHello(m) => seen.hellos.push(m.to_vec()),
                Event::Error(why) => seen.errors.push(why),
            });
        }
        seen
    }

    fn table() -> Connections<u32> {
        Connections::new(QuicLimits::default())
    }

    #[test]
    fn rfc_9001_sample_initial_gives_its_server_name_once() {
        let client =
            include_bytes!("../../../../testdata/payloads/quic-rfc9001-client-initial.bin");
        let mut t = table();
        let seen = feed(
            &mut t,
            1,
            &[
                (true, 0, client.to_vec()),
                (true, 0, client.to_vec()), // retransmitted
            ],
        );
        assert_eq!(seen.errors, Vec::<&str>::new());
        assert_eq!(seen.hellos.len(), 1);
        assert_eq!(
            handshake_sni(&seen.hellos[0]),
            Ok(Some(&b"example.com"[..]))
        );
        assert_eq!(t.stats.initials, 1);
        assert_eq!(t.stats.later_initials, 1);
        assert_eq!(t.held(), 0, "the buffer is freed once the hello is read");
    }

    /// A post-quantum ClientHello over two Initials, which arrive in reverse order, each with
    /// its CRYPTO frames out of order: read whole, in versions 1, 2 and draft 29.
    #[test]
    fn a_post_quantum_hello_over_two_initials_out_of_order() {
        let m = hello("pq.quic.example", true);
        assert!(m.len() > 1500, "{}", m.len());
        for version in [V1, V2, DRAFT_29] {
            let flight = craft::client_hello_flight(
                version,
                DCID,
                b"cl",
                &m,
                &[600, 1100, 1150],
                &[1, 0, 1, 0],
            );
            assert_eq!(flight.len(), 2);
            let mut t = table();
            let seen = feed(
                &mut t,
                7,
                &[(false, 0, flight[1].clone()), (false, 0, flight[0].clone())],
            );
            assert_eq!(seen.errors, Vec::<&str>::new(), "{version:#x}");
            assert_eq!(seen.hellos, vec![m.clone()], "{version:#x}");
            assert_eq!((t.stats.initials, t.stats.client_hellos), (2, 1));
        }
    }

    #[test]
    fn the_servers_initials_are_skipped_once_the_client_is_known() {
        let m = hello("side.quic.example", true);
        let flight = craft::client_hello_flight(V1, DCID, b"", &m, &[900], &[0, 1]);
        // RFC 9001 A.3: the server's Initial, under the server's keys.
        let server = [
            "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a",
            "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3",
            "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84",
            "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4",
            "2158407dd074ee",
        ]
        .concat();
        let server: Vec<u8> = (0..server.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&server[i..i + 2], 16).unwrap())
            .collect();
        let mut t = table();
        let seen = feed(
            &mut t,
            1,
            &[
                (true, 0, flight[0].clone()),
                (false, 0, server.clone()),
                (true, 0, flight[1].clone()),
            ],
        );
        assert_eq!(seen.hellos, vec![m]);
        assert_eq!(seen.errors, Vec::<&str>::new());
        assert_eq!(t.stats.server_initials, 1);
        // Before the client is known, a server Initial is tried and not authenticated.
        let mut t = table();
        let seen = feed(&mut t, 2, &[(false, 0, server)]);
        assert_eq!(seen.errors, vec![E_DECRYPT]);
        assert_eq!(t.len(), 0);
    }

    /// After the server's first Initial the client sends to the server's connection id, still
    /// under the keys of its first one.
    #[test]
    fn a_client_that_switched_connection_id_keeps_its_first_keys() {
        let m = hello("switch.quic.example", true);
        let mut second = Vec::new();
        craft::crypto_frame(&mut second, 1000, &m[1000..]);
        let datagrams = [
            {
                let mut first = Vec::new();
                craft::crypto_frame(&mut first, 0, &m[..1000]);
                (
                    true,
                    0,
                    craft::client_initial(V1, DCID, b"c", 0, &first, 1200),
                )
            },
            (
                true,
                0,
                craft::client_initial_keyed(V1, DCID, b"server-cid", b"c", 1, &second, 1200),
            ),
        ];
        let mut t = table();
        let seen = feed(&mut t, 3, &datagrams);
        assert_eq!(seen.errors, Vec::<&str>::new());
        assert_eq!(seen.hellos, vec![m]);
    }

    #[test]
    fn coalesced_packets_are_each_read() {
        let m = hello("coalesced.quic.example", false);
        let mut a = Vec::new();
        craft::crypto_frame(&mut a, 0, &m[..200]);
        let mut b = Vec::new();
        craft::crypto_frame(&mut b, 200, &m[200..]);
        let mut d = craft::client_initial(V1, DCID, b"", 0, &a, 0);
        d.extend(craft::client_initial(V1, DCID, b"", 1, &b, 0));
        d.extend([0u8; 40]); // zero padding after the packets
        let mut t = table();
        let seen = feed(&mut t, 4, &[(true, 0, d)]);
        assert_eq!(seen.errors, Vec::<&str>::new());
        assert_eq!(seen.hellos, vec![m]);
    }

    #[test]
    fn a_hello_that_never_completes_is_given_up_and_counted() {
        let m = hello("never.quic.example", true);
        let mut t = table();
        let repeats: Vec<_> = (0..MAX_INITIALS as u32 + 3)
            .map(|pn| {
                let mut f = Vec::new();
                craft::crypto_frame(&mut f, 0, &m[..500]);
                (true, 0, craft::client_initial(V1, DCID, b"", pn, &f, 1200))
            })
            .collect();
        let seen = feed(&mut t, 5, &repeats);
        assert_eq!(seen.hellos, Vec::<Vec<u8>>::new());
        assert_eq!(seen.errors, vec![E_INITIALS]);
        assert_eq!(t.stats.later_initials, 3);
        assert_eq!(t.held(), 0);
    }

    #[test]
    fn bad_streams_and_frames_are_counted() {
        let mut t = table();
        let mut f = Vec::new();
        craft::crypto_frame(&mut f, 0, &[2, 0, 0, 1, 0]); // a ServerHello first
        let seen = feed(
            &mut t,
            1,
            &[(true, 0, craft::client_initial(V1, DCID, b"", 0, &f, 1200))],
        );
        assert_eq!(seen.errors, vec![E_NOT_HELLO]);
        let mut f = Vec::new();
        craft::crypto_frame(&mut f, 0, &[1, 0, 0, 9]);
        f.extend([0x08, 0x00]); // STREAM
        let seen = feed(
            &mut t,
            2,
            &[(true, 0, craft::client_initial(V1, DCID, b"", 0, &f, 1200))],
        );
        assert_eq!(seen.errors, vec![E_FRAME_TYPE]);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn connections_are_bounded_in_number_memory_and_time() {
        let m = hello("bound.quic.example", true);
        let mut first = Vec::new();
        craft::crypto_frame(&mut first, 0, &m[..1000]);
        let initial = craft::client_initial(V1, DCID, b"", 0, &first, 1200);
        let limits = QuicLimits {
            max_connections: 8,
            max_held: 6 * 1200,
            idle_ns: 10 * S,
        };
        let mut t = Connections::new(limits);
        let mut errors = 0;
        for key in 0..100u32 {
            t.datagram(0, key, true, i64::from(key), &initial, |e| {
                assert_eq!(e, Event::Error(E_INCOMPLETE));
                errors += 1;
            });
            assert!(t.len() <= 8 && t.held() <= limits.max_held, "{key}");
        }
        assert_eq!(t.stats.connections, 100);
        assert_eq!(
            t.stats.evicted, errors,
            "each evicted one had a hello incomplete"
        );
        assert_eq!(t.stats.connections, t.len() as u64 + t.stats.evicted);
        // Idle ones go after the timeout; those of a source that ended go at once.
        let held = t.len() as u64;
        let mut idle = 0;
        t.datagram(1, 0, true, 20 * S, &initial, |_| idle += 1);
        assert_eq!((idle, t.len()), (held, 1));
        assert_eq!(t.end_source(1), 1);
        assert_eq!((t.len(), t.held()), (0, 0));
    }
}
