#!/usr/bin/env bash
# Proves the README's quick start on a fresh Debian 12: builds a minimal Debian 12 root with
# debootstrap, makes this host's Rust toolchain available inside it (read-only bind mount; an
# empty CARGO_HOME, so crates are fetched afresh), clones the repository's HEAD into it, and runs
# the README's two commands there — the run command, then the test command — exactly as the
# README shows them. Needs root and debootstrap (`apt-get install debootstrap`) on the host.
#
#   tools/check-fresh-debian.sh [--keep] [ROOT_DIR]
#
# Exit status: 0 when both commands succeed in the fresh root. The root is removed afterwards
# unless --keep is given. DEBIAN_MIRROR overrides the mirror (default: deb.debian.org).
set -euo pipefail

# Everything runs in a private mount namespace: whatever the commands mount inside the root
# (`ip netns add` bind-mounts /run/netns) goes away with it and never reaches the host.
if [ -z "${TRAWL_FRESH_DEBIAN_NS:-}" ]; then
  TRAWL_FRESH_DEBIAN_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi

keep=0
if [ "${1:-}" = "--keep" ]; then keep=1; shift; fi
repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$(mktemp -d /var/tmp/trawl-fresh-debian.XXXXXX)}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "check-fresh-debian: needs root (debootstrap, chroot, mounts)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "check-fresh-debian: apt-get install debootstrap" >&2; exit 2; }

# The README's two quick-start commands: the first two ```sh blocks of its "Quick start" section.
commands=$(awk '/^## Quick start/{q=1; next} /^## /{q=0} q && /^```sh$/{b=1; next} b && /^```$/{b=0; n++; next} b && n<2{print n+0 "\t" $0}' "$repo/README.md")
run_cmd=$(printf '%s\n' "$commands" | awk -F'\t' '$1==0{sub(/^0\t/,""); print}')
test_cmd=$(printf '%s\n' "$commands" | awk -F'\t' '$1==1{sub(/^1\t/,""); print}')
[ -n "$run_cmd" ] && [ -n "$test_cmd" ] || { echo "check-fresh-debian: README quick start has no two sh blocks" >&2; exit 2; }

sysroot=$(rustc --print sysroot)
mounts=()
cleanup() {
  local m still=0
  # Every mount under the root, the commands' own included, deepest first.
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  for m in "${mounts[@]}"; do mountpoint -q "$m" && { echo "still mounted: $m" >&2; still=1; }; done
  if [ "$keep" -eq 1 ] || [ "$still" -eq 1 ]; then
    echo "kept $root" >&2
  else
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT

echo "== debootstrap bookworm (minbase) into $root" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
# mktemp made it 0700; a machine's / is 0755, and tests that drop privileges must get through.
chmod 755 "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# What Debian's installer writes and debootstrap does not: `localhost` resolves.
[ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# The host's local trust anchors (a TLS-inspecting proxy's CA, say): a machine on this network
# would be given them too. Debian's ca-certificates, once setup-debian.sh installs it, adds them.
if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
fi

bind() { mkdir -p "$root$2"; mount "${@:3}" --bind "$1" "$root$2"; mounts+=("$root$2"); }
# The root is a mount point, as / is on a machine (`ip netns exec` remounts / as a slave).
mount --bind "$root" "$root"
mounts+=("$root")
bind /proc /proc
bind /sys /sys
bind /dev /dev
bind /dev/pts /dev/pts
bind "$sysroot" "$sysroot"
mount -o remount,bind,ro "$root$sysroot"
mkdir -p "$root/run/netns"

git clone -q "$repo" "$root/root/trawl"
echo "== repository: $(git -C "$root/root/trawl" log -1 --format='%h %s')" >&2
echo "== toolchain: $(rustc --version) from $sysroot" >&2

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH="$sysroot/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    CARGO_HOME=/root/.cargo /bin/bash -c "cd /root/trawl && $1"
}

status=0
for step in run test; do
  cmd=$run_cmd
  [ "$step" = test ] && cmd=$test_cmd
  echo "== README $step command:" >&2
  echo "   $cmd" >&2
  start=$(date +%s)
  if in_root "$cmd" >"/tmp/check-fresh-debian.$step.log" 2>&1; then
    echo "== $step command: ok ($(($(date +%s) - start)) s), log /tmp/check-fresh-debian.$step.log" >&2
  else
    echo "== $step command: FAILED ($(($(date +%s) - start)) s), last lines of /tmp/check-fresh-debian.$step.log:" >&2
    tail -30 "/tmp/check-fresh-debian.$step.log" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && grep -E '^test result' /tmp/check-fresh-debian.test.log |
  awk '{p+=$4; f+=$6; i+=$8} END {printf "== tests: %d passed, %d failed, %d ignored\n", p, f, i}' >&2
exit "$status"
