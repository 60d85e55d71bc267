#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time (the test fuzz.NAME of the fuzz tree).
#   run_fuzzer.sh BINARY SEED_CORPUS WORKDIR SECONDS
# New inputs go to WORKDIR/corpus (the seeds in the source tree are only read); a crash
# leaves its input in WORKDIR and fails the test.
set -euo pipefail
binary=$1 seeds=$2 work=$3 seconds=$4
name=$(basename "$binary")
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*
if "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "$seeds"; then
  echo "fuzz $name: no crash in ${seconds}s ($(find "$work/corpus" -type f | wc -l) new inputs)"
  exit 0
fi
for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
  [ -e "$f" ] || continue
  echo "fuzz $name: failing input $f ($(stat -c %s "$f") bytes): copy it into" \
    "tests/fuzz/corpus/$name/ so that ${name}_replay keeps it fixed"
done
exit 1
