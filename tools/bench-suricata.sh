#!/usr/bin/env bash
# The Suricata export measured in Suricata 8 (the prebuilt peer in shared/peers/suricata):
#
#   TRAWL_OLD=/tmp/trawl-old tools/bench-suricata.sh
#
# 1. Load: `suricata -T` with the stock configuration on the export of two sets, the new
#    exporter (`-f suricata`, with its YAML include) and, when TRAWL_OLD is given, the old one
#    (`-f suricata-dataset` of that binary), alternating which goes first each round; wall time
#    and peak RSS from GNU time, and the errors/warnings suricata.log adds to what the stock
#    configuration alone says; CPU time (user + system) beside wall time, as the machine may be
#    shared. An old load still running after OLD_TIMEOUT seconds is killed.
#      real    the real feeds (ipsum, Spamhaus DROP/DROPv6, blocklistproject phishing,
#              openphish, phishing-database, signature-base and ESET hashes)
#      sensor  `gen-feed sensor 1000000` (IPv4 hosts and /24s, IPv6 hosts, domains, URLs)
# 2. Detection cost: `suricata -r` of that capture (below) with no rules, the old and the new
#    export of the real set (alternating), wall and CPU time.
# 3. Agreement: a `gen-pcap` capture whose sessions touch the sensor feed now and then, scanned
#    by `trawl scan pcap` and by Suricata with the new export; (flow, listed address) pairs and
#    (flow, domain) pairs from DNS are compared. gen-pcap writes no TCP handshakes, so Suricata
#    parses no TLS/HTTP/SMTP there (tests/suricata.rs covers those on full sessions): trawl's
#    TLS, HTTP and SMTP hits are counted apart.
#
# Environment:
#   TRAWL=target/release/trawl (built with cargo build --release when left unset), TRAWL_OLD=
#   PEER=shared/peers/suricata, DATA=shared/data (found beside or above the repository)
#   ROUNDS=2, OLD_TIMEOUT=120, PCAP_MB=64, BENCH_DIR= (default: a new one under /tmp), KEEP=1
set -euo pipefail
cd "$(dirname "$0")/.."
find_up() { for d in . .. ../..; do [ -e "$d/$1" ] && { (cd "$d/$1" && pwd); return; }; done; }
PEER=${PEER:-$(find_up shared/peers/suricata)}
DATA=${DATA:-$(find_up shared/data)}
ROUNDS=${ROUNDS:-2}
OLD_TIMEOUT=${OLD_TIMEOUT:-120}
PCAP_MB=${PCAP_MB:-64}
if [ -z "${TRAWL:-}" ]; then
  cargo build --release -q -p trawl -p trawl-tools --bins
  TRAWL=target/release/trawl
fi
TOOLS=target/release
[ -x $TOOLS/gen-feed ] && [ -x $TOOLS/gen-pcap ] || cargo build --release -q -p trawl-tools --bins
W=${BENCH_DIR:-$(mktemp -d /tmp/bench-suricata.XXXXXX)}
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
S=$PEER/bin/suricata
"$PEER/setup" "$W/s" >/dev/null
Y=$W/s/suricata.yaml
echo "# $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), $(nproc) CPUs; $($S -V)"

F=$DATA/feeds
$TRAWL compile -q -o "$W/real.tset" "$F/ipsum/ipsum.txt" "$F/spamhaus/drop.txt" \
  "$F/spamhaus/dropv6.txt" "$F/blocklistproject/phishing-nl.txt" "$F/openphish/feed.txt" \
  "$F/phishing-database/phishing-links-ACTIVE.txt" "$F/signature-base/hash-iocs.txt" \
  "$F/eset-hashes"
$TOOLS/gen-feed sensor 1000000 > "$W/sensor.txt"
$TRAWL compile -q -o "$W/sensor.tset" "$W/sensor.txt"

: > "$W/empty.rules"
mkdir -p "$W/log-stock"
$S -T -c "$Y" -S "$W/empty.rules" -l "$W/log-stock" >/dev/null 2>&1
complaints() {
  { grep -E ' (Error|Warning): ' "$1" || true; } | sed 's/^.* \(Error\|Warning\): /\1: /' | sort -u
}
complaints "$W/log-stock/suricata.log" > "$W/stock.txt"

for set in real sensor; do
  /usr/bin/time -f "$set new export: %e s, %M KB" $TRAWL export -s "$W/$set.tset" -f suricata \
    -o "$W/new-$set" 2> "$W/new-$set.err" || { cat "$W/new-$set.err"; exit 1; }
  grep -v ': wrote' "$W/new-$set.err" | tail -1; grep ': wrote' "$W/new-$set.err"
  if [ -n "${TRAWL_OLD:-}" ]; then
    /usr/bin/time -f "$set old export: %e s, %M KB" $TRAWL_OLD export -s "$W/$set.tset" \
      -f suricata-dataset -o "$W/old-$set" 2> "$W/old-$set.err"
    grep -v ': wrote' "$W/old-$set.err" | tail -1; grep ': wrote' "$W/old-$set.err"
    echo "$set old export lines: $(cat "$W/old-$set"/*.lst | wc -l)"
  fi
  echo "$set new export lines: $(cat "$W/new-$set"/*.list "$W/new-$set"/*.json "$W/new-$set"/*.txt 2>/dev/null | wc -l)"
done

# load WHICH SET ROUND: one `suricata -T`, one result line.
load() {
  local which=$1 set=$2 log=$W/log-$1-$2-$3
  mkdir -p "$log"
  local args=(-T -c "$Y" -l "$log" -S "$W/$which-$set/trawl.rules")
  [ "$which" = new ] && args+=(--include "$W/$which-$set/trawl.yaml")
  local limit=600
  [ "$which" = old ] && limit=$OLD_TIMEOUT
  # Suricata does not act on SIGTERM while it loads rules: past the limit it gets SIGKILL, and
  # its CPU time is read from /proc just before.
  /usr/bin/time -o "$log/time" -f '%e %U %S %M' "$S" "${args[@]}" >/dev/null 2>&1 &
  local tpid=$! t0=$SECONDS killed= cpu
  while kill -0 $tpid 2>/dev/null; do
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      local spid
      spid=$(pgrep -P $tpid)
      cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' /proc/$spid/stat)
      kill -KILL "$spid"
      killed=1
      break
    fi
    sleep 0.2
  done
  local rc=0
  wait $tpid || rc=$?
  read -r secs user sys kb < <(tail -1 "$log/time")
  [ -n "$killed" ] || cpu=$(echo "$user + $sys" | bc)
  local extra
  extra=$(complaints "$log/suricata.log" | comm -23 - "$W/stock.txt" | wc -l)
  if [ -n "$killed" ]; then
    echo "load $set $which round $3: killed after ${secs} s wall, ${cpu} s CPU, still loading, ${kb} KB"
  else
    echo "load $set $which round $3: rc $rc, ${secs} s wall, ${cpu} s CPU, ${kb} KB, $extra new error/warning lines"
  fi
  complaints "$log/suricata.log" | comm -23 - "$W/stock.txt" | head -3 | sed 's/^/    /'
}
for r in $(seq 1 "$ROUNDS"); do
  for set in real sensor; do
    order="new old"
    [ $((r % 2)) = 0 ] && order="old new"
    for which in $order; do
      [ "$which" = old ] && [ -z "${TRAWL_OLD:-}" ] && continue
      load "$which" "$set" "$r"
    done
  done
done

# Agreement on a generated capture.
$TOOLS/gen-pcap "$W/mix.pcap" "$PCAP_MB" --hits-from "$W/sensor.txt" 2>/dev/null
$TRAWL scan pcap -s "$W/sensor.tset" "$W/mix.pcap" -o "$W/hits.jsonl" --no-progress 2> "$W/scan.err"
mkdir -p "$W/log-pcap"
/usr/bin/time -f "suricata -r: %e s, %M KB" $S --runmode single -k none -c "$Y" \
  --include "$W/new-sensor/trawl.yaml" -S "$W/new-sensor/trawl.rules" -l "$W/log-pcap" \
  --set flow.memcap=2gb --set stream.memcap=2gb --set stream.reassembly.memcap=4gb \
  -r "$W/mix.pcap" 2>&1 | tail -1
python3 - "$W/hits.jsonl" "$W/log-pcap/eve.json" <<'EOF'
import ipaddress, json, sys
from collections import Counter
def flow(proto, a, b):
    return (proto.lower(),) + tuple(sorted([a, b]))
def ip(s):
    return str(ipaddress.ip_address(s))
trawl, other = set(), Counter()
for line in open(sys.argv[1]):
    h = json.loads(line)
    if "port" not in h.get("source", {}):
        continue
    f = flow(h["network"]["transport"], (ip(h["source"]["ip"]), h["source"]["port"]),
             (ip(h["destination"]["ip"]), h["destination"]["port"]))
    m = h["threat"]["enrichments"][0]["matched"]
    kind = h["trawl"]["indicator"]["type"]
    if m["field"] in ("source.ip", "destination.ip"):
        trawl.add((f, kind, ip(m["atomic"])))
    elif m["field"] in ("dns.question.name", "dns.answers.name"):
        trawl.add((f, kind, h["trawl"]["indicator"]["value"]))
    else:
        other[f"{kind} in {m['field']}"] += 1
suri, alerts, per_flow = set(), Counter(), Counter()
for line in open(sys.argv[2]):
    e = json.loads(line)
    if e.get("event_type") != "alert" or "src_port" not in e:
        continue
    f = flow(e["proto"], (ip(e["src_ip"]), e["src_port"]), (ip(e["dest_ip"]), e["dest_port"]))
    msg = e["alert"]["signature"]
    if msg.endswith(" address listed"):
        side = "dest_ip" if "server" in msg else "src_ip"
        a = ip(e["flow"][side])
        kind = "ipv6" if ":" in a else "ipv4"
        suri.add((f, kind, a))
        per_flow[(f, msg)] += 1
    elif e["app_proto"] == "dns":
        c = e["alert"]["context"]["trawl"]
        suri.add((f, c["kind"], c["indicator"]))
    alerts[msg] += 1
for kind in ("ipv4", "ipv6", "domain"):
    t = {p for p in trawl if p[1] == kind}
    s = {p for p in suri if p[1] == kind}
    print(f"agreement {kind}: both {len(t & s)}, trawl only {len(t - s)}, Suricata only {len(s - t)}")
    for p in sorted(t ^ s)[:3]:
        print("   ", "trawl only" if p in t else "Suricata only", p)
print("Suricata alerts per rule:", dict(alerts))
print("address alerts per flow and endpoint: max", max(per_flow.values(), default=0))
print("trawl hits on buffers Suricata does not parse without handshakes:", dict(other))
EOF

# Detection cost on the same capture: no rules, old and new export of the real set.
run_pcap() {
  local which=$1 round=$2 log=$W/log-r-$1-$2
  mkdir -p "$log"
  local args=(--runmode single -k none -c "$Y" -l "$log" -r "$W/mix.pcap")
  case $which in
    none) args+=(-S "$W/empty.rules") ;;
    old) args+=(-S "$W/old-real/trawl.rules") ;;
    new) args+=(-S "$W/new-real/trawl.rules" --include "$W/new-real/trawl.yaml") ;;
  esac
  /usr/bin/time -o "$log/time" -f '%e %U %S %M' "$S" "${args[@]}" >/dev/null 2>&1
  read -r secs user sys kb < <(tail -1 "$log/time")
  echo "suricata -r real-set rules $which round $round: ${secs} s wall, $(echo "$user + $sys" | bc) s CPU, ${kb} KB, $(grep -c '"event_type":"alert"' "$log/eve.json" || true) alerts"
}
if [ -n "${TRAWL_OLD:-}" ]; then
  for r in $(seq 1 "$ROUNDS"); do
    order="none old new"
    [ $((r % 2)) = 0 ] && order="new old none"
    for which in $order; do run_pcap "$which" "$r"; done
  done
fi
