#!/usr/bin/env bash
# Instructions per request, counted by valgrind --tool=callgrind (repeatable: it counts, it does not
# time). Each server runs under callgrind with one worker thread and serves N1, then separately N2,
# sequential keep-alive requests; (instructions(N2) - instructions(N1)) / (N2 - N1) is the cost of
# one request with start-up and shutdown cancelled out. Redis is counted the same way, behind each.
#
# Usage: [GATEWAY_BIN=/path/to/redis-gateway (default: a release build of this tree)] [WEBDIS_BIN=/path/to/webdis] [VARIANT_BIN=/path/to/another/redis-gateway] bash Benchmarks/instructions.sh [N1 default 500] [N2 default 2500]
# VARIANT_BIN counts a second gateway binary the same way (an A/B of a code change: a build of the
# commit before it).
# Loopback only; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
n1="${1:-500}"
n2="${2:-2500}"
bash scripts/setup.sh valgrind
if [ -z "${GATEWAY_BIN:-}" ]; then
  swift build -c release --product redis-gateway >/dev/null
  GATEWAY_BIN=.build/release/redis-gateway
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# Valgrind 3.19 cannot read the Swift toolchain's debug information: count a copy without it.
strip --strip-debug -o "$work/redis-gateway" "$GATEWAY_BIN"
[ -n "${VARIANT_BIN:-}" ] && strip --strip-debug -o "$work/redis-gateway-variant" "$VARIANT_BIN"

# requests PORT PATH COUNT: COUNT sequential GETs on one keep-alive connection.
requests() {
  python3 - "$1" "$2" "$3" <<'PY'
import http.client, sys
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(count):
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
PY
}

# wait_http PORT PATH: until it answers (valgrind starts slowly).
wait_http() { for _ in $(seq 600); do curl -fs "http://127.0.0.1:$1$2" >/dev/null 2>&1 && return; sleep 0.1; done; echo "no answer on $1" >&2; tail -5 "$work"/server-*.log >&2; exit 1; }

# Total instructions (Ir) of one callgrind output file.
instructions() { awk '/^summary:/ {print $2}' "$1"; }

# measure LABEL COUNT START-COMMAND PATH: starts Redis and the server under callgrind, sends COUNT
# requests, stops both; prints "server-instructions redis-instructions".
measure() {
  local label="${1//[^A-Za-z0-9]/_}" count="$2" kind="$3" path="$4"
  local redis_port server_port
  redis_port="$(free_port)"; server_port="$(free_port)"
  valgrind --tool=callgrind --callgrind-out-file="$work/redis-$label-$count.out" \
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
    --loglevel warning >/dev/null 2>&1 &
  local redis_pid=$!
  pids+=("$redis_pid")
  for _ in $(seq 600); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$redis_port" set bench:key "$(head -c 100 /dev/zero | tr '\0' 'x')" >/dev/null
  if [ "$kind" = gateway ] || [ "$kind" = variant ]; then
    local binary="$work/redis-gateway"
    [ "$kind" = variant ] && binary="$work/redis-gateway-variant"
    REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_THREADS=1 GATEWAY_MIN_IDLE=1 GATEWAY_LOG_LEVEL=error \
      GATEWAY_CONNECT_TIMEOUT_MS=20000 GATEWAY_SOCKET_TIMEOUT_MS=20000 GATEWAY_WAIT_TIMEOUT_MS=20000 \
      GATEWAY_DATABASE_PATH="$work/users-$label-$count.sqlite" GATEWAY_SEED_USERS=1 \
      valgrind --tool=callgrind --callgrind-out-file="$work/server-$label-$count.out" \
      "$binary" --port "$server_port" >"$work/server-$label-$count.log" 2>&1 &
  else
    cat >"$work/webdis-$count.json" <<JSON
{ "redis_host": "127.0.0.1", "redis_port": $redis_port, "http_host": "127.0.0.1", "http_port": $server_port,
  "threads": 1, "pool_size": 1, "daemonize": false, "websockets": false, "database": 0, "verbosity": 0,
  "logfile": "$work/webdis.log" }
JSON
    valgrind --tool=callgrind --callgrind-out-file="$work/server-$label-$count.out" "$WEBDIS_BIN" "$work/webdis-$count.json" >/dev/null 2>&1 &
  fi
  local server_pid=$!
  pids+=("$server_pid")
  wait_http "$server_port" "$path"
  requests "$server_port" "$path" "$count"
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  wait "$redis_pid" 2>/dev/null || true
  echo "$(instructions "$work/server-$label-$count.out") $(instructions "$work/redis-$label-$count.out")"
}

row() {
  local label="$1" kind="$2" path="$3"
  local a b
  read -r -a a <<<"$(measure "$label" "$n1" "$kind" "$path")"
  read -r -a b <<<"$(measure "$label" "$n2" "$kind" "$path")"
  awk -v l="$label" -v s1="${a[0]}" -v r1="${a[1]}" -v s2="${b[0]}" -v r2="${b[1]}" -v n=$(( n2 - n1 )) \
    'BEGIN { printf "%-32s %14.0f %14.0f\n", l, (s2 - s1) / n, (r2 - r1) / n }'
}

printf '%-32s %14s %14s\n' "instructions per request" "server" "redis-server"
row "gateway GET /get/{key}" gateway /get/bench:key
row "gateway GET /cache/{key}" gateway /cache/bench:key
if [ -n "${VARIANT_BIN:-}" ]; then
  row "variant GET /get/{key}" variant /get/bench:key
  row "variant GET /cache/{key}" variant /cache/bench:key
fi
[ -n "${WEBDIS_BIN:-}" ] && row "webdis GET /GET/{key}" webdis /GET/bench:key
echo "(one worker thread each, sequential keep-alive requests; N = $n2 - $n1)"
