//! What was observed and where: the fields of traffic and logs an indicator can be matched in,
//! named as their ECS fields. Both lanes label what they observe with a [`Field`]; hits name it.
//! The [`Transport`] of a packet is shared vocabulary too: the packet lane decodes it, hits
//! render it. So are a file's hashes ([`FileDigests`]).

use crate::indicators::model::Kind;

/// Where in the traffic an observable was seen. [`Field::ecs`] gives the ECS field name used in
/// hit output (`threat.enrichments[].matched.field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The packet's source address.
    SourceIp,
    /// The packet's destination address.
    DestinationIp,
    /// A DNS question name.
    DnsQuestion,
    /// A name in a DNS record: an owner name, or a host name its data carries (CNAME, NS, PTR,
    /// MX, SRV, SOA MNAME, SVCB/HTTPS target).
    DnsAnswerName,
    /// An address in a DNS A/AAAA record or an SVCB/HTTPS address hint.
    DnsAnswerIp,
    /// The server name of a TLS ClientHello.
    TlsSni,
    /// The Host header of an HTTP request.
    HttpHost,
    /// The full URL of an HTTP request (`http://host/uri`).
    HttpUrl,
    /// The request line and headers of an HTTP request.
    HttpRequest,
    /// The User-Agent header of an HTTP request.
    HttpUserAgent,
    /// The `Referer` header of an HTTP request: its URL, or the host it names.
    HttpReferrer,
    /// An address in an HTTP request's `X-Forwarded-For` or `Forwarded` (`for=`) header: the
    /// client, or a proxy, the request was forwarded for.
    HttpForwardedFor,
    /// The address of an SMTP `MAIL FROM`.
    SmtpMailFrom,
    /// The address of an SMTP `RCPT TO`.
    SmtpRcptTo,
    /// An address of a mail message's `From` header field.
    MailFrom,
    /// An address of a mail message's `To` header field.
    MailTo,
    /// An address of a mail message's `Cc` header field.
    MailCc,
    /// An address of a mail message's `Bcc` header field.
    MailBcc,
    /// An address of a mail message's `Reply-To` header field.
    MailReplyTo,
    /// The address of a mail message's `Sender` header field.
    MailSender,
    /// The address of a mail message's `Return-Path` header field: the envelope sender the
    /// delivering server recorded (RFC 5321 §4.4), neither the author (`From`) nor where
    /// replies go (`Reply-To`).
    MailReturnPath,
    /// The target a client asks a SOCKS proxy to connect to (a name or an address): the
    /// connection's real destination, where `destination.ip` is the proxy's.
    ProxyTarget,
    /// A subject common name of a certificate of the TLS server's chain.
    X509SubjectCn,
    /// A subjectAltName DNS name of a certificate of the TLS server's chain.
    X509San,
    /// The MD5 of a certificate of the TLS server's chain (its DER).
    TlsServerMd5,
    /// The SHA-1 of a certificate of the TLS server's chain.
    TlsServerSha1,
    /// The SHA-256 of a certificate of the TLS server's chain.
    TlsServerSha256,
    /// The JA3 fingerprint of a TLS ClientHello.
    Ja3,
    /// The JA3S fingerprint of a TLS ServerHello.
    Ja3s,
    /// The JA4 fingerprint of a TLS ClientHello.
    Ja4,
    /// The JA4S fingerprint of a TLS ServerHello.
    Ja4s,
    /// A file carried over HTTP (a request or response body, a multipart part), matched by
    /// its hashes ([`FileDigests`]).
    HttpFile,
    /// A file attached to a mail sent over SMTP (a MIME part), matched by its hashes.
    SmtpAttachment,
}

impl Field {
    /// The ECS field name.
    pub fn ecs(self) -> &'static str {
        match self {
            Field::SourceIp => "source.ip",
            Field::DestinationIp => "destination.ip",
            Field::DnsQuestion => "dns.question.name",
            Field::DnsAnswerName => "dns.answers.name",
            Field::DnsAnswerIp => "dns.answers.data",
            Field::TlsSni => "tls.client.server_name",
            Field::HttpHost => "url.domain",
            Field::HttpUrl => "url.full",
            Field::HttpRequest => "trawl.http.request",
            Field::HttpUserAgent => "user_agent.original",
            Field::HttpReferrer => "http.request.referrer",
            // ECS's `network.forwarded_ip` is the one original client behind a proxy; these
            // are every address of the chain (client and intermediate proxies), as sent and
            // unverified, so they get a name of their own.
            Field::HttpForwardedFor => "trawl.http.forwarded_for",
            Field::SmtpMailFrom => "email.from.address",
            Field::SmtpRcptTo => "email.to.address",
            Field::MailFrom => "email.from.address",
            Field::MailTo => "email.to.address",
            Field::MailCc => "email.cc.address",
            Field::MailBcc => "email.bcc.address",
            Field::MailReplyTo => "email.reply_to.address",
            Field::MailSender => "email.sender.address",
            // ECS has no field for it (see the variant); trawl's own, named like ECS's.
            Field::MailReturnPath => "trawl.email.return_path.address",
            // ECS: "the raw address … an IP, a domain or a unix socket" of the destination.
            Field::ProxyTarget => "destination.address",
            Field::X509SubjectCn => "tls.server.x509.subject.common_name",
            Field::X509San => "tls.server.x509.alternative_names",
            Field::TlsServerMd5 => "tls.server.hash.md5",
            Field::TlsServerSha1 => "tls.server.hash.sha1",
            Field::TlsServerSha256 => "tls.server.hash.sha256",
            Field::Ja3 => "tls.client.ja3",
            Field::Ja3s => "tls.server.ja3s",
            // ECS 9.3 has no JA4 fields.
            Field::Ja4 => "trawl.tls.client.ja4",
            Field::Ja4s => "trawl.tls.server.ja4s",
            // The file's hash fields: a hit names the one that matched (`matched_name`).
            Field::HttpFile | Field::SmtpAttachment => "file.hash",
        }
    }

    /// Whether the field is a file, matched by its hashes.
    pub fn is_file(self) -> bool {
        matches!(self, Field::HttpFile | Field::SmtpAttachment)
    }

    /// The ECS field a match of an indicator of `kind` was found in: `file.hash.<kind>` for a
    /// file's hash, [`Field::ecs`] otherwise.
    pub fn matched_name(self, kind: Kind) -> &'static str {
        if !self.is_file() {
            return self.ecs();
        }
        match kind {
            Kind::Md5 => "file.hash.md5",
            Kind::Sha1 => "file.hash.sha1",
            Kind::Sha256 => "file.hash.sha256",
            Kind::Sha512 => "file.hash.sha512",
            _ => self.ecs(),
        }
    }
}

/// A file's hashes and size, as a file observed on the wire gives them (Zeek's `files.log`
/// and Suricata's `fileinfo` hash the same bytes: the file as transferred, after any
/// transfer or content encoding is removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileDigests {
    /// MD5.
    pub md5: [u8; 16],
    /// SHA-1.
    pub sha1: [u8; 20],
    /// SHA-256.
    pub sha256: [u8; 32],
    /// SHA-512, when it was computed (the set holds SHA-512 indicators).
    pub sha512: Option<[u8; 64]>,
    /// The file's size in bytes.
    pub size: u64,
}

/// The protocol carried by IP, keyed by its IANA protocol number (ICMPv6 is not ICMP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// ICMP for IPv4 (1).
    Icmpv4,
    /// ICMPv6 (58).
    Icmpv6,
    /// Any other IP protocol number (GRE, ESP, SCTP, an IPv6 extension header that could not
    /// be read, …).
    Other(u8),
}

impl Transport {
    /// The transport of IP protocol number `n`.
    pub(crate) fn from_ip_number(n: u8) -> Transport {
        match n {
            6 => Transport::Tcp,
            17 => Transport::Udp,
            1 => Transport::Icmpv4,
            58 => Transport::Icmpv6,
            n => Transport::Other(n),
        }
    }

    /// The IP protocol number.
    pub(crate) fn ip_number(self) -> u8 {
        match self {
            Transport::Tcp => 6,
            Transport::Udp => 17,
            Transport::Icmpv4 => 1,
            Transport::Icmpv6 => 58,
            Transport::Other(n) => n,
        }
    }

    /// The IANA keyword ECS uses for `network.transport` (`tcp`, `udp`, `icmp`, `ipv6-icmp`),
    /// or `None` for other protocols (report `Transport::ip_number` instead).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Transport::Tcp => Some("tcp"),
            Transport::Udp => Some("udp"),
            Transport::Icmpv4 => Some("icmp"),
            Transport::Icmpv6 => Some("ipv6-icmp"),
            Transport::Other(_) => None,
        }
    }
}
