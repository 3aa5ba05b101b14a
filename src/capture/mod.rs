//! Where frames come from.
//!
//! * [`file`](mod@file) — pcap and pcapng files, memory-mapped and read in place:
//!   [`CaptureFile`] detects the format, [`Frames`] iterates [`Frame`]s (timestamp, link
//!   type, bytes borrowed from the map) and stops at the first damage with one
//!   [`FrameError`] that names the frame and byte offset.
//!
//! Frames are decoded by [`crate::decode::packet::decode`].

pub mod file;

pub use file::{CaptureFile, Format, Frame, FrameError, Frames};
