#!/usr/bin/env bash
# Extraction benchmark (issue 3, connector kit): `da extract` of a files-connector table over
# a ~100 MB CSV (flights-3m written as CSV) versus DuckDB converting the same CSV to Parquet
# with one COPY (bench/copy_ref.cpp, same engine settings: memory_limit 1GB, 2 threads,
# zstd). Wall-clock seconds and peak RSS from /usr/bin/time, best of BENCH_RUNS (3) each.
# Targets: wall ratio <= 1.15x, peak-memory ratio <= 1.25x.
# Usage: bench/extract_bench.sh [BUILD_DIR]   (needs the da and copy_ref targets built)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
COPY_REF=$BUILD_DIR/bench/copy_ref
FLIGHTS=$ROOT/.deps/vega-datasets/package/data/flights-3m.parquet
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time

"$ROOT/bench/setup.sh"
for f in "$DA" "$COPY_REF" "$FLIGHTS" "$TIME"; do
  [ -e "$f" ] || { echo "extract_bench: missing $f (run make bench)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-extract-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"   # no config/instance.yaml of the caller's directory is picked up

CSV=$WORK/flights.csv
"$COPY_REF" to-csv "$FLIGHTS" "$CSV" >/dev/null
CSV_MB=$(( $(stat -c %s "$CSV") / 1000000 ))
cat >"$WORK/registry.json" <<EOF
{"tables": [{"id": "flights", "name": "flights", "source_type": "files",
             "source_table": "$CSV"}]}
EOF

BENCH_NAME=extract_bench
CLEAN=("$WORK/ref.parquet")
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

read -r ref_wall ref_kb < <(measure copy "$COPY_REF" to-parquet "$CSV" "$WORK/ref.parquet" 1GB 2)
read -r da_wall da_kb < <(measure extract env DA_LOG_LEVEL=warn \
  "$DA" extract files --data-dir "$WORK/data" --registry-json "$WORK/registry.json" \
  --memory-limit 1GB --threads 2)

# The extraction must have produced the same rows as the reference.
rows=$(grep -o '"rows":[0-9]*' "$WORK/out-extract-1" | head -1 | cut -d: -f2)
ref_rows=$(tr -d '\n' <"$WORK/out-copy-1")
if [ "$rows" != "$ref_rows" ]; then
  echo "extract_bench: da extract wrote $rows rows, the reference $ref_rows" >&2
  exit 1
fi

wall_ratio=$(awk -v a="$da_wall" -v b="$ref_wall" 'BEGIN {printf "%.2f", a / b}')
mem_ratio=$(awk -v a="$da_kb" -v b="$ref_kb" 'BEGIN {printf "%.2f", a / b}')
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r <= t) ? "ok" : "MISSED"}'; }

echo "extract benchmark: flights-3m as CSV ($CSV_MB MB, $rows rows), best of $RUNS"
printf '  %-36s %8s s %10s KB peak RSS\n' "DuckDB COPY csv -> parquet (ref)" "$ref_wall" "$ref_kb"
printf '  %-36s %8s s %10s KB peak RSS\n' "da extract (files connector)" "$da_wall" "$da_kb"
echo "  wall ratio   ${wall_ratio}x  (target <= 1.15x) $(verdict "$wall_ratio" 1.15)"
echo "  memory ratio ${mem_ratio}x  (target <= 1.25x) $(verdict "$mem_ratio" 1.25)"
