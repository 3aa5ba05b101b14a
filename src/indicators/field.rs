//! What was observed and where: the fields of traffic and logs an indicator can be matched in,
//! named as their ECS fields. Both lanes label what they observe with a [`Field`]; hits name it.

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
    /// A name in a DNS answer (CNAME target or owner name).
    DnsAnswerName,
    /// An address in a DNS A/AAAA answer.
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
    /// The address of an SMTP `MAIL FROM`.
    SmtpMailFrom,
    /// The address of an SMTP `RCPT TO`.
    SmtpRcptTo,
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
            Field::HttpRequest => "http.request.original",
            Field::HttpUserAgent => "user_agent.original",
            Field::SmtpMailFrom => "email.from.address",
            Field::SmtpRcptTo => "email.to.address",
        }
    }
}
