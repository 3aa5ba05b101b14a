//! TCP reassembly of one direction of a connection: segments in, in-order bytes out.
//!
//! A [`Stream`] turns segments that arrive late, early, twice or overlapping into the byte
//! sequence the sender wrote, up to a depth. The caller reads [`Stream::data`], hands it to an
//! application parser, and [`Stream::consume`]s what the parser used; the rest waits for more.
//!
//! **Sequence space.** The first SYN fixes the stream's start (its sequence number + 1: data
//! on the SYN itself, TCP Fast Open, is the stream's first bytes). Without a handshake the
//! first data segment seen fixes it (mid-stream pickup); a segment that then turns out to lie
//! before that start is counted and dropped. Offsets are relative to the start, so sequence
//! numbers wrap freely; streams are read only to their depth, far below 2³¹ bytes.
//!
//! **Overlaps** (a retransmission, a repacketised segment): the bytes that arrived first win —
//! the policy of most end hosts, and what an IDS that must not be steered by a second copy
//! wants. Overlapping bytes that differ from those already held are counted as an anomaly
//! (an evasion attempt or a broken stack), never silently merged.
//!
//! **Gaps.** Segments past a hole wait, up to [`Limits::pending`] bytes. When that fills, or
//! the stream ends (FIN, RST, eviction) with the hole still open, the hole is skipped: its size
//! is counted and reported once ([`Segment::gap`]) so the parser can resynchronise at the next
//! message it recognises.
//!
//! Written here: the reassemblers in crates.io are tied to their own capture stacks
//! (smoltcp's assembler serves its socket buffers and keeps no data), and this is the core of
//! what a sensor sees.

/// Most segments held past a hole, whatever their size.
const MAX_WAITING: usize = 256;

/// How much one direction may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the stream read at most (request and response heads live near the start);
    /// later data is not buffered.
    pub depth: u64,
    /// Bytes held out of order, waiting for a hole to fill, before the hole is skipped.
    pub pending: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            depth: 1 << 20,
            pending: 64 << 10,
        }
    }
}

/// What one segment did to the stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// New in-order bytes appended to [`Stream::data`] (this segment's and any waiting ones it
    /// released).
    pub appended: usize,
    /// Bytes of a hole that was skipped (0: none): data was lost, the parser must resync.
    pub gap: u64,
    /// Bytes that overlapped data already held and differed from it.
    pub differing: u64,
    /// Bytes that duplicated data already held (retransmissions), identical.
    pub duplicate: u64,
    /// Bytes that lay before the stream's start (seen before a mid-stream pickup) or past its
    /// depth, and were dropped.
    pub outside: u64,
}

/// One direction of a TCP connection.
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// Sequence number of stream offset 0, once known.
    start: Option<u32>,
    /// Offset of the next byte expected.
    next: u64,
    /// In-order bytes not yet consumed. A skipped hole may lie inside them: only the run
    /// after the last one, `data[run..]`, is contiguous, ending at offset `next`.
    data: Vec<u8>,
    /// Where in `data` the run of bytes contiguous up to `next` starts.
    run: usize,
    /// Segments past a hole: (offset, bytes), sorted by offset, not overlapping each other.
    waiting: Vec<(u64, Vec<u8>)>,
    waiting_bytes: usize,
    /// No more data is buffered: the sender finished, or the reader asked to stop.
    closed: bool,
}

impl Stream {
    /// The in-order bytes not consumed yet.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Drops the first `n` bytes of [`Stream::data`]: the parser is done with them.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.data.len());
        self.data.drain(..n);
        self.run = self.run.saturating_sub(n);
    }

    /// Stops buffering: nothing more of this direction will be read.
    pub fn close(&mut self) {
        self.closed = true;
        self.data = Vec::new();
        self.run = 0;
        self.waiting = Vec::new();
        self.waiting_bytes = 0;
    }

    /// Whether the stream buffers no more data.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Bytes held (in order and waiting), for memory accounting.
    pub fn held(&self) -> usize {
        self.data.capacity() + self.waiting_bytes + self.waiting.capacity() * 32
    }

    /// Whether bytes are held that the reader has not had: unconsumed or waiting past a hole.
    pub fn has_unread(&self) -> bool {
        !self.data.is_empty() || !self.waiting.is_empty()
    }

    /// Offset of the next in-order byte expected (how far the stream has been delivered).
    pub fn delivered(&self) -> u64 {
        self.next
    }

    /// Adds one segment: `seq` its sequence number, `syn` whether it carries SYN, `payload`
    /// its data.
    pub fn segment(&mut self, seq: u32, syn: bool, payload: &[u8], limits: &Limits) -> Segment {
        let mut out = Segment::default();
        let start = match self.start {
            Some(s) => s,
            None if syn => {
                let s = seq.wrapping_add(1);
                self.start = Some(s);
                s
            }
            None if payload.is_empty() => return out,
            None => {
                // Mid-stream pickup: this segment is where the stream starts for us.
                self.start = Some(seq);
                seq
            }
        };
        if self.closed || payload.is_empty() {
            return out;
        }
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let rel = data_seq.wrapping_sub(start) as i32;
        let (mut off, mut bytes) = (i64::from(rel), payload);
        if off < 0 {
            // Starts before the stream: keep what lies after the start, if anything.
            let skip = usize::try_from(-off).unwrap_or(usize::MAX).min(bytes.len());
            out.outside += skip as u64;
            bytes = &bytes[skip..];
            off = 0;
        }
        let off = off as u64;
        // Past the depth: not buffered.
        let room = limits.depth.saturating_sub(off);
        if (bytes.len() as u64) > room {
            out.outside += bytes.len() as u64 - room;
            bytes = &bytes[..room as usize];
        }
        if bytes.is_empty() {
            return out;
        }
        self.insert(off, bytes, &mut out);
        self.release(&mut out);
        // Bounded in bytes and in pieces (a flood of one-byte segments past a hole would
        // otherwise make every insertion walk a long list).
        if self.waiting_bytes > limits.pending || self.waiting.len() > MAX_WAITING {
            self.skip_hole(&mut out);
        }
        out
    }

    /// Ends the stream (FIN, RST, eviction): a hole before waiting data is skipped, so what
    /// came after it is still read.
    pub fn finish(&mut self) -> Segment {
        let mut out = Segment::default();
        while !self.waiting.is_empty() && !self.closed {
            self.skip_hole(&mut out);
        }
        out
    }

    /// Puts `bytes` at offset `off`: the part before `next` is compared with what was already
    /// delivered (if still held) and dropped; the rest goes into the waiting list, first
    /// arrival winning over overlaps.
    fn insert(&mut self, off: u64, bytes: &[u8], out: &mut Segment) {
        let end = off + bytes.len() as u64;
        let (mut off, mut bytes) = (off, bytes);
        if off < self.next {
            let old = (self.next.min(end) - off) as usize;
            self.compare(off, &bytes[..old], out);
            bytes = &bytes[old..];
            off = self.next;
            if bytes.is_empty() {
                return;
            }
        }
        // Cut `bytes` around the waiting segments it overlaps; keep the new parts only.
        let mut cursor = off;
        let mut pieces: Vec<(u64, &[u8])> = Vec::new();
        for (w_off, w) in &self.waiting {
            let w_end = w_off + w.len() as u64;
            if w_end <= cursor || *w_off >= end {
                continue;
            }
            if *w_off > cursor {
                let from = (cursor - off) as usize;
                let to = (w_off - off) as usize;
                pieces.push((cursor, &bytes[from..to]));
            }
            // The overlap with this waiting segment: compare.
            let o_start = cursor.max(*w_off);
            let o_end = end.min(w_end);
            let new = &bytes[(o_start - off) as usize..(o_end - off) as usize];
            let held = &w[(o_start - w_off) as usize..(o_end - w_off) as usize];
            if new == held {
                out.duplicate += new.len() as u64;
            } else {
                out.differing += new.len() as u64;
            }
            cursor = o_end;
        }
        if cursor < end {
            pieces.push((cursor, &bytes[(cursor - off) as usize..]));
        }
        for (p_off, p) in pieces {
            let at = self.waiting.partition_point(|(o, _)| *o < p_off);
            self.waiting.insert(at, (p_off, p.to_vec()));
            self.waiting_bytes += p.len();
        }
    }

    /// Compares bytes at `off` (all before `next`) with those already delivered, where they
    /// are still held: the run of unconsumed bytes that ends at `next`. Bytes the reader
    /// consumed, and bytes before a skipped hole, cannot be placed: they count as duplicates.
    fn compare(&self, off: u64, bytes: &[u8], out: &mut Segment) {
        let end = off + bytes.len() as u64;
        let run = &self.data[self.run..];
        let run_start = self.next - run.len() as u64;
        let (lo, hi) = (off.max(run_start), end.min(self.next));
        let mut compared = 0;
        if lo < hi {
            let new = &bytes[(lo - off) as usize..(hi - off) as usize];
            let held = &run[(lo - run_start) as usize..(hi - run_start) as usize];
            let same = new.iter().zip(held).filter(|(a, b)| a == b).count();
            out.duplicate += same as u64;
            out.differing += (new.len() - same) as u64;
            compared = new.len();
        }
        out.duplicate += (bytes.len() - compared) as u64;
    }

    /// Moves waiting segments that now continue the stream into `data`.
    fn release(&mut self, out: &mut Segment) {
        let mut n = 0;
        for (off, bytes) in &self.waiting {
            if *off != self.next {
                break;
            }
            self.data.extend_from_slice(bytes);
            self.next += bytes.len() as u64;
            out.appended += bytes.len();
            self.waiting_bytes -= bytes.len();
            n += 1;
        }
        self.waiting.drain(..n);
    }

    /// Skips the hole before the first waiting segment.
    fn skip_hole(&mut self, out: &mut Segment) {
        let Some(&(off, _)) = self.waiting.first() else {
            return;
        };
        out.gap += off - self.next;
        self.next = off;
        // The bytes held so far are no longer contiguous with what follows.
        self.run = self.data.len();
        // What was not consumed before the hole is kept: the parser gets it, then the gap.
        self.release(out);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    /// Feeds (seq, payload) segments after a SYN at `isn`; returns the bytes delivered and the
    /// summed outcome.
    fn run(isn: u32, segments: &[(u32, Vec<u8>)], finish: bool) -> (Vec<u8>, Segment) {
        let mut s = Stream::default();
        let mut total = Segment::default();
        let add = |t: &mut Segment, o: Segment| {
            t.appended += o.appended;
            t.gap += o.gap;
            t.differing += o.differing;
            t.duplicate += o.duplicate;
            t.outside += o.outside;
        };
        add(&mut total, s.segment(isn, true, &[], &limits()));
        let mut got = Vec::new();
        for (seq, p) in segments {
            add(&mut total, s.segment(*seq, false, p, &limits()));
            got.extend_from_slice(s.data());
            let n = s.data().len();
            s.consume(n);
        }
        if finish {
            add(&mut total, s.finish());
            got.extend_from_slice(s.data());
        }
        (got, total)
    }

    #[test]
    fn in_order_out_of_order_and_duplicates_rebuild_the_stream() {
        let isn = u32::MAX - 3; // wraps inside the stream
        let seq = |off: u32| isn.wrapping_add(1).wrapping_add(off);
        let segs = vec![
            (seq(5), b"56789".to_vec()),
            (seq(0), b"01234".to_vec()),
            (seq(3), b"345".to_vec()),
            (seq(10), b"abc".to_vec()),
        ];
        let (got, out) = run(isn, &segs, false);
        assert_eq!(got, b"0123456789abc");
        assert_eq!((out.gap, out.differing, out.duplicate), (0, 0, 3));
    }

    #[test]
    fn differing_overlaps_are_counted_and_the_first_copy_wins() {
        // Overlapping bytes still held (not consumed yet) are compared.
        let mut s = Stream::default();
        s.segment(100, true, &[], &limits());
        s.segment(101, false, b"hello", &limits());
        let o = s.segment(103, false, b"LLOworld", &limits()); // "llo" overlaps, differs
        assert_eq!((o.differing, o.appended), (3, 5));
        assert_eq!(s.data(), b"helloworld");
        // Once consumed they cannot be: they count as duplicates.
        s.consume(10);
        assert_eq!(s.segment(101, false, b"HELLO", &limits()).duplicate, 5);
        // Out of order: the waiting copy wins over a later different one.
        let segs = vec![
            (106, b"world".to_vec()),
            (106, b"WORLD".to_vec()),
            (101, b"hello".to_vec()),
        ];
        let (got, out) = run(100, &segs, false);
        assert_eq!(got, b"helloworld");
        assert_eq!(out.differing, 5);
    }

    #[test]
    fn a_hole_is_skipped_at_the_end_and_when_waiting_data_fills() {
        let segs = vec![(101, b"ab".to_vec()), (110, b"xyz".to_vec())];
        let (got, out) = run(100, &segs, true);
        assert_eq!(got, b"abxyz");
        assert_eq!(out.gap, 7);
        // More waiting than the limit: the hole is skipped at once.
        let mut s = Stream::default();
        let small = Limits {
            depth: 1 << 20,
            pending: 10,
        };
        s.segment(0, true, &[], &small);
        assert_eq!(s.segment(21, false, &[7u8; 8], &small).gap, 0);
        let o = s.segment(29, false, &[8u8; 8], &small);
        assert_eq!((o.gap, o.appended), (20, 16));
        assert_eq!(s.data(), &[[7u8; 8], [8u8; 8]].concat()[..]);
    }

    #[test]
    fn a_retransmission_into_a_skipped_hole_is_not_compared_with_what_follows() {
        // Found by fuzzing: after a hole is skipped, the held bytes no longer start where
        // the stream's delivered offsets say.
        let mut s = Stream::default();
        s.segment(0, true, &[], &limits());
        s.segment(1, false, b"ab", &limits());
        s.segment(20, false, b"xyz", &limits());
        assert_eq!(s.finish().gap, 17);
        assert_eq!(s.data(), b"abxyz");
        // Offsets 2..28: the skipped hole (2..19) cannot be compared, "xyz" (19..22) is, and
        // differs; 22..28 is new.
        let o = s.segment(3, false, &[b'h'; 26], &limits());
        assert_eq!((o.differing, o.duplicate, o.appended), (3, 17, 6));
        assert_eq!(s.data(), b"abxyzhhhhhh");
        s.close();
        assert_eq!(s.segment(1, false, b"late", &limits()), Segment::default());
    }

    #[test]
    fn fast_open_data_on_the_syn_is_the_first_bytes() {
        let mut s = Stream::default();
        s.segment(1000, true, b"GET / HTTP/1.1\r\n", &limits());
        s.segment(1017, false, b"Host: a\r\n\r\n", &limits());
        assert_eq!(s.data(), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    }

    #[test]
    fn mid_stream_pickup_starts_at_the_first_data_and_drops_what_lies_before() {
        let mut s = Stream::default();
        s.segment(5000, false, b"world", &limits());
        let o = s.segment(4995, false, b"hello", &limits());
        assert_eq!(o.outside, 5);
        assert_eq!(s.data(), b"world");
    }

    #[test]
    fn the_depth_bounds_what_is_buffered() {
        let mut s = Stream::default();
        let l = Limits {
            depth: 8,
            pending: 64,
        };
        s.segment(0, true, &[], &l);
        let o = s.segment(1, false, b"0123456789", &l);
        assert_eq!((o.appended, o.outside), (8, 2));
        assert_eq!(s.segment(11, false, b"zz", &l).outside, 2);
    }

    proptest! {
        /// Any segmentation, reordering and duplication of a stream rebuilds exactly that
        /// stream, with no gap and no differing byte.
        #[test]
        fn any_segmentation_order_and_duplication_rebuilds_the_stream(
            isn in any::<u32>(),
            data in proptest::collection::vec(any::<u8>(), 1..3000),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
            dups in proptest::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..10),
            shuffle_seed in any::<u64>(),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len())).collect();
            at.push(0);
            at.push(data.len());
            at.sort_unstable();
            at.dedup();
            let mut segs: Vec<(u32, Vec<u8>)> = at
                .windows(2)
                .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), data[w[0]..w[1]].to_vec()))
                .collect();
            // Retransmissions of arbitrary ranges (possibly straddling segments).
            for (a, b) in &dups {
                let (a, b) = (a.index(data.len()), b.index(data.len()));
                let (lo, hi) = (a.min(b), a.max(b) + 1);
                segs.push((isn.wrapping_add(1).wrapping_add(lo as u32), data[lo..hi].to_vec()));
            }
            // A deterministic shuffle.
            let mut x = shuffle_seed | 1;
            for i in (1..segs.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                segs.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let (got, out) = run(isn, &segs, true);
            prop_assert_eq!(out.gap, 0);
            prop_assert_eq!(out.differing, 0);
            prop_assert_eq!(got, data);
        }
    }
}
