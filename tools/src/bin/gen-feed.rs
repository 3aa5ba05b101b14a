//! Writes a synthetic feed to stdout, one value per line.
//!
//! ```text
//! gen-feed KIND COUNT [SEED]
//! KIND: ipv4 | ipv6 | domain | url | sha256 | md5 | mixed | sensor
//! ```

use std::io::{BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

use trawl_tools as synth;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(count)) = (
        args.get(1),
        args.get(2).and_then(|c| c.parse::<usize>().ok()),
    ) else {
        eprintln!("usage: gen-feed ipv4|ipv6|domain|url|sha256|md5|mixed|sensor COUNT [SEED]");
        std::process::exit(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = (|| -> std::io::Result<()> {
        match kind.as_str() {
            "ipv4" => {
                for (a, l) in synth::ipv4_prefixes(count, seed) {
                    writeln!(out, "{}/{l}", Ipv4Addr::from(a))?;
                }
            }
            "ipv6" => {
                for (a, l) in synth::ipv6_prefixes(count, seed) {
                    writeln!(out, "{}/{l}", Ipv6Addr::from(a))?;
                }
            }
            "domain" => {
                for d in synth::domains(count, seed) {
                    writeln!(out, "{d}")?;
                }
            }
            "url" => {
                for u in synth::urls(count, seed) {
                    writeln!(out, "{u}")?;
                }
            }
            "sha256" | "md5" => {
                let len = if kind == "md5" { 16 } else { 32 };
                for d in synth::digests(count, len, seed) {
                    writeln!(out, "{}", synth::hex(&d))?;
                }
            }
            "sensor" => {
                let mut err = Ok(());
                synth::sensor_lines(count, seed, |l| {
                    if err.is_ok() {
                        err = writeln!(out, "{l}");
                    }
                });
                err?;
            }
            "mixed" => {
                let mut err = Ok(());
                synth::mixed_lines(count, seed, |l| {
                    if err.is_ok() {
                        err = writeln!(out, "{l}");
                    }
                });
                err?;
            }
            other => {
                eprintln!("gen-feed: unknown kind {other:?}");
                std::process::exit(2);
            }
        }
        out.flush()
    })();
    if let Err(e) = result {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("gen-feed: {e}");
            std::process::exit(1);
        }
    }
}
