//! [`Chunk`]: a run of whole lines from one source, the unit of work handed to a scanner, and
//! [`Lines`], the iterator over its lines with their numbers and byte offsets.

use std::sync::Arc;

use memchr::memchr;

/// A unit of work: a run of whole lines from one source.
///
/// Every line in [`bytes`](Chunk::bytes) ends with `\n`, except the last line of a source that
/// has no final newline (it still counts as a line). A line is never split between two chunks,
/// so a worker can scan a chunk without looking at its neighbours; `seq` lets the results be
/// put back in input order (see [`super::InOrder`]).
#[derive(Clone, Debug)]
pub struct Chunk {
    /// Where the lines come from: the path as given, or `"-"` for stdin. Shared, so a chunk
    /// costs no allocation for its name.
    pub source: Arc<str>,
    /// Which generation of a followed file this chunk belongs to: 0 for everything but
    /// [`super::Follow`], which counts up at each rotation or truncation. Line numbers and
    /// offsets restart at each generation.
    pub generation: u64,
    /// Position of the chunk in its source's order: 0, 1, 2, … without gaps, across
    /// generations.
    pub seq: u64,
    /// 1-based line number of the first line (within the generation).
    pub first_line: u64,
    /// How many lines the chunk holds (a final line without `\n` included).
    pub line_count: u64,
    /// Byte offset of the chunk's first byte in the source (the decompressed stream for gzip;
    /// within the generation for a followed file).
    pub offset: u64,
    /// The bytes.
    pub data: ChunkData,
}

/// Where a chunk's bytes live.
#[derive(Clone, Debug)]
pub enum ChunkData {
    /// Bytes read from the input. Regular files are read too, not mapped: a map faults when
    /// another process truncates the file (see `input::file`).
    Owned(Vec<u8>),
}

impl Chunk {
    /// The chunk's bytes: whole lines with their `\n` (and `\r`, if any).
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match &self.data {
            ChunkData::Owned(v) => v,
        }
    }

    /// The chunk's length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match &self.data {
            ChunkData::Owned(v) => v.len(),
        }
    }

    /// Whether the chunk holds no bytes (never true for chunks made by this module).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lines, each with its line number and byte offset in the source, without its `\n`
    /// and without a trailing `\r`. Other bytes (invalid UTF-8, NUL) are passed through as
    /// they are.
    #[inline]
    pub fn lines(&self) -> Lines<'_> {
        Lines::new(self.bytes(), self.first_line, self.offset)
    }
}

/// One line of a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the source (within the generation of a followed file).
    pub number: u64,
    /// Byte offset of the line's first byte in the source.
    pub offset: u64,
    /// The line without its `\n` and without a trailing `\r`; any other bytes untouched.
    pub bytes: &'a [u8],
}

/// Iterator over the lines of a run of whole lines: see [`Chunk::lines`].
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    data: &'a [u8],
    pos: usize,
    number: u64,
    base: u64,
}

impl<'a> Lines<'a> {
    /// Lines of `data`, the first numbered `first_line` and starting at byte `offset` of the
    /// source. A final line without `\n` is yielded; an empty `data` has no lines.
    pub fn new(data: &'a [u8], first_line: u64, offset: u64) -> Lines<'a> {
        Lines {
            data,
            pos: 0,
            number: first_line,
            base: offset,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    #[inline]
    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        let (len, step) = match memchr(b'\n', rest) {
            Some(i) => (i, i + 1),
            None => (rest.len(), rest.len()),
        };
        let mut bytes = &rest[..len];
        if let [head @ .., b'\r'] = bytes {
            bytes = head;
        }
        let line = Line {
            number: self.number,
            offset: self.base + self.pos as u64,
            bytes,
        };
        self.pos += step;
        self.number += 1;
        Some(line)
    }
}

impl std::iter::FusedIterator for Lines<'_> {}

/// Number of lines in a run of whole lines: its `\n`s, plus one for a final line without.
#[inline]
pub(crate) fn count_lines(data: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', data).count() as u64;
    newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}

/// Numbers the chunks of one source as they are cut: each chunk's `seq`, first line number
/// and offset run on from the previous one (and restart at a new generation of a followed
/// file). Shared by every kind of input, so they number chunks alike.
#[derive(Debug)]
pub(crate) struct Numbering {
    source: Arc<str>,
    generation: u64,
    seq: u64,
    next_line: u64,
    offset: u64,
}

impl Numbering {
    /// The numbering of a source that starts at line 1, offset 0.
    pub(crate) fn new(source: Arc<str>) -> Numbering {
        Numbering {
            source,
            generation: 0,
            seq: 0,
            next_line: 1,
            offset: 0,
        }
    }

    /// The next chunk, holding `data` (whole lines, or a last line without `\n`).
    pub(crate) fn next(&mut self, data: ChunkData) -> Chunk {
        let mut chunk = Chunk {
            source: self.source.clone(),
            generation: self.generation,
            seq: self.seq,
            first_line: self.next_line,
            line_count: 0,
            offset: self.offset,
            data,
        };
        chunk.line_count = count_lines(chunk.bytes());
        self.seq += 1;
        self.next_line += chunk.line_count;
        self.offset += chunk.len() as u64;
        chunk
    }

    /// Starts a new generation: line numbers and offsets restart.
    pub(crate) fn new_generation(&mut self) {
        self.generation += 1;
        self.next_line = 1;
        self.offset = 0;
    }

    /// Counts offsets from `offset` (a followed file read from its end).
    pub(crate) fn skip_to(&mut self, offset: u64) {
        self.offset = offset;
    }

    /// Chunks numbered so far.
    pub(crate) fn chunks(&self) -> u64 {
        self.seq
    }
}
