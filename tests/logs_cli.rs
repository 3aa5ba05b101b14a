//! `trawl scan logs` end to end, on the fixtures of `testdata/logs/`: exit codes, `-c`,
//! `--only-matching`, `--enrich`, `--format` and `--field`, stdin answered line by line while
//! the pipe stays open, and a reader that goes away after the first line (`| head -1`).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a child may take before the test fails instead of hanging.
use common::child::{line_reader, wait};

const PATIENCE: Duration = Duration::from_secs(10);

fn logs(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(p)
        .display()
        .to_string()
}

fn trawl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .expect("run trawl")
}

/// `testdata/logs/indicators.txt` compiled into `dir`.
fn compiled(dir: &Path) -> String {
    let set = dir.join("logs.tset");
    let out = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        &logs("indicators.txt"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    set.display().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The `(line, field, atomic)` of each hit document.
fn hits(out: &str) -> Vec<(u64, String, String)> {
    out.lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let m = &d["threat"]["enrichments"][0]["matched"];
            (
                d["trawl"]["line"].as_u64().unwrap(),
                m["field"].as_str().unwrap().to_string(),
                m["atomic"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let clean = dir.path().join("clean.log");
    let text = "Mar 12 10:00:00 host cron[1]: nothing to see 192.0.2.1\n";
    std::fs::write(&clean, text).unwrap();
    let clean = clean.to_str().unwrap();

    let o = trawl(&["scan", "logs", "-s", &set, "-q", &logs("nginx/access.log")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "-q: {}", stderr(&o));
    let o = trawl(&["scan", "logs", "-s", &set, clean, &logs("tricky/empty.log")]);
    assert_eq!(o.status.code(), Some(1), "no hit: {}", stderr(&o));
    assert!(o.stdout.is_empty());
    // Statistics on stderr: per file and in total.
    let err = stderr(&o);
    let n = text.len();
    let file = format!("{clean}: 1 lines, {n} bytes, 0 hits on 0 lines (plain)\n");
    assert!(err.contains(&file), "{err}");
    let empty = format!(
        "{}: 0 lines, 0 bytes, 0 hits on 0 lines\n",
        logs("tricky/empty.log")
    );
    assert!(err.contains(&empty), "{err}");
    let total = format!("total: 1 lines, {n} bytes, 0 hits on 0 lines\n");
    assert!(err.contains(&total), "{err}");
    // One input with a hit among several is enough.
    let o = trawl(&["scan", "logs", "-s", &set, clean, &logs("syslog/messages")]);
    assert_eq!(o.status.code(), Some(0));

    // Errors: one line naming the cause, exit 2.
    let missing = dir.path().join("missing.tset");
    let o = trawl(&["scan", "logs", "-s", missing.to_str().unwrap(), clean]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.tset"), "{}", stderr(&o));
    let nothing = dir.path().join("no-such.log");
    let o = trawl(&["scan", "logs", "-s", &set, nothing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("trawl: ") && stderr(&o).contains("no-such.log"));
    let o = trawl(&["scan", "logs", "-s", &set, dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "a directory: {}", stderr(&o));
    let o = trawl(&["scan", "logs", "-s", &set, "--format", "yaml", clean]);
    assert_eq!(o.status.code(), Some(2), "a bad argument");
}

#[test]
fn count_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let files = [
        logs("nginx/access.log"),
        logs("syslog/messages"),
        logs("tricky/empty.log"),
        logs("zeek/smtp.log"),
    ];
    let mut args = vec!["scan", "logs", "-s", &set, "-c", "-q"];
    args.extend(files.iter().map(String::as_str));
    let o = trawl(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let want: String = files
        .iter()
        .zip([8, 11, 0, 6])
        .map(|(f, n)| format!("{f}:{n}\n"))
        .collect();
    assert_eq!(stdout(&o), want);
}

#[test]
fn only_matching_prints_the_raw_lines() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let nginx = std::fs::read_to_string(logs("nginx/access.log")).unwrap();
    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        &set,
        "--only-matching",
        "-q",
        &logs("nginx/access.log"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let want: String = nginx.lines().take(5).map(|l| format!("{l}\n")).collect();
    assert_eq!(stdout(&o), want);

    // Bytes as they are (invalid UTF-8, NUL, the `\r` of a CRLF line end, as grep prints
    // them), lines in order over several files.
    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        &set,
        "--only-matching",
        "-q",
        "-j",
        "3",
        &logs("tricky/invalid-utf8.log"),
        &logs("tricky/crlf.log"),
        &logs("tricky/no-final-newline.log"),
    ]);
    let mut want: Vec<u8> = Vec::new();
    let raw = std::fs::read(logs("tricky/invalid-utf8.log")).unwrap();
    for (i, l) in raw.split(|&b| b == b'\n').enumerate() {
        if [0, 1, 2, 4].contains(&i) {
            want.extend_from_slice(l);
            want.push(b'\n');
        }
    }
    want.extend_from_slice(
        b"Mar 12 10:40:00 gw sshd[3001]: Failed password for root from 198.51.100.23 port 40000 ssh2\r\n\
          Mar 12 10:40:01 gw app[3002]: callback to c2.badsite.test\r\n\
          first line from 203.0.113.66\n\
          last line without a newline: mailer@phish.example\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(o.stdout, want);
}

#[test]
fn enrich_format_and_field_options() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let ecs = logs("ecs/filebeat.json");
    let o = trawl(&["scan", "logs", "-s", &set, "--enrich", "-q", &ecs]);
    assert_eq!(o.status.code(), Some(0));
    let docs: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let per_line: Vec<usize> = docs
        .iter()
        .map(|d| d["threat"]["enrichments"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(per_line, [2, 2, 2, 1, 1, 3, 1, 3]);
    assert_eq!(docs[7]["threat"]["framework"], "MITRE ATT&CK");
    assert_eq!(
        docs[2]["url.domain"], "C2.BadSite.Test",
        "dotted keys kept as they are"
    );

    // The same file read as plain text: every hit is in `message`, spans are those of the raw
    // line, and the escaped `b\u00fccher.example` is no longer that name.
    let o = trawl(&["scan", "logs", "-s", &set, "--format", "plain", "-q", &ecs]);
    assert_eq!(o.status.code(), Some(0));
    let got = hits(&stdout(&o));
    assert_eq!(got.len(), 14, "{got:?}");
    assert!(got.iter().all(|(_, f, _)| f == "message"), "{got:?}");
    assert!(got.contains(&(6, "message".into(), "203.0.113.66".into())));
    assert!(!got.iter().any(|(l, _, _)| *l == 7));

    // Text read as JSON: no line is a record, each is scanned as text (the same hits as
    // plain), counted with where the first one is.
    let syslog = logs("syslog/messages");
    let as_json = trawl(&["scan", "logs", "-s", &set, "--format", "json", &syslog]);
    let as_text = trawl(&["scan", "logs", "-s", &set, "--format", "plain", &syslog]);
    assert_eq!(as_json.status.code(), Some(0));
    assert_eq!(hits(&stdout(&as_json)), hits(&stdout(&as_text)));
    let err = stderr(&as_json);
    assert!(
        err.contains(
            "11 hits on 7 lines (json), 11 lines scanned as text (first at line 1): \
             11 × json: unexpected byte (first at line 1)"
        ),
        "{err}"
    );

    // --field: a JSON path, a Zeek column (repeatable).
    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        &set,
        "-q",
        "--field",
        "dns.question.name",
        &ecs,
    ]);
    assert_eq!(
        hits(&stdout(&o)),
        [(
            1,
            "dns.question.name".into(),
            "update.malware-cdn.example".into()
        )]
    );
    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        &set,
        "-q",
        "--field",
        "mailfrom",
        "--field",
        "rcptto",
        &logs("zeek/smtp.log"),
    ]);
    assert_eq!(
        hits(&stdout(&o)),
        [
            (10, "mailfrom".into(), "gurpartap@patriots.in".into()),
            (11, "rcptto".into(), "ericlim220@yahoo.com".into()),
        ]
    );

    // -o FILE, and --unordered gives the same lines.
    let out = dir.path().join("hits.json");
    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        &set,
        "-q",
        "--unordered",
        "-j",
        "2",
        "-o",
        out.to_str().unwrap(),
        &ecs,
        &logs("suricata/eve.json"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&out).unwrap();
    // The EVE sample's JA3 is listed as a file MD5: it does not hit `tls.ja3.hash`.
    assert_eq!(text.lines().count(), 15 + 13);
}

/// Lines written to stdin are answered while the pipe is still open (a hit per line as it
/// arrives), including a Zeek header that arrives a line at a time.
#[test]
fn stdin_is_answered_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    for (format, lines, want) in [
        (
            "auto",
            vec![
                "Mar 12 10:15:01 gw sshd[2211]: Failed password from 203.0.113.66 port 1 ssh2",
                "Mar 12 10:15:02 gw app[9]: beacon to c2.badsite.test",
            ],
            vec![
                (1, "message", "203.0.113.66"),
                (2, "message", "c2.badsite.test"),
            ],
        ),
        (
            "auto",
            vec![
                "#separator \\x09",
                "#set_separator\t,",
                "#fields\tts\tid.orig_h\tquery",
                "#types\ttime\taddr\tstring",
                "1.0\t203.0.113.66\tclean.example",
                "2.0\t192.0.2.1\twww.c2.badsite.test",
            ],
            vec![
                (5, "id.orig_h", "203.0.113.66"),
                (6, "query", "www.c2.badsite.test"),
            ],
        ),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["scan", "logs", "-s", &set, "--format", format, "-q", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = line_reader(child.stdout.take().unwrap());
        let mut stdin = child.stdin.take().unwrap();
        let mut want = want.into_iter();
        for line in lines {
            stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
            stdin.flush().unwrap();
            if line.starts_with('#') {
                // Let each header line be read on its own.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let (n, field, atomic) = want.next().unwrap();
            let got = out.recv_timeout(PATIENCE);
            let Ok(got) = got else {
                let _ = child.kill();
                panic!("no answer to {line:?} while stdin is open");
            };
            assert_eq!(hits(&got), [(n, field.into(), atomic.into())], "{got}");
        }
        drop(stdin);
        assert_eq!(wait(&mut child, PATIENCE).code(), Some(0));
        assert!(out.recv_timeout(PATIENCE).is_err(), "nothing more");
    }
}

/// The reader of the output goes away after the first line (`trawl … | head -1`): trawl
/// stops early, without an error and with the exit code of what it found.
#[test]
fn closed_output_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let big: PathBuf = dir.path().join("big.log");
    let text: String = (0..20_000)
        .map(|i| format!("Mar 12 10:15:01 gw sshd[{i}]: Failed password from 203.0.113.66\n"))
        .collect();
    std::fs::write(&big, &text).unwrap();
    let big = big.to_str().unwrap();
    // A file (buffered output), and stdin (output written per chunk).
    for input in [big, "-"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["scan", "logs", "-s", &set, "-j", "2", input])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn({
            let text = text.clone();
            let stdin_input = input == "-";
            move || {
                if stdin_input {
                    // Stops with an error once trawl has gone: that is fine.
                    let _ = stdin.write_all(text.as_bytes());
                }
            }
        });
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut first).unwrap();
        assert!(first.contains("203.0.113.66"), "{first}");
        drop(out);
        let status = wait(&mut child, PATIENCE);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(status.code(), Some(0), "{input}: {err}");
        assert!(!err.contains("trawl:"), "{input}: {err}");
        feeder.join().unwrap();
    }
}

/// `--follow`: lines appended and written to a new file after a rotation are answered as they
/// come; SIGTERM ends the scan with its statistics and the exit code of what it found.
#[test]
fn follow_until_terminated() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let log = dir.path().join("app.log");
    std::fs::write(&log, "old 203.0.113.66\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args([
            "scan",
            "logs",
            "-s",
            &set,
            "--follow",
            "--from-end",
            "--only-matching",
        ])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = line_reader(child.stdout.take().unwrap());
    // (More than one probe line below may be answered: skip the others.)
    let next = |what: &str| loop {
        let l = out
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("{what} not answered"));
        if l != "new 203.0.113.66" {
            return l;
        }
    };
    // Until trawl has opened the file, lines written would count as already there: write
    // until the first one is answered.
    let deadline = Instant::now() + PATIENCE;
    let first = loop {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(b"new 203.0.113.66\n").unwrap();
        if let Ok(l) = out.recv_timeout(Duration::from_millis(500)) {
            break l;
        }
        assert!(Instant::now() < deadline, "nothing answered");
    };
    assert_eq!(first, "new 203.0.113.66");
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&log, "clean line\nrotated c2.badsite.test\n").unwrap();
    assert_eq!(
        next("the line after the rotation"),
        "rotated c2.badsite.test"
    );
    // SAFETY: kill(2) on the child's pid, which is still ours (not waited for yet).
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = wait(&mut child, PATIENCE);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.contains("hits on "), "statistics at the end: {err}");
    assert!(err.starts_with(&format!("{}: ", log.display())), "{err}");
}

#[test]
fn follow_picks_up_a_replaced_set() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "old.evil.example\n").unwrap();
    let set = dir.path().join("s.tset");
    let compile = || {
        let o = trawl(&[
            "compile",
            "-q",
            "-o",
            set.to_str().unwrap(),
            feed.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    compile();
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args([
            "scan",
            "logs",
            "-s",
            set.to_str().unwrap(),
            "--follow",
            log.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = line_reader(child.stdout.take().unwrap());
    let err = line_reader(child.stderr.take().unwrap());
    let append = |line: &str| {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        writeln!(f, "{line}").unwrap();
    };
    append("query new.evil.example");
    append("query old.evil.example");
    let first = out.recv_timeout(PATIENCE).expect("the old set's hit");
    assert!(first.contains("old.evil.example"), "{first}");
    // The set is recompiled with the new name and renamed into place.
    std::fs::write(&feed, "old.evil.example\nnew.evil.example\n").unwrap();
    compile();
    let reloaded = err.recv_timeout(PATIENCE).expect("a reload message");
    assert!(reloaded.contains("reloaded (generation 2)"), "{reloaded}");
    append("query new.evil.example");
    let second = out.recv_timeout(PATIENCE).expect("the new set's hit");
    assert!(
        second.contains("new.evil.example") && second.contains("\"line\":3"),
        "{second}"
    );
    // The line before the reload stays unmatched: nothing was scanned twice.
    assert!(out.recv_timeout(Duration::from_millis(300)).is_err());
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(wait(&mut child, PATIENCE).code(), Some(0));
}

/// Lines of a JSON log that are not JSON records are scanned as text in every output mode:
/// `--enrich` wraps them as `{"message": …}` with their enrichments, `--only-matching` prints
/// them as they are, `-c` counts their hits; stderr counts them.
#[test]
fn lines_that_are_not_records_in_every_output_mode() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let log = dir.path().join("mixed.json");
    let lines = [
        r#"{"ip":"203.0.113.66"}"#,
        "Jan  1 00:00:01 web-1 sshd[7]: Accepted password for bob from 198.51.100.7",
        r#"{"ip":"203.0.113.66","q":"c2.badsite.test","cut":"he"#,
        r#"{"clean":"x"}"#,
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let log = log.to_str().unwrap();

    let o = trawl(&["scan", "logs", "-s", &set, "--enrich", log]);
    assert_eq!(o.status.code(), Some(0));
    let docs: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 4);
    let matched = |d: &serde_json::Value| -> Vec<(String, String)> {
        d["threat"]["enrichments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        let m = &e["matched"];
                        (
                            m["field"].as_str().unwrap().into(),
                            m["atomic"].as_str().unwrap().into(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let pair = |f: &str, a: &str| (f.to_string(), a.to_string());
    assert_eq!(docs[0]["ip"], "203.0.113.66");
    assert_eq!(matched(&docs[0]), [pair("ip", "203.0.113.66")]);
    assert_eq!(docs[1]["message"], lines[1]);
    assert_eq!(matched(&docs[1]), [pair("message", "198.51.100.7")]);
    assert_eq!(docs[2]["message"], lines[2]);
    assert_eq!(
        matched(&docs[2]),
        [pair("ip", "203.0.113.66"), pair("q", "c2.badsite.test")]
    );
    assert_eq!(docs[3], serde_json::json!({"clean": "x"}));
    let err = stderr(&o);
    assert!(
        err.contains(
            "4 hits on 3 lines (json), 2 lines scanned as text (first at line 2): \
             1 × json: unexpected byte (first at line 2), \
             1 × json: unterminated string (first at line 3)"
        ),
        "{err}"
    );

    let o = trawl(&["scan", "logs", "-s", &set, "-q", "--only-matching", log]);
    assert_eq!(stdout(&o), lines[..3].join("\n") + "\n");
    let o = trawl(&["scan", "logs", "-s", &set, "-q", "-c", log]);
    assert_eq!(stdout(&o), format!("{log}:4\n"));
}
