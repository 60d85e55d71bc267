#!/usr/bin/env bash
# Gateway mode end to end, inside three network namespaces this script makes and removes (a
# trap, also on failure): a client whose default route is the gateway; the gateway, running
# `ipmanager dispatch -gateway -auto-config` with two egress addresses on its "internet" side;
# and an "internet" with a target server that answers with the connection's source address,
# Host and path, and dnsmasq answering a test name; then IPv6 TCP through the YAML form.
# Nothing outside the namespaces is touched.
#   bash tests/gateway/gateway_e2e.sh PATH/TO/ipmanager
# Exit 77 (skipped) only where the kernel cannot make the namespaces or nftables nat.
set -euo pipefail
ipmanager=$(realpath "$1")
tag=ipm$$
C=${tag}c G=${tag}g I=${tag}i
work=$(mktemp -d)
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in "$C" "$G" "$I"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; echo "--- ipmanager log:" >&2; cat "$work"/gw*.log >&2 || true; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# Polls `cmd` until it succeeds, 10 s at most: waits for what it checks, never a fixed time.
until_ok() { local i; for i in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }

# --- the namespaces
for ns in "$C" "$G" "$I"; do ip netns add "$ns" 2>/dev/null || skip "cannot make network namespaces"; done
for ns in "$C" "$G" "$I"; do inns "$ns" ip link set lo up; done
ip link add c0 netns "$C" type veth peer name g0 netns "$G"
ip link add g1 netns "$G" type veth peer name i0 netns "$I"
inns "$C" ip addr add 10.77.1.2/24 dev c0
inns "$G" ip addr add 10.77.1.1/24 dev g0
inns "$G" ip addr add 10.77.2.1/24 dev g1        # egress one
inns "$G" ip addr add 10.77.2.2/24 dev g1        # egress two
inns "$G" ip addr add 10.77.2.3/24 dev g1        # the host's own: what leaves by its route
inns "$I" ip addr add 10.77.2.254/24 dev i0
inns "$I" ip addr add 203.0.113.10/32 dev lo     # the target
inns "$I" ip addr add 203.0.113.53/32 dev lo     # the DNS server
# IPv6 beside it (nodad: usable at once).
inns "$C" ip addr add fd77:1::2/64 dev c0 nodad
inns "$G" ip addr add fd77:1::1/64 dev g0 nodad
inns "$G" ip addr add fd77:2::1/64 dev g1 nodad
inns "$G" ip addr add fd77:2::2/64 dev g1 nodad
inns "$I" ip addr add fd77:2::fe/64 dev i0 nodad
inns "$I" ip addr add 2001:db8:77::10/128 dev lo nodad
for link in "$C c0" "$G g0" "$G g1" "$I i0"; do set -- $link; inns "$1" ip link set "$2" up; done
inns "$C" ip route add default via 10.77.1.1
inns "$G" ip route add default via 10.77.2.254 src 10.77.2.3
inns "$C" ip -6 route add default via fd77:1::1
inns "$G" ip -6 route add default via fd77:2::fe
inns "$G" nft add table ip probe 2>/dev/null && inns "$G" nft add chain ip probe p \
  '{ type nat hook prerouting priority dstnat; }' 2>/dev/null ||
  skip "the kernel has no nftables nat (nf_tables, nf_nat)"
inns "$G" nft delete table ip probe

# --- the internet: a target that says who came, and dnsmasq
cat >"$work/target.py" <<'PY'
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{self.client_address[0]} {self.headers['Host']} {self.path}\n".encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
import socket, sys, threading
class V6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
threading.Thread(target=V6(("2001:db8:77::10", 8080), H).serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer(("203.0.113.10", 8080), H).serve_forever()
PY
# Started with ip netns exec itself (no function, no subshell): $! is the process, whose PID
# the trap stops.
ip netns exec "$I" python3 "$work/target.py" & pids+=($!)
ip netns exec "$I" dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address=203.0.113.53 --address=/gw-test.example/198.51.100.7 \
  --log-queries --log-facility="$work/dnsmasq.log" --pid-file="$work/dnsmasq.pid" \
  --user=root & pids+=($!)
until_ok inns "$I" curl -sf http://203.0.113.10:8080/ || fail "the target did not start"
until_ok inns "$I" dig +time=1 +tries=1 @203.0.113.53 gw-test.example || fail "dnsmasq did not start"

# --- the gateway
start_gateway() {  # $1: log name
  IPM_DNS_UPSTREAMS='[203.0.113.53]' IPM_STATE_DIR="$work/state" ip netns exec "$G" \
    "$ipmanager" dispatch -gateway \
    -gateway-ip 10.77.1.1 -subnet 10.77.1.0/24 -transparent-port 8888 -dns-port 5353 \
    -auto-config -web 9095 10.77.2.1@3 10.77.2.2@1 >"$work/$1.log" 2>&1 &
  gw=$!
  pids+=("$gw")
  until_ok grep -q "ipmanager running" "$work/$1.log" || fail "the gateway did not start ($1)"
}
tables() { inns "$G" nft list tables | tr '\n' ' ' | sed 's/ $//'; }
stop_gateway() {  # SIGTERM, then the table must be gone
  kill -TERM "$gw"
  wait "$gw" || fail "the gateway exited non-zero after SIGTERM"
  [ -z "$(tables)" ] || fail "a table outlived the gateway: $(tables)"
}

start_gateway gw1
[ "$(tables)" = "table inet ipmanager" ] || fail "expected exactly its own table, got: $(tables)"

# Plain HTTP from the client: each reaches the target with Host and path as sent, from one of
# the two egress addresses, in the 3:1 ratio.
for i in $(seq 40); do
  inns "$C" curl -sf --max-time 5 -H "Host: site$i.example" "http://203.0.113.10:8080/p$i" \
    >>"$work/answers" || fail "request $i was not served"
done
for i in 1 17 40; do
  grep -q " site$i.example /p$i\$" "$work/answers" || fail "Host or path of request $i changed"
done
one=$(grep -c '^10.77.2.1 ' "$work/answers" || true)
two=$(grep -c '^10.77.2.2 ' "$work/answers" || true)
echo "egress 10.77.2.1: $one, 10.77.2.2: $two (weights 3:1)"
[ $((one + two)) -eq 40 ] || fail "answers from elsewhere: $(cut -d' ' -f1 "$work/answers" | sort | uniq -c)"
[ "$one" -ge 27 ] && [ "$one" -le 33 ] || fail "ratio: $one of 40 from the weight-3 egress"
inns "$G" curl -sf http://127.0.0.1:9095/metrics >"$work/metrics"
grep -q 'ipmanager_proxy_egress_dials_total{front_end="redirect",kind="source",result="ok"} 40' \
  "$work/metrics" || fail "the redirected dials are not counted"

# The gateway's own transparent port, asked directly: a loop, refused and counted.
inns "$C" curl -s --max-time 5 http://10.77.1.1:8888/ >/dev/null && fail "a loop was served"
# Counted before the refusal's FIN, but curl may give up first (--max-time) on a loaded host.
loop_counted() {
  inns "$G" curl -sf http://127.0.0.1:9095/metrics |
    grep -q 'ipmanager_proxy_refusals_total{front_end="redirect",reason="loop"} 1'
}
until_ok loop_counted || fail "the loop was not counted: $(inns "$G" curl -s \
  http://127.0.0.1:9095/metrics | grep 'refusals_total{front_end="redirect"')"

# DNS from the client, to any resolver: the forwarder answers, and the query left from an
# egress address (UDP, then TCP).
answer=$(inns "$C" dig +short +time=3 +tries=1 @198.51.100.53 gw-test.example)
[ "$answer" = "198.51.100.7" ] || fail "DNS over UDP answered '$answer'"
answer=$(inns "$C" dig +tcp +short +time=3 +tries=1 @198.51.100.53 gw-test.example)
[ "$answer" = "198.51.100.7" ] || fail "DNS over TCP answered '$answer'"
from_egresses=$(grep -cE 'query\[A\] gw-test.example from 10\.77\.2\.[12]$' "$work/dnsmasq.log" || true)
[ "$from_egresses" -eq 2 ] || fail "dnsmasq saw $from_egresses queries from the egresses: $(cat "$work/dnsmasq.log")"
grep -q 'from 10\.77\.1\.' "$work/dnsmasq.log" && fail "a client's query went around the forwarder"

# Bad DNS input (garbage, a cut header, a response, a zero TCP length) is counted and
# dropped; a good query after it is answered.
inns "$C" python3 - <<'PY'
import socket
for data in (b"\xff" * 40, b"\x12\x34\x01", b"\x12\x34\x81\x80" + b"\x00" * 8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(data, ("198.51.100.53", 53)); s.close()
t = socket.create_connection(("198.51.100.53", 53), timeout=3); t.sendall(b"\x00\x00junk")
t.settimeout(3); assert t.recv(1) == b"", "a zero-length TCP message was answered"; t.close()
PY
answer=$(inns "$C" dig +short +time=3 +tries=1 @198.51.100.53 gw-test.example)
[ "$answer" = "198.51.100.7" ] || fail "DNS after bad input answered '$answer'"
inns "$G" curl -sf http://127.0.0.1:9095/metrics >"$work/metrics"
grep -q 'ipmanager_dns_queries_total{result="malformed",transport="udp"} 3' "$work/metrics" ||
  fail "bad UDP queries not counted: $(grep dns_queries "$work/metrics")"
grep -q 'ipmanager_dns_queries_total{result="malformed",transport="tcp"} 1' "$work/metrics" ||
  fail "the bad TCP stream was not counted"

# One egress address deleted: every client is served by the other.
inns "$G" ip addr del 10.77.2.2/24 dev g1
: >"$work/answers"
for i in $(seq 10); do
  inns "$C" curl -sf --max-time 5 "http://203.0.113.10:8080/after$i" >>"$work/answers" ||
    fail "request $i after the address left was not served"
done
[ "$(grep -c '^10.77.2.1 ' "$work/answers")" -eq 10 ] || fail "after the delete: $(cat "$work/answers")"

stop_gateway

# A SIGKILL leaves the table; the next start replaces it (still one), and its exit removes it.
start_gateway gw2
kill -KILL "$gw"; wait "$gw" 2>/dev/null || true
[ "$(tables)" = "table inet ipmanager" ] || fail "after SIGKILL: $(tables)"
start_gateway gw3
[ "$(tables)" = "table inet ipmanager" ] || fail "after the restart: $(tables)"
inns "$C" curl -sf --max-time 5 http://203.0.113.10:8080/again >/dev/null || fail "not served after the restart"
stop_gateway

# IPv6, in the YAML form (the command line's -gateway-ip is one address): a redirect front end
# on the gateway's IPv6 address, two IPv6 egress addresses.
cat >"$work/v6.yaml" <<YAML
listen: [{type: redirect, host: "fd77:1::1", port: 8888}]
egresses: [{kind: source, address: "fd77:2::1"}, {kind: source, address: "fd77:2::2"}]
gateway_subnets: ["fd77:1::/64"]
gateway_auto_config: true
probe_port: 9096
state_dir: $work/state
selection: weighted
YAML
ip netns exec "$G" "$ipmanager" --config "$work/v6.yaml" >"$work/gw6.log" 2>&1 &
gw=$!
pids+=("$gw")
until_ok grep -q "ipmanager running" "$work/gw6.log" || fail "the IPv6 gateway did not start"
: >"$work/answers"
for i in $(seq 10); do
  inns "$C" curl -sf --max-time 5 "http://[2001:db8:77::10]:8080/v6-$i" >>"$work/answers" ||
    fail "IPv6 request $i was not served"
done
grep -q '^fd77:2::1 \[2001:db8:77::10\]:8080 /v6-1$' "$work/answers" ||
  grep -q '^fd77:2::2 \[2001:db8:77::10\]:8080 /v6-1$' "$work/answers" ||
  fail "IPv6: $(head -2 "$work/answers")"
[ "$(grep -cE '^fd77:2::[12] ' "$work/answers")" -eq 10 ] || fail "IPv6 answers: $(cat "$work/answers")"
[ "$(grep -c '^fd77:2::1 ' "$work/answers")" -eq 5 ] || fail "IPv6 not spread 1:1: $(cut -d' ' -f1 "$work/answers" | sort | uniq -c)"
stop_gateway
echo "PASS"
