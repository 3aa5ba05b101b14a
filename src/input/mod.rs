//! Log inputs: files (memory-mapped when regular), stdin, gzip, and follow mode (being written
//! on the `loginput` branch).
