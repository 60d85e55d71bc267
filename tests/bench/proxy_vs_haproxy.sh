#!/usr/bin/env bash
# The ipmanager binary users run, against HAProxy 2.6 (mode tcp, nbthread 1) and nginx stream
# (one worker), with the proxy harness beside them, all forwarding to the same backends on
# loopback.
#
#   ipm      the shipped binary, `ipmanager --config` with a real pool config (an nginx config
#            with one `server { listen PORT; proxy_bind IP; }` per egress, the egress ports being
#            the backends') and every other key at its default: least_conn selection,
#            proxy_threads 0 (one worker per usable CPU, and the process is pinned to one),
#            metrics, the decision log and the access-log follower on;
#   harness  tests/bench/proxy_bench_server: the proxy library alone (round robin over fixed
#            egresses, no pool, strategy, probe or log follower), to tell the two costs apart.
#
# Every proxy runs pinned to one core, the load generators and the backends to the other.
# What one set-up would hide is varied:
#   conn (new connections/s, wrk with Connection: close) and keepalive (requests/s) run for
#   every client concurrency in CONCURRENCY (wrk -c), every BACKENDS count (the egress ports,
#   all served by one nginx worker) and every proxy core in CORES (the load gets the other);
#   bulk (iperf3 up and down), latency (wrk -c1, p50/p99) and idle memory run once, on the
#   first core.
# Runs are interleaved: within a round every proxy runs a set-up before the next set-up, each
# round starting with another proxy; the medians of the rounds are reported with ratios against
# HAProxy, and every round's figures are printed too.
#
#   tests/bench/proxy_vs_haproxy.sh       # builds build/bench-proxy (release) first; ~25 min
#   ROUNDS=5 DURATION=5 tests/bench/proxy_vs_haproxy.sh
#   TESTS="conn keepalive" CONCURRENCY=32 BACKENDS=4 CORES=0 PROXIES="haproxy ipm" \
#     tests/bench/proxy_vs_haproxy.sh     # a subset
#
# Needs: haproxy iperf3 wrk nginx libnginx-mod-stream jq (deploy/install-deps.sh --bench).
# Only 127.0.0.1 is used; every process the script starts is stopped on exit, by its PID.
# Other load on the machine moves the figures: run it under `flock /work/wt/bench.lock` next
# to other benchmarks and say how loaded the machine was (it prints uptime before and after).
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3}
BULK_DURATION=${BULK_DURATION:-5}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-3000}
read -r -a CONCURRENCY <<<"${CONCURRENCY:-1 32 256}"
read -r -a BACKENDS <<<"${BACKENDS:-1 4}"
read -r -a CORES <<<"${CORES:-0 1}"
TESTS=${TESTS:-conn keepalive bulk latency idle}
read -r -a PROXIES <<<"${PROXIES:-haproxy nginx harness ipm}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/bench-proxy}
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so

for tool in haproxy iperf3 wrk nginx taskset jq cmake ninja; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
[ -f "$STREAM_MODULE" ] || { echo "missing $STREAM_MODULE (libnginx-mod-stream)" >&2; exit 1; }
for b in "${BACKENDS[@]}"; do
  [[ $b == 1 || $b == 4 ]] || { echo "BACKENDS: 1 and/or 4, got $b" >&2; exit 2; }
done
for c in "${CORES[@]}"; do
  [[ $c == 0 || $c == 1 ]] || { echo "CORES: 0 and/or 1, got $c" >&2; exit 2; }
done

echo "== building ipmanager and proxy_bench_server (release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPM_BUILD_BENCHMARKS=ON \
  -DBUILD_TESTING=ON >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log" >&2; exit 1; }
ninja -C "$BUILD" -j2 ipmanager proxy_bench_server proxy_bench_idle_clients >/dev/null

ulimit -n "$(ulimit -Hn)"  # the sandbox may cap it; connection limits below fit 20000
WORK=$(mktemp -d /tmp/proxy-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Fixed loopback ports, checked free below.
IPERF_PORT=25201
HTTP_PORTS=(25202 25203 25204 25205)
declare -A PORT=(
  [haproxy,bulk]=25211 [haproxy,1]=25212 [haproxy,4]=25213
  [nginx,bulk]=25221 [nginx,1]=25222 [nginx,4]=25223
  [harness,bulk]=25231 [harness,1]=25232 [harness,4]=25233
  [ipm,bulk]=25241 [ipm,1]=25242 [ipm,4]=25243 [ipm-splice,bulk]=25244
  [direct,bulk]=$IPERF_PORT [direct,1]=${HTTP_PORTS[0]}
)
PROBE_PORTS=(25251 25252 25253 25254)
for p in $IPERF_PORT "${HTTP_PORTS[@]}" "${PORT[@]}" "${PROBE_PORTS[@]}"; do
  if ss -ltn "sport = :$p" | grep -q LISTEN; then echo "port $p is busy" >&2; exit 1; fi
done

wait_port() {  # bounded: 10 s
  for _ in $(seq 200); do
    ss -ltn "sport = :$1" | grep -q LISTEN && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2
  exit 1
}
declare -A PID_OF  # process name -> PID
PROXY_PROCS=() LOAD_PROCS=()
start() {  # start proxy|load NAME CMD...: runs CMD in the background on the side's core
  local side=$1 name=$2
  shift 2
  local cpu=$PROXY_CPU
  [ "$side" = load ] && cpu=$LOAD_CPU
  taskset -c "$cpu" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  PID_OF[$name]=$!
  if [ "$side" = load ]; then LOAD_PROCS+=("$name"); else PROXY_PROCS+=("$name"); fi
}
# A process and its children (nginx's workers), every thread of each.
tree() { echo "$1"; pgrep -P "$1" || true; }
pin() {  # pin CPU NAME...
  local cpu=$1
  shift
  for name; do
    for pid in $(tree "${PID_OF[$name]}"); do taskset -a -p -c "$cpu" "$pid" >/dev/null; done
  done
}
pin_all() {
  pin "$PROXY_CPU" "${PROXY_PROCS[@]}"
  pin "$LOAD_CPU" "${LOAD_PROCS[@]}"
}
PROXY_CPU=${CORES[0]}
LOAD_CPU=$((1 - PROXY_CPU))

# --- backends (load core): iperf3 for bulk, one nginx worker on every egress port for HTTP ---
start load iperf3 iperf3 -s -B 127.0.0.1 -p $IPERF_PORT
mkdir -p "$WORK/backend/logs"
{
  echo "worker_processes 1; daemon off; pid $WORK/backend/nginx.pid;"
  echo "error_log $WORK/backend/logs/error.log; worker_rlimit_nofile 20000;"
  echo "events { worker_connections 9000; }"
  echo "http { access_log off; keepalive_requests 100000000;"
  for p in "${HTTP_PORTS[@]}"; do
    echo "  server { listen 127.0.0.1:$p reuseport backlog=4096; location / { return 200 \"ok\\n\"; } }"
  done
  echo "}"
} >"$WORK/backend/nginx.conf"
start load backend nginx -p "$WORK/backend" -c "$WORK/backend/nginx.conf"

# --- the proxies (proxy core) ---
servers() {  # servers N: "NUMBER PORT" of the first N egress ports, a line each
  local k=0
  for p in "${HTTP_PORTS[@]:0:$1}"; do
    k=$((k + 1))
    echo "$k $p"
  done
}
{
  echo "global"
  echo "  nbthread 1"
  echo "  maxconn 9000"
  echo "defaults"
  echo "  mode tcp"
  echo "  timeout connect 5s"
  echo "  timeout client 60s"
  echo "  timeout server 60s"
  echo "listen bulk"
  echo "  bind 127.0.0.1:${PORT[haproxy,bulk]}"
  echo "  server s1 127.0.0.1:$IPERF_PORT"
  for b in 1 4; do
    echo "listen http$b"
    echo "  bind 127.0.0.1:${PORT[haproxy,$b]}"
    servers "$b" | while read -r k p; do echo "  server s$k 127.0.0.1:$p"; done
  done
} >"$WORK/haproxy.cfg"
start proxy haproxy haproxy -db -f "$WORK/haproxy.cfg"

mkdir -p "$WORK/stream/logs"
{
  echo "load_module $STREAM_MODULE;"
  echo "worker_processes 1; daemon off; pid $WORK/stream/nginx.pid;"
  echo "error_log $WORK/stream/logs/error.log; worker_rlimit_nofile 20000;"
  echo "events { worker_connections 9000; }"
  echo "stream {"
  echo "  server { listen 127.0.0.1:${PORT[nginx,bulk]} backlog=4096; proxy_pass 127.0.0.1:$IPERF_PORT; }"
  for b in 1 4; do
    echo "  upstream http$b {"
    servers "$b" | while read -r _ p; do echo "    server 127.0.0.1:$p;"; done
    echo "  }"
    echo "  server { listen 127.0.0.1:${PORT[nginx,$b]} backlog=4096; proxy_pass http$b; }"
  done
  echo "}"
} >"$WORK/stream/nginx.conf"
start proxy nginx nginx -p "$WORK/stream" -c "$WORK/stream/nginx.conf"

harness=("$BUILD/tests/bench/proxy_bench_server" --max-connections 9000)
start proxy harness-bulk "${harness[@]}" --port "${PORT[harness,bulk]}" --backend-port $IPERF_PORT
for b in 1 4; do
  backend_flags=()
  for p in "${HTTP_PORTS[@]:0:$b}"; do backend_flags+=(--backend-port "$p"); done
  start proxy "harness-$b" "${harness[@]}" --port "${PORT[harness,$b]}" "${backend_flags[@]}"
done

# The shipped binary: a pool config as gen-pool.sh writes it, defaults for everything else.
ipm_instance() {  # ipm_instance NAME PROXY_PORT PROBE_PORT EXTRA_YAML EGRESS_PORT...
  local name=$1 proxy_port=$2 probe_port=$3 extra=$4
  shift 4
  local dir="$WORK/$name" k=0
  mkdir -p "$dir"
  : >"$dir/access.log"
  for p; do
    k=$((k + 1))
    echo "server { listen $p; server_name 127.0.1.$k; location / { proxy_bind 127.0.1.$k; } }"
  done >"$dir/pool.conf"
  # Paths and ports of its own (four instances run at once), every other key at its default.
  printf 'upstream_conf_path: %s\naccess_log_path: %s\nstate_dir: %s\nproxy_port: %s\nprobe_port: %s\n%s' \
    "$dir/pool.conf" "$dir/access.log" "$dir/state" "$proxy_port" "$probe_port" "$extra" \
    >"$dir/config.yaml"
  start proxy "$name" "$BUILD/app/ipmanager" --config "$dir/config.yaml"
}
ipm_instance ipm-bulk "${PORT[ipm,bulk]}" "${PROBE_PORTS[0]}" "" $IPERF_PORT
ipm_instance ipm-splice-bulk "${PORT[ipm-splice,bulk]}" "${PROBE_PORTS[1]}" $'proxy_splice: true\n' \
  $IPERF_PORT
ipm_instance ipm-1 "${PORT[ipm,1]}" "${PROBE_PORTS[2]}" "" "${HTTP_PORTS[0]}"
ipm_instance ipm-4 "${PORT[ipm,4]}" "${PROBE_PORTS[3]}" "" "${HTTP_PORTS[@]}"

for p in $IPERF_PORT "${HTTP_PORTS[@]}" "${PORT[@]}" "${PROBE_PORTS[@]}"; do wait_port "$p"; done
for name in ipm-1 ipm-4; do  # proxy_threads 0 on one CPU: one worker
  grep -q "proxy: 1 worker" "$WORK/$name.log" ||
    { echo "$name did not start one worker on its one CPU:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
done

# The processes whose CPU and memory count as a proxy's, for a set-up with B backends.
proxy_pids() {  # proxy_pids PROXY B
  case $1 in
    haproxy) echo "${PID_OF[haproxy]}" ;;
    nginx) pgrep -P "${PID_OF[nginx]}" ;;  # the worker, not the master
    harness | ipm) echo "${PID_OF[$1-$2]}" ;;
  esac
}
rss_kb() { local total=0; for pid in $(proxy_pids "$1" 1); do total=$((total + $(ps -o rss= -p "$pid"))); done; echo $total; }
# CPU time (user + system, clock ticks) the proxy's processes have used so far.
cpu_ticks() { local total=0; for pid in $(proxy_pids "$1" "$2"); do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo $total; }
# Busy and total ticks of one core so far (/proc/stat).
core_ticks() { awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# Converts wrk's latency ("52.00us", "1.20ms", "1.00s") to microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /ms$/) n *= 1000; else if (v ~ /[0-9]s$/ && v !~ /us$/) n *= 1000000; printf "%.1f", n }'; }

declare -A RESULTS  # RESULTS[test|setup|proxy] = " v1 v2 ..."
record() { RESULTS[$1|$2|$3]="${RESULTS[$1|$2|$3]:-} $4"; }

run_wrk() {  # run_wrk PORT wrk-args...
  local port=$1
  shift
  taskset -c "$LOAD_CPU" wrk -t1 -d"${DURATION}s" "$@" "http://127.0.0.1:$port/"
}
warn_errors() {  # errors in a run make its numbers meaningless: say so
  if grep -q "Socket errors\|Non-2xx" <<<"$2"; then
    echo "warning: $1: $(grep -E 'Socket errors|Non-2xx' <<<"$2" | tr -s ' ')" >&2
  fi
}
run_bulk() {  # run_bulk PROXY ""|-R
  taskset -c "$LOAD_CPU" iperf3 -c 127.0.0.1 -p "${PORT[$1,bulk]}" -t "$BULK_DURATION" -J $2 |
    jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100'
}
# The proxies of a round, starting with another one each round.
rotated() {  # rotated ROUND NAME...
  local round=$1
  shift
  local order=("$@")
  local by=$(((round - 1) % ${#order[@]}))
  echo "${order[@]:by}" "${order[@]:0:by}"
}
testing() { [[ " $TESTS " == *" $1 "* ]]; }

echo "== machine before: $(uptime)"
echo "== $ROUNDS interleaved rounds; conn/keepalive ${DURATION}s each, bulk ${BULK_DURATION}s"
SETUPS=()
for cores in "${CORES[@]}"; do
  PROXY_CPU=$cores
  LOAD_CPU=$((1 - cores))
  pin_all
  for round in $(seq "$ROUNDS"); do
    for c in "${CONCURRENCY[@]}"; do
      for b in "${BACKENDS[@]}"; do
        setup="c$c b$b cpu$PROXY_CPU"
        [ "$round" = 1 ] && SETUPS+=("$setup")
        for proxy in $(rotated "$round" "${PROXIES[@]}"); do
          port=${PORT[$proxy,$b]}
          if testing conn; then
            # The rate, with what it cost: the proxy's own CPU per connection, and how busy the
            # load core was (near 100% the load side, not the proxy, set the rate).
            cpu_before=$(cpu_ticks "$proxy" "$b")
            read -r busy_before all_before < <(core_ticks "$LOAD_CPU")
            out=$(run_wrk "$port" -c"$c" -H "Connection: close")
            read -r busy_after all_after < <(core_ticks "$LOAD_CPU")
            warn_errors "$proxy $setup conn round $round" "$out"
            n=$(awk '/requests in/ { print $1 }' <<<"$out")
            record conn_per_s "$setup" "$proxy" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
            record cpu_us_per_conn "$setup" "$proxy" "$(awk -v t=$(($(cpu_ticks "$proxy" "$b") - cpu_before)) -v us=$TICK_US -v n="$n" 'BEGIN { printf "%.1f", t * us / n }')"
            record load_core_busy_pct "$setup" "$proxy" "$(awk -v b=$((busy_after - busy_before)) -v a=$((all_after - all_before)) 'BEGIN { printf "%.1f", 100 * b / a }')"
          fi
          if testing keepalive; then
            out=$(run_wrk "$port" -c"$c")
            warn_errors "$proxy $setup keepalive round $round" "$out"
            record keepalive_req_per_s "$setup" "$proxy" "$(awk '/Requests\/sec/ { print $2 }' <<<"$out")"
          fi
        done
      done
    done
    echo "cpu$PROXY_CPU round $round done"
  done
done

# Bulk, latency and memory: once, on the first proxy core.
PROXY_CPU=${CORES[0]}
LOAD_CPU=$((1 - PROXY_CPU))
pin_all
first="c1 b1 cpu$PROXY_CPU"
for round in $(seq "$ROUNDS"); do
  testing bulk || testing latency || break
  for proxy in $(rotated "$round" direct "${PROXIES[@]}" ipm-splice); do
    if testing bulk; then
      record bulk_up_gbps bulk "$proxy" "$(run_bulk "$proxy" "")"
      record bulk_down_gbps bulk "$proxy" "$(run_bulk "$proxy" -R)"
    fi
    if testing latency && [ "$proxy" != ipm-splice ] && [ "$proxy" != direct ]; then
      out=$(run_wrk "${PORT[$proxy,1]}" -c1 --latency)
      record p50_us "$first" "$proxy" "$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")")"
      record p99_us "$first" "$proxy" "$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
    fi
  done
  echo "bulk/latency round $round done"
done
for proxy in "${PROXIES[@]}"; do
  testing idle || break
  before=$(rss_kb "$proxy")
  taskset -c "$LOAD_CPU" "$BUILD/tests/bench/proxy_bench_idle_clients" "${PORT[$proxy,1]}" \
    "$IDLE_CONNECTIONS" >"$WORK/idle-$proxy.log" 2>&1 &
  holder=$!
  PIDS+=($holder)
  for _ in $(seq 200); do grep -q ready "$WORK/idle-$proxy.log" && break; sleep 0.05; done
  grep -q ready "$WORK/idle-$proxy.log" || { cat "$WORK/idle-$proxy.log" >&2; exit 1; }
  sleep 1
  after=$(rss_kb "$proxy")
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  record rss_per_idle_conn_kb "idle" "$proxy" "$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNECTIONS" 'BEGIN { printf "%.2f", (a - b) / n }')"
  sleep 1
done
echo "== machine after: $(uptime)"

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.2f", a / b }'; }
med() { [ -n "${RESULTS[$1|$2|$3]:-}" ] && median <<<"${RESULTS[$1|$2|$3]}" || echo "-"; }

echo
echo "== every round"
for key in "${!RESULTS[@]}"; do echo "$key:${RESULTS[$key]}"; done | sort
echo
echo "== medians; ratio = ipmanager (or the other) / HAProxy (for latency, CPU and memory lower is better)"
table() {  # table TEST SETUP...
  local test=$1
  shift
  [ -n "$(for s; do for p in "${PROXIES[@]}" direct ipm-splice; do [ -n "${RESULTS[$test|$s|$p]:-}" ] && echo x; done; done)" ] || return 0
  echo "-- $test"
  printf "%-16s %9s %9s %9s %9s %9s %8s %8s %8s\n" setup direct haproxy nginx harness ipm "ipm/ha" "harn/ha" "ngx/ha"
  for s; do
    printf "%-16s %9s %9s %9s %9s %9s %8s %8s %8s\n" "$s" "$(med "$test" "$s" direct)" \
      "$(med "$test" "$s" haproxy)" "$(med "$test" "$s" nginx)" "$(med "$test" "$s" harness)" \
      "$(med "$test" "$s" ipm)" "$(ratio "$(med "$test" "$s" ipm)" "$(med "$test" "$s" haproxy)")" \
      "$(ratio "$(med "$test" "$s" harness)" "$(med "$test" "$s" haproxy)")" \
      "$(ratio "$(med "$test" "$s" nginx)" "$(med "$test" "$s" haproxy)")"
  done
}
table conn_per_s "${SETUPS[@]}"
table keepalive_req_per_s "${SETUPS[@]}"
table cpu_us_per_conn "${SETUPS[@]}"
table load_core_busy_pct "${SETUPS[@]}"
table p50_us "$first"
table p99_us "$first"
table bulk_up_gbps bulk
table bulk_down_gbps bulk
[ -n "${RESULTS[bulk_up_gbps|bulk|ipm-splice]:-}" ] &&
  echo "   ipm with proxy_splice: up $(med bulk_up_gbps bulk ipm-splice), down $(med bulk_down_gbps bulk ipm-splice) Gbit/s"
table rss_per_idle_conn_kb idle

# The headline: the shipped binary against HAProxy in every set-up.
for test in conn_per_s keepalive_req_per_s; do
  worst=""
  for s in "${SETUPS[@]}"; do
    r=$(ratio "$(med "$test" "$s" ipm)" "$(med "$test" "$s" haproxy)")
    [ "$r" = - ] && continue
    if [ -z "$worst" ] || awk -v a="$r" -v b="${worst%% *}" 'BEGIN { exit !(a < b) }'; then worst="$r ($s)"; fi
  done
  [ -n "$worst" ] && echo "== $test: ipm/haproxy lowest over the set-ups: $worst (goal >= 1.0)"
done
echo "cpu_us_per_conn: the proxy's own CPU per connection in the conn test;"
echo "load_core_busy_pct near 100 means the load core (wrk + backend), not the proxy, set the rate."
