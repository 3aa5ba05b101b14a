//! SCTP (RFC 9260) user messages: the DATA and I-DATA chunks of one packet's chunk list.
//!
//! A message sent whole (the B and E flags both set) is handed out as it is; a fragment of a
//! larger message is counted (`E_FRAGMENT`) and not reassembled. Every chunk's length is
//! checked against the packet, so a damaged list ends the walk with `E_CHUNK`, never a panic.
//! Written here: a chunk is four fixed fields, and the crates that parse SCTP come with their
//! own packet stacks.

/// Reason: a chunk whose length field is below its header or past the packet.
pub const E_CHUNK: &str = "sctp: malformed chunk";
/// Reason: a fragment of a user message (not reassembled).
pub const E_FRAGMENT: &str = "sctp: fragmented message not reassembled";

/// DATA (RFC 9260 §3.3.1).
const DATA: u8 = 0;
/// I-DATA (RFC 8260 §2.1).
const I_DATA: u8 = 64;
/// The B (first fragment) and E (last fragment) flags together: a whole message.
const WHOLE: u8 = 0x03;

/// One whole user message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// The stream it was sent on.
    pub stream: u16,
    /// The payload protocol identifier (46 Diameter, 3 M3UA, …; 0 unspecified).
    pub ppid: u32,
    /// The message.
    pub data: &'a [u8],
}

/// The whole user messages of a packet's chunks, in order; fragments and a damaged chunk
/// list are reported as errors (the latter ends the walk).
pub fn messages(chunks: &[u8]) -> impl Iterator<Item = Result<Message<'_>, &'static str>> {
    let mut rest = chunks;
    std::iter::from_fn(move || {
        loop {
            if rest.len() < 4 {
                return None;
            }
            let (kind, flags) = (rest[0], rest[1]);
            let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
            if len < 4 || len > rest.len() {
                rest = &[];
                return Some(Err(E_CHUNK));
            }
            let chunk = &rest[..len];
            // Chunks are padded to a multiple of four bytes (the last one may lack its padding).
            rest = rest.get(len.next_multiple_of(4)..).unwrap_or(&[]);
            // DATA: TSN, stream, stream sequence, PPID; I-DATA: TSN, stream, reserved,
            // message id, PPID or fragment offset.
            let header = match kind {
                DATA => 16,
                I_DATA => 20,
                _ => continue,
            };
            let Some(data) = chunk.get(header..) else {
                return Some(Err(E_CHUNK));
            };
            if flags & WHOLE != WHOLE {
                return Some(Err(E_FRAGMENT));
            }
            let be32 = |at: usize| {
                u32::from_be_bytes([chunk[at], chunk[at + 1], chunk[at + 2], chunk[at + 3]])
            };
            return Some(Ok(Message {
                stream: u16::from_be_bytes([chunk[8], chunk[9]]),
                ppid: be32(if kind == DATA { 12 } else { 16 }),
                data,
            }));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_chunk(flags: u8, stream: u16, ppid: u32, payload: &[u8]) -> Vec<u8> {
        let mut c = vec![DATA, flags];
        c.extend_from_slice(&((16 + payload.len()) as u16).to_be_bytes());
        c.extend_from_slice(&7u32.to_be_bytes()); // TSN
        c.extend_from_slice(&stream.to_be_bytes());
        c.extend_from_slice(&0u16.to_be_bytes());
        c.extend_from_slice(&ppid.to_be_bytes());
        c.extend_from_slice(payload);
        while c.len() % 4 != 0 {
            c.push(0);
        }
        c
    }

    #[test]
    fn whole_messages_are_handed_out_and_fragments_and_damage_counted() {
        let mut chunks = vec![0x0b, 0, 0, 4]; // COOKIE ACK: skipped
        chunks.extend(data_chunk(0x03, 1, 46, b"hello"));
        chunks.extend(data_chunk(0x02, 2, 0, b"first part"));
        chunks.extend(data_chunk(0x07, 3, 0, b"unordered")); // U|B|E: whole
        let got: Vec<_> = messages(&chunks).collect();
        assert_eq!(
            got,
            [
                Ok(Message {
                    stream: 1,
                    ppid: 46,
                    data: b"hello"
                }),
                Err(E_FRAGMENT),
                Ok(Message {
                    stream: 3,
                    ppid: 0,
                    data: b"unordered"
                }),
            ]
        );
        // A length past the packet ends the walk; every prefix is safe.
        let mut bad = data_chunk(0x03, 1, 0, b"x");
        bad[3] = 200;
        assert_eq!(messages(&bad).collect::<Vec<_>>(), [Err(E_CHUNK)]);
        for n in 0..chunks.len() {
            let _ = messages(&chunks[..n]).count();
        }
    }
}
