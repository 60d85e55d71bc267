#!/usr/bin/env bash
# Installs what is missing, builds and runs every test (unit and end-to-end).
#   bash deploy/test.sh          debug build, every test
#   bash deploy/test.sh --asan   ASan+UBSan build, unit tests (what CI adds)
set -euo pipefail
cd "$(dirname "$0")/.."

preset=debug
case "${1:-}" in
  "") ;;
  --asan) preset=asan-ubsan ;;
  *) echo "usage: bash deploy/test.sh [--asan]" >&2; exit 2 ;;
esac

bash deploy/install-deps.sh --test
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
# Tests pick free loopback ports themselves, so two may run at once.
ctest --preset "$preset" -j 2
