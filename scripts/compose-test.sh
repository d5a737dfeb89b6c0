#!/usr/bin/env bash
# deploy/compose.yaml brought up for real by Debian's podman-compose (see scripts/container-env.sh
# for how containers run here), with local stand-ins for the redis and prometheus images and the
# gateway image scripts/container-test.sh built (built here if missing). Checks that the gateway
# answers through its published port once Redis is healthy (readyz, a PUT then GET, the SQLite
# volume), and that Prometheus reaches the gateway by its service name (target up, a series
# present). Brings everything down (containers, network, volume) at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/container-env.sh
ensure_base_images
ensure_image localhost/redis:bookworm deploy/container/redis.Containerfile
ensure_image localhost/prometheus:bookworm deploy/container/prometheus.Containerfile
export GATEWAY_IMAGE="${GATEWAY_IMAGE:-localhost/redis-gateway:test}"
podman image exists "$GATEWAY_IMAGE" || build_gateway_image "$GATEWAY_IMAGE" >/dev/null
export REDIS_IMAGE=localhost/redis:bookworm PROMETHEUS_IMAGE=localhost/prometheus:bookworm
export GATEWAY_TOKENS=compose-test-token GATEWAY_REDIS_PASSWORD=compose-test-redis-password
GATEWAY_HOST_PORT="$(free_port)"; PROMETHEUS_HOST_PORT="$(free_port)"
export GATEWAY_HOST_PORT PROMETHEUS_HOST_PORT
project="rgcompose$$"
compose=(podman-compose -p "$project" -f deploy/compose.yaml)
log="$(mktemp)"
cleanup() {
  "${compose[@]}" down -v >>"$log" 2>&1 || true
  podman network rm "${project}_default" >/dev/null 2>&1 || true  # podman-compose 1.0.3 leaves it
  rm -f "$log"
  stop_started
}
trap cleanup EXIT

echo "== podman-compose up"
"${compose[@]}" up -d >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
fail() { echo "FAILED: $*"; tail -30 "$log"; podman ps -a --filter "label=io.podman.compose.project=$project"; exit 1; }
url="http://127.0.0.1:$GATEWAY_HOST_PORT"
ready=""
for _ in $(seq 300); do
  if curl -fs "$url/readyz" 2>/dev/null | grep -q '"status":"ready"'; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || fail "the gateway never became ready"
auth=(-H "Authorization: Bearer $GATEWAY_TOKENS")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/cache/compose-probe")" = 401 ] || fail "no token, no data"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" -X PUT --data-binary composed "$url/cache/compose-probe")" = 201 ] || fail "PUT"
curl -fs "${auth[@]}" "$url/cache/compose-probe" | grep -q '"value":"composed"' || fail "GET after PUT"
curl -fs "$url/pool/stats" | grep -q '"pool":"redis:6379/0"' || fail "the gateway is not on the redis service"
echo "gateway ready on the redis service; PUT then GET: ok"
# The gateway runs as the restricted Redis user: a script cannot call what the policy refuses.
flush="$(curl -s "${auth[@]}" -X POST --data '["EVAL","return redis.call('"'"'FLUSHALL'"'"')","0"]' "$url/")"
echo "$flush" | grep -q "can't run this command" || fail "EVAL calling FLUSHALL was not refused by Redis: $flush"
curl -fs "${auth[@]}" "$url/cache/compose-probe" | grep -q '"value":"composed"' || fail "the data did not survive"
"${compose[@]}" logs gateway 2>&1 | grep -q "policy refuses from a script" && fail "the gateway warns its Redis user is open"
echo "Redis user 'gateway': EVAL calling FLUSHALL refused by Redis, no warning from the start-up check"
podman volume exists "${project}_gateway-data" || fail "no volume ${project}_gateway-data"
echo "volume ${project}_gateway-data: present"

prometheus="http://127.0.0.1:$PROMETHEUS_HOST_PORT"
up=""
for _ in $(seq 150); do
  result="$(curl -fsG "$prometheus/api/v1/query" --data-urlencode 'query=up{job="redis-gateway"}' 2>/dev/null || true)"
  if echo "$result" | grep -q '"value":\[[0-9.]*,"1"\]'; then up=1; break; fi
  sleep 0.2
done
[ -n "$up" ] || fail "Prometheus does not see the gateway up: $result"
curl -fsG "$prometheus/api/v1/query" --data-urlencode 'query=db_client_connection_max' | grep -q '"db_client_connection_pool_name":"redis:6379/0"' \
  || fail "no db_client_connection_max series"
echo "Prometheus scrapes gateway:8080 (up = 1, db_client_connection_max present)"
echo "== compose checks passed"
