#!/usr/bin/env bash
# Sets up, builds (release) and serves redis-gateway on a fresh Debian 12 machine.
# Without REDIS_URL it starts a local redis-server on 127.0.0.1:6379 (unless one answers there).
# Extra arguments go to redis-gateway, e.g. `bash scripts/serve.sh --port 9090`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh

if [ -z "${REDIS_URL:-}" ]; then
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "serve: using the redis-server already answering on 127.0.0.1:6379"
  else
    mkdir -p .run
    redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --dir "$PWD/.run" \
      --daemonize yes --pidfile "$PWD/.run/redis.pid" --logfile "$PWD/.run/redis.log"
    for _ in $(seq 100); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.05; done
    echo "serve: started redis-server on 127.0.0.1:6379 (pid $(cat .run/redis.pid); stop it with: kill \$(cat .run/redis.pid))"
  fi
  export REDIS_URL=redis://127.0.0.1:6379/0
fi

swift build -c release --product redis-gateway
exec .build/release/redis-gateway "$@"
