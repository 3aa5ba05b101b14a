//! Writes a crafted capture to a file: `craft-pcap testdata/pcaps/crafted.pcap` (the
//! observables, `trawl_tools::pcap::crafted_scenario`) or `craft-pcap --vlans
//! testdata/pcaps/vlans.pcap` (one 5-tuple on several VLANs, `vlan_scenario`).

use std::io::BufWriter;

use trawl_tools::pcap::{PcapWriter, crafted_scenario, vlan_scenario};

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scenario, out) = match args.as_slice() {
        [out] => (crafted_scenario(), out),
        [flag, out] if flag == "--vlans" => (vlan_scenario(), out),
        _ => {
            eprintln!("usage: craft-pcap [--vlans] OUT.pcap");
            std::process::exit(2);
        }
    };
    let mut w = PcapWriter::new(BufWriter::new(std::fs::File::create(out)?))?;
    for (i, (ts, frame, what)) in scenario.iter().enumerate() {
        w.frame(*ts, frame)?;
        eprintln!("{:>3}  {what}", i + 1);
    }
    std::io::Write::flush(&mut w.into_inner())?;
    Ok(())
}
