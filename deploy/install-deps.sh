#!/usr/bin/env bash
# Installs what ipmanager needs from Debian 12 packages. Idempotent: installs only what is
# missing. Needs root (apt-get) when something is missing.
#
#   bash deploy/install-deps.sh           deploy: only what building and running ipmanager needs
#   bash deploy/install-deps.sh --demo    + what deploy/demo.sh runs (nginx, curl, jq)
#   bash deploy/install-deps.sh --test    + what the tests run (nginx, logrotate, prometheus, ...)
#   bash deploy/install-deps.sh --bench   + the peers of tests/bench/proxy_vs_haproxy.sh,
#                                         what tests/bench/replay_vs_mtail.sh runs and perf
#
# It never stops, disables, restarts or kills a service: on an egress host the running nginx
# is the pool itself. The deploy path installs libraries and build tools, which ship no
# service. The other paths install packages that do (nginx, prometheus): while they install,
# Debian's policy-rc.d mechanism keeps the packaged services from starting (the tests start
# their own on loopback); a policy-rc.d the host already has is left as it is, one this
# script wrote is removed again, even when the install fails.
#
# For tests only: IPM_INSTALL_PRETEND_MISSING="pkg ..." treats those packages as missing,
# IPM_APT_GET replaces the apt-get command, IPM_POLICY_RC_D the policy-rc.d path.
set -euo pipefail

# Building and running ipmanager (the release binary links RE2, yaml-cpp, prometheus-cpp,
# Boost.JSON, zlib, libsystemd, libnftables and libpsl, which reads the publicsuffix package's
# list at run time).
packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libre2-dev prometheus-cpp-dev libyaml-cpp-dev zlib1g-dev libsystemd-dev libnftables-dev
  libpsl-dev publicsuffix
)
demo_packages=(nginx-light curl jq)
test_packages=(
  clang-format libgtest-dev libgmock-dev libbenchmark-dev
  nginx-light logrotate prometheus curl procps psmisc jq
  mtail debootstrap
  microsocks dante-server  # the upstream SOCKS5 proxies of the dispatch tests (sockd: a ruleset)
  openssh-server openssh-client  # an sshd on loopback and `ssh -D` as a dispatch upstream
  nftables iproute2  # gateway mode's tests, inside network namespaces they make
  dnsmasq-base bind9-dnsutils  # the gateway e2e's DNS server (the binary only: no service) and dig
  chromium chromium-driver python3-selenium
  clang libclang-rt-14-dev  # the libFuzzer targets (tests/fuzz)
  lld  # the linker of the sanitizer and fuzz builds (CMakePresets.json: sanitizer-ci)
)
bench_packages=(haproxy iperf3 wrk libnginx-mod-stream jq time
  microsocks dante-server  # the SOCKS5 peers of tests/bench/socks_vs_peers.sh
  tinyproxy-bin  # its HTTP CONNECT peer (the binary alone: the tinyproxy package starts a service)
  linux-perf)  # perf record/report: the profiles behind tests/bench/replay_vs_mtail.sh's figures

mode=deploy
case "${1:-}" in
  "") ;;
  --demo) mode=demo; packages+=("${demo_packages[@]}") ;;
  --test) mode=test; packages+=("${test_packages[@]}") ;;
  --bench) mode=bench; packages+=("${test_packages[@]}" "${bench_packages[@]}") ;;
  *) echo "usage: bash deploy/install-deps.sh [--demo | --test | --bench]" >&2; exit 2 ;;
esac

pretend_missing=" ${IPM_INSTALL_PRETEND_MISSING:-} "
missing=()
for p in "${packages[@]}"; do
  if [[ "$pretend_missing" == *" $p "* ]] ||
    ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed ($mode)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

# shellcheck disable=SC2206 # IPM_APT_GET may carry arguments (tests)
apt_get=(${IPM_APT_GET:-apt-get})
policy_rc_d=${IPM_POLICY_RC_D:-/usr/sbin/policy-rc.d}

if [ "$mode" != deploy ] && [ ! -e "$policy_rc_d" ]; then
  # Written before anything is installed and removed by the trap whatever happens next.
  trap 'rm -f "$policy_rc_d"' EXIT
  trap 'exit 130' INT TERM
  cat >"$policy_rc_d" <<'EOF'
#!/bin/sh
# Written by ipmanager's deploy/install-deps.sh for the length of one apt-get install:
# packaged services do not start (exit 101: action forbidden). Removed when it finishes.
exit 101
EOF
  chmod 755 "$policy_rc_d"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt-get (an operator's, unattended-upgrades, a test) may hold one of apt's locks:
# DPkg::Lock::Timeout waits for dpkg's; `update` takes the lists lock, which it does not
# cover, so a failed update is tried again a few times.
apt=("${apt_get[@]}" -o DPkg::Lock::Timeout=300)
for try in 1 2 3 4 5 6; do
  "${apt[@]}" update -qq && break
  [ "$try" -lt 6 ] || exit 1
  echo "install-deps: apt-get update failed; trying again in 10 s" >&2
  sleep 10
done
# --no-install-recommends keeps prometheus from pulling its web assets' extras and nginx its modules.
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
