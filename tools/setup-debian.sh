#!/usr/bin/env bash
# Installs what a fresh Debian 12 lacks to build and run trawl, non-interactively; with --test,
# also what the test suite checks trawl's output with. Idempotent: installs only what is missing.
# Runs apt-get as root, or through sudo when run by another user.
#
#   tools/setup-debian.sh           # build and run: a C linker, libpcap, CA certificates
#   tools/setup-debian.sh --test    # + iproute2, nftables, ipset, openssl, procps, python3-pip,
#                                   #   and the Python peers stix2-validator, medallion,
#                                   #   communityid and scapy
set -euo pipefail

# gcc and libc6-dev: the linker rustc calls; libpcap-dev: live capture (the `pcap` crate links
# libpcap); ca-certificates: cargo fetching crates over https; pkg-config: -sys crates' probes.
packages=(gcc libc6-dev pkg-config libpcap-dev ca-certificates)
peers=()
if [ "${1:-}" = "--test" ]; then
  # iproute2: network namespaces of the live-capture and ipset tests; nftables, ipset: load the
  # firewall exports; openssl: the TLS test's certificates; procps: kill(1); python3-pip (and
  # with it python3): the OASIS STIX validator and TAXII server the tests run against trawl, and
  # the reference Community ID implementation the EVE test checks `community_id` with, and
  # scapy, which crafts the tunnel fixtures (a test regenerates them and compares).
  packages+=(iproute2 nftables ipset openssl procps python3-pip)
  peers=(stix2_validator:stix2-validator medallion:medallion community-id:communityid scapy:scapy)
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-debian: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for tool in "${peers[@]}"; do
  command -v "${tool%%:*}" >/dev/null 2>&1 && continue
  echo "setup-debian: installing ${tool##*:} (pip)" >&2
  # Debian 12's pip refuses to install outside a virtual environment without this flag (PEP 668);
  # older pips do not know the flag.
  flag=()
  python3 -m pip help install 2>/dev/null | grep -q -- --break-system-packages &&
    flag=(--break-system-packages)
  "${sudo[@]}" python3 -m pip install --quiet "${flag[@]}" "${tool##*:}"
done
