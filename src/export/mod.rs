//! Exports of a compiled set for devices that cannot run trawl.
