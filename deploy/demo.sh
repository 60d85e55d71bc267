#!/usr/bin/env bash
# The ipmanager demo, all on loopback: installs what is missing, builds ipmanager, generates
# a pool of 10 egress IPs (127.0.1.1-10) in a real nginx with a target that "blocks" some of
# them, runs ipmanager on its embedded demo config, drives a trickle of traffic through the
# proxy, blocks and unblocks IPs on a schedule and shows the pool as it changes.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

# IPM_DEMO_BINARY=PATH runs that ipmanager instead of building one (the demo's own test).
binary=${IPM_DEMO_BINARY:-}
if [ -z "$binary" ]; then
  bash deploy/install-deps.sh --demo
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target ipmanager
  binary=$repo/build/release/app/ipmanager
fi

demo=/tmp/ipmanager-demo            # the paths of the embedded demo config (app/demo_config.hpp)
count=10 base_port=19001 target_port=18080 probe=127.0.0.1:9095 proxy=127.0.0.1:9096
rm -rf "$demo" && mkdir -p "$demo/conf" "$demo/logs" "$demo/tmp"
chmod 755 "$demo" "$demo/logs"      # nginx workers reopen logs as their own user
user=www-data; id "$user" >/dev/null 2>&1 || user=nobody

bash deploy/gen-pool.sh -n "$count" -p "$base_port" -l 127.0.0.1 \
  --log "$demo/logs/access.log" --target "127.0.0.1:$target_port" -o "$demo/conf/pool.conf"
: > "$demo/conf/blocked.conf"
cat > "$demo/conf/nginx.conf" <<NGINX
user $user;
worker_processes 1;
pid $demo/nginx.pid;
error_log $demo/logs/error.log;
events { worker_connections 1024; }
http {
  client_body_temp_path $demo/tmp; proxy_temp_path $demo/tmp; fastcgi_temp_path $demo/tmp;
  uwsgi_temp_path $demo/tmp; scgi_temp_path $demo/tmp;
  access_log off;
  include $demo/conf/pool.conf;
  # The target: answers 403 to the egress addresses listed in blocked.conf.
  geo \$remote_addr \$blocked { default 0; include $demo/conf/blocked.conf; }
  server {
    listen 127.0.0.1:$target_port;
    location / {
      if (\$blocked) { return 403 "blocked \$remote_addr\n"; }
      return 200 "ok \$remote_addr\n";
    }
  }
}
NGINX

pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  nginx -p "$demo" -c "$demo/conf/nginx.conf" -s quit 2>/dev/null || true
  wait 2>/dev/null || true
  printf '\ndemo stopped; logs are in %s\n' "$demo/logs"
}
trap 'stop; exit 0' INT TERM  # Ctrl-C is how the demo ends
trap stop EXIT

nginx -p "$demo" -c "$demo/conf/nginx.conf"
"$binary" --demo 2> "$demo/logs/ipmanager.log" & pids+=($!)
for _ in $(seq 50); do
  kill -0 "${pids[0]}" 2>/dev/null || break
  curl -sf -m 1 "http://$probe/ping" >/dev/null && break
  sleep 0.1
done

# A trickle of client traffic through the proxy: about 20 requests a second.
( while sleep 0.05; do curl -s -o /dev/null -m 2 "http://$proxy/" || true; done ) & pids+=($!)

# The targets' mood: every 20 s three IPs get blocked, 10 s later they are forgiven.
( while true; do
    sleep 10
    for i in $(shuf -i 1-"$count" -n 3); do echo "127.0.1.$i 1;"; done > "$demo/conf/blocked.conf"
    nginx -p "$demo" -c "$demo/conf/nginx.conf" -s reload
    sleep 10
    : > "$demo/conf/blocked.conf"
    nginx -p "$demo" -c "$demo/conf/nginx.conf" -s reload
  done ) & pids+=($!)

# The live table, from the probe's JSON API.
draw() {
  table=$(curl -s -m 2 "http://$probe/probe?limit=20" | jq -r '
    .IPHistory | to_entries[] | .value as $v |
    [ .key, $v.Port, $v.State, ($v.Failure|tostring),
      ([$v.History[] | .StatusCode] | group_by(.) | map("\(.[0])x\(length)") | join(" ")) ]
    | @tsv' 2>/dev/null || true)
  blocked=$(sed 's/ 1;$//' "$demo/conf/blocked.conf" | xargs)
  clear 2>/dev/null || echo  # no terminal (TERM unset): one table after another
  echo "ipmanager demo - probe http://$probe   proxy $proxy   (Ctrl-C stops everything)"
  echo "try: curl -s $probe/probe?ip=127.0.1.1 | jq .   curl -s $probe/metrics | grep ^ipmanager_pool"
  echo "target is blocking: ${blocked:-nobody}"
  echo
  printf '%-11s %-6s %-10s %-8s %s\n' IP PORT STATE FAILURES "LAST 20 STATUSES"
  printf '%s\n' "$table" | while IFS=$'\t' read -r ip port state failures mix; do
    printf '%-11s %-6s %-10s %-8s %s\n' "$ip" "$port" "$state" "$failures" "$mix"
  done
  echo
  echo "last decisions:"
  { grep ' decision ' "$demo/logs/ipmanager.log" || true; } | tail -n 5 | cut -c 1-150
}
( while true; do draw; sleep 1; done ) & pids+=($!)

# Everything runs in the background and this shell only waits: the wait builtin returns at
# once on Ctrl-C, where a foreground command would let bash drop the SIGINT (when that command
# had just exited by itself, bash takes the signal as handled by it). An ipmanager that ends
# on its own (refusing to start, say) ends the demo too.
wait "${pids[0]}" || true
echo "ipmanager ended by itself: see $demo/logs/ipmanager.log" >&2
exit 1
