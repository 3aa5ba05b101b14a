//! Counters of a scan: per worker and per reader, merged at the end and at each progress tick.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::packets::app::quic::QuicStats;
use crate::packets::flow_table::FlowStats;

/// What a scan saw and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Frames read from captures.
    pub frames: u64,
    /// Bytes of those frames as captured.
    pub bytes: u64,
    /// Frames decoded to an IP packet.
    pub decoded: u64,
    /// Frames not decoded, per reason (ARP and other non-IP frames included).
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// Packets whose IP layer decoded but a later layer was cut short.
    pub truncated: u64,
    /// IP fragments seen (not reassembled).
    pub fragments: u64,
    /// Packets taken out of a tunnel, per tunnel (`vxlan`, `gre`, …).
    pub tunnels: BTreeMap<&'static str, u64>,
    /// Tunnel packets whose carried packet was not matched, per reason (a cut or unknown
    /// tunnel header, a carried frame that is not IP, too many nested tunnels).
    pub tunnel_errors: BTreeMap<&'static str, u64>,
    /// TCP connections tracked, evicted and reassembled (gaps, overlaps).
    pub flows: FlowStats,
    /// QUIC client Initials decrypted and ClientHellos read.
    pub quic: QuicStats,
    /// Application payloads that failed to parse, per reason.
    pub app_errors: BTreeMap<&'static str, u64>,
    /// Values looked up (addresses, names, URLs, ...).
    pub lookups: u64,
    /// Hits reported.
    pub hits: u64,
    /// Hits suppressed as repeats within the de-duplication window.
    pub deduplicated: u64,
    /// Times a queue between threads was full and its producer waited (back-pressure).
    pub backpressure: u64,
    /// Capture-file problems (a truncated or corrupt file), with where they were found.
    pub file_errors: Vec<String>,
    /// Packets the kernel dropped (live capture).
    pub kernel_drops: u64,
    /// Packets the interface dropped (live capture).
    pub interface_drops: u64,
    /// Set reloads performed.
    pub reloads: u64,
}

impl Stats {
    /// Counts one occurrence of `reason` in `map`.
    pub fn count(map: &mut BTreeMap<&'static str, u64>, reason: &'static str) {
        *map.entry(reason).or_default() += 1;
    }

    /// Adds another worker's or reader's counters into these.
    pub fn merge(&mut self, o: &Stats) {
        self.frames += o.frames;
        self.bytes += o.bytes;
        self.decoded += o.decoded;
        for (k, v) in &o.decode_errors {
            *self.decode_errors.entry(k).or_default() += v;
        }
        self.truncated += o.truncated;
        self.fragments += o.fragments;
        for (mine, theirs) in [
            (&mut self.tunnels, &o.tunnels),
            (&mut self.tunnel_errors, &o.tunnel_errors),
            (&mut self.app_errors, &o.app_errors),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
        self.flows.merge(&o.flows);
        self.quic.merge(&o.quic);
        self.lookups += o.lookups;
        self.hits += o.hits;
        self.deduplicated += o.deduplicated;
        self.backpressure += o.backpressure;
        self.file_errors.extend(o.file_errors.iter().cloned());
        self.kernel_drops += o.kernel_drops;
        self.interface_drops += o.interface_drops;
        self.reloads += o.reloads;
    }

    /// A summary with rates over `elapsed`.
    pub fn summary(&self, elapsed: Duration) -> Summary<'_> {
        Summary {
            stats: self,
            elapsed,
        }
    }
}

/// [`Stats`] with the elapsed time, for printing.
pub struct Summary<'a> {
    stats: &'a Stats,
    elapsed: Duration,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "packets: {} ({} bytes) in {:.3} s: {:.3} Mpps, {:.3} Gbps",
            s.frames,
            s.bytes,
            secs,
            s.frames as f64 / secs / 1e6,
            s.bytes as f64 * 8.0 / secs / 1e9
        )?;
        writeln!(
            f,
            "decoded: {}, truncated: {}, fragments: {}, lookups: {}",
            s.decoded, s.truncated, s.fragments, s.lookups
        )?;
        writeln!(
            f,
            "hits: {}, repeats suppressed: {}, back-pressure waits: {}, reloads: {}",
            s.hits, s.deduplicated, s.backpressure, s.reloads
        )?;
        let fl = &s.flows;
        if fl.created > 0 {
            writeln!(
                f,
                "tcp connections: {} ({} closed, {} open when their capture ended, at most {} held \
                 by one worker); evicted: {} idle, {} too long, {} over the memory cap; {} dropped \
                 with unread data",
                fl.created,
                fl.closed,
                fl.open_at_end,
                fl.peak,
                fl.idle_evicted,
                fl.session_evicted,
                fl.memcap_evicted,
                fl.evicted_with_data
            )?;
            writeln!(
                f,
                "tcp streams: {} gaps ({} bytes lost), {} overlapping bytes that differed, {} \
                 retransmitted, {} not read (before a mid-stream start or past the depth)",
                fl.gaps, fl.gap_bytes, fl.differing_bytes, fl.duplicate_bytes, fl.outside_bytes
            )?;
        }
        let q = &s.quic;
        if q.connections + q.server_initials + q.later_initials > 0 {
            writeln!(
                f,
                "quic: {} client initials decrypted, {} client hellos read over {} connections \
                 ({} evicted); not opened: {} server initials, {} client initials after the hello",
                q.initials,
                q.client_hellos,
                q.connections,
                q.evicted,
                q.server_initials,
                q.later_initials
            )?;
        }
        if s.kernel_drops + s.interface_drops > 0 {
            writeln!(
                f,
                "dropped: {} by the kernel, {} by the interface",
                s.kernel_drops, s.interface_drops
            )?;
        }
        for (title, map) in [
            ("not decoded", &s.decode_errors),
            ("decapsulated", &s.tunnels),
            ("tunnel packets not opened", &s.tunnel_errors),
            ("payload errors", &s.app_errors),
        ] {
            if !map.is_empty() {
                writeln!(f, "{title}: {}", map.values().sum::<u64>())?;
                for (reason, n) in map {
                    writeln!(f, "  {reason}: {n}")?;
                }
            }
        }
        for e in &s.file_errors {
            writeln!(f, "capture file error: {e}")?;
        }
        Ok(())
    }
}
