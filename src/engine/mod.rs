//! The matching engine: readers hand batches of packets to workers over bounded channels,
//! workers decode and look up, hits go to one sink thread.
//!
//! * [`flow::FlowKey`] — symmetric flow keys: both directions of a flow go to one worker.
//! * [`dedup::Dedup`] — one hit per (flow, indicator) per window, per worker, lock-free.

pub mod dedup;
pub mod flow;
