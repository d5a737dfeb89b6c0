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

source scripts/loopback.sh
start_redis
# A cheap password hash: the fuzzer logs in hundreds of times (the login limit answers 429, declared).
start_gateway GATEWAY_SSE_HEARTBEAT_S=1 GATEWAY_PASSWORD_ROUNDS=1000

"$venv/bin/schemathesis" --no-color --config-file .ci/schemathesis.toml run openapi.yaml \
  --url "http://127.0.0.1:$gateway_port" --checks all --max-examples "${CONTRACT_EXAMPLES:-30}" \
  --seed "${CONTRACT_SEED:-20261130}" --request-timeout 10
