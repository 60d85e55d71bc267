#!/usr/bin/env bash
# The shipped ipmanager binary in dispatch mode, every key but the front end at its default
# (metrics, decision log, health engine), one source egress:
#   ipm       `ipmanager dispatch 127.0.1.50` (the mixed front end), spoken to in SOCKS5
#   ipm_http  the same with an `http` front end (IPM_LISTEN), spoken to in HTTP CONNECT
# against microsocks and Dante's sockd (SOCKS5) and tinyproxy (HTTP CONNECT), each asked for a
# loopback backend by one generator (tests/bench/socks_bench_client) in the same command:
#   handshake  new connections/s at each concurrency of CONC: connect, the proxy's handshake
#              (SOCKS5 greeting and CONNECT, or HTTP CONNECT), 32-byte request and answer, close
#   bulk       MB/s of one download through the proxy
#   idle       memory (PSS, all of the proxy's processes) per idle connection held open
# Each proxy is pinned to core 0 (so ipmanager runs one worker), the generator and its backend
# to core 1. Rounds are interleaved (each round starts with another proxy); medians are
# reported with ratios: ipm against the faster of the SOCKS5 peers, ipm_http against tinyproxy.
#
#   flock /work/wt/bench.lock tests/bench/socks_vs_peers.sh
#   ROUNDS=5 DURATION=5 CONC="16 64" PEERS="ipm microsocks" tests/bench/socks_vs_peers.sh
#   PEERS="ipm_http tinyproxy" tests/bench/socks_vs_peers.sh
#
# Knobs: ROUNDS (3), DURATION (s of each handshake run, 3), CONC (client concurrencies of the
# handshake runs, "16"; CONCURRENCY is its older one-value name), BULK_BYTES, IDLE (idle
# connections, 2000), PEERS, BUILD (the release build directory).
# Needs microsocks, dante-server and tinyproxy-bin (deploy/install-deps.sh --bench). Only
# 127.0.0.0/8 is used; every process it starts is stopped on exit (by its PID, or its own
# process group).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
read -r -a CONC <<<"${CONC:-${CONCURRENCY:-16}}"
BULK_BYTES=${BULK_BYTES:-1000000000}
IDLE=${IDLE:-2000}
read -r -a PEERS <<<"${PEERS:-ipm microsocks dante ipm_http tinyproxy}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}

tools=(taskset cmake ninja)
for peer in "${PEERS[@]}"; do
  case $peer in
    microsocks) tools+=(microsocks) ;;
    dante) tools+=(danted) ;;
    tinyproxy) tools+=(tinyproxy) ;;
  esac
done
for tool in "${tools[@]}"; do
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

# The protocol the generator speaks to a peer.
protocol_of() {
  case $1 in
    ipm_http | tinyproxy) echo http ;;
    *) echo socks5 ;;
  esac
}

start_proxy() {  # peer port
  local peer=$1 port=$2
  case $peer in
    ipm)
      IPM_ALLOW_DESTINATIONS='[127.0.0.0/8]' setsid taskset -c 0 "$IPM" dispatch -quiet \
        -lport "$port" -web "$(free_port)" 127.0.1.50 >"$WORK/ipm.log" 2>&1 &
      ;;
    ipm_http)
      IPM_ALLOW_DESTINATIONS='[127.0.0.0/8]' IPM_LISTEN="[{type: http, port: $port}]" \
        setsid taskset -c 0 "$IPM" dispatch -quiet -web "$(free_port)" 127.0.1.54 \
        >"$WORK/ipm.log" 2>&1 &
      ;;
    tinyproxy)
      # Threads, one per connection: MaxClients must hold the idle run's connections.
      cat >"$WORK/tinyproxy.conf" <<CONF
Port $port
Listen 127.0.0.1
Bind 127.0.1.53
Allow 127.0.0.1
Timeout 600
MaxClients $((IDLE + 256))
LogLevel Error
LogFile "$WORK/tinyproxy.log"
DisableViaHeader Yes
CONF
      setsid taskset -c 0 tinyproxy -d -c "$WORK/tinyproxy.conf" >/dev/null 2>&1 &
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
    proto=$(protocol_of "$peer")
    port=$(free_port)
    start_proxy "$peer" "$port"
    line="round $round $peer ($proto):"
    for c in "${CONC[@]}"; do
      hs=$(taskset -c 1 "$CLIENT" --proxy-port "$port" --protocol "$proto" --mode handshake \
        --seconds "$DURATION" --concurrency "$c" | sed -n 's/.*handshakes_per_s=\([0-9]*\).*/\1/p')
      HS[$peer $c]+="$hs "
      line+=" handshakes/s at $c $hs,"
    done
    mb=$(taskset -c 1 "$CLIENT" --proxy-port "$port" --protocol "$proto" --mode bulk \
      --bytes "$BULK_BYTES" --concurrency 1 | sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p')
    before=$(pss_kb)
    taskset -c 1 "$CLIENT" --proxy-port "$port" --protocol "$proto" --mode idle \
      --concurrency "$IDLE" --seconds 3 >"$WORK/idle.out" &
    idle_pid=$!
    for _ in $(seq 100); do grep -q idle_open "$WORK/idle.out" && break; sleep 0.05; done
    sleep 0.5
    after=$(pss_kb)
    wait "$idle_pid" || true
    kb=$(awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN {printf "%.1f", (a - b) / n}')
    stop_proxy
    echo "$line bulk MB/s $mb, KB per idle connection $kb ($(cat "$WORK/idle.out"))"
    MB[$peer]+="$mb "
    KB[$peer]+="$kb "
  done
done
echo "== load after: $(uptime)"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
has() { [[ " ${PEERS[*]} " == *" $1 "* ]]; }
# The ratio of `ours` to the best of the peers named after it ("-" when none ran), for one
# table: HS (at concurrency $3) or MB.
ratio() {  # table concurrency ours peer...
  local table=$1 c=$2 ours=$3 best=0 v p
  shift 3
  has "$ours" || { echo "-"; return; }
  for p in "$@"; do
    has "$p" || continue
    if [ "$table" = HS ]; then v=$(echo "${HS[$p $c]}" | median); else v=$(echo "${MB[$p]}" | median); fi
    best=$(awk -v a="$best" -v b="$v" 'BEGIN {print (b > a) ? b : a}')
  done
  [ "$best" != 0 ] || { echo "-"; return; }
  if [ "$table" = HS ]; then v=$(echo "${HS[$ours $c]}" | median); else v=$(echo "${MB[$ours]}" | median); fi
  awk -v o="$v" -v b="$best" 'BEGIN {printf "%.2fx", o / b}'
}
echo "== medians of $ROUNDS rounds (${DURATION}s handshake runs; bulk ${BULK_BYTES} bytes; $IDLE idle)"
printf '%-11s %-7s' peer proto
for c in "${CONC[@]}"; do printf ' %13s' "hs/s at c=$c"; done
printf ' %10s %12s\n' "bulk MB/s" "KB/idle conn"
for peer in "${PEERS[@]}"; do
  printf '%-11s %-7s' "$peer" "$(protocol_of "$peer")"
  for c in "${CONC[@]}"; do printf ' %13s' "$(echo "${HS[$peer $c]}" | median)"; done
  printf ' %10s %12s\n' "$(echo "${MB[$peer]}" | median)" "$(echo "${KB[$peer]}" | median)"
done
for c in "${CONC[@]}"; do
  echo "concurrency $c: ipm / faster of microsocks and dante: handshakes $(ratio HS "$c" ipm microsocks dante) (goal 1.5x); ipm_http / tinyproxy: handshakes $(ratio HS "$c" ipm_http tinyproxy)"
done
echo "bulk: ipm / faster of microsocks and dante $(ratio MB - ipm microsocks dante) (goal 1.0x); ipm_http / tinyproxy $(ratio MB - ipm_http tinyproxy)"
