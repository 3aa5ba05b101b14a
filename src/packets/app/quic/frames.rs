//! The frames of a decrypted Initial packet (RFC 9000 §19): PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE are what an Initial may carry (§12.4); the CRYPTO data is handed on.

use super::{E_FRAME, E_FRAME_TYPE, varint};

const PADDING: u64 = 0x00;
const PING: u64 = 0x01;
const ACK: u64 = 0x02;
const ACK_ECN: u64 = 0x03;
const CRYPTO: u64 = 0x06;
const CONNECTION_CLOSE: u64 = 0x1c;

/// Walks the frames of one Initial's plaintext, calling `crypto(offset, data)` for each CRYPTO
/// frame in packet order; stops at the first error `crypto` returns. A malformed frame is
/// [`E_FRAME`], a frame type an Initial may not carry [`E_FRAME_TYPE`]; the CRYPTO frames before
/// it have been handed on.
pub fn crypto_frames(
    payload: &[u8],
    mut crypto: impl FnMut(u64, &[u8]) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    let mut pos = 0;
    while pos < payload.len() {
        if payload[pos] == 0 {
            // PADDING runs are most of a client's first Initial: skip them in one step.
            pos += payload[pos..]
                .iter()
                .position(|&b| b != 0)
                .unwrap_or(payload.len() - pos);
            continue;
        }
        let v = |pos: &mut usize| varint(payload, pos).ok_or(E_FRAME);
        match v(&mut pos)? {
            PADDING | PING => {}
            ty @ (ACK | ACK_ECN) => {
                v(&mut pos)?; // largest acknowledged
                v(&mut pos)?; // ack delay
                let ranges = v(&mut pos)?;
                v(&mut pos)?; // first range
                // Each further range is two varints of at least a byte: a count larger than
                // what is left cannot be met, and the loop stays bounded by the payload.
                if ranges > (payload.len() - pos) as u64 / 2 {
                    return Err(E_FRAME);
                }
                for _ in 0..ranges {
                    v(&mut pos)?; // gap
                    v(&mut pos)?; // range length
                }
                if ty == ACK_ECN {
                    for _ in 0..3 {
                        v(&mut pos)?; // ECT(0), ECT(1), ECN-CE counts
                    }
                }
            }
            CRYPTO => {
                let offset = v(&mut pos)?;
                let len = v(&mut pos)?;
                let data = usize::try_from(len)
                    .ok()
                    .and_then(|l| payload.get(pos..pos.checked_add(l)?))
                    .ok_or(E_FRAME)?;
                pos += data.len();
                crypto(offset, data)?;
            }
            CONNECTION_CLOSE => {
                v(&mut pos)?; // error code
                v(&mut pos)?; // frame type
                let reason = v(&mut pos)?;
                pos = usize::try_from(reason)
                    .ok()
                    .and_then(|r| pos.checked_add(r))
                    .filter(|&end| end <= payload.len())
                    .ok_or(E_FRAME)?;
            }
            _ => return Err(E_FRAME_TYPE),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CRYPTO frames as (offset, data).
    type Pieces = Vec<(u64, Vec<u8>)>;

    fn walk(payload: &[u8]) -> (Pieces, Result<(), &'static str>) {
        let mut seen = Vec::new();
        let r = crypto_frames(payload, |off, data| {
            seen.push((off, data.to_vec()));
            Ok(())
        });
        (seen, r)
    }

    #[test]
    fn crypto_frames_come_out_in_packet_order_between_other_frames() {
        let mut p = vec![0, 0, 0, PING as u8];
        p.extend([0x06, 0x05, 0x03, b'd', b'e', b'f']); // CRYPTO offset 5
        p.extend([0x02, 0x07, 0x00, 0x01, 0x00, 0x02, 0x01]); // ACK with one more range
        p.extend([0x03, 0x07, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03]); // ACK_ECN
        p.extend([0x06, 0x00, 0x02, b'a', b'b']); // CRYPTO offset 0
        p.extend([0x1c, 0x00, 0x06, 0x02, b'n', b'o']); // CONNECTION_CLOSE with a reason
        p.extend([0; 100]);
        let (seen, r) = walk(&p);
        assert_eq!(r, Ok(()));
        assert_eq!(seen, vec![(5, b"def".to_vec()), (0, b"ab".to_vec())]);
    }

    #[test]
    fn bad_frames_stop_the_walk_after_what_came_before() {
        let crypto = [0x06, 0x00, 0x02, b'a', b'b'];
        for (tail, why) in [
            (&[0x06, 0x00, 0x05, b'x'][..], E_FRAME), // CRYPTO past the end
            (&[0x08, 0x00][..], E_FRAME_TYPE),        // STREAM in an Initial
            (&[0x1d, 0x00, 0x00][..], E_FRAME_TYPE),  // application close
            (&[0x02, 0x01, 0x00, 0x3f, 0x00][..], E_FRAME), // 63 ranges, none there
            (&[0x1c, 0x00, 0x00, 0x09, b'x'][..], E_FRAME), // reason past the end
            (&[0x06, 0x40][..], E_FRAME),             // cut varint
        ] {
            let mut p = crypto.to_vec();
            p.extend_from_slice(tail);
            let (seen, r) = walk(&p);
            assert_eq!(r, Err(why), "{tail:?}");
            assert_eq!(seen, vec![(0, b"ab".to_vec())]);
        }
    }

    #[test]
    fn an_error_from_the_callback_stops_the_walk() {
        let p = [0x06, 0x00, 0x01, b'a', 0x06, 0x01, 0x01, b'b'];
        let mut n = 0;
        let r = crypto_frames(&p, |_, _| {
            n += 1;
            Err("stop")
        });
        assert_eq!((r, n), (Err("stop"), 1));
    }
}
