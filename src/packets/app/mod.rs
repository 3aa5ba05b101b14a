//! Application-layer parsers, one module per protocol: DNS names and answers, the TLS
//! ClientHello's server name, HTTP/1.x request line and headers, HTTP/2 cleartext frames and
//! HPACK header blocks (stateful per connection: [`h2`]), the SMTP envelope. Each is a
//! pure function over bytes (one payload or one message), never panics, and reports malformed
//! input by reason. [`stream`] drives them over a reassembled TCP stream: every message of a
//! connection, whatever the segmentation, plus the CONNECT and SOCKS tunnels in front of them.

pub mod dns;
pub mod h2;
pub mod http;
pub mod smtp;
pub mod stream;
pub mod tls;
