#!/usr/bin/env bash
# TLS on both sides, one run, ratios only (2 cores shared by wrk, the gateways, Redis and nginx):
#   1. TLS to Redis: GET and SET through rediss:// vs redis:// (two gateways, one plain and one
#      TLS-only redis-server), keep-alive HTTP, c50 and c200;
#   2. HTTPS for callers: keep-alive GET over HTTPS vs HTTP, and new connections per second
#      (Connection: close) over both, with Debian's nginx terminating TLS (`return 200`) beside as
#      the ceiling of a TLS front on this machine;
#   3. the pool opening 16 connections at once (GATEWAY_MIN_IDLE=16), plain vs TLS;
#   4. RSS per idle HTTPS connection (1000 held open after their handshake).
#
# Usage: [GATEWAY_BIN=.build/release/redis-gateway] bash Benchmarks/tls.sh [seconds per measurement, default 8]
# Needs wrk (apt-get install wrk) and nginx (apt-get install nginx; only its binary is used).
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-8}"
bash scripts/setup.sh wrk nginx
source scripts/loopback.sh
if [ -z "${GATEWAY_BIN:-}" ]; then
  swift build -c release --product redis-gateway >/dev/null
  GATEWAY_BIN=.build/release/redis-gateway
fi

start_redis
start_tls_redis
tls=(--cacert "$work/tls/ca.crt")
redis-cli -p "$redis_port" set bench value >/dev/null
redis-cli --tls "${tls[@]}" -p "$tls_redis_port" set bench value >/dev/null

# gateway NAME ENV...: starts the gateway, sets ${NAME}_port, waits for /healthz.
gateway() {
  local name="$1" port
  shift
  port="$(free_port)"
  env GATEWAY_PORT="$port" GATEWAY_LOG_LEVEL=warning GATEWAY_DATABASE_PATH="$work/users-$name.sqlite" "$@" \
    "$GATEWAY_BIN" >"$work/gateway-$name.log" 2>&1 &
  pids+=("$!")
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_pid" '%s' "$!"
  for _ in $(seq 200); do curl -ks "https://localhost:$port/healthz" >/dev/null 2>&1 && return 0
    curl -s "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "gateway $name did not start"; cat "$work/gateway-$name.log"; exit 1
}
gateway plain REDIS_URL="redis://127.0.0.1:$redis_port/0"
gateway rediss REDIS_URL="rediss://127.0.0.1:$tls_redis_port/0" GATEWAY_REDIS_TLS_CA_FILE="$work/tls/ca.crt"
gateway https REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_TLS_CERT_FILE="$work/tls/server.crt" \
  GATEWAY_TLS_KEY_FILE="$work/tls/server.key"

nginx_port="$(free_port)"
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/nginx.pid; error_log $work/nginx/error.log;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$nginx_port ssl; ssl_certificate $work/tls/server.crt;
  ssl_certificate_key $work/tls/server.key; ssl_protocols TLSv1.2 TLSv1.3; keepalive_requests 1000000;
  location / { return 200 '{"result":"value"}'; } } }
CONF
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=("$!")
for _ in $(seq 100); do curl -ks "https://127.0.0.1:$nginx_port/" >/dev/null 2>&1 && break; sleep 0.05; done

cat >"$work/set.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '["SET","bench","value"]'
LUA

# rate URL CONNECTIONS [wrk args...]: requests per second (wrk, 2 threads).
rate() {
  local url="$1" connections="$2"
  shift 2
  wrk -t2 -c"$connections" -d"${duration}s" "$@" "$url" 2>/dev/null | awk '/Requests\/sec/ {printf "%d", $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "== 1. TLS to Redis: through rediss:// vs redis:// (requests/s, keep-alive HTTP)"
echo "| request | connections | redis:// | rediss:// | rediss/redis |"
echo "|---|---|---|---|---|"
for connections in 50 200; do
  plain_get=$(rate "http://127.0.0.1:$plain_port/get/bench" "$connections")
  tls_get=$(rate "http://127.0.0.1:$rediss_port/get/bench" "$connections")
  echo "| GET /get/bench | $connections | $plain_get | $tls_get | $(ratio "$tls_get" "$plain_get") |"
  plain_set=$(rate "http://127.0.0.1:$plain_port/" "$connections" -s "$work/set.lua")
  tls_set=$(rate "http://127.0.0.1:$rediss_port/" "$connections" -s "$work/set.lua")
  echo "| POST / SET | $connections | $plain_set | $tls_set | $(ratio "$tls_set" "$plain_set") |"
done

echo "== 2. HTTPS for callers (requests/s)"
echo "| what | HTTP | HTTPS | HTTPS/HTTP | nginx HTTPS (ceiling) |"
echo "|---|---|---|---|---|"
http_get=$(rate "http://127.0.0.1:$plain_port/get/bench" 50)
https_get=$(rate "https://localhost:$https_port/get/bench" 50)
nginx_get=$(rate "https://127.0.0.1:$nginx_port/" 50)
echo "| keep-alive GET, c50 | $http_get | $https_get | $(ratio "$https_get" "$http_get") | $nginx_get |"
http_new=$(rate "http://127.0.0.1:$plain_port/get/bench" 20 -H "Connection: close")
https_new=$(rate "https://localhost:$https_port/get/bench" 20 -H "Connection: close")
nginx_new=$(rate "https://127.0.0.1:$nginx_port/" 20 -H "Connection: close")
echo "| a new connection per GET, c20 | $http_new | $https_new | $(ratio "$https_new" "$http_new") | $nginx_new |"

echo "== 3. the pool opening 16 connections at once (GATEWAY_MIN_IDLE=16, GATEWAY_MAX_CONNECTIONS=16)"
# open16 NAME URL [ENV...]: ms from start until /pool/stats says 16 open.
open16() {
  local name="$1" url="$2" start
  shift 2
  start=$(date +%s%N)
  gateway "$name" REDIS_URL="$url" GATEWAY_MIN_IDLE=16 GATEWAY_MAX_CONNECTIONS=16 "$@"
  local port_var="${name}_port"
  for _ in $(seq 400); do
    curl -s "http://127.0.0.1:${!port_var}/pool/stats" | grep -q '"open":16' && break; sleep 0.005
  done
  echo "$(( ($(date +%s%N) - start) / 1000000 ))"
}
plain_ms=$(open16 warm_plain "redis://127.0.0.1:$redis_port/0")
tls_ms=$(open16 warm_tls "rediss://127.0.0.1:$tls_redis_port/0" GATEWAY_REDIS_TLS_CA_FILE="$work/tls/ca.crt")
echo "start to 16 open: redis:// $plain_ms ms, rediss:// $tls_ms ms (each including the process start)"

echo "== 4. RSS per idle HTTPS connection (1000 connections after their handshake)"
rss() { awk '/^Rss:/ {print $2}' "/proc/$1/smaps_rollup"; }
before=$(rss "$https_pid")
python3 - "$https_port" "$work/tls/ca.crt" "$work/hold" <<'PY' &
import socket, ssl, sys, time, os
port, ca, flag = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=ca)
held = []
for _ in range(1000):
    raw = socket.create_connection(("127.0.0.1", port))
    held.append(context.wrap_socket(raw, server_hostname="localhost"))
open(flag, "w").close()
time.sleep(30)
PY
holder=$!
pids+=("$holder")
for _ in $(seq 600); do [ -f "$work/hold" ] && break; sleep 0.05; done
sleep 1
after=$(rss "$https_pid")
kill "$holder" 2>/dev/null || true
echo "RSS: $before KiB idle, $after KiB with 1000 idle HTTPS connections: $(( (after - before) / 1000 )) KiB each"
