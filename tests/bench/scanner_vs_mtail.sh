#!/usr/bin/env bash
# Scanner throughput against mtail, same machine, same generated log, same run.
#
#   tests/bench/scanner_vs_mtail.sh [BUILD_DIR] [LINES] [IPS]
#
# BUILD_DIR holds tests/bench/scanner_bench (default build/release; configure with
# `cmake --preset release` and build the target scanner_bench). The log is LINES lines
# (default 1,000,000) in the default proxy_logs format over IPS egress IPs (default 300).
# Both sides count lines by (port, status); mtail runs an equivalent program in --one_shot
# mode. Figures are lines per CPU second (user + sys), i.e. per core.
set -euo pipefail

build=${1:-build/release}
lines=${2:-1000000}
ips=${3:-300}
bench="$build/tests/bench/scanner_bench"
[ -x "$bench" ] || { echo "missing $bench (build the scanner_bench target)" >&2; exit 2; }
command -v mtail >/dev/null || { echo "mtail is not installed (deploy/install-deps.sh)" >&2; exit 2; }

work=$(mktemp -d /tmp/ipm-scanner-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$bench" "$work" "$lines" "$ips" | tee "$work/scanner.txt"

# mtail's equivalent: the default format's shape, capturing status and port.
mkdir -p "$work/progs"
cat > "$work/progs/port_status.mtail" <<'MTAIL'
counter lines_by_port_status by port, status
/^\S+ - \S+ \[[^\]]+\] "[^"]*" (?P<status>\d{3}) \d+ "[^"]*" "[^"]*" \S+:(?P<port>\d+) egress=/ {
  lines_by_port_status[$port][$status]++
}
MTAIL

TIMEFORMAT='%U %S %R'
{ time mtail --one_shot --one_shot_format=prometheus --progs "$work/progs" \
    --logs "$work/plain/access.log.1" --logtostderr >"$work/mtail.out" 2>"$work/mtail.err"; } \
  2>"$work/mtail.time"
read -r m_user m_sys m_wall <"$work/mtail.time"
m_counted=$(awk '/^lines_by_port_status\{/ {s += $NF} END {printf "%d", s}' "$work/mtail.out")
m_cpu=$(awk -v u="$m_user" -v s="$m_sys" 'BEGIN {printf "%.3f", u + s}')
m_rate=$(awk -v n="$lines" -v c="$m_cpu" 'BEGIN {printf "%.0f", n / c}')
echo "mtail_lines_counted=$m_counted mtail_cpu_s=$m_cpu mtail_wall_s=$m_wall mtail_lines_per_cpu_s=$m_rate"
if [ "$m_counted" != "$lines" ]; then
  echo "warning: mtail counted $m_counted lines, not $lines" >&2
fi

plain_rate=$(sed -n 's/.*plain_lines_per_cpu_s=\([0-9]*\).*/\1/p' "$work/scanner.txt")
gz_rate=$(sed -n 's/.*gz_lines_per_cpu_s=\([0-9]*\).*/\1/p' "$work/scanner.txt")
awk -v p="$plain_rate" -v g="$gz_rate" -v m="$m_rate" 'BEGIN {
  printf "ratio_plain_vs_mtail=%.1f ratio_gz_vs_mtail=%.1f\n", p / m, g / m }'
