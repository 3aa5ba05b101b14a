//! The feeds configuration file (`trawl.toml`): see [`crate::feeds`] for an example.

use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::feeds::taxii::{Auth, ClientOptions, PullLimits};
use crate::indicators::error::{Error, Result};
use crate::indicators::model::Tlp;

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The set kept current.
    pub set: SetConfig,
    /// The feeds, `[[feed]]` tables.
    #[serde(rename = "feed", default)]
    pub feeds: Vec<FeedConfig>,
    /// `[sightings]`: what `trawl sightings` may share.
    #[serde(default)]
    pub sightings: SightingsConfig,
}

/// `[sightings]`: the site's sharing policy for `trawl sightings` (its flags can only add to
/// it). Nothing is shared by default: no identity, no observed value.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SightingsConfig {
    /// Name the organisation (`identity`, `created_by_ref`, `where_sighted_refs`).
    #[serde(default)]
    pub share_identity: bool,
    /// Add the values seen as `observed-data`.
    #[serde(default)]
    pub share_observed: bool,
    /// The organisation's name.
    pub identity_name: Option<String>,
    /// The organisation's STIX identity id, when a sharing programme gave it one.
    pub identity_id: Option<String>,
}

/// `[set]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetConfig {
    /// The set file.
    pub output: PathBuf,
    /// The feed store: one directory per feed.
    pub store: PathBuf,
    /// Warninglists (MISP warninglists or plain allowlists).
    #[serde(default)]
    pub exclude: Vec<PathBuf>,
    /// Leave out indicators scored below this.
    pub min_score: Option<u8>,
    /// Leave out indicators marked above this TLP.
    #[serde(default, deserialize_with = "tlp")]
    pub tlp_max: Option<Tlp>,
    /// The shrink guard (see `crate::feeds::guard`): a pull that would shrink a feed by more
    /// than this fraction is refused. Default [`DEFAULT_MAX_SHRINK`].
    pub max_shrink: Option<f64>,
}

/// The fraction of a feed a pull may drop unless the feed or `--force` allows more.
pub(crate) const DEFAULT_MAX_SHRINK: f64 = 0.5;

/// The kinds of feed.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// A TAXII 2.1 collection.
    Taxii,
    /// A MISP feed (manifest and event files) at a URL or in a directory.
    Misp,
    /// A local feed file, read in place.
    File,
    /// A feed file at a URL.
    Url,
}

impl FeedKind {
    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Taxii => "taxii",
            FeedKind::Misp => "misp",
            FeedKind::File => "file",
            FeedKind::Url => "url",
        }
    }
}

/// Credentials: `{ user, password }` or `{ token }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum AuthConfig {
    /// HTTP basic.
    Basic {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
    /// Bearer token.
    Bearer {
        /// Token.
        token: String,
    },
}

/// One `[[feed]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Name: the source of its indicators, and its store directory.
    pub name: String,
    /// Kind.
    pub kind: FeedKind,
    /// TAXII API root URL.
    pub api_root: Option<String>,
    /// TAXII collection id.
    pub collection: Option<String>,
    /// URL (`url` feeds; `misp` feeds served over HTTP).
    pub url: Option<String>,
    /// Local path (`file` feeds; `misp` feeds in a directory).
    pub path: Option<PathBuf>,
    /// Credentials.
    pub auth: Option<AuthConfig>,
    /// Client certificate chain (PEM).
    pub client_cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key: Option<PathBuf>,
    /// CA bundle (PEM) to trust instead of the built-in roots.
    pub ca_bundle: Option<PathBuf>,
    /// TAXII `match[type]`.
    #[serde(default)]
    pub types: Vec<String>,
    /// Where the first TAXII pull starts (later pulls continue from the last one).
    pub added_after: Option<String>,
    /// TAXII page size asked for.
    pub page_size: Option<u32>,
    /// Score for items that carry none.
    pub score: Option<u8>,
    /// TLP for items that carry none.
    #[serde(default, deserialize_with = "tlp")]
    pub tlp: Option<Tlp>,
    /// Leave out this feed's indicators scored below this (on top of `[set] min_score`).
    pub min_score: Option<u8>,
    /// Leave out this feed's indicators marked above this TLP (on top of `[set] tlp_max`).
    #[serde(default, deserialize_with = "tlp")]
    pub tlp_max: Option<Tlp>,
    /// Domains match exactly, without subdomains.
    #[serde(default)]
    pub exact: bool,
    /// MISP: every attribute of an indicator type, not only `to_ids` ones.
    #[serde(default)]
    pub misp_all: bool,
    /// Plain lists and CSV without a `kind` column: the kind of every value (`ja3`,
    /// `x509-sha1`, `md5`, …).
    #[serde(default, deserialize_with = "value_kind")]
    pub value_kind: Option<crate::indicators::model::Kind>,
    /// This feed's shrink limit, over `[set] max_shrink`.
    pub max_shrink: Option<f64>,
    /// Accept any pull of this feed, even an empty one: the shrink guard is off.
    #[serde(default)]
    pub allow_shrink: bool,
    // What a server may cost (see `crate::feeds::http` and `crate::feeds::taxii::PullLimits`); unset: the
    // defaults there.
    /// The largest response accepted, in bytes.
    pub max_response_bytes: Option<NonZeroU64>,
    /// The longest one request may take (connect, headers, whole body), in seconds.
    #[serde(default, deserialize_with = "seconds")]
    pub request_timeout: Option<Duration>,
    /// Hosts other than the feed's own that a redirect may lead to.
    #[serde(default)]
    pub allow_redirect_hosts: Vec<String>,
    /// TAXII: pages per pull.
    pub max_pages: Option<NonZeroU64>,
    /// TAXII: time per pull, in seconds.
    #[serde(default, deserialize_with = "seconds")]
    pub max_pull_time: Option<Duration>,
    /// TAXII: pages in a row without an object while the server says there is more.
    pub max_empty_pages: Option<NonZeroU64>,
}

/// A positive number of seconds (`0.5`, `30`, `3600`).
fn seconds<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Duration>, D::Error> {
    let s: Option<f64> = Option::deserialize(d)?;
    s.map(|s| {
        Duration::try_from_secs_f64(s)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                serde::de::Error::custom(format!("{s} is not a positive number of seconds"))
            })
    })
    .transpose()
}

fn value_kind<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<crate::indicators::model::Kind>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| {
        crate::indicators::model::Kind::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown value kind {s:?}")))
    })
    .transpose()
}

fn tlp<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Tlp>, D::Error> {
    let s: Option<String> = Option::deserialize(d)?;
    s.map(|s| Tlp::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown TLP {s:?}"))))
        .transpose()
}

impl FeedConfig {
    /// The fraction of this feed a pull may drop: its own `max_shrink`, else the set's.
    pub fn max_shrink(&self, set: &SetConfig) -> f64 {
        self.max_shrink
            .or(set.max_shrink)
            .unwrap_or(DEFAULT_MAX_SHRINK)
    }

    /// The TAXII/HTTP client settings of this feed.
    pub fn client_options(&self) -> ClientOptions {
        let defaults = ClientOptions::default();
        ClientOptions {
            auth: match &self.auth {
                None => Auth::None,
                Some(AuthConfig::Basic { user, password }) => Auth::Basic {
                    user: user.clone(),
                    password: password.clone(),
                },
                Some(AuthConfig::Bearer { token }) => Auth::Bearer(token.clone()),
            },
            ca_bundle: self.ca_bundle.clone(),
            client_cert: self.client_cert.clone().zip(self.client_key.clone()),
            max_response_bytes: self
                .max_response_bytes
                .map_or(defaults.max_response_bytes, NonZeroU64::get),
            request_timeout: self.request_timeout.unwrap_or(defaults.request_timeout),
            allow_redirect_hosts: self.allow_redirect_hosts.clone(),
            ..defaults
        }
    }

    /// The bounds of one TAXII pull of this feed.
    pub fn pull_limits(&self) -> PullLimits {
        let defaults = PullLimits::default();
        PullLimits {
            max_pages: self.max_pages.map_or(defaults.max_pages, NonZeroU64::get),
            max_time: self.max_pull_time.unwrap_or(defaults.max_time),
            max_empty_pages: self
                .max_empty_pages
                .map_or(defaults.max_empty_pages, NonZeroU64::get),
        }
    }
}

impl Config {
    /// Reads and checks a configuration file; relative paths in it are taken from the file's
    /// directory.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        let fraction = |v: Option<f64>, what: &str| match v {
            Some(f) if !(0.0..=1.0).contains(&f) => Err(Error::invalid(format!(
                "{}: {what}max_shrink = {f}: a fraction from 0 to 1 (0.5 refuses a pull that \
                 drops more than half a feed)",
                path.display()
            ))),
            _ => Ok(()),
        };
        fraction(config.set.max_shrink, "")?;
        for feed in &config.feeds {
            fraction(feed.max_shrink, &format!("feed {:?}: ", feed.name))?;
        }
        fix(&mut config.set.output);
        fix(&mut config.set.store);
        config.set.exclude.iter_mut().for_each(fix);
        let mut names = std::collections::HashSet::new();
        for feed in &mut config.feeds {
            for p in [
                &mut feed.path,
                &mut feed.client_cert,
                &mut feed.client_key,
                &mut feed.ca_bundle,
            ]
            .into_iter()
            .flatten()
            {
                fix(p);
            }
            let ok_name = !feed.name.is_empty()
                && feed
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !feed.name.starts_with('.');
            if !ok_name {
                return Err(Error::invalid(format!(
                    "{}: feed name {:?}: use letters, digits, `-`, `_`, `.`",
                    path.display(),
                    feed.name
                )));
            }
            if !names.insert(feed.name.clone()) {
                return Err(Error::invalid(format!(
                    "{}: feed {:?} twice",
                    path.display(),
                    feed.name
                )));
            }
            if feed.client_cert.is_some() != feed.client_key.is_some() {
                return Err(Error::invalid(format!(
                    "{}: feed {:?}: client_cert and client_key go together",
                    path.display(),
                    feed.name
                )));
            }
        }
        Ok(config)
    }

    /// Warnings about files that hold secrets and that others can read: the configuration
    /// file `path` (this configuration) when it holds credentials (`auth`, or a URL with a
    /// password), and each `client_key`. Each names the file and the `chmod` that fixes it.
    pub fn permission_warnings(&self, path: &Path) -> Vec<String> {
        let in_url = |u: &Option<String>| {
            u.as_deref().is_some_and(|u| {
                let rest = u.split_once("://").map_or(u, |(_, r)| r);
                rest.split('/')
                    .next()
                    .is_some_and(|host| host.contains('@'))
            })
        };
        let holds_credentials = self
            .feeds
            .iter()
            .any(|f| f.auth.is_some() || in_url(&f.url) || in_url(&f.api_root));
        let config = holds_credentials
            .then(|| exposed(path, "feed credentials"))
            .flatten();
        let keys = self
            .feeds
            .iter()
            .filter_map(|f| f.client_key.as_deref())
            .filter_map(|key| exposed(key, "a client private key"));
        config.into_iter().chain(keys).collect()
    }
}

/// A warning when the file at `path`, which holds `what`, is readable by its group or others.
fn exposed(path: &Path, what: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o7777;
    let who = match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (false, false) => return None,
        (true, true) => "its group and others",
        (true, false) => "its group",
        (false, true) => "others",
    };
    Some(format!(
        "{} holds {what} and is readable by {who} (mode {mode:o}): chmod 600 {}",
        path.display(),
        path.display()
    ))
}
