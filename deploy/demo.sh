#!/usr/bin/env bash
# Installs what is missing, builds ipmanager (release) and runs it on the embedded demo
# config. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ipmanager

echo "ipmanager demo: probe on http://127.0.0.1:9095 (try: curl -s 127.0.0.1:9095/config)"
exec ./build/release/app/ipmanager --demo
