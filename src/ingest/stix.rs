//! STIX 2.1 bundles and TAXII envelopes (being written on the `stix` branch; this stub keeps
//! the API so the rest compiles).

use std::io::Read;

use crate::ingest::{Collector, FeedOptions, Location};

/// Accumulates STIX objects across files (stub).
#[derive(Debug, Default)]
pub struct StixIngest;

impl StixIngest {
    /// A new ingester.
    pub fn new(_cidr_equals_contains: bool) -> StixIngest {
        StixIngest
    }
    /// Reads one file (stub: reports it unsupported).
    pub fn read(
        &mut self,
        _reader: impl Read,
        file: &str,
        _opts: &FeedOptions,
        out: &mut dyn Collector,
    ) -> crate::Result<()> {
        out.unsupported(
            Location::File { file: file.into() },
            "STIX not built yet",
            "",
        );
        Ok(())
    }
    /// Emits what was read.
    pub fn finish(self, _out: &mut dyn Collector) {}
}
