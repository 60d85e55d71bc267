#!/usr/bin/env bash
# gen-pool.sh: writes an nginx egress pool config, one `server` block per egress IP, in the
# shape the Go ipmanager's deployments use (and that ipmanager's upstream parser reads).
# Pure bash: a fresh Debian host has no python.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: gen-pool.sh --count N [options]

Writes an nginx config fragment (to be included inside `http { }`) with one server block
per egress IP: a request sent to PORT leaves the host from IP (`proxy_bind IP`).

  -n, --count N            number of egress IPs (required, 1..65000)
  -p, --base-port PORT     port of the first egress IP; IP k listens on PORT+k-1 (default 19001)
  -e, --egress-base IP     first egress IPv4 address; the next ones count up, carrying into
                           the higher octets (default 127.0.1.1 -> 127.0.1.1 .. 127.0.1.N)
  -l, --listen-addr ADDR   listen on ADDR:PORT instead of every address (e.g. 127.0.0.1)
  -o, --output FILE        write here instead of stdout
      --log PATH           access log; a `%s` in PATH is replaced by each egress IP, which
                           gives one log per IP (ipmanager's access_log_path convention)
                           (default /var/log/nginx/host.access.log)
      --target HOST:PORT   send every request to this fixed upstream (no resolver needed);
                           default: the upstream comes from the X-Egress-Host request header
      --resolver ADDR      DNS resolver for X-Egress-Host names (default: none; IP literals
                           in the header need no resolver)
      --closed LIST        comma-separated egress indexes (1-based) whose server block is left
                           out: their port stays closed (tests of a dead egress port)
      --no-log-format      do not declare `log_format proxy_logs` (the including config does)
  -h, --help               this text

The default log format is ipmanager's (deploy/nginx/log_format.conf when present next to
this script, else the same declaration inlined).

Example (real pool of 200 IPs from 10.0.3.1, header-routed, one log per IP):
  gen-pool.sh -n 200 -e 10.0.3.1 -p 20001 --log '/var/log/nginx/egress.%s.log' \
              --resolver 127.0.0.53 -o /etc/nginx/conf.d/egress-pool.conf
EOF
}

die() {
  echo "gen-pool.sh: $*" >&2
  exit 2
}

count=""
base_port=19001
egress_base=127.0.1.1
listen_addr=""
output=""
log_path=/var/log/nginx/host.access.log
target=""
resolver=""
closed=""
with_log_format=1

while [ $# -gt 0 ]; do
  case "$1" in
    -n | --count) count="${2:?}"; shift 2 ;;
    -p | --base-port) base_port="${2:?}"; shift 2 ;;
    -e | --egress-base) egress_base="${2:?}"; shift 2 ;;
    -l | --listen-addr) listen_addr="${2:?}"; shift 2 ;;
    -o | --output) output="${2:?}"; shift 2 ;;
    --log) log_path="${2:?}"; shift 2 ;;
    --target) target="${2:?}"; shift 2 ;;
    --resolver) resolver="${2:?}"; shift 2 ;;
    --closed) closed="${2:?}"; shift 2 ;;
    --no-log-format) with_log_format=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

[ -n "$count" ] || { usage >&2; die "--count is required"; }
is_uint "$count" && [ "$count" -ge 1 ] && [ "$count" -le 65000 ] || die "--count must be 1..65000, got '$count'"
is_uint "$base_port" && [ "$base_port" -ge 1 ] || die "--base-port must be a port number, got '$base_port'"
[ $((base_port + count - 1)) -le 65535 ] || die "ports $base_port..$((base_port + count - 1)) exceed 65535"
[[ "$log_path" != *[[:space:]\;\"\']* ]] || die "--log must not contain spaces, quotes or ';'"
[ -z "$target" ] || [[ "$target" =~ ^[A-Za-z0-9._-]+:[0-9]+$ ]] || die "--target must be HOST:PORT, got '$target'"

# IPv4 <-> integer, so that 127.0.1.254 + 3 carries into the third octet.
ip_to_int() {
  local IFS=.
  local -a o
  read -r -a o <<<"$1"
  [ "${#o[@]}" -eq 4 ] || return 1
  local x
  for x in "${o[@]}"; do is_uint "$x" && [ "$x" -le 255 ] || return 1; done
  echo $(((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]))
}
int_to_ip() {
  echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"
}

base_int=$(ip_to_int "$egress_base") || die "--egress-base must be an IPv4 address, got '$egress_base'"
[ $((base_int + count - 1)) -le 4294967295 ] || die "egress range overflows 255.255.255.255"

declare -A is_closed=()
if [ -n "$closed" ]; then
  IFS=, read -r -a closed_list <<<"$closed"
  for k in "${closed_list[@]}"; do
    is_uint "$k" && [ "$k" -ge 1 ] && [ "$k" -le "$count" ] || die "--closed index '$k' is not in 1..$count"
    is_closed[$k]=1
  done
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

emit_log_format() {
  if [ -f "$script_dir/nginx/log_format.conf" ]; then
    cat "$script_dir/nginx/log_format.conf"
  else
    cat <<'EOF'
log_format proxy_logs '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                      '"$http_referer" "$http_user_agent" $server_addr:$server_port '
                      'egress=$server_name upstream_status=$upstream_status rt=$request_time '
                      'Exgress_key: $http_x_egress_key -> Request Host: $http_x_egress_host <-';
EOF
  fi
}

emit() {
  echo "# Generated by deploy/gen-pool.sh: $count egress IPs from $egress_base, ports from $base_port."
  echo "# Regenerate instead of editing by hand."
  if [ "$with_log_format" -eq 1 ]; then
    emit_log_format
  fi
  [ -z "$resolver" ] || echo "resolver $resolver;"
  echo
  local k ip port listen upstream
  for ((k = 1; k <= count; k++)); do
    [ -z "${is_closed[$k]:-}" ] || continue
    ip=$(int_to_ip $((base_int + k - 1)))
    port=$((base_port + k - 1))
    listen="$port"
    [ -z "$listen_addr" ] || listen="$listen_addr:$port"
    if [ -n "$target" ]; then
      upstream="$target"
    else
      upstream='$http_x_egress_host'
    fi
    cat <<EOF
server {
    listen $listen;
    server_name $ip;
    access_log ${log_path//%s/$ip} proxy_logs;
    location = /test {
        return 200 "$port->$ip";
    }
    location / {
        proxy_bind $ip;
        proxy_pass http://$upstream;
    }
}
EOF
  done
}

if [ -n "$output" ]; then
  tmp="$output.tmp.$$"
  emit >"$tmp"
  mv -f "$tmp" "$output"
else
  emit
fi
