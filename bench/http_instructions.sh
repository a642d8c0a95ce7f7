#!/usr/bin/env bash
# Instructions per request of `da serve` under callgrind: GET /api/health and
# GET /api/catalog/tables, BENCH_REQUESTS (default 5000) keep-alive requests each on one
# connection, counted between two callgrind dumps (start-up and warm-up excluded). Unlike req/s
# this does not move with the machine's load, so it compares builds on a shared machine.
# Health's figure leaves out the state DB schema probe (StateDb::RecentSchemaVersion, run at
# most once a second of wall time, so its share depends on how slow callgrind ran).
#   With DA_BEFORE=<an older da binary>: the same for that binary, side by side.
# Usage: bench/http_instructions.sh [BUILD_DIR]   (needs valgrind: apt-get install valgrind)
# Everything listens on free loopback ports; every process started here is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
DATASETS=$ROOT/.deps/vega-datasets/package/data
N=${BENCH_REQUESTS:-5000}
PY=/usr/bin/python3

command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
  { echo "http_instructions: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
[ -x "$DA" ] || { echo "http_instructions: missing $DA" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-instr.XXXXXX")
PIDS=()
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_pids_and_remove_work EXIT

wait_up() {
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$1/api/health" && return 0; sleep 0.2; done
  echo "http_instructions: $1 did not come up" >&2
  return 1
}

# fire PORT PATH COUNT [HEADER]: COUNT GETs on one keep-alive connection; fails on a non-2xx.
fire() {
  "$PY" - "$@" <<'EOF'
import socket, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
extra = "".join(h + "\r\n" for h in sys.argv[4:])
req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()
s = socket.create_connection(("127.0.0.1", port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
for _ in range(n):
    s.sendall(req)
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 2"):
        sys.exit(f"{path}: {head.decode(errors='replace')}")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        rest += s.recv(65536)
    buf = rest[length:]
EOF
}

# measure NAME BINARY: prints "<health Ir/request> <catalog Ir/request>".
measure() {
  local name=$1 binary=$2 dir=$WORK/$1 port url token pid vpid
  mkdir -p "$dir/data"
  port=$(free_port)
  url=http://127.0.0.1:$port
  # A data dir with one synced table (the catalog then lists it), set up without callgrind.
  DA_SCHEDULER_TICK_SEC=0 DA_LOG_LEVEL=warn \
    "$binary" serve --host 127.0.0.1 --port "$port" --data-dir "$dir/data" >"$dir/setup.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_up "$url"
  token=$(tr -d '\n' <"$dir/data/state/bootstrap-token")
  curl -sSf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"name\":\"airports\",\"source_type\":\"files\",\"source_table\":\"$DATASETS/airports.csv\"}" \
    "$url/api/admin/register-table"
  curl -sSf -o /dev/null -H "Authorization: Bearer $token" -X POST -d "" "$url/api/sync/trigger"
  for _ in $(seq 1 600); do
    curl -sf "$url/api/sync/status" | grep -q '"locked":false' && break
    sleep 0.2
  done
  kill -TERM "$pid"
  wait "$pid" || true
  DA_SCHEDULER_TICK_SEC=0 DA_LOG_LEVEL=warn valgrind --tool=callgrind \
    --callgrind-out-file="$dir/cg.out" \
    "$binary" serve --host 127.0.0.1 --port "$port" --data-dir "$dir/data" >"$dir/serve.log" 2>&1 &
  vpid=$!
  PIDS+=("$vpid")
  wait_up "$url"
  fire "$port" /api/health 300
  fire "$port" /api/catalog/tables 300 "Authorization: Bearer $token"
  callgrind_control -z "$vpid" >/dev/null
  fire "$port" /api/health "$N"
  callgrind_control -d health "$vpid" >/dev/null
  callgrind_control -z "$vpid" >/dev/null
  fire "$port" /api/catalog/tables "$N" "Authorization: Bearer $token"
  callgrind_control -d catalog "$vpid" >/dev/null
  kill -TERM "$vpid"
  wait "$vpid" || true
  local out=()
  for part in 1 2; do
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$dir/cg.out.$part" \
      >"$dir/annotate.$part" 2>/dev/null
    out+=("$("$PY" - "$dir/annotate.$part" "$N" <<'EOF'
import re, sys
total = probe = 0
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)", line)
    if not m:
        continue
    v = int(m.group(1).replace(",", ""))
    if "PROGRAM TOTALS" in m.group(2):
        total = v
    elif "StateDb::RecentSchemaVersion(long) [" in m.group(2):
        probe = max(probe, v)
print(round((total - probe) / int(sys.argv[2])))
EOF
)")
  done
  echo "${out[*]}"
}

echo "measuring under callgrind ($N requests per endpoint) ..." >&2
AFTER=$(measure after "$DA")
BEFORE=""
if [ -n "${DA_BEFORE:-}" ]; then
  [ -x "$DA_BEFORE" ] || { echo "http_instructions: DA_BEFORE=$DA_BEFORE is not an executable" >&2; exit 1; }
  BEFORE=$(measure before "$DA_BEFORE")
fi

"$PY" - "$AFTER" "$BEFORE" "${DA_BEFORE:-}" <<'EOF'
import sys
after = [int(x) for x in sys.argv[1].split()]
before = [int(x) for x in sys.argv[2].split()] if sys.argv[2] else None
print()
print("instructions per request (callgrind; health without the schema probe)"
      + (f"; before = {sys.argv[3]}" if before else ""))
for i, what in enumerate(["GET /api/health", "GET /api/catalog/tables"]):
    line = f"{what:<28}{after[i]:>10}"
    if before:
        line += f"   before {before[i]:>10}   after/before {after[i] / before[i]:.2f}x"
    print(line)
EOF
