//! The `trawl` binary end to end: compile, info, verify, lookup (text, JSON, bulk), exit codes;
//! a closed stdout, OS error messages, `-o` appending.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn trawl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .expect("run trawl")
}

fn testdata(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(p)
        .display()
        .to_string()
}

fn compiled(dir: &Path) -> PathBuf {
    let set = dir.join("intel.tset");
    let out = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        &testdata("feeds"),
        "--exclude",
        &testdata("warninglists/rfc1918.json"),
        "--tlp-max",
        "amber",
        "--report-json",
        dir.join("report.json").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("rejected: 4"), "{stderr}");
    // `66.210.228.178:443` is well formed, but a trail for one port: unsupported, not widened.
    assert!(stderr.contains("unsupported: 1"), "{stderr}");
    assert!(stderr.contains("blocklist.txt:19 — 300.1.2.3"), "{stderr}");
    set
}

#[test]
fn compile_info_verify() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["indicators"]["domain"], 3);
    // No temp file is left beside the set.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp.")), "{names:?}");

    let out = trawl(&["info", set.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("format version 1"), "{text}");
    assert!(text.contains("  blocklist: 15"), "{text}");
    assert!(text.contains("  intel: 4"), "{text}");
    let out = trawl(&["info", "--json", set.to_str().unwrap()]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["indicators"]["ipv4"], 4);

    let out = trawl(&["verify", set.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
}

#[test]
fn lookup_text_json_bulk_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let s = set.to_str().unwrap();
    let out = trawl(&[
        "lookup",
        s,
        "203.0.113.7",
        "www.evil.example.com",
        "nothing.example",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "203.0.113.7\tipv4\t203.0.113.7/32\tblocklist");
    assert!(
        lines[1].starts_with("www.evil.example.com\tdomain\tevil.example.com\t"),
        "{text}"
    );
    assert!(
        lines[1].contains("intel[score=90 tlp=amber id=ioc-0001 labels=c2,emotet]"),
        "{text}"
    );
    assert_eq!(lines[2], "nothing.example\t-");

    let out = trawl(&["lookup", s, "nothing.example", "192.0.2.1"]);
    assert_eq!(out.status.code(), Some(1), "nothing matched");

    let values = dir.path().join("values.txt");
    std::fs::write(&values, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n\nhttp://malware.example/payload.exe\nclean.example\n").unwrap();
    let out = trawl(&["lookup", s, "--file", values.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "one result per non-empty input line");
    // Each hit is a `threat.enrichments[]` object, as in every hit output.
    assert_eq!(rows[0]["hits"][0]["trawl"]["indicator"]["type"], "sha256");
    assert_eq!(
        rows[1]["hits"][0]["trawl"]["indicator"]["value"],
        "http://malware.example/payload.exe"
    );
    assert_eq!(
        rows[1]["hits"][0]["matched"]["atomic"],
        "http://malware.example/payload.exe"
    );
    assert_eq!(rows[1]["hits"][0]["indicator"]["provider"], "blocklist");
    assert_eq!(rows[2]["matched"], false);
}

#[test]
fn bad_sets_and_bad_arguments_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.tset");
    std::fs::write(&bogus, b"this is not a set file at all, but long enough to have a header of 128 bytes..........................................................").unwrap();
    for cmd in [
        &["info", bogus.to_str().unwrap()][..],
        &["verify", bogus.to_str().unwrap()],
        &["lookup", bogus.to_str().unwrap(), "1.2.3.4"],
    ] {
        let out = trawl(cmd);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a trawl set file"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let set = compiled(dir.path());
    let mut bytes = std::fs::read(&set).unwrap();
    let n = bytes.len();
    bytes[n - 70] ^= 1;
    std::fs::write(&set, &bytes).unwrap();
    let out = trawl(&["verify", set.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("digest mismatch"));
    let out = trawl(&[
        "compile",
        "-o",
        dir.path().join("x.tset").to_str().unwrap(),
        "/nonexistent/feed.txt",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/feed.txt"));
}

/// Runs trawl with its stdout a pipe whose reading end is already closed: what
/// `trawl … | head -1` meets once `head` has read its line and gone, on the first write
/// instead of the thousandth.
fn trawl_into_closed_pipe(args: &[&str]) -> Output {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: `pipe` fills two new descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run trawl")
}

/// Every command that writes to stdout ends quietly when the reader has gone: no panic, no
/// error message, the status a finished run has.
#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let s = set.to_str().unwrap();
    let pcap = testdata("pcaps/crafted.pcap");
    let eve = testdata("logs/suricata/eve.json");
    let hits = dir.path().join("hits.jsonl");
    let out = trawl(&["scan", "pcap", "-s", s, &pcap, "-o", hits.to_str().unwrap()]);
    assert!(out.status.success());
    let config = dir.path().join("trawl.toml");
    std::fs::write(
        &config,
        "[set]\noutput = \"intel.tset\"\nstore = \"store\"\n\
         [[feed]]\nname = \"a\"\nkind = \"file\"\npath = \"a.txt\"\n",
    )
    .unwrap();
    let cases: [&[&str]; 15] = [
        &["info", s],
        &["info", "--json", s],
        &["verify", s],
        &["lookup", s, "203.0.113.7", "nothing.example"],
        &["lookup", "--json", s, "203.0.113.7"],
        &["export", "-s", s, "-f", "csv"],
        &["export", "-s", s, "-f", "stix"],
        &["export", "-s", s, "-f", "nftables"],
        &["export", "-s", s, "-f", "ipset"],
        &["export", "-s", s, "-f", "zeek-intel"],
        &["scan", "pcap", "--no-progress", "-s", s, &pcap],
        &["scan", "logs", "-s", s, &eve],
        &["sightings", "-s", s, "-q", hits.to_str().unwrap()],
        &["feeds", "list", "-c", config.to_str().unwrap()],
        &["--help"],
    ];
    for args in cases {
        let out = trawl_into_closed_pipe(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("trawl:") && !err.contains("pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn os_errors_are_printed_once() {
    let out = trawl(&["info", "/nonexistent/intel.tset"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "trawl: /nonexistent/intel.tset: No such file or directory (os error 2)\n"
    );
}

/// `-o` appends (a restarted sensor keeps its hit log), for packets and for logs.
#[test]
fn hit_output_files_are_appended_to() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let s = set.to_str().unwrap();
    for (name, scan) in [
        (
            "pcap",
            [
                "scan",
                "pcap",
                "--no-progress",
                "-s",
                s,
                &testdata("pcaps/crafted.pcap"),
            ],
        ),
        (
            "logs",
            [
                "scan",
                "logs",
                "-q",
                "-s",
                s,
                &testdata("logs/suricata/eve.json"),
            ],
        ),
    ] {
        let hits = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&hits, "{\"earlier\":\"line\"}\n").unwrap();
        let mut lines = Vec::new();
        for run in 1..=2 {
            let out = trawl(&[&scan[..], &["-o", hits.to_str().unwrap()]].concat());
            assert_eq!(out.status.code(), Some(0), "{name}");
            assert!(out.stdout.is_empty(), "{name}: hits went to the file");
            let text = std::fs::read_to_string(&hits).unwrap();
            lines.push(text.lines().count());
            assert!(
                text.starts_with("{\"earlier\":\"line\"}\n"),
                "{name} run {run}"
            );
        }
        assert!(lines[0] > 1, "{name}: {lines:?}");
        assert_eq!(lines[1] - 1, 2 * (lines[0] - 1), "{name}: {lines:?}");
    }
}

/// A file named on the command line that is not text (a capture, a compressed download) is
/// refused with an error naming it, not compiled into junk indicators.
#[test]
fn compile_refuses_a_named_binary_file() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("feed.txt.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, b"evil.example\n203.0.113.7\n").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let capture = testdata("pcaps/tcpdump/dns_udp.pcap");
    for (file, what) in [
        (capture.as_str(), "pcap capture"),
        (gz.to_str().unwrap(), "gzip"),
    ] {
        let set = dir.path().join("x.tset");
        let out = trawl(&["compile", "-o", set.to_str().unwrap(), file]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        assert!(err.contains(file) && err.contains(what), "{err}");
        assert!(!set.exists());
    }
}

/// Inside a feed directory, documentation, files that are not text, hidden entries and rules
/// files are skipped, each with its reason in the report; the lists beside them compile.
#[test]
fn compile_directory_skips_what_is_no_indicator_list_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    let copy = |from: &str, to: &str| {
        let to = feeds.join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(testdata(from), to).unwrap();
    };
    for f in [
        "LICENSE",
        "LICENSE-CC0.md",
        "urlhaus-filter-online.txt",
        "urlhaus-filter-suricata-online.rules",
    ] {
        copy(
            &format!("feeds-real/urlhaus-filter/{f}"),
            &format!("urlhaus/{f}"),
        );
    }
    copy(
        "feeds-real/eset/windigo/windigo-onimiki.yar",
        "eset/onimiki.yar",
    );
    copy(
        "feeds-real/signature-base/filename-iocs.txt",
        "loki/filename-iocs.txt",
    );
    copy("pcaps/tcpdump/dns_udp.pcap", "urlhaus/capture.pcap");
    copy("feeds-real/ipsum/ipsum.txt", ".git/objects/ipsum.txt");
    std::fs::write(
        feeds.join("urlhaus/list.gz"),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    )
    .unwrap();
    let set = dir.path().join("x.tset");
    let report = dir.path().join("report.json");
    let out = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        feeds.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("skipped files: 8"), "{err}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let skipped = r["skipped"].as_object().unwrap();
    let count = |reason: &str| {
        skipped
            .iter()
            .filter(|(k, _)| k.contains(reason))
            .map(|(_, t)| t["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(count("documentation"), 2, "{skipped:?}");
    assert_eq!(count("pcap capture"), 1, "{skipped:?}");
    assert_eq!(count("gzip"), 1, "{skipped:?}");
    assert_eq!(count("hidden"), 1, "{skipped:?}");
    assert_eq!(count("Snort/Suricata"), 1, "{skipped:?}");
    assert_eq!(count("YARA"), 1, "{skipped:?}");
    assert_eq!(count("LOKI"), 1, "{skipped:?}");
    let inputs = r["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 1, "{inputs:?}");
    assert!(
        inputs[0]
            .as_str()
            .unwrap()
            .ends_with("urlhaus-filter-online.txt")
    );
    assert_eq!(r["rejected"].as_object().unwrap().len(), 0, "{r}");
    // The list still compiles: a host line, and a page on a popular site by its URL.
    let out = trawl(&[
        "lookup",
        set.to_str().unwrap(),
        "0022a601.pphost.net",
        "https://cdn.jsdelivr.net/gh/repository-git/cloud@master/terms-use.js",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("\t-"), "{text}");
    // Nothing but skipped files is an error that says so.
    let only = dir.path().join("only-docs");
    std::fs::create_dir(&only).unwrap();
    std::fs::copy(
        testdata("feeds-real/urlhaus-filter/LICENSE"),
        only.join("LICENSE"),
    )
    .unwrap();
    let out = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        only.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped"));
}
