#!/usr/bin/env bash
# The server under abuse (issue 13 item 13): while 32 clients run heavy queries and 32 clients
# read Parquet downloads slowly, GET /api/health must still answer within 100 ms at p99.
# Queries run on their own bounded pool (Execution::kQuery, DA_QUERY_CONCURRENCY threads; 503
# when its queue is full), password hashing on the worker pool, downloads are asynchronous
# writes that hold no thread while a client is slow, and /api/health runs on the io threads.
# Prints the health latency percentiles (a probe every 20 ms over BENCH_DURATION seconds), and
# what the abusers got (query answers by status, download bytes read). Not a timed test.
# Usage: bench/abuse_bench.sh [BUILD_DIR]   (BENCH_DURATION=20, BENCH_QUERY_CLIENTS=32,
#        BENCH_SLOW_READERS=32 by default)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
DATASETS=$ROOT/.deps/vega-datasets/package/data
DURATION=${BENCH_DURATION:-20}
QUERY_CLIENTS=${BENCH_QUERY_CLIENTS:-32}
SLOW_READERS=${BENCH_SLOW_READERS:-32}
PY=/usr/bin/python3

for f in "$DA" "$DATASETS/flights-3m.parquet"; do
  [ -e "$f" ] || { echo "abuse_bench: missing $f (build da first)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-abuse.XXXXXX")
PIDS=()
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_pids_and_remove_work EXIT

PORT=$(free_port)
URL=http://127.0.0.1:$PORT
mkdir -p "$WORK/data"
DA_SCHEDULER_TICK_SEC=0 DA_LOG_LEVEL=warn \
  "$DA" serve --host 127.0.0.1 --port "$PORT" --data-dir "$WORK/data" >"$WORK/da.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 600); do curl -sf -o /dev/null "$URL/api/health" && break; sleep 0.1; done
TOKEN=$(tr -d '\n' <"$WORK/data/state/bootstrap-token")
AUTH="Authorization: Bearer $TOKEN"
curl -sSf -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"name\":\"flights\",\"source_type\":\"files\",\"source_table\":\"$DATASETS/flights-3m.parquet\"}" \
  "$URL/api/admin/register-table"
curl -sSf -o /dev/null -H "$AUTH" -X POST -d "" "$URL/api/sync/trigger"
for _ in $(seq 1 3000); do
  curl -sf "$URL/api/sync/status" | grep -q '"locked":false' && break
  sleep 0.1
done
curl -sSf -o /dev/null -H "$AUTH" "$URL/api/data/flights/download" ||
  { echo "abuse_bench: flights was not synced" >&2; cat "$WORK/da.log" >&2; exit 1; }

echo "abusing for ${DURATION}s: $QUERY_CLIENTS query clients, $SLOW_READERS slow download readers ..." >&2
"$PY" - "$PORT" "$TOKEN" "$DURATION" "$QUERY_CLIENTS" "$SLOW_READERS" <<'PYEOF'
import http.client, json, socket, sys, threading, time

port, token, duration = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
query_clients, slow_readers = int(sys.argv[4]), int(sys.argv[5])
stop = time.monotonic() + duration
# A join of 4000 x 4000 flights: a second or more of CPU per query on a small machine.
HEAVY = ("SELECT sum(a.delay * b.distance) AS s FROM (SELECT * FROM flights LIMIT 4000) a, "
         "(SELECT * FROM flights LIMIT 4000) b WHERE a.origin <> b.origin")
statuses, lock = {}, threading.Lock()
read_bytes = [0]

def heavy_queries():
    body = json.dumps({"sql": HEAVY, "limit": 10})
    while time.monotonic() < stop:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("POST", "/api/query", body, {"Authorization": "Bearer " + token,
                                                   "Content-Type": "application/json"})
            r = c.getresponse(); r.read(); status = r.status
            c.close()
        except Exception as e:
            status = type(e).__name__
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
        if status == 503:
            time.sleep(0.05)

def slow_reader():
    while time.monotonic() < stop:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(("GET /api/data/flights/download HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer %s\r\n\r\n" % token).encode())
        got = 0
        while time.monotonic() < stop:
            chunk = s.recv(4096)  # 4 KiB every 100 ms: a very slow client
            if not chunk:
                break
            got += len(chunk)
            time.sleep(0.1)
        with lock:
            read_bytes[0] += got
        s.close()

threads = [threading.Thread(target=heavy_queries) for _ in range(query_clients)]
threads += [threading.Thread(target=slow_reader) for _ in range(slow_readers)]
for t in threads:
    t.start()
time.sleep(1.0)  # let the pools fill
latencies = []
probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
while time.monotonic() < stop:
    t0 = time.monotonic()
    probe.request("GET", "/api/health")
    r = probe.getresponse(); r.read()
    latencies.append((time.monotonic() - t0) * 1000)
    assert r.status == 200, r.status
    time.sleep(0.02)
for t in threads:
    t.join()
latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(p / 100.0 * len(latencies)))]
print("health probes: %d; latency ms p50 %.1f  p90 %.1f  p99 %.1f  max %.1f"
      % (len(latencies), pct(50), pct(90), pct(99), latencies[-1]))
print("heavy query answers by status: %s" % json.dumps({str(k): v for k, v in sorted(statuses.items(), key=str)}))
print("slow readers read %.1f MB in total" % (read_bytes[0] / 1e6))
print("p99_ms=%.1f" % pct(99))
print("target: p99 <= 100 ms -> %s" % ("ok" if pct(99) <= 100 else "MISSED"))
PYEOF
