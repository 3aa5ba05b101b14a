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
    /// The MD5 digest of a certificate's DER encoding (MISP `x509-fingerprint-md5`).
    X509Md5 = 11,
    /// The SHA-1 digest of a certificate's DER encoding (MISP `x509-fingerprint-sha1`, abuse.ch
    /// SSLBL).
    X509Sha1 = 12,
    /// The SHA-256 digest of a certificate's DER encoding (MISP `x509-fingerprint-sha256`).
    X509Sha256 = 13,
    /// A JA3 TLS client fingerprint: the MD5 of the ClientHello's JA3 string (MISP
    /// `ja3-fingerprint-md5`). Never confused with a file's MD5: a different kind.
    Ja3 = 14,
    /// A JA3S TLS server fingerprint: the MD5 of the ServerHello's JA3S string.
    Ja3s = 15,
    /// A JA4 TLS client fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`), kept as text.
    Ja4 = 16,
    /// A JA4S TLS server fingerprint (`t130200_1301_234ea6891581`), kept as text.
    Ja4s = 17,
}

impl Kind {
    /// Every kind, in format order.
    pub const ALL: [Kind; 17] = [
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
        Kind::X509Md5,
        Kind::X509Sha1,
        Kind::X509Sha256,
        Kind::Ja3,
        Kind::Ja3s,
        Kind::Ja4,
        Kind::Ja4s,
    ];

    /// The certificate and TLS fingerprint kinds: matched against what a TLS handshake shows,
    /// never against file hashes.
    pub const FINGERPRINTS: [Kind; 7] = [
        Kind::X509Md5,
        Kind::X509Sha1,
        Kind::X509Sha256,
        Kind::Ja3,
        Kind::Ja3s,
        Kind::Ja4,
        Kind::Ja4s,
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
            Kind::X509Md5 => "x509-md5",
            Kind::X509Sha1 => "x509-sha1",
            Kind::X509Sha256 => "x509-sha256",
            Kind::Ja3 => "ja3",
            Kind::Ja3s => "ja3s",
            Kind::Ja4 => "ja4",
            Kind::Ja4s => "ja4s",
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
            "x509-md5" | "x509-fingerprint-md5" => Kind::X509Md5,
            "x509-sha1" | "x509-fingerprint-sha1" => Kind::X509Sha1,
            "x509-sha256" | "x509-fingerprint-sha256" => Kind::X509Sha256,
            "ja3" | "ja3-fingerprint-md5" | "ja3_md5" | "ja3-md5" => Kind::Ja3,
            "ja3s" | "ja3s-fingerprint-md5" => Kind::Ja3s,
            "ja4" | "ja4-fingerprint" => Kind::Ja4,
            "ja4s" | "ja4s-fingerprint" => Kind::Ja4s,
            _ => return None,
        })
    }

    /// The kind for a format discriminant, if it names one.
    pub(crate) fn from_u8(b: u8) -> Option<Kind> {
        Kind::ALL.get(usize::from(b).checked_sub(1)?).copied()
    }

    /// Whether this is a file-hash kind (MD5, SHA-1, SHA-256, SHA-512 of a file).
    pub(crate) fn is_hash(self) -> bool {
        matches!(self, Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512)
    }

    /// Whether values of this kind are stored as raw digests (file hashes, certificate
    /// fingerprints, JA3/JA3S) and written as lowercase hex.
    pub(crate) fn is_digest(self) -> bool {
        self.is_hash() || self.digest_len().is_some()
    }

    /// For a fingerprint kind stored as a digest, its length in bytes.
    pub(crate) fn digest_len(self) -> Option<usize> {
        match self {
            Kind::X509Md5 | Kind::Ja3 | Kind::Ja3s => Some(16),
            Kind::X509Sha1 => Some(20),
            Kind::X509Sha256 => Some(32),
            _ => None,
        }
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
    /// A certificate or TLS fingerprint of one of [`Kind::FINGERPRINTS`]: a raw digest
    /// (x509-*, JA3, JA3S) or the JA4/JA4S text.
    Fingerprint(Kind, Vec<u8>),
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
            Value::Fingerprint(kind, _) => *kind,
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
            Value::Fingerprint(kind, d) if kind.is_digest() => write_hex(f, d),
            Value::Fingerprint(_, text) => f.write_str(&String::from_utf8_lossy(text)),
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
            Kind::X509Md5 | Kind::X509Sha1 | Kind::X509Sha256 => "x509-certificate",
            // STIX has no object for a TLS fingerprint; it identifies the software that made
            // the handshake, ECS's closest indicator type.
            Kind::Ja3 | Kind::Ja3s | Kind::Ja4 | Kind::Ja4s => "software",
        }
    }
}
