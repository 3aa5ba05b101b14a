//! Readers: turn a capture source into batches for the workers, routing each frame by its
//! symmetric flow hash so that both directions of a flow reach the same worker, and stamping
//! each frame with its source's clock (the latest capture time so far), by which the workers'
//! de-duplication expires — so hits do not depend on which worker saw what.

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};

use super::batch::{Batch, Bytes, FrameRef, ts_ns};
use super::reload::SetStatus;
use super::stats::Stats;
use crate::indicators::notice::Notices;
use crate::packets::capture::CaptureFile;
use crate::packets::decode::{self, LinkType, Packet};
use crate::packets::flow::{FlowKey, tunnel_context};
use crate::packets::tunnel;

/// Routes frames to per-worker batches and sends full ones.
struct Router<'a> {
    senders: &'a [Sender<Batch>],
    pending: Vec<Vec<FrameRef>>,
    batch_size: usize,
    stats: Stats,
    /// The source's clock: the latest capture time so far.
    newest_ns: i64,
    /// Set when a worker has gone (the output failed): reading should stop.
    closed: bool,
}

impl<'a> Router<'a> {
    fn new(senders: &'a [Sender<Batch>], batch_size: usize) -> Self {
        Router {
            senders,
            pending: (0..senders.len())
                .map(|_| Vec::with_capacity(batch_size))
                .collect(),
            batch_size,
            stats: Stats::default(),
            newest_ns: i64::MIN,
            closed: false,
        }
    }

    /// Advances the source's clock to a frame's time and returns it.
    fn tick(&mut self, sec: i64, nsec: u32) -> i64 {
        self.newest_ns = self.newest_ns.max(ts_ns(sec, nsec));
        self.newest_ns
    }

    /// The worker for a frame: by flow hash, or by frame number when it does not decode (the
    /// worker counts the decode error).
    fn worker_for(&self, link: LinkType, data: &[u8], number: u64) -> usize {
        let n = self.senders.len() as u64;
        if n == 1 {
            return 0;
        }
        if let Some(key) = ipv4_fast_key(link, data) {
            return (key.hash64() % n) as usize;
        }
        let h = match decode::decode(link, data) {
            Ok(p) => innermost_key(p).hash64(),
            Err(_) => number,
        };
        (h % n) as usize
    }

    /// Queues a frame for worker `w`; returns the full batch's frames when it filled.
    fn push(&mut self, w: usize, f: FrameRef) -> Option<Vec<FrameRef>> {
        self.pending[w].push(f);
        (self.pending[w].len() >= self.batch_size)
            .then(|| std::mem::replace(&mut self.pending[w], Vec::with_capacity(self.batch_size)))
    }

    fn send(&mut self, w: usize, batch: Batch) {
        match self.senders[w].try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(batch)) => {
                self.stats.backpressure += 1;
                self.closed |= self.senders[w].send(batch).is_err();
            }
            Err(TrySendError::Disconnected(_)) => self.closed = true,
        }
    }
}

/// Reads a capture file (source number `source`) into batches until its end, a corrupt frame,
/// `stop`, or the workers going away. `progress` is advanced by the bytes read.
pub(crate) fn read_file(
    file: Arc<CaptureFile>,
    name: Arc<str>,
    source: u32,
    senders: &[Sender<Batch>],
    batch_size: usize,
    stop: &AtomicBool,
    progress: &AtomicU64,
) -> Stats {
    let mut r = Router::new(senders, batch_size);
    let batch = |frames, last| Batch {
        bytes: Bytes::Mapped(file.clone()),
        frames,
        origin: name.clone(),
        source,
        last,
        live: false,
    };
    let base = file.bytes().as_ptr() as usize;
    let mut last_off = 0u64;
    for (i, frame) in file.frames().enumerate() {
        if r.closed || (i % 4096 == 0 && stop.load(Ordering::Relaxed)) {
            break;
        }
        // A relaxed load: the fault that sets it happens on this thread or a worker's.
        if file.is_damaged() {
            break;
        }
        let f = match frame {
            Ok(f) => f,
            Err(e) => {
                r.stats.file_errors.push(format!("{name}: {e}"));
                break;
            }
        };
        let off = f.data.as_ptr() as usize - base;
        let w = r.worker_for(f.link, f.data, f.number);
        let fr = FrameRef {
            number: f.number,
            ts_sec: f.ts_sec,
            ts_nsec: f.ts_nsec,
            newest_ns: r.tick(f.ts_sec, f.ts_nsec),
            link: f.link,
            off,
            len: f.data.len() as u32,
            orig_len: f.orig_len,
        };
        if let Some(frames) = r.push(w, fr) {
            r.send(w, batch(frames, false));
        }
        let end = (off + f.data.len()) as u64;
        progress.fetch_add(end.saturating_sub(last_off), Ordering::Relaxed);
        last_off = end;
    }
    if file.is_damaged() {
        r.stats.file_errors.push(format!(
            "{name}: the file was truncated or rewritten in place while it was scanned; \
             reading stopped at byte {last_off} of {}",
            file.bytes().len()
        ));
    }
    // Every worker gets a last batch, empty or not: it ends the source's flow state there.
    for w in 0..senders.len() {
        let frames = std::mem::take(&mut r.pending[w]);
        r.send(w, batch(frames, true));
    }
    r.stats
}

/// The flow key of the commonest frame (Ethernet, IPv4 without options, unfragmented TCP or
/// UDP) read at fixed offsets, without a full decode; `None` for anything else. Gives the same
/// key as the full decode, so both paths route a flow to the same worker.
fn ipv4_fast_key(link: LinkType, d: &[u8]) -> Option<FlowKey> {
    if link != LinkType::Ethernet
        || d.len() < 14 + 20 + 4
        || d[12..14] != [0x08, 0x00]
        || d[14] != 0x45
    {
        return None;
    }
    let proto = d[23];
    // Fragments and cut transport headers go through the full decode (which may then report
    // no ports).
    let l4 = match proto {
        6 => 20,
        17 => 8,
        _ => return None,
    };
    if d.len() < 34 + l4 || u16::from_be_bytes([d[20], d[21]]) & 0x3FFF != 0 {
        return None;
    }
    let ip = |o: usize| std::net::IpAddr::from([d[o], d[o + 1], d[o + 2], d[o + 3]]);
    let port = |o: usize| u16::from_be_bytes([d[o], d[o + 1]]);
    if tunnel::may_carry(proto, port(34), port(36)) {
        return None;
    }
    Some(FlowKey::new(ip(26), port(34), ip(30), port(36), proto))
}

/// The key of the innermost flow a packet carries (its own when it is no tunnel packet): both
/// directions of a tunnelled flow must reach the worker that keeps its state, and the outer
/// headers of the two directions often differ (a VXLAN source port hashes the inner flow).
fn innermost_key(outer: Packet<'_>) -> FlowKey {
    let (mut key, mut carrier, mut context) = (FlowKey::of(&outer), outer, 0);
    for step in tunnel::layers(outer) {
        if let tunnel::Step::Packet { tunnel, packet, .. } = step {
            context = tunnel_context(context, &carrier, &tunnel);
            key = FlowKey::of(&packet).in_tunnel(context);
            carrier = packet;
        }
    }
    key
}

/// Live-capture settings.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface name.
    pub interface: String,
    /// Bytes captured per packet.
    pub snaplen: i32,
    /// Promiscuous mode.
    pub promisc: bool,
    /// Kernel buffer size in bytes.
    pub buffer_size: i32,
    /// Deliver packets as they arrive instead of in kernel batches.
    pub immediate: bool,
    /// BPF filter expression.
    pub bpf: Option<String>,
}

/// An opened live capture (opened before privileges are dropped).
pub struct LiveCapture {
    cap: pcap::Capture<pcap::Active>,
    link: LinkType,
    name: Arc<str>,
}

/// Packets read from a live capture between two checks of the stop flag, the batch ages and
/// the stats interval.
const DRAIN: usize = 4096;

/// Waits until `fd` is readable or `timeout` has passed (or a signal came).
fn wait_readable(fd: std::os::fd::RawFd, timeout: Duration) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; poll only writes its `revents`. The result does not matter:
    // the caller reads without blocking whatever it returned.
    unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
}

impl LiveCapture {
    /// Opens the interface with the options and applies the BPF filter.
    pub fn open(o: &LiveOptions) -> crate::Result<LiveCapture> {
        let err = |e: pcap::Error| crate::Error::invalid(format!("{}: {e}", o.interface));
        let mut cap = pcap::Capture::from_device(o.interface.as_str())
            .map_err(err)?
            .snaplen(o.snaplen)
            .promisc(o.promisc)
            .buffer_size(o.buffer_size)
            .immediate_mode(o.immediate)
            .timeout(100)
            .open()
            .map_err(err)?;
        if let Some(f) = &o.bpf {
            cap.filter(f, true).map_err(err)?;
        }
        // Read without blocking, waiting in `run` with a timeout of its own (see there).
        let cap = cap.setnonblock().map_err(err)?;
        let link = LinkType::from_linktype(cap.get_datalink().0 as u32);
        Ok(LiveCapture {
            cap,
            link,
            name: o.interface.as_str().into(),
        })
    }

    /// Reads packets until `stop`, flushing a worker's batch when it is full or 50 ms old, and
    /// telling `notices` the packet and kernel-drop counts and the set's status every
    /// `stats_interval`.
    /// Returns the counters including the kernel's drop counts.
    pub(crate) fn run(
        mut self,
        senders: &[Sender<Batch>],
        batch_size: usize,
        stats_interval: Option<Duration>,
        notices: &Notices,
        set: &SetStatus,
        stop: &AtomicBool,
    ) -> Stats {
        let mut last_stats = Instant::now();
        let mut r = Router::new(senders, batch_size);
        let mut bufs: Vec<Vec<u8>> = (0..senders.len()).map(|_| Vec::new()).collect();
        let mut oldest: Vec<Option<Instant>> = vec![None; senders.len()];
        let mut number = 0u64;
        let flush = |r: &mut Router<'_>,
                     bufs: &mut Vec<Vec<u8>>,
                     oldest: &mut Vec<Option<Instant>>,
                     w: usize,
                     name: &Arc<str>,
                     last: bool| {
            let frames = std::mem::take(&mut r.pending[w]);
            let bytes = std::mem::take(&mut bufs[w]);
            oldest[w] = None;
            if !frames.is_empty() || last {
                r.send(
                    w,
                    Batch {
                        bytes: Bytes::Owned(bytes),
                        frames,
                        origin: name.clone(),
                        source: 0,
                        last,
                        live: true,
                    },
                );
            }
        };
        let fd = self.cap.as_raw_fd();
        'capture: while !r.closed && !stop.load(Ordering::Relaxed) {
            // The capture is non-blocking: wait for the socket at most 50 ms, so that a quiet
            // link still sees SIGINT/SIGTERM, flushes a waiting batch and prints its stats (a
            // blocking read on a quiet link waited for the next packet, however long).
            wait_readable(fd, Duration::from_millis(50));
            // Then drain what is there, a bounded number at a time so that a busy link also
            // gets to the checks below.
            for _ in 0..DRAIN {
                if r.closed {
                    break;
                }
                match self.cap.next_packet() {
                    Ok(p) => {
                        number += 1;
                        let w = r.worker_for(self.link, p.data, number);
                        let off = bufs[w].len();
                        bufs[w].extend_from_slice(p.data);
                        oldest[w].get_or_insert_with(Instant::now);
                        let (ts_sec, ts_nsec) = (
                            p.header.ts.tv_sec,
                            (p.header.ts.tv_usec as u32).saturating_mul(1000),
                        );
                        let fr = FrameRef {
                            number,
                            ts_sec,
                            ts_nsec,
                            newest_ns: r.tick(ts_sec, ts_nsec),
                            link: self.link,
                            off,
                            len: p.data.len() as u32,
                            orig_len: p.header.len,
                        };
                        r.pending[w].push(fr);
                        if r.pending[w].len() >= batch_size {
                            flush(&mut r, &mut bufs, &mut oldest, w, &self.name, false);
                        }
                    }
                    // Non-blocking: nothing more to read now.
                    Err(pcap::Error::TimeoutExpired) => break,
                    Err(e) => {
                        r.stats.file_errors.push(format!("{}: {e}", self.name));
                        break 'capture;
                    }
                }
            }
            for w in 0..senders.len() {
                if oldest[w].is_some_and(|t| t.elapsed() > Duration::from_millis(50)) {
                    flush(&mut r, &mut bufs, &mut oldest, w, &self.name, false);
                }
            }
            if stats_interval.is_some_and(|every| last_stats.elapsed() >= every) {
                last_stats = Instant::now();
                if let Ok(s) = self.cap.stats() {
                    notices.say(format_args!(
                        "{} packets captured, {} dropped by the kernel, {} by the interface, {} back-pressure waits; {}",
                        number,
                        s.dropped,
                        s.if_dropped,
                        r.stats.backpressure,
                        set.line()
                    ));
                }
            }
        }
        for w in 0..senders.len() {
            flush(&mut r, &mut bufs, &mut oldest, w, &self.name, true);
        }
        if let Ok(s) = self.cap.stats() {
            r.stats.kernel_drops = u64::from(s.dropped);
            r.stats.interface_drops = u64::from(s.if_dropped);
        }
        r.stats
    }
}
