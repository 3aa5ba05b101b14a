//! Application-layer parsers, one module per protocol: DNS names and answers, the TLS
//! ClientHello's server name (over TCP, and in QUIC Initial packets: [`quic`]), the rest of the
//! TLS handshake (hellos, certificates) with its fingerprints and the names of its X.509
//! certificates, HTTP/1.x request line and headers, HTTP/2 cleartext frames and HPACK header
//! blocks (stateful per connection: [`h2`]), the SMTP envelope and each message's header
//! addresses ([`mail`]). Each is a
//! pure function over bytes (one payload or one message), never panics, and reports malformed
//! input by reason. [`file`] hashes the files that HTTP bodies and mail parts ([`mime`]) carry.
//! [`stream`] drives them over a reassembled TCP stream: every message of a connection, whatever
//! the segmentation, plus the CONNECT and SOCKS tunnels in front of them.

pub mod address_list;
pub mod dns;
pub mod file;
pub mod h2;
pub mod http;
pub mod http_body;
pub mod mail;
pub mod mime;
pub mod quic;
pub mod smtp;
pub mod stream;
pub mod tls;
pub mod tls_fingerprint;
pub mod x509;
