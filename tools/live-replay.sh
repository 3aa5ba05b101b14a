#!/usr/bin/env bash
# Live-capture rate test: replays a capture with tcpreplay into one end of a veth pair (from a
# network namespace) while `trawl sniff` captures on the other end, then reports what trawl
# received, hit and dropped. Needs root, iproute2, tcpreplay. Cleans up after itself.
#
#   tools/live-replay.sh SET.tset CAPTURE.pcap [PPS|max] [WORKERS] [LOOPS]
set -euo pipefail
set_file=$1 capture=$2 pps=${3:-1000000} workers=${4:-2} loops=${5:-1}
trawl=${TRAWL:-target/release/trawl}
ns=trawl-replay-$$ a=trwr$$a b=trwr$$b
out=$(mktemp -d)
cleanup() {
  [ -n "${pid:-}" ] && kill -INT "$pid" 2>/dev/null || true
  ip link del "$a" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$a" type veth peer name "$b"
ip link set "$b" netns "$ns"
ip link set "$a" up
ip netns exec "$ns" ip link set "$b" up
"$trawl" sniff -s "$set_file" -i "$a" -j "$workers" --buffer-size $((256 << 20)) -o /dev/null 2> "$out/err" &
pid=$!
until grep -q "capturing on" "$out/err" 2>/dev/null; do sleep 0.1; done
if [ "$pps" = max ]; then rate=--topspeed; else rate=--pps="$pps"; fi
ip netns exec "$ns" tcpreplay --intf1="$b" "$rate" --loop="$loops" "$capture" > "$out/replay" 2>&1
sleep 1
kill -INT "$pid"
wait "$pid" || true
pid=
grep -E "Actual|Rated|Successful|Failed" "$out/replay" || cat "$out/replay"
cat "$out/err"
