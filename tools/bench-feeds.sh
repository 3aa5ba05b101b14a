#!/usr/bin/env bash
# Feed-pull throughput and memory in one run: `trawl feeds pull` of a synthetic TAXII 2.1
# collection served by medallion (the OASIS reference server) on 127.0.0.1, and of a MISP feed
# directory made from the real ESET events in shared/data/misp/eset-malware-ioc.
#
#   tools/bench-feeds.sh
#
# Per binary and round, in a fresh store each time, under /usr/bin/time -v:
#   first      the first pull: every object, merged into the store, the set compiled
#   again      a second pull: nothing new (one empty page), no compile
#   force      `feeds pull --force`: the same empty pull, and the set recompiled from the store
#              (so force minus again is the recompile alone)
# and per round a plain curl pagination over the same collection (`curl` rows): what the
# server costs without trawl. srv_cpu_s is the CPU time medallion used during each step.
#
# Environment:
#   N=100000        indicators in the collection (plus ~10% second versions, ~3% revocations)
#   PAGE_SIZE=1000  the feed's page_size and medallion's max_page_size
#   ROUNDS=3        rounds; with TRAWL_OLD, old and new alternate (which goes first swaps)
#   TRAWL=target/release/trawl (built with cargo build --release when left unset)
#   TRAWL_OLD=      a second binary to compare on the same input and server
#   BACKEND=indexed medallion's MemoryBackend with GET objects answered from an index (see
#                   tools/gen_stix_collection.py); `memory` is medallion's own backend, whose
#                   filtering is quadratic: ~150 s for N=3000, use it only with small N
#   MISP_SRC=shared/data/misp/eset-malware-ioc (found beside or above the repository)
#   MISP_COPIES=1   copies of each real event (new uuids, same attributes) in the MISP feed
#   BENCH_DIR=      work directory (default: a new one under /tmp), removed on exit
#   KEEP=1          keep the work directory
#
# Needs medallion (`pip install medallion`), curl and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

die() { echo "bench-feeds: $*" >&2; exit 1; }

N=${N:-100000}
PAGE_SIZE=${PAGE_SIZE:-1000}
ROUNDS=${ROUNDS:-3}
BACKEND=${BACKEND:-indexed}
MISP_COPIES=${MISP_COPIES:-1}
GEN="$ROOT/tools/gen_stix_collection.py"
COLLECTION=91a7b528-80eb-42ed-a74d-c6fbd5a26116
ACCEPT='Accept: application/taxii+json;version=2.1'

command -v medallion >/dev/null 2>&1 ||
  die "medallion is not installed (pip install medallion): it is the TAXII server benchmarked against"
python3 -c 'import medallion' 2>/dev/null ||
  die "python3 cannot import medallion: install it for the python3 on PATH (pip install medallion)"
command -v curl >/dev/null 2>&1 || die "curl is needed"
[ -x /usr/bin/time ] || die "GNU time is needed at /usr/bin/time (apt-get install time)"

if [ -z "${TRAWL:-}" ]; then
  TRAWL=target/release/trawl
  cargo build --release -q -p trawl
fi
TRAWL=$(realpath "$TRAWL")
[ -x "$TRAWL" ] || die "no trawl binary at $TRAWL"
BINS=(new)
declare -A BIN=([new]="$TRAWL")
if [ -n "${TRAWL_OLD:-}" ]; then
  TRAWL_OLD=$(realpath "$TRAWL_OLD")
  [ -x "$TRAWL_OLD" ] || die "no trawl binary at $TRAWL_OLD"
  BIN[old]=$TRAWL_OLD
  BINS=(new old)
fi

if [ -z "${MISP_SRC:-}" ]; then
  for d in "$ROOT/shared" "$ROOT/../shared" "$ROOT/../../shared"; do
    [ -d "$d/data/misp/eset-malware-ioc" ] && { MISP_SRC=$d/data/misp/eset-malware-ioc; break; }
  done
fi
[ -d "${MISP_SRC:-}" ] || die "no MISP events: set MISP_SRC (shared/data/misp/eset-malware-ioc)"

W=${BENCH_DIR:-$(mktemp -d /tmp/trawl-bench-feeds.XXXXXX)}
mkdir -p "$W"
W=$(realpath "$W")
MEDALLION_PID=
cleanup() {
  if [ -n "$MEDALLION_PID" ]; then
    kill "$MEDALLION_PID" 2>/dev/null || true
    wait "$MEDALLION_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-}" = 1 ]; then echo "kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT/api1/"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "trawl: $TRAWL${TRAWL_OLD:+ (old: $TRAWL_OLD)}"
echo "medallion: $(python3 -c 'import medallion.version as v; print(v.__version__)'), backend $BACKEND"
t0=$(date +%s.%N)
python3 "$GEN" taxii "$W/taxii" "$N" --port "$PORT" --page-size "$PAGE_SIZE" --backend "$BACKEND" >/dev/null
echo "collection: $(cat "$W/taxii/stats.json") ($(du -h "$W/taxii/data.json" | cut -f1) of JSON, generated in $(echo "$t0 $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}') s)"
python3 "$GEN" misp "$MISP_SRC" "$W/misp" --copies "$MISP_COPIES" >/dev/null
echo "misp feed: $(cat "$W/misp/stats.json") from $MISP_SRC, copies $MISP_COPIES"

# medallion, with this directory on PYTHONPATH for the indexed backend.
PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$ROOT/tools${PYTHONPATH:+:$PYTHONPATH}" \
  medallion --host 127.0.0.1 --port "$PORT" --log-level WARN "$W/taxii/config.json" \
  >"$W/medallion.log" 2>&1 &
MEDALLION_PID=$!
deadline=$((SECONDS + 300))
until [ "$(curl -s -o /dev/null -w '%{http_code}' -u user:pass -H "$ACCEPT" "$API")" = 200 ]; do
  kill -0 "$MEDALLION_PID" 2>/dev/null || { cat "$W/medallion.log" >&2; die "medallion exited"; }
  [ $SECONDS -lt $deadline ] || die "medallion did not answer within 300 s"
  sleep 0.5
done
echo "medallion: answering on $API after $(echo "$t0 $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}') s since generation started; RSS $(awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$MEDALLION_PID/status")"

# CPU seconds medallion has used so far (utime + stime of its process).
srv_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$MEDALLION_PID/stat"; }
now() { date +%s.%N; }

# A plain pagination of the collection: objects, pages and seconds.
curl_pages() {
  local url="${API}collections/$COLLECTION/objects/?limit=$PAGE_SIZE" next="" objects=0 pages=0 s
  local page="$W/page.json"
  s=$(now)
  while :; do
    curl -sf -u user:pass -H "$ACCEPT" -o "$page" "$url${next:+&next=$next}" ||
      die "curl pagination failed at page $pages"
    pages=$((pages + 1))
    objects=$((objects + $(grep -o '"id": "' "$page" | wc -l)))
    grep -q '"more": true' "$page" || break
    next=$(grep -o '"next": "[^"]*"' "$page" | cut -d'"' -f4)
    [ -n "$next" ] || break
  done
  echo "$objects $pages $(echo "$s $(now)" | awk '{printf "%.3f", $2 - $1}')"
}

# The first request builds the backend's index: not part of any timed step.
curl_pages >"$W/curl.out"
echo "warm-up pagination (index build included): objects pages seconds = $(cat "$W/curl.out")"

RESULTS="$W/results.tsv"
printf 'feed\tstep\tbin\tround\tobjects\twall_s\tcpu_s\tsrv_cpu_s\tmaxrss_mib\tset_bytes\tstore_mib\tindicators\n' >"$RESULTS"

config() { # FEED DIR
  local d=$2
  {
    printf '[set]\noutput = "%s/intel.tset"\nstore = "%s/store"\n\n[[feed]]\nname = "bench"\n' "$d" "$d"
    if [ "$1" = taxii ]; then
      printf 'kind = "taxii"\napi_root = "%s"\ncollection = "%s"\n' "$API" "$COLLECTION"
      printf 'auth = { user = "user", password = "pass" }\npage_size = %s\n' "$PAGE_SIZE"
    else
      printf 'kind = "misp"\npath = "%s/misp"\n' "$W"
    fi
  } >"$d/trawl.toml"
}

# One timed `trawl feeds pull`: appends a row to $RESULTS and prints it.
pull() { # FEED STEP BIN ROUND DIR [--force]
  local feed=$1 step=$2 b=$3 r=$4 d=$5 rc=0 s0 s1
  shift 5
  s0=$(srv_cpu)
  /usr/bin/time -v -o "$d/$step.time" "${BIN[$b]}" feeds pull -c "$d/trawl.toml" "$@" \
    2>"$d/$step.err" || rc=$?
  s1=$(srv_cpu)
  if [ $rc -ne 0 ]; then
    cat "$d/$step.err" >&2
    die "$b: feeds pull ($feed, $step) exited $rc"
  fi
  local objects wall cpu rss set_bytes store ind
  objects=$(sed -n 's/^bench: \([0-9]*\) new.*/\1/p' "$d/$step.err" | head -1)
  ind=$(sed -n 's/^indicators in set: \([0-9]*\)/\1/p' "$d/$step.err" | head -1)
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$d/$step.time")
  cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$d/$step.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$d/$step.time")
  set_bytes=$(stat -c %s "$d/intel.tset" 2>/dev/null || echo -)
  store=$(du -sk "$d/store" | awk '{printf "%.1f", $1 / 1024}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$feed" "$step" "$b" "$r" \
    "${objects:--}" "$wall" "$cpu" "$(echo "$s0 $s1" | awk '{printf "%.2f", $2 - $1}')" \
    "$rss" "$set_bytes" "$store" "${ind:--}" | tee -a "$RESULTS" | row
}

row() { # a results row, formatted
  awk -F'\t' '{
    ops = ($5 ~ /^[0-9]+$/ && $5 > 0 && $6 > 0) ? sprintf("%.0f", $5 / $6) : "-"
    printf "%-6s %-6s %-4s %5s %9s %8.2f %10s %7s %8s %9s %11s %9s %10s\n",
      $1, $2, $3, $4, $5, $6, ops, $7, $8, $9, $10, $11, $12 }'
}

echo
echo "N=$N indicators, page_size=$PAGE_SIZE, rounds=$ROUNDS, binaries: ${BINS[*]}"
printf '%-6s %-6s %-4s %5s %9s %8s %10s %7s %8s %9s %11s %9s %10s\n' feed step bin round \
  objects wall_s objects/s cpu_s srv_cpu maxrss_MiB set_bytes store_MiB indicators
for ((r = 1; r <= ROUNDS; r++)); do
  s0=$(srv_cpu)
  curl_pages >"$W/curl.out"
  read -r objects pages secs <"$W/curl.out"
  printf 'taxii\tcurl\t-\t%s\t%s\t%s\t-\t%s\t-\t-\t-\t%s pages\n' "$r" "$objects" "$secs" \
    "$(echo "$s0 $(srv_cpu)" | awk '{printf "%.2f", $2 - $1}')" "$pages" | tee -a "$RESULTS" | row
  order=("${BINS[@]}")
  if ((r % 2 == 0)) && [ ${#BINS[@]} -eq 2 ]; then order=(old new); fi
  for b in "${order[@]}"; do
    for feed in taxii misp; do
      d="$W/run-$feed-$b-$r"
      rm -rf "$d"
      mkdir -p "$d"
      config "$feed" "$d"
      pull "$feed" first "$b" "$r" "$d"
      pull "$feed" again "$b" "$r" "$d"
      pull "$feed" force "$b" "$r" "$d" --force
      rm -rf "$d/store"
    done
  done
done
echo
python3 "$GEN" summary "$RESULTS"
echo "medallion: peak RSS $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$MEDALLION_PID/status"), CPU $(srv_cpu) s in all"
