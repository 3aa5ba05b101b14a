//! TLS handshake messages in clear (RFC 8446 §4, RFC 5246 §7.4): the ClientHello, the
//! ServerHello and, up to TLS 1.2, the server's Certificate message.
//!
//! * [`is_client_hello`], [`is_server_hello`] — six-byte checks of a direction's first record:
//!   the stream parser ([`super::stream`]) uses them to choose TLS for a connection.
//! * [`handshake_sni`] — the `host_name` of the `server_name` extension (RFC 6066 §3) of one
//!   complete ClientHello handshake message, borrowed from it. The stream parser joins the
//!   fragments of the handshake records that carry it first (a ClientHello may span several
//!   records and TCP segments; post-quantum key shares make ~1.8 KB ones common), so a name cut
//!   by a record or segment boundary is read whole.
//! * [`client_hello`], [`server_hello`] — the fields of a hello that fingerprints are made of
//!   ([`super::tls_fingerprint`]): versions, cipher suites, extensions.
//! * [`certificates`] — the DER certificates of a Certificate message (RFC 5246 §7.4.2), read by
//!   [`super::x509`]. TLS 1.3 encrypts the server's certificates: only its hellos are in clear.
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

/// Reason: a Certificate message whose certificate list is malformed.
pub const E_CERTIFICATES: &str = "tls: bad certificate list";

pub(crate) const CONTENT_HANDSHAKE: u8 = 22;
pub(crate) const HANDSHAKE_CLIENT_HELLO: u8 = 1;
pub(crate) const HANDSHAKE_SERVER_HELLO: u8 = 2;
pub(crate) const HANDSHAKE_CERTIFICATE: u8 = 11;
/// The `server_name` extension (RFC 6066 §3).
pub const EXT_SERVER_NAME: u16 = 0;
/// The `supported_groups` extension (RFC 8422 §5.1.1, formerly `elliptic_curves`).
pub const EXT_SUPPORTED_GROUPS: u16 = 10;
/// The `ec_point_formats` extension (RFC 8422 §5.1.2).
pub const EXT_EC_POINT_FORMATS: u16 = 11;
/// The `signature_algorithms` extension (RFC 8446 §4.2.3).
pub const EXT_SIGNATURE_ALGORITHMS: u16 = 13;
/// The `application_layer_protocol_negotiation` extension (RFC 7301).
pub const EXT_ALPN: u16 = 16;
/// The `supported_versions` extension (RFC 8446 §4.2.1).
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;
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

/// True when the payload starts with a TLS handshake record whose first handshake message is
/// a ServerHello: how the server direction of a TLS connection begins. Reads six bytes.
pub fn is_server_hello(payload: &[u8]) -> bool {
    matches!(
        payload,
        [
            CONTENT_HANDSHAKE,
            3,
            0..=4,
            _,
            _,
            HANDSHAKE_SERVER_HELLO,
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

/// The fields of a ClientHello that fingerprints are made of, borrowed from its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (`client_version` up to TLS 1.2).
    pub version: u16,
    /// The cipher suites, two bytes each, as sent.
    pub cipher_suites: &'a [u8],
    /// The extensions block (empty when the hello has none): walk it with
    /// [`ClientHello::extensions`].
    extensions: &'a [u8],
}

/// The fields of a ServerHello that fingerprints are made of, borrowed from its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// `legacy_version` (`server_version` up to TLS 1.2).
    pub version: u16,
    /// The cipher suite chosen.
    pub cipher_suite: u16,
    extensions: &'a [u8],
}

/// The extensions of a hello in order: `(type, data)`, or an error once one runs past the
/// block (then nothing more).
#[derive(Clone, Debug)]
pub struct Extensions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Result<(u16, &'a [u8]), &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(&[t0, t1, l0, l1]) = self.rest.first_chunk::<4>() else {
            self.rest = &[];
            return Some(Err(E_LENGTH));
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        let Some(data) = self.rest.get(4..4 + len) else {
            self.rest = &[];
            return Some(Err(E_LENGTH));
        };
        self.rest = &self.rest[4 + len..];
        Some(Ok((u16::from_be_bytes([t0, t1]), data)))
    }
}

impl<'a> ClientHello<'a> {
    /// The extensions, in the order sent.
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions {
            rest: self.extensions,
        }
    }

    /// The first `host_name` of the `server_name` extension: `Ok(None)` when there is none,
    /// `Err` when an extension before it, or the extension itself, is malformed.
    pub fn server_name(&self) -> Result<Option<&'a [u8]>, &'static str> {
        for ext in self.extensions() {
            let (ty, data) = ext?;
            if ty != EXT_SERVER_NAME {
                continue;
            }
            // ServerNameList
            let r = &mut Reader { p: data, pos: 0 };
            let mut ext = Left(data.len());
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
}

impl<'a> ServerHello<'a> {
    /// The extensions, in the order sent.
    pub fn extensions(&self) -> Extensions<'a> {
        Extensions {
            rest: self.extensions,
        }
    }

    /// The version the server chose: its `supported_versions` extension when present (TLS 1.3),
    /// else `legacy_version`.
    pub fn negotiated_version(&self) -> u16 {
        self.extensions()
            .map_while(Result::ok)
            .find(|&(ty, _)| ty == EXT_SUPPORTED_VERSIONS)
            .and_then(|(_, d)| d.first_chunk::<2>().map(|v| u16::from_be_bytes(*v)))
            .unwrap_or(self.version)
    }
}

/// The server name of one complete ClientHello handshake message (type, 3-byte length, body),
/// its record framing removed: what [`crate::packets::app::stream`] reassembles from the
/// records of a TCP stream.
///
/// `Ok(Some(name))`: the first `host_name` entry of the `server_name` extension, bytes as sent.
/// `Ok(None)`: not a ClientHello, or a ClientHello without a server name. `Err`: malformed.
pub fn handshake_sni(msg: &[u8]) -> Result<Option<&[u8]>, &'static str> {
    match client_hello(msg)? {
        Some(hello) => hello.server_name(),
        None => Ok(None),
    }
}

/// Reads a hello's type, length, version and random; returns the reader after the random, with
/// what is left of the body, and the version.
fn hello_start(msg: &[u8]) -> Result<(Reader<'_>, Left, u16), &'static str> {
    let mut r = Reader { p: msg, pos: 0 };
    r.u8()?; // handshake type, checked by the caller
    let hs_len = ((r.u8()? as usize) << 16) | r.u16()?;
    let mut hs = Left(hs_len);
    hs.take(2 + 32)?;
    let version = r.u16()? as u16;
    r.skip(32)?;
    Ok((r, hs, version))
}

/// Skips a `legacy_session_id`.
fn session_id(r: &mut Reader<'_>, hs: &mut Left) -> Result<(), &'static str> {
    hs.take(1)?;
    let n = r.u8()? as usize;
    hs.take(n)?;
    r.skip(n)
}

/// The extensions block at the end of a hello, or an empty one when the body ends before it.
fn extensions_block<'a>(r: &mut Reader<'a>, hs: &mut Left) -> Result<&'a [u8], &'static str> {
    if hs.0 == 0 {
        return Ok(&[]); // no extensions (SSL 3.0 style)
    }
    hs.take(2)?;
    let ext_len = r.u16()?;
    hs.take(ext_len)?;
    r.take(ext_len)
}

/// The fields of one complete ClientHello handshake message (type, 3-byte length, body).
/// `Ok(None)`: not a ClientHello. `Err`: a length runs past its structure or the message.
pub fn client_hello(msg: &[u8]) -> Result<Option<ClientHello<'_>>, &'static str> {
    if msg.first() != Some(&HANDSHAKE_CLIENT_HELLO) {
        return Ok(None);
    }
    let (mut r, mut hs, version) = hello_start(msg)?;
    session_id(&mut r, &mut hs)?;
    // cipher_suites
    hs.take(2)?;
    let n = r.u16()?;
    hs.take(n)?;
    let cipher_suites = r.take(n)?;
    // legacy_compression_methods
    hs.take(1)?;
    let n = r.u8()? as usize;
    hs.take(n)?;
    r.skip(n)?;
    let extensions = extensions_block(&mut r, &mut hs)?;
    Ok(Some(ClientHello {
        version,
        cipher_suites,
        extensions,
    }))
}

/// The fields of one complete ServerHello handshake message (type, 3-byte length, body).
/// `Ok(None)`: not a ServerHello. `Err`: a length runs past its structure or the message.
pub fn server_hello(msg: &[u8]) -> Result<Option<ServerHello<'_>>, &'static str> {
    if msg.first() != Some(&HANDSHAKE_SERVER_HELLO) {
        return Ok(None);
    }
    let (mut r, mut hs, version) = hello_start(msg)?;
    // TLS 1.3 drafts before 22 (0x7f00 + draft) had neither session id nor compression.
    let draft = version >> 8 == 0x7f && version & 0xff < 22;
    if !draft {
        session_id(&mut r, &mut hs)?;
    }
    hs.take(2)?;
    let cipher_suite = r.u16()? as u16;
    if !draft {
        hs.take(1)?;
        r.skip(1)?; // legacy_compression_method
    }
    let extensions = extensions_block(&mut r, &mut hs)?;
    Ok(Some(ServerHello {
        version,
        cipher_suite,
        extensions,
    }))
}

/// The certificates of one complete Certificate handshake message of TLS 1.2 and earlier
/// (type, 3-byte length, a 3-byte-length list of 3-byte-length DER certificates), in order:
/// the server's own first. A malformed list yields [`E_CERTIFICATES`] after the certificates
/// read before the damage; a message of another type yields nothing.
pub fn certificates(msg: &[u8]) -> impl Iterator<Item = Result<&[u8], &'static str>> {
    let u24 = |b: &[u8]| (usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]);
    let mut rest: Option<&[u8]> = match msg {
        [HANDSHAKE_CERTIFICATE, ..] => match (msg.get(4..7), msg.get(7..)) {
            (Some(l), Some(list)) if u24(l) <= list.len() => Some(&list[..u24(l)]),
            _ => None,
        },
        _ => Some(&[]),
    };
    let mut failed = rest.is_none();
    std::iter::from_fn(move || {
        if failed {
            failed = false;
            return Some(Err(E_CERTIFICATES));
        }
        let list = rest?;
        if list.is_empty() {
            return None;
        }
        match list.get(..3).map(u24) {
            Some(n) if n > 0 && 3 + n <= list.len() => {
                rest = Some(&list[3 + n..]);
                Some(Ok(&list[3..3 + n]))
            }
            _ => {
                rest = None;
                Some(Err(E_CERTIFICATES))
            }
        }
    })
}
