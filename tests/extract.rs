//! Extraction rules (`trawl::testing::extract`), table-driven; planted-token and arbitrary-byte
//! property tests; an `#[ignore]`d throughput measurement.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use proptest::prelude::*;
use trawl::normalize;
use trawl::testing::extract::{Extractor, Found, Options, Token, refang};

fn plain() -> Extractor {
    Extractor::default()
}

fn defanged() -> Extractor {
    Extractor::new(Options { defanged: true })
}

/// Checks the invariants every token must hold, then lists (kind, span text).
fn scan(ex: Extractor, text: &[u8]) -> Vec<(String, String)> {
    ex.tokens(text)
        .map(|f| {
            check_found(text, &f);
            (
                f.kind().name().to_string(),
                String::from_utf8_lossy(&text[f.start..f.end]).into_owned(),
            )
        })
        .collect()
}

fn check_found(text: &[u8], f: &Found<'_>) {
    assert!(f.start < f.end && f.end <= text.len(), "{f:?}");
    let span = &text[f.start..f.end];
    match f.token {
        Token::Domain(b) | Token::Email(b) | Token::Url(b) | Token::Hex(b) => assert_eq!(b, span),
        Token::Ipv4(ip) if !f.defanged => {
            assert_eq!(
                std::str::from_utf8(span).unwrap().parse::<Ipv4Addr>(),
                Ok(ip)
            )
        }
        Token::Ipv6(ip) => {
            assert_eq!(
                std::str::from_utf8(span).unwrap().parse::<Ipv6Addr>(),
                Ok(ip)
            )
        }
        Token::Ipv4(_) => {}
    }
    if let Token::Hex(h) = f.token {
        assert!(matches!(h.len(), 32 | 40 | 64 | 128));
        assert!(h.iter().all(u8::is_ascii_hexdigit));
    }
}

/// An input and the (kind, span text) of every token expected in it, in order.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)]);

fn expect(ex: Extractor, cases: &[Case<'_>]) {
    let mut failed = Vec::new();
    for (text, want) in cases {
        let got = scan(ex, text.as_bytes());
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, s)| (k.to_string(), s.to_string()))
            .collect();
        if got != want {
            failed.push(format!("{text:?}\n   got  {got:?}\n   want {want:?}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn ipv4_rules() {
    expect(
        plain(),
        &[
            ("1.2.3.4", &[("ipv4", "1.2.3.4")]),
            (
                "src=10.0.0.1 dst=10.0.0.2",
                &[("ipv4", "10.0.0.1"), ("ipv4", "10.0.0.2")],
            ),
            (
                "0.0.0.0 255.255.255.255",
                &[("ipv4", "0.0.0.0"), ("ipv4", "255.255.255.255")],
            ),
            ("1.2.3.4.5", &[]),
            ("v10.1.2.3", &[]),
            ("a1.2.3.4 1.2.3.4a", &[]),
            ("Chrome/10.0.0.1", &[("ipv4", "10.0.0.1")]),
            ("Chrome/32.0.1700.77 Safari/537.36", &[]),
            ("01.2.3.4 1.2.3.04 1.2.3.256 1234.1.1.1", &[]),
            ("1.2.3", &[]),
            ("1.2.3.4:8080", &[("ipv4", "1.2.3.4")]),
            ("host 1.2.3.4.", &[("ipv4", "1.2.3.4")]),
            (
                "(1.2.3.4), [5.6.7.8]",
                &[("ipv4", "1.2.3.4"), ("ipv4", "5.6.7.8")],
            ),
            (
                "1.2.3.4,5.6.7.8",
                &[("ipv4", "1.2.3.4"), ("ipv4", "5.6.7.8")],
            ),
            (
                "10.0.0.1-10.0.0.255",
                &[("ipv4", "10.0.0.1"), ("ipv4", "10.0.0.255")],
            ),
            (
                "ip_10.1.2.3 x-1.2.3.4-y",
                &[("ipv4", "10.1.2.3"), ("ipv4", "1.2.3.4")],
            ),
            ("1.2.3.4.nip.io", &[("domain", "1.2.3.4.nip.io")]),
            (
                "ip:1.2.3.4 ip=1.2.3.4",
                &[("ipv4", "1.2.3.4"), ("ipv4", "1.2.3.4")],
            ),
            ("root@10.0.0.1", &[("ipv4", "10.0.0.1")]),
            ("12:34:1.2.3.4", &[("ipv4", "1.2.3.4")]),
            ("1.2.3.4..5", &[("ipv4", "1.2.3.4")]),
            ("\u{201c}1.2.3.4\u{201d}", &[("ipv4", "1.2.3.4")]),
            ("é1.2.3.4", &[]),
        ],
    );
}

#[test]
fn ipv6_rules() {
    expect(
        plain(),
        &[
            ("2001:db8::1", &[("ipv6", "2001:db8::1")]),
            ("::1", &[("ipv6", "::1")]),
            ("from ::1 port", &[("ipv6", "::1")]),
            ("1:: ", &[("ipv6", "1::")]),
            ("[::1]:8080", &[("ipv6", "::1")]),
            ("[2001:DB8::A]", &[("ipv6", "2001:DB8::A")]),
            ("fe80::1%eth0 up", &[("ipv6", "fe80::1")]),
            ("fe80::1%eth0.100.", &[("ipv6", "fe80::1")]),
            ("::ffff:1.2.3.4", &[("ipv6", "::ffff:1.2.3.4")]),
            (
                "2001:0db8:0000:0000:0000:ff00:0042:8329",
                &[("ipv6", "2001:0db8:0000:0000:0000:ff00:0042:8329")],
            ),
            ("2001:db8:0:0:1:0:0:1", &[("ipv6", "2001:db8:0:0:1:0:0:1")]),
            ("1:2:3:4:5:6:1.2.3.4", &[("ipv6", "1:2:3:4:5:6:1.2.3.4")]),
            ("1:2:3:4:5:6:7:8", &[]),
            ("12:34:56 10:05:03.123 2015:10:05:03", &[]),
            (
                "00:11:22:33:44:55 aa:bb:cc:dd:ee:ff 00:11:22:33:44:55:66:77",
                &[],
            ),
            ("std::vector Foo::Bar x::y", &[]),
            ("::", &[]),
            ("to 2001:db8::1.", &[("ipv6", "2001:db8::1")]),
            ("to 2001:db8::1: timeout", &[("ipv6", "2001:db8::1")]),
            ("2001:db8::1::2 1::2::3 a::b::c", &[]),
            ("2001:db8::12345 x2001:db8::1 2001:db8::1x", &[]),
            ("2001:db8::1:", &[("ipv6", "2001:db8::1")]),
            ("::1.2", &[]),
            ("2001:db8::1.example", &[("domain", "1.example")]),
            ("1:2:3:4:5:6:7:8:9", &[]),
            ("1::2:3:4:5:6:7:8", &[]),
            ("ip=2001:db8::1,", &[("ipv6", "2001:db8::1")]),
            ("key:2001:db8::1", &[]),
            (
                "2001:db8::1-2001:db8::2",
                &[("ipv6", "2001:db8::1"), ("ipv6", "2001:db8::2")],
            ),
        ],
    );
}

#[test]
fn domain_rules() {
    let long_label = format!("{}.com", "x".repeat(63));
    let too_long_label = format!("{}.com", "x".repeat(64));
    let name_253 = format!(
        "{}.{}.{}.{}.com",
        "a".repeat(62),
        "b".repeat(62),
        "c".repeat(62),
        "d".repeat(60)
    );
    let name_254 = format!(
        "{}.{}.{}.{}.com",
        "a".repeat(62),
        "b".repeat(62),
        "c".repeat(62),
        "d".repeat(61)
    );
    assert_eq!((name_253.len(), name_254.len()), (253, 254));
    expect(
        plain(),
        &[
            ("evil.com", &[("domain", "evil.com")]),
            ("Visit evil.com.", &[("domain", "evil.com")]),
            ("Visit evil.com...", &[("domain", "evil.com")]),
            (
                "\"evil.com\" 'a.evil.com'",
                &[("domain", "evil.com"), ("domain", "a.evil.com")],
            ),
            ("\u{201c}evil.com\u{201d}", &[("domain", "evil.com")]),
            ("WWW.EVIL.COM", &[("domain", "WWW.EVIL.COM")]),
            ("bücher.example", &[("domain", "bücher.example")]),
            ("BÜCHER.Example", &[("domain", "BÜCHER.Example")]),
            ("пример.рф", &[("domain", "пример.рф")]),
            (
                "xn--bcher-kva.example",
                &[("domain", "xn--bcher-kva.example")],
            ),
            ("example.xn--p1ai", &[("domain", "example.xn--p1ai")]),
            ("_dmarc.example.com", &[("domain", "_dmarc.example.com")]),
            ("1.2.3.com", &[("domain", "1.2.3.com")]),
            (
                "-evil.com --config.yaml",
                &[("domain", "evil.com"), ("domain", "config.yaml")],
            ),
            ("evil-.com a.-b.com", &[]),
            ("localhost a.b evil.c0m evil.123", &[]),
            (
                "evil.com:443 evil.com/x",
                &[("domain", "evil.com"), ("domain", "evil.com")],
            ),
            (
                "kibana-search.png file.tar.gz",
                &[("domain", "kibana-search.png"), ("domain", "file.tar.gz")],
            ),
            (".evil.com", &[("domain", "evil.com")]),
            ("a..b.com", &[("domain", "b.com")]),
            ("@evil.com", &[]),
            ("evil[.]com", &[]),
            ("evil.com\r\n", &[("domain", "evil.com")]),
            (
                "x.evil.com\tafter.example",
                &[("domain", "x.evil.com"), ("domain", "after.example")],
            ),
            ("é.com", &[("domain", "é.com")]),
            ("a\u{2014}evil.com", &[("domain", "evil.com")]),
            (&long_label, &[("domain", &long_label)]),
            (&too_long_label, &[]),
            (&name_253, &[("domain", &name_253)]),
            (&name_254, &[]),
        ],
    );
}

#[test]
fn email_rules() {
    let local64 = format!("{}@evil.com", "x".repeat(64));
    let local65 = format!("{}@evil.com", "x".repeat(65));
    expect(
        plain(),
        &[
            ("bob@evil.com", &[("email", "bob@evil.com")]),
            (
                "Bob.Smith+tag@Evil.Example",
                &[("email", "Bob.Smith+tag@Evil.Example")],
            ),
            ("first.last@evil.com", &[("email", "first.last@evil.com")]),
            ("1.2.3.4@evil.com", &[("email", "1.2.3.4@evil.com")]),
            ("<bob@evil.com>", &[("email", "bob@evil.com")]),
            (
                "from=bob@evil.com, to='al@evil.com'",
                &[("email", "bob@evil.com"), ("email", "al@evil.com")],
            ),
            ("/users/bob@evil.com", &[("email", "bob@evil.com")]),
            (
                "see...bob@evil.com evil.com...al@evil.com",
                &[
                    ("email", "bob@evil.com"),
                    ("domain", "evil.com"),
                    ("email", "al@evil.com"),
                ],
            ),
            (".bob@evil.com", &[("email", "bob@evil.com")]),
            ("bob.@evil.com bo..b@evil.com", &[]),
            ("see..bob@evil.com", &[]),
            ("bob@localhost a@b.c", &[]),
            ("bob@@evil.com", &[]),
            ("user@bücher.example", &[("email", "user@bücher.example")]),
            ("bob@evil.com.", &[("email", "bob@evil.com")]),
            (
                "mailto:bob@evil.com?subject=x",
                &[("email", "bob@evil.com")],
            ),
            ("béb@evil.com", &[]),
            (&local64, &[("email", &local64)]),
            (&local65, &[]),
        ],
    );
}

#[test]
fn url_rules() {
    expect(
        plain(),
        &[
            (
                "http://evil.com/x",
                &[("url", "http://evil.com/x"), ("domain", "evil.com")],
            ),
            (
                "HTTPS://Evil.COM:8443/a?b=c&d=e#f",
                &[
                    ("url", "HTTPS://Evil.COM:8443/a?b=c&d=e#f"),
                    ("domain", "Evil.COM"),
                ],
            ),
            (
                "see (http://evil.com/x).",
                &[("url", "http://evil.com/x"), ("domain", "evil.com")],
            ),
            (
                "http://en.wikipedia.org/wiki/Foo_(bar)",
                &[
                    ("url", "http://en.wikipedia.org/wiki/Foo_(bar)"),
                    ("domain", "en.wikipedia.org"),
                ],
            ),
            (
                "[link](https://evil.com/a)",
                &[("url", "https://evil.com/a"), ("domain", "evil.com")],
            ),
            (
                "http://evil.com/x, next",
                &[("url", "http://evil.com/x"), ("domain", "evil.com")],
            ),
            (
                "<http://evil.com/>",
                &[("url", "http://evil.com/"), ("domain", "evil.com")],
            ),
            (
                "\"http://1.2.3.4:8080/a\"",
                &[("url", "http://1.2.3.4:8080/a"), ("ipv4", "1.2.3.4")],
            ),
            (
                "http://[2001:db8::1]:8080/x",
                &[
                    ("url", "http://[2001:db8::1]:8080/x"),
                    ("ipv6", "2001:db8::1"),
                ],
            ),
            (
                "http://[fe80::1%25eth0]/",
                &[("url", "http://[fe80::1%25eth0]/"), ("ipv6", "fe80::1")],
            ),
            (
                "ftp://user:pw@files.evil.com/x",
                &[
                    ("url", "ftp://user:pw@files.evil.com/x"),
                    ("domain", "files.evil.com"),
                ],
            ),
            ("ws://localhost:8080/", &[("url", "ws://localhost:8080/")]),
            (
                "wss://evil.com.",
                &[("url", "wss://evil.com"), ("domain", "evil.com")],
            ),
            (
                "http://evil.com./x",
                &[("url", "http://evil.com./x"), ("domain", "evil.com")],
            ),
            (
                "http://evil.com?q=1",
                &[("url", "http://evil.com?q=1"), ("domain", "evil.com")],
            ),
            (
                "http://bücher.example/ä",
                &[
                    ("url", "http://bücher.example/ä"),
                    ("domain", "bücher.example"),
                ],
            ),
            ("xhttp://evil.com", &[("domain", "evil.com")]),
            ("hxxp://evil.com", &[("domain", "evil.com")]),
            ("http:// http:///x", &[]),
            (
                "http://evil.com/dl/file.php?u=bob@evil.com",
                &[
                    ("url", "http://evil.com/dl/file.php?u=bob@evil.com"),
                    ("domain", "evil.com"),
                    ("domain", "file.php"),
                    ("email", "bob@evil.com"),
                ],
            ),
            (
                "http://a.com/?r=http://b.com/x",
                &[
                    ("url", "http://a.com/?r=http://b.com/x"),
                    ("domain", "a.com"),
                    ("domain", "b.com"),
                ],
            ),
            (
                "{\"u\":\"http://evil.com/a\\\"b\"}",
                &[("url", "http://evil.com/a"), ("domain", "evil.com")],
            ),
            (
                "GET http://evil.com\r\n",
                &[("url", "http://evil.com"), ("domain", "evil.com")],
            ),
            (
                "url=http://evil.com/a b",
                &[("url", "http://evil.com/a"), ("domain", "evil.com")],
            ),
            (
                "http://evil.com/a)))",
                &[("url", "http://evil.com/a"), ("domain", "evil.com")],
            ),
            (
                "http://evil.com:8080",
                &[("url", "http://evil.com:8080"), ("domain", "evil.com")],
            ),
        ],
    );
}

#[test]
fn hex_rules() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    let sha256 = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    let sha512 = "cf".repeat(64);
    let h33 = "a".repeat(33);
    let h31 = "a".repeat(31);
    let cases: Vec<(String, Vec<(&str, String)>)> = vec![
        (md5.into(), vec![("md5", md5.into())]),
        (sha1.into(), vec![("sha1", sha1.into())]),
        (sha256.into(), vec![("sha256", sha256.into())]),
        (sha512.clone(), vec![("sha512", sha512.clone())]),
        (format!("{h33} {h31}"), vec![]),
        (format!("0x{md5} {md5}g g{md5} é{md5}"), vec![]),
        (format!("md5={md5};"), vec![("md5", md5.into())]),
        (format!("sha_{md5}-x"), vec![("md5", md5.into())]),
        (
            format!("{md5}.exe"),
            vec![("md5", md5.into()), ("domain", format!("{md5}.exe"))],
        ),
        (
            format!("/files/{sha256}/x"),
            vec![("sha256", sha256.into())],
        ),
        (
            format!("http://evil.com/{md5}"),
            vec![
                ("url", format!("http://evil.com/{md5}")),
                ("domain", "evil.com".into()),
                ("md5", md5.into()),
            ],
        ),
        (
            format!("{md5}\n{sha1}"),
            vec![("md5", md5.into()), ("sha1", sha1.into())],
        ),
        (
            format!("{}{}", " ".repeat(50), sha256),
            vec![("sha256", sha256.into())],
        ),
    ];
    for (text, want) in cases {
        let want: Vec<(String, String)> = want.into_iter().map(|(k, s)| (k.into(), s)).collect();
        assert_eq!(scan(plain(), text.as_bytes()), want, "{text}");
    }
    // Every alignment against the 64-byte blocks.
    for pad in 0..140 {
        let text = format!("{}{} {}", "-".repeat(pad), md5, sha512);
        let got = scan(plain(), text.as_bytes());
        assert_eq!(got.len(), 2, "pad {pad}: {got:?}");
    }
}

#[test]
fn defanged_forms() {
    let ex = defanged();
    // (input, [(kind, raw span, refanged span)])
    type Defanged<'a> = (&'a str, &'a [(&'a str, &'a str, &'a str)]);
    let cases: &[Defanged<'_>] = &[
        (
            "hxxp://evil[.]com/x",
            &[
                ("url", "hxxp://evil[.]com/x", "http://evil.com/x"),
                ("domain", "evil[.]com", "evil.com"),
            ],
        ),
        (
            "hXXps[:]//evil(.)com:8443/a",
            &[
                (
                    "url",
                    "hXXps[:]//evil(.)com:8443/a",
                    "https://evil.com:8443/a",
                ),
                ("domain", "evil(.)com", "evil.com"),
            ],
        ),
        (
            "http[:]//1.2.3[.]4/",
            &[
                ("url", "http[:]//1.2.3[.]4/", "http://1.2.3.4/"),
                ("ipv4", "1.2.3[.]4", "1.2.3.4"),
            ],
        ),
        ("evil[.]com", &[("domain", "evil[.]com", "evil.com")]),
        (
            "www.evil[.]co[.]uk",
            &[("domain", "www.evil[.]co[.]uk", "www.evil.co.uk")],
        ),
        ("1[.]2[.]3[.]4", &[("ipv4", "1[.]2[.]3[.]4", "1.2.3.4")]),
        (
            "bob[@]evil[.]com",
            &[("email", "bob[@]evil[.]com", "bob@evil.com")],
        ),
        (
            "plain.example 1.2.3.4",
            &[
                ("domain", "plain.example", "plain.example"),
                ("ipv4", "1.2.3.4", "1.2.3.4"),
            ],
        ),
        (
            "[2001:db8::1] (x) [a]",
            &[("ipv6", "2001:db8::1", "2001:db8::1")],
        ),
    ];
    for (text, want) in cases {
        let got: Vec<Found<'_>> = ex.tokens(text.as_bytes()).collect();
        assert_eq!(got.len(), want.len(), "{text}: {got:?}");
        for (f, (kind, raw, plain_form)) in got.iter().zip(want.iter()) {
            check_found(text.as_bytes(), f);
            assert_eq!(f.kind().name(), *kind, "{text}");
            let span = &text.as_bytes()[f.start..f.end];
            assert_eq!(span, raw.as_bytes(), "{text}");
            assert_eq!(f.defanged, raw != plain_form, "{text}: {f:?}");
            let mut out = Vec::new();
            refang(span, &mut out);
            assert_eq!(out, plain_form.as_bytes(), "{text}");
        }
    }
    // The local part with a dot before a defanged @.
    let got = scan(ex, b"bob.s[@]evil.com");
    assert_eq!(got, [("email".to_string(), "bob.s[@]evil.com".to_string())]);
    // Off by default: defanged forms are not read.
    assert_eq!(
        scan(plain(), b"evil[.]com 1[.]2[.]3[.]4 bob[@]evil.com"),
        [("domain".to_string(), "evil.com".to_string())]
    );
}

#[test]
fn hostile_input() {
    type Bytes<'a> = (&'a [u8], &'a [(&'a str, &'a str)]);
    let cases: &[Bytes<'_>] = &[
        (b"\xff\xfe1.2.3.4\xff", &[("ipv4", "1.2.3.4")]),
        (b"\xc3evil.com\xc3", &[("domain", "evil.com")]),
        (
            b"\x001.2.3.4\x00evil.com\x00",
            &[("ipv4", "1.2.3.4"), ("domain", "evil.com")],
        ),
        (
            b"http://evil.com/\x00x",
            &[("url", "http://evil.com/"), ("domain", "evil.com")],
        ),
        (
            b"http://evil.com/\xff\xfe",
            &[
                ("url", "http://evil.com/\u{fffd}\u{fffd}"),
                ("domain", "evil.com"),
            ],
        ),
        (b"a@\xffevil.com", &[("domain", "evil.com")]),
        (b"", &[]),
        (b".", &[]),
        (b":", &[]),
        (b"@", &[]),
        (b"[.]", &[]),
        (b"http://", &[]),
    ];
    for (text, want) in cases {
        for ex in [plain(), defanged()] {
            let got = scan(ex, text);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(k, s)| (k.to_string(), s.to_string()))
                .collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(text));
        }
    }
}

#[test]
fn megabyte_lines() {
    const MB: usize = 1 << 20;
    let mut text = "a".repeat(MB).into_bytes();
    text.extend_from_slice(b" evil.com");
    assert_eq!(scan(plain(), &text), [("domain".into(), "evil.com".into())]);

    for fill in [
        &b"1.1.1.1."[..],
        b"a.",
        b"::",
        b"ffff:",
        b"@",
        b"a@",
        b"a.b+",
        b"http://",
        b")",
        b"[.]",
        b"-1.2.3.4",
        b"0",
    ] {
        let text: Vec<u8> = fill.iter().copied().cycle().take(MB).collect();
        for ex in [plain(), defanged()] {
            let start = Instant::now();
            let n = ex.tokens(&text).inspect(|f| check_found(&text, f)).count();
            assert!(
                start.elapsed().as_secs() < 5,
                "{:?}: {n} tokens in {:?}",
                String::from_utf8_lossy(fill),
                start.elapsed()
            );
        }
    }
    let mut url = b"http://evil.com/".to_vec();
    url.extend(std::iter::repeat_n(b')', MB));
    assert_eq!(
        scan(plain(), &url),
        [
            ("url".into(), "http://evil.com/".into()),
            ("domain".into(), "evil.com".into())
        ]
    );
}

#[test]
fn tokens_feed_normalize() {
    let line = "x 203.0.113.7 Evil.Example http://Evil.Example:80/A bob@Evil.Example D41D8CD98F00B204E9800998ECF8427E [::ffff:1.2.3.4]";
    for f in plain().tokens(line.as_bytes()) {
        let span = &line[f.start..f.end];
        let n = normalize::value(f.kind(), span).unwrap_or_else(|e| panic!("{span}: {e}"));
        assert_eq!(
            n.value.kind(),
            if span.starts_with("::ffff:") {
                trawl::Kind::Ipv4
            } else {
                f.kind()
            }
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// A planted token: its text, and the (offset, length, kind) of what must be found in it.
#[derive(Clone, Debug)]
struct Planted {
    text: String,
    expect: Vec<(usize, usize, &'static str)>,
}

fn whole(text: String, kind: &'static str) -> Planted {
    let len = text.len();
    Planted {
        text,
        expect: vec![(0, len, kind)],
    }
}

fn random_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn ipv4() -> impl Strategy<Value = String> {
    any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string())
}

fn ipv6() -> impl Strategy<Value = String> {
    (
        prop::array::uniform8(prop_oneof![Just(0u16), 1u16..0x100, any::<u16>()]),
        any::<bool>(),
        any::<u32>(),
    )
        .prop_map(|(g, mapped, v4)| {
            if mapped {
                Ipv4Addr::from(v4).to_ipv6_mapped().to_string()
            } else {
                Ipv6Addr::from(g).to_string()
            }
        })
        .prop_filter("an address the extractor accepts", |s| {
            s != "::" && (s.contains("::") || s.contains('.') || s.split(':').any(|g| g.len() >= 3))
        })
}

fn domain() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            prop_oneof![
                8 => "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?",
                1 => Just("bücher".to_string()),
                1 => Just("пример".to_string()),
            ],
            1..4,
        ),
        prop_oneof![4 => "[a-z]{2,6}", 1 => Just("xn--p1ai".to_string()), 1 => Just("рф".to_string())],
        any::<u64>(),
    )
        .prop_map(|(labels, tld, case)| random_case(&format!("{}.{tld}", labels.join(".")), case))
}

fn email() -> impl Strategy<Value = String> {
    ("[a-z0-9]([a-z0-9._+-]{0,10}[a-z0-9])?", domain())
        .prop_filter("no `..` in the local part", |(l, _)| !l.contains(".."))
        .prop_map(|(l, d)| format!("{l}@{d}"))
}

/// A URL with its host; `v6` allows bracketed IPv6 hosts.
fn url(v6: bool) -> impl Strategy<Value = Planted> {
    let name = || domain().prop_map(|d| (d.clone(), d, "domain"));
    let v4 = || ipv4().prop_map(|a| (a.clone(), a, "ipv4"));
    let host: BoxedStrategy<(String, String, &'static str)> = if v6 {
        prop_oneof![
            name(),
            v4(),
            ipv6().prop_map(|a| (format!("[{a}]"), a, "ipv6"))
        ]
        .boxed()
    } else {
        prop_oneof![name(), v4()].boxed()
    };
    (
        prop::sample::select(vec!["http", "https", "ftp", "ws", "wss", "HTTP", "Https"]),
        "(user(:pw)?@)?",
        host,
        "(:[0-9]{1,5})?",
        "(/[a-zA-Z0-9_~-]{0,8}){0,3}(\\?[a-z]{1,5}=[a-z0-9]{0,5}(&[a-z]{1,5}=[a-z0-9]{0,5})?)?",
    )
        .prop_map(|(scheme, userinfo, (host_text, host, kind), port, path)| {
            let head = format!("{scheme}://{userinfo}");
            let host_at = head.len() + host_text.find(&host).unwrap();
            let text = format!("{head}{host_text}{port}{path}");
            let len = text.len();
            Planted {
                text,
                expect: vec![(0, len, "url"), (host_at, host.len(), kind)],
            }
        })
}

/// A defanged spelling of `text` (chosen by `bits`), and what [`refang`] must make of it.
/// Dots of an email's local part stay plain: defanging tools leave them alone.
fn defang_text(text: &str, bits: u64) -> (String, String) {
    let mut plain = text.to_string();
    let mut raw = text.to_string();
    if bits & 2 == 2 && raw.len() >= 4 && raw.as_bytes()[..4].eq_ignore_ascii_case(b"http") {
        raw.replace_range(..4, "hxxp");
        plain.replace_range(..4, "http");
    }
    if bits & 1 == 1 {
        raw = raw.replacen("://", "[:]//", 1);
    }
    let dot = if bits & 4 == 4 { "[.]" } else { "(.)" };
    let at = raw.find('@').map_or(0, |i| i + 1);
    raw = format!("{}{}", &raw[..at], raw[at..].replace('.', dot));
    if bits & 8 == 8 {
        raw = raw.replacen('@', "[@]", 1);
    }
    (raw, plain)
}

fn hex() -> impl Strategy<Value = Planted> {
    prop_oneof![
        "[0-9a-fA-F]{32}".prop_map(|h| whole(h, "md5")),
        "[0-9a-fA-F]{40}".prop_map(|h| whole(h, "sha1")),
        "[0-9a-f]{64}".prop_map(|h| whole(h, "sha256")),
        "[0-9A-F]{128}".prop_map(|h| whole(h, "sha512")),
    ]
}

fn planted() -> impl Strategy<Value = Planted> {
    prop_oneof![
        ipv4().prop_map(|s| whole(s, "ipv4")),
        ipv6().prop_map(|s| whole(s, "ipv6")),
        domain().prop_map(|s| whole(s, "domain")),
        email().prop_map(|s| whole(s, "email")),
        url(true),
        hex(),
    ]
}

/// Filler that can never form a token: no anchor byte (`.`, `:`, `@`), shorter than any digest.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,12}",
        "[a-zé]{1,6}",
        Just("GET".to_string()),
        Just("HTTP/1".to_string())
    ]
}

#[derive(Clone, Debug)]
enum Item {
    Token(Planted),
    Word(String),
}

/// One gap between items: optional closing punctuation, boundary bytes that also end a URL,
/// optional opening punctuation. None of it is an email local-part character.
fn gap() -> impl Strategy<Value = String> {
    ("[.,;!?)\\]]?", "[ \t\r\n\"<>`']{1,3}", "[(\\[\"'<=,;]?")
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn line() -> impl Strategy<Value = Vec<(Item, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                planted().prop_map(Item::Token),
                filler().prop_map(Item::Word)
            ],
            gap(),
        ),
        0..12,
    )
}

fn assemble(items: &[(Item, String)]) -> (String, Vec<(usize, usize, String)>) {
    let mut text = String::new();
    let mut want = Vec::new();
    for (item, gap) in items {
        match item {
            Item::Token(p) => {
                for (off, len, kind) in &p.expect {
                    want.push((text.len() + off, text.len() + off + len, kind.to_string()));
                }
                text.push_str(&p.text);
            }
            Item::Word(w) => text.push_str(w),
        }
        text.push_str(gap);
    }
    want.sort();
    (text, want)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn planted_tokens_are_found_exactly(items in line(), defang in any::<bool>()) {
        let (text, want) = assemble(&items);
        let ex = Extractor::new(Options { defanged: defang });
        let mut got: Vec<(usize, usize, String)> = ex
            .tokens(text.as_bytes())
            .map(|f| {
                check_found(text.as_bytes(), &f);
                (f.start, f.end, f.kind().name().to_string())
            })
            .collect();
        got.sort();
        prop_assert_eq!(got, want, "{:?}", text);
    }

    #[test]
    fn defanged_tokens_refang_to_the_plain_form(
        tokens in prop::collection::vec(prop_oneof![
            ipv4().prop_map(|s| whole(s, "ipv4")),
            domain().prop_map(|s| whole(s, "domain")),
            email().prop_map(|s| whole(s, "email")),
            url(false),
        ], 1..6),
        style in any::<u64>(),
    ) {
        let ex = Extractor::new(Options { defanged: true });
        let mut refanged = Vec::new();
        for (k, p) in tokens.iter().enumerate() {
            let (raw, plain) = defang_text(&p.text, style >> (k * 4 % 60));
            let found: Vec<Found<'_>> = ex.tokens(raw.as_bytes()).collect();
            prop_assert_eq!(found.len(), p.expect.len(), "{:?}: {:?}", raw, found);
            let f = found[0];
            prop_assert_eq!((f.start, f.end, f.kind().name()), (0, raw.len(), p.expect[0].2));
            prop_assert!(f.defanged);
            refang(&raw.as_bytes()[f.start..f.end], &mut refanged);
            prop_assert_eq!(&refanged[..], plain.as_bytes(), "{:?}", raw);
        }
    }

    #[test]
    fn any_bytes_are_safe(
        bytes in prop::collection::vec(prop_oneof![
            3 => any::<u8>(),
            4 => prop::sample::select(b".:@[]()/-_%0123456789abcdefABCDEFxn \"'<>\xc3\xa9\xe2\x80".to_vec()),
        ], 0..600),
        defang in any::<bool>(),
    ) {
        let ex = Extractor::new(Options { defanged: defang });
        let text = &bytes[..];
        for f in ex.tokens(text) {
            check_found(text, &f);
            if let Token::Domain(d) = f.token {
                if d.is_ascii() && !f.defanged {
                    let s = std::str::from_utf8(d).unwrap();
                    prop_assert!(normalize::domain(s).is_ok(), "{:?}", s);
                }
            }
            if let Token::Email(e) = f.token {
                if e.is_ascii() && !f.defanged {
                    let s = std::str::from_utf8(e).unwrap();
                    prop_assert!(normalize::email(s).is_ok(), "{:?}", s);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput

/// ~100 MB of synthetic nginx "combined" lines. Run with
/// `cargo test --release --test extract -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    let mut rng = StdRng::seed_from_u64(7);
    let paths = [
        "/",
        "/index.html",
        "/api/v1/users",
        "/static/app.js",
        "/images/logo.png",
        "/login?next=%2Fhome",
        "/search?q=threat+intel&page=2",
    ];
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
        "curl/8.5.0",
        "Go-http-client/1.1",
    ];
    let referers = [
        "-",
        "https://www.example.com/",
        "https://www.google.com/search?q=example",
        "http://shop.example.org/cart",
    ];
    let mut text = String::with_capacity(101 << 20);
    while text.len() < 100 << 20 {
        let ip = Ipv4Addr::from(rng.r#gen::<u32>());
        let line = format!(
            "{ip} - - [17/May/2015:10:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" {} {} \"{}\" \"{}\"\n",
            rng.gen_range(0..60),
            rng.gen_range(0..60),
            paths[rng.gen_range(0..paths.len())],
            [200, 200, 200, 304, 404][rng.gen_range(0..5)],
            rng.gen_range(0..100_000),
            referers[rng.gen_range(0..referers.len())],
            agents[rng.gen_range(0..agents.len())],
        );
        text.push_str(&line);
    }
    let bytes = text.as_bytes();
    // Lines are cut before timing: a pipeline has its own (memchr) line splitter.
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let best_of = |f: &dyn Fn() -> usize| {
        let mut best = f64::MAX;
        let mut n = 0;
        for _ in 0..7 {
            let start = Instant::now();
            n = f();
            best = best.min(start.elapsed().as_secs_f64());
        }
        (best, n)
    };
    let mb = bytes.len() as f64 / 1e6;
    for (name, ex) in [("plain", plain()), ("defanged", defanged())] {
        let (t, n) = best_of(&|| lines.iter().map(|l| ex.tokens(l).count()).sum());
        println!(
            "{name:9} per line: {mb:.1} MB, {lines} lines in {t:.3} s = {:.0} MB/s, {n} tokens",
            mb / t,
            lines = lines.len()
        );
        let (t, n) = best_of(&|| ex.tokens(bytes).count());
        println!("{name:9} buffer  : {:.0} MB/s, {n} tokens", mb / t);
    }
    // Text with nothing to find: the skipping speed.
    let prose = "the quick brown fox jumps over the lazy dog while nothing here looks like a token at all\n".repeat((100 << 20) / 90);
    let (t, n) = best_of(&|| plain().tokens(prose.as_bytes()).count());
    println!(
        "prose     buffer  : {:.0} MB/s, {n} tokens",
        prose.len() as f64 / 1e6 / t
    );
    // The real Apache log from the shared data, if present.
    if let Ok(real) =
        std::fs::read("/work/shared/data/logs/elastic-examples/apache_access_combined.log")
    {
        let big = real.repeat(40);
        let lines: Vec<&[u8]> = big.split(|&b| b == b'\n').collect();
        let (t, n) = best_of(&|| lines.iter().map(|l| plain().tokens(l).count()).sum());
        println!(
            "apache    per line: {:.1} MB, {:.0} MB/s, {n} tokens",
            big.len() as f64 / 1e6,
            big.len() as f64 / 1e6 / t
        );
    }
}
