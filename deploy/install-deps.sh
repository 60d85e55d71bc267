#!/usr/bin/env bash
# Installs everything ipmanager needs to build, test and run its demo, from Debian 12 packages.
# Idempotent: installs only what is missing. Needs root (apt-get).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost1.81-dev libboost-json1.81-dev
  libre2-dev prometheus-cpp-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev
  nginx-light logrotate prometheus curl procps psmisc jq
  mtail
)

# Peers of tests/bench/proxy_vs_haproxy.sh only, installed with --bench.
bench_packages=(haproxy iperf3 wrk libnginx-mod-stream jq)
if [ "${1:-}" = "--bench" ]; then
  packages+=("${bench_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps prometheus from pulling its web assets' extras and nginx its modules.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Packaged services must not run on their own: tests start their own nginx and prometheus on loopback.
for svc in nginx prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
    systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
done
pkill -x nginx 2>/dev/null || true
pkill -x prometheus 2>/dev/null || true
