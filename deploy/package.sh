#!/usr/bin/env bash
# Builds the Debian package: build/package/ipmanager_<version>_amd64.deb (the binary in
# /usr/bin, the systemd unit, /etc/ipmanager/config.yaml, ipmanager(8), gen-pool.sh and the
# examples in /usr/share/doc/ipmanager). Install it with: apt-get install ./build/package/ipmanager_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
command -v dpkg-shlibdeps >/dev/null || { echo "package: dpkg-dev is missing" >&2; exit 1; }
cmake --preset package >/dev/null
cmake --build --preset package
(cd build/package && cpack -G DEB >/dev/null)
ls -1 "$PWD"/build/package/ipmanager_*_amd64.deb
