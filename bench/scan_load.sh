#!/usr/bin/env bash
# Scan page under load: gunicorn with the shipped gunicorn.conf.py on loopback, wrk for DURATION seconds on
# valid codes, against a hello-world Flask app under the same settings, with 10,000 and 1,000,000 stamps.
#   bash bench/scan_load.sh            (needs wrk: apt-get install wrk)
# Requests pick one of 10,000 random valid codes. Measured 2026-11-22 (2 cores, DURATION=30), two runs:
# hello-world 5,344 / 5,097 req/s; scan page with 10,000 stamps 3,471 / 3,786 req/s, with 1,000,000
# 3,474 / 3,515 req/s: 0.65x / 0.74x hello-world, 1,000,000 vs 10,000 stamps 1.00 / 0.93; p99 10-12 ms;
# no errors. Without the fast path (app/scan/fast_path.py) the page ran at 0.51x.
# 2026-11-30, with the verdict model, the scan evidence on the page and per-stamp phones (DURATION=20):
# hello-world 5,616 req/s; scan page 3,619 req/s with 10,000 stamps and 3,420 with 1,000,000: 0.64x, 0.94;
# p99 10.7 / 11.7 ms; no errors. The same code with the scan counts in the page cache's key (each repeated
# scan of a stamp rendered anew) ran at 0.53x, p99 19-20 ms (hello-world 5,746 req/s in that run).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30}
PORT=${PORT:-5077}
BIN=.venv/bin
WORK=$(mktemp -d /tmp/ocop-scan-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PYTHONPATH=$PWD INSTANCE_PATH=$WORK FLASK_APP=wsgi ACCESS_LOG= BIND=127.0.0.1:$PORT STAMP_KEY=bench-stamp-key SECRET_KEY=$(printf 'b%.0s' {1..40})
unset DATABASE_URL
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }

serve() {  # serve APP, wait until it answers on URL
  $BIN/gunicorn -c gunicorn.conf.py "$1" >"$WORK/gunicorn.log" 2>&1 &
  for _ in $(seq 100); do curl -fsS -o /dev/null "$2" 2>/dev/null && return; sleep 0.1; done
  echo "server did not start"; cat "$WORK/gunicorn.log"; exit 1
}

load() {  # NAME URL [lua]: print "NAME req/s p99 errors"
  local out
  if [ -n "${3:-}" ]; then out=$(PATHS=$WORK/paths.txt wrk -t2 -c16 -d"${DURATION}s" --latency -s "$3" "$2"); else out=$(wrk -t2 -c16 -d"${DURATION}s" --latency "$2"); fi
  local rps p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  printf '%-32s %10s req/s   p99 %8s   %s\n' "$1" "$rps" "$p99" "${errors:-no errors}"
  echo "$rps" >"$WORK/$1.rps"
}

$BIN/flask db upgrade >/dev/null 2>&1
$BIN/python -m bench.seed_stamps --total 10000 --codes "$WORK/paths.txt" >/dev/null
serve "bench.hello:app" "http://127.0.0.1:$PORT/"
load hello "http://127.0.0.1:$PORT/"
kill %1; wait %1 2>/dev/null || true
serve "wsgi:app" "http://127.0.0.1:$PORT/"
load scan-10k "http://127.0.0.1:$PORT" bench/scan_load.lua
kill %1; wait %1 2>/dev/null || true
$BIN/python -m bench.seed_stamps --total 1000000 --codes "$WORK/paths.txt" >/dev/null
serve "wsgi:app" "http://127.0.0.1:$PORT/"
load scan-1m "http://127.0.0.1:$PORT" bench/scan_load.lua
kill %1; wait %1 2>/dev/null || true

awk -v h="$(cat "$WORK/hello.rps")" -v s="$(cat "$WORK/scan-10k.rps")" -v m="$(cat "$WORK/scan-1m.rps")" \
  'BEGIN { printf "scan / hello-world: %.2f (target ≥ 0.6);  1,000,000 / 10,000 stamps: %.2f (target within ±15%%)\n", s / h, m / s }'
