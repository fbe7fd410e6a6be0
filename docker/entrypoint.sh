#!/bin/sh
# One image, every role. The first argument names the role:
#   web      gunicorn on $BIND (gunicorn.conf.py; the image sets 0.0.0.0:8000)
#   worker   a Celery worker: label runs and every other job (app/jobs/)
#   beat     Celery beat: starts the periodic jobs; exactly one in the whole deployment
#   migrate  applies the database migrations, then exits; once per release, before the other roles start
#   health ROLE   exits 0 when that role is alive in this container (compose.yaml's health checks)
# Anything else runs as given, e.g. `flask users create …` or `sh`.
set -eu

instance="${INSTANCE_PATH:-instance}"
# beat's state: which periodic job ran when, so that a restarted beat does not start one again at once.
beat_schedule="$instance/celerybeat-schedule"

health() {
  case "${1:-}" in
    web)
      # The home page needs no database: a node is alive when gunicorn answers, even while PostgreSQL is busy.
      port="${BIND:-0.0.0.0:8000}"
      python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)" \
        "http://127.0.0.1:${port##*:}/" ;;
    worker)
      # A ping through the broker: the worker is connected and its loop turns. A solo worker answers between
      # tasks, so compose.yaml allows it several misses while it renders a long run.
      celery -A app.jobs.worker inspect ping --destination "celery@$(cat /proc/sys/kernel/hostname)" --timeout 20 >/dev/null ;;
    beat)
      # beat rewrites its schedule file every few minutes (sync every 3 minutes, a tick at least every 5);
      # dbm may name it with a suffix.
      find "$(dirname "$beat_schedule")" -maxdepth 1 -name "$(basename "$beat_schedule")*" -mmin -10 | grep -q . ;;
    *)
      echo "health: which role? web, worker or beat" >&2; return 2 ;;
  esac
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    exec gunicorn -c gunicorn.conf.py wsgi:app "$@" ;;
  worker)
    # One message at a time (prefetch 1, late acks: app/config.py); a run renders in its own process pool,
    # so more throughput means more worker containers or machines, not a bigger --concurrency.
    exec celery -A app.jobs.worker worker --concurrency 1 --pool solo --loglevel INFO "$@" ;;
  beat)
    exec celery -A app.jobs.worker beat --loglevel INFO --schedule "$beat_schedule" "$@" ;;
  migrate)
    exec flask --app wsgi db upgrade "$@" ;;
  health)
    health "$@" ;;
  *)
    exec "$role" "$@" ;;
esac
