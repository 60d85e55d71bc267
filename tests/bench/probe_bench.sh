#!/usr/bin/env bash
# Probe speed at 300 IPs x 1,000 history entries: /probe in full (time, size, server peak
# memory), /metrics (time, size, series), and /ping, /metrics, /probe?limit=10 under
# concurrent load with wrk. The Go tool's figures at that size (0.4 s and 46 MB for the full
# history, 18 ms for /metrics) are printed next to ours as the reference.
# Usage: tests/bench/probe_bench.sh [BUILD_DIR] [IPS] [ENTRIES]   (a release build)
set -euo pipefail

build=${1:-build/release}
ips=${2:-300}
entries=${3:-1000}
server="$build/tests/bench/probe_bench_server"
[ -x "$server" ] || { echo "build $server first (ninja -C $build probe_bench_server)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(mktemp -d)
"$server" "$ips" "$entries" "$port" >"$out/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 1 600); do grep -q ready "$out/server.log" && break; sleep 0.1; done
grep -q ready "$out/server.log" || { echo "server did not start" >&2; cat "$out/server.log"; exit 1; }
url="http://127.0.0.1:$port"

rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
hwm() { awk '/VmHWM/ {print $2}' /proc/$pid/status; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "pool: $ips IPs x $entries entries; server RSS after fill: $(( $(rss) / 1024 )) MB"
before=$(hwm)
for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' "$url/probe"; done >"$out/probe.t"
size=$(curl -s "$url/probe" | wc -c)
after=$(hwm)
probe_s=$(median <"$out/probe.t")
echo "/probe full: median $(awk -v t="$probe_s" 'BEGIN {printf "%.3f", t}') s (Go 0.4 s, x$(awk -v t="$probe_s" 'BEGIN {printf "%.1f", 0.4/t}') faster), body $(( size / 1024 / 1024 )) MB, server peak RSS +$(( (after - before) / 1024 )) MB while serving it"

# /metrics is quick enough to sample well: one warm-up (first-touch page faults), then 101
# sequential requests, each timed by curl from connect to the last byte.
curl -s -o /dev/null "$url/metrics"
for _ in $(seq 1 101); do curl -s -o /dev/null -w '%{time_total}\n' "$url/metrics"; done >"$out/metrics.t"
metrics_s=$(median <"$out/metrics.t")
metrics_p99=$(sort -n "$out/metrics.t" | awk '{a[NR]=$1} END {print a[int(NR*0.99+0.5)]}')
curl -s "$url/metrics" >"$out/metrics.txt"
echo "/metrics: median $(awk -v t="$metrics_s" 'BEGIN {printf "%.2f", t*1000}') ms, p99 $(awk -v t="$metrics_p99" 'BEGIN {printf "%.2f", t*1000}') ms over 101 requests (Go 18 ms, x$(awk -v t="$metrics_s" 'BEGIN {printf "%.1f", 0.018/t}') faster), $(( $(wc -c <"$out/metrics.txt") / 1024 )) KB, $(grep -vc '^#' "$out/metrics.txt") series"

load() {
  local name=$1 conns=$2 path=$3
  wrk -t2 -c"$conns" -d"${BENCH_SECONDS:-10}"s --latency "$url$path" >"$out/wrk.txt"
  echo "$name (wrk -t2 -c$conns): $(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt") req/s, p50 $(awk '$1=="50%" {print $2}' "$out/wrk.txt"), p99 $(awk '$1=="99%" {print $2}' "$out/wrk.txt")"
}
load "/ping" 64 /ping
load "/metrics" 8 /metrics
load "/probe?limit=10" 8 "/probe?limit=10"
load "/probe full" 2 /probe
echo "server peak RSS overall: $(( $(hwm) / 1024 )) MB"
