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
//! * for records of class IN (the mDNS cache-flush bit ignored) of the types that name a host
//!   or an address, in the answer, authority and additional sections alike: the owner name
//!   ([`DnsItem::AnswerName`]), then
//!   * A, AAAA: the address ([`DnsItem::AnswerAddr`]);
//!   * CNAME, NS, PTR: the target name; MX: the exchange; SRV: the target; SOA: the primary
//!     server (MNAME; RNAME is a mailbox, not a host, and is left unread) — each as
//!     [`DnsItem::AnswerName`];
//!   * SVCB, HTTPS (RFC 9460): the target name (none when it is the root, "the owner"), then
//!     the addresses of the `ipv4hint` and `ipv6hint` parameters ([`DnsItem::AnswerAddr`]).
//!
//!   Glue addresses in the additional section are addresses the resolver will use, and Arkime
//!   reports them as answers too. Other types (TXT, OPT, DNSSEC records, …) are stepped over
//!   unread.
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

// Record types read (RFC 1035, 3596, 2782, 9460).
const A: u16 = 1;
const NS: u16 = 2;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const PTR: u16 = 12;
const MX: u16 = 15;
const AAAA: u16 = 28;
const SRV: u16 = 33;
const SVCB: u16 = 64;
const HTTPS: u16 = 65;
/// SVCB/HTTPS parameter keys of address hints (RFC 9460 §7.3).
const SVC_IPV4HINT: u16 = 4;
const SVC_IPV6HINT: u16 = 6;

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
/// Reason: A/AAAA data of the wrong size, a host name that does not fit its record's data
/// (CNAME, NS, PTR, MX, SRV: the name ends the data; SOA, SVCB, HTTPS: it ends inside it), or an
/// SVCB/HTTPS parameter list cut short or with a partial address hint.
pub const E_RDATA: &str = "dns: bad rdata";

/// One observable of a DNS message, borrowed from the [`NameBuf`] for the callback's duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsItem<'a> {
    /// A question's name (QNAME), dotted, no trailing dot.
    Question(&'a [u8]),
    /// An owner name of a record read, or the host name its data names (CNAME, NS, PTR and
    /// SVCB/HTTPS targets, MX exchange, SRV target, SOA MNAME), dotted, no trailing dot.
    AnswerName(&'a [u8]),
    /// The address of an A or AAAA record, or of an SVCB/HTTPS `ipv4hint`/`ipv6hint`.
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
        if class != 1
            || !matches!(
                rtype,
                A | NS | CNAME | SOA | PTR | MX | AAAA | SRV | SVCB | HTTPS
            )
        {
            continue;
        }
        // Validated before the owner is reported, so a bad A/AAAA reports nothing.
        let addr = match rtype {
            A => Some(IpAddr::V4(Ipv4Addr::from(
                <[u8; 4]>::try_from(rdata).map_err(|_| E_RDATA)?,
            ))),
            AAAA => Some(IpAddr::V6(Ipv6Addr::from(
                <[u8; 16]>::try_from(rdata).map_err(|_| E_RDATA)?,
            ))),
            _ => None,
        };
        let (_, owner_name) = names.answer_name(msg, owner)?;
        names.report(owner_name, &mut each);
        if let Some(a) = addr {
            each(DnsItem::AnswerAddr(a));
            continue;
        }
        // Where the host name starts in the data (after MX's preference, SRV's priority,
        // weight and port, SVCB's priority), and whether it must fill the rest of the data.
        let (skip, fills) = match rtype {
            MX | SVCB | HTTPS => (2, rtype == MX),
            SRV => (6, true),
            SOA => (0, false),
            _ => (0, true), // NS, CNAME, PTR
        };
        if rdata.len() <= skip {
            return Err(E_RDATA);
        }
        // The name may point back into the message, but must end inside its data.
        let (tend, target) = names.answer_name(msg, rdata_at + skip)?;
        let short = match rtype {
            // MNAME is followed by RNAME (one byte at least) and five 32-bit numbers.
            SOA => tend + 1 + 20 > pos,
            _ if fills => tend != pos,
            _ => tend > pos,
        };
        if short {
            return Err(E_RDATA);
        }
        names.report(target, &mut each);
        if matches!(rtype, SVCB | HTTPS) {
            svc_hints(&msg[tend..pos], &mut each)?;
        }
    }
    Ok(s)
}

/// Hands out the addresses of the `ipv4hint` and `ipv6hint` parameters of an SVCB/HTTPS
/// record's parameter list (RFC 9460 §2.2: key, length, value, repeated to the end of the
/// data). Every step consumes at least the 4-byte key and length, so the loop is bounded by
/// the data length; a parameter running past the data or a hint whose length is not a whole
/// number of addresses is [`E_RDATA`], the addresses before it having been handed out.
fn svc_hints(mut params: &[u8], each: &mut impl FnMut(DnsItem<'_>)) -> Result<(), &'static str> {
    while !params.is_empty() {
        let head = params.get(..4).ok_or(E_RDATA)?;
        let key = u16::from_be_bytes([head[0], head[1]]);
        let len = u16::from_be_bytes([head[2], head[3]]) as usize;
        let value = params.get(4..4 + len).ok_or(E_RDATA)?;
        params = &params[4 + len..];
        match key {
            SVC_IPV4HINT => {
                let quads = value.chunks_exact(4);
                if !quads.remainder().is_empty() {
                    return Err(E_RDATA);
                }
                for q in quads {
                    each(DnsItem::AnswerAddr(IpAddr::V4(Ipv4Addr::new(
                        q[0], q[1], q[2], q[3],
                    ))));
                }
            }
            SVC_IPV6HINT => {
                let octs = value.chunks_exact(16);
                if !octs.remainder().is_empty() {
                    return Err(E_RDATA);
                }
                for o in octs {
                    let mut a = [0u8; 16];
                    a.copy_from_slice(o);
                    each(DnsItem::AnswerAddr(IpAddr::V6(Ipv6Addr::from(a))));
                }
            }
            _ => {}
        }
    }
    Ok(())
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

    /// A response header with `an` answers, the question `example.org` (type `qtype`) at 12.
    fn response(an: u16, qtype: u16) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1];
        m.extend_from_slice(&an.to_be_bytes());
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(b"\x07example\x03org\x00");
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&[0, 1]);
        m
    }

    /// Appends a record of class IN owned by the question name (a pointer to offset 12).
    fn rr(m: &mut Vec<u8>, rtype: u16, rdata: &[u8]) {
        m.extend_from_slice(&[0xC0, 12]);
        m.extend_from_slice(&rtype.to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 0, 0x0E, 0x10]);
        m.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        m.extend_from_slice(rdata);
    }

    #[test]
    fn host_names_of_ns_ptr_mx_srv_soa() {
        let mut m = response(5, 255);
        // NS ns1.example.org, compressed against the question: offset of "example" is 12.
        rr(&mut m, NS, b"\x03ns1\xC0\x0C");
        let ns1 = m.len() - 6; // where "ns1.example.org" starts
        // MX 10 mail.example.org
        rr(&mut m, MX, b"\x00\x0A\x04mail\xC0\x0C");
        // SRV 0 5 5060 sip.example.org, pointing at the NS target through a pointer chain
        let mut srv = b"\x00\x00\x00\x05\x13\xC4\x03sip".to_vec();
        srv.extend_from_slice(&[0xC0, 12]);
        rr(&mut m, SRV, &srv);
        // PTR: a name that is itself a pointer to the NS target
        rr(&mut m, PTR, &[0xC0, ns1 as u8]);
        // SOA: MNAME pri.ns1 (compressed), RNAME hostmaster (not reported), five numbers
        let mut soa = b"\x03pri".to_vec();
        soa.extend_from_slice(&[0xC0, ns1 as u8]);
        soa.extend_from_slice(b"\x0Ahostmaster\xC0\x0C");
        soa.extend_from_slice(&[0; 20]);
        rr(&mut m, SOA, &soa);
        let (v, r) = items(&m);
        assert_eq!(r.unwrap().records, 5);
        assert_eq!(
            v,
            [
                "Q example.org",
                "N ns1.example.org",
                "N mail.example.org",
                "N sip.example.org",
                "N ns1.example.org",
                "N pri.ns1.example.org",
            ]
        );
        assert!(!v.iter().any(|i| i.contains("hostmaster")));
    }

    #[test]
    fn https_and_svcb_targets_and_hints() {
        let mut m = response(2, HTTPS);
        // HTTPS 1 . alpn=h2 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1
        let mut https = vec![0, 1, 0];
        https.extend_from_slice(&[0, 1, 0, 3, 2, b'h', b'2']);
        https.extend_from_slice(&[0, 4, 0, 8, 192, 0, 2, 1, 192, 0, 2, 2]);
        https.extend_from_slice(&[0, 6, 0, 16, 0x20, 0x01, 0x0d, 0xb8]);
        https.extend_from_slice(&[0; 11]);
        https.push(1);
        rr(&mut m, HTTPS, &https);
        // SVCB 2 svc.example.net. (no parameters)
        rr(&mut m, SVCB, b"\x00\x02\x03svc\x07example\x03net\x00");
        let (v, r) = items(&m);
        r.unwrap();
        assert_eq!(
            v,
            [
                "Q example.org",
                "A 192.0.2.1",
                "A 192.0.2.2",
                "A 2001:db8::1",
                "N svc.example.net",
            ]
        );
    }

    #[test]
    fn hostile_mx_pointer_loop() {
        // The exchange points forward at itself: refused, the items before it stay.
        let mut m = response(2, MX);
        rr(&mut m, A, &[192, 0, 2, 9]);
        let at = m.len() + 12 + 2; // the exchange of the next record
        rr(&mut m, MX, &[0, 10, 0xC0 | (at >> 8) as u8, at as u8]);
        let (v, r) = items(&m);
        assert_eq!(r.unwrap_err(), E_LOOP);
        assert_eq!(v, ["Q example.org", "A 192.0.2.9"]);
        // Two names pointing at each other: the second pointer is not strictly backwards.
        let mut m = response(1, MX);
        let at = m.len() + 12 + 2;
        let mut rdata = vec![0, 10, 1, b'a', 0xC0, (at + 4) as u8, 1, b'b'];
        rdata.extend_from_slice(&[0xC0, at as u8]);
        rr(&mut m, MX, &rdata);
        assert_eq!(items(&m).1.unwrap_err(), E_LOOP);
    }

    #[test]
    fn svcb_truncated_params() {
        let cases: [(&[u8], &[&str]); 4] = [
            // ipv4hint then a key cut after one byte
            (
                b"\x00\x01\x00\x00\x04\x00\x04\xC6\x33\x64\x01\x00",
                &["A 198.51.100.1"],
            ),
            // a value longer than the data
            (b"\x00\x01\x00\x00\x01\x00\x09h2", &[]),
            // an ipv4hint of 5 bytes
            (b"\x00\x01\x00\x00\x04\x00\x05\x01\x02\x03\x04\x05", &[]),
            // an ipv6hint of 4 bytes
            (b"\x00\x01\x00\x00\x06\x00\x04\x01\x02\x03\x04", &[]),
        ];
        for (rdata, hints) in cases {
            let mut m = response(1, HTTPS);
            rr(&mut m, HTTPS, rdata);
            let (v, r) = items(&m);
            assert_eq!(r.unwrap_err(), E_RDATA, "{rdata:?}");
            assert_eq!(v[0], "Q example.org");
            assert_eq!(&v[1..], hints, "{rdata:?}");
        }
    }

    #[test]
    fn names_must_fit_their_data() {
        let cases: [(u16, &[u8]); 6] = [
            (MX, b"\x00"),                      // no room for the exchange
            (SRV, b"\x00\x00\x00\x05\x13\xC4"), // nor for the target
            (NS, b""),                          // empty data
            (NS, b"\x02ns\x00\x00"),            // a byte left over
            (SOA, b"\x02ns\x00"),               // MNAME with nothing after it
            (HTTPS, b"\x00\x01"),               // priority only
        ];
        for (rtype, rdata) in cases {
            let mut m = response(1, rtype);
            rr(&mut m, rtype, rdata);
            // A trailing record, so a name running past its data stays inside the message.
            m.extend_from_slice(
                b"\x03ns2\x00\x00\x01\x00\x01\x00\x00\x00\x00\x00\x04\x01\x02\x03\x04",
            );
            let (v, r) = items(&m);
            assert_eq!(r.unwrap_err(), E_RDATA, "type {rtype} {rdata:?}");
            assert_eq!(v, ["Q example.org"], "type {rtype}");
        }
    }
}
