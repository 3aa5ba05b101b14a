//! One mail message carried by SMTP (`DATA` text or `BDAT` chunks), read as it streams: the
//! addresses of its header and the parts of its body.
//!
//! * [`Message::data`] reads `DATA` text: dot-stuffing undone (RFC 5321 §4.5.2), up to the
//!   line `.`; [`Message::chunk`] reads `BDAT` bytes as they are (RFC 3030). Both hand the
//!   message text to the MIME reader ([`super::mime`]).
//! * The message's own header (not the headers of its parts, nor of a `message/rfc822` part:
//!   those describe another message, and the ECS `email.*` fields describe this one): the
//!   addr-specs of `From`, `To`, `Cc`, `Bcc`, `Reply-To`, `Sender` and `Return-Path` (the rules
//!   of [`address_list`]) are reported as [`Found::Mail`], each field with its own [`Field`].
//! * Every leaf part of the body (the body itself when it is not multipart), decoded as
//!   [`super::mime`] says, is hashed as it streams, the way Zeek's `files.log` hashes every
//!   MIME entity (text parts too; an empty part is no file), and reported when it ends as
//!   [`Found::File`] with [`Field::SmtpAttachment`] and its file name (empty when it has
//!   none). A part cut short — a gap, `RSET`, a new `DATA`, the connection's end — is
//!   [`E_FILE_TRUNCATED`], not reported.

use super::address_list;
use super::file::{E_FILE_TRUNCATED, FileHasher, FileLimits};
use super::mime::{self, Event};
use super::stream::Found;
use crate::indicators::field::Field;

/// The header fields whose addresses are reported, and the field each is reported as.
const ADDRESS_FIELDS: [(&[u8], Field); 7] = [
    (b"from", Field::MailFrom),
    (b"to", Field::MailTo),
    (b"cc", Field::MailCc),
    (b"bcc", Field::MailBcc),
    (b"reply-to", Field::MailReplyTo),
    (b"sender", Field::MailSender),
    (b"return-path", Field::MailReturnPath),
];

/// One message being read (see the module docs).
#[derive(Debug)]
pub struct Message {
    mime: mime::Parser,
    /// DATA: the next byte starts a line (a `.` there is stuffing or the end).
    mid_line: bool,
    /// Room for one address taken apart from its header.
    scratch: Vec<u8>,
    /// The part being hashed.
    part: Option<Part>,
    /// How parts are hashed; `None`: not at all (the set holds no hash indicator).
    limits: Option<FileLimits>,
}

/// A leaf part being hashed, and its file name.
#[derive(Debug)]
struct Part {
    hasher: FileHasher,
    name: Vec<u8>,
}

/// What a message's events need besides the reader.
struct Context<'a> {
    scratch: &'a mut Vec<u8>,
    part: &'a mut Option<Part>,
    limits: Option<FileLimits>,
}

impl Message {
    /// A message about to start, its parts hashed within `limits` (`None`: not hashed).
    pub fn new(limits: Option<FileLimits>) -> Box<Message> {
        Box::new(Message {
            mime: mime::Parser::new(),
            mid_line: false,
            scratch: Vec::new(),
            part: None,
            limits,
        })
    }

    /// Heap bytes held: the message, the reader's buffers and the hasher's state.
    pub fn held(&self) -> usize {
        size_of::<Message>()
            + self.mime.held()
            + self.scratch.capacity()
            + self.part.as_ref().map_or(0, |p| p.name.capacity())
    }

    /// Reads `DATA` text from `p`: `Some((consumed, ended))`, `ended` once the line `.` was
    /// read (and consumed); `None` to wait for more (`p` is `.` or `.\r` at a line start).
    pub fn data(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) -> Option<(usize, bool)> {
        let mut at = 0;
        while at < p.len() {
            let rest = &p[at..];
            if !self.mid_line && rest[0] == b'.' {
                match rest.get(1..) {
                    Some([b'\n', ..]) => return Some((at + 2, true)),
                    Some([b'\r', b'\n', ..]) => return Some((at + 3, true)),
                    Some([] | [b'\r']) => return (at > 0).then_some((at, false)),
                    // A stuffed dot: the line starts after it.
                    _ => at += 1,
                }
                self.mid_line = true;
                continue;
            }
            // Up to the next line that starts with a dot, or to the end.
            let (run, next_line) = match memchr::memmem::find(rest, b"\n.") {
                Some(i) => (&rest[..=i], true),
                None => (rest, rest.ends_with(b"\n")),
            };
            self.feed(run, out);
            self.mid_line = !next_line;
            at += run.len();
        }
        Some((at, false))
    }

    /// Reads `BDAT` bytes.
    pub fn chunk(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) {
        self.feed(p, out);
    }

    /// The message is complete.
    pub fn end(&mut self, out: &mut dyn FnMut(Found<'_>)) {
        let (mime, mut cx) = self.split();
        mime.finish(&mut |e| Self::event(e, &mut cx, out));
    }

    /// The message was cut (a gap, the connection's end, a new transaction): nothing more of
    /// it is read.
    pub fn cut(&mut self, out: &mut dyn FnMut(Found<'_>)) {
        if self.part.take().is_some() {
            out(Found::Error(E_FILE_TRUNCATED));
        }
        self.mime = mime::Parser::new();
    }

    fn split(&mut self) -> (&mut mime::Parser, Context<'_>) {
        let Message {
            mime,
            scratch,
            part,
            limits,
            ..
        } = self;
        let cx = Context {
            scratch,
            part,
            limits: *limits,
        };
        (mime, cx)
    }

    fn feed(&mut self, p: &[u8], out: &mut dyn FnMut(Found<'_>)) {
        let (mime, mut cx) = self.split();
        mime.feed(p, &mut |e| Self::event(e, &mut cx, out));
    }

    fn event(e: Event<'_>, cx: &mut Context<'_>, out: &mut dyn FnMut(Found<'_>)) {
        match e {
            Event::Header {
                depth: 0,
                name,
                value,
            } => {
                let Some(&(_, field)) = ADDRESS_FIELDS
                    .iter()
                    .find(|(n, _)| name.eq_ignore_ascii_case(n))
                else {
                    return;
                };
                address_list::addresses(value, cx.scratch, &mut |a| match a {
                    Ok(a) => out(Found::Mail(field, a)),
                    Err(why) => out(Found::Error(why)),
                });
            }
            Event::Header { .. } => {}
            Event::PartStart { name } => {
                *cx.part = cx.limits.map(|limits| Part {
                    hasher: FileHasher::new(limits),
                    name: name.unwrap_or_default().to_vec(),
                })
            }
            Event::PartData(d) => {
                if let Some(p) = cx.part.as_mut() {
                    p.hasher.update(d);
                }
            }
            Event::PartEnd => {
                let Some(Part { hasher, name }) = cx.part.take() else {
                    return;
                };
                // Zeek makes no file of an entity without content.
                if hasher.size() == 0 {
                    return;
                }
                match hasher.finish() {
                    Ok(digests) => out(Found::File {
                        field: Field::SmtpAttachment,
                        name: &name,
                        digests: &digests,
                    }),
                    Err(why) => out(Found::Error(why)),
                }
            }
            Event::Error(why) => out(Found::Error(why)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What reading `text` as DATA reports, as `field address` or `E reason`.
    fn data(text: &[u8]) -> (Vec<String>, Option<usize>) {
        let mut m = Message::new(Some(FileLimits::default()));
        let mut seen = Vec::new();
        let mut on = |f: Found<'_>| match f {
            Found::Mail(field, a) => {
                seen.push(format!("{} {}", field.ecs(), String::from_utf8_lossy(a)))
            }
            Found::Error(e) => seen.push(format!("E {e}")),
            _ => {}
        };
        let end = m
            .data(text, &mut on)
            .and_then(|(n, ended)| ended.then_some(n));
        m.end(&mut on);
        (seen, end)
    }

    #[test]
    fn every_address_field_of_the_message_header_only() {
        let text =
            b"Return-Path: <bounce@x.example>\r\nFrom: a@x.example\r\nSender: s@x.example\r\n\
            To: t@x.example\r\nCc: c@x.example\r\nBcc: b@x.example\r\nReply-To: r@x.example\r\n\
            Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: message/rfc822\r\n\r\nFrom: forwarded@x.example\r\n\r\nhi\r\n\
            --b--\r\n.\r\nMAIL FROM:<after@x.example>\r\n";
        let (seen, end) = data(text);
        assert_eq!(
            seen,
            [
                "trawl.email.return_path.address bounce@x.example",
                "email.from.address a@x.example",
                "email.sender.address s@x.example",
                "email.to.address t@x.example",
                "email.cc.address c@x.example",
                "email.bcc.address b@x.example",
                "email.reply_to.address r@x.example",
            ]
        );
        assert_eq!(
            end,
            Some(text.len() - b"MAIL FROM:<after@x.example>\r\n".len())
        );
    }

    #[test]
    fn dot_stuffing_is_undone_and_the_end_waits_for_its_line() {
        // `..` starts a text line with a dot; `.x` is read as a stuffed line too (lenient).
        let text = b"To: a@x.example\r\n\r\n..\r\n.x\r\n.\r\nRSET\r\n";
        let (seen, end) = data(text);
        assert_eq!(seen, ["email.to.address a@x.example"]);
        assert_eq!(end, Some(text.len() - 6));
        let mut m = Message::new(Some(FileLimits::default()));
        assert_eq!(m.data(b".", &mut |_| {}), None);
        assert_eq!(m.data(b".\r", &mut |_| {}), None);
        assert_eq!(m.data(b"x\r\n.\n", &mut |_| {}), Some((5, true)));
    }
}
