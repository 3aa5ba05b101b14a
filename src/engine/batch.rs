//! Batches of frames handed from readers to workers: the frames' bytes stay where they are (in
//! the memory-mapped capture file, or in one buffer per batch for live capture) and the batch
//! carries where each frame is.

use std::sync::Arc;

use crate::packets::capture::CaptureFile;
use crate::packets::decode::LinkType;

/// Where a batch's frame bytes live.
pub(crate) enum Bytes {
    /// In a memory-mapped capture file (offsets are into the whole file).
    Mapped(Arc<CaptureFile>),
    /// In a buffer owned by the batch (live capture copies frames out of libpcap's ring).
    Owned(Vec<u8>),
}

impl Bytes {
    /// The bytes frame offsets refer to.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Mapped(f) => f.bytes(),
            Bytes::Owned(v) => v,
        }
    }
}

/// One frame of a batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameRef {
    /// 1-based frame number in its source.
    pub number: u64,
    /// Capture time, seconds since the Unix epoch.
    pub ts_sec: i64,
    /// Capture time, nanoseconds within the second.
    pub ts_nsec: u32,
    /// The latest capture time its source had reached at this frame (nanoseconds since the
    /// epoch, the running maximum): the clock that expires de-duplication entries, the same
    /// whichever worker handles the frame.
    pub newest_ns: i64,
    /// Link type of the frame.
    pub link: LinkType,
    /// Offset of the frame's bytes in the batch's [`Bytes`].
    pub off: usize,
    /// Captured length.
    pub len: u32,
    /// Length on the wire.
    pub orig_len: u32,
}

impl FrameRef {
    /// Capture time in nanoseconds since the epoch (saturating).
    pub(crate) fn ts_ns(&self) -> i64 {
        ts_ns(self.ts_sec, self.ts_nsec)
    }
}

/// A capture time in nanoseconds since the epoch (saturating).
pub(crate) fn ts_ns(sec: i64, nsec: u32) -> i64 {
    sec.saturating_mul(1_000_000_000)
        .saturating_add(i64::from(nsec))
}

/// Frames for one worker.
pub(crate) struct Batch {
    /// The frames' bytes.
    pub bytes: Bytes,
    /// The frames.
    pub frames: Vec<FrameRef>,
    /// The source's name (capture file or interface), for hit output.
    pub origin: Arc<str>,
    /// The source's number (its position among the capture files; 0 for an interface): flow
    /// state is per source, so the same flow in two captures is two flows.
    pub source: u32,
    /// Whether this is the source's last batch for this worker (its flow state can go).
    pub last: bool,
    /// Whether the origin is a live interface (else a capture file).
    pub live: bool,
}

impl Batch {
    /// The bytes of one frame (empty if the reference is out of range).
    pub(crate) fn frame(&self, f: &FrameRef) -> &[u8] {
        self.bytes
            .as_slice()
            .get(f.off..f.off + f.len as usize)
            .unwrap_or(&[])
    }
}
