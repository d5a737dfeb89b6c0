#!/usr/bin/env bash
# Sets up and runs the whole test suite: the Swift tests (they start their own redis-server
# processes on free loopback ports and stop them by PID), then the official Upstash Python SDK
# against a running gateway (Tests/SDKIntegration starts redis-server and the gateway itself).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh python3 python3-venv
swift build --build-tests
swift test --skip-build --parallel --skip FaultTests

# The fault suite (Tests/FaultTests): the built redis-gateway and real redis-server processes with
# faults injected under load. Serialized and on its own, because its assertions include timings.
swift test --skip-build --filter FaultTests

# Again with optimisations: lock and memory-ordering bugs (a lost wake-up in the pool was one) can
# hide in a debug build and show only when the optimiser is free to cache values.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build --parallel --skip FaultTests

venv=.build/sdk-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check upstash-redis==1.8.0 pytest==9.0.3
GATEWAY_BINARY="$(swift build --show-bin-path)/redis-gateway" "$venv/bin/python" -m pytest -q Tests/SDKIntegration
