#!/usr/bin/env bash
# What a Redis Cluster costs per request: one release gateway in front of one redis-server and
# another in front of a 3-primary cluster (no replicas: on 2 cores they would only take CPU from
# the primaries), measured in the same run with wrk: GET and SET of random keys (spread over every
# slot) and /pipeline batches of 100 random keys (50 SET, 50 GET). Each row gives requests/s,
# p50/p99, and the CPU the gateway and Redis (all nodes together) spent per request.
#
# Usage: [VARIANT="GATEWAY_X=1 ..."] bash Benchmarks/cluster.sh [seconds per wrk run, default 10]
# VARIANT adds a third gateway in front of the cluster with those settings (an A/B in one run).
# Loopback only, bounded in time; stops everything it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
duration="${1:-10}"
bash scripts/setup.sh wrk
source scripts/loopback.sh
swift build -c release --product redis-gateway >/dev/null
export GATEWAY_BINARY=.build/release/redis-gateway

start_redis
single_redis_pid="${pids[-1]}"
start_gateway
single_port="$gateway_port"
single_pid="${pids[-1]}"

# Three cluster nodes, each with its own free bus port.
node_ports=()
node_pids=()
for i in 1 2 3; do
  port="$(free_port)"
  mkdir -p "$work/node-$port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work/node-$port" --daemonize no \
    --loglevel warning --cluster-enabled yes --cluster-node-timeout 1000 --cluster-port "$(free_port)" \
    >"$work/node-$port.log" 2>&1 &
  pids+=("$!")
  node_pids+=("$!")
  node_ports+=("$port")
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
done
redis-cli --cluster create $(printf '127.0.0.1:%s ' "${node_ports[@]}") --cluster-replicas 0 --cluster-yes >/dev/null
for _ in $(seq 300); do
  ok=1
  for port in "${node_ports[@]}"; do redis-cli -p "$port" cluster info | grep -q cluster_state:ok || ok=0; done
  [ "$ok" = 1 ] && break
  sleep 0.1
done

start_cluster_gateway() {
  gateway_port="$(free_port)"
  env "$@" REDIS_URL="redis+cluster://127.0.0.1:${node_ports[0]},127.0.0.1:${node_ports[1]}/" GATEWAY_PORT="$gateway_port" \
    GATEWAY_LOG_LEVEL=warning GATEWAY_DATABASE_PATH="$work/users-$gateway_port.sqlite" "$GATEWAY_BINARY" \
    >"$work/gateway-$gateway_port.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$gateway_port/readyz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "the cluster gateway did not become ready"; cat "$work/gateway-$gateway_port.log"; return 1
}
start_cluster_gateway
cluster_port="$gateway_port"
cluster_pid="${pids[-1]}"
variant_port=""
if [ -n "${VARIANT:-}" ]; then
  # shellcheck disable=SC2086
  start_cluster_gateway $VARIANT
  variant_port="$gateway_port"
  variant_pid="${pids[-1]}"
fi

value="$(head -c 100 /dev/zero | tr '\0' 'x')"
cat >"$work/get.lua" <<LUA
request = function() return wrk.format(nil, "/get/bench:k:" .. math.random(1, 100000)) end
LUA
cat >"$work/set.lua" <<LUA
request = function() return wrk.format("POST", "/set/bench:k:" .. math.random(1, 100000) .. "/$value") end
LUA
cat >"$work/pipeline.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local parts = {}
  for i = 1, 50 do
    local a, b = math.random(1, 100000), math.random(1, 100000)
    parts[#parts + 1] = '["SET","bench:k:' .. a .. '","$value"],["GET","bench:k:' .. b .. '"]'
  end
  return wrk.format(nil, "/pipeline", nil, "[" .. table.concat(parts, ",") .. "]")
end
LUA

ticks() { local total=0; for pid in "$@"; do total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") )); done; echo "$total"; }
hz="$(getconf CLK_TCK)"

# run_wrk LABEL GATEWAY_PID "REDIS_PIDS" CONNECTIONS wrk-arguments...
run_wrk() {
  local label="$1" server="$2" redis_pids="$3" connections="$4"; shift 4
  local out before_server before_redis after_server after_redis
  # shellcheck disable=SC2086
  before_server="$(ticks "$server")"; before_redis="$(ticks $redis_pids)"
  out="$(wrk -t1 -c"$connections" -d"${duration}s" --latency "$@")"
  # shellcheck disable=SC2086
  after_server="$(ticks "$server")"; after_redis="$(ticks $redis_pids)"
  awk -v l="$label" -v r="$(awk '/Requests\/sec/ {print $2}' <<<"$out")" -v a="$(awk '$1=="50%" {print $2}' <<<"$out")" \
    -v b="$(awk '$1=="99%" {print $2}' <<<"$out")" -v n="$(awk '/requests in/ {print $1}' <<<"$out")" -v hz="$hz" \
    -v s=$(( after_server - before_server )) -v d=$(( after_redis - before_redis )) \
    -v e="$(awk '/Non-2xx/ {print "non-2xx: " $5}' <<<"$out")" \
    'BEGIN { printf "%-38s %11s %9s %9s %9.1f %9.1f %s\n", l, r, a, b, s * 1e6 / hz / n, d * 1e6 / hz / n, e }'
}

s="http://127.0.0.1:$single_port"
c="http://127.0.0.1:$cluster_port"
v="http://127.0.0.1:$variant_port"
printf '%-38s %11s %9s %9s %9s %9s\n' "benchmark" "requests/s" "p50" "p99" "gateway µs" "Redis µs"
for workload in get set pipeline; do
  run_wrk "one Redis  $workload c50" "$single_pid" "$single_redis_pid" 50 -s "$work/$workload.lua" "$s"
  run_wrk "cluster    $workload c50" "$cluster_pid" "${node_pids[*]}" 50 -s "$work/$workload.lua" "$c"
  [ -n "$variant_port" ] && run_wrk "variant    $workload c50" "$variant_pid" "${node_pids[*]}" 50 -s "$work/$workload.lua" "$v"
done
echo "keys per primary: $(for port in "${node_ports[@]}"; do redis-cli -p "$port" dbsize; done | paste -sd' ')"
echo "machine: $(nproc) cores; wrk, both gateways and every redis-server share them"
