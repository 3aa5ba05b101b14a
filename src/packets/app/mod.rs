//! Application-layer parsers, one module per protocol: DNS names and answers, the TLS
//! handshake (hellos, certificates) with its fingerprints and the names of its X.509
//! certificates, HTTP/1.x request line and headers, the SMTP envelope. Each is a
//! pure function over bytes (one payload or one message), never panics, and reports malformed
//! input by reason. [`file`] hashes the files that HTTP bodies and mail attachments carry. [`stream`] drives them over a reassembled TCP stream: every message of a
//! connection, whatever the segmentation, plus the CONNECT and SOCKS tunnels in front of them.

pub mod dns;
pub mod file;
pub mod http;
pub mod http_body;
pub mod smtp;
pub mod stream;
pub mod tls;
pub mod tls_fingerprint;
pub mod x509;
