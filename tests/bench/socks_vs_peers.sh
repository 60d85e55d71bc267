#!/usr/bin/env bash
# The shipped ipmanager binary in dispatch mode (`ipmanager dispatch 127.0.1.50`: a mixed front
# end, one source egress, every other key at its default: metrics, decision log, health
# engine) against microsocks and Dante's sockd, as SOCKS5 proxies to a loopback backend, driven
# by one generator (tests/bench/socks_bench_client) in the same command:
#   handshake  new connections/s: connect, greeting, CONNECT, 32-byte request and answer, close
#   bulk       MB/s of one download through the proxy
#   idle       memory (PSS, all of the proxy's processes) per idle SOCKS connection held open
# Each proxy is pinned to core 0 (so ipmanager runs one worker), the generator and its backend
# to core 1. Rounds are interleaved (each round starts with another proxy); medians are
# reported with ratios against the faster peer.
#
#   flock /work/wt/bench.lock tests/bench/socks_vs_peers.sh
#   ROUNDS=5 DURATION=5 CONCURRENCY=32 PEERS="ipm microsocks" tests/bench/socks_vs_peers.sh
#
# Needs microsocks and dante-server (deploy/install-deps.sh --bench). Only 127.0.0.0/8 is
# used; every process it starts is stopped on exit (by its PID, or its own process group).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
CONCURRENCY=${CONCURRENCY:-16}
BULK_BYTES=${BULK_BYTES:-1000000000}
IDLE=${IDLE:-2000}
read -r -a PEERS <<<"${PEERS:-ipm microsocks dante}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}

for tool in microsocks danted taskset cmake ninja; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run deploy/install-deps.sh --bench" >&2; exit 1; }
done

echo "== building ipmanager and socks_bench_client (release) in $BUILD"
(cd "$ROOT" && cmake --preset release -B "$BUILD" >/dev/null &&
  cmake --build "$BUILD" --target ipmanager socks_bench_client >/dev/null)
IPM=$BUILD/app/ipmanager
CLIENT=$BUILD/tests/bench/socks_bench_client

WORK=$(mktemp -d /tmp/ipm-socks-bench.XXXXXX)
PID=""
cleanup() {
  stop_proxy
  rm -rf "$WORK"
}
stop_proxy() {
  if [ -n "$PID" ]; then
    kill -TERM -- "-$PID" 2>/dev/null || true  # its own process group (setsid)
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
  fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 100); do
    (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 never opened" >&2
  return 1
}

start_proxy() {  # peer port
  local peer=$1 port=$2
  case $peer in
    ipm)
      IPM_ALLOW_DESTINATIONS='[127.0.0.0/8]' setsid taskset -c 0 "$IPM" dispatch -quiet \
        -lport "$port" -web "$(free_port)" 127.0.1.50 >"$WORK/ipm.log" 2>&1 &
      ;;
    microsocks)
      setsid taskset -c 0 microsocks -i 127.0.0.1 -p "$port" -b 127.0.1.51 >/dev/null 2>&1 &
      ;;
    dante)
      cat >"$WORK/sockd.conf" <<CONF
logoutput: $WORK/sockd.log
errorlog: $WORK/sockd.log
internal: 127.0.0.1 port = $port
external: 127.0.1.52
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
CONF
      setsid taskset -c 0 danted -f "$WORK/sockd.conf" -p "$WORK/sockd.pid" >/dev/null 2>&1 &
      ;;
  esac
  PID=$!
  wait_port "$port"
}

# PSS of the proxy's whole process group, in KB.
pss_kb() {
  local total=0 p
  for p in $(pgrep -g "$PID" 2>/dev/null || true); do
    total=$((total + $(awk '/^Pss:/ {s += $2} END {print s + 0}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

declare -A HS MB KB
echo "== load before: $(uptime)"
for round in $(seq "$ROUNDS"); do
  n=${#PEERS[@]}
  for i in $(seq 0 $((n - 1))); do
    peer=${PEERS[$(((i + round) % n))]}
    port=$(free_port)
    start_proxy "$peer" "$port"
    hs=$(taskset -c 1 "$CLIENT" --proxy-port "$port" --mode handshake --seconds "$DURATION" \
      --concurrency "$CONCURRENCY" | sed -n 's/.*handshakes_per_s=\([0-9]*\).*/\1/p')
    mb=$(taskset -c 1 "$CLIENT" --proxy-port "$port" --mode bulk --bytes "$BULK_BYTES" \
      --concurrency 1 | sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p')
    before=$(pss_kb)
    taskset -c 1 "$CLIENT" --proxy-port "$port" --mode idle --concurrency "$IDLE" --seconds 3 \
      >"$WORK/idle.out" &
    idle_pid=$!
    for _ in $(seq 100); do grep -q idle_open "$WORK/idle.out" && break; sleep 0.05; done
    sleep 0.5
    after=$(pss_kb)
    wait "$idle_pid" || true
    kb=$(awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN {printf "%.1f", (a - b) / n}')
    stop_proxy
    echo "round $round $peer: handshakes/s $hs, bulk MB/s $mb, KB per idle connection $kb ($(cat "$WORK/idle.out"))"
    HS[$peer]+="$hs "
    MB[$peer]+="$mb "
    KB[$peer]+="$kb "
  done
done
echo "== load after: $(uptime)"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "== medians of $ROUNDS rounds (concurrency $CONCURRENCY, ${DURATION}s; bulk ${BULK_BYTES} bytes; $IDLE idle)"
best_hs=0
best_mb=0
for peer in "${PEERS[@]}"; do
  hs=$(echo "${HS[$peer]}" | median)
  mb=$(echo "${MB[$peer]}" | median)
  kb=$(echo "${KB[$peer]}" | median)
  printf '%-11s handshakes/s %8s   bulk MB/s %8s   KB/idle connection %6s\n' "$peer" "$hs" "$mb" "$kb"
  if [ "$peer" != ipm ]; then
    best_hs=$(awk -v a="$best_hs" -v b="$hs" 'BEGIN {print (b > a) ? b : a}')
    best_mb=$(awk -v a="$best_mb" -v b="$mb" 'BEGIN {print (b > a) ? b : a}')
  fi
done
if [[ " ${PEERS[*]} " == *" ipm "* ]] && [ "$best_hs" != 0 ]; then
  hs=$(echo "${HS[ipm]}" | median)
  mb=$(echo "${MB[ipm]}" | median)
  awk -v h="$hs" -v bh="$best_hs" -v m="$mb" -v bm="$best_mb" 'BEGIN {
    printf "ipm / faster peer: handshakes %.2fx (goal 1.5x), bulk %.2fx (goal 1.0x)\n", h / bh, m / bm }'
fi
