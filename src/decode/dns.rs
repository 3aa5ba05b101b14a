//! Application-layer extractor (being written on the `apps` branch).
