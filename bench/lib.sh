# Shared helpers of the bench scripts (sourced, not run).
#
# Files tables may read only inside DA_FILES_ROOTS (docs/security.md): the benches register the
# vega datasets and files they write under their temp dir, so both are roots unless the caller
# set its own.
export DA_FILES_ROOTS=${DA_FILES_ROOTS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.deps/vega-datasets/package/data:${TMPDIR:-/tmp}}
#
# measure NAME CMD...: runs CMD $RUNS times under $TIME (GNU time), removing $WORK/data and
# every path in the array CLEAN before each run; prints "best_wall_s best_peak_kb" (each the
# minimum over the runs). On a failed run prints the last lines of its stderr and exits 1.
# Needs WORK, RUNS, TIME and BENCH_NAME (the script's name for messages).
measure() {
  local name=$1
  shift
  local best_wall="" best_kb="" wall kb i
  for i in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/data" "${CLEAN[@]}"
    "$TIME" -f '%e %M' -o "$WORK/time-$name-$i" "$@" >"$WORK/out-$name-$i" 2>"$WORK/err-$name-$i" || {
      echo "$BENCH_NAME: $name failed:" >&2
      tail -20 "$WORK/err-$name-$i" >&2
      exit 1
    }
    read -r wall kb <"$WORK/time-$name-$i"
    best_wall=$(awk -v a="$best_wall" -v b="$wall" 'BEGIN {print (a == "" || b < a) ? b : a}')
    best_kb=$(awk -v a="$best_kb" -v b="$kb" 'BEGIN {print (a == "" || b < a) ? b : a}')
  done
  echo "$best_wall $best_kb"
}

# stop_pids_and_remove_work: the EXIT trap of scripts that start servers: terminates and waits
# for every pid in the array PIDS, then removes $WORK.
stop_pids_and_remove_work() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# free_port: prints a free TCP port on 127.0.0.1 (needs PY, a python3).
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
