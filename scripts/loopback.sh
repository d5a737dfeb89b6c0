# Sourced by the scripts that start their own servers on loopback: free ports, a scratch folder,
# and everything started stopped by PID on exit, said once.
#   start_redis           → $redis_port (a redis-server with no persistence, answering PING)
#   make_certificates     → $work/tls/{ca.crt,server.crt,server.key} (localhost and 127.0.0.1, openssl CLI)
#   start_tls_redis       → $tls_redis_port (a redis-server on a TLS port only, with those certificates)
#   start_gateway [ENV=…] → $gateway_port (the gateway against that Redis, answering /healthz);
#                           the binary is $GATEWAY_BINARY, or the debug build
#   start_webdis BINARY   → $webdis_port, $webdis_pid (Webdis, built outside this repository, against
#                           that Redis, answering /PING)
# Below the kernel's ephemeral range, where an outgoing connection cannot take the port first.
free_port() {
  python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    port = random.randrange(10000, max(11000, low))
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    print(port)
    break'
}
work="$(mktemp -d)"
pids=()
stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap stop_started EXIT

start_redis() {
  redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --daemonize no \
    --loglevel warning >"$work/redis.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "redis-server did not start"; cat "$work/redis.log"; return 1
}

make_certificates() {
  [ -f "$work/tls/server.crt" ] && return 0
  mkdir -p "$work/tls"
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  (cd "$work/tls" \
    && openssl req -x509 "${key[@]}" -keyout ca.key -out ca.crt -days 30 -subj "/CN=gateway test CA" \
    && openssl req "${key[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" \
    && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext \
    && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -extfile server.ext \
    && chmod 644 server.key) >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log"; return 1; }
}

start_tls_redis() {
  make_certificates
  tls_redis_port="$(free_port)"
  redis-server --port 0 --tls-port "$tls_redis_port" --tls-cert-file "$work/tls/server.crt" --tls-key-file "$work/tls/server.key" \
    --tls-ca-cert-file "$work/tls/ca.crt" --tls-auth-clients no --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --daemonize no --loglevel warning >"$work/redis-tls.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 100); do
    redis-cli --tls --cacert "$work/tls/ca.crt" -p "$tls_redis_port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "the TLS redis-server did not start"; cat "$work/redis-tls.log"; return 1
}

start_gateway() {
  gateway_port="$(free_port)"
  local binary="${GATEWAY_BINARY:-$(swift build --show-bin-path)/redis-gateway}"
  env "$@" REDIS_URL="redis://127.0.0.1:$redis_port/0" GATEWAY_PORT="$gateway_port" GATEWAY_LOG_LEVEL=warning \
    GATEWAY_DATABASE_PATH="$work/users-$gateway_port.sqlite" "$binary" >"$work/gateway-$gateway_port.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$gateway_port/healthz" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "the gateway did not start"; cat "$work/gateway-$gateway_port.log"; return 1
}

start_webdis() {
  webdis_port="$(free_port)"
  cat >"$work/webdis.json" <<JSON
{ "redis_host": "127.0.0.1", "redis_port": $redis_port, "redis_auth": null,
  "http_host": "127.0.0.1", "http_port": $webdis_port, "threads": 2, "pool_size": 20,
  "daemonize": false, "websockets": false, "database": 0, "verbosity": 0, "logfile": "$work/webdis.log" }
JSON
  "$1" "$work/webdis.json" >/dev/null 2>&1 &
  webdis_pid=$!
  pids+=("$webdis_pid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$webdis_port/PING" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "webdis did not start"; cat "$work/webdis.log"; return 1
}
