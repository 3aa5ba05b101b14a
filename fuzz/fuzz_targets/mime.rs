//! The MIME reader (`app::mime`) and the SMTP message reader on arbitrary message text: nothing
//! panics, every part that starts ends, and feeding the text in chunks (the first byte gives
//! their size) reports the same header fields, parts and errors as feeding it whole. The same
//! text sent after `DATA` and in `BDAT` chunks reaches the stream parser without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl::testing::app::mime::{Event, Parser};
use trawl::testing::app::stream::StreamParser;

/// Header fields, parts (name and bytes) and errors, in order.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    items: Vec<String>,
    part: Option<Vec<u8>>,
}

fn read(text: &[u8], chunk: usize) -> Seen {
    let mut seen = Seen::default();
    let mut p = Parser::new();
    let mut on = |e: Event<'_>| match e {
        Event::Header { depth, name, value } => seen.items.push(format!("H{depth} {name:?} {value:?}")),
        Event::PartStart { name } => {
            assert!(seen.part.is_none(), "a part starts inside a part");
            seen.part = Some(Vec::new());
            seen.items.push(format!("P {name:?}"));
        }
        Event::PartData(d) => seen.part.as_mut().expect("data outside a part").extend_from_slice(d),
        Event::PartEnd => {
            let bytes = seen.part.take().expect("an end without a start");
            seen.items.push(format!("E {bytes:?}"));
        }
        Event::Error(why) => seen.items.push(format!("X {why}")),
    };
    for c in text.chunks(chunk.max(1)) {
        p.feed(c, &mut on);
    }
    p.finish(&mut on);
    assert!(seen.part.is_none(), "a part left open after finish");
    seen
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, text)) = data.split_first() else {
        return;
    };
    assert_eq!(read(text, usize::from(chunk)), read(text, text.len()));
    for head in [&b"DATA\r\n"[..], format!("BDAT {} LAST\r\n", text.len()).as_bytes()] {
        let mut s = head.to_vec();
        s.extend_from_slice(text);
        let mut p = StreamParser::new(true, 25);
        let mut n = 0usize;
        let used = p.parse(&s, &mut |_| n += 1);
        assert!(used <= s.len());
        p.end(true, &mut |_| n += 1);
    }
});
