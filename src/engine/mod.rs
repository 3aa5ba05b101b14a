//! The matching engine: it wires a lane to the sinks. For packets, readers hand batches to
//! workers over bounded channels, workers decode and look up, hits go to one sink thread; log
//! lines have an engine of their own, [`logs`].
//!
//! ```text
//! reader (one per source) ──flow hash──▶ worker 1..N ──hits──▶ sink (JSON Lines, EVE)
//!        capture file (mmap) / NIC           ▲
//!                                 set (ArcSwap, reloaded between batches)
//! ```
//!
//! * `batch` — frames travel as offsets into the mapped file (or one buffer per batch).
//! * [`reader`] — capture files and live interfaces; `FlowKey`
//!   routes both directions of a flow to one worker, so `dedup::Dedup` (one hit per flow and
//!   indicator per window) needs no locks.
//! * `worker` — decode, extract, batched address lookups, application-layer lookups; each
//!   admitted match becomes a [`crate::hits::Hit`] (with the set version it was matched in)
//!   on its way to the sink.
//! * [`reload::Reloader`] — SIGHUP or a replaced set file swaps the set atomically.
//! * [`stats::Stats`] — counters, merged at the end; [`Options::notices`] hears the running
//!   counters and reloads while a scan runs (the engine prints nothing).
//! * [`logs`] — the log-scan engine: chunks of lines to parallel workers, output back in input
//!   order.

pub(crate) mod batch;
pub(crate) mod dedup;
pub(crate) mod logs;
pub(crate) mod reader;
pub(crate) mod reload;
pub(crate) mod stats;
pub(crate) mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use memmap2::Mmap;

use crate::hits::{Hit, HitSink, SetVersion};
use crate::indicators::error::{Error, Result};
use crate::indicators::notice::Notices;
use crate::packets::capture::CaptureFile;
use crate::packets::flow_table::FlowLimits;
use batch::Batch;
use reader::{LiveCapture, read_file};
use reload::Reloader;
use stats::Stats;
use worker::Worker;

/// A packet hit, with the set version it was matched in.
type PacketHit = Hit<Arc<SetVersion<Mmap>>>;

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Options {
    /// Worker threads.
    pub workers: usize,
    /// Frames per batch.
    pub batch_size: usize,
    /// Batches queued per worker before its reader waits.
    pub queue_depth: usize,
    /// One hit per (flow, indicator) within this much capture time; zero reports every hit.
    pub dedup_window: Duration,
    /// TCP connection tracking: the memory cap of all workers' flow tables together (each
    /// worker gets its share), timeouts and stream depth.
    pub flows: FlowLimits,
    /// How often to say the running counters (live capture); `None` for never.
    pub stats_interval: Option<Duration>,
    /// Hears the running counters and each reload (swapped, refused, damaged set file).
    pub notices: Notices,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            batch_size: 256,
            queue_depth: 16,
            dedup_window: Duration::from_secs(60),
            flows: FlowLimits::default(),
            stats_interval: None,
            notices: Notices::default(),
        }
    }
}

/// The result of a scan.
#[derive(Debug)]
pub struct Outcome {
    /// Counters of every reader and worker.
    pub stats: Stats,
    /// Wall-clock time from start to the last hit written.
    pub elapsed: Duration,
    /// The set generation in use at the end.
    pub generation: u64,
    /// The serving set's status at the end ([`reload::SetStatus::line`]): its generation and
    /// age, and a refused reload or a damaged file, if any.
    pub set_status: String,
}

/// Progress shared with an observer (a progress bar, the stats printer).
#[derive(Debug, Default)]
pub struct Progress {
    /// Capture bytes read so far.
    pub bytes: AtomicU64,
    /// Frames processed by workers so far.
    pub frames: AtomicU64,
    /// Hits reported so far.
    pub hits: AtomicU64,
    /// The set generation in use (1 at start, +1 per reload).
    pub generation: AtomicU64,
}

/// Runs readers (`produce`) into workers and a sink until the readers return, then drains.
fn pipeline<S>(
    mut reloader: Reloader,
    opts: &Options,
    mut sink: S,
    progress: &Progress,
    produce: impl FnOnce(&[Sender<Batch>]) -> Stats,
) -> Result<Outcome>
where
    S: HitSink<Mmap> + Send,
{
    let start = Instant::now();
    let workers = opts.workers.max(1);
    let current = reloader.current();
    let status = reloader.status();
    progress
        .generation
        .store(current.load().generation, Ordering::Relaxed);
    let (hit_tx, hit_rx): (Sender<PacketHit>, Receiver<PacketHit>) = bounded(4096);
    // Dropping `done_tx` wakes the reload thread at once.
    let (done_tx, done_rx) = bounded::<()>(0);
    let window = i64::try_from(opts.dedup_window.as_nanos()).unwrap_or(i64::MAX);
    let (stats, sink_result, reloads) = std::thread::scope(|scope| {
        let sink_thread = std::thread::Builder::new()
            .name("trawl-sink".into())
            .spawn_scoped(scope, move || -> std::io::Result<()> {
                loop {
                    match hit_rx.recv_timeout(Duration::from_millis(500)) {
                        Ok(s) => {
                            sink.write(&s)?;
                            progress.hits.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(RecvTimeoutError::Timeout) => sink.flush()?,
                        Err(RecvTimeoutError::Disconnected) => return sink.flush(),
                    }
                }
            })
            .expect("spawn sink thread");
        let reload_thread = std::thread::Builder::new()
            .name("trawl-reload".into())
            .spawn_scoped(scope, || {
                let mut reloads = 0u64;
                while let Err(RecvTimeoutError::Timeout) =
                    done_rx.recv_timeout(Duration::from_millis(200))
                {
                    for event in reloader.check() {
                        if let reload::Reload::Swapped(generation) = event {
                            reloads += 1;
                            progress.generation.store(generation, Ordering::Relaxed);
                        }
                        opts.notices.say(event);
                    }
                }
                reloads
            })
            .expect("spawn reload thread");
        let mut senders = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let (tx, rx) = bounded::<Batch>(opts.queue_depth.max(1));
            senders.push(tx);
            let flows = FlowLimits {
                memcap: opts.flows.memcap / opts.workers.max(1),
                ..opts.flows
            };
            let mut worker = Worker::new(current.clone(), hit_tx.clone(), window, flows);
            handles.push(
                std::thread::Builder::new()
                    .name(format!("trawl-worker-{i}"))
                    .spawn_scoped(scope, move || {
                        for batch in rx {
                            worker.batch(&batch);
                            progress
                                .frames
                                .fetch_add(batch.frames.len() as u64, Ordering::Relaxed);
                            // The sink failed: dropping the queue stops the readers too.
                            if worker.closed {
                                break;
                            }
                        }
                        worker.stats
                    })
                    .expect("spawn worker thread"),
            );
        }
        drop(hit_tx);
        let mut stats = produce(&senders);
        drop(senders);
        for h in handles {
            stats.merge(&h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        let sink_result = sink_thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        drop(done_tx);
        let reloads = reload_thread
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (stats, sink_result, reloads)
    });
    sink_result.map_err(|e| Error::write("writing hits", e))?;
    let mut stats = stats;
    stats.reloads = reloads;
    Ok(Outcome {
        stats,
        elapsed: start.elapsed(),
        generation: current.load().generation,
        set_status: status.line(),
    })
}

/// Scans capture files (pcap or pcapng, one reader thread per file) against the set at
/// `set_path`, writing hits to `sink`. `stop` ends reading early (SIGINT); the set is reloaded
/// on SIGHUP (`hup`) or when its file is replaced.
///
/// Each file is its own source: flows and their de-duplication are per file (the same file
/// given twice reports its hits twice), and the hits do not depend on the number of workers. A
/// file that cannot be opened, or that is damaged part-way, is reported in
/// [`Stats::file_errors`] (with the frame number where it broke) and the other files are
/// scanned all the same; only an unusable set file is an error.
pub fn scan_files<S: HitSink<Mmap> + Send>(
    set_path: &std::path::Path,
    files: &[PathBuf],
    opts: &Options,
    sink: S,
    stop: &AtomicBool,
    hup: Option<Arc<AtomicBool>>,
    progress: &Progress,
) -> Result<Outcome> {
    let mut reloader = Reloader::open(set_path)?;
    if let Some(h) = hup {
        reloader.hup = h;
    }
    // In argument order, so that errors are reported in it too. An open error's message names
    // the file.
    let captures: Vec<_> = files
        .iter()
        .map(|p| {
            CaptureFile::open(p)
                .map(|c| (Arc::new(c), Arc::<str>::from(p.display().to_string())))
                .map_err(|e| e.to_string())
        })
        .collect();
    pipeline(reloader, opts, sink, progress, |senders| {
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0u32..)
                .zip(&captures)
                .map(|(source, capture)| match capture {
                    Ok((file, name)) => Ok(std::thread::Builder::new()
                        .name("trawl-reader".into())
                        .spawn_scoped(scope, move || {
                            read_file(
                                file.clone(),
                                name.clone(),
                                source,
                                senders,
                                opts.batch_size,
                                stop,
                                &progress.bytes,
                            )
                        })
                        .expect("spawn reader thread")),
                    Err(e) => Err(e),
                })
                .collect();
            let mut stats = Stats::default();
            for r in readers {
                match r {
                    Ok(r) => {
                        stats.merge(&r.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    }
                    Err(e) => stats.file_errors.push(e.clone()),
                }
            }
            stats
        })
    })
}

/// Captures live from an already opened interface until `stop`, against the set `reloader`
/// holds (open both before dropping privileges; reloads then need the new file to be readable
/// by the unprivileged user).
pub fn sniff<S: HitSink<Mmap> + Send>(
    reloader: Reloader,
    capture: LiveCapture,
    opts: &Options,
    sink: S,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<Outcome> {
    let status = reloader.status();
    pipeline(reloader, opts, sink, progress, |senders| {
        capture.run(
            senders,
            opts.batch_size,
            opts.stats_interval,
            &opts.notices,
            &status,
            stop,
        )
    })
}
