//! Writes a capture of QUIC connections for benchmarks: `gen-quic OUT.pcap CONNECTIONS
//! PACKETS [SEED]`. Each connection is a client's post-quantum ClientHello over two Initials
//! (server name `cN.quic.example`), then PACKETS short-header packets of 1,200 bytes, both ways
//! in turn, as an HTTP/3 transfer looks on the wire (their contents random: nothing reads them).

use std::io::BufWriter;
use std::net::IpAddr;

use rand::{Rng, RngCore};
use trawl_tools::pcap::{
    CLIENT_HELLO_ENTROPY, ClientHelloParts, PcapWriter, tls_client_hello_browser, udp,
};
use trawl_tools::quic::{V1, client_hello_flight};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, conns, packets, seed) = match args.as_slice() {
        [out, c, p, rest @ ..] if rest.len() <= 1 => (
            out,
            c.parse::<u32>().expect("CONNECTIONS"),
            p.parse::<u32>().expect("PACKETS"),
            rest.first().map_or(1, |s| s.parse().expect("SEED")),
        ),
        _ => {
            eprintln!("usage: gen-quic OUT.pcap CONNECTIONS PACKETS [SEED]");
            std::process::exit(2);
        }
    };
    let mut r = trawl_tools::rng(seed);
    let mut w = PcapWriter::new(BufWriter::new(std::fs::File::create(out)?))?;
    let mut ts = 1_700_000_000_000_000u64;
    let mut entropy = vec![0u8; CLIENT_HELLO_ENTROPY];
    let mut body = vec![0u8; 1200];
    for c in 0..conns {
        let client = IpAddr::from([10, (c >> 16) as u8, (c >> 8) as u8, c as u8]);
        let server = IpAddr::from([198, 51, 100, (c % 250) as u8 + 1]);
        let port = r.gen_range(1024..65535);
        r.fill_bytes(&mut entropy);
        let mut hello = Vec::new();
        let sni = format!("c{c}.quic.example");
        let parts = ClientHelloParts {
            sni: &sni,
            post_quantum: true,
            entropy: &entropy,
        };
        tls_client_hello_browser(&mut hello, &parts);
        let hello = &hello[5..];
        let mut dcid = [0u8; 8];
        r.fill_bytes(&mut dcid);
        for d in client_hello_flight(V1, &dcid, b"", hello, &[1100], &[0, 1]) {
            ts += 50;
            w.frame(ts, &udp(client, port, server, 443, None, &d))?;
        }
        for k in 0..packets {
            r.fill_bytes(&mut body);
            body[0] = 0x40 | (body[0] & 0x3f); // short header
            ts += 50;
            let frame = if k % 2 == 0 {
                udp(server, 443, client, port, None, &body)
            } else {
                udp(client, port, server, 443, None, &body)
            };
            w.frame(ts, &frame)?;
        }
    }
    std::io::Write::flush(&mut w.into_inner())?;
    Ok(())
}
