#!/usr/bin/env bash
# The Debian package in a fresh Debian 12 root (debootstrap), as an operator uses it:
# builds build/package/ipmanager_*.deb, installs it with apt-get into the root (a chroot),
# follows the README's deploy steps there (nginx-light, gen-pool.sh, the example config,
# `nginx -t`, `ipmanager --check`), verifies the unit, then removes and purges the package
# and checks that nothing of it is left. Prints how long each part took.
#
# The pristine root is cached as build/debootstrap/bookworm-minbase.tar (made once by
# debootstrap, unpacked fresh on every run). Nothing in the chroot starts a service (a
# policy-rc.d says no) or mounts anything; the root is removed at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
t0=$(date +%s)
step() { echo "test-package: $* ($(( $(date +%s) - t0 ))s)"; }

bash deploy/install-deps.sh --test
command -v debootstrap >/dev/null || { echo "test-package: debootstrap is missing" >&2; exit 1; }
# IPM_DEB=path tests a package built before instead of building one.
deb=${IPM_DEB:-$(bash deploy/package.sh | tail -n 1)}
step "package $(basename "$deb") ($(du -k "$deb" | cut -f1) KB)"

mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
cache=$repo/build/debootstrap/bookworm-minbase.tar
root=$(mktemp -d /tmp/ipm-deb-root.XXXXXX)
cleanup() { rm -rf --one-file-system "$root"; }
trap cleanup EXIT
if [ ! -f "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; exit 1; }
  rm -f "$root.debootstrap.log"
  tar -C "$root" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
  step "debootstrap made a fresh root and cached it"
else
  tar -C "$root" -xf "$cache"
  step "unpacked the cached fresh root"
fi

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
in_root apt-get -qq update
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/tmp/$(basename "$deb")" nginx-light systemd >/dev/null
step "apt-get install ./$(basename "$deb") nginx-light systemd"

in_root ipmanager --version
for f in /usr/bin/ipmanager /lib/systemd/system/ipmanager.service /etc/ipmanager/config.yaml \
  /usr/share/man/man8/ipmanager.8.gz /usr/share/ipmanager/gen-pool.sh \
  /usr/share/doc/ipmanager/README.md /usr/share/doc/ipmanager/ipmanager-nginx; do
  [ -e "$root$f" ] || { echo "test-package: $f is not installed" >&2; exit 1; }
done
zcat "$root/usr/share/man/man8/ipmanager.8.gz" | grep -q '^\.B proxy_allow_clients$' ||
  { echo "test-package: the man page lacks the config reference" >&2; exit 1; }
grep -q '^ExecStart=/usr/bin/ipmanager ' "$root/lib/systemd/system/ipmanager.service"
if systemd-analyze --help 2>/dev/null | grep -q -- '--root'; then
  systemd-analyze verify --root="$root" ipmanager.service
  step "systemd-analyze verify: the unit is valid"
fi

# The README's deploy steps, literally (pool, log format, config, check).
in_root bash /usr/share/ipmanager/gen-pool.sh -n 200 -e 10.0.3.1 -p 20001 \
  -o /etc/nginx/conf.d/egress-pool.conf
in_root nginx -t -q
in_root ipmanager --config /etc/ipmanager/config.yaml --check
step "README deploy steps: nginx -t and ipmanager --check pass"

in_root apt-get remove -y -qq ipmanager >/dev/null
for f in /usr/bin/ipmanager /lib/systemd/system/ipmanager.service /usr/share/man/man8/ipmanager.8.gz; do
  [ ! -e "$root$f" ] || { echo "test-package: $f is left after remove" >&2; exit 1; }
done
[ -e "$root/etc/ipmanager/config.yaml" ] || { echo "test-package: remove took the conffile" >&2; exit 1; }
in_root apt-get purge -y -qq ipmanager >/dev/null
[ ! -e "$root/etc/ipmanager" ] || { echo "test-package: purge left /etc/ipmanager" >&2; exit 1; }
in_root dpkg -s ipmanager >/dev/null 2>&1 && { echo "test-package: still installed" >&2; exit 1; }
step "removed and purged cleanly; passed"
