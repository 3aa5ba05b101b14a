//! Per-worker de-duplication of hits: one hit per (flow, indicator) within a window of capture
//! time. The window slides with the packets' own timestamps, so replaying a day-old pcap
//! de-duplicates exactly as the live sensor did.

use hashbrown::HashMap;

use super::flow::FlowKey;

/// Remembers when each (flow, indicator) last produced a hit.
#[derive(Debug)]
pub struct Dedup {
    window_ns: i64,
    last: HashMap<(FlowKey, u32), i64>,
    /// Hits suppressed as repeats within the window.
    pub suppressed: u64,
    newest: i64,
    swept_at: i64,
}

/// Entries beyond which a sweep of expired ones is forced even within one window.
const SWEEP_AT: usize = 1 << 20;

impl Dedup {
    /// A de-duplicator with a window of `window_ns` nanoseconds; 0 disables it.
    pub fn new(window_ns: i64) -> Dedup {
        Dedup {
            window_ns,
            last: HashMap::new(),
            suppressed: 0,
            newest: i64::MIN,
            swept_at: i64::MIN,
        }
    }

    /// Whether a hit of `indicator` in `flow` at `ts_ns` should be reported (and remembers it).
    pub fn admit(&mut self, flow: FlowKey, indicator: u32, ts_ns: i64) -> bool {
        if self.window_ns <= 0 {
            return true;
        }
        self.newest = self.newest.max(ts_ns);
        if self.last.len() >= SWEEP_AT || self.newest.saturating_sub(self.swept_at) > self.window_ns
        {
            let horizon = self.newest.saturating_sub(self.window_ns);
            self.last.retain(|_, &mut t| t > horizon);
            self.swept_at = self.newest;
        }
        match self.last.get_mut(&(flow, indicator)) {
            // Packets a little out of order (several readers, retransmissions) count as repeats
            // too: the window is symmetric.
            Some(t) if ts_ns.abs_diff(*t) < self.window_ns as u64 => {
                self.suppressed += 1;
                false
            }
            Some(t) => {
                *t = (*t).max(ts_ns);
                true
            }
            None => {
                self.last.insert((flow, indicator), ts_ns);
                true
            }
        }
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
        assert!(d.admit(flow(1000), 7, 0));
        assert!(!d.admit(flow(1000), 7, 10 * S));
        assert!(d.admit(flow(1000), 8, 10 * S), "another indicator");
        assert!(d.admit(flow(1001), 7, 10 * S), "another flow");
        assert!(!d.admit(flow(1000), 7, 59 * S));
        assert!(d.admit(flow(1000), 7, 60 * S), "window elapsed");
        assert_eq!(d.suppressed, 2);
    }

    #[test]
    fn zero_window_reports_everything_and_memory_stays_bounded() {
        let mut d = Dedup::new(0);
        assert!(d.admit(flow(1), 1, 0) && d.admit(flow(1), 1, 0));
        let mut d = Dedup::new(S);
        for i in 0..100_000i64 {
            d.admit(flow((i % 60_000) as u16), 1, i * S / 1000);
        }
        assert!(d.last.len() < 5_000, "{}", d.last.len());
    }
}
