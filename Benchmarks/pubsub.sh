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

source scripts/loopback.sh  # free_port, start_redis, start_gateway; everything stopped by PID on exit

swift build -c release --product redis-gateway >/dev/null
swift build -c release --product gateway-load >/dev/null
start_redis

for case in $cases; do
for binary in .build/release/redis-gateway ${VARIANT_BIN:-}; do
  subscribers="${case%x*}"
  rate="${case#*x}"
  GATEWAY_BINARY="$binary" start_gateway GATEWAY_CONNECTION_LIMIT=$((subscribers + 100)) \
    GATEWAY_MAX_SUBSCRIBERS=$((subscribers + 10))
  gateway_pid="${pids[-1]}"
  echo "== $subscribers streams, $rate messages/s, ${duration} s: $binary"
  .build/release/gateway-load --scenario pubsub --target "http://127.0.0.1:$gateway_port" --subscribers "$subscribers" \
    --rate "$rate" --duration "$duration" --threads 1 --gateway-pid "$gateway_pid" 2>/dev/null
  kill "$gateway_pid"
  wait "$gateway_pid" 2>/dev/null || true
done
done
