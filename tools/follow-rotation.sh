#!/usr/bin/env bash
# Lines lost by `trawl scan logs --follow` while the log is rotated every 100 ms and every
# 10 ms (tools/src/bin/rotate-log.rs, logrotate style), for BENCHMARKS.md: the follower prints
# every line (`--only-matching`: each line holds an indicator), and the lines it never printed
# are lost.
#
#   tools/follow-rotation.sh [SECONDS] [TRAWL_BINARY...]   (default: 5 s, target/release/trawl)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
shift || true
cargo build --release -q -p trawl -p trawl-tools
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=(target/release/trawl)
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo 203.0.113.7 >"$DIR/feed.txt"
target/release/trawl compile -q -o "$DIR/set.tset" "$DIR/feed.txt" >/dev/null 2>&1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for every in 100 10; do
  for bin in "${BINS[@]}"; do
    rm -f "$DIR"/app.log*
    "$bin" scan logs -s "$DIR/set.tset" -f --only-matching "$DIR/app.log" >"$DIR/out" 2>"$DIR/err" &
    pid=$!
    sleep 0.5
    written=$(target/release/rotate-log "$DIR/app.log" "$every" "$SECS")
    sleep 1.5
    kill -TERM "$pid"
    wait "$pid" || true
    lines=$(wc -l <"$DIR/out")
    seen=$(awk '{print $2}' "$DIR/out" | sort -u | wc -l)
    total=${written%% lines*}
    lost=$((total - seen))
    said=$(grep -c 'lost' "$DIR/err" || true)
    echo "rotate every $every ms, $bin: $written; $seen read, $((lines - seen)) twice, $lost lost ($(awk -v l="$lost" -v t="$total" 'BEGIN{printf "%.1f", 100*l/t}') %), $said loss messages on stderr"
  done
done
