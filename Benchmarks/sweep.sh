#!/usr/bin/env bash
# Pool sizing sweep: starts its own redis-server on a free loopback port, then lets gateway-load start
# release gateways across pool sizes and concurrency levels (plus the connection-per-request
# demonstration mode) and write Benchmarks/results/pool-sweep/{report.md,chart.svg}.
#
# Usage: bash Benchmarks/sweep.sh [extra gateway-load sweep options, e.g. --duration 3 --scenario cache-get]
# Loopback only, bounded in time; stops what it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
  --loglevel warning --maxclients 10000 >"$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

swift build -c release --product redis-gateway >/dev/null
swift build -c release --product gateway-load >/dev/null
.build/release/gateway-load sweep --gateway .build/release/redis-gateway \
  --redis-url "redis://127.0.0.1:$redis_port/0" "$@"
