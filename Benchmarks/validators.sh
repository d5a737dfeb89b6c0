#!/usr/bin/env bash
# The cost of validators on GET /cache/{key}, one run, ratios only (2 cores shared by wrk, the
# gateways and Redis):
#   1. GET of a 100 B and a 100 KB value: a gateway with ETag (NEW_BIN) vs one without it
#      (BASE_BIN, a build from before validators), each measured twice, interleaved (A B A B);
#   2. revalidating a 1 MB value (If-None-Match naming it: 304, no body) vs reading it in full:
#      requests/s and bytes/s on NEW_BIN.
#
# Usage: NEW_BIN=… BASE_BIN=… bash Benchmarks/validators.sh [seconds per measurement, default 8]
# Needs wrk. Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-8}"
: "${NEW_BIN:?the gateway with validators}" "${BASE_BIN:?a gateway built without them}"
bash scripts/setup.sh wrk
source scripts/loopback.sh

start_redis
head -c 100 /dev/zero | tr '\0' a | redis-cli -p "$redis_port" -x set v100 >/dev/null
head -c 100000 /dev/zero | tr '\0' b | redis-cli -p "$redis_port" -x set v100k >/dev/null
head -c 1000000 /dev/zero | tr '\0' c | redis-cli -p "$redis_port" -x set v1m >/dev/null

GATEWAY_BINARY="$BASE_BIN" start_gateway
base_port="$gateway_port"
GATEWAY_BINARY="$NEW_BIN" start_gateway
new_port="$gateway_port"

# rate PORT PATH [HEADER]: requests/s of wrk -c50 on PATH, raw bytes (Accept: application/octet-stream).
rate() {
  local extra=()
  [ -n "${3:-}" ] && extra=(-H "$3")
  wrk -t1 -c50 -d"${duration}s" -H 'Accept: application/octet-stream' "${extra[@]}" "http://127.0.0.1:$1$2" \
    | awk '/Requests\/sec/ {print $2} /Transfer\/sec/ {print $2}' | paste -sd' '
}

echo "| value | without ETag (req/s) | with ETag (req/s) | with/without |"
echo "|---|---|---|---|"
for path in /cache/v100 /cache/v100k; do
  wrk -t1 -c50 -d2s "http://127.0.0.1:$base_port$path" >/dev/null   # warm both
  wrk -t1 -c50 -d2s "http://127.0.0.1:$new_port$path" >/dev/null
  a1=$(rate "$base_port" "$path" | cut -d' ' -f1); b1=$(rate "$new_port" "$path" | cut -d' ' -f1)
  a2=$(rate "$base_port" "$path" | cut -d' ' -f1); b2=$(rate "$new_port" "$path" | cut -d' ' -f1)
  awk -v p="$path" -v a1="$a1" -v a2="$a2" -v b1="$b1" -v b2="$b2" \
    'BEGIN { printf "| %s | %s, %s | %s, %s | %.3f |\n", p, a1, a2, b1, b2, (b1 + b2) / (a1 + a2) }'
done

tag="$(curl -sI "http://127.0.0.1:$new_port/cache/v1m" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')"
full=$(rate "$new_port" /cache/v1m)
revalidated=$(rate "$new_port" /cache/v1m "If-None-Match: $tag")
echo
echo "| 1 MB value | req/s | transfer/s |"
echo "|---|---|---|"
echo "| full GET (200) | ${full% *} | ${full#* } |"
echo "| revalidation (304) | ${revalidated% *} | ${revalidated#* } |"
