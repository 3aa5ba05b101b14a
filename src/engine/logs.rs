//! Scanning log files: inputs are cut into chunks of whole lines, workers match chunks in
//! parallel and render their output, and one writer puts the results back in input order (or
//! as they come, with `ordered: false`).
//!
//! ```text
//! files / stdin / followed file ──chunks──▶ workers (LineMatcher, render) ──▶ writer (reorder)
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::decode::log::{DETECT_HEAD, Decoder, LineKind, LogFormat, detect};
use crate::error::{Error, Result};
use crate::input::{self, Chunk, Follow, FollowOptions};
use crate::line_matcher::{BatchScanner, LineHit, LineMatcher, LineOptions};
use crate::set::IndicatorSet;
use crate::sink::{indicator_type, rfc3339};

/// What to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// One ECS JSON object per hit, with file, line and byte offset.
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
    /// Format for every file; `None` detects it per file.
    pub format: Option<LogFormat>,
    /// Field restriction and defanged recognition.
    pub line: LineOptions,
    /// Keep output in input order.
    pub ordered: bool,
    /// What to write.
    pub mode: OutputMode,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_size: 1 << 20,
            format: None,
            line: LineOptions::default(),
            ordered: true,
            mode: OutputMode::Hits,
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
    /// Lines that did not parse in their format, per reason (their values read before the
    /// damage were still matched).
    pub errors: BTreeMap<&'static str, ErrorCount>,
}

/// How many lines failed for one reason, and where the first of them is.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ErrorCount {
    /// Lines.
    pub count: u64,
    /// Line number of the first (within its generation, for a followed file).
    pub first_line: u64,
}

impl FileStats {
    fn add(&mut self, o: &FileStats) {
        self.lines += o.lines;
        self.bytes += o.bytes;
        self.hits += o.hits;
        self.matched_lines += o.matched_lines;
        for (k, v) in &o.errors {
            let e = self.errors.entry(k).or_insert(ErrorCount {
                count: 0,
                first_line: v.first_line,
            });
            e.count += v.count;
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
struct Source {
    index: usize,
    name: Arc<str>,
    generation: u64,
    /// The decoder as it stands after the file's leading header lines; each chunk starts from
    /// a copy, so chunks can be decoded in any order.
    decoder: Decoder,
    /// Lines up to this number are the header the template decoder has read (0: none).
    header_lines: u64,
}

impl Source {
    /// Decides the format from the first chunk and reads the header from it.
    fn new(index: usize, name: Arc<str>, first: &Chunk, forced: Option<LogFormat>) -> Source {
        let bytes = first.bytes();
        let path = (&*name != "-").then(|| Path::new(&*name));
        let format = forced.unwrap_or_else(|| detect(&bytes[..bytes.len().min(DETECT_HEAD)], path));
        let mut decoder = Decoder::new(format);
        let mut header_lines = 0;
        if matches!(format, LogFormat::Zeek | LogFormat::Csv) {
            for line in first.lines() {
                match decoder.line(line.bytes, |_| {}) {
                    Ok(LineKind::Header) => header_lines = line.number,
                    Ok(LineKind::Blank) => {}
                    // CSV has one header line; Zeek's header ends at its first record.
                    _ => break,
                }
                if format == LogFormat::Csv && header_lines > 0 {
                    break;
                }
            }
            // The template must not have read a record.
            decoder = Decoder::new(format);
            for line in first.lines().take_while(|l| l.number <= header_lines) {
                let _ = decoder.line(line.bytes, |_| {});
            }
        }
        Source {
            index,
            name,
            generation: first.generation,
            decoder,
            header_lines,
        }
    }
}

/// A chunk's rendered output and counters.
struct Done {
    source: usize,
    seq: u64,
    out: Vec<u8>,
    stats: FileStats,
}

/// What one line of a chunk turned out to be.
struct LineInfo {
    number: u64,
    offset: u64,
    record: bool,
}

/// Matches one chunk and renders its output.
fn work<D: AsRef<[u8]>>(
    matcher: &LineMatcher<'_, D>,
    batch: &mut BatchScanner<'_, '_, D>,
    src: &Source,
    chunk: &Chunk,
    mode: OutputMode,
) -> Done {
    let mut stats = FileStats {
        bytes: chunk.len() as u64,
        ..FileStats::default()
    };
    let mut decoder = src.decoder.clone();
    let lines: Vec<_> = chunk.lines().collect();
    let mut info = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        stats.lines += 1;
        let record = if line.number <= src.header_lines {
            false
        } else {
            match batch.add_line(i as u32, line.bytes, &mut decoder) {
                Ok(kind) => kind == LineKind::Record,
                Err(why) => {
                    let e = stats.errors.entry(why).or_insert(ErrorCount {
                        count: 0,
                        first_line: line.number,
                    });
                    e.count += 1;
                    true
                }
            }
        };
        info.push(LineInfo {
            number: line.number,
            offset: line.offset,
            record,
        });
    }
    let mut hits: Vec<(u32, LineHit)> = Vec::new();
    batch.finish(|i, h| hits.push((i, h)));
    stats.hits = hits.len() as u64;
    let mut out = Vec::new();
    let mut next_hit = 0;
    for (i, (line, li)) in lines.iter().zip(&info).enumerate() {
        let first = next_hit;
        while next_hit < hits.len() && hits[next_hit].0 as usize == i {
            next_hit += 1;
        }
        let line_hits = &hits[first..next_hit];
        stats.matched_lines += u64::from(!line_hits.is_empty());
        match mode {
            OutputMode::Hits => {
                for (_, h) in line_hits {
                    let doc = hit_json(
                        matcher.set(),
                        &src.name,
                        li.number,
                        li.offset,
                        line.bytes,
                        h,
                    );
                    let _ = serde_json::to_writer(&mut out, &doc);
                    out.push(b'\n');
                }
            }
            OutputMode::OnlyMatching if !line_hits.is_empty() => {
                out.extend_from_slice(line.bytes);
                out.push(b'\n');
            }
            OutputMode::Enrich if li.record => enrich(
                matcher.set(),
                decoder.format(),
                line.bytes,
                line_hits,
                &mut out,
            ),
            _ => {}
        }
    }
    Done {
        source: src.index,
        seq: chunk.seq,
        out,
        stats,
    }
}

/// The ECS enrichments of one hit: one per source of the indicator.
fn enrichments<D: AsRef<[u8]>>(set: &IndicatorSet<D>, line: &[u8], h: &LineHit) -> Vec<Json> {
    let Some(ind) = set.indicator(h.hit.indicator) else {
        return Vec::new();
    };
    let kind = ind.kind().unwrap_or(h.hit.kind);
    let value = ind.value();
    let atomic = String::from_utf8_lossy(line.get(h.start..h.end).unwrap_or(&[])).into_owned();
    ind.provenance()
        .map(|p| {
            let mut indicator = json!({
                "type": indicator_type(kind),
                "provider": p.source,
                "trawl": { "type": kind.name(), "value": value },
            });
            if let Some(id) = p.id {
                indicator["id"] = json!([id]);
            }
            if let Some(s) = p.score {
                indicator["score"] = json!(s);
            }
            if let Some(t) = p.tlp {
                indicator["marking"] = json!({ "tlp": t.name().to_uppercase() });
            }
            if let Some(t) = p.valid_until {
                indicator["valid_until"] = json!(rfc3339(t, 0));
            }
            json!({
                "matched": {
                    "field": h.field.as_deref().unwrap_or("message"),
                    "atomic": atomic,
                    "type": "indicator_match_rule",
                },
                "indicator": indicator,
            })
        })
        .collect()
}

/// One hit as an ECS document with where it was found.
fn hit_json<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    file: &str,
    line_no: u64,
    offset: u64,
    line: &[u8],
    h: &LineHit,
) -> Json {
    json!({
        "@timestamp": rfc3339(crate::indicator::unix_now(), 0),
        "event": { "kind": "enrichment", "category": ["threat"], "type": ["indicator"], "dataset": "trawl.log" },
        "log": { "file": { "path": file }, "offset": offset },
        "trawl": { "line": line_no, "start": h.start, "end": h.end },
        "threat": { "enrichments": enrichments(set, line, h) },
    })
}

/// `--enrich`: the record with `threat.enrichments` added.
fn enrich<D: AsRef<[u8]>>(
    set: &IndicatorSet<D>,
    format: LogFormat,
    line: &[u8],
    hits: &[(u32, LineHit)],
    out: &mut Vec<u8>,
) {
    if hits.is_empty() && format == LogFormat::JsonLines {
        out.extend_from_slice(line);
        out.push(b'\n');
        return;
    }
    let mut doc: Json = match (format, serde_json::from_slice::<Json>(line)) {
        (LogFormat::JsonLines, Ok(Json::Object(o))) => Json::Object(o),
        _ => json!({ "message": String::from_utf8_lossy(line) }),
    };
    if !hits.is_empty() {
        let new: Vec<Json> = hits
            .iter()
            .flat_map(|(_, h)| enrichments(set, line, h))
            .collect();
        let threat = doc
            .as_object_mut()
            .map(|o| o.entry("threat").or_insert_with(|| json!({})));
        if let Some(Json::Object(t)) = threat {
            match t.entry("enrichments").or_insert_with(|| json!([])) {
                Json::Array(a) => a.extend(new),
                other => *other = Json::Array(new),
            }
        }
    }
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

/// Scans `inputs` against `set`, writing to `out`. `stop` ends reading early (follow mode runs
/// until it is set).
pub fn scan_logs<D, W>(
    set: &IndicatorSet<D>,
    inputs: &[Input],
    opts: &LogOptions,
    out: W,
    stop: &AtomicBool,
) -> Result<LogOutcome>
where
    D: AsRef<[u8]> + Sync,
    W: Write + Send,
{
    let start = Instant::now();
    let matcher = LineMatcher::new(set, opts.line.clone());
    let workers = opts.workers.max(1);
    let (work_tx, work_rx) = bounded::<(Arc<Source>, Chunk)>(workers * 4);
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
    let (read_result, write_result) = std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx, matcher) = (work_rx.clone(), done_tx.clone(), &matcher);
            scope.spawn(move || {
                let mut batch = BatchScanner::new(matcher);
                for (src, chunk) in work_rx {
                    if done_tx
                        .send(work(matcher, &mut batch, &src, &chunk, opts.mode))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop((work_rx, done_tx));
        let files = &mut files;
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut out = out;
            let mut pending: HashMap<(usize, u64), Done> = HashMap::new();
            let mut next: Vec<u64> = vec![0; files.len()];
            for done in done_rx {
                if !opts.ordered {
                    out.write_all(&done.out)?;
                    files[done.source].add(&done.stats);
                    out.flush()?;
                    continue;
                }
                pending.insert((done.source, done.seq), done);
                // Write every chunk that is next in its source's order.
                loop {
                    let ready = (0..next.len()).find(|&s| pending.contains_key(&(s, next[s])));
                    let Some(s) = ready else { break };
                    let d = pending.remove(&(s, next[s])).expect("ready chunk");
                    out.write_all(&d.out)?;
                    files[s].add(&d.stats);
                    next[s] += 1;
                }
                out.flush()?;
            }
            out.flush()
        });
        let read = (|| -> Result<()> {
            for (index, input) in inputs.iter().enumerate() {
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
                    work_tx.send((src, chunk)).is_ok() && !stop.load(Ordering::Relaxed)
                };
                match input {
                    Input::Path(p) => {
                        input::chunks(p, opts.chunk_size, &mut send)?;
                    }
                    Input::Follow(p, fo) => {
                        let mut follow = Follow::new(p, fo.clone())?;
                        while let Some(chunk) = follow.next_chunk(stop)? {
                            if !send(chunk) {
                                break;
                            }
                        }
                    }
                }
            }
            Ok(())
        })();
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
    for (f, fmt) in files.iter_mut().zip(formats) {
        f.format = fmt.into_inner().unwrap_or("");
    }
    Ok(LogOutcome {
        files,
        elapsed: start.elapsed(),
        output_closed,
    })
}
