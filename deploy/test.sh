#!/usr/bin/env bash
# Installs what is missing, builds and runs every test (unit and end-to-end).
#   bash deploy/test.sh          what CI runs: every test, unit and end-to-end, against an
#                                ASan+UBSan build (the ipmanager binary the e2e tests start
#                                included), then each libFuzzer target for IPM_FUZZ_SECONDS
#                                (default 20) in a clang build of the fuzz targets alone;
#                                between the two, the threaded parts (proxy, pool) under
#                                ThreadSanitizer, the proxy on its public-API path
#   bash deploy/test.sh --tsan   the ThreadSanitizer stage alone
#   bash deploy/test.sh --quick  every test on the plain debug build (faster to build; for
#                                developers between changes)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  "" | --asan) ;;
  --quick) mode=quick ;;
  --tsan) mode=tsan ;;
  *) echo "usage: bash deploy/test.sh [--quick|--tsan]" >&2; exit 2 ;;
esac

bash deploy/install-deps.sh --test

# Builds and runs one preset's tests.
run_preset() {
  local preset=$1
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  # Tests take their ports from the kernel (port 0) or a free range, so two may run at once.
  ctest --preset "$preset" -j 2
}

if [ "$mode" = quick ]; then
  run_preset debug
  exit 0
fi
# ThreadSanitizer: only proxy_test, pool_test and decision_log_test are built (the preset's
# targets), with IPM_ASIO_INTERNALS OFF, so the proxy's public-API path is tested as well as
# the Boost 1.81 internals the asan-ubsan build runs.
if [ "$mode" = tsan ]; then
  run_preset tsan
  exit 0
fi
run_preset asan-ubsan
run_preset tsan
# Fuzzing: each target for a bounded time over its corpus in tests/fuzz/corpus/ (a crash
# fails the run and says where its input is).
cmake --preset fuzz -DIPM_FUZZ_SECONDS="${IPM_FUZZ_SECONDS:-20}" >/dev/null
cmake --build --preset fuzz -j "$(nproc)"
ctest --preset fuzz -j 2
