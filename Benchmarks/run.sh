#!/usr/bin/env bash
# The gateway's HTTP benchmark: starts its own redis-server and a release gateway on free loopback
# ports, drives GET and PUT /cache/{key} with wrk at 50 keep-alive connections, and runs
# redis-benchmark -t get,set -c 50 against the same Redis in the same run for comparison.
# Also times an uncontended pool borrow+return in-process (PoolBorrowBenchmark).
#
# Usage: bash Benchmarks/run.sh [seconds per wrk run, default 10]
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
bash scripts/setup.sh wrk

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
redis_port="$(free_port)"
gateway_port="$(free_port)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

swift build -c release --product redis-gateway >/dev/null
swift build -c release --product PoolBorrowBenchmark >/dev/null

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

REDIS_URL="redis://127.0.0.1:$redis_port/0" .build/release/redis-gateway --port "$gateway_port" \
  --log-level warning >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

value="$(head -c 100 /dev/zero | tr '\0' 'x')"
curl -fs -X PUT --data-binary "$value" "http://127.0.0.1:$gateway_port/cache/bench:key" >/dev/null
cat >"$work/put.lua" <<LUA
wrk.method = "PUT"
wrk.body = "$value"
request = function()
  return wrk.format(nil, "/cache/bench:put:" .. math.random(1, 10000))
end
LUA

# wrk --latency prints the latency distribution; pick requests/s, p50 and p99.
run_wrk() {
  local label="$1"; shift
  local out
  out="$(wrk -t1 -c50 -d"${duration}s" --latency "$@")"
  local rps p50 p99 errors
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  printf '%-34s %12s %10s %10s %s\n' "$label" "$rps" "$p50" "$p99" "${errors:+non-2xx: $errors}"
}

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

printf '%-34s %12s %10s %10s\n' "benchmark (50 connections)" "requests/s" "p50" "p99"
run_wrk "gateway GET /cache/{key}" "http://127.0.0.1:$gateway_port/cache/bench:key"
run_wrk "gateway PUT /cache/{key}" -s "$work/put.lua" "http://127.0.0.1:$gateway_port"
pipeline_line="$(run_wrk "gateway /pipeline (100 commands)" -s "$work/pipeline.lua" "http://127.0.0.1:$gateway_port")"
echo "$pipeline_line"

# redis-benchmark --csv: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
requests=$(( duration * 40000 ))
redis-benchmark -p "$redis_port" -t get,set -c 50 -n "$requests" -d 100 --csv 2>/dev/null | tr -d '"' \
  | awk -F, '$1=="SET"||$1=="GET" {printf "%-34s %12s %10s %10s\n", "redis-benchmark " $1, $2, $5 "ms", $7 "ms"}'

redis-benchmark -p "$redis_port" -t get,set -c 50 -n $(( requests * 10 )) -d 100 -P 100 --csv 2>/dev/null | tr -d '"' \
  | awk -F, '$1=="SET"||$1=="GET" {printf "%-34s %12s %10s %10s  (commands/s)\n", "redis-benchmark -P 100 " $1, $2, $5 "ms", $7 "ms"}'
pipeline_rps="$(awk '{print $5}' <<<"$pipeline_line")"
echo "gateway /pipeline delivers $(awk -v r="$pipeline_rps" 'BEGIN {printf "%.0f", r * 100}') Redis commands/s (requests/s x 100)"

# The project's own load client against wrk on GET /healthz (no Redis): three alternating rounds.
swift build -c release --product gateway-load >/dev/null
echo
for round in 1 2 3; do
  wrk_rps="$(wrk -t1 -c50 -d5s "http://127.0.0.1:$gateway_port/healthz" | awk '/Requests\/sec/ {print $2}')"
  load_rps="$(.build/release/gateway-load run --target "http://127.0.0.1:$gateway_port" --scenario healthz \
    --connections 50 --requests 0 --duration 5 --json | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["requests_per_second"], 1))')"
  echo "GET /healthz round $round: wrk -t1 -c50 $wrk_rps requests/s, gateway-load -c50 $load_rps requests/s ($(awk -v a="$load_rps" -v b="$wrk_rps" 'BEGIN {printf "%.0f", 100 * a / b}') %)"
done

echo
.build/release/PoolBorrowBenchmark | head -1
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); wrk, the gateway and redis-server share them"
echo "gateway pool at the end: $(curl -fs "http://127.0.0.1:$gateway_port/pool/stats")"
