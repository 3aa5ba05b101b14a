#!/usr/bin/env bash
# Two trawl binaries on the same scan, alternating, for BENCHMARKS.md ratios on a noisy
# machine: wall and CPU (user + sys) seconds per round, then the medians' ratios.
#
#   tools/bench-two-binaries.sh OLD_TRAWL NEW_TRAWL SET INPUT THREADS ROUNDS [logs|pcap]
#
# e.g. OLD = a build of an earlier commit, NEW = target/release/trawl. INPUT is a log file
# (`scan logs`, the default) or a capture (`scan pcap`); it is read through the page cache
# before each run. Extra options for both binaries go in $TRAWL_ARGS (e.g. `--format eve`).
set -euo pipefail
OLD=$1 NEW=$2 SET=$3 INPUT=$4 J=$5 ROUNDS=$6 LANE=${7:-logs}
case "$LANE" in
  logs) ARGS=(scan logs -c -j "$J" -s "$SET") ;;
  pcap) ARGS=(scan pcap -j "$J" --no-progress -s "$SET") ;;
  *) echo "lane must be logs or pcap" >&2; exit 2 ;;
esac
# shellcheck disable=SC2206 # options are words
ARGS+=(${TRAWL_ARGS:-} "$INPUT")
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
for _ in $(seq "$ROUNDS"); do
  for which in old new; do
    bin=$OLD
    [ "$which" = new ] && bin=$NEW
    cat "$INPUT" >/dev/null
    /usr/bin/time -f "%e %U %S" -o "$TIMES" "$bin" "${ARGS[@]}" >/dev/null 2>&1 || true
    read -r wall user sys <"$TIMES"
    echo "$which $wall $(echo "$user + $sys" | bc)"
  done
done | python3 -c '
import statistics as st, sys
rows = [l.split() for l in sys.stdin]
for r in rows:
    print(*r)
col = lambda k, i: st.median(float(r[i]) for r in rows if r[0] == k)
for i, what in [(1, "wall"), (2, "cpu")]:
    print("median %s new/old: %.3f" % (what, col("new", i) / col("old", i)))
'
