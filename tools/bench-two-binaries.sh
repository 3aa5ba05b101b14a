#!/usr/bin/env bash
# Two trawl binaries on the same `scan logs` run, alternating, for BENCHMARKS.md ratios on a
# noisy machine: wall and CPU (user + sys) seconds per round, then the medians' ratios.
#
#   tools/bench-two-binaries.sh OLD_TRAWL NEW_TRAWL SET LOG THREADS ROUNDS
#
# e.g. OLD = a build of an earlier commit, NEW = target/release/trawl. The log is read
# through the page cache before each run.
set -euo pipefail
OLD=$1 NEW=$2 SET=$3 LOG=$4 J=$5 ROUNDS=$6
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
for _ in $(seq "$ROUNDS"); do
  for which in old new; do
    bin=$OLD
    [ "$which" = new ] && bin=$NEW
    cat "$LOG" >/dev/null
    /usr/bin/time -f "%e %U %S" -o "$TIMES" "$bin" scan logs -c -j "$J" -s "$SET" "$LOG" \
      >/dev/null 2>&1 || true
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
