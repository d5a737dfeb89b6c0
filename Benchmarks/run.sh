#!/usr/bin/env bash
# The gateway's HTTP benchmark: starts its own redis-server and a release gateway on free loopback
# ports and drives single-command GET and SET (the /cache resource and the command API) with wrk at
# 50 and 200 keep-alive connections, then /pipeline with 100-command batches; redis-benchmark
# against the same Redis in the same run; the load client against wrk; an uncontended pool borrow.
#
# With WEBDIS_BIN=/path/to/webdis (built outside this repository) Webdis runs beside the gateway,
# against the same Redis, in the same run and the same table: GET /GET/k and GET /SET/k/v.
# Every row also gives the CPU each server and Redis spent per request (from /proc/PID/stat over
# the wrk run). With STRACE=1, system calls per request are counted too (strace -c -f over a short
# extra run per server; slow, so kept apart from the timed runs).
#
# Usage: [WEBDIS_BIN=...] [VARIANT="GATEWAY_X=1 ..."] [STRACE=1] [ONLY_SINGLE=1] bash Benchmarks/run.sh [seconds per wrk run, default 10]
# ONLY_SINGLE=1 stops after the single-command and /pipeline rows (no redis-benchmark, load client, borrow).
# IDLE=N holds N more keep-alive connections open to each server (gateway, variant, Webdis) for the
# whole run, each sending one request every 10 s (under the idle timeout): clients that keep
# connections open but mostly idle, beside wrk's busy ones.
# Environment for the gateway (GATEWAY_THREADS, ...) is passed through.
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
bash scripts/setup.sh wrk
[ "${STRACE:-0}" = 1 ] && bash scripts/setup.sh strace

# shellcheck source=scripts/loopback.sh
source scripts/loopback.sh  # free ports, $work, and everything started stopped by PID on exit
redis_port="$(free_port)"
gateway_port="$(free_port)"

swift build -c release --product redis-gateway >/dev/null
swift build -c release --product PoolBorrowBenchmark >/dev/null

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

REDIS_URL="redis://127.0.0.1:$redis_port/0" .build/release/redis-gateway --port "$gateway_port" \
  --log-level warning >"$work/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
sleep 0.5
idle_rss="$(awk '/VmRSS/ {print $2 " kB"}' "/proc/$gateway_pid/status")"

# VARIANT="NAME=value ..." starts a second gateway with those settings added, measured in the same
# run beside the first (an A/B of one change); VARIANT_BIN=/path runs that second gateway from
# another build (e.g. a copy of the binary before a code change).
variant_port=""
if [ -n "${VARIANT:-}" ]; then
  variant_port="$(free_port)"
  env $VARIANT REDIS_URL="redis://127.0.0.1:$redis_port/0" "${VARIANT_BIN:-.build/release/redis-gateway}" --port "$variant_port" \
    --log-level warning >"$work/variant.log" 2>&1 &
  variant_pid=$!
  pids+=("$variant_pid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$variant_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
fi

webdis_port=""
[ -n "${WEBDIS_BIN:-}" ] && start_webdis "$WEBDIS_BIN"

value="$(head -c 100 /dev/zero | tr '\0' 'x')"
redis-cli -p "$redis_port" set bench:key "$value" >/dev/null
cat >"$work/put.lua" <<LUA
wrk.method = "PUT"
wrk.body = "$value"
request = function() return wrk.format(nil, "/cache/bench:put:" .. math.random(1, 10000)) end
LUA
cat >"$work/set.lua" <<LUA
request = function() return wrk.format("POST", "/set/bench:set:" .. math.random(1, 10000) .. "/$value") end
LUA
cat >"$work/webdis-set.lua" <<LUA
request = function() return wrk.format(nil, "/SET/bench:set:" .. math.random(1, 10000) .. "/$value") end
LUA

if [ "${IDLE:-0}" -gt 0 ]; then
  hold_idle() {  # PORT PATH: IDLE keep-alive connections to 127.0.0.1:PORT, one GET PATH on each every 10 s
    python3 -c '
import socket, sys, time
port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
while True:
    for connection in held:
        connection.sendall(request)
        connection.recv(65536)
    time.sleep(10)' "$1" "$IDLE" "$2" &
    pids+=("$!")
  }
  hold_idle "$gateway_port" /healthz
  [ -n "$variant_port" ] && hold_idle "$variant_port" /healthz
  [ -n "$webdis_port" ] && hold_idle "$webdis_port" /PING
  sleep 2
fi

# CPU ticks (user + system) of a process, from /proc/PID/stat.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

# run_wrk LABEL SERVER_PID CONNECTIONS wrk-arguments...: requests/s, p50, p99, and CPU µs per request
# of the server and of Redis over the run.
run_wrk() {
  local label="$1" server="$2" connections="$3"; shift 3
  local out before_server before_redis after_server after_redis
  before_server="$(ticks "$server")"; before_redis="$(ticks "$redis_pid")"
  out="$(wrk -t1 -c"$connections" -d"${duration}s" --latency "$@")"
  after_server="$(ticks "$server")"; after_redis="$(ticks "$redis_pid")"
  local rps p50 p99 errors requests
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  requests="$(awk '/requests in/ {print $1}' <<<"$out")"
  awk -v l="$label" -v r="$rps" -v a="$p50" -v b="$p99" -v n="$requests" -v hz="$hz" \
    -v s=$(( after_server - before_server )) -v d=$(( after_redis - before_redis )) -v e="${errors:+non-2xx: $errors}" \
    'BEGIN { printf "%-40s %11s %9s %9s %9.1f %9.1f %s\n", l, r, a, b, s * 1e6 / hz / n, d * 1e6 / hz / n, e }'
}

# syscalls LABEL SERVER_PID URL [wrk-arguments...]: system calls per request, strace -c -f over 3 s at 50 connections.
syscalls() {
  local label="$1" server="$2"; shift 2
  strace -c -f -q -o "$work/strace.txt" -p "$server" &
  local tracer=$!
  sleep 0.5
  local requests
  requests="$(wrk -t1 -c50 -d3s "$@" | awk '/requests in/ {print $1}')"
  kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
  # Rows: % time, seconds, usecs/call, calls, [errors,] syscall; the calls are the fourth column.
  local calls
  calls="$(awk '$NF=="total" {print $4}' "$work/strace.txt")"
  printf '%-40s %6.2f system calls per request (%s calls, %s requests under strace):' "$label" \
    "$(awk -v c="$calls" -v n="$requests" 'BEGIN {print c/n}')" "$calls" "$requests"
  awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && $NF != "total" {printf "%s %.2f\n", $NF, $4 / n}' "$work/strace.txt" \
    | sort -k2 -n -r | head -6 | awk '{printf " %s %s", $1, $2} END {print ""}'
}

g="http://127.0.0.1:$gateway_port"
v="http://127.0.0.1:$variant_port"
w="http://127.0.0.1:$webdis_port"
printf '%-40s %11s %9s %9s %9s %9s\n' "benchmark" "requests/s" "p50" "p99" "server µs" "Redis µs"
for connections in 50 200; do
  run_wrk "gateway GET /cache/{key} c$connections" "$gateway_pid" "$connections" "$g/cache/bench:key"
  [ -n "$variant_port" ] && run_wrk "variant GET /cache/{key} c$connections" "$variant_pid" "$connections" "$v/cache/bench:key"
  run_wrk "gateway GET /get/{key} c$connections" "$gateway_pid" "$connections" "$g/get/bench:key"
  [ -n "$variant_port" ] && run_wrk "variant GET /get/{key} c$connections" "$variant_pid" "$connections" "$v/get/bench:key"
  [ -n "$webdis_port" ] && run_wrk "webdis GET /GET/{key} c$connections" "$webdis_pid" "$connections" "$w/GET/bench:key"
  run_wrk "gateway PUT /cache/{key} c$connections" "$gateway_pid" "$connections" -s "$work/put.lua" "$g"
  [ -n "$variant_port" ] && run_wrk "variant PUT /cache/{key} c$connections" "$variant_pid" "$connections" -s "$work/put.lua" "$v"
  run_wrk "gateway POST /set/{key}/{value} c$connections" "$gateway_pid" "$connections" -s "$work/set.lua" "$g"
  [ -n "$variant_port" ] && run_wrk "variant POST /set/{key}/{value} c$connections" "$variant_pid" "$connections" -s "$work/set.lua" "$v"
  [ -n "$webdis_port" ] && run_wrk "webdis GET /SET/{key}/{value} c$connections" "$webdis_pid" "$connections" -s "$work/webdis-set.lua" "$w"
done

# A 100-command /pipeline batch: 50 SETs and 50 GETs on 100-byte values.
batch="["
for i in $(seq 0 49); do batch+="[\"SET\",\"bench:pipe:$i\",\"$value\"],[\"GET\",\"bench:pipe:$i\"],"; done
batch="${batch%,}]"
cat >"$work/pipeline.lua" <<LUA
wrk.method = "POST"
wrk.path = "/pipeline"
wrk.body = '$batch'
wrk.headers["Content-Type"] = "application/json"
LUA
pipeline_line="$(run_wrk "gateway /pipeline (100 commands) c50" "$gateway_pid" 50 -s "$work/pipeline.lua" "$g")"
echo "$pipeline_line"
pipeline_rps="$(awk '{print $(NF-4)}' <<<"$pipeline_line")"
echo "gateway /pipeline delivers $(awk -v r="$pipeline_rps" 'BEGIN {printf "%.0f", r * 100}') Redis commands/s (requests/s x 100)"

[ -n "$variant_port" ] && run_wrk "variant /pipeline (100 commands) c50" "$variant_pid" 50 -s "$work/pipeline.lua" "$v"
[ "${ONLY_SINGLE:-0}" = 1 ] && [ "${STRACE:-0}" != 1 ] && exit 0

if [ "${STRACE:-0}" = 1 ]; then
  echo
  syscalls "gateway GET /get/{key}" "$gateway_pid" "$g/get/bench:key"
  syscalls "gateway POST /set/{key}/{value}" "$gateway_pid" -s "$work/set.lua" "$g"
  syscalls "redis-server (behind the gateway, GET)" "$redis_pid" "$g/get/bench:key"
  if [ -n "$variant_port" ]; then
    syscalls "variant GET /get/{key}" "$variant_pid" "$v/get/bench:key"
    syscalls "variant POST /set/{key}/{value}" "$variant_pid" -s "$work/set.lua" "$v"
  fi
  if [ -n "$webdis_port" ]; then
    syscalls "webdis GET /GET/{key}" "$webdis_pid" "$w/GET/bench:key"
    syscalls "webdis GET /SET/{key}/{value}" "$webdis_pid" -s "$work/webdis-set.lua" "$w"
    syscalls "redis-server (behind webdis, GET)" "$redis_pid" "$w/GET/bench:key"
  fi
fi

# redis-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
echo
requests=$(( duration * 40000 ))
redis-benchmark -p "$redis_port" -t get,set -c 50 -n "$requests" -d 100 --csv 2>/dev/null | tr -d '"' \
  | awk -F, '$1=="SET"||$1=="GET" {printf "%-40s %11s %9s %9s\n", "redis-benchmark " $1 " c50", $2, $5 "ms", $7 "ms"}'
redis-benchmark -p "$redis_port" -t get,set -c 50 -n $(( requests * 10 )) -d 100 -P 100 --csv 2>/dev/null | tr -d '"' \
  | awk -F, '$1=="SET"||$1=="GET" {printf "%-40s %11s %9s %9s  (commands/s)\n", "redis-benchmark -P 100 " $1, $2, $5 "ms", $7 "ms"}'

# The project's own load client against wrk on GET /healthz (no Redis): three alternating rounds.
swift build -c release --product gateway-load >/dev/null
echo
for round in 1 2 3; do
  wrk_rps="$(wrk -t1 -c50 -d5s "$g/healthz" | awk '/Requests\/sec/ {print $2}')"
  load_rps="$(.build/release/gateway-load run --target "$g" --scenario healthz \
    --connections 50 --requests 0 --duration 5 --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["requests_per_second"], 1))')"
  echo "GET /healthz round $round: wrk -t1 -c50 $wrk_rps requests/s, gateway-load -c50 $load_rps requests/s ($(awk -v a="$load_rps" -v b="$wrk_rps" 'BEGIN {printf "%.0f", 100 * a / b}') %)"
done

echo
.build/release/PoolBorrowBenchmark | head -1
echo "gateway RSS: idle at start $idle_rss, after the load $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$gateway_pid/status")"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk, the servers and redis-server share them"
echo "gateway pool at the end: $(curl -fs "$g/pool/stats")"
