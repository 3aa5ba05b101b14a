#!/usr/bin/env bash
# One trawl binary, one capture, several sets, alternating, for the cost of what each set
# turns on (hash kinds turn on file hashing, fingerprint kinds JA3/JA4 and certificate
# digests): wall and CPU (user + sys) seconds per round, then medians and ratios to the first
# set.
#
#   tools/bench-sets.sh TRAWL CAPTURE ROUNDS SET...
set -euo pipefail
BIN=$1 INPUT=$2 ROUNDS=$3
shift 3
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
for _ in $(seq "$ROUNDS"); do
  for set in "$@"; do
    cat "$INPUT" >/dev/null
    /usr/bin/time -f "%e %U %S" -o "$TIMES" "$BIN" scan pcap -j 1 --no-progress -s "$set" "$INPUT" >/dev/null 2>&1 || true
    read -r wall user sys <"$TIMES"
    echo "$(basename "$set") $wall $(echo "$user + $sys" | bc)"
  done
done | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin]
order = []
for r in rows:
    if r[0] not in order:
        order.append(r[0])
med = {s: (statistics.median(float(r[1]) for r in rows if r[0] == s),
           statistics.median(float(r[2]) for r in rows if r[0] == s)) for s in order}
base = med[order[0]]
for s in order:
    w, c = med[s]
    print(f"{s}: wall {w:.3f} s, cpu {c:.3f} s, cpu ratio {c / base[1]:.2f}")
'
