//! The stored bundle of a TAXII feed, merged without holding the objects in memory.
//!
//! The bundle is a STIX 2.1 bundle written one object per line:
//!
//! ```text
//! {"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[
//! {"type":"indicator","id":"indicator--…",…}
//! ,{"type":"indicator","id":"indicator--…",…}
//! ]}
//! ```
//!
//! so it compiles like any bundle and can be read back line by line. A pull keeps in memory
//! only an index (per id: a 128-bit hash of the id, the version, and the line holding it);
//! pulled objects go to a scratch file as they arrive, and [`StixBundle::save`] streams the
//! winners of both files into a new bundle, renamed over the old one. A first pull of a
//! collection of millions of objects therefore needs tens of bytes per object, not the
//! parsed objects.
//!
//! The newest version of an id wins (`modified`, else `created`); a revoked id stays revoked,
//! so an older version pulled later cannot bring it back.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use crate::indicators::build::{Access, write_atomic};
use crate::indicators::error::{Error, Result};

/// The stored bundle's file name in a feed's directory.
pub const BUNDLE: &str = "bundle.json";
/// Objects pulled and not yet saved; scratch, recreated by every pull.
const PULLED: &str = ".pulled.jsonl";
const HEADER: &[u8] =
    b"{\"type\":\"bundle\",\"id\":\"bundle--00000000-0000-4000-8000-000000000000\",\"objects\":[";
const FOOTER: &[u8] = b"]}";

/// Which version of an object is newer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Version {
    /// `modified`, else `created` (the epoch when neither parses).
    time: chrono::DateTime<chrono::Utc>,
    revoked: bool,
}

impl Version {
    fn of(modified: Option<&str>, created: Option<&str>, revoked: bool) -> Version {
        let time = |s: Option<&str>| {
            s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        Version {
            time: time(modified).or_else(|| time(created)).unwrap_or_default(),
            revoked,
        }
    }

    /// Whether `self` replaces `old`: a revocation always does, nothing replaces one, and
    /// otherwise only a later time.
    fn replaces(self, old: Version) -> bool {
        !old.revoked && (self.revoked || self.time > old.time)
    }
}

/// Where the current version of an id is: the offset of its line in the stored bundle or in
/// the pulled objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Stored(u64),
    Pulled(u64),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    version: Version,
    place: Place,
}

/// The properties of an object the store needs, read from a stored line without building
/// the rest; any type is accepted, as a server may send anything.
#[derive(Deserialize)]
struct Head {
    id: Option<Json>,
    modified: Option<Json>,
    created: Option<Json>,
    revoked: Option<Json>,
}

impl Head {
    fn key_and_version(&self) -> Option<(u128, Version)> {
        let id = self.id.as_ref()?.as_str()?;
        let version = Version::of(
            self.modified.as_ref().and_then(Json::as_str),
            self.created.as_ref().and_then(Json::as_str),
            self.revoked
                .as_ref()
                .and_then(Json::as_bool)
                .unwrap_or(false),
        );
        Some((key(id), version))
    }
}

/// The index key of an id: 128 bits of its blake3 hash (ids are 40-odd bytes; collisions
/// among 2^64 ids are unlikely).
fn key(id: &str) -> u128 {
    let h = blake3::hash(id.as_bytes());
    u128::from_le_bytes(h.as_bytes()[..16].try_into().expect("16 bytes"))
}

/// A TAXII feed's stored objects, opened for merging a pull into them.
#[derive(Debug)]
pub struct StixBundle {
    dir: PathBuf,
    index: HashMap<u128, Entry>,
    /// The stored bundle is not in the one-object-per-line layout (written by an older trawl):
    /// its objects were moved to the pulled file and it is rewritten on save.
    relaid: bool,
    pulled: BufWriter<File>,
    pulled_len: u64,
    changed: bool,
}

impl StixBundle {
    /// Indexes the bundle stored in `dir` (none yet: empty) and starts an empty pulled file.
    pub fn open(dir: &Path) -> Result<StixBundle> {
        let pulled_path = dir.join(PULLED);
        // Recreated exclusively (a crash's leftover removed first), never through a symlink.
        match std::fs::remove_file(&pulled_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(&pulled_path, e));
            }
            _ => {}
        }
        let pulled = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&pulled_path)
            .map_err(|e| Error::io(&pulled_path, e))?;
        let mut bundle = StixBundle {
            dir: dir.to_path_buf(),
            index: HashMap::new(),
            relaid: false,
            pulled: BufWriter::new(pulled),
            pulled_len: 0,
            changed: false,
        };
        let path = dir.join(BUNDLE);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(bundle),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let mut laid_out = true;
        for_each_line(file, |offset, line| {
            if offset == 0 {
                laid_out = line == HEADER;
                return Ok(laid_out);
            }
            if let Some((k, version)) = object_line(line).and_then(head) {
                bundle.index.insert(
                    k,
                    Entry {
                        version,
                        place: Place::Stored(offset),
                    },
                );
            }
            Ok(true)
        })
        .map_err(|e| Error::io(&path, e))?;
        if !laid_out {
            bundle.relay(&path)?;
        }
        Ok(bundle)
    }

    /// Moves the objects of a bundle in another layout to the pulled file.
    fn relay(&mut self, path: &Path) -> Result<()> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // Unreadable: refuse, naming the way out (the next pull then starts over).
        let corrupt = |why: String| {
            Error::feed(
                path,
                format!(
                    "stored bundle is corrupt ({why}); remove {} to pull the collection again",
                    self.dir.display()
                ),
            )
        };
        let doc: Json =
            serde_json::from_reader(BufReader::new(file)).map_err(|e| corrupt(e.to_string()))?;
        let Json::Object(mut doc) = doc else {
            return Err(corrupt("not a JSON object".into()));
        };
        let objects = match doc.remove("objects") {
            Some(Json::Array(objects)) => objects,
            _ => Vec::new(),
        };
        self.index.clear();
        for o in objects {
            self.merge(&o)?;
        }
        self.relaid = true;
        Ok(())
    }

    /// Adds one pulled object; `true` when it is new or replaces the stored version (see the
    /// module doc). An object without a string `id` is not stored.
    pub fn merge(&mut self, o: &Json) -> Result<bool> {
        let Some(id) = o.get("id").and_then(Json::as_str) else {
            return Ok(false);
        };
        let text = |k: &str| o.get(k).and_then(Json::as_str);
        let version = Version::of(
            text("modified"),
            text("created"),
            o.get("revoked").and_then(Json::as_bool).unwrap_or(false),
        );
        let k = key(id);
        if let Some(old) = self.index.get(&k)
            && !version.replaces(old.version)
        {
            return Ok(false);
        }
        let at = self.pulled_len;
        let mut line = serde_json::to_vec(o).map_err(|e| Error::invalid(e.to_string()))?;
        line.push(b'\n');
        self.pulled
            .write_all(&line)
            .map_err(|e| Error::io(self.dir.join(PULLED), e))?;
        self.pulled_len += line.len() as u64;
        self.index.insert(
            k,
            Entry {
                version,
                place: Place::Pulled(at),
            },
        );
        self.changed = true;
        Ok(true)
    }

    /// Ids stored and not revoked: what the shrink guard compares (see `super::guard`).
    pub fn live(&self) -> u64 {
        self.index.values().filter(|e| !e.version.revoked).count() as u64
    }

    /// Ids stored (revoked ones included).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Whether a merge changed anything since [`StixBundle::open`].
    pub fn changed(&self) -> bool {
        self.changed || self.relaid
    }

    /// Writes the current version of every id as the new bundle (stored objects in their
    /// order, then pulled ones in theirs), atomically, and removes the pulled file.
    pub fn save(mut self) -> Result<()> {
        let pulled_path = self.dir.join(PULLED);
        self.pulled
            .flush()
            .map_err(|e| Error::io(&pulled_path, e))?;
        let path = self.dir.join(BUNDLE);
        // The lines to copy: where each id's current version is, per file, in file order.
        let (mut stored, mut pulled) = (Vec::new(), Vec::new());
        for e in self.index.values() {
            match e.place {
                Place::Stored(at) => stored.push(at),
                Place::Pulled(at) => pulled.push(at),
            }
        }
        stored.sort_unstable();
        pulled.sort_unstable();
        write_atomic(&path, Access::Private, |out| {
            let mut w = BufWriter::with_capacity(1 << 20, out);
            w.write_all(HEADER)?;
            let mut first = true;
            // Copies the lines of `file` that start at the `wanted` offsets (ascending).
            let mut keep = |file: File, wanted: &[u64]| {
                let mut wanted = wanted.iter().peekable();
                for_each_line(file, |offset, line| {
                    if wanted.next_if_eq(&&offset).is_some()
                        && let Some(object) = object_line(line)
                    {
                        w.write_all(if first { b"\n" } else { b"\n," })?;
                        first = false;
                        w.write_all(object)?;
                    }
                    Ok(wanted.peek().is_some())
                })
            };
            if !stored.is_empty() {
                keep(File::open(&path)?, &stored)?;
            }
            keep(File::open(&pulled_path)?, &pulled)?;
            w.write_all(b"\n")?;
            w.write_all(FOOTER)?;
            w.write_all(b"\n")?;
            w.flush()
        })
    }
}

impl Drop for StixBundle {
    fn drop(&mut self) {
        // Scratch only: a pull that is not saved leaves nothing behind (a crash leaves the file,
        // which the next pull truncates).
        let _ = std::fs::remove_file(self.dir.join(PULLED));
    }
}

/// The JSON object of a stored line: the line without its leading `,`; `None` for the header,
/// the footer and blank lines.
fn object_line(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_prefix(b",").unwrap_or(line);
    line.starts_with(b"{").then_some(line)
}

fn head(object: &[u8]) -> Option<(u128, Version)> {
    serde_json::from_slice::<Head>(object)
        .ok()?
        .key_and_version()
}

/// Calls `each(offset, line)` for every line of `file` (without its `\n`) while it returns
/// `true`.
fn for_each_line(
    file: File,
    mut each: impl FnMut(u64, &[u8]) -> std::io::Result<bool>,
) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut offset = 0u64;
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        if !each(offset, text)? {
            return Ok(());
        }
        offset += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(n: u32, modified: &str, revoked: bool) -> Json {
        json!({"type": "indicator", "id": format!("indicator--{n}"), "modified": modified,
               "revoked": revoked, "pattern": format!("[domain-name:value = 'h{n}.example']")})
    }

    fn stored(dir: &Path) -> Vec<Json> {
        let doc: Json = serde_json::from_slice(&std::fs::read(dir.join(BUNDLE)).unwrap()).unwrap();
        doc["objects"].as_array().unwrap().clone()
    }

    #[test]
    fn newest_version_wins_and_revocation_sticks() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = StixBundle::open(dir.path()).unwrap();
        assert!(b.merge(&object(1, "2026-01-01T00:00:00Z", false)).unwrap());
        assert!(b.merge(&object(2, "2026-01-01T00:00:00Z", false)).unwrap());
        assert!(b.merge(&object(1, "2026-01-02T00:00:00Z", false)).unwrap());
        assert!(!b.merge(&object(1, "2026-01-01T12:00:00Z", false)).unwrap());
        assert!(!b.merge(&json!({"type": "indicator"})).unwrap());
        b.save().unwrap();
        let got = stored(dir.path());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1]["modified"], "2026-01-02T00:00:00Z");
        assert!(!dir.path().join(PULLED).exists());

        let mut b = StixBundle::open(dir.path()).unwrap();
        assert_eq!(b.len(), 2);
        assert!(!b.merge(&object(2, "2026-01-01T00:00:00Z", false)).unwrap());
        assert!(!b.changed());
        // A revocation with an older time still revokes; nothing brings the id back.
        assert!(b.merge(&object(2, "2025-01-01T00:00:00Z", true)).unwrap());
        assert!(!b.merge(&object(2, "2027-01-01T00:00:00Z", false)).unwrap());
        b.save().unwrap();
        let got = stored(dir.path());
        assert_eq!(got.len(), 2);
        assert_eq!(got[0]["id"], "indicator--1", "stored order is kept");
        assert_eq!(got[1]["revoked"], true);
    }

    #[test]
    fn a_bundle_in_another_layout_is_read_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let old = json!({"type": "bundle", "id": "bundle--1", "objects": [
            object(1, "2026-01-01T00:00:00Z", false), object(2, "2026-01-01T00:00:00Z", false)]});
        std::fs::write(dir.path().join(BUNDLE), old.to_string()).unwrap();
        let mut b = StixBundle::open(dir.path()).unwrap();
        assert_eq!(b.len(), 2);
        assert!(b.changed());
        assert!(!b.merge(&object(2, "2026-01-01T00:00:00Z", false)).unwrap());
        b.save().unwrap();
        let text = std::fs::read(dir.path().join(BUNDLE)).unwrap();
        assert!(text.starts_with(HEADER));
        assert_eq!(stored(dir.path()).len(), 2);
    }

    #[test]
    fn a_corrupt_bundle_is_refused_with_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(BUNDLE), b"{\"objects\": [{\"id\"").unwrap();
        let e = StixBundle::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("corrupt") && e.contains("remove"), "{e}");
    }

    #[test]
    fn an_unsaved_pull_leaves_the_stored_bundle_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = StixBundle::open(dir.path()).unwrap();
        b.merge(&object(1, "2026-01-01T00:00:00Z", false)).unwrap();
        b.save().unwrap();
        let before = std::fs::read(dir.path().join(BUNDLE)).unwrap();
        let mut b = StixBundle::open(dir.path()).unwrap();
        b.merge(&object(3, "2026-01-01T00:00:00Z", false)).unwrap();
        drop(b);
        assert_eq!(std::fs::read(dir.path().join(BUNDLE)).unwrap(), before);
        assert!(!dir.path().join(PULLED).exists());
    }

    #[test]
    fn strings_with_newlines_and_commas_stay_on_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = StixBundle::open(dir.path()).unwrap();
        let mut o = object(1, "2026-01-01T00:00:00Z", false);
        o["description"] = json!("a\nb\n,{\"id\": \"indicator--2\"}");
        b.merge(&o).unwrap();
        b.merge(&object(2, "2026-01-01T00:00:00Z", false)).unwrap();
        b.save().unwrap();
        let b = StixBundle::open(dir.path()).unwrap();
        assert_eq!(b.len(), 2);
        assert_eq!(stored(dir.path())[0], o);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Pulls of random versions (id, time, revoked), saved or dropped unsaved, give the
        /// bundle a map with the same rule would hold.
        #[test]
        fn merges_agree_with_a_map(
            pulls in proptest::collection::vec(
                (proptest::collection::vec((0u32..12, 0u8..5, proptest::bool::weighted(0.15)), 0..20),
                 proptest::bool::weighted(0.8)),
                1..6,
            )
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut oracle: std::collections::BTreeMap<u32, (u8, bool)> = Default::default();
            for (objects, saved) in pulls {
                let mut b = StixBundle::open(dir.path()).unwrap();
                let mut next = oracle.clone();
                for (id, t, revoked) in objects {
                    let o = object(id, &format!("2026-01-0{}T00:00:00Z", t + 1), revoked);
                    let replaces = next
                        .get(&id)
                        .is_none_or(|&(old_t, old_r)| !old_r && (revoked || t > old_t));
                    proptest::prop_assert_eq!(b.merge(&o).unwrap(), replaces);
                    if replaces {
                        next.insert(id, (t, revoked));
                    }
                }
                if saved {
                    b.save().unwrap();
                    oracle = next;
                }
                if dir.path().join(BUNDLE).exists() {
                    let got: std::collections::BTreeMap<u32, (u8, bool)> = stored(dir.path())
                        .iter()
                        .map(|o| {
                            let id = o["id"].as_str().unwrap()["indicator--".len()..].parse().unwrap();
                            let t = o["modified"].as_str().unwrap()[9..10].parse::<u8>().unwrap() - 1;
                            (id, (t, o["revoked"] == true))
                        })
                        .collect();
                    proptest::prop_assert_eq!(&got, &oracle);
                }
            }
        }

        /// Whatever bytes the stored bundle holds, opening it is an answer, not a panic, and
        /// what opens saves as valid JSON.
        #[test]
        fn any_stored_bytes_open_or_are_refused(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400),
            header in proptest::bool::ANY,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut content = if header { [HEADER, b"\n"].concat() } else { Vec::new() };
            content.extend(bytes);
            std::fs::write(dir.path().join(BUNDLE), &content).unwrap();
            if let Ok(mut b) = StixBundle::open(dir.path()) {
                b.merge(&object(1, "2026-01-01T00:00:00Z", false)).unwrap();
                b.save().unwrap();
                stored(dir.path());
            }
        }
    }
}
