//! DNS messages (RFC 1035): the names and addresses a message carries, for matching.
//!
//! * [`parse`] — walks one message (a UDP payload, or a TCP message after its length prefix,
//!   as the stream parser [`super::stream`] finds it) and hands every question name, answer
//!   name and answer address to a callback as a [`DnsItem`]; returns a [`Summary`] of the
//!   header or a short reason when the message is malformed. Items handed out before an error are genuine: a
//!   message cut short still yields its questions.
//! * [`NameBuf`] — the caller's reusable scratch space for decompressed names, so a call never
//!   allocates.
//! * [`looks_like_dns`] — a cheap header check, to try DNS on UDP ports other than 53.
//!
//! # What is reported
//!
//! * every question's QNAME ([`DnsItem::Question`]);
//! * for A, AAAA and CNAME records of class IN (the mDNS cache-flush bit ignored), in the answer,
//!   authority and additional sections alike: the owner name ([`DnsItem::AnswerName`]), then the
//!   address ([`DnsItem::AnswerAddr`]) or the CNAME target ([`DnsItem::AnswerName`]). Glue
//!   addresses in the additional section are addresses the resolver will use, and Arkime reports
//!   them as answers too. Other types (NS, MX, TXT, SOA, OPT, …) are stepped over unread.
//! * An answer name equal (ASCII case-insensitively) to the first question's name, or to the
//!   answer name reported just before it, is not reported again: a response with eleven A
//!   records for `google.com` or `www.x CNAME x; x A …` yields each name once. The root name
//!   (empty) is never reported.
//!
//! Names are in dotted form without the trailing dot, label bytes as on the wire (case kept,
//! any byte value). A `.` or `\` *inside* a label is escaped as `\.` / `\\` (zone-file
//! presentation form, RFC 1035 §5.1), so a decoded name is never ambiguous; the caller's
//! normalisation then refuses such names.
//!
//! # Bounds
//!
//! At most [`MAX_RECORDS`] questions and records are read per message (the rest is left unread
//! and [`Summary::capped`] set). Compression pointers must point strictly before the previous
//! pointer's target (before the name's own start for the first), as BIND requires: every loop
//! breaks this rule, so loops are refused without bookkeeping, and a name takes at most
//! [`MAX_POINTERS`] hops. Labels are at most 63 bytes, names at most 255 bytes on the wire.
//! Work per message is therefore linear in its length and bounded by the record cap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Questions plus resource records read per message at most; the rest is left unread.
pub const MAX_RECORDS: usize = 64;

/// Compression pointers followed per name at most.
pub const MAX_POINTERS: usize = 32;

/// Room for one decoded name: 255 wire bytes give at most 508 bytes of text with escapes.
const TEXT_MAX: usize = 512;

const HEADER_LEN: usize = 12;

/// Reason: the message is shorter than the 12-byte header.
pub const E_HEADER: &str = "dns: truncated header";
/// Reason: a name runs past the end of the message.
pub const E_NAME: &str = "dns: truncated name";
/// Reason: a question's type and class are cut off.
pub const E_QUESTION: &str = "dns: truncated question";
/// Reason: a resource record's fixed part or data are cut off.
pub const E_RECORD: &str = "dns: truncated record";
/// Reason: a label length byte above 63 (the `01`/`10` label types, unused).
pub const E_LABEL: &str = "dns: label too long";
/// Reason: a name longer than 255 bytes on the wire.
pub const E_NAME_LEN: &str = "dns: name too long";
/// Reason: a compression pointer that does not point strictly backwards (every loop has one).
pub const E_LOOP: &str = "dns: pointer loop";
/// Reason: more than [`MAX_POINTERS`] compression pointers in one name.
pub const E_POINTERS: &str = "dns: too many pointers";
/// Reason: A/AAAA data of the wrong size, or a CNAME target that does not fill its data.
pub const E_RDATA: &str = "dns: bad rdata";

/// One observable of a DNS message, borrowed from the [`NameBuf`] for the callback's duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsItem<'a> {
    /// A question's name (QNAME), dotted, no trailing dot.
    Question(&'a [u8]),
    /// An owner name of an A/AAAA/CNAME record, or a CNAME target, dotted, no trailing dot.
    AnswerName(&'a [u8]),
    /// The address of an A or AAAA record.
    AnswerAddr(IpAddr),
}

/// The header of a parsed message and how much of it was read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The message ID.
    pub id: u16,
    /// QR: a response rather than a query.
    pub response: bool,
    /// The 4-bit opcode (0 query, 4 notify, 5 update).
    pub opcode: u8,
    /// The 4-bit response code (0 no error, 3 NXDOMAIN).
    pub rcode: u8,
    /// TC: the sender truncated the message (a resolver retries over TCP).
    pub truncated: bool,
    /// Questions read.
    pub questions: u16,
    /// Resource records read, over all three sections (OPT included).
    pub records: u16,
    /// The header announced more than [`MAX_RECORDS`] questions and records; the rest was not read.
    pub capped: bool,
}

/// Scratch space for decompressed names, reused across calls so that parsing never allocates.
/// About 1.5 KiB; keep one per worker.
pub struct NameBuf {
    /// The first question's name, for answer-name de-duplication.
    question: [u8; TEXT_MAX],
    question_len: usize,
    /// Two slots: the name being decoded and the last answer name reported.
    slots: [[u8; TEXT_MAX]; 2],
    /// Length of the last answer name reported (in `slots[1 - cur]`), if any.
    prev_len: Option<usize>,
    cur: usize,
    /// Wire origins (see [`origin`]) of the first question and of the last answer name
    /// reported, `usize::MAX` when none: a name with the same origin is the same name.
    question_at: usize,
    prev_at: usize,
}

impl NameBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        NameBuf {
            question: [0; TEXT_MAX],
            question_len: 0,
            slots: [[0; TEXT_MAX]; 2],
            prev_len: None,
            cur: 0,
            question_at: usize::MAX,
            prev_at: usize::MAX,
        }
    }
}

impl Default for NameBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for NameBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameBuf").finish_non_exhaustive()
    }
}

/// Decodes the name starting at `start` into `out`; returns the text length and the offset just
/// past the name's wire form (after its first pointer, if any).
fn read_name(
    msg: &[u8],
    start: usize,
    out: &mut [u8; TEXT_MAX],
) -> Result<(usize, usize), &'static str> {
    let mut pos = start;
    let mut bound = start; // a pointer must point strictly before this
    let mut end = None; // where the name ends in the record (after the first pointer)
    let mut wire = 1usize; // wire length, counting the root label's byte
    let mut len = 0usize;
    let mut hops = 0usize;
    loop {
        let b = *msg.get(pos).ok_or(E_NAME)?;
        match b & 0xC0 {
            0x00 => {
                let n = b as usize;
                if n == 0 {
                    return Ok((len, end.unwrap_or(pos + 1)));
                }
                wire += n + 1;
                if wire > 255 {
                    return Err(E_NAME_LEN);
                }
                let label = msg.get(pos + 1..pos + 1 + n).ok_or(E_NAME)?;
                // wire <= 255 bounds the text to 508 bytes; checked anyway, so no index can fail.
                if len + 1 + 2 * n > TEXT_MAX {
                    return Err(E_NAME_LEN);
                }
                if len > 0 {
                    out[len] = b'.';
                    len += 1;
                }
                if label.iter().any(|&c| c == b'.' || c == b'\\') {
                    for &c in label {
                        if c == b'.' || c == b'\\' {
                            out[len] = b'\\';
                            len += 1;
                        }
                        out[len] = c;
                        len += 1;
                    }
                } else {
                    out[len..len + n].copy_from_slice(label);
                    len += n;
                }
                pos += 1 + n;
            }
            0xC0 => {
                let lo = *msg.get(pos + 1).ok_or(E_NAME)?;
                let target = ((b as usize & 0x3F) << 8) | lo as usize;
                if end.is_none() {
                    end = Some(pos + 2);
                }
                if target >= bound {
                    return Err(E_LOOP);
                }
                hops += 1;
                if hops > MAX_POINTERS {
                    return Err(E_POINTERS);
                }
                bound = target;
                pos = target;
            }
            _ => return Err(E_LABEL),
        }
    }
}

/// Steps over the name at `start` without decoding it; returns the offset just past it.
fn skip_name(msg: &[u8], start: usize) -> Result<usize, &'static str> {
    let mut pos = start;
    let mut wire = 1usize;
    loop {
        let b = *msg.get(pos).ok_or(E_NAME)?;
        match b & 0xC0 {
            0x00 if b == 0 => return Ok(pos + 1),
            0x00 => {
                wire += b as usize + 1;
                if wire > 255 {
                    return Err(E_NAME_LEN);
                }
                pos += 1 + b as usize;
            }
            0xC0 => {
                return if pos + 2 <= msg.len() {
                    Ok(pos + 2)
                } else {
                    Err(E_NAME)
                };
            }
            _ => return Err(E_LABEL),
        }
    }
}

/// A name read but not yet reported: its length in the current slot and its origin.
type Pending = Option<(usize, usize)>;

/// Where the name at `at` effectively starts: the target of its first compression pointer when
/// it starts with a valid (backward) one, else `at`. Names of equal origin are equal, as
/// decoding from either place follows the same bytes under the same pointer rule.
fn origin(msg: &[u8], at: usize) -> usize {
    match msg.get(at..at + 2) {
        Some(&[hi, lo]) if hi & 0xC0 == 0xC0 => {
            let t = ((hi as usize & 0x3F) << 8) | lo as usize;
            if t < at { t } else { at }
        }
        _ => at,
    }
}

impl NameBuf {
    /// Decodes a name into the current slot.
    fn decode(&mut self, msg: &[u8], start: usize) -> Result<(usize, usize), &'static str> {
        read_name(msg, start, &mut self.slots[self.cur])
    }

    /// Reads the answer name at `at`: the offset past it, and the name to report (its length
    /// in the current slot, its origin) unless it is known to repeat the question or the last
    /// name reported. A name pointing where one of those starts is such a repeat and is not
    /// decoded at all (most owner names of a response are `0xC00C`).
    fn answer_name(&mut self, msg: &[u8], at: usize) -> Result<(usize, Pending), &'static str> {
        let key = origin(msg, at);
        if key == self.question_at || key == self.prev_at {
            return Ok((skip_name(msg, at)?, None));
        }
        let (len, end) = read_name(msg, at, &mut self.slots[self.cur])?;
        Ok((end, Some((len, key))))
    }

    /// Reports a name [`Self::answer_name`] read unless it repeats the question or the last
    /// name reported (ASCII case-insensitively); it then becomes the last one.
    fn report(&mut self, pending: Pending, each: &mut impl FnMut(DnsItem<'_>)) {
        let Some((len, key)) = pending else { return };
        if len == 0 {
            return;
        }
        let name = &self.slots[self.cur][..len];
        if name.eq_ignore_ascii_case(&self.question[..self.question_len]) {
            return;
        }
        if let Some(p) = self.prev_len {
            if name.eq_ignore_ascii_case(&self.slots[1 - self.cur][..p]) {
                return;
            }
        }
        each(DnsItem::AnswerName(name));
        self.prev_len = Some(len);
        self.prev_at = key;
        self.cur = 1 - self.cur;
    }
}

/// Parses one DNS message and hands its names and addresses to `each` (see the module docs for
/// what is reported). Errors are short stable reasons (`"dns: …"`) for counters; items handed
/// out before an error stay valid.
pub fn parse(
    msg: &[u8],
    names: &mut NameBuf,
    mut each: impl FnMut(DnsItem<'_>),
) -> Result<Summary, &'static str> {
    if msg.len() < HEADER_LEN {
        return Err(E_HEADER);
    }
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    let count = |at: usize| u16::from_be_bytes([msg[at], msg[at + 1]]) as usize;
    let (qd, an, ns, ar) = (count(4), count(6), count(8), count(10));
    let mut s = Summary {
        id: u16::from_be_bytes([msg[0], msg[1]]),
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xF) as u8,
        rcode: (flags & 0xF) as u8,
        truncated: flags & 0x0200 != 0,
        ..Summary::default()
    };
    names.question_len = 0;
    names.prev_len = None;
    names.question_at = usize::MAX;
    names.prev_at = usize::MAX;
    let mut budget = MAX_RECORDS;
    s.capped = qd + an + ns + ar > MAX_RECORDS;

    let mut pos = HEADER_LEN;
    for i in 0..qd.min(budget) {
        let (len, end) = names.decode(msg, pos)?;
        if end + 4 > msg.len() {
            if len > 0 {
                each(DnsItem::Question(&names.slots[names.cur][..len]));
            }
            return Err(E_QUESTION);
        }
        pos = end + 4;
        s.questions += 1;
        budget -= 1;
        let name = &names.slots[names.cur][..len];
        if i == 0 {
            names.question[..len].copy_from_slice(name);
            names.question_len = len;
            names.question_at = origin(msg, HEADER_LEN);
        }
        if len > 0 {
            each(DnsItem::Question(name));
        }
    }

    for _ in 0..(an + ns + ar).min(budget) {
        let owner = pos;
        let end = skip_name(msg, pos)?;
        let fixed = msg.get(end..end + 10).ok_or(E_RECORD)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]) & 0x7FFF;
        let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
        let rdata_at = end + 10;
        let rdata = msg.get(rdata_at..rdata_at + rdlen).ok_or(E_RECORD)?;
        pos = rdata_at + rdlen;
        s.records += 1;
        if class != 1 || !matches!(rtype, 1 | 5 | 28) {
            continue;
        }
        let addr = match rtype {
            1 => Some(IpAddr::V4(Ipv4Addr::from(
                <[u8; 4]>::try_from(rdata).map_err(|_| E_RDATA)?,
            ))),
            28 => Some(IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(rdata).map_err(|_| E_RDATA)?,
            ))),
            _ => None,
        };
        let (_, owner_name) = names.answer_name(msg, owner)?;
        names.report(owner_name, &mut each);
        match addr {
            Some(a) => each(DnsItem::AnswerAddr(a)),
            None => {
                // The target may point back into the message, but must end inside its rdata.
                let (tend, target) = names.answer_name(msg, rdata_at)?;
                if tend != pos {
                    return Err(E_RDATA);
                }
                names.report(target, &mut each);
            }
        }
    }
    Ok(s)
}

/// A cheap plausibility check of a DNS header and the first question's first byte, for trying
/// DNS on ports other than 53: opcode query, notify or update, the Z bit clear, 1–8 questions,
/// and counts whose smallest encoding fits the payload (a UDP payload: over TCP, DNS is read on
/// port 53 only).
pub fn looks_like_dns(payload: &[u8]) -> bool {
    let Some(h) = payload.get(..HEADER_LEN + 1) else {
        return false;
    };
    let flags = u16::from_be_bytes([h[2], h[3]]);
    let opcode = (flags >> 11) & 0xF;
    if !matches!(opcode, 0 | 4 | 5) || flags & 0x0040 != 0 {
        return false;
    }
    let c = |at: usize| u16::from_be_bytes([h[at], h[at + 1]]) as usize;
    let (qd, rr) = (c(4), c(6) + c(8) + c(10));
    // The first name cannot be compressed (nothing precedes it): a label length or the root.
    (1..=8).contains(&qd) && h[12] & 0xC0 == 0 && HEADER_LEN + qd * 5 + rr * 11 <= payload.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(msg: &[u8]) -> (Vec<String>, Result<Summary, &'static str>) {
        let mut out = Vec::new();
        let mut nb = NameBuf::new();
        let r = parse(msg, &mut nb, |it| {
            out.push(match it {
                DnsItem::Question(n) => format!("Q {}", String::from_utf8_lossy(n)),
                DnsItem::AnswerName(n) => format!("N {}", String::from_utf8_lossy(n)),
                DnsItem::AnswerAddr(a) => format!("A {a}"),
            })
        });
        (out, r)
    }

    #[test]
    fn escapes_dots_inside_labels() {
        let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03a.b\x02c\\\x03com\x00\x00\x01\x00\x01");
        let (v, r) = items(&m);
        assert!(r.is_ok());
        assert_eq!(v, ["Q a\\.b.c\\\\.com"]);
    }

    #[test]
    fn skip_name_matches_read_name_end() {
        let m = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x01x\x00\x00\x01\x00\x01\xc0\x10";
        let mut out = [0u8; TEXT_MAX];
        assert_eq!(read_name(m, 12, &mut out).unwrap(), (5, 19));
        assert_eq!(skip_name(m, 12).unwrap(), 19);
        assert_eq!(read_name(m, 23, &mut out).unwrap(), (1, 25));
        assert_eq!(&out[..1], b"x");
        assert_eq!(skip_name(m, 23).unwrap(), 25);
    }
}
