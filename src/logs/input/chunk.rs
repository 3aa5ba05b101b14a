//! [`Chunk`]: a run of whole lines from one source, the unit of work handed to a scanner;
//! [`Lines`], the iterator over its lines with their numbers and byte offsets; and [`Piece`],
//! where a chunk stands in a line too long to be held whole.

use std::sync::Arc;

use memchr::memchr;

/// A unit of work: a run of whole lines from one source.
///
/// Every line in [`bytes`](Chunk::bytes) ends with `\n`, except the last line of a source that
/// has no final newline (it still counts as a line). A line is never split between two chunks,
/// so a worker can scan a chunk without looking at its neighbours — except a line too long for
/// a stream to hold, which comes in overlapping pieces (see [`Piece`]); `seq` lets the results
/// be put back in input order.
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
    /// Where the chunk stands in a line too long to be held whole (all zero for whole lines).
    pub piece: Piece,
}

/// Where a chunk stands in a line longer than a stream holds at once (its *piece size*,
/// [`super::MAX_LINE`] unless set otherwise): such a line is handed out in pieces of that size,
/// each starting [`overlap`] bytes before the previous one's end, so that a token cut by one
/// piece's end is whole in the next. [`Piece::owns`] gives each position to exactly one piece,
/// so that a token inside the overlap is reported once. All zero for a chunk of whole lines.
///
/// A token longer than the overlap less two bytes (64 KiB in all but tests: only URLs get
/// that long) that straddles a piece boundary is seen cut short.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Piece {
    /// Bytes of the chunk's first line before the chunk's first byte (0: the chunk starts with
    /// its first line).
    pub lead: u64,
    /// How many of the chunk's first bytes the previous chunk ended with.
    pub repeated: usize,
    /// How many of the chunk's last bytes the next chunk starts with (0: the chunk ends with a
    /// whole line).
    pub cut: usize,
}

impl Piece {
    /// Whether a token starting at byte `start` of a chunk of `len` bytes is this chunk's to
    /// report. A piece sees at least one byte on either side of each token it owns (so it can
    /// tell where a token starts and ends): it leaves the first byte to the previous piece,
    /// and the last `cut - 1` bytes, which start the next piece's owned bytes, to the next.
    #[inline]
    pub fn owns(&self, start: usize, len: usize) -> bool {
        (self.repeated == 0 || start >= 1) && (self.cut == 0 || start + self.cut <= len)
    }
}

/// How many bytes consecutive pieces of a line share, for pieces of `piece_size` bytes:
/// 64 KiB, or a quarter of the piece when that is less (small pieces in tests).
pub fn overlap(piece_size: usize) -> usize {
    (piece_size / 4).min(64 << 10)
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

    /// The chunk's bytes that the previous chunk did not hold (all but a piece's overlap).
    #[inline]
    pub fn fresh_len(&self) -> usize {
        self.len() - self.piece.repeated
    }

    /// The lines that start in this chunk (all but a piece's continued first line).
    #[inline]
    pub fn fresh_lines(&self) -> u64 {
        self.line_count - u64::from(self.piece.lead > 0)
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
    /// Where the next chunk stands in a cut line.
    carry: Piece,
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
            carry: Piece::default(),
        }
    }

    /// The next chunk, holding `data` (whole lines, or a last line without `\n`).
    pub(crate) fn next(&mut self, data: ChunkData) -> Chunk {
        self.next_cut(data, 0)
    }

    /// The next chunk, holding `data`, whose last `cut` bytes the next chunk starts with: a
    /// piece of a line too long to hold (`cut` = 0: as [`Numbering::next`]).
    pub(crate) fn next_cut(&mut self, data: ChunkData, cut: usize) -> Chunk {
        let mut chunk = Chunk {
            source: self.source.clone(),
            generation: self.generation,
            seq: self.seq,
            first_line: self.next_line,
            line_count: 0,
            offset: self.offset,
            data,
            piece: Piece { cut, ..self.carry },
        };
        chunk.line_count = count_lines(chunk.bytes());
        let len = chunk.len() as u64;
        self.seq += 1;
        if cut == 0 {
            self.carry = Piece::default();
            self.next_line += chunk.line_count;
            self.offset += len;
        } else {
            // The cut line goes on in the next chunk, which starts `cut` bytes before this
            // one's end.
            let line_start = match memchr::memrchr(b'\n', chunk.bytes()) {
                Some(i) => chunk.offset + i as u64 + 1,
                None => chunk.offset - chunk.piece.lead,
            };
            let next = chunk.offset + len - cut as u64;
            self.carry = Piece {
                lead: next - line_start,
                repeated: cut,
                cut: 0,
            };
            self.next_line += chunk.line_count - 1;
            self.offset = next;
        }
        chunk
    }

    /// Starts a new generation: line numbers and offsets restart.
    pub(crate) fn new_generation(&mut self) {
        self.generation += 1;
        self.next_line = 1;
        self.offset = 0;
        self.carry = Piece::default();
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
