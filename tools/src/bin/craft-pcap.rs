//! Writes the crafted capture (`trawl_tools::pcap::crafted_scenario`) to a file:
//! `craft-pcap testdata/pcaps/crafted.pcap`.

use std::io::BufWriter;

use trawl_tools::pcap::{PcapWriter, crafted_scenario};

fn main() -> std::io::Result<()> {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: craft-pcap OUT.pcap");
        std::process::exit(2);
    };
    let mut w = PcapWriter::new(BufWriter::new(std::fs::File::create(&out)?))?;
    for (i, (ts, frame, what)) in crafted_scenario().iter().enumerate() {
        w.frame(*ts, frame)?;
        eprintln!("{:>3}  {what}", i + 1);
    }
    std::io::Write::flush(&mut w.into_inner())?;
    Ok(())
}
