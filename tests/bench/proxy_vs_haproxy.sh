#!/usr/bin/env bash
# The ipmanager TCP proxy against HAProxy 2.6 (mode tcp, nbthread 1) and nginx stream (one
# worker), all three forwarding to the same backends on loopback. Each proxy is pinned to one
# core, the load generators and backends to the other. Runs are interleaved (round r runs
# every proxy before round r+1, starting with a different one each round) and the medians are
# reported, with ratios against HAProxy.
# The connection-rate test also reports each proxy's own CPU time per connection and how busy
# the load core was, since on two cores the load side can be what sets the rate.
#
#   tests/bench/proxy_vs_haproxy.sh            # builds build/bench-proxy (release) first
#   ROUNDS=5 DURATION=10 IDLE_CONNECTIONS=4000 tests/bench/proxy_vs_haproxy.sh
#   TESTS="bulk conn" PROXIES="haproxy ipm" tests/bench/proxy_vs_haproxy.sh   # a subset
#
# Needs: haproxy iperf3 wrk nginx libnginx-mod-stream (deploy/install-deps.sh --bench).
# Only 127.0.0.1 is used; every process the script starts is killed on exit.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-3000}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
TESTS=${TESTS:-bulk conn latency keepalive idle}
read -r -a PROXIES <<<"${PROXIES:-haproxy nginx ipm ipm-splice}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/bench-proxy}
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

for tool in haproxy iperf3 wrk nginx taskset jq cmake ninja; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
[ -f "$STREAM_MODULE" ] || { echo "missing $STREAM_MODULE (libnginx-mod-stream)" >&2; exit 1; }

echo "== building proxy_bench_server (release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPM_BUILD_BENCHMARKS=ON \
  >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log" >&2; exit 1; }
ninja -C "$BUILD" -j2 proxy_bench_server proxy_bench_idle_clients >/dev/null

ulimit -n "$(ulimit -Hn)"  # the sandbox may cap it; connection limits below fit 20000
WORK=$(mktemp -d /tmp/proxy-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Fixed loopback ports, checked free below.
IPERF_PORT=25201 HTTP_PORT=25202
HA_BULK=25211 HA_HTTP=25212
NX_BULK=25221 NX_HTTP=25222
IPM_BULK=25231 IPM_HTTP=25232 IPM_SPLICE_BULK=25241
for p in $IPERF_PORT $HTTP_PORT $HA_BULK $HA_HTTP $NX_BULK $NX_HTTP $IPM_BULK $IPM_HTTP $IPM_SPLICE_BULK; do
  if ss -ltn "sport = :$p" | grep -q LISTEN; then echo "port $p is busy" >&2; exit 1; fi
done

wait_port() {  # bounded: 5 s
  for _ in $(seq 100); do
    ss -ltn "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  exit 1
}
start() {  # start CPU NAME CMD...: runs CMD pinned to CPU in the background
  local cpu=$1 name=$2
  shift 2
  taskset -c "$cpu" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}

# --- backends (load core) ---
start "$LOAD_CPU" iperf3 iperf3 -s -B 127.0.0.1 -p $IPERF_PORT
mkdir -p "$WORK/backend/logs"
cat >"$WORK/backend/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/backend/nginx.pid;
error_log $WORK/backend/logs/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 9000; }
http {
  access_log off;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$HTTP_PORT reuseport backlog=4096;
    location / { return 200 "ok\n"; }
  }
}
EOF
start "$LOAD_CPU" backend nginx -p "$WORK/backend" -c "$WORK/backend/nginx.conf"

# --- the three proxies (proxy core) ---
cat >"$WORK/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 9000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bulk
  bind 127.0.0.1:$HA_BULK
  default_backend bulk
backend bulk
  server s1 127.0.0.1:$IPERF_PORT
frontend http
  bind 127.0.0.1:$HA_HTTP
  default_backend http
backend http
  server s1 127.0.0.1:$HTTP_PORT
EOF
start "$PROXY_CPU" haproxy haproxy -db -f "$WORK/haproxy.cfg"

mkdir -p "$WORK/stream/logs"
cat >"$WORK/stream/nginx.conf" <<EOF
load_module $STREAM_MODULE;
worker_processes 1;
daemon off;
pid $WORK/stream/nginx.pid;
error_log $WORK/stream/logs/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 9000; }
stream {
  server { listen 127.0.0.1:$NX_BULK backlog=4096; proxy_pass 127.0.0.1:$IPERF_PORT; }
  server { listen 127.0.0.1:$NX_HTTP backlog=4096; proxy_pass 127.0.0.1:$HTTP_PORT; }
}
EOF
start "$PROXY_CPU" nginx-stream nginx -p "$WORK/stream" -c "$WORK/stream/nginx.conf"

start "$PROXY_CPU" ipm-bulk "$BUILD/tests/bench/proxy_bench_server" --port $IPM_BULK \
  --backend-port $IPERF_PORT --max-connections 9000
start "$PROXY_CPU" ipm-http "$BUILD/tests/bench/proxy_bench_server" --port $IPM_HTTP \
  --backend-port $HTTP_PORT --max-connections 9000

# ipmanager again with proxy_splice on (bulk only): splice(2) measured against copying.
start "$PROXY_CPU" ipm-splice-bulk "$BUILD/tests/bench/proxy_bench_server" --port $IPM_SPLICE_BULK \
  --backend-port $IPERF_PORT --max-connections 9000 --splice 1

for p in $IPERF_PORT $HTTP_PORT $HA_BULK $HA_HTTP $NX_BULK $NX_HTTP $IPM_BULK $IPM_HTTP $IPM_SPLICE_BULK; do
  wait_port $p
done

bulk_port() { case $1 in haproxy) echo $HA_BULK ;; nginx) echo $NX_BULK ;; ipm) echo $IPM_BULK ;; ipm-splice) echo $IPM_SPLICE_BULK ;; direct) echo $IPERF_PORT ;; esac; }
http_port() { case $1 in haproxy) echo $HA_HTTP ;; nginx) echo $NX_HTTP ;; ipm) echo $IPM_HTTP ;; esac; }
# PIDs whose RSS counts as the proxy's (nginx: the worker, not the master).
proxy_pids() {
  case $1 in
    haproxy) pgrep -f "haproxy -db -f $WORK/haproxy.cfg" ;;
    nginx) pgrep -f "nginx: worker process" | while read -r pid; do
             [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$(cat "$WORK/stream/nginx.pid")" ] && echo "$pid"
           done ;;
    ipm) pgrep -f "proxy_bench_server --port $IPM_HTTP" ;;
  esac
}
rss_kb() { local total=0; for pid in $(proxy_pids "$1"); do total=$((total + $(ps -o rss= -p "$pid"))); done; echo $total; }
# CPU time (user + system, clock ticks) the proxy's processes have used so far.
cpu_ticks() { local total=0; for pid in $(proxy_pids "$1"); do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo $total; }
# Busy and total ticks of one core so far (/proc/stat).
core_ticks() { awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# Converts wrk's latency ("52.00us", "1.20ms", "1.00s") to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /ms$/) n *= 1000; else if (v ~ /[0-9]s$/ && v !~ /us$/) n *= 1000000; printf "%.1f", n }'; }

declare -A RESULTS  # RESULTS[test,proxy] = "v1 v2 ..."
record() { RESULTS[$1,$2]="${RESULTS[$1,$2]:-} $3"; }

run_bulk() {  # $1 proxy, $2 "" or "-R"
  taskset -c "$LOAD_CPU" iperf3 -c 127.0.0.1 -p "$(bulk_port "$1")" -t "$DURATION" -J $2 |
    jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100'
}
run_wrk() {  # $1 port, then wrk args
  local port=$1
  shift
  taskset -c "$LOAD_CPU" wrk -t1 -d"${DURATION}s" "$@" "http://127.0.0.1:$port/"
}

echo "== $ROUNDS interleaved rounds of ${DURATION}s per test; proxies on CPU $PROXY_CPU, load on CPU $LOAD_CPU"
testing() { [[ " $TESTS " == *" $1 "* ]]; }
for round in $(seq "$ROUNDS"); do
  # Each round starts with another proxy, so that none always runs right after the same one.
  order=(direct "${PROXIES[@]}")
  shift_by=$(( (round - 1) % ${#order[@]} ))
  order=("${order[@]:shift_by}" "${order[@]:0:shift_by}")
  for proxy in "${order[@]}"; do
    if testing bulk; then
      record bulk_up_gbps "$proxy" "$(run_bulk "$proxy" "")"
      record bulk_down_gbps "$proxy" "$(run_bulk "$proxy" -R)"
    fi
    [ "$proxy" = direct ] || [ "$proxy" = ipm-splice ] && continue
    port=$(http_port "$proxy")
    if testing conn; then
    # The connection rate, with what it cost: the proxy's own CPU per connection, and how busy
    # the load core was (at 100% the load generator and backend, not the proxy, set the rate).
    cpu_before=$(cpu_ticks "$proxy")
    read -r load_busy_before load_all_before < <(core_ticks "$LOAD_CPU")
    out=$(run_wrk "$port" -c50 -H "Connection: close")
    read -r load_busy_after load_all_after < <(core_ticks "$LOAD_CPU")
    connections=$(awk '/requests in/ { print $1 }' <<<"$out")
    record conn_rate_per_s "$proxy" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
    record proxy_cpu_us_per_conn "$proxy" "$(awk -v t=$(($(cpu_ticks "$proxy") - cpu_before)) -v us=$TICK_US -v n="$connections" 'BEGIN { printf "%.1f", t * us / n }')"
    record load_core_busy_pct "$proxy" "$(awk -v b=$((load_busy_after - load_busy_before)) -v a=$((load_all_after - load_all_before)) 'BEGIN { printf "%.1f", 100 * b / a }')"
    fi
    if testing latency; then
      out=$(run_wrk "$port" -c1 --latency)
      record p50_us "$proxy" "$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
      record p99_us "$proxy" "$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
    fi
    if testing keepalive; then
      out=$(run_wrk "$port" -c32)
      record keepalive_req_per_s "$proxy" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
      # Errors in a run make its numbers meaningless: say so.
      grep -q "Socket errors\|Non-2xx" <<<"$out" && echo "warning: $proxy round $round: $(grep -E 'Socket errors|Non-2xx' <<<"$out")" >&2
    fi
  done
  echo "round $round done"
done

testing idle && echo "== memory per idle connection ($IDLE_CONNECTIONS connections, after the tests above)"
for proxy in "${PROXIES[@]}"; do
  testing idle || break
  [ "$proxy" = ipm-splice ] && continue
  before=$(rss_kb "$proxy")
  taskset -c "$LOAD_CPU" "$BUILD/tests/bench/proxy_bench_idle_clients" "$(http_port "$proxy")" \
    "$IDLE_CONNECTIONS" >"$WORK/idle-$proxy.log" 2>&1 &
  holder=$!
  PIDS+=($holder)
  for _ in $(seq 200); do grep -q ready "$WORK/idle-$proxy.log" && break; sleep 0.05; done
  grep -q ready "$WORK/idle-$proxy.log" || { cat "$WORK/idle-$proxy.log" >&2; exit 1; }
  sleep 1
  after=$(rss_kb "$proxy")
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  record rss_per_idle_conn_kb "$proxy" "$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNECTIONS" 'BEGIN { printf "%.2f", (a - b) / n }')"
  sleep 1
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo
echo "== every round"
for key in "${!RESULTS[@]}"; do echo "$key:${RESULTS[$key]}"; done | sort
echo
echo "== medians (ratio = value / HAProxy's; for latency and memory lower is better)"
printf "%-22s %9s %9s %9s %9s %10s %8s %8s %8s\n" test direct haproxy nginx ipm ipm-splice "ipm/ha" "nginx/ha" "splc/ha"
for test in bulk_up_gbps bulk_down_gbps conn_rate_per_s proxy_cpu_us_per_conn load_core_busy_pct p50_us p99_us keepalive_req_per_s rss_per_idle_conn_kb; do
  declare -A M=()
  for proxy in direct haproxy nginx ipm ipm-splice; do
    M[$proxy]=$( [ -n "${RESULTS[$test,$proxy]:-}" ] && median <<<"${RESULTS[$test,$proxy]}" || echo "-")
  done
  [ "${M[ipm]}" = - ] && [ "${M[haproxy]}" = - ] && continue
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-") print "-"; else printf "%.2f", a / b }'; }
  printf "%-22s %9s %9s %9s %9s %10s %8s %8s %8s\n" "$test" "${M[direct]}" "${M[haproxy]}" "${M[nginx]}" \
    "${M[ipm]}" "${M[ipm-splice]}" "$(ratio "${M[ipm]}" "${M[haproxy]}")" \
    "$(ratio "${M[nginx]}" "${M[haproxy]}")" "$(ratio "${M[ipm-splice]}" "${M[haproxy]}")"
  if [ "$test" = p50_us ]; then
    echo "   p50 ipm - haproxy = $(awk -v a="${M[ipm]}" -v b="${M[haproxy]}" 'BEGIN { printf "%.1f", a - b }') us (goal: <= 10)"
  fi
  unset M
done
echo
echo "ipm-splice: ipmanager with proxy_splice on, bulk only."
echo "goals: bulk and conn_rate ipm/ha >= 1.0; p50 within 10 us; p99 ipm/ha <= 1.0; rss <= 64 KB per idle connection"
echo "proxy_cpu_us_per_conn: the proxy's CPU time per connection during the conn_rate test (lower is better);"
echo "load_core_busy_pct near 100 means the load core (wrk + backend), not the proxy, limited conn_rate."
