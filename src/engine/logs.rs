//! Scanning log files: inputs are cut into chunks of whole lines, workers match chunks in
//! parallel and render their output, and one writer puts the results back in input order (or
//! as they come, with `ordered: false`). A worker turns each [`LineMatch`] into a
//! [`crate::hits::Hit`] and renders it with the one ECS renderer ([`crate::hits::ecs`]), as
//! the packet lane's sink does; `--enrich` takes its `threat.enrichments` from the same place.
//!
//! ```text
//! files / stdin / followed file ──chunks──▶ workers (LineMatcher, render) ──▶ writer (reorder)
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::hits::{FREE_TEXT, Hit, ObservedIn, Seen, Sensor, ecs};
use crate::indicators::error::{Error, Result};
use crate::indicators::read::IndicatorSet;
use crate::logs::format::{DETECT_HEAD, Decoder, LineKind, LogFormat, detect};
use crate::logs::input::{self, Chunk, Follow, FollowLosses, FollowOptions, Piece};
use crate::logs::matcher::{BatchScanner, LineMatch, LineMatcher, LineOptions, ScanBuffers};

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// One ECS JSON object per hit (`crate::hits::ecs::write_document`), with file, line and
    /// byte offset.
    Hits,
    /// Every input record passed through, JSON records with `threat.enrichments` added (other
    /// lines wrapped as `{"message": …}`).
    Enrich,
    /// The raw lines that have a hit (grep-like).
    OnlyMatching,
    /// Nothing per line; counts per file at the end.
    Count,
}

/// Log-scan settings.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Worker threads.
    pub workers: usize,
    /// Bytes per chunk handed to a worker.
    pub chunk_size: usize,
    /// The most a stream (stdin, a pipe, gzip) holds at once: a longer line is scanned in
    /// overlapping pieces of this size (see `crate::logs::input::Piece`); `MAX_LINE`
    /// unless testing. Followed files have their own, [`FollowOptions::piece_size`].
    pub piece_size: usize,
    /// Format for every file; `None` detects it per file.
    pub format: Option<LogFormat>,
    /// Field restriction and defanged recognition.
    pub line: LineOptions,
    /// Keep output in input order.
    pub ordered: bool,
    /// What to write.
    pub mode: OutputMode,
    /// Who the hits name as their observer.
    pub sensor: Sensor,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: 1 << 20,
            piece_size: input::MAX_LINE,
            format: None,
            line: LineOptions::default(),
            ordered: true,
            mode: OutputMode::Hits,
            sensor: Sensor::default(),
        }
    }
}

/// Counters of one input.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileStats {
    /// Input name (`-` for stdin).
    pub name: String,
    /// Format it was read in.
    pub format: &'static str,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Hits.
    pub hits: u64,
    /// Lines with at least one hit.
    pub matched_lines: u64,
    /// Lines that are not records of the file's format (a syslog line in a JSON file, a
    /// record cut short or nested too deep, a Zeek or CSV row with the wrong column count):
    /// each was scanned whole as plain text instead, never dropped (see
    /// [`LineMatcher::scan_record`]).
    pub fallback: ErrorCount,
    /// The fallback lines per reason.
    pub errors: BTreeMap<&'static str, ErrorCount>,
    /// A followed file: what rotation kept from being read (see [`FollowLosses`]).
    pub follow_losses: FollowLosses,
    /// Bytes not scanned because the file shrank under the scan (truncated in place, e.g. by
    /// logrotate's `copytruncate`): its size when it was opened minus what was read.
    pub unread: u64,
}

/// How many lines, and where the first of them is.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ErrorCount {
    /// Lines.
    pub count: u64,
    /// Line number of the first (for a followed file: the lowest, within its generation).
    pub first_line: u64,
}

impl ErrorCount {
    /// Counts one more line, numbered `line`.
    fn add_line(&mut self, line: u64) {
        self.add(&ErrorCount {
            count: 1,
            first_line: line,
        });
    }

    /// Adds the lines of `o` (chunks may finish in any order).
    fn add(&mut self, o: &ErrorCount) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 || o.first_line < self.first_line {
            self.first_line = o.first_line;
        }
        self.count += o.count;
    }
}

impl FileStats {
    fn add(&mut self, o: &FileStats) {
        self.lines += o.lines;
        self.bytes += o.bytes;
        self.hits += o.hits;
        self.matched_lines += o.matched_lines;
        self.fallback.add(&o.fallback);
        self.follow_losses.files += o.follow_losses.files;
        self.follow_losses.late_bytes += o.follow_losses.late_bytes;
        self.unread += o.unread;
        for (k, v) in &o.errors {
            self.errors.entry(k).or_default().add(v);
        }
    }
}

/// The result of a log scan.
#[derive(Debug)]
pub struct LogOutcome {
    /// Per input, in order.
    pub files: Vec<FileStats>,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// The output's reader went away (broken pipe) and the scan stopped early.
    pub output_closed: bool,
}

impl LogOutcome {
    /// All inputs together.
    pub fn total(&self) -> FileStats {
        let mut t = FileStats {
            name: "total".into(),
            ..FileStats::default()
        };
        for f in &self.files {
            t.add(f);
        }
        t
    }
}

/// How the lines of one input (one generation of a followed file) are read.
#[derive(Clone)]
struct Source {
    index: usize,
    name: Arc<str>,
    generation: u64,
    /// The decoder as it stands after the file's leading header lines; each chunk starts from
    /// a copy, so chunks can be decoded in any order.
    decoder: Decoder,
    /// Lines up to this number are the CSV header the template decoder has read (0: none);
    /// Zeek's `#` lines are read as headers wherever they stand.
    header_lines: u64,
}

impl Source {
    /// Decides the format from the first chunk.
    fn new(index: usize, name: Arc<str>, first: &Chunk, forced: Option<LogFormat>) -> Source {
        let bytes = first.bytes();
        let path = (&*name != "-").then(|| Path::new(&*name));
        let format = forced.unwrap_or_else(|| detect(&bytes[..bytes.len().min(DETECT_HEAD)], path));
        // No header read yet: [`Source::after`] reads it from this first chunk as from any other.
        Source {
            index,
            name,
            generation: first.generation,
            decoder: Decoder::new(format),
            header_lines: 0,
        }
    }

    /// The source as the chunks after `chunk` must see it, if `chunk` holds header lines its
    /// template has not read: Zeek `#` lines (a log may hold several headers, and a stream
    /// may bring its header in pieces), or the CSV header when no earlier chunk held it.
    /// Without this, a header line in any chunk but the first was lost to the chunks after it.
    fn after(&self, chunk: &Chunk) -> Option<Source> {
        match self.decoder.format() {
            LogFormat::Zeek => {
                let bytes = chunk.bytes();
                if bytes.first() != Some(&b'#') && memchr::memmem::find(bytes, b"\n#").is_none() {
                    return None;
                }
                let mut next = self.clone();
                let mut changed = false;
                for line in chunk.lines() {
                    if line.number > self.header_lines && line.bytes.first() == Some(&b'#') {
                        // Zeek's header lines change the header; its records change nothing.
                        let _ = next.decoder.line(line.bytes, |_| {});
                        changed = true;
                    }
                }
                changed.then_some(next)
            }
            LogFormat::Csv if self.decoder.csv_header().is_none() => {
                let mut next = self.clone();
                for line in chunk.lines() {
                    match next.decoder.line(line.bytes, |_| {}) {
                        Ok(LineKind::Blank) => {}
                        Ok(LineKind::Header) => {
                            next.header_lines = line.number;
                            return Some(next);
                        }
                        _ => return None,
                    }
                }
                None
            }
            _ => None,
        }
    }
}

/// A chunk's rendered output and counters.
struct Done {
    source: usize,
    /// Place in the output order (over all inputs).
    seq: u64,
    out: Vec<u8>,
    stats: FileStats,
}

/// What one line of a chunk turned out to be.
struct LineInfo {
    number: u64,
    offset: u64,
    record: bool,
    /// The line parsed in its format (no error).
    parsed: bool,
}

/// Matches one chunk and renders its output.
fn work<D: AsRef<[u8]>>(
    matcher: &LineMatcher<'_, D>,
    batch: &mut BatchScanner<'_, '_, D>,
    src: &Source,
    chunk: &Chunk,
    seq: u64,
    mode: OutputMode,
    sensor: &Sensor,
) -> Done {
    let mut stats = FileStats {
        bytes: chunk.fresh_len() as u64,
        ..FileStats::default()
    };
    let mut decoder = src.decoder.clone();
    let lines: Vec<_> = chunk.lines().collect();
    let mut info = Vec::with_capacity(lines.len());
    // A piece of a line too long to hold whole: its first line may go on from the previous
    // chunk (counted there), and its hits are only those it owns, each token once.
    let piece = chunk.piece;
    for (i, line) in lines.iter().enumerate() {
        stats.lines += u64::from(i > 0 || piece.lead == 0);
        let (record, parsed) = if line.number <= src.header_lines {
            (false, true)
        } else {
            match batch.add_line(i as u32, line.bytes, &mut decoder) {
                Ok(kind) => (kind == LineKind::Record, true),
                Err(why) => {
                    // Scanned as text by the batch: counted, never dropped.
                    stats.fallback.add_line(line.number);
                    stats.errors.entry(why).or_default().add_line(line.number);
                    (true, false)
                }
            }
        };
        info.push(LineInfo {
            number: line.number,
            offset: line.offset,
            record,
            parsed,
        });
    }
    let mut hits: Vec<(u32, LineMatch)> = Vec::new();
    batch.finish(|i, h| {
        let at = (lines[i as usize].offset - chunk.offset) as usize + h.start;
        if piece == Piece::default() || piece.owns(at, chunk.len()) {
            hits.push((i, h));
        }
    });
    stats.hits = hits.len() as u64;
    let mut out = Vec::new();
    let mut next_hit = 0;
    for (i, (line, li)) in lines.iter().zip(&info).enumerate() {
        let first = next_hit;
        while next_hit < hits.len() && hits[next_hit].0 as usize == i {
            next_hit += 1;
        }
        let line_hits = &mut hits[first..next_hit];
        stats.matched_lines += u64::from(!line_hits.is_empty());
        match mode {
            OutputMode::Hits => {
                let time = (!line_hits.is_empty())
                    .then(|| record_time(decoder.format(), line.bytes))
                    .flatten();
                // A continued line's hits are placed in the whole line.
                let lead = if i == 0 { piece.lead } else { 0 };
                for (_, h) in line_hits.iter_mut() {
                    let observed = line.bytes.get(h.start..h.end).unwrap_or(&[]);
                    let hit = Hit {
                        set: matcher.set(),
                        matched: h.matched,
                        observed: String::from_utf8_lossy(observed).into_owned(),
                        field: ObservedIn::Record(h.field.take()),
                        seen: Seen::Log {
                            file: src.name.clone(),
                            line: li.number,
                            offset: li.offset - lead,
                            span: (h.start as u64 + lead, h.end as u64 + lead),
                            time,
                        },
                        file: None,
                    };
                    // Into memory, every key a string: serializing cannot fail.
                    let _ = ecs::write_document(&hit, sensor, &mut out);
                    out.push(b'\n');
                }
            }
            OutputMode::OnlyMatching if !line_hits.is_empty() => {
                // The line exactly as it was, a CRLF line's `\r` included (as grep prints it).
                let start = (li.offset - chunk.offset) as usize;
                let end = start + line.bytes.len();
                let cr = usize::from(chunk.bytes().get(end) == Some(&b'\r'));
                out.extend_from_slice(&chunk.bytes()[start..end + cr]);
                out.push(b'\n');
            }
            OutputMode::Enrich if li.record => enrich(
                matcher.set(),
                decoder.format(),
                line.bytes,
                li.parsed,
                line_hits,
                &mut out,
            ),
            _ => {}
        }
    }
    Done {
        source: src.index,
        seq,
        out,
        stats,
    }
}

/// The time a JSON record says it happened (`@timestamp`, or EVE's `timestamp`): seconds and
/// nanoseconds since the Unix epoch; `None` for other formats or records without a readable
/// time (the hit then carries the scan time).
fn record_time(format: LogFormat, line: &[u8]) -> Option<(i64, u32)> {
    if format != LogFormat::JsonLines {
        return None;
    }
    let doc: Json = serde_json::from_slice(line).ok()?;
    let text = ["@timestamp", "timestamp"]
        .iter()
        .find_map(|k| doc.get(*k).and_then(Json::as_str))?;
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .or_else(|_| chrono::DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()?;
    Some((t.timestamp(), t.timestamp_subsec_nanos()))
}

/// `--enrich`: the record with `threat.enrichments` added. A JSON record without hits is
/// passed through as it is when it is valid JSON (`parsed` by the walker, valid UTF-8, no raw
/// control bytes, or else accepted by `serde_json`); anything else is wrapped, so that every
/// output line is JSON.
fn enrich<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    format: LogFormat,
    line: &[u8],
    parsed: bool,
    hits: &[(u32, LineMatch)],
    out: &mut Vec<u8>,
) {
    let json = format == LogFormat::JsonLines;
    let clean = || parsed && !line.iter().any(|&b| b < 0x20) && std::str::from_utf8(line).is_ok();
    if hits.is_empty() && json && clean() {
        out.extend_from_slice(line);
        out.push(b'\n');
        return;
    }
    let value = if json {
        serde_json::from_slice::<Json>(line).ok()
    } else {
        None
    };
    if hits.is_empty() && value.is_some() {
        out.extend_from_slice(line);
        out.push(b'\n');
        return;
    }
    let mut doc: Json = match value {
        Some(Json::Object(o)) => Json::Object(o),
        _ => json!({ "message": String::from_utf8_lossy(line) }),
    };
    if !hits.is_empty() {
        let mut new = Vec::new();
        for (_, h) in hits {
            let observed = String::from_utf8_lossy(line.get(h.start..h.end).unwrap_or(&[]));
            let field = h.field.as_deref().unwrap_or(FREE_TEXT);
            ecs::enrichments(set, &h.matched, &observed, Some(field), &mut new);
        }
        // Nothing of the record is lost: a `threat` that is not an object is kept as
        // `threat.original`, an `enrichments` that is not an array as its first element.
        if let Some(o) = doc.as_object_mut() {
            let threat = o.entry("threat").or_insert_with(|| json!({}));
            if !threat.is_object() {
                *threat = json!({ "original": threat.take() });
            }
            if let Json::Object(t) = threat {
                let e = t.entry("enrichments").or_insert_with(|| json!([]));
                if !e.is_array() {
                    *e = json!([e.take()]);
                }
                if let Json::Array(a) = e {
                    a.extend(new);
                }
            }
        }
    }
    // Into memory, every key a string: serializing cannot fail.
    let _ = serde_json::to_writer(&mut *out, &doc);
    out.push(b'\n');
}

/// Where lines come from.
pub enum Input {
    /// A file (`-` for stdin), read once.
    Path(PathBuf),
    /// A file followed like `tail -F` until `stop`.
    Follow(PathBuf, FollowOptions),
}

/// Where the workers of [`scan_logs`] take the set from, chunk by chunk: one set, or the
/// current version of a set that [`crate::engine::reload::Reloader`] swaps when its file is
/// replaced (so a long `--follow` run picks up a recompiled set between two chunks, and no
/// line is scanned twice or skipped for it).
pub trait SetSource<D>: Sync {
    /// Calls `f` with the set to scan the next chunk with.
    fn with_set<R>(&self, f: impl FnOnce(&IndicatorSet<D>) -> R) -> R;
}

impl<D: AsRef<[u8]> + Sync> SetSource<D> for IndicatorSet<D> {
    fn with_set<R>(&self, f: impl FnOnce(&IndicatorSet<D>) -> R) -> R {
        f(self)
    }
}

impl<D: AsRef<[u8]> + Send + Sync> SetSource<D> for arc_swap::ArcSwap<crate::hits::SetVersion<D>> {
    fn with_set<R>(&self, f: impl FnOnce(&IndicatorSet<D>) -> R) -> R {
        f(&self.load().set)
    }
}

/// Scans `inputs` against the set `sets` gives (an [`IndicatorSet`], or a reloaded one),
/// writing to `out`. `stop` ends reading early (follow mode runs until it is set). Inputs read
/// once are read one after the other; followed files are read side by side, and an input that
/// fails sets `stop` for them.
pub fn scan_logs<D, S, W>(
    sets: &S,
    inputs: &[Input],
    opts: &LogOptions,
    out: W,
    stop: &AtomicBool,
) -> Result<LogOutcome>
where
    D: AsRef<[u8]>,
    S: SetSource<D>,
    W: Write + Send,
{
    let start = Instant::now();
    let workers = opts.workers.max(1);
    // Each chunk travels with its place in the output order.
    let (work_tx, work_rx) = bounded::<(Arc<Source>, Chunk, u64)>(workers * 4);
    let (done_tx, done_rx) = bounded::<Done>(workers * 4);
    let names: Vec<String> = inputs
        .iter()
        .map(|i| match i {
            Input::Path(p) | Input::Follow(p, _) => p.display().to_string(),
        })
        .collect();
    let mut files: Vec<FileStats> = names
        .iter()
        .map(|n| FileStats {
            name: n.clone(),
            ..FileStats::default()
        })
        .collect();
    let formats: Vec<std::sync::Mutex<&'static str>> =
        names.iter().map(|_| std::sync::Mutex::new("")).collect();
    let follow_losses: Vec<std::sync::Mutex<FollowLosses>> = names
        .iter()
        .map(|_| std::sync::Mutex::new(FollowLosses::default()))
        .collect();
    let unread: Vec<AtomicU64> = names.iter().map(|_| AtomicU64::new(0)).collect();
    let (read_result, write_result) = std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx) = (work_rx.clone(), done_tx.clone());
            scope.spawn(move || {
                let mut buffers = ScanBuffers::default();
                for (src, chunk, seq) in work_rx {
                    // The set of this chunk: the current one when it is reloaded.
                    let done = sets.with_set(|set| {
                        let matcher = LineMatcher::new(set, opts.line.clone());
                        let mut batch =
                            BatchScanner::with_buffers(&matcher, std::mem::take(&mut buffers));
                        let done = work(
                            &matcher,
                            &mut batch,
                            &src,
                            &chunk,
                            seq,
                            opts.mode,
                            &opts.sensor,
                        );
                        buffers = batch.into_buffers();
                        done
                    });
                    if done_tx.send(done).is_err() {
                        break;
                    }
                }
            });
        }
        drop((work_rx, done_tx));
        let files = &mut files;
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut out = out;
            let mut pending: HashMap<u64, Done> = HashMap::new();
            let mut next = 0u64;
            for done in done_rx {
                // A chunk's counters count before its output is written: when the reader has
                // gone away (`| head -1`), what was found still decides the exit code.
                if !opts.ordered {
                    files[done.source].add(&done.stats);
                    out.write_all(&done.out)?;
                    out.flush()?;
                    continue;
                }
                pending.insert(done.seq, done);
                // Write every chunk that is next in order.
                while let Some(d) = pending.remove(&next) {
                    files[d.source].add(&d.stats);
                    out.write_all(&d.out)?;
                    next += 1;
                }
                out.flush()?;
            }
            out.flush()
        });
        // A chunk's place in the output order is taken as it is handed to the workers: inputs
        // read one after the other come out one after the other, and followed files (read side
        // by side, each until `stop`) interleave as their lines arrive.
        let next_seq = AtomicU64::new(0);
        let read_one = |index: usize, input: &Input| -> Result<()> {
            let name: Arc<str> = names[index].as_str().into();
            let mut source: Option<Arc<Source>> = None;
            let mut send = |chunk: Chunk| -> bool {
                // A followed file's next generation may be another format or header.
                if source
                    .as_ref()
                    .is_none_or(|s| s.generation != chunk.generation)
                {
                    let s = Source::new(index, name.clone(), &chunk, opts.format);
                    *formats[index].lock().expect("format lock") = s.decoder.format().name();
                    source = Some(Arc::new(s));
                }
                let src = source.clone().expect("set above");
                if let Some(next) = src.after(&chunk) {
                    source = Some(Arc::new(next));
                }
                let seq = next_seq.fetch_add(1, Ordering::Relaxed);
                work_tx.send((src, chunk, seq)).is_ok() && !stop.load(Ordering::Relaxed)
            };
            match input {
                Input::Path(p) => {
                    let read = input::chunks(p, opts.chunk_size, opts.piece_size, &mut send)?;
                    unread[index].store(read.unread, Ordering::Relaxed);
                }
                Input::Follow(p, fo) => {
                    let mut follow = Follow::new(p, fo.clone())?;
                    let read = (|| {
                        while let Some(chunk) = follow.next_chunk(stop)? {
                            if !send(chunk) {
                                break;
                            }
                        }
                        Ok(())
                    })();
                    *follow_losses[index].lock().expect("losses lock") = follow.losses();
                    read?;
                }
            }
            Ok(())
        };
        let read = std::thread::scope(|readers| {
            let read_one = &read_one;
            let followers: Vec<_> = inputs
                .iter()
                .enumerate()
                .filter(|(_, i)| matches!(i, Input::Follow(..)))
                .map(|(index, input)| {
                    readers.spawn(move || {
                        let r = read_one(index, input);
                        if r.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                })
                .collect();
            let mut result = inputs
                .iter()
                .enumerate()
                .filter(|(_, i)| matches!(i, Input::Path(_)))
                .try_for_each(|(index, input)| read_one(index, input));
            if result.is_err() && !followers.is_empty() {
                // Followed files run until `stop`: an input that failed ends them (and a
                // followed file that failed ends the others, above).
                stop.store(true, Ordering::Relaxed);
            }
            for f in followers {
                let r = f.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                result = result.and(r);
            }
            result
        });
        drop(work_tx);
        let written = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (read, written)
    });
    read_result?;
    // A reader that went away (`| head`) ends the scan early; that is not an error.
    let output_closed = match write_result {
        Ok(()) => false,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => return Err(Error::invalid(format!("writing output: {e}"))),
    };
    for (((f, fmt), lost), unread) in files.iter_mut().zip(formats).zip(follow_losses).zip(unread) {
        f.format = fmt.into_inner().unwrap_or("");
        f.follow_losses = lost.into_inner().unwrap_or_default();
        f.unread = unread.into_inner();
    }
    Ok(LogOutcome {
        files,
        elapsed: start.elapsed(),
        output_closed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::readers::{FeedOptions, text};
    use crate::indicators::build::exclude::Exclusions;
    use crate::indicators::build::{CompileOptions, SetBuilder};
    use crate::indicators::read::AlignedBytes;
    use crate::logs::input::chunk::ChunkData;
    use std::sync::Mutex;

    fn set() -> IndicatorSet<AlignedBytes> {
        let mut b = SetBuilder::new(CompileOptions::default(), Exclusions::new());
        let feed = &b"203.0.113.7\nevil.example\n"[..];
        text::read(feed, "t", &FeedOptions::source("t"), &mut b).unwrap();
        IndicatorSet::from_bytes(AlignedBytes::copy_from(&b.build().unwrap().0.finish(0))).unwrap()
    }

    fn chunk(seq: u64, first_line: u64, text: &str) -> Chunk {
        Chunk {
            source: "t".into(),
            generation: 0,
            seq,
            first_line,
            line_count: text.lines().count() as u64,
            offset: 0,
            data: ChunkData::Owned(text.as_bytes().to_vec()),
            piece: Piece::default(),
        }
    }

    /// The fields a chunk's lines are read with: those of the source it is handed with.
    fn fields(src: &Source, line: &str) -> Vec<String> {
        let mut decoder = src.decoder.clone();
        let mut got = Vec::new();
        let _ = decoder.line(line.as_bytes(), |v| {
            got.push(String::from_utf8_lossy(v.field).into_owned())
        });
        got
    }

    #[test]
    fn header_lines_in_later_chunks_reach_the_chunks_after_them() {
        // A Zeek header arriving one line per chunk, then a second header (a concatenated
        // log) in a later chunk.
        let chunks = [
            "#separator \\x09\n",
            "#set_separator\t,\n#fields\tts\thost\n",
            "#types\ttime\tstring\n1.0\tevil.example\n",
            "2.0\tevil.example\n#close\t-\n#separator \\x09\n#fields\tts\tquery\n",
            "3.0\tevil.example\n",
        ];
        let mut line = 1;
        let mut src = Source::new(0, "t".into(), &chunk(0, 1, chunks[0]), None);
        assert_eq!(src.decoder.format(), LogFormat::Zeek);
        let mut seen = Vec::new();
        for (i, text) in chunks.iter().enumerate() {
            let c = chunk(i as u64, line, text);
            line += c.line_count;
            seen.push(fields(&src, "9.0\tevil.example"));
            if let Some(next) = src.after(&c) {
                src = next;
            }
        }
        // Before the chunks 0, 1, 2, 3, 4: no fields yet, no fields, `ts host` (no types
        // yet: every column reported), `host` (`ts` is a time), `ts query` (a new header
        // without types).
        assert_eq!(
            seen,
            [
                vec![],
                vec![],
                vec!["ts".to_string(), "host".into()],
                vec!["host".to_string()],
                vec!["ts".to_string(), "query".into()],
            ]
        );

        // A CSV header after blank lines, in the second chunk.
        let first = chunk(0, 1, "\n");
        let src = Source::new(0, "t.csv".into(), &first, None);
        assert_eq!(src.decoder.format(), LogFormat::Csv);
        assert!(src.after(&first).is_none());
        let next = src
            .after(&chunk(1, 2, "\nip,host\n1.2.3.4,a.example\n"))
            .unwrap();
        assert_eq!(next.header_lines, 3);
        assert_eq!(fields(&next, "5.6.7.8,b.example"), ["ip", "host"]);
        // Once the header is read, later chunks change nothing.
        assert!(next.after(&chunk(2, 5, "ip,host\n")).is_none());
    }

    #[test]
    fn enrich_writes_json_for_every_record() {
        let set = set();
        let go = |line: &[u8], parsed: bool| {
            let mut out = Vec::new();
            enrich(&set, LogFormat::JsonLines, line, parsed, &[], &mut out);
            out
        };
        // Valid records without hits pass through byte for byte (key order, escapes kept).
        let line = br#"{"b":1,"a":"x\/y"}"#;
        assert_eq!(go(line, true), [&line[..], b"\n"].concat());
        let tab = b"{\"a\":\t1}";
        assert_eq!(go(tab, true), [&tab[..], b"\n"].concat());
        // A record cut short, or with a raw control byte or invalid UTF-8 in a string (the
        // walker reads those, JSON does not allow them), is wrapped.
        for (line, parsed) in [
            (&br#"{"a":"cut"#[..], false),
            (b"{\"a\":\"x\x01y\"}", true),
            (b"{\"a\":\"\xff\"}", true),
        ] {
            let out = go(line, parsed);
            let doc: Json = serde_json::from_slice(&out).unwrap();
            assert_eq!(
                doc["message"],
                String::from_utf8_lossy(line).as_ref(),
                "{doc}"
            );
        }
    }

    #[test]
    fn hits_carry_the_record_time() {
        let eve = br#"{"timestamp":"2024-03-12T10:15:31.990211+0000","dest_ip":"203.0.113.7"}"#;
        assert_eq!(
            record_time(LogFormat::JsonLines, eve),
            Some((1_710_238_531, 990_211_000))
        );
        let ecs = br#"{"@timestamp":"2026-02-01T11:30:00.250+01:00","timestamp":"x"}"#;
        assert_eq!(
            record_time(LogFormat::JsonLines, ecs),
            Some((1_769_941_800, 250_000_000))
        );
        assert_eq!(
            record_time(LogFormat::JsonLines, br#"{"a":"203.0.113.7"}"#),
            None
        );
        assert_eq!(
            record_time(LogFormat::JsonLines, br#"{"@timestamp":"yesterday"}"#),
            None
        );
        assert_eq!(
            record_time(LogFormat::Plain, b"2026-01-01T00:00:00Z 203.0.113.7"),
            None
        );
    }

    #[test]
    fn re_enriching_adds_no_echo_hits() {
        let set = set();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.json");
        std::fs::write(
            &log,
            "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"ip\":\"203.0.113.7\",\"q\":\"www.evil.example\"}\n",
        )
        .unwrap();
        let run = |path: &Path, mode: OutputMode| {
            let mut out = Vec::new();
            let opts = LogOptions {
                mode,
                ..LogOptions::default()
            };
            let o = scan_logs(
                &set,
                &[Input::Path(path.to_path_buf())],
                &opts,
                &mut out,
                &AtomicBool::new(false),
            )
            .unwrap();
            (out, o.total().hits)
        };
        let (enriched, first) = run(&log, OutputMode::Enrich);
        assert_eq!(first, 2);
        let again = dir.path().join("b.json");
        std::fs::write(&again, &enriched).unwrap();
        let (hits, second) = run(&again, OutputMode::Hits);
        assert_eq!(second, 2, "{}", String::from_utf8_lossy(&hits));
        let doc: Json =
            serde_json::from_slice(hits.split(|&b| b == b'\n').next().unwrap()).unwrap();
        assert_eq!(doc["@timestamp"], "2026-01-01T00:00:00.000000Z");
        assert!(doc["event"]["created"].is_string());
    }

    #[test]
    fn enrich_keeps_a_threat_field_that_is_not_ecs_shaped() {
        let set = set();
        let m = LineMatcher::new(
            &set,
            LineOptions {
                format: crate::logs::matcher::LogFormatOption::JsonLines,
                ..LineOptions::default()
            },
        );
        for (line, keep) in [
            (
                &br#"{"ip":"203.0.113.7","threat":"apt-x"}"#[..],
                "/threat/original",
            ),
            (
                br#"{"ip":"203.0.113.7","threat":{"enrichments":{"old":1}}}"#,
                "/threat/enrichments/0",
            ),
        ] {
            let hits: Vec<(u32, LineMatch)> = m.scan(line).map(|h| (0, h)).collect();
            assert_eq!(hits.len(), 1);
            let mut out = Vec::new();
            enrich(&set, LogFormat::JsonLines, line, true, &hits, &mut out);
            let doc: Json = serde_json::from_slice(&out).unwrap();
            let before: Json = serde_json::from_slice(line).unwrap();
            let old = before.pointer("/threat").unwrap();
            let kept = doc.pointer(keep).unwrap();
            assert!(
                kept == old || Some(kept) == old.pointer("/enrichments"),
                "{doc}"
            );
            let enrichments = doc
                .pointer("/threat/enrichments")
                .unwrap()
                .as_array()
                .unwrap();
            assert!(
                enrichments
                    .iter()
                    .any(|e| e["matched"]["atomic"] == "203.0.113.7"),
                "{doc}"
            );
        }
    }

    /// Options for the scans below: tiny chunks on several workers.
    fn tiny(mode: OutputMode) -> LogOptions {
        LogOptions {
            workers: 4,
            chunk_size: 1,
            mode,
            ..LogOptions::default()
        }
    }

    #[test]
    fn ordered_output_keeps_the_order_of_inputs() {
        let set = set();
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        let mut want = String::new();
        for f in 0..4 {
            let path = dir.path().join(format!("{f}.log"));
            let text: String = (0..40)
                .map(|l| format!("file {f} line {l} from 203.0.113.7\n"))
                .collect();
            std::fs::write(&path, &text).unwrap();
            want += &text;
            inputs.push(Input::Path(path));
        }
        for _ in 0..5 {
            let mut out = Vec::new();
            let opts = tiny(OutputMode::OnlyMatching);
            let o = scan_logs(&set, &inputs, &opts, &mut out, &AtomicBool::new(false)).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
            assert!(o.files.iter().all(|f| f.hits == 40 && f.lines == 40));
        }
    }

    /// A reader that went away: the first write fails.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn hits_count_when_their_output_could_not_be_written() {
        let set = set();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "from 203.0.113.7\nto evil.example\n").unwrap();
        for ordered in [true, false] {
            let opts = LogOptions {
                ordered,
                ..LogOptions::default()
            };
            let inputs = [Input::Path(path.clone())];
            let o = scan_logs(&set, &inputs, &opts, Closed, &AtomicBool::new(false)).unwrap();
            assert!(o.output_closed);
            assert_eq!((o.files[0].hits, o.files[0].lines), (2, 2));
        }
    }

    /// A writer that others can read while the scan runs.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn several_followed_files_are_all_read() {
        let set = set();
        let dir = tempfile::tempdir().unwrap();
        let follow = FollowOptions {
            poll: Duration::from_millis(5),
            ..FollowOptions::default()
        };
        let mut inputs = Vec::new();
        for f in 0..3 {
            let path = dir.path().join(format!("{f}.log"));
            std::fs::write(&path, format!("file {f} from 203.0.113.7\n")).unwrap();
            inputs.push(Input::Follow(path, follow.clone()));
        }
        let out = Shared::default();
        let stop = AtomicBool::new(false);
        let outcome = std::thread::scope(|s| {
            let scan = s.spawn(|| {
                let opts = tiny(OutputMode::OnlyMatching);
                scan_logs(&set, &inputs, &opts, out.clone(), &stop)
            });
            let deadline = Instant::now() + Duration::from_secs(10);
            while out
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                < 3
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            stop.store(true, Ordering::Relaxed);
            scan.join().unwrap().unwrap()
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort();
        assert_eq!(
            lines,
            [
                "file 0 from 203.0.113.7",
                "file 1 from 203.0.113.7",
                "file 2 from 203.0.113.7"
            ]
        );
        assert!(outcome.files.iter().all(|f| f.hits == 1));
    }
}
