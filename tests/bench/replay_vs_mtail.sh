#!/usr/bin/env bash
# Parse mode end to end, on the shipped binary: ipmanager (default config, `mode: parse`)
# replays generated access logs, from the moment it is started to the last line applied to
# the engine, against `mtail --one_shot` reading the same files, in the same command.
#
#   flock /work/wt/bench.lock tests/bench/replay_vs_mtail.sh [BUILD_DIR]
#
# BUILD_DIR holds app/ipmanager and tests/bench/replay_bench_logs (default build/release:
# `cmake --preset release && cmake --build --preset release --target ipmanager replay_bench_logs`).
# Environment: ROUNDS (5), LINES (1000000), IPS (300), CPU (1: the core both programs are
# pinned to with taskset; this script runs on the others), CASES ("single rotated perip"):
#   single   one live access.log of LINES lines, nothing rotated
#   rotated  the same lines as access.log.2.gz + access.log.1 + the live access.log
#   perip    the same lines in one live log per egress IP (access_log_path with %s)
#
# ipmanager's end is its own: the value of ipmanager_replay_done_timestamp_seconds (set when
# the replay has caught up with every log, line counters flushed) minus the time this script
# started it, so process start, config and pool loading are included; its CPU time is the
# one it logs at that moment. mtail's figures are `time` around the whole process. Rounds
# interleave the two (each round starts with the other one). A run whose wall time exceeds
# its CPU time by more than DISTURBED (15%) waited for its core: the machine was busy, so it
# is run again (up to 3 times) and marked when it stays disturbed. Every round prints the
# load average; the summary gives medians.
set -euo pipefail

build=${1:-build/release}
rounds=${ROUNDS:-5}
lines=${LINES:-1000000}
ips=${IPS:-300}
cpu=${CPU:-1}
cases=${CASES:-single rotated perip}
disturbed=${DISTURBED:-1.15}
ipm="$build/app/ipmanager"
gen="$build/tests/bench/replay_bench_logs"
for tool in "$ipm" "$gen"; do
  [ -x "$tool" ] || { echo "missing $tool (build the ipmanager and replay_bench_logs targets)" >&2; exit 2; }
done
for tool in mtail curl taskset; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (deploy/install-deps.sh)" >&2; exit 2; }
done

# This script (polling, curl) stays off the measured core.
others=$(awk -v c="$cpu" 'BEGIN { n = 0 } /^processor/ { if ($3 != c) { printf "%s%s", (n++ ? "," : ""), $3 } }' /proc/cpuinfo)
[ -n "$others" ] && taskset -pc "$others" $$ >/dev/null

work=$(mktemp -d /tmp/ipm-replay-bench.XXXXXX)
ipm_pid=
cleanup() {
  if [ -n "$ipm_pid" ] && kill -0 "$ipm_pid" 2>/dev/null; then
    kill -TERM "$ipm_pid" 2>/dev/null || true
    wait "$ipm_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$gen" "$work" "$lines" "$ips" >/dev/null
mkdir -p "$work/progs"
# The program of scanner_vs_mtail.sh: the default format's shape, capturing status and port.
cat >"$work/progs/port_status.mtail" <<'MTAIL'
counter lines_by_port_status by port, status
/^\S+ - \S+ \[[^\]]+\] "[^"]*" (?P<status>\d{3}) \d+ "[^"]*" "[^"]*" \S+:(?P<port>\d+) egress=/ {
  lines_by_port_status[$port][$status]++
}
MTAIL

log_path() {
  case $1 in
    single) echo "$work/single/access.log" ;;
    rotated) echo "$work/rotated/access.log" ;;
    perip) echo "$work/perip/access.%s.log" ;;
  esac
}
mtail_logs() {
  case $1 in
    single) echo "$work/single/access.log" ;;
    rotated) echo "$work/mtail/access.log.2,$work/rotated/access.log.1,$work/rotated/access.log" ;;
    perip) echo "$work/perip/*.log" ;;
  esac
}

free_port() {
  local p
  for _ in $(seq 200); do
    p=$((20000 + RANDOM % 20000))
    if [ -z "$(ss -Hltn "sport = :$p")" ]; then
      echo "$p"
      return
    fi
  done
  echo "no free port" >&2
  exit 1
}

over() { awk -v a="$1" -v b="$2" -v f="$disturbed" 'BEGIN { exit !(a > b * f) }'; }

# One ipmanager run: prints "wall_s cpu_s rss_kb counted".
run_ipmanager() {
  local case=$1 probe t0 metrics done_ts counted cpu_s rss
  cat >"$work/$case.yaml" <<YAML
mode: parse
upstream_conf_path: $work/upstream.conf
access_log_path: $(log_path "$case")
probe_port: 0
proxy_port: 0
YAML
  : >"$work/ipm.err"
  t0=$EPOCHREALTIME
  taskset -c "$cpu" "$ipm" --config "$work/$case.yaml" 2>"$work/ipm.err" &
  ipm_pid=$!
  # The end is the process's own timestamp, so polling late costs nothing; the line is the
  # last one logged, so only the log's tail is read (decisions make the log megabytes long).
  for _ in $(seq 6000); do  # up to 120 s
    tail -c 4096 "$work/ipm.err" | grep -q "replay done: caught up" && break
    kill -0 "$ipm_pid" 2>/dev/null || { tail -20 "$work/ipm.err" >&2; exit 1; }
    sleep 0.02
  done
  grep -q "replay done: caught up" "$work/ipm.err" || { echo "no replay end" >&2; exit 1; }
  probe=$(sed -n 's|.*ipmanager running: .*, probe http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/ipm.err")
  metrics=$(curl -sf "http://127.0.0.1:$probe/metrics")
  rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$ipm_pid/status")
  kill -TERM "$ipm_pid"
  wait "$ipm_pid" || true
  ipm_pid=
  done_ts=$(awk '/^ipmanager_replay_done_timestamp_seconds / { print $2 }' <<<"$metrics")
  counted=$(awk '/^ipmanager_scanner_lines_total\{/ { s += $2 } END { printf "%d", s }' <<<"$metrics")
  cpu_s=$(sed -n 's/.*; \([0-9.]*\) s of CPU since the process started.*/\1/p' "$work/ipm.err")
  awk -v t0="$t0" -v t1="$done_ts" -v c="$cpu_s" -v r="$rss" -v n="$counted" \
    'BEGIN { printf "%.4f %.4f %d %d\n", t1 - t0, c, r, n }'
}

# One mtail run: prints "wall_s cpu_s rss_kb counted". mtail reads no gzip (it matches the
# compressed bytes; a pipe never ends its --one_shot), so for the rotated case it gets
# access.log.2 decompressed by `gzip -dc` on the same core, timed as part of its run.
run_mtail() {
  local case=$1 user sys wall rss counted z_user=0 z_sys=0 z_wall=0
  TIMEFORMAT='%U %S %R'
  if [ "$case" = rotated ]; then
    mkdir -p "$work/mtail"
    { time taskset -c "$cpu" gzip -dc "$work/rotated/access.log.2.gz" >"$work/mtail/access.log.2"; } \
      2>"$work/gzip.time"
    read -r z_user z_sys z_wall <"$work/gzip.time"
  fi
  { time taskset -c "$cpu" /usr/bin/time -f %M -o "$work/mtail.rss" \
      mtail --one_shot --one_shot_format=prometheus --progs "$work/progs" \
      --address 127.0.0.1 --port "$(free_port)" \
      --logs "$(mtail_logs "$case")" --logtostderr >"$work/mtail.out" 2>"$work/mtail.err"; } \
    2>"$work/mtail.time"
  read -r user sys wall <"$work/mtail.time"
  rss=$(cat "$work/mtail.rss")
  counted=$(awk '/^lines_by_port_status\{/ { s += $NF } END { printf "%d", s }' "$work/mtail.out")
  awk -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v n="$counted" \
    -v zu="$z_user" -v zs="$z_sys" -v zw="$z_wall" \
    'BEGIN { printf "%.4f %.4f %d %d\n", w + zw, u + s + zu + zs, r, n }'
}

# Runs $1 (run_ipmanager or run_mtail) for case $2 until it is undisturbed (3 tries).
measure() {
  local run=$1 case=$2 out wall cpu_s mark=""
  for try in 1 2 3; do
    out=$($run "$case")
    read -r wall cpu_s _ _ <<<"$out"
    if ! over "$wall" "$cpu_s"; then
      mark=""
      break
    fi
    mark=" disturbed"
    echo "  (${run#run_} $case: wall $wall s > CPU $cpu_s s x $disturbed: run again, try $try)" >&2
  done
  echo "$out$mark"
}

echo "lines=$lines ips=$ips rounds=$rounds cpu=$cpu cases=\"$cases\" $(nproc) cores"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
declare -A results
for round in $(seq "$rounds"); do
  echo "round $round: load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for case in $cases; do
    if [ $((round % 2)) -eq 1 ]; then order="run_ipmanager run_mtail"; else order="run_mtail run_ipmanager"; fi
    for run in $order; do
      r=$(measure "$run" "$case")
      read -r wall cpu_s rss counted mark <<<"$r"
      name=${run#run_}
      [ "$counted" = "$lines" ] || echo "  warning: $name counted $counted lines, not $lines" >&2
      results[$name.$case]+="$wall $cpu_s $rss;"
      awk -v n="$lines" -v w="$wall" -v c="$cpu_s" -v r="$rss" -v name="$name" -v k="$case" -v m="$mark" \
        'BEGIN { printf "  %-9s %-7s %6.3f s wall %6.3f s CPU  %5.2f M lines/s (%5.2f per CPU-s)  RSS %6.1f MB%s\n",
                 name, k, w, c, n / w / 1e6, n / c / 1e6, r / 1024, m }'
    done
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_median() { tr ';' '\n' <<<"$1" | awk -v c="$2" 'NF { print $c }' | median; }

echo "medians over $rounds rounds (load average now $(cut -d' ' -f1-3 /proc/loadavg)):"
for case in $cases; do
  iw=$(column_median "${results[ipmanager.$case]}" 1)
  ic=$(column_median "${results[ipmanager.$case]}" 2)
  ir=$(column_median "${results[ipmanager.$case]}" 3)
  mw=$(column_median "${results[mtail.$case]}" 1)
  mc=$(column_median "${results[mtail.$case]}" 2)
  mr=$(column_median "${results[mtail.$case]}" 3)
  awk -v n="$lines" -v iw="$iw" -v ic="$ic" -v ir="$ir" -v mw="$mw" -v mc="$mc" -v mr="$mr" -v k="$case" \
    'BEGIN { printf "%s: ipmanager_lines_per_s=%.0f ipmanager_lines_per_cpu_s=%.0f ipmanager_rss_mb=%.1f mtail_lines_per_s=%.0f mtail_lines_per_cpu_s=%.0f mtail_rss_mb=%.1f ratio_vs_mtail=%.1f ratio_per_cpu_s=%.1f\n",
             k, n / iw, n / ic, ir / 1024, n / mw, n / mc, mr / 1024, mw / iw, mc / ic }'
done
