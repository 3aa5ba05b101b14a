//! Log format reader (being written on the `logformats` branch).
