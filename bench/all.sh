#!/usr/bin/env bash
# Runs every benchmark of issue 14 once, one after the other, and prints their figures
# (each prints both sides and the ratio of one interleaved run). About eight minutes on
# two cores with PostgreSQL, five without; on a quiet machine, since they measure it.
#   bash bench/all.sh                                  # SQLite and Huey's SQLite storage
#   BUYFLOW_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \
#   BUYFLOW_BENCH_REDIS_URL=redis://127.0.0.1:6379/15 bash bench/all.sh
#                                                      # also on PostgreSQL + Redis
# The test command (scripts/test.sh) makes the virtual environment these use.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "No .venv: run 'bash scripts/test.sh' once first." >&2; exit 1; }

run() {
  echo
  echo "=== $*"
  local start=$SECONDS
  "$@"
  echo "--- $(( SECONDS - start )) s"
}

on_sqlite() { env -u BUYFLOW_BENCH_DATABASE_URL -u BUYFLOW_BENCH_REDIS_URL "$@"; }

start=$SECONDS
run on_sqlite $PY bench/flow_page_bytes.py
run on_sqlite $PY bench/flow_open_latency.py 30
run on_sqlite $PY bench/checkout_throughput.py 4 6
run on_sqlite $PY bench/webhook_deliveries.py
run on_sqlite $PY bench/worker_memory.py
run on_sqlite $PY bench/orders_list.py
if [ -n "${BUYFLOW_BENCH_DATABASE_URL:-}" ]; then
  run $PY bench/checkout_throughput.py 4 6
  run $PY bench/webhook_deliveries.py
  run $PY bench/worker_memory.py
  run $PY bench/orders_list.py
fi
echo
echo "=== all benchmarks: $(( SECONDS - start )) s"
