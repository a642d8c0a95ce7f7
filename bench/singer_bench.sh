#!/usr/bin/env bash
# Singer ingestion benchmark (issue 3, connector kit): rows/s of `da extract` over the
# 1M-record stream of tests/fixtures/taps/tap_million.js, installed as a connector in a
# temporary DA_CONNECTORS_DIR. The reference, measured in the same run, is the tap alone
# writing its stream to /dev/null: the rate no consumer of that tap can beat.
# Wall-clock seconds and peak RSS from /usr/bin/time, best of BENCH_RUNS (3) each.
# Usage: bench/singer_bench.sh [BUILD_DIR]   (needs the da target built and node on PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-${BUILD_DIR:-$ROOT/build}}" && pwd)
DA=$BUILD_DIR/src/cli/da
TAP=$ROOT/tests/fixtures/taps/tap_million.js
RUNS=${BENCH_RUNS:-3}
ROWS=1000000
TIME=/usr/bin/time

"$ROOT/bench/setup.sh"
for f in "$DA" "$TAP" "$TIME"; do
  [ -e "$f" ] || { echo "singer_bench: missing $f (run make bench)" >&2; exit 1; }
done
command -v node >/dev/null || { echo "singer_bench: node is not on PATH" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/da-singer-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"   # no config/instance.yaml of the caller's directory is picked up

export DA_CONNECTORS_DIR=$WORK/connectors
mkdir -p "$DA_CONNECTORS_DIR/million"
cat >"$DA_CONNECTORS_DIR/million/connector.yaml" <<EOF
name: million
version: "1.0.0"
description: "tap_million.js: one stream of $ROWS records"
capabilities: [discover, read]
command: ["$TAP"]
config:
  rows: {type: integer, default: $ROWS}
EOF
cat >"$WORK/registry.json" <<EOF
{"tables": [{"id": "numbers", "name": "numbers", "source_type": "million",
             "source_table": "numbers"}]}
EOF
echo "{\"rows\": $ROWS}" >"$WORK/tap-config.json"

BENCH_NAME=singer_bench
CLEAN=()
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

read -r tap_wall tap_kb < <(measure tap "$TAP" --config "$WORK/tap-config.json")
read -r da_wall da_kb < <(measure extract env DA_LOG_LEVEL=warn \
  "$DA" extract million --data-dir "$WORK/data" --registry-json "$WORK/registry.json")

rows=$(grep -o '"rows":[0-9]*' "$WORK/out-extract-1" | head -1 | cut -d: -f2)
if [ "$rows" != "$ROWS" ]; then
  echo "singer_bench: da extract wrote ${rows:-no} rows, expected $ROWS" >&2
  exit 1
fi
rate() { awk -v n="$ROWS" -v s="$1" 'BEGIN {printf "%.0f", n / s}'; }

echo "singer benchmark: tap_million.js, $ROWS records, best of $RUNS"
printf '  %-34s %8s s %10s rows/s %10s KB peak RSS\n' "tap alone -> /dev/null (ref)" "$tap_wall" "$(rate "$tap_wall")" "$tap_kb"
printf '  %-34s %8s s %10s rows/s %10s KB peak RSS\n' "da extract (tap -> Parquet)" "$da_wall" "$(rate "$da_wall")" "$da_kb"
echo "  da extract / tap alone: $(awk -v a="$da_wall" -v b="$tap_wall" 'BEGIN {printf "%.2f", a / b}')x wall"
