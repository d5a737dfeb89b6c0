#!/usr/bin/env bash
# The soak: `gateway-load soak` for DURATION (seconds, or with an m or h suffix) against its own
# redis-server and redis-gateway on loopback. Mixed, self-checking traffic (cache GET/PUT, the
# command API, /pipeline, /multi-exec, /api/data, event streams with publishers), a Redis restart
# every 2 minutes and a CLIENT PAUSE every 3; RSS, PSS, threads, open files, the pool and the
# request rate recorded every 10 s; exits non-zero when an assertion fails (README, "Memory").
#
#   bash scripts/soak.sh 3m                      # what CI runs
#   bash scripts/soak.sh 30m                     # the run in Benchmarks/README.md
#
# Environment: GATEWAY_BIN and GATEWAY_LOAD_BIN (default: release builds, built when missing),
# REDIS_SERVER_BIN (default: redis-server on PATH), SOAK_OUTPUT (default:
# Benchmarks/results/soak-DURATION), SOAK_ARGS (more `gateway-load soak` options).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:?usage: scripts/soak.sh DURATION (e.g. 180, 3m, 30m)}"
case "$duration" in
    *h) seconds=$(( ${duration%h} * 3600 )) ;;
    *m) seconds=$(( ${duration%m} * 60 )) ;;
    *s) seconds=${duration%s} ;;
    *) seconds=$duration ;;
esac
if [ -z "${GATEWAY_BIN:-}" ] || [ -z "${GATEWAY_LOAD_BIN:-}" ]; then
    swift build -c release --product redis-gateway
    swift build -c release --product gateway-load
    bin="$(swift build -c release --show-bin-path)"
fi
gateway="${GATEWAY_BIN:-$bin/redis-gateway}"
load="${GATEWAY_LOAD_BIN:-$bin/gateway-load}"
output="${SOAK_OUTPUT:-Benchmarks/results/soak-$duration}"
# shellcheck disable=SC2086 # SOAK_ARGS is a list of options
"$load" soak --gateway "$gateway" --redis-server "${REDIS_SERVER_BIN:-redis-server}" --duration "$seconds" \
    --output "$output" ${SOAK_ARGS:-}
