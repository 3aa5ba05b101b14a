//! The feed store: per feed, a state file and the data pulled so far, every write atomic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::compile::write_atomic;
use crate::error::{Error, Result};

/// The stored bundle of a TAXII feed.
pub const BUNDLE: &str = "bundle.json";
const STATE: &str = "state.json";

/// What the store remembers of a feed between pulls.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FeedState {
    /// TAXII: the `X-TAXII-Date-Added-Last` of the last pull.
    pub added_after: Option<String>,
    /// When it was last pulled, Unix seconds.
    pub last_pull: Option<i64>,
    /// The last pull's error, if it failed.
    pub last_error: Option<String>,
    /// Successful pulls.
    pub pulls: u64,
    /// Objects (TAXII), events (MISP) or lines (URL) stored.
    pub objects: u64,
    /// MISP: event uuid → manifest timestamp of the stored version.
    #[serde(default)]
    pub events: BTreeMap<String, String>,
    /// URL feeds: blake3 of the stored body.
    pub digest: Option<String>,
}

impl FeedState {
    /// The state in `dir`, or a fresh one (a missing or unreadable state starts over).
    pub fn load(dir: &Path) -> FeedState {
        std::fs::read(dir.join(STATE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the state atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| Error::invalid(e.to_string()))?;
        write_file(&dir.join(STATE), &bytes)
    }
}

/// Writes `bytes` to `path` atomically, creating its directory.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomic(path, |f| std::io::Write::write_all(f, bytes))
}

/// The stored MISP event files of a feed, sorted.
pub fn event_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("events"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// A TAXII feed's objects: the newest version of each id (`modified`, else `created`), and
/// revoked ids kept as revoked so that an older version pulled later cannot bring them back.
#[derive(Debug, Default)]
pub struct StixStore {
    objects: BTreeMap<String, Json>,
}

fn version(o: &Json) -> (chrono::DateTime<chrono::Utc>, bool) {
    let time = |k: &str| {
        o.get(k)
            .and_then(Json::as_str)
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    let t = time("modified")
        .or_else(|| time("created"))
        .unwrap_or_default();
    (t, o.get("revoked").and_then(Json::as_bool).unwrap_or(false))
}

impl StixStore {
    /// The bundle stored in `dir` (empty when there is none).
    pub fn load(dir: &Path) -> Result<StixStore> {
        let path = dir.join(BUNDLE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StixStore::default()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let doc: Json = serde_json::from_slice(&bytes)
            .map_err(|e| Error::feed(&path, format!("stored bundle: {e}")))?;
        let mut store = StixStore::default();
        for o in doc
            .get("objects")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            store.merge(o.clone());
        }
        Ok(store)
    }

    /// Adds one object; `true` when the store changed (a new id, a newer version, or a
    /// revocation).
    pub fn merge(&mut self, o: Json) -> bool {
        let Some(id) = o.get("id").and_then(Json::as_str).map(str::to_string) else {
            return false;
        };
        match self.objects.get(&id) {
            Some(old) => {
                let (old_t, old_revoked) = version(old);
                let (new_t, new_revoked) = version(&o);
                if old_revoked || (new_t <= old_t && !new_revoked) {
                    return false;
                }
                self.objects.insert(id, o);
                true
            }
            None => {
                self.objects.insert(id, o);
                true
            }
        }
    }

    /// Objects stored.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Writes the store as a bundle, atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": "bundle--00000000-0000-4000-8000-000000000000",
            "objects": self.objects.values().collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec(&bundle).map_err(|e| Error::invalid(e.to_string()))?;
        write_file(&dir.join(BUNDLE), &bytes)
    }
}
