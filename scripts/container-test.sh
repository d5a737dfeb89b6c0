#!/usr/bin/env bash
# The image, built and run (see scripts/container-env.sh for how containers run on these machines).
# Builds the Dockerfile with local stand-ins for its base images, then, against a redis-server on
# loopback started here, runs the gateway container (host network, so loopback stays loopback)
# and checks: /healthz, /readyz, a PUT then GET, /pool/stats; the process runs as uid 10001; its
# own HEALTHCHECK passes; `podman stop` (SIGTERM) gives exit 0 within the grace period. Reports the
# image size (target ≤ 150 MB). Then the same image with TLS on both sides: HTTPS for callers and
# rediss:// to a TLS-only redis-server, its HEALTHCHECK speaking HTTPS. Stops what it started, by ID and PID; the image is kept for
# scripts/compose-test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/container-env.sh
image="${GATEWAY_IMAGE:-localhost/redis-gateway:test}"

echo "== stand-ins for the base images"
ensure_base_images

echo "== buildah bud (the Dockerfile, with the stand-ins)"
build_log="$(mktemp)"
start=$(date +%s)
build_gateway_image "$image" >"$build_log" 2>&1 || { tail -40 "$build_log"; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
size_mb=$(( $(podman image inspect --format '{{.Size}}' "$image") / 1000000 ))
echo "image size: $size_mb MB (target ≤ 150 MB)"

container=""
cleanup() {
  if [ -n "$container" ]; then podman rm -f "$container" >/dev/null 2>&1 || true; fi
  rm -f "$build_log"
  stop_started
}
trap cleanup EXIT
start_redis
gateway_port="$(free_port)"

echo "== podman run"
container="$(podman run -d --network host --ulimit nofile=1024:1024 --ulimit nproc=1000:1000 \
  -e REDIS_URL="redis://127.0.0.1:$redis_port/0" -e GATEWAY_HOST=127.0.0.1 -e GATEWAY_PORT="$gateway_port" \
  -e GATEWAY_SHUTDOWN_GRACE_MS=5000 "$image" 2>"$work/podman-run.log")"
url="http://127.0.0.1:$gateway_port"
for _ in $(seq 200); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
fail() { echo "FAILED: $*"; podman logs "$container" 2>&1 | tail -20; exit 1; }
curl -fs "$url/healthz" | grep -q '"status":"ok"' || fail "/healthz"
curl -fs "$url/readyz" | grep -q '"status":"ready"' || fail "/readyz: $(curl -s "$url/readyz")"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary hello "$url/cache/container-probe")" = 201 ] || fail "PUT"
curl -fs "$url/cache/container-probe" | grep -q '"value":"hello"' || fail "GET after PUT"
curl -fs "$url/pool/stats" | grep -q '"state":"up"' || fail "/pool/stats"
echo "healthz, readyz, PUT then GET, pool/stats: ok"
pid="$(podman inspect --format '{{.State.Pid}}' "$container")"
uid="$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")"
[ "$uid" = 10001 ] || fail "the process runs as uid $uid, not 10001"
echo "runs as uid $uid"
podman healthcheck run "$container" 2>>"$work/podman-run.log" || fail "HEALTHCHECK"
echo "HEALTHCHECK: healthy"
start_ns=$(date +%s%N)
podman stop -t 10 "$container" >/dev/null 2>>"$work/podman-run.log"
stop_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
exit_code="$(podman inspect --format '{{.State.ExitCode}}' "$container")"
[ "$exit_code" = 0 ] || fail "exit code $exit_code after SIGTERM"
[ "$stop_ms" -lt 10000 ] || fail "stopping took $stop_ms ms (past the grace period)"
podman logs "$container" 2>&1 | grep -q "stopped" || fail "no drain in the log"
echo "podman stop (SIGTERM): exit 0 in $stop_ms ms, drained"

echo "== podman run with TLS on both sides (HTTPS, rediss://)"
start_tls_redis
tls_port="$(free_port)"
podman rm -f "$container" >/dev/null 2>&1 || true
container="$(podman run -d --network host -v "$work/tls:/tls:ro" \
  -e REDIS_URL="rediss://127.0.0.1:$tls_redis_port/0" -e GATEWAY_REDIS_TLS_CA_FILE=/tls/ca.crt \
  -e GATEWAY_TLS_CERT_FILE=/tls/server.crt -e GATEWAY_TLS_KEY_FILE=/tls/server.key \
  -e GATEWAY_HOST=127.0.0.1 -e GATEWAY_PORT="$tls_port" "$image" 2>"$work/podman-run.log")"
secure=(--cacert "$work/tls/ca.crt")
url="https://localhost:$tls_port"
for _ in $(seq 200); do curl -fs "${secure[@]}" "$url/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
[ "$(curl -s "${secure[@]}" -o /dev/null -w '%{http_code}' -X PUT --data-binary tls "$url/cache/container-tls")" = 201 ] || fail "PUT over HTTPS"
curl -fs "${secure[@]}" "$url/cache/container-tls" | grep -q '"value":"tls"' || fail "GET over HTTPS"
redis-cli --tls --cacert "$work/tls/ca.crt" -p "$tls_redis_port" get container-tls | grep -q '^tls$' || fail "the value is not in the TLS Redis"
podman healthcheck run "$container" 2>>"$work/podman-run.log" || fail "HEALTHCHECK over HTTPS"
echo "HTTPS PUT then GET through rediss://, HEALTHCHECK over HTTPS: ok"
[ "$size_mb" -le 150 ] || echo "NOTE: the image is $size_mb MB, above the 150 MB target"
echo "== container checks passed"
