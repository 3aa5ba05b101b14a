//! The matching engine (being assembled): symmetric flow keys, per-worker dedup, counters.

pub mod dedup;
pub mod flow;
pub mod stats;
