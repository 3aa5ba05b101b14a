//! Byte classes, by table: what a byte can be part of (a hex digit, an email local part, the end
//! of a URL, a name label).

// `CLASS` bits.
pub(super) const HEX: u8 = 1 << 0;
/// Characters of an email local part (see the module docs).
pub(super) const LOCAL: u8 = 1 << 1;
/// Bytes that end a URL.
pub(super) const URL_STOP: u8 = 1 << 2;
/// Bytes that end a URL's authority: `/`, `?`, `#`.
pub(super) const AUTH_END: u8 = 1 << 3;

static CLASS: [u8; 256] = classes();

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'.' | b'_' | b'+' | b'-' | b'!' | b'#' | b'$' | b'&' | b'*' | b'^' | b'~'
            )
        {
            c |= LOCAL;
        }
        if b <= b' ' || matches!(b, 0x7f | b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\') {
            c |= URL_STOP;
        }
        if matches!(b, b'/' | b'?' | b'#') {
            c |= AUTH_END;
        }
        t[i] = c;
        i += 1;
    }
    t
}

// `LABEL_BITS`: what an ASCII byte says about the name label it is in (0: not a label byte;
// bytes >= 0x80 are 0 too, and decoded where met).
const L_CHAR: u8 = 1;
pub(super) const L_NOT_DIGIT: u8 = 2;
pub(super) const L_NOT_ALPHA: u8 = 4;
pub(super) const L_JOIN: u8 = 8;

pub(super) static LABEL_BITS: [u8; 256] = label_bits();

const fn label_bits() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            L_CHAR | L_NOT_ALPHA
        } else if b.is_ascii_alphabetic() {
            L_CHAR | L_NOT_DIGIT
        } else if b == b'-' || b == b'_' {
            L_CHAR | L_NOT_DIGIT | L_NOT_ALPHA | L_JOIN
        } else {
            0
        };
        i += 1;
    }
    t
}

#[inline(always)]
pub(super) fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}
