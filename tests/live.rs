//! Live capture: `trawl sniff` on one end of a veth pair whose other end lives in a network
//! namespace the test creates; traffic to listed indicators is sent from the namespace and the
//! hits are checked. Needs root and iproute2 (CI runs as root); skipped with a printed reason
//! otherwise. The namespace and links are removed whatever happens.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Removes the namespace and the veth pair on drop.
struct Netns {
    ns: String,
    host_if: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        ip(&["link", "del", &self.host_if]);
        ip(&["netns", "del", &self.ns]);
    }
}

fn in_ns(ns: &str, script: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", ns, "bash", "-c", script])
        .status()
        .is_ok_and(|s| s.success())
}

/// `printf` escapes for arbitrary bytes.
fn escaped(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\x{b:02x}")).collect()
}

/// A veth pair, one end (10.77.N.1) here and the other (10.77.N.2) in a new namespace whose
/// default route leads here; `None` (skipped, said why) without root or iproute2.
fn veth_pair(n: u8) -> Option<Netns> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || !ip(&["-V"]) {
        println!("skipped: needs root and iproute2");
        return None;
    }
    let id = std::process::id() % 10_000;
    let net = Netns {
        ns: format!("trawl-test-{id}-{n}"),
        host_if: format!("trw{id}{n}a"),
    };
    let peer = format!("trw{id}{n}b");
    assert!(ip(&["netns", "add", &net.ns]));
    assert!(ip(&[
        "link",
        "add",
        &net.host_if,
        "type",
        "veth",
        "peer",
        "name",
        &peer
    ]));
    assert!(ip(&["link", "set", &peer, "netns", &net.ns]));
    // No IPv6 on the pair: no router or neighbour solicitations, a link that stays quiet.
    for (ns, dev) in [(None, &net.host_if), (Some(&net.ns), &peer)] {
        let sysctl = format!("sysctl -qw net.ipv6.conf.{dev}.disable_ipv6=1");
        match ns {
            None => assert!(Command::new("bash").args(["-c", &sysctl]).status().is_ok()),
            Some(ns) => assert!(in_ns(ns, &sysctl), "{sysctl}"),
        }
    }
    assert!(ip(&[
        "addr",
        "add",
        &format!("10.77.{n}.1/24"),
        "dev",
        &net.host_if
    ]));
    assert!(ip(&["link", "set", &net.host_if, "up"]));
    for cmd in [
        format!("ip addr add 10.77.{n}.2/24 dev {peer}"),
        format!("ip link set {peer} up"),
        "ip link set lo up".to_string(),
        format!("ip route add default via 10.77.{n}.1"),
    ] {
        assert!(in_ns(&net.ns, &cmd), "{cmd}");
    }
    Some(net)
}

/// Compiles `feed` into `set` with the trawl under test.
fn compile(feed: &Path, set: &Path) {
    let compiled = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["compile", "-q", "-o"])
        .arg(set)
        .arg(feed)
        .status()
        .unwrap();
    assert!(compiled.success());
}

/// Starts `trawl sniff -i IFACE OPTIONS -s SET -o HITS` and waits until it says it captures;
/// returns the process and the rest of its stderr.
fn start_sniff(
    iface: &str,
    options: &[&str],
    set: &Path,
    hits: &Path,
) -> (Child, BufReader<ChildStderr>) {
    let mut sniff = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["sniff", "-i", iface])
        .args(options)
        .arg("-s")
        .arg(set)
        .arg("-o")
        .arg(hits)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(sniff.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    assert!(line.contains("capturing on"), "{line}");
    (sniff, err)
}

#[test]
fn sniff_sees_dns_udp_and_http_from_a_namespace() {
    let Some(net) = veth_pair(0) else { return };

    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.csv");
    std::fs::write(&feed, "value,kind\nevil.example,domain\n203.0.113.7,ipv4\nhttp://malware.example/payload.exe,url\n").unwrap();
    let set = dir.path().join("intel.tset");
    compile(&feed, &set);
    let hits = dir.path().join("hits.jsonl");
    // A hit log from an earlier run: `-o` appends to it.
    std::fs::write(&hits, "{\"earlier\":\"run\"}\n").unwrap();
    let (mut sniff, mut err) = start_sniff(
        &net.host_if,
        &["--dedup-window", "0", "-j", "2"],
        &set,
        &hits,
    );

    let listener = TcpListener::bind("10.77.0.1:8080").unwrap();
    let query = trawl_tools::pcap::dns_query(0x4242, "www.evil.example");
    assert!(in_ns(
        &net.ns,
        &format!("printf '{}' > /dev/udp/10.77.0.1/53", escaped(&query))
    ));
    assert!(in_ns(&net.ns, "printf 'ping' > /dev/udp/203.0.113.7/4444"));
    // One write, so the request head is one segment (bash's printf writes line by line, and
    // trawl reads the first segment of a request, without reassembly).
    let request = dir.path().join("request.txt");
    std::fs::write(
        &request,
        "GET /payload.exe HTTP/1.1\r\nHost: malware.example\r\n\r\n",
    )
    .unwrap();
    let send = format!(
        "exec 3<>/dev/tcp/10.77.0.1/8080; cat {} >&3; sleep 0.2",
        request.display()
    );
    assert!(in_ns(&net.ns, &send));
    let (mut conn, _) = listener.accept().unwrap();
    let mut buf = [0u8; 256];
    let _ = conn.read(&mut buf);

    let deadline = Instant::now() + Duration::from_secs(10);
    let wanted = ["dns.question.name", "destination.ip", "url.full"];
    let read_fields = || -> Vec<String> {
        std::fs::read_to_string(&hits)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                v["threat"]["enrichments"][0]["matched"]["field"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    while !wanted.iter().all(|w| read_fields().iter().any(|f| f == w)) && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    // SIGINT: stop capturing, drain, flush, print the final counters.
    Command::new("kill")
        .args(["-INT", &sniff.id().to_string()])
        .status()
        .unwrap();
    let status = sniff.wait().unwrap();
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{rest}");
    assert!(rest.contains("packets:"), "{rest}");
    let fields = read_fields();
    assert!(
        std::fs::read_to_string(&hits)
            .unwrap()
            .starts_with("{\"earlier\":\"run\"}\n"),
        "the earlier hits are kept"
    );
    for w in wanted {
        assert!(
            fields.iter().any(|f| f == w),
            "missing {w} in {fields:?}\n{rest}"
        );
    }
}

/// On a link that stays quiet, a hit is written without waiting for more traffic, the stats
/// lines keep coming, and SIGINT ends the capture at once (a blocking read waited for the next
/// packet: the hit, the stats and the stop all hung on traffic that might never come).
#[test]
fn sniff_on_a_quiet_link_writes_its_hit_and_stops_at_once() {
    let Some(net) = veth_pair(1) else { return };
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "203.0.113.9\n").unwrap();
    let set = dir.path().join("intel.tset");
    compile(&feed, &set);
    let hits = dir.path().join("hits.jsonl");
    let (mut sniff, mut err) =
        start_sniff(&net.host_if, &["--stats-interval", "200ms"], &set, &hits);
    // One datagram, then silence.
    assert!(in_ns(&net.ns, "printf 'x' > /dev/udp/203.0.113.9/4444"));
    let deadline = Instant::now() + Duration::from_secs(3);
    let hit = || std::fs::read_to_string(&hits).is_ok_and(|h| h.contains("203.0.113.9"));
    while !hit() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(hit(), "the hit of the only packet was not written");
    let stop = Instant::now();
    Command::new("kill")
        .args(["-INT", &sniff.id().to_string()])
        .status()
        .unwrap();
    let exited = loop {
        if let Some(status) = sniff.try_wait().unwrap() {
            break Some(status);
        }
        if stop.elapsed() > Duration::from_secs(3) {
            let _ = sniff.kill();
            let _ = sniff.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let status =
        exited.unwrap_or_else(|| panic!("SIGINT on a quiet link did not stop sniff\n{rest}"));
    assert!(status.success(), "{rest}");
    assert!(rest.contains("packets captured"), "stats lines: {rest}");
    assert!(rest.contains("packets:"), "final counters: {rest}");
}
