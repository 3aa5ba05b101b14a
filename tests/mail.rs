//! Mail messages read from SMTP streams of real captures (committed under testdata/): the
//! addresses of their headers, checked value for value against what Zeek (smtp.log), Arkime
//! (`.test` email fields) and suricata-verify (`email.from`, `email.to`) report for the same
//! captures; and the stream parser's results do not depend on how the stream is cut.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use memmap2::Mmap;
use trawl::testing::app::stream::{Found, StreamParser};
use trawl::testing::reassembly;
use trawl::{Field, Hit, HitSink, ObservedIn, SetVersion};

fn testdata(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
}

/// One endpoint of a connection.
type End = (IpAddr, u16);

/// The client-to-server byte stream of every TCP connection of a classic pcap, keyed by the
/// client's port (the client is the side that sent the SYN).
fn client_streams(path: &Path) -> BTreeMap<u16, (End, Vec<u8>)> {
    use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
    use pcap_parser::data::{PacketData, get_packetdata};
    let bytes = std::fs::read(path).unwrap();
    let cap = pcap_parser::PcapCapture::from_file(&bytes).unwrap();
    let limits = reassembly::Limits::default();
    let mut dirs: BTreeMap<(End, End), (reassembly::Stream, Vec<u8>)> = BTreeMap::new();
    let mut clients = BTreeSet::new();
    for b in &cap.blocks {
        let pkt = match get_packetdata(b.data, cap.header.network, b.caplen as usize) {
            Some(PacketData::L2(d)) => match LaxSlicedPacket::from_ethernet(d) {
                Ok(p) => p,
                Err(_) => continue,
            },
            // BSD loopback, raw IP.
            Some(PacketData::L3(et, d)) => LaxSlicedPacket::from_ether_type(EtherType(et), d),
            _ => continue,
        };
        let (src, dst) = match &pkt.net {
            Some(LaxNetSlice::Ipv4(s)) => (
                IpAddr::V4(s.header().source_addr()),
                IpAddr::V4(s.header().destination_addr()),
            ),
            Some(LaxNetSlice::Ipv6(s)) => (
                IpAddr::V6(s.header().source_addr()),
                IpAddr::V6(s.header().destination_addr()),
            ),
            _ => continue,
        };
        let Some(TransportSlice::Tcp(t)) = &pkt.transport else {
            continue;
        };
        let key = ((src, t.source_port()), (dst, t.destination_port()));
        if t.syn() && !t.ack() {
            clients.insert(key);
        }
        let (stream, bytes) = dirs.entry(key).or_default();
        stream.segment(t.sequence_number(), t.syn(), t.payload(), &limits);
        bytes.extend_from_slice(stream.data());
        let n = stream.data().len();
        stream.consume(n);
    }
    dirs.into_iter()
        .filter(|(k, _)| clients.contains(k))
        .map(|((client, server), (_, bytes))| (client.1, (server, bytes)))
        .collect()
}

/// What the stream parser reports for a client stream to an SMTP port: the addresses by field
/// (lowercased, as the matcher compares them), the files (parts) in order, and the error
/// reasons.
#[derive(Debug, Default, PartialEq)]
struct Mail {
    addresses: BTreeMap<Field, BTreeSet<String>>,
    files: Vec<File>,
    errors: Vec<String>,
}

/// A part reported as a file: name, size, MD5 and SHA-256 in hex.
#[derive(Debug, PartialEq)]
struct File {
    name: String,
    size: u64,
    md5: String,
    sha256: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn read(stream: &[u8], chunk: usize) -> Mail {
    let mut p = StreamParser::new(true, 25);
    let mut m = Mail::default();
    let mut on = |f: Found<'_>| match f {
        Found::Mail(field, a) => {
            m.addresses
                .entry(field)
                .or_default()
                .insert(String::from_utf8_lossy(a).to_ascii_lowercase());
        }
        Found::File {
            field,
            name,
            digests,
        } => {
            assert_eq!(field, Field::SmtpAttachment);
            m.files.push(File {
                name: String::from_utf8_lossy(name).into_owned(),
                size: digests.size,
                md5: hex(&digests.md5),
                sha256: hex(&digests.sha256),
            });
        }
        Found::Error(e) => m.errors.push(e.to_string()),
        _ => {}
    };
    // Fed as the reassembler does: the unconsumed rest plus the next chunk.
    let mut held = Vec::new();
    for c in stream.chunks(chunk.max(1)) {
        held.extend_from_slice(c);
        let used = p.parse(&held, &mut on);
        held.drain(..used);
    }
    p.end(true, &mut on);
    m
}

/// `read`, checked to give the same whole or cut into small chunks.
fn read_checked(stream: &[u8]) -> Mail {
    let whole = read(stream, stream.len());
    for chunk in [1, 7, 100] {
        assert_eq!(read(stream, chunk), whole, "chunks of {chunk}");
    }
    whole
}

/// The part of a stream after `STARTTLS`: smtp-decrypted holds the session after it in clear
/// text (decrypted by whoever made the capture).
fn after_starttls(s: &[u8]) -> &[u8] {
    s.windows(10)
        .position(|w| w == b"STARTTLS\r\n")
        .map_or(s, |at| &s[at + 10..])
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

fn field(m: &Mail, f: Field) -> BTreeSet<String> {
    m.addresses.get(&f).cloned().unwrap_or_default()
}

/// The addr-spec of a Zeek smtp.log value as Zeek prints it (`"Name" <a@b>` or `a@b`).
fn zeek_address(v: &str) -> String {
    match (v.rfind('<'), v.rfind('>')) {
        (Some(a), Some(b)) if a < b => v[a + 1..b].to_string(),
        _ => v.trim().to_string(),
    }
}

/// Zeek's smtp.log for smtp.pcap: `from`, `to`, `cc`, `reply_to` of each message.
#[test]
fn header_addresses_equal_zeek() {
    let log = std::fs::read_to_string(testdata("logs/zeek/smtp.log")).unwrap();
    let fields: Vec<&str> = log
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let streams = client_streams(&testdata("pcaps/zeek/smtp.pcap"));
    let mut rows = 0;
    for line in log.lines().filter(|l| !l.starts_with('#')) {
        let row: BTreeMap<&str, &str> = fields.iter().copied().zip(line.split('\t')).collect();
        let port: u16 = row["id.orig_p"].parse().unwrap();
        let seen = read_checked(&streams[&port].1);
        for (column, f) in [
            ("from", Field::MailFrom),
            ("to", Field::MailTo),
            ("cc", Field::MailCc),
            ("reply_to", Field::MailReplyTo),
        ] {
            let want: BTreeSet<String> = match row[column] {
                "-" | "(empty)" => BTreeSet::new(),
                // `from` and `reply_to` are one string each, `to` and `cc` sets.
                v if column == "from" || column == "reply_to" => {
                    BTreeSet::from([zeek_address(v).to_ascii_lowercase()])
                }
                v => v
                    .split(',')
                    .map(|a| zeek_address(a).to_ascii_lowercase())
                    .collect(),
            };
            assert_eq!(field(&seen, f), want, "port {port} {column}");
        }
        assert!(seen.errors.is_empty(), "{:?}", seen.errors);
        rows += 1;
    }
    assert_eq!(rows, 2);
}

/// smtp-multi-addr.pcap (Zeek's trace for RFC 5322 address forms; no baseline staged): the
/// addresses Python's `email.utils.getaddresses` gives for its `To` and `From`.
#[test]
fn header_address_forms_of_zeek_multi_addr() {
    let streams = client_streams(&testdata("pcaps/zeek/smtp-multi-addr.pcap"));
    assert_eq!(streams.len(), 1);
    let seen = read_checked(&streams.values().next().unwrap().1);
    assert_eq!(
        field(&seen, Field::MailTo),
        set(&[
            "jan.grashoefer@gmail.com",
            "addr-spec@example.com",
            "angle-addr@example.com",
            "name-addr@example.com",
            "jan.grashofer@cern.ch",
        ])
    );
    assert_eq!(
        field(&seen, Field::MailFrom),
        set(&["jan.grashoefer@cern.ch"])
    );
}

/// Arkime's `email.src` and `email.dst` of each session: the envelope and header senders and
/// recipients. Together, what trawl reports as envelope and header addresses equals them.
#[test]
fn header_addresses_equal_arkime() {
    let captures = [
        "smtp-zip",
        "smtp-subject-utf8-q",
        "smtp-originating",
        "smtp-data-250",
        "smtp-decrypted",
        "wireshark-bdat",
    ];
    let mut compared = 0;
    for name in captures {
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(testdata(&format!("pcaps/arkime/{name}.test.json"))).unwrap(),
        )
        .unwrap();
        let streams = client_streams(&testdata(&format!("pcaps/arkime/{name}.pcap")));
        // Arkime's sessions by client port.
        for sess in json["sessions3"].as_array().unwrap() {
            let b = &sess["body"];
            let Some(email) = b.get("email") else {
                continue;
            };
            let port = b["source"]["port"].as_u64().unwrap() as u16;
            let list = |k: &str| -> BTreeSet<String> {
                email[k]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    // The null sender `<>`, which trawl does not report.
                    .filter(|v| !v.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            };
            let (src, dst) = (list("src"), list("dst"));
            let seen = read_checked(after_starttls(&streams[&port].1));
            let senders: BTreeSet<String> = [Field::SmtpMailFrom, Field::MailFrom]
                .iter()
                .flat_map(|&f| field(&seen, f))
                .collect();
            let recipients: BTreeSet<String> = [Field::SmtpRcptTo, Field::MailTo, Field::MailCc]
                .iter()
                .flat_map(|&f| field(&seen, f))
                .collect();
            assert_eq!(senders, src, "{name} port {port}");
            assert_eq!(recipients, dst, "{name} port {port}");
            assert!(!field(&seen, Field::MailFrom).is_empty(), "{name}");
            compared += 1;
        }
    }
    assert_eq!(compared, 9);
    // wireshark-bdat: the message comes in two BDAT chunks; its `From` is only in the header
    // (the envelope sender is null).
    let streams = client_streams(&testdata("pcaps/arkime/wireshark-bdat.pcap"));
    let seen = read_checked(&streams.values().next().unwrap().1);
    assert_eq!(field(&seen, Field::MailFrom), set(&["sender@dom"]));
    assert!(field(&seen, Field::SmtpMailFrom).is_empty());
}

/// suricata-verify detect-email-from / detect-email-to: `email.from` is `toto
/// <toto@gmail.com>`, `email.to[0]` is `172.16.92.2@linuxbox`.
#[test]
fn header_addresses_equal_suricata() {
    let streams = client_streams(&testdata(
        "pcaps/suricata-verify/mime-dec-parse-full-msg-test02.pcap",
    ));
    let seen = read_checked(&streams.values().next().unwrap().1);
    assert_eq!(field(&seen, Field::MailFrom), set(&["toto@gmail.com"]));
    assert_eq!(field(&seen, Field::MailTo), set(&["172.16.92.2@linuxbox"]));
}

/// (field, observed value) of every hit of a scan.
#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Vec<(Field, String)>>>);

impl HitSink<Mmap> for Collect {
    fn write(&mut self, h: &Hit<Arc<SetVersion<Mmap>>>) -> std::io::Result<()> {
        let ObservedIn::Packet(field) = h.field else {
            panic!("a packet hit observed outside a packet");
        };
        self.0.lock().unwrap().push((field, h.observed.clone()));
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Through the engine (`scan pcap`): addresses only the header carries hit, each in its field.
#[test]
fn header_addresses_hit_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Collect::default();
    common::scan_capture(
        dir.path(),
        "Angle-Addr@example.com\nname-addr@example.com\njan.grashoefer@cern.ch\n",
        &testdata("pcaps/zeek/smtp-multi-addr.pcap"),
        1,
        sink.clone(),
    );
    let mut hits = sink.0.lock().unwrap().clone();
    hits.sort();
    assert_eq!(
        hits,
        [
            (Field::MailFrom, "jan.grashoefer@cern.ch".to_string()),
            (Field::MailTo, "angle-addr@example.com".to_string()),
            (Field::MailTo, "name-addr@example.com".to_string()),
        ]
    );
}

/// Zeek's files.log for smtp.pcap (the `attachment` test): one row per MIME entity with its
/// size and file name, in order. trawl reports the same parts; their MD5s are those of an
/// independent decode (Python's `email` package, plus the CRLF Zeek's quoted-printable
/// decoder ends a multipart's last line with, which the sizes confirm).
#[test]
fn parts_equal_zeek_files_log() {
    let log = std::fs::read_to_string(testdata("logs/zeek/smtp-attachment-files.log")).unwrap();
    let fields: Vec<&str> = log
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let mut want: BTreeMap<u16, Vec<(String, u64)>> = BTreeMap::new();
    for line in log.lines().filter(|l| !l.starts_with('#')) {
        let row: BTreeMap<&str, &str> = fields.iter().copied().zip(line.split('\t')).collect();
        let name = match row["filename"] {
            "-" => String::new(),
            n => n.to_string(),
        };
        want.entry(row["id.orig_p"].parse().unwrap())
            .or_default()
            .push((name, row["seen_bytes"].parse().unwrap()));
    }
    let streams = client_streams(&testdata("pcaps/zeek/smtp.pcap"));
    let md5s = [
        (1470, "58aff3af22807bc5f4b6357c0038256c"),
        (1470, "afd68ae5c63caf6050dc5440bd72c5dd"),
        (1470, "30a60389acc290515651391154ba1b33"),
        (49648, "f6bf92b103a9d008e070c53bdf9a640c"),
    ];
    for (port, rows) in &want {
        let seen = read_checked(&streams[port].1);
        let got: Vec<(String, u64)> = seen
            .files
            .iter()
            .map(|f| (f.name.clone(), f.size))
            .collect();
        assert_eq!(&got, rows, "port {port}");
        let got: Vec<&str> = seen.files.iter().map(|f| f.md5.as_str()).collect();
        let md5: Vec<&str> = md5s.iter().filter(|m| m.0 == *port).map(|m| m.1).collect();
        assert_eq!(got, md5, "port {port}");
    }
    assert_eq!(want.values().map(Vec::len).sum::<usize>(), 4);
}

/// Arkime's `email.md5`, `email.sha256` (and `filename`) of each session are among the parts
/// trawl hashes, with both hashes equal.
#[test]
fn attachment_hashes_equal_arkime() {
    let mut compared = 0;
    for name in ["smtp-zip", "smtp-subject-utf8-q", "smtp-decrypted"] {
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(testdata(&format!("pcaps/arkime/{name}.test.json"))).unwrap(),
        )
        .unwrap();
        let streams = client_streams(&testdata(&format!("pcaps/arkime/{name}.pcap")));
        for sess in json["sessions3"].as_array().unwrap() {
            let b = &sess["body"];
            let strs = |k: &str| -> Vec<String> {
                b["email"][k]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            };
            let (md5, sha256, names) = (strs("md5"), strs("sha256"), strs("filename"));
            if md5.is_empty() {
                continue;
            }
            let port = b["source"]["port"].as_u64().unwrap() as u16;
            let seen = read_checked(after_starttls(&streams[&port].1));
            assert_eq!(md5.len(), sha256.len());
            for (m, s) in md5.iter().zip(&sha256) {
                let f = seen.files.iter().find(|f| &f.md5 == m);
                let f = f.unwrap_or_else(|| panic!("{name}: md5 {m} not among {:?}", seen.files));
                assert_eq!(&f.sha256, s, "{name}");
                assert!(
                    f.name.is_empty() || names.contains(&f.name),
                    "{name}: {}",
                    f.name
                );
                compared += 1;
            }
            for n in &names {
                assert!(seen.files.iter().any(|f| &f.name == n), "{name}: {n}");
            }
        }
    }
    assert_eq!(compared, 4);
}

/// suricata-verify smtp-attachment-md5: Suricata alerts on the attachment whose MD5 its list
/// holds (`filemd5: target.md5`).
#[test]
fn attachment_hash_equals_suricata() {
    let target = std::fs::read_to_string(testdata(
        "pcaps/suricata-verify/smtp-attachment-md5.target.md5",
    ))
    .unwrap();
    let streams = client_streams(&testdata("pcaps/suricata-verify/smtp-attachment-md5.pcap"));
    let seen = read_checked(&streams.values().next().unwrap().1);
    let f = seen.files.iter().find(|f| f.md5 == target.trim());
    assert_eq!(
        f.map(|f| (f.name.as_str(), f.size)),
        Some(("EICAR-Test-File", 68))
    );
}

/// A message cut by the connection's end (a reset): its open part is counted truncated, not
/// reported; a new DATA while BDAT chunks are open cuts the earlier message the same way.
#[test]
fn cut_messages_are_counted_not_reported() {
    let text = b"DATA\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nwhole\r\n--b\r\n\r\nhalf";
    let mut p = StreamParser::new(true, 25);
    let (mut files, mut errors) = (0, Vec::new());
    let mut on = |f: Found<'_>| match f {
        Found::File { .. } => files += 1,
        Found::Error(e) => errors.push(e),
        _ => {}
    };
    let used = p.parse(text, &mut on);
    assert!(used <= text.len());
    p.end(false, &mut on);
    assert_eq!(
        (files, errors),
        (1, vec![trawl::testing::app::file::E_FILE_TRUNCATED])
    );
    let text = b"BDAT 20\r\nSubject: x\r\n\r\nabcdefDATA\r\n\r\nhello\r\n.\r\n";
    let mut p = StreamParser::new(true, 25);
    let (mut files, mut errors) = (0, Vec::new());
    let mut on = |f: Found<'_>| match f {
        Found::File { .. } => files += 1,
        Found::Error(e) => errors.push(e),
        _ => {}
    };
    assert_eq!(p.parse(text, &mut on), text.len());
    assert_eq!(
        (files, errors),
        (1, vec![trawl::testing::app::file::E_FILE_TRUNCATED])
    );
}
