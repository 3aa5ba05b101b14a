//! Scope 7 of the observables: certificate and TLS fingerprints in logs match their own kind.
//! The values are the peers' own: Zeek's x509.log and ssl.log baselines for `tls_tls1.2.pcap`,
//! and Suricata 8.0.6's EVE (`tls`, `quic`, `fileinfo` records) on the same capture, Arkime's
//! `quicietf.pcap` and `http-content-gzip.pcap`. Every fingerprint they log is found, under its
//! field, as the right kind — and a file MD5 indicator equal to a JA3 (or a JA3 equal to a
//! file's MD5) is never reported for the other's field.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

fn trawl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .output()
        .expect("run trawl")
}

fn logs(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(p)
        .display()
        .to_string()
}

/// The values of a Zeek TSV log's column, a vector column split at its `,`.
fn zeek_column(file: &str, column: &str) -> Vec<String> {
    let text = std::fs::read_to_string(logs(file)).unwrap();
    let fields: Vec<&str> = text
        .lines()
        .find_map(|l| l.strip_prefix("#fields\t"))
        .unwrap()
        .split('\t')
        .collect();
    let i = fields.iter().position(|f| *f == column).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split('\t').nth(i).unwrap().split(','))
        .filter(|v| *v != "-" && *v != "(empty)")
        .map(str::to_string)
        .collect()
}

/// `(field path, value)` of every EVE value at `path` (dotted).
fn eve_values(file: &str, path: &str) -> Vec<String> {
    std::fs::read_to_string(logs(file))
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut v: &serde_json::Value = &serde_json::from_str(l).unwrap();
            for key in path.split('.') {
                v = v.get(key)?;
            }
            v.as_str().map(str::to_string)
        })
        .collect()
}

/// `(matched.field, indicator kind, matched.atomic)` of every hit document.
fn hits(out: &[u8]) -> BTreeSet<(String, String, String)> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let d: serde_json::Value = serde_json::from_str(l).unwrap();
            let e = &d["threat"]["enrichments"][0];
            (
                e["matched"]["field"].as_str().unwrap().to_string(),
                e["trawl"]["indicator"]["type"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                e["matched"]["atomic"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn fingerprints_in_zeek_and_eve_logs_match_their_own_kind() {
    let eve = "suricata/eve-suricata8-tls-quic-file.json";
    let x509 = zeek_column("zeek/x509.log", "fingerprint");
    let chain = zeek_column("zeek/ssl-tls12.log", "cert_chain_fps");
    assert_eq!(x509.len(), 3);
    assert_eq!(chain, x509, "ssl.log names the chain x509.log logs");
    let ja3 = eve_values(eve, "tls.ja3.hash");
    let ja3s = eve_values(eve, "tls.ja3s.hash");
    let ja4 = eve_values(eve, "tls.ja4");
    let quic_ja4 = eve_values(eve, "quic.ja4");
    let cert_sha1 = eve_values(eve, "tls.fingerprint");
    let file_md5 = eve_values(eve, "fileinfo.md5");
    for v in [&ja3, &ja3s, &ja4, &quic_ja4, &cert_sha1, &file_md5] {
        assert_eq!(v.len(), 1, "{v:?}");
    }
    // The leaf certificate's SHA-256 from Zeek, the EVE fingerprints, and decoys: the JA3 as a
    // file MD5, the file's MD5 as a JA3.
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("fp.csv");
    let rows = [
        ("x509-sha256", &x509[0]),
        ("x509-sha1", &cert_sha1[0]),
        ("ja3", &ja3[0]),
        ("ja3s", &ja3s[0]),
        ("ja4", &ja4[0]),
        ("ja4", &quic_ja4[0]),
        ("md5", &file_md5[0]),
        ("md5", &ja3[0]),
        ("ja3", &file_md5[0]),
    ];
    let csv: String = std::iter::once("kind,value\n".to_string())
        .chain(rows.iter().map(|(k, v)| format!("{k},{v}\n")))
        .collect();
    std::fs::write(&feed, csv).unwrap();
    let set = dir.path().join("fp.tset");
    let o = trawl(&[
        "compile",
        "-o",
        set.to_str().unwrap(),
        feed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let set = set.to_str().unwrap();

    let o = trawl(&["scan", "logs", "-s", set, &logs(eve)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want: BTreeSet<(String, String, String)> = [
        ("tls.fingerprint", "x509-sha1", &cert_sha1[0]),
        ("tls.ja3.hash", "ja3", &ja3[0]),
        ("tls.ja3s.hash", "ja3s", &ja3s[0]),
        ("tls.ja4", "ja4", &ja4[0]),
        ("quic.ja4", "ja4", &quic_ja4[0]),
        ("fileinfo.md5", "md5", &file_md5[0]),
    ]
    .into_iter()
    .map(|(f, k, v)| (f.to_string(), k.to_string(), v.to_string()))
    .collect();
    assert_eq!(hits(&o.stdout), want);

    let o = trawl(&[
        "scan",
        "logs",
        "-s",
        set,
        &logs("zeek/x509.log"),
        &logs("zeek/ssl-tls12.log"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want: BTreeSet<(String, String, String)> = [
        ("fingerprint", "x509-sha256", &x509[0]),
        ("cert_chain_fps", "x509-sha256", &x509[0]),
    ]
    .into_iter()
    .map(|(f, k, v)| (f.to_string(), k.to_string(), v.to_string()))
    .collect();
    assert_eq!(hits(&o.stdout), want);
}
