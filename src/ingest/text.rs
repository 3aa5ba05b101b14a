//! Plain-list and CSV feeds (to be written).
