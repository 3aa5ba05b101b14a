//! TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the server name a client asks for.
//!
//! * [`client_hello_sni`] — the `host_name` of the `server_name` extension (RFC 6066 §3) of the
//!   ClientHello at the start of a TCP payload, borrowed from the payload.
//! * [`is_client_hello`] — a six-byte check for the engine to decide whether to call it.
//! * [`handshake_sni`] — the same walk over one reassembled handshake message, for the stream
//!   parser ([`super::stream`]), which joins the fragments of several records first.
//!
//! The ClientHello may span several TLS records (the reader steps over record headers between
//! fragments) and several TCP segments; only the bytes present are read, as a sensor without
//! reassembly sees them. When the payload ends before the server name was found the answer is
//! `Err("tls: truncated client hello")` — common with post-quantum key shares (a ClientHello of
//! ~1.8 KB) whose randomised extension order puts `server_name` in the second segment. A
//! `host_name` split between two records cannot be returned as one slice and is reported as
//! `Err("tls: server name split across records")`.
//!
//! With Encrypted Client Hello the name returned is the outer ClientHello's public name. QUIC
//! Initial packets are not read: their ClientHello is encrypted with keys derived by HKDF and
//! AES, which this crate does not carry.

/// Reason: the payload ends before the server name (or the end of the ClientHello).
pub const E_TRUNCATED: &str = "tls: truncated client hello";
/// Reason: a length field exceeds its enclosing structure.
pub const E_LENGTH: &str = "tls: bad length";
/// Reason: a record of length 0 or above 2^14 + 2048 bytes.
pub const E_RECORD: &str = "tls: bad record length";
/// Reason: the ClientHello continues in a record that is not a TLS handshake record.
pub const E_INTERRUPTED: &str = "tls: client hello interrupted";
/// Reason: the server name is split between two records.
pub const E_SPLIT: &str = "tls: server name split across records";
/// Reason: a `host_name` of length 0.
pub const E_EMPTY: &str = "tls: empty server name";

pub(crate) const CONTENT_HANDSHAKE: u8 = 22;
pub(crate) const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Longest record fragment accepted (RFC 5246 §6.2.3: 2^14 + 2048 for a ciphertext).
pub(crate) const MAX_RECORD: usize = (1 << 14) + 2048;

/// True when the payload starts with a TLS handshake record (version 3.0–3.4 on the record
/// layer) whose first handshake message is a ClientHello. Reads six bytes.
pub fn is_client_hello(payload: &[u8]) -> bool {
    matches!(
        payload,
        [
            CONTENT_HANDSHAKE,
            3,
            0..=4,
            _,
            _,
            HANDSHAKE_CLIENT_HELLO,
            ..
        ]
    )
}

/// Reads the handshake stream that handshake records carry, stepping over record headers.
struct Reader<'a> {
    p: &'a [u8],
    pos: usize,
    /// End of the current record's fragment (may lie beyond the payload).
    rec_end: usize,
    /// Whether `p` is TLS records (headers to step over) or one bare handshake message.
    framed: bool,
}

impl<'a> Reader<'a> {
    fn record_header(&mut self) -> Result<(), &'static str> {
        let h = self.p.get(self.pos..self.pos + 5).ok_or(E_TRUNCATED)?;
        if h[0] != CONTENT_HANDSHAKE || h[1] != 3 {
            return Err(E_INTERRUPTED);
        }
        let len = u16::from_be_bytes([h[3], h[4]]) as usize;
        if len == 0 || len > MAX_RECORD {
            return Err(E_RECORD);
        }
        self.pos += 5;
        self.rec_end = self.pos + len;
        Ok(())
    }

    /// The bytes of the current fragment from the read position on, entering the next record
    /// when the current one is used up; never empty.
    fn fragment(&mut self) -> Result<&'a [u8], &'static str> {
        if self.pos == self.rec_end && self.framed {
            self.record_header()?;
        }
        let end = self.rec_end.min(self.p.len());
        match self.p.get(self.pos..end) {
            Some(f) if !f.is_empty() => Ok(f),
            _ => Err(E_TRUNCATED),
        }
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        let b = self.fragment()?[0];
        self.pos += 1;
        Ok(b)
    }

    fn u16(&mut self) -> Result<usize, &'static str> {
        Ok(((self.u8()? as usize) << 8) | self.u8()? as usize)
    }

    fn skip(&mut self, mut n: usize) -> Result<(), &'static str> {
        while n > 0 {
            let k = self.fragment()?.len().min(n);
            self.pos += k;
            n -= k;
        }
        Ok(())
    }

    /// `n` bytes as one slice of the payload.
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let f = self.fragment()?;
        if f.len() >= n {
            self.pos += n;
            Ok(&f[..n])
        } else if self.rec_end < self.p.len() {
            Err(E_SPLIT)
        } else {
            Err(E_TRUNCATED)
        }
    }
}

/// Counts down the bytes left in a length-delimited structure.
struct Left(usize);

impl Left {
    fn take(&mut self, n: usize) -> Result<(), &'static str> {
        self.0 = self.0.checked_sub(n).ok_or(E_LENGTH)?;
        Ok(())
    }
}

/// The server name of the ClientHello at the start of `payload`.
///
/// `Ok(Some(name))`: the first `host_name` entry of the `server_name` extension, bytes as sent.
/// `Ok(None)`: not a TLS handshake record, not a ClientHello (a ServerHello, an SSLv2 hello),
/// fewer than six bytes, or a complete ClientHello without a server name. `Err`: malformed or
/// cut short before the name (see the module docs).
pub fn client_hello_sni(payload: &[u8]) -> Result<Option<&[u8]>, &'static str> {
    if !is_client_hello(payload) {
        return Ok(None);
    }
    let mut r = Reader {
        p: payload,
        pos: 0,
        rec_end: 0,
        framed: true,
    };
    r.record_header()?;
    server_name(&mut r)
}

/// The server name of one complete ClientHello handshake message (type, 3-byte length, body),
/// its record framing removed: what [`crate::packets::app::stream`] reassembles from the
/// records of a TCP stream. Same answers as [`client_hello_sni`]; `Ok(None)` when `msg` is not
/// a ClientHello.
pub fn handshake_sni(msg: &[u8]) -> Result<Option<&[u8]>, &'static str> {
    if msg.first() != Some(&HANDSHAKE_CLIENT_HELLO) {
        return Ok(None);
    }
    let mut r = Reader {
        p: msg,
        pos: 0,
        rec_end: msg.len(),
        framed: false,
    };
    server_name(&mut r)
}

/// Walks a ClientHello from its handshake type byte to the `host_name` of its `server_name`
/// extension: the part both entry points share.
fn server_name<'a>(r: &mut Reader<'a>) -> Result<Option<&'a [u8]>, &'static str> {
    r.u8()?; // handshake type, checked by the caller
    let hs_len = ((r.u8()? as usize) << 16) | r.u16()?;
    let mut hs = Left(hs_len);
    // legacy_version, random
    hs.take(2 + 32)?;
    r.skip(2 + 32)?;
    // legacy_session_id
    hs.take(1)?;
    let n = r.u8()? as usize;
    hs.take(n)?;
    r.skip(n)?;
    // cipher_suites
    hs.take(2)?;
    let n = r.u16()?;
    hs.take(n)?;
    r.skip(n)?;
    // legacy_compression_methods
    hs.take(1)?;
    let n = r.u8()? as usize;
    hs.take(n)?;
    r.skip(n)?;
    if hs.0 == 0 {
        return Ok(None); // no extensions (SSL 3.0 style)
    }
    hs.take(2)?;
    let ext_len = r.u16()?;
    hs.take(ext_len)?;
    let mut exts = Left(ext_len);
    while exts.0 > 0 {
        exts.take(4)?;
        let ty = r.u16()?;
        let len = r.u16()?;
        exts.take(len)?;
        if ty != 0 {
            r.skip(len)?;
            continue;
        }
        // server_name: ServerNameList
        let mut ext = Left(len);
        ext.take(2)?;
        let list_len = r.u16()?;
        ext.take(list_len)?;
        let mut list = Left(list_len);
        while list.0 > 0 {
            list.take(3)?;
            let name_type = r.u8()?;
            let n = r.u16()?;
            list.take(n)?;
            if name_type == 0 {
                if n == 0 {
                    return Err(E_EMPTY);
                }
                return r.take(n).map(Some);
            }
            r.skip(n)?;
        }
        return Ok(None);
    }
    Ok(None)
}
