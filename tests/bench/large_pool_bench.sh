#!/usr/bin/env bash
# Large pools on the shipped binary (issue 22): for pools of 100, 1,000 and 10,000 IPs, a
# generated pool config and access log (no nginx needed at this size), ipmanager with its
# default config in `mode: parse`, and per size:
#   - startup to /ping (`mode: serve`, no replay) and `--check` (reading the pool config);
#   - events/s of the replay (lines / time from start to ipmanager_replay_done_timestamp_seconds);
#   - /metrics: series, bytes and median time of 11 scrapes, for the default metrics keys and
#     for `metrics_per_ip: compact` (applied by SIGHUP, whose time to its log line is the
#     reload of the whole pool config);
#   - /probe?summary=1 and the web page's first /api/events snapshot, in bytes; RSS;
# then the in-process costs per size (large_pool_bench: event application, selection, the
# per-connection path, state changes with their snapshot swap).
#
#   flock /work/wt/bench.lock tests/bench/large_pool_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default build/release) holds app/ipmanager, tests/bench/replay_bench_logs and
# tests/bench/large_pool_bench. Environment: SIZES ("100 1000 10000"), LINES_PER_IP (200).
set -euo pipefail

build=${1:-build/release}
sizes=${SIZES:-100 1000 10000}
per_ip=${LINES_PER_IP:-200}
ipm="$build/app/ipmanager"
gen="$build/tests/bench/replay_bench_logs"
harness="$build/tests/bench/large_pool_bench"
for tool in "$ipm" "$gen" "$harness"; do
  [ -x "$tool" ] || { echo "missing $tool (build ipmanager replay_bench_logs large_pool_bench)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/ipm-large-pool.XXXXXX)
ipm_pid=
stop_ipm() {
  if [ -n "$ipm_pid" ] && kill -0 "$ipm_pid" 2>/dev/null; then
    kill -TERM "$ipm_pid" 2>/dev/null || true
    wait "$ipm_pid" 2>/dev/null || true
  fi
  ipm_pid=
}
trap 'stop_ipm; rm -rf "$work"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Waits (up to $2 s) for the extended regex $1 in the ipmanager log; fails loudly.
wait_log() {
  for _ in $(seq $(($2 * 100))); do
    grep -Eq "$1" "$work/ipm.err" && return 0
    kill -0 "$ipm_pid" 2>/dev/null || { tail -20 "$work/ipm.err" >&2; exit 1; }
    sleep 0.01
  done
  echo "no '$1' in the log after $2 s" >&2
  tail -20 "$work/ipm.err" >&2
  exit 1
}
probe_port() { sed -n 's|.*ipmanager running: .*, probe http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/ipm.err" | head -1; }
start_ipm() {
  : >"$work/ipm.err"
  "$ipm" --config "$work/config.yaml" 2>"$work/ipm.err" &
  ipm_pid=$!
}
# Prints "series bytes median_ms" of 11 scrapes after a warm-up.
scrape() {
  local url=$1
  curl -sf -o /dev/null "$url/metrics"
  for _ in $(seq 11); do curl -sf -o /dev/null -w '%{time_total}\n' "$url/metrics"; done >"$work/t"
  curl -sf "$url/metrics" >"$work/metrics.txt"
  echo "$(grep -vc '^#' "$work/metrics.txt") $(wc -c <"$work/metrics.txt") $(median <"$work/t" | awk '{printf "%.1f", $1 * 1000}')"
}
write_config() {  # mode, extra lines
  cat >"$work/config.yaml" <<YAML
mode: $1
upstream_conf_path: $work/upstream.conf
access_log_path: $work/single/access.log
probe_port: 0
proxy_port: 0
state_dir: $work/state
$2
YAML
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
printf '%-6s | %-9s | %-8s | %-10s | %-9s | %-22s | %-22s | %-8s | %-9s | %-8s | %-7s\n' \
  IPs lines ping_ms check_ms events/s "/metrics default" "/metrics compact" reload_ms summary_B events_B RSS_MB
for ips in $sizes; do
  lines=$((ips * per_ip))
  rm -rf "$work/single" "$work/rotated" "$work/perip" "$work/state"
  "$gen" "$work" "$lines" "$ips" >/dev/null
  rm -rf "$work/rotated" "$work/perip"

  # Startup to /ping with no replay, and --check (reads config and pool config, then exits).
  write_config serve ""
  t0=$(now)
  "$ipm" --config "$work/config.yaml" --check >/dev/null 2>&1
  check_ms=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.0f", (b - a) * 1000}')
  t0=$(now)
  start_ipm
  wait_log "ipmanager running" 10
  until curl -sf -o /dev/null "http://127.0.0.1:$(probe_port)/ping"; do sleep 0.005; done
  ping_ms=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.0f", (b - a) * 1000}')
  stop_ipm

  # The replay, then the scrapes.
  write_config parse ""
  t0=$(now)
  start_ipm
  wait_log "replay done: caught up" 600
  url="http://127.0.0.1:$(probe_port)"
  done_ts=$(curl -sf "$url/metrics" | awk '/^ipmanager_replay_done_timestamp_seconds / {print $2}')
  events=$(awk -v n="$lines" -v a="$t0" -v b="$done_ts" 'BEGIN {printf "%.0f", n / (b - a)}')
  read -r d_series d_bytes d_ms < <(scrape "$url")
  summary_b=$(curl -sf "$url/probe?summary=1" | wc -c)
  # The page's stream opens with its retry hint, then its snapshot of the whole pool: the size
  # of that record. The stream never ends, so curl is cut (by awk or the time limit): its exit
  # status is not the script's.
  events_b=$({ curl -sN --max-time 5 "$url/api/events" 2>/dev/null || true; } |
    awk 'BEGIN {RS=""} /(^|\n)event: snapshot\n/ {print length($0) + 2; exit}')
  write_config parse "metrics_per_ip: compact"
  t1=$(now)
  kill -HUP "$ipm_pid"
  wait_log "SIGHUP: configuration reloaded" 30
  reload_ms=$(awk -v a="$t1" -v b="$(now)" 'BEGIN {printf "%.0f", (b - a) * 1000}')
  read -r c_series c_bytes c_ms < <(scrape "$url")
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$ipm_pid/status")
  stop_ipm
  printf '%-6s | %-9s | %-8s | %-10s | %-9s | %-22s | %-22s | %-8s | %-9s | %-8s | %-7s\n' \
    "$ips" "$lines" "$ping_ms" "$check_ms" "$events" \
    "$d_series s, ${d_bytes} B, ${d_ms} ms" "$c_series s, ${c_bytes} B, ${c_ms} ms" \
    "$reload_ms" "$summary_b" "$events_b" "$rss"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "in process (large_pool_bench):"
"$harness" --benchmark_min_time=0.3 2>&1 | grep -E '^(BM_|-|Benchmark)'
