use std::net::IpAddr;

use super::ast::*;
use super::classify::compile;
use super::*;
use crate::indicators::model::Kind;
use crate::indicators::normalize;

/// The 23 examples of the STIX 2.1 patterning specification, as shipped with the OASIS
/// pattern validator (`stix2patterns/test/v21/spec_examples.txt`).
const SPEC_EXAMPLES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/testdata/stix/patterns/spec_examples.txt"
));

fn class(p: &str) -> Class {
    compile(p, DEFAULT_CIDR_EQUALS_CONTAINS).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn keys(p: &str) -> Vec<(Kind, String)> {
    match class(p) {
        Class::Compiled(k) => k,
        Class::Unsupported(r) => panic!("{p}: unsupported: {r}"),
    }
}

fn unsupported(p: &str) -> String {
    match class(p) {
        Class::Unsupported(r) => r,
        Class::Compiled(k) => panic!("{p}: compiled to {k:?}"),
    }
}

fn k(kind: Kind, raw: &str) -> (Kind, String) {
    (kind, raw.to_string())
}

#[test]
fn spec_examples_parse_and_classify() {
    use Kind::*;
    let compiled = |v: Vec<(Kind, String)>| Class::Compiled(v);
    let unsup = |r: &str| Class::Unsupported(r.to_string());
    let expected = [
        compiled(vec![k(
            Sha256,
            "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f",
        )]),
        unsup("MATCHES comparison"),
        unsup("AND with a residual condition"),
        unsup("observation-level AND"),
        unsup("WITHIN qualifier"),
        unsup("observation-level AND"),
        unsup("MATCHES comparison"),
        unsup("no indicator kind for object path file:name"),
        unsup("ordering comparison '>'"),
        unsup("no indicator kind for object path file:mime_type"),
        compiled(vec![k(Ipv4, "203.0.113.33/32")]),
        unsup("REPEATS qualifier"),
        unsup("AND with a residual condition"),
        compiled(vec![
            k(Url, "http://example.com/foo"),
            k(Url, "http://example.com/bar"),
        ]),
        unsup("no indicator kind for object path x509-certificate:issuer"),
        unsup("no indicator kind for object path windows-registry-key:key"),
        unsup("no indicator kind for object path file:name"),
        unsup("AND with a residual condition"),
        unsup("no indicator kind for object path x-usb-device:usbdrive.serial_number"),
        // WITHIN binds to the second observation only; FOLLOWEDBY is the top.
        unsup("FOLLOWEDBY"),
        compiled(vec![k(Ipv6, "2001:0db8:dead:beef:0000:0000:0000:0000/64")]),
        unsup("observation-level AND"),
        compiled(vec![k(Md5, "cead3f77f6cda6ec00f57d76c9a69faa")]),
    ];
    let lines: Vec<&str> = SPEC_EXAMPLES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 23);
    for (line, want) in lines.iter().zip(expected) {
        let parsed = parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_eq!(classify(&parsed, true), want, "{line}");
    }
}

#[test]
fn spec_example_ast_shape() {
    let p = parse(
        "([file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] FOLLOWEDBY \
         [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) WITHIN 300 SECONDS",
    )
    .unwrap();
    let ObsExpr::Qualified { expr, qualifiers } = p.expr else {
        panic!("not qualified")
    };
    assert_eq!(qualifiers, vec![Qualifier::Within(300.0)]);
    let ObsExpr::FollowedBy(items) = *expr else {
        panic!("not FOLLOWEDBY")
    };
    let ObsExpr::Observation(CompExpr::Test(t)) = &items[1] else {
        panic!("not a single test")
    };
    assert_eq!(t.path.to_string(), "win-registry-key:key");
    assert_eq!(
        t.op,
        Op::Eq(Literal::Str("HKEY_LOCAL_MACHINE\\foo\\bar".into()))
    );

    let p = parse(
        "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'[*] \
         NOT IN ('a\\'b', 1, -2.5, true, h'ff', b'AQIDBA==', t'2016-06-01T01:30:00.123Z')]",
    )
    .unwrap();
    let ObsExpr::Observation(CompExpr::Test(t)) = p.expr else {
        panic!("not a single test")
    };
    assert!(t.negated);
    assert_eq!(
        t.path.steps,
        vec![
            Step::Key("extensions".into()),
            Step::Key("http-request-ext".into()),
            Step::Key("request_header".into()),
            Step::Key("User-Agent".into()),
            Step::AnyIndex,
        ]
    );
    assert_eq!(
        t.path.to_string(),
        "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'[*]"
    );
    assert_eq!(
        t.op,
        Op::In(vec![
            Literal::Str("a'b".into()),
            Literal::Int(1),
            Literal::Float(-2.5),
            Literal::Bool(true),
            Literal::Hex("ff".into()),
            Literal::Binary("AQIDBA==".into()),
            Literal::Timestamp("2016-06-01T01:30:00.123Z".into()),
        ])
    );
}

/// `PASS_CASES` and `TIMESTAMP_PASS_CASES` of the OASIS validator's `test_validator.py`
/// (v21), plus syntax from stix2-matcher's v21 tests.
#[test]
fn validator_pass_cases_parse() {
    let cases = [
        "[file:size = 1280]",
        "[file:size != 1280]",
        "[file:size < 1024]",
        "[file:size <= 1024]",
        "[file:size > 1024]",
        "[file:size >= 1024]",
        "[file:file_name = 'my_file_name']",
        "[file:extended_properties.'ntfs-ext'.sid = '234']",
        r"[emailaddr:value MATCHES '.+\\@ibm\\.com$' OR file:name MATCHES '^Final Report.+\\.exe$']",
        "[ipv4addr:value ISSUBSET '192.168.0.1/24']",
        "[ipv4addr:value NOT ISSUBSET '192.168.0.1/24']",
        "[user-account:value = 'Peter'] AND [user-account:value != 'Paul'] AND [user-account:value = 'Mary'] WITHIN 5 SECONDS",
        "[file:file_system_properties.file_name LIKE 'name%']",
        "[file:file_name IN ('test.txt', 'test2.exe', 'README')]",
        "[file:size IN (1024, 2048, 4096)]",
        "[network-connection:extended_properties[0].source_payload MATCHES 'dGVzdHRlc3R0ZXN0']",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS",
        "[x_whatever:detected == t'2018-03-22T12:11:14.1Z']",
        "[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']",
        "[foo:bar=1] REPEATS 9 TIMES",
        "[network-traffic:start = '2018-04-20T12:36:24.558Z']",
        "( [(network-traffic:dst_port IN(443,6443,8443) AND network-traffic:src_packets != 0) ])",
        r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar']) WITHIN 5 SECONDS WITHIN 6 SECONDS",
        r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES) REPEATS 2 TIMES",
        "[network-traffic:src_port = 37020 AND user-account:user_id = 'root'] \
         START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' OR \
         [ipv4-addr:value = '192.168.122.83'] \
         START t'2016-06-01T03:55:00.123Z' STOP t'2016-06-01T04:30:24.743Z'",
        "[file:hashes[*] = '8665c8d477534008b3058b72e2dae8ae']",
        "[x:created = t'2024-01-15T12:30:45Z']",
        "[x:created = t'2024-01-15T12:30:45.123456Z']",
        "[x:created = t'2000-02-29T12:00:00Z']",
        "[file:name = 'test'] START t'2024-01-01T00:00:00Z' STOP t'2024-12-31T23:59:59Z'",
        "[x:created = t'2024-02-30T12:00:00Z']",
        "[x:created = t'2023-02-29T12:00:00Z']",
        // stix2-matcher v21 tests
        "[test:int NOT != 5]",
        "[test:int IN (-4, 5, 6.6)]",
        "[test:string NOT IN ()]",
        "[person:name = 'bob'] WITHIN .0001 SECONDS",
        "[person:age < 20] REPEATS 10 TIMES START '2004-10-11T21:40:00Z' STOP '2004-10-11T21:50:00Z'",
        "([person:age < 30] AND [person:name > 'aaron']) WITHIN 2 SECONDS REPEATS 3 TIMES",
        "[person:name MATCHES ''] REPEATS 2 TIMES START t'1994-11-29T13:37:50Z' STOP t'1994-11-29T13:37:58Z'",
        "[binary_test:name_bin NOT MATCHES '\u{103}lice']",
        "[person:name='carol'] FOLLOWEDBY [person:name < 'elizabeth'] AND [person:age < 15]",
        "[file:size = 5] /* a comment */ OR // another\n [file:size = 6]",
        "[a:b = 1]\u{3000}OR\u{a0}[a:b = 2]",
        "[EXISTS_is_an_identifier:ORDER = 1 AND INx:y = 'z']",
        "[EXISTS file:name]",
    ];
    for c in cases {
        if let Err(e) = parse(c) {
            panic!("{c}: {e}");
        }
    }
}

/// `FAIL_CASES` and `TIMESTAMP_FAIL_CASES` of the validator, and the parse errors of
/// stix2-matcher's temporal and null tests.
#[test]
fn validator_fail_cases_do_not_parse() {
    let cases = [
        "file:size = 1280",
        "[file:size = ]",
        "[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]",
        "[file.size = 1280]",
        r"[file:name MATCHES /.*\\.dll/]",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN ]",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 HOURS]",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN -5 SECONDS]",
        "[network-traffic:dst_ref.value ISSUBSET ]",
        "[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']",
        "[x_whatever:detected == t'2457-73-22T32:81:84.1Z']",
        "[artifact:payload_bin = b'====']",
        "[foo:bar=1] within 2 seconds",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] WITHIN 5 SECONDS WITHIN 6 SECONDS",
        r"([win-registry-key:key = 'hkey_local_machine\\foo\\bar'] REPEATS 2 TIMES REPEATS 3 TIMES)",
        r"[win-registry-key:key = 'hkey_local_machine\\foo\\bar'] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z' START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00.123Z'",
        "[x:created = t'2024-13-01T12:00:00Z']",
        "[x:created = t'2024-00-01T12:00:00Z']",
        "[x:created = t'2024-01-32T12:00:00Z']",
        "[x:created = t'2024-01-00T12:00:00Z']",
        "[x:created = t'2024-01-15T25:00:00Z']",
        "[x:created = t'2024-01-15T12:60:00Z']",
        "[x:created = t'2024-01-15T12:30:61Z']",
        "[x:created = t'2024-01-15T12:30:45']",
        "[x:created = t'not-a-timestamp']",
        "[x:created = t'2024/01/15T12:30:45Z']",
        // stix2-matcher: temporal qualifier and null parse errors
        "[person:name = 'alice'] WITHIN 1 second",
        "[person:name = 'alice'] WITHIN -123.367 SECONDS",
        "[person:name = 'hannah'] START t'1994-11-29T13:37:58Z'",
        "[person:name = 'hannah'] START t'1994-11-29t13:37:58Z' STOP t'1994-11-29T13:37:58Z'",
        "[person:name = 'hannah'] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:58z'",
        "[person:name = 'hannah'] START t'1994-11-29T13:37Z' STOP t'1994-11-29T13:37:58Z'",
        "[null_test:name = null]",
        "[null_test:name IN (null, null, null)]",
        "[null_test:name LIKE null]",
        "[null_test:name ISSUBSET null]",
        // more: lexical and structural errors
        "",
        "[]",
        "[file:name = 'x'",
        "[file:name = 'x'] OR",
        "[file:name = 'unterminated]",
        r"[file:name = 'bad \d escape']",
        "[file:extensions.windows-pebinary-ext.x = 1]",
        "[file:name = 'x'] [file:name = 'y']",
        "[file:size = 01]",
        "[file:size = 99999999999999999999]",
        "[a:b[x] = 1]",
        "[a:b = h'abc']",
        "[a:b = 'x'] /* unterminated",
        "[a:b < true]",
        "[a:b NOT EXISTS]",
        "[a:b = 1] and [a:b = 2]",
    ];
    for c in cases {
        assert!(parse(c).is_err(), "{c:?} parsed");
    }
}

#[test]
fn parse_errors_say_where() {
    let e = parse("[file:size = ]").unwrap_err();
    assert_eq!(e.column, 14);
    assert_eq!(e.to_string(), "column 14: expected a literal, found ']'");
    let e = parse("[foo:bar=1] within 2 seconds").unwrap_err();
    assert_eq!(e.column, 13);
    let e = parse("[file:hashes.MD5 =? 'x']").unwrap_err();
    assert_eq!(e.to_string(), "column 19: unexpected character '?'");
}

/// The validator refuses `'f00'` as a SHA-256 at parse time; here it parses and classifies,
/// and canonicalisation refuses the key.
#[test]
fn malformed_hash_fails_at_normalisation() {
    let ks = keys("[file:hashes.'SHA-256' = 'f00']");
    assert_eq!(ks, vec![k(Kind::Sha256, "f00")]);
    assert_eq!(
        normalize::value(ks[0].0, &ks[0].1),
        Err(normalize::Reject::BadHash)
    );
}

#[test]
fn nesting_is_capped_not_recursed() {
    let nested = |n: usize| format!("{}[a:b = 1]{}", "(".repeat(n), ")".repeat(n));
    assert!(parse(&nested(MAX_DEPTH - 1)).is_ok());
    let e = parse(&nested(MAX_DEPTH + 1)).unwrap_err();
    assert!(e.message.contains("nesting deeper than 64"), "{e}");
    // Far beyond any stack: still just an error.
    assert!(parse(&nested(200_000)).is_err());
    let inner = |n: usize| format!("[{}a:b = 1{}]", "(".repeat(n), ")".repeat(n));
    assert!(parse(&inner(MAX_DEPTH - 1)).is_ok());
    assert!(parse(&inner(200_000)).is_err());
    // Long flat chains are iterative.
    let chain = vec!["[ipv4-addr:value = '198.51.100.1']"; 50_000].join(" OR ");
    assert_eq!(keys(&chain), vec![k(Kind::Ipv4, "198.51.100.1")]);
    let quals = format!("([a:b = 1]){}", " WITHIN 1 SECONDS".repeat(50_000));
    assert!(parse(&quals).is_ok());
}

#[test]
fn large_comparisons_stay_linear() {
    // Thousands of alternatives in one observation (feeds do this), with and without a guard.
    let ips: Vec<String> = (0..20_000u32)
        .map(|i| {
            format!(
                "network-traffic:dst_ref.value = '{}'",
                std::net::Ipv4Addr::from(0x0a00_0000 + i)
            )
        })
        .collect();
    let p = format!("[{}]", ips.join(" OR "));
    assert_eq!(keys(&p).len(), 20_000);
    let p = format!(
        "[({}) AND network-traffic:dst_ref.type = 'ipv4-addr']",
        ips.join(" OR ")
    );
    let ks = keys(&p);
    assert_eq!(ks.len(), 20_000);
    assert!(ks.iter().all(|(kind, _)| *kind == Kind::Ipv4));
    // A long AND chain of guards around one key.
    let guards = vec!["network-traffic:dst_ref.type = 'ipv4-addr'"; 20_000].join(" AND ");
    let p = format!("[{guards} AND network-traffic:dst_ref.value = '198.51.100.1']");
    assert_eq!(keys(&p), vec![k(Kind::Ipv4, "198.51.100.1")]);
    // A product of ORs is never expanded: every combination has two keys.
    let or2 = "(domain-name:value = 'a.example' OR domain-name:value = 'b.example')";
    let p = format!("[{}]", [or2; 40].join(" AND "));
    assert_eq!(unsupported(&p), "AND with a residual condition");
    // OR distributed over a guard compiles.
    assert_eq!(
        keys(
            "[(network-traffic:dst_ref.value = '198.51.100.1' OR \
             network-traffic:dst_ref.value = '198.51.100.2') AND \
             network-traffic:dst_ref.type = 'ipv4-addr']"
        ),
        vec![k(Kind::Ipv4, "198.51.100.1"), k(Kind::Ipv4, "198.51.100.2")]
    );
    // Nested: each branch keeps its own guard.
    assert_eq!(
        keys(
            "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
             OR (network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'evil.example')]"
        ),
        vec![
            k(Kind::Ipv4, "198.51.100.1"),
            k(Kind::Domain, "evil.example")
        ]
    );
    // Distinct keys are deduplicated without quadratic work.
    let doms: Vec<String> = (0..20_000)
        .map(|i| format!("'d{}.example'", i % 10_000))
        .collect();
    let p = format!("[domain-name:value IN ({})]", doms.join(", "));
    assert_eq!(keys(&p).len(), 10_000);
}

#[test]
fn guards_that_do_not_fit_are_residual() {
    let cases = [
        // A guard in an OR would match every IPv4 destination.
        (
            "[network-traffic:dst_ref.type = 'ipv4-addr' OR network-traffic:dst_ref.value = '198.51.100.1']",
            "no indicator kind for object path network-traffic:dst_ref.type",
        ),
        // Two guards that disagree.
        (
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.type = 'ipv6-addr' \
             AND network-traffic:dst_ref.value = '198.51.100.1']",
            "AND with a residual condition",
        ),
        // An OR of guards is not one kind.
        (
            "[(network-traffic:dst_ref.type = 'ipv4-addr' OR network-traffic:dst_ref.type = 'ipv6-addr') \
             AND network-traffic:dst_ref.value = '198.51.100.1']",
            "AND with a residual condition",
        ),
        // A guard on a fixed-kind key path.
        (
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND \
             network-traffic:extensions.'http-request-ext'.request_value = '/gate.php']",
            "AND with a residual condition",
        ),
        // Nested guards that disagree with an inner one.
        (
            "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
             AND network-traffic:dst_ref.type = 'domain-name']",
            "AND with a residual condition",
        ),
        (
            "[(domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1') AND domain-name:value = 'b.example']",
            "AND across different object types",
        ),
    ];
    for (p, reason) in cases {
        assert_eq!(unsupported(p), reason, "{p}");
    }
    // A non-key OR under an AND of the same object: the AND is residual, not cross-type.
    assert_eq!(
        unsupported("[(file:name = 'x' OR file:size = 1) AND file:hashes.MD5 = 'y']"),
        "AND with a residual condition"
    );
    // Agreeing guards, repeated or nested, are fine.
    assert_eq!(
        keys(
            "[(network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1') \
             AND network-traffic:dst_ref.type = 'ipv4-addr']"
        ),
        vec![k(Kind::Ipv4, "198.51.100.1")]
    );
}

#[test]
fn key_paths_map_to_kinds() {
    use Kind::*;
    let cases = [
        ("[ipv4-addr:value = '198.51.100.1']", Ipv4, "198.51.100.1"),
        ("[ipv6-addr:value = '2001:db8::1']", Ipv6, "2001:db8::1"),
        (
            "[domain-name:value = 'evil.example']",
            Domain,
            "evil.example",
        ),
        (
            "[url:value = 'http://evil.example/x']",
            Url,
            "http://evil.example/x",
        ),
        (
            "[email-addr:value = 'a@evil.example']",
            Email,
            "a@evil.example",
        ),
        (
            "[email-message:from_ref.value = 'a@evil.example']",
            Email,
            "a@evil.example",
        ),
        (
            "[email-message:sender_ref.value = 'a@evil.example']",
            Email,
            "a@evil.example",
        ),
        (
            "[email-message:to_refs[*].value = 'a@evil.example']",
            Email,
            "a@evil.example",
        ),
        (
            "[email-message:cc_refs[*].value = 'a@evil.example']",
            Email,
            "a@evil.example",
        ),
        ("[file:hashes.MD5 = 'x']", Md5, "x"),
        ("[file:hashes.md5 = 'x']", Md5, "x"),
        ("[file:hashes.'SHA-1' = 'x']", Sha1, "x"),
        ("[file:hashes.SHA1 = 'x']", Sha1, "x"),
        ("[file:hashes.'SHA-256' = 'x']", Sha256, "x"),
        ("[file:hashes.sha256 = 'x']", Sha256, "x"),
        ("[file:hashes.SHA256 = 'x']", Sha256, "x"),
        ("[file:hashes.'SHA-512' = 'x']", Sha512, "x"),
        ("[x509-certificate:hashes.MD5 = 'x']", X509Md5, "x"),
        ("[x509-certificate:hashes.'SHA-1' = 'x']", X509Sha1, "x"),
        ("[x509-certificate:hashes.'SHA-256' = 'x']", X509Sha256, "x"),
        (
            "[network-traffic:dst_ref.value = '198.51.100.1']",
            Ipv4,
            "198.51.100.1",
        ),
        (
            "[network-traffic:src_ref.value = '2001:db8::/32']",
            Ipv6,
            "2001:db8::/32",
        ),
        (
            "[network-traffic:dst_ref.value = 'evil.example']",
            Domain,
            "evil.example",
        ),
        (
            "[network-traffic:extensions.'http-request-ext'.request_value = '/gate.php']",
            HttpRequest,
            "/gate.php",
        ),
        (
            "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'EvilBot/1.0']",
            HttpRequest,
            "EvilBot/1.0",
        ),
        (
            "[network-traffic:extensions.'http-request-ext'.request_header.'user-agent'[*] = 'EvilBot/1.0']",
            HttpRequest,
            "EvilBot/1.0",
        ),
        (
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            Ipv4,
            "198.51.100.0/24",
        ),
        (
            "[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24']",
            Ipv4,
            "198.51.100.0/24",
        ),
        (
            "[domain-name:value == 'evil.example']",
            Domain,
            "evil.example",
        ),
    ];
    for (p, kind, raw) in cases {
        assert_eq!(keys(p), vec![k(kind, raw)], "{p}");
    }
}

#[test]
fn unsupported_reasons_name_the_construct() {
    let cases = [
        ("[ipv4-addr:value != '198.51.100.1']", "'!=' comparison"),
        ("[ipv4-addr:value <> '198.51.100.1']", "'!=' comparison"),
        ("[ipv4-addr:value NOT = '198.51.100.1']", "NOT ="),
        ("[ipv4-addr:value NOT IN ('198.51.100.1')]", "NOT IN"),
        (
            "[ipv4-addr:value NOT ISSUBSET '198.51.100.0/24']",
            "NOT ISSUBSET",
        ),
        ("[file:size < 5]", "ordering comparison '<'"),
        ("[file:size >= 5]", "ordering comparison '>='"),
        (
            "[domain-name:value LIKE '%.evil.example']",
            "LIKE comparison",
        ),
        ("[domain-name:value MATCHES 'evil']", "MATCHES comparison"),
        (
            "[ipv4-addr:value ISSUPERSET '198.51.100.1']",
            "ISSUPERSET comparison",
        ),
        ("[EXISTS domain-name:value]", "EXISTS test"),
        (
            "[domain-name:value = 'evil.example'] WITHIN 5 SECONDS",
            "WITHIN qualifier",
        ),
        (
            "[domain-name:value = 'evil.example'] REPEATS 2 TIMES",
            "REPEATS qualifier",
        ),
        (
            "[domain-name:value = 'evil.example'] START t'2016-06-01T00:00:00Z' STOP t'2016-06-02T00:00:00Z'",
            "START/STOP qualifier",
        ),
        (
            "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']",
            "observation-level AND",
        ),
        (
            "[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']",
            "FOLLOWEDBY",
        ),
        // One unsupported branch makes the whole OR unsupported: nothing is partly compiled.
        (
            "[domain-name:value = 'a.example'] OR ([domain-name:value = 'b.example'] AND [url:value = 'http://c.example/'])",
            "observation-level AND",
        ),
        (
            "[domain-name:value = 'a.example' OR domain-name:value LIKE 'b%']",
            "LIKE comparison",
        ),
        (
            "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:size = 5]",
            "AND with a residual condition",
        ),
        (
            "[network-traffic:dst_ref.value = '198.51.100.1' AND network-traffic:dst_port = 443]",
            "AND with a residual condition",
        ),
        (
            "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.1']",
            "AND with a residual condition",
        ),
        (
            "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f' AND file:hashes.'SHA-1' = 'x']",
            "AND with a residual condition",
        ),
        (
            "[domain-name:value = 'a.example' AND ipv4-addr:value = '198.51.100.1']",
            "AND across different object types",
        ),
        (
            "[x509-certificate:hashes.'SHA3-256' = 'x']",
            "certificate hash algorithm SHA3-256 not matched",
        ),
        (
            "[file:hashes.'SHA3-256' = 'x']",
            "file hash algorithm SHA3-256 not matched",
        ),
        (
            "[file:hashes.SSDEEP = 'x']",
            "file hash algorithm SSDEEP not matched",
        ),
        (
            "[file:hashes[*] = 'x']",
            "no indicator kind for object path file:hashes[*]",
        ),
        (
            "[file:name = 'x']",
            "no indicator kind for object path file:name",
        ),
        (
            "[network-traffic:dst_ref.type = 'ipv4-addr']",
            "no indicator kind for object path network-traffic:dst_ref.type",
        ),
        (
            "[network-traffic:dst_ref.type = 'mac-addr' AND network-traffic:dst_ref.value = 'x']",
            "network-traffic reference of type mac-addr not matched",
        ),
        (
            "[email-message:to_refs[0].value = 'a@evil.example']",
            "list index in email-message:to_refs[0].value (only [*] is matched, a position is not)",
        ),
        (
            "[ipv4-addr:value = 5]",
            "comparison with a non-string literal",
        ),
        (
            "[ipv4-addr:value IN ('198.51.100.1', 5)]",
            "comparison with a non-string literal",
        ),
        (
            "[url:value ISSUBSET '198.51.100.0/24']",
            "ISSUBSET on a non-IP value (url:value)",
        ),
        (
            "[network-traffic:extensions.'http-request-ext'.request_method = 'get']",
            "no indicator kind for object path network-traffic:extensions.'http-request-ext'.request_method",
        ),
    ];
    for (p, reason) in cases {
        assert_eq!(unsupported(p), reason, "{p}");
    }
}

#[test]
fn misp_type_guards_compile_to_the_key() {
    use Kind::*;
    assert_eq!(
        keys(
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.7']"
        ),
        vec![k(Ipv4, "198.51.100.7")]
    );
    assert_eq!(
        keys(
            "[network-traffic:src_ref.type = 'ipv6-addr' AND network-traffic:src_ref.value = '2001:db8::7']"
        ),
        vec![k(Ipv6, "2001:db8::7")]
    );
    assert_eq!(
        keys(
            "[network-traffic:dst_ref.value = 'evil.example' AND network-traffic:dst_ref.type = 'domain-name']"
        ),
        vec![k(Domain, "evil.example")]
    );
    // The guard decides the kind; a contradicting literal is left to canonicalisation.
    assert_eq!(
        keys(
            "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = '198.51.100.7']"
        ),
        vec![k(Domain, "198.51.100.7")]
    );
}

#[test]
fn in_sets_and_or_union_keys() {
    use Kind::*;
    assert_eq!(
        keys("[domain-name:value IN ('a.example', 'b.example', 'a.example')]"),
        vec![k(Domain, "a.example"), k(Domain, "b.example")]
    );
    assert_eq!(keys("[domain-name:value IN ()]"), vec![]);
    assert_eq!(
        keys(
            "[domain-name:value = 'a.example' OR ipv4-addr:value = '198.51.100.1'] OR [url:value = 'http://c.example/']"
        ),
        vec![
            k(Domain, "a.example"),
            k(Ipv4, "198.51.100.1"),
            k(Url, "http://c.example/")
        ]
    );
}

#[test]
fn cidr_equals_contains_is_a_switch() {
    let p = "[ipv4-addr:value = '10.0.0.0/8']";
    assert_eq!(
        compile(p, true).unwrap(),
        Class::Compiled(vec![k(Kind::Ipv4, "10.0.0.0/8")])
    );
    assert_eq!(
        compile(p, false).unwrap(),
        Class::Unsupported("'=' with a CIDR literal (cidr_equals_contains is off)".into())
    );
    // A host prefix equals its address either way; ISSUBSET is containment either way.
    for p in [
        "[ipv4-addr:value = '10.0.0.1/32']",
        "[ipv6-addr:value = '2001:db8::1/128']",
        "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
    ] {
        assert!(
            matches!(compile(p, false).unwrap(), Class::Compiled(_)),
            "{p}"
        );
    }
}

/// Whether the pattern matches an observed `ipv4-addr` with `observed` as its value, by the
/// compiled keys and `ipnet` containment; `None` when the pattern is unsupported.
fn ip_match(pattern: &str, observed: &str) -> Option<bool> {
    let addr: IpAddr = observed.parse().unwrap();
    match class(pattern) {
        Class::Unsupported(_) => None,
        Class::Compiled(keys) => Some(keys.iter().any(|(kind, raw)| {
            matches!(kind, Kind::Ipv4 | Kind::Ipv6)
                && normalize::ip(raw).is_ok_and(|(net, _)| net.contains(&addr))
        })),
    }
}

/// stix2-matcher's v21 IPv4 cases (`test_basic_ops.py` `test:ip = '11.22.33.44'`, with the
/// string, set and empty-set cases and `test_observation_exprs.py`'s OR cases restated on an
/// IPv4 value), run through the exact subset. `Some(b)`: the matcher's answer, which we must
/// reproduce; `None`: the matcher answers but we do not compile the pattern (never widened).
#[test]
fn agrees_with_stix2_matcher_on_ipv4() {
    let observed = "11.22.33.44";
    let cases: &[(&str, Option<bool>)] = &[
        // test_basic_ops_ip_match / _nomatch
        ("[ipv4-addr:value ISSUBSET '11.22.41.123/20']", Some(true)),
        ("[ipv4-addr:value ISSUBSET '11.22.123.41/20']", Some(false)),
        ("[ipv4-addr:value NOT ISSUBSET '11.22.123.41/20']", None),
        ("[ipv4-addr:value NOT ISSUBSET '11.22.41.123/20']", None),
        ("[ipv4-addr:value ISSUPERSET '11.22.41.123']", None),
        // spec §9.6.1: identical address or subnet on both sides is a subset
        ("[ipv4-addr:value ISSUBSET '11.22.33.44']", Some(true)),
        ("[ipv4-addr:value ISSUBSET '11.22.33.44/32']", Some(true)),
        ("[ipv4-addr:value ISSUBSET '11.22.33.45']", Some(false)),
        // test_basic_ops_string_match / _nomatch, on the address
        ("[ipv4-addr:value = '11.22.33.44']", Some(true)),
        ("[ipv4-addr:value == '11.22.33.44']", Some(true)),
        ("[ipv4-addr:value = '11.22.33.45']", Some(false)),
        ("[ipv4-addr:value NOT = '11.22.33.45']", None),
        ("[ipv4-addr:value != '11.22.33.45']", None),
        ("[ipv4-addr:value = 1]", None),
        (
            "[ipv4-addr:value IN ('1.1.1.1', '11.22.33.44', '2.2.2.2')]",
            Some(true),
        ),
        ("[ipv4-addr:value IN ('1.1.1.1', '2.2.2.2')]", Some(false)),
        ("[ipv4-addr:value IN (1, 2, 3)]", None),
        // test_basic_ops_emptyset_match / _nomatch
        ("[ipv4-addr:value IN ()]", Some(false)),
        ("[ipv4-addr:value NOT IN ()]", None),
        // test_observation_exprs / test_comparison_exprs OR cases
        (
            "[ipv4-addr:value = '11.22.33.44'] OR [ipv4-addr:value = '9.9.9.9']",
            Some(true),
        ),
        (
            "[ipv4-addr:value = '8.8.8.8'] OR [ipv4-addr:value = '9.9.9.9']",
            Some(false),
        ),
        (
            "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value ISSUBSET '11.22.0.0/16']",
            Some(true),
        ),
        (
            "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value ISSUBSET '11.23.0.0/16']",
            Some(false),
        ),
        (
            "[ipv4-addr:value = '11.22.33.44'] AND [ipv4-addr:value = '11.22.33.44']",
            None,
        ),
        (
            "[ipv4-addr:value = '11.22.33.44'] FOLLOWEDBY [ipv4-addr:value = '11.22.33.44']",
            None,
        ),
        ("[ipv4-addr:value = '11.22.33.44'] WITHIN 1 SECONDS", None),
        (
            "[ipv4-addr:value = '11.22.33.44' AND ipv4-addr:value != '1.1.1.1']",
            None,
        ),
    ];
    for &(p, want) in cases {
        assert_eq!(ip_match(p, observed), want, "{p}");
    }
}

/// Where we differ from stix2-matcher on purpose: `= 'CIDR'` is containment (the matcher
/// compares strings and says no), and hash keys are case-insensitive.
#[test]
fn documented_deviations_from_the_matcher() {
    assert_eq!(
        ip_match("[ipv4-addr:value = '11.22.32.0/20']", "11.22.33.44"),
        Some(true)
    );
    assert_eq!(
        ip_match("[ipv4-addr:value = '11.22.33.44/32']", "11.22.33.44"),
        Some(true)
    );
    assert_eq!(
        keys("[file:hashes.sha256 = 'x']"),
        keys("[file:hashes.'SHA-256' = 'x']")
    );
}

#[test]
fn object_path_display_round_trips() {
    for p in [
        "file:hashes.'SHA-256'",
        "email-message:to_refs[*].value",
        "a:b[-1].'c\\'d'.e",
        "x:'IN'",
    ] {
        let parsed = parse(&format!("[{p} = 'v']")).unwrap();
        let ObsExpr::Observation(CompExpr::Test(t)) = parsed.expr else {
            panic!("{p}")
        };
        assert_eq!(t.path.to_string(), p);
    }
}

mod fuzz {
    use proptest::prelude::*;

    use super::super::classify::compile;
    use super::super::*;
    use crate::indicators::model::Kind;

    const TOKENS: &[&str] = &[
        "[",
        "]",
        "(",
        ")",
        ":",
        ".",
        ",",
        "*",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUBSET",
        "ISSUPERSET",
        "EXISTS",
        "IN",
        "START",
        "STOP",
        "WITHIN",
        "SECONDS",
        "REPEATS",
        "TIMES",
        "true",
        "ipv4-addr",
        "value",
        "file",
        "hashes",
        "'SHA-256'",
        "'198.51.100.0/24'",
        "'x\\'y'",
        "network-traffic",
        "dst_ref",
        "type",
        "'ipv4-addr'",
        "5",
        "-3",
        "1.5",
        "h'ff'",
        "b'AQ=='",
        "t'2020-01-01T00:00:00Z'",
        "[*]",
        "[0]",
        "/*",
        "*/",
        "'",
        "\\",
    ];

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
            let _ = compile(&s, true);
        }

        #[test]
        fn never_panics_on_token_soup(toks in prop::collection::vec(prop::sample::select(TOKENS), 0..60)) {
            let s = toks.join(" ");
            let _ = compile(&s, true);
            let _ = compile(&toks.concat(), false);
        }

        #[test]
        fn compiled_ip_lists_round_trip(a in any::<[u8; 4]>(), b in any::<[u8; 4]>()) {
            let a = std::net::Ipv4Addr::from(a);
            let b = std::net::Ipv4Addr::from(b);
            let p = format!("[ipv4-addr:value IN ('{a}', '{b}')] OR [ipv4-addr:value = '{b}']");
            let want: Vec<(Kind, String)> = if a == b {
                vec![(Kind::Ipv4, a.to_string())]
            } else {
                vec![(Kind::Ipv4, a.to_string()), (Kind::Ipv4, b.to_string())]
            };
            prop_assert_eq!(compile(&p, true).unwrap(), Class::Compiled(want));
        }
    }
}
