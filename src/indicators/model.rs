//! The indicator model: what an indicator *is* before it is compiled.
//!
//! * [`Kind`] — the ten indicator kinds trawl matches (IPv4/IPv6 address or CIDR, domain, URL,
//!   email, four hash lengths, HTTP-request literal).
//! * [`Value`] — a canonical value of one kind (see [`crate::indicators::normalize`] for the rules).
//! * [`Tlp`] — the Traffic Light Protocol marking, ordered from least to most restrictive.
//! * [`Meta`] — provenance: which feed said so, its external id, score, TLP, validity window,
//!   labels. Several feeds may carry one value; the set keeps every [`Meta`].

use std::fmt;

use ipnet::IpNet;

/// The kind of an indicator. The discriminants are part of the set-file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Kind {
    /// An IPv4 address or CIDR prefix.
    Ipv4 = 1,
    /// An IPv6 address or CIDR prefix (IPv4-mapped addresses are stored as [`Kind::Ipv4`]).
    Ipv6 = 2,
    /// A DNS name; matches itself and its subdomains unless the feed asks for exact matching.
    Domain = 3,
    /// A URL in canonical form; matches an equal URL or any URL that contains it.
    Url = 4,
    /// An email address (addr-spec), lowercased.
    Email = 5,
    /// An MD5 digest.
    Md5 = 6,
    /// A SHA-1 digest.
    Sha1 = 7,
    /// A SHA-256 digest.
    Sha256 = 8,
    /// A SHA-512 digest.
    Sha512 = 9,
    /// A literal found in an HTTP request line or headers (URI path, User-Agent, ...).
    HttpRequest = 10,
}

impl Kind {
    /// Every kind, in format order.
    pub const ALL: [Kind; 10] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Domain,
        Kind::Url,
        Kind::Email,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
        Kind::HttpRequest,
    ];

    /// The short name used on the command line, in CSV feeds and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::HttpRequest => "http-request",
        }
    }

    /// Parses a kind name as written by [`Kind::name`], plus common aliases
    /// (`ip`, `hostname`, `sha-256`, MISP attribute types such as `ip-dst`, ...).
    /// `ip` and its aliases return [`Kind::Ipv4`]; the value decides the family.
    pub fn parse(name: &str) -> Option<Kind> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "ipv4" | "ipv4-addr" | "ip" | "ip-src" | "ip-dst" | "cidr" | "ipv4-cidr" | "addr" => {
                Kind::Ipv4
            }
            "ipv6" | "ipv6-addr" | "ipv6-cidr" => Kind::Ipv6,
            "domain" | "domain-name" | "hostname" | "host" | "fqdn" => Kind::Domain,
            "url" | "uri-full" | "link-malicious" => Kind::Url,
            "email" | "email-addr" | "email-src" | "email-dst" => Kind::Email,
            "md5" => Kind::Md5,
            "sha1" | "sha-1" => Kind::Sha1,
            "sha256" | "sha-256" => Kind::Sha256,
            "sha512" | "sha-512" => Kind::Sha512,
            "http-request" | "http" | "uri" | "user-agent" | "http-request-literal" => {
                Kind::HttpRequest
            }
            _ => return None,
        })
    }

    /// The kind for a format discriminant, if it names one.
    pub(crate) fn from_u8(b: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(b).checked_sub(1)?).copied()
    }

    /// Whether values of this kind are raw digests.
    pub(crate) fn is_hash(self) -> bool {
        matches!(self, Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512)
    }

    /// The digest kind of a given raw length in bytes (16, 20, 32, 64).
    pub(crate) fn hash_for_len(len: usize) -> Option<Kind> {
        match len {
            16 => Some(Kind::Md5),
            20 => Some(Kind::Sha1),
            32 => Some(Kind::Sha256),
            64 => Some(Kind::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Traffic Light Protocol marking (TLP 2.0 names; TLP 1.0 WHITE reads as CLEAR).
/// The order is from least to most restrictive, so `tlp <= max` is a sharing test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Tlp {
    /// TLP:CLEAR (TLP 1.0: WHITE) — may be shared freely.
    Clear = 1,
    /// TLP:GREEN — community-wide.
    Green = 2,
    /// TLP:AMBER — the recipient's organisation and its clients.
    Amber = 3,
    /// TLP:AMBER+STRICT — the recipient's organisation only.
    AmberStrict = 4,
    /// TLP:RED — named recipients only.
    Red = 5,
}

impl Tlp {
    /// The lowercase TLP 2.0 name (`clear`, `green`, `amber`, `amber+strict`, `red`).
    pub fn name(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Parses `clear`/`white`/`green`/`amber`/`amber+strict`/`red`, with or without a `tlp:` prefix.
    pub fn parse(s: &str) -> Option<Tlp> {
        let lower = s.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("tlp:").unwrap_or(&lower);
        Some(match name {
            "clear" | "white" => Tlp::Clear,
            "green" => Tlp::Green,
            "amber" => Tlp::Amber,
            "amber+strict" | "amber-strict" | "amber_strict" => Tlp::AmberStrict,
            "red" => Tlp::Red,
            _ => return None,
        })
    }

    /// The TLP for a format discriminant (0 means unmarked).
    pub(crate) fn from_u8(b: u8) -> Option<Tlp> {
        match b {
            1 => Some(Tlp::Clear),
            2 => Some(Tlp::Green),
            3 => Some(Tlp::Amber),
            4 => Some(Tlp::AmberStrict),
            5 => Some(Tlp::Red),
            _ => None,
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A canonical indicator value (already normalised; build one with [`crate::indicators::normalize`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// An address or prefix with host bits cleared; IPv4-mapped IPv6 is stored as IPv4.
    Net(IpNet),
    /// A domain: lowercase A-labels, no trailing dot.
    Domain(String),
    /// A canonical URL (see [`crate::indicators::normalize::url`]).
    Url(String),
    /// A lowercased email address.
    Email(String),
    /// A raw digest; its length gives the kind.
    Hash(Vec<u8>),
    /// A literal for HTTP request lines and headers, kept byte for byte.
    HttpRequest(String),
}

impl Value {
    /// The kind of this value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Net(IpNet::V4(_)) => Kind::Ipv4,
            Value::Net(IpNet::V6(_)) => Kind::Ipv6,
            Value::Domain(_) => Kind::Domain,
            Value::Url(_) => Kind::Url,
            Value::Email(_) => Kind::Email,
            Value::Hash(d) => Kind::hash_for_len(d.len()).unwrap_or(Kind::Sha256),
            Value::HttpRequest(_) => Kind::HttpRequest,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Net(n) => write!(f, "{n}"),
            Value::Domain(s) | Value::Url(s) | Value::Email(s) | Value::HttpRequest(s) => {
                f.write_str(s)
            }
            Value::Hash(d) => write_hex(f, d),
        }
    }
}

/// Writes bytes as lowercase hex.
pub(crate) fn write_hex(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
        f.write_char(char::from(HEX[usize::from(b & 15)]))?;
    }
    Ok(())
}

/// Provenance of one indicator as one feed states it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Meta {
    /// Feed or collection name (defaults to the feed file's stem).
    pub source: String,
    /// External id: a STIX id or MISP attribute uuid, when the feed gives one.
    pub id: Option<String>,
    /// Score or confidence 0–100 (STIX `confidence`, AIS score, feed default).
    pub score: Option<u8>,
    /// TLP marking, when the feed gives one.
    pub tlp: Option<Tlp>,
    /// Start of validity, Unix seconds.
    pub valid_from: Option<i64>,
    /// End of validity (exclusive), Unix seconds.
    pub valid_until: Option<i64>,
    /// Labels / indicator types / malware family names.
    pub labels: Vec<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// Domain indicators only: match the name exactly, not its subdomains.
    pub exact: bool,
}

impl Meta {
    /// Metadata with only a source name set.
    pub fn from_source(source: impl Into<String>) -> Meta {
        Meta {
            source: source.into(),
            ..Meta::default()
        }
    }

    /// Whether this provenance is valid at `now` (Unix seconds): `valid_from <= now < valid_until`.
    pub fn active_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|t| t <= now) && self.valid_until.is_none_or(|t| now < t)
    }
}

/// One indicator: a canonical value and one feed's word on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// The canonical value.
    pub value: Value,
    /// Where it came from and what the feed says about it.
    pub meta: Meta,
}

/// The current time in Unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Formats Unix seconds as RFC 3339 UTC to the second (`2026-01-01T00:00:00Z`), for people.
pub(crate) fn rfc3339_utc(sec: i64) -> String {
    chrono::DateTime::from_timestamp(sec, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Formats Unix seconds + nanoseconds as RFC 3339 UTC with microseconds.
pub(crate) fn rfc3339(sec: i64, nsec: u32) -> String {
    chrono::DateTime::from_timestamp(sec, nsec)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".into())
}

impl Kind {
    /// The STIX 2.1 cyber-observable type of the kind (`ipv4-addr`, `domain-name`, `url`,
    /// `email-addr`, `file`), which ECS also uses for `threat.indicator.type`.
    pub(crate) fn sco_type(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4-addr",
            Kind::Ipv6 => "ipv6-addr",
            Kind::Domain => "domain-name",
            Kind::Url | Kind::HttpRequest => "url",
            Kind::Email => "email-addr",
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => "file",
        }
    }
}
