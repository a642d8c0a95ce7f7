#!/usr/bin/env bash
# make demo: start `da serve` on the real vega datasets, register them, run a first sync,
# print the admin token and the analyst's next commands, then keep serving (Ctrl-C stops).
# Usage: scripts/demo.sh <data-dir> <port>
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DATA_DIR=${1:-$ROOT/demo-data}
PORT=${2:-8000}
DA=$ROOT/build/src/cli/da
DATASETS=$ROOT/.deps/vega-datasets/package/data
SERVER=http://127.0.0.1:$PORT
mkdir -p "$DATA_DIR"
LOG=$DATA_DIR/server.log
# Files tables may read only inside DA_FILES_ROOTS: the demo's sample data and its own files dir.
export DA_FILES_ROOTS=${DA_FILES_ROOTS:-$DATASETS:$DATA_DIR/files}

if curl -fsS "$SERVER/api/health" >/dev/null 2>&1; then
  echo "demo: something already answers on $SERVER; stop it or run: make demo PORT=<other>" >&2
  exit 1
fi

"$DA" serve --host 127.0.0.1 --port "$PORT" --data-dir "$DATA_DIR" >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill $SERVER_PID 2>/dev/null; wait $SERVER_PID 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 600); do
  grep -q "listening on" "$LOG" 2>/dev/null && break
  kill -0 $SERVER_PID 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.05
done
# The bootstrap token (24 h, in state/bootstrap-token) is traded once for a lasting admin PAT,
# kept beside the data for the next `make demo`; making it revokes the bootstrap token.
ADMIN_TOKEN_FILE=$DATA_DIR/demo-admin-token
TOKEN=$(cat "$ADMIN_TOKEN_FILE" 2>/dev/null || true)
if [ -z "$TOKEN" ] || ! curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$SERVER/api/me"; then
  BOOTSTRAP=$(cat "$DATA_DIR/state/bootstrap-token" 2>/dev/null || true)
  [ -n "$BOOTSTRAP" ] || { echo "demo: no admin token; remove $DATA_DIR to start over" >&2; exit 1; }
  TOKEN=$(curl -sSf -H "Authorization: Bearer $BOOTSTRAP" -H 'Content-Type: application/json' \
            -d '{"name":"demo admin"}' "$SERVER/auth/tokens" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  [ -n "$TOKEN" ] || { echo "demo: could not trade the bootstrap token for an admin token" >&2; exit 1; }
  (umask 077 && printf '%s\n' "$TOKEN" >"$ADMIN_TOKEN_FILE")
fi
export DA_SERVER=$SERVER DA_TOKEN=$TOKEN DA_CONFIG_DIR=$DATA_DIR/demo-cli-config

register() {  # name file
  local out
  if ! out=$("$DA" admin register-table "$1" --source-type files --source-table "$DATASETS/$2" \
        --description "$3" 2>&1); then
    case "$out" in *already*) ;; *) echo "$out" >&2; exit 1 ;; esac
  fi
}
register flights flights-3m.parquet "US domestic flights (vega-datasets flights-3m): 3,000,000 rows"
register airports airports.csv "US airports with coordinates"
register seattle_weather seattle-weather.csv "Daily Seattle weather 2012-2015"
register birdstrikes birdstrikes.csv "FAA wildlife strike reports"
register movies movies.json "Movies with grosses and ratings"

echo "demo: first sync (extracting 5 tables)..."
"$DA" admin sync --wait

cat <<MSG

da is serving on $SERVER  (data dir: $DATA_DIR, log: $LOG)
Admin token (a personal access token, also in $ADMIN_TOKEN_FILE): $TOKEN

Web UI: $SERVER/  (sign in with the admin token above)

Next, as an analyst (in another terminal):
  export PATH="$ROOT/build/src/cli:\$PATH"
  da login --server $SERVER --token $TOKEN
  da sync --workspace ~/analysis
  da query --workspace ~/analysis "SELECT origin, count(*) FROM flights GROUP BY 1 ORDER BY 2 DESC LIMIT 5"

Ctrl-C stops the server.
MSG
wait $SERVER_PID
