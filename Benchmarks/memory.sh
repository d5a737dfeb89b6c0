#!/usr/bin/env bash
# Memory, one run, the gateway beside Webdis (WEBDIS_BIN) when given:
#   1. idle: RSS, PSS and private bytes (/proc/PID/smaps_rollup), threads, and the gateway's
#      resident bytes per mapping (its binary, each shared library, the heap, the stacks);
#   2. per idle keep-alive connection: 5,000 and 10,000 connections that each made one request
#      (Benchmarks/hold_connections.py), RSS and PSS before and with them open;
#   3. after load: GET, PUT and /pipeline (100 commands) at 50 and 200 connections (wrk), RSS right
#      after and 60 s after the load ends (target: within 2× idle).
#
# Usage: [GATEWAY_BIN=.build/release/redis-gateway] [WEBDIS_BIN=/path/to/webdis] [VARIANT="GATEWAY_X=1 ..."]
#        bash Benchmarks/memory.sh [seconds per wrk run, default 8]
# SECTIONS="1 2 3" (the default) picks the parts to run.
# VARIANT starts a second gateway with those settings beside the first, for an A/B in one run;
# VARIANT_BIN=/path/to/redis-gateway runs that second one from another build (the commit before).
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-8}"
bash scripts/setup.sh wrk
source scripts/loopback.sh
if [ -z "${GATEWAY_BIN:-}" ]; then
  swift build -c release --product redis-gateway >/dev/null
  GATEWAY_BIN=.build/release/redis-gateway
fi
start_redis
redis-cli -p "$redis_port" set bench value >/dev/null

# gateway NAME ENV...: starts the gateway, sets ${NAME}_port and ${NAME}_pid, waits for /healthz.
gateway() {
  local name="$1" port
  shift
  port="$(free_port)"
  env REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_PORT="$port" GATEWAY_LOG_LEVEL=warning \
    GATEWAY_CONNECTION_LIMIT=12000 GATEWAY_CONNECTION_TIMEOUT_S=600 GATEWAY_DATABASE_PATH="$work/users-$name.sqlite" "$@" \
    "${binary:-$GATEWAY_BIN}" >"$work/gateway-$name.log" 2>&1 &
  pids+=("$!")
  printf -v "${name}_port" '%s' "$port"
  printf -v "${name}_pid" '%s' "$!"
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "gateway $name did not start"; cat "$work/gateway-$name.log"; exit 1
}
servers=(gateway)
gateway gateway
if [ -n "${VARIANT:-}${VARIANT_BIN:-}" ]; then
  # shellcheck disable=SC2086
  binary="${VARIANT_BIN:-}" gateway variant ${VARIANT:-}
  servers+=(variant)
fi
if [ -n "${WEBDIS_BIN:-}" ]; then
  start_webdis "$WEBDIS_BIN"
  servers+=(webdis)
fi
path_of() { [ "$1" = webdis ] && echo /GET/bench || echo /cache/bench; }
pid_of() { local v="${1}_pid"; echo "${!v}"; }
port_of() { local v="${1}_port"; echo "${!v}"; }
# memory PID: "RSS PSS PRIVATE" in KiB.
memory() { awk '/^Rss:/ {r=$2} /^Pss:/ {p=$2} /^Private_(Clean|Dirty):/ {v+=$2} END {print r, p, v}' "/proc/$1/smaps_rollup"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
# warm NAME: a few requests of every kind the load below sends, so idle means "has served".
warm() { local port; port="$(port_of "$1")"; for _ in 1 2 3; do curl -fs "http://127.0.0.1:$port$(path_of "$1")" >/dev/null; done; }

sections="${SECTIONS:-1 2 3}"
echo "== 1. idle (after a few requests)"
for s in "${servers[@]}"; do warm "$s"; done
sleep 1
printf '%-8s %10s %10s %12s %8s\n' server RSS_KiB PSS_KiB private_KiB threads
for s in "${servers[@]}"; do
  read -r rss pss private < <(memory "$(pid_of "$s")")
  printf '%-8s %10s %10s %12s %8s\n' "$s" "$rss" "$pss" "$private" "$(threads "$(pid_of "$s")")"
  printf -v "idle_${s}" '%s' "$rss"
done
echo "-- the gateway's resident KiB by mapping (RSS / PSS / private), largest first"
awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anonymous]"); sub(/.*\//, "", name) }
     /^Rss:/ { rss[name] += $2 } /^Pss:/ { pss[name] += $2 } /^Private_(Clean|Dirty):/ { priv[name] += $2 }
     END { for (n in rss) if (rss[n] >= 256) printf "%8d %8d %8d  %s\n", rss[n], pss[n], priv[n], n }' \
  "/proc/$gateway_pid/smaps" | sort -rn

if [[ " $sections " == *" 2 "* ]]; then
echo "== 2. idle keep-alive connections (each made one request)"
printf '%-8s %12s %10s %10s %10s %10s %14s\n' server connections RSS_before RSS_with PSS_before PSS_with KiB_each_RSS
for count in 5000 10000; do
  for s in "${servers[@]}"; do
    pid="$(pid_of "$s")"
    read -r rss0 pss0 _ < <(memory "$pid")
    rm -f "$work/hold"
    python3 Benchmarks/hold_connections.py "$(port_of "$s")" "$count" "$work/hold" "$(path_of "$s")" 120 &
    holder=$!
    pids+=("$holder")
    for _ in $(seq 1200); do [ -f "$work/hold" ] && break; kill -0 "$holder" 2>/dev/null || break; sleep 0.05; done
    [ -f "$work/hold" ] || { echo "the holder could not open $count connections to $s"; exit 1; }
    sleep 1
    read -r rss1 pss1 _ < <(memory "$pid")
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    awk -v s="$s" -v c="$count" -v a="$rss0" -v b="$rss1" -v p="$pss0" -v q="$pss1" \
      'BEGIN { printf "%-8s %12d %10d %10d %10d %10d %14.1f\n", s, c, a, b, p, q, (b - a) / c }'
    # Let the server see every close before the next count.
    for _ in $(seq 200); do [ "$(ls "/proc/$pid/fd" | wc -l)" -lt 200 ] && break; sleep 0.05; done
  done
done

fi

if [[ " $sections " == *" 3 "* ]]; then
echo "== 3. after load (GET, PUT, /pipeline of 100 at c50 and c200, ${duration} s each)"
value="$(head -c 100 /dev/zero | tr '\0' 'x')"
cat >"$work/put.lua" <<LUA
wrk.method = "PUT"
wrk.body = "$value"
request = function() return wrk.format(nil, "/cache/bench:put:" .. math.random(1, 10000)) end
LUA
python3 - "$work/pipeline.lua" <<'PY'
import json, sys
body = json.dumps([["SET", f"bench:p:{i}", "x" * 100] if i % 2 else ["GET", f"bench:p:{i}"] for i in range(100)])
open(sys.argv[1], "w").write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\nwrk.headers["Content-Type"] = "application/json"\n')
PY
for s in "${servers[@]}"; do
  [ "$s" = webdis ] && continue
  port="$(port_of "$s")"
  for c in 50 200; do
    wrk -t1 -c"$c" -d"${duration}s" "http://127.0.0.1:$port/cache/bench" >/dev/null
    wrk -t1 -c"$c" -d"${duration}s" -s "$work/put.lua" "http://127.0.0.1:$port" >/dev/null
    wrk -t1 -c"$c" -d"${duration}s" -s "$work/pipeline.lua" "http://127.0.0.1:$port/pipeline" >/dev/null
  done
  printf -v "loaded_${s}" '%s' "$(memory "$(pid_of "$s")" | awk '{print $1}')"
done
sleep 60
printf '%-8s %10s %14s %16s %8s\n' server idle_RSS after_load_RSS RSS_60s_later ratio
for s in "${servers[@]}"; do
  [ "$s" = webdis ] && continue
  idle_var="idle_${s}"; loaded_var="loaded_${s}"
  later="$(memory "$(pid_of "$s")" | awk '{print $1}')"
  awk -v s="$s" -v i="${!idle_var}" -v l="${!loaded_var}" -v a="$later" \
    'BEGIN { printf "%-8s %10d %14d %16d %8.2f\n", s, i, l, a, a / i }'
done
fi
