#!/usr/bin/env bash
# Installs every Debian package feedhandler needs. Idempotent, non-interactive.
# Usage: sudo scripts/setup.sh   (CI runs it as root)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev          # libFuzzer + sanitizers for clang builds
  libsimdjson-dev                      # venue parsers (on-demand API)
  libconcurrentqueue-dev libreaderwriterqueue-dev  # control-plane queue, ring baseline
  nlohmann-json3-dev                   # bench baseline only (DOM parse)
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libzstd-dev               # gzip captures, recordings
  libzip-dev                           # .zip captures (Bybit historical files)
  libyaml-dev                          # VCR cassettes (Hyperliquid SDK REST recordings)
  libdeflate-dev                       # PCLMUL crc32 for venue checksums
  liburing-dev libssl-dev libcurl4-openssl-dev
  libpcap-dev                          # pcap/pcapng captures (fh-replay --pcap, multicast feeds)
  openssl ca-certificates              # test certificates at run time; system CA store
  libtomlplusplus-dev                  # feedhandler --config (TOML)
  valgrind                             # callgrind instruction-count gate (scripts/callgrind-gate.sh)
  python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup: all ${#packages[@]} packages present"
