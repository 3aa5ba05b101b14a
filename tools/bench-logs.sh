#!/usr/bin/env bash
# Log-scan throughput in one run, for BENCHMARKS.md: `trawl scan logs` per thread count on
# generated logs (plain nginx/syslog text and Suricata-EVE-like JSON) against a 1M-indicator
# set, beside `rg -F -f` over the literal subset of the same indicators and a memchr line count
# (the floor). Then the same with a 5,000-indicator set, where ripgrep's literal search is in
# its element.
#
#   tools/bench-logs.sh [MB_PER_FORMAT]     (default 512: 1 GiB of logs in all)
#
# Needs ripgrep (`apt-get install ripgrep`). Data goes to $BENCH_DIR (default
# /tmp/trawl-bench-logs) and is reused by later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-512}
DIR=${BENCH_DIR:-/tmp/trawl-bench-logs}
mkdir -p "$DIR"
cargo build --release -q -p trawl -p trawl-tools
T=target/release
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: apt-get install ripgrep" >&2; exit 1; }

[ -s "$DIR/sensor1m.txt" ] || "$T/gen-feed" sensor 1000000 7 >"$DIR/sensor1m.txt"
[ -s "$DIR/sensor1m.tset" ] || "$T/trawl" compile -q -o "$DIR/sensor1m.tset" "$DIR/sensor1m.txt"
for kind in plain json; do
  f="$DIR/$kind-$MB.log"
  [ -s "$f" ] || "$T/gen-logs" "$kind" "$f" "$MB" --hits-from "$DIR/sensor1m.txt"
done
LOGS=("$DIR/plain-$MB.log" "$DIR/json-$MB.log")
# Literal subset: every indicator but the CIDRs (rg has no notion of a prefix).
grep -vE '^[0-9.]+/[0-9]+$|^[0-9a-f:]+/[0-9]+$' "$DIR/sensor1m.txt" >"$DIR/literals1m.txt"
head -n 5000 "$DIR/literals1m.txt" >"$DIR/literals5k.txt"
[ -s "$DIR/literals5k.tset" ] || "$T/trawl" compile -q -o "$DIR/literals5k.tset" "$DIR/literals5k.txt"
# This VM reclaims idle page cache within seconds (DAMON): every timed run warms its inputs
# first, so that the scan is measured, not the disk.
warm() { cat "$@" >/dev/null; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "logs: $(du -ch "${LOGS[@]}" | tail -1 | cut -f1) ($MB MiB plain + $MB MiB JSON)"
echo "== memchr line count (the floor)"
for f in "${LOGS[@]}"; do warm "$f"; echo -n "$(basename "$f"): "; "$T/line-count" "$f"; done

# trawl: wall time of the scan itself (its own stderr summary), set open included.
trawl_run() { # SET FILE THREADS
  warm "$1" "$2"
  "$T/trawl" scan logs -s "$1" -c -j "$3" "$2" 2>&1 >/dev/null | tail -1
}
# rg: wall time, automaton build included; the build alone is timed on an empty file.
rg_run() { # LITERALS FILE
  local s e
  warm "$1" "$2"
  s=$(date +%s.%N); rg -F -c -f "$1" "$2" >/dev/null || true; e=$(date +%s.%N)
  echo "$s $e $(stat -c %s "$2")" | awk '{t=$2-$1; printf "%.3f s: %.3f GB/s", t, $3/t/1e9}'
}
threads=(1 2)
[ "$(nproc)" -gt 2 ] && threads+=("$(nproc)")
for set in 1m 5k; do
  if [ $set = 1m ]; then tset="$DIR/sensor1m.tset"; else tset="$DIR/literals5k.tset"; fi
  echo "== set $set: $("$T/trawl" info "$tset" | grep -m1 '^indicators')"
  for f in "${LOGS[@]}"; do
    for j in "${threads[@]}"; do echo "trawl -j $j $(basename "$f"): $(trawl_run "$tset" "$f" "$j")"; done
    : >"$DIR/empty.log"
    echo "rg -F -f literals$set (build only, empty file): $(rg_run "$DIR/literals$set.txt" "$DIR/empty.log" | cut -d: -f1)"
    echo "rg -F -f literals$set $(basename "$f"): $(rg_run "$DIR/literals$set.txt" "$f")"
  done
done
