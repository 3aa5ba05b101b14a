//! STIX 2.1 sighting feedback: hits aggregated per indicator into `sighting` objects.
//!
//! * [`Sighted`] — one hit read back, as the aggregator takes it: the indicator's STIX id, when it was
//!   seen ([`Timestamp`]), the value seen ([`Observed`]) and the indicator's TLP.
//! * [`Aggregator`] — counts hits per indicator id within a [`Window`]: `count`, `first_seen`,
//!   `last_seen`, the most restrictive TLP, and (only when asked to keep them) the values seen.
//!   [`Aggregator::resolve`] checks the ids against a set and takes each indicator's TLP from it.
//! * [`read_hits`] — reads trawl's hit output (JSON Lines) into an aggregator: ECS hit documents
//!   of `scan pcap`, `sniff` and `scan logs`, records written by `scan logs --enrich`, and EVE
//!   alerts. What it cannot use is counted in a [`ReadReport`]: malformed lines by reason with
//!   `file:line`, hits of indicators without a STIX id by source.
//! * [`Aggregator::bundle`] — renders one STIX 2.1 bundle ([`Bundle`]) under [`BundleOptions`].
//!
//! What leaves, and what does not:
//! * A sighting carries the indicator id, `count`, `first_seen` and `last_seen`, and the
//!   indicator's TLP in `object_marking_refs` (with the marking definition in the bundle).
//! * Who sighted it (an `identity`, `created_by_ref`, `where_sighted_refs`) only with
//!   [`BundleOptions::identity`]; the values seen (`observed-data` and its SCOs) only with
//!   [`BundleOptions::share_observed`]. Without them no observed value, address or name appears
//!   anywhere in the bundle. Flow addresses and ports of the hits are never used.
//! * Sightings of TLP:RED and TLP:AMBER+STRICT indicators never leave (TLP 2.0, FIRST,
//!   <https://www.first.org/tlp/>: RED is for the named recipients only, AMBER+STRICT for
//!   the recipient's organisation only — a sharing community is neither), whatever [`BundleOptions::tlp_max`] says; they are withheld and
//!   counted in [`Bundle::withheld`].
//!
//! Ids are name-based (`crate::indicators::stix_id::stable`), so that running again over the same hits gives the same
//! objects: a sighting's id is made from the indicator id and the window (the `--since` time,
//! or else the first hit; the `--until` time, or else open). Its `created` is the start of that
//! window, so that every version of one id has the same `created`; `modified` is the time of
//! the run. A report over a growing window is therefore a new version of the same sighting,
//! not a second sighting. SCO ids follow STIX §2.9 (UUIDv5 over the ID contributing
//! properties). The bundle's own id is a random UUIDv4.
//!
//! ```
//! use trawl::sightings::{Aggregator, BundleOptions, Observed, Sighted, Timestamp, Window};
//! use trawl::{Kind, Tlp};
//!
//! let mut agg = Aggregator::new(Window::default(), false);
//! for (seconds, seen) in [(10, "www.evil.example"), (20, "evil.example")] {
//!     agg.add(Sighted {
//!         indicator_id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
//!         time: Timestamp::from_unix(1_767_225_600 + seconds, 0),
//!         observed: Observed::new(Kind::Domain, seen),
//!         tlp: Some(Tlp::Green),
//!     })
//!     .unwrap();
//! }
//! let bundle = agg.bundle(&BundleOptions::new(Timestamp::from_unix(1_767_312_000, 0)));
//! let sighting = &bundle.json["objects"][1];
//! assert_eq!(sighting["type"], "sighting");
//! assert_eq!(sighting["count"], 2);
//! assert_eq!(sighting["first_seen"], "2026-01-01T00:00:10.000000Z");
//! assert_eq!(sighting["last_seen"], "2026-01-01T00:00:20.000000Z");
//! assert!(!bundle.json.to_string().contains("evil.example"), "nothing observed leaves");
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::io::{self, BufRead};
use std::net::IpAddr;

use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::indicators::model::{Kind, Tlp};
use crate::indicators::read::IndicatorSet;

/// The namespace STIX 2.1 §2.9 fixes for the UUIDv5 ids of cyber-observable objects.
pub(crate) const SCO_NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// The largest `count` (sighting) and `number_observed` (observed-data) STIX allows; larger
/// counts are written as this.
pub(crate) const MAX_COUNT: u64 = 999_999_999;

/// The longest input line [`read_hits`] reads; longer lines are skipped and counted.
pub const MAX_LINE: usize = 16 << 20;

/// How many `file:line` places a [`Problem`] keeps.
const PLACES_KEPT: usize = 5;

/// The `gid` trawl's EVE alerts carry (`crate::hits::EveJsonLines`).
const TRAWL_EVE_GID: u64 = 1_000_000;

/// STIX 2.1 domain object types: what `sighting_of_ref` may name.
const SDO_TYPES: [&str; 19] = [
    "attack-pattern",
    "campaign",
    "course-of-action",
    "grouping",
    "identity",
    "incident",
    "indicator",
    "infrastructure",
    "intrusion-set",
    "location",
    "malware",
    "malware-analysis",
    "note",
    "observed-data",
    "opinion",
    "report",
    "threat-actor",
    "tool",
    "vulnerability",
];

/// A point in time: microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From microseconds since the Unix epoch.
    pub const fn from_micros(micros: i64) -> Timestamp {
        Timestamp(micros)
    }

    /// From Unix seconds and nanoseconds (nanoseconds below a microsecond are dropped).
    pub fn from_unix(secs: i64, nanos: u32) -> Timestamp {
        Timestamp(
            secs.saturating_mul(1_000_000)
                .saturating_add(i64::from(nanos / 1000)),
        )
    }

    /// The current time.
    pub fn now() -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }

    /// Microseconds since the Unix epoch.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 with any offset (`2026-01-01T00:00:00.123456Z`, `…+01:00`), Suricata's
    /// `2026-01-01T00:00:00.123456+0000`, or a date (`2026-01-01`, midnight UTC). Digits below
    /// a microsecond are dropped.
    pub fn parse(s: &str) -> Option<Timestamp> {
        let s = s.trim();
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
            return Some(Timestamp(t.timestamp_micros()));
        }
        if let Ok(t) = chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
            return Some(Timestamp(t.timestamp_micros()));
        }
        let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(Timestamp(
            day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros(),
        ))
    }

    fn format(self, fmt: &str) -> String {
        chrono::DateTime::from_timestamp_micros(self.0)
            .map(|t| t.format(fmt).to_string())
            .unwrap_or_else(|| "1970-01-01T00:00:00.000000Z".into())
    }

    /// RFC 3339 in UTC with microseconds (`2026-01-01T00:00:00.000000Z`): STIX `first_seen`,
    /// `last_seen`, `first_observed`, `last_observed`.
    pub fn rfc3339_micros(self) -> String {
        self.format("%Y-%m-%dT%H:%M:%S%.6fZ")
    }

    /// RFC 3339 in UTC with milliseconds (`2026-01-01T00:00:00.000Z`), the precision STIX
    /// requires of `created` and `modified`; the time is truncated.
    pub(crate) fn rfc3339_millis(self) -> String {
        self.format("%Y-%m-%dT%H:%M:%S%.3fZ")
    }

    /// Truncated to the millisecond.
    fn millis_floor(self) -> Timestamp {
        Timestamp(self.0.div_euclid(1000) * 1000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339_micros())
    }
}

/// A value seen in traffic or a log, in a form STIX can carry as a cyber-observable (SCO).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Observed {
    kind: Kind,
    value: String,
}

impl Observed {
    /// The value `seen` where an indicator of `kind` matched. Addresses are written in their
    /// canonical form (IPv4-mapped IPv6 as IPv4) and take their kind from the address; domains
    /// are lowercased without a trailing dot; hashes are lowercase hex, their kind given by
    /// their length. `None` for a value that does not fit the kind, and for HTTP-request
    /// literals (a User-Agent, a URI path), which have no SCO of their own.
    pub fn new(kind: Kind, seen: &str) -> Option<Observed> {
        let seen = seen.trim();
        if seen.is_empty() || seen.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return None;
        }
        let (kind, value) = match kind {
            Kind::Ipv4 | Kind::Ipv6 => {
                let bare = seen
                    .strip_prefix('[')
                    .and_then(|s| s.strip_suffix(']'))
                    .unwrap_or(seen);
                let ip = match bare.parse::<IpAddr>().ok()? {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
                    v4 => v4,
                };
                let kind = if ip.is_ipv4() { Kind::Ipv4 } else { Kind::Ipv6 };
                (kind, ip.to_string())
            }
            Kind::Domain => {
                let name = seen.strip_suffix('.').unwrap_or(seen).to_lowercase();
                if name.is_empty() || name.contains(['/', '@', ':', '[', ']']) {
                    return None;
                }
                (Kind::Domain, name)
            }
            Kind::Url => {
                if !seen.contains("://") {
                    return None;
                }
                (Kind::Url, seen.to_string())
            }
            Kind::Email => {
                let (local, domain) = seen.rsplit_once('@')?;
                if local.is_empty() || domain.is_empty() {
                    return None;
                }
                (Kind::Email, seen.to_string())
            }
            Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => {
                if seen.len() % 2 != 0 || !seen.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (
                    Kind::hash_for_len(seen.len() / 2)?,
                    seen.to_ascii_lowercase(),
                )
            }
            Kind::X509Md5 | Kind::X509Sha1 | Kind::X509Sha256 => {
                let digest = crate::indicators::normalize::fingerprint(kind, seen).ok()?;
                let mut hex = String::with_capacity(2 * digest.len());
                crate::indicators::model::write_hex(&mut hex, &digest).ok()?;
                (kind, hex)
            }
            // STIX has no cyber-observable for a TLS fingerprint.
            Kind::HttpRequest | Kind::Ja3 | Kind::Ja3s | Kind::Ja4 | Kind::Ja4s => return None,
        };
        Some(Observed { kind, value })
    }

    /// The kind of the value (for addresses, the family of the address itself).
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The value as it will be written.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The SCO type: `ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr` or `file`.
    pub(crate) fn sco_type(&self) -> &'static str {
        self.kind.sco_type()
    }

    /// The SCO's ID contributing properties (STIX 2.1 §6): `value`, or one hash of `hashes`.
    fn contributing(&self) -> Json {
        let algorithm = match self.kind {
            Kind::Md5 | Kind::X509Md5 => "MD5",
            Kind::Sha1 | Kind::X509Sha1 => "SHA-1",
            Kind::Sha256 | Kind::X509Sha256 => "SHA-256",
            Kind::Sha512 => "SHA-512",
            _ => return json!({ "value": self.value }),
        };
        json!({ "hashes": { algorithm: self.value } })
    }

    /// The SCO's deterministic id (STIX 2.1 §2.9: UUIDv5 in [`SCO_NAMESPACE`] over the ID
    /// contributing properties as JSON).
    pub(crate) fn sco_id(&self) -> String {
        let name = self.contributing().to_string();
        format!(
            "{}--{}",
            self.sco_type(),
            Uuid::new_v5(&SCO_NAMESPACE, name.as_bytes())
        )
    }

    fn sco(&self, marking: Option<&str>) -> Json {
        let mut o = Map::new();
        o.insert("type".into(), json!(self.sco_type()));
        o.insert("spec_version".into(), json!("2.1"));
        o.insert("id".into(), json!(self.sco_id()));
        if let Json::Object(props) = self.contributing() {
            o.extend(props);
        }
        if let Some(m) = marking {
            o.insert("object_marking_refs".into(), json!([m]));
        }
        Json::Object(o)
    }
}

/// Why a hit cannot be sighted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotSightable {
    /// The indicator came from a feed without ids (a plain list, a CSV feed without an id
    /// column): there is nothing to refer to.
    NoId,
    /// The id is not a STIX identifier (`type--uuid`), e.g. a MISP attribute uuid.
    NotStixId,
    /// The id is a STIX identifier of an object that is not a domain object, e.g. a bare
    /// cyber-observable (`url--…`) a feed listed as an indicator; `sighting_of_ref` must name
    /// a domain object.
    NotDomainObject,
}

impl NotSightable {
    /// The reason as reports print it.
    pub fn reason(self) -> &'static str {
        match self {
            NotSightable::NoId => "no STIX id (plain-list or CSV feed)",
            NotSightable::NotStixId => "id is not a STIX id",
            NotSightable::NotDomainObject => "id is not a STIX domain object (a bare SCO?)",
        }
    }
}

impl fmt::Display for NotSightable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Checks that `id` is a STIX identifier (`type--uuid`, lowercase type of 3–250 characters, a
/// hyphenated UUID) of a domain object, the only kind of object `sighting_of_ref` may name.
pub(crate) fn check_sightable(id: &str) -> Result<(), NotSightable> {
    if id.is_empty() {
        return Err(NotSightable::NoId);
    }
    let (ty, uuid) = id.split_once("--").ok_or(NotSightable::NotStixId)?;
    let type_ok = (3..=250).contains(&ty.len())
        && ty
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !type_ok || uuid.len() != 36 || Uuid::try_parse(uuid).is_err() {
        return Err(NotSightable::NotStixId);
    }
    if !SDO_TYPES.contains(&ty) {
        return Err(NotSightable::NotDomainObject);
    }
    Ok(())
}

/// One indicator seen once (read back from a hit), as the [`Aggregator`] takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sighted<'a> {
    /// The STIX id of the indicator that matched (`indicator--…`).
    pub indicator_id: &'a str,
    /// When the hit was seen (packet time; log hits: the record's time, or the scan's).
    pub time: Timestamp,
    /// The value seen, when it has an SCO form.
    pub observed: Option<Observed>,
    /// The TLP the hit carried.
    pub tlp: Option<Tlp>,
}

/// The time span hits are counted in: `since <= time < until`; an absent bound is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window {
    /// First time counted.
    pub since: Option<Timestamp>,
    /// First time no longer counted.
    pub until: Option<Timestamp>,
}

impl Window {
    /// Whether `t` lies in the window.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.since.is_none_or(|s| s <= t) && self.until.is_none_or(|u| t < u)
    }
}

/// How often something was seen, and when first and last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Number of hits.
    pub count: u64,
    /// The earliest hit.
    pub first: Timestamp,
    /// The latest hit.
    pub last: Timestamp,
}

impl Seen {
    fn new(t: Timestamp) -> Seen {
        Seen {
            count: 1,
            first: t,
            last: t,
        }
    }

    fn add(&mut self, t: Timestamp) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// The hits of one indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorHits {
    /// Count, first and last seen.
    pub seen: Seen,
    /// The most restrictive TLP of the hits (and, after [`Aggregator::resolve`], of the set).
    pub tlp: Option<Tlp>,
    /// The values seen, when the aggregator keeps them.
    pub observed: BTreeMap<Observed, Seen>,
    /// Hits whose value has no SCO form (HTTP-request literals), when values are kept.
    pub unrepresentable: u64,
}

/// Why [`Aggregator::add`] did not count a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// Its time lies outside the window.
    OutsideWindow,
    /// Its indicator cannot be sighted.
    NotSightable(NotSightable),
}

/// Counts hits per indicator id; see the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Aggregator {
    window: Window,
    keep_observed: bool,
    by_id: BTreeMap<String, IndicatorHits>,
}

impl Aggregator {
    /// An aggregator counting the hits inside `window`. With `keep_observed` it also keeps
    /// the values seen, for [`BundleOptions::share_observed`]; without, they are dropped on
    /// arrival.
    pub fn new(window: Window, keep_observed: bool) -> Aggregator {
        Aggregator {
            window,
            keep_observed,
            by_id: BTreeMap::new(),
        }
    }

    /// The window hits are counted in.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Whether observed values are kept.
    pub(crate) fn keeps_observed(&self) -> bool {
        self.keep_observed
    }

    /// Counts one hit: rejected when its time is outside the window (checked first) or its id
    /// cannot be sighted (`check_sightable`).
    pub fn add(&mut self, hit: Sighted<'_>) -> Result<(), Rejected> {
        if !self.window.contains(hit.time) {
            return Err(Rejected::OutsideWindow);
        }
        check_sightable(hit.indicator_id).map_err(Rejected::NotSightable)?;
        let entry = match self.by_id.get_mut(hit.indicator_id) {
            Some(e) => {
                e.seen.add(hit.time);
                e.tlp = e.tlp.max(hit.tlp);
                e
            }
            None => self
                .by_id
                .entry(hit.indicator_id.to_string())
                .or_insert(IndicatorHits {
                    seen: Seen::new(hit.time),
                    tlp: hit.tlp,
                    observed: BTreeMap::new(),
                    unrepresentable: 0,
                }),
        };
        if self.keep_observed {
            match hit.observed {
                Some(o) => match entry.observed.get_mut(&o) {
                    Some(s) => s.add(hit.time),
                    None => {
                        entry.observed.insert(o, Seen::new(hit.time));
                    }
                },
                None => entry.unrepresentable += 1,
            }
        }
        Ok(())
    }

    /// Number of indicators with hits.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no hit was counted.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The hits of one indicator id.
    pub fn get(&self, indicator_id: &str) -> Option<&IndicatorHits> {
        self.by_id.get(indicator_id)
    }

    /// Every indicator id with its hits, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &IndicatorHits)> {
        self.by_id.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Checks every id against `set`: an id no indicator of the set carries (the hits came from
    /// another set, or the indicator was revoked since) is dropped and returned with its number
    /// of hits; the others take the most restrictive of their hits' TLP and the TLP the set's
    /// provenance records for the id. One pass over the set's provenance.
    pub fn resolve<D: AsRef<[u8]>>(&mut self, set: &IndicatorSet<D>) -> BTreeMap<String, u64> {
        let mut found: HashMap<String, Option<Tlp>> = HashMap::new();
        {
            let wanted: HashSet<&str> = self.by_id.keys().map(String::as_str).collect();
            if !wanted.is_empty() {
                for i in 0..u32::try_from(set.len()).unwrap_or(u32::MAX) {
                    let Some(ind) = set.indicator(i) else {
                        continue;
                    };
                    for p in ind.provenance() {
                        let Some(id) = p.id.filter(|id| wanted.contains(id)) else {
                            continue;
                        };
                        match found.get_mut(id) {
                            Some(t) => *t = (*t).max(p.tlp),
                            None => {
                                found.insert(id.to_string(), p.tlp);
                            }
                        }
                    }
                }
            }
        }
        let mut dropped = BTreeMap::new();
        self.by_id.retain(|id, hits| match found.get(id) {
            Some(tlp) => {
                hits.tlp = hits.tlp.max(*tlp);
                true
            }
            None => {
                dropped.insert(id.clone(), hits.seen.count);
                false
            }
        });
        dropped
    }

    /// Renders the bundle; see [`BundleOptions`] for what goes into it.
    pub fn bundle(&self, opts: &BundleOptions) -> Bundle {
        let tlp_max = opts.tlp_max.min(Tlp::Amber);
        let identity = opts.identity.as_ref();
        let mut withheld = BTreeMap::new();
        let mut markings: BTreeSet<Tlp> = BTreeSet::new();
        let mut scos: BTreeMap<String, (&Observed, Option<Tlp>)> = BTreeMap::new();
        let mut observed_data = Vec::new();
        let mut sightings = Vec::new();
        let mut hits = 0u64;
        let mut unrepresentable = 0u64;
        for (id, h) in &self.by_id {
            if h.tlp.is_some_and(|t| t > tlp_max) {
                withheld.insert(id.clone(), (h.tlp, h.seen.count));
                continue;
            }
            let marking = h.tlp.and_then(|t| {
                let m = marking_id(t, opts.tlp_version);
                if m.is_some() {
                    markings.insert(t);
                }
                m
            });
            let start = self.window.since.unwrap_or(h.seen.first);
            let end = self
                .window
                .until
                .map_or_else(|| "..".to_string(), Timestamp::rfc3339_micros);
            let name = format!("sighting {id} {} {end}", start.rfc3339_micros());
            let sighting_id = format!(
                "sighting--{}",
                crate::indicators::stix_id::stable(name.as_bytes())
            );
            let created = start.millis_floor();
            let modified = opts.now.millis_floor().max(created);
            let common = |o: &mut Map<String, Json>| {
                o.insert("created".into(), json!(created.rfc3339_millis()));
                o.insert("modified".into(), json!(modified.rfc3339_millis()));
                if let Some(ident) = identity {
                    o.insert("created_by_ref".into(), json!(ident.id));
                }
                if let Some(m) = marking {
                    o.insert("object_marking_refs".into(), json!([m]));
                }
            };
            let mut refs = Vec::new();
            if opts.share_observed {
                unrepresentable += h.unrepresentable;
                for (obs, seen) in &h.observed {
                    let sco_id = obs.sco_id();
                    let od_name = format!("observed-data {sighting_id} {sco_id}");
                    let od_id = format!(
                        "observed-data--{}",
                        crate::indicators::stix_id::stable(od_name.as_bytes())
                    );
                    let mut od = Map::new();
                    od.insert("type".into(), json!("observed-data"));
                    od.insert("spec_version".into(), json!("2.1"));
                    od.insert("id".into(), json!(od_id));
                    common(&mut od);
                    od.insert("first_observed".into(), json!(seen.first.rfc3339_micros()));
                    od.insert("last_observed".into(), json!(seen.last.rfc3339_micros()));
                    od.insert("number_observed".into(), json!(seen.count.min(MAX_COUNT)));
                    od.insert("object_refs".into(), json!([sco_id]));
                    observed_data.push(Json::Object(od));
                    refs.push(od_id);
                    let e = scos.entry(sco_id).or_insert((obs, h.tlp));
                    e.1 = e.1.max(h.tlp);
                }
            }
            let mut s = Map::new();
            s.insert("type".into(), json!("sighting"));
            s.insert("spec_version".into(), json!("2.1"));
            s.insert("id".into(), json!(sighting_id));
            common(&mut s);
            s.insert("sighting_of_ref".into(), json!(id));
            s.insert("count".into(), json!(h.seen.count.min(MAX_COUNT)));
            s.insert("first_seen".into(), json!(h.seen.first.rfc3339_micros()));
            s.insert("last_seen".into(), json!(h.seen.last.rfc3339_micros()));
            if let Some(ident) = identity {
                s.insert("where_sighted_refs".into(), json!([ident.id]));
            }
            if !refs.is_empty() {
                s.insert("observed_data_refs".into(), json!(refs));
            }
            hits += h.seen.count;
            sightings.push(Json::Object(s));
        }
        let n_sightings = sightings.len();
        let n_observed = scos.len();
        let mut objects = Vec::new();
        if let Some(ident) = identity {
            objects.push(ident.object());
        }
        objects.extend(
            markings
                .iter()
                .filter_map(|&t| marking_object(t, opts.tlp_version)),
        );
        objects.extend(scos.values().map(|(obs, tlp)| {
            let m = tlp.and_then(|t| marking_id(t, opts.tlp_version));
            obs.sco(m)
        }));
        objects.extend(observed_data);
        objects.extend(sightings);
        let bundle_id = opts.bundle_id.unwrap_or_else(Uuid::new_v4);
        let mut b = Map::new();
        b.insert("type".into(), json!("bundle"));
        b.insert("id".into(), json!(format!("bundle--{bundle_id}")));
        b.insert("objects".into(), Json::Array(objects));
        Bundle {
            json: Json::Object(b),
            sightings: n_sightings,
            hits,
            observed_values: n_observed,
            unrepresentable,
            withheld,
        }
    }
}

/// Which TLP marking definitions a bundle refers to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TlpVersion {
    /// TLP 1.0, the four marking definitions STIX 2.1 §7.2.1.4 defines (CLEAR is written as
    /// WHITE; TLP 1.0 has no AMBER+STRICT).
    V1,
    /// TLP 2.0, the marking definitions of the extension
    /// `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`.
    #[default]
    V2,
}

/// The fixed marking-definition id of a TLP level (the ids of
/// [`crate::indicators::stix_id::TLP_MARKINGS`]); `None` for AMBER+STRICT in TLP 1.0.
pub(crate) fn marking_id(tlp: Tlp, version: TlpVersion) -> Option<&'static str> {
    crate::indicators::stix_id::tlp_marking(tlp, version == TlpVersion::V2)
}

/// The marking-definition object of a TLP level, as the specification publishes it.
fn marking_object(tlp: Tlp, version: TlpVersion) -> Option<Json> {
    let id = marking_id(tlp, version)?;
    Some(match version {
        TlpVersion::V1 => {
            let name = if tlp == Tlp::Clear {
                "white"
            } else {
                tlp.name()
            };
            json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": id,
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": format!("TLP:{}", name.to_uppercase()),
                "definition": { "tlp": name },
            })
        }
        TlpVersion::V2 => json!({
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": id,
            "created": "2022-10-01T00:00:00.000Z",
            "name": format!("TLP:{}", tlp.name().to_uppercase()),
            "extensions": {
                "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                    "extension_type": "property-extension",
                    "tlp_2_0": tlp.name(),
                }
            },
        }),
    })
}

/// The organisation that sighted the indicators, shared only with the operator's consent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    id: String,
    name: String,
}

impl Identity {
    /// An organisation named `name`, with an id made from the name, so that every
    /// report of one organisation names the same identity.
    pub fn new(name: &str) -> Identity {
        let uuid = crate::indicators::stix_id::stable(format!("identity {name}").as_bytes());
        Identity {
            id: format!("identity--{uuid}"),
            name: name.to_string(),
        }
    }

    /// An organisation with an id it already has (one a sharing programme assigned).
    pub fn with_id(id: &str, name: &str) -> Result<Identity, String> {
        let uuid = id
            .strip_prefix("identity--")
            .ok_or_else(|| format!("{id:?} is not an identity id (identity--<uuid>)"))?;
        if uuid.len() != 36 || Uuid::try_parse(uuid).is_err() {
            return Err(format!("{id:?} is not an identity id (identity--<uuid>)"));
        }
        Ok(Identity {
            id: id.to_string(),
            name: name.to_string(),
        })
    }

    /// The identity's STIX id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The organisation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `identity` object. Its `created` and `modified` are fixed (the Unix epoch) because
    /// its id is: every report carries the same version of it.
    fn object(&self) -> Json {
        json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": self.id,
            "created": "1970-01-01T00:00:00.000Z",
            "modified": "1970-01-01T00:00:00.000Z",
            "name": self.name,
            "identity_class": "organization",
        })
    }
}

/// What [`Aggregator::bundle`] writes.
#[derive(Clone, Debug)]
pub struct BundleOptions {
    /// Who sighted: with an identity, the bundle holds the `identity` object, and every
    /// sighting names it in `created_by_ref` and `where_sighted_refs`. Without, neither.
    pub identity: Option<Identity>,
    /// Write the values seen: one `observed-data` per indicator and value, referring to the
    /// value's SCO, listed in the sighting's `observed_data_refs`. Needs an aggregator that
    /// keeps them. Without it, no observed value appears in the bundle.
    pub share_observed: bool,
    /// The most restrictive TLP that may leave; sightings of indicators marked above it are
    /// withheld. Never above AMBER: TLP:AMBER+STRICT and TLP:RED are always withheld.
    pub tlp_max: Tlp,
    /// TLP 1.0 or 2.0 marking definitions.
    pub tlp_version: TlpVersion,
    /// The time of the report: `modified` of every object.
    pub now: Timestamp,
    /// The bundle's id; `None` draws a random (v4) one.
    pub bundle_id: Option<Uuid>,
}

impl BundleOptions {
    /// Defaults with the report time `now`: no identity, no observed values, TLP up to AMBER
    /// as TLP 2.0 markings, a random bundle id.
    pub fn new(now: Timestamp) -> BundleOptions {
        BundleOptions {
            identity: None,
            share_observed: false,
            tlp_max: Tlp::Amber,
            tlp_version: TlpVersion::V2,
            now,
            bundle_id: None,
        }
    }
}

/// A rendered bundle and what went into it.
#[derive(Clone, Debug)]
pub struct Bundle {
    /// The STIX 2.1 bundle.
    pub json: Json,
    /// Number of sightings in it.
    pub sightings: usize,
    /// Hits those sightings count.
    pub hits: u64,
    /// Distinct observed values (SCOs) in it.
    pub observed_values: usize,
    /// With `share_observed`: hits whose value has no SCO form and was left out.
    pub unrepresentable: u64,
    /// Indicators withheld for their TLP: id → (TLP, hits).
    pub withheld: BTreeMap<String, (Option<Tlp>, u64)>,
}

/// Lines of one kind of problem: how many, and where the first few are (`file:line`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problem {
    /// Number of lines.
    pub count: u64,
    /// `file:line` of the first ones (at most five).
    pub places: Vec<String>,
}

/// What [`read_hits`] read, and what it could not use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Lines read.
    pub lines: u64,
    /// Records with at least one hit of trawl's.
    pub hit_records: u64,
    /// Hits counted, one per hit and indicator id.
    pub hits: u64,
    /// Hits outside the window.
    pub outside_window: u64,
    /// JSON records without a hit (the records `scan logs --enrich` passes through).
    pub without_hits: u64,
    /// Enrichments and alerts that trawl did not write (another tool's), skipped.
    pub not_trawl: u64,
    /// Hits on values inside a record's own `threat.*` fields (an earlier enrichment's
    /// indicator, not something observed), skipped.
    pub threat_field_hits: u64,
    /// Lines skipped, per reason.
    pub malformed: BTreeMap<&'static str, Problem>,
    /// Hits that cannot be sighted: source → reason → hits.
    pub unsightable: BTreeMap<String, BTreeMap<&'static str, u64>>,
}

impl ReadReport {
    fn bad(&mut self, reason: &'static str, file: &str, line: u64) {
        let p = self.malformed.entry(reason).or_default();
        p.count += 1;
        if p.places.len() < PLACES_KEPT {
            p.places.push(format!("{file}:{line}"));
        }
    }

    /// Malformed lines, all reasons together.
    pub fn malformed_total(&self) -> u64 {
        self.malformed.values().map(|p| p.count).sum()
    }

    /// Hits that cannot be sighted, all sources together.
    pub fn unsightable_total(&self) -> u64 {
        self.unsightable.values().flat_map(|r| r.values()).sum()
    }
}

/// Reads one line into `buf` (without its `\n`), keeping at most `max` bytes: returns the
/// bytes consumed (0 at the end) and whether the line was longer than `max`.
fn read_line_capped<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, bool)> {
    let (mut total, mut too_long) = (0, false);
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((total, too_long));
        }
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        let content = &available[..if done { take - 1 } else { take }];
        if !too_long {
            if buf.len() + content.len() > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(content);
            }
        }
        r.consume(take);
        total += take;
        if done {
            return Ok((total, too_long));
        }
    }
}

/// One indicator source of a hit, as a hit record states it.
struct Source<'a> {
    ids: Vec<&'a str>,
    provider: &'a str,
    tlp: Option<Tlp>,
    kind: Option<Kind>,
    atomic: Option<&'a str>,
}

/// The kind hint of an ECS `threat.indicator.type` (STIX-style names; `file` is a digest whose
/// length decides).
fn kind_of_ecs_type(t: &str) -> Option<Kind> {
    if t == "file" {
        Some(Kind::Sha256)
    } else {
        Kind::parse(t)
    }
}

/// Reads trawl's hit output, one JSON document per line, into `agg`, counting in `report`
/// what it cannot use; `name` is the input's name in `file:line` places. Understood:
/// * ECS documents with `threat.enrichments` — the hits of `scan pcap`/`sniff` and of
///   `scan logs` (one hit per document), and the records of `scan logs --enrich` (every
///   enrichment a hit). Each enrichment's `trawl.id` ids are sighted, with its
///   `indicator.marking.tlp`; the time is `@timestamp` (or an EVE record's `timestamp`).
///   Enrichments trawl did not write (no `trawl.*` dataset, no `trawl` object) are skipped.
///   The STIX ids are the enrichment's `trawl.id` (`indicator.id` in output of trawl before
///   its ECS output validated).
/// * EVE alerts of trawl (`alert.gid` 1000000, a `trawl …` signature): the indicator's sources
///   (ids and TLP) are in `alert.metadata`; no set is needed. Alerts written before trawl put
///   them there have the indicator's number in the set as signature id, so `set` must be the
///   set that matched; such an alert whose signature does not name that indicator is counted
///   malformed.
///
/// Blank lines are ignored; lines that are not JSON objects, lack a valid time, or are longer
/// than [`MAX_LINE`] are counted per reason and skipped. Only a failing read is an error.
pub fn read_hits<R: BufRead, D: AsRef<[u8]>>(
    mut input: R,
    name: &str,
    set: Option<&IndicatorSet<D>>,
    agg: &mut Aggregator,
    report: &mut ReadReport,
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let (n, too_long) = read_line_capped(&mut input, &mut buf, MAX_LINE)?;
        if n == 0 {
            return Ok(());
        }
        line_no += 1;
        report.lines += 1;
        if too_long {
            report.bad("line too long", name, line_no);
            continue;
        }
        hit_line(&buf, name, line_no, set, agg, report);
    }
}

/// The `alert.metadata` of an EVE alert of trawl (`event_type` alert, `alert.gid` 1000000, a
/// `trawl …` signature).
fn trawl_alert_metadata(obj: &serde_json::Map<String, Json>) -> Option<&Json> {
    let alert = obj
        .get("alert")
        .filter(|_| obj.get("event_type").and_then(Json::as_str) == Some("alert"))?;
    let signature = alert.get("signature").and_then(Json::as_str)?;
    (alert.get("gid").and_then(Json::as_u64) == Some(TRAWL_EVE_GID)
        && signature.starts_with("trawl "))
    .then(|| alert.get("metadata"))
    .flatten()
}

/// The sources of an EVE alert of trawl from its `alert.metadata`: `source`, `source_id` and
/// `source_tlp` aligned index by index (an empty string for none), `indicator_type` and
/// `matched_value`. `None` when the metadata does not carry them (alerts written before trawl
/// put the indicator there: their `signature_id` is the indicator's number in the set).
fn eve_sources(metadata: &Json) -> Option<Vec<Source<'_>>> {
    let list = |k: &str| -> Option<Vec<&str>> {
        metadata
            .get(k)?
            .as_array()?
            .iter()
            .map(Json::as_str)
            .collect()
    };
    let (providers, ids, tlps) = (list("source")?, list("source_id")?, list("source_tlp")?);
    if ids.len() != providers.len() || tlps.len() != providers.len() {
        return None;
    }
    let first = |k: &str| list(k).and_then(|v| v.first().copied());
    let kind = first("indicator_type").and_then(Kind::parse);
    let atomic = first("matched_value");
    Some(
        providers
            .iter()
            .zip(ids)
            .zip(tlps)
            .map(|((&provider, id), tlp)| Source {
                ids: Some(id).filter(|i| !i.is_empty()).into_iter().collect(),
                provider,
                tlp: Tlp::parse(tlp),
                kind,
                atomic,
            })
            .collect(),
    )
}

fn hit_line<D: AsRef<[u8]>>(
    line: &[u8],
    file: &str,
    line_no: u64,
    set: Option<&IndicatorSet<D>>,
    agg: &mut Aggregator,
    report: &mut ReadReport,
) {
    let line = line.trim_ascii();
    if line.is_empty() {
        return;
    }
    let Ok(doc) = serde_json::from_slice::<Json>(line) else {
        report.bad("not JSON", file, line_no);
        return;
    };
    let Some(obj) = doc.as_object() else {
        report.bad("not a JSON object", file, line_no);
        return;
    };
    let enrichments = obj.get("threat").and_then(|t| t.get("enrichments"));
    let is_alert = obj.get("event_type").and_then(Json::as_str) == Some("alert");
    // Packet and log hit documents are one hit each; an enriched record may hold several.
    let mut one_hit = true;
    let sources = if let Some(enrichments) = enrichments {
        let Some(list) = enrichments.as_array() else {
            report.bad("threat.enrichments is not an array", file, line_no);
            return;
        };
        let trawl_doc = obj
            .get("event")
            .and_then(|e| e.get("dataset"))
            .and_then(Json::as_str)
            .is_some_and(|d| d.starts_with("trawl."));
        one_hit = trawl_doc;
        if trawl_doc && list.is_empty() {
            report.bad("hit without enrichments", file, line_no);
            return;
        }
        let doc_kind = obj
            .get("trawl")
            .and_then(|t| t.get("indicator"))
            .and_then(|i| i.get("type"))
            .and_then(Json::as_str)
            .and_then(Kind::parse);
        let mut sources = Vec::with_capacity(list.len());
        let mut bad_entry = false;
        for e in list {
            let Some(ind) = e.get("indicator").filter(|i| i.is_object()) else {
                bad_entry |= trawl_doc;
                continue;
            };
            // trawl's own fields of a source: `threat.enrichments[].trawl` (older output: in
            // the indicator, where ECS does not allow them; still read, it costs one lookup).
            let own = e
                .get("trawl")
                .or_else(|| ind.get("trawl"))
                .filter(|t| t.is_object());
            if !trawl_doc && own.is_none() {
                report.not_trawl += 1;
                continue;
            }
            let matched = e.get("matched");
            let field = matched.and_then(|m| m.get("field")).and_then(Json::as_str);
            if field.is_some_and(|f| f.starts_with("threat.")) {
                // `scan logs --enrich` also matches the values of enrichments a record already
                // had: an echo of intelligence, not an observation.
                report.threat_field_hits += 1;
                continue;
            }
            let ids = match own.and_then(|t| t.get("id")).or_else(|| ind.get("id")) {
                Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).collect(),
                Some(Json::String(s)) => vec![s.as_str()],
                _ => Vec::new(),
            };
            let kind = own
                .and_then(|t| t.get("indicator").or(Some(t)))
                .and_then(|t| t.get("type"))
                .and_then(Json::as_str)
                .and_then(Kind::parse)
                .or(doc_kind)
                .or_else(|| {
                    ind.get("type")
                        .and_then(Json::as_str)
                        .and_then(kind_of_ecs_type)
                });
            sources.push(Source {
                ids,
                provider: ind.get("provider").and_then(Json::as_str).unwrap_or("?"),
                tlp: ind
                    .get("marking")
                    .and_then(|m| m.get("tlp"))
                    .and_then(Json::as_str)
                    .and_then(Tlp::parse),
                kind,
                atomic: matched.and_then(|m| m.get("atomic")).and_then(Json::as_str),
            });
        }
        if bad_entry {
            report.bad("enrichment without indicator", file, line_no);
        }
        sources
    } else if let Some(sources) = trawl_alert_metadata(obj).and_then(eve_sources) {
        sources
    } else if is_alert {
        let alert = obj.get("alert");
        let field = |k: &str| alert.and_then(|a| a.get(k));
        let signature = field("signature").and_then(Json::as_str).unwrap_or("");
        if field("gid").and_then(Json::as_u64) != Some(TRAWL_EVE_GID)
            || !signature.starts_with("trawl ")
        {
            report.not_trawl += 1;
            return;
        }
        let Some(set) = set else {
            report.bad("EVE alert, but no set to resolve it", file, line_no);
            return;
        };
        let ind = field("signature_id")
            .and_then(Json::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .and_then(|n| set.indicator(n))
            .filter(|ind| {
                ind.kind().is_some_and(|k| {
                    signature.starts_with(&format!("trawl {} {} (", k.name(), ind.value()))
                })
            });
        let Some(ind) = ind else {
            report.bad(
                "EVE alert names an indicator the set does not have (another set?)",
                file,
                line_no,
            );
            return;
        };
        let atomic = field("metadata")
            .and_then(|m| m.get("matched_value"))
            .and_then(|v| v.get(0))
            .and_then(Json::as_str);
        ind.provenance()
            .map(|p| Source {
                ids: p.id.into_iter().collect(),
                provider: p.source,
                tlp: p.tlp,
                kind: ind.kind(),
                atomic,
            })
            .collect()
    } else {
        report.without_hits += 1;
        return;
    };
    if sources.is_empty() {
        return;
    }
    let time = match obj.get("@timestamp").or_else(|| obj.get("timestamp")) {
        None => {
            report.bad("no @timestamp or timestamp", file, line_no);
            return;
        }
        Some(t) => match t.as_str().and_then(Timestamp::parse) {
            Some(t) => t,
            None => {
                report.bad("bad timestamp", file, line_no);
                return;
            }
        },
    };
    report.hit_records += 1;
    let mut counted: Vec<&str> = Vec::new();
    for s in &sources {
        if s.ids.is_empty() {
            if !agg.window().contains(time) {
                report.outside_window += 1;
                continue;
            }
            *report
                .unsightable
                .entry(s.provider.to_string())
                .or_default()
                .entry(NotSightable::NoId.reason())
                .or_default() += 1;
            continue;
        }
        for &id in &s.ids {
            if one_hit {
                // Two sources of one indicator naming one id are still one hit of it.
                if counted.contains(&id) {
                    continue;
                }
                counted.push(id);
            }
            let observed = if agg.keeps_observed() {
                s.kind.zip(s.atomic).and_then(|(k, a)| Observed::new(k, a))
            } else {
                None
            };
            let hit = Sighted {
                indicator_id: id,
                time,
                observed,
                tlp: s.tlp,
            };
            match agg.add(hit) {
                Ok(()) => report.hits += 1,
                Err(Rejected::OutsideWindow) => report.outside_window += 1,
                Err(Rejected::NotSightable(why)) => {
                    *report
                        .unsightable
                        .entry(s.provider.to_string())
                        .or_default()
                        .entry(why.reason())
                        .or_default() += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";

    #[test]
    fn timestamps_parse_and_format() {
        let t = Timestamp::parse("2026-01-01T00:00:01.123456Z").unwrap();
        assert_eq!(t.micros(), 1_767_225_601_123_456);
        assert_eq!(t.rfc3339_micros(), "2026-01-01T00:00:01.123456Z");
        assert_eq!(t.rfc3339_millis(), "2026-01-01T00:00:01.123Z");
        assert_eq!(
            Timestamp::parse("2026-01-01T01:00:01.123456+01:00"),
            Some(t)
        );
        assert_eq!(Timestamp::parse("2026-01-01T00:00:01.123456+0000"), Some(t));
        assert_eq!(Timestamp::parse("2026-01-01T00:00:01.123456789Z"), Some(t));
        assert_eq!(
            Timestamp::parse("2026-01-01"),
            Some(Timestamp::from_unix(1_767_225_600, 0))
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-01-01T25:00:00Z",
            "1767225600",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        let before_epoch = Timestamp::from_micros(-1);
        assert_eq!(before_epoch.rfc3339_millis(), "1969-12-31T23:59:59.999Z");
        assert_eq!(before_epoch.millis_floor().micros(), -1000);
    }

    #[test]
    fn observed_values_take_sco_form() {
        fn o(k: Kind, s: &str) -> Option<(&'static str, String)> {
            Observed::new(k, s).map(|o| (o.sco_type(), o.value().to_string()))
        }
        assert_eq!(
            o(Kind::Ipv4, "203.0.113.7"),
            Some(("ipv4-addr", "203.0.113.7".into()))
        );
        assert_eq!(
            o(Kind::Ipv4, "::ffff:203.0.113.7"),
            Some(("ipv4-addr", "203.0.113.7".into()))
        );
        assert_eq!(
            o(Kind::Ipv6, "[2001:DB8:bad::1]"),
            Some(("ipv6-addr", "2001:db8:bad::1".into()))
        );
        assert_eq!(
            o(Kind::Domain, "WWW.Evil.Example."),
            Some(("domain-name", "www.evil.example".into()))
        );
        assert_eq!(o(Kind::Url, "EvilBot/1.0"), None);
        assert_eq!(o(Kind::HttpRequest, "EvilBot/1.0"), None);
        assert_eq!(
            o(Kind::Sha256, &"AB".repeat(16)),
            Some(("file", "ab".repeat(16)))
        );
        assert_eq!(o(Kind::Md5, "xyz"), None);
        assert_eq!(o(Kind::Email, "@nobody"), None);
        assert_eq!(o(Kind::Ipv4, "not an address"), None);
        // STIX 2.1 §2.9: UUIDv5 in the SCO namespace over the ID contributing properties;
        // the ids the OASIS `stix2` library (3.0.2) gives for the same objects.
        for (kind, value, id) in [
            (
                Kind::Ipv4,
                "198.51.100.3".to_string(),
                "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
            ),
            (
                Kind::Sha256,
                "ab".repeat(32),
                "file--20432b06-75d2-54b6-80ef-6d923b5d925d",
            ),
            (
                Kind::Domain,
                "www.evil.example".to_string(),
                "domain-name--aa9671a8-c01e-5e03-8090-c48b946d69e5",
            ),
        ] {
            assert_eq!(Observed::new(kind, &value).unwrap().sco_id(), id);
        }
    }

    #[test]
    fn sightable_ids() {
        assert_eq!(check_sightable(ID), Ok(()));
        assert_eq!(check_sightable(""), Err(NotSightable::NoId));
        for id in [
            "5c1c5e3e-1b5c-4c8e-9f9e-6d0b0c6e8a11",
            "indicator--not-a-uuid",
            "Indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
        ] {
            assert_eq!(check_sightable(id), Err(NotSightable::NotStixId), "{id}");
        }
        assert_eq!(
            check_sightable("url--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
            Err(NotSightable::NotDomainObject)
        );
    }

    #[test]
    fn reads_hits_of_this_shape_and_the_one_before() {
        // The ECS shape trawl writes (per-source fields under the enrichment's `trawl`), and
        // the one before it validated (in the indicator): the same hit.
        let now = r#"{"@timestamp":"2026-01-01T00:00:00Z","event":{"dataset":"trawl.log"},"threat":{"enrichments":[{"indicator":{"provider":"ais","marking":{"tlp":"GREEN"}},"matched":{"atomic":"www.evil.example","field":"q"},"trawl":{"indicator":{"type":"domain","value":"evil.example"},"id":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}}]}}"#;
        let before = r#"{"@timestamp":"2026-01-01T00:00:01Z","event":{"dataset":"trawl.log"},"threat":{"enrichments":[{"indicator":{"provider":"ais","marking":{"tlp":"GREEN"},"id":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],"trawl":{"type":"domain","value":"evil.example"}},"matched":{"atomic":"www.evil.example","field":"q"}}]}}"#;
        // An enriched record: only enrichments with trawl's own fields are trawl's.
        let enriched = r#"{"@timestamp":"2026-01-01T00:00:02Z","threat":{"enrichments":[{"indicator":{"provider":"x"}},{"indicator":{"provider":"ais"},"matched":{"atomic":"www.evil.example"},"trawl":{"indicator":{"type":"domain"},"id":["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]}}]}}"#;
        let mut agg = Aggregator::new(Window::default(), true);
        let mut report = ReadReport::default();
        let input = format!("{now}\n{before}\n{enriched}\n");
        read_hits::<_, &[u8]>(input.as_bytes(), "h", None, &mut agg, &mut report).unwrap();
        assert_eq!((report.hits, report.not_trawl), (3, 1));
        let got = agg.get(ID).unwrap();
        assert_eq!(got.seen.count, 3);
        assert_eq!(got.tlp, Some(Tlp::Green));
        let seen: Vec<_> = got.observed.keys().collect();
        assert_eq!(
            seen,
            [&Observed::new(Kind::Domain, "www.evil.example").unwrap()]
        );
    }

    #[test]
    fn aggregates_within_the_window() {
        let t = |s: i64| Timestamp::from_unix(1_767_225_600 + s, 0);
        let mut agg = Aggregator::new(
            Window {
                since: Some(t(10)),
                until: Some(t(20)),
            },
            true,
        );
        let hit = |s, seen: &str, tlp| Sighted {
            indicator_id: ID,
            time: t(s),
            observed: Observed::new(Kind::Domain, seen),
            tlp,
        };
        assert_eq!(
            agg.add(hit(9, "a.evil.example", None)),
            Err(Rejected::OutsideWindow)
        );
        assert_eq!(
            agg.add(hit(20, "a.evil.example", None)),
            Err(Rejected::OutsideWindow)
        );
        for (s, seen, tlp) in [
            (15, "a.evil.example", Some(Tlp::Green)),
            (10, "b.evil.example", None),
            (19, "a.evil.example", Some(Tlp::Clear)),
        ] {
            agg.add(hit(s, seen, tlp)).unwrap();
        }
        let h = agg.get(ID).unwrap();
        assert_eq!(
            h.seen,
            Seen {
                count: 3,
                first: t(10),
                last: t(19)
            }
        );
        assert_eq!(h.tlp, Some(Tlp::Green), "the most restrictive");
        assert_eq!(h.observed.len(), 2);
        assert_eq!(
            agg.add(Sighted {
                indicator_id: "plain",
                ..hit(12, "x.example", None)
            }),
            Err(Rejected::NotSightable(NotSightable::NotStixId))
        );
    }

    #[test]
    fn long_lines_are_cut_and_counted() {
        let input = format!("{}\n{{}}\nlast", "x".repeat(40));
        let mut r = io::Cursor::new(input.into_bytes());
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), (41, true));
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), (3, false));
        assert_eq!(buf, b"{}");
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), (4, false));
        assert_eq!(buf, b"last");
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), (0, false));
    }
}
