#!/usr/bin/env bash
# Issue 11's side by side: a full-session capture from gen-sessions (handshakes, split heads,
# reordered and retransmitted segments, tunnels), a 1M-indicator sensor set, and
#   1. agreement: every (flow, indicator) pair Suricata 8 finds with trawl's export loaded,
#      against trawl's hits on the same capture, per indicator kind;
#   2. speed, alternating rounds: `trawl scan pcap -j 1` (flows and reassembly on) and
#      `suricata --runmode single` (same indicators), wall and CPU seconds; and the pcap_scan
#      bench on the same files for the read-only pass (run it apart: see BENCHMARKS.md).
#
#   tools/bench-flows.sh            # PCAP_MB=512 ROUNDS=3 KEEP=1 BENCH_DIR=/tmp/x to keep files
#
# Environment: TRAWL (default target/release/trawl, built when unset), PEER=shared/peers/suricata
# (found beside or above the repository), PCAP_MB=512, ROUNDS=3, LIST_SHARE=0.02 (share of
# draws that take a listed value), BENCH_DIR (default: a new one under /tmp), KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
find_up() { for d in . .. ../..; do [ -e "$d/$1" ] && { (cd "$d/$1" && pwd); return; }; done; }
PEER=${PEER:-$(find_up shared/peers/suricata)}
PCAP_MB=${PCAP_MB:-512}
ROUNDS=${ROUNDS:-3}
LIST_SHARE=${LIST_SHARE:-0.02}
if [ -z "${TRAWL:-}" ]; then
  cargo build --release -q -p trawl -p trawl-tools --bins
  TRAWL=target/release/trawl
fi
TOOLS=target/release
W=${BENCH_DIR:-$(mktemp -d /tmp/bench-flows.XXXXXX)}
mkdir -p "$W"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
S=$PEER/bin/suricata
"$PEER/setup" "$W/s" >/dev/null
Y=$W/s/suricata.yaml
echo "# $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; $($S -V)"

[ -s "$W/sensor.tset" ] || {
  $TOOLS/gen-feed sensor 1000000 > "$W/sensor.txt"
  $TRAWL compile -q -o "$W/sensor.tset" "$W/sensor.txt"
}
grep -m 20000 -E '^[a-z0-9.-]+\.[a-z]+$' "$W/sensor.txt" > "$W/domains.txt"
grep -m 20000 -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "$W/sensor.txt" > "$W/ips.txt"
[ -s "$W/sessions.pcap" ] || $TOOLS/gen-sessions "$W/sessions.pcap" --bytes "${PCAP_MB}M" \
  --seed 1 --truth "$W/truth.jsonl" --split 0.3 --reorder 0.05 --retransmit 0.05 \
  --vxlan 0.05 --gre 0.05 --domains "@$W/domains.txt" --ips "@$W/ips.txt" \
  --list-share "$LIST_SHARE"
rm -rf "$W/export"
$TRAWL export -s "$W/sensor.tset" -f suricata -o "$W/export" 2>/dev/null
echo "capture: $(du -m "$W/sessions.pcap" | cut -f1) MiB, $(wc -l < "$W/truth.jsonl") flows"

suricata_run() {
  local log=$1
  rm -rf "$log"; mkdir -p "$log"
  /usr/bin/time -o "$log/time" -f '%e %U %S %M' "$S" --runmode single -k none -c "$Y" \
    --include "$W/export/trawl.yaml" -S "$W/export/trawl.rules" -l "$log" \
    --set flow.memcap=4gb --set stream.memcap=4gb --set stream.reassembly.memcap=8gb \
    --set datasets.limits.single-hashsize=1048576 --set host.memcap=1gb \
    -r "$W/sessions.pcap" >/dev/null 2>&1
  read -r secs user sys kb < <(tail -1 "$log/time")
  echo "suricata: ${secs} s wall, $(echo "$user + $sys" | bc) s CPU, ${kb} KB, $(grep -c '"event_type":"alert"' "$log/eve.json" || true) alerts"
}
trawl_run() {
  local out=$1
  /usr/bin/time -o "$out.time" -f '%e %U %S %M' $TRAWL scan pcap -j 1 --no-progress \
    -s "$W/sensor.tset" "$W/sessions.pcap" > "$out" 2> "$out.err"
  read -r secs user sys kb < <(tail -1 "$out.time")
  echo "trawl -j 1: ${secs} s wall, $(echo "$user + $sys" | bc) s CPU, ${kb} KB, $(wc -l < "$out") hits"
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then trawl_run "$W/hits.jsonl"; suricata_run "$W/log"
  else suricata_run "$W/log"; trawl_run "$W/hits.jsonl"; fi
done
grep -E "^(packets|decoded|tcp|decapsulated)" "$W/hits.jsonl.err" || true
grep -E ' (Error|Warning): ' "$W/log/suricata.log" | sed 's/^.* \(Error\|Warning\): /\1: /' | sort | uniq -c | head -5 || true

python3 - "$W/hits.jsonl" "$W/log/eve.json" <<'EOF'
import ipaddress, json, sys
from collections import Counter
def flow(proto, a, b):
    return (proto.lower(),) + tuple(sorted([a, b]))
def ip(s):
    return str(ipaddress.ip_address(s))
trawl, fields = set(), Counter()
for line in open(sys.argv[1]):
    h = json.loads(line)
    if "port" not in h.get("source", {}):
        continue
    f = flow(h["network"]["transport"], (ip(h["source"]["ip"]), h["source"]["port"]),
             (ip(h["destination"]["ip"]), h["destination"]["port"]))
    ind = h["trawl"]["indicator"]
    kind = "address" if ind["type"] in ("ipv4", "ipv6") else ind["type"]
    trawl.add((f, kind, ind["value"]))
    fields[h["threat"]["enrichments"][0]["matched"]["field"]] += 1
suri = set()
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("event_type") != "alert" or "src_port" not in e:
        continue
    f = flow(e["proto"], (ip(e["src_ip"]), e["src_port"]), (ip(e["dest_ip"]), e["dest_port"]))
    msg = e["alert"]["signature"]
    if msg.endswith(" address listed"):
        side = "dest_ip" if "server" in msg else "src_ip"
        suri.add((f, "address", ip(e["flow"][side]) if "flow" in e and side in e["flow"] else None))
    elif "context" in e["alert"]:
        c = e["alert"]["context"]["trawl"]
        suri.add((f, c["kind"], c["indicator"]))
# Address indicators: compare (flow, kind) only when Suricata's alert lacks the address.
trawl_addr_flows = {(f, k) for f, k, _ in trawl if k == "address"}
for kind in sorted({k for _, k, _ in trawl | suri}):
    t = {p for p in trawl if p[1] == kind}
    s = {p for p in suri if p[1] == kind}
    if kind == "address":
        t = {(f, k) for f, k, _ in t}
        s = {(f, k) for f, k, _ in s}
    both, t_only, s_only = t & s, t - s, s - t
    print(f"agreement {kind}: both {len(both)}, trawl only {len(t_only)}, Suricata only {len(s_only)}")
    for p in sorted(s_only)[:5]:
        print("    Suricata only:", p)
print("trawl hits by field:", dict(fields))
EOF
