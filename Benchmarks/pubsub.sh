#!/usr/bin/env bash
# Pub/sub fan-out benchmark: starts its own redis-server and a release gateway on free loopback
# ports, then `gateway-load --scenario pubsub` for each case: N event streams on one channel and a
# publisher at R messages/s through the command API for the given seconds. Reports delivery latency
# (publish → receipt) p50/p99, loss, and the gateway's CPU, RSS and threads (from /proc), plus the
# gateway's RSS and threads before the streams opened.
#
# Usage: [VARIANT_BIN=/path/to/other/redis-gateway] bash Benchmarks/pubsub.sh [seconds per case, default 10]
#        [cases, default "1000x1000 10000x100"]
# A case is SUBSCRIBERSxRATE. With VARIANT_BIN, every case runs against that binary too, right after
# this build's, against the same Redis (an A/B in one run). Environment for the gateway
# (GATEWAY_CONNECTION_BUFFER_BYTES, ...) is passed through. Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
cases="${2:-1000x1000 10000x100}"
ulimit -n "$(ulimit -Hn)"  # 10,000 streams are 10,000 sockets on each side

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

swift build -c release --product redis-gateway >/dev/null
swift build -c release --product gateway-load >/dev/null

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

for case in $cases; do
for binary in .build/release/redis-gateway ${VARIANT_BIN:-}; do
  subscribers="${case%x*}"
  rate="${case#*x}"
  gateway_port="$(free_port)"
  REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_CONNECTION_LIMIT=$((subscribers + 100)) \
    GATEWAY_MAX_SUBSCRIBERS=$((subscribers + 10)) GATEWAY_DATABASE_PATH="$work/users-$gateway_port.sqlite" \
    "$binary" --port "$gateway_port" --log-level warning >"$work/gateway-$gateway_port.log" 2>&1 &
  gateway_pid=$!
  pids+=("$gateway_pid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
  echo "== $subscribers streams, $rate messages/s, ${duration} s: $binary"
  .build/release/gateway-load --scenario pubsub --target "http://127.0.0.1:$gateway_port" --subscribers "$subscribers" \
    --rate "$rate" --duration "$duration" --threads 1 --gateway-pid "$gateway_pid" 2>/dev/null
  kill "$gateway_pid"
  wait "$gateway_pid" 2>/dev/null || true
done
done
