//! What a file handed to `compile` holds, decided from its name and first bytes before it is
//! parsed: an indicator list, or something that would only make junk indicators.
//!
//! * Not text (NUL bytes, or more than a tenth of the first [`HEAD`] bytes control bytes or
//!   invalid UTF-8; or the magic of a capture, archive, compressed file or executable): a file
//!   named on the command line is refused with an error naming it; one met while walking a
//!   feed directory is skipped and reported — a stray download or archive in a feed folder
//!   must not stop the compile that keeps a sensor's set current.
//! * Rules, not indicator lists: Snort/Suricata rules (a rule's meaning is its whole detection
//!   logic — `content` with `nocase`/`endswith`/`bsize`, `pcre`, flow — and its `content`
//!   strings alone are not indicators; urlhaus-filter publishes the same data as domain and
//!   URL lists, which trawl reads), YARA rules, and LOKI's file-name IOCs (regular expressions
//!   over file paths, in the files whose name holds `filename`, as LOKI itself selects them).
//!   Skipped with the reason in the compile report, named or not.
//! * In a feed directory, documentation (`LICENSE*`, `README*`, `COPYING*`, `*.md`) and hidden
//!   entries (`.git`, `.DS_Store`) are skipped and reported.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::readers::{self, FeedOptions};
use crate::indicators::build::SetBuilder;
use crate::indicators::collect::{Collector, Location};
use crate::indicators::error::{Error, Result};

/// How many leading bytes of a file are looked at.
pub(crate) const HEAD: usize = 8192;

/// What a file's head says it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Text: read it as a feed.
    Text,
    /// Not text; what it looks like (`"a pcap capture"`).
    Binary(&'static str),
    /// Text that is not an indicator list; why (`"Snort/Suricata rules, not an indicator list"`).
    NotIndicators(&'static str),
}

/// Leading bytes that say for certain what a file is, and the name to report.
const MAGIC: &[(&[u8], &str)] = &[
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
    (b"\xfd7zXZ\x00", "xz-compressed data (decompress it first)"),
    (
        b"\x28\xb5\x2f\xfd",
        "zstd-compressed data (decompress it first)",
    ),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"PK\x03\x04", "a zip archive"),
    (b"\xd4\xc3\xb2\xa1", "a pcap capture"),
    (b"\xa1\xb2\xc3\xd4", "a pcap capture"),
    (b"\x4d\x3c\xb2\xa1", "a pcap capture"),
    (b"\xa1\xb2\x3c\x4d", "a pcap capture"),
    (b"\x0a\x0d\x0d\x0a", "a pcapng capture"),
    (b"\x7fELF", "an ELF executable"),
    (b"%PDF-", "a PDF document"),
    (b"TRAWLSET", "a trawl set file (compile feeds, not sets)"),
    (b"\xff\xfe", "UTF-16 text (convert it to UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (convert it to UTF-8)"),
];

/// Magic that is only telling once the bytes are known not to be text (`MZ` or `BZh` can
/// start a line of text).
const WEAK_MAGIC: &[(&[u8], &str)] = &[
    (b"MZ", "a Windows executable"),
    (b"BZh", "bzip2-compressed data (decompress it first)"),
];

/// Classifies a file by its first bytes (at most [`HEAD`] of them) and its name.
pub(crate) fn sniff(name: &Path, head: &[u8]) -> Content {
    if let Some((_, what)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Content::Binary(what);
    }
    if !looks_like_text(head) {
        let what = WEAK_MAGIC.iter().find(|(m, _)| head.starts_with(m)).map_or(
            "binary data (NUL bytes, control bytes or invalid UTF-8)",
            |(_, w)| w,
        );
        return Content::Binary(what);
    }
    // LOKI reads as file-name IOCs "all files in iocs that contain 'filename'" (loki.py).
    let file_name = name
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if file_name.contains("filename") && file_name.contains("ioc") {
        return Content::NotIndicators(
            "LOKI file-name IOCs: regular expressions over file paths (trawl has no file-name indicator)",
        );
    }
    match first_statement(head).as_deref() {
        Some(line) if readers::text::is_ids_rule(line) => {
            Content::NotIndicators("Snort/Suricata rules, not an indicator list")
        }
        Some(line) if is_yara(line) => Content::NotIndicators("YARA rules, not an indicator list"),
        _ => Content::Text,
    }
}

/// Whether a file met in a feed directory is documentation that ships beside the lists.
pub(crate) fn is_documentation(name: &Path) -> bool {
    let Some(file) = name
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_uppercase())
    else {
        return false;
    };
    // `LICENSE`, `LICENSE.txt`, `LICENSE-CC0.md`, but not `licensed-ips.txt`.
    ["LICENSE", "LICENCE", "README", "COPYING"].iter().any(|p| {
        file.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '-', '_']))
    }) || file.ends_with(".MD")
}

/// No NUL byte, and at most a tenth of the bytes control bytes (other than whitespace) or
/// invalid UTF-8. A multi-byte character cut at the end of the head is not held against it.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    let mut bad = 0usize;
    for chunk in head.utf8_chunks() {
        bad += chunk
            .valid()
            .bytes()
            .filter(|&b| {
                (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)) || b == 0x7f
            })
            .count();
        bad += chunk.invalid().len();
    }
    bad * 10 <= head.len()
}

/// The first line of the head that is neither blank nor a comment (`#`, `//`, a `/* … */`
/// block), trimmed, with the lines it continues onto (a trailing `\`, as ESET writes its
/// multi-line Snort rules) joined to it.
fn first_statement(head: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
    };
    let mut in_block = false;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if in_block {
            in_block = !line.contains("*/");
            continue;
        }
        if line.starts_with("/*") {
            in_block = !line.contains("*/");
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let mut statement = line.to_string();
        while let Some(start) = statement.strip_suffix('\\').map(str::len) {
            statement.truncate(start);
            statement.push(' ');
            statement.push_str(lines.next()?);
        }
        return Some(statement);
    }
    None
}

/// `rule Name {`, `private rule …`, `import "pe"`, `include "…"`.
fn is_yara(line: &str) -> bool {
    let mut words = line.split_whitespace();
    let mut word = words.next();
    while matches!(word, Some("private" | "global")) {
        word = words.next();
    }
    match word {
        Some("rule") => words.next().is_some(),
        Some("import" | "include") => words.next().is_some_and(|w| w.starts_with('"')),
        _ => false,
    }
}

/// How a feed file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedFormat {
    /// Plain list or CSV with a header (decided by the first line).
    Text,
    /// STIX 2.1 bundle or TAXII envelope.
    Stix,
    /// MISP event JSON (a feed's `<uuid>.json`, a REST search result).
    Misp,
    /// A MISP feed's `manifest.json`: an index of the event files beside it, which carry the
    /// indicators; read as nothing.
    MispManifest,
    /// Text that is not an indicator list (IDS or YARA rules, LOKI file-name regexes): skipped,
    /// with this reason in the report (see this module).
    NotIndicators(&'static str),
}

/// One feed to compile: a path and its per-feed options.
#[derive(Clone, Debug)]
pub struct FeedSpec {
    /// The file.
    pub path: PathBuf,
    /// Format; `None` decides by extension and content (`.json` or a leading `{`/`[` → STIX).
    pub format: Option<FeedFormat>,
    /// Per-feed options (source name defaults to the file stem).
    pub options: FeedOptions,
}

impl FeedSpec {
    /// A feed with default options and the file stem as source name.
    pub fn new(path: impl Into<PathBuf>) -> FeedSpec {
        let path = path.into();
        let source = path
            .file_stem()
            .map_or_else(|| "feed".into(), |s| s.to_string_lossy().into_owned());
        FeedSpec {
            path,
            format: None,
            options: FeedOptions::source(source),
        }
    }

    /// How the file is read. A file that is not text is an error naming it (see this module).
    fn detect_format(&self) -> Result<FeedFormat> {
        if matches!(self.format, Some(f) if f != FeedFormat::Text) {
            return Ok(self.format.unwrap_or(FeedFormat::Text));
        }
        let head = read_head(&self.path)?;
        let n = head.len();
        match sniff(&self.path, &head) {
            Content::Binary(what) => {
                return Err(Error::feed(
                    &self.path,
                    format!("not a text feed: this is {what}"),
                ));
            }
            // `format=text` insists on reading it as a list.
            Content::NotIndicators(why) if self.format.is_none() => {
                return Ok(FeedFormat::NotIndicators(why));
            }
            _ => {}
        }
        if let Some(f) = self.format {
            return Ok(f);
        }
        let json = self
            .path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let first = head[..n].iter().find(|b| !b.is_ascii_whitespace());
        if !json && !matches!(first, Some(b'{') | Some(b'[')) {
            return Ok(FeedFormat::Text);
        }
        // JSON: the first key tells MISP from STIX. MISP's keys are capitalised (`Event`, and
        // `Attribute`, `Org`, … of a bare event) or `response`; STIX's are lowercase.
        Ok(match first_key(&head[..n]) {
            Some(k) if k == b"response" || k.first().is_some_and(u8::is_ascii_uppercase) => {
                FeedFormat::Misp
            }
            Some(k) if k.len() == 36 && k.iter().filter(|&&b| b == b'-').count() == 4 => {
                FeedFormat::MispManifest
            }
            _ => FeedFormat::Stix,
        })
    }
}

/// The first [`HEAD`] bytes of a file.
fn read_head(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(HEAD);
    f.take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    Ok(head)
}

/// Why a file met while walking a feed directory is not compiled, if it is not:
/// documentation, not text, or text that is not an indicator list (see this module). A file
/// named by the user goes to [`ingest_feeds`] instead, which refuses one that is not text.
pub fn skipped_in_directory(path: &Path) -> Result<Option<String>> {
    if is_documentation(path) {
        return Ok(Some(
            "documentation (LICENSE, README, COPYING, *.md)".into(),
        ));
    }
    Ok(match sniff(path, &read_head(path)?) {
        Content::Text => None,
        Content::Binary(what) => Some(format!("not text: {what}")),
        Content::NotIndicators(why) => Some(why.to_string()),
    })
}

/// The first object key of a JSON document's head, if the document is an object.
fn first_key(head: &[u8]) -> Option<&[u8]> {
    let rest = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let i = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest[i..].strip_prefix(b"{")?;
    let j = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest[j..].strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some(&rest[..end])
}

/// Reads every feed into `builder`. Feeds are streamed; STIX versions are resolved across all
/// STIX feeds (newest `modified` per id wins) before they reach the builder.
pub fn ingest_feeds(feeds: &[FeedSpec], builder: &mut SetBuilder) -> Result<()> {
    let mut stix = readers::stix::StixIngest::new(builder.options().cidr_equals_contains);
    let formats = feeds
        .iter()
        .map(FeedSpec::detect_format)
        .collect::<Result<Vec<_>>>()?;
    // About one indicator per 26 bytes of a plain feed, per 600 of STIX or MISP JSON (an
    // indicator object, an attribute with its metadata): reserving by the plain rate for JSON
    // took 140 MB of heap for a 69 MB bundle of 90,000 indicators.
    let expected: u64 = feeds
        .iter()
        .zip(&formats)
        .filter_map(|(f, format)| {
            let bytes = std::fs::metadata(&f.path).ok()?.len();
            Some(match format {
                FeedFormat::Text => bytes / 26,
                FeedFormat::NotIndicators(_) | FeedFormat::MispManifest => 0,
                _ => bytes / 600,
            })
        })
        .sum();
    builder.reserve(expected.min(1 << 28) as usize);
    for (feed, format) in feeds.iter().zip(formats) {
        let name: Arc<str> = feed.path.display().to_string().into();
        if let FeedFormat::NotIndicators(why) = format {
            builder.note_skipped(&name, why);
            continue;
        }
        builder.note_input(&name);
        let file = File::open(&feed.path).map_err(|e| Error::io(&feed.path, e))?;
        match format {
            FeedFormat::Text => readers::text::read(file, &name, &feed.options, builder)
                .map_err(|e| Error::io(&feed.path, e))?,
            FeedFormat::Stix => stix.read(file, &name, &feed.options, builder)?,
            FeedFormat::Misp => readers::misp::read(file, &name, &feed.options, builder)
                .map_err(|e| Error::io(&feed.path, e))?,
            FeedFormat::MispManifest => builder.dropped(
                Location::File { file: name },
                "MISP feed manifest (its events are read from their own files)",
            ),
            FeedFormat::NotIndicators(_) => {}
        }
    }
    stix.finish(builder);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(name: &str, head: &[u8]) -> Content {
        sniff(Path::new(name), head)
    }

    #[test]
    fn binaries_by_magic_and_by_content() {
        assert_eq!(
            of("x.txt", b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"),
            Content::Binary("a pcap capture")
        );
        assert!(
            matches!(of("f.gz", b"\x1f\x8b\x08\x00"), Content::Binary(w) if w.starts_with("gzip"))
        );
        assert!(matches!(
            of("a.out", b"\x7fELF\x02\x01"),
            Content::Binary(_)
        ));
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i * 7919 % 251) as u8 | 0x80)
            .collect();
        assert!(matches!(of("blob", &noise), Content::Binary(_)));
        assert!(matches!(
            of("x.exe", b"MZ\x90\x00\x03\x00"),
            Content::Binary("a Windows executable")
        ));
        // Text that starts like weak magic, Latin-1 comments, a cut multi-byte character.
        assert_eq!(of("l.txt", b"MZ.example\nBZh.example\n"), Content::Text);
        assert_eq!(
            of("l.txt", b"# caf\xe9\nevil.example\nbad.example\n"),
            Content::Text
        );
        assert_eq!(
            of("l.txt", "é.example\nü".as_bytes()[..13].as_ref()),
            Content::Text
        );
    }

    #[test]
    fn rules_are_not_indicator_lists() {
        let suricata = b"# Title: x\nalert tls $HOME_NET any -> $EXTERNAL_NET any (msg:\"m\"; tls.sni; content:\"a.example\"; sid:1; rev:1;)\n";
        assert!(
            matches!(of("u.rules", suricata), Content::NotIndicators(w) if w.starts_with("Snort"))
        );
        let yara = b"/*\n   ESET\n*/\n\nimport \"pe\"\n\nrule X {\n condition: true\n}\n";
        assert!(matches!(of("x.yar", yara), Content::NotIndicators(w) if w.starts_with("YARA")));
        assert!(matches!(
            of("iocs/filename-iocs.txt", b"\\\\evil\\.exe;80\n"),
            Content::NotIndicators(w) if w.starts_with("LOKI")
        ));
        let multi_line =
            b"alert tcp any any -> any any \\\n\t(msg:\"m\"; sid:1;\\\n\tcontent:\"x\";)\n";
        assert!(matches!(
            of("ta410.rules", multi_line),
            Content::NotIndicators(_)
        ));
        assert_eq!(
            of("alerts.txt", b"alert.example\nrule.example\n"),
            Content::Text
        );
        assert_eq!(of("c2-iocs.txt", b"# c2\nevil.example\n"), Content::Text);
    }

    #[test]
    fn documentation_names() {
        for n in [
            "LICENSE",
            "LICENSE-CC0.md",
            "README",
            "readme.txt",
            "COPYING",
            "notes.md",
        ] {
            assert!(is_documentation(Path::new(n)), "{n}");
        }
        for n in ["feed.txt", "licensed-ips.txt", "drop.txt"] {
            assert!(!is_documentation(Path::new(n)), "{n}");
        }
    }
}
