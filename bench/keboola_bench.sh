#!/usr/bin/env bash
# Keboola benchmark: sliced gzip CSV exports of flights-3m (3M rows) through the Storage API
# emulator (tests/emulators/keboola, HTTPS on loopback), trigger to queryable, with 1, 4 and 8
# tables at once: `da extract keboola` with table_concurrency N over N registry records of the
# same Keboola table = N × (export-async → job polls → file detail → manifest → slices, 4 at
# once) → DuckDB COPY to Parquet, conversions admitted one at a time within the extraction's
# memory limit (kit/memory_gate.h).
# The floor, measured in the same run: the same N tables one after another as curl fetching the
# slices (4 at once) plus one DuckDB COPY of them to Parquet (bench/copy_ref): no API round
# trips, no typing, no concurrency.
# The emulator's own export is warmed up first (Keboola caches identical exports too).
# Wall-clock seconds and peak RSS from /usr/bin/time, best of BENCH_RUNS (3) each; BENCH_TABLES
# ("1 4 8") picks the table counts.
# Usage: bench/keboola_bench.sh [BUILD_DIR]   (needs da, keboola_emulator and copy_ref built)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
EMU=$BUILD_DIR/tests/emulators/keboola/keboola_emulator
COPY_REF=$BUILD_DIR/bench/copy_ref
DATA=$ROOT/.deps/vega-datasets/package/data
RUNS=${BENCH_RUNS:-3}
ROWS=3000000
TIME=/usr/bin/time

"$ROOT/bench/setup.sh"
for f in "$DA" "$EMU" "$COPY_REF" "$TIME"; do
  [ -e "$f" ] || { echo "keboola_bench: missing $f (run make bench)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-keboola-bench.XXXXXX")
EMU_PID=""
cleanup() {
  if [ -n "$EMU_PID" ]; then kill "$EMU_PID" 2>/dev/null; wait "$EMU_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

# Emulator: slices of ~16 MB (uncompressed CSV) like a Snowflake unload.
"$EMU" --data-dir "$DATA" --work-dir "$WORK/emu" --polls 1 --slice-bytes 16000000 >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
for _ in $(seq 1 600); do
  [ -s "$WORK/emu.out" ] && break
  sleep 0.2
done
[ -s "$WORK/emu.out" ] || { echo "keboola_bench: the emulator did not start" >&2; cat "$WORK/emu.err" >&2; exit 1; }
PORT=$(grep -o '"port":[0-9]*' "$WORK/emu.out" | cut -d: -f2)
TOKEN=$(grep -o '"token":"[^"]*"' "$WORK/emu.out" | cut -d'"' -f4)
CA=$WORK/emu/ca.pem
URL=https://127.0.0.1:$PORT
export KEBOOLA_STACK_URL=$URL KEBOOLA_STORAGE_TOKEN=$TOKEN DA_CA_FILE=$CA

cat >"$WORK/registry.json" <<EOF
{"tables": [{"id": "in.c-flights.flights", "name": "flights", "source_type": "keboola",
             "bucket": "in.c-flights", "source_table": "in.c-flights.flights"}]}
EOF
cat >"$WORK/instance.yaml" <<EOF
sources:
  keboola:
    poll_initial_ms: 100
    poll_max_ms: 1000
EOF

# Warm-up: the emulator unloads the table once (later identical exports are cache hits).
DA_LOG_LEVEL=warn "$DA" extract keboola --data-dir "$WORK/warm" --registry-json "$WORK/registry.json" \
  --config "$WORK/instance.yaml" >/dev/null

# The slices of that export, for the floor.
C="curl -sS --cacert $CA -H X-StorageApi-Token:$TOKEN"
FILE_ID=$(ls -t "$WORK/emu/files" | head -1)
MANIFEST_URL=$($C "$URL/v2/storage/files/$FILE_ID?federationToken=1" | grep -o '"url":"[^"]*"' | cut -d'"' -f4)
$C "$MANIFEST_URL" | sed 's#\\/#/#g' | grep -o 'https://[^"]*' >"$WORK/slices.txt"
NSLICES=$(wc -l <"$WORK/slices.txt")

floor() {
  rm -rf "$WORK/floor" && mkdir -p "$WORK/floor"
  local i=0
  while read -r u; do
    i=$((i + 1))
    printf '%s\n%s\n' "$u" "$WORK/floor/s$i.csv.gz"
  done <"$WORK/slices.txt" | xargs -n 2 -P 4 sh -c 'curl -sS --cacert "$0" -o "$2" "$1"' "$CA"
  "$COPY_REF" to-parquet "$WORK/floor/*.csv.gz" "$WORK/floor/out.parquet"
}
export -f floor
export WORK CA COPY_REF

BENCH_NAME=keboola_bench
CLEAN=()
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

# registry.json with N records of the same Keboola table (ids flights_1..N).
registry() {
  local n=$1 i sep=""
  printf '{"tables": ['
  for i in $(seq 1 "$n"); do
    printf '%s{"id": "flights_%d", "name": "flights_%d", "source_type": "keboola", "bucket": "in.c-flights", "source_table": "in.c-flights.flights"}' "$sep" "$i" "$i"
    sep=", "
  done
  printf ']}\n'
}
floor_n() {
  local n=$1 i
  for i in $(seq 1 "$n"); do floor; done
}
export -f floor_n

echo "keboola benchmark: flights-3m, sliced gzip CSV ($NSLICES slices), N tables at once, best of $RUNS"
echo "  extraction memory limit: da's default (a quarter of RAM); DuckDB threads: all cores"
for n in ${BENCH_TABLES:-1 4 8}; do
  registry "$n" >"$WORK/registry-$n.json"
  printf 'sources:\n  keboola:\n    poll_initial_ms: 100\n    poll_max_ms: 1000\n    table_concurrency: %d\n' "$n" \
    >"$WORK/instance-$n.yaml"
  read -r floor_wall floor_kb < <(measure "floor$n" bash -c "floor_n $n")
  read -r da_wall da_kb < <(measure "extract$n" env DA_LOG_LEVEL=warn \
    "$DA" extract keboola --data-dir "$WORK/data" --registry-json "$WORK/registry-$n.json" \
    --config "$WORK/instance-$n.yaml")
  ok=$(grep -o '"status":"ok"' "$WORK/out-extract$n-1" | wc -l)
  rows=$(grep -o '"rows":[0-9]*' "$WORK/out-extract$n-1" | head -1 | cut -d: -f2)
  if [ "$ok" != "$n" ] || [ "$rows" != "$ROWS" ]; then
    echo "keboola_bench: da extract of $n tables: $ok ok, first with ${rows:-no} rows (expected $n ok, $ROWS rows)" >&2
    exit 1
  fi
  echo "  $n table(s):"
  printf '    %-48s %8s s %10s KB peak RSS\n' "floor: one after another, curl + DuckDB COPY" "$floor_wall" "$floor_kb"
  printf '    %-48s %8s s %10s KB peak RSS\n' "da extract keboola, $n at once" "$da_wall" "$da_kb"
  echo "    da / floor: $(awk -v a="$da_wall" -v b="$floor_wall" 'BEGIN {printf "%.2f", a / b}')x wall, $(awk -v a="$da_kb" -v b="$floor_kb" 'BEGIN {printf "%.2f", a / b}')x peak RSS (target <= 1.2x)"
done
