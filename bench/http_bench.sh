#!/usr/bin/env bash
# HTTP benchmarks of `da serve`, each against its reference measured in the same run on this
# machine (issue "Sync engine, scheduler, ... health and metrics", Benchmarks):
#   1. GET /api/health and GET /api/catalog/tables, wrk -c64 -t2 (keep-alive), versus nginx serving
#      a small static file (target >= 0.6x) and versus the FastAPI/uvicorn equivalent in
#      bench/fastapi_app.py (target >= 15x);
#   2. Parquet download throughput (flights, 3M rows) versus nginx sendfile of the same file
#      (target >= 0.8x);
#   3. POST /api/query of an aggregate over flights versus the same SQL on an in-process DuckDB
#      (bench/query_bench.cpp; target <= 1.1x).
#   4. With DA_BEFORE=<an older da binary>: health, catalog, download and the flights query of
#      that binary and of this build, interleaved (before, after, before, after; best of 2), with
#      the after/before ratios (issue 14's engine redesign: target >= 0.9x on every figure).
# Usage: bench/http_bench.sh [BUILD_DIR]   (BENCH_DURATION=10 BENCH_CONNECTIONS=64 by default;
#        DA_BEFORE=/path/to/old/da for the before/after comparison)
# Everything listens on free loopback ports; every process started here is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
QUERY_BENCH=$BUILD_DIR/bench/query_bench
DATASETS=$ROOT/.deps/vega-datasets/package/data
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PY=/usr/bin/python3   # Debian's python, where python3-fastapi and python3-uvicorn live
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

"$ROOT/bench/setup.sh"
for f in "$DA" "$QUERY_BENCH" "$DATASETS/flights-3m.parquet"; do
  [ -e "$f" ] || { echo "http_bench: missing $f (run make bench)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-bench.XXXXXX")
PIDS=()
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_pids_and_remove_work EXIT

# wait_for URL [HEADER]: polls until the URL answers 2xx (60 s).
wait_for() {
  local url=$1 header=${2:-X-Bench: 1}
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null -H "$header" "$url"; then return 0; fi
    sleep 0.1
  done
  echo "http_bench: $url did not come up" >&2
  return 1
}

# run_wrk NAME CONNECTIONS URL [HEADER]: runs wrk, prints requests/s; keeps the report.
run_wrk() {
  local name=$1 conns=$2 url=$3 header=${4:-X-Bench: 1}
  wrk -t2 -c"$conns" -d"${DURATION}s" -H "$header" "$url" >"$WORK/wrk-$name.txt" 2>&1
  if grep -q "Non-2xx" "$WORK/wrk-$name.txt"; then
    echo "http_bench: $name got non-2xx answers:" >&2
    cat "$WORK/wrk-$name.txt" >&2
    exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-$name.txt"
}

# --------------------------------------------------------------------------- da serve + data
# start_da NAME BINARY: serves a fresh data dir with flights and airports synced; sets
# <NAME>_URL and <NAME>_TOKEN.
start_da() {
  local name=$1 binary=$2 port dir
  port=$(free_port)
  dir=$WORK/$name
  mkdir -p "$dir/data"
  DA_SCHEDULER_TICK_SEC=0 DA_LOG_LEVEL=warn \
    "$binary" serve --host 127.0.0.1 --port "$port" --data-dir "$dir/data" >"$dir/da.log" 2>&1 &
  PIDS+=($!)
  local url=http://127.0.0.1:$port
  wait_for "$url/api/health"
  local token auth
  token=$(tr -d '\n' <"$dir/data/state/bootstrap-token")
  auth="Authorization: Bearer $token"
  for spec in "flights:flights-3m.parquet" "airports:airports.csv"; do
    local table=${spec%%:*}
    local file=$DATASETS/${spec#*:}
    curl -sSf -o /dev/null -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"name\":\"$table\",\"source_type\":\"files\",\"source_table\":\"$file\"}" \
      "$url/api/admin/register-table"
  done
  curl -sSf -o /dev/null -H "$auth" -X POST -d "" "$url/api/sync/trigger"
  for _ in $(seq 1 3000); do
    curl -sf "$url/api/sync/status" | grep -q '"locked":false' && break
    sleep 0.1
  done
  local run_status
  run_status=$(curl -sf -H "$auth" "$url/api/sync/runs/latest" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$run_status" = ok ] || { echo "http_bench: $name sync ended $run_status" >&2; cat "$dir/da.log" >&2; exit 1; }
  printf -v "${name}_URL" '%s' "$url"
  printf -v "${name}_TOKEN" '%s' "$token"
}

start_da DA "$DA"
TOKEN=$DA_TOKEN
AUTH="Authorization: Bearer $TOKEN"
FLIGHTS_PARQUET=$WORK/DA/data/extracts/files/data/flights.parquet
FLIGHTS_BYTES=$(stat -c %s "$FLIGHTS_PARQUET")

# ------------------------------------------------------------------------------------ nginx
NGINX_PORT=$(free_port)
mkdir -p "$WORK/www" "$WORK/nginx-tmp"
curl -sf "$DA_URL/api/health" >"$WORK/www/health.json"   # the same bytes da answers
cp "$FLIGHTS_PARQUET" "$WORK/www/flights.parquet"
# As root, nginx's workers would switch to `nobody`, who cannot read the private $WORK.
NGINX_USER=""
if [ "$(id -u)" -eq 0 ]; then NGINX_USER="user root;"; fi
cat >"$WORK/nginx.conf" <<EOF
daemon off;
$NGINX_USER
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  types { application/json json; application/octet-stream parquet; }
  client_body_temp_path $WORK/nginx-tmp/body;
  proxy_temp_path $WORK/nginx-tmp/proxy;
  fastcgi_temp_path $WORK/nginx-tmp/fastcgi;
  uwsgi_temp_path $WORK/nginx-tmp/uwsgi;
  scgi_temp_path $WORK/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WORK/www;
  }
}
EOF
"$NGINX" -p "$WORK" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" &
PIDS+=($!)
NGINX_URL=http://127.0.0.1:$NGINX_PORT
wait_for "$NGINX_URL/health.json"

# ---------------------------------------------------------------------------- FastAPI/uvicorn
curl -sf -H "$AUTH" "$DA_URL/api/catalog/tables" |
  TOKEN="$TOKEN" "$PY" -c 'import json,os,sys; d=json.load(sys.stdin); json.dump({"token": os.environ["TOKEN"], "tables": d["tables"]}, sys.stdout)' \
  >"$WORK/seed.json"
UV_PORT=$(free_port)
UV_STATIC_PORT=$(free_port)
(cd "$ROOT/bench" && BENCH_SEED=$WORK/seed.json exec "$PY" -m uvicorn fastapi_app:app \
  --host 127.0.0.1 --port "$UV_PORT" --log-level warning --no-access-log) >"$WORK/uvicorn.log" 2>&1 &
PIDS+=($!)
(cd "$ROOT/bench" && BENCH_SEED=$WORK/seed.json BENCH_FASTAPI_MODE=static exec "$PY" -m uvicorn \
  fastapi_app:app --host 127.0.0.1 --port "$UV_STATIC_PORT" --log-level warning --no-access-log) \
  >"$WORK/uvicorn-static.log" 2>&1 &
PIDS+=($!)
UV_URL=http://127.0.0.1:$UV_PORT
UV_STATIC_URL=http://127.0.0.1:$UV_STATIC_PORT
wait_for "$UV_URL/api/health"
wait_for "$UV_STATIC_URL/api/health"

# Same answers before timing anything.
"$PY" - "$DA_URL" "$UV_URL" "$UV_STATIC_URL" "$TOKEN" <<'EOF'
import json, sys, urllib.request
da, uv, uvs, token = sys.argv[1:]
def get(url, auth=True):
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token} if auth else {})
    return json.load(urllib.request.urlopen(req))
for base in (uv, uvs):
    assert get(da + "/api/catalog/tables") == get(base + "/api/catalog/tables"), base
    assert set(get(da + "/api/health", False)) == set(get(base + "/api/health", False)), base
EOF

# ----------------------------------------------------------------------------------- measure
echo "measuring (${DURATION}s per run, wrk -t2 -c$CONNECTIONS) ..." >&2
DA_HEALTH=$(run_wrk da-health "$CONNECTIONS" "$DA_URL/api/health")
DA_CATALOG=$(run_wrk da-catalog "$CONNECTIONS" "$DA_URL/api/catalog/tables" "$AUTH")
NGINX_STATIC=$(run_wrk nginx-static "$CONNECTIONS" "$NGINX_URL/health.json")
UV_HEALTH=$(run_wrk uv-health "$CONNECTIONS" "$UV_URL/api/health")
UV_CATALOG=$(run_wrk uv-catalog "$CONNECTIONS" "$UV_URL/api/catalog/tables" "$AUTH")
UV_CATALOG_STATIC=$(run_wrk uv-catalog-static "$CONNECTIONS" "$UV_STATIC_URL/api/catalog/tables" "$AUTH")
DL_CONNECTIONS=${BENCH_DOWNLOAD_CONNECTIONS:-4}
DA_DL=$(run_wrk da-download "$DL_CONNECTIONS" "$DA_URL/api/data/flights/download" "$AUTH")
NGINX_DL=$(run_wrk nginx-download "$DL_CONNECTIONS" "$NGINX_URL/flights.parquet")
"$QUERY_BENCH" --url "$DA_URL" --token "$TOKEN" --parquet "$FLIGHTS_PARQUET" --view flights \
  >"$WORK/query.txt"
QUERY_INPROC=$(awk -F= '/^inproc_median_ms=/ {print $2}' "$WORK/query.txt")
QUERY_DA=$(awk -F= '/^da_median_ms=/ {print $2}' "$WORK/query.txt")
QUERY_SQL=$(sed -n 's/^sql=//p' "$WORK/query.txt")

# ------------------------------------------------------------------------- before / after
if [ -n "${DA_BEFORE:-}" ]; then
  [ -x "$DA_BEFORE" ] || { echo "http_bench: DA_BEFORE=$DA_BEFORE is not an executable" >&2; exit 1; }
  start_da BEFORE "$DA_BEFORE"
  BEFORE_AUTH="Authorization: Bearer $BEFORE_TOKEN"
  # measure_four NAME URL TOKEN: health, catalog (req/s), downloads (/s), query median (ms).
  measure_four() {
    local name=$1 url=$2 token=$3 health catalog dl query
    health=$(run_wrk "$name-health" "$CONNECTIONS" "$url/api/health")
    catalog=$(run_wrk "$name-catalog" "$CONNECTIONS" "$url/api/catalog/tables" "Authorization: Bearer $token")
    dl=$(run_wrk "$name-download" "${BENCH_DOWNLOAD_CONNECTIONS:-4}" "$url/api/data/flights/download" \
      "Authorization: Bearer $token")
    "$QUERY_BENCH" --url "$url" --token "$token" --parquet "$FLIGHTS_PARQUET" --view flights \
      >"$WORK/$name-query.txt"
    query=$(awk -F= '/^da_median_ms=/ {print $2}' "$WORK/$name-query.txt")
    echo "$health $catalog $dl $query"
  }
  echo "before/after: interleaved, best of 2 ..." >&2
  B1=$(measure_four before1 "$BEFORE_URL" "$BEFORE_TOKEN")
  A1=$(measure_four after1 "$DA_URL" "$TOKEN")
  B2=$(measure_four before2 "$BEFORE_URL" "$BEFORE_TOKEN")
  A2=$(measure_four after2 "$DA_URL" "$TOKEN")
  "$PY" - "$B1" "$A1" "$B2" "$A2" "$FLIGHTS_BYTES" "$DA_BEFORE" <<'EOF'
import sys
b1, a1, b2, a2 = ([float(x) for x in v.split()] for v in sys.argv[1:5])
size = int(sys.argv[5])
names = [("GET /api/health", "req/s", True, 1), ("GET /api/catalog/tables", "req/s", True, 1),
         ("Parquet download", "MB/s", True, size / 1e6), ("POST /api/query (median)", "ms", False, 1)]
print()
print(f"before = {sys.argv[6]}; after = this build; interleaved, best of 2")
hdr = f"{'benchmark':<28}{'before':>12}{'after':>12}  {'unit':<6}{'ratio':>8}  {'target':<8}"
print(hdr)
print("-" * len(hdr))
for i, (what, unit, higher, scale) in enumerate(names):
    pick = max if higher else min
    before = pick(b1[i], b2[i]) * scale
    after = pick(a1[i], a2[i]) * scale
    # A speed ratio: >= 1 means the new build is as fast or faster (latency inverted).
    ratio = after / before if higher else before / after
    print(f"{what:<28}{before:>12.1f}{after:>12.1f}  {unit:<6}{ratio:>7.2f}x  {'>= 0.9x':<8}{'met' if ratio >= 0.9 else 'MISSED':>7}")
print("ratio = after/before for throughput, before/after for the query's latency (>= 1: no slower)")
EOF
fi

# ------------------------------------------------------------------------------------ report
"$PY" - <<EOF
rows = [
  # (what, da value, reference name, reference value, unit, higher_is_better, target)
  ("GET /api/health", $DA_HEALTH, "nginx static file", $NGINX_STATIC, "req/s", True, 0.6),
  ("GET /api/health", $DA_HEALTH, "uvicorn /api/health", $UV_HEALTH, "req/s", True, 15),
  ("GET /api/catalog/tables", $DA_CATALOG, "nginx static file", $NGINX_STATIC, "req/s", True, 0.6),
  ("GET /api/catalog/tables", $DA_CATALOG, "uvicorn (same lookups)", $UV_CATALOG, "req/s", True, 15),
  ("GET /api/catalog/tables", $DA_CATALOG, "uvicorn (static list)", $UV_CATALOG_STATIC, "req/s", True, 15),
  ("Parquet download ($FLIGHTS_BYTES B)", $DA_DL * $FLIGHTS_BYTES / 1e6, "nginx sendfile", $NGINX_DL * $FLIGHTS_BYTES / 1e6, "MB/s", True, 0.8),
  ("POST /api/query (median)", $QUERY_DA, "in-process DuckDB", $QUERY_INPROC, "ms", False, 1.1),
]
print()
print("cores: $(nproc); wrk -t2 -c$CONNECTIONS -d${DURATION}s (downloads -c$DL_CONNECTIONS); query: $QUERY_SQL")
hdr = f"{'benchmark':<38}{'da':>12}  {'reference':<24}{'ref':>12}  {'unit':<6}{'ratio':>7}  {'target':<8}{'':<5}"
print(hdr)
print("-" * len(hdr))
for what, da, ref_name, ref, unit, higher, target in rows:
    ratio = da / ref if ref else float("inf")
    ok = ratio >= target if higher else ratio <= target
    tgt = (">= " if higher else "<= ") + f"{target:g}x"
    print(f"{what:<38}{da:>12.1f}  {ref_name:<24}{ref:>12.1f}  {unit:<6}{ratio:>7.2f}  {tgt:<8}{'met' if ok else 'MISSED':>5}")
EOF
