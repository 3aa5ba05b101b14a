//! TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the server name a client asks for.
//!
//! * [`is_client_hello`] — a six-byte check of the first record: the stream parser
//!   ([`super::stream`]) uses it to choose TLS for a connection.
//! * [`handshake_sni`] — the `host_name` of the `server_name` extension (RFC 6066 §3) of one
//!   complete ClientHello handshake message, borrowed from it. The stream parser joins the
//!   fragments of the handshake records that carry it first (a ClientHello may span several
//!   records and TCP segments; post-quantum key shares make ~1.8 KB ones common), so a name cut
//!   by a record or segment boundary is read whole.
//!
//! With Encrypted Client Hello the name returned is the outer ClientHello's public name. A QUIC
//! client's ClientHello travels in encrypted Initial packets: [`super::quic`] decrypts and
//! reassembles it, and the name is read from it here, as from TCP.

/// Reason: a length inside the ClientHello runs past the end of the handshake message.
pub const E_TRUNCATED: &str = "tls: truncated client hello";
/// Reason: a length field exceeds its enclosing structure.
pub const E_LENGTH: &str = "tls: bad length";
/// Reason: a record of length 0 or above 2^14 + 2048 bytes.
pub const E_RECORD: &str = "tls: bad record length";
/// Reason: the ClientHello continues in a record that is not a TLS handshake record.
pub const E_INTERRUPTED: &str = "tls: client hello interrupted";
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

/// Reads one handshake message: a cursor that fails with [`E_TRUNCATED`] at its end.
struct Reader<'a> {
    p: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// `n` bytes as one slice of the message.
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let end = self.pos.checked_add(n).ok_or(E_TRUNCATED)?;
        let s = self.p.get(self.pos..end).ok_or(E_TRUNCATED)?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, &'static str> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
    }

    fn skip(&mut self, n: usize) -> Result<(), &'static str> {
        self.take(n).map(drop)
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

/// The server name of one complete ClientHello handshake message (type, 3-byte length, body),
/// its record framing removed: what [`crate::packets::app::stream`] reassembles from the
/// records of a TCP stream.
///
/// `Ok(Some(name))`: the first `host_name` entry of the `server_name` extension, bytes as sent.
/// `Ok(None)`: not a ClientHello, or a ClientHello without a server name. `Err`: malformed.
pub fn handshake_sni(msg: &[u8]) -> Result<Option<&[u8]>, &'static str> {
    if msg.first() != Some(&HANDSHAKE_CLIENT_HELLO) {
        return Ok(None);
    }
    server_name(&mut Reader { p: msg, pos: 0 })
}

/// Walks a ClientHello from its handshake type byte to the `host_name` of its `server_name`
/// extension.
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
