//! The client's Initial CRYPTO stream, reassembled by offset until its first handshake message,
//! the ClientHello, is whole. Pieces may come in any order, overlap or repeat (retransmissions):
//! the first copy of a byte is kept, as for TCP. Bounded: at most [`MAX_CRYPTO`] bytes of stream
//! and [`MAX_PIECES`] disjoint pieces.

use std::ops::Range;

use super::{E_CRYPTO_LIMIT, E_NOT_HELLO, E_PIECES};

/// Bytes of CRYPTO stream held per connection: the ClientHello is the only message of the
/// client's Initial stream, and [`crate::packets::app::stream::MAX_HELLO`] bounds it over TCP.
pub const MAX_CRYPTO: usize = crate::packets::app::stream::MAX_HELLO;
/// Disjoint pieces held at once (clients cut a ClientHello in a handful; Chrome scatters it
/// over about ten CRYPTO frames).
pub const MAX_PIECES: usize = 64;

const HANDSHAKE_CLIENT_HELLO: u8 = 1;

/// A CRYPTO stream being reassembled.
#[derive(Debug, Default)]
pub struct Hello {
    /// The stream from offset 0; bytes not received yet are zero.
    buf: Vec<u8>,
    /// The received ranges, sorted, disjoint and not touching.
    have: Vec<Range<usize>>,
}

impl Hello {
    /// Adds CRYPTO data at stream `offset`: [`E_CRYPTO_LIMIT`] past [`MAX_CRYPTO`],
    /// [`E_PIECES`] past [`MAX_PIECES`] (nothing is added then).
    pub fn add(&mut self, offset: u64, data: &[u8]) -> Result<(), &'static str> {
        let start = usize::try_from(offset).map_err(|_| E_CRYPTO_LIMIT)?;
        let end = start
            .checked_add(data.len())
            .filter(|&e| e <= MAX_CRYPTO)
            .ok_or(E_CRYPTO_LIMIT)?;
        if data.is_empty() {
            return Ok(());
        }
        // Where the new range goes, and the held ranges it overlaps or touches.
        let first = self.have.partition_point(|r| r.end < start);
        let last = first + self.have[first..].partition_point(|r| r.start <= end);
        if first == last && self.have.len() >= MAX_PIECES {
            return Err(E_PIECES);
        }
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        // Copy only into the holes between held ranges: the first copy of a byte wins.
        let mut at = start;
        for r in &self.have[first..last] {
            if r.start > at {
                self.buf[at..r.start].copy_from_slice(&data[at - start..r.start - start]);
            }
            at = at.max(r.end);
        }
        if at < end {
            self.buf[at..end].copy_from_slice(&data[at - start..]);
        }
        let joined = &self.have[first..last];
        let merged = joined.first().map_or(start, |r| r.start.min(start))
            ..joined.last().map_or(end, |r| r.end.max(end));
        self.have.splice(first..last, [merged]);
        Ok(())
    }

    /// The ClientHello handshake message (type, 3-byte length, body) once every byte of it is
    /// held; `Ok(None)` while some are missing; [`E_NOT_HELLO`] when the stream starts with
    /// another message, [`E_CRYPTO_LIMIT`] when its length passes [`MAX_CRYPTO`].
    pub fn client_hello(&self) -> Result<Option<&[u8]>, &'static str> {
        let Some(prefix) = self.have.first().filter(|r| r.start == 0) else {
            return Ok(None);
        };
        let held = &self.buf[..prefix.end];
        match held {
            [t, ..] if *t != HANDSHAKE_CLIENT_HELLO => Err(E_NOT_HELLO),
            [_, a, b, c, ..] => {
                let len = 4 + (usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c));
                if len > MAX_CRYPTO {
                    Err(E_CRYPTO_LIMIT)
                } else {
                    Ok(held.get(..len))
                }
            }
            _ => Ok(None),
        }
    }

    /// Heap bytes held.
    pub fn held(&self) -> usize {
        self.buf.capacity() + self.have.capacity() * size_of::<Range<usize>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello-shaped message of `n` body bytes.
    fn message(n: usize) -> Vec<u8> {
        let mut m = vec![1, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        m.extend((0..n).map(|i| (i * 7 + 3) as u8));
        m
    }

    #[test]
    fn pieces_in_any_order_give_the_message_once_whole() {
        let m = message(1800);
        let cuts = [0, 3, 4, 700, 701, 1200, m.len()];
        let pieces: Vec<_> = cuts.windows(2).map(|w| w[0]..w[1]).collect();
        // Every rotation, and reversed: the message is whole only with the last piece.
        for k in 0..pieces.len() {
            for reverse in [false, true] {
                let mut order: Vec<_> = pieces.iter().cycle().skip(k).take(pieces.len()).collect();
                if reverse {
                    order.reverse();
                }
                let mut h = Hello::default();
                for (i, r) in order.iter().enumerate() {
                    assert!(h.client_hello().unwrap().is_none(), "{k} {i}");
                    h.add(r.start as u64, &m[(*r).clone()]).unwrap();
                }
                assert_eq!(h.client_hello().unwrap(), Some(&m[..]));
                assert_eq!(h.have, vec![0..m.len()]);
            }
        }
    }

    #[test]
    fn overlaps_keep_the_first_copy() {
        let m = message(100);
        let mut h = Hello::default();
        h.add(10, &m[10..50]).unwrap();
        let mut other = m.clone();
        other[5..60].fill(0xee);
        h.add(5, &other[5..60]).unwrap(); // overlaps 10..50: those bytes stay
        h.add(0, &m[0..5]).unwrap();
        h.add(60, &m[60..]).unwrap();
        let got = h.client_hello().unwrap().unwrap();
        assert_eq!(&got[10..50], &m[10..50]);
        assert_eq!(&got[5..10], &other[5..10]);
        assert_eq!(&got[50..60], &other[50..60]);
        assert_eq!(h.have.len(), 1);
    }

    #[test]
    fn bounds_are_errors() {
        let mut h = Hello::default();
        assert_eq!(h.add(MAX_CRYPTO as u64 - 1, b"ab"), Err(E_CRYPTO_LIMIT));
        assert_eq!(h.add(u64::MAX, b"a"), Err(E_CRYPTO_LIMIT));
        for i in 0..MAX_PIECES {
            h.add(10 + 2 * i as u64, b"x").unwrap();
        }
        assert_eq!(h.add(1000, b"x"), Err(E_PIECES));
        h.add(11, b"y").unwrap(); // joins two pieces: allowed
        assert_eq!(h.have.len(), MAX_PIECES - 1);
        assert!(h.held() < 2 * 1024);

        let mut h = Hello::default();
        h.add(0, &[2, 0, 0, 4]).unwrap();
        assert_eq!(h.client_hello(), Err(E_NOT_HELLO));
        let mut h = Hello::default();
        h.add(0, &[1, 1, 0, 0]).unwrap();
        assert_eq!(h.client_hello(), Err(E_CRYPTO_LIMIT));
    }
}
