#!/usr/bin/env bash
# Monitoring, for real: the alert rules' unit tests (promtool test rules), then a live check.
# Starts redis-server, the gateway (the debug build unless GATEWAY_BINARY is set) and Debian's
# prometheus with deploy/prometheus/prometheus.yml (its target pointed at the gateway's loopback
# port) and alerts.yml; drives a few requests; waits for two scrapes; queries Prometheus' HTTP API
# for the connection gauge, a borrow-wait quantile and the loaded rules; and runs
# `promtool check metrics` on /metrics (it must report nothing). Loopback only; stops what it
# started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh prometheus curl python3 >/dev/null

echo "== promtool: rules, their unit tests, the config"
(cd deploy/prometheus && promtool check rules alerts.yml >/dev/null && promtool test rules alerts_test.yml && promtool check config prometheus.yml >/dev/null)

source scripts/loopback.sh
start_redis
start_gateway
prometheus_port="$(free_port)"

echo "== promtool check metrics on /metrics"
curl -fs -X PUT --data-binary v "http://127.0.0.1:$gateway_port/cache/prometheus-probe" >/dev/null
curl -fs "http://127.0.0.1:$gateway_port/metrics" >"$work/metrics.txt"
findings="$(promtool check metrics <"$work/metrics.txt" 2>&1 || true)"
if [ -n "$findings" ]; then echo "promtool check metrics reports:"; echo "$findings"; exit 1; fi
echo "no findings"

echo "== Prometheus scraping the gateway"
cp deploy/prometheus/alerts.yml "$work/"
sed "s/gateway:8080/127.0.0.1:$gateway_port/" deploy/prometheus/prometheus.yml >"$work/prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=("$!")
query() {  # query EXPR → the JSON result list
  curl -fsG "http://127.0.0.1:$prometheus_port/api/v1/query" --data-urlencode "query=$1" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["status"]=="success", d; print(json.dumps(d["data"]["result"]))'
}
# Requests between scrapes, so the histograms move; then wait for at least two scrapes.
scrapes=0
for _ in $(seq 120); do
  for i in $(seq 20); do curl -fs "http://127.0.0.1:$gateway_port/cache/prometheus-probe" >/dev/null; done
  scrapes="$(query 'sum(count_over_time(up{job="redis-gateway"}[5m]))' 2>/dev/null \
    | python3 -c 'import json,sys; r=json.load(sys.stdin); print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null || echo 0)"
  [ "$scrapes" -ge 2 ] && break
  sleep 0.5
done
[ "$scrapes" -ge 2 ] || { echo "Prometheus did not scrape twice"; cat "$work/prometheus.log"; exit 1; }
echo "$scrapes scrapes"
query 'up{job="redis-gateway"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r and r[0]["value"][1] == "1", r
print("up = 1")'
query 'db_client_connection_usage' | python3 -c '
import json, sys
r = json.load(sys.stdin)
states = sorted(s["metric"]["db_client_connection_state"] for s in r)
assert states == ["idle", "used"], r
assert all(s["metric"]["db_client_connection_pool_name"].endswith("/0") for s in r), r
print("db_client_connection_usage:", {s["metric"]["db_client_connection_state"]: s["value"][1] for s in r})'
query 'histogram_quantile(0.99, sum by (le) (rate(db_client_connection_wait_time_seconds_bucket[1m])))' | python3 -c '
import json, math, sys
r = json.load(sys.stdin)
assert r, "no quantile"
value = float(r[0]["value"][1])
assert not math.isnan(value) and 0 < value < 1, r
print(f"p99 borrow wait = {value * 1000:.3f} ms")'
curl -fs "http://127.0.0.1:$prometheus_port/api/v1/rules" | python3 -c '
import json, sys
rules = [rule["name"] for group in json.load(sys.stdin)["data"]["groups"] for rule in group["rules"]]
assert len(rules) == 6, rules
print("rules loaded:", ", ".join(rules))'
echo "== monitoring checks passed"
