//! A worker's TCP connections: per flow and direction a reassembled [`Stream`] and the
//! application parser reading it, within a memory cap and timeouts.
//!
//! Both directions of a flow reach the same worker (the reader routes by the symmetric flow
//! key), so the table needs no locks. It is bounded three ways, each counted in [`FlowStats`]:
//!
//! * **idle timeout** — a connection that has seen no segment for that much capture time goes;
//! * **session timeout** — so does one older than that, busy or not (a connection held open
//!   for days would otherwise pin its buffers);
//! * **memory cap** — the table's memory (entries, table slots and every buffer, estimated from
//!   capacities) stays under the cap: when a segment would pass it, the least recently seen
//!   quarter of the connections goes first. A SYN flood or a million concurrent flows cost
//!   evictions, never unbounded memory.
//!
//! A connection that ends (RST, or FIN from both sides) leaves at once. Capture time is the
//! source's own clock, so what a scan reports does not depend on how fast it runs.

use std::mem::size_of;

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::app::file::FileLimits;
use super::flow::FlowKey;
use super::reassembly::{Limits, Segment, Stream};

/// TCP flag bits, as in the header's flags byte.
pub const FIN: u8 = 0x01;
/// SYN.
pub const SYN: u8 = 0x02;
/// RST.
pub const RST: u8 = 0x04;
/// ACK.
pub const ACK: u8 = 0x10;

/// The table's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLimits {
    /// Memory the table may use, in bytes.
    pub memcap: usize,
    /// A connection idle this long (capture time, nanoseconds) is dropped.
    pub idle_ns: i64,
    /// A connection this old (capture time, nanoseconds) is dropped.
    pub session_ns: i64,
    /// Per direction: how deep it is read and how much may wait past a hole.
    pub stream: Limits,
    /// How the files the streams carry are hashed (the largest; SHA-512 is the set's call).
    pub files: FileLimits,
}

impl Default for FlowLimits {
    fn default() -> FlowLimits {
        FlowLimits {
            memcap: 256 << 20,
            idle_ns: 300 * 1_000_000_000,
            session_ns: 3600 * 1_000_000_000,
            stream: Limits::default(),
            files: FileLimits::default(),
        }
    }
}

/// What the table did, for the scan's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlowStats {
    /// Connections created.
    pub created: u64,
    /// Connections that ended (RST, FIN both ways).
    pub closed: u64,
    /// Connections dropped after the idle timeout.
    pub idle_evicted: u64,
    /// Connections dropped after the session timeout.
    pub session_evicted: u64,
    /// Connections dropped to stay under the memory cap.
    pub memcap_evicted: u64,
    /// Connections still open when their capture file ended.
    pub open_at_end: u64,
    /// Connections dropped (evicted, or open when their capture ended) while they held bytes
    /// their parser had not read: unconsumed, or waiting past a hole.
    pub evicted_with_data: u64,
    /// Holes skipped in streams, and their bytes.
    pub gaps: u64,
    /// Bytes lost in those holes.
    pub gap_bytes: u64,
    /// Bytes that overlapped held data and differed (first copy kept).
    pub differing_bytes: u64,
    /// Retransmitted bytes, identical to what was held.
    pub duplicate_bytes: u64,
    /// Bytes not buffered because they lay before a stream picked up mid-way or past the
    /// stream depth.
    pub outside_bytes: u64,
    /// Most connections held at once (by one worker).
    pub peak: u64,
}

impl FlowStats {
    /// Adds another table's counters (the peak is the largest of the two).
    pub fn merge(&mut self, o: &FlowStats) {
        self.created += o.created;
        self.closed += o.closed;
        self.idle_evicted += o.idle_evicted;
        self.session_evicted += o.session_evicted;
        self.memcap_evicted += o.memcap_evicted;
        self.open_at_end += o.open_at_end;
        self.evicted_with_data += o.evicted_with_data;
        self.gaps += o.gaps;
        self.gap_bytes += o.gap_bytes;
        self.differing_bytes += o.differing_bytes;
        self.duplicate_bytes += o.duplicate_bytes;
        self.outside_bytes += o.outside_bytes;
        self.peak = self.peak.max(o.peak);
    }

    fn add(&mut self, s: &Segment) {
        self.gaps += u64::from(s.gap > 0);
        self.gap_bytes += s.gap;
        self.differing_bytes += s.differing;
        self.duplicate_bytes += s.duplicate;
        self.outside_bytes += s.outside;
    }
}

/// One direction of a connection: its stream and what reads it.
pub struct Direction<A> {
    /// The reassembled bytes.
    pub stream: Stream,
    /// The application parser, created with the direction's first data.
    pub app: A,
}

struct Connection<A> {
    first_ns: i64,
    last_ns: i64,
    /// Index 0: from the key's first endpoint, 1: from the other (`FlowKey::sent_by_first`).
    dirs: [Option<Box<Direction<A>>>; 2],
    /// Which direction sent the first SYN without ACK (the client), if one was seen.
    client: Option<u8>,
    fin: [bool; 2],
    /// Bytes this connection holds, as last accounted.
    held: usize,
}

/// A connection as the table holds it: its capture source and flow key, and its state.
type Entry<A> = ((u32, FlowKey), Connection<A>);

/// Bytes of one table bucket: the entry and its control byte.
const BUCKET: usize = size_of::<Entry<()>>() + 1;

/// Bytes of a table able to hold `capacity` entries (hashbrown: a power-of-two number of
/// buckets, at most 7/8 full).
fn table_bytes(capacity: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    let buckets = (capacity * 8 / 7).next_power_of_two();
    buckets * BUCKET
}

/// What happened to a segment, for the caller.
pub struct Delivered<'t, A> {
    /// The direction the segment belongs to, when it carried data (or ended the stream).
    pub direction: Option<&'t mut Direction<A>>,
    /// The other direction of the connection, when it has one (what one direction's parser
    /// learns may concern the other: an HTTP request tells how its response is framed).
    pub peer: Option<&'t mut Direction<A>>,
    /// What the segment did to the stream.
    pub segment: Segment,
    /// Whether the connection has ended with this segment (after the caller reads the data).
    pub ended: bool,
}

/// A worker's connections.
pub struct FlowTable<A> {
    limits: FlowLimits,
    /// The connections, hashed by (source, key): a `HashTable` so that a segment hashes its
    /// key once however many times the entry is looked at.
    flows: HashTable<Entry<A>>,
    hasher: DefaultHashBuilder,
    /// Heap bytes of the connections' directions and buffers, as accounted.
    heap: usize,
    /// Capture time of the last timeout sweep, per the newest source clock seen.
    swept_ns: i64,
    /// Counters.
    pub stats: FlowStats,
}

/// What a direction's application parser holds on the heap, for the table's memory cap.
pub trait AppMemory {
    /// Heap bytes held beyond the parser's own size.
    fn held(&self) -> usize;
}

/// A table without parsers (tests, benchmarks of the reassembly alone).
impl AppMemory for () {
    fn held(&self) -> usize {
        0
    }
}

impl<A: AppMemory> FlowTable<A> {
    /// An empty table.
    pub fn new(limits: FlowLimits) -> Self {
        FlowTable {
            limits,
            flows: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            heap: 0,
            swept_ns: i64::MIN,
            stats: FlowStats::default(),
        }
    }

    /// Connections held.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Memory used, as accounted (the cap applies to this): the table's buckets and every
    /// connection's buffers.
    pub fn used(&self) -> usize {
        table_bytes(self.flows.capacity()) + self.heap
    }

    /// Adds one TCP segment of flow `key` (in capture source `source`), sent from the key's
    /// first endpoint when `from_first`, at capture time `ts_ns`. `new_app` makes a direction's
    /// parser when it first carries data (or a SYN): it is told whether the direction is the
    /// client's, when a SYN said so (`None` when the handshake was not seen).
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        source: u32,
        key: FlowKey,
        from_first: bool,
        ts_ns: i64,
        seq: u32,
        flags: u8,
        payload: &[u8],
        new_app: impl FnOnce(Option<bool>) -> A,
    ) -> Delivered<'_, A> {
        self.sweep(ts_ns);
        let d = usize::from(!from_first);
        let syn = flags & SYN != 0;
        let id = (source, key);
        let hash = self.hasher.hash_one(id);
        let is = |e: &Entry<A>| e.0 == id;
        if self.flows.find(hash, is).is_none() {
            // A lone ACK or FIN of a connection already gone starts nothing.
            if payload.is_empty() && !syn {
                return Delivered {
                    direction: None,
                    peer: None,
                    segment: Segment::default(),
                    ended: false,
                };
            }
            // Growing the table doubles its buckets: evict instead when that would pass the cap.
            if self.flows.len() == self.flows.capacity() {
                let next = table_bytes((self.flows.capacity() + 1).max(4) * 2);
                let growth = next - table_bytes(self.flows.capacity());
                if self.used() + growth > self.limits.memcap {
                    self.evict_oldest();
                }
            }
            let conn = Connection {
                first_ns: ts_ns,
                last_ns: ts_ns,
                dirs: [None, None],
                client: None,
                fin: [false; 2],
                held: 0,
            };
            let hasher = &self.hasher;
            self.flows
                .insert_unique(hash, (id, conn), |e| hasher.hash_one(e.0));
            self.stats.created += 1;
            self.stats.peak = self.stats.peak.max(self.flows.len() as u64);
        }
        let limits = self.limits.stream;
        let conn = &mut self.flows.find_mut(hash, is).expect("inserted above").1;
        conn.last_ns = conn.last_ns.max(ts_ns);
        if syn && flags & ACK == 0 && conn.client.is_none() {
            conn.client = Some(d as u8);
        }
        let needs_dir = !payload.is_empty() || syn;
        if needs_dir && conn.dirs[d].is_none() {
            let from_client = conn.client.map(|c| usize::from(c) == d);
            conn.dirs[d] = Some(Box::new(Direction {
                stream: Stream::default(),
                app: new_app(from_client),
            }));
        }
        let mut segment = Segment::default();
        if let Some(dir) = conn.dirs[d].as_mut() {
            segment = dir.stream.segment(seq, syn, payload, &limits);
        }
        let rst = flags & RST != 0;
        if flags & FIN != 0 {
            conn.fin[d] = true;
        }
        let ended = rst || (conn.fin[0] && conn.fin[1]);
        if flags & (FIN | RST) != 0 {
            if let Some(dir) = conn.dirs[d].as_mut() {
                // The sender is done: a hole before waiting data will not fill.
                let end = dir.stream.finish();
                segment.appended += end.appended;
                segment.gap += end.gap;
            }
        }
        // Account the connection's memory after the segment.
        let held = conn
            .dirs
            .iter()
            .flatten()
            .map(|d| size_of::<Direction<A>>() + d.stream.held() + d.app.held())
            .sum::<usize>();
        self.heap = self.heap + held - conn.held;
        conn.held = held;
        self.stats.add(&segment);
        while self.used() > self.limits.memcap && !self.flows.is_empty() {
            self.evict_oldest();
        }
        let (direction, peer) = match self.flows.find_mut(hash, is) {
            Some(e) => {
                let [a, b] = &mut e.1.dirs;
                let (mine, other) = if d == 0 { (a, b) } else { (b, a) };
                (mine.as_deref_mut(), other.as_deref_mut())
            }
            None => (None, None),
        };
        Delivered {
            direction,
            peer,
            segment,
            ended,
        }
    }

    /// Removes a connection that has ended (after its last data was read).
    pub fn close(&mut self, source: u32, key: FlowKey) {
        let id = (source, key);
        let hash = self.hasher.hash_one(id);
        if let Ok(entry) = self.flows.find_entry(hash, |e| e.0 == id) {
            let ((_, c), _) = entry.remove();
            self.heap -= c.held;
            self.stats.closed += 1;
        }
    }

    /// Drops every connection of a capture source that has ended.
    /// Counts those still open, and those that held bytes their parser never read.
    pub fn end_source(&mut self, source: u32) {
        let (mut freed, mut open, mut with_data) = (0, 0, 0);
        self.flows.retain(|((s, _), c)| {
            let keep = *s != source;
            if !keep {
                freed += c.held;
                open += 1;
                with_data += u64::from(waiting(c));
            }
            keep
        });
        self.heap -= freed;
        self.stats.open_at_end += open;
        self.stats.evicted_with_data += with_data;
    }

    /// Drops connections past their idle or session timeout, at most once a second of capture
    /// time.
    fn sweep(&mut self, now_ns: i64) {
        if now_ns < self.swept_ns.saturating_add(1_000_000_000) {
            return;
        }
        self.swept_ns = now_ns;
        let (idle, session) = (self.limits.idle_ns, self.limits.session_ns);
        let (mut idle_n, mut session_n, mut with_data, mut freed) = (0, 0, 0, 0);
        self.flows.retain(|(_, c)| {
            let idle_out = now_ns.saturating_sub(c.last_ns) > idle;
            let session_out = now_ns.saturating_sub(c.first_ns) > session;
            if idle_out || session_out {
                idle_n += u64::from(idle_out);
                session_n += u64::from(!idle_out);
                with_data += u64::from(waiting(c));
                freed += c.held;
                return false;
            }
            true
        });
        self.stats.idle_evicted += idle_n;
        self.stats.session_evicted += session_n;
        self.stats.evicted_with_data += with_data;
        self.heap -= freed;
    }

    /// Evicts the least recently seen quarter of the connections (at least one).
    fn evict_oldest(&mut self) {
        let mut seen: Vec<i64> = self.flows.iter().map(|(_, c)| c.last_ns).collect();
        if seen.is_empty() {
            return;
        }
        let k = (seen.len() / 4).max(1) - 1;
        let (_, &mut cutoff, _) = seen.select_nth_unstable(k);
        let budget = (self.flows.len() / 4).max(1);
        let (mut n, mut with_data, mut freed) = (0, 0, 0);
        self.flows.retain(|(_, c)| {
            if n < budget && c.last_ns <= cutoff {
                n += 1;
                with_data += u64::from(waiting(c));
                freed += c.held;
                return false;
            }
            true
        });
        self.stats.memcap_evicted += n as u64;
        self.stats.evicted_with_data += with_data;
        self.heap -= freed;
    }
}

/// Whether a connection holds bytes its parser has not had yet.
fn waiting<A>(c: &Connection<A>) -> bool {
    c.dirs.iter().flatten().any(|d| d.stream.has_unread())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    const S: i64 = 1_000_000_000;

    fn key(n: u32) -> FlowKey {
        let a = IpAddr::from((0x0a00_0000u32 + n).to_be_bytes());
        FlowKey::new(a, 40000, "192.0.2.1".parse().unwrap(), 80, 6)
    }

    #[test]
    fn a_connection_delivers_both_directions_and_ends_with_fins() {
        let mut t: FlowTable<Option<bool>> = FlowTable::new(FlowLimits::default());
        let k = key(1);
        t.segment(0, k, true, 0, 1000, SYN, &[], |c| c);
        t.segment(0, k, false, 1, 5000, SYN | ACK, &[], |c| c);
        let d = t.segment(0, k, true, 2, 1001, ACK, b"GET / HTTP/1.1\r\n", |c| c);
        let dir = d.direction.unwrap();
        assert_eq!(dir.app, Some(true), "the SYN sender is the client");
        assert_eq!(dir.stream.data(), b"GET / HTTP/1.1\r\n");
        let d = t.segment(0, k, false, 3, 5001, ACK, b"HTTP/1.1 200 OK\r\n", |c| c);
        assert_eq!(d.direction.unwrap().app, Some(false));
        assert!(!t.segment(0, k, true, 4, 1017, FIN | ACK, &[], |c| c).ended);
        assert!(t.segment(0, k, false, 5, 5018, FIN | ACK, &[], |c| c).ended);
        t.close(0, k);
        assert_eq!(t.len(), 0);
        assert_eq!(t.heap, 0, "every buffer is accounted as freed");
        assert_eq!((t.stats.created, t.stats.closed), (1, 1));
    }

    /// The test tables' parsers: a direction's client flag, holding nothing.
    impl AppMemory for Option<bool> {
        fn held(&self) -> usize {
            0
        }
    }

    #[test]
    fn idle_and_session_timeouts_evict_and_count() {
        let limits = FlowLimits {
            idle_ns: 10 * S,
            session_ns: 100 * S,
            ..FlowLimits::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(limits);
        t.segment(0, key(1), true, 0, 1, SYN, &[], |_| ());
        t.segment(0, key(2), true, 0, 1, SYN, &[], |_| ());
        // key(2) stays busy; key(1) goes idle.
        for s in 1..=12 {
            t.segment(0, key(2), true, s * S, 2, ACK, b"x", |_| ());
        }
        assert_eq!((t.len(), t.stats.idle_evicted), (1, 1));
        for s in 13..=102 {
            t.segment(0, key(2), true, s * S, 2 + s as u32, ACK, b"x", |_| ());
        }
        assert_eq!(t.stats.session_evicted, 1);
        assert_eq!(t.len(), 1, "the last segment made a new connection");
    }

    #[test]
    fn a_syn_flood_stays_under_the_memory_cap() {
        let limits = FlowLimits {
            memcap: 4 << 20,
            ..FlowLimits::default()
        };
        let mut t: FlowTable<()> = FlowTable::new(limits);
        let mut peak = 0;
        for n in 0..200_000 {
            t.segment(0, key(n), true, i64::from(n), n, SYN, &[], |_| ());
            peak = peak.max(t.used());
        }
        assert!(peak <= limits.memcap, "{peak}");
        assert!(t.stats.memcap_evicted > 100_000);
        assert_eq!(
            t.stats.created,
            t.len() as u64 + t.stats.memcap_evicted,
            "every connection is either held or counted as evicted"
        );
        // The newest connections are the ones kept.
        let newest = (0, key(199_999));
        assert!(
            t.flows
                .find(t.hasher.hash_one(newest), |e| e.0 == newest)
                .is_some()
        );
    }

    #[test]
    fn a_source_that_ends_frees_its_connections() {
        let mut t: FlowTable<()> = FlowTable::new(FlowLimits::default());
        t.segment(1, key(1), true, 0, 1, SYN, &[], |_| ());
        t.segment(2, key(1), true, 0, 1, SYN, &[], |_| ());
        assert_eq!(
            t.len(),
            2,
            "the same flow in two sources is two connections"
        );
        t.end_source(1);
        assert_eq!(t.len(), 1);
        assert_eq!(t.stats.open_at_end, 1);
    }
}
