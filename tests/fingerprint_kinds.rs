//! Certificate fingerprints and TLS fingerprints as indicator kinds, end to end through the
//! binary: a CSV `kind` column, a plain list with `--feed …,kind=ja3`, `lookup` with and
//! without `--kind`, and exports. A JA3 and a file MD5 of the same digest stay two indicators.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn trawl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .expect("run trawl")
}

fn testdata(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/fingerprints")
        .join(p)
        .display()
        .to_string()
}

fn compiled(dir: &Path) -> PathBuf {
    let set = dir.join("fp.tset");
    let report = dir.join("report.json");
    let out = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        &testdata("fingerprints.csv"),
        "--feed",
        &format!("path={},kind=ja3,source=ja3-list", testdata("ja3.txt")),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let counts = &report["indicators"];
    for (kind, n) in [
        ("ja3", 2),
        ("ja3s", 1),
        ("ja4", 1),
        ("ja4s", 1),
        ("x509-md5", 1),
        ("x509-sha1", 1),
        ("x509-sha256", 1),
        ("md5", 1),
    ] {
        assert_eq!(counts[kind], n, "{kind}: {report}");
    }
    // The JA4 without its third part is rejected with its reason.
    assert!(
        stderr.contains("invalid certificate or TLS fingerprint for its kind"),
        "{stderr}"
    );
    set
}

fn lookup(set: &Path, args: &[&str]) -> Vec<String> {
    let mut all = vec!["lookup", set.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = trawl(&all);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `value<TAB>kind<TAB>indicator…` → the kind column of each answer.
fn kinds(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.split('\t').nth(1).unwrap_or("").to_string())
        .collect()
}

#[test]
fn kinds_compile_and_look_up_apart_from_file_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let digest = "e7d705a3286e19ea42f587b344ee6865";
    // Undetected: every kind holding that digest answers, each under its own name.
    let mut got = kinds(&lookup(&set, &[digest]));
    got.sort();
    assert_eq!(got, ["ja3", "md5", "x509-md5"]);
    // Named: only that kind.
    assert_eq!(kinds(&lookup(&set, &["--kind", "ja3", digest])), ["ja3"]);
    assert_eq!(kinds(&lookup(&set, &["--kind", "md5", digest])), ["md5"]);
    assert_eq!(
        kinds(&lookup(&set, &["--kind", "ja3s", digest])),
        ["-"],
        "no JA3S of that value: one `-` line"
    );
    // Colons and case are the user's choice.
    let sha1 = "46:ab:a9:9a:a7:15:8e:46:09:aa:a7:2b:50:99:08:42:fd:22:ae:86";
    assert_eq!(
        kinds(&lookup(&set, &["--kind", "x509-sha1", sha1])),
        ["x509-sha1"]
    );
    assert_eq!(
        kinds(&lookup(&set, &["46aba99aa7158e4609aaa72b50990842fd22ae86"])),
        ["x509-sha1"]
    );
    // JA4 and JA4S are recognised by their shape.
    assert_eq!(
        kinds(&lookup(&set, &["t13d1516h2_8daaf6152771_E5627EFA2AB1"])),
        ["ja4"]
    );
    assert_eq!(
        kinds(&lookup(&set, &["t130200_1301_234ea6891581"])),
        ["ja4s"]
    );
    // The plain list given `kind=ja3`.
    assert_eq!(
        kinds(&lookup(&set, &["72a589da586844d7f0818ce684948eea"])),
        ["ja3"]
    );
    let bad = trawl(&["lookup", set.to_str().unwrap(), "--kind", "ja5", digest]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown kind"));
}

#[test]
fn exports_write_certificate_hashes_and_count_what_they_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let set = compiled(dir.path());
    let zeek = dir.path().join("intel.dat");
    let out = trawl(&[
        "export",
        "-s",
        set.to_str().unwrap(),
        "-f",
        "zeek-intel",
        "-o",
        zeek.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let intel = std::fs::read_to_string(&zeek).unwrap();
    let typed = |ty: &str| -> Vec<&str> {
        intel
            .lines()
            .filter(|l| l.split('\t').nth(1) == Some(ty))
            .map(|l| l.split('\t').next().unwrap())
            .collect()
    };
    assert_eq!(
        typed("Intel::CERT_HASH"),
        ["46aba99aa7158e4609aaa72b50990842fd22ae86"]
    );
    assert_eq!(
        typed("Intel::FILE_HASH"),
        ["e7d705a3286e19ea42f587b344ee6865"]
    );
    assert!(
        stderr.contains("tls fingerprints (no intel type)"),
        "{stderr}"
    );

    let stix = dir.path().join("bundle.json");
    let out = trawl(&[
        "export",
        "-s",
        set.to_str().unwrap(),
        "-f",
        "stix",
        "-o",
        stix.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle = std::fs::read_to_string(&stix).unwrap();
    for p in [
        "x509-certificate:hashes.MD5 = 'e7d705a3286e19ea42f587b344ee6865'",
        "x509-certificate:hashes.'SHA-1' = '46aba99aa7158e4609aaa72b50990842fd22ae86'",
    ] {
        assert!(bundle.contains(p), "{p} missing");
    }
    // And the bundle reads back as the same certificate kinds.
    let back = dir.path().join("back.tset");
    let report = dir.path().join("back.json");
    let out = trawl(&[
        "compile",
        "-o",
        back.to_str().unwrap(),
        stix.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for kind in ["x509-md5", "x509-sha1", "x509-sha256"] {
        assert_eq!(report["indicators"][kind], 1, "{kind}: {report}");
    }
}
