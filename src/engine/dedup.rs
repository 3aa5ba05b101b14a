//! Per-worker de-duplication of hits: one hit per (source, flow, indicator) within a window of
//! capture time. The window slides with the packets' own timestamps, so replaying a day-old
//! pcap de-duplicates exactly as the live sensor did.
//!
//! **Deterministic.** Every decision depends only on the frames of its own source, in that
//! source's order, whatever the number of workers and however the threads are scheduled:
//!
//! * state is kept per source (capture file or interface), so two captures holding the same
//!   flow, or the same capture given twice, are de-duplicated each on its own;
//! * a flow is routed to one worker by its key, so a worker sees all of a flow's frames of a
//!   source in order;
//! * entries expire by the source's own clock, stamped on each frame by its reader
//!   ([`FrameRef::newest_ns`](super::batch::FrameRef::newest_ns): the latest capture time
//!   reached so far), not by what else the worker happened to see. An entry made when that
//!   clock read `c` counts as gone once it passes `c + window`, whether or not a sweep has
//!   removed it yet; since the clock never goes back, a sweep removes nothing a later decision
//!   could see. (A capture whose timestamps jump back still de-duplicates: its entries are made
//!   at the clock's reading, and live until the clock moves a window past it.)

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use crate::packets::flow::FlowKey;

/// Remembers when each (source, flow, indicator) last produced a hit.
#[derive(Debug)]
pub(crate) struct Dedup {
    window_ns: i64,
    sources: HashMap<u32, Table>,
    /// Hits suppressed as repeats within the window.
    pub suppressed: u64,
}

/// One source's entries.
#[derive(Debug)]
struct Table {
    /// When the entry's last reported hit was captured, and the source's clock then.
    last: HashMap<(FlowKey, u32), (i64, i64)>,
    swept_at: i64,
    sweep_len: usize,
}

/// Entries beyond which a sweep of expired ones is forced even within one window (the bound
/// doubles while the entries are all live, so sweeps stay amortised).
const SWEEP_AT: usize = 1 << 20;

impl Dedup {
    /// A de-duplicator with a window of `window_ns` nanoseconds; 0 disables it.
    pub(crate) fn new(window_ns: i64) -> Dedup {
        Dedup {
            window_ns,
            sources: HashMap::new(),
            suppressed: 0,
        }
    }

    /// Whether a hit of `indicator` in `flow` of `source` at `ts_ns` should be reported (and
    /// remembers it); `newest_ns` is the source's clock at that frame (the latest capture time
    /// it had reached, at least `ts_ns`).
    pub(crate) fn admit(
        &mut self,
        source: u32,
        flow: FlowKey,
        indicator: u32,
        ts_ns: i64,
        newest_ns: i64,
    ) -> bool {
        if self.window_ns <= 0 {
            return true;
        }
        let window = self.window_ns;
        let table = self.sources.entry(source).or_insert_with(|| Table {
            last: HashMap::new(),
            swept_at: i64::MIN,
            sweep_len: SWEEP_AT,
        });
        let horizon = newest_ns.saturating_sub(window);
        if table.last.len() >= table.sweep_len || newest_ns.saturating_sub(table.swept_at) > window
        {
            table.last.retain(|_, &mut (_, clock)| clock > horizon);
            table.swept_at = newest_ns;
            table.sweep_len = SWEEP_AT.max(2 * table.last.len());
        }
        match table.last.entry((flow, indicator)) {
            // Packets a little out of order (retransmissions, merged captures) count as repeats
            // too: the window is symmetric.
            Entry::Occupied(e)
                if e.get().1 > horizon && ts_ns.abs_diff(e.get().0) < window as u64 =>
            {
                self.suppressed += 1;
                false
            }
            Entry::Occupied(mut e) => {
                let (t, clock) = e.get_mut();
                // An expired entry is as good as swept: start afresh.
                *t = if *clock > horizon {
                    (*t).max(ts_ns)
                } else {
                    ts_ns
                };
                *clock = newest_ns;
                true
            }
            Entry::Vacant(e) => {
                e.insert((ts_ns, newest_ns));
                true
            }
        }
    }

    /// Forgets a source that has ended.
    pub(crate) fn end_source(&mut self, source: u32) {
        self.sources.remove(&source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn flow(port: u16) -> FlowKey {
        FlowKey::new(
            "192.0.2.1".parse().unwrap(),
            port,
            "198.51.100.1".parse().unwrap(),
            53,
            17,
        )
    }

    #[test]
    fn one_hit_per_flow_and_indicator_per_window() {
        let mut d = Dedup::new(60 * S);
        assert!(d.admit(0, flow(1000), 7, 0, 0));
        assert!(!d.admit(0, flow(1000), 7, 10 * S, 10 * S));
        assert!(
            d.admit(0, flow(1000), 8, 10 * S, 10 * S),
            "another indicator"
        );
        assert!(d.admit(0, flow(1001), 7, 10 * S, 10 * S), "another flow");
        assert!(d.admit(1, flow(1000), 7, 10 * S, 10 * S), "another source");
        assert!(!d.admit(0, flow(1000), 7, 59 * S, 59 * S));
        assert!(d.admit(0, flow(1000), 7, 60 * S, 60 * S), "window elapsed");
        assert_eq!(d.suppressed, 2);
    }

    #[test]
    fn sources_keep_their_own_clocks() {
        // A capture from 2004 and one from 2024 on one worker: the newer one's frames do not
        // expire the older one's entries.
        let (old, new) = (1_100_000_000 * S, 1_700_000_000 * S);
        let mut d = Dedup::new(60 * S);
        assert!(d.admit(0, flow(1), 7, old, old));
        assert!(d.admit(1, flow(1), 7, new, new));
        assert!(!d.admit(0, flow(1), 7, old + S, old + S));
        d.end_source(0);
        assert!(
            d.admit(0, flow(1), 7, old + 2 * S, old + 2 * S),
            "a new source 0"
        );
    }

    #[test]
    fn an_expired_entry_counts_as_gone_swept_or_not() {
        // The source's clock has moved past the entry's window: the hit is reported again,
        // whether or not a sweep ran in between (another worker, other flows).
        for sweep_first in [false, true] {
            let mut d = Dedup::new(60 * S);
            assert!(d.admit(0, flow(1), 7, 0, 0));
            if sweep_first {
                assert!(d.admit(0, flow(2), 7, 200 * S, 200 * S));
            }
            // Timestamps that jumped back (30 s, with the clock at 200 s) de-duplicate among
            // themselves.
            assert!(
                d.admit(0, flow(1), 7, 30 * S, 200 * S),
                "sweep first: {sweep_first}"
            );
            assert!(!d.admit(0, flow(1), 7, 31 * S, 200 * S));
            assert!(!d.admit(0, flow(1), 7, 80 * S, 250 * S));
            assert!(d.admit(0, flow(1), 7, 91 * S, 250 * S));
            assert!(
                d.admit(0, flow(1), 7, 92 * S, 330 * S),
                "clock moved a window on"
            );
            assert_eq!(d.suppressed, 2);
        }
    }

    #[test]
    fn zero_window_reports_everything_and_memory_stays_bounded() {
        let mut d = Dedup::new(0);
        assert!(d.admit(0, flow(1), 1, 0, 0) && d.admit(0, flow(1), 1, 0, 0));
        let mut d = Dedup::new(S);
        for i in 0..100_000i64 {
            let ts = i * S / 1000;
            d.admit(0, flow((i % 60_000) as u16), 1, ts, ts);
        }
        assert!(
            d.sources[&0].last.len() < 5_000,
            "{}",
            d.sources[&0].last.len()
        );
    }
}
