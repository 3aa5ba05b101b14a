//! Application-layer parsers over one payload, one module per protocol: DNS names and answers,
//! the TLS ClientHello's server name, HTTP/1.x request line and headers, the SMTP envelope.
//! Each is a pure function over bytes, never panics, and reports malformed input by reason.

pub mod dns;
pub mod http;
pub mod smtp;
pub mod tls;
