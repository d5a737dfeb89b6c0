#!/usr/bin/env bash
# The contract, checked by a property-based tester: starts redis-server and the gateway (the debug
# build unless GATEWAY_BINARY is set) on free loopback ports and runs
#   schemathesis --config-file .ci/schemathesis.toml run openapi.yaml --checks all
# against it (every phase: examples, coverage, fuzzing, stateful). Any finding fails. The seed is
# fixed (CONTRACT_SEED) so CI is repeatable; run with another seed to explore further.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh python3 python3-venv curl >/dev/null
venv=.build/contract-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5

gateway_binary="${GATEWAY_BINARY:-$(swift build --show-bin-path)/redis-gateway}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
redis_port="$(free_port)"; gateway_port="$(free_port)"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no --loglevel warning \
  >"$work/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_PORT="$gateway_port" GATEWAY_LOG_LEVEL=warning GATEWAY_SSE_HEARTBEAT_S=1 \
  GATEWAY_DATABASE_PATH="$work/users.sqlite" "$gateway_binary" >"$work/gateway.log" 2>&1 &
pids+=("$!")
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

"$venv/bin/schemathesis" --no-color --config-file .ci/schemathesis.toml run openapi.yaml \
  --url "http://127.0.0.1:$gateway_port" --checks all --max-examples "${CONTRACT_EXAMPLES:-30}" \
  --seed "${CONTRACT_SEED:-20261130}" --request-timeout 10
