#!/usr/bin/env bash
# The session-cache benchmark: GET /api/data at 50 connections over 1000 logged-in users (warm
# cache), redis-gateway beside the seeds' Flask version (Benchmarks/peers/flask_session_app.py,
# global redis-py pool, gunicorn 4 sync workers and 2x8 gthread), same Redis, same SQLite file,
# same load client (gateway-load --scenario session-data), one run.
#
# Usage: [VARIANT_BIN=/path/to/redis-gateway] bash Benchmarks/session.sh [seconds per measurement, default 10]
# VARIANT_BIN adds a second gateway from another build (its own copy of the database), measured in
# the same run: an A/B of one change.
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
bash scripts/setup.sh python3 python3-venv

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

venv=.build/peer-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r Benchmarks/peers/requirements.txt
swift build -c release --product redis-gateway >/dev/null
swift build -c release --product gateway-load >/dev/null

redis_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
  --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
export REDIS_URL="redis://127.0.0.1:$redis_port/0"

gateway_port="$(free_port)"
# Logins are set-up here, not measured: a cheap password hash and no login limit from one address.
login_setup="GATEWAY_PASSWORD_ROUNDS=1000 GATEWAY_LOGIN_LIMIT_PER_ADDRESS=1000000 GATEWAY_LOGIN_LIMIT_PER_USER=1000"
env $login_setup GATEWAY_PORT="$gateway_port" GATEWAY_DATABASE_PATH="$work/users.sqlite" GATEWAY_SEED_USERS=1000 GATEWAY_LOG_LEVEL=warning \
  .build/release/redis-gateway >"$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
variant_port=""
if [ -n "${VARIANT_BIN:-}" ]; then
  variant_port="$(free_port)"
  env $login_setup GATEWAY_PORT="$variant_port" GATEWAY_DATABASE_PATH="$work/users-variant.sqlite" GATEWAY_SEED_USERS=1000 GATEWAY_LOG_LEVEL=warning \
    "$VARIANT_BIN" >"$work/variant.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$variant_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
fi

start_flask() {  # $1: port, then gunicorn options
  local port="$1"; shift
  (cd Benchmarks/peers && DATABASE_PATH="$work/users.sqlite" exec "../../$venv/bin/gunicorn" "$@" -b "127.0.0.1:$port" \
    --log-level warning flask_session_app:app) >"$work/flask-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/api/data" && break; sleep 0.05; done
}
flask_sync_port="$(free_port)"; start_flask "$flask_sync_port" -w 4
flask_thread_port="$(free_port)"; start_flask "$flask_thread_port" -w 2 -k gthread --threads 8

measure() {  # $1: label, $2: port
  local url="http://127.0.0.1:$2"
  # Warm: every user logged in and cached, then the measured run.
  .build/release/gateway-load run --target "$url" --scenario session-data --users 1000 --connections 50 --requests 5000 --json >/dev/null
  .build/release/gateway-load run --target "$url" --scenario session-data --users 1000 --connections 50 \
    --requests 0 --duration "$duration" --json | "$venv/bin/python" -c '
import json, sys
r = json.load(sys.stdin)
l = r["latency_ms"]
print("%-44s %12.0f %9.2f %9.2f %8.2f" % (sys.argv[1], r["requests_per_second"], l["p50"], l["p99"], 100 * r["success_rate"]))
' "$1"
}

printf '%-44s %12s %9s %9s %8s\n' "GET /api/data, 50 connections, 1000 users" "requests/s" "p50 ms" "p99 ms" "ok %"
measure "redis-gateway" "$gateway_port"
if [ -n "$variant_port" ]; then
  measure "variant ($VARIANT_BIN)" "$variant_port"
  measure "redis-gateway, again" "$gateway_port"
  measure "variant, again" "$variant_port"
fi
measure "Flask + redis-py, gunicorn 4 sync workers" "$flask_sync_port"
measure "Flask + redis-py, gunicorn 2x8 gthread" "$flask_thread_port"
echo "redis-gateway session cache: $(curl -fs "http://127.0.0.1:$gateway_port/pool/stats" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["session_cache"])')"
echo "machine: $(nproc) cores; the load client, the servers and Redis share them"
