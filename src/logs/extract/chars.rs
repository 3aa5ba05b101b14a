//! Characters: UTF-8 decoding around a position, and what a word or name-label character is.

use super::classes::LABEL_BITS;

/// Decodes the UTF-8 scalar starting at `i`; `None` for ASCII, invalid or truncated bytes.
pub(super) fn decode_at(text: &[u8], i: usize) -> Option<(char, usize)> {
    let b0 = *text.get(i)?;
    let (len, min, mut cp) = match b0 {
        0xC2..=0xDF => (2, 0x80, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (3, 0x800, u32::from(b0 & 0x0F)),
        0xF0..=0xF4 => (4, 0x10000, u32::from(b0 & 0x07)),
        _ => return None,
    };
    for &b in text.get(i + 1..i + len)? {
        if b & 0xC0 != 0x80 {
            return None;
        }
        cp = cp << 6 | u32::from(b & 0x3F);
    }
    if cp < min {
        return None;
    }
    char::from_u32(cp).map(|c| (c, len))
}

/// Decodes the UTF-8 scalar that ends just before `i`.
fn decode_before(text: &[u8], i: usize) -> Option<(char, usize)> {
    if i == 0 {
        return None;
    }
    let mut j = i;
    while j > 0 && i - j < 4 {
        j -= 1;
        if text[j] & 0xC0 != 0x80 {
            break;
        }
    }
    let (c, len) = decode_at(text, j)?;
    (j + len == i).then_some((c, len))
}

/// Combining marks of common scripts (an approximation: std has no general-category lookup).
pub(super) fn is_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F
            | 0x0483..=0x0489
            | 0x0591..=0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06ED
            | 0x0900..=0x0963
            | 0x0966..=0x0DFF
            | 0x0E31..=0x0E4E
            | 0x0EB1..=0x0ECD
            | 0x1AB0..=0x1AFF
            | 0x1DC0..=0x1DFF
            | 0x20D0..=0x20FF
            | 0xFE20..=0xFE2F
    )
}

/// A non-ASCII character that can be part of a word or a name label.
pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_mark(c)
}

/// Whether the character ending just before `i` is a word character.
pub(super) fn word_before(text: &[u8], i: usize) -> bool {
    match i.checked_sub(1).map(|j| text[j]) {
        None => false,
        Some(b) if b < 0x80 => b.is_ascii_alphanumeric(),
        Some(_) => decode_before(text, i).is_some_and(|(c, _)| is_word_char(c)),
    }
}

/// Whether the character at `i` is a word character.
pub(super) fn word_at(text: &[u8], i: usize) -> bool {
    match text.get(i) {
        None => false,
        Some(b) if *b < 0x80 => b.is_ascii_alphanumeric(),
        Some(_) => decode_at(text, i).is_some_and(|(c, _)| is_word_char(c)),
    }
}

/// Byte length of the name-label character at `i`, 0 if there is none.
#[inline]
pub(super) fn label_char_at(text: &[u8], i: usize) -> usize {
    match text.get(i) {
        None => 0,
        Some(&b) if b < 0x80 => usize::from(LABEL_BITS[usize::from(b)] != 0),
        Some(_) => match decode_at(text, i) {
            Some((c, len)) if is_word_char(c) => len,
            _ => 0,
        },
    }
}

/// Byte length of the name-label character ending just before `i`, 0 if there is none.
#[inline]
pub(super) fn label_char_before(text: &[u8], i: usize) -> usize {
    match i.checked_sub(1).map(|j| text[j]) {
        None => 0,
        Some(b) if b < 0x80 => usize::from(LABEL_BITS[usize::from(b)] != 0),
        Some(_) => match decode_before(text, i) {
            Some((c, len)) if is_word_char(c) => len,
            _ => 0,
        },
    }
}

/// Length of a label separator at `i`: 1 for `.`, 3 for `[.]` or `(.)` when defanged, else 0.
#[inline]
pub(super) fn sep_len(text: &[u8], i: usize, defang: bool) -> usize {
    match text.get(i) {
        Some(b'.') => 1,
        Some(b'[' | b'(') if defang => match text.get(i..i + 3) {
            Some(b"[.]" | b"(.)") => 3,
            _ => 0,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_decoding_matches_std() {
        let s = "aü€𝄞z";
        let b = s.as_bytes();
        for (i, c) in s.char_indices() {
            let len = c.len_utf8();
            if len > 1 {
                assert_eq!(decode_at(b, i), Some((c, len)));
                assert_eq!(decode_before(b, i + len), Some((c, len)));
            } else {
                assert_eq!(decode_at(b, i), None);
            }
        }
        for bad in [
            &b"\xc0\x80"[..],
            b"\xed\xa0\x80",
            b"\xf5\x80\x80\x80",
            b"\xe2\x82",
            b"\x80",
        ] {
            assert_eq!(decode_at(bad, 0), None, "{bad:?}");
            assert_eq!(decode_before(bad, bad.len()), None, "{bad:?}");
        }
        assert_eq!(decode_before(b"", 0), None);
    }
}
